"""The regex directives HAProxy removed in 2.1 (``reqadd``, ``reqrep``, ``rspdel`` ...).

HAProxy 2.1+ refuses them with a fatal alert.  gproxy deliberately accepts them: each
line is translated into the modern rule it stands for, a warning gives the line to paste
instead, and the translated rule is compiled exactly as if that line had been written
(``rules.compile_http_rule``).  For example::

    reqadd X-Forwarded-Proto:\\ https
    -> http-request add-header X-Forwarded-Proto https

Legacy semantics: the regex of ``reqrep``/``reqdel``/``reqdeny``... applies to each whole
header line ``Name: value`` (and to the request/status line); ``i`` variants ignore case;
a replaced line is entirely replaced by the expanded string.  When the regex clearly
targets one header (``^Name:...``) or the request line (``^(method) uri...``) the
translation is exact in practice (``replace-header``, ``replace-uri``, ``del-header``,
``deny if { req.fhdr(Name) -m reg ... }``).  Anything else is emulated by an internal
rule applying the regex to the rebuilt lines (header names in canonical capitalisation,
since gproxy keeps them lower-case), and the warning says no modern line is equivalent.

Ordering follows HAProxy 1.x: ``http-request``/``http-response`` rules first, then the
legacy filters in declaration order, then ``reqadd``/``rspadd``.

Pure module: no sockets, never yields.
"""

from __future__ import annotations

import re
from typing import Any

from ..registry import PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx
from . import acl as aclmod
from . import rules as rulesmod
from . import sample as smp

__all__ = ["LEGACY_KEYWORDS", "render_word", "translate"]

#: keyword -> (side, action, case-insensitive, number of arguments before the condition)
LEGACY_KEYWORDS: dict[str, tuple[str, str, bool, int]] = {
    "reqadd": ("req", "add", False, 1),
    "reqdel": ("req", "del", False, 1),
    "reqidel": ("req", "del", True, 1),
    "reqrep": ("req", "rep", False, 2),
    "reqirep": ("req", "rep", True, 2),
    "reqdeny": ("req", "deny", False, 1),
    "reqideny": ("req", "deny", True, 1),
    "reqallow": ("req", "allow", False, 1),
    "reqiallow": ("req", "allow", True, 1),
    "reqtarpit": ("req", "tarpit", False, 1),
    "reqitarpit": ("req", "tarpit", True, 1),
    "rspadd": ("res", "add", False, 1),
    "rspdel": ("res", "del", False, 1),
    "rspidel": ("res", "del", True, 1),
    "rsprep": ("res", "rep", False, 2),
    "rspirep": ("res", "rep", True, 2),
    "rspdeny": ("res", "deny", False, 1),
    "rspideny": ("res", "deny", True, 1),
}

#: HAProxy 2.1+'s alert for each (still given for a defaults section)
REFUSED = {
    "reqadd": "The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead.",
    "reqdel": "The 'reqdel' directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead.",
    "reqidel": "The 'reqidel' directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead.",
    "reqrep": "The 'reqrep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', "
    "'http-request replace-uri' or 'http-request replace-header' instead.",
    "reqirep": "The 'reqirep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-header' "
    "instead.",
    "reqdeny": "The 'reqdeny' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.",
    "reqideny": "The 'reqideny' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.",
    "reqallow": "The 'reqallow' directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead.",
    "reqiallow": "The 'reqiallow' directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead.",
    "reqtarpit": "The 'reqtarpit' directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' "
    "instead.",
    "reqitarpit": "The 'reqitarpit' directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' "
    "instead.",
    "rspadd": "The 'rspadd' directive is not supported anymore since HAProxy 2.1. Use 'http-response add-header' "
    "instead.",
    "rspdel": "The 'rspdel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' .",
    "rspidel": "The 'rspidel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' "
    "instead.",
    "rsprep": "The 'rsprep' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' "
    "instead.",
    "rspirep": "The 'rspirep' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' "
    "instead.",
    "rspdeny": "The 'rspdeny' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.",
    "rspideny": "The 'rspideny' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.",
}

_LEXED = " #\\'\"tnrx"


def render_word(w: str) -> str:
    """A configuration word written back so that the lexer reads it unchanged."""
    if not w:
        return '""'
    out = []
    for i, c in enumerate(w):
        if c == "\\":
            nxt = w[i + 1] if i + 1 < len(w) else ""
            out.append("\\\\" if (nxt and nxt in _LEXED) or not nxt else "\\")
        elif c in " #\"'":
            out.append("\\" + c)
        elif c == "\t":
            out.append("\\t")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "$":
            out.append("$")
        else:
            out.append(c)
    return "".join(out)


def render_line(words: list[str]) -> str:
    return " ".join(render_word(w) for w in words)


def _lf_escape(s: str) -> str:
    return s.replace("%", "%%")


# --------------------------------------------------------------------------------------
# regex analysis

_NAME = r"[A-Za-z0-9_.+!*'`|~^#$&-]+"
_SEP_TOKEN = r"(?: |\\s|\\t|\[ \\t\]|\[\\t \]|\[ \])[*+?]?"
_HDR_RE = re.compile(rf"\^(?P<grp>\()?(?P<name>[A-Za-z0-9_-]+):(?P<sep>(?:{_SEP_TOKEN}){{0,3}})(?P<close>\))?")
_REPL_HDR = re.compile(r"(?P<name>[A-Za-z0-9_-]+):[ \t]*")


class _Hdr:
    """``^Name:<sep>rest`` or ``^(Name:<sep>)rest``."""

    def __init__(self, name: str, grouped: bool, rest: str) -> None:
        self.name = name
        self.grouped = grouped
        self.rest = rest

    def value_regex(self, icase: bool) -> str:
        body = ("()" if self.grouped else "") + self.rest
        return ("(?i)" if icase else "") + "^" + body


def _header_regex(rx: str) -> _Hdr | None:
    m = _HDR_RE.match(rx)
    if m is None:
        return None
    grouped = bool(m.group("grp"))
    if grouped != bool(m.group("close")):
        return None
    rest = rx[m.end() :]
    if not grouped and m.group("close"):
        return None
    return _Hdr(m.group("name"), grouped, rest)


_METHOD_RE = re.compile(r"\^\((?P<m>[^()]*)\)(?P<sp> |\\s|\[ \])(?P<plus>[+*]?)")


def _request_line_regex(rx: str) -> str | None:
    """For ``^(method) rest``: the regex for the URI alone (``^()rest``), else None."""
    m = _METHOD_RE.match(rx)
    if m is None:
        return None
    rest = rx[m.end() :]
    if "HTTP" in rest or " " in rest or "\\s" in rest:
        return None
    return "^()" + rest


def _cond_words(cond: list[str], extra: list[str]) -> list[str] | None:
    """``if <extra> AND <cond>`` as words, or None when it can't be written simply."""
    if not cond:
        return ["if", *extra]
    pol, rest = cond[0], cond[1:]
    if any(w.lower() == "or" or w == "||" for w in rest):
        return None
    if pol == "if":
        return ["if", *extra, *rest]
    # unless <single term>
    if len(rest) == 1:
        w = rest[0]
        return ["if", *extra, w[1:] if w.startswith("!") else "!" + w]
    if rest and rest[0] == "{" and rest[-1] == "}" and rest.count("{") == 1:
        return ["if", *extra, "!{", *rest[1:]]
    return None


def translate(kw: str, args: list[str]) -> tuple[str, list[str]] | None:
    """The modern rule for a legacy line: (ruleset, words after the ruleset), or None
    when only an emulation is exact."""
    side, action, icase, nargs = LEGACY_KEYWORDS[kw]
    ruleset = "http-request" if side == "req" else "http-response"
    vals, cond = args[:nargs], args[nargs:]
    if action == "add":
        line = vals[0]
        name, colon, value = line.partition(":")
        if not colon or not name or re.fullmatch(r"[A-Za-z0-9_!#$&'*+.^`|~-]+", name) is None:
            return None
        return ruleset, ["add-header", name, _lf_escape(value.lstrip(" \t")), *cond]
    rx = vals[0]
    if action == "rep":
        repl = vals[1]
        h = _header_regex(rx)
        if h is not None:
            if h.grouped:
                if not repl.startswith("\\1"):
                    return None
                new_val = repl[2:]
            else:
                m = _REPL_HDR.match(repl)
                if m is None or m.group("name").lower() != h.name.lower():
                    return None
                new_val = repl[m.end() :]
            return ruleset, ["replace-header", h.name, h.value_regex(icase), _lf_escape(new_val), *cond]
        if side == "req" and not icase:
            uri_rx = _request_line_regex(rx)
            if uri_rx is not None:
                m2 = re.match(r"\\1( |\\s)", repl)
                if m2 is None:
                    return None
                uri_repl = repl[m2.end() :]
                if " " in uri_repl:
                    return None
                return ruleset, ["replace-uri", uri_rx, "\\1" + _lf_escape(uri_repl), *cond]
        return None
    h = _header_regex(rx)
    if action == "del":
        if h is not None and not h.grouped and h.rest in ("", ".*", ".*$"):
            return ruleset, ["del-header", h.name, *cond]
        m = re.fullmatch(r"\^(?P<name>[A-Za-z0-9_-]+)", rx)
        if m is not None:
            return ruleset, ["del-header", m.group("name"), "-m", "beg", *cond]
        return None
    # deny / allow / tarpit
    if h is None:
        return None
    fetch = f"{'req' if side == 'req' else 'res'}.fhdr({h.name})"
    if h.rest in ("", ".*", ".*$") and not h.grouped:
        acl_words = ["{", fetch, "-m", "found", "}"]
    else:
        pat = ("^" + ("()" if h.grouped else "") + h.rest)
        acl_words = ["{", fetch, "-m", "reg", *(["-i"] if icase else []), pat, "}"]
    cw = _cond_words(cond, acl_words)
    if cw is None:
        return None
    return ruleset, [action, *cw]


# --------------------------------------------------------------------------------------
# emulation (no modern equivalent)


def _canon(name: str) -> str:
    return "-".join(p[:1].upper() + p[1:] for p in name.split("-"))


def _emulate(side: str, action: str, icase: bool, vals: list[str]) -> Any:
    if action == "add":
        line = vals[0]
        name, _, value = line.partition(":")

        def run_add(sess: Any, txn: Any) -> None:
            m = txn.req if side == "req" else txn.rsp
            if m is not None:
                m.headers.items.append((name.strip().lower(), value.lstrip(" \t")))

        return run_add
    rx = smp.compile_regex(vals[0], icase)
    repl = vals[1] if action == "rep" else ""
    verdict = {"deny": None, "allow": rulesmod.Verdict("allow"), "tarpit": None}.get(action)

    def first_line(msg: Any) -> str:
        if side == "req":
            return f"{msg.method} {msg.uri} {msg.version}"
        return f"{msg.version} {msg.status} {msg.reason}"

    def run(sess: Any, txn: Any) -> Any:
        msg = txn.req if side == "req" else txn.rsp
        if msg is None:
            return None
        if action in ("deny", "allow", "tarpit"):
            lines = [first_line(msg)] + [f"{_canon(k)}: {v}" for k, v in msg.headers.items]
            if not any(rx.search(li) for li in lines):
                return None
            if action == "allow":
                return verdict
            status = 403 if side == "req" and action == "deny" else 500 if action == "tarpit" else 502
            r = rulesmod.error_page(status, sess)
            return rulesmod.Verdict("tarpit" if action == "tarpit" else "deny", r.status, r)
        if action == "rep":
            m = rx.search(first_line(msg))
            if m is not None:
                parts = smp.exp_replace(repl, m).split(" ", 2)
                if side == "req" and len(parts) == 3:
                    msg.method, msg.uri, msg.version = parts
                elif side == "res" and len(parts) >= 2 and parts[1].isdigit():
                    msg.version, msg.status = parts[0], int(parts[1])
                    msg.reason = parts[2] if len(parts) > 2 else ""
        out = []
        for k, v in msg.headers.items:
            line = f"{_canon(k)}: {v}"
            m = rx.search(line)
            if m is None:
                out.append((k, v))
                continue
            if action == "del":
                continue
            new = smp.exp_replace(repl, m)
            name, colon, value = new.partition(":")
            if colon and name.strip():
                out.append((name.strip().lower(), value.lstrip(" \t")))
        msg.headers.items = out
        return None

    return run


# --------------------------------------------------------------------------------------
# keyword handlers


def _handler(kw: str) -> Any:
    side, action, icase, nargs = LEGACY_KEYWORDS[kw]

    def handle(ctx: KwCtx, args: list[str]) -> None:
        p = ctx.proxy
        if p.kind == "defaults":  # never allowed there: HAProxy's own refusal
            raise ConfigError(REFUSED[kw])
        vals = args[:nargs]
        if len(vals) < nargs or not all(vals):
            what = "<search> and <replace>" if nargs == 2 else ("<header>" if action == "add" else "<regex>")
            raise ConfigError(f"'{kw}' expects {what} as an argument.")
        cond = args[nargs:]
        if cond and cond[0] not in ("if", "unless"):
            raise ConfigError(f"'{kw}' : expects 'if' or 'unless' followed by a condition but found '{cond[0]}'.")
        if action != "add":
            try:
                smp.compile_regex(vals[0], icase)
            except smp.SampleError as e:
                raise ConfigError(f"'{kw}' : {e}.") from None
        original = render_line([kw, *args])
        order = 2 if action == "add" else 1
        got = translate(kw, args)
        if got is not None:
            ruleset, words = got
            ctx.warn(
                f"'{original}' is deprecated since HAProxy 2.1; gproxy translated it to: "
                f"{ruleset} {render_line(words)}"
            )
            rulesmod.add_http_rule(ctx, ruleset, words, order)
            return
        try:
            run = _emulate(side, action, icase, vals)
        except smp.SampleError as e:
            raise ConfigError(f"'{kw}' : {e}.") from None
        ruleset = "http-request" if side == "req" else "http-response"
        ctx.warn(
            f"'{original}' is deprecated since HAProxy 2.1 and has no exact modern equivalent; gproxy emulates it. "
            f"Use '{ruleset} replace-header', '{ruleset} del-header', '{ruleset} deny' and similar rules instead."
        )
        c = None
        if cond:
            c = aclmod.compile_cond(ctx, cond, ruleset, f"error detected while parsing a '{kw}' condition : {{err}}.")
        rule = rulesmod.Rule(kw, run, c, ctx.file, ctx.line, action in ("deny", "tarpit"), order, original,
                             owner=f"{p.kind}:{p.name}")
        lst = p.http_request if side == "req" else p.http_response
        rulesmod._insert(lst, rule)

    return handle


for _kw, (_side, _act, _ic, _n) in LEGACY_KEYWORDS.items():
    _usage = "<search> <replace>" if _n == 2 else ("<header: value>" if _act == "add" else "<search>")
    SECTION_KEYWORDS.register(_kw, PROXY_SECTIONS, f"{_usage} [{{if | unless}} <cond>]",
                              "removed in HAProxy 2.1; gproxy translates it to a modern rule and warns")(_handler(_kw))
