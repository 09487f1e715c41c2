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

``http-error status <code> ...`` (``proxy_parse_http_error``) sets the page for <code> in
that same order: a page named by ``errorfile``/``errorfiles``/``default-errorfiles``, or an
http reply of its own (``string``, ``file``, ``lf-string``, ``lf-file``, ``content-type``,
``hdr``, or none of them: an empty body), parsed by ``rules.parse_reply`` as for
``http-request return``.  Such a reply goes out as ``http_reply_to_htx()`` builds it:
``HTTP/1.1 <code> <http_get_reason(code)>``, the ``hdr`` fields whose value is not empty,
``content-length``, ``content-type`` when there is a body, then the connection header of
the H1 mux.  A reply without log-format parts is rendered once (``pages_for``); one with
them (``lf-*``, a ``hdr`` value with ``%``) is an ``LfReply`` rendered for each
transaction: ``reply(..., txn)``, or ``bind(rep, txn)`` for a page looked up without it.

Error files are checked as ``http_str_to_htx()`` does (``check_errorfile``); an empty one
is an empty message: HAProxy sends nothing for it and closes (``EmptyReply``).  Replies of
``deny``/``return`` rules naming an http-errors section are resolved after parsing
(``check_reply_refs``).

Pure: builds bytes, reads errorfiles at configuration time only.  Storage per proxy:
``Proxy.errorfiles`` (code -> raw message) and ``extra["error_replies"]`` (code ->
``rules.ReplySpec`` of an ``http-error`` with its own payload); a code is in one of them
at most.
"""

from __future__ import annotations

import re
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


class EmptyReply(Reply):
    """The page of an empty errorfile (``errorfile 503 /dev/null``): HAProxy 2.6 loads it
    as an empty message (``http_str_to_htx`` of no bytes), sends nothing at all and
    closes the connection; the log still shows the status, with 0 bytes."""

    __slots__ = ()

    def __init__(self, status: int) -> None:
        super().__init__(status, "", [], b"", close=True, has_len=False)

    def render(self, keep_alive: bool, req_minor: int = 1, head_only: bool = False,
               extra: list[tuple[str, str]] | None = None) -> tuple[bytes, bool]:
        return b"", False


class LfReply(Reply):
    """The page of an ``http-error`` line with log-format parts, rendered for one
    transaction (``txn`` None: rendered with what ``sess`` alone gives, see ``bind``).
    As HAProxy, which picks the page by ``txn->status``, the transaction's status is the
    page's code while it renders (``%ST``)."""

    __slots__ = ("spec", "txn")

    def __init__(self, spec: Any, sess: Any = None, txn: Any = None) -> None:
        if txn is not None:
            txn.status = spec.status
        items, body = spec.parts(sess, txn)
        super().__init__(spec.status, _reply_reason(spec.status), items, body)
        self.spec = spec
        self.txn = txn


def bind(rep: Reply, txn: Any) -> Reply:
    """``rep`` rendered for ``txn`` if it is a log-format page looked up without one
    (``reply()`` called with no transaction), else ``rep`` itself."""
    if txn is not None and type(rep) is LfReply and rep.txn is None:
        return LfReply(rep.spec, txn.sess, txn)
    return rep


def _reply_reason(status: int) -> str:
    from .rules import http_reason

    return http_reason(status)


def _static_reply(spec: Any) -> Reply:
    """A reply without log-format parts, rendered at configuration time."""
    items, body = spec.parts(None, None)
    return Reply(spec.status, _reply_reason(spec.status), items, body)


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


def reply_from_raw(raw: bytes, status: int = 0) -> Reply:
    """Parse an errorfile's content into a Reply (raises parse.ParseError); an empty file
    is an ``EmptyReply`` for ``status``."""
    if not raw:
        return EmptyReply(status)
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
    """The pages of one proxy, resolved: code -> Reply, or the ``rules.ReplySpec`` of an
    ``http-error`` reply rendered per transaction."""

    __slots__ = ("pages",)

    def __init__(self, pages: dict[int, Any] | None = None) -> None:
        self.pages = pages or {}

    def get(self, code: int) -> Any:
        return self.pages.get(code)


def pages_for(spec: Any) -> ErrorPages:
    """Resolved pages of a proxy spec (cached in ``spec.extra``)."""
    got = spec.extra.get("_error_pages")
    if got is None:
        pages: dict[int, Any] = {}
        for code, raw in spec.errorfiles.items():
            try:
                pages[code] = reply_from_raw(raw, code)
            except parse.ParseError:
                continue
        for code, rep in (spec.extra.get("error_replies") or {}).items():
            pages[code] = rep if rep.dynamic else _static_reply(rep)
        got = ErrorPages(pages)
        spec.extra["_error_pages"] = got
    return got


def _has_pages(spec: Any) -> bool:
    return bool(spec.errorfiles or spec.extra.get("error_replies"))


def reply(code: int, be_spec: Any = None, fe_spec: Any = None, txn: Any = None, sess: Any = None) -> Reply:
    """The page for ``code`` (HAProxy's http_error_message()): the backend's errorfile or
    ``http-error`` reply, else the frontend's, else built-in.  A page with log-format
    parts is rendered for ``txn`` (and ``sess``, by default ``txn.sess``)."""
    r = None
    if be_spec is not None and _has_pages(be_spec):
        r = pages_for(be_spec).get(code)
    if r is None and fe_spec is not None and fe_spec is not be_spec and _has_pages(fe_spec):
        r = pages_for(fe_spec).get(code)
    if r is None:
        got = _DEFAULTS.get(code)
        return got if got is not None else default_reply(code)
    if isinstance(r, Reply):
        return r
    return LfReply(r, sess if sess is not None or txn is None else txn.sess, txn)


# ----------------------------------------------------------------------------- keywords
def status_code(text: str) -> int:
    """HAProxy's ``int status = atol(text)``: C ``atol()`` (``abc`` is 0, ``403abc`` is
    403, saturated to the C long range), then truncated to a C int (``4294967699`` is
    403, a huge number is -1)."""
    v = c_atol(text) & 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _set_page(proxy: Any, code: int, page: Any) -> None:
    """An ``errorfile``/``errorloc``/``http-error`` line: the page for ``code`` (raw
    message bytes, a ``rules.ReplySpec``, or None for HAProxy's own page), ordered after
    the ``errorfiles`` references seen so far (see ``resolve``)."""
    proxy.errorfiles.pop(code, None)
    replies = proxy.extra.get("error_replies")
    if replies:
        replies.pop(code, None)
    if isinstance(page, bytes):
        proxy.errorfiles[code] = page
    elif page is not None:
        proxy.extra.setdefault("error_replies", {})[code] = page
    proxy.extra.setdefault("errorfile_seq", {})[code] = len(proxy.extra.get("errorfiles_refs", ()))
    proxy.extra.pop("_error_pages", None)


def errorloc_raw(status: int, url: str) -> bytes:
    """The message HAProxy 2.6 builds for ``errorloc``/``errorloc302`` (302) or
    ``errorloc303`` (303) to ``url`` (the config's bytes: UTF-8 with surrogateescape)."""
    head = "HTTP/1.1 302 Found\r\n" if status == 302 else "HTTP/1.1 303 See Other\r\n"
    return (f"{head}Cache-Control: no-cache\r\nContent-length: 0\r\nLocation: {url}\r\n\r\n").encode("utf-8", "surrogateescape")


def check_errorfile(raw: bytes) -> str | None:
    """http_str_to_htx(): None when HAProxy 2.6 accepts ``raw`` as an error message, else
    its reason (``unable to parse headers (error offset: N)``, ``message payload not
    expected``...).  An empty file is accepted (an empty message, see ``EmptyReply``)."""
    if not raw:
        return None
    end, body_at = parse.head_end(raw)
    vsn = re.match(rb"(HTTP/[0-9]+\.[0-9]+) ", raw)
    if end >= 0 and vsn is not None and len(vsn.group(1)) != 8:
        return f"invalid http version ({vsn.group(1).decode()})"
    try:
        if end < 0:
            raise parse.ParseError(502, "")
        rsp, _ = parse.parse_response(raw[:end])
    except parse.ParseError:
        # h1m.err_pos: -2 while the head is only incomplete, else where parsing failed
        try:
            incomplete = end < 0 and parse.parse_response(raw.rstrip(b"\r\n") + b"\r\n") is not None
        except parse.ParseError:
            incomplete = False
        return f"unable to parse headers (error offset: {-2 if incomplete else 0})"
    if rsp.status < 200 and (rsp.status == 100 or rsp.status >= 102):
        return f"invalid http status code for an error message ({rsp.status})"
    payload = len(raw) - body_at
    if rsp.status in (204, 304):
        bodyless, clen = True, None
    elif rsp.chunked:
        return "chunk-encoded payload not supported"
    elif rsp.body_len is not None:
        bodyless, clen = rsp.body_len == 0, rsp.body_len
    else:
        bodyless, clen = False, None
    if bodyless and payload:
        return "message payload not expected"
    if clen is not None and clen != payload:
        return f"payload size does not match the announced content-length ({payload} != {clen})"
    return None


def load_errorfile(path: str, ctx: KwCtx | None = None) -> bytes:
    """http_load_errorfile(): the content of an error file, checked.  Raises ConfigError
    with HAProxy's message (``error opening file '<f>'.``, ``'<f>': <reason>``).  A file
    larger than the buffer is truncated with HAProxy's warning, once per file (HAProxy
    keeps every file it loaded)."""
    loaded: dict[str, bytes] = ctx.model.__dict__.setdefault("errorfiles_loaded", {}) if ctx is not None else {}
    if path in loaded:
        return loaded[path]
    try:
        with open(path, "rb") as f:
            raw = f.read(parse.BUFSIZE + 1)
    except OSError:
        raise ConfigError(f"error opening file '{path}'.") from None
    if len(raw) > parse.BUFSIZE:
        if ctx is not None:
            ctx.diag.warning(f"custom error message file '{path}' larger than {parse.BUFSIZE} bytes. Truncating.")
        raw = raw[: parse.BUFSIZE]
    why = check_errorfile(raw)
    if why is not None:
        raise ConfigError(f"'{path}': {why}")
    loaded[path] = raw
    return raw


def _read_errorfile(what: str, code_text: str, path: str, ctx: KwCtx | None = None) -> tuple[int, bytes]:
    code = status_code(code_text)
    if code not in _TEXTS:
        raise ConfigError(f"{what} : status code '{code}' not handled.")
    try:
        raw = load_errorfile(path, ctx)
    except ConfigError as e:
        raise ConfigError(f"{what} : {e}") from None
    return code, raw


@SECTION_KEYWORDS.register("errorfile", PROXY_SECTIONS, "<code> <file>", "return the content of <file> instead of the built-in error page")
def _kw_errorfile(ctx: KwCtx, args: list[str]) -> None:
    if len(args) != 2:
        raise ConfigError("errorfile : expects <status_code> and <file> as arguments.\n")
    code, raw = _read_errorfile("errorfile", args[0], args[1], ctx)
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


@SECTION_KEYWORDS.register(
    "http-error", PROXY_SECTIONS,
    "status <code> [content-type <type>] [default-errorfiles | errorfile <file> | errorfiles <name> | "
    "file <file> | lf-file <file> | string <str> | lf-string <fmt>] [hdr <name> <fmt>]*",
    "the error page for <code>: a file, an http-errors section's page, HAProxy's own, or a reply "
    "of its own (payload, content-type, headers; log-format forms evaluated per response)",
)
def _kw_http_error(ctx: KwCtx, args: list[str]) -> None:
    """proxy_parse_http_error(): an http reply as the proxy's page for its status: a page
    it names (``errorfile``, ``errorfiles``, ``default-errorfiles``) or its own payload
    (``string``, ``file``, ``lf-*``, none) with ``content-type`` and ``hdr`` fields."""
    from . import rules

    px = ctx.proxy
    pc = rules.Pc(ctx, "http-response", list(args))
    # ARGC_HERR: every fetch may be used (SMP_VAL_REQUEST | SMP_VAL_RESPONSE)
    pc.pctx.places = ()
    pc.pctx.argctx = "in http-error directive in"
    known = {id(r) for _, r in (px.extra.get("http_reply_refs") or ((), ()))[1]}
    smp_refs = pc.pctx.refs if pc.pctx.refs is not None else []
    n_smp_refs = len(smp_refs)
    try:
        rep, i = rules.parse_reply(pc, 0, 0)
    except rules.ActionError as e:
        raise ConfigError(f"http-error : {e}") from None
    finally:
        refs = px.extra.get("http_reply_refs")
        if refs:  # not a rule's reply: drop what parse_reply() noted for check_reply_refs()
            refs[1][:] = [x for x in refs[1] if id(x[1]) in known]
        if px.kind == "defaults":
            # HAProxy resolves no sample argument of a defaults section (``nbsrv(<be>)``
            # is looked up by name when the page is rendered)
            del smp_refs[n_smp_refs:]
    if not rep.status:
        raise ConfigError("http-error : expects at least a <status> as arguments.\n")
    if rep.status not in _TEXTS:
        raise ConfigError(f"http-error: status code '{rep.status}' not handled.")
    if i < len(args) and args[i]:
        raise ConfigError(f"http-error : unknown keyword '{args[i]}'.")
    if rep.kind != "errmsg":
        _set_page(px, rep.status, rep)
    elif rep.errorfiles is not None:
        # an 'errorfiles <name> <status>' reference: a status the section lacks is warned about
        px.extra.setdefault("errorfiles_refs", []).append((rep.errorfiles, [rep.status], ctx.file, ctx.line))
    elif rep.errorfile is not None:
        _set_page(px, rep.status, rep.errorfile_raw)
    else:  # default-errorfiles: HAProxy's own page again, over earlier errorfile lines and references
        _set_page(px, rep.status, None)


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
        code, raw = _read_errorfile("errorfile", words[1], words[2], lctx)
        sec.pages[code] = raw

    return line


def _skip(ctx: KwCtx, words: list[str]) -> None:
    pass


_RULESET_ORDER = ("http-request", "http-response", "http-after-response")


def check_reply_refs(proxy: Any, model: Any, diag: Any) -> None:
    """http_check_http_reply() for the http replies of ``proxy``'s rules that name an
    http-errors section (``deny``/``tarpit``/``return`` ... ``errorfiles <name>``), in
    HAProxy's order (http-request, http-response, http-after-response rules): the
    section's page for the reply's status; a status the section does not declare gets a
    warning and an empty reply (status line and ``content-length: 0``); an unknown
    section is an alert."""
    refs = proxy.extra.get("http_reply_refs")
    if not refs or refs[0] != (proxy.kind, proxy.name, proxy.file, proxy.line):
        return
    sections = {s.name: s for s in model.sections.get("http-errors", [])}
    items = sorted(refs[1], key=lambda r: _RULESET_ORDER.index(r[0]) if r[0] in _RULESET_ORDER else 3)
    for _ruleset, rep in items:
        sec = sections.get(rep.errorfiles)
        if sec is None:
            diag.alert(f"Proxy '{proxy.name}': unknown http-errors section '{rep.errorfiles}' referenced by an http "
                       "reply .")
            continue
        raw = sec.pages.get(rep.status)
        if raw is None:
            diag.warning(f"Proxy '{proxy.name}': status '{rep.status}' referenced by an http reply not declared in "
                         f"http-errors section '{sec.name}'.")
            rep.kind = "empty"
            continue
        try:
            rep.errorfile = reply_from_raw(raw, rep.status)
        except parse.ParseError:
            rep.kind = "empty"


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
                # proxy_check_errors() says "proxy" whatever the section kind
                diag.alert(f"proxy '{p.name}': unknown http-errors section '{name}' (at {file}:{line}).")
                continue
            for code, raw in sec.pages.items():
                if codes and code not in codes:
                    continue
                if seq.get(code, 0) > i:
                    continue  # an errorfile/errorloc/http-error line after this reference wins
                p.errorfiles[code] = raw
                p.extra.get("error_replies", {}).pop(code, None)
            for code in sorted(set(codes) - set(sec.pages)):
                # a status named on the 'errorfiles' line that the section does not declare
                diag.warning(f"config: proxy '{p.name}' : status '{code}' not declared in http-errors section "
                             f"'{name}' (at {file}:{line}).")
        p.extra.pop("_error_pages", None)
