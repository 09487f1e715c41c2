"""Health-check configuration keywords: server parameters, check options, tcp-check, http-check.

Registers, next to the check code, every keyword HAProxy 2.6 uses for health checks:

* server / default-server parameters (``check``, ``inter``, ``rise``, ``port``, ``addr``,
  ``on-marked-down``...), writing to the ``ServerSpec`` in ``ctx.target``;
* ``option httpchk|tcp-check|mysql-check|redis-check`` (and the kinds gproxy does not run
  yet, which fall back to a TCP connect check), ``option log-health-checks``;
* ``tcp-check ...`` and ``http-check ...`` lines, kept in ``Proxy.tcp_checks`` /
  ``Proxy.http_checks`` as ``CheckRule`` entries after being validated by
  ``gproxy.checks.rules`` (which builds the rule set at run time).

Error texts are HAProxy's, verified with ``haproxy -c``.  Handlers write to the Model
only; nothing here opens sockets.  The post-parse messages HAProxy prints for a backend's
checks come in check_config_validity()'s order: ``early_warnings`` (before 'missing
timeouts'), ``late_warnings`` (after it), ``server_alerts`` (init_srv_check(), with the
tcp-check rulesets HAProxy shares between proxies); ``validate`` returns all three.
"""

from __future__ import annotations

import re
from typing import Any

from ..config.model import CheckRule, HttpCheck
from ..config.parser import AT_READCFG, accepts_missing, config_error, report
from ..config.values import BadValue, parse_connect_address
from ..diag import WARNING
from ..registry import BE_SIDE, SECTION_KEYWORDS, SERVER_KEYWORDS, ConfigError, KwCtx
from . import rules as R

SRV = ("server", "default-server")
#: check options HAProxy knows but gproxy does not run yet (TCP connect instead)
UNSUPPORTED_OPTIONS = ("ssl-hello-chk", "smtpchk", "pgsql-check", "ldap-check", "spop-check", "external-check")

TIME_OVER, TIME_UNDER = "over", "under"


# ------------------------------------------------------------------ helpers
def _srv_name(ctx: KwCtx) -> str:
    return getattr(ctx.target, "name", "") or "default-server"


def parse_time_err(text: str, unit_ms: bool = True) -> tuple[int, str | None, str | None]:
    """HAProxy's ``parse_time_err`` with a millisecond default unit.

    Returns (value_ms, error, warning): ``error`` is None, ``TIME_OVER``, ``TIME_UNDER`` or
    the offending character; ``warning`` is HAProxy's text for trailing characters after
    a valid unit.
    """
    del unit_ms
    if not text or not ("0" <= text[0] <= "9"):
        return 0, (text[:1] or "\0"), None
    i = 0
    value = 0
    while i < len(text) and "0" <= text[i] <= "9":
        value = value * 10 + ord(text[i]) - 48
        i += 1
    omult = 1000  # milliseconds per second
    imult = idiv = 1
    warning = None
    c = text[i] if i < len(text) else ""
    if c == "":
        omult = 1
    elif c == "s":
        pass
    elif c == "u":
        if text[i + 1 : i + 2] == "s":
            idiv = 1000000
            i += 1
        else:
            return 0, c, None
    elif c == "m":
        if text[i + 1 : i + 2] == "s":
            idiv = 1000
            i += 1
        else:
            imult = 60
    elif c == "h":
        imult = 3600
    elif c == "d":
        imult = 86400
    else:
        return 0, c, None
    i += 1
    if c and i < len(text):
        warning = (
            f"unexpected character '{text[i]}' after the timer value '{text}', only "
            "(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported."
            " This will be reported as an error in next versions."
        )
    odiv = 1
    if omult % idiv == 0:
        omult, idiv = omult // idiv, 1
    if idiv % omult == 0:
        idiv, omult = idiv // omult, 1
    result = _time_result(value, imult, omult, idiv, odiv)
    if result >= 0x80000000:
        return 0, TIME_OVER, warning
    if not result and value:
        return 0, TIME_UNDER, warning
    return result, None, warning


def _time_result(value: int, imult: int, omult: int, idiv: int, odiv: int) -> int:
    return (value * (imult * omult) + (idiv * odiv - 1)) // (idiv * odiv)


def _srv_time(ctx: KwCtx, args: list[str], kw: str) -> int:
    """A server check delay (inter, fastinter, downinter) with HAProxy's messages."""
    text = args[0] if args else ""
    srv = _srv_name(ctx)
    if not text:
        raise ConfigError(f"'{kw}' expects a delay as argument..")
    value, err, warning = parse_time_err(text)
    if warning:
        ctx.warn(warning)
    if err == TIME_OVER:
        raise ConfigError(
            f"timer overflow in argument <{text}> to <{kw}> of server {srv}, "
            "maximum value is 2147483647 ms (~24.8 days).."
        )
    if err == TIME_UNDER:
        raise ConfigError(
            f"timer underflow in argument <{text}> to <{kw}> of server {srv}, minimum non-null value is 1 ms.."
        )
    if err is not None:
        # sic: HAProxy 2.6 names 'agent-inter' for inter, fastinter and downinter too
        raise ConfigError(f"unexpected character '{err}' in 'agent-inter' argument of server {srv}..")
    if value <= 0:
        raise ConfigError(f"invalid value {value} for argument '{kw}' of server {srv}..")
    return value


def _not_implemented(ctx: KwCtx, what: str) -> None:
    ctx.warn(f"'{what}' is not implemented by gproxy yet and is ignored.")


def _owner(proxy: Any) -> tuple[Any, ...]:
    return (proxy.kind, proxy.name, proxy.file, proxy.line)


def _own(proxy: Any, attr: str) -> list[CheckRule]:
    """The proxy's own ``tcp_checks``/``http_checks`` list.

    A backend starts with a copy of its defaults' rules and uses them as long as it has
    none of its own; its first own line starts a fresh list, as HAProxy's per-proxy rule
    sets do.  For ``http_checks`` the fresh list remembers an inherited ``option httpchk``.
    """
    key = attr + "_owner"
    if proxy.extra.get(key) != _owner(proxy):
        proxy.extra[key] = _owner(proxy)
        setattr(proxy, attr, [])
        if attr == "http_checks" and proxy.check_kind == "httpchk":
            proxy.http_checks.append(CheckRule("active", [], proxy.file, proxy.line))
    return getattr(proxy, attr)


def _unused(proxy: Any) -> dict[str, bool]:
    """Per-proxy flags telling that tcp-check/http-check rules were added but not enabled."""
    cur = proxy.extra.get("check_unused_rs")
    if not cur or cur[0] != _owner(proxy):
        cur = (_owner(proxy), {"tcp": False, "http": False})
        proxy.extra["check_unused_rs"] = cur
    return cur[1]


def _set_kind(ctx: KwCtx, kind: str, args: list[str]) -> None:
    p = ctx.proxy
    if kind != "httpchk" and (p.check_kind == "httpchk" or p.http_checks):
        _own(p, "http_checks").append(CheckRule("inactive", [], ctx.file, ctx.line))
    if kind == "tcp-check" and not (p.check_kind == "tcp-check" and p.extra.get("tcp_check_rs")):
        # proxy_parse_tcp_check_opt(): a tcp-check ruleset already in use (the defaults') is kept
        p.extra["tcp_check_rs"] = _owner(p)
    p.check_kind = kind
    p.check_args = list(args)
    flags = _unused(p)
    flags["tcp"] = flags["http"] = False


def _no_prefix(ctx: KwCtx, name: str) -> None:
    if getattr(ctx, "negated", False) or getattr(ctx, "default_prefix", False):
        # readcfgfile()'s own spelling: "parsing [f:N]: " (no space before the colon)
        raise config_error(f"negation/default is not supported for option '{name}'.", at=AT_READCFG)


def _too_many(name: str, args: list[str], maxarg: int) -> None:
    if len(args) > maxarg and args[maxarg]:
        raise ConfigError(f"'option {name}' cannot handle unexpected argument '{args[maxarg]}'.")


# ------------------------------------------------------------------ server parameters
skw = SERVER_KEYWORDS.register


@skw("check", SRV, "", "enable health checks", nargs=0)
def _check(ctx: KwCtx, args: list[str]) -> None:
    ctx.target.check = True


@skw("no-check", SRV, "", "disable health checks (cancels an inherited 'check')", nargs=0)
def _no_check(ctx: KwCtx, args: list[str]) -> None:
    ctx.target.check = False


@skw("inter", SRV, "a delay", "interval between two checks (default 2s)", nargs=1)
def _inter(ctx: KwCtx, args: list[str]) -> None:
    ctx.target.inter = _srv_time(ctx, args, "inter")


@skw("fastinter", SRV, "a delay", "interval while a server is going up or down (default: inter)", nargs=1)
def _fastinter(ctx: KwCtx, args: list[str]) -> None:
    ctx.target.fastinter = _srv_time(ctx, args, "fastinter")


@skw("downinter", SRV, "a delay", "interval while a server is down (default: inter)", nargs=1)
def _downinter(ctx: KwCtx, args: list[str]) -> None:
    ctx.target.downinter = _srv_time(ctx, args, "downinter")


def _count(args: list[str], kw: str) -> int:
    if not args or not args[0]:
        raise ConfigError(f"'{kw}' expects an integer argument..")
    n = R.atol(args[0])
    if n <= 0:
        raise ConfigError(f"'{kw}' has to be > 0..")
    return n


@skw("rise", SRV, "an integer", "consecutive successful checks to mark a server up (default 2)", nargs=1)
@accepts_missing  # HAProxy's text: "'rise' expects an integer argument.."
def _rise(ctx: KwCtx, args: list[str]) -> None:
    ctx.target.rise = _count(args, "rise")


@skw("fall", SRV, "an integer", "consecutive failed checks to mark a server down (default 3)", nargs=1)
@accepts_missing  # HAProxy's text: "'fall' expects an integer argument.."
def _fall(ctx: KwCtx, args: list[str]) -> None:
    ctx.target.fall = _count(args, "fall")


@skw("port", SRV, "a port number", "TCP port the checks connect to", nargs=1)
def _port(ctx: KwCtx, args: list[str]) -> None:
    if not args or not args[0]:
        raise ConfigError("'port' expects a port number as argument..")
    port = R.atol(args[0]) & 0xFFFF  # stored in an unsigned short, as HAProxy does
    ctx.target.check_port = port or None


@skw("addr", SRV, "<ipv4|ipv6>", "address the checks connect to", nargs=1)
def _addr(ctx: KwCtx, args: list[str]) -> None:
    text = args[0] if args else ""
    if not text:
        raise ConfigError("'addr' expects <ipv4|ipv6> as argument..")
    # srv_parse_addr(): str2sa_range() with PA_O_RESOLVE | PA_O_PORT_OK | PA_O_STREAM | PA_O_CONNECT
    try:
        parsed = parse_connect_address(text)
    except BadValue as e:
        raise ConfigError(f"'addr' : {e.message}.") from None
    host, port = R.split_addr(text)
    if parsed.family in ("unix", "abns") or host is None:
        host, port = parsed.host, parsed.port
    ctx.target.check_addr = host
    ctx.target.extra["check_addr_port"] = port
    ctx.target.extra["check_addr_inet"] = parsed.family not in ("unix", "abns")


@skw("check-send-proxy", SRV, "", "send a PROXY protocol header on check connections", nargs=0)
def _check_send_proxy(ctx: KwCtx, args: list[str]) -> None:
    ctx.target.check_send_proxy = True


@skw("no-check-send-proxy", SRV, "", "cancel an inherited 'check-send-proxy'", nargs=0)
def _no_check_send_proxy(ctx: KwCtx, args: list[str]) -> None:
    ctx.target.check_send_proxy = False


@skw("on-marked-down", SRV, "shutdown-sessions", "kill the server's sessions when it is marked down", nargs=1)
def _on_marked_down(ctx: KwCtx, args: list[str]) -> None:
    val = args[0] if args else ""
    if val != "shutdown-sessions":
        raise ConfigError(f"'on-marked-down' expects 'shutdown-sessions' but got '{val}'.")
    ctx.target.on_marked_down = val


@skw("on-marked-up", SRV, "shutdown-backup-sessions", "kill backup servers' sessions when it comes up", nargs=1)
def _on_marked_up(ctx: KwCtx, args: list[str]) -> None:
    val = args[0] if args else ""
    if val != "shutdown-backup-sessions":
        raise ConfigError(f"'on-marked-up' expects 'shutdown-backup-sessions' but got '{val}'.")
    ctx.target.on_marked_up = val


@skw("observe", SRV, "<mode>", "passive health checking of live traffic (accepted, not implemented)", nargs=1)
def _observe(ctx: KwCtx, args: list[str]) -> None:
    val = args[0] if args else ""
    if val not in ("none", "layer4", "layer7"):
        raise ConfigError(f"'observe' expects one of 'none', 'layer4', 'layer7' but got '{val}'.")
    if val == "layer7" and ctx.proxy is not None and ctx.proxy.mode != "http":
        raise ConfigError("'layer7' can only be used in http proxies..")
    if val != "none":
        _not_implemented(ctx, "observe")


def _agent(name: str, nargs: int, usage: str) -> None:
    def handler(ctx: KwCtx, args: list[str]) -> None:
        if nargs and (not args or not args[0]):
            raise ConfigError(f"'{name}' expects {usage} as argument..")
        if name == "agent-inter":
            _srv_time(ctx, args, name)
        if not name.startswith("no-"):
            _not_implemented(ctx, name)

    SERVER_KEYWORDS.register(name, SRV, usage, "agent checks (accepted, not implemented)", nargs=nargs)(handler)


for _name, _n, _usage in (
    ("agent-check", 0, ""),
    ("no-agent-check", 0, ""),
    ("agent-port", 1, "a port number"),
    ("agent-inter", 1, "a delay"),
    ("agent-send", 1, "a string"),
    ("agent-addr", 1, "an address"),
    ("check-via-socks4", 0, ""),
    ("check-proto", 1, "a MUX protocol"),
):
    _agent(_name, _n, _usage)


# ------------------------------------------------------------------ check options
kw = SECTION_KEYWORDS.register


@kw("option httpchk", BE_SIDE, "[<method>] [<uri>] [<version>]", "HTTP health checks", takes_no=True)
def _opt_httpchk(ctx: KwCtx, args: list[str]) -> None:
    _no_prefix(ctx, "httpchk")
    _too_many("httpchk", args, 3)
    try:
        rule, warning = R.httpchk_request(args)
    except R.RuleError as e:
        raise ConfigError(f"'option httpchk' : {e}.") from None
    if warning:
        # proxy_parse_httpchk_opt() spells it "parsing [f:N]: " (no space before the colon)
        report(ctx.diag, WARNING, f"'option httpchk' : {warning}", ctx.file, ctx.line, AT_READCFG)
    p = ctx.proxy
    entries = _own(p, "http_checks")
    entries.append(CheckRule("option", list(args), ctx.file, ctx.line))
    req = rule.http
    assert req is not None
    p.httpchk = HttpCheck(
        method=req.meth or "OPTIONS", uri=req.uri or "/", version=req.vsn or "HTTP/1.0",
        headers=list(req.hdrs), body=req.body or "",
    )
    p.check_kind = "httpchk"
    p.check_args = list(args)
    flags = _unused(p)
    flags["tcp"] = flags["http"] = False


@kw("option tcp-check", BE_SIDE, "", "health checks made of tcp-check rules", takes_no=True)
def _opt_tcp_check(ctx: KwCtx, args: list[str]) -> None:
    _no_prefix(ctx, "tcp-check")
    _too_many("tcp-check", args, 0)
    _set_kind(ctx, "tcp-check", args)


@kw("option redis-check", BE_SIDE, "", "Redis PING/+PONG health checks", takes_no=True)
def _opt_redis_check(ctx: KwCtx, args: list[str]) -> None:
    _no_prefix(ctx, "redis-check")
    _too_many("redis-check", args, 0)
    _set_kind(ctx, "redis-check", args)


@kw("option mysql-check", BE_SIDE, "[user <username> [post-41|pre-41]]", "MySQL handshake health checks",
    takes_no=True)
def _opt_mysql_check(ctx: KwCtx, args: list[str]) -> None:
    _no_prefix(ctx, "mysql-check")
    _too_many("mysql-check", args, 3)
    if args and args[0]:
        if args[0] != "user":
            raise ConfigError(f"'option mysql-check' only supports optional values: 'user' (got '{args[0]}').")
        if len(args) < 2 or not args[1]:
            raise ConfigError("'option mysql-check user' expects <username> as argument.")
        if len(args) > 2 and args[2] and args[2] not in ("post-41", "pre-41"):
            raise ConfigError(f"keyword 'user' only supports 'post-41' and 'pre-41' (got '{args[2]}').")
    _set_kind(ctx, "mysql-check", args)


def _unsupported_option(name: str, maxarg: int) -> None:
    def handler(ctx: KwCtx, args: list[str]) -> None:
        _no_prefix(ctx, name)
        _too_many(name, args, maxarg)
        if name == "pgsql-check" and (not args or args[0] != "user" or len(args) < 2 or not args[1]):
            raise ConfigError("'option pgsql-check' expects 'user <username>' as argument.")
        _set_kind(ctx, name, args)
        ctx.warn(f"'option {name}' is not implemented by gproxy yet: servers get a TCP connect check instead.")

    SECTION_KEYWORDS.register(f"option {name}", BE_SIDE, "", "health checks (not implemented: TCP connect)",
                              takes_no=True)(handler)


for _name, _max in (("ssl-hello-chk", 0), ("smtpchk", 2), ("pgsql-check", 2), ("ldap-check", 0),
                    ("spop-check", 0), ("external-check", 0)):
    _unsupported_option(_name, _max)


def _log_health_checks(ctx: KwCtx, args: list[str]) -> None:
    if args:
        raise ConfigError(f"'option log-health-checks' cannot handle unexpected argument '{args[0]}'.")
    ctx.proxy.options["log-health-checks"] = not getattr(ctx, "negated", False)


if SECTION_KEYWORDS.match(["option", "log-health-checks"], "backend") is None:
    kw("option log-health-checks", BE_SIDE, "", "log every check result change, not only state changes",
       takes_no=True)(_log_health_checks)


# ------------------------------------------------------------------ tcp-check / http-check
_LF_ARGS = {"uri-lf", "body-lf", "send-lf", "send-binary-lf", "string-lf", "binary-lf", "on-success", "on-error",
            "name-lf", "value-lf"}
_LF_EXPR = re.compile(r"%[\[{A-Za-z]")


def _warn_log_format(ctx: KwCtx, kw: str, args: list[str]) -> None:
    """gproxy sends/compares log-format arguments as written: say so when they hold expressions."""
    sub = args[0] if args else ""
    for i, word in enumerate(args[1:], 1):
        prev = args[i - 1]
        is_lf = (
            prev in _LF_ARGS
            or (kw == "http-check" and sub == "send" and i >= 2 and args[i - 2] == "hdr")
            or (sub in ("send-lf", "send-binary-lf") and i == 1)
        )
        if is_lf and _LF_EXPR.search(word):
            ctx.warn(f"'{kw} {sub}' : gproxy does not evaluate log-format expressions yet; '{word}' is used as "
                     "written.")
            return


_VAR_ACTIONS = ("set-var-fmt", "set-var", "unset-var")
#: sample sources HAProxy refuses in check rules (fetch_cap without SMP_VAL_BE_CHK_RUL): the
#: client side and the request (a check has only a server side and a response)
_NO_CHECK_SOURCES = ("l5cli", "ftend", "hrqhv", "hrqhp")


def _check_var_action(ctx: KwCtx, kw: str, args: list[str]) -> None:
    """``tcp-check``/``http-check`` ``set-var(<name>)``, ``set-var-fmt(<name>)`` and
    ``unset-var(<name>)``: parsed as HAProxy does (parse_store()), for its messages; gproxy
    does not run them (the checks keep no variables)."""
    sub = args[0] if args else ""
    act = next((a for a in _VAR_ACTIONS if sub.startswith(a)), None)
    if act is None:
        return
    from ..http import rules as http_rules
    from ..http import sample as smp

    pc = http_rules.Pc(ctx, "http-request", list(args))
    pc.pctx.places = ()  # SMP_VAL_BE_CHK_RUL, checked below
    try:
        try:
            http_rules._a_var(pc, 1, sub)
        except http_rules.ActionError as e:
            if re.search(r"unknown (fetch method|converter) '", str(e)):
                # HAProxy has fetches gproxy does not (srv_id...): the rule is not run anyway
                return
            raise ConfigError(f"'{kw} {sub}' : '{act}' : {e}.") from None
        if act == "set-var" and len(args) > 1:
            expr, _, _ = smp.parse_expr(list(args), 1, smp.ParseCtx())  # parsed again, silently
            src = getattr(expr.fetch, "src", "internal")
            if src in _NO_CHECK_SOURCES:
                name = smp.SOURCES[src][0]
                raise ConfigError(f"'{kw} {sub}' : '{act}' : fetch method '{sub}' extracts information from "
                                  f"'{name}', none of which is available here.")
    except smp.SampleError:
        pass  # reported by _a_var already


@kw("tcp-check", BE_SIDE, "<action> [params*]", "a rule of 'option tcp-check' health checks")
def _tcp_check(ctx: KwCtx, args: list[str]) -> None:
    _check_var_action(ctx, "tcp-check", args)
    p = ctx.proxy
    prior = R.tcp_rules(p.tcp_checks) if p.extra.get("tcp_checks_owner") == _owner(p) else []
    try:
        R.parse_rule("tcp-check", args, prior)
    except R.RuleError as e:
        raise ConfigError(str(e)) from None
    _warn_log_format(ctx, "tcp-check", args)
    _own(p, "tcp_checks").append(CheckRule(args[0], list(args[1:]), ctx.file, ctx.line))
    if p.check_kind != "tcp-check":
        _unused(p)["tcp"] = True


@kw("http-check", BE_SIDE, "<action> [params*]", "a rule of 'option httpchk' health checks")
def _http_check(ctx: KwCtx, args: list[str]) -> None:
    _check_var_action(ctx, "http-check", args)
    p = ctx.proxy
    sub = args[0] if args else ""
    if sub in ("disable-on-404", "send-state"):
        if len(args) > 1 and args[1]:
            raise ConfigError(f"'http-check' cannot handle unexpected argument '{args[1]}'.")
        p.options[f"http-check {sub}"] = True
        return
    owned = p.extra.get("http_checks_owner") == _owner(p)
    entries = list(p.http_checks) if owned else (
        [CheckRule("active", [])] if p.check_kind == "httpchk" else []
    )
    try:
        prior = R.http_rules(entries)
        chk = R.parse_rule("http-check", args, prior)
        if chk is not None:
            R.add_http_rule(prior, chk, p.check_kind == "httpchk")
    except R.RuleError as e:
        msg = str(e)
        if not msg.startswith("'http-check"):
            msg = f"'http-check {sub}' : {msg}."
        raise ConfigError(msg) from None
    _warn_log_format(ctx, "http-check", args)
    _own(p, "http_checks").append(CheckRule(sub, list(args[1:]), ctx.file, ctx.line))
    if p.check_kind != "httpchk":
        _unused(p)["http"] = True


# ------------------------------------------------------------------ post-parse checks
def _shared_ruleset(proxy: Any) -> Any:
    """The key of the tcp-check ruleset this proxy shares with others, None for its own.

    HAProxy 2.6 gives every backend without a check option the one shared ruleset
    ``*tcp-check``, and a backend whose ``option tcp-check`` comes from its defaults section
    the defaults' ruleset.  check_proxy_tcpcheck() inserts an implicit ``connect`` into an
    empty ruleset after the proxy's servers were checked, so the next proxy sharing it no
    longer sees an empty ruleset.
    """
    kind = proxy.check_kind or "tcp"
    if kind == "tcp":
        return "*tcp-check"
    if kind == "tcp-check" and proxy.extra.get("tcp_checks_owner") != _owner(proxy):
        rs = proxy.extra.get("tcp_check_rs")
        if rs is not None and rs != _owner(proxy):
            return rs
    return None


def early_warnings(proxy: Any) -> list[tuple[str, str]]:
    """check_config_validity()'s check warnings made before 'missing timeouts': http-check
    rules without 'option httpchk', 'disable-on-404'/'send-state' without it."""
    out: list[tuple[str, str]] = []
    if proxy.kind not in ("backend", "listen"):
        return out
    ptype = "proxy" if proxy.kind == "listen" else "backend"  # proxy_type_str()
    cur = proxy.extra.get("check_unused_rs")
    flags = cur[1] if cur and cur[0] == _owner(proxy) else {}
    if flags.get("http"):
        out.append(("warning", (f"{ptype} '{proxy.name}' uses http-check rules without 'option httpchk', "
                               "so the rules are ignored.")))
    kind = proxy.check_kind or "tcp"
    if kind not in ("tcp", "httpchk", "external-check"):
        for opt in ("disable-on-404", "send-state"):
            if proxy.options.get(f"http-check {opt}"):
                out.append(("warning", (f"'{opt}' will be ignored for {ptype} '{proxy.name}' "
                                       "(requires 'option httpchk').")))
    return out


def late_warnings(proxy: Any) -> list[tuple[str, str]]:
    """The check warning check_config_validity() makes after 'missing timeouts'."""
    if proxy.kind not in ("backend", "listen"):
        return []
    ptype = "proxy" if proxy.kind == "listen" else "backend"
    cur = proxy.extra.get("check_unused_rs")
    if cur and cur[0] == _owner(proxy) and cur[1].get("tcp"):
        return [("warning", (f"{ptype} '{proxy.name}' uses tcp-check rules without 'option tcp-check', "
                            "so the rules are ignored."))]
    return []


def validate(proxy: Any, implicit: set[Any] | None = None) -> list[tuple[str, str]]:
    """HAProxy's post-parse check messages for one backend/listen section: the warnings
    of ``early_warnings`` and ``late_warnings`` then the server alerts of ``server_alerts``."""
    return early_warnings(proxy) + late_warnings(proxy) + server_alerts(proxy, implicit)


def server_alerts(proxy: Any, implicit: set[Any] | None = None) -> list[tuple[str, str]]:
    """init_srv_check()'s alerts for servers checked without any port to check.

    Texts as HAProxy prints them after ``config : ``.  ``implicit`` is kept by the caller
    across the proxies, in declaration order: the shared rulesets that already got their
    implicit ``connect`` rule (see ``_shared_ruleset``).
    """
    out: list[tuple[str, str]] = []
    if proxy.kind not in ("backend", "listen"):
        return out
    ptype = "proxy" if proxy.kind == "listen" else "backend"  # proxy_type_str()
    shared = _shared_ruleset(proxy)
    filled = implicit is not None and shared is not None and shared in implicit
    if implicit is not None and shared is not None and not proxy.disabled:
        implicit.add(shared)
    kind = proxy.check_kind or "tcp"
    raw: list[R.Rule] = []
    try:
        if kind == "httpchk":
            raw = R.http_rules(proxy.http_checks)
        elif kind == "tcp-check":
            raw = R.tcp_rules(proxy.tcp_checks)
        elif kind == "redis-check":
            raw = R.redis_rules()
        elif kind == "mysql-check":
            raw = R.mysql_rules(list(proxy.check_args))
    except R.RuleError:
        raw = []
    steps = [r for r in raw if r.action not in (R.COMMENT, R.ACTION)]
    where = f"config: {ptype} '{proxy.name}': server"
    for spec in proxy.servers:
        if not spec.check:
            continue
        addr = spec.address
        port = 0 if getattr(addr, "maps_ports", False) else (getattr(addr, "port", 0) or 0)
        if spec.check_port or spec.extra.get("check_addr_port") or port or not _inet_server(spec):
            continue
        if not raw and not filled:
            out.append(("alert", f"{where} '{spec.name}' has neither service port nor check port."))
        elif not steps or steps[0].action != R.CONNECT or not (steps[0].port or steps[0].addr_port):
            out.append(("alert", (f"{where} '{spec.name}' has neither service port nor check port "
                                 "nor tcp_check rule 'connect' with port information.")))
        elif any(r.action == R.CONNECT and not (r.port or r.addr_port) for r in steps):
            out.append(("alert", (f"{where} '{spec.name}' has neither service port nor check port, "
                                 "and a tcp_check rule 'connect' with no port information.")))
    return out


def _inet_server(spec: Any) -> bool:
    """True when the server (or its check ``addr``) is an IPv4/IPv6 address or host name."""
    if spec.check_addr:
        return bool(spec.extra.get("check_addr_inet", True))
    addr = spec.address
    if addr is None:
        return False
    for attr in ("family", "kind", "scheme"):
        val = getattr(addr, attr, None)
        if isinstance(val, str) and val.lower() in ("unix", "abns", "sockpair", "fd"):
            return False
    host = getattr(addr, "host", "") or getattr(addr, "path", "") or ""
    return not (isinstance(host, str) and host.startswith("/"))
