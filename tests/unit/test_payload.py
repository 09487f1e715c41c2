"""Layer-6 request-buffer fetches and three-valued rule evaluation (gproxy.payload).

The expected values come from HAProxy 2.6.12: the same bytes sent to a ``mode tcp``
frontend storing each fetch with ``tcp-request content set-var(...) <fetch> if
WAIT_END`` and logging the variables (tests/integration/test_tcp_inspect.py runs that
comparison against a live haproxy for these builders' messages).  ``SHORT`` is HAProxy's
"not yet" (SMP_F_MAY_CHANGE), None "never".
"""

from __future__ import annotations

import pytest
from tlskit import alpn_ext, ext, hello, python_hello, sni_ext

from gproxy import payload as P
from gproxy.config import import_keyword_modules
from gproxy.http import acl as A
from gproxy.http import sample as smp
from gproxy.http.sample import SampleError

import_keyword_modules()


# ---------------------------------------------------------------------- message builders
FULL = hello([sni_ext("a.example.com"), alpn_ext(["h2", "http/1.1"]), ext(10, b"\x00\x02\x00\x1d"), ext(35, b"")])
SSLV2 = bytes([0x80, 0x2E, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10]) + bytes(21) + bytes(16)
RDP = b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: mstshash=hello\r\n\x01\x00\x08\x00\x03\x00\x00\x00"


# ---------------------------------------------------------------------- TLS fetches
def test_full_client_hello() -> None:
    assert P.ssl_hello_type(FULL) == 1
    assert P.ssl_ver(FULL) == 0x030003  # the hello's client_version, not the record's 3.1
    assert P.ssl_sni(FULL) == "a.example.com"
    assert P.ssl_alpn(FULL) == ["h2", "http/1.1"]
    assert P.ssl_st_ext(FULL) == 1
    assert P.ssl_ec_ext(FULL) is True


@pytest.mark.parametrize("cut", [0, 1, 3, 5, 6, 9, 20])
def test_incomplete_hello_may_change(cut: int) -> None:
    part = FULL[:cut]
    for fn in (P.ssl_hello_type, P.ssl_ver, P.ssl_sni, P.ssl_alpn, P.ssl_st_ext, P.ssl_ec_ext):
        assert fn(part) is P.SHORT, fn.__name__


def test_hello_is_complete_four_bytes_early() -> None:
    """payload.c compares the bytes after the record header with the handshake length,
    without its own 4-byte header: the SNI is found before the last 4 bytes arrived."""
    assert P.ssl_sni(FULL[:-4]) == "a.example.com"
    assert P.ssl_sni(FULL[:-5]) is P.SHORT
    assert P.ssl_hello_type(FULL[:-1]) is P.SHORT  # hello_type wants the whole message


@pytest.mark.parametrize(("data", "sni", "st", "ec", "ver", "htype"), [
    (hello([ext(35, b"abc")]), None, 2, None, 0x030003, 1),
    (hello([]), None, 0, None, 0x030003, 1),
    (hello([sni_ext("x.y", 1), ext(10, b"\x00\x00")]), None, 0, True, 0x030003, 1),  # only host_name counts
    (hello(ext_block=sni_ext("a.b")[:4] + b"\x00\x05"), None, None, None, 0x030003, 1),  # overflowing extension
    (hello(ext_block=sni_ext("a.b.c") + b"\x00\x23\x00\x09"), "a.b.c", None, None, 0x030003, 1),
    (hello([ext(5, b"12345"), sni_ext("late.example")]), "late.example", 0, None, 0x030003, 1),
    (hello([sni_ext("ssl3.example")], rec_version=b"\x03\x00", version=b"\x03\x00"), None, None, None, 0x030000, 1),
    (hello([sni_ext("x")], rec_version=b"\x02\x00"), None, None, None, None, None),
    (hello([sni_ext("x")], hs_type=2), None, None, None, 0x030003, 2),
    (hello([sni_ext("x")], rec_type=0x17), None, None, None, 0x030003, 1),
    (hello([sni_ext("sid.example")], sid=bytes(32)), "sid.example", 0, None, 0x030003, 1),
    (hello([sni_ext("sid.example")], sid=bytes(33)), None, None, None, 0x030003, 1),
    (b"GET / HTTP/1.0\r\n\r\n", None, None, None, None, None),
])
def test_tls_fetches_as_haproxy(data: bytes, sni, st, ec, ver, htype) -> None:
    assert P.ssl_sni(data) == sni
    assert P.ssl_st_ext(data) == st
    assert P.ssl_ec_ext(data) == ec
    assert P.ssl_ver(data) == ver
    assert P.ssl_hello_type(data) == htype


def test_alpn_names_and_broken_lists() -> None:
    assert P.ssl_alpn(hello([ext(16, b"\x00\x05\x02h2\x09x")])) == ["h2"]  # stops at the overflowing name
    assert P.ssl_alpn(hello([ext(16, b"\x00\x05\x09h2")])) is None
    assert P.ssl_alpn(hello([ext(16, b"\x00\x01")])) is None  # shorter than a list length and one name
    assert P.ssl_alpn(hello([sni_ext("x")])) is None


def test_python_client_hello() -> None:
    h = python_hello("a.example.com", ["h2", "acme-tls/1"])
    assert (P.ssl_sni(h), P.ssl_alpn(h), P.ssl_hello_type(h), P.ssl_ver(h)) == (
        "a.example.com", ["h2", "acme-tls/1"], 1, 0x030003)
    assert P.ssl_sni(python_hello(None)) is None


def test_sslv2_hello_version() -> None:
    assert P.ssl_ver(SSLV2) == 0x0002
    assert P.ssl_ver(SSLV2[:21]) is P.SHORT
    assert P.ssl_ver(SSLV2, limit=10) == 0x0002  # the message is only waited for up to the buffer size
    assert P.ssl_sni(SSLV2) is None and P.ssl_hello_type(SSLV2) is None


def test_ssl_ver_waits_for_the_record_up_to_the_buffer() -> None:
    big = bytes([0x16, 3, 1, 0x40, 0x00]) + bytes(40)  # a 16 kB record
    assert P.ssl_ver(bytes([0x16, 3, 1, 0x48, 0x01]) + bytes(40)) is None  # over 2^14 + 2048
    assert P.ssl_ver(big) is P.SHORT
    assert P.ssl_ver(big, limit=45) is P.SHORT
    assert P.ssl_ver(big, limit=40) == 0


# ---------------------------------------------------------------------- payload / payload_lv / rdp
def test_payload() -> None:
    d = b"0123456789"
    assert P.payload(d, 1, 3) == b"123"
    assert P.payload(d, 0, 0) == d
    assert P.payload(d, 4, 0) == b"456789"
    assert P.payload(d, 8, 3) is P.SHORT
    assert P.payload(d, 11, 0) is P.SHORT
    assert P.payload(d, 0, 16385) is None  # can never fit in a buffer
    assert P.payload(d, 16000, 1000) is None
    assert P.payload(d, -1, 2) is None


def test_payload_lv_and_haproxys_offset2_encoding() -> None:
    d = b"\x02\x00\x05abcdefghij"
    assert P.payload_lv(d, 0, 1) == b"\x00\x05"
    assert P.payload_lv(d, 1, 2) == b"abcde"
    assert P.payload_lv(d, 3, 2) is None  # a length of 0x6162 can never fit in a buffer
    assert P.payload_lv(d, 40, 1) is P.SHORT
    assert P.payload_lv(b"\x00", 0, 1) is None  # a zero length never matches

    def lv(args: list) -> object:
        assert P.check_payload_lv(args) is None
        return P.payload_lv(d, args[0], args[1], args[2] if len(args) > 2 else None)

    assert lv([0, 1, "+1"]) == b"\x05a"  # relative: after the length, plus one
    assert lv([2, 1, "-1"]) == b"\x05abcd"
    assert lv([0, 1, "4"]) == b"\x05a"  # absolute 4 is read as 4 >> 1 = 2 (haproxy 2.6)
    assert lv([0, 1, "5"]) == b"ab"  # odd: taken as relative 5 >> 1 = 2
    assert lv([0, 1, ""]) == b"\x00\x05"


@pytest.mark.parametrize(("args", "err"), [
    ([-1, 2], "payload offset1 must be positive"),
    ([0, 0], "payload length must be > 0"),
    ([0, 2, "x"], "payload offset2 is not a number"),
    ([0, 2, "+1x"], "payload offset2 is not a number"),
    ([0, 2, "-5"], "payload offset2 too negative"),
    ([0, 2, "-2"], None),
])
def test_payload_lv_argument_errors(args: list, err: str | None) -> None:
    assert P.check_payload_lv(list(args)) == err


def test_rdp_cookie() -> None:
    assert P.rdp_cookie(RDP) == "hello"
    assert P.rdp_cookie(RDP, "mstshash") == "hello"
    assert P.rdp_cookie(RDP, "MSTSHASH") == "hello"
    assert P.rdp_cookie(RDP, "x") is None
    assert P.rdp_cookie(RDP[:33]) is P.SHORT
    assert P.rdp_cookie(RDP[:11]) is P.SHORT
    assert P.rdp_cookie(b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00cookie:   MSTSHASH=v\rX") is None
    assert P.rdp_cookie(b"GET / HTTP/1.0\r\n\r\n") is P.SHORT  # 7 bytes after the first 11: too short
    assert P.rdp_cookie(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n") is None


# ---------------------------------------------------------------------- dotted versions
@pytest.mark.parametrize(("words", "want"), [
    (["3.1"], ["196609"]),
    (["3"], ["196608"]),
    (["3.0-3.3"], ["196608:196611"]),
    (["3.1:"], ["196609:"]),
    ([":3.1"], [":196609"]),
    (["gt", "3.1"], ["196610:"]),
    (["ge", "3.1", "lt", "3"], ["196609:", ":196607"]),
    (["le", "3.65535"], [":262143"]),
    (["gt", "3.65535"], ["262144:"]),
])
def test_dotted_patterns(words: list[str], want: list[str]) -> None:
    assert P.dotted_patterns(words) == want


@pytest.mark.parametrize(("words", "err"), [
    (["3.x"], "'3.x' is not a dotted number"),
    (["gt", "3.x"], "'3.x' is neither a number nor a supported operator"),
    (["70000.1"], "'70000.1' is not a dotted number"),
    (["gt", "70000.1"], "'70000.1' contains too large a major value"),
    (["gt", "3.70000"], "'3.70000' contains too large a minor value"),
    (["3.1-3.0"], "'3.1-3.0' is not a valid dotted number range"),
    (["3."], "'3.' is not a dotted number"),
    ([".1"], "'.1' is not a dotted number"),
])
def test_dotted_pattern_errors(words: list[str], err: str) -> None:
    with pytest.raises(ValueError, match="^" + err.replace(".", r"\.") + "$"):
        P.dotted_patterns(words)


# ---------------------------------------------------------------------- expressions and conditions
def cond(text: str) -> A.Cond:
    return A.parse_cond(["if", *text.split()], {}, smp.ParseCtx())


def evaluate(text: str, data: bytes, final: bool = False) -> int:
    P.REQ.set(data, final, not final)
    try:
        return P.exec_cond(cond(text), None, None, final)
    finally:
        P.REQ.clear()


@pytest.mark.parametrize(("text", "data", "final", "want"), [
    ("{ req.len gt 5 }", b"abc", False, P.MISS),  # may still grow
    ("{ req.len gt 5 }", b"abc", True, P.FAIL),
    ("{ req.len gt 5 }", b"abcdef", False, P.PASS),
    ("{ req.len eq 0 }", b"", False, P.PASS),  # matches at once, as the manual warns
    ("!{ req.len gt 5 }", b"abc", False, P.MISS),  # a negated MISS stays a MISS
    ("{ req.ssl_hello_type 1 }", FULL[:10], False, P.MISS),
    ("{ req.ssl_hello_type 1 }", FULL[:10], True, P.FAIL),
    ("{ req.ssl_hello_type 1 }", b"hello", False, P.FAIL),  # not TLS: no waiting
    ("{ req_ssl_sni -i A.example.com }", FULL, False, P.PASS),
    ("{ req.ssl_sni -m end .example.com } { req.len gt 100000 }", FULL, False, P.MISS),
    ("{ req.ssl_sni -m end .example.org } { req.len gt 100000 }", FULL, False, P.FAIL),
    ("{ req.len gt 100000 } || { req.ssl_sni a.example.com }", FULL, False, P.PASS),
    ("{ req.ssl_alpn http/1.1 }", FULL, False, P.PASS),  # an ACL iterates over every name
    ("{ req.ssl_alpn -m found }", hello([]), False, P.FAIL),
    ("{ req.payload(0,3) -m bin 474554 }", b"GE", False, P.MISS),
    ("{ payload(0,3) 474554 }", b"GET /", False, P.PASS),
    ("{ req.payload(0,0) -m sub abc }", b"xxab", False, P.MISS),  # "the whole buffer" may grow
    ("{ req.payload_lv(0,1) -m bin 6869 }", b"\x02hi", False, P.PASS),
    ("{ req_ssl_ver 3.3 }", FULL, False, P.PASS),
    ("{ req.ssl_ver 3.0:3.2 }", FULL, False, P.FAIL),
    ("{ req_ssl_ver gt 3.2 }", FULL, False, P.PASS),
    ("{ req.ssl_ver,add(0) 196611 }", FULL, False, P.PASS),  # with a converter: integer patterns
    ("{ req_rdp_cookie(mstshash) hello }", RDP, False, P.PASS),
    ("RDP_COOKIE", RDP[:30], False, P.MISS),
    ("REQ_CONTENT", b"", False, P.MISS),
    ("WAIT_END", b"x", False, P.MISS),
    ("WAIT_END", b"x", True, P.PASS),
])
def test_exec_cond(text: str, data: bytes, final: bool, want: int) -> None:
    assert evaluate(text, data, final) == want


def test_fetches_outside_an_inspection() -> None:
    """No buffer (HTTP rules, anything outside tcp.py's inspection): nothing fetched,
    and wait_end is true as on a final evaluation."""
    assert P.REQ.data is None
    for name in ("req.len", "req.ssl_sni", "req.ssl_hello_type", "req.ssl_alpn"):
        assert smp.FETCHES[name].fn(None, None, []) is None
    assert smp.FETCHES["wait_end"].fn(None, None, []) is True


class _Rule:
    def __init__(self, kind: str, text: str | None, pol: str = "if") -> None:
        self.kind = kind
        self.cond = A.parse_cond([pol, *text.split()], {}, smp.ParseCtx()) if text else None

    def run(self, sess, txn):
        return self


def test_run_rules() -> None:
    rules = [_Rule("reject", "{ req.payload(0,4) -m bin 52454a54 }"), _Rule("allow", "{ req.ssl_hello_type 1 }")]

    def run(data: bytes, final: bool) -> str:
        P.REQ.set(data, final, not final)
        try:
            return P.run_rules(rules, None, final)[0]
        finally:
            P.REQ.clear()

    assert run(b"RE", False) == "miss"  # the reject rule cannot decide: later rules are not tried
    assert run(b"RE", True) == P.ACCEPT  # nothing matched: the default is to accept
    assert run(b"REJT", False) == P.REJECT
    assert run(FULL[:30], False) == "miss"
    assert run(FULL, False) == P.ACCEPT
    assert run(b"hello", False) == P.ACCEPT
    unless = [_Rule("reject", "{ req.len gt 3 }", "unless")]
    P.REQ.set(b"ab", False, True)
    try:
        assert P.run_rules(unless, None, False)[0] == "miss"
        assert P.run_rules(unless, None, True)[0] == P.REJECT
    finally:
        P.REQ.clear()


# ---------------------------------------------------------------------- configuration
@pytest.mark.parametrize(("expr", "err"), [
    ("req.payload(a,b) -m bin 00",
     ("fetch method 'req.payload' : failed to parse 'a' as type 'integer' at position 1 in ACL expression "
     "'req.payload(a,b)'")),
    ("req.payload(0) -m bin 00",
     ("fetch method 'req.payload' : missing arguments (got 1/2), type 'integer' expected in ACL expression "
     "'req.payload(0)'")),
    ("req.payload_lv(0,0) -m bin 00",
     ("invalid args in fetch method 'req.payload_lv' : payload length must be > 0 in ACL expression "
     "'req.payload_lv(0,0)'")),
    ("req.ssl_sni(foo) foo", "fetch method 'req.ssl_sni' : expected ')' before 'foo)' in ACL expression 'req.ssl_sni(foo)'"),
    ("payload(0,x) 00", "ACL keyword 'payload' : failed to parse 'x' as type 'integer' at position 2"),
    ("req_ssl_ver 3.x", "'3.x' is not a dotted number"),
    ("req.len 3.1", "'3.1' is not a number"),
    ("req.payload(0,2) 1603",
     "matching method must be specified first (using '-m') when using a sample fetch of this type ('req.payload')"),
])
def test_acl_errors(expr: str, err: str) -> None:
    with pytest.raises((A.CondError, SampleError)) as e:
        A.parse_acl_expr(expr.split(), smp.ParseCtx())
    assert str(e.value) == err


def test_places() -> None:
    """Request-buffer fetches are usable in content rules and use_backend, not in
    tcp-request connection rules nor in logs (HAProxy's 'request buffer' source)."""
    e = smp.parse_expr(["req.ssl_sni"], 0)[0]
    assert smp.check_places(e, (smp.FE_REQ_CNT,)) is None
    assert smp.check_places(e, (smp.FE_SET_BCK,)) is None
    assert smp.check_places(e, (smp.FE_CON,)) == "request buffer"
    assert smp.check_places(e, (smp.LOGS,)) == "request buffer"
    assert smp.check_places(smp.parse_expr(["res.len"], 0)[0], (smp.FE_REQ_CNT,)) == "response buffer"
