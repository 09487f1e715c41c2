"""Backends: servers, the balancer, the queue, retries and redispatch.

Owns the backend-side keywords (``server``, ``default-server`` and the server parameters
that are not health-check ones, ``retries``, ``option redispatch``, ``fullconn``) and, at
run time, choosing a server for a session (balancer first, then the backend queue when
every server is full), waking queued sessions when a slot frees, reacting to server
state changes (``server_changed``) and killing sessions on operator or check request.
"""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

import gevent
from gevent.event import Event

from . import lb
from .config.model import Proxy
from .config.parser import parse_params
from .config.values import BadValue, parse_int, parse_server_address, parse_time
from .counters import FreqCtr, Timings, new_hrsp
from .proxy import int_arg
from .registry import BE_SIDE, SECTION_KEYWORDS, SERVER_KEYWORDS, ConfigError, KwCtx
from .server import Server

kw = SECTION_KEYWORDS.register
SRV = ("server", "default-server")


# ------------------------------------------------------------------ keywords
@kw("server", BE_SIDE[1:], "<name> <addr>[:<port>] [param*]", "a server of the backend")
def _server(ctx: KwCtx, args: list[str]) -> None:
    p = ctx.proxy
    if len(args) < 2:
        raise ConfigError("'server' expects <name> and <addr>[:<port>] as arguments.")
    name = args[0]
    spec = copy.deepcopy(p.default_server)
    spec.name, spec.file, spec.line = name, ctx.file, ctx.line
    where = f"{p.name}/{name}"
    try:
        spec.address = parse_server_address(args[1])
    except BadValue as e:
        ctx.diag.alert(str(e), ctx.file, ctx.line, server=where)
        return
    ctx.target = spec
    try:
        parse_params(ctx, SERVER_KEYWORDS, args[2:], name)
    except ConfigError as e:
        ctx.diag.alert(str(e), ctx.file, ctx.line, server=where)
        return
    for other in p.servers:
        if other.name == name:
            ctx.diag.alert(
                f"'server {where}' : already defined at {other.file}:{other.line}.", ctx.file, ctx.line
            )
            return
    p.servers.append(spec)


@kw("default-server", BE_SIDE, "[param*]", "default parameters for the following servers")
def _default_server(ctx: KwCtx, args: list[str]) -> None:
    ctx.target = ctx.proxy.default_server
    try:
        parse_params(ctx, SERVER_KEYWORDS, args, "")
    except ConfigError as e:
        msg = str(e)
        if args and ":" in args[0] and "unknown keyword" in msg:
            msg += " Hint: no address was expected for this server."
        raise ConfigError(msg) from None


@kw("retries", BE_SIDE, "<value>", "connection attempts after the first one fails")
def _retries(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.retries = int_arg(ctx, args, 0)


@kw("fullconn", BE_SIDE, "<conns>", "backend load at which servers reach their maxconn (minconn)")
def _fullconn(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.fullconn = int_arg(ctx, args, 0)


@kw("option redispatch", BE_SIDE, "[<interval>]", "retry on another server", takes_no=True)
def _redispatch(ctx: KwCtx, args: list[str]) -> None:
    if getattr(ctx, "negated", False):
        ctx.proxy.redispatch = None
        return
    n = -1
    if args:
        try:
            n = int(args[0])
        except ValueError:
            raise ConfigError(f"'option redispatch' : unexpected argument '{args[0]}'.") from None
    ctx.proxy.redispatch = n if n != 0 else None


def _skw(name: str, nargs: int, usage: str = "", doc: str = "") -> Any:
    return SERVER_KEYWORDS.register(name, SRV, usage, doc, nargs=nargs)


def _sint(ctx: KwCtx, text: str, name: str, lo: int = 0, hi: int | None = None) -> int:
    try:
        return parse_int(text, name, lo, hi)
    except BadValue as e:
        raise ConfigError(str(e)) from None


@_skw("weight", 1, "<weight>", "load-balancing weight 0..256 (default 1)")
def _s_weight(ctx: KwCtx, a: list[str]) -> None:
    try:
        w = int(a[0])
    except ValueError:
        raise ConfigError(f"weight of server {ctx.target.name} is not within 0 and 256 ({a[0]})..") from None
    if not 0 <= w <= 256:
        raise ConfigError(f"weight of server {ctx.target.name} is not within 0 and 256 ({w})..")
    ctx.target.weight = w


@_skw("maxconn", 1, "<maxconn>", "max concurrent connections to the server (0 = unlimited)")
def _s_maxconn(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.maxconn = _sint(ctx, a[0], "maxconn")


@_skw("minconn", 1, "<minconn>", "dynamic maxconn floor (with fullconn)")
def _s_minconn(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.minconn = _sint(ctx, a[0], "minconn")


@_skw("maxqueue", 1, "<maxqueue>", "max sessions queued for the server (0 = unlimited)")
def _s_maxqueue(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.maxqueue = _sint(ctx, a[0], "maxqueue")


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
    try:
        ctx.target.slowstart = parse_time(a[0], "slowstart")
    except BadValue:
        bad = next((c for c in a[0] if not c.isdigit()), a[0][:1])
        raise ConfigError(f"unexpected character '{bad}' in 'slowstart' argument of server {ctx.target.name}.") from None


@_skw("cookie", 1, "<value>", "persistence cookie value")
def _s_cookie(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.cookie = a[0]


@_skw("id", 1, "<id>", "numeric server id")
def _s_id(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.id = _sint(ctx, a[0], "id", 1)


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

    def queue_limit_reached(self) -> bool:
        limit = 0
        for s in self.lb.servers:
            if not s.maxqueue:
                return False
            limit += s.maxqueue
        return bool(self.lb.servers) and self.nbpend >= limit

    def slot_freed(self) -> None:
        """A server connection ended or a server came back: wake the oldest queued session."""
        if self.queue:
            self.queue.popleft().set()

    # ---- state ----
    def server_changed(self, srv: Server) -> None:
        had = bool(self.lb.servers)
        self.lb.update()
        has = bool(self.lb.servers)
        if had and not has:
            self.down_trans += 1
            self.last_change = gevent.get_hub().loop.now()
            self.process.events.no_server(self)
        if has and self.queue:
            for _ in range(len(self.queue)):
                self.slot_freed()
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
