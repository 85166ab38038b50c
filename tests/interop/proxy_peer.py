#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Peers for the proxy / converter interop tests (standard library only).

echo-server  --port P [--ready F] [--count F]
    threaded TCP server: every connection gets back what it sends; the
    number of connections accepted so far is written to --count.
sink-server  --port P --recv-out F [--send F] [--ready F]
    one connection: write what arrives to --recv-out while sending --send.
socks        --proxy HOST:PORT --dest HOST:PORT [--send F] [--recv-out F]
    SOCKS5 CONNECT (RFC 1928, no auth) then send/receive like tcp_peer.py;
    prints "elapsed SECONDS".
direct       --dest HOST:PORT [--send F] [--recv-out F]   (for --redirect)
many         (--proxy HOST:PORT | --direct) --dest HOST:PORT -n N [--seed S]
    N short connections in a row through the proxy to an echo server, each
    with a different payload (1 B .. 16 KiB); exit 1 if any is not intact.
expect-fail  [--proxy HOST:PORT] --dest HOST:PORT [--socks-code N]
    a connection the converter refuses: SOCKS5 reply code N, or (without
    --proxy, through REDIRECT) a reset.
rfc8803      --conv HOST:PORT --good HOST:PORT --denied HOST:PORT
             --refused HOST:PORT [--cookie HEX]
    An independent RFC 8803 client (own encoder/decoder) speaking plain TCP
    to `mpt convert`: malformed requests get the matching Error TLV; a good
    request gets an Extended TCP Header TLV and its data relayed.
stall-sink   --port P --recv-out F --times F [--ready F]
    one connection: write what arrives to --recv-out and, per recv(), a line
    "WALLCLOCK_SECONDS BYTES_SO_FAR" to --times.
stall        --times F --event T
    from a --times file: the longest time without data delivered after the
    event at wall-clock time T (gap = next delivery - max(previous
    delivery, T)), and the longest gap before it (baseline).  Prints
    "stall-ms X first-after-ms Y baseline-gap-ms Z".
bench        --to HOST:PORT [--convert DEST] [--mptcp] [--socks PROXY] [--parallel P]
             (--cps N | --bulk MIB)
    for bench/convert.sh: --cps: N connections in a row, each sending 100 B
    to an echo server and reading them back; --bulk: one connection sending
    MIB MiB to a discard server and waiting for its close.  --convert: each
    connection starts with a Convert message (Connect TLV DEST) and the
    answer is checked and stripped.  --mptcp: IPPROTO_MPTCP sockets.
    --socks PROXY: each connection through a SOCKS5 proxy to HOST:PORT.
    --parallel P: P processes at once (--cps N each; --bulk MIB split
    between P connections), the figure is their total over the wall time.
    Prints "cps X" or "goodput-mbit X".
discard-server --port P [--ready F]
    threaded: read everything, then close.
tfo          --conv HOST:PORT --dest HOST:PORT [--cookie HEX] [--no-tfo]
             [--size N]
    RFC 8803 0-RTT: the Convert message (Connect TLV, Cookie TLV) and N
    bytes of data go out with sendto(MSG_FASTOPEN), i.e. in the SYN when the
    kernel has a TFO cookie or net.ipv4.tcp_fastopen has 0x4; the answer must
    be one Extended TCP Header TLV followed by the data echoed back.  Prints
    "first-byte SECONDS" (connect to the answer's first byte) and
    "tfo-ok TOTAL_SECONDS" (or "--no-tfo": a plain connect() first).
"""
import argparse
import os
import random
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcp_peer  # noqa: E402


def hostport(s):
    if s.startswith("["):
        h, p = s[1:].split("]:")
    else:
        h, p = s.rsplit(":", 1)
    return h, int(p)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise OSError("connection closed after %d of %d bytes" % (len(b), n))
        b += d
    return b


def socks_connect(proxy, dest, timeout=20):
    ph, pp = hostport(proxy)
    dh, dp = hostport(dest)
    s = socket.create_connection((ph, pp), timeout=timeout)
    s.sendall(b"\x05\x01\x00")
    if recv_exact(s, 2) != b"\x05\x00":
        raise OSError("SOCKS method refused")
    if ":" in dh:
        atyp, a = 4, socket.inet_pton(socket.AF_INET6, dh)
    else:
        atyp, a = 1, socket.inet_pton(socket.AF_INET, dh)
    s.sendall(struct.pack("!BBBB", 5, 1, 0, atyp) + a + struct.pack("!H", dp))
    rep = recv_exact(s, 4)
    if rep[1] != 0:
        raise OSError("SOCKS reply code %d" % rep[1])
    recv_exact(s, (4 if rep[3] == 1 else 16) + 2)
    s.settimeout(None)
    return s


# ---- servers ----------------------------------------------------------------

def echo_server(args):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("", args.port))
    ls.listen(128)
    lock = threading.Lock()
    count = [0]

    def serve(c):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        c.close()

    if args.ready:
        open(args.ready, "w").close()
    while True:
        c, _ = ls.accept()
        with lock:
            count[0] += 1
            if args.count:
                with open(args.count + ".tmp", "w") as f:
                    f.write("%d\n" % count[0])
                os.replace(args.count + ".tmp", args.count)
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def sink_server(args):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("", args.port))
    ls.listen(4)
    if args.ready:
        open(args.ready, "w").close()
    c, _ = ls.accept()
    ls.close()
    t0 = time.monotonic()
    rc = tcp_peer.transfer(c, args.send, args.recv_out)
    print("elapsed %.6f" % (time.monotonic() - t0))
    return rc


def stall_sink(args):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("", args.port))
    ls.listen(4)
    if args.ready:
        open(args.ready, "w").close()
    c, _ = ls.accept()
    ls.close()
    total = 0
    times = []
    with open(args.recv_out, "wb") as out:
        while True:
            d = c.recv(262144)
            if not d:
                break
            times.append((time.time(), total + len(d)))
            total += len(d)
            out.write(d)
    c.close()
    with open(args.times, "w") as f:
        for t, b in times:
            f.write("%.6f %d\n" % (t, b))
    return 0


def stall(args):
    times = [float(l.split()[0]) for l in open(args.times) if l.strip()]
    ev = args.event
    worst, first_after, base = 0.0, None, 0.0
    for a, b in zip(times, times[1:]):
        if b <= ev:
            base = max(base, b - a)
            continue
        if first_after is None:
            first_after = b - ev
        worst = max(worst, b - max(a, ev))
    if times and times[0] > ev:
        worst = max(worst, times[0] - ev)
        first_after = times[0] - ev
    if first_after is None:
        print("no data after the event")
        return 1
    print("stall-ms %.1f first-after-ms %.1f baseline-gap-ms %.1f deliveries %d" % (
        worst * 1e3, first_after * 1e3, base * 1e3, len(times)))
    return 0


# ---- clients ----------------------------------------------------------------

def timed_transfer(s, args):
    t0 = time.monotonic()
    rc = tcp_peer.transfer(s, args.send, args.recv_out)
    print("elapsed %.6f" % (time.monotonic() - t0))
    return rc


def socks_client(args):
    t0 = time.monotonic()
    s = socks_connect(args.proxy, args.dest)
    rc = tcp_peer.transfer(s, args.send, args.recv_out)
    print("elapsed %.6f" % (time.monotonic() - t0))
    return rc


def direct_client(args):
    t0 = time.monotonic()
    s = socket.create_connection(hostport(args.dest), timeout=20)
    s.settimeout(None)
    rc = tcp_peer.transfer(s, args.send, args.recv_out)
    print("elapsed %.6f" % (time.monotonic() - t0))
    return rc


def expect_fail(args):
    """Through the proxy to a destination the converter refuses: SOCKS5
    must answer --socks-code; a redirected connection must be reset."""
    try:
        if args.proxy:
            ph, pp = hostport(args.proxy)
            dh, dp = hostport(args.dest)
            s = socket.create_connection((ph, pp), timeout=20)
            s.sendall(b"\x05\x01\x00")
            recv_exact(s, 2)
            s.sendall(struct.pack("!BBBB", 5, 1, 0, 1) + socket.inet_aton(dh) + struct.pack("!H", dp))
            rep = recv_exact(s, 4)
            print("SOCKS reply code %d" % rep[1])
            return 0 if rep[1] == args.socks_code else 1
        s = socket.create_connection(hostport(args.dest), timeout=20)
        s.sendall(b"hello")
        d = s.recv(100)
        print("no reset: read %r" % d)
        return 1
    except ConnectionResetError:
        print("connection reset")
        return 0 if not args.proxy else 1
    except OSError as e:
        print("error: %s" % e)
        return 1


def many(args):
    rnd = random.Random(args.seed)
    bad = 0
    t0 = time.monotonic()
    for i in range(args.n):
        payload = rnd.randbytes(rnd.randint(1, 16384))
        try:
            if args.direct:
                s = socket.create_connection(hostport(args.dest), timeout=20)
            else:
                s = socks_connect(args.proxy, args.dest)
            s.settimeout(20)
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                got += d
            s.close()
            if got != payload:
                bad += 1
                print("connection %d: %d B sent, %d B back, differ" % (i, len(payload), len(got)),
                      file=sys.stderr)
        except OSError as e:
            bad += 1
            print("connection %d: %s" % (i, e), file=sys.stderr)
    secs = time.monotonic() - t0
    print("many: %d connections, %d bad, %.2f s, %.1f conn/s" % (args.n, bad, secs, args.n / secs))
    return 0 if bad == 0 else 1


# ---- RFC 8803, written independently of tools/mpt/convert_codec.c ------------

MAGIC = 0x2263
T_INFO, T_CONNECT, T_EXT, T_SUPP, T_COOKIE, T_ERROR = 0x01, 0x0A, 0x14, 0x15, 0x16, 0x1E


def tlv(t, value):
    """Type, Length in 32-bit words (incl. Type and Length), value, zero pad."""
    body = bytes([t, 0]) + value
    body += b"\0" * (-len(body) % 4)
    return bytes([t, len(body) // 4]) + body[2:]


def message(tlvs, version=1, magic=MAGIC, words=None):
    payload = b"".join(tlvs)
    if words is None:
        words = 1 + len(payload) // 4
    return struct.pack("!BBH", version, words, magic) + payload


def connect_tlv(host, port):
    if ":" in host:
        a = socket.inet_pton(socket.AF_INET6, host)
    else:
        a = b"\0" * 10 + b"\xff\xff" + socket.inet_pton(socket.AF_INET, host)
    return tlv(T_CONNECT, struct.pack("!H", port) + a)


def parse_answer(data):
    """Returns (tlvs as [(type, value)], bytes after the message) or raises."""
    if len(data) < 4:
        raise ValueError("answer shorter than a header: %r" % data)
    ver, words, magic = struct.unpack("!BBH", data[:4])
    if ver != 1 or magic != MAGIC or words < 1 or len(data) < 4 * words:
        raise ValueError("bad answer header %r" % data[:4])
    off, out = 4, []
    while off < 4 * words:
        t, l = data[off], data[off + 1]
        if l == 0 or off + 4 * l > 4 * words:
            raise ValueError("bad TLV length in answer")
        out.append((t, data[off + 2:off + 4 * l]))
        off += 4 * l
    return out, data[4 * words:]


def exchange(conv, req, timeout=10.0):
    s = socket.create_connection(hostport(conv), timeout=timeout)
    s.sendall(req)
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return data


def rfc8803(args):
    cookie = bytes.fromhex(args.cookie) if args.cookie else None
    ck = [tlv(T_COOKIE, b"\0\0" + cookie)] if cookie else []
    gh, gp = hostport(args.good)
    dh, dp = hostport(args.denied)
    rh, rp = hostport(args.refused)
    cases = [
        ("total length 0 (malformed header)", message([], words=0), 1),
        ("wrong magic number", message([connect_tlv(gh, gp)] + ck, magic=0x1234), 1),
        ("unsupported version 2", message([connect_tlv(gh, gp)] + ck, version=2), 0),
        ("truncated TLV (Connect longer than the message)",
         message([connect_tlv(gh, gp)[:8]], words=3)[:12], 1),
        ("unknown TLV type 0x42", message([tlv(0x42, b"\0\0")] + ck), 2),
        ("Connect to a loopback address", message([connect_tlv("127.0.0.1", gp)] + ck), 1),
        ("destination not allowed", message([connect_tlv(dh, dp)] + ck), 32),
        ("destination refuses (RST)", message([connect_tlv(rh, rp)] + ck), 96),
    ]
    if cookie:
        cases += [
            ("missing cookie", message([connect_tlv(gh, gp)]), 3),
            ("wrong cookie", message([connect_tlv(gh, gp), tlv(T_COOKIE, b"\0\0" + b"\x55" * len(cookie))]), 32),
        ]
    fails = 0
    for name, req, want in cases:
        try:
            data = exchange(args.conv, req)
            tlvs, rest = parse_answer(data)
            errs = [v for t, v in tlvs if t == T_ERROR]
            code = errs[0][0] if errs else None
            ok = code == want and not rest and len(tlvs) == 1
            print("  %-50s -> Error TLV code %s (want %d)%s" % (name, code, want, "" if ok else "  WRONG"))
            if not ok:
                fails += 1
        except (OSError, ValueError) as e:
            print("  %-50s -> %s  WRONG" % (name, e))
            fails += 1
    # Info TLV: the Supported TCP Extensions TLV comes back.
    try:
        tlvs, _ = parse_answer(exchange(args.conv, message([tlv(T_INFO, b"\0\0")] + ck)))
        kinds = [v for t, v in tlvs if t == T_SUPP]
        ok = len(kinds) == 1 and 30 in kinds[0][2:]
        print("  %-50s -> Supported TCP Extensions %s%s" % (
            "Info TLV", list(kinds[0][2:].rstrip(b"\0")) if kinds else None, "" if ok else "  WRONG"))
        fails += 0 if ok else 1
    except (OSError, ValueError) as e:
        print("  Info TLV -> %s  WRONG" % e)
        fails += 1
    # A good request (with data right behind the message) still works.
    payload = os.urandom(5000)
    try:
        data = exchange(args.conv, message([connect_tlv(gh, gp)] + ck) + payload)
        tlvs, rest = parse_answer(data)
        ext = [v for t, v in tlvs if t == T_EXT]
        opts = ext[0][2:] if ext else b""
        desc = []
        i = 0
        while i < len(opts):
            k = opts[i]
            if k in (0, 1):
                i += 1
                continue
            if i + 1 >= len(opts) or opts[i + 1] < 2:
                break
            l = opts[i + 1]
            v = opts[i + 2:i + l]
            desc.append({2: "mss=%d" % int.from_bytes(v, "big") if len(v) == 2 else "mss?",
                         3: "wscale=%d" % v[0] if v else "ws?", 4: "sackOK",
                         8: "TS"}.get(k, "kind%d" % k))
            i += l
        ok = len(ext) == 1 and rest == payload and any(d.startswith("mss=") for d in desc)
        print("  %-50s -> Extended TCP Header [%s], %d B echoed%s" % (
            "good request (+5000 B data)", " ".join(desc), len(rest), "" if ok else "  WRONG"))
        fails += 0 if ok else 1
    except (OSError, ValueError) as e:
        print("  good request -> %s  WRONG" % e)
        fails += 1
    return 0 if fails == 0 else 1


def discard_server(args):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("", args.port))
    ls.listen(128)

    def serve(c):
        try:
            while c.recv(1 << 20):
                pass
        except OSError:
            pass
        c.close()

    if args.ready:
        open(args.ready, "w").close()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def bench(args):
    proto = 262 if args.mptcp else 0  # IPPROTO_MPTCP
    th, tp = hostport(args.to)
    req = b""
    if args.convert:
        dh, dp = hostport(args.convert)
        req = message([connect_tlv(dh, dp)])

    def open_conn():
        if args.socks:
            # through a SOCKS5 proxy (mpt proxy --socks5) to --to
            s = socks_connect(args.socks, args.to, timeout=30)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.settimeout(30)
            return s
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(30)
        s.connect((th, tp))
        return s

    def read_answer(s, extra):
        """Strip the converter's answer; returns the bytes after it."""
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                raise OSError("closed before the answer")
            data += d
            if len(data) >= 4 and len(data) >= 4 * data[1]:
                tlvs, rest = parse_answer(data)
                if [t for t, _ in tlvs] != [T_EXT]:
                    raise OSError("converter refused: %r" % tlvs)
                return rest

    def echo_many(n):
        """n connections in a row, 100 B echoed each."""
        payload = b"x" * 100
        for _ in range(n):
            s = open_conn()
            s.sendall(req + payload)
            got = read_answer(s, 0) if req else b""
            while len(got) < len(payload):
                d = s.recv(65536)
                if not d:
                    raise OSError("short echo")
                got += d
            s.close()

    def send_bulk(mib):
        """One connection: mib MiB to a discard server, until its close."""
        buf = os.urandom(1 << 20)
        s = open_conn()
        s.sendall(req)
        if req:
            read_answer(s, 0)
        for _ in range(mib):
            s.sendall(buf)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        s.close()

    if args.parallel > 1:
        return bench_parallel(args, echo_many, send_bulk)
    t0 = time.monotonic()
    if args.cps:
        echo_many(args.cps)
        print("cps %.1f" % (args.cps / (time.monotonic() - t0)))
        return 0
    send_bulk(args.bulk)
    secs = time.monotonic() - t0
    print("goodput-mbit %.1f" % (args.bulk * 8 * 1048576 / secs / 1e6))
    return 0


def bench_parallel(args, echo_many, send_bulk):
    """--parallel P: P processes, each --cps N connections in a row or one
    --bulk connection of MIB/P; the figure is the whole: everything done
    over the time from the first start to the last end (wall clock)."""
    p = args.parallel
    rfd, wfd = os.pipe()
    kids = []
    for _ in range(p):
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            rc = 0
            t0 = time.time()
            n = 0
            try:
                if args.cps:
                    echo_many(args.cps)
                    n = args.cps
                else:
                    n = max(1, args.bulk // p)
                    send_bulk(n)
            except OSError as e:
                print("bench: %s" % e, file=sys.stderr)
                rc = 1
            os.write(wfd, ("%d %d %.6f %.6f\n" % (rc, n, t0, time.time())).encode())
            os._exit(rc)
        kids.append(pid)
    os.close(wfd)
    out = b""
    while True:
        d = os.read(rfd, 4096)
        if not d:
            break
        out += d
    for pid in kids:
        os.waitpid(pid, 0)
    rows = [l.split() for l in out.decode().splitlines()]
    if len(rows) != p or any(r[0] != "0" for r in rows):
        print("bench: %d of %d workers failed" % (p - sum(r[0] == "0" for r in rows), p),
              file=sys.stderr)
        return 1
    total = sum(int(r[1]) for r in rows)
    secs = max(float(r[3]) for r in rows) - min(float(r[2]) for r in rows)
    if args.cps:
        print("cps %.1f" % (total / secs))
    else:
        print("goodput-mbit %.1f" % (total * 8 * 1048576 / secs / 1e6))
    return 0


MSG_FASTOPEN = 0x20000000


def tfo_client(args):
    cookie = bytes.fromhex(args.cookie) if args.cookie else None
    dh, dp = hostport(args.dest)
    req = message([connect_tlv(dh, dp)] + ([tlv(T_COOKIE, b"\0\0" + cookie)] if cookie else []))
    payload = os.urandom(args.size)
    ch, cp = hostport(args.conv)
    s = socket.socket(family_of(ch), socket.SOCK_STREAM)
    t0 = time.monotonic()
    if args.no_tfo:
        s.connect((ch, cp))
        s.sendall(req + payload)
    else:
        # Linux TFO client: connect() and the first send in one call; the
        # data rides in the SYN when the kernel has a cookie for the server
        # (or tcp_fastopen has 0x4, no cookie needed), else after the
        # handshake (and the SYN asks for a cookie).
        n = s.sendto(req + payload, MSG_FASTOPEN, (ch, cp))
        if n < len(req) + len(payload):
            s.sendall((req + payload)[n:])
    # A blocking socket until here (sendto(MSG_FASTOPEN) on a socket with a
    # Python timeout, i.e. non-blocking, fails with EINPROGRESS).
    s.settimeout(10)
    s.shutdown(socket.SHUT_WR)
    data = b""
    t1 = None
    while True:
        d = s.recv(65536)
        if not d:
            break
        if t1 is None:
            t1 = time.monotonic()
        data += d
    total = time.monotonic() - t0
    s.close()
    try:
        tlvs, rest = parse_answer(data)
    except ValueError as e:
        print("bad answer: %s" % e)
        return 1
    types = [t for t, _ in tlvs]
    ok = types == [T_EXT] and rest == payload
    print("answer TLVs %s, %d B echoed of %d" % (["0x%02x" % t for t in types], len(rest),
                                                 len(payload)))
    print("first-byte %.6f" % ((t1 or time.monotonic()) - t0))
    print("%s %.6f" % ("tfo-ok" if ok else "tfo-BAD", total))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("echo-server")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ready")
    p.add_argument("--count")
    p = sub.add_parser("sink-server")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--recv-out")
    p.add_argument("--send")
    p.add_argument("--ready")
    for name in ("socks", "direct"):
        p = sub.add_parser(name)
        if name == "socks":
            p.add_argument("--proxy", required=True)
        p.add_argument("--dest", required=True)
        p.add_argument("--send")
        p.add_argument("--recv-out")
    p = sub.add_parser("many")
    p.add_argument("--proxy")
    p.add_argument("--direct", action="store_true")
    p.add_argument("--dest", required=True)
    p.add_argument("-n", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("expect-fail")
    p.add_argument("--proxy")
    p.add_argument("--dest", required=True)
    p.add_argument("--socks-code", type=int, default=2)
    p = sub.add_parser("rfc8803")
    p.add_argument("--conv", required=True)
    p.add_argument("--good", required=True)
    p.add_argument("--denied", required=True)
    p.add_argument("--refused", required=True)
    p.add_argument("--cookie")
    p = sub.add_parser("bench")
    p.add_argument("--to", required=True)
    p.add_argument("--convert")
    p.add_argument("--mptcp", action="store_true")
    p.add_argument("--cps", type=int)
    p.add_argument("--parallel", type=int, default=1)
    p.add_argument("--socks")
    p.add_argument("--bulk", type=int)
    p = sub.add_parser("discard-server")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ready")
    p = sub.add_parser("stall-sink")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--recv-out", required=True)
    p.add_argument("--times", required=True)
    p.add_argument("--ready")
    p = sub.add_parser("stall")
    p.add_argument("--times", required=True)
    p.add_argument("--event", type=float, required=True)
    p = sub.add_parser("tfo")
    p.add_argument("--conv", required=True)
    p.add_argument("--dest", required=True)
    p.add_argument("--cookie")
    p.add_argument("--no-tfo", action="store_true")
    p.add_argument("--size", type=int, default=1000)
    a = ap.parse_args()
    fn = {"echo-server": echo_server, "sink-server": sink_server, "socks": socks_client,
          "direct": direct_client, "many": many, "rfc8803": rfc8803,
          "expect-fail": expect_fail, "tfo": tfo_client,
          "stall-sink": stall_sink, "stall": stall, "bench": bench,
          "discard-server": discard_server}[a.cmd]
    sys.exit(fn(a))


if __name__ == "__main__":
    main()
