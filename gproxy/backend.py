"""Backends: servers, the balancer, the queue, retries and redispatch.

Owns the backend-side keywords (``server``, ``default-server`` and the server parameters
that are not health-check ones, ``retries``, ``option redispatch``, ``fullconn``) and, at
run time, choosing a server for a session (balancer first, then the backend queue when
every server is full), waking queued sessions when a slot frees, reacting to server
state changes (``server_changed``) and killing sessions on operator or check request.
"""

from __future__ import annotations

import copy
import time
from collections import deque
from typing import Any

import gevent
from gevent.event import Event

from . import lb
from .config.model import Proxy
from .config.parser import AT_CTX, NAME_RE, accepts_missing, config_error, parse_params
from .config.values import BadValue, c_atoi, parse_server_address, parse_time
from .counters import FreqCtr, Timings, new_hrsp
from .lb.common import saturated as lb_saturated
from .proxy import lenient_int_arg
from .registry import BE_SIDE, SECTION_KEYWORDS, SERVER_KEYWORDS, ConfigError, KwCtx
from .server import Server

kw = SECTION_KEYWORDS.register
SRV = ("server", "default-server")


#: str2sa_range() messages that end with a newline (printed as an empty line after a server's)
_STR2SA_NL = (
    "file descriptor '", "cannot use file descriptor", "socket on file descriptor", "a file descriptor is not",
    "socket path '", "invalid character '", "invalid address:", "stream-type address", "dgram-type address",
    "out of memory",
)


# ------------------------------------------------------------------ keywords
@kw("server", BE_SIDE[1:], "<name> <addr>[:<port>] [param*]", "a server of the backend")
def _server(ctx: KwCtx, args: list[str]) -> None:
    # parse_server(): messages carry "[file:line] : " and, once the server exists,
    # "'server <proxy>/<name>' : ".  Duplicate names are a post-parse check (validate).
    p = ctx.proxy
    if len(args) < 2 or not args[1]:
        raise config_error("'server' expects <name> and <addr>[:<port>] as arguments.", at=AT_CTX)
    name = args[0]
    bad = next((c for c in name if not NAME_RE.match(c)), None)
    if bad is not None:
        raise config_error(f"character '{bad}' is not permitted in server name '{name}'.", at=AT_CTX)
    spec = copy.deepcopy(p.default_server)
    spec.name, spec.file, spec.line = name, ctx.file, ctx.line
    where = f"{p.name}/{name}"
    try:
        spec.address = parse_server_address(args[1])
    except BadValue as e:
        if e.kind != "resolve":
            text = str(e)
            if text.startswith(_STR2SA_NL) or text.endswith("(environment variable missing?)"):
                # str2sa_range() ends these with "\n": HAProxy prints an empty line after them
                text += "\n"
            ctx.diag.alert(text, ctx.file, ctx.line, server=where)
            return
        # HAProxy resolves names after all checks (srv_init_addr()): reported by validate
        spec.extra["addr_error"] = str(e)
        spec.address = parse_server_address(args[1], resolve=None)
    ctx.target = spec
    try:
        parse_params(ctx, SERVER_KEYWORDS, args[2:], name)
    except ConfigError as e:
        ctx.diag.alert(str(e), ctx.file, ctx.line, server=where)
        return
    p.servers.append(spec)


@kw("default-server", BE_SIDE, "[param*]", "default parameters for the following servers")
def _default_server(ctx: KwCtx, args: list[str]) -> None:
    ctx.target = ctx.proxy.default_server
    try:
        parse_params(ctx, SERVER_KEYWORDS, args, "")
    except ConfigError as e:
        raise config_error(str(e), at=AT_CTX) from None


@kw("retries", BE_SIDE, "<value>", "connection attempts after the first one fails")
def _retries(ctx: KwCtx, args: list[str]) -> None:
    if len(args) > 1:
        raise ConfigError(f"'retries' cannot handle unexpected argument '{args[1]}'.")
    if not args or not args[0]:
        raise ConfigError("'retries' expects an integer argument (dispatch counts for one).")
    ctx.proxy.retries = c_atoi(args[0])  # atol(): 'retries abc' is 0, as in HAProxy


@kw("fullconn", BE_SIDE, "<conns>", "backend load at which servers reach their maxconn (minconn)")
def _fullconn(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.fullconn = lenient_int_arg(ctx, args)


@kw("option redispatch", BE_SIDE, "[<interval>]", "retry on another server", takes_no=True)
def _redispatch(ctx: KwCtx, args: list[str]) -> None:
    if getattr(ctx, "negated", False) or getattr(ctx, "default_prefix", False):
        ctx.proxy.redispatch = None
        return
    # atol() like HAProxy: a non-number is 0, which disables redispatching
    n = c_atoi(args[0]) if args and args[0] else -1
    ctx.proxy.redispatch = n if n != 0 else None


def _skw(name: str, nargs: int, usage: str = "", doc: str = "") -> Any:
    return SERVER_KEYWORDS.register(name, SRV, usage, doc, nargs=nargs)


@_skw("weight", 1, "<weight>", "load-balancing weight 0..256 (default 1)")
def _s_weight(ctx: KwCtx, a: list[str]) -> None:
    # HAProxy reads atol(): '10x' is 10, but 'abc' or nothing would silently be 0 (never
    # balanced to): gproxy refuses a value without digits (a deliberate difference).
    srv = ctx.target.name or "default-server"
    if not a[0].strip().lstrip("+-")[:1].isdigit():
        raise ConfigError(f"weight of server {srv} is not within 0 and 256 ({a[0]})..")
    w = c_atoi(a[0])
    if not 0 <= w <= 256:
        raise ConfigError(f"weight of server {srv} is not within 0 and 256 ({w})..")
    ctx.target.weight = w


# maxconn / minconn / maxqueue: atol() of the word, as HAProxy ('abc' or nothing is 0)
@_skw("maxconn", 1, "<maxconn>", "max concurrent connections to the server (0 = unlimited)")
@accepts_missing
def _s_maxconn(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.maxconn = c_atoi(a[0])


@_skw("minconn", 1, "<minconn>", "dynamic maxconn floor (with fullconn)")
@accepts_missing
def _s_minconn(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.minconn = c_atoi(a[0])


@_skw("maxqueue", 1, "<maxqueue>", "max sessions queued for the server (0 = unlimited)")
@accepts_missing
def _s_maxqueue(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.maxqueue = c_atoi(a[0])


@_skw("backup", 0, "", "use only when no active server is available")
def _s_backup(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.backup = True


@_skw("non-stick", 0, "", "accepted")
def _s_nonstick(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.extra["non-stick"] = True


@_skw("disabled", 0, "", "start in maintenance")
def _s_disabled(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.disabled = True


@_skw("enabled", 0, "", "cancel an inherited 'disabled'")
def _s_enabled(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.disabled = False


@_skw("slowstart", 1, "<time>", "ramp weight and maxconn up over this time after recovery")
def _s_slowstart(ctx: KwCtx, a: list[str]) -> None:
    srv = ctx.target.name or "default-server"
    try:
        ctx.target.slowstart = parse_time(a[0], "slowstart")
    except BadValue as e:
        if e.kind == "overflow":
            text = f"overflow in argument <{a[0]}> to <slowstart> of server {srv}, maximum value is 2147483647 ms (~24.8 days).."
        elif e.kind == "underflow":
            text = f"underflow in argument <{a[0]}> to <slowstart> of server {srv}, minimum non-null value is 1 ms.."
        else:
            text = f"unexpected character '{e.char or ''}' in 'slowstart' argument of server {srv}.."
        raise ConfigError(text) from None


@_skw("cookie", 1, "<value>", "persistence cookie value")
@accepts_missing
def _s_cookie(ctx: KwCtx, a: list[str]) -> None:
    if not a[0]:
        raise ConfigError("'cookie' expects <value> as argument..")
    ctx.target.cookie = a[0]


@_skw("id", 1, "<id>", "numeric server id")
@accepts_missing
def _s_id(ctx: KwCtx, a: list[str]) -> None:
    if not a[0]:
        raise ConfigError("'id' : expects an integer argument.")
    if not ctx.target.name:
        # HAProxy: an alert that is not fatal, and the value is not used
        raise config_error("'id' option is not accepted in default-server sections", fatal=False)
    puid = c_atoi(a[0])
    if puid <= 0:
        raise ConfigError("'id' : custom id has to be > 0.")
    for other in ctx.proxy.servers:
        if other.id == puid:
            raise ConfigError(f"'id' : custom id {puid} already used at {other.file}:{other.line} ('server {other.name}').")
    ctx.target.id = puid


@_skw("send-proxy", 0, "", "send a PROXY protocol v1 header to the server")
def _s_send_proxy(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.send_proxy = True


@_skw("send-proxy-v2", 0, "", "send a PROXY protocol v2 header to the server")
def _s_send_proxy_v2(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.send_proxy_v2 = True


for _n, _k in (("ssl", 0), ("no-ssl", 0), ("verify", 1), ("ca-file", 1), ("crt", 1), ("sni", 1), ("alpn", 1),
               ("check-ssl", 0), ("check-sni", 1), ("check-alpn", 1), ("verifyhost", 1), ("ciphers", 1),
               ("resolvers", 1), ("resolve-prefer", 1), ("resolve-opts", 1), ("resolve-net", 1), ("init-addr", 1),
               ("proxy-v2-options", 1), ("source", 1), ("track", 1), ("error-limit", 1), ("on-error", 1),
               ("pool-max-conn", 1), ("pool-purge-delay", 1), ("pool-low-conn", 1), ("max-reuse", 1),
               ("tfo", 0), ("namespace", 1), ("redir", 1), ("socks4", 1), ("tcp-ut", 1), ("ws", 1),
               ("ssl-min-ver", 1), ("ssl-max-ver", 1), ("no-sslv3", 0), ("no-tlsv10", 0), ("no-tlsv11", 0),
               ("force-sslv3", 0), ("no-send-proxy", 0), ("no-send-proxy-v2", 0), ("usesrc", 1), ("log-proto", 1),
               ("stick", 0), ("allow-0rtt", 0), ("shard", 1), ("crl-file", 1), ("ssl-reuse", 0), ("no-ssl-reuse", 0)):
    from .registry import Keyword

    SERVER_KEYWORDS.add(Keyword(_n, SRV, None, doc="not implemented by gproxy yet", ignored=True, nargs=_k))


# ------------------------------------------------------------------ runtime
class Backend:
    """A backend (or the backend half of a listen section) at run time."""

    def __init__(self, spec: Proxy, pid: int, process: Any) -> None:
        self.spec = spec
        self.name = spec.name
        self.id = spec.id or pid
        self.mode = spec.mode
        self.process = process
        self.allbackups = bool(spec.options.get("allbackups"))
        self.retries = spec.retries
        self.redispatch = spec.redispatch
        t = spec.timeouts
        self.t_connect = t.get("connect", 0) / 1000.0
        self.t_server = t.get("server", 0) / 1000.0
        self.t_queue = t.get("queue", t.get("connect", 0)) / 1000.0
        self.t_tunnel = t.get("tunnel", 0) / 1000.0
        self.t_server_fin = t.get("server-fin", 0) / 1000.0
        self.servers: list[Server] = []
        self.lb: lb.Balancer = lb.make(self, spec.balance, spec.hash_type)
        self.queue: deque[Event] = deque()
        self.ramping: set[Server] = set()
        self.logger: Any = None
        self.stick: Any = None  # stickrules.StickRules when the backend has stick rules
        self.persist: Any = None  # persist.Persist with use-server/force-persist/ignore-persist rules
        self.had_servers = False
        self.no_server_logged = False
        # counters
        self.cur_sess = 0
        self.max_sess = 0
        self.cum_sess = 0
        self.cum_lbconn = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.failed_conns = 0
        self.retries_count = 0
        self.redispatches = 0
        self.nbpend = 0
        self.max_queue = 0
        self.queue_idx = 0  # queued sessions handed a slot so far (HAProxy queue.idx, for %bq)
        self.down_trans = 0
        self.last_change = 0.0
        self.last_sess = 0.0
        self.denied_req = 0
        self.cli_aborts = 0
        self.srv_aborts = 0
        self.cum_req = 0
        self.denied_resp = 0
        self.failed_resp = 0
        self.connect_attempts = 0
        self.reuses = 0
        self.failed_rewrites = 0
        self.internal_errors = 0
        self.hrsp = new_hrsp()
        self.sess_rate = FreqCtr()
        self.timings = Timings()

    def add_server(self, srv: Server) -> None:
        self.servers.append(srv)

    def start(self) -> None:
        self.lb.update()
        self.had_servers = bool(self.lb.servers)

    # ---- server selection ----
    def pick(self, ctx: lb.PickCtx, avoid: Server | None = None) -> Server | None:
        return self.lb.pick(ctx, avoid)

    def has_candidates(self) -> bool:
        return bool(self.lb.servers)

    def queue_wait(self, timeout: float) -> bool:
        """Wait in the backend queue for a free slot. True when woken, False on timeout."""
        ev = Event()
        self.queue.append(ev)
        self.nbpend += 1
        self.max_queue = max(self.max_queue, self.nbpend)
        try:
            return ev.wait(timeout or None)
        finally:
            self.nbpend -= 1
            try:
                self.queue.remove(ev)
            except ValueError:
                pass

    def assigned_full(self, ctx: lb.PickCtx, avoid: Server | None = None) -> Server | None:
        """Hash algorithms: the full server the key designates.  HAProxy assigns the
        session to it and queues it in that server's queue (bounded by ``maxqueue``)."""
        fn = getattr(self.lb, "assigned", None)
        if fn is None or not getattr(self.lb, "needs_key", False) or not self.lb.servers:
            return None
        s = fn(ctx, avoid)
        return s if s is not None and s.maxconn and lb_saturated(s) else None

    def srv_queue_wait(self, srv: Server, timeout: float) -> bool:
        """Wait in ``srv``'s own queue for one of its slots. True when woken."""
        ev = Event()
        srv.queue.append(ev)
        srv.nbpend += 1
        srv.max_queue = max(srv.max_queue, srv.nbpend)
        try:
            return ev.wait(timeout or None)
        finally:
            srv.nbpend -= 1
            try:
                srv.queue.remove(ev)
            except ValueError:
                pass

    def slot_freed(self, srv: Server | None = None) -> None:
        """A server connection ended or a server came back: wake the oldest queued session
        (first the sessions queued on that very server, then the backend queue)."""
        if srv is not None and srv.queue:
            srv.queue.popleft().set()
            srv.queue_idx += 1
            return
        if self.queue:
            self.queue.popleft().set()
            self.queue_idx += 1

    # ---- state ----
    def server_changed(self, srv: Server) -> None:
        had = bool(self.lb.servers)
        self.lb.update()
        has = bool(self.lb.servers)
        if had and not has:
            self.down_trans += 1
            self.last_change = time.time()
            self.process.events.no_server(self)
        if has and self.queue:
            for _ in range(len(self.queue)):
                self.slot_freed()
        if srv.queue and not srv.usable():
            for ev in list(srv.queue):  # they choose again (woken without a slot)
                ev.set()
        if srv.ramp_start is not None and srv not in self.ramping:
            self.ramping.add(srv)
            gevent.spawn(self._warmup, srv)

    def _warmup(self, srv: Server) -> None:
        """Slowstart: raise the server's effective weight step by step (HAProxy server_warmup)."""
        step = max(0.05, min(1.0, srv.slowstart / 20000.0))
        try:
            while srv.ramp_start is not None:
                gevent.sleep(step)
                if srv.ramp_start is None:
                    break
                done = srv.update_eweight()
                if done:
                    srv.ramp_start = None
                self.lb.update()
                if self.queue:
                    self.slot_freed()
        finally:
            self.ramping.discard(srv)

    def shutdown_sessions(self, srv: Server, flag: str = "D") -> None:
        for sess in list(srv.sessions):
            sess.killed = flag
            if sess.pump is not None:
                sess.pump.finish(flag + "D")

    def shutdown_backup_sessions(self) -> None:
        for s in self.servers:
            if s.backup:
                self.shutdown_sessions(s, "U")

    @property
    def status(self) -> str:
        return "UP" if (self.lb.servers or not self.servers) else "DOWN"

    def active_count(self) -> tuple[int, int]:
        act = sum(1 for s in self.servers if not s.backup and s.usable())
        bck = sum(1 for s in self.servers if s.backup and s.usable())
        return act, bck
