"""``mode http`` tunnels: WebSocket upgrades (101) and CONNECT (2xx), with
``timeout tunnel``; the WebSocket checks HAProxy 2.6 makes (a request without a valid
``Sec-WebSocket-Key`` is a 400, a 101 without ``Sec-WebSocket-Accept`` a 502).
"""

from __future__ import annotations

import socket
import time

import pytest
from helpers import free_port, wait_for

from integration.httpkit import ECHO, exchange, parse_httplog, read_response

pytestmark = pytest.mark.timeout(60)

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
WS_REQ = (b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: " + KEY + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
WS_101 = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")


def start(proxy, syslog, backend, extra=""):
    port = free_port()
    cfg = (f"global\n    log 127.0.0.1:{syslog.port} local0\n"
           "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n"
           f"    timeout client 5s\n    timeout server 5s\n{extra}"
           f"listen fe\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:{backend.port}\n")
    proxy(cfg, wait_ports=[port])
    return port


def test_websocket_upgrade_echo(proxy, syslog, backend):
    backend.respond = lambda req: (ECHO, WS_101)
    port = start(proxy, syslog, backend, "    timeout tunnel 3s\n")
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(WS_REQ)
    head, _ = read_response(s, head_only=True)
    assert head == (b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
                    b"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    for msg in (b"\x81\x05hello", b"x" * 100000):
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            got += s.recv(65536)
        assert got == msg
    s.close()
    assert backend.requests[0].head == (b"GET /chat HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
                                        b"sec-websocket-key: " + KEY + b"\r\nsec-websocket-version: 13\r\n\r\n")
    f = wait_for(lambda: next((parse_httplog(x) for x in syslog.lines if parse_httplog(x)), None), timeout=5,
                 what="the log line")
    assert (f["ST"], f["tsc"], f["r"]) == ("101", "----", "GET /chat HTTP/1.1")


def test_websocket_tunnel_timeout(proxy, syslog, backend):
    backend.respond = lambda req: (ECHO, WS_101)
    port = start(proxy, syslog, backend, "    timeout tunnel 500\n")
    t0 = time.monotonic()
    out = exchange(port, [WS_REQ], wait=3)
    assert out.endswith(b"<EOF>") and 0.4 < time.monotonic() - t0 < 2.5
    f = wait_for(lambda: next((parse_httplog(x) for x in syslog.lines if parse_httplog(x)), None), timeout=5,
                 what="the log line")
    assert f["ST"] == "101" and f["tsc"][:2] in ("cD", "sD")


@pytest.mark.parametrize("key", [b"", b"Sec-WebSocket-Key: short\r\n"])
def test_websocket_without_valid_key_is_400(proxy, syslog, backend, key):
    port = start(proxy, syslog, backend)
    req = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key + b"\r\n"
    assert exchange(port, [req]).startswith(b"HTTP/1.1 400 Bad request\r\n")
    assert backend.requests == []


def test_101_without_accept_is_502(proxy, syslog, backend):
    backend.respond = lambda req: (ECHO, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    port = start(proxy, syslog, backend)
    assert exchange(port, [WS_REQ]).startswith(b"HTTP/1.1 502 Bad Gateway\r\n")


def test_connect_tunnel(proxy, syslog, backend):
    backend.respond = lambda req: (ECHO, b"HTTP/1.1 200 Connection established\r\n\r\n")
    port = start(proxy, syslog, backend)
    out = exchange(port, [b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", None, b"tunneled bytes"])
    assert out == b"HTTP/1.1 200 Connection established\r\n\r\ntunneled bytes<OPEN>"
    assert backend.requests[0].head == b"CONNECT a:443 HTTP/1.1\r\nhost: a\r\n\r\n"


def test_connect_refused_by_server_stays_http(proxy, syslog, backend):
    backend.respond = lambda req: b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
    port = start(proxy, syslog, backend)
    out = exchange(port, [b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", None, b"GET / HTTP/1.1\r\n\r\n"])
    assert out == b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n" * 2 + b"<OPEN>"
