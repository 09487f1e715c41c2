"""Sample fetches and converters: HAProxy's ``src``, ``path``, ``req.hdr(host),lower,map(f)``.

Owns the sample expression language of HAProxy 2.6 (``src/sample.c``, ``src/arg.c``,
``src/http_fetch.c``, ``src/map.c``): parsing an expression (fetch keyword, its
parenthesised arguments with HAProxy's second-level quoting, comma-separated converters,
the same error texts), the sample types and their casts, the fetches gproxy implements
and their converters.  ACLs (``acl.py``), rules (``rules.py``) and ``%[...]`` in
log-format strings all evaluate samples through ``SampleExpr``.

A sample is a plain Python value whose type gives HAProxy's sample type: ``bool``,
``int`` (sint), ``str``, ``bytes`` (bin), ``ipaddress.IPv4Address``/``IPv6Address``.
A fetch that has nothing to return (no such header, no response yet, a TCP session
asked for an HTTP fetch) returns ``None``.  Fetches read a ``session.Session`` and an
optional ``message.Txn``; they never write.

Pure module: no sockets, no gevent, never yields.  Pattern and map files are read at
configuration time only.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

from .. import payload as _payload
from ..config.values import LLONG_MAX, LLONG_MIN, read_int64
from . import body as _body

__all__ = [
    "CONVERTERS",
    "FETCHES",
    "PLACES",
    "Converter",
    "Fetch",
    "ParseCtx",
    "Ref",
    "SampleError",
    "SampleExpr",
    "cast",
    "parse_expr",
    "parse_expr_text",
    "set_runtime",
    "smp_type",
    "to_str",
]



class SampleError(ValueError):
    """A parse error in a sample expression; the text is HAProxy's."""


# --------------------------------------------------------------------------------------
# types and casts (src/sample.c sample_casts)

T_ANY, T_BOOL, T_SINT, T_ADDR, T_IPV4, T_IPV6, T_STR, T_BIN, T_METH = (
    "any", "bool", "sint", "addr", "ipv4", "ipv6", "str", "bin", "meth",
)
_IPV4 = ipaddress.IPv4Address
_IPV6 = ipaddress.IPv6Address


def smp_type(v: Any) -> str:
    """The HAProxy sample type of a Python sample value."""
    if isinstance(v, bool):
        return T_BOOL
    if isinstance(v, int):
        return T_SINT
    if isinstance(v, str):
        return T_STR
    if isinstance(v, bytes):
        return T_BIN
    if isinstance(v, _IPV4):
        return T_IPV4
    if isinstance(v, _IPV6):
        return T_IPV6
    return T_ANY


#: (from, to) pairs HAProxy cannot cast (NULL in sample_casts)
_NO_CAST = {
    (T_BOOL, T_ADDR), (T_BOOL, T_IPV4), (T_BOOL, T_IPV6), (T_BOOL, T_METH),
    (T_SINT, T_METH),
    (T_IPV4, T_BOOL), (T_IPV4, T_METH), (T_IPV6, T_BOOL), (T_IPV6, T_SINT), (T_IPV6, T_METH),
    (T_BIN, T_BOOL), (T_BIN, T_SINT), (T_BIN, T_ADDR), (T_BIN, T_IPV4), (T_BIN, T_IPV6),
    (T_METH, T_BOOL), (T_METH, T_SINT), (T_METH, T_ADDR), (T_METH, T_IPV4), (T_METH, T_IPV6),
}


def can_cast(src: str, dst: str) -> bool:
    if src == T_ANY or dst == T_ANY or src == dst:
        return True
    if src == T_ADDR:  # an address is an IPv4 or IPv6 at run time
        return dst in (T_IPV4, T_IPV6, T_STR, T_BIN, T_ADDR)
    return (src, dst) not in _NO_CAST


def to_str(v: Any) -> str | None:
    """Cast a sample to a string (None when impossible)."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, bytes):
        z = v.find(b"\0")
        return (v if z < 0 else v[:z]).decode("latin-1")
    if isinstance(v, (_IPV4, _IPV6)):
        return str(v)
    return str(v)


def cast(v: Any, dst: str) -> Any:
    """HAProxy's sample_convert(): the sample as type ``dst``, or None if it can't be."""
    if v is None or dst == T_ANY:
        return v
    src = smp_type(v)
    if src == dst:
        return v
    if dst == T_STR or dst == T_METH:
        if src == T_METH:
            return v
        return to_str(v)
    if dst in (T_SINT, T_BOOL):
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, int):
            return v
        if isinstance(v, str):
            if not v:
                return None
            return read_int64(v)[0]
        if isinstance(v, _IPV4):
            return int(v)
        return None
    if dst in (T_ADDR, T_IPV4, T_IPV6):
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            a4 = _IPV4(v & 0xFFFFFFFF)
            return a4 if dst != T_IPV6 else _IPV6("::ffff:" + str(a4))
        if isinstance(v, str):
            try:
                a = ipaddress.ip_address(v)
            except ValueError:
                return None
            if dst == T_IPV4 and isinstance(a, _IPV6):
                return None
            if dst == T_IPV6 and isinstance(a, _IPV4):
                return _IPV6("::ffff:" + str(a))
            return a
        if isinstance(v, _IPV4):
            return _IPV6("::ffff:" + str(v)) if dst == T_IPV6 else v
        if isinstance(v, _IPV6):
            if dst == T_IPV4:
                m = v.ipv4_mapped
                return m
            return v
        return None
    if dst == T_BIN:
        if isinstance(v, str):
            return v.encode("latin-1", "replace")
        if isinstance(v, bool):
            return (1 if v else 0).to_bytes(8, "big")
        if isinstance(v, int):
            return (v & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
        if isinstance(v, (_IPV4, _IPV6)):
            return v.packed
        return None
    return None


# --------------------------------------------------------------------------------------
# argument types and the second-level argument parser (src/arg.c make_arg_list)

A_SINT, A_STR, A_IPV4, A_MSK4, A_IPV6, A_MSK6, A_TIME, A_SIZE, A_FE, A_BE, A_TAB, A_SRV, A_USR, A_REG = (
    "integer", "string", "IPv4 address", "IPv4 mask", "IPv6 address", "IPv6 mask", "delay",
    "size", "frontend", "backend", "table", "server", "user list", "regex",
)
_RESOLVED = (A_FE, A_BE, A_TAB, A_SRV, A_USR)


@dataclass
class Ref:
    """An argument naming a configuration object resolved after parsing (userlist, backend).

    ``value`` is filled by ``acl.resolve_refs`` once every section has been read.
    """

    kind: str  # A_USR | A_BE | A_FE
    name: str
    file: str = ""
    line: int = 0
    pos: int = 1
    what: str = ""  # "ACL keyword 'http_auth'" / "sample fetch keyword 'nbsrv'"
    where: str = "in"  # "in", "in http-request expression in", ...
    proxy: str = ""
    value: Any = None
    conv: str = ""  # the converter the argument belongs to ('' for a fetch)
    error: str = ""  # an error HAProxy reports after parsing (bad regsub regex)

    def __deepcopy__(self, memo: dict[int, Any]) -> Ref:
        # rules copied from a defaults section share the reference resolved after parsing
        return self


class _ArgErr(Exception):
    def __init__(self, msg: str, pos: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.pos = pos


def _is_idchar(c: str) -> bool:
    return c.isalnum() or c in "._-+$"


def make_arg_list(text: str, start: int, types: tuple[str, ...], nmand: int) -> tuple[list[Any], int, int]:
    """Parse ``(a,b)`` at ``text[start]``: returns (raw string args, end index, count).

    Port of the quoting rules of make_arg_list(): single/double quotes, backslash
    escapes of ``\\ ' " space``, ``\\r \\n \\t``; a ``,`` or ``)`` ends an argument outside
    quotes.  Raises _ArgErr(msg, position) with HAProxy's messages.
    """
    n = len(text)
    empty = start >= n or text[start] != "("
    i = start if empty else start + 1
    nbarg = len(types)
    out: list[str] = []
    pos = 0
    if nbarg and not (empty and not nmand):
        while pos < nbarg:
            buf: list[str] = []
            sq = dq = False
            while not empty and i < n:
                c = text[i]
                if c == '"' and not sq:
                    dq = not dq
                    i += 1
                    continue
                if c == "'" and not dq:
                    sq = not sq
                    i += 1
                    continue
                if c == "\\" and not sq and i + 1 < n:
                    nx = text[i + 1]
                    if nx in "\\ \"'":
                        buf.append(nx)
                        i += 2
                    elif nx == "r":
                        buf.append("\r")
                        i += 2
                    elif nx == "n":
                        buf.append("\n")
                        i += 2
                    elif nx == "t":
                        buf.append("\t")
                        i += 2
                    else:
                        buf.append(c)
                        i += 1
                    continue
                if not sq and not dq and c in ",)":
                    break
                buf.append(c)
                i += 1
            word = "".join(buf)
            typ = types[pos]
            if typ in (A_SINT, A_IPV4, A_MSK4, A_IPV6, A_MSK6, A_TIME, A_SIZE) and not word:
                # empty_err
                if pos >= nmand:
                    break
                raise _ArgErr(f"expected type '{typ}' at position {pos + 1}, but got nothing", pos)
            if typ == A_SINT:
                _, used = read_int64(word)
                if used < len(word):
                    raise _ArgErr(f"failed to parse '{word}' as type '{typ}' at position {pos + 1}", pos)
            out.append(word)
            pos += 1
            if empty or i >= n or text[i] == ")" or pos >= nbarg:
                break
            i += 1  # skip the comma
    if pos < nmand:
        typ = types[pos] if pos < nbarg else A_STR
        raise _ArgErr(f"missing arguments (got {pos}/{nmand}), type '{typ}' expected", pos)
    if not empty:
        if i < n and text[i] == ")":
            i += 1
        else:
            rest = text[i:]
            msg = f"expected ')' before '{rest}'" if rest else "expected ')'"
            raise _ArgErr(msg, pos - 1 if pos > 1 else pos)
    return out, i, pos


# --------------------------------------------------------------------------------------
# where a sample may be used (fetch_ckp_names / fetch_src_names, simplified)

FE_CON = "frontend tcp-request connection rule"
FE_SES = "frontend tcp-request session rule"
FE_REQ_CNT = "frontend tcp-request content rule"
FE_HRQ = "frontend http-request header rule"
FE_SET_BCK = "frontend use-backend rule"
BE_REQ_CNT = "backend tcp-request content rule"
BE_HRQ = "backend http-request header rule"
BE_SET_SRV = "backend use-server, balance or stick-match rule"
BE_HRS = "backend http-response header rule"
BE_STO_RUL = "backend stick-store rule"
FE_HRS = "frontend http-response header rule"
LOGS = "logs"
PLACES = (FE_CON, FE_SES, FE_REQ_CNT, FE_HRQ, FE_SET_BCK, BE_REQ_CNT, BE_HRQ, BE_SET_SRV, BE_HRS, BE_STO_RUL, FE_HRS,
          LOGS)
_REQ_PLACES = frozenset((FE_REQ_CNT, FE_HRQ, FE_SET_BCK, BE_REQ_CNT, BE_HRQ, BE_SET_SRV))
_RES_PLACES = frozenset((BE_HRS, BE_STO_RUL, FE_HRS, LOGS))
_BE_PLACES = frozenset((BE_REQ_CNT, BE_HRQ, BE_SET_SRV, BE_HRS, BE_STO_RUL, FE_HRS, LOGS))
#: fetch source -> (name used in messages, places where it may be used)
SOURCES: dict[str, tuple[str, frozenset[str]]] = {
    "internal": ("internal state", frozenset(PLACES)),
    "l4cli": ("client address", frozenset(PLACES)),
    "l5cli": ("client-side connection", frozenset(PLACES)),
    "ftend": ("frontend", frozenset(PLACES)),
    "hrqhv": ("HTTP request headers", _REQ_PLACES),
    "hrqhp": ("HTTP request", _REQ_PLACES | _RES_PLACES),
    "hrshv": ("HTTP response headers", _RES_PLACES - {LOGS}),  # released before the log line
    "hrshp": ("HTTP response", _RES_PLACES),
    "hrqrs": ("HTTP request headers,HTTP response headers", (_REQ_PLACES | _RES_PLACES) - {LOGS}),
    "bkend": ("backend", _BE_PLACES),
    "l6req": ("request buffer", _REQ_PLACES),
    "l6res": ("response buffer", frozenset((BE_HRS, BE_STO_RUL, FE_HRS))),
}


# --------------------------------------------------------------------------------------
# registries


@dataclass
class Fetch:
    name: str
    fn: Callable[[Any, Any, list[Any]], Any]
    args: tuple[str, ...] = ()
    nmand: int = 0
    out: str = T_STR
    src: str = "internal"
    all: Callable[[Any, Any, list[Any]], list[Any]] | None = None  # every value (ACL iteration)
    check: Callable[[list[Any]], str | None] | None = None  # val_args: error text or None


@dataclass
class Converter:
    name: str
    fn: Callable[[Any, list[Any], Any, Any], Any]
    args: tuple[str, ...] = ()
    nmand: int = 0
    inp: str = T_STR
    out: str = T_STR
    check: Callable[[list[Any], ParseCtx], str | None] | None = None


FETCHES: dict[str, Fetch] = {}
CONVERTERS: dict[str, Converter] = {}


def fetch(name: str, args: tuple[str, ...] = (), nmand: int = 0, out: str = T_STR, src: str = "internal",
          check: Callable[[list[Any]], str | None] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        FETCHES[name] = Fetch(name, fn, args, nmand, out, src, check=check)
        return fn

    return deco


def multi(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the every-value form of fetch ``name`` (used when an ACL iterates)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        FETCHES[name].all = fn
        return fn

    return deco


def alias(new: str, old: str) -> None:
    f = FETCHES[old]
    FETCHES[new] = Fetch(new, f.fn, f.args, f.nmand, f.out, f.src, f.all, f.check)


def conv(name: str, args: tuple[str, ...] = (), nmand: int = 0, inp: str = T_STR, out: str = T_STR,
         check: Callable[[list[Any], ParseCtx], str | None] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        CONVERTERS[name] = Converter(name, fn, args, nmand, inp, out, check)
        return fn

    return deco


# --------------------------------------------------------------------------------------
# parse context and compiled expressions


@dataclass
class ParseCtx:
    """Where an expression is being parsed (for messages, references and checks).

    ``places`` are the check places of the rule (``FE_HRQ`` ...); ``refs`` collects the
    userlist/backend references to resolve after parsing; ``warn`` records a warning.
    """

    file: str = ""
    line: int = 0
    proxy: str = ""
    places: tuple[str, ...] = ()
    refs: list[Ref] | None = None
    warn: Callable[[str], None] | None = None
    argctx: str = "in"  # how smp_resolve_args names the place ("in http-request expression in")
    acl: bool = False
    kwname: str = ""  # "sample fetch keyword 'x'" / "ACL keyword 'x'" of the expression being parsed


class SampleExpr:
    """A fetch with its arguments and converters; ``eval`` gives one sample."""

    __slots__ = ("args", "convs", "fetch", "out", "text")

    def __init__(self, f: Fetch, args: list[Any], convs: list[tuple[Converter, list[Any]]], text: str) -> None:
        self.fetch = f
        self.args = args
        self.convs = convs
        self.text = text
        t = f.out
        for c, _ in convs:
            t = c.out
        self.out = t

    def _apply(self, v: Any, sess: Any, txn: Any) -> Any:
        for c, a in self.convs:
            v = cast(v, c.inp)
            if v is None:
                return None
            v = c.fn(v, a, sess, txn)
            if v is None:
                return None
        return v

    def eval(self, sess: Any, txn: Any) -> Any:
        """One sample (HAProxy's non-iterating fetch), or None."""
        v = self.fetch.fn(sess, txn, self.args)
        if v is None:
            return None
        if self.convs:
            return self._apply(v, sess, txn)
        return v

    def eval_all(self, sess: Any, txn: Any) -> list[Any]:
        """Every sample the fetch yields when an ACL iterates (e.g. each header value)."""
        f = self.fetch
        if f.all is None:
            v = self.eval(sess, txn)
            return [] if v is None else [v]
        vals = f.all(sess, txn, self.args)
        if not self.convs:
            return vals
        out = []
        for v in vals:
            v = self._apply(v, sess, txn)
            if v is not None:
                out.append(v)
        return out

    def eval_str(self, sess: Any, txn: Any) -> str | None:
        return to_str(self.eval(sess, txn))

    def __repr__(self) -> str:
        return f"SampleExpr({self.text!r})"


def _word_end(text: str, i: int) -> int:
    while i < len(text) and _is_idchar(text[i]):
        i += 1
    return i


def _finish_args(kind: str, spec_name: str, raw: list[str], types: tuple[str, ...], pctx: ParseCtx,
                 what: str) -> list[Any]:
    """Typed argument values from raw strings (regexes compiled, references queued)."""
    out: list[Any] = []
    for i, w in enumerate(raw):
        t = types[i]
        if t == A_SINT:
            out.append(read_int64(w)[0])
        elif t == A_REG:
            out.append(w)  # compiled by the converter's check
        elif t in _RESOLVED:
            ref = Ref(t, w, pctx.file, pctx.line, i + 1, what, pctx.argctx, pctx.proxy,
                      conv=spec_name if kind == "conv" else "")
            if pctx.refs is not None:
                pctx.refs.append(ref)
            out.append(ref)
        elif t == A_TIME:
            out.append(_parse_time_ms(w))
        else:
            out.append(w)
    return out


def _parse_time_ms(w: str) -> int:
    m = re.fullmatch(r"(\d+)(us|ms|s|m|h|d)?", w)
    if not m:
        return 0
    v = int(m.group(1))
    mult = {"us": 0.001, "ms": 1, None: 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}[m.group(2)]
    return int(v * mult)


def parse_expr(words: list[str], idx: int, pctx: ParseCtx | None = None, endptr: bool = False,
               fetches: dict[str, Fetch] | None = None) -> tuple[SampleExpr, int, int]:
    """HAProxy's sample_parse_expr() on ``words[idx:]``.

    Returns (expr, index of the next unused word, end offset in the last word used).
    Converters may follow in the same word after commas, or as the next words (one
    converter keyword per word).  With ``endptr`` the parse stops at the first character
    that is not part of the expression instead of failing.
    """
    pctx = pctx or ParseCtx()
    table = fetches if fetches is not None else FETCHES
    start_idx = idx
    text = words[idx] if idx < len(words) else ""
    endw = _word_end(text, 0)
    if endw == 0:
        raise SampleError("missing fetch method")
    fkw = text[:endw]
    f = table.get(fkw)
    if f is None:
        raise SampleError(f"unknown fetch method '{fkw}'")
    try:
        raw, endt, _ = make_arg_list(text, endw, f.args, f.nmand)
    except _ArgErr as e:
        raise SampleError(f"fetch method '{fkw}' : {e.msg}") from None
    kwname = f"ACL keyword '{fkw}'" if pctx.acl else f"sample fetch keyword '{fkw}'"
    pctx.kwname = kwname
    args = _finish_args("fetch", fkw, raw, f.args, pctx, kwname)
    if f.check is not None and raw:
        err = f.check(args)
        if err:
            raise SampleError(f"invalid args in fetch method '{fkw}' : {err}")
    convs: list[tuple[Converter, list[Any]]] = []
    prev = f.out
    ckw: str | None = None
    while True:
        if endt < len(text) and text[endt] != ",":
            if endptr:
                break
            if ckw:
                raise SampleError(f"missing comma after converter '{ckw}'")
            raise SampleError(f"missing comma after fetch keyword '{fkw}'")
        while endt < len(text) and text[endt] == ",":
            endt += 1
        if endt >= len(text):
            # nothing more in this word: the next word may be one more converter keyword
            nxt = words[idx + 1] if idx + 1 < len(words) else ""
            if not nxt or nxt[: _word_end(nxt, 0)] not in CONVERTERS:
                break
            idx += 1
            text = nxt
            endt = 0
        begw = endt
        endw = _word_end(text, begw)
        ckw = text[begw:endw]
        c = CONVERTERS.get(ckw)
        if c is None:
            raise SampleError(f"unknown converter '{ckw}'")
        if not can_cast(prev, c.inp):
            raise SampleError(f"converter '{ckw}' cannot be applied")
        prev = c.out
        try:
            raw, endt, cnt = make_arg_list(text, endw, c.args, c.nmand)
        except _ArgErr as e:
            raise SampleError(f"invalid arg {e.pos + 1} in converter '{ckw}' : {e.msg}") from None
        if cnt and not c.args:
            raise SampleError(f"converter '{ckw}' does not support any args")
        cargs = _finish_args("conv", ckw, raw, c.args, pctx, kwname)
        if c.check is not None:
            err = c.check(cargs, pctx)
            if err:
                raise SampleError(f"invalid args in converter '{ckw}' : {err}")
        convs.append((c, cargs))
    src_text = words[start_idx] if idx == start_idx else " ".join(words[start_idx : idx + 1])
    if endptr and idx == start_idx:
        src_text = text[:endt]
    return SampleExpr(f, args, convs, src_text), idx + 1, endt


def parse_expr_text(text: str, pctx: ParseCtx | None = None) -> tuple[SampleExpr, int]:
    """Parse an expression inside one string (``%[...]``); returns (expr, end offset)."""
    expr, _, endt = parse_expr([text], 0, pctx, endptr=True)
    return expr, endt


def check_places(expr: SampleExpr, places: Iterable[str]) -> str | None:
    """None if the fetch may be used in one of ``places``, else the source name it needs."""
    name, ok = SOURCES.get(expr.fetch.src, SOURCES["internal"])
    pl = tuple(places)
    if not pl or any(p in ok for p in pl):
        return None
    return name


# --------------------------------------------------------------------------------------
# runtime hook (nbsrv & co read the running process's backends)

_RUNTIME: list[Any] = [None]


def set_runtime(process: Any) -> None:
    """Give fetches such as ``nbsrv(be)`` access to the running process (its ``backends``)."""
    _RUNTIME[0] = process


def _find_backend(sess: Any, ref: Any) -> Any:
    be = ref.value if isinstance(ref, Ref) else None
    name = ref.name if isinstance(ref, Ref) else str(ref)
    proc = _RUNTIME[0]
    if proc is None and sess is not None:
        fe = getattr(sess, "frontend", None)
        proc = getattr(fe, "process", None)
    if proc is not None:
        for b in getattr(proc, "backends", ()):
            if b.name == name:
                return b
    return be if be is not None and hasattr(be, "servers") else None


# --------------------------------------------------------------------------------------
# layer 4 / internal fetches


def _ip(s: Any) -> Any:
    if not s or not isinstance(s, str):
        return None
    try:
        return ipaddress.ip_address(s.split("%", 1)[0])
    except ValueError:
        return None


@fetch("always_true", out=T_BOOL)
def _f_true(sess: Any, txn: Any, a: list[Any]) -> Any:
    return True


@fetch("always_false", out=T_BOOL)
def _f_false(sess: Any, txn: Any, a: list[Any]) -> Any:
    return False


@fetch("int", (A_SINT,), 1, T_SINT)
def _f_int(sess: Any, txn: Any, a: list[Any]) -> Any:
    return a[0]


@fetch("str", (A_STR,), 1, T_STR)
def _f_str(sess: Any, txn: Any, a: list[Any]) -> Any:
    return a[0]


def _chk_bool(a: list[Any]) -> str | None:
    if a[0] not in ("true", "false", "0", "1"):
        return "Expects 'true', 'false', '0' or '1'"
    return None


@fetch("bool", (A_STR,), 1, T_BOOL, check=_chk_bool)
def _f_bool(sess: Any, txn: Any, a: list[Any]) -> Any:
    return a[0] in ("true", "1")


def _chk_ipv4(a: list[Any]) -> str | None:
    try:
        a[0] = _IPV4(a[0])
    except ValueError:
        return f"failed to parse '{a[0]}' as type 'IPv4 address' at position 1"
    return None


@fetch("ipv4", (A_STR,), 1, T_IPV4, check=_chk_ipv4)
def _f_ipv4(sess: Any, txn: Any, a: list[Any]) -> Any:
    return a[0]


def _chk_ipv6(a: list[Any]) -> str | None:
    try:
        a[0] = _IPV6(a[0])
    except ValueError:
        return f"failed to parse '{a[0]}' as type 'IPv6 address' at position 1"
    return None


@fetch("ipv6", (A_STR,), 1, T_IPV6, check=_chk_ipv6)
def _f_ipv6(sess: Any, txn: Any, a: list[Any]) -> Any:
    return a[0]


@fetch("env", (A_STR,), 1, T_STR)
def _f_env(sess: Any, txn: Any, a: list[Any]) -> Any:
    return os.environ.get(a[0])


@fetch("hostname", out=T_STR)
def _f_hostname(sess: Any, txn: Any, a: list[Any]) -> Any:
    return socket.gethostname()


@fetch("date", (A_SINT, A_STR), 0, T_SINT)
def _f_date(sess: Any, txn: Any, a: list[Any]) -> Any:
    off = a[0] if a else 0
    unit = a[1] if len(a) > 1 else "s"
    now = time.time()
    if unit == "ms":
        return int(now * 1000) + off
    if unit == "us":
        return int(now * 1000000) + off
    return int(now) + off


@fetch("rand", (A_SINT,), 0, T_SINT)
def _f_rand(sess: Any, txn: Any, a: list[Any]) -> Any:
    import random

    r = random.getrandbits(32)
    return (r * a[0]) >> 32 if a and a[0] else r


@fetch("src", out=T_IPV4, src="l4cli")
def _f_src(sess: Any, txn: Any, a: list[Any]) -> Any:
    return _ip(getattr(sess, "cli_ip", None)) if sess is not None else None


@fetch("src_port", out=T_SINT, src="l4cli")
def _f_src_port(sess: Any, txn: Any, a: list[Any]) -> Any:
    p = getattr(sess, "cli_port", None) if sess is not None else None
    return p if isinstance(p, int) and _ip(getattr(sess, "cli_ip", None)) is not None else None


@fetch("dst", out=T_IPV4, src="l4cli")
def _f_dst(sess: Any, txn: Any, a: list[Any]) -> Any:
    return _ip(getattr(sess, "fe_ip", None)) if sess is not None else None


@fetch("dst_port", out=T_SINT, src="l4cli")
def _f_dst_port(sess: Any, txn: Any, a: list[Any]) -> Any:
    p = getattr(sess, "fe_port", None) if sess is not None else None
    return p if isinstance(p, int) and _ip(getattr(sess, "fe_ip", None)) is not None else None


alias("fc_src", "src")
alias("fc_src_port", "src_port")
alias("fc_dst", "dst")
alias("fc_dst_port", "dst_port")


@fetch("src_is_local", out=T_BOOL, src="l4cli")
def _f_src_is_local(sess: Any, txn: Any, a: list[Any]) -> Any:
    ip = _f_src(sess, txn, a)
    return None if ip is None else bool(ip.is_loopback)


@fetch("fe_name", out=T_STR, src="ftend")
def _f_fe_name(sess: Any, txn: Any, a: list[Any]) -> Any:
    return getattr(sess, "frontend_name", None) if sess is not None else None


@fetch("fe_id", out=T_SINT, src="ftend")
def _f_fe_id(sess: Any, txn: Any, a: list[Any]) -> Any:
    fe = getattr(sess, "frontend", None)
    return getattr(fe, "id", None)


@fetch("be_name", out=T_STR, src="bkend")
def _f_be_name(sess: Any, txn: Any, a: list[Any]) -> Any:
    be = getattr(sess, "backend", None)
    return getattr(be, "name", None)


@fetch("be_id", out=T_SINT, src="bkend")
def _f_be_id(sess: Any, txn: Any, a: list[Any]) -> Any:
    be = getattr(sess, "backend", None)
    return getattr(be, "id", None)


@fetch("srv_name", out=T_STR, src="bkend")
def _f_srv_name(sess: Any, txn: Any, a: list[Any]) -> Any:
    return getattr(sess, "server_name", None) if sess is not None else None


@fetch("ssl_fc", out=T_BOOL, src="l5cli")
def _f_ssl_fc(sess: Any, txn: Any, a: list[Any]) -> Any:
    return bool(getattr(sess, "fe_ssl", False))


@fetch("ssl_fc_sni", out=T_STR, src="l5cli")
def _f_ssl_fc_sni(sess: Any, txn: Any, a: list[Any]) -> Any:
    return getattr(sess, "ssl_sni", None) if sess is not None else None


@fetch("ssl_fc_protocol", out=T_STR, src="l5cli")
def _f_ssl_fc_protocol(sess: Any, txn: Any, a: list[Any]) -> Any:
    return getattr(sess, "ssl_version", None) if sess is not None else None


@fetch("fc_rcvd_proxy", out=T_BOOL, src="l5cli")
def _f_fc_rcvd_proxy(sess: Any, txn: Any, a: list[Any]) -> Any:
    lst = getattr(sess, "listener", None)
    spec = getattr(lst, "bind_spec", None)
    return bool(getattr(spec, "accept_proxy", False))


def _usable(be: Any) -> tuple[int, int]:
    fn = getattr(be, "active_count", None)
    if fn is not None:
        return fn()
    srvs = getattr(be, "servers", ())

    def up(s: Any) -> bool:  # a configuration-only server (no runtime yet) counts as up unless disabled
        fn = getattr(s, "usable", None)
        return bool(fn()) if fn is not None else not getattr(s, "disabled", False)

    act = sum(1 for s in srvs if not getattr(s, "backup", False) and up(s))
    bck = sum(1 for s in srvs if getattr(s, "backup", False) and up(s))
    return act, bck


def _own_backend(sess: Any) -> Any:
    return getattr(sess, "backend", None) if sess is not None else None


@fetch("nbsrv", (A_BE,), 0, T_SINT)
def _f_nbsrv(sess: Any, txn: Any, a: list[Any]) -> Any:
    be = _find_backend(sess, a[0]) if a else _own_backend(sess)
    if be is None:
        return None
    act, bck = _usable(be)
    if act:
        return act
    spec = getattr(be, "spec", None)
    allb = bool(getattr(spec, "options", {}).get("allbackups")) if spec is not None else False
    if bck and not allb:
        return 1
    return bck


@fetch("be_conn", (A_BE,), 0, T_SINT)
def _f_be_conn(sess: Any, txn: Any, a: list[Any]) -> Any:
    be = _find_backend(sess, a[0]) if a else _own_backend(sess)
    return None if be is None else getattr(be, "cur_sess", 0)


# --------------------------------------------------------------------------------------
# variables (src/vars.c): txn.vars holds 'txn.' 'req.' 'res.' 'sess.' names; 'proc.' here

PROC_VARS: dict[str, Any] = {}
VAR_SCOPES = ("proc.", "sess.", "txn.", "req.", "res.", "check.")


def check_var_name(name: str) -> str | None:
    """Error text for an invalid variable name, else None (vars_hash_name)."""
    if not name:
        return "Empty variable name cannot be accepted"
    for sc in VAR_SCOPES:
        if len(name) > len(sc) and name.startswith(sc):
            rest = name[len(sc):]
            for k, ch in enumerate(rest):
                if not (ch.isalnum() or ch in "_."):
                    return f"invalid syntax at char '{rest[k:]}'"
            return None
    return (
        f"invalid variable name '{name}'. A variable name must be start by its scope. "
        "The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
    )


def get_var(name: str, sess: Any, txn: Any) -> Any:
    if name.startswith("proc."):
        return PROC_VARS.get(name)
    if txn is not None:
        return txn.vars.get(name)
    return None


def set_var(name: str, value: Any, sess: Any, txn: Any) -> None:
    if name.startswith("proc."):
        PROC_VARS[name] = value
    elif txn is not None:
        txn.vars[name] = value


def unset_var(name: str, sess: Any, txn: Any) -> None:
    if name.startswith("proc."):
        PROC_VARS.pop(name, None)
    elif txn is not None:
        txn.vars.pop(name, None)


def _chk_var(a: list[Any]) -> str | None:
    return check_var_name(a[0])


@fetch("var", (A_STR, A_STR), 1, T_ANY, check=_chk_var)
def _f_var(sess: Any, txn: Any, a: list[Any]) -> Any:
    v = get_var(a[0], sess, txn)
    if v is None and len(a) > 1 and a[1]:
        return a[1]
    return v


# --------------------------------------------------------------------------------------
# HTTP request fetches (src/http_fetch.c)

KNOWN_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT"))


def _req(txn: Any) -> Any:
    return getattr(txn, "req", None) if txn is not None else None


def _rsp(txn: Any) -> Any:
    return getattr(txn, "rsp", None) if txn is not None else None


@fetch("method", out=T_METH, src="hrqhp")
def _f_method(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    return None if r is None else r.method


def _path_of(uri: str) -> str | None:
    """The path of a request URI as HAProxy's path fetch (None when there is none)."""
    if uri.startswith("/"):
        p = uri
    elif uri == "*" or not uri:
        return None
    else:
        m = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", uri)
        if m is None:
            return None  # authority form (CONNECT)
        rest = uri[m.end():]
        s = rest.find("/")
        if s < 0:
            return None
        p = rest[s:]
    q = p.find("?")
    return p if q < 0 else p[:q]


def _pathq_of(uri: str) -> str | None:
    if uri.startswith("/"):
        return uri
    m = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", uri)
    if m is None:
        return None
    rest = uri[m.end():]
    s = rest.find("/")
    return rest[s:] if s >= 0 else None


@fetch("path", out=T_STR, src="hrqhv")
def _f_path(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    return None if r is None else _path_of(r.uri)


@fetch("pathq", out=T_STR, src="hrqhv")
def _f_pathq(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    return None if r is None else _pathq_of(r.uri)


@fetch("url", out=T_STR, src="hrqhv")
def _f_url(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    return None if r is None else r.uri


@fetch("query", out=T_STR, src="hrqhv")
def _f_query(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    if r is None:
        return None
    q = r.uri.find("?")
    return None if q < 0 else r.uri[q + 1:]


@fetch("base", out=T_STR, src="hrqhv")
def _f_base(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    if r is None:
        return None
    host = r.headers.get_all("host")
    path = _path_of(r.uri) or ""
    return (host[0] if host else "") + path


@fetch("baseq", out=T_STR, src="hrqhv")
def _f_baseq(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    if r is None:
        return None
    host = r.headers.get_all("host")
    return (host[0] if host else "") + (_pathq_of(r.uri) or "")


@fetch("req.ver", out=T_STR, src="hrqhv")
def _f_req_ver(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    if r is None or not r.version:
        return None
    v = r.version
    return v.removeprefix("HTTP/")


alias("req_ver", "req.ver")


@fetch("req.proto_http", out=T_BOOL, src="hrqhp")
def _f_proto_http(sess: Any, txn: Any, a: list[Any]) -> Any:
    return _req(txn) is not None


alias("req_proto_http", "req.proto_http")


def _params(uri: str, delim: str) -> Iterable[tuple[str, str | None]]:
    q = uri.find(delim)
    if q < 0:
        return ()
    qs = uri[q + 1:]
    out = []
    for part in re.split("[&;" + re.escape(delim) + "]", qs):
        k, eq, v = part.partition("=")
        out.append((k, v if eq else None))
    return out


def _url_params(sess: Any, txn: Any, a: list[Any]) -> list[str]:
    r = _req(txn)
    if r is None:
        return []
    name = a[0] if a else ""
    delim = a[1][:1] if len(a) > 1 and a[1] else "?"
    out = []
    for k, v in _params(r.uri, delim):
        if v is None:
            continue
        if not name or k == name:
            out.append(v)
    return out


@fetch("url_param", (A_STR, A_STR), 0, T_STR, "hrqhv")
def _f_url_param(sess: Any, txn: Any, a: list[Any]) -> Any:
    vals = _url_params(sess, txn, a)
    return vals[0] if vals else None


multi("url_param")(_url_params)
alias("urlp", "url_param")


@fetch("urlp_val", (A_STR, A_STR), 0, T_SINT, "hrqhv")
def _f_urlp_val(sess: Any, txn: Any, a: list[Any]) -> Any:
    v = _f_url_param(sess, txn, a)
    return None if v is None else _strl2ic(v)


# request body: what the engine holds of it when the rules run (gproxy/http/body.py)


def _maxhead(sess: Any) -> int:
    try:
        return sess.frontend.process.http.limits.maxhead
    except AttributeError:
        return _body.DEFAULT_ROOM


def _body_view(sess: Any, txn: Any) -> Any:
    """The request body as the fetches see it (cached per raw bytes held), None without
    an HTTP request."""
    r = _req(txn)
    if r is None:
        return None
    ex = txn.extra
    raw = ex.get("req_body")
    got = ex.get("_req_body_view")
    if got is not None and got[0] is raw:
        return got[1]
    v = _body.view(raw, r, _maxhead(sess))
    ex["_req_body_view"] = (raw, v)
    return v


def _body_fetches(side: str, view: Callable[[Any, Any], Any], src: str) -> None:
    """``<side>.body``, ``<side>.body_len``, ``<side>.body_size`` over the body ``view``
    gives (the bytes held, their length, the length the message announces)."""

    def data(sess: Any, txn: Any, a: list[Any]) -> Any:
        v = view(sess, txn)
        return None if v is None else v.data

    def length(sess: Any, txn: Any, a: list[Any]) -> Any:
        v = view(sess, txn)
        return None if v is None else len(v.data)

    def size(sess: Any, txn: Any, a: list[Any]) -> Any:
        v = view(sess, txn)
        return None if v is None else v.size

    fetch(f"{side}.body", out=T_BIN, src=src)(data)
    fetch(f"{side}.body_len", out=T_SINT, src=src)(length)
    fetch(f"{side}.body_size", out=T_SINT, src=src)(size)


_body_fetches("req", _body_view, "hrqhv")


def _body_params(sess: Any, txn: Any, a: list[Any], first: bool = False) -> list[str]:
    v = _body_view(sess, txn)
    if v is None:
        return []
    name = a[0].encode("latin-1", "replace") if a and a[0] else b""
    return [x.decode("latin-1") for x in _body.param_values(v.data, name, first)]


# declared bin as in HAProxy (converter checks), the values are strings
@fetch("req.body_param", (A_STR,), 0, T_BIN, "hrqhv")
def _f_req_body_param(sess: Any, txn: Any, a: list[Any]) -> Any:
    vals = _body_params(sess, txn, a, True)
    return vals[0] if vals else None


multi("req.body_param")(_body_params)


# response body: what the engine holds of it when the http-response rules run (the bytes
# that came with the head, or more after 'http-response wait-for-body')


def _res_body_view(sess: Any, txn: Any) -> Any:
    """The response body as ``res.body*`` see it, None without a response.  The engine
    stores ``(response, raw bytes)`` in ``txn.extra["res_body"]`` (bytes None: a response
    without a body); a response it holds no body for (one gproxy generated) has none."""
    r = _rsp(txn)
    if r is None:
        return None
    ex = txn.extra
    held = ex.get("res_body")
    if held is None or held[0] is not r or held[1] is None:
        return _body.EMPTY
    got = ex.get("_res_body_view")
    if got is not None and got[0] is held:
        return got[1]
    v = _body.view(held[1], r, _maxhead(sess))
    ex["_res_body_view"] = (held, v)
    return v


_body_fetches("res", _res_body_view, "hrshv")


def _strl2ic(s: str) -> int:
    """HAProxy strl2ic(): leading digits (with sign) as an int, 0 if none."""
    return read_int64(s.strip())[0]


# headers ---------------------------------------------------------------------------


def _hdrs(txn: Any, res: bool) -> Any:
    m = _rsp(txn) if res else _req(txn)
    return None if m is None else m.headers


def _split_values(v: str) -> list[str]:
    return [p.strip(" \t") for p in v.split(",")]


def _hdr_values(h: Any, name: str | None, full: bool) -> list[str]:
    if h is None:
        return []
    out: list[str] = []
    n = name.lower() if name else None
    for k, v in h.items:
        if n is not None and k != n:
            continue
        if full:
            out.append(v)
        else:
            out.extend(_split_values(v))
    return out


def _occ(vals: list[str], occ: int) -> Any:
    if not vals:
        return None
    if occ < 0:
        return vals[occ] if -occ <= len(vals) else None
    if occ > 0:
        return vals[occ - 1] if occ <= len(vals) else None
    return vals[-1]


def _chk_hdr(a: list[Any]) -> str | None:
    if len(a) > 1 and a[1] < -64:  # MAX_HDR_HISTORY
        return f"header occurrence must be >= {-64}"
    return None


def _mk_hdr(res: bool | None, full: bool) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def one(sess: Any, txn: Any, a: list[Any]) -> Any:
        r = res if res is not None else _rsp(txn) is not None
        vals = _hdr_values(_hdrs(txn, bool(r)), a[0] if a else None, full)
        return _occ(vals, a[1] if len(a) > 1 else -1)

    def every(sess: Any, txn: Any, a: list[Any]) -> list[Any]:
        r = res if res is not None else _rsp(txn) is not None
        vals = _hdr_values(_hdrs(txn, bool(r)), a[0] if a else None, full)
        if len(a) > 1 and a[1] != 0:
            v = _occ(vals, a[1])
            return [] if v is None else [v]
        return vals

    return one, every


for _name, _res, _full, _src in (
    ("req.hdr", False, False, "hrqhv"),
    ("req.fhdr", False, True, "hrqhv"),
    ("res.hdr", True, False, "hrshv"),
    ("res.fhdr", True, True, "hrshv"),
    ("hdr", None, False, "hrqrs"),
):
    _one, _every = _mk_hdr(_res, _full)
    FETCHES[_name] = Fetch(_name, _one, (A_STR, A_SINT), 0, T_STR, _src, _every, _chk_hdr)
alias("shdr", "res.hdr")


def _mk_cnt(res: bool | None, full: bool) -> Callable[..., Any]:
    def cnt(sess: Any, txn: Any, a: list[Any]) -> Any:
        r = res if res is not None else _rsp(txn) is not None
        h = _hdrs(txn, bool(r))
        if h is None:
            return None
        return len(_hdr_values(h, a[0] if a else None, full))

    return cnt


for _name, _res, _full, _src in (
    ("req.hdr_cnt", False, False, "hrqhv"),
    ("hdr_cnt", False, False, "hrqhv"),
    ("req.fhdr_cnt", False, True, "hrqhv"),
    ("res.hdr_cnt", True, False, "hrshv"),
    ("shdr_cnt", True, False, "hrshv"),
    ("res.fhdr_cnt", True, True, "hrshv"),
):
    FETCHES[_name] = Fetch(_name, _mk_cnt(_res, _full), (A_STR,), 0, T_SINT, _src)


def _mk_val(res: bool) -> tuple[Callable[..., Any], Callable[..., Any]]:
    one, every = _mk_hdr(res, False)

    def v1(sess: Any, txn: Any, a: list[Any]) -> Any:
        v = one(sess, txn, a)
        return None if v is None else _strl2ic(v)

    def vall(sess: Any, txn: Any, a: list[Any]) -> list[Any]:
        return [_strl2ic(v) for v in every(sess, txn, a)]

    return v1, vall


for _name, _res, _src in (("req.hdr_val", False, "hrqhv"), ("hdr_val", False, "hrqhv"),
                          ("res.hdr_val", True, "hrshv"), ("shdr_val", True, "hrshv")):
    _v1, _vall = _mk_val(_res)
    FETCHES[_name] = Fetch(_name, _v1, (A_STR, A_SINT), 0, T_SINT, _src, _vall, _chk_hdr)


def _mk_ip(res: bool) -> tuple[Callable[..., Any], Callable[..., Any]]:
    one, every = _mk_hdr(res, False)

    def i1(sess: Any, txn: Any, a: list[Any]) -> Any:
        return _ip(one(sess, txn, a))

    def iall(sess: Any, txn: Any, a: list[Any]) -> list[Any]:
        return [x for x in (_ip(v) for v in every(sess, txn, a)) if x is not None]

    return i1, iall


for _name, _res, _src in (("req.hdr_ip", False, "hrqhv"), ("hdr_ip", False, "hrqhv"),
                          ("res.hdr_ip", True, "hrshv"), ("shdr_ip", True, "hrshv")):
    _i1, _iall = _mk_ip(_res)
    FETCHES[_name] = Fetch(_name, _i1, (A_STR, A_SINT), 0, T_IPV4, _src, _iall, _chk_hdr)


def _mk_names(res: bool) -> Callable[..., Any]:
    def names(sess: Any, txn: Any, a: list[Any]) -> Any:
        h = _hdrs(txn, res)
        if h is None:
            return None
        d = a[0] if a and a[0] else ","
        return d.join(k for k, _ in h.items)

    return names


FETCHES["req.hdr_names"] = Fetch("req.hdr_names", _mk_names(False), (A_STR,), 0, T_STR, "hrqhv")
FETCHES["res.hdr_names"] = Fetch("res.hdr_names", _mk_names(True), (A_STR,), 0, T_STR, "hrshv")


# cookies ---------------------------------------------------------------------------


def _cookie_attrs(item: str, is_list: bool) -> list[tuple[str, str]]:
    """http_extract_cookie_value()'s view of one header item: (name, value) of each
    ``name=value`` attribute (``;``-separated, also ``,`` in a request Cookie list),
    quoted values kept whole, ``$``-attributes and attributes without ``=`` skipped."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(item)
    while i < n:
        j = i
        while j < n and item[j] not in "=;" and not (is_list and item[j] == ","):
            j += 1
        name = item[i:j].strip(" \t")
        if j < n and item[j] == "=":
            k = j + 1
            while k < n and item[k] in " \t":
                k += 1
            v0 = k
            quoted = False
            while k < n:
                c = item[k]
                if c == '"':
                    quoted = not quoted
                elif not quoted and (c == ";" or (is_list and c == ",")):
                    break
                k += 1
            if not name.startswith("$"):
                out.append((name, item[v0:k].rstrip(" \t")))
            i = k + 1
        else:
            i = j + 1
    return out


def _cookies(txn: Any, res: bool, name: str = "") -> list[str]:
    """Cookie values as HAProxy iterates them: every ``Cookie`` attribute in a request;
    in a response, the first attribute of each ``Set-Cookie`` item when ``name`` is
    given (the others are its attributes), every attribute otherwise."""
    h = _hdrs(txn, res)
    if h is None:
        return []
    out: list[str] = []
    for v in h.get_all("set-cookie" if res else "cookie"):
        for item in v.split(","):
            attrs = _cookie_attrs(item, not res)
            if res and name:
                attrs = attrs[:1]
            out.extend(val for k, val in attrs if not name or k == name)
    return out


def _mk_cook(res: bool | None) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    def every(sess: Any, txn: Any, a: list[Any]) -> list[Any]:
        r = res if res is not None else _rsp(txn) is not None
        return _cookies(txn, bool(r), a[0] if a else "")

    def one(sess: Any, txn: Any, a: list[Any]) -> Any:
        vals = every(sess, txn, a)
        if not vals:
            return None
        return vals[-1] if a and a[0] else vals[0]

    def cnt(sess: Any, txn: Any, a: list[Any]) -> Any:
        r = res if res is not None else _rsp(txn) is not None
        if _hdrs(txn, bool(r)) is None:
            return None
        return len(every(sess, txn, a))

    def val(sess: Any, txn: Any, a: list[Any]) -> Any:
        v = one(sess, txn, a)
        return None if v is None else _strl2ic(v)

    return one, every, cnt, val


for _pfx, _res, _src in (("req.cook", False, "hrqhv"), ("cook", False, "hrqhv"),
                         ("res.cook", True, "hrshv"), ("scook", True, "hrshv")):
    _one, _every, _cnt, _val = _mk_cook(_res)
    FETCHES[_pfx] = Fetch(_pfx, _one, (A_STR,), 0, T_STR, _src, _every)
    FETCHES[_pfx + "_cnt"] = Fetch(_pfx + "_cnt", _cnt, (A_STR,), 0, T_SINT, _src)
    FETCHES[_pfx + "_val"] = Fetch(_pfx + "_val", _val, (A_STR,), 0, T_SINT, _src,
                                   lambda s, t, a, _e=_every: [_strl2ic(v) for v in _e(s, t, a)])
_one, _every, _cnt, _val = _mk_cook(None)
FETCHES["cookie"] = Fetch("cookie", _one, (A_STR,), 0, T_STR, "hrqrs", _every)


# HTTP response ---------------------------------------------------------------------


@fetch("status", out=T_SINT, src="hrshp")
def _f_status(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _rsp(txn)
    return None if r is None else r.status


@fetch("res.ver", out=T_STR, src="hrshv")
def _f_res_ver(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _rsp(txn)
    if r is None or not r.version:
        return None
    v = r.version
    return v.removeprefix("HTTP/")


alias("resp_ver", "res.ver")


@fetch("unique-id", out=T_STR, src="internal")
def _f_unique_id(sess: Any, txn: Any, a: list[Any]) -> Any:
    if sess is None:
        return None
    from .uniqueid import generate

    return generate(sess, txn)


@fetch("capture.req.method", out=T_STR, src="hrqhp")
def _f_cap_method(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    return None if r is None else r.method


@fetch("capture.req.uri", out=T_STR, src="hrqhp")
def _f_cap_uri(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    return None if r is None else r.uri


def _capture_slot(caps: Any, a: list[Any]) -> Any:
    idx = a[0] if a else 0
    if caps is None or not 0 <= idx < len(caps):
        return None
    return caps[idx]


@fetch("capture.req.hdr", (A_SINT,), 1, T_STR, "hrqhp")
def _f_cap_req_hdr(sess: Any, txn: Any, a: list[Any]) -> Any:
    """Request capture slot <idx> (``capture request header``, ``declare capture``)."""
    return _capture_slot(getattr(sess, "req_captures", None), a)


@fetch("capture.res.hdr", (A_SINT,), 1, T_STR, "hrshp")
def _f_cap_res_hdr(sess: Any, txn: Any, a: list[Any]) -> Any:
    """Response capture slot <idx>."""
    return _capture_slot(getattr(sess, "res_captures", None), a)


# HTTP authentication (filled by userlist.py: http_auth, http_auth_group) -----------


def proxy_request(txn: Any) -> bool:
    """HAProxy's TX_USE_PX_CONN: ``option http-use-proxy-header`` on the frontend and a
    request URI that is not origin-form.  Authentication then uses Proxy-Authorization
    and ``http-request auth`` answers 407."""
    r = _req(txn)
    fe = getattr(getattr(txn, "sess", None), "frontend", None)
    return (r is not None and fe is not None and (r.uri or "/")[:1] != "/"
            and bool(fe.spec.options.get("http-use-proxy-header")))


def auth_header(txn: Any) -> str:
    return "proxy-authorization" if proxy_request(txn) else "authorization"


def basic_auth(txn: Any) -> tuple[str, str, str] | None:
    """(method, user, pass) from the Authorization header (Proxy-Authorization for a
    proxy request: get_http_auth()), or None."""
    r = _req(txn)
    if r is None:
        return None
    v = r.headers.get_all(auth_header(txn))
    if not v:
        return None
    val = v[0]
    sp = val.find(" ")
    if sp <= 0:
        return None
    meth = val[:sp]
    data = val[sp:].lstrip(" ")
    if "basic".startswith(meth.lower()):
        try:
            raw = base64.b64decode(data.encode("latin-1"), validate=True)
        except (binascii.Error, ValueError):
            return None
        txt = raw.decode("latin-1")
        z = txt.find("\0")
        if z >= 0:
            txt = txt[:z]
        user, colon, pw = txt.partition(":")
        if not colon:
            return None
        return "Basic", user, pw
    if "bearer".startswith(meth.lower()):
        return "Bearer", "", ""
    return None


@fetch("http_auth_type", out=T_STR, src="hrqhv")
def _f_auth_type(sess: Any, txn: Any, a: list[Any]) -> Any:
    r = _req(txn)
    if r is None:
        return None
    v = r.headers.get_all(auth_header(txn))
    if not v:
        return None
    b = basic_auth(txn)
    if b is None:
        return None
    return b[0]


@fetch("http_auth_user", out=T_STR, src="hrqhv")
def _f_auth_user(sess: Any, txn: Any, a: list[Any]) -> Any:
    b = basic_auth(txn)
    return b[1] if b is not None and b[0] == "Basic" else None


@fetch("http_auth_pass", out=T_STR, src="hrqhv")
def _f_auth_pass(sess: Any, txn: Any, a: list[Any]) -> Any:
    b = basic_auth(txn)
    return b[2] if b is not None and b[0] == "Basic" else None


# --------------------------------------------------------------------------------------
# converters (src/sample.c, src/map.c)


@conv("lower")
def _c_lower(v: str, a: list[Any], s: Any, t: Any) -> Any:
    return v.lower()


@conv("upper")
def _c_upper(v: str, a: list[Any], s: Any, t: Any) -> Any:
    return v.upper()


@conv("length", inp=T_STR, out=T_SINT)
def _c_length(v: str, a: list[Any], s: Any, t: Any) -> Any:
    return len(v)


@conv("hex", inp=T_BIN, out=T_STR)
def _c_hex(v: bytes, a: list[Any], s: Any, t: Any) -> Any:
    return v.hex().upper()


@conv("hex2i", inp=T_STR, out=T_SINT)
def _c_hex2i(v: str, a: list[Any], s: Any, t: Any) -> Any:
    m = re.match(r"[0-9A-Fa-f]*", v)
    try:
        return int(m.group(0), 16) if m and m.group(0) else 0
    except ValueError:
        return None


@conv("base64", inp=T_BIN, out=T_STR)
def _c_base64(v: bytes, a: list[Any], s: Any, t: Any) -> Any:
    return base64.b64encode(v).decode("ascii")


@conv("b64dec", inp=T_STR, out=T_BIN)
def _c_b64dec(v: str, a: list[Any], s: Any, t: Any) -> Any:
    try:
        return base64.b64decode(v.encode("latin-1"), validate=True)
    except (binascii.Error, ValueError):
        return None


@conv("url_dec", (A_SINT,), 0, T_STR, T_STR)
def _c_url_dec(v: str, a: list[Any], s: Any, t: Any) -> Any:
    in_form = bool(a and a[0])
    if in_form:
        v = v.replace("+", " ")
    if re.search(r"%(?![0-9A-Fa-f]{2})", v):
        return None
    return unquote_to_bytes(v).decode("latin-1")


@conv("ltrim", (A_STR,), 1)
def _c_ltrim(v: str, a: list[Any], s: Any, t: Any) -> Any:
    return v.lstrip(a[0])


@conv("rtrim", (A_STR,), 1)
def _c_rtrim(v: str, a: list[Any], s: Any, t: Any) -> Any:
    return v.rstrip(a[0])


@conv("bool", inp=T_SINT, out=T_BOOL)
def _c_bool(v: int, a: list[Any], s: Any, t: Any) -> Any:
    return v != 0


@conv("not", inp=T_SINT, out=T_BOOL)
def _c_not(v: int, a: list[Any], s: Any, t: Any) -> Any:
    return v == 0


@conv("odd", inp=T_SINT, out=T_BOOL)
def _c_odd(v: int, a: list[Any], s: Any, t: Any) -> Any:
    return bool(v & 1)


@conv("even", inp=T_SINT, out=T_BOOL)
def _c_even(v: int, a: list[Any], s: Any, t: Any) -> Any:
    return not (v & 1)


def _sat(v: int) -> int:
    return LLONG_MAX if v > LLONG_MAX else max(v, LLONG_MIN)


def _wrap64(v: int) -> int:
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >> 63 else v


def _chk_int_or_var(a: list[Any], pctx: ParseCtx) -> str | None:
    w = a[0]
    if check_var_name(w) is None:
        a[0] = ("var", w)
        return None
    v, used = read_int64(w)
    if used != len(w):
        return "expects an integer or a variable name"
    a[0] = v
    return None


def _operand(a: list[Any], sess: Any, txn: Any) -> int | None:
    x = a[0]
    if isinstance(x, tuple):
        v = cast(get_var(x[1], sess, txn), T_SINT)
        return v
    return x


def _arith(name: str, op: Callable[[int, int], int]) -> None:
    def fn(v: int, a: list[Any], s: Any, t: Any) -> Any:
        b = _operand(a, s, t)
        if b is None:
            return None
        return op(v, b)

    CONVERTERS[name] = Converter(name, fn, (A_STR,), 1, T_SINT, T_SINT, _chk_int_or_var)


def _cdiv(x: int, y: int) -> int:
    if y == 0:
        return LLONG_MAX
    if x == LLONG_MIN and y == -1:
        return LLONG_MAX
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def _cmod(x: int, y: int) -> int:
    if y == 0 or (x == LLONG_MIN and y == -1):
        return 0
    r = abs(x) % abs(y)
    return r if x >= 0 else -r


_arith("add", lambda x, y: _sat(x + y))
_arith("sub", lambda x, y: _sat(x - y))
_arith("mul", lambda x, y: _sat(x * y))
_arith("div", _cdiv)
_arith("mod", _cmod)
_arith("and", lambda x, y: _wrap64(x & y))
_arith("or", lambda x, y: _wrap64(x | y))
_arith("xor", lambda x, y: _wrap64(x ^ y))


@conv("neg", inp=T_SINT, out=T_SINT)
def _c_neg(v: int, a: list[Any], s: Any, t: Any) -> Any:
    return LLONG_MAX if v == LLONG_MIN else -v


@conv("cpl", inp=T_SINT, out=T_SINT)
def _c_cpl(v: int, a: list[Any], s: Any, t: Any) -> Any:
    return ~v


def _chk_field(a: list[Any], pctx: ParseCtx) -> str | None:
    if not a[0]:
        return "Unexpected value 0 for index"
    if not a[1]:
        return "Empty separators list"
    return None


@conv("field", (A_SINT, A_STR, A_SINT), 2, check=_chk_field)
def _c_field(v: str, a: list[Any], s: Any, t: Any) -> Any:
    idx, seps = a[0], a[1]
    count = a[2] if len(a) > 2 else 1
    n = len(v)
    if idx < 0:
        field_no = -1
        start = end = n
        while start > 0:
            if v[start - 1] in seps:
                if field_no == idx:
                    if count == 1:
                        return v[start:end]
                    if count > 1:
                        count -= 1
                else:
                    end = start - 1
                    field_no -= 1
            start -= 1
        if field_no != idx:
            return None
        return v[start:end]
    field_no = 1
    start = end = 0
    while end < n:
        if v[end] in seps:
            if field_no == idx:
                if count == 1:
                    return v[start:end]
                if count > 1:
                    count -= 1
            else:
                start = end + 1
                field_no += 1
        end += 1
    if field_no != idx:
        return None
    return v[start:end]


@conv("word", (A_SINT, A_STR, A_SINT), 2, check=_chk_field)
def _c_word(v: str, a: list[Any], s: Any, t: Any) -> Any:
    idx, seps = a[0], a[1]
    count = a[2] if len(a) > 2 else 1
    n = len(v)
    word = 0
    inword = False
    if idx < 0:
        start = end = n
        while start > 0:
            issep = v[start - 1] in seps
            if not inword:
                if not issep:
                    if word != idx:
                        word -= 1
                        end = start
                    inword = True
            elif issep:
                if word == idx:
                    if count == 1:
                        return v[start:end]
                    if count > 1:
                        count -= 1
                inword = False
            start -= 1
        if word != idx:
            return ""
        return v[start:end]
    start = end = 0
    while end < n:
        issep = v[end] in seps
        if not inword:
            if not issep:
                if word != idx:
                    word += 1
                    start = end
                inword = True
        elif issep:
            if word == idx:
                if count == 1:
                    return v[start:end]
                if count > 1:
                    count -= 1
            inword = False
        end += 1
    if word != idx:
        return ""
    return v[start:end]


#: Python ``re`` error -> (PCRE2's message, True when PCRE reports the end of the pattern)
_PCRE_ERRORS = {
    "missing ), unterminated subpattern": ("missing closing parenthesis", True),
    "unbalanced parenthesis": ("unmatched closing parenthesis", False),
    "nothing to repeat": ("quantifier does not follow a repeatable item", False),
    "unterminated character set": ("missing terminating ] for character class", True),
    "bad escape (end of pattern)": ("\\ at end of pattern", True),
}


def compile_regex(pat: str, icase: bool = False) -> re.Pattern[str]:
    """Compile a PCRE-style regex with Python's ``re``; SampleError with HAProxy's wording
    (PCRE2's texts for the common errors)."""
    try:
        return re.compile(pat, re.IGNORECASE if icase else 0)
    except re.error as e:
        msg, at_end = _PCRE_ERRORS.get(e.msg, (e.msg, False))
        off = len(pat) if at_end else (e.pos or 0)
        raise SampleError(f"regex '{pat}' is invalid (error={msg}, erroffset={off})") from None


def _chk_regsub(a: list[Any], pctx: ParseCtx) -> str | None:
    flags = a[2] if len(a) > 2 else ""
    icase = glob = False
    for ch in flags:
        if ch == "i":
            icase = True
        elif ch == "g":
            glob = True
        else:
            return f"invalid regex flag '{ch}', only 'i' and 'g' are supported"
    try:
        rx = compile_regex(a[0], icase)
    except SampleError as e:
        # HAProxy compiles regex arguments after parsing and reports them then
        ref = Ref(A_REG, a[0], pctx.file, pctx.line, 1, pctx.kwname, pctx.argctx, pctx.proxy, conv="regsub",
                  error=str(e))
        if pctx.refs is not None:
            pctx.refs.append(ref)
        rx = re.compile(r"(?!)")
    a[0] = rx
    a[2:] = [glob]
    return None


def exp_replace(template: str, m: re.Match[str] | None, src: str = "") -> str:
    """HAProxy exp_replace(): ``\\N`` back-references and ``\\xHH`` escapes in ``template``."""
    out: list[str] = []
    i, n = 0, len(template)
    while i < n:
        c = template[i]
        if c == "\\" and i + 1 < n:
            nx = template[i + 1]
            if nx.isdigit():
                num = int(nx)
                if m is not None and num <= (m.re.groups or 0):
                    g = m.group(num)
                    if g is not None:
                        out.append(g)
                i += 2
                continue
            if nx == "x":
                hx = template[i + 2 : i + 4]
                if len(hx) == 2 and all(ch in "0123456789abcdefABCDEF" for ch in hx):
                    out.append(chr(int(hx, 16)))
                i += 2 + len(hx)
                continue
            out.append(nx)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


@conv("regsub", (A_REG, A_STR, A_STR), 2, check=_chk_regsub)
def _c_regsub(v: str, a: list[Any], s: Any, t: Any) -> Any:
    rx: re.Pattern[str] = a[0]
    repl: str = a[1]
    glob = bool(a[2]) if len(a) > 2 else False
    out: list[str] = []
    pos = 0
    n = len(v)
    first = True
    while True:
        m = rx.search(v, pos) if (glob or first) else None
        if m is None:
            out.append(v[pos:])
            break
        out.append(v[pos:m.start()])
        out.append(exp_replace(repl, m))
        if pos >= n:
            break
        end = m.end()
        if end == m.start():  # empty match: copy one char and move on
            if end < n:
                out.append(v[end])
            end += 1
        pos = end
        first = False
        if pos > n:
            break
    return "".join(out)


def _chk_concat(a: list[Any], pctx: ParseCtx) -> str | None:
    for i in (1,):
        if len(a) > i and a[i]:
            err = check_var_name(a[i])
            if err:
                return err
    if not any(a):
        return "one of the optional arguments has to be nonempty"
    return None


@conv("concat", (A_STR, A_STR, A_STR), 0, check=_chk_concat)
def _c_concat(v: str, a: list[Any], s: Any, t: Any) -> Any:
    out = v + (a[0] if a else "")
    if len(a) > 1 and a[1]:
        x = to_str(get_var(a[1], s, t))
        if x is not None:
            out += x
    if len(a) > 2:
        out += a[2]
    return out


@conv("ipmask", (A_MSK4, A_MSK6), 1, T_ADDR, T_ADDR)
def _c_ipmask(v: Any, a: list[Any], s: Any, t: Any) -> Any:
    m4 = a[0]
    if isinstance(v, _IPV4):
        bits = int(m4) if str(m4).isdigit() else ipaddress.IPv4Network(f"0.0.0.0/{m4}").prefixlen
        return ipaddress.IPv4Network(f"{v}/{bits}", strict=False).network_address
    if len(a) > 1 and a[1]:
        return ipaddress.IPv6Network(f"{v}/{a[1]}", strict=False).network_address
    return None


@conv("json", (A_STR,), 0)
def _c_json(v: str, a: list[Any], s: Any, t: Any) -> Any:
    out = []
    for ch in v:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "/":
            out.append("\\/")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o > 0x7E:
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out)


@conv("host_only")
def _c_host_only(v: str, a: list[Any], s: Any, t: Any) -> Any:
    if v.startswith("["):
        e = v.find("]")
        return v[: e + 1] if e > 0 else v
    return v.split(":", 1)[0]


@conv("sdbm", (A_SINT,), 0, T_BIN, T_SINT)
def _c_sdbm(v: bytes, a: list[Any], s: Any, t: Any) -> Any:
    h = 0
    for b in v:
        h = (b + (h << 6) + (h << 16) - h) & 0xFFFFFFFF
    return h


@conv("djb2", (A_SINT,), 0, T_BIN, T_SINT)
def _c_djb2(v: bytes, a: list[Any], s: Any, t: Any) -> Any:
    h = 5381
    for b in v:
        h = ((h << 5) + h + b) & 0xFFFFFFFF
    return h


@conv("crc32", (A_SINT,), 0, T_BIN, T_SINT)
def _c_crc32(v: bytes, a: list[Any], s: Any, t: Any) -> Any:
    return binascii.crc32(v) & 0xFFFFFFFF


@conv("strcmp", (A_STR,), 1, T_STR, T_SINT, check=lambda a, p: check_var_name(a[0]))
def _c_strcmp(v: str, a: list[Any], s: Any, t: Any) -> Any:
    other = to_str(get_var(a[0], s, t))
    if other is None:
        return None
    return (v > other) - (v < other)


# maps -------------------------------------------------------------------------------


@dataclass
class MapFile:
    """A map file loaded once at configuration time: (key, value) in file order."""

    path: str
    entries: list[tuple[str, str]] = field(default_factory=list)
    exact: dict[str, str] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)

    def __deepcopy__(self, memo: dict[int, Any]) -> MapFile:
        return self  # read-only once loaded


_MAP_CACHE: dict[str, MapFile] = {}


def load_map(path: str) -> MapFile:
    """Read a map file (pat_ref_read_from_file_smp); SampleError if it can't be opened."""
    try:
        with open(path, encoding="latin-1", newline="") as f:
            data = f.read()
    except OSError:
        raise SampleError(f"failed to open pattern file <{path}>") from None
    mf = MapFile(path)
    for lineno, raw in enumerate(data.splitlines(), 1):
        if raw.startswith("#"):
            continue
        line = raw.lstrip(" \t")
        if not line:
            continue
        m = re.match(r"([^ \t]*)[ \t]*(.*)", line)
        assert m is not None
        key, val = m.group(1), m.group(2).rstrip(" \t")
        mf.entries.append((key, val))
        mf.lines.append(lineno)
        mf.exact.setdefault(key, val)
    return mf


def read_pattern_file(path: str) -> list[tuple[str, int]]:
    """(pattern, line number) of an ACL ``-f`` file, one per line (pat_ref_read_from_file)."""
    try:
        with open(path, encoding="latin-1", newline="") as f:
            data = f.read()
    except OSError:
        raise SampleError(f"failed to open pattern file <{path}>") from None
    out = []
    for lineno, raw in enumerate(data.split("\n"), 1):
        if raw.startswith("#"):
            continue
        line = raw.lstrip(" \t")
        cut = len(line)
        for ch in "\r\n":
            p = line.find(ch)
            if 0 <= p < cut:
                cut = p
        line = line[:cut]
        if line:
            out.append((line, lineno))
    return out


def _mk_map(match: str, inp: str, out: str) -> Callable[[list[Any], ParseCtx], str | None]:
    def check(a: list[Any], pctx: ParseCtx) -> str | None:
        try:
            mf = load_map(a[0])
        except SampleError as e:
            return str(e)
        default = a[1] if len(a) > 1 else None
        if isinstance(default, str) and out == T_SINT:
            default = read_int64(default)[0]
        elif default is not None and out == T_ADDR:
            ip = _ip(default)
            if ip is None:
                return f"map: cannot parse default ip <{default}>."
            default = ip
        from . import acl as _acl  # the matchers live with the ACL code

        m = _acl.Matcher(match, [], icase=False, values=[v for _, v in mf.entries])
        for (k, _), ln in zip(mf.entries, mf.lines, strict=True):
            try:
                m.add(k)
            except ValueError as e:
                return f"{e} at line {ln} of file '{mf.path}'"
        m.finish()
        a[:] = [mf, m, default]
        return None

    return check


def _map_fn(out: str) -> Callable[[Any, list[Any], Any, Any], Any]:
    def fn(v: Any, a: list[Any], s: Any, t: Any) -> Any:
        m = a[1]
        hit = m.lookup(v)
        if hit is None:
            return a[2]
        if out == T_SINT:
            return read_int64(hit)[0]
        if out == T_ADDR:
            return _ip(hit)
        return hit

    return fn


_MAP_MATCH_INPUT = {"str": T_STR, "beg": T_STR, "sub": T_STR, "dir": T_STR, "dom": T_STR, "end": T_STR,
                    "reg": T_STR, "regm": T_STR, "int": T_SINT, "ip": T_ADDR}
for _m, _inp in _MAP_MATCH_INPUT.items():
    for _suffix, _out, _dtype in (("", T_STR, A_STR), ("_int", T_SINT, A_SINT), ("_ip", T_ADDR, A_STR),
                                  ("_str", T_STR, A_STR)):
        if _m == "regm" and _suffix:
            continue
        _nm = f"map_{_m}{_suffix}"
        if _m == "str" and _suffix == "_str":
            continue
        CONVERTERS[_nm] = Converter(_nm, _map_fn(_out), (A_STR, _dtype), 1, _inp, _out, _mk_map(_m, _inp, _out))
CONVERTERS["map"] = Converter("map", _map_fn(T_STR), (A_STR, A_STR), 1, T_STR, T_STR, _mk_map("str", T_STR, T_STR))


# --------------------------------------------------------------------------------------
# rendering for log-format strings used in HTTP headers (LOG_OPT_HTTP)

_HTTP_ENC = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def http_encode(s: str) -> str:
    """lf_encode_chunk() with http_encode_map: control characters (but TAB) as ``%XX``."""
    if _HTTP_ENC.search(s) is None:
        return s
    return _HTTP_ENC.sub(lambda m: f"%{ord(m.group(0)):02X}", s)




# --------------------------------------------------------------------------------------
# log-format strings evaluated on a transaction (header values, bodies, backend names)


class LfCtx:
    """What ``logformat``'s compiled renderers read, for a session and its transaction.

    Session attributes come from ``sess``; the request line (``%HM %HU %r`` ...) and
    ``%ST`` come from the transaction when there is one.  ``%[...]`` expressions see
    ``sess`` and ``txn`` through this object.
    """

    __slots__ = ("sess", "txn")

    def __init__(self, sess: Any, txn: Any) -> None:
        self.sess = sess
        self.txn = txn

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sess, name, None)

    @property
    def method(self) -> Any:
        r = _req(self.txn)
        return r.method if r is not None else getattr(self.sess, "method", None)

    @property
    def uri(self) -> Any:
        r = _req(self.txn)
        return r.uri if r is not None else getattr(self.sess, "uri", None)

    @property
    def version(self) -> Any:
        r = _req(self.txn)
        return r.version if r is not None else getattr(self.sess, "version", None)

    @property
    def status(self) -> Any:
        # txn->status: the server's, or the one of the response HAProxy makes instead
        # (an http-response deny's 502 page shows 502)
        st = getattr(self.txn, "status", -1) if self.txn is not None else -1
        if st != -1:
            return st
        r = _rsp(self.txn)
        return r.status if r is not None else getattr(self.sess, "status", None)

    @property
    def req_captures(self) -> Any:
        return getattr(self.sess, "req_captures", None)

    @property
    def res_captures(self) -> Any:
        return getattr(self.sess, "res_captures", None)


_SPACE = "\ue000"
_EXPR_FLAGS = re.compile(r"%\{([^}]*)\}\[")


class _PlaceError(Exception):
    """Raised through logformat.compile_format (not a ValueError, so not re-worded)."""

    def __init__(self, expr: str, need: str) -> None:
        super().__init__(expr)
        self.expr = expr
        self.need = need


def compile_logformat(fmt: str, pctx: ParseCtx | None = None, mode: str = "http",
                      http: bool = True, merge_spaces: bool = False) -> Callable[[Any, Any], str]:
    """Compile a log-format string used by a rule into ``fn(sess, txn) -> str``.

    As HAProxy does for header values, bodies and backend names: no ``-`` for missing
    values (the LOG_OPT_MANDATORY default of logs is off), and with ``http`` the
    ``%[...]`` results have their control characters %-encoded (LOG_OPT_HTTP).  With
    ``merge_spaces`` spaces are separators as in logs (runs of them written once, none
    first): ``unique-id-format`` is read that way.
    Raises ValueError with HAProxy's message.
    """
    from .. import logformat

    pctx = pctx or ParseCtx()
    nodes = logformat.parse_format(fmt, mode)  # errors with the user's own text
    if all(nd[0] == "text" for nd in nodes):
        const = "".join(nd[1] for nd in nodes)
        return lambda sess, txn: const
    places = pctx.places

    def hook(text: str) -> Callable[[Any], str | None]:
        expr, end = parse_expr_text(text, pctx)
        if end != len(text):
            raise SampleError(f"missing comma after fetch keyword '{expr.fetch.name}'")
        need = check_places(expr, places)
        if need is not None:
            raise _PlaceError(text, need)

        def render(ad: Any) -> str | None:
            s = to_str(expr.eval(ad.sess, ad.txn))
            if s is None:
                return ""
            return http_encode(s) if http else s

        return render

    # Rules don't merge spaces (no LOG_OPT_MERGE_SPACES, unlike logs): hide them from the
    # log-format parser as a character no latin-1 sample can contain, and put them back.
    body = fmt
    if http:  # lf_encode_chunk() ignores the quote flag of %[...] in HTTP formats
        body = _EXPR_FLAGS.sub(lambda m: "%{" + ",".join(f for f in m.group(1).split(",") if f != "+Q") + "}[", fmt)
    if not merge_spaces:
        body = body.replace(" ", _SPACE)
    try:
        fn = logformat.compile_format("%{-M}o " + body, hook, mode=mode)
    except _PlaceError as e:
        i = fmt.find("[" + e.expr)
        rest = fmt[i + 1 :] if i >= 0 else e.expr
        raise ValueError(
            f"sample fetch <{rest}> may not be reliably used here because it needs '{e.need}' "
            "which is not available here"
        ) from None

    if " " in fmt and not merge_spaces:

        def run_sp(sess: Any, txn: Any) -> str:
            return fn(LfCtx(sess, txn)).replace(_SPACE, " ")

        return run_sp

    def run(sess: Any, txn: Any) -> str:
        return fn(LfCtx(sess, txn))

    return run


# --------------------------------------------------------------------------------------
# layer 6: the request buffer under content inspection (src/payload.c, gproxy.payload).
# ``payload.REQ`` holds the client's first bytes while tcp.py evaluates rules on them; a
# fetch that cannot decide yet flags REQ.may_change (HAProxy's SMP_F_MAY_CHANGE).  With
# no buffer (HTTP, logs, outside an inspection) they fetch nothing, and there is no
# response-side inspection: the res.* forms never fetch.

_REQBUF = _payload.REQ
_SHORT = _payload.SHORT


def _l6(v: Any) -> Any:
    if v is _SHORT:
        _REQBUF.may_change = True
        return None
    return v


@fetch("wait_end", out=T_BOOL)
def _f_wait_end(sess: Any, txn: Any, a: list[Any]) -> Any:
    if _REQBUF.data is not None and not _REQBUF.final:
        _REQBUF.may_change = True
        return None
    return True


@fetch("req.len", out=T_SINT, src="l6req")
def _f_req_len(sess: Any, txn: Any, a: list[Any]) -> Any:
    d = _REQBUF.data
    if d is None:
        return None
    _REQBUF.may_change = True
    return len(d)


@fetch("req.payload", (A_SINT, A_SINT), 2, T_BIN, "l6req")
def _f_req_payload(sess: Any, txn: Any, a: list[Any]) -> Any:
    d = _REQBUF.data
    if d is None:
        return None
    v = _payload.payload(d, a[0], a[1], _REQBUF.bufsize)
    if not a[1] and v is not None and v is not _SHORT and _REQBUF.may_recv:
        _REQBUF.may_change = True  # "the whole buffer" may still grow
    return _l6(v)


@fetch("req.payload_lv", (A_SINT, A_SINT, A_STR), 2, T_BIN, "l6req", check=_payload.check_payload_lv)
def _f_req_payload_lv(sess: Any, txn: Any, a: list[Any]) -> Any:
    d = _REQBUF.data
    if d is None:
        return None
    return _l6(_payload.payload_lv(d, a[0], a[1], a[2] if len(a) > 2 else None, _REQBUF.bufsize))


def _l6_fetch(parse: Callable[[bytes], Any]) -> Callable[[Any, Any, list[Any]], Any]:
    def fn(sess: Any, txn: Any, a: list[Any]) -> Any:
        d = _REQBUF.data
        return None if d is None else _l6(parse(d))

    return fn


for _name, _parse, _out in (("req.ssl_hello_type", _payload.ssl_hello_type, T_SINT),
                            ("req.ssl_sni", _payload.ssl_sni, T_STR),
                            ("req.ssl_st_ext", _payload.ssl_st_ext, T_SINT),
                            ("req.ssl_ec_ext", _payload.ssl_ec_ext, T_BOOL)):
    FETCHES[_name] = Fetch(_name, _l6_fetch(_parse), (), 0, _out, "l6req")


@fetch("req.ssl_ver", out=T_SINT, src="l6req")
def _f_req_ssl_ver(sess: Any, txn: Any, a: list[Any]) -> Any:
    d = _REQBUF.data
    return None if d is None else _l6(_payload.ssl_ver(d, _REQBUF.limit))


def _alpn_all(sess: Any, txn: Any, a: list[Any]) -> list[Any]:
    d = _REQBUF.data
    if d is None:
        return []
    v = _l6(_payload.ssl_alpn(d))
    return v or []


@fetch("req.ssl_alpn", out=T_STR, src="l6req")
def _f_req_ssl_alpn(sess: Any, txn: Any, a: list[Any]) -> Any:
    v = _alpn_all(sess, txn, a)
    return v[0] if v else None  # one sample: the client's first choice


multi("req.ssl_alpn")(_alpn_all)


@fetch("req.rdp_cookie", (A_STR,), 0, T_STR, "l6req")
def _f_req_rdp_cookie(sess: Any, txn: Any, a: list[Any]) -> Any:
    d = _REQBUF.data
    return None if d is None else _l6(_payload.rdp_cookie(d, a[0] if a else ""))


@fetch("req.rdp_cookie_cnt", (A_STR,), 0, T_SINT, "l6req")
def _f_req_rdp_cookie_cnt(sess: Any, txn: Any, a: list[Any]) -> Any:
    d = _REQBUF.data
    if d is None:
        return None
    v = _payload.rdp_cookie(d, a[0] if a else "")
    if v is _SHORT:  # no count while the cookie may still come
        _REQBUF.may_change = True
        return None
    return 0 if v is None else 1


def _nothing(sess: Any, txn: Any, a: list[Any]) -> Any:
    return None


for _old, _new in (("req_len", "req.len"), ("req_ssl_hello_type", "req.ssl_hello_type"),
                   ("req_ssl_sni", "req.ssl_sni"), ("req_ssl_ver", "req.ssl_ver"),
                   ("rdp_cookie", "req.rdp_cookie"), ("rdp_cookie_cnt", "req.rdp_cookie_cnt")):
    alias(_old, _new)
# the deprecated direction-less forms: the request's when used on a request
for _old, _new in (("payload", "req.payload"), ("payload_lv", "req.payload_lv")):
    alias(_old, _new)
for _name, _args, _nmand, _out, _check in (
        ("res.len", (), 0, T_SINT, None),
        ("res.payload", (A_SINT, A_SINT), 2, T_BIN, None),
        ("res.payload_lv", (A_SINT, A_SINT, A_STR), 2, T_BIN, _payload.check_payload_lv),
        ("res.ssl_hello_type", (), 0, T_SINT, None),
        ("rep_ssl_hello_type", (), 0, T_SINT, None)):
    FETCHES[_name] = Fetch(_name, _nothing, _args, _nmand, _out, "l6res", check=_check)


def sample_hook(places: tuple[str, ...]) -> Callable[[str], Callable[[Any], str | None]]:
    """The ``%[expr]`` resolver of a log-format string rendered on a session (a proxy's
    log-format, ``unique-id-format``): each fetch parsed and checked for ``places``,
    evaluated on the session and its current transaction."""
    from ..logformat import FetchPlaceError

    def hook(text: str) -> Callable[[Any], str | None]:
        expr, end = parse_expr_text(text, ParseCtx(places=places))
        if end != len(text):
            raise SampleError(f"missing comma after fetch keyword '{expr.fetch.name}'")
        need = check_places(expr, places)
        if need is not None:
            raise FetchPlaceError(need)

        def render(sess: Any) -> str | None:
            return to_str(expr.eval(sess, getattr(sess, "txn", None)))

        return render

    return hook


def _install_log_hook() -> None:
    from .. import log

    # the logs' check point (HAProxy's FE_LOG_END): request and response headers are gone
    log.set_sample_hook(sample_hook((LOGS,)))


_install_log_hook()


# --------------------------------------------------------------------------------------
# stick counters and tables (src/stick_table.c): sc_*, sc0_* .. sc2_*, src_*, table_*

from .. import stkctr as _stk

_NOSMP = object()  # smp_fetch_sc_stkctr() found nothing: the fetch has no sample


def stick_table(sess: Any, ref: Any) -> Any:
    """The running ``StickTable`` a table argument names (its proxy's own table when the
    argument was empty), or None."""
    name = ref.value if isinstance(ref, Ref) else ref
    if not name and isinstance(ref, Ref):
        name = ref.name or ref.proxy
    fe = getattr(sess, "frontend", None) if sess is not None else None
    if not name:
        name = getattr(fe, "name", "")
    proc = _RUNTIME[0] or getattr(fe, "process", None)
    tables = getattr(proc, "stick_tables", None)
    return tables.get(name) if tables else None


def _sc_ctr(sess: Any, a: list[Any], num: int) -> Any:
    """smp_fetch_sc_stkctr(): (table, entry or None, temporary) of counter ``num`` (-1: the
    ``sc_`` form, whose first argument is the number; -2: ``src_``), or _NOSMP."""
    if num == -2:
        t = stick_table(sess, a[0] if a else None)
        if t is None:
            return _NOSMP
        key = t.key_of(_f_src(sess, None, []))
        if key is None:
            return _NOSMP
        return t, t.lookup(key), True
    alt = None
    if num == -1:
        num = a[0] if a else 0
        if len(a) > 1:
            alt = a[1]
    elif a:
        alt = a[0]
    c = _stk.slot(sess, num)
    if c is None:
        return _NOSMP
    if alt is not None:
        t = stick_table(sess, alt)
        if t is None:
            return _NOSMP
        return t, t.lookup(c[1].key), True
    return c[0], c[1], False


def _sc_data(name: str, shift: int = 0) -> Callable[[Any, list[Any], int], Any]:
    def get(sess: Any, a: list[Any], num: int) -> Any:
        r = _sc_ctr(sess, a, num)
        if r is _NOSMP:
            return None
        e = r[1]
        if e is None:
            return 0
        v = _stk.value(e, name)
        return None if v is None else v >> shift

    return get


def _sc_tracked(sess: Any, a: list[Any], num: int) -> Any:
    return _sc_ctr(sess, a, num) is not _NOSMP


def _sc_trackers(sess: Any, a: list[Any], num: int) -> Any:
    r = _sc_ctr(sess, a, num)
    if r is _NOSMP:
        return None
    return r[1].use if r[1] is not None else 0


def _sc_get_gp(name: str) -> Callable[[Any, list[Any], int], Any]:
    return _sc_data(name)


def _sc_writable(sess: Any, a: list[Any], num: int) -> Any:
    """The (table, entry) a gpc-changing fetch writes: the tracked entry, or for the
    ``src_*`` forms (``num`` -2) the source address's, created if needed
    (smp_create_src_stkctr()); entry None when there is none (the fetch gives 0).
    ``_NOSMP``: no sample."""
    r = _sc_ctr(sess, a, num)
    if r is _NOSMP:
        return r
    t, e, _ = r
    if e is None and num == -2:
        key = t.key_of(_f_src(sess, None, []))
        e = t.get_or_create(key) if key is not None else None
    return t, e


def _sc_inc_gpc(idx: str) -> Callable[[Any, list[Any], int], Any]:
    cnt, rate = f"gpc{idx}", f"gpc{idx}_rate"

    def run(sess: Any, a: list[Any], num: int) -> Any:
        r = _sc_writable(sess, a, num)
        if r is _NOSMP:
            return None
        t, e = r
        if e is None:
            return 0
        data = e.data
        out = 0
        fr = data.get(rate)
        if fr is not None:
            fr.add(1)
            out = fr.curr
        if cnt in data:
            data[cnt] += 1
            out = data[cnt]
        if fr is not None or cnt in data:
            t.touch(e)
        return out

    return run


def _sc_clr_gpc(idx: str) -> Callable[[Any, list[Any], int], Any]:
    cnt = f"gpc{idx}"

    def run(sess: Any, a: list[Any], num: int) -> Any:
        r = _sc_writable(sess, a, num)
        if r is _NOSMP:
            return None
        t, e = r
        if e is None:
            return 0
        if cnt not in e.data:
            return None
        old = e.data[cnt]
        e.data[cnt] = 0
        t.touch(e)
        return old

    return run


#: fetch suffix -> (getter, output type, source of the src_ form, of the sc forms)
_SC_FETCHES: dict[str, tuple[Callable[[Any, list[Any], int], Any], str, str]] = {
    "tracked": (_sc_tracked, T_BOOL, "internal"),
    "trackers": (_sc_trackers, T_SINT, "internal"),
    "get_gpt0": (_sc_get_gp("gpt0"), T_SINT, "internal"),
    "get_gpc0": (_sc_get_gp("gpc0"), T_SINT, "internal"),
    "get_gpc1": (_sc_get_gp("gpc1"), T_SINT, "internal"),
    "gpc0_rate": (_sc_data("gpc0_rate"), T_SINT, "internal"),
    "gpc1_rate": (_sc_data("gpc1_rate"), T_SINT, "internal"),
    "inc_gpc0": (_sc_inc_gpc("0"), T_SINT, "internal"),
    "inc_gpc1": (_sc_inc_gpc("1"), T_SINT, "internal"),
    "clr_gpc0": (_sc_clr_gpc("0"), T_SINT, "internal"),
    "clr_gpc1": (_sc_clr_gpc("1"), T_SINT, "internal"),
    "kbytes_in": (_sc_data("bytes_in_cnt", 10), T_SINT, "l4cli"),
    "kbytes_out": (_sc_data("bytes_out_cnt", 10), T_SINT, "l4cli"),
    **{n: (_sc_data(n), T_SINT, "internal") for n in (
        "bytes_in_rate", "bytes_out_rate", "conn_cnt", "conn_cur", "conn_rate", "http_err_cnt", "http_err_rate",
        "http_fail_cnt", "http_fail_rate", "http_req_cnt", "http_req_rate", "sess_cnt", "sess_rate")},
}


def _register_sc_fetches() -> None:
    for suffix, (get, out, src) in sorted(_SC_FETCHES.items()):
        def mk(num: int, get: Callable[[Any, list[Any], int], Any] = get) -> Callable[..., Any]:
            return lambda sess, txn, a: get(sess, a, num)

        fetch(f"sc_{suffix}", (A_SINT, A_TAB), 1, out, src)(mk(-1))
        for n in range(_stk.MAX_SESS_STKCTR):
            fetch(f"sc{n}_{suffix}", (A_TAB,), 0, out, src)(mk(n))
        if suffix not in ("tracked", "trackers"):
            fetch(f"src_{suffix}", (A_TAB,), 1, out, "l4cli")(mk(-2))


_register_sc_fetches()


@fetch("src_updt_conn_cnt", (A_TAB,), 1, T_SINT, "l4cli")
def _f_src_updt_conn_cnt(sess: Any, txn: Any, a: list[Any]) -> Any:
    """The source's entry (created if needed) gets one more connection: its new count."""
    t = stick_table(sess, a[0] if a else None)
    if t is None:
        return None
    key = t.key_of(_f_src(sess, None, []))
    e = t.get_or_create(key) if key is not None else None
    if e is None:
        return None
    if "conn_cnt" not in e.data:
        return None
    e.data["conn_cnt"] += 1
    t.touch(e)
    return e.data["conn_cnt"]


@fetch("table_cnt", (A_TAB,), 1, T_SINT)
def _f_table_cnt(sess: Any, txn: Any, a: list[Any]) -> Any:
    t = stick_table(sess, a[0] if a else None)
    return len(t.entries) if t is not None else None


@fetch("table_avl", (A_TAB,), 1, T_SINT)
def _f_table_avl(sess: Any, txn: Any, a: list[Any]) -> Any:
    t = stick_table(sess, a[0] if a else None)
    return t.size - len(t.entries) if t is not None else None


def _table_conv(name: str, shift: int = 0) -> Callable[[Any, list[Any], Any, Any], Any]:
    def run(v: Any, a: list[Any], s: Any, t: Any) -> Any:
        tbl = stick_table(s, a[0] if a else None)
        if tbl is None:
            return None
        key = tbl.key_of(v)
        if key is None:
            return None
        e = tbl.lookup(key)
        if e is None:
            return 0
        got = _stk.value(e, name)
        return None if got is None else got >> shift

    return run


for _n in ("bytes_in_rate", "bytes_out_rate", "conn_cnt", "conn_cur", "conn_rate", "gpt0", "gpc0", "gpc1",
           "gpc0_rate", "gpc1_rate", "http_err_cnt", "http_err_rate", "http_fail_cnt", "http_fail_rate",
           "http_req_cnt", "http_req_rate", "server_id", "sess_cnt", "sess_rate"):
    conv(f"table_{_n}", (A_TAB,), 1, T_ANY, T_SINT)(_table_conv(_n))
conv("table_kbytes_in", (A_TAB,), 1, T_ANY, T_SINT)(_table_conv("bytes_in_cnt", 10))
conv("table_kbytes_out", (A_TAB,), 1, T_ANY, T_SINT)(_table_conv("bytes_out_cnt", 10))


@conv("table_trackers", (A_TAB,), 1, T_ANY, T_SINT)
def _c_table_trackers(v: Any, a: list[Any], s: Any, t: Any) -> Any:
    tbl = stick_table(s, a[0] if a else None)
    key = tbl.key_of(v) if tbl is not None else None
    if key is None:
        return None
    e = tbl.lookup(key)
    return e.use + 1 if e is not None else 0  # haproxy 2.6 counts its own lookup's reference


@conv("in_table", (A_TAB,), 1, T_ANY, T_BOOL)
def _c_in_table(v: Any, a: list[Any], s: Any, t: Any) -> Any:
    tbl = stick_table(s, a[0] if a else None)
    key = tbl.key_of(v) if tbl is not None else None
    if key is None:
        return None
    return tbl.lookup(key) is not None
