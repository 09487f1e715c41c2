"""``http-request set-src | set-src-port | set-dst | set-dst-port | silent-drop`` and
``%[...]`` samples in a proxy's ``log-format``, checked against ``haproxy -db`` 2.6.

The addresses a rule sets hold for that request only (HAProxy 2.6 keeps them on the
stream): the next request of the connection sees the connection's own addresses again.
``option forwardfor`` sends the address set.  ``silent-drop`` sends nothing at all.
"""

from __future__ import annotations

import socket

import pytest
from differential.corpus import DIFF_HEAD, Config, req, scenario
from differential.harness import assert_same, needs_haproxy
from helpers import free_port, wait_for

pytestmark = pytest.mark.timeout(60)


RULES = """\
    option forwardfor
    http-request set-src hdr(x-real-ip) if { hdr(x-real-ip) -m found }
    http-request set-src-port hdr(x-port) if { hdr(x-port) -m found }
    http-request set-dst hdr(x-dst) if { hdr(x-dst) -m found }
    http-request set-dst-port int(8443) if { path /dp }
    http-request set-header X-Addr %[src]/%[dst]
    http-request set-header X-Dst-Port %[dst_port] if { path /dp }
    http-request silent-drop if { path /drop }
"""

ADDR = Config("addr-actions", DIFF_HEAD + """
frontend fe
    bind 127.0.0.1:@fe@
""" + RULES + """\
    default_backend be

backend be
    server s1 127.0.0.1:@s1@
""", ("fe",))


SCENARIOS = [
    scenario("set-src-then-own-address", ADDR, "fe", (req(extra=(("X-Real-IP", "10.1.2.3"), ("X-Dst", "::1"))), req())),
    scenario("not-an-address", ADDR, "fe", req(extra=(("X-Real-IP", "junk"),))),
    scenario("ipv6-src", ADDR, "fe", req(extra=(("X-Real-IP", "2001:db8::7"),))),
    scenario("dst-port", ADDR, "fe", req(uri="/dp")),
    scenario("silent-drop", ADDR, "fe", req(uri="/drop"), deadline=1.0),
]


@needs_haproxy
def test_differential_addresses(tmp_path):
    assert_same(ADDR, SCENARIOS, tmp_path)


def test_log_format_samples_and_silent_drop(proxy, syslog, backend):
    """The lines haproxy 2.6.12 wrote for the same config and requests (2026-11-27):
    ``10.1.2.3:99 ::1:<port> src=10.1.2.3 m=GET 200 --``, the next request of the
    connection with its own addresses, and ``... -1 PR`` for the silent drop."""
    port = free_port()
    proxy(f"global\n    log 127.0.0.1:{syslog.port} local0\n"
          "defaults\n    mode http\n    log global\n    timeout connect 1s\n    timeout client 5s\n"
          "    timeout server 2s\n"
          f"frontend fe\n    bind 127.0.0.1:{port}\n"
          '    log-format "%ci:%cp %fi:%fp src=%[src] m=%[method] %ST %ts"\n'
          f"{RULES}    default_backend be\n"
          f"backend be\n    server s1 127.0.0.1:{backend.port}\n", wait_ports=[port])
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        cport = s.getsockname()[1]
        for extra in (b"X-Real-IP: 10.1.2.3\r\nX-Port: 70000\r\nX-Dst: ::1\r\n", b""):
            s.sendall(b"GET /p HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"GET /drop HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            got = s.recv(4096)
        except (TimeoutError, ConnectionResetError):
            got = b""
        assert got == b""  # nothing: no response, no FIN (TCP_REPAIR) or a reset

    lines = wait_for(lambda: syslog.lines if len(syslog.lines) >= 3 else None, timeout=5, what="3 log lines")
    assert lines[0].endswith(f"10.1.2.3:4464 ::1:{port} src=10.1.2.3 m=GET 200 --")
    assert lines[1].endswith(f"127.0.0.1:{cport} 127.0.0.1:{port} src=127.0.0.1 m=GET 200 --")
    assert lines[2].endswith(f" 127.0.0.1:{port} src=127.0.0.1 m=GET -1 PR")
