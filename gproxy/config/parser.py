"""Configuration parser: sections, defaults inheritance and keyword dispatch.

Owns reading files into a ``Model``: it splits lines with the lexer, drops what ``.if``
blocks exclude, opens sections, copies defaults into new proxies and hands every other
line to the keyword registered for it (``registry.SECTION_KEYWORDS``; ``server``/``bind``
parameters go through ``SERVER_KEYWORDS``/``BIND_KEYWORDS``).  Messages are collected in
a ``Diagnostics`` with file and line.  No socket I/O: handlers write to the Model only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable

from ..diag import Diagnostics
from ..registry import (
    BIND_KEYWORDS,
    PROXY_SECTIONS,
    SECTION_KEYWORDS,
    SERVER_KEYWORDS,
    ConfigError,
    KwCtx,
)
from . import cond, lexer
from .haproxy_keywords import HAPROXY_OPTIONS, HAPROXY_SECTION_KEYWORDS, OTHER_SECTIONS
from .model import Model, Proxy

SECTION_NAMES = ("global", "defaults", "frontend", "backend", "listen")

#: A handler for each line of a non-proxy section (userlist, http-errors, ...).
SectionLines = Callable[[KwCtx, list[str]], None]
#: Sections other than global/defaults/frontend/backend/listen that a module parses:
#: name -> opener(ctx, header_args) returning the line handler.  Register with
#: ``register_section``; the opener raises ConfigError for a bad header.
SectionOpener = Callable[[KwCtx, list[str]], SectionLines]
SECTION_PARSERS: dict[str, SectionOpener] = {}


def register_section(name: str) -> Callable[[SectionOpener], SectionOpener]:
    def deco(fn: SectionOpener) -> SectionOpener:
        SECTION_PARSERS[name] = fn
        return fn

    return deco
NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")
MAX_FATAL = 50


def config_files(paths: Iterable[str]) -> list[str]:
    """Expand ``-f`` arguments: a directory contributes its non-hidden ``*.cfg`` files in C order."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            names = sorted(n for n in os.listdir(p) if n.endswith(".cfg") and not n.startswith("."))
            out.extend(os.path.join(p, n) for n in names)
        else:
            out.append(p)
    return out


class Parser:
    def __init__(self, diag: Diagnostics | None = None, env: dict[str, str] | None = None) -> None:
        self.diag = diag or Diagnostics()
        self.env = env
        self.model = Model()
        self.section = ""  # current section keyword
        self.proxy: Proxy | None = None
        self.last_defaults: Proxy = Proxy("defaults", "")
        self.skip_section = False
        self.section_lines: SectionLines | None = None
        self.unnamed_defaults = 0
        self.names: dict[tuple[str, str], Proxy] = {}

    # ------------------------------------------------------------------ files
    def parse_file(self, path: str) -> None:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            self.diag.alert(f"Could not open configuration file {path} : {e.strerror}")
            return
        self.model.files.append(path)
        text = data.decode("utf-8", errors="surrogateescape")
        self.parse_text(text, path)

    def parse_text(self, text: str, path: str) -> None:
        # each file starts on a section boundary
        self.section, self.proxy, self.skip_section, self.section_lines = "", None, False, None
        stack = cond.CondStack()
        fatal_before = self.diag.alerts
        lines = lexer.iter_lines(text, path)
        while True:
            try:
                lineno, raw = next(lines)
            except StopIteration:
                break
            except lexer.LexError as e:
                self.diag.alert(str(e), path, getattr(e, "lineno", None) or self._count_lines(text))
                break
            pseudo = {".FILE": path, ".LINE": str(lineno), ".SECTION": self.section}
            try:
                words, warns = lexer.split_line(raw, self.env, pseudo)
            except lexer.LexError as e:
                self.diag.alert(str(e), path, lineno)
                continue
            for w in warns:
                self.diag.warning(w, path, lineno)
            if not words:
                continue
            try:
                consumed, level, msg = stack.feed(words)
            except cond.CondError as e:
                self.diag.alert(str(e), path, lineno)
                continue
            if consumed:
                if level == "alert":
                    self.diag.alert(msg or "", path, lineno)
                elif level == "warning":
                    self.diag.warning(msg or "", path, lineno)
                elif level == "notice":
                    self.diag.notice(msg or "", path, lineno)
                continue
            if not stack.active:
                continue
            self.parse_words(words, path, lineno)
            if self.diag.alerts - fatal_before >= MAX_FATAL:
                self.diag.alert(f"too many fatal errors ({self.diag.alerts - fatal_before}), stopping now.", path, lineno)
                return
        try:
            stack.finish()
        except cond.CondError as e:
            self.diag.alert(str(e), path, self._count_lines(text))

    @staticmethod
    def _count_lines(text: str) -> int:
        return text.count("\n") + (0 if text.endswith("\n") else 1)

    # ------------------------------------------------------------------ lines
    def parse_words(self, words: list[str], file: str, line: int) -> None:
        kw = words[0]
        if kw in SECTION_NAMES:
            self.open_section(words, file, line)
            return
        if kw in SECTION_PARSERS:
            self.section, self.proxy, self.skip_section = kw, None, False
            ctx = KwCtx(self.model, self.diag, file, line, kw, None)
            try:
                self.section_lines = SECTION_PARSERS[kw](ctx, words[1:])
            except ConfigError as e:
                self.diag.alert(str(e), file, line)
                self.section_lines = None
                self.skip_section = True
            return
        self.section_lines = None
        if kw in OTHER_SECTIONS:
            self.section, self.proxy, self.skip_section = kw, None, True
            self.diag.warning(
                f"section '{kw}' is not supported by gproxy yet; its lines are ignored until the next section.",
                file,
                line,
            )
            return
        if self.skip_section:
            return
        if not self.section:
            self.diag.alert(f"unknown keyword '{kw}' out of section.", file, line)
            return
        if self.section_lines is not None:
            sctx = KwCtx(self.model, self.diag, file, line, self.section, None)
            try:
                self.section_lines(sctx, words)
            except ConfigError as e:
                self.diag.alert(str(e), file, line)
            return
        ctx = KwCtx(self.model, self.diag, file, line, self.section, self.proxy)
        ctx.negated = False  # type: ignore[attr-defined]
        ctx.default_prefix = False  # type: ignore[attr-defined]
        args = words
        if kw in ("no", "default") and len(words) > 1:
            ctx.negated = kw == "no"  # type: ignore[attr-defined]
            ctx.default_prefix = kw == "default"  # type: ignore[attr-defined]
            args = words[1:]
        try:
            self.dispatch(ctx, args, prefixed=args is not words)
        except ConfigError as e:
            self.diag.alert(str(e), file, line)

    def dispatch(self, ctx: KwCtx, words: list[str], prefixed: bool) -> None:
        section = self.section
        kw = SECTION_KEYWORDS.match(words, section)
        if kw is None:
            other = SECTION_KEYWORDS.match_any_section(words)
            if other is not None and section in PROXY_SECTIONS and any(s in PROXY_SECTIONS for s in other.sections):
                self.wrong_side(ctx, other.name)
                return
            self.unknown(ctx, words, prefixed)
            return
        if prefixed and not kw.takes_no:
            name = words[1] if words[0] == "option" and len(words) > 1 else words[0]
            if words[0] == "option":
                raise ConfigError(f"negation/default is not supported for option '{name}'.")
            raise ConfigError(
                "negation/default currently supported only for options, log, busy-polling, "
                "set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping."
            )
        ctx.keyword = kw.name
        if kw.ignored:
            ctx.warn(f"'{kw.name}' is not implemented by gproxy yet and is ignored.")
            return
        assert kw.handler is not None
        kw.handler(ctx, words[len(kw.words) :])

    def wrong_side(self, ctx: KwCtx, name: str) -> None:
        p = self.proxy
        assert p is not None
        short = name.split()[-1] if name.startswith("option ") else name
        if p.kind == "frontend":
            if name in ("server", "default-server"):
                raise ConfigError(f"'{name}' not allowed because frontend '{p.name}' has no backend capability.")
            ctx.warn(f"'{short}' ignored because frontend '{p.name}' has no backend capability.")
        else:
            extra = " Maybe you want 'fullconn' instead ?" if name == "maxconn" else ""
            ctx.warn(f"'{short}' ignored because {p.kind} '{p.name}' has no frontend capability.{extra}")

    def unknown(self, ctx: KwCtx, words: list[str], prefixed: bool) -> None:
        section = self.section
        word = words[0]
        if word == "option" and len(words) > 1:
            name = words[1]
            if name in HAPROXY_OPTIONS:
                ctx.warn(f"'option {name}' is not implemented by gproxy yet and is ignored.")
                return
            raise ConfigError(f"unknown option '{name}'.")
        known = HAPROXY_SECTION_KEYWORDS.get(section if section != "listen" else "listen", ())
        if word in known or (len(words) > 1 and f"{word} {words[1]}" in known):
            shown = f"{word} {words[1]}" if len(words) > 1 and f"{word} {words[1]}" in known else word
            ctx.warn(f"'{shown}' is not implemented by gproxy yet and is ignored.")
            return
        legacy = LEGACY.get(word)
        if legacy is not None and section in PROXY_SECTIONS:
            raise ConfigError(legacy)
        hint = SECTION_KEYWORDS.suggest(word, section)
        sec = section
        msg = f"unknown keyword '{word}' in '{sec}' section"
        if hint:
            msg += f"; did you mean '{hint}' maybe ?"
        raise ConfigError(msg)

    # --------------------------------------------------------------- sections
    def open_section(self, words: list[str], file: str, line: int) -> None:
        kind = words[0]
        self.section, self.proxy, self.skip_section, self.section_lines = kind, None, False, None
        if kind == "global":
            return
        name = ""
        from_name: str | None = None
        rest = words[1:]
        if rest and rest[0] != "from":
            name = rest[0]
            rest = rest[1:]
        if rest:
            if rest[0] == "from" and len(rest) == 2:
                from_name = rest[1]
            else:
                self.diag.alert(f"parse error in '{kind}' section: unexpected argument '{rest[0]}'.", file, line)
        if kind != "defaults" and not name:
            self.diag.alert(f"'{kind}' expects <name> as an argument.", file, line)
            self.skip_section = True
            return
        if name and not NAME_RE.match(name):
            bad = next(c for c in name if not NAME_RE.match(c))
            self.diag.alert(f"character '{bad}' is not permitted in '{kind}' name '{name}'.", file, line)
        base = self.last_defaults
        if from_name is not None:
            found = self.model.defaults.get(from_name)
            if found is None:
                self.diag.alert(f"defaults section '{from_name}' not found for {kind} '{name}'.", file, line)
            else:
                base = found
        if kind == "defaults":
            new = base.inherit("defaults", name, file, line) if from_name else Proxy("defaults", name, file, line)
            new.defaults_name = from_name
            if name:
                self.model.defaults[name] = new
            self.last_defaults = new
            self.proxy = new
            return
        for cap in self.caps(kind):
            prev = self.names.get((cap, name))
            if prev is not None:
                self.diag.alert(
                    f"{prev.kind} '{name}' has the same name as {prev.kind} '{name}' declared at {prev.file}:{prev.line}.",
                    file,
                    line,
                )
                break
        new = base.inherit(kind, name, file, line)
        for cap in self.caps(kind):
            self.names[(cap, name)] = new
        self.model.proxies.append(new)
        self.proxy = new

    @staticmethod
    def caps(kind: str) -> tuple[str, ...]:
        return {"frontend": ("fe",), "backend": ("be",), "listen": ("fe", "be")}[kind]


def parse_params(ctx: KwCtx, registry: object, words: list[str], owner: str) -> None:
    """Run ``server``/``bind`` parameters through their registry (``owner`` names the line in errors)."""
    from ..registry import Registry

    assert isinstance(registry, Registry)
    section = ctx.section if registry is BIND_KEYWORDS else ("default-server" if owner == "" else "server")
    i = 0
    while i < len(words):
        w = words[i]
        kw = registry.match(words[i:], section)
        if kw is None:
            hint = registry.suggest(w, section)
            msg = f"unknown keyword '{w}'"
            if hint:
                msg += f"; did you mean '{hint}' maybe ?"
            raise ConfigError(msg)
        n = kw.nargs if kw.nargs >= 0 else len(words) - i - len(kw.words)
        vals = words[i + len(kw.words) : i + len(kw.words) + n]
        if len(vals) < n:
            raise ConfigError(f"'{kw.name}' expects {kw.usage or 'an argument'} as argument.")
        if kw.ignored:
            ctx.warn(f"'{kw.name}' is not implemented by gproxy yet and is ignored.")
        else:
            assert kw.handler is not None
            kw.handler(ctx, vals)
        i += len(kw.words) + n
    _ = SERVER_KEYWORDS


LEGACY = {
    "reqadd": "The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead.",
    "reqdel": "The 'reqdel' directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead.",
    "reqidel": "The 'reqidel' directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead.",
    "reqrep": "The 'reqrep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.",
    "reqirep": "The 'reqirep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-header' instead.",
    "reqdeny": "The 'reqdeny' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.",
    "reqideny": "The 'reqideny' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.",
    "reqallow": "The 'reqallow' directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead.",
    "reqiallow": "The 'reqiallow' directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead.",
    "reqpass": "The 'reqpass' not supported anymore since HAProxy 2.1.",
    "reqipass": "The 'reqipass' not supported anymore since HAProxy 2.1.",
    "reqtarpit": "The 'reqtarpit' directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' instead.",
    "reqitarpit": "The 'reqitarpit' directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' instead.",
    "rspadd": "The 'rspadd' directive is not supported anymore since HAProxy 2.1. Use 'http-response add-header' instead.",
    "rspdel": "The 'rspdel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' .",
    "rspidel": "The 'rspidel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' instead.",
    "rsprep": "The 'rsprep' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.",
    "rspirep": "The 'rspirep' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.",
    "rspdeny": "The 'rspdeny' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.",
    "rspideny": "The 'rspideny' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.",
}
