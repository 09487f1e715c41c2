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


# ------------------------------------------------------------------ HAProxy 2.6's H1 parser, byte rules
# (each case observed with haproxy 2.6 -db: what the server received, or the status)
@pytest.mark.parametrize(
    "raw,lax,out",
    [
        # SP or HT between the words of the request line, any number of them
        (b"GET\t/tab\tHTTP/1.1\r\nHost: x\r\n\r\n", False, b"GET /tab HTTP/1.1\r\nhost: x\r\n\r\n"),
        (b"GET \t/t \tHTTP/1.1\r\n\r\n", True, b"GET /t HTTP/1.1\r\n\r\n"),
        # DEL / 0x80..0xa3 pass where the 4-byte URI speedup skips them (a word with valid bytes)
        (b"GET /a\x7fb HTTP/1.1\r\n\r\n", False, b"GET /a\x7fb HTTP/1.1\r\n\r\n"),
        (b"GET /\x7f\x7f\x7f HTTP/1.1\r\n\r\n", False, b"GET /\x7f\x7f\x7f HTTP/1.1\r\n\r\n"),
        (b"GET /a\x80b HTTP/1.1\r\n\r\n", False, b"GET /a\x80b HTTP/1.1\r\n\r\n"),
        (b"GET /a\xa3b HTTP/1.1\r\n\r\n", False, b"GET /a\xa3b HTTP/1.1\r\n\r\n"),
        (b"GET /a\xa4b HTTP/1.1\r\n\r\n", True, b"GET /a\xa4b HTTP/1.1\r\n\r\n"),
        (b"GET /x#y HTTP/1.1\r\n\r\n", True, b"GET /x#y HTTP/1.1\r\n\r\n"),
        # versions: 1.1 by HAProxy's test of the 6th and 8th characters, else 1.0
        (b"GET /vg HTTX/1.1\r\nHost: x\r\n\r\n", True, b"GET /vg HTTP/1.1\r\nhost: x\r\n\r\n"),
        (b"GET / ABCDEFGH\r\n\r\n", True, b"GET / HTTP/1.1\r\n\r\n"),
        (b"GET / HTTP/3.7\r\n\r\n", False, b"GET / HTTP/1.1\r\n\r\n"),
        (b"GET / HTTP/1\r\n\r\n", True, b"GET / HTTP/1\r\n\r\n"),  # not 1.1: forwarded as written
        (b"GET / HTTP/0.9\r\n\r\n", False, b"GET / HTTP/0.9\r\n\r\n"),
        (b"GET / HTTX/1.0\r\n\r\n", True, b"GET / HTTX/1.0\r\n\r\n"),
        (b"GET / HTTP/1.10\r\n\r\n", True, b"GET / HTTP/1.10\r\n\r\n"),
        (b"GET / HTTP/2.0\r\n\r\n", False, b"GET / HTTP/1.1\r\n\r\n"),  # counts as 1.1
        # HTTP/0.9 (lax): a GET with a URI becomes HTTP/1.0; the request ends with its line
        (b"GET /nov\r\nHost: example.com\r\n\r\n", True, b"GET /nov HTTP/1.0\r\n\r\n"),
        (b"GET /nov \r\n\r\n", True, b"GET /nov HTTP/1.0\r\n\r\n"),
        # lax header names: any byte but the colon (ASCII letters lower-cased only)
        (b"GET / HTTP/1.1\r\nFoo Bar: x\r\n\r\n", True, b"GET / HTTP/1.1\r\nfoo bar: x\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nX-Sp : x\r\n\r\n", True, b"GET / HTTP/1.1\r\nx-sp : x\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nX\x00Y\x01(: a\r\n\r\n", True, b"GET / HTTP/1.1\r\nx\x00y\x01(: a\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nX\rY: a\r\n\r\n", True, b"GET / HTTP/1.1\r\nx\ry: a\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nX-\xc9: a\r\n\r\n", True, b"GET / HTTP/1.1\r\nx-\xc9: a\r\n\r\n"),
        (b"GET / HTTP/1.1\r\n X: y\r\nHost: x\r\n\r\n", True, b"GET / HTTP/1.1\r\n x: y\r\nhost: x\r\n\r\n"),
        # folding: CRLF -> two spaces, bare LF -> one, the SP/HT of the next line kept
        (b"GET / HTTP/1.1\r\nX: a\n b\r\nX2: a\r\n\tb\n  c\r\n\r\n", False,
         b"GET / HTTP/1.1\r\nx: a  b\r\nx2: a  \tb   c\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nX:\r\n b\r\n\r\n", False, b"GET / HTTP/1.1\r\nx: b\r\n\r\n"),
    ],
)
def test_h1_parser_forwarded(raw, lax, out):
    r, _ = req(raw, lax)
    assert r.head_bytes() == out


@pytest.mark.parametrize(
    "raw,lax",
    [
        (b"GE(T /m HTTP/1.1\r\n\r\n", True),  # the method is a token even with lax
        (b"G\x7fT /m HTTP/1.1\r\n\r\n", True),
        (b"GET /abc\x7f HTTP/1.1\r\n\r\n", False),  # DEL in a word with the SP: byte check
        (b"GET /abc\x7f HTTP/1.1\r\n\r\n", True),
        (b"GET /\x7f\x7f\x7f\x7f HTTP/1.1\r\n\r\n", True),  # a word of DEL only is not skipped
        (b"GET /xx\x7f\x7f\x7f\x7f\x7fa HTTP/1.1\r\n\r\n", False),
        (b"GET /a\xa4b HTTP/1.1\r\n\r\n", False),
        (b"GET /a\x01b HTTP/1.1\r\n\r\n", True),
        (b"GET /a\x0bb HTTP/1.1\r\n\r\n", True),
        (b"GET /vg HTTX/1.1\r\n\r\n", False),
        (b"GET / HTTP/1\r\n\r\n", False),
        (b"GET / http/1.1\r\n\r\n", True),  # lower case is no version token
        (b"GET / HTTP/1.1 \r\n\r\n", True),  # nothing after the version
        (b"GET /a b HTTP/1.1\r\n\r\n", True),
        (b"GET /nov\r\nHost: x\r\n\r\n", False),  # HTTP/0.9 without lax
        (b"POST /nov\r\n\r\n", True),  # HTTP/0.9: GET only
        (b"GET \r\n\r\n", True),  # HTTP/0.9: a URI is required
        (b"GET\r\nHost: x\r\n\r\n", True),
        (b"get /\r\n\r\n", True),
        # a CR not followed by LF: refused, but inside a lax header name
        (b"GET / HTTP/1.1\r\nX-Cr: a\rb\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\nX-Cr: a\rb\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nX-Cr: ab\r\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nX\rY: a\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\nX: a\n\rY: b\r\n\r\n", True),
        (b"GET / HTTP/1.1\rHost: x\r\n\r\n", True),
        (b"GET /a\rb HTTP/1.1\r\n\r\n", True),
        # names: a token without lax; never empty; a line without colon is not folded into
        (b"GET / HTTP/1.1\r\nFoo Bar: x\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\n X: y\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\n: a\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nHost: x\r\nFoo\r\n : bar\r\n\r\n", True),
    ],
)
def test_h1_parser_rejected(raw, lax):
    with pytest.raises(ParseError) as ei:
        req(raw, lax)
    assert ei.value.status == 400


def test_response_bare_cr():
    with pytest.raises(ParseError) as ei:
        rsp(b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n")
    assert ei.value.status == 502


@pytest.mark.parametrize(
    "buf,expect",
    [
        (b"GET /\r\n", (5, 7)),  # HTTP/0.9: the request is its line (answered at once)
        (b"GET /\n", (5, 6)),
        (b"GET /nov\r\nHost: x", (8, 10)),
        (b"G(T / HTTP/1.1\r\nHost", (14, 16)),  # an invalid line: refused at once
        (b"GET / HTTP/1.1\r\nHost: x\r\n", (-1, -1)),  # a head still coming
        (b"GET /", (-1, -1)),
    ],
)
def test_head_end_09(buf, expect):
    assert parse.head_end_09(buf) == expect


# ------------------------------------------------------------------ chunked trailers
def _through(body: bytes, step: int) -> tuple[bytes, bytes]:
    t = ChunkTracker()
    out = b""
    pos = 0
    while not t.done and pos < len(body):
        piece = body[pos : pos + step]
        k = t.feed(piece, 0, len(piece))
        out += t.forward(piece, 0, k)
        pos += k
    return out, body[pos:]


@pytest.mark.parametrize(
    "body,out",
    [
        # haproxy 2.6 forwards trailers rebuilt: names lower-cased, values trimmed, CRLF
        (b"4;name=val\r\nWiki\r\n0\r\nX-Trailer: t1\r\n\r\n", b"4;name=val\r\nWiki\r\n0\r\nx-trailer: t1\r\n\r\n"),
        (b"3\r\nabc\r\n0\r\nX-T:  a \r\n  b\r\nFoo Bar: \xc9\r\nX-Tab:\tv\n\r\n",
         b"3\r\nabc\r\n0\r\nx-t: a     b\r\nfoo bar: \xc9\r\nx-tab: v\r\n\r\n"),
        (b"3\r\nabc\r\n0\r\n\r\n", b"3\r\nabc\r\n0\r\n\r\n"),
    ],
)
def test_chunk_trailers_rebuilt(body, out):
    for step in (1, 2, 3, 7, len(body)):
        assert _through(body + b"NEXT", step) == (out, b"NEXT"), step


def test_chunk_trailers_pass_through_without_trailers():
    body = b"3\r\nabc\r\n0\r\n\r\n"
    t = ChunkTracker()
    assert t.feed(body, 0, len(body)) == len(body) and t.done and t.hold == -1


@pytest.mark.parametrize("body", [b"0\r\nBad\r\n\r\n", b"0\r\n: x\r\n\r\n", b"0\r\nX: a\rb\r\n\r\n"])
def test_chunk_trailers_invalid(body):
    with pytest.raises(ChunkError):
        ChunkTracker().feed(body, 0, len(body))


# ------------------------------------------------------------------ llhttp fast path == HAProxy's rules
def _random_head(rnd) -> bytes:
    """A request head, valid for llhttp most of the time, with odd bytes here and there."""
    odd = rnd.random() < 0.3
    methods = ["GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH", "M-SEARCH"] + (["get", "FOO"] if odd else [])
    uri_chars = [chr(c) for c in range(0x21, 0x7F)] + (["\x7f", "\x80", "\xe9", "\t", " "] if odd else [])
    name_chars = list("abcXYZ-_09!#$%&'*+.^`|~") + ([" ", "(", "@", "\x00", "\xc9"] if odd else [])
    value_chars = list("abc XYZ,;=09:/\"\t\x80\xe9\xff") + (["\x00", "\x01", "\x7f", "\x0b"] if odd else [])
    versions = ["HTTP/1.1"] * 6 + ["HTTP/1.0"] * 3 + (["HTTP/1.2", "HTTP/2.0", "HTTX/1.1", "HTTP/0.9", ""] if odd else [])

    def word(chars, lo, hi):
        return "".join(rnd.choice(chars) for _ in range(rnd.randint(lo, hi)))

    uri = rnd.choice(["/", "/", "*", "http://a.example/", "/p?q=1"]) + word(uri_chars, 0, 8)
    line = rnd.choice(methods) + rnd.choice([" ", " ", " ", "  ", "\t"] if odd else [" ", " ", "  "]) + uri
    version = rnd.choice(versions)
    if version:
        line += rnd.choice([" ", " ", "  "]) + version
    lines = [line]
    for _ in range(rnd.randint(0, 5)):
        name = rnd.choice(["Host", "X-A", "Accept", "Cookie", "x-b"]) if rnd.random() < 0.6 else word(name_chars, 1, 6)
        sep = rnd.choice([":", ": ", ": ", ":\t", ":  "] + ([" :", ""] if odd else []))
        lines.append(name + sep + word(value_chars, 0, 10) + rnd.choice(["", "", " ", "\t"]))
    return "\r\n".join(lines).encode("latin-1")


@pytest.mark.parametrize("lax", [False, True])
def test_llhttp_path_matches_haproxy_rules(lax):
    """Whatever head llhttp takes (``_llhttp_request`` not None), HAProxy's rules in
    ``_tokenize_request`` give the same request."""
    import random

    rnd = random.Random(20240607 + lax)
    taken = 0
    for _ in range(600):
        data = _random_head(rnd)
        fast = parse._llhttp_request(data, lax)
        if fast is None:
            continue
        taken += 1
        assert tuple(fast[:5]) == parse._tokenize_request(data, lax), data
    assert taken >= 150, taken


@pytest.mark.parametrize(
    ("line", "host", "ok"),
    [  # haproxy 2.6.12: a URI that is neither origin-form, '*' nor absolute is an authority
        (b"GET ;R&F HTTP/1.1", b"x", False),
        (b"GET foo HTTP/1.1", b"x", False),
        (b"GET foo HTTP/1.1", b"foo", True),
        (b"GET foo:80 HTTP/1.1", b"foo:80", True),
        (b"GET foo:80 HTTP/1.1", b"foo", False),  # no scheme: no default port to drop
        (b"GET foo/bar HTTP/1.1", b"foo", True),  # the authority ends at the first '/'
        (b"GET foo HTTP/1.1", None, True),
        (b"OPTIONS x HTTP/1.1", b"x", True),
        (b"GET a?b HTTP/1.1", b"a", False),
    ],
)
def test_authority_form_uri_must_match_host(line: bytes, host: bytes | None, ok: bool) -> None:
    data = line + (b"\r\nHost: " + host if host else b"")
    if ok:
        parse.parse_request(data)
    else:
        with pytest.raises(parse.ParseError) as e:
            parse.parse_request(data)
        assert e.value.status == 400
