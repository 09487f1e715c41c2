"""The log-format compiler: HAProxy ``log-format`` strings -> fast renderers over a session.

Owns the parsing of log-format strings exactly as HAProxy 2.6 does it (``src/log.c``
``parse_logformat_string``: ``%var``, ``%{+Q,-M}var``, ``%o``, ``%%``, ``%[sample]``,
separator merging, the same error texts), the built-in formats (``option tcplog``,
``option httplog [clf]``, ``option httpslog``) and the rendering of every variable
(``sess_build_logline``): dates, timers, quoting, hex and escaping, header/URL encoding.

A compiled format is one generated Python function per capture layout whose body is a
single f-string: no per-node dispatch at render time.  Separators are resolved at compile
time (HAProxy emits one space per run of separators, none at the start, and ``%hr``/``%hs``
vanish without a space when no capture is declared), so the only run-time branch is the
choice of variant by capture presence.

Pure module: no I/O, no sockets, no gevent, no logging.  It reads only the attributes of
the session object listed in ``SESSION_ATTRS``; it never writes to it.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "BUILTIN_FORMAT_NAMES",
    "CLF_HTTPLOG_FORMAT",
    "COUNTERS",
    "HTTPLOG_FORMAT",
    "HTTPSLOG_FORMAT",
    "HTTP_ONLY_VARS",
    "SESSION_ATTRS",
    "TCPLOG_FORMAT",
    "VARIABLES",
    "Counters",
    "compile_format",
    "date_gmt",
    "date_local",
    "date_local_tz",
    "iso_now",
    "legacy_syslog_time",
    "next_req_id",
    "parse_format",
    "reset_time_caches",
]

# --------------------------------------------------------------------------------------
# Built-in formats (src/log.c v2.6.0, identical strings through 3.x)

TCPLOG_FORMAT = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"
HTTPLOG_FORMAT = (
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc "
    "%ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r"
)
HTTPSLOG_FORMAT = (
    HTTPLOG_FORMAT + " %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/"
    "%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc"
)
CLF_HTTPLOG_FORMAT = (
    '%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta '
    "%tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl"
)
#: format string -> the directive that sets it (for HAProxy's "overrides previous" warnings)
BUILTIN_FORMAT_NAMES: dict[str, str] = {
    HTTPLOG_FORMAT: "option httplog",
    TCPLOG_FORMAT: "option tcplog",
    CLF_HTTPLOG_FORMAT: "option httplog clf",
    HTTPSLOG_FORMAT: "option httpslog",
}

#: every variable HAProxy 2.6 knows (logformat_keywords), minus the pseudo-variable 'o'
VARIABLES = (
    "B", "CC", "CS", "H", "ID", "ST", "T", "Ta", "Tc", "Th", "Ti", "Tl", "Tq", "Tr",
    "TR", "Td", "Ts", "Tt", "Tu", "Tw", "U", "ac", "b", "bc", "bi", "bp", "bq", "ci",
    "cp", "f", "fc", "fi", "fp", "ft", "hr", "hrl", "hs", "hsl", "HM", "HP", "HPO",
    "HQ", "HU", "HV", "lc", "ms", "pid", "r", "rc", "rt", "s", "sc", "si", "sp", "sq",
    "sslc", "sslv", "t", "tr", "trg", "trl", "ts", "tsc",
)
#: variables HAProxy rejects outside ``mode http`` ("format variable 'X' is reserved for HTTP mode")
HTTP_ONLY_VARS = frozenset((
    "CC", "CS", "Ta", "Ti", "Tq", "Tr", "TR", "HM", "HP", "HPO", "HQ", "HU", "HV", "r",
    "tr", "trg", "trl",
))

#: attributes of the session object that renderers read (all optional ones may be None)
SESSION_ATTRS = (
    "accept_ts", "req_ts", "cli_ip", "cli_port", "fe_ip", "fe_port", "be_ip", "be_port",
    "srv_ip", "srv_port", "frontend_name", "fe_ssl", "backend_name", "server_name",
    "t_idle", "t_handshake", "t_request", "t_queue", "t_connect", "t_response",
    "t_active", "t_total", "bytes_out", "bytes_in", "status", "term", "term_cookie",
    "actconn", "feconn", "beconn", "srvconn", "retries", "redispatched", "srv_queue",
    "be_queue", "req_captures", "res_captures", "cookie_req", "cookie_res", "method",
    "uri", "version", "unique_id",
)

# LOG_OPT_* (include/haproxy/log-t.h)
OPT_HEXA = 0x01
OPT_MANDATORY = 0x02
OPT_QUOTE = 0x04
OPT_ESC = 0x40
_FLAG_NAMES = {"M": OPT_MANDATORY, "Q": OPT_QUOTE, "X": OPT_HEXA, "E": OPT_ESC}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------------------
# Counters: %lc (per frontend in HAProxy) and %rt (global request counter)


class Counters:
    """Holder read by ``%lc`` (``log_count``: lines already sent by this frontend)."""

    __slots__ = ("log_count",)

    def __init__(self) -> None:
        self.log_count = 0


#: default holder when ``compile_format`` is not given one (a Logger passes its own)
COUNTERS = Counters()
_req_counter = [0]


def next_req_id() -> int:
    """Take the next request id (HAProxy ``global.req_count``), for ``session.req_id``."""
    n = _req_counter[0]
    _req_counter[0] = n + 1
    return n


def _cur_req_id(s: Any) -> int:
    rid = getattr(s, "req_id", None)
    return rid if rid is not None else max(_req_counter[0] - 1, 0)


HOSTNAME = socket.gethostname()
_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))


# --------------------------------------------------------------------------------------
# Dates (tools.c date2str_log / gmt2str_log / localdate2str_log, clock.c timeofday_as_iso_us)

_cache_local: list[Any] = [None, ""]
_cache_gmt: list[Any] = [None, ""]
_cache_local_tz: list[Any] = [None, ""]
_cache_legacy: list[Any] = [None, ""]
_cache_iso: list[Any] = [None, "", ""]


def reset_time_caches() -> None:
    """Forget cached per-second date strings (call after changing TZ / ``time.tzset()``)."""
    for c in (_cache_local, _cache_gmt, _cache_local_tz, _cache_legacy, _cache_iso):
        c[0] = None


def _split(ts: float) -> tuple[int, int]:
    """(seconds, microseconds) of a time.time() float, rounded to the microsecond."""
    return divmod(int(ts * 1e6 + 0.5), 1000000)


_MS3 = tuple(f".{i:03d}" for i in range(1000))


def _tz_offset(tm: time.struct_time, sep: str) -> str:
    off = tm.tm_gmtoff or 0
    sign = "-" if off < 0 else "+"
    off = abs(off) % 86400 // 60
    return f"{sign}{off // 60:02d}{sep}{off % 60:02d}"


def _dmy(tm: time.struct_time) -> str:
    return (
        f"{tm.tm_mday:02d}/{_MONTHS[tm.tm_mon - 1]}/{tm.tm_year:04d}:"
        f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"
    )


def date_local(ts: float) -> str:
    """``%t`` / ``%tr``: ``06/Feb/2009:12:14:14.655`` in local time."""
    ms = int(ts * 1e6 + 0.5) // 1000
    sec = ms // 1000
    c = _cache_local
    if c[0] != sec:
        c[1] = _dmy(time.localtime(sec))
        c[0] = sec
    return c[1] + _MS3[ms - sec * 1000]


def date_gmt(ts: float) -> str:
    """``%T`` / ``%trg``: ``06/Feb/2009:11:14:14 +0000``."""
    sec = _split(ts)[0]
    c = _cache_gmt
    if c[0] != sec:
        c[1] = _dmy(time.gmtime(sec)) + " +0000"
        c[0] = sec
    return c[1]


def date_local_tz(ts: float) -> str:
    """``%Tl`` / ``%trl``: ``06/Feb/2009:12:14:14 +0100``."""
    sec = _split(ts)[0]
    c = _cache_local_tz
    if c[0] != sec:
        tm = time.localtime(sec)
        c[1] = _dmy(tm) + " " + _tz_offset(tm, "")
        c[0] = sec
    return c[1]


def legacy_syslog_time(ts: float) -> str:
    """Syslog (RFC3164 / 'local') timestamp ``Feb  6 12:14:14`` in local time."""
    sec = int(ts // 1)
    c = _cache_legacy
    if c[0] != sec:
        tm = time.localtime(sec)
        c[1] = f"{_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"
        c[0] = sec
    return c[1]


def iso_now(ts: float) -> str:
    """RFC5424 / 'timed' / 'iso' timestamp ``2009-02-06T12:14:14.655123+01:00``."""
    sec, usec = _split(ts)
    c = _cache_iso
    if c[0] != sec:
        tm = time.localtime(sec)
        c[1] = time.strftime("%Y-%m-%dT%H:%M:%S", tm)
        c[2] = _tz_offset(tm, ":")
        c[0] = sec
    return f"{c[1]}.{usec:06d}{c[2]}"


def _req_date(s: Any) -> float:
    """Start of the request: ``req_ts`` or accept + Ti + Th (HAProxy's own computation)."""
    rts = s.req_ts
    if rts is not None:
        return rts
    ti = s.t_idle
    return s.accept_ts + ((ti + s.t_handshake) / 1000.0 if ti is not None and ti >= 0 else 0.0)


def _sec(ts: float) -> int:
    return int(ts * 1e6 + 0.5) // 1000000


def _ms(ts: float) -> int:
    return int(ts * 1e6 + 0.5) // 1000 % 1000


# --------------------------------------------------------------------------------------
# Encoders (log.c init_log maps; tools.c encode_string / escape_string)


def _byte_escape_table(special: str) -> dict[int, str]:
    tbl = {i: f"#{i:02X}" for i in range(32)}
    tbl.update({i: f"#{i:02X}" for i in range(127, 256)})
    tbl.update({ord(c): f"#{ord(c):02X}" for c in special})
    return tbl


_HDR_TBL = _byte_escape_table('"#{|}')  # captured headers
_URL_TBL = _byte_escape_table('"#')  # request line
_HDR_TBL_E = {**_HDR_TBL, ord("\\"): "\\\\", ord("]"): "\\]"}
_URL_TBL_E = {**_URL_TBL, ord("\\"): "\\\\", ord("]"): "\\]"}
_ESC_NEED = re.compile(r'["\\\]]')


def _as_bytes_str(v: str) -> str:
    """View a str as HAProxy's bytes: chars >= 256 become their UTF-8 bytes (as latin-1)."""
    if all(ord(c) < 256 for c in v):
        return v
    return v.encode("utf-8", "surrogatepass").decode("latin-1")


def _make_encoder(special: str, tbl: dict[int, str]) -> Callable[[str], str]:
    """Encoder for one map: printable ASCII outside ``special`` passes as is (fast path)."""
    specials = tuple(special)

    def enc(v: str) -> str:
        if v.isascii() and v.isprintable():
            for ch in specials:
                if ch in v:
                    break
            else:
                return v
        return _as_bytes_str(v).translate(tbl)

    return enc


_enc_hdr = _make_encoder('"#{|}', _HDR_TBL)
_enc_hdr_e = _make_encoder('"#{|}\\]', _HDR_TBL_E)
_enc_url = _make_encoder('"#', _URL_TBL)
_enc_url_e = _make_encoder('"#\\]', _URL_TBL_E)


def _esc(v: str | None) -> str:
    """``+E`` on a plain text field: backslash before ``"``, ``\\`` and ``]``."""
    if not v:
        return ""
    if _ESC_NEED.search(v) is None:
        return v
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _hex_ip(v: str | None) -> str:
    if v is None or v == "":
        return "-"
    try:
        if ":" in v:
            return socket.inet_pton(socket.AF_INET6, v).hex().upper()
        return socket.inet_pton(socket.AF_INET, v).hex().upper()
    except OSError:
        # unix sockets: HAProxy stops the line here; gproxy prints '-' instead
        return "-"


def _port(ip: str | None, port: int | None, hexa: bool, quote: bool, mandatory: bool = True) -> str:
    if port is None or ip is None:
        return '""' if quote else ("-" if mandatory else "")
    if hexa and ip != "unix":
        return f"{port & 0xFFFF:04X}"
    return str(port)


# --------------------------------------------------------------------------------------
# Request-line pieces (%r %HM %HU %HP %HPO %HQ %HV)

_BADREQ = "<BADREQ>"


def _req_line(s: Any) -> str:
    m = s.method
    if not m:
        return _BADREQ
    u, v = s.uri, s.version
    if u is None:
        return m
    return f"{m} {u} {v}" if v else f"{m} {u}"


def _h_method(s: Any) -> str:
    m = s.method
    return m if m and s.uri is not None else _BADREQ


def _h_uri(s: Any) -> str:
    u = s.uri
    return u if s.method and u is not None else _BADREQ


def _h_path(s: Any) -> str:
    u = s.uri
    if not s.method or u is None:
        return _BADREQ
    q = u.find("?")
    return u if q < 0 else u[:q]


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def _h_path_only(s: Any) -> str:
    u = s.uri
    if not s.method or u is None:
        return _BADREQ
    if u.startswith("/"):
        path = u
    elif u == "*" or u == "":
        return ""
    else:
        m = _SCHEME.match(u)
        if m is None:  # authority form (CONNECT): no path
            return ""
        rest = u[m.end() :]
        slash = rest.find("/")
        if slash < 0:
            return ""
        path = rest[slash:]
    q = path.find("?")
    return path if q < 0 else path[:q]


def _h_query(s: Any) -> str:
    u = s.uri
    if not s.method or u is None:
        return _BADREQ
    q = u.find("?")
    return "" if q < 0 else u[q:]


def _h_version(s: Any) -> str:
    if not s.method or s.uri is None:
        return _BADREQ
    return s.version or "HTTP/0.9"


# --------------------------------------------------------------------------------------
# Timers derived from the session's per-step durations


def _tq(s: Any) -> int:
    tr = s.t_request
    if tr is None or tr < 0:
        return -1
    ti = s.t_idle
    return tr + (s.t_handshake or 0) + (ti if ti and ti > 0 else 0)


def _pos(v: int | None) -> int:
    return v if v is not None and v > 0 else 0


def _td_http(s: Any) -> int:
    tr = s.t_response
    if tr is None or tr < 0:
        return -1
    used = _pos(s.t_handshake) + _pos(s.t_idle) + _pos(s.t_request) + _pos(s.t_queue) + _pos(s.t_connect) + tr
    return s.t_total - used


def _td_tcp(s: Any) -> int:
    tc = s.t_connect
    if tc is None or tc < 0:
        return -1
    used = _pos(s.t_handshake) + _pos(s.t_idle) + _pos(s.t_request) + _pos(s.t_queue) + tc
    return s.t_total - used


def _tw_tcp(tw: int) -> int:
    """HAProxy 2.6 quirk: outside HTTP the request date is never set (t_request = -1), so
    the logged Tw is ``t_queue - (-1)``: one more than the queue time (observed: a TCP
    session that never queued logs ``1/0/50``)."""
    return tw + 1 if tw >= 0 else tw


def _tu(s: Any) -> int:
    return s.t_total - _pos(s.t_idle)


# --------------------------------------------------------------------------------------
# Captured headers


def _hdr_block(caps: list[str | None], esc: bool) -> str:
    enc = _enc_hdr_e if esc else _enc_hdr
    return "{" + "|".join(enc(c) if c else "" for c in caps) + "}"


def _hdr_list(caps: list[str | None], esc: bool, quote: bool) -> str:
    enc = _enc_hdr_e if esc else _enc_hdr
    if quote:
        return " ".join('"' + (enc(c) if c is not None else "") + '"' for c in caps)
    return " ".join(enc(c) if c is not None else "-" for c in caps)


# --------------------------------------------------------------------------------------
# Parser (a port of parse_logformat_string's state machine, with its error texts)

_LF_INIT, _LF_TEXT, _LF_SEPARATOR, _LF_VAR, _LF_STARTVAR, _LF_STARG, _LF_EDARG, _LF_STEXPR, _LF_EDEXPR, _LF_END = range(
    10
)

# parsed nodes: ('text', str) | ('sep',) | ('var', name, opts) | ('expr', text, opts)
Node = tuple[Any, ...]


def _isalpha(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _isalnum(c: str) -> bool:
    return _isalpha(c) or ("0" <= c <= "9")


def _parse_flags(arg: str, opts: int) -> int:
    """parse_logformat_var_args: '+Q,-M' style flags; unknown names are ignored."""
    for part in arg.split(","):
        sp = None
        flag = 0
        for i, ch in enumerate(part):
            if ch == "+":
                sp, flag = i + 1, 1
            elif ch == "-":
                sp, flag = i + 1, 2
        if sp is None:
            continue
        mask = _FLAG_NAMES.get(part[sp:])
        if mask is None:
            continue
        opts = opts | mask if flag == 1 else opts & ~mask
    return opts


def _scan_expr(fmt: str, start: int) -> int:
    """Index of the first character that is not part of a sample expression."""
    depth = 0
    i, n = start, len(fmt)
    while i < n:
        c = fmt[i]
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return i
            depth -= 1
        elif depth == 0 and (c == "]" or c in " \t"):
            return i
        i += 1
    return n


def parse_format(fmt: str, mode: str = "http") -> list[Node]:
    """Parse a log-format string into nodes; ValueError with HAProxy's message on error.

    ``mode`` is the proxy mode ('tcp' rejects the HTTP-only variables as HAProxy does).
    """
    s = fmt + "\0"
    nodes: list[Node] = []
    defopts = OPT_MANDATORY
    sp = 0
    arg: int | None = None
    var: int | None = None
    arg_len = var_len = 0
    cformat = _LF_INIT
    pformat = _LF_INIT
    i = 0
    while cformat != _LF_END:
        c = s[i]
        pformat = cformat
        if c == "\0":
            cformat = _LF_END
        if pformat == _LF_STARTVAR:
            arg = var = None
            arg_len = var_len = 0
            if c == "{":
                cformat = _LF_STARG
                arg = i + 1
            elif c == "[":
                cformat = _LF_STEXPR
                var = i + 1
            elif _isalpha(c):
                cformat = _LF_VAR
                var = i
            elif c == "%":
                cformat = _LF_TEXT
            elif ("0" <= c <= "9") or c in " \t":
                raise ValueError(
                    f"unexpected variable name near '{c}' at position {i} line : '{fmt}'. "
                    "Maybe you want to write a single '%', use the syntax '%%'"
                )
            else:
                cformat = _LF_INIT
        elif pformat == _LF_STARG:
            if c == "}":
                cformat = _LF_EDARG
                arg_len = i - (arg or 0)
        elif pformat == _LF_EDARG:
            if c == "[":
                cformat = _LF_STEXPR
                var = i + 1
            elif _isalnum(c):
                cformat = _LF_VAR
                var = i
            else:
                a = fmt[arg : (arg or 0) + arg_len] if arg is not None else ""
                raise ValueError(f"parse argument modifier without variable name near '%{{{a}}}'")
        elif pformat == _LF_STEXPR:
            assert var is not None
            end = _scan_expr(fmt, var)
            expr = fmt[var:end]
            opts = defopts
            if arg_len and arg is not None:
                opts = _parse_flags(fmt[arg : arg + arg_len], opts)
            nodes.append(("expr", expr, opts, fmt[var:]))
            if s[end] == "]":
                cformat = pformat = _LF_EDEXPR
                sp = end
                i = end
            else:
                bad = s[end]
                if bad != "\0" and bad.isprintable():
                    raise ValueError(f"expected ']' after '{expr}', but found '{bad}'")
                raise ValueError(f"missing ']' after '{expr}'")
        elif pformat == _LF_VAR:
            var_len = i - (var or 0)
            if not _isalnum(c):
                cformat = _LF_INIT
        else:
            cformat = _LF_INIT

        if cformat == _LF_INIT:
            if c == "%":
                cformat = _LF_STARTVAR
            elif c == "\0":
                cformat = _LF_END
            elif c == " ":
                cformat = _LF_SEPARATOR
            else:
                cformat = _LF_TEXT

        if cformat != pformat or pformat == _LF_SEPARATOR:
            if pformat == _LF_VAR:
                assert var is not None
                name = fmt[var : var + var_len]
                if name == "o":
                    if arg_len and arg is not None:
                        defopts = _parse_flags(fmt[arg : arg + arg_len], defopts)
                elif name in _VAR_SET:
                    if name in HTTP_ONLY_VARS and mode != "http":
                        raise ValueError(f"format variable '{name}' is reserved for HTTP mode")
                    opts = defopts
                    if arg_len and arg is not None:
                        opts = _parse_flags(fmt[arg : arg + arg_len], opts)
                    nodes.append(("var", name, opts))
                else:
                    raise ValueError(
                        f"no such format variable '{name}'. If you wanted to emit the '%' "
                        "character verbatim, you need to use '%%'"
                    )
            elif pformat == _LF_TEXT:
                nodes.append(("text", fmt[sp:i]))
            elif pformat == _LF_SEPARATOR:
                nodes.append(("sep",))
            sp = i
        i += 1

    if pformat in (_LF_STARTVAR, _LF_STARG, _LF_STEXPR):
        if var is not None:
            what = fmt[var:]
        elif arg is not None:
            what = fmt[arg:]
        else:
            what = "%"
        raise ValueError(f"truncated line after '{what}'")
    # merge adjacent text nodes (a '%%' splits them)
    out: list[Node] = []
    for nd in nodes:
        if nd[0] == "text" and out and out[-1][0] == "text":
            out[-1] = ("text", out[-1][1] + nd[1])
        else:
            out.append(nd)
    return out


_VAR_SET = frozenset(VARIABLES)
_VANISH_REQ = frozenset(("hr", "hrl"))
_VANISH_RES = frozenset(("hs", "hsl"))


# --------------------------------------------------------------------------------------
# Code generation

_SAFE_TEXT = re.compile(r"[A-Za-z0-9 !#$%&()*+,\-./:;<=>?@\[\]^_`|~]*\Z")


class _Gen:
    """Builds the f-string body of one variant; constants and helpers go in ``ns``."""

    def __init__(self, ns: dict[str, Any]) -> None:
        self.ns = ns
        self.parts: list[str] = []

    def const(self, value: Any, prefix: str = "_K") -> str:
        name = f"{prefix}{len(self.ns)}"
        self.ns[name] = value
        return name

    def text(self, t: str) -> None:
        if not t:
            return
        if _SAFE_TEXT.match(t):
            self.parts.append(t)
        else:
            self.parts.append("{" + self.const(t, "_T") + "}")

    def expr(self, e: str) -> None:
        self.parts.append("{" + e + "}")

    def body(self) -> str:
        return "".join(self.parts)


def _text_field(g: _Gen, e: str, opts: int) -> None:
    """lf_text(): quote / escape / '-' for a missing mandatory value."""
    q = opts & OPT_QUOTE
    if opts & OPT_ESC:
        e = f"_esc({e})"
    if q:
        g.text('"')
        g.expr(f"{e} or ''")
        g.text('"')
    elif opts & OPT_MANDATORY:
        g.expr(f"{e} or '-'")
    else:
        g.expr(f"{e} or ''")


def _addr_field(g: _Gen, attr: str, opts: int) -> None:
    if opts & OPT_HEXA:
        g.expr(f"_hex_ip(s.{attr})")
    else:
        _text_field(g, f"s.{attr}", opts)


def _port_field(g: _Gen, ip_attr: str, attr: str, opts: int) -> None:
    if opts & (OPT_HEXA | OPT_QUOTE | OPT_MANDATORY) == OPT_MANDATORY:
        g.expr(f"'-' if s.{attr} is None else s.{attr}")
    else:
        flags = f"{bool(opts & OPT_HEXA)}, {bool(opts & OPT_QUOTE)}, {bool(opts & OPT_MANDATORY)}"
        g.expr(f"_port(s.{ip_attr}, s.{attr}, {flags})")


def _int_field(g: _Gen, e: str, hexfmt: str | None, opts: int) -> None:
    if hexfmt and opts & OPT_HEXA:
        g.expr(f"format({e}, '{hexfmt}')")
    else:
        g.expr(e)


def _encoded_field(g: _Gen, e: str, opts: int) -> None:
    """Request-line pieces: url-encoded, quoted on +Q, never '-'."""
    enc = "_enc_url_e" if opts & OPT_ESC else "_enc_url"
    q = opts & OPT_QUOTE
    if q:
        g.text('"')
    g.expr(f"{enc}({e})")
    if q:
        g.text('"')


def _emit_var(g: _Gen, name: str, opts: int, mode: str, logasap: bool) -> None:
    plus = "+" if logasap else ""
    if name == "ci":
        _addr_field(g, "cli_ip", opts)
    elif name == "cp":
        _port_field(g, "cli_ip", "cli_port", opts)
    elif name == "fi":
        _addr_field(g, "fe_ip", opts)
    elif name == "fp":
        _port_field(g, "fe_ip", "fe_port", opts)
    elif name == "bi":
        _addr_field(g, "be_ip", opts)
    elif name == "bp":
        _port_field(g, "be_ip", "be_port", opts)
    elif name == "si":
        _addr_field(g, "srv_ip", opts)
    elif name == "sp":
        _port_field(g, "srv_ip", "srv_port", opts)
    elif name == "t":
        g.expr("_date_local(s.accept_ts)")
    elif name == "tr":
        g.expr("_date_local(_req_date(s))")
    elif name == "T":
        g.expr("_date_gmt(s.accept_ts)")
    elif name == "trg":
        g.expr("_date_gmt(_req_date(s))")
    elif name == "Tl":
        g.expr("_date_local_tz(s.accept_ts)")
    elif name == "trl":
        g.expr("_date_local_tz(_req_date(s))")
    elif name == "Ts":
        _int_field(g, "_sec(s.accept_ts)", "04X", opts)
    elif name == "ms":
        if opts & OPT_HEXA:
            g.expr("format(_ms(s.accept_ts), '02X')")
        else:
            g.expr("_ms(s.accept_ts):03d")
    elif name == "f":
        _text_field(g, "s.frontend_name", opts)
    elif name == "ft":
        q = opts & OPT_QUOTE
        if q:
            g.text('"')
        g.expr("s.frontend_name")
        g.expr("'~' if s.fe_ssl else ''")
        if q:
            g.text('"')
    elif name == "b":
        if opts & (OPT_QUOTE | OPT_ESC):
            _text_field(g, "(s.backend_name or s.frontend_name)", opts)
        else:  # never empty
            g.expr("s.backend_name or s.frontend_name")
    elif name == "s":
        if opts & (OPT_QUOTE | OPT_ESC):
            _text_field(g, "(s.server_name or '<NOSRV>')", opts)
        else:
            g.expr("s.server_name or '<NOSRV>'")
    elif name == "Th":
        g.expr("s.t_handshake")
    elif name == "Ti":
        g.expr("s.t_idle")
    elif name == "TR":
        g.expr("s.t_request")
    elif name == "Tq":
        g.expr("_tq(s)")
    elif name == "Tw":
        g.expr("s.t_queue" if mode == "http" else "_tw_tcp(s.t_queue)")
    elif name == "Tc":
        g.expr("s.t_connect")
    elif name == "Tr":
        g.expr("s.t_response")
    elif name == "Td":
        g.expr("_td_http(s)" if mode == "http" else "_td_tcp(s)")
    elif name == "Ta":
        g.text(plus)
        g.expr("s.t_active")
    elif name == "Tt":
        g.text(plus)
        g.expr("s.t_total")
    elif name == "Tu":
        g.text(plus)
        g.expr("_tu(s)")
    elif name == "ST":
        dflt = "-1" if mode == "http" else "0"
        g.expr(f"'{dflt}' if s.status is None else s.status")
    elif name == "B":
        g.text(plus)
        g.expr("s.bytes_out")
    elif name == "U":
        g.expr("s.bytes_in")
    elif name == "CC":
        _text_field(g, "s.cookie_req", opts)
    elif name == "CS":
        _text_field(g, "s.cookie_res", opts)
    elif name == "ts":
        g.expr("s.term or '--'")
    elif name == "tsc":
        g.expr("s.term or '--'")
        g.expr("s.term_cookie or '--'")
    elif name == "ac":
        g.expr("s.actconn")
    elif name == "fc":
        g.expr("s.feconn")
    elif name == "bc":
        g.expr("s.beconn")
    elif name == "sc":
        g.expr("s.srvconn")
    elif name == "rc":
        g.expr("'+' if s.redispatched else ''")
        g.expr("s.retries")
    elif name == "sq":
        g.expr("s.srv_queue")
    elif name == "bq":
        g.expr("s.be_queue")
    elif name in ("hr", "hs"):
        attr = "req_captures" if name == "hr" else "res_captures"
        q = opts & OPT_QUOTE
        if q:
            g.text('"')
        g.expr(f"_hdr_block(s.{attr}, {bool(opts & OPT_ESC)})")
        if q:
            g.text('"')
    elif name in ("hrl", "hsl"):
        attr = "req_captures" if name == "hrl" else "res_captures"
        g.expr(f"_hdr_list(s.{attr}, {bool(opts & OPT_ESC)}, {bool(opts & OPT_QUOTE)})")
    elif name == "r":
        _encoded_field(g, "_req_line(s)", opts)
    elif name == "HM":
        _encoded_field(g, "_h_method(s)", opts)
    elif name == "HU":
        _encoded_field(g, "_h_uri(s)", opts)
    elif name == "HP":
        _encoded_field(g, "_h_path(s)", opts)
    elif name == "HPO":
        _encoded_field(g, "_h_path_only(s)", opts)
    elif name == "HQ":
        _encoded_field(g, "_h_query(s)", opts)
    elif name == "HV":
        _encoded_field(g, "_h_version(s)", opts)
    elif name == "ID":
        _text_field(g, "s.unique_id", opts)
    elif name == "H":
        _text_field(g, "_HOSTNAME", opts)
    elif name == "pid":
        _int_field(g, "_PID[0]", "04X", opts)
    elif name == "lc":
        _int_field(g, "_counters.log_count", "04X", opts)
    elif name == "rt":
        _int_field(g, "_cur_req_id(s)", "04X", opts)
    elif name == "sslc":
        _text_field(g, "getattr(s, 'ssl_cipher', None)", opts)
    elif name == "sslv":
        _text_field(g, "getattr(s, 'ssl_version', None)", opts)
    else:  # pragma: no cover - the parser only lets known names through
        raise ValueError(f"no such format variable '{name}'")


_HELPERS: dict[str, Any] = {
    "_esc": _esc,
    "_hex_ip": _hex_ip,
    "_port": _port,
    "_date_local": date_local,
    "_date_gmt": date_gmt,
    "_date_local_tz": date_local_tz,
    "_req_date": _req_date,
    "_ms": _ms,
    "_sec": _sec,
    "_tq": _tq,
    "_td_http": _td_http,
    "_td_tcp": _td_tcp,
    "_tu": _tu,
    "_tw_tcp": _tw_tcp,
    "_hdr_block": _hdr_block,
    "_hdr_list": _hdr_list,
    "_enc_url": _enc_url,
    "_enc_url_e": _enc_url_e,
    "_req_line": _req_line,
    "_h_method": _h_method,
    "_h_uri": _h_uri,
    "_h_path": _h_path,
    "_h_path_only": _h_path_only,
    "_h_query": _h_query,
    "_h_version": _h_version,
    "_HOSTNAME": HOSTNAME,
    "_PID": _PID,
    "_cur_req_id": _cur_req_id,
}

SampleHook = Callable[[str], Callable[[Any], "str | None"]]


class FetchPlaceError(ValueError):
    """Raised by a SampleHook for a fetch that can't be used where the format is
    (``need``: the source it needs); worded as HAProxy does by ``compile_format``."""

    def __init__(self, need: str) -> None:
        super().__init__(need)
        self.need = need


def _gen_variant(
    nodes: list[Node], ns: dict[str, Any], mode: str, logasap: bool, req: bool, res: bool, samples: list[str]
) -> str:
    g = _Gen(ns)
    last_isspace = True
    for nd in nodes:
        kind = nd[0]
        if kind == "sep":
            if not last_isspace:
                g.text(" ")
                last_isspace = True
            continue
        if kind == "text":
            g.text(nd[1])
        elif kind == "var":
            name, opts = nd[1], nd[2]
            if (name in _VANISH_REQ and not req) or (name in _VANISH_RES and not res):
                continue  # HAProxy: no output and the separator state is left as it was
            _emit_var(g, name, opts, mode, logasap)
        else:  # expr
            fn_name = samples[int(nd[3])]
            _text_field(g, f"{fn_name}(s)", nd[2])
        last_isspace = False
    return g.body()


def compile_format(
    fmt: str,
    sample: SampleHook | None = None,
    *,
    mode: str = "http",
    logasap: bool = False,
    counters: Counters | None = None,
) -> Callable[[Any], str]:
    """Compile a log-format string into ``render(session) -> str``.

    ``sample(expr)`` resolves a ``%[expr]`` to ``fn(session) -> str | None``; without it a
    ``%[...]`` raises ValueError.  ``mode`` is the frontend's mode ('tcp' rejects HTTP-only
    variables, and sets what ``%ST`` and ``%Td`` mean); ``logasap`` adds HAProxy's ``+``
    before ``%Tt %Ta %Tu %B``; ``counters.log_count`` feeds ``%lc``.
    Raises ValueError with HAProxy's wording for any syntax error or unknown variable.
    """
    nodes = parse_format(fmt, mode)
    ns: dict[str, Any] = dict(_HELPERS)
    ns["_counters"] = counters if counters is not None else COUNTERS
    samples: list[str] = []
    resolved: list[Node] = []
    for nd in nodes:
        if nd[0] == "expr":
            expr, opts, rest = nd[1], nd[2], nd[3]
            if not expr:
                raise ValueError(f"failed to parse sample expression <{rest}> : missing fetch method")
            if sample is None:
                raise ValueError(f"sample fetch expressions are not supported here: '%[{expr}]'")
            try:
                fn = sample(expr)
            except FetchPlaceError as e:
                raise ValueError(f"sample fetch <{rest}> may not be reliably used here because it needs "
                                 f"'{e.need}' which is not available here") from None
            except ValueError as e:
                raise ValueError(f"failed to parse sample expression <{rest}> : {e}") from None
            name = f"_smp{len(samples)}"
            ns[name] = fn
            samples.append(name)
            resolved.append(("expr", expr, opts, str(len(samples) - 1)))
        else:
            resolved.append(nd)
    names = {nd[1] for nd in resolved if nd[0] == "var"}
    has_req = bool(names & _VANISH_REQ)
    has_res = bool(names & _VANISH_RES)
    variants = []
    for idx in range(4):
        req = not (idx & 1)
        res = not (idx & 2)
        if (idx & 1 and not has_req) or (idx & 2 and not has_res):
            variants.append(None)
            continue
        body = _gen_variant(resolved, ns, mode, logasap, req, res, samples)
        src = f'def _render_{idx}(s):\n    return f"{body}"\n'
        exec(compile(src, f"<log-format {fmt!r}>", "exec"), ns)  # noqa: S102 - generated from parsed nodes only
        variants.append(ns[f"_render_{idx}"])
    if not has_req and not has_res:
        fn0 = variants[0]
        assert fn0 is not None
        return fn0
    v0, v1, v2, v3 = variants
    if has_req and not has_res:
        assert v0 is not None and v1 is not None

        def render_req(s: Any) -> str:
            return v1(s) if s.req_captures is None else v0(s)

        return render_req
    if has_res and not has_req:
        assert v0 is not None and v2 is not None

        def render_res(s: Any) -> str:
            return v2(s) if s.res_captures is None else v0(s)

        return render_res
    table = (v0, v1, v2, v3)

    def render(s: Any) -> str:
        return table[(s.req_captures is None) | ((s.res_captures is None) << 1)](s)  # type: ignore[misc]

    return render
