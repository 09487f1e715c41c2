"""``mode tcp`` sessions: accept, inspect, pick a server, connect with retries, pump, log.

One greenlet per client connection owns the session's control flow: optional PROXY
header from the client, ``tcp-request content`` rules, backend choice, the backend's own
content rules, server choice (balancer, then queue), connect with ``retries`` and
``option redispatch``, optional PROXY header to the server; then it hands the
established pair to ``pump.Pump`` and waits for it to finish, and finally releases the
server slot, updates counters and emits the log line.

Content inspection (HAProxy's ``tcp_inspect_request``): with ``tcp-request
inspect-delay``, the client's first bytes are read with MSG_PEEK - they stay in the
socket, so the pump (or the HTTP engine after an upgrade to a ``mode http`` backend)
forwards them byte for byte - and the rules are evaluated on them (``payload.REQ``) each
time more arrive, until none can wait any longer (``payload.MISS``), the delay expires,
the buffer (``tune.bufsize - tune.maxrewrite``) is full or the client closes.  Waiting
for "more than n bytes" uses SO_RCVLOWAT = n + 1 on the client socket, so the hub wakes
the session only when the buffer grows (or on FIN/error).  Without a delay, rules and
``use_backend`` that read the buffer see what is already there (one non-blocking peek);
connections whose rules never read it cost nothing more than before.
"""

from __future__ import annotations

import _socket
import errno
import select
import struct
import time
from typing import Any

import gevent
from gevent.hub import Waiter, get_hub
from gevent.monkey import get_original
from gevent.socket import wait_read, wait_write

from . import payload, persist, proxyproto, stickrules, stkctr
from .http.acl import select_backend
from .http.keywords import Limits
from .http.rules import run_tcp_connection, run_tcp_content
from .lb import PickCtx
from .logformat import next_req_id
from .pump import SWEEPER, Pump
from .server import RUNNING
from .session import Session

SOL_SOCKET, SO_ERROR = _socket.SOL_SOCKET, _socket.SO_ERROR
TCP_NODELAY = _socket.TCP_NODELAY
_LINGER_RESET = struct.pack("ii", 1, 0)
IPPROTO_TCP = _socket.IPPROTO_TCP
MSG_PEEK = _socket.MSG_PEEK
SO_RCVLOWAT = _socket.SO_RCVLOWAT
_poll = get_original("select", "poll")  # a zero-timeout poll for FIN (POLLRDHUP) after a peek
POLLRDHUP = getattr(select, "POLLRDHUP", 0x2000)


class ConnectFailed(Exception):
    def __init__(self, timeout: bool, err: int = 0) -> None:
        super().__init__(err)
        self.timeout = timeout
        self.err = err


def connect_server(srv: Any, timeout: float) -> Any:
    """Non-blocking connect by resolved address; returns the raw socket or raises ConnectFailed."""
    sock = _socket.socket(srv.family, _socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        if srv.family != _socket.AF_UNIX:
            sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
        err = sock.connect_ex(srv.sockaddr)
        if err in (errno.EINPROGRESS, errno.EAGAIN):
            try:
                wait_write(sock.fileno(), timeout=timeout or None, timeout_exc=_TIMEOUT)
            except _ConnTimeout:
                raise ConnectFailed(True) from None
            err = sock.getsockopt(SOL_SOCKET, SO_ERROR)
        if err:
            raise ConnectFailed(False, err)
        return sock
    except BaseException:
        sock.close()
        raise


class _ConnTimeout(Exception):
    pass


_TIMEOUT = _ConnTimeout()


def read_proxy_header(conn: Any, timeout: float) -> tuple[bytes, Any, Any]:
    """Read a PROXY v1/v2 header from the client; returns (extra_bytes, src, dst)."""
    buf = b""
    deadline = time.monotonic() + (timeout or 3600.0)
    while True:
        try:
            chunk = conn.recv(256 if not buf else 512, _socket.MSG_PEEK)
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                raise proxyproto.ProxyError("timeout") from None
            wait_read(conn.fileno(), timeout=left, timeout_exc=proxyproto.ProxyError("timeout"))
            continue
        if not chunk:
            raise proxyproto.ProxyError("closed")
        res = proxyproto.parse(chunk)
        if res is None:
            if chunk == buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise proxyproto.ProxyError("timeout")
                gevent.sleep(0.005)
            buf = chunk
            continue
        n, src, dst = res
        conn.recv(n)  # consume exactly the header
        return b"", src, dst


def accept_stage(sess: Any, conn: Any, listener: Any, fe: Any, t_client: float) -> str:
    """What HAProxy does with a new connection before either protocol, in mode tcp and
    http: the frontend's tcp-request connection rules, on the real peer address (a
    refusal resets the connection and is not logged), then the PROXY header of an
    ``accept-proxy`` bind.  Returns "" to go on (the frontend counts a session then),
    "reject" or "PR" (bad PROXY header, ``sess.term`` set)."""
    rules = fe.spec.tcp_request_connection
    if rules and not run_tcp_connection(rules, sess):
        fe.denied_conn += 1
        try:
            conn.setsockopt(SOL_SOCKET, _socket.SO_LINGER, _LINGER_RESET)
        except OSError:
            pass
        return "reject"
    if listener.bind_spec.accept_proxy:
        try:
            _, src, dst = read_proxy_header(conn, t_client)
        except (proxyproto.ProxyError, OSError):
            sess.term = "PR"
            fe.failed_req += 1
            return "PR"
        if src is not None:
            sess.cli_ip, sess.cli_port = src
            sess.fe_ip, sess.fe_port = dst
        sess.t_handshake = int((time.monotonic() - sess.accept_mono) * 1000)
    # a session now (HAProxy's proxy_inc_fe_sess_ctr): stot and the rate that
    # 'rate-limit sessions' reads leave out the connections refused above
    fe.cum_sess += 1
    fe.sess_rate.add()
    fe.process.sess_rate.add()
    return ""


def _ignore(term: str) -> None:
    pass


# HAProxy's BE_LB_KIND of each algorithm: round robin, connection based, hash of input
_LB_KIND = {"roundrobin": "rr", "static-rr": "rr", "random": "rr", "leastconn": "cb", "first": "cb"}


def _redispatch(be: Any, srv: Any, attempt: int, kind: str, srv_act: int, direct: int = 0) -> bool:
    """Whether retry number ``attempt`` goes to another server (``stream_choose_redispatch``):
    with ``option redispatch`` and without force-persist (``direct`` & 2), when the
    server is not running, at the configured interval (negative: counted back from the
    last retry), or at once when the server was not named by persistence (``direct`` & 1:
    cookie, stick match, use-server) and the backend has more than one active server and
    does not balance on a hash."""
    rd = be.redispatch
    if rd is None or direct & 2:
        return False
    if srv.op_state < RUNNING or srv.maint:
        return True
    if rd > 0 and attempt % rd == 0:
        return True
    if rd < 0:
        mod = be.retries + 1 + rd
        if mod > 0 and attempt % mod == 0:
            return True
    return not direct and kind != "hi" and srv_act > 1


RETRY_GIVE_UP, RETRY_NOW, RETRY_PAUSE = 0, 1, 2
AGAIN = object()  # TcpSessions.pick: woken from a queue, choose a server again


def connect_failed(sess: Any, be: Any, srv: Any, attempt: int, err: ConnectFailed, direct: int = 0) -> tuple[int, bool]:
    """Count one failed connection attempt (the ``attempt``-th) and decide what comes next,
    as HAProxy does: give up after ``retries`` (state ``SC``/``sC``), or retry - on
    another server when it redispatches - at once or after min(timeout connect, 1s).
    ``direct``: 1 the server was named by persistence (SF_DIRECT), | 2 force-persist.
    Returns (RETRY_GIVE_UP | RETRY_NOW | RETRY_PAUSE, redispatched)."""
    srv.failed_conns += 1
    be.failed_conns += 1
    if attempt > be.retries:
        sess.term = "sC" if err.timeout else "SC"
        sess.t_connect = -1
        return RETRY_GIVE_UP, False
    sess.retries += 1
    srv.retries += 1
    be.retries_count += 1
    kind = _LB_KIND.get(be.lb.name, "hi")
    srv_act = be.active_count()[0]
    redisp = _redispatch(be, srv, attempt, kind, srv_act, direct)
    if redisp:
        sess.redispatched = True
        srv.redispatches += 1
        be.redispatches += 1
        if err.timeout or (kind == "rr" and srv_act > 1):
            return RETRY_NOW, True
    # HAProxy waits after a connection error, except when it redispatches in a
    # round-robin backend of several servers
    return (RETRY_NOW if err.timeout else RETRY_PAUSE), redisp


# ------------------------------------------------------------------ content inspection

#: fetches that read the request buffer, or wait on it
_L6_FETCHES: frozenset[str] = frozenset()


def _l6_names() -> frozenset[str]:
    global _L6_FETCHES
    if not _L6_FETCHES:
        from .http import sample

        _L6_FETCHES = frozenset(n for n, f in sample.FETCHES.items() if f.src == "l6req") | {"wait_end"}
    return _L6_FETCHES


def _reads_buffer(cond: Any) -> bool:
    names = _l6_names()
    for suite in cond.suites:
        for exprs, _neg, _name in suite:
            for e in exprs:
                if e.expr.fetch.name in names:
                    return True
    return False


class InspectPlan:
    """What a proxy's ``tcp-request content`` rules and ``use_backend`` rules need of the
    request buffer, computed once per proxy: ``rules``; ``delay`` (s, 0 without
    ``tcp-request inspect-delay``); ``peek``: some condition reads the buffer;
    ``active``: the session must look at the buffer (wait for it with a delay and
    rules, else one peek)."""

    __slots__ = ("active", "delay", "peek", "rules")

    def __init__(self, spec: Any, switching: bool) -> None:
        self.rules = spec.tcp_request_content
        self.delay = (spec.extra.get("tcp_inspect_delay") or 0) / 1000.0
        peek = any(r.cond is not None and _reads_buffer(r.cond) for r in self.rules)
        if switching:
            names = _l6_names()
            for ub in spec.use_backends:
                cond = getattr(ub, "compiled", None)
                dynamic = getattr(ub, "render", None) is not None
                if (cond is not None and _reads_buffer(cond)) or (dynamic and any(n in ub.name for n in names)):
                    peek = True
        self.peek = peek
        self.active = bool(self.rules and self.delay) or peek


class Inspected:
    """The request buffer of one session as far as it was read (``data``), whether the
    client closed (``closed``: FIN) or failed (``err``: the termination state, ``cR``
    client timeout or ``CR`` read error), and when it last grew."""

    __slots__ = ("closed", "data", "err", "grew")

    def __init__(self, now: float) -> None:
        self.data = b""
        self.closed = False
        self.err = ""
        self.grew = now


def _peek(conn: Any, st: Inspected, limit: int, woke: bool) -> None:
    """Read what the client sent so far without consuming it."""
    try:
        d = conn.recv(limit, MSG_PEEK)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        st.err = "CR"
        return
    if not d:
        st.closed = True
        return
    if len(d) > len(st.data):
        st.data = d
        st.grew = time.monotonic()
        return
    if woke:  # readable without new bytes: a FIN (or an error) after the data
        p = _poll()
        p.register(conn.fileno(), select.POLLIN | POLLRDHUP)
        for _fd, ev in p.poll(0):
            if ev & select.POLLERR and conn.getsockopt(SOL_SOCKET, SO_ERROR):
                st.err = "CR"
            elif ev & (POLLRDHUP | select.POLLHUP):
                st.closed = True


class TcpSessions:
    """The session handler of every TCP frontend of a process."""

    def __init__(self, process: Any) -> None:
        self.process = process
        self.plans: dict[Any, InspectPlan] = {}  # frontend or backend -> its InspectPlan
        self.limits: Limits | None = None

    def plan(self, px: Any, switching: bool) -> InspectPlan:
        p = self.plans.get(px)
        if p is None:
            p = self.plans[px] = InspectPlan(px.spec, switching)
        return p

    def inspect(self, sess: Session, conn: Any, plan: InspectPlan, st: Inspected, t_client: float) -> str:
        """tcp_inspect_request(): evaluate ``plan.rules`` on the buffer until they decide;
        returns payload.ACCEPT or payload.REJECT (``st`` holds the buffer and how the
        client ended, if it did)."""
        lim = self.limits
        if lim is None:
            lim = self.limits = Limits(getattr(self.process.model, "glob", None))
        buf = payload.REQ
        limit = lim.maxreq  # bufsize - maxrewrite: where HAProxy's channel is full
        rules = plan.rules
        wait = bool(rules and plan.delay)
        deadline = time.monotonic() + plan.delay
        fd = conn.fileno()
        lowat = 0
        woke = False
        spurious = 0
        try:
            while True:
                n0 = len(st.data)
                if (wait or plan.peek) and not (st.closed or st.err):
                    _peek(conn, st, limit, woke)
                full = len(st.data) >= limit
                final = not wait or st.closed or bool(st.err) or full or time.monotonic() >= deadline
                if not rules:
                    return payload.ACCEPT
                buf.set(st.data, final, not (st.closed or full))
                buf.bufsize = lim.bufsize
                buf.limit = limit
                try:
                    verdict, _rule = payload.run_rules(rules, sess, final)
                finally:
                    buf.clear()
                if verdict != "miss":
                    return verdict
                if woke and len(st.data) == n0:
                    spurious += 1
                    if spurious > 2:  # a kernel whose poll ignores SO_RCVLOWAT: do not spin
                        gevent.sleep(0.01)
                else:
                    spurious = 0
                want = len(st.data) + 1
                if lowat != want:
                    conn.setsockopt(SOL_SOCKET, SO_RCVLOWAT, want)
                    lowat = want
                until = deadline
                cto = st.grew + t_client if t_client else 0.0
                if cto and cto < until:
                    until = cto
                left = until - time.monotonic()
                woke = False
                if left > 0:
                    try:
                        wait_read(fd, timeout=left, timeout_exc=_TIMEOUT)
                        woke = True
                    except _ConnTimeout:
                        pass
                if cto and cto <= deadline and time.monotonic() >= cto and not woke:
                    st.err = "cR"  # timeout client first: the read side is shut, last evaluation
        finally:
            if lowat:
                try:
                    conn.setsockopt(SOL_SOCKET, SO_RCVLOWAT, 1)
                except OSError:
                    pass

    def switch(self, fe: Any, sess: Session, st: Inspected | None) -> Any:
        """process_switching_rules() on the inspected buffer (when there is one)."""
        if not fe.spec.use_backends:
            return fe.default_backend
        if st is None:
            return select_backend(fe, sess, None, self.process.backends)
        buf = payload.REQ
        buf.set(st.data, True, False)
        try:
            return select_backend(fe, sess, None, self.process.backends)
        finally:
            buf.clear()

    def __call__(self, fe: Any, listener: Any, conn: Any, addr: Any) -> None:
        sess = Session(fe, listener, addr, None)
        la = listener.address
        if la.family in ("ipv4", "ipv6") and la.host and la.host not in ("0.0.0.0", "::"):
            sess.fe_ip, sess.fe_port = la.host, la.port
        else:
            try:
                fa = conn.getsockname()
                if isinstance(fa, tuple):
                    sess.fe_ip, sess.fe_port = fa[0], fa[1]
            except OSError:
                pass
        fe.sessions.add(sess)
        srv_sock = None
        be = None
        srv = None
        silent = False
        upgraded = False
        try:
            spec = fe.spec
            stage = accept_stage(sess, conn, listener, fe, fe.t_client)
            if stage:
                silent = stage == "reject"  # connections rejected by tcp-request connection are not logged
                return
            sess.req_id = next_req_id()  # the stream's %rt
            lg = fe.logger
            if lg is not None and lg.enabled and lg.render is None:
                lg.connect_line(sess)
            st = None
            plan = self.plan(fe, True) if spec.tcp_request_content or spec.use_backends else None
            if plan is not None and plan.active:
                st = Inspected(time.monotonic())
                if self.inspect(sess, conn, plan, st, fe.t_client) == payload.REJECT:
                    fe.denied_req += 1
                    self.rejected(sess, conn, st)
                    return
                be = self.switch(fe, sess, st)
            else:
                if spec.tcp_request_content and not run_tcp_content(spec.tcp_request_content, sess, None):
                    fe.denied_req += 1
                    sess.term = "PR"
                    return
                be = select_backend(fe, sess, None, self.process.backends) if spec.use_backends else fe.default_backend
            if be is None:
                sess.term = "PR"
                return
            bspec = be.spec
            if bspec.mode == "http" and (st is None or not st.err):
                # HAProxy upgrades the connection to HTTP: the HTTP engine takes it over
                # (the inspected bytes are still in the socket for it to read)
                upgraded = True
                fe.sessions.discard(sess)
                self.process.http.upgraded(fe, listener, conn, addr, be, sess)
                return
            sess.backend = be
            sess.backend_name = be.name
            be.cur_sess += 1
            be.cum_sess += 1
            be.sess_rate.add()
            be.last_sess = time.time()
            be.max_sess = max(be.max_sess, be.cur_sess)
            if bspec is not spec and bspec.tcp_request_content and (st is None or not st.err):
                # the backend's content rules, with its own inspect-delay (AN_REQ_INSPECT_BE)
                if st is None:
                    st = Inspected(time.monotonic())
                if self.inspect(sess, conn, self.plan(be, False), st, fe.t_client) == payload.REJECT:
                    fe.denied_req += 1  # counted on the frontend, as haproxy 2.6 does
                    self.rejected(sess, conn, st)
                    return
            if st is not None and st.err:
                # the client timed out or failed during the inspection: a backend was
                # chosen, no server is connected
                self.rejected(sess, conn, st)
                return
            stick = be.stick
            pr = be.persist
            if stick is None and pr is None:
                srv, srv_sock = self.connect(sess, be)
            else:  # use-server, then stick rules: a stored server, and stores once the connection is established
                if st is not None:  # what the inspection read is the request buffer of their fetches
                    payload.REQ.set(st.data, True, False)
                try:
                    forced, prst = persist.tcp_request(pr, sess) if pr is not None else (None, 0)
                    pending = ()
                    if stick is not None:
                        stuck, pending = stickrules.request(stick, sess, None, forced, prst & persist.FORCE)
                        forced = stuck or forced
                finally:
                    payload.REQ.clear()
                srv, srv_sock = self.connect(sess, be, forced, prst & persist.FORCE)
                if srv_sock is not None and stick is not None:
                    stickrules.commit(stick, sess, None, pending, srv)
            if srv_sock is None:
                return
            self.pump(sess, fe, be, srv, conn, srv_sock)
        except Exception:  # noqa: BLE001 - a session bug must not kill the process; it is logged
            sess.term = "ID"
            self.process.events.internal_error(sess)
        finally:
            if not upgraded:  # else the HTTP engine owns the connection and its accounting
                if srv_sock is not None:
                    srv_sock.close()
                conn.close()
                now = time.monotonic()
                sess.t_total = int((now - sess.accept_mono) * 1000)
                if srv is not None:
                    self.release(sess, be, srv)
                    if sess.t_connect >= 0:
                        srv.timings.add(sess.t_queue, sess.t_connect, 0, sess.t_total)
                if be is not None:
                    be.cur_sess -= 1
                    if srv is not None and sess.t_connect >= 0:
                        be.timings.add(sess.t_queue, sess.t_connect, 0, sess.t_total)
                    be.bytes_in += sess.bytes_in
                    be.bytes_out += sess.bytes_out
                fe.bytes_in += sess.bytes_in
                fe.bytes_out += sess.bytes_out
                listener.bytes_in += sess.bytes_in
                listener.bytes_out += sess.bytes_out
                fe.sessions.discard(sess)
                if not silent:
                    self.process.log_session(fe, sess)
                if sess.stkctr is not None:  # the stream's, then the session's tracked counters
                    stkctr.end_stream(sess, sess.bytes_in, sess.bytes_out)
                    stkctr.end_session(sess)
                fe.released(listener)

    def rejected(self, sess: Session, conn: Any, st: Inspected) -> None:
        """The end of a session after inspection, without a server: a ``tcp-request
        content reject`` (``PR``) or a client that timed out / failed (``cR`` / ``CR``).
        HAProxy had read the bytes (logged as %U), so they are consumed here and the close
        is a FIN, not a reset."""
        sess.term = st.err or "PR"
        sess.bytes_in = len(st.data)
        if st.data:
            try:
                conn.recv(len(st.data))
            except OSError:
                pass

    # -------------------------------------------------------------- connect
    def pick(self, sess: Session, be: Any, ctx: Any, prev: Any) -> Any:
        """One choice of server for a new connection, in mode tcp and http: the balancer's
        pick, else the server queue of the full server a hash designates, else the backend
        queue.  A server; None when there is none (``sess.term`` set); or AGAIN when woken
        from a queue without a server to use (choose again)."""
        srv = be.pick(ctx, prev)
        if srv is not None:
            return srv
        if (target := be.assigned_full(ctx, prev)) is not None:
            srv = self.srv_queue(sess, be, target)
            if srv is None:
                return None
            return srv if srv.usable() else AGAIN  # woken because it went down: choose again
        if be.has_candidates():
            tq = time.monotonic()
            idx0 = be.queue_idx
            woke = be.queue_wait(be.t_queue)
            sess.t_queue = int((time.monotonic() - tq) * 1000)
            # HAProxy's %bq: sessions served from the queue while this one waited, + 1
            sess.be_queue = be.queue_idx - idx0 + (0 if woke else 1)
            if not woke:
                sess.term = "sQ"
                return None
            return AGAIN
        sess.term = "SC"
        be.failed_conns += 1
        return None

    def connect(self, sess: Session, be: Any, forced: Any = None, force: int = 0) -> tuple[Any, Any]:
        """A connected server for the session: ``forced`` (a stick table's or use-server's
        server; ``force``: force-persist matched) or the balancer's choice, with queues,
        retries and redispatch.  (None, None) on failure."""
        ctx = PickCtx(src=sess.cli_ip)
        prev = None
        attempt = 0
        srv = forced
        direct = (1 | (2 if force else 0)) if forced is not None else 0  # SF_DIRECT, SF_FORCE_PRST
        if srv is not None:
            if srv.is_full():  # persistence names a full server: its queue
                srv = self.srv_queue(sess, be, srv)
                if srv is None:
                    return None, None
            sess.t_queue = int((time.monotonic() - sess.accept_mono) * 1000)
        while True:
            if srv is None:
                srv = self.pick(sess, be, ctx, prev)
                if srv is AGAIN:
                    srv = None
                    continue
                # HAProxy's t_queue counts from the accept (tv_accept) whenever a server
                # is assigned or the queue gives up: it includes a PROXY header's wait and
                # the content inspection, which mode tcp logs in %Tw
                if srv is None:
                    if sess.t_queue >= 0:
                        sess.t_queue = int((time.monotonic() - sess.accept_mono) * 1000)
                    return None, None
                sess.t_queue = int((time.monotonic() - sess.accept_mono) * 1000)
            self.take(sess, be, srv)
            tc = time.monotonic()
            srv.connect_attempts += 1
            be.connect_attempts += 1
            try:
                sock = connect_server(srv, be.t_connect)
            except ConnectFailed as e:
                self.release(sess, be, srv)
                attempt += 1
                nxt, redisp = connect_failed(sess, be, srv, attempt, e, direct)
                if nxt == RETRY_GIVE_UP:
                    return None, None
                prev = srv
                if redisp:
                    srv = None
                    direct = 0
                if nxt == RETRY_PAUSE:
                    gevent.sleep(min(be.t_connect or 1.0, 1.0))
                continue
            sess.t_connect = int((time.monotonic() - tc) * 1000)
            try:
                la = sock.getsockname()
                if isinstance(la, tuple):
                    sess.be_ip, sess.be_port = la[0], la[1]
            except OSError:
                pass
            return srv, sock

    def srv_queue(self, sess: Session, be: Any, srv: Any) -> Any:
        """HAProxy's server queue: the hash designated ``srv`` and it is full.  Returns
        ``srv`` once a slot is ours, None when refused (``SQ``: ``maxqueue`` reached) or
        timed out (``sQ``)."""
        sess.server_name = srv.name
        sess.server = srv  # logged as %s (and %sc) even without a slot
        if srv.maxqueue and srv.nbpend >= srv.maxqueue:
            sess.term = "SQ"
            srv.failed_conns += 1
            be.failed_conns += 1
            return None
        tq = time.monotonic()
        idx0 = srv.queue_idx
        woke = be.srv_queue_wait(srv, be.t_queue)
        sess.t_queue = int((time.monotonic() - tq) * 1000)
        sess.srv_queue = srv.queue_idx - idx0 + (0 if woke else 1)
        if not woke:
            sess.term = "sQ"
            return None
        return srv

    def take(self, sess: Session, be: Any, srv: Any) -> None:
        sess.server = srv
        sess.server_name = srv.name
        sess.srv_ip, sess.srv_port = srv.sockaddr[0] if isinstance(srv.sockaddr, tuple) else "unix", srv.port
        srv.cur_sess += 1
        srv.cum_sess += 1
        srv.sess_rate.add()
        srv.last_sess = time.time()
        srv.cum_lbconn += 1
        be.cum_lbconn += 1
        srv.max_sess = max(srv.max_sess, srv.cur_sess)
        srv.sessions.add(sess)
        be.lb.taken(srv)

    def release(self, sess: Session, be: Any, srv: Any) -> None:
        if sess not in srv.sessions:
            return
        srv.sessions.discard(sess)
        srv.cur_sess -= 1
        srv.bytes_in += sess.bytes_in
        srv.bytes_out += sess.bytes_out
        be.lb.released(srv)
        be.slot_freed(srv)

    # -------------------------------------------------------------- pump
    def pump(self, sess: Session, fe: Any, be: Any, srv: Any, conn: Any, srv_sock: Any) -> None:
        hub = get_hub()
        waiter = Waiter()

        def done(term: str) -> None:
            if gevent.getcurrent() is hub:
                waiter.switch(term)
            else:
                hub.loop.run_callback(waiter.switch, term)

        p = Pump(conn, srv_sock, done)
        if be.t_tunnel:
            p.t_client = p.t_server = be.t_tunnel
        else:
            p.t_client = fe.t_client
            p.t_server = be.t_server
        p.t_client_fin = fe.t_client_fin
        p.t_server_fin = be.t_server_fin
        first = b""
        if srv.spec.send_proxy_v2:
            first = proxyproto.build_v2((sess.cli_ip, sess.cli_port), (sess.fe_ip, sess.fe_port))
        elif srv.spec.send_proxy:
            first = proxyproto.build_v1((sess.cli_ip, sess.cli_port), (sess.fe_ip, sess.fe_port))
        sess.pump = p
        if p.t_client or p.t_server or p.t_client_fin or p.t_server_fin:
            SWEEPER.add(p)
        p.start(first_to_srv=first)
        try:
            term = waiter.get()
        finally:
            if not p.done:
                p.on_done = _ignore
                p.finish("KD")
            sess.pump = None
        sess.bytes_in = p.bytes_in
        sess.bytes_out = p.bytes_out
        if sess.killed:
            term = sess.killed + "D"
        sess.term = term
        if term[0] == "C":
            be.cli_aborts += 1
            srv.cli_aborts += 1
        elif term[0] == "S":
            be.srv_aborts += 1
            srv.srv_aborts += 1
