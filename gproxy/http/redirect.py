"""The proxy keyword ``redirect {location | prefix | scheme} <to> [code <n>] [<option>]...
[{if | unless} <cond>]``.

HAProxy reads it with the parser of ``http-request redirect`` (http_parse_redirect_rule)
and runs a proxy's redirect rules after its ``http-request`` rules (a ``http-request``
rule written after a ``redirect`` rule is warned about: it still runs first), the
frontend's before the backend is chosen, a backend's after its own ``http-request``
rules.  The first matching rule answers; the request never reaches a server.

Handlers write to the Model (``Proxy.extra["redirect_rules"]``); the engine reads the
compiled rules through ``rules_of``.
"""

from __future__ import annotations

from typing import Any

from ..registry import DEFAULTS, PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx
from . import acl as aclmod
from . import rules


@SECTION_KEYWORDS.register("redirect", PROXY_SECTIONS,
                           "{location | prefix | scheme} <to> [code <n>] [<option>]... [{if | unless} <cond>]",
                           "answer with a redirection, after the proxy's http-request rules")
def _kw_redirect(ctx: KwCtx, args: list[str]) -> None:
    p = ctx.proxy
    if p.kind == DEFAULTS:
        raise ConfigError("'redirect' not allowed in 'defaults' section.")
    where = f"{'proxy' if p.kind == 'listen' else p.kind} '{p.name}'"
    words = list(args)
    end = next((i for i, w in enumerate(words) if w in ("if", "unless")), len(words))
    pc = rules.Pc(ctx, "http-request", words[:end])
    parse, _final = rules.ACTIONS["http-request"]["redirect"]
    try:
        run, _ = parse(pc, 0, "redirect")
    except rules.ActionError as e:
        raise ConfigError(f"error detected in {where} while parsing redirect rule : {e}.") from None
    cond = None
    if end < len(words):
        cond = aclmod.compile_cond(ctx, words[end:], "http-request",
                                   f"error detected in {where} while parsing redirect rule : error in condition: "
                                   "{err}.")
    if p.use_backends:  # warnif_misplaced_redirect()
        ctx.warn("a 'redirect' rule placed after a 'use_backend' rule will still be processed before.")
    elif p.extra.get("use_server"):
        ctx.warn("a 'redirect' rule placed after a 'use-server' rule will still be processed before.")
    rule = rules.Rule("redirect", run, cond, ctx.file, ctx.line, True, 0, " ".join(["redirect", *args]),
                      owner=f"{p.kind}:{p.name}")
    p.extra.setdefault("redirect_rules", []).append(rule)


def rules_of(spec: Any) -> list[Any]:
    """The compiled ``redirect`` rules of a proxy, in order (empty list: none)."""
    return spec.extra.get("redirect_rules") or []
