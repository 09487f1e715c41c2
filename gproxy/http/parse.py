"""HTTP/1 head parsing and body framing, with HAProxy 2.6's acceptance rules.

Owns turning the bytes of a request or response head into a ``message.Request`` /
``message.Response`` (header names lower-cased, values trimmed, connection-level tokens
taken out) and deciding how the body that follows is framed; and ``ChunkTracker``, which
follows a chunked body through the raw bytes that are forwarded as they are.  Pure: no
sockets, never yields.

Why not httptools (measured here): llhttp rejects what HAProxy accepts and forwards --
any token method (``FOO``, ``get``), identical duplicate ``Content-Length`` headers
(merged by HAProxy), bare-LF line ends, folded header lines, ``HTTP/1.2`` -- so a second
parser would be needed anyway to decide those cases.  One compiled regex validating the
whole head plus a split costs 2.7 us for a wrk request (httptools with callbacks: 2.3 us)
and 5 us for an nginx response head (3 us).  Numbers on the wire (``Content-Length``,
chunk sizes) are checked with byte regexes: Python's ``int()`` accepts ``0x``, ``_`` and
spaces.

Rules checked against ``haproxy -db`` 2.6 (bytes compared, see tests/unit/test_http_parse.py):

* request line ``<token> SP+ <uri> SP+ HTTP/<d>.<d>``; leading empty lines skipped; URI bytes
  0x21..0x7e except ``#`` (``accept-invalid-http-request``: anything but 0..32 and 127);
  ``HTTP/1.2``, ``HTTP/2.0`` are forwarded as ``HTTP/1.1``; no version -> 400;
* header names are tokens (else 400); values trimmed of SP/HT, any other byte kept; folded
  lines joined with two spaces per CRLF as HAProxy does; bare LF accepted everywhere;
* ``Content-Length``: digits only, every value identical (then merged into one line),
  else 400 (502 for a response); with ``Transfer-Encoding`` it is removed and the
  connection closes after the transaction;
* ``Transfer-Encoding``: ``chunked`` twice or not last -> 400; a request coding other than
  chunked alone -> 400, ``x, chunked`` -> 422;
* repeated identical ``Host`` merged, different ones -> 400; an absolute URI whose
  authority differs from ``Host`` -> 400;
* WebSocket upgrade (``Upgrade: websocket`` + ``Connection: upgrade``) without
  ``Sec-WebSocket-Key`` -> 400.
"""

from __future__ import annotations

import re

from .message import Headers, Request, Response

# --------------------------------------------------------------------------- limits
BUFSIZE = 16384
MAXREWRITE = 1024
MAXHDR = 101

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_TOKEN_RE = re.compile(_TOKEN + "+")
_NAMES_RE = re.compile(r"(?:" + _TOKEN + r"+:\n)*")  # each header line: a token, then a colon
_REQLINE_RE = re.compile(r"(" + _TOKEN + r"+) +([!\x22$-~]+) +HTTP/([0-9])\.([0-9])")
_REQLINE_LAX_RE = re.compile(r"([^\x00- \x7f]+) +([^\x00- \x7f]+) +HTTP/([0-9])\.([0-9])")
_STATUS_RE = re.compile(r"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: ([^\r\n]*))?")
_STATUS_LAX_RE = re.compile(r"HTTP/([0-9])\.([0-9]) +([0-9]{3})(?: ([^\r\n]*))?")
_DIGITS_RE = re.compile(r"[0-9]{1,19}")
_HEXSIZE_RE = re.compile(rb"([0-9A-Fa-f]{1,8})[ \t]*(?:;[^\r\n]*)?\r?\n")
_SCHEME_AUTH_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)(.*)")
_WS = " \t"
MAX_CHUNK = 0x7FFFFFFF


class ParseError(Exception):
    """A message HAProxy refuses: ``status`` is what the client gets (400/422/502)."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


# --------------------------------------------------------------------------- head end
def head_end(buf: bytes, start: int = 0) -> tuple[int, int]:
    """(end of the head text, start of the body) in ``buf``, or (-1, -1) if incomplete.

    The head text excludes the blank line.  Bare-LF line ends are accepted.
    """
    i = buf.find(b"\r\n\r\n", start)
    j = buf.find(b"\n\n", start, i + 2 if i >= 0 else len(buf))
    if j >= 0 and (i < 0 or j < i):
        # a bare-LF blank line comes first (possibly '\r\n\n')
        return (j - 1 if j > start and buf[j - 1] == 13 else j), j + 2
    if i < 0:
        j = buf.find(b"\n\r\n", start)
        if j >= 0:
            return j, j + 3
        return -1, -1
    return i, i + 4


def skip_empty_lines(buf: bytes) -> int:
    """Offset of the first byte after leading CRLF/LF (HAProxy skips them before a request)."""
    i = 0
    n = len(buf)
    while i < n and buf[i] in (13, 10):
        i += 1
    return i


# --------------------------------------------------------------------------- helpers
def _normalize_lines(text: str) -> str:
    """Turn bare LF into CRLF and join folded lines (obs-fold) as HAProxy does."""
    if "\n" in text.replace("\r\n", ""):
        text = re.sub(r"\r?\n", "\r\n", text)
    if "\r\n " in text or "\r\n\t" in text:
        text = re.sub(r"\r\n(?=[ \t])", "  ", text)
    return text


def _lines(text: str) -> list[str]:
    """The CRLF-separated lines of a head, bare LF and folded lines normalized first."""
    n = text.count("\r\n")
    if text.count("\n") != n or text.count("\r") != n or "\r\n " in text or "\r\n\t" in text:
        text = _normalize_lines(text)
    return text.split("\r\n")


# special header names -> bit (so that the common case costs one dict lookup per line)
_CL, _TE, _CONN, _HOST, _UPG, _EXP, _WSKEY = 1, 2, 4, 8, 16, 32, 64
_SPECIAL = {
    "content-length": _CL,
    "transfer-encoding": _TE,
    "connection": _CONN,
    "host": _HOST,
    "upgrade": _UPG,
    "expect": _EXP,
    "sec-websocket-key": _WSKEY,
}


def _split_headers(lines: list[str], lax: bool) -> tuple[list[tuple[str, str]], int]:
    """(name, value) pairs of header lines 1.. and the bits of the special names seen.
    Raises ParseError(0) for a line that is not ``token ":" value``."""
    parts = [line.partition(":") for line in lines[1:]]
    if not lax:
        if _NAMES_RE.fullmatch("".join([n + s + "\n" for n, s, _ in parts])) is None:
            raise ParseError(0, "invalid header line")
    else:
        for n, s, _ in parts:
            if not s or not n or any(c in n for c in " \t\r\n\x00"):
                raise ParseError(0, "invalid header line")
    items = [(n.lower(), v.strip(_WS)) for n, _, v in parts]
    mask = 0
    for k, _ in items:
        if k in _SPECIAL:
            mask |= _SPECIAL[k]
    return items, mask


class Conn:
    """Connection-level tokens found in a message's ``Connection`` headers."""

    __slots__ = ("close", "keep_alive", "upgrade")

    def __init__(self) -> None:
        self.close = False
        self.keep_alive = False
        self.upgrade = False


def _connection_tokens(items: list[tuple[str, str]]) -> Conn:
    """Parse and strip ``close``/``keep-alive`` from ``connection`` headers (in place)."""
    c = Conn()
    where = [i for i, kv in enumerate(items) if kv[0] == "connection"]
    for i in reversed(where):
        v = items[i][1]
        lv = v.lower()
        if lv == "keep-alive":
            c.keep_alive = True
        elif lv == "close":
            c.close = True
        else:
            keep = []
            for tok in v.split(","):
                t = tok.strip(_WS)
                lt = t.lower()
                if lt == "close":
                    c.close = True
                elif lt == "keep-alive":
                    c.keep_alive = True
                elif t:
                    if lt == "upgrade":
                        c.upgrade = True
                    keep.append(t)
            if keep:
                items[i] = ("connection", ", ".join(keep))
                continue
        del items[i]
    return c


def _content_length(items: list[tuple[str, str]], status: int) -> int | None:
    """The message's Content-Length (merging identical duplicates in place), None if absent."""
    found = [v for k, v in items if k == "content-length"]
    if len(found) == 1:
        v = found[0]
        if v.isascii() and v.isdigit() and len(v) < 19:
            return int(v)
    first = -1
    value = None
    text = ""
    dup = False
    for idx, (k, v) in enumerate(items):
        if k != "content-length":
            continue
        for part in v.split(","):
            p = part.strip(_WS)
            if not _DIGITS_RE.fullmatch(p):
                raise ParseError(status, "invalid content-length")
            n = int(p)
            if n >= 1 << 63:
                raise ParseError(status, "content-length too large")
            if value is None:
                value, text = n, p
            elif n != value:
                raise ParseError(status, "conflicting content-length")
            else:
                dup = True
        if first < 0:
            first = idx
        else:
            dup = True
    if value is None:
        return None
    if dup:
        new = []
        for idx, kv in enumerate(items):
            if kv[0] == "content-length":
                if idx == first:
                    new.append(("content-length", text))
            else:
                new.append(kv)
        items[:] = new
    return value


def _transfer_encoding(items: list[tuple[str, str]], status: int, request: bool) -> bool | None:
    """True: chunked; False: TE present without chunked last (response: read until close);
    None: no TE."""
    seen = False
    chunked = False
    last_chunked = False
    other = False
    for k, v in items:
        if k != "transfer-encoding":
            continue
        seen = True
        for tok in v.split(","):
            t = tok.strip(_WS).lower()
            if not t:
                continue
            if t == "chunked":
                if chunked:
                    raise ParseError(status, "chunked twice")
                chunked = True
                last_chunked = True
            else:
                if chunked and request:
                    raise ParseError(status, "chunked not last")
                other = True
                last_chunked = False
    if not seen:
        return None
    if request:
        if not chunked:
            raise ParseError(400, "transfer-encoding without chunked")
        if other:
            raise ParseError(422, "transfer-encoding other than chunked")
    return last_chunked


def _remove(items: list[tuple[str, str]], name: str) -> None:
    items[:] = [kv for kv in items if kv[0] != name]


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


# --------------------------------------------------------------------------- requests
class ReqInfo:
    """What the engine needs beyond the Request model: framing and connection tokens."""

    __slots__ = ("conn", "expect_100", "force_close", "minor", "websocket")

    def __init__(self) -> None:
        self.conn: Conn | None = None
        self.force_close = False
        self.expect_100 = False
        self.websocket = False
        self.minor = 1


def parse_request(data: bytes, lax: bool = False, maxhdr: int = MAXHDR) -> tuple[Request, ReqInfo]:
    """Parse a request head (without the blank line).  Raises ParseError."""
    lines = _lines(data.decode("latin-1"))
    m = (_REQLINE_LAX_RE if lax else _REQLINE_RE).fullmatch(lines[0])
    if m is None:
        raise ParseError(400, "invalid request line")
    method, uri, major, minor = m.groups()
    if "#" in uri and not lax:
        raise ParseError(400, "invalid uri")
    if major != "1":
        if major == "0":
            raise ParseError(400, "invalid version")
        version, minor = "HTTP/1.1", "1"
    elif minor == "0":
        version = "HTTP/1.0"
    else:
        version, minor = "HTTP/1.1", "1"
    if len(lines) > maxhdr:
        raise ParseError(400, "too many headers")
    try:
        items, mask = _split_headers(lines, lax)
    except ParseError:
        raise ParseError(400, "invalid header line") from None
    info = ReqInfo()
    req = Request(method, uri, version, Headers(items))
    if minor == "0":
        info.minor = 0
    if not mask:
        return req, info
    if mask & _CL:
        req.body_len = _content_length(items, 400)
    if mask & _TE:
        te = _transfer_encoding(items, 400, True)
        if te:
            req.chunked = True
            if req.body_len is not None:
                _remove(items, "content-length")
                req.body_len = None
                info.force_close = True
            if info.minor == 0:
                info.force_close = True
    if mask & _CONN:
        info.conn = _connection_tokens(items)
    if mask & _HOST:
        hosts = [v for k, v in items if k == "host"]
        if len(hosts) > 1:
            if any(h != hosts[0] for h in hosts):
                raise ParseError(400, "different host headers")
            first = True
            new = []
            for kv in items:
                if kv[0] == "host":
                    if first:
                        new.append(kv)
                        first = False
                else:
                    new.append(kv)
            items[:] = new
    if uri[:1] not in ("/", "*"):
        if "://" in uri:
            _check_authority(req, items, bool(mask & _HOST))
        elif method == "CONNECT" and mask & _HOST:
            _check_connect_host(uri, items)
    if mask & _UPG and info.conn is not None and info.conn.upgrade:
        up = ",".join(v for k, v in items if k == "upgrade").lower()
        if "websocket" in up:
            # HAProxy requires a 24-character key (the base64 of 16 bytes; not decoded)
            keys = [v for k, v in items if k == "sec-websocket-key"]
            if not keys or len(keys[-1]) != 24:
                raise ParseError(400, "websocket without a valid key")
            info.websocket = True
        req.upgrade = True
    if mask & _EXP:
        for k, v in items:
            if k == "expect" and v.lower() == "100-continue":
                info.expect_100 = True
    return req, info


def _check_authority(req: Request, items: list[tuple[str, str]], has_host: bool) -> None:
    m = _SCHEME_AUTH_RE.fullmatch(req.uri)
    if m is None:
        return
    scheme, auth, rest = m.group(1).lower(), m.group(2), m.group(3)
    dp = _DEFAULT_PORTS.get(scheme)
    if dp and auth.endswith(dp):
        auth = auth[: -len(dp)]
        req.uri = f"{m.group(1)}://{auth}{rest}"
    if has_host:
        for idx, (k, v) in enumerate(items):
            if k == "host":
                h = v[: -len(dp)] if dp and v.endswith(dp) else v
                if h.lower() != auth.lower():
                    raise ParseError(400, "host does not match the uri authority")
                if h != v:
                    items[idx] = ("host", h)


def _check_connect_host(uri: str, items: list[tuple[str, str]]) -> None:
    """CONNECT: Host must name the authority; a default port (80, 443) is dropped from it."""
    for idx, (k, v) in enumerate(items):
        if k != "host":
            continue
        if v.lower() != uri.lower():
            raise ParseError(400, "host does not match the CONNECT authority")
        for dp in (":80", ":443"):
            if v.endswith(dp):
                items[idx] = ("host", v[: -len(dp)])


def htx_blocks(a: str, b: str, c: str, items: list[tuple[str, str]]) -> int:
    """Room a head takes in HAProxy's HTX buffer: blocks of 8 bytes of metadata plus the
    start line (a 20-byte structure and its three strings), one block per header (name
    and value) and the end-of-headers block.  A head fits when this is at most
    ``tune.bufsize - tune.maxrewrite - 48`` (15312 by default, found with haproxy 2.6)."""
    n = 37 + len(a) + len(b) + len(c)
    for k, v in items:
        n += len(k) + len(v) + 8
    return n


#: the HTX room a head may take beyond ``bufsize - maxrewrite`` (the buffer's own header)
HTX_OVERHEAD = 48


# --------------------------------------------------------------------------- responses
class RspInfo:
    __slots__ = ("conn", "force_close", "minor")

    def __init__(self) -> None:
        self.conn: Conn | None = None
        self.force_close = False
        self.minor = 1


def parse_response(data: bytes, maxhdr: int = MAXHDR, lax: bool = False) -> tuple[Response, RspInfo]:
    """Parse a response head (without the blank line).  Raises ParseError(502)."""
    lines = _lines(data.decode("latin-1"))
    m = (_STATUS_LAX_RE if lax else _STATUS_RE).fullmatch(lines[0])
    if m is None:
        raise ParseError(502, "invalid status line")
    major, minor, status, reason = m.groups()
    if major != "1":
        raise ParseError(502, "invalid version")
    if len(lines) > maxhdr:
        raise ParseError(502, "too many headers")
    try:
        items, mask = _split_headers(lines, lax)
    except ParseError:
        raise ParseError(502, "invalid header line") from None
    info = RspInfo()
    if minor == "0":
        info.minor = 0
        rsp = Response(int(status), reason or "", "HTTP/1.0", Headers(items))
    else:
        rsp = Response(int(status), reason or "", "HTTP/1.1", Headers(items))
    if mask & _CL:
        rsp.body_len = _content_length(items, 502)
    if mask & _TE:
        te = _transfer_encoding(items, 502, False)
        if rsp.body_len is not None:
            _remove(items, "content-length")
            rsp.body_len = None
            info.force_close = True
        if te:
            rsp.chunked = True
        else:
            info.force_close = True  # body until close
    if mask & _CONN:
        info.conn = _connection_tokens(items)
    return rsp, info


# --------------------------------------------------------------------------- chunked bodies
class ChunkError(Exception):
    pass


# tracker states
_SIZE, _DATA, _DATA_END, _TRAILERS, _DONE = range(5)


class ChunkTracker:
    """Follows a chunked body through raw bytes (which are forwarded unchanged).

    ``feed(buf, pos, end)`` consumes bytes of ``buf[pos:end]`` that belong to the body and
    returns the offset just after them; ``done`` turns True after the last chunk's
    trailers.  Bytes past the end of the body are left to the caller (pipelining).  A
    malformed size line, a missing CRLF after chunk data or a size above 2^31-1 raises
    ChunkError.
    """

    __slots__ = ("data", "done", "line", "remaining", "state")

    def __init__(self) -> None:
        self.state = _SIZE
        self.data = 0  # payload bytes seen (chunk framing excluded)
        self.remaining = 0
        self.line = b""  # partial line carried between feeds
        self.done = False

    def feed(self, buf: bytes | bytearray, pos: int, end: int) -> int:
        state = self.state
        while pos < end:
            if state == _DATA:
                take = end - pos
                rem = self.remaining
                if take >= rem:
                    pos += rem
                    self.data += rem
                    self.remaining = 0
                    state = _DATA_END
                    continue
                self.remaining = rem - take
                self.data += take
                pos = end
                break
            # line-oriented states: find the end of the line
            nl = buf.find(b"\n", pos, end)
            if nl < 0:
                self.line += bytes(buf[pos:end])
                if len(self.line) > 4096:
                    raise ChunkError("line too long")
                pos = end
                break
            line = self.line + bytes(buf[pos : nl + 1]) if self.line else bytes(buf[pos : nl + 1])
            self.line = b""
            pos = nl + 1
            if state == _SIZE:
                m = _HEXSIZE_RE.fullmatch(line)
                if m is None:
                    raise ChunkError("bad chunk size")
                size = int(m.group(1), 16)
                if size > MAX_CHUNK:
                    raise ChunkError("chunk too large")
                if size == 0:
                    state = _TRAILERS
                else:
                    self.remaining = size
                    state = _DATA
            elif state == _DATA_END:
                if line not in (b"\r\n", b"\n"):
                    raise ChunkError("missing CRLF after chunk data")
                state = _SIZE
            else:  # trailers: until an empty line
                if line in (b"\r\n", b"\n"):
                    state = _DONE
                    self.done = True
                    break
        self.state = state
        return pos
