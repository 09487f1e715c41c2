"""Stick tables for server persistence (``stick-table`` + ``stick on|match|store-*``), live.

gproxy is started as a user would (``gproxy -f cfg``); the servers are small Python
servers that say their name.  Each scenario runs against gproxy and, when it is
installed, against the real haproxy 2.6, and both must pick the same servers.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from helpers import free_port, wait_for, wait_listening

pytestmark = pytest.mark.timeout(60)

HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
FLAVOURS = ["gproxy", pytest.param("haproxy", marks=pytest.mark.skipif(HAPROXY is None, reason="needs haproxy"))]
REPO = Path(__file__).resolve().parents[2]


class NameServer:
    """Says its name: in mode tcp one line on accept; in mode http a 200 whose body is
    the name, with ``x-sid: <name>-tok``.  ``stop()`` closes the listener and every
    connection; ``start()`` listens again on the same port."""

    def __init__(self, name: str, http: bool = False, port: int = 0) -> None:
        self.name = name
        self.http = http
        self.port = port or free_port()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.lsock: socket.socket | None = None
        self.start()

    def start(self) -> None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.lsock = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, s: socket.socket) -> None:
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c: socket.socket) -> None:
        try:
            if not self.http:
                c.sendall(self.name.encode() + b"\n")
                while c.recv(4096):
                    pass
                return
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(4096)
                    if not d:
                        return
                    buf += d
                _, _, buf = buf.partition(b"\r\n\r\n")
                body = self.name.encode()
                c.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nx-sid: %s-tok\r\n\r\n%s"
                          % (len(body), body, body))
        except OSError:
            pass
        finally:
            c.close()

    def stop(self) -> None:
        if self.lsock is not None:
            try:
                self.lsock.shutdown(socket.SHUT_RDWR)  # wakes the accept() of its thread
            except OSError:
                pass
            self.lsock.close()
            self.lsock = None
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns.clear()


class Running:
    """gproxy (``gproxy -f``) or haproxy (``haproxy -db -f``) on a config text."""

    def __init__(self, flavour: str, cfg: str, tmp_path: Path, port: int) -> None:
        path = tmp_path / f"{flavour}.cfg"
        path.write_text(cfg)
        cmd = [HAPROXY, "-db", "-f", str(path)] if flavour == "haproxy" else ["gproxy", "-f", str(path)]
        if flavour == "gproxy" and not shutil.which("gproxy"):
            cmd = [os.sys.executable, "-m", "gproxy", "-f", str(path)]
        self.err = tmp_path / f"{flavour}.stderr"
        with open(self.err, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                         cwd=str(tmp_path), start_new_session=True)
        try:
            wait_listening(port, timeout=15)
        except AssertionError:
            self.stop()
            raise AssertionError(f"{flavour} did not start: {self.err.read_text()}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _cli(sock_path: str, cmd: str) -> str:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sock_path)
    s.sendall(cmd.encode() + b"\n")
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    return out.decode()


def _status(sock_path: str, px: str, srv: str) -> str:
    for line in _cli(sock_path, "show stat").splitlines():
        f = line.split(",")
        if len(f) > 17 and f[0] == px and f[1] == srv:
            return f[17]
    return ""


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


@pytest.fixture
def servers():
    made: list[NameServer] = []

    def make(*names: str, http: bool = False) -> list[NameServer]:
        out = [NameServer(n, http=http) for n in names]
        made.extend(out)
        return out

    yield make
    for s in made:
        s.stop()


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
        wait_for(lambda: all(_status(sock, "mysql", s) == "UP" for s in ("db1", "db2", "db3")), timeout=10,
                 what="all servers up")
        seen = [_tcp_name(port), _tcp_name(port)]
        db1.stop()
        wait_for(lambda: _status(sock, "mysql", "db1").startswith("DOWN"), timeout=10, what="db1 down")
        seen += [_tcp_name(port), _tcp_name(port)]
        db1.start()
        wait_for(lambda: _status(sock, "mysql", "db1") == "UP", timeout=10, what="db1 up again")
        seen += [_tcp_name(port), _tcp_name(port)]
        # an operator can move it back: put db2 in maintenance
        _cli(sock, "set server mysql/db2 state maint")
        seen += [_tcp_name(port)]
        _cli(sock, "set server mysql/db2 state ready")
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
