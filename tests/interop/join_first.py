#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check, in pcap captures taken at an MPTCP listener, where the first
mapping of every MP_JOIN subflow starts (tests/interop/join_first_test.sh).

For each join subflow (SYN with MP_JOIN from the initiator):
  - the listener's "fourth ACK": its first segment after the handshake that
    carries a DSS DATA_ACK (RFC 8684 sections 3.2 and 3.3.2);
  - the initiator's first data segment on the subflow: its DSS mapping.
A join passes when the mapping's data sequence number equals that DATA_ACK
(Linux 6.18 delivers the first mapping of a join it completes late at that
value, whatever the mapping says), or when the listener's DATA_ACK had
moved past that value before the mapping came (it completed the join).  A "copy" is a join whose first mapping
starts at that DATA_ACK while data beyond it had already been sent on
another subflow of the same connection (the join started while data was
in flight: the case that matters).  Connections are matched by token: a join's SYN carries the
listener's token, the first 32 bits of SHA-256 of the key in the
listener's MP_CAPABLE SYN/ACK (RFC 8684 section 3.2).

Usage: join_first.py CAPTURE.pcap... ; prints one line per join and a
summary "joins N ok N bad N copies N" and exits 1 if any join is bad.
"""
import hashlib
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            e = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            e = ">"
        else:
            raise SystemExit("%s: not a pcap file (write it with dumpcap -P)" % path)
        link = struct.unpack(e + "I", head[20:24])[0]
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, incl, _orig = struct.unpack(e + "IIII", h)
            d = f.read(incl)
            if link == 1:
                d = d[14:]
            elif link == 113:
                d = d[16:]
            elif link == 276:
                d = d[20:]
            elif link not in (12, 101):
                raise SystemExit("%s: link type %d" % (path, link))
            yield sec + frac / 1e6, d


def mptcp_options(opts):
    """(subtype, option bytes) for each MPTCP option (kind 30)."""
    i = 0
    while i < len(opts):
        k = opts[i]
        if k == 0:
            return
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            return
        n = opts[i + 1]
        o = opts[i:i + n]
        if k == 30 and len(o) >= 3:
            yield o[2] >> 4, o
        i += n


def dss(o):
    """(data_ack or None, (dsn, ssn, length) or None, dsn is 64-bit)."""
    fl = o[3]
    p = 4
    ack = None
    if fl & 0x01:
        w = 8 if fl & 0x02 else 4
        ack = int.from_bytes(o[p:p + w], "big")
        p += w
    m = None
    if fl & 0x04:
        w = 8 if fl & 0x08 else 4
        dsn = int.from_bytes(o[p:p + w], "big")
        p += w
        ssn, length = struct.unpack(">IH", o[p:p + 6])
        m = (dsn, ssn, length, w == 8)
    return ack, m


def main(paths):
    segs = []
    for path in paths:
        for ts, ip in packets(path):
            if len(ip) < 40 or ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            tot = struct.unpack(">H", ip[2:4])[0]
            t = ip[ihl:]
            sp, dp, seq = struct.unpack(">HHI", t[:8])
            off = (t[12] >> 4) * 4
            segs.append((ts, ip[12:16], sp, ip[16:20], dp, seq, t[13],
                         tot - ihl - off, list(mptcp_options(t[20:off]))))
    segs.sort(key=lambda s: s[0])
    token_of = {}   # listener token -> initial subflow (client end)
    joins = {}      # client end -> state
    initial = {}    # client end -> token of its connection
    sent = {}       # token -> highest DSN end sent by the initiator so far
    acked = {}      # token -> highest DATA_ACK sent by the listener so far
    isn = {}
    for ts, src, sp, dst, dp, seq, fl, plen, opts in segs:
        syn, ack_fl = fl & 0x02, fl & 0x10
        if syn and not ack_fl:
            isn[(src, sp)] = seq
            for st, o in opts:
                if st == 1 and len(o) >= 12:  # MP_JOIN SYN: token
                    joins[(src, sp)] = {"token": o[4:8], "state": "syn"}
            continue
        if syn:  # SYN/ACK from the listener (dst, dp is the client end)
            for st, o in opts:
                if st == 0 and len(o) >= 12:  # MP_CAPABLE with its key
                    tok = hashlib.sha256(o[4:12]).digest()[:4]
                    token_of[tok] = (dst, dp)
                    initial[(dst, dp)] = tok
            continue
        client = (src, sp) if (src, sp) in joins or (src, sp) in initial else (dst, dp)
        from_client = client == (src, sp)
        j = joins.get(client)
        if j is not None and j["state"] == "syn" and from_client:
            j["state"] = "third"  # our third ACK (MP_JOIN with the HMAC)
            continue
        for st, o in opts:
            if st != 2:
                continue
            ack, m = dss(o)
            tok = initial.get(client) or (j and j["token"])
            if not from_client:
                if j is not None and j["state"] == "third" and ack is not None:
                    j["state"] = "fourth"
                    j["dack"] = ack
                if tok is not None and ack is not None:
                    acked[tok] = max(acked.get(tok, 0), ack)
                continue
            if m is None or plen == 0:
                continue
            dsn, ssn, length, d64 = m
            if j is not None and j["state"] == "fourth" and "first" not in j:
                j["first"] = (dsn, d64)
                j["copy"] = tok in sent and sent[tok] > dsn
                # The listener's DATA_ACK moved past the fourth ACK's: it
                # completed the join, any first mapping is safe then.
                j["done"] = acked.get(tok, 0) > j["dack"]
            if tok is not None and d64:
                end = dsn + length
                sent[tok] = max(sent.get(tok, 0), end)
    n = ok = bad = copies = 0
    for (a, port), j in sorted(joins.items()):
        if "first" not in j:
            continue
        n += 1
        dsn, d64 = j["first"]
        want = j["dack"] if d64 else j["dack"] & 0xFFFFFFFF
        good = dsn == want or j["done"]
        ok += good
        bad += not good
        copies += bool(j["copy"] and dsn == want)
        print("join %s:%d first mapping DSN %#x, fourth ACK DATA_ACK %#x: %s%s%s" % (
            ".".join(map(str, a)), port, dsn, j["dack"], "ok" if good else "BAD",
            " (data beyond it already sent)" if j["copy"] else "",
            " (DATA_ACK had moved past it)" if j["done"] and dsn != want else ""))
    print("joins %d ok %d bad %d copies %d" % (n, ok, bad, copies))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
