"""The stats column table: every ``show stat`` column of HAProxy 2.6, once.

Owns HAProxy's static proxy-stats fields (``stat_fields[]`` in ``src/stats.c`` as the
Debian 2.6.12 binary prints them: ``pxname`` ... ``uweight``, ``agg_server_status``,
``agg_server_check_status``, ``agg_check_status``), each with its description, its field
nature/origin/scope/type (for the typed and JSON forms) and one getter per row kind
(frontend, backend, server, listener) reading the plain counter attributes of the runtime
objects (names listed in ``gproxy/counters.py``).  ``show stat`` CSV/typed/JSON
(``csvstat.py``), the HTML stats page and the Prometheus exporter all read this table, so
a column is computed in exactly one place.

Rules, as HAProxy's ``stats_fill_{fe,li,sv,be}_stats()``:

* a getter is ``None`` where HAProxy never fills the field for that row kind, and a
  getter returns ``None`` where HAProxy leaves it empty for that object (e.g. ``slim`` of
  a server without ``maxconn``, check columns of a server without an enabled check,
  ``hrsp_*`` outside ``mode http``);
* columns gproxy cannot compute honestly stay empty (``None``) even where HAProxy fills
  them: ``downtime`` of a backend, ``need_conn_est``, ``src_ilim``, ``hanafail``,
  ``tracked``, the ``agent_*`` columns, and counters a runtime object does not keep
  (looked up with ``getattr(obj, name, None)``);
* ``addr``, ``cookie`` and ``algo`` are "legends": the CLI shows them only on sockets of
  level operator or admin (``Column.legend``; the renderer decides).

After these static columns HAProxy prints a ``-`` column and its modules' columns
(``ssl_*``, ``h2_*``, ``h1_*``): gproxy has no such modules and stops after the static
columns (``csvstat.py``).

Pure: reads attributes and the clock, no I/O, never yields to the hub.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..checks import status as chkstatus
from ..server import DRAIN_MASK, IMAINT, RMAINT, RUNNING, STARTING, STOPPED, STOPPING

Getter = Callable[[Any], Any]

#: row kinds, and HAProxy's ``type`` column / ``show stat`` type bit for each
KINDS = ("fe", "li", "be", "srv")
STATS_TYPE = {"fe": 0, "be": 1, "srv": 2, "li": 3}
TYPE_LETTER = {"fe": "F", "be": "B", "srv": "S", "li": "L"}
OBJ_TYPE = {"fe": "Frontend", "be": "Backend", "srv": "Server", "li": "Listener"}

#: field natures/origins/scopes (HAProxy's FN_*/FO_*/FS_*) and their typed-form letters
NATURES = {
    "gauge": "G", "limit": "L", "min": "m", "max": "M", "rate": "R", "counter": "C",
    "duration": "D", "age": "A", "time": "T", "name": "N", "output": "O", "avg": "a",
}
ORIGINS = {"metric": "M", "status": "S", "key": "K", "config": "C", "product": "P"}
SCOPES = {"process": "P", "service": "S", "system": "s", "cluster": "C"}

#: backend ``algo`` names (HAProxy's backend_lb_algo_str(); 2.6 has no entry for random)
ALGO_NAMES = frozenset(
    ("roundrobin", "static-rr", "first", "leastconn", "source", "uri", "url_param", "hdr", "rdp-cookie", "hash")
)


@dataclass(frozen=True)
class Column:
    """One CSV column: its name, description, field tags and one getter per row kind.

    ``nature`` is HAProxy's field nature (``gauge``, ``counter``, ``limit``, ``max``,
    ``rate``, ``avg``, ``age``, ``duration``, ``output``, ``name``...); ``origin``,
    ``scope`` and ``type`` complete the typed form (``MCP:u64``).  ``be_tags`` overrides
    (origin, nature) on backend rows where HAProxy tags them differently (``act``,
    ``bck``, ``rate``, ``rate_max``).  ``legend`` marks ``addr``/``cookie``/``algo``.
    """

    name: str
    desc: str
    nature: str
    fe: Getter | None = None
    be: Getter | None = None
    srv: Getter | None = None
    li: Getter | None = None
    origin: str = "metric"
    scope: str = "process"
    type: str = "u64"
    legend: bool = False
    be_tags: tuple[str, str] | None = None

    def getter(self, kind: str) -> Getter | None:
        return getattr(self, kind)

    def tags(self, kind: str) -> str:
        """The three tag letters of the typed form (``MCP``) for a row kind."""
        origin, nature = self.origin, self.nature
        if kind == "be" and self.be_tags is not None:
            origin, nature = self.be_tags
        return ORIGINS[origin] + NATURES[nature] + SCOPES[self.scope]


# ------------------------------------------------------------------ helpers
def _now() -> float:
    return time.time()


def _age(t: float) -> int:
    return max(0, int(_now() - t))


def _attr(name: str, default: Any = None) -> Getter:
    """Getter of a counter attribute; ``default`` when the object does not keep it."""
    return lambda o: getattr(o, name, default)


def _const(v: Any) -> Getter:
    return lambda o: v


def _is_http(px: Any) -> bool:
    return getattr(px, "mode", "tcp") == "http"


def _http(fn: Getter, px_of: Callable[[Any], Any] = lambda o: o) -> Getter:
    """Only in ``mode http`` (HAProxy leaves the HTTP columns empty for TCP proxies)."""
    return lambda o: fn(o) if _is_http(px_of(o)) else None


def _srv_be(s: Any) -> Any:
    return s.backend


def _hrsp(i: int) -> Getter:
    return lambda o: o.hrsp[i]


def _rate(name: str) -> Getter:
    return lambda o: getattr(o, name).rate()


def _rate_max(name: str) -> Getter:
    return lambda o: getattr(o, name).max


def _tavg(which: str) -> Getter:
    def get(o: Any) -> int:
        t = o.timings
        return getattr(t, which).avg(t.samples)

    return get


def _tmax(which: str) -> Getter:
    return lambda o: getattr(o.timings, which).max


def _last_sess(o: Any) -> int:
    last = getattr(o, "last_sess", 0)
    return _age(last) if last else -1


def _addr_str(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# ------------------------------------------------------------------ frontends / listeners
def fe_status(fe: Any) -> str:
    """``OPEN``, ``PAUSED`` (every listener paused: ``disable frontend``, SIGTTOU) or ``STOP``."""
    if fe.disabled or fe.stopping:
        return "STOP"
    lst = fe.listeners
    if lst and all(getattr(li, "paused", False) for li in lst):
        return "PAUSED"
    return "OPEN"


def li_status(li: Any) -> str:
    """HAProxy's get_li_status(): ``FULL`` at the listener's own maxconn, ``WAITING`` while
    held back by the frontend or process limit or a session rate limit, else ``OPEN``
    (also while paused)."""
    if li.maxconn and li.cur_conn >= li.maxconn:
        return "FULL"
    if li.state in ("FULL", "LIMITED"):
        return "WAITING"
    return "OPEN"


def li_addr(li: Any) -> str | None:
    a = li.address
    if a.family == "unix":
        return "unix"
    if a.family == "fd":
        sock = getattr(li, "sock", None)
        try:
            name = sock.getsockname() if sock is not None else None
        except OSError:
            name = None
        if isinstance(name, tuple):
            return _addr_str(name[0], name[1])
        return "unix" if isinstance(name, str) else None
    return li.describe()


# ------------------------------------------------------------------ servers
def check_of(srv: Any) -> Any:
    """The server's health check when enabled (HAProxy CHK_ST_ENABLED), else None."""
    chk = getattr(srv, "check", None)
    if chk is None or not chk.enabled:
        return None
    return chk


def check_shown(srv: Any) -> Any:
    """The check when enabled and not paused by maintenance (the check columns' condition)."""
    chk = check_of(srv)
    if chk is None or srv.maint:
        return None
    return chk


def server_status(srv: Any) -> str:
    """The ``status`` column of a server (stats_fill_sv_stats_computestate)."""
    adm = srv.admin
    if adm & RMAINT:
        return "MAINT (resolution)"
    if adm & IMAINT:
        return "MAINT (via %s/%s)" % (srv.backend.name, srv.name)  # noqa: UP031 - HAProxy's format
    if srv.maint:
        return "MAINT"
    chk = check_of(srv)
    op = srv.op_state
    if chk is not None:
        health, rise, fall = chk.health, chk.rise, chk.fall
    else:
        health, rise, fall = 0, 1, 1
    full = health >= rise + fall - 1
    if op != STOPPED:
        nums = f"{health - rise + 1}/{fall}"
    else:
        nums = f"{health}/{rise}"
    if op in (STARTING, RUNNING):
        going_down = chk is not None and not full
        if adm & DRAIN_MASK:
            return f"DRAIN {nums}" if going_down else "DRAIN"
        if going_down:
            return f"UP {nums}"
        return "UP" if chk is not None else "no check"
    if op == STOPPING:
        if chk is None or full:
            return "NOLB"
        return f"NOLB {nums}"
    if chk is not None and health:
        return f"DOWN {nums}"
    return "DOWN"


def _srv_downtime(s: Any) -> int | None:
    if check_of(s) is None:
        return None
    down = s.downtime
    if s.down_since is not None:
        down += _now() - s.down_since
    return int(down)


def _srv_addr(s: Any) -> str | None:
    sa = s.sockaddr
    if isinstance(sa, str):
        return "unix"
    if isinstance(sa, tuple):
        return _addr_str(sa[0], s.port)
    if s.host:
        return _addr_str(s.host, s.port)
    return None


def _srv_throttle(s: Any) -> int | None:
    if s.op_state != STARTING or s.drain or s.ramp_start is None:
        return None
    if not s.uweight:
        return 100
    return (100 * s.eweight16 + 16 * s.uweight - 1) // (16 * s.uweight)


def _srv_chk(fn: Callable[[Any, Any], Any]) -> Getter:
    def get(s: Any) -> Any:
        chk = check_shown(s)
        return None if chk is None else fn(s, chk)

    return get


def _srv_chk_enabled(fn: Callable[[Any, Any], Any]) -> Getter:
    def get(s: Any) -> Any:
        chk = check_of(s)
        return None if chk is None else fn(s, chk)

    return get


def _check_code(s: Any, chk: Any) -> int | None:
    return chk.code if chkstatus.has_code(chk.status) else None


def _check_duration(s: Any, chk: Any) -> int | None:
    rank = chkstatus.STATUSES.get(chk.status, chkstatus.STATUSES["UNK"])[0]
    return max(chk.duration, 0) if rank >= chkstatus.STATUSES["CHECKED"][0] else None


# ------------------------------------------------------------------ backends
def be_status(be: Any) -> str:
    return "UP" if (be.lb.servers or not be.servers) else "DOWN"


def _be_weight(be: Any) -> int:
    return (sum(s.eweight16 for s in be.lb.servers) + 15) // 16


def _be_uweight(be: Any) -> int:
    return sum(s.uweight for s in be.lb.servers)


def _be_act(be: Any) -> int:
    return sum(1 for s in be.servers if not s.backup and s.usable())


def _be_bck(be: Any) -> int:
    return sum(1 for s in be.servers if s.backup and s.usable())


def fullconn(be: Any) -> int:
    """``fullconn``, or HAProxy's default: 10% of the maxconn of the frontends that can
    reach the backend (default_backend, static use_backend rules, a listen's own half)."""
    spec = be.spec
    if spec.fullconn:
        return spec.fullconn
    proc = be.process
    glob_max = getattr(proc, "hard_maxconn", 0) or getattr(proc, "maxconn", 0)
    total = 0
    for fe in getattr(proc, "frontends", ()):
        fspec = fe.spec
        if fspec.disabled:
            continue
        fmax = fspec.maxconn or glob_max
        defbe = fspec.default_backend
        if defbe:
            if defbe == be.name:
                total += fmax
        elif fspec.kind == "listen" and fspec is spec:
            total += fmax
        seen: set[str] = set()
        for ub in fspec.use_backends:
            name = ub.name
            if name == defbe or name in seen or "%[" in name:
                seen.add(name)
                continue
            seen.add(name)
            if name == be.name:
                total += fmax
    return max(1, (total + 9) // 10)


def _be_lastchg(be: Any) -> int:
    t = be.last_change or getattr(be.process, "start_time", 0.0)
    return _age(t)


def _be_algo(be: Any) -> str:
    name = getattr(be.lb, "name", "")
    return name if name in ALGO_NAMES else "unknown"


def _be_cookie(be: Any) -> str | None:
    ck = be.spec.cookie
    if ck is None:
        return None
    return getattr(ck, "name", None) or None


# ------------------------------------------------------------------ the table
_D = {
    "pxname": "Proxy name",
    "svname": "Server name",
    "qcur": "Number of current queued connections",
    "qmax": "Highest value of queued connections encountered since process started",
    "scur": "Number of current sessions on the frontend, backend or server",
    "smax": "Highest value of current sessions encountered since process started",
    "slim": "Frontend/listener/server's maxconn, backend's fullconn",
    "stot": "Total number of sessions since process started",
    "bin": "Total number of request bytes since process started",
    "bout": "Total number of response bytes since process started",
    "dreq": "Total number of denied requests since process started",
    "dresp": "Total number of denied responses since process started",
    "ereq": "Total number of invalid requests since process started",
    "econ": "Total number of failed connections to server since the worker process started",
    "eresp": "Total number of invalid responses since the worker process started",
    "wretr": "Total number of server connection retries since the worker process started",
    "wredis": "Total number of server redispatches due to connection failures since the worker process started",
    "status": "Frontend/listen status: OPEN/WAITING/FULL/STOP; backend: UP/DOWN; server: last check status",
    "weight": "Server's effective weight, or sum of active servers' effective weights for a backend",
    "act": "Total number of active UP servers with a non-zero weight",
    "bck": "Total number of backup UP servers with a non-zero weight",
    "chkfail": "Total number of failed individual health checks per server/backend, since the worker process started",
    "chkdown": "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started",
    "lastchg": "How long ago the last server state changed, in seconds",
    "downtime": "Total time spent in DOWN state, for server or backend",
    "qlimit": "Limit on the number of connections in queue, for servers only (maxqueue argument)",
    "pid": "Relative worker process number (1)",
    "iid": "Frontend or Backend numeric identifier ('id' setting)",
    "sid": "Server numeric identifier ('id' setting)",
    "throttle": "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)",
    "lbtot": "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)",
    "tracked": "Name of the other server this server tracks for its state",
    "type": "Type of the object (Listener, Frontend, Backend, Server)",
    "rate": "Total number of sessions processed by this object over the last second (sessions for listeners/frontends, requests for backends/servers)",
    "rate_lim": "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)",
    "rate_max": "Highest value of sessions per second observed since the worker process started",
    "check_status": "Status report of the server's latest health check, prefixed with '*' if a check is currently in progress",
    "check_code": "HTTP/SMTP/LDAP status code reported by the latest server health check",
    "check_duration": "Total duration of the latest server health check, in milliseconds",
    "hrsp_1xx": "Total number of HTTP responses with status 100-199 returned by this object since the worker process started",
    "hrsp_2xx": "Total number of HTTP responses with status 200-299 returned by this object since the worker process started",
    "hrsp_3xx": "Total number of HTTP responses with status 300-399 returned by this object since the worker process started",
    "hrsp_4xx": "Total number of HTTP responses with status 400-499 returned by this object since the worker process started",
    "hrsp_5xx": "Total number of HTTP responses with status 500-599 returned by this object since the worker process started",
    "hrsp_other": "Total number of HTTP responses with status <100, >599 returned by this object since the worker process started (error -1 included)",
    "hanafail": "Total number of failed checks caused by an 'on-error' directive after an 'observe' condition matched",
    "req_rate": "Number of HTTP requests processed over the last second on this object",
    "req_rate_max": "Highest value of http requests observed since the worker process started",
    "req_tot": "Total number of HTTP requests processed by this object since the worker process started",
    "cli_abrt": "Total number of requests or connections aborted by the client since the worker process started",
    "srv_abrt": "Total number of requests or connections aborted by the server since the worker process started",
    "comp_in": "Total number of bytes submitted to the HTTP compressor for this object since the worker process started",
    "comp_out": "Total number of bytes emitted by the HTTP compressor for this object since the worker process started",
    "comp_byp": "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)",
    "comp_rsp": "Total number of HTTP responses that were compressed for this object since the worker process started",
    "lastsess": "How long ago some traffic was seen on this object on this worker process, in seconds",
    "last_chk": "Short description of the latest health check report for this server (see also check_desc)",
    "last_agt": "Short description of the latest agent check report for this server (see also agent_desc)",
    "qtime": "Time spent in the queue, in milliseconds, averaged over the 1024 last requests (backend/server)",
    "ctime": "Time spent waiting for a connection to complete, in milliseconds, averaged over the 1024 last requests (backend/server)",
    "rtime": "Time spent waiting for a server response, in milliseconds, averaged over the 1024 last requests (backend/server)",
    "ttime": "Total request+response time (request+queue+connect+response+processing), in milliseconds, averaged over the 1024 last requests (backend/server)",
    "agent_status": "Status report of the server's latest agent check, prefixed with '*' if a check is currently in progress",
    "agent_code": "Status code reported by the latest server agent check",
    "agent_duration": "Total duration of the latest server agent check, in milliseconds",
    "check_desc": "Textual description of the latest health check report for this server",
    "agent_desc": "Textual description of the latest agent check report for this server",
    "check_rise": "Number of successful health checks before declaring a server UP (server 'rise' setting)",
    "check_fall": "Number of failed health checks before declaring a server DOWN (server 'fall' setting)",
    "check_health": "Current server health check level (0..fall-1=DOWN, fall..rise-1=UP)",
    "agent_rise": "Number of successful agent checks before declaring a server UP (server 'rise' setting)",
    "agent_fall": "Number of failed agent checks before declaring a server DOWN (server 'fall' setting)",
    "agent_health": "Current server agent check level (0..fall-1=DOWN, fall..rise-1=UP)",
    "addr": "Server's address:port, shown only if show-legends is set, or at levels oper/admin for the CLI",
    "cookie": "Backend's cookie name or Server's cookie value, shown only if show-legends is set, or at levels oper/admin for the CLI",
    "mode": "'mode' setting (tcp/http/health/cli)",
    "algo": "Backend's load balancing algorithm, shown only if show-legends is set, or at levels oper/admin for the CLI",
    "conn_rate": "Number of new connections accepted over the last second on the frontend for this worker process",
    "conn_rate_max": "Highest value of connections per second observed since the worker process started",
    "conn_tot": "Total number of new connections accepted on this frontend since the worker process started",
    "intercepted": "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started",
    "dcon": "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started",
    "dses": "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started",
    "wrew": "Total number of failed HTTP header rewrites since the worker process started",
    "connect": "Total number of outgoing connection attempts on this backend/server since the worker process started",
    "reuse": "Total number of reused connection on this backend/server since the worker process started",
    "cache_lookups": "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started",
    "cache_hits": "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started",
    "srv_icur": "Current number of idle connections available for reuse on this server",
    "src_ilim": "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)",
    "qtime_max": "Maximum observed time spent in the queue, in milliseconds (backend/server)",
    "ctime_max": "Maximum observed time spent waiting for a connection to complete, in milliseconds (backend/server)",
    "rtime_max": "Maximum observed time spent waiting for a server response, in milliseconds (backend/server)",
    "ttime_max": "Maximum observed total request+response time (request+queue+connect+response+processing), in milliseconds (backend/server)",
    "eint": "Total number of internal errors since process started",
    "idle_conn_cur": "Current number of unsafe idle connections",
    "safe_conn_cur": "Current number of safe idle connections",
    "used_conn_cur": "Current number of connections in use",
    "need_conn_est": "Estimated needed number of connections",
    "uweight": "Server's user weight, or sum of active servers' user weights for a backend",
    "agg_server_status": "Backend's aggregated gauge of servers' status",
    "agg_server_check_status": "Backend's aggregated gauge of servers' state check status",
    "agg_check_status": "Backend's aggregated gauge of servers' state check status",
}


def _c(name: str, nature: str, *, fe: Getter | None = None, be: Getter | None = None, srv: Getter | None = None,
       li: Getter | None = None, origin: str = "metric", scope: str = "process", type: str = "u64",
       legend: bool = False, be_tags: tuple[str, str] | None = None) -> Column:
    return Column(name, _D[name], nature, fe, be, srv, li, origin, scope, type, legend, be_tags)


def _all(get: Getter) -> dict[str, Getter]:
    return {"fe": get, "be": get, "srv": get, "li": get}


def _counter(name: str, attr: str, kinds: str, li_attr: str | None = None) -> Column:
    """A u64 counter read from ``attr`` on the kinds in ``kinds`` (``f``, ``b``, ``s``,
    ``l``); listeners read ``li_attr`` when it differs and stay empty if they lack it."""
    g = _attr(attr)
    return _c(
        name, "counter",
        fe=g if "f" in kinds else None,
        be=g if "b" in kinds else None,
        srv=g if "s" in kinds else None,
        li=_attr(li_attr or attr) if "l" in kinds else None,
    )


def _pxname(o: Any) -> str:
    return o.name


def _fe_of(li: Any) -> Any:
    return li.frontend


COLUMNS: tuple[Column, ...] = (
    _c("pxname", "name", origin="key", scope="service", type="str",
       fe=_pxname, be=_pxname, srv=lambda s: s.backend.name, li=lambda li: li.frontend.name),
    _c("svname", "name", origin="key", scope="service", type="str",
       fe=_const("FRONTEND"), be=_const("BACKEND"), srv=lambda s: s.name, li=lambda li: li.name),
    _c("qcur", "gauge", type="u32", be=_attr("nbpend"), srv=_attr("nbpend")),
    _c("qmax", "max", type="u32", be=_attr("max_queue"), srv=_attr("max_queue")),
    _c("scur", "gauge", type="u32", fe=_attr("cur_conn"), be=_attr("cur_sess"), srv=_attr("cur_sess"),
       li=_attr("cur_conn")),
    _c("smax", "max", type="u32", fe=_attr("max_conn"), be=_attr("max_sess"), srv=_attr("max_sess"),
       li=_attr("max_conn")),
    _c("slim", "limit", origin="config", type="u32", fe=_attr("maxconn"), be=fullconn,
       srv=lambda s: s.maxconn or None, li=_attr("maxconn")),
    _c("stot", "counter", fe=_attr("cum_sess"), be=_attr("cum_sess"), srv=_attr("cum_sess"), li=_attr("cum_conn")),
    _counter("bin", "bytes_in", "fbsl"),
    _counter("bout", "bytes_out", "fbsl"),
    _counter("dreq", "denied_req", "fbl"),
    _counter("dresp", "denied_resp", "fbsl"),
    _counter("ereq", "failed_req", "fl"),
    _counter("econ", "failed_conns", "bs"),
    _counter("eresp", "failed_resp", "bs"),
    _c("wretr", "counter", be=_attr("retries_count"), srv=_attr("retries")),
    _counter("wredis", "redispatches", "bs"),
    _c("status", "gauge", origin="status", type="str", fe=fe_status, be=be_status, srv=server_status, li=li_status),
    _c("weight", "avg", type="u32", be=_be_weight, srv=_attr("eweight")),
    _c("act", "gauge", origin="status", type="u32", be=_be_act, srv=lambda s: 0 if s.backup else 1,
       be_tags=("metric", "gauge")),
    _c("bck", "gauge", origin="status", type="u32", be=_be_bck, srv=lambda s: 1 if s.backup else 0,
       be_tags=("metric", "gauge")),
    _c("chkfail", "counter", srv=_srv_chk_enabled(lambda s, c: c.failed_checks)),
    _c("chkdown", "counter", be=_attr("down_trans"), srv=_srv_chk_enabled(lambda s, c: s.down_trans)),
    _c("lastchg", "age", type="u32", be=_be_lastchg, srv=lambda s: _age(s.last_change)),
    _c("downtime", "counter", type="u32", srv=_srv_downtime),
    _c("qlimit", "gauge", origin="config", scope="service", type="u32", srv=lambda s: s.maxqueue or None),
    _c("pid", "gauge", origin="key", type="u32", **_all(_const(1))),
    _c("iid", "gauge", origin="key", scope="service", type="u32",
       fe=_attr("id"), be=_attr("id"), srv=lambda s: s.backend.id, li=lambda li: li.frontend.id),
    _c("sid", "gauge", origin="key", scope="service", type="u32",
       fe=_const(0), be=_const(0), srv=_attr("id"), li=_attr("id")),
    _c("throttle", "avg", type="u32", srv=_srv_throttle),
    _counter("lbtot", "cum_lbconn", "bs"),
    _c("tracked", "name", origin="config", scope="service", type="str"),
    _c("type", "gauge", origin="config", scope="service", type="u32",
       fe=_const(0), be=_const(1), srv=_const(2), li=_const(3)),
    _c("rate", "rate", type="u32", fe=_rate("sess_rate"), be=_rate("sess_rate"), srv=_rate("sess_rate"),
       be_tags=("metric", "gauge")),
    _c("rate_lim", "limit", origin="config", type="u32", fe=_attr("rate_limit", 0)),
    _c("rate_max", "max", type="u32", fe=_rate_max("sess_rate"), be=_rate_max("sess_rate"),
       srv=_rate_max("sess_rate"), be_tags=("metric", "gauge")),
    _c("check_status", "output", type="str", srv=_srv_chk(lambda s, c: c.status_label())),
    _c("check_code", "output", type="u32", srv=_srv_chk(_check_code)),
    _c("check_duration", "duration", srv=_srv_chk(_check_duration)),
    *(
        _c(name, "counter", fe=_http(_hrsp(i)), be=_http(_hrsp(i)), srv=_http(_hrsp(i), _srv_be))
        for i, name in enumerate(("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"))
    ),
    _c("hanafail", "counter"),
    _c("req_rate", "rate", type="u32", fe=_rate("req_rate")),
    _c("req_rate_max", "max", type="u32", fe=_rate_max("req_rate")),
    _c("req_tot", "counter", fe=_attr("cum_req"), be=_http(_attr("cum_req")),
       srv=_http(_attr("cum_req"), _srv_be)),
    _counter("cli_abrt", "cli_aborts", "bs"),
    _counter("srv_abrt", "srv_aborts", "bs"),
    # gproxy has no HTTP compression: nothing was ever submitted to a compressor
    _c("comp_in", "counter", fe=_const(0), be=_const(0)),
    _c("comp_out", "counter", fe=_const(0), be=_const(0)),
    _c("comp_byp", "counter", fe=_const(0), be=_const(0)),
    _c("comp_rsp", "counter", fe=_const(0), be=_const(0)),
    _c("lastsess", "age", type="s32", be=_last_sess, srv=_last_sess),
    _c("last_chk", "output", type="str", srv=_srv_chk(lambda s, c: c.desc)),
    _c("last_agt", "output", type="str"),
    _c("qtime", "avg", type="u32", be=_tavg("q"), srv=_tavg("q")),
    _c("ctime", "avg", type="u32", be=_tavg("c"), srv=_tavg("c")),
    _c("rtime", "avg", type="u32", be=_tavg("r"), srv=_tavg("r")),
    _c("ttime", "avg", type="u32", be=_tavg("t"), srv=_tavg("t")),
    _c("agent_status", "output", type="str"),
    _c("agent_code", "output", type="u32"),
    _c("agent_duration", "duration"),
    _c("check_desc", "output", type="str", srv=_srv_chk(lambda s, c: chkstatus.description(c.status))),
    _c("agent_desc", "output", type="str"),
    _c("check_rise", "gauge", origin="config", scope="service", type="u32", srv=_srv_chk(lambda s, c: c.rise)),
    _c("check_fall", "gauge", origin="config", scope="service", type="u32", srv=_srv_chk(lambda s, c: c.fall)),
    _c("check_health", "gauge", origin="config", scope="service", type="u32", srv=_srv_chk(lambda s, c: c.health)),
    _c("agent_rise", "gauge", origin="config", scope="service", type="u32"),
    _c("agent_fall", "gauge", origin="config", scope="service", type="u32"),
    _c("agent_health", "gauge", origin="config", scope="service", type="u32"),
    _c("addr", "gauge", origin="config", scope="service", type="str", legend=True, srv=_srv_addr, li=li_addr),
    _c("cookie", "name", origin="config", scope="service", type="str", legend=True,
       be=_be_cookie, srv=lambda s: s.cookie or None),
    _c("mode", "gauge", origin="config", scope="service", type="str",
       fe=_attr("mode"), be=_attr("mode"), srv=lambda s: s.backend.mode, li=lambda li: li.frontend.mode),
    _c("algo", "gauge", origin="config", scope="service", type="str", legend=True, be=_be_algo),
    _c("conn_rate", "rate", type="u32", fe=_rate("conn_rate")),
    _c("conn_rate_max", "max", type="u32", fe=_rate_max("conn_rate")),
    _c("conn_tot", "counter", fe=_attr("cum_conn")),
    _c("intercepted", "counter", fe=_http(_attr("intercepted"))),
    _counter("dcon", "denied_conn", "fl"),
    _counter("dses", "denied_sess", "fl"),
    _counter("wrew", "failed_rewrites", "fbsl"),
    _counter("connect", "connect_attempts", "bs"),
    _counter("reuse", "reuses", "bs"),
    # gproxy has no HTTP cache: no lookup ever happened
    _c("cache_lookups", "counter", fe=_http(_const(0)), be=_http(_const(0))),
    _c("cache_hits", "counter", fe=_http(_const(0)), be=_http(_const(0))),
    # gproxy keeps no idle server connections: each session owns its server connection
    _c("srv_icur", "gauge", type="u32", srv=_const(0)),
    _c("src_ilim", "limit", origin="config", type="u32"),
    _c("qtime_max", "max", type="u32", be=_tmax("q"), srv=_tmax("q")),
    _c("ctime_max", "max", type="u32", be=_tmax("c"), srv=_tmax("c")),
    _c("rtime_max", "max", type="u32", be=_tmax("r"), srv=_tmax("r")),
    _c("ttime_max", "max", type="u32", be=_tmax("t"), srv=_tmax("t")),
    _counter("eint", "internal_errors", "fbsl"),
    _c("idle_conn_cur", "gauge", type="u32", srv=_const(0)),
    _c("safe_conn_cur", "gauge", type="u32", srv=_const(0)),
    _c("used_conn_cur", "gauge", type="u32", srv=_attr("cur_sess")),
    _c("need_conn_est", "gauge", type="u32"),
    _c("uweight", "avg", type="u32", be=_be_uweight, srv=_attr("uweight")),
    _c("agg_server_status", "gauge", type="u32", be=_const(0)),
    _c("agg_server_check_status", "gauge", type="u32", be=_const(0)),
    _c("agg_check_status", "gauge", type="u32", be=_const(0)),
)

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
#: position of each column (HAProxy's field number in the typed and JSON forms)
POS: dict[str, int] = {c.name: i for i, c in enumerate(COLUMNS)}


def value(col: Column, kind: str, obj: Any) -> Any:
    """The value of ``col`` for a row of ``kind`` ('fe', 'li', 'be', 'srv'); None = empty."""
    get = getattr(col, kind)
    if get is None:
        return None
    return get(obj)


# ------------------------------------------------------------------ rows
def proxies(process: Any) -> list[tuple[Any, Any, Any]]:
    """``(spec, frontend, backend)`` per proxy section in declaration order (HAProxy's
    proxies_list), either half None; disabled proxies included."""
    fes = {id(fe.spec): fe for fe in getattr(process, "frontends", ())}
    bes = {id(be.spec): be for be in getattr(process, "backends", ())}
    model = getattr(process, "model", None)
    specs = list(getattr(model, "proxies", ()) or ())
    if not specs:
        seen: dict[int, Any] = {}
        for obj in sorted([*fes.values(), *bes.values()], key=lambda o: o.id):
            seen.setdefault(id(obj.spec), obj.spec)
        specs = list(seen.values())
    out = []
    for spec in specs:
        fe, be = fes.get(id(spec)), bes.get(id(spec))
        if fe is not None or be is not None:
            out.append((spec, fe, be))
    return out


def proxy_id(px: tuple[Any, Any, Any]) -> int:
    _, fe, be = px
    return (fe if fe is not None else be).id


def find_proxy_id(process: Any, ref: str | int | None) -> int:
    """``show stat <iid|name>``: the id of the proxy named ``ref``, else ``atoi(ref)``."""
    if ref is None:
        return -1
    if isinstance(ref, int):
        return ref
    for px in proxies(process):
        if px[0].name == ref:
            return proxy_id(px)
    return _atoi(ref)


def _atoi(text: str) -> int:
    s = text.lstrip(" \t\n\r\f\v")
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    n = 0
    for ch in s:
        if not ch.isdigit():
            break
        n = n * 10 + ord(ch) - 48
    return sign * n


def _hidden_down(srv: Any) -> bool:
    """``show stat up``: servers in maintenance, or down and not changing state."""
    if srv.maint:
        return True
    if srv.op_state != STOPPED:
        return False
    chk = check_of(srv)
    return chk is None or not chk.health


def rows(process: Any, types: int = -1, proxy: str | int | None = None, sid: int | None = None,
         no_maint: bool = False, up: bool = False) -> Iterator[tuple[str, Any]]:
    """``(kind, obj)`` rows in HAProxy's ``show stat`` order: per proxy section in
    declaration order, its FRONTEND, its listeners (with ``option socket-stats`` only),
    its servers, its BACKEND.  Disabled proxies are skipped.

    ``types`` is ``show stat``'s bitmask (1 frontends, 2 backends, 4 servers, 8
    listeners; -1 all); ``proxy`` an id or a name (``find_proxy_id``); ``sid`` a
    server/listener id (-1 or None: all); ``no_maint`` hides servers in maintenance and
    ``up`` also those down and not changing state.
    """
    iid = find_proxy_id(process, proxy)
    sid = -1 if sid is None else sid
    for spec, fe, be in proxies(process):
        if spec.disabled:
            continue
        if iid != -1 and proxy_id((spec, fe, be)) != iid:
            continue
        if fe is not None:
            if types & (1 << STATS_TYPE["fe"]):
                yield "fe", fe
            if spec.options.get("socket-stats") and types & (1 << STATS_TYPE["li"]):
                for li in fe.listeners:
                    if sid != -1 and li.id != sid:
                        continue
                    yield "li", li
        if be is not None:
            if types & (1 << STATS_TYPE["srv"]):
                for srv in be.servers:
                    if sid != -1 and srv.id != sid:
                        continue
                    if (no_maint or up) and srv.maint:
                        continue
                    if up and _hidden_down(srv):
                        continue
                    yield "srv", srv
            if types & (1 << STATS_TYPE["be"]):
                yield "be", be


def backend_counts(be: Any) -> tuple[int, int]:
    """(servers not stopped, servers) -- the ``(n/m)`` ``show stat up|no-maint`` appends
    to a backend's status."""
    up = sum(1 for s in be.servers if s.op_state != STOPPED and not s.maint)
    return up, len(be.servers)
