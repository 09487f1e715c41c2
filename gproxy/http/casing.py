"""Header-name case adjustment on output, as HAProxy 2.6's H1 mux does it.

gproxy, like HAProxy's HTX, handles header names lower-case and sends them so.  For
peers that wrongly expect a given spelling, the global ``h1-case-adjust <from> <to>``
lines and ``h1-case-adjust-file <file>`` build one process-wide table; it is used for
the responses sent to clients of a frontend with ``option h1-case-adjust-bogus-client``
and for the requests sent to servers of a backend with ``option
h1-case-adjust-bogus-server`` (both options live in ``http.keywords``).

Owns: those two global keywords, the table (``Global.tune["h1-case-adjust"]``: from ->
to, filled by the keyword lines at parse time and by the file after the other
post-parse checks, as HAProxy's ``cfg_h1_headers_case_adjust_postparser`` does), the
lookups ``client_table(fe_spec, glob)`` / ``server_table(be_spec, glob)`` and the pure
``adjust(items, table)``.  HAProxy's rules kept here:

* ``<from>`` and ``<to>`` may differ only by case (ASCII); a ``<from>`` is unique;
* the lookup is by the exact ``<from>`` text, and names on output are lower-case, so
  an entry whose ``<from>`` has an upper-case letter never applies;
* every header line of the head is looked up: the message's own headers, those the
  engine adds (``connection``, ``transfer-encoding``, ``x-forwarded-for``, ...) and
  trailers, in generated responses (error pages, redirects) too.

Pure: no sockets; the file is read at configuration time only.
"""

from __future__ import annotations

from typing import Any

from ..registry import GLOBAL, SECTION_KEYWORDS, ConfigError, KwCtx

kw = SECTION_KEYWORDS.register

#: Global.tune keys
TABLE_KEY = "h1-case-adjust"
FILE_KEY = "h1-case-adjust-file"


def adjust(items: list[tuple[str, str]], table: dict[str, str]) -> list[tuple[str, str]]:
    """``items`` with each name found in ``table`` replaced by its spelling there.

    A new list when a name changed, else ``items`` itself (nothing is copied for a
    head the table does not touch).
    """
    if not table:
        return items
    get = table.get
    out = None
    for i, (name, value) in enumerate(items):
        to = get(name)
        if to is not None and to != name:
            if out is None:
                out = list(items[:i])
            out.append((to, value))
        elif out is not None:
            out.append((name, value))
    return items if out is None else out


def _same_but_case(a: str, b: str) -> bool:
    """C strcasecmp() == 0: ASCII letters only fold."""
    return a.encode("utf-8", "surrogateescape").lower() == b.encode("utf-8", "surrogateescape").lower()


def add_entry(table: dict[str, str], frm: str, to: str) -> str | None:
    """HAProxy's add_hdr_case_adjust(): None when added, else the error text."""
    if not to:
        return "expect <to>"
    if not _same_but_case(frm, to):
        return "<from> and <to> must not differ execpt the case"  # sic, HAProxy 2.6's text
    if frm in table:
        return f"duplicate entry '{frm}'"
    table[frm] = to
    return None


def table_of(glob: Any) -> dict[str, str]:
    """The process-wide table (empty when none is configured)."""
    if glob is None:
        return {}
    return glob.tune.get(TABLE_KEY) or {}


def client_table(fe_spec: Any, glob: Any) -> dict[str, str] | None:
    """The table for responses sent to a frontend's clients, or None (no adjustment).

    ``fe_spec`` is the proxy that accepted the connection (its ``option
    h1-case-adjust-bogus-client``; HAProxy applies it in mode tcp too, when a tcp
    frontend hands the connection to an http backend).
    """
    if not fe_spec.options.get("h1-case-adjust-bogus-client"):
        return None
    return table_of(glob) or None


def server_table(be_spec: Any, glob: Any) -> dict[str, str] | None:
    """The table for requests sent to a backend's servers, or None (no adjustment).

    ``be_spec`` is the backend the server belongs to (its ``option
    h1-case-adjust-bogus-server``, which HAProxy also applies to HTTP health checks).
    """
    if not be_spec.options.get("h1-case-adjust-bogus-server"):
        return None
    return table_of(glob) or None


# ----------------------------------------------------------------------------- keywords
@kw("h1-case-adjust", (GLOBAL,), "<from> <to>", "send header name <from> spelt <to> (with option h1-case-adjust-bogus-client/server)")
def _h1_case_adjust(ctx: KwCtx, args: list[str]) -> None:
    if len(args) > 2 and args[2]:
        raise ConfigError(f"'h1-case-adjust' cannot handle unexpected argument '{args[2]}'.")
    if len(args) < 2 or not args[0] or not args[1]:
        raise ConfigError("'h1-case-adjust' expects <from> and <to> as argument.")
    err = add_entry(ctx.glob.tune.setdefault(TABLE_KEY, {}), args[0], args[1])
    if err is not None:
        raise ConfigError(err)


@kw("h1-case-adjust-file", (GLOBAL,), "<file>", "read h1-case-adjust <from> <to> pairs from <file>, one per line")
def _h1_case_adjust_file(ctx: KwCtx, args: list[str]) -> None:
    if len(args) > 1 and args[1]:
        raise ConfigError(f"'h1-case-adjust-file' cannot handle unexpected argument '{args[1]}'.")
    if not args or not args[0]:
        raise ConfigError("'h1-case-adjust-file' expects <file> as argument.")
    ctx.glob.tune[FILE_KEY] = args[0]  # read after parsing (load_file); the last one wins


def parse_file_line(line: str) -> tuple[str, str] | None:
    """One line of a case-adjust file as HAProxy reads it: None for a blank or ``#``
    line, else ``(from, to)``; ``to`` is the rest of the line, trailing blanks cut."""
    i, n = 0, len(line)
    while i < n and line[i] in " \t":
        i += 1
    if i >= n or line[i] in "#\r\n\0":
        return None
    k = i
    while i < n and line[i] not in "\0 \t\n\r":
        i += 1
    frm = line[k:i]
    while i < n and line[i] in " \t":
        i += 1
    v = i
    while i < n and line[i] not in "\0\n\r":
        i += 1
    return frm, line[v:i].rstrip(" \t")


def load_file(model: Any, diag: Any) -> None:
    """Add the entries of ``h1-case-adjust-file`` to the table (HAProxy's post-parser:
    after the other checks; the first bad line is an alert and stops the reading)."""
    glob = model.glob
    path = glob.tune.get(FILE_KEY)
    if not path:
        return
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        diag.alert(f"h1-headers-case-adjust-file '{path}': failed to open file.")
        return
    table = glob.tune.setdefault(TABLE_KEY, {})
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # what follows the last newline is no line for fgets()
    for num, line in enumerate(lines, 1):
        got = parse_file_line(line.split("\0", 1)[0])
        if got is None:
            continue
        err = add_entry(table, got[0], got[1])
        if err is not None:
            diag.alert(f"h1-headers-case-adjust-file '{path}' : {err} at line {num}.")
            return
