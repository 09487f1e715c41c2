"""Bytes HAProxy 2.6 actually sent, replayed through gproxy's formatter and header builder.

How the fixtures were captured (2026-11-27, Debian ``haproxy 2.6.12-1+deb12u4``, TZ=UTC
unless stated, hostname ``vm``): haproxy ran in the foreground (``-db``) with
``log 127.0.0.1:<port> [len <n>] [format <fmt>] local0`` targets, each received by a
Python UDP socket (plus a unix datagram socket created in a temp dir, and ``log stdout``
captured from haproxy's stdout); sessions were made with Python clients against
``mode tcp`` frontends in front of a Python echo server and ``mode http`` frontends in
front of ``http.server``, all on 127.0.0.1.  Each datagram / line below is verbatim.

These tests need neither haproxy nor a running gproxy: they rebuild each session with the
values the captured line shows (accept date, timers, counters) and compare bytes.
"""

from __future__ import annotations

import os
import time
import types
from typing import Any

import pytest

from gproxy import log
from gproxy import logformat as lf


@pytest.fixture(autouse=True)
def _tz_utc(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    lf.reset_time_caches()
    yield
    monkeypatch.undo()
    time.tzset()
    lf.reset_time_caches()


def set_tz(tz: str) -> None:
    os.environ["TZ"] = tz
    time.tzset()
    lf.reset_time_caches()


def tcp_sess(**kw: Any) -> types.SimpleNamespace:
    d: dict[str, Any] = {
        "accept_ts": 0.0, "req_ts": None, "cli_ip": "127.0.0.1", "cli_port": 0, "fe_ip": "127.0.0.1", "fe_port": 0,
        "be_ip": "127.0.0.1", "be_port": 0, "srv_ip": "127.0.0.1", "srv_port": 17001, "frontend_name": "fe",
        "fe_ssl": False, "backend_name": None, "server_name": None, "t_idle": -1, "t_handshake": 0,
        "t_request": -1, "t_queue": 0, "t_connect": 0, "t_response": -1, "t_active": -1, "t_total": 0,
        "bytes_out": 0, "bytes_in": 0, "status": None, "term": "--", "term_cookie": "--", "actconn": 1,
        "feconn": 1, "beconn": 0, "srvconn": 0, "retries": 0, "redispatched": False, "srv_queue": 0,
        "be_queue": 0, "req_captures": None, "res_captures": None, "cookie_req": None, "cookie_res": None,
        "method": None, "uri": None, "version": None, "unique_id": None,
    }  # fmt: skip
    d.update(kw)
    return types.SimpleNamespace(**d)


def http_sess(**kw: Any) -> types.SimpleNamespace:
    base: dict[str, Any] = {"t_idle": 0, "t_request": 0, "status": 200, "method": "GET", "version": "HTTP/1.1"}
    base.update(kw)
    return tcp_sess(**base)


# ----------------------------------------------------------------------------------------
# option tcplog, and the syslog headers of every format (haproxy pid 11590)

TCPLOG_MSG = (
    b"127.0.0.1:56640 [27/Nov/2026:11:18:15.321] fe_tcplog be_echo/s1 1/2/53 12 -- 1/1/0/0/0 0/0"
)
SESS_TCPLOG = {
    "accept_ts": 1795778295.321, "cli_port": 56640, "frontend_name": "fe_tcplog", "backend_name": "be_echo",
    "server_name": "s1", "t_queue": 0, "t_connect": 2, "t_total": 53, "bytes_out": 12, "bytes_in": 12,
}  # fmt: skip

# (log line options, send time, datagram)
HEADERS = [
    ("local", 1795778295.377, b"<134>Nov 27 11:18:15 haproxy[11590]: "),
    ("rfc3164", 1795778295.377, b"<134>Nov 27 11:18:15 localhost haproxy[11590]: "),
    ("rfc5424", 1795778295.376133, b"<134>1 2026-11-27T11:18:15.376133+00:00 - haproxy 11590 - - "),
    ("priority", 1795778295.377, b"<134>"),
    ("short", 1795778295.377, b"<6>"),
    ("timed", 1795778295.376156, b"<6>2026-11-27T11:18:15.376156+00:00 "),
    ("iso", 1795778295.376161, b"2026-11-27T11:18:15.376161+00:00 "),
    ("raw", 1795778295.377, b""),
]


def test_tcplog_line() -> None:
    render = lf.compile_format(lf.TCPLOG_FORMAT, mode="tcp")
    assert render(tcp_sess(**SESS_TCPLOG)).encode() == TCPLOG_MSG


@pytest.mark.parametrize("fmt,now,header", HEADERS)
def test_udp_datagram_per_format(fmt: str, now: float, header: bytes) -> None:
    h = log.build_header(fmt, 16, log.LOG_INFO, "haproxy", 11590, None, now).encode()
    assert log.frame(h, TCPLOG_MSG, 1024, stream=False) == header + TCPLOG_MSG + b"\n"


def test_unix_dgram_local1() -> None:
    # 'log /tmp/hapx/devlog local1' (a unix datagram socket bound in a temp dir)
    h = log.build_header("", 17, log.LOG_INFO, "haproxy", 11590, None, 1795778295.377).encode()
    assert log.frame(h, TCPLOG_MSG, 1024, False) == (
        b"<142>Nov 27 11:18:15 haproxy[11590]: " + TCPLOG_MSG + b"\n"
    )


def test_udp_len_80() -> None:
    # 'log 127.0.0.1:15149 len 80 local0': 80 bytes of header+message, then LF (81 bytes)
    h = log.build_header("", 16, log.LOG_INFO, "haproxy", 11590, None, 1795778295.377).encode()
    got = log.frame(h, TCPLOG_MSG, 80, False)
    assert got == b"<134>Nov 27 11:18:15 haproxy[11590]: 127.0.0.1:56640 [27/Nov/2026:11:18:15.321] \n"
    assert len(got) == 81
    connect = b"Connect from 127.0.0.1:41310 to 127.0.0.1:16004 (fe_plain/TCP)"
    assert log.frame(h, connect, 80, False) == (
        b"<134>Nov 27 11:18:15 haproxy[11590]: Connect from 127.0.0.1:41310 to 127.0.0.1:1\n"
    )


def test_level_filters() -> None:
    # 'local0 notice' dropped the info traffic line; 'local0 debug notice' sent it as <134>
    t_max = log.LogTarget(kind="udp", host="127.0.0.1", port=9, facility=16, max_level=5)
    assert log.LOG_INFO > log.Sender(t_max).max_level
    t_min = log.LogTarget(kind="udp", host="127.0.0.1", port=9, facility=16, min_level=5)
    assert max(log.LOG_INFO, log.Sender(t_min).min_level) == log.LOG_INFO


# ----------------------------------------------------------------------------------------
# log-send-hostname myhost.example + log-tag gtag (pid 12200); stdout targets

MSG2 = b"127.0.0.1:57962 [27/Nov/2026:11:18:27.975] fe_tcplog be_echo/s1 1/0/55 12 -- 1/1/0/0/0 0/0"


def test_hostname_and_tag() -> None:
    now = 1795778308.030
    host, tag, pid = "myhost.example", "gtag", 12200

    def hdr(fmt: str, fac: int = 16, t: float = now) -> bytes:
        return log.build_header(fmt, fac, log.LOG_INFO, tag, pid, host, t).encode()

    # no 'format': rfc3164 because a hostname is sent
    assert hdr("") == b"<134>Nov 27 11:18:28 myhost.example gtag[12200]: "
    assert hdr("rfc3164") == b"<134>Nov 27 11:18:28 myhost.example gtag[12200]: "
    assert hdr("rfc5424", t=1795778308.030392) == (
        b"<134>1 2026-11-27T11:18:28.030392+00:00 myhost.example gtag 12200 - - "
    )
    assert hdr("local") == b"<134>Nov 27 11:18:28 gtag[12200]: "
    # 'log stdout daemon', 'log stdout len 80 daemon', 'log stdout len 80 format raw daemon'
    assert log.frame(hdr("", 3), MSG2, 1024, True) == (
        b"<30>Nov 27 11:18:28 myhost.example gtag[12200]: " + MSG2 + b"\n"
    )
    got = log.frame(hdr("", 3), MSG2, 80, True)
    assert got == b"<30>Nov 27 11:18:28 myhost.example gtag[12200]: 127.0.0.1:57962 [27/Nov/2026:11\n"
    assert len(got) == 80
    assert log.frame(hdr("raw", 3), MSG2, 80, True) == (
        b"127.0.0.1:57962 [27/Nov/2026:11:18:27.975] fe_tcplog be_echo/s1 1/0/55 12 -- 1/\n"
    )


def test_stdout_raw() -> None:
    # 'log stdout format raw daemon' -> the message and LF only
    h = log.build_header("raw", 3, log.LOG_INFO, "haproxy", 11590, None, 0.0).encode()
    assert log.frame(h, TCPLOG_MSG, 1024, True) == TCPLOG_MSG + b"\n"


# ----------------------------------------------------------------------------------------
# Legacy accept line (no format option) and runtime events (pid 11590 / 16094)


def test_connect_line(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[int, str]] = []
    lg = log.Logger([], "haproxy")
    lg.enabled = True
    monkeypatch.setattr(lg, "log", lambda level, msg: sent.append((level, msg)))
    lg.connect_line(tcp_sess(cli_port=41310, fe_port=16004, frontend_name="fe_plain"), "tcp")
    lg.connect_line(tcp_sess(cli_ip="unix", cli_port=7, fe_ip="unix", frontend_name="f2"), "tcp")
    lg.connect_line(tcp_sess(cli_ip="::1", cli_port=39720, fe_ip="::1", fe_port=16018, frontend_name="f4"), "tcp")
    assert sent == [
        (6, "Connect from 127.0.0.1:41310 to 127.0.0.1:16004 (fe_plain/TCP)"),
        (6, "Connect to unix:7 (f2/TCP)"),
        (6, "Connect from ::1:39720 to ::1:16018 (f4/TCP)"),
    ]


SERVER_DOWN = (
    'Server be_mixed/s2 is DOWN, reason: Layer4 connection problem, info: "Connection refused", '
    "check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, "
    "0 remaining in queue."
)


def test_runtime_events(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(log, "_PID", [16094])
    err = io.StringIO()
    log.configure_stderr(err)
    sent: list[tuple[int, str]] = []
    lg = log.Logger([], "haproxy")
    monkeypatch.setattr(lg, "log", lambda level, msg: sent.append((level, msg)))
    try:
        log.server_down(lg, SERVER_DOWN[:-1])
        log.backend_no_server(lg, "backend", "be_dead")
        log.server_event(lg, "Backup Server be_dead/d2 is UP, reason: Layer4 check passed")
    finally:
        log.configure_stderr()
    assert err.getvalue().splitlines() == [
        "[WARNING]  (16094) : " + SERVER_DOWN,
        "[ALERT]    (16094) : backend 'be_dead' has no server available!",
        "[WARNING]  (16094) : Backup Server be_dead/d2 is UP, reason: Layer4 check passed.",
    ]
    # syslog: <129> (local0.alert), <128> (emerg), <133> (notice)
    assert sent == [
        (log.LOG_ALERT, SERVER_DOWN),
        (log.LOG_EMERG, "backend be_dead has no server available!"),
        (log.LOG_NOTICE, "Backup Server be_dead/d2 is UP, reason: Layer4 check passed."),
    ]
    h = log.build_header("", 16, log.LOG_ALERT, "haproxy", 16094, None, 1795778409.68).encode()
    assert log.frame(h, SERVER_DOWN.encode(), 1024, False) == (
        b"<129>Nov 27 11:20:09 haproxy[16094]: " + SERVER_DOWN.encode() + b"\n"
    )
    h = log.build_header("", 16, log.LOG_EMERG, "haproxy", 16094, None, 1795778409.80).encode()
    assert h == b"<128>Nov 27 11:20:09 haproxy[16094]: "


# ----------------------------------------------------------------------------------------
# log-format in mode tcp (pid 13829, hostname vm)

FMT_A = (
    "A %ci:%cp %fi:%fp %bi:%bp %si:%sp [%t] [%T] [%Tl] %Ts %ms %ft %f %b %s "
    "%Tw/%Tc/%Tt/%Th/%Td/%Tu %B %U %ST %ts %tsc %ac %fc %bc %sc %rc %sq %bq %pid %H %ID "
    "%lc %rt %hr %hrl %hs %hsl end"
)
FMT_B = (
    "B %{+Q}ci %{+X}ci:%{+X}cp %{+Q}f %{+Q}ft %{+Q}b %{+Q}s %{+X}Ts %{+X}ms %{+X}pid %{+X}rt "
    "%{+X}lc %{+Q}ID %{+Q}H %{+Q}cp %{+Q}Tt %{+Q}ts %{+X}si %{+X}sp %{+X}bi %{+E}f %{-M}o %ID| "
    "%{+M}o %ID|"
)
# as the config parser hands it over: "   C  %ID  %hr  x\ \ y ..." inside double quotes
FMT_C = (
    "   C  %ID  %hr  x  y %%  %-x %%ci %ci_x %{+Z}ci %{+Q}o %ci %{-Q}ci %f %{+Q,+X}ci "
    "%{+X,-X}ci %{+Q}hr%ci\ttab  "
)


@pytest.fixture
def host_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(lf._HELPERS, "_HOSTNAME", "vm")
    monkeypatch.setattr(lf, "_PID", [13829])
    monkeypatch.setitem(lf._HELPERS, "_PID", [13829])


def test_logformat_tcp_all_vars(host_pid: None) -> None:
    counters = lf.Counters()
    render = lf.compile_format(FMT_A, mode="tcp", counters=counters)
    s = tcp_sess(
        accept_ts=1795778359.676, cli_port=59898, fe_port=16011, be_port=47636, frontend_name="f1",
        backend_name="be_echo", server_name="s1", t_total=50, bytes_out=12, bytes_in=12, req_id=0,
    )  # fmt: skip
    assert render(s) == (
        "A 127.0.0.1:59898 127.0.0.1:16011 127.0.0.1:47636 127.0.0.1:17001 "
        "[27/Nov/2026:11:19:19.676] [27/Nov/2026:11:19:19 +0000] [27/Nov/2026:11:19:19 +0000] "
        "1795778359 676 f1 f1 be_echo s1 1/0/50/0/50/50 12 12 0 -- ---- 1 1 0 0 0 0 0 13829 vm - "
        "0 0 end"
    )
    # a session without data, second line of that frontend (%lc 1), 8th request (%rt 7)
    counters.log_count = 1
    s2 = tcp_sess(
        accept_ts=1795778362.737, cli_port=57682, fe_port=16011, be_port=55396, frontend_name="f1",
        backend_name="be_echo", server_name="s1", t_total=50, req_id=7,
    )  # fmt: skip
    assert render(s2).endswith(" 1795778362 737 f1 f1 be_echo s1 1/0/50/0/50/50 0 0 0 -- ---- 1 1 0 0 0 0 0 13829 vm - 1 7 end")


def test_logformat_tcp_flags(host_pid: None) -> None:
    render = lf.compile_format(FMT_B, mode="tcp")
    s = tcp_sess(
        accept_ts=1795778359.827, cli_port=47824, frontend_name="f2", backend_name="be_echo",
        server_name="s1", t_total=55, req_id=1,
    )  # fmt: skip
    assert render(s) == (
        'B "127.0.0.1" 7F000001:BAD0 "f2" "f2" "be_echo" "s1" 6B096737 33B 3605 0001 0000 "" '
        '"vm" 47824 55 -- 7F000001 4269 7F000001 f2 | -|'
    )


def test_logformat_separators_and_literals(host_pid: None) -> None:
    render = lf.compile_format(FMT_C, mode="tcp")
    assert render(tcp_sess(frontend_name="f3")) == (
        'C - x y % -x %ci 127.0.0.1_x 127.0.0.1 "127.0.0.1" 127.0.0.1 "f3" 7F000001 '
        '"127.0.0.1" "127.0.0.1"\ttab '
    )


def test_logformat_failed_connect_retries() -> None:
    render = lf.compile_format("D %b/%s %Tw/%Tc/%Tt %ts %ac/%fc/%bc/%sc/%rc", mode="tcp")
    s = tcp_sess(backend_name="be_dead", server_name="s1", t_connect=-1, t_total=2003, term="SC", retries=2)
    assert render(s) == "D be_dead/s1 1/-1/2003 SC 1/1/0/0/2"


def test_logformat_logasap() -> None:
    render = lf.compile_format("E %Tt %Tu %B %U %ts", mode="tcp", logasap=True)
    assert render(tcp_sess()) == "E +0 +0 +0 0 --"


def test_tcplog_without_server() -> None:
    render = lf.compile_format(lf.TCPLOG_FORMAT, mode="tcp")
    # backend whose only server is disabled
    s = tcp_sess(
        accept_ts=1795778362.436, cli_port=60188, frontend_name="f6", backend_name="be_none",
        t_queue=-1, t_connect=-1, term="SC",
    )  # fmt: skip
    assert render(s) == "127.0.0.1:60188 [27/Nov/2026:11:19:22.436] f6 be_none/<NOSRV> -1/-1/0 0 SC 1/1/0/0/0 0/0"
    # frontend without any backend: %b is the frontend's name
    s = tcp_sess(accept_ts=1795778362.587, cli_port=39936, frontend_name="f7", t_queue=-1, t_connect=-1, term="SC")
    assert render(s) == "127.0.0.1:39936 [27/Nov/2026:11:19:22.587] f7 f7/<NOSRV> -1/-1/0 0 SC 1/1/0/0/0 0/0"


def test_unix_and_ipv6_addresses() -> None:
    render = lf.compile_format("%ci:%cp %fi:%fp %{+X}ci %{+X}cp [%ci]", mode="tcp")
    s = tcp_sess(cli_ip="::1", cli_port=45420, fe_ip="::1", fe_port=16019)
    assert render(s) == "::1:45420 ::1:16019 00000000000000000000000000000001 B16C [::1]"
    render = lf.compile_format("%ci:%cp %fi:%fp", mode="tcp")
    assert render(tcp_sess(cli_ip="unix", cli_port=1, fe_ip="unix", fe_port=1)) == "unix:1 unix:1"


# ----------------------------------------------------------------------------------------
# mode http


def test_httplog() -> None:
    render = lf.compile_format(lf.HTTPLOG_FORMAT)
    s = http_sess(
        accept_ts=1795778388.219, cli_port=38108, frontend_name="h1", backend_name="be_http",
        server_name="s1", t_response=1, t_active=1, t_total=1, bytes_out=145, uri="/index.html?a=1",
    )  # fmt: skip
    assert render(s) == (
        '127.0.0.1:38108 [27/Nov/2026:11:19:48.219] h1 be_http/s1 0/0/0/1/1 200 145 - - ---- '
        '1/1/0/0/0 0/0 "GET /index.html?a=1 HTTP/1.1"'
    )


def test_httplog_captures_and_cookies() -> None:
    render = lf.compile_format(lf.HTTPLOG_FORMAT)
    common = {"frontend_name": "h2", "backend_name": "be_http_ck", "server_name": "s1", "bytes_out": 145, "uri": "/p"}
    s = http_sess(
        accept_ts=1795778388.371, cli_port=38946, t_response=1, t_active=1, t_total=1,
        cookie_req="SRV=s1", cookie_res="SRV=abc", term_cookie="VD",
        req_captures=["example.com", "curl/7.88."], res_captures=["a|b"], **common,
    )  # fmt: skip
    assert render(s) == (
        "127.0.0.1:38946 [27/Nov/2026:11:19:48.371] h2 be_http_ck/s1 0/0/0/1/1 200 145 SRV=s1 "
        'SRV=abc --VD 1/1/0/0/0 0/0 {example.com|curl/7.88.} {a#7Cb} "GET /p HTTP/1.1"'
    )
    s = http_sess(
        accept_ts=1795778388.523, cli_port=38960, t_response=3, t_active=3, t_total=3,
        cookie_res="SRV=abc", term_cookie="NI", req_captures=['exa"mple{|}.com', None],
        res_captures=["a|b"], **common,
    )  # fmt: skip
    assert render(s) == (
        "127.0.0.1:38960 [27/Nov/2026:11:19:48.523] h2 be_http_ck/s1 0/0/0/3/3 200 145 - SRV=abc "
        '--NI 1/1/0/0/0 0/0 {exa#22mple#7B#7C#7D.com|} {a#7Cb} "GET /p HTTP/1.1"'
    )


def test_httplog_clf() -> None:
    render = lf.compile_format(lf.CLF_HTTPLOG_FORMAT)
    common = {
        "frontend_name": "h3", "backend_name": "be_http", "server_name": "s1", "bytes_out": 145, "uri": "/c",
        "version": "HTTP/1.0", "res_captures": ["a|b"],
    }  # fmt: skip
    s = http_sess(accept_ts=1795778388.677, cli_port=53250, t_response=2, t_active=2, t_total=2, req_captures=["h"], **common)
    assert render(s) == (
        '127.0.0.1 - - [27/Nov/2026:11:19:48 +0000] "GET /c HTTP/1.0" 200 145 "" "" 53250 677 '
        '"h3" "be_http" "s1" 0 0 0 2 2 ---- 1 1 0 0 0 0 0 "" "" "h" "a#7Cb"'
    )
    s = http_sess(accept_ts=1795778388.834, cli_port=53254, t_response=1, t_active=1, t_total=1, req_captures=[None], **common)
    assert render(s) == (
        '127.0.0.1 - - [27/Nov/2026:11:19:48 +0000] "GET /c HTTP/1.0" 200 145 "" "" 53254 834 '
        '"h3" "be_http" "s1" 0 0 0 1 1 ---- 1 1 0 0 0 0 0 "" "" "" "a#7Cb"'
    )


FMT_H = (
    "H [%tr] [%trg] [%trl] %TR/%Tw/%Tc/%Tr/%Ta/%Th/%Ti/%Tq/%Td/%Tu/%Tt %ST "
    "%HM|%HU|%HP|%HPO|%HQ|%HV %{+Q}r %{+E}r %{+E}HU %{+Q}HM %{+X}rt %{+Q}CC %CS %tsc"
)


def test_http_request_pieces_and_escapes() -> None:
    render = lf.compile_format(FMT_H)
    s = http_sess(
        accept_ts=1795778388.987, uri='/a/b%20c?q="x\\y]z', t_response=1, t_active=1, t_total=1, req_id=5,
    )  # fmt: skip
    assert render(s) == (
        "H [27/Nov/2026:11:19:48.987] [27/Nov/2026:11:19:48 +0000] [27/Nov/2026:11:19:48 +0000] "
        "0/0/0/1/1/0/0/0/0/1/1 200 GET|/a/b%20c?q=#22x\\y]z|/a/b%20c|/a/b%20c|?q=#22x\\y]z|HTTP/1.1 "
        '"GET /a/b%20c?q=#22x\\y]z HTTP/1.1" GET /a/b%20c?q=#22x\\\\y\\]z HTTP/1.1 '
        '/a/b%20c?q=#22x\\\\y\\]z "GET" 0005 "" - ----'
    )
    # a request HAProxy rejected before parsing it (400, no request line)
    bad = http_sess(
        accept_ts=1795778389.139, method=None, version=None, status=400, t_request=-1, t_queue=-1,
        t_connect=-1, t_active=0, term="PR", req_id=6,
    )  # fmt: skip
    assert render(bad) == (
        "H [27/Nov/2026:11:19:49.139] [27/Nov/2026:11:19:49 +0000] [27/Nov/2026:11:19:49 +0000] "
        "-1/-1/-1/-1/0/0/0/-1/-1/0/0 400 <BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ> "
        '"<BADREQ>" <BADREQ> <BADREQ> "<BADREQ>" 0006 "" - PR--'
    )


def test_httplog_errors() -> None:
    render = lf.compile_format(lf.HTTPLOG_FORMAT)
    # server refused three times -> 503
    s = http_sess(
        accept_ts=1795778389.289, cli_port=46478, frontend_name="h5", backend_name="be_dead",
        server_name="s1", t_connect=-1, t_total=3006, t_active=3006, status=503, bytes_out=217,
        term="SC", retries=3, uri="/",
    )  # fmt: skip
    assert render(s) == (
        '127.0.0.1:46478 [27/Nov/2026:11:19:49.289] h5 be_dead/s1 0/0/-1/-1/3006 503 217 - - '
        'SC-- 1/1/0/0/3 0/0 "GET / HTTP/1.1"'
    )
    # http-request deny: request captures present, no response capture declared
    s = http_sess(
        accept_ts=1795778392.441, cli_port=32896, frontend_name="h6", t_queue=-1, t_connect=-1,
        t_active=0, status=403, bytes_out=192, term="PR", uri="/deny", req_captures=["h", None],
    )  # fmt: skip
    assert render(s) == (
        '127.0.0.1:32896 [27/Nov/2026:11:19:52.441] h6 h6/<NOSRV> 0/-1/-1/-1/0 403 192 - - PR-- '
        '1/1/0/0/0 0/0 {h|} "GET /deny HTTP/1.1"'
    )
    # invalid request: no stream, so no captures at all and <BADREQ>
    s = http_sess(
        accept_ts=1795778392.591, cli_port=32898, frontend_name="h6", t_request=-1, t_queue=-1,
        t_connect=-1, t_active=0, status=400, term="PR", method=None,
    )  # fmt: skip
    assert render(s) == (
        "127.0.0.1:32898 [27/Nov/2026:11:19:52.591] h6 h6/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- "
        '1/1/0/0/0 0/0 "<BADREQ>"'
    )


# ----------------------------------------------------------------------------------------
# Other time zones (haproxy started with TZ=...)


def test_dates_in_other_time_zones() -> None:
    fmt = "[%t] [%T] [%Tl] %Ts %ms"
    try:
        set_tz("America/New_York")
        render = lf.compile_format(fmt, mode="tcp")
        assert render(tcp_sess(accept_ts=1795778433.128)) == (
            "[27/Nov/2026:06:20:33.128] [27/Nov/2026:11:20:33 +0000] [27/Nov/2026:06:20:33 -0500] 1795778433 128"
        )
        assert log.build_header("", 16, 6, "haproxy", 16881, None, 1795778433.129) == "<134>Nov 27 06:20:33 haproxy[16881]: "
        assert log.build_header("rfc5424", 16, 6, "haproxy", 16881, None, 1795778433.1291) == (
            "<134>1 2026-11-27T06:20:33.129100-05:00 - haproxy 16881 - - "
        )
        assert log.build_header("timed", 16, 6, "haproxy", 16881, None, 1795778433.129112) == (
            "<6>2026-11-27T06:20:33.129112-05:00 "
        )
        set_tz("Asia/Kolkata")
        assert render(tcp_sess(accept_ts=1795778434.617)) == (
            "[27/Nov/2026:16:50:34.617] [27/Nov/2026:11:20:34 +0000] [27/Nov/2026:16:50:34 +0530] 1795778434 617"
        )
        assert log.build_header("", 16, 6, "haproxy", 16936, None, 1795778434.6178) == "<134>Nov 27 16:50:34 haproxy[16936]: "
        assert log.build_header("rfc5424", 16, 6, "haproxy", 16936, None, 1795778434.617802) == (
            "<134>1 2026-11-27T16:50:34.617802+05:30 - haproxy 16936 - - "
        )
    finally:
        set_tz("UTC")


# ----------------------------------------------------------------------------------------
# The senders on real sockets (127.0.0.1, a unix datagram socket in tmp_path, a pipe)


def test_senders_deliver_one_message_each(tmp_path: Any) -> None:
    import re
    import socket

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(2)
    path = str(tmp_path / "log.sock")
    ux = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ux.bind(path)
    ux.settimeout(2)
    rfd, wfd = os.pipe()
    try:
        targets = [
            log.parse_log_line([f"127.0.0.1:{udp.getsockname()[1]}", "local0"], True),
            log.parse_log_line([path, "format", "rfc5424", "local1"], True),
            log.parse_log_line([f"fd@{wfd}", "len", "80", "format", "raw", "daemon"], True),
        ]
        lg = log.Logger([t for t in targets if t is not None], "gtag")
        lg.log(log.LOG_INFO, "hello world " + "x" * 100)
        got = udp.recv(2048)
        assert re.fullmatch(rb"<134>\w{3} [ \d]\d \d\d:\d\d:\d\d gtag\[\d+\]: hello world x{100}\n", got)
        got = ux.recv(2048)
        assert re.fullmatch(rb"<142>1 \S+ - gtag \d+ - - hello world x{100}\n", got)
        assert os.read(rfd, 4096) == b"hello world " + b"x" * 67 + b"\n"
    finally:
        udp.close()
        ux.close()
        os.close(rfd)
        os.close(wfd)


def test_missing_unix_socket_is_counted_not_raised(tmp_path: Any) -> None:
    t = log.parse_log_line([str(tmp_path / "nothing-here"), "local0"], True)
    assert t is not None
    before = log.STATS.dropped
    lg = log.Logger([t], "haproxy")
    lg.log(log.LOG_INFO, "lost")
    lg.log(log.LOG_INFO, "lost again")
    assert log.STATS.dropped == before + 2
