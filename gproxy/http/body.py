"""Message bodies as HAProxy 2.6's body sample fetches see them.

``req.body``, ``req.body_len``, ``req.body_size`` and ``req.body_param`` read the
payload HAProxy holds in the request channel's buffer when the rules run: the bytes that
came with the head, or the whole body, up to a buffer, once it was waited for (``option
http-buffer-request``: frontend before its http-request rules, backend before the
backend's; ``http-request wait-for-body``: before the rules after it).  ``res.body``,
``res.body_len`` and ``res.body_size`` do the same for the response in http-response
and http-after-response rules (``http-response wait-for-body``).  The engine
(``h1.py``) puts the raw body bytes it holds, as received (chunk framing included, maybe
followed by a pipelined request), in ``txn.extra["req_body"]``, and ``(response,
bytes)`` in ``txn.extra["res_body"]`` (bytes None: a response without a body); this
module turns them into what HAProxy 2.6 returns (measured with haproxy 2.6.12):

* the payload is de-chunked: chunk sizes, extensions and trailers are not part of it;
* at most one buffer of it: ``tune.bufsize - tune.maxrewrite - 48`` bytes of HTX room,
  less the head (``parse.htx_blocks``) and 8 bytes per data block (HAProxy holds one
  block for a Content-Length body, two for a chunked one);
* ``body_size`` is the Content-Length, or for a chunked body the payload held plus what
  the chunk in progress still announces (its size line counts once it is complete), or
  for a response delimited by the server's close the payload held;
* ``body_param`` splits on ``&`` and ``;`` and performs no URL decoding: ``+`` and
  ``%xx`` stay as sent; a name matches case-sensitively; without a name the first
  ``=`` anywhere starts the value (``http_find_next_url_param``).

Pure: no sockets, never yields.
"""

from __future__ import annotations

import re
from typing import Any

from .parse import htx_blocks

__all__ = ["BodyView", "dechunk", "next_param", "param_values", "room_for", "view"]

#: HTX room of a default 16 kB buffer (``tune.bufsize 16384``, ``maxrewrite 1024``)
DEFAULT_ROOM = 16384 - 1024 - 48
_BLOCK = 8  # an HTX block's metadata

_AMP, _SEMI, _EQ = 0x26, 0x3B, 0x3D
_HEX = re.compile(rb"[0-9A-Fa-f]+")


def dechunk(raw: bytes, limit: int = -1) -> tuple[bytes, int]:
    """The payload of the chunked bytes ``raw`` (possibly incomplete) and how many bytes
    the chunk in progress still announces beyond it.

    At most ``limit`` payload bytes are taken (-1: no limit); the rest of the chunk cut
    by the limit counts as announced.  Parsing stops at the last chunk, at an incomplete
    or unreadable size line (the engine has already refused malformed framing).
    """
    out: list[bytes] = []
    got = 0
    pos = 0
    n = len(raw)
    while pos < n:
        eol = raw.find(b"\n", pos)
        if eol < 0:
            break
        size_text = raw[pos:eol].split(b";", 1)[0].strip(b" \t\r")
        size = int(size_text, 16) if _HEX.fullmatch(size_text) else 0
        if size <= 0:
            break
        start = eol + 1
        avail = min(size, n - start)
        if limit >= 0 and got + avail > limit:
            take = limit - got
            out.append(raw[start : start + take])
            return b"".join(out), size - take
        out.append(raw[start : start + avail])
        got += avail
        if avail < size:
            return b"".join(out), size - avail
        pos = start + size
        # the CRLF after the chunk data
        if raw.startswith(b"\r\n", pos):
            pos += 2
        elif raw.startswith(b"\n", pos):
            pos += 1
        else:
            break
    return b"".join(out), 0


class BodyView:
    """What the fetches return for one request: ``data`` (the payload held) and
    ``size`` (``req.body_size``)."""

    __slots__ = ("data", "size")

    def __init__(self, data: bytes, size: int) -> None:
        self.data = data
        self.size = size


EMPTY = BodyView(b"", 0)


def room_for(msg: Any, maxhead: int = DEFAULT_ROOM) -> int:
    """Payload bytes HAProxy's buffer holds beside the head of ``msg`` (a request or a
    response)."""
    blocks = 2 if msg.chunked else 1
    if hasattr(msg, "method"):  # a request
        head = htx_blocks(msg.method, msg.uri, msg.version, msg.headers.items)
    else:
        head = htx_blocks(msg.version, str(msg.status), msg.reason, msg.headers.items)
    return max(0, maxhead - head - _BLOCK * blocks)


def view(raw: bytes | None, req: Any, maxhead: int = DEFAULT_ROOM) -> BodyView:
    """The body of ``req`` (a request or a response) as the fetches see it, from the raw
    bytes held (``None``: no body bytes were exposed, e.g. a request without a body).  A
    response without Content-Length or chunked framing runs until the server closes: its
    size is what is held."""
    if req is None:
        return EMPTY
    if req.chunked:
        if not raw:
            return EMPTY
        data, pending = dechunk(raw, room_for(req, maxhead))
        return BodyView(data, len(data) + pending)
    cl = req.body_len
    if cl is None and raw and not hasattr(req, "method"):  # a response until the server closes
        data = bytes(raw[: room_for(req, maxhead)])
        return BodyView(data, len(data))
    if not cl:
        return EMPTY
    raw = raw or b""
    room = room_for(req, maxhead)
    return BodyView(bytes(raw[: min(room, cl)]), cl)


# ------------------------------------------------------------------ url-encoded parameters
def _find_pos(buf: bytes, pos: int, end: int, name: bytes, delim: int) -> int:
    """``http_find_url_param_pos()`` on a contiguous buffer: where ``name=`` starts, or -1."""
    n = len(name)
    while pos < end:
        equal = pos + n
        if equal >= end:
            return -1
        if buf[equal] == _EQ:
            if buf[pos:equal] == name:
                return pos
            pos += n + 1
        while pos < end:
            c = buf[pos]
            if c == _AMP or c == _SEMI or c == delim:
                break
            pos += 1
        if pos >= end:
            return -1
        pos += 1
    return -1


def next_param(buf: bytes, start: int, name: bytes, delim: int = _AMP) -> tuple[int, int] | None:
    """``http_find_next_url_param()``: (value start, value end) of the next parameter
    ``name`` at or after ``start`` (any parameter when ``name`` is empty), or None."""
    end = len(buf)
    if name:
        at = _find_pos(buf, start, end, name, delim)
        if at < 0:
            return None
        vs = at + len(name) + 1
    else:
        eq = buf.find(b"=", start, end)
        if eq < 0:
            return None
        vs = eq + 1
    ve = vs
    while ve < end:
        c = buf[ve]
        if c == _AMP or c == _SEMI or c == delim:
            break
        ve += 1
    return vs, ve


def param_values(buf: bytes, name: bytes, first_only: bool = False) -> list[bytes]:
    """Every value ``req.body_param(name)`` reports when an ACL iterates (the next search
    starts where the previous value ended, as HAProxy's fetch context does)."""
    out: list[bytes] = []
    start = 0
    end = len(buf)
    while True:
        got = next_param(buf, start, name)
        if got is None:
            return out
        vs, ve = got
        out.append(buf[vs:ve])
        if first_only or ve >= end:
            return out
        start = ve
