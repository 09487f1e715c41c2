"""``http-request set-timeout``, ``early-hint`` and ``disable-l7-retry`` (gproxy.http.rules).

The configuration messages are ``haproxy -c``'s (Debian 2.6.12): ``test_haproxy_says_so``
checks each expected text against the running haproxy when it is installed.  The run-time
tests drive the compiled rules on a transaction: ``set-timeout`` leaves its value in
``txn.t_server``/``txn.t_tunnel`` (seconds; 0: the backend's), ``early-hint`` hands the
header fields of each 103 to ``txn.interim`` in the groups haproxy 2.6.12 sends on the
wire (consecutive rules share a 103 unless a later one has a condition).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from gproxy.config import import_keyword_modules
from gproxy.http import rules as R
from gproxy.http.message import Headers, Request, Txn
from gproxy.session import Session

from .cfgtext import parse_checked as parse

import_keyword_modules()

HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")

HEAD = """defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
"""


def in_backend(line: str) -> str:  # the rule is on line 7
    return HEAD + f"backend be\n    {line}\n    server s1 127.0.0.1:1\n"


def in_frontend(line: str) -> str:  # the rule is on line 8
    return HEAD + f"frontend fe\n    bind 127.0.0.1:1\n    {line}\n    default_backend be\nbackend be\n" \
                  "    server s1 127.0.0.1:1\n"


def _be(what: str) -> str:
    return f"ALERT: error detected in backend 'be' while parsing 'http-request set-timeout' rule : {what}."


def _eh(what: str) -> str:
    return f"ALERT: error detected in frontend 'fe' while parsing 'http-request early-hint' rule : {what}."


#: (config text, the first message haproxy -c prints, without "[LEVEL] (pid) : config : "
#: and "parsing [file:line] : ")
ERRORS = {
    "st-no-args": (in_backend("http-request set-timeout"), _be("expects exactly 2 arguments")),
    "st-one-arg": (in_backend("http-request set-timeout server"), _be("expects exactly 2 arguments")),
    "st-empty-value": (in_backend("http-request set-timeout server ''"), _be("expects exactly 2 arguments")),
    "st-name": (in_backend("http-request set-timeout foo 10s"),
                _be("'set-timeout' rule supports 'server'/'tunnel' (got 'foo')")),
    "st-zero": (in_backend("http-request set-timeout server 0"),
                _be("null value is not valid for a 'set-timeout server' rule")),
    "st-zero-tunnel": (in_backend("http-request set-timeout tunnel 0s"),
                       _be("null value is not valid for a 'set-timeout tunnel' rule")),
    "st-unit": (in_backend("http-request set-timeout server 10x"),
                _be("unexpected character 'x' in rule 'set-timeout server'")),
    "st-upper-unit": (in_backend("http-request set-timeout server 10S"),
                      _be("unexpected character 'S' in rule 'set-timeout server'")),
    "st-negative": (in_backend("http-request set-timeout server -5"),
                    _be("unexpected character '-' in rule 'set-timeout server'")),
    "st-fraction": (in_backend("http-request set-timeout tunnel 0.5"),
                    _be("unexpected character '.' in rule 'set-timeout tunnel'")),
    "st-unknown-fetch": (in_backend("http-request set-timeout server abc"),
                         _be("unexpected character 'a' in rule 'set-timeout server'")),
    "st-bad-converter": (in_backend("http-request set-timeout server req.hdr(x),foo"),
                         _be("unexpected character 'r' in rule 'set-timeout server'")),
    "st-overflow": (in_backend("http-request set-timeout server 3000000000"),
                    _be("timer overflow in argument '3000000000' to rule 'set-timeout server' (maximum value is "
                        "2147483647 ms or ~24.8 days)")),
    "st-overflow-days": (in_backend("http-request set-timeout tunnel 25d"),
                         _be("timer overflow in argument '25d' to rule 'set-timeout tunnel' (maximum value is "
                             "2147483647 ms or ~24.8 days)")),
    "st-extra-word": (in_backend("http-request set-timeout server 1s 2s"),
                      ("ALERT: parsing [t.cfg:7]: 'http-request set-timeout' expects either 'if' or 'unless' "
                      "followed by a condition but found '2s'.")),
    "st-frontend": (in_frontend("http-request set-timeout server 1s"),
                    ("ALERT: error detected in frontend 'fe' while parsing 'http-request set-timeout' rule : proxy "
                    "'fe' has no backend capability.")),
    "st-frontend-bad-name": (in_frontend("http-request set-timeout foo 1s"),
                             ("ALERT: error detected in frontend 'fe' while parsing 'http-request set-timeout' rule : "
                             "proxy 'fe' has no backend capability.")),
    "st-frontend-no-value": (in_frontend("http-request set-timeout server"),
                             ("ALERT: error detected in frontend 'fe' while parsing 'http-request set-timeout' rule : "
                             "expects exactly 2 arguments.")),
    "st-trailing-unit": (in_backend("http-request set-timeout server 10sx"),
                         ("WARNING: unexpected character 'x' after the timer value '10sx', only (us=microseconds,"
                         "ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported "
                         "as an error in next versions.")),
    "eh-no-args": (in_frontend("http-request early-hint"), _eh("expects exactly 2 arguments")),
    "eh-one-arg": (in_frontend("http-request early-hint Link"), _eh("expects exactly 2 arguments")),
    "eh-unknown-fetch": (in_frontend("http-request early-hint Link %[foo]"),
                         _eh("failed to parse sample expression <foo]> : unknown fetch method 'foo'")),
    "eh-response-fetch": (in_frontend("http-request early-hint Link %[res.hdr(x)]"),
                          _eh("sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP "
                              "response headers' which is not available here")),
    "eh-extra-word": (in_frontend("http-request early-hint Link a b"),
                      ("ALERT: parsing [t.cfg:8]: 'http-request early-hint' expects either 'if' or 'unless' followed "
                      "by a condition but found 'b'.")),
    "l7-extra-word": (in_frontend("http-request disable-l7-retry foo"),
                      ("ALERT: parsing [t.cfg:8]: 'http-request disable-l7-retry' expects either 'if' or 'unless' "
                      "followed by a condition but found 'foo'.")),
}

#: configurations haproxy -c accepts without a word
VALID = {
    "st-micro": in_backend("http-request set-timeout server 10us"),
    "st-max": in_backend("http-request set-timeout server 2147483647"),
    "st-expr": in_backend("http-request set-timeout server int(500)"),
    "st-expr-converter": in_backend("http-request set-timeout server req.hdr(x-t),mul(2)"),
    "st-response-fetch": in_backend("http-request set-timeout server res.hdr(x)"),  # no place check
    "st-string": in_backend("http-request set-timeout server str(abc)"),
    "st-cond": in_backend("http-request set-timeout server 1s unless { path /x }"),
    "st-listen-tunnel": HEAD + "listen li\n    bind 127.0.0.1:1\n    http-request set-timeout tunnel 1s\n"
                               "    server s1 127.0.0.1:1\n",
    "eh": in_frontend("http-request early-hint Link \"</a.js>; rel=preload\" if { path /x }"),
    "eh-backend": in_backend("http-request early-hint Link <%[path]>"),
    "l7": in_frontend("http-request disable-l7-retry"),
    "l7-cond": in_backend("http-request disable-l7-retry if { path /x }"),
}


@pytest.mark.parametrize("key", list(ERRORS))
def test_errors(key: str) -> None:
    text, message = ERRORS[key]
    _, msgs = parse(text)
    assert msgs[0] == message


@pytest.mark.parametrize("key", list(VALID))
def test_valid(key: str) -> None:
    _, msgs = parse(VALID[key])
    assert [m for m in msgs if m.startswith(("ALERT", "WARNING"))] == []


def test_trailing_unit_warning_keeps_the_value() -> None:
    model, msgs = parse(ERRORS["st-trailing-unit"][0])
    assert [m for m in msgs if m.startswith("ALERT")] == []
    txn = _txn(model.proxies[0])
    R.run_http_request(model.proxies[0].http_request, txn)
    assert txn.t_server == 10.0


def test_not_in_the_unimplemented_list() -> None:
    for action in ("set-timeout", "early-hint", "disable-l7-retry"):
        assert action in R.ACTIONS["http-request"]
        assert action not in R.UNIMPLEMENTED["http-request"]
        assert action not in R.ACTIONS["http-response"]


def test_response_rules_do_not_have_them() -> None:
    _, msgs = parse(in_backend("http-response set-timeout server 1s"))
    assert msgs[0].startswith("ALERT: parsing [t.cfg:7]: 'http-response' expects ")
    assert ", but got 'set-timeout'." in msgs[0]


def _haproxy_first_message(text: str, tmp_path) -> str:
    (tmp_path / "t.cfg").write_text(text)
    out = subprocess.run([HAPROXY, "-c", "-f", "t.cfg"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL, check=False)
    for line in (out.stdout + out.stderr).splitlines():
        m = re.match(r"\[(ALERT|WARNING)\]\s+\(\d+\) : config : (?:parsing \[t\.cfg:\d+\] : )?(.*)", line)
        if m:
            return f"{m.group(1)}: {m.group(2)}"
    return ""


@pytest.mark.skipif(HAPROXY is None, reason="needs haproxy")
@pytest.mark.parametrize("key", [*ERRORS, *VALID])
def test_haproxy_says_so(key: str, tmp_path) -> None:
    if key in ERRORS:
        text, message = ERRORS[key]
    else:
        text, message = VALID[key], ""
    assert _haproxy_first_message(text, tmp_path) == message


# ------------------------------------------------------------------ run time
class Fe:
    def __init__(self, spec: object) -> None:
        self.spec = spec
        self.name = getattr(spec, "name", "fe")
        self.id = 1
        self.process = None


def _txn(spec: object, uri: str = "/", version: str = "HTTP/1.1", headers: tuple = ()) -> Txn:
    sess = Session(Fe(spec), None, ("127.0.0.1", 40000), ("127.0.0.1", 8080))
    return Txn(sess, Request("GET", uri, version, Headers(list(headers))))


def _rules(lines: str, section: str = "backend be") -> tuple[object, list]:
    model, msgs = parse(HEAD + f"{section}\n" + lines + "    server s1 127.0.0.1:1\n")
    assert [m for m in msgs if m.startswith(("ALERT", "WARNING"))] == []
    spec = model.proxies[-1]
    return spec, spec.http_request


def test_set_timeout_values() -> None:
    spec, rules = _rules(
        "    http-request set-timeout server 300ms if { path /fixed }\n"
        "    http-request set-timeout tunnel 2s if { path /fixed }\n"
        "    http-request set-timeout server req.hdr(x-t) if { path /hdr }\n"
        "    http-request set-timeout tunnel req.hdr(x-t),mul(2) if { path /hdr }\n"
        "    http-request set-timeout server 300 if { path /twice }\n"
        "    http-request set-timeout server int(0) if { path /twice }\n"
    )
    t = _txn(spec, "/fixed")
    R.run_http_request(rules, t)
    assert (t.t_server, t.t_tunnel) == (0.3, 2.0)

    t = _txn(spec, "/none")
    R.run_http_request(rules, t)
    assert (t.t_server, t.t_tunnel) == (0.0, 0.0)  # the backend's timeouts

    def hdr(value: str | None) -> tuple[float, float]:
        t = _txn(spec, "/hdr", headers=(("x-t", value),) if value is not None else ())
        R.run_http_request(rules, t)
        return t.t_server, t.t_tunnel

    assert hdr("1500") == (1.5, 3.0)
    assert hdr(None) == (0.0, 0.0)  # no sample: nothing changes
    assert hdr("") == (0.0, 0.0)  # an empty string does not cast to an integer
    assert hdr("abc") == (0.0, 0.0)  # cast to 0: unset, the backend's again
    assert hdr("-1") == (-0.001, -0.002)  # already expired
    assert hdr("3000000000") == (-1294967.296, 1705032.704)  # stored in a C int, wrapping
    assert hdr("4294967896") == (0.6, 1.2)
    t = _txn(spec, "/twice")
    R.run_http_request(rules, t)
    assert t.t_server == 0.0  # a later 0 gives the backend's timeout back


def test_set_timeout_in_a_named_defaults_section() -> None:
    model, msgs = parse(HEAD.replace("defaults", "defaults d", 1)
                        + "    http-request set-timeout server 250ms\nbackend be from d\n    server s1 127.0.0.1:1\n")
    assert [m for m in msgs if m.startswith("ALERT")] == []
    be = model.proxies[-1]
    t = _txn(be)
    R.run_http_request(be.http_request, t)
    assert t.t_server == 0.25


def _hints(rules: list, txn: Txn) -> list[list[tuple[str, str]]]:
    sent: list[list[tuple[str, str]]] = []
    txn.interim = lambda items: sent.append(list(items))
    R.run_http_request(rules, txn)
    return sent


EH_RULES = (
    "    http-request early-hint Link </style.css> if { path_beg /one }\n"
    "    http-request early-hint Link </a.js> if { path_beg /two }\n"
    "    http-request early-hint X-Src %[src] if { path_beg /two }\n"
    "    http-request set-header x-after yes\n"
    "    http-request early-hint link <%[path]> if { path_beg /three }\n"
    "    http-request early-hint Link </f.js> if { path_beg /four/a }\n"
    "    http-request early-hint Link </g.js> if { path_beg /four/b }\n"
    "    http-request early-hint Link </h.js> if { path_beg /four/a }\n"
    "    http-request early-hint Link a1 if { path_beg /five }\n"
    "    http-request early-hint Link a2\n"
    "    http-request early-hint X-Foo a3\n"
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # what haproxy 2.6.12 sends for the same rules (one list per 103)
        ("/one", [[("link", "</style.css>")], [("link", "a2"), ("x-foo", "a3")]]),
        ("/two", [[("link", "</a.js>")], [("x-src", "127.0.0.1")], [("link", "a2"), ("x-foo", "a3")]]),
        ("/three", [[("link", "</three>")], [("link", "a2"), ("x-foo", "a3")]]),
        ("/four/a", [[("link", "</f.js>")], [("link", "</h.js>")], [("link", "a2"), ("x-foo", "a3")]]),
        ("/four/b", [[("link", "</g.js>")], [("link", "a2"), ("x-foo", "a3")]]),
        ("/five", [[("link", "a1"), ("link", "a2"), ("x-foo", "a3")]]),
    ],
)
def test_early_hint_groups(path: str, expected: list) -> None:
    spec, rules = _rules(EH_RULES)
    txn = _txn(spec, path)
    assert _hints(rules, txn) == expected
    assert "_early_hints" not in txn.extra
    assert txn.req.headers.get_all("x-after") == ["yes"]


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/0.9"])
def test_no_early_hint_for_http10(version: str) -> None:
    spec, rules = _rules(EH_RULES)
    assert _hints(rules, _txn(spec, "/five", version)) == []


def test_early_hint_needs_an_engine() -> None:
    spec, rules = _rules(EH_RULES)
    txn = _txn(spec, "/five")  # no interim sender: nothing is sent, the rules go on
    assert R.run_http_request(rules, txn) is None
    assert txn.req.headers.get_all("x-after") == ["yes"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("early-hint Link a;early-hint Link b", [["a", "b"]]),
        ("early-hint Link a;early-hint Link b if TRUE", [["a"], ["b"]]),
        ("early-hint Link a if TRUE;early-hint Link b", [["a", "b"]]),
        ("early-hint Link a if FALSE;early-hint Link b", [["b"]]),
        ("early-hint Link a;early-hint Link b if FALSE", [["a"]]),
        ("early-hint Link a;early-hint Link b if", [["a"]]),  # an empty condition is false
        ("early-hint Link a;early-hint Link b;deny", [["a", "b"]]),
        ("early-hint Link a;set-header x y;early-hint Link b", [["a"], ["b"]]),
    ],
)
def test_early_hint_series_as_haproxy(lines: str, expected: list) -> None:
    spec, rules = _rules("".join(f"    http-request {x}\n" for x in lines.split(";")))
    assert [[v for _, v in hint] for hint in _hints(rules, _txn(spec))] == expected


def test_early_hint_series_end_with_each_rule_list() -> None:
    """Named defaults rules, a frontend's and a backend's are separate lists in haproxy:
    a 103 never spans two of them (checked on the wire against haproxy 2.6.12)."""
    model, msgs = parse(
        "defaults d\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"
        "    http-request early-hint Link d1\n    http-request early-hint Link d2\n"
        "frontend fe from d\n    bind 127.0.0.1:1\n    http-request early-hint Link f1\n"
        "    http-request early-hint Link f2\n    default_backend be\n"
        "frontend fe2 from d\n    bind 127.0.0.1:2\n    default_backend be\n"
        + HEAD.replace("defaults", "defaults d2", 1)
        + "backend be from d2\n    http-request early-hint Link b1\n    server s1 127.0.0.1:1\n"
    )
    assert [m for m in msgs if m.startswith(("ALERT", "WARNING"))] == []
    by_name = {p.name: p for p in model.proxies}
    fe, fe2, be = by_name["fe"], by_name["fe2"], by_name["be"]
    txn = _txn(fe)
    sent = _hints(fe.http_request, txn)
    sent += _hints(be.http_request, txn)
    assert [[v for _, v in h] for h in sent] == [["d1", "d2"], ["f1", "f2"], ["b1"]]
    assert [[v for _, v in h] for h in _hints(fe2.http_request, _txn(fe2))] == [["d1", "d2"]]


def test_disable_l7_retry_does_nothing() -> None:
    spec, rules = _rules("    http-request disable-l7-retry\n    http-request set-header x y\n")
    txn = _txn(spec)
    assert R.run_http_request(rules, txn) is None
    assert txn.req.headers.get_all("x") == ["y"]
    assert (txn.t_server, txn.t_tunnel, txn.extra) == (0.0, 0.0, {})


def test_set_timeout_samples_that_are_not_there_yet() -> None:
    """haproxy accepts response fetches here (no place check): at request time they give
    nothing, so nothing changes; a path casts to 0 (the backend's timeout)."""
    spec, rules = _rules("    http-request set-timeout server res.hdr(x)\n    http-request set-timeout tunnel path\n")
    t = _txn(spec, "/500")
    R.run_http_request(rules, t)
    assert (t.t_server, t.t_tunnel) == (0.0, 0.0)
