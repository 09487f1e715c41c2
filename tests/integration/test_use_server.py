"""``use-server``, ``force-persist`` and ``ignore-persist``, live.

gproxy is started as a user would (``gproxy -f cfg``); the servers are small Python
servers that say their name.  Every scenario runs against gproxy and, when it is
installed, against the real haproxy 2.6: both must give the expected server choices,
statuses, ``Set-Cookie`` headers and log fields (``%s``, ``%tsc``, ``%rc``).  The
expected values were read from haproxy 2.6.12 running these very configurations.
"""

from __future__ import annotations

import http.client
import re
import socket
from pathlib import Path

import pytest
from helpers import SyslogReceiver, free_port, wait_for

from integration.sidebyside import FLAVOURS, Running, cli, srv_status

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def syslog():
    r = SyslogReceiver()
    yield r
    r.stop()


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str, str]:
    """One request on a new connection: (status, server name or '-', set-cookie or '')."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        body = r.read().decode()
        return r.status, body if r.status == 200 else "-", r.getheader("set-cookie") or ""
    finally:
        c.close()


def _logs(syslog: SyslogReceiver, keys: list[int]) -> list[str]:
    """The ``LOG <key> ...`` lines of these requests (key: request number, or client port
    in mode tcp), in the order of ``keys``."""
    rx = re.compile(r"LOG (\d+) (.*)$")

    def all_there():
        got = {}
        for line in list(syslog.lines):
            m = rx.search(line)
            if m:
                got[int(m.group(1))] = m.group(2)
        return got if all(k in got for k in keys) else None

    got = wait_for(all_there, timeout=15, what=f"{len(keys)} log lines")
    return [got[k] for k in keys]


# ---------------------------------------------------------------------- mode http

HTTP_CFG = """\
global
    stats socket {sock} level admin
    log 127.0.0.1:{syslog} local0
defaults
    mode http
    log global
    timeout connect 200ms
    timeout client 10s
    timeout server 10s
listen web
    bind 127.0.0.1:{port}
    log-format "LOG %[capture.req.hdr(0)] %b/%s %ST %tsc %rc"
    capture request header x-n len 8
    balance roundrobin
    cookie SRV insert indirect nocache
    option redispatch
    retries 2
    force-persist if {{ hdr(x-force) -m found }}
    ignore-persist if {{ hdr(x-ignore) -m found }}
    use-server s3 if {{ path /s3 }}
    use-server sd if {{ path /sd }}
    use-server s2 if {{ path /sd }}
    use-server sx if {{ path /sx }}
    use-server s1 if {{ path /s1 }}
    use-server %[req.hdr(x-srv)] if {{ req.hdr(x-srv) -m found }}
    server s1 127.0.0.1:{s1} cookie c1
    server s2 127.0.0.1:{s2} cookie c2
    server s3 127.0.0.1:{s3} cookie c3
    server sd 127.0.0.1:{dead} cookie cd check inter 100 fall 1
    server sx 127.0.0.1:{dead} cookie cx backup
"""

#: (path, headers) -> ((status, server, set-cookie), log "%b/%s %ST %tsc %rc")
HTTP_CASES = [
    # a rule names the server; no cookie is inserted (SF_DIRECT)
    (("/s3", {}), ((200, "s3", ""), "web/s3 200 --NN 0")),
    # use-server wins over a valid cookie of another server: the cookie is "unused"
    (("/s3", {"cookie": "SRV=c1"}), ((200, "s3", ""), "web/s3 200 --UN 0")),
    # sd is down (check): its rule is skipped, the next matching rule applies
    (("/sd", {}), ((200, "s2", ""), "web/s2 200 --NN 0")),
    # sx refuses connections: retried, then redispatched at the last retry, cookie inserted
    (("/sx", {}), ((200, "s1", "SRV=c1; path=/"), "web/s1 200 --NI +2")),
    # no rule: the cookie is used
    (("/x", {"cookie": "SRV=c2"}), ((200, "s2", ""), "web/s2 200 --VN 0")),
    # ignore-persist does not stop use-server
    (("/s3", {"cookie": "SRV=c1", "x-ignore": "1"}), ((200, "s3", ""), "web/s3 200 --UN 0")),
    # ignore-persist: the cookie is not used and no cookie is inserted
    (("/x", {"cookie": "SRV=c1", "x-ignore": "1"}), ((200, "s2", ""), "web/s2 200 --UN 0")),
    # a cookie naming a down server: balanced, a new cookie
    (("/x", {"cookie": "SRV=cd"}), ((200, "s3", "SRV=c3; path=/"), "web/s3 200 --DI 0")),
    # ... with force-persist: the down server is used, and never redispatched
    (("/x", {"cookie": "SRV=cd", "x-force": "1"}), ((503, "-", ""), "web/sd 503 SCDN 2")),
    (("/sd", {"x-force": "1"}), ((503, "-", ""), "web/sd 503 SCNN 2")),
    # a valid cookie whose server refuses: redispatched at the last retry, flag V -> D
    (("/x", {"cookie": "SRV=cx"}), ((200, "s1", "SRV=c1; path=/"), "web/s1 200 --DI +2")),
    # a log-format server name
    (("/x", {"x-srv": "s2"}), ((200, "s2", ""), "web/s2 200 --NN 0")),
    # a name that is no server stops the rules: balanced
    (("/x", {"x-srv": "nosuch"}), ((200, "s2", "SRV=c2; path=/"), "web/s2 200 --NI 0")),
]

#: the same once s1 is in maintenance
HTTP_MAINT_CASES = [
    (("/x", {"cookie": "SRV=c1"}), ((200, "s3", "SRV=c3; path=/"), "web/s3 200 --DI 0")),
    (("/x", {"cookie": "SRV=c1", "x-force": "1"}), ((200, "s1", ""), "web/s1 200 --DN 0")),
    (("/s1", {}), ((200, "s2", "SRV=c2; path=/"), "web/s2 200 --NI 0")),
    (("/s1", {"x-force": "1"}), ((200, "s1", ""), "web/s1 200 --NN 0")),
    (("/x", {"x-srv": "s1", "x-force": "1"}), ((200, "s1", ""), "web/s1 200 --NN 0")),
]


def _run_http(flavour: str, tmp_path: Path, servers, syslog) -> tuple[list, list[str]]:
    s1, s2, s3 = servers("s1", "s2", "s3", http=True)
    port, dead = free_port(), free_port()
    sock = str(tmp_path / f"{flavour}.sock")
    cfg = HTTP_CFG.format(sock=sock, syslog=syslog.port, port=port, s1=s1.port, s2=s2.port, s3=s3.port, dead=dead)
    p = Running(flavour, cfg, tmp_path, port)
    try:
        wait_for(lambda: srv_status(sock, "web", "sd").startswith("DOWN"), timeout=10, what="sd down")
        got = []
        n = 0
        for (path, headers), _ in HTTP_CASES:
            got.append(_get(port, path, dict(headers, **{"x-n": str(n)})))
            n += 1
        cli(sock, "set server web/s1 state maint")
        wait_for(lambda: srv_status(sock, "web", "s1") == "MAINT", timeout=10, what="s1 in maintenance")
        for (path, headers), _ in HTTP_MAINT_CASES:
            got.append(_get(port, path, dict(headers, **{"x-n": str(n)})))
            n += 1
        return got, _logs(syslog, list(range(n)))
    finally:
        p.stop()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_http_use_server_and_persist_rules(tmp_path, servers, syslog, flavour):
    got, logs = _run_http(flavour, tmp_path, servers, syslog)
    cases = HTTP_CASES + HTTP_MAINT_CASES
    assert got == [want for _, (want, _) in cases]
    assert logs == [log for _, (_, log) in cases]


# ---------------------------------------------------------------------- mode tcp

TCP_CFG = """\
global
    stats socket {sock} level admin
    log 127.0.0.1:{syslog} local0
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen tcp
    bind 127.0.0.1:{port}
    log-format "LOG %cp %b/%s %ts %rc"
    tcp-request inspect-delay 5s
    tcp-request content accept if {{ req.len ge 3 }}
    force-persist if {{ req.payload(0,1) -m str F }}
    use-server t2 if {{ req.payload(1,1) -m str B }}
    use-server t1 if {{ req.payload(1,1) -m str A }}
    use-server t3 if {{ src 127.0.0.1 }} {{ req.payload(1,1) -m str C }}
    server t1 127.0.0.1:{t1}
    server t2 127.0.0.1:{t2}
    server t3 127.0.0.1:{t3}
"""

#: first bytes -> server
TCP_CASES = [(b"xB0", "t2"), (b"xA1", "t1"), (b"xC2", "t3"), (b"xx3", "t1"), (b"xx4", "t2")]
TCP_MAINT_CASES = [(b"xA5", "t3"), (b"FA6", "t1"), (b"xB7", "t2")]


def _tcp_name(port: int, data: bytes, cports: list[int]) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        cports.append(c.getsockname()[1])  # the log's %cp
        c.sendall(data)
        return c.makefile("rb").readline().decode().strip()


def _run_tcp(flavour: str, tmp_path: Path, servers, syslog) -> tuple[list[str], list[str]]:
    t1, t2, t3 = servers("t1", "t2", "t3")
    port = free_port()
    sock = str(tmp_path / f"{flavour}.sock")
    cfg = TCP_CFG.format(sock=sock, syslog=syslog.port, port=port, t1=t1.port, t2=t2.port, t3=t3.port)
    p = Running(flavour, cfg, tmp_path, port)
    try:
        cports: list[int] = []
        got = [_tcp_name(port, d, cports) for d, _ in TCP_CASES]
        cli(sock, "set server tcp/t1 state maint")
        wait_for(lambda: srv_status(sock, "tcp", "t1") == "MAINT", timeout=10, what="t1 in maintenance")
        got += [_tcp_name(port, d, cports) for d, _ in TCP_MAINT_CASES]
        return got, _logs(syslog, cports)
    finally:
        p.stop()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_tcp_use_server_on_payload_and_src(tmp_path, servers, syslog, flavour):
    """In mode tcp the rules read what ``tcp-request inspect-delay`` waited for; a rule
    naming a server in maintenance is skipped unless force-persist matched."""
    got, logs = _run_tcp(flavour, tmp_path, servers, syslog)
    cases = TCP_CASES + TCP_MAINT_CASES
    assert got == [name for _, name in cases]
    assert logs == [f"tcp/{name} -- 0" for _, name in cases]


# ---------------------------------------------------------------------- stick + persist rules

STICK_CFG = """\
global
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen web
    bind 127.0.0.1:{port}
    balance roundrobin
    force-persist if {{ hdr(x-force) -m found }}
    ignore-persist if {{ hdr(x-ignore) -m found }}
    stick-table type string len 16 size 10
    stick on req.hdr(x-user)
    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}
"""


def _run_stick(flavour: str, tmp_path: Path, servers) -> list[str]:
    s1, s2 = servers("s1", "s2", http=True)
    port = free_port()
    sock = str(tmp_path / f"{flavour}.sock")
    p = Running(flavour, STICK_CFG.format(sock=sock, port=port, s1=s1.port, s2=s2.port), tmp_path, port)
    try:
        def get(**h: str) -> str:
            return _get(port, "/", {k.replace("_", "-"): v for k, v in h.items()})[1]

        out = [get(x_user="u1"), get(x_user="u2"), get(x_user="u1", x_ignore="1")]
        cli(sock, "set server web/s1 state maint")
        wait_for(lambda: srv_status(sock, "web", "s1") == "MAINT", timeout=10, what="s1 in maintenance")
        out += [get(x_user="u1", x_force="1"), get(x_user="u1")]
        cli(sock, "set server web/s1 state ready")
        wait_for(lambda: srv_status(sock, "web", "s1") not in ("MAINT", ""), timeout=10, what="s1 ready")
        out += [get(x_user="u1"), get(x_user="u3")]
        return out
    finally:
        p.stop()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_stick_match_and_persist_rules(tmp_path, servers, flavour):
    """ignore-persist does not apply to stick rules; force-persist makes a stick match
    use a server in maintenance; without it the request is balanced and the entry
    now names the new server."""
    assert _run_stick(flavour, tmp_path, servers) == ["s1", "s2", "s1", "s1", "s2", "s2", "s2"]
