"""mode tcp with ACLs: tcp-request connection rules and conditional use_backend (real sockets)."""

import socket

import pytest
from helpers import TcpEchoServer, free_port, wait_for

from integration.sidebyside import cli

pytestmark = pytest.mark.timeout(60)


def _roundtrip(port: int, src: str = "127.0.0.1", payload: bytes = b"ping") -> bytes:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
    except ConnectionResetError:  # haproxy may reset a rejected connection before connect() returns
        return b""
    with s:
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
    stats socket {tmp_path}/stats.sock level admin
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
        # the refused connection is a connection (conn_tot, dcon), not a session (stot)
        head, *rows = cli(str(tmp_path / "stats.sock"), "show stat").splitlines()
        names = head.lstrip("# ").split(",")
        fe = dict(zip(names, next(r.split(",") for r in rows if r.startswith("fe,FRONTEND,"))))
        assert (fe["conn_tot"], fe["dcon"], fe["stot"]) == ("3", "1", "2")
        info = dict(line.split(": ", 1) for line in cli(str(tmp_path / "stats.sock"), "show info").splitlines() if ": " in line)
        assert 1 <= int(info["MaxSessRate"]) <= 2 and int(info["MaxConnRate"]) >= int(info["MaxSessRate"])
    finally:
        one.stop()
        two.stop()


def test_connection_rules_see_the_peer_before_the_proxy_header(proxy) -> None:
    """tcp-request connection rules run before an accept-proxy bind reads the PROXY
    header, in mode http as in mode tcp (haproxy 2.6): they see the real peer address,
    and the request then sees the address the header announces."""
    port = free_port()
    cfg = f"""
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port} accept-proxy
    tcp-request connection reject if {{ src 10.9.9.9 }}
    http-request return status 200 content-type text/plain lf-string "src=%[src]"
"""
    proxy(cfg, wait_ports=[port])
    for src in ("10.9.9.9", "10.1.1.1"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(f"PROXY TCP4 {src} 127.0.0.1 1234 80\r\nGET / HTTP/1.1\r\nHost: x\r\n"
                      "Connection: close\r\n\r\n".encode())
            got = b""
            while chunk := s.recv(4096):
                got += chunk
        assert got.startswith(b"HTTP/1.1 200 ") and got.endswith(f"src={src}".encode()), got
