"""Keywords common to every proxy section: mode, timeouts, enable/disable, ids.

Owns the registration of the words that apply to frontends and backends alike, and the
small argument checks they share.  Writes only to the config Model.
"""

from __future__ import annotations

from .config.model import BE_TIMEOUTS, FE_TIMEOUTS, TIMEOUT_NAMES
from .config.values import BadValue, parse_int, parse_time
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
    mode = args[0] if args else ""
    if mode not in ("tcp", "http", "health"):
        raise ConfigError(f"unknown proxy mode '{mode}'.")
    if mode == "health":
        raise ConfigError("'mode health' doesn't exist anymore. Please use 'http-request return' or 'tcp-request connection reject' instead.")
    if len(args) > 1:
        raise ConfigError(f"'mode' cannot handle unexpected argument '{args[1]}'.")
    ctx.proxy.mode = mode


def _timeout(ctx: KwCtx, args: list[str]) -> None:
    name = ctx.keyword.split()[1]
    p = ctx.proxy
    if p.kind == "backend" and name in FE_TIMEOUTS:
        ctx.warn(f"'timeout {name}' will be ignored because backend '{p.name}' has no frontend capability")
        return
    if p.kind == "frontend" and name in BE_TIMEOUTS:
        ctx.warn(f"'timeout {name}' will be ignored because frontend '{p.name}' has no backend capability")
        return
    p.timeouts[name] = time_arg(ctx, args)


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
    ctx.proxy.id = int_arg(ctx, args, 1)


@kw("description", PROXY_SECTIONS, "<text>", "free text shown on the stats page")
def _description(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.extra["description"] = " ".join(args)


@kw("option contstats", FE_SIDE, "", "accepted: gproxy's counters are always continuous", takes_no=True)
def _contstats(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.options["contstats"] = not getattr(ctx, "negated", False)


def set_option(ctx: KwCtx, args: list[str]) -> None:
    """Generic boolean ``[no] option <name>`` handler: stores True/False in proxy.options."""
    no_args(ctx, args)
    ctx.proxy.options[ctx.keyword.split(None, 1)[1]] = not getattr(ctx, "negated", False)


def register_options(names: tuple[str, ...], sections: tuple[str, ...], doc: str) -> None:
    for name in names:
        SECTION_KEYWORDS.register(f"option {name}", sections, "", doc, takes_no=True)(set_option)


register_options(("tcp-smart-accept", "tcpka", "clitcpka", "nolinger", "splice-auto", "splice-request", "splice-response", "socket-stats"), FE_SIDE + ("backend",), "TCP socket option")
register_options(("srvtcpka", "tcp-smart-connect", "allbackups", "abortonclose", "persist", "independent-streams"), BE_SIDE, "backend option")
