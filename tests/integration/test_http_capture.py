"""Capture slots on the wire and in the log, checked against ``haproxy -db`` 2.6:
``declare capture``, ``http-request capture <sample> len <n> | id <n>``,
``http-response capture <sample> id <n>``, ``capture.req.hdr(<n>)`` /
``capture.res.hdr(<n>)``, sharing one numbering with ``capture request|response
header``.

The differential config copies the slots into headers, so what the server receives and
what the client receives show every slot; the log test reads ``%hr``/``%hs`` of
``option httplog`` (the ``proxy`` fixture runs gproxy, or haproxy with
``GPROXY_TEST_PROXY=haproxy``).
"""

from __future__ import annotations

import pytest
from differential.corpus import DIFF_HEAD, Config, req, scenario
from differential.harness import assert_same, needs_haproxy
from helpers import free_port, wait_for

from integration.httpkit import RawBackend, exchange, parse_httplog

pytestmark = pytest.mark.timeout(60)


SLOTS = """\
    capture request header Host len 10
    declare capture request len 20
    http-request capture req.hdr(User-Agent) len 5
    http-request capture path id 1
    capture response header Server len 8
    declare capture response len 10
    http-response capture res.hdr(Content-Type) id 1
"""

CAPTURE = Config("capture", DIFF_HEAD + """
frontend fe
    bind 127.0.0.1:@fe@
""" + SLOTS + """\
    http-request capture req.hdr(X-None) id 2 if { path /none }
    http-response set-header X-Res "%[capture.res.hdr(0)]|%[capture.res.hdr(1)]"
    use_backend other if { path_beg /other }
    default_backend be

backend be
    http-request set-header X-Cap "%[capture.req.hdr(0)]|%[capture.req.hdr(1)]|%[capture.req.hdr(2)]"
    server s1 127.0.0.1:@s1@

backend other
    http-request capture method id 0
    http-request capture url id 7
    http-request set-header X-Cap "%[capture.req.hdr(0)]|%[capture.req.hdr(1)]|%[capture.req.hdr(2)]"
    server s1 127.0.0.1:@s1@
""", ("fe",))

UA = (("Host", "www.example.com:8080"), ("User-Agent", "curl/8.0 long agent"), ("Accept", "*/*"))


SCENARIOS = [
    scenario("all-slots", CAPTURE, "fe", req(uri="/a/long/path/over/twenty/chars?q=1", headers=UA)),
    scenario("no-user-agent", CAPTURE, "fe", req(uri="/x", headers=(("Host", "h"),))),
    scenario("failed-fetch-keeps-slot", CAPTURE, "fe", req(uri="/none", headers=UA)),
    scenario("backend-overwrites-by-id", CAPTURE, "fe", req(uri="/other/p", headers=UA)),
    scenario("keep-alive-slots-reset", CAPTURE, "fe", (req(uri="/first", headers=UA), req(uri="/second", headers=(("Host", "h2"),)))),
]


@needs_haproxy
def test_differential_capture(tmp_path):
    assert_same(CAPTURE, SCENARIOS, tmp_path)


@pytest.fixture
def backend():
    rsp = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
    b = RawBackend(lambda req: rsp)
    yield b
    b.stop()


def test_httplog_shows_every_slot(proxy, syslog, backend):
    """The line haproxy 2.6.12 logged for this config and these requests (2026-11-27):
    ``{GET|/abc|curl-} {nginx/1.|text/plain}`` and ``{GET|/|} {nginx/1.|text/plain}``."""
    port = free_port()
    proxy(f"global\n    log 127.0.0.1:{syslog.port} local0\n"
          "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n"
          "    timeout client 5s\n    timeout server 2s\n"
          f"frontend fe\n    bind 127.0.0.1:{port}\n{SLOTS}    default_backend be\n"
          f"backend be\n    http-request capture method id 0\n    server s1 127.0.0.1:{backend.port}\n",
          wait_ports=[port])
    out = exchange(port, [b"GET /abc?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: curl-agent\r\n\r\n", None,
                          b"GET / HTTP/1.1\r\nHost: h\r\nUser-Agent:\r\n\r\n"])
    assert out.count(b"200 OK") == 2

    def lines():
        got = [ln for ln in syslog.lines if parse_httplog(ln)]
        return got if len(got) >= 2 else None

    first, second = wait_for(lines, timeout=5, what="2 httplog lines")
    assert '{GET|/abc|curl-} {nginx/1.|text/plain} "GET /abc?x=1 HTTP/1.1"' in first
    assert '{GET|/|} {nginx/1.|text/plain} "GET / HTTP/1.1"' in second
