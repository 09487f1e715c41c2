"""Tests for gproxy.config.lexer.

Expected values marked "haproxy 2.6.12" were obtained by running the real binary
(`haproxy -c -f`) on a probe config whose second line is `.notice <words>`: HAProxy
prints the first word after `.notice`, or `Unexpected argument '<word 3>'`, or the
lexing alert verbatim.
"""

from __future__ import annotations

import pytest

from gproxy.config import lexer
from gproxy.config.lexer import LexError, iter_lines, parse_line, sanitize_for_printing, split_line

PSEUDO = {".FILE": "F", ".LINE": "2", ".SECTION": "global"}


def words_of(line: str, env: dict[str, str] | None = None) -> list[str]:
    words, _ = split_line(line, env or {}, PSEUDO)
    return words


def lex_error(line: str, env: dict[str, str] | None = None) -> LexError:
    with pytest.raises(LexError) as info:
        split_line(line, env or {}, PSEUDO)
    return info.value


# ------------------------------------------------------------------ iter_lines


def test_iter_lines_strips_lf_keeps_cr_and_counts_from_one() -> None:
    assert list(iter_lines("global\r\n  maxconn 10\n\n# c\n", "f")) == [
        (1, "global\r"),
        (2, "  maxconn 10"),
        (3, ""),
        (4, "# c"),
    ]


def test_iter_lines_empty_file_and_lone_newline() -> None:
    assert list(iter_lines("", "f")) == []
    assert list(iter_lines("\n", "f")) == [(1, "")]


def test_missing_lf_yields_last_line_then_fails() -> None:
    # haproxy 2.6.12: "global\n    maxconn 10" -> [f:2] position 15
    it = iter_lines("global\n    maxconn 10", "f.cfg")
    assert next(it) == (1, "global")
    assert next(it) == (2, "    maxconn 10")
    with pytest.raises(LexError) as info:
        next(it)
    e = info.value
    assert str(e) == "Missing LF on last line, file might have been truncated at position 15."
    assert (e.lineno, e.kind, e.position, e.filename) == (2, "missing_lf", 15, "f.cfg")


def test_missing_lf_single_line_and_cr_counted() -> None:
    # haproxy 2.6.12: a file made of "global" -> [f:1] position 7; " .notice x\r" -> 12
    with pytest.raises(LexError, match=r"truncated at position 7\.$"):
        list(iter_lines("global", "f"))
    it = iter_lines("global\n .notice x\r", "f")
    assert [next(it), next(it)] == [(1, "global"), (2, " .notice x\r")]
    with pytest.raises(LexError, match="position 12"):
        next(it)


def test_missing_lf_position_counts_bytes() -> None:
    # haproxy 2.6.12: ' .notice "é"' without LF -> position 14 (é is 2 bytes)
    it = iter_lines('global\n .notice "\xe9"', "f")
    next(it)
    next(it)
    with pytest.raises(LexError, match="position 14"):
        next(it)


def test_stray_nul_cuts_line_and_stops_when_data_follows() -> None:
    # haproxy 2.6.12: " .notice a\0b\n .notice c\n" prints 'a' then the NUL alert on
    # line 2 and never parses line 3
    it = iter_lines("global\n .notice a\0b\n .notice c\n", "f")
    assert next(it) == (1, "global")
    assert next(it) == (2, " .notice a")
    with pytest.raises(LexError) as info:
        next(it)
    assert str(info.value) == "Stray NUL character at position 11."
    assert (info.value.lineno, info.value.kind) == (2, "nul")


def test_nul_on_last_line_reports_missing_lf_instead() -> None:
    # haproxy 2.6.12: "... .notice a\0b\n" at EOF -> Missing LF ... position 11
    it = iter_lines("global\n maxconn 1\n .notice a\0b\n", "f")
    assert [next(it) for _ in range(3)][-1] == (3, " .notice a")
    with pytest.raises(LexError) as info:
        next(it)
    assert str(info.value) == "Missing LF on last line, file might have been truncated at position 11."
    assert info.value.lineno == 3


def test_nul_reports_first_nul() -> None:
    it = iter_lines("global\n .notice a\0b\0c\n .notice c\n", "f")
    next(it)
    next(it)
    with pytest.raises(LexError, match="position 11"):
        next(it)


# ------------------------------------------------------------------ splitting

# (line, env, expected words) -- all checked against haproxy 2.6.12
SPLIT_CASES: list[tuple[str, dict[str, str], list[str]]] = [
    # quotes concatenate with adjacent text into one word (CONF 2.2 example)
    ('.notice "%{+Q}o %t"' + "' %s'\\ %{-Q}r", {}, [".notice", "%{+Q}o %t %s %{-Q}r"]),
    ("log-format  a\t\tb   c", {}, ["log-format", "a", "b", "c"]),
    ("a\x0bb\x0cc", {}, ["a", "b", "c"]),
    # comments
    ("a#b", {}, ["a"]),
    ('"a#b" c # rest', {}, ["a#b", "c"]),
    ("a\\#b", {}, ["a#b"]),
    ("# only a comment", {}, []),
    # escapes outside quotes
    ("a\\ b", {}, ["a b"]),
    ("a\\\\b", {}, ["a\\b"]),
    ("a\\'b a\\\"b", {}, ["a'b", 'a"b']),
    ("a\\tb\\x41\\x2fZ", {}, ["a\tbA/Z"]),
    ("a\\1b x\\y", {}, ["a\\1b", "x\\y"]),  # unknown escapes keep the backslash
    ("abc\\", {}, ["abc\\"]),  # trailing backslash is no continuation
    ("\\$x", {}, ["\\$x"]),  # \$ only escapes inside double quotes
    # weak quotes
    ('"\\$x"', {}, ["$x"]),
    ('"it\\\'s"', {}, ["it's"]),
    ('"a\\"b"', {}, ['a"b']),
    ('"a\\x20b"', {}, ["a b"]),
    ('a""b', {}, ["ab"]),
    # strong quotes: nothing interpreted
    ("'\\\\'", {}, ["\\\\"]),
    ("'a\\'", {}, ["a\\"]),
    ("'$E'", {"E": "v"}, ["$E"]),
    # environment variables only inside double quotes
    ("$E", {"E": "v"}, ["$E"]),
    ("${E}", {"E": "v"}, ["${E}"]),
    ('"$E"x', {"E": "v"}, ["vx"]),
    ('"$E-x"', {"E": "v"}, ["v-x"]),
    ('"$E_1.x"', {"E_1": "v"}, ["v.x"]),
    ('"$_"', {"_": "und"}, ["und"]),
    ('"$HOME[*]"', {"HOME": "/h"}, ["/h[*]"]),  # [*] only inside braces
    ('"${E}"', {"E": "one  two"}, ["one  two"]),
    ('"${E}}"', {"E": "v"}, ["v}"]),
    ('"${E}"', {"E": "a\"b ' #c"}, ["a\"b ' #c"]),  # values are not re-lexed
    # defaults: only when unset
    ('"${E-def}"', {"E": ""}, []),
    ('x "${E-def}"', {"E": ""}, ["x"]),
    ('"${E-def}"', {}, ["def"]),
    ('"${E-a b}"', {}, ["a b"]),
    ('"<${E-a"b}>"', {}, ['<a"b>']),
    ('"${E-}}"', {}, ["}"]),
    ('"${E-$F}"', {"F": "f"}, ["$F"]),
    ('"${E-\\x41}"', {}, ["\\x41"]),
    ('"${E-#}"', {}, ["#"]),
    ('"${E-${F}}"', {"F": "f"}, ["${F}"]),
    # word expansion
    ('"${E[*]}"', {"E": "one  two"}, ["one", "two"]),
    ('"x${E[*]}y"', {"E": "one  two"}, ["xone", "twoy"]),
    ('"${E[*]}"x', {"E": "a\tb"}, ["a", "bx"]),
    ('"${E[*]}" b', {"E": " one"}, ["", "one", "b"]),
    ('"${E[*]-p q}"', {}, ["p", "q"]),
    # pseudo variables
    ('"${.FILE}:${.LINE}:${.SECTION}"', {}, ["F:2:global"]),
    ('"$.LINE"', {}, ["2"]),
    # CR ends the line, except inside a run of blanks
    ("a\rb c", {}, ["a"]),
    ("a \rb", {}, ["a", "b"]),
    ("\r.notice a", {}, [".notice", "a"]),
    # a NUL produced by \x00 ends the word (C string)
    ('"a\\x00b" c', {}, ["a", "c"]),
]


@pytest.mark.parametrize(("line", "env", "expected"), SPLIT_CASES)
def test_split_line_matches_haproxy(line: str, env: dict[str, str], expected: list[str]) -> None:
    assert words_of(line, env) == expected


def test_leading_blanks_skipped_and_empty_line() -> None:
    assert words_of("   \t  bind :80   ") == ["bind", ":80"]
    assert words_of("") == []
    assert words_of("    ") == []


def test_hex_escape_produces_bytes_that_merge_into_utf8() -> None:
    # haproxy 2.6.12 emits bytes c3 a9, i.e. "é" in a UTF-8 config
    assert words_of('"\\xc3\\xa9t\\xc3\\xa9"') == ["\xe9t\xe9"]
    # a lone high byte stays a surrogate escape that re-encodes to the same byte
    (w,) = words_of('"\\xff"')
    assert w.encode("utf-8", "surrogateescape") == b"\xff"


def test_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPROXY_LEXER_TEST", "from-env")
    words, _ = split_line('x "${GPROXY_LEXER_TEST}"')
    assert words == ["x", "from-env"]


def test_missing_pseudo_counts_as_unset() -> None:
    assert split_line('x "${.SECTION-none}"', {}, {})[0] == ["x", "none"]
    assert split_line('x "${.SECTION-none}"', {}, {".SECTION": "fe"})[0] == ["x", "fe"]


def test_empty_words_kept_in_the_middle_with_a_diagnostic() -> None:
    # HAProxy keeps an empty argument; most keyword parsers stop at it, so 'c' is lost
    words, warnings = split_line('acl a path_sub "${NOPE}" c', {}, PSEUDO)
    assert words == ["acl", "a", "path_sub", "", "c"]
    assert warnings == ["argument number 3 is empty and marks the end of the argument list"]
    assert split_line('a ""', {}, PSEUDO) == (["a"], [])


def test_raw_mode_keeps_trailing_empty_slot() -> None:
    assert split_line(".if 1 x ", {}, PSEUDO, raw=True)[0] == [".if", "1", "x", ""]
    assert split_line(".if 1 x # c", {}, PSEUDO, raw=True)[0] == [".if", "1", "x", ""]
    assert split_line(".if 1 x", {}, PSEUDO, raw=True)[0] == [".if", "1", "x"]


def test_parse_line_without_comments_is_cc_mode() -> None:
    assert parse_line("1 # c", {}, comments=False) == ["1", "#", "c"]
    assert parse_line("a\\#b", {}, comments=False) == ["a\\#b"]
    # leading blank gives an empty first slot, as parse_line() does without readcfgfile()
    assert parse_line(" 1", {}, comments=False) == ["", "1"]


# ------------------------------------------------------------------ errors

# (line, env, str(error)) -- copied from haproxy 2.6.12 alerts (after "parsing [F:2]: ")
ERROR_CASES: list[tuple[str, dict[str, str], str]] = [
    (' .alert "x', {}, 'unmatched quote at position 9:\n  .alert "x\n         ^'),
    (" .alert 'x", {}, "unmatched quote at position 9:\n  .alert 'x\n         ^"),
    (' .notice "${E}', {"E": "v"}, 'unmatched quote at position 10:\n  .notice "${E}\n          ^'),
    (' .alert "${X', {}, 'unmatched brace in environment variable name at position 11:\n  .alert "${X\n           ^'),
    (
        ' .alert "${X-abc',
        {},
        'unmatched brace in environment variable name at position 11:\n  .alert "${X-abc\n           ^',
    ),
    (
        ' .alert "${X:-abc}"',
        {},
        'unmatched brace in environment variable name at position 11:\n  .alert "${X:-abc}"\n           ^',
    ),
    (
        ' .alert "$ x"',
        {},
        'forbidden first char in environment variable name at position 11:\n  .alert "$ x"\n           ^',
    ),
    (
        ' .alert "a$"',
        {},
        'forbidden first char in environment variable name at position 12:\n  .alert "a$"\n            ^',
    ),
    (
        ' .notice "${1}"',
        {},
        'forbidden first char in environment variable name at position 13:\n  .notice "${1}"\n             ^',
    ),
    # an unknown pseudo variable: HAProxy shows the line cut after the name
    (
        ' .alert "${.FOO}" and more',
        {},
        'forbidden first char in environment variable name at position 12:\n  .alert "${.FOO\n            ^',
    ),
    (
        ' .alert "\\xZZ"',
        {},
        'truncated or invalid hexadecimal sequence at position 10:\n  .alert "\\xZZ"\n          ^',
    ),
    (' .alert "\\x4"', {}, 'truncated or invalid hexadecimal sequence at position 10:\n  .alert "\\x4"\n          ^'),
    (
        ' .alert "${HOME[x]}"',
        {"HOME": "/h"},
        'truncated or invalid word expansion sequence at position 16:\n  .alert "${HOME[x]}"\n                ^',
    ),
    (
        ' .alert "${HOME[*}"',
        {"HOME": "/h"},
        'truncated or invalid word expansion sequence at position 16:\n  .alert "${HOME[*}"\n                ^',
    ),
    # leading blanks: position counts them, the excerpt does not show them
    ('\t .notice "x', {}, 'unmatched quote at position 11:\n  .notice "x\n          ^'),
    # positions count bytes; non-ASCII bytes print as '?'
    (' .notice \xe9\xe9 "x', {}, 'unmatched quote at position 15:\n  .notice ???? "x\n               ^'),
]


@pytest.mark.parametrize(("line", "env", "expected"), ERROR_CASES)
def test_errors_match_haproxy(line: str, env: dict[str, str], expected: str) -> None:
    e = lex_error(line, env)
    assert str(e) == expected
    assert e.message == expected.split(":\n", 1)[0]
    assert e.position == int(e.message.rsplit(" ", 1)[1])


def test_error_kinds() -> None:
    assert lex_error('"x').kind == "quote"
    assert lex_error('"${X').kind == "brace"
    assert lex_error('"$1"').kind == "varname"
    assert lex_error("\\x1").kind == "hex"
    assert lex_error('"${X[1]}"').kind == "expand"


def test_long_line_excerpt_is_shifted_around_the_error() -> None:
    # haproxy 2.6.12 on: .notice <100 z> "x
    e = lex_error(".notice " + "z" * 100 + ' "x')
    assert e.position == 110
    text = str(e).split("\n")
    assert text[1] == "  ..." + "z" * 36 + ' "x...'
    assert text[2] == "  " + " " * 40 + "^"


def test_long_line_excerpt_cut_at_80_without_dots_when_error_is_early() -> None:
    e = lex_error('.notice "' + "y" * 120 + '"x' + ' "x')
    assert e.position == 133 and e.message == "unmatched quote at position 133"
    e = lex_error(".notice " + "z" * 60 + ' "${X')
    assert str(e).split("\n")[1] == "  .notice " + "z" * 60 + ' "${X'


def test_too_many_words() -> None:
    words = " ".join(f"w{i}" for i in range(2, 65))  # .notice + 63 words = 64 words
    assert len(words_of(".notice " + words)) == 64
    expected = "too many words, truncating after word 64, position 249: <w64>."
    # haproxy 2.6.12: a 65th word, or even a trailing blank or comment after the
    # 64th word, is fatal
    for tail in (" w65 w66", " ", " #c"):
        e = lex_error(".notice " + words + tail)
        assert (str(e), e.kind, e.position) == (expected, "toomany", 249)
    # leading blanks are not counted (position is in the output buffer)
    assert str(lex_error("    .notice " + words + " w65")) == expected
    # expanded words count too
    e = lex_error('.notice "${E[*]}" ' + words, {"E": "a b"})
    assert str(e) == "too many words, truncating after word 64, position 245: <w62>."


def test_other_error_wins_over_too_many_words() -> None:
    words = " ".join(f"w{i}" for i in range(70))
    assert lex_error(words + ' "x').kind == "quote"


# ------------------------------------------------------------------ helpers


def test_sanitize_for_printing() -> None:
    assert sanitize_for_printing("ab\tc\x01d", 2, 80) == ("ab c?d", 2)
    line = "x" * 100
    text, pos = sanitize_for_printing(line, 90, 80)
    # cut 53 bytes on the left, then at most 74 bytes between the two "..."
    assert pos == 40 and text == "..." + "x" * 47 + "..."
    text, pos = sanitize_for_printing("y" * 300, 200, 80)
    assert (pos, len(text)) == (40, 80)
    assert sanitize_for_printing("\xe9", 0, 80) == ("??", 0)


def test_byte_len() -> None:
    assert lexer.byte_len("a\xe9") == 3
    assert lexer.byte_len("a\udcff") == 2
