"""``mode tcp`` content inspection: ``tcp-request inspect-delay`` / ``tcp-request
content`` rules and ``use_backend`` on the client's first bytes, with the layer-6 fetches
(``req.ssl_sni``, ``req.ssl_hello_type``, ``req.payload`` ...), checked against haproxy 2.6.

* differential runs (skipped without haproxy): one config under ``haproxy -db`` and
  under gproxy, each with its own recording backends and syslog receiver; every scenario
  is played on both at once and compared on the backend that got the connection, the
  bytes it received (forwarded byte for byte) and the ``option tcplog`` line (backend,
  server, termination state, bytes, timers within a tolerance);
* the fetch values haproxy computes for crafted messages (stored with ``set-var`` and
  logged) are what ``gproxy.payload`` computes;
* ``-c`` messages for the new fetches' argument errors;
* a real TLS handshake routed on its SNI through the proxy under test (``proxy``
  fixture: gproxy, or haproxy with ``GPROXY_TEST_PROXY=haproxy``).
"""

from __future__ import annotations

import datetime
import re
import socket
import ssl
import threading
import time
import zlib
from pathlib import Path

import pytest
from differential.harness import ProxyProc, gproxy_cmd, haproxy_cmd, needs_haproxy, selftest
from helpers import SyslogReceiver, free_port, run_check, wait_for
from tlskit import alpn_ext, ext, hello, python_hello, sni_ext

from gproxy import payload as P

pytestmark = pytest.mark.timeout(60)

LOCAL = "127.0.0.1"


# ====================================================================== messages
HELLO_A = python_hello("a.example.com")
HTTP_OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


# ====================================================================== recording backends
class Recorder:
    """A TCP server recording the bytes of each connection until the peer closes; with
    ``http`` it answers a request head with HTTP_OK."""

    def __init__(self, http: bool = False) -> None:
        self.http = http
        self.sock = socket.socket()
        self.sock.bind((LOCAL, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: list[dict] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            rec = {"data": b"", "closed": False}
            with self.lock:
                self.conns.append(rec)
            threading.Thread(target=self._serve, args=(c, rec), daemon=True).start()

    def _serve(self, c: socket.socket, rec: dict) -> None:
        answered = False
        with c:
            while True:
                try:
                    d = c.recv(65536)
                except OSError:
                    break
                if not d:
                    break
                rec["data"] += d
                if self.http and not answered and b"\r\n\r\n" in rec["data"]:
                    answered = True
                    c.sendall(HTTP_OK)
        rec["closed"] = True

    def count(self) -> int:
        with self.lock:
            return len(self.conns)

    def stop(self) -> None:
        self.sock.close()


FRONTENDS = ("tls_in", "short", "slow", "nodelay", "fe_be", "up")
BACKENDS = ("be_a", "be_b", "be_acme", "be_old", "be_other", "be_check", "be_http")

CONFIG = """
global
    log 127.0.0.1:{syslog} local0
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    timeout client 5s
    timeout server 5s

# the manual's SNI routing example (plus ALPN and version routing)
frontend tls_in
    bind 127.0.0.1:{tls_in}
    tcp-request inspect-delay 5s
    tcp-request content accept if {{ req_ssl_hello_type 1 }}
    use_backend be_acme if {{ req.ssl_alpn acme-tls/1 }}
    use_backend be_a if {{ req_ssl_sni -i a.example.com }}
    use_backend be_b if {{ req.ssl_sni -m end .b.example.com }}
    use_backend be_old if {{ req_ssl_ver lt 3.3 }}
    default_backend be_other

frontend short
    bind 127.0.0.1:{short}
    tcp-request inspect-delay 400ms
    tcp-request content reject if {{ req.payload(0,4) -m bin 52454a54 }}
    tcp-request content accept if {{ req.ssl_hello_type 1 }}
    tcp-request content accept if {{ req.len ge 8 }}
    use_backend be_a if {{ req.payload(0,3) -m bin 474554 }}
    use_backend be_b if {{ req.payload_lv(0,1) -m bin 6869 }}
    use_backend be_acme if {{ req_ssl_sni a.example.com }}
    default_backend be_other

frontend slow
    bind 127.0.0.1:{slow}
    timeout client 300ms
    tcp-request inspect-delay 3s
    tcp-request content accept if {{ req.len gt 5 }}
    default_backend be_other

# no inspect-delay: one evaluation on what is there (nothing for a client that waits)
frontend nodelay
    bind 127.0.0.1:{nodelay}
    tcp-request content reject if {{ req.len gt 0 }}
    default_backend be_other

frontend fe_be
    bind 127.0.0.1:{fe_be}
    default_backend be_check

# inspection, then an upgrade to HTTP: the inspected bytes reach the HTTP engine
frontend up
    bind 127.0.0.1:{up}
    tcp-request inspect-delay 2s
    tcp-request content accept if {{ req.payload(0,4) -m bin 47455420 }}
    use_backend be_http if {{ req.payload(0,4) -m bin 47455420 }}
    default_backend be_other

backend be_a
    server a 127.0.0.1:{be_a}
backend be_b
    server b 127.0.0.1:{be_b}
backend be_acme
    server acme 127.0.0.1:{be_acme}
backend be_old
    server old 127.0.0.1:{be_old}
backend be_other
    server other 127.0.0.1:{be_other}
backend be_check
    tcp-request inspect-delay 300ms
    tcp-request content reject if {{ req.payload(0,2) -m bin 5859 }}
    server check 127.0.0.1:{be_check}
backend be_http
    mode http
    server h 127.0.0.1:{be_http}
"""


class Side:
    """One proxy of the pair: its ports, recording backends and syslog receiver."""

    def __init__(self, flavour: str, cmd: list[str], workdir: Path) -> None:
        self.flavour = flavour
        self.syslog = SyslogReceiver()
        self.backends = {name: Recorder(http=name == "be_http") for name in BACKENDS}
        self.ports = {name: free_port() for name in FRONTENDS}
        text = CONFIG.format(syslog=self.syslog.port, **self.ports,
                             **{name: r.port for name, r in self.backends.items()})
        self.proc = ProxyProc(flavour, cmd, text, workdir, list(self.ports.values()))
        if self.proc.error:
            self.stop()
            raise RuntimeError(self.proc.error)

    def play(self, fe: str, steps: list) -> dict:
        """Send ``steps`` (bytes, pauses in seconds, "FIN") to frontend ``fe``; wait until
        the proxy closes the connection or a backend received every byte sent (or, for
        HTTP, the client got the response); then close and collect the outcome."""
        before = {name: r.count() for name, r in self.backends.items()}
        mark = self.syslog.mark()
        sent = b""
        s = socket.create_connection((LOCAL, self.ports[fe]), timeout=5)
        cport = s.getsockname()[1]
        got = b""
        closed = False
        try:
            for step in steps:
                if isinstance(step, float):
                    time.sleep(step)
                elif step == "FIN":
                    s.shutdown(socket.SHUT_WR)
                else:
                    s.sendall(step)
                    sent += step
            s.setblocking(False)

            def settled():
                nonlocal got, closed
                try:
                    d = s.recv(65536)
                    if not d:
                        closed = True
                    got += d
                except BlockingIOError:
                    pass
                except OSError:
                    closed = True
                if closed or (fe == "up" and got.endswith(b"ok")):
                    return True
                for name, r in self.backends.items():
                    if r.count() > before[name] and r.conns[before[name]]["data"] == sent and sent:
                        return True
                return False

            wait_for(settled, timeout=8, interval=0.005, what=f"{self.flavour}: outcome of {steps!r:.60}")
            if "FIN" in steps:  # the server closes on the forwarded FIN, then the proxy closes
                wait_for(lambda: settled() and closed, timeout=5, interval=0.005, what="the close")
        finally:
            s.close()
        new = [(name, r.conns[before[name]]) for name, r in self.backends.items() if r.count() > before[name]]
        for name, rec in new:
            if not self.backends[name].http:  # an HTTP server connection may stay idle
                wait_for(lambda rec=rec: rec["closed"], timeout=5, what="the server side to be closed")
        log = self.syslog.wait_tcplog(cport, start=mark)
        return {
            "backends": [(name, rec["data"]) for name, rec in new],
            "client_got": got,
            "closed_by_proxy": closed,
            "log": log,
        }

    def stop(self) -> None:
        self.proc.stop()
        self.syslog.stop()
        for r in self.backends.values():
            r.stop()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    work = tmp_path_factory.mktemp("tcp_inspect")
    sides = []
    try:
        sides.append(Side("haproxy", haproxy_cmd(), work / "haproxy"))
        if selftest():
            sides.append(Side("haproxy#2", haproxy_cmd(), work / "haproxy2"))
        else:
            sides.append(Side("gproxy", gproxy_cmd(), work / "gproxy"))
        yield sides
    finally:
        for s in sides:
            s.stop()


def both(pair, fe: str, steps: list) -> tuple[dict, dict]:
    out: list[dict | BaseException | None] = [None, None]

    def run(i: int) -> None:
        try:
            out[i] = pair[i].play(fe, steps)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    for o in out:
        if isinstance(o, BaseException):
            raise o
    assert out[0] is not None and out[1] is not None
    return out[0], out[1]  # type: ignore[return-value]


def _ms(v: str) -> int:
    return int(v.lstrip("+"))


def assert_same(h: dict, g: dict, timers: bool = True) -> None:
    """Same backend, same bytes, same log fields (timers within 60 ms, -1 exactly)."""
    assert g["backends"] == h["backends"], (h["backends"], g["backends"])
    assert g["closed_by_proxy"] == h["closed_by_proxy"]
    hl, gl = h["log"], g["log"]
    for f in ("ft", "b", "s", "ts", "B", "sq", "bq"):
        assert gl[f] == hl[f], f"{f}: haproxy {hl['line']!r}\n gproxy {gl['line']!r}"
    for f in ("Tw", "Tc", "Tt") if timers else ("Tt",):
        a, b = _ms(hl[f]), _ms(gl[f])
        ok = a == b if -1 in (a, b) else abs(a - b) <= 60
        assert ok, f"{f}: haproxy {hl['line']!r}\n gproxy {gl['line']!r}"


# ====================================================================== differential scenarios
TLS10 = hello([sni_ext("old.example")], version=b"\x03\x01")

SCENARIOS = [
    # (id, frontend, steps, backend expected, termination state)
    ("sni-a", "tls_in", [HELLO_A], "be_a", "--"),
    ("sni-b", "tls_in", [python_hello("www.b.example.com")], "be_b", "--"),
    ("alpn-second-choice", "tls_in", [python_hello("a.example.com", ["h2", "acme-tls/1"])], "be_acme", "--"),
    ("no-sni", "tls_in", [python_hello(None)], "be_other", "--"),
    ("tls1.0-hello", "tls_in", [TLS10], "be_old", "--"),
    ("not-tls", "tls_in", [b"hello world\n"], "be_other", "--"),
    ("hello-in-two-segments", "tls_in", [HELLO_A[:10], 0.3, HELLO_A[10:]], "be_a", "--"),
    ("delay-expires-on-partial-hello", "short", [HELLO_A[:6]], "be_other", "--"),
    ("reject-on-payload", "short", [b"REJT and more"], None, "PR"),
    ("reject-after-second-segment", "short", [b"RE", 0.2, b"JT!"], None, "PR"),
    ("req.len-accepts", "short", [b"GET /abc\r\n"], "be_a", "--"),
    ("payload-lv-after-delay", "short", [b"\x02hi"], "be_b", "--"),
    ("payload-after-delay", "short", [b"GET"], "be_a", "--"),
    ("client-fin-ends-the-wait", "short", [b"abc", "FIN"], "be_other", "--"),
    ("full-hello-then-sni", "short", [HELLO_A], "be_acme", "--"),
    ("client-timeout-first", "slow", [b"abc"], None, "cR"),
    ("no-delay-client-speaks-late", "nodelay", [0.15, b"late data"], "be_other", "--"),
    ("backend-rules-reject", "fe_be", [b"XY"], None, "PR"),
    ("backend-rules-expire", "fe_be", [b"X"], "be_check", "--"),
]


@needs_haproxy
@pytest.mark.parametrize(("fe", "steps", "backend", "ts"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_differential(pair, fe, steps, backend, ts) -> None:
    h, g = both(pair, fe, steps)
    sent = b"".join(x for x in steps if isinstance(x, bytes))
    # what haproxy does is what the scenario says (keeps the table honest) ...
    assert h["backends"] == ([(backend, sent)] if backend else []), h
    assert h["log"]["ts"] == ts, h["log"]["line"]
    # ... and gproxy does the same
    assert_same(h, g)


@needs_haproxy
def test_differential_split_hello_waits_for_the_rest(pair) -> None:
    """%Tw of a routed connection is the time the inspection waited (haproxy 2.6 counts
    t_queue from the accept and, outside HTTP, logs it + 1)."""
    h, g = both(pair, "tls_in", [HELLO_A[:10], 0.3, HELLO_A[10:]])
    for side in (h, g):
        assert 250 <= _ms(side["log"]["Tw"]) <= 450, side["log"]["line"]
        assert side["backends"] == [("be_a", HELLO_A)]


@needs_haproxy
def test_differential_upgrade_to_http_after_inspection(pair) -> None:
    """A request split across two segments, inspected in mode tcp, then served by a
    mode http backend: the HTTP engine gets every byte the inspection looked at."""
    steps = [b"GE", 0.2, b"T /x HTTP/1.1\r\nHost: y\r\nConnection: close\r\n\r\n"]
    h, g = both(pair, "up", steps)
    assert h["client_got"].startswith(b"HTTP/1.1 200 OK\r\n") and h["client_got"].endswith(b"\r\n\r\nok")
    assert g["client_got"] == h["client_got"]
    assert [n for n, _ in g["backends"]] == [n for n, _ in h["backends"]] == ["be_http"]
    assert g["backends"][0][1].split(b"\r\n")[0] == b"GET /x HTTP/1.1"
    assert g["backends"][0][1] == h["backends"][0][1]
    assert_same(h, g, timers=False)


# ====================================================================== fetch values
FETCHES = ["req.len", "req.ssl_ver", "req.ssl_hello_type", "req.ssl_sni", "req.ssl_alpn", "req.ssl_st_ext",
           "req.ssl_ec_ext", "req.payload(0,0),crc32", "req.payload(1,3),crc32", "req.payload_lv(3,2),crc32",
           "req.payload_lv(0,1,+1),crc32", "req.payload_lv(1,1,-1),crc32", "req.payload_lv(0,1,4),crc32",
           "req.rdp_cookie", "req.rdp_cookie(mstshash)", "req.rdp_cookie_cnt", "req.rdp_cookie_cnt(x)"]


def gproxy_values(d: bytes) -> list[str]:
    def s(v: object) -> str:
        if v is P.SHORT or v is None:
            return "-"  # the last evaluation is final: "not yet" is "no sample"
        if isinstance(v, bytes):
            return str(zlib.crc32(v))  # binary samples are logged as their CRC32 (log lines are short)
        if isinstance(v, bool):
            return "1" if v else "0"
        if isinstance(v, list):
            return v[0]  # a single (non-ACL) fetch returns the first name
        return str(v)

    def cnt(v: object) -> str:
        return "-" if v is P.SHORT else ("0" if v is None else "1")

    return [str(len(d)), s(P.ssl_ver(d)), s(P.ssl_hello_type(d)), s(P.ssl_sni(d)), s(P.ssl_alpn(d)),
            s(P.ssl_st_ext(d)), s(P.ssl_ec_ext(d)), s(P.payload(d, 0, 0)), s(P.payload(d, 1, 3)),
            s(P.payload_lv(d, 3, 2)), s(P.payload_lv(d, 0, 1, 3)), s(P.payload_lv(d, 1, 1, -1)),
            s(P.payload_lv(d, 0, 1, 4)), s(P.rdp_cookie(d)), s(P.rdp_cookie(d, "mstshash")),
            cnt(P.rdp_cookie(d)), cnt(P.rdp_cookie(d, "x"))]


def value_cases() -> list[tuple[str, bytes]]:
    full = hello([sni_ext("a.example.com"), alpn_ext(["h2", "http/1.1"]), ext(10, b"\x00\x02\x00\x1d"), ext(35, b"")])
    cases = [("full", full), ("python", python_hello("p.example", ["http/1.1"]))]
    cases += [(f"cut{n}", full[:n]) for n in (1, 3, 5, 6, 9, 20, len(full) - 4, len(full) - 3, len(full) - 1)]
    cases += [
        ("ticket", hello([ext(35, b"abc")])),
        ("no-ext", hello([])),
        ("sni-type-1", hello([sni_ext("x.y", 1), ext(10, b"\x00\x00")])),
        ("ext-overflow", hello(ext_block=sni_ext("a.b")[:4] + b"\x00\x05")),
        ("ext-overflow-after-sni", hello(ext_block=sni_ext("a.b.c") + b"\x00\x23\x00\x09")),
        ("alpn-bad-second", hello([ext(16, b"\x00\x05\x02h2\x09x")])),
        ("alpn-bad-first", hello([ext(16, b"\x00\x05\x09h2")])),
        ("ssl3-record", hello([sni_ext("ssl3.example")], rec_version=b"\x03\x00", version=b"\x03\x00")),
        ("ssl2-record-version", hello([sni_ext("x")], rec_version=b"\x02\x00")),
        ("server-hello-type", hello([sni_ext("x")], hs_type=2)),
        ("record-type-17", hello([sni_ext("x")], rec_type=0x17)),
        ("session-id-33", hello([sni_ext("sid.example")], sid=bytes(33))),
        ("sslv2", bytes([0x80, 0x2E, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10]) + bytes(37)),
        ("rdp", b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: mstshash=hello\r\n\x01\x00\x08\x00"),
        ("rdp-bad-eol", b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00cookie:   MSTSHASH=v\rX"),
        ("rdp-partial", b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: mstshash=hel"),
        ("http", b"GET / HTTP/1.0\r\n\r\n"),
        ("length-value", b"\x02\x00\x05abcdefghij"),
    ]
    return cases


@needs_haproxy
def test_fetch_values_match_haproxy(tmp_path) -> None:
    """Each message is sent to haproxy, which stores every fetch once the inspection is
    over (``if WAIT_END``: a final evaluation) and logs them; gproxy.payload must compute
    the same values from the same bytes."""
    syslog = SyslogReceiver()
    sink = Recorder()
    port = free_port()
    sets = "".join(f"    tcp-request content set-var(sess.v{i}) {f} if WAIT_END\n" for i, f in enumerate(FETCHES))
    fmt = "|".join(f"%[var(sess.v{i})]" for i in range(len(FETCHES)))
    cfg = (f"global\n    log 127.0.0.1:{syslog.port} local0\ndefaults\n    mode tcp\n    log global\n"
           "    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"
           f"frontend fe\n    bind 127.0.0.1:{port}\n    log-format \"%cp|{fmt}\"\n"
           f"    tcp-request inspect-delay 150ms\n{sets}    default_backend be\n"
           f"backend be\n    server s 127.0.0.1:{sink.port}\n")
    proc = ProxyProc("haproxy", haproxy_cmd(), cfg, tmp_path, [port])
    assert not proc.error, proc.error
    sent: dict[int, tuple[str, bytes]] = {}

    def run(name: str, data: bytes) -> None:
        with socket.create_connection((LOCAL, port), timeout=5) as s:
            sent[s.getsockname()[1]] = (name, data)
            s.sendall(data)
            time.sleep(0.4)  # past the inspect-delay

    try:
        threads = [threading.Thread(target=run, args=c) for c in value_cases()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        diffs = []
        for cport, (name, data) in sent.items():
            line = syslog.wait_line(f"]: {cport}|", timeout=5)
            got = line.split("]: ", 1)[1].split("|")[1:]
            assert len(got) == len(FETCHES), (name, line)
            want = gproxy_values(data)
            diffs += [f"{name}: {f} haproxy={g[:60]} gproxy={w[:60]}"
                      for f, g, w in zip(FETCHES, got, want, strict=True) if g != w]
        assert not diffs, "\n".join(diffs)
    finally:
        proc.stop()
        syslog.stop()
        sink.stop()


# ====================================================================== configuration check
CHECK_CFG = """defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend f
    bind 127.0.0.1:{port}
    tcp-request inspect-delay 1s
    tcp-request content reject if {{ req.payload(a,b) -m bin 00 }}
    tcp-request content reject if {{ req.payload(0) -m bin 00 }}
    tcp-request content reject if {{ req.payload(-1,2) -m bin 00 }}
    tcp-request content reject if {{ req.payload_lv(0,0) -m bin 00 }}
    tcp-request content reject if {{ req.payload_lv(-1,2) -m bin 00 }}
    tcp-request content reject if {{ req.payload_lv(0,2,x) -m bin 00 }}
    tcp-request content reject if {{ req.payload_lv(0,2,-5) -m bin 00 }}
    tcp-request content reject if {{ req.ssl_sni(foo) foo }}
    tcp-request content reject if {{ req_ssl_ver 3.x }}
    tcp-request content reject if {{ req_ssl_ver gt 70000.1 }}
    tcp-request content reject if {{ req.ssl_ver 3.1-3.0 }}
    tcp-request content reject if {{ payload(0,x) 00 }}
    tcp-request content reject if {{ req.rdp_cookie(a,b) x }}
    tcp-request content reject if {{ req.len 3.1 }}
    tcp-request content reject if {{ req_len }}
    tcp-request content reject if {{ req.payload(0,2) 1603 }}
    tcp-request content reject if {{ res.len gt 0 }}
    tcp-request connection reject if {{ req.ssl_sni foo }}
    use_backend b if {{ req.payload(x,1) 00 }}
    default_backend b
frontend g
    bind 127.0.0.1:{port2}
    log-format "%[req.ssl_sni]"
    default_backend b
backend b
    server s 127.0.0.1:1
"""


def _messages(text: str) -> list[str]:
    """The parsing alerts and warnings, without the pid."""
    out = []
    for line in text.splitlines():
        m = re.match(r"\[(ALERT|WARNING)\]\s+\(\d+\) : (.*)", line)
        if m and ("parsing [" in line or "Parsing [" in line):
            out.append(f"{m.group(1)} {m.group(2)}")
    return out


@needs_haproxy
def test_config_check_messages_match_haproxy(tmp_path) -> None:
    text = CHECK_CFG.format(port=free_port(), port2=free_port())
    cfg = tmp_path / "check.cfg"
    cfg.write_text(text)
    import subprocess

    hap = subprocess.run([haproxy_cmd()[0], "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30,
                         check=False)
    gpx = subprocess.run([*gproxy_cmd(), "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=60,
                         cwd=str(tmp_path), env=_env(), check=False)
    assert hap.returncode == gpx.returncode == 1
    want = _messages(hap.stdout + hap.stderr)
    assert len(want) >= 17
    assert _messages(gpx.stdout + gpx.stderr) == want


def _env() -> dict[str, str]:
    import os

    import helpers

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(helpers.REPO), env.get("PYTHONPATH", "")) if p)
    return env


def test_example_config_is_valid(tmp_path) -> None:
    """The manual's SNI routing example loads (it did not: unknown fetches)."""
    cfg = """defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend tls_in
    mode tcp
    bind 127.0.0.1:8443
    tcp-request inspect-delay 5s
    tcp-request content accept if { req_ssl_hello_type 1 }
    use_backend be_a if { req_ssl_sni -i a.example.com }
    use_backend be_b if { req.ssl_sni -m end .b.example.com }
    default_backend be_other
backend be_a
    server a 127.0.0.1:1
backend be_b
    server b 127.0.0.1:2
backend be_other
    server o 127.0.0.1:3
"""
    res = run_check(cfg, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "ALERT" not in res.stdout + res.stderr and "WARNING" not in res.stdout + res.stderr


# ====================================================================== a real TLS handshake
def _self_signed(tmp_path: Path, names: list[str]) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    crt, pem = tmp_path / "srv.crt", tmp_path / "srv.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return str(crt), str(pem)


class TlsEcho:
    """A TLS server that answers ``<tag>:<sni>:<data>`` to the first message."""

    def __init__(self, tag: str, crt: str, key: str) -> None:
        self.tag = tag
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(crt, key)
        self.sock = socket.socket()
        self.sock.bind((LOCAL, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c: socket.socket) -> None:
        seen: list[str | None] = []
        self.ctx.sni_callback = lambda s, name, ctx: seen.append(name)
        try:
            c.settimeout(5)
            with self.ctx.wrap_socket(c, server_side=True) as t:
                data = t.recv(100)
                t.sendall(f"{self.tag}:{seen[0] if seen else None}:".encode() + data)
        except OSError:
            c.close()

    def stop(self) -> None:
        self.sock.close()


def test_tls_handshake_routed_on_sni(proxy, tmp_path) -> None:
    crt, key = _self_signed(tmp_path, ["a.example.com", "x.b.example.com", "other.example"])
    a, b, other = TlsEcho("A", crt, key), TlsEcho("B", crt, key), TlsEcho("O", crt, key)
    port = free_port()
    cfg = f"""
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend tls_in
    bind 127.0.0.1:{port}
    tcp-request inspect-delay 5s
    tcp-request content accept if {{ req_ssl_hello_type 1 }}
    use_backend be_a if {{ req_ssl_sni -i a.example.com }}
    use_backend be_b if {{ req.ssl_sni -m end .b.example.com }}
    default_backend be_other
backend be_a
    server a 127.0.0.1:{a.port}
backend be_b
    server b 127.0.0.1:{b.port}
backend be_other
    server o 127.0.0.1:{other.port}
"""
    try:
        proxy(cfg, wait_ports=[port])
        ctx = ssl.create_default_context(cafile=crt)
        for sni, want in (("a.example.com", "A"), ("x.b.example.com", "B"), ("other.example", "O")):
            with socket.create_connection((LOCAL, port), timeout=5) as s, \
                    ctx.wrap_socket(s, server_hostname=sni) as t:
                t.sendall(b"ping")
                assert t.recv(100) == f"{want}:{sni}:ping".encode()
    finally:
        for srv in (a, b, other):
            srv.stop()
