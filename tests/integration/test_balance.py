"""Load balancing over real connections: which server each new TCP connection reaches.

Every backend server here is a ``NameServer``: it writes its name as soon as it accepts,
then holds the connection until the client closes it, so the client learns where it
landed and the proxy's per-server connection counts stay exact.  The expected server
sequences were recorded from HAProxy 2.6 on the same configurations
(``GPROXY_TEST_PROXY=haproxy`` re-checks them).
"""

from __future__ import annotations

import socket
import time
from collections import Counter

import pytest
from helpers import SyslogReceiver, _ThreadedServer, free_port, wait_for

pytestmark = pytest.mark.timeout(40)

LOCAL = "127.0.0.1"


class NameServer(_ThreadedServer):
    def __init__(self, name, port=None):
        self.name = name
        super().__init__(port=port)

    def handle(self, conn, addr):
        conn.sendall(self.name.encode() + b"\n")
        while conn.recv(100):
            pass


@pytest.fixture
def servers():
    started = []

    def make(*names, ports=None):
        out = [NameServer(n, port=(ports or {}).get(n)) for n in names]
        started.extend(out)
        return out

    yield make
    for s in started:
        s.stop()


def cfg(port, balance, server_lines, be="", glob="", defaults=""):
    lines = ["global"] + ([glob.rstrip("\n")] if glob else []) + [
        "defaults", "    mode tcp", "    timeout connect 1s", "    timeout client 10s", "    timeout server 10s"]
    lines += [defaults.rstrip("\n")] if defaults else []
    lines += ["frontend fe", f"    bind {LOCAL}:{port}", "    default_backend be", "backend be", f"    balance {balance}"]
    lines += [be.rstrip("\n")] if be else []
    lines += [f"    server {s}" for s in server_lines]
    return "\n".join(lines) + "\n"


def open_conn(port, source=None, timeout=5.0):
    """Connect (optionally from *source*), return (socket, server name)."""
    c = socket.socket()
    c.settimeout(timeout)
    if source:
        c.bind((source, 0))
    c.connect((LOCAL, port))
    name = b""
    while not name.endswith(b"\n"):
        chunk = c.recv(64)
        if not chunk:
            raise ConnectionError("closed before the server named itself")
        name += chunk
    return c, name.decode().strip()


def hit(port, source=None):
    c, name = open_conn(port, source)
    c.close()
    return name


def sequence(port, n, source=None):
    return [hit(port, source) for _ in range(n)]


# ------------------------------------------------------------------ algorithms
def test_roundrobin_weights_sequence(proxy, servers):
    s1, s2, s3 = servers("s1", "s2", "s3")
    port = free_port()
    proxy(cfg(port, "roundrobin", [f"s1 {LOCAL}:{s1.port} weight 3", f"s2 {LOCAL}:{s2.port} weight 1",
                                   f"s3 {LOCAL}:{s3.port} weight 2"]), wait_ports=[port])
    seq = sequence(port, 24)
    assert Counter(seq) == {"s1": 12, "s2": 4, "s3": 8}
    # HAProxy's smooth weighted round robin (lb_fwrr.c): interleaved, never in bursts
    assert seq[:12] == ["s1", "s3", "s1", "s2", "s1", "s3", "s1", "s3", "s1", "s2", "s1", "s3"]
    assert seq[12:] == seq[:12]


def test_static_rr_weights_sequence(proxy, servers):
    s1, s2, s3 = servers("s1", "s2", "s3")
    port = free_port()
    proxy(cfg(port, "static-rr", [f"s1 {LOCAL}:{s1.port} weight 3", f"s2 {LOCAL}:{s2.port} weight 1",
                                  f"s3 {LOCAL}:{s3.port} weight 2"]), wait_ports=[port])
    seq = sequence(port, 12)
    assert seq == ["s1", "s1", "s3", "s1", "s2", "s3", "s1", "s1", "s3", "s1", "s2", "s3"]


def test_leastconn_with_held_connections(proxy, servers):
    s1, s2, s3 = servers("s1", "s2", "s3")
    port = free_port()
    proxy(cfg(port, "leastconn", [f"s1 {LOCAL}:{s1.port}", f"s2 {LOCAL}:{s2.port}", f"s3 {LOCAL}:{s3.port}"]),
          wait_ports=[port])
    held = dict(open_conn(port)[::-1] for _ in range(3))
    assert set(held) == {"s1", "s2", "s3"}  # one each
    # two more on top: they go to two different servers (each then has 2)
    extra = [open_conn(port) for _ in range(2)]
    loaded = {name for _, name in extra}
    assert len(loaded) == 2
    (idle,) = {"s1", "s2", "s3"} - loaded  # the only server still holding one connection
    by_name = {"s1": s1, "s2": s2, "s3": s3}
    # free the one connection of a loaded server: it is now tied with the idle one;
    # free the idle server's connection instead: it becomes the least loaded
    held.pop(idle).close()
    wait_for(lambda: by_name[idle].active == 0, what=f"{idle} to see its connection closed")
    c, name = open_conn(port)
    assert name == idle
    for sock in [c, *held.values(), *(s for s, _ in extra)]:
        sock.close()


def test_source_affinity(proxy, servers):
    s1, s2, s3 = servers("s1", "s2", "s3")
    port = free_port()
    proxy(cfg(port, "source", [f"s1 {LOCAL}:{s1.port} weight 3", f"s2 {LOCAL}:{s2.port} weight 1",
                               f"s3 {LOCAL}:{s3.port} weight 2"]), wait_ports=[port])
    sources = [f"127.0.0.{i}" for i in range(2, 14)]
    first = [hit(port, src) for src in sources]
    # map-based hash: the IPv4 address as an integer, modulo the total weight, into the
    # server map HAProxy builds (same interleaving as static-rr)
    assert first == ["s1", "s1", "s3", "s1", "s2", "s3", "s1", "s1", "s3", "s1", "s2", "s3"]
    again = [hit(port, src) for src in sources]
    assert again == first  # affinity


def test_random_spreads(proxy, servers):
    s1, s2 = servers("s1", "s2")
    port = free_port()
    proxy(cfg(port, "random", [f"s1 {LOCAL}:{s1.port}", f"s2 {LOCAL}:{s2.port}"]), wait_ports=[port])
    counts = Counter(sequence(port, 30))
    assert set(counts) == {"s1", "s2"}


# ------------------------------------------------------------------ server states
def test_disabled_server_gets_nothing(proxy, servers):
    s1, s2, s3 = servers("s1", "s2", "s3")
    port = free_port()
    proxy(cfg(port, "roundrobin", [f"s1 {LOCAL}:{s1.port} disabled", f"s2 {LOCAL}:{s2.port}",
                                   f"s3 {LOCAL}:{s3.port}"]), wait_ports=[port])
    seq = sequence(port, 10)
    assert Counter(seq) == {"s2": 5, "s3": 5}
    assert s1.connections == 0


@pytest.mark.parametrize("allbackups", [False, True], ids=["first-backup", "allbackups"])
def test_backup_servers(proxy, servers, allbackups):
    a, b1, b2 = servers("a", "b1", "b2")
    port = free_port()
    proxy(cfg(port, "roundrobin", [f"a {LOCAL}:{a.port} disabled", f"b1 {LOCAL}:{b1.port} backup",
                                   f"b2 {LOCAL}:{b2.port} backup"],
              be="    option allbackups" if allbackups else ""), wait_ports=[port])
    seq = sequence(port, 6)
    if allbackups:
        assert Counter(seq) == {"b1": 3, "b2": 3}
    else:
        assert seq == ["b1"] * 6


def test_backup_takes_over_when_active_is_down_and_gives_back(proxy, servers):
    dead = free_port()
    b1, = servers("b1")
    port = free_port()
    p = proxy(cfg(port, "roundrobin", [f"a {LOCAL}:{dead} check inter 100ms fall 1 rise 1",
                                       f"b1 {LOCAL}:{b1.port} backup"]), wait_ports=[port])
    p.wait_stderr("Server be/a is DOWN")
    assert sequence(port, 3) == ["b1"] * 3
    servers("a", ports={"a": dead})
    p.wait_stderr("Server be/a is UP")
    assert sequence(port, 3) == ["a"] * 3


def test_slowstart_ramps_weight(proxy, servers):
    dead = free_port()
    s2, = servers("s2")
    port = free_port()
    p = proxy(cfg(port, "roundrobin", [f"s1 {LOCAL}:{dead} weight 100 check inter 100ms fall 1 rise 1 slowstart 5s",
                                       f"s2 {LOCAL}:{s2.port} weight 100"]), wait_ports=[port])
    p.wait_stderr("Server be/s1 is DOWN")
    servers("s1", ports={"s1": dead})
    p.wait_stderr("Server be/s1 is UP")
    early = Counter(sequence(port, 20))
    assert early["s1"] <= 4, early  # just back: a small fraction of its weight

    def ramped():
        c = Counter(sequence(port, 20))
        return c if c["s1"] >= 9 else None

    late = wait_for(ramped, timeout=12, interval=0.2, what="s1 to reach its full weight")
    assert late["s1"] <= 11


# ------------------------------------------------------------------ limits
def test_server_maxconn_queues_in_backend(proxy, servers):
    """All servers full: the next connection waits in the backend queue (no server yet)
    and gets the first slot that frees, whichever server it is on."""
    s1, s2 = servers("s1", "s2")
    port = free_port()
    proxy(cfg(port, "roundrobin", [f"s1 {LOCAL}:{s1.port} maxconn 1", f"s2 {LOCAL}:{s2.port} maxconn 1"],
              defaults="    timeout queue 5s"), wait_ports=[port])
    a, na = open_conn(port)
    b, nb = open_conn(port)
    assert {na, nb} == {"s1", "s2"}
    c = socket.create_connection((LOCAL, port), timeout=5)
    c.settimeout(0.5)
    with pytest.raises(socket.timeout):
        c.recv(10)
    b.close()
    c.settimeout(5)
    assert c.recv(10).decode().strip() == nb
    for s in (a, c):
        s.close()


def test_maxqueue_does_not_bound_the_backend_queue(proxy, servers):
    """Round robin never assigns a full server: sessions wait in the backend queue, which
    ``maxqueue`` (a server queue limit) does not bound."""
    s1, s2 = servers("s1", "s2")
    port = free_port()
    proxy(cfg(port, "roundrobin", [f"s1 {LOCAL}:{s1.port} maxconn 1 maxqueue 1",
                                   f"s2 {LOCAL}:{s2.port} maxconn 1 maxqueue 1"],
              defaults="    timeout queue 5s"), wait_ports=[port])
    held = [open_conn(port)[0] for _ in range(2)]
    waiting = [socket.create_connection((LOCAL, port), timeout=5) for _ in range(3)]
    for w in waiting:
        w.settimeout(0.3)
        with pytest.raises(socket.timeout):  # queued, not refused
            w.recv(10)
    for h in held:
        h.close()
    served = 0
    for w in waiting[:2]:
        w.settimeout(5)
        assert w.recv(10).strip() in (b"s1", b"s2")
        served += 1
        w.close()
    waiting[2].settimeout(5)
    assert waiting[2].recv(10).strip() in (b"s1", b"s2")
    waiting[2].close()
    assert served == 2


def test_server_maxqueue_rejects_when_full(proxy, servers):
    """``balance source`` assigns the server first; once it is full the session waits in
    that server's queue (``%sq``), and once ``maxqueue`` sessions wait there the next one
    is refused at once with ``SQ`` (no ``option redispatch``)."""
    syslog = SyslogReceiver()
    try:
        s1, s2 = servers("s1", "s2")
        port = free_port()
        proxy(cfg(port, "source", [f"s1 {LOCAL}:{s1.port} maxconn 1 maxqueue 1",
                                   f"s2 {LOCAL}:{s2.port} maxconn 1 maxqueue 1"],
                  glob=f"    log {LOCAL}:{syslog.port} local0", defaults="    log global\n    option tcplog\n"
                                                                         "    timeout queue 5s"),
              wait_ports=[port])
        first, name = open_conn(port)  # every connection comes from 127.0.0.1: same server
        queued = socket.create_connection((LOCAL, port), timeout=5)
        queued_port = queued.getsockname()[1]
        queued.settimeout(0.5)
        with pytest.raises(socket.timeout):
            queued.recv(10)
        rejected = socket.create_connection((LOCAL, port), timeout=5)
        rej_port = rejected.getsockname()[1]
        t0 = time.monotonic()
        assert rejected.recv(10) == b""
        assert time.monotonic() - t0 < 1.0
        rejected.close()
        f = syslog.wait_tcplog(rej_port)
        assert (f["s"], f["ts"], f["Tw"], f["Tc"]) == (name, "SQ", "-1", "-1")
        first.close()
        queued.settimeout(5)
        assert queued.recv(10).decode().strip() == name
        queued.close()
        f = syslog.wait_tcplog(queued_port)
        assert f["s"] == name and f["ts"] == "--" and (f["sq"], f["bq"]) == ("1", "0")
    finally:
        syslog.stop()
