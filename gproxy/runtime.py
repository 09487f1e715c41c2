"""Build the running objects from a Model and hold the process-wide state.

``build(model)`` turns the configuration into Frontends (with Listeners), Backends (with
Servers, balancers and health checks) and wires them together; ``Process`` carries what
is process-wide: the global connection limit and count, the loggers and the event
subscribers that turn server state changes into log lines.  Binding sockets and starting
greenlets happen in ``Process.bind`` / ``Process.start`` so that a build can be inspected
without side effects.
"""

from __future__ import annotations

import _socket
import resource
import sys
import time
from typing import Any

from . import log as logmod
from . import persist, stickrules
from .backend import Backend
from .config.model import Model
from .counters import FreqCtr
from .diag import Diagnostics
from .frontend import Frontend
from .http.h1 import HttpSessions
from .listener import Listener
from .server import STOPPED, Server
from .tcp import TcpSessions

DEFAULT_MAXCONN_FALLBACK = 100


def raise_nofile() -> int:
    """Raise RLIMIT_NOFILE to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


class Events:
    """Turns server and backend state changes into HAProxy's messages (stderr + syslog)."""

    def __init__(self, process: Process) -> None:
        self.process = process

    def server_event(self, srv: Server, event: str, reason: str) -> None:
        be = srv.backend
        who = f"{'Backup Server' if srv.backup else 'Server'} {be.name}/{srv.name}"
        act, bck = be.active_count()
        # HAProxy's srv_append_status(): an operator's change reads ", changed from CLI"
        why = (", " + reason if reason.startswith("changed from ") else f", reason: {reason}") if reason else ""
        on_backup = " Running on backup." if not act and bck else ""
        left = (
            f"{act} active and {bck} backup servers left.{on_backup} "
            f"{srv.cur_sess} sessions active, 0 requeued, {srv.nbpend} remaining in queue"
        )
        online = (
            f"{act} active and {bck} backup servers online.{on_backup} "
            f"0 sessions requeued, {be.nbpend} total in queue"
        )
        if event == "down":
            logmod.server_down(be.logger, f"{who} is DOWN{why}. {left}", was_stopping=srv.drain)
        elif event == "maint":
            logmod.server_down(be.logger, f"{who} is going DOWN for maintenance{why}. {left}", was_stopping=srv.drain)
        elif event == "up":
            logmod.server_event(be.logger, f"{who} is UP{why}. {online}")
        elif event == "ready":
            state = "DOWN" if srv.op_state == STOPPED else "UP"
            logmod.server_event(be.logger, f"{who} is {state}/{'DRAIN' if srv.drain else 'READY'} (leaving forced maintenance)")
        elif event == "drain":
            logmod.server_event(be.logger, f"{who} enters drain state{why}. {online}")
        elif event == "undrain":
            logmod.server_event(be.logger, f"{who} is {'DOWN' if srv.op_state == STOPPED else 'UP'} (leaving forced drain)")
        elif event == "nolb":
            logmod.server_event(be.logger, f"{who} is stopping{why}. {online}")

    def no_server(self, be: Backend) -> None:
        logmod.backend_no_server(be.logger, "listen" if be.spec.kind == "listen" else "backend", be.name)

    def internal_error(self, sess: Any) -> None:
        import traceback

        if not self.process.quiet:
            traceback.print_exc(file=sys.stderr)


class Process:
    """Process-wide state of one gproxy worker."""

    def __init__(self, model: Model, quiet: bool = False, debug: bool = False) -> None:
        self.model = model
        self.quiet = quiet
        self.debug = debug
        self.start_time = time.time()
        self.nofile = raise_nofile()
        g = model.glob
        # two fds per proxied connection, plus listeners, checks and a margin
        fd_max = max(10, (self.nofile - 100) // 2)
        self.maxconn = min(g.maxconn, fd_max) if g.maxconn else fd_max
        self.hard_maxconn = self.maxconn
        self.actconn = 0
        self.cum_conn = 0
        self.max_conn_seen = 0
        # global maxconnrate / maxsessrate (HAProxy cps_lim / sps_lim; 'set rate-limit ... global')
        self.cps_lim = g.maxconnrate
        self.sps_lim = g.maxsessrate
        self.conn_rate = FreqCtr()
        self.sess_rate = FreqCtr()
        self.frontends: list[Frontend] = []
        self.backends: list[Backend] = []
        self.listeners: list[Listener] = []
        self.events = Events(self)
        self.stopping = False
        self.full_frontends: set[Frontend] = set()
        self.tcp = TcpSessions(self)
        self.http = HttpSessions(self)
        self.loggers: dict[str, Any] = {}
        # stick tables by name, in declaration order (sticktable.StickTable)
        self.stick_tables: dict[str, Any] = {}
        logmod.configure_stderr(quiet=quiet)
        self.global_logger = logmod.global_logger(g)

    # ---- global limit ----
    def may_accept(self) -> bool:
        return self.actconn < self.maxconn

    def conn_started(self) -> None:
        self.conn_rate.add()  # sess_rate: once tcp.accept_stage lets the session on
        self.actconn += 1
        self.cum_conn += 1
        self.max_conn_seen = max(self.max_conn_seen, self.actconn)

    def conn_ended(self) -> None:
        self.actconn -= 1
        if self.full_frontends and self.actconn < self.maxconn:
            for fe in list(self.full_frontends):
                self.full_frontends.discard(fe)
                for lst in list(fe.full_listeners):
                    fe.full_listeners.discard(lst)
                    lst.resume()

    # ---- messages and logs ----
    def log_session(self, fe: Frontend, sess: Any) -> None:
        lg = fe.logger
        if lg is None:
            return
        sess.actconn = self.actconn
        sess.feconn = fe.cur_conn
        be = sess.backend
        sess.beconn = be.cur_sess if be is not None else 0
        srv = sess.server
        sess.srvconn = srv.cur_sess if srv is not None else 0
        if sess.unique_id is None and fe.uid_render is not None:  # not generated yet (strm_log)
            sess.unique_id = fe.uid_render(sess, None)
        lg.session(sess)


def build(model: Model, diag: Diagnostics | None = None, quiet: bool = False) -> Process:
    """Runtime objects for a validated Model (no sockets bound yet)."""
    from . import check as checkmod
    from .http import cookie, uniqueid

    proc = Process(model, quiet=quiet)
    backends: dict[str, Backend] = {}
    # HAProxy's numbering: explicit ids are reserved, the others take the first free id
    # from a counter that also steps over explicit ones; the hidden GLOBAL proxy created
    # by a stats socket takes id 1.
    pids = auto_ids([p.id for p in model.proxies], 2 if model.glob.stats_sockets else 1)
    for spec in model.proxies:
        pid = pids.pop(0)
        fe = be = None
        if spec.kind in ("backend", "listen"):
            be = Backend(spec, pid, proc)
            be.logger = logmod.proxy_logger(spec, model.glob)
            backends[spec.name] = be
            proc.backends.append(be)
            for sid, sspec in zip(auto_ids([s.id for s in spec.servers], 1), spec.servers):
                srv = Server(be, sspec, sid)
                resolve_server(srv)
                srv.subscribers.append(proc.events.server_event)
                be.add_server(srv)
                checkmod.attach(srv, spec)
            for text in cookie.assign_dynamic_cookies(spec.cookie, spec.extra.get("dynamic_cookie_key"), be.servers, spec.name):
                logmod.warning(text, level=None)
        if spec.kind in ("frontend", "listen"):
            fe = Frontend(spec, pid, proc)
            fe.logger = logmod.proxy_logger(spec, model.glob)
            fe.uid_render = uniqueid.renderer(spec)
            fe.uid_header = uniqueid.header(spec)
            t = spec.timeouts
            fe.t_client = t.get("client", 0) / 1000.0
            fe.t_client_fin = t.get("client-fin", 0) / 1000.0
            fe.session_handler = proc.http if spec.mode == "http" else proc.tcp
            lid = 1
            for b in spec.binds:
                for addr in b.addresses:
                    lst = Listener(fe, b, addr, lid)
                    lid += 1
                    fe.listeners.append(lst)
                    proc.listeners.append(lst)
            proc.frontends.append(fe)
            if be is not None:
                fe.default_backend = be
    stickrules.build(proc, model, backends)
    persist.build(model, backends)
    for fe in proc.frontends:
        name = fe.spec.default_backend
        if name and name in backends:
            fe.default_backend = backends[name]
        for ub in fe.spec.use_backends:
            if not ub.cond and ub.name in backends:  # an unconditional rule always matches
                fe.default_backend = backends[ub.name]
                break
    return proc


def auto_ids(explicit: list[int | None], start: int) -> list[int]:
    """HAProxy's get_next_id() numbering for proxies and servers, in declaration order."""
    used = {i for i in explicit if i is not None}
    out = []
    nxt = start
    for i in explicit:
        if i is None:
            while nxt in used:
                nxt += 1
            i = nxt
            used.add(i)
        out.append(i)
        nxt += 1
    return out


def resolve_server(srv: Server) -> None:
    a = srv.addr
    if a is None:
        return
    if a.family == "unix":
        srv.family = _socket.AF_UNIX
        srv.sockaddr = a.host
        return
    fam = _socket.AF_INET6 if a.family == "ipv6" else _socket.AF_INET
    host = a.host or ("::" if fam == _socket.AF_INET6 else "127.0.0.1")
    try:
        infos = _socket.getaddrinfo(host, a.port, fam if a.family in ("ipv4", "ipv6") else 0, _socket.SOCK_STREAM)
    except OSError:
        infos = []
    if infos:
        srv.family = infos[0][0]
        srv.sockaddr = infos[0][4][:2]
    else:
        srv.family = fam
        srv.sockaddr = (host, a.port)
