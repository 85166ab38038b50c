#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate tests/vectors/crypto_vectors.txt: MPTCP crypto test vectors.

An implementation independent of src/crypto/crypto.c: it only uses the Python
standard library (hashlib, hmac, struct, ipaddress).  It is deterministic: the
inputs are fixed tables plus a fixed-seed splitmix64 stream, so re-running it
reproduces the checked-in file byte for byte.

    python3 tests/vectors/gen_crypto_vectors.py            # rewrite the file
    python3 tests/vectors/gen_crypto_vectors.py --check    # compare, exit 1 on diff

Definitions implemented (numbers are big-endian = network byte order):

  token/IDSN   RFC 8684 §3.1 (v1, SHA-256) and RFC 6824 §3.1 (v0, SHA-1):
               H = hash(Key as 8 octets); token = most significant 32 bits of H,
               IDSN = least significant 64 bits of H.
  MP_JOIN      RFC 8684 §3.2: HMAC-A = HMAC(Key=(Key-A||Key-B), Msg=(R-A||R-B)),
               HMAC-B = HMAC(Key=(Key-B||Key-A), Msg=(R-B||R-A)); i.e. the host
               that SENDS the HMAC puts its own key and nonce first.  v1 uses
               HMAC-SHA256, v0 HMAC-SHA1.  SYN/ACK carries the leftmost 64 bits,
               the third ACK the leftmost 160 bits.
  ADD_ADDR     RFC 8684 §3.4.1 (v1 only): HMAC-SHA256 with Key=(sender's key ||
               receiver's key), Msg=(Address ID || IP address || Port); the port
               is two zero octets when the option carries none.  The option
               carries the RIGHTMOST 64 bits of the HMAC.
  ISN          RFC 6528 §3 as chosen by mpt: ISN = M + F where M = now_ns / 4000
               (a 4-microsecond timer) mod 2^32 and F = the first 32 bits of
               HMAC-SHA256(Key=secret(16 octets), Msg=(fam||laddr||lport||fam||raddr||rport)),
               fam being one octet 4 or 6 and each address 4 or 16 octets.

Line format (fields separated by one space, hex is lowercase, '#' starts a
comment line).  The LAST field of every line is an expected output, so that
corrupting it must make the comparison fail:

  token   <ver> <key:16> <idsn:16> <token:8>
  join    <ver> <key_sender:16> <key_receiver:16> <nonce_sender:8> <nonce_receiver:8>
          <hmac_full:64|40> <trunc64:16> <hmac160:40>
  addaddr <key_sender:16> <key_receiver:16> <addr_id:2> <fam 4|6> <addr:8|32> <port:4>
          <hmac_full:64> <trunc64:16>
  isn     <secret:32> <fam> <laddr> <lport:4> <fam> <raddr> <rport:4> <now_ns:16> <isn:8>

(join/addaddr lines are written on one line; they are wrapped above only.)
"""

import hashlib
import hmac
import ipaddress
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crypto_vectors.txt")
M64 = (1 << 64) - 1


def splitmix64(seed):
    """Deterministic 64-bit stream (same algorithm as the C tests use)."""
    s = seed & M64
    while True:
        s = (s + 0x9E3779B97F4A7C15) & M64
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        yield z ^ (z >> 31)


def hashfn(ver):
    return hashlib.sha256 if ver == 1 else hashlib.sha1


def token_idsn(ver, key):
    h = hashfn(ver)(struct.pack(">Q", key)).digest()
    return struct.unpack(">I", h[:4])[0], struct.unpack(">Q", h[-8:])[0]


def hmac_join(ver, ks, kr, ns, nr):
    return hmac.new(struct.pack(">QQ", ks, kr), struct.pack(">II", ns, nr), hashfn(ver)).digest()


def addr_bytes(text):
    ip = ipaddress.ip_address(text)
    return (4 if ip.version == 4 else 6), ip.packed


def hmac_add_addr(ks, kr, addr_id, text, port):
    _, packed = addr_bytes(text)
    msg = struct.pack(">B", addr_id) + packed + struct.pack(">H", port)
    return hmac.new(struct.pack(">QQ", ks, kr), msg, hashlib.sha256).digest()


def isn_rfc6528(secret, laddr, lport, raddr, rport, now_ns):
    lf, lb = addr_bytes(laddr)
    rf, rb = addr_bytes(raddr)
    msg = bytes([lf]) + lb + struct.pack(">H", lport) + bytes([rf]) + rb + struct.pack(">H", rport)
    f = struct.unpack(">I", hmac.new(secret, msg, hashlib.sha256).digest()[:4])[0]
    m = (now_ns // 4000) & 0xFFFFFFFF
    return (m + f) & 0xFFFFFFFF


# ---- published cross-checks -------------------------------------------------
# Values published by other implementations; the generator refuses to run if
# its own functions disagree with them, and emits them as ordinary lines.
#
# 1. Linux net/mptcp/crypto_test.c (KUnit): HMAC-SHA256 over key1||key2 and
#    nonce1||nonce2 where the keys/nonces are the big-endian values of the
#    ASCII bytes of the strings below (the kernel test reads them that way).
LINUX_KUNIT = [
    ("0b0b0b0b0b0b0b0b", "48692054",
     "8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa"),
    ("aaaaaaaaaaaaaaaa", "dddddddd",
     "2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9"),
    ("0102030405060708", "cdcdcdcd",
     "e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d"),
]
# 2. v0 (SHA-1) tokens of keys seen in a real RFC 6824 capture, as printed by
#    the gureya/mptcp-assignment README (decimal key -> decimal token).
PUBLISHED_V0_TOKENS = [
    (2097874973131745533, 3453009450),
    (14232633393355152416, 1187499290),
    (983142155943229432, 3611618124),
    (6234784353306747016, 2308765430),
]


def main():
    lines = []
    w = lines.append
    w("# MPTCP crypto test vectors. GENERATED by gen_crypto_vectors.py - do not edit.")
    w("# Format: see the docstring of gen_crypto_vectors.py. Hex is big-endian, lowercase.")

    keys = [0, M64, 1, 0x8000000000000000, 0x00000000FFFFFFFF, 0xFFFFFFFF00000000,
            0x0123456789ABCDEF, 0xFEDCBA9876543210, 0xA5A5A5A5A5A5A5A5, 0x5A5A5A5A5A5A5A5A,
            0x0000000000000100, 0x7FFFFFFFFFFFFFFF]
    rng = splitmix64(0x6D7074)  # "mpt"
    keys += [next(rng) for _ in range(8)]

    w("# published: Linux net/mptcp/crypto_test.c HMAC-SHA256 vectors (v1 join)")
    for kstr, mstr, result in LINUX_KUNIT:
        kb, mb = kstr.encode(), mstr.encode()
        k1, k2 = struct.unpack(">QQ", kb)
        n1, n2 = struct.unpack(">II", mb)
        full = hmac_join(1, k1, k2, n1, n2)
        if full.hex() != result:
            sys.exit("published Linux KUnit vector mismatch for key " + kstr)
        w("join 1 %016x %016x %08x %08x %s %s %s"
          % (k1, k2, n1, n2, full.hex(), full[:8].hex(), full[:20].hex()))

    w("# published: v0 (SHA-1) tokens from a real capture (gureya/mptcp-assignment README)")
    for key, tok in PUBLISHED_V0_TOKENS:
        t, idsn = token_idsn(0, key)
        if t != tok:
            sys.exit("published v0 token mismatch for key %d" % key)
        w("token 0 %016x %016x %08x" % (key, idsn, t))

    w("# token/IDSN, RFC 8684 §3.1 (v1, SHA-256) and RFC 6824 §3.1 (v0, SHA-1)")
    for ver in (1, 0):
        for k in keys:
            t, idsn = token_idsn(ver, k)
            w("token %d %016x %016x %08x" % (ver, k, idsn, t))

    w("# MP_JOIN HMAC, RFC 8684 §3.2; sender's key and nonce first")
    nonces = [0, 0xFFFFFFFF, 1, 0x80000000, 0x12345678, 0xDEADBEEF] + \
        [next(rng) & 0xFFFFFFFF for _ in range(6)]
    for ver in (1, 0):
        for i in range(len(keys)):
            ks, kr = keys[i], keys[(i * 7 + 3) % len(keys)]
            ns, nr = nonces[i % len(nonces)], nonces[(i + 5) % len(nonces)]
            full = hmac_join(ver, ks, kr, ns, nr)
            w("join %d %016x %016x %08x %08x %s %s %s"
              % (ver, ks, kr, ns, nr, full.hex(), full[:8].hex(), full[:20].hex()))
            # The same handshake seen from the other host (HMAC-B vs HMAC-A).
            full = hmac_join(ver, kr, ks, nr, ns)
            w("join %d %016x %016x %08x %08x %s %s %s"
              % (ver, kr, ks, nr, ns, full.hex(), full[:8].hex(), full[:20].hex()))

    w("# ADD_ADDR HMAC, RFC 8684 §3.4.1; port 0000 = option without port")
    addrs = [("192.0.2.1", 0), ("192.0.2.1", 8080), ("10.0.0.2", 5201), ("0.0.0.0", 0),
             ("255.255.255.255", 65535), ("2001:db8::1", 0), ("2001:db8::1", 443),
             ("fe80::1234:5678:9abc:def0", 1), ("::", 0),
             ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535), ("::ffff:192.0.2.7", 80),
             ("2001:db8:85a3::8a2e:370:7334", 65000)]
    ids = [0, 1, 2, 255, 7, 0, 3, 128, 254, 9, 10, 42]
    for i, (text, port) in enumerate(addrs):
        ks, kr = keys[(i + 1) % len(keys)], keys[(i * 5 + 2) % len(keys)]
        fam, packed = addr_bytes(text)
        full = hmac_add_addr(ks, kr, ids[i], text, port)
        w("# %s port %d" % (text, port))
        w("addaddr %016x %016x %02x %d %s %04x %s %s"
          % (ks, kr, ids[i], fam, packed.hex(), port, full.hex(), full[-8:].hex()))

    w("# RFC 6528 ISN (mpt's F: HMAC-SHA256, first 32 bits; M: now_ns/4000)")
    secrets = [bytes(16), bytes(range(16)), bytes([0xFF] * 16),
               bytes.fromhex("3c6e0b8a9c15224a8228b9a98ca1531d")]
    tuples = [("192.0.2.1", 40000, "198.51.100.2", 80), ("10.0.0.1", 1, "10.0.0.2", 65535),
              ("2001:db8::1", 5201, "2001:db8::2", 44444), ("::", 0, "::", 0),
              ("192.0.2.1", 40000, "2001:db8::2", 80)]
    times = [0, 3999, 4000, 1_000_000_000, (1 << 64) - 1, 4000 * (1 << 32) + 12345]
    for i, (la, lp, ra, rp) in enumerate(tuples):
        for j, sec in enumerate(secrets):
            now = times[(i + j) % len(times)]
            lf, lb = addr_bytes(la)
            rf, rb = addr_bytes(ra)
            isn = isn_rfc6528(sec, la, lp, ra, rp, now)
            w("isn %s %d %s %04x %d %s %04x %016x %08x"
              % (sec.hex(), lf, lb.hex(), lp, rf, rb.hex(), rp, now, isn))

    text = "\n".join(lines) + "\n"
    if "--check" in sys.argv[1:]:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != text:
                print("crypto_vectors.txt is out of date", file=sys.stderr)
                return 1
        print("crypto_vectors.txt up to date")
        return 0
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %d lines to %s" % (len(lines), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
