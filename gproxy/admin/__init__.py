"""The runtime API (stats socket): global keywords and start-up.

Owns the global ``stats socket``, ``stats timeout`` and ``stats maxconn`` keywords (the
model keeps the sockets as ``Bind`` objects in ``Global.stats_sockets``, the timeout in
``Global.stats_timeout`` and the connection limit in ``Global.tune['stats.maxconn']``)
and ``start_admin(process)``, which binds and starts every configured stats socket.
The socket server is ``admin/server.py``, the commands ``admin/commands.py``.

Importing this module registers the keywords (``gproxy.master`` imports it).
"""

from __future__ import annotations

from typing import Any

from ..config.model import Bind
from ..config.values import BadValue, parse_bind_addresses, parse_time
from ..registry import BIND_KEYWORDS, GLOBAL, SECTION_KEYWORDS, ConfigError, KwCtx

__all__ = ["start_admin"]

kw = SECTION_KEYWORDS.register
G = (GLOBAL,)
MAXCONN_KEY = "stats.maxconn"


@kw("stats socket", G, "[<address:port>|<path>] [param*]", "runtime API socket (bind parameters: level, mode, uid, gid...)")
def _stats_socket(ctx: KwCtx, args: list[str]) -> None:
    from ..config.parser import parse_params

    if not args or not args[0]:
        raise ConfigError("'stats socket' in global section expects an address or a path to a UNIX socket")
    try:
        addrs = parse_bind_addresses(args[0])
    except BadValue as e:
        raise ConfigError(f"parsing [{ctx.file}:{ctx.line}] : 'stats socket' : {e}\n") from None
    b = Bind(addrs, ctx.file, ctx.line)
    b.level = "operator"
    ctx.target = b
    try:
        parse_params(ctx, BIND_KEYWORDS, args[1:], "bind")
    except ConfigError as e:
        text = str(e)
        if getattr(e, "unknown_keyword", False):
            raise ConfigError("'stats socket' : " + _unknown_param(text)) from None
        raise ConfigError(f"'stats socket' : '{text}'") from None
    ctx.glob.stats_sockets.append(b)


def _unknown_param(text: str) -> str:
    """parse_params() spells an unknown bind word as a bind line does; HAProxy's
    ``stats socket`` says ``unknown keyword 'x'. Did you mean 'y' maybe ?``."""
    head, sep, hint = text.partition("; did you mean ")
    if sep:
        return f"{head}. Did you mean {hint}"
    return text


@kw("stats timeout", G, "<timeout>", "idle timeout of runtime API connections (default 10s)")
def _stats_timeout(ctx: KwCtx, args: list[str]) -> None:
    text = args[0] if args else ""
    if not text:
        # HAProxy prints the NUL it stopped at, which ends its message
        raise ConfigError("'stats timeout' : unexpected character '")
    try:
        value = parse_time(text, "stats timeout")
    except BadValue as e:
        kind = getattr(e, "kind", "")
        if kind == "overflow":
            raise ConfigError(
                f"timer overflow in argument '{text}' to 'stats timeout' (maximum value is 2147483647 ms or ~24.8 days)"
            ) from None
        if kind == "underflow":
            raise ConfigError(
                f"timer underflow in argument '{text}' to 'stats timeout' (minimum non-null value is 1 ms)"
            ) from None
        ch = getattr(e, "char", None) or ""
        raise ConfigError(f"'stats timeout' : unexpected character '{ch}'") from None
    if not value:
        raise ConfigError("'stats timeout' expects a positive value")
    ctx.glob.stats_timeout = value


@kw("stats maxconn", G, "<connections>", "max concurrent runtime API connections (default 10)")
def _stats_maxconn(ctx: KwCtx, args: list[str]) -> None:
    from ..stats.columns import _atoi

    value = _atoi(args[0]) if args else 0
    if value <= 0:
        raise ConfigError("'stats maxconn' expects a positive value")
    ctx.glob.tune[MAXCONN_KEY] = value


@kw("stats", G, "socket|timeout|maxconn ...", "runtime API settings")
def _stats_other(ctx: KwCtx, args: list[str]) -> None:
    got = args[0] if args else ""
    raise ConfigError(f"'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{got}')")


def start_admin(process: Any) -> bool:
    """Bind and start the configured stats sockets (call after the listeners are bound,
    before privileges are dropped).  Returns False (after HAProxy's alert) when a socket
    cannot be bound; the running server is ``process.admin`` (None without sockets)."""
    from .server import AdminServer

    g = process.model.glob
    process.admin = None
    if not g.stats_sockets:
        return True
    srv = AdminServer(process, list(g.stats_sockets), g.stats_timeout, g.tune.get(MAXCONN_KEY, 0))
    if not srv.bind():
        return False
    process.admin = srv
    srv.start()
    return True
