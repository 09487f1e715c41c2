"""ACLs, conditions and backend switching.

Owns HAProxy 2.6's ACL language (``src/acl.c``, ``src/pattern.c``): the ``acl`` keyword
(repeated names are OR-ed), ACL keywords such as ``path_beg`` and plain sample fetches
used as ACLs, the flags ``-i -f -m -n -M -u --``, the match methods ``found bool int ip
bin len str beg end sub dir dom reg`` with the ``eq/ge/gt/le/lt`` operators, the
predefined ACLs (``TRUE``, ``METH_GET``, ``LOCALHOST`` ...), and conditions
(``if``/``unless``, implicit AND, ``or``/``||``, ``!``, anonymous ``{ ... }``) compiled
at configuration time into ``Cond`` objects with ``.match(sess, txn) -> bool``.

It also owns ``use_backend`` evaluation (``select_backend``) and the resolution, after
all sections are read, of the userlist/backend names that expressions reference
(``resolve_refs``, called by ``config.validate``).

Pure module: no sockets, never yields.  Pattern files are read at configuration time.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .. import payload
from ..registry import DEFAULTS, PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx
from . import sample as smp
from .sample import SampleError

__all__ = [
    "ACL_KEYWORDS",
    "PREDEFINED",
    "AclExpr",
    "Cond",
    "CondError",
    "Matcher",
    "compile_use_backend",
    "parse_acl_expr",
    "parse_cond",
    "resolve_refs",
    "select_backend",
]


class CondError(ValueError):
    """A condition/ACL parse error; the text is HAProxy's, without the line prefix."""


# --------------------------------------------------------------------------------------
# ACL keywords (src/http_acl.c and friends): name -> (fetch, match method)

ACL_KEYWORDS: dict[str, tuple[str, str]] = {
    "method": ("method", "meth"),
    "http_auth_group": ("http_auth_group", "auth"),
    "req_ver": ("req.ver", "str"),
    "resp_ver": ("res.ver", "str"),
    "payload": ("req.payload", "bin"),
    # src/payload.c
    "payload_lv": ("req.payload_lv", "bin"),
    "req_rdp_cookie": ("req.rdp_cookie", "str"),
    "req_rdp_cookie_cnt": ("req.rdp_cookie_cnt", "int"),
    "req_ssl_sni": ("req.ssl_sni", "str"),
    "req_ssl_ver": ("req.ssl_ver", "int"),
    "req.ssl_ver": ("req.ssl_ver", "int"),
}
#: ACL keywords whose patterns are ``MAJOR.MINOR`` versions (pat_parse_dotted_ver)
DOTTED_VER_ACLS = frozenset(("req_ssl_ver", "req.ssl_ver"))
for _base, _fetch in (("base", "base"), ("cook", "req.cook"), ("hdr", "req.hdr"), ("path", "path"),
                      ("scook", "res.cook"), ("shdr", "res.hdr"), ("url", "url"), ("urlp", "urlp")):
    ACL_KEYWORDS[_base] = (_fetch, "str")
    for _m in ("beg", "dir", "dom", "end", "len", "reg", "sub"):
        ACL_KEYWORDS[f"{_base}_{_m}"] = (_fetch, _m)

#: match method -> sample type the sample is cast to before matching
MATCH_TYPES = {
    "found": smp.T_ANY, "bool": smp.T_SINT, "int": smp.T_SINT, "ip": smp.T_ADDR, "bin": smp.T_BIN,
    "len": smp.T_STR, "str": smp.T_STR, "beg": smp.T_STR, "sub": smp.T_STR, "dir": smp.T_STR,
    "dom": smp.T_STR, "end": smp.T_STR, "reg": smp.T_STR, "regm": smp.T_STR,
}
_STD_OPS = {"eq": 0, "gt": 1, "ge": 2, "lt": 3, "le": 4}

#: sample type -> default match method when a plain fetch is used as an ACL
_DEFAULT_MATCH = {smp.T_BOOL: "bool", smp.T_SINT: "int", smp.T_ADDR: "ip", smp.T_IPV4: "ip",
                  smp.T_IPV6: "ip", smp.T_STR: "str"}


# --------------------------------------------------------------------------------------
# patterns and matching (src/pattern.c)


def _strl2llrc(s: str) -> int | None:
    """Strict signed integer (strl2llrc): digits only after an optional sign."""
    if re.fullmatch(r"[+-]?\d+", s) is None:
        return None
    return int(s)


def parse_int_pattern(text: str) -> tuple[int | None, int | None]:
    """``5``, ``1:10``, ``:10``, ``5:``, ``1-10`` -> (min, max); CondError if invalid."""
    if not text:
        raise CondError(f"'{text}' is not a valid number range")
    m = re.search("[:-]", text)
    if m is None:
        v = _strl2llrc(text)
        if v is None:
            raise CondError(f"'{text}' is not a number")
        return v, v
    p = m.start()
    lo_s, hi_s = text[:p], text[p + 1 :]
    if p == 0 and hi_s:
        hi = _strl2llrc(hi_s)
        if hi is None:
            raise CondError(f"'{text}' is not a valid number range")
        return None, hi
    if not hi_s:
        lo = _strl2llrc(lo_s)
        if lo is None:
            raise CondError(f"'{text}' is not a valid number range")
        return lo, None
    lo, hi = _strl2llrc(lo_s), _strl2llrc(hi_s)
    if lo is None or hi is None or lo > hi:
        raise CondError(f"'{text}' is not a valid number range")
    return lo, hi


def parse_ip_pattern(text: str) -> Any:
    """``a.b.c.d[/bits|/mask]`` or an IPv6 network; CondError if invalid."""
    try:
        if "/" in text:
            addr, _, mask = text.partition("/")
            if "." in mask and ":" not in addr:
                return ipaddress.IPv4Network(f"{addr}/{mask}", strict=False)
            if ":" in addr:
                return ipaddress.IPv6Network(text, strict=False)
            return ipaddress.IPv4Network(text, strict=False)
        a = ipaddress.ip_address(text)
        return ipaddress.ip_network(f"{a}/{a.max_prefixlen}")
    except ValueError:
        raise CondError(f"'{text}' is not a valid IPv4 or IPv6 address") from None


def _match_word(s: str, pat: str, icase: bool, delims: str) -> bool:
    """match_word(): ``pat`` (delimiters trimmed) found in ``s`` between delimiters."""
    p = pat.strip(delims) if pat else pat
    pl = len(p)
    if pl > len(s):
        return False
    if icase:
        s, p = s.lower(), p.lower()
    may = True
    end = len(s) - pl
    for i in range(end + 1):
        c = s[i]
        if c in delims:
            may = True
            continue
        if not may:
            continue
        if s.startswith(p, i) and (i == end or s[i + pl] in delims):
            return True
        may = False
    return False


class Matcher:
    """Patterns of one ACL expression (or one map) and the method that matches them."""

    __slots__ = ("exact", "icase", "method", "patterns", "values")

    def __init__(self, method: str, patterns: list[str], icase: bool = False, values: list[str] | None = None) -> None:
        self.method = method
        self.icase = icase
        self.values = values
        self.patterns: list[Any] = [self._parse(p) for p in patterns]
        self.exact: dict[str, int] | None = None
        self.finish()

    def __deepcopy__(self, memo: dict[int, Any]) -> Matcher:
        return self  # read-only once built: proxies copied from a defaults section share it

    def add(self, text: str) -> None:
        """One more pattern (CondError if it is invalid for the method); ``finish`` after."""
        self.patterns.append(self._parse(text))

    def finish(self) -> None:
        """Build the lookup index of exact-string maps."""
        if self.method == "str" and self.values is not None:
            self.exact = {}
            for i, p in enumerate(self.patterns):
                self.exact.setdefault(p.lower() if self.icase else p, i)

    def _parse(self, text: str) -> Any:
        m = self.method
        if m in ("int", "len"):
            return parse_int_pattern(text)
        if m == "ip":
            return parse_ip_pattern(text)
        if m in ("reg", "regm"):
            try:
                return smp.compile_regex(text, self.icase)
            except SampleError as e:
                raise CondError(str(e)) from None
        if m == "bin":
            try:
                return bytes.fromhex(text)
            except ValueError:
                raise CondError(f"'{text}' is not a valid hexadecimal binary string") from None
        if m == "meth":
            return text
        return text

    # -- matching one sample (already cast to the method's type) --
    def index(self, v: Any) -> int:
        """Index of the first matching pattern, or -1."""
        m = self.method
        pats = self.patterns
        if m == "found":
            return 0
        if m == "bool":
            return 0 if v else -1
        if m == "int":
            for i, (lo, hi) in enumerate(pats):
                if (lo is None or lo <= v) and (hi is None or v <= hi):
                    return i
            return -1
        if m == "len":
            n = len(v)
            for i, (lo, hi) in enumerate(pats):
                if (lo is None or lo <= n) and (hi is None or n <= hi):
                    return i
            return -1
        if m == "ip":
            return self._ip_index(v)
        if m == "bin":
            for i, p in enumerate(pats):
                if v == p:
                    return i
            return -1
        if m in ("reg", "regm"):
            for i, p in enumerate(pats):
                if p.search(v) is not None:
                    return i
            return -1
        if m == "meth":
            return self._meth_index(v)
        icase = self.icase
        if m == "str":
            if self.exact is not None:
                return self.exact.get(v.lower() if icase else v, -1)
            if icase:
                lv = v.lower()
                for i, p in enumerate(pats):
                    if p.lower() == lv:
                        return i
                return -1
            for i, p in enumerate(pats):
                if p == v:
                    return i
            return -1
        if icase:
            v = v.lower()
        for i, p in enumerate(pats):
            q = p.lower() if icase else p
            if m == "beg":
                ok = v.startswith(q)
            elif m == "end":
                ok = v.endswith(q)
            elif m == "sub":
                ok = q in v
            elif m == "dir":
                ok = _match_word(v, q, False, "/?")
            elif m == "dom":
                ok = _match_word(v, q, False, "/?.:")
            else:
                ok = False
            if ok:
                return i
        return -1

    def _ip_index(self, v: Any) -> int:
        cands = [v]
        if isinstance(v, ipaddress.IPv4Address):
            cands.append(ipaddress.IPv6Address("::ffff:" + str(v)))
        elif isinstance(v, ipaddress.IPv6Address):
            m4 = v.ipv4_mapped
            if m4 is None and v.packed[:12] == b"\0" * 12:
                m4 = ipaddress.IPv4Address(v.packed[12:])
            if m4 is not None:
                cands.insert(0, m4)
        best, best_len = -1, -1
        for i, net in enumerate(self.patterns):
            for c in cands:
                if c.version == net.version and c in net and net.prefixlen > best_len:
                    best, best_len = i, net.prefixlen
        return best

    def _meth_index(self, v: str) -> int:
        for i, p in enumerate(self.patterns):
            if p in smp.KNOWN_METHODS:
                if v == p:
                    return i
                continue
            if v in smp.KNOWN_METHODS:
                continue
            if (v.lower() == p.lower()) if self.icase else (v == p):
                return i
        return -1

    def match(self, v: Any) -> bool:
        return self.index(v) >= 0

    def lookup(self, v: Any) -> str | None:
        """Map lookup: the value of the matching entry (longest prefix for beg/ip)."""
        vals = self.values or []
        m = self.method
        v = smp.cast(v, MATCH_TYPES.get(m, smp.T_STR))
        if v is None:
            return None
        if m == "beg":
            best, blen = -1, -1
            for i, p in enumerate(self.patterns):
                if v.startswith(p) and len(p) > blen:
                    best, blen = i, len(p)
            return vals[best] if best >= 0 else None
        i = self.index(v)
        return vals[i] if i >= 0 else None


# --------------------------------------------------------------------------------------
# ACL expressions


class AclExpr:
    """One ``<criterion> [flags] [patterns]``: a sample expression and its matcher."""

    __slots__ = ("expr", "kw", "matcher")

    def __init__(self, expr: smp.SampleExpr, matcher: Matcher, kw: str) -> None:
        self.expr = expr
        self.matcher = matcher
        self.kw = kw

    def match(self, sess: Any, txn: Any) -> bool:
        m = self.matcher
        if m.method == "found":
            return bool(self.expr.eval_all(sess, txn))
        if m.method == "auth":
            return self._auth(sess, txn)
        want = MATCH_TYPES.get(m.method, smp.T_STR)
        for v in self.expr.eval_all(sess, txn):
            if m.method != "meth":
                v = smp.cast(v, want)
                if v is None:
                    continue
            if m.index(v) >= 0:
                return True
        return False

    def _auth(self, sess: Any, txn: Any) -> bool:
        user = self.expr.eval(sess, txn)
        if user is None:
            return False
        ref = self.expr.args[0] if self.expr.args else None
        ul = getattr(ref, "value", None)
        if ul is None:
            return False
        groups = ul.groups_of(user)
        return any(g in groups for g in self.matcher.patterns)

    def __repr__(self) -> str:
        return f"AclExpr({self.expr.text!r} -m {self.matcher.method})"


def _default_method(t: str) -> str | None:
    return _DEFAULT_MATCH.get(t)


def _acl_kw_expr(word: str, name: str, endw: int, pctx: smp.ParseCtx) -> tuple[smp.SampleExpr, bool]:
    """Parse an ACL keyword (``hdr_beg(host),lower``) with acl.c's error texts."""
    fname, _ = ACL_KEYWORDS[name]
    f = smp.FETCHES.get(fname)
    if f is None:
        raise CondError(f"ACL keyword '{name}' : not implemented by gproxy")
    try:
        raw, endt, _ = smp.make_arg_list(word, endw, f.args, f.nmand)
    except smp._ArgErr as e:
        raise CondError(f"ACL keyword '{name}' : {e.msg}") from None
    what = f"ACL keyword '{name}'"
    pctx.kwname = what
    args = smp._finish_args("acl", name, raw, f.args, pctx, what)
    if f.check is not None and raw:
        err = f.check(args)
        if err:
            raise CondError(f"in argument to '{name}', {err}")
    convs: list[tuple[smp.Converter, list[Any]]] = []
    cur = f.out
    ckw: str | None = None
    i = endt
    n = len(word)
    while i < n:
        if word[i] != ",":
            if ckw:
                raise CondError(f"ACL keyword '{name}' : missing comma after converter '{ckw}'.")
            raise CondError(f"ACL keyword '{name}' : missing comma after fetch keyword.")
        while i < n and word[i] == ",":
            i += 1
        if i >= n:
            break
        e = smp._word_end(word, i)
        ckw = word[i:e]
        c = smp.CONVERTERS.get(ckw)
        if c is None:
            raise CondError(f"ACL keyword '{name}' : unknown converter '{ckw}'.")
        if not smp.can_cast(cur, c.inp):
            raise CondError(f"ACL keyword '{name}' : converter '{ckw}' cannot be applied.")
        cur = c.out
        try:
            craw, i, cnt = smp.make_arg_list(word, e, c.args, c.nmand)
        except smp._ArgErr as ex:
            raise CondError(f"ACL keyword '{name}' : invalid arg {ex.pos + 1} in converter '{ckw}' : {ex.msg}.") from None
        if cnt and not c.args:
            raise CondError(f"converter '{ckw}' does not support any args")
        cargs = smp._finish_args("conv", ckw, craw, c.args, pctx, what)
        if c.check is not None:
            err = c.check(cargs, pctx)
            if err:
                raise CondError(f"ACL keyword '{name}' : invalid args in converter '{ckw}' : {err}.")
        convs.append((c, cargs))
    return smp.SampleExpr(f, args, convs, word), bool(convs)


def parse_acl_expr(words: list[str], pctx: smp.ParseCtx | None = None) -> AclExpr:
    """parse_acl_expr(): ``words`` = criterion, flags, patterns.  CondError on error."""
    pctx = dataclasses.replace(pctx, acl=True) if pctx is not None else smp.ParseCtx(acl=True)
    word = words[0] if words else ""
    endw = smp._word_end(word, 0)
    name = word[:endw]
    method: str | None
    if name in ACL_KEYWORDS:
        expr, has_conv = _acl_kw_expr(word, name, endw, pctx)
        kw = name
        method = _default_method(expr.out) if has_conv else ACL_KEYWORDS[name][1]
        cur_type = expr.out
        dotted = name in DOTTED_VER_ACLS and not has_conv
    else:
        dotted = False
        try:
            expr, _, _ = smp.parse_expr(words, 0, pctx)
        except SampleError as e:
            raise CondError(f"{e} in ACL expression '{word}'") from None
        kw = expr.fetch.name
        cur_type = expr.out
        method = _default_method(cur_type)
    rest = words[1:]
    if method is not None and method not in ("bool",) and cur_type != smp.T_BOOL and not rest and pctx.warn:
        pctx.warn(
            f"parsing acl keyword '{word}' :\n"
            "  no pattern to match against were provided, so this ACL will never match.\n"
            "  If this is what you intended, please add '--' to get rid of this warning.\n"
            "  If you intended to match only for existence, please use '-m found'.\n"
            "  If you wanted to force an int to match as a bool, please use '-m bool'.\n"
        )
    icase = False
    loaded = False
    files: list[str] = []
    i = 0
    while i < len(rest) and rest[i].startswith("-"):
        a = rest[i]
        if a == "-i":
            icase = True
        elif a == "-n":
            pass
        elif a == "-u":
            nxt = rest[i + 1] if i + 1 < len(rest) else ""
            if re.fullmatch(r"-?\d+", nxt) is None:
                raise CondError("the argument of -u must be an integer")
            i += 1
        elif a == "-f":
            if method is None:
                raise CondError(
                    "matching method must be specified first (using '-m') when using a sample fetch "
                    f"of this type ('{kw}')"
                )
            path = rest[i + 1] if i + 1 < len(rest) else ""
            try:
                lines = smp.read_pattern_file(path)
            except SampleError as e:
                raise CondError(str(e)) from None
            if dotted:
                conv = []
                for pat, ln in lines:
                    try:
                        conv.append((payload.dotted_range(pat), ln))
                    except ValueError as e:
                        raise CondError(f"{e} at line {ln} of file '{path}'") from None
                lines = conv
            elif method not in ("found", "bool", "auth"):
                check = Matcher(method, [], icase)
                for pat, ln in lines:
                    try:
                        check.add(pat)
                    except CondError as e:
                        raise CondError(f"{e} at line {ln} of file '{path}'") from None
            files.extend(pat for pat, _ in lines)
            loaded = True
            i += 1
        elif a == "-m":
            if loaded:
                raise CondError("'-m' must only be specified before patterns and files in parsing ACL expression")
            mname = rest[i + 1] if i + 1 < len(rest) else ""
            if mname not in MATCH_TYPES:
                raise CondError(f"unknown matching method '{mname}' when parsing ACL expression")
            if mname != "found" and not smp.can_cast(cur_type, MATCH_TYPES[mname]):
                raise CondError(f"matching method '{mname}' cannot be used with fetch keyword '{kw}'")
            method = mname
            dotted = False
            i += 1
        elif a == "-M":
            pass
        elif a == "--":
            i += 1
            break
        else:
            raise CondError(f"'{a}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'")
        i += 1
    if method is None:
        raise CondError(
            f"matching method must be specified first (using '-m') when using a sample fetch of this type ('{kw}')"
        )
    pats = list(files)
    op = 0
    if dotted:
        try:
            pats.extend(payload.dotted_patterns(rest[i:]))
        except ValueError as e:
            raise CondError(str(e)) from None
    for a in () if dotted else rest[i:]:
        if method in ("int", "len"):
            o = _STD_OPS.get(a)
            if o is not None:
                op = o
                continue
            if op and not (":" in a or "-" in a):
                v = _strl2llrc(a)
                if v is None:
                    raise CondError(f"'{a}' is neither a number nor a supported operator")
                if op == 1:
                    a = f"{v + 1}:"
                elif op == 2:
                    a = f"{v}:"
                elif op == 3:
                    a = f":{v - 1}"
                elif op == 4:
                    a = f":{v}"
        pats.append(a)
    matcher = Matcher(method, [] if method in ("found", "bool", "auth") else pats, icase)
    if method in ("bool", "found"):
        matcher.patterns = []
    if method == "auth":
        matcher.patterns = pats
    return AclExpr(expr, matcher, kw)


# --------------------------------------------------------------------------------------
# predefined ACLs (acl.c default_acl_list)

PREDEFINED: dict[str, tuple[str, ...]] = {
    "TRUE": ("always_true",),
    "FALSE": ("always_false",),
    "LOCALHOST": ("src", "127.0.0.1/8", "::1"),
    "HTTP": ("req.proto_http",),
    "HTTP_1.0": ("req.ver", "1.0"),
    "HTTP_1.1": ("req.ver", "1.1"),
    "HTTP_2.0": ("req.ver", "2.0"),
    "METH_CONNECT": ("method", "CONNECT"),
    "METH_DELETE": ("method", "DELETE"),
    "METH_GET": ("method", "GET", "HEAD"),
    "METH_HEAD": ("method", "HEAD"),
    "METH_OPTIONS": ("method", "OPTIONS"),
    "METH_POST": ("method", "POST"),
    "METH_PUT": ("method", "PUT"),
    "METH_TRACE": ("method", "TRACE"),
    "HTTP_URL_ABS": ("url_reg", "^[^/:]*://"),
    "HTTP_URL_SLASH": ("url_beg", "/"),
    "HTTP_URL_STAR": ("url", "*"),
    "HTTP_CONTENT": ("req.hdr_val(content-length)", "gt", "0"),
    "RDP_COOKIE": ("req.rdp_cookie_cnt", "gt", "0"),
    "REQ_CONTENT": ("req.len", "gt", "0"),
    "WAIT_END": ("wait_end",),
}


# wait_end, req.len and req.rdp_cookie_cnt (used above) are registered in sample.py (gproxy.payload)


_PREDEF_CACHE: dict[str, list[AclExpr]] = {}


def predefined(name: str) -> list[AclExpr] | None:
    got = _PREDEF_CACHE.get(name)
    if got is None:
        words = PREDEFINED.get(name)
        if words is None:
            return None
        got = [parse_acl_expr(list(words))]
        _PREDEF_CACHE[name] = got
    return got


# --------------------------------------------------------------------------------------
# conditions (acl.c parse_acl_cond / acl_exec_cond)

_NAME_OK = re.compile(r"[A-Za-z0-9_.:-]")


def invalid_char(name: str) -> str | None:
    for ch in name:
        if not _NAME_OK.match(ch):
            return ch
    return None


class Cond:
    """A compiled ``if``/``unless`` condition: OR of AND-suites of (ACL, negated) terms."""

    __slots__ = ("file", "l6", "line", "pol", "suites", "text", "warning")

    def __init__(self, pol: str, suites: list[list[tuple[list[AclExpr], bool, str]]], text: str = "",
                 file: str = "", line: int = 0) -> None:
        self.pol = pol
        self.suites = suites
        self.text = text
        self.file = file
        self.line = line
        self.warning: str | None = None  # a usage conflict to report (see cond_conflicts)
        # a term reads the request or response buffer (HAProxy's SMP_USE_L6REQ/L6RES in
        # cond->use), kept even if _never_match drops the term (see warn_l6_http)
        self.l6 = any(e.expr.fetch.src in ("l6req", "l6res") for suite in suites for exprs, _n, _l in suite for e in exprs)

    def eval(self, sess: Any, txn: Any) -> bool:
        """The condition's value before the if/unless polarity is applied."""
        for suite in self.suites:
            ok = True
            for exprs, neg, _name in suite:
                r = False
                for e in exprs:
                    if e.match(sess, txn):
                        r = True
                        break
                if r == neg:
                    ok = False
                    break
            if ok:
                return True
        return False

    def match(self, sess: Any, txn: Any) -> bool:
        r = self.eval(sess, txn)
        return r if self.pol == "if" else not r

    def __repr__(self) -> str:
        return f"Cond({self.pol} {self.text})"


def parse_acl_words(words: list[str], acls: dict[str, list[AclExpr]] | None, pctx: smp.ParseCtx) -> list[AclExpr]:
    """parse_acl(): ``words[0]`` is the name ('' for anonymous), then the expression."""
    name = words[0] if words else ""
    if name:
        bad = invalid_char(name)
        if bad is not None:
            raise CondError(f"invalid character in ACL name : '{bad}'")
    expr = parse_acl_expr(words[1:], pctx)
    if len(words) > 2 and "(" not in words[1] and words[2].startswith("(") and pctx.warn:
        pctx.warn(
            f"parsing acl '{name}' :\n"
            f"  matching '{words[1]}' for pattern '{words[2]}' is likely a mistake and probably\n"
            "  not what you want. Maybe you need to remove the extraneous space before '('.\n"
            "  If you are really sure this is not an error, please insert '--' between the\n"
            "  match and the pattern to make this warning message disappear."
        )
    if acls is not None:
        lst = acls.setdefault(name, [])  # '' collects the anonymous ones (checked after parsing)
        lst.append(expr)
        if name:
            return lst
    return [expr]


def parse_cond(words: list[str], acls: dict[str, list[AclExpr]] | None, pctx: smp.ParseCtx | None = None) -> Cond:
    """build_acl_cond(): ``words`` starts with ``if`` or ``unless``.  CondError on error."""
    pctx = pctx or smp.ParseCtx()
    if not words or words[0] not in ("if", "unless"):
        raise CondError("conditions must start with either 'if' or 'unless'")
    pol = words[0]
    args = words[1:]
    suites: list[list[tuple[list[AclExpr], bool, str]]] = []
    cur: list[tuple[list[AclExpr], bool, str]] | None = None
    neg = False
    i = 0
    while i < len(args):
        word = args[i]
        while word.startswith("!"):
            neg = not neg
            word = word[1:]
        if not word:
            i += 1
            continue
        if word.lower() == "or" or word == "||":
            cur = None
            neg = False
            i += 1
            continue
        if word == "{":
            end = i + 1
            while end < len(args) and args[end] != "}":
                end += 1
            if end >= len(args):
                raise CondError("missing closing '}' in condition")
            exprs = parse_acl_words(["", *args[i + 1 : end]], acls, pctx)
            label = ""
            i = end
        else:
            exprs_opt = acls.get(word) if acls is not None and word else None
            if exprs_opt is None:
                exprs_opt = predefined(word)
                if exprs_opt is None:
                    raise CondError(f"no such ACL : '{word}'")
                exprs_opt = list(exprs_opt)
                if acls is not None:
                    acls[word] = exprs_opt
            exprs = exprs_opt
            label = word
        if cur is None:
            cur = []
            suites.append(cur)
        cur.append((exprs, neg, label))
        neg = False
        i += 1
    return Cond(pol, suites, " ".join(args), pctx.file, pctx.line)


def cond_conflicts(cond: Cond, places: tuple[str, ...]) -> str | None:
    """warnif_cond_conflicts(): a warning text if an ACL can't work in ``places``."""
    if not places:
        return None
    where = places[0] if len(places) == 1 else next(p for p in smp.PLACES if p in places)
    for suite in cond.suites:
        for exprs, _neg, name in suite:
            if not any(smp.check_places(e.expr, places) is None for e in exprs):
                if name:
                    return (f"acl '{name}' will never match because it only involves keywords that are "
                            f"incompatible with '{where}'")
                return (f"anonymous acl will never match because it uses keyword '{exprs[0].kw}' which is "
                        f"incompatible with '{where}'")
    for suite in cond.suites:
        for exprs, _neg, name in suite:
            for e in exprs:
                if smp.check_places(e.expr, places) is not None:
                    if name:
                        return f"acl '{name}' involves keywords '{e.kw}' which is incompatible with '{where}'"
                    return f"anonymous acl involves keyword '{e.kw}' which is incompatible with '{where}'"
    return None


# --------------------------------------------------------------------------------------
# configuration glue


def refs_of(ctx: KwCtx) -> list[smp.Ref]:
    """The model's list of references to resolve once every section is read."""
    model = ctx.model
    refs = model.__dict__.get("_sample_refs")
    if refs is None:
        refs = []
        model.__dict__["_sample_refs"] = refs
    return refs


def warn_l6_http(proxy: Any, conds: Iterable[Cond | None]) -> list[str]:
    """warnif_tcp_http_cond(): a mode http proxy ignores the request and response buffer
    fetches (``req.len``, ``req.payload`` ...) of its rules' conditions; one warning per
    such condition, in the order given."""
    if proxy.mode != "http":
        return []
    return [f"Proxy '{proxy.name}': L6 sample fetches ignored on HTTP proxies (declared at {c.file}:{c.line})."
            for c in conds if c is not None and c.l6]


def proxy_caps(proxy: Any) -> tuple[bool, bool]:
    kind = getattr(proxy, "kind", "frontend")
    return kind in ("frontend", "listen", "defaults"), kind in ("backend", "listen", "defaults")


def places_for(proxy: Any, what: str) -> tuple[str, ...]:
    """Check places of a rule kind in ``proxy`` ('http-request', 'http-response', ...)."""
    fe, be = proxy_caps(proxy)
    table = {
        "http-request": (smp.FE_HRQ, smp.BE_HRQ),
        "http-response": (smp.FE_HRS, smp.BE_HRS),
        "http-after-response": (smp.FE_HRS, smp.BE_HRS),
        "tcp-request content": (smp.FE_REQ_CNT, smp.BE_REQ_CNT),
        "tcp-request connection": (smp.FE_CON, None),
        "tcp-request session": (smp.FE_SES, None),
        "use_backend": (smp.FE_SET_BCK, None),
        "stick": (None, smp.BE_SET_SRV),  # stick on|match|store-request (stickrules)
        "stick store-response": (None, smp.BE_STO_RUL),
    }
    f, b = table[what]
    out = [p for p, ok in ((f, fe), (b, be)) if ok and p is not None]
    return tuple(p for p in smp.PLACES if p in out)


def parse_ctx(ctx: KwCtx, what: str = "", argctx: str = "in") -> smp.ParseCtx:
    proxy = ctx.proxy
    return smp.ParseCtx(
        file=ctx.file,
        line=ctx.line,
        proxy=getattr(proxy, "name", ""),
        places=places_for(proxy, what) if what and proxy is not None else (),
        refs=refs_of(ctx),
        warn=lambda text: ctx.diag.warning(text),
        argctx=argctx,
    )


class ProxyAcls(dict):  # type: ignore[type-arg]
    """The ACL names a proxy's own lines may use.

    ``Proxy.acls`` also holds the ACLs copied from its defaults section (its rules still
    point at them), but HAProxy does not let a proxy name an ACL of its defaults: a name
    is visible only if this proxy declared or first used it.
    """

    def __init__(self, proxy: Any) -> None:
        super().__init__()
        self.proxy = proxy
        self.owner = f"{proxy.kind}:{proxy.name}:{proxy.file}:{proxy.line}"
        self.owners: dict[str, str] = proxy.extra.setdefault("_acl_owners", {})

    def get(self, name: str, default: Any = None) -> Any:
        if self.owners.get(name) != self.owner:
            return default
        return self.proxy.acls.get(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        got = self.get(name)
        if got is None:
            got = default
            self[name] = got
        return got

    def __setitem__(self, name: str, value: Any) -> None:
        self.owners[name] = self.owner
        self.proxy.acls[name] = value


def proxy_acls(proxy: Any) -> Any:
    return ProxyAcls(proxy)


def compile_cond(ctx: KwCtx, words: list[str], what: str, errfmt: str, emit: bool = True) -> Cond:
    """Compile ``words`` (starting with if/unless) for a rule of kind ``what``.

    ``errfmt`` is the alert text with ``{err}`` where the condition error goes.  A
    conflict warning (fetches unusable at that place) is put in ``cond.warning`` and,
    with ``emit``, reported now.
    """
    pctx = parse_ctx(ctx, what)
    try:
        cond = parse_cond(words, proxy_acls(ctx.proxy), pctx)
    except (CondError, SampleError) as e:
        raise ConfigError(errfmt.format(err=e)) from None
    cond.warning = cond_conflicts(cond, pctx.places)
    if emit and cond.warning:
        ctx.warn(cond.warning)
    if cond.warning:
        _never_match(cond, pctx.places)
    return cond


def _never_match(cond: Cond, places: tuple[str, ...]) -> None:
    """What "will never match" (or "involves keywords ... incompatible") means at run time: a fetch of data that is gone where the
    rule runs (the request's headers in an http-response rule) finds nothing in HAProxy,
    though gproxy still holds the data; so this condition's copy of each such term keeps
    only the expressions usable there (none: it never matches, and ``!`` of it always
    does).  A named ACL shared with other rules is not changed."""
    for suite in cond.suites:
        for i, (exprs, neg, name) in enumerate(suite):
            usable = [e for e in exprs if smp.check_places(e.expr, places) is None]
            if len(usable) != len(exprs):
                suite[i] = (usable, neg, name)


@SECTION_KEYWORDS.register("acl", PROXY_SECTIONS, "<name> <criterion> [flags] [operator] <value> ...",
                           "declare or complete an ACL")
def _acl(ctx: KwCtx, args: list[str]) -> None:
    p = ctx.proxy
    if p.kind == DEFAULTS and not p.name:
        raise ConfigError("'acl' not allowed in anonymous 'defaults' section.")
    name = args[0] if args else ""
    bad = invalid_char(name)
    if bad is not None:
        raise ConfigError(f"character '{bad}' is not permitted in acl name '{name}'.")
    if name.lower() == "or":
        raise ConfigError(
            f"acl name '{name}' will never match. 'or' is used to express a logical disjunction within a condition."
        )
    pctx = parse_ctx(ctx)
    try:
        parse_acl_words(args, proxy_acls(p), pctx)
    except (CondError, SampleError) as e:
        raise ConfigError(f"error detected while parsing ACL '{name}' : {e}.") from None


# --------------------------------------------------------------------------------------
# use_backend


def compile_use_backend(ctx: KwCtx, ub: Any) -> None:
    """Compile a ``use_backend`` rule: its condition and, for a log-format name, its renderer.

    Sets ``ub.compiled`` (Cond or None), ``ub.dynamic`` (bool) and ``ub.render``
    (``fn(sess, txn) -> str`` or None).
    """
    ub.compiled = None
    ub.dynamic = False
    ub.render = None
    ub.error = None
    if ub.cond:
        ub.compiled = compile_cond(ctx, ub.cond, "use_backend",
                                   "error detected while parsing switching rule : {err}.")
    if "%" in ub.name:
        from .. import logformat

        try:
            nodes = logformat.parse_format(ub.name, ctx.proxy.mode)
        except ValueError as e:
            ub.error = f"Parsing [{ctx.file}:{ctx.line}]: failed to parse use_backend rule '{ub.name}' : {e}."
            ub.dynamic = True
            return
        if len(nodes) == 1 and nodes[0][0] == "text":
            ub.name = nodes[0][1]
            return
        pctx = parse_ctx(ctx, "use_backend", "in use_backend expression in")
        try:
            ub.render = smp.compile_logformat(ub.name, pctx, mode=ctx.proxy.mode, http=False)
        except ValueError as e:
            # reported after parsing, as HAProxy resolves use_backend names then
            ub.error = f"Parsing [{ctx.file}:{ctx.line}]: failed to parse use_backend rule '{ub.name}' : {e}."
            ub.dynamic = True
            return
        ub.dynamic = True


def _lookup(backends: Any, name: str) -> Any:
    if isinstance(backends, Mapping):
        return backends.get(name)
    for b in backends:
        if getattr(b, "name", None) == name:
            return b
    return None


def default_backend(fe: Any, backends: Any) -> Any:
    """The frontend's default backend: ``default_backend``, else a listen's own backend."""
    spec = fe.spec
    if spec.default_backend:
        be = _lookup(backends, spec.default_backend)
        if be is not None:
            return be
    if spec.kind == "listen":
        be = _lookup(backends, spec.name)
        if be is not None:
            return be
    return getattr(fe, "default_backend", None)


def select_backend(fe: Any, sess: Any, txn: Any, backends: Any) -> Any:
    """process_switching_rules(): the backend for this request/connection, or None.

    ``fe`` is the runtime frontend (``fe.spec.use_backends`` are evaluated in order),
    ``backends`` maps names to runtime backends (a dict, or any iterable of objects
    with a ``name``).  A dynamic name that names no backend falls back to the default
    backend, as in HAProxy.  For TCP frontends pass ``txn=None``: HTTP fetches then
    return nothing.
    """
    for ub in fe.spec.use_backends:
        cond = getattr(ub, "compiled", None)
        if cond is not None and not cond.match(sess, txn):
            continue
        if cond is None and ub.cond:
            continue  # not compiled (config error): never matches
        render = getattr(ub, "render", None)
        if render is not None:
            be = _lookup(backends, render(sess, txn))
            return be if be is not None else default_backend(fe, backends)
        be = _lookup(backends, ub.name)
        if be is not None:
            return be
    return default_backend(fe, backends)


# --------------------------------------------------------------------------------------
# after parsing: resolve userlist / backend references


def _report_args(diag: Any, errs: Any) -> None:
    """One proxy's argument resolution errors: one alert, or HAProxy's
    "multiple argument resolution errors:" with each error on an indented line."""
    if len(errs) == 1:
        diag.alert(errs[0])
    elif errs:
        diag.alert("multiple argument resolution errors:" + "".join("\n        " + e for e in errs))


def resolve_refs(model: Any, diag: Any) -> None:
    """smp_resolve_args(): bind every userlist/backend argument to its object, with
    HAProxy's alerts for names that don't exist; then check http_auth_group groups."""
    for p in model.proxies:
        for ub in p.use_backends:
            err = getattr(ub, "error", None)
            if err:
                diag.alert(err)
        if p.mode != "http":
            owner = f"{p.kind}:{p.name}"
            kind = "proxy" if p.kind == "listen" else p.kind
            if p.extra.get("monitor_uri") and p.has_fe and p.kind != "defaults":
                diag.warning(f"monitor-uri will be ignored for {kind} '{p.name}' (needs 'mode http').")
            for what, lst in (("http-request", p.http_request), ("http-response", p.http_response),
                              ("http-after-response", p.http_after_response),
                              ("redirect", p.extra.get("redirect_rules") or ())):
                if any(getattr(r, "owner", "") == owner for r in lst):
                    diag.warning(f"'{what}' rules ignored for {kind} '{p.name}' as they require HTTP mode.")
    from . import rules as _rules  # late: rules imports this module

    track = model.__dict__.get("_track_msgs")  # what config.validate did not report yet
    if track is None:
        track = _rules.check_track_rules(model)  # check_action_rules(): track-sc tables, per proxy
    errors: dict[str, list[str]] = {}  # smp_resolve_args() reports per proxy
    refs: list[smp.Ref] = model.__dict__.get("_sample_refs", [])
    userlists = {u.name: u for u in model.sections.get("userlist", [])}
    for ref in refs:
        add = errors.setdefault(ref.proxy, []).append
        if ref.error:
            add(f"parsing [{ref.file}:{ref.line}]: error in regex '{ref.name}' in arg {ref.pos} of conversion "
                       f"keyword '{ref.conv}' for {ref.what} {ref.where} proxy '{ref.proxy}' : {ref.error}.")
            continue
        if ref.kind == smp.A_USR:
            what = "userlist"
            if not ref.name:
                add(f"parsing [{ref.file}:{ref.line}]: missing userlist name in arg {ref.pos} of "
                           f"{ref.what} {ref.where} proxy '{ref.proxy}'.")
                continue
            ul = userlists.get(ref.name)
            if ul is None:
                add(f"parsing [{ref.file}:{ref.line}]: unable to find {what} '{ref.name}' referenced in "
                           f"arg {ref.pos} of {ref.what} {ref.where} proxy '{ref.proxy}'.")
                continue
            ref.value = ul
        elif ref.kind == smp.A_TAB:
            name = ref.name or ref.proxy
            conv = f"conversion keyword '{ref.conv}' for " if ref.conv else ""
            if name not in model.__dict__.get("_stick_tables", {}):
                add(f"parsing [{ref.file}:{ref.line}]: unable to find table '{name}' referenced in arg "
                           f"{ref.pos} of {conv}{ref.what} {ref.where} proxy '{ref.proxy}'.")
                continue
            ref.value = name
        elif ref.kind in (smp.A_BE, smp.A_FE):
            kind = "backend" if ref.kind == smp.A_BE else "frontend"
            if not ref.name:
                ref.value = None
                continue
            found = None
            for p in model.proxies:
                if p.name == ref.name:
                    found = p
                    break
            if found is None:
                add(f"parsing [{ref.file}:{ref.line}]: unable to find {kind} '{ref.name}' referenced in "
                           f"arg {ref.pos} of {ref.what} {ref.where} proxy '{ref.proxy}'.")
                continue
            ok = found.has_be if kind == "backend" else found.has_fe
            if not ok:
                add(f"parsing [{ref.file}:{ref.line}]: proxy '{ref.name}', referenced in arg {ref.pos} of "
                           f"{ref.what} {ref.where} proxy '{ref.proxy}', has not {kind} capability.")
                continue
            ref.value = found
    for p in model.proxies:
        for level, text in track.pop(p.name, ()):
            (diag.alert if level == "alert" else diag.warning)(text)
        _report_args(diag, errors.pop(p.name, ()))
    for lst in track.values():
        for level, text in lst:
            (diag.alert if level == "alert" else diag.warning)(text)
    for lst in errors.values():
        _report_args(diag, lst)
    for p in model.proxies:
        for name, exprs in p.acls.items():
            for e in exprs:
                if e.matcher.method != "auth":
                    continue
                ul = getattr(e.expr.args[0], "value", None) if e.expr.args else None
                if ul is None:
                    continue
                if not e.matcher.patterns:
                    diag.alert(f"proxy {p.name}: acl {name} {e.kw}(): no groups specified.")
                    continue
                for g in e.matcher.patterns:
                    if g not in ul.groups:
                        diag.alert(f"proxy {p.name}: acl {name} {e.kw}(): invalid group '{g}'.")


from . import userlist as _userlist  # noqa: F401 - registers http_auth* fetches and the section
