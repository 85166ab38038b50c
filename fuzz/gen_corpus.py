#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Hand-written starting inputs for the fuzz targets (fuzz/corpus/<target>/seed-*).

Each seed is a short program in the target's input language (fuzz/harness.h:
fz_run_hostile, fz_segment, fz_opt_template, fz_app; the targets' own loops)
that walks to one of the states worth mutating from: data with a DSS mapping,
DATA_FIN, ADD_ADDR / REMOVE_ADDR / MP_PRIO / MP_FAIL / MP_FASTCLOSE /
MP_TCPRST, a complete MP_JOIN on a new 4-tuple, a new MP_CAPABLE connection
with SYN data, a bad DSS checksum, loss / duplication / reordering, a SOCKS5
negotiation, Convert messages split across segments.  The fuzzer grows the
corpus from these; fuzz/corpus.sh minimises it.

    python3 fuzz/gen_corpus.py        (rewrites the seed-* files)
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
NEW = 15  # a flow index past the known ones: a new 4-tuple


def u8(v):
    return struct.pack(">B", v & 0xFF)


def u16(v):
    return struct.pack(">H", v & 0xFFFF)


def i16(v):
    return struct.pack(">h", v)


def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


# ---- hostile targets (fz_run_hostile) --------------------------------------

def seg(to, flow, flags, ts=True, dss=False, plen=0, seq=0, ack=0, win=16000, tpl=(),
        new=None, payload=None, zero_csum=False):
    """op 1: a crafted segment; tpl: encoded templates (see tpl_*)."""
    mode = (1 if ts else 0) | (2 if dss else 0) | (8 if payload is not None else 0)
    mode |= (16 if zero_csum else 0) | (len(tpl) << 5)
    b = u8(1) + u8(to | (flow << 1)) + u8(flags) + u8(mode)
    if flow >= NEW:
        a, sport, dport = new
        b += u8(a) + u8(sport) + (u16(dport) if to == 0 else b"")
    b += i16(seq) + i16(ack) + u16(win)
    if payload is not None:
        plen = len(payload)
    b += u16(plen)
    for t in tpl:
        b += t
    if payload is not None:
        b += payload
    return b


def tpl_dss(flags, dack=0, dsn=0, ssn=0, dlen=0, csum=None, raw_ssn=False):
    b = flags & 0x1F
    b |= 0x40 if dlen > 255 else 0
    b |= 0x20 if csum is not None else 0
    b |= 0x80 if raw_ssn else 0
    out = u8(0) + u8(b) + i16(dack) + i16(dsn) + u32(ssn)
    out += u16(dlen) if dlen > 255 else u8(dlen)
    if csum is not None:
        out += u16(csum)
    return out


def tpl_add_addr(addr_sel, addr_id, echo=False, port=None, hmac=None, last=None):
    b = (1 if echo else 0) | (addr_sel & 7) << 1
    b |= 0x10 if last is not None else 0
    b |= 0x20 if port is not None else 0
    b |= 0x40 if hmac is not None else 0
    out = u8(1) + u8(b) + u8(addr_id)
    if last is not None:
        out += u8(last)
    if port is not None:
        out += u16(port)
    if hmac is not None:
        out += hmac
    return out


def tpl_rm(ids):
    return u8(2) + u8(len(ids) - 1) + b"".join(u8(i) for i in ids)


def tpl_prio(backup, addr_id=None):
    return u8(3) + u8((1 if backup else 0) | (2 if addr_id is not None else 0)) + u8(addr_id or 0)


def tpl_fail(dsn):
    return u8(4) + u8(0) + i16(dsn)


def tpl_fastclose(key=None):
    return u8(5) + (u8(1) + u64(key) if key is not None else u8(0))


def tpl_tcprst(flags, reason):
    return u8(6) + u8(flags) + u8(reason)


def tpl_join(addr_id, nonce, backup=False, token=None, hmac=None, form=None):
    """form None: from the segment's flags; else 0 SYN, 1 SYN/ACK, 2 ACK
    (bit 7 set and b % 3 == form, bits 3-4 chosen to get there)."""
    b = (1 if backup else 0) | (2 if token is not None else 0) | (4 if hmac is not None else 0)
    if form is not None:
        b |= 0x80
        for k in range(4):
            if (b | (k << 3)) % 3 == form:
                b |= k << 3
                break
    out = u8(7) + u8(b) + u8(addr_id)
    if token is not None:
        out += u32(token)
    out += u32(nonce)
    if hmac is not None:
        out += hmac
    return out


def tpl_mpc(form, flags=0x01, v0=False, csum=None, dlen=0):
    b = form & 3 | (0x80 if v0 else 0) | (0x10 if csum is not None else 0)
    return u8(8) + u8(b) + u8(flags) + u16(dlen) + u16(csum or 0)


def tpl_raw(data):
    return u8(9) + u8(len(data)) + data


def tpl_sack(blocks):
    out = u8(10) + u8(len(blocks) - 1)
    for back, size in blocks:
        out += u16(back) + u16(size)
    return out


def tpl_hs(mss, wscale):
    return u8(11) + u8(wscale) + u16(mss)


def tpl_tfo(cookie_len):
    if cookie_len == 0:
        return u8(12) + u8(1)
    return u8(12) + u8(((cookie_len - 4) // 2) << 1) + bytes(range(cookie_len))


def time(units, scale):
    """op 4: (units + 1) * {1us, 1ms, 10ms, 100ms, 1s, 10s, 60s, 1ns}[scale]."""
    return u8(4) + u8((scale << 5) | (units & 31))


def app(host, code, arg=0):
    """op 5: 0 send, 2 recv, 4 shutdown, 5 close(/abort: arg odd), 6 accept,
    7 extra conn, 8 connect, 9 announce, 10 subflow open, 11 subflow close,
    12 backup, 13 addresses, 14 info, 15 failed allocation."""
    return u8(5) + u8(host | (code << 1)) + u8(arg)


def queue(b, off=None, mask=None):
    """op 6: b & 7: 0 pump, 1 deliver, 2 drop, 3 dup, 4 hold, 5 flip, 6 drop all, 7 last."""
    out = u8(6) + u8(b)
    if b & 7 == 5:
        out += u16(off or 0) + u8(mask or 1)
    return out


def raw(to, data):
    return u8(0) + u8(to) + u16(len(data)) + data


SRV, CLI = 1, 0


def mptcp_seeds():
    s = {}
    data = seg(SRV, 0, ACK | PSH, dss=True, plen=100) + app(SRV, 2, 200)
    s["data_to_server"] = data
    s["data_to_client"] = seg(CLI, 0, ACK | PSH, dss=True, plen=300) + app(CLI, 2, 200)
    s["data_fin"] = (seg(SRV, 0, ACK | PSH, dss=True, plen=10) + time(5, 2) +
                     seg(SRV, 0, ACK | FIN, dss=True) + app(SRV, 2, 10) + time(5, 1))
    s["data_on_join"] = seg(SRV, 2, ACK | PSH, dss=True, plen=500) + app(SRV, 2, 100)
    s["ofo_then_fill"] = (seg(SRV, 0, ACK | PSH, dss=False, plen=100, seq=100,
                              tpl=[tpl_dss(0x0D, dsn=100, ssn=0, dlen=100)]) +
                          seg(SRV, 0, ACK | PSH, dss=True, plen=100) + app(SRV, 2, 50))
    s["dss_bad_csum"] = seg(SRV, 0, ACK | PSH, plen=100,
                            tpl=[tpl_dss(0x0D, ssn=0, dlen=100, csum=0x1234)])
    s["dss_zero_csum"] = seg(SRV, 0, ACK | PSH, dss=True, plen=100, zero_csum=True)
    s["dss_infinite"] = seg(SRV, 0, ACK | PSH, plen=100, tpl=[tpl_dss(0x0D, dlen=0)])
    s["add_addr"] = seg(CLI, 0, ACK, tpl=[tpl_add_addr(3, 7)]) + time(10, 3)
    s["add_addr_port_hmac"] = seg(CLI, 0, ACK, tpl=[tpl_add_addr(2, 9, port=8080,
                                                                 hmac=bytes(8))])
    s["add_addr_echo"] = seg(SRV, 0, ACK, tpl=[tpl_add_addr(1, 1, echo=True)])
    s["remove_addr"] = seg(CLI, 0, ACK, tpl=[tpl_rm([1])]) + time(5, 4)
    s["remove_addr_many"] = seg(SRV, 1, ACK, tpl=[tpl_rm([0, 1, 2, 3])])
    s["mp_prio"] = seg(SRV, 1, ACK, tpl=[tpl_prio(True)]) + seg(SRV, 0, ACK | PSH, dss=True,
                                                               plen=50)
    s["mp_fail"] = seg(SRV, 0, ACK, tpl=[tpl_fail(0)]) + time(3, 3)
    s["fastclose_ack"] = seg(SRV, 0, ACK, tpl=[tpl_fastclose()])
    s["fastclose_rst"] = seg(CLI, 0, RST | ACK, tpl=[tpl_fastclose()])
    s["tcprst"] = seg(SRV, 1, RST | ACK, tpl=[tpl_tcprst(1, 3)]) + time(2, 4)
    s["rst_initial"] = seg(SRV, 0, RST, ts=False) + time(2, 4) + app(CLI, 0, 40)
    join_syn = seg(SRV, NEW, SYN, ts=True, tpl=[tpl_join(5, 0x11223344)], new=(0x01, 7, 0))
    join_ack = seg(SRV, 4, ACK, tpl=[tpl_join(5, 0, form=2)])
    s["join_new"] = join_syn + join_ack + time(5, 2) + seg(SRV, 4, ACK | PSH, dss=True, plen=64)
    s["join_backup_bad_token"] = seg(SRV, NEW, SYN, tpl=[tpl_join(6, 1, backup=True,
                                                                 token=0xDEADBEEF)],
                                     new=(0x05, 9, 0))
    s["join_to_client"] = seg(CLI, NEW, SYN | ACK, tpl=[tpl_join(3, 7)], new=(0x01, 11, 5000))
    s["mpc_new_tfo"] = seg(SRV, NEW, SYN, tpl=[tpl_mpc(0), tpl_hs(1400, 7)], new=(0x00, 20, 0),
                           payload=b"GET / HTTP/1.0\r\n\r\n") + app(SRV, 6) + time(3, 2)
    s["mpc_v0_syn"] = seg(SRV, NEW, SYN, tpl=[tpl_mpc(1, v0=True)], new=(0x00, 21, 0))
    s["mpc_third_ack_data"] = (seg(SRV, NEW, SYN, tpl=[tpl_mpc(0)], new=(0x00, 22, 0)) +
                               seg(SRV, 4, ACK | PSH, tpl=[tpl_mpc(3, dlen=20)], plen=20) +
                               app(SRV, 6))
    s["sack_dupacks"] = (app(CLI, 0, 200) + queue(4) + queue(2) + queue(4) +
                         seg(CLI, 0, ACK, tpl=[tpl_sack([(4000, 1000)])]) * 3 + time(5, 2))
    s["loss_rto"] = app(CLI, 0, 250) + queue(4) + queue(6) + queue(4) + time(2, 4) + time(5, 4)
    s["dup_reorder"] = app(SRV, 0, 100) + queue(4) + queue(3) + queue(7) + queue(0) + queue(4)
    s["flip_in_flight"] = app(CLI, 0, 60) + queue(4) + queue(5, off=60, mask=0x40) + queue(4)
    s["app_close_all"] = (app(CLI, 0, 30) + app(CLI, 4) + app(SRV, 2, 255) + app(SRV, 5) +
                          time(10, 4) + time(31, 6))
    s["app_abort"] = app(SRV, 0, 30) + app(CLI, 5, 1) + time(5, 4)
    s["pm_api"] = (app(CLI, 10, 0x05) + app(SRV, 9, 0x01) + app(CLI, 12, 0x21) +
                   app(CLI, 11, 0x04) + app(SRV, 13, 0x81) + app(CLI, 14) + time(5, 4))
    s["new_conn_v0"] = app(CLI, 8, 0x42) + time(3, 3) + app(SRV, 6) + app(CLI, 14)
    s["keepalive_idle"] = time(31, 6) + time(31, 6) + app(CLI, 14)
    s["nomem"] = app(CLI, 15, 1) + seg(SRV, NEW, SYN, tpl=[tpl_mpc(0)], new=(0x00, 23, 0))
    s["raw_garbage"] = raw(1, bytes([0x45, 0, 0, 40]) + bytes(36))
    # External keys (draft-baerts-tcpm-mptcpext-00): the engine does not
    # negotiate them yet, so a NEW_KEY is an unknown subtype to it and an E
    # flag in a SYN is a plain v1 SYN (docs/external-keys.md).
    s["extkey_new_key"] = seg(SRV, 0, ACK, tpl=[tpl_raw(opt_new_key(1, bytes(range(8))))])
    s["extkey_mpc_syn"] = seg(SRV, NEW, SYN, tpl=[tpl_mpc(0, flags=0x09)], new=(0x00, 24, 0))
    return s


# ---- opt_fuzz: byte 0 = version (bit 0) and segment kind (bits 1-2), then
# an options area; every MPTCP option in it is parsed with and without
# external keys understood (fuzz/opt_fuzz.c).

def opt_new_key(k, hmac):
    """NEW_KEY (draft-baerts-tcpm-mptcpext-00 Figure 5): subtype 9, K bit."""
    return bytes([30, 12, 0x90 | k, 0]) + hmac


def opt_seeds():
    SEG_SYN, SEG_SYNACK, SEG_ACK = 1, 2, 3
    ctx = lambda seg: bytes([1 | (seg << 1)])  # v1
    tok_a, tok_b = u32(0x01020304), u32(0xA1B2C3D4)
    s = {
        "extkey_mpc_syn": ctx(SEG_SYN) + bytes([30, 4, 0x01, 0x09]),
        "extkey_mpc_synack": ctx(SEG_SYNACK) + bytes([30, 8, 0x01, 0x09]) + tok_b,
        "extkey_mpc_ack": ctx(SEG_ACK) + bytes([30, 12, 0x01, 0x09]) + tok_a + tok_b,
        "extkey_mpc_data": ctx(SEG_ACK) + bytes([30, 14, 0x01, 0x09]) + tok_a + tok_b +
        u16(100),
        "extkey_mpc_data_csum": ctx(SEG_ACK) + bytes([30, 16, 0x01, 0x89]) + tok_a + tok_b +
        u16(100) + u16(0xBEEF),
        "extkey_new_key0": ctx(SEG_ACK) + opt_new_key(0, bytes(range(8))),
        "extkey_new_key1": ctx(SEG_ACK) + opt_new_key(1, bytes(range(8, 16))),
        "extkey_join_syn_k": ctx(SEG_SYN) + bytes([30, 12, 0x13, 5]) + tok_b + u32(7),
        "extkey_join_synack_k": ctx(SEG_SYNACK) + bytes([30, 16, 0x13, 5]) + bytes(8) + u32(9),
        "extkey_join_ack_k": ctx(SEG_ACK) + bytes([30, 24, 0x12, 0]) + bytes(range(20)),
        "extkey_add_addr_k": ctx(SEG_ACK) + bytes([30, 16, 0x32, 3, 10, 0, 0, 2]) + bytes(8),
        "extkey_add_addr_echo_k": ctx(SEG_ACK) + bytes([30, 8, 0x33, 3, 10, 0, 0, 2]),
        "extkey_fastclose_k": ctx(SEG_ACK) + bytes([30, 12, 0x71, 0]) + bytes(range(8)),
        # a DSS next to a NEW_KEY in one options area, and NEW_KEY in v0
        "extkey_new_key_dss": ctx(SEG_ACK) + bytes([30, 8, 0x20, 0x01]) + u32(1000) +
        opt_new_key(1, bytes(8)),
        "extkey_new_key_v0": bytes([0 | (SEG_ACK << 1)]) + opt_new_key(0, bytes(8)),
    }
    return s


def tcp_seeds():
    s = {}
    s["data"] = seg(SRV, 0, ACK | PSH, plen=200) + app(SRV, 2, 100)
    s["data_to_client"] = seg(CLI, 0, ACK | PSH, plen=1400) + app(CLI, 2, 100)
    s["fin"] = seg(SRV, 0, ACK | FIN) + app(SRV, 2, 1) + app(SRV, 4) + time(5, 3)
    s["rst"] = seg(SRV, 0, RST | ACK)
    s["rst_out_of_window"] = seg(SRV, 0, RST, seq=3000, ts=False)
    s["syn_in_window"] = seg(SRV, 0, SYN, seq=5)
    s["ofo"] = seg(SRV, 0, ACK | PSH, plen=100, seq=200) + seg(SRV, 0, ACK | PSH, plen=200)
    s["sack"] = (app(CLI, 0, 200) + queue(4) + queue(2) + queue(4) +
                 seg(CLI, 0, ACK, tpl=[tpl_sack([(4000, 1000), (2000, 500)])]) * 3)
    s["zero_window"] = seg(CLI, 0, ACK, win=0) + app(SRV, 0, 100) + time(5, 4) + time(10, 4)
    s["new_syn_tfo"] = seg(SRV, NEW, SYN, tpl=[tpl_hs(536, 14), tpl_tfo(0)],
                           new=(0x00, 30, 0), payload=b"hello") + app(SRV, 6)
    s["new_syn_tfo_cookie"] = seg(SRV, NEW, SYN, tpl=[tpl_tfo(8)], new=(0x00, 31, 0),
                                  payload=b"x" * 300) + app(SRV, 6) + time(3, 3)
    s["timestamps_old"] = seg(SRV, 0, ACK | PSH, plen=10,
                              tpl=[tpl_raw(bytes([1, 1, 8, 10]) + bytes(8))])
    s["loss"] = app(CLI, 0, 255) + queue(4) + queue(2) + queue(2) + queue(4) + time(5, 3)
    s["close_both"] = app(CLI, 5) + app(SRV, 5) + time(31, 6)
    s["keepalive"] = time(31, 6) * 4
    return s


# ---- stateful target -------------------------------------------------------

def st_traffic(b):
    return u8(7) + u8(b)


def st_pump():
    return u8(0)


def st_q(b):
    return u8(2) + u8(b)


def st_time(units, scale):
    return u8(3) + u8((scale << 5) | (units & 31))


def st_app(host, code, arg=0):
    return u8(4) + u8(host | (code << 1)) + u8(arg)


def st_cut(path):
    return u8(6) + u8(path)


def stateful_seeds():
    s = {}
    for v in range(5):
        s[f"v{v}_bulk"] = bytes([v]) + (st_traffic(0xFF) + st_pump()) * 8
        s[f"v{v}_loss"] = (bytes([v]) + st_traffic(0x8F) + st_q(2) + st_q(2 | 8) + st_pump() +
                           st_time(3, 4) + st_pump() + st_traffic(0x11) + st_pump())
        s[f"v{v}_dup_reorder"] = (bytes([v]) + st_traffic(0x4F) + st_q(3) + st_q(7) +
                                  st_q(1 | 16) + st_pump() + st_pump())
        s[f"v{v}_shutdown"] = (bytes([v]) + st_traffic(0x33) + st_app(0, 4) + st_pump() +
                               st_app(1, 2, 255) + st_app(1, 4) + st_pump() + st_time(5, 4))
        s[f"v{v}_close"] = (bytes([v]) + st_traffic(0x77) + st_app(0, 5) + st_pump() +
                            st_time(2, 4) + st_pump())
    for v in range(1, 5):
        s[f"v{v}_cut_path"] = (bytes([v]) + st_cut(0) + st_traffic(0xFF) + st_pump() +
                               st_time(5, 4) + st_pump() + st_traffic(0xFF) + st_pump() +
                               st_cut(0) + st_time(5, 4) + st_pump())
        s[f"v{v}_backup"] = (bytes([v]) + st_app(0, 12, 0x21) + st_traffic(0xAA) + st_pump() +
                             st_cut(1) + st_traffic(0xAA) + st_pump() + st_time(3, 4) +
                             st_pump())
    return s


# ---- converter server path -------------------------------------------------

def convert_msg(tlvs):
    body = b"".join(tlvs)
    return bytes([1, 1 + len(body) // 4, 0x22, 0x63]) + body


def tlv_connect(addr, port, opts=b""):
    if len(addr) == 4:
        addr = bytes(10) + b"\xff\xff" + addr
    val = u16(port) + addr + opts
    val += bytes((-(2 + len(val))) % 4)
    return bytes([0x0A, (2 + len(val)) // 4]) + val


def tlv_info():
    return bytes([0x01, 1, 0, 0])


def tlv_cookie(c):
    c += bytes((-len(c)) % 4)
    return bytes([0x16, 1 + len(c) // 4, 0, 0]) + c


def cv_conn(i, mptcp=True, addr_sel=0):
    return u8(0 | (i << 3)) + u8((0 if mptcp else 1) | (addr_sel << 1))


def cv_write(i, data):
    out = b""
    while data:
        part, data = data[:255], data[255:]
        out += u8(1 | (i << 3)) + u8(len(part)) + part
    return out


def cv_read(i):
    return u8(3 | (i << 3))


def cv_time(units, scale):
    return u8(5) + u8((scale << 5) | (units & 31))


def cv_end(i, how):
    return u8(2 | (i << 3)) + u8(how)


def cv_err(k):
    return u8(7) + u8(k)


def convert_seeds():
    s = {}
    ok4 = convert_msg([tlv_connect(bytes([192, 0, 2, 1]), 80)])
    ok6 = convert_msg([tlv_connect(bytes.fromhex("20010db8009900000000000000000001"), 443,
                                   bytes([2, 4, 5, 0xB4, 4, 2]))])
    cookie = convert_msg([tlv_connect(bytes([192, 0, 2, 1]), 80), tlv_cookie(b"cookie!!")])
    denied = convert_msg([tlv_connect(bytes([203, 0, 113, 9]), 22)])
    info = convert_msg([tlv_info()])
    badopt = convert_msg([tlv_connect(bytes([192, 0, 2, 1]), 80, bytes([19, 18]) + bytes(16))])
    for v in range(4):
        p = bytes([v])
        s[f"v{v}_connect"] = p + cv_conn(0) + cv_write(0, ok4 + b"GET /") + cv_read(0) + cv_time(
            2, 4) + cv_read(0)
        s[f"v{v}_connect_v6"] = p + cv_conn(0) + cv_write(0, ok6) + cv_err(1) + cv_read(0)
        s[f"v{v}_cookie"] = p + cv_conn(1) + cv_write(1, cookie) + cv_read(1)
        s[f"v{v}_denied"] = p + cv_conn(2, mptcp=False) + cv_write(2, denied) + cv_read(2)
        s[f"v{v}_info"] = p + cv_conn(0) + cv_write(0, info) + cv_read(0) + cv_end(0, 0)
        s[f"v{v}_unsupported_opt"] = p + cv_conn(0) + cv_write(0, badopt) + cv_read(0)
        s[f"v{v}_split"] = (p + cv_conn(0) + cv_write(0, ok4[:3]) + cv_time(5, 2) +
                            cv_write(0, ok4[3:11]) + cv_time(5, 2) + cv_write(0, ok4[11:]) +
                            cv_read(0))
        s[f"v{v}_slow_timeout"] = p + cv_conn(0) + cv_write(0, ok4[:2]) + cv_time(11, 4) + cv_read(
            0) + cv_time(3, 4)
        s[f"v{v}_many"] = p + b"".join(cv_conn(i) + cv_write(i, info) for i in range(4)) + cv_time(
            1, 3)
        tfo = (u8(4) + u8(1 | (NEW << 1)) + u8(SYN) + u8(1 | 8 | (1 << 5)) + u8(0x00) + u8(40) +
               i16(0) + i16(0) + u16(65535) + u16(len(ok4)) + tpl_mpc(0) + ok4)
        s[f"v{v}_tfo_syn"] = p + tfo + cv_time(3, 2)
    return s


# ---- SOCKS5 ------------------------------------------------------------------

def chunks(*parts):
    return b"".join(u8(len(p)) + p for p in parts)


def socks5_seeds():
    greet = bytes([5, 1, 0])
    req4 = bytes([5, 1, 0, 1, 192, 0, 2, 1, 0, 80])
    req6 = bytes([5, 1, 0, 4]) + bytes.fromhex("20010db8000100000000000000000001") + u16(443)
    name = b"192.0.2.7"
    reqd = bytes([5, 1, 0, 3, len(name)]) + name + u16(8080)
    s = {
        "ipv4": chunks(greet, req4),
        "ipv6": chunks(greet + req6),
        "domain_numeric": chunks(greet, reqd),
        "domain_name": chunks(greet, bytes([5, 1, 0, 3, 11]) + b"example.org" + u16(80)),
        "split_bytes": chunks(*[bytes([b]) for b in greet + req4]),
        "no_acceptable_method": chunks(bytes([5, 2, 1, 2])),
        "methods_255": chunks(bytes([5, 255]) + bytes(range(1, 256))),
        "bind_cmd": chunks(greet, bytes([5, 2, 0, 1, 10, 0, 0, 1, 0, 21])),
        "bad_atyp": chunks(greet, bytes([5, 1, 0, 9, 1, 2, 3, 4, 0, 80])),
        "socks4": chunks(bytes([4, 1, 0, 80, 10, 0, 0, 1, 0])),
        "request_and_data": chunks(greet + req4 + b"GET / HTTP/1.0\r\n\r\n"),
    }
    return s


def write(target, seeds):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.remove(os.path.join(d, f))
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


def main():
    m = mptcp_seeds()
    write("mptcp_input_fuzz",
          {f"v{v}_{k}": bytes([v]) + d for v in range(4) for k, d in m.items()})
    t = tcp_seeds()
    write("input_fuzz", {f"v{v}_{k}": bytes([v]) + d for v in range(2) for k, d in t.items()})
    write("stateful_fuzz", stateful_seeds())
    write("convert_server_fuzz", convert_seeds())
    write("socks5_fuzz", socks5_seeds())
    write("opt_fuzz", opt_seeds())


if __name__ == "__main__":
    main()
