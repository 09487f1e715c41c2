"""Configuration line reader and word splitter, as HAProxy 2.6 does it.

Owns cutting a configuration file into lines (``readcfgfile()`` in src/cfgparse.c:
trailing LF, stray NUL bytes, a missing LF on the last line) and one line into words
(``parse_line()`` in src/tools.c: comments, blanks, weak and strong quotes, backslash
escapes, environment variables, the 64-word limit).  Error texts and positions are
HAProxy's, so ``parsing [file:line]: <str(error)>`` reads exactly like HAProxy's alert.

Text is handled as ``str``.  The parser decodes files as UTF-8 with ``surrogateescape``;
``\\xHH`` escapes produce bytes in that same convention, so re-encoding a word with
``surrogateescape`` gives HAProxy's bytes back.

Pure functions: no socket or file I/O (the environment is read only through the mapping
the caller passes, ``os.environ`` by default).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

__all__ = [
    "MAX_LINE_ARGS",
    "LexError",
    "byte_len",
    "iter_lines",
    "parse_line",
    "sanitize_for_printing",
    "split_line",
]

MAX_LINE_ARGS = 64  # include/haproxy/defaults.h

# C isspace() in the C locale.  '\n' and '\r' end a line in parse_line(), yet a run of
# blanks swallows them like any other space.
_SPACES = " \t\n\v\f\r"
_HEX = "0123456789abcdefABCDEF"


class LexError(Exception):
    """A fatal lexing error.

    ``str(e)`` is HAProxy's text without the ``parsing [file:line]: `` prefix.  For
    errors located inside the line it has HAProxy's two context lines appended
    (``"unmatched quote at position 9:\\n  .alert \\"x\\n         ^"``); ``message`` is the
    first line alone.

    ``kind`` is one of ``quote``, ``brace``, ``varname``, ``hex``, ``expand``,
    ``toomany``, ``nul``, ``missing_lf``; ``position`` is the 1-based position HAProxy
    prints; ``lineno`` is set by :func:`iter_lines` (the line HAProxy blames).
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        position: int | None = None,
        context: str = "",
        lineno: int | None = None,
        filename: str | None = None,
    ) -> None:
        super().__init__(message + context)
        self.message = message
        self.kind = kind
        self.position = position
        self.context = context
        self.lineno = lineno
        self.filename = filename


def byte_len(text: str) -> int:
    """Length in bytes, as HAProxy counts (the text came from surrogateescape decoding)."""
    try:
        return len(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return len(text)


def sanitize_for_printing(line: str, pos: int, width: int) -> tuple[str, int]:
    """Port of HAProxy's ``sanitize_for_printing()`` (``pos`` and the result in bytes).

    Returns the printable excerpt of ``line`` around byte offset ``pos`` (about
    ``width`` bytes; when ``pos >= width`` the start is cut and replaced by ``...`` and a
    trailing ``...`` is always added) and the new offset of ``pos`` in it.  Blanks become
    spaces and other non-printable bytes (including any non-ASCII byte) ``?``.
    """
    try:
        data = line.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = line.encode("utf-8", "replace")
    shift = 0
    begin = 0
    limit = width
    if pos >= width:
        shift = pos - width // 2
        begin = shift + 3
        limit = width - 6  # room left between the two "..."
    chars: list[str] = []
    for b in data[begin : begin + limit]:
        ch = chr(b)
        if ch in _SPACES:
            chars.append(" ")
        elif 0x20 <= b <= 0x7E:
            chars.append(ch)
        else:
            chars.append("?")
    text = "".join(chars)
    if pos >= width:
        text = "..." + text + "..."
    return text, pos - shift


def _context(line: str, start: int, at: int, width: int = 80) -> str:
    """The two indented lines (line excerpt, caret) HAProxy prints after an error.

    ``line[start:]`` is what HAProxy shows; ``at`` is the error index in ``line``.
    """
    text, newpos = sanitize_for_printing(line[start:], byte_len(line[start:at]), width)
    return ":\n  " + text + "\n  " + " " * newpos + "^"


def iter_lines(text: str, filename: str) -> Iterator[tuple[int, str]]:
    """Yield ``(lineno, line)`` pairs, 1-based, like HAProxy's ``fgets()`` loop.

    The trailing LF is removed; a CR is kept (``parse_line()`` stops at it).  A line is cut
    at a NUL byte; HAProxy parses the part before it and then, if more data follows,
    raises ``Stray NUL character at position N.`` (N = the NUL's 1-based column) and stops
    reading the file.  A last line without LF is yielded, then ``Missing LF on last line,
    file might have been truncated at position N.`` is raised (N = its length + 1).  Both
    errors are fatal but happen after the yielded line was processed, so they come from
    the following ``next()``; their ``lineno`` is the line just yielded.  The caller then
    runs its end-of-file checks as HAProxy does.  An empty file yields nothing.
    """
    lines = text.split("\n")
    last = len(lines) - 1  # lines[last] is what follows the final LF ('' if none)
    for idx, line in enumerate(lines):
        if idx == last and line == "":
            return
        lineno = idx + 1
        nul = line.find("\0")
        if nul >= 0:
            yield lineno, line[:nul]
            pos = byte_len(line[:nul]) + 1  # HAProxy counts bytes
            if idx < last - 1 or (idx == last - 1 and lines[last] != ""):
                raise LexError(
                    f"Stray NUL character at position {pos}.",
                    kind="nul",
                    position=pos,
                    lineno=lineno,
                    filename=filename,
                )
            # nothing follows: fgets() hits EOF and the missing-LF check fires
            raise LexError(
                f"Missing LF on last line, file might have been truncated at position {pos}.",
                kind="missing_lf",
                position=pos,
                lineno=lineno,
                filename=filename,
            )
        yield lineno, line
        if idx == last:
            pos = byte_len(line) + 1
            raise LexError(
                f"Missing LF on last line, file might have been truncated at position {pos}.",
                kind="missing_lf",
                position=pos,
                lineno=lineno,
                filename=filename,
            )


def _normalize(word: str) -> str:
    """Apply C string semantics (a NUL ends the word) and merge escaped bytes."""
    nul = word.find("\0")
    if nul >= 0:
        word = word[:nul]
    if any("\udc80" <= c <= "\udcff" for c in word):
        word = word.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
    return word


def parse_line(
    line: str,
    env: Mapping[str, str] | None = None,
    pseudo: Mapping[str, str] | None = None,
    *,
    comments: bool = True,
    start: int = 0,
) -> list[str]:
    """Faithful port of HAProxy's ``parse_line()`` with the options readcfgfile() uses.

    Returns every argument slot HAProxy fills, including empty ones: an empty trailing
    slot appears when the line ends with blanks or a comment, exactly as in HAProxy 2.6.
    ``comments=False`` is the ``-cc`` mode (``#`` is an ordinary character).  Parsing
    begins at index ``start`` (readcfgfile() skips leading blanks first).  Positions in
    errors are 1-based byte offsets in ``line`` as HAProxy counts them; the context
    excerpt shows the line from ``start``.  Raises :class:`LexError`.
    """
    if env is None:
        env = os.environ
    nul = line.find("\0")
    if nul >= 0:
        line = line[:nul]
    n = len(line)
    words: list[str] = []
    cur: list[str] = []
    i = start
    squote = dquote = False
    quote_at = -1
    toomany = False

    def fail(msg: str, kind: str, at: int, shown: str | None = None) -> LexError:
        ctx_line = line if shown is None else shown
        pos = byte_len(line[:at]) + 1
        return LexError(
            f"{msg} at position {pos}",
            kind=kind,
            position=pos,
            context=_context(ctx_line, start, at),
        )

    def new_word() -> None:
        nonlocal cur, toomany
        words.append("".join(cur))
        cur = []
        if len(words) >= MAX_LINE_ARGS:
            toomany = True

    while True:
        c = line[i] if i < n else "\0"
        if c in "\0\n\r":
            break
        if c == "#" and comments and not squote and not dquote:
            break
        if c == '"' and not squote:
            dquote = not dquote
            quote_at = i if dquote else -1
            i += 1
            continue
        if c == "'" and not dquote:
            squote = not squote
            quote_at = i if squote else -1
            i += 1
            continue
        if c == "\\" and not squote:
            nxt = line[i + 1] if i + 1 < n else "\0"
            if nxt in " \\":
                cur.append(nxt)
                i += 2
            elif nxt in "tnr":
                cur.append({"t": "\t", "n": "\n", "r": "\r"}[nxt])
                i += 2
            elif nxt == "#" and comments:
                cur.append("#")
                i += 2
            elif nxt in "'\"":
                cur.append(nxt)
                i += 2
            elif nxt == "$" and dquote:
                cur.append("$")
                i += 2
            elif nxt == "x":
                h = line[i + 2 : i + 4]
                if len(h) < 2 or h[0] not in _HEX or h[1] not in _HEX:
                    raise fail("truncated or invalid hexadecimal sequence", "hex", i)
                byte = int(h, 16)
                cur.append(chr(byte) if byte < 0x80 else chr(0xDC00 + byte))
                i += 4
            else:
                # not an escape sequence: the backslash is kept (e.g. regex "\1")
                cur.append("\\")
                i += 1
            continue
        if c in _SPACES and not squote and not dquote:
            while i < n and line[i] in _SPACES:
                i += 1
            new_word()
            continue
        if c == "$" and dquote:
            i += 1
            brace = -1
            if i < n and line[i] == "{":
                brace = i
                i += 1
            first = line[i] if i < n else "\0"
            if not (first.isascii() and (first.isalpha() or first in "_.")):
                raise fail("forbidden first char in environment variable name", "varname", i)
            name_at = i
            if first == ".":
                i += 1
            while i < n and line[i].isascii() and (line[i].isalnum() or line[i] == "_"):
                i += 1
            name = line[name_at:i]
            value: str | None
            if name.startswith("."):
                if name not in (".LINE", ".FILE", ".SECTION"):
                    # HAProxy leaves the line cut after the name when reporting this one
                    raise fail("forbidden first char in environment variable name", "varname", name_at, line[:i])
                value = pseudo.get(name) if pseudo is not None else None
            else:
                value = env.get(name)
            expand = False
            if i < n and line[i] == "[" and brace >= 0:
                expand_at = i
                if line[i + 1 : i + 3] != "*]":
                    raise fail("truncated or invalid word expansion sequence", "expand", expand_at)
                expand = True
                i += 3
            if brace >= 0:
                if i < n and line[i] == "-":
                    end = line.find("}", i)
                    if end < 0:
                        raise fail("unmatched brace in environment variable name", "brace", brace)
                    if value is None:
                        value = line[i + 1 : end]
                    i = end
                elif i >= n or line[i] != "}":
                    raise fail("unmatched brace in environment variable name", "brace", brace)
                i += 1
            if value:
                j = 0
                while j < len(value):
                    ch = value[j]
                    if expand and ch in _SPACES:
                        new_word()
                        while j < len(value) and value[j] in _SPACES:
                            j += 1
                    else:
                        cur.append(ch)
                        j += 1
            continue
        cur.append(c)
        i += 1

    words.append("".join(cur))
    if quote_at >= 0:
        raise fail("unmatched quote", "quote", quote_at)
    if toomany:
        # HAProxy shows word #64 and its offset in the output buffer (words + NULs)
        pos = sum(byte_len(w) + 1 for w in words[: MAX_LINE_ARGS - 1]) + 1
        shown = _normalize(words[MAX_LINE_ARGS - 1])
        raise LexError(
            f"too many words, truncating after word {MAX_LINE_ARGS}, position {pos}: <{shown}>.",
            kind="toomany",
            position=pos,
        )
    return [_normalize(w) for w in words]


def split_line(
    line: str,
    env: Mapping[str, str] | None = None,
    pseudo: Mapping[str, str] | None = None,
    *,
    raw: bool = False,
) -> tuple[list[str], list[str]]:
    """Split one configuration line into words like readcfgfile() + parse_line().

    ``env`` defaults to ``os.environ``; ``pseudo`` maps ``.FILE``, ``.LINE`` and
    ``.SECTION`` (a missing key counts as unset).  Leading blanks are skipped first, as
    readcfgfile() does; error positions still count from the start of ``line``.

    Returns ``(words, warnings)``.  Empty words are HAProxy's too: ``""`` or an empty
    ``"${VAR}"`` yields ``''``, and most HAProxy keyword parsers stop at the first empty
    word, silently ignoring what follows (a line whose first word is empty is skipped
    entirely).  Trailing empty words are dropped unless ``raw`` is true; ``raw=True``
    returns parse_line()'s slots unchanged, which only matters for byte-exact ``.if``
    error texts (the trailing blank shows in them).

    ``warnings`` is empty for everything HAProxy 2.6 accepts silently except one case
    worth a diagnostic: an empty word followed by non-empty ones gets
    ``argument number N is empty and marks the end of the argument list`` (HAProxy 2.6
    says nothing; 3.2+ rejects such lines with this text).
    """
    start = 0
    while start < len(line) and line[start] in _SPACES:
        start += 1
    words = parse_line(line, env, pseudo, start=start)
    words = words if raw else _strip_trailing(words)
    warnings: list[str] = []
    for k, w in enumerate(words):
        if w == "" and k > 0 and any(words[k + 1 :]):
            warnings.append(f"argument number {k} is empty and marks the end of the argument list")
            break
    return words, warnings


def _strip_trailing(words: list[str]) -> list[str]:
    end = len(words)
    while end and words[end - 1] == "":
        end -= 1
    return words[:end]
