"""The stats socket server: listening sockets, connections and HAProxy's CLI protocol.

Owns the ``stats socket`` listeners (UNIX sockets with ``mode``/``uid``/``gid``, TCP with
``ipv4@``/``ipv6@``/plain ``addr:port``, inherited ``fd@N``), ``stats maxconn`` (connections
beyond it wait in the backlog) and one greenlet per connection running HAProxy's
``cli_io_handler`` state machine:

* a request is a line; an unescaped ``;`` also ends a command (``\\`` escapes); a line
  ending in ``<<`` starts a payload that ends at the first empty line;
* each command's output is followed by a line feed (nothing after ``operator -`` /
  ``user -``); in ``prompt`` mode by ``"\\n> "`` instead (``"+ "`` while a payload is
  being typed);
* without ``prompt`` the connection closes once the commands already received are
  done; ``quit`` closes at once; an incomplete last line is dropped;
* ``stats timeout`` (default 10s; ``set timeout cli`` per connection) bounds the wait
  for a request and the write of a response;
* the level is the socket's ``level`` (default operator) and commands below their level
  answer ``Permission denied``.

Command parsing and execution are in ``admin/commands.py``.  CLI connections count in
``CumConns`` and in ``Jobs`` but not in ``CurrConns`` (HAProxy's LI_O_UNLIMITED).
"""

from __future__ import annotations

import _socket
import errno
import itertools
import os
import stat
import time
from typing import Any

import gevent
from gevent import socket as gsocket
from gevent.lock import Semaphore

from .. import log as logmod
from . import commands as cmds

DEFAULT_MAXCONN = 10
MAX_REQUEST = 16384  # HAProxy's default bufsize: a longer request line closes the connection

_cli_ids = itertools.count(1)


class AdminListener:
    """One bound stats socket (a ``stats socket`` line may give several addresses)."""

    def __init__(self, bind: Any, address: Any, lid: int) -> None:
        self.bind_spec = bind
        self.address = address
        self.id = lid
        self.name: str | None = bind.name
        self.level = cmds.LEVELS.get(bind.level or "operator", cmds.OPERATOR)
        self.sock: Any = None

    def describe(self) -> str:
        a = self.address
        if a.family in ("unix", "abns"):
            return a.host
        if a.family == "fd":
            return f"fd@{a.host}"
        if a.family == "ipv6":
            return f"[{a.host or '::'}]:{a.port}"
        return f"{a.host or '0.0.0.0'}:{a.port}"

    def bind(self) -> None:
        """Create, bind and listen; raises OSError."""
        a = self.address
        b = self.bind_spec
        backlog = b.backlog or 10
        if a.family == "fd":
            sock = gsocket.socket(fileno=int(a.host))
        elif a.family in ("unix", "abns"):
            sock = gsocket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            try:
                if a.family == "abns":
                    sock.bind("\0" + a.host)
                else:
                    self._bind_unix(sock, a.host)
            except OSError:
                sock.close()
                raise
        else:
            fam = _socket.AF_INET6 if a.family == "ipv6" else _socket.AF_INET
            sock = gsocket.socket(fam, _socket.SOCK_STREAM)
            try:
                sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
                try:  # as HAProxy: a reloading process binds beside the old one
                    sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEPORT, 1)
                except (AttributeError, OSError):
                    pass
                if fam == _socket.AF_INET6:
                    sock.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 1 if b.v6only else 0)
                sock.bind((a.host or ("::" if fam == _socket.AF_INET6 else "0.0.0.0"), a.port))
            except OSError:
                sock.close()
                raise
        try:
            sock.listen(backlog)
        except OSError:
            sock.close()
            raise
        sock.settimeout(None)
        self.sock = sock

    def _bind_unix(self, sock: Any, path: str) -> None:
        """As HAProxy: bind a temporary name, set owner and mode, rename over ``path``
        (an existing socket is replaced atomically, a live one keeps its clients)."""
        b = self.bind_spec
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISSOCK(st.st_mode):
            raise OSError(errno.EEXIST, os.strerror(errno.EEXIST))
        sock.bind(tmp)
        try:
            if b.uid is not None or b.gid is not None:
                os.chown(tmp, b.uid if b.uid is not None else -1, b.gid if b.gid is not None else -1)
            if b.mode is not None:
                os.chmod(tmp, b.mode)
            os.rename(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


class CliSession:
    """A CLI connection as ``show sess`` lists it (frontend ``GLOBAL``, no backend)."""

    frontend = None
    backend = None
    server = None
    pump = None
    be_ip = None
    srv_ip = None
    retries = 0

    def __init__(self, listener: AdminListener, conn: Any, addr: Any) -> None:
        self.id = next(_cli_ids)
        self.accept_ts = time.time()
        self.accept_mono = time.monotonic()
        self.listener = listener
        self.conn = conn
        fam = listener.address.family
        self.proto = {"ipv4": "tcpv4", "ipv6": "tcpv6"}.get(fam, "unix_stream")
        if isinstance(addr, tuple) and addr:
            self.cli_ip, self.cli_port = addr[0], addr[1]
        else:
            self.cli_ip, self.cli_port = "unix", listener.id
        try:
            la = conn.getsockname()
        except OSError:
            la = None
        if isinstance(la, tuple):
            self.fe_ip, self.fe_port = la[0], la[1]
        else:
            self.fe_ip, self.fe_port = "unix", 0
        self.killed = ""

    def fds(self) -> tuple[int, int]:
        try:
            return self.conn.fileno(), -1
        except OSError:
            return -1, -1

    def kill(self) -> None:
        self.killed = "K"
        try:
            self.conn.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass


class AdminServer:
    """Every ``stats socket`` of a process, sharing ``stats maxconn`` and ``stats timeout``."""

    def __init__(self, process: Any, binds: list[Any], timeout_ms: int = 10000, maxconn: int = DEFAULT_MAXCONN) -> None:
        self.process = process
        self.timeout = (timeout_ms or 10000) / 1000.0
        self.maxconn = maxconn or DEFAULT_MAXCONN
        self.slots = Semaphore(self.maxconn)
        self.listeners: list[AdminListener] = []
        lid = 1
        for b in binds:
            for a in b.addresses:
                self.listeners.append(AdminListener(b, a, b.id or lid))
                lid += 1
        self.sessions: set[CliSession] = set()
        self._greenlets: list[gevent.Greenlet] = []
        self.closed = False

    # ---- life cycle ----
    def bind(self) -> bool:
        """Bind every socket; on failure print HAProxy's alert, close them all, return False."""
        for li in self.listeners:
            try:
                li.bind()
            except OSError as e:
                b = li.bind_spec
                reason = e.strerror or str(e)
                if li.address.family in ("unix", "abns"):
                    text = f"cannot bind UNIX socket ({reason}) [{li.describe()}]"
                else:
                    text = f"cannot bind socket ({reason}) for [{li.describe()}]"
                logmod.alert(f"Binding [{b.file}:{b.line}] for frontend GLOBAL: {text}", level=None)
                self.close()
                return False
        return True

    def start(self) -> None:
        for li in self.listeners:
            if li.sock is not None:
                self._greenlets.append(gevent.spawn(self._accept_loop, li))

    def close(self) -> None:
        self.closed = True
        for g in self._greenlets:
            g.kill(block=False)
        self._greenlets = []
        for li in self.listeners:
            li.close()

    def listener_count(self) -> int:
        return sum(1 for li in self.listeners if li.sock is not None)

    def active_count(self) -> int:
        return len(self.sessions)

    # ---- accept ----
    def _accept_loop(self, li: AdminListener) -> None:
        while not self.closed and li.sock is not None:
            self.slots.acquire()
            try:
                conn, addr = li.sock.accept()
            except OSError as e:
                self.slots.release()
                if li.sock is None or self.closed:
                    return
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    gevent.sleep(0.1)
                continue
            except BaseException:
                self.slots.release()
                raise
            gevent.spawn(self._serve, li, conn, addr)

    # ---- one connection ----
    def _serve(self, li: AdminListener, conn: Any, addr: Any) -> None:
        sess = CliSession(li, conn, addr)
        self.sessions.add(sess)
        proc = self.process
        proc.cum_conn += 1  # HAProxy's totalconn counts CLI connections (not actconn)
        ctx = cmds.Context(proc, li.level, server=self, session=sess)
        try:
            Connection(self, ctx, conn).run()
        except Exception:  # noqa: BLE001 - a CLI bug must not kill the process
            import traceback

            traceback.print_exc()
        finally:
            self.sessions.discard(sess)
            try:
                conn.close()
            except OSError:
                pass
            self.slots.release()


class _Closed(Exception):
    """The peer closed, timed out, or the request overflowed."""


class Connection:
    """HAProxy's cli_io_handler() for one connection."""

    def __init__(self, server: AdminServer, ctx: cmds.Context, conn: Any) -> None:
        self.server = server
        self.ctx = ctx
        self.conn = conn
        self.rbuf = bytearray()
        self.eof = False

    def _timeout(self) -> float:
        t = self.ctx.timeout
        return t if t is not None else self.server.timeout

    def _fill(self) -> None:
        """Read more bytes (waiting up to the CLI timeout); _Closed on EOF or timeout."""
        if self.eof:
            raise _Closed()
        try:
            with gevent.Timeout(self._timeout(), _Closed):
                data = self.conn.recv(65536)
        except OSError:
            raise _Closed() from None
        if not data:
            self.eof = True
            raise _Closed()
        self.rbuf += data
        if len(self.rbuf) > MAX_REQUEST * 4:
            raise _Closed()

    def _more_pending(self) -> bool:
        """co_data(req): are request bytes already there (buffered or in the kernel)?"""
        if self.rbuf:
            return True
        if self.eof:
            return False
        try:
            self.conn.settimeout(0.0)
            try:
                data = self.conn.recv(65536)
            finally:
                self.conn.settimeout(None)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        self.rbuf += data
        return True

    def _line(self, payload: bool) -> str:
        """The next request line (without its delimiter and a final CR)."""
        while True:
            buf = self.rbuf
            i, n = 0, len(buf)
            cut = -1
            while i < n:
                b = buf[i]
                if b == 0x5C and not payload:  # backslash escapes the next byte
                    i += 2
                    continue
                if b == 0x0A or (b == 0x3B and not payload):
                    cut = i
                    break
                i += 1
            if cut >= 0:
                raw = bytes(buf[:cut])
                del buf[: cut + 1]
                if raw.endswith(b"\r"):
                    raw = raw[:-1]
                if len(raw) > MAX_REQUEST:
                    raise _Closed()
                return raw.decode("utf-8", "surrogateescape")
            if n > MAX_REQUEST:
                raise _Closed()
            self._fill()

    def _send(self, text: str) -> None:
        if not text:
            return
        data = text.encode("utf-8", "surrogateescape")
        try:
            with gevent.Timeout(self._timeout(), _Closed):
                self.conn.sendall(data)
        except OSError:
            raise _Closed() from None

    def run(self) -> None:
        ctx = self.ctx
        pending: str | None = None  # a command waiting for the end of its payload
        payload: list[str] = []
        try:
            while True:
                line = self._line(payload=pending is not None)
                out = ""
                if pending is not None:
                    if line:
                        payload.append(line)
                    else:
                        out = cmds.execute(ctx, pending, "\n".join(payload))
                        pending, payload = None, []
                elif line.endswith("<<"):
                    pending = line
                else:
                    out = cmds.execute(ctx, line)
                if ctx.quit:
                    return
                if ctx.prompt:
                    out += "+ " if pending is not None else "\n> "
                elif pending is None and not ctx.nolf:
                    out += "\n"
                ctx.nolf = False
                self._send(out)
                if ctx.quit or getattr(ctx.session, "killed", ""):
                    return
                if not ctx.prompt and pending is None and not self._more_pending():
                    return
        except _Closed:
            return
