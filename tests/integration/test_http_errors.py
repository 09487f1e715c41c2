"""``mode http``: responses the proxy generates itself, byte for byte, and their log lines.

400 (bad request, limits), 408 (``timeout http-request``), 502 (bad or missing response),
503 (no server, refused), 504 (``timeout server``), ``errorfile``/``http-errors``, the
head size limits (``tune.bufsize - tune.maxrewrite`` as HAProxy's HTX counts it, 101
header lines) -- each checked against ``haproxy -db`` 2.6.
"""

from __future__ import annotations

import pytest
from helpers import free_port

from integration.httpkit import OK, exchange, parse_httplog

pytestmark = pytest.mark.timeout(60)


def page(code: int, reason: str, text: str, close: str = "") -> bytes:
    body = f"<html><body><h1>{code} {reason}</h1>\n{text}\n</body></html>\n".encode()
    return (f"HTTP/1.1 {code} {reason}\r\ncontent-length: {len(body)}\r\ncache-control: no-cache\r\n"
            f"content-type: text/html\r\n{close}\r\n").encode() + body


def raw_page(code: int, reason: str, text: str) -> bytes:
    body = f"<html><body><h1>{code} {reason}</h1>\n{text}\n</body></html>\n".encode()
    return (f"HTTP/1.1 {code} {reason}\r\nContent-length: {len(body)}\r\nCache-Control: no-cache\r\n"
            "Connection: close\r\nContent-Type: text/html\r\n\r\n").encode() + body


RAW_400 = raw_page(400, "Bad request", "Your browser sent an invalid request.")
RAW_408 = raw_page(408, "Request Time-out", "Your browser didn't send a complete request in time.")
P502 = page(502, "Bad Gateway", "The server returned an invalid or incomplete response.")
P503 = page(503, "Service Unavailable", "No server is available to handle this request.")
P504 = page(504, "Gateway Time-out", "The server didn't respond in time.")
OK_RSP = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


def conf(port: int, syslog_port: int, backend_port: int, extra: str = "", glob: str = "") -> str:
    return (
        f"global\n    log 127.0.0.1:{syslog_port} local0\n{glob}"
        "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n"
        "    timeout client 5s\n    timeout server 2s\n"
        f"frontend fe\n    bind 127.0.0.1:{port}\n{extra}"
        "    use_backend bslow if { path /slow }\n"
        "    use_backend brefused if { path /refused }\n"
        "    use_backend bnosrv if { path /nosrv }\n"
        "    default_backend be\n"
        f"backend be\n    server s1 127.0.0.1:{backend_port}\n"
        f"backend bslow\n    timeout server 300\n    server s1 127.0.0.1:{backend_port}\n"
        f"backend brefused\n    retries 0\n    server s1 127.0.0.1:{free_port()}\n"
        "backend bnosrv\n    server s1 127.0.0.1:1 disabled\n"
    )


def start(proxy, syslog, backend, extra="", glob=""):
    port = free_port()
    proxy(conf(port, syslog.port, backend.port, extra, glob), wait_ports=[port])
    return port


def log_of(syslog, start: int = 0, n: int = 1) -> list[dict]:
    from helpers import wait_for

    def got():
        lines = [parse_httplog(ln) for ln in syslog.lines[start:]]
        lines = [x for x in lines if x]
        return lines if len(lines) >= n else None

    return wait_for(got, timeout=5, what=f"{n} httplog line(s)")


# ------------------------------------------------------------------ 400 / 408
def test_400_bad_request_raw_page_and_log(proxy, syslog, backend):
    port = start(proxy, syslog, backend)
    assert exchange(port, [b"GARBAGE\r\n\r\n"]) == RAW_400 + b"<EOF>"
    (f,) = log_of(syslog)
    assert (f["b"], f["s"], f["TR"], f["Tw"], f["Tc"], f["Tr"], f["ST"], f["B"], f["tsc"], f["r"]) == (
        "fe", "<NOSRV>", "-1", "-1", "-1", "-1", "400", "0", "PR--", "<BADREQ>")


def test_400_when_client_closes_before_a_request(proxy, syslog, backend):
    port = start(proxy, syslog, backend)
    assert exchange(port, [b"GET / HTTP/1.1\r\n"], shut=True) == RAW_400 + b"<EOF>"
    (f,) = log_of(syslog)
    assert (f["ST"], f["tsc"], f["r"]) == ("400", "CR--", "<BADREQ>")


def test_408_request_timeout(proxy, syslog, backend):
    port = start(proxy, syslog, backend, "    timeout http-request 300\n")
    assert exchange(port, [b"GET / HTTP/1.1\r\n"], wait=2) == RAW_408 + b"<EOF>"
    (f,) = log_of(syslog)
    assert (f["ST"], f["B"], f["tsc"], f["TR"], f["r"]) == ("408", "0", "cR--", "-1", "<BADREQ>")
    assert 250 <= int(f["Ta"]) <= 1000


def test_keepalive_idle_timeout_closes_silently(proxy, syslog, backend):
    port = start(proxy, syslog, backend, "    timeout http-keep-alive 300\n")
    assert exchange(port, [b"GET / HTTP/1.1\r\n\r\n"], wait=2) == OK_RSP + b"<EOF>"
    assert len(log_of(syslog)) == 1


# ------------------------------------------------------------------ 502 / 503 / 504
def test_502_invalid_response_keeps_client_connection(proxy, syslog, backend):
    backend.respond = lambda req: b"BLAH\r\n\r\n" if b"/bad" in req.head else OK
    port = start(proxy, syslog, backend)
    out = exchange(port, [b"GET /bad HTTP/1.1\r\n\r\n", None, b"GET /ok HTTP/1.1\r\n\r\n"])
    assert out == P502 + OK_RSP + b"<OPEN>"
    f1, f2 = log_of(syslog, n=2)
    assert (f1["ST"], f1["B"], f1["tsc"], f1["Tr"], f1["s"]) == ("502", "209", "PH--", "-1", "s1")
    assert (f2["ST"], f2["tsc"]) == ("200", "----")


def test_502_server_closes_before_response(proxy, syslog, backend):
    backend.respond = lambda req: None
    port = start(proxy, syslog, backend)
    assert exchange(port, [b"GET / HTTP/1.1\r\n\r\n"]) == P502 + b"<OPEN>"
    (f,) = log_of(syslog)
    assert (f["ST"], f["tsc"]) == ("502", "SH--")


def test_504_server_timeout(proxy, syslog, backend):
    backend.respond = lambda req: ("sleep", 1.5)
    port = start(proxy, syslog, backend)
    assert exchange(port, [b"GET /slow HTTP/1.1\r\n\r\n"], wait=1.2) == P504 + b"<OPEN>"
    (f,) = log_of(syslog)
    assert (f["b"], f["ST"], f["B"], f["tsc"], f["Tr"]) == ("bslow", "504", "198", "sH--", "-1")


def test_503_connection_refused(proxy, syslog, backend):
    port = start(proxy, syslog, backend)
    assert exchange(port, [b"GET /refused HTTP/1.1\r\n\r\n"]) == P503 + b"<OPEN>"
    (f,) = log_of(syslog)
    assert (f["b"], f["s"], f["ST"], f["tsc"], f["Tc"]) == ("brefused", "s1", "503", "SC--", "-1")


def test_503_no_server(proxy, syslog, backend):
    port = start(proxy, syslog, backend)
    out = exchange(port, [b"GET /nosrv HTTP/1.0\r\n\r\n"])
    assert out == P503.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n", 1) + b"<EOF>"
    (f,) = log_of(syslog)
    assert (f["b"], f["s"], f["ST"], f["B"], f["tsc"]) == ("bnosrv", "<NOSRV>", "503", "217", "SC--")


# ------------------------------------------------------------------ errorfile / http-errors
def test_errorfiles(proxy, syslog, backend, tmp_path):
    f503 = tmp_path / "503.http"
    f503.write_bytes(b"HTTP/1.1 503 Custom\r\nContent-Type: text/plain\r\nX-Foo: Bar\r\nConnection: close\r\n\r\nsorry\n")
    f502 = tmp_path / "502.http"
    f502.write_bytes(b"HTTP/1.0 502 Nope\r\nContent-Length: 4\r\n\r\nnope")
    extra = f"    errorfile 503 {f503}\n    errorfiles myerrs\n"
    glob = ""
    port = free_port()
    cfg = conf(port, syslog.port, backend.port, extra, glob) + f"http-errors myerrs\n    errorfile 502 {f502}\n"
    proxy(cfg, wait_ports=[port])
    assert exchange(port, [b"GET /nosrv HTTP/1.1\r\n\r\n"]) == (
        b"HTTP/1.1 503 Custom\r\ncontent-type: text/plain\r\nx-foo: Bar\r\nconnection: close\r\n\r\nsorry\n<EOF>")
    backend.respond = lambda req: b"BLAH\r\n\r\n"
    assert exchange(port, [b"GET / HTTP/1.1\r\n\r\n"]) == (
        b"HTTP/1.0 502 Nope\r\ncontent-length: 4\r\nconnection: keep-alive\r\n\r\nnope<OPEN>")
    # a bad request is answered by the mux with its own page, whatever the errorfiles
    assert exchange(port, [b"GARBAGE\r\n\r\n"]) == RAW_400 + b"<EOF>"
    logs = log_of(syslog, n=3)
    assert [x["ST"] for x in logs] == ["503", "502", "400"]


def test_empty_errorfile_sends_nothing_and_closes(proxy, syslog, backend, tmp_path):
    """An empty error file is an empty message: nothing at all is sent, the connection is
    closed, the log has the status (haproxy -c accepts such files without a word)."""
    empty = tmp_path / "empty.http"
    empty.write_bytes(b"")
    extra = (f"    errorfile 503 /dev/null\n    errorfile 403 {empty}\n"
             "    http-request deny if { path /deny }\n"
             "    http-request return status 503 errorfile /dev/null if { path /ret }\n")
    port = start(proxy, syslog, backend, extra)
    assert exchange(port, [b"GET /nosrv HTTP/1.1\r\n\r\n"]) == b"<EOF>"
    assert exchange(port, [b"GET /deny HTTP/1.1\r\n\r\n"]) == b"<EOF>"
    assert exchange(port, [b"GET /ret HTTP/1.1\r\n\r\n"]) == b"<EOF>"
    logs = log_of(syslog, n=3)
    assert [(x["ST"], x["tsc"]) for x in logs] == [("503", "SC--"), ("403", "PR--"), ("503", "LR--")]
    assert [x["B"] for x in logs] == ["0", "0", "0"]


def test_errorfiles_of_http_replies_and_http_error(proxy, syslog, backend, tmp_path):
    """``deny``/``return`` ... ``errorfiles <name>``: the section's page for the reply's
    status, or an empty reply when the section does not declare it; ``http-error status N
    errorfiles <name>`` / ``default-errorfiles`` as the proxy's page for N."""
    f503 = tmp_path / "503.http"
    f503.write_bytes(b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nbad")
    f502 = tmp_path / "502.http"
    f502.write_bytes(b"HTTP/1.0 502 Nope\r\nContent-Length: 4\r\n\r\nnope")
    own = tmp_path / "own.http"
    own.write_bytes(b"HTTP/1.0 403 Own\r\nContent-Length: 3\r\n\r\nown")
    extra = (f"    errorfile 403 {own}\n    errorfile 503 {own}\n"
             "    http-error status 502 errorfiles myerrs\n"
             "    http-error status 503 default-errorfiles\n"
             "    http-request deny errorfiles myerrs if { path /d403 }\n"
             "    http-request return status 503 errorfiles myerrs if { path /r503 }\n")
    port = free_port()
    cfg = conf(port, syslog.port, backend.port, extra) + f"http-errors myerrs\n    errorfile 503 {f503}\n" \
        f"    errorfile 502 {f502}\n"
    proxy(cfg, wait_ports=[port])
    assert exchange(port, [b"GET /d403 HTTP/1.1\r\n\r\n"]) == b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n<OPEN>"
    assert exchange(port, [b"GET /r503 HTTP/1.1\r\n\r\n"]) == (
        b"HTTP/1.0 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n"
        b"connection: keep-alive\r\n\r\nbad<OPEN>")
    assert exchange(port, [b"GET /nosrv HTTP/1.1\r\n\r\n"]) == P503 + b"<OPEN>"
    backend.respond = lambda req: b"BLAH\r\n\r\n"
    assert exchange(port, [b"GET / HTTP/1.1\r\n\r\n"]) == (
        b"HTTP/1.0 502 Nope\r\ncontent-length: 4\r\nconnection: keep-alive\r\n\r\nnope<OPEN>")


# ------------------------------------------------------------------ limits
def test_request_head_limit_counts_like_htx(proxy, syslog, backend):
    port = start(proxy, syslog, backend)
    ok = b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 15249 + b"\r\n\r\n"
    assert exchange(port, [ok]) == OK_RSP + b"<OPEN>"
    too_big = b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 15250 + b"\r\n\r\n"
    assert exchange(port, [too_big]) == RAW_400 + b"<EOF>"
    ten = b"GET / HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(9)) + b"X-Long: " + b"a" * 15151 + b"\r\n\r\n"
    assert exchange(port, [ten]) == RAW_400 + b"<EOF>"


def test_header_count_limit(proxy, syslog, backend):
    port = start(proxy, syslog, backend)
    hdrs = b"".join(b"X%d: y\r\n" % i for i in range(100))
    assert exchange(port, [b"GET / HTTP/1.1\r\n" + hdrs + b"\r\n"]) == OK_RSP + b"<OPEN>"
    assert exchange(port, [b"GET / HTTP/1.1\r\n" + hdrs + b"X: y\r\n\r\n"]) == RAW_400 + b"<EOF>"
    backend.respond = lambda req: b"HTTP/1.1 200 OK\r\n" + hdrs + b"Content-Length: 0\r\n\r\n"
    assert exchange(port, [b"GET / HTTP/1.1\r\n\r\n"]) == P502 + b"<OPEN>"


def test_response_head_limit(proxy, syslog, backend):
    port = start(proxy, syslog, backend)
    backend.respond = lambda req: b"HTTP/1.1 200 OK\r\nX: " + b"a" * 17000 + b"\r\nContent-Length: 0\r\n\r\n"
    assert exchange(port, [b"GET / HTTP/1.1\r\n\r\n"]) == P502 + b"<OPEN>"
    backend.respond = lambda req: b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 15225 + b"\r\nContent-Length: 2\r\n\r\nok"
    out = exchange(port, [b"GET / HTTP/1.1\r\n\r\n"])
    assert out.startswith(b"HTTP/1.1 200 OK\r\nx-long: aaa") and out.endswith(b"ok<OPEN>")
    backend.respond = lambda req: b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 15226 + b"\r\nContent-Length: 2\r\n\r\nok"
    assert exchange(port, [b"GET / HTTP/1.1\r\n\r\n"]) == P502 + b"<OPEN>"


def test_503_connect_timeout(proxy, syslog, backend):
    import socket
    import time

    # a listener that never accepts, its backlog full: SYNs to it go unanswered
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    fillers = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(hole.getsockname())
        fillers.append(f)
    time.sleep(0.05)
    try:
        port = free_port()
        cfg = conf(port, syslog.port, backend.port).replace(
            "backend bnosrv\n",
            f"backend bhole\n    retries 0\n    timeout connect 300\n    server s1 127.0.0.1:{hole.getsockname()[1]}\n"
            "backend bnosrv\n").replace("    default_backend be\n", "    use_backend bhole if { path /hole }\n"
                                                                    "    default_backend be\n")
        proxy(cfg, wait_ports=[port])
        assert exchange(port, [b"GET /hole HTTP/1.1\r\n\r\n"], wait=1) == P503 + b"<OPEN>"
        (f,) = log_of(syslog)
        assert (f["b"], f["s"], f["ST"], f["tsc"], f["Tc"]) == ("bhole", "s1", "503", "sC--", "-1")
        assert 250 <= int(f["Ta"]) < 1000
    finally:
        for f in fillers:
            f.close()
        hole.close()
