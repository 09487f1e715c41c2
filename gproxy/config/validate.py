"""Cross-section checks of a parsed Model: references, modes, missing timeouts.

Owns the checks HAProxy runs after parsing (``check_config_validity``): backend names
used by ``default_backend``/``use_backend`` exist and have a compatible mode, the
usual timeouts are set, numeric ids are unique, and runs the post-parse checks of the
modules that own the other keywords.  Pure: reads the Model, writes messages.
"""

from __future__ import annotations

from .. import log, persist, stickrules
from ..checks import config as checks_config
from ..diag import Diagnostics
from ..http import acl as http_acl
from ..http import cookie
from ..http import errors as http_errors
from ..http import rules as http_rules
from ..http import uniqueid as http_uniqueid
from ..http import userlist as http_userlist
from ..lb import keywords as lb_keywords
from ..stats import keywords as stats_keywords
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
        fe_cap, be_cap = p.kind in ("frontend", "listen"), p.kind in ("backend", "listen")
        if be_cap and p.mode != "http":
            fallback = lb_keywords.tcp_mode_fallback(p)  # proxy_cfg_ensure_no_http()
            if fallback:
                diag.warning(fallback)
        if fe_cap and not p.binds:
            diag.warning(f"{_kind(p)} '{p.name}' has no 'bind' directive. Please declare it as a backend if this was intended.")
        for _level, text in checks_config.early_warnings(p):
            diag.warning(text)
        _check_switching(model, p, diag)
        persist.check_config(model, p, diag)  # use-server targets, then the stick rules' tables
        stickrules.check_config(model, p, diag)  # after use-server, as check_config_validity()
        for text in http_acl.warn_l6_http(p, _l6_conds(p)):
            diag.warning(text)
        http_errors.check_reply_refs(p, model, diag)  # check_action_rules(): http replies naming http-errors
        http_rules.check_capture_ids(p, diag)  # check_action_rules(): capture slots named by id
        http_rules.report_track_rules(model, p, diag)  # check_action_rules(): track-sc tables
        t = p.timeouts
        if (fe_cap and not t.get("client")) or (
            be_cap and p.servers and (not t.get("connect") or (not t.get("server") and (p.mode == "http" or not t.get("tunnel"))))
        ):
            diag.warning(MISSING_TIMEOUTS.format(kind=_kind(p), name=p.name))
        for _level, text in checks_config.late_warnings(p):
            diag.warning(text)
        if be_cap:
            _check_server_names(p, diag)
    # checks owned by the modules that own the keywords, in HAProxy's order
    http_errors.resolve(model, diag)
    from ..http import keywords as http_keywords

    http_keywords.check_config(model, diag)
    http_userlist.resolve(model, diag)
    http_acl.resolve_refs(model, diag)
    stats_keywords.check_config(model, diag)
    log.check_config(model, diag)
    http_uniqueid.check_config(model, diag)
    implicit: set[object] = set()  # shared tcp-check rulesets that got their implicit connect
    for p in model.proxies:
        for level, text in checks_config.server_alerts(p, implicit) + cookie.validate(p):
            (diag.alert if level == "alert" else diag.warning)(text)
    from ..http import casing  # h1-case-adjust-file: HAProxy's post-parser, last of the checks

    casing.load_file(model, diag)
    if not diag.fatal:
        check_server_addresses(model, diag)


def _incompatible(fe: Proxy, be: Proxy) -> bool:
    """HAProxy refuses any mode mix except a tcp frontend handing over to an http backend."""
    return be.mode != fe.mode and not (fe.mode == "tcp" and be.mode == "http")


def _check_switching(model: Model, fe: Proxy, diag: Diagnostics) -> None:
    # any proxy: a backend that got a default_backend/use_backend had a warning at parse time
    if fe.default_backend:
        be = model.find_backend(fe.default_backend)
        if be is None:
            diag.alert(f"Proxy '{fe.name}': unable to find required default_backend: '{fe.default_backend}'.")
        elif be is fe:
            diag.alert(f"Proxy '{fe.name}': loop detected for default_backend: '{fe.default_backend}'.")
        elif _incompatible(fe, be):
            diag.alert(
                f"{fe.mode} {_kind(fe)} '{fe.name}' ({fe.file}:{fe.line}) tries to use incompatible {be.mode} {_kind(be)} "
                f"'{be.name}' ({be.file}:{be.line}) as its default backend (see 'mode')."
            )
        elif fe.servers:
            diag.warning(
                f"In proxy '{fe.name}', the 'default_backend' rule always has precedence over the servers, "
                "which will never be used."
            )
    for ub in fe.use_backends:
        if getattr(ub, "dynamic", "%[" in ub.name):
            continue
        be = model.find_backend(ub.name)
        if be is None:
            diag.alert(f"Proxy '{fe.name}': unable to find required use_backend: '{ub.name}'.")
        elif be is fe:
            diag.alert(f"Proxy '{fe.name}': loop detected for use_backend: '{ub.name}'.")
        elif _incompatible(fe, be):
            diag.alert(
                f"{fe.mode} {_kind(fe)} '{fe.name}' ({fe.file}:{fe.line}) tries to use incompatible {be.mode} {_kind(be)} "
                f"'{be.name}' ({be.file}:{be.line}) in a 'use_backend' rule (see 'mode')."
            )


def _l6_conds(p: Proxy) -> list[object]:
    """The conditions of ``p``'s own rules in the order check_config_validity() looks at
    them for warnif_tcp_http_cond(): switching rules, then tcp-request session and
    content, http-request, http-response and http-after-response rules."""
    owner = f"{p.kind}:{p.name}"

    def own(rules: list[object], session: bool | None = None) -> list[object]:
        return [r.cond for r in rules
                if getattr(r, "owner", "") == owner
                and (session is None or getattr(r, "text", "").startswith("session") == session)]

    conds: list[object] = [getattr(ub, "compiled", None) for ub in p.use_backends]
    conds += own(p.tcp_request_connection, session=True)
    conds += own(p.tcp_request_content)
    conds += own(p.http_request) + own(p.http_response) + own(p.http_after_response)
    return conds


def _check_server_names(p: Proxy, diag: Diagnostics) -> None:
    """Two servers without an explicit id may not share a name (the first clash of each)."""
    from .parser import AT_PARSING, report

    for i, srv in enumerate(p.servers):
        if srv.id is not None:
            continue
        for other in p.servers[:i]:
            if other.id is None and other.name == srv.name:
                report(
                    diag,
                    "ALERT",
                    f"{_kind(p)} '{p.name}', another server named '{srv.name}' was already defined at line "
                    f"{other.line}, please use distinct names.",
                    srv.file,
                    srv.line,
                    AT_PARSING,
                )
                break


def check_server_addresses(model: Model, diag: Diagnostics) -> None:
    """srv_init_addr(): server host names that did not resolve, after every other check."""
    from .parser import AT_CTX, report

    for p in model.proxies:
        for srv in p.servers:
            err = srv.extra.get("addr_error")
            if err:
                report(diag, "ALERT", f"'server {p.name}/{srv.name}' : {err}", srv.file, srv.line, AT_CTX)
                diag.addr_failed = True  # type: ignore[attr-defined]  # app: HAProxy's last line differs
