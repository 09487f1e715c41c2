"""``http-error status <code>`` with its own payload (``string``, ``file``, ``lf-string``,
``lf-file``, ``content-type``, ``hdr``, or none), each checked against ``haproxy -db`` 2.6:

* the reply is the proxy's page for <code> wherever HAProxy uses it: 503 without a
  server, 502 (bad response), 504 (server timeout), ``deny`` (403 and ``deny_status``),
  ``return ... default-errorfiles``, ``auth`` (401), a backend's page before its
  frontend's; the H1 mux's own 400/408 stay the raw built-in text;
* on the wire it is ``HTTP/1.1 <code> <reason>``, the ``hdr`` fields with a non-empty
  value, ``content-length``, ``content-type`` (with a body), then the connection header;
  log-format parts are evaluated per response (``%[path]``, ``%ST``, ``%b``...);
* a later line for a code replaces an earlier ``errorfile``/``errorfiles``/``http-error``
  one and the reverse, lines of the defaults section first;
* ``gproxy -c`` gives ``haproxy -c``'s messages for bad arguments.

Two kinds of tests: the ``proxy`` fixture (gproxy, or haproxy with
``GPROXY_TEST_PROXY=haproxy``) with exact bytes captured from haproxy 2.6.12, and
differential runs (``tests/differential`` harness: the same config under haproxy and
gproxy, responses, connection state and server traffic compared, plus the raw bytes),
skipped without haproxy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from differential.corpus import STD, Config, Scenario, req
from differential.harness import Pair, Script, compare, ok, raw, slow
from helpers import free_port

from integration.httpkit import OK, exchange

pytestmark = pytest.mark.timeout(90)

REPO = Path(__file__).resolve().parents[2]
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="needs haproxy (apt-get install haproxy)")

OK_RSP = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


# ====================================================================== exact bytes
def exact_conf(port: int, backend_port: int, body_file: Path) -> str:
    return (
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 2s\n"
        f"frontend fe\n    bind 127.0.0.1:{port}\n"
        '    http-error status 503 content-type text/plain string "sorry" hdr X-Foo bar hdr X-Path %[path]'
        " hdr X-Empty %[req.hdr(nope)]\n"
        '    http-error status 403 content-type "text/plain; charset=utf-8" lf-string'
        ' "denied %[path] host=%[req.hdr(host)] st=%ST fe=%f"\n'
        "    http-error status 502\n"
        "    http-error status 504 hdr X-A 1\n"
        f"    http-error status 404 content-type text/html file {body_file}\n"
        "    http-request deny if { path /deny }\n"
        "    http-request deny deny_status 404 if { path /d404 }\n"
        "    http-request deny deny_status 502 if { path /d502 }\n"
        "    http-request deny deny_status 504 if { path /d504 }\n"
        "    use_backend bnosrv if { path /nosrv }\n"
        "    default_backend be\n"
        f"backend be\n    server s1 127.0.0.1:{backend_port}\n"
        "backend bnosrv\n    server s1 127.0.0.1:1 disabled\n"
    )


@pytest.fixture
def exact(proxy, backend, tmp_path):
    body = tmp_path / "404.txt"
    body.write_bytes(b"file body\n")
    port = free_port()
    proxy(exact_conf(port, backend.port, body), wait_ports=[port])
    return port


def test_string_with_headers_on_503_no_server(exact):
    assert exchange(exact, [b"GET /nosrv HTTP/1.1\r\nHost: h\r\n\r\n"]) == (
        b"HTTP/1.1 503 Service Unavailable\r\nx-foo: bar\r\nx-path: /nosrv\r\ncontent-length: 5\r\n"
        b"content-type: text/plain\r\n\r\nsorry<OPEN>")


def test_http10_client_gets_connection_close(exact):
    assert exchange(exact, [b"GET /nosrv HTTP/1.0\r\n\r\n"]) == (
        b"HTTP/1.1 503 Service Unavailable\r\nx-foo: bar\r\nx-path: /nosrv\r\ncontent-length: 5\r\n"
        b"content-type: text/plain\r\nconnection: close\r\n\r\nsorry<EOF>")


def test_lf_string_on_deny_then_keep_alive(exact):
    out = exchange(exact, [b"GET /deny HTTP/1.1\r\nHost: hh\r\n\r\n", None, b"GET /ok HTTP/1.1\r\n\r\n"])
    assert out == (b"HTTP/1.1 403 Forbidden\r\ncontent-length: 33\r\ncontent-type: text/plain; charset=utf-8\r\n"
                   b"\r\ndenied /deny host=hh st=403 fe=fe" + OK_RSP + b"<OPEN>")


def test_lf_string_head_request(exact):
    assert exchange(exact, [b"HEAD /deny HTTP/1.1\r\n\r\n"]) == (
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 31\r\ncontent-type: text/plain; charset=utf-8\r\n\r\n<OPEN>")


def test_file_no_payload_and_header_only(exact):
    assert exchange(exact, [b"GET /d404 HTTP/1.1\r\n\r\n"]) == (
        b"HTTP/1.1 404 Not Found\r\ncontent-length: 10\r\ncontent-type: text/html\r\n\r\nfile body\n<OPEN>")
    # no payload: HAProxy's http_get_reason() text, not the built-in page's "Bad Gateway"
    assert exchange(exact, [b"GET /d502 HTTP/1.1\r\n\r\n"]) == (
        b"HTTP/1.1 502 Bad Gateway or Proxy Error\r\ncontent-length: 0\r\n\r\n<OPEN>")
    assert exchange(exact, [b"GET /d504 HTTP/1.1\r\n\r\n"]) == (
        b"HTTP/1.1 504 Gateway Time-out\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n<OPEN>")


def test_raw_mux_400_ignores_http_error(proxy, backend):
    port = free_port()
    cfg = exact_conf(port, backend.port, Path("/dev/null")).replace(
        "    http-error status 502\n",
        "    http-error status 502\n    http-error status 400 content-type text/plain string bad\n")
    proxy(cfg, wait_ports=[port])
    out = exchange(port, [b"GARBAGE\r\n\r\n"])
    assert out.startswith(b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\n") and out.endswith(b"<EOF>")
    backend.respond = lambda req: OK
    assert exchange(port, [b"GET / HTTP/1.1\r\n\r\n"]) == OK_RSP + b"<OPEN>"


# ====================================================================== differential runs
ERRORFILE_503 = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
                 b"X-From: errorfile\r\n\r\nfrom errorfile")
ERRORFILE_405 = b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 3\r\nX-From: errorfile\r\n\r\n405"
SECTION_503 = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 7\r\nX-From: section\r\n\r\nsection"

PAYLOAD = Config("http-error-payload", """\
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    http-error status 429 content-type text/plain string "slow down (defaults)"
    http-error status 410 content-type text/plain string "gone (defaults)"

http-errors errs
    errorfile 503 @dir@/section503.http

frontend fe
    bind 127.0.0.1:@fe@
    timeout http-request 500ms
    http-error status 403 content-type "text/plain; charset=utf-8" lf-string "denied %[path] host=%[req.hdr(host)] st=%ST fe=%f be=%b" hdr X-Path %[path] hdr X-Empty %[req.hdr(x-none)] hdr X-Const yes
    http-error status 404 content-type text/html file @dir@/404.html
    http-error status 500 content-type text/html lf-file @dir@/500.lf
    http-error status 501
    http-error status 401 content-type text/plain string "who are you" hdr Cache-Control no-store
    http-error status 503 content-type text/plain lf-string "fe 503 for %[path]"
    http-error status 502 content-type text/plain string "fe 502"
    http-error status 504 content-type text/plain string "fe 504" hdr X-Late yes
    http-error status 400 content-type text/plain string "bad (http-error)"
    http-error status 408 content-type text/plain string "late (http-error)"
    errorfile 405 @dir@/405.http
    http-error status 405 content-type text/plain string "405 by http-error"
    http-error status 410 content-type text/plain string "gone (frontend)"
    http-request deny if { path /deny }
    http-request deny deny_status 404 if { path /d404 }
    http-request deny deny_status 500 if { path /d500 }
    http-request deny deny_status 501 if { path /d501 }
    http-request deny deny_status 400 if { path /d400 }
    http-request deny deny_status 405 if { path /d405 }
    http-request deny deny_status 429 if { path /d429 }
    http-request deny deny_status 410 if { path /d410 }
    http-request return status 403 default-errorfiles if { path /ret403 }
    http-request auth realm R if { path /auth }
    use_backend bnosrv if { path_beg /nosrv }
    use_backend bdead if { path_beg /dead }
    use_backend bbad if { path_beg /bad }
    use_backend bslow if { path_beg /slow }
    use_backend bdeny if { path_beg /bdeny }
    use_backend bref if { path_beg /ref }
    use_backend bover if { path_beg /over }
    use_backend bfile if { path_beg /file }
    default_backend be

frontend after
    bind 127.0.0.1:@after@
    http-error status 503 content-type text/plain string "after 503" hdr X-Orig 1
    http-after-response set-header X-After %[status]
    http-after-response del-header X-Orig
    default_backend bnosrv2

backend be
    server s1 127.0.0.1:@s1@

backend bnosrv
    http-error status 503 content-type text/plain lf-string "no server for %[path] in %b (%ST)" hdr Retry-After 10
    server s1 127.0.0.1:@s1@ disabled

backend bnosrv2
    server s1 127.0.0.1:@s1@ disabled

backend bdead
    retries 0
    server s1 127.0.0.1:@dead@

backend bbad
    http-error status 502 content-type text/plain string "bad gateway" hdr X-Srv %s
    server s1 127.0.0.1:@s1@

backend bslow
    timeout server 300ms
    http-error status 504 hdr X-Timeout yes
    server s1 127.0.0.1:@s1@

backend bdeny
    http-request deny
    server s1 127.0.0.1:@s1@

backend bref
    http-error status 503 content-type text/plain string "replaced by the errorfiles line"
    errorfiles errs
    server s1 127.0.0.1:@s1@ disabled

backend bover
    errorfiles errs
    errorfile 503 @dir@/503.http
    http-error status 503 content-type text/plain string "http-error after errorfiles and errorfile"
    server s1 127.0.0.1:@s1@ disabled

backend bfile
    http-error status 503 content-type text/plain string "replaced by the errorfile line"
    errorfile 503 @dir@/503.http
    server s1 127.0.0.1:@s1@ disabled
""", ("fe", "after"), dead=("dead",), files={
    "404.html": b"<p>not here</p>\n",
    "500.lf": b"internal error on %[path] (%ST)\n",
    "503.http": ERRORFILE_503,
    "405.http": ERRORFILE_405,
    "section503.http": SECTION_503,
})


def _scn(id_, frontend, steps, script=(), **kw):
    steps = steps if isinstance(steps, tuple) else (steps,)
    return Scenario(id_, PAYLOAD.name, frontend, steps, Script(tuple(script)), **kw)


SCENARIOS = [
    _scn("deny-lf-then-next", "fe", (req(uri="/deny"), req(uri="/next"))),
    _scn("deny-http10", "fe", req(uri="/deny", version="HTTP/1.0")),
    _scn("deny-http10-keepalive", "fe", req(uri="/deny", version="HTTP/1.0",
                                             headers=(*STD, ("Connection", "keep-alive")))),
    _scn("deny-head", "fe", req("HEAD", "/deny")),
    _scn("deny-file", "fe", req(uri="/d404")),
    _scn("deny-lf-file", "fe", req(uri="/d500")),
    _scn("deny-no-payload", "fe", (req(uri="/d501"), req(uri="/next"))),
    _scn("deny-400-page", "fe", (req(uri="/d400"), req(uri="/next"))),
    _scn("http-error-replaces-errorfile", "fe", req(uri="/d405")),
    _scn("defaults-page", "fe", req(uri="/d429")),
    _scn("frontend-over-defaults", "fe", req(uri="/d410")),
    _scn("return-default-errorfiles", "fe", req(uri="/ret403")),
    _scn("auth-401", "fe", req(uri="/auth")),
    _scn("backend-deny-uses-frontend-page", "fe", req(uri="/bdeny/x")),
    _scn("nosrv-backend-page", "fe", (req(uri="/nosrv/a"), req(uri="/nosrv/b"))),
    _scn("refused-frontend-page", "fe", req(uri="/dead/x")),
    _scn("bad-response-502", "fe", req(uri="/bad"), script=[raw(b"BLAH\r\n\r\n")]),
    _scn("server-timeout-504", "fe", req(uri="/slow"), script=[slow(1.0, ok())], deadline=3.0),
    _scn("errorfiles-after-http-error", "fe", req(uri="/ref")),
    _scn("http-error-after-errorfiles", "fe", req(uri="/over")),
    _scn("errorfile-after-http-error", "fe", req(uri="/file")),
    _scn("raw-400-stays-raw", "fe", b"GARBAGE\r\n\r\n"),
    _scn("raw-408-stays-raw", "fe", b"GET / HTTP/1.1\r\n", deadline=3.0),
    _scn("served-normally", "fe", req(uri="/fine")),
    _scn("after-response-rules", "after", req(uri="/x")),
]


@needs_haproxy
def test_differential_http_error_payload(tmp_path):
    pair = Pair(PAYLOAD, tmp_path)
    reports = []
    try:
        for s in SCENARIOS:
            h, g = pair.run(s)
            assert not h.error, f"haproxy side: {h.error}"
            assert h.responses or s.id.startswith("raw-"), f"{s.id}: haproxy answered nothing"
            report = compare(h, g)
            if report:
                reports.append(f"{s.id}: {report}")
            elif h.raw != g.raw:
                reports.append(f"{s.id}: raw bytes differ\n  haproxy {h.raw!r}\n  gproxy  {g.raw!r}")
    finally:
        pair.stop()
    assert not reports, "\n\n".join(reports)


# ====================================================================== -c parity
def _check(cmd: list[str], cwd: Path) -> tuple[int, str, list[str]]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))
    r = subprocess.run([*cmd, "-c", "-f", "c.cfg"], cwd=str(cwd), capture_output=True, text=True, timeout=30,
                       env=env, stdin=subprocess.DEVNULL, check=False)
    lines = [re.sub(r"\(\d+\)", "(PID)", ln) for ln in r.stderr.splitlines()
             if ln.strip() and not ln.startswith("[NOTICE]")]
    return r.returncode, r.stdout, lines


CHECK_HEAD = ("defaults\n    mode http\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n"
              "frontend fe\n    bind 127.0.0.1:18081\n")
CHECK_TAIL = "    default_backend be\nbackend be\n    server s 127.0.0.1:1\n"

CHECK_LINES = [
    "http-error status 503 string",
    "http-error status 503 string x",
    "http-error status 503 lf-string x",
    "http-error status 503 content-type t lf-string %[nope]",
    "http-error status 503 content-type t lf-string \"%[path\"",
    "http-error status 599 content-type t string x",
    "http-error status 100",
    "http-error status 204",
    "http-error status 503 content-type t string x bogus",
    "http-error status 503 string x file y",
    "http-error status 503 content-type t file /nonexistent/file",
    "http-error status 503 hdr X",
    "http-error status 503 string x content-type",
    "http-error status 503 hdr content-length 3 content-type t",
    "http-error status 503 content-type t string x hdr transfer-encoding y hdr content-type z",
    "http-error status 503 content-type t lf-string %[req.hdr(host)] hdr x %[res.hdr(y)] hdr z %[nbsrv(nosuch)]",
    "http-error status 503 content-type t lf-string \"%{+Q}o %[path,lower] %ci:%cp %{+X}Ts\"",
    "http-error status 403 content-type t default-errorfiles hdr a b",
    "http-error status 503abc content-type t string x",
    "http-error status 503 content-type t file big.txt",
    "http-error status 503 content-type t lf-file big.txt",
    "http-error status 503 content-type t file huge.txt",
]


@needs_haproxy
@pytest.mark.parametrize("line", CHECK_LINES)
def test_check_messages_match_haproxy(tmp_path, line):
    (tmp_path / "big.txt").write_bytes(b"x" * 15361)  # over bufsize - maxrewrite: a warning
    (tmp_path / "huge.txt").write_bytes(b"x" * 16385)  # over bufsize: an error
    (tmp_path / "c.cfg").write_text(CHECK_HEAD + f"    {line}\n" + CHECK_TAIL)
    want = _check([HAPROXY], tmp_path)
    got = _check([sys.executable, "-m", "gproxy"], tmp_path)
    assert got == want


@needs_haproxy
def test_check_defaults_section_lines_match_haproxy(tmp_path):
    """Replies in a defaults section: their sample arguments are not resolved (HAProxy
    does not check a defaults section's ``nbsrv(<backend>)``)."""
    (tmp_path / "c.cfg").write_text(
        "defaults\n    mode http\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n"
        '    http-error status 503 content-type t lf-string "%[nbsrv(nosuch)] %[path]" hdr x %[req.hdr(host)]\n'
        "    http-error status 502 content-type t string x\n    http-error status 504\n"
        "frontend fe\n    bind 127.0.0.1:18081\n    http-error status 502 content-type t string y hdr A b\n"
        "    default_backend be\n"
        "backend be\n    http-error status 504 content-type t string y hdr content-type q\n"
        "    server s 127.0.0.1:1\n")
    assert _check([sys.executable, "-m", "gproxy"], tmp_path) == _check([HAPROXY], tmp_path)
