"""The HTTP statistics page: request handling, the HTML page, CSV/typed/JSON exports and
the admin form's actions.

Owns what HAProxy 2.6 does for a request that reaches a proxy with ``stats`` enabled
(``http_stats_check_uri``/``http_handle_stats`` in ``src/http_ana.c``, the HTTP half of
``src/stats.c``):

* ``is_stats_request(px_spec, txn)``: a GET, HEAD or POST whose URI (its path part when
  the prefix starts with ``/``) starts with ``stats uri``;
* ``handle(process, fe_spec, be_spec, txn, body=None)``: the answer ``(status, headers,
  body)`` (no framing headers) for the first of the two proxies whose stats settings
  match, or None.  The HTTP engine calls it once with the frontend's settings before
  backend switching and once with the chosen backend's, logs the request with server
  ``<STATS>`` and the termination state left in ``txn.extra['stats_term']`` (``LR``, or
  ``PR`` for a ``stats http-request deny``), and passes a POST's body (``body``; the
  ``stats.body_excd`` flag in ``txn.extra`` when it did not fit in a buffer);
* access control: ``stats http-request`` rules, else ``stats auth`` users (401 with
  ``WWW-Authenticate: Basic realm="<realm>"``, default realm ``HAProxy Statistics``);
  ``stats admin`` conditions grant the admin level;
* the URI options after the prefix: ``;csv``, ``;typed``, ``;json``, ``;json-schema``,
  ``;up``, ``;no-maint``, ``;norefresh`` (only with ``stats refresh``), ``;st=<CODE>``
  (the result box of an admin action) and ``scope=<text>`` (the page's search box);
* the HTML page laid out as HAProxy's: the process information block with the legend
  of server colours and the display options, then one table per proxy (frontend row,
  listener rows with ``option socket-stats``, server rows, backend totals row), rows
  with HAProxy's CSS classes (``frontend``, ``socket``, ``backend``, ``active_up``,
  ``active_down``, ``active_going_up``, ``active_going_down``, ``active_nolb``,
  ``active_draining``, ``active_no_check``, the same ``backup_*`` ones, ``maintain``),
  the hover tips, and with the admin level a checkbox per server and the action select
  of each backend's form;
* admin POSTs (``s=<srv>&...&action=<act>&b=<#iid|name>``) applied through the
  ``Server`` methods (admin flags with ``set_admin``/``clear_admin`` only), answered
  with ``303 See Other`` to ``<uri>;st=<DONE|NONE|PART|ERRP|EXCD|DENY|UNKN|IVAL>``.

Every number comes from the column table (``columns.py``); CSV, typed and JSON are
``csvstat.py``'s.  gproxy prints no version release date, no bit rate and no task
counts (it keeps none) and has no agent checks (the agent actions change nothing).

Pure apart from the admin actions: no socket I/O, never yields.
"""

from __future__ import annotations

import html
import json
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from .. import __version__
from ..server import FDRAIN, FMAINT
from . import columns as C
from . import csvstat
from .keywords import DEFAULT_REALM

__all__ = ["ACTIONS", "STATUS_CODES", "handle", "is_stats_request", "render_html"]

PRODUCT_NAME = "gproxy"
#: result codes of an admin POST (HAProxy's stat_status_codes, enum order)
STATUS_CODES = ("DENY", "DONE", "ERRP", "EXCD", "NONE", "PART", "UNKN", "IVAL")
#: the admin form's actions, in HAProxy's order: value -> label
ACTIONS = (
    ("ready", "Set state to READY"),
    ("drain", "Set state to DRAIN"),
    ("maint", "Set state to MAINT"),
    ("dhlth", "Health: disable checks"),
    ("ehlth", "Health: enable checks"),
    ("hrunn", "Health: force UP"),
    ("hnolb", "Health: force NOLB"),
    ("hdown", "Health: force DOWN"),
    ("dagent", "Agent: disable checks"),
    ("eagent", "Agent: enable checks"),
    ("arunn", "Agent: force UP"),
    ("adown", "Agent: force DOWN"),
    ("shutdown", "Kill Sessions"),
)
#: older action names HAProxy still accepts in a POST
LEGACY_ACTIONS = ("disable", "enable", "stop", "start")
SCOPE_MAXLEN = 20
WEB_REASON = "changed from Web interface"
DOCS_URL = "https://docs.haproxy.org/2.6/"
BODY_EXCD = "stats.body_excd"  # txn.extra flag: the POST body did not fit in a buffer


# ============================================================== request
def _uri_path(uri: str) -> str:
    """http_parse_path(): an absolute URI's path (with its query), else the URI itself."""
    if uri[:1] == "/" or uri == "*":
        return uri if uri != "*" else ""
    scheme_end = uri.find("://")
    if scheme_end < 0:
        return uri
    rest = uri[scheme_end + 3:]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else ""


def is_stats_request(px_spec: Any, txn: Any) -> bool:
    """http_stats_check_uri(): ``px_spec`` has ``stats`` and the request is a GET, HEAD or
    POST for a URI starting with its ``stats uri``."""
    st = getattr(px_spec, "stats", None)
    if st is None:
        return False
    req = txn.req
    if req.method not in ("GET", "HEAD", "POST"):
        return False
    uri = req.uri
    if st.uri[:1] == "/":
        uri = _uri_path(uri)
    return uri.startswith(st.uri)


def _invalid_scope(text: str) -> bool:
    return not text or any(not (c.isascii() and (c.isalnum() or c in ".:_-")) for c in text)


class Ctx:
    """One stats request: its settings, display flags, format and result code."""

    __slots__ = ("admin", "fmt", "hide_down", "hide_maint", "no_refresh", "process", "scope", "serving", "st",
                 "st_code")

    def __init__(self, process: Any, serving: Any, uri: str) -> None:
        st = serving.stats
        self.process = process
        self.serving = serving  # the proxy spec whose stats settings serve the request
        self.st = st
        rest = uri[len(st.uri):] if len(uri) >= len(st.uri) else ""
        self.hide_down = ";up" in rest
        self.hide_maint = ";no-maint" in rest
        self.no_refresh = bool(st.refresh) and ";norefresh" in rest
        fmt = "html"
        if ";csv" in rest:
            fmt = "csv"
        if ";typed" in rest:
            fmt = "typed"
        if ";json" in rest:
            fmt = "json"
        if ";json-schema" in rest:
            fmt = "json-schema"
        self.fmt = fmt
        self.st_code = ""
        i = rest.find(";st=")
        if 0 <= i <= len(rest) - 8:
            code = rest[i + 4:i + 8]
            self.st_code = code if code in STATUS_CODES else "UNKN"
        self.scope = ""
        i = rest.find("scope=")
        if 0 <= i <= len(rest) - 8:
            j = i + 6
            k = j
            while k < len(rest) and rest[k] not in ";& ":
                k += 1
            text = rest[j:k][:SCOPE_MAXLEN]
            if not _invalid_scope(text):
                self.scope = text
        self.admin = False

    # the suffixes HAProxy's links keep
    def keep(self, up: bool | None = None, norefresh: bool | None = None) -> str:
        up = self.hide_down if up is None else up
        nr = self.no_refresh if norefresh is None else norefresh
        return (";up" if up else "") + (";norefresh" if nr else "")

    @property
    def scope_txt(self) -> str:
        return "?scope=" + self.scope if self.scope else ""


# ============================================================== entry point
Answer = tuple[int, list[tuple[str, str]], bytes]


def handle(process: Any, fe_spec: Any, be_spec: Any, txn: Any, body: bytes | None = None) -> Answer | None:
    """The stats answer for this request from the first of ``fe_spec``/``be_spec`` (either
    may be None) whose stats settings match it, or None when it is not a stats request."""
    for spec in (fe_spec, be_spec):
        if spec is not None and is_stats_request(spec, txn):
            return serve(process, spec, txn, body)
    return None


def serve(process: Any, spec: Any, txn: Any, body: bytes | None = None) -> Answer:
    """http_handle_stats() + the stats ``http-request`` rules + the stats applet."""
    st = spec.stats
    req = txn.req
    txn.extra["stats_term"] = "LR"
    ctx = Ctx(process, spec, req.uri)
    sess = txn.sess
    for cond in st.admin_rules:
        if cond.match(sess, txn):
            ctx.admin = True
            break
    denied = _access(st, spec, txn)
    if denied is not None:
        return denied
    txn.extra["stats_applet"] = True
    if req.method == "POST":
        if ctx.admin:
            if txn.extra.get(BODY_EXCD):
                ctx.st_code = "EXCD"
            else:
                ctx.st_code = process_post(process, body or b"")
        else:
            ctx.st_code = "DENY"
        return redirect(ctx)
    return dump(ctx)


def _error_reply(code: int, spec: Any, txn: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    from ..http import errors

    fe = getattr(getattr(txn.sess, "frontend", None), "spec", None)
    rep = errors.reply(code, spec, fe, txn)
    headers = [(k, v) for k, v in rep.headers if k.lower() not in ("content-length", "transfer-encoding")]
    return rep.status, headers, rep.body


def _access(st: Any, spec: Any, txn: Any) -> Answer | None:
    """The stats ``http-request`` rules, or the rule HAProxy builds from ``stats auth``:
    None to go on, else the answer (401 auth, 403 deny, or a rule's own response)."""
    if st.http_request:
        from ..http import rules

        for rule, explicit_realm in st.http_request:
            v = rules.run_http_request([rule], txn)
            if v is None:
                continue
            if v.kind == "allow":
                return None
            if v.kind == "auth":
                realm = v.realm if explicit_realm else DEFAULT_REALM
                return _unauthorized(realm, spec, txn)
            r = v.response
            if v.kind in ("deny", "reject", "tarpit"):
                txn.extra["stats_term"] = "PR"
                if v.kind != "deny" or r is None:
                    return _error_reply(403, spec, txn)
            if r is not None:  # deny, return, redirect: the rule's own response
                items = getattr(r.headers, "items", r.headers)  # an empty errorfile's reply has a plain list
                headers = [(k, val) for k, val in items if k not in ("content-length", "transfer-encoding")]
                return r.status, headers, bytes(getattr(r, "body", b"") or b"")
        return None
    if st.users:
        from ..http import sample

        b = sample.basic_auth(txn)
        if b is None or b[0] != "Basic" or not st.check_user(b[1], b[2]):
            return _unauthorized(st.realm or DEFAULT_REALM, spec, txn)
    return None


def _unauthorized(realm: str, spec: Any, txn: Any) -> Answer:
    status, headers, body = _error_reply(401, spec, txn)
    headers = [(k, v) for k, v in headers if k.lower() != "www-authenticate"]
    headers.append(("www-authenticate", f'Basic realm="{realm}"'))
    return status, headers, body


def redirect(ctx: Ctx) -> Answer:
    """stats_send_http_redirect(): 303 to the page with the result code."""
    code = ctx.st_code if ctx.st_code in STATUS_CODES else "UNKN"
    location = f"{ctx.st.uri};st={code}{ctx.keep()}{ctx.scope_txt}"
    return 303, [("cache-control", "no-cache"), ("content-type", "text/plain"), ("location", location)], b""


def dump(ctx: Ctx) -> Answer:
    """stats_send_http_headers() + the dump in the requested format (the engine sends only
    the head of it to a HEAD request)."""
    ctypes = {"html": "text/html", "json": "application/json", "json-schema": "application/json"}
    headers = [("cache-control", "no-cache"), ("content-type", ctypes.get(ctx.fmt, "text/plain"))]
    if ctx.st.refresh > 0 and not ctx.no_refresh:
        headers.append(("refresh", str(ctx.st.refresh)))
    if ctx.fmt == "html":
        text = render_html(ctx)
    elif ctx.fmt == "json-schema":
        text = json_schema()
    else:
        text = render_export(ctx)
    return 200, headers, text.encode("utf-8", "replace")


# ============================================================== proxies and rows
def _proxy_selected(ctx: Ctx, spec: Any) -> bool:
    """``stats scope`` names (``.`` is the proxy serving the page), then the page's search
    text (a case-insensitive substring)."""
    scopes = ctx.st.scopes
    if scopes and spec.name not in scopes and not ("." in scopes and spec is ctx.serving):
        return False
    return not (ctx.scope and ctx.scope.lower() not in spec.name.lower())


def selected(ctx: Ctx) -> list[tuple[tuple[Any, Any, Any], list[tuple[str, Any]]]]:
    """``(proxy, rows)`` of each proxy to show, in order, rows filtered by ``;up``/``;no-maint``."""
    process = ctx.process
    by_id: dict[int, list[tuple[str, Any]]] = {}
    for kind, obj in C.rows(process, no_maint=ctx.hide_maint, up=ctx.hide_down):
        by_id.setdefault(C.value(C.BY_NAME["iid"], kind, obj), []).append((kind, obj))
    out = []
    for px in C.proxies(process):
        spec = px[0]
        if spec.disabled or not _proxy_selected(ctx, spec):
            continue
        out.append((px, by_id.get(C.proxy_id(px), [])))
    return out


def render_export(ctx: Ctx) -> str:
    """``;csv``, ``;typed`` and ``;json``: ``show stat``'s formats over the shown proxies."""
    hide = ctx.hide_maint or ctx.hide_down
    legends = ctx.st.show_legends
    parts: list[str] = []
    for _px, rows in selected(ctx):
        for kind, obj in rows:
            vals = csvstat.row_values(kind, obj, legends, hide)
            if ctx.fmt == "typed":
                parts.append(csvstat.typed_row(kind, obj, vals))
            elif ctx.fmt == "json":
                parts.append(csvstat.json_row(kind, obj, vals))
            else:
                parts.append("".join(csvstat.csv_field(v) + "," for v in vals) + "\n")
    if ctx.fmt == "json":
        return "[" + ",".join(parts) + "]\n"
    if ctx.fmt == "typed":
        return "".join(parts)
    return csvstat.header() + "".join(parts)


def json_schema() -> str:
    """``;json-schema``: a JSON schema of the ``;json`` output (and of ``show info json``)."""
    value = {"type": "object", "properties": {"type": {"type": "string", "enum": [
        "s32", "s64", "u32", "u64", "str", "flt"]}, "value": {}}, "required": ["type", "value"]}
    tags = {"type": "object", "properties": {
        "origin": {"type": "string", "enum": ["Metric", "Status", "Key", "Config", "Product"]},
        "nature": {"type": "string", "enum": ["Gauge", "Limit", "Min", "Max", "Rate", "Counter", "Duration",
                                              "Age", "Time", "Name", "Output", "Avg"]},
        "scope": {"type": "string", "enum": ["Process", "Service", "System", "Cluster"]}},
        "required": ["origin", "nature", "scope"]}
    field = {"type": "object", "properties": {"pos": {"type": "integer"}, "name": {"type": "string"}},
             "required": ["pos", "name"]}
    stat_item = {"type": "object", "properties": {
        "objType": {"type": "string", "enum": ["Frontend", "Backend", "Listener", "Server"]},
        "proxyId": {"type": "integer"}, "id": {"type": "integer"}, "field": field,
        "processNum": {"type": "integer"}, "tags": tags, "value": value},
        "required": ["objType", "proxyId", "id", "field", "processNum", "tags", "value"]}
    info_item = {"type": "object", "properties": {"field": field, "processNum": {"type": "integer"},
                                                  "tags": tags, "value": value},
                 "required": ["field", "processNum", "tags", "value"]}
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "oneOf": [
            {"title": "Info", "type": "array", "items": info_item},
            {"title": "Stat", "type": "array", "items": {"type": "array", "items": stat_item}},
        ],
    }
    return json.dumps(schema, separators=(",", ":")) + "\n"


# ============================================================== HTML helpers
def u2h(n: Any) -> str:
    """ulltoh_r(): a number with every digit before a group of three in ``span.rls``."""
    s = str(int(n or 0))
    out = []
    for i, ch in enumerate(reversed(s)):
        out.append(f'<span class="rls">{ch}</span>' if i and i % 3 == 0 else ch)
    return "".join(reversed(out))


def lim2a(n: Any, alt: str = "") -> str:
    """limit_r(): the number, or ``alt`` when it is 0 or empty."""
    return str(int(n)) if n else alt


def human_time(t: Any) -> str:
    """human_time(t, 1): at most two units among d, h, m, s; ``?`` when negative."""
    t = int(t or 0)
    if t < 0:
        return "?"
    out = ""
    cnt = 2
    if t >= 86400:
        out += f"{t // 86400}d"
        cnt -= 1
    if cnt and t % 86400 // 3600:
        out += f"{t % 86400 // 3600}h"
        cnt -= 1
    if cnt and t % 3600 // 60:
        out += f"{t % 3600 // 60}m"
        cnt -= 1
    if (cnt and t % 60) or not t:
        out += f"{t % 60}s"
    return out


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _pct(a: int, b: int) -> int:
    return int(100 * a / b) if b else 0


class Row:
    """The column values of one row, looked up by name."""

    __slots__ = ("kind", "obj", "vals")

    def __init__(self, kind: str, obj: Any) -> None:
        self.kind = kind
        self.obj = obj
        self.vals = csvstat.row_values(kind, obj, True, False)

    def v(self, name: str) -> Any:
        return self.vals[C.POS[name]]

    def n(self, name: str) -> int:
        """The number (0 for an empty field, as HAProxy's zeroed fields)."""
        v = self.vals[C.POS[name]]
        return int(v) if v is not None and not isinstance(v, str) else 0

    def s(self, name: str) -> str:
        v = self.vals[C.POS[name]]
        return "" if v is None else str(v)

    def h(self, name: str) -> str:
        return u2h(self.n(name))

    def has(self, name: str) -> bool:
        return self.vals[C.POS[name]] is not None


def _addr_tip(r: Row) -> str:
    addr = r.s("addr")
    if addr[:1].isdigit():
        return f"IPv4: {esc(addr)}, "
    if addr[:1] == "[":
        return f"IPv6: {esc(addr)}, "
    return f"{esc(addr)}, " if addr else ""


def _tip_table(lines: list[str]) -> str:
    return "<div class=tips><table class=det>" + "".join(lines) + "</table></div>"


def _th(label: str, *cells: str) -> str:
    return f"<tr><th>{label}</th>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _http_mode(r: Row) -> bool:
    return r.s("mode") == "http"


def _bytes_out(r: Row) -> str:
    cin, cout, byp, bout = r.n("comp_in"), r.n("comp_out"), r.n("comp_byp"), r.n("bout")
    u = cin or byp
    tips = _tip_table([
        _th("Response bytes in:", r.h("bout")),
        _th("Compression in:", r.h("comp_in")),
        _th("Compression out:", r.h("comp_out"), f"({_pct(cout, cin) if cin else 0}%)"),
        _th("Compression bypass:", r.h("comp_byp")),
        _th("Total bytes saved:", u2h(cin - cout), f"({_pct(cin - cout, bout) if bout else 0}%)"),
    ])
    return f"<td>{'<u>' if u else ''}{r.h('bout')}{tips}{'</u>' if u else ''}</td>"


def _timings(r: Row) -> list[str]:
    out = ["<tr><th colspan=3>Max / Avg over last 1024 success. conn.</th></tr>",
           _th("- Queue time:", f"{r.h('qtime_max')} / {r.h('qtime')}", "ms"),
           _th("- Connect time:", f"{r.h('ctime_max')} / {r.h('ctime')}", "ms")]
    if _http_mode(r):
        out.append(_th("- Responses time:", f"{r.h('rtime_max')} / {r.h('rtime')}", "ms"))
    out.append(_th("- Total time:", f"{r.h('ttime_max')} / {r.h('ttime')}", "ms"))
    return out


def _resets(r: Row) -> str:
    return (f"<td><u>{r.h('eresp')}<div class=tips>Connection resets during transfers: "
            f"{r.n('cli_abrt')} client, {r.n('srv_abrt')} server</div></u></td>")


# ============================================================== HTML rows
def frontend_row(r: Row, admin: bool) -> str:
    px = esc(r.s("pxname"))
    http = _http_mode(r)
    out = ['<tr class="frontend">']
    if admin:
        out.append("<td></td>")
    out.append(f'<td class=ac><a name="{px}/Frontend"></a><a class=lfsb href="#{px}/Frontend">Frontend</a></td>'
               "<td colspan=3></td>")
    cur = [_th("Current connection rate:", f"{r.h('conn_rate')}/s"), _th("Current session rate:", f"{r.h('rate')}/s")]
    mx = [_th("Max connection rate:", f"{r.h('conn_rate_max')}/s"), _th("Max session rate:", f"{r.h('rate_max')}/s")]
    if http:
        cur.append(_th("Current request rate:", f"{r.h('req_rate')}/s"))
        mx.append(_th("Max request rate:", f"{r.h('req_rate_max')}/s"))
    out.append(f"<td><u>{r.h('rate')}{_tip_table(cur)}</u></td>")
    out.append(f"<td><u>{r.h('rate_max')}{_tip_table(mx)}</u></td>")
    out.append(f"<td>{lim2a(r.n('rate_lim'), '-')}</td>")
    tot = [_th("Cum. connections:", r.h("conn_tot")), _th("Cum. sessions:", r.h("stot"))]
    if http:
        h2 = r.n("hrsp_2xx")
        lookups = r.n("cache_lookups")
        tot += [
            _th("Cum. HTTP requests:", r.h("req_tot")),
            _th("- HTTP 1xx responses:", r.h("hrsp_1xx")),
            _th("- HTTP 2xx responses:", r.h("hrsp_2xx")),
            _th("&nbsp;&nbsp;Compressed 2xx:", r.h("comp_rsp"), f"({_pct(r.n('comp_rsp'), h2)}%)"),
            _th("- HTTP 3xx responses:", r.h("hrsp_3xx")),
            _th("- HTTP 4xx responses:", r.h("hrsp_4xx")),
            _th("- HTTP 5xx responses:", r.h("hrsp_5xx")),
            _th("- other responses:", r.h("hrsp_other")),
            _th("Intercepted requests:", r.h("intercepted")),
            _th("Cache lookups:", r.h("cache_lookups")),
            _th("Cache hits:", r.h("cache_hits"), f"({_pct(r.n('cache_hits'), lookups)}%)"),
            _th("Failed hdr rewrites:", r.h("wrew")),
            _th("Internal errors:", r.h("eint")),
        ]
    out.append(f"<td>{r.h('scur')}</td><td>{r.h('smax')}</td><td>{r.h('slim')}</td>"
               f"<td><u>{r.h('stot')}{_tip_table(tot)}</u></td>")
    out.append(f"<td></td><td></td><td>{r.h('bin')}</td>")
    out.append(_bytes_out(r))
    out.append(f"<td>{r.h('dreq')}</td><td>{r.h('dresp')}</td><td>{r.h('ereq')}</td><td></td><td></td>"
               f"<td></td><td></td><td class=ac>{esc(r.s('status'))}</td><td class=ac colspan=8></td>")
    out.append("</tr>")
    return "".join(out)


def listener_row(r: Row, admin: bool, legends: bool) -> str:
    px, name = esc(r.s("pxname")), esc(r.s("svname"))
    out = ["<tr class=socket>"]
    if admin:
        out.append("<td></td>")
    out.append(f'<td class=ac><a name="{px}/+{name}"></a>{"<u>" if legends else ""}'
               f'<a class=lfsb href="#{px}/+{name}">{name}</a>')
    if legends:
        out.append(f"<div class=tips>{_addr_tip(r)}id: {r.n('sid')}</div>")
    out.append(f"{'</u>' if legends else ''}</td><td colspan=3></td><td colspan=3>&nbsp;</td>"
               f"<td>{r.h('scur')}</td><td>{r.h('smax')}</td><td>{r.h('slim')}</td>"
               f"<td>{r.h('stot')}</td><td>&nbsp;</td><td>&nbsp;</td><td>{r.h('bin')}</td><td>{r.h('bout')}</td>"
               f"<td>{r.h('dreq')}</td><td>{r.h('dresp')}</td><td>{r.h('ereq')}</td><td></td><td></td>"
               f"<td></td><td></td><td class=ac>{esc(r.s('status'))}</td><td class=ac colspan=8></td></tr>")
    return "".join(out)


def server_style(r: Row) -> str:
    """The row class of a server: ``maintain`` or ``<active|backup>_<state>``."""
    status = r.s("status")
    if status.startswith("MAINT"):
        return "maintain"
    if status in ("DOWN", "DOWN (agent)"):
        style = "down"
    elif status.startswith("DOWN "):
        style = "going_up"
    elif status == "DRAIN":
        style = "draining"
    elif status.startswith("NOLB "):
        style = "going_down"
    elif status == "NOLB":
        style = "nolb"
    elif status == "no check":
        style = "no_check"
    elif not r.has("chkfail") or r.n("check_health") == r.n("check_rise") + r.n("check_fall") - 1:
        style = "up" if r.n("weight") else "draining"
    else:
        style = "going_down"
    return ("backup_" if r.n("bck") else "active_") + style


def server_row(r: Row, admin: bool, legends: bool) -> str:
    px, name = esc(r.s("pxname")), esc(r.s("svname"))
    status = r.s("status")
    http = _http_mode(r)
    out = [f'<tr class="{server_style(r)}">']
    if admin:
        out.append(f"<td><input class='{px}-checkbox' type=\"checkbox\" name=\"s\" value=\"{name}\"></td>")
    out.append(f'<td class=ac><a name="{px}/{name}"></a>{"<u>" if legends else ""}'
               f'<a class=lfsb href="#{px}/{name}">{name}</a>')
    if legends:
        tip = f"<div class=tips>{_addr_tip(r)}id: {r.n('sid')}"
        if r.has("cookie"):
            tip += f", cookie: '{esc(r.s('cookie'))}'"
        out.append(tip + "</div>")
    out.append(f"{'</u>' if legends else ''}</td><td>{r.h('qcur')}</td><td>{r.h('qmax')}</td>"
               f"<td>{lim2a(r.n('qlimit'), '-')}</td><td>{r.h('rate')}</td><td>{r.h('rate_max')}</td><td></td>")
    conns = [
        _th("Current active connections:", r.h("scur")),
        _th("Current used connections:", r.h("used_conn_cur")),
        _th("Current idle connections:", r.h("srv_icur")),
        _th("- unsafe:", r.h("idle_conn_cur")),
        _th("- safe:", r.h("safe_conn_cur")),
        _th("Estimated need of connections:", r.h("need_conn_est")),
        _th("Active connections limit:", lim2a(r.n("slim"), "-")),
        _th("Idle connections limit:", r.h("src_ilim") if r.has("src_ilim") else "-"),
    ]
    tot = [_th("Cum. sessions:", r.h("stot"))]
    if http:
        req_tot = r.n("req_tot")
        connect, reuse = r.n("connect"), r.n("reuse")
        tot += [_th("New connections:", r.h("connect")),
                _th("Reused connections:", r.h("reuse"), f"({_pct(reuse, connect + reuse)}%)"),
                _th("Cum. HTTP requests:", r.h("req_tot"))]
        for name_, label in (("hrsp_1xx", "1xx"), ("hrsp_2xx", "2xx"), ("hrsp_3xx", "3xx"), ("hrsp_4xx", "4xx"),
                             ("hrsp_5xx", "5xx")):
            tot.append(_th(f"- HTTP {label} responses:", r.h(name_), f"({_pct(r.n(name_), req_tot)}%)"))
        tot += [_th("- other responses:", r.h("hrsp_other"), f"({_pct(r.n('hrsp_other'), req_tot)}%)"),
                _th("Failed hdr rewrites:", r.h("wrew")),
                _th("Internal error:", r.h("eint"))]
    tot += _timings(r)
    out.append(f"<td><u>{r.h('scur')}{_tip_table(conns)}</u></td><td>{r.h('smax')}</td>"
               f"<td>{lim2a(r.n('slim'), '-')}</td><td><u>{r.h('stot')}{_tip_table(tot)}</u></td>")
    out.append(f"<td>{r.h('lbtot')}</td><td>{human_time(r.v('lastsess') if r.has('lastsess') else 0)}</td>")
    out.append(f"<td>{r.h('bin')}</td><td>{r.h('bout')}</td><td></td><td>{r.h('dresp')}</td>"
               f"<td></td><td>{r.h('econ')}</td>{_resets(r)}<td>{r.n('wretr')}</td><td>{r.n('wredis')}</td>")
    # status, last check
    out.append("<td class=ac>")
    health, rise, fall = r.n("check_health"), r.n("check_rise"), r.n("check_fall")
    if status.startswith("MAINT"):
        out.append(f"{human_time(r.n('lastchg'))} MAINT")
    elif status == "no check":
        out.append("<i>no check</i>")
    else:
        out.append(f"{human_time(r.n('lastchg'))} {esc(status)}")
        if status.startswith("DOWN"):
            if health:
                out.append(" &uarr;")
        elif health < rise + fall - 1:
            out.append(" &darr;")
    if r.has("check_status"):
        out.append(f"</td><td class=ac><u> {esc(r.s('check_status'))}")
        if r.has("check_code"):
            out.append(f"/{r.n('check_code')}")
        if r.has("check_duration"):
            out.append(f" in {r.n('check_duration')}ms")
        out.append(f"<div class=tips>{esc(r.s('check_desc'))}")
        if r.s("last_chk"):
            out.append(": " + esc(r.s("last_chk")))
        out.append("</div></u>")
    else:
        out.append("</td><td>")
    bck = r.n("bck")
    out.append(f"</td><td class=ac>{r.n('weight')}/{r.n('uweight')}</td>"
               f"<td class=ac>{'-' if bck else 'Y'}</td><td class=ac>{'Y' if bck else '-'}</td>")
    if status == "MAINT (resolution)":
        out.append("<td class=ac colspan=3>resolution</td>")
    elif r.has("chkfail"):
        out.append(f"<td><u>{r.n('chkfail')}<div class=tips>Failed Health Checks</div></u></td>"
                   f"<td>{r.n('chkdown')}</td><td>{human_time(r.n('downtime'))}</td>")
    else:
        out.append("<td colspan=3></td>")
    if r.has("throttle"):
        out.append(f"<td class=ac>{r.n('throttle')} %</td>\n")
    else:
        out.append("<td class=ac>-</td>")
    out.append("</tr>\n")
    return "".join(out)


def backend_row(r: Row, admin: bool, legends: bool) -> str:
    px = esc(r.s("pxname"))
    http = _http_mode(r)
    out = ['<tr class="backend">']
    if admin:
        out.append("<td></td>")
    out.append(f'<td class=ac>{"<u>" if legends else ""}<a name="{px}/Backend"></a>'
               f'<a class=lfsb href="#{px}/Backend">Backend</a>')
    if legends:
        tip = f"<div class=tips>balancing: {esc(r.s('algo'))}"
        if r.has("cookie"):
            tip += f", cookie: '{esc(r.s('cookie'))}'"
        out.append(tip + "</div>")
    out.append(f"{'</u>' if legends else ''}</td><td>{r.h('qcur')}</td><td>{r.h('qmax')}</td><td></td>"
               f"<td>{r.h('rate')}</td><td>{r.h('rate_max')}</td><td></td>")
    tot = [_th("Cum. sessions:", r.h("stot"))]
    if http:
        connect, reuse = r.n("connect"), r.n("reuse")
        h2 = r.n("hrsp_2xx")
        lookups = r.n("cache_lookups")
        tot += [
            _th("New connections:", r.h("connect")),
            _th("Reused connections:", r.h("reuse"), f"({_pct(reuse, connect + reuse)}%)"),
            _th("Cum. HTTP requests:", r.h("req_tot")),
            _th("- HTTP 1xx responses:", r.h("hrsp_1xx")),
            _th("- HTTP 2xx responses:", r.h("hrsp_2xx")),
            _th("&nbsp;&nbsp;Compressed 2xx:", r.h("comp_rsp"), f"({_pct(r.n('comp_rsp'), h2)}%)"),
            _th("- HTTP 3xx responses:", r.h("hrsp_3xx")),
            _th("- HTTP 4xx responses:", r.h("hrsp_4xx")),
            _th("- HTTP 5xx responses:", r.h("hrsp_5xx")),
            _th("- other responses:", r.h("hrsp_other")),
            _th("Cache lookups:", r.h("cache_lookups")),
            _th("Cache hits:", r.h("cache_hits"), f"({_pct(r.n('cache_hits'), lookups)}%)"),
            _th("Failed hdr rewrites:", r.h("wrew")),
            _th("Internal errors:", r.h("eint")),
        ]
    tot += _timings(r)
    out.append(f"<td>{r.h('scur')}</td><td>{r.h('smax')}</td><td>{r.h('slim')}</td>"
               f"<td><u>{r.h('stot')}{_tip_table(tot)}</u></td>")
    out.append(f"<td>{r.h('lbtot')}</td><td>{human_time(r.v('lastsess') if r.has('lastsess') else 0)}</td>"
               f"<td>{r.h('bin')}</td>")
    out.append(_bytes_out(r))
    status = r.s("status")
    shown = '<font color="red"><b>DOWN</b></font>' if status == "DOWN" else esc(status)
    out.append(f"<td>{r.h('dreq')}</td><td>{r.h('dresp')}</td><td></td><td>{r.h('econ')}</td>{_resets(r)}"
               f"<td>{r.n('wretr')}</td><td>{r.n('wredis')}</td>"
               f"<td class=ac>{human_time(r.n('lastchg'))} {shown}</td><td class=ac>&nbsp;</td>"
               f"<td class=ac>{r.n('weight')}/{r.n('uweight')}</td><td class=ac>{r.n('act')}</td>"
               f"<td class=ac>{r.n('bck')}</td>")
    downtime = human_time(r.n("downtime")) if r.has("downtime") else "&nbsp;"
    out.append(f"<td class=ac>&nbsp;</td><td>{r.n('chkdown')}</td><td>{downtime}</td><td></td></tr>")
    return "".join(out)


ROW_RENDERERS: dict[str, Callable[[Row, bool, bool], str]] = {
    "fe": lambda r, admin, legends: frontend_row(r, admin),
    "li": listener_row,
    "srv": server_row,
    "be": backend_row,
}


# ============================================================== HTML page
_COLUMN_HEADS = ("<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th>"
                 "<th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th>"
                 "<th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n"
                 '<tr class="titre"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th>'
                 "<th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th>"
                 "<th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th>"
                 "<th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th>"
                 "<th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>")


def _cap(spec: Any) -> str:
    return {"frontend": "frontend", "backend": "backend"}.get(spec.kind, "proxy")


def proxy_table(ctx: Ctx, px: tuple[Any, Any, Any], rows: list[tuple[str, Any]]) -> str:
    """stats_dump_html_px_hdr() + rows + stats_dump_html_px_end() for one proxy."""
    spec, _fe, be = px
    legends = ctx.st.show_legends
    admin = ctx.admin
    form = admin and be is not None and bool(be.servers)
    name = esc(spec.name)
    iid = C.proxy_id(px)
    desc = spec.extra.get("description")
    out = []
    if form:
        out.append('<form method="post">')
    out.append('<table class="tbl" width="100%">\n<tr class="titre"><th class="pxname" width="10%">')
    out.append(f'<a name="{name}"></a>{"<u>" if legends else ""}<a class=px href="#{name}">{name}</a>')
    if legends:
        out.append(f"<div class=tips>cap: {_cap(spec)}, mode: {esc(spec.mode)}, id: {iid}</div>")
    out.append(f'{"</u>" if legends else ""}</th><th class="{"desc" if desc else "empty"}" width="90%">'
               f'{esc(desc) if desc else ""}</th></tr>\n</table>\n<table class="tbl" width="100%">\n'
               '<tr class="titre">')
    if admin:
        if form:
            out.append('<th rowspan=2 width=1><input type="checkbox" '
                       f"onclick=\"for(c in document.getElementsByClassName('{name}-checkbox')) "
                       f"document.getElementsByClassName('{name}-checkbox').item(c).checked = this.checked\"></th>")
        else:
            out.append("<th rowspan=2></th>")
    out.append(_COLUMN_HEADS)
    for kind, obj in rows:
        out.append(ROW_RENDERERS[kind](Row(kind, obj), admin, legends))
    out.append("</table>")
    if form:
        options = "".join(f'<option value="{v}">{label}</option>' for v, label in ACTIONS)
        out.append('Choose the action to perform on the checked servers : <select name=action>'
                   f'<option value=""></option>{options}</select>'
                   f'<input type="hidden" name="b" value="#{iid}">'
                   '&nbsp;<input type="submit" value="Apply"></form>')
    out.append("<p>\n")
    return "".join(out)


#: HAProxy's stylesheet rules: the class names and colours scripts and users know
STYLE = """\
body { font-family: arial, helvetica, sans-serif; font-size: 12px; font-weight: normal; color: black; background: white;}
th,td { font-size: 10px;}
h1 { font-size: x-large; margin-bottom: 0.5em;}
h2 { font-family: helvetica, arial; font-size: x-large; font-weight: bold; font-style: italic; color: #6020a0; \
margin-top: 0em; margin-bottom: 0em;}
h3 { font-family: helvetica, arial; font-size: 16px; font-weight: bold; color: #b00040; background: #e8e8d0; \
margin-top: 0em; margin-bottom: 0em;}
li { margin-top: 0.25em; margin-right: 2em;}
.hr {margin-top: 0.25em; border-color: black; border-bottom-style: solid;}
.titre {background: #20D0D0; color: #000000; font-weight: bold; text-align: center;}
.total {background: #20D0D0; color: #ffff80;}
.frontend {background: #e8e8d0;}
.socket {background: #d0d0d0;}
.backend {background: #e8e8d0;}
.active_down {background: #ff9090;}
.active_going_up {background: #ffd020;}
.active_going_down {background: #ffffa0;}
.active_up {background: #c0ffc0;}
.active_nolb {background: #20a0ff;}
.active_draining {background: #20a0FF;}
.active_no_check {background: #e0e0e0;}
.backup_down {background: #ff9090;}
.backup_going_up {background: #ff80ff;}
.backup_going_down {background: #c060ff;}
.backup_up {background: #b0d0ff;}
.backup_nolb {background: #90b0e0;}
.backup_draining {background: #cc9900;}
.backup_no_check {background: #e0e0e0;}
.maintain {background: #c07820;}
.rls {letter-spacing: 0.2em; margin-right: 1px;}
a.px:link, a.px:visited {color: #ffff40; text-decoration: none;}
a.px:hover {color: #ffffff; text-decoration: none;}
a.lfsb:link, a.lfsb:visited {color: #000000; text-decoration: none;}
a.lfsb:hover {color: #505050; text-decoration: none;}
table.tbl { border-collapse: collapse; border-style: none;}
table.tbl td { text-align: right; border: 1px solid gray; padding: 2px 3px; white-space: nowrap;}
table.tbl td.ac { text-align: center;}
table.tbl th { border: 1px solid gray;}
table.tbl th.pxname { background: #b00040; color: #ffff40; font-weight: bold; border-style: solid solid none solid; \
padding: 2px 3px; white-space: nowrap;}
table.tbl th.empty { border-style: none; empty-cells: hide; background: white;}
table.tbl th.desc { background: white; border-style: solid solid none solid; text-align: left; padding: 2px 3px;}
table.lgd { border-collapse: collapse; border-width: 1px; border-style: none none none solid; border-color: black;}
table.lgd td { border: 1px solid gray; padding: 2px;}
table.lgd td.noborder { border-style: none; padding: 2px; white-space: nowrap;}
table.det { border-collapse: collapse; border-style: none; }
table.det th { text-align: left; border-width: 0px; padding: 0px 1px 0px 0px; font-style: normal; font-size: 11px; \
font-weight: bold; font-family: sans-serif;}
table.det td { text-align: right; border-width: 0px; padding: 0px 0px 0px 4px; white-space: nowrap; \
font-style: normal; font-size: 11px; font-weight: normal;}
u {text-decoration: none; border-bottom: 1px dotted black;}
div.tips { display: block; visibility: hidden; z-index: 2147483647; position: absolute; padding: 2px 4px 3px; \
background: #f0f060; color: #000000; border: 1px solid #7040c0; white-space: nowrap; font-style: normal; \
font-size: 11px; font-weight: normal; border-radius: 3px; box-shadow: gray 2px 2px 3px;}
u:hover div.tips {visibility: visible;}
@media (prefers-color-scheme: dark) {
 body { color: #e8e6e3; background: #131516;}
 h1 { color: #a265e0!important; }
 h2 { color: #a265e0; }
 h3 { color: #ff5190; background-color: #3e3e1f; }
 a { color: #3391ff; }
 input { background-color: #2f3437; }
 .hr { border-color: #8c8273; }
 .titre { background-color: #1aa6a6; color: #e8e6e3; }
 .frontend, .backend {background: #2f3437;}
 .socket {background: #2a2d2f;}
 .active_down, .backup_down {background: #760000;}
 .active_going_up {background: #b99200;}
 .active_going_down {background: #6c6c00;}
 .active_up {background: #165900;}
 .active_nolb, .active_draining {background: #006ab9;}
 .active_no_check, .backup_no_check {background: #2a2d2f;}
 .backup_going_up {background: #7f007f;}
 .backup_going_down {background: #580092;}
 .backup_up {background: #2e3234;}
 .backup_nolb {background: #1e3c6a;}
 .backup_draining {background: #a37a00;}
 .maintain {background: #9a601a;}
 a.px:link, a.px:visited {color: #d8d83b;}
 a.px:hover {color: #ffffff;}
 a.lfsb:link, a.lfsb:visited {color: #e8e6e3;}
 a.lfsb:hover {color: #b5afa6;}
 table.tbl th.empty { background-color: #181a1b; }
 table.tbl th.desc { background: #181a1b; }
 table.tbl th.pxname { background-color: #8d0033; color: #ffff46; }
 table.tbl th, table.tbl td { border-color: #808080; }
 u {border-bottom: 1px dotted #e8e6e3;}
 div.tips { background: #8e8e0d; color: #e8e6e3; border-color: #4e2c86; box-shadow: #60686c 2px 2px 3px; }
}
"""

LEGEND = (
    '<table class="lgd"><tr>\n'
    '<td class="active_up">&nbsp;</td><td class="noborder">active UP </td>'
    '<td class="backup_up">&nbsp;</td><td class="noborder">backup UP </td></tr><tr>\n'
    '<td class="active_going_down"></td><td class="noborder">active UP, going down </td>'
    '<td class="backup_going_down"></td><td class="noborder">backup UP, going down </td></tr><tr>\n'
    '<td class="active_going_up"></td><td class="noborder">active DOWN, going up </td>'
    '<td class="backup_going_up"></td><td class="noborder">backup DOWN, going up </td></tr><tr>\n'
    '<td class="active_down"></td><td class="noborder">active or backup DOWN &nbsp;</td>'
    '<td class="active_no_check"></td><td class="noborder">not checked </td></tr><tr>\n'
    '<td class="maintain"></td><td class="noborder" colspan="3">active or backup DOWN for maintenance (MAINT) &nbsp;'
    "</td></tr><tr>\n"
    '<td class="active_draining"></td><td class="noborder" colspan="3">active or backup SOFT STOPPED for '
    "maintenance &nbsp;</td></tr></table>\n"
    'Note: "NOLB"/"DRAIN" = UP with load-balancing disabled.'
)

#: the result box of an admin action: code -> (class, message)
RESULT_BOXES = {
    "DONE": ("active_up", "Action processed successfully."),
    "NONE": ("active_going_down", "Nothing has changed."),
    "PART": ("active_going_down", ("Action partially processed.<br>Some server names are probably unknown or "
                                  "ambiguous (duplicated names in the backend).")),
    "ERRP": ("active_down", ("Action not processed because of invalid parameters.<ul><li>The action is maybe "
                            "unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name "
                            "is probably unknown or ambiguous (duplicated names).</li><li>Some server names are "
                            "probably unknown or ambiguous (duplicated names in the backend).</li></ul>")),
    "EXCD": ("active_down", ("<b>Action not processed : the buffer couldn't store all the data.<br>You should retry "
                            "with less servers at a time.</b>")),
    "DENY": ("active_down", "<b>Action denied.</b>"),
    "IVAL": ("active_down", "<b>Invalid requests (unsupported method or chunked encoded request).</b>"),
}


def _node(ctx: Ctx) -> str:
    import socket

    return ctx.st.node or ctx.process.model.glob.node or socket.gethostname()


def _desc(ctx: Ctx) -> str:
    return ctx.st.desc or ctx.process.model.glob.description or ""


def info_block(ctx: Ctx) -> str:
    """stats_dump_html_info(): the process block, the legend and the display options."""
    p = ctx.process
    st = ctx.st
    pid = os.getpid()
    up = max(0, int(time.time() - p.start_time))
    node = f" on {esc(_node(ctx))}" if st.show_node else ""
    desc = f": {esc(_desc(ctx))}" if st.show_desc else ""
    version = "" if st.hide_version else f" version {esc(__version__)}"
    conn_rate = sum(fe.conn_rate.rate() for fe in getattr(p, "frontends", ()))
    uri = esc(st.uri)
    scope_txt = esc(ctx.scope_txt)
    out = [
        f"<body><h1>{PRODUCT_NAME}{version}</h1>\n",
        f"<h2>Statistics Report for pid {pid}{node}{desc}</h2>\n",
        '<hr width="100%" class="hr">\n<h3>&gt; General process information</h3>\n',
        '<table border=0><tr><td align="left" nowrap width="1%">\n',
        f"<p><b>pid = </b> {pid} (process #1, nbproc = 1, nbthread = 1)<br>\n",
        f"<b>uptime = </b> {up // 86400}d {up % 86400 // 3600}h{up % 3600 // 60:02d}m{up % 60:02d}s<br>\n",
        f"<b>system limits:</b> memmax = unlimited; ulimit-n = {p.nofile}<br>\n",
        f"<b>maxsock = </b> {p.nofile}; <b>maxconn = </b> {p.maxconn}; <b>maxpipes = </b> 0<br>\n",
        f"current conns = {p.actconn}; current pipes = 0/0; conn rate = {conn_rate}/sec<br>\n",
        '</td><td align="center" nowrap>\n',
        LEGEND,
        ('</td><td align="left" valign="top" nowrap width="1%"><b>Display option:</b>'
        '<ul style="margin-top: 0.25em;">'),
        (f'<li><form method="GET">Scope : <input value="{esc(ctx.scope)}" name="scope" size="8" '
        f'maxlength="{SCOPE_MAXLEN}" tabindex="1"/></form>\n'),
    ]
    if ctx.hide_down:
        out.append(f'<li><a href="{uri}{ctx.keep(up=False)}{scope_txt}">Show all servers</a><br>\n')
    else:
        out.append(f'<li><a href="{uri}{ctx.keep(up=True)}{scope_txt}">Hide \'DOWN\' servers</a><br>\n')
    if st.refresh > 0:
        if ctx.no_refresh:
            out.append(f'<li><a href="{uri}{ctx.keep(norefresh=False)}{scope_txt}">Enable refresh</a><br>\n')
        else:
            out.append(f'<li><a href="{uri}{ctx.keep(norefresh=True)}{scope_txt}">Disable refresh</a><br>\n')
    out.append(f'<li><a href="{uri}{ctx.keep()}{scope_txt}">Refresh now</a><br>\n')
    nr = ";norefresh" if st.refresh > 0 else ""
    out.append(f'<li><a href="{uri};csv{nr}{scope_txt}">CSV export</a><br>\n')
    out.append(f'<li><a href="{uri};json{nr}{scope_txt}">JSON export</a> (<a href="{uri};json-schema">schema</a>)'
               "<br>\n")
    out.append('</ul></td><td align="left" valign="top" nowrap width="1%"><b>External resources:</b>'
               '<ul style="margin-top: 0.25em;">\n'
               f'<li><a href="{DOCS_URL}configuration.html">Configuration manual (HAProxy 2.6)</a><br>\n'
               f'<li><a href="{DOCS_URL}management.html">Management guide (HAProxy 2.6)</a><br>\n'
               "</ul></td></tr></table>\n")
    if ctx.st_code:
        cls, msg = RESULT_BOXES.get(ctx.st_code, ("active_no_check", "Unexpected result."))
        out.append(f'<p><div class={cls}><a class=lfsb href="{uri}{ctx.keep()}{scope_txt}" '
                   f'title="Remove this message">[X]</a> {msg}</div>\n<p>\n')
    return "".join(out)


def render_html(ctx: Ctx) -> str:
    """The whole HTML page."""
    st = ctx.st
    node = f" on {esc(_node(ctx))}" if st.show_node else ""
    out = [
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"\n"http://www.w3.org/TR/html4/loose.dtd">\n',
        f"<html><head><title>Statistics Report for {PRODUCT_NAME}{node}</title>\n",
        '<link rel="icon" href="data:,">\n',
        '<meta http-equiv="content-type" content="text/html; charset=utf-8">\n',
        f'<style type="text/css"><!--\n{STYLE}-->\n</style></head>\n',
        info_block(ctx),
    ]
    for px, rows in selected(ctx):
        out.append(proxy_table(ctx, px, rows))
    out.append("</body></html>\n")
    return "".join(out)


# ============================================================== admin actions
def dechunk(data: bytes) -> bytes:
    """The payload of a chunked body (chunk extensions and trailers dropped)."""
    out = []
    i = 0
    while True:
        eol = data.find(b"\r\n", i)
        if eol < 0:
            break
        size_text = data[i:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            break
        if size == 0:
            break
        out.append(data[eol + 2:eol + 2 + size])
        i = eol + 2 + size + 2
    return b"".join(out)


def _params(body: bytes) -> list[tuple[str, str]] | None:
    """The form's ``key=value`` pairs in order; None when a key is too long."""
    out = []
    for part in body.decode("latin-1").split("&"):
        if len(part) >= 2048:
            return None
        key, _, value = part.partition("=")
        out.append((unquote_plus(key, "latin-1"), unquote_plus(value, "latin-1")))
    return out


def _find_backend(process: Any, name: str) -> Any:
    """proxy_be_by_name(): ``#<id>`` or a name naming exactly one backend."""
    bes = getattr(process, "backends", ())
    if name.startswith("#"):
        try:
            pid = int(name[1:])
        except ValueError:
            return None
        found = [b for b in bes if b.id == pid]
    else:
        found = [b for b in bes if b.name == name]
    return found[0] if len(found) == 1 else None


def _find_server(be: Any, name: str) -> Any:
    """findserver(): the server of that name, None if unknown or ambiguous."""
    found = [s for s in be.servers if s.name == name]
    return found[0] if len(found) == 1 else None


def _force_health(srv: Any, what: str) -> None:
    """``Health: force UP/NOLB/DOWN``: as ``set server <srv> health``, from the Web."""
    from ..admin import commands

    chk = srv.check
    if chk is not None:
        chk.health = 0 if what == "down" else chk.rise + chk.fall - 1
    commands._set_unchecked_health(srv, what != "down")  # what 'show servers state' prints
    if what == "up":
        srv.set_running(WEB_REASON)
    elif what == "nolb":
        srv.set_stopping(WEB_REASON)
    else:
        srv.set_stopped(WEB_REASON)


def apply_action(action: str, be: Any, srv: Any) -> bool:
    """One action on one server through the Server methods (the admin socket's helpers for
    ``set server <srv> state``); True when it counts as done."""
    from ..admin import commands

    chk = srv.check
    if action == "ready":
        commands.set_ready(srv)
    elif action == "drain":
        commands.set_drain(srv)
    elif action == "maint":
        commands.set_maint(srv)
    elif action == "shutdown":
        if be.spec.disabled:
            return False
        be.shutdown_sessions(srv, "K")
    elif action in ("dhlth", "ehlth"):
        if chk is None or not chk.configured:
            return False
        chk.paused = action == "dhlth"
    elif action == "hrunn":
        _force_health(srv, "up")
    elif action == "hnolb":
        _force_health(srv, "nolb")
    elif action == "hdown":
        _force_health(srv, "down")
    elif action in ("dagent", "eagent", "arunn", "adown"):
        return False  # gproxy has no agent checks: never configured
    elif action == "disable":
        if srv.admin & FMAINT:
            return False
        srv.set_admin(FMAINT, "'disable' on stats page")
    elif action == "enable":
        if not srv.admin & FMAINT:
            return False
        srv.clear_admin(FMAINT)
    elif action == "stop":
        if srv.admin & FDRAIN:
            return False
        srv.set_admin(FDRAIN, "'stop' on stats page")
    elif action == "start":
        if not srv.admin & FDRAIN:
            return False
        srv.clear_admin(FDRAIN)
    return True


_ACTION_NAMES = frozenset(a for a, _ in ACTIONS) | frozenset(LEGACY_ACTIONS)


def process_post(process: Any, body: bytes) -> str:
    """stats_process_http_post(): apply the form and return the result code.

    Parameters are read from the last to the first, so that the last ``b`` and ``action``
    win; server names read before both are known are processed once they are.
    """
    params = _params(body)
    if params is None:
        return "ERRP"
    be = None
    action = ""
    total = altered = 0
    pending: int | None = None
    i = len(params) - 1
    while i >= 0:
        key, value = params[i]
        if be is None and key == "b":
            be = _find_backend(process, value)
            if be is None:
                return "ERRP"
        elif not action and key == "action":
            if value not in _ACTION_NAMES:
                return "ERRP"
            action = value
        elif key == "s":
            if be is None or not action:
                if pending is None:
                    pending = i
            else:
                srv = _find_server(be, value)
                total += 1
                if srv is not None and apply_action(action, be, srv):
                    altered += 1
                elif srv is not None:
                    total -= 1  # a server the action does not apply to is not counted
        if pending is not None and be is not None and action:
            i, pending = pending, None
            continue
        i -= 1
    if total == 0:
        return "NONE"
    if altered == 0:
        return "ERRP"
    return "DONE" if altered == total else "PART"
