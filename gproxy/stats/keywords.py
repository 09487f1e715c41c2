"""The ``stats`` proxy keywords: the HTTP statistics page of a frontend, backend or listen.

Owns HAProxy 2.6's ``stats`` proxy keywords (``src/cfgparse-listen.c``, ``src/uri_auth.c``)
and the settings they build, stored in ``Proxy.stats`` as a ``StatsSettings`` (HAProxy's
``struct uri_auth``): ``stats enable``, ``stats uri <prefix>`` (default
``/haproxy?stats``), ``stats realm <realm>`` (default ``HAProxy Statistics``), ``stats
auth <user>:<passwd>`` (repeatable), ``stats refresh <delay>`` (seconds by default),
``stats admin {if|unless} <cond>``, ``stats http-request <rule>``, ``stats scope
<name>``, ``stats hide-version``, ``stats show-legends``, ``stats show-modules``,
``stats show-node [<name>]`` and ``stats show-desc [<text>]``, with HAProxy's texts.

Any ``stats`` line enables the page.  A ``defaults`` section's settings are inherited,
but the first ``stats`` line of a proxy starts it from scratch, as HAProxy detaches a
proxy from its defaults' ``uri_auth``.  ``check_config()`` holds the checks HAProxy runs
after parsing (``stats`` needs ``mode http``; ``stats auth``/``realm`` exclude ``stats
http-request``).  The page itself is ``stats/page.py``.

Pure: keyword handlers write the Model only, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config.parser import AT_READCFG, config_error
from ..config.values import BadValue, parse_time
from ..registry import DEFAULTS, PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx

__all__ = ["DEFAULT_REALM", "DEFAULT_URI", "StatsSettings", "check_config", "settings_of"]

DEFAULT_URI = "/haproxy?stats"
DEFAULT_REALM = "HAProxy Statistics"
EXPECTS = ("expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', "
           "'show-desc' or 'show-legends'.")

kw = SECTION_KEYWORDS.register


@dataclass
class StatsSettings:
    """One proxy's stats page (HAProxy's ``uri_auth``).

    ``users`` are ``(user, password)`` pairs, newest first as HAProxy chains them (plain
    text: HAProxy marks ``stats auth`` passwords insecure); ``refresh`` is in seconds;
    ``admin_rules`` are compiled ``acl.Cond`` objects, the first that matches grants the
    admin level; ``http_request`` holds ``(rules.Rule, explicit_realm)`` pairs; ``node`` and
    ``desc`` override ``global node``/``description`` when ``show_node``/``show_desc``.
    """

    uri: str = DEFAULT_URI
    realm: str | None = None
    users: list[tuple[str, str]] = field(default_factory=list)
    refresh: int = 0
    admin_rules: list[Any] = field(default_factory=list)
    http_request: list[tuple[Any, bool]] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    hide_version: bool = False
    show_legends: bool = False
    show_modules: bool = False
    show_node: bool = False
    node: str | None = None
    show_desc: bool = False
    desc: str | None = None
    owner: str = ""  # the section that created these settings (see settings_of)

    def check_user(self, user: str, password: str) -> bool:
        for u, p in self.users:
            if u == user:
                return p == password
        return False


def _owner(p: Any) -> str:
    return f"{p.kind}:{p.name}:{p.file}:{p.line}"


def settings_of(ctx: KwCtx) -> StatsSettings:
    """stats_check_init_uri_auth(): the section's settings, created on first use; in a
    proxy the first ``stats`` line drops the settings inherited from its defaults."""
    p = ctx.proxy
    st = p.stats
    if st is None or (p.kind != DEFAULTS and st.owner != _owner(p)):
        st = StatsSettings(owner=_owner(p))
        p.stats = st
    return st


def _arg(args: list[str], i: int = 0) -> str:
    return args[i] if len(args) > i else ""


def _not_in_defaults(ctx: KwCtx, what: str) -> None:
    if ctx.proxy.kind == DEFAULTS:
        raise config_error(f"'{what}' not allowed in 'defaults' section.", at=AT_READCFG)


# --------------------------------------------------------------------------- keywords
@kw("stats", PROXY_SECTIONS, "<keyword> ...", "HTTP statistics page (see the 'stats *' keywords)")
def _stats(ctx: KwCtx, args: list[str]) -> None:
    word = _arg(args)
    if not word:
        raise config_error(f"missing keyword in 'stats', {EXPECTS}", at=AT_READCFG)
    raise config_error(f"unknown stats parameter '{word}', {EXPECTS}", at=AT_READCFG)


@kw("stats enable", PROXY_SECTIONS, "", "enable the statistics page with default settings")
def _enable(ctx: KwCtx, args: list[str]) -> None:
    settings_of(ctx)


@kw("stats uri", PROXY_SECTIONS, "<prefix>", "URI prefix of the statistics page (default /haproxy?stats)")
def _uri(ctx: KwCtx, args: list[str]) -> None:
    uri = _arg(args)
    if not uri:
        raise ConfigError("'uri' needs an URI prefix.")
    settings_of(ctx).uri = uri


@kw("stats realm", PROXY_SECTIONS, "<realm>", "authentication realm of the statistics page")
def _realm(ctx: KwCtx, args: list[str]) -> None:
    realm = _arg(args)
    if not realm:
        raise ConfigError("'realm' needs an realm name.")
    settings_of(ctx).realm = realm


@kw("stats auth", PROXY_SECTIONS, "<user>:<passwd>", "grant access to the statistics page (repeatable)")
def _auth(ctx: KwCtx, args: list[str]) -> None:
    account = _arg(args)
    if not account:
        raise ConfigError("'auth' needs a user:password account.")
    user, _, password = account.partition(":")
    st = settings_of(ctx)
    if any(u == user for u, _ in st.users):
        ctx.diag.warning(f"uri auth: ignoring duplicated user '{user}'.")
        return
    st.users.insert(0, (user, password))


@kw("stats refresh", PROXY_SECTIONS, "<delay>", "refresh delay of the statistics page (seconds by default)")
def _refresh(ctx: KwCtx, args: list[str]) -> None:
    text = _arg(args)
    try:
        value = parse_time(text, "stats refresh", "s", style="angle")
    except BadValue as e:
        if e.kind == "overflow":
            msg = (f"timer overflow in argument <{text}> to stats refresh interval, maximum value is 2147483647 s "
                   "(~68 years).")
        elif e.kind == "underflow":
            msg = (f"timer underflow in argument <{text}> to stats refresh interval, minimum non-null value is "
                   "1 s.")
        else:
            msg = f"unexpected character '{e.char or ''}' in argument to stats refresh interval."
        raise config_error(msg, at=AT_READCFG) from None
    settings_of(ctx).refresh = value


@kw("stats admin", PROXY_SECTIONS, "{if | unless} <condition>", "enable the admin actions of the statistics page")
def _admin(ctx: KwCtx, args: list[str]) -> None:
    from ..http import acl

    _not_in_defaults(ctx, "stats admin")
    st = settings_of(ctx)
    if _arg(args) not in ("if", "unless"):
        raise ConfigError("'stats admin' requires either 'if' or 'unless' followed by a condition.")
    cond = acl.compile_cond(ctx, list(args), "http-request",
                            "error detected while parsing a 'stats admin' rule : {err}.")
    st.admin_rules.append(cond)


@kw("stats http-request", PROXY_SECTIONS, "{allow | deny | auth [realm <realm>]} [{if | unless} <condition>]",
    "access control of the statistics page")
def _http_request(ctx: KwCtx, args: list[str]) -> None:
    from ..http import rules

    _not_in_defaults(ctx, "stats")
    st = settings_of(ctx)
    if st.http_request and st.http_request[-1][0].cond is None:
        ctx.diag.warning(f"parsing [{ctx.file}:{ctx.line}]: previous 'stats' action has no condition attached, "
                         "further entries are NOOP.")
    rule = rules.compile_http_rule(ctx, "http-request", list(args))
    if rule is None:
        return
    if rule.cond is not None and rule.cond.warning:
        ctx.warn(rule.cond.warning)
    st.http_request.append((rule, _arg(args) == "auth" and _arg(args, 1) == "realm"))


@kw("stats scope", PROXY_SECTIONS, "{<name> | .}", "show only this proxy on the statistics page (repeatable)")
def _scope(ctx: KwCtx, args: list[str]) -> None:
    name = _arg(args)
    if not name:
        raise ConfigError("'scope' needs a proxy name.")
    st = settings_of(ctx)
    if name not in st.scopes:
        st.scopes.append(name)


@kw("stats hide-version", PROXY_SECTIONS, "", "do not show the version on the statistics page")
def _hide_version(ctx: KwCtx, args: list[str]) -> None:
    settings_of(ctx).hide_version = True


@kw("stats show-legends", PROXY_SECTIONS, "", "show addresses, ids, cookies and algorithms on the statistics page")
def _show_legends(ctx: KwCtx, args: list[str]) -> None:
    settings_of(ctx).show_legends = True


@kw("stats show-modules", PROXY_SECTIONS, "", "show the statistics modules' columns (gproxy has none)")
def _show_modules(ctx: KwCtx, args: list[str]) -> None:
    settings_of(ctx).show_modules = True


def _valid_node(name: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "_-.") for c in name)


@kw("stats show-node", PROXY_SECTIONS, "[<name>]", "show the node name on the statistics page")
def _show_node(ctx: KwCtx, args: list[str]) -> None:
    name = _arg(args)
    if name and not _valid_node(name):
        raise config_error(
            "'stats show-node' invalid node name - should be a stringwith digits(0-9), letters(A-Z, a-z), "
            "hyphen(-) or underscode(_).",
            at=AT_READCFG,
        )
    st = settings_of(ctx)
    st.show_node = True
    if name:
        st.node = name


@kw("stats show-desc", PROXY_SECTIONS, "[<description>]", "show the description on the statistics page")
def _show_desc(ctx: KwCtx, args: list[str]) -> None:
    desc = " ".join(a for a in args) if _arg(args) else ""
    if not desc and not ctx.glob.description:
        ctx.diag.warning(f"parsing [{ctx.file}:{ctx.line}]: 'show-desc' requires a parameter or 'desc' to be set "
                         "in the global section.")
        return
    st = settings_of(ctx)
    st.show_desc = True
    if desc:
        st.desc = desc


# --------------------------------------------------------------------------- after parsing
def check_config(model: Any, diag: Any) -> None:
    """check_config_validity()'s stats checks, for ``config.validate``: ``stats`` is
    dropped with a warning outside ``mode http``; ``stats auth``/``realm`` and ``stats
    http-request`` can't be used together."""
    for p in model.proxies:
        st = p.stats
        if st is None or p.disabled:
            continue
        kind = "proxy" if p.kind == "listen" else p.kind
        if st.http_request and (st.users or st.realm):
            diag.alert(f"proxy '{p.name}': stats 'auth'/'realm' and 'http-request' can't be used at the same time.")
            continue
        if p.mode != "http":
            diag.warning(f"'stats' statement ignored for {kind} '{p.name}' as it requires HTTP mode.")
            p.stats = None
