"""``mode tcp`` proxying over real loopback sockets: bind forms, limits, timeouts, queue,
retries/redispatch, PROXY protocol both ways, and the ``option tcplog`` line of each
session, field by field.

Run against HAProxy with ``GPROXY_TEST_PROXY=haproxy``: every expectation here is what
HAProxy 2.6 does for the same configuration and the same client/server behaviour.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

import pytest
from helpers import TcpEchoServer, _ThreadedServer, free_port, parse_tcplog, wait_for

pytestmark = pytest.mark.timeout(30)

LOCAL = "127.0.0.1"


# ------------------------------------------------------------------ small servers
class HoldServer(_ThreadedServer):
    """Accepts, records what it receives, never sends.  ``fin_after_accept`` makes it
    shut its write side at once (the server half-closes); ``hold_after_eof`` keeps the
    connection open after the client's FIN."""

    def __init__(self, fin_after_accept=False, hold_after_eof=True):
        self.fin_after_accept = fin_after_accept
        self.hold_after_eof = hold_after_eof
        self.data: list[bytes] = []
        self.eofs = 0
        super().__init__()

    def handle(self, conn, addr):
        if self.fin_after_accept:
            conn.shutdown(socket.SHUT_WR)
        buf = b""
        self.data.append(buf)
        idx = len(self.data) - 1
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
            self.data[idx] = buf
        self.eofs += 1
        if self.hold_after_eof:
            while not self._stopping:
                time.sleep(0.05)


class Blackhole:
    """A listener that never accepts, its (tiny) backlog filled: SYNs to it go unanswered,
    so a connect to it times out -- without leaving the loopback."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((LOCAL, 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(4):
            f = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            f.setblocking(False)
            f.connect_ex((LOCAL, self.port))
            self.fillers.append(f)
        time.sleep(0.05)

    def close(self):
        for f in self.fillers:
            f.close()
        self.sock.close()


def dead_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    return free_port()


@pytest.fixture
def echo():
    srv = TcpEchoServer()
    yield srv
    srv.stop()


# ------------------------------------------------------------------ config and clients
def cfg(log_port, binds, servers, defaults="", fe="", be="", timeouts=None, glob=""):
    t = {"connect": "1s", "client": "10s", "server": "10s"}
    t.update(timeouts or {})
    out = ["global"]
    if log_port:
        out.append(f"    log {LOCAL}:{log_port} local0")
    out += [glob.rstrip("\n")] if glob else []
    out += ["defaults", "    mode tcp", "    log global", "    option tcplog"]
    out += [f"    timeout {k} {v}" for k, v in t.items()]
    out += [defaults.rstrip("\n")] if defaults else []
    out += ["frontend fe"] + [f"    bind {b}" for b in binds]
    out += [fe.rstrip("\n")] if fe else []
    out += ["    default_backend be", "backend be"]
    out += [be.rstrip("\n")] if be else []
    out += [f"    server {s}" for s in servers]
    return "\n".join(out) + "\n"


def connect(port, host=LOCAL, timeout=5.0, source=None):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect((host, port))
    return s


def echo_ok(sock, data=b"ping"):
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = sock.recv(len(data) - len(got))
        if not chunk:
            return False
        got += chunk
    return got == data


def closed_within(sock, timeout):
    """Seconds until the peer closed (EOF or reset), or None if still open after *timeout*."""
    t0 = time.monotonic()
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return None
    return time.monotonic() - t0


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def consecutive_free_ports(n):
    for _ in range(50):
        base = free_port()
        socks = []
        try:
            for i in range(n):
                s = socket.socket()
                socks.append(s)
                s.bind((LOCAL, base + i))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no run of free ports")


def num(field):
    return int(field.lstrip("+"))


# ------------------------------------------------------------------ bind forms
BIND_FORMS = ["ip", "colon", "star", "zeros", "ipv6", "localhost", "list", "range"]


@pytest.mark.parametrize("form", BIND_FORMS)
def test_bind_forms(proxy, echo, form):
    p = free_port()
    targets = [(LOCAL, p)]
    if form == "ip":
        bind = f"{LOCAL}:{p}"
    elif form == "colon":
        bind = f":{p}"
    elif form == "star":
        bind = f"*:{p}"
    elif form == "zeros":
        bind = f"0.0.0.0:{p}"
        targets.append(("127.0.0.2", p))
    elif form == "ipv6":
        if not ipv6_loopback():
            pytest.skip("no IPv6 loopback here")
        bind = f"[::1]:{p}"
        targets = [("::1", p)]
    elif form == "localhost":
        bind = f"localhost:{p}"
    elif form == "list":
        q = free_port()
        bind = f"{LOCAL}:{p},{LOCAL}:{q}"
        targets.append((LOCAL, q))
    else:
        base = consecutive_free_ports(3)
        bind = f"{LOCAL}:{base}-{base + 2}"
        targets = [(LOCAL, base + i) for i in range(3)]
    proxy(cfg(None, [bind], [f"s1 {LOCAL}:{echo.port}"]), wait_ports=targets)
    for host, port in targets:
        with connect(port, host) as c:
            assert echo_ok(c, f"via {host}:{port}".encode())


# ------------------------------------------------------------------ limits
def test_frontend_maxconn_waits_in_backlog(proxy, echo):
    port = free_port()
    proxy(cfg(None, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{echo.port}"], fe="    maxconn 2"), wait_ports=[port])
    a, b = connect(port), connect(port)
    assert echo_ok(a) and echo_ok(b)
    c = connect(port)  # the kernel completes it; the proxy does not accept it yet
    c.sendall(b"third")
    c.settimeout(0.7)
    with pytest.raises(socket.timeout):
        c.recv(10)
    b.close()
    c.settimeout(5)
    assert c.recv(10) == b"third"
    assert echo_ok(a)
    a.close()
    c.close()


# ------------------------------------------------------------------ timeouts
def test_timeout_connect(proxy, syslog):
    hole = Blackhole()
    try:
        port = free_port()
        proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{hole.port}"],
                  be="    retries 1", timeouts={"connect": "300ms"}), wait_ports=[port])
        with connect(port) as c:
            cport = c.getsockname()[1]
            took = closed_within(c, 5)
        assert took is not None and 0.5 <= took < 2.5, took
        f = syslog.wait_tcplog(cport)
        assert (f["b"], f["s"], f["ts"]) == ("be", "s1", "sC")
        assert f["Tc"] == "-1" and num(f["Tt"]) >= 550
        assert f["B"] == "0" and f["rc"] == "1"
    finally:
        hole.close()


def test_timeout_client(proxy, syslog, echo):
    port = free_port()
    proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{echo.port}"], timeouts={"client": "400ms"}),
          wait_ports=[port])
    with connect(port) as c:
        cport = c.getsockname()[1]
        assert echo_ok(c, b"abc")
        took = closed_within(c, 5)
    assert took is not None and 0.3 <= took < 2.0, took
    f = syslog.wait_tcplog(cport)
    assert f["ts"] == "cD" and f["B"] == "3"
    assert 400 <= num(f["Tt"]) < 2000


def test_timeout_server(proxy, syslog):
    hold = HoldServer()
    try:
        port = free_port()
        proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{hold.port}"], timeouts={"server": "400ms"}),
              wait_ports=[port])
        with connect(port) as c:
            cport = c.getsockname()[1]
            c.sendall(b"request")
            took = closed_within(c, 5)
        assert took is not None and 0.3 <= took < 2.0, took
        f = syslog.wait_tcplog(cport)
        assert f["ts"] == "sD" and f["B"] == "0"
        assert 400 <= num(f["Tt"]) < 2000
        assert hold.data and hold.data[0] == b"request"
    finally:
        hold.stop()


def test_timeout_tunnel_overrides_client_and_server(proxy, syslog, echo):
    port = free_port()
    proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{echo.port}"],
              timeouts={"client": "200ms", "server": "200ms", "tunnel": "1200ms"}), wait_ports=[port])
    with connect(port) as c:
        cport = c.getsockname()[1]
        assert echo_ok(c)
        time.sleep(0.6)  # idle for 3x the client/server timeouts, well within the tunnel one
        assert echo_ok(c, b"still open")
        took = closed_within(c, 5)
    assert took is not None and 1.0 <= took < 3.0, took
    f = syslog.wait_tcplog(cport)
    assert f["ts"] == "cD"


def test_timeout_client_fin(proxy, syslog):
    """The server half-closes at once and the proxy forwards that FIN; the client stays
    silent and open: HAProxy then reads the client under ``timeout client-fin`` (not
    ``timeout client``) and cuts the session."""
    hold = HoldServer(fin_after_accept=True)
    try:
        port = free_port()
        proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{hold.port}"],
                  timeouts={"client-fin": "400ms"}), wait_ports=[port])
        with connect(port) as c:
            cport = c.getsockname()[1]
            c.settimeout(5)
            assert c.recv(10) == b""  # the server's FIN is forwarded
            t0 = time.monotonic()
            wait_for(lambda: hold.eofs == 1, timeout=8, what="the proxy to close the server side")
            took = time.monotonic() - t0
        assert took < 2.5, took
        f = syslog.wait_tcplog(cport)
        assert f["ts"] == "cD", f
        assert 350 <= num(f["Tt"]) < 2500
    finally:
        hold.stop()


def test_timeout_server_fin(proxy, syslog):
    """The client half-closes; the server keeps its side open and silent: once the proxy
    forwarded the FIN, the server is read under ``timeout server-fin``."""
    hold = HoldServer(hold_after_eof=True)
    try:
        port = free_port()
        proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{hold.port}"],
                  timeouts={"server-fin": "400ms"}), wait_ports=[port])
        with connect(port) as c:
            cport = c.getsockname()[1]
            c.sendall(b"bye")
            c.shutdown(socket.SHUT_WR)
            wait_for(lambda: hold.eofs == 1, what="the server to see the client's FIN")
            took = closed_within(c, 8)
        assert took is not None and took < 2.5, took
        f = syslog.wait_tcplog(cport)
        assert f["ts"] == "sD", f
        assert 350 <= num(f["Tt"]) < 2500
    finally:
        hold.stop()


def test_timeout_queue(proxy, syslog, echo):
    port = free_port()
    proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{echo.port} maxconn 1"],
              timeouts={"queue": "500ms"}), wait_ports=[port])
    with connect(port) as first:
        assert echo_ok(first)
        with connect(port) as second:
            cport = second.getsockname()[1]
            second.sendall(b"queued")
            took = closed_within(second, 5)
        assert took is not None and 0.4 <= took < 2.5, took
        f = syslog.wait_tcplog(cport)
        # queued in the backend queue: no server was assigned
        assert (f["s"], f["ts"]) == ("<NOSRV>", "sQ")
        assert 450 <= num(f["Tw"]) < 2500 and f["Tc"] == "-1"
        assert f["B"] == "0" and (f["sq"], f["bq"]) == ("0", "1")
        assert echo_ok(first)


def test_queued_session_proceeds_when_slot_frees(proxy, syslog, echo):
    port = free_port()
    proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{echo.port} maxconn 1"],
              timeouts={"queue": "5s"}), wait_ports=[port])
    first = connect(port)
    assert echo_ok(first)
    second = connect(port)
    cport = second.getsockname()[1]
    second.sendall(b"waiting")
    second.settimeout(0.5)
    with pytest.raises(socket.timeout):
        second.recv(10)
    first.close()
    second.settimeout(5)
    assert second.recv(10) == b"waiting"
    second.close()
    f = syslog.wait_tcplog(cport)
    assert f["ts"] == "--" and num(f["Tw"]) >= 400 and num(f["Tc"]) >= 0
    assert (f["sq"], f["bq"]) == ("0", "1")


# ------------------------------------------------------------------ retries / redispatch
def test_retries_then_refused(proxy, syslog):
    port = free_port()
    dead = dead_port()
    proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{dead}"], be="    retries 2",
              timeouts={"connect": "200ms"}), wait_ports=[port])
    with connect(port) as c:
        cport = c.getsockname()[1]
        took = closed_within(c, 5)
    assert took is not None and took < 3.0
    f = syslog.wait_tcplog(cport)
    assert (f["s"], f["ts"], f["rc"]) == ("s1", "SC", "2")
    assert f["Tc"] == "-1"


def test_retries_with_redispatch(proxy, syslog, echo):
    port = free_port()
    dead = dead_port()
    proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{dead} weight 100", f"s2 {LOCAL}:{echo.port} weight 1"],
              be="    retries 2\n    option redispatch", timeouts={"connect": "1s"}), wait_ports=[port])
    with connect(port) as c:
        cport = c.getsockname()[1]
        assert echo_ok(c)
    f = syslog.wait_tcplog(cport)
    # with more than one active server in a non-hash backend, HAProxy redispatches at the
    # first retry already (and does not pause before it)
    assert f["s"] == "s2" and f["ts"] == "--"
    assert f["rc"] == "+1"
    assert num(f["Tt"]) < 500  # no min(timeout connect, 1s) = 1s turnaround pause
    assert num(f["Tc"]) >= 0


# ------------------------------------------------------------------ PROXY protocol
def v2_header(src, sport, dst, dport):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return b"\r\n\r\n\x00\r\nQUIT\n" + b"\x21\x11" + struct.pack("!H", len(body)) + body


@pytest.mark.parametrize("version", [1, 2])
def test_accept_proxy(proxy, syslog, echo, version):
    port = free_port()
    proxy(cfg(syslog.port, [f"{LOCAL}:{port} accept-proxy"], [f"s1 {LOCAL}:{echo.port}"]), wait_ports=[port])
    if version == 1:
        head = f"PROXY TCP4 127.1.2.3 {LOCAL} 40000 {port}\r\n".encode()
    else:
        head = v2_header("127.1.2.3", 40000, LOCAL, port)
    with connect(port) as c:
        c.sendall(head + b"data")
        got = b""
        while len(got) < 4:
            got += c.recv(10)
        assert got == b"data"
    assert echo.received == 4  # the header was consumed, not forwarded
    f = wait_for(lambda: next((x for x in (syslog.find("127.1.2.3:40000 "),) if x), None),
                 what="the log line with the PROXY source")
    fields = parse_tcplog(f)
    assert fields["ci"] == "127.1.2.3" and fields["cp"] == "40000" and fields["ts"] == "--"


def test_accept_proxy_rejects_garbage(proxy, echo):
    port = free_port()
    proxy(cfg(None, [f"{LOCAL}:{port} accept-proxy"], [f"s1 {LOCAL}:{echo.port}"]), wait_ports=[port])
    with connect(port) as c:
        c.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert closed_within(c, 5) is not None
    assert echo.connections == 0


class Recorder(_ThreadedServer):
    """Records every byte a connection sends, and closes when the client does."""

    def __init__(self):
        self.data: list[bytes] = []
        self.lock = threading.Lock()
        super().__init__()

    def handle(self, conn, addr):
        buf = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
        with self.lock:
            self.data.append(buf)


@pytest.mark.parametrize("kw", ["send-proxy", "send-proxy-v2"])
def test_send_proxy(proxy, kw):
    rec = Recorder()
    try:
        port = free_port()
        proxy(cfg(None, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{rec.port} {kw}"]), wait_ports=[port])
        with connect(port) as c:
            cport = c.getsockname()[1]
            c.sendall(b"payload")
            c.shutdown(socket.SHUT_WR)
            closed_within(c, 5)
        wait_for(lambda: rec.data, what="the server to record the connection")
        if kw == "send-proxy":
            head = f"PROXY TCP4 {LOCAL} {LOCAL} {cport} {port}\r\n".encode()
        else:
            head = v2_header(LOCAL, cport, LOCAL, port)
        assert rec.data[0] == head + b"payload"
    finally:
        rec.stop()


# ------------------------------------------------------------------ logs
def test_tcplog_fields_normal_session(proxy, syslog, echo):
    port = free_port()
    proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{echo.port}"]), wait_ports=[port])
    t0 = time.time()
    with connect(port) as c:
        cport = c.getsockname()[1]
        assert echo_ok(c, b"hello world")
        time.sleep(0.2)
    f = syslog.wait_tcplog(cport)
    line = f["line"]
    assert line.startswith("<134>") and "]: 127.0.0.1:" in line
    assert f["ci"] == LOCAL and f["ft"] == "fe" and (f["b"], f["s"]) == ("be", "s1")
    t = time.strptime(f["t"].split(".")[0], "%d/%b/%Y:%H:%M:%S")
    assert abs(time.mktime(t) - t0) < 5
    # HAProxy 2.6 logs %Tw in TCP mode as t_queue - t_request with t_request = -1: one
    # more than the time spent queued, so never 0
    assert 1 <= num(f["Tw"]) < 100 and 0 <= num(f["Tc"]) < 1000 and 200 <= num(f["Tt"]) < 3000
    assert f["B"] == "11" and f["ts"] == "--"
    # counted once the session left the backend and the server: 1/1/0/0
    assert (f["ac"], f["fc"], f["bc"], f["sc"], f["rc"]) == ("1", "1", "0", "0", "0")
    assert (f["sq"], f["bq"]) == ("0", "0")


def test_tcplog_server_refused(proxy, syslog):
    port = free_port()
    proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{dead_port()}"], be="    retries 0"),
          wait_ports=[port])
    with connect(port) as c:
        cport = c.getsockname()[1]
        closed_within(c, 5)
    f = syslog.wait_tcplog(cport)
    assert f["ts"] == "SC" and f["Tc"] == "-1" and f["B"] == "0" and f["rc"] == "0"
    assert 1 <= num(f["Tw"]) < 100


def test_tcplog_client_abort(proxy, syslog):
    hold = HoldServer()
    try:
        port = free_port()
        proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{hold.port}"]), wait_ports=[port])
        c = connect(port)
        cport = c.getsockname()[1]
        c.sendall(b"x")
        wait_for(lambda: hold.data and hold.data[0] == b"x", what="the server to get the byte")
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()  # RST
        f = syslog.wait_tcplog(cport)
        assert f["ts"] == "CD"
    finally:
        hold.stop()


def test_dontlognull(proxy, syslog, echo):
    port = free_port()
    proxy(cfg(syslog.port, [f"{LOCAL}:{port}"], [f"s1 {LOCAL}:{echo.port}"], defaults="    option dontlognull"),
          wait_ports=[port])
    null = connect(port)
    null_port = null.getsockname()[1]
    null.close()
    # the proxy opened and closed its server connection: the null session is over
    wait_for(lambda: echo.connections == 1 and echo.active == 0, what="the null session to end")
    with connect(port) as c:
        cport = c.getsockname()[1]
        assert echo_ok(c)
    syslog.wait_tcplog(cport)
    assert not [x for x in syslog.lines if f":{null_port} " in x]
