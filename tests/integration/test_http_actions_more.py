"""``http-request set-timeout`` and ``http-request early-hint`` against haproxy 2.6.

* differential runs (``tests/differential`` harness: the same config under haproxy and
  gproxy, what the client and the server see compared): ``set-timeout server`` firing
  on a slow server (504, keep-alive kept, the next request of the connection back to the
  backend's timeout), on a stalled response body (closed), from an expression (a header,
  0 = the backend's), ``set-timeout tunnel`` / ``server`` closing a WebSocket tunnel;
  the bytes of ``early-hint`` 103s (one per series of rules, split by a condition, before
  a deny or a return, none for HTTP/1.0, ``h1-case-adjust``, a frontend's and a
  backend's rules);
* log lines: both proxies run side by side with a syslog receiver and log the same
  fields (status, bytes with the 103s counted, ``sH--`` / ``sD--`` / ``cD--``, timers
  within the sweeper's granularity); without haproxy, gproxy alone against the values
  haproxy 2.6.12 logged.

Timeouts are 300 ms against servers that take 0.8 s, so the file runs in a few seconds.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from differential.corpus import STD, Config, Scenario, req
from differential.harness import (
    HAPROXY,
    WAIT,
    Pause,
    ProxyProc,
    Script,
    assert_same,
    gproxy_cmd,
    haproxy_cmd,
    needs_haproxy,
    ok,
    raw,
    run_client,
    slow,
    switching,
)
from helpers import SyslogReceiver, free_port, wait_for

from integration.httpkit import ECHO, RawBackend, parse_httplog

pytestmark = pytest.mark.timeout(60)

HEAD = """\
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 3s
"""

WS = (("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
      ("Sec-WebSocket-Version", "13"))


def _scn(id_, config, frontend, steps, script=(), **kw):
    steps = steps if isinstance(steps, tuple) else (steps,)
    return Scenario(id_, config.name, frontend, steps, Script(tuple(script)), **kw)


def assert_codes(config, scenarios, workdir: Path, codes: dict[str, tuple]) -> None:
    """``harness.assert_same``, and haproxy's status codes and closing for each scenario
    are ``codes[id]`` (so that a scenario shows what its name says)."""

    def check(s, h):
        assert ([m.code for m in h.responses], h.closed) == codes[s.id], s.id

    assert_same(config, scenarios, workdir, check)


# ====================================================================== set-timeout
SET_TIMEOUT = Config("actions-set-timeout", HEAD + """
listen li
    bind 127.0.0.1:@li@
    http-request set-timeout server 300ms if { path_beg /t }
    http-request set-timeout server req.hdr(x-t) if { path_beg /h }
    http-request set-timeout tunnel 300ms if { path_beg /ws }
    server s1 127.0.0.1:@s1@

frontend fe
    bind 127.0.0.1:@fe@
    default_backend be

backend be
    http-request set-timeout server 300ms
    server s1 127.0.0.1:@s1@
""", ("li", "fe"))

SLOW_OK = slow(0.8, ok())
BODY_STALL = (*raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nabc"), ("sleep", 0.8),
              *raw(b"defghij"))

SET_TIMEOUT_SCENARIOS = [
    # 504 after 300 ms; the connection stays and its next stream has 'timeout server 3s'
    _scn("server-timeout-then-default", SET_TIMEOUT, "li", (req(uri="/t"), WAIT, req(uri="/u")), [SLOW_OK],
         deadline=3.0),
    _scn("backend-rule", SET_TIMEOUT, "fe", req(uri="/x"), [SLOW_OK]),
    _scn("body-stall", SET_TIMEOUT, "li", req(uri="/t/body"), [BODY_STALL], deadline=3.0),
    _scn("expr-header", SET_TIMEOUT, "li", req(uri="/h", extra=(("X-T", "300"),)), [SLOW_OK]),
    _scn("expr-zero-is-the-backends", SET_TIMEOUT, "li", req(uri="/h", extra=(("X-T", "0"),)), [SLOW_OK],
         deadline=3.0),
    _scn("expr-missing", SET_TIMEOUT, "li", req(uri="/h"), [SLOW_OK], deadline=3.0),
    # tunnels: 300 ms of silence close them (tunnel override; server override without 'timeout tunnel')
    _scn("tunnel-timeout", SET_TIMEOUT, "li", (req(uri="/ws", extra=WS), Pause(0.1), b"hello"), [switching()],
         quiet=1.0, deadline=3.0),
    _scn("tunnel-server-timeout", SET_TIMEOUT, "li", (req(uri="/t/ws", extra=WS), Pause(0.1), b"hello"),
         [switching()], quiet=1.0, deadline=3.0),
]


SET_TIMEOUT_CODES = {
    "server-timeout-then-default": ([504, 200], "open"),
    "backend-rule": ([504], "open"),
    "body-stall": ([200], "closed"),
    "expr-header": ([504], "open"),
    "expr-zero-is-the-backends": ([200], "open"),
    "expr-missing": ([200], "open"),
    "tunnel-timeout": ([101], "closed"),
    "tunnel-server-timeout": ([101], "closed"),
}


@needs_haproxy
def test_differential_set_timeout(tmp_path):
    assert_codes(SET_TIMEOUT, SET_TIMEOUT_SCENARIOS, tmp_path, SET_TIMEOUT_CODES)


# ====================================================================== early-hint
EARLY_HINT = Config("actions-early-hint", """\
global
    h1-case-adjust link LINK
    h1-case-adjust x-foo X-fOO
""" + HEAD + """
frontend fe
    bind 127.0.0.1:@fe@
    http-request early-hint Link "</style.css>; rel=preload; as=style" if { path_beg /one }
    http-request early-hint Link "</a.js>; rel=preload; as=script" if { path_beg /two }
    http-request early-hint X-Src %[src] if { path_beg /two }
    http-request set-header x-after yes
    http-request early-hint Link a1 if { path_beg /series }
    http-request early-hint Link a2 if { path_beg /series }
    http-request early-hint Link a3
    http-request early-hint X-Foo <%[path]>
    http-request deny if { path_beg /deny }
    http-request return status 200 content-type text/plain string done if { path_beg /ret }
    default_backend be

frontend casefe
    bind 127.0.0.1:@casefe@
    option h1-case-adjust-bogus-client
    http-request early-hint Link %[req.hdr(nope)]
    http-request early-hint x-foo b
    default_backend be

backend be
    http-request early-hint Link b1 if { path_beg /be }
    server s1 127.0.0.1:@s1@
""", ("fe", "casefe"))

EARLY_HINT_SCENARIOS = [
    _scn("one", EARLY_HINT, "fe", req(uri="/one")),
    _scn("two-conditional", EARLY_HINT, "fe", req(uri="/two")),
    _scn("series", EARLY_HINT, "fe", req(uri="/series")),
    _scn("frontend-and-backend", EARLY_HINT, "fe", req(uri="/be")),
    _scn("before-deny", EARLY_HINT, "fe", req(uri="/deny")),
    _scn("before-return", EARLY_HINT, "fe", req(uri="/ret")),
    _scn("slow-server", EARLY_HINT, "fe", req(uri="/one"), [slow(0.3, ok())]),
    _scn("keep-alive", EARLY_HINT, "fe", (req(uri="/one"), WAIT, req(uri="/two"))),
    _scn("pipelined", EARLY_HINT, "fe", req(uri="/one") + req(uri="/series")),
    _scn("head", EARLY_HINT, "fe", req("HEAD", "/one")),
    _scn("http10", EARLY_HINT, "fe", req(uri="/two", version="HTTP/1.0")),
    _scn("http10-keep-alive", EARLY_HINT, "fe",
         req(uri="/two", version="HTTP/1.0", headers=(*STD, ("Connection", "keep-alive")))),
    _scn("connection-close", EARLY_HINT, "fe", req(uri="/one", headers=(*STD, ("Connection", "close")))),
    _scn("case-adjust", EARLY_HINT, "casefe", req(uri="/")),
]


EARLY_HINT_CODES = {
    "one": ([103, 103, 200], "open"),
    "two-conditional": ([103, 103, 103, 200], "open"),
    "series": ([103, 103, 200], "open"),
    "frontend-and-backend": ([103, 103, 200], "open"),
    "before-deny": ([103, 403], "open"),
    "before-return": ([103, 200], "open"),
    "slow-server": ([103, 103, 200], "open"),
    "keep-alive": ([103, 103, 200, 103, 103, 103, 200], "open"),
    "pipelined": ([103, 103, 200, 103, 103, 200], "open"),
    "head": ([103, 103, 200], "open"),
    "http10": ([200], "closed"),
    "http10-keep-alive": ([200], "open"),
    "connection-close": ([103, 103, 200], "closed"),
    "case-adjust": ([103, 200], "open"),
}


@needs_haproxy
def test_differential_early_hint(tmp_path):
    assert_codes(EARLY_HINT, EARLY_HINT_SCENARIOS, tmp_path, EARLY_HINT_CODES)


# ====================================================================== log lines
LOGGED = """\
global
    log 127.0.0.1:@log@ local0
defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 5s
    timeout server 3s
listen li
    bind 127.0.0.1:@li@
    http-request set-timeout server 300ms if { path_beg /t }
    http-request set-timeout server int(-1) if { path_beg /neg }
    http-request set-timeout tunnel 300ms if { path_beg /ws }
    http-request early-hint Link "</style.css>; rel=preload" if { path_beg /eh }
    http-request early-hint X-Src %[src] if { path_beg /eh }
    http-request deny if { path_beg /eh/deny }
    server s1 127.0.0.1:@s1@
"""

OK_RAW = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
WS_101 = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")


def _respond(r):
    path = r.head.split(b" ", 2)[1]
    if r.header("upgrade"):
        return (ECHO, WS_101)
    if path == b"/t/body":
        return [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0.8, b"defghij"]
    if path == b"/u":
        return [0.5, OK_RAW]
    if path.startswith(b"/eh"):
        return [0.3, OK_RAW]
    return [0.8, OK_RAW]


#: (client steps, the fields haproxy 2.6.12 logged for each request: status, %B, %tsc,
#: Tr is -1, Ta around this many ms)
EXCHANGES = [
    ((req(uri="/t"), WAIT, req(uri="/u")), [("504", "198", "sH--", True, 300), ("200", "51", "----", False, 500)]),
    ((req(uri="/t/body"),), [("200", "53", "sD--", False, 300)]),
    ((req(uri="/neg"),), [("504", "198", "sH--", True, 0)]),
    ((req(uri="/ws", extra=WS), Pause(0.1), b"hello"), [("101", "137", "cD--", False, 400)]),
    ((req(uri="/t/ws", extra=WS), Pause(0.1), b"hello"), [("101", "137", "sD--", False, 400)]),
    ((req(uri="/eh"),), [("200", "180", "----", False, 300)]),
    ((req(uri="/eh/deny"),), [("403", "321", "PR--", True, 0)]),
    ((req(uri="/eh", version="HTTP/1.0"),), [("200", "51", "----", False, 300)]),
]
#: how far the total time may be from haproxy's: gproxy's idle timeouts are checked by a
#: sweeper every 100 ms (a negative set-timeout too), haproxy's to the millisecond
TA_SLACK = 180


def _run_logged(flavour: str, workdir: Path) -> tuple[list, list[dict]]:
    backend = RawBackend(_respond)
    syslog = SyslogReceiver()
    port = free_port()
    text = LOGGED.replace("@log@", str(syslog.port)).replace("@li@", str(port)).replace("@s1@", str(backend.port))
    cmd = haproxy_cmd() if flavour == "haproxy" else gproxy_cmd()
    proc = ProxyProc(flavour, cmd, text, workdir, [port])
    try:
        assert not proc.error, proc.error
        outcomes = []
        for steps, fields in EXCHANGES:
            outcomes.append(run_client(port, steps, flavour, quiet=0.7 if "101" in fields[0][0] else 0.15,
                                       deadline=3.0))
        n = sum(len(f) for _, f in EXCHANGES)

        def lines():
            got = [x for x in (parse_httplog(ln) for ln in syslog.lines) if x]
            return got if len(got) >= n else None

        logs = wait_for(lines, timeout=5, what=f"{n} log lines from {flavour}")
        return outcomes, logs
    finally:
        proc.stop()
        backend.stop()
        syslog.stop()


def _check(flavour: str, outcomes: list, logs: list[dict]) -> None:
    expected = [f for _, fields in EXCHANGES for f in fields]
    assert len(logs) == len(expected)
    for f, (status, nbytes, tsc, no_tr, ta) in zip(logs, expected, strict=True):  # logged in this order
        assert (f["ST"], f["B"], f["tsc"]) == (status, nbytes, tsc), (flavour, f)
        assert (f["Tr"] == "-1") is no_tr, (flavour, f)
        assert abs(int(f["Ta"]) - ta) <= TA_SLACK, (flavour, f, ta)
    # what the clients got: the 103s first, then the final response
    eh = outcomes[5]
    assert [m.start for m in eh.responses] == ["HTTP/1.1 103 Early Hints", "HTTP/1.1 103 Early Hints",
                                               "HTTP/1.1 200 OK"]
    assert [m.headers for m in eh.responses[:2]] == [[("link", "</style.css>; rel=preload")],
                                                    [("x-src", "127.0.0.1")]]
    recv = [e for e in eh.events if e[1].startswith("recv")]
    assert recv[0][0] < 0.2 <= recv[-1][0], eh.events  # the 103s did not wait for the server's 300 ms
    assert outcomes[1].closed == "closed" and not outcomes[1].responses[0].complete
    assert [o.closed for o in outcomes[3:5]] == ["closed", "closed"]


def test_logs_as_haproxy(tmp_path):
    """gproxy and (when installed) haproxy side by side: both log what haproxy 2.6.12 did."""
    flavours = ["gproxy"] + (["haproxy"] if HAPROXY else [])
    results: dict[str, object] = {}

    def play(flavour: str) -> None:
        try:
            results[flavour] = _run_logged(flavour, tmp_path / flavour)
        except BaseException as e:  # noqa: BLE001 - reported below
            results[flavour] = e

    threads = [threading.Thread(target=play, args=(f,), daemon=True) for f in flavours]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    for flavour in flavours:
        got = results.get(flavour)
        if isinstance(got, BaseException):
            raise got
        assert got is not None, f"{flavour}: no result"
        outcomes, logs = got
        _check(flavour, outcomes, logs)
    if len(flavours) == 2:
        (og, lg), (oh, lh) = results["gproxy"], results["haproxy"]
        assert [o.raw for o in og] == [o.raw for o in oh]
        def fields(f: dict) -> tuple:  # the timers only where they say "-1" (no such step)
            return (f["ST"], f["B"], f["tsc"], f["r"], f["b"], f["s"], *(f[k] == "-1" for k in ("Tw", "Tc", "Tr")))

        assert [fields(f) for f in lg] == [fields(f) for f in lh]
