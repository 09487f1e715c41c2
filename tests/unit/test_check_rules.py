"""Check rule sets, HTTP check requests/responses and expect matching (gproxy.checks.rules).

Request bytes and messages were captured from HAProxy 2.6.12 (a Python server recording
what its checks send; ``haproxy -c`` for parse errors).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gproxy.checks import rules as R
from gproxy.config.model import CheckRule, Proxy


def entries(*lines: str) -> list[CheckRule]:
    out = []
    for line in lines:
        words = line.split()
        out.append(CheckRule(words[0], words[1:]))
    return out


def request(*http_lines: str, state: str | None = None, close_mode: bool = False) -> bytes:
    """The request bytes of the first send rule of an httpchk rule set."""
    px = Proxy("backend", "b")
    px.check_kind = "httpchk"
    px.http_checks = entries(*http_lines)
    rs = R.build_ruleset(px)
    send = next(r for r in rs.rules if r.action == R.SEND)
    assert send.http is not None
    return R.http_request(send.http, state, close_mode)


# ------------------------------------------------------------------ HTTP request bytes
@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["option"], b"OPTIONS / HTTP/1.0\r\n\r\n"),
        (["option GET /health HTTP/1.1"], b"GET /health HTTP/1.1\r\nconnection: close\r\n\r\n"),
        (["option /onlyuri"], b"OPTIONS /onlyuri HTTP/1.0\r\n\r\n"),
        (["option GET /x HTTP/2.0"], b"GET /x HTTP/1.1\r\nconnection: close\r\n\r\n"),
        (["option GET http://foo.bar:81/x?y=1 HTTP/1.1"],
         b"GET http://foo.bar:81/x?y=1 HTTP/1.1\r\nconnection: close\r\n\r\n"),
        (["option", "send hdr Connection keep-alive hdr Foo-Bar baz"],
         b"OPTIONS / HTTP/1.0\r\nfoo-bar: baz\r\nconnection: keep-alive\r\n\r\n"),
        (["option HEAD /h HTTP/1.0", "send body abc hdr content-length 7"],
         b"HEAD /h HTTP/1.0\r\ncontent-length: 3\r\n\r\nabc"),
        (["option HEAD /x HTTP/1.1", "send hdr Connection keep-alive"], b"HEAD /x HTTP/1.1\r\n\r\n"),
        (["option", "send meth POST uri /x ver HTTP/1.1 hdr Host example.com hdr X-A b body hello"],
         b"POST /x HTTP/1.1\r\nhost: example.com\r\nx-a: b\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello"),
        # 'http-check send' before 'option httpchk': the option overwrites method/uri, keeps headers
        (["send meth HEAD", "option GET /c"], b"GET /c HTTP/1.0\r\n\r\n"),
        (["send meth HEAD hdr X-A 1", "option GET /d"], b"GET /d HTTP/1.0\r\nx-a: 1\r\n\r\n"),
        # an unknown method (case matters) gets content-length: 0
        (["option get /lower HTTP/1.1"], b"get /lower HTTP/1.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
        (["option POST /p"], b"POST /p HTTP/1.0\r\ncontent-length: 0\r\n\r\n"),
    ],
)
def test_http_request_bytes(lines: list[str], expected: bytes) -> None:
    assert request(*lines) == expected


def test_http_request_hidden_headers_in_version() -> None:
    rule, warn = R.httpchk_request(["get", "/lower", "HTTP/1.1\r\nHost: www\r\nX-Y: z"])
    assert warn is not None and warn.startswith("hiding headers or body")
    assert rule.http is not None
    assert R.http_request(rule.http) == (
        b"get /lower HTTP/1.1\r\nhost: www\r\nx-y: z\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )


def test_http_request_send_state_header() -> None:
    state = "UP 1/3; address=127.0.0.1; port=19001; name=be3/s3; node=vm; weight=1/1; scur=0/0; qcur=0"
    got = request("option", "send meth POST uri /x ver HTTP/1.1 hdr Host example.com hdr X-A b body hello",
                  state=state)
    assert got == (
        b"POST /x HTTP/1.1\r\nhost: example.com\r\nx-a: b\r\nx-haproxy-server-state: " + state.encode()
        + b"\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello"
    )


def test_http_request_close_mode_keeps_11_close() -> None:
    assert request("option GET / HTTP/1.1", close_mode=True) == b"GET / HTTP/1.1\r\nconnection: close\r\n\r\n"
    # a Connection header without close/keep-alive follows the backend's http mode
    got = request("option GET / HTTP/1.0", "send hdr Connection foo", close_mode=False)
    assert got == b"GET / HTTP/1.0\r\nconnection: foo\r\nconnection: keep-alive\r\n\r\n"


# ------------------------------------------------------------------ rule sets
def test_plain_check_is_an_implicit_connect() -> None:
    rs = R.build_ruleset(Proxy("backend", "b"))
    assert rs.proto == R.PROTO_DEFAULT
    assert [(r.action, r.implicit, r.step()) for r in rs.rules] == [("connect", True, 0)]


def test_tcp_check_steps_and_comments() -> None:
    px = Proxy("backend", "b")
    px.check_kind = "tcp-check"
    px.tcp_checks = [
        CheckRule("comment", ["my comment"]),
        CheckRule("send", ["PING\r\n"]),
        CheckRule("expect", ["string", "PONGX", "comment", "expect cmt"]),
    ]
    rs = R.build_ruleset(px)
    assert rs.proto == R.PROTO_TCP
    assert [(r.action, r.step(), r.comment) for r in rs.rules] == [
        ("connect", 0, None),
        ("send", 2, "my comment"),
        ("expect", 3, "expect cmt"),
    ]


def test_comment_applies_to_following_rules_of_one_kind() -> None:
    px = Proxy("backend", "b")
    px.check_kind = "tcp-check"
    px.tcp_checks = entries("connect", "comment c1", "send a", "send b", "expect string x", "comment c2",
                            "connect port 80")
    rs = R.build_ruleset(px)
    assert [(r.action, r.comment) for r in rs.rules] == [
        ("connect", None), ("send", "c1"), ("send", "c1"), ("expect", None), ("connect", "c2"),
    ]


def test_httpchk_rules_implicit_connect_and_expect() -> None:
    px = Proxy("backend", "b")
    px.check_kind = "httpchk"
    px.http_checks = entries("option")
    rs = R.build_ruleset(px)
    assert [r.action for r in rs.rules] == ["connect", "send", "expect"]
    assert rs.rules[2].codes == [(200, 399)]


def test_httpchk_send_merges_after_connect() -> None:
    # 'http-check connect' then 'expect' directly is rejected (haproxy -c agrees); with a
    # send in between, the option's request is merged into it
    with pytest.raises(R.RuleError, match=r"expect rule at step 2 \(missing send rule\)"):
        R.http_rules(entries("option GET /a", "connect port 8080", "expect status 200"))
    px = Proxy("backend", "b")
    px.check_kind = "httpchk"
    px.http_checks = entries("option GET /a", "connect port 8080", "send hdr x y", "expect status 200")
    rs = R.build_ruleset(px)
    assert [r.action for r in rs.rules] == ["connect", "send", "expect"]
    assert rs.rules[0].port == 8080 and not rs.rules[0].implicit
    assert rs.rules[1].http is not None
    assert R.http_request(rs.rules[1].http) == b"GET /a HTTP/1.0\r\nx: y\r\n\r\n"


def test_inherited_httpchk_with_own_expect_sends_nothing() -> None:
    # defaults: option httpchk; backend: http-check expect status 200 (HAProxy sends no request)
    px = Proxy("backend", "b")
    px.check_kind = "httpchk"
    px.http_checks = entries("active", "expect status 200")
    rs = R.build_ruleset(px)
    assert [r.action for r in rs.rules] == ["connect", "expect"]


def test_redis_and_mysql_rule_sets() -> None:
    px = Proxy("backend", "b")
    px.check_kind = "redis-check"
    rs = R.build_ruleset(px)
    assert [(r.action, r.step()) for r in rs.rules] == [("connect", 0), ("send", 1), ("expect", 2)]
    assert rs.rules[1].data == b"*1\r\n$4\r\nPING\r\n"
    px.check_kind = "mysql-check"
    px.check_args = ["user", "haproxy"]
    rs = R.build_ruleset(px)
    assert [(r.action, r.step()) for r in rs.rules] == [("connect", 1), ("send", 2), ("expect", 3), ("expect", 4)]


def test_mysql_auth_packets() -> None:
    # captured from HAProxy 2.6: option mysql-check user haproxy (post-41)
    assert R.mysql_user_packet("haproxy", False).hex() == (
        "290000010082000000800001210000000000000000000000000000000000000000000000686170726f787900000100000001"
    )
    assert R.mysql_user_packet("haproxy", True).hex() == "0e000001008000000168617072" + "6f78790000" + "0100000001"


def test_expect_chain_resumes_at_first_inverse() -> None:
    px = Proxy("backend", "b")
    px.check_kind = "tcp-check"
    px.tcp_checks = entries("send x", "expect ! string ERR", "expect string OK", "expect string K")
    rs = R.build_ruleset(px)
    heads = [r.head for r in rs.rules if r.action == R.EXPECT]
    assert heads == [2, 2, 2]


# ------------------------------------------------------------------ parse errors (haproxy -c)
@pytest.mark.parametrize(
    ("kw", "args", "message"),
    [
        ("tcp-check", ["foo"], ("'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', "
         "'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'foo'")),
        ("tcp-check", ["connect", "port"],
         "'tcp-check connect' : 'port' expects a port number or a sample expression as argument.."),
        ("tcp-check", ["connect", "port", "0"], ("'tcp-check connect' : expects a valid TCP port (from range 1 to "
         "65535) or a sample expression, got 0..")),
        ("tcp-check", ["connect", "port", "abc"], ("'tcp-check connect' : error detected while parsing port "
         "expression : unknown fetch method 'abc'.")),
        ("tcp-check", ["connect", "foo"], ("'tcp-check connect' : expects 'comment', 'port', 'addr', 'send-proxy', "
         "'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got 'foo' as argument..")),
        ("tcp-check", ["connect", "addr"], "'tcp-check connect' : 'addr' expects <ipv4|ipv6> as argument.."),
        ("tcp-check", ["send"], "'tcp-check send' : 'string' expects a send as argument."),
        ("tcp-check", ["send-binary"], "'tcp-check send-binary' : 'binary string' expects a send-binary as argument."),
        ("tcp-check", ["send-binary", "zz"], ("'tcp-check send-binary' : 'zz' invalid binary string (an hex digit "
         "is expected (found 'z')).\n.")),
        ("tcp-check", ["send-binary", "abc"], ("'tcp-check send-binary' : 'abc' invalid binary string (an even "
         "number of hex digit is expected).\n.")),
        ("tcp-check", ["send", "x", "foo"], "'tcp-check send' : expects 'comment' but got 'foo' as argument.."),
        ("tcp-check", ["expect"], "'tcp-check expect' : expects at least a matching pattern as arguments."),
        ("tcp-check", ["expect", "foo"], ("'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', "
         "'[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got 'foo' as argument..")),
        ("tcp-check", ["expect", "string"], "'tcp-check expect' : 'string' expects a <pattern> as argument."),
        ("tcp-check", ["expect", "status", "200"], ("'tcp-check expect' : 'only supports min-recv, '[!]binary', "
         "'[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got 'status' as "
         "argument..")),
        ("tcp-check", ["expect", "string", "a", "string", "b"], "'tcp-check expect' : only on pattern expected."),
        ("tcp-check", ["expect", "!", "min-recv", "3", "string", "a"],
         "'tcp-check expect' : [!] not supported with 'min-recv'."),
        ("tcp-check", ["expect", "binary", "zz"],
         "'tcp-check expect' : invalid binary string (an hex digit is expected (found 'z'))."),
        ("tcp-check", ["expect", "string", "a", "ok-status", "FOO"], ("'tcp-check expect' : 'ok-status' only "
         "supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got 'FOO')..")),
        ("tcp-check", ["expect", "string", "a", "error-status", "FOO"], ("'tcp-check expect' : 'error-status' only "
         "supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got 'FOO')..")),
        ("tcp-check", ["expect", "string", "a", "tout-status", "FOO"], ("'tcp-check expect' : 'tout-status' only "
         "supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got 'FOO')..")),
        ("tcp-check", ["comment"], "'tcp-check comment' : expects a string as argument."),
        ("http-check", ["expect", "binary", "00"], ("'http-check expect' : 'only supports min-recv, [!]string', "
         "'[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got 'binary' as "
         "argument..")),
        ("http-check", ["expect", "status", "2x0"],
         "'http-check expect' : invalid character 'x' in the list of status codes."),
        ("http-check", ["expect", "status", "300-200"],
         "'http-check expect' : invalid range of status codes '300-200'."),
        ("http-check", ["send", "foo"], ("'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', "
         "'hdr', 'body' or 'body-lf' but got 'foo' as argument..")),
        ("http-check", ["send", "hdr", "a"], "'http-check send' : 'hdr' expects <name> and <value> as arguments."),
        ("http-check", ["send", "meth"], "'http-check send' : 'meth' expects a string as argument.."),
        ("http-check", ["foo"], ("'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', "
         "'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'foo'")),
        ("http-check", ["expect", "hdr", "foo"], ("'http-check expect' : 'hdr' expects at the name keyword as first "
         "argument followed by a pattern.")),
        ("http-check", ["connect", "port", "70000"], ("'http-check connect' : expects a valid TCP port (from range 1 "
         "to 65535) or a sample expression, got 70000..")),
    ],
)
def test_parse_errors(kw: str, args: list[str], message: str) -> None:
    with pytest.raises(R.RuleError) as exc:
        R.parse_rule(kw, args, [])
    assert str(exc.value) == message


def test_connect_must_come_first() -> None:
    prior = [R.Rule(R.SEND)]
    with pytest.raises(R.RuleError, match="first step MUST also be a 'connect'"):
        R.parse_rule("tcp-check", ["connect"], prior)


def test_http_rule_order_errors() -> None:
    # 'option httpchk' then two explicit sends: HAProxy 2.6 rejects the second one
    with pytest.raises(R.RuleError, match=r"unable to add http-check send rule at step 2 \(missing connect rule\)\."):
        R.http_rules(entries("send meth HEAD hdr X-A 1", "option GET /d", "send uri /d2 hdr X-B 2"))
    with pytest.raises(R.RuleError, match="at step 3"):
        R.http_rules(entries("option", "send meth GET uri /a", "expect status 302", "send meth GET uri /b"))


def test_status_code_lists() -> None:
    rule = R.parse_expect(["status", "200,201-204,3"], True)
    assert rule.codes == [(200, 200), (201, 204), (3, 3)]
    assert R.parse_expect(["!", "status", "200"], True).inverse
    assert R.parse_expect(["!status", "200"], True).inverse


# ------------------------------------------------------------------ matching
def test_eval_expect_string_waits_then_fails_at_close() -> None:
    rule = R.parse_expect(["string", "PONGX"], False)
    rule.index = 1
    assert R.eval_expect(rule, b"+PONG\r\n", False, R.PROTO_TCP).action == R.WAIT
    out = R.eval_expect(rule, b"+PONG\r\n", True, R.PROTO_TCP)
    assert (out.action, out.status, out.desc) == (R.STOP, "L7RSP", "TCPCHK did not match content 'PONGX' at step 2")


@pytest.mark.parametrize(
    ("args", "buf", "desc"),
    [
        (["!", "string", "PONG"], b"+PONG\r\n", "TCPCHK matched unwanted content 'PONG' at step 2"),
        (["rstring", "^-ERR"], b"+PONG\r\n", "TCPCHK did not match content (regex) at step 2"),
        (["binary", "2b504f4e47ff"], b"+PONG\r\n", "TCPCHK did not match content (binary) at step 2"),
        (["rbinary", "^FF"], b"+PONG\r\n", "TCPCHK did not match content (binary regex) at step 2"),
        (["min-recv", "3", "string", "PONGXX"], b"+PONG\r\n", "TCPCHK did not match content 'PONGXX' at step 2"),
        (["string", "NOPE", "on-error", "custom err", "error-status", "L7STS"], b"+PONG\r\n", "custom err"),
    ],
)
def test_eval_expect_failures(args: list[str], buf: bytes, desc: str) -> None:
    rule = R.parse_expect(args, False)
    rule.index = 1
    out = R.eval_expect(rule, buf, True, R.PROTO_TCP)
    assert out.action == R.STOP and out.desc == desc


def test_eval_expect_rbinary_matches_uppercase_hex() -> None:
    rule = R.parse_expect(["rbinary", "^2B504F"], False)
    assert R.eval_expect(rule, b"+PONG", True, R.PROTO_TCP).action == R.CONTINUE


def test_redis_error_info_is_first_line() -> None:
    rule = R.redis_rules()[1]
    out = R.eval_expect(rule, b"-ERR something bad\r\nmore\r\n", True, R.PROTO_REDIS)
    assert (out.status, out.desc) == ("L7STS", "-ERR something bad")
    assert R.eval_expect(rule, b"+PONG\r\n", False, R.PROTO_REDIS).action == R.CONTINUE
    assert R.onsuccess_msg(rule, R.PROTO_REDIS) == "Redis server is ok"


def test_mysql_packets() -> None:
    hs = b"\x0a5.7.99-fake\x00" + b"\x01\x00\x00\x00abcdefgh\x00"
    pkt = len(hs).to_bytes(3, "little") + b"\x00" + hs
    ini = R.Rule(R.EXPECT, expect_type="custom", custom="mysql-iniths", index=1)
    assert R.eval_mysql(ini, pkt[:3], False, True).action == R.WAIT
    out = R.eval_mysql(ini, pkt, False, True)
    assert (out.action, out.status, out.desc) == (R.CONTINUE, "L7OK", "5.7.99-fake")
    assert R.eval_mysql(ini, pkt, False, False).action == R.CONTINUE
    err = b"\xff\x15\x04#28000Access denied"
    errpkt = len(err).to_bytes(3, "little") + b"\x02" + err
    ok = R.Rule(R.EXPECT, expect_type="custom", custom="mysql-ok", index=3)
    out = R.eval_mysql(ok, pkt + errpkt, True, True)
    assert (out.status, out.code, out.desc) == ("L7STS", 1045, "#28000Access denied")
    assert R.eval_mysql(ini, b"hello world\r\n\r\n", True, True).status == "L7RSP"


# ------------------------------------------------------------------ HTTP responses
def test_http_response_parse() -> None:
    r = R.HttpResponse.parse(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", False)
    assert (r.error, r.headers_done, r.status, r.reason, r.complete) == (False, True, 503, "Service Unavailable", True)
    r = R.HttpResponse.parse(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", False)
    assert (r.status, r.reason) == (200, "")
    assert R.HttpResponse.parse(b"hello world\r\n\r\n", False).error
    assert R.HttpResponse.parse(b"HTTP/1.1 20", True).error
    assert not R.HttpResponse.parse(b"HTTP/1.1 20", False).error
    assert R.HttpResponse.parse(b"", True).error
    r = R.HttpResponse.parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", False)
    assert r.headers_done and not r.complete and r.body == b"abc"
    r = R.HttpResponse.parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", False)
    assert r.complete and r.body == b"abcde"
    r = R.HttpResponse.parse(b"HTTP/1.0 200 OK\r\n\r\nbody", False)
    assert not r.complete and r.body == b"body"
    assert R.HttpResponse.parse(b"HTTP/1.0 200 OK\r\n\r\nbody", True).complete
    assert R.HttpResponse.parse(b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n", False).error


def _http(resp: bytes, eos: bool = True) -> R.HttpResponse:
    return R.HttpResponse.parse(resp, eos)


@pytest.mark.parametrize(
    ("args", "resp", "status", "desc"),
    [
        (["status", "200,201-204"], b"HTTP/1.1 302 Found\r\n\r\n", "L7STS", "Found"),
        (["rstatus", "^2"], b"HTTP/1.1 302 Found\r\n\r\n", "L7STS", "Found"),
        (["!", "status", "200"], b"HTTP/1.0 200 OK\r\n\r\n", "L7STS", "OK"),
        (["string", "nothere"], b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "L7RSP",
         "HTTP content check did not match"),
        (["!", "string", "hello"], b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "L7RSP",
         "HTTP check matched unwanted content"),
        (["string", "hello"], b"HTTP/1.0 200 OK\r\n\r\n", "L7RSP", "HTTP content check could not find a response body"),
        (["hdr", "name", "x-status", "value", "nope"], b"HTTP/1.1 200 OK\r\nX-Status: fine\r\n\r\n", "L7STS", "OK"),
        (["status", "200", "comment", "second"], b"HTTP/1.1 302 Found\r\n\r\n", "L7STS", "Found comment: second"),
        (["status", "200", "on-error", "bad", "comment", "zz"], b"HTTP/1.1 302 Found\r\n\r\n", "L7STS", "bad comment: zz"),
    ],
)
def test_eval_expect_http_failures(args: list[str], resp: bytes, status: str, desc: str) -> None:
    rule = R.parse_expect(args, True)
    out = R.eval_expect_http(rule, _http(resp), True, True, False)
    assert (out.action, out.status, out.desc) == (R.STOP, status, desc)


@pytest.mark.parametrize(
    ("args", "resp"),
    [
        (["status", "200-399"], b"HTTP/1.1 302 Found\r\n\r\n"),
        (["hdr", "name", "x-status", "value", "fine"], b"HTTP/1.1 200 OK\r\nX-Status: fine\r\n\r\n"),
        (["hdr", "name", "-m", "beg", "x-st"], b"HTTP/1.1 200 OK\r\nX-Status: fine\r\n\r\n"),
        (["hdr", "name", "cache-control", "value", "no-cache"], b"HTTP/1.1 200 OK\r\nCache-Control: a, no-cache\r\n\r\n"),
        (["string", "hello"], b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
        (["rstring", "^he.lo$"], b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
    ],
)
def test_eval_expect_http_passes(args: list[str], resp: bytes) -> None:
    rule = R.parse_expect(args, True)
    assert R.eval_expect_http(rule, _http(resp), True, True, False).action == R.CONTINUE


def test_fhdr_does_not_split_values() -> None:
    resp = _http(b"HTTP/1.1 200 OK\r\nCache-Control: a, no-cache\r\n\r\n")
    rule = R.parse_expect(["fhdr", "name", "cache-control", "value", "no-cache"], True)
    assert R.eval_expect_http(rule, resp, True, True, False).action == R.STOP


def test_disable_on_404_passes_while_up() -> None:
    rule = R.parse_expect(["status", "200"], True)
    resp = _http(b"HTTP/1.1 404 Not Found\r\n\r\n")
    assert R.eval_expect_http(rule, resp, True, True, True).action == R.CONTINUE
    assert R.eval_expect_http(rule, resp, True, False, True).action == R.STOP


def test_body_expect_waits_for_more() -> None:
    rule = R.parse_expect(["string", "hello world"], True)
    resp = R.HttpResponse.parse(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello", False)
    assert R.eval_expect_http(rule, resp, False, True, False).action == R.WAIT


def test_split_addr() -> None:
    assert R.split_addr("1.2.3.4:80") == ("1.2.3.4", 80)
    assert R.split_addr("1.2.3.4") == ("1.2.3.4", 0)
    assert R.split_addr("[::1]:81") == ("::1", 81)
    assert R.split_addr("::1") == ("::1", 0)
    assert R.split_addr("foo..bar") == (None, 0)
    assert R.split_addr("localhost:9") == ("localhost", 9)


def test_build_ruleset_reads_http_options() -> None:
    px = SimpleNamespace(check_kind="httpchk", http_checks=entries("option"), tcp_checks=[], check_args=[],
                         options={"http-check disable-on-404": True, "http-check send-state": True,
                                  "http-server-close": True})
    rs = R.build_ruleset(px)
    assert rs.disable404 and rs.send_state and rs.http_close_mode
