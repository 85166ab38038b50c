#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Peers of bench/memory.sh (standard library only): many idle connections.

hold-server --port P [--bind ADDR] [--mptcp] [--echo] --status FILE [--hold S]
    accept every connection and keep it open, reading what arrives (and
    with --echo sending it back); FILE gets "held N closed M" whenever that
    changes.
hold-client --to HOST:PORT -n N [--convert DEST | --request B] [--mptcp]
            [--window W] --status FILE [--hold S] [--timeout S]
    open N connections, at most W in progress at once.  With --convert
    each one first sends an RFC 8803 Convert message with a Connect TLV
    for DEST and reads the converter's answer (it must be an Extended TCP
    Header TLV); with --request it sends B bytes and reads B bytes back
    (an --echo server); with neither a connection counts once connect()
    completed.
    FILE gets "done OK FAILED" once all N are settled (and first-error
    reasons), "closed K" lines when held ones close later.  Both exit on
    SIGTERM or after --hold seconds.
"""
import argparse
import collections
import errno
import os
import selectors
import signal
import socket
import struct
import sys
import time

IPPROTO_MPTCP = 262
MAGIC = 0x2263
T_CONNECT, T_EXT = 0x0A, 0x14


def hostport(s):
    h, _, p = s.rpartition(":")
    return h.strip("[]"), int(p)


# RFC 8803 §4: header (version 1, length in 32-bit words, magic 0x2263),
# then TLVs (type, length in 32-bit words, value).  Written independently
# of tools/mpt/convert_codec.c.
def convert_message(host, port):
    a = b"\0" * 10 + b"\xff\xff" + socket.inet_pton(socket.AF_INET, host)
    value = struct.pack("!H", port) + a  # Connect TLV: port, IPv4-mapped address
    tlv = bytes([T_CONNECT, (2 + len(value)) // 4]) + value
    return struct.pack("!BBH", 1, 1 + len(tlv) // 4, MAGIC) + tlv


def write_status(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, path)


stop = False


def on_term(signum, frame):
    global stop
    stop = True


def reset_all(socks):
    """Close with a RST (SO_LINGER 0): no TIME-WAIT left behind to skew the
    next measurement."""
    for s in list(socks):
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        s.close()


def hold_server(a):
    proto = IPPROTO_MPTCP if a.mptcp else 0
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    held, closed, last = 0, 0, None
    write_status(a.status, "held 0 closed 0")
    end = time.monotonic() + a.hold
    while not stop and time.monotonic() < end:
        for key, _ in sel.select(0.2):
            s = key.fileobj
            if s is ls:
                for _ in range(256):
                    try:
                        c, _ = ls.accept()
                    except OSError:
                        break
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ)
                    held += 1
                continue
            try:
                d = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                sel.unregister(s)
                s.close()
                held -= 1
                closed += 1
            elif a.echo:
                try:
                    s.send(d)  # small: fits the send buffer
                except OSError:
                    pass
        st = "held %d closed %d" % (held, closed)
        if st != last:
            write_status(a.status, st)
            last = st
    reset_all(k.fileobj for k in list(sel.get_map().values()) if k.fileobj is not ls)
    return 0


def hold_client(a):
    proto = IPPROTO_MPTCP if a.mptcp else 0
    th, tp = hostport(a.to)
    req = convert_message(*hostport(a.convert)) if a.convert else b"q" * a.request
    sel = selectors.DefaultSelector()
    conns = {}  # socket -> state: "connecting", "answer", "held"
    bufs = {}
    ok = failed = started = closed = 0
    reasons = collections.Counter()
    t_end = time.monotonic() + a.timeout

    def fail(s, why):
        nonlocal failed
        failed += 1
        reasons[why] += 1
        sel.unregister(s)
        s.close()
        del conns[s]

    def settled(s):
        nonlocal ok
        ok += 1
        conns[s] = "held"
        sel.modify(s, selectors.EVENT_READ)

    while ok + failed < a.n and time.monotonic() < t_end and not stop:
        while started < a.n and started - ok - failed < a.window:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            started += 1
            rc = s.connect_ex((th, tp))
            if rc not in (0, errno.EINPROGRESS):
                failed += 1
                reasons["connect: " + os.strerror(rc)] += 1
                s.close()
                continue
            conns[s] = "connecting"
            sel.register(s, selectors.EVENT_WRITE)
        for key, ev in sel.select(0.5):
            s = key.fileobj
            st = conns.get(s)
            if st == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(s, "connect: " + os.strerror(err))
                    continue
                if not req:
                    settled(s)
                    continue
                try:
                    s.send(req)  # 12 bytes: fits any send buffer
                except OSError as e:
                    fail(s, "send: " + e.strerror)
                    continue
                conns[s] = "answer"
                bufs[s] = b""
                sel.modify(s, selectors.EVENT_READ)
            elif st == "answer":
                try:
                    d = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError as e:
                    fail(s, "recv: " + e.strerror)
                    continue
                if not d:
                    fail(s, "closed before the answer")
                    continue
                b = bufs[s] + d
                if not a.convert:
                    if len(b) >= len(req):
                        del bufs[s]
                        settled(s)
                    else:
                        bufs[s] = b
                elif len(b) >= 4 and len(b) >= 4 * b[1]:
                    del bufs[s]
                    if len(b) >= 6 and b[4] == T_EXT:
                        settled(s)
                    else:
                        fail(s, "refused: answer TLV 0x%02x" % (b[4] if len(b) > 4 else 0))
                else:
                    bufs[s] = b
            elif st == "held":
                try:
                    d = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    d = b""
                if not d:
                    closed += 1
                    sel.unregister(s)
                    s.close()
                    del conns[s]
    pending = a.n - ok - failed
    if pending:
        reasons["not settled within --timeout"] += pending
    summary = "done %d %d" % (ok, failed + pending)
    for why, k in reasons.most_common(5):
        summary += "\nreason %d %s" % (k, why)
    write_status(a.status, summary)
    print(summary, flush=True)
    end = time.monotonic() + a.hold
    while not stop and time.monotonic() < end:
        for key, _ in sel.select(0.5):
            s = key.fileobj
            try:
                d = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                closed += 1
                sel.unregister(s)
                s.close()
                write_status(a.status, summary + "\nclosed %d" % closed)
    reset_all(conns)
    return 0


def main():
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("hold-server")
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--mptcp", action="store_true")
    s.add_argument("--echo", action="store_true")
    s.add_argument("--status", required=True)
    s.add_argument("--hold", type=float, default=600)
    c = sub.add_parser("hold-client")
    c.add_argument("--to", required=True)
    c.add_argument("-n", type=int, required=True)
    c.add_argument("--convert")
    c.add_argument("--request", type=int, default=0)
    c.add_argument("--mptcp", action="store_true")
    c.add_argument("--window", type=int, default=64)
    c.add_argument("--status", required=True)
    c.add_argument("--hold", type=float, default=600)
    c.add_argument("--timeout", type=float, default=300)
    a = p.parse_args()
    return hold_server(a) if a.cmd == "hold-server" else hold_client(a)


if __name__ == "__main__":
    sys.exit(main())
