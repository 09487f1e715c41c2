"""``mode http`` sessions: HTTP/1.1 on both sides, one log line per request.

One greenlet per client connection owns the control flow, as in ``tcp.py``: read and
parse a request head, run the rules, choose the backend and the server, get a server
connection (an idle one when ``http-reuse`` allows, else connect with retries,
redispatch and queue), send the rebuilt head, read the response head, run the response
rules, send the rebuilt head, then move the bodies and loop for the next request
(keep-alive, pipelining).  Bytes of bodies and tunnels are moved by hub io-watcher
callbacks (``relay.BodyRelay``, ``pump.Pump``); the greenlet waits on the raw sockets'
watchers directly (no gevent socket objects, no per-wait timer): inactivity limits are
deadlines checked by the shared sweeper (``pump.SWEEPER``), which wakes the greenlet.

Idle server connections live in a per-server pool (``_SrvState``) watched for the
server closing them; HAProxy's ``http-reuse safe`` (default) lets only the second and
later requests of a client connection use another session's idle connection, and keeps
no more idle connections than were recently needed at once.

Rules run in the session's greenlet and may block it: ``option http-buffer-request`` and
``http-request wait-for-body`` read the request body before the rules that follow,
``http-response wait-for-body`` the response body before the response head is sent
(``Txn.waiter`` is ``HttpConn._rule_wait``); what is held is what ``req.body*`` and
``res.body*`` see, and is then forwarded once, as received.  ``http-request early-hint``
sends its 103 through ``Txn.interim`` (``HttpConn._send_interim``) while the rules run;
``http-request set-timeout`` leaves ``Txn.t_server``/``t_tunnel``, read (0: the
backend's) where the server and tunnel inactivity deadlines are set.

Termination states, status codes and generated pages follow HAProxy 2.6 (see
``errors.py`` and ``parse.py``); connection headers follow its H1 mux: ``close`` and
``keep-alive`` tokens are removed, and the mux's own header is appended last.
"""

from __future__ import annotations

import _socket
import errno
import struct
import time
from itertools import chain
from typing import Any

import gevent
from gevent import getcurrent
from gevent.hub import get_hub

from .. import persist, stickrules, stkctr
from ..counters import hrsp_index
from ..lb import PickCtx
from ..pump import SWEEPER, Pump
from ..server import MAINT_MASK as _MAINT
from ..session import Session
from ..tcp import AGAIN, RETRY_GIVE_UP, RETRY_PAUSE, ConnectFailed, accept_stage, connect_failed, connect_server
from . import body as body_mod
from . import casing, errors, hooks, parse, redirect
from .keywords import CLO, KAL, RESTRICT_DENY, Limits, conn_mode, forward_spec, restrict_hdr_names, restrict_mode
from .message import Headers, Request, Response, Txn
from .monitor import Monitor
from .relay import BAD_CHUNK, DST_ERR, OK, SRC_EOF, BodyRelay
from .uniqueid import next_req_id

READ, WRITE = 1, 2
_READY = 1  # wake value: the watcher fired
_RELAY = 2  # wake value: a relay finished (see relay_done)
_monotonic = time.monotonic
_time = time.time
IPPROTO_TCP, TCP_NODELAY = _socket.IPPROTO_TCP, _socket.TCP_NODELAY
MSG_PEEK = _socket.MSG_PEEK
_RECV = 65536
_NO_BODY_STATUS = (204, 304)
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_NO_CTX = PickCtx()
_IN_PROGRESS = (errno.EINPROGRESS, errno.EAGAIN)
SOL_SOCKET, SO_ERROR = _socket.SOL_SOCKET, _socket.SO_ERROR
_TCP_REPAIR = getattr(_socket, "TCP_REPAIR", 19)
_LINGER_OFF = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() resets


class _NoSock:
    @staticmethod
    def fileno() -> int:
        return -1


_NO_SOCK = _NoSock()


class _Abort(Exception):
    """A wait ended on a timeout or a kill: ``term`` is the termination state."""

    def __init__(self, term: str) -> None:
        super().__init__(term)
        self.term = term


class _ClientGone(Exception):
    pass


class _WaitAbort:
    """The verdict a ``wait-for-body`` rule ends the rules with (``Txn.waiter``): the
    body did not come in time (``status`` 408 or 504, answered with that page), a side
    closed or the session was killed (``status`` 0: no answer), or the client sent
    broken framing (``status`` -1: already answered and logged)."""

    __slots__ = ("status", "term")
    kind = "wait-abort"

    def __init__(self, status: int, term: str) -> None:
        self.status = status
        self.term = term


# ============================================================== idle server connections
class SrvConn:
    """A connection to a server, with its io watchers (kept while pooled)."""

    __slots__ = ("laddr", "owner", "r", "sock", "srv", "w")

    def __init__(self, sock: Any, srv: Any, loop: Any) -> None:
        self.sock = sock
        self.srv = srv
        fd = sock.fileno()
        self.r = loop.io(fd, READ)
        self.w = loop.io(fd, WRITE)
        self.owner: Any = None
        try:
            la = sock.getsockname()
        except OSError:
            la = None
        self.laddr = (la[0], la[1]) if isinstance(la, tuple) else (None, None)

    def close(self) -> None:
        self.r.stop()
        self.w.stop()
        self.r.close()
        self.w.close()
        try:
            self.sock.close()
        except OSError:
            pass


class _SrvState:
    """Per-server connection accounting for the idle pool (HAProxy est_need_conns)."""

    __slots__ = ("idle", "need", "peak", "used")

    def __init__(self) -> None:
        self.idle: dict[SrvConn, None] = {}  # oldest first (a dict: O(1) removal)
        self.used = 0
        self.peak = 0
        self.need = 0


_STATES: dict[Any, _SrvState] = {}
_PURGE_DELAY = 5.0
_purger: list[Any] = [None]


def _state(srv: Any) -> _SrvState:
    st = _STATES.get(srv)
    if st is None:
        st = _STATES[srv] = _SrvState()
        if _purger[0] is None:
            _purger[0] = gevent.spawn(_purge_loop)
    return st


def _purge_loop() -> None:
    while True:
        gevent.sleep(_PURGE_DELAY)
        for st in list(_STATES.values()):
            st.need = st.peak
            st.peak = st.used
            excess = len(st.idle) + st.used - max(st.need, st.used)
            idle = st.idle
            while excess > 0 and idle:
                sc = next(iter(idle))
                del idle[sc]
                sc.close()
                excess -= 1


def _idle_event(sc: SrvConn) -> None:
    """A pooled connection became readable: the server closed it (or sent junk)."""
    st = _STATES.get(sc.srv)
    if st is not None:
        st.idle.pop(sc, None)
    sc.close()


def _release_conn(sc: SrvConn, owner: Any, keep: bool, private: bool = False) -> None:
    """End of a transaction on ``sc``: pool it (idle, watched for the server closing it) or
    close it.  Shared idle connections are kept only up to what was recently needed at
    once (HAProxy's est_need_conns); private ones (``http-reuse never``) stay with their
    session."""
    st = _STATES.get(sc.srv) or _state(sc.srv)
    if keep and (private or len(st.idle) <= (st.need - st.used if st.need > st.used else 0)) and not sc.srv.admin & _MAINT:
        st.used -= 1
        sc.owner = owner
        sc.w.stop()
        sc.r.start(_idle_event, sc)
        st.idle[sc] = None
        return
    st.used -= 1
    sc.close()


def _take_idle(st: _SrvState, owner: Any, reuse: str, first: bool) -> SrvConn | None:
    """An idle connection to the server: the session's own most recent one first, else
    (``http-reuse`` permitting) the most recently pooled one."""
    idle = st.idle
    for sc in reversed(owner.owned):
        if sc in idle and sc.owner is owner:
            break
    else:
        if reuse == "never" or (reuse == "safe" and first):
            return None
        sc = next(reversed(idle))
    del idle[sc]
    sc.r.stop()
    st.used += 1
    if st.used > st.peak:
        st.peak = st.used
    return sc


def _count_new(srv: Any) -> None:
    st = _state(srv)
    st.used += 1
    if st.used > st.peak:
        st.peak = st.used
    if st.used > st.need:
        st.need = st.used


# ============================================================== per frontend settings
class _FeCfg:
    __slots__ = ("cap_cookie", "cap_req", "cap_rsp", "caps", "case_cli", "ignore_probes", "lax", "mode", "monitor",
                 "redirects", "restrict", "t_client", "t_ka", "t_req")

    def __init__(self, fe: Any, glob: Any) -> None:
        spec = fe.spec
        t = spec.timeouts
        self.t_client = t.get("client", 0) / 1000.0
        self.t_req = t.get("http-request", 0) / 1000.0
        self.t_ka = t.get("http-keep-alive", t.get("http-request", t.get("client", 0))) / 1000.0
        self.lax = bool(spec.options.get("accept-invalid-http-request"))
        self.ignore_probes = bool(spec.options.get("http-ignore-probes"))
        # capture slots: (lower-case header name, len), or (None, len) for the slots the
        # capture actions fill (declare capture, http-request capture ... len)
        self.cap_req = [(n and n.lower(), ln) for n, ln in spec.captures_req] or None
        self.cap_rsp = [(n and n.lower(), ln) for n, ln in spec.captures_rsp] or None
        self.cap_cookie = spec.extra.get("capture_cookie")
        self.caps = bool(self.cap_req or self.cap_rsp or self.cap_cookie)
        self.mode = conn_mode(spec)
        self.restrict = restrict_mode(spec)  # option http-restrict-req-hdr-names delete|reject, else None
        self.case_cli = casing.client_table(spec, glob)  # h1-case-adjust for what clients receive, else None
        self.monitor = Monitor.of(spec)  # monitor-uri / monitor fail, else None
        self.redirects = redirect.rules_of(spec) or None  # the proxy's 'redirect' rules


class _PairCfg:
    """What depends on the frontend/backend pair."""

    __slots__ = ("be_redirects", "buffer_req", "case_srv", "ff", "lax_rsp", "mode", "name_hdr", "ot", "pretend_ka",
                 "restrict", "reuse", "rsp_hooks")

    def __init__(self, fe: Any, be: Any, glob: Any) -> None:
        fs, bs = fe.spec, be.spec
        self.mode = max(conn_mode(fs), conn_mode(bs))
        self.ff = forward_spec(fs, bs, "forwardfor")
        self.ot = forward_spec(fs, bs, "originalto")
        self.pretend_ka = bool(fs.options.get("http-pretend-keepalive") or bs.options.get("http-pretend-keepalive"))
        self.lax_rsp = bool(bs.options.get("accept-invalid-http-response"))
        self.buffer_req = bool(fs.options.get("http-buffer-request") or bs.options.get("http-buffer-request"))
        self.reuse = bs.extra.get("http_reuse", "safe")
        self.rsp_hooks = bool(bs.http_response or fs.http_response or bs.cookie is not None
                              or bs.http_after_response or fs.http_after_response)
        self.restrict = restrict_mode(bs) if bs is not fs else None  # the backend's own pass (HAProxy: be != fe)
        self.case_srv = casing.server_table(bs, glob)  # h1-case-adjust for what servers receive, else None
        self.be_redirects = (redirect.rules_of(bs) or None) if bs is not fs else None
        name = bs.extra.get("send_name_header")
        self.name_hdr = name.lower() if name else None  # http-send-name-header


# ============================================================== the session handler
class HttpSessions:
    """The session handler of every ``mode http`` frontend of a process."""

    def __init__(self, process: Any) -> None:
        self.process = process
        self.limits = Limits(getattr(process.model, "glob", None))
        self.fecfg: dict[Any, _FeCfg] = {}
        self.pair: dict[tuple[Any, Any], _PairCfg] = {}
        self._backends: dict[str, Any] | None = None

    def backends(self) -> dict[str, Any]:
        if self._backends is None:
            self._backends = {be.name: be for be in self.process.backends}
        return self._backends

    def fe_cfg(self, fe: Any) -> _FeCfg:
        c = self.fecfg.get(fe)
        if c is None:
            c = self.fecfg[fe] = _FeCfg(fe, getattr(self.process.model, "glob", None))
        return c

    def pair_cfg(self, fe: Any, be: Any) -> _PairCfg:
        key = (fe, be)
        c = self.pair.get(key)
        if c is None:
            c = self.pair[key] = _PairCfg(fe, be, getattr(self.process.model, "glob", None))
        return c

    def __call__(self, fe: Any, listener: Any, conn: Any, addr: Any) -> None:
        c = self._new(fe, listener, conn, addr)
        if c is not None:
            c.run()

    def _new(self, fe: Any, listener: Any, conn: Any, addr: Any) -> HttpConn | None:
        try:
            return HttpConn(self, fe, listener, conn, addr)
        except Exception:  # noqa: BLE001 - e.g. the socket died before we looked at it
            conn.close()
            fe.released(listener)
            return None

    def upgraded(self, fe: Any, listener: Any, conn: Any, addr: Any, be: Any, tcp_sess: Any) -> None:
        """A ``mode tcp`` frontend chose a ``mode http`` backend: HAProxy upgrades the
        connection to HTTP.  The TCP session already read any PROXY header and ran the
        frontend's tcp-request rules and backend choice; every request of the connection
        goes to ``be``."""
        c = self._new(fe, listener, conn, addr)
        if c is None:
            return
        c.fixed_be = be
        s = c.sess
        s.accept_mono, s.accept_ts, s.t_handshake = tcp_sess.accept_mono, tcp_sess.accept_ts, tcp_sess.t_handshake
        s.req_id = tcp_sess.req_id  # the same stream: its first request keeps its %rt
        s.cli_ip, s.cli_port, s.fe_ip, s.fe_port = tcp_sess.cli_ip, tcp_sess.cli_port, tcp_sess.fe_ip, tcp_sess.fe_port
        s.stkctr, tcp_sess.stkctr = tcp_sess.stkctr, None  # the counters it tracked go on
        c.run()


class HttpConn:
    """One client connection in ``mode http``."""

    __slots__ = (
        "be_held",
        "body_held",
        "body_left",
        "c_r",
        "c_w",
        "cbuf",
        "cfg",
        "cli",
        "cli_cb",
        "dl",
        "dl_term",
        "fe",
        "fixed_be",
        "gswitch",
        "handler",
        "hub",
        "interim",
        "ka_pref",
        "killed",
        "last_srv",
        "listener",
        "logging",
        "loop",
        "minor",
        "nreq",
        "owned",
        "pc",
        "pc_be",
        "process",
        "relay_codes",
        "relays",
        "rq_chunk",
        "rq_info",
        "sc",
        "sess",
        "sweeper",
        "t_start",
        "w_cur",
        "waiter",
        "waiting",
    )

    def __init__(self, handler: HttpSessions, fe: Any, listener: Any, conn: Any, addr: Any) -> None:
        self.handler = handler
        self.process = handler.process
        self.fe = fe
        self.listener = listener
        self.cli = conn
        hub = get_hub()
        self.hub = hub
        self.loop = hub.loop
        fd = conn.fileno()
        self.c_r = self.loop.io(fd, READ)
        self.c_w: Any = None  # created when a send to the client first blocks (each watcher costs syscalls)
        self.gswitch = getcurrent().switch
        self.cli_cb = self._cli_event
        self.cfg = handler.fe_cfg(fe)
        self.cbuf = b""
        self.dl = 0.0
        self.dl_term = ""
        self.waiting = False
        self.w_cur: Any = None
        self.relays: list[BodyRelay] = []
        self.relay_codes: dict[Any, int] = {}
        self.sc: SrvConn | None = None  # server connection in use by the current transaction
        self.last_srv: Any = None
        self.nreq = 0
        self.owned: list[SrvConn] = []  # server connections this session left idle
        self.pc: _PairCfg | None = None
        self.pc_be: Any = None
        self.killed = ""
        self.sweeper: Any = None
        self.sess: Session = Session(fe, listener, addr, None)
        self.t_start = 0.0
        self.be_held: Any = None
        self.fixed_be: Any = None  # set when a tcp frontend's connection was upgraded (HttpSessions.upgraded)
        self.ka_pref = True
        self.minor = 1
        self.body_left = False
        self.body_held = False  # the request body starts at self.cbuf[0] and nobody took it
        # the request being processed, for wait-for-body rules (Txn.waiter, _rule_wait)
        self.rq_info: parse.ReqInfo | None = None
        self.rq_chunk: Any = None
        self.waiter = self._rule_wait
        self.interim = self._send_interim
        lg = fe.logger
        self.logging = lg is not None and lg.enabled and lg.render is not None

    # ------------------------------------------------------------ waiting
    def _wait(self, w: Any, deadline: float, term: str) -> int:
        """Block until watcher ``w`` fires; raise _Abort(term) at ``deadline`` (0: none)."""
        if self.killed:
            raise _Abort(self.killed)
        self.dl = deadline
        self.dl_term = term
        self.w_cur = w
        w.start(self.gswitch, _READY)
        self.waiting = True
        try:
            r = self.hub.switch()
        finally:
            self.waiting = False
            w.stop()
            self.w_cur = None
            self.dl = 0.0
        if r == _READY or r == _RELAY:
            return r
        raise _Abort(r)

    def _wait_cli(self, deadline: float, term: str) -> None:
        """``_wait`` on the client read watcher, which stays started between waits (its
        callback stops it if it fires while nobody waits): restarting it each time made
        libev re-register the fd with epoll on every request."""
        if self.killed:
            raise _Abort(self.killed)
        c_r = self.c_r
        cb = self.cli_cb
        if not c_r.active or c_r.callback != cb:
            c_r.start(cb)
        self.dl = deadline
        self.dl_term = term
        self.w_cur = c_r
        self.waiting = True
        try:
            r = self.hub.switch()
        finally:
            self.waiting = False
            self.w_cur = None
            self.dl = 0.0
        if r != _READY:
            raise _Abort(r)

    def _cli_event(self) -> None:
        if self.waiting and self.w_cur is self.c_r:
            self.waiting = False
            self.gswitch(_READY)
        else:
            self.c_r.stop()  # readable while nobody waits (pipelining): wait for a wait

    def _block(self) -> int:
        """Wait for a relay to report (``relay_done``) or for a timeout/kill."""
        if self.killed:
            raise _Abort(self.killed)
        self.waiting = True
        try:
            r = self.hub.switch()
        finally:
            self.waiting = False
        if r == _RELAY or r == _READY:
            return r
        raise _Abort(r)

    def relay_done(self, relay: BodyRelay, code: int) -> None:
        """Called from the hub by a relay that finished (OK or not)."""
        self.relay_codes[relay] = code
        if self.waiting and (code != OK or self.w_cur is None):
            self.waiting = False
            if self.w_cur is not None:
                self.w_cur.stop()
            self.gswitch(_RELAY)

    # ``show sess`` reads ``sess.pump.cli`` / ``sess.pump.srv``
    @property
    def srv(self) -> Any:
        return self.sc.sock if self.sc is not None else _NO_SOCK

    # sweeper interface (also used by backend.shutdown_sessions through sess.pump)
    def expired(self, now: float) -> str | None:
        if not self.waiting:
            return None
        if self.dl and now >= self.dl:
            return self.dl_term
        if self.dl_term == "" and self.w_cur is self.c_r and (self.process.stopping or self.fe.stopping):
            return ""  # soft stop: idle keep-alive connections close now, silently
        for r in self.relays:
            t = r.expired(now)
            if t is not None:
                return t
        return None

    def finish(self, term: str) -> None:
        """Timeout or kill: wake the session greenlet with ``term`` (any greenlet may call)."""
        if term.endswith("D") and term[0] in "KDU":
            self.killed = term
        if not self.waiting:
            return
        self.waiting = False
        if self.w_cur is not None:
            self.w_cur.stop()
        for r in self.relays:
            r.stop()
        self.loop.run_callback(self.gswitch, term)

    # ------------------------------------------------------------ I/O helpers
    def _client_w(self) -> Any:
        self.c_w = self.loop.io(self.c_r.fd, WRITE)
        return self.c_w

    def _send_all(self, sock: Any, w: Any, data: bytes, t: float, term: str) -> None:
        """Send everything (waiting on ``w`` when the socket is full)."""
        try:
            sent = sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        if sent == len(data):
            return
        mv = memoryview(data)[sent:]
        while mv:
            self._wait(w, (self.loop.now() + t) if t else 0.0, term)
            try:
                n = sock.send(mv)
            except (BlockingIOError, InterruptedError):
                continue
            mv = mv[n:]

    def _send_client(self, data: bytes, count: int = -1) -> bool:
        """Send to the client; ``count`` is what the log counts for it (-1: its length)."""
        try:
            self._send_all(self.cli, self.c_w or self._client_w(), data, self.cfg.t_client, "cD")
        except (OSError, _Abort):
            return False
        self.sess.bytes_out += len(data) if count < 0 else count
        return True

    # ------------------------------------------------------------ main
    def run(self) -> None:
        fe = self.fe
        sess = self.sess
        listener = self.listener
        la = listener.address
        if la.family in ("ipv4", "ipv6") and la.host and la.host not in ("0.0.0.0", "::"):
            sess.fe_ip, sess.fe_port = la.host, la.port
        else:
            try:
                fa = self.cli.getsockname()
                if isinstance(fa, tuple):
                    sess.fe_ip, sess.fe_port = fa[0], fa[1]
            except OSError:
                pass
        if self.cli.family != _socket.AF_UNIX:
            try:
                self.cli.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
            except OSError:
                pass
        fe.sessions.add(sess)
        sess.pump = self
        cfg = self.cfg
        SWEEPER.add(self)
        try:
            if self.fixed_be is not None:  # upgraded from a tcp session, which did the rest
                while self.transaction():
                    pass
                return
            if accept_stage(sess, self.cli, listener, fe, cfg.t_client):
                return
            lg = fe.logger
            if lg is not None and lg.enabled and lg.render is None:
                lg.connect_line(sess, "http")
            while self.transaction():
                pass
        except _ClientGone:
            pass
        except Exception:  # noqa: BLE001 - a session bug must not kill the process; it is logged
            sess.term = "ID"
            fe.internal_errors += 1
            self.process.events.internal_error(sess)
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        fe = self.fe
        sess = self.sess
        if sess.stkctr is not None:
            stkctr.end_session(sess)  # session_store_counters()
        for r in self.relays:
            r.stop()
        self.relays = []
        if self.sc is not None:
            _release_conn(self.sc, None, False)
            self.sc = None
        # idle connections this session left in the pool stay there (safe/aggressive/always);
        # with http-reuse never they are private: close them
        for sc in self.owned:
            if sc.owner is self:
                sc.owner = None
                if self._reuse_mode_of(sc.srv) == "never":
                    st = _STATES.get(sc.srv)
                    if st is not None:
                        st.idle.pop(sc, None)
                    sc.close()
        self.c_r.stop()
        self.c_r.close()
        if self.c_w is not None:
            self.c_w.stop()
            self.c_w.close()
        try:
            self.cli.close()
        except OSError:
            pass
        if self.sweeper is not None:
            self.sweeper.remove(self)
        sess.pump = None
        fe.sessions.discard(sess)
        fe.released(self.listener)

    def _reuse_mode_of(self, srv: Any) -> str:
        return srv.backend.spec.extra.get("http_reuse", "safe")

    # ------------------------------------------------------------ one transaction
    def _reset(self, first: bool, start_mono: float, start_wall: float) -> None:
        s = self.sess
        if not first:
            s.accept_mono = start_mono
            s.accept_ts = start_wall
            s.t_handshake = 0
            s.req_id = s.unique_id = None  # a new stream (the first one may come from mode tcp)
        s.t_request = s.t_response = s.t_active = s.t_queue = s.t_connect = s.t_total = -1
        s.t_idle = s.bytes_in = s.bytes_out = s.retries = s.srv_queue = s.be_queue = 0
        s.term = s.term_cookie = "--"
        s.redispatched = False
        s.req_ts = s.status = s.req_captures = s.res_captures = s.cookie_req = s.cookie_res = s.method = s.uri = None
        s.version = s.backend = s.backend_name = s.server = s.server_name = s.srv_ip = s.srv_port = None
        s.be_ip = s.be_port = s.log_level = s.txn = None
        if s.addr0 is not None:  # http-request set-src/set-dst hold for one request
            s.cli_ip, s.cli_port, s.fe_ip, s.fe_port = s.addr0
            s.addr0 = None

    def transaction(self) -> bool:
        """Serve one request; True to wait for another on this connection."""
        fe = self.fe
        sess = self.sess
        cfg = self.cfg
        lim = self.handler.limits
        first = self.nreq == 0
        start = _monotonic()
        if not first:
            self._reset(False, start, _time())
        else:
            self._reset(True, sess.accept_mono, sess.accept_ts)
        # ---------------------------------------------------------- request head
        buf = self.cbuf
        t0 = start if buf else 0.0  # first byte of the request
        self.t_start = sess.accept_mono
        now_loop = self.loop.now()
        if first:
            t = cfg.t_req or cfg.t_client
            deadline = (now_loop + t) if t else 0.0
            idle_term = "cR"
        else:
            t = cfg.t_ka
            deadline = (now_loop + t) if t else 0.0
            idle_term = ""
        while True:
            if buf:
                if buf[0] in (13, 10):
                    k = parse.skip_empty_lines(buf)
                    buf = buf[k:]
                    if not buf:
                        continue
                end = buf.find(b"\r\n\r\n")  # parse.head_end() without a call in the common case
                if end >= 0 and buf.find(b"\n\n", 0, end) < 0:
                    body_at = end + 4
                else:
                    end, body_at = parse.head_end(buf)
                if end < 0:  # a start line alone can be the whole request (HTTP/0.9)
                    end, body_at = parse.head_end_09(buf)
                if end >= 0:
                    if end > lim.maxreq:
                        return self._bad_request(buf, 400)
                    break
                if len(buf) > lim.maxreq or parse.partial_request_refused(buf, cfg.lax):
                    return self._bad_request(buf, 400)
            try:
                self._wait_cli(deadline, idle_term if not buf else "cR")
                data = self.cli.recv(_RECV)
            except _Abort as e:
                return self._head_timeout(buf, e.term)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                return self._client_closed(buf)
            if not buf:
                t0 = _monotonic()
                if not first:
                    self.t_start = t0
                    t = cfg.t_req or cfg.t_client
                    deadline = (self.loop.now() + t) if t else 0.0
                elif not cfg.t_req and cfg.t_client:
                    deadline = self.loop.now() + cfg.t_client
                buf = data
            else:
                buf += data
                if not cfg.t_req and cfg.t_client:
                    deadline = self.loop.now() + cfg.t_client
        if not t0:
            t0 = start
        t_head = _monotonic()
        self.nreq += 1
        if sess.req_id is None:
            sess.req_id = next_req_id()
        if first:
            sess.t_idle = int((t0 - sess.accept_mono) * 1000) - sess.t_handshake
            if sess.t_idle < 0:
                sess.t_idle = 0
        else:
            sess.t_idle = int((t0 - start) * 1000)
        sess.req_ts = sess.accept_ts + (t0 - sess.accept_mono)
        sess.t_request = int((t_head - t0) * 1000)
        fe.cum_req += 1
        fe.req_rate.add()
        try:
            req, info = parse.parse_request(buf[:end], cfg.lax, lim.maxhdr)
        except parse.ParseError as e:
            return self._bad_request(buf, e.status)
        if end > lim.htx_check and parse.htx_blocks(
                req.method, req.uri, req.version, req.headers.items) > lim.maxhead:
            return self._bad_request(buf, 400)
        self.cbuf = buf[body_at:]
        if self.logging:
            sess.bytes_in = _htx_size(req.method, req.uri, req.version, req.headers.items)
        else:
            sess.bytes_in = body_at
        sess.method = req.method
        sess.uri = req.uri
        sess.version = req.version
        return self._process(req, info, t0)

    # ---- request head errors (HAProxy's H1 mux: no stream, raw pages, <BADREQ>) ----
    def _log_early(self, status: int | None, term: str) -> None:
        sess = self.sess
        if sess.req_id is None:
            sess.req_id = next_req_id()
        sess.unique_id = ""  # HAProxy generates none for the H1 mux's own errors: %ID is '-'
        sess.status = status
        sess.term = term
        sess.method = None
        sess.t_request = -1
        now = _monotonic()
        sess.t_active = int((now - self.t_start) * 1000)
        sess.t_total = int((now - sess.accept_mono) * 1000)
        if status is not None:
            self.fe.hrsp[hrsp_index(status)] += 1
        self._account()
        self.process.log_session(self.fe, sess)

    def _raw_error(self, raw: bytes) -> None:
        try:
            self.cli.send(raw)
        except OSError:
            pass

    def _bad_request(self, buf: bytes, status: int) -> bool:
        sess = self.sess
        fe = self.fe
        fe.failed_req += 1
        if sess.stkctr is not None:  # h1_handle_parsing_error(): one request, one error
            stkctr.inc_http_req(sess)
            stkctr.inc_http_err(sess)
        sess.bytes_in = len(buf)
        if status == 400 or status == 422:  # the H1 mux's own pages (errorfiles do not apply)
            self._raw_error(errors.RAW_400 if status == 400 else errors.RAW_422)
            sess.bytes_out = 0
        else:
            data, _ = errors.reply(status, None, fe.spec, sess=sess).render(False)
            self._raw_error(data)
            sess.bytes_out = len(data)
        self._log_early(status, "PR")
        return False

    def _head_timeout(self, buf: bytes, term: str) -> bool:
        if term != "cR" and term != "":
            # killed
            if buf:
                self._log_early(None, term[0] + "R")
            return False
        if not buf and self.nreq > 0:
            return False  # keep-alive idle timeout: silent close
        if not buf and self.cfg.ignore_probes:
            return False
        self.sess.bytes_in = len(buf)
        self.fe.failed_req += 1
        if self.sess.stkctr is not None:  # h1_handle_req_tout(): one request
            stkctr.inc_http_req(self.sess)
        self._raw_error(errors.RAW_408)
        self._log_early(408, "cR")
        return False

    def _client_closed(self, buf: bytes) -> bool:
        if not buf and self.nreq > 0:
            return False
        self.sess.bytes_in = len(buf)
        self.fe.failed_req += 1
        self._raw_error(errors.RAW_400)
        self._log_early(400, "CR")
        return False

    def _account(self) -> None:
        """Per-transaction byte counts into the frontend and listener counters (stats)."""
        s = self.sess
        fe = self.fe
        lst = self.listener
        fe.bytes_in += s.bytes_in
        fe.bytes_out += s.bytes_out
        lst.bytes_in += s.bytes_in
        lst.bytes_out += s.bytes_out

    # ------------------------------------------------------------ request processing
    def _process(self, req: Request, info: parse.ReqInfo, t0: float) -> bool:
        fe = self.fe
        sess = self.sess
        cfg = self.cfg
        txn = Txn(sess, req)
        sess.txn = txn
        if cfg.caps:
            if cfg.cap_req is not None:
                sess.req_captures = _captures(req.headers, cfg.cap_req)
            if cfg.cap_rsp is not None:
                sess.res_captures = [None] * len(cfg.cap_rsp)
            if cfg.cap_cookie is not None:
                sess.cookie_req = _capture_cookie(req.headers, "cookie", cfg.cap_cookie)
        # keep-alive as the client asks (refined once the backend is known)
        conn = info.conn
        self.minor = info.minor
        if info.minor:
            ka = not (conn is not None and conn.close)
        else:
            ka = conn is not None and conn.keep_alive
        if info.force_close or self.process.stopping or fe.stopping or cfg.mode == CLO:
            ka = False
        self.ka_pref = ka
        # body framing known from the head; the first bytes may already be buffered
        chunk = None
        self.body_left = bool(req.body_len and req.body_len > len(self.cbuf))
        self.body_held = bool(req.body_len) or req.chunked
        if req.chunked:
            chunk = parse.ChunkTracker()
            if self.cbuf:
                try:
                    chunk.feed(self.cbuf, 0, len(self.cbuf))
                except parse.ChunkError:
                    return self._bad_request(self.cbuf, 400)
            self.body_left = not chunk.done
        txn.waiter = self.waiter
        txn.interim = self.interim
        self.rq_info = info
        # tcp-request content, http-request rules of the frontend
        spec = fe.spec
        if self.fixed_be is not None:  # upgraded from mode tcp: no HTTP frontend processing
            if sess.stkctr is not None:
                stkctr.inc_http_req(sess)
            return self._to_backend(txn, req, info, self.fixed_be, chunk, t0)
        if spec.tcp_request_content and not hooks.tcp_content(spec.tcp_request_content, sess, txn):
            # refused before HAProxy's stream sees an HTTP request: logged "<BADREQ>", Tq -1
            fe.denied_req += 1
            sess.t_request = -1
            sess.method = None
            return self._end(txn, None, None, t0, "PR", False, False)
        if sess.stkctr is not None:  # http_wait_for_request(): one more request on the tracked counters
            stkctr.inc_http_req(sess)
        mon = cfg.monitor
        if mon is not None and req.uri == mon.uri:  # before the rules and the body (http_wait_for_request)
            return self._monitor(txn, mon.status(sess, txn), t0)
        if req.body_len or chunk is not None:  # option http-buffer-request waits before the rules
            chunk = self._wait_body(txn, info, chunk, bool(spec.options.get("http-buffer-request")))
            if chunk is False:
                return False
        if spec.http_request:
            self.rq_chunk = chunk
            v = hooks.http_request(spec.http_request, txn)
            chunk = self.rq_chunk  # a wait-for-body rule read more of the body
            if v is not None and v.kind != "allow":
                return self._verdict(txn, v, t0, None)
        if cfg.restrict is not None and not restrict_hdr_names(req.headers.items, cfg.restrict):  # after the rules, as HAProxy
            return self._verdict(txn, RESTRICT_DENY, t0, None)
        if spec.stats is not None and (done := self._stats(txn, info, chunk, t0, None)) is not None:
            return done
        if cfg.redirects is not None and (v := hooks.http_request(cfg.redirects, txn)) is not None:
            return self._verdict(txn, v, t0, None)  # the first matching 'redirect' rule answers
        be = hooks.select_backend(fe, sess, txn, self.handler.backends()) if spec.use_backends else fe.default_backend
        if be is None:
            return self._local_error(txn, 503, "SC", t0)
        return self._to_backend(txn, req, info, be, chunk, t0)

    def _to_backend(self, txn: Txn, req: Request, info: parse.ReqInfo, be: Any, chunk: Any, t0: float) -> bool:
        sess = self.sess
        sess.backend = be
        sess.backend_name = be.name
        self.be_held = be
        be.cur_sess += 1
        be.cum_sess += 1
        be.cum_req += 1
        be.sess_rate.add()
        be.last_sess = _time()
        if be.cur_sess > be.max_sess:
            be.max_sess = be.cur_sess
        return self._with_backend(txn, req, info, be, chunk, t0)

    def _with_backend(self, txn: Txn, req: Request, info: parse.ReqInfo, be: Any, chunk: Any, t0: float) -> bool:
        fe = self.fe
        sess = self.sess
        pc = self.pc
        if pc is None or self.pc_be is not be:
            pc = self.pc = self.handler.pair_cfg(fe, be)
            self.pc_be = be
        bspec = be.spec
        pr = be.persist  # use-server / force-persist / ignore-persist: the latter once the backend is known
        prst = persist.persist_flags(pr, sess, txn) if pr is not None and pr.prst else 0
        if bspec is not fe.spec and bspec.tcp_request_content and not hooks.tcp_content(
                bspec.tcp_request_content, sess, txn):
            # a backend's tcp-request content rules run for each request, before its
            # http-request rules; a refusal closes, counted on the frontend (haproxy 2.6)
            fe.denied_req += 1
            sess.t_request = -1
            sess.status = None
            return self._end(txn, be, None, t0, "PR", False, False)
        if bspec is not fe.spec and (req.body_len or chunk is not None):  # the backend's http-buffer-request
            chunk = self._wait_body(txn, info, chunk, bool(bspec.options.get("http-buffer-request")))
            if chunk is False:
                return False
        if bspec is not fe.spec and bspec.http_request:
            self.rq_chunk = chunk
            v = hooks.http_request(bspec.http_request, txn)
            chunk = self.rq_chunk  # a wait-for-body rule read more of the body
            if v is not None and v.kind != "allow":
                return self._verdict(txn, v, t0, be)
        if pc.restrict is not None and not restrict_hdr_names(req.headers.items, pc.restrict):
            return self._verdict(txn, RESTRICT_DENY, t0, be)
        if bspec is not fe.spec and bspec.stats is not None and (done := self._stats(txn, info, chunk, t0, be)) is not None:
            return done
        if pc.be_redirects is not None and (v := hooks.http_request(pc.be_redirects, txn)) is not None:
            return self._verdict(txn, v, t0, be)
        hdrs = req.headers
        # the unique id (after the rules, before X-Forwarded-For: http_process_request step 8)
        if fe.uid_render is not None:
            uid = sess.unique_id
            if uid is None:
                uid = sess.unique_id = fe.uid_render(sess, txn)
            if fe.uid_header is not None:
                hdrs.items.append((fe.uid_header, uid))
        # X-Forwarded-For / X-Original-To: a new last header line
        ff = pc.ff
        if (ff is not None and sess.cli_ip and sess.cli_ip != "unix" and not ff.skip(sess.cli_ip)
                and not (ff.if_none and hdrs.has(ff.header))):
            hdrs.items.append((ff.header.lower(), sess.cli_ip))
        ot = pc.ot
        if ot is not None and sess.fe_ip and sess.fe_ip != "unix" and not ot.skip(sess.cli_ip or ""):
            hdrs.items.append((ot.header.lower(), sess.fe_ip))
        cli_ka = self.ka_pref
        # the server side closes in close modes (frontend or backend), and for an HTTP/1.0
        # request whose framing forces the close (chunked): HAProxy's mux then announces no
        # keep-alive to the server
        srv_close = pc.mode != KAL or (info.force_close and not info.minor)
        upgrade = req.upgrade or req.method == "CONNECT"
        # use-server rules, cookie persistence, then the balancer
        if pr is None:
            forced = hooks.cookie_request(bspec.cookie, txn, be) if bspec.cookie is not None else None
        else:
            forced = persist.http_request(pr, prst, bspec.cookie, sess, txn, be)
        if bspec.cookie is not None:
            sess.term_cookie = hooks.cookie_flags(txn)
        if be.stick is not None:  # stick rules: after cookie persistence, before balancing
            stuck, txn.extra["_stick"] = stickrules.request(be.stick, sess, txn, forced, prst & persist.FORCE)
            if stuck is not None:
                forced = stuck
        direct = (1 | (prst & persist.FORCE) << 1) if forced is not None else 0  # SF_DIRECT, SF_FORCE_PRST
        if forced is None and bspec.options.get("prefer-last-server") and self.last_srv is not None:
            ls = self.last_srv
            if ls.backend is be and ls.usable() and not ls.is_full():
                forced = ls
        # the request head for the server
        head = _render_req(req, _srv_conn_header(srv_close, upgrade, pc.pretend_ka, info.minor))
        if pc.case_srv is not None:
            head = _recase(head, pc.case_srv)
        # body bytes already here
        body0 = b""
        cbuf = self.cbuf
        remaining = 0
        self.body_held = False
        if req.body_len:
            n = len(cbuf)
            if n >= req.body_len:
                body0 = cbuf[: req.body_len]
                self.cbuf = cbuf[req.body_len :]
            else:
                body0 = cbuf
                self.cbuf = b""
                remaining = req.body_len - n
        elif chunk is not None:
            # chunk was fed cbuf: forward() rebuilds trailers there as HAProxy does
            if chunk.done:
                k = _chunk_end(cbuf)
                body0, self.cbuf = chunk.forward(cbuf, 0, k), cbuf[k:]
            else:
                body0, self.cbuf = chunk.forward(cbuf, 0, len(cbuf)), b""
        if pc.buffer_req and (remaining or (chunk is not None and not chunk.done)):
            got = self._buffer_body(info, body0, remaining, chunk)
            if got is None:
                return False
            body0, remaining = got
        if chunk is not None and self.logging:
            sess.bytes_in += chunk.data + chunk.done
        else:
            sess.bytes_in += len(body0)
        # server connection
        sc, srv = self._connect(txn, req, be, pc, forced, direct)
        if sc is None:
            return self._srv_fail(txn, be, srv, t0)
        self.sc = sc
        self.last_srv = srv
        if pc.name_hdr is not None:  # http-send-name-header: known once the server is
            hdrs.delete(pc.name_hdr)
            hdrs.items.append((pc.name_hdr, srv.name))
            head = _render_req(req, _srv_conn_header(srv_close, upgrade, pc.pretend_ka, info.minor))
            if pc.case_srv is not None:
                head = _recase(head, pc.case_srv)
        t_sent = _monotonic()
        if sc.owner is not None and not remaining and (chunk is None or chunk.done):
            txn.extra["_body0"] = body0  # replayable on a fresh connection
        # send the head and what we have of the body
        t_server = txn.t_server or be.t_server  # http-request set-timeout server, else the backend's
        try:
            self._send_all(sc.sock, sc.w, head + body0 if body0 else head, t_server, "sD")
        except OSError:
            return self._srv_abort(txn, be, srv, t0, "SH", 502)
        except _Abort as e:
            return self._srv_abort(txn, be, srv, t0, e.term[0] + "H", 504 if e.term[0] == "s" else None)
        # request body relay (client -> server) while waiting for the response
        rq = None
        if remaining or (chunk is not None and not chunk.done):
            rq = BodyRelay(self, self.loop, self.cli, self.c_r, sc.sock, sc.w)
            if remaining:
                rq.remaining = remaining
            else:
                rq.chunk = chunk
                rq.data0 = chunk.data
            rq.t_src = self.cfg.t_client
            rq.t_dst = t_server
            rq.term_src, rq.term_dst = "cD", "sD"
            self.relays.append(rq)
            rq.start()
        return self._response(txn, req, info, be, srv, sc, pc, rq, t0, t_sent, cli_ka, srv_close, upgrade)

    # ------------------------------------------------------------ response
    def _response(self, txn: Txn, req: Request, info: parse.ReqInfo, be: Any, srv: Any, sc: SrvConn, pc: _PairCfg,
                  rq: BodyRelay | None, t0: float, t_sent: float, cli_ka: bool, srv_close: bool, upgrade: bool) -> bool:
        fe = self.fe
        sess = self.sess
        lim = self.handler.limits
        logging = self.logging
        t_server = txn.t_server or be.t_server  # http-request set-timeout server, else the backend's
        rbuf = b""
        deadline = (self.loop.now() + t_server) if t_server else 0.0
        while True:
            # ---- read a response head
            end = -1
            body_at = 0
            while True:
                if rbuf:
                    end = rbuf.find(b"\r\n\r\n")
                    if end >= 0 and rbuf.find(b"\n\n", 0, end) < 0:
                        body_at = end + 4
                        break
                    end, body_at = parse.head_end(rbuf)
                    if end >= 0:
                        break
                    if len(rbuf) > lim.maxreq:
                        return self._bad_response(txn, be, srv, t0)
                try:
                    r = self._wait(sc.r, deadline, "sH")
                except _Abort as e:
                    if e.term == "sH":
                        return self._srv_abort(txn, be, srv, t0, "sH", 504)
                    return self._srv_abort(txn, be, srv, t0, e.term[0] + "H", None)
                if r == _RELAY:
                    code = self.relay_codes.get(rq) if rq is not None else None
                    if code is not None and code != OK:
                        return self._req_relay_failed(txn, be, srv, t0, code)
                    continue
                try:
                    data = sc.sock.recv(_RECV)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    if not rbuf and self._may_retry_on_fresh(sc, rq):
                        return self._retry_fresh(txn, req, info, be, srv, pc, t0, cli_ka, srv_close, upgrade)
                    return self._srv_abort(txn, be, srv, t0, "SH", 502)
                rbuf = rbuf + data if rbuf else data
            t_rsp = _monotonic()
            try:
                rsp, rinfo = parse.parse_response(rbuf[:end], lim.maxhdr, pc.lax_rsp)
            except parse.ParseError:
                return self._bad_response(txn, be, srv, t0)
            if end > lim.htx_check and parse.htx_blocks(
                    rsp.version, "200", rsp.reason, rsp.headers.items) > lim.maxhead:
                return self._bad_response(txn, be, srv, t0)
            status = rsp.status
            if status < 200 or status == 204:
                # HAProxy's H1 mux never sends content-length/transfer-encoding with these
                rsp.headers.items = [kv for kv in rsp.headers.items
                                     if kv[0] != "content-length" and kv[0] != "transfer-encoding"]
            if status < 200 and status != 101:
                # interim response: forward it and wait for the final one
                out = _render_rsp(rsp, None)
                if self.cfg.case_cli is not None:
                    out = _recase(out, self.cfg.case_cli)
                if not self._send_client(out, _htx_size(rsp.version, str(status), rsp.reason, rsp.headers.items)
                                         if logging else len(out)):
                    return self._end(txn, be, srv, t0, "CH", False, False, from_srv=True)
                rbuf = rbuf[body_at:]
                continue
            break
        sess.t_response = int((t_rsp - t_sent) * 1000)
        txn.rsp = rsp
        txn.status = status
        if sess.stkctr is not None:  # a 4xx is an error, a 5xx (not 501/505) a failure
            stkctr.inc_for_status(sess, status)
        if be.stick is not None:  # the stores, with the server that answered
            stickrules.commit(be.stick, sess, txn, txn.extra.get("_stick", ()), srv)
        htx_head = _htx_size(rsp.version, str(status), rsp.reason, rsp.headers.items) if logging else 0
        cfg = self.cfg
        if cfg.caps:
            if cfg.cap_rsp is not None:
                sess.res_captures = _captures(rsp.headers, cfg.cap_rsp)
            if cfg.cap_cookie is not None:
                sess.cookie_res = _capture_cookie(rsp.headers, "set-cookie", cfg.cap_cookie)
        # ---- framing of the response body
        tunnel = False
        if status == 101:
            if not upgrade or (info.websocket and not rsp.headers.has("sec-websocket-accept")):
                return self._bad_response(txn, be, srv, t0)
            tunnel = True
        elif req.method == "CONNECT" and 200 <= status < 300:
            tunnel = True
        no_body = tunnel or req.method == "HEAD" or status in _NO_BODY_STATUS
        rconn = rinfo.conn
        srv_keep = not srv_close and not rinfo.force_close
        if rinfo.minor:
            if rconn is not None and rconn.close:
                srv_keep = False
        elif not (rconn is not None and rconn.keep_alive):
            srv_keep = False
        until_close = False
        rchunk = None
        if not no_body:
            if rsp.chunked:
                rchunk = parse.ChunkTracker()
            elif rsp.body_len is None:
                until_close = True
                srv_keep = False
                cli_ka = False
        body = rbuf[body_at:] if len(rbuf) > body_at else b""
        # ---- http-response rules: backend, then frontend; cookie; http-after-response
        if pc.rsp_hooks:
            bspec = be.spec
            ex = txn.extra
            # the body bytes held, for res.body* (a wait-for-body rule reads more: _wait_rsp_body)
            held = ex["res_body"] = (rsp, None if no_body else body)
            v = None
            if bspec.http_response:
                v = hooks.http_response(bspec.http_response, txn)
            if (v is None or v.kind == "allow") and fe.spec.http_response and fe.spec is not bspec:
                v = hooks.http_response(fe.spec.http_response, txn)
            if ex["res_body"] is not held:
                body = ex["res_body"][1]
            if v is not None and v.kind != "allow":
                if logging:  # HAProxy counts the refused response it received, then its page
                    sess.bytes_out += htx_head + len(body)
                sess.t_response = -1
                return self._response_verdict(txn, v, be, srv, t0)
            if bspec.cookie is not None:
                hooks.cookie_response(bspec.cookie, txn, srv)
                sess.term_cookie = hooks.cookie_flags(txn)
            if bspec.http_after_response or fe.spec.http_after_response:
                hooks.http_after_response(bspec.http_after_response, txn)
                if fe.spec is not bspec:
                    hooks.http_after_response(fe.spec.http_after_response, txn)
        # ---- the head (and the body bytes that came with it)
        if tunnel:
            hdr = None
        elif cli_ka:
            hdr = None if info.minor and rinfo.minor else "connection: keep-alive\r\n"
        else:
            hdr = "connection: close\r\n" if rinfo.minor else None
        out = _render_rsp(rsp, hdr)
        if cfg.case_cli is not None:
            out = _recase(out, cfg.case_cli)
        sess.status = status
        rrem = 0
        if tunnel:
            return self._tunnel(txn, be, srv, sc, out + body if body else out, t0, status,
                                (htx_head if logging else len(out)) + len(body))
        if no_body:
            if body:
                srv_keep = False  # junk after a bodyless response
                body = b""
        elif rsp.body_len is not None:
            if len(body) > rsp.body_len:
                srv_keep = False
                body = body[: rsp.body_len]
            rrem = rsp.body_len - len(body)
        elif rchunk is not None and body:
            try:
                k = rchunk.feed(body, 0, len(body))
            except parse.ChunkError:
                return self._bad_response(txn, be, srv, t0)
            if k < len(body):
                srv_keep = False  # bytes after the last chunk
            body = rchunk.forward(body, 0, k)
        if logging:
            count = htx_head + (len(body) if rchunk is None else rchunk.data + rchunk.done)
        else:
            count = len(out) + len(body)
        if not self._send_client(out + body if body else out, count):
            return self._end(txn, be, srv, t0, "CD", False, False, from_srv=True)
        # ---- response body relay (server -> client)
        if rrem or (rchunk is not None and not rchunk.done) or until_close:
            rs = BodyRelay(self, self.loop, sc.sock, sc.r, self.cli, self.c_w or self._client_w())
            if rrem:
                rs.remaining = rrem
            elif rchunk is not None:
                rs.chunk = rchunk
                rs.data0 = rchunk.data
            else:
                rs.until_close = True
            rs.t_src = t_server
            rs.t_dst = cfg.t_client
            rs.term_src, rs.term_dst = "sD", "cD"
            self.relays.append(rs)
            rs.start()
            code = None
            while code is None:
                try:
                    self._block()
                except _Abort as e:
                    sess.bytes_out += rs.nbytes
                    return self._end(txn, be, srv, t0, e.term, False, False, from_srv=True)
                if rq is not None and self.relay_codes.get(rq, OK) != OK:
                    sess.bytes_out += rs.nbytes
                    rs.stop()
                    return self._req_relay_failed(txn, be, srv, t0, self.relay_codes[rq], sent=True)
                code = self.relay_codes.get(rs)
            if rchunk is not None and logging:
                sess.bytes_out += rchunk.data - rs.data0 + rchunk.done
            else:
                sess.bytes_out += rs.nbytes
            if code != OK:
                return self._end(txn, be, srv, t0, _relay_term(code, "S", "C"), False, False, from_srv=True)
            if rs.leftover:
                srv_keep = False
        # ---- the request body must be through too
        if rq is not None:
            code = self.relay_codes.get(rq)
            if code is None:
                # the response is complete but the request is not: close both sides
                rq.stop()
                cli_ka = srv_keep = False
            elif code != OK:
                cli_ka = srv_keep = False
            self._count_req_body(rq)
            if rq.leftover:
                self.cbuf = rq.leftover + self.cbuf
        return self._end(txn, be, srv, t0, "--", cli_ka, srv_keep, from_srv=True)

    def _count_req_body(self, rq: BodyRelay) -> None:
        if rq.chunk is not None and self.logging:
            self.sess.bytes_in += rq.chunk.data - rq.data0 + rq.chunk.done
        else:
            self.sess.bytes_in += rq.nbytes

    # ------------------------------------------------------------ endings
    def _end(self, txn: Txn | None, be: Any, srv: Any, t0: float, term: str, cli_ka: bool, srv_keep: bool,
             from_srv: bool = False) -> bool:
        sess = self.sess
        fe = self.fe
        if self.relays:
            for r in self.relays:
                if r.active:
                    r.stop()
            self.relays = []
            self.relay_codes.clear()
        sc = self.sc
        if sc is not None:
            self.sc = None
            keep = srv_keep and term == "--"
            _release_conn(sc, self if keep else None, keep, keep and self.pc is not None and self.pc.reuse == "never")
            if keep and sc not in self.owned:
                self.owned.append(sc)
                if len(self.owned) > 8:
                    del self.owned[0]
        if self.body_held:
            # answered locally: a body that is all here is not the next request
            self.body_held = False
            if not self.body_left and txn is not None:
                n = txn.req.body_len
                self.cbuf = self.cbuf[n:] if n else self.cbuf[_chunk_end(self.cbuf):]
        if sess.killed and term == "--":
            term = sess.killed + "D"
        sess.term = term
        now = _monotonic()
        sess.t_active = int((now - t0) * 1000)
        sess.t_total = int((now - sess.accept_mono) * 1000)
        status = sess.status
        if be is None:
            be = sess.backend
        if status is not None:
            idx = hrsp_index(status)
            fe.hrsp[idx] += 1
            if be is not None:
                be.hrsp[idx] += 1
                if srv is not None and from_srv:
                    srv.hrsp[idx] += 1
                    if sess.t_response >= 0:
                        be.timings.add(sess.t_queue, sess.t_connect, sess.t_response, sess.t_total)
                        srv.timings.add(sess.t_queue, sess.t_connect, sess.t_response, sess.t_total)
        if term != "--":
            if term[0] == "C":
                if be is not None:
                    be.cli_aborts += 1
                if srv is not None:
                    srv.cli_aborts += 1
            elif term[0] == "S":
                if be is not None:
                    be.srv_aborts += 1
                if srv is not None:
                    srv.srv_aborts += 1
        if srv is not None:
            self._release_slot(be, srv)
        held = self.be_held
        if held is not None:
            self.be_held = None
            held.cur_sess -= 1
        fe.bytes_in += sess.bytes_in
        fe.bytes_out += sess.bytes_out
        lst = self.listener
        lst.bytes_in += sess.bytes_in
        lst.bytes_out += sess.bytes_out
        if self.logging:
            if txn is not None and txn.log_level is not None:
                sess.log_level = txn.log_level
            self.process.log_session(fe, sess)
        if sess.stkctr is not None:
            if not from_srv and (status == 502 or status == 504) and term[1:2] in ("H", "D"):
                stkctr.inc_http_fail(sess)  # a server failure answered by the proxy
            stkctr.end_stream(sess, sess.bytes_in, sess.bytes_out)  # stream_store_counters()
        if not cli_ka or term[0] != "-" and term[0] != "L" and term != "PR":
            return False
        return not sess.killed

    def _release_slot(self, be: Any, srv: Any) -> None:
        sess = self.sess
        if sess not in srv.sessions:
            return
        srv.sessions.discard(sess)
        srv.cur_sess -= 1
        srv.bytes_in += sess.bytes_in
        srv.bytes_out += sess.bytes_out
        be.bytes_in += sess.bytes_in
        be.bytes_out += sess.bytes_out
        be.lb.released(srv)
        be.slot_freed(srv)

    def _send_reply(self, txn: Txn, rep: errors.Reply, cli_ka: bool, extra: list[tuple[str, str]] | None = None,
                    status: int = 0) -> bool:
        """Send a generated response (after http-after-response rules); returns keep-alive."""
        fe = self.fe
        sess = self.sess
        rep = errors.bind(rep, txn)  # an http-error page with log-format parts, for this transaction
        be = sess.backend
        rules_after = (be.spec.http_after_response if be is not None else None) or fe.spec.http_after_response
        if rules_after:
            rsp = Response(rep.status, rep.reason, f"HTTP/1.{rep.minor}",
                           Headers(list(rep.headers) + list(extra or ())))
            txn.rsp = rsp
            txn.extra["res_body"] = (rsp, rep.body)  # res.body* of a generated page: the page
            if be is not None:
                hooks.http_after_response(be.spec.http_after_response, txn)
            if be is None or fe.spec is not be.spec:
                hooks.http_after_response(fe.spec.http_after_response, txn)
            rep = errors.Reply(rsp.status, rsp.reason, rsp.headers.items, rep.body, rep.minor, rep.close, rep.has_len)
            extra = None
        head_only = txn.req.method == "HEAD"
        data, ka = rep.render(cli_ka, self.minor, head_only, extra)
        if self.cfg.case_cli is not None:
            data = _recase(data, self.cfg.case_cli)
        sess.status = status or rep.status
        if not data:
            count = 0  # an empty errorfile: nothing sent, HAProxy logs 0 bytes
        elif self.logging:
            items = rep.headers if not extra else list(rep.headers) + extra
            count = _htx_size("HTTP/1.x", "xxx", rep.reason, items) + (0 if head_only else len(rep.body))
        else:
            count = len(data)
        if not self._send_client(data, count):
            return False
        return ka

    def _local_error(self, txn: Txn, status: int, term: str, t0: float) -> bool:
        rep = errors.reply(status, None, self.fe.spec, txn)
        ka = self._send_reply(txn, rep, self.ka_pref and self._body_consumed(), status=status)
        return self._end(txn, None, None, t0, term, ka, False)

    def _srv_fail(self, txn: Txn, be: Any, srv: Any, t0: float) -> bool:
        """No server connection: 503 (queue timeout, refused, connect timeout, no server)."""
        sess = self.sess
        rep = errors.reply(503, be.spec, self.fe.spec, txn)
        ka = self._send_reply(txn, rep, self.ka_pref and self._body_consumed(), status=503)
        if sess.term == "--":
            sess.term = "SC"
        return self._end_error(txn, be, srv, t0, sess.term, ka)

    def _end_error(self, txn: Txn, be: Any, srv: Any, t0: float, term: str, ka: bool) -> bool:
        """End a transaction that failed server-side after an error page; HAProxy keeps the
        client connection when the page allows it."""
        sess = self.sess
        self._end(txn, be, srv if srv is not None and sess in srv.sessions else None, t0, term, False, False,
                  from_srv=False)
        return ka and not sess.killed and not self.process.stopping

    def _srv_abort(self, txn: Txn, be: Any, srv: Any, t0: float, term: str, status: int | None) -> bool:
        """The server failed before a response head was sent to the client."""
        if status is None:
            return self._end(txn, be, srv, t0, term, False, False)
        be.failed_resp += 1
        if srv is not None:
            srv.failed_resp += 1
        rep = errors.reply(status, be.spec, self.fe.spec, txn)
        ka = self._send_reply(txn, rep, self.ka_pref and self.req_done(), status=status)
        return self._end_error(txn, be, srv, t0, term, ka)

    def req_done(self) -> bool:
        """The request body went through entirely (so the next request can be read)."""
        for r in self.relays:
            if r.src is self.cli and self.relay_codes.get(r) != OK:
                return False
        return True

    def _bad_response(self, txn: Txn, be: Any, srv: Any, t0: float) -> bool:
        self.sess.t_response = -1
        return self._srv_abort(txn, be, srv, t0, "PH", 502)

    def _req_relay_failed(self, txn: Txn, be: Any, srv: Any, t0: float, code: int, sent: bool = False) -> bool:
        if code == BAD_CHUNK:
            self.fe.failed_req += 1
            if not sent:
                self._raw_error(errors.RAW_400)
                self.sess.status = 400
            return self._end(txn, be, srv, t0, "PD", False, False)
        if code == DST_ERR and not sent:
            return self._srv_abort(txn, be, srv, t0, "SD", 502)
        # client aborted or timed out while sending its body
        return self._end(txn, be, srv, t0, "CD" if code != DST_ERR else "SD", False, False)

    # ------------------------------------------------------------ rules verdicts
    def _verdict(self, txn: Txn, v: Any, t0: float, be: Any) -> bool:
        fe = self.fe
        kind = v.kind
        cli_ka = self.ka_pref
        # HAProxy counts a denied request on the frontend, and on the backend too when the
        # rule was one of a backend's (SF_BE_ASSIGNED); 'reject' counts s->be instead: that
        # backend, or the proxy itself for its own frontend rules (a listen's BACKEND row)
        be_rule = be is not None and be.spec is not fe.spec
        counters = (fe, be) if be_rule else (fe,)
        sess = self.sess
        if kind == "wait-abort":
            return self._wait_aborted(txn, v, t0, be, None)
        if sess.stkctr is not None and (kind == "deny" or kind == "tarpit" or kind == "auth"):
            stkctr.inc_http_err(sess)
        if kind == "silent-drop":
            # tcp_exec_action_silent_drop(): no response at all; the backend counts it
            # only for its own rules (SF_BE_ASSIGNED)
            for c in counters:
                c.denied_req += 1
            self._silent_drop()
            sess.t_request = -1
            return self._end(txn, be, None, t0, "PR", False, False)
        if kind == "reject":
            s_be = be if be_rule else (self.handler.backends().get(fe.name) if fe.spec.kind == "listen" else None)
            fe.denied_req += 1
            if s_be is not None and s_be is not fe:
                s_be.denied_req += 1
            sess.t_request = -1
            return self._end(txn, be, None, t0, "PR", False, False)
        if kind == "tarpit":
            # HAProxy logs the tarpit hold as the queue time, with no request time
            for c in counters:
                c.denied_req += 1
            sess.t_request = -1
            t = (be.spec if be is not None else fe.spec).timeouts.get("tarpit") or fe.spec.timeouts.get("connect", 0)
            tq = _monotonic()
            try:
                self._sleep(t / 1000.0)
            except _Abort as e:
                return self._end(txn, be, None, t0, e.term[0] + "T", False, False)
            sess.t_queue = int((_monotonic() - tq) * 1000)
            rep = _verdict_reply(v, be, fe, default=500)
            ka = self._send_reply(txn, rep, cli_ka and self._body_consumed(), status=getattr(v, "status", 0) or 500)
            self._end(txn, be, None, t0, "PT", False, False)
            return ka and not sess.killed
        if kind == "use-service":
            fn = hooks.service(getattr(v, "service", None) or getattr(v, "name", ""))
            if fn is None:
                rep = errors.reply(500, None, fe.spec)
                self._send_reply(txn, rep, False)
                return self._end(txn, be, None, t0, "PR", False, False)
            status, headers, body = fn(self.process, txn)
            rep = errors.Reply(status, _reason(status), [(k.lower(), str(val)) for k, val in headers] +
                               [("content-length", str(len(body)))], body)
            fe.intercepted += 1
            sess = self.sess
            name = getattr(v, "service", None) or ""
            sess.server_name = "<PROMEX>" if name == "prometheus-exporter" else f"<{name.upper()}>"
            sess.t_queue = sess.t_connect = sess.t_response = 0
            ka = self._send_reply(txn, rep, cli_ka)
            return self._end(txn, be, None, t0, "LR", ka, False)  # an applet answered: HAProxy logs LR--
        rep = _verdict_reply(v, be, fe)
        if kind == "deny":
            for c in counters:
                c.denied_req += 1
            term = "PR"
        else:
            fe.intercepted += 1
            term = "LR"
        ka = self._send_reply(txn, rep, cli_ka and self._body_consumed(), status=getattr(v, "status", 0) or 0)
        return self._end(txn, be, None, t0, term, ka, False)

    def _silent_drop(self) -> None:
        """Make the client socket vanish: in TCP repair mode (needs CAP_NET_ADMIN) closing
        it sends nothing; else a reset with a TTL of 1 (no linger), as HAProxy does."""
        cli = self.cli
        try:
            cli.setsockopt(IPPROTO_TCP, _TCP_REPAIR, 1)
            return
        except OSError:
            pass
        try:
            if cli.family == _socket.AF_INET:
                cli.setsockopt(_socket.IPPROTO_IP, _socket.IP_TTL, 1)
            elif cli.family == _socket.AF_INET6:
                cli.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_UNICAST_HOPS, 1)
            cli.setsockopt(SOL_SOCKET, _socket.SO_LINGER, _LINGER_OFF)
        except OSError:
            pass

    def _monitor(self, txn: Txn, status: int, t0: float) -> bool:
        """The monitor-uri answer: HAProxy's 200 (or 503) page, keep-alive when the body
        is all here, counted as an intercepted request and never logged."""
        self.fe.intercepted += 1
        txn.log_level = "silent"
        rep = errors.reply(status, None, self.fe.spec, txn)
        ka = self._send_reply(txn, rep, self.ka_pref and self._body_consumed(), status=status)
        return self._end(txn, None, None, t0, "LR", ka, False)

    def _stats(self, txn: Txn, info: parse.ReqInfo, chunk: Any, t0: float, be: Any) -> bool | None:
        """The stats page of ``be`` (None: of the frontend) if the request is for it, else None."""
        from ..stats import page

        spec = (be if be is not None else self.fe).spec
        if not page.is_stats_request(spec, txn):
            return None
        req, sess, cbuf, body = txn.req, self.sess, self.cbuf, b""
        if req.body_len or chunk is not None:  # the applet eats the body (a POST's form)
            self.body_held = False
            n = req.body_len or 0
            if chunk is None:
                body, self.cbuf, left = cbuf[:n], cbuf[n:], max(0, n - len(cbuf))
            else:
                k = _chunk_end(cbuf) if chunk.done else len(cbuf)
                body, self.cbuf, left = cbuf[:k], cbuf[k:], 0
            got = self._buffer_body(info, body, left, chunk)
            if got is None:
                return False
            body, left = got
            self.body_left = bool(left) or (chunk is not None and not chunk.done)
            txn.extra[page.BODY_EXCD] = self.body_left
            body = page.dechunk(body) if chunk is not None else body
        status, headers, data = page.serve(self.process, spec, txn, body)
        sess.server_name = "<STATS>"
        sess.t_queue = sess.t_connect = 0
        sess.t_response = 0 if txn.extra.get("stats_applet") else -1
        if be is None:
            self.fe.intercepted += 1
        rep = errors.Reply(status, _reason(status), [*headers, ("content-length", str(len(data)))], data)
        ka = self._send_reply(txn, rep, self.ka_pref and not self.body_left, status=status)
        return self._end(txn, be, None, t0, txn.extra.get("stats_term", "LR"), ka, False)

    def _body_consumed(self) -> bool:
        """Before a locally generated answer: is the request body already all read (else the
        connection closes after the answer)?"""
        return not self.body_left

    def _response_verdict(self, txn: Txn, v: Any, be: Any, srv: Any, t0: float) -> bool:
        fe = self.fe
        kind = v.kind
        if kind == "wait-abort":
            return self._wait_aborted(txn, v, t0, be, srv)
        if kind == "reject":
            fe.denied_resp += 1
            be.denied_resp += 1
            if srv is not None:
                srv.denied_resp += 1
            return self._end(txn, be, srv, t0, "PH", False, False)
        if kind == "deny":
            fe.denied_resp += 1
            be.denied_resp += 1
            if srv is not None:
                srv.denied_resp += 1
            rep = _verdict_reply(v, be, fe, default=502)
            ka = self._send_reply(txn, rep, self.ka_pref and self.req_done())
            return self._end_error(txn, be, srv, t0, "PH", ka)
        rep = _verdict_reply(v, be, fe)
        fe.intercepted += 1
        ka = self._send_reply(txn, rep, self.ka_pref and self.req_done())
        return self._end_error(txn, be, srv, t0, "LH", ka)

    def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        t = self.loop.timer(seconds)
        self._wait(t, 0.0, "")

    # ------------------------------------------------------------ buffering
    def _wait_body(self, txn: Txn, info: parse.ReqInfo, chunk: Any, wait: bool, until: float = -1.0,
                   at_least: int = 0) -> Any:
        """Before a proxy's http-request rules, for a request with a body.  With ``wait``
        (its ``option http-buffer-request``, or a ``wait-for-body`` rule: ``until`` and
        ``at_least`` as for ``_buffer_body``) do what HAProxy does first: answer
        ``Expect: 100-continue`` (HTTP/1.1) and drop that header, then read the body into
        ``self.cbuf`` up to a buffer; the wait counts in the request time (%TR), as
        HAProxy's.  Then expose the body bytes held to the body sample fetches
        (``txn.extra["req_body"]``, read by ``body.py``).  Returns the chunk tracker to go
        on with (a fresh one over the new ``self.cbuf``), or False when the client failed
        (already answered and logged)."""
        req = txn.req
        if wait:
            if info.expect_100 and info.minor:
                if not self._send_client(_CONTINUE, 0):
                    return False
                info.expect_100 = False
                req.headers.delete("expect")
            if self.body_left:
                cbuf = self.cbuf
                t_wait = _monotonic()
                if chunk is None:
                    got = self._buffer_body(info, cbuf, req.body_len - len(cbuf), None, until, at_least)
                    if got is None:
                        return False
                    self.cbuf = got[0]
                    self.body_left = got[1] > 0
                else:
                    got = self._buffer_body(info, chunk.forward(cbuf, 0, len(cbuf)), 0, chunk, until, at_least)
                    if got is None:
                        return False
                    # _buffer_body left the bytes after the body in self.cbuf once done
                    self.cbuf = got[0] + self.cbuf if chunk.done else got[0]
                    chunk = parse.ChunkTracker()
                    chunk.feed(self.cbuf, 0, len(self.cbuf))
                    self.body_left = not chunk.done
                if self.sess.t_request >= 0:
                    self.sess.t_request += int((_monotonic() - t_wait) * 1000)
        txn.extra["req_body"] = self.cbuf
        return chunk

    def _buffer_body(self, info: parse.ReqInfo, body0: bytes, remaining: int, chunk: Any, until: float = -1.0,
                     at_least: int = 0) -> tuple[bytes, int] | None:
        """Wait for the request body (up to a buffer) before going on.

        ``option http-buffer-request`` (``until`` -1): ``timeout http-request`` counts from
        now; a failing client is answered and logged here (None is returned).  A
        ``wait-for-body`` rule: ``until`` is its deadline on the loop clock (0: none) and
        ``at_least`` payload bytes are enough; a timeout raises ``_Abort("cR")`` and a
        client that closes ``_Abort("CR")``, for the rule's verdict.  The client's
        inactivity timeout applies to both.  Returns (the body bytes held, Content-Length
        bytes still to come)."""
        lim = self.handler.limits
        if info.expect_100 and not self._send_client(_CONTINUE, 0):
            return None
        rule = until >= 0
        if not rule:
            t = self.cfg.t_req
            until = (self.loop.now() + t) if t else 0.0
        t_cli = self.cfg.t_client
        buf = body0
        while (remaining > 0 or (chunk is not None and not chunk.done)) and len(buf) < lim.maxreq:
            if at_least and (chunk.data if chunk is not None else len(buf)) >= at_least:
                break
            deadline = until
            if t_cli and (not deadline or self.loop.now() + t_cli < deadline):
                deadline = self.loop.now() + t_cli
            try:
                self._wait(self.c_r, deadline, "cR")
                want = min(remaining, _RECV) if remaining else _RECV
                data = self.cli.recv(want)
            except _Abort as e:
                if rule:
                    raise
                if e.term == "cR" and self.sess.txn is not None:
                    # the request is there: HAProxy answers with the proxy's 408 page
                    # (http_reply_and_close), logs the request, as a wait-for-body rule
                    self._wait_aborted(self.sess.txn, _WaitAbort(408, "cR"), self.t_start, None, None)
                    return None
                self._raw_error(errors.RAW_408)
                self._log_early(408, e.term[0] + "R")
                return None
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                if rule:
                    raise _Abort("CR")
                self._raw_error(errors.RAW_400)
                self._log_early(400, "CR")
                return None
            if chunk is not None:
                try:
                    k = chunk.feed(data, 0, len(data))
                except parse.ChunkError:
                    self._bad_request(buf + data, 400)
                    return None
                if chunk.done:
                    self.cbuf = data[k:]
                data = chunk.forward(data, 0, k)
            else:
                remaining -= len(data)
            buf += data
        return buf, remaining

    # ------------------------------------------------------------ early hints
    def _send_interim(self, items: list[tuple[str, str]]) -> None:
        """``Txn.interim``: an ``http-request early-hint`` 103 for the client, sent now
        (HAProxy forwards it at once); the log counts its HTX size in ``%B``."""
        out = _render_head("HTTP/1.1 103 Early Hints\r\n", items, None)
        if self.cfg.case_cli is not None:
            out = _recase(out, self.cfg.case_cli)
        self._send_client(out, _htx_size("HTTP/1.1", "103", "Early Hints", items) if self.logging else len(out))

    # ------------------------------------------------------------ wait-for-body rules
    def _rule_wait(self, txn: Txn, side: str, time_ms: int, at_least: int) -> _WaitAbort | None:
        """``Txn.waiter``: a ``wait-for-body`` rule wants the body (``side`` 'req' or
        'res') within ``time_ms`` (0: no limit but the peer's inactivity timeout), complete
        or ``at_least`` payload bytes of it or a buffer full.  Returns None to go on with
        the rules, or the verdict that ends them."""
        until = (self.loop.now() + time_ms / 1000.0) if time_ms else 0.0
        if side == "req":
            return self._wait_req_body(txn, until, at_least)
        return self._wait_rsp_body(txn, until, at_least)

    def _wait_req_body(self, txn: Txn, until: float, at_least: int) -> _WaitAbort | None:
        req = txn.req
        info = self.rq_info
        if info is None or not (req.body_len or req.chunked) or req.method == "CONNECT":
            return None
        t_wait = _monotonic()
        try:
            chunk = self._wait_body(txn, info, self.rq_chunk, True, until, at_least)
        except _Abort as e:
            # HAProxy: the request did not come in time (or 'timeout client' struck): 408;
            # the client closed: the stream ends without an answer
            if e.term == "cR":
                return _WaitAbort(408, "cR")
            self.sess.t_request += int((_monotonic() - t_wait) * 1000)
            return _WaitAbort(0, e.term if e.term[0] == "C" else e.term[0] + "R")
        if chunk is False:
            return _WaitAbort(-1, "")
        self.rq_chunk = chunk
        return None

    def _wait_rsp_body(self, txn: Txn, until: float, at_least: int) -> _WaitAbort | None:
        """Read more of the response body into ``txn.extra["res_body"]`` (see _response):
        until it is complete, ``at_least`` payload bytes or a buffer are held, or the
        server closes (the rules then go on with what came, as HAProxy's)."""
        ex = txn.extra
        held = ex.get("res_body")
        sc = self.sc
        rsp = txn.rsp
        if held is None or held[1] is None or held[0] is not rsp or sc is None:
            return None
        raw = held[1]
        cl = rsp.body_len
        tracker = None
        if rsp.chunked:
            tracker = parse.ChunkTracker()
            try:
                tracker.feed(raw, 0, len(raw))
            except parse.ChunkError:
                return None  # refused once the rules are done
        room = body_mod.room_for(rsp, self.handler.limits.maxhead)
        be = self.sess.backend
        t_srv = txn.t_server or (be.t_server if be is not None else 0)
        parts = [raw]
        n = len(raw)
        while True:
            if tracker is not None:
                if tracker.done:
                    break
                payload = tracker.data
            elif cl is not None:
                if n >= cl:
                    break
                payload = n
            else:
                payload = n  # until the server closes
            if payload >= room or (at_least and payload >= at_least):
                break
            deadline = until
            if t_srv and (not deadline or self.loop.now() + t_srv < deadline):
                deadline = self.loop.now() + t_srv
            try:
                if self._wait(sc.r, deadline, "sR") != _READY:
                    continue  # a request body relay finished: dealt with after the rules
                data = sc.sock.recv(_RECV)
            except _Abort as e:
                # HAProxy: 504 when the body did not come in time ('timeout server' too)
                if e.term == "sR":
                    return _WaitAbort(504, "sR")
                return _WaitAbort(0, e.term if e.term[0] in "cCsS" else e.term[0] + "R")
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                break  # the server closed: what came is all there is
            if tracker is not None:
                try:
                    tracker.feed(data, 0, len(data))
                except parse.ChunkError:
                    parts.append(data)
                    break  # refused once the rules are done
            parts.append(data)
            n += len(data)
        if len(parts) > 1:
            ex["res_body"] = (rsp, b"".join(parts))
        return None

    def _wait_aborted(self, txn: Txn, v: _WaitAbort, t0: float, be: Any, srv: Any) -> bool:
        """End a transaction whose ``wait-for-body`` rule gave up (``_rule_wait``)."""
        sess = self.sess
        fe = self.fe
        if v.status < 0:
            return False  # answered and logged
        if v.status == 0:
            if srv is not None:
                sess.t_response = -1
            return self._end(txn, be, srv, t0, v.term, False, False)
        if srv is None:  # the request: http_reply_and_close() with HAProxy's 408 page
            fe.failed_req += 1
            sess.t_request = -1
            rep = errors.reply(408, be.spec if be is not None else None, fe.spec, txn)
            sent = sess.bytes_out
            self._send_reply(txn, rep, False, status=408)
            if self.logging and sess.bytes_out != sent:
                # http_reply_and_close() puts "connection: close" in the message: counted
                sess.bytes_out += len("connection") + len("close")
            return self._end(txn, be, None, t0, v.term, False, False)
        # the response: 504, the client connection stays if the request was all read
        rep = errors.reply(504, be.spec, fe.spec, txn)
        ka = self._send_reply(txn, rep, self.ka_pref and self.req_done(), status=504)
        return self._end_error(txn, be, srv, t0, v.term, ka)

    # ------------------------------------------------------------ tunnel
    def _tunnel(self, txn: Txn, be: Any, srv: Any, sc: SrvConn, first_to_cli: bytes, t0: float, status: int,
                count: int) -> bool:
        sess = self.sess
        hub = self.hub
        waiter_val: list[str] = []

        def done(term: str) -> None:
            waiter_val.append(term)
            if self.waiting:
                self.waiting = False
                if getcurrent() is hub:
                    self.gswitch(_RELAY)
                else:
                    hub.loop.run_callback(self.gswitch, _RELAY)

        sc.r.stop()
        sc.w.stop()
        self.c_r.stop()
        if self.c_w is not None:
            self.c_w.stop()
        p = Pump(self.cli, sc.sock, done)
        t_tunnel = txn.t_tunnel or be.t_tunnel  # http-request set-timeout tunnel, else the backend's
        if t_tunnel:
            p.t_client = p.t_server = t_tunnel
        else:
            p.t_client = self.cfg.t_client
            p.t_server = txn.t_server or be.t_server
        p.t_client_fin = self.fe.t_client_fin
        p.t_server_fin = be.t_server_fin
        if p.t_client or p.t_server:
            SWEEPER.add(p)
        sess.status = status
        first_to_srv = self.cbuf
        p.start(first_to_srv=first_to_srv, first_to_cli=first_to_cli)
        self.cbuf = b""
        sess.pump = p
        try:
            while not waiter_val:
                self.waiting = True
                try:
                    hub.switch()
                finally:
                    self.waiting = False
        finally:
            if not p.done:
                p.on_done = _ignore
                p.finish("KD")
            sess.pump = self
        sess.bytes_in += p.bytes_in + len(first_to_srv)
        sess.bytes_out += p.bytes_out + count
        term = waiter_val[0] if waiter_val else "--"
        if sess.killed:
            term = sess.killed + "D"
        return self._end(txn, be, srv, t0, term, False, False, from_srv=True)

    # ------------------------------------------------------------ server connections
    def _connect(self, txn: Txn, req: Request, be: Any, pc: _PairCfg, forced: Any,
                 direct: int = 0) -> tuple[SrvConn | None, Any]:
        """A server connection for this request: idle (reuse) or new, with the queue,
        retries and redispatch of ``tcp.TcpSessions.connect``.  (None, srv) on failure
        with ``sess.term`` set."""
        sess = self.sess
        first = self.nreq == 1
        t0 = _monotonic()
        ctx = None
        prev = None
        attempt = 0
        srv = forced
        if srv is not None and srv.is_full():  # persistence names a full server: its queue
            srv = self.process.tcp.srv_queue(sess, be, srv)
            if srv is None:
                return None, None
        while True:
            if srv is None:
                if ctx is None:
                    if be.lb.needs_key:
                        ctx = PickCtx(src=sess.cli_ip or "", uri=req.uri, headers=req.headers,
                                      extra={"method": req.method})
                    else:  # round robin & co look at nothing
                        ctx = _NO_CTX
                srv = self.process.tcp.pick(sess, be, ctx, prev)
                if srv is AGAIN:
                    srv = None
                    continue
                if srv is None:
                    return None, None
                if prev is not None and srv is not prev and txn.extra.get("cookie_req") == "V":
                    txn.extra["cookie_req"] = "D"  # redispatched away from the cookie's server
                    sess.term_cookie = hooks.cookie_flags(txn)
            if sess.t_queue < 0:
                sess.t_queue = int((_monotonic() - t0) * 1000)
            self._take(be, srv)
            # an idle connection to this server?
            st = _STATES.get(srv)
            sc = _take_idle(st, self, pc.reuse, first) if st is not None and st.idle else None
            if sc is not None:
                be.reuses += 1
                srv.reuses += 1
                sess.t_connect = 0
                sess.be_ip, sess.be_port = sc.laddr
                return sc, srv
            tc = _monotonic()
            be.connect_attempts += 1
            srv.connect_attempts += 1
            try:
                sc = self._connect_sock(srv, be.t_connect)
            except _Abort as a:  # killed while connecting
                self._release_slot(be, srv)
                sess.term = a.term[0] + "C"
                return None, srv
            except ConnectFailed as e:
                self._release_slot(be, srv)
                attempt += 1
                nxt, redisp = connect_failed(sess, be, srv, attempt, e, direct)
                if nxt == RETRY_GIVE_UP:
                    return None, srv
                prev = srv
                if redisp:
                    txn.extra["cookie_direct"] = False
                    srv = None
                    direct = 0
                if nxt == RETRY_PAUSE:
                    try:
                        self._sleep(min(be.t_connect or 1.0, 1.0))
                    except _Abort as a:
                        sess.term = a.term[0] + "C"
                        return None, None
                continue
            sess.t_connect = int((_monotonic() - tc) * 1000)
            _count_new(srv)
            sess.be_ip, sess.be_port = sc.laddr
            return sc, srv

    def _connect_sock(self, srv: Any, timeout: float) -> SrvConn:
        """Non-blocking connect by resolved address, waiting on the new connection's own
        write watcher (``timeout connect`` is a sweeper deadline).  Raises ConnectFailed."""
        sock = _socket.socket(srv.family, _socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            if srv.family != _socket.AF_UNIX:
                sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
            err = sock.connect_ex(srv.sockaddr)
            sc = SrvConn(sock, srv, self.loop)
        except BaseException:
            sock.close()
            raise
        if err in _IN_PROGRESS:
            try:
                self._wait(sc.w, (self.loop.now() + timeout) if timeout else 0.0, "sC")
            except _Abort as e:
                sc.close()
                if e.term == "sC":
                    raise ConnectFailed(True) from None
                raise
            except BaseException:
                sc.close()
                raise
            err = sock.getsockopt(SOL_SOCKET, SO_ERROR)
        if err:
            sc.close()
            raise ConnectFailed(False, err)
        if sc.laddr[0] is None:
            try:
                la = sock.getsockname()
                if isinstance(la, tuple):
                    sc.laddr = (la[0], la[1])
            except OSError:
                pass
        return sc

    def _take(self, be: Any, srv: Any) -> None:
        sess = self.sess
        sess.server = srv
        sess.server_name = srv.name
        sess.srv_ip, sess.srv_port = srv.sockaddr[0] if srv.family != _socket.AF_UNIX else "unix", srv.port
        srv.cur_sess += 1
        srv.cum_sess += 1
        srv.cum_lbconn += 1
        srv.sess_rate.add()
        srv.last_sess = _time()
        be.cum_lbconn += 1
        if srv.cur_sess > srv.max_sess:
            srv.max_sess = srv.cur_sess
        srv.sessions.add(sess)
        be.lb.taken(srv)

    def _may_retry_on_fresh(self, sc: SrvConn, rq: BodyRelay | None) -> bool:
        """A reused idle connection closed by the server before answering: replayable?"""
        return sc.owner is not None and rq is None and sc is self.sc and self.sess.t_connect == 0

    def _retry_fresh(self, txn: Txn, req: Request, info: parse.ReqInfo, be: Any, srv: Any, pc: _PairCfg, t0: float,
                     cli_ka: bool, srv_close: bool, upgrade: bool) -> bool:
        sc = self.sc
        self.sc = None
        if sc is not None:
            _release_conn(sc, None, False)
        sess = self.sess
        tc = _monotonic()
        try:
            sock = connect_server(srv, be.t_connect)
        except ConnectFailed as e:
            srv.failed_conns += 1
            be.failed_conns += 1
            sess.term = "sC" if e.timeout else "SC"
            return self._srv_fail(txn, be, srv, t0)
        sess.t_connect = int((_monotonic() - tc) * 1000)
        sc = SrvConn(sock, srv, self.loop)
        sc.owner = None
        _count_new(srv)
        self.sc = sc
        extra = None
        if srv_close and not upgrade:
            if not pc.pretend_ka and info.minor:
                extra = "connection: close\r\n"
        elif info.minor == 0 and not upgrade:
            extra = "connection: keep-alive\r\n"
        head = _render_req(req, extra)
        if pc.case_srv is not None:
            head = _recase(head, pc.case_srv)
        body = txn.extra.get("_body0", b"")
        t_sent = _monotonic()
        try:
            self._send_all(sc.sock, sc.w, head + body, txn.t_server or be.t_server, "sD")
        except (OSError, _Abort):
            return self._srv_abort(txn, be, srv, t0, "SH", 502)
        return self._response(txn, req, info, be, srv, sc, pc, None, t0, t_sent, cli_ka, srv_close, upgrade)


# ============================================================== helpers
def _ignore(term: str) -> None:
    pass


def _relay_term(code: int, src: str, dst: str) -> str:
    if code == DST_ERR:
        return dst + "D"
    if code == BAD_CHUNK:
        return "PD"
    if code == SRC_EOF:
        return src + "D"
    return src + "D"


def _srv_conn_header(srv_close: bool, upgrade: bool, pretend_ka: bool, minor: int) -> str | None:
    """The connection header HAProxy's H1 mux appends to a request for the server."""
    if upgrade:
        return None
    if srv_close and not pretend_ka:
        return "connection: close\r\n" if minor else None
    return None if minor else "connection: keep-alive\r\n"


def _render_req(req: Request, extra: str | None) -> bytes:
    return _render_head(f"{req.method} {req.uri} {req.version}\r\n", req.headers.items, extra)


def _render_rsp(rsp: Response, conn_hdr: str | None) -> bytes:
    return _render_head(f"{rsp.version} {rsp.status} {rsp.reason}\r\n", rsp.headers.items, conn_hdr)


def _render_head(start: str, items: list[tuple[str, str]], extra: str | None) -> bytes:
    """A head for the wire: start line, headers, the mux's own header line, blank line."""
    text = start + ("\r\n".join(map(_JOIN, items)) + "\r\n" if items else "") + (extra or "") + "\r\n"
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


_chain = chain.from_iterable
_JOIN = ": ".join  # (name, value) -> "name: value", without a Python frame per header


def _recase(data: bytes, table: dict[str, str]) -> bytes:
    """``h1-case-adjust``: the header names of the head that starts ``data`` respelt by
    ``table`` (``casing.adjust``); the start line and anything after the head unchanged."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return data
    lines = data[:end].decode("latin-1").split("\r\n")
    items = casing.adjust([(n, v) for n, _, v in (line.partition(":") for line in lines[1:])], table)
    return "\r\n".join([lines[0], *[n + ":" + v for n, v in items]]).encode("latin-1") + data[end:]


def _htx_size(a: str, b: str, c: str, items: list[tuple[str, str]]) -> int:
    """Size of a head in HAProxy's HTX (what its logs count as %B/%U): a 20-byte start-line
    block plus its three strings, names and values, and the end-of-headers block."""
    return 21 + len(a) + len(b) + len(c) + sum(map(len, _chain(items)))  # the loop runs in C


def _chunk_end(buf: bytes) -> int:
    t = parse.ChunkTracker()
    return t.feed(buf, 0, len(buf))


def _captures(headers: Headers, caps: list[tuple[str | None, int]]) -> list[str | None]:
    out: list[str | None] = []
    items = headers.items
    for name, ln in caps:
        val = None
        for k, v in items if name is not None else ():
            if k == name:
                val = v
        if val is not None and len(val) > ln:
            val = val[:ln]
        out.append(val)
    return out


def _capture_cookie(headers: Headers, hname: str, spec: tuple[str, int]) -> str | None:
    name, ln = spec
    for k, v in headers.items:
        if k != hname:
            continue
        parts = v.split(";")
        for p in parts if hname == "cookie" else parts[:1]:
            p = p.strip()
            if p.startswith(name):
                return p[:ln]
    return None


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Other"


def _verdict_reply(v: Any, be: Any, fe: Any, default: int = 403) -> errors.Reply:
    """Turn a rules verdict into a Reply: its prepared response, or the error page."""
    r = getattr(v, "response", None)
    status = getattr(v, "status", None) or default
    if isinstance(r, errors.Reply):
        return r
    if isinstance(r, (bytes, bytearray)):
        try:
            return errors.reply_from_raw(bytes(r))
        except parse.ParseError:
            pass
    elif r is not None and hasattr(r, "status"):
        body = getattr(r, "body", b"") or b""
        if isinstance(body, str):
            body = body.encode("latin-1", "replace")
        items = [(k.lower(), v2) for k, v2 in r.headers.items] if hasattr(r, "headers") else []
        has_len = getattr(r, "has_len", True)
        if has_len and not any(k in ("content-length", "transfer-encoding") for k, _ in items):
            items.append(("content-length", str(len(body))))
        minor = 0 if getattr(r, "version", "HTTP/1.1") == "HTTP/1.0" else 1
        return errors.Reply(r.status, getattr(r, "reason", "") or _reason(r.status), items, body, minor,
                            close=bool(getattr(r, "close", False)), has_len=has_len)
    return errors.reply(status, be.spec if be is not None else None, fe.spec)
