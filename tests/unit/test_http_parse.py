"""gproxy.http.parse: request/response heads and chunked framing, HAProxy 2.6's rules.

Every expectation below was observed on ``haproxy -db`` 2.6 with a raw socket (what the
server received, or the status the client got)."""

from __future__ import annotations

import pytest

from gproxy.http import parse
from gproxy.http.parse import ChunkError, ChunkTracker, ParseError, head_end, parse_request, parse_response

pytestmark = pytest.mark.timeout(10)


def req(raw: bytes, lax: bool = False):
    end, _ = head_end(raw)
    assert end >= 0
    return parse_request(raw[:end], lax)


def rendered(raw: bytes) -> bytes:
    r, _ = req(raw)
    return r.head_bytes()


# ------------------------------------------------------------------ head end
@pytest.mark.parametrize(
    "raw,expect",
    [
        (b"GET / HTTP/1.1\r\n\r\n", (14, 18)),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY", (23, 27)),
        (b"GET / HTTP/1.1\nHost: x\n\n", (22, 24)),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\nBODY", (23, 26)),
        (b"GET / HTTP/1.1\r\nHost: x\r\n", (-1, -1)),
    ],
)
def test_head_end(raw, expect):
    assert head_end(raw) == expect


# ------------------------------------------------------------------ what is forwarded
@pytest.mark.parametrize(
    "raw,out",
    [
        # names lower-cased, values trimmed
        (b"GET / HTTP/1.1\r\nHost: x\r\nX:\tv \t\r\n\r\n", b"GET / HTTP/1.1\r\nhost: x\r\nx: v\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nX:   v  w  \r\n\r\n", b"GET / HTTP/1.1\r\nx: v  w\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nX:\r\n\r\n", b"GET / HTTP/1.1\r\nx: \r\n\r\n"),
        # bare LF
        (b"GET / HTTP/1.1\nHost: x\n\n", b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"),
        # folded line: CRLF -> two spaces
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n  folded\r\n\r\n", b"GET / HTTP/1.1\r\nhost: x\r\nx: a    folded\r\n\r\n"),
        # several spaces in the request line
        (b"GET  /  HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"),
        # any token method, kept as is
        (b"FOO / HTTP/1.1\r\n\r\n", b"FOO / HTTP/1.1\r\n\r\n"),
        (b"get / HTTP/1.1\r\n\r\n", b"get / HTTP/1.1\r\n\r\n"),
        # URI characters HAProxy lets through
        (b'GET /a"b{}|^`\\<> HTTP/1.1\r\n\r\n', b'GET /a"b{}|^`\\<> HTTP/1.1\r\n\r\n'),
        # versions above 1.1 become 1.1
        (b"GET / HTTP/1.2\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n"),
        (b"GET / HTTP/2.0\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n"),
        # identical duplicates merged
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
         b"POST / HTTP/1.1\r\ncontent-length: 3\r\n\r\n"),
        (b"POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n", b"POST / HTTP/1.1\r\ncontent-length: 3\r\n\r\n"),
        (b"POST / HTTP/1.1\r\nContent-Length: 03\r\n\r\n", b"POST / HTTP/1.1\r\ncontent-length: 03\r\n\r\n"),
        # CL + TE: CL removed
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
         b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n"),
        # connection tokens close/keep-alive removed, others kept
        (b"GET / HTTP/1.1\r\nConnection: keep-alive, foo\r\nFoo: bar\r\n\r\n",
         b"GET / HTTP/1.1\r\nconnection: foo\r\nfoo: bar\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n"),
        # absolute URI: default port removed
        (b"GET http://a:80/ HTTP/1.1\r\nHost: a\r\n\r\n", b"GET http://a/ HTTP/1.1\r\nhost: a\r\n\r\n"),
        (b"GET http://a/ HTTP/1.1\r\n\r\n", b"GET http://a/ HTTP/1.1\r\n\r\n"),
        # control bytes in values are kept (2.6 does)
        (b"GET / HTTP/1.1\r\nHost: x\x01y\r\n\r\n", b"GET / HTTP/1.1\r\nhost: x\x01y\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nX: \xff\xfe\r\n\r\n", b"GET / HTTP/1.1\r\nx: \xff\xfe\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", b"GET / HTTP/1.1\r\ntransfer-encoding: Chunked\r\n\r\n"),
        (b"OPTIONS * HTTP/1.1\r\n\r\n", b"OPTIONS * HTTP/1.1\r\n\r\n"),
        # CONNECT: a default port is dropped from Host (not from the URI)
        (b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", b"CONNECT a:443 HTTP/1.1\r\nhost: a\r\n\r\n"),
        (b"CONNECT a:80 HTTP/1.1\r\nHost: a:80\r\n\r\n", b"CONNECT a:80 HTTP/1.1\r\nhost: a\r\n\r\n"),
        (b"CONNECT a:8443 HTTP/1.1\r\nHost: a:8443\r\n\r\n", b"CONNECT a:8443 HTTP/1.1\r\nhost: a:8443\r\n\r\n"),
        (b"GET https://a:443/ HTTP/1.1\r\nHost: a:443\r\n\r\n", b"GET https://a/ HTTP/1.1\r\nhost: a\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nHost: a:443\r\n\r\n", b"GET / HTTP/1.1\r\nhost: a:443\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!!!\r\n\r\n",
         b"GET / HTTP/1.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: !!!!!!!!!!!!!!!!!!!!!!!!\r\n\r\n"),
        # Upgrade without Connection: upgrade is no upgrade at all
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", b"GET / HTTP/1.1\r\nupgrade: websocket\r\n\r\n"),
    ],
)
def test_forwarded(raw, out):
    assert rendered(raw) == out


@pytest.mark.parametrize(
    "raw,status",
    [
        (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHo\x01st: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHo(st: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX-\xff: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nnocolon\r\n\r\n", 400),
        (b"GET /a b HTTP/1.1\r\n\r\n", 400),
        (b"GET /\x7f HTTP/1.1\r\n\r\n", 400),
        (b"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400),
        (b"GET /a#frag HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.10\r\n\r\n", 400),
        (b"GET / http/1.1\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),
        (b"G(T / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 0x3\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: +3\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 400),
        # the key must be 24 characters (any)
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n\r\n",
         400),
        (b"CONNECT a:443 HTTP/1.1\r\nHost: b:443\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 422),
    ],
)
def test_rejected(raw, status):
    with pytest.raises(ParseError) as ei:
        req(raw)
    assert ei.value.status == status


def test_framing_and_tokens():
    r, info = req(b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert r.chunked and r.body_len is None and info.force_close
    r, info = req(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert r.chunked and info.force_close and info.minor == 0
    r, info = req(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
    assert info.conn.keep_alive and not info.conn.close
    r, info = req(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                  b"dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    assert r.upgrade and info.websocket
    assert r.headers.get("connection") == "Upgrade"
    r, info = req(b"PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    assert info.expect_100 and r.body_len == 2


def test_lax_request():
    r, _ = req(b"GET /\xc3\xa9 HTTP/1.1\r\nX-\xff: a\r\n\r\n", lax=True)
    assert r.uri == "/\xc3\xa9" and r.headers.get("x-\xff") == "a"


def test_too_many_headers():
    raw = b"GET / HTTP/1.1\r\n" + b"".join(b"X%d: y\r\n" % i for i in range(100)) + b"\r\n"
    req(raw)
    raw = b"GET / HTTP/1.1\r\n" + b"".join(b"X%d: y\r\n" % i for i in range(101)) + b"\r\n"
    with pytest.raises(ParseError):
        req(raw)


# ------------------------------------------------------------------ responses
def rsp(raw: bytes):
    end, _ = head_end(raw)
    return parse_response(raw[:end])


def test_response_basics():
    r, info = rsp(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n")
    assert r.status == 200 and r.reason == "OK" and r.body_len == 2 and info.conn.close
    assert r.headers.items == [("content-length", "2")]
    r, info = rsp(b"HTTP/1.0 200 OK\r\nX: y\r\n\r\n")
    assert info.minor == 0 and r.body_len is None and not r.chunked
    r, info = rsp(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert r.chunked and r.body_len is None and r.headers.items == [("transfer-encoding", "chunked")]
    r, info = rsp(b"HTTP/1.1 204\r\n\r\n")
    assert r.status == 204 and r.reason == ""
    r, info = rsp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")
    assert not r.chunked and info.force_close


@pytest.mark.parametrize(
    "raw",
    [
        b"BLAH\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
    ],
)
def test_response_rejected(raw):
    with pytest.raises(ParseError) as ei:
        rsp(raw)
    assert ei.value.status == 502


# ------------------------------------------------------------------ chunked bodies
def test_chunk_tracker_whole_and_split():
    body = b"3\r\nabc\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\nNEXT"
    t = ChunkTracker()
    k = t.feed(body, 0, len(body))
    assert t.done and body[k:] == b"NEXT"
    for step in (1, 2, 3, 7):
        t = ChunkTracker()
        pos = 0
        end = 0
        while not t.done:
            chunk = body[pos : pos + step]
            end = t.feed(chunk, 0, len(chunk))
            pos += end if t.done else len(chunk)
        assert body[pos:] == b"NEXT", step


@pytest.mark.parametrize(
    "body",
    [b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcX\r\n0\r\n\r\n", b"fffffffffffffffff\r\nabc\r\n", b"80000000\r\n", b"-1\r\n"],
)
def test_chunk_tracker_errors(body):
    with pytest.raises(ChunkError):
        ChunkTracker().feed(body, 0, len(body))


@pytest.mark.parametrize("body", [b"3 \r\nabc\r\n0\r\n\r\n", b"03\r\nabc\r\n0\r\n\r\n", b"3\nabc\n0\n\n"])
def test_chunk_tracker_lenient(body):
    t = ChunkTracker()
    assert t.feed(body, 0, len(body)) == len(body) and t.done


def test_htx_room():
    # haproxy 2.6 accepts a request whose single header value is 15249 bytes, not 15250
    # (and 4 bytes less per extra header line): the HTX room is what counts
    items = [("x-long", "a" * 15249)]
    assert parse.htx_blocks("GET", "/", "HTTP/1.1", items) == 16384 - 1024 - 48
    items = [(f"h{i}", "v") for i in range(9)] + [("x-long", "a" * 15150)]
    assert parse.htx_blocks("GET", "/", "HTTP/1.1", items) == 16384 - 1024 - 48


def test_limits_defaults():
    assert parse.BUFSIZE - parse.MAXREWRITE == 15360 and parse.MAXHDR == 101
