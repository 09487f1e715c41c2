"""The Prometheus exporter without sockets: query string, negotiation, families built from
the column table over a built (never bound) Process, state encodings, renderers checked
against prometheus_client's own parsers and expositions, the cache, the service entry.

Expectations are HAProxy 2.6.12's promex output (addons/promex/service-prometheus.c).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as om_generate_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families as text_parse

from gproxy import config
from gproxy.http.message import Headers, Request, Txn
from gproxy.http.services import SERVICES
from gproxy.runtime import build
from gproxy.server import FDRAIN, FMAINT, STARTING, STOPPED, STOPPING
from gproxy.stats import prometheus as P

PROM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
               "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")

CFG = """
global
    maxconn 100

defaults
    timeout connect 1s
    timeout client 1s
    timeout server 1s

frontend fe_tcp
    mode tcp
    bind 127.0.0.1:10001
    default_backend be_tcp

frontend fe_sock
    mode tcp
    option socket-stats
    bind 127.0.0.1:10002 name one
    bind 127.0.0.1:10003
    default_backend be_tcp

frontend fe_off
    disabled
    bind 127.0.0.1:10004
    default_backend be_tcp

backend be_tcp
    mode tcp
    server a 127.0.0.1:20001 check
    server b 127.0.0.1:20002 check maxqueue 3 maxconn 9
    server c 127.0.0.1:20003
    server d 127.0.0.1:20004 disabled
    server e 127.0.0.1:20005 backup check

backend be_empty
    mode tcp

listen web
    mode http
    bind 127.0.0.1:10005
    server w1 127.0.0.1:20006 check
"""


@pytest.fixture
def proc(tmp_path: Path) -> Any:
    path = tmp_path / "t.cfg"
    path.write_text(CFG)
    model, diag = config.load([str(path)])
    assert not diag.fatal, [m.render(0) for m in diag.messages]
    process = build(model, diag, quiet=True)
    for be in process.backends:
        be.start()
    return process


def srv(proc: Any, be: str, name: str) -> Any:
    return next(s for b in proc.backends if b.name == be for s in b.servers if s.name == name)


def fams_of(proc: Any, **kw: Any) -> dict[str, P.Family]:
    return {f.name: f for f in P.families(proc, **kw)}


def series(fam: P.Family) -> dict[str, float]:
    return dict(fam.samples)


def val(fams: dict[str, P.Family], name: str, labels: str) -> float:
    return series(fams[name])[labels]


# ------------------------------------------------------------------ query string
@pytest.mark.parametrize(("query", "scopes", "no_maint"), [
    (None, set(P.SCOPES), False),
    ("", set(P.SCOPES), False),
    ("scope=global", {"global"}, False),
    ("scope=backend&scope=server", {"backend", "server"}, False),
    ("scope=", set(), False),
    ("scope=backend&scope=", set(), False),  # an empty scope clears those given before
    ("scope=&scope=backend", {"backend"}, False),
    ("scope=*", set(P.SCOPES), False),
    ("no-maint", set(P.SCOPES), True),
    ("no-maint&scope=server", {"server"}, True),
    ("foo=bar&scope=frontend", {"frontend"}, False),  # other parameters are ignored
    ("scope=%67lobal", {"global"}, False),
    ("scope=listener#scope=server", {"listener"}, False),
    ("scope=sticktable", {"sticktable"}, False),
])
def test_parse_query(query: str | None, scopes: set[str], no_maint: bool) -> None:
    assert P.parse_query(query) == (frozenset(scopes), no_maint)


@pytest.mark.parametrize("query", ["scope", "scope=bogus", "scope=a=b", "scope=%zz", "scope&scope=global"])
def test_bad_query_is_400_like_haproxy(proc: Any, query: str) -> None:
    status, headers, body = P.serve(proc, "/metrics?" + query, "")
    assert status == 400
    assert body == b"<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"
    assert ("Cache-Control", "no-cache") in headers
    assert ("Content-Type", "text/html") in headers
    assert ("Connection", "close") in headers


def test_empty_scope_is_empty_body(proc: Any) -> None:
    assert P.serve(proc, "/metrics?scope=", "")[2] == b""
    assert P.serve(proc, "/metrics?scope=", PROM_ACCEPT)[2] == b"# EOF\n"
    assert P.serve(proc, "/metrics?scope=sticktable", "")[2] == b""  # no stick tables


# ------------------------------------------------------------------ negotiation
@pytest.mark.parametrize(("accept", "om"), [
    ("", False),
    ("*/*", False),
    ("text/plain; version=0.0.4", False),
    (PROM_ACCEPT, True),
    ("application/openmetrics-text", True),
    ("application/openmetrics-text; version=1.0.0; charset=utf-8", True),
    ("application/openmetrics-text; version=0.0.1", False),
])
def test_content_negotiation(proc: Any, accept: str, om: bool) -> None:
    status, headers, body = P.serve(proc, "/metrics?scope=global", accept)
    assert status == 200
    assert ("Cache-Control", "no-cache") in headers
    ctype = dict(headers)["Content-Type"]
    if om:
        assert ctype == "application/openmetrics-text; version=1.0.0; charset=utf-8"
        assert body.endswith(b"# EOF\n")
    else:
        assert ctype == "text/plain; version=0.0.4; charset=utf-8"
        assert b"# EOF" not in body


# ------------------------------------------------------------------ families
def test_family_names_and_types_are_promex_ones(proc: Any) -> None:
    known = P.metric_names()
    fams = fams_of(proc)
    for name, fam in fams.items():
        assert known[name] == fam.type, name
    # a sample of HAProxy 2.6 names and types
    assert fams["haproxy_process_failed_resolutions"].type == "counter"
    assert fams["haproxy_frontend_bytes_in_total"].type == "counter"
    assert fams["haproxy_backend_active_servers"].type == "gauge"
    assert fams["haproxy_server_check_status"].type == "gauge"
    assert known["haproxy_server_check_duration_seconds"] == "gauge"
    assert fams["haproxy_server_check_code"].desc == "layer5-7 code, if available of the last health check."
    assert fams["haproxy_server_status"].desc == "Current status of the service, per state label value."
    assert fams["haproxy_frontend_http_responses_total"].desc.startswith(
        "Total number of HTTP responses with status 100-199")
    # every process metric is there, NaN where show info has no value
    assert {n for n in fams if n.startswith("haproxy_process_")} == {
        n for n in known if n.startswith("haproxy_process_")}
    assert series(fams["haproxy_process_build_info"]) == {f'version="{P._gproxy_version()}"': 1}


def test_scopes_select_prefixes(proc: Any) -> None:
    for scope in ("global", "frontend", "listener", "backend", "server"):
        prefix = "haproxy_process_" if scope == "global" else f"haproxy_{scope}_"
        names = set(fams_of(proc, scopes={scope}))
        assert names and all(n.startswith(prefix) for n in names), scope


def test_objects_labels_and_skips(proc: Any) -> None:
    fams = fams_of(proc)
    fe = series(fams["haproxy_frontend_current_sessions"])
    assert list(fe) == ['proxy="fe_tcp"', 'proxy="fe_sock"', 'proxy="web"']  # fe_off is disabled
    li = series(fams["haproxy_listener_current_sessions"])
    assert list(li) == ['proxy="fe_sock",listener="one"', 'proxy="fe_sock",listener="sock-2"']
    be = series(fams["haproxy_backend_current_sessions"])
    assert list(be) == ['proxy="be_tcp"', 'proxy="be_empty"', 'proxy="web"']
    sv = series(fams["haproxy_server_current_sessions"])
    assert list(sv)[:2] == ['proxy="be_tcp",server="a"', 'proxy="be_tcp",server="b"']
    assert len(sv) == 6


def test_http_only_metrics_skip_tcp_proxies(proc: Any) -> None:
    fams = fams_of(proc)
    for name in ("haproxy_frontend_http_requests_total", "haproxy_frontend_http_requests_rate_max",
                 "haproxy_frontend_intercepted_requests_total", "haproxy_frontend_http_cache_hits_total",
                 "haproxy_frontend_http_comp_bytes_in_total", "haproxy_backend_http_requests_total",
                 "haproxy_backend_http_comp_responses_total"):
        assert list(series(fams[name])) == ['proxy="web"'], name
    codes = list(series(fams["haproxy_server_http_responses_total"]))
    assert codes == [f'proxy="web",server="w1",code="{c}"' for c in ("1xx", "2xx", "3xx", "4xx", "5xx", "other")]
    # TCP proxies still have every other family
    assert 'proxy="fe_tcp"' in series(fams["haproxy_frontend_connections_total"])


def test_tcp_only_config_has_no_http_families(tmp_path: Path) -> None:
    path = tmp_path / "tcp.cfg"
    path.write_text("frontend f\n    bind 127.0.0.1:10009\n    default_backend b\nbackend b\n    server s 127.0.0.1:1\n")
    model, diag = config.load([str(path)])
    p = build(model, diag, quiet=True)
    assert not [n for n in fams_of(p) if "http_" in n and not n.startswith("haproxy_process_")]
    # and no listener families without option socket-stats, no check families without check
    names = set(fams_of(p))
    assert not [n for n in names if n.startswith("haproxy_listener_")]
    assert "haproxy_server_check_status" not in names
    assert "haproxy_server_check_duration_seconds" not in names


def test_server_status_encoding(proc: Any) -> None:
    a, b, c, d, e = (srv(proc, "be_tcp", n) for n in "abcde")
    b.set_admin(FDRAIN)
    c.op_state = STOPPING
    e.op_state = STARTING  # STARTING counts as UP
    a.op_state = STOPPED
    fams = fams_of(proc, scopes={"server", "backend"})
    states = {"a": "DOWN", "b": "DRAIN", "c": "NOLB", "d": "MAINT", "e": "UP"}
    st = series(fams["haproxy_server_status"])
    for name, cur in states.items():
        for state in P.SRV_STATES:
            assert st[f'proxy="be_tcp",server="{name}",state="{state}"'] == (state == cur), (name, state)
    # MAINT wins over the operational state
    d.op_state = STOPPED
    assert val(fams_of(proc, scopes={"server"}), "haproxy_server_status", 'proxy="be_tcp",server="d",state="MAINT"') == 1
    agg = series(fams["haproxy_backend_agg_server_status"])
    assert [agg[f'proxy="be_tcp",state="{s}"'] for s in P.SRV_STATES] == [1, 1, 1, 1, 1]
    assert series(fams["haproxy_backend_agg_server_check_status"]) == {
        k: v for k, v in series(fams["haproxy_backend_agg_server_status"]).items()}
    assert 'proxy="be_empty",state="UP"' not in agg  # no servers, no aggregate


def test_frontend_backend_listener_status(proc: Any) -> None:
    fams = fams_of(proc)
    fe = series(fams["haproxy_frontend_status"])
    assert fe['proxy="fe_tcp",state="UP"'] == 1 and fe['proxy="fe_tcp",state="DOWN"'] == 0
    be = series(fams["haproxy_backend_status"])
    assert be['proxy="be_empty",state="UP"'] == 1  # no servers counts as UP
    li = series(fams["haproxy_listener_status"])
    assert [k for k, v in li.items() if v == 1] == [  # never bound: WAITING
        'proxy="fe_sock",listener="one",state="WAITING"', 'proxy="fe_sock",listener="sock-2",state="WAITING"']
    for s in srv(proc, "be_tcp", "a").backend.servers:
        s.set_admin(FMAINT)
    be = series(fams_of(proc, scopes={"backend"})["haproxy_backend_status"])
    assert be['proxy="be_tcp",state="DOWN"'] == 1


def test_check_metrics(proc: Any) -> None:
    a, b, e = (srv(proc, "be_tcp", n) for n in "abe")
    a.check.status, a.check.duration = "L4OK", 3
    b.check.status, b.check.code, b.check.duration = "L7STS", 503, 12
    e.check.paused = True  # 'disable health': no check_status / check_code
    e.check.status, e.check.duration = "L4CON", 1
    fams = fams_of(proc, scopes={"server", "backend"})
    cs = series(fams["haproxy_server_check_status"])
    assert [k.split(",state=")[1] for k in cs if k.startswith('proxy="be_tcp",server="a"')] == [
        f'"{s}"' for s in P.CHECK_STATES]
    assert P.CHECK_STATES == ("HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT",
                              "L7RSP", "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK")
    assert cs['proxy="be_tcp",server="a",state="L4OK"'] == 1
    assert cs['proxy="be_tcp",server="b",state="L7STS"'] == 1
    assert sum(cs.values()) == 2  # a and b; web's w1 is still INI: no state is 1
    assert not [k for k in cs if 'server="c"' in k or 'server="e"' in k]
    code = series(fams["haproxy_server_check_code"])
    assert code == {'proxy="be_tcp",server="a"': 0, 'proxy="be_tcp",server="b"': 503, 'proxy="web",server="w1"': 0}
    dur = series(fams["haproxy_server_check_duration_seconds"])
    # INI (w1, never checked) has no duration; a paused check keeps its last one (as promex)
    assert dur == {'proxy="be_tcp",server="a"': 0.003, 'proxy="be_tcp",server="b"': 0.012,
                   'proxy="be_tcp",server="e"': 0.001}
    agg = series(fams["haproxy_backend_agg_check_status"])
    assert agg['proxy="be_tcp",state="L4OK"'] == 1 and agg['proxy="be_tcp",state="L7STS"'] == 1
    assert agg['proxy="be_tcp",state="L4CON"'] == 1


def test_empty_fields_are_nan(proc: Any) -> None:
    fams = fams_of(proc, scopes={"server"})
    assert math.isnan(val(fams, "haproxy_server_check_failures_total", 'proxy="be_tcp",server="c"'))
    assert math.isnan(val(fams, "haproxy_server_check_up_down_total", 'proxy="be_tcp",server="c"'))
    assert val(fams, "haproxy_server_check_failures_total", 'proxy="be_tcp",server="a"') == 0
    assert math.isnan(val(fams, "haproxy_server_queue_limit", 'proxy="be_tcp",server="a"'))
    assert val(fams, "haproxy_server_queue_limit", 'proxy="be_tcp",server="b"') == 3
    assert math.isnan(val(fams, "haproxy_server_limit_sessions", 'proxy="be_tcp",server="a"'))
    assert val(fams, "haproxy_server_limit_sessions", 'proxy="be_tcp",server="b"') == 9
    assert math.isnan(val(fams, "haproxy_server_current_throttle", 'proxy="be_tcp",server="a"'))


def test_no_maint_skips_maint_servers_only_in_server_scope(proc: Any) -> None:
    srv(proc, "be_tcp", "a").set_admin(FMAINT)
    fams = fams_of(proc, no_maint=True)
    keys = {k for f in fams.values() if f.name.startswith("haproxy_server_") for k, _v in f.samples}
    assert not [k for k in keys if 'server="a"' in k or 'server="d"' in k]
    assert [k for k in keys if 'server="b"' in k]
    agg = series(fams["haproxy_backend_agg_server_status"])
    assert agg['proxy="be_tcp",state="MAINT"'] == 2  # backends still count them


def test_times_are_seconds(proc: Any) -> None:
    be = srv(proc, "be_tcp", "a").backend
    be.timings.add(10, 20, 30, 100)
    fams = fams_of(proc, scopes={"backend"})
    assert val(fams, "haproxy_backend_total_time_average_seconds", 'proxy="be_tcp"') == pytest.approx(0.1)
    assert val(fams, "haproxy_backend_max_connect_time_seconds", 'proxy="be_tcp"') == pytest.approx(0.02)


# ------------------------------------------------------------------ renderers
def _parsed(fams: Any) -> dict[str, tuple[str, dict[tuple[Any, ...], float]]]:
    out = {}
    for f in fams:
        samples = {}
        for s in f.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        out[f.name] = (f.type, samples)
    return out


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name][0] == b[name][0], name
        sa, sb = a[name][1], b[name][1]
        assert sa.keys() == sb.keys(), name
        for k in sa:
            assert (math.isnan(sa[k]) and math.isnan(sb[k])) or sa[k] == sb[k], (name, k)


def test_text_rendering_parses_and_matches_prometheus_client(proc: Any) -> None:
    fams = list(P.families(proc))
    text = P.render_text(fams).decode()
    assert "# TYPE haproxy_process_failed_resolutions counter\nhaproxy_process_failed_resolutions " in text
    assert '\nhaproxy_server_status{proxy="be_tcp",server="a",state="UP"} 1\n' in text
    mine = _parsed(text_parse(text))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(P.Collector(proc))
    lib = _parsed(text_parse(generate_latest(registry).decode()))
    # the library's exposition renames the one counter without _total (typed unknown there)
    mine.pop("haproxy_process_failed_resolutions")
    lib.pop("haproxy_process_failed_resolutions")
    _same(mine, lib)


def test_openmetrics_rendering_parses_and_matches_prometheus_client(proc: Any) -> None:
    fams = list(P.families(proc))
    om = P.render_openmetrics(fams).decode()
    assert om.endswith("# EOF\n")
    assert "# TYPE haproxy_frontend_bytes_in counter\n" in om
    assert "# TYPE haproxy_process_failed_resolutions unknown\nhaproxy_process_failed_resolutions " in om
    mine = _parsed(om_parse(om))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(P.Collector(proc, openmetrics=True))
    lib = _parsed(om_parse(om_generate_latest(registry).decode()))
    _same(mine, lib)
    # same samples as the text format, less the NaN counters OpenMetrics forbids
    text = _parsed(text_parse(P.render_text(fams).decode()))
    text.pop("haproxy_process_failed_resolutions")
    mine.pop("haproxy_process_failed_resolutions")
    text_keys = {k: {s for s, x in v[1].items() if not (v[0] == "counter" and math.isnan(x))} for k, v in text.items()}
    assert {k: v for k, v in text_keys.items() if v} == {k: set(v[1]) for k, v in mine.items()}
    assert 'haproxy_server_check_failures_total{proxy="be_tcp",server="c"} NaN' in P.render_text(fams).decode()
    assert 'server="c"' not in om.split("# TYPE haproxy_server_check_failures counter")[1].split("# TYPE")[0]


def test_integers_print_as_integers(proc: Any) -> None:
    text = P.serve(proc, "/metrics?scope=backend", "")[2].decode()
    assert '\nhaproxy_backend_current_queue{proxy="be_tcp"} 0\n' in text
    assert '\nhaproxy_backend_queue_time_average_seconds{proxy="be_tcp"} 0.0\n' in text


# ------------------------------------------------------------------ cache and service
def test_exposition_is_cached_for_the_ttl(proc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(P.time, "monotonic", lambda: now[0])
    fe = proc.frontends[0]
    first = P.serve(proc, "/metrics?scope=frontend", "")[2]
    fe.bytes_in += 1234
    assert P.serve(proc, "/metrics?scope=frontend", "")[2] is first
    assert P.serve(proc, "/metrics?scope=frontend", PROM_ACCEPT)[2] is not first  # another format: own entry
    assert P.serve(proc, "/metrics?scope=frontend&no-maint", "")[2] is not first
    now[0] += P.CACHE_TTL
    again = P.serve(proc, "/metrics?scope=frontend", "")[2]
    assert b'haproxy_frontend_bytes_in_total{proxy="fe_tcp"} 1234\n' in again


def test_http_service_registry(proc: Any) -> None:
    svc = SERVICES["prometheus-exporter"]
    txn = Txn(None, Request("GET", "/metrics?scope=global", headers=Headers([("accept", PROM_ACCEPT)])))
    status, headers, body = svc(proc, txn)
    assert status == 200
    assert dict(headers)["Content-Type"].startswith("application/openmetrics-text")
    assert b"haproxy_process_build_info" in body and b"haproxy_frontend_" not in body
    txn = Txn(None, Request("GET", "/metrics?scope"))
    assert svc(proc, txn)[0] == 400


def test_service_yields_between_families_and_shares_one_rendering(proc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import gevent

    calls = []
    real = P.families

    def counting(*a: Any, **kw: Any) -> Any:
        calls.append(a)
        return real(*a, **kw)

    monkeypatch.setattr(P, "families", counting)
    ticks = [0]

    def ticker() -> None:
        while True:
            ticks[0] += 1
            gevent.sleep(0)

    t = gevent.spawn(ticker)
    txn = Txn(None, Request("GET", "/metrics"))
    try:
        g1 = gevent.spawn(SERVICES["prometheus-exporter"], proc, txn)
        g2 = gevent.spawn(SERVICES["prometheus-exporter"], proc, txn)
        gevent.joinall([g1, g2], raise_error=True)
    finally:
        t.kill()
    assert len(calls) == 1  # the second scrape waited for the first rendering
    assert g1.value[2] is g2.value[2]
    nfams = g1.value[2].count(b"\n# TYPE ")
    assert ticks[0] >= nfams  # the hub ran the ticker between families
    P._CACHE.pop(proc, None)

    def keys(body: bytes) -> list[str]:  # the same lines without pauses (ages may tick)
        return [line.rsplit(" ", 1)[0] for line in body.decode().splitlines()]

    assert keys(P.serve(proc, "/metrics", "")[2]) == keys(g1.value[2])
