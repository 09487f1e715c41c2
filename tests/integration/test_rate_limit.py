"""``rate-limit sessions`` (frontend) and the global ``maxsessrate`` / ``maxconnrate``.

HAProxy facts checked here against haproxy 2.6 (``nbthread 1``: with several threads
each one's accept loop reads the counter on its own and a burst may pass the limit):

* at most <rate> sessions are accepted in the first second; past the limit the
  listeners stop accepting (shown WAITING) and the extra connections wait in the
  kernel's backlog: none is refused, all are served once the rate allows;
* the counter is HAProxy's freq_ctr: its period opens with the first session, and
  during the next period the previous count weighs the part of the second left, so
  after a burst of <rate> the next sessions come one every 1/<rate> s from the end of
  the first second (20/s: 20 at once, then one every 50 ms from t=1 s);
* the CSV ``rate_lim`` column of the frontend, the stats page and Prometheus
  ``haproxy_frontend_limit_session_rate`` show the configured limit;
  ``show info`` ``SessRateLimit`` / ``ConnRateLimit`` the global ones;
* ``set rate-limit sessions|connections global <n>`` changes the global limits.

Each connection sends one byte to a TCP echo server through the proxy; the time its
echo comes back is when the proxy accepted it.
"""

from __future__ import annotations

import selectors
import socket
import subprocess
import time
import urllib.request

import pytest
from differential.harness import HAPROXY, needs_haproxy
from helpers import LOCALHOST, TcpEchoServer, free_port, proxy_cmd, wait_for, wait_listening

from integration.sidebyside import cli

pytestmark = pytest.mark.timeout(40)


class _Run:
    """A proxy process started from a config text with ``{echo}``/``{port}``... filled."""

    def __init__(self, cmd: list[str], cfg_text: str, tmp_path, name: str, ports: list[int]) -> None:
        cfg = tmp_path / f"{name}.cfg"
        cfg.write_text(cfg_text)
        self.proc = subprocess.Popen([*cmd, "-f", str(cfg)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        for p in ports:
            wait_listening(p)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _burst(ports: list[int], per_port: int, timeout: float = 10.0) -> list[float]:
    """Open ``per_port`` connections on each port at once, send a byte on each, and
    return the sorted times (s from the first connect) when each echo came back."""
    socks = []
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    try:
        for p in ports:
            for _ in range(per_port):
                s = socket.create_connection((LOCALHOST, p), timeout=timeout)
                s.sendall(b"x")
                socks.append(s)
                sel.register(s, selectors.EVENT_READ)
        times = []
        deadline = t0 + timeout
        while len(times) < len(socks) and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                assert key.fileobj.recv(1) == b"x"  # served: not refused, not reset
                times.append(time.monotonic() - t0)
                sel.unregister(key.fileobj)
        assert len(times) == len(socks), f"{len(socks) - len(times)} connections never served"
        return sorted(times)
    finally:
        sel.close()
        for s in socks:
            s.close()


def _tcp_config(ports: list[int], echo: int, fe_lines: str = "", global_lines: str = "", stats: str = "") -> str:
    fes = "".join(f"frontend f{i}\n  bind {LOCALHOST}:{p}\n{fe_lines}  default_backend b\n" for i, p in enumerate(ports))
    return f"""global
  nbthread 1
{global_lines}{stats}defaults
  mode tcp
  timeout connect 2s
  timeout client 10s
  timeout server 10s
{fes}backend b
  server s {LOCALHOST}:{echo}
"""


def _measure(cmd, tmp_path, name, per_port, n_ports=1, **cfg):
    echo = TcpEchoServer()
    ports = [free_port() for _ in range(n_ports)]
    run = _Run(cmd, _tcp_config(ports, echo.port, **cfg), tmp_path, name, ports)
    try:
        return _burst(ports, per_port)
    finally:
        run.stop()
        echo.stop()


def _first_second(times: list[float]) -> int:
    return sum(1 for t in times if t < 0.9)


def test_rate_limit_sessions_spreads_accepts(tmp_path):
    times = _measure(proxy_cmd(), tmp_path, "fe", 30, fe_lines="  rate-limit sessions 20\n")
    assert len(times) == 30
    assert _first_second(times) == 20, times
    # the other ten come one every 50 ms from the end of the first second
    assert 1.3 <= times[-1] <= 2.0, times


def test_no_limit_accepts_at_once(tmp_path):
    times = _measure(proxy_cmd(), tmp_path, "nolimit", 30)
    assert times[-1] < 0.9, times


@pytest.mark.parametrize("keyword", ["maxsessrate", "maxconnrate"])
def test_global_rate_limits_cover_every_frontend(tmp_path, keyword):
    times = _measure(proxy_cmd(), tmp_path, keyword, 12, n_ports=2, global_lines=f"  {keyword} 20\n")
    assert len(times) == 24
    assert _first_second(times) == 20, times


@needs_haproxy
@pytest.mark.parametrize("lines", [{"fe_lines": "  rate-limit sessions 20\n"}, {"global_lines": "  maxsessrate 20\n"}])
def test_same_pace_as_haproxy(tmp_path, lines):
    ours = _measure(proxy_cmd(), tmp_path, "gproxy", 30, **lines)
    theirs = _measure([HAPROXY, "-db"], tmp_path, "haproxy", 30, **lines)
    assert _first_second(ours) == _first_second(theirs) == 20
    assert abs(ours[-1] - theirs[-1]) < 0.3, (ours, theirs)


def _csv_field(csv: str, pxname: str, svname: str, column: str) -> str:
    lines = csv.splitlines()
    head = lines[0].lstrip("# ").split(",")
    for ln in lines[1:]:
        f = ln.split(",")
        if f[:2] == [pxname, svname]:
            return f[head.index(column)]
    raise AssertionError(f"{pxname}/{svname} not in show stat")


def _stats_run(cmd, tmp_path, name):
    sock = str(tmp_path / f"{name}.sock")
    port, prom = free_port(), free_port()
    echo = TcpEchoServer()
    cfg = _tcp_config([port], echo.port, fe_lines="  rate-limit sessions 17\n",
                      global_lines="  maxsessrate 40\n  maxconnrate 50\n",
                      stats=f"  stats socket {sock} level admin\n")
    cfg += (f"frontend prom\n  mode http\n  bind {LOCALHOST}:{prom}\n"
            "  http-request use-service prometheus-exporter if { path /metrics }\n")
    return _Run(cmd, cfg, tmp_path, name, [port, prom]), echo, sock, prom


@pytest.mark.parametrize("flavour", ["gproxy", pytest.param("haproxy", marks=needs_haproxy)])
def test_limits_in_stats_info_and_prometheus(tmp_path, flavour):
    cmd = proxy_cmd() if flavour == "gproxy" else [HAPROXY, "-db"]
    run, echo, sock, prom = _stats_run(cmd, tmp_path, flavour)
    try:
        wait_for(lambda: (tmp_path / f"{flavour}.sock").exists(), timeout=5, what="stats socket")
        csv = cli(sock, "show stat")
        assert _csv_field(csv, "f0", "FRONTEND", "rate_lim") == "17"
        assert _csv_field(csv, "b", "BACKEND", "rate_lim") == ""
        assert _csv_field(csv, "prom", "FRONTEND", "rate_lim") == "0"
        info = cli(sock, "show info")
        assert "\nSessRateLimit: 40\n" in info and "\nConnRateLimit: 50\n" in info
        with urllib.request.urlopen(f"http://{LOCALHOST}:{prom}/metrics", timeout=5) as r:
            metrics = r.read().decode()
        assert 'haproxy_frontend_limit_session_rate{proxy="f0"} 17' in metrics
        assert "haproxy_process_limit_session_rate 40" in metrics
        assert "haproxy_process_limit_connection_rate 50" in metrics
        # runtime API: the global limits change (0 lifts them)
        assert cli(sock, "set rate-limit sessions global 7").strip() == ""
        assert cli(sock, "set rate-limit connections global 0").strip() == ""
        info = cli(sock, "show info")
        assert "\nSessRateLimit: 7\n" in info and "\nConnRateLimit: 0\n" in info
        assert cli(sock, "set rate-limit sessions global -1").strip() == "Value out of range."
        assert cli(sock, "set rate-limit sessions global").strip() == "Expects an integer value."
        assert cli(sock, "set rate-limit sessions").startswith("'set rate-limit' only supports :")
    finally:
        run.stop()
        echo.stop()


def test_set_rate_limit_sessions_global_applies_at_once(tmp_path):
    sock = str(tmp_path / "g.sock")
    port = free_port()
    echo = TcpEchoServer()
    cfg = _tcp_config([port], echo.port, stats=f"  stats socket {sock} level admin\n")
    run = _Run(proxy_cmd(), cfg, tmp_path, "set", [port])
    try:
        wait_for(lambda: (tmp_path / "g.sock").exists(), timeout=5, what="stats socket")
        assert cli(sock, "set rate-limit sessions global 20").strip() == ""
        times = _burst([port], 24)
        assert _first_second(times) == 20, times
    finally:
        run.stop()
        echo.stop()


@pytest.mark.parametrize("flavour", ["gproxy", pytest.param("haproxy", marks=needs_haproxy)])
def test_limited_listener_shows_waiting(tmp_path, flavour):
    """With ``option socket-stats``, a listener held back by the rate limit is WAITING in
    ``show stat`` (HAProxy's LI_LIMITED), and OPEN again once the rate allows."""
    cmd = proxy_cmd() if flavour == "gproxy" else [HAPROXY, "-db"]
    sock = str(tmp_path / f"{flavour}.sock")
    port = free_port()
    echo = TcpEchoServer()
    cfg = _tcp_config([port], echo.port, fe_lines="  rate-limit sessions 5\n  option socket-stats\n",
                      stats=f"  stats socket {sock} level admin\n")
    run = _Run(cmd, cfg, tmp_path, flavour, [port])
    socks = []
    try:
        wait_for(lambda: (tmp_path / f"{flavour}.sock").exists(), timeout=5, what="stats socket")
        assert _csv_field(cli(sock, "show stat"), "f0", "sock-1", "status") == "OPEN"
        for _ in range(8):
            s = socket.create_connection((LOCALHOST, port), timeout=5)
            s.sendall(b"x")
            socks.append(s)
        wait_for(lambda: _csv_field(cli(sock, "show stat"), "f0", "FRONTEND", "stot") == "5", timeout=3,
                 what="five sessions")
        assert _csv_field(cli(sock, "show stat"), "f0", "sock-1", "status") == "WAITING"
        wait_for(lambda: _csv_field(cli(sock, "show stat"), "f0", "FRONTEND", "stot") == "8", timeout=5,
                 what="eight sessions")
        wait_for(lambda: _csv_field(cli(sock, "show stat"), "f0", "sock-1", "status") == "OPEN", timeout=3,
                 what="listener open again")
    finally:
        for s in socks:
            s.close()
        run.stop()
        echo.stop()
