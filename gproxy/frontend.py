"""Frontends: listeners, connection limits and the choice of backend.

Owns the frontend-side keywords (``maxconn``, ``backlog``, ``rate-limit sessions``,
``default_backend``, ``use_backend``) and, at run time, the frontend's counters, the
per-frontend and process-wide connection limits (listeners stop accepting when full and
resume when a session ends), the session rate limits (``rate_budget``: listeners stop
accepting until the frequency counter allows the next session), and the hand-off of
each accepted connection to a session greenlet.

Session greenlets are reused: one whose session ended parks in a small pool and takes
the next accepted connection, which saves creating a greenlet and its Python frame
stack (an mmap/munmap pair) per connection.
"""

from __future__ import annotations

import sys
from typing import Any

from gevent import getcurrent
from gevent.hub import get_hub
from greenlet import greenlet as _greenlet

from .config.model import Proxy, UseBackend
from .config.values import c_strtoul_u32
from .counters import FreqCtr, new_hrsp
from .proxy import lenient_int_arg
from .registry import FE_SIDE, PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx

kw = SECTION_KEYWORDS.register


@kw("maxconn", FE_SIDE, "<conns>", "max concurrent connections on the frontend")
def _maxconn(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.maxconn = lenient_int_arg(ctx, args)


@kw("backlog", FE_SIDE, "<conns>", "listen backlog")
def _backlog(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.backlog = lenient_int_arg(ctx, args)


@kw("rate-limit", PROXY_SECTIONS, "sessions <rate>", "max new sessions accepted per second on the frontend (0: no limit)")
def _rate_limit(ctx: KwCtx, args: list[str]) -> None:
    """HAProxy's proxy_parse_rate_limit(): errors first, then the capability warning,
    then 'overwriting' when the value differs from the one inherited from defaults."""
    what = args[0] if args else ""
    if what != "sessions":
        raise ConfigError(f"'rate-limit' only supports 'sessions' (got '{what}')")
    text = args[1] if len(args) > 1 else ""
    if not text:
        raise ConfigError("'rate-limit sessions' expects expects an integer value (in sessions/second)")
    val, rest = c_strtoul_u32(text)
    if rest:
        raise ConfigError(f"'rate-limit sessions' : unexpected character '{rest[0]}' in integer value '{text}'")
    p = ctx.proxy
    if p.kind == "backend":
        ctx.warn(f"rate-limit sessions will be ignored because backend '{p.name}' has no frontend capability")
    elif p.kind != "defaults":
        # in a defaults section HAProxy compares the section with itself: never a warning
        mark = p.extra.get("rate_limit_inherited")
        if mark is None or mark[0] != id(p):  # first line of this proxy: the value is the inherited one
            mark = p.extra["rate_limit_inherited"] = (id(p), p.rate_limit)
        if p.rate_limit != mark[1]:
            ctx.warn("overwriting rate-limit sessions which was already specified")
    p.rate_limit = val


@kw("default_backend", FE_SIDE, "<backend>", "backend used when no use_backend rule matches")
def _default_backend(ctx: KwCtx, args: list[str]) -> None:
    if not args or not args[0]:
        raise ConfigError("'default_backend' expects a backend name.")
    ctx.proxy.default_backend = args[0]  # kept even when extra words are refused, as HAProxy
    if len(args) > 1 and args[1]:
        raise ConfigError(f"'default_backend' cannot handle unexpected argument '{args[1]}'.")


@kw("use_backend", FE_SIDE[1:], "<backend> [{if | unless} <condition>]", "switch to a backend when a condition matches")
def _use_backend(ctx: KwCtx, args: list[str]) -> None:
    if not args or not args[0]:
        raise ConfigError("'use_backend' expects a backend name.")
    cond = args[1:]
    if cond and cond[0] not in ("if", "unless"):
        raise ConfigError(f"unexpected keyword '{cond[0]}' after switching rule, only 'if' and 'unless' are allowed.")
    ub = UseBackend(args[0], cond, ctx.file, ctx.line)
    from .http import acl  # compiles the condition (ub.compiled) and a log-format name (ub.render)

    acl.compile_use_backend(ctx, ub)
    ctx.proxy.use_backends.append(ub)


class Frontend:
    """A frontend (or the frontend half of a listen section) at run time."""

    def __init__(self, spec: Proxy, pid: int, process: Any) -> None:
        self.spec = spec
        self.name = spec.name
        self.id = spec.id or pid
        self.mode = spec.mode
        self.process = process
        self.listeners: list[Any] = []
        self.full_listeners: set[Any] = set()
        self.maxconn = spec.maxconn or process.maxconn
        self.backlog = spec.backlog
        self.rate_limit = spec.rate_limit  # 'rate-limit sessions' (stats column rate_lim)
        self.default_backend: Any = None
        self.switching: list[tuple[Any, list[str]]] = []  # (backend, condition)
        self.logger: Any = None
        self.uid_render: Any = None  # unique-id-format: fn(session) -> id (gproxy.http.uniqueid)
        self.uid_header: str | None = None  # unique-id-header, lower-case
        self.session_handler: Any = None  # fn(frontend, listener, conn, addr)
        self.disabled = spec.disabled
        self.stopping = False
        # counters
        self.cur_conn = 0
        self.max_conn = 0
        self.cum_conn = 0
        self.cum_sess = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.denied_conn = 0
        self.denied_req = 0
        self.failed_req = 0
        self.cum_req = 0
        self.denied_resp = 0
        self.intercepted = 0
        self.failed_rewrites = 0
        self.internal_errors = 0
        self.hrsp = new_hrsp()
        self.conn_rate = FreqCtr()
        self.sess_rate = FreqCtr()
        self.req_rate = FreqCtr()
        self.sessions: set[Any] = set()

    # ---- limits ----
    def may_accept(self) -> bool:
        if self.cur_conn >= self.maxconn:
            return False
        return self.process.may_accept()

    def rate_budget(self, listener: Any) -> int:
        """How many connections ``listener`` may accept now under the session rate limits
        (HAProxy listener_accept(): global ``maxsessrate``, ``maxconnrate``, then the
        frontend's ``rate-limit sessions``).  At 0 the listener is already limited: it
        resumes when the counter that refused allows the next session."""
        proc = self.process
        budget = 64
        for ctr, lim in ((proc.sess_rate, proc.sps_lim), (proc.conn_rate, proc.cps_lim), (self.sess_rate, self.rate_limit)):
            if lim:
                n = ctr.remain(lim)
                if not n:
                    listener.limit(ctr.next_event_delay(lim))
                    return 0
                if n < budget:
                    budget = n
        return budget

    def accepted(self, listener: Any, conn: Any, addr: Any) -> None:
        self.cur_conn += 1
        self.cum_conn += 1
        self.conn_rate.add()  # the session (cum_sess, sess_rate) once tcp.accept_stage lets it on
        self.max_conn = max(self.max_conn, self.cur_conn)
        self.process.conn_started()
        if _PARKED:
            _PARKED.pop().switch((self.session_handler, self, listener, conn, addr))
        else:
            _greenlet(_worker, get_hub()).switch((self.session_handler, self, listener, conn, addr))

    def released(self, listener: Any) -> None:
        self.cur_conn -= 1
        listener.released()
        self.process.conn_ended()
        if self.full_listeners and self.cur_conn < self.maxconn:
            for lst in list(self.full_listeners):
                self.full_listeners.discard(lst)
                lst.resume()

    # ---- lifecycle ----
    def start(self) -> None:
        if self.disabled:
            return
        for lst in self.listeners:
            lst.start()

    def pause(self) -> None:
        for lst in self.listeners:
            lst.pause()

    def resume(self) -> None:
        for lst in self.listeners:
            lst.unpause()

    def stop(self) -> None:
        """Soft stop: close listeners; existing sessions finish on their own."""
        self.stopping = True
        for lst in self.listeners:
            lst.close()

    @property
    def status(self) -> str:
        if self.disabled or self.stopping:
            return "STOP"
        return "OPEN"


# ---------------------------------------------------------------- session greenlets
_PARKED: list[Any] = []  # idle session greenlets, waiting for a connection
_MAX_PARKED = 256


def _worker(job: tuple[Any, ...]) -> None:
    """Body of a session greenlet: run sessions one after the other, parking in between
    (the hub switches here with the next job; a full pool lets the greenlet end)."""
    me = getcurrent()
    hub = get_hub()
    while True:
        handler, fe, listener, conn, addr = job
        try:
            handler(fe, listener, conn, addr)
        except Exception:  # noqa: BLE001 - handlers log their own errors; this one is a bug: report it, keep going
            hub.handle_error(me, *sys.exc_info())
        job = None
        if len(_PARKED) >= _MAX_PARKED:
            return
        _PARKED.append(me)
        job = hub.switch()
