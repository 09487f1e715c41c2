"""Layer-7 hash balancing: ``balance uri``, ``balance url_param`` and ``balance hdr(<name>)``.

Owns turning an HTTP request into HAProxy's 32-bit lookup key, byte for byte as HAProxy
2.6 does (``get_server_uh``, ``get_server_ph``, ``get_server_ph_post`` and
``get_server_hh`` in ``backend.c``; the ``path-only`` path is ``http_parse_path``'s).
The key is the backend's ``hash-type`` function (sdbm by default) over the selected
bytes, then ``full_hash`` when ``avalanche``; the table lookup (map or consistent ring),
the single-server shortcut and the round-robin fall-back are ``HashBalancer``'s.

What each algorithm reads from ``PickCtx``:

* ``uri``: ``ctx.uri`` (the request-line URI as received; text, latin-1).
* ``url_param``: ``ctx.uri``; for a POST whose URI lacks the parameter, the body bytes
  the engine already holds in ``ctx.extra['body']`` (bytes, may be absent) with
  ``ctx.extra['method'] == 'POST'``.  HAProxy 2.6 looks at whatever body is already
  buffered (the first DATA block) whether or not ``check_post`` is given; ``check_post``
  changes nothing else in 2.6.  gproxy does not wait for the body on its own: the
  engine passes what it has (nothing is fine: the parameter is then missing).
* ``hdr(<name>)``: ``ctx.headers``, a ``gproxy.http.message.Headers`` (or any callable
  ``name -> value | None`` giving the first line's full value): the first
  comma-separated value of the first ``<name>`` line, blanks trimmed.

A missing key (no ``?``/parameter, no header or an empty one) means round robin over
the same table (``map_get_server_rr`` / ``chash_get_next_server``), as in HAProxy.  With
a single usable server ``uri`` and ``hdr`` do not hash at all (HAProxy's
``tot_used == 1`` shortcut); ``url_param`` still looks for its parameter (HAProxy has no
shortcut there), so a request without it goes through the round-robin walk.

``rdp-cookie`` and ``hash <expr>`` are not implemented here (they are parsed by
``lb.keywords`` and fall back to round robin in ``lb.make``).

Pure: no I/O, never yields.
"""

from __future__ import annotations

from typing import Any

from . import PickCtx, algorithm
from .hashing import HashBalancer, hash_key

_ALPHA = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SCHEME = _ALPHA | frozenset(b"0123456789+-.")
_LWS = b" \t\r\n"
#: RFC 7230 tchar (HAProxy's HTTP_IS_TOKEN)
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _b(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("latin-1", "replace")


# ---------------------------------------------------------------------------- uri


def uri_path(uri: bytes) -> bytes:
    """HAProxy's ``http_parse_path``: the URI from its path on (query included), or b''.

    ``/p?q`` is kept as is; ``scheme://authority/p?q`` gives ``/p?q``; an authority-only
    form (``CONNECT host:port``), ``scheme://host`` without a path, ``*`` and an empty
    URI have no path.
    """
    if not uri or uri[:1] == b"*":
        return b""
    if uri[:1] == b"/":
        return uri
    # absolute URI: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) then "://"
    if uri[0] not in _ALPHA:
        return b""
    i, n = 1, len(uri)
    while i < n and uri[i] in _SCHEME:
        i += 1
    if uri[i : i + 3] != b"://":
        return b""
    slash = uri.find(b"/", i + 3)
    return b"" if slash < 0 else uri[slash:]


def uri_key_bytes(uri: bytes, whole: bool = False, length: int = 0, depth: int = 0) -> bytes:
    """The bytes ``balance uri`` hashes (``get_server_uh``): stop at ``?`` unless
    ``whole``, after ``len`` bytes, or before the slash that starts level ``depth + 1``."""
    if length:
        uri = uri[:length]
    stop_slash = depth + 1 if depth else 0
    slashes = 0
    end = 0
    for c in uri:
        if c == 0x2F:  # '/'
            slashes += 1
            if slashes == stop_slash:
                break
        elif c == 0x3F and not whole:  # '?'
            break
        end += 1
    return uri[:end]


@algorithm("uri")
class UriBalancer(HashBalancer):
    """``balance uri [whole] [len <n>] [depth <n>] [path-only]``; never falls back (an
    empty selection hashes to the key of b'')."""

    def __init__(self, backend: Any, args: tuple[str, ...] = (), hash_type: Any = ("map-based", "sdbm", False)) -> None:
        super().__init__(backend, args, hash_type)
        self.whole = False
        self.path_only = False
        self.length = 0
        self.depth = 0
        i = 0
        while i < len(args):  # checked by lb.keywords.parse_balance; later words win
            w = args[i]
            if w in ("len", "depth") and i + 1 < len(args):
                v = _atoi(args[i + 1])
                if w == "len":
                    self.length = v
                else:
                    self.depth = v
                i += 2
                continue
            if w == "whole":
                self.whole = True
            elif w == "path-only":
                self.path_only = True
            i += 1

    def hash_of(self, ctx: PickCtx) -> int | None:
        uri = _b(ctx.uri)
        if self.path_only:
            uri = uri_path(uri)
        return hash_key(uri_key_bytes(uri, self.whole, self.length, self.depth), self.hash_type)


# ---------------------------------------------------------------------- url_param


def url_param_value(uri: bytes, name: bytes) -> bytes | None:
    """The value of the first ``name=`` parameter after the first ``?`` (``get_server_ph``):
    up to the next ``&`` or the end; None when there is no ``?`` or no such parameter.
    Names compare case-sensitively and nothing is URL-decoded."""
    q = uri.find(b"?")
    if q < 0:
        return None
    return _param_in(uri, q + 1, name, post=False)


def post_param_value(body: bytes, name: bytes) -> bytes | None:
    """``get_server_ph_post``: the parameter in a urlencoded body.  As in HAProxy, only the
    first byte of the value is checked: blank -> empty value, any other non-token byte
    -> None (not urlencoded)."""
    return _param_in(body, 0, name, post=True)


def _param_in(buf: bytes, pos: int, name: bytes, post: bool) -> bytes | None:
    plen = len(name)
    n = len(buf)
    while n - pos > plen:
        if buf[pos + plen] == 0x3D and buf[pos : pos + plen] == name:  # '='
            start = pos + plen + 1
            end = buf.find(b"&", start)
            if end < 0:
                end = n
            if post and end > start and buf[start] not in _TOKEN:
                if buf[start] in _LWS:
                    end = start
                else:
                    return None
            return buf[start:end]
        amp = buf.find(b"&", pos)
        if amp < 0:
            return None
        pos = amp + 1
    return None


@algorithm("url_param")
class UrlParamBalancer(HashBalancer):
    """``balance url_param <param> [check_post]``."""

    skip_single = False  # HAProxy's get_server_ph has no single-server shortcut

    def __init__(self, backend: Any, args: tuple[str, ...] = (), hash_type: Any = ("map-based", "sdbm", False)) -> None:
        super().__init__(backend, args, hash_type)
        self.param = _b(args[0]) if args else b""
        self.check_post = len(args) > 1 and args[1] == "check_post"

    def hash_of(self, ctx: PickCtx) -> int | None:
        v = url_param_value(_b(ctx.uri), self.param)
        if v is None:
            extra = ctx.extra
            if extra.get("method") != "POST":
                return None
            body = extra.get("body")
            if not body:
                return None
            v = post_param_value(bytes(body), self.param)
            if v is None:
                return None
        return hash_key(v, self.hash_type)


# ---------------------------------------------------------------------------- hdr


def first_value(full: str) -> str:
    """First comma-separated value of a header line (quotes respected), blanks trimmed
    (``http_find_header`` without ``full``)."""
    v = full.lstrip(" \t\r\n")
    quoted = qdpair = False
    end = len(v)
    for i, c in enumerate(v):
        if qdpair:
            qdpair = False
        elif quoted:
            if c == "\\":
                qdpair = True
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == ",":
            end = i
            break
    return v[:end].rstrip(" \t\r\n")


def domain_only(value: bytes) -> bytes:
    """``use_domain_only``: the label before the last dot (``www.example.com`` ->
    ``example``); a value without a dot is kept whole.

    HAProxy's loop first looks at the byte just past the value; when that byte is a dot
    it hashes the last label instead.  Behind the value there is normally the next
    header's name, never a dot; after the last header it is stale buffer data.  gproxy
    takes it as "not a dot" (what HAProxy does whenever another header follows)."""
    n = len(value)
    i = n
    end = n
    dohash = False
    left = n
    while left:
        if dohash:
            if value[i - 1] == 0x2E:
                break
        elif i < n and value[i] == 0x2E:  # value[n] is past the end: never a dot
            end = i
            dohash = True
        i -= 1
        left -= 1
    return value[i:end]


@algorithm("hdr")
class HdrBalancer(HashBalancer):
    """``balance hdr(<name>) [use_domain_only]``."""

    def __init__(self, backend: Any, args: tuple[str, ...] = (), hash_type: Any = ("map-based", "sdbm", False)) -> None:
        super().__init__(backend, args, hash_type)
        self.header = args[0].lower() if args else ""
        self.use_domain_only = len(args) > 1 and args[1] == "use_domain_only"

    def hash_of(self, ctx: PickCtx) -> int | None:
        hdrs = ctx.headers
        if hdrs is None:
            return None
        if hasattr(hdrs, "get_all"):
            lines = hdrs.get_all(self.header)
            full = lines[0] if lines else None
        else:
            full = hdrs(self.header)
        if not full:
            return None
        v = first_value(full)
        if not v:
            return None
        data = _b(v)
        if self.use_domain_only:
            data = domain_only(data)
        return hash_key(data, self.hash_type)


def _atoi(text: str) -> int:
    i = 0
    n = len(text)
    while i < n and text[i] in " \t\n\v\f\r":
        i += 1
    j = i
    if j < n and text[j] in "+-":
        j += 1
    k = j
    while k < n and text[k].isdigit() and text[k] < "\x80":
        k += 1
    return int(text[i:k]) if k > j else 0
