"""Stick tables for server persistence (``stick-table`` + ``stick on|match|store-*``), live.

gproxy is started as a user would (``gproxy -f cfg``); the servers are small Python
servers that say their name.  Each scenario runs against gproxy and, when it is
installed, against the real haproxy 2.6, and both must pick the same servers.
"""

from __future__ import annotations

import http.client
import socket
from pathlib import Path

import pytest
from helpers import free_port, wait_for

from integration.sidebyside import FLAVOURS, Running, cli, srv_status

pytestmark = pytest.mark.timeout(60)

def _tcp_name(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        f = c.makefile("rb")
        return f.readline().decode().strip()


def _get(port: int, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """One request on a new connection: (server name, x-sid)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", "/", headers=headers or {})
        r = c.getresponse()
        return r.read().decode(), r.getheader("x-sid") or ""
    finally:
        c.close()


DEFAULTS = """\
defaults
    timeout connect 2s
    timeout client 10s
    timeout server 10s
"""


# ---------------------------------------------------------------------- galera


def _galera(flavour: str, tmp_path: Path, servers) -> list[str]:
    db1, db2, db3 = servers("db1", "db2", "db3")
    port = free_port()
    sock = str(tmp_path / f"{flavour}.sock")
    cfg = f"""\
global
    stats socket {sock} level admin
{DEFAULTS}
listen mysql
    bind 127.0.0.1:{port}
    mode tcp
    stick-table type ip size 1000
    stick on dst
    default-server check inter 100 fall 1 rise 1
    server db1 127.0.0.1:{db1.port} backup
    server db2 127.0.0.1:{db2.port} backup
    server db3 127.0.0.1:{db3.port} backup
"""
    p = Running(flavour, cfg, tmp_path, port)
    try:
        wait_for(lambda: all(srv_status(sock, "mysql", s) == "UP" for s in ("db1", "db2", "db3")), timeout=10,
                 what="all servers up")
        seen = [_tcp_name(port), _tcp_name(port)]
        db1.stop()
        wait_for(lambda: srv_status(sock, "mysql", "db1").startswith("DOWN"), timeout=10, what="db1 down")
        seen += [_tcp_name(port), _tcp_name(port)]
        db1.start()
        wait_for(lambda: srv_status(sock, "mysql", "db1") == "UP", timeout=10, what="db1 up again")
        seen += [_tcp_name(port), _tcp_name(port)]
        # an operator can move it back: put db2 in maintenance
        cli(sock, "set server mysql/db2 state maint")
        seen += [_tcp_name(port)]
        cli(sock, "set server mysql/db2 state ready")
        seen += [_tcp_name(port)]
        return seen
    finally:
        p.stop()


def test_galera_failover_stays_on_the_new_server(tmp_path, servers):
    """The OpenStack MariaDB VIP: once traffic failed over from db1 to db2 it stays on
    db2 when db1 comes back (the entry for key ``dst`` names db2)."""
    seen = _galera("gproxy", tmp_path, servers)
    assert seen == ["db1", "db1", "db2", "db2", "db2", "db2", "db1", "db1"]


@pytest.mark.parametrize("flavour", FLAVOURS[1:])
def test_galera_same_as_haproxy(tmp_path, servers, flavour):
    assert _galera(flavour, tmp_path, servers) == _galera("gproxy", tmp_path, servers)


# ---------------------------------------------------------------------- http scenarios


def _http(flavour: str, tmp_path: Path, servers, body: str, requests) -> list[str]:
    s1, s2 = servers("s1", "s2", http=True)
    port = free_port()
    cfg = f"""\
{DEFAULTS}
{body.format(port=port, s1=s1.port, s2=s2.port)}
"""
    p = Running(flavour, cfg, tmp_path, port)
    try:
        return requests(port)
    finally:
        p.stop()


SRC = """\
listen web
    bind 127.0.0.1:{port}
    mode http
    balance roundrobin
    stick-table type ip size 100 expire 30s
    stick on src
    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}
"""


def _src_requests(port: int) -> list[str]:
    out = [_get(port)[0] for _ in range(4)]
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)  # keep-alive: each request
    for _ in range(3):
        c.request("GET", "/")
        out.append(c.getresponse().read().decode())
    c.close()
    return out


SPLIT = """\
backend st
    stick-table type string len 32 size 100
listen web
    bind 127.0.0.1:{port}
    mode http
    balance roundrobin
    stick match req.hdr(x-user) table st
    stick store-request req.hdr(x-user) table st
    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}
"""


def _user_requests(*users: str):
    def run(port: int) -> list[str]:
        return [_get(port, {"x-user": u} if u else None)[0] for u in users]

    return run


RESPONSE = """\
listen web
    bind 127.0.0.1:{port}
    mode http
    balance roundrobin
    stick-table type string len 32 size 100
    stick store-response res.hdr(x-sid)
    stick match req.cook(sid)
    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}
"""


def _cookie_requests(port: int) -> list[str]:
    out = []
    name, sid1 = _get(port)
    out.append(name)
    name, sid2 = _get(port)
    out.append(name)
    for sid in (sid1, sid1, sid1, sid2, sid2, "nope-tok"):
        out.append(_get(port, {"cookie": f"sid={sid}"})[0])
    return out


NOPURGE = """\
listen web
    bind 127.0.0.1:{port}
    mode http
    balance roundrobin
    stick-table type string size 1 nopurge
    stick on req.hdr(x-user)
    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}
"""

PURGE = NOPURGE.replace(" nopurge", "")

SCENARIOS = {
    # stick on src: one client stays on the first server roundrobin gave it
    "src": (SRC, _src_requests, ["s1"] * 7),
    # match and store split, on a table declared in another backend
    "split": (SPLIT, _user_requests("alice", "bob", "alice", "alice", "bob", ""),
              ["s1", "s2", "s1", "s1", "s2", "s1"]),
    # the server's response header is stored, the request cookie matched
    "response": (RESPONSE, _cookie_requests, ["s1", "s2", "s1", "s1", "s1", "s2", "s2", "s1"]),
    # a full nopurge table stores nothing more: bob is balanced every time
    "nopurge": (NOPURGE, _user_requests("alice", "bob", "bob", "alice", "bob"), ["s1", "s2", "s1", "s1", "s2"]),
    # a full table drops its oldest entry for the new one
    "purge": (PURGE, _user_requests("alice", "bob", "bob", "alice", "alice"), ["s1", "s2", "s2", "s1", "s1"]),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_http_persistence(tmp_path, servers, name):
    body, requests, expected = SCENARIOS[name]
    assert _http("gproxy", tmp_path, servers, body, requests) == expected


@pytest.mark.parametrize("flavour", FLAVOURS[1:])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_http_persistence_same_as_haproxy(tmp_path, servers, name, flavour):
    body, requests, expected = SCENARIOS[name]
    assert _http(flavour, tmp_path, servers, body, requests) == expected


# ---------------------------------------------------------------------- tcp details


def test_tcp_store_once_connected_and_redispatch(tmp_path, servers):
    """mode tcp stores when the server connection is established (even if nothing is
    exchanged), and a stuck server that refuses is left by ``option redispatch``: the
    server finally used is stored."""
    s1, s2 = servers("s1", "s2")
    port = free_port()
    cfg = f"""\
{DEFAULTS}
listen t
    bind 127.0.0.1:{port}
    mode tcp
    balance roundrobin
    option redispatch
    retries 1
    stick-table type ip size 10
    stick on src
    server s1 127.0.0.1:{s1.port}
    server s2 127.0.0.1:{s2.port}
"""
    p = Running("gproxy", cfg, tmp_path, port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            wait_for(lambda: s1.conns, timeout=5, what="the connection to s1")
        assert [_tcp_name(port) for _ in range(3)] == ["s1", "s1", "s1"]
        s1.stop()  # no health check: the stuck server refuses, the retry redispatches
        assert _tcp_name(port) == "s2"
        s1.start()
        assert [_tcp_name(port) for _ in range(2)] == ["s2", "s2"]
    finally:
        p.stop()
