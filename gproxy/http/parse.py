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

* request line ``<token> (SP|HT)+ <uri> (SP|HT)+ HTTP/<d>.<d>``; leading empty lines
  skipped; URI bytes 0x21..0x7e except ``#`` (``accept-invalid-http-request``: ``#`` and
  bytes >= 0x80 too), plus what 2.6's 4-bytes-at-a-time URI check lets through (DEL,
  0x80..0xa3 next to valid bytes, see ``_uri_ok``); ``HTTP/1.2``, ``HTTP/2.0`` are
  forwarded as ``HTTP/1.1``; no version (HTTP/0.9) -> 400, the request ending with its
  line (lax: a ``GET`` goes as HTTP/1.0); lax: any ``[A-Z0-9./]+`` version;
* header names are tokens (else 400; lax: any byte but the colon, never empty), ASCII
  letters lower-cased; values trimmed of SP/HT, any other byte kept; folded lines joined
  with two spaces per CRLF, one per bare LF, as HAProxy does; bare LF accepted
  everywhere; a CR not followed by LF -> 400 (but inside a lax header name);
* chunked trailers are forwarded rebuilt (``ChunkTracker.forward``);
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
from typing import Any

import httptools

from .message import Headers, Request, Response

# --------------------------------------------------------------------------- limits
BUFSIZE = 16384
MAXREWRITE = 1024
MAXHDR = 101

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_TOKEN_RE = re.compile(_TOKEN + "+")
_NAMES_RE = re.compile(r"(?:" + _TOKEN + r"+:\n)*")  # each header line: a token, then a colon
# request line, as HAProxy 2.6's H1 parser reads it: a token method, SP/HT, the URI (any
# byte but SP/HT here, judged by _uri_ok), SP/HT, a version of [A-Z0-9./] (checked after);
# a line that ends before the version is an HTTP/0.9 request (groups 2/3 None or empty)
_REQLINE_RE = re.compile(r"(" + _TOKEN + r"+)(?:[ \t]+(?:([^ \t]+)(?:[ \t]+([A-Z0-9./]*))?)?)?")
_REQLINE_B_RE = re.compile(_REQLINE_RE.pattern.encode())
_URI_RE = re.compile(r"[!\x22$-~]+")  # 0x21..0x7e but '#': always valid
_URI_LAX_RE = re.compile(r"[!-~\x80-\xff]+")  # accept-invalid-http-request: '#' and >= 0x80 too
_VERSION_RE = re.compile(r"HTTP/[0-9]\.[0-9]")
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


def head_end_09(buf: bytes) -> tuple[int, int]:
    """For a request whose head is not complete (``head_end`` found no blank line): (end of
    the first line, start of what follows it) when that line alone is the whole request
    for HAProxy, else (-1, -1).  HAProxy's parser ends a request at its start line when
    the line has no version (HTTP/0.9: refused, or with ``accept-invalid-http-request``
    an HTTP/1.0 ``GET``), and refuses a start line that is not ``_REQLINE_RE`` as soon as
    it sees it; ``parse_request`` on that line gives the answer."""
    nl = buf.find(b"\n")
    if nl < 0:
        return -1, -1
    end = nl - 1 if nl and buf[nl - 1] == 13 else nl
    m = _REQLINE_B_RE.fullmatch(buf, 0, end)
    if m is not None and m.group(3):
        return -1, -1
    return end, nl + 1


def partial_request_refused(buf: bytes, lax: bool) -> bool:
    """Whether HAProxy already refuses an incomplete request head: it answers 400 as soon
    as it reads a bad line (request line, header line, bare CR, '#' in the URI) instead
    of waiting for the blank line.  Only the complete lines of ``buf`` are judged."""
    nl = buf.rfind(b"\n")
    if nl < 0:
        return False
    try:
        _tokenize_request(buf[: nl - 1 if nl and buf[nl - 1] == 13 else nl], lax)
    except ParseError:
        return True
    return False


def skip_empty_lines(buf: bytes) -> int:
    """Offset of the first byte after leading CRLF/LF (HAProxy skips them before a request)."""
    i = 0
    n = len(buf)
    while i < n and buf[i] in (13, 10):
        i += 1
    return i


# --------------------------------------------------------------------------- helpers
def _split_lines(text: str, lax: bool) -> list[str]:
    """``_lines`` for a head with bare LF, bare CR or folded lines, by HAProxy's H1 parser:

    * a line ends with LF, optionally preceded by CR; a CR anywhere else (not followed by
      LF) is refused, except inside a header name with ``lax`` (there it is a name byte);
    * a line starting with SP/HT continues the header line before it (obs-fold): its line
      end becomes spaces, two for CRLF and one for a bare LF, the SP/HT are kept.  Only a
      header line that has its colon is continued: right after the start line, the SP
      begins a header name (refused unless ``lax``), and after a line without a colon the
      head is invalid anyway.

    Raises ParseError(0) (the caller knows the status)."""
    out: list[str] = []
    pad = ""
    raw = text.split("\n")
    last = len(raw) - 1
    for i, line in enumerate(raw):
        cr = line[-1:] == "\r" and i < last  # the last line's CR is not followed by LF
        if cr:
            line = line[:-1]
        if i > 1 and line[:1] in (" ", "\t") and ":" in out[-1]:
            out[-1] += pad + line
        else:
            out.append(line)
        pad = "  " if cr else " "
    if "\r" in out[0]:
        raise ParseError(0, "CR not followed by LF in the start line")
    for line in out[1:]:
        if "\r" in line and (not lax or "\r" in line.partition(":")[2] or line[0] == "\r"):
            raise ParseError(0, "CR not followed by LF in a header line")
    return out


def _lines(text: str, lax: bool = False) -> list[str]:
    """The lines of a head (start line, then header lines with folded lines joined), by
    HAProxy's rules (see ``_split_lines``).  Raises ParseError(0)."""
    n = text.count("\r\n")
    if text.count("\n") != n or text.count("\r") != n or "\n " in text or "\n\t" in text:
        return _split_lines(text, lax)
    return text.split("\r\n")


_ASCII_LOWER = {c: c + 32 for c in range(65, 91)}


def _lower_name(name: str) -> str:
    """A header name lower-cased as HAProxy does (ASCII letters only; bytes >= 0x80 kept)."""
    return name.lower() if name.isascii() else name.translate(_ASCII_LOWER)


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
    Raises ParseError(0) for a line that is not ``token ":" value``; with ``lax``
    (``accept-invalid-http-request``) the name may hold any byte but the colon (HAProxy
    forwards ``Foo Bar: x`` and ``X-Sp : x`` as they are, name lower-cased), never none."""
    parts = [line.partition(":") for line in lines[1:]]
    if not lax:
        if _NAMES_RE.fullmatch("".join([n + s + "\n" for n, s, _ in parts])) is None:
            raise ParseError(0, "invalid header line")
    else:
        for n, s, _ in parts:
            if not s or not n:
                raise ParseError(0, "invalid header line")
    items = [(_lower_name(n), v.strip(_WS)) for n, _, v in parts]
    mask = 0
    for k, _ in items:
        if k in _SPECIAL:
            mask |= _SPECIAL[k]
    return items, mask


# --------------------------------------------------------------------------- llhttp
class _Tok:
    """httptools callbacks: whether the parser can take the next head (the message ended
    and llhttp keeps the connection: after ``Connection: close`` it refuses any data)."""

    __slots__ = ("complete", "keep", "parser")

    def __init__(self) -> None:
        self.complete = False
        self.keep = False
        self.parser: Any = None

    def on_headers_complete(self) -> None:
        self.keep = self.parser.should_keep_alive()  # only meaningful during the callbacks

    def on_message_complete(self) -> None:
        self.complete = True


_TOK = _Tok()
# one parser of each kind, reused while it is between messages; parsing never yields, so
# a module-level pair serves every connection
_PARSERS: list[Any] = [httptools.HttpRequestParser(_TOK), httptools.HttpResponseParser(_TOK)]
_END = b"\r\n\r\n"


def _llhttp_accepts(kind: int, data: bytes) -> bool:
    """Whether llhttp (httptools) accepts the head ``data`` (without its blank line)."""
    tok = _TOK
    tok.complete = False
    p = tok.parser = _PARSERS[kind]
    try:
        p.feed_data(data + _END)
    except httptools.HttpParserUpgrade:
        ok = True
    except httptools.HttpParserError:
        ok = False
    else:
        ok = True
        if tok.complete and tok.keep:
            return True
    # mid-message (a body was announced), after a last message (llhttp refuses anything
    # that follows "Connection: close") or failed: a fresh parser for the next head
    _PARSERS[kind] = httptools.HttpRequestParser(tok) if kind == 0 else httptools.HttpResponseParser(tok)
    return ok


def _clean_items(text: str) -> tuple[str, list[tuple[str, str]], int, str]:
    """A head llhttp accepted (CRLF lines, tokens, a colon, no folding): (first line,
    header items, special-name bits, the head lower-cased).  The special names are found
    in the lower-cased text (``"\\r\\nname:"``), so no per-header Python test is needed."""
    lines = text.split("\r\n")
    parts = [line.partition(":") for line in lines[1:]]
    items = [(n.lower(), v.strip(_WS)) for n, _, v in parts]
    lo = text.lower()
    mask = 0
    if "\r\ncontent-length:" in lo:
        mask = _CL
    if "\r\nconnection:" in lo:
        mask |= _CONN
    if "\r\nhost:" in lo:
        mask |= _HOST
    if "\r\ntransfer-encoding:" in lo:
        mask |= _TE
    if "\r\nupgrade:" in lo:
        mask |= _UPG
    if "\r\nexpect:" in lo:
        mask |= _EXP
    if "\r\nsec-websocket-key:" in lo:
        mask |= _WSKEY
    return lines[0], items, mask, lo


def _single(lo: str | None, name: str) -> int:
    """Index in the items of the only ``name`` header line of an llhttp-accepted head
    (``lo``: its lower-cased text), or -1 if there are several or ``lo`` is None."""
    if lo is None or lo.count(name) != 1:
        return -1
    return lo.count("\r\n", 0, lo.find(name))


def _llhttp_request(data: bytes, lax: bool) -> tuple[str, str, str, list[tuple[str, str]], int, str] | None:
    """The common request head, validated by llhttp: (method, uri, version, items,
    special-name bits, lower-cased head), or None when llhttp refuses it or accepts what
    HAProxy refuses (HTTP/0.9, versions other than 1.0/1.1, '#' in the URI): then the head
    goes through ``_tokenize_request``, which applies HAProxy's rules."""
    if not _llhttp_accepts(0, data):
        return None
    first, items, mask, lo = _clean_items(data.decode("latin-1"))
    parts = first.split()
    if len(parts) != 3:
        return None
    method, uri, ver = parts
    if ver != "HTTP/1.1" and ver != "HTTP/1.0":
        return None
    if not lax and "#" in uri:
        return None
    return method, uri, ver, items, mask, lo


def _llhttp_response(data: bytes) -> tuple[int, str, int, list[tuple[str, str]], int, str] | None:
    """The common response head, validated by llhttp: (status, reason, minor version,
    items, special-name bits, lower-cased head), or None (then ``_tokenize_response``
    decides)."""
    if not _llhttp_accepts(1, data):
        return None
    first, items, mask, lo = _clean_items(data.decode("latin-1"))
    ver = first[:9]
    if ver == "HTTP/1.1 ":
        minor = 1
    elif ver == "HTTP/1.0 ":
        minor = 0
    else:
        return None
    code = first[9:12]
    if not code.isdigit() or (len(first) > 12 and first[12] != " "):
        return None
    return int(code), first[13:], minor, items, mask, lo


class Conn:
    """Connection-level tokens found in a message's ``Connection`` headers."""

    __slots__ = ("close", "keep_alive", "upgrade")

    def __init__(self) -> None:
        self.close = False
        self.keep_alive = False
        self.upgrade = False


def _connection_tokens(items: list[tuple[str, str]], lo: str | None = None) -> Conn:
    """Parse and strip ``close``/``keep-alive`` from ``connection`` headers (in place)."""
    c = Conn()
    i = _single(lo, "\r\nconnection:")
    if i >= 0:
        lv = items[i][1].lower()
        if lv == "keep-alive":
            c.keep_alive = True
            del items[i]
            return c
        if lv == "close":
            c.close = True
            del items[i]
            return c
    i = len(items)
    while i:
        i -= 1
        k, v = items[i]
        if k != "connection":
            continue
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


def _content_length(items: list[tuple[str, str]], status: int, lo: str | None = None) -> int | None:
    """The message's Content-Length (merging identical duplicates in place), None if absent."""
    i = _single(lo, "\r\ncontent-length:")
    if i >= 0:
        v = items[i][1]
        if v.isascii() and v.isdigit() and len(v) < 19:
            return int(v)
    found = 0
    v = ""
    for k, val in items:
        if k == "content-length":
            found += 1
            v = val
    if found == 1 and v.isascii() and v.isdigit() and len(v) < 19:
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


def _uri_ok(uri: str, lax: bool) -> bool:
    """Whether HAProxy 2.6's H1 parser lets this request URI through (``lax``:
    ``accept-invalid-http-request``).

    Bytes 0x21..0x7e pass, but '#' unless ``lax``; bytes >= 0x80 only with ``lax``;
    control bytes and DEL are refused -- except where 2.6's word-at-a-time speedup skips
    them: on x86 it reads the URI 4 bytes at a time and skips a word when
    ``(w - 0x24242424) & 0x80808080 == 0`` (no byte below 0x24 or above 0xa3) and
    ``(w - 0x24242424 - 0x5b5b5b5b) & 0x80808080 != 0`` (not all of them above 0x7e), so a
    word holding DEL or 0x80..0xa3 next to valid bytes goes through (fixed in 3.0, "fix
    detection of upper bytes in the URI").  After the first word it does not skip, it
    goes byte by byte to the end of the URI, back to words after a byte >= 0x80 (``lax``).
    The request is taken whole, as it is when it arrives in one piece."""
    if (_URI_LAX_RE if lax else _URI_RE).fullmatch(uri):
        return True
    b = uri.encode("latin-1")
    n = len(b)
    p = 0
    words = True
    while p < n:
        if words and p + 4 <= n:
            x = (int.from_bytes(b[p : p + 4], "little") - 0x24242424) & 0xFFFFFFFF
            if not x & 0x80808080 and (x - 0x5B5B5B5B) & 0x80808080:
                p += 4
                continue
            words = False
        c = b[p]
        p += 1
        if 33 <= c <= 126:
            if c == 35 and not lax:
                return False
        elif c >= 128 and lax:
            words = True
        else:
            return False
    return True


def _tokenize_request(data: bytes, lax: bool) -> tuple[str, str, str, list[tuple[str, str]], int]:
    """HAProxy's request-head rules, for the heads llhttp refuses: (method, uri, version
    as forwarded, header items, special-name bits).  Raises ParseError.

    The start line is ``_REQLINE_RE`` with SP or HT between its words.  Without ``lax``
    the version must be ``HTTP/<d>.<d>``; with it, any ``[A-Z0-9./]+``.  A version is 1.1
    (forwarded as ``HTTP/1.1``) when HAProxy's test of its 6th and 8th characters says so
    (8 characters, ``v[5] > '1'`` or ``v[5] == '1' and v[7] >= '1'``), else 1.0 and
    forwarded as written (``HTTP/0.9``, lax ``HTTX/1.0``, ``HTTP/1``).  A line
    without a version is HTTP/0.9: refused, but with ``lax`` a ``GET`` with a URI becomes
    an HTTP/1.0 request without headers -- HAProxy's request ends with that line."""
    text = data.decode("latin-1")
    nl = text.find("\n")
    first = text if nl < 0 else text[: nl - 1 if text[nl - 1 : nl] == "\r" else nl]
    m = _REQLINE_RE.fullmatch(first)
    if m is None:
        raise ParseError(400, "invalid request line")
    method, uri, ver = m.groups()
    if not uri or not _uri_ok(uri, lax):
        raise ParseError(400, "invalid uri")
    if not ver:
        if lax and method == "GET":
            return method, uri, "HTTP/1.0", [], 0
        raise ParseError(400, "HTTP/0.9 request")
    if not lax and (len(ver) != 8 or not _VERSION_RE.fullmatch(ver)):
        raise ParseError(400, "invalid version")
    minor = 1 if len(ver) == 8 and (ver[5] > "1" or (ver[5] == "1" and ver[7] >= "1")) else 0
    try:
        lines = _lines(text, lax)
        items, mask = _split_headers(lines, lax)
    except ParseError:
        raise ParseError(400, "invalid header line") from None
    return method, uri, "HTTP/1.1" if minor else ver, items, mask


def parse_request(data: bytes, lax: bool = False, maxhdr: int = MAXHDR) -> tuple[Request, ReqInfo]:
    """Parse a request head (without the blank line).  Raises ParseError."""
    tok = _llhttp_request(data, lax)
    if tok is None:
        method, uri, version, items, mask = _tokenize_request(data, lax)
        lo = None
    else:
        method, uri, version, items, mask, lo = tok
    if len(items) >= maxhdr:
        raise ParseError(400, "too many headers")
    info = ReqInfo()
    req = Request(method, uri, version, Headers(items))
    if version != "HTTP/1.1":
        info.minor = 0
    if not mask:
        return req, info
    if mask & _CL:
        req.body_len = _content_length(items, 400, lo)
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
        info.conn = _connection_tokens(items, lo)
    if mask & _HOST and (lo is None or lo.count("\r\nhost:") > 1):
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
        elif mask & _HOST:
            # any other URI is read as an authority up to its first '/' (HAProxy's
            # http_get_authority) and must name the Host, default port included
            auth = uri.split("/", 1)[0].lower()
            for k, v in items:
                if k == "host" and v.lower() != auth:
                    raise ParseError(400, "host does not match the uri authority")
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


def _tokenize_response(data: bytes, lax: bool) -> tuple[int, str, int, list[tuple[str, str]], int]:
    """HAProxy's response-head rules, for the heads llhttp refuses: (status, reason, minor
    version, header items, special-name bits).  Raises ParseError(502)."""
    try:
        lines = _lines(data.decode("latin-1"), lax)
    except ParseError:
        raise ParseError(502, "invalid line end") from None
    m = (_STATUS_LAX_RE if lax else _STATUS_RE).fullmatch(lines[0])
    if m is None:
        raise ParseError(502, "invalid status line")
    major, minor, status, reason = m.groups()
    if major != "1":
        raise ParseError(502, "invalid version")
    try:
        items, mask = _split_headers(lines, lax)
    except ParseError:
        raise ParseError(502, "invalid header line") from None
    return int(status), reason or "", 0 if minor == "0" else 1, items, mask


def parse_response(data: bytes, maxhdr: int = MAXHDR, lax: bool = False) -> tuple[Response, RspInfo]:
    """Parse a response head (without the blank line).  Raises ParseError(502)."""
    tok = _llhttp_response(data)
    if tok is None:
        status, reason, minor_n, items, mask = _tokenize_response(data, lax)
        lo = None
    else:
        status, reason, minor_n, items, mask, lo = tok
    if len(items) >= maxhdr:
        raise ParseError(502, "too many headers")
    info = RspInfo()
    if minor_n == 0:
        info.minor = 0
        rsp = Response(status, reason, "HTTP/1.0", Headers(items))
    else:
        rsp = Response(status, reason, "HTTP/1.1", Headers(items))
    if mask & _CL:
        rsp.body_len = _content_length(items, 502, lo)
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
        info.conn = _connection_tokens(items, lo)
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

    The trailers are the exception to "unchanged": HAProxy forwards them rebuilt (names
    lower-cased, values trimmed, folded lines joined, CRLF line ends).  From the last
    chunk on, ``hold`` is the offset in the buffer last fed where bytes held back begin
    (-1: none), and ``forward(buf, pos, k)`` gives what to send for ``buf[pos:k]``: the
    bytes before ``hold``, then once ``done`` the rebuilt trailers (``tail``).  Without
    trailer lines (``0\r\n\r\n`` in one buffer) nothing is held.  An invalid trailer
    line (no colon, no name, CR without LF) raises ChunkError, as HAProxy refuses it.
    """

    __slots__ = ("data", "done", "hold", "line", "remaining", "state", "tail", "trailers")

    def __init__(self) -> None:
        self.state = _SIZE
        self.data = 0  # payload bytes seen (chunk framing excluded)
        self.remaining = 0
        self.line = b""  # partial line carried between feeds
        self.done = False
        self.hold = -1
        self.trailers = b""  # trailer lines seen (raw)
        self.tail = b""

    def forward(self, buf: bytes | bytearray, pos: int, k: int) -> bytes | bytearray:
        """What to send for ``buf[pos:k]``, the bytes just fed (``k``: what feed returned)."""
        hold = self.hold
        if hold < 0:
            return buf[pos:k]
        return bytes(buf[pos:hold]) + self.tail if self.done else bytes(buf[pos:hold])

    def feed(self, buf: bytes | bytearray, pos: int, end: int) -> int:
        state = self.state
        self.hold = pos if state == _TRAILERS else -1
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
            carried = self.line
            line = carried + bytes(buf[pos : nl + 1]) if carried else bytes(buf[pos : nl + 1])
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
                    self.hold = pos
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
                    if self.trailers or carried or line != b"\r\n":
                        self.tail = _trailer_block(self.trailers)
                    else:
                        self.hold = -1  # no trailers: the bytes go as they are
                    break
                self.trailers += line
                if len(self.trailers) > BUFSIZE:
                    raise ChunkError("trailers too large")
        self.state = state
        return pos


def _trailer_block(raw: bytes) -> bytes:
    """Trailer lines (raw, each with its line end) as HAProxy forwards them, with the
    final empty line.  The lines follow the header-line rules of an
    ``accept-invalid-http-request`` frontend: HAProxy 2.6 parses trailers without its
    strict-name check (``Foo Bar: x`` passes)."""
    if not raw:
        return b"\r\n"
    text = raw.decode("latin-1")
    text = text[:-2] if text.endswith("\r\n") else text[:-1]
    try:
        items, _ = _split_headers(_lines("-\r\n" + text, True), True)
    except ParseError:
        raise ChunkError("invalid trailer line") from None
    return ("".join([f"{k}: {v}\r\n" for k, v in items]) + "\r\n").encode("latin-1")
