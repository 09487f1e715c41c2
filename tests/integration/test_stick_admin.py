"""Stick tables on the runtime API and in the Prometheus exporter, with gproxy started as
a user starts it (``gproxy -f cfg``): ``show table``, ``set table``, ``clear table`` on
real stats sockets bound at levels admin, user and operator, and the ``sticktable``
scope of ``http-request use-service prometheus-exporter``.

* ``test_recorded_session`` replays the session recorded against HAProxy 2.6.12 in
  ``unit/test_sticktable_cli.py`` (same tables, same sockets) and compares every answer
  (entry addresses and expiry counts masked); with ``GPROXY_TEST_PROXY=haproxy`` it runs
  against haproxy, which keeps the recording honest.
* ``test_parity_with_haproxy`` runs gproxy and ``/usr/sbin/haproxy`` on one
  configuration whose table is filled by traffic (``stick on src``) and compares the
  commands' answers and the ``sticktable`` scope of both exporters byte for byte.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from helpers import Proxy, free_port, wait_for
from unit.test_sticktable_cli import SCRIPT, TABLES_CFG, mask

from integration.httpkit import RawBackend

pytestmark = pytest.mark.timeout(90)

HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
PROMTOOL = shutil.which("promtool")

BASE_CFG = """
global
    stats socket {dir}/admin.sock level admin
    stats socket {dir}/user.sock level user
    stats socket {dir}/oper.sock level operator

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{fe}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    default_backend web
"""

WEB_CFG = """
backend web
    stick-table type ip size 20 expire 1m store server_id,conn_cnt,gpc0,http_req_rate(10s)
    stick on src
    server s1 127.0.0.1:{srv1}
    server s2 127.0.0.1:{srv2}
"""

LEVEL_SOCKETS = {3: "admin.sock", 1: "user.sock", 2: "oper.sock"}  # ADMIN, USER, OPERATOR


def cli(path: str, line: str, timeout: float = 5.0) -> str:
    """One connection, as ``socat``: the line, then everything until the proxy closes."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            data = s.recv(65536)
            if not data:
                return out.decode("utf-8", "surrogateescape")
            out += data


def http_get(port: int, path: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        assert r.status == 200
        return r.read()


def sock_ready(path: str) -> bool:
    try:
        return cli(path, "show cli level", timeout=1.0) != ""
    except OSError:
        return False


def prom_from_show_table(show: str) -> str:
    """The ``sticktable`` scope HAProxy prints for the tables ``show table`` lists."""
    rows = re.findall(r"^# table: (\S+), type: (\S+), size:(\d+), used:(\d+)$", show, re.MULTILINE)
    out = ["# HELP haproxy_sticktable_size Stick table size.\n", "# TYPE haproxy_sticktable_size gauge\n"]
    out += [f'haproxy_sticktable_size{{name="{n}",type="{t}"}} {size}\n' for n, t, size, _used in rows]
    out += ["# HELP haproxy_sticktable_used Number of entries used in this stick table.\n",
            "# TYPE haproxy_sticktable_used gauge\n"]
    out += [f'haproxy_sticktable_used{{name="{n}",type="{t}"}} {used}\n' for n, t, _size, used in rows]
    return "".join(out)


@pytest.fixture
def servers() -> Any:
    b1, b2 = RawBackend(), RawBackend()
    yield b1, b2
    b1.stop()
    b2.stop()


def test_recorded_session(tmp_path: Path) -> None:
    fe = free_port()
    cfg = BASE_CFG.format(dir=tmp_path, fe=fe).replace("    default_backend web\n", "") + TABLES_CFG
    with Proxy(cfg, tmp_path, wait_ports=[fe]) as p:
        admin = str(tmp_path / "admin.sock")
        wait_for(lambda: sock_ready(admin), what="the stats socket")
        for level, line, expected in SCRIPT:
            got = cli(str(tmp_path / LEVEL_SOCKETS[level]), line)
            assert mask(got) == expected, (line, p.stderr()[-2000:])
        show = cli(admin, "show table")
        assert show.count("# table: ") == 5
        body = http_get(fe, "/metrics?scope=sticktable").decode()
        assert body == prom_from_show_table(show)


@pytest.mark.skipif(HAPROXY is None, reason="needs the Debian package 'haproxy' (2.6)")
def test_parity_with_haproxy(tmp_path: Path, servers: Any) -> None:
    srv1, srv2 = servers
    hdir, gdir = tmp_path / "haproxy", tmp_path / "gproxy"
    hdir.mkdir()
    gdir.mkdir()
    hfe, gfe = free_port(), free_port()
    tables = WEB_CFG.format(srv1=srv1.port, srv2=srv2.port) + TABLES_CFG
    hcfg = hdir / "h.cfg"
    hcfg.write_text(BASE_CFG.format(dir=hdir, fe=hfe) + tables)
    hap = subprocess.Popen([HAPROXY, "-db", "-f", str(hcfg)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        with Proxy(BASE_CFG.format(dir=gdir, fe=gfe) + tables, gdir, wait_ports=[gfe]) as gp:
            hsock, gsock = str(hdir / "admin.sock"), str(gdir / "admin.sock")
            wait_for(lambda: sock_ready(hsock), what="haproxy's stats socket")
            wait_for(lambda: sock_ready(gsock), what="gproxy's stats socket")
            for port in (hfe, gfe):
                for _ in range(3):
                    http_get(port, "/")  # stick on src: 127.0.0.1 -> s1
            commands = [
                "show table",
                "show table web",
                "show table web key 127.0.0.1",
                "show table web data.server_id eq 1",
                "show table web data.server_id eq 2",
                "set table web key 10.9.8.7 data.server_id 2 data.gpc0 5 data.http_req_rate 12",
                "set table web key 10.9.8.6 data.gpc0 -1",
                "show table web",
                "show table web data.gpc0 gt 1 data.http_req_rate ge 12",
                "clear table web data.gpc0 eq 4294967295",
                "show table web",
                "clear table web key 127.0.0.1",
                "show table web",
                "set table tint key 3 data.gpc0 3",
                "set table be key some\\ key data.server_id 9",
                "show table be",
                "show table",
            ]
            for cmd in commands:
                h, g = mask(cli(hsock, cmd)), mask(cli(gsock, cmd))
                assert g == h, (cmd, gp.stderr()[-2000:])
            for user_sock in ("user.sock", "oper.sock"):
                for cmd in ("show table web", "set table web key 1.1.1.1 data.gpc0 1", "show table web key 1.1.1.1",
                            "clear table web"):
                    h, g = mask(cli(str(hdir / user_sock), cmd)), mask(cli(str(gdir / user_sock), cmd))
                    assert g == h, (user_sock, cmd)
            hbody, gbody = http_get(hfe, "/metrics?scope=sticktable"), http_get(gfe, "/metrics?scope=sticktable")
            assert gbody == hbody
            assert gbody.decode() == prom_from_show_table(cli(gsock, "show table"))

            def sticktable_lines(body: bytes) -> list[str]:
                return [ln for ln in body.decode().splitlines() if "haproxy_sticktable_" in ln]

            assert sticktable_lines(http_get(gfe, "/metrics?scope=*")) == sticktable_lines(
                http_get(hfe, "/metrics?scope=*"))
            assert sticktable_lines(http_get(gfe, "/metrics")) == sticktable_lines(gbody)
            assert not sticktable_lines(http_get(gfe, "/metrics?scope=backend"))
            assert http_get(gfe, "/metrics?scope=backend&scope=sticktable").endswith(gbody)
    finally:
        hap.terminate()
        hap.wait(timeout=10)


@pytest.mark.skipif(PROMTOOL is None, reason="needs the Debian package 'prometheus' (promtool)")
def test_promtool_check_sticktable_scope(tmp_path: Path) -> None:
    fe = free_port()
    cfg = BASE_CFG.format(dir=tmp_path, fe=fe).replace("    default_backend web\n", "") + TABLES_CFG
    with Proxy(cfg, tmp_path, wait_ports=[fe]):
        admin = str(tmp_path / "admin.sock")
        wait_for(lambda: sock_ready(admin), what="the stats socket")
        assert cli(admin, "set table tip key 10.0.0.1 data.gpc0 1") == "\n"
        body = http_get(fe, "/metrics?scope=sticktable")
        assert b'haproxy_sticktable_used{name="tip",type="ip"} 1\n' in body
        res = subprocess.run([PROMTOOL, "check", "metrics"], check=False, input=body, capture_output=True,
                             timeout=20)
        assert res.returncode == 0, (res.stdout + res.stderr).decode()
