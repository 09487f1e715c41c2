"""Configuration keywords of the HTTP engine (``mode http``), with HAProxy 2.6's texts.

Owns: ``option httpclose | http-server-close | http-keep-alive`` (one connection mode
per proxy, the last one wins; ``no option X`` cancels X only), ``option forwardfor
[except <net>] [header <name>] [if-none]``, ``option originalto [except <net>] [header
<name>]``, ``option accept-invalid-http-request|response``, ``option
http-buffer-request``, ``option http-pretend-keepalive``, ``option http-ignore-probes``,
``option http-no-delay``, ``option http-restrict-req-hdr-names preserve|delete|reject``
(with ``restrict_hdr_names``, the check the engine runs after each proxy's
``http-request`` rules), ``option h1-case-adjust-bogus-client|server`` (the table is
``casing``'s), ``capture request|response header <name> len <n>``,
``capture cookie <name> len <n>``, ``declare capture request|response len <n>`` (a slot
for the ``capture`` actions of ``rules``), ``http-reuse never|safe|aggressive|always``,
``http-send-name-header <name>`` and the global ``tune.bufsize``, ``tune.maxrewrite``,
``tune.http.maxhdr``.  Handlers write to the Model only; ``HttpSettings`` compiles what
the engine reads per frontend/backend.
"""

from __future__ import annotations

import ipaddress
import re
from types import SimpleNamespace
from typing import Any

from ..proxy import set_option
from ..registry import BE_SIDE, DEFAULTS, FE_SIDE, GLOBAL, PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx
from . import casing  # noqa: F401 - registers the global h1-case-adjust keywords

kw = SECTION_KEYWORDS.register

# connection modes, weakest to strongest (HAProxy PR_O_HTTP_KAL < SCL < CLO)
KAL, SCL, CLO = 0, 1, 2
_MODES = {"http-keep-alive": KAL, "http-server-close": SCL, "httpclose": CLO}


def _no_args(ctx: KwCtx, args: list[str]) -> None:
    if args:
        raise ConfigError(f"'{ctx.keyword}' cannot handle unexpected argument '{args[0]}'.")


def _conn_mode(ctx: KwCtx, args: list[str]) -> None:
    _no_args(ctx, args)
    name = ctx.keyword.split()[1]
    opts = ctx.proxy.options
    if getattr(ctx, "negated", False) or getattr(ctx, "default_prefix", False):
        if opts.get("http_mode_name") == name:
            opts.pop("http_mode_name", None)
        return
    opts["http_mode_name"] = name


for _name in _MODES:
    kw(f"option {_name}", PROXY_SECTIONS, "", f"HTTP connection mode '{_name}'", takes_no=True)(_conn_mode)


def _network(text: str) -> Any:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _xff_like(ctx: KwCtx, args: list[str], default_header: str, allow_if_none: bool) -> dict[str, Any] | None:
    if getattr(ctx, "negated", False) or getattr(ctx, "default_prefix", False):
        return None
    name = ctx.keyword.split()[1]
    spec: dict[str, Any] = {"header": default_header, "except": None, "if-none": False}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "except":
            if i + 1 >= len(args) or _network(args[i + 1]) is None:
                raise ConfigError(f"'option {name} except' expects <address>[/mask] as argument.")
            spec["except"] = args[i + 1]
            i += 2
        elif a == "header":
            if i + 1 >= len(args) or not args[i + 1]:
                raise ConfigError(f"'option {name} header' expects <header_name> as argument.")
            spec["header"] = args[i + 1]
            i += 2
        elif a == "if-none" and allow_if_none:
            spec["if-none"] = True
            i += 1
        else:
            if allow_if_none:
                raise ConfigError(f"'option {name}' only supports optional values: 'except', 'header' and 'if-none'.")
            raise ConfigError(f"'option {name}' only supports optional values: 'except' and 'header'.")
    return spec


@kw("option forwardfor", PROXY_SECTIONS, "[except <net>] [header <name>] [if-none]", "add X-Forwarded-For with the client address", takes_no=True)
def _forwardfor(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.forwardfor = _xff_like(ctx, args, "X-Forwarded-For", True)


@kw("option originalto", PROXY_SECTIONS, "[except <net>] [header <name>]", "add X-Original-To with the destination address", takes_no=True)
def _originalto(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.originalto = _xff_like(ctx, args, "X-Original-To", False)


for _name, _where in (
    ("accept-invalid-http-request", FE_SIDE),
    ("accept-invalid-http-response", BE_SIDE),
    ("http-buffer-request", PROXY_SECTIONS),
    ("http-pretend-keepalive", PROXY_SECTIONS),
    ("http-ignore-probes", FE_SIDE),
    ("http-no-delay", PROXY_SECTIONS),
    ("prefer-last-server", BE_SIDE),
    ("http-use-proxy-header", FE_SIDE),
    ("idle-close-on-response", FE_SIDE),
    # HAProxy 2.6.12 accepts these two in mode tcp too (a tcp frontend upgraded to an
    # http backend, http health checks): no 'requires HTTP mode' warning for them
    ("h1-case-adjust-bogus-client", FE_SIDE),
    ("h1-case-adjust-bogus-server", BE_SIDE),
):
    kw(f"option {_name}", _where, "", "HTTP engine option", takes_no=True)(set_option)

#: ``option http-restrict-req-hdr-names`` values
RESTRICT_MODES = ("preserve", "delete", "reject")
_RESTRICT_EXPECTS = "option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option."


@kw("option http-restrict-req-hdr-names", PROXY_SECTIONS, "preserve|delete|reject",
    "request header names with characters other than letters, digits and '-': keep them, remove them or refuse the request (403)")
def _restrict_req_hdr_names(ctx: KwCtx, args: list[str]) -> None:
    # cfgparse-listen.c: alertif_too_many_args(2) looks at the word after the mode only
    if len(args) > 1 and args[1]:
        raise ConfigError(f"'option' cannot handle unexpected argument '{args[1]}'.")
    if not args or not args[0]:
        raise ConfigError(f"missing parameter. {_RESTRICT_EXPECTS}")
    if args[0] not in RESTRICT_MODES:
        raise ConfigError(f"invalid parameter '{args[0]}'. {_RESTRICT_EXPECTS}")
    ctx.proxy.options["http-restrict-req-hdr-names"] = args[0]


_BAD_NAME_CHAR = re.compile(r"[^0-9A-Za-z-]")


def restrict_hdr_names(items: list[tuple[str, str]], mode: str) -> bool:
    """``option http-restrict-req-hdr-names`` over a request's header list, in place.

    A name with any character other than ASCII letters, digits and ``-`` (HAProxy's
    ``isalnum() || '-'``) is kept (``preserve``), removed with its value (``delete``) or
    makes the request refused (``reject``: returns False; the engine answers 403 as an
    ``http-request deny``, logged ``PR--`` and counted as a denied request).  Returns True
    when the request goes on.
    """
    if mode == "preserve":
        return True
    search = _BAD_NAME_CHAR.search
    if mode == "reject":
        for name, _ in items:
            if search(name) is not None:
                return False
        return True
    if any(search(name) is not None for name, _ in items):
        items[:] = [kv for kv in items if search(kv[0]) is None]
    return True


#: the verdict the engine passes to its deny path when ``restrict_hdr_names`` refuses
RESTRICT_DENY = SimpleNamespace(kind="deny", status=403, response=None)


def restrict_mode(spec: Any) -> str | None:
    """The mode the engine must apply for a proxy (None: nothing to do, ``preserve``)."""
    mode = spec.options.get("http-restrict-req-hdr-names")
    return mode if mode in ("delete", "reject") else None


@kw("capture", FE_SIDE, "cookie <name> len <n> | request header <name> len <n> | response header <name> len <n>", "capture a cookie or header for the log")
def _capture(ctx: KwCtx, args: list[str]) -> None:
    p = ctx.proxy
    what = args[0] if args else ""
    if what == "cookie":
        _not_in_defaults(ctx, "capture cookie")
        if len(args) < 4 or args[2] != "len":
            raise ConfigError("'capture' expects 'cookie' <cookie_name> 'len' <len>.")
        if len(args) > 4:
            raise ConfigError(f"'capture cookie' cannot handle unexpected argument '{args[4]}'.")
        p.extra["capture_cookie"] = (args[1], _atol(args[3]))
        return
    if what in ("request", "response") and len(args) > 1 and args[1] == "header":
        _not_in_defaults(ctx, f"capture {what}")
        if len(args) < 5 or args[3] != "len":
            raise ConfigError(f"'capture {what}' expects 'header' <header_name> 'len' <len>.")
        if len(args) > 5:
            raise ConfigError(f"'capture {what}' cannot handle unexpected argument '{args[5]}'.")
        target = p.captures_req if what == "request" else p.captures_rsp
        target.append((args[2], _atol(args[4])))
        return
    raise ConfigError("'capture' expects 'cookie' or 'request header' or 'response header'.")


def _not_in_defaults(ctx: KwCtx, what: str) -> None:
    if ctx.proxy.kind == DEFAULTS:
        raise ConfigError(f"'{what}' not allowed in 'defaults' section.")


@kw("declare", PROXY_SECTIONS, "capture request|response len <n>",
    "a capture slot for 'http-request capture ... id <n>' / 'http-response capture ... id <n>'")
def _declare(ctx: KwCtx, args: list[str]) -> None:
    """cfg_parse_declare(): a capture slot numbered after the ones declared before it
    (``capture request|response header`` lines, ``http-request capture ... len``)."""
    p = ctx.proxy
    if p.kind == DEFAULTS:
        raise ConfigError("'declare' not available in default section")
    if not p.has_fe:
        raise ConfigError("'declare' only available in frontend or listen section")
    if not args or args[0] != "capture":
        raise ConfigError(f"unknown declaration type '{args[0] if args else ''}' (supports 'capture')")
    if len(args) < 2 or args[1] not in ("request", "response"):
        raise ConfigError("'declare capture' requires a direction ('request' or 'response')")
    if len(args) < 3 or args[2] != "len":
        raise ConfigError("'declare capture' requires a capture length ('len')")
    if len(args) < 4 or not args[3]:
        raise ConfigError("'declare capture': 'len' requires a numeric value that represents the capture length")
    if not re.fullmatch(r"[ \t\n\v\f\r]*[+-]?[0-9]+", args[3]):  # strtol() with the whole word read
        raise ConfigError("'declare capture': cannot parse the length 'len'.")
    n = int(args[3])
    if n <= 0:
        raise ConfigError("length must be > 0")
    (p.captures_req if args[1] == "request" else p.captures_rsp).append((None, n))


def _atol(text: str) -> int:
    """C atol(): leading digits, 0 when none (HAProxy accepts 'len x' as 0)."""
    n = 0
    for c in text:
        if not c.isdigit():
            break
        n = n * 10 + ord(c) - 48
    return n


@kw("http-send-name-header", BE_SIDE, "<name>", "tell the server its own name in this request header")
def _send_name_header(ctx: KwCtx, args: list[str]) -> None:
    """The chosen server's name in a request header, replacing the client's (set once
    the server is known, again on a redispatch)."""
    if not args:
        raise ConfigError("'http-send-name-header' requires a header string.")
    ctx.proxy.extra["send_name_header"] = args[0]


REUSE_MODES = ("never", "safe", "aggressive", "always")


@kw("http-reuse", BE_SIDE, "never|safe|aggressive|always", "share idle server connections between requests")
def _http_reuse(ctx: KwCtx, args: list[str]) -> None:
    if len(args) != 1 or args[0] not in REUSE_MODES:
        raise ConfigError("'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.")
    ctx.proxy.extra["http_reuse"] = args[0]


@kw("tune.bufsize", (GLOBAL,), "<bytes>", "HTTP buffer size: largest request head is bufsize - maxrewrite (default 16384)")
def _bufsize(ctx: KwCtx, args: list[str]) -> None:
    if len(args) != 1:
        raise ConfigError("'tune.bufsize' expects an integer argument.")
    n = _atol(args[0])
    if n <= 0:
        raise ConfigError("'tune.bufsize' expects a positive integer argument.")
    ctx.glob.tune["bufsize"] = n


@kw("tune.maxrewrite", (GLOBAL,), "<bytes>", "buffer space reserved for rewriting (default 1024)")
def _maxrewrite(ctx: KwCtx, args: list[str]) -> None:
    if len(args) != 1:
        raise ConfigError("'tune.maxrewrite' expects an integer argument.")
    ctx.glob.tune["maxrewrite"] = _atol(args[0])


@kw("tune.http.maxhdr", (GLOBAL,), "<number>", "maximum number of header lines in a message (default 101)")
def _maxhdr(ctx: KwCtx, args: list[str]) -> None:
    n = _atol(args[0]) if len(args) == 1 else 0
    if len(args) != 1 or not 1 <= n <= 32767:
        raise ConfigError("'tune.http.maxhdr' expects a numeric value between 1 and 32767")
    ctx.glob.tune["http.maxhdr"] = n


# ----------------------------------------------------------------------------- runtime view
class Limits:
    """Global buffer limits (HAProxy tune.*)."""

    __slots__ = ("bufsize", "htx_check", "maxhdr", "maxhead", "maxreq", "maxrewrite")

    def __init__(self, glob: Any) -> None:
        tune = glob.tune if glob is not None else {}
        self.bufsize = int(tune.get("bufsize", 16384))
        mr = int(tune.get("maxrewrite", 1024))
        if mr > self.bufsize // 2:  # HAProxy caps maxrewrite at half the buffer
            mr = self.bufsize // 2
        self.maxrewrite = mr
        self.maxreq = self.bufsize - mr
        self.maxhdr = int(tune.get("http.maxhdr", 101))
        # a head (request or response) must fit in HAProxy's HTX buffer: see parse.htx_blocks
        self.maxhead = self.maxreq - 48
        # heads shorter than this cannot exceed maxhead: parse.htx_blocks is not needed
        self.htx_check = self.maxhead - 4 * self.maxhdr - 64


def conn_mode(spec: Any) -> int:
    return _MODES.get(spec.options.get("http_mode_name", "http-keep-alive"), KAL)


class ForwardFor:
    """Compiled ``option forwardfor`` / ``originalto`` of a frontend+backend pair."""

    __slots__ = ("except_net", "header", "if_none")

    def __init__(self, header: str, except_net: list[Any], if_none: bool) -> None:
        self.header = header
        self.except_net = except_net
        self.if_none = if_none

    def skip(self, ip: str) -> bool:
        if not self.except_net:
            return False
        try:
            a = ipaddress.ip_address(ip)
        except ValueError:
            return True
        for net in self.except_net:
            if a.version == net.version and a in net:
                return True
            if a.version == 6 and net.version == 4 and a.ipv4_mapped is not None and a.ipv4_mapped in net:
                return True
        return False


def forward_spec(fe_spec: Any, be_spec: Any, attr: str) -> ForwardFor | None:
    """HAProxy's rule: active if the frontend or the backend sets it; the backend's header
    name wins; ``if-none`` only when both say so; ``except`` networks of either apply."""
    fe = getattr(fe_spec, attr, None) if fe_spec is not None else None
    be = getattr(be_spec, attr, None) if be_spec is not None else None
    if fe is None and be is None:
        return None
    header = (be or fe)["header"]
    nets = []
    for s in (fe, be):
        if s is not None and s.get("except"):
            n = _network(s["except"])
            if n is not None:
                nets.append(n)
    if_none = all(s is None or s.get("if-none") for s in (fe, be)) and any(s is not None and s.get("if-none") for s in (fe, be))
    if fe is not None and be is not None:
        if_none = bool(fe.get("if-none")) and bool(be.get("if-none"))
    return ForwardFor(header, nets, if_none)


# ----------------------------------------------------------------------------- post-parse checks
#: options HAProxy 2.6 ignores (with a warning) outside ``mode http``, in its table order
HTTP_ONLY_OPTIONS = (
    "http-buffer-request",
    "http-ignore-probes",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "http-use-proxy-header",
    "http-pretend-keepalive",
    "http-no-delay",
)
#: the side an option of HTTP_ONLY_OPTIONS belongs to (cfg_opts cap): one inherited from
#: defaults by a proxy without that side gets no warning
_OPTION_SIDE = {
    "http-ignore-probes": "fe",
    "accept-invalid-http-request": "fe",
    "http-use-proxy-header": "fe",
    "accept-invalid-http-response": "be",
    "http-pretend-keepalive": "be",
}


def check_config(model: Any, diag: Any) -> None:
    """HAProxy's warnings for HTTP-only settings of a proxy that is not in ``mode http``."""
    for p in model.proxies:
        if p.mode == "http" or p.disabled:
            continue
        what = "proxy" if p.kind == "listen" else p.kind
        if p.forwardfor is not None:
            diag.warning(f"'option forwardfor' ignored for {what} '{p.name}' as it requires HTTP mode.")
        if p.originalto is not None:
            diag.warning(f"'option originalto' ignored for {what} '{p.name}' as it requires HTTP mode.")
        for name in HTTP_ONLY_OPTIONS:
            side = _OPTION_SIDE.get(name)
            if side is not None and not (p.has_fe if side == "fe" else p.has_be):
                continue
            if p.options.get(name):
                diag.warning(f"'option {name}' ignored for {what} '{p.name}' as it requires HTTP mode.")
