"""``option httplog`` in ``mode http``: one line per request (keep-alive included), each
field as HAProxy 2.6 fills it -- backend/server, timers, status, ``%B`` counted the way
HAProxy's HTX counts it (a 20-byte start-line structure plus the start-line strings,
names and values, one byte per end-of-headers and per chunked end, and the payload),
the 4-character termination state, the connection counters taken after the
transaction, captured headers and the request line.
"""

from __future__ import annotations

import socket

import pytest
from helpers import free_port, wait_for

from integration.httpkit import RawBackend, parse_httplog, read_response

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def backend():
    b = RawBackend(lambda req: b"HTTP/1.1 200 OK\r\nServer: test\r\nContent-Length: 5\r\n\r\nhello")
    yield b
    b.stop()


def start(proxy, syslog, backend, extra=""):
    port = free_port()
    cfg = (f"global\n    log 127.0.0.1:{syslog.port} local0\n"
           "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n"
           "    timeout client 5s\n    timeout server 5s\n"
           f"frontend web\n    bind 127.0.0.1:{port}\n{extra}    default_backend app\n"
           f"backend app\n    server a1 127.0.0.1:{backend.port}\n")
    proxy(cfg, wait_ports=[port])
    return port


def lines(syslog, n):
    def got():
        found = [parse_httplog(x) for x in syslog.lines]
        found = [x for x in found if x]
        return found if len(found) >= n else None
    return wait_for(got, timeout=5, what=f"{n} httplog lines")


def test_one_line_per_request(proxy, syslog, backend):
    port = start(proxy, syslog, backend)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    cport = s.getsockname()[1]
    for path in (b"/a", b"/b?x=1", b"/c"):
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        read_response(s)
    s.close()
    logs = lines(syslog, 3)
    assert [f["r"] for f in logs] == ["GET /a HTTP/1.1", "GET /b?x=1 HTTP/1.1", "GET /c HTTP/1.1"]
    for f in logs:
        assert (f["ci"], int(f["cp"]), f["ft"], f["b"], f["s"]) == ("127.0.0.1", cport, "web", "app", "a1")
        assert f["ST"] == "200" and f["tsc"] == "----" and f["CC"] == "-" and f["CS"] == "-"
        # 20 + len("HTTP/1.1" "200" "OK") + len("server" "test") + len("content-length" "5") + 1 + 5
        assert f["B"] == str(20 + 13 + 10 + 15 + 1 + 5)
        assert all(int(f[k]) >= 0 for k in ("TR", "Tw", "Tc", "Tr", "Ta"))
        assert (f["ac"], f["fc"], f["bc"], f["sc"], f["rc"], f["sq"], f["bq"]) == ("1", "1", "0", "0", "0", "0", "0")
        assert f["hr"] is None and f["hs"] is None


def test_captures(proxy, syslog, backend):
    port = start(proxy, syslog, backend,
                 "    capture request header Host len 5\n    capture request header User-Agent len 20\n"
                 "    capture response header Server len 10\n")
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: longhostname\r\nUser-Agent: curl/8\r\n\r\n")
    read_response(s)
    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
    read_response(s)
    s.close()
    f1, f2 = lines(syslog, 2)
    assert (f1["hr"], f1["hs"]) == ("{longh|curl/8}", "{test}")
    assert (f2["hr"], f2["hs"]) == ("{|}", "{test}")


def test_chunked_response_bytes(proxy, syslog, backend):
    backend.respond = lambda req: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3\r\nabc\r\n0\r\n\r\n"
    port = start(proxy, syslog, backend)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
    got = b""
    while not got.endswith(b"0\r\n\r\n"):
        got += s.recv(4096)
    s.close()
    (f,) = lines(syslog, 1)
    # 20 + 13 + len("transfer-encoding" "chunked") + 1 + 5 payload bytes + 1 (end of chunks)
    assert f["B"] == str(20 + 13 + 24 + 1 + 5 + 1)


def _refused(port: int, path: bytes) -> bytes:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    out = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        out += d
    s.close()
    return out


def test_tcp_request_content_reject_frontend_and_backend(proxy, syslog, backend):
    """tcp-request content rules in mode http: the frontend's refuse before the request is
    an HTTP request for HAProxy ("<BADREQ>"), a backend's run for each request before its
    http-request rules; both close without an answer and log PR-- with Tq -1 (haproxy 2.6)."""
    port = free_port()
    cfg = (f"global\n    log 127.0.0.1:{syslog.port} local0\n"
           "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n"
           "    timeout client 5s\n    timeout server 5s\n"
           f"frontend web\n    bind 127.0.0.1:{port}\n"
           "    tcp-request content reject if { path_beg /frej }\n    default_backend app\n"
           "backend app\n    tcp-request content reject if { path_beg /brej }\n"
           f"    server a1 127.0.0.1:{backend.port}\n")
    proxy(cfg, wait_ports=[port])
    assert _refused(port, b"/frej") == b""
    assert _refused(port, b"/brej") == b""
    logs = lines(syslog, 2)
    got = [(f["b"], f["s"], f["TR"], f["ST"], f["B"], f["tsc"], f["r"]) for f in logs]
    assert got == [("web", "<NOSRV>", "-1", "-1", "0", "PR--", "<BADREQ>"),
                   ("app", "<NOSRV>", "-1", "-1", "0", "PR--", "GET /brej HTTP/1.1")]
