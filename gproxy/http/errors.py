"""Responses gproxy generates itself, byte for byte as HAProxy 2.6 sends them, and the
``errorfile`` / ``errorfiles`` / ``http-errors`` / ``errorloc`` / ``errorloc302`` /
``errorloc303`` keywords that replace them.

Two shapes exist on the wire (captured from ``haproxy -db`` 2.6 with a raw socket):

* errors raised by HAProxy's H1 mux before a stream exists (unparsable request, request
  head timeout) go out as the raw built-in text: ``HTTP/1.1 400 Bad request`` with
  ``Content-length``/``Cache-Control``/``Connection: close``/``Content-Type`` in that case
  and order (``RAW_400``, ``RAW_408``); errorfiles do not apply to them;
* every other generated response (503 no server, 502/504 server errors, ``deny``
  pages, errorfiles) is an HTX message rendered by the H1 mux: header names lower-case,
  the message's own ``Connection`` header dropped and the connection header the mux
  decides appended last (``close`` when the client side closes, ``keep-alive`` for an
  HTTP/1.0 peer that keeps the connection).

``errorloc`` pages are the message HAProxy builds for them (``http_parse_errorloc``):
``HTTP/1.1 302 Found`` (``303 See Other`` for ``errorloc303``) with ``Cache-Control:
no-cache``, ``Content-length: 0`` and ``Location: <url>``, stored like an errorfile.  Each
proxy's pages are applied in declaration order, those of its defaults section first: a
later ``errorfile``/``errorloc``/``errorfiles`` line replaces an earlier one for the same
code (HAProxy's ``proxy_check_errors``).

Pure: builds bytes, reads errorfiles at configuration time only.
"""

from __future__ import annotations

from typing import Any

from ..config.parser import register_section
from ..config.values import c_atol
from ..registry import PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx
from . import parse

# code -> (reason, text of the body's second line); HAProxy 2.6.12 http_err_msgs
_TEXTS: dict[int, tuple[str, str]] = {
    200: ("OK", "Service ready."),
    400: ("Bad request", "Your browser sent an invalid request."),
    401: ("Unauthorized", "You need a valid user and password to access this content."),
    403: ("Forbidden", "Request forbidden by administrative rules."),
    404: ("Not Found", "The resource could not be found."),
    405: ("Method Not Allowed", "A request was made of a resource using a request method not supported by that resource"),
    407: ("Unauthorized", "You need a valid user and password to access this content."),
    408: ("Request Time-out", "Your browser didn't send a complete request in time."),
    410: ("Gone", "The resource is no longer available and will not be available again."),
    413: ("Payload Too Large", "The request entity exceeds the maximum allowed."),
    421: ("Misdirected Request", "Request sent to a non-authoritative server."),
    422: ("Unprocessable Content", "The server cannot process the contained instructions."),
    425: ("Too Early", "Your browser sent early data."),
    429: ("Too Many Requests", "You have sent too many requests in a given amount of time."),
    500: ("Internal Server Error", "An internal server error occurred."),
    501: ("Not Implemented", ".The server does not support the functionality required to fulfill the request."),
    502: ("Bad Gateway", "The server returned an invalid or incomplete response."),
    503: ("Service Unavailable", "No server is available to handle this request."),
    504: ("Gateway Time-out", "The server didn't respond in time."),
}
#: status codes ``errorfile`` accepts (HAProxy 2.6 http_err_codes)
CODES = tuple(sorted(_TEXTS))


def _body(code: int) -> bytes:
    reason, text = _TEXTS[code]
    return f"<html><body><h1>{code} {reason}</h1>\n{text}\n</body></html>\n".encode()


def _raw(code: int) -> bytes:
    body = _body(code)
    reason = _TEXTS[code][0]
    return (
        f"HTTP/1.1 {code} {reason}\r\nContent-length: {len(body)}\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\nContent-Type: text/html\r\n\r\n"
    ).encode() + body


#: the H1 mux's own answers (request never became a stream)
RAW_400 = _raw(400)
RAW_408 = _raw(408)
RAW_500 = _raw(500)
RAW_501 = _raw(501)
# HAProxy 2.6's 422 message (refused Transfer-Encoding) is the only one without a Connection header
RAW_422 = _raw(422).replace(b"Connection: close\r\n", b"")


class Reply:
    """A response to generate: status line, headers (lower-case names), body.

    ``close`` is True when the message itself forces the connection to close (it had
    ``Connection: close`` or no length); ``minor`` its HTTP minor version.
    """

    __slots__ = ("body", "close", "has_len", "headers", "minor", "reason", "status")

    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes = b"", minor: int = 1,
                 close: bool = False, has_len: bool = True) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.minor = minor
        self.close = close
        self.has_len = has_len

    def render(self, keep_alive: bool, req_minor: int = 1, head_only: bool = False,
               extra: list[tuple[str, str]] | None = None) -> tuple[bytes, bool]:
        """Bytes for the client and whether the connection stays open after them."""
        ka = keep_alive and not self.close and self.has_len
        out = [f"HTTP/1.{self.minor} {self.status} {self.reason}\r\n"]
        for k, v in self.headers:
            out.append(f"{k}: {v}\r\n")
        if extra:
            for k, v in extra:
                out.append(f"{k}: {v}\r\n")
        hdr = conn_header(ka, req_minor, self.minor)
        if hdr:
            out.append(hdr)
        out.append("\r\n")
        head = "".join(out).encode("latin-1")
        return (head if head_only else head + self.body), ka


def conn_header(keep_alive: bool, req_minor: int, rsp_minor: int) -> str:
    """The connection header HAProxy's H1 mux appends to a response for the client."""
    if not keep_alive:
        return "connection: close\r\n" if rsp_minor else ""
    if not rsp_minor or not req_minor:
        return "connection: keep-alive\r\n"
    return ""


def default_reply(code: int) -> Reply:
    """HAProxy's built-in page for ``code`` (500's page for codes it has none for)."""
    if code not in _TEXTS:
        code = 500
    body = _body(code)
    return Reply(
        code,
        _TEXTS[code][0],
        [("content-length", str(len(body))), ("cache-control", "no-cache"), ("content-type", "text/html")],
        body,
        close=code in (400, 408),
    )


_DEFAULTS = {c: default_reply(c) for c in CODES}


def reply_from_raw(raw: bytes) -> Reply:
    """Parse an errorfile's content into a Reply (raises parse.ParseError)."""
    end, body_at = parse.head_end(raw)
    if end < 0:
        raise parse.ParseError(502, "unable to parse headers (error offset: 0)")
    rsp, info = parse.parse_response(raw[:end])
    body = raw[body_at:]
    close = bool(info.conn and info.conn.close)
    has_len = rsp.body_len is not None or rsp.chunked or rsp.status in (204, 304)
    if rsp.body_len is not None:
        body = body[: rsp.body_len]
    items = [kv for kv in rsp.headers.items if kv[0] != "connection"]
    return Reply(rsp.status, rsp.reason, items, body, minor=1 if rsp.version == "HTTP/1.1" else 0, close=close,
                 has_len=has_len)


class ErrorPages:
    """The errorfiles of one proxy, resolved: code -> Reply."""

    __slots__ = ("pages",)

    def __init__(self, pages: dict[int, Reply] | None = None) -> None:
        self.pages = pages or {}

    def get(self, code: int) -> Reply | None:
        return self.pages.get(code)


def pages_for(spec: Any) -> ErrorPages:
    """Resolved errorfiles of a proxy spec (cached in ``spec.extra``)."""
    got = spec.extra.get("_error_pages")
    if got is None:
        pages = {}
        for code, raw in spec.errorfiles.items():
            try:
                pages[code] = reply_from_raw(raw)
            except parse.ParseError:
                continue
        got = ErrorPages(pages)
        spec.extra["_error_pages"] = got
    return got


def reply(code: int, be_spec: Any = None, fe_spec: Any = None) -> Reply:
    """The page for ``code``: the backend's errorfile, else the frontend's, else built-in."""
    if be_spec is not None and be_spec.errorfiles:
        r = pages_for(be_spec).get(code)
        if r is not None:
            return r
    if fe_spec is not None and fe_spec.errorfiles and fe_spec is not be_spec:
        r = pages_for(fe_spec).get(code)
        if r is not None:
            return r
    got = _DEFAULTS.get(code)
    return got if got is not None else default_reply(code)


# ----------------------------------------------------------------------------- keywords
def status_code(text: str) -> int:
    """HAProxy's ``int status = atol(text)``: C ``atol()`` (``abc`` is 0, ``403abc`` is
    403, saturated to the C long range), then truncated to a C int (``4294967699`` is
    403, a huge number is -1)."""
    v = c_atol(text) & 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _set_page(proxy: Any, code: int, raw: bytes) -> None:
    """An ``errorfile``/``errorloc`` line: the page for ``code``, ordered after the
    ``errorfiles`` references seen so far (see ``resolve``)."""
    proxy.errorfiles[code] = raw
    proxy.extra.setdefault("errorfile_seq", {})[code] = len(proxy.extra.get("errorfiles_refs", ()))
    proxy.extra.pop("_error_pages", None)


def errorloc_raw(status: int, url: str) -> bytes:
    """The message HAProxy 2.6 builds for ``errorloc``/``errorloc302`` (302) or
    ``errorloc303`` (303) to ``url`` (the config's bytes: UTF-8 with surrogateescape)."""
    head = "HTTP/1.1 302 Found\r\n" if status == 302 else "HTTP/1.1 303 See Other\r\n"
    return (f"{head}Cache-Control: no-cache\r\nContent-length: 0\r\nLocation: {url}\r\n\r\n").encode("utf-8", "surrogateescape")


def _read_errorfile(what: str, code_text: str, path: str) -> tuple[int, bytes]:
    code = status_code(code_text)
    if code not in _TEXTS:
        raise ConfigError(f"{what} : status code '{code}' not handled.")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError:
        raise ConfigError(f"{what} : error opening file '{path}'.") from None
    if len(raw) > parse.BUFSIZE:
        raise ConfigError(f"{what} : error file larger than the buffer size ({len(raw)} > {parse.BUFSIZE}).")
    end, _ = parse.head_end(raw)
    try:
        if end < 0:
            raise parse.ParseError(502, "")
        parse.parse_response(raw[:end])
    except parse.ParseError:
        raise ConfigError(f"{what} : '{path}': unable to parse headers (error offset: 0)") from None
    return code, raw


@SECTION_KEYWORDS.register("errorfile", PROXY_SECTIONS, "<code> <file>", "return the content of <file> instead of the built-in error page")
def _kw_errorfile(ctx: KwCtx, args: list[str]) -> None:
    if len(args) != 2:
        raise ConfigError("errorfile : expects <status_code> and <file> as arguments.\n")
    code, raw = _read_errorfile("errorfile", args[0], args[1])
    _set_page(ctx.proxy, code, raw)


@SECTION_KEYWORDS.register("errorfiles", PROXY_SECTIONS, "<name> [<code> ...]", "use the error pages of an http-errors section")
def _kw_errorfiles(ctx: KwCtx, args: list[str]) -> None:
    if not args:
        raise ConfigError("errorfiles : expects <name> as argument.")
    codes = []
    for a in args[1:]:
        c = status_code(a)
        if c not in _TEXTS:
            raise ConfigError(f"errorfiles : status code '{c}' not handled.")
        codes.append(c)
    refs = ctx.proxy.extra.setdefault("errorfiles_refs", [])
    refs.append((args[0], codes, ctx.file, ctx.line))


def _kw_errorloc(ctx: KwCtx, args: list[str]) -> None:
    # proxy_parse_errorloc(): words after <url> are not looked at
    if len(args) < 2 or not args[0] or not args[1]:
        raise ConfigError(f"{ctx.keyword} : expects <status_code> and <url> as arguments.\n")
    code = status_code(args[0])
    if code not in _TEXTS:
        raise ConfigError(f"{ctx.keyword} : status code '{code}' not handled.")
    _set_page(ctx.proxy, code, errorloc_raw(303 if ctx.keyword == "errorloc303" else 302, args[1]))


for _kw, _doc in (("errorloc", "302"), ("errorloc302", "302"), ("errorloc303", "303")):
    SECTION_KEYWORDS.register(_kw, PROXY_SECTIONS, "<code> <url>",
                              f"answer status <code> with a {_doc} redirect to <url> instead of the error page")(_kw_errorloc)


class HttpErrors:
    """One ``http-errors <name>`` section: code -> raw response."""

    def __init__(self, name: str, file: str, line: int) -> None:
        self.name = name
        self.file = file
        self.line = line
        self.pages: dict[int, bytes] = {}


@register_section("http-errors")
def _open_http_errors(ctx: KwCtx, args: list[str]) -> Any:
    if not args:
        raise ConfigError("missing name for http-errors section.")
    name = args[0]
    sections = ctx.model.sections.setdefault("http-errors", [])
    for other in sections:
        if other.name == name:
            ctx.diag.alert(
                f"parsing [{ctx.file}:{ctx.line}]: http-errors section '{name}' already exists "
                f"(declared at {other.file}:{other.line})."
            )
            return _skip
    sec = HttpErrors(name, ctx.file, ctx.line)
    sections.append(sec)

    def line(lctx: KwCtx, words: list[str]) -> None:
        if words[0] != "errorfile":
            raise ConfigError(f"unknown keyword '{words[0]}' in 'http-errors' section")
        if len(words) != 3:
            raise ConfigError("errorfile : expects <status_code> and <file> as arguments.\n")
        code, raw = _read_errorfile("errorfile", words[1], words[2])
        sec.pages[code] = raw

    return line


def _skip(ctx: KwCtx, words: list[str]) -> None:
    pass


def resolve(model: Any, diag: Any) -> None:
    """Apply ``errorfiles`` references (post-parse; HAProxy's proxy_check_errors): in
    declaration order, so a reference replaces the pages of earlier ``errorfile``/
    ``errorloc`` lines and references, and gives way to later ones."""
    sections = {s.name: s for s in model.sections.get("http-errors", [])}
    for p in model.proxies:
        refs = p.extra.get("errorfiles_refs")
        if not refs:
            continue
        seq = p.extra.get("errorfile_seq", {})
        for i, (name, codes, file, line) in enumerate(refs):
            sec = sections.get(name)
            if sec is None:
                what = "proxy" if p.kind in ("listen", "defaults") else p.kind
                diag.alert(f"{what} '{p.name}': unknown http-errors section '{name}' (at {file}:{line}).")
                continue
            for code, raw in sec.pages.items():
                if codes and code not in codes:
                    continue
                if seq.get(code, 0) > i:
                    continue  # an errorfile/errorloc line after this reference wins
                p.errorfiles[code] = raw
        p.extra.pop("_error_pages", None)
