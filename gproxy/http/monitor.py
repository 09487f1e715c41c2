"""``monitor-uri <uri>`` and ``monitor fail {if | unless} <cond>``: the frontend answers
an external health checker itself.

As HAProxy 2.6 (http_wait_for_request): a request whose URI is exactly ``<uri>`` is
answered before any ``http-request`` rule, with HAProxy's ``200 OK`` page ("Service
ready."), or its 503 page when a ``monitor fail`` condition says so; its body is not
read, it is counted (requests, intercepted, status class, bytes) but never logged.

Handlers write to the Model (``Proxy.extra["monitor_uri"]``, ``["monitor_fail"]``); the
engine reads them through ``Monitor.of``.
"""

from __future__ import annotations

from typing import Any

from ..registry import FE_SIDE, FRONTEND, LISTEN, SECTION_KEYWORDS, ConfigError, KwCtx
from . import acl as aclmod


@SECTION_KEYWORDS.register("monitor-uri", FE_SIDE, "<uri>", "answer 200 (503 on 'monitor fail') to requests for <uri>")
def _kw_monitor_uri(ctx: KwCtx, args: list[str]) -> None:
    if not args or not args[0]:
        raise ConfigError("'monitor-uri' expects an URI.")
    if len(args) > 1:
        raise ConfigError(f"'monitor-uri' cannot handle unexpected argument '{args[1]}'.")
    ctx.proxy.extra["monitor_uri"] = args[0]


@SECTION_KEYWORDS.register("monitor", (FRONTEND, LISTEN), "fail {if | unless} <cond>",
                           "answer the monitor-uri with 503 while the condition holds")
def _kw_monitor(ctx: KwCtx, args: list[str]) -> None:
    if not args or args[0] != "fail":
        raise ConfigError("'monitor' only supports 'fail'.")
    if len(args) < 2 or args[1] not in ("if", "unless"):
        raise ConfigError("'monitor fail' requires either 'if' or 'unless' followed by a condition.")
    p = ctx.proxy
    if any(getattr(r, "owner", "") == f"{p.kind}:{p.name}" for r in p.http_request):
        ctx.warn("a 'monitor fail' rule placed after an 'http-request' rule will still be processed before.")
    elif p.extra.get("redirect_rules"):
        ctx.warn("a 'monitor fail' rule placed after a 'redirect' rule will still be processed before.")
    elif p.use_backends:
        ctx.warn("a 'monitor fail' rule placed after a 'use_backend' rule will still be processed before.")
    elif p.extra.get("use_server"):
        ctx.warn("a 'monitor fail' rule placed after a 'use-server' rule will still be processed before.")
    cond = aclmod.compile_cond(ctx, args[1:], "http-request",
                               "error detected while parsing a 'monitor fail' condition : {err}.")
    p.extra.setdefault("monitor_fail", []).append(cond)


class Monitor:
    """A frontend's monitor settings, compiled for the engine."""

    __slots__ = ("fail", "uri")

    def __init__(self, uri: str, fail: list[Any]) -> None:
        self.uri = uri
        self.fail = fail

    @classmethod
    def of(cls, spec: Any) -> Monitor | None:
        uri = spec.extra.get("monitor_uri")
        return cls(uri, spec.extra.get("monitor_fail") or []) if uri else None

    def status(self, sess: Any, txn: Any) -> int:
        """200, or 503 when a ``monitor fail`` condition matches."""
        for cond in self.fail:
            if cond.match(sess, txn):
                return 503
        return 200
