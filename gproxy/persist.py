"""Server choice rules of a backend: ``use-server``, ``force-persist`` and
``ignore-persist`` (HAProxy 2.6 ``cfgparse-listen.c`` for the keywords,
``check_config_validity()`` in ``cfgparse.c`` for the use-server targets, ``stream.c``
``process_switching_rules()`` (the persist_rules loop) and ``process_server_rules()``).

Owns the configuration side (``ServerRule`` and ``PersistRule`` in ``Proxy.extra``), the
post-parse check (``check_config``: targets resolved, log-format names compiled), the
runtime object (``build`` sets each backend's ``persist``; None without rules, so a
backend without them costs the engines one attribute test) and the per-request logic:

* ``persist_flags``: the first matching ``force-persist``/``ignore-persist`` rule, once
  the backend is known (HAProxy's ``SF_FORCE_PRST`` / ``SF_IGNORE_PRST``);
* ``use_server``: the first matching ``use-server`` rule whose server is not stopped
  (or is, with ``option persist`` or force-persist): HAProxy's ``SF_DIRECT|SF_ASSIGNED``,
  no balancing, a full server queues on its own queue.

What the flags do elsewhere: cookie persistence (``http/cookie.py``) skips an ignored
or already assigned request (flag ``U``, no insertion) and accepts a down server under
force-persist; a stick match (``stickrules.request``) accepts a down server under
force-persist and is not affected by ignore-persist (process_sticking_rules() does not
test it); force-persist also keeps ``option redispatch`` from moving the request to
another server (``tcp.connect_failed``).

No socket I/O; never yields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .http import acl as aclmod
from .http import cookie as cookiemod
from .http import sample as smp
from .http.sample import SampleError
from .registry import BE_SIDE, DEFAULTS, SECTION_KEYWORDS, ConfigError, KwCtx

__all__ = ["Persist", "PersistRule", "ServerRule", "build", "check_config", "has_server_rules",
           "persist_flags", "use_server"]

FORCE, IGNORE = 1, 2  # SF_FORCE_PRST, SF_IGNORE_PRST


@dataclass
class ServerRule:
    """A ``use-server <name> {if|unless} <cond>`` line."""

    name: str
    cond: Any  # acl.Cond
    file: str = ""
    line: int = 0
    render: Any = None  # fn(sess, txn) -> str for a log-format name (check_config)


@dataclass
class PersistRule:
    """A ``force-persist`` / ``ignore-persist`` line."""

    kind: int  # FORCE | IGNORE
    cond: Any


def has_server_rules(p: Any) -> bool:
    """Whether ``p`` has a ``use-server`` rule (for the "placed after" warnings)."""
    return bool(p.extra.get("use_server"))


def _cond(ctx: KwCtx, words: list[str], place: str, errfmt: str) -> Any:
    """build_acl_cond() + warnif_cond_conflicts(cond, <place>): the place is the rule's
    own whatever the proxy's capabilities (a frontend's rules are checked too)."""
    pctx = aclmod.parse_ctx(ctx)
    pctx.places = (place,)
    try:
        cond = aclmod.parse_cond(words, aclmod.proxy_acls(ctx.proxy), pctx)
    except (aclmod.CondError, SampleError) as e:
        raise ConfigError(errfmt.format(err=e)) from None
    cond.warning = aclmod.cond_conflicts(cond, pctx.places)
    if cond.warning:
        ctx.warn(cond.warning)
    return cond


@SECTION_KEYWORDS.register("use-server", BE_SIDE, "<server> {if | unless} <condition>",
                           "send the request to this server when the condition matches (not in defaults)")
def _use_server(ctx: KwCtx, args: list[str]) -> None:
    p = ctx.proxy
    if p.kind == DEFAULTS:
        raise ConfigError("'use-server' not allowed in 'defaults' section.")
    # a frontend: the parser warned that it has no backend capability; HAProxy goes on
    if not args or not args[0]:
        raise ConfigError("'use-server' expects a server name.")
    if len(args) < 2 or args[1] not in ("if", "unless"):
        raise ConfigError("'use-server' requires either 'if' or 'unless' followed by a condition.")
    cond = _cond(ctx, args[1:], smp.BE_SET_SRV, "error detected while parsing switching rule : {err}.")
    p.extra.setdefault("use_server", []).append(ServerRule(args[0], cond, ctx.file, ctx.line))


def _persist_rule(kind: int):
    name = "force-persist" if kind == FORCE else "ignore-persist"

    def handler(ctx: KwCtx, args: list[str]) -> None:
        p = ctx.proxy
        if p.kind == DEFAULTS:
            raise ConfigError(f"'{name}' not allowed in 'defaults' section.")
        if not args or args[0] not in ("if", "unless"):
            raise ConfigError(f"'{name}' requires either 'if' or 'unless' followed by a condition.")
        # BE_REQ_CNT: the first place after FE_SET_BCK, where these rules are applied
        cond = _cond(ctx, args, smp.BE_REQ_CNT, f"error detected while parsing a '{name}' rule : {{err}}.")
        p.extra.setdefault("persist_rules", []).append(PersistRule(kind, cond))

    return handler


SECTION_KEYWORDS.register(
    "force-persist", BE_SIDE, "{if | unless} <condition>",
    "use a persistence server (cookie, stick match, use-server) even if it is down (not in defaults)",
)(_persist_rule(FORCE))
SECTION_KEYWORDS.register(
    "ignore-persist", BE_SIDE, "{if | unless} <condition>",
    "ignore the persistence cookie for this request (not in defaults)",
)(_persist_rule(IGNORE))


# ------------------------------------------------------------------ post-parse checks

def _type_str(p: Any) -> str:
    return {"frontend": "frontend", "backend": "backend"}.get(p.kind, "proxy")  # proxy_type_str()


def check_config(model: Any, p: Any, diag: Any) -> None:
    """check_config_validity() for one proxy's use-server rules, in order: a name is
    parsed as a log-format string (a plain text is a static name); a static name must
    be one of the proxy's servers, after the L6-fetches-on-HTTP warning of its
    condition."""
    rules: list[ServerRule] = p.extra.get("use_server") or []
    if not rules:
        return
    from . import logformat

    for r in rules:
        r.render = None
        err = None
        static = None
        try:
            nodes = logformat.parse_format(r.name, p.mode)
            if all(nd[0] == "text" for nd in nodes) and len(nodes) <= 1:
                static = "".join(nd[1] for nd in nodes)
            else:
                pctx = smp.ParseCtx(file=r.file, line=r.line, proxy=p.name, places=(smp.FE_HRQ,),
                                    warn=diag.warning, argctx="in use-server or balance expression in")
                r.render = smp.compile_logformat(r.name, pctx, mode=p.mode, http=False)
        except (ValueError, SampleError) as e:
            err = str(e)
        if err is not None:
            diag.alert(f"Parsing [{r.file}:{r.line}]; use-server rule failed to parse log-format '{r.name}' : {err}.")
            continue
        if static is None:
            continue  # dynamic: the server is looked up per request
        r.name = static
        for text in aclmod.warn_l6_http(p, [r.cond]):
            diag.warning(text)
        found = [s for s in p.servers if s.name == static]
        if len(found) > 1:
            diag.alert(f"Refusing to use duplicated server '{static}' found in proxy: {p.name}!")
        if len(found) != 1:
            diag.alert(f"{_type_str(p)} '{p.name}' : unable to find server '{static}' referenced in a "
                       "'use-server' rule.")


# ------------------------------------------------------------------ run time

class Persist:
    """A backend's persist and use-server rules at run time."""

    __slots__ = ("option_persist", "prst", "rules", "servers")

    def __init__(self, be: Any, prst: list[tuple[int, Any]], rules: list[tuple[Any, Any, Any]]) -> None:
        self.prst = prst  # (FORCE | IGNORE, cond), in order
        self.rules = rules  # (cond, server or None, render or None), in order
        self.option_persist = bool(be.spec.options.get("persist"))
        self.servers = be.servers


def build(model: Any, backends: dict[str, Any]) -> None:
    """Each backend's ``persist`` (None without use-server/force-persist/ignore-persist)."""
    for p in model.proxies:
        be = backends.get(p.name)
        if be is None or be.spec is not p:
            continue
        srules: list[ServerRule] = p.extra.get("use_server") or []
        prules: list[PersistRule] = p.extra.get("persist_rules") or []
        if not srules and not prules:
            continue
        by_name = {}
        for s in be.servers:
            by_name.setdefault(s.name, s)
        rules = []
        for r in srules:
            if r.render is not None:
                rules.append((r.cond, None, r.render))
            elif r.name in by_name:
                rules.append((r.cond, by_name[r.name], None))
        be.persist = Persist(be, [(r.kind, r.cond) for r in prules], rules)


def persist_flags(pr: Persist, sess: Any, txn: Any) -> int:
    """The persist_rules loop: FORCE or IGNORE of the first matching rule, else 0."""
    for kind, cond in pr.prst:
        if cond.match(sess, txn):
            return kind
    return 0


def _find(pr: Persist, name: str) -> Any:
    """findserver(): the server of that name; none when the name is duplicated."""
    got = None
    for s in pr.servers:
        if s.name == name:
            if got is not None:
                return None
            got = s
    return got


def use_server(pr: Persist, sess: Any, txn: Any, flags: int) -> Any:
    """process_server_rules(): the server of the first matching rule that may be used,
    or None (balance as usual).  A matching rule whose server is stopped is skipped
    unless ``option persist`` or force-persist; a log-format name that renders nothing
    usable, or names no server, stops the rules."""
    for cond, srv, render in pr.rules:
        if not cond.match(sess, txn):
            continue
        if render is not None:
            srv = _find(pr, render(sess, txn))
            if srv is None:
                return None
        if srv.running or pr.option_persist or flags & FORCE:
            return srv
    return None


def http_request(pr: Persist, prst: int, spec: Any, sess: Any, txn: Any, be: Any) -> Any:
    """A request of a backend with these rules, once its http-request rules ran: the
    use-server rules, then cookie persistence (``spec``: the backend's ``cookie``, or
    None) told of the assignment and of force/ignore-persist.  The server the request
    is directed to, or None."""
    srv = use_server(pr, sess, txn, prst) if pr.rules else None
    if spec is not None:
        ck = cookiemod.request_server(spec, txn, be, assigned=srv, ignore_persist=bool(prst & IGNORE),
                                   force_persist=bool(prst & FORCE))
        if srv is None:
            srv = ck
    return srv


def tcp_request(pr: Persist, sess: Any) -> tuple[Any, int]:
    """A connection of a mode tcp backend with these rules: (the use-server rules'
    server or None, the force/ignore-persist flags)."""
    prst = persist_flags(pr, sess, None) if pr.prst else 0
    return (use_server(pr, sess, None, prst) if pr.rules else None), prst
