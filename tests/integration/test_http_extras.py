"""``mode http`` extras, each checked against ``haproxy -db`` 2.6:

* ``errorloc`` / ``errorloc302`` / ``errorloc303``: a redirect instead of the error page
  (deny, no server), connection handling, the logged status;
* ``option http-restrict-req-hdr-names preserve|delete|reject``: after each proxy's
  ``http-request`` rules, for the frontend and again for a different backend; a refusal
  is a 403 deny (``PR--``), answered with the proxies' error pages;
* ``h1-case-adjust`` / ``h1-case-adjust-file`` / ``option h1-case-adjust-bogus-client|server``:
  what haproxy sends is what ``gproxy.http.casing.adjust`` computes, and what gproxy
  sends to clients and servers is the same.

Two kinds of tests: the ``proxy`` fixture (gproxy, or haproxy with
``GPROXY_TEST_PROXY=haproxy``) with exact bytes and log lines, and differential runs
(``tests/differential`` harness: the same config under haproxy and gproxy, every aspect
compared), skipped without haproxy.
"""

from __future__ import annotations

import re

import pytest
from differential.corpus import DIFF_HEAD, STD, Config, req, scenario
from differential.harness import Pair, assert_same, needs_haproxy
from helpers import free_port

from gproxy.http import casing
from integration.httpkit import exchange, parse_httplog

pytestmark = pytest.mark.timeout(60)


OK_RSP = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
DENIED = (b"HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\n"
          b"location: http://example.com/denied\r\n")
SORRY = b"HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: /sorry?x=1\r\n"


def page(code: int, reason: str, text: str) -> bytes:
    body = f"<html><body><h1>{code} {reason}</h1>\n{text}\n</body></html>\n".encode()
    return (f"HTTP/1.1 {code} {reason}\r\ncontent-length: {len(body)}\r\ncache-control: no-cache\r\n"
            "content-type: text/html\r\n\r\n").encode() + body


P403 = page(403, "Forbidden", "Request forbidden by administrative rules.")
P404 = page(404, "Not Found", "The resource could not be found.")


def log_of(syslog, n: int = 1) -> list[dict]:
    from helpers import wait_for

    def got():
        lines = [x for x in (parse_httplog(ln) for ln in syslog.lines) if x]
        return lines if len(lines) >= n else None

    return wait_for(got, timeout=5, what=f"{n} httplog line(s)")


# ====================================================================== errorloc
def errorloc_conf(port: int, syslog_port: int, backend_port: int) -> str:
    return (
        f"global\n    log 127.0.0.1:{syslog_port} local0\n"
        "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n"
        "    timeout client 5s\n    timeout server 2s\n"
        f"frontend fe\n    bind 127.0.0.1:{port}\n"
        "    errorloc 403 http://example.com/denied\n"
        "    errorloc303 503 /sorry?x=1\n"
        "    http-request deny if { path /deny }\n"
        "    http-request deny deny_status 404 if { path /d404 }\n"
        "    use_backend bnosrv if { path /nosrv }\n"
        "    use_backend bfe503 if { path /fe503 }\n"
        "    default_backend be\n"
        f"backend be\n    errorloc302 404 /nf\n    server s1 127.0.0.1:{backend_port}\n"
        "backend bnosrv\n    errorloc302 503 /be-sorry\n    server s1 127.0.0.1:1 disabled\n"
        "backend bfe503\n    server s1 127.0.0.1:1 disabled\n"
    )


def start_errorloc(proxy, syslog, backend) -> int:
    port = free_port()
    proxy(errorloc_conf(port, syslog.port, backend.port), wait_ports=[port])
    return port


def test_errorloc_deny_keeps_the_connection(proxy, syslog, backend):
    port = start_errorloc(proxy, syslog, backend)
    out = exchange(port, [b"GET /deny HTTP/1.1\r\nHost: x\r\n\r\n", None, b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"])
    assert out == DENIED + b"\r\n" + OK_RSP + b"<OPEN>"
    f1, f2 = log_of(syslog, 2)
    # the log shows the deny status, not the redirect's
    assert (f1["ft"], f1["b"], f1["s"], f1["ST"], f1["tsc"], f1["r"]) == (
        "fe", "fe", "<NOSRV>", "403", "PR--", "GET /deny HTTP/1.1")
    assert (f2["ST"], f2["tsc"]) == ("200", "----")


@pytest.mark.parametrize(
    "request_,tail,end",
    [
        (b"GET /deny HTTP/1.0\r\n\r\n", b"connection: close\r\n", b"<EOF>"),
        (b"GET /deny HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", b"connection: keep-alive\r\n", b"<OPEN>"),
        (b"POST /deny HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", b"connection: close\r\n", b"<EOF>"),
    ],
    ids=["http10", "http10-keepalive", "body-unread"],
)
def test_errorloc_connection_header(proxy, syslog, backend, request_, tail, end):
    port = start_errorloc(proxy, syslog, backend)
    assert exchange(port, [request_]) == DENIED + tail + b"\r\n" + end


def test_errorloc_of_the_backend_then_the_frontend(proxy, syslog, backend):
    port = start_errorloc(proxy, syslog, backend)
    be = b"HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: /be-sorry\r\n\r\n"
    assert exchange(port, [b"GET /nosrv HTTP/1.1\r\nHost: x\r\n\r\n"]).startswith(be)
    assert exchange(port, [b"GET /fe503 HTTP/1.1\r\nHost: x\r\n\r\n"]).startswith(SORRY + b"\r\n")
    f1, f2 = log_of(syslog, 2)
    assert (f1["b"], f1["ST"]) == ("bnosrv", "503")
    assert (f2["b"], f2["ST"]) == ("bfe503", "503")


def test_frontend_deny_ignores_the_backend_errorloc(proxy, syslog, backend):
    """A deny in the frontend happens before a backend is chosen: its 404 errorloc does
    not apply (haproxy sends the built-in 404 page)."""
    port = start_errorloc(proxy, syslog, backend)
    assert exchange(port, [b"GET /d404 HTTP/1.1\r\nHost: x\r\n\r\n"]) == P404 + b"<OPEN>"
    assert exchange(port, [b"HEAD /d404 HTTP/1.1\r\nHost: x\r\n\r\n"]) == P404.split(b"\r\n\r\n")[0] + b"\r\n\r\n<OPEN>"


# ====================================================================== http-restrict-req-hdr-names
def restrict_conf(ports: dict[str, int], syslog_port: int, backend_port: int) -> str:
    return (
        f"global\n    log 127.0.0.1:{syslog_port} local0\n"
        "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n"
        "    timeout client 5s\n    timeout server 2s\n"
        f"frontend rej\n    bind 127.0.0.1:{ports['rej']}\n    option http-restrict-req-hdr-names reject\n"
        "    http-request deny deny_status 401 if { path /rules-first }\n"
        "    default_backend be\n"
        f"frontend del\n    bind 127.0.0.1:{ports['del']}\n    option http-restrict-req-hdr-names delete\n"
        "    http-request set-header x_added yes\n"
        "    http-request set-header x-seen %[req.hdr(x_y)]\n"
        "    default_backend be\n"
        f"frontend sw\n    bind 127.0.0.1:{ports['sw']}\n    errorloc 403 http://example.com/denied\n"
        "    use_backend bdel if { path_beg /del }\n    use_backend brej if { path_beg /rej }\n"
        "    default_backend be\n"
        f"backend be\n    server s1 127.0.0.1:{backend_port}\n"
        f"backend bdel\n    option http-restrict-req-hdr-names delete\n    server s1 127.0.0.1:{backend_port}\n"
        f"backend brej\n    option http-restrict-req-hdr-names reject\n    server s1 127.0.0.1:{backend_port}\n"
    )


@pytest.fixture
def restrict(proxy, syslog, backend):
    ports = {name: free_port() for name in ("rej", "del", "sw")}
    proxy(restrict_conf(ports, syslog.port, backend.port), wait_ports=list(ports.values()))
    return ports


BAD = b"GET /x HTTP/1.1\r\nHost: x\r\nx_y: 1\r\nX-Ok: 2\r\nx.z: 3\r\nAccept: */*\r\n\r\n"


def test_reject_in_the_frontend_is_a_403_deny(restrict, syslog, backend):
    assert exchange(restrict["rej"], [BAD, None, b"GET /fine HTTP/1.1\r\nHost: x\r\nX-Ok: 1\r\n\r\n"]) == (
        P403 + OK_RSP + b"<OPEN>")
    assert [r.head.split(b"\r\n")[0] for r in backend.requests] == [b"GET /fine HTTP/1.1"]
    f1, f2 = log_of(syslog, 2)
    assert (f1["b"], f1["s"], f1["ST"], f1["tsc"]) == ("rej", "<NOSRV>", "403", "PR--")
    assert (f2["ST"], f2["tsc"]) == ("200", "----")


def test_http_request_rules_run_first(restrict, syslog, backend):
    assert exchange(restrict["rej"], [BAD.replace(b"/x", b"/rules-first")]).startswith(b"HTTP/1.1 401 Unauthorized\r\n")


def test_delete_after_the_frontend_rules(restrict, syslog, backend):
    """The rules still see ``x_y`` (copied into ``x-seen``); the header a rule added with
    a bad name is deleted too."""
    assert exchange(restrict["del"], [BAD]) == OK_RSP + b"<OPEN>"
    (r,) = backend.requests
    assert [k for k, _ in r.headers] == [b"host", b"x-ok", b"accept", b"x-seen"]
    assert r.header("x-seen") == "1"


def test_backend_delete_and_reject(restrict, syslog, backend):
    assert exchange(restrict["sw"], [BAD.replace(b"/x", b"/del")]) == OK_RSP + b"<OPEN>"
    (r,) = backend.requests
    assert [k for k, _ in r.headers] == [b"host", b"x-ok", b"accept"]
    # refused by the backend: the frontend's errorloc 403 answers, the backend is logged
    assert exchange(restrict["sw"], [BAD.replace(b"/x", b"/rej")]) == DENIED + b"\r\n<OPEN>"
    assert len(backend.requests) == 1
    _, f = log_of(syslog, 2)
    assert (f["ft"], f["b"], f["s"], f["ST"], f["tsc"]) == ("sw", "brej", "<NOSRV>", "403", "PR--")


def test_no_option_no_change(restrict, syslog, backend):
    assert exchange(restrict["sw"], [BAD]) == OK_RSP + b"<OPEN>"
    (r,) = backend.requests
    assert [k for k, _ in r.headers] == [b"host", b"x_y", b"x-ok", b"x.z", b"accept"]


# ====================================================================== differential runs
ERRLOC = Config("extras-errorloc", DIFF_HEAD + """
frontend fe
    bind 127.0.0.1:@fe@
    errorloc 403 http://example.com/denied
    errorloc303 503 /sorry?x=1
    http-request deny if { path /deny }
    use_backend bnosrv if { path /nosrv }
    use_backend bdead if { path /dead }
    default_backend be

backend be
    server s1 127.0.0.1:@s1@

backend bnosrv
    errorloc302 503 /be-sorry
    server s1 127.0.0.1:@s1@ disabled

backend bdead
    retries 0
    server s1 127.0.0.1:@dead@
""", ("fe",), dead=("dead",))

RESTRICT = Config("extras-restrict", DIFF_HEAD + """
frontend rej
    bind 127.0.0.1:@rej@
    option http-restrict-req-hdr-names reject
    default_backend be

frontend del
    bind 127.0.0.1:@del@
    option http-restrict-req-hdr-names delete
    http-request set-header x_added yes
    http-request set-header x-seen %[req.hdr(x_y)]
    default_backend be

frontend sw
    bind 127.0.0.1:@sw@
    use_backend bdel if { path_beg /del }
    use_backend brej if { path_beg /rej }
    default_backend be

listen li
    bind 127.0.0.1:@li@
    option http-restrict-req-hdr-names delete
    server s1 127.0.0.1:@s1@

backend be
    server s1 127.0.0.1:@s1@

backend bdel
    option http-restrict-req-hdr-names delete
    server s1 127.0.0.1:@s1@

backend brej
    option http-restrict-req-hdr-names reject
    server s1 127.0.0.1:@s1@
""", ("rej", "del", "sw", "li"))

BAD_HDRS = (("x_y", "1"), ("X-Ok", "2"), ("x.z", "3"), ("x-my_hdr-2", "4"), ("x-trailing_", "5"))


#: a ``mode tcp`` frontend whose backend is ``mode http``: HAProxy upgrades the connection
UPGRADE = Config("extras-upgrade", DIFF_HEAD + """
frontend raw
    mode tcp
    bind 127.0.0.1:@raw@
    default_backend web

frontend rawsw
    mode tcp
    bind 127.0.0.1:@rawsw@
    tcp-request inspect-delay 1s
    tcp-request content accept if { req.len gt 0 }
    use_backend web if { src 127.0.0.1 }
    default_backend be

backend web
    option forwardfor
    http-request set-header x-upgraded yes
    http-response set-header x-seen-by gproxy-or-haproxy
    server s1 127.0.0.1:@s1@

backend be
    server s1 127.0.0.1:@s1@
""", ("raw", "rawsw"))


#: ``http-request auth`` answers 407 (proxy-authenticate) to a proxy request: ``option
#: http-use-proxy-header`` and a URI that is not origin-form (HAProxy's TX_USE_PX_CONN)
PXAUTH = Config("extras-pxauth", DIFF_HEAD + """
userlist ul
    user u insecure-password p

frontend px
    bind 127.0.0.1:@px@
    option http-use-proxy-header
    http-request auth realm R unless { http_auth(ul) }
    default_backend be

frontend plain
    bind 127.0.0.1:@plain@
    http-request auth unless { http_auth(ul) }
    default_backend be

backend be
    server s1 127.0.0.1:@s1@
""", ("px", "plain"))


ERRLOC_SCENARIOS = [
    scenario("deny", ERRLOC, "fe", (req(uri="/deny"), req(uri="/next"))),
    scenario("deny-http10", ERRLOC, "fe", req(uri="/deny", version="HTTP/1.0")),
    scenario("deny-head", ERRLOC, "fe", req("HEAD", "/deny")),
    scenario("nosrv-backend", ERRLOC, "fe", req(uri="/nosrv")),
    scenario("refused-frontend", ERRLOC, "fe", req(uri="/dead")),
]
RESTRICT_SCENARIOS = [
    scenario("fe-reject", RESTRICT, "rej", (req(extra=BAD_HDRS), req(uri="/next"))),
    scenario("fe-reject-clean", RESTRICT, "rej", req()),
    scenario("fe-delete", RESTRICT, "del", req(extra=BAD_HDRS)),
    scenario("be-delete", RESTRICT, "sw", req(uri="/del", extra=BAD_HDRS)),
    scenario("be-reject", RESTRICT, "sw", req(uri="/rej", extra=BAD_HDRS)),
    scenario("none", RESTRICT, "sw", req(extra=BAD_HDRS)),
    scenario("listen-delete", RESTRICT, "li", req(extra=BAD_HDRS)),
]
# keep-alive-two first: after an earlier scenario left an idle server connection, haproxy
# still sends an upgraded connection's second request over the connection of its first
# one where gproxy's idle-pool estimate takes the older idle connection (known difference)
UPGRADE_SCENARIOS = [
    scenario("keep-alive-two", UPGRADE, "raw", (req(uri="/one"), req(uri="/two"))),
    scenario("get", UPGRADE, "raw", req()),
    scenario("http10", UPGRADE, "raw", req(version="HTTP/1.0")),
    scenario("post", UPGRADE, "raw", req("POST", "/p", body=b"hello", extra=(("Content-Length", "5"),))),
    scenario("bad-request", UPGRADE, "raw", b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
    scenario("content-rules", UPGRADE, "rawsw", req()),
]
PXAUTH_SCENARIOS = [
    scenario("proxy-request", PXAUTH, "px", req(uri="http://example.com/a")),
    scenario("origin-form", PXAUTH, "px", req(uri="/a")),
    scenario("no-option", PXAUTH, "plain", req(uri="http://example.com/a")),
    scenario("proxy-request-authorized", PXAUTH, "px",
         req(uri="http://example.com/a", extra=(("Proxy-Authorization", "Basic dTpw"),))),
    scenario("proxy-request-www-authorization", PXAUTH, "px",
         req(uri="http://example.com/a", extra=(("Authorization", "Basic dTpw"),))),
]


@needs_haproxy
def test_differential_errorloc(tmp_path):
    assert_same(ERRLOC, ERRLOC_SCENARIOS, tmp_path)


@needs_haproxy
def test_differential_restrict(tmp_path):
    assert_same(RESTRICT, RESTRICT_SCENARIOS, tmp_path)


# ====================================================================== h1-case-adjust
CASE_MAP = b"# from the file\nuser-agent User-AGENT\ncontent-length Content-Length\n  location\tLOCATION \n"

CASING = Config("extras-casing", """\
global
    h1-case-adjust content-type Content-Type
    h1-case-adjust x-mixed-case X-Mixed-CASE
    h1-case-adjust connection Connection
    h1-case-adjust x-backend X-BackEnd
    h1-case-adjust host HOST
    h1-case-adjust Accept accept
    h1-case-adjust-file @dir@/case.map
""" + DIFF_HEAD + """
frontend both
    bind 127.0.0.1:@both@
    option h1-case-adjust-bogus-client
    default_backend bogus

frontend cli
    bind 127.0.0.1:@cli@
    option h1-case-adjust-bogus-client
    errorloc 403 /denied
    http-request deny if { path /deny }
    default_backend be

frontend srv
    bind 127.0.0.1:@srv@
    default_backend bogus

frontend plain
    bind 127.0.0.1:@plain@
    default_backend be

backend bogus
    option h1-case-adjust-bogus-server
    server s1 127.0.0.1:@s1@

backend be
    server s1 127.0.0.1:@s1@
""", ("both", "cli", "srv", "plain"), files={"case.map": CASE_MAP})

CASING_SCENARIOS = [
    scenario("both", CASING, "both", req()),
    scenario("both-http10-ka", CASING, "both", req(version="HTTP/1.0", headers=(*STD, ("Connection", "keep-alive")))),
    scenario("client-only", CASING, "cli", req()),
    scenario("client-deny", CASING, "cli", req(uri="/deny")),
    scenario("server-only", CASING, "srv", req()),
    scenario("none", CASING, "plain", req()),
]

#: the table haproxy builds from CASING's global section and file
CASING_TABLE = {"content-type": "Content-Type", "x-mixed-case": "X-Mixed-CASE", "connection": "Connection",
                "x-backend": "X-BackEnd", "host": "HOST", "Accept": "accept", "user-agent": "User-AGENT",
                "content-length": "Content-Length", "location": "LOCATION"}


@needs_haproxy
def test_haproxy_case_adjust_is_casing_adjust(tmp_path):
    """What haproxy sends, both ways, is ``casing.adjust(lower-case names, table)`` with the
    table of the frontend (``bogus-client``, responses) or the backend (``bogus-server``,
    requests), and nothing without the option."""
    from gproxy.config import load

    (tmp_path / "check").mkdir()
    (tmp_path / "check" / "case.map").write_bytes(CASE_MAP)
    cfg = tmp_path / "check" / "c.cfg"
    cfg.write_text(re.sub(r"@\w+@", "1", CASING.text.replace("@dir@", str(tmp_path / "check"))))
    model, diag = load([str(cfg)])
    assert not diag.fatal
    assert casing.table_of(model.glob) == CASING_TABLE
    by_name = {p.name: p for p in model.proxies}

    pair = Pair(CASING, tmp_path / "pair", self_test=True)
    try:
        for s in CASING_SCENARIOS:
            h, _ = pair.run(s)
            assert not h.error and h.responses, f"{s.id}: {h.error or h.raw!r}"
            fe = by_name[s.frontend]
            be = by_name[fe.default_backend]
            cli_table = casing.client_table(fe, model.glob) or {}
            srv_table = casing.server_table(be, model.glob) or {}
            for m in h.responses:
                names = [k for k, _ in m.headers]
                assert names == [k for k, _ in casing.adjust([(n.lower(), "") for n in names], cli_table)], s.id
            for r in h.records:
                names = [k for k, _ in r.msg.headers]
                assert names == [k for k, _ in casing.adjust([(n.lower(), "") for n in names], srv_table)], s.id
            if s.id == "both":
                (r,) = h.records
                assert [k for k, _ in r.msg.headers] == ["HOST", "User-AGENT", "accept", "X-Mixed-CASE"]
                assert [k for k, _ in h.responses[0].headers] == ["Content-Type", "X-BackEnd", "Content-Length"]
            if s.id == "client-deny":
                assert [k for k, _ in h.responses[0].headers] == ["cache-control", "Content-Length", "LOCATION"]
            if s.id == "both-http10-ka":
                assert [k for k, _ in h.responses[0].headers][-1] == "Connection"
    finally:
        pair.stop()


@needs_haproxy
def test_differential_case_adjust(tmp_path):
    assert_same(CASING, CASING_SCENARIOS, tmp_path)


@needs_haproxy
def test_differential_tcp_frontend_http_backend(tmp_path):
    """A tcp frontend handing its connection to an http backend gets HTTP processing
    (forwardfor, http-request/response rules, keep-alive, error pages) as in haproxy."""
    assert_same(UPGRADE, UPGRADE_SCENARIOS, tmp_path)


@needs_haproxy
def test_differential_proxy_auth_407(tmp_path):
    assert_same(PXAUTH, PXAUTH_SCENARIOS, tmp_path)
