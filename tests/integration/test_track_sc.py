"""Stick counters live: ``track-sc0/1/2``, ``sc_*``/``src_*`` fetches, ``sc-inc-gpc0``,
rate limiting and connection limits (HAProxy's classic abuse protection).

gproxy is started as a user would (``gproxy -f cfg``).  Each scenario runs against
gproxy and, when it is installed, against the real haproxy 2.6 with the same config and
the same client actions; both must answer the same statuses and show the same counters
in ``show table`` (the entry's ``use`` reference count included).
"""

from __future__ import annotations

import http.client
import re
import socket
from pathlib import Path

import pytest
from helpers import TcpEchoServer, free_port, wait_for, wait_listening

from integration.httpkit import RawBackend, read_response
from integration.sidebyside import FLAVOURS, cli

pytestmark = pytest.mark.timeout(90)


def entry(sock_path: str, table: str) -> dict[str, str]:
    """The first entry of ``show table <table>`` as {field: value} (key, use, data types)."""
    for line in cli(sock_path, f"show table {table}").splitlines():
        if line.startswith("0x"):
            return dict(kv.split("=", 1) for kv in line.split(": ", 1)[1].split() if "=" in kv and
                        not kv.startswith("exp="))
    return {}


def get(port: int, path: str = "/", conn: http.client.HTTPConnection | None = None) -> int:
    """One request (on ``conn`` when given, else on a new connection): its status."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        if conn is None:
            c.close()


HEAD = """\
global
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
"""


# ---------------------------------------------------------------------- rate limit
@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("with_conn", [False, True], ids=["http-only", "classic"])
def test_http_req_rate_limit(flavour: str, with_conn: bool, run, backend, tmp_path: Path) -> None:
    """The classic 429 rate limit: 25 requests, the 21st and later are denied; every
    request and each denial count on the source's entry, which nobody uses afterwards.

    With the classic config's ``tcp-request connection track-sc1 src`` on the same table
    the entry is tracked twice (sc0 and sc1), so each request counts twice: haproxy 2.6
    denies from the 11th request on, and so does gproxy."""
    port = free_port()
    sock = str(tmp_path / f"{flavour}.sock")
    conn_rules = """\
    tcp-request connection track-sc1 src
    tcp-request connection reject if { sc1_conn_cur gt 10 }
""" if with_conn else ""
    cfg = HEAD.format(sock=sock) + f"""\
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur,http_err_rate(10s),http_req_cnt,http_err_cnt,gpc0
    http-request track-sc0 src
    http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt 20 }}
{conn_rules}    default_backend be
backend be
    server s1 127.0.0.1:{backend.port}
"""
    run(flavour, cfg, port)
    statuses = [get(port) for _ in range(25)]
    n = 10 if with_conn else 20
    assert statuses == [200] * n + [429] * (25 - n)
    # keep-alive: the same limits on one connection
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    assert get(port, conn=c) == 429
    k = 2 if with_conn else 1  # each request counts once per counter tracking the entry
    e = entry(sock, "fe")
    assert (e["use"], e["conn_cur"]) == (("1", "1") if with_conn else ("0", "0"))
    assert (e["http_req_cnt"], e["http_err_cnt"]) == (str(26 * k), str((26 - n) * k))
    c.close()
    wait_for(lambda: entry(sock, "fe")["use"] == "0", timeout=10, what="entry released")
    e = entry(sock, "fe")
    assert (e["conn_cur"], e["http_req_rate(10000)"], e["http_err_rate(10000)"]) == (
        "0", str(26 * k), str((26 - n) * k))


# ---------------------------------------------------------------------- connections
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_conn_cur_limit(flavour: str, run, backend, tmp_path: Path) -> None:
    """``tcp-request connection reject if { sc1_conn_cur gt 2 }``: two connections are
    served, a third is reset; the entry shows use=2 while they are open, and the session
    counters (sess_cnt) count the accepted ones only."""
    port = free_port()
    sock = str(tmp_path / f"{flavour}.sock")
    cfg = HEAD.format(sock=sock) + f"""\
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 100k expire 30s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
    tcp-request connection track-sc1 src
    tcp-request connection reject if {{ sc1_conn_cur gt 2 }}
    http-request return status 200 content-type text/plain lf-string "cur=%[sc1_conn_cur] req=%[sc_http_req_cnt(1)] t0=%[sc0_tracked] x=%[sc0_conn_cur]"
    default_backend be
backend be
    server s1 127.0.0.1:{backend.port}
"""
    run(flavour, cfg, port)
    conns = []
    bodies = []
    for _ in range(2):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        conns.append(s)
        s.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        bodies.append(read_response(s)[1].decode())
    assert bodies == ["cur=1 req=1 t0=0 x=", "cur=2 req=2 t0=0 x="]
    with pytest.raises(OSError):  # reset (or closed) by the proxy, at whichever step it shows
        third = socket.create_connection(("127.0.0.1", port), timeout=5)
        conns.append(third)
        third.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        read_response(third)
    e = entry(sock, "fe")
    assert (e["use"], e["conn_cur"], e["conn_cnt"], e["sess_cnt"], e["http_req_cnt"]) == ("2", "2", "3", "2", "2")
    for s in conns:
        s.close()
    wait_for(lambda: entry(sock, "fe")["use"] == "0", timeout=10, what="entries released")
    assert entry(sock, "fe")["conn_cur"] == "0"


# ---------------------------------------------------------------------- gpc0
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_gpc0_ban(flavour: str, run, backend, tmp_path: Path) -> None:
    """``sc-inc-gpc0`` on a bad path, then ``deny if { sc_get_gpc0(0) gt 2 }``: the source
    is banned after its third bad request, for every path."""
    port = free_port()
    sock = str(tmp_path / f"{flavour}.sock")
    cfg = HEAD.format(sock=sock) + f"""\
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 30s store gpc0,gpc0_rate(10s),gpt0
    http-request track-sc0 src
    http-request deny if {{ sc_get_gpc0(0) gt 2 }}
    http-request sc-inc-gpc0(0) if {{ path_beg /admin }}
    http-request sc-set-gpt0(0) 7 if {{ path /tag }}
    default_backend be
backend be
    server s1 127.0.0.1:{backend.port}
"""
    run(flavour, cfg, port)
    got = [get(port, p) for p in ("/", "/admin", "/tag", "/admin", "/", "/admin", "/", "/admin")]
    assert got == [200, 200, 200, 200, 200, 200, 403, 403]
    e = entry(sock, "fe")
    assert (e["gpc0"], e["gpc0_rate(10000)"], e["gpt0"]) == ("3", "3", "7")


# ---------------------------------------------------------------------- another table
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_src_rate_in_another_table(flavour: str, run, backend, tmp_path: Path) -> None:
    """Counters kept in a backend's table: ``track-sc0 src table rl`` and
    ``src_http_req_rate(rl)`` / ``table_http_req_cnt(rl)`` read from the frontend."""
    port = free_port()
    sock = str(tmp_path / f"{flavour}.sock")
    cfg = HEAD.format(sock=sock) + f"""\
frontend fe
    bind 127.0.0.1:{port}
    http-request deny deny_status 429 if {{ src_http_req_rate(rl) ge 3 }}
    http-request track-sc0 src table rl
    http-response set-header x-cnt %[src,table_http_req_cnt(rl)]
    default_backend be
backend be
    server s1 127.0.0.1:{backend.port}
backend rl
    stick-table type ip size 1k expire 30s store http_req_rate(10s),http_req_cnt
"""
    run(flavour, cfg, port)
    assert [get(port) for _ in range(5)] == [200, 200, 200, 429, 429]
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/")
    r = c.getresponse()
    r.read()
    c.close()
    assert r.status == 429
    e = entry(sock, "rl")
    assert (e["use"], e["http_req_cnt"]) == ("0", "3")


# ---------------------------------------------------------------------- mode tcp
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_tcp_mode_counters(flavour: str, run, tmp_path: Path) -> None:
    """mode tcp: a connection-level and a content-level counter on the same entry, the
    bytes each way counted when the session ends."""
    echo = TcpEchoServer()
    try:
        port = free_port()
        sock = str(tmp_path / f"{flavour}.sock")
        cfg = HEAD.format(sock=sock).replace("mode http", "mode tcp") + f"""\
listen li
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 30s store conn_cur,conn_cnt,sess_cnt,bytes_in_cnt,bytes_out_cnt
    tcp-request connection track-sc0 src
    tcp-request content track-sc1 src
    server s1 127.0.0.1:{echo.port}
"""
        run(flavour, cfg, port)
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"x" * 1000)
        got = b""
        while len(got) < 1000:
            got += s.recv(65536)
        wait_for(lambda: entry(sock, "li").get("use") == "2", timeout=10, what="both counters tracking")
        e = entry(sock, "li")
        assert (e["conn_cur"], e["conn_cnt"], e["sess_cnt"]) == ("2", "2", "1")
        s.close()
        wait_for(lambda: entry(sock, "li")["use"] == "0", timeout=10, what="released")
        e = entry(sock, "li")
        # each of the two counters adds the bytes to the same entry (haproxy 2.6 does the same)
        assert (e["conn_cur"], e["bytes_in_cnt"], e["bytes_out_cnt"]) == ("0", "2000", "2000")
    finally:
        echo.stop()


def test_show_table_use_while_tracked(run, backend, tmp_path: Path) -> None:
    """An http-request counter lives for one request: between keep-alive requests the
    entry is not in use (gproxy only: the same as the haproxy runs above)."""
    port = free_port()
    sock = str(tmp_path / "g.sock")
    cfg = HEAD.format(sock=sock) + f"""\
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 30s store conn_cur,conn_cnt,http_req_cnt
    http-request track-sc2 src
    http-request return status 200 content-type text/plain lf-string "%[sc2_conn_cur]/%[sc2_trackers]"
    default_backend be
backend be
    server s1 127.0.0.1:{backend.port}
"""
    run("gproxy", cfg, port)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for _ in range(3):
        c.request("GET", "/")
        r = c.getresponse()
        assert r.read() == b"1/1"
    e = entry(sock, "fe")
    assert (e["use"], e["conn_cur"], e["conn_cnt"], e["http_req_cnt"]) == ("0", "0", "3", "3")
    c.close()
    assert re.match(r"# table: fe, type: ip, size:1024, used:1", cli(sock, "show table fe"))


# ---------------------------------------------------------------------- errors and failures
def _by_path(req) -> bytes:
    path = req.head.split(b" ")[1]
    if path == b"/s404":
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    if path == b"/s500":
        return b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_error_and_failure_counters(flavour: str, run, tmp_path: Path) -> None:
    """``http_err_cnt`` counts 4xx responses and the requests the proxy refuses (auth,
    tarpit, deny); ``http_fail_cnt`` 5xx responses from the server, not the 503 of a
    backend without a server; an ``http-response track-sc`` counts the response it
    runs for; a request that never gets a response runs no http-response rule."""
    be = RawBackend(respond=_by_path)
    try:
        p1, p2 = free_port(), free_port()
        sock = str(tmp_path / f"{flavour}.sock")
        store = "store conn_cur,conn_cnt,http_req_cnt,http_err_cnt,http_fail_cnt"
        cfg = HEAD.format(sock=sock) + f"""\
frontend fa
    bind 127.0.0.1:{p1}
    stick-table type ip size 1k expire 30s {store}
    http-response track-sc0 src
    use_backend dead if {{ path /dead }}
    default_backend be
frontend fb
    bind 127.0.0.1:{p2}
    stick-table type ip size 1k expire 30s {store}
    tcp-request session track-sc1 src
    http-request auth if {{ path /auth }}
    http-request tarpit deny_status 500 if {{ path /tarpit }}
    use_backend dead if {{ path /dead }}
    default_backend be
backend be
    timeout tarpit 10ms
    server s1 127.0.0.1:{be.port}
backend dead
    timeout connect 1s
    retries 0
    server s1 127.0.0.1:{free_port()}
"""
        run(flavour, cfg, p1)
        wait_listening(p2)
        assert [get(p1, p) for p in ("/", "/s404", "/s500", "/dead")] == [200, 404, 500, 503]
        assert [get(p2, p) for p in ("/", "/auth", "/tarpit", "/s404", "/s500", "/dead")] == [
            200, 401, 500, 404, 500, 503]
        fa, fb = entry(sock, "fa"), entry(sock, "fb")
        assert (fa["conn_cnt"], fa["http_req_cnt"], fa["http_err_cnt"], fa["http_fail_cnt"]) == ("3", "3", "1", "1")
        assert (fb["conn_cnt"], fb["http_req_cnt"], fb["http_err_cnt"], fb["http_fail_cnt"]) == ("6", "6", "3", "1")
    finally:
        be.stop()
