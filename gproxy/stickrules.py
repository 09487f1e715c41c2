"""Stick tables for server persistence: the ``stick-table`` and ``stick`` keywords, their
post-parse checks, and what a stream does with them (HAProxy's cfgparse-listen.c
"stick-table"/"stick", check_config_validity()'s table lookup, stream.c
process_sticking_rules() and process_store_rules()).

Owns the configuration side (``TableSpec`` and ``StickRule`` in ``Proxy.extra``), the
tables' construction at run time (``build``: ``process.stick_tables`` and each backend's
``stick``) and the per-stream rule logic (``request``, then ``commit`` with the server
finally used).  The table itself (keys, expiry, data types, ``show table`` text) is
``sticktable``'s.  Callers: ``tcp.py`` (commit when the server connection is
established) and ``http/h1.py`` (commit when the response head arrives); a backend
without stick rules costs them one attribute test (``be.stick is None``).

No socket I/O; never yields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .config.parser import AT_READCFG, config_error, report
from .config.values import BadValue, c_atol, parse_size, parse_time
from .diag import WARNING
from .http import acl as aclmod
from .http import sample as smp
from .http.sample import SampleError
from .registry import BE_SIDE, DEFAULTS, FRONTEND, PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx
from .sticktable import DATA_TYPES, StickTable

__all__ = ["StickRule", "StickRules", "TableSpec", "build", "check_config", "commit", "request"]

#: key types of HAProxy 2.6 (stktable_types): default key size, custom ``len`` allowed
_KEY_TYPES = {"integer": (4, False), "ip": (4, False), "ipv6": (16, False), "string": (32, True), "binary": (32, True)}
#: sample type a table's key is cast to (smp_to_stkey / stktable_compatible_sample)
_KEY_SMP = {"integer": smp.T_SINT, "ip": smp.T_IPV4, "ipv6": smp.T_IPV6, "string": smp.T_STR, "binary": smp.T_BIN}
#: HAProxy 2.6's data types gproxy parses but does not store (arrays): is_array, takes a delay
_ARRAY_TYPES = {"gpt": False, "gpc": False, "gpc_rate": True}
_MAX_ARRAY = 100  # STKTABLE_MAX_DT_ARRAY_SIZE
_MAX_STORES = 8  # size of a stream's store[] array

MATCH, STORE, ON_RSP = 1, 2, 4  # STK_IS_MATCH, STK_IS_STORE, STK_ON_RSP


@dataclass
class TableSpec:
    """A ``stick-table`` line (the table is named after its proxy)."""

    name: str
    type: str = ""
    key_len: int = 0  # usable key bytes for string/binary (a string keeps one for its NUL)
    size: int = 0
    expire_ms: int = 0
    nopurge: bool = False
    peers: str = ""
    srvkey: str = "name"
    data: dict[str, int] = field(default_factory=dict)  # data type -> period ms, in store order
    proxy_kind: str = ""
    proxy_name: str = ""
    file: str = ""
    line: int = 0


@dataclass
class StickRule:
    """A ``stick on|match|store-request|store-response`` line."""

    flags: int
    expr: Any  # sample.SampleExpr
    table: str | None  # the ``table`` argument; None: the proxy's own table
    cond: Any = None  # acl.Cond
    file: str = ""
    line: int = 0


def _tables(model: Any) -> dict[str, TableSpec]:
    """Every table declared so far, by name, in declaration order."""
    got = model.__dict__.get("_stick_tables")
    if got is None:
        got = model.__dict__["_stick_tables"] = {}
    return got


def _cap_str(kind: str) -> str:
    return {"frontend": "frontend", "backend": "backend", "defaults": "defaults"}.get(kind, "proxy")


# ------------------------------------------------------------------ stick-table

@SECTION_KEYWORDS.register(
    "stick-table", PROXY_SECTIONS,
    "type {ip | ipv6 | integer | string [len <n>] | binary [len <n>]} size <size> [expire <time>] [nopurge] "
    "[peers <name>] [srvkey name|addr] [store <data_type>[,<data_type>]*]",
    "this proxy's stick table, named after it (not in defaults)")
def _stick_table(ctx: KwCtx, args: list[str]) -> None:
    p = ctx.proxy
    if p.kind == DEFAULTS:
        raise ConfigError("'stick-table' is not supported in 'defaults' section.")
    tables = _tables(ctx.model)
    other = tables.get(p.name)
    if other is not None:
        raise ConfigError(f"stick-table name '{p.name}' conflicts with table declared in {_cap_str(other.proxy_kind)} "
                          f"'{other.proxy_name}' at {other.file}:{other.line}.")
    t = parse_table(ctx, p.name, args)
    t.proxy_kind, t.proxy_name = p.kind, p.name
    tables[p.name] = t
    p.extra["stick_table"] = t


def parse_table(ctx: KwCtx, name: str, args: list[str]) -> TableSpec:
    """parse_stick_table(): the words after ``stick-table``."""
    kw = "stick-table"
    t = TableSpec(name, file=ctx.file, line=ctx.line)
    i = 0
    n = len(args)

    def arg(k: int) -> str:
        return args[k] if k < n else ""

    while arg(i):
        w = args[i]
        if w in ("size", "peers", "expire") and not arg(i + 1):
            raise ConfigError(f"{kw}: missing argument after '{w}'.")
        if w == "size":
            try:
                t.size = parse_size(args[i + 1], "size")
            except BadValue as e:
                raise ConfigError(f"{kw}: unexpected character '{e.char}' in argument of 'size'.") from None
            i += 2
        elif w == "peers":
            t.peers = args[i + 1]
            i += 2
        elif w == "expire":
            v = args[i + 1]
            warnings: list[str] = []
            try:
                t.expire_ms = parse_time(v, "expire", style="angle", warnings=warnings)
            except BadValue as e:
                if e.kind in ("overflow", "underflow"):
                    raise config_error(f"{kw}: {e}", at=AT_READCFG) from None
                raise ConfigError(f"{kw}: unexpected character '{e.char}' in argument of 'expire'.") from None
            for text in warnings:
                ctx.diag.warning(text)
            i += 2
        elif w == "nopurge":
            t.nopurge = True
            i += 1
        elif w == "type":
            i += 1
            tname = arg(i)
            spec = _KEY_TYPES.get(tname)
            if spec is None:
                raise ConfigError(f"{kw}: unknown type '{tname}'.")
            size, custom = spec
            i += 1
            if custom and arg(i) == "len":
                i += 1
                size = c_atol(arg(i))
                if not size:
                    raise ConfigError(f"{kw}: unknown type '{arg(i)}'.")
                if tname == "string":
                    size += 1  # the NUL
                i += 1
            t.type = tname
            # the key bytes a sample keeps: a string keeps one byte for its NUL
            t.key_len = size - 1 if tname == "string" else size
        elif w == "store":
            i += 1
            _parse_store(ctx, t, arg(i))
            i += 1
        elif w == "srvkey":
            i += 1
            k = arg(i)
            if k not in ("name", "addr"):
                raise ConfigError(f"{kw} : unknown server key type '{k}'.")
            t.srvkey = k
            i += 1
        else:
            raise ConfigError(f"{kw}: unknown argument '{w}'.")
    if not t.size:
        raise ConfigError(f"{kw}: missing size.")
    if not t.type:
        raise ConfigError(f"{kw}: missing type.")
    return t


def _split_store(word: str) -> list[tuple[str, str | None, str | None, bool]]:
    """The comma-separated ``store`` list as (name, arg, arg2, closed): ``name(a,b)``."""
    out = []
    pos, n = 0, len(word)
    while pos < n:
        start = pos
        name_end = -1
        sa: str | None = None
        sa2: str | None = None
        closed = True
        while pos < n and word[pos] != ",":
            if word[pos] == "(" and name_end < 0:
                name_end = pos
                pos += 1
                a0 = pos
                commas = []
                while pos < n and word[pos] != ")":
                    if word[pos] == ",":
                        commas.append(pos)
                    pos += 1
                if pos >= n:
                    closed = False
                    break
                sa = word[a0 : commas[0] if commas else pos]
                if commas:
                    sa2 = word[commas[-1] + 1 : pos]
            pos += 1
        out.append((word[start : name_end if name_end >= 0 else pos], sa, sa2, closed))
        if not closed:
            break
        pos += 1
    return out


def _parse_store(ctx: KwCtx, t: TableSpec, word: str) -> None:
    kw = "stick-table"
    arrays: set[str] = set()
    for name, sa, sa2, closed in _split_store(word):
        if not closed:
            raise ConfigError(f"{kw}: missing closing parenthesis after store option '{name}'.")
        if name not in DATA_TYPES and name not in _ARRAY_TYPES:
            raise ConfigError(f"{kw}: unknown store option '{name}'.")
        if name in t.data or name in arrays:
            report(ctx.diag, WARNING, f"{kw}: store option '{name}' already enabled, ignored.", ctx.file, ctx.line,
                   AT_READCFG)
            continue
        delay = DATA_TYPES.get(name) == "rate"
        if name in _ARRAY_TYPES:
            if sa is None:
                raise ConfigError(f"{kw}: missing argument to store option '{name}'.")
            if not 0 < smp.read_int64(sa)[0] <= _MAX_ARRAY:
                raise ConfigError(f"{kw}: array size is out of allowed range (1-{_MAX_ARRAY}) for store option '{name}'.")
            sa = sa2
            delay = _ARRAY_TYPES[name]
        period = 0
        if delay:
            if sa is None:
                raise ConfigError(f"{kw}: missing argument to store option '{name}'.")
            try:
                period = parse_time(sa, name)
            except BadValue:
                raise ConfigError(f"{kw}: error when processing store option '{name}'.") from None
        elif sa is not None:
            raise ConfigError(f"{kw}: unexpected argument to store option '{name}'.")
        if name in _ARRAY_TYPES:
            # checked, not stored: only track-sc/sc_* actions (not implemented) use them
            arrays.add(name)
        else:
            t.data[name] = period
    have = set(t.data) | arrays
    if "gpt" in have and "gpt0" in have:
        raise ConfigError(f"{kw}: simultaneous usage of 'gpt' and 'gpt0' in a same table is not permitted as "
                          "'gpt' overrides 'gpt0'.")
    if "gpc" in have and have & {"gpc0", "gpc1"}:
        raise ConfigError(f"{kw}: simultaneous usage of 'gpc' and 'gpc[0/1]' in a same table is not permitted as "
                          "'gpc' overrides 'gpc[0/1]'.")
    if "gpc_rate" in have and have & {"gpc0_rate", "gpc1_rate"}:
        raise ConfigError(f"{kw}: simultaneous usage of 'gpc_rate' and 'gpc[0/1]_rate' in a same table is not "
                          "permitted as 'gpc_rate' overrides 'gpc[0/1]_rate'.")


# ------------------------------------------------------------------ stick

@SECTION_KEYWORDS.register(
    "stick", BE_SIDE,
    "{on | match | store-request | store-response} <pattern> [table <table>] [{if | unless} <condition>]",
    "server persistence through a stick table (not in defaults)")
def _stick(ctx: KwCtx, args: list[str]) -> None:
    p = ctx.proxy
    if p.kind == DEFAULTS:
        raise ConfigError("'stick' not allowed in 'defaults' section.")
    if p.kind == FRONTEND:
        return  # the parser warned that a frontend has no backend capability; HAProxy stops there
    what = args[0] if args else ""
    if what in ("store", "store-request"):
        flags = STORE
    elif what == "store-response":
        flags = STORE | ON_RSP
    elif what == "match":
        flags = MATCH
    elif what == "on":
        flags = MATCH | STORE
    else:
        raise ConfigError("'stick' expects 'on', 'match', or 'store'.")
    if len(args) < 2 or not args[1]:
        raise ConfigError("'stick' expects a fetch method.")
    pctx = aclmod.parse_ctx(ctx, argctx="in stick rule")
    try:
        expr, i, _ = smp.parse_expr(args, 1, pctx)
    except SampleError as e:
        raise ConfigError(f"'stick': {e}") from None
    place = smp.BE_STO_RUL if flags & ON_RSP else smp.BE_SET_SRV
    need = smp.check_places(expr, (place,))
    if need is not None:
        where = "for 'store-response'" if flags & ON_RSP else "during request"
        raise ConfigError(f"'stick': fetch method '{expr.fetch.name}' extracts information from '{need}', "
                          f"none of which is available {where}.")
    table = None
    if i < len(args) and args[i] == "table":
        table = args[i + 1] if i + 1 < len(args) else ""
        i += 2
    cond = None
    rest = args[i:] if i < len(args) else []
    if rest and rest[0] in ("if", "unless"):
        cond = aclmod.compile_cond(ctx, rest, "stick store-response" if flags & ON_RSP else "stick",
                                   "'stick': error detected while parsing sticking condition : {err}.")
    elif rest and rest[0]:
        raise ConfigError(f"'stick': unknown keyword '{rest[0]}'.")
    p.extra.setdefault("stick_rules", []).append(StickRule(flags, expr, table, cond, ctx.file, ctx.line))


# ------------------------------------------------------------------ post-parse checks

def check_config(model: Any, p: Any, diag: Any) -> None:
    """check_config_validity() for one proxy's stick rules: find each rule's table, check
    its fetch casts to the table's key type, and make the table store ``server_id`` and
    ``server_key``; then the L6-fetches-on-HTTP warning of each rule's condition."""
    rules: list[StickRule] = p.extra.get("stick_rules") or []
    own = p.extra.get("stick_table")
    if own is not None and own.peers and ("peers", own.peers) not in model.__dict__.get("_other_sections", ()):
        diag.alert(f"Proxy '{p.name}': unable to find sync peers '{own.peers}'.")
    if not rules:
        return
    tables = _tables(model)
    for rsp in (False, True):
        for r in rules:
            if bool(r.flags & ON_RSP) != rsp:
                continue
            shown = r.table if r.table is not None else p.name
            t = tables.get(r.table) if r.table is not None else own
            if t is None:
                what = "store table" if rsp else "stick-table"
                diag.alert(f"Proxy '{p.name}': unable to find {what} '{shown}'.")
            elif not smp.can_cast(smp.T_IPV4 if r.expr.out == smp.T_ADDR else r.expr.out, _KEY_SMP[t.type]):
                diag.alert(f"Proxy '{p.name}': type of fetch not usable with type of stick-table '{shown}'.")
            else:
                t.data.setdefault("server_id", 0)
                t.data.setdefault("server_key", 0)
            if not rsp:  # warnif_tcp_http_cond(), for the request-side rules only
                for text in aclmod.warn_l6_http(p, [r.cond]):
                    diag.warning(text)


# ------------------------------------------------------------------ run time

class StickRules:
    """A backend's stick rules at run time, with its servers by name, address and id."""

    __slots__ = ("by_addr", "by_id", "by_name", "persist", "req", "rsp")

    def __init__(self, be: Any, req: list[tuple[int, StickTable, Any, Any]],
                 rsp: list[tuple[int, StickTable, Any, Any]]) -> None:
        self.req = req  # (flags, table, expr, cond) of stick on|match|store-request, in order
        self.rsp = rsp  # the same for stick store-response
        self.persist = bool(be.spec.options.get("persist"))
        self.by_name = {s.name: s for s in be.servers}
        self.by_addr = {srv_addr(s): s for s in be.servers}
        self.by_id = {s.id: s for s in be.servers}


def srv_addr(srv: Any) -> str:
    """A server's ``srvkey addr`` key: its address and port."""
    sa = srv.sockaddr
    host = sa[0] if isinstance(sa, tuple) else srv.host
    return f"{host}:{srv.port}"


def build(proc: Any, model: Any, backends: dict[str, Any]) -> None:
    """``process.stick_tables`` (every table, in declaration order) and each backend's
    ``stick`` (None without rules)."""
    tables: dict[str, StickTable] = {}
    for name, t in _tables(model).items():
        tables[name] = StickTable(name, t.type, t.size, key_len=t.key_len, expire_ms=t.expire_ms, nopurge=t.nopurge,
                                  peers=t.peers, data=list(t.data.items()), srvkey=t.srvkey, file=t.file, line=t.line)
    proc.stick_tables = tables
    for p in model.proxies:
        rules: list[StickRule] = p.extra.get("stick_rules") or []
        be = backends.get(p.name)
        if not rules or be is None or be.spec is not p:
            continue
        req = []
        rsp = []
        for r in rules:
            t = tables.get(r.table if r.table is not None else p.name)
            if t is None:
                continue
            (rsp if r.flags & ON_RSP else req).append((r.flags, t, r.expr, r.cond))
        be.stick = StickRules(be, req, rsp)


def _target(st: StickRules, t: StickTable, e: Any) -> Any:
    """sticking_rule_find_target(): the server an entry names in this backend."""
    key = e.data.get("server_key")
    if key is not None:
        srv = (st.by_name if t.srvkey == "name" else st.by_addr).get(key)
        if srv is not None:
            return srv
    sid = e.data.get("server_id")
    return st.by_id.get(sid) if sid is not None else None


def request(st: StickRules, sess: Any, txn: Any, assigned: Any,
            force: int = 0) -> tuple[Any, list[tuple[StickTable, Any]]]:
    """process_sticking_rules(): the server a matching entry names (None: none, or
    ``assigned`` is already set), and the (table, key) pairs to store once the server
    is known.  A stopped server is used with ``option persist`` or ``force``
    (force-persist matched); ignore-persist does not apply to stick rules."""
    pending: list[tuple[StickTable, Any]] = []
    chosen = assigned
    for flags, t, expr, cond in st.req:
        if flags & STORE and any(pt is t for pt, _ in pending):
            continue  # only the first store rule of each table applies
        if cond is not None and not cond.match(sess, txn):
            continue
        key = t.key_of(expr.eval(sess, txn))
        if key is None:
            continue
        if flags & MATCH:
            e = t.lookup(key)
            if e is not None:
                if chosen is None:
                    srv = _target(st, t, e)
                    if srv is not None and (srv.running or st.persist or force):
                        chosen = srv
                t.touch(e)
        if flags & STORE and len(pending) < _MAX_STORES and _room(t, key):
            pending.append((t, key))
    return (None if chosen is assigned else chosen), pending


def _room(t: StickTable, key: Any) -> bool:
    """stksess_new(): a full ``nopurge`` table takes no new session, even for a known key."""
    if len(t.entries) < t.size or not t.nopurge:
        return True
    t.purge_expired()
    return len(t.entries) < t.size


def commit(st: StickRules, sess: Any, txn: Any, pending: Sequence[tuple[StickTable, Any]], srv: Any) -> None:
    """process_store_rules(): the store-response rules, then every pending store, with
    the server the stream finally used (``non-stick`` servers are not stored)."""
    if st.rsp:
        nbreq = len(pending)
        pending = list(pending)
        for _flags, t, expr, cond in st.rsp:
            if any(pt is t for pt, _ in pending[nbreq:]):
                continue
            if cond is not None and not cond.match(sess, txn):
                continue
            key = t.key_of(expr.eval(sess, txn))
            if key is None:
                continue
            if len(pending) < _MAX_STORES and _room(t, key):
                pending.append((t, key))
    if not pending or srv is None or srv.spec.extra.get("non-stick"):
        return
    for t, key in pending:
        e = t.get_or_create(key)
        if e is None:
            continue
        data = e.data
        data["server_id"] = srv.id
        data["server_key"] = srv.name if t.srvkey == "name" else srv_addr(srv)
        t.touch(e)
