"""The Prometheus exporter against real sockets, real Prometheus tools and real HAProxy.

* In-process: a gproxy ``Process`` built from a config and bound inside this test (gevent
  hub in the test's main greenlet, no monkey-patching), TCP traffic through its frontend,
  then ``prometheus.serve()`` called directly.
* ``promtool check metrics`` on the text exposition (Debian package ``prometheus``).
* A real Prometheus server started by the test scrapes gproxy every second; its HTTP API
  must answer ``haproxy_server_status`` and a ``rate()`` of
  ``haproxy_frontend_bytes_in_total``.  Two targets: a *stand-in* (a gevent pywsgi server
  in this test process calling ``serve()`` on an in-process gproxy Process) and gproxy's
  own frontend with ``http-request use-service prometheus-exporter`` (skipped while
  gproxy's ``mode http`` engine cannot serve it).
* HAProxy 2.6 runs the same configuration; every family both expose must have the same
  type, HELP text, label names and series, and NaN where HAProxy prints NaN.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import gevent
import gevent.pywsgi
import gevent.server
import pytest
from gevent import socket as gsocket
from helpers import ProxyStartError, TcpEchoServer, free_port, wait_for, wait_listening

from gproxy import config as gconfig
from gproxy.check import start_checks
from gproxy.master import Master
from gproxy.runtime import build

pytestmark = pytest.mark.timeout(60)

LOCAL = "127.0.0.1"
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
NEED_PROM = "needs the Debian package 'prometheus' (promtool and the server): apt-get install -y prometheus"

#: lint promtool reports on HAProxy's own output too: promex names this counter without
#: ``_total`` and gproxy keeps HAProxy's name so dashboards and alerts keep working
INHERITED_LINT = {'haproxy_process_failed_resolutions counter metrics should have "_total" suffix'}

#: families the HAProxy mixin dashboards and alerts read (reference §4.3)
DASHBOARD_FAMILIES = {
    "haproxy_process_start_time_seconds", "haproxy_process_current_connections",
    "haproxy_process_pool_allocated_bytes", "haproxy_process_pool_used_bytes",
    "haproxy_process_pool_failures_total", "haproxy_process_nbthread", "haproxy_process_nbproc",
    "haproxy_process_max_connections", "haproxy_process_max_fds", "haproxy_process_max_memory_bytes",
    "haproxy_process_max_sockets", "haproxy_process_max_pipes", "haproxy_process_limit_connection_rate",
    "haproxy_process_limit_session_rate", "haproxy_process_limit_ssl_rate", "haproxy_process_dropped_logs_total",
    "haproxy_frontend_status", "haproxy_backend_status", "haproxy_server_status",
    "haproxy_frontend_bytes_in_total", "haproxy_frontend_bytes_out_total", "haproxy_frontend_http_requests_total",
    "haproxy_frontend_connections_total", "haproxy_frontend_request_errors_total",
    "haproxy_frontend_internal_errors_total", "haproxy_frontend_http_cache_lookups_total",
    "haproxy_frontend_http_cache_hits_total",
    "haproxy_backend_bytes_in_total", "haproxy_backend_bytes_out_total", "haproxy_backend_http_requests_total",
    "haproxy_server_bytes_in_total", "haproxy_server_bytes_out_total", "haproxy_server_http_responses_total",
    "haproxy_backend_connection_attempts_total", "haproxy_server_connection_attempts_total",
    "haproxy_backend_connection_errors_total", "haproxy_server_connection_errors_total",
    "haproxy_backend_response_errors_total", "haproxy_server_response_errors_total",
    "haproxy_backend_internal_errors_total", "haproxy_server_internal_errors_total",
    "haproxy_backend_max_total_time_seconds", "haproxy_server_max_total_time_seconds",
    "haproxy_backend_total_time_average_seconds", "haproxy_server_total_time_average_seconds",
    "haproxy_server_check_status", "haproxy_server_check_failures_total", "haproxy_server_check_up_down_total",
    "haproxy_server_check_last_change_seconds", "haproxy_server_check_duration_seconds",
    "haproxy_backend_active_servers", "haproxy_backend_backup_servers",
}

#: NaN in gproxy where HAProxy prints a number: fields the column table (stats/columns.py)
#: and show info (stats/info.py) leave empty on purpose because gproxy cannot compute them
#: honestly (no TLS layer, no memory pools, no task scheduler, ...), and counters the
#: runtime objects do not keep yet (the column reads a missing attribute as empty)
KNOWN_EMPTY = {
    # show info fields gproxy omits
    "haproxy_process_bytes_out_rate", "haproxy_process_bytes_out_total", "haproxy_process_spliced_bytes_out_total",
    "haproxy_process_current_run_queue", "haproxy_process_current_tasks", "haproxy_process_idle_time_percent",
    "haproxy_process_max_connection_rate", "haproxy_process_max_session_rate",
    "haproxy_process_pool_allocated_bytes", "haproxy_process_pool_failures_total", "haproxy_process_pool_used_bytes",
    "haproxy_process_current_backend_ssl_key_rate", "haproxy_process_current_frontend_ssl_key_rate",
    "haproxy_process_current_ssl_connections", "haproxy_process_current_ssl_rate", "haproxy_process_frontend_ssl_reuse",
    "haproxy_process_limit_ssl_rate", "haproxy_process_max_backend_ssl_key_rate",
    "haproxy_process_max_frontend_ssl_key_rate", "haproxy_process_max_ssl_connections",
    "haproxy_process_max_ssl_rate", "haproxy_process_ssl_cache_lookups_total", "haproxy_process_ssl_cache_misses_total",
    "haproxy_process_ssl_connections_total",
    # columns left empty on purpose
    "haproxy_backend_downtime_seconds_total", "haproxy_server_need_connections_current",
    # counters not kept by the runtime objects (frontend dses; listener dreq/dresp/ereq/dses/wrew/eint)
    "haproxy_frontend_denied_sessions_total", "haproxy_listener_denied_sessions_total",
    "haproxy_listener_requests_denied_total", "haproxy_listener_responses_denied_total",
    "haproxy_listener_request_errors_total", "haproxy_listener_failed_header_rewriting_total",
    "haproxy_listener_internal_errors_total",
}


# ------------------------------------------------------------------ configuration
def config_text(fe_port: int, echo_port: int, dead_port: int, http_port: int, stats_port: int | None,
                use_service: bool = True) -> str:
    """TCP frontend (with socket-stats) -> backend whose servers cover the states the
    exporter encodes; an HTTP listen section; an optional HTTP stats frontend."""
    stats = ""
    if stats_port is not None:
        rule = "    http-request use-service prometheus-exporter if { path /metrics }\n" if use_service else ""
        stats = f"frontend stats\n    mode http\n    bind {LOCAL}:{stats_port}\n{rule}"
    return f"""global
    maxconn 500

defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s

{stats}
frontend fe_tcp
    mode tcp
    option socket-stats
    bind {LOCAL}:{fe_port} name main
    default_backend be_tcp

backend be_tcp
    mode tcp
    server up1 {LOCAL}:{echo_port} check inter 200
    server down1 {LOCAL}:{dead_port} check inter 200
    server nochk {LOCAL}:{echo_port} maxqueue 5 maxconn 7
    server mnt {LOCAL}:{echo_port} disabled
    server bk {LOCAL}:{echo_port} backup check inter 200

backend be_empty
    mode tcp

listen li_http
    mode http
    bind {LOCAL}:{http_port}
    server web {LOCAL}:{echo_port}
"""


def dead_port() -> int:
    return free_port()


# ------------------------------------------------------------------ in-process gproxy
class InProcess:
    """A gproxy Process built from config text and run inside this test's gevent hub."""

    def __init__(self, cfg_text: str, tmp_path: Path) -> None:
        path = tmp_path / "gproxy.cfg"
        path.write_text(cfg_text)
        model, diag = gconfig.load([str(path)])
        alerts = [m.render(0) for m in diag.messages if m.level == "ALERT"]
        if diag.fatal:
            raise RuntimeError("config rejected: " + "\n".join(alerts))
        self.process = build(model, diag, quiet=True)
        self.master = Master(self.process, {})
        assert self.master.bind(), "bind failed"
        for be in self.process.backends:
            be.start()
        start_checks([s.check for be in self.process.backends for s in be.servers
                      if s.check is not None and s.check.enabled])
        for fe in self.process.frontends:
            fe.start()

    def server(self, be: str, name: str) -> Any:
        return next(s for b in self.process.backends if b.name == be for s in b.servers if s.name == name)

    def checks_done(self) -> bool:
        """Every enabled check has completed at least once."""
        return all(s.check.status not in ("INI", "UNK") for b in self.process.backends for s in b.servers
                   if s.check is not None and s.check.enabled)

    def stop(self) -> None:
        self.master.hard_stop()


def gwait(pred, timeout: float = 10.0, what: str = "condition") -> Any:
    """wait_for() that lets the gevent hub run between polls."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        gevent.sleep(0.02)


def echo_once(port: int, payload: bytes) -> bytes:
    """One TCP session through a proxy to the echo server (gevent socket)."""
    s = gsocket.create_connection((LOCAL, port), timeout=5)
    try:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got
    finally:
        s.close()


class GeventEcho:
    """Echo server in this process's hub (in-process tests)."""

    def __init__(self) -> None:
        self.server = gevent.server.StreamServer((LOCAL, 0), self._handle)
        self.server.start()
        self.port = self.server.server_port

    @staticmethod
    def _handle(sock: Any, addr: Any) -> None:
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                sock.sendall(data)
        except OSError:
            pass
        finally:
            sock.close()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def inproc(tmp_path):
    echo = GeventEcho()
    ports = {"fe_port": free_port(), "echo_port": echo.port, "dead_port": dead_port(), "http_port": free_port()}
    gp = InProcess(config_text(stats_port=None, **ports), tmp_path)
    gp.ports = ports
    try:
        gwait(gp.checks_done, what="first health checks")
        yield gp
    finally:
        gp.stop()
        echo.stop()


# ------------------------------------------------------------------ exposition parsing
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_text(text: str) -> dict[str, dict[str, Any]]:
    """Text 0.0.4 -> {family: {type, help, series: {labels-tuple: value}}}.  Sample names
    are family names here: promex has no _bucket/_sum samples."""
    fams: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            name, _, desc = line[7:].partition(" ")
            fams.setdefault(name, {"series": {}})["help"] = desc
        elif line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            fams.setdefault(name, {"series": {}})["type"] = typ
        elif line.startswith("#"):
            continue
        else:
            m = SAMPLE_RE.match(line)
            assert m, f"bad sample line {line!r}"
            name, labels, value = m.groups()
            key = tuple(sorted(LABEL_RE.findall(labels or "")))
            fams.setdefault(name, {"series": {}})["series"][key] = float(value)
    return fams


def label_names(fam: dict[str, Any]) -> set[str]:
    return {k for key in fam["series"] for k, _v in key}


def series_value(fams: dict[str, Any], name: str, **labels: str) -> float:
    key = tuple(sorted(labels.items()))
    return fams[name]["series"][key]


def scrape(process: Any, query: str = "", accept: str = "") -> dict[str, Any]:
    from gproxy.stats import prometheus

    status, _headers, body = prometheus.serve(process, "/metrics" + query, accept)
    assert status == 200
    return parse_text(body.decode())


def fresh_scrape(process: Any, query: str = "") -> dict[str, Any]:
    """Bypass the 1 s exposition cache (counters were just changed)."""
    from gproxy.stats import prometheus

    prometheus._CACHE.pop(process, None)
    return scrape(process, query)


# ------------------------------------------------------------------ in-process tests
def test_traffic_counters_and_states(inproc):
    proc = inproc.process
    payload = b"x" * 5000
    for _ in range(3):
        assert echo_once(inproc.ports["fe_port"], payload) == payload
    gwait(lambda: next(f for f in proc.frontends if f.name == "fe_tcp").bytes_in == 15000, what="session ends")
    fams = fresh_scrape(proc)
    assert series_value(fams, "haproxy_frontend_bytes_in_total", proxy="fe_tcp") == 15000
    assert series_value(fams, "haproxy_frontend_bytes_out_total", proxy="fe_tcp") == 15000
    assert series_value(fams, "haproxy_frontend_sessions_total", proxy="fe_tcp") == 3
    assert series_value(fams, "haproxy_listener_bytes_in_total", proxy="fe_tcp", listener="main") == 15000
    assert series_value(fams, "haproxy_backend_bytes_in_total", proxy="be_tcp") == 15000
    srv_in = sum(series_value(fams, "haproxy_server_bytes_in_total", proxy="be_tcp", server=s)
                 for s in ("up1", "nochk"))
    assert srv_in == 15000
    # one series per state, value 1 for the current one
    expect = {"up1": "UP", "down1": "DOWN", "nochk": "UP", "mnt": "MAINT", "bk": "UP"}
    for srv, cur in expect.items():
        for state in ("DOWN", "UP", "MAINT", "DRAIN", "NOLB"):
            v = series_value(fams, "haproxy_server_status", proxy="be_tcp", server=srv, state=state)
            assert v == (1 if state == cur else 0), (srv, state)
    assert series_value(fams, "haproxy_backend_status", proxy="be_tcp", state="UP") == 1
    assert series_value(fams, "haproxy_backend_status", proxy="be_empty", state="UP") == 1
    assert series_value(fams, "haproxy_frontend_status", proxy="fe_tcp", state="UP") == 1
    assert series_value(fams, "haproxy_listener_status", proxy="fe_tcp", listener="main", state="OPEN") == 1
    # health
    assert series_value(fams, "haproxy_server_check_status", proxy="be_tcp", server="up1", state="L4OK") == 1
    assert series_value(fams, "haproxy_server_check_status", proxy="be_tcp", server="down1", state="L4CON") == 1
    assert series_value(fams, "haproxy_server_check_up_down_total", proxy="be_tcp", server="down1") == 1
    assert series_value(fams, "haproxy_server_check_failures_total", proxy="be_tcp", server="down1") >= 1
    assert math.isnan(series_value(fams, "haproxy_server_check_failures_total", proxy="be_tcp", server="nochk"))
    assert 0 <= series_value(fams, "haproxy_server_check_duration_seconds", proxy="be_tcp", server="up1") < 1
    assert not any(("server", "nochk") in k for k in fams["haproxy_server_check_status"]["series"])
    assert not any(("server", "nochk") in k for k in fams["haproxy_server_check_duration_seconds"]["series"])
    assert series_value(fams, "haproxy_backend_active_servers", proxy="be_tcp") == 2
    assert series_value(fams, "haproxy_backend_backup_servers", proxy="be_tcp") == 1
    assert series_value(fams, "haproxy_backend_agg_server_status", proxy="be_tcp", state="UP") == 3
    assert series_value(fams, "haproxy_backend_agg_server_status", proxy="be_tcp", state="DOWN") == 1
    assert series_value(fams, "haproxy_backend_agg_server_status", proxy="be_tcp", state="MAINT") == 1
    assert series_value(fams, "haproxy_server_queue_limit", proxy="be_tcp", server="nochk") == 5
    assert math.isnan(series_value(fams, "haproxy_server_queue_limit", proxy="be_tcp", server="up1"))
    # HTTP-only metrics skip the TCP proxies
    codes = fams["haproxy_frontend_http_responses_total"]["series"]
    assert {dict(k)["proxy"] for k in codes} == {"li_http"}
    assert {dict(k)["code"] for k in codes} == {"1xx", "2xx", "3xx", "4xx", "5xx", "other"}


def test_admin_changes_show_at_next_scrape(inproc):
    from gproxy.server import FDRAIN, FMAINT

    proc = inproc.process
    up1 = inproc.server("be_tcp", "up1")
    up1.set_admin(FDRAIN)
    fams = fresh_scrape(proc, "?scope=server")
    assert series_value(fams, "haproxy_server_status", proxy="be_tcp", server="up1", state="DRAIN") == 1
    up1.set_admin(FMAINT)
    fams = fresh_scrape(proc, "?scope=server")
    assert series_value(fams, "haproxy_server_status", proxy="be_tcp", server="up1", state="MAINT") == 1
    fams = fresh_scrape(proc, "?scope=server&no-maint")
    assert not any(("server", "up1") in k for f in fams.values() for k in f["series"])
    assert not any(("server", "mnt") in k for f in fams.values() for k in f["series"])
    assert any(("server", "bk") in k for k in fams["haproxy_server_status"]["series"])


def test_scrape_is_cached_briefly(inproc):
    from gproxy.stats import prometheus

    proc = inproc.process
    prometheus._CACHE.pop(proc, None)
    first = prometheus.serve(proc, "/metrics", "")[2]
    echo_once(inproc.ports["fe_port"], b"abc")
    fe = next(f for f in proc.frontends if f.name == "fe_tcp")
    gwait(lambda: fe.bytes_in == 3, what="session end")
    assert prometheus.serve(proc, "/metrics", "")[2] is first  # within the TTL: same bytes
    gevent.sleep(prometheus.CACHE_TTL + 0.05)
    again = prometheus.serve(proc, "/metrics", "")[2]
    assert again != first
    assert series_value(parse_text(again.decode()), "haproxy_frontend_bytes_in_total", proxy="fe_tcp") == 3


def test_scrape_timing_many_servers(tmp_path):
    """A scrape of 1000 servers: report the time one rendering blocks the loop."""
    from gproxy.stats import prometheus

    servers = "\n".join(f"    server s{i} {LOCAL}:{1 + i}" for i in range(1000))
    path = tmp_path / "big.cfg"
    path.write_text(f"defaults\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"
                    f"frontend fe\n    bind {LOCAL}:{free_port()}\n    default_backend be\n"
                    f"backend be\n{servers}\n")
    model, diag = gconfig.load([str(path)])
    assert not diag.fatal
    proc = build(model, diag, quiet=True)
    t0 = time.perf_counter()
    _ctype, body = prometheus.render(proc, ttl=0)
    dt = time.perf_counter() - t0
    n = body.count(b"\n") - body.count(b"\n#")
    t1 = time.perf_counter()
    prometheus.render(proc)  # fills the cache
    cached0 = time.perf_counter()
    prometheus.render(proc)
    cached = time.perf_counter() - cached0
    print(f"\nscrape of 1000 servers: {n} series, {len(body)} bytes, {dt * 1000:.1f} ms uncached, "
          f"{(cached0 - t1) * 1000:.1f} ms filling the cache, {cached * 1e6:.0f} us cached")
    assert n > 40 * 1000
    assert cached < 0.005


# ------------------------------------------------------------------ promtool
@pytest.mark.skipif(PROMTOOL is None, reason=NEED_PROM)
def test_promtool_check_metrics(inproc):
    from gproxy.stats import prometheus

    echo_once(inproc.ports["fe_port"], b"hello")
    _status, _headers, body = prometheus.serve(inproc.process, "/metrics", "")
    res = subprocess.run([PROMTOOL, "check", "metrics"], check=False, input=body, capture_output=True, timeout=20)
    problems = {line.strip() for line in (res.stdout + res.stderr).decode().splitlines() if line.strip()}
    assert res.returncode in (0, 3), problems  # 1 = parse error
    assert problems <= INHERITED_LINT, problems - INHERITED_LINT


# ------------------------------------------------------------------ real Prometheus
def _http_get(url: str, timeout: float = 2.0) -> tuple[int, dict[str, str], bytes]:
    """Blocking HTTP GET run in gevent's thread pool, so the hub keeps serving scrapes."""
    def get() -> Any:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()
        except OSError as e:  # re-raised below: the pool would print it as a crash
            return e

    res = gevent.get_hub().threadpool.apply(get)
    if isinstance(res, OSError):
        raise res
    return res


class PrometheusServer:
    """A throw-away Prometheus scraping one target every second."""

    def __init__(self, tmp_path: Path, target: str, path: str = "/metrics") -> None:
        self.port = free_port()
        self.dir = tmp_path / "prom"
        self.dir.mkdir(exist_ok=True)
        cfg = self.dir / "prometheus.yml"
        cfg.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n"
            f"scrape_configs:\n  - job_name: gproxy\n    metrics_path: {path}\n"
            f"    static_configs:\n      - targets: ['{target}']\n")
        self.log = open(self.dir / "prometheus.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={self.dir / 'data'}",
             f"--web.listen-address={LOCAL}:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def api(self, endpoint: str, **params: str) -> Any:
        url = f"http://{LOCAL}:{self.port}/api/v1/{endpoint}?" + urllib.parse.urlencode(params)
        status, _h, body = _http_get(url)
        assert status == 200, body
        return json.loads(body)["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.api("query", query=expr)["result"]

    def wait_ready(self, timeout: float = 20.0) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.logs()}")
            try:
                return _http_get(f"http://{LOCAL}:{self.port}/-/ready", 0.5)[0] == 200
            except OSError:
                return False

        gwait(ready, timeout, "prometheus ready")

    def targets(self) -> list[dict[str, Any]]:
        return self.api("targets")["activeTargets"]

    def logs(self) -> str:
        self.log.flush()
        return (self.dir / "prometheus.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def _check_prometheus_sees_gproxy(prom: PrometheusServer, traffic) -> None:
    """Drive traffic until Prometheus answers both queries (deadline 25 s)."""
    deadline = time.monotonic() + 25
    status = rate = None
    while time.monotonic() < deadline:
        traffic()
        status = prom.query('haproxy_server_status{proxy="be_tcp",server="up1",state="UP"}')
        rate = prom.query('rate(haproxy_frontend_bytes_in_total{proxy="fe_tcp"}[4s])')
        if status and rate and float(rate[0]["value"][1]) > 0:
            break
        gevent.sleep(0.25)
    else:
        raise AssertionError(f"prometheus never saw the data: status={status} rate={rate} "
                             f"targets={prom.targets()} log={prom.logs()}")
    assert status[0]["value"][1] == "1"
    assert status[0]["metric"]["job"] == "gproxy"
    down = prom.query('haproxy_server_status{proxy="be_tcp",server="down1",state="DOWN"}')
    assert down and down[0]["value"][1] == "1"
    assert prom.targets()[0]["health"] == "up", prom.targets()


@pytest.mark.skipif(PROMETHEUS is None, reason=NEED_PROM)
def test_real_prometheus_scrapes_standin(inproc, tmp_path):
    """STAND-IN: the exporter served by a gevent pywsgi server in this test process (calling
    serve() on the in-process gproxy), because gproxy's mode http engine may not serve
    ``use-service`` yet; test_real_prometheus_scrapes_gproxy_frontend is the real thing."""
    from gproxy.stats import prometheus

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        target = environ.get("PATH_INFO", "/")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        status, headers, body = prometheus.serve(inproc.process, target, environ.get("HTTP_ACCEPT", ""))
        start_response(f"{status} {'OK' if status == 200 else 'Bad request'}", headers)
        return [body]

    http = gevent.pywsgi.WSGIServer((LOCAL, 0), app, log=None)
    http.start()
    prom = PrometheusServer(tmp_path, f"{LOCAL}:{http.server_port}")
    try:
        prom.wait_ready()
        _check_prometheus_sees_gproxy(prom, lambda: echo_once(inproc.ports["fe_port"], b"y" * 2000))
    finally:
        prom.stop()
        http.stop()


def _start_gproxy_with_service(proxy, ports: dict[str, int], stats_port: int) -> Any:
    """gproxy in its own process serving /metrics itself; skips while mode http or
    use-service is not implemented (detected by trying)."""
    cfg = config_text(stats_port=stats_port, **ports)
    try:
        p = proxy(cfg, wait_ports=[ports["fe_port"], stats_port])
    except ProxyStartError as e:
        text = str(e)
        if re.search(r"http-request|use-service|mode http|unknown keyword", text):
            pytest.skip(f"gproxy does not run 'http-request use-service' yet: {text.splitlines()[0][:300]}")
        raise
    not_yet = re.search(r"[^:\n]*'mode http'[^\n]*does not implement yet[^\n]*", p.stderr())
    if not_yet:
        pytest.skip(f"gproxy has no mode http engine yet ({not_yet.group(0).strip()[:200]})")
    try:
        status, headers, body = wait_for(lambda: _http_get(f"http://{LOCAL}:{stats_port}/metrics"), timeout=5,
                                         what="an HTTP answer on the stats frontend")
    except AssertionError as e:
        pytest.skip(f"gproxy's mode http frontend does not answer HTTP yet ({e.__cause__!r})")
    return p, status, headers, body


def test_use_service_end_to_end(proxy):
    """`http-request use-service prometheus-exporter if { path /metrics }` through a
    running gproxy: the real service, as HAProxy serves it."""
    echo = TcpEchoServer()
    try:
        ports = {"fe_port": free_port(), "echo_port": echo.port, "dead_port": dead_port(), "http_port": free_port()}
        stats_port = free_port()
        _p, status, headers, body = _start_gproxy_with_service(proxy, ports, stats_port)
        assert status == 200, body[:500]
        hdrs = {k.lower(): v for k, v in headers.items()}
        assert hdrs["cache-control"] == "no-cache"
        assert hdrs["content-type"].startswith("text/plain; version=0.0.4")
        fams = parse_text(body.decode())
        assert "haproxy_process_build_info" in fams
        assert series_value(fams, "haproxy_frontend_http_requests_total", proxy="stats") >= 1
        status, _h, _b = _http_get(f"http://{LOCAL}:{stats_port}/metrics?scope")
        assert status == 400
        status, _h, body = _http_get(f"http://{LOCAL}:{stats_port}/metrics?scope=")
        assert status == 200 and body == b""
    finally:
        echo.stop()


@pytest.mark.skipif(PROMETHEUS is None, reason=NEED_PROM)
def test_real_prometheus_scrapes_gproxy_frontend(proxy, tmp_path):
    echo = TcpEchoServer()
    prom = None
    try:
        ports = {"fe_port": free_port(), "echo_port": echo.port, "dead_port": dead_port(), "http_port": free_port()}
        stats_port = free_port()
        _start_gproxy_with_service(proxy, ports, stats_port)
        prom = PrometheusServer(tmp_path, f"{LOCAL}:{stats_port}")
        prom.wait_ready()

        def traffic() -> None:
            with gsocket.create_connection((LOCAL, ports["fe_port"]), timeout=5) as s:
                s.sendall(b"z" * 2000)
                got = 0
                while got < 2000:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += len(chunk)

        _check_prometheus_sees_gproxy(prom, traffic)
    finally:
        if prom is not None:
            prom.stop()
        echo.stop()


# ------------------------------------------------------------------ HAProxy parity
@pytest.mark.skipif(HAPROXY is None, reason="needs the Debian package 'haproxy' (2.6, USE_PROMEX)")
def test_same_families_as_haproxy(tmp_path):
    echo = GeventEcho()
    ports = {"fe_port": free_port(), "echo_port": echo.port, "dead_port": dead_port(), "http_port": free_port()}
    stats_port = free_port()
    hdir = tmp_path / "haproxy"
    hdir.mkdir()
    hcfg = hdir / "haproxy.cfg"
    hcfg.write_text(config_text(stats_port=stats_port, **ports))
    hlog = open(hdir / "haproxy.log", "wb")  # noqa: SIM115 - closed below
    hap = subprocess.Popen([HAPROXY, "-db", "-f", str(hcfg)], stdout=hlog, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    gp = None
    try:
        # gproxy: same proxies; its parser may not know http-request yet, the stats
        # frontend (mode http) is kept either way so both expose HTTP frontend families
        gdir = tmp_path / "gproxy"
        gdir.mkdir()
        ports_g = dict(ports, fe_port=free_port(), http_port=free_port())
        try:
            gp = InProcess(config_text(stats_port=free_port(), **ports_g), gdir)
        except RuntimeError:
            gp = InProcess(config_text(stats_port=free_port(), use_service=False, **ports_g), gdir)
        for port in (ports["fe_port"], stats_port):
            gwait(lambda port=port: hap.poll() is not None or _listening(port), what="haproxy listening")
        assert hap.poll() is None, (hdir / "haproxy.log").read_text()
        payload = b"p" * 1000
        echo_once(ports["fe_port"], payload)
        echo_once(ports_g["fe_port"], payload)

        def haproxy_settled() -> dict[str, Any] | None:
            body = _http_get(f"http://{LOCAL}:{stats_port}/metrics")[2].decode()
            fams = parse_text(body)
            durations = fams.get("haproxy_server_check_duration_seconds", {"series": {}})["series"]
            return fams if len(durations) == 3 else None  # up1, down1, bk checked once

        hfams = gwait(haproxy_settled, what="haproxy's first checks")
        gwait(gp.checks_done, what="gproxy's first checks")
        gevent.sleep(0.3)  # let down1 reach its first failed check on both sides
        hfams = haproxy_settled()
        # the stats frontend has a different port but the same name; gproxy's in-process
        # frontend for it sees no request: drop the series values that are traffic
        gfams = fresh_scrape(gp.process)
    finally:
        hap.terminate()
        hap.wait(10)
        hlog.close()
        if gp is not None:
            gp.stop()
        echo.stop()

    only_haproxy = sorted(set(hfams) - set(gfams))
    only_gproxy = sorted(set(gfams) - set(hfams))
    print(f"\nfamilies: haproxy {len(hfams)}, gproxy {len(gfams)}, both {len(set(hfams) & set(gfams))}")
    print("families haproxy exposes and gproxy does not:", only_haproxy or "none")
    problems = []
    known_empty: set[str] = set()
    if only_gproxy:
        problems.append(f"gproxy exposes families haproxy does not: {only_gproxy}")
    missing_dash = sorted(DASHBOARD_FAMILIES - set(gfams))
    if missing_dash:
        problems.append(f"families dashboards read are missing: {missing_dash}")
    for name in sorted(set(hfams) & set(gfams)):
        h, g = hfams[name], gfams[name]
        if h.get("type") != g.get("type"):
            problems.append(f"{name}: type {g.get('type')} != haproxy {h.get('type')}")
        if h.get("help") != g.get("help"):
            problems.append(f"{name}: HELP {g.get('help')!r} != haproxy {h.get('help')!r}")
        if label_names(h) != label_names(g):
            problems.append(f"{name}: labels {sorted(label_names(g))} != haproxy {sorted(label_names(h))}")
            continue
        hkeys = {k for k in h["series"] if not name.endswith("build_info")}
        gkeys = {k for k in g["series"] if not name.endswith("build_info")}
        if hkeys != gkeys:
            problems.append(f"{name}: series only in haproxy {sorted(hkeys - gkeys)}, "
                            f"only in gproxy {sorted(gkeys - hkeys)}")
            continue
        for key in hkeys:
            hnan, gnan = math.isnan(h["series"][key]), math.isnan(g["series"][key])
            if gnan and not hnan and name in KNOWN_EMPTY:
                known_empty.add(name)
            elif hnan != gnan:
                problems.append(f"{name}{dict(key)}: gproxy {g['series'][key]} vs haproxy {h['series'][key]}")
    # state encodings must agree value for value once checks have settled
    for name in ("haproxy_server_status", "haproxy_backend_status", "haproxy_frontend_status",
                 "haproxy_server_check_status", "haproxy_backend_agg_server_status",
                 "haproxy_backend_agg_server_check_status", "haproxy_backend_agg_check_status",
                 "haproxy_listener_status", "haproxy_backend_active_servers", "haproxy_backend_backup_servers",
                 "haproxy_server_weight", "haproxy_server_uweight", "haproxy_server_queue_limit",
                 "haproxy_server_check_up_down_total", "haproxy_server_check_code"):
        if name in hfams and name in gfams:
            for key, hv in hfams[name]["series"].items():
                gv = gfams[name]["series"].get(key)
                if gv is not None and not (math.isnan(hv) and math.isnan(gv)) and hv != gv:
                    problems.append(f"{name}{dict(key)}: gproxy {gv} != haproxy {hv}")
    print("NaN in gproxy, a number in haproxy (known, see KNOWN_EMPTY):", sorted(known_empty) or "none")
    assert not problems, "\n".join(problems)


def _listening(port: int) -> bool:
    try:
        wait_listening(port, timeout=0.01)
        return True
    except AssertionError:
        return False

