"""``mode http``: what reaches the server and what reaches the client, byte for byte.

Keep-alive and connection reuse, pipelining, the connection header rules of the three
connection modes (HTTP/1.1 and HTTP/1.0 peers), ``option forwardfor`` variants and
``option originalto``, lower-cased header names, bodies with Content-Length and chunked
encoding both ways, bodiless responses, responses without length, interim 1xx, and the
request-smuggling defences (CL+TE, conflicting CL, bad chunk sizes never reach the
server).  Every expectation is what ``haproxy -db`` 2.6 sends for the same exchange
(``GPROXY_TEST_PROXY=haproxy`` runs this file against it).
"""

from __future__ import annotations

import socket

import pytest
from helpers import free_port

from integration.httpkit import OK, RawBackend, exchange, read_response

pytestmark = pytest.mark.timeout(60)


def conf(port: int, backend: RawBackend, options: str = "", backend2: RawBackend | None = None) -> str:
    servers = f"    server s1 127.0.0.1:{backend.port}\n"
    if backend2 is not None:
        servers += f"    server s2 127.0.0.1:{backend2.port}\n"
    return (
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"
        f"listen fe\n    bind 127.0.0.1:{port}\n{options}{servers}"
    )


def start(proxy, backend, options="", backend2=None):
    port = free_port()
    proxy(conf(port, backend, options, backend2), wait_ports=[port])
    return port


# ------------------------------------------------------------------ keep-alive and reuse
def test_keepalive_reuses_server_connection(proxy, backend):
    port = start(proxy, backend)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    for i in range(5):
        s.sendall(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
        head, body = read_response(s)
        assert head == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n" and body == b"ok"
    s.close()
    assert [r.head for r in backend.requests] == [b"GET /%d HTTP/1.1\r\nhost: x\r\n\r\n" % i for i in range(5)]
    assert backend.connections == 1


def test_server_closing_idle_connection_is_not_an_error(proxy, backend):
    # the server answers with "Connection: close": the next request needs a new connection
    backend.respond = lambda req: (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    port = start(proxy, backend)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    for _ in range(3):
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body = read_response(s)
        assert head == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n" and body == b"ok"
    assert backend.connections == 3


def test_roundrobin_alternates_per_request_and_reuses(proxy, backend):
    b2 = RawBackend(lambda req: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
    try:
        port = start(proxy, backend, backend2=b2)
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        got = []
        for _ in range(6):
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got.append(read_response(s)[1])
        assert got == [b"ok", b"OK"] * 3
        assert backend.connections == 1 and b2.connections == 1
    finally:
        b2.stop()


def test_pipelined_requests_answered_in_order(proxy, backend):
    backend.respond = lambda req: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + req.head.split(b" ")[1][1:2] + b" "
    port = start(proxy, backend)
    out = exchange(port, [(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
                          b"POST /3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /4 HTTP/1.1\r\n\r\n")])
    r = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"
    assert out == r + b"1 " + r + b"2 " + r + b"3 " + r + b"4 " + b"<OPEN>"
    assert backend.requests[2].raw == b"POST /3 HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc"


# ------------------------------------------------------------------ connection modes
KAL, SCL, CLO = "", "    option http-server-close\n", "    option httpclose\n"
REQ11 = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
REQ11_CLOSE = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
REQ10 = b"GET / HTTP/1.0\r\n\r\n"
REQ10_KA = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
RSP = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n"


@pytest.mark.parametrize(
    "mode,req,srv_got,cli_got",
    [
        (KAL, REQ11, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", RSP + b"\r\nok<OPEN>"),
        (KAL, REQ11_CLOSE, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", RSP + b"connection: close\r\n\r\nok<EOF>"),
        (KAL, REQ10, b"GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n", RSP + b"connection: close\r\n\r\nok<EOF>"),
        (KAL, REQ10_KA, b"GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n", RSP + b"connection: keep-alive\r\n\r\nok<OPEN>"),
        (SCL, REQ11, b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", RSP + b"\r\nok<OPEN>"),
        (SCL, REQ10, b"GET / HTTP/1.0\r\n\r\n", RSP + b"connection: close\r\n\r\nok<EOF>"),
        (SCL, REQ10_KA, b"GET / HTTP/1.0\r\n\r\n", RSP + b"connection: keep-alive\r\n\r\nok<OPEN>"),
        (CLO, REQ11, b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", RSP + b"connection: close\r\n\r\nok<EOF>"),
        (CLO, REQ10_KA, b"GET / HTTP/1.0\r\n\r\n", RSP + b"connection: close\r\n\r\nok<EOF>"),
        (SCL + "    option http-pretend-keepalive\n", REQ11, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", RSP + b"\r\nok<OPEN>"),
    ],
)
def test_connection_modes(proxy, backend, mode, req, srv_got, cli_got):
    port = start(proxy, backend, mode)
    assert exchange(port, [req]) == cli_got
    assert [r.raw for r in backend.requests] == [srv_got]


def test_connection_tokens_removed_other_tokens_kept(proxy, backend):
    backend.respond = lambda req: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: foo, keep-alive\r\nFoo: 1\r\n\r\nok"
    port = start(proxy, backend, SCL)
    out = exchange(port, [b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, foo\r\nFoo: bar\r\n\r\n"])
    assert backend.requests[0].raw == b"GET / HTTP/1.1\r\nhost: x\r\nconnection: foo\r\nfoo: bar\r\nconnection: close\r\n\r\n"
    assert out == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: foo\r\nfoo: 1\r\n\r\nok<OPEN>"


# ------------------------------------------------------------------ X-Forwarded-For / X-Original-To
@pytest.mark.parametrize(
    "options,req,srv_got",
    [
        ("    option forwardfor\n", b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
         b"GET / HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 1.2.3.4\r\nx-forwarded-for: 127.0.0.1\r\n\r\n"),
        ("    option forwardfor header X-Client if-none\n", b"GET / HTTP/1.1\r\nX-Client: 9.9.9.9\r\n\r\n",
         b"GET / HTTP/1.1\r\nx-client: 9.9.9.9\r\n\r\n"),
        ("    option forwardfor header X-Client if-none\n", b"GET / HTTP/1.1\r\n\r\n",
         b"GET / HTTP/1.1\r\nx-client: 127.0.0.1\r\n\r\n"),
        ("    option forwardfor except 127.0.0.0/8\n", b"GET / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n"),
        ("    option forwardfor except 10.0.0.0/8 header X-Real-IP\n    option originalto\n", b"GET / HTTP/1.0\r\n\r\n",
         b"GET / HTTP/1.0\r\nx-real-ip: 127.0.0.1\r\nx-original-to: 127.0.0.1\r\nconnection: keep-alive\r\n\r\n"),
        ("    option forwardfor\n    option http-server-close\n", b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
         b"POST / HTTP/1.1\r\ncontent-length: 3\r\nx-forwarded-for: 127.0.0.1\r\nconnection: close\r\n\r\nabc"),
    ],
)
def test_forwardfor(proxy, backend, options, req, srv_got):
    port = start(proxy, backend, options)
    exchange(port, [req], wait=0.3)
    assert [r.raw for r in backend.requests] == [srv_got]


# ------------------------------------------------------------------ what is forwarded
@pytest.mark.parametrize(
    "req,srv_got",
    [
        (b"GET / HTTP/1.1\nHost: x\n\n", b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"),
        (b"GET  /a?b  HTTP/1.1\r\nHOST:  x  \r\nX-Y:\tz\t\r\n\r\n", b"GET /a?b HTTP/1.1\r\nhost: x\r\nx-y: z\r\n\r\n"),
        (b"FOO / HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n", b"FOO / HTTP/1.1\r\nx: a    folded\r\n\r\n"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"),
        (b"GET http://a:80/p HTTP/1.1\r\nHost: a\r\n\r\n", b"GET http://a/p HTTP/1.1\r\nhost: a\r\n\r\n"),
        (b"GET / HTTP/1.2\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n"),
    ],
)
def test_request_normalized(proxy, backend, req, srv_got):
    port = start(proxy, backend)
    exchange(port, [req], wait=0.3)
    assert [r.raw for r in backend.requests] == [srv_got]


@pytest.mark.parametrize(
    "rsp,cli_got",
    [
        (b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nokdata", b"HTTP/1.1 200 OK\r\nx: y\r\nconnection: close\r\n\r\nokdata<EOF>"),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok<OPEN>"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
         b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n<OPEN>"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b"HTTP/1.1 204 No Content\r\n\r\n<OPEN>"),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", b"HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n<OPEN>"),
        (b"HTTP/1.1 200 OK\r\nSet-Cookie: a=b\r\nSet-Cookie: c=d\r\nContent-Length: 0\r\n\r\n",
         b"HTTP/1.1 200 OK\r\nset-cookie: a=b\r\nset-cookie: c=d\r\ncontent-length: 0\r\n\r\n<OPEN>"),
    ],
)
def test_response_forwarded(proxy, backend, rsp, cli_got):
    backend.respond = lambda req, r=rsp: ("close", r) if b"okdata" in r else r
    port = start(proxy, backend)
    assert exchange(port, [REQ11]) == cli_got


def test_head_response_has_no_body(proxy, backend):
    backend.respond = lambda req: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    port = start(proxy, backend)
    out = exchange(port, [b"HEAD / HTTP/1.1\r\n\r\n", None, b"HEAD / HTTP/1.1\r\n\r\n"])
    assert out == b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n" * 2 + b"<OPEN>"


def test_interim_100_continue(proxy, backend):
    backend.respond = lambda req: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    port = start(proxy, backend)
    out = exchange(port, [b"POST / HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n", None, b"ok"])
    assert out == b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok<OPEN>"


# ------------------------------------------------------------------ bodies
def test_request_bodies_cl_and_chunked(proxy, backend):
    port = start(proxy, backend)
    out = exchange(port, [b"POST /a HTTP/1.1\r\nContent-Length: 6\r\n\r\nabc", b"def",
                          b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", b"3\r\ndef\r\n0\r\n\r\n"])
    assert out == (OK.replace(b"Content-Length", b"content-length")) * 2 + b"<OPEN>"
    assert backend.requests[0].raw == b"POST /a HTTP/1.1\r\ncontent-length: 6\r\n\r\nabcdef"
    assert backend.requests[1].head == b"POST /b HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n"
    assert backend.requests[1].body == b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"


def test_cl_plus_te_drops_cl_and_closes(proxy, backend):
    port = start(proxy, backend)
    out = exchange(port, [(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"3\r\nabc\r\n0\r\n\r\n")])
    assert out == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok<EOF>"
    assert backend.requests[0].head == b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"


RAW_400 = (b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\n"
           b"Content-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n"
           b"</body></html>\n")


@pytest.mark.parametrize(
    "req",
    [
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nContent-Length: 0x3\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nabc\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        b"GET /a#b HTTP/1.1\r\n\r\n",
    ],
)
def test_smuggling_attempts_never_reach_server(proxy, backend, req):
    port = start(proxy, backend)
    assert exchange(port, [req]) == RAW_400 + b"<EOF>"
    assert backend.requests == [] and backend.connections == 0


def test_forwardfor_ipv6_without_brackets(proxy, backend):
    port = free_port()
    cfg = conf(port, backend, "    option forwardfor\n    option originalto\n").replace(
        f"bind 127.0.0.1:{port}", f"bind [::1]:{port}")
    proxy(cfg, wait_ports=[("::1", port)])
    s = socket.create_connection(("::1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
    read_response(s)
    s.close()
    assert backend.requests[0].raw == b"GET / HTTP/1.1\r\nx-forwarded-for: ::1\r\nx-original-to: ::1\r\n\r\n"
