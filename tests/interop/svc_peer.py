#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Peers for the service hardening tests (issue 11; standard library only).

Written independently of mpt's C code: its own RFC 8803 encoder/decoder and
its own SOCKS5 / RFC 1929 client.

echo-server --bind ADDR --port P [--ready F] [--count F]
    threaded echo server on ADDR (IPv4 or IPv6); --count holds the number
    of connections accepted so far (rewritten on each).
policy      --conv HOST:PORT CASE...
    CASE is NAME=DEST=EXPECT: a Connect TLV for DEST (HOST:PORT or
    [V6]:PORT); EXPECT "ok" (Extended TCP Header TLV, then 1000 bytes
    echoed back) or an Error TLV code.  Exit 1 if any case is wrong.
legit       --conv HOST:PORT --dest HOST:PORT [--src ADDR] --duration S
            [--interval S] [--timeout S]
    conversions in a row (connect, Convert message + 100 B, answer, echo)
    for S seconds; prints one line per attempt "T OK|FAIL SECONDS why" and a
    summary "legit: attempts N ok N fail N p50-ms X p99-ms Y max-ms Z".
slowloris   --conv HOST:PORT [--src ADDR] -n N --duration S [--rate R]
    keep N connections to the converter, each having sent 2 bytes of a
    Convert header; a connection the converter closes is counted and
    opened again (at most R new connections per second overall).  Prints
    "slowloris: opened N closed-by-server N max-open N".
socks       --proxy HOST:PORT --dest HOST:PORT [--user U --password P]
            [--methods 0,2] --expect ok|auth-failed|no-method|reply-N
            [--mib N --seconds S]
    one SOCKS5 CONNECT (RFC 1928) with RFC 1929 when the server selects
    method 2; with ok: N MiB sent to an echo server at an even pace over S
    seconds, read back and compared.
socks-stall --proxy HOST:PORT --announce N --send K --limit S
    a greeting announcing N methods but sending only K; prints "closed
    after X s" when the server closes the connection (exit 0), or "still
    open after S s" (exit 1).
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time

MAGIC = 0x2263
T_CONNECT, T_EXT, T_ERROR = 0x0A, 0x14, 0x1E


def hostport(s):
    if s.startswith("["):
        h, p = s[1:].split("]:")
    else:
        h, p = s.rsplit(":", 1)
    return h, int(p)


def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tlv(t, value):
    body = bytes([t, 0]) + value
    body += b"\0" * (-len(body) % 4)
    return bytes([t, len(body) // 4]) + body[2:]


def convert_msg(dest):
    h, p = hostport(dest)
    if ":" in h:
        a = socket.inet_pton(socket.AF_INET6, h)
    else:
        a = b"\0" * 10 + b"\xff\xff" + socket.inet_pton(socket.AF_INET, h)
    body = tlv(T_CONNECT, struct.pack("!H", p) + a)
    return struct.pack("!BBH", 1, 1 + len(body) // 4, MAGIC) + body


def read_answer(s, deadline):
    """(tlvs [(type, value)], bytes after) once a whole message is in."""
    data = b""
    while True:
        if len(data) >= 4 and len(data) >= 4 * data[1]:
            break
        s.settimeout(max(0.01, deadline - time.monotonic()))
        d = s.recv(65536)
        if not d:
            raise OSError("closed before a whole answer (%d bytes)" % len(data))
        data += d
    ver, words, magic = struct.unpack("!BBH", data[:4])
    if ver != 1 or magic != MAGIC or words < 1:
        raise OSError("bad answer header %r" % data[:4])
    off, out = 4, []
    while off < 4 * words:
        t, l = data[off], data[off + 1]
        if l == 0 or off + 4 * l > 4 * words:
            raise OSError("bad TLV in answer")
        out.append((t, data[off + 2:off + 4 * l]))
        off += 4 * l
    return out, data[4 * words:]


def convert_once(conv, dest, payload, timeout, src=None):
    """Returns ("ok", None) or ("err", code) or raises OSError."""
    ch, cp = hostport(conv)
    deadline = time.monotonic() + timeout
    s = socket.socket(fam(ch), socket.SOCK_STREAM)
    try:
        if src:
            s.bind((src, 0))
        s.settimeout(timeout)
        s.connect((ch, cp))
        s.sendall(convert_msg(dest) + payload)
        tlvs, rest = read_answer(s, deadline)
        errs = [v for t, v in tlvs if t == T_ERROR]
        if errs:
            return "err", errs[0][0]
        if [t for t, _ in tlvs] != [T_EXT]:
            raise OSError("unexpected answer TLVs %r" % [t for t, _ in tlvs])
        got = rest
        while len(got) < len(payload):
            s.settimeout(max(0.01, deadline - time.monotonic()))
            d = s.recv(65536)
            if not d:
                break
            got += d
        if got != payload:
            raise OSError("echo differs (%d of %d bytes)" % (len(got), len(payload)))
        return "ok", None
    finally:
        s.close()


# ---- servers ------------------------------------------------------------------

def echo_server(a):
    ls = socket.socket(fam(a.bind), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1024)
    count = [0]
    lock = threading.Lock()

    def serve(c):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        c.close()

    if a.count:
        with open(a.count, "w") as f:
            f.write("0\n")
    if a.ready:
        open(a.ready, "w").close()
    while True:
        c, _ = ls.accept()
        with lock:
            count[0] += 1
            if a.count:
                with open(a.count + ".tmp", "w") as f:
                    f.write("%d\n" % count[0])
                os.replace(a.count + ".tmp", a.count)
        threading.Thread(target=serve, args=(c,), daemon=True).start()


# ---- converter clients --------------------------------------------------------------

def policy(a):
    fails = 0
    payload = os.urandom(1000)
    for case in a.case:
        name, dest, want = case.split("=")
        try:
            kind, code = convert_once(a.conv, dest, payload, a.timeout)
            got = "ok" if kind == "ok" else str(code)
        except OSError as e:
            got = "exception: %s" % e
        ok = got == want
        fails += 0 if ok else 1
        print("  %-34s %-26s -> %-6s (want %s)%s" % (name, dest, got, want, "" if ok else "  WRONG"))
        sys.stdout.flush()
    return 1 if fails else 0


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def legit(a):
    t0 = time.monotonic()
    lat, n, ok = [], 0, 0
    payload = b"L" * 100
    while time.monotonic() - t0 < a.duration:
        s0 = time.monotonic()
        n += 1
        why = ""
        try:
            kind, code = convert_once(a.conv, a.dest, payload, a.timeout, a.src)
            good = kind == "ok"
            if not good:
                why = "error TLV %d" % code
        except OSError as e:
            good, why = False, str(e)
        dt = time.monotonic() - s0
        if good:
            ok += 1
            lat.append(dt)
        print("%.3f %s %.4f %s" % (s0 - t0, "OK" if good else "FAIL", dt, why))
        sys.stdout.flush()
        rest = a.interval - (time.monotonic() - s0)
        if rest > 0:
            time.sleep(rest)
    print("legit: attempts %d ok %d fail %d p50-ms %.1f p99-ms %.1f max-ms %.1f" % (
        n, ok, n - ok, pct(lat, 50) * 1e3, pct(lat, 99) * 1e3, (max(lat) if lat else 0) * 1e3))
    return 0 if ok == n and n > 0 else 1


def slowloris(a):
    import selectors
    ch, cp = hostport(a.conv)
    sel = selectors.DefaultSelector()
    opened = closed = maxopen = 0
    live = set()
    t0 = time.monotonic()
    budget = 0.0
    last = t0
    while time.monotonic() - t0 < a.duration:
        now = time.monotonic()
        budget = min(a.rate, budget + (now - last) * a.rate)
        last = now
        while len(live) < a.n and budget >= 1:
            budget -= 1
            s = socket.socket(fam(ch), socket.SOCK_STREAM)
            s.setblocking(False)
            if a.src:
                s.bind((a.src, 0))
            try:
                s.connect((ch, cp))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            opened += 1
            live.add(s)
            sel.register(s, selectors.EVENT_WRITE, "connecting")
        maxopen = max(maxopen, len(live))
        for key, ev in sel.select(timeout=0.05):
            s = key.fileobj
            if key.data == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                sel.unregister(s)
                if err:
                    live.discard(s)
                    s.close()
                    closed += 1
                    continue
                try:
                    s.send(b"\x01\x05")  # 2 of a Convert header's 4 bytes
                except OSError:
                    live.discard(s)
                    s.close()
                    closed += 1
                    continue
                sel.register(s, selectors.EVENT_READ, "waiting")
            else:
                try:
                    d = s.recv(4096)
                except OSError:
                    d = b""
                if not d:  # the converter closed (or reset) it
                    sel.unregister(s)
                    live.discard(s)
                    s.close()
                    closed += 1
    print("slowloris: opened %d closed-by-server %d max-open %d" % (opened, closed, maxopen))
    for s in live:
        s.close()
    return 0


# ---- SOCKS5 ----------------------------------------------------------------------

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += d
    return b


def socks(a):
    ph, pp = hostport(a.proxy)
    dh, dp = hostport(a.dest)
    methods = bytes(int(m) for m in a.methods.split(","))
    s = socket.create_connection((ph, pp), timeout=20)
    s.sendall(bytes([5, len(methods)]) + methods)
    sel = recv_exact(s, 2)
    if sel[1] == 0xFF:
        print("no acceptable method")
        return 0 if a.expect == "no-method" else 1
    if sel[1] == 2:
        u, p = a.user.encode(), a.password.encode()
        s.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
        try:
            st = recv_exact(s, 2)
        except EOFError:
            st = b"\x01\xff"
        if st[1] != 0:
            # RFC 1929: after a failure the server closes the connection.
            try:
                closed = s.recv(1) == b""
            except OSError:
                closed = True
            print("authentication failed (status %d)%s" % (st[1], ", closed" if closed else ", NOT closed"))
            return 0 if a.expect == "auth-failed" and closed else 1
        print("authenticated as %s" % a.user)
    elif sel[1] != 0:
        print("unexpected method %d" % sel[1])
        return 1
    if ":" in dh:
        atyp, addr = 4, socket.inet_pton(socket.AF_INET6, dh)
    else:
        atyp, addr = 1, socket.inet_pton(socket.AF_INET, dh)
    s.sendall(struct.pack("!BBBB", 5, 1, 0, atyp) + addr + struct.pack("!H", dp))
    rep = recv_exact(s, 4)
    if rep[1] != 0:
        print("SOCKS reply code %d" % rep[1])
        return 0 if a.expect == "reply-%d" % rep[1] else 1
    recv_exact(s, (4 if rep[3] == 1 else 16) + 2)
    if a.expect != "ok":
        print("connected, but expected %s" % a.expect)
        return 1
    total = a.mib << 20
    data = os.urandom(min(total, 1 << 20))
    chunk = 64 * 1024
    got = bytearray()
    err = []

    def reader():
        try:
            while len(got) < total:
                d = s.recv(1 << 20)
                if not d:
                    break
                got.extend(d)
        except OSError as e:
            err.append(e)

    th = threading.Thread(target=reader)
    th.start()
    t0 = time.monotonic()
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        off = sent % len(data)
        piece = (data + data)[off:off + n]
        s.sendall(piece)
        sent += n
        # an even pace over --seconds: the transfer lasts that long
        ahead = sent / total * a.seconds - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    th.join(a.seconds + 60)
    s.close()
    want = bytearray()
    while len(want) < total:
        want.extend(data)
    ok = bytes(got) == bytes(want[:total])
    print("transfer: %d B echoed in %.1f s: %s" % (len(got), time.monotonic() - t0, "intact" if ok else "CORRUPT"))
    return 0 if ok else 1


def socks_stall(a):
    ph, pp = hostport(a.proxy)
    s = socket.create_connection((ph, pp), timeout=a.limit)
    s.sendall(bytes([5, a.announce]) + bytes(range(a.send)))
    t0 = time.monotonic()
    s.settimeout(a.limit)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
    except socket.timeout:
        print("still open after %.1f s" % a.limit)
        return 1
    except OSError:
        pass
    print("closed after %.2f s" % (time.monotonic() - t0))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("echo-server")
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ready")
    p.add_argument("--count")
    p = sub.add_parser("policy")
    p.add_argument("--conv", required=True)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("case", nargs="+")
    p = sub.add_parser("legit")
    p.add_argument("--conv", required=True)
    p.add_argument("--dest", required=True)
    p.add_argument("--src")
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--timeout", type=float, default=10)
    p = sub.add_parser("slowloris")
    p.add_argument("--conv", required=True)
    p.add_argument("--src")
    p.add_argument("-n", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--rate", type=float, default=1000)
    p = sub.add_parser("socks")
    p.add_argument("--proxy", required=True)
    p.add_argument("--dest", required=True)
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--methods", default="0,2")
    p.add_argument("--expect", default="ok")
    p.add_argument("--mib", type=int, default=1)
    p.add_argument("--seconds", type=float, default=0)
    p = sub.add_parser("socks-stall")
    p.add_argument("--proxy", required=True)
    p.add_argument("--announce", type=int, default=255)
    p.add_argument("--send", type=int, default=1)
    p.add_argument("--limit", type=float, default=30)
    a = ap.parse_args()
    fn = {"echo-server": echo_server, "policy": policy, "legit": legit,
          "slowloris": slowloris, "socks": socks, "socks-stall": socks_stall}[a.cmd]
    sys.exit(fn(a))


if __name__ == "__main__":
    main()
