"""The HTTP engine's view of rules, ACL-based switching and cookie persistence.

``gproxy.http.rules``, ``gproxy.http.acl`` and ``gproxy.http.cookie`` are written
separately; the engine calls them only through this adapter, which imports them on
first use and falls back to "no rules, default_backend, no persistence" when a module
(or the function) is absent, so ``mode http`` works on its own.  Each call is skipped
cheaply when the proxy has nothing configured for it.

Contracts expected of the other modules:

* ``acl.select_backend(fe_runtime, sess, txn, backends_by_name) -> Backend | None``
* ``rules.run_http_request(rules, txn) -> Verdict | None`` (same for ``run_http_response``),
  ``rules.run_http_after_response(rules, txn)``, ``rules.run_tcp_connection(rules, sess) ->
  bool`` (False: reject), ``rules.run_tcp_content(rules, sess, txn) -> bool``;
  ``Verdict.kind`` in allow/deny/return/redirect/auth/reject/tarpit/use-service, with
  ``status`` and ``response``;
* ``cookie.request_server(spec, txn, backend) -> Server | None`` and
  ``cookie.apply_response(spec, txn, server)``, flags in ``txn.extra``.
"""

from __future__ import annotations

import importlib
from typing import Any

_MISSING = object()
_mods: dict[str, Any] = {}


def _fn(module: str, name: str) -> Any:
    key = module + "." + name
    got = _mods.get(key, _MISSING)
    if got is _MISSING:
        try:
            mod = importlib.import_module("gproxy.http." + module)
            got = getattr(mod, name, None)
        except ImportError:
            got = None
        _mods[key] = got
    return got


def select_backend(fe: Any, sess: Any, txn: Any, backends: dict[str, Any]) -> Any:
    """The backend for this request (``use_backend`` rules), else ``fe.default_backend``."""
    if fe.spec.use_backends:
        fn = _fn("acl", "select_backend")
        if fn is not None:
            be = fn(fe, sess, txn, backends)
            if be is not None:
                return be
    return fe.default_backend


def http_request(rules: list[Any], txn: Any) -> Any:
    if not rules:
        return None
    fn = _fn("rules", "run_http_request")
    return fn(rules, txn) if fn is not None else None


def http_response(rules: list[Any], txn: Any) -> Any:
    if not rules:
        return None
    fn = _fn("rules", "run_http_response")
    return fn(rules, txn) if fn is not None else None


def http_after_response(rules: list[Any], txn: Any) -> None:
    if not rules:
        return
    fn = _fn("rules", "run_http_after_response")
    if fn is not None:
        fn(rules, txn)


def tcp_content(rules: list[Any], sess: Any, txn: Any) -> bool:
    if not rules:
        return True
    fn = _fn("rules", "run_tcp_content")
    return bool(fn(rules, sess, txn)) if fn is not None else True


def cookie_request(spec: Any, txn: Any, backend: Any) -> Any:
    if spec is None:
        return None
    fn = _fn("cookie", "request_server")
    return fn(spec, txn, backend) if fn is not None else None


def cookie_response(spec: Any, txn: Any, server: Any) -> None:
    if spec is None:
        return
    fn = _fn("cookie", "apply_response")
    if fn is not None:
        fn(spec, txn, server)


def cookie_flags(txn: Any) -> str:
    ex = txn.extra
    return ex.get("cookie_req", "-") + ex.get("cookie_rsp", "-")


def service(name: str) -> Any:
    """``use-service`` handler ``fn(process, txn) -> (status, headers, body)`` or None."""
    table = _fn("services", "SERVICES")
    return table.get(name) if table else None
