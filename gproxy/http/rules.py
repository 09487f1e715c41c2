"""``http-request``, ``http-response``, ``http-after-response`` and ``tcp-request`` rules.

Owns the keywords (HAProxy 2.6's syntax and error texts, ``src/http_act.c``,
``src/http_rules.c``, ``src/http_htx.c`` for replies, ``src/tcp_rules.c``), the compiled
rule objects stored in ``Proxy.http_request`` & co, and their evaluation for the HTTP
engine:

* ``run_http_request(rules, txn)`` / ``run_http_response(rules, txn)`` return a
  ``Verdict`` (``allow``, ``deny``, ``return``, ``redirect``, ``auth``, ``reject``,
  ``tarpit``, ``use-service``; or the engine's own when a ``wait-for-body`` rule gave up)
  or None to go on;
* ``run_http_after_response(rules, txn)`` edits ``txn.rsp`` (also generated responses);
* ``run_tcp_connection(rules, sess)`` / ``run_tcp_content(rules, sess, txn)`` return
  False to reject;
* ``verdict_response_bytes(verdict)`` renders a verdict's response as HAProxy puts it
  on the wire (lower-case header names, the H1 mux's connection header).

Header values, bodies and redirect targets are log-format strings (``%[sample]``,
``%ci`` ...): see ``sample.compile_logformat``.  Rules from a named ``defaults`` section
come first in a proxy's lists (copied when the proxy is created), as HAProxy runs them
first.

Pure module: no sockets, never yields itself.  ``wait-for-body`` asks the engine to read
more of the body through ``txn.waiter``, which blocks the session's greenlet until the
body (or enough of it) is there; ``early-hint`` hands its ``103 Early Hints`` to the
engine through ``txn.interim``; ``set-timeout`` leaves its value in ``txn.t_server`` /
``txn.t_tunnel`` for the engine's waits.  Files named by ``file``/``lf-file`` are read at
configuration time.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from .. import stkctr
from ..config import values
from ..config.parser import AT_READCFG, config_error
from ..registry import DEFAULTS, PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx
from . import acl as aclmod
from . import parse
from . import sample as smp
from .message import Headers, Response
from .sample import SampleError

__all__ = [
    "REASONS",
    "ReplyResponse",
    "Rule",
    "Verdict",
    "http_reason",
    "run_http_after_response",
    "run_http_request",
    "run_http_response",
    "run_tcp_connection",
    "run_tcp_content",
    "verdict_response_bytes",
]


# --------------------------------------------------------------------------------------
# status reasons (src/http.c http_get_reason)

REASONS: dict[int, str] = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing", 200: "OK", 201: "Created",
    202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content", 205: "Reset Content",
    206: "Partial Content", 207: "Multi-Status", 210: "Content Different", 226: "IM Used",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
    310: "Too many Redirects", 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Time-out", 409: "Conflict", 410: "Gone",
    411: "Length Required", 412: "Precondition Failed", 413: "Request Entity Too Large",
    414: "Request-URI Too Long", 415: "Unsupported Media Type", 416: "Requested range unsatisfiable",
    417: "Expectation failed", 418: "I'm a teapot", 421: "Misdirected Request", 422: "Unprocessable Content",
    423: "Locked", 424: "Method failure", 425: "Too Early", 426: "Upgrade Required",
    428: "Precondition Required", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
    449: "Retry With", 450: "Blocked by Windows Parental Controls", 451: "Unavailable For Legal Reasons",
    456: "Unrecoverable Error", 499: "client has closed connection", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway or Proxy Error", 503: "Service Unavailable",
    504: "Gateway Time-out", 505: "HTTP Version not supported", 506: "Variant also negotiate",
    507: "Insufficient storage", 508: "Loop detected", 509: "Bandwidth Limit Exceeded", 510: "Not extended",
    511: "Network authentication required", 520: "Web server is returning an unknown error",
}


def http_reason(status: int) -> str:
    """http_get_reason(): the reason phrase HAProxy writes for ``status``."""
    r = REASONS.get(status)
    if r is not None:
        return r
    for lo, text in ((100, "Informational"), (200, "Success"), (300, "Redirection"), (400, "Client Error"),
                     (500, "Server Error")):
        if lo <= status <= lo + 99:
            return text
    return "Other"


#: status codes HAProxy has a built-in error page for (http_err_codes)
ERR_CODES = (200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504)
LOG_LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")


# --------------------------------------------------------------------------------------
# verdicts and generated responses


class ReplyResponse(Response):
    """A response gproxy generates (deny, return, redirect, auth pages): a ``Response``
    with its ``body`` bytes.  ``close`` is set when the message forces the connection to
    close after it (errorfile with ``Connection: close`` or no length)."""

    __slots__ = ("body", "close", "has_len")

    def __init__(self, status: int, reason: str = "", version: str = "HTTP/1.1", headers: Headers | None = None,
                 body: bytes = b"", close: bool = False, has_len: bool = True) -> None:
        super().__init__(status, reason, version, headers)
        self.body = body
        self.close = close
        self.has_len = has_len
        self.body_len = len(body) if has_len else None


class Verdict:
    """The final decision of a rule set.

    ``kind``: 'allow' (stop evaluating rules, go on), 'deny', 'return', 'redirect',
    'auth', 'tarpit' (send ``response`` after ``timeout tarpit``), 'reject' (close
    without a response), 'silent-drop' (close without a response, FIN or reset),
    'use-service' (hand the request to ``service``).
    ``status`` is what the logs show (0 for reject/allow); ``realm`` is set for auth.
    """

    __slots__ = ("kind", "realm", "response", "rule", "service", "status")

    def __init__(self, kind: str, status: int = 0, response: ReplyResponse | None = None, service: str | None = None,
                 realm: str | None = None, rule: Any = None) -> None:
        self.kind = kind
        self.status = status
        self.response = response
        self.service = service
        self.realm = realm
        self.rule = rule

    def __repr__(self) -> str:
        return f"Verdict({self.kind!r}, {self.status})"


_ALLOW = Verdict("allow")
_REJECT = Verdict("reject")
_SILENT_DROP = Verdict("silent-drop")


def _conn_header(keep_alive: bool, req_minor: int, rsp_minor: int) -> str:
    """The connection header HAProxy's H1 mux appends (errors.conn_header's rule)."""
    if not keep_alive:
        return "connection: close\r\n" if rsp_minor else ""
    if not rsp_minor or not req_minor:
        return "connection: keep-alive\r\n"
    return ""


def verdict_response_bytes(verdict: Verdict, keep_alive: bool = True, req_minor: int = 1, head_only: bool = False,
                           body_pending: bool = False) -> bytes:
    """The bytes HAProxy 2.6 sends for a verdict's response (b'' when there is none).

    ``keep_alive``: the connection is to stay open (False appends ``connection: close``);
    ``req_minor``: the request's HTTP minor version (an HTTP/1.0 client that keeps the
    connection gets ``connection: keep-alive``); ``head_only`` for HEAD requests;
    ``body_pending``: the request body was not fully received, in which case HAProxy
    closes after a redirect (and says so first thing in its headers).  Run
    ``http-after-response`` rules on ``verdict.response`` before calling this.
    """
    r = verdict.response
    if r is None or not hasattr(r, "version"):  # none, or an empty errorfile's EmptyReply
        return b""
    rsp_minor = 0 if r.version == "HTTP/1.0" else 1
    ka = keep_alive and not r.close and r.has_len
    out = [f"{r.version} {r.status} {r.reason}\r\n"]
    if body_pending and verdict.kind == "redirect":
        out.append("connection: close\r\n")
        ka = False
        hdr = ""
    else:
        hdr = _conn_header(ka, req_minor, rsp_minor)
    for k, v in r.headers.items:
        out.append(f"{k}: {v}\r\n")
    out.append(hdr)
    out.append("\r\n")
    head = "".join(out).encode("latin-1")
    return head if head_only else head + r.body


def _specs(sess: Any) -> tuple[Any, Any]:
    be = getattr(sess, "backend", None) if sess is not None else None
    fe = getattr(sess, "frontend", None) if sess is not None else None
    return getattr(be, "spec", None), getattr(fe, "spec", None)


def error_page(status: int, sess: Any, txn: Any = None) -> Any:
    """The proxy's page for ``status`` (backend errorfile or ``http-error``, frontend's,
    built-in): a ReplyResponse, or the ``errors.EmptyReply`` of an empty errorfile as it
    is (the engine sends nothing for it and closes, as HAProxy does).  An ``http-error``
    page with log-format parts is rendered for ``txn`` (default: ``sess.txn``)."""
    from . import errors

    be_spec, fe_spec = _specs(sess)
    rep = errors.reply(status, be_spec, fe_spec, txn if txn is not None else getattr(sess, "txn", None), sess)
    if isinstance(rep, errors.EmptyReply):
        return rep
    return _from_reply(rep)


def _from_reply(rep: Any) -> ReplyResponse:
    h = Headers([(k.lower(), v) for k, v in rep.headers])
    version = "HTTP/1.1" if getattr(rep, "minor", 1) else "HTTP/1.0"
    return ReplyResponse(rep.status, rep.reason, version, h, rep.body, close=rep.close, has_len=rep.has_len)


# --------------------------------------------------------------------------------------
# rules


class Rule:
    """One compiled rule.  ``run(sess, txn)`` returns a Verdict or None."""

    __slots__ = ("action", "cond", "file", "final", "line", "order", "owner", "run", "text")

    def __init__(self, action: str, run: Callable[[Any, Any], Verdict | None], cond: aclmod.Cond | None = None,
                 file: str = "", line: int = 0, final: bool = False, order: int = 0, text: str = "",
                 owner: str = "") -> None:
        self.action = action
        self.run = run
        self.cond = cond
        self.file = file
        self.line = line
        self.final = final
        self.order = order  # 0: rule; 1/2: translated legacy req*/rsp* (run after the others)
        self.text = text
        self.owner = owner

    def __repr__(self) -> str:
        return f"Rule({self.action!r} at {self.file}:{self.line})"


def _run(rules: list[Rule], sess: Any, txn: Any) -> Verdict | None:
    for r in rules:
        c = r.cond
        if c is not None and not c.match(sess, txn):
            continue
        v = r.run(sess, txn)
        if v is not None:
            return v
    return None


def run_http_request(rules: list[Rule], txn: Any) -> Verdict | None:
    """Evaluate ``http-request`` rules on ``txn.req``; None means no final verdict."""
    if not rules:
        return None
    return _run(rules, txn.sess, txn)


def run_http_response(rules: list[Rule], txn: Any) -> Verdict | None:
    """Evaluate ``http-response`` rules on ``txn.rsp``; None means no final verdict."""
    if not rules:
        return None
    return _run(rules, txn.sess, txn)


def run_http_after_response(rules: list[Rule], txn: Any) -> None:
    """Evaluate ``http-after-response`` rules on ``txn.rsp`` (served or generated)."""
    if rules:
        _run(rules, txn.sess, txn)


def run_tcp_connection(rules: list[Rule], sess: Any) -> bool:
    """``tcp-request connection`` then ``tcp-request session`` rules (one list, the
    session rules' text starting with "session"): False if the connection is to be
    rejected (the counters it tracked are released then); an ``accept`` ends its own
    rule set only.  A session that passes has its tracked counters' ``sess_cnt`` and
    ``sess_rate`` counted."""
    skip_conn = False
    for r in rules:
        if skip_conn and not r.text.startswith("session"):
            continue
        c = r.cond
        if c is not None and not c.match(sess, None):
            continue
        v = r.run(sess, None)
        if v is not None:
            if v.kind == "reject":
                if sess.stkctr is not None:
                    stkctr.end_session(sess)
                return False
            if r.text.startswith("session"):
                break
            skip_conn = True
    if sess.stkctr is not None:
        stkctr.count_session(sess)
    return True


def run_tcp_content(rules: list[Rule], sess: Any, txn: Any = None) -> bool:
    """``tcp-request content`` rules: False if the connection is to be rejected."""
    for r in rules:
        c = r.cond
        if c is not None and not c.match(sess, txn):
            continue
        v = r.run(sess, txn)
        if v is not None:
            return v.kind != "reject"
    return True


# --------------------------------------------------------------------------------------
# parsing helpers


class ActionError(Exception):
    """An action parse error (the ``<err>`` of "error detected in ... rule : <err>.")."""


class Pc:
    """Parse context of one rule line."""

    def __init__(self, ctx: KwCtx, ruleset: str, words: list[str]) -> None:
        self.ctx = ctx
        self.ruleset = ruleset  # 'http-request' | 'http-response' | 'http-after-response' | ...
        self.words = words
        self.proxy = ctx.proxy
        self.side = "res" if ruleset in ("http-response", "http-after-response") else "req"
        self.pctx = aclmod.parse_ctx(ctx, ruleset, "in http-request expression in" if self.side == "req"
                                     else "in http-response response in")

    def arg(self, i: int) -> str:
        return self.words[i] if i < len(self.words) else ""

    def is_end(self, i: int) -> bool:
        w = self.arg(i)
        return not w or w in ("if", "unless")

    def lf(self, fmt: str, http: bool = True) -> Callable[[Any, Any], str]:
        try:
            return smp.compile_logformat(fmt, self.pctx, mode="http", http=http)
        except ValueError as e:
            raise ActionError(str(e)) from None

    def regex(self, text: str, icase: bool = False) -> re.Pattern[str]:
        try:
            return smp.compile_regex(text, icase)
        except SampleError as e:
            raise ActionError(str(e)) from None


def _msg(side: str, txn: Any) -> Any:
    return txn.req if side == "req" else txn.rsp


# ---- header actions -------------------------------------------------------------------


def _a_add_set_header(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    hname, fmt = pc.arg(i), pc.arg(i + 1)
    if not hname or not fmt:
        raise ActionError("expects exactly 2 arguments")
    render = pc.lf(fmt)
    side = pc.side
    lname = hname.lower()
    if name == "add-header":
        def run(sess: Any, txn: Any) -> None:
            m = _msg(side, txn)
            if m is not None:
                m.headers.items.append((lname, render(sess, txn)))
    else:
        def run(sess: Any, txn: Any) -> None:
            m = _msg(side, txn)
            if m is not None:
                v = render(sess, txn)
                m.headers.delete(lname)
                m.headers.items.append((lname, v))
    return run, i + 2


def _name_matcher(name: str, how: str, pc: Pc) -> Callable[[str], bool]:
    low = name.lower()
    if how == "str":
        return lambda k: k == low
    if how == "beg":
        return lambda k: k.startswith(low)
    if how == "end":
        return lambda k: k.endswith(low)
    if how == "sub":
        return lambda k: low in k
    rx = pc.regex(name)
    return lambda k: rx.search(k) is not None


def _a_del_header(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    hname = pc.arg(i)
    if not hname:
        raise ActionError("expects at least 1 argument")
    how = "str"
    if pc.arg(i + 1) == "-m":
        if not pc.arg(i + 2):
            raise ActionError("-m flag expects exactly 1 argument")
        how = pc.arg(i + 2)
        if how not in ("str", "beg", "end", "sub", "reg"):
            raise ActionError(f"-m with unsupported matching method '{how}'")
        i += 2
    match = _name_matcher(hname, how, pc)
    side = pc.side

    def run(sess: Any, txn: Any) -> None:
        m = _msg(side, txn)
        if m is not None:
            m.headers.items = [(k, v) for k, v in m.headers.items if not match(k)]

    return run, i + 1


def _a_replace_header(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    if not pc.arg(i) or not pc.arg(i + 1) or not pc.arg(i + 2):
        raise ActionError("expects exactly 3 arguments")
    hname = pc.arg(i).lower()
    rx = pc.regex(pc.arg(i + 1))
    render = pc.lf(pc.arg(i + 2))
    side = pc.side
    full = name == "replace-header"

    def run(sess: Any, txn: Any) -> None:
        m = _msg(side, txn)
        if m is None:
            return
        tmpl = render(sess, txn)
        items = m.headers.items
        for idx, (k, v) in enumerate(items):
            if k != hname:
                continue
            if full:
                mm = rx.search(v)
                if mm is not None:
                    items[idx] = (k, smp.exp_replace(tmpl, mm))
                continue
            parts = v.split(",")
            changed = False
            for j, part in enumerate(parts):
                core = part.strip(" \t")
                mm = rx.search(core)
                if mm is None:
                    continue
                parts[j] = smp.exp_replace(tmpl, mm)  # HAProxy drops the spaces around a replaced value
                changed = True
            if changed:
                items[idx] = (k, ",".join(parts))

    return run, i + 3


# ---- request line ---------------------------------------------------------------------

_ABS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _split_uri(uri: str) -> tuple[str, str, str | None]:
    """(scheme://authority or '', path, query or None)."""
    pre = ""
    m = _ABS.match(uri)
    if m is not None:
        pre = uri[: m.end()]
        uri = uri[m.end() :]
    path, q, query = uri.partition("?")
    return pre, path, (query if q else None)


def _a_set_line(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    if not pc.arg(i) or not pc.is_end(i + 1):
        raise ActionError("expects exactly 1 argument <format>")
    render = pc.lf(pc.arg(i))

    def run(sess: Any, txn: Any) -> None:
        r = txn.req
        v = render(sess, txn)
        if name == "set-method":
            r.method = v
        elif name == "set-uri":
            r.uri = v
        elif name == "set-path":
            pre, _, query = _split_uri(r.uri)
            r.uri = pre + v + ("?" + query if query is not None else "")
        elif name == "set-pathq":
            pre, _, _ = _split_uri(r.uri)
            r.uri = pre + v
        elif name == "set-query":
            pre, path, _ = _split_uri(r.uri)
            r.uri = pre + path + "?" + v

    return run, i + 1


def _a_replace_uri(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    if not pc.arg(i) or not pc.arg(i + 1) or not pc.is_end(i + 2):
        raise ActionError("expects exactly 2 arguments <match-regex> and <replace-format>")
    rx = pc.regex(pc.arg(i))
    render = pc.lf(pc.arg(i + 1))

    def run(sess: Any, txn: Any) -> None:
        r = txn.req
        if name == "replace-uri":
            subject = r.uri
        else:
            pre, path, query = _split_uri(r.uri)
            subject = path if name == "replace-path" else path + ("?" + query if query is not None else "")
        m = rx.search(subject)
        if m is None:
            return
        out = smp.exp_replace(render(sess, txn), m)
        if name == "replace-uri":
            r.uri = out
        elif name == "replace-path":
            r.uri = pre + out + ("?" + query if query is not None else "")
        else:
            r.uri = pre + out

    return run, i + 2


# ---- replies: deny, tarpit, return ------------------------------------------------------


class ReplySpec:
    """An HAProxy ``http_reply``: status, content-type, payload, extra headers.

    ``dynamic`` is True when rendering it reads the transaction (a log-format payload, or
    a ``hdr`` value with a ``%`` directive); otherwise ``parts(None, None)`` is its
    constant message."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.ctype: str | None = None
        self.kind = "empty"  # 'empty' | 'errmsg' | 'raw' | 'lf'
        self.body = b""
        self.fmt: Callable[[Any, Any], str] | None = None
        self.hdrs: list[tuple[str, Callable[[Any, Any], str]]] = []
        self.dynamic = False
        self.errorfile: Any = None  # errors.Reply for 'errorfile <path>'
        self.errorfiles: str | None = None  # 'errorfiles <name>': resolved by errors.check_reply_refs()
        self.errorfile_raw = b""  # the file's bytes for 'errorfile <path>'

    def build(self, sess: Any, txn: Any) -> Any:
        """A ReplyResponse, or the ``errors.EmptyReply`` of an empty errorfile (nothing is sent)."""
        if self.kind == "errmsg":
            if self.errorfile is not None:
                from . import errors

                if isinstance(self.errorfile, errors.EmptyReply):
                    return errors.EmptyReply(self.status)
                return _from_reply(self.errorfile)
            return error_page(self.status, sess, txn)
        items, body = self.parts(sess, txn)
        return ReplyResponse(self.status, http_reason(self.status), "HTTP/1.1", Headers(items), body)

    def parts(self, sess: Any, txn: Any) -> tuple[list[tuple[str, str]], bytes]:
        """http_reply_to_htx() for a reply with no errorfile (no payload, ``string``,
        ``file``, ``lf-*``): its header fields (the ``hdr`` ones whose value is not empty,
        ``content-length``, then ``content-type`` when there is a body) and its body.
        The status line is ``HTTP/1.1 <status> <http_reason(status)>``."""
        body = self.body
        if self.kind == "lf" and self.fmt is not None:
            body = self.fmt(sess, txn).encode("latin-1", "replace")
        items: list[tuple[str, str]] = []
        for n, f in self.hdrs:
            v = f(sess, txn)
            if v:
                items.append((n, v))
        items.append(("content-length", str(len(body))))
        if body and self.ctype:
            items.append(("content-type", self.ctype))
        return items, body


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        raise ActionError(f"error opening file '{path}'") from None
    if len(data) > 16384:
        raise ActionError(f"file '{path}' exceeds the buffer size ({len(data)} > 16384)")
    return data


def parse_reply(pc: Pc, i: int, default_status: int) -> tuple[ReplySpec, int]:
    """http_parse_http_reply(): the reply arguments starting at ``words[i]``."""
    rep = ReplySpec(default_status)
    act_arg = ""
    ctx = pc.ctx
    while i < len(pc.words):
        a = pc.arg(i)
        if a == "status":
            i += 1
            if not pc.arg(i):
                raise ActionError(f"'{a}' expects <status_code> as argument")
            st = int(re.match(r"-?\d*", pc.arg(i)).group(0) or 0)  # type: ignore[union-attr]
            if st < 200 or st > 599:
                raise ActionError(f"Unexpected status code '{st}'")
            rep.status = st
            i += 1
        elif a == "content-type":
            i += 1
            if not pc.arg(i):
                raise ActionError(f"'{a}' expects <ctype> as argument")
            rep.ctype = pc.arg(i)
            i += 1
        elif a in ("errorfiles", "default-errorfiles", "errorfile", "file", "string", "lf-file", "lf-string"):
            if rep.kind != "empty":
                raise ActionError(f"unexpected '{a}' argument, '{act_arg}' already defined")
            act_arg = a
            i += 1
            if a == "default-errorfiles":
                rep.kind = "errmsg"
                continue
            val = pc.arg(i)
            if not val:
                what = {"errorfiles": "<name>", "errorfile": "<fmt>", "file": "<file>", "string": "<str>",
                        "lf-file": "<file>", "lf-string": "<fmt>"}[a]
                raise ActionError(f"'{a}' expects {what} as argument")
            i += 1
            if a == "errorfiles":
                # the page of an http-errors section, found after parsing (errors.check_reply_refs)
                rep.kind = "errmsg"
                rep.errorfiles = val
                px = pc.proxy
                if px is not None:
                    owner = (px.kind, px.name, px.file, px.line)
                    refs = px.extra.get("http_reply_refs")
                    if refs is None or refs[0] != owner:  # not the list copied from a defaults section
                        refs = px.extra["http_reply_refs"] = (owner, [])
                    refs[1].append((pc.ruleset, rep))
            elif a == "errorfile":
                from . import errors

                try:  # http_load_errorfile(): HAProxy's messages, an empty file allowed
                    raw = errors.load_errorfile(val, ctx)
                except ConfigError as e:
                    raise ActionError(str(e)) from None
                rep.errorfile = errors.reply_from_raw(raw, rep.status)
                rep.errorfile_raw = raw
                rep.kind = "errmsg"
            elif a == "file":
                rep.body = _read_file(val)
                rep.kind = "raw"
            elif a == "string":
                rep.body = val.encode("latin-1", "replace")
                rep.kind = "raw"
            elif a == "lf-file":
                rep.body = _read_file(val)
                rep.kind = "lf"
            else:
                rep.body = val.encode("latin-1", "replace")
                rep.kind = "lf"
        elif a == "hdr":
            i += 1
            if not pc.arg(i) or not pc.arg(i + 1):
                raise ActionError(f"'{a}' expects <name> and <value> as arguments")
            name = pc.arg(i)
            if name.lower() in ("content-length", "transfer-encoding", "content-type"):
                ctx.warn(f"header '{name}' always ignored by the http reply.")
                i += 2
                continue
            rep.hdrs.append((name.lower(), pc.lf(pc.arg(i + 1))))
            rep.dynamic = rep.dynamic or "%" in pc.arg(i + 1)
            i += 2
        else:
            break
    if rep.kind == "empty":
        if rep.ctype:
            ctx.warn(f"content-type '{rep.ctype}' ignored by the http reply because neither errorfile nor payload defined.")
            rep.ctype = None
    elif rep.kind == "errmsg":
        if rep.errorfile is None and rep.status not in ERR_CODES:
            raise ActionError(f"status code '{rep.status}' not handled by default with '{act_arg}' argument.")
        if rep.ctype:
            ctx.warn(f"content-type '{rep.ctype}' ignored by the http reply when used with an erorrfile.")
            rep.ctype = None
        if rep.hdrs:
            ctx.warn("hdr parameters ignored by the http reply when used with an erorrfile.")
            rep.hdrs = []
    elif rep.kind == "raw":
        if rep.status in (204, 304) and rep.body:
            raise ActionError(f"No body expected for {rep.status} responses")
        if not rep.ctype and rep.body:
            raise ActionError("a content type must be defined when non-empty payload is configured")
        if rep.ctype and not rep.body:
            ctx.warn(f"content-type '{rep.ctype}' ignored by the http reply when used with an empty payload.")
            rep.ctype = None
        if len(rep.body) > parse.BUFSIZE - parse.MAXREWRITE:  # b_room(&reply->body.obj) < maxrewrite
            ctx.warn("http reply payload runs over the buffer space reserved to headers rewriting. It may lead "
                     "to internal errors if strict rewriting mode is enabled.")
    else:
        if rep.status in (204, 304):
            raise ActionError(f"No body expected for {rep.status} responses")
        if not rep.ctype:
            raise ActionError("a content type must be defined with a log-format payload")
        rep.fmt = pc.lf(rep.body.decode("latin-1"))
        rep.dynamic = True
    return rep, i


def _a_deny(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    if pc.ruleset == "http-request":
        kind = "tarpit" if name == "tarpit" else "deny"
        default = 500 if name == "tarpit" else 403
    else:
        kind, default = "deny", 502
    if pc.is_end(i):
        rep = ReplySpec(default)
        rep.kind = "errmsg"
    elif pc.arg(i) == "deny_status" and pc.is_end(i + 2):
        saved = pc.words
        pc.words = ["status", pc.arg(i + 1), "default-errorfiles"]
        try:
            rep, _ = parse_reply(pc, 0, default)
        finally:
            pc.words = saved
        i += 2
    else:
        if pc.arg(i) == "deny_status":
            pc.words = [*pc.words[:i], "status", *pc.words[i + 1 :]]
        rep, i = parse_reply(pc, i, default)

    def run(sess: Any, txn: Any) -> Verdict:
        r = rep.build(sess, txn)
        return Verdict(kind, rep.status, r)  # the log shows the deny status, not the page's (errorloc: 302)

    return run, i


def _a_return(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    rep, i = parse_reply(pc, i, 200)

    def run(sess: Any, txn: Any) -> Verdict:
        r = rep.build(sess, txn)
        return Verdict("return", r.status, r)

    return run, i


# ---- redirect -------------------------------------------------------------------------

_REDIRECT_REASONS = {301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect",
                     308: "Permanent Redirect"}


def _redirect_path(uri: str, drop_query: bool) -> str:
    """http_parse_path(): the path (with its query) of the request URI, '/' if none."""
    if uri.startswith("/"):
        path = uri
    else:
        m = _ABS.match(uri)
        path = uri[m.end():] if m is not None else ""
        if not path.startswith("/"):
            path = ""
    if not path:
        return "/"
    if drop_query:
        path = path.split("?", 1)[0]
    return path


def _a_redirect(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    rtype = ""
    code = 302
    dest = ""
    cookie: str | None = None
    cookie_set = False
    drop_query = append_slash = ignore_empty = False
    while i < len(pc.words) and pc.arg(i) not in ("if", "unless"):
        a = pc.arg(i)
        if a in ("location", "prefix", "scheme", "set-cookie", "clear-cookie", "code"):
            if not pc.arg(i + 1):
                raise ActionError(f"missing argument for '{a}'")
            i += 1
            v = pc.arg(i)
            if a in ("location", "prefix", "scheme"):
                rtype, dest = a, v
            elif a == "set-cookie":
                cookie, cookie_set = v, True
            elif a == "clear-cookie":
                cookie, cookie_set = v, False
            else:
                m = re.match(r"-?\d*", v)
                code = int(m.group(0)) if m and m.group(0) not in ("", "-") else 0
                if code < 301 or code > 308 or 303 < code < 307:
                    raise ActionError(
                        f"'code': unsupported HTTP code '{v}' (must be one of 301, 302, 303, 307 or 308)"
                    )
        elif a == "drop-query":
            drop_query = True
        elif a == "append-slash":
            append_slash = True
        elif a == "ignore-empty":
            ignore_empty = True
        else:
            raise ActionError(
                "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', "
                f"'ignore-empty' or 'append-slash' (was '{a}')"
            )
        i += 1
    if not rtype:
        raise ActionError("redirection type expected ('prefix', 'location', or 'scheme')")
    if pc.side == "res" and rtype != "location":
        raise ActionError("response only supports redirect type 'location'")
    fmt: Callable[[Any, Any], str] | None = None
    if not (rtype == "prefix" and dest == "/"):
        fmt = pc.lf(dest)
    cookie_hdr = None
    if cookie is not None:
        cookie_hdr = cookie + ("; path=/;" if cookie_set else "; path=/; Max-Age=0;")
    reason = _REDIRECT_REASONS[code]
    from_req = pc.side == "req"

    def run(sess: Any, txn: Any) -> Verdict | None:
        if rtype == "location":
            loc = fmt(sess, txn) if fmt is not None else ""
            if not loc and ignore_empty:
                return None
        else:
            path = _redirect_path(txn.req.uri, drop_query) if from_req or txn.req is not None else "/"
            if rtype == "prefix":
                loc = (fmt(sess, txn) if fmt is not None else "") + path
            else:
                hosts = txn.req.headers.get_all("host")
                loc = (fmt(sess, txn) if fmt is not None else "") + "://" + (hosts[0] if hosts else "") + path
            if append_slash and loc and not loc.endswith("/"):
                loc += "/"
        h = Headers([("content-length", "0"), ("location", loc)])
        if code in (302, 303, 307):
            h.items.append(("cache-control", "no-cache"))
        if cookie_hdr is not None:
            h.items.append(("set-cookie", cookie_hdr))
        r = ReplyResponse(code, reason, "HTTP/1.1", h, b"")
        return Verdict("redirect", code, r)

    return run, i


# ---- auth, allow, reject, services, logging ---------------------------------------------


def _a_auth(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    realm: str | None = None
    if pc.arg(i) == "realm":
        if not pc.arg(i + 1):
            raise ActionError("missing realm value.\n")
        realm = pc.arg(i + 1)
        i += 2

    def run(sess: Any, txn: Any) -> Verdict:
        rl = realm
        if rl is None:
            be = getattr(sess, "backend", None)
            px = be if be is not None else getattr(sess, "frontend", None)
            rl = getattr(px, "name", "") or getattr(sess, "frontend_name", "")
        proxy = smp.proxy_request(txn)  # answered 407 with proxy-authenticate
        code = 407 if proxy else 401
        r = error_page(code, sess)
        if isinstance(r, ReplyResponse):  # not for an empty errorfile
            r.headers.items.append(("proxy-authenticate" if proxy else "www-authenticate", f'Basic realm="{rl}"'))
        return Verdict("auth", code, r, realm=rl)

    return run, i


def _a_allow(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    return (lambda sess, txn: _ALLOW), i


def _a_reject(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    return (lambda sess, txn: _REJECT), i


def _a_use_service(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    from . import services

    svc = pc.arg(i)
    if not svc:
        raise ActionError("expects a service reference")
    if svc not in services.SERVICES:
        raise ActionError(f"'{svc}' unknown service name.")
    v = Verdict("use-service", 0, None, service=svc)
    return (lambda sess, txn: v), i + 1


def _sample_arg(pc: Pc, i: int, named: str = "") -> tuple[Any, int]:
    """The sample expression starting at word ``i`` of an action, usable where the rule
    runs (HAProxy's "fetch method '<named>' extracts information from ..." otherwise;
    ``named`` defaults to the last word of the expression); (expr, next word)."""
    try:
        expr, j, _ = smp.parse_expr(pc.words, i, pc.pctx)
    except SampleError as e:
        raise ActionError(str(e)) from None
    need = smp.check_places(expr, pc.pctx.places)
    if need is not None:
        raise ActionError(f"fetch method '{named or pc.words[j - 1]}' extracts information from '{need}', "
                          "none of which is available here")
    return expr, j


def _a_capture(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    """``http-request capture <sample> len <n> | id <n>``, ``http-response capture
    <sample> id <n>`` (parse_http_req_capture/parse_http_res_capture): the sample as a
    string, cut to the slot's length, in the capture slot the log's ``%hr``/``%hs`` and
    ``capture.req.hdr``/``capture.res.hdr`` show.  ``len`` adds a slot to this frontend
    now; ``id`` names a slot of the frontend of the stream (checked by
    ``check_capture_ids`` for frontends)."""
    req = pc.side == "req"
    usage = "expects <expression> [ 'len' <length> | id <idx> ]" if req else "expects <expression> id <idx>"
    if any(pc.is_end(k) for k in range(i, i + 3)):
        raise ActionError(usage)
    expr, j = _sample_arg(pc, i)
    kw = pc.arg(j)
    if not kw:
        raise ActionError("expects 'len or 'id'" if req else "expects 'id'")
    p = pc.proxy
    if kw == "len" and req:
        if not p.has_fe:
            raise ActionError(f"proxy '{p.name}' has no frontend capability")
        if j + 1 >= len(pc.words):
            raise ActionError("missing length value")
        m = re.match(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", pc.arg(j + 1))  # atoi()
        length = int(m.group(1)) if m else 0
        if length <= 0:
            raise ActionError("length must be > 0")
        idx = len(p.captures_req)
        p.captures_req.append((None, length))
        fixed: int | None = length
    elif kw == "id":
        if j + 1 >= len(pc.words):
            raise ActionError("missing id value")
        text = pc.arg(j + 1)
        if not re.fullmatch(r"(?:[ \t\n\v\f\r]*[+-]?[0-9]+)?", text):  # strtol() reading the whole word
            raise ActionError(f"cannot parse id '{text}'")
        idx = int(text) if text else 0
        p.extra.setdefault("capture_ids", []).append((pc.ruleset, idx))
        fixed = None
    else:
        raise ActionError(f"expects 'len' or 'id', found '{kw}'" if req else f"expects 'id', found '{kw}'")
    attr = "req_captures" if req else "res_captures"
    slots = "captures_req" if req else "captures_rsp"

    def run(sess: Any, txn: Any) -> None:
        caps = getattr(sess, attr, None)
        if caps is None or not 0 <= idx < len(caps):
            return
        v = smp.cast(expr.eval(sess, txn), smp.T_STR)
        if v is None:
            return
        n = fixed if fixed is not None else getattr(sess.frontend.spec, slots)[idx][1]
        caps[idx] = v[:n]

    return run, j + 2


def check_capture_ids(p: Any, diag: Any) -> None:
    """check_http_req_capture/check_http_res_capture: in a frontend, a capture ``id``
    must name a declared slot (backends are not checked: the slots are the frontend's)."""
    if not p.has_fe or p.kind == "defaults":
        return
    for ruleset, idx in p.extra.get("capture_ids", ()):
        n = len(p.captures_req if ruleset == "http-request" else p.captures_rsp)
        if idx >= n:
            diag.alert(f"Proxy '{p.name}': unable to find capture id '{idx}' referenced by {ruleset} capture rule.")


def _a_set_addr(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    """``set-src``, ``set-src-port``, ``set-dst``, ``set-dst-port`` <expr>
    (tcp_parse_set_src_dst): the client's (src) or the frontend's (dst) address or port
    as this request sees it (``src``/``dst`` fetches, ``option forwardfor``, the log), for
    this request only, as HAProxy 2.6's stream-level addresses.  A sample that is not an
    address changes nothing; a port is cut to 16 bits (htons); an address keeps the port,
    a port on a non-IP address makes it ``0.0.0.0``."""
    expr, j = _sample_arg(pc, i)
    ip_attr, port_attr = ("cli_ip", "cli_port") if name.startswith("set-src") else ("fe_ip", "fe_port")
    is_port = name.endswith("-port")

    def run(sess: Any, txn: Any) -> None:
        v = smp.cast(expr.eval(sess, txn), smp.T_SINT if is_port else smp.T_ADDR)
        if v is None:
            return
        if sess.addr0 is None:  # the engine puts them back for the next request
            sess.addr0 = (sess.cli_ip, sess.cli_port, sess.fe_ip, sess.fe_port)
        inet = _is_ip(getattr(sess, ip_attr))
        if is_port:
            if not inet:
                setattr(sess, ip_attr, "0.0.0.0")
            setattr(sess, port_attr, v & 0xFFFF)
        else:
            setattr(sess, ip_attr, str(v))
            if not inet:
                setattr(sess, port_attr, 0)

    return run, j


def _is_ip(text: Any) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _a_silent_drop(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    """``silent-drop``: close the client connection without a word (TCP_REPAIR when
    allowed, else a reset with a TTL of 1), counted as a denied request."""
    return (lambda sess, txn: _SILENT_DROP), i


def _a_set_log_level(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    lvl = pc.arg(i)
    if lvl != "silent" and lvl not in LOG_LEVELS:
        raise ActionError("expects exactly 1 argument (log level name or 'silent')")

    def run(sess: Any, txn: Any) -> None:
        if txn is not None:
            txn.log_level = lvl

    return run, i + 1


def _a_set_status(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    if not pc.arg(i) or (pc.arg(i + 1) and pc.arg(i + 1) not in ("reason", "if", "unless")):
        raise ActionError("expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>")
    m = re.match(r"-?\d+", pc.arg(i))
    code = int(m.group(0)) if m else 0
    if code < 100 or code > 999:
        raise ActionError("expects an integer status code between 100 and 999")
    i += 1
    reason: str | None = None
    if pc.arg(i) == "reason":
        if not pc.arg(i + 1):
            raise ActionError("expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>")
        reason = pc.arg(i + 1)
        i += 2

    def run(sess: Any, txn: Any) -> None:
        r = txn.rsp
        if r is not None:
            r.status = code
            r.reason = reason if reason is not None else http_reason(code)
            txn.status = code

    return run, i


# ---- wait-for-body ----------------------------------------------------------------------


def _a_wait_for_body(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    """``wait-for-body time <time> [ at-least <bytes> ]`` (parse_http_wait_for_body()).

    The rule asks the engine (``txn.waiter``) to read the body until it is complete, or
    ``at-least`` payload bytes are held, or the buffer is full; the engine blocks the
    session's greenlet meanwhile.  When ``time`` expires first HAProxy 2.6 gives up on the
    transaction: 408 for a request, 504 for a response (the verdict the waiter returns).
    """
    if not pc.arg(i):
        raise ActionError("expects time <time> [ at-least <bytes> ]")
    time_ms = -1
    at_least = 0
    while pc.arg(i):
        a = pc.arg(i)
        if a == "time":
            v = pc.arg(i + 1)
            if not v:
                raise ActionError(f"missing argument for '{a}'")
            notes: list[str] = []
            try:
                time_ms = values.parse_time(v, a, warnings=notes)
            except values.BadValue as e:
                if e.kind == "overflow":
                    raise ActionError("time overflow (maximum value is 2147483647 ms or ~24.8 days)") from None
                if e.kind == "underflow":
                    raise ActionError("time underflow (minimum non-null value is 1 ms)") from None
                raise ActionError(f"unexpected character '{e.char or ''}'") from None
            for w in notes:
                pc.ctx.diag.warning(w)  # parse_time_err() warns without a file:line
        elif a == "at-least":
            v = pc.arg(i + 1)
            if not v:
                raise ActionError(f"missing argument for '{a}'")
            try:
                at_least = values.parse_size(v, a)
            except values.BadValue as e:
                raise ActionError(f"unexpected character '{e.char or ''}'") from None
        else:
            break
        i += 2
    if time_ms < 0:
        raise ActionError("expects time <time> [ at-least <bytes> ]")
    side = pc.side

    def run(sess: Any, txn: Any) -> Verdict | None:
        w = txn.waiter if txn is not None else None
        return w(txn, side, time_ms, at_least) if w is not None else None

    return run, i


# ---- set-timeout, early-hint, disable-l7-retry ------------------------------------------


def _a_set_timeout(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    """``set-timeout { server | tunnel } { <timeout> | <expr> }`` (parse_http_set_timeout(),
    cfg_parse_rule_set_timeout(), stream_set_timeout()): this transaction's server
    inactivity timeout (waiting for the response, reading it, sending the request to the
    server, and a tunnel when the backend has no ``timeout tunnel``) or its tunnel
    timeout, in ``txn.t_server``/``txn.t_tunnel``; the next request of the connection is
    a new stream with the backend's.  Only proxies with a backend side may say it.

    A word that is not a time is parsed as a sample expression, cast to an integer of
    milliseconds at run time and stored in a C ``int`` as HAProxy does: a sample that
    cannot be had changes nothing, 0 means "unset" (the backend's timeout applies again),
    a negative value (2^31 and more wrap there) has already expired: the next wait times
    out (504 ``sH`` while waiting for the response) at once in haproxy, at the sweeper's
    next pass (within 100 ms) in gproxy."""
    if not pc.arg(i) or not pc.arg(i + 1):
        raise ActionError("expects exactly 2 arguments")
    p = pc.proxy
    if not p.has_be:
        raise ActionError(f"proxy '{p.name}' has no backend capability")
    which = pc.arg(i)
    if which not in ("server", "tunnel"):
        raise ActionError(f"'set-timeout' rule supports 'server'/'tunnel' (got '{which}')")
    text = pc.arg(i + 1)
    expr = None
    ms = 0
    notes: list[str] = []
    try:
        ms = values.parse_time(text, f"set-timeout {which}", warnings=notes)
    except values.BadValue as e:
        if e.kind == "overflow":
            raise ActionError(f"timer overflow in argument '{text}' to rule 'set-timeout {which}' (maximum value is "
                              "2147483647 ms or ~24.8 days)") from None
        if e.kind == "underflow":  # unreachable in milliseconds, kept as HAProxy has it
            raise ActionError(f"timer underflow in argument '{text}' to rule 'set-timeout {which}' (minimum value "
                              "is 1 ms)") from None
        try:  # not a time: a sample expression (one word; what follows must be if/unless)
            expr, _, _ = smp.parse_expr(pc.words, i + 1, pc.pctx)
        except SampleError:
            raise ActionError(f"unexpected character '{e.char or ''}' in rule 'set-timeout {which}'") from None
    for w in notes:
        pc.ctx.diag.warning(w)  # parse_time_err() warns without a file:line
    if expr is None and not ms:
        raise ActionError(f"null value is not valid for a 'set-timeout {which}' rule")
    tunnel = which == "tunnel"
    if expr is None:
        secs = ms / 1000.0
        if tunnel:
            def run_fixed(sess: Any, txn: Any) -> None:
                txn.t_tunnel = secs
        else:
            def run_fixed(sess: Any, txn: Any) -> None:
                txn.t_server = secs
        return run_fixed, i + 2

    def run(sess: Any, txn: Any) -> None:
        v = smp.cast(expr.eval(sess, txn), smp.T_SINT)
        if v is None:
            return
        v = ((v + 0x80000000) & 0xFFFFFFFF) - 0x80000000  # the stream's int timeout
        if tunnel:
            txn.t_tunnel = v / 1000.0
        else:
            txn.t_server = v / 1000.0

    return run, i + 2


def _ver_11(version: str) -> bool:
    """HAProxy's HTTP_MSGF_VER_11: the request says HTTP/1.1 or later (H1_MF_VER_11)."""
    return len(version) == 8 and (version[5] > "1" or (version[5] == "1" and version[7] >= "1"))


class _EarlyHint:
    """One ``early-hint`` rule at run time (http_action_early_hint() of HAProxy 2.6).

    A 103 is started by the first rule that runs when none is pending and sent (through
    ``txn.interim``) by a rule whose next rule in the same list is not an ``early-hint``
    rule without a condition: so consecutive ``early-hint`` rules share one 103 unless
    a later one of them has a condition, as haproxy 2.6.12 does on the wire.  ``last``
    is kept up to date while the proxy's rules are parsed (``_insert``)."""

    __slots__ = ("last", "name", "render")

    def __init__(self, name: str, render: Callable[[Any, Any], str]) -> None:
        self.name = name
        self.render = render
        self.last = True

    def run(self, sess: Any, txn: Any) -> None:
        if txn is None or not _ver_11(txn.req.version):  # HTTP/1.0 clients get no 103
            return
        ex = txn.extra
        items = ex.get("_early_hints")
        if items is None:
            items = ex["_early_hints"] = []
        items.append((self.name, self.render(sess, txn)))
        if self.last:
            del ex["_early_hints"]
            send = txn.interim
            if send is not None:
                send(items)


def _a_early_hint(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    """``early-hint <name> <fmt>`` (parse_http_set_header()): a ``103 Early Hints``
    interim response to HTTP/1.1 clients, sent at once, before the request goes on (and
    before a later rule's deny or return); the header name goes out in lower case as
    the H1 mux writes it.  The log counts the 103's bytes in ``%B``."""
    hname, fmt = pc.arg(i), pc.arg(i + 1)
    if not hname or not fmt:
        raise ActionError("expects exactly 2 arguments")
    return _EarlyHint(hname.lower(), pc.lf(fmt)).run, i + 2


def _a_disable_l7_retry(pc: Pc, i: int, name: str) -> tuple[Callable[..., Any], int]:
    """``disable-l7-retry``: HAProxy clears the stream's L7 retry flag, which only
    ``retry-on`` sets; gproxy has no L7 retries (``retry-on`` is not implemented), so the
    rule does nothing, and haproxy 2.6 accepts it without a word without ``retry-on``."""
    return (lambda sess, txn: None), i


# ---- variables --------------------------------------------------------------------------

_VAR_CONDS = ("ifexists", "ifnotexists", "ifempty", "ifnotempty", "ifset", "ifnotset", "ifgt", "iflt")


def _var_action_name(word: str) -> tuple[str, str, list[str]]:
    for kind in ("set-var-fmt", "set-var", "unset-var"):
        if word.startswith(kind):
            rest = word[len(kind) :]
            if not rest.startswith("("):
                raise ActionError(
                    f"invalid or incomplete action '{word}'. Expects 'set-var(<var-name>)', "
                    "'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'"
                )
            if not rest.endswith(")"):
                raise ActionError(
                    f"incomplete argument after action '{word}'. Expects 'set-var(<var-name>)', "
                    "'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'"
                )
            parts = rest[1:-1].split(",")
            return kind, parts[0], [p for p in parts[1:] if p]
    raise ActionError(f"invalid or incomplete action '{word}'")


def _empty(v: Any) -> bool:
    return isinstance(v, (str, bytes)) and len(v) == 0


def _var_allowed(conds: list[str], name: str, new: Any, sess: Any, txn: Any) -> bool:
    if not conds:
        return True
    old = smp.get_var(name, sess, txn)
    for c in conds:
        if c in ("ifexists", "ifset") and old is None:
            return False
        if c in ("ifnotexists", "ifnotset") and old is not None:
            return False
        if c == "ifempty" and not _empty(new):
            return False
        if c == "ifnotempty" and _empty(new):
            return False
        if c in ("ifgt", "iflt"):
            a, b = smp.cast(old, smp.T_SINT), smp.cast(new, smp.T_SINT)
            if a is None or b is None:
                return False
            if c == "ifgt" and not a > b:
                return False
            if c == "iflt" and not a < b:
                return False
    return True


def _a_var(pc: Pc, i: int, word: str) -> tuple[Callable[..., Any], int]:
    kind, name, conds = _var_action_name(word)
    if conds and kind == "unset-var":
        raise ActionError(
            'unset-var does not expect parameters after the variable name. Only "set-var" and "set-var-fmt" '
            "manage conditions"
        )
    for c in conds:
        if c not in _VAR_CONDS:
            raise ActionError(f'unknown condition "{c}"')
    err = smp.check_var_name(name)
    if err:
        bad = "invalid syntax at char '"
        if err.startswith(bad):
            # vars_hash_name() quotes the rest of the action word: "'$,ifexists)'"
            after = word[len(kind) + 1 :]
            err = f"{bad}{after[len(name) - len(err) + len(bad) + 1 :]}'"
        raise ActionError(err)
    if kind == "unset-var":
        return (lambda sess, txn: smp.unset_var(name, sess, txn)), i
    if kind == "set-var-fmt":
        if i >= len(pc.words):  # parse_logformat_string("") : an empty format is accepted
            render = pc.lf("", http=False)

            def run_empty(sess: Any, txn: Any) -> None:
                v = render(sess, txn)
                if _var_allowed(conds, name, v, sess, txn):
                    smp.set_var(name, v, sess, txn)

            return run_empty, i
        render = pc.lf(pc.arg(i), http=False)

        def run_fmt(sess: Any, txn: Any) -> None:
            v = render(sess, txn)
            if _var_allowed(conds, name, v, sess, txn):
                smp.set_var(name, v, sess, txn)

        return run_fmt, i + 1
    expr, j = _sample_arg(pc, i, word)

    def run(sess: Any, txn: Any) -> None:
        v = expr.eval(sess, txn)
        if v is None:
            return
        if _var_allowed(conds, name, v, sess, txn):
            smp.set_var(name, v, sess, txn)

    return run, j


# ---- stick counters: track-sc*, sc-inc-gpc0/1, sc-set-gpt0 -------------------------------

def track_sc_num(suffix: str) -> int:
    """cfg_parse_track_sc_num(): the counter number after ``track-sc`` (empty is 0)."""
    m = re.fullmatch(r"[0-9]*", suffix)
    if m is None:
        raise ActionError(f"Wrong track-sc number '{suffix}'")
    n = int(suffix) if suffix else 0
    if n >= stkctr.MAX_SESS_STKCTR:
        raise ActionError(f"{n} track-sc number exceeding {stkctr.MAX_SESS_STKCTR - 1} (MAX_SESS_STKCTR-1) value")
    return n


class TrackRule:
    """A track-sc rule's table reference, checked after parsing (check_trk_action())."""

    __slots__ = ("cond", "expr", "file", "line", "num", "owner", "owner_kind", "proxy", "ruleset", "table")

    def __init__(self, ruleset: str, num: int, expr: Any, table: str | None, proxy: Any, file: str, line: int) -> None:
        self.ruleset = ruleset  # 'http-request', 'tcp-request content', ...
        self.num = num
        self.expr = expr
        self.table = table  # None: the proxy's own table
        self.proxy = proxy
        self.owner = proxy.name  # plain strings: they survive the copy into a proxy using a defaults section
        self.owner_kind = proxy.kind
        self.cond: Any = None
        self.file = file
        self.line = line


def _table_getter(name: str | None, owner: str) -> Callable[[Any], Any]:
    """The running table a rule names (``owner``'s own table when ``name`` is None)."""
    tname = name if name is not None else owner
    return lambda sess: smp.stick_table(sess, tname)


def make_track(ruleset: str, num: int, expr: Any, table: str | None, owner: str) -> Callable[..., Any]:
    """The run function of ``track-sc<num> <expr> [table <t>]`` in ``ruleset``: session
    level for tcp-request connection/session, else the stream's; an ``http-request``
    track counts the request it runs for, an ``http-response`` one its response too."""
    get_table = _table_getter(table, owner)
    stream = ruleset not in ("tcp-request connection", "tcp-request session")
    http = ruleset in ("http-request", "http-response")
    rsp = ruleset == "http-response"

    def run(sess: Any, txn: Any) -> None:
        tr = sess.stkctr
        if tr is not None and (tr.sess[num] is not None or (stream and tr.strm[num] is not None)):
            return
        t = get_table(sess)
        if t is None:
            return
        e = stkctr.track(sess, num, t, t.key_of(expr.eval(sess, txn)), stream)
        if e is not None and http:
            status = getattr(txn, "status", 0) if rsp else 0
            stkctr.count_request(t, e, status if isinstance(status, int) else 0)

    return run


def _track_parse(pc: Pc, i: int, word: str) -> tuple[Callable[..., Any], int]:
    """``http-request|http-response track-sc<n> <expr> [table <table>]``."""
    num = track_sc_num(word[8:])
    expr, j = _sample_arg(pc, i)
    table = None
    if pc.arg(j) == "table":
        if not pc.arg(j + 1):
            raise ActionError("missing table name")
        table = pc.arg(j + 1)
        j += 2
    p = pc.proxy
    p.extra.setdefault("track_rules", []).append(TrackRule(pc.ruleset, num, expr, table, p, pc.ctx.file,
                                                           pc.ctx.line))
    return make_track(pc.ruleset, num, expr, table, p.name), j


def parse_sc_slot(word: str) -> tuple[str, int]:
    """The action and counter number of ``sc-inc-gpc0[(<sc>)]``, ``sc-inc-gpc1[(<sc>)]``,
    ``sc-set-gpt0[(<sc>)]`` (parse_inc_gpc()/parse_set_gpt()); the array forms
    ``sc-inc-gpc(<idx>,<sc>)``/``sc-set-gpt(<idx>,<sc>)`` come back as ('', -1)."""
    gpt = word.startswith("sc-set-gpt")
    base = "sc-set-gpt" if gpt else "sc-inc-gpc"
    rest = word[len(base):]
    if rest.startswith("("):
        return "", -1
    if rest[:1] == "0" or (rest[:1] == "1" and not gpt):
        name = base + rest[0]
        rest = rest[1:]
        if not rest:
            return name, 0
        quoted = f" '{word}'" if gpt else ""
        if rest[0] != "(":
            raise ActionError(f"invalid stick table track ID{quoted}. Expects {word if not gpt else name}(<Track ID>)")
        n, after = values.c_strtol(rest[1:])
        if not after.startswith(")"):
            raise ActionError(f"invalid stick table track ID{quoted}. Expects {word if not gpt else name}(<Track ID>)")
        if not 0 <= n < stkctr.MAX_SESS_STKCTR:
            raise ActionError(f"invalid stick table track ID{quoted}. The max allowed ID is {stkctr.MAX_SESS_STKCTR - 1}")
        return name, n
    if gpt:
        raise ActionError(f"invalid gpt ID '{word}'. Expects sc-set-gpt(<GPT ID>,<Track ID>)")
    raise ActionError(f"invalid gpc ID '{word}'. Expects sc-set-gpc(<GPC ID>,<Track ID>)")


def make_inc_gpc(idx: str, num: int) -> Callable[..., Any]:
    """``sc-inc-gpc0/1(<sc>)``: the tracked entry's gpc<idx>_rate and gpc<idx> + 1."""
    cnt, rate = f"gpc{idx}", f"gpc{idx}_rate"

    def run(sess: Any, txn: Any) -> None:
        c = stkctr.slot(sess, num)
        if c is not None and stkctr.add(c[1].data, cnt, rate):
            c[0].touch(c[1])

    return run


def make_set_gpt0(num: int, fixed: int, expr: Any) -> Callable[..., Any]:
    """``sc-set-gpt0(<sc>) <int>|<expr>``: the tracked entry's gpt0, as an unsigned int."""

    def run(sess: Any, txn: Any) -> None:
        c = stkctr.slot(sess, num)
        if c is None or "gpt0" not in c[1].data:
            return
        if expr is None:
            v = fixed
        else:
            v = smp.cast(expr.eval(sess, txn), smp.T_SINT)
            if v is None:
                return
        c[1].data["gpt0"] = v & 0xFFFFFFFF
        c[0].touch(c[1])

    return run


def _sc_parse(pc: Pc, i: int, word: str) -> tuple[Callable[..., Any], int]:
    name, num = parse_sc_slot(word)
    if not name:
        raise _Unimplemented(word.split("(", 1)[0])
    if name.startswith("sc-inc-gpc"):
        return make_inc_gpc(name[-1], num), i
    fixed, after = values.c_strtol(pc.arg(i))
    if not after:
        return make_set_gpt0(num, fixed, None), i + 1
    expr, j = _sample_arg(pc, i)
    return make_set_gpt0(num, 0, expr), j


class _Unimplemented(Exception):
    """An action gproxy accepts with a warning and skips."""


def _stick_action(word: str) -> Parser | None:
    if word.startswith("track-sc"):
        return _track_parse
    if word.startswith(("sc-inc-gpc", "sc-set-gpt")):
        return _sc_parse
    return None


def report_track_rules(model: Any, p: Any, diag: Any) -> None:
    """Report proxy ``p``'s track-sc rule checks (``check_track_rules``) where
    check_config_validity() does, in its per-proxy checks."""
    msgs = model.__dict__.get("_track_msgs")
    if msgs is None:
        msgs = model.__dict__["_track_msgs"] = check_track_rules(model)
    for level, text in msgs.pop(p.name, ()):
        (diag.alert if level == "alert" else diag.warning)(text)


#: the order check_config_validity() checks a proxy's rule sets in
_RULESET_ORDER = {"tcp-request connection": 0, "tcp-request session": 1, "tcp-request content": 2,
                  "http-request": 3, "http-response": 4}


def check_track_rules(model: Any) -> dict[str, list[tuple[str, str]]]:
    """check_trk_action() for every proxy's track-sc rules: the table must exist and its
    key type must take the rule's sample; the tcp-request content warnings.  Returns
    the (level, text) messages by proxy name, for ``acl.resolve_refs`` to report in
    HAProxy's order (a proxy's rule checks, then its argument resolution)."""
    tables = model.__dict__.get("_stick_tables", {})
    out: dict[str, list[tuple[str, str]]] = {}
    seen_defaults: set[str] = set()
    for p in model.proxies:
        msgs: list[tuple[str, str]] = []
        rules = p.extra.get("track_rules", ())
        # a named defaults section's rules are checked once, against the defaults section
        # (which has no table of its own), by the first proxy using it
        inherited = [r for r in rules if r.owner_kind == DEFAULTS and r.owner not in seen_defaults]
        seen_defaults.update(r.owner for r in inherited)
        for r in sorted(inherited, key=lambda r: _RULESET_ORDER.get(r.ruleset, 9)):
            _check_track_table(r, r.owner, tables, msgs)
        own = [r for r in rules if r.owner_kind != DEFAULTS]
        for r in sorted(own, key=lambda r: _RULESET_ORDER.get(r.ruleset, 9)):
            if not _check_track_table(r, p.name, tables, msgs):
                continue
            if r.ruleset == "tcp-request content" and p.has_fe:
                kind = _px_kind(p)
                content = _CONTENT_SRC
                if not p.extra.get("tcp_inspect_delay") and r.expr.fetch.src in content:
                    msgs.append(("warning", (f"{kind} '{p.name}' : a 'tcp-request content track-sc*' rule explicitly "
                                 "depending on request contents without any 'tcp-request inspect-delay' setting. "
                                 "This means that this rule will randomly find its contents. This can be fixed by "
                                 "setting the tcp-request inspect-delay.")))
                if p.mode == "http" and r.expr.fetch.src not in content and not _cond_uses(r.cond, content):
                    msgs.append(("warning", (f"{kind} '{p.name}' : a 'tcp-request content track-sc*' rule not "
                                 "depending on request contents for an HTTP frontend should be executed at the "
                                 "session level, using a 'tcp-request session' rule (mandatory to track invalid "
                                 "HTTP requests).")))
        if msgs:
            out.setdefault(p.name, []).extend(msgs)
    return out


def _check_track_table(r: TrackRule, px: str, tables: dict[str, Any], msgs: list[tuple[str, str]]) -> bool:
    shown = r.table if r.table is not None else px
    t = tables.get(shown)
    if t is None:
        msgs.append(("alert", f"Proxy '{px}': unable to find table '{shown}' referenced by track-sc{r.num}."))
        return False
    out_type = smp.T_IPV4 if r.expr.out == smp.T_ADDR else r.expr.out
    if not smp.can_cast(out_type, _KEY_SMP[t.type]):
        msgs.append(("alert", (f"Proxy '{px}': stick-table '{shown}' uses a type incompatible with the "
                              f"'track-sc{r.num}' rule.")))
        return False
    return True


#: table key type -> the sample type its key is made from (stktable_compatible_sample())
_KEY_SMP = {"integer": smp.T_SINT, "ip": smp.T_IPV4, "ipv6": smp.T_IPV6, "string": smp.T_STR, "binary": smp.T_BIN}
#: fetch sources that read the request (SMP_USE_L6REQ|HRQHV|HRQHP|HRQBO)
_CONTENT_SRC = frozenset(("l6req", "hrqhv", "hrqhp", "hrqrs"))


def _cond_uses(cond: Any, srcs: frozenset[str]) -> bool:
    if cond is None:
        return False
    for suite in cond.suites:
        for exprs, _neg, _name in suite:
            for e in exprs:
                if e.expr.fetch.src in srcs:
                    return True
    return False


# --------------------------------------------------------------------------------------
# action tables

Parser = Callable[[Pc, int, str], tuple[Callable[..., Any], int]]

_HDR_ACTIONS: dict[str, Parser] = {
    "add-header": _a_add_set_header,
    "set-header": _a_add_set_header,
    "del-header": _a_del_header,
    "replace-header": _a_replace_header,
    "replace-value": _a_replace_header,
}
#: ruleset -> action -> (parser, final)
ACTIONS: dict[str, dict[str, tuple[Parser, bool]]] = {
    "http-request": {
        **{k: (v, False) for k, v in _HDR_ACTIONS.items()},
        "allow": (_a_allow, True),
        "auth": (_a_auth, True),
        "deny": (_a_deny, True),
        "redirect": (_a_redirect, True),
        "reject": (_a_reject, True),
        "replace-path": (_a_replace_uri, False),
        "replace-pathq": (_a_replace_uri, False),
        "replace-uri": (_a_replace_uri, False),
        "return": (_a_return, True),
        "set-method": (_a_set_line, False),
        "set-path": (_a_set_line, False),
        "set-pathq": (_a_set_line, False),
        "set-query": (_a_set_line, False),
        "set-uri": (_a_set_line, False),
        "tarpit": (_a_deny, True),
        "use-service": (_a_use_service, True),
        "set-log-level": (_a_set_log_level, False),
        "capture": (_a_capture, False),
        "set-src": (_a_set_addr, False),
        "set-src-port": (_a_set_addr, False),
        "set-dst": (_a_set_addr, False),
        "set-dst-port": (_a_set_addr, False),
        "silent-drop": (_a_silent_drop, True),
        "set-var(*)": (_a_var, False),
        "set-var-fmt(*)": (_a_var, False),
        "unset-var(*)": (_a_var, False),
        "wait-for-body": (_a_wait_for_body, False),
        "set-timeout": (_a_set_timeout, False),
        "early-hint": (_a_early_hint, False),
        "disable-l7-retry": (_a_disable_l7_retry, False),
    },
    "http-response": {
        **{k: (v, False) for k, v in _HDR_ACTIONS.items()},
        "allow": (_a_allow, True),
        "deny": (_a_deny, True),
        "redirect": (_a_redirect, True),
        "return": (_a_return, True),
        "set-status": (_a_set_status, False),
        "set-log-level": (_a_set_log_level, False),
        "capture": (_a_capture, False),
        "set-var(*)": (_a_var, False),
        "set-var-fmt(*)": (_a_var, False),
        "unset-var(*)": (_a_var, False),
        "wait-for-body": (_a_wait_for_body, False),
    },
    "http-after-response": {
        **{k: (v, False) for k, v in _HDR_ACTIONS.items()},
        "allow": (_a_allow, True),
        "set-status": (_a_set_status, False),
        "capture": (_a_capture, False),
        "set-var(*)": (_a_var, False),
        "set-var-fmt(*)": (_a_var, False),
        "unset-var(*)": (_a_var, False),
    },
}
#: actions HAProxy 2.6 has that gproxy accepts with a warning and skips
UNIMPLEMENTED: dict[str, tuple[str, ...]] = {
    "http-request": ("wait-for-handshake", "set-nice", "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt",
                     "sc-set-gpt0", "send-spoe-group", "do-resolve", "cache-use", "add-acl", "del-acl",
                     "del-map", "normalize-uri", "set-map", "strict-mode", "track-sc0", "track-sc1", "track-sc2",
                     "set-mark", "set-tos", "set-priority-class", "set-priority-offset", "ot-group"),
    "http-response": ("sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0", "send-spoe-group",
                      "cache-store", "add-acl", "del-acl", "del-map", "set-map", "set-nice", "strict-mode",
                      "track-sc0", "track-sc1", "track-sc2", "set-mark", "set-tos", "silent-drop"),
    "http-after-response": ("add-acl", "del-acl", "del-map", "set-map", "strict-mode"),
}


def _lookup_action(ruleset: str, word: str) -> tuple[str, Parser, bool] | None:
    table = ACTIONS[ruleset]
    got = table.get(word)
    if got is not None:
        return word, got[0], got[1]
    for name, (fn, final) in table.items():
        if name.endswith("(*)") and word.startswith(name[:-3]):
            rest = word[len(name) - 3 :]
            if rest.startswith("(") or not rest:
                return name, fn, final
    return None


def _action_list(ruleset: str) -> str:
    return ", ".join(f"'{n}'" for n in ACTIONS[ruleset])


def _insert(lst: list[Any], rule: Rule) -> None:
    """Append, keeping translated legacy rules (order 1, then 2) after the others.  An
    ``early-hint`` rule of the same section just before it sends its 103 unless this one
    is an ``early-hint`` without a condition (see ``_EarlyHint``)."""
    pos = len(lst)
    while pos > 0 and getattr(lst[pos - 1], "order", 0) > rule.order:
        pos -= 1
    lst.insert(pos, rule)
    if pos > 0:
        prev = lst[pos - 1]
        eh = getattr(prev.run, "__self__", None)
        if isinstance(eh, _EarlyHint) and getattr(prev, "owner", "") == rule.owner:
            eh.last = not (rule.action == "early-hint" and rule.cond is None)


def _px_kind(p: Any) -> str:
    return "defaults" if p.kind == "defaults" else ("proxy" if p.kind == "listen" else p.kind)


def compile_http_rule(ctx: KwCtx, ruleset: str, words: list[str], order: int = 0) -> Rule | None:
    """Parse one ``http-request``/``http-response``/``http-after-response`` rule.

    ``words`` starts with the action.  Raises ConfigError with HAProxy's texts; returns
    None for an action gproxy skips (with a warning).
    """
    p = ctx.proxy
    word = words[0] if words else ""
    stick = _stick_action(word) if ruleset != "http-after-response" else None
    found = (word, stick, False) if stick is not None else _lookup_action(ruleset, word)
    if found is None:
        base = word.split("(", 1)[0]
        if base in UNIMPLEMENTED[ruleset] or word.startswith(("track-sc", "sc-")):
            ctx.warn(f"'{ruleset} {base}' is not implemented by gproxy yet and is ignored.")
            return None
        from ..config.haproxy_keywords import best_match

        best = best_match(word, tuple(n.replace("(*)", "") for n in ACTIONS[ruleset])) if word else None
        raise config_error(
            f"'{ruleset}' expects {_action_list(ruleset)}, but got '{word}'{'' if word else ' (missing argument)'}."
            + (f" Did you mean '{best}' maybe ?" if best else ""),
            at=AT_READCFG,
            abort=True,
        )
    name, parser, final = found
    pc = Pc(ctx, ruleset, list(words))
    shown = word
    try:
        run, i = parser(pc, 1, word if name.endswith("(*)") else name)
    except _Unimplemented as e:
        ctx.warn(f"'{ruleset} {e}' is not implemented by gproxy yet and is ignored.")
        return None
    except ActionError as e:
        raise config_error(
            f"error detected in {_px_kind(p)} '{p.name}' while parsing '{ruleset} {shown}' rule : {e}.", abort=True
        ) from None
    cond = None
    rest = pc.words[i:]
    if rest and rest[0] in ("if", "unless"):
        try:
            cond = aclmod.compile_cond(
                ctx, rest, ruleset, f"error detected while parsing an '{ruleset} {shown}' condition : {{err}}.",
                emit=False,
            )
        except ConfigError as e:
            raise config_error(str(e), abort=True) from None
    elif rest and rest[0]:
        raise config_error(
            f"'{ruleset} {shown}' expects either 'if' or 'unless' followed by a condition but found '{rest[0]}'.",
            at=AT_READCFG,
            abort=True,
        )
    if stick is _track_parse:
        p.extra["track_rules"][-1].cond = cond
    return Rule(name.replace("(*)", ""), run, cond, ctx.file, ctx.line, final, order, " ".join(words),
                owner=f"{p.kind}:{p.name}")


def add_http_rule(ctx: KwCtx, ruleset: str, words: list[str], order: int = 0) -> Rule | None:
    """The ``http-request``/``http-response``/``http-after-response`` keyword handlers."""
    p = ctx.proxy
    if p.kind == DEFAULTS and not p.name:
        raise ConfigError(f"'{ruleset}' not allowed in anonymous 'defaults' section.")
    lst = {"http-request": p.http_request, "http-response": p.http_response,
           "http-after-response": p.http_after_response}[ruleset]
    own = [r for r in lst if getattr(r, "owner", "") == f"{p.kind}:{p.name}"]
    if own and order == 0:
        last = own[-1]
        if last.cond is None and last.final:
            ctx.diag.warning(
                f"parsing [{ctx.file}:{ctx.line}]: previous '{ruleset}' action is final and has no condition "
                "attached, further entries are NOOP."
            )
    rule = compile_http_rule(ctx, ruleset, words, order)
    if rule is None:
        return None
    if ruleset == "http-request" and order == 0:  # warnif_misplaced_http_req(): the first later kind
        if p.extra.get("redirect_rules"):
            ctx.warn(f"a '{ruleset}' rule placed after a 'redirect' rule will still be processed before.")
        elif p.use_backends:
            ctx.warn(f"a '{ruleset}' rule placed after a 'use_backend' rule will still be processed before.")
        elif p.extra.get("use_server"):
            ctx.warn(f"a '{ruleset}' rule placed after a 'use-server' rule will still be processed before.")
    if rule.cond is not None and rule.cond.warning:
        ctx.warn(rule.cond.warning)
    _insert(lst, rule)
    return rule


@SECTION_KEYWORDS.register("http-request", PROXY_SECTIONS, "<action> [options...] [{if | unless} <condition>]",
                           "act on the HTTP request (headers, deny, redirect, return, auth, wait-for-body, "
                           "early-hint, set-timeout, ...)")
def _kw_http_request(ctx: KwCtx, args: list[str]) -> None:
    add_http_rule(ctx, "http-request", args)


@SECTION_KEYWORDS.register("http-response", PROXY_SECTIONS, "<action> [options...] [{if | unless} <condition>]",
                           "act on the HTTP response from the server (headers, deny, return, wait-for-body, ...)")
def _kw_http_response(ctx: KwCtx, args: list[str]) -> None:
    add_http_rule(ctx, "http-response", args)


@SECTION_KEYWORDS.register("http-after-response", PROXY_SECTIONS,
                           "<action> [options...] [{if | unless} <condition>]",
                           "act on every HTTP response, generated ones included")
def _kw_http_after_response(ctx: KwCtx, args: list[str]) -> None:
    add_http_rule(ctx, "http-after-response", args)


# --------------------------------------------------------------------------------------
# tcp-request

_TCP_UNIMPLEMENTED = ("capture", "expect-proxy", "expect-netscaler-cip", "track-sc0", "track-sc1", "track-sc2",
                      "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0", "set-var-fmt",
                      "set-var", "unset-var", "set-dst", "set-dst-port", "set-mark", "set-src", "set-src-port",
                      "set-tos", "silent-drop", "do-resolve", "send-spoe-group", "set-priority-class",
                      "set-priority-offset", "switch-mode", "use-service", "set-log-level", "set-nice")


_TCP_COMMON = (
    "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', "
)
_TCP_L4 = (
    "'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'set-var-fmt(*)', "
    "'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', "
    "'silent-drop'"
)
#: the action lists of HAProxy 2.6's messages (gproxy implements accept and reject)
_TCP_LISTS = {
    "connection": _TCP_COMMON + _TCP_L4,
    "session": _TCP_COMMON + _TCP_L4,
    "content": _TCP_COMMON + (
        "'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', "
        "'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', "
        "'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', "
        "'silent-drop', 'set-priority-class', 'set-priority-offset'"
    ),
}


def _tcp_error(text: str) -> ConfigError:
    return ConfigError(text)


@SECTION_KEYWORDS.register("tcp-request", PROXY_SECTIONS,
                           "inspect-delay <time> | {connection|session|content} <action> [{if | unless} <condition>]",
                           "accept or reject connections before any data / on their content")
def _kw_tcp_request(ctx: KwCtx, args: list[str]) -> None:
    p = ctx.proxy
    kind = _px_kind(p)
    where = "defaults section" if p.kind == DEFAULTS else f"{kind} '{p.name}'"
    sub = args[0] if args else ""
    if not sub:
        raise _tcp_error(f"missing argument for 'tcp-request' in {where}")
    if sub == "inspect-delay":
        if p.kind == DEFAULTS and not p.name:
            raise _tcp_error("tcp-request inspect-delay is not allowed in anonymous 'defaults' sections")
        val = args[1] if len(args) > 1 else ""
        try:
            delay = values.parse_time(val, "tcp-request inspect-delay")
        except values.BadValue as e:
            msg = f"'tcp-request inspect-delay' expects a positive delay in milliseconds, in {where}"
            if e.kind == "overflow":
                msg += f" (timer overflow in '{val}', maximum value is 2147483647 ms or ~24.8 days)"
            elif e.kind == "underflow":
                msg += f" (timer underflow in '{val}', minimum non-null value is 1 ms)"
            elif e.kind != "empty" and e.char:
                msg += f" (unexpected character '{e.char}')"
            raise _tcp_error(msg) from None
        if p.extra.get("tcp_inspect_delay") is not None and p.extra.get("tcp_inspect_delay_owner") == p.name:
            ctx.warn(f"ignoring tcp-request inspect-delay (was already defined) in {where}")
            return
        p.extra["tcp_inspect_delay"] = delay
        p.extra["tcp_inspect_delay_owner"] = p.name
        return
    if sub not in ("connection", "session", "content"):
        if p.kind == DEFAULTS:
            raise _tcp_error(f"'tcp-request' expects 'inspect-delay', 'connection', or 'content' in defaults section "
                             f"(got '{sub}')")
        raise _tcp_error(f"'tcp-request' expects 'inspect-delay', 'connection', or 'content' in {where} (got '{sub}')")
    if sub in ("connection", "session") and not p.has_fe:
        raise _tcp_error(f"tcp-request {sub} is not allowed because {kind} {p.name} is not a frontend")
    if p.kind == DEFAULTS and not p.name:
        raise _tcp_error(f"tcp-request {sub} is not allowed in anonymous 'defaults' sections")
    action = args[1] if len(args) > 1 else ""
    what = f"tcp-request {sub}"
    run: Callable[..., Any] | None = None
    track: TrackRule | None = None
    rest = args[2:]
    if action not in ("accept", "reject"):
        stick = _stick_action(action)
        try:
            if stick is None:
                raise _Unimplemented(action.split("(", 1)[0])
            run, nxt, track = _tcp_stick(ctx, what, action, args)
        except _Unimplemented as e:
            if str(e) in _TCP_UNIMPLEMENTED or action.startswith(("track-sc", "sc-")):
                ctx.warn(f"'tcp-request {sub} {e}' is not implemented by gproxy yet and is ignored.")
                return
            raise _tcp_error(f"'tcp-request {sub}' expects {_TCP_LISTS[sub]} in {where} (got '{action}').\n") from None
        rest = args[nxt:]
    cond = None
    conflict_warning: str | None = None
    if rest and rest[0] in ("if", "unless"):
        pctx = aclmod.parse_ctx(ctx, what)
        try:
            cond = aclmod.parse_cond(rest, aclmod.proxy_acls(p), pctx)
        except (aclmod.CondError, SampleError) as e:
            raise _tcp_error(
                f"'tcp-request {sub} {action}' : error detected in {where} while parsing '{rest[0]}' condition : {e}"
            ) from None
        conflict = aclmod.cond_conflicts(cond, pctx.places)
        if conflict:
            conflict_warning = conflict.replace(" will never match because",
                                                f" will never match in 'tcp-request {sub}' because")
    elif rest and rest[0]:
        raise _tcp_error(f"'tcp-request {sub} {action}' only accepts 'if' or 'unless', in {where} (got '{rest[0]}')")
    owner = f"{p.kind}:{p.name}"

    def own(lst: list[Any], prefix: str = "") -> bool:
        return any(getattr(r, "owner", "") == owner and getattr(r, "text", "").startswith(prefix) for r in lst)

    chain = [("'monitor fail' rule", bool(p.extra.get("monitor_fail"))), ("'http-request' rule", own(p.http_request)),
             ("'redirect' rule", bool(p.extra.get("redirect_rules"))), ("'use_backend' rule", bool(p.use_backends)),
             ("'use-server' rule", bool(p.extra.get("use_server")))]
    if sub != "content":
        chain.insert(0, ("'tcp-request content' rule", own(p.tcp_request_content)))
    if sub == "connection":
        chain.insert(0, ("'tcp-request session' rule", own(p.tcp_request_connection, "session")))
    for what_rule, present in chain:
        if present:
            article = "an" if what_rule.startswith("'http") else "a"
            ctx.warn(f"a 'tcp-request' rule placed after {article} {what_rule} will still be processed before.")
            break
    if conflict_warning:
        ctx.warn(conflict_warning)
    if run is None:
        v = _REJECT if action == "reject" else _ALLOW
        run = lambda sess, txn, _v=v: _v
    if track is not None:
        track.cond = cond
        p.extra.setdefault("track_rules", []).append(track)
    rule = Rule(action, run, cond, ctx.file, ctx.line, action in ("accept", "reject"), 0, " ".join(args),
                owner=owner)
    if sub == "content":
        p.tcp_request_content.append(rule)
    else:
        p.tcp_request_connection.append(rule)


def _tcp_stick(ctx: KwCtx, what: str, action: str, args: list[str]) -> tuple[Callable[..., Any], int, Any]:
    """``tcp-request <where> track-sc<n> <expr> [table <t>]``, ``sc-inc-gpc0/1(<sc>)``,
    ``sc-set-gpt0(<sc>) <int>|<expr>`` (tcp_parse_request_rule() and the stick table
    action parsers): (run, index of the next word, TrackRule or None)."""
    p = ctx.proxy
    pctx = aclmod.parse_ctx(ctx, what, argctx="in tracking rule in" if action.startswith("track-sc") else "in")
    if action.startswith("track-sc"):
        head = f"'{what} {action}' : "
        try:
            num = track_sc_num(action[8:])
            expr, i, _ = smp.parse_expr(args, 2, pctx)
        except (ActionError, SampleError) as e:
            raise _tcp_error(head + str(e)) from None
        need = smp.check_places(expr, pctx.places)
        if need is not None:
            raise _tcp_error(f"{head}fetch method '{args[i - 1]}' extracts information from '{need}', none of which "
                             "is available here")
        table = None
        if i < len(args) and args[i] == "table":
            table = args[i + 1] if i + 1 < len(args) else ""  # an empty name is looked up (and not found)
            i += 2
        track = TrackRule(what, num, expr, table, p, ctx.file, ctx.line)
        return make_track(what, num, expr, table, p.name), i, track
    try:
        name, num = parse_sc_slot(action)
        if not name:
            raise _Unimplemented(action.split("(", 1)[0])
        if name.startswith("sc-inc-gpc"):
            return make_inc_gpc(name[-1], num), 2, None
        word = args[2] if len(args) > 2 else ""
        fixed, after = values.c_strtol(word)
        if not after:
            return make_set_gpt0(num, fixed, None), 3, None
        expr, i, _ = smp.parse_expr(args, 2, pctx)
    except (ActionError, SampleError) as e:
        raise _tcp_error(str(e)) from None
    need = smp.check_places(expr, pctx.places)
    if need is not None:
        raise _tcp_error(f"fetch method '{args[i - 1]}' extracts information from '{need}', none of which is "
                         "available here")
    return make_set_gpt0(num, 0, expr), i, None


# --------------------------------------------------------------------------------------
# named defaults with rules (cfgparse-listen.c, proxy creation)


def defaults_rules_conflict(base: Any, kind: str) -> str | None:
    """HAProxy's refusal to create a ``kind`` section from defaults ``base`` that has
    TCP/HTTP rules (such defaults serve frontends only or backends only), else None.
    Records which side uses ``base`` on first use."""
    has_rules = (base.http_request or base.http_response or base.http_after_response
                 or base.tcp_request_connection or base.tcp_request_content)
    if not has_rules:
        return None
    at = f"(defaults section at {base.file}:{base.line})"
    if kind == "defaults":
        return f"a defaults section cannot inherit from a defaults section defining TCP/HTTP rules {at}."
    if kind == "listen":
        return "a listen section cannot inherit from a defaults section defining TCP/HTTP rules."
    cap = "fe" if kind == "frontend" else "be"
    prev = base.extra.get("_rules_cap")
    if prev is not None and prev != cap:
        return f"frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules {at}."
    if cap == "be" and base.tcp_request_connection:
        return ("a backend section cannot inherit from a defaults section defining 'tcp-request connection' or "
                f"'tcp-request session' rules {at}.")
    base.extra["_rules_cap"] = cap
    return None
