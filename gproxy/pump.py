"""The byte pump: moves bytes between an established client and server socket pair.

Driven by the gevent hub's io watchers as callbacks (no greenlet per direction): a read
watcher per side is active while that side may be read, a write watcher only while output
is pending.  Reads go into one shared buffer; bytes are copied only when the peer cannot
take them all at once.  Inactivity is a stamp per side (``cli_act``/``srv_act``) checked by
the sweeper greenlet (``Sweeper``), never a socket timeout.  When both directions are done
or an error/timeout ends the pair, ``on_done(term)`` is called once, with HAProxy's
termination state (``--``, ``CD``, ``SD``, ``cD``, ``sD``).

Hot path rules (DESIGN.md): no allocation that can be avoided, no logging, no dict lookups
by string; counters are plain attributes.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import gevent
from gevent.hub import get_hub

BUFSIZE = 256 * 1024
POOL_MAX = 64
POOL: list[bytearray] = []
# The shared read buffer.  When a peer cannot take a whole read, the pump keeps this
# buffer as its pending data (no copy) and the module takes a fresh one from the pool.
_BUF = bytearray(BUFSIZE)
_MV = memoryview(_BUF)


def _swap_buffer() -> bytearray:
    """Hand the current shared buffer to the caller; install another one."""
    global _BUF, _MV
    owned = _BUF
    _BUF = POOL.pop() if POOL else bytearray(BUFSIZE)
    _MV = memoryview(_BUF)
    return owned


def give_back(buf: bytearray | None) -> None:
    if buf is not None and len(POOL) < POOL_MAX:
        POOL.append(buf)
SHUT_WR = socket.SHUT_WR
READ, WRITE = 1, 2


class Pump:
    """Relay both directions between ``cli`` and ``srv`` (raw non-blocking sockets)."""

    __slots__ = (
        "bytes_in",
        "bytes_out",
        "c_buf",
        "c_eof",
        "c_pend",
        "c_r",
        "c_w",
        "cli",
        "cli_act",
        "done",
        "loop",
        "on_done",
        "s_buf",
        "s_eof",
        "s_pend",
        "s_r",
        "s_w",
        "srv",
        "srv_act",
        "sweeper",
        "t_client",
        "t_client_fin",
        "t_server",
        "t_server_fin",
    )

    def __init__(self, cli: Any, srv: Any, on_done: Callable[[str], None]) -> None:
        loop = get_hub().loop
        self.loop = loop
        self.cli = cli
        self.srv = srv
        cfd, sfd = cli.fileno(), srv.fileno()
        self.c_r = loop.io(cfd, READ)
        self.c_w = loop.io(cfd, WRITE)
        self.s_r = loop.io(sfd, READ)
        self.s_w = loop.io(sfd, WRITE)
        self.c_pend: memoryview | None = None  # bytes waiting to go to the client
        self.s_pend: memoryview | None = None  # bytes waiting to go to the server
        self.c_buf: bytearray | None = None  # pool buffer holding c_pend
        self.s_buf: bytearray | None = None  # pool buffer holding s_pend
        self.c_eof = False  # client sent FIN (and we forwarded it)
        self.s_eof = False
        self.bytes_in = 0  # client -> server
        self.bytes_out = 0  # server -> client
        now = loop.now()
        self.cli_act = now
        self.srv_act = now
        self.on_done = on_done
        self.done = False
        # inactivity limits in seconds (0 = none), set by the session
        self.t_client = 0.0
        self.t_server = 0.0
        self.t_client_fin = 0.0
        self.t_server_fin = 0.0
        self.sweeper: Sweeper | None = None

    def start(self, first_to_srv: bytes = b"", first_to_cli: bytes = b"") -> None:
        if first_to_srv:
            self.s_pend = memoryview(first_to_srv)
            self.s_w.start(self._srv_writable)
        else:
            self.c_r.start(self._cli_readable)
        if first_to_cli:
            self.c_pend = memoryview(first_to_cli)
            self.c_w.start(self._cli_writable)
        else:
            self.s_r.start(self._srv_readable)

    # ---- client -> server ----
    def _cli_readable(self) -> None:
        try:
            n = self.cli.recv_into(_BUF)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.finish("CD")
            return
        if not n:
            self.c_r.stop()
            self.c_eof = True
            self.cli_act = now = self.loop.now()
            if self.t_server_fin:
                self.srv_act = now  # the server is now read under server-fin (HAProxy hcto)
            try:
                self.srv.shutdown(SHUT_WR)
            except OSError:
                pass
            if self.s_eof:
                self.finish("--")
            return
        self.bytes_in += n
        now = self.loop.now()
        self.cli_act = now
        self.srv_act = now
        try:
            sent = self.srv.send(_MV[:n])
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.finish("SD")
            return
        if sent < n:
            self.s_pend = _MV[sent:n]
            self.s_buf = _swap_buffer()
            self.c_r.stop()
            self.s_w.start(self._srv_writable)

    def _srv_writable(self) -> None:
        data = self.s_pend
        try:
            sent = self.srv.send(data)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.finish("SD")
            return
        self.srv_act = self.loop.now()
        if sent < len(data):
            self.s_pend = data[sent:]
            return
        self.s_pend = None
        give_back(self.s_buf)
        self.s_buf = None
        self.s_w.stop()
        if not self.c_eof and not self.done:
            self.c_r.start(self._cli_readable)

    # ---- server -> client ----
    def _srv_readable(self) -> None:
        try:
            n = self.srv.recv_into(_BUF)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.finish("SD")
            return
        if not n:
            self.s_r.stop()
            self.s_eof = True
            self.srv_act = now = self.loop.now()
            if self.t_client_fin:
                self.cli_act = now  # the client is now read under client-fin (HAProxy hcto)
            try:
                self.cli.shutdown(SHUT_WR)
            except OSError:
                pass
            if self.c_eof:
                self.finish("--")
            return
        self.bytes_out += n
        now = self.loop.now()
        self.cli_act = now
        self.srv_act = now
        try:
            sent = self.cli.send(_MV[:n])
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.finish("CD")
            return
        if sent < n:
            self.c_pend = _MV[sent:n]
            self.c_buf = _swap_buffer()
            self.s_r.stop()
            self.c_w.start(self._cli_writable)

    def _cli_writable(self) -> None:
        data = self.c_pend
        try:
            sent = self.cli.send(data)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.finish("CD")
            return
        self.cli_act = self.loop.now()
        if sent < len(data):
            self.c_pend = data[sent:]
            return
        self.c_pend = None
        give_back(self.c_buf)
        self.c_buf = None
        self.c_w.stop()
        if not self.s_eof and not self.done:
            self.s_r.start(self._srv_readable)

    # ---- end ----
    def expired(self, now: float) -> str | None:
        """Termination state if an inactivity limit passed, else None (called by the sweeper).

        As HAProxy: a side is watched while it may still send (no FIN yet) or has output
        pending; once the FIN of the *other* side was forwarded to it, it is read under its
        half-closed timeout (``client-fin`` / ``server-fin``) instead of the normal one.
        """
        if not self.c_eof or self.c_pend is not None:
            tc = self.t_client_fin if (self.s_eof and self.t_client_fin) else self.t_client
            if tc and now - self.cli_act >= tc:
                return "cD"
        if not self.s_eof or self.s_pend is not None:
            ts = self.t_server_fin if (self.c_eof and self.t_server_fin) else self.t_server
            if ts and now - self.srv_act >= ts:
                return "sD"
        return None

    def finish(self, term: str) -> None:
        if self.done:
            return
        self.done = True
        self.c_r.stop()
        self.c_w.stop()
        self.s_r.stop()
        self.s_w.stop()
        self.c_r.close()
        self.c_w.close()
        self.s_r.close()
        self.s_w.close()
        self.c_pend = self.s_pend = None
        give_back(self.c_buf)
        give_back(self.s_buf)
        self.c_buf = self.s_buf = None
        if self.sweeper is not None:
            self.sweeper.remove(self)
        self.on_done(term)


class Sweeper:
    """One greenlet checking every registered pump's inactivity stamps."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.pumps: set[Pump] = set()
        self.greenlet: gevent.Greenlet | None = None

    def add(self, pump: Pump) -> None:
        pump.sweeper = self
        self.pumps.add(pump)
        if self.greenlet is None:
            self.greenlet = gevent.spawn(self._run)

    def remove(self, pump: Pump) -> None:
        self.pumps.discard(pump)

    def _run(self) -> None:
        loop = get_hub().loop
        while True:
            gevent.sleep(self.interval)
            loop.update_now()
            now = loop.now()
            expired = [(p, t) for p in self.pumps if (t := p.expired(now)) is not None]
            for p, t in expired:
                p.finish(t)


SWEEPER = Sweeper()
