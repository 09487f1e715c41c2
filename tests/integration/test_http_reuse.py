"""``mode http`` server connections and connection lifetime: a server connection the
server closed while idle is replaced without failing the request, ``http-reuse never``
keeps connections private, soft stop closes idle keep-alive clients, and
``option http-buffer-request`` waits for the body before connecting.
"""

from __future__ import annotations

import signal
import socket
import time

import pytest
from helpers import free_port, wait_for

from integration.httpkit import OK, read_response

pytestmark = pytest.mark.timeout(60)

OK_RSP = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


def start(proxy, backend, extra=""):
    port = free_port()
    cfg = ("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"
           f"listen fe\n    bind 127.0.0.1:{port}\n{extra}    server s1 127.0.0.1:{backend.port}\n")
    p = proxy(cfg, wait_ports=[port])
    return p, port


def test_server_silently_closing_idle_connection(proxy, backend):
    # the server answers, then closes without saying so: the proxy must notice (or retry)
    backend.respond = lambda req: ("close", OK)
    _, port = start(proxy, backend)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    for _ in range(4):
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(s) == (OK_RSP, b"ok")
        time.sleep(0.05)
    s.close()
    assert len(backend.requests) == 4 and backend.connections == 4


def test_server_closing_idle_connection_right_before_reuse(proxy, backend):
    # no pause: the close may only be seen when the next request is sent on it
    backend.respond = lambda req: ("close", OK)
    _, port = start(proxy, backend)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    for _ in range(10):
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(s) == (OK_RSP, b"ok")
    s.close()
    assert len(backend.requests) == 10


def test_http_reuse_never_two_clients_two_connections(proxy, backend):
    _, port = start(proxy, backend, "    http-reuse never\n")
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    for _ in range(3):
        for s in socks:
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")
            assert read_response(s) == (OK_RSP, b"ok")
    ids = [{r.conn_id for r in backend.requests[i::2]} for i in range(2)]
    assert len(ids[0]) == 1 and len(ids[1]) == 1 and ids[0] != ids[1]


def test_soft_stop_closes_idle_keepalive_connections(proxy, backend):
    p, port = start(proxy, backend)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
    assert read_response(s) == (OK_RSP, b"ok")
    p.send_signal(signal.SIGUSR1)
    t0 = time.monotonic()
    assert s.recv(100) == b""
    assert time.monotonic() - t0 < 2
    wait_for(lambda: not p.alive(), timeout=5, what="the proxy to exit after the soft stop")


def test_http_buffer_request_waits_for_the_body(proxy, backend):
    _, port = start(proxy, backend, "    option http-buffer-request\n")
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\nabc")
    time.sleep(0.3)
    assert backend.connections == 0
    s.sendall(b"def")
    assert read_response(s) == (OK_RSP, b"ok")
    assert backend.requests[0].raw == b"POST / HTTP/1.1\r\ncontent-length: 6\r\n\r\nabcdef"


def test_no_fd_leak_after_many_sessions(proxy, backend):
    """Sessions ending every way (normal keep-alive, client reset mid-request and
    mid-response wait, server reset, bad request, request timeout, idle keep-alive
    timeout): afterwards the proxy holds no more descriptors than before."""
    import struct
    from concurrent.futures import ThreadPoolExecutor

    def respond(req):
        if b"/reset" in req.head:
            return None
        if b"/slow" in req.head:
            return ("sleep", 0.3)
        return OK

    backend.respond = respond
    p, port = start(proxy, backend, "    option http-server-close\n    timeout http-request 200\n"
                                    "    timeout http-keep-alive 200\n")
    linger0 = struct.pack("ii", 1, 0)

    def one(i):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            kind = i % 6
            if kind == 0:
                for _ in range(3):
                    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
                    read_response(s)
            elif kind == 1:
                s.sendall(b"GET / HTTP/1.1\r\nHost")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
            elif kind == 2:
                s.sendall(b"GET /reset HTTP/1.1\r\n\r\n")
                s.recv(65536)
            elif kind == 3:
                s.sendall(b"GARBAGE\r\n\r\n")
                s.recv(65536)
            elif kind == 4:
                s.sendall(b"GET / HTTP/1.1\r\n")
                s.recv(65536)
            else:
                s.sendall(b"GET /slow HTTP/1.1\r\n\r\n")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
        except OSError:
            pass
        finally:
            s.close()

    one(0)
    time.sleep(0.5)
    base = p.open_fds()
    with ThreadPoolExecutor(30) as ex:
        list(ex.map(one, range(600)))
    wait_for(lambda: p.open_fds() <= base, timeout=10, what=f"the proxy's fds back to {base}")
