"""Tests for gproxy.config.cond.

Expected results marked "haproxy 2.6.12" come from the real binary: `haproxy -cc '<cond>'`
(exit code and alert text) and `haproxy -c -f` on configs made of `.if` blocks and
`.notice` lines.  The binary's own version is 2.6.12-1+deb12u4 and its feature list
contains +OPENSSL, -QUIC, +PCRE2, -PCRE.
"""

from __future__ import annotations

import pytest

from gproxy.config import cond
from gproxy.config.cond import CondError, CondStack, check_cli_condition, compare_version, eval_cli, eval_cond
from gproxy.config.lexer import split_line

VERSION = "2.6.12-1+deb12u4"
FEATURES = ("OPENSSL", "PCRE2", "PCRE2_JIT", "LINUX_SPLICE", "GETADDRINFO")
ENV = {"HOME": "/root", "FOO": "bar", "EMPTY": "", "SP": "a b"}


def cc(text: str) -> tuple[int, str | None]:
    return check_cli_condition(
        text,
        features=FEATURES,
        version=VERSION,
        env=ENV,
        openssl_version=0x30000160,  # OPENSSL_VERSION_NUMBER of OpenSSL 3.0.22
        ssllib_name="OpenSSL 3.0.19 27 Jan 2026",
    )


# ------------------------------------------------------------------ -cc

# (condition, exit code) -- haproxy 2.6.12 -cc
CC_RESULTS: list[tuple[str, int]] = [
    ("", 1),
    ("0", 1),
    ("1", 0),
    ("-1", 0),
    ("0x10", 0),
    ("+1", 0),
    ("99999999999999999999999", 0),
    ("!0", 0),
    ("! ! 1", 0),
    ("!(0)", 0),
    ("! (0 || 0)", 0),
    ("1 && 0", 1),
    ("0 || 1", 0),
    ("1&&1", 0),
    ("0||1", 0),
    ("1 || 0 && 0", 0),  # && binds tighter
    ("(0 || 1) && 0", 1),
    ("( 1 )", 0),
    ("1 && (0 || (1 && !0))", 0),
    ("0x1F && 1", 0),
    ('"" 1', 0),
    (" 1", 0),
    ("1 ", 0),
    ("\t1", 0),
    ("defined(HOME)", 0),
    ("defined(NOPE)", 1),
    ("defined(EMPTY)", 0),
    ("defined", 1),
    ("defined()", 1),
    ("streq('a b',a\\ b)", 0),
    ("streq(a,a)", 0),
    ("streq(a, a)", 1),  # the space belongs to the second argument
    ("strneq(a,b)", 0),
    ("streq(a\\q,a\\q)", 0),
    ('streq(\\"a\\",a)', 0),
    ('streq("${HOME}",/root)', 0),
    ("streq('${HOME}',/root)", 1),
    ('streq("${SP}",a b)', 0),
    ('streq("$FOO",bar)', 0),
    ("streq(${FOO},bar)", 1),
    ("streq(\\x41,A)", 0),
    ("version_atleast(2.6)", 0),
    ("version_atleast(2.6.12)", 0),
    ("version_atleast(2.6.13)", 1),
    ("version_before(2.7)", 0),
    ("version_before(2.6.12)", 1),
    ("version_atleast(garbage)", 0),  # unparsable argument: compare returns -3
    ("version_before(garbage)", 1),
    ("version_atleast(2.6-dev)", 0),
    ("version_atleast(2.6.12-1)", 1),  # "-1" is a commit number, newer than none
    ("version_atleast(2.6.12-2)", 1),
    ("version_atleast(2.6.12.1)", 1),
    ("version_atleast(2.6.x)", 0),
    ("version_atleast()", 0),
    ("version_before(3)", 0),
    ("feature(OPENSSL)", 0),
    ("feature(QUIC)", 1),
    ("feature(PCRE)", 1),
    ("feature(PCRE2)", 0),
    ("feature(+OPENSSL)", 1),
    ("openssl_version_atleast(3.0.0)", 0),
    ("openssl_version_atleast(3.0.22)", 1),  # 2.6's parser puts the fix number elsewhere
    ("openssl_version_before(3.0.23)", 0),
    ("ssllib_name_startswith(OpenSSL)", 0),
    ("ssllib_name_startswith(BoringSSL)", 1),
    ("(" * 5 + "1" + ")" * 5, 0),
]


@pytest.mark.parametrize(("text", "code"), CC_RESULTS)
def test_cc_exit_codes_match_haproxy(text: str, code: int) -> None:
    assert cc(text) == (code, None)


# (condition, alert text) -- haproxy 2.6.12 -cc, exit code 2
CC_ERRORS: list[tuple[str, str]] = [
    ("08", "unexpected character '8' at the end of conditional expression '08'"),
    ("0x", "unexpected character 'x' at the end of conditional expression '0x'"),
    ("1.5", "unexpected character '.' at the end of conditional expression '1.5'"),
    ("(1", "expected ')' after conditional expression '(1'"),
    ("((1)", "expected ')' after conditional expression '((1)'"),
    ("1)", "unexpected character ')' at the end of conditional expression '1)'"),
    ("()", "unparsable conditional expression ')'"),
    ("( )", "unparsable conditional expression ')'"),
    ("(1 ||)", "unparsable conditional expression ')'"),
    ("!", "unparsable conditional expression '!'"),
    ("!!", "unparsable conditional expression '!!'"),
    ("streq(a\\,b,x)", "expected ')' before ',x)' in argument 1 of predicate 'streq' used in conditional expression"),
    # no short-circuit at parse time: the whole expression must parse
    ("(defined(HOME) && streq(a,a)) || foo", "unparsable conditional expression 'foo'"),
    ("foo", "unparsable conditional expression 'foo'"),
    ("foo(1)", "unparsable conditional expression 'foo(1)'"),
    ("enabled(FOO)", "unparsable conditional expression 'enabled(FOO)'"),  # 2.8+ only
    ("strstr(abc,b)", "unparsable conditional expression 'strstr(abc,b)'"),
    ("definedX(HOME)", "unparsable conditional expression 'definedX(HOME)'"),
    ("defined (HOME)", "unexpected character '(' at the end of conditional expression 'defined (HOME)'"),
    ("defined(HOME", "expected ')' in argument 1 of predicate 'defined' used in conditional expression"),
    ("defined(a,b)", "expected ')' before ',b)' in argument 1 of predicate 'defined' used in conditional expression"),
    (
        "defined(a,b) && 1",
        "expected ')' before ',b) && 1' in argument 1 of predicate 'defined' used in conditional expression",
    ),
    (
        "streq(a)",
        (
            "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in "
            "conditional expression"
        ),
    ),
    (
        "streq",
        (
            "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in "
            "conditional expression"
        ),
    ),
    ("streq(a,b,c)", "expected ')' before ',c)' in argument 1 of predicate 'streq' used in conditional expression"),
    # the first-level lexer already removed the double quotes
    (
        'streq("a,b","a,b")',
        "expected ')' before ',a,b)' in argument 1 of predicate 'streq' used in conditional expression",
    ),
    (
        "streq(a\\\\",
        (
            "failed to parse '\\' after 'a' as type 'string' at position 1 in argument 0 of predicate 'streq' used in "
            "conditional expression"
        ),
    ),
    ("streq(a,a) x", "unexpected character 'x' at the end of conditional expression 'streq(a,a) x'"),
    ("1 &&", "unparsable conditional expression '&&'"),
    ("1 && 1 &&", "unparsable conditional expression '&& 1 &&'"),  # the first '&&' of the chain
    ("&& 1", "unparsable conditional expression '&& 1'"),
    ("1 & 1", "unexpected character '&' at the end of conditional expression '1 & 1'"),
    ("1 ||", "unparsable conditional expression '1 ||'"),
    ("1 || 1 ||", "unparsable conditional expression '1 || 1 ||'"),
    ("1 || 0 && ", "unparsable conditional expression '&& '"),
    ("- 1", "unparsable conditional expression '- 1'"),
    ('"${HOME}"', "unparsable conditional expression '/root'"),
    ("1 # c", "unexpected character '#' at the end of conditional expression '1 # c'"),  # no comments in -cc
    (" ", "unparsable conditional sub-expression ' '"),
    ("1 " + "x" * 200, "unexpected character 'x' at the end of conditional expression '1 " + "x" * 200 + "'"),
    # recursion limit (MAX_CFG_RECURSION 1024): deep parentheses and long chains
    ("(" * 341 + "1" + ")" * 341, "unparsable conditional sub-expression '1" + ")" * 341 + "'"),
    ("(" * 400 + "1" + ")" * 400, "unparsable conditional sub-expression '" + "(" * 59 + "1" + ")" * 400 + "'"),
]


@pytest.mark.parametrize(("text", "reason"), CC_ERRORS)
def test_cc_errors_match_haproxy(text: str, reason: str) -> None:
    assert cc(text) == (2, f"Failed to evaluate condition: {reason}")


def test_cc_recursion_limit_matches_haproxy() -> None:
    # haproxy 2.6.12: 340 nested parentheses parse, 341 do not; a chain of && or ||
    # runs out of depth after 1022 terms (each operator costs one level)
    assert cc("(" * 340 + "1" + ")" * 340) == (0, None)
    for op in ("&&", "||"):
        assert cc(op.join(["1"] * 1000)) == (0, None)
        code, msg = cc(op.join(["1"] * 1100))
        assert (code, msg) == (
            2,
            "Failed to evaluate condition: unparsable conditional expression '" + op.join(["1"] * 78) + "'",
        )


def test_cc_lexing_errors() -> None:
    # haproxy 2.6.12 -cc texts
    assert cc('x"') == (2, "Syntax Error in condition: Unmatched quote.")
    assert cc("'") == (2, "Syntax Error in condition: Unmatched quote.")
    assert cc("\\x4") == (2, "Syntax Error in condition: Truncated or invalid hexadecimal sequence.")
    assert cc('"${X"') == (2, "Unhandled error in condition, please report this to the developers.")
    assert cc('"$1"') == (2, "Unhandled error in condition, please report this to the developers.")
    assert cc('streq(a,"b') == (2, "Syntax Error in condition: Unmatched quote.")
    assert cc(" && ".join(["1"] * 600)) == (2, "Error in condition: Too many words.")
    assert cc(" ".join(["1"] * 70)) == (2, "Error in condition: Too many words.")
    assert cc('"a\\x31"') == (2, "Failed to evaluate condition: unparsable conditional expression 'a1'")


def test_eval_cli_returns_the_exit_code() -> None:
    assert eval_cli("1", env={}) == 0
    assert eval_cli("0", env={}) == 1
    assert eval_cli("foo(", env={}) == 2
    assert eval_cli("feature(LUA)", features=("LUA",)) == 0


# ------------------------------------------------------------------ eval_cond


def test_eval_cond_joins_words_with_spaces() -> None:
    assert eval_cond([]) is False
    assert eval_cond(["streq(a,", "a)"], env={}) is False  # second arg is " a"
    assert eval_cond(["defined(FOO)", "&&", "!defined(BAR)"], env={"FOO": ""}) is True
    assert eval_cond(["feature(OPENSSL)"], features=["OPENSSL"]) is True
    assert eval_cond(["feature(OPENSSL)"]) is False


def test_eval_cond_error_carries_reason_and_position() -> None:
    with pytest.raises(CondError) as info:
        eval_cond(["streq(a,", "b)", "&&", "foo"], env={})
    e = info.value
    assert str(e) == e.reason == "unparsable conditional expression 'foo'"
    assert (e.position, e.expr) == (16, "streq(a, b) && foo")


def test_newer_predicates_follow_the_version() -> None:
    assert eval_cond(["strstr(abc,b)"], version="2.8.0") is True
    assert eval_cond(["strstr(abc,x)"], version="3.0.0") is False
    assert eval_cond(["enabled(SPLICE)"], version="2.8.0", enabled={"SPLICE"}) is True
    assert eval_cond(["enabled(POLL)"], version="2.8.0", enabled={"SPLICE"}) is False
    with pytest.raises(CondError, match="unparsable conditional expression 'strstr"):
        eval_cond(["strstr(abc,b)"], version="2.7.0")


def test_short_circuit_skips_failing_terms() -> None:
    # openssl predicates fail without a library, but only when evaluated
    assert eval_cond(["0", "&&", "openssl_version_atleast(1.1.1)"]) is False
    assert eval_cond(["1", "||", "openssl_version_atleast(1.1.1)"]) is True
    with pytest.raises(CondError, match="no SSL library"):
        eval_cond(["openssl_version_atleast(1.1.1)"])
    with pytest.raises(CondError, match="unparsable OpenSSL version 'x'"):
        eval_cond(["openssl_version_atleast(x)"], openssl_version=0x1010100F)


def test_openssl_version_parser() -> None:
    # examples from the comment in HAProxy's src/ssl_utils.c
    parse = cond._openssl_version_number
    assert parse("0.9.8zh") == 0x0090821F
    assert parse("1.0.2u") == 0x1000215F
    assert parse("3.0.0-alpha17") == 0x30000000
    assert parse("3.0.0-beta2") == 0x30000002
    assert parse("3.0.0") == 0x3000000F
    assert parse("1.1") == 0 and parse("16.0.0") == 0
    assert eval_cond(["openssl_version_atleast(1.1.1)"], openssl_version=0x1010107F) is True
    assert parse("1.1.1a") == 0x1010101F
    assert eval_cond(["openssl_version_before(1.1.1a)"], openssl_version=0x1010100F) is True
    assert eval_cond(["openssl_version_atleast(1.1.1a)"], openssl_version=0x1010100F) is False


# ------------------------------------------------------------------ versions


def test_split_version_examples_from_haproxy() -> None:
    sv = cond.split_version
    assert sv("1.2.1-pre2") == [1, 2, 1, 0, 2, 2, 0]
    assert sv("1.2.1") == [1, 2, 1, 0, 3, 0, 0]
    assert sv("1.2.10.1") == [1, 2, 10, 1, 3, 0, 0]
    assert sv("1.3.16-rc1") == [1, 3, 16, 0, 2, 1, 0]
    assert sv("1.4-dev3") == [1, 4, 0, 0, 1, 3, 0]
    assert sv("1.5-dev18-43") == [1, 5, 0, 0, 1, 18, 43]
    assert sv("2.4-dev18-f6818d-20") == [2, 4, 0, 0, 1, 18, 20]
    assert sv("2.6.12-1+deb12u4") == [2, 6, 12, 0, 3, 0, 0]
    assert sv("2.6-") == [2, 6, 0, 0, 3, 0, 0]
    assert sv("") is None and sv("2.x") is None and sv("2.6.1.2.3") is None


def test_compare_version() -> None:
    assert compare_version("2.6.0", "2.6") == 0
    assert compare_version("2.6.0", "2.5.9") == -1
    assert compare_version("2.6.0", "2.6-dev3") == -1
    assert compare_version("2.6-dev3", "2.6.0") == 1
    assert compare_version("2.6.0", "nope") == -3
    assert compare_version("", "2.6") == -2


# ------------------------------------------------------------------ blocks


def run(lines: list[str], env: dict[str, str] | None = None) -> tuple[list[str], list[tuple[str, str | None]]]:
    """Feed lines; return the kept non-directive lines and the (level, message) events."""
    st = CondStack(version=VERSION, env=env if env is not None else {})
    kept: list[str] = []
    events: list[tuple[str, str | None]] = []
    for line in lines:
        words, _ = split_line(line, env or {}, raw=True)
        consumed, level, msg = st.feed(words)
        if consumed:
            if level:
                events.append((level, msg))
        elif st.active:
            kept.append(words[0])
    st.finish()
    return kept, events


def test_if_else_chains() -> None:
    kept, _events = run([".if 1", "a", ".else", "b", ".endif", "c"])
    assert kept == ["a", "c"]
    assert run([".if 0", "a", ".elif 0", "b", ".elif 1", "c", ".elif 1", "d", ".else", "e", ".endif"])[0] == ["c"]
    assert run([".if 0", "a", ".elif 0", "b", ".else", "e", ".endif"])[0] == ["e"]


def test_nested_blocks() -> None:
    # haproxy 2.6.12 prints only 'yes' / 'deep'
    assert run([".if 0", ".if 1", "no", ".else", "no2", ".endif", ".else", "yes", ".endif"])[0] == ["yes"]
    assert run([".if 1", ".if 0", ".elif 0", ".else", "deep", ".endif", ".endif"])[0] == ["deep"]
    lines = [".if 1"] * 98 + ["deep98"] + [".endif"] * 98
    assert run(lines)[0] == ["deep98"]


def test_conditions_are_not_evaluated_in_dropped_blocks() -> None:
    # haproxy 2.6.12: no error for a bad condition under a false .if or after a taken branch
    assert run([".if 0", ".if foo(", ".endif", ".endif"]) == ([], [])
    assert run([".if 1", ".elif foo(", ".else", ".endif", "after"])[0] == ["after"]


def test_status_directives() -> None:
    _, events = run([".if 1", " .warning w", " .diag d", ".endif", ' .notice "a b"', " .notice", ' .notice ""'])
    assert events == [("warning", "w"), ("diag", "d"), ("notice", "a b"), ("notice", ""), ("notice", "")]
    assert run([".if 0", " .alert no", ".endif"]) == ([], [])
    st = CondStack()
    assert st.feed([".alert", "stop"]) == (True, "alert", "stop")
    # an empty third word is not an extra argument
    assert st.feed([".notice", "a", ""]) == (True, "notice", "a")


def test_blank_and_empty_first_word_lines_are_consumed() -> None:
    st = CondStack()
    assert st.feed([]) == (True, None, None)
    assert st.feed(["", "x"]) == (True, None, None)
    assert st.feed(["bind", ":80"]) == (False, None, None)


def test_elseif_is_unknown_only_in_active_blocks() -> None:
    # haproxy 2.6.12: ".if 0 / .elseif 1 / .endif" is accepted (issue #2144)
    assert run([".if 0", ".elseif 1", ".endif"]) == ([], [])
    st = CondStack()
    st.feed([".if", "1"])
    with pytest.raises(CondError) as info:
        st.feed([".elseif", "1"])
    e = info.value
    assert str(e) == "unknown directive '.elseif'."
    assert (e.action, e.abort) == ("stop", False)
    # haproxy then reports the open block at end of file
    with pytest.raises(CondError, match=r"^non-terminated '\.if' block\.$"):
        st.finish()


# (lines, message, action, abort) -- haproxy 2.6.12 texts
BLOCK_ERRORS: list[tuple[list[str], str, str, bool]] = [
    ([".endif"], "lone '.endif' with no matching '.if'.", "stop", True),
    ([".else"], "lone '.else' with no matching '.if'.", "abort", True),
    ([".elif 1"], "lone '.elif' with no matching '.if'.", "abort", True),
    ([".elif"], "lone '.elif' with no matching '.if'.", "abort", True),
    ([".if 1", ".endif x"], "Unexpected argument 'x' for '.endif'.", "stop", True),
    ([".if 1", ".else 1"], "Unexpected argument '1' for '.else'.", "stop", True),
    ([".if 0", ".else", ".else"], "'.else' after '.else' is not permitted.", "abort", True),
    ([".if 0", ".else", ".elif 1"], "'.elif' after '.else' is not permitted.", "abort", True),
    ([".foo"], "unknown directive '.foo'.", "stop", False),
    (
        [" .notice a b"],
        "Unexpected argument 'b' for '.notice'. Use quotes if the message should contain spaces.",
        "next_line",
        False,
    ),
    (
        [' .alert "" x'],
        "Unexpected argument 'x' for '.alert'. Use quotes if the message should contain spaces.",
        "next_line",
        False,
    ),
    ([".if 1"] * 100, "too many nested '.if', max is 100.", "abort", True),  # 99 levels are fine
    (
        [".if streq(a, b) && foo"],
        (
            "unparsable conditional expression 'foo' in '.if' at position 16:\n  .if streq(a, b) && foo\n"
            "                     ^"
        ),
        "abort",
        True,
    ),
    (
        [".if 0", ".elif foo("],
        "unparsable conditional expression 'foo(' in '.elif' at position 1:\n  .elif foo(\n        ^",
        "abort",
        True,
    ),
    # the trailing blank of the line is part of HAProxy's re-joined text
    (
        [".if 1 x "],
        (
            "unexpected character 'x' at the end of conditional expression '1 x ' in '.if' at position 3:\n"
            "  .if 1 x \n        ^"
        ),
        "abort",
        True,
    ),
    (
        [".if \xe9 foo("],
        "unparsable conditional expression '\xe9 foo(' in '.if' at position 1:\n  .if ?? foo(\n      ^",
        "abort",
        True,
    ),
]


@pytest.mark.parametrize(("lines", "message", "action", "abort"), BLOCK_ERRORS)
def test_block_errors_match_haproxy(lines: list[str], message: str, action: str, abort: bool) -> None:
    with pytest.raises(CondError) as info:
        run(lines)
    assert str(info.value) == message
    assert (info.value.action, info.value.abort) == (action, abort)


def test_long_condition_excerpt() -> None:
    # haproxy 2.6.12 on ".if 1 && <100 y>": the excerpt is cut at 76 bytes for '.if'
    with pytest.raises(CondError) as info:
        run([".if 1 && " + "y" * 100])
    assert str(info.value).split("\n") == [
        "unparsable conditional expression '" + "y" * 100 + "' in '.if' at position 6:",
        "  .if 1 && " + "y" * 71,
        "  " + " " * 9 + "^",
    ]


def test_non_terminated_block() -> None:
    with pytest.raises(CondError) as info:
        run([".if 1", "a"])
    assert str(info.value) == "non-terminated '.if' block."
    st = CondStack()
    st.feed([".if", "0"])
    assert st.depth == 1 and not st.active
    st.feed([".endif"])
    st.finish()
    assert st.active


def test_condition_sees_env_and_features() -> None:
    kept, _ = run(['.if defined(FOO) && streq("${FOO}",bar)', "envok", ".endif"], env={"FOO": "bar"})
    assert kept == ["envok"]
    st = CondStack(features=["OPENSSL"], version="2.6.0", env={})
    st.feed([".if", "feature(OPENSSL)", "&&", "version_atleast(2.6)", "&&", "!version_atleast(2.7)"])
    assert st.active
