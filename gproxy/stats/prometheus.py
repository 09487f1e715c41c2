"""The Prometheus exporter: HAProxy 2.6's ``prometheus-exporter`` service (promex).

Owns the mapping from the stats column table (``stats/columns.py``) and the ``show info``
fields (``stats/info.py``) to promex's metric families -- names, types, HELP texts,
labels, the one-series-per-state encoding of status metrics, which objects and proxy
modes each metric covers -- and the HTTP side of the service: the query string
(``scope=``, ``no-maint``), content negotiation (text 0.0.4 or OpenMetrics) and a short
cache of the rendered exposition.

Everything is read at scrape time (``families()``) from the plain attributes the hot path
updates, through the column table; nothing here runs per request or per chunk.
``Collector`` wraps the same families for a prometheus_client registry of one's own (the
library's multiprocess mode is not used: it does not run custom collectors).  The
service itself renders the families directly (``render_text``/``render_openmetrics``,
checked against the library's parsers and expositions by the tests): building
prometheus_client sample objects and formatting them cost ~20x more, and a scrape blocks
the event loop while it renders.

Behaviour follows ``addons/promex/service-prometheus.c`` of HAProxy 2.6 as shipped by
Debian (2.6.12, which also carries 2.8's ``agg_server_status``/``agg_check_status``):

* scopes in order ``global`` (``haproxy_process_*``), ``frontend``, ``listener``,
  ``backend``, ``server``, ``sticktable`` (``size`` and ``used`` of each stick table,
  labels ``{name,type}``, tables in the reverse of their declaration order as HAProxy);
* disabled proxies are skipped; listeners only appear with ``option socket-stats``;
* HTTP-only metrics (``http_responses_total``, ``http_requests_total``, compression,
  cache, ``intercepted_requests_total``, ``http_requests_rate_max``) skip non-HTTP proxies;
* an empty stats field is ``NaN`` (e.g. the check counters of a server without ``check``,
  ``queue_limit`` without ``maxqueue``, ``show info`` fields gproxy cannot compute); a
  family without any series is not printed;
* ``check_status``/``check_code`` only for servers whose check is enabled and not paused,
  ``check_duration_seconds`` only once a check has completed;
* times are reported in seconds (the columns hold milliseconds); integers print as
  integers, as HAProxy prints them.

Text 0.0.4 is what HAProxy always sends and keeps its exact names (including the one
counter without ``_total``, ``haproxy_process_failed_resolutions``).  OpenMetrics, sent
when the scraper asks for it as Prometheus does, must differ where the format requires:
that counter is typed ``unknown`` (same series name) and NaN counter samples are left out.

No socket I/O; it yields to the hub only through the ``pause`` callback the HTTP
service passes (``service``), never on its own.
"""

from __future__ import annotations

import math
import re
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from ..checks import status as chkstatus
from ..server import DRAIN_MASK, RUNNING, STARTING, STOPPING

NAN = math.nan
GAUGE, COUNTER = "gauge", "counter"

# which objects a metric covers (HAProxy's PROMEX_FL_*_METRIC)
FE, LI, BE, SRV = 1, 2, 4, 8

#: query-string scope names -> dump order (HAProxy's PROMEX_DUMPER_* order)
SCOPES = ("global", "frontend", "listener", "backend", "server", "sticktable")

#: how long a rendered exposition is reused, in seconds
CACHE_TTL = 1.0

#: states of ``haproxy_*_status`` (promex_front_st / promex_back_st / promex_srv_st / li_status_st)
FRONT_STATES = ("DOWN", "UP")
BACK_STATES = ("DOWN", "UP")
SRV_STATES = ("DOWN", "UP", "MAINT", "DRAIN", "NOLB")
LI_STATES = ("WAITING", "OPEN", "FULL")

#: check statuses listed by ``check_status`` / ``agg_check_status``: HAProxy's enum order,
#: only those whose result is at least "failed" (so no UNK, INI, CHECKED)
CHECK_STATES = tuple(
    name for name, (_rank, result, _d) in sorted(chkstatus.STATUSES.items(), key=lambda kv: kv[1][0])
    if result >= chkstatus.FAILED
)
_CHECKED_RANK = chkstatus.STATUSES["CHECKED"][0]


@dataclass(frozen=True)
class PromMetric:
    """One promex metric of the frontend/listener/backend/server scopes.

    ``col`` is the stats column it reads (None for promex's own computed metrics);
    ``kind`` says how the value is produced: ``""`` the column value as is, ``"ms"`` a
    column in milliseconds reported in seconds, or one of promex's special cases
    (``status``, ``hrsp``, ``check_status``, ``check_code``, ``check_duration``,
    ``agg_srv``, ``agg_chk``).
    """

    col: str | None
    name: str
    type: str
    objs: int
    http_only: bool = False
    kind: str = ""


def _m(col: str | None, name: str, typ: str, objs: int, http_only: bool = False, kind: str = "") -> PromMetric:
    return PromMetric(col, name, typ, objs, http_only, kind)


G, C = GAUGE, COUNTER
ALL = FE | LI | BE | SRV
#: promex_st_metrics of HAProxy 2.6, in its field order
ST_METRICS: tuple[PromMetric, ...] = (
    _m("qcur", "current_queue", G, BE | SRV),
    _m("qmax", "max_queue", G, BE | SRV),
    _m("scur", "current_sessions", G, ALL),
    _m("smax", "max_sessions", G, ALL),
    _m("slim", "limit_sessions", G, ALL),
    _m("stot", "sessions_total", C, ALL),
    _m("bin", "bytes_in_total", C, ALL),
    _m("bout", "bytes_out_total", C, ALL),
    _m("dreq", "requests_denied_total", C, FE | LI | BE),
    _m("dresp", "responses_denied_total", C, ALL),
    _m("ereq", "request_errors_total", C, FE | LI),
    _m("econ", "connection_errors_total", C, BE | SRV),
    _m("eresp", "response_errors_total", C, BE | SRV),
    _m("wretr", "retry_warnings_total", C, BE | SRV),
    _m("wredis", "redispatch_warnings_total", C, BE | SRV),
    _m("status", "status", G, ALL, kind="status"),
    _m("weight", "weight", G, BE | SRV),
    _m("act", "active_servers", G, BE),
    _m("bck", "backup_servers", G, BE),
    _m("chkfail", "check_failures_total", C, SRV),
    _m("chkdown", "check_up_down_total", C, BE | SRV),
    _m("lastchg", "check_last_change_seconds", G, BE | SRV),
    _m("downtime", "downtime_seconds_total", C, BE | SRV),
    _m("qlimit", "queue_limit", G, SRV),
    _m("throttle", "current_throttle", G, SRV),
    _m("lbtot", "loadbalanced_total", C, BE | SRV),
    _m("rate_lim", "limit_session_rate", G, FE),
    _m("rate_max", "max_session_rate", G, FE | BE | SRV),
    _m("check_status", "check_status", G, SRV, kind="check_status"),
    _m("check_code", "check_code", G, SRV, kind="check_code"),
    _m("check_duration", "check_duration_seconds", G, SRV, kind="check_duration"),
    _m("hrsp_1xx", "http_responses_total", C, FE | BE | SRV, True, "hrsp"),
    _m("req_rate_max", "http_requests_rate_max", G, FE, True),
    _m("req_tot", "http_requests_total", C, FE | BE, True),
    _m("cli_abrt", "client_aborts_total", C, BE | SRV),
    _m("srv_abrt", "server_aborts_total", C, BE | SRV),
    _m("comp_in", "http_comp_bytes_in_total", C, FE | BE, True),
    _m("comp_out", "http_comp_bytes_out_total", C, FE | BE, True),
    _m("comp_byp", "http_comp_bytes_bypassed_total", C, FE | BE, True),
    _m("comp_rsp", "http_comp_responses_total", C, FE | BE, True),
    _m("lastsess", "last_session_seconds", G, BE | SRV),
    _m("qtime", "queue_time_average_seconds", G, BE | SRV, kind="ms"),
    _m("ctime", "connect_time_average_seconds", G, BE | SRV, kind="ms"),
    _m("rtime", "response_time_average_seconds", G, BE | SRV, kind="ms"),
    _m("ttime", "total_time_average_seconds", G, BE | SRV, kind="ms"),
    _m("conn_rate_max", "connections_rate_max", G, FE),
    _m("conn_tot", "connections_total", C, FE),
    _m("intercepted", "intercepted_requests_total", C, FE, True),
    _m("dcon", "denied_connections_total", C, FE | LI),
    _m("dses", "denied_sessions_total", C, FE | LI),
    _m("wrew", "failed_header_rewriting_total", C, ALL),
    _m("connect", "connection_attempts_total", C, BE | SRV),
    _m("reuse", "connection_reuses_total", C, BE | SRV),
    _m("cache_lookups", "http_cache_lookups_total", C, FE | BE, True),
    _m("cache_hits", "http_cache_hits_total", C, FE | BE, True),
    _m("srv_icur", "idle_connections_current", G, SRV),
    _m("src_ilim", "idle_connections_limit", G, SRV),
    _m("qtime_max", "max_queue_time_seconds", G, BE | SRV, kind="ms"),
    _m("ctime_max", "max_connect_time_seconds", G, BE | SRV, kind="ms"),
    _m("rtime_max", "max_response_time_seconds", G, BE | SRV, kind="ms"),
    _m("ttime_max", "max_total_time_seconds", G, BE | SRV, kind="ms"),
    _m("eint", "internal_errors_total", C, ALL),
    _m("idle_conn_cur", "unsafe_idle_connections_current", G, SRV),
    _m("safe_conn_cur", "safe_idle_connections_current", G, SRV),
    _m("used_conn_cur", "used_connections_current", G, SRV),
    _m("need_conn_est", "need_connections_current", G, SRV),
    _m("uweight", "uweight", G, BE | SRV),
    _m("agg_server_status", "agg_server_status", G, BE, kind="agg_srv"),
    _m("agg_server_check_status", "agg_server_check_status", G, BE, kind="agg_srv"),
    _m("agg_check_status", "agg_check_status", G, BE, kind="agg_chk"),
)

#: HELP texts promex sets itself (promex_st_metric_desc); the others are the columns' own
PROMEX_DESC: dict[str, str] = {
    "status": "Current status of the service, per state label value.",
    "check_status": "Status of last health check, per state label value.",
    "check_code": "layer5-7 code, if available of the last health check.",
    "check_duration_seconds": "Total duration of the latest server health check, in seconds.",
    "queue_time_average_seconds": "Avg. queue time for last 1024 successful connections.",
    "connect_time_average_seconds": "Avg. connect time for last 1024 successful connections.",
    "response_time_average_seconds": "Avg. response time for last 1024 successful connections.",
    "total_time_average_seconds": "Avg. total time for last 1024 successful connections.",
    "max_queue_time_seconds": "Maximum observed time spent in the queue",
    "max_connect_time_seconds": "Maximum observed time spent waiting for a connection to complete",
    "max_response_time_seconds": "Maximum observed time spent waiting for a server response",
    "max_total_time_seconds": "Maximum observed total request+response time (request+queue+connect+response+processing)",
}

#: stats_fields descriptions of the aggregated backend columns, used when the column
#: table does not carry them (they are computed here, not by the columns)
AGG_DESC: dict[str, str] = {
    "agg_server_status": "Backend's aggregated gauge of servers' status",
    "agg_server_check_status": "Backend's aggregated gauge of servers' state check status",
    "agg_check_status": "Backend's aggregated gauge of servers' state check status",
}

#: promex_global_metrics: (show info field, metric name, type), in the order HAProxy
#: 2.6.12 prints them (the fields it appended after 2.6.0 come last)
INFO_METRICS: tuple[tuple[str, str, str], ...] = (
    ("Nbthread", "nbthread", G),
    ("Nbproc", "nbproc", G),
    ("Process_num", "relative_process_id", G),
    ("Uptime_sec", "uptime_seconds", G),
    ("PoolFailed", "pool_failures_total", C),
    ("Ulimit-n", "max_fds", G),
    ("Maxsock", "max_sockets", G),
    ("Maxconn", "max_connections", G),
    ("Hard_maxconn", "hard_max_connections", G),
    ("CurrConns", "current_connections", G),
    ("CumConns", "connections_total", C),
    ("CumReq", "requests_total", C),
    ("MaxSslConns", "max_ssl_connections", G),
    ("CurrSslConns", "current_ssl_connections", G),
    ("CumSslConns", "ssl_connections_total", C),
    ("Maxpipes", "max_pipes", G),
    ("PipesUsed", "pipes_used_total", C),
    ("PipesFree", "pipes_free_total", C),
    ("ConnRate", "current_connection_rate", G),
    ("ConnRateLimit", "limit_connection_rate", G),
    ("MaxConnRate", "max_connection_rate", G),
    ("SessRate", "current_session_rate", G),
    ("SessRateLimit", "limit_session_rate", G),
    ("MaxSessRate", "max_session_rate", G),
    ("SslRate", "current_ssl_rate", G),
    ("SslRateLimit", "limit_ssl_rate", G),
    ("MaxSslRate", "max_ssl_rate", G),
    ("SslFrontendKeyRate", "current_frontend_ssl_key_rate", G),
    ("SslFrontendMaxKeyRate", "max_frontend_ssl_key_rate", G),
    ("SslFrontendSessionReuse_pct", "frontend_ssl_reuse", G),
    ("SslBackendKeyRate", "current_backend_ssl_key_rate", G),
    ("SslBackendMaxKeyRate", "max_backend_ssl_key_rate", G),
    ("SslCacheLookups", "ssl_cache_lookups_total", C),
    ("SslCacheMisses", "ssl_cache_misses_total", C),
    ("CompressBpsIn", "http_comp_bytes_in_total", C),
    ("CompressBpsOut", "http_comp_bytes_out_total", C),
    ("CompressBpsRateLim", "limit_http_comp", G),
    ("ZlibMemUsage", "current_zlib_memory", G),
    ("MaxZlibMemUsage", "max_zlib_memory", G),
    ("Tasks", "current_tasks", G),
    ("Run_queue", "current_run_queue", G),
    ("Idle_pct", "idle_time_percent", G),
    ("Stopping", "stopping", G),
    ("Jobs", "jobs", G),
    ("Unstoppable Jobs", "unstoppable_jobs", G),
    ("Listeners", "listeners", G),
    ("ActivePeers", "active_peers", G),
    ("ConnectedPeers", "connected_peers", G),
    ("DroppedLogs", "dropped_logs_total", C),
    ("BusyPolling", "busy_polling_enabled", G),
    ("FailedResolutions", "failed_resolutions", C),
    ("TotalBytesOut", "bytes_out_total", C),
    ("TotalSplicdedBytesOut", "spliced_bytes_out_total", C),
    ("BytesOutRate", "bytes_out_rate", G),
    ("CumRecvLogs", "recv_logs_total", C),
    ("Build info", "build_info", G),
    ("Memmax_bytes", "max_memory_bytes", G),
    ("PoolAlloc_bytes", "pool_allocated_bytes", G),
    ("PoolUsed_bytes", "pool_used_bytes", G),
    ("Start_time_sec", "start_time_seconds", G),
)

HRSP_CODES = ("1xx", "2xx", "3xx", "4xx", "5xx", "other")
_HRSP_COLS = tuple(f"hrsp_{c}" for c in HRSP_CODES)


def metric_names() -> dict[str, str]:
    """Every family name this exporter can produce -> its type (for docs and tests)."""
    out = {f"haproxy_process_{name}": typ for _f, name, typ in INFO_METRICS}
    for scope, bit in (("frontend", FE), ("listener", LI), ("backend", BE), ("server", SRV)):
        for m in ST_METRICS:
            if m.objs & bit:
                out[f"haproxy_{scope}_{m.name}"] = m.type
    for name, typ, _desc in STICKTABLE_METRICS:
        out[f"haproxy_sticktable_{name}"] = typ
    return out


# ------------------------------------------------------------------ values
def _num(v: Any) -> float | int:
    """A stats field as promex prints it: numbers as is, empty or text fields as NaN."""
    t = type(v)
    if t is int or t is float:
        return v
    if v is None or t is str:
        return NAN
    if t is bool:
        return int(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return NAN


def _secs(v: Any) -> float:
    v = _num(v)
    return NAN if math.isnan(v) else v / 1000.0


def srv_state(srv: Any) -> str:
    """promex_srv_status(): UP (STARTING counts), DRAIN, NOLB, DOWN; MAINT wins."""
    state = "DOWN"
    op = srv.op_state
    if op in (RUNNING, STARTING):
        state = "DRAIN" if srv.admin & DRAIN_MASK else "UP"
    elif op == STOPPING:
        state = "NOLB"
    if srv.maint:
        state = "MAINT"
    return state


def _check_active(srv: Any) -> Any:
    """The server's check when it is enabled and not paused (CHK_ST_ENABLED only), else None."""
    chk = getattr(srv, "check", None)
    if chk is None or not chk.enabled:
        return None
    return chk


def _is_http(obj: Any) -> bool:
    return getattr(obj, "mode", "tcp") == "http"


def _fmt(v: float) -> str:
    """A sample value as text: integers exactly (as HAProxy), floats as Go prints them."""
    if type(v) is int:
        return str(v)
    return floatToGoString(v)


def _esc_label(v: str) -> str:
    if "\\" in v or '"' in v or "\n" in v:
        return v.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return v


# ------------------------------------------------------------------ families
@dataclass(slots=True)
class Family:
    """One metric family as the renderers need it.

    ``name`` is HAProxy's metric name (what the text format prints), ``type`` its
    Prometheus type, ``samples`` a list of ``(labels, value)`` where ``labels`` is the
    label set already rendered (``proxy="be",server="s1"``, HAProxy's label order).
    """

    name: str
    desc: str
    type: str
    samples: list[tuple[str, float | int]]


def families(process: Any, scopes: Iterable[str] = SCOPES, no_maint: bool = False) -> Iterator[Family]:
    """Every promex family with at least one series, read from the process now."""
    scopes = frozenset(scopes)
    if "global" in scopes:
        yield from _process_families(process)
    if scopes & {"frontend", "listener", "backend", "server"}:
        from . import columns

        objs = _objects(columns, process)
        for scope, bit in (("frontend", FE), ("listener", LI), ("backend", BE), ("server", SRV)):
            if scope in scopes:
                yield from _st_families(columns, scope, bit, objs[bit], no_maint and bit == SRV)
    if "sticktable" in scopes:
        yield from _sticktable_families(process)


#: promex_sticktable_metrics of HAProxy 2.6: (name, type, HELP text)
STICKTABLE_METRICS = (
    ("size", GAUGE, "Stick table size."),
    ("used", GAUGE, "Number of entries used in this stick table."),
)


def _sticktable_families(process: Any) -> Iterator[Family]:
    """``haproxy_sticktable_size``/``_used`` per table, in HAProxy's list order (the
    reverse of declaration order, as ``show table``); tables of size 0 are skipped."""
    tables = [t for t in reversed(list((getattr(process, "stick_tables", None) or {}).values())) if t.size]
    if not tables:
        return
    labels = [f'name="{_esc_label(t.name)}",type="{_esc_label(t.type)}"' for t in tables]
    for name, typ, desc in STICKTABLE_METRICS:
        yield Family("haproxy_sticktable_" + name, desc, typ,
                     [(lab, int(getattr(t, name))) for t, lab in zip(tables, labels, strict=True)])


def _objects(columns: Any, process: Any) -> dict[int, list[tuple[Any, str]]]:
    """(object, rendered labels) of each kind in the column table's row order (which
    skips disabled proxies, and lists listeners only with ``option socket-stats``)."""
    out: dict[int, list[tuple[Any, str]]] = {FE: [], LI: [], BE: [], SRV: []}
    for kind, obj in columns.rows(process):
        if kind == "srv":
            out[SRV].append((obj, f'proxy="{_esc_label(obj.backend.name)}",server="{_esc_label(obj.name)}"'))
        elif kind == "be":
            out[BE].append((obj, f'proxy="{_esc_label(obj.name)}"'))
        elif kind == "fe":
            out[FE].append((obj, f'proxy="{_esc_label(obj.name)}"'))
        elif kind == "li":
            out[LI].append((obj, f'proxy="{_esc_label(obj.frontend.name)}",listener="{_esc_label(obj.name)}"'))
    return out


def _process_families(process: Any) -> Iterator[Family]:
    """Every ``haproxy_process_*`` metric; as promex, a field ``show info`` leaves out
    (gproxy cannot compute it) is NaN rather than missing."""
    from . import info

    values = dict(info.values(process))
    for field, name, typ in INFO_METRICS:
        f = info.BY_NAME.get(field)
        desc = f.desc if f is not None else field
        if field == "Build info":
            version = values.get("Version") or _gproxy_version()
            yield Family("haproxy_process_build_info", desc, typ, [(f'version="{_esc_label(str(version))}"', 1)])
        else:
            yield Family("haproxy_process_" + name, desc, typ, [("", _num(values.get(field)))])


def _st_families(columns: Any, scope: str, bit: int, objs: list[tuple[Any, str]], no_maint: bool) -> Iterator[Family]:
    if no_maint:
        objs = [(o, lab) for o, lab in objs if not o.maint]
    if not objs:
        return
    prefix = f"haproxy_{scope}_"
    kind = {FE: "fe", LI: "li", BE: "be", SRV: "srv"}[bit]
    by_name = columns.BY_NAME
    if bit == SRV:
        http_objs = [(o, lab) for o, lab in objs if _is_http(o.backend)]
    else:
        http_objs = [(o, lab) for o, lab in objs if _is_http(o)]
    for m in ST_METRICS:
        if not m.objs & bit:
            continue
        col = by_name.get(m.col) if m.col else None
        desc = PROMEX_DESC.get(m.name) or (col.desc if col is not None else AGG_DESC.get(m.name, ""))
        get = getattr(col, kind) if col is not None else None  # columns.value() without the per-row lookup
        samples: list[tuple[str, float | int]] = []
        add = samples.append
        k = m.kind
        todo = http_objs if m.http_only else objs
        if k == "":
            if get is None:
                for _obj, lab in todo:
                    add((lab, NAN))
            else:
                for obj, lab in todo:
                    add((lab, _num(get(obj))))
        elif k == "ms":
            for obj, lab in todo:
                add((lab, _secs(get(obj)) if get is not None else NAN))
        elif k == "status":
            for obj, lab in todo:
                for state, cur in _states(bit, obj):
                    add((f'{lab},state="{state}"', 1 if state == cur else 0))
        elif k == "hrsp":
            for code, cname in zip(HRSP_CODES, _HRSP_COLS, strict=True):  # all 1xx, then all 2xx...
                hcol = by_name.get(cname)
                hget = getattr(hcol, kind) if hcol is not None else None
                for obj, lab in todo:
                    add((f'{lab},code="{code}"', _num(hget(obj)) if hget is not None else NAN))
        elif k == "check_status":
            for obj, lab in todo:
                chk = _check_active(obj)
                if chk is not None:
                    st = chk.status
                    for state in CHECK_STATES:
                        add((f'{lab},state="{state}"', 1 if st == state else 0))
        elif k == "check_code":
            for obj, lab in todo:
                chk = _check_active(obj)
                if chk is not None:
                    add((lab, chk.code if chkstatus.has_code(chk.status) else 0))
        elif k == "check_duration":
            for obj, lab in todo:
                chk = getattr(obj, "check", None)
                if chk is not None and chkstatus.STATUSES.get(chk.status, (0,))[0] >= _CHECKED_RANK:
                    add((lab, max(chk.duration, 0) / 1000.0))
        elif k == "agg_srv":
            for obj, lab in todo:
                if obj.servers:
                    counts = dict.fromkeys(SRV_STATES, 0)
                    for s in obj.servers:
                        counts[srv_state(s)] += 1
                    for state in SRV_STATES:
                        add((f'{lab},state="{state}"', counts[state]))
        elif k == "agg_chk":
            for obj, lab in todo:
                if obj.servers:
                    counts = dict.fromkeys(CHECK_STATES, 0)
                    for s in obj.servers:
                        chk = getattr(s, "check", None)
                        if chk is not None and chk.status in counts:
                            counts[chk.status] += 1
                    for state in CHECK_STATES:
                        add((f'{lab},state="{state}"', counts[state]))
        if samples:
            yield Family(prefix + m.name, desc, m.type, samples)


def _states(bit: int, obj: Any) -> Iterator[tuple[str, str]]:
    if bit == SRV:
        cur = srv_state(obj)
        return ((s, cur) for s in SRV_STATES)
    if bit == BE:
        cur = "UP" if obj.status == "UP" else "DOWN"
        return ((s, cur) for s in BACK_STATES)
    if bit == LI:
        cur = obj.state
        return ((s, cur) for s in LI_STATES)
    cur = "DOWN" if obj.status == "STOP" else "UP"
    return ((s, cur) for s in FRONT_STATES)


def _gproxy_version() -> str:
    from .. import __version__

    return __version__


# ------------------------------------------------------------------ renderers
def render_text(fams: Iterable[Family], pause: Callable[[], None] | None = None) -> bytes:
    """Text format 0.0.4, as HAProxy prints it (HAProxy's names, label order and integers).
    ``pause`` is called after each family (see ``render``)."""
    out: list[str] = []
    w = out.append
    for f in fams:
        name = f.name
        desc = f.desc.replace("\\", r"\\").replace("\n", r"\n")
        w(f"# HELP {name} {desc}\n# TYPE {name} {f.type}\n")
        for lab, v in f.samples:
            w(f"{name}{{{lab}}} {_fmt(v)}\n" if lab else f"{name} {_fmt(v)}\n")
        if pause is not None:
            pause()
    return "".join(out).encode()


def render_openmetrics(fams: Iterable[Family], pause: Callable[[], None] | None = None) -> bytes:
    """OpenMetrics 1.0: counter families lose ``_total`` (their samples keep it); counters
    HAProxy names without ``_total`` become ``unknown`` so every sample keeps its name.
    OpenMetrics forbids NaN counter values: those samples (empty fields, e.g. the check
    counters of a server without ``check``) are left out, as is a family left empty."""
    out: list[str] = []
    w = out.append
    for f in fams:
        name = f.name
        typ = f.type
        fname = name
        if typ == COUNTER:
            if name.endswith("_total"):
                fname = name[:-6]
            else:
                typ = "unknown"
        samples = f.samples
        if typ == COUNTER:
            samples = [(lab, v) for lab, v in samples if not math.isnan(v)]
            if not samples:
                continue
        desc = f.desc.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
        w(f"# HELP {fname} {desc}\n# TYPE {fname} {typ}\n")
        for lab, v in samples:
            w(f"{name}{{{lab}}} {_fmt(v)}\n" if lab else f"{name} {_fmt(v)}\n")
        if pause is not None:
            pause()
    w("# EOF\n")
    return "".join(out).encode()


# ------------------------------------------------------------------ prometheus_client collector
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _unescape(v: str) -> str:
    if "\\" not in v:
        return v
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


class Collector:
    """prometheus_client custom collector producing promex's families for a Process.

    ``scopes`` is a set of names from ``SCOPES``; ``no_maint`` skips servers in
    maintenance (server scope only, as HAProxy); ``openmetrics`` leaves out NaN counter
    samples, which OpenMetrics forbids.  For a registry of one's own; the
    ``prometheus-exporter`` service renders the same families without building
    prometheus_client sample objects (``render_text``/``render_openmetrics``), which is
    many times faster on large configurations.  Counters HAProxy names without
    ``_total`` are typed ``unknown`` here: the library's expositions would rename them.
    """

    def __init__(self, process: Any, scopes: Iterable[str] = SCOPES, no_maint: bool = False,
                 openmetrics: bool = False) -> None:
        self.process = process
        self.scopes = frozenset(scopes)
        self.no_maint = no_maint
        self.openmetrics = openmetrics

    def describe(self) -> list[Metric]:
        """Nothing up front: the registry must not run a full collection at register time."""
        return []

    def collect(self) -> Iterator[Metric]:
        for f in families(self.process, self.scopes, self.no_maint):
            typ = f.type
            fname = f.name
            if typ == COUNTER:
                if fname.endswith("_total"):
                    fname = fname[:-6]
                else:
                    typ = "unknown"
            m = Metric(fname, f.desc, typ)
            for lab, v in f.samples:
                if typ == COUNTER and self.openmetrics and math.isnan(v):
                    continue
                labels = {k: _unescape(val) for k, val in _LABEL_RE.findall(lab)} if lab else {}
                m.add_sample(f.name, labels, v)
            if m.samples:
                yield m


# ------------------------------------------------------------------ the HTTP service
#: HAProxy's http_err_chunks[HTTP_ERR_400] as promex sends it for a bad query string
BAD_REQUEST_BODY = (
    b"<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"
)
BAD_REQUEST_HEADERS = [("Cache-Control", "no-cache"), ("Content-Type", "text/html"), ("Connection", "close")]

_BAD_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class BadQuery(ValueError):
    """The query string is one promex answers with 400."""


def _url_decode(s: str) -> str:
    if _BAD_PCT.search(s):
        raise BadQuery(s)
    from urllib.parse import unquote_plus

    return unquote_plus(s, errors="surrogateescape")


def parse_query(query: str | None) -> tuple[frozenset[str], bool]:
    """promex_parse_uri(): the scopes asked for and whether ``no-maint`` was given.

    No ``scope`` at all means every scope; each ``scope=<name>`` adds one, ``scope=*``
    all of them, an empty ``scope=`` removes all those given so far; ``scope`` without a
    value, an unknown scope name, a second ``=`` or a bad %-escape raise ``BadQuery``.
    Other parameters are ignored.  Parsing stops at ``#``.
    """
    scopes: set[str] = set()
    default_all = True
    no_maint = False
    if query:
        query = query.split("#", 1)[0]
        for part in query.split("&"):
            if not part:
                continue
            key, eq, val = part.partition("=")
            if eq and "=" in val:
                raise BadQuery(part)
            key = _url_decode(key)
            if key == "scope":
                default_all = False
                if not eq:
                    raise BadQuery(part)
                val = _url_decode(val)
                if val == "":
                    scopes.clear()
                elif val.startswith("*"):
                    scopes.update(SCOPES)
                elif val in SCOPES:
                    scopes.add(val)
                else:
                    raise BadQuery(part)
            elif key == "no-maint":
                no_maint = True
    if default_all:
        scopes.update(SCOPES)
    return frozenset(scopes), no_maint


_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], tuple[float, str, bytes]]] = weakref.WeakKeyDictionary()


CONTENT_TYPE_TEXT = "text/plain; version=0.0.4; charset=utf-8"
CONTENT_TYPE_OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def wants_openmetrics(accept: str) -> bool:
    """True when ``accept`` lists OpenMetrics 1.x (or unversioned), as Prometheus sends
    it; HAProxy itself always answers text 0.0.4."""
    for item in (accept or "").split(","):
        parts = [p.strip() for p in item.split(";")]
        if parts[0].lower() != "application/openmetrics-text":
            continue
        version = next((p.split("=", 1)[1].strip() for p in parts[1:] if p.lower().startswith("version=")), "")
        if not version or version.startswith("1."):
            return True
    return False


#: renderings under way with a ``pause``: (id(process), cache key) -> gevent AsyncResult
_INFLIGHT: dict[tuple[int, tuple[Any, ...]], Any] = {}


def render(process: Any, scopes: Iterable[str] = SCOPES, no_maint: bool = False, accept: str = "",
           ttl: float = CACHE_TTL, pause: Callable[[], None] | None = None) -> tuple[str, bytes]:
    """(content type, exposition) for ``accept``, reusing one rendered within ``ttl`` s.

    Rendering blocks the event loop (~55 ms per thousand servers), so a scrape burst or
    several scrapers share one rendering per ``ttl``.  With ``pause`` (the HTTP service
    passes one that yields to the hub) the rendering stops after each family to let the
    proxied traffic run, as HAProxy's promex dumps in buffer-sized steps; scrapes arriving
    meanwhile for the same exposition wait for it instead of rendering it again.
    """
    om = wants_openmetrics(accept)
    scopes = frozenset(scopes)
    key = (om, scopes, no_maint)
    now = time.monotonic()
    try:
        per_proc = _CACHE[process]
    except KeyError:
        per_proc = _CACHE[process] = {}
    hit = per_proc.get(key)
    if hit is not None and now < hit[0]:
        return hit[1], hit[2]
    flight = None
    if pause is not None:
        fkey = (id(process), key)
        waiting = _INFLIGHT.get(fkey)
        if waiting is not None:
            return waiting.get()
        from gevent.event import AsyncResult

        flight = _INFLIGHT[fkey] = AsyncResult()
    try:
        fams = families(process, scopes, no_maint)
        if om:
            ctype, body = CONTENT_TYPE_OPENMETRICS, render_openmetrics(fams, pause)
        else:
            ctype, body = CONTENT_TYPE_TEXT, render_text(fams, pause)
    except BaseException as e:
        if flight is not None:
            flight.set_exception(e)
        raise
    finally:
        if flight is not None:
            del _INFLIGHT[fkey]
    if ttl > 0:
        now = time.monotonic()
        for k in [k for k, hit in per_proc.items() if hit[0] <= now]:
            del per_proc[k]
        per_proc[key] = (now + ttl, ctype, body)
    if flight is not None:
        flight.set((ctype, body))
    return ctype, body


def serve(process: Any, path_query: str, accept: str,
          pause: Callable[[], None] | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """Answer one scrape: ``path_query`` is the request target (``/metrics?scope=...``),
    ``accept`` the request's Accept header, ``pause`` as for ``render``.  Returns
    (status, headers, body); the caller adds the framing (Content-Length or chunked)."""
    query = path_query.split("?", 1)[1] if "?" in path_query else None
    try:
        scopes, no_maint = parse_query(query)
    except BadQuery:
        return 400, list(BAD_REQUEST_HEADERS), BAD_REQUEST_BODY
    ctype, body = render(process, scopes, no_maint, accept, pause=pause)
    return 200, [("Cache-Control", "no-cache"), ("Content-Type", ctype)], body


def _yield_to_hub() -> None:
    import gevent

    gevent.sleep(0)


def service(process: Any, txn: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """``http-request use-service prometheus-exporter``: the HTTP engine's entry point,
    called in the session's greenlet; it yields to the hub between metric families."""
    req = txn.req
    return serve(process, req.uri, req.headers.get("accept") or "", pause=_yield_to_hub)
