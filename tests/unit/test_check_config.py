"""Health-check keywords through the configuration parser (gproxy.checks.config).

Error texts are HAProxy 2.6.12's (``haproxy -c``); the part after ``'server be/s1' : ``
or ``parsing [f:l] : `` is what a handler raises.
"""

from __future__ import annotations

import importlib

import pytest

for _mod in ("gproxy.proxy", "gproxy.backend", "gproxy.check"):
    importlib.import_module(_mod)

from gproxy.checks import config as C
from gproxy.checks import rules as R
from gproxy.config.model import Model, Proxy
from gproxy.config.parser import Parser

HEAD = "defaults\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"


def parse(text: str) -> tuple[Model, list[str]]:
    p = Parser()
    p.parse_text(text, "t.cfg")
    return p.model, [f"{m.level}: {m.text}" for m in p.diag.messages]


def backend(model: Model, name: str = "b") -> Proxy:
    px = model.find_backend(name)
    assert px is not None
    return px


def server_errors(params: str) -> list[str]:
    _, msgs = parse(HEAD + f"backend b\n    server s1 127.0.0.1:80 {params}\n")
    return msgs


# ------------------------------------------------------------------ server parameters
def test_server_check_parameters() -> None:
    model, msgs = parse(HEAD + "backend b\n"
                        "    default-server inter 3s fastinter 1s downinter 5s rise 3 fall 2\n"
                        "    server s1 127.0.0.1:80 check port 9200 addr 127.0.0.2 on-marked-down shutdown-sessions "
                        "on-marked-up shutdown-backup-sessions check-send-proxy\n"
                        "    server s2 127.0.0.1:80 check no-check inter 10us\n")
    assert msgs == []
    s1, s2 = backend(model).servers
    assert (s1.check, s1.inter, s1.fastinter, s1.downinter, s1.rise, s1.fall) == (True, 3000, 1000, 5000, 3, 2)
    assert (s1.check_port, s1.check_addr, s1.check_send_proxy) == (9200, "127.0.0.2", True)
    assert (s1.on_marked_down, s1.on_marked_up) == ("shutdown-sessions", "shutdown-backup-sessions")
    assert (s2.check, s2.inter) == (False, 1)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("inter abc", "unexpected character 'a' in 'agent-inter' argument of server s1.."),
        ("inter 0", "invalid value 0 for argument 'inter' of server s1.."),
        ("inter 10x", "unexpected character 'x' in 'agent-inter' argument of server s1.."),
        ("inter 3000000000", ("timer overflow in argument <3000000000> to <inter> of server s1, maximum value is "
         "2147483647 ms (~24.8 days)..")),
        ("downinter -5", "unexpected character '-' in 'agent-inter' argument of server s1.."),
        ("rise 0", "'rise' has to be > 0.."),
        ("rise abc", "'rise' has to be > 0.."),
        ("fall -1", "'fall' has to be > 0.."),
        ("addr foo..bar", "'addr' : invalid address: 'foo..bar' in 'foo..bar'."),
        ("on-marked-down x", "'on-marked-down' expects 'shutdown-sessions' but got 'x'."),
        ("on-marked-up y", "'on-marked-up' expects 'shutdown-backup-sessions' but got 'y'."),
        ("observe foo", "'observe' expects one of 'none', 'layer4', 'layer7' but got 'foo'."),
        ("observe layer7", "'layer7' can only be used in http proxies.."),
    ],
)
def test_server_parameter_errors(params: str, message: str) -> None:
    assert server_errors(params) == [f"ALERT: {message}"]


def test_default_server_errors_name_default_server() -> None:
    _, msgs = parse(HEAD + "backend b\n    default-server inter abc\n")
    assert msgs == ["ALERT: unexpected character 'a' in 'agent-inter' argument of server default-server.."]


def test_port_is_atol_in_an_unsigned_short() -> None:
    model, msgs = parse(HEAD + "backend b\n    server s1 127.0.0.1:80 check port 99999\n"
                        "    server s2 127.0.0.1:80 check port abc\n    server s3 127.0.0.1:80 rise 5x\n")
    assert msgs == []
    s1, s2, s3 = backend(model).servers
    assert (s1.check_port, s2.check_port, s3.rise) == (34463, None, 5)


def test_addr_with_port() -> None:
    model, msgs = parse(HEAD + "backend b\n    server s1 127.0.0.1:80 check addr 1.2.3.4:81\n")
    assert msgs == []
    s1 = backend(model).servers[0]
    assert (s1.check_addr, s1.extra["check_addr_port"]) == ("1.2.3.4", 81)


def test_trailing_timer_characters_warn() -> None:
    msgs = server_errors("inter 1s5")
    assert msgs == [("WARNING: unexpected character '5' after the timer value '1s5', only (us=microseconds,"
                    "ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported "
                    "as an error in next versions.")]


def test_agent_keywords_warn() -> None:
    msgs = server_errors("agent-check agent-port 99 agent-inter 5s agent-send foo")
    assert msgs == [f"WARNING: '{k}' is not implemented by gproxy yet and is ignored."
                    for k in ("agent-check", "agent-port", "agent-inter", "agent-send")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", (10, None)), ("10us", (1, None)), ("1s", (1000, None)), ("2m", (120000, None)),
        ("1h", (3600000, None)), ("1d", (86400000, None)), ("0", (0, None)), ("abc", (0, "a")),
        ("10x", (0, "x")), ("5u", (0, "u")), ("3000000000", (0, C.TIME_OVER)), ("25d", (0, C.TIME_OVER)),
    ],
)
def test_parse_time_err(text: str, expected: tuple[int, str | None]) -> None:
    value, err, _ = C.parse_time_err(text)
    assert (value, err) == expected


# ------------------------------------------------------------------ options
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("option httpchk GET / HTTP/1.1 extra", "'option httpchk' cannot handle unexpected argument 'extra'."),
        ("no option httpchk", "negation/default is not supported for option 'httpchk'."),
        ("option mysql-check user", "'option mysql-check user' expects <username> as argument."),
        ("option mysql-check foo", "'option mysql-check' only supports optional values: 'user' (got 'foo')."),
        ("option mysql-check user x post-42", "keyword 'user' only supports 'post-41' and 'pre-41' (got 'post-42')."),
        ("option mysql-check user x post-41 z", "'option mysql-check' cannot handle unexpected argument 'z'."),
        ("option redis-check x", "'option redis-check' cannot handle unexpected argument 'x'."),
        ("option tcp-check x", "'option tcp-check' cannot handle unexpected argument 'x'."),
        ("option ssl-hello-chk x", "'option ssl-hello-chk' cannot handle unexpected argument 'x'."),
        ("option smtpchk EHLO a.b c", "'option smtpchk' cannot handle unexpected argument 'c'."),
        ("option pgsql-check", "'option pgsql-check' expects 'user <username>' as argument."),
        ("option ldap-check x", "'option ldap-check' cannot handle unexpected argument 'x'."),
        ("http-check disable-on-404 x", "'http-check' cannot handle unexpected argument 'x'."),
        ("http-check send-state x", "'http-check' cannot handle unexpected argument 'x'."),
        ("tcp-check expect ! min-recv 3 string a", "'tcp-check expect' : [!] not supported with 'min-recv'."),
    ],
)
def test_option_errors(line: str, message: str) -> None:
    _, msgs = parse(HEAD + f"backend b\n    {line}\n")
    assert msgs == [f"ALERT: {message}"]


def test_check_kinds() -> None:
    model, msgs = parse(HEAD + "backend a\n    option httpchk GET /h HTTP/1.1\n"
                        "backend m\n    option mysql-check user haproxy pre-41\n"
                        "backend r\n    option redis-check\n"
                        "backend s\n    option smtpchk\n")
    assert msgs == [("WARNING: 'option smtpchk' is not implemented by gproxy yet: servers get a TCP connect check "
                    "instead.")]
    a = backend(model, "a")
    assert (a.check_kind, a.httpchk.method, a.httpchk.uri, a.httpchk.version) == ("httpchk", "GET", "/h", "HTTP/1.1")
    assert (backend(model, "m").check_kind, backend(model, "m").check_args) == ("mysql-check",
                                                                                 ["user", "haproxy", "pre-41"])
    assert backend(model, "r").check_kind == "redis-check"
    assert backend(model, "s").check_kind == "smtpchk"
    assert R.build_ruleset(backend(model, "s")).proto == R.PROTO_DEFAULT


def test_httpchk_hidden_headers_warning() -> None:
    _, msgs = parse(HEAD + "backend b\n    option httpchk get /lower HTTP/1.1\\r\\nHost:\\ www\n")
    assert msgs == [("WARNING: 'option httpchk' : hiding headers or body at the end of the version string is "
                    "deprecated. Please, consider to use 'http-check send' directive instead.")]


def test_log_health_checks_and_http_check_flags() -> None:
    model, msgs = parse(HEAD + "backend b\n    option log-health-checks\n    option httpchk\n"
                        "    http-check disable-on-404\n    http-check send-state\n"
                        "backend c\n    no option log-health-checks\n")
    assert msgs == []
    b = backend(model)
    assert b.options["log-health-checks"] and b.options["http-check disable-on-404"]
    assert b.options["http-check send-state"]
    assert backend(model, "c").options["log-health-checks"] is False
    rs = R.build_ruleset(b)
    assert rs.disable404 and rs.send_state


# ------------------------------------------------------------------ rule lists
def test_http_check_order_error_at_the_right_line() -> None:
    _, msgs = parse(HEAD + "backend d\n    http-check send meth HEAD hdr X-A 1\n    option httpchk GET /d\n"
                    "    http-check send uri /d2 hdr X-B 2\n")
    assert msgs == [("ALERT: 'http-check send' : unable to add http-check send rule at step 2 (missing connect "
                    "rule)..")]


def test_http_check_rules_and_merge() -> None:
    model, msgs = parse(HEAD + "backend d\n    http-check send meth HEAD hdr X-A 1\n    option httpchk GET /d\n"
                        "    http-check expect status 200\n")
    assert msgs == []
    rs = R.build_ruleset(backend(model, "d"))
    assert [r.action for r in rs.rules] == ["connect", "send", "expect"]
    send = rs.rules[1]
    assert send.http is not None and R.http_request(send.http) == b"GET /d HTTP/1.0\r\nx-a: 1\r\n\r\n"


def test_defaults_rules_are_inherited_until_the_backend_has_its_own() -> None:
    text = ("defaults\n    timeout connect 1s\n    option tcp-check\n    tcp-check send PING\\r\\n\n"
            "    tcp-check expect string PONG\n"
            "backend a\n    server s1 127.0.0.1:80 check\n"
            "backend b\n    tcp-check send HELLO\\r\\n\n    server s1 127.0.0.1:80 check\n")
    model, msgs = parse(text)
    assert msgs == []
    ra = R.build_ruleset(backend(model, "a")).rules
    rb = R.build_ruleset(backend(model, "b")).rules
    assert [(r.action, r.data) for r in ra] == [("connect", b""), ("send", b"PING\r\n"), ("expect", b"")]
    assert [(r.action, r.data) for r in rb] == [("connect", b""), ("send", b"HELLO\r\n")]


def test_inherited_httpchk_with_backend_expect_only() -> None:
    text = ("defaults\n    timeout connect 1s\n    option httpchk GET /fromdefaults\n"
            "backend a\n    http-check expect status 200\n    server s1 127.0.0.1:80 check\n"
            "backend b\n    server s1 127.0.0.1:80 check\n")
    model, msgs = parse(text)
    assert msgs == []
    assert [r.action for r in R.build_ruleset(backend(model, "a")).rules] == ["connect", "expect"]
    rb = R.build_ruleset(backend(model, "b")).rules
    assert rb[1].http is not None and R.http_request(rb[1].http) == b"GET /fromdefaults HTTP/1.0\r\n\r\n"


# ------------------------------------------------------------------ post-parse messages
def test_validate_unused_rules_and_ignored_options() -> None:
    model, _ = parse(HEAD + "backend b\n    http-check expect status 200\n    server s1 127.0.0.1:80 check\n"
                     "backend c\n    tcp-check expect string a\n    server s1 127.0.0.1:80 check\n"
                     "backend d\n    tcp-check expect string a\n    option httpchk\n    server s1 127.0.0.1:80 check\n"
                     "backend e\n    option tcp-check\n    http-check disable-on-404\n")
    assert C.validate(backend(model, "b")) == [
        ("warning", "backend 'b' uses http-check rules without 'option httpchk', so the rules are ignored.")]
    assert C.validate(backend(model, "c")) == [
        ("warning", "backend 'c' uses tcp-check rules without 'option tcp-check', so the rules are ignored.")]
    assert C.validate(backend(model, "d")) == []
    assert C.validate(backend(model, "e")) == [
        ("warning", "'disable-on-404' will be ignored for backend 'e' (requires 'option httpchk').")]


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ("", "has neither service port nor check port."),
        ("option httpchk", ("has neither service port nor check port nor tcp_check rule 'connect' with port "
         "information.")),
        ("option tcp-check", "has neither service port nor check port."),
        ("option tcp-check\n    tcp-check connect port 80", None),
        ("option tcp-check\n    tcp-check connect port 80\n    tcp-check connect",
         "has neither service port nor check port, and a tcp_check rule 'connect' with no port information."),
        ("option redis-check", ("has neither service port nor check port nor tcp_check rule 'connect' with port "
         "information.")),
    ],
)
def test_validate_check_port(opts: str, message: str | None) -> None:
    model, msgs = parse(HEAD + f"backend b\n    {opts}\n    server s1 127.0.0.1 check\n")
    assert msgs == []
    got = C.validate(backend(model))
    if message is None:
        assert got == []
    else:
        assert got == [("alert", f"config: backend 'b': server 's1' {message}")]


def test_log_format_expressions_warn() -> None:
    _, msgs = parse(HEAD + "backend b\n    option httpchk\n    http-check send hdr Host %[srv_name]\n"
                    "    http-check send-state\n    tcp-check send-lf %[var(x)]\n    http-check expect status 200\n")
    assert msgs == [
        ("WARNING: 'http-check send' : gproxy does not evaluate log-format expressions yet; '%[srv_name]' is used as "
        "written."),
        ("WARNING: 'tcp-check send-lf' : gproxy does not evaluate log-format expressions yet; '%[var(x)]' is used as "
        "written."),
    ]


def test_http_hdr_value_match_methods() -> None:
    rule = R.parse_expect(["hdr", "name", "-m", "beg", "x-st", "value", "-m", "sub", "in"], True)
    assert (rule.hdr_name, rule.hdr_name_match, rule.hdr_value, rule.hdr_value_match) == ("x-st", "beg", "in", "sub")
    resp = R.HttpResponse.parse(b"HTTP/1.1 200 OK\r\nX-Status: fine\r\n\r\n", True)
    assert R.eval_expect_http(rule, resp, True, True, False).action == R.CONTINUE
