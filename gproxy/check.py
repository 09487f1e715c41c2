"""Health checks at run time: one greenlet per checked server.

A ``Check`` runs its proxy's rule set (``gproxy.checks.rules``: plain TCP connect,
``option httpchk``, ``option tcp-check``, ``option redis-check``, ``option mysql-check``)
against the server every ``inter``/``fastinter``/``downinter``, keeps HAProxy's health
counter and status (``L4OK``, ``L7STS``...), and turns results into operational state
changes through ``server.set_running`` / ``set_stopping`` / ``set_stopped``, with the
reason text HAProxy prints (``Layer7 wrong status, code: 503, info: "Service
Unavailable", check duration: 1ms``).  It never touches admin flags.

Behaviour follows HAProxy 2.6 (src/check.c, src/tcpcheck.c, src/server.c):

* a checked server starts UP with ``health = rise`` (one failure at start marks it down);
  successes count up to ``rise + fall - 1``, a failure below ``rise`` drops to 0;
* the next check starts ``srv_getinter()`` after the end of the previous one: ``inter``
  when fully up, ``downinter`` when down with health 0, ``fastinter`` in between;
* without ``timeout check`` a whole check is bounded by ``inter``; with it, the connect
  is bounded by ``min(inter, timeout connect)`` and the rest by ``timeout check``;
* connections are closed with a reset unless the server closed first (or ``linger``).

Only I/O lives here (gevent sockets, ``gevent.Timeout``); messages, rules and parsing
are in ``gproxy.checks``.  Importing this module registers the check keywords.
"""

from __future__ import annotations

import os
import random
import socket as _stdsocket
import struct
import time
import traceback
from typing import TYPE_CHECKING, Any

import gevent
from gevent import socket as gsocket

from .checks import config as _config  # noqa: F401  (registers the keywords)
from .checks import rules as R
from .checks import status as S
from .server import RUNNING, STARTING, STOPPED, STOPPING

if TYPE_CHECKING:
    from .config.model import Proxy
    from .server import Server

__all__ = ["SRV_CHK_INTER_THRES", "Check", "attach", "start_checks"]

#: checks with an interval below this do not dictate the start-up spread (HAProxy)
SRV_CHK_INTER_THRES = 1000
PP2_LOCAL = b"\r\n\r\n\x00\r\nQUIT\n" + b"\x20\x00\x00\x00"


class _Expired(Exception):
    """The check's current deadline passed."""


class _ConnError(Exception):
    """A socket error on the check connection (errno in ``args[0]``)."""


class Check:
    """The health check of one server.

    Public state (read by stats, the admin socket and ``Server.status_text``):
    ``enabled``, ``rise``, ``fall``, ``health``, ``status``, ``code``, ``desc``,
    ``duration``, ``failed_checks``, ``in_progress``, ``last_check``.
    """

    def __init__(self, server: Server, proxy: Proxy) -> None:
        spec = server.spec
        self.server = server
        self.proxy = proxy
        self.configured = bool(spec.check)
        self.paused = False  # 'disable health' on the admin socket
        self.rise = max(1, int(spec.rise))
        self.fall = max(1, int(spec.fall))
        self.inter = int(spec.inter) or 2000
        self.fastinter = int(spec.fastinter or 0)
        self.downinter = int(spec.downinter or 0)
        self.health = 0 if spec.disabled else self.rise
        self.status = "INI"
        self.code = 0
        self.desc = ""
        self.duration = -1
        self.result = S.UNKNOWN
        self.failed_checks = 0
        self.in_progress = False
        self.last_check = 0.0  # time.time() at the end of the last check
        self.spread_checks = 0  # global spread-checks (percent)
        self.node = _stdsocket.gethostname()
        self.kind = getattr(proxy, "check_kind", "tcp") or "tcp"
        self.ruleset = R.build_ruleset(proxy)
        timeouts = getattr(proxy, "timeouts", {}) or {}
        self.timeout_check = int(timeouts.get("check") or 0)
        self.timeout_connect = int(timeouts.get("connect") or 0)
        options = getattr(proxy, "options", {}) or {}
        self.log_health = bool(options.get("log-health-checks"))
        # where checks connect: 'addr' / 'port' server parameters, else the server's
        self.check_addr = spec.check_addr
        self.check_port = int(spec.check_port or 0)
        self.check_addr_port = int(spec.extra.get("check_addr_port") or 0)
        redirected = bool(self.check_port or self.check_addr)
        self.send_proxy = bool(spec.check_send_proxy) or (
            not redirected and bool(spec.send_proxy or spec.send_proxy_v2)
        )
        self.proxy_v2 = bool(spec.send_proxy_v2)
        self._in_maint = server.maint
        self._greenlet: gevent.Greenlet | None = None
        self._sock: Any = None
        self._start: float | None = None
        self._deadline = 0.0
        self._resolved: dict[tuple[str, int], tuple[Any, ...]] = {}
        self._cur: R.Rule | None = None
        self._connected = False
        self._eos = False
        self._linger = False
        self._buf = bytearray()
        self._head_request = False

    # ------------------------------------------------------------ state
    @property
    def enabled(self) -> bool:
        """Configured and not disabled on the admin socket (HAProxy CHK_ST_ENABLED)."""
        return self.configured and not self.paused

    def getinter(self) -> int:
        """HAProxy's ``srv_getinter``: the delay before the next check, in ms."""
        if self.health == self.rise + self.fall - 1:
            return self.inter
        if self.server.op_state == STOPPED and self.health == 0:
            return self.downinter or self.inter
        return self.fastinter or self.inter

    def reason(self) -> str:
        """The text after ``reason: `` describing the last result."""
        return S.format_reason(self.status, self.code, self.desc, self.duration)

    def status_label(self) -> str:
        """Stats ``check_status``: the code, prefixed with ``* `` while a check runs."""
        return ("* " if self.in_progress else "") + self.status

    def maint_enter(self) -> None:
        """The server enters maintenance: checks pause and health drops to 0 (HAProxy)."""
        self._in_maint = True
        if self.configured:
            self.health = 0

    def maint_leave(self) -> None:
        """The server leaves maintenance: checks resume with ``health = rise`` (up)."""
        self._in_maint = False
        if self.configured:
            self.health = self.rise

    # ------------------------------------------------------------ scheduling
    def start(self, delay_ms: float | None = None) -> None:
        """Spawn the check greenlet; the first check runs after ``delay_ms``.

        Without a delay it is drawn in [0, inter), which spreads a lone check; use
        ``start_checks()`` for HAProxy's deterministic spread over all servers.
        """
        if self._greenlet is not None or not self.configured:
            return
        if delay_ms is None:
            delay_ms = random.uniform(0, min(self.inter, self.getinter()))
        self._greenlet = gevent.spawn(self._loop, max(0.0, delay_ms) / 1000.0)

    def stop(self) -> None:
        """Kill the greenlet (its socket is closed by the check's ``finally``)."""
        g, self._greenlet = self._greenlet, None
        if g is not None:
            g.kill(block=True)
        self._close(abort=True)

    @property
    def running(self) -> bool:
        """True while the check greenlet is alive."""
        return self._greenlet is not None and not self._greenlet.dead

    def _loop(self, first_delay: float) -> None:
        gevent.sleep(first_delay)
        while True:
            if self._follow_maint() and not self.paused:
                try:
                    self.run_once()
                except Exception:  # noqa: BLE001 - e.g. a failing state subscriber: keep checking
                    traceback.print_exc()
                delay = self.getinter()
                if self.spread_checks > 0:
                    rv = delay * self.spread_checks // 100
                    rv -= int(2 * rv * random.random())
                    delay += rv
            else:
                delay = self.inter
            gevent.sleep(max(delay, 1) / 1000.0)

    def _follow_maint(self) -> bool:
        """Track the server's maintenance (if the caller did not); True when checks may run."""
        maint = self.server.maint
        if maint and not self._in_maint:
            self.maint_enter()
        elif not maint and self._in_maint:
            self.maint_leave()
        return not maint

    # ------------------------------------------------------------ one check
    def run_once(self) -> None:
        """Run one complete check now (blocking this greenlet) and apply its result."""
        self.in_progress = True
        self.result = S.UNKNOWN
        self.desc = ""
        self._start = time.monotonic()
        try:
            self._run_rules()
        except gevent.GreenletExit:
            raise
        except Exception as e:  # noqa: BLE001 - a check must never kill its greenlet
            if self.result == S.UNKNOWN:
                self._set_status("SOCKERR", f"internal error: {e!r}")
        finally:
            self._close(abort=True)
            self.in_progress = False
        self.last_check = time.time()
        self._notify()

    def _run_rules(self) -> None:
        rs = self.ruleset
        rules = rs.rules
        proto = rs.proto
        self._cur = None
        self._connected = False
        self._eos = False
        self._buf = bytearray()
        self._head_request = False
        must_read = True
        last_read = False
        i = 0
        while i < len(rules):
            rule = rules[i]
            self.code = 0
            if rule.action == R.CONNECT:
                self._cur = rule
                if not self._connect(rule):
                    return
                must_read = True
                last_read = False
            elif rule.action == R.SEND:
                self._cur = rule
                self._buf = bytearray()
                if not self._send(self._payload(rule)):
                    return
                must_read = True
            elif rule.action == R.EXPECT:
                self._cur = rule
                if must_read:
                    got = self._recv(rule, proto)
                    if got is None:
                        return
                    last_read = got
                    must_read = False
                out = self._evaluate(rule, i, last_read, proto)
                if out.status and out.action == R.CONTINUE:  # mysql: reported, then goes on
                    self._set_status(out.status, out.desc)
                if out.action == R.WAIT:
                    i = rule.head if rule.head >= 0 else i
                    must_read = True
                    continue
                if out.action == R.STOP:
                    if out.code is not None:
                        self.code = out.code
                    self._set_status(out.status, out.desc)
                    return
            i += 1
        self._final_success(proto)

    def _final_success(self, proto: str) -> None:
        """All rules passed: HAProxy's end-of-ruleset status."""
        rule = self._cur
        if rule is None:
            self._set_status("L7OK", "(tcp-check)")
        elif rule.action == R.EXPECT:
            if self.ruleset.disable404 and self.server.op_state != STOPPED and self.code == 404:
                self._set_status("L7OKC", "")
                return
            self._set_status(rule.ok_status or "L7OK", R.onsuccess_msg(rule, proto))
        elif rule.action == R.CONNECT:
            self._set_status("L4OK", "" if rule.implicit else "(tcp-check)")
        else:
            self._set_status("L7OK", "(tcp-check)")

    def _evaluate(self, rule: R.Rule, pos: int, last_read: bool, proto: str) -> R.Outcome:
        if rule.expect_type == "custom":
            is_last = all(r.action in (R.COMMENT, R.ACTION) for r in self.ruleset.rules[pos + 1 :])
            return R.eval_mysql(rule, bytes(self._buf), last_read, is_last)
        if proto != R.PROTO_HTTP:
            return R.eval_expect(rule, bytes(self._buf), last_read, proto)
        resp = R.HttpResponse.parse(bytes(self._buf), self._eos, self._head_request)
        if resp.error:
            return R.Outcome(R.STOP, "L7RSP", R.onerror_msg(rule, proto, False, None))
        if not resp.headers_done:
            if last_read:
                return R.Outcome(R.STOP, "L7RSP", R.onerror_msg(rule, proto, False, None))
            return R.Outcome(R.WAIT)
        self.code = resp.status
        # a close in the body is no error: the rules judge what came (HAProxy 2.6.12)
        return R.eval_expect_http(
            rule, resp, last_read, self.server.op_state != STOPPED, self.ruleset.disable404
        )

    def _payload(self, rule: R.Rule) -> bytes:
        if rule.send_type != "http":
            return rule.data
        req = rule.http
        assert req is not None
        self._head_request = (req.meth or "OPTIONS") == "HEAD"
        state = self.state_header() if self.ruleset.send_state else None
        return R.http_request(req, state, self.ruleset.http_close_mode)

    # ------------------------------------------------------------ I/O
    def _endpoint(self, rule: R.Rule) -> tuple[int, Any]:
        """(family, sockaddr) a connect rule goes to, as ``tcpcheck_eval_connect`` picks it:
        the rule's addr, else the server's check ``addr``, else the server address; the
        rule's port, else the check ``port``, else the port of ``addr``, else the server's.
        """
        srv = self.server
        host = rule.addr or self.check_addr
        port = rule.port or rule.addr_port or self.check_port or self.check_addr_port
        if not host and isinstance(srv.sockaddr, str):  # unix socket server
            return _stdsocket.AF_UNIX, srv.sockaddr
        if host and host.startswith("/"):  # a unix socket check 'addr'
            return _stdsocket.AF_UNIX, host
        if not host:
            host = srv.sockaddr[0] if srv.sockaddr else srv.host
        if not port and not getattr(srv.addr, "maps_ports", False):
            port = srv.sockaddr[1] if srv.sockaddr else srv.port
        return self._sockaddr(host, int(port or 0))

    def _sockaddr(self, host: str, port: int) -> tuple[int, Any]:
        if ":" in host:
            return _stdsocket.AF_INET6, (host, port, 0, 0)
        try:
            _stdsocket.inet_aton(host)
            return _stdsocket.AF_INET, (host, port)
        except OSError:
            pass
        key = (host, port)
        if key not in self._resolved:
            infos = gsocket.getaddrinfo(host, port, 0, _stdsocket.SOCK_STREAM)
            self._resolved[key] = infos[0]
        info = self._resolved[key]
        return info[0], info[4]

    def _remaining(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise _Expired()
        return left

    def _connect(self, rule: R.Rule) -> bool:
        """``tcpcheck_eval_connect``: a new connection (the previous one is closed)."""
        self._close(abort=True)
        self._buf = bytearray()
        self._eos = False
        self._connected = False
        self._linger = rule.linger
        now = time.monotonic()
        limit = self.inter
        if self.timeout_check and self.timeout_connect:
            limit = min(limit, self.timeout_connect)
        self._deadline = now + limit / 1000.0
        try:
            family, addr = self._endpoint(rule)
            sock = gsocket.socket(family, _stdsocket.SOCK_STREAM)
        except _stdsocket.gaierror as e:
            if self.result == S.UNKNOWN:
                self._set_status("SOCKERR", f"{e.strerror}")
            return False
        except OSError as e:
            self._report_conn_err(e.errno or 0, expired=False)
            return False
        self._sock = sock
        try:
            with gevent.Timeout(self._remaining(), _Expired):
                sock.connect(addr)
        except _Expired:
            self._report_conn_err(0, expired=True)
            return False
        except OSError as e:
            self._report_conn_err(e.errno or 0, expired=False)
            return False
        self._connected = True
        if self.timeout_check:
            self._deadline = time.monotonic() + self.timeout_check / 1000.0
        if family != _stdsocket.AF_UNIX:
            try:
                sock.setsockopt(_stdsocket.IPPROTO_TCP, _stdsocket.TCP_NODELAY, 1)
            except OSError:
                pass
        if rule.send_proxy or (rule.default and self.send_proxy):
            return self._send(self._proxy_header(sock), proxy_line=True)
        return True

    def _proxy_header(self, sock: Any) -> bytes:
        if self.proxy_v2:
            return PP2_LOCAL
        try:
            src = sock.getsockname()
            dst = sock.getpeername()
        except OSError:
            return b"PROXY UNKNOWN\r\n"
        if sock.family not in (_stdsocket.AF_INET, _stdsocket.AF_INET6):
            return b"PROXY UNKNOWN\r\n"
        fam = "TCP6" if sock.family == _stdsocket.AF_INET6 else "TCP4"
        return f"PROXY {fam} {src[0]} {dst[0]} {src[1]} {dst[1]}\r\n".encode()

    def _send(self, data: bytes, proxy_line: bool = False) -> bool:
        if not data:
            return True
        try:
            with gevent.Timeout(self._remaining(), _Expired):
                self._sock.sendall(data)
        except _Expired:
            self._report_conn_err(0, expired=True)
            return False
        except OSError as e:
            self._report_conn_err(e.errno or 0, expired=False)
            return False
        del proxy_line
        return True

    def _recv(self, rule: R.Rule, proto: str) -> bool | None:
        """``tcpcheck_eval_recv``: wait for data; returns ``last_read`` or None when done."""
        if not self._eos:
            room = R.BUFSIZE - len(self._buf)
            try:
                with gevent.Timeout(self._remaining(), _Expired):
                    data = self._sock.recv(max(room, 1)) if room > 0 else b""
            except _Expired:
                self._report_conn_err(0, expired=True)
                return None
            except OSError as e:
                if not self._buf:
                    self._report_conn_err(e.errno or 0, expired=False)
                    return None
                self._eos = True  # an error after data: let the rules judge what came
                return True
            if not data and room > 0:
                self._eos = True
            self._buf += data
            if data:
                return self._eos or len(self._buf) >= R.BUFSIZE
        if not self._buf:
            if proto == R.PROTO_HTTP:
                return True  # HAProxy's H1 mux: a parsing error, judged by the expect rule
            msg = f"TCPCHK got an empty response at step {rule.step()}"
            if rule.comment:
                msg += f" comment: '{rule.comment}'"
            self._set_status(rule.err_status or "L7RSP", msg)
            return None
        return True

    def _close(self, abort: bool) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        try:
            if abort and not self._linger and not self._eos:
                sock.setsockopt(_stdsocket.SOL_SOCKET, _stdsocket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    # ------------------------------------------------------------ results
    def _conn_err_suffix(self) -> str:
        """The `` at step N of tcp-check (...)`` detail of ``chk_report_conn_err``."""
        if self.ruleset.proto != R.PROTO_TCP:
            return ""
        rule = self._cur
        step = rule.step() if rule is not None else 1
        if not step:
            return " at initial connection step of tcp-check"
        out = f" at step {step} of tcp-check"
        if rule is None:
            return out
        if rule.action == R.CONNECT:
            out += f" (connect port {rule.port})" if rule.port else " (connect)"
        elif rule.action == R.EXPECT:
            t = rule.expect_type
            text = rule.pattern.decode("utf-8", "surrogateescape")
            out += {
                "string": f" (expect string '{text}')",
                "binary": f" (expect binary '{text}')",
                "rstring": " (expect regex)",
                "rbinary": " (expect binary regex)",
                "string-lf": " (expect log-format string)",
                "binary-lf": " (expect log-format binary)",
                "custom": " (expect custom function)",
            }.get(t, "")
        elif rule.action == R.SEND:
            out += " (send)"
        if rule.comment:
            out += f" comment: '{rule.comment}'"
        return out

    def _report_conn_err(self, err: int, expired: bool) -> None:
        """``chk_report_conn_err``: L4CON/L4TOUT before the connection, SOCKERR/L7TOUT after."""
        if self.result != S.UNKNOWN:
            return
        suffix = self._conn_err_suffix()
        msg = (os.strerror(err) + suffix) if err else suffix
        if not self._connected:
            if self._sock is None and not expired:
                self._set_status("SOCKERR", msg)
            elif expired:
                self._set_status("L4TOUT", msg)
            else:
                self._set_status("L4CON", msg)
        elif not expired:
            self._set_status("SOCKERR", msg)
        else:
            tout = "L7TOUT"
            cur = self._cur
            if cur is not None and cur.action == R.EXPECT and cur.tout_status:
                tout = cur.tout_status
            self._set_status(tout, msg)

    def _set_status(self, status: str, desc: str | None) -> None:
        """``set_server_check_status``: record a result and move the health counter."""
        prev = self.status
        self.desc = S.truncate_desc(desc or "")
        self.status = status
        res = S.result_of(status)
        if res:
            self.result = res
        if self._start is not None:
            self.duration = int((time.monotonic() - self._start) * 1000)
            self._start = None
        if self.result == S.NEUTRAL:
            return
        report = False
        if self.result == S.FAILED:
            if self.health > 0:
                self.failed_checks += 1
                report = True
                self.health -= 1
                if self.health < self.rise:
                    self.health = 0
        elif self.result in (S.PASSED, S.CONDPASS) and self.health < self.rise + self.fall - 1:
            report = True
            self.health += 1
            if self.health >= self.rise:
                self.health = self.rise + self.fall - 1
        if self.log_health and (status != prev or report):
            self._log_health_line()

    def health_line(self) -> str:
        """``option log-health-checks`` line (without the final period)."""
        srv = self.server
        ok = self.result >= S.PASSED
        cond = "conditionally " if self.result == S.CONDPASS else ""
        text = (
            f"Health check for {'backup ' if srv.backup else ''}server {srv.backend.name}/{srv.name} "
            f"{cond}{'succeeded' if ok else 'failed'}, reason: {self.reason()}"
        )
        up = self.health >= self.rise
        if up:
            state = "UP" if srv.uweight else "DRAIN"
            return text + f", status: {self.health - self.rise + 1}/{self.fall} {state}"
        return text + f", status: {self.health}/{self.rise} DOWN"

    def _log_health_line(self) -> None:
        hook = getattr(self.server.backend, "log_health_check", None)
        if hook is not None:
            hook(self.server, self.health_line())

    def _notify(self) -> None:
        """``check_notify_failure`` / ``_stopping`` / ``_success`` after a check."""
        srv = self.server
        if self.paused or srv.maint:
            return
        reason = "" if self.log_health else self.reason()
        before = srv.op_state
        if self.result == S.FAILED:
            if self.health > 0:
                return
            srv.set_stopped(reason)
            if before != STOPPED and srv.op_state == STOPPED and srv.spec.on_marked_down == "shutdown-sessions":
                srv.backend.shutdown_sessions(srv, "D")
        elif self.result == S.CONDPASS:
            if self.health < self.rise:
                return
            srv.set_stopping(reason)
        elif self.result == S.PASSED:
            if self.health < self.rise:
                return
            srv.set_running(reason)
            if (
                before in (STOPPED, STOPPING)
                and srv.op_state in (RUNNING, STARTING)
                and srv.spec.on_marked_up == "shutdown-backup-sessions"
                and not srv.backup
                and srv.eweight
            ):
                srv.backend.shutdown_backup_sessions()

    def state_header(self) -> str:
        """``X-Haproxy-Server-State`` value (``http-check send-state``)."""
        srv = self.server
        be = srv.backend
        if not self.enabled:
            state = "no check"
        elif srv.op_state != STOPPED:
            full = self.health == self.rise + self.fall - 1
            word = "NOLB" if srv.op_state == STOPPING else "UP"
            state = word if full else f"{word} {self.health - self.rise + 1}/{self.fall}"
        else:
            state = f"DOWN {self.health}/{self.rise}" if self.health else "DOWN"
        servers = list(getattr(be, "servers", []) or [])
        act = [s for s in servers if not s.backup and s.usable()]
        pool = act or [s for s in servers if s.backup and s.usable()]
        total = sum(s.eweight for s in pool)
        beconn = int(getattr(be, "cur_sess", 0) or 0) - int(getattr(be, "nbpend", 0) or 0)
        out = (
            f"{state}; address={srv.host}; port={srv.port}; name={be.name}/{srv.name}; node={self.node}; "
            f"weight={srv.eweight}/{total}; scur={srv.cur_sess}/{beconn}; qcur={srv.nbpend}"
        )
        if srv.op_state == STARTING and srv.slowstart and srv.ramp_start is not None:
            elapsed = time.monotonic() - srv.ramp_start
            if elapsed * 1000 < srv.slowstart:
                out += f"; throttle={max(1, int(100 * elapsed * 1000 // srv.slowstart))}%"
        return out


# ------------------------------------------------------------------ wiring
def attach(server: Server, proxy: Proxy) -> Check | None:
    """Create the check of ``server`` when its spec has ``check`` (and set ``server.check``)."""
    if not server.spec.check:
        return None
    chk = Check(server, proxy)
    server.check = chk
    return chk


def start_checks(checks: list[Check], max_spread_checks: int = 0) -> None:
    """Start checks spread as HAProxy does at start-up (``start_checks``/``start_check_task``).

    Check number ``pos`` of ``n`` first runs after ``mininter * pos / n`` ms, where
    ``mininter`` is the smallest interval at or above 1s among all checks (at least the
    check's own interval, at most ``max-spread-checks`` when set).
    """
    n = len(checks)
    if not n:
        return
    mininter = 0
    for c in checks:
        gi = c.getinter()
        if gi >= SRV_CHK_INTER_THRES and (not mininter or mininter > gi):
            mininter = gi
    for pos, c in enumerate(checks):
        m = max(mininter, c.getinter())
        if max_spread_checks and m > max_spread_checks:
            m = max_spread_checks
        c.start(m * pos // n)
