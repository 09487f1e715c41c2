"""``mode tcp`` sessions: accept, pick a server, connect with retries, pump, log.

One greenlet per client connection owns the session's control flow: optional PROXY
header from the client, backend choice, server choice (balancer, then queue), connect
with ``retries`` and ``option redispatch``, optional PROXY header to the server; then it
hands the established pair to ``pump.Pump`` and waits for it to finish, and finally
releases the server slot, updates counters and emits the log line.
"""

from __future__ import annotations

import _socket
import errno
import struct
import time
from typing import Any

import gevent
from gevent.hub import Waiter, get_hub
from gevent.socket import wait_read, wait_write

from . import proxyproto
from .http.acl import select_backend
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
    ``accept-proxy`` bind.  Returns "" to go on, "reject" or "PR" (bad PROXY header,
    ``sess.term`` set)."""
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
    return ""


def _ignore(term: str) -> None:
    pass


# HAProxy's BE_LB_KIND of each algorithm: round robin, connection based, hash of input
_LB_KIND = {"roundrobin": "rr", "static-rr": "rr", "random": "rr", "leastconn": "cb", "first": "cb"}


def _redispatch(be: Any, srv: Any, attempt: int, kind: str, srv_act: int) -> bool:
    """Whether retry number ``attempt`` goes to another server (``sess_update_st_cer``):
    with ``option redispatch``, when the server is not running, at the configured
    interval (negative: counted back from the last retry), or at once when the backend
    has more than one active server and does not balance on a hash."""
    rd = be.redispatch
    if rd is None:
        return False
    if srv.op_state < RUNNING:
        return True
    if rd > 0 and attempt % rd == 0:
        return True
    if rd < 0:
        mod = be.retries + 1 + rd
        if mod > 0 and attempt % mod == 0:
            return True
    return kind != "hi" and srv_act > 1


RETRY_GIVE_UP, RETRY_NOW, RETRY_PAUSE = 0, 1, 2
AGAIN = object()  # TcpSessions.pick: woken from a queue, choose a server again


def connect_failed(sess: Any, be: Any, srv: Any, attempt: int, err: ConnectFailed) -> tuple[int, bool]:
    """Count one failed connection attempt (the ``attempt``-th) and decide what comes next,
    as HAProxy does: give up after ``retries`` (state ``SC``/``sC``), or retry - on
    another server when it redispatches - at once or after min(timeout connect, 1s).
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
    redisp = _redispatch(be, srv, attempt, kind, srv_act)
    if redisp:
        sess.redispatched = True
        srv.redispatches += 1
        be.redispatches += 1
        if err.timeout or (kind == "rr" and srv_act > 1):
            return RETRY_NOW, True
    # HAProxy waits after a connection error, except when it redispatches in a
    # round-robin backend of several servers
    return (RETRY_NOW if err.timeout else RETRY_PAUSE), redisp


class TcpSessions:
    """The session handler of every TCP frontend of a process."""

    def __init__(self, process: Any) -> None:
        self.process = process

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
            if spec.tcp_request_content and not run_tcp_content(spec.tcp_request_content, sess, None):
                fe.denied_req += 1
                sess.term = "PR"
                return
            be = select_backend(fe, sess, None, self.process.backends) if spec.use_backends else fe.default_backend
            if be is None:
                sess.term = "PR"
                return
            if be.spec.mode == "http":
                # HAProxy upgrades the connection to HTTP: the HTTP engine takes it over
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
            srv, srv_sock = self.connect(sess, be)
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
                fe.released(listener)

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

    def connect(self, sess: Session, be: Any) -> tuple[Any, Any]:
        ctx = PickCtx(src=sess.cli_ip)
        t0 = time.monotonic()
        prev = None
        attempt = 0
        srv = None
        while True:
            if srv is None:
                srv = self.pick(sess, be, ctx, prev)
                if srv is AGAIN:
                    srv = None
                    continue
                if srv is None:
                    return None, None
            if sess.t_queue < 0:
                sess.t_queue = int((time.monotonic() - t0) * 1000)
            self.take(sess, be, srv)
            tc = time.monotonic()
            srv.connect_attempts += 1
            be.connect_attempts += 1
            try:
                sock = connect_server(srv, be.t_connect)
            except ConnectFailed as e:
                self.release(sess, be, srv)
                attempt += 1
                nxt, redisp = connect_failed(sess, be, srv, attempt, e)
                if nxt == RETRY_GIVE_UP:
                    return None, None
                prev = srv
                if redisp:
                    srv = None
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
