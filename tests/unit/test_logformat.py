"""Unit tests of the log-format compiler (gproxy.logformat) and the pure parts of gproxy.log:
syslog headers, framing/truncation, level filters, sampling, the `log` line parser, the
logging keywords and Logger decisions.  No sockets: senders are replaced by recorders.

Expected texts come from HAProxy 2.6's src/log.c and from running haproxy 2.6.12 (see
tests/integration/test_log_haproxy_parity.py for the verbatim captures).
"""

from __future__ import annotations

import os
import time
import types
from typing import Any

import pytest

from gproxy import log
from gproxy import logformat as lf
from gproxy.config.model import Global, LogTarget, Model, Proxy
from gproxy.diag import Diagnostics
from gproxy.registry import SECTION_KEYWORDS, ConfigError, KwCtx

ACCEPT = 1234567890.123456  # Fri, 13 Feb 2009 23:31:30.123456 UTC


@pytest.fixture(autouse=True)
def _utc() -> Any:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    lf.reset_time_caches()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()
    lf.reset_time_caches()


def sess(**kw: Any) -> types.SimpleNamespace:
    d: dict[str, Any] = {
        "accept_ts": ACCEPT, "req_ts": None, "cli_ip": "10.0.1.2", "cli_port": 33317,
        "fe_ip": "10.0.0.1", "fe_port": 80, "be_ip": "10.0.0.1", "be_port": 40000,
        "srv_ip": "10.0.2.1", "srv_port": 8080, "frontend_name": "http-in", "fe_ssl": False,
        "backend_name": "static", "server_name": "srv1", "t_idle": 0, "t_handshake": 0,
        "t_request": 10, "t_queue": 0, "t_connect": 30, "t_response": 69, "t_active": 109,
        "t_total": 109, "bytes_out": 2750, "bytes_in": 120, "status": 200, "term": "--",
        "term_cookie": "--", "actconn": 1, "feconn": 1, "beconn": 1, "srvconn": 1,
        "retries": 0, "redispatched": False, "srv_queue": 0, "be_queue": 0,
        "req_captures": None, "res_captures": None, "cookie_req": None, "cookie_res": None,
        "method": "GET", "uri": "/index.html", "version": "HTTP/1.1", "unique_id": None,
    }  # fmt: skip
    d.update(kw)
    return types.SimpleNamespace(**d)


def render(fmt: str, mode: str = "http", **kw: Any) -> str:
    opts = {k: kw.pop(k) for k in ("logasap", "counters", "sample") if k in kw}
    return lf.compile_format(fmt, mode=mode, **opts)(sess(**kw))


# ----------------------------------------------------------------------------------------
# built-in formats (the examples of HAProxy's configuration manual, section 8.2)


def test_builtin_format_strings() -> None:
    assert lf.TCPLOG_FORMAT == "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"
    assert lf.HTTPLOG_FORMAT == (
        "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc "
        "%sq/%bq %hr %hs %{+Q}r"
    )
    assert lf.CLF_HTTPLOG_FORMAT.startswith('%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms')


def test_httplog_manual_example() -> None:
    s = sess(req_captures=["1wt.eu"], res_captures=[], t_request=10, t_connect=30)
    assert lf.compile_format(lf.HTTPLOG_FORMAT)(s) == (
        "10.0.1.2:33317 [13/Feb/2009:23:31:30.123] http-in static/srv1 10/0/30/69/109 200 2750 "
        '- - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"'
    )


def test_tcplog_manual_example() -> None:
    s = sess(frontend_name="fnt", backend_name="bck", t_connect=5, t_total=5007, bytes_out=212, retries=3)
    # HAProxy 2.6 logs Tw one above the queue time outside HTTP (t_request is -1 there)
    assert lf.compile_format(lf.TCPLOG_FORMAT, mode="tcp")(s) == (
        "10.0.1.2:33317 [13/Feb/2009:23:31:30.123] fnt bck/srv1 1/5/5007 212 -- 1/1/1/1/3 0/0"
    )


def test_httpslog_samples_default_to_dash() -> None:
    fn = lf.compile_format(lf.HTTPSLOG_FORMAT, sample=lambda expr: (lambda s: None))
    assert fn(sess()).endswith('"GET /index.html HTTP/1.1" -/-/-/-/- -/-/-')


# ----------------------------------------------------------------------------------------
# parser errors (texts checked with `haproxy -c`)


@pytest.mark.parametrize(
    "fmt,err",
    [
        ("%ci %zz", "no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'"),
        ("%ci % x", "unexpected variable name near ' ' at position 5 line : '%ci % x'. Maybe you want to write a single '%', use the syntax '%%'"),
        ("%ci %1", "unexpected variable name near '1' at position 5 line : '%ci %1'. Maybe you want to write a single '%', use the syntax '%%'"),
        ("%ci %{+Q}", "parse argument modifier without variable name near '%{+Q}'"),
        ("%ci %{+Q} x", "parse argument modifier without variable name near '%{+Q}'"),
        ("%ci %{+Q", "truncated line after '+Q'"),
        ("%ci %", "truncated line after '%'"),
        ("%ci %[src", "missing ']' after 'src'"),
        ("%ci %[src)", "expected ']' after 'src', but found ')'"),
        ("%ci %[src x]", "expected ']' after 'src', but found ' '"),
        ("%ci %[]", "failed to parse sample expression <]> : missing fetch method"),
        ("%cicp", "no such format variable 'cicp'. If you wanted to emit the '%' character verbatim, you need to use '%%'"),
    ],
)  # fmt: skip
def test_parse_errors(fmt: str, err: str) -> None:
    with pytest.raises(ValueError) as e:
        lf.compile_format(fmt, sample=lambda x: (lambda s: "v"))
    assert str(e.value) == err


@pytest.mark.parametrize("var", sorted(lf.HTTP_ONLY_VARS))
def test_http_only_variables_in_tcp_mode(var: str) -> None:
    with pytest.raises(ValueError, match=f"^format variable '{var}' is reserved for HTTP mode$"):
        lf.compile_format(f"%ci %{var}", mode="tcp")


def test_tcp_mode_accepts_tcp_variables() -> None:
    tcp_vars = [v for v in lf.VARIABLES if v not in lf.HTTP_ONLY_VARS]
    lf.compile_format(" ".join("%" + v for v in tcp_vars), mode="tcp")


def test_sample_without_hook_is_an_error() -> None:
    with pytest.raises(ValueError, match="sample fetch"):
        lf.compile_format("%[src]")


def test_sample_hook_error_is_wrapped() -> None:
    def hook(expr: str) -> Any:
        raise ValueError(f"unknown fetch method '{expr}'")

    with pytest.raises(ValueError) as e:
        lf.compile_format("%ci %[nosuchfetch] x", sample=hook)
    assert str(e.value) == "failed to parse sample expression <nosuchfetch] x> : unknown fetch method 'nosuchfetch'"


# ----------------------------------------------------------------------------------------
# literals, separators, flags


def test_separators_collapse_and_leading_spaces_drop() -> None:
    assert render("   a   b  ") == "a b "
    assert render("%ci    %cp") == "10.0.1.2 33317"


def test_percent_literals() -> None:
    assert render("100%% %%ci") == "100% %ci"
    assert render("%-x %ci_x") == "-x 10.0.1.2_x"  # '%' before a non-letter is dropped


def test_tab_is_text_not_separator() -> None:
    assert render("%ci\t\t%cp") == "10.0.1.2\t\t33317"


def test_vanishing_captures_keep_single_spaces() -> None:
    fmt = "%ci %hr %hs %hrl %hsl %cp"
    assert render(fmt) == "10.0.1.2 33317"
    assert render("%hr %ci") == "10.0.1.2"
    assert render(fmt, req_captures=["a", None], res_captures=None) == "10.0.1.2 {a|} a - 33317"
    assert render(fmt, req_captures=None, res_captures=["x"]) == "10.0.1.2 {x} x 33317"
    assert render(fmt, req_captures=[], res_captures=[]) == "10.0.1.2 {} {}   33317"


def test_empty_value_still_counts_as_output() -> None:
    # %{-M}: a missing value prints nothing, yet the next separator is still emitted
    assert render("%ci %{-M}o %ID| %{+M}o %ID|") == "10.0.1.2 | -|"


def test_quote_flag() -> None:
    assert render("%{+Q}ci %{+Q}cp %{+Q}f %{+Q}ft %{+Q}b %{+Q}s %{+Q}ID %{+Q}Tt") == (
        '"10.0.1.2" 33317 "http-in" "http-in" "static" "srv1" "" 109'
    )
    assert render("%{+Q}o %ci %{-Q}ci %CC") == '"10.0.1.2" 10.0.1.2 ""'
    assert render("%{+Q}hr %{+Q}hrl", req_captures=["a", None]) == '"{a|}" "a" ""'
    assert render("%{+Q}r %{+Q}HM %{+Q}HU %{+Q}HV") == '"GET /index.html HTTP/1.1" "GET" "/index.html" "HTTP/1.1"'


def test_hex_flag() -> None:
    s = "%{+X}ci:%{+X}cp %{+X}si:%{+X}sp %{+X}Ts %{+X}ms %{+X}pid %{+X}rt %{+X}lc"
    out = render(s, req_id=5)
    ts_hex = format(int(ACCEPT), "04X")
    assert out == f"0A000102:8225 0A000201:1F90 {ts_hex} 7B {os.getpid():04X} 0005 0000"
    assert render("%{+X}ci", cli_ip="::1") == "00000000000000000000000000000001"
    assert render("%{+X}bi %{+X}bp", be_ip=None, be_port=None) == "- -"
    assert render("%{+Q,+X}ci") == "0A000102"  # hex wins over quotes


def test_unknown_flags_are_ignored() -> None:
    assert render("%{+Z}ci %{Q}ci %{+Q,-Q}ci") == "10.0.1.2 10.0.1.2 10.0.1.2"


def test_escape_flag() -> None:
    assert render('%{+E}ID', unique_id='a"b\\c]d') == 'a\\"b\\\\c\\]d'
    assert render("%{+E,+Q}ID", unique_id="x]") == '"x\\]"'
    assert render("%{+E}r", uri='/q="x\\y]') == 'GET /q=#22x\\\\y\\] HTTP/1.1'
    assert render("%{+E}hr", req_captures=['a"\\]']) == "{a#22\\\\\\]}"


# ----------------------------------------------------------------------------------------
# variables


def test_addresses_and_ports() -> None:
    assert render("%ci:%cp %fi:%fp %bi:%bp %si:%sp") == "10.0.1.2:33317 10.0.0.1:80 10.0.0.1:40000 10.0.2.1:8080"
    none = {"be_ip": None, "be_port": None, "srv_ip": None, "srv_port": None}
    assert render("%bi:%bp %si:%sp", **none) == "-:- -:-"
    assert render("%{+Q}bi:%{+Q}bp", **none) == '"":""'
    assert render("%{-M}o %bi:%bp|%ci", **none) == ":|10.0.1.2"
    assert render("%ci:%cp %{+X}cp", cli_ip="unix", cli_port=3) == "unix:3 3"


def test_dates_utc() -> None:
    out = render("[%t] [%T] [%Tl] %Ts %ms [%tr] [%trg] [%trl]", req_ts=ACCEPT + 1.5)
    assert out == (
        "[13/Feb/2009:23:31:30.123] [13/Feb/2009:23:31:30 +0000] [13/Feb/2009:23:31:30 +0000] "
        "1234567890 123 [13/Feb/2009:23:31:31.623] [13/Feb/2009:23:31:31 +0000] "
        "[13/Feb/2009:23:31:31 +0000]"
    )


def test_request_date_from_timers_when_unset() -> None:
    # HAProxy: accept date + Ti + Th
    assert render("%tr", t_idle=1000, t_handshake=500) == "13/Feb/2009:23:31:31.623"
    assert render("%tr", t_idle=-1, t_handshake=500) == "13/Feb/2009:23:31:30.123"


def test_dates_local_time_zone() -> None:
    os.environ["TZ"] = "Europe/Paris"
    time.tzset()
    lf.reset_time_caches()
    assert render("[%t] [%T] [%Tl]") == (
        "[14/Feb/2009:00:31:30.123] [13/Feb/2009:23:31:30 +0000] [14/Feb/2009:00:31:30 +0100]"
    )
    os.environ["TZ"] = "America/St_Johns"  # -03:30
    time.tzset()
    lf.reset_time_caches()
    assert render("%Tl") == "13/Feb/2009:20:01:30 -0330"


def test_milliseconds_rounding() -> None:
    # 0.655 is not exact in binary; HAProxy's tv_usec/1000 would say 655
    assert render("%ms %t", accept_ts=1234567890.655) == "655 13/Feb/2009:23:31:30.655"
    assert render("%ms", accept_ts=1234567890.0009996) == "001"
    assert render("%ms %Ts", accept_ts=1234567890.9999996) == "000 1234567891"


def test_names() -> None:
    assert render("%f %ft %b %s") == "http-in http-in static srv1"
    assert render("%ft %{+Q}ft", fe_ssl=True) == 'http-in~ "http-in~"'
    assert render("%b/%s", backend_name=None, server_name=None) == "http-in/<NOSRV>"
    assert render("%s", server_name="<STATS>") == "<STATS>"


def test_timers_http() -> None:
    s = {"t_handshake": 2, "t_idle": 3, "t_request": 10, "t_queue": 1, "t_connect": 30, "t_response": 69}
    out = render("%Th/%Ti/%TR/%Tq/%Tw/%Tc/%Tr/%Ta/%Td/%Tt/%Tu", t_active=109, t_total=114, **s)
    assert out == "2/3/10/15/1/30/69/109/-1/114/111".replace("-1", str(114 - (2 + 3 + 10 + 1 + 30 + 69)))
    assert render("%Tq/%Td", t_request=-1, t_response=-1) == "-1/-1"


def test_timers_tcp() -> None:
    out = render("%Tw/%Tc/%Tt/%Td/%Tu", mode="tcp", t_idle=-1, t_request=-1, t_queue=2, t_connect=3, t_total=50)
    assert out == "3/3/50/45/50"
    assert render("%Tw/%Tc/%Td", mode="tcp", t_queue=-1, t_connect=-1) == "-1/-1/-1"


def test_logasap_plus_signs() -> None:
    assert render("%Ta %Tt %Tu %B %U", logasap=True, t_active=5, t_total=7, t_idle=1) == "+5 +7 +6 +2750 120"
    assert render("%Ta %Tt %B", t_active=5, t_total=7) == "5 7 2750"


def test_status() -> None:
    assert render("%ST") == "200"
    assert render("%ST", status=None) == "-1"
    assert render("%ST", mode="tcp", status=None) == "0"


def test_bytes_and_counters() -> None:
    out = render("%B %U %ac/%fc/%bc/%sc/%rc %sq/%bq", actconn=7, feconn=6, beconn=5, srvconn=4, retries=2, srv_queue=3, be_queue=9)
    assert out == "2750 120 7/6/5/4/2 3/9"
    assert render("%rc", retries=1, redispatched=True) == "+1"


def test_termination_states_and_cookies() -> None:
    assert render("%ts %tsc", term="SC", term_cookie="NI") == "SC SCNI"
    assert render("%ts %tsc", term=None, term_cookie=None) == "-- ----"
    assert render("%CC %CS", cookie_req="SRV=a", cookie_res=None) == "SRV=a -"


def test_header_encoding() -> None:
    caps = ['a"b', "c#d", "{|}", "tab\there", "\x7f\x80é", "日"]
    assert render("%hr", req_captures=caps) == "{a#22b|c#23d|#7B#7C#7D|tab#09here|#7F#80#E9|#E6#97#A5}"
    assert render("%hsl", res_captures=["x y", None, ""]) == "x y - "


def test_request_line_pieces() -> None:
    fmt = "%r|%HM|%HU|%HP|%HPO|%HQ|%HV"
    assert render(fmt, uri="/a/b?x=1&y") == "GET /a/b?x=1&y HTTP/1.1|GET|/a/b?x=1&y|/a/b|/a/b|?x=1&y|HTTP/1.1"
    assert render(fmt, uri="http://h:8/p/q?z") == "GET http://h:8/p/q?z HTTP/1.1|GET|http://h:8/p/q?z|http://h:8/p/q|/p/q|?z|HTTP/1.1"
    assert render(fmt, method="CONNECT", uri="h:443") == "CONNECT h:443 HTTP/1.1|CONNECT|h:443|h:443|||HTTP/1.1"
    assert render("%HQ|%HV", version=None) == "|HTTP/0.9"
    bad = "<BADREQ>"
    assert render(fmt, method=None, uri=None, version=None) == "|".join([bad] * 7)
    assert render("%r", uri='/"#\x01') == "GET /#22#23#01 HTTP/1.1"


def test_ids_host_pid_counters() -> None:
    c = lf.Counters()
    c.log_count = 41
    assert render("%ID %lc %rt", unique_id="abc", counters=c, req_id=12) == "abc 41 12"
    assert render("%H %pid") == f"{lf.HOSTNAME} {os.getpid()}"
    n = lf.next_req_id()
    assert lf.next_req_id() == n + 1
    assert render("%rt") == str(n + 1)  # no req_id on the session: the last id handed out


def test_ssl_variables_are_optional_attributes() -> None:
    assert render("%sslv %sslc") == "- -"
    assert render("%sslv/%sslc", ssl_version="TLSv1.3", ssl_cipher="TLS_AES_128_GCM_SHA256") == "TLSv1.3/TLS_AES_128_GCM_SHA256"


def test_sample_hook() -> None:
    seen: list[str] = []

    def hook(expr: str) -> Any:
        seen.append(expr)
        return lambda s: None if expr == "none" else f"<{expr}>"

    out = render("%[src] %{+Q}[req.hdr(host),lower] %[none] %{+Q}[none]", sample=hook)
    assert out == '<src> "<req.hdr(host),lower>" - ""'
    assert seen == ["src", "req.hdr(host),lower", "none", "none"]


def test_generated_text_with_quotes_and_braces() -> None:
    assert render('{"ip":"%ci","b":%B}') == '{"ip":"10.0.1.2","b":2750}'
    assert render("it's \\ %ci") == "it's \\ 10.0.1.2"


def test_render_speed_sanity() -> None:
    fn = lf.compile_format(lf.TCPLOG_FORMAT, mode="tcp")
    s = sess()
    t0 = time.perf_counter()
    for _ in range(2000):
        fn(s)
    assert (time.perf_counter() - t0) / 2000 < 200e-6  # generous: measured ~5 us


# ----------------------------------------------------------------------------------------
# syslog headers and framing (gproxy.log, pure parts)

NOW = 1234567890.123456


@pytest.mark.parametrize(
    "fmt,fac,lvl,host,expected",
    [
        ("local", 16, 6, None, "<134>Feb 13 23:31:30 haproxy[42]: "),
        ("", 16, 6, None, "<134>Feb 13 23:31:30 haproxy[42]: "),
        ("", 3, 6, "h1", "<30>Feb 13 23:31:30 h1 haproxy[42]: "),
        ("local", 3, 6, "h1", "<30>Feb 13 23:31:30 haproxy[42]: "),
        ("rfc3164", 23, 7, None, "<191>Feb 13 23:31:30 localhost haproxy[42]: "),
        ("rfc5424", 0, 0, None, "<0>1 2009-02-13T23:31:30.123456+00:00 - haproxy 42 - - "),
        ("rfc5424", 16, 3, "h1", "<131>1 2009-02-13T23:31:30.123456+00:00 h1 haproxy 42 - - "),
        ("priority", 16, 1, None, "<129>"),
        ("short", 16, 1, None, "<1>"),
        ("timed", 16, 1, None, "<1>2009-02-13T23:31:30.123456+00:00 "),
        ("iso", 16, 1, None, "2009-02-13T23:31:30.123456+00:00 "),
        ("raw", 16, 1, "h1", ""),
    ],
)
def test_build_header(fmt: str, fac: int, lvl: int, host: str | None, expected: str) -> None:
    assert log.build_header(fmt, fac, lvl, "haproxy", 42, host, NOW) == expected


def test_header_day_is_space_padded_and_empty_tag() -> None:
    t = 1236297600.0  # 2009-03-06 00:00:00 UTC
    assert log.build_header("local", 16, 6, "gp", 1, None, t) == "<134>Mar  6 00:00:00 gp[1]: "
    assert log.build_header("local", 16, 6, "", 1, None, t) == "<134>Mar  6 00:00:00 "
    assert log.build_header("rfc5424", 16, 6, "", 1, None, t) == "<134>1 2009-03-06T00:00:00.000000+00:00 - - 1 - - "


def test_frame_truncation() -> None:
    h, m = b"H" * 10, b"m" * 100
    d = log.frame(h, m, 80, stream=False)
    assert d == h + b"m" * 70 + b"\n" and len(d) == 81
    s = log.frame(h, m, 80, stream=True)
    assert s == h + b"m" * 69 + b"\n" and len(s) == 80
    assert log.frame(b"x" * 90, b"m", 80, False) == b"x" * 80 + b"\n"
    assert log.frame(b"<1>", b"msg\n\n\x00", 1024, False) == b"<1>msg\n"


class Rec:
    """A Sender stand-in recording what would be sent."""

    def __init__(self, max_level: int = 7) -> None:
        self.max_level = max_level
        self.got: list[tuple[int, bytes, str]] = []

    def emit(self, level: int, msg: bytes, tag: str, host: str | None, nb: int, now: float) -> None:
        self.got.append((level, msg, tag))


def test_logger_level_filter_and_min_level(monkeypatch: pytest.MonkeyPatch) -> None:
    lg = log.Logger([], "tag")
    a, b = Rec(max_level=5), Rec()
    lg.senders, lg.enabled = [a, b], True  # type: ignore[list-item]
    lg.log(log.LOG_INFO, "traffic")
    lg.log(log.LOG_ALERT, "down")
    assert a.got == [(1, b"down", "tag")]
    assert [g[0] for g in b.got] == [6, 1]
    # min level: the sender raises the level number (severity floor) before the header
    sent: list[bytes] = []
    monkeypatch.setattr(log.Sender, "_transmit", lambda self, d: sent.append(d))
    snd = log.Sender(LogTarget(kind="udp", host="127.0.0.1", port=9, facility=16, format="priority", min_level=5))
    snd.emit(log.LOG_EMERG, b"x", "t", None, 1, NOW)
    snd.emit(log.LOG_DEBUG, b"y", "t", None, 1, NOW)
    assert sent == [b"<133>x\n", b"<135>y\n"]


def test_sender_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[bytes] = []
    monkeypatch.setattr(log.Sender, "_transmit", lambda self, d: sent.append(d))
    t = log.parse_log_line(["127.0.0.1:9", "format", "raw", "sample", "1,3-4:5", "local0"], True)
    assert t is not None
    snd = log.Sender(t)
    for i in range(10):
        snd.emit(6, str(i).encode(), "t", None, 1, NOW)
    assert sent == [b"0\n", b"2\n", b"3\n", b"5\n", b"7\n", b"8\n"]


def test_send_failure_counts_and_alerts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    def boom(d: bytes, a: Any) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(log, "_dgram_sock", lambda fam: types.SimpleNamespace(sendto=boom))
    monkeypatch.setattr(log, "_alerted", [False])
    err = io.StringIO()
    log.configure_stderr(err)
    try:
        before = log.STATS.dropped
        snd = log.Sender(LogTarget(kind="unix", path="/nonexistent/log", facility=16))
        snd.emit(6, b"a", "t", None, 1, NOW)
        snd.emit(6, b"b", "t", None, 1, NOW)
    finally:
        log.configure_stderr()
    assert log.STATS.dropped == before + 2
    assert err.getvalue().count("\n") == 1
    assert err.getvalue().endswith(": sendmsg()/writev() failed in logger #1: No such file or directory (errno=2)\n")


# ----------------------------------------------------------------------------------------
# `log` line parsing


def pl(line: str, in_global: bool = True) -> LogTarget | None:
    return log.parse_log_line(line.split(), in_global)


def test_parse_log_line_forms() -> None:
    t = pl("127.0.0.1 local0")
    assert t is not None and (t.kind, t.host, t.port, t.facility, t.max_level, t.min_level) == ("udp", "127.0.0.1", 514, 16, 7, 0)
    assert t.format == "" and t.length == 1024
    t = pl("127.0.0.1:1514 len 200 format rfc5424 daemon info err")
    assert t is not None and (t.port, t.length, t.format, t.facility, t.max_level, t.min_level) == (1514, 200, "rfc5424", 3, 6, 3)
    t = pl("[::1]:515 user")
    assert t is not None and (t.kind, t.host, t.port) == ("udp", "::1", 515)
    t = pl("ipv4@127.0.0.2 local7")
    assert t is not None and t.host == "127.0.0.2"
    t = pl("/dev/log local0")
    assert t is not None and (t.kind, t.path) == ("unix", "/dev/log")
    t = pl("unix@/tmp/x.sock local0")
    assert t is not None and (t.kind, t.path) == ("unix", "/tmp/x.sock")
    t = pl("abns@logs local0")
    assert t is not None and t.path == "\0logs"
    t = pl("stdout format raw daemon")
    assert t is not None and (t.kind, t.fd, t.format) == ("stdout", 1, "raw")
    t = pl("stderr daemon")
    assert t is not None and (t.kind, t.fd) == ("stderr", 2)
    t = pl("fd@5 local0")
    assert t is not None and (t.kind, t.fd) == ("fd", 5)
    t = pl("localhost local0")
    assert t is not None and t.kind == "udp" and t.host in ("127.0.0.1", "::1")
    assert pl("ring@buf local0") is None
    assert pl("tcp@127.0.0.1:514 local0") is None


@pytest.mark.parametrize(
    "line,in_global,err",
    [
        ("", True, "expects <address> and <facility>  as arguments"),
        ("127.0.0.1", False, "expects <address> and <facility> or global as arguments"),
        ("127.0.0.1 foo", True, "unknown log facility 'foo'"),
        ("127.0.0.1 local0 foo", True, "unknown optional log level 'foo'"),
        ("127.0.0.1 local0 info foo", True, "unknown optional minimum log level 'foo'"),
        ("127.0.0.1 local0 info err extra", True, "cannot handle unexpected argument 'extra'"),
        ("127.0.0.1 len 10 local0", True, "invalid log length '10', must be between 80 and 65535"),
        ("127.0.0.1 len abc local0", True, "invalid log length 'abc', must be between 80 and 65535"),
        ("127.0.0.1 format foo local0", True, "unknown log format 'foo'"),
        ("127.0.0.1 format raw len 100 local0", True, "unknown log facility 'len'"),
        ("127.0.0.1 len 100", True, "unknown log facility ''"),
        ("127.0.0.1:99999 local0", True, "invalid port '99999'"),
        ("127.0.0.1:abc local0", True, "invalid character 'a' in port number 'abc' in '127.0.0.1:abc'"),
        ("nohost.invalid local0", True, "invalid address: 'nohost.invalid' in 'nohost.invalid'"),
        ("fd@x local0", True, "file descriptor 'x' is not a valid integer in 'fd@x'"),
        ("127.0.0.1 sample 1-2 local0", True, "Missing sample size"),
        ("127.0.0.1 sample 2-1:5 local0", True, "wrong sample range '2-1'"),
        ("127.0.0.1 sample 1-3,2:5 local0", True, "ranges are overlapping"),
        ("127.0.0.1 sample 1:x local0", True, "wrong sample size 'x' for sample range '1'"),
        ("127.0.0.1 sample 1-9:5 local0", True, "sample size 5 should be greater or equal to 9 the maximum of the high ranges limits"),
    ],
)  # fmt: skip
def test_parse_log_line_errors(line: str, in_global: bool, err: str) -> None:
    with pytest.raises(ConfigError) as e:
        pl(line, in_global)
    assert str(e.value) == err


# ----------------------------------------------------------------------------------------
# keywords


class Cfg:
    """Feeds lines to the registered handlers the way the config parser does."""

    def __init__(self) -> None:
        self.model = Model()
        self.diag = Diagnostics()
        self.proxy: Proxy | None = None
        self.section = "global"
        self.n = 0

    def open(self, kind: str, name: str, mode: str = "tcp") -> Proxy:
        self.proxy = Proxy(kind, name, mode=mode)
        self.section = kind
        self.model.proxies.append(self.proxy)
        return self.proxy

    def line(self, text: str) -> None:
        self.n += 1
        words = text.split()
        ctx = KwCtx(self.model, self.diag, "f.cfg", self.n, self.section, self.proxy)
        ctx.negated = False  # type: ignore[attr-defined]
        ctx.default_prefix = False  # type: ignore[attr-defined]
        if words[0] in ("no", "default"):
            ctx.negated = words[0] == "no"  # type: ignore[attr-defined]
            ctx.default_prefix = words[0] == "default"  # type: ignore[attr-defined]
            words = words[1:]
        kw = SECTION_KEYWORDS.match(words, self.section)
        assert kw is not None and kw.handler is not None, text
        try:
            kw.handler(ctx, words[len(kw.words) :])
        except ConfigError as e:
            self.diag.alert(str(e), "f.cfg", self.n)

    def texts(self) -> list[str]:
        return [f"{m.level} {m.text}" for m in self.diag.messages]


def test_keywords_global() -> None:
    c = Cfg()
    c.line("log 127.0.0.1:1514 local0 info")
    c.line("log stdout format raw daemon")
    c.line("log-tag gp")
    c.line("log-send-hostname box")
    c.line("log-send-hostname again")
    c.line("log global")
    c.line("log-tag a b")
    g = c.model.glob
    assert [t.kind for t in g.logs] == ["udp", "stdout"] and g.log_tag == "gp" and g.log_send_hostname == "box"
    assert c.texts() == [
        "ALERT 'log-send-hostname' already specified. Continuing.",
        "ALERT log : 'global' is not supported for a global syslog server",
        "ALERT 'log-tag' cannot handle unexpected argument 'b'.",
    ]
    assert c.diag.alerts == 2  # 'already specified' is not fatal
    c.line("no log")
    assert g.logs == []


def test_keywords_proxy() -> None:
    c = Cfg()
    px = c.open("frontend", "fe")
    c.line("log global")
    c.line("log 127.0.0.1 local1")
    c.line("log-tag fetag")
    c.line("option tcplog")
    c.line("option dontlognull")
    c.line("no option log-separate-errors")
    c.line("option logasap")
    assert px.log_global and len(px.logs) == 1 and px.extra["log_tag"] == "fetag"
    assert px.log_format == lf.TCPLOG_FORMAT and px.options["tcplog"] is True
    assert px.options["dontlognull"] is True and px.options["log-separate-errors"] is False
    c.line("option httplog clf")
    assert px.log_format == lf.CLF_HTTPLOG_FORMAT and px.options["httplog"] == "clf" and "tcplog" not in px.options
    c.line("log-format %ci:%cp")
    assert px.log_format == "%ci:%cp" and "httplog" not in px.options
    c.line("no log")
    assert px.logs == [] and not px.log_global and px.no_log
    assert c.diag.messages == []


def test_keyword_errors() -> None:
    c = Cfg()
    c.open("frontend", "fe")
    for line in (
        "log",
        "no log extra",
        "log-format",
        "log-format a b",
        "option tcplog extra",
        "no option tcplog",
        "option httplog foo",
        "option httplog clf extra",
        "option dontlognull extra",
        "log-tag",
    ):
        c.line(line)
    assert c.texts() == [
        "ALERT log : expects <address> and <facility> or global as arguments",
        "ALERT log : 'no log' does not expect arguments",
        "ALERT log-format expects an argument.",
        "ALERT log-format expects only one argument, don't forget to escape spaces!",
        "ALERT 'option tcplog' cannot handle unexpected argument 'extra'.",
        "ALERT negation/default is not supported for option 'tcplog'.",
        "ALERT keyword 'httplog' only supports option 'clf'.",
        "ALERT 'option httplog' cannot handle unexpected argument 'extra'.",
        "ALERT 'option dontlognull' cannot handle unexpected argument 'extra'.",
        "ALERT 'log-tag' expects a tag for use in syslog.",
    ]


def test_keyword_warnings_defaults_and_backend() -> None:
    c = Cfg()
    c.open("defaults", "")
    c.line("option tcplog")
    c.line("option httplog clf")
    c.line("log-format %ci")
    c.line("option tcplog")
    be = c.open("backend", "be")
    c.line("option tcplog")
    c.line("log-format %ci")
    c.line("option dontlognull")
    c.line("option logasap")
    assert c.texts() == [
        "WARNING 'option httplog clf' overrides previous 'option tcplog' in 'defaults' section.",
        "WARNING 'log-format' overrides previous 'option httplog clf' in 'defaults' section.",
        "WARNING 'option tcplog' overrides previous 'log-format' in 'defaults' section.",
        "WARNING backend 'be' : 'option tcplog' directive is ignored in backends.",
        "WARNING backend 'be' : 'log-format' directive is ignored in backends.",
        "WARNING 'dontlognull' ignored because backend 'be' has no frontend capability.",
        "WARNING 'logasap' ignored because backend 'be' has no frontend capability.",
    ]
    assert "dontlognull" not in be.options


def test_check_config() -> None:
    c = Cfg()
    c.line("log 127.0.0.1 local0")
    c.open("frontend", "fe")
    c.line("log global")
    c.line("option httplog")
    c.open("listen", "li")
    c.line("log global")
    c.line("log-format %ci|%r")
    c.open("frontend", "nolog", mode="http")
    c.line("option httplog")
    c.open("frontend", "okhttp", mode="http")
    c.line("log global")
    c.line("log-format %ci|%r")
    c.open("frontend", "bad", mode="http")
    c.line("log global")
    c.line("log-format %ci|%zz")
    c.diag.messages.clear()
    log.check_config(c.model, c.diag)
    assert [(m.level, m.text, m.line) for m in c.diag.messages] == [
        ("WARNING", "'option httplog' not usable with frontend 'fe' (needs 'mode http'). Falling back to 'option tcplog'.", 3),
        ("ALERT", "Parsing [f.cfg:5]: failed to parse log-format : format variable 'r' is reserved for HTTP mode.", None),
        ("WARNING", "log format ignored for frontend 'nolog' since it has no log address.", None),
        (
            "ALERT",
            (
                "Parsing [f.cfg:10]: failed to parse log-format : no such format variable 'zz'. "
                "If you wanted to emit the '%' character verbatim, you need to use '%%'."
            ),
            None,
        ),
    ]
    assert log.effective_format(c.model.proxies[0]) == lf.TCPLOG_FORMAT


# ----------------------------------------------------------------------------------------
# Logger decisions


def make_logger(**options: Any) -> tuple[log.Logger, Rec]:
    g = Global()
    px = Proxy("frontend", "fe", mode=options.pop("mode", "tcp"))
    px.options.update(options)
    px.log_format = "%ts %B"
    px.logs.append(LogTarget(kind="udp", host="127.0.0.1", port=9))
    lg = log.Logger.for_proxy(px, g)
    rec = Rec()
    lg.senders = [rec]  # type: ignore[list-item]
    return lg, rec


def test_logger_session_levels_and_options() -> None:
    lg, rec = make_logger()
    assert lg.session(sess(term="--")) and rec.got[-1][0] == log.LOG_INFO
    assert lg.session(sess(term="SC")) and rec.got[-1][0] == log.LOG_INFO
    lg, rec = make_logger(**{"log-separate-errors": True})
    lg.session(sess(term="--"))
    lg.session(sess(term="cD"))
    lg.session(sess(term="LR"))
    lg.session(sess(term="--", retries=1))
    lg.session(sess(term="--", redispatched=True))
    assert [g[0] for g in rec.got] == [6, 3, 6, 3, 3]
    lg, rec = make_logger(**{"log-separate-errors": True, "mode": "http"})
    lg.session(sess(status=503))
    lg.session(sess(status=404))
    assert [g[0] for g in rec.got] == [3, 6]


def test_logger_dontlognull_and_dontlog_normal() -> None:
    lg, rec = make_logger(dontlognull=True)
    assert not lg.session(sess(bytes_in=0, bytes_out=100))
    assert lg.session(sess(bytes_in=1, bytes_out=0))
    lg, rec = make_logger(**{"dontlog-normal": True})
    assert not lg.session(sess(term="--"))
    assert lg.session(sess(term="CD"))
    assert rec.got == [(6, b"CD 2750", "haproxy")]


def test_logger_log_count_and_forced_level() -> None:
    lg, rec = make_logger()
    lg.session(sess())
    lg.session(sess(log_level=-1))
    lg.session(sess(log_level="debug"))
    assert lg.counters.log_count == 2 and [g[0] for g in rec.got] == [6, 7]


def test_logger_without_format_or_targets() -> None:
    g = Global()
    px = Proxy("frontend", "fe")
    assert not log.Logger.for_proxy(px, g).session(sess())
    px.log_format = lf.TCPLOG_FORMAT
    assert not log.Logger.for_proxy(px, g).enabled
    px.log_global = True
    g.logs.append(LogTarget(kind="udp", host="127.0.0.1"))
    lg = log.Logger.for_proxy(px, g)
    assert lg.enabled and lg.tag == "haproxy"
    be = Proxy("backend", "be", log_format=lf.TCPLOG_FORMAT)
    assert log.Logger.for_proxy(be, g).render is None  # backends have no traffic log


def test_shared_sender_per_target() -> None:
    t = LogTarget(kind="udp", host="127.0.0.1")
    assert log.sender_for(t) is log.sender_for(t)
