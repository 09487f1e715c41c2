"""``h1-case-adjust`` / ``h1-case-adjust-file`` / ``option h1-case-adjust-bogus-client|server``
(gproxy.http.casing): the pure ``adjust``, the table lookups, and the ``haproxy -c`` texts
(haproxy 2.6.12, including its "execpt" typo)."""

from __future__ import annotations

import pytest

from gproxy.config.model import Model
from gproxy.http import casing

from .cfgtext import HTTP_HEAD as HEAD
from .cfgtext import parse as _parse

pytestmark = pytest.mark.timeout(10)


def parse(text: str, check: bool = True) -> tuple[Model, list[str]]:
    return _parse(text, check)


# ------------------------------------------------------------------ adjust
TABLE = {"content-type": "Content-Type", "x-foo": "X-FOO", "connection": "Connection"}


def test_adjust_renames_listed_names_only() -> None:
    items = [("host", "a"), ("content-type", "text/plain"), ("x-foo", "1"), ("x-foo", "2"), ("connection", "close")]
    assert casing.adjust(items, TABLE) == [("host", "a"), ("Content-Type", "text/plain"), ("X-FOO", "1"),
                                           ("X-FOO", "2"), ("Connection", "close")]
    assert items[1] == ("content-type", "text/plain")  # the input is not modified


def test_adjust_returns_the_same_list_when_nothing_changes() -> None:
    items = [("host", "a"), ("x-bar", "b")]
    assert casing.adjust(items, TABLE) is items
    assert casing.adjust(items, {}) is items
    assert casing.adjust([], TABLE) == []


def test_lookup_is_by_the_exact_from_text() -> None:
    """Names go out lower-case, and HAProxy looks <from> up as written: an entry whose
    <from> has capitals never applies."""
    table = {"X-Bar": "x-bar", "x-baz": "X-Baz"}
    assert casing.adjust([("x-bar", "1"), ("x-baz", "2")], table) == [("x-bar", "1"), ("X-Baz", "2")]


# ------------------------------------------------------------------ table and options
def test_table_and_option_lookups(tmp_path) -> None:
    f = tmp_path / "map"
    f.write_text("# names\n\n  x-file \t X-File  \nx-other X-OTHER\n")
    model, msgs = parse("global\n    h1-case-adjust content-type Content-Type\n"
                        f"    h1-case-adjust-file {f}\n" + HEAD
                        + "frontend fe\n    bind :1\n    option h1-case-adjust-bogus-client\n    default_backend be\n"
                        + "frontend plain\n    bind :2\n    default_backend be\n"
                        + "backend be\n    option h1-case-adjust-bogus-server\n"
                        + "backend be2\n")
    assert msgs == []
    table = {"content-type": "Content-Type", "x-file": "X-File", "x-other": "X-OTHER"}
    assert casing.table_of(model.glob) == table
    fe, plain, be, be2 = model.proxies
    assert casing.client_table(fe, model.glob) == table
    assert casing.client_table(plain, model.glob) is None
    assert casing.server_table(be, model.glob) == table
    assert casing.server_table(be2, model.glob) is None
    assert casing.server_table(fe, model.glob) is None  # bogus-client is not bogus-server


def test_option_without_table_is_no_adjustment() -> None:
    model, msgs = parse(HEAD + "listen li\n    bind :1\n    option h1-case-adjust-bogus-client\n"
                        "    option h1-case-adjust-bogus-server\n")
    assert msgs == []
    li = model.proxies[0]
    assert casing.client_table(li, model.glob) is None and casing.server_table(li, model.glob) is None


def test_no_option_cancels_the_defaults() -> None:
    model, _ = parse("global\n    h1-case-adjust a A\n"
                     + HEAD.replace("mode http\n", "mode http\n    option h1-case-adjust-bogus-client\n")
                     + "frontend fe\n    bind :1\n    no option h1-case-adjust-bogus-client\n"
                     + "frontend fe2\n    bind :2\n")
    fe, fe2 = model.proxies
    assert casing.client_table(fe, model.glob) is None
    assert casing.client_table(fe2, model.glob) == {"a": "A"}


# ------------------------------------------------------------------ haproxy -c texts
@pytest.mark.parametrize(
    "line,msg",
    [
        ("h1-case-adjust content-type", "'h1-case-adjust' expects <from> and <to> as argument."),
        ("h1-case-adjust", "'h1-case-adjust' expects <from> and <to> as argument."),
        ("h1-case-adjust content-type Content-Type extra", "'h1-case-adjust' cannot handle unexpected argument 'extra'."),
        ("h1-case-adjust content-type Content-Typo", "<from> and <to> must not differ execpt the case"),
        ("h1-case-adjust-file", "'h1-case-adjust-file' expects <file> as argument."),
        ("h1-case-adjust-file a b", "'h1-case-adjust-file' cannot handle unexpected argument 'b'."),
    ],
)
def test_global_keyword_errors(line: str, msg: str) -> None:
    _, msgs = parse(f"global\n    {line}\n" + HEAD, check=False)
    assert msgs == [f"ALERT: parsing [t.cfg:2] : {msg}"]


def test_duplicate_entry() -> None:
    _, msgs = parse("global\n    h1-case-adjust content-type Content-Type\n"
                    "    h1-case-adjust content-type CONTENT-TYPE\n" + HEAD, check=False)
    assert msgs == ["ALERT: parsing [t.cfg:3] : duplicate entry 'content-type'"]


def test_options_on_the_wrong_side() -> None:
    _, msgs = parse(HEAD + "frontend fe\n    bind :1\n    option h1-case-adjust-bogus-server\n"
                    "    option h1-case-adjust-bogus-client x\n    default_backend be\n"
                    "backend be\n    option h1-case-adjust-bogus-client\n", check=False)
    assert msgs == [
        "WARNING: parsing [t.cfg:8] : 'h1-case-adjust-bogus-server' ignored because frontend 'fe' has no backend capability.",
        "ALERT: parsing [t.cfg:9] : 'option h1-case-adjust-bogus-client' cannot handle unexpected argument 'x'.",
        "WARNING: parsing [t.cfg:12] : 'h1-case-adjust-bogus-client' ignored because backend 'be' has no frontend capability.",
    ]


def test_options_in_tcp_mode_are_silent() -> None:
    """haproxy 2.6.12 (backported 'Support headers case adjustment for TCP proxies')."""
    _, msgs = parse(HEAD.replace("mode http\n", "mode tcp\n    option h1-case-adjust-bogus-client\n"
                                 "    option h1-case-adjust-bogus-server\n")
                    + "listen li\n    bind :1\n    server s 127.0.0.1:2\n")
    assert msgs == []


@pytest.mark.parametrize(
    "content,msg",
    [
        ("content-type Content-Type\nx-foo X-Foo extra\n", "<from> and <to> must not differ execpt the case at line 2."),
        ("a A\nx-bar X-Baz\nx-q X-Q\n", "<from> and <to> must not differ execpt the case at line 2."),
        ("content-type Content-Type\ncontent-type CONTENT-TYPE\n", "duplicate entry 'content-type' at line 2."),
        ("# only\n\nx-only\n", "expect <to> at line 3."),
        ("x-only \t \r\n", "expect <to> at line 1."),
    ],
)
def test_file_errors(tmp_path, content: str, msg: str) -> None:
    f = tmp_path / "map"
    f.write_text(content)
    _, msgs = parse(f"global\n    h1-case-adjust-file {f}\n" + HEAD)
    assert msgs == [f"ALERT: h1-headers-case-adjust-file '{f}' : {msg}"]


def test_file_duplicates_a_keyword_line(tmp_path) -> None:
    f = tmp_path / "map"
    f.write_text("x-a X-A\n")
    _, msgs = parse(f"global\n    h1-case-adjust x-a x-A\n    h1-case-adjust-file {f}\n" + HEAD)
    assert msgs == [f"ALERT: h1-headers-case-adjust-file '{f}' : duplicate entry 'x-a' at line 1."]


def test_missing_file_is_checked_after_the_other_checks(tmp_path) -> None:
    _, msgs = parse(f"global\n    h1-case-adjust-file {tmp_path}/nope\n" + HEAD
                    + "frontend fe\n    bind :1\n    default_backend nope\n")
    assert msgs == ["ALERT: Proxy 'fe': unable to find required default_backend: 'nope'.",
                    f"ALERT: h1-headers-case-adjust-file '{tmp_path}/nope': failed to open file."]


@pytest.mark.parametrize(
    "line,got",
    [
        ("", None), ("   \t", None), ("# c", None), ("  # c", None), ("\r", None),
        ("a A", ("a", "A")), ("\ta\t \tA \t", ("a", "A")), ("a A B", ("a", "A B")), ("a", ("a", "")),
        ("a\rA", ("a", "")),
    ],
)
def test_parse_file_line(line: str, got: tuple[str, str] | None) -> None:
    assert casing.parse_file_line(line) == got
