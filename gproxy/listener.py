"""Listeners: one bound socket per ``bind`` address, its options, accept, pause and resume.

Owns the ``bind`` line (its address forms and the parameters registered in
``BIND_KEYWORDS``) and, at run time, the listening socket: binding (TCP v4/v6, unix
sockets with mode/owner, inherited ``fd@N``), accepting from a hub io watcher in batches,
stopping accept while the frontend or the process is full (state ``FULL``), while
paused (``WAITING``, SIGTTOU), or until a session rate limit allows the next session
(``LIMITED``, a timer resumes it: ``rate-limit sessions``, ``maxsessrate``, ``maxconnrate``).
"""

from __future__ import annotations

import _socket
import errno
import os
import socket
import stat
from collections.abc import Callable
from typing import Any

from gevent.hub import get_hub

from .config.model import Bind
from .config.parser import accepts_missing, parse_params
from .config.values import Address, BadValue, c_atoi, parse_bind_addresses, parse_time
from .registry import BIND_KEYWORDS, FE_SIDE, SECTION_KEYWORDS, ConfigError, KwCtx

# ----------------------------------------------------------------- keywords


@SECTION_KEYWORDS.register("bind", FE_SIDE[1:], "<addr>[:<port>][,...] [param*]", "listening address(es) of a frontend")
def _bind(ctx: KwCtx, args: list[str]) -> None:
    if not args or not args[0]:
        raise ConfigError("'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.")
    try:
        addrs = parse_bind_addresses(args[0])
    except BadValue as e:
        raise ConfigError(f"'bind' : {e}") from None
    for a in addrs:
        if a.family == "fd":
            _check_inherited_fd(int(a.host))
    b = Bind(addrs, ctx.file, ctx.line)
    ctx.target = b
    try:
        parse_params(ctx, BIND_KEYWORDS, args[1:], "bind")
    except ConfigError as e:
        sep = ":" if getattr(e, "unknown_keyword", False) else " :"  # HAProxy's two spellings
        raise ConfigError(f"'bind {args[0]}' in section '{ctx.section}'{sep} {e}") from None
    ctx.proxy.binds.append(b)


def _check_inherited_fd(fd: int) -> None:
    """str2sa_range() on ``fd@N``: the fd must be an open stream socket (read-only look)."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError as e:
        raise ConfigError(f"'bind' : cannot use file descriptor '{fd}' : {e.strerror}.") from None
    try:
        if sock.type != socket.SOCK_STREAM:
            raise ConfigError(f"'bind' : socket on file descriptor '{fd}' is of the wrong type.")
    finally:
        sock.detach()  # not ours: never close it


def _bkw(name: str, nargs: int, usage: str = "", doc: str = "") -> Callable[[Callable[..., None]], Callable[..., None]]:
    return BIND_KEYWORDS.register(name, ("frontend", "listen", "defaults", "global"), usage, doc, nargs=nargs)


@_bkw("name", 1, "<name>", "listener name in stats (default sock-N)")
@accepts_missing
def _b_name(ctx: KwCtx, a: list[str]) -> None:
    if not a[0]:
        raise ConfigError("'name' : missing name")
    ctx.target.name = a[0]


@_bkw("id", 1, "<id>", "listener numeric id")
@accepts_missing
def _b_id(ctx: KwCtx, a: list[str]) -> None:
    if len(ctx.target.addresses) != 1:
        raise ConfigError("'id' can only be used with a single socket")
    if not a[0]:
        raise ConfigError("'id' : expects an integer argument")
    if not a[0].lstrip("+-").isdigit():
        raise ConfigError(f"'id' : expects an integer argument, found '{a[0]}'")
    luid = c_atoi(a[0])
    if luid <= 0:
        raise ConfigError("'id' : custom id has to be > 0")
    ctx.target.id = luid


@_bkw("accept-proxy", 0, "", "expect a PROXY protocol v1/v2 header on every connection")
def _b_accept_proxy(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.accept_proxy = True


# numbers are read with atol() as in HAProxy ('abc' is 0)
@_bkw("maxconn", 1, "<n>", "max concurrent connections on this listener")
@accepts_missing
def _b_maxconn(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.maxconn = _atol_arg(a[0], "maxconn", "must be >= 0")


@_bkw("backlog", 1, "<n>", "listen() backlog")
@accepts_missing
def _b_backlog(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.backlog = _atol_arg(a[0], "backlog", "must be > 0")


@_bkw("v4v6", 0, "", "IPv6 socket also accepts IPv4")
def _b_v4v6(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.v4v6 = True


@_bkw("v6only", 0, "", "IPv6 socket accepts only IPv6")
def _b_v6only(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.v6only = True


@_bkw("transparent", 0, "", "bind a non-local address (IP_TRANSPARENT)")
def _b_transparent(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.transparent = True


@_bkw("defer-accept", 0, "", "TCP_DEFER_ACCEPT")
def _b_defer(ctx: KwCtx, a: list[str]) -> None:
    ctx.target.defer_accept = True


@_bkw("mode", 1, "<octal>", "unix socket permissions")
@accepts_missing
def _b_mode(ctx: KwCtx, a: list[str]) -> None:
    try:
        ctx.target.mode = int(a[0], 8)
    except ValueError:
        raise ConfigError(f"'mode' : missing or invalid mode '{a[0]}' (octal integer expected)") from None


@_bkw("uid", 1, "<uid>", "unix socket owner")
@accepts_missing
def _b_uid(ctx: KwCtx, a: list[str]) -> None:
    if not a[0]:
        raise ConfigError("'uid' : missing value")
    ctx.target.uid = c_atoi(a[0])


@_bkw("gid", 1, "<gid>", "unix socket group")
@accepts_missing
def _b_gid(ctx: KwCtx, a: list[str]) -> None:
    if not a[0]:
        raise ConfigError("'gid' : missing value")
    ctx.target.gid = c_atoi(a[0])


@_bkw("user", 1, "<user>", "unix socket owner by name")
@accepts_missing
def _b_user(ctx: KwCtx, a: list[str]) -> None:
    import pwd

    if not a[0]:
        raise ConfigError("'user' : missing user name")
    try:
        ctx.target.uid = pwd.getpwnam(a[0]).pw_uid
    except KeyError:
        raise ConfigError(f"'user' : unknown user name '{a[0]}'") from None


@_bkw("group", 1, "<group>", "unix socket group by name")
@accepts_missing
def _b_group(ctx: KwCtx, a: list[str]) -> None:
    import grp

    if not a[0]:
        raise ConfigError("'group' : missing group name")
    try:
        ctx.target.gid = grp.getgrnam(a[0]).gr_gid
    except KeyError:
        raise ConfigError(f"'group' : unknown group name '{a[0]}'") from None


@_bkw("level", 1, "user|operator|admin", "stats socket access level")
@accepts_missing
def _b_level(ctx: KwCtx, a: list[str]) -> None:
    if not a[0]:
        raise ConfigError("'level' : missing level")
    if a[0] not in ("user", "operator", "admin"):
        raise ConfigError(f"'level' only supports 'user', 'operator', and 'admin' (got '{a[0]}')")
    ctx.target.level = a[0]


@_bkw("tcp-ut", 1, "<timeout>", "TCP_USER_TIMEOUT")
@accepts_missing
def _b_tcp_ut(ctx: KwCtx, a: list[str]) -> None:
    if not a[0]:
        raise ConfigError("'tcp-ut' : missing TCP User Timeout value")
    try:
        ctx.target.extra["tcp-ut"] = parse_time(a[0], "tcp-ut")
    except BadValue as e:
        if e.kind in ("overflow", "underflow"):
            raise ConfigError(str(e)) from None
        raise ConfigError("'tcp-ut' : expects a positive delay in milliseconds") from None


for _n, _k in (("ssl", 0), ("crt", 1), ("crt-list", 1), ("alpn", 1), ("npn", 1), ("ca-file", 1), ("verify", 1),
               ("ciphers", 1), ("ciphersuites", 1), ("ssl-min-ver", 1), ("ssl-max-ver", 1), ("strict-sni", 0),
               ("no-sslv3", 0), ("no-tlsv10", 0), ("no-tlsv11", 0), ("no-tls-tickets", 0), ("curves", 1),
               ("ecdhe", 1), ("crl-file", 1), ("allow-0rtt", 0), ("tfo", 0), ("interface", 1), ("mss", 1),
               ("namespace", 1), ("nice", 1), ("process", 1), ("thread", 1), ("shards", 1), ("proto", 1),
               ("expose-fd", 1), ("severity-output", 1), ("accept-netscaler-cip", 1)):
    BIND_KEYWORDS.add(__import__("gproxy.registry", fromlist=["Keyword"]).Keyword(
        _n, ("frontend", "listen", "defaults", "global"), None, doc="not implemented by gproxy yet", ignored=True, nargs=_k))


def _atol_arg(text: str, kw: str, rule: str) -> int:
    """bind maxconn/backlog: a value is required, read with atol(), negative refused."""
    if not text:
        raise ConfigError(f"'{kw}' : missing value")
    val = c_atoi(text)
    if val < 0:
        raise ConfigError(f"'{kw}' : invalid value {val}, {rule}")
    return val


# ----------------------------------------------------------------- runtime

READ = 1
OPEN, WAITING, FULL = "OPEN", "WAITING", "FULL"
LIMITED = "LIMITED"  # held back by a session rate limit until its timer fires (HAProxy LI_LIMITED)


class Listener:
    """One listening socket of a frontend."""

    def __init__(self, frontend: Any, bind: Bind, address: Address, lid: int) -> None:
        self.frontend = frontend
        self.bind_spec = bind
        self.address = address
        self.id = bind.id or lid
        self.name = bind.name or f"sock-{lid}"
        self.sock: socket.socket | None = None
        self.raw: Any = None
        self.watcher: Any = None
        self.state = WAITING
        self.paused = False  # operator/SIGTTOU pause
        self.maxconn = bind.maxconn
        self.cur_conn = 0
        self.cum_conn = 0
        self.max_conn = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.denied_conn = 0
        self.family = socket.AF_INET
        self.backlog = 0
        self.unlistened = False  # paused with shutdown(SHUT_RD): listen() again on resume
        self.limit_timer: Any = None  # rate limit reached: resumes accept when it fires

    def describe(self) -> str:
        a = self.address
        if a.family == "unix":
            return a.host
        if a.family == "ipv6":
            return f"[{a.host}]:{a.port}"
        return f"{a.host or '0.0.0.0'}:{a.port}"

    def bind(self, inherited: dict[str, socket.socket] | None = None) -> None:
        """Create, bind and listen.  Raises OSError with the reason."""
        a = self.address
        key = self.describe()
        if inherited and key in inherited:
            sock = inherited.pop(key)
        elif a.family == "fd":
            sock = socket.socket(fileno=int(a.host))
        elif a.family == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                st = os.stat(a.host)
                if stat.S_ISSOCK(st.st_mode):
                    os.unlink(a.host)
            except FileNotFoundError:
                pass
            sock.bind(a.host)
            b = self.bind_spec
            if b.mode is not None:
                os.chmod(a.host, b.mode)
            if b.uid is not None or b.gid is not None:
                os.chown(a.host, b.uid if b.uid is not None else -1, b.gid if b.gid is not None else -1)
        else:
            fam = socket.AF_INET6 if a.family == "ipv6" else socket.AF_INET
            sock = socket.socket(fam, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            except (AttributeError, OSError):
                pass
            if fam == socket.AF_INET6:
                v6only = 1 if self.bind_spec.v6only else 0
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
            if self.bind_spec.transparent:
                sock.setsockopt(socket.SOL_IP, 19, 1)  # IP_TRANSPARENT
            if self.bind_spec.defer_accept:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
            host = a.host or ("::" if fam == socket.AF_INET6 else "0.0.0.0")
            try:
                sock.bind((host, a.port))
            except OSError:
                sock.close()
                raise
        backlog = self.bind_spec.backlog or self.frontend.backlog or 1024
        sock.listen(backlog)
        self.backlog = backlog
        sock.setblocking(False)
        self.sock = sock
        self.raw = getattr(sock, "_sock", sock)  # the plain _socket object: no gevent wrapper on accept
        self.family = sock.family

    def start(self) -> None:
        if self.sock is None:
            return
        if self.watcher is None:
            self.watcher = get_hub().loop.io(self.sock.fileno(), READ)
        self.state = OPEN
        if not self.paused:
            self.watcher.start(self._accept)

    def stop_accepting(self, state: str) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.state = state

    def resume(self) -> None:
        if self.sock is not None and not self.paused and self.watcher is not None and not self.watcher.active:
            self.state = OPEN
            self.watcher.start(self._accept)

    def pause(self) -> None:
        """SIGTTOU / operator pause: as HAProxy, stop listening so new connections are
        refused (shutdown(SHUT_RD) on a listening TCP socket); ``unpause`` listens again."""
        self.paused = True
        self.stop_accepting(WAITING)
        if self.sock is not None and self.family in (socket.AF_INET, socket.AF_INET6) and not self.unlistened:
            try:
                self.sock.shutdown(socket.SHUT_RD)
                self.unlistened = True
            except OSError:
                pass

    def unpause(self) -> None:
        if self.unlistened and self.sock is not None:
            try:
                self.sock.listen(self.backlog or 1024)
            except OSError:
                return  # stays paused (e.g. another process took the port meanwhile)
            self.unlistened = False
        self.paused = False
        self.resume()

    def close(self) -> None:
        if self.limit_timer is not None:
            self.limit_timer.stop()
            self.limit_timer.close()
            self.limit_timer = None
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher.close()
            self.watcher = None
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
            if self.address.family == "unix":
                try:
                    os.unlink(self.address.host)
                except OSError:
                    pass
        self.state = WAITING

    def full(self) -> bool:
        return bool(self.maxconn) and self.cur_conn >= self.maxconn

    def limit(self, delay: float) -> None:
        """A rate limit is reached (``rate-limit sessions``, ``maxsessrate``,
        ``maxconnrate``): stop accepting for ``delay`` seconds, when the frequency
        counter allows the next session (HAProxy's LI_LIMITED, shown as WAITING).
        Connections wait in the kernel's backlog meanwhile; none is refused."""
        self.stop_accepting(LIMITED)
        old = self.limit_timer
        if old is not None:
            old.stop()
            old.close()
        t = self.limit_timer = get_hub().loop.timer(delay)
        t.start(self._unlimit)

    def _unlimit(self) -> None:
        if self.state == LIMITED and self.sock is not None:
            self.resume()

    def _accept(self) -> None:
        fe = self.frontend
        raw = self.raw
        budget = 64
        if fe.rate_limit or fe.process.sps_lim or fe.process.cps_lim:
            budget = fe.rate_budget(self)
            if not budget:
                return
        for _ in range(budget):
            if self.full():
                self.stop_accepting(FULL)
                return
            if not fe.may_accept():
                self.stop_accepting(FULL)
                fe.full_listeners.add(self)
                return
            try:
                fd, addr = raw._accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # out of descriptors: pause accept until a session ends
                    self.stop_accepting(FULL)
                    fe.full_listeners.add(self)
                    return
                if e.errno in (errno.ECONNABORTED, errno.EPERM, errno.EPROTO):
                    continue
                return
            conn = _socket.socket(self.family, _socket.SOCK_STREAM, 0, fd)
            conn.setblocking(False)
            self.cur_conn += 1
            self.cum_conn += 1
            self.max_conn = max(self.max_conn, self.cur_conn)
            fe.accepted(self, conn, addr)

    def released(self) -> None:
        self.cur_conn -= 1
        if self.state == FULL and not self.paused:
            self.resume()
