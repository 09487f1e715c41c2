"""Sample fetches and converters (gproxy.http.sample).

Expected values were produced by HAProxy 2.6.12 itself: a frontend with one
``http-request return ... lf-string "<%[expr]>"`` rule per expression, queried over a
raw socket with the three requests below (``x-test: e<n>`` selects the rule).  The same
configuration is parsed by gproxy here and its rules run on the same requests.
Error texts are ``haproxy -c``'s.
"""

from __future__ import annotations

import ipaddress

import pytest

from gproxy.config import import_keyword_modules
from gproxy.http import rules
from gproxy.http import sample as S
from gproxy.http.message import Headers, Request, Response, Txn
from gproxy.session import Session

from .cfgtext import parse_checked as parse

import_keyword_modules()

REQS = [
    ("GET", "/a/b/c.html?x=1&y=2;z=3&x=4", "HTTP/1.1", [
        ("host", "Www.Example.com:8080"), ("cookie", "a=1; b=2, c=3"), ("cookie", "a=5"),
        ("x-multi", "one, two,three"), ("x-multi", "four"), ("x-num", "42abc"),
        ("user-agent", "Mozilla/5.0 (X11)"), ("authorization", "Basic YWRtaW46c2VjcmV0"), ("content-length", "0"),
    ]),
    ("POST", "http://h.example/p/q?r", "HTTP/1.0", [("host", "h.example"), ("x-empty", ""), ("content-length", "0")]),
    ("get", "/lower", "HTTP/1.1", [("host", "l"), ("content-length", "0")]),
]

CFG_HEAD = """defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
userlist L
    user admin insecure-password secret
    group G users admin
frontend fe
    bind 127.0.0.1:27461
"""
CFG_TAIL = """    default_backend be
backend be
    server s1 127.0.0.1:27462
backend be2
    server s1 127.0.0.1:27462
    server s2 127.0.0.1:27462 backup
"""



class Fe:
    def __init__(self, spec: object) -> None:
        self.spec = spec
        self.name = "fe"
        self.id = 1
        self.process = None


def make_txn(fe: object, method: str, uri: str, version: str, headers: list[tuple[str, str]]) -> Txn:
    sess = Session(fe, None, ("127.0.0.1", 40000), ("127.0.0.1", 27461))
    return Txn(sess, Request(method, uri, version, Headers(list(headers))))


EXPR_CASES = [
    ('path', 0, ('/a/b/c.html', '/p/q', '/lower')),
    ('pathq', 1, ('/a/b/c.html?x=1&y=2;z=3&x=4', '/p/q?r', '/lower')),
    ('url', 2, ('/a/b/c.html?x=1&y=2;z=3&x=4', 'http://h.example/p/q?r', '/lower')),
    ('query', 3, ('x=1&y=2;z=3&x=4', 'r', '')),
    ('method', 4, ('GET', 'POST', 'get')),
    ('base', 5, ('Www.Example.com:8080/a/b/c.html', 'h.example/p/q', 'l/lower')),
    ('baseq', 6, ('Www.Example.com:8080/a/b/c.html?x=1&y=2;z=3&x=4', 'h.example/p/q?r', 'l/lower')),
    ('req.ver', 7, ('1.1', '1.0', '1.1')),
    ('url_param(x)', 8, ('1', '', '')),
    ('urlp(y)', 9, ('2', '', '')),
    ('urlp(z)', 10, ('3', '', '')),
    ('urlp', 11, ('1', '', '')),
    ('urlp(nope)', 12, ('', '', '')),
    ('url_param(x,;)', 13, ('4', '', '')),
    ('urlp_val(x)', 14, ('1', '', '')),
    ('hdr(host)', 15, ('Www.Example.com:8080', 'h.example', 'l')),
    ('req.hdr(x-multi)', 16, ('four', '', '')),
    ('req.hdr(x-multi,1)', 17, ('one', '', '')),
    ('req.hdr(x-multi,2)', 18, ('two', '', '')),
    ('req.hdr(x-multi,-2)', 19, ('three', '', '')),
    ('req.fhdr(x-multi)', 20, ('four', '', '')),
    ('req.fhdr(x-multi,1)', 21, ('one, two,three', '', '')),
    ('hdr_cnt(x-multi)', 22, ('4', '0', '0')),
    ('req.hdr_cnt(x-multi)', 23, ('4', '0', '0')),
    ('req.fhdr_cnt(x-multi)', 24, ('2', '0', '0')),
    ('hdr_cnt', 25, ('13', '4', '3')),
    ('req.hdr_val(x-num)', 26, ('42', '', '')),
    ('hdr_val(x-num)', 27, ('42', '', '')),
    ('req.hdr(x-empty)', 28, ('', '', '')),
    ('req.hdr_names', 29, ('host,cookie,cookie,x-multi,x-multi,x-num,user-agent,authorization,content-length,x-test', 'host,x-empty,content-length,x-test', 'host,content-length,x-test')),
    ('req.hdr_names(;)', 30, ('host;cookie;cookie;x-multi;x-multi;x-num;user-agent;authorization;content-length;x-test', 'host;x-empty;content-length;x-test', 'host;content-length;x-test')),
    ('req.cook(a)', 31, ('5', '', '')),
    ('req.cook(b)', 32, ('2', '', '')),
    ('req.cook(c)', 33, ('3', '', '')),
    ('req.cook', 34, ('1', '', '')),
    ('cook_cnt(a)', 35, ('2', '0', '0')),
    ('cook_val(a)', 36, ('5', '', '')),
    ('req.cook_cnt', 37, ('4', '0', '0')),
    ('cookie(a)', 38, ('5', '', '')),
    ('src', 39, ('127.0.0.1', '127.0.0.1', '127.0.0.1')),
    ('dst', 41, ('127.0.0.1', '127.0.0.1', '127.0.0.1')),
    ('dst_port', 42, ('27461', '27461', '27461')),
    ('fe_name', 43, ('fe', 'fe', 'fe')),
    ('str(abc)', 45, ('abc', 'abc', 'abc')),
    ('int(12)', 46, ('12', '12', '12')),
    ('bool(1)', 47, ('1', '1', '1')),
    ('always_true', 48, ('1', '1', '1')),
    ('always_false', 49, ('0', '0', '0')),
    ('http_auth_type', 50, ('Basic', '', '')),
    ('http_auth_user', 51, ('admin', '', '')),
    ('http_auth_pass', 52, ('secret', '', '')),
    ('http_auth(L)', 53, ('1', '', '')),
    ('http_auth_group(L)', 54, ('admin', '', '')),
    ('req.proto_http', 55, ('1', '1', '1')),
    ('path,lower', 56, ('/a/b/c.html', '/p/q', '/lower')),
    ('path,upper', 57, ('/A/B/C.HTML', '/P/Q', '/LOWER')),
    ('hdr(host),lower,field(1,:)', 58, ('www.example.com', 'h.example', 'l')),
    ('hdr(host),field(2,:)', 59, ('8080', '', '')),
    ('hdr(host),field(-1,.)', 60, ('com:8080', 'example', 'l')),
    ('hdr(host),field(2,.,2)', 61, ('Example.com:8080', 'example', '')),
    ('hdr(host),word(2,.)', 62, ('Example', 'example', '')),
    ('hdr(host),word(-1,.)', 63, ('com:8080', 'example', 'l')),
    ('path,word(1,/)', 64, ('a', 'p', 'lower')),
    ('path,word(2,/)', 65, ('b', 'q', '')),
    ('path,word(-1,/)', 66, ('c.html', 'q', 'lower')),
    ('path,field(1,/)', 67, ('', '', '')),
    ('path,field(-1,/)', 68, ('c.html', 'q', 'lower')),
    ('path,length', 69, ('11', '4', '6')),
    ('str(abc),hex', 70, ('616263', '616263', '616263')),
    ('str(hello),base64', 71, ('aGVsbG8=', 'aGVsbG8=', 'aGVsbG8=')),
    ('str(aGVsbG8=),b64dec', 72, ('hello', 'hello', 'hello')),
    ('str(a-b-c),regsub(-,_)', 73, ('a_b-c', 'a_b-c', 'a_b-c')),
    ('str(a-b-c),regsub(-,_,g)', 74, ('a_b_c', 'a_b_c', 'a_b_c')),
    ("str(abcabc),regsub('b(c)',X\\1Y,g)", 75, ('aXcYaXcY', 'aXcYaXcY', 'aXcYaXcY')),
    ('str(aaa),regsub(x*,-,g)', 76, ('-a-a-a-', '-a-a-a-', '-a-a-a-')),
    ('str(Hello),regsub(h,J,i)', 77, ('Jello', 'Jello', 'Jello')),
    ('int(5),add(3)', 78, ('8', '8', '8')),
    ('int(5),sub(8)', 79, ('-3', '-3', '-3')),
    ('int(5),mul(-3)', 80, ('-15', '-15', '-15')),
    ('int(7),div(2)', 81, ('3', '3', '3')),
    ('int(-7),div(2)', 82, ('-3', '-3', '-3')),
    ('int(7),div(0)', 83, ('9223372036854775807', '9223372036854775807', '9223372036854775807')),
    ('int(-7),mod(3)', 84, ('-1', '-1', '-1')),
    ('int(7),mod(0)', 85, ('0', '0', '0')),
    ('int(6),and(3)', 86, ('2', '2', '2')),
    ('int(6),or(3)', 87, ('7', '7', '7')),
    ('int(6),xor(3)', 88, ('5', '5', '5')),
    ('int(5),neg', 89, ('-5', '-5', '-5')),
    ('int(5),cpl', 90, ('-6', '-6', '-6')),
    ('int(0),bool', 91, ('0', '0', '0')),
    ('int(3),bool', 92, ('1', '1', '1')),
    ('int(0),not', 93, ('1', '1', '1')),
    ('int(3),not', 94, ('0', '0', '0')),
    ('int(3),odd', 95, ('1', '1', '1')),
    ('int(3),even', 96, ('0', '0', '0')),
    ('str(12abc),add(1)', 97, ('13', '13', '13')),
    ('str(%41%20b),url_dec', 98, ('A b', 'A b', 'A b')),
    ('str(a+b),url_dec', 99, ('a+b', 'a+b', 'a+b')),
    ('str(xxabcxx),ltrim(x)', 100, ('abcxx', 'abcxx', 'abcxx')),
    ('str(xxabcxx),rtrim(x)', 101, ('xxabc', 'xxabc', 'xxabc')),
    ('str(abc),concat(-,,-)', 102, ('abc--', 'abc--', 'abc--')),
    ('str(www.example.com:80),host_only', 103, ('www.example.com', 'www.example.com', 'www.example.com')),
    ('str(a/b),json', 104, ('a\\/b', 'a\\/b', 'a\\/b')),
    ('src,ipmask(24)', 105, ('127.0.0.0', '127.0.0.0', '127.0.0.0')),
    ('str(abc),crc32', 106, ('891568578', '891568578', '891568578')),
    ('str(abc),djb2', 107, ('193485963', '193485963', '193485963')),
    ('str(abc),sdbm', 108, ('807794786', '807794786', '807794786')),
    ('str(10),hex2i', 109, ('16', '16', '16')),
    ('method,lower', 110, ('get', 'post', 'get')),
    ('int(-1),div(0)', 111, ('9223372036854775807', '9223372036854775807', '9223372036854775807')),
    ('nbsrv(be)', 112, ('1', '1', '1')),
    ('nbsrv(be2)', 113, ('1', '1', '1')),
    ('var(txn.nope)', 114, ('', '', '')),
]


@pytest.fixture(scope="module")
def expr_frontend() -> Fe:
    lines = [
        f'    http-request return status 200 content-type text/plain lf-string "<%[{e}]>" if {{ hdr(x-test) -m str e{i} }}\n'
        for e, i, _ in EXPR_CASES
    ]
    model, msgs = parse(CFG_HEAD + "".join(lines) + CFG_TAIL)
    assert [m for m in msgs if m.startswith("ALERT")] == []
    return Fe(model.proxies[0])


@pytest.mark.parametrize(("expr", "idx", "expected"), EXPR_CASES, ids=[c[0] for c in EXPR_CASES])
@pytest.mark.parametrize("req", [0, 1, 2])
def test_expression_matches_haproxy(expr_frontend: Fe, expr: str, idx: int, expected: tuple[str, ...], req: int) -> None:
    method, uri, version, headers = REQS[req]
    txn = make_txn(expr_frontend, method, uri, version, [*headers, ("x-test", f"e{idx}")])
    v = rules.run_http_request(expr_frontend.spec.http_request, txn)
    assert v is not None and v.response is not None
    assert v.response.body.decode("latin-1") == f"<{expected[req]}>"


# ------------------------------------------------------------------ parsing
def p(text: str) -> S.SampleExpr:
    return S.parse_expr([text], 0)[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "missing fetch method"),
        ("foo", "unknown fetch method 'foo'"),
        ("req.hdr(host", "fetch method 'req.hdr' : expected ')'"),
        ("req.hdr(host),foo", "unknown converter 'foo'"),
        ("req.hdr(host),lower(1)", "invalid arg 1 in converter 'lower' : expected ')' before '1)'"),
        ("req.hdr(host)x", "missing comma after fetch keyword 'req.hdr'"),
        ("req.hdr(host),lower()x", "missing comma after converter 'lower'"),
        ("int", "fetch method 'int' : expected type 'integer' at position 1, but got nothing"),
        ("int(x)", "fetch method 'int' : failed to parse 'x' as type 'integer' at position 1"),
        ("str(a),field(0,.)", "invalid args in converter 'field' : Unexpected value 0 for index"),
        ("str(a),field(1,)", "invalid args in converter 'field' : Empty separators list"),
        ("str(a),regsub(a,b,x)", "invalid args in converter 'regsub' : invalid regex flag 'x', only 'i' and 'g' are supported"),
        ("str(a),add(x)", "invalid args in converter 'add' : expects an integer or a variable name"),
        ("var(foo)", ("invalid args in fetch method 'var' : invalid variable name 'foo'. A variable name must be start "
                      "by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'")),
        ("var(txn.a-b)", "invalid args in fetch method 'var' : invalid syntax at char '-b'"),
        ("str(a),map(/nonexistent/file)", "invalid args in converter 'map' : failed to open pattern file </nonexistent/file>"),
        ("str(1),hex2i,ipmask(24),foo", "unknown converter 'foo'"),
        ("bool(2)", "invalid args in fetch method 'bool' : Expects 'true', 'false', '0' or '1'"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(S.SampleError) as e:
        p(text)
    assert str(e.value) == message


def test_bad_regsub_regex_is_reported_after_parsing() -> None:
    refs: list[S.Ref] = []
    pctx = S.ParseCtx(file="f", line=3, proxy="fe", refs=refs, argctx="in http-request expression in")
    expr = S.parse_expr(["str(a),regsub((,b)"], 0, pctx)[0]
    assert expr.eval(None, None) == "a"
    assert [(r.name, r.conv, r.what, r.error) for r in refs] == [
        ("(", "regsub", "sample fetch keyword 'str'", "regex '(' is invalid (error=missing closing parenthesis, erroffset=1)")
    ]


def test_second_level_quoting() -> None:
    assert p("str('a,b)c')").eval(None, None) == "a,b)c"
    assert p('str("a,b")').eval(None, None) == "a,b"
    assert p(r"str(a\tb)").eval(None, None) == "a\tb"
    assert p(r"str(a\qb)").eval(None, None) == "a\\qb"  # a lone backslash stays
    assert p(r"str(a\ b)").eval(None, None) == "a b"
    assert p("str(x),regsub('b(c)',X\\1Y,g)").eval(None, None) == "x"
    assert p("str(abc),regsub('b(c)',X\\1Y,g)").eval(None, None) == "aXcY"


def test_converters_as_following_words() -> None:
    expr, nxt, _ = S.parse_expr(["str(Ab)", "lower", "upper", "if", "x"], 0)
    assert nxt == 3 and [c.name for c, _ in expr.convs] == ["lower", "upper"]
    assert expr.eval(None, None) == "AB"


def test_parse_expr_text_stops_at_unparsed_char() -> None:
    expr, end = S.parse_expr_text("req.hdr(host),lower]rest")
    assert end == len("req.hdr(host),lower") and expr.fetch.name == "req.hdr"


# ------------------------------------------------------------------ types and casts
def test_casts() -> None:
    assert S.cast("12abc", S.T_SINT) == 12
    assert S.cast("abc", S.T_SINT) == 0
    assert S.cast("", S.T_SINT) is None
    assert S.cast(True, S.T_STR) == "1"
    assert S.cast(7, S.T_IPV4) == ipaddress.IPv4Address("0.0.0.7")
    assert S.cast(ipaddress.IPv4Address("1.2.3.4"), S.T_IPV6) == ipaddress.IPv6Address("::ffff:1.2.3.4")
    assert S.cast(ipaddress.IPv6Address("::ffff:1.2.3.4"), S.T_IPV4) == ipaddress.IPv4Address("1.2.3.4")
    assert S.cast("nope", S.T_ADDR) is None
    assert S.cast(b"ab\x00cd", S.T_STR) == "ab"
    assert S.cast(1, S.T_BIN) == b"\x00" * 7 + b"\x01"
    assert S.smp_type(True) == S.T_BOOL and S.smp_type(1) == S.T_SINT


def test_read_int64_saturates() -> None:
    assert S.read_int64("99999999999999999999") == (S.LLONG_MAX, 20)
    assert S.read_int64("-5x") == (-5, 2)


# ------------------------------------------------------------------ fetch details
def test_tcp_session_has_no_http_samples() -> None:
    sess = Session(Fe(None), None, ("10.1.2.3", 1234), ("127.0.0.1", 80))
    assert p("path").eval(sess, None) is None
    assert p("req.hdr(host)").eval(sess, None) is None
    assert p("src").eval(sess, None) == ipaddress.IPv4Address("10.1.2.3")
    assert p("src_port").eval(sess, None) == 1234
    assert p("dst_port").eval(sess, None) == 80
    assert p("ssl_fc").eval(sess, None) is False


def test_unix_client_has_no_address() -> None:
    class L:
        id = 3

    sess = Session(Fe(None), L(), "/run/sock", "/run/sock")
    assert p("src").eval(sess, None) is None
    assert p("src_port").eval(sess, None) is None


def test_ipv6_source() -> None:
    sess = Session(Fe(None), None, ("::1", 1), ("::1", 80))
    assert p("src").eval(sess, None) == ipaddress.IPv6Address("::1")
    assert p("src,ipmask(24,64)").eval(sess, None) == ipaddress.IPv6Address("::")


def test_hdr_iterates_every_value_for_acls() -> None:
    t = make_txn(Fe(None), "GET", "/", "HTTP/1.1", [("x", "a, b"), ("x", "c")])
    assert p("req.hdr(x)").eval_all(t.sess, t) == ["a", "b", "c"]
    assert p("req.hdr(x,1)").eval_all(t.sess, t) == ["a"]
    assert p("req.fhdr(x)").eval_all(t.sess, t) == ["a, b", "c"]
    assert p("req.hdr(x)").eval(t.sess, t) == "c"


def test_response_fetches() -> None:
    t = make_txn(Fe(None), "GET", "/", "HTTP/1.1", [("host", "h")])
    assert p("status").eval(t.sess, t) is None
    t.rsp = Response(404, "Not Found", "HTTP/1.1", Headers([("set-cookie", "s=1; path=/"), ("x", "1")]))
    assert p("status").eval(t.sess, t) == 404
    assert p("res.cook(s)").eval(t.sess, t) == "1"
    assert p("res.hdr(x)").eval(t.sess, t) == "1"
    assert p("hdr(x)").eval(t.sess, t) == "1"  # hdr() reads the response once there is one
    assert p("res.ver").eval(t.sess, t) == "1.1"


def test_variables() -> None:
    t = make_txn(Fe(None), "GET", "/", "HTTP/1.1", [])
    S.set_var("txn.a", 5, t.sess, t)
    S.set_var("proc.g", "x", t.sess, t)
    assert p("var(txn.a)").eval(t.sess, t) == 5
    assert p("var(txn.a),add(txn.a)").eval(t.sess, t) == 10
    assert p("var(txn.none,dflt)").eval(t.sess, t) == "dflt"
    assert p("var(proc.g)").eval(None, None) == "x"
    S.unset_var("txn.a", t.sess, t)
    assert p("var(txn.a)").eval(t.sess, t) is None
    S.unset_var("proc.g", None, None)


def test_nbsrv_reads_the_running_process() -> None:
    class Srv:
        def __init__(self, backup: bool, up: bool) -> None:
            self.backup = backup
            self._up = up

        def usable(self) -> bool:
            return self._up

    class Be:
        def __init__(self, name: str, servers: list[Srv]) -> None:
            self.name = name
            self.servers = servers
            self.spec = None

    class Proc:
        def __init__(self) -> None:
            self.backends = [Be("b", [Srv(False, True), Srv(False, False), Srv(True, True)]),
                             Be("c", [Srv(True, True), Srv(True, True)])]

    S.set_runtime(Proc())
    try:
        assert p("nbsrv(b)").eval(None, None) == 1
        assert p("nbsrv(c)").eval(None, None) == 1  # backups only: the first one serves
        assert p("nbsrv(zz)").eval(None, None) is None
    finally:
        S.set_runtime(None)


# ------------------------------------------------------------------ converters
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("str(a.b.c),field(2,.)", "b"),
        ("str(a.b.c),field(-1,.)", "c"),
        ("str(a.b.c),field(4,.)", None),
        ("str(a..b),word(2,.)", "b"),
        ("str(a..b),word(3,.)", ""),
        ("str(abc),length", 3),
        ("str(abc),upper,lower", "abc"),
        ("int(7),div(-2)", -3),
        ("int(-7),mod(3)", -1),
        ("int(9223372036854775807),add(1)", S.LLONG_MAX),
        ("int(-9223372036854775808),neg", S.LLONG_MAX),
        ("str(%zz),url_dec", None),
        ("str(!!!),b64dec", None),
        ("str(a\tb),json", "a\\tb"),
        ("str(aaa),regsub(a,b)", "baa"),
        ("str(AaA),regsub(a,b,gi)", "bbb"),
        ("str(www.example.com),map_beg(/nonexistent)", "error"),
    ],
)
def test_converter_values(text: str, value: object) -> None:
    if value == "error":
        with pytest.raises(S.SampleError):
            p(text)
        return
    assert p(text).eval(None, None) == value


def test_maps(tmp_path) -> None:
    f = tmp_path / "hosts.map"
    f.write_text("# comment\n  example.com   be_ex  \nwww.example.com be_www\n\napi. be_api\n")
    ip = tmp_path / "ip.map"
    ip.write_text("10.0.0.0/8 net10\n10.1.0.0/16 net10-1\n")
    bad = tmp_path / "bad.map"
    bad.write_text("10.0.0.0/8 x\nexample.com y\n")
    with pytest.raises(S.SampleError) as e:
        p(f"src,map_ip({bad})")
    assert str(e.value) == (f"invalid args in converter 'map_ip' : 'example.com' is not a valid IPv4 or IPv6 address "
                            f"at line 2 of file '{bad}'")
    assert p(f"str(example.com),map({f})").eval(None, None) == "be_ex"
    assert p(f"str(nope),map({f},dflt)").eval(None, None) == "dflt"
    assert p(f"str(nope),map({f})").eval(None, None) is None
    assert p(f"str(api.example.com),map_beg({f})").eval(None, None) == "be_api"
    assert p(f"str(www.example.com),map_beg({f})").eval(None, None) == "be_www"  # longest prefix
    assert p(f"str(x.example.com),map_end({f})").eval(None, None) == "be_ex"
    assert p(f"str(10.1.2.3),map_ip({ip})").eval(None, None) == "net10-1"  # the most specific network
    assert p(f"str(10.2.2.3),map_ip({ip})").eval(None, None) == "net10"
    g = tmp_path / "int.map"
    g.write_text("1:10 small\n11: big\n")
    assert p(f"int(5),map_int({g})").eval(None, None) == "small"
    assert p(f"int(50),map_int({g})").eval(None, None) == "big"
    h = tmp_path / "reg.map"
    h.write_text("^/api/ api\n\\.php$ php\n")
    assert p(f"str(/x.php),map_reg({h})").eval(None, None) == "php"
    assert p(f"str(/api/x),map_reg_int({h},7)").eval(None, None) == 0  # value 'api' as an int
    assert p(f"str(/none),map_str_int({h},7)").eval(None, None) == 7


def test_http_encode_of_samples_in_headers() -> None:
    fn = S.compile_logformat("<%[str(a\nb)]> %%  x  %[str(y)]")
    assert fn(None, None) == "<a%0Ab> %  x  y"


def test_logformat_places() -> None:
    pctx = S.ParseCtx(places=(S.FE_HRQ,))
    with pytest.raises(ValueError) as e:
        S.compile_logformat("%[res.hdr(x)]", pctx)
    assert str(e.value) == (
        "sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response headers' which is "
        "not available here"
    )
    with pytest.raises(ValueError) as e:
        S.compile_logformat("%[foo]", pctx)
    assert str(e.value) == "failed to parse sample expression <foo]> : unknown fetch method 'foo'"


def test_logformat_variables_read_the_transaction() -> None:
    t = make_txn(Fe(None), "PUT", "/x?y", "HTTP/1.1", [])
    fn = S.compile_logformat("%HM %HU %ci:%cp %[method]")
    assert fn(t.sess, t) == "PUT /x?y 127.0.0.1:40000 PUT"


# Response-side expressions (http-response set-header X-E<n> "<%[expr]>") and more request-side ones,
# as HAProxy 2.6.12 rendered them for the request/response of test_more_expressions_match_haproxy.
RES_CASES = [
    ('status', '201'),
    ('res.ver', '1.1'),
    ('res.hdr(x-v)', 'c'),
    ('res.hdr(x-v,1)', 'a'),
    ('res.fhdr(x-v)', 'c'),
    ('res.hdr_cnt(x-v)', '3'),
    ('res.fhdr_cnt(x-v)', '2'),
    ('res.hdr_val(x-n)', '12'),
    ('res.hdr_ip(x-ip)', '10.1.2.3'),
    ('shdr(x-v)', 'c'),
    ('shdr_cnt(x-v)', '3'),
    ('res.cook(s)', '1'),
    ('res.cook(t)', '2'),
    ('res.cook', '1'),
    ('res.cook_cnt', '3'),
    ('res.cook_val(t)', '2'),
    ('scook(t)', '2'),
    ('cookie(t)', '2'),
    ('hdr(x-v)', 'c'),
    ('res.hdr_names', 'content-length,set-cookie,set-cookie,x-v,x-v,x-n,x-ip,x-e0,x-e1,x-e2,x-e3,x-e4,x-e5,x-e6,x-e7,x-e8,x-e9,x-e10,x-e11,x-e12,x-e13,x-e14,x-e15,x-e16,x-e17,x-e18'),
    ('var(txn.m)', 'PUT'),
    ('var(txn.p)', '/p/q'),
    ('capture.req.method', 'PUT'),
    ('capture.req.uri', '/p/q?a=1;b=2&a=3'),
    ('status,add(1)', '202'),
]
REQ_EXTRA_CASES = [
    ('url_param(a,;)', '3'),
    ('urlp(b,;)', '2'),
    ('urlp_val(a)', '1'),
    ('baseq', 'h.ex/p/q?a=1;b=2&a=3'),
    ('req.hdr_ip(x-ip)', '10.0.0.1'),
    ('hdr_ip(x-ip)', '10.0.0.1'),
    ('req.hdr_names(;)', 'host;x-ip;x-test'),
    ('req.hdr(x-ip),ipmask(16)', '10.0.0.0'),
    ('str(a:b:c),field(2,:)', 'b'),
    ('req.fhdr(x-ip,-1)', '192.168.7.9, 10.0.0.1'),
    ('req.hdr(host,-3)', ''),
    ('str(ab),sdbm,hex', '0000000000611841'),
]


def test_more_expressions_match_haproxy() -> None:
    lines = ["    http-request set-var(txn.m) method\n", "    http-request set-var(txn.p) path\n"]
    lines += [f'    http-response set-header X-E{i} "<%[{e}]>"\n' for i, (e, _) in enumerate(RES_CASES)]
    lines += [f'    http-request return status 200 content-type text/plain lf-string "<%[{e}]>" '
              f"if {{ hdr(x-test) -m str r{i} }}\n" for i, (e, _) in enumerate(REQ_EXTRA_CASES)]
    model, msgs = parse(CFG_HEAD + "".join(lines) + CFG_TAIL)
    assert [m for m in msgs if m.startswith("ALERT")] == []
    fe = Fe(model.proxies[0])
    req_headers = [("host", "h.ex"), ("x-ip", "192.168.7.9, 10.0.0.1")]
    t = make_txn(fe, "PUT", "/p/q?a=1;b=2&a=3", "HTTP/1.1", req_headers)
    assert rules.run_http_request(fe.spec.http_request, t) is None
    t.rsp = Response(201, "Created", "HTTP/1.1", Headers([
        ("content-length", "2"), ("set-cookie", "s=1; path=/"), ("set-cookie", "t=2"), ("x-v", "a, b"), ("x-v", "c"),
        ("x-n", "12x"), ("x-ip", "10.1.2.3")]))
    assert rules.run_http_response(fe.spec.http_response, t) is None
    assert [(e, t.rsp.headers.get(f"x-e{i}")) for i, (e, _) in enumerate(RES_CASES)] == [(e, f"<{v}>") for e, v in RES_CASES]
    for i, (e, v) in enumerate(REQ_EXTRA_CASES):
        t = make_txn(fe, "PUT", "/p/q?a=1;b=2&a=3", "HTTP/1.1", [*req_headers, ("x-test", f"r{i}")])
        got = rules.run_http_request(fe.spec.http_request, t)
        assert (e, got.response.body.decode()) == (e, f"<{v}>")


def test_quote_flag_ignored_for_samples_in_http_formats() -> None:
    # HAProxy 2.6 rendered lf-string "[%{+Q}[path]]" as "[/lf]" for GET /lf
    assert S.compile_logformat("[%{+Q}[str(a)]]")(None, None) == "[a]"
    assert S.compile_logformat("[%{+Q}[str(a)]]", http=False)(None, None) == '["a"]'
