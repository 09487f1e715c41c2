"""Conditional blocks and status directives of the configuration, as HAProxy 2.6 does them.

Owns ``.if``/``.elif``/``.else``/``.endif`` (nestable), the ``.diag``/``.notice``/
``.warning``/``.alert`` directives, the condition language (src/cfgcond.c: integers,
predicates, ``!``, parentheses, ``&&`` binding tighter than ``||``), the second-level
argument splitting of predicates (make_arg_list() in src/arg.c), HAProxy's version
comparison (split_version() in src/haproxy.c) and ``haproxy -cc``.  Error texts are
HAProxy's.

Pure: no socket or file I/O.  The environment is read only through the mapping passed in
(``os.environ`` by default) and features, options and versions are whatever the caller
says gproxy has.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import lexer
from .values import c_strtol_at

__all__ = [
    "MAXNESTEDCONDS",
    "MAX_CFG_RECURSION",
    "CondError",
    "CondStack",
    "check_cli_condition",
    "compare_version",
    "eval_cli",
    "eval_cond",
    "split_version",
]

MAXNESTEDCONDS = 100  # include/haproxy/cfgcond-t.h
MAX_CFG_RECURSION = 1024  # include/haproxy/defaults.h

# What HAProxy does after each error (see readcfgfile()):
NEXT_LINE = "next_line"  # fatal, but parsing goes on with the next line
STOP = "stop"  # stop reading the file, then run the end-of-file checks
ABORT = "abort"  # stop reading the file and skip the end-of-file checks


class CondError(Exception):
    """A conditional-block or condition error; ``str(e)`` is HAProxy's text without the
    ``parsing [file:line]: `` prefix (multi-line with the excerpt and caret for bad
    ``.if``/``.elif`` conditions).

    ``action`` says how HAProxy carries on: ``"next_line"`` (fatal, next line parsed),
    ``"stop"`` (stop reading this file, still report a missing LF / a non-terminated
    ``.if``) or ``"abort"`` (stop at once).  ``abort`` is true when HAProxy also sets
    ERR_ABORT: it exits right after this file, without reading the next ones.
    For a failed condition, ``reason`` is the bare cfgcond.c message, ``position`` its
    1-based offset in ``expr`` (the condition text as HAProxy re-joined it).
    """

    def __init__(
        self,
        message: str,
        *,
        action: str = ABORT,
        abort: bool = True,
        reason: str | None = None,
        position: int | None = None,
        expr: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        self.abort = abort
        self.reason = message if reason is None else reason
        self.position = position
        self.expr = expr


# --------------------------------------------------------------------------- versions

VERSION_MAX_ELTS = 7


def _uint(v: int) -> int:
    return v & 0xFFFFFFFF


def split_version(version: str) -> list[int] | None:
    """Port of HAProxy's split_version(): 7 numbers, or None when unparsable.

    ``2.6.0`` -> [2, 6, 0, 0, 3, 0, 0]; ``2.4-dev18-f6818d-20`` -> [2, 4, 0, 0, 1, 18, 20].
    """
    value = [0] * VERSION_MAX_ELTS
    value[4] = 3
    if not version:
        return None
    s = version + "\0"
    p = 0
    for idx in range(3):
        v, end = c_strtol_at(s, p, 10)
        value[idx] = _uint(v)
        p = end + 1
        if s[end] == "\0":
            return value
        if s[end] == "-":
            break
        if s[end] != ".":
            return None
    else:
        v, end = c_strtol_at(s, p, 10)
        value[3] = _uint(v)
        p = end + 1
        if s[end] == "\0":
            return value
        if s[end] != "-":
            return None
    # tag
    if not s[p].isdigit():
        tag = None
        if s.startswith("dev", p):
            tag, p = 1, p + 3
        elif s.startswith("rc", p):
            tag, p = 2, p + 2
        elif s.startswith("pre", p):
            tag, p = 2, p + 3
        if tag is not None:
            value[4] = tag
            v, end = c_strtol_at(s, p, 10)
            value[5] = _uint(v)
            p = end + 1
            if s[end] == "\0":
                return value
            if s[end] != "-":
                return None
    # commit number: after the last '-' if any, else what is left
    rest = s[p:-1]
    dash = rest.rfind("-")
    if dash >= 0:
        tail = rest[dash + 1 :]
        if not tail:
            return None
        v, end = c_strtol_at(tail + "\0", 0, 10)
        value[6] = _uint(v) if end == len(tail) else 0
        return value
    v, end = c_strtol_at(rest + "\0", 0, 10)
    value[6] = _uint(v) if end == len(rest) else 0
    return value


def compare_version(current: str, version: str) -> int:
    """HAProxy's compare_current_version(): -1 if ``version`` is older than ``current``,
    0 same, 1 newer; -2 if ``current`` is unparsable, -3 if ``version`` is."""
    loc = split_version(current)
    if loc is None:
        return -2
    mod = split_version(version)
    if mod is None:
        return -3
    for a, b in zip(mod, loc):
        if a < b:
            return -1
        if a > b:
            return 1
    return 0


def _openssl_version_number(version: str) -> int:
    """Port of openssl_version_parser() (src/ssl_utils.c): 0 when unparsable."""
    if not version:
        return 0
    s = version + "\0"
    major, end = c_strtol_at(s, 0, 10)
    if s[end] != "." or major > 0xF:
        return 0
    minor, end = c_strtol_at(s, end + 1, 10)
    if s[end] != "." or minor > 0xFF:
        return 0
    fix, end = c_strtol_at(s, end + 1, 10)
    if fix > 0xFF:
        return 0
    p = end
    patch = status = 0
    if s[p] == "\0":
        status = 0xF
    elif s[p] == "-":
        p += 1
        if s.startswith("beta", p):
            status, _ = c_strtol_at(s, p + 4, 10)
            if status > 14:
                return 0
    else:
        patch = 1
        while s[p] != "\0":
            patch += (ord(s[p]) & ~0x20) - ord("A")
            p += 1
        status = 0xF
    return (
        ((major & 0xF) << 28) | ((minor & 0xFF) << 20) | ((fix & 0xFF) << 12) | ((patch & 0xFF) << 4) | (status & 0xF)
    )


# --------------------------------------------------------------------------- conditions


class _Fail(Exception):
    def __init__(self, reason: str, at: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at = at


@dataclass
class _Term:
    kind: str  # 'const', 'pred', 'paren'
    neg: bool = False
    value: bool = False
    pred: str = ""
    args: list[str] = field(default_factory=list)
    expr: list[list[_Term]] | None = None  # OR of ANDs


# name -> (number of string arguments, minimum mandatory); all are ARGx(n, STR, ...)
_PREDICATES_26: dict[str, tuple[int, int]] = {
    "defined": (1, 1),
    "feature": (1, 1),
    "streq": (2, 2),
    "strneq": (2, 2),
    "version_atleast": (1, 1),
    "version_before": (1, 1),
    "openssl_version_atleast": (1, 1),
    "openssl_version_before": (1, 1),
    "ssllib_name_startswith": (1, 1),
}
_PREDICATES_28: dict[str, tuple[int, int]] = {**_PREDICATES_26, "strstr": (2, 2), "enabled": (1, 1)}


class _CondParser:
    """Recursive-descent parser mirroring cfg_parse_cond_{expr,and,term} pointer for pointer."""

    def __init__(self, text: str, predicates: Mapping[str, tuple[int, int]]) -> None:
        self.s = text + "\0"
        self.predicates = predicates

    def _skip(self, i: int) -> int:
        while self.s[i] in " \t":
            i += 1
        return i

    def _rest(self, i: int) -> str:
        return self.s[i:-1]

    def expr(self, text: int, depth: int) -> tuple[int, int, list[list[_Term]]]:
        """cfg_parse_cond_expr() with cfg_parse_cond_and() inlined.

        Returns (ret, new text index, OR-list of AND-lists).  HAProxy recurses on the
        right of each ``||`` and ``&&`` (one depth unit each); this loops instead, so a
        parenthesis level costs two Python frames.  On success the index is past the
        whole chain; when a right-hand side is empty (ret 0) it stays where the
        outermost level of the chain left it: at its first ``||`` (or ``&&``).
        """
        s = self.s
        ors: list[list[_Term]] = []
        or_text = text
        i = text
        while True:
            if s[i] == "\0":
                return 0, or_text, ors
            if depth <= 0:
                raise _Fail(f"unparsable conditional expression '{self._rest(i)}'", i)
            # ---- cfg_parse_cond_and(&i, depth - 1)
            terms: list[_Term] = []
            and_text = i
            and_depth = depth - 1
            and_ret = 1
            while True:
                if s[i] == "\0":
                    and_ret, i = 0, and_text
                    break
                if and_depth <= 0:
                    raise _Fail(f"unparsable conditional sub-expression '{self._rest(i)}'", i)
                ret, i, term = self.term(i, and_depth - 1)
                if ret == 0 or term is None:
                    raise _Fail(f"unparsable conditional sub-expression '{self._rest(i)}'", i)
                terms.append(term)
                i = self._skip(i)
                if len(terms) == 1:
                    and_text = i
                if s[i : i + 2] != "&&":
                    break
                i = self._skip(i + 2)
                and_depth -= 1
            # ---- back in cfg_parse_cond_expr
            if and_ret == 0:
                raise _Fail(f"unparsable conditional expression '{self._rest(i)}'", i)
            ors.append(terms)
            i = self._skip(i)
            if len(ors) == 1:
                or_text = i
            if s[i : i + 2] != "||":
                return 1, i, ors
            i = self._skip(i + 2)
            depth -= 1

    def term(self, text: int, depth: int) -> tuple[int, int, _Term | None]:
        """cfg_parse_cond_term()."""
        s = self.s
        i = self._skip(text)
        if s[i] == "\0":
            return 0, text, None
        fail0 = f"unparsable conditional expression '{self._rest(text)}'"
        if depth <= 0:
            raise _Fail(fail0, text)
        neg = False
        while s[i] == "!":
            neg = not neg
            i = self._skip(i + 1)
        val, end = c_strtol_at(s, i, 0)
        if end != i:
            return 1, end, _Term("const", neg=neg, value=val != 0)
        if s[i] == "(":
            i = self._skip(i + 1)
            ret, i, sub = self.expr(i, depth - 1)
            if ret == 0:
                raise _Fail(fail0, text)
            i = self._skip(i)
            if s[i] != ")":
                raise _Fail(f"expected ')' after conditional expression '{self._rest(text)}'", text)
            i = self._skip(i + 1)
            return 1, i, _Term("paren", neg=neg, expr=sub)
        k = i
        while s[k] not in " (\0":
            k += 1
        name = s[i:k]
        if name in self.predicates:
            nbarg, min_arg = self.predicates[name]
            try:
                args, end = self._arg_list(k, nbarg, min_arg)
            except _ArgFail as e:
                raise _Fail(
                    f"{e.reason} in argument {e.arg} of predicate '{name}' used in conditional expression", e.at
                ) from None
            return 1, end, _Term("pred", neg=neg, pred=name, args=args)
        raise _Fail(fail0, text)

    def _arg_list(self, i: int, nbarg: int, min_arg: int) -> tuple[list[str], int]:
        """make_arg_list() for string-only argument masks (len == -1)."""
        s = self.s
        empty = s[i] != "("
        if not empty:
            i += 1
        args: list[str] = []
        pos = 0
        while pos < nbarg:
            buf: list[str] = []
            squote = dquote = False
            while not empty and s[i] != "\0":
                c = s[i]
                if c == '"' and not squote:
                    dquote = not dquote
                    i += 1
                    continue
                if c == "'" and not dquote:
                    squote = not squote
                    i += 1
                    continue
                if c == "\\" and not squote:
                    nxt = s[i + 1]
                    if nxt == "\0":
                        raise _ArgFail(
                            f"failed to parse '{self._rest(i)}' after '{''.join(buf)}' as type 'string' "
                            f"at position {pos + 1}",
                            pos,
                            i,
                        )
                    if nxt in "\\ \"'":
                        buf.append(nxt)
                        i += 1
                    elif nxt in "rnt":
                        buf.append({"r": "\r", "n": "\n", "t": "\t"}[nxt])
                        i += 1
                    else:
                        buf.append("\\")
                    i += 1
                    continue
                if not squote and not dquote and c in ",)":
                    break
                buf.append(c)
                i += 1
            args.append("".join(buf))
            pos += 1
            if empty or s[i] == "\0" or s[i] == ")" or pos >= nbarg:
                break
            i += 1  # skip the comma
        if pos < min_arg:
            raise _ArgFail(f"missing arguments (got {pos}/{min_arg}), type 'string' expected", pos, i)
        if not empty:
            if s[i] == ")":
                i += 1
            else:
                word = self._rest(i)
                msg = f"expected ')' before '{word}'" if word else "expected ')'"
                raise _ArgFail(msg, pos - 1 if pos > 1 else pos, i)
        return args, i


class _ArgFail(Exception):
    def __init__(self, reason: str, arg: int, at: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.arg = arg
        self.at = at


@dataclass
class _Context:
    env: Mapping[str, str]
    features: frozenset[str]
    version: str
    enabled: frozenset[str]
    openssl_version: int | None
    ssllib_name: str | None


def _eval_term(t: _Term, ctx: _Context) -> bool:
    if t.kind == "const":
        ret = t.value
    elif t.kind == "paren":
        assert t.expr is not None
        ret = _eval_expr(t.expr, ctx)
    else:
        a = t.args
        p = t.pred
        if p == "defined":
            ret = a[0] in ctx.env
        elif p == "feature":
            ret = a[0] in ctx.features
        elif p == "streq":
            ret = a[0] == a[1]
        elif p == "strneq":
            ret = a[0] != a[1]
        elif p == "strstr":
            ret = a[1] in a[0]
        elif p == "version_atleast":
            ret = compare_version(ctx.version, a[0]) <= 0
        elif p == "version_before":
            ret = compare_version(ctx.version, a[0]) > 0
        elif p in ("openssl_version_atleast", "openssl_version_before"):
            ret = _eval_openssl(p, a[0], ctx)
        elif p == "ssllib_name_startswith":
            ret = ctx.ssllib_name is not None and ctx.ssllib_name.startswith(a[0])
        else:  # enabled
            ret = a[0] in ctx.enabled
    return not ret if t.neg else ret


def _eval_openssl(pred: str, arg: str, ctx: _Context) -> bool:
    # HAProxy 2.6 fails here without any message (and crashes printing the alert);
    # gproxy says why.
    if ctx.openssl_version is None:
        raise _Fail(f"no SSL library available to evaluate '{pred}'", 0)
    want = _openssl_version_number(arg)
    if want == 0:
        raise _Fail(f"unparsable OpenSSL version '{arg}' in '{pred}'", 0)
    cur = ctx.openssl_version
    return want <= cur if pred == "openssl_version_atleast" else want > cur


def _eval_expr(ors: list[list[_Term]], ctx: _Context) -> bool:
    # OR of ANDs, left to right, short-circuiting exactly like cfg_eval_cond_expr/_and
    for ands in ors:
        for t in ands:
            if not _eval_term(t, ctx):
                break
        else:
            return True
    return False


def _predicates_for(version: str) -> Mapping[str, tuple[int, int]]:
    return _PREDICATES_28 if compare_version(version, "2.8") <= 0 else _PREDICATES_26


def _evaluate(text: str, ctx: _Context) -> bool:
    """cfg_eval_condition() on the re-joined condition ``text``; raises _Fail."""
    if not text:
        return False
    parser = _CondParser(text, _predicates_for(ctx.version))
    ret, end, tree = parser.expr(0, MAX_CFG_RECURSION)
    if ret == 0:
        raise _Fail(f"unparsable conditional expression '{text}'", end)
    end = parser._skip(end)
    if end < len(text):
        raise _Fail(f"unexpected character '{text[end]}' at the end of conditional expression '{text}'", end)
    return _eval_expr(tree, ctx)


def _make_context(
    features: Iterable[str],
    version: str,
    env: Mapping[str, str] | None,
    enabled: Iterable[str],
    openssl_version: int | None,
    ssllib_name: str | None,
) -> _Context:
    return _Context(
        env=os.environ if env is None else env,
        features=frozenset(features),
        version=version,
        enabled=frozenset(enabled),
        openssl_version=openssl_version,
        ssllib_name=ssllib_name,
    )


def eval_cond(
    words: list[str],
    features: Iterable[str] = (),
    version: str = "2.6.0",
    *,
    env: Mapping[str, str] | None = None,
    enabled: Iterable[str] = (),
    openssl_version: int | None = None,
    ssllib_name: str | None = None,
) -> bool:
    """Evaluate the condition of a ``.if``/``.elif`` line.

    ``words`` are the lexed words after the directive; HAProxy re-joins them with single
    spaces and parses that text (so ``streq(a, b)`` compares ``"a"`` with ``" b"``).
    Empty -> false; an integer (C ``strtol`` base 0: ``0x10``, ``-1``) is true when
    non-zero; predicates ``defined(VAR)`` (in ``env``, default ``os.environ``),
    ``feature(NAME)`` (in ``features``, e.g. ``"OPENSSL"``, ``"LINUX_SPLICE"``),
    ``streq``, ``strneq``, ``version_atleast``, ``version_before`` (against ``version``;
    an unparsable argument makes ``version_atleast`` true, as in HAProxy),
    ``openssl_version_atleast/before`` (the argument parsed like HAProxy and compared
    with ``openssl_version``, the library's OPENSSL_VERSION_NUMBER such as
    ``ssl.OPENSSL_VERSION_NUMBER``; HAProxy's parser uses the pre-3.0 layout, so with
    OpenSSL 3 only major.minor compare sensibly, faithfully reproduced),
    ``ssllib_name_startswith`` (against ``ssllib_name``, e.g. ``"OpenSSL 3.0.19 ..."``);
    with ``version`` >= 2.8 also ``strstr(a,b)`` and ``enabled(OPT)`` (in ``enabled``).
    ``!``, ``(...)``, ``&&`` and ``||`` (AND binds tighter), evaluated left to right with
    short-circuit.  Raises :class:`CondError` with cfgcond.c's message (``reason``) and
    the 1-based ``position`` of the offending character in the joined text.
    """
    text = " ".join(words)
    ctx = _make_context(features, version, env, enabled, openssl_version, ssllib_name)
    try:
        return _evaluate(text, ctx)
    except _Fail as e:
        pos = lexer.byte_len(text[: e.at]) + 1
        raise CondError(e.reason, reason=e.reason, position=pos, expr=text) from None


# --------------------------------------------------------------------------- blocks

_IF_TAKE, _IF_DROP, _IF_SKIP = "IF_TAKE", "IF_DROP", "IF_SKIP"
_ELIF_TAKE, _ELIF_DROP, _ELIF_SKIP = "ELIF_TAKE", "ELIF_DROP", "ELIF_SKIP"
_ELSE_TAKE, _ELSE_DROP = "ELSE_TAKE", "ELSE_DROP"
_MASKED = frozenset({_IF_DROP, _IF_SKIP, _ELIF_DROP, _ELIF_SKIP, _ELSE_DROP})
_TAKEN_OR_SKIPPED = frozenset({_IF_TAKE, _IF_SKIP, _ELIF_TAKE, _ELIF_SKIP})
_STATUS = {".alert": "alert", ".warning": "warning", ".notice": "notice", ".diag": "diag"}


class CondStack:
    """Tracks ``.if`` blocks across the lines of one file, as readcfgfile() does.

    Feed every lexed line (lex errors stay fatal inside dropped blocks, as in HAProxy);
    :meth:`feed` handles the directives and :attr:`active` tells whether other lines
    are kept.  Call :meth:`finish` at end of file.
    """

    def __init__(
        self,
        features: Iterable[str] = (),
        version: str = "2.6.0",
        *,
        env: Mapping[str, str] | None = None,
        enabled: Iterable[str] = (),
        openssl_version: int | None = None,
        ssllib_name: str | None = None,
    ) -> None:
        self._ctx = _make_context(features, version, env, enabled, openssl_version, ssllib_name)
        self._states: list[str] = []

    @property
    def active(self) -> bool:
        """Whether non-directive lines are currently kept."""
        return not self._states or self._states[-1] not in _MASKED

    @property
    def depth(self) -> int:
        return len(self._states)

    def _condition(self, directive: str, words: list[str]) -> bool:
        text = " ".join(words[1:])
        try:
            return _evaluate(text, self._ctx)
        except _Fail as e:
            width, indent = (76, 5) if directive == ".if" else (74, 7)
            at = lexer.byte_len(text[: e.at])  # HAProxy counts bytes
            shown, newpos = lexer.sanitize_for_printing(text, at, width)
            msg = (
                f"{e.reason} in '{directive}' at position {at + 1}:\n"
                f"  {directive} {shown}\n  {' ' * (newpos + indent - 1)}^"
            )
            raise CondError(msg, reason=e.reason, position=at + 1, expr=text) from None

    def feed(self, words: list[str]) -> tuple[bool, str | None, str | None]:
        """Process one lexed line.

        Returns ``(consumed, level, message)``.  Directives (``.if .elif .else .endif
        .diag .notice .warning .alert`` and, in active blocks, any other word starting
        with ``.``) are consumed.  An active status directive returns its level
        (``"diag"``, ``"notice"``, ``"warning"``, ``"alert"``) and its message, which
        HAProxy prints as ``'<message>'.``; ``.alert`` is fatal and aborts, ``.warning``
        is a warning, ``.diag`` is only shown with ``-dD``.  A line with no words or an
        empty first word is consumed too (HAProxy ignores it).  Other lines return
        ``(False, None, None)``: keep them only if :attr:`active`.
        Raises :class:`CondError` (see its ``action``/``abort``).
        """
        if not words or words[0] == "":
            return True, None, None
        kw = words[0]
        if kw.startswith("."):
            if kw == ".if":
                self._states.append(_IF_SKIP)
                if len(self._states) >= MAXNESTEDCONDS:
                    raise CondError(f"too many nested '.if', max is {MAXNESTEDCONDS}.")
                parent = self._states[-2] if len(self._states) > 1 else None
                if parent is not None and parent in _MASKED:
                    return True, None, None
                self._states[-1] = _IF_TAKE if self._condition(kw, words) else _IF_DROP
                return True, None, None
            if kw == ".elif":
                if not self._states:
                    raise CondError("lone '.elif' with no matching '.if'.")
                cur = self._states[-1]
                if cur in (_ELSE_TAKE, _ELSE_DROP):
                    raise CondError("'.elif' after '.else' is not permitted.")
                if cur in _TAKEN_OR_SKIPPED:
                    self._states[-1] = _ELIF_SKIP
                    return True, None, None
                self._states[-1] = _ELIF_TAKE if self._condition(kw, words) else _ELIF_DROP
                return True, None, None
            if kw in (".else", ".endif"):
                if len(words) > 1 and words[1]:
                    raise CondError(f"Unexpected argument '{words[1]}' for '{kw}'.", action=STOP)
                if not self._states:
                    raise CondError(f"lone '{kw}' with no matching '.if'.", action=ABORT if kw == ".else" else STOP)
                if kw == ".endif":
                    self._states.pop()
                    return True, None, None
                cur = self._states[-1]
                if cur in (_ELSE_TAKE, _ELSE_DROP):
                    raise CondError("'.else' after '.else' is not permitted.")
                self._states[-1] = _ELSE_DROP if cur in _TAKEN_OR_SKIPPED else _ELSE_TAKE
                return True, None, None
        if not self.active:
            # masked out: directives and lines alike are skipped without a word,
            # including unknown ones such as '.elseif'
            return (True, None, None) if kw.startswith(".") else (False, None, None)
        if kw.startswith("."):
            level = _STATUS.get(kw)
            if level is None:
                raise CondError(f"unknown directive '{kw}'.", action=STOP, abort=False)
            if len(words) > 2 and words[2]:
                raise CondError(
                    f"Unexpected argument '{words[2]}' for '{kw}'. Use quotes if the message should contain spaces.",
                    action=NEXT_LINE,
                    abort=False,
                )
            return True, level, words[1] if len(words) > 1 else ""
        return False, None, None

    def finish(self) -> None:
        """End of file: raise if a block is still open."""
        if self._states:
            raise CondError("non-terminated '.if' block.", action=STOP)


# --------------------------------------------------------------------------- -cc


def check_cli_condition(
    text: str,
    *,
    features: Iterable[str] = (),
    version: str = "2.6.0",
    env: Mapping[str, str] | None = None,
    enabled: Iterable[str] = (),
    openssl_version: int | None = None,
    ssllib_name: str | None = None,
) -> tuple[int, str | None]:
    """``haproxy -cc '<cond>'``: returns (exit code, alert text or None).

    Exit code 0 when true, 1 when false, 2 on error.  The text is lexed like a config
    line except that ``#`` is not a comment and leading blanks are kept.
    """
    try:
        words = lexer.parse_line(text, env, None, comments=False)
    except lexer.LexError as e:
        msg = {
            "quote": "Syntax Error in condition: Unmatched quote.",
            "hex": "Syntax Error in condition: Truncated or invalid hexadecimal sequence.",
            "toomany": "Error in condition: Too many words.",
        }.get(e.kind, "Unhandled error in condition, please report this to the developers.")
        return 2, msg
    ctx = _make_context(features, version, env, enabled, openssl_version, ssllib_name)
    try:
        result = _evaluate(" ".join(words), ctx)
    except _Fail as e:
        return 2, f"Failed to evaluate condition: {e.reason}"
    return (0 if result else 1), None


def eval_cli(
    text: str,
    *,
    features: Iterable[str] = (),
    version: str = "2.6.0",
    env: Mapping[str, str] | None = None,
    enabled: Iterable[str] = (),
    openssl_version: int | None = None,
    ssllib_name: str | None = None,
) -> int:
    """Exit code of ``haproxy -cc '<text>'``: 0 true, 1 false, 2 error (the alert text is
    available from :func:`check_cli_condition`)."""
    code, _ = check_cli_condition(
        text,
        features=features,
        version=version,
        env=env,
        enabled=enabled,
        openssl_version=openssl_version,
        ssllib_name=ssllib_name,
    )
    return code
