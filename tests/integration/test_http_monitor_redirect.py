"""``monitor-uri`` / ``monitor fail``, the ``redirect`` keyword and
``http-send-name-header``, checked against ``haproxy -db`` 2.6.

The monitor URI is answered before the ``http-request`` rules (a deny of the same path
does not see it), with HAProxy's 200 page or its 503 page while ``monitor fail`` holds,
keep-alive, never logged.  ``redirect`` rules run after the ``http-request`` rules.
The server's name replaces any header of that name the client sent.
"""

from __future__ import annotations

import pytest
from differential.corpus import DIFF_HEAD, Config, req, scenario
from differential.harness import assert_same, needs_haproxy
from helpers import free_port, wait_for

from integration.httpkit import exchange, parse_httplog

pytestmark = pytest.mark.timeout(60)

RULES = """\
    monitor-uri /health
    monitor fail if { req.hdr(x-fail) -m found }
    http-request deny if { path /health }
    redirect scheme https code 301 if { hdr(host) -i secure.example.com }
    redirect prefix http://www.example.com if { hdr(host) -i example.com }
    redirect location /moved drop-query set-cookie SEEN=1 if { path /old }
    http-request set-header X-After 1
"""

MONRED = Config("monitor-redirect", DIFF_HEAD + """
frontend fe
    bind 127.0.0.1:@fe@
""" + RULES + """\
    default_backend be

backend be
    http-send-name-header X-Server
    redirect location /from-backend if { path /bredir }
    server s1 127.0.0.1:@s1@
""", ("fe",))


SCENARIOS = [
    scenario("monitor-then-keep-alive", MONRED, "fe", (req(uri="/health"), req(uri="/next"))),
    scenario("monitor-fail", MONRED, "fe", req(uri="/health", extra=(("X-Fail", "1"),))),
    scenario("monitor-needs-the-exact-uri", MONRED, "fe", req(uri="/health?x=1")),
    scenario("monitor-http10", MONRED, "fe", req(uri="/health", version="HTTP/1.0", headers=())),
    scenario("monitor-body-read", MONRED, "fe", (req("POST", "/health", extra=(("Content-Length", "5"),), body=b"abcde"), req())),
    scenario("redirect-scheme", MONRED, "fe", req(uri="/a?b=1", headers=(("Host", "secure.example.com"),))),
    scenario("redirect-prefix", MONRED, "fe", req(uri="/a?b=1", headers=(("Host", "example.com"),))),
    scenario("redirect-location", MONRED, "fe", req(uri="/old?q=1")),
    scenario("backend-redirect", MONRED, "fe", req(uri="/bredir")),
    scenario("send-name-header", MONRED, "fe", req(extra=(("X-Server", "fake"),))),
]


@needs_haproxy
def test_differential_monitor_redirect(tmp_path):
    assert_same(MONRED, SCENARIOS, tmp_path)


def test_monitor_requests_are_not_logged(proxy, syslog, backend):
    """haproxy 2.6.12 logs the redirect and the forwarded request, not the monitor
    requests (2026-11-27)."""
    port = free_port()
    proxy(f"global\n    log 127.0.0.1:{syslog.port} local0\n"
          "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n"
          "    timeout client 5s\n    timeout server 2s\n"
          f"frontend fe\n    bind 127.0.0.1:{port}\n{RULES}    default_backend be\n"
          f"backend be\n    server s1 127.0.0.1:{backend.port}\n", wait_ports=[port])
    out = exchange(port, [b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", None,
                          b"GET /health HTTP/1.1\r\nHost: x\r\nX-Fail: 1\r\n\r\n", None,
                          b"GET /old HTTP/1.1\r\nHost: x\r\n\r\n", None, b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n"])
    assert out.count(b"HTTP/1.1 ") == 4
    wait_for(lambda: len([x for x in map(parse_httplog, syslog.lines) if x]) >= 2, timeout=5, what="2 log lines")
    lines = [x for x in map(parse_httplog, syslog.lines) if x]
    assert [(x["ST"], x["tsc"], x["r"]) for x in lines] == [
        ("302", "LR--", "GET /old HTTP/1.1"), ("200", "----", "GET /p HTTP/1.1")]
