"""The req*/rsp* directives HAProxy 2.1 removed (gproxy.http.legacy).

HAProxy 2.1+ refuses them; gproxy deliberately translates each into the modern rule,
warns with the line to paste, and runs exactly that rule (or, when no modern line is
equivalent, an emulation of the 1.x semantics: regex on each ``Name: value`` line).
"""

from __future__ import annotations

import pytest

from gproxy.config import import_keyword_modules
from gproxy.config.lexer import split_line
from gproxy.http import legacy as L
from gproxy.http import rules as R
from gproxy.http.message import Headers, Request, Response, Txn
from gproxy.session import Session

from .cfgtext import parse_checked as parse

import_keyword_modules()

HEAD = """defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:27461
"""
TAIL = """    default_backend be
backend be
    server s1 127.0.0.1:27462
"""



class Fe:
    def __init__(self, spec: object) -> None:
        self.spec = spec
        self.name = "fe"
        self.id = 1
        self.process = None


def frontend(lines: str) -> tuple[Fe, list[str]]:
    model, msgs = parse(HEAD + lines + TAIL)
    assert [m for m in msgs if m.startswith("ALERT")] == []
    return Fe(model.proxies[0]), [m for m in msgs if m.startswith("WARNING")]


def txn(fe: Fe, method: str, uri: str, headers: list[tuple[str, str]]) -> Txn:
    sess = Session(fe, None, ("127.0.0.1", 1), ("127.0.0.1", 80))
    return Txn(sess, Request(method, uri, "HTTP/1.1", Headers(list(headers))))


def one_warning(line: str) -> str:
    _, warns = frontend(f"    {line}\n")
    assert len(warns) == 1
    return warns[0].removeprefix("WARNING: ")


def test_seed_reqadd_works_as_written() -> None:
    fe, warns = frontend("    reqadd X-Forwarded-Proto:\\ https\n")
    assert warns == [
        ("WARNING: 'reqadd X-Forwarded-Proto:\\ https' is deprecated since HAProxy 2.1; gproxy translated it to: "
        "http-request add-header X-Forwarded-Proto https")
    ]
    t = txn(fe, "GET", "/", [("host", "h")])
    assert R.run_http_request(fe.spec.http_request, t) is None
    assert t.req.headers.items == [("host", "h"), ("x-forwarded-proto", "https")]


T = "deprecated since HAProxy 2.1; gproxy translated it to: "


@pytest.mark.parametrize(
    ("line", "translation"),
    [
        ("reqadd X-Foo:\\ a\\ b%c if { path /x }", "http-request add-header X-Foo a\\ b%%c if { path /x }"),
        ("rspadd Strict-Transport-Security:\\ max-age=31536000",
         "http-response add-header Strict-Transport-Security max-age=31536000"),
        ("reqrep ^Host:\\ old.com Host:\\ new.com", "http-request replace-header Host ^old.com new.com"),
        ("reqirep ^Host:\\ (.*) Host:\\ new-\\1", "http-request replace-header Host (?i)^(.*) new-\\1"),
        ("reqrep ^(X-Foo:\\ )(.*) \\1bar", "http-request replace-header X-Foo ^()(.*) bar"),
        ("reqrep ^([^\\ :]*)\\ /static/(.*) \\1\\ /\\2", "http-request replace-uri ^()/static/(.*) \\1/\\2"),
        ("reqdel ^X-Forwarded-For:", "http-request del-header X-Forwarded-For"),
        ("reqidel ^X-Real-IP", "http-request del-header X-Real-IP -m beg"),
        ("reqdeny ^User-Agent:.*curl", "http-request deny if { req.fhdr(User-Agent) -m reg ^.*curl }"),
        ("reqideny ^User-Agent:\\ .*BadBot", "http-request deny if { req.fhdr(User-Agent) -m reg -i ^.*BadBot }"),
        ("reqallow ^X-Admin:", "http-request allow if { req.fhdr(X-Admin) -m found }"),
        ("reqtarpit ^X-Evil:", "http-request tarpit if { req.fhdr(X-Evil) -m found }"),
        ("rspdel ^Server:", "http-response del-header Server"),
        ("rspidel ^Server:.*", "http-response del-header Server"),
        ("rsprep ^Location:\\ http://(.*) Location:\\ https://\\1",
         "http-response replace-header Location ^http://(.*) https://\\1"),
        ("rspirep ^location:\\ http://(.*) Location:\\ https://\\1",
         "http-response replace-header location (?i)^http://(.*) https://\\1"),
        ("rspideny ^Content-Type:\\ text/x-bad", "http-response deny if { res.fhdr(Content-Type) -m reg -i ^text/x-bad }"),
        ("reqdeny ^X-Bad: if { path /x }", "http-request deny if { req.fhdr(X-Bad) -m found } { path /x }"),
        ("reqdeny ^X-Bad: unless { path /x }", "http-request deny if { req.fhdr(X-Bad) -m found } !{ path /x }"),
        ("reqdeny ^X-Bad:\\ \"quoted\\#\"", "http-request deny if { req.fhdr(X-Bad) -m reg ^quoted\\# }"),
    ],
)
def test_translations(line: str, translation: str) -> None:
    assert one_warning(line) == f"'{L.render_line(split_line(line)[0])}' is {T}{translation}"


@pytest.mark.parametrize(
    "line",
    [
        "reqdeny ^GET\\ /admin",
        "reqrep ^X-Old:(.*) X-New:\\1",
        "reqdeny ^X-Bad: if { path /x } || { path /y }",
        "reqrep X-Foo:\\ (.*) X-Foo:\\ \\1",  # not anchored
        "reqadd NoColonHere",
    ],
)
def test_emulated_when_no_modern_line_is_equivalent(line: str) -> None:
    side = "http-response" if line.startswith("rsp") else "http-request"
    assert one_warning(line) == (
        f"'{L.render_line(split_line(line)[0])}' is deprecated since HAProxy 2.1 and has no exact modern equivalent; "
        f"gproxy emulates it. Use '{side} replace-header', '{side} del-header', '{side} deny' and similar rules instead."
    )


# ------------------------------------------------------------------ behaviour
def test_reqrep_on_a_header_and_on_the_request_line() -> None:
    fe, _ = frontend("    reqirep ^host:\\ (.*)\\.old\\.com Host:\\ \\1.new.com\n"
                     "    reqrep ^([^\\ :]*)\\ /static/(.*) \\1\\ /\\2\n")
    t = txn(fe, "GET", "/static/img/a.png?x", [("host", "www.old.com")])
    R.run_http_request(fe.spec.http_request, t)
    assert (t.req.method, t.req.uri, t.req.headers.get("host")) == ("GET", "/img/a.png?x", "www.new.com")


def test_emulated_request_line_deny_and_header_rename() -> None:
    fe, _ = frontend("    reqdeny ^GET\\ /admin\n    reqrep ^X-Old:(.*) X-New:\\1\n")
    t = txn(fe, "GET", "/admin/x", [])
    assert R.run_http_request(fe.spec.http_request, t).kind == "deny"
    t = txn(fe, "POST", "/admin/x", [("x-old", "v"), ("x-keep", "k")])
    assert R.run_http_request(fe.spec.http_request, t) is None
    assert t.req.headers.items == [("x-new", "v"), ("x-keep", "k")]


def test_emulated_condition_with_or() -> None:
    fe, _ = frontend("    reqdeny ^X-Bad: if { path /x } || { path /y }\n")
    assert R.run_http_request(fe.spec.http_request, txn(fe, "GET", "/y", [("x-bad", "1")])).kind == "deny"
    assert R.run_http_request(fe.spec.http_request, txn(fe, "GET", "/z", [("x-bad", "1")])) is None


def test_response_side() -> None:
    fe, _ = frontend("    rspdel ^Server:\n    rsprep ^Location:\\ http://(.*) Location:\\ https://\\1\n"
                     "    rspideny ^X-Leak:\n")
    t = txn(fe, "GET", "/", [])
    t.rsp = Response(302, "Found", "HTTP/1.1", Headers([("server", "x"), ("location", "http://h/p")]))
    assert R.run_http_response(fe.spec.http_response, t) is None
    assert t.rsp.headers.items == [("location", "https://h/p")]
    t.rsp.headers.add("X-Leak", "1")
    v = R.run_http_response(fe.spec.http_response, t)
    assert (v.kind, v.status) == ("deny", 502)


def test_legacy_rules_run_after_modern_ones_and_adds_last() -> None:
    fe, _ = frontend("    reqadd X-A:\\ legacy\n    reqdel ^X-A:\n    http-request set-header X-A modern\n")
    t = txn(fe, "GET", "/", [])
    R.run_http_request(fe.spec.http_request, t)
    # 1.x order: http-request rules, then the filters (reqdel), then reqadd
    assert t.req.headers.get_all("x-a") == ["legacy"]
    assert [r.action for r in fe.spec.http_request] == ["set-header", "del-header", "add-header"]


def test_refused_in_defaults_as_haproxy_does() -> None:
    _, msgs = parse("defaults\n    reqadd X-Foo:\\ bar\n    rspdel ^Server:\n")
    assert msgs[:2] == [
        ("ALERT: The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' "
        "instead."),
        "ALERT: The 'rspdel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' .",
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("reqadd", "'reqadd' expects <header> as an argument."),
        ("reqrep ^X:", "'reqrep' expects <search> and <replace> as an argument."),
        ("reqdel ^X: foo", "'reqdel' : expects 'if' or 'unless' followed by a condition but found 'foo'."),
        ("reqdeny ^X:(", "'reqdeny' : regex '^X:(' is invalid (error=missing closing parenthesis, erroffset=4)."),
    ],
)
def test_errors(line: str, message: str) -> None:
    _, msgs = parse(HEAD + f"    {line}\n" + TAIL)
    assert next(m for m in msgs if m.startswith("ALERT")) == f"ALERT: {message}"


def test_pass_and_cli_directives_stay_refused() -> None:
    _, msgs = parse(HEAD + "    reqpass ^X:\n" + TAIL)
    assert msgs[0] == "ALERT: The 'reqpass' not supported anymore since HAProxy 2.1."


@pytest.mark.parametrize("word", ["a b", "a#b", "x\\1", "\\ ", "q\"'", "t\\t", "a\tb", "end\\", "\\x41", "$HOME"])
def test_render_word_round_trips_through_the_lexer(word: str) -> None:
    assert split_line(L.render_word(word))[0] == [word]
