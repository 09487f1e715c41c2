"""mode tcp with ACLs: tcp-request connection rules and conditional use_backend (real sockets)."""

import socket

import pytest
from helpers import TcpEchoServer, free_port, wait_for

pytestmark = pytest.mark.timeout(60)


def _roundtrip(port: int, src: str = "127.0.0.1", payload: bytes = b"ping") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0)) as s:
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            return b""
        out = b""
        while True:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:  # a rejected connection may be reset
                return out
            if not chunk:
                return out
            out += chunk


def test_connection_reject_and_backend_switching(proxy, tmp_path) -> None:
    one, two = TcpEchoServer("127.0.0.1"), TcpEchoServer("127.0.0.1")
    p1, p2 = free_port(), free_port()
    cfg = f"""
global
    maxconn 100
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{p1}
    bind 127.0.0.1:{p2}
    tcp-request connection reject if {{ src 127.0.0.2 }}
    use_backend b2 if {{ dst_port {p2} }}
    default_backend b1
backend b1
    server one 127.0.0.1:{one.port}
backend b2
    server two 127.0.0.1:{two.port}
"""
    try:
        proxy(cfg, wait_ports=[p1, p2])
        assert _roundtrip(p1) == b"ping"
        wait_for(lambda: one.connections == 1, what="b1 served the first port")
        assert _roundtrip(p2) == b"ping"
        wait_for(lambda: two.connections == 1, what="b2 served the second port")
        # a rejected client is closed at once and never reaches a server
        assert _roundtrip(p1, src="127.0.0.2") == b""
        assert one.connections == 1 and two.connections == 1
    finally:
        one.stop()
        two.stop()
