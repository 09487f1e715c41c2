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
from dataclasses import dataclass

from ..diag import ALERT, NOTICE, WARNING, Diagnostics, Message, line_prefix
from ..registry import (
    BIND_KEYWORDS,
    PROXY_SECTIONS,
    SECTION_KEYWORDS,
    SERVER_KEYWORDS,
    ConfigError,
    Keyword,
    KwCtx,
)
from . import FEATURES, cond, lexer
from .haproxy_keywords import (
    HAPROXY_BIND_KEYWORDS,
    HAPROXY_OPTIONS,
    HAPROXY_SECTION_KEYWORDS,
    HAPROXY_SERVER_KEYWORDS,
    OTHER_SECTIONS,
    SUGGEST_BIND,
    SUGGEST_GLOBAL,
    SUGGEST_OPTIONS,
    SUGGEST_PROXY,
    SUGGEST_SERVER,
    best_match,
)
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
#: the only words the 'no' / 'default' prefixes may precede (cfgparse.c readcfgfile())
NEGATABLE = ("option", "log", "busy-polling", "set-dumpable", "strict-limits", "insecure-fork-wanted", "numa-cpu-mapping")
NEGATION_ALERT = (
    "negation/default currently supported only for options, log, busy-polling, "
    "set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping."
)

# How HAProxy spells where a message comes from.  Diagnostics renders "parsing [f:N] : ";
# ``report`` records a PlacedMessage that renders one of the others.
AT_PARSING = "parsing [{file}:{line}] : "  # most keyword parsers
AT_READCFG = "parsing [{file}:{line}]: "  # readcfgfile() itself: lexer, .if, negation, out of section
AT_CTX = "[{file}:{line}] : "  # set_usermsgs_ctx(): messages of a server line
AT_DUP = "Parsing [{file}:{line}]: "  # duplicate proxy names


@dataclass
class PlacedMessage(Message):
    """A Message whose ``file:line`` is rendered with one of HAProxy's spellings (``at``)."""

    at: str = AT_READCFG

    def render(self, pid: int | None = None) -> str:
        out = line_prefix(self.level, pid)
        if self.context:
            out += f"{self.context} : "
        if self.file is not None:
            out += self.at.format(file=self.file, line=self.line)
        return out + self.text


def report(
    diag: Diagnostics,
    level: str,
    text: str,
    file: str | None = None,
    line: int | None = None,
    at: str = AT_READCFG,
    fatal: bool = True,
) -> None:
    """Record a message whose ``file:line`` prefix HAProxy spells its own way (``at``).

    A fatal alert counts towards exit code 1; ``fatal=False`` is HAProxy's ERR_ALERT
    without ERR_FATAL (e.g. '... already specified. Continuing.'): shown, not counted.
    Files are not listed in ``diag.files_with_errors``: the parser reports them itself.
    """
    diag.messages.append(PlacedMessage(level, text, file, line, at=at))
    if level == ALERT and fatal:
        diag.alerts += 1
    elif level == WARNING:
        diag.warnings += 1


def config_error(text: str, *, at: str | None = None, fatal: bool = True, abort: bool = False) -> ConfigError:
    """A ConfigError with HAProxy's flavour: ``at`` (prefix spelling, default AT_PARSING),
    ``fatal`` (False: a non-fatal alert) and ``abort`` (ERR_ABORT: stop reading files)."""
    err = ConfigError(text)
    err.at, err.fatal, err.abort = at, fatal, abort  # type: ignore[attr-defined]
    return err


def config_files(paths: Iterable[str]) -> list[str]:
    """Expand ``-f`` arguments: a directory contributes its non-hidden ``*.cfg`` files in C order.

    HAProxy stats every argument before reading any file and exits at the first one that
    does not exist; returning just that path makes the parser report it and stop first.
    """
    out: list[str] = []
    for p in paths:
        try:
            os.stat(p)
        except OSError:
            return [p]
        if os.path.isdir(p):
            names = sorted(
                n for n in os.listdir(p) if n.endswith(".cfg") and not n.startswith(".") and os.path.isfile(os.path.join(p, n))
            )
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
        self.aborted = False  # HAProxy's ERR_ABORT: no further line or file is read
        self.orphan = False  # bad proxy header: its lines get "'listen' or 'defaults' expected."
        self.def_refs: dict[int, set[str]] = {}  # id(defaults) -> {'explicit', 'implicit'}
        self.all_defaults: list[Proxy] = []

    # ------------------------------------------------------------------ files
    def parse_file(self, path: str) -> None:
        if self.aborted:
            return
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            what = "Could not open configuration file" if os.path.exists(path) else "Cannot open configuration file/directory"
            self.diag.alert(f"{what} {path} : {e.strerror}")
            self.abort()
            return
        self.model.files.append(path)
        text = data.decode("utf-8", errors="surrogateescape")
        before = self.diag.alerts
        self.parse_text(text, path)
        # haproxy.c: one line per file with fatal errors, right after that file
        if self.diag.alerts > before or self.aborted:
            self.diag.messages.append(Message(ALERT, f"Error(s) found in configuration file : {path}"))
        if path in self.diag.files_with_errors:
            self.diag.files_with_errors.remove(path)

    def abort(self) -> None:
        """HAProxy's ERR_ABORT: stop now, read no other file, skip the validity checks."""
        self.aborted = True
        self.diag.aborted = True  # type: ignore[attr-defined]  # app: no 'Fatal errors found' line

    def raise_to_diag(self, err: ConfigError, file: str, line: int) -> None:
        """Record a ConfigError raised by a handler (see ``config_error``)."""
        at = getattr(err, "at", None)
        fatal = getattr(err, "fatal", True)
        if at is None and fatal:
            self.diag.alert(str(err), file, line)
        else:
            report(self.diag, ALERT, str(err), file, line, at or AT_PARSING, fatal)
        if getattr(err, "abort", False):
            self.abort()

    def parse_text(self, text: str, path: str) -> None:
        """readcfgfile(): lines -> words -> .if -> sections and keywords, HAProxy's messages."""
        # each file starts on a section boundary
        self.section, self.proxy, self.skip_section, self.section_lines = "", None, False, None
        self.orphan = False
        stack = cond.CondStack(features=FEATURES, env=self.env)
        fatal = 0  # lines with fatal errors, as readcfgfile() counts them
        lines = lexer.iter_lines(text, path)
        lineno = 0
        while True:
            try:
                lineno, raw = next(lines)
            except StopIteration:
                break
            except lexer.LexError as e:  # stray NUL / missing LF, raised after their line
                report(self.diag, ALERT, str(e), path, e.lineno or lineno)
                break
            if fatal >= MAX_FATAL:
                report(self.diag, ALERT, f"too many fatal errors ({fatal}), stopping now.", path, lineno)
                break
            before = self.diag.alerts
            stop = self._parse_line(stack, raw, path, lineno)
            if self.diag.alerts > before:
                fatal += 1
            if stop == cond.ABORT or (self.aborted and not stop):
                return  # "goto err": no end-of-file check
            if stop:
                # HAProxy leaves the loop but still reports a missing LF on that last line
                try:
                    next(lines)
                except lexer.LexError as e:
                    if e.kind == "missing_lf" and e.lineno == lineno:
                        report(self.diag, ALERT, str(e), path, lineno)
                except StopIteration:
                    pass
                break
        try:
            stack.finish()
        except cond.CondError as e:
            report(self.diag, ALERT, str(e), path, lineno)
            if e.abort:
                self.abort()

    def _parse_line(self, stack: cond.CondStack, raw: str, path: str, lineno: int) -> str | None:
        """One line of readcfgfile().  Returns None to go on, ``cond.STOP`` when HAProxy
        leaves its loop (end-of-file checks still run) or ``cond.ABORT`` ("goto err")."""
        pseudo = {".FILE": path, ".LINE": str(lineno), ".SECTION": self.section}
        try:
            words, warns = lexer.split_line(raw, self.env, pseudo)
        except lexer.LexError as e:
            report(self.diag, ALERT, str(e), path, lineno)
            return None
        for w in warns:
            self.diag.warning(w, path, lineno)
        if not words:
            return None
        try:
            consumed, level, msg = stack.feed(words)
        except cond.CondError as e:
            report(self.diag, ALERT, str(e), path, lineno)
            if e.abort:
                self.abort()
            return None if e.action == cond.NEXT_LINE else e.action
        if consumed:
            if level == "alert":
                report(self.diag, ALERT, f"'{msg or ''}'.", path, lineno)
                self.abort()
                return cond.ABORT
            if level == "warning":
                report(self.diag, WARNING, f"'{msg or ''}'.", path, lineno)
            elif level == "notice":
                report(self.diag, NOTICE, f"'{msg or ''}'.", path, lineno)
            return None
        if stack.active:
            self.parse_words(words, path, lineno)
        return None

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
                self.raise_to_diag(e, file, line)
                self.section_lines = None
                self.skip_section = True
            return
        if kw in OTHER_SECTIONS:
            self.section_lines = None
            self.section, self.proxy, self.skip_section = kw, None, True
            # their names, for references checked after parsing (stick-table ... peers <name>)
            self.model.__dict__.setdefault("_other_sections", []).append((kw, words[1] if len(words) > 1 else ""))
            self.diag.warning(
                f"section '{kw}' is not supported by gproxy yet; its lines are ignored until the next section.",
                file,
                line,
            )
            return
        if self.skip_section:
            return
        if not self.section:
            report(self.diag, ALERT, f"unknown keyword '{kw}' out of section.", file, line)
            return
        if self.section_lines is not None:
            sctx = KwCtx(self.model, self.diag, file, line, self.section, None)
            try:
                self.section_lines(sctx, words)
            except ConfigError as e:
                self.raise_to_diag(e, file, line)
            return
        if self.orphan:
            # a proxy header HAProxy refused: it has no current proxy for these lines
            self.diag.alert("'listen' or 'defaults' expected.", file, line)
            return
        ctx = KwCtx(self.model, self.diag, file, line, self.section, self.proxy)
        ctx.negated = False  # type: ignore[attr-defined]
        ctx.default_prefix = False  # type: ignore[attr-defined]
        args = words
        if kw in ("no", "default") and len(words) > 1:
            ctx.negated = kw == "no"  # type: ignore[attr-defined]
            ctx.default_prefix = kw == "default"  # type: ignore[attr-defined]
            args = words[1:]
            if kw == "default" and args[0] != "log":
                # readcfgfile() shifts the words left but leaves the last one in place too
                args = [*args, args[-1]]
            if args[0] not in NEGATABLE:
                # HAProxy says so, then still runs the keyword without its prefix
                report(self.diag, ALERT, NEGATION_ALERT, file, line)
        try:
            self.dispatch(ctx, args, prefixed=args is not words)
        except ConfigError as e:
            self.raise_to_diag(e, file, line)

    def dispatch(self, ctx: KwCtx, words: list[str], prefixed: bool) -> None:
        section = self.section
        if prefixed and words[0] == "option" and len(words) > 1 and words[1] in NO_NEGATION_OPTIONS:
            # refused before anything else, the capability warning of the wrong side included
            raise config_error(f"negation/default is not supported for option '{words[1]}'.", at=AT_READCFG)
        kw = SECTION_KEYWORDS.match(words, section)
        if kw is None:
            other = self._proxy_keyword(words) if section in PROXY_SECTIONS else None
            if other is not None:
                self.wrong_side(ctx, other, words)
                return
            self.unknown(ctx, words, prefixed)
            return
        if prefixed and not kw.takes_no and words[0] == "option":
            raise config_error(f"negation/default is not supported for option '{words[1]}'.", at=AT_READCFG)
        ctx.keyword = kw.name
        if kw.ignored:
            ctx.warn(f"'{kw.name}' is not implemented by gproxy yet and is ignored.")
            return
        assert kw.handler is not None
        kw.handler(ctx, words[len(kw.words) :])

    @staticmethod
    def _proxy_keyword(words: list[str]) -> Keyword | None:
        """The keyword ``words`` names in some other proxy section (None if it is in none)."""
        for sec in PROXY_SECTIONS:
            kw = SECTION_KEYWORDS.match(words, sec)
            if kw is not None:
                return kw
        return None

    def wrong_side(self, ctx: KwCtx, kw: Keyword, words: list[str]) -> None:
        """A proxy keyword used where HAProxy refuses it or ignores it with a warning.

        Like HAProxy, a keyword on the wrong side (frontend/backend) is reported and then
        still parsed, so its argument errors show; an option is skipped.  The defaults
        section rejects the keywords HAProxy does not allow there.
        """
        p = self.proxy
        assert p is not None
        name = kw.name
        if p.kind == "defaults":
            at = {"id": AT_READCFG, "server": AT_CTX, "server-template": AT_CTX}.get(name, AT_PARSING)
            raise config_error(f"'{name}' not allowed in 'defaults' section.", at=at)
        missing = "no backend" if p.kind == "frontend" else "no frontend"
        if name in ("server", "default-server", "server-template"):
            # parse_server()'s failifnotcap() message inside its own "[file:line] : " context
            where = AT_PARSING.format(file=ctx.file, line=ctx.line)
            raise config_error(f"{where}'{name}' not allowed because {p.kind} '{p.name}' has {missing} capability.", at=AT_CTX)
        hint = {"maxconn": " Maybe you want 'fullconn' instead ?", "fullconn": " Maybe you want 'maxconn' instead ?"}.get(name, "")
        if name.startswith("option "):
            opt = name.split(None, 1)[1]
            ctx.warn(f"'{opt}' ignored because {_kind(p)} '{p.name}' has {missing} capability.")
            if opt not in CHECK_OPTIONS:
                return
        else:
            ctx.warn(f"'{name}' ignored because {_kind(p)} '{p.name}' has {missing} capability.{hint}")
        ctx.keyword = name
        if kw.ignored or kw.handler is None:
            return
        kw.handler(ctx, words[len(kw.words) :])

    def unknown(self, ctx: KwCtx, words: list[str], prefixed: bool) -> None:
        section = self.section
        word = words[0]
        if word == "option":
            if len(words) < 2 or not words[1]:
                raise config_error("'option' expects an option name.", at=AT_READCFG)
            name = words[1]
            if name in REMOVED_OPTIONS:
                raise config_error(REMOVED_OPTIONS[name].format(name=name), at=AT_READCFG)
            if name in HAPROXY_OPTIONS:
                ctx.warn(f"'option {name}' is not implemented by gproxy yet and is ignored.")
                return
            hint = best_match(name, SUGGEST_OPTIONS)
            raise ConfigError(f"unknown option '{name}'" + (f"; did you mean '{hint}' maybe ?" if hint else "."))
        if section == "global" and word == "tune.chksize":
            raise config_error(
                "option 'tune.chksize' is not supported any more (tune.bufsize is used instead).", at=AT_READCFG
            )
        if section in PROXY_SECTIONS:
            legacy = LEGACY.get(word)
            if legacy is not None:
                raise ConfigError(legacy)
            removed = REMOVED_PROXY_KEYWORDS.get(word)
            if removed is not None:
                text, at = removed
                raise config_error(text.format(kw=word, arg1=words[1] if len(words) > 1 else ""), at=at)
        known = HAPROXY_SECTION_KEYWORDS.get(section, frozenset())
        if word in known or (len(words) > 1 and f"{word} {words[1]}" in known):
            shown = f"{word} {words[1]}" if len(words) > 1 and f"{word} {words[1]}" in known else word
            ctx.warn(f"'{shown}' is not implemented by gproxy yet and is ignored.")
            return
        hint = best_match(word, SUGGEST_GLOBAL if section == "global" else SUGGEST_PROXY)
        msg = f"unknown keyword '{word}' in '{section}' section"
        if hint:
            msg += f"; did you mean '{hint}' maybe ?"
        raise ConfigError(msg)

    # --------------------------------------------------------------- sections
    def open_section(self, words: list[str], file: str, line: int) -> None:
        """A section header, checked as cfg_parse_listen() does (texts, ERR_ABORT cases)."""
        kind = words[0]
        self.section, self.proxy, self.skip_section, self.section_lines = kind, None, False, None
        self.orphan = False
        args = [*words, "", "", "", "", ""]  # HAProxy's args[] read "" past the end
        if kind == "global":
            if args[1]:
                self.diag.alert(f"'global' cannot handle unexpected argument '{args[1]}'.", file, line)
            return
        cap_str = "proxy" if kind == "listen" else kind
        if kind != "defaults":
            name = args[1]
            if not name:
                report(self.diag, ALERT, f"'{kind}' expects an <id> argument", file, line, AT_PARSING)
                self.abort()
                return
            bad = next((c for c in name if not NAME_RE.match(c)), None)
            if bad is not None:
                self.diag.alert(f"character '{bad}' is not permitted in '{kind}' name '{name}'.", file, line)
            prev = self.names.get(("fe" if kind in ("frontend", "listen") else "be", name))
            if prev is not None:
                report(
                    self.diag,
                    ALERT,
                    f"{cap_str} '{name}' has the same name as {_kind(prev)} '{name}' declared at {prev.file}:{prev.line}.",
                    file,
                    line,
                    AT_DUP,
                )
            if args[2] and (not args[3] or args[2] != "from"):
                if kind != "backend":
                    report(self.diag, ALERT, "please use the 'bind' keyword for listening addresses.", file, line, AT_PARSING, fatal=False)
                self.orphan = True
                return
            if args[4]:
                self.diag.alert(f"'{kind}' cannot handle unexpected argument '{args[4]}'.", file, line)
                if kind != "backend":
                    report(self.diag, ALERT, "please use the 'bind' keyword for listening addresses.", file, line, AT_PARSING, fatal=False)
                self.orphan = True
                return
            arg = 2
        else:
            name, arg = args[1], 2
            if args[1] == "from" and args[2] and not args[3]:
                name, arg = "", 1  # "defaults from <name>"
        base: Proxy | None = self.last_defaults if kind != "defaults" else None
        from_name: str | None = None
        if args[arg] == "from":
            from_name = args[arg + 1]
            found = [d for d in self.all_defaults if d.name == from_name and from_name]
            if not found:
                report(
                    self.diag, ALERT, f"defaults section '{from_name}' not found for {cap_str} '{name}'.", file, line, AT_PARSING
                )
                self.abort()
                return
            base = found[0]
            if len(found) > 1:
                self.diag.alert(
                    f"ambiguous defaults section name '{from_name}' referenced by {cap_str} '{name}' exists at least at "
                    f"{found[0].file}:{found[0].line} and {found[1].file}:{found[1].line}.",
                    file,
                    line,
                )
            bad = next((c for c in from_name if not NAME_RE.match(c)), None)
            if bad is not None:
                self.diag.alert(
                    f"character '{bad}' is not permitted in defaults section name '{from_name}' when designated by its "
                    f"name (section found at {base.file}:{base.line}).",
                    file,
                    line,
                )
            self.def_refs.setdefault(id(base), set()).add("explicit")
        elif base is not None:
            self.def_refs.setdefault(id(base), set()).add("implicit")
        if base is not None and len(self.def_refs.get(id(base), ())) == 2:
            report(
                self.diag,
                ALERT,
                f"defaults section '{base.name}' (declared at {base.file}:{base.line}) is explicitly referenced by another "
                "proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section "
                "not explicitly used or always use explicit references.",
                file,
                line,
                AT_PARSING,
                fatal=False,
            )
        if base is not None:
            from ..http.rules import defaults_rules_conflict  # rules of named defaults (2.5+)

            refused = defaults_rules_conflict(base, kind)
            if refused:
                report(self.diag, ALERT, refused, file, line)
                self.abort()
                return
        if kind == "defaults":
            new = base.inherit("defaults", name, file, line) if base is not None else Proxy("defaults", name, file, line)
            new.defaults_name = from_name
            if name:
                self.model.defaults[name] = new
            self.all_defaults.append(new)
            self.last_defaults = new
            self.proxy = new
            return
        assert base is not None
        new = base.inherit(kind, name, file, line)
        new.extra["defaults_timeouts"] = dict(base.timeouts)  # for 'overwriting ...' warnings
        for cap in self.caps(kind):
            self.names.setdefault((cap, name), new)
        self.model.proxies.append(new)
        self.proxy = new

    @staticmethod
    def caps(kind: str) -> tuple[str, ...]:
        return {"frontend": ("fe",), "backend": ("be",), "listen": ("fe", "be")}[kind]


def accepts_missing(fn: Callable[..., None]) -> Callable[..., None]:
    """Mark a server/bind parameter handler that gets "" for a missing value word and
    reports it itself, as HAProxy's per-keyword parsers do (``args[cur_arg + 1]`` is "")."""
    fn.accepts_missing = True  # type: ignore[attr-defined]
    return fn


def parse_params(ctx: KwCtx, registry: object, words: list[str], owner: str) -> None:
    """Run ``server``/``bind`` parameters through their registry (``owner`` names the line in errors).

    Messages are HAProxy's: an unknown word gets its "did you mean" (and, on a
    default-server line, the no-address hint); the ConfigError raised for it has
    ``unknown_keyword`` set (the bind line spells its prefix differently then).  A
    parameter HAProxy knows but gproxy does not is a warning and is skipped.
    """
    from ..registry import Registry

    assert isinstance(registry, Registry)
    is_bind = registry is BIND_KEYWORDS
    if is_bind:
        section = "frontend" if ctx.section == "backend" else ctx.section  # a bind HAProxy warned about
    else:
        section = "default-server" if owner == "" else "server"
    known = HAPROXY_BIND_KEYWORDS if is_bind else HAPROXY_SERVER_KEYWORDS
    i = 0
    while i < len(words) and words[i]:  # HAProxy stops at the first empty word
        w = words[i]
        kw = registry.match(words[i:], section)
        if kw is None:
            if w in known:
                ctx.warn(f"'{w}' is not implemented by gproxy yet and is ignored.")
                n = known[w]
                i += 1 + (n if n >= 0 else len(words))
                continue
            hint = best_match(w, SUGGEST_BIND if is_bind else SUGGEST_SERVER)
            msg = f"unknown keyword '{w}'" + (f"; did you mean '{hint}' maybe ?" if hint else ".")
            if section == "default-server":
                msg += " Hint: no address was expected for this server."
            err = ConfigError(msg)
            err.unknown_keyword = True  # type: ignore[attr-defined]
            raise err
        n = kw.nargs if kw.nargs >= 0 else len(words) - i - len(kw.words)
        vals = words[i + len(kw.words) : i + len(kw.words) + n]
        if len(vals) < n or "" in vals:
            if getattr(kw.handler, "accepts_missing", False):
                vals = [*vals, *[""] * (n - len(vals))]
            elif is_bind:
                raise ConfigError(f"'{kw.name}' : missing value")
            else:
                raise ConfigError(f"'{kw.name}' expects {kw.usage or 'an argument'} as argument..")
        if kw.ignored:
            ctx.warn(f"'{kw.name}' is not implemented by gproxy yet and is ignored.")
        else:
            assert kw.handler is not None
            try:
                kw.handler(ctx, vals)
            except ConfigError as e:
                if getattr(e, "fatal", True):
                    raise
                # ERR_ALERT without ERR_FATAL: reported, and the line goes on
                report(ctx.diag, ALERT, str(e), ctx.file, ctx.line, AT_CTX, fatal=False)
        i += len(kw.words) + n
    _ = SERVER_KEYWORDS


#: removed directives still refused (reqadd & co are translated by gproxy.http.legacy)
LEGACY = {
    "reqpass": "The 'reqpass' not supported anymore since HAProxy 2.1.",
    "reqipass": "The 'reqipass' directive is not supported anymore since HAProxy 2.1.",
    "cliexp": "The 'cliexp' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.",
    "srvexp": "The 'srvexp' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.",
}

#: proxy keywords HAProxy 2.6 still recognises only to reject them: text, prefix spelling
REMOVED_PROXY_KEYWORDS: dict[str, tuple[str, str]] = {
    "block": (
        "The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax.",
        AT_PARSING,
    ),
    "appsession": ("'appsession' is not supported anymore since HAProxy 1.6.", AT_PARSING),
    "monitor-net": (
        "'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if {{ src {arg1} }}' instead.",
        AT_PARSING,
    ),
    "redispatch": ("keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.", AT_PARSING),
    "redisp": ("keyword 'redisp' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.", AT_PARSING),
    "grace": ("the 'grace' keyword is not supported any more since HAProxy version 2.5.", AT_READCFG),
    "usesrc": ("'usesrc' only allowed after a 'source' statement.", AT_PARSING),
}

#: options HAProxy 2.6 rejects (cfgparse-listen.c)
REMOVED_OPTIONS = {
    "forceclose": "option '{name}' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.",
    "http-tunnel": "option '{name}' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed.",
    "http_proxy": "option '{name}' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired.",
}

#: health-check options HAProxy still configures on the wrong side after its warning
#: the options cfgparse-listen.c parses outside its option tables: 'no'/'default' refused
NO_NEGATION_OPTIONS = frozenset(
    ["httplog", "tcplog", "httpslog", "tcpka", "httpchk", "ssl-hello-chk", "smtpchk", "pgsql-check", "redis-check",
     "mysql-check", "ldap-check", "spop-check", "tcp-check", "external-check", "forwardfor", "originalto",
     "http-restrict-req-hdr-names"]
)
CHECK_OPTIONS = frozenset(
    ["httpchk", "ssl-hello-chk", "smtpchk", "pgsql-check", "redis-check", "mysql-check", "ldap-check", "spop-check", "tcp-check", "external-check"]
)


def _kind(p: Proxy) -> str:
    """proxy_type_str(): 'proxy' for a listen section."""
    return "proxy" if p.kind == "listen" else p.kind
