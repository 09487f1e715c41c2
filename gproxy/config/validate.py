"""Cross-section checks of a parsed Model: references, modes, missing timeouts.

Owns the checks HAProxy runs after parsing (``check_config_validity``): backend names
used by ``default_backend``/``use_backend`` exist and have a compatible mode, the
usual timeouts are set, numeric ids are unique.  Pure: reads the Model, writes messages.
"""

from __future__ import annotations

from ..diag import Diagnostics
from .model import Model, Proxy

MISSING_TIMEOUTS = (
    "missing timeouts for {kind} '{name}'.\n"
    "   | While not properly invalid, you will certainly encounter various problems\n"
    "   | with such a configuration. To fix this, please ensure that all following\n"
    "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."
)


def _kind(p: Proxy) -> str:
    return "proxy" if p.kind == "listen" else p.kind


def validate(model: Model, diag: Diagnostics) -> None:
    for p in model.proxies:
        if p.disabled:
            continue
        if p.kind in ("frontend", "listen"):
            _check_switching(model, p, diag)
        missing = False
        if p.kind in ("frontend", "listen") and p.binds and not p.timeouts.get("client"):
            missing = True
        if p.kind in ("backend", "listen") and p.servers and not (p.timeouts.get("connect") and p.timeouts.get("server")):
            missing = True
        if missing:
            diag.warning(MISSING_TIMEOUTS.format(kind=_kind(p), name=p.name))
        if p.mode == "http":
            diag.warning(
                f"{_kind(p)} '{p.name}' uses 'mode http', which this gproxy version does not implement yet: "
                "it is relayed as 'mode tcp'.",
                p.file,
                p.line,
            )
        for ub in p.use_backends:
            if ub.cond:
                diag.warning(
                    f"'use_backend {ub.name}' has a condition, which this gproxy version does not evaluate yet: "
                    "the rule is skipped.",
                    ub.file,
                    ub.line,
                )
    _check_ids(model, diag)
    from .. import log
    from ..checks import config as checks_config

    log.check_config(model, diag)
    for p in model.proxies:
        for level, text in checks_config.validate(p):
            (diag.alert if level == "alert" else diag.warning)(text)


def _check_switching(model: Model, fe: Proxy, diag: Diagnostics) -> None:
    if fe.default_backend:
        be = model.find_backend(fe.default_backend)
        if be is None:
            diag.alert(f"Proxy '{fe.name}': unable to find required default_backend: '{fe.default_backend}'.")
        elif fe.mode == "http" and be.mode != "http":
            diag.alert(
                f"http frontend '{fe.name}' ({fe.file}:{fe.line}) tries to use incompatible tcp backend "
                f"'{be.name}' ({be.file}:{be.line}) as its default backend (see 'mode')."
            )
    for ub in fe.use_backends:
        if "%[" in ub.name:
            continue
        be = model.find_backend(ub.name)
        if be is None:
            diag.alert(f"Proxy '{fe.name}': unable to find required use_backend: '{ub.name}'.")
        elif fe.mode == "http" and be.mode != "http":
            diag.alert(
                f"http frontend '{fe.name}' ({fe.file}:{fe.line}) tries to use incompatible tcp backend "
                f"'{be.name}' ({be.file}:{be.line}) in a 'use_backend' rule (see 'mode')."
            )


def _check_ids(model: Model, diag: Diagnostics) -> None:
    seen: dict[int, Proxy] = {}
    for p in model.proxies:
        if p.id is None:
            continue
        other = seen.get(p.id)
        if other is not None:
            diag.alert(
                f"{_kind(p)} '{p.name}' has the same ID ({p.id}) as {_kind(other)} '{other.name}'.",
                p.file,
                p.line,
            )
        seen[p.id] = p
    for p in model.proxies:
        sids: dict[int, str] = {}
        for s in p.servers:
            if s.id is None:
                continue
            if s.id in sids:
                diag.alert(
                    f"'server {p.name}/{s.name}' : custom id {s.id} already used by server '{sids[s.id]}'.",
                    s.file,
                    s.line,
                )
            sids[s.id] = s.name
