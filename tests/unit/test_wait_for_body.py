"""``http-request wait-for-body`` / ``http-response wait-for-body`` (gproxy.http.rules) and
the ``res.body``, ``res.body_len``, ``res.body_size`` fetches (gproxy.http.sample, body).

Error and warning texts are ``haproxy -c``'s (2.6.12) for the same lines; the response
body values are what ``http-response set-header x-len %[res.body_len]/%[res.body_size]``
gave behind haproxy 2.6.12 (tests/integration/test_wait_for_body.py replays them on both
proxies).
"""

from __future__ import annotations

import pytest

from gproxy.config import import_keyword_modules
from gproxy.config.parser import Parser
from gproxy.http import acl as A
from gproxy.http import body as B
from gproxy.http import rules as R
from gproxy.http import sample as S
from gproxy.http.message import Headers, Request, Response, Txn
from gproxy.session import Session

from .cfgtext import HTTP_HEAD
from .cfgtext import parse_checked as parse

import_keyword_modules()

FE = "frontend fe\n    bind 127.0.0.1:27461\n"


def rules_of(lines: str) -> tuple[object, list[str]]:
    model, msgs = parse(HTTP_HEAD + FE + lines)
    return (model.proxies[0] if model.proxies else None), msgs


# ------------------------------------------------------------------ parsing
ERR = "ALERT: error detected in frontend 'fe' while parsing '{rs} wait-for-body' rule : {err}."


@pytest.mark.parametrize(("args", "err"), [
    ("", "expects time <time> [ at-least <bytes> ]"),
    ("time", "missing argument for 'time'"),
    ("time ''", "missing argument for 'time'"),
    ("at-least 10", "expects time <time> [ at-least <bytes> ]"),
    ("foo", "expects time <time> [ at-least <bytes> ]"),
    ("time 1x", "unexpected character 'x'"),
    ("time -1", "unexpected character '-'"),
    ("time if", "unexpected character 'i'"),
    ("time 99999999999", "time overflow (maximum value is 2147483647 ms or ~24.8 days)"),
    ("time 4294967296", "time overflow (maximum value is 2147483647 ms or ~24.8 days)"),
    ("time 1s at-least", "missing argument for 'at-least'"),
    ("time 1s at-least ''", "missing argument for 'at-least'"),
    ("time 1s at-least 10q", "unexpected character 'q'"),
    ("time 1s at-least 1kb", "unexpected character 'b'"),
    ("time 1s at-least -1", "unexpected character '-'"),
    ("time 1s at-least 5000000000", "unexpected character '0'"),   # the digit that overflows
    ("time 1s at-least 4g", "unexpected character 'g'"),           # the suffix that overflows
])
@pytest.mark.parametrize("ruleset", ["http-request", "http-response"])
def test_argument_errors(ruleset: str, args: str, err: str) -> None:
    _, msgs = rules_of(f"    {ruleset} wait-for-body {args}\n")
    assert ERR.format(rs=ruleset, err=err) in msgs, msgs


def test_argument_errors_name_file_and_line() -> None:
    p = Parser()
    p.parse_text(HTTP_HEAD + FE + "    http-request wait-for-body time 1s at-least 2x\n", "t.cfg")
    text = [m.render(pid=0) for m in p.diag.messages]
    assert any("parsing [t.cfg:8] : error detected in frontend 'fe' while parsing 'http-request wait-for-body' "
               "rule : unexpected character 'x'." in t for t in text), text


def test_trailing_words_and_conditions() -> None:
    _, msgs = rules_of("    http-request wait-for-body time 1s at-least 1k foo\n")
    assert msgs == [("ALERT: parsing [t.cfg:8]: 'http-request wait-for-body' expects either 'if' or 'unless' "
                    "followed by a condition but found 'foo'.")]
    px, msgs = rules_of("    http-request wait-for-body time 1s at-least 1k if { path /x }\n"
                        "    http-response wait-for-body time 1s unless { status 204 }\n")
    assert msgs == []
    assert [r.action for r in px.http_request] == ["wait-for-body"]
    assert px.http_request[0].cond is not None and not px.http_request[0].final
    assert [r.action for r in px.http_response] == ["wait-for-body"]


@pytest.mark.parametrize("args", ["time 0", "time 1us", "time 1s time 2s", "time 1s at-least 3G",
                                  "at-least 0 time 10m", "time 1s if"])
def test_accepted_forms(args: str) -> None:
    px, msgs = rules_of(f"    http-request wait-for-body {args}\n")
    assert msgs == [] and px.http_request[0].action == "wait-for-body"


def test_text_after_the_time_unit_is_a_warning_without_location() -> None:
    _, msgs = rules_of("    http-response wait-for-body time 10sx\n")
    assert msgs == [("WARNING: unexpected character 'x' after the timer value '10sx', only "
                    "(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. "
                    "This will be reported as an error in next versions.")]


def test_not_an_http_after_response_action() -> None:
    _, msgs = rules_of("    http-after-response wait-for-body time 1s\n")
    assert len(msgs) == 1 and msgs[0].startswith("ALERT: parsing [t.cfg:8]: 'http-after-response' expects ")
    assert msgs[0].endswith("but got 'wait-for-body'.")


# ------------------------------------------------------------------ running
class Fe:
    def __init__(self, spec: object) -> None:
        self.spec = spec
        self.name = "fe"
        self.id = 1
        self.process = None


def post(body: bytes, cl: int | None = None) -> Request:
    r = Request("POST", "/", "HTTP/1.1", Headers([("host", "x"), ("content-length", str(len(body)))]))
    r.body_len = len(body) if cl is None else cl
    return r


@pytest.mark.parametrize(("args", "side", "time_ms", "at_least"), [
    ("time 1s", "req", 1000, 0),
    ("time 1500 at-least 1k", "req", 1500, 1024),
    ("at-least 10 time 1us", "req", 1, 10),
    ("time 0", "req", 0, 0),
    ("time 1s time 2s", "req", 2000, 0),
])
def test_the_rule_asks_the_engine(args: str, side: str, time_ms: int, at_least: int) -> None:
    px, _ = rules_of(f"    http-request wait-for-body {args}\n")
    txn = Txn(Session(Fe(px), None, ("127.0.0.1", 40000), ("127.0.0.1", 27461)), post(b"abc", 10))
    calls: list[tuple[object, ...]] = []
    txn.waiter = lambda t, s, tm, al: calls.append((t, s, tm, al))
    assert R.run_http_request(px.http_request, txn) is None
    assert calls == [(txn, side, time_ms, at_least)]
    txn.waiter = None  # no engine (e.g. a unit test, mode tcp): nothing to wait for
    assert R.run_http_request(px.http_request, txn) is None


def test_rules_before_do_not_see_the_body_rules_after_do() -> None:
    px, msgs = rules_of(
        "    http-request set-header x-before %[req.body_len]\n"
        "    http-request wait-for-body time 1s\n"
        "    http-request set-header x-after %[req.body_len]/%[req.body_size]\n"
        "    http-request set-header x-body %[req.body]\n")
    assert msgs == []
    txn = Txn(Session(Fe(px), None, ("127.0.0.1", 40000), ("127.0.0.1", 27461)), post(b"a=1", 7))
    txn.extra["req_body"] = b"a=1"

    def waiter(t: Txn, side: str, time_ms: int, at_least: int) -> None:
        t.extra["req_body"] = b"a=1&b=2"  # what the engine read meanwhile

    txn.waiter = waiter
    assert R.run_http_request(px.http_request, txn) is None
    h = txn.req.headers
    assert (h.get("x-before"), h.get("x-after"), h.get("x-body")) == ("3", "7/7", "a=1&b=2")


def test_a_verdict_from_the_engine_ends_the_rules() -> None:
    px, _ = rules_of("    http-response wait-for-body time 1s\n    http-response set-header x-after yes\n")
    txn = Txn(Session(Fe(px), None, ("127.0.0.1", 40000), ("127.0.0.1", 27461)), post(b""))
    txn.rsp = Response(200, "OK", "HTTP/1.1", Headers([("content-length", "20")]))
    gave_up = R.Verdict("wait-abort", 504)
    txn.waiter = lambda t, s, tm, al: gave_up if s == "res" else None
    assert R.run_http_response(px.http_response, txn) is gave_up
    assert txn.rsp.headers.get("x-after") is None


# ------------------------------------------------------------------ res.body fetches
def rsp(headers, status=200, reason="OK", chunked=False, cl=None) -> Response:
    r = Response(status, reason, "HTTP/1.1", Headers(list(headers)))
    r.chunked = chunked
    r.body_len = cl
    return r


def res_txn(r: Response | None, raw: bytes | None, held_for: Response | None = None) -> Txn:
    t = Txn(None, Request("GET", "/", "HTTP/1.1", Headers([("host", "x")])))
    t.rsp = r
    if r is not None:
        t.extra["res_body"] = (held_for or r, raw)
    return t


def ev(text: str, t: Txn | None):
    expr, _ = S.parse_expr_text(text)
    return expr.eval(None, t)


def test_response_room_matches_haproxy_buffer() -> None:
    # haproxy 2.6.12, tune.bufsize 16384: x-len for a 40000-byte body sent at once
    assert B.room_for(rsp([("content-length", "40000")], cl=40000)) == 15227
    assert B.room_for(rsp([("transfer-encoding", "chunked")], chunked=True)) == 15214
    assert B.room_for(rsp([])) == 15254  # until the server closes


@pytest.mark.parametrize(("r", "raw", "expected"), [
    (rsp([("content-length", "11")], cl=11), b"hello", (b"hello", 5, 11)),
    (rsp([("content-length", "11")], cl=11), b"hello world", (b"hello world", 11, 11)),
    (rsp([("content-length", "40000")], cl=40000), b"a" * 40000, (b"a" * 15227, 15227, 40000)),
    (rsp([("transfer-encoding", "chunked")], chunked=True), b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
     (b"hello world", 11, 11)),
    (rsp([("transfer-encoding", "chunked")], chunked=True), b"5\r\nhello\r\n6\r\n wo", (b"hello wo", 8, 11)),
    (rsp([("transfer-encoding", "chunked")], chunked=True),
     b"".join(b"3e8\r\n" + b"a" * 1000 + b"\r\n" for _ in range(40)) + b"0\r\n\r\n",
     (b"a" * 15214, 15214, 16000)),
    (rsp([]), b"until close", (b"until close", 11, 11)),
    (rsp([]), b"a" * 40000, (b"a" * 15254, 15254, 15254)),
    (rsp([("content-length", "11")], cl=11), None, (b"", 0, 0)),      # HEAD, 204, 304: no body
])
def test_response_body_fetches(r: Response, raw: bytes | None, expected: tuple[bytes, int, int]) -> None:
    t = res_txn(r, raw)
    assert (ev("res.body", t), ev("res.body_len", t), ev("res.body_size", t)) == expected


def test_response_body_fetches_without_a_held_body() -> None:
    assert ev("res.body", res_txn(None, None)) is None            # no response yet
    assert ev("res.body_len", None) is None                       # no HTTP transaction
    served = rsp([("content-length", "5")], cl=5)
    generated = rsp([("content-length", "107")], status=502, reason="Bad Gateway", cl=107)
    t = res_txn(generated, b"hello", held_for=served)              # held for another response
    assert (ev("res.body", t), ev("res.body_len", t), ev("res.body_size", t)) == (b"", 0, 0)


def test_response_body_fetch_follows_new_bytes_and_acls() -> None:
    r = rsp([("content-length", "14")], cl=14)
    t = res_txn(r, b"this is")
    acl = A.parse_acl_expr(["res.body", "-m", "sub", "secret"])
    assert not acl.match(None, t)
    t.extra["res_body"] = (r, b"this is secret")  # what http-response wait-for-body read
    assert acl.match(None, t) and ev("res.body_len", t) == 14
    assert A.parse_acl_expr(["res.body_size", "eq", "14"]).match(None, t)


def test_response_fetches_only_on_the_response_side() -> None:
    for name in ("res.body", "res.body_len", "res.body_size"):
        f = S.FETCHES[name]
        assert f.out == (S.T_BIN if name == "res.body" else S.T_SINT)
        expr, _, _ = S.parse_expr([name], 0)
        assert S.check_places(expr, [S.FE_HRQ]) == "HTTP response headers"
        assert S.check_places(expr, [S.BE_HRS]) is None and S.check_places(expr, [S.FE_HRS]) is None
