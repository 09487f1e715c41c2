"""tcp-check / http-check rules: parsing, rule sets, HTTP request bytes and matching.

HAProxy (2.2+) runs every health check as a list of ``tcp-check`` rules (src/tcpcheck.c):
``connect``, ``send``, ``expect`` and ``comment``.  ``option httpchk``, ``option
redis-check``, ``option mysql-check`` and plain ``check`` are predefined rule sets.  This
module reproduces, without any I/O:

* the argument parsers of ``tcp-check``/``http-check`` lines, raising ``RuleError`` with
  HAProxy's error text;
* the building of the rule set a proxy runs (``build_ruleset``): the implicit connect,
  the ``option httpchk`` request merged with ``http-check send``, the implicit
  ``expect status 200-399``, comments handed to the following rules, step numbers;
* the bytes of the HTTP request HAProxy 2.6 writes on the wire (``http_request``);
* a small HTTP/1 response parser (``HttpResponse``) and the matchers the engine in
  ``gproxy.check`` calls (``eval_expect``, ``eval_expect_http``, ``eval_mysql``).

What this module must not do: open sockets, sleep, or touch runtime objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

CONNECT, SEND, EXPECT, COMMENT, ACTION = "connect", "send", "expect", "comment", "action"

# rule-set protocols (HAProxy TCPCHK_RULES_*_CHK); only 'tcp' (option tcp-check) adds the
# " at step N of tcp-check" details to connection errors and the generic TCPCHK messages
PROTO_DEFAULT, PROTO_TCP, PROTO_HTTP, PROTO_REDIS, PROTO_MYSQL = "default", "tcp", "http", "redis", "mysql"

#: methods for which HAProxy sends no ``content-length: 0`` on a bodyless check request
BODYLESS_METHODS = ("OPTIONS", "GET", "HEAD", "DELETE")

REDIS_REQ = b"*1\r\n$4\r\nPING\r\n"
REDIS_RES = b"+PONG\r\n"

#: tune.bufsize: the check input buffer; a full buffer counts as the last read
BUFSIZE = 16384

# eval results
WAIT, CONTINUE, STOP = "wait", "continue", "stop"


class RuleError(ValueError):
    """A rule's arguments are invalid; ``str()`` is HAProxy's message (no prefix)."""


@dataclass
class HttpSend:
    """An ``http-check send`` request (or the one ``option httpchk`` implies)."""

    meth: str | None = None
    uri: str | None = None
    uri_lf: bool = False
    vsn: str | None = None
    hdrs: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    body_lf: bool = False


@dataclass
class Rule:
    """One rule of a check rule set."""

    action: str
    index: int = 0
    comment: str | None = None
    # connect
    port: int = 0
    addr: str | None = None
    addr_port: int = 0
    send_proxy: bool = False
    default: bool = False
    implicit: bool = False
    linger: bool = False
    # send
    send_type: str = ""  # 'string' | 'binary' | 'string-lf' | 'binary-lf' | 'http'
    data: bytes = b""
    http: HttpSend | None = None
    from_opt: bool = False  # the request of an 'option httpchk' line
    # expect
    expect_type: str = ""  # string rstring binary rbinary string-lf binary-lf custom
    #                        status rstatus hdr body rbody body-lf
    pattern: bytes = b""
    regex: Any = None
    codes: list[tuple[int, int]] = field(default_factory=list)
    inverse: bool = False
    min_recv: int = -1
    ok_status: str | None = None
    err_status: str | None = None
    tout_status: str | None = None
    on_success: str | None = None
    on_error: str | None = None
    custom: str = ""  # 'mysql-iniths' | 'mysql-ok'
    on_error_payload: bool = False  # redis-check: info = first line of the response
    hdr_name: str = ""
    hdr_name_match: str = "str"  # str beg end sub reg
    hdr_name_re: Any = None
    hdr_value: str | None = None
    hdr_value_match: str = "str"
    hdr_value_re: Any = None
    hdr_full: bool = False
    head: int = -1  # position (in the final list) where a waiting expect chain resumes

    def step(self) -> int:
        """HAProxy's ``tcpcheck_get_step_id`` for this rule."""
        if self.index == 0 and self.action == CONNECT and self.implicit:
            return 0
        return self.index + 1


@dataclass
class Ruleset:
    """The rules one proxy's checks run, and how their messages are worded."""

    proto: str
    rules: list[Rule]
    kind: str = "tcp"  # the proxy's check_kind
    disable404: bool = False
    send_state: bool = False
    http_close_mode: bool = False  # option httpclose / http-server-close on the backend


# ------------------------------------------------------------------ small parsers
def atol(text: str) -> int:
    """C ``atol``: optional blanks and sign, then digits; 0 when there are none."""
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def read_uint(text: str, pos: int) -> tuple[int, int]:
    """HAProxy's ``read_uint``: digits from ``pos``; returns (value, new position)."""
    val = 0
    while pos < len(text) and text[pos].isdigit() and text[pos].isascii():
        val = (val * 10 + ord(text[pos]) - 48) & 0xFFFFFFFF
        pos += 1
    return val, pos


def parse_binary(hexstr: str) -> bytes:
    """HAProxy's ``parse_binary``: an even number of hex digits."""
    if len(hexstr) % 2:
        raise RuleError("an even number of hex digit is expected")
    for c in hexstr:
        if c not in "0123456789abcdefABCDEF":
            raise RuleError(f"an hex digit is expected (found '{c}')")
    return bytes.fromhex(hexstr)


def compile_regex(pattern: str, caseless: bool = False, text: bool = False) -> Any:
    """Compile a PCRE-style pattern with Python's ``re`` (bytes unless ``text``)."""
    flags = re.IGNORECASE if caseless else 0
    try:
        if text:
            return re.compile(pattern, flags)
        return re.compile(pattern.encode("utf-8", "surrogateescape"), flags)
    except re.error as e:
        # the message of the HTTP rules' regexes: PCRE2's texts for the common errors
        from ..http.sample import SampleError
        from ..http.sample import compile_regex as sample_regex

        try:
            sample_regex(pattern, caseless)
        except SampleError as se:
            raise RuleError(str(se)) from None
        except re.error:
            pass
        raise RuleError(f"regex '{pattern}' is invalid (error={e.msg}, erroffset={e.pos or 0})") from None


def unescape_lf(fmt: str) -> str:
    """The literal text of a log-format string (gproxy does not evaluate ``%[...]``)."""
    return fmt.replace("%%", "%")


# ------------------------------------------------------------------ rule parsers
def _check_first_connect(prior: list[Rule]) -> None:
    for r in prior:
        if r.action == CONNECT:
            return
        if r.action in (COMMENT, ACTION) or (r.action == SEND and r.from_opt):
            continue
        raise RuleError(
            "first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' "
            "or a 'comment', when there is a 'connect' step in the tcp-check ruleset"
        )


#: the MUX protocols 'proto' may name (haproxy -vv of the Debian 2.6 build) -> their mode
MUX_PROTOS = {"h2": "http", "fcgi": "http", "h1": "http", "none": "tcp"}


def parse_connect(args: list[str], prior: list[Rule], kw: str = "tcp-check") -> Rule:
    """``tcp-check connect [default] [port P] [addr A] [send-proxy] [linger] [comment C] ...``.

    ``args`` are the words after ``connect``.  ``ssl``, ``sni``, ``alpn``, ``proto`` and
    ``via-socks4`` are accepted and ignored (gproxy checks have no TLS).
    """
    _check_first_connect(prior)
    rule = Rule(CONNECT)
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else ""
        if a == "default":
            rule.default = True
        elif a == "addr":
            if not nxt:
                raise RuleError(f"'{a}' expects <ipv4|ipv6> as argument.")
            from ..config.values import STR2SA_NEWLINE, BadValue, parse_connect_address

            try:
                parsed = parse_connect_address(nxt)
            except BadValue as e:
                nl = "\n" if STR2SA_NEWLINE.match(e.message) else ""
                raise RuleError(f"'{a}' : {e.message}{nl}.") from None
            host, port = split_addr(nxt)
            if parsed.family in ("unix", "abns") or host is None:
                host, port = parsed.host, parsed.port
            rule.addr, rule.addr_port = host, port
            i += 1
        elif a == "port":
            if not nxt:
                raise RuleError(f"'{a}' expects a port number or a sample expression as argument.")
            i += 1
            val, pos = read_uint(nxt, 0)
            if pos != len(nxt):
                raise RuleError(f"error detected while parsing port expression : unknown fetch method '{nxt}'")
            if val > 65535 or val < 1:
                raise RuleError(
                    f"expects a valid TCP port (from range 1 to 65535) or a sample expression, got {nxt}."
                )
            rule.port = val
        elif a == "proto":
            if not nxt:
                raise RuleError(f"'{a}' expects a MUX protocol as argument.")
            mode = MUX_PROTOS.get(nxt)
            if mode is None:
                raise RuleError(f"'{a}' : unknown MUX protocol '{nxt}'.")
            if mode != ("http" if kw == "http-check" else "tcp"):
                raise RuleError(f"'{a}' : invalid MUX protocol '{nxt}' for {kw}")
            i += 1
        elif a == "comment":
            if not nxt:
                raise RuleError(f"'{a}' expects a string as argument.")
            rule.comment = nxt
            i += 1
        elif a == "send-proxy":
            rule.send_proxy = True
        elif a in ("via-socks4", "ssl"):
            pass
        elif a == "linger":
            rule.linger = True
        elif a == "sni":
            if not nxt:
                raise RuleError(f"'{a}' expects a string as argument.")
            i += 1
        elif a == "alpn":
            # ssl_sock_parse_alpn()
            if not nxt:
                raise RuleError(f"'{a}' : missing the comma-delimited ALPN protocol suite")
            for name in nxt.split(","):
                if len(name.encode("utf-8", "surrogateescape")) > 255:
                    raise RuleError(f"'{a}' : ALPN protocol name too long : '{name}'")
            i += 1
        else:
            raise RuleError(
                "expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', "
                f"'linger', 'default' but got '{a}' as argument."
            )
        i += 1
    return rule


def parse_send(args: list[str]) -> Rule:
    """``tcp-check send|send-binary|send-lf|send-binary-lf <data> [comment C]`` (args from the sub-keyword)."""
    sub = args[0]
    stype = {"send": "string", "send-binary": "binary", "send-lf": "string-lf", "send-binary-lf": "binary-lf"}[sub]
    if len(args) < 2 or not args[1]:
        raise RuleError(f"'{'binary string' if stype == 'binary' else 'string'}' expects a {sub} as argument")
    data = args[1]
    rule = Rule(SEND, send_type=stype)
    i = 2
    while i < len(args):
        if args[i] == "comment":
            if i + 1 >= len(args) or not args[i + 1]:
                raise RuleError(f"'{args[i]}' expects a string as argument.")
            rule.comment = args[i + 1]
            i += 2
            continue
        raise RuleError(f"expects 'comment' but got '{args[i]}' as argument.")
    if stype == "string":
        rule.data = data.encode("utf-8", "surrogateescape")
    elif stype == "binary":
        try:
            rule.data = parse_binary(data)
        except RuleError as e:
            raise RuleError(f"'{data}' invalid binary string ({e}).\n") from None
    elif stype == "string-lf":
        rule.data = unescape_lf(data).encode("utf-8", "surrogateescape")
    else:
        try:
            rule.data = parse_binary(unescape_lf(data))
        except RuleError:
            rule.data = b""
    return rule


def parse_send_http(args: list[str]) -> Rule:
    """``http-check send [meth M] [uri U|uri-lf F] [ver V] [hdr N V]* [body S|body-lf F] [comment C]``."""
    req = HttpSend()
    rule = Rule(SEND, send_type="http", http=req)
    host_seen: str | None = None
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else ""
        if a in ("meth", "uri", "uri-lf", "ver", "body", "body-lf", "comment"):
            if not nxt:
                raise RuleError(f"'{a}' expects a string as argument.")
            if a == "meth":
                req.meth = nxt
            elif a in ("uri", "uri-lf"):
                req.uri, req.uri_lf = nxt, a == "uri-lf"
            elif a == "ver":
                req.vsn = nxt
            elif a in ("body", "body-lf"):
                req.body, req.body_lf = nxt, a == "body-lf"
            else:
                rule.comment = nxt
            i += 2
        elif a == "hdr":
            name = nxt
            value = args[i + 2] if i + 2 < len(args) else ""
            if not name or not value:
                raise RuleError(f"'{a}' expects <name> and <value> as arguments")
            if name.lower() == "host":
                if host_seen is not None:
                    raise RuleError(f"'{name}' header already defined (previous value is '{host_seen}')")
                host_seen = value
            if name.lower() not in ("content-length", "transfer-encoding"):
                req.hdrs.append((name, value))
            i += 3
        else:
            raise RuleError(
                "expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf'"
                f" but got '{a}' as argument."
            )
    return rule


def parse_comment(args: list[str]) -> Rule:
    """``tcp-check comment <text>`` (args after ``comment``)."""
    if not args or not args[0]:
        raise RuleError("expects a string as argument")
    return Rule(COMMENT, comment=args[0])


_STATUS_OK = {"L7OK": "L7OK", "L7OKC": "L7OKC", "L6OK": "L6OK", "L4OK": "L4OK"}
_STATUS_ERR = {"L7RSP": "L7RSP", "L7STS": "L7STS", "L7OKC": "L7OKC", "L6RSP": "L6RSP", "L4CON": "L4CON"}
_STATUS_TOUT = {"L7TOUT": "L7TOUT", "L6TOUT": "L6TOUT", "L4TOUT": "L4TOUT"}
_HDR_MATCH = ("str", "beg", "end", "sub", "reg")


def parse_expect(args: list[str], http: bool) -> Rule:
    """``tcp-check expect ...`` / ``http-check expect ...`` (args after ``expect``)."""
    if not args or not args[0]:
        raise RuleError("expects at least a matching pattern as arguments")
    rule = Rule(EXPECT)
    etype = ""
    pattern: str | None = None
    inverse = False
    args = list(args) + [""]  # HAProxy's argument arrays end with an empty word
    i = 0

    def bad_kw(word: str) -> RuleError:
        if http:
            return RuleError(
                "'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', "
                f"'[!]rstatus', [!]hdr, [!]fhdr or comment but got '{word}' as argument."
            )
        return RuleError(
            "'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf'"
            f"'[!]rbinary', '[!]binary-lf' or comment but got '{word}' as argument."
        )

    def need(word: str, what: str) -> str:
        val = args[i + 1] if i + 1 < len(args) else ""
        if not val:
            raise RuleError(f"'{word}' expects {what}")
        return val

    while i < len(args) and args[i]:
        in_pattern = False
        word = args[i]
        while True:  # 'rescan' in HAProxy
            if word == "min-recv":
                if in_pattern:
                    raise RuleError(f"[!] not supported with '{word}'")
                val = need(word, "a integer as argument")
                i += 1
                n = atol(val)
                if n < -1 or n > 2147483647:
                    raise RuleError(f"'{word}' expects -1 or an integer from 0 to INT_MAX")
                rule.min_recv = n
            elif word.startswith("!"):
                in_pattern = True
                while word.startswith("!"):
                    inverse = not inverse
                    word = word[1:]
                if not word:
                    i += 1
                    word = args[i] if i < len(args) else ""
                continue
            elif word in ("string", "rstring"):
                if etype:
                    raise RuleError("only on pattern expected")
                if http:
                    etype = "body" if word == "string" else "rbody"
                else:
                    etype = word
                pattern = need(word, "a <pattern> as argument")
                i += 1
            elif word in ("binary", "rbinary"):
                if http:
                    raise bad_kw(word)
                if etype:
                    raise RuleError("only on pattern expected")
                etype = word
                pattern = need(word, "a <pattern> as argument")
                i += 1
            elif word in ("string-lf", "binary-lf"):
                if etype:
                    raise RuleError("only on pattern expected")
                if http:
                    if word != "string-lf":
                        raise bad_kw(word)
                    etype = "body-lf"
                else:
                    etype = word
                pattern = need(word, "a <pattern> as argument")
                i += 1
            elif word in ("status", "rstatus"):
                if not http:
                    raise bad_kw(word)
                if etype:
                    raise RuleError("only on pattern expected")
                etype = word
                pattern = need(word, "a <pattern> as argument")
                i += 1
            elif word == "custom":
                if in_pattern:
                    raise RuleError(f"[!] not supported with '{word}'")
                if etype:
                    raise RuleError("only on pattern expected")
                etype = "custom"
            elif word in ("hdr", "fhdr"):
                if not http:
                    raise bad_kw(word)
                if etype:
                    raise RuleError("only on pattern expected")
                etype = "hdr"
                orig = word
                rule.hdr_full = word == "fhdr"
                a1 = args[i + 1] if i + 1 < len(args) else ""
                a2 = args[i + 2] if i + 2 < len(args) else ""
                if not a1 or not a2 or a1 not in ("name", "name-lf"):
                    raise RuleError(f"'{orig}' expects at the name keyword as first argument followed by a pattern")
                i += 2
                rule.hdr_name_match = "str"
                if args[i] == "-m":
                    m = args[i + 1] if i + 1 < len(args) else ""
                    if not m:
                        raise RuleError(
                            f"'{orig}' : '{args[i]}' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg')"
                        )
                    if m not in _HDR_MATCH:
                        raise RuleError(
                            f"'{orig}' : '{args[i]}' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '{m}')"
                        )
                    if m == "reg" and a1 == "name-lf":
                        raise RuleError(f"'{orig}': log-format string is not supported with a regex matching method")
                    rule.hdr_name_match = m
                    i += 2
                rule.hdr_name = args[i] if a1 == "name" else unescape_lf(args[i])
                nxt = args[i + 1] if i + 1 < len(args) else ""
                if not nxt or nxt not in ("value", "value-lf"):
                    rule.hdr_value = None
                else:
                    vlf = nxt == "value-lf"
                    rule.hdr_value_match = "str"
                    if (args[i + 2] if i + 2 < len(args) else "") == "-m":
                        i += 2
                        m = args[i + 1] if i + 1 < len(args) else ""
                        if not m:
                            raise RuleError(
                                f"'{orig}' : '{args[i]}' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg')"
                            )
                        if m not in _HDR_MATCH:
                            raise RuleError(
                                f"'{orig}' : '{args[i]}' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '{m}')"
                            )
                        if m == "reg" and vlf:
                            raise RuleError(
                                f"'{orig}': log-format string is not supported with a regex matching method"
                            )
                        rule.hdr_value_match = m
                    val = args[i + 2] if i + 2 < len(args) else ""
                    if not val:
                        raise RuleError(f"'{orig}' expect a pattern with the value keyword")
                    rule.hdr_value = unescape_lf(val) if vlf else val
                    i += 2
            elif word in ("comment", "on-success", "on-error", "ok-status", "error-status", "tout-status", "status-code"):
                if in_pattern:
                    raise RuleError(f"[!] not supported with '{word}'")
                what = "an expression as argument" if word == "status-code" else "a string as argument"
                val = need(word, what)
                i += 1
                if word == "comment":
                    rule.comment = val
                elif word == "on-success":
                    rule.on_success = unescape_lf(val)
                elif word == "on-error":
                    rule.on_error = unescape_lf(val)
                elif word == "ok-status":
                    if val.upper() not in _STATUS_OK:
                        raise RuleError(f"'{word}' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got '{val}').")
                    rule.ok_status = _STATUS_OK[val.upper()]
                elif word == "error-status":
                    if val.upper() not in _STATUS_ERR:
                        raise RuleError(
                            f"'{word}' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got '{val}')."
                        )
                    rule.err_status = _STATUS_ERR[val.upper()]
                elif word == "tout-status":
                    if val.upper() not in _STATUS_TOUT:
                        raise RuleError(f"'{word}' only supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got '{val}').")
                    rule.tout_status = _STATUS_TOUT[val.upper()]
                # status-code <expr>: sample expressions are not evaluated by gproxy
            else:
                raise bad_kw(word)
            break
        i += 1

    rule.expect_type = etype
    rule.inverse = inverse
    if not etype:
        raise RuleError("pattern not found")
    assert pattern is not None or etype in ("custom", "hdr")
    if etype == "status":
        p = pattern or ""
        pos = 0
        while True:
            c1, pos = read_uint(p, pos)
            c2 = c1
            if pos < len(p) and p[pos] == "-":
                c2, pos = read_uint(p, pos + 1)
            if c1 > c2:
                raise RuleError(f"invalid range of status codes '{p}'")
            rule.codes.append((c1, c2))
            if pos >= len(p):
                break
            if p[pos] != ",":
                raise RuleError(f"invalid character '{p[pos]}' in the list of status codes")
            pos += 1
    elif etype in ("string", "body"):
        rule.pattern = (pattern or "").encode("utf-8", "surrogateescape")
    elif etype == "binary":
        try:
            rule.pattern = parse_binary(pattern or "")
        except RuleError as e:
            raise RuleError(f"invalid binary string ({e})") from None
    elif etype in ("rstring", "rbinary", "rstatus", "rbody"):
        rule.regex = compile_regex(pattern or "")
    elif etype in ("string-lf", "body-lf"):
        rule.pattern = unescape_lf(pattern or "").encode("utf-8", "surrogateescape")
    elif etype == "binary-lf":
        try:
            rule.pattern = parse_binary(unescape_lf(pattern or ""))
        except RuleError:
            rule.pattern = b""
    elif etype == "hdr":
        if rule.hdr_name_match == "reg":
            rule.hdr_name_re = compile_regex(rule.hdr_name, caseless=True, text=True)
        if rule.hdr_value is not None and rule.hdr_value_match == "reg":
            rule.hdr_value_re = compile_regex(rule.hdr_value, text=True)
    return rule


def parse_rule(kw: str, args: list[str], prior: list[Rule]) -> Rule | None:
    """Parse one ``tcp-check``/``http-check`` line (``args`` after the keyword).

    Returns None for the rules gproxy accepts without running them (``set-var``...).
    Raises ``RuleError`` with the full text HAProxy prints after ``parsing [f:l] : ``.
    """
    sub = args[0] if args else ""
    http = kw == "http-check"
    try:
        if sub == "connect":
            return parse_connect(args[1:], prior, kw)
        if sub == "send" and http:
            return parse_send_http(args[1:])
        if sub in ("send", "send-binary", "send-lf", "send-binary-lf") and not http:
            return parse_send(args)
        if sub == "expect":
            return parse_expect(args[1:], http)
        if sub == "comment":
            return parse_comment(args[1:])
    except RuleError as e:
        raise RuleError(f"'{kw} {sub}' : {e}.") from None
    if sub in ("set-var", "set-var-fmt", "unset-var") or sub.startswith(("set-var(", "set-var-fmt(", "unset-var(")):
        return Rule(ACTION)
    extra = "'disable-on-404', 'send-state', " if http else ""
    rest = "'comment', 'connect', 'send', 'expect'" if http else "'comment', 'connect', 'send', 'send-binary', 'expect'"
    raise RuleError(
        f"'{kw}' only supports {extra}{rest}, 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{sub}'"
    )


# ------------------------------------------------------------------ addresses
def split_addr(text: str) -> tuple[str | None, int]:
    """``addr`` values: ``ipv4[:port]``, ``[ipv6]:port``, ``ipv6`` or a host name.

    Returns (host, port) with port 0 when absent, or (None, 0) when malformed.
    """
    import ipaddress

    t = text
    for prefix in ("ipv4@", "ipv6@"):
        t = t.removeprefix(prefix)
    port = 0
    host = t
    if t.startswith("["):
        end = t.find("]")
        if end < 0:
            return None, 0
        host = t[1:end]
        rest = t[end + 1 :]
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                return None, 0
            port = int(rest[1:])
    elif t.count(":") == 1:
        host, _, p = t.partition(":")
        if p:
            if not p.isdigit():
                return None, 0
            port = int(p)
    if not host:
        return None, 0
    try:
        ipaddress.ip_address(host)
        return host, port
    except ValueError:
        pass
    if not re.fullmatch(r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?", host):
        return None, 0
    return host, port


# ------------------------------------------------------------------ rule sets
def _first(rules: list[Rule]) -> int:
    for i, r in enumerate(rules):
        if r.action not in (COMMENT, ACTION):
            return i
    return -1


def _last(rules: list[Rule]) -> int:
    for i in range(len(rules) - 1, -1, -1):
        if rules[i].action not in (COMMENT, ACTION):
            return i
    return -1


def _next(rules: list[Rule], start: int) -> int:
    for i in range(start + 1, len(rules)):
        if rules[i].action not in (COMMENT, ACTION):
            return i
    return -1


def _next_index(rules: list[Rule], http: bool) -> int:
    if not rules:
        return 0
    last = rules[-1]
    if http and last.action == SEND and last.from_opt:
        return 0
    return last.index + 1


def _overwrite_send(old: Rule, new: Rule) -> None:
    """``tcpcheck_overwrite_send_http_rule`` as HAProxy 2.6.12 behaves."""
    o, n = old.http, new.http
    assert o is not None and n is not None
    if n.meth is not None:
        o.meth = n.meth
    if n.uri is not None:
        o.uri, o.uri_lf = n.uri, n.uri_lf
    if n.vsn is not None:
        o.vsn = n.vsn
    if n.hdrs:
        o.hdrs = list(n.hdrs)
    if n.body is not None:
        o.body, o.body_lf = n.body, n.body_lf


def httpchk_request(args: list[str]) -> tuple[Rule, str | None]:
    """The send rule an ``option httpchk [<method>] [<uri>] [<version>]`` line implies.

    Returns (rule, warning) -- the warning when headers/body hide in the version word.
    """
    meth = uri = vsn = None
    a = list(args) + ["", "", ""]
    warn = None
    hdrs_text = body = None
    v = a[2]
    if v:
        i_hdr = v.find("\r\n")
        i_body = v.find("\r\n\r\n")
        if i_hdr == i_body:
            i_hdr = -1
        if i_body >= 0:
            body = v[i_body + 4 :]
            v = v[:i_body]
        if i_hdr >= 0:
            hdrs_text = v[i_hdr + 2 :]
            v = v[:i_hdr]
        if hdrs_text is not None or body is not None:
            warn = (
                "hiding headers or body at the end of the version string is deprecated."
                " Please, consider to use 'http-check send' directive instead."
            )
    if a[0]:
        if not a[1]:
            uri = a[0]
        else:
            meth = a[0]
    if a[1]:
        uri = a[1]
    if a[2]:
        vsn = v
    req = HttpSend(meth=meth or "OPTIONS", uri=uri, vsn=vsn)
    if hdrs_text:
        for line in hdrs_text.split("\r\n"):
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise RuleError(f"unable to parse the request '{hdrs_text}\r\n\r\n'.")
            req.hdrs.append((name, value.strip(" \t")))
    if body is not None:
        req.body = body
    return Rule(SEND, send_type="http", http=req, from_opt=True), warn


def add_http_rule(rules: list[Rule], chk: Rule, active: bool) -> None:
    """Add one http-check rule as ``proxy_parse_httpcheck`` + ``tcpcheck_add_http_rule`` do.

    ``active`` tells whether ``option httpchk`` is in effect at that line.
    """
    if chk.from_opt:
        first = _first(rules)
        r = first
        if r >= 0 and rules[r].action == CONNECT:
            r = _next(rules, r)
        if r < 0 or rules[r].action != SEND:
            rules.insert(0, chk)
        elif rules[r].from_opt:
            del rules[r]
            rules.insert(0, chk)
        else:
            _overwrite_send(rules[r], chk)
        return
    chk.index = _next_index(rules, True)
    if not active:
        rules.append(chk)
        return
    last = _last(rules)
    lr = rules[last] if last >= 0 else None
    if lr is None or (lr.action == SEND and lr.from_opt):
        pass
    elif lr.action != CONNECT and chk.action == SEND:
        raise RuleError(f"unable to add http-check send rule at step {chk.index + 1} (missing connect rule).")
    elif lr.action not in (SEND, EXPECT) and chk.action == EXPECT:
        raise RuleError(f"unable to add http-check expect rule at step {chk.index + 1} (missing send rule).")
    elif lr.action != EXPECT and chk.action == CONNECT:
        raise RuleError(f"unable to add http-check connect rule at step {chk.index + 1} (missing expect rule).")
    if chk.action == SEND:
        first = _first(rules)
        if first >= 0 and rules[first].action == SEND and rules[first].from_opt:
            old = rules.pop(first)
            _overwrite_send(old, chk)
            old.from_opt = False
            old.comment = chk.comment
            old.index = chk.index
            chk = old
    rules.append(chk)


def http_rules(entries: list[Any]) -> list[Rule]:
    """Replay a proxy's ``http_checks`` entries (model ``CheckRule``) into a rule list.

    Entry kinds: 'option' (an ``option httpchk`` line, args = its arguments), 'active' /
    'inactive' (``option httpchk`` inherited / replaced by another check option), and the
    ``http-check`` sub-keywords with their arguments.
    """
    rules: list[Rule] = []
    active = False
    for e in entries:
        if e.kind == "option":
            chk, _ = httpchk_request(e.args)
            add_http_rule(rules, chk, True)
            active = True
        elif e.kind == "active":
            active = True
        elif e.kind == "inactive":
            active = False
        else:
            chk = parse_rule("http-check", [e.kind, *e.args], rules)
            if chk is None:
                chk = Rule(ACTION)
            add_http_rule(rules, chk, active)
    return rules


def tcp_rules(entries: list[Any]) -> list[Rule]:
    """Replay a proxy's ``tcp_checks`` entries into a rule list with HAProxy's indexes."""
    rules: list[Rule] = []
    for e in entries:
        chk = parse_rule("tcp-check", [e.kind, *e.args], rules)
        if chk is None:
            chk = Rule(ACTION)
        chk.index = _next_index(rules, False)
        rules.append(chk)
    return rules


def _finish(rules: list[Rule], http: bool) -> list[Rule]:
    """``check_proxy_tcpcheck``: implicit rules, comments handed down, resume points."""
    rules = [replace(r) for r in rules]
    if http:
        f = _first(rules)
        if f >= 0 and rules[f].action == SEND and rules[f].from_opt:
            n = _next(rules, f)
            if n >= 0 and rules[n].action == CONNECT:
                chk = rules.pop(f)
                n -= 1
                chk.index = rules[n].index + 1
                rules.insert(n + 1, chk)
        last = _last(rules)
        if last >= 0 and rules[last].action == SEND:
            exp = parse_expect(["status", "200-399"], True)
            exp.index = rules[last].index + 1
            rules.append(exp)
    f = _first(rules)
    if f < 0 or rules[f].action != CONNECT:
        rules.insert(0, Rule(CONNECT, default=True, implicit=True))
    out: list[Rule] = []
    comment: str | None = None
    prev = COMMENT
    for r in rules:
        if r.action != prev and prev != COMMENT:
            comment = None
        prev = r.action
        if r.action == COMMENT:
            comment = r.comment
            continue
        if r.action == CONNECT:
            if not r.comment and comment:
                r.comment = comment
            comment = None
        elif r.action == ACTION:
            comment = None
        elif not r.comment and comment:
            r.comment = comment
        out.append(r)
    # expect chains resume at their first inverse expect
    for i, r in enumerate(out):
        if r.action != EXPECT:
            continue
        r.head = i
        j = i - 1
        while j >= 0:
            p = out[j]
            if p.action == EXPECT:
                if p.inverse:
                    r.head = j
            elif p.action != ACTION:
                break
            j -= 1
    return out


def redis_rules() -> list[Rule]:
    send = Rule(SEND, index=0, send_type="string", data=REDIS_REQ)
    exp = Rule(EXPECT, index=1, expect_type="string", pattern=REDIS_RES, err_status="L7STS",
               on_error_payload=True, on_success="Redis server is ok")
    return [send, exp]


def mysql_user_packet(user: str, pre41: bool) -> bytes:
    """The client authentication packet (+ COM_QUIT) ``option mysql-check user`` sends."""
    u = user.encode("utf-8", "surrogateescape")
    if pre41:
        plen = len(u) + 7
        body = b"\x00\x80" + b"\x00\x00\x01" + u + b"\x00" + b"\x00"
    else:
        plen = len(u) + 7 + 27
        body = b"\x00\x82\x00\x00" + b"\x00\x80\x00\x01" + b"\x21" + b"\x00" * 23 + u + b"\x00" + b"\x00"
    hdr = bytes([plen & 0xFF, (plen >> 8) & 0xFF, (plen >> 16) & 0xFF, 1])
    return hdr + body + b"\x01\x00\x00" + b"\x00" + b"\x01"


def mysql_rules(args: list[str]) -> list[Rule]:
    rules = [Rule(CONNECT, index=0, default=True, linger=True)]
    user = args[1] if len(args) >= 2 and args[0] == "user" else None
    if user is not None:
        pre41 = len(args) >= 3 and args[2] == "pre-41"
        rules.append(Rule(SEND, index=1, send_type="binary", data=mysql_user_packet(user, pre41)))
    rules.append(Rule(EXPECT, index=len(rules), expect_type="custom", custom="mysql-iniths"))
    if user is not None:
        rules.append(Rule(EXPECT, index=len(rules), expect_type="custom", custom="mysql-ok"))
    return rules


#: check kinds that gproxy runs; the others fall back to a TCP connect
SUPPORTED_KINDS = ("tcp", "httpchk", "tcp-check", "mysql-check", "redis-check")


def build_ruleset(proxy: Any) -> Ruleset:
    """The rule set the servers of ``proxy`` (a model ``Proxy``) are checked with."""
    kind = getattr(proxy, "check_kind", "tcp") or "tcp"
    opts = getattr(proxy, "options", {}) or {}
    close_mode = bool(opts.get("httpclose") or opts.get("http-server-close"))
    if kind == "httpchk":
        rs = Ruleset(PROTO_HTTP, _finish(http_rules(proxy.http_checks), True), kind)
        rs.disable404 = bool(opts.get("http-check disable-on-404"))
        rs.send_state = bool(opts.get("http-check send-state"))
        rs.http_close_mode = close_mode
        return rs
    if kind == "tcp-check":
        return Ruleset(PROTO_TCP, _finish(tcp_rules(proxy.tcp_checks), False), kind)
    if kind == "redis-check":
        return Ruleset(PROTO_REDIS, _finish(redis_rules(), False), kind)
    if kind == "mysql-check":
        return Ruleset(PROTO_MYSQL, _finish(mysql_rules(list(proxy.check_args)), False), kind)
    return Ruleset(PROTO_DEFAULT, _finish([], False), kind)


# ------------------------------------------------------------------ HTTP request
def _ver11(vsn: str) -> bool:
    return (len(vsn) == 6 and vsn[5] == "2") or (
        len(vsn) == 8 and (vsn[5] > "1" or (vsn[5] == "1" and vsn[7] >= "1"))
    )


def _clean_connection(value: str) -> tuple[str, bool, bool]:
    """H1 mux cleaning of a ``Connection`` value: drops close/keep-alive tokens."""
    close = ka = False
    kept: list[str] = []
    untouched = True
    out = ""
    pos = 0
    for m in re.finditer(r"[^,]+", value):
        word = m.group(0).strip(" \t")
        if not word:
            continue
        if word.lower() == "keep-alive":
            ka = True
            untouched = False
            continue
        if word.lower() == "close":
            close = True
            untouched = False
            continue
        if untouched:
            out = value[: m.end()]
        else:
            out = (out + "," if out else "") + word
        kept.append(word)
        pos = m.end()
    del pos
    return (out if kept else ""), close, ka


def http_request(req: HttpSend, state_header: str | None = None, close_mode: bool = False) -> bytes:
    """The bytes HAProxy 2.6 writes for a check request (HTX built by tcpcheck, H1 mux output).

    * request line: the method as written, the URI (``/`` by default), ``HTTP/1.1`` for
      1.1+ versions, else the version as written (``HTTP/1.0`` by default);
    * the ``hdr`` headers in order, names lower-cased, empty values skipped;
    * ``x-haproxy-server-state`` (``http-check send-state``);
    * ``content-length`` unless the method is OPTIONS/GET/HEAD/DELETE without a body;
    * last, the connection mode: ``connection: close`` in HTTP/1.1 (nothing in 1.0),
      ``connection: keep-alive`` in 1.0 when a ``Connection: keep-alive`` was asked for.
    """
    meth = req.meth or "OPTIONS"
    uri = unescape_lf(req.uri) if req.uri_lf and req.uri else (req.uri or "/")
    vsn = req.vsn or "HTTP/1.0"
    v11 = _ver11(vsn)
    lines = [f"{meth} {uri} {'HTTP/1.1' if v11 else vsn}"]
    hdrs: list[tuple[str, str]] = [(n.lower(), unescape_lf(v)) for n, v in req.hdrs]
    hdrs = [(n, v) for n, v in hdrs if v]
    has_conn = any(n == "connection" for n, _ in hdrs)
    if state_header is not None:
        hdrs.append(("x-haproxy-server-state", state_header))
    body = req.body or ""
    if req.body_lf:
        body = unescape_lf(body)
    bbody = body.encode("utf-8", "surrogateescape")
    if not has_conn:
        hdrs.append(("connection", "close"))
    if meth not in BODYLESS_METHODS or bbody:
        hdrs.append(("content-length", str(len(bbody))))
    close = ka = False
    for n, v in hdrs:
        if n == "connection":
            v, c, k = _clean_connection(v)
            close |= c
            ka |= k
            if not v:
                continue
        lines.append(f"{n}: {v}")
    if close:
        mode_close = True
    elif ka:
        mode_close = False
    else:
        mode_close = close_mode
    if mode_close and v11:
        lines.append("connection: close")
    elif not mode_close and not v11:
        lines.append("connection: keep-alive")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("utf-8", "surrogateescape") + bbody


# ------------------------------------------------------------------ HTTP response
_TOKEN = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_STATUS_LINE = re.compile(rb"^HTTP/(\d)\.(\d) (\d{3})(?:[ \t](.*))?$")


class HttpResponse:
    """An HTTP/1 response parsed as far as the bytes received allow."""

    def __init__(self) -> None:
        self.error = False
        self.headers_done = False
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.body = b""
        self.complete = False  # end of message seen (length, chunked end, bodyless)

    @classmethod
    def parse(cls, data: bytes, eos: bool, head_request: bool = False) -> HttpResponse:
        """Parse ``data``; ``eos`` when the server closed (a body without length ends there)."""
        r = cls()
        end = data.find(b"\r\n\r\n")
        end_lf = data.find(b"\n\n")
        if end < 0 and end_lf < 0:
            first = data.split(b"\n", 1)[0] if b"\n" in data else None
            if first is not None and not _STATUS_LINE.match(first.rstrip(b"\r")) or eos or len(data) >= BUFSIZE:
                r.error = True
            return r
        if end < 0 or (0 <= end_lf < end):
            hlen, blen = end_lf, end_lf + 2
        else:
            hlen, blen = end, end + 4
        lines = data[:hlen].split(b"\n")
        lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]
        m = _STATUS_LINE.match(lines[0])
        if not m:
            r.error = True
            return r
        r.status = int(m.group(3))
        r.reason = (m.group(4) or b"").decode("utf-8", "surrogateescape")
        for ln in lines[1:]:
            if ln[:1] in (b" ", b"\t") and r.headers:  # obsolete line folding
                n, v = r.headers[-1]
                r.headers[-1] = (n, (v + " " + ln.strip(b" \t").decode("utf-8", "surrogateescape")).strip())
                continue
            name, sep, value = ln.partition(b":")
            if not sep or not _TOKEN.match(name):
                r.error = True
                return r
            r.headers.append((name.decode("utf-8", "surrogateescape").lower(), value.strip(b" \t").decode("utf-8", "surrogateescape")))
        r.headers_done = True
        rest = data[blen:]
        if head_request or r.status in (204, 304) or 100 <= r.status < 200:
            r.complete = True
            return r
        te = ",".join(v for n, v in r.headers if n == "transfer-encoding").lower()
        cls_ = [v for n, v in r.headers if n == "content-length"]
        if "chunked" in te:
            r.body, r.complete, bad = _dechunk(rest)
            r.error = bad
        elif cls_:
            try:
                n = int(cls_[0].split(",")[0].strip())
            except ValueError:
                r.error = True
                return r
            r.body = rest[:n]
            r.complete = len(rest) >= n
        else:
            r.body = rest
            r.complete = eos
        return r

    def header_values(self, full: bool) -> list[tuple[str, str]]:
        """(name, value) pairs; values split on commas unless ``full`` (``fhdr``)."""
        if full:
            return list(self.headers)
        out = []
        for n, v in self.headers:
            for part in v.split(","):
                out.append((n, part.strip(" \t")))
        return out


def _dechunk(data: bytes) -> tuple[bytes, bool, bool]:
    body = b""
    pos = 0
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            return body, False, False
        line = data[pos:eol].rstrip(b"\r").split(b";", 1)[0].strip()
        try:
            size = int(line, 16)
        except ValueError:
            return body, False, True
        pos = eol + 1
        if size == 0:
            return body, True, False
        if len(data) < pos + size:
            body += data[pos:]
            return body, False, False
        body += data[pos : pos + size]
        pos += size
        if data[pos : pos + 2] == b"\r\n":
            pos += 2
        elif data[pos : pos + 1] == b"\n":
            pos += 1
        elif len(data) > pos + 1:
            return body, False, True
        else:
            return body, False, False


# ------------------------------------------------------------------ matching
@dataclass
class Outcome:
    """What evaluating one expect rule gave: WAIT, CONTINUE, or STOP with a status."""

    action: str
    status: str = ""
    desc: str = ""
    code: int | None = None


def onerror_msg(rule: Rule, proto: str, match: bool, info: str | None) -> str:
    """``tcpcheck_expect_onerror_message``."""
    msg = ""
    if info:
        msg = info
    elif rule.on_error is not None:
        msg = rule.on_error
    elif proto != PROTO_TCP:
        pass
    else:
        msg = "TCPCHK matched unwanted content" if match else "TCPCHK did not match content"
        t = rule.expect_type
        step = rule.step()
        if t in ("string", "body"):
            msg += f" '{rule.pattern.decode('utf-8', 'surrogateescape')}' at step {step}"
        elif t == "status":
            msg += f"(status codes) at step {step}"
        elif t == "binary":
            msg += f" (binary) at step {step}"
        elif t in ("rstring", "rstatus", "rbody"):
            msg += f" (regex) at step {step}"
        elif t == "rbinary":
            msg += f" (binary regex) at step {step}"
        elif t in ("string-lf", "body-lf"):
            msg += f" (log-format string) at step {step}"
        elif t == "binary-lf":
            msg += f" (log-format binary) at step {step}"
        elif t == "custom":
            msg += f" (custom function) at step {step}"
        elif t == "hdr":
            msg += f" (header pattern) at step {step}"
            return msg
    if rule.comment:
        msg += " comment: " + rule.comment
    return msg


def onsuccess_msg(rule: Rule, proto: str) -> str:
    """``tcpcheck_expect_onsuccess_message``."""
    if rule.on_success is not None:
        return rule.on_success
    if proto == PROTO_TCP:
        return "(tcp-check)"
    return ""


def _payload_line(data: bytes) -> str:
    """``res.payload(0,0),cut_crlf``: the received bytes up to the first CR or LF."""
    m = re.match(rb"[^\r\n]*", data)
    return (m.group(0) if m else b"").decode("utf-8", "surrogateescape")


def eval_expect(rule: Rule, buf: bytes, last_read: bool, proto: str) -> Outcome:
    """``tcpcheck_eval_expect`` for the non-HTTP rule sets."""
    last_read = last_read or len(buf) >= BUFSIZE
    t = rule.expect_type
    if not last_read:
        if t in ("string", "binary") and len(buf) < len(rule.pattern):
            return Outcome(WAIT)
        if rule.min_recv > 0 and len(buf) < rule.min_recv:
            return Outcome(WAIT)
    status = rule.err_status or "L7RSP"
    match = False
    if t in ("string", "binary"):
        match = rule.pattern in buf
    elif t == "rstring":
        match = rule.regex.search(buf[: BUFSIZE - 1]) is not None
    elif t == "rbinary":
        match = rule.regex.search(buf.hex().upper().encode()) is not None
    elif t in ("string-lf", "binary-lf"):
        if not rule.pattern:
            return Outcome(STOP, "L7RSP", "log-format string evaluated to an empty string")
        if len(buf) < len(rule.pattern):
            if not last_read:
                return Outcome(WAIT)
        else:
            match = rule.pattern in buf
    if not match and not last_read and rule.min_recv == -1:
        return Outcome(WAIT)
    if match != rule.inverse:
        return Outcome(CONTINUE)
    if rule.on_error_payload:  # redis-check: on-error "%[res.payload(0,0),cut_crlf]"
        return Outcome(STOP, status, onerror_msg(replace(rule, on_error=_payload_line(buf)), proto, match, None))
    return Outcome(STOP, status, onerror_msg(rule, proto, match, None))


def eval_mysql(rule: Rule, buf: bytes, last_read: bool, is_last: bool) -> Outcome:
    """``tcpcheck_mysql_expect_iniths`` / ``_ok``: a MySQL packet at the right offset.

    On success of the last rule, returns CONTINUE with status 'L7OK' and the server
    version as info: the engine reports it, then (as HAProxy does) the end of the rule
    set reports L7OK again without info -- so one good check counts twice towards rise.
    """
    offset = 0
    if rule.custom == "mysql-ok":
        if len(buf) < 3:
            offset = 4
        else:
            offset = 4 + buf[0] + (buf[1] << 8) + (buf[2] << 16)
    if len(buf) < offset + 4:
        if not last_read:
            return Outcome(WAIT)
        return Outcome(STOP, "L7RSP", onerror_msg(rule, PROTO_MYSQL, False, None), 0)
    plen = buf[offset] + (buf[offset + 1] << 8) + (buf[offset + 2] << 16)
    if len(buf) < offset + plen + 4:
        if not last_read:
            return Outcome(WAIT)
        return Outcome(STOP, "L7RSP", onerror_msg(rule, PROTO_MYSQL, False, None), 0)
    if buf[offset + 4 : offset + 5] == b"\xff":
        err = buf[offset + 5] + (buf[offset + 6] << 8) if len(buf) > offset + 6 else 0
        desc = buf[offset + 7 :].decode("utf-8", "surrogateescape")
        return Outcome(STOP, "L7STS", onerror_msg(rule, PROTO_MYSQL, False, desc), err)
    if not is_last:
        return Outcome(CONTINUE)
    version = buf[5:].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    return Outcome(CONTINUE, rule.ok_status or "L7OK", version, None)


def _hdr_name_ok(rule: Rule, name: str) -> bool:
    pat = rule.hdr_name.lower()
    m = rule.hdr_name_match
    if m == "str":
        return name == pat
    if m == "beg":
        return name.startswith(pat)
    if m == "end":
        return name.endswith(pat)
    if m == "sub":
        return pat in name
    return rule.hdr_name_re.search(name) is not None


def _hdr_value_ok(rule: Rule, value: str) -> bool:
    pat = rule.hdr_value or ""
    m = rule.hdr_value_match
    if m == "str":
        return value == pat
    if m == "beg":
        return value.startswith(pat)
    if m == "end":
        return value.endswith(pat)
    if m == "sub":
        return pat in value
    return rule.hdr_value_re.search(value) is not None


def eval_expect_http(rule: Rule, resp: HttpResponse, last_read: bool, server_up: bool, disable404: bool) -> Outcome:
    """``tcpcheck_eval_expect_http`` on a response whose headers were parsed."""
    last_read = last_read or resp.complete
    code = resp.status
    if disable404 and server_up and code == 404:
        return Outcome(CONTINUE, code=code)
    t = rule.expect_type
    status = rule.err_status
    desc: str | None = None
    match = False
    if t == "status":
        match = any(lo <= code <= hi for lo, hi in rule.codes)
        status = status or "L7STS"
        desc = resp.reason if rule.on_error is None else None
    elif t == "rstatus":
        match = rule.regex.search(str(code).encode()) is not None
        status = status or "L7STS"
        desc = resp.reason if rule.on_error is None else None
    elif t == "hdr":
        for name, value in resp.header_values(rule.hdr_full or rule.hdr_value is None):
            if not _hdr_name_ok(rule, name):
                continue
            if rule.hdr_value is None or _hdr_value_ok(rule, value):
                match = True
                break
        status = status or "L7STS"
        desc = resp.reason if rule.on_error is None else None
    elif t in ("body", "rbody", "body-lf"):
        body = resp.body[: BUFSIZE - 1]
        if not body:
            if not last_read:
                return Outcome(WAIT, code=code)
            status = status or "L7RSP"
            desc = "HTTP content check could not find a response body" if rule.on_error is None else None
            return Outcome(STOP, status, onerror_msg(rule, PROTO_HTTP, False, desc), code)
        if t == "body-lf" and not rule.pattern:
            return Outcome(STOP, "L7RSP", "log-format string evaluated to an empty string", code)
        if not last_read and (
            (t in ("body", "body-lf") and len(body) < len(rule.pattern))
            or (rule.min_recv > 0 and len(body) < rule.min_recv)
        ):
            return Outcome(WAIT, code=code)
        if t == "rbody":
            match = rule.regex.search(body) is not None
        else:
            match = rule.pattern in body
        if not match and not last_read and rule.min_recv == -1:
            return Outcome(WAIT, code=code)
        status = status or "L7RSP"
        if rule.on_error is None:
            desc = "HTTP check matched unwanted content" if rule.inverse else "HTTP content check did not match"
    else:
        return Outcome(STOP, status or "L7RSP", "", code)
    if match == rule.inverse:
        return Outcome(STOP, status, onerror_msg(rule, PROTO_HTTP, match, desc), code)
    return Outcome(CONTINUE, code=code)
