"""The request-body sample fetches (``req.body``, ``req.body_len``, ``req.body_size``,
``req.body_param``) and their pure parts (gproxy/http/body.py).

Expected values were produced by HAProxy 2.6.12 (Debian 2.6.12-1+deb12u4): frontends
with and without ``option http-buffer-request`` answering ``http-request return ...
lf-string "P=[%[req.body_param(a)]] L=%[req.body_len] S=%[req.body_size] ..."``, queried
over raw sockets on 127.0.0.1 (tests/integration/test_http_body_fetches.py replays the
same against both proxies).
"""

from __future__ import annotations

import pytest

from gproxy.http import acl as A
from gproxy.http import body as B
from gproxy.http import sample as S
from gproxy.http.message import Headers, Request, Txn


# ------------------------------------------------------------------ de-chunking
@pytest.mark.parametrize(("raw", "payload", "pending"), [
    (b"", b"", 0),
    (b"3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n", b"a=1&b=2", 0),
    (b"3\r\na=1\r\n0\r\nx-t: 1\r\n\r\n", b"a=1", 0),               # trailers are not payload
    (b"3;ext=1\r\na=1\r\n2\r\n&b\r\n", b"a=1&b", 0),                 # extensions neither
    (b"5\r\na=1", b"a=1", 2),                                      # chunk in progress: announced rest
    (b"3\r\na=1\r\n5\r\n", b"a=1", 5),                             # a complete size line counts
    (b"3\r\na=1\r\n5\r\nab", b"a=1ab", 3),
    (b"3\r\na=1\r\n5", b"a=1", 0),                                 # an incomplete one does not
    (b"3\r\na=1\r", b"a=1", 0),
    (b"3\r\na=1\r\n0\r\n", b"a=1", 0),
    (b"3\na=1\n2\n&b\n0\n\n", b"a=1&b", 0),                         # bare LF line ends
    (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789", 0),
    (b"3\r\na=1\r\nzz\r\nxx\r\n", b"a=1", 0),                      # unreadable size line: stop
])
def test_dechunk(raw: bytes, payload: bytes, pending: int) -> None:
    assert B.dechunk(raw) == (payload, pending)


def test_dechunk_limit_cuts_a_chunk_and_counts_its_rest() -> None:
    body = b"x" * 20000
    raw = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000]) for i in range(0, 20000, 1000))
    # haproxy 2.6: L=15201 S=16000 for 1000-byte chunks, S=16384 for 8192-byte ones
    assert B.dechunk(raw + b"0\r\n\r\n", 15201) == (body[:15201], 799)
    raw8 = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 8192]), body[i:i + 8192]) for i in range(0, 20000, 8192))
    assert B.dechunk(raw8, 15201) == (body[:15201], 16384 - 15201)
    # cut on a chunk boundary: the next chunk's size line is read, its size counts
    # (haproxy: a 15201-byte chunk then a 1000-byte one give L=15201 S=16201)
    assert B.dechunk(b"3\r\nabc\r\n3\r\ndef\r\n", 3) == (b"abc", 3)


# ------------------------------------------------------------------ what the fetches see
def req(headers, method="POST", uri="/", chunked=False, cl=None) -> Request:
    r = Request(method, uri, "HTTP/1.1", Headers(list(headers)))
    r.chunked = chunked
    r.body_len = cl
    return r


def cl_req(n: int, uri: str = "/", extra=()) -> Request:
    return req([("host", "x"), *extra, ("content-length", str(n))], uri=uri, cl=n)


TE_REQ = req([("host", "x"), ("transfer-encoding", "chunked")], chunked=True)


def test_room_matches_haproxy_buffer() -> None:
    # 16 kB buffers: haproxy held 15214 bytes of a 20000-byte body after this head
    # (15187 after a longer one), 15201 of a chunked one
    assert B.room_for(cl_req(20000)) == 15214
    assert B.room_for(cl_req(20000, "/longer/path", [("x-foo", "bar")])) == 15187
    assert B.room_for(TE_REQ) == 15201


def test_view_content_length() -> None:
    v = B.view(b"a=1&b=2&a=3", cl_req(11))
    assert (v.data, v.size) == (b"a=1&b=2&a=3", 11)
    v = B.view(b"a=1&b", cl_req(11))                      # only part of it held
    assert (v.data, v.size) == (b"a=1&b", 11)
    v = B.view(b"a=1GET / HTTP/1.1\r\n\r\n", cl_req(3))   # a pipelined request is not body
    assert (v.data, v.size) == (b"a=1", 3)
    big = b"a=" + b"x" * 19998
    v = B.view(big, cl_req(20000))
    assert (len(v.data), v.size) == (15214, 20000)
    v = B.view(big, cl_req(20000), maxhead=8192 - 1024 - 48)  # tune.bufsize 8192
    assert len(v.data) == 8192 - 1024 - 48 - 90 - 8


def test_view_chunked_and_no_body() -> None:
    v = B.view(b"3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", TE_REQ)
    assert (v.data, v.size) == (b"a=1&b=2", 7)
    v = B.view(b"5\r\na=1", TE_REQ)
    assert (v.data, v.size) == (b"a=1", 5)
    assert (B.view(None, TE_REQ).data, B.view(None, TE_REQ).size) == (b"", 0)
    v = B.view(None, req([("host", "x")], method="GET"))
    assert (v.data, v.size) == (b"", 0)
    v = B.view(b"", cl_req(0))
    assert (v.data, v.size) == (b"", 0)


# ------------------------------------------------------------------ url-encoded parameters
# body -> (req.body_param(a), req.body_param), None = no sample; haproxy 2.6.12
PARAMS = [
    (b"", None, None),
    (b"a", None, None),
    (b"a&b=2", None, b"2"),
    (b"a=&b=2", b"", b""),
    (b"b=1&a", None, b"1"),
    (b"b=1&a&a=5", b"5", b"1"),
    (b"&&a=x", b"x", b"x"),
    (b"a=1;a=2", b"1", b"1"),
    (b"a=x=y&", b"x=y", b"x=y"),
    (b"c=1?a=2", None, b"1?a=2"),
    (b"x=%00&a=\x00q", b"\x00q", b"%00"),
    (b"a=1#frag", b"1#frag", b"1#frag"),
    (b"a=1\r\na=2", b"1\r\na=2", b"1\r\na=2"),
    (b"=&a=9", b"9", b""),
    (b"b=%41+x&A=q&a=z%20+y", b"z%20+y", b"%41+x"),   # no decoding, names case-sensitive
    (b"b=a=1&a=2", b"2", b"a=1"),
]


@pytest.mark.parametrize(("body", "named", "anyp"), PARAMS)
def test_first_param(body: bytes, named: bytes | None, anyp: bytes | None) -> None:
    first = B.param_values(body, b"a", True)
    assert (first[0] if first else None) == named
    first = B.param_values(body, b"", True)
    assert (first[0] if first else None) == anyp


@pytest.mark.parametrize(("body", "name", "values"), [
    (b"a=1&a=2", b"a", [b"1", b"2"]),
    (b"a=1&a=h;x=1&a=2", b"a", [b"1", b"h", b"2"]),
    (b"a&b;c=5;a=2", b"a", [b"2"]),
    (b"a&b;c=5;a=2", b"", [b"5", b"2"]),
    (b"a=1&b&c=3", b"", [b"1", b"3"]),
    (b"a=1&", b"a", [b"1"]),
    (b"x&y=1", b"x&y", [b"1"]),                 # a name holding a delimiter, as HAProxy's scan
])
def test_param_iteration(body: bytes, name: bytes, values: list[bytes]) -> None:
    assert B.param_values(body, name) == values


def test_next_param_positions() -> None:
    assert B.next_param(b"yo=mama;ye=daddy", 0, b"ye") == (11, 16)
    assert B.next_param(b"yo=mama;ye=daddy", 0, b"") == (3, 7)
    assert B.next_param(b"yo=mama;ye=daddy", 7, b"") == (11, 16)
    assert B.next_param(b"yo=mama", 0, b"yo", delim=ord("?")) == (3, 7)
    assert B.next_param(b"ab", 0, b"ab") is None


# ------------------------------------------------------------------ the fetches
def txn_with(r: Request, raw: bytes | None) -> Txn:
    t = Txn(None, r)
    if raw is not None:
        t.extra["req_body"] = raw
    return t


def ev(text: str, t: Txn | None):
    expr, _ = S.parse_expr_text(text)
    return expr.eval(None, t)


def test_fetch_types_and_values() -> None:
    t = txn_with(cl_req(11), b"a=1&b=2&a=3")
    assert ev("req.body", t) == b"a=1&b=2&a=3"
    assert ev("req.body_len", t) == 11 and ev("req.body_size", t) == 11
    assert ev("req.body_param(a)", t) == "1" and ev("req.body_param(b)", t) == "2"
    assert ev("req.body_param", t) == "1" and ev("req.body_param()", t) == "1"
    assert ev("req.body_param(zz)", t) is None
    assert ev("req.body,hex", t) == "613D3126623D3226613D33"
    assert ev("req.body_param(a),url_dec", txn_with(cl_req(9), b"a=h%20i+j")) == "h i+j"
    # declared bin (converter checks), strings at run time: a NUL does not cut them
    assert S.FETCHES["req.body_param"].out == S.T_BIN
    assert ev("req.body_param(a),length", txn_with(cl_req(10), b"x=%00&a=\x00q")) == 2
    assert ev("req.body,length", txn_with(cl_req(10), b"x=%00&a=\x00q")) == 8  # bin -> str stops at NUL


def test_fetches_without_body_or_request() -> None:
    t = txn_with(req([("host", "x")], method="GET"), None)
    assert ev("req.body", t) == b""                     # found, empty (as haproxy)
    assert (ev("req.body_len", t), ev("req.body_size", t)) == (0, 0)
    assert ev("req.body_param", t) is None
    for f in ("req.body", "req.body_len", "req.body_size", "req.body_param"):
        assert ev(f, None) is None                      # no HTTP transaction (mode tcp)


def test_fetch_view_follows_new_bytes() -> None:
    t = txn_with(cl_req(11), b"a=1&b")
    assert (ev("req.body_len", t), ev("req.body_size", t)) == (5, 11)
    t.extra["req_body"] = b"a=1&b=2&a=3"                # the backend's http-buffer-request read more
    assert ev("req.body_len", t) == 11 and ev("req.body_param(b)", t) == "2"


def test_acl_iterates_over_parameters() -> None:
    t = txn_with(cl_req(15), b"a=1&a=h;x=1&a=2")
    assert A.parse_acl_expr(["req.body_param(a)", "-m", "str", "2"]).match(None, t)
    assert A.parse_acl_expr(["req.body_param(a)", "-m", "beg", "h"]).match(None, t)
    assert not A.parse_acl_expr(["req.body_param(a)", "-m", "str", "x"]).match(None, t)
    assert A.parse_acl_expr(["req.body_param", "-m", "str", "1"]).match(None, t)
    t = txn_with(cl_req(4), b"a=hi")
    assert A.parse_acl_expr(["req.body_param(a)", "-m", "bin", "6869"]).match(None, t)
    assert A.parse_acl_expr(["req.body", "-m", "sub", "=h"]).match(None, t)
    assert A.parse_acl_expr(["req.body_len", "gt", "3"]).match(None, t)
    assert not A.parse_acl_expr(["req.body_param(zz)", "-m", "found"]).match(None, t)


@pytest.mark.parametrize(("text", "message"), [
    ("req.body(x)", "fetch method 'req.body' : expected ')' before 'x)'"),
    ("req.body_len()", None),
    ("req.body_size(1)", "fetch method 'req.body_size' : expected ')' before '1)'"),
    ("req.body_param(a,b)", "fetch method 'req.body_param' : expected ')' before ',b)'"),
    ("req.body_param(a", "fetch method 'req.body_param' : expected ')'"),
    ("req.body_param(a),ipmask(24)", "converter 'ipmask' cannot be applied"),
    ("req.body,ipmask(24)", "converter 'ipmask' cannot be applied"),
    ("req.body_param(,)", "fetch method 'req.body_param' : expected ')' before ',)'"),
])
def test_parse_errors_are_haproxys(text: str, message: str | None) -> None:
    if message is None:
        S.parse_expr([text], 0)
        return
    with pytest.raises(S.SampleError) as e:
        S.parse_expr([text], 0)
    assert str(e.value) == message


def test_only_on_the_request_side() -> None:
    expr, _, _ = S.parse_expr(["req.body_param(a)"], 0)
    assert S.check_places(expr, [S.FE_HRQ]) is None and S.check_places(expr, [S.BE_HRQ]) is None
    assert S.check_places(expr, [S.BE_HRS]) == "HTTP request headers"
    assert S.check_places(expr, [S.LOGS]) == "HTTP request headers"
