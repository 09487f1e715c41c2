"""gproxy.http.errors and gproxy.http.keywords: generated pages as HAProxy 2.6 sends
them (captured from ``haproxy -db`` with a raw socket), the connection header rule of its
H1 mux, errorfile parsing, and the compiled forwardfor / limits settings."""

from __future__ import annotations

import pytest

from gproxy.config.model import Global, Proxy
from gproxy.http import errors, keywords

pytestmark = pytest.mark.timeout(10)


def test_raw_mux_pages():
    assert errors.RAW_400 == (
        b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\n"
        b"Content-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid "
        b"request.\n</body></html>\n")
    assert errors.RAW_408.startswith(b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\n")


@pytest.mark.parametrize(
    "code,first,length",
    [
        (403, b"HTTP/1.1 403 Forbidden", 93),
        (404, b"HTTP/1.1 404 Not Found", 83),
        (405, b"HTTP/1.1 405 Method Not Allowed", 146),
        (413, b"HTTP/1.1 413 Payload Too Large", 106),
        (422, b"HTTP/1.1 422 Unprocessable Content", 116),
        (429, b"HTTP/1.1 429 Too Many Requests", 117),
        (500, b"HTTP/1.1 500 Internal Server Error", 97),
        (501, b"HTTP/1.1 501 Not Implemented", 136),
        (502, b"HTTP/1.1 502 Bad Gateway", 107),
        (503, b"HTTP/1.1 503 Service Unavailable", 107),
        (504, b"HTTP/1.1 504 Gateway Time-out", 92),
    ],
)
def test_stream_pages(code, first, length):
    data, ka = errors.default_reply(code).render(True)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head == first + b"\r\ncontent-length: %d\r\ncache-control: no-cache\r\ncontent-type: text/html" % length
    assert len(body) == length and ka


def test_400_408_close_and_keepalive_rules():
    data, ka = errors.default_reply(400).render(True)
    assert b"\r\nconnection: close\r\n\r\n" in data and not ka
    data, ka = errors.default_reply(503).render(True, req_minor=0)
    assert b"\r\nconnection: keep-alive\r\n\r\n" in data and ka
    data, ka = errors.default_reply(503).render(False)
    assert b"\r\nconnection: close\r\n\r\n" in data and not ka
    data, _ = errors.default_reply(503).render(True, head_only=True)
    assert data.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    "ka,req_minor,rsp_minor,hdr",
    [(True, 1, 1, ""), (True, 0, 1, "connection: keep-alive\r\n"), (True, 1, 0, "connection: keep-alive\r\n"),
     (False, 1, 1, "connection: close\r\n"), (False, 1, 0, "")],
)
def test_conn_header(ka, req_minor, rsp_minor, hdr):
    assert errors.conn_header(ka, req_minor, rsp_minor) == hdr


def test_errorfile_replies():
    r = errors.reply_from_raw(b"HTTP/1.1 503 Custom\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nsorry\n")
    data, ka = r.render(True)
    assert data == b"HTTP/1.1 503 Custom\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nsorry\n" and not ka
    r = errors.reply_from_raw(b"HTTP/1.0 400 Custom Bad\r\nContent-Length: 4\r\n\r\nbad\nEXTRA")
    data, ka = r.render(True)
    assert data == b"HTTP/1.0 400 Custom Bad\r\ncontent-length: 4\r\nconnection: keep-alive\r\n\r\nbad\n" and ka


def test_empty_errorfile_is_an_empty_reply():
    r = errors.reply_from_raw(b"", 503)
    assert isinstance(r, errors.EmptyReply) and r.status == 503
    assert r.render(True) == (b"", False)  # nothing sent, the connection closes
    fe = Proxy("frontend", "fe")
    fe.errorfiles[503] = b""
    assert isinstance(errors.reply(503, None, fe), errors.EmptyReply)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", None),
        (b"HTTP/1.0 503 X\r\n\r\nbody until close", None),
        (b"HTTP/1.1 101 X\r\n\r\n", None),
        (b"HTTP/1.1 304 X\r\nContent-Length: 5\r\n\r\n", None),
        (b"HTTP/1.0 503 X\r\nContent-Length: 10\r\n\r\nabc",
         "payload size does not match the announced content-length (3 != 10)"),
        (b"HTTP/1.0 503 X\r\nContent-Length: 0\r\n\r\nabc", "message payload not expected"),
        (b"HTTP/1.0 204 X\r\n\r\nabc", "message payload not expected"),
        (b"HTTP/1.0 503 X\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "chunk-encoded payload not supported"),
        (b"HTTP/1.1 100 X\r\n\r\n", "invalid http status code for an error message (100)"),
        (b"HTTP/1.10 503 X\r\n\r\n", "invalid http version (HTTP/1.10)"),
        (b"HTTP/1.0 503 X\r\nContent-Length: 3\r\n", "unable to parse headers (error offset: -2)"),
        (b"garbage", "unable to parse headers (error offset: 0)"),
    ],
)
def test_check_errorfile_as_http_str_to_htx(raw, why):
    assert errors.check_errorfile(raw) == why


def test_reply_lookup_order():
    be, fe = Proxy("backend", "be"), Proxy("frontend", "fe")
    fe.errorfiles[503] = b"HTTP/1.1 503 FE\r\nContent-Length: 0\r\n\r\n"
    assert errors.reply(503, be, fe).reason == "FE"
    be.errorfiles[503] = b"HTTP/1.1 503 BE\r\nContent-Length: 0\r\n\r\n"
    assert errors.reply(503, be, fe).reason == "BE"
    assert errors.reply(502, be, fe).reason == "Bad Gateway"
    assert errors.reply(999).status == 500


def test_forward_spec_rules():
    fe, be = Proxy("frontend", "fe"), Proxy("backend", "be")
    assert keywords.forward_spec(fe, be, "forwardfor") is None
    fe.forwardfor = {"header": "X-Forwarded-For", "except": "10.0.0.0/8", "if-none": True}
    ff = keywords.forward_spec(fe, be, "forwardfor")
    assert ff.header == "X-Forwarded-For" and ff.if_none and ff.skip("10.1.2.3") and not ff.skip("127.0.0.1")
    be.forwardfor = {"header": "X-Real-IP", "except": None, "if-none": False}
    ff = keywords.forward_spec(fe, be, "forwardfor")
    assert ff.header == "X-Real-IP" and not ff.if_none and ff.skip("10.1.2.3")
    assert ff.skip("::ffff:10.0.0.1") and not ff.skip("::1")


def test_limits():
    lim = keywords.Limits(Global())
    assert (lim.bufsize, lim.maxrewrite, lim.maxreq, lim.maxhead, lim.maxhdr) == (16384, 1024, 15360, 15312, 101)
    g = Global()
    g.tune.update({"bufsize": 8192, "maxrewrite": 8000, "http.maxhdr": 10})
    lim = keywords.Limits(g)
    assert (lim.maxrewrite, lim.maxreq, lim.maxhdr) == (4096, 4096, 10)
