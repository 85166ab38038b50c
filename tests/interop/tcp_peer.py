#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Kernel TCP peer for the interop tests (standard library only).

server: listen on PORT, accept one connection, then concurrently send the
        file --send (then shut down the sending side) and write everything
        received until end of stream to --recv-out.
client: connect to HOST PORT (retrying while refused/unreachable for
        --retry seconds) and do the same.
A --ready file is created once the server listens.  Exit status 0 only when
both directions completed.

server --keep-listening: the listening socket stays open until the transfer
        ends.  Linux receives an MP_JOIN SYN through the listener of the port
        (it then finds the connection by token), so a kernel MPTCP server
        (under mptcpize) that closed its listener right after accept() would
        answer every join with a plain TCP RST.
server --v6: an IPv6 listener that also accepts IPv4 (IPV6_V6ONLY off).
"""
import argparse
import socket
import sys
import threading
import time


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def transfer(sock, send_path, out_path):
    errors = []

    def sender():
        try:
            if send_path:
                with open(send_path, "rb") as f:
                    while True:
                        chunk = f.read(65536)
                        if not chunk:
                            break
                        sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            errors.append("send: %s" % e)

    t = threading.Thread(target=sender)
    t.start()
    try:
        with open(out_path or "/dev/null", "wb") as out:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                out.write(data)
    except OSError as e:
        errors.append("recv: %s" % e)
    t.join()
    sock.close()
    for e in errors:
        print("tcp_peer: " + e, file=sys.stderr)
    return 0 if not errors else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("--host", default="")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--send")
    ap.add_argument("--recv-out")
    ap.add_argument("--ready")
    ap.add_argument("--v6", action="store_true")
    ap.add_argument("--retry", type=float, default=10.0)
    ap.add_argument("--keep-listening", action="store_true")
    a = ap.parse_args()
    if a.mode == "server":
        fam = socket.AF_INET6 if a.v6 else socket.AF_INET
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if a.v6:
            ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ls.bind((a.host, a.port))
        ls.listen(4 if a.keep_listening else 1)
        if a.ready:
            open(a.ready, "w").close()
        conn, peer = ls.accept()
        if not a.keep_listening:
            ls.close()
        print("tcp_peer: connection from %s" % (peer[0],), file=sys.stderr)
        rc = transfer(conn, a.send, a.recv_out)
        ls.close()
        return rc
    deadline = time.monotonic() + a.retry
    while True:
        s = socket.socket(family_of(a.host), socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((a.host, a.port))
            break
        except OSError as e:
            s.close()
            if time.monotonic() > deadline:
                print("tcp_peer: connect: %s" % e, file=sys.stderr)
                return 1
            time.sleep(0.2)
    s.settimeout(None)
    return transfer(s, a.send, a.recv_out)


if __name__ == "__main__":
    sys.exit(main())
