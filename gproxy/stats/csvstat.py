"""``show stat``: the CSV, typed and JSON renderings of the column table.

Owns HAProxy's output formats for proxy statistics (``stats_dump_fields_csv``,
``stats_dump_fields_typed``, ``stats_dump_fields_json`` of ``src/stats.c``): the ``# ``
header line, every field followed by a comma, CSV quoting only where needed, the
``<F|B|L|S>.<iid>.<sid>.<pos>.<name>.<proc>:<tags>:<type>:<value>`` typed lines, the JSON
array of rows, the optional descriptions, the legends (``addr``/``cookie``/``algo``, on
sockets of level operator and above) and the backend status suffix ``(up/total)`` with
``up``/``no-maint``.

HAProxy prints a ``-`` column after the static fields and then its modules' columns
(``ssl_*``, ``h2_*``, ``h1_*``); gproxy has no such modules, so its CSV stops after the
last static column (``agg_check_status``) and readers that look columns up by header name
work unchanged.  The same CSV is served by the stats page's ``;csv``.

Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from . import columns as C
from .info import json_tags, json_value


def header() -> str:
    """``# pxname,svname,...,agg_check_status,`` plus a line feed."""
    return "# " + "".join(c.name + "," for c in C.COLUMNS) + "\n"


def csv_field(v: Any) -> str:
    """HAProxy's ``csv_enc_append(str, 1)``: quote only strings holding ``,`` ``"`` CR LF."""
    if v is None:
        return ""
    if isinstance(v, str):
        if any(ch in v for ch in '\n\r,"'):
            return '"' + v.replace('"', '""') + '"'
        return v
    return str(int(v))


def row_values(kind: str, obj: Any, legends: bool = True, hide: bool = False) -> list[Any]:
    """Every column's value for one row (None = empty field)."""
    out: list[Any] = []
    for col in C.COLUMNS:
        if col.legend and not legends:
            out.append(None)
            continue
        v = C.value(col, kind, obj)
        if hide and kind == "be" and col.name == "status":
            up, tot = C.backend_counts(obj)
            v = f"{v} ({up}/{tot})"
        out.append(v)
    return out


def render(process: Any, fmt: str = "csv", desc: bool = False, types: int = -1, proxy: str | int | None = None,
           sid: int | None = None, no_maint: bool = False, up: bool = False, legends: bool = True) -> str:
    """``show stat`` output for ``fmt`` in ``csv``, ``typed``, ``json`` (without the
    CLI's final empty line).  See ``columns.rows`` for the filters."""
    hide = no_maint or up
    rows = C.rows(process, types, proxy, sid, no_maint=no_maint, up=up)
    if fmt == "typed":
        out = []
        for kind, obj in rows:
            out.append(typed_row(kind, obj, row_values(kind, obj, legends, hide), desc))
        return "".join(out)
    if fmt == "json":
        parts = [json_row(kind, obj, row_values(kind, obj, legends, hide)) for kind, obj in rows]
        return "[" + ",".join(parts) + "]\n"
    lines = [header()]
    for kind, obj in rows:
        vals = row_values(kind, obj, legends, hide)
        lines.append("".join(csv_field(v) + "," for v in vals) + "\n")
    return "".join(lines)


def _ids(vals: list[Any]) -> tuple[int, int]:
    return vals[C.POS["iid"]], vals[C.POS["sid"]]


def typed_row(kind: str, obj: Any, vals: list[Any], desc: bool = False) -> str:
    iid, sid = _ids(vals)
    letter = C.TYPE_LETTER[kind]
    out = []
    for pos, (col, v) in enumerate(zip(C.COLUMNS, vals, strict=True)):
        if v is None:
            continue
        line = f"{letter}.{iid}.{sid}.{pos}.{col.name}.1:{col.tags(kind)}:{col.type}:{v}"
        if desc:
            line += f':"{col.desc}"'
        out.append(line + "\n")
    return "".join(out)


def json_row(kind: str, obj: Any, vals: list[Any]) -> str:
    iid, sid = _ids(vals)
    head = '{"objType":"%s","proxyId":%d,"id":%d,' % (C.OBJ_TYPE[kind], iid, sid)  # noqa: UP031
    parts = []
    for pos, (col, v) in enumerate(zip(C.COLUMNS, vals, strict=True)):
        if v is None:
            continue
        tags = col.tags(kind)
        origin = _ORIGIN_NAME[tags[0]]
        nature = _NATURE_NAME[tags[1]]
        parts.append(
            head + '"field":{"pos":%d,"name":"%s"},"processNum":1,%s,%s}' % (  # noqa: UP031
                pos, col.name, json_tags(origin, nature, col.scope), json_value(col.type, v))
        )
    return "[" + ",".join(parts) + "]"


_ORIGIN_NAME = {v: k for k, v in C.ORIGINS.items()}
_NATURE_NAME = {v: k for k, v in C.NATURES.items()}
