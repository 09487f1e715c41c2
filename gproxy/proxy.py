"""Keywords common to every proxy section: mode, timeouts, enable/disable, ids.

Owns the registration of the words that apply to frontends and backends alike, and the
small argument checks they share.  Writes only to the config Model.
"""

from __future__ import annotations

from .config.model import BE_TIMEOUTS, TIMEOUT_NAMES
from .config.values import BadValue, c_atoi, parse_int, parse_time
from .registry import BE_SIDE, FE_SIDE, PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx

kw = SECTION_KEYWORDS.register


def no_args(ctx: KwCtx, args: list[str]) -> None:
    if args:
        raise ConfigError(f"'{ctx.keyword}' cannot handle unexpected argument '{args[0]}'.")


def one_arg(ctx: KwCtx, args: list[str], what: str = "an argument") -> str:
    if not args:
        raise ConfigError(f"'{ctx.keyword}' expects {what}.")
    if len(args) > 1:
        raise ConfigError(f"'{ctx.keyword}' cannot handle unexpected argument '{args[1]}'.")
    return args[0]


def int_arg(ctx: KwCtx, args: list[str], lo: int | None = 0, hi: int | None = None) -> int:
    text = one_arg(ctx, args, "an integer argument")
    try:
        return parse_int(text, ctx.keyword, lo, hi)
    except BadValue as e:
        raise ConfigError(str(e)) from None


def lenient_int_arg(ctx: KwCtx, args: list[str]) -> int:
    """HAProxy's ``maxconn``/``backlog``/``fullconn``: a word is required, then read with
    atol() (``abc`` is 0, ``10x`` is 10), then extra words are refused."""
    if not args or not args[0]:
        raise ConfigError(f"'{ctx.keyword}' expects an integer argument.")
    if len(args) > 1 and args[1]:
        raise ConfigError(f"'{ctx.keyword}' cannot handle unexpected argument '{args[1]}'.")
    return c_atoi(args[0])


def time_arg(ctx: KwCtx, args: list[str]) -> int:
    if not args:
        raise ConfigError(f"'{ctx.keyword}' expects an integer value (in milliseconds)")
    if len(args) > 1:
        raise ConfigError(f"'{ctx.keyword}' : unexpected extra argument '{args[1]}' after value '{args[0]}'.")
    try:
        return parse_time(args[0], ctx.keyword)
    except BadValue as e:
        raise ConfigError(str(e)) from None


@kw("mode", PROXY_SECTIONS, "tcp|http", "proxy mode: TCP relay or HTTP/1.1 processing")
def _mode(ctx: KwCtx, args: list[str]) -> None:
    if len(args) > 1 and args[1]:
        raise ConfigError(f"'mode' cannot handle unexpected argument '{args[1]}'.")
    mode = args[0] if args else ""
    if mode == "health":
        raise ConfigError("'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.")
    if mode not in ("tcp", "http"):
        raise ConfigError(f"unknown proxy mode '{mode}'.")
    ctx.proxy.mode = mode


def _timeout(ctx: KwCtx, args: list[str]) -> None:
    # proxy_parse_timeout(): the value first, then the side, then extra words
    name = ctx.keyword.split()[1]
    p = ctx.proxy
    if not args or not args[0]:
        raise ConfigError(f"'timeout {name}' expects an integer value (in milliseconds)")
    warnings: list[str] = []
    try:
        value = parse_time(args[0], f"timeout {name}", warnings=warnings)
    except BadValue as e:
        raise ConfigError(str(e)) from None
    for w in warnings:
        ctx.diag.warning(w)  # parse_time_err() warns without a file:line
    if len(args) > 1 and args[1]:
        p.timeouts[name] = value  # HAProxy keeps the value even then
        raise ConfigError(f"'timeout {name}' : unexpected extra argument '{args[1]}' after value '{args[0]}'.")
    if p.kind == "backend" and name in ("client", "client-fin"):
        ctx.warn(f"'timeout {name}' will be ignored because backend '{p.name}' has no frontend capability")
    elif p.kind == "frontend" and name in BE_TIMEOUTS:
        ctx.warn(f"'timeout {name}' will be ignored because frontend '{p.name}' has no backend capability")
    elif p.kind != "defaults" and p.timeouts.get(name, 0) != p.extra.get("defaults_timeouts", {}).get(name, 0):
        ctx.warn(f"overwriting 'timeout {name}' which was already specified")
    p.timeouts[name] = value


for _name in TIMEOUT_NAMES:
    SECTION_KEYWORDS.register(f"timeout {_name}", PROXY_SECTIONS, "<timeout>", f"'{_name}' timeout")(_timeout)

# pre-1.5 spellings HAProxy 2.6 still lists; it rejects them, so do we (with its hint).
for _old, _new in (("clitimeout", "client"), ("srvtimeout", "server"), ("contimeout", "connect")):

    def _legacy_timeout(ctx: KwCtx, args: list[str], _o: str = _old, _n: str = _new) -> None:
        raise ConfigError(f"the '{_o}' directive is not supported anymore since HAProxy 2.1. Use 'timeout {_n}'.")

    SECTION_KEYWORDS.register(_old, PROXY_SECTIONS, "<timeout>", f"removed; use 'timeout {_new}'")(_legacy_timeout)


@kw("timeout", PROXY_SECTIONS, "<name> <timeout>", "catch-all for unknown timeout names")
def _timeout_unknown(ctx: KwCtx, args: list[str]) -> None:
    got = args[0] if args else ""
    raise ConfigError(
        "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', "
        f"'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{got}')"
    )


@kw("disabled", PROXY_SECTIONS, "", "start the proxy disabled")
def _disabled(ctx: KwCtx, args: list[str]) -> None:
    no_args(ctx, args)
    ctx.proxy.disabled = True


@kw("enabled", PROXY_SECTIONS, "", "cancel an inherited 'disabled'")
def _enabled(ctx: KwCtx, args: list[str]) -> None:
    no_args(ctx, args)
    ctx.proxy.disabled = False


@kw("id", ("frontend", "backend", "listen"), "<number>", "numeric proxy id (stats iid)")
def _id(ctx: KwCtx, args: list[str]) -> None:
    from .config.parser import AT_READCFG, config_error

    if len(args) > 1 and args[1]:
        raise ConfigError(f"'id' cannot handle unexpected argument '{args[1]}'.")
    if not args or not args[0]:
        raise config_error("'id' expects an integer argument.", at=AT_READCFG)
    uuid = c_atoi(args[0])  # atol(), as HAProxy
    if uuid <= 0:
        raise config_error("custom id has to be > 0.", at=AT_READCFG)
    p = ctx.proxy
    for other in ctx.model.proxies:
        if other is not p and other.id == uuid:
            kind = {"listen": "proxy"}.get
            raise config_error(
                f"{kind(p.kind, p.kind)} {p.name} reuses same custom id as {kind(other.kind, other.kind)} {other.name} "
                f"(declared at {other.file}:{other.line}).",
                at=AT_READCFG,
            )
    p.id = uuid


@kw("description", PROXY_SECTIONS, "<text>", "free text shown on the stats page")
def _description(ctx: KwCtx, args: list[str]) -> None:
    from .config.parser import AT_READCFG, config_error

    if ctx.proxy.kind == "defaults":
        raise config_error("'description' not allowed in 'defaults' section.", at=AT_READCFG)
    if not args or not args[0]:
        raise config_error("'description' expects a string argument.", at=AT_READCFG)
    ctx.proxy.extra["description"] = " ".join(args)


@kw("option contstats", FE_SIDE, "", "accepted: gproxy's counters are always continuous", takes_no=True)
def _contstats(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.options["contstats"] = not getattr(ctx, "negated", False)


def set_option(ctx: KwCtx, args: list[str]) -> None:
    """Generic boolean ``[no] option <name>`` handler: stores True/False in proxy.options."""
    no_args(ctx, args)
    ctx.proxy.options[ctx.keyword.split(None, 1)[1]] = not getattr(ctx, "negated", False)


def register_options(names: tuple[str, ...], sections: tuple[str, ...], doc: str, takes_no: bool = True) -> None:
    for name in names:
        SECTION_KEYWORDS.register(f"option {name}", sections, "", doc, takes_no=takes_no)(set_option)


# sides as in HAProxy's cfg_opts/cfg_opts2 tables: on the other side an option is ignored
# with a warning (parser.wrong_side)
register_options(("tcp-smart-accept", "clitcpka", "socket-stats"), FE_SIDE, "TCP socket option (frontend)")
register_options(("nolinger", "splice-auto", "splice-request", "splice-response", "independent-streams"), PROXY_SECTIONS, "TCP socket option")
# not in HAProxy's option tables: 'no option tcpka' is refused there
register_options(("tcpka",), PROXY_SECTIONS, "TCP keep-alive on both sides", takes_no=False)
register_options(("srvtcpka", "tcp-smart-connect", "allbackups", "abortonclose", "persist"), BE_SIDE, "backend option")
