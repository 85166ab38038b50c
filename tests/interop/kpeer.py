#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""kpeer: the kernel side of the differential interop matrix (kmatrix).

An application written against the Linux kernel's sockets only (standard
library; IPPROTO_MPTCP = 262 or plain TCP), independent of mpt's code, that
behaves like the applications mpt meets in the field:

  writers   one    the whole payload in a single sendall()
            tiny   many small writes (1..61 bytes, TCP_NODELAY: tiny segments)
            large  1 MiB writes
  readers   prompt recv(64 KiB) as fast as data comes
            slow   recv(4 KiB), then sleep 1 ms
            paused recv(64 KiB), and a 200 ms pause after every 1 MiB read
            late   reads nothing until it has written everything
  close     now    shutdown(SHUT_WR) as soon as the payload is written
            eof    shutdown(SHUT_WR) only once the peer's end of stream came
                   (the payload is written first either way)

server: listen on [--bind]:PORT (the listener stays open until the transfer
        ends: Linux takes MP_JOIN SYNs through the port's listener), accept
        one connection and run the behaviour on it.
client: connect to --host:PORT (retrying while refused/unreachable for
        --retry seconds), optionally through a SOCKS5 proxy (RFC 1928
        CONNECT, no authentication), and run the behaviour.

Everything received is hashed (SHA-256) on the fly and optionally written
to --recv-out.  --result FILE gets a JSON summary (bytes and hash of each
direction, timestamps, errors, the socket's protocol as the kernel sees
it).  Exit status 0 only when both directions completed without error.
"""
import argparse
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1
MIB = 1024 * 1024


def now():
    return time.time()


class Killed(Exception):
    pass


def on_term(signo, frame):
    # `timeout` ended us: report how far we got instead of nothing.
    raise Killed("killed by signal %d (timeout?)" % signo)


class Peer:
    def __init__(self, a):
        self.a = a
        self.errors = []
        self.res = {"role": a.mode, "errors": self.errors}
        self.payload = b""
        if a.send:
            with open(a.send, "rb") as f:
                self.payload = f.read()
        self.written = threading.Event()
        self.send_done = threading.Event()
        self.eof_seen = threading.Event()
        self.lock = threading.Lock()
        self.shut = False

    # ---- socket set-up -------------------------------------------------
    def new_socket(self, fam):
        proto = IPPROTO_MPTCP if self.a.proto == "mptcp" else socket.IPPROTO_TCP
        s = socket.socket(fam, socket.SOCK_STREAM, proto)
        if self.a.rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.a.rcvbuf)
        return s

    def serve(self):
        a = self.a
        fam = socket.AF_INET6 if a.family == 6 else socket.AF_INET
        ls = self.new_socket(fam)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ls.bind((a.bind or ("::" if fam == socket.AF_INET6 else "0.0.0.0"), a.port))
        ls.listen(8)
        if a.ready:
            open(a.ready, "w").close()
        ls.settimeout(a.accept_timeout)
        s, peer = ls.accept()
        s.settimeout(None)
        self.res["t_established"] = now()
        self.res["peer"] = "%s:%d" % (peer[0], peer[1])
        # ls stays open until the transfer ends (joins use it).
        self.run(s)
        ls.close()

    def connect(self):
        a = self.a
        target = a.socks5 if a.socks5 else a.host
        host, port = (target.rsplit(":", 1) if a.socks5 else (a.host, a.port))
        host = host.strip("[]")
        port = int(port)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        deadline = now() + a.retry
        while True:
            s = self.new_socket(fam)
            if a.bind:
                s.bind((a.bind, 0))
            try:
                s.connect((host, port))
                break
            except OSError as e:
                s.close()
                # Refused (mpt not listening yet), unreachable (its TUN not
                # up yet): retry until --retry runs out.
                if now() >= deadline or e.errno not in (111, 101, 113, 110, 104):
                    raise
                time.sleep(0.1)
        if a.socks5:
            self.socks5_connect(s, a.host, a.port)
        self.res["t_established"] = now()
        self.run(s)

    @staticmethod
    def recv_exact(s, n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise OSError("SOCKS5: the proxy closed the connection")
            b += c
        return b

    def socks5_connect(self, s, host, port):
        s.sendall(b"\x05\x01\x00")
        if self.recv_exact(s, 2) != b"\x05\x00":
            raise OSError("SOCKS5: no acceptable method")
        if ":" in host:
            req = b"\x05\x01\x00\x04" + socket.inet_pton(socket.AF_INET6, host)
        else:
            req = b"\x05\x01\x00\x01" + socket.inet_aton(host)
        s.sendall(req + struct.pack("!H", port))
        head = self.recv_exact(s, 4)
        if head[1] != 0:
            raise OSError("SOCKS5: CONNECT failed, reply code %d" % head[1])
        alen = {1: 4, 4: 16}.get(head[3])
        if alen is None:
            alen = self.recv_exact(s, 1)[0]
        self.recv_exact(s, alen + 2)

    # ---- the behaviours ------------------------------------------------
    def shutdown_wr(self, s):
        with self.lock:
            if self.shut:
                return
            self.shut = True
        s.shutdown(socket.SHUT_WR)
        self.res["t_shut"] = now()

    def writer(self, s):
        a = self.a
        try:
            data = memoryview(self.payload)
            if a.writer == "one":
                if len(data):
                    s.sendall(data)
            elif a.writer == "large":
                for off in range(0, len(data), MIB):
                    s.sendall(data[off:off + MIB])
            else:  # tiny
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                off, k = 0, 0
                while off < len(data):
                    n = 1 + (k * 7919) % 61
                    s.sendall(data[off:off + n])
                    off += n
                    k += 1
            self.res["sent"] = len(data)
            self.res["t_sent"] = now()
            self.written.set()
            if a.close == "now":
                self.shutdown_wr(s)
            else:
                self.eof_seen.wait()
                self.shutdown_wr(s)
        except OSError as e:
            self.errors.append("send: %s" % e)
        finally:
            self.written.set()
            self.send_done.set()

    def reader(self, s):
        a = self.a
        h = hashlib.sha256()
        got = 0
        out = open(a.recv_out, "wb") if a.recv_out else None
        size = 4096 if a.reader == "slow" else 65536
        next_pause = MIB
        try:
            if a.reader == "late":
                self.written.wait()
                self.res["t_read_start"] = now()
            while True:
                b = s.recv(size)
                if not b:
                    break
                if got == 0:
                    self.res["t_first_byte"] = now()
                got += len(b)
                h.update(b)
                self.res["received"] = got
                if out:
                    out.write(b)
                if a.reader == "slow":
                    time.sleep(0.001)
                elif a.reader == "paused" and got >= next_pause:
                    time.sleep(0.2)
                if got >= next_pause:
                    next_pause += MIB
                    self.mptcp_info(s)
            self.res["t_eof"] = now()
        except OSError as e:
            self.errors.append("recv after %d B: %s" % (got, e))
        finally:
            self.res["received"] = got
            self.res["reader_done"] = True
            self.res["recv_sha256"] = h.hexdigest()
            if out:
                out.close()
            self.eof_seen.set()

    def mptcp_info(self, s):
        """Whether the kernel still runs MPTCP on this socket (no fallback)."""
        if self.a.proto != "mptcp":
            return
        try:
            raw = s.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)
            # struct mptcp_info: u8 subflows, add_addr_signal, add_addr_accepted,
            # subflows_max, add_addr_signal_max, add_addr_accepted_max (uapi).
            self.res["mptcp_info_subflows"] = raw[0]
            self.res["mptcp_subflows_max"] = max(raw[0], self.res.get("mptcp_subflows_max", 0))
            self.res["mptcp_info_add_addr_accepted"] = raw[2]
            self.res["mptcp_info_len"] = len(raw)
            if len(raw) >= 12:
                # u32 mptcpi_flags at offset 8; bit 0: MPTCP_INFO_FLAG_FALLBACK.
                flags = struct.unpack_from("=I", raw, 8)[0]
                self.res["mptcp_fallback"] = bool(flags & 1)
        except OSError as e:
            # EOPNOTSUPP: fallback to TCP.
            self.res["mptcp_info_error"] = str(e)

    def run(self, s):
        self.mptcp_info(s)
        w = threading.Thread(target=self.writer, args=(s,), daemon=True)
        w.start()
        self.reader(s)
        w.join(self.a.timeout)
        if w.is_alive():
            self.errors.append("send: still blocked after the reader finished")
        # Before close: whether MPTCP is still in use (kernel's view).
        self.mptcp_info(s)
        self.res["t_close"] = now()
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("--proto", choices=["mptcp", "tcp"], default="mptcp")
    ap.add_argument("--family", type=int, choices=[4, 6], default=4)
    ap.add_argument("--host", default="")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="")
    ap.add_argument("--socks5", default="", help="HOST:PORT of a SOCKS5 proxy")
    ap.add_argument("--send", help="payload file (default: nothing)")
    ap.add_argument("--recv-out")
    ap.add_argument("--reader", choices=["prompt", "slow", "paused", "late"], default="prompt")
    ap.add_argument("--writer", choices=["one", "tiny", "large"], default="large")
    ap.add_argument("--close", choices=["now", "eof"], default="now")
    ap.add_argument("--rcvbuf", type=int, default=0)
    ap.add_argument("--ready")
    ap.add_argument("--result")
    ap.add_argument("--retry", type=float, default=10.0)
    ap.add_argument("--accept-timeout", type=float, default=60.0)
    ap.add_argument("--timeout", type=float, default=600.0)
    a = ap.parse_args()
    p = Peer(a)
    p.res["t_start"] = now()
    signal.signal(signal.SIGTERM, on_term)
    try:
        if a.mode == "server":
            p.serve()
        else:
            p.connect()
    except (OSError, socket.timeout) as e:
        p.errors.append("%s: %s" % (a.mode, e))
    except Killed as e:
        p.errors.append("%s (received %d B, sent %s)" % (e, p.res.get("received", 0),
                                                          "all" if p.written.is_set() else "not all"))
        p.res["killed"] = True
    p.res["t_end"] = now()
    if a.result:
        tmp = a.result + ".tmp"
        with open(tmp, "w") as f:
            json.dump(p.res, f, indent=1)
        os.replace(tmp, a.result)
    for e in p.errors:
        print("kpeer: " + e, file=sys.stderr)
    sys.exit(1 if p.errors else 0)


if __name__ == "__main__":
    main()
