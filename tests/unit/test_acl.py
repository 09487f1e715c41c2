"""ACLs, conditions and backend switching (gproxy.http.acl).

``COND_CASES`` were evaluated by HAProxy 2.6.12: one ``http-request return ... string
yes if <guard> <condition>`` rule per condition (the guard ``{ hdr(x-test) -m str c<n> }``
distributed over ``||``), queried over a raw socket with the three requests of
test_sample.py; gproxy parses the same configuration and runs it on the same requests.
Error and warning texts are ``haproxy -c``'s.
"""

from __future__ import annotations

import ipaddress

import pytest

from gproxy.config import import_keyword_modules
from gproxy.config.model import UseBackend
from gproxy.http import acl as A
from gproxy.http import rules
from gproxy.http.message import Headers, Request, Txn
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
HEAD = """defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
userlist L
    user admin insecure-password secret
    group G users admin
"""
FE = "frontend fe\n    bind 127.0.0.1:27461\n"
TAIL = """    default_backend be
backend be
    server s1 127.0.0.1:27462
backend be2
    server s1 127.0.0.1:27462
    server s2 127.0.0.1:27462 backup
"""



def alerts(lines: str) -> list[str]:
    _, msgs = parse(HEAD + FE + lines + TAIL)
    return [m for m in msgs if m.startswith("ALERT")]


class Fe:
    def __init__(self, spec: object) -> None:
        self.spec = spec
        self.name = getattr(spec, "name", "fe")
        self.id = 1
        self.process = None
        self.default_backend = None


def make_txn(fe: object, method: str, uri: str, version: str = "HTTP/1.1", headers=(), src=("127.0.0.1", 40000)) -> Txn:
    sess = Session(fe, None, src, ("127.0.0.1", 27461))
    return Txn(sess, Request(method, uri, version, Headers(list(headers))))


COND_CASES = [
    ('{ path_beg /a }', 'ynn'),
    ('{ path_beg -i /A }', 'ynn'),
    ('{ path_end .html }', 'ynn'),
    ('{ path_sub b/c }', 'ynn'),
    ('{ path_reg ^/a/.*\\.html$ }', 'ynn'),
    ('{ path_dir b }', 'ynn'),
    ('{ path_dir /b/c }', 'nnn'),
    ('{ path_dom example }', 'nnn'),
    ('{ hdr_dom(host) example }', 'nyn'),
    ('{ hdr_dom(host) www.example }', 'nnn'),
    ('{ hdr_dom(host) Example }', 'ynn'),
    ('{ hdr_dom(host) -i Example }', 'yyn'),
    ('{ path_len 11 }', 'ynn'),
    ('{ path_len gt 5 }', 'yny'),
    ('{ path_len lt 5 }', 'nyn'),
    ('{ path_len 1:20 }', 'yyy'),
    ('{ hdr(x-multi) two }', 'ynn'),
    ('{ hdr(x-multi) four }', 'ynn'),
    ('{ hdr_beg(x-multi) thr }', 'ynn'),
    ('{ req.hdr(x-multi) -m sub hre }', 'ynn'),
    ('{ req.fhdr(x-multi) two }', 'nnn'),
    ('{ req.fhdr(x-multi) -m sub two }', 'ynn'),
    ('{ hdr_cnt(x-multi) 4 }', 'ynn'),
    ('{ hdr_cnt(x-multi) ge 3 }', 'ynn'),
    ('{ hdr_val(x-num) 42 }', 'ynn'),
    ('{ req.hdr(x-nope) -m found }', 'nnn'),
    ('{ req.hdr(x-empty) -m found }', 'nyn'),
    ('{ req.hdr(host) -m found }', 'yyy'),
    ('{ req.hdr(host) -m len 20 }', 'ynn'),
    ('{ method GET }', 'ynn'),
    ('{ method get }', 'nny'),
    ('{ method -i get }', 'nny'),
    ('{ method POST }', 'nyn'),
    ('METH_GET', 'ynn'),
    ('METH_POST', 'nyn'),
    ('HTTP_1.1', 'yny'),
    ('HTTP_1.0', 'nyn'),
    ('HTTP_URL_ABS', 'nyn'),
    ('HTTP_URL_SLASH', 'yny'),
    ('HTTP_CONTENT', 'nnn'),
    ('LOCALHOST', 'yyy'),
    ('TRUE', 'yyy'),
    ('FALSE', 'nnn'),
    ('!TRUE', 'nnn'),
    ('TRUE FALSE', 'nnn'),
    ('FALSE || TRUE', 'yyy'),
    ('FALSE or TRUE', 'yyy'),
    ('!FALSE !FALSE', 'yyy'),
    ('{ src 127.0.0.0/8 }', 'yyy'),
    ('{ src 127.0.0.1 }', 'yyy'),
    ('{ src 10.0.0.0/8 }', 'nnn'),
    ('{ src ::ffff:127.0.0.1 }', 'yyy'),
    ('{ src 127.0.0.0/255.0.0.0 }', 'yyy'),
    ('{ dst_port 27461 }', 'yyy'),
    ('{ dst_port 1:1000 }', 'nnn'),
    ('{ urlp(x) 1 }', 'ynn'),
    ('{ urlp(x) 4 }', 'ynn'),
    ('{ urlp(y) -m int 2 }', 'ynn'),
    ('{ cook(a) 5 }', 'ynn'),
    ('{ cook(a) 1 }', 'ynn'),
    ('{ cook(c) 3 }', 'ynn'),
    ('{ cook_cnt(a) 2 }', 'ynn'),
    ('{ base_beg www.example.com:8080/a }', 'nnn'),
    ('{ base_beg -i www.example.com }', 'ynn'),
    ('{ url_beg http: }', 'nyn'),
    ('{ query -m sub y=2 }', 'ynn'),
    ('{ query -m found }', 'yyn'),
    ('{ http_auth(L) }', 'ynn'),
    ('{ http_auth_group(L) G }', 'ynn'),
    ('!{ http_auth(L) }', 'nyy'),
    ('{ always_true } { always_false } or { always_true }', 'yyy'),
    ('{ int(5) gt 4 }', 'yyy'),
    ('{ int(5) eq 5 }', 'yyy'),
    ('{ int(5) le 4 }', 'nnn'),
    ('{ str(abc) -m beg ab }', 'yyy'),
    ('{ str(abc) -m end bc }', 'yyy'),
    ('{ str(abc) -m reg -i ^A }', 'yyy'),
    ('{ str(abc) -m len 3 }', 'yyy'),
    ('{ str(10) -m int gt 9 }', 'yyy'),
    ('{ str(abc) -m bin 616263 }', 'yyy'),
    ('{ int(1) -m bool }', 'yyy'),
    ('{ int(0) -m bool }', 'nnn'),
    ('{ ssl_fc }', 'nnn'),
    ('{ nbsrv(be) gt 0 }', 'yyy'),
    ('{ nbsrv(be2) 1 }', 'yyy'),
    ('{ req.ver 1.1 }', 'yny'),
    ('{ req_ver 1.0 }', 'nyn'),
    ('{ path -m dom c.html }', 'ynn'),
]


def _guarded(i: int, cond: str) -> str:
    guard = f"{{ hdr(x-test) -m str c{i} }}"
    suites: list[list[str]] = [[]]
    for w in cond.split(" "):
        if w in ("||", "or"):
            suites.append([])
        else:
            suites[-1].append(w)
    return " || ".join(guard + " " + " ".join(s) for s in suites)


@pytest.fixture(scope="module")
def cond_frontend() -> Fe:
    lines = []
    for i, (c, _) in enumerate(COND_CASES):
        lines.append(f"    http-request return status 200 content-type text/plain string yes if {_guarded(i, c)}\n")
        lines.append(f"    http-request return status 200 content-type text/plain string no if {{ hdr(x-test) -m str c{i} }}\n")
    model, msgs = parse(HEAD + FE + "".join(lines) + TAIL)
    assert [m for m in msgs if m.startswith("ALERT")] == []
    return Fe(model.proxies[0])


@pytest.mark.parametrize(("idx", "cond", "expected"), [(i, c, e) for i, (c, e) in enumerate(COND_CASES)],
                         ids=[c for c, _ in COND_CASES])
@pytest.mark.parametrize("req", [0, 1, 2])
def test_condition_matches_haproxy(cond_frontend: Fe, idx: int, cond: str, expected: str, req: int) -> None:
    method, uri, version, headers = REQS[req]
    txn = make_txn(cond_frontend, method, uri, version, [*headers, ("x-test", f"c{idx}")])
    v = rules.run_http_request(cond_frontend.spec.http_request, txn)
    assert v is not None and v.response is not None
    assert v.response.body == (b"yes" if expected[req] == "y" else b"no")


# ------------------------------------------------------------------ matchers
def test_int_patterns_and_operators() -> None:
    m = A.Matcher("int", ["5", "10:20", ":2", "30:", "40-45"])
    assert [m.match(v) for v in (5, 15, 1, 31, 42, 25)] == [True, True, True, True, True, False]
    e = A.parse_acl_expr(["int(7)", "gt", "6", "lt", "3", "eq", "9"])
    assert [(p[0], p[1]) for p in e.matcher.patterns] == [(7, None), (None, 2), (9, 9)]
    with pytest.raises(A.CondError) as err:
        A.parse_acl_expr(["int(7)", "gt", "x"])
    assert str(err.value) == "'x' is neither a number nor a supported operator"
    with pytest.raises(A.CondError) as err:
        A.Matcher("int", ["5:2"])
    assert str(err.value) == "'5:2' is not a valid number range"


def test_ip_patterns() -> None:
    m = A.Matcher("ip", ["10.0.0.0/8", "192.168.1.1", "2001:db8::/32", "172.16.0.0/255.240.0.0"])
    v4, v6 = ipaddress.IPv4Address, ipaddress.IPv6Address
    assert m.match(v4("10.9.9.9")) and m.match(v4("192.168.1.1")) and not m.match(v4("192.168.1.2"))
    assert m.match(v4("172.31.0.1")) and not m.match(v4("172.32.0.1"))
    assert m.match(v6("2001:db8::1")) and m.match(v6("::ffff:10.1.1.1")) and not m.match(v6("::1"))
    assert A.Matcher("ip", ["::ffff:1.2.3.0/120"]).match(v4("1.2.3.4"))


@pytest.mark.parametrize(
    ("method", "pattern", "value", "icase", "result"),
    [
        ("str", "abc", "abc", False, True),
        ("str", "abc", "ABC", False, False),
        ("str", "abc", "ABC", True, True),
        ("beg", "/api", "/api/x", False, True),
        ("end", ".css", "/a.css", False, True),
        ("sub", "dmi", "/admin", False, True),
        ("reg", "^/a.*z$", "/abz", False, True),
        ("reg", "^/A", "/abz", True, True),
        ("dir", "b", "/a/b/c", False, True),
        ("dir", "/b/c/", "/a/b/c", False, True),
        ("dir", "b/c", "/a/b/cd", False, False),
        ("dom", "example.com", "www.example.com", False, True),
        ("dom", "example.com", "www.myexample.com", False, False),
        ("len", "3", "abc", False, True),
        ("len", "4:", "abc", False, False),
        ("bin", "6162", b"ab", False, True),
    ],
)
def test_string_methods(method: str, pattern: str, value: object, icase: bool, result: bool) -> None:
    assert A.Matcher(method, [pattern], icase).match(value) is result


def test_method_matching_is_exact_for_known_methods() -> None:
    m = A.Matcher("meth", ["GET", "PURGE"])
    assert m.match("GET") and not m.match("get") and m.match("PURGE") and not m.match("purge")
    assert A.Matcher("meth", ["purge"], icase=True).match("PURGE")
    assert not A.Matcher("meth", ["get"], icase=True).match("GET")


# ------------------------------------------------------------------ ACL declarations and conditions
def run_cond(lines: str, cond: str, uri: str = "/", headers=(), src=("127.0.0.1", 1)) -> bool:
    model, msgs = parse(HEAD + FE + lines + f"    http-request deny if {cond}\n" + TAIL)
    assert [m for m in msgs if m.startswith("ALERT")] == []
    fe = Fe(model.proxies[0])
    v = rules.run_http_request(fe.spec.http_request, make_txn(fe, "GET", uri, headers=headers, src=src))
    return v is not None and v.kind == "deny"


def test_named_acl_lines_are_ored_and_terms_anded() -> None:
    acls = "    acl a path /x\n    acl a path /y\n    acl b hdr(h) 1\n"
    assert run_cond(acls, "a", "/y")
    assert not run_cond(acls, "a b", "/y")
    assert run_cond(acls, "a b", "/x", [("h", "1")])
    assert run_cond(acls, "b || a", "/y")
    assert run_cond(acls, "!b a", "/x")
    assert not run_cond(acls, "!a", "/x")


def test_acl_line_after_the_rule_still_counts() -> None:
    model, _ = parse(HEAD + FE + "    acl a path /x\n    http-request deny if a\n    acl a path /late\n" + TAIL)
    fe = Fe(model.proxies[0])
    assert rules.run_http_request(fe.spec.http_request, make_txn(fe, "GET", "/late")).kind == "deny"


def test_unless_and_empty_conditions() -> None:
    assert not run_cond("", "")  # 'if' alone never matches
    model, _ = parse(HEAD + FE + "    http-request deny unless\n" + TAIL)
    fe = Fe(model.proxies[0])
    assert rules.run_http_request(fe.spec.http_request, make_txn(fe, "GET", "/")).kind == "deny"
    assert run_cond("", "! TRUE !") is False


def test_pattern_file_and_double_dash(tmp_path) -> None:
    f = tmp_path / "pats.lst"
    f.write_text("# comment\n/one\n   /two\n\n-dash\n")
    assert run_cond(f"    acl a path -f {f}\n", "a", "/two")
    assert run_cond(f"    acl a hdr(x) -f {f}\n", "a", headers=[("x", "-dash")])
    assert run_cond("    acl a hdr(x) -i -- -X\n", "a", headers=[("x", "-x")])
    assert not run_cond("    acl a path -- /nope\n", "a", "/x")


def test_predefined_acl_can_be_overridden() -> None:
    assert run_cond("    acl LOCALHOST src 10.0.0.0/8\n", "LOCALHOST", src=("10.1.1.1", 1))
    assert not run_cond("    acl LOCALHOST src 10.0.0.0/8\n", "LOCALHOST", src=("127.0.0.1", 1))
    assert run_cond("", "LOCALHOST", src=("::1", 1))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("http-request deny if foo", "error detected while parsing an 'http-request deny' condition : no such ACL : 'foo'."),
        ("http-request deny if { path /x", ("error detected while parsing an 'http-request deny' condition : missing "
         "closing '}' in condition.")),
        ("http-request deny if { }", ("error detected while parsing an 'http-request deny' condition : missing fetch "
         "method in ACL expression ''.")),
        ("use_backend be if foo", "error detected while parsing switching rule : no such ACL : 'foo'."),
        ("acl a foo(1) x", "error detected while parsing ACL 'a' : unknown fetch method 'foo' in ACL expression 'foo(1)'."),
        ("acl a req.hdr(host x", ("error detected while parsing ACL 'a' : fetch method 'req.hdr' : expected ')' in ACL "
         "expression 'req.hdr(host'.")),
        ("acl a path -m bar x", ("error detected while parsing ACL 'a' : unknown matching method 'bar' when parsing ACL "
         "expression.")),
        ("acl a path -x x", ("error detected while parsing ACL 'a' : '-x' is not a valid ACL option. Please use '--' "
         "before any pattern beginning with a '-'.")),
        ("acl a dst_port abc", "error detected while parsing ACL 'a' : 'abc' is not a number."),
        ("acl a src 1.2.3.400", "error detected while parsing ACL 'a' : '1.2.3.400' is not a valid IPv4 or IPv6 address."),
        ("acl a path -f /nonexist", "error detected while parsing ACL 'a' : failed to open pattern file </nonexist>."),
        ("acl a path_reg (", ("error detected while parsing ACL 'a' : regex '(' is invalid (error=missing closing "
         "parenthesis, erroffset=1).")),
        ("acl a req.hdr(host),foo x", ("error detected while parsing ACL 'a' : unknown converter 'foo' in ACL expression "
         "'req.hdr(host),foo'.")),
        ("acl a hdr_beg(host),foo x", ("error detected while parsing ACL 'a' : ACL keyword 'hdr_beg' : unknown converter "
         "'foo'..")),
        ("acl a var(foo) x", ("error detected while parsing ACL 'a' : invalid args in fetch method 'var' : invalid "
         "variable name 'foo'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', "
         "'req', 'res' or 'check' in ACL expression 'var(foo)'.")),
        ("acl a var(txn.x) x", ("error detected while parsing ACL 'a' : matching method must be specified first (using "
         "'-m') when using a sample fetch of this type ('var').")),
        ("acl a path -f /etc/hostname -m str", ("error detected while parsing ACL 'a' : '-m' must only be specified "
         "before patterns and files in parsing ACL expression.")),
        ("acl a ssl_fc -m ip x", ("error detected while parsing ACL 'a' : matching method 'ip' cannot be used with fetch "
         "keyword 'ssl_fc'.")),
        ("acl a! path x", "character '!' is not permitted in acl name 'a!'."),
        ("acl or path x", ("acl name 'or' will never match. 'or' is used to express a logical disjunction within a "
         "condition.")),
        ("http-request deny if { src 1.2.3.4/33 }", ("error detected while parsing an 'http-request deny' condition : "
         "'1.2.3.4/33' is not a valid IPv4 or IPv6 address.")),
    ],
)
def test_errors(line: str, message: str) -> None:
    assert alerts(f"    {line}\n")[0] == f"ALERT: {message}"


def test_acl_not_allowed_in_anonymous_defaults() -> None:
    _, msgs = parse("defaults\n    acl a path /x\n")
    assert msgs[0] == "ALERT: 'acl' not allowed in anonymous 'defaults' section."


def test_defaults_acls_are_not_visible_to_proxies() -> None:
    text = ("defaults def\n    mode http\n    acl a path /x\n    http-request deny if a\n"
            "frontend fe from def\n    bind :80\n    http-request deny if a\n")
    _, msgs = parse(text)
    assert msgs == ["ALERT: error detected while parsing an 'http-request deny' condition : no such ACL : 'a'."]


def test_warnings() -> None:
    _, msgs = parse(HEAD + FE + "    acl b path_beg\n    acl c path_beg (/x\n    acl d path_beg --\n"
                    "    http-response deny if { path /x }\n    acl p path /y\n    http-response deny if p\n" + TAIL)
    warns = [m for m in msgs if m.startswith("WARNING")]
    assert warns == [
        ("WARNING: parsing acl keyword 'path_beg' :\n  no pattern to match against were provided, so this ACL will never "
        "match.\n  If this is what you intended, please add '--' to get rid of this warning.\n  If you intended to match "
        "only for existence, please use '-m found'.\n  If you wanted to force an int to match as a bool, please use "
        "'-m bool'.\n"),
        ("WARNING: parsing acl 'c' :\n  matching 'path_beg' for pattern '(/x' is likely a mistake and probably\n  not "
        "what you want. Maybe you need to remove the extraneous space before '('.\n  If you are really sure this is "
        "not an error, please insert '--' between the\n  match and the pattern to make this warning message disappear."),
        ("WARNING: anonymous acl will never match because it uses keyword 'path' which is incompatible with 'frontend "
        "http-response header rule'"),
        ("WARNING: acl 'p' will never match because it only involves keywords that are incompatible with 'frontend "
        "http-response header rule'"),
    ]


# ------------------------------------------------------------------ references resolved after parsing
def test_missing_userlist_and_backend_references() -> None:
    _, msgs = parse(HEAD + FE + "    http-request auth if { http_auth(nolist) }\n    acl n nbsrv(nobe) 0\n" + TAIL)
    # one proxy's argument errors make one alert (smp_resolve_args(), as haproxy 2.6 prints them)
    assert msgs[-1:] == [
        ("ALERT: multiple argument resolution errors:\n"
        "        parsing [t.cfg:11]: unable to find userlist 'nolist' referenced in arg 1 of ACL keyword 'http_auth' in "
        "proxy 'fe'.\n"
        "        parsing [t.cfg:12]: unable to find backend 'nobe' referenced in arg 1 of ACL keyword 'nbsrv' in proxy "
        "'fe'."),
    ]


def test_invalid_group_is_reported() -> None:
    _, msgs = parse(HEAD + FE + "    acl g http_auth_group(L) G nope\n    http-request deny if { http_auth_group(L) H }\n"
                    + TAIL)
    assert msgs[-2:] == ["ALERT: proxy fe: acl g http_auth_group(): invalid group 'nope'.",
                         "ALERT: proxy fe: acl  http_auth_group(): invalid group 'H'."]


def test_bad_regsub_regex_reported_after_parsing() -> None:
    _, msgs = parse(HEAD + FE + "    acl a str(a),regsub((,b) x\n" + TAIL)
    assert msgs[-1] == (
        "ALERT: parsing [t.cfg:11]: error in regex '(' in arg 1 of conversion keyword 'regsub' for ACL keyword 'str' "
        "in proxy 'fe' : regex '(' is invalid (error=missing closing parenthesis, erroffset=1)."
    )


# ------------------------------------------------------------------ use_backend / select_backend
SWITCH = HEAD + """frontend fe
    bind 127.0.0.1:27461
    acl api path_beg /api
    use_backend be_api if api
    use_backend be_static if { path_beg /static } !{ path_end .php }
    use_backend be_%[req.hdr(host),lower,field(1,.)] if { hdr_end(host) -i .dyn }
    use_backend %[str(be_),concat(,txn.x)] if { path /var }
    default_backend be
backend be
    server s1 127.0.0.1:27462
backend be_api
    server s1 127.0.0.1:27462
backend be_static
    server s1 127.0.0.1:27462
backend be_one
    server s1 127.0.0.1:27462
"""


class Be:
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture
def switch() -> tuple[Fe, dict[str, Be]]:
    model, msgs = parse(SWITCH)
    assert [m for m in msgs if m.startswith("ALERT")] == []
    return Fe(model.proxies[0]), {n: Be(n) for n in ("be", "be_api", "be_static", "be_one")}


@pytest.mark.parametrize(
    ("uri", "host", "expected"),
    [
        ("/api/x", "h", "be_api"),
        ("/static/a.css", "h", "be_static"),
        ("/static/a.php", "h", "be"),
        ("/other", "ONE.dyn", "be_one"),
        ("/other", "two.dyn", "be"),  # dynamic name that names no backend: default_backend
        ("/other", "h", "be"),
    ],
)
def test_select_backend(switch, uri: str, host: str, expected: str) -> None:
    fe, bes = switch
    t = make_txn(fe, "GET", uri, headers=[("host", host)])
    assert A.select_backend(fe, t.sess, t, bes).name == expected
    assert A.select_backend(fe, t.sess, t, list(bes.values())).name == expected


def test_select_backend_with_variables(switch) -> None:
    fe, bes = switch
    t = make_txn(fe, "GET", "/var")
    t.vars["txn.x"] = "one"
    assert A.select_backend(fe, t.sess, t, bes).name == "be_one"


def test_select_backend_tcp_session(switch) -> None:
    fe, bes = switch
    sess = Session(fe, None, ("127.0.0.1", 1), ("127.0.0.1", 80))
    # HTTP fetches return nothing without a transaction: no HTTP condition matches
    assert A.select_backend(fe, sess, None, bes).name == "be"


def test_use_backend_compiled_on_the_rule(switch) -> None:
    fe, _ = switch
    ubs = fe.spec.use_backends
    assert isinstance(ubs[0], UseBackend) and ubs[0].compiled.pol == "if" and not ubs[0].dynamic
    assert ubs[2].dynamic and ubs[2].render is not None
    assert [n for _e, _n, n in ubs[1].compiled.suites[0]] == ["", ""]  # two anonymous ACLs ANDed


def test_listen_uses_its_own_servers_by_default() -> None:
    model, _msgs = parse(HEAD + "listen li\n    bind :1\n    use_backend be if { path /x }\n    server s 127.0.0.1:2\n"
                        "backend be\n    server s 127.0.0.1:3\n")
    fe = Fe(model.proxies[0])
    bes = {"li": Be("li"), "be": Be("be")}
    assert A.select_backend(fe, None, make_txn(fe, "GET", "/y"), bes).name == "li"
    assert A.select_backend(fe, None, make_txn(fe, "GET", "/x"), bes).name == "be"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("use_backend", "'use_backend' expects a backend name."),
        ("use_backend be foo", "unexpected keyword 'foo' after switching rule, only 'if' and 'unless' are allowed."),
        ("use_backend be if TRUE foo", "error detected while parsing switching rule : no such ACL : 'foo'."),
    ],
)
def test_use_backend_errors(line: str, message: str) -> None:
    assert alerts(f"    {line}\n")[0] == f"ALERT: {message}"


def test_dynamic_use_backend_error_is_reported_after_parsing() -> None:
    _, msgs = parse(HEAD + FE + "    use_backend %[req.hdr(host),foo]\n" + TAIL)
    assert msgs[-1] == ("ALERT: Parsing [t.cfg:11]: failed to parse use_backend rule '%[req.hdr(host),foo]' : failed "
                        "to parse sample expression <req.hdr(host),foo]> : unknown converter 'foo'.")
