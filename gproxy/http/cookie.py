"""Cookie-based server persistence: the ``cookie`` keyword and what it does to requests
and responses, byte for byte as HAProxy 2.6 (``src/http_ana.c``:
``http_manage_client_side_cookies``, ``http_manage_server_side_cookies``, the insertion
in ``http_process_res_common``; ``cfgparse-listen.c`` for the keyword).

Owns:

* ``cookie <name> [rewrite|insert|prefix] [indirect] [nocache] [postonly] [preserve]
  [httponly] [secure] [domain <d>]* [maxidle <s>] [maxlife <s>] [dynamic] [attr <v>]*``
  -> ``CookieSpec`` in ``proxy.cookie`` (HAProxy's alert and warning texts), and
  ``dynamic-cookie-key <key>`` -> ``proxy.extra['dynamic_cookie_key']``;
* ``validate(proxy)``: the post-parse warnings for a proxy not in ``mode http``;
* ``request_server(spec, txn, backend, ...)``: read (and per the mode rewrite) the
  request's ``Cookie`` lines, pick the persistence server, set the request cookie flag;
* ``apply_response(spec, txn, server, ...)``: handle the server's ``Set-Cookie`` lines,
  insert ours, set the response cookie flag;
* the cookie date codec (``encode_date``/``decode_date``: HAProxy's 5-char base64 of
  ``(unix_time + 3) >> 2``), ``response_cacheable`` (``nocache``) and
  ``dynamic_cookie`` (``dynamic``: XXH64 of key + address + port).

State between the two calls lives in ``txn.extra``:

``cookie_req``  request cookie flag for ``%tsc``: ``N`` none, ``I`` invalid, ``D`` server
                down, ``V`` valid, ``E`` expired (maxidle), ``O`` too old (maxlife),
                ``U`` unused (server already assigned or persistence ignored); ``-``
                without a cookie mode (no ``cookie`` line, or a passive one).
``cookie_rsp``  response cookie flag: ``N`` none, ``P`` passed (left as the server set
                it), ``D`` deleted, ``I`` inserted, ``R`` rewritten/prefixed, ``U``
                updated (dates); ``-`` as above.
``cookie_direct``  HAProxy's ``SF_DIRECT``: the server was named by the request (cookie,
                or ``use-server``), not load-balanced.  The engine clears it when it
                redispatches.
``cookie_srv_value``  the server part of our cookie as the client sent it (or None).
``cookie_first_date`` / ``cookie_last_date``  dates read from the cookie (unix seconds, 0).
``cookie_ignore_persist``  ``ignore-persist`` matched (no persistence, no insertion).

Header values are ``str`` (latin-1) as in ``message.Headers``; names are lower-case, and
the headers we add are appended as HAProxy does (``set-cookie`` then ``cache-control``
on the wire, after the server's own headers).  Pure: no I/O, never yields.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config.values import BadValue, parse_time
from ..registry import BE_SIDE, SECTION_KEYWORDS, ConfigError, KwCtx

if TYPE_CHECKING:
    from ..server import Server

# ----------------------------------------------------------------------- the keyword

OPTIONS_ALERT = (
    "'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', "
    "'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options."
)
_AT_PARSING = "parsing [{file}:{line}] : "
_AT_READCFG = "parsing [{file}:{line}]: "


@dataclass
class CookieSpec:
    """One backend's ``cookie`` line (HAProxy's ``cookie_*`` fields and ``ck_opts``)."""

    name: str
    rewrite: bool = False
    insert: bool = False
    prefix: bool = False
    indirect: bool = False
    nocache: bool = False
    postonly: bool = False
    preserve: bool = False
    httponly: bool = False
    secure: bool = False
    dynamic: bool = False
    #: ``domain`` values joined as HAProxy emits them: ``a.com; domain=b.com``
    domain: str | None = None
    maxidle: int = 0  # seconds, 0 = off
    maxlife: int = 0
    #: ``attr`` values joined with ``"; "`` (HAProxy keeps them across ``cookie`` lines)
    attrs: str | None = None
    #: section kind the line was in (a frontend does not inherit it from defaults)
    section: str = ""
    file: str = ""
    line: int = 0

    @property
    def any_mode(self) -> bool:
        """``PR_CK_ANY``: a mode that HAProxy logs cookie flags for (not a passive cookie)."""
        return self.rewrite or self.insert or self.prefix or self.indirect


def _invalid_domainchar(name: str) -> str | None:
    """First character of ``name`` outside ``[A-Za-z0-9._-]`` (the empty name: '')."""
    if not name:
        return ""
    for c in name:
        if not (c.isascii() and c.isalnum()) and c not in "._-":
            return c
    return None


def parse_cookie(args: list[str], prev: CookieSpec | None = None, warn: Any = None, alert: Any = None) -> CookieSpec:
    """The ``cookie`` words (after the keyword) -> CookieSpec; ConfigError on HAProxy's errors.

    ``prev`` is the proxy's current spec (its ``attr`` values carry over, as in HAProxy).
    ``warn(text, at)``/``alert(text, at)`` receive the messages that do not end parsing
    (``at`` is the ``parsing [file:line]`` spelling); the last alert is raised.  Errors
    raised carry ``.at`` like ``config.parser.config_error``.
    """
    warn = warn or (lambda text, at: None)
    alert = alert or (lambda text, at: None)
    if not args or not args[0]:
        raise _err("'cookie' expects <cookie_name> as argument.", _AT_PARSING)
    spec = CookieSpec(args[0], attrs=prev.attrs if prev is not None else None)
    i = 1
    n = len(args)
    while i < n and args[i]:
        w = args[i]
        nxt = args[i + 1] if i + 1 < n else ""
        if w in (
            "rewrite",
            "indirect",
            "insert",
            "nocache",
            "postonly",
            "preserve",
            "prefix",
            "httponly",
            "secure",
            "dynamic",
        ):
            setattr(spec, w, True)
        elif w == "domain":
            if not nxt:
                raise _err("'domain' expects <domain> as argument.", _AT_READCFG)
            if "." not in nxt:
                warn(
                    f"domain '{nxt}' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3).",
                    _AT_READCFG,
                )
            bad = _invalid_domainchar(nxt)
            if bad is not None:
                raise _err(f"character '{bad}' is not permitted in domain name '{nxt}'.", _AT_READCFG)
            spec.domain = nxt if spec.domain is None else f"{spec.domain}; domain={nxt}"
            i += 1
        elif w in ("maxidle", "maxlife"):
            if not nxt:
                what = "<idletime>" if w == "maxidle" else "<lifetime>"
                raise _err(f"'{w}' expects {what} in seconds as argument.", _AT_READCFG)
            notes: list[str] = []
            try:
                v = parse_time(nxt, w, "s", style="angle", warnings=notes)
            except BadValue as e:
                raise _err(str(e), _AT_READCFG) from None
            for t in notes:
                warn(t, None)
            setattr(spec, w, v)
            i += 1
        elif w == "attr":
            if not nxt:
                raise _err("'attr' expects <value> as argument.", _AT_READCFG)
            for c in nxt:
                o = ord(c)
                if o < 32 or o == 127 or c == ";":
                    raise _err(f"character '%x{o:02X}' is not permitted in attribute value.", _AT_READCFG)
            spec.attrs = nxt if spec.attrs is None else f"{spec.attrs}; {nxt}"
            i += 1
        else:
            raise _err(OPTIONS_ALERT, _AT_PARSING)
        i += 1
    errors = []
    if spec.rewrite and spec.indirect:
        errors.append("cookie 'rewrite' and 'indirect' modes are incompatible.")
    if spec.rewrite + spec.insert + spec.prefix > 1:
        errors.append("cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.")
    if spec.preserve and not (spec.insert or spec.indirect):
        errors.append("cookie 'preserve' requires at least 'insert' or 'indirect'.")
    if errors:
        for text in errors[:-1]:
            alert(text, _AT_PARSING)
        err = _err(errors[-1], _AT_PARSING)
        err.spec = spec  # type: ignore[attr-defined]  # HAProxy keeps the settings
        raise err
    return spec


def _err(text: str, at: str) -> ConfigError:
    e = ConfigError(text)
    e.at = at  # type: ignore[attr-defined]
    e.fatal = True  # type: ignore[attr-defined]
    e.abort = False  # type: ignore[attr-defined]
    return e


def _report(ctx: KwCtx, level: str, text: str, at: str | None) -> None:
    if at is not None:
        text = at.format(file=ctx.file, line=ctx.line) + text
    if level == "alert":
        ctx.diag.alert(text)
    else:
        ctx.diag.warning(text)


@SECTION_KEYWORDS.register(
    "cookie",
    BE_SIDE,
    "<name> [rewrite|insert|prefix] [indirect] [nocache] [postonly] [preserve] [httponly] "
    "[secure] [domain <domain>]* [maxidle <idle>] [maxlife <life>] [dynamic] [attr <value>]*",
    "cookie-based server persistence",
)
def _cookie(ctx: KwCtx, args: list[str]) -> None:
    prev = ctx.proxy.cookie
    try:
        spec = parse_cookie(
            args,
            prev,
            warn=lambda text, at: _report(ctx, "warning", text, at),
            alert=lambda text, at: _report(ctx, "alert", text, at),
        )
    except ConfigError as e:
        spec = getattr(e, "spec", None)
        if spec is not None:
            spec.section, spec.file, spec.line = ctx.section, ctx.file, ctx.line
            ctx.proxy.cookie = spec
        raise
    spec.section, spec.file, spec.line = ctx.section, ctx.file, ctx.line
    ctx.proxy.cookie = spec


@SECTION_KEYWORDS.register(
    "dynamic-cookie-key",
    BE_SIDE,
    "<key>",
    "secret for the server cookies that 'cookie ... dynamic' derives from addresses",
)
def _dynamic_cookie_key(ctx: KwCtx, args: list[str]) -> None:
    if not args or not args[0]:
        raise _err("'dynamic-cookie-key' expects <secret_key> as argument.", _AT_PARSING)
    ctx.proxy.extra["dynamic_cookie_key"] = args[0]


def validate(proxy: Any) -> list[tuple[str, str]]:
    """Post-parse checks of one ``model.Proxy`` (``proxy_cfg_ensure_no_http`` and the
    server loop of ``check_config_validity``): ``[(level, text)]``, level 'warning'.

    A proxy not in ``mode http`` keeps its cookie settings but they are ignored.  A
    frontend only has a cookie when the line is in the frontend itself (HAProxy does not
    copy it from defaults into a frontend).
    """
    out: list[tuple[str, str]] = []
    if proxy.mode == "http" or proxy.kind == "defaults":
        return out
    kind = "proxy" if proxy.kind == "listen" else proxy.kind
    spec = proxy.cookie
    if spec is not None and not (proxy.kind == "frontend" and spec.section == "defaults"):
        out.append(("warning", f"cookie will be ignored for {kind} '{proxy.name}' (needs 'mode http')."))
    if proxy.kind in ("backend", "listen"):
        for s in proxy.servers:
            if s.cookie:
                out.append(
                    (
                        "warning",
                        f"{kind} '{proxy.name}' : ignoring cookie for server '{s.name}' as HTTP mode is disabled.",
                    )
                )
    return out


# ------------------------------------------------------------------------- dates

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64REV = {c: i for i, c in enumerate(B64)}
COOKIE_DELIM = "~"
COOKIE_DELIM_DATE = "|"
EXPIRED = "Expires=Thu, 01-Jan-1970 00:00:01 GMT"


def s30tob64(v: int) -> str:
    """HAProxy's ``s30tob64``: the low 30 bits of ``v`` as 5 base64 chars, MSB first."""
    return "".join(B64[(v >> s) & 0x3F] for s in (24, 18, 12, 6, 0))


def b64tos30(text: str) -> int:
    """HAProxy's ``b64tos30`` over the first 5 chars: the 30-bit value, -1 if invalid."""
    if len(text) < 5:
        return -1
    out = 0
    for c in text[:5]:
        b = _B64REV.get(c)
        if b is None:
            return -1
        out = (out << 6) + b
    return out


def encode_date(unix_time: int) -> str:
    """A cookie date field: ``(unix_time + 3) >> 2`` in 5 base64 chars."""
    return s30tob64((int(unix_time) + 3) >> 2)


def decode_date(text: str) -> int:
    """Unix time of a date field (a multiple of 4 s), 0 if invalid or zero."""
    v = b64tos30(text)
    return (v << 2) & 0xFFFFFFFF if v > 0 else 0


def _i32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


# ------------------------------------------------------------ header value helpers
# These work on a list of 1-char strings so that the index arithmetic of HAProxy's
# in-place parsers (memmove + pointer deltas) can be followed step by step.

_SPHT = " \t"


def _cookie_value_end(h: list[str], s: int, e: int) -> int:
    """``http_find_cookie_value_end``: next unquoted ``,`` or ``;``."""
    quoted = qdpair = False
    while s < e:
        c = h[s]
        if qdpair:
            qdpair = False
        elif quoted:
            if c == "\\":
                qdpair = True
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c in ",;":
            return s
        s += 1
    return s


def _hdr_value_end(h: list[str], s: int, e: int) -> int:
    """``http_find_hdr_value_end``: next unquoted ``,``."""
    quoted = qdpair = False
    while s < e:
        c = h[s]
        if qdpair:
            qdpair = False
        elif quoted:
            if c == "\\":
                qdpair = True
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == ",":
            return s
        s += 1
    return s


def _del_hdr_value(h: list[str], start: int, end: int, frm: int, nxt: int, keep_len: bool = False) -> tuple[int, int]:
    """``http_del_hdr_value``: remove ``[frm, nxt)`` keeping one delimiter (and a space)
    between the remaining values.  Returns (delta, new frm).

    ``keep_len``: like HAProxy's ``memmove``, shift ``[nxt, end)`` left and leave the
    buffer's length (and its last bytes) as they were."""
    prev = frm
    if prev == start:
        if nxt < end:
            nxt += 1
        while nxt < end and h[nxt] in _SPHT:
            nxt += 1
    else:
        while h[prev - 1] in _SPHT:
            prev -= 1
        frm = prev
        if nxt < end:
            h[prev] = h[nxt]
            prev += 1
            nxt += 1
            if prev + 1 < nxt:
                h[prev] = " "
                prev += 1
            while nxt < end and h[nxt] in _SPHT:
                nxt += 1
    if keep_len:
        h[prev : prev + end - nxt] = h[nxt:end]
    else:
        del h[prev:nxt]
    return prev - nxt, frm


def _blank_near_equal(value: str) -> bool:
    """A blank next to an ``=``: HAProxy would remove it (fast paths skip such lines)."""
    return " =" in value or "= " in value or "\t=" in value or "=\t" in value


# ---------------------------------------------------------------- request side

_CK_FLAGS = "NIDVEOU"


def request_server(
    spec: CookieSpec | None,
    txn: Any,
    backend: Any,
    *,
    now: int | None = None,
    assigned: Server | None = None,
    ignore_persist: bool = False,
    force_persist: bool = False,
) -> Server | None:
    """Parse the request's ``Cookie`` lines for ``spec.name``; return the server it names.

    Call it once the backend is known, after ``use-server`` (``assigned``: the server a
    rule already chose, HAProxy's ``SF_ASSIGNED``) and ``force-persist`` /
    ``ignore-persist`` were evaluated, before load balancing.  Returns the first server
    (declaration order, backups included) whose ``cookie`` equals the cookie's server
    part and that is operational; a matching server that is down (or in maintenance)
    is returned only with ``option persist`` (``backend.spec.options['persist']``) or
    ``force_persist``, else the next match is looked for and the flag says ``D``.  None:
    load-balance as usual (the engine then redispatches; an expired/invalid cookie is
    simply not used).

    Also rewrites ``txn.req.headers`` as HAProxy does: blanks around ``=`` removed from
    every cookie, the ``srv~`` prefix stripped in ``prefix`` mode, and in
    ``insert indirect`` mode our cookie (and any ``$attr`` following it) removed, the
    line deleted when nothing else is left.  Sets ``txn.extra`` (see the module doc) and
    ``txn.cookie_srv``.
    """
    ex = txn.extra
    ex["cookie_direct"] = assigned is not None
    ex["cookie_ignore_persist"] = ignore_persist
    ex["cookie_first_date"] = ex["cookie_last_date"] = 0
    ex["cookie_srv_value"] = None
    if spec is None:
        ex["cookie_req"] = ex["cookie_rsp"] = "-"
        return None
    now = int(time.time()) if now is None else int(now)
    persist = bool(getattr(getattr(backend, "spec", None), "options", {}).get("persist")) or force_persist
    st = _ReqState(spec, backend.servers, now, persist, assigned is not None or ignore_persist)
    items = txn.req.headers.items
    i = 0
    while i < len(items):
        name, value = items[i]
        if name != "cookie":
            i += 1
            continue
        new = st.line(value)
        if new is None:
            del items[i]
            continue
        if new != value:
            items[i] = (name, new)
        i += 1
    chosen = st.server
    ex["cookie_req"] = _CK_FLAGS[st.flag] if spec.any_mode else "-"
    ex["cookie_rsp"] = "N" if spec.any_mode else "-"
    ex["cookie_first_date"] = st.first_date
    ex["cookie_last_date"] = st.last_date
    ex["cookie_srv_value"] = st.srv_value
    if chosen is not None:
        ex["cookie_direct"] = True
        txn.cookie_srv = chosen
    return chosen


class _ReqState:
    """The transaction fields ``http_manage_client_side_cookies`` updates, across lines."""

    __slots__ = (
        "assigned",
        "first_date",
        "flag",
        "last_date",
        "now",
        "persist",
        "server",
        "servers",
        "spec",
        "srv_value",
    )

    def __init__(self, spec: CookieSpec, servers: list[Server], now: int, persist: bool, assigned: bool) -> None:
        self.spec = spec
        self.servers = servers
        self.now = now
        self.persist = persist
        self.assigned = assigned  # SF_ASSIGNED | SF_IGNORE_PRST
        self.server: Server | None = None
        self.flag = 0  # index into _CK_FLAGS
        self.first_date = 0
        self.last_date = 0
        self.srv_value: str | None = None

    def line(self, value: str) -> str | None:
        """One ``Cookie`` line -> its new value (None: remove the line)."""
        spec = self.spec
        cname = spec.name
        if cname not in value and not _blank_near_equal(value):
            return value  # nothing here can match or be rewritten
        clen = len(cname)
        h = list(value)
        hdr_end = len(h)
        del_from: int | None = None
        preserve_hdr = False
        is_first = True
        prev = 0
        while prev < hdr_end:
            att_beg = prev if is_first else prev + 1
            is_first = False
            while att_beg < hdr_end and h[att_beg] in _SPHT:
                att_beg += 1
            equal = att_end = att_beg
            while equal < hdr_end:
                c = h[equal]
                if c in "=,;":
                    break
                equal += 1
                if c in _SPHT:
                    continue
                att_end = equal
            if equal < hdr_end and h[equal] == "=":
                val_beg = equal + 1
                while val_beg < hdr_end and h[val_beg] in _SPHT:
                    val_beg += 1
                nxt = _cookie_value_end(h, val_beg, hdr_end)
                val_end = nxt
                while val_end > val_beg and h[val_end - 1] in _SPHT:
                    val_end -= 1
            else:
                val_beg = val_end = nxt = equal

            if att_beg < hdr_end and h[att_beg] == "$":
                prev = nxt
                continue

            if equal == nxt:  # no '=': not ours, keep it
                preserve_hdr = True
                if del_from is not None:
                    delta, del_from = _del_hdr_value(h, 0, hdr_end, del_from, prev)
                    val_end += delta
                    nxt += delta
                    hdr_end += delta
                    del_from = None
                prev = nxt
                continue

            if att_end != equal or val_beg > equal + 1:  # blanks around '='
                stripped_before = 0
                if att_end != equal:
                    del h[att_end:equal]
                    stripped_before = att_end - equal
                    equal += stripped_before
                    val_beg += stripped_before
                if val_beg > equal + 1:
                    del h[equal + 1 : val_beg]
                    stripped_after = (equal + 1) - val_beg
                    val_beg += stripped_after
                    stripped_before += stripped_after
                val_end += stripped_before
                nxt += stripped_before
                hdr_end += stripped_before

            if att_end - att_beg == clen and "".join(h[att_beg:att_end]) == cname:
                delim = self.ours(h, val_beg, val_end)
                if spec.prefix and delim != val_end:
                    del h[val_beg : delim + 1]
                    delta = val_beg - (delim + 1)
                    val_end += delta
                    nxt += delta
                    hdr_end += delta
                    del_from = None
                    preserve_hdr = True
                elif del_from is None and spec.insert and spec.indirect:
                    del_from = prev
            else:
                preserve_hdr = True
                if del_from is not None:
                    delta, del_from = _del_hdr_value(h, 0, hdr_end, del_from, prev)
                    val_end += delta
                    nxt += delta
                    hdr_end += delta
                    del_from = None
            prev = nxt

        if del_from is not None:
            hdr_end = del_from if preserve_hdr else 0
        if hdr_end == 0:
            return None if value else value
        return "".join(h[:hdr_end])

    def ours(self, h: list[str], val_beg: int, val_end: int) -> int:
        """Our cookie's value ``h[val_beg:val_end]``: dates, expiry, server lookup and
        flags.  Returns ``delim`` (end of the server part; ``val_beg`` = not usable)."""
        spec = self.spec
        now = self.now
        if spec.prefix:
            delim = val_beg
            while delim < val_end and h[delim] != COOKIE_DELIM:
                delim += 1
        else:
            delim = val_end
            value = "".join(h[val_beg:val_end])
            bar = value.find(COOKIE_DELIM_DATE)
            if bar >= 0:
                delim = val_beg + bar
                v1 = bar + 1
                if len(value) - v1 >= 5:
                    d = b64tos30(value[v1 : v1 + 5])
                    if d > 0:
                        self.last_date = (d << 2) & 0xFFFFFFFF
                bar2 = value.find(COOKIE_DELIM_DATE, v1)
                if bar2 >= 0 and len(value) - bar2 > 5:
                    d = b64tos30(value[bar2 + 1 : bar2 + 6])
                    if d > 0:
                        self.first_date = (d << 2) & 0xFFFFFFFF
        if (
            self.first_date
            and spec.maxlife
            and (_i32(now - self.first_date) > spec.maxlife or _i32(self.first_date - now) > 86400)
        ):
            self.flag = 5  # O
            delim = val_beg
            self.first_date = self.last_date = 0
        elif (
            self.last_date
            and spec.maxidle
            and (_i32(now - self.last_date) > spec.maxidle or _i32(self.last_date - now) > 86400)
        ):
            self.flag = 4  # E
            delim = val_beg
            self.first_date = self.last_date = 0

        found: Server | None = None
        if delim != val_beg and self.server is None:
            self.srv_value = "".join(h[val_beg:delim])
        if delim != val_beg and not self.assigned:
            key = "".join(h[val_beg:delim])
            for srv in self.servers:
                if srv.cookie is not None and srv.cookie == key:
                    if srv.running or self.persist:
                        self.flag = 3 if srv.running else 2  # V / D
                        self.server = found = srv
                        self.assigned = True
                        break
                    self.flag = 2  # D, and look for another one
        if found is None and self.flag == 0:
            # HAProxy tests (flags & (DOWN|EXPIRED|OLD)), which covers every non-NONE value
            self.flag = 6 if self.assigned else 1  # U / I
        return delim


# -------------------------------------------------------------- response side

_CACHEABLE_STATUS = frozenset((200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501))


def response_cacheable(method: str, rsp: Any) -> bool:
    """HAProxy's ``TX_CACHEABLE`` once ``http_check_response_for_cacheability`` ran (2.6.12).

    Starts true for GET/HEAD/OPTIONS/TRACE with a status cacheable by default (200 203
    204 206 300 301 404 405 410 414 501); ``Pragma: no-cache`` clears it; each
    ``Cache-Control`` value in turn: ``public`` sets it (whatever the method or status),
    ``private``/``no-cache``/``no-store``/``max-age=0``/``s-maxage=0`` clear it; finally
    it is cleared when there is neither an expiration time (``max-age``/``s-maxage``
    value, ``Expires``) nor a validator (``ETag``, ``Last-Modified``).  1xx: false.
    """
    status = rsp.status
    if status < 200:
        return False
    cacheable = method in ("GET", "HEAD", "OPTIONS", "TRACE") and status in _CACHEABLE_STATUS
    hdrs = rsp.headers
    pragma = hdrs.get_all("pragma")
    if pragma and pragma[0].strip(" \t").lower() == "no-cache":
        return False
    fresh = False
    for v in hdrs.values("cache-control"):
        lv = v.lower()
        if lv == "public":
            cacheable = True
        elif lv in ("private", "no-cache", "no-store", "max-age=0", "s-maxage=0"):
            cacheable = False
        elif lv.startswith('no-cache="set-cookie'):
            pass
        elif lv.startswith(("s-maxage", "max-age")):
            fresh = True
    if not fresh and hdrs.has("expires"):
        fresh = True
    if not fresh and not (hdrs.has("etag") or hdrs.has("last-modified")):
        cacheable = False
    return cacheable


_SCK_FLAGS = "NPDIRU"
_SCK_NONE, _SCK_FOUND, _SCK_DELETED, _SCK_INSERTED, _SCK_REPLACED, _SCK_UPDATED = range(6)


def apply_response(spec: CookieSpec | None, txn: Any, server: Server | None, *, now: int | None = None) -> None:
    """After ``http-response`` rules, on the response head in ``txn.rsp`` from ``server``.

    Server ``Set-Cookie`` (then ``Set-Cookie2``) lines naming our cookie: kept with
    ``preserve``; removed in ``insert`` mode (and with ``indirect`` when the server was
    named by the request); the value replaced by the server's cookie (``rewrite``) or
    prefixed with ``<srvcookie>~`` (``prefix``).  Blanks around ``=`` of the first
    cookie of every Set-Cookie line are removed (HAProxy rewrites them in place).  Then
    in ``insert`` mode ``set-cookie: NAME=VAL[|dates]; path=/[; domain=..][; HttpOnly]
    [; Secure][; attrs]`` is appended unless the client came with a valid one (and its
    dates need no refresh), or ``postonly`` and not a POST, or ``preserve`` and the server
    set one, or ``ignore-persist``; a server without ``cookie`` gets
    ``NAME=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/...``; ``nocache`` then adds
    ``cache-control: private`` to a cacheable response.  1xx responses other than 101
    are left alone.  Sets ``txn.extra['cookie_rsp']``.
    """
    ex = txn.extra
    if spec is None:
        ex["cookie_rsp"] = "-"
        return
    rsp = txn.rsp
    if rsp is None or (rsp.status < 200 and rsp.status != 101):
        ex.setdefault("cookie_rsp", "N" if spec.any_mode else "-")
        return
    now = int(time.time()) if now is None else int(now)
    direct = bool(ex.get("cookie_direct"))
    ignore = bool(ex.get("cookie_ignore_persist"))
    first_date = ex.get("cookie_first_date", 0)
    last_date = ex.get("cookie_last_date", 0)
    flag = _SCK_NONE
    items = rsp.headers.items

    # http_manage_server_side_cookies: every Set-Cookie line, then every Set-Cookie2 line
    for hname in ("set-cookie", "set-cookie2"):
        cookie2 = hname == "set-cookie2"
        i = 0
        while i < len(items):
            name, value = items[i]
            if name != hname:
                i += 1
                continue
            new, f = _srv_line(spec, value, cookie2, server, direct, ignore)
            if f >= 0:
                flag = f
            if new is None:
                del items[i]
                continue
            if new != value:
                items[i] = (name, new)
            i += 1

    method = txn.req.method if txn.req is not None else ""
    if (
        server is not None
        and spec.insert
        and not (flag == _SCK_FOUND and spec.preserve)
        and (
            not direct
            or ((spec.maxidle or last_date) and (not last_date or last_date - now < 0))
            or (spec.maxlife and not first_date)
            or (not spec.maxlife and first_date)
        )
        and (not spec.postonly or method == "POST")
        and not ignore
    ):
        if not server.cookie:
            val = f"{spec.name}=; {EXPIRED}; path=/"
        else:
            val = f"{spec.name}={server.cookie}"
            if spec.maxidle or spec.maxlife:
                val += COOKIE_DELIM_DATE + s30tob64((now + 3) >> 2)
                if spec.maxlife:
                    val += COOKIE_DELIM_DATE + s30tob64((first_date >> 2) if first_date else ((now + 3) >> 2))
            val += "; path=/"
        if spec.domain:
            val += f"; domain={spec.domain}"
        if spec.httponly:
            val += "; HttpOnly"
        if spec.secure:
            val += "; Secure"
        if spec.attrs:
            val += f"; {spec.attrs}"
        items.append(("set-cookie", val))
        flag = _SCK_UPDATED if server.cookie and direct else _SCK_INSERTED
        if spec.nocache and response_cacheable(method, rsp):
            items.append(("cache-control", "private"))
    ex["cookie_rsp"] = _SCK_FLAGS[flag] if spec.any_mode else "-"


def _srv_line(
    spec: CookieSpec, value: str, cookie2: bool, srv: Server | None, direct: bool, ignore: bool
) -> tuple[str | None, int]:
    """One Set-Cookie(2) line -> (new value or None to remove it, flag or -1 = unchanged)."""
    cname = spec.name
    if cname not in value and not _blank_near_equal(value):
        return value, -1
    clen = len(cname)
    h = list(value)  # the header block's bytes; the value parsed is h[:hdr_end]
    hdr_end = len(h)
    flag = -1
    prev = 0
    is_first = True
    while prev < hdr_end:
        att_beg = prev if is_first else prev + 1
        is_first = False
        while att_beg < hdr_end and h[att_beg] in _SPHT:
            att_beg += 1
        equal = att_end = att_beg
        while equal < hdr_end:
            c = h[equal]
            if c == "=" or c == ";" or (cookie2 and c == ","):
                break
            equal += 1
            if c in _SPHT:
                continue
            att_end = equal
        if equal < hdr_end and h[equal] == "=":
            val_beg = equal + 1
            while val_beg < hdr_end and h[val_beg] in _SPHT:
                val_beg += 1
            nxt = _cookie_value_end(h, val_beg, hdr_end)
            val_end = nxt
            while val_end > val_beg and h[val_end - 1] in _SPHT:
                val_end -= 1
        else:
            val_beg = val_end = nxt = equal
        if nxt < hdr_end:
            nxt = _hdr_value_end(h, nxt, hdr_end) if cookie2 else hdr_end
        if equal == val_end:  # no '='
            prev = nxt
            continue
        if att_end != equal or val_beg > equal + 1:
            stripped_before = 0
            if att_end != equal:
                del h[att_end:equal]
                stripped_before = att_end - equal
                equal += stripped_before
                val_beg += stripped_before
            if val_beg > equal + 1:
                del h[equal + 1 : val_beg]
                stripped_after = (equal + 1) - val_beg
                val_beg += stripped_after
                stripped_before += stripped_after
            val_end += stripped_before
            nxt += stripped_before
            hdr_end += stripped_before
            del h[hdr_end:]  # htx_change_blk_value_len()
        if not ignore and att_end - att_beg == clen and "".join(h[att_beg:att_end]) == cname:
            flag = _SCK_FOUND
            if spec.preserve:
                pass
            elif (srv is not None and spec.insert) or (direct and spec.indirect):
                flag = _SCK_DELETED
                if prev == 0 and nxt == hdr_end:
                    return None, flag
                # (Set-Cookie2 only) HAProxy does not shorten the header here: its
                # last bytes stay, duplicated, after the shifted value
                delta, prev = _del_hdr_value(h, 0, hdr_end, prev, nxt, keep_len=True)
                nxt = prev
                hdr_end += delta
            elif srv is not None and srv.cookie and spec.rewrite:
                ck = list(srv.cookie)
                h[val_beg:val_end] = ck
                delta = len(ck) - (val_end - val_beg)
                nxt += delta
                hdr_end += delta
                flag = _SCK_REPLACED
            elif srv is not None and srv.cookie and spec.prefix:
                ck = list(srv.cookie) + [COOKIE_DELIM]
                h[val_beg:val_beg] = ck
                nxt += len(ck)
                hdr_end += len(ck)
                flag = _SCK_REPLACED
        prev = nxt
    return "".join(h), flag


def term_chars(txn: Any) -> str:
    """The two cookie characters of ``%tsc`` for this transaction (``--`` if none)."""
    ex = txn.extra
    return ex.get("cookie_req", "-") + ex.get("cookie_rsp", "-")


# ------------------------------------------------------------------ dynamic cookies

_P1 = 0x9E3779B185EBCA87
_P2 = 0xC2B2AE3D27D4EB4F
_P3 = 0x165667B19E3779F9
_P4 = 0x85EBCA77C2B2AE63
_P5 = 0x27D4EB2F165667C5
_M64 = (1 << 64) - 1


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def _round(acc: int, lane: int) -> int:
    return (_rotl((acc + lane * _P2) & _M64, 31) * _P1) & _M64


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64 (the hash HAProxy uses for dynamic cookies)."""
    n = len(data)
    p = 0
    if n >= 32:
        v1 = (seed + _P1 + _P2) & _M64
        v2 = (seed + _P2) & _M64
        v3 = seed & _M64
        v4 = (seed - _P1) & _M64
        while p + 32 <= n:
            a, b, c, d = struct.unpack_from("<QQQQ", data, p)
            v1, v2, v3, v4 = _round(v1, a), _round(v2, b), _round(v3, c), _round(v4, d)
            p += 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _M64
        for v in (v1, v2, v3, v4):
            h = ((h ^ _round(0, v)) * _P1 + _P4) & _M64
    else:
        h = (seed + _P5) & _M64
    h = (h + n) & _M64
    while p + 8 <= n:
        (k,) = struct.unpack_from("<Q", data, p)
        h = (_rotl(h ^ _round(0, k), 27) * _P1 + _P4) & _M64
        p += 8
    if p + 4 <= n:
        (k,) = struct.unpack_from("<I", data, p)
        h = (_rotl(h ^ ((k * _P1) & _M64), 23) * _P2 + _P3) & _M64
        p += 4
    while p < n:
        h = (_rotl(h ^ ((data[p] * _P5) & _M64), 11) * _P1) & _M64
        p += 1
    h ^= h >> 33
    h = (h * _P2) & _M64
    h ^= h >> 29
    h = (h * _P3) & _M64
    h ^= h >> 32
    return h


def dynamic_cookie(key: str, ip: str, port: int) -> str | None:
    """``srv_set_dyncookie``: 16 hex digits of XXH64(key + address bytes + port as 4
    big-endian bytes); None when ``ip`` is not an IPv4/IPv6 address."""
    try:
        raw = socket.inet_pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip.split("%", 1)[0])
    except (OSError, ValueError):
        return None
    return f"{xxh64(key.encode('latin-1', 'replace') + raw + struct.pack('!I', port & 0xFFFFFFFF)):016x}"


def assign_dynamic_cookies(
    spec: CookieSpec | None, key: str | None, servers: list[Server], proxy_name: str = ""
) -> list[str]:
    """Give every server without its own ``cookie`` a dynamic one (``cookie ... dynamic``
    with a ``dynamic-cookie-key``), from its resolved address (``sockaddr`` when set,
    else ``host``) and port.  Returns HAProxy's warnings (duplicate values)."""
    warnings: list[str] = []
    if spec is None or not spec.dynamic or key is None:
        return warnings
    for s in servers:
        if s.spec.cookie is not None:
            continue
        ip = s.sockaddr[0] if s.sockaddr else s.host
        ck = dynamic_cookie(key, ip, s.port)
        if ck is None:
            continue
        s.cookie = ck
        if not s.spec.disabled:
            for o in servers:
                if o is not s and not o.spec.disabled and o.cookie == ck:
                    warnings.append(
                        "We generated two equal cookies for two different servers.\n"
                        f"Please change the secret key for '{proxy_name}'."
                    )
    return warnings
