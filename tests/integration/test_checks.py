"""Health checks against real sockets on 127.0.0.1, driven with gevent (no gproxy process).

Each test builds the backend's configuration with the real parser, a ``Server`` on a
small fake backend, and its ``Check``; it then runs checks (``run_once`` or the check
greenlet) against gevent servers playing the backend.  Expected texts are those HAProxy
2.6.12 printed in the same situations.
"""

from __future__ import annotations

import importlib
import os
import re
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.server
import pytest
from gevent import socket as gsocket

for _mod in ("gproxy.proxy", "gproxy.backend", "gproxy.check"):
    importlib.import_module(_mod)

from gproxy.check import Check, attach, start_checks
from gproxy.config.parser import Parser
from gproxy.server import RUNNING, STOPPED, STOPPING, Server

pytestmark = pytest.mark.timeout(20)

DEFAULTS = "defaults\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"


# ------------------------------------------------------------------ harness
class FakeBackend:
    """What a Check needs from gproxy.backend.Backend."""

    def __init__(self, name: str = "be") -> None:
        self.name = name
        self.servers: list[Server] = []
        self.changes = 0
        self.shutdowns: list[tuple[str, str]] = []
        self.health_lines: list[str] = []
        self.cur_sess = 0
        self.nbpend = 0

    def server_changed(self, srv: Server) -> None:
        self.changes += 1

    def shutdown_sessions(self, srv: Server, flag: str) -> None:
        self.shutdowns.append((srv.name, flag))

    def shutdown_backup_sessions(self) -> None:
        self.shutdowns.append(("<backups>", "U"))

    def log_health_check(self, srv: Server, text: str) -> None:
        self.health_lines.append(text)


class Setup:
    """A backend section parsed from text, its servers and their checks."""

    def __init__(self, body: str, defaults: str = DEFAULTS) -> None:
        p = Parser()
        p.parse_text(defaults + "backend be\n" + body, "t.cfg")
        alerts = [m.render(0) for m in p.diag.messages if m.level == "ALERT"]
        assert not alerts, alerts
        self.proxy = p.model.find_backend("be")
        assert self.proxy is not None
        self.backend = FakeBackend()
        self.events: list[tuple[str, str, str]] = []
        self.checks: list[Check] = []
        for i, spec in enumerate(self.proxy.servers, 1):
            srv = Server(self.backend, spec, i)
            srv.sockaddr = (spec.address.host, spec.address.port)
            srv.subscribers.append(lambda s, ev, reason: self.events.append((s.name, ev, reason)))
            self.backend.servers.append(srv)
            chk = attach(srv, self.proxy)
            if chk is not None:
                self.checks.append(chk)

    @property
    def check(self) -> Check:
        return self.checks[0]

    @property
    def server(self) -> Server:
        return self.backend.servers[0]

    def stop(self) -> None:
        for c in self.checks:
            c.stop()


class Backend:
    """A gevent TCP server with a per-connection handler; records what it received."""

    def __init__(self, handler: Callable[[Any, Backend], None], host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.received: list[bytes] = []
        self.accepts: list[float] = []
        self.server = gevent.server.StreamServer((host, 0), self._handle)
        self.server.start()
        self.port = self.server.server_port

    def _handle(self, sock: Any, addr: Any) -> None:
        self.accepts.append(time.monotonic())
        try:
            self.handler(sock, self)
        except OSError:
            pass
        finally:
            sock.close()

    def stop(self) -> None:
        self.server.stop()


def read_request(sock: Any, be: Backend) -> bytes:
    data = b""
    sock.settimeout(2)
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    m = re.search(rb"content-length: (\d+)", data)
    if m:
        head, _, body = data.partition(b"\r\n\r\n")
        while len(body) < int(m.group(1)):
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
        data = head + b"\r\n\r\n" + body
    be.received.append(data)
    return data


def responder(response: bytes, read: bool = True, linger: float = 0.02) -> Callable[[Any, Backend], None]:
    def handler(sock: Any, be: Backend) -> None:
        if read:
            read_request(sock, be)
        sock.sendall(response)
        gevent.sleep(linger)

    return handler


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def full_backlog_listener() -> tuple[socket.socket, list[socket.socket]]:
    """A listener whose accept queue is full: new connects hang (for L4 timeouts)."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    fillers = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(lst.getsockname())
        except BlockingIOError:
            pass
        fillers.append(s)
    time.sleep(0.05)
    return lst, fillers


DURATION = r"check duration: \d+ms"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# ------------------------------------------------------------------ plain TCP checks
def test_tcp_check_counts_rise_and_fall() -> None:
    be = Backend(lambda s, b: gevent.sleep(0.01))
    st = Setup(f"    server s1 127.0.0.1:{be.port} check rise 2 fall 3\n")
    chk, srv = st.check, st.server
    assert (chk.health, chk.status, srv.status_text()) == (2, "INI", "UP 1/3")
    chk.run_once()
    assert (chk.status, chk.desc, chk.health, srv.status_text()) == ("L4OK", "", 4, "UP")
    assert re.fullmatch("Layer4 check passed, " + DURATION, chk.reason())
    be.stop()
    gevent.sleep(0.01)
    for health, text in ((3, "UP 2/3"), (2, "UP 1/3")):
        chk.run_once()
        assert (chk.status, chk.desc, chk.health, srv.op_state) == ("L4CON", "Connection refused", health, RUNNING)
        assert srv.status_text() == text
    assert st.events == []
    chk.run_once()
    assert (chk.health, srv.op_state, srv.status_text(), chk.failed_checks) == (0, STOPPED, "DOWN", 3)
    assert len(st.events) == 1
    name, ev, reason = st.events[0]
    assert (name, ev) == ("s1", "down")
    assert re.fullmatch('Layer4 connection problem, info: "Connection refused", ' + DURATION, reason)
    # a failure while down changes nothing more
    chk.run_once()
    assert (chk.health, chk.failed_checks, len(st.events)) == (0, 3, 1)
    be2 = Backend(lambda s, b: gevent.sleep(0.01))
    chk.server.sockaddr = ("127.0.0.1", be2.port)
    chk.run_once()
    assert (chk.health, srv.op_state, srv.status_text()) == (1, STOPPED, "DOWN 1/2")
    chk.run_once()
    assert (chk.health, srv.op_state, srv.status_text()) == (4, RUNNING, "UP")
    assert st.events[-1][1] == "up" and re.fullmatch("Layer4 check passed, " + DURATION, st.events[-1][2])
    be2.stop()


def test_first_failure_at_start_marks_down() -> None:
    """HAProxy starts a checked server at health = rise: one failure takes it down."""
    port = free_port()
    st = Setup(f"    server s1 127.0.0.1:{port} check rise 2 fall 3\n")
    st.check.run_once()
    assert st.server.op_state == STOPPED
    assert st.backend.changes == 1


def test_disabled_server_starts_at_health_zero_and_is_not_checked() -> None:
    port = free_port()
    st = Setup(f"    server s1 127.0.0.1:{port} check disabled\n")
    assert st.check.health == 0 and st.server.maint
    st.check.start(0)
    gevent.sleep(0.1)
    assert st.check.status == "INI"
    st.stop()


def test_connect_timeout_is_l4tout() -> None:
    lst, fillers = full_backlog_listener()
    port = lst.getsockname()[1]
    try:
        st = Setup(f"    server s1 127.0.0.1:{port} check inter 300 fall 1 rise 1\n")
        t0 = time.monotonic()
        st.check.run_once()
        took = time.monotonic() - t0
        assert (st.check.status, st.check.desc) == ("L4TOUT", "")
        assert 0.25 < took < 0.9
        assert re.fullmatch("Layer4 timeout, " + DURATION, st.events[0][2])
        # with 'timeout check', the connect is bounded by min(inter, timeout connect)
        st2 = Setup(f"    timeout check 2s\n    timeout connect 100\n    server s1 127.0.0.1:{port} check inter 3s\n")
        t0 = time.monotonic()
        st2.check.run_once()
        assert st2.check.status == "L4TOUT"
        assert 0.08 < time.monotonic() - t0 < 0.6
    finally:
        for s in [lst, *fillers]:
            s.close()


def test_tcp_check_from_unix_socket_server(tmp_path: Any) -> None:
    path = str(tmp_path / "s.sock")
    lst = gsocket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    lst.listen(5)
    st = Setup(f"    server s1 {path} check\n")
    st.server.sockaddr = path
    st.check.run_once()
    assert st.check.status == "L4OK"
    lst.close()


# ------------------------------------------------------------------ HTTP checks
@pytest.mark.parametrize(
    ("response", "status", "code", "desc"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "L7OK", 200, ""),
        (b"HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n", "L7OK", 302, ""),
        (b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", "L7STS", 503, "Service Unavailable"),
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "L7STS", 404, "Not Found"),
        (b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "L7OK", 200, ""),
        (b"HTTP/1.1 601 Weird\r\n\r\n", "L7STS", 601, "Weird"),
        (b"hello world\r\n\r\n", "L7RSP", 0, ""),
        (b"HTTP/1.1 20", "L7RSP", 0, ""),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0", "L7RSP", 0, ""),
        (b"", "L7RSP", 0, ""),
    ],
)
def test_httpchk_results(response: bytes, status: str, code: int, desc: str) -> None:
    be = Backend(responder(response))
    st = Setup(f"    option httpchk GET /\n    server s1 127.0.0.1:{be.port} check fall 1 rise 1\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == (status, desc)
    if status in ("L7OK", "L7STS"):
        assert st.check.code == code
    be.stop()


def test_httpchk_wrong_status_reason_text() -> None:
    be = Backend(responder(b"HTTP/1.1 500 Bad \"<quoted>\" \xc3\xa9\r\n\r\n"))
    st = Setup(f"    option httpchk\n    server s1 127.0.0.1:{be.port} check fall 1 rise 1\n")
    st.check.run_once()
    assert re.fullmatch(r'Layer7 wrong status, code: 500, info: "Bad <22><3C>quoted<3E><22> <C3><A9>", '
                        + DURATION, st.events[0][2])
    be.stop()


def test_httpchk_passed_reason_text() -> None:
    port = free_port()
    st = Setup(f"    option httpchk\n    server s1 127.0.0.1:{port} check inter 100 fall 1 rise 1\n")
    st.check.run_once()
    assert st.server.op_state == STOPPED
    be = Backend(responder(b"HTTP/1.0 200 OK\r\n\r\n"), host="127.0.0.1")
    st.server.sockaddr = ("127.0.0.1", be.port)
    st.check.run_once()
    assert st.events[-1][:2] == ("s1", "up")
    assert re.fullmatch("Layer7 check passed, code: 200, " + DURATION, st.events[-1][2])
    be.stop()


def test_httpchk_timeout_and_close_and_reset() -> None:
    hang = Backend(lambda s, b: (read_request(s, b), gevent.sleep(5)))
    st = Setup(f"    timeout check 200\n    option httpchk\n    server s1 127.0.0.1:{hang.port} check inter 3s\n")
    t0 = time.monotonic()
    st.check.run_once()
    assert (st.check.status, st.check.desc) == ("L7TOUT", "")
    assert 0.18 < time.monotonic() - t0 < 0.8
    hang.stop()

    def reset(sock: Any, be: Backend) -> None:
        read_request(sock, be)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    rst = Backend(reset)
    st = Setup(f"    option httpchk\n    server s1 127.0.0.1:{rst.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == ("SOCKERR", "Connection reset by peer")
    rst.stop()
    closer = Backend(lambda s, b: read_request(s, b))
    st = Setup(f"    option httpchk\n    server s1 127.0.0.1:{closer.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == ("L7RSP", "")
    closer.stop()


def test_without_timeout_check_inter_bounds_the_check() -> None:
    hang = Backend(lambda s, b: (read_request(s, b), gevent.sleep(5)))
    st = Setup(f"    option httpchk\n    server s1 127.0.0.1:{hang.port} check inter 300\n")
    t0 = time.monotonic()
    st.check.run_once()
    assert st.check.status == "L7TOUT"
    assert 0.28 < time.monotonic() - t0 < 0.9
    hang.stop()


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("    option httpchk\n", b"OPTIONS / HTTP/1.0\r\n\r\n"),
        ("    option httpchk GET /health HTTP/1.1\n", b"GET /health HTTP/1.1\r\nconnection: close\r\n\r\n"),
        (("    option httpchk\n    http-check send meth POST uri /x ver HTTP/1.1 hdr Host example.com hdr X-A b "
         "body hello\n"),
         b"POST /x HTTP/1.1\r\nhost: example.com\r\nx-a: b\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello"),
        ("    option httpchk HEAD /x HTTP/1.1\n    http-check send hdr Connection keep-alive\n",
         b"HEAD /x HTTP/1.1\r\n\r\n"),
    ],
)
def test_httpchk_request_bytes_on_the_wire(lines: str, expected: bytes) -> None:
    be = Backend(responder(b"HTTP/1.0 200 OK\r\n\r\n"))
    st = Setup(lines + f"    server s1 127.0.0.1:{be.port} check\n")
    st.check.run_once()
    assert be.received == [expected]
    assert st.check.status == "L7OK"
    be.stop()


def test_send_state_header() -> None:
    be = Backend(responder(b"HTTP/1.0 200 OK\r\n\r\n"))
    st = Setup(f"    option httpchk\n    http-check send-state\n    server s1 127.0.0.1:{be.port} check\n")
    st.check.node = "vm"
    st.check.run_once()
    st.check.run_once()
    assert be.received[0] == (
        b"OPTIONS / HTTP/1.0\r\nx-haproxy-server-state: UP 1/3; address=127.0.0.1; port=%d; name=be/s1; node=vm; "
        b"weight=1/1; scur=0/0; qcur=0\r\n\r\n" % be.port
    )
    assert b"x-haproxy-server-state: UP; address=" in be.received[1]
    be.stop()


def test_httpchk_in_mode_tcp_clustercheck_style() -> None:
    """The MariaDB clustercheck layout: mode tcp, option httpchk, checks on port 9200-like."""
    be = Backend(responder(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                           b"Content-Length: 36\r\n\r\nGalera cluster node is not synced.\r\n"))
    st = Setup(f"    mode tcp\n    option httpchk\n    default-server port {be.port} inter 2s downinter 5s rise 3 "
               "fall 2\n    server db1 127.0.0.1:3306 check\n")
    st.check.run_once()
    assert (st.check.status, st.check.code, st.check.desc) == ("L7STS", 503, "Service Unavailable")
    assert st.server.op_state == STOPPED
    assert st.check.getinter() == 5000
    be.stop()


def test_http_expect_rules() -> None:
    body = b"HTTP/1.1 200 OK\r\nX-Status: fine\r\nContent-Length: 14\r\n\r\nbody text here"
    be = Backend(responder(body))
    cases = [
        ("http-check expect string text", "L7OK", ""),
        ("http-check expect string nothere", "L7RSP", "HTTP content check did not match"),
        ("http-check expect ! string body", "L7RSP", "HTTP check matched unwanted content"),
        ("http-check expect rstring ^body", "L7OK", ""),
        ("http-check expect hdr name x-status value fine", "L7OK", ""),
        ("http-check expect hdr name x-status value nope", "L7STS", "OK"),
        ("http-check expect status 201-204 comment cmt", "L7STS", "OK comment: cmt"),
    ]
    truncated = Backend(responder(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
    st = Setup(f"    option httpchk\n    http-check expect string hello\n"
               f"    server s1 127.0.0.1:{truncated.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == ("L7RSP", "HTTP content check did not match")
    truncated.stop()
    for line, status, desc in cases:
        st = Setup(f"    option httpchk\n    {line}\n    server s1 127.0.0.1:{be.port} check\n")
        st.check.run_once()
        assert (line, st.check.status, st.check.desc) == (line, status, desc)
    be.stop()


def test_http_check_multiple_connects() -> None:
    def handler(sock: Any, be: Backend) -> None:
        req = read_request(sock, be)
        if req.startswith(b"GET /a "):
            sock.sendall(b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n")
        else:
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    be = Backend(handler)
    st = Setup("    option httpchk\n    http-check connect\n    http-check send meth GET uri /a\n"
               "    http-check expect status 302\n    http-check connect\n    http-check send meth GET uri /b\n"
               f"    http-check expect status 200\n    server s1 127.0.0.1:{be.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.code) == ("L7OK", 200)
    assert [r.split(b"\r\n")[0] for r in be.received] == [b"GET /a HTTP/1.0", b"GET /b HTTP/1.0"]
    be.stop()


def test_disable_on_404_sets_stopping() -> None:
    be = Backend(responder(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
    st = Setup(f"    option httpchk\n    http-check disable-on-404\n    server s1 127.0.0.1:{be.port} check fall 1 "
               "rise 1\n")
    st.check.run_once()
    assert (st.check.status, st.check.code, st.server.op_state) == ("L7OKC", 404, STOPPING)
    assert st.server.status_text() == "NOLB"
    assert st.events[0][1] == "nolb"
    assert re.fullmatch("Layer7 check conditionally passed, code: 404, " + DURATION, st.events[0][2])
    be.stop()


# ------------------------------------------------------------------ tcp-check
def pong(sock: Any, be: Backend) -> None:
    sock.settimeout(2)
    data = sock.recv(100)
    be.received.append(data)
    sock.sendall(b"+PONG\r\n")
    gevent.sleep(0.05)


@pytest.mark.parametrize(
    ("rules", "status", "desc"),
    [
        ("tcp-check send PING\\r\\n\n    tcp-check expect string PONG", "L7OK", "(tcp-check)"),
        ("tcp-check send PING\\r\\n\n    tcp-check expect string PONGX", "L7RSP",
         "TCPCHK did not match content 'PONGX' at step 2"),
        (('tcp-check comment "my comment"\n    tcp-check send PING\\r\\n\n'
         '    tcp-check expect string PONGX comment "expect cmt"'), "L7RSP",
         "TCPCHK did not match content 'PONGX' at step 3 comment: expect cmt"),
        ("tcp-check send PING\\r\\n\n    tcp-check expect ! string PONG", "L7RSP",
         "TCPCHK matched unwanted content 'PONG' at step 2"),
        ("tcp-check send-binary 50494e470d0a\n    tcp-check expect binary 2b504f4e470d0a", "L7OK", "(tcp-check)"),
        ("tcp-check send PING\\r\\n\n    tcp-check expect rstring ^\\+PO", "L7OK", "(tcp-check)"),
        ("tcp-check send PING\\r\\n\n    tcp-check expect string NOPE on-error custom error-status L7STS",
         "L7STS", "custom"),
        ("tcp-check send PING\\r\\n\n    tcp-check expect string PONG on-success \"all good\" ok-status L7OKC",
         "L7OKC", "all good"),
        ("tcp-check send PING\\r\\n", "L7OK", "(tcp-check)"),
        ("tcp-check connect", "L4OK", "(tcp-check)"),
        ("", "L4OK", ""),
    ],
)
def test_tcp_check_rules(rules: str, status: str, desc: str) -> None:
    be = Backend(pong)
    st = Setup(f"    option tcp-check\n    {rules}\n    server s1 127.0.0.1:{be.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == (status, desc)
    be.stop()


def test_tcp_check_failures_have_step_details() -> None:
    port = free_port()
    st = Setup(f"    option tcp-check\n    tcp-check send PING\\r\\n\n    server s1 127.0.0.1:{port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == ("L4CON", "Connection refused at initial connection step of tcp-check")
    be = Backend(pong)
    st = Setup(f"    option tcp-check\n    tcp-check connect\n    tcp-check send PING\\r\\n\n"
               f"    tcp-check expect string PONG\n    tcp-check connect port {port}\n"
               f"    server s1 127.0.0.1:{be.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == (
        "L4CON", f"Connection refused at step 4 of tcp-check (connect port {port})")
    be.stop()
    hang = Backend(lambda s, b: gevent.sleep(5))
    st = Setup(f"    timeout check 150\n    option tcp-check\n    tcp-check send PING\\r\\n\n"
               f"    tcp-check expect string PONG\n    server s1 127.0.0.1:{hang.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == ("L7TOUT", " at step 2 of tcp-check (expect string 'PONG')")
    hang.stop()
    closer = Backend(lambda s, b: s.recv(100))
    st = Setup(f"    option tcp-check\n    tcp-check send PING\\r\\n\n    tcp-check expect string PONG\n"
               f"    server s1 127.0.0.1:{closer.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == ("L7RSP", "TCPCHK got an empty response at step 2")
    closer.stop()


def test_tcp_check_expect_waits_for_split_responses() -> None:
    def slow(sock: Any, be: Backend) -> None:
        sock.recv(100)
        for part in (b"220 hel", b"lo rea", b"dy\r\n"):
            sock.sendall(part)
            gevent.sleep(0.02)
        gevent.sleep(0.1)

    be = Backend(slow)
    st = Setup(f"    option tcp-check\n    tcp-check send HELO\\r\\n\n    tcp-check expect string ready\n"
               f"    server s1 127.0.0.1:{be.port} check\n")
    st.check.run_once()
    assert st.check.status == "L7OK"
    be.stop()


# ------------------------------------------------------------------ redis-check
def test_redis_check() -> None:
    be = Backend(pong)
    st = Setup(f"    option redis-check\n    server s1 127.0.0.1:{be.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.code, st.check.desc) == ("L7OK", 0, "Redis server is ok")
    assert be.received == [b"*1\r\n$4\r\nPING\r\n"]
    assert re.fullmatch('Layer7 check passed, code: 0, info: "Redis server is ok", ' + DURATION, st.check.reason())
    be.stop()
    err = Backend(responder(b"-ERR something bad\r\nmore\r\n", read=False))
    st = Setup(f"    option redis-check\n    server s1 127.0.0.1:{err.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == ("L7STS", "-ERR something bad")
    err.stop()
    closer = Backend(lambda s, b: s.recv(100))
    st = Setup(f"    option redis-check\n    server s1 127.0.0.1:{closer.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == ("L7STS", "TCPCHK got an empty response at step 2")
    closer.stop()


# ------------------------------------------------------------------ mysql-check
def mysql_packet(seq: int, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


HANDSHAKE = mysql_packet(0, b"\x0a5.7.99-fake\x00" + struct.pack("<I", 1) + b"abcdefgh\x00"
                         + struct.pack("<H", 0xF7FF) + b"\x21" + struct.pack("<H", 2) + struct.pack("<H", 0x81FF)
                         + b"\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00" + b"mysql_native_password\x00")


def fake_mysql(reply: bytes | None) -> Callable[[Any, Backend], None]:
    def handler(sock: Any, be: Backend) -> None:
        sock.sendall(HANDSHAKE)
        sock.settimeout(1)
        try:
            data = sock.recv(4096)
        except OSError:
            return
        be.received.append(data)
        if data and reply is not None:
            sock.sendall(reply)
            gevent.sleep(0.05)

    return handler


def test_mysql_check_fake_server() -> None:
    be = Backend(fake_mysql(mysql_packet(2, b"\x00\x00\x00\x02\x00\x00\x00")))
    st = Setup(f"    option mysql-check user haproxy\n    option log-health-checks\n"
               f"    server s1 127.0.0.1:{be.port} check rise 3 fall 1\n")
    st.check.run_once()
    # HAProxy reports a passed mysql check twice (version, then no info); already up: one line
    assert (st.check.status, st.check.desc, st.check.health) == ("L7OK", "", 3)
    assert be.received[0].hex() == (
        "290000010082000000800001210000000000000000000000000000000000000000000000686170726f787900000100000001")
    assert [line.split(", check duration")[0] for line in st.backend.health_lines] == [
        'Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 0, info: "5.7.99-fake"',
    ]
    assert st.backend.health_lines[0].endswith(", status: 1/1 UP")
    be.stop()


def test_mysql_check_double_count_brings_server_up_in_two_checks() -> None:
    be = Backend(fake_mysql(None))
    st = Setup(f"    option mysql-check\n    server s1 127.0.0.1:{be.port} check rise 3 fall 1\n")
    st.check.health = 0
    st.server.op_state = STOPPED
    st.check.run_once()
    assert (st.check.health, st.server.op_state) == (2, STOPPED)
    st.check.run_once()
    assert (st.check.health, st.server.op_state) == (3, RUNNING)
    assert re.fullmatch("Layer7 check passed, code: 0, " + DURATION, st.events[-1][2])
    be.stop()


def test_mysql_check_error_packet() -> None:
    err = mysql_packet(2, b"\xff\x15\x04#28000Access denied for user 'nobody'@'localhost' (using password: NO)")
    be = Backend(fake_mysql(err))
    st = Setup(f"    option mysql-check user nobody\n    server s1 127.0.0.1:{be.port} check fall 1\n")
    st.check.run_once()
    assert (st.check.status, st.check.code) == ("L7STS", 1045)
    assert st.check.desc == "#28000Access denied for user 'nobody'@'localhost' (using password: NO)"
    be.stop()
    closer = Backend(lambda s, b: s.recv(4096))
    st = Setup(f"    option mysql-check user haproxy\n    server s1 127.0.0.1:{closer.port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.desc) == ("L7RSP", "TCPCHK got an empty response at step 3")
    closer.stop()


@pytest.mark.timeout(90)
def test_mysql_check_real_mariadb(mariadb: Any) -> None:
    conn = mariadb.admin()
    try:
        with conn.cursor() as cur:
            for host in ("%", "127.0.0.1", "localhost"):
                cur.execute("CREATE USER IF NOT EXISTS 'haproxy'@%s", (host,))
    finally:
        conn.close()
    host, port = mariadb.host, mariadb.port
    st = Setup(f"    option mysql-check user haproxy\n    option log-health-checks\n"
               f"    server s1 {host}:{port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.code, st.check.desc) == ("L7OK", 0, "")
    assert "MariaDB" in st.backend.health_lines[0]
    st = Setup(f"    option mysql-check\n    server s1 {host}:{port} check\n")
    st.check.run_once()
    assert st.check.status == "L7OK"
    st = Setup(f"    option mysql-check user nobody_here\n    server s1 {host}:{port} check\n")
    st.check.run_once()
    assert (st.check.status, st.check.code) == ("L7STS", 1045)
    assert st.check.desc.startswith("#28000Access denied for user 'nobody_here'@")


# ------------------------------------------------------------------ actions on state changes
def test_on_marked_down_and_up_shutdown_sessions() -> None:
    port = free_port()
    st = Setup(f"    server s1 127.0.0.1:{port} check fall 1 rise 1 on-marked-down shutdown-sessions "
               "on-marked-up shutdown-backup-sessions\n")
    st.check.run_once()
    assert st.backend.shutdowns == [("s1", "D")]
    be = Backend(lambda s, b: None)
    st.server.sockaddr = ("127.0.0.1", be.port)
    st.check.run_once()
    assert st.backend.shutdowns == [("s1", "D"), ("<backups>", "U")]
    be.stop()


def test_log_health_checks_lines_and_empty_reason() -> None:
    port = free_port()
    st = Setup(f"    option log-health-checks\n    server s1 127.0.0.1:{port} check fall 2 rise 1\n")
    st.check.run_once()
    assert [re.sub(r"\d+ms", "Nms", x) for x in st.backend.health_lines] == [
        ('Health check for server be/s1 failed, reason: Layer4 connection problem, info: "Connection refused", '
        "check duration: Nms, status: 0/1 DOWN")
    ]
    assert st.events == [("s1", "down", "")]


def test_backup_server_health_line() -> None:
    port = free_port()
    st = Setup(f"    option log-health-checks\n    server s1 127.0.0.1:{port} check backup fall 1 rise 1\n")
    st.check.run_once()
    assert st.backend.health_lines[0].startswith("Health check for backup server be/s1 failed")


def test_maintenance_pauses_checks() -> None:
    be = Backend(lambda s, b: None)
    st = Setup(f"    server s1 127.0.0.1:{be.port} check inter 30 fall 1 rise 1\n")
    from gproxy.server import FMAINT

    st.server.set_admin(FMAINT)
    st.check.start(0)
    gevent.sleep(0.15)
    assert be.accepts == [] and st.check.health == 0
    st.server.clear_admin(FMAINT)
    gevent.sleep(0.15)
    assert be.accepts and st.check.health == 1 and st.check.status == "L4OK"
    st.stop()
    be.stop()


# ------------------------------------------------------------------ scheduling
def test_intervals_follow_inter_fastinter_downinter() -> None:
    state = {"code": 503}

    def handler(sock: Any, be: Backend) -> None:
        read_request(sock, be)
        reason = "OK" if state["code"] == 200 else "Service Unavailable"
        sock.sendall(b"HTTP/1.0 %d %s\r\n\r\n" % (state["code"], reason.encode()))

    be = Backend(handler)
    st = Setup(f"    option httpchk\n    server s1 127.0.0.1:{be.port} check inter 600 fastinter 60 "
               "downinter 200 rise 2 fall 2\n")
    chk = st.check
    assert chk.getinter() == 60  # health == rise at start: between the bounds
    chk.start(0)
    deadline = time.monotonic() + 5
    while len(be.accepts) < 3 and time.monotonic() < deadline:
        gevent.sleep(0.01)
    assert st.server.op_state == STOPPED
    gaps = [b - a for a, b in zip(be.accepts, be.accepts[1:], strict=False)]
    assert all(0.18 < g < 0.45 for g in gaps[:2]), gaps  # downinter while down
    state["code"] = 200
    n = len(be.accepts)
    while len(be.accepts) < n + 3 and time.monotonic() < deadline + 5:
        gevent.sleep(0.01)
    gaps = [b - a for a, b in zip(be.accepts[n - 1:], be.accepts[n:], strict=False)]
    # first success at downinter, then fastinter (health 1 < rise), then up: inter
    assert 0.04 < gaps[1] < 0.3, gaps
    assert 0.55 < gaps[2] < 1.0, gaps
    assert st.server.op_state == RUNNING
    st.stop()
    be.stop()


def test_start_checks_spreads_like_haproxy() -> None:
    be = Backend(lambda s, b: None)
    lines = "".join(f"    server s{i} 127.0.0.1:{be.port} check inter 1s\n" for i in range(4))
    st = Setup(lines)
    for c in st.checks:
        c.health = c.rise + c.fall - 1  # fully up: getinter() == inter
    t0 = time.monotonic()
    start_checks(st.checks)
    deadline = t0 + 3
    while len(be.accepts) < 4 and time.monotonic() < deadline:
        gevent.sleep(0.01)
    offsets = [a - t0 for a in be.accepts[:4]]
    for got, want in zip(offsets, (0.0, 0.25, 0.5, 0.75), strict=True):
        assert abs(got - want) < 0.1, offsets
    st.stop()
    be.stop()


# ------------------------------------------------------------------ PROXY protocol
def test_check_send_proxy_headers() -> None:
    got: list[bytes] = []

    def capture(sock: Any, be: Backend) -> None:
        sock.settimeout(1)
        try:
            got.append(sock.recv(200))
        except OSError:
            got.append(b"")

    be = Backend(capture)
    st = Setup(f"    server s1 127.0.0.1:{be.port} check check-send-proxy\n"
               f"    server s2 127.0.0.1:{be.port} check send-proxy-v2\n"
               f"    server s3 127.0.0.1:{be.port} check send-proxy port {be.port}\n")
    for c in st.checks:
        c.run_once()
        gevent.sleep(0.05)
    assert re.fullmatch(rb"PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ %d\r\n" % be.port, got[0])
    assert got[1] == b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00"
    assert got[2] == b""
    be.stop()


# ------------------------------------------------------------------ resources
def test_no_fd_leak_over_many_checks() -> None:
    ok = Backend(responder(b"HTTP/1.0 200 OK\r\n\r\n"))
    hang = Backend(lambda s, b: (s.recv(4096), s.recv(4096)))  # holds its end until the check closes
    st_ok = Setup(f"    option httpchk\n    server s1 127.0.0.1:{ok.port} check\n")
    st_hang = Setup(f"    timeout check 20\n    option httpchk\n    server s1 127.0.0.1:{hang.port} check\n")
    st_ref = Setup(f"    server s1 127.0.0.1:{free_port()} check\n")
    for st in (st_ok, st_hang, st_ref):
        st.check.run_once()
    gevent.sleep(0.05)
    before = open_fds()
    for _ in range(30):
        for st in (st_ok, st_hang, st_ref):
            st.check.run_once()
    # a check killed in the middle closes its socket too
    st_hang.check.start(0)
    gevent.sleep(0.005)
    st_hang.check.stop()
    gevent.sleep(0.1)
    assert open_fds() <= before + 1
    ok.stop()
    hang.stop()
