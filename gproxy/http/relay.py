"""Body relay: moves one HTTP message body from one socket to the other, following its
framing, with hub io-watcher callbacks (DESIGN: "greenlets for control flow, watchers
for bytes").

A ``BodyRelay`` forwards exactly the body: ``remaining`` bytes for Content-Length (reads
are bounded so that nothing after the body is consumed), a chunked body whose end a
``parse.ChunkTracker`` finds in the raw bytes (which are forwarded unchanged but the
trailers, held back and sent rebuilt as HAProxy does, see ``_send_held``; bytes past
the last chunk are kept in ``leftover`` for the next message), or everything until the
source closes.  It never holds more than one buffer per direction: reads go into a
module-wide buffer and are copied only when the destination cannot take them at once
(the same scheme as ``pump.Pump``).  When the body is through, or on an error,
``owner.relay_done(relay, code)`` is called once from the hub.

Inactivity is a stamp (``act``) that the session's sweeper check reads; no per-chunk
timers, no logging, no allocation beyond the memoryview slice of each read.
"""

from __future__ import annotations

from typing import Any

from ..pump import BUFSIZE, POOL, give_back
from .parse import ChunkError, ChunkTracker

# This module's shared read buffer; spare buffers come from (and go back to) pump's pool.
_BUF = bytearray(BUFSIZE)
_MV = memoryview(_BUF)

# completion codes
OK, SRC_EOF, SRC_ERR, DST_ERR, BAD_CHUNK, STOPPED = range(6)


def _swap() -> bytearray:
    """Hand the current read buffer to the caller (it holds pending data); take another."""
    global _BUF, _MV
    owned = _BUF
    _BUF = POOL.pop() if POOL else bytearray(BUFSIZE)
    _MV = memoryview(_BUF)
    return owned


class BodyRelay:
    """One direction, one message body."""

    __slots__ = (
        "act",
        "active",
        "chunk",
        "data0",
        "dst",
        "dst_w",
        "finishing",
        "leftover",
        "loop",
        "nbytes",
        "owner",
        "pbuf",
        "pend",
        "remaining",
        "src",
        "src_r",
        "t_dst",
        "t_src",
        "term_dst",
        "term_src",
        "until_close",
    )

    def __init__(self, owner: Any, loop: Any, src: Any, src_r: Any, dst: Any, dst_w: Any) -> None:
        self.owner = owner
        self.loop = loop
        self.src = src
        self.src_r = src_r
        self.dst = dst
        self.dst_w = dst_w
        self.remaining = -1  # Content-Length bytes still to move; -1: not CL framing
        self.chunk: ChunkTracker | None = None
        self.data0 = 0  # chunk payload already counted when the relay started
        self.until_close = False
        self.leftover = b""
        self.nbytes = 0
        self.pend: memoryview | None = None
        self.pbuf: bytearray | None = None
        self.finishing = False
        self.active = False
        self.act = loop.now()
        self.t_src = 0.0
        self.t_dst = 0.0
        self.term_src = "cD"
        self.term_dst = "sD"

    def start(self, pending: bytes = b"") -> None:
        """Start moving; ``pending`` bytes (already part of the body) are sent first."""
        self.active = True
        self.act = self.loop.now()
        if pending:
            self.pend = memoryview(pending)
            self.dst_w.start(self._writable)
        else:
            self.src_r.start(self._readable)

    def stop(self) -> None:
        if self.active:
            self.active = False
            self.src_r.stop()
            self.dst_w.stop()
            self.pend = None
            give_back(self.pbuf)
            self.pbuf = None

    def _end(self, code: int) -> None:
        self.stop()
        self.owner.relay_done(self, code)

    def expired(self, now: float) -> str | None:
        if not self.active:
            return None
        if self.pend is not None:
            if self.t_dst and now - self.act >= self.t_dst:
                return self.term_dst
        elif self.t_src and now - self.act >= self.t_src:
            return self.term_src
        return None

    def _readable(self) -> None:
        rem = self.remaining
        try:
            if rem > 0:
                n = self.src.recv_into(_MV[: min(BUFSIZE, rem)])
            else:
                n = self.src.recv_into(_BUF)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._end(SRC_ERR)
            return
        if not n:
            self._end(OK if self.until_close else SRC_EOF)
            return
        self.act = self.loop.now()
        if rem > 0:
            rem -= n
            self.remaining = rem
            if not rem:
                self.finishing = True
        elif self.chunk is not None:
            try:
                k = self.chunk.feed(_BUF, 0, n)
            except ChunkError:
                self._end(BAD_CHUNK)
                return
            if self.chunk.done:
                if k < n:
                    self.leftover = bytes(_BUF[k:n])
                n = k
                self.finishing = True
            if self.chunk.hold >= 0:
                self._send_held(n)
                return
        self.nbytes += n
        try:
            sent = self.dst.send(_MV[:n])
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._end(DST_ERR)
            return
        if sent < n:
            self.pend = _MV[sent:n]
            self.pbuf = _swap()
            self.src_r.stop()
            self.dst_w.start(self._writable)
            return
        if self.finishing:
            self._end(OK)

    def _send_held(self, n: int) -> None:
        """The end of a chunked body: trailers are held back, then sent rebuilt
        (``ChunkTracker.forward``), so what goes out is not the read buffer."""
        self.nbytes += n
        out = self.chunk.forward(_BUF, 0, n)
        sent = 0
        if out:
            try:
                sent = self.dst.send(out)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self._end(DST_ERR)
                return
        if sent < len(out):
            self.pend = memoryview(out)[sent:]
            self.src_r.stop()
            self.dst_w.start(self._writable)
            return
        if self.finishing:
            self._end(OK)

    def _writable(self) -> None:
        data = self.pend
        try:
            sent = self.dst.send(data)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._end(DST_ERR)
            return
        self.act = self.loop.now()
        if sent < len(data):
            self.pend = data[sent:]
            return
        self.pend = None
        give_back(self.pbuf)
        self.pbuf = None
        self.dst_w.stop()
        if self.finishing:
            self._end(OK)
            return
        self.src_r.start(self._readable)
