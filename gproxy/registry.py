"""Keyword registries: the one place where every configuration word gproxy knows is declared.

A module that implements a keyword registers it here, next to the code that uses it, with
its usage, where it is allowed and a one-line doc.  The parser dispatches through these
tables; ``--help``-style dumps (``-dK``), the man page, "did you mean" suggestions and the
warnings for HAProxy keywords that gproxy knows but ignores are all generated from them.

Pure module: no I/O, no gevent.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# Section kinds a proxy keyword may appear in.
GLOBAL = "global"
DEFAULTS = "defaults"
FRONTEND = "frontend"
BACKEND = "backend"
LISTEN = "listen"
PROXY_SECTIONS = (DEFAULTS, FRONTEND, BACKEND, LISTEN)
FE_SIDE = (DEFAULTS, FRONTEND, LISTEN)
BE_SIDE = (DEFAULTS, BACKEND, LISTEN)

Handler = Callable[[Any, list[str]], None]


class ConfigError(Exception):
    """Raised by a keyword handler: an alert for the current line (HAProxy's wording)."""


class KwCtx:
    """What a keyword handler sees: where it is and what it may write to.

    ``proxy`` is the current ``model.Proxy`` (None in global), ``glob`` the
    ``model.Global``, ``model`` the whole Model.  ``warn`` records a warning for the line;
    raising ``ConfigError`` records an alert.  For server/bind keywords ``target`` is the
    ``ServerSpec`` / ``Bind`` being built.
    """

    def __init__(self, model: Any, diag: Any, file: str, line: int, section: str, proxy: Any = None) -> None:
        self.model = model
        self.glob = model.glob
        self.diag = diag
        self.file = file
        self.line = line
        self.section = section
        self.proxy = proxy
        self.target: Any = None
        self.keyword = ""

    def warn(self, text: str) -> None:
        self.diag.warning(text, self.file, self.line)


@dataclass
class Keyword:
    """One configuration word (possibly several words long, such as ``timeout connect``)."""

    name: str
    sections: tuple[str, ...]
    handler: Handler | None
    usage: str = ""
    doc: str = ""
    ignored: bool = False  # HAProxy knows it; gproxy accepts it, warns and skips it
    takes_no: bool = False  # accepts the 'no' / 'default' prefixes (options)
    nargs: int = -1  # server/bind keywords: words consumed after the name (-1: rest of line)
    words: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.words = tuple(self.name.split())


class Registry:
    """A table of keywords for one namespace ('section', 'server', 'bind')."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._by_first: dict[str, list[Keyword]] = {}

    def add(self, kw: Keyword) -> Keyword:
        lst = self._by_first.setdefault(kw.words[0], [])
        for old in lst:
            if old.words == kw.words and set(old.sections) & set(kw.sections):
                raise ValueError(f"keyword {kw.name!r} registered twice in {self.namespace}")
        lst.append(kw)
        lst.sort(key=lambda k: -len(k.words))  # longest match first
        return kw

    def register(
        self,
        name: str,
        sections: Iterable[str],
        usage: str = "",
        doc: str = "",
        takes_no: bool = False,
        nargs: int = -1,
    ) -> Callable[[Handler], Handler]:
        """Decorator form: ``@SECTION_KEYWORDS.register('maxconn', (GLOBAL,), '<n>', '...')``.

        For SERVER_KEYWORDS / BIND_KEYWORDS, ``sections`` is ('server', 'default-server')
        or ('bind',) and ``nargs`` the number of value words the keyword takes.
        """

        def deco(fn: Handler) -> Handler:
            self.add(Keyword(name, tuple(sections), fn, usage, doc, takes_no=takes_no, nargs=nargs))
            return fn

        return deco

    def ignore(self, names: Iterable[str], sections: Iterable[str], doc: str = "") -> None:
        """Declare HAProxy keywords that gproxy accepts without acting on them."""
        secs = tuple(sections)
        for n in names:
            self.add(Keyword(n, secs, None, doc=doc or "accepted and ignored by gproxy", ignored=True))

    def match(self, words: list[str], section: str | None = None) -> Keyword | None:
        """Longest keyword that prefixes ``words`` and is allowed in ``section`` (any if None)."""
        if not words:
            return None
        for kw in self._by_first.get(words[0], ()):
            if tuple(words[: len(kw.words)]) == kw.words and (section is None or section in kw.sections):
                return kw
        return None

    def match_any_section(self, words: list[str]) -> Keyword | None:
        return self.match(words, None)

    def all(self) -> list[Keyword]:
        out = [kw for lst in self._by_first.values() for kw in lst]
        return sorted(out, key=lambda k: (k.name, k.sections))  # stable whatever the import order

    def names(self, section: str | None = None) -> list[str]:
        return [k.name for k in self.all() if section is None or section in k.sections]

    def suggest(self, word: str, section: str | None = None) -> str | None:
        """HAProxy-like 'did you mean' candidate for an unknown word."""
        cands = sorted({n.split()[0] for n in self.names(section)})
        got = difflib.get_close_matches(word, cands, n=1, cutoff=0.6)
        return got[0] if got else None


#: Words that start a line in global/defaults/frontend/backend/listen sections.
SECTION_KEYWORDS = Registry("section")
#: Words after the address on a ``server`` / ``default-server`` line.
SERVER_KEYWORDS = Registry("server")
#: Words after the address on a ``bind`` line.
BIND_KEYWORDS = Registry("bind")

REGISTRIES = (SECTION_KEYWORDS, SERVER_KEYWORDS, BIND_KEYWORDS)


def dump(out: list[str] | None = None) -> list[str]:
    """Render every registry as text lines (``-dK``, man page source)."""
    lines = out if out is not None else []
    for reg in REGISTRIES:
        lines.append(f"# {reg.namespace} keywords")
        for kw in reg.all():
            where = ",".join(kw.sections)
            flag = " (ignored)" if kw.ignored else ""
            usage = f" {kw.usage}" if kw.usage else ""
            lines.append(f"{kw.name}{usage}\t[{where}]{flag}\t{kw.doc}")
    return lines
