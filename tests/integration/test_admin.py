"""The runtime API on real stats sockets (UNIX and ``ipv4@`` TCP): protocol (one-shot,
``;`` chains, escapes, payloads, ``prompt``, ``quit``, ``stats timeout``), levels, and
every command's output shape and error strings.

Run against HAProxy with ``GPROXY_TEST_PROXY=haproxy``: every expectation here is what
HAProxy 2.6.12 (Debian) answers for the same configuration.  Where the two differ by
design it is spelled out: gproxy's ``show stat`` stops after the static columns (HAProxy
adds ``-`` and its modules' columns), ``help`` lists the commands gproxy implements, and
``show info`` omits the fields gproxy cannot compute.  When ``/usr/sbin/haproxy`` is
installed, ``test_parity_with_haproxy`` also runs both side by side and compares bytes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import TcpEchoServer, free_port, is_haproxy, run_check, wait_for

pytestmark = pytest.mark.timeout(60)

STATIC_HEADER = (
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,"
    "act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,"
    "check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,"
    "req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,"
    "qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,"
    "check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,"
    "intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,"
    "rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,"
    "agg_server_check_status,agg_check_status,"
)
SERVERS_STATE_HEADER = (
    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
    "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state "
    "bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr "
    "srv_agent_addr srv_agent_port\n"
)
HELP_TRAILER = (
    "  help [<command>]                        : list matching or all commands\n"
    "  prompt                                  : toggle interactive mode with prompt\n"
    "  quit                                    : disconnect\n"
)
#: HAProxy 2.6.12's help lines for the commands gproxy implements
HELP_LINES = [
    "  clear counters [all]                    : clear max statistics counters (or all counters)",
    "  clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)",
    "  disable frontend <frontend>             : temporarily disable specific frontend",
    "  disable health                          : disable health checks",
    "  disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)",
    "  enable frontend <frontend>              : re-enable specific frontend",
    "  enable health                           : enable health checks",
    "  enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)",
    "  get weight <bk>/<srv>                   : report a server's current weight",
    "  operator                                : lower the level of the current CLI session to operator",
    "  set maxconn frontend <frontend> <value> : change a frontend's maxconn setting",
    "  set maxconn global <value>              : change the per-process maxconn setting",
    "  set maxconn server <bk>/<srv>           : change a server's maxconn setting",
    "  set rate-limit <setting> <value>        : change a rate limiting value",
    "  set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl",
    "  set table <table> key <k> [data.* <v>]* : update or create a table entry's data",
    "  set timeout [cli] <delay>               : change a timeout setting",
    "  set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)",
    "  show backend                            : list backends in the current running config",
    "  show cli level                          : display the level of the current CLI session",
    "  show info [desc|json|typed|float]*      : report information about the running process",
    "  show servers state [<backend>]          : dump volatile server information (all or for a single backend)",
    "  show sess [id]                          : report the list of current sessions or dump this exact session",
    "  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server",
    ("  show table <table> [<filter>]*          : report table usage stats or dump this table's contents "
     "(filter: data/key)"),
    "  show version                            : show version of the current process",
    "  shutdown frontend <frontend>            : stop a specific frontend",
    "  shutdown session [id]                   : kill a specific session",
    "  shutdown sessions server <bk>/<srv>     : kill sessions on a server",
    "  user                                    : lower the level of the current CLI session to user",
]

CFG = """
global
    stats socket {dir}/admin.sock level admin
    stats socket {dir}/oper.sock
    stats socket ipv4@127.0.0.1:{uport} level user
    stats timeout {timeout}

defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s

frontend fe1
    bind 127.0.0.1:{p1}
    bind 127.0.0.1:{p2} name second
    option socket-stats
    default_backend be1

backend be1
    balance roundrobin
    server s1 127.0.0.1:{e1} check inter 200ms
    server s2 127.0.0.1:{e2} weight 5 maxconn 10 maxqueue 4
    server s3 127.0.0.1:{e3} backup disabled
    server s4 127.0.0.1:{dead} check inter 200ms

backend static
    balance source
    server a1 127.0.0.1:{e1}
"""


# ------------------------------------------------------------------ clients
def _connect(target: str | int) -> socket.socket:
    if isinstance(target, int):
        return socket.create_connection(("127.0.0.1", target), timeout=5)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(target)
    return s


def cli(target: str | int, data: str | bytes, timeout: float = 5.0) -> str:
    """Send ``data`` (a line feed is added to a str without one), read until the close."""
    if isinstance(data, str):
        data = (data if data.endswith("\n") else data + "\n").encode()
    with _connect(target) as s:
        s.settimeout(timeout)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)  # as socat does: what was sent is all there is
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode()
            out += chunk


class Session:
    """An interactive connection: ``send`` then ``expect`` exact bytes."""

    def __init__(self, target: str | int) -> None:
        self.sock = _connect(target)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, n: int, timeout: float = 5.0) -> bytes:
        self.sock.settimeout(timeout)
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                break
            out += chunk
        return out

    def expect(self, data: bytes) -> None:
        assert self.read(len(data)) == data

    def closed(self, timeout: float = 5.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


def stat_rows(text: str) -> list[dict[str, str]]:
    lines = text.split("\n")
    hdr = lines[0][2:].split(",")
    return [dict(zip(hdr, line.split(","), strict=False)) for line in lines[1:] if line]


def stat_row(target: str | int, px: str, sv: str, cmd: str = "show stat") -> dict[str, str]:
    for r in stat_rows(cli(target, cmd)):
        if r["pxname"] == px and r["svname"] == sv:
            return r
    raise AssertionError(f"no {px}/{sv} row")


# ------------------------------------------------------------------ fixture
class Env:
    def __init__(self, tmp_path: Path, proxy: Any, timeout: str = "10s") -> None:
        self.echo1, self.echo2, self.echo3 = TcpEchoServer(), TcpEchoServer(), TcpEchoServer()
        self.uport, self.p1, self.p2, self.dead = free_port(), free_port(), free_port(), free_port()
        self.dir = str(tmp_path)
        self.admin = f"{tmp_path}/admin.sock"
        self.oper = f"{tmp_path}/oper.sock"
        self.cfg = CFG.format(dir=tmp_path, uport=self.uport, timeout=timeout, p1=self.p1, p2=self.p2,
                              e1=self.echo1.port, e2=self.echo2.port, e3=self.echo3.port, dead=self.dead)
        self.proxy = proxy(self.cfg, wait_ports=[self.p1, self.p2, self.uport])
        for path in (self.admin, self.oper):
            wait_for(lambda p=path: cli(p, "show cli level"), what=f"{path} to answer")

    def stop(self) -> None:
        for e in (self.echo1, self.echo2, self.echo3):
            e.stop()


@pytest.fixture
def env(tmp_path: Path, proxy: Any) -> Any:
    e = Env(tmp_path, proxy)
    yield e
    e.stop()


def settled(env: Env) -> None:
    """Wait for the first checks: s1 up (L4OK), s4 down."""
    def ok() -> bool:
        rows = {r["svname"]: r for r in stat_rows(cli(env.admin, "show stat")) if r["pxname"] == "be1"}
        return rows["s1"]["check_status"] == "L4OK" and rows["s4"]["status"] == "DOWN"
    wait_for(ok, timeout=10, what="the first health checks")


# ------------------------------------------------------------------ show stat
def test_show_stat_csv(env: Env) -> None:
    settled(env)
    out = cli(env.admin, "show stat")
    assert out.endswith("\n\n")
    lines = out[:-1].split("\n")[:-1]
    header = lines[0]
    if is_haproxy():
        assert header.startswith(STATIC_HEADER + "-,")
    else:
        assert header == STATIC_HEADER
    ncomma = header.count(",")
    assert all(line.count(",") == ncomma for line in lines[1:])
    rows = stat_rows(out)
    assert [(r["pxname"], r["svname"]) for r in rows] == [
        ("fe1", "FRONTEND"), ("fe1", "sock-1"), ("fe1", "second"),
        ("be1", "s1"), ("be1", "s2"), ("be1", "s3"), ("be1", "s4"), ("be1", "BACKEND"),
        ("static", "a1"), ("static", "BACKEND"),
    ]
    by = {(r["pxname"], r["svname"]): r for r in rows}
    assert [by[k]["type"] for k in (("fe1", "FRONTEND"), ("fe1", "second"), ("be1", "s1"), ("be1", "BACKEND"))] == [
        "0", "3", "2", "1"]
    assert [by["be1", s]["status"] for s in ("s1", "s2", "s3", "s4")] == ["UP", "no check", "MAINT", "DOWN"]
    fe, li, s1, s2, s3, s4, be = (by[k] for k in (("fe1", "FRONTEND"), ("fe1", "second"), ("be1", "s1"),
                                                  ("be1", "s2"), ("be1", "s3"), ("be1", "s4"), ("be1", "BACKEND")))
    assert (fe["status"], fe["mode"], fe["sid"], fe["pid"], fe["qcur"], fe["slim"] != "") == ("OPEN", "tcp", "0", "1",
                                                                                               "", True)
    assert (li["status"], li["sid"], li["addr"], li["slim"]) == ("OPEN", "2", f"127.0.0.1:{env.p2}", "0")
    assert (s1["check_status"], s1["check_desc"], s1["check_rise"], s1["check_fall"], s1["check_health"]) == (
        "L4OK", "Layer4 check passed", "2", "3", "4")
    assert (s1["check_code"], s1["last_chk"], s1["chkfail"], s1["act"], s1["bck"]) == ("", "", "0", "1", "0")
    assert (s2["weight"], s2["uweight"], s2["slim"], s2["qlimit"], s2["addr"], s2["check_status"], s2["chkfail"]) == (
        "5", "5", "10", "4", f"127.0.0.1:{env.echo2.port}", "", "")
    assert (s3["act"], s3["bck"], s3["lastsess"], s3["sid"]) == ("0", "1", "-1", "3")
    assert (s4["check_status"], s4["last_chk"], s4["check_desc"], s4["check_health"]) == (
        "L4CON", "Connection refused", "Layer4 connection problem", "0")
    assert int(s4["chkdown"]) >= 1 and int(s4["chkfail"]) >= 1
    assert (be["status"], be["weight"], be["uweight"], be["act"], be["bck"], be["algo"], be["sid"]) == (
        "UP", "6", "6", "2", "0", "roundrobin", "0")
    assert by["static", "BACKEND"]["algo"] == "source"
    assert s1["iid"] == s2["iid"] == be["iid"] != fe["iid"]


def test_legends_need_operator_level_on_the_socket(env: Env) -> None:
    for target, shown in ((env.uport, False), (env.oper, True), (env.admin, True)):
        s2 = stat_row(target, "be1", "s2")
        be = stat_row(target, "be1", "BACKEND")
        assert (s2["addr"] != "", be["algo"] != "") == (shown, shown)
    # lowering the session level does not change the legends: they follow the socket
    rows = stat_rows(cli(env.admin, "user;show stat").lstrip("\n"))
    assert next(r for r in rows if r["svname"] == "s2")["addr"] == f"127.0.0.1:{env.echo2.port}"


def test_show_stat_filters(env: Env) -> None:
    settled(env)

    def names(cmd: str) -> list[str]:
        return [f"{r['pxname']}/{r['svname']}" for r in stat_rows(cli(env.admin, cmd))]

    assert names("show stat be1 4 -1") == ["be1/s1", "be1/s2", "be1/s3", "be1/s4"]
    assert names("show stat be1 2 -1") == ["be1/BACKEND"]
    assert names("show stat fe1 8 2") == ["fe1/second"]
    assert names("show stat fe1 1 -1") == ["fe1/FRONTEND"]
    iid = stat_row(env.admin, "be1", "BACKEND")["iid"]
    assert names(f"show stat {iid} 4 2") == ["be1/s2"]
    assert names(f"show stat {iid} -1 -1") == ["be1/s1", "be1/s2", "be1/s3", "be1/s4", "be1/BACKEND"]
    assert cli(env.admin, "show stat nope 1 1") == "No such proxy.\n\n"
    assert cli(env.admin, "show stat typed json up") == "No such proxy.\n\n"  # three words: a proxy filter
    assert cli(env.admin, "show stat domain x") == "Invalid statistics domain.\n\n"
    assert "be1/s3" not in names("show stat no-maint")
    up = names("show stat up")
    assert "be1/s3" not in up and "be1/s4" not in up and "be1/s1" in up
    assert stat_row(env.admin, "be1", "BACKEND", "show stat up")["status"] == "UP (2/4)"
    assert stat_row(env.admin, "be1", "BACKEND", "show stat domain proxy")["status"] == "UP"


def test_show_stat_typed_and_json(env: Env) -> None:
    settled(env)
    iid = stat_row(env.admin, "be1", "BACKEND")["iid"]
    fe_iid = stat_row(env.admin, "fe1", "FRONTEND")["iid"]
    typed = cli(env.admin, "show stat typed")
    assert typed.endswith("\n\n")
    lines = typed[:-2].split("\n")
    line_re = re.compile(r"^[FBLS]\.\d+\.\d+\.\d+\.[a-z0-9_-]+\.1:[MSKCP][GLmMRCDATNOa][PSsC]:(u32|s32|u64|s64|str|flt):")
    assert all(line_re.match(x) for x in lines), [x for x in lines if not line_re.match(x)][:3]
    for expected in (
        f"F.{fe_iid}.0.0.pxname.1:KNS:str:fe1",
        f"F.{fe_iid}.0.17.status.1:SGP:str:OPEN",
        f"L.{fe_iid}.2.1.svname.1:KNS:str:second",
        f"B.{iid}.0.17.status.1:SGP:str:UP",
        f"B.{iid}.0.19.act.1:MGP:u32:2",
        f"S.{iid}.2.19.act.1:SGP:u32:1",
        f"S.{iid}.2.18.weight.1:MaP:u32:5",
        f"S.{iid}.1.36.check_status.1:MOP:str:L4OK",
        f"S.{iid}.1.56.last_chk.1:MOP:str:",
        f"S.{iid}.2.25.qlimit.1:CGS:u32:4",
        f"S.{iid}.3.55.lastsess.1:MAP:s32:-1",
    ):
        assert expected in lines
    assert not any(x.startswith(f"S.{iid}.2.36.") for x in lines)  # no check: no check_status field
    desc = cli(env.admin, f"show stat {iid} 2 -1 typed desc").split("\n")[0]
    assert desc == f'B.{iid}.0.0.pxname.1:KNS:str:be1:"Proxy name"'
    out = cli(env.admin, "show stat json")
    assert out.endswith("]\n\n")
    data = json.loads(out)
    assert len(data) == 10
    assert data[0][0] == {"objType": "Frontend", "proxyId": int(fe_iid), "id": 0, "field": {"pos": 0, "name": "pxname"},
                          "processNum": 1, "tags": {"origin": "Key", "nature": "Name", "scope": "Service"},
                          "value": {"type": "str", "value": "fe1"}}
    assert {f["objType"] for row in data for f in row} == {"Frontend", "Listener", "Server", "Backend"}


# ------------------------------------------------------------------ show info
def test_show_info(env: Env) -> None:
    out = cli(env.admin, "show info")
    assert out.endswith("\n\n")
    fields = dict(line.split(": ", 1) for line in out[:-2].split("\n"))
    assert int(fields["Pid"]) == env.proxy.pid
    for name in ("Name", "Version", "Nbthread", "Nbproc", "Process_num", "Uptime", "Uptime_sec", "Ulimit-n",
                 "Maxsock", "Maxconn", "Hard_maxconn", "CurrConns", "CumConns", "CumReq", "ConnRate", "SessRate",
                 "node", "Stopping", "Jobs", "Listeners", "Build info", "Start_time_sec", "Tainted"):
        assert name in fields, name
    assert re.fullmatch(r"\d+d \d+h\d\dm\d\ds", fields["Uptime"])
    assert (fields["Process_num"], fields["Nbproc"], fields["Stopping"]) == ("1", "1", "0")
    assert int(fields["Listeners"]) == 5  # two binds and three stats sockets
    assert int(fields["Jobs"]) == 6  # and this connection
    typed = cli(env.admin, "show info typed")[:-2].split("\n")
    assert all(re.match(r"^\d+\.[A-Za-z_ -]+\.1:[MSKCP][GLmMRCDATNOa][PSsC]:(u32|u64|str|flt):", x) for x in typed)
    assert typed[0].startswith("0.Name.1:POS:str:")
    assert f"6.Pid.1:SGP:u32:{env.proxy.pid}" in typed
    assert cli(env.admin, "show info desc").split("\n")[0].endswith(':"Product name"')
    assert "8.Uptime_sec.1:MDP:flt:" in cli(env.admin, "show info typed float")
    data = json.loads(cli(env.admin, "show info json"))
    assert next(d for d in data if d["field"]["pos"] == 6) == {"field": {"pos": 6, "name": "Pid"}, "processNum": 1,
                       "tags": {"origin": "Status", "nature": "Gauge", "scope": "Process"},
                       "value": {"type": "u32", "value": env.proxy.pid}}


# ------------------------------------------------------------------ help, unknown commands
def test_help(env: Env) -> None:
    out = cli(env.uport, "help")  # the list does not depend on the level
    assert out.startswith("The following commands are valid at this level:\n")
    assert out.endswith(HELP_TRAILER + "\n")
    body = out.split("\n")[1:-5]
    assert body == sorted(body)
    for line in HELP_LINES:
        assert line in body
    if not is_haproxy():
        assert body == HELP_LINES
    assert cli(env.admin, "help set server") == (
        "The following commands are valid at this level:\n"
        "  set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl\n"
        + HELP_TRAILER + "\n")


def test_unknown_commands(env: Env) -> None:
    assert cli(env.admin, "foo").startswith("Unknown command, but maybe one of the following ones is a better match:\n")
    assert cli(env.admin, "").startswith("Unknown command. Please enter one of the following commands only:\n")
    assert cli(env.admin, "show\\ cli level") == (
        "Unknown command, but maybe one of the following ones is a better match:\n"
        "  show cli level                          : display the level of the current CLI session\n"
        + HELP_TRAILER + "\n")
    assert cli(env.admin, "set maxconn") == (
        "Unknown command, but maybe one of the following ones is a better match:\n"
        "  set maxconn frontend <frontend> <value> : change a frontend's maxconn setting\n"
        "  set maxconn global <value>              : change the per-process maxconn setting\n"
        "  set maxconn server <bk>/<srv>           : change a server's maxconn setting\n"
        + HELP_TRAILER + "\n")
    assert cli(env.admin, "shutdown") == (
        "Unknown command, but maybe one of the following ones is a better match:\n"
        "  shutdown frontend <frontend>            : stop a specific frontend\n"
        "  shutdown session [id]                   : kill a specific session\n"
        "  shutdown sessions server <bk>/<srv>     : kill sessions on a server\n"
        + HELP_TRAILER + "\n")


# ------------------------------------------------------------------ protocol
def test_levels(env: Env) -> None:
    denied = "Permission denied\n\n"
    assert cli(env.admin, "show cli level") == "admin\n\n"
    assert cli(env.oper, "show cli level") == "operator\n\n"
    assert cli(env.uport, "show cli level") == "user\n\n"
    for cmd in ("show sess", "clear counters", "disable server be1/s1", "set maxconn global 10", "operator",
                "set weight be1/s2 3", "shutdown session 0x1", "set server be1/s1 state maint"):
        assert cli(env.uport, cmd) == denied, cmd
    assert cli(env.uport, "get weight be1/s2") == "5 (initial 5)\n\n"
    assert cli(env.uport, "show backend") == "# name\nbe1\nstatic\n\n"
    assert cli(env.oper, "show sess").endswith("\n\n")
    assert cli(env.oper, "clear counters") == "\n"
    for cmd in ("clear counters all", "set weight be1/s2 3", "disable frontend fe1", "shutdown sessions server be1/s1"):
        assert cli(env.oper, cmd) == denied, cmd
    assert cli(env.admin, "operator;show cli level;set weight be1/s2 3") == "\noperator\n\n" + denied
    assert cli(env.admin, "user;operator;show cli level") == "\n" + denied + "user\n\n"
    assert cli(env.admin, "user -;show cli level") == "user\n\n"
    assert stat_row(env.admin, "be1", "s1")["status"] != "MAINT"


def test_chained_commands_and_escapes(env: Env) -> None:
    assert cli(env.admin, "show cli level;show cli level") == "admin\n\nadmin\n\n"
    assert cli(env.admin, "show cli level\nshow cli level\n") == "admin\n\nadmin\n\n"
    assert cli(env.admin, "show cli level\r\n") == "admin\n\n"
    assert cli(env.admin, "  show \t cli   level  ") == "admin\n\n"
    assert cli(env.admin, "show cli level\\;x").startswith("Unknown command, but maybe")
    assert cli(env.admin, b"show cli level") == ""  # no line feed: nothing runs
    assert cli(env.admin, b"show cli level <<\nsome\npayload\n\n") == "admin\n\n"
    assert cli(env.admin, b"show cli level <<\nnever ends\n") == ""


def test_prompt_mode(env: Env) -> None:
    s = Session(env.admin)
    try:
        s.send(b"prompt\n")
        s.expect(b"\n> ")
        s.send(b"show cli level\n")
        s.expect(b"admin\n\n> ")
        s.send(b"get weight be1/s2;show backend\n")
        s.expect(b"5 (initial 5)\n\n> # name\nbe1\nstatic\n\n> ")
        s.send(b"show cli level <<\n")
        s.expect(b"+ ")
        s.send(b"line\n")
        s.expect(b"+ ")
        s.send(b"\n")
        s.expect(b"admin\n\n> ")
        s.send(b"user -\n")
        s.expect(b"\n> ")
        s.send(b"quit\n")
        assert s.closed()
    finally:
        s.close()
    s = Session(env.admin)
    try:
        s.send(b"prompt;show cli level\n")
        s.expect(b"\n> admin\n\n> ")
        s.send(b"prompt\n")  # back to one-shot mode: the connection closes after it
        s.expect(b"\n")
        assert s.closed()
    finally:
        s.close()


def test_stats_timeout(tmp_path: Path, proxy: Any) -> None:
    env = Env(tmp_path, proxy, timeout="1s")
    try:
        s = Session(env.admin)  # an idle connection
        t0 = time.monotonic()
        assert s.closed(timeout=6)
        assert 0.8 <= time.monotonic() - t0 < 4
        s.close()
        if is_haproxy():
            # 2.6.12 reliably expires only a connection that sent nothing: once a request
            # was read (prompt mode, a pending payload, a partial line) it may never expire,
            # against its manual ("set timeout cli")
            return
        s = Session(env.admin)  # a payload that never ends
        s.send(b"show cli level <<\n")
        t0 = time.monotonic()
        assert s.closed(timeout=6)
        assert 0.8 <= time.monotonic() - t0 < 4
        s.close()
        s = Session(env.admin)
        s.send(b"prompt\n")
        s.expect(b"\n> ")
        t0 = time.monotonic()
        assert s.closed(timeout=6)
        assert 0.8 <= time.monotonic() - t0 < 4
        s.close()
    finally:
        env.stop()


def test_stats_maxconn(tmp_path: Path, proxy: Any) -> None:
    port = free_port()
    cfg = (f"global\n    stats socket {tmp_path}/m.sock level admin\n    stats maxconn 1\n"
           f"listen x\n    bind 127.0.0.1:{port}\n    timeout client 1s\n    timeout server 1s\n"
           "    timeout connect 1s\n    server s 127.0.0.1:1\n")
    proxy(cfg, wait_ports=[port])
    path = f"{tmp_path}/m.sock"
    wait_for(lambda: cli(path, "show cli level"), what="the stats socket")
    first = Session(path)
    second = None
    try:
        first.send(b"prompt\n")
        first.expect(b"\n> ")
        second = Session(path)  # waits in the backlog while the first one is served
        second.send(b"show cli level\n")
        with pytest.raises(TimeoutError):
            second.read(1, timeout=0.5)
        first.send(b"quit\n")
        assert first.closed()
        second.expect(b"admin\n\n")
    finally:
        first.close()
        if second is not None:
            second.close()


# ------------------------------------------------------------------ servers
def status(env: Env, srv: str) -> str:
    return stat_row(env.admin, "be1", srv)["status"]


def test_server_state_commands(env: Env) -> None:
    settled(env)
    a = env.admin
    assert cli(a, "disable server be1/s2") == "\n"
    assert status(env, "s2") == "MAINT"
    assert cli(a, "enable server be1/s2") == "\n"
    assert status(env, "s2") == "no check"
    assert cli(a, "set server be1/s2 state drain") == "\n"
    assert status(env, "s2") == "DRAIN"
    assert stat_row(a, "be1", "BACKEND")["act"] == "1"
    assert cli(a, "set server be1/s2 state maint") == "\n"
    assert status(env, "s2") == "MAINT"
    assert cli(a, "set server be1/#2 state ready") == "\n"
    assert status(env, "s2") == "no check"
    assert cli(a, "set server be1/s2 health down") == "\n"
    assert status(env, "s2") == "DOWN"
    assert cli(a, "set server be1/s2 health stopping") == "\n"
    assert status(env, "s2") == "NOLB"
    assert cli(a, "set server be1/s2 health up") == "\n"
    assert status(env, "s2") == "no check"
    assert cli(a, "enable server be1/s3") == "\n"
    assert status(env, "s3") == "no check"
    assert stat_row(a, "be1", "BACKEND")["bck"] == "1"
    assert cli(a, "disable health be1/s1") == "\n"
    assert status(env, "s1") == "no check"
    assert stat_row(a, "be1", "s1")["check_status"] == ""
    assert cli(a, "enable health be1/s1") == "\n"
    assert cli(a, "enable health be1/s2") == "Health check was not configured on this server, cannot enable.\n\n"
    errors = {
        "set server be1": "Require 'backend/server'.\n\n",
        "set server /s1 state ready": "Require 'backend/server'.\n\n",
        "set server nope/s1 state ready": "No such backend.\n\n",
        "set server be1/nope state ready": "No such server.\n\n",
        "set server be1/s1 state x": "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n",
        "set server be1/s1 health x": "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n",
        "set server be1/s1": "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | "
                             "agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n\n",
        "set server be1/s1 addr": "set server <b>/<s> addr requires an address and optionally a port.\n\n",
        "set server be1/s1 fqdn": "set server <b>/<s> fqdn requires a FQDN.\n\n",
        "set server be1/s1 fqdn example.com":
            "set server <b>/<s> fqdn failed because no resolution is configured.\n\n",
        "set server be1/s2 check-port 80": "health checks are not enabled on this server\n",
        "set server be1/s1 check-port x": "provided port is not an integer\n",
        "set server be1/s1 check-addr nope": "invalid addr 'nope'\n",
        "disable server be1": "Require 'backend/server'.\n\n",
        "enable server nope/s1": "No such backend.\n\n",
        "disable health be1/nope": "No such server.\n\n",
        "shutdown sessions server be1": "Require 'backend/server'.\n\n",
        "shutdown sessions server be1/nope": "No such server.\n\n",
    }
    for cmd, expected in errors.items():
        assert cli(a, cmd) == expected, cmd


def test_set_server_addr(env: Env) -> None:
    a = env.admin
    port = env.echo2.port
    assert cli(a, "set server be1/s2 addr 127.0.0.2") == (
        "IP changed from '127.0.0.1' to '127.0.0.2' by 'stats socket command'\n\n")
    assert stat_row(a, "be1", "s2")["addr"] == f"127.0.0.2:{port}"
    assert cli(a, f"set server be1/s2 addr 127.0.0.2 port {port}") == (
        "no need to change the addr, no need to change the port by 'stats socket command'\n\n")
    assert cli(a, f"set server be1/s2 addr 127.0.0.1 port {port + 1}") == (
        f"IP changed from '127.0.0.2' to '127.0.0.1', port changed from '{port}' to '{port + 1}' "
        "by 'stats socket command'\n\n")
    assert cli(a, f"set server be1/s2 addr 127.0.0.1 port {port}").startswith("no need to change the addr, port changed")
    assert cli(a, "set server be1/s2 addr foo") == "Invalid addr 'foo' by 'stats socket command'\n\n"
    assert cli(a, "set server be1/s2 addr 127.0.0.1 port x") == (
        "no need to change the addr, problem converting port 'x' to an int by 'stats socket command'\n\n")
    state = cli(a, "show servers state be1").split("\n")[3].split()
    assert (state[3], state[4], state[18]) == ("s2", "127.0.0.1", str(port))


def test_weights(env: Env) -> None:
    settled(env)
    a = env.admin
    assert cli(a, "get weight be1/s2") == "5 (initial 5)\n\n"
    assert cli(a, "set weight be1/s2 50%") == "\n"
    assert cli(a, "get weight be1/s2") == "2 (initial 5)\n\n"
    assert stat_row(a, "be1", "s2")["weight"] == "2"
    assert cli(a, "set server be1/s2 weight 7") == "\n"
    assert cli(a, "get weight be1/#2") == "7 (initial 5)\n\n"
    assert stat_row(a, "be1", "BACKEND")["uweight"] == "8"
    static = "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n"
    assert cli(a, "set weight static/a1 2") == static
    assert cli(a, "set weight static/a1 0%") == "\n"
    assert cli(a, "get weight static/a1") == "0 (initial 1)\n\n"
    assert cli(a, "set weight static/a1 100%") == "\n"
    errors = {
        "get weight be1": "Require 'backend/server'.\n\n",
        "get weight nope/s1": "No such backend.\n\n",
        "get weight be1/nope": "No such server.\n\n",
        "set weight be1/s2": "Require <weight> or <weight%>.\n\n",
        "set weight be1/s2 300": "Absolute weight can only be between 0 and 256 inclusive.\n\n",
        "set weight be1/s2 abc": "Empty weight string empty or preceded by garbage\n",
        "set weight be1/s2 12abc": "Trailing garbage in weight string\n",
        "set weight be1/s2 -5%": "Relative weight must be positive.\n\n",
        "set weight be1": "Require 'backend/server'.\n\n",
    }
    for cmd, expected in errors.items():
        assert cli(a, cmd) == expected, cmd


def test_maxconn_commands(env: Env) -> None:
    a = env.admin
    assert cli(a, "set maxconn server be1/s2 20") == "\n"
    assert stat_row(a, "be1", "s2")["slim"] == "20"
    assert cli(a, "set maxconn frontend fe1 5") == "\n"
    assert stat_row(a, "fe1", "FRONTEND")["slim"] == "5"
    info = dict(line.split(": ", 1) for line in cli(a, "show info").strip("\n").split("\n"))
    hard = int(info["Hard_maxconn"])
    assert cli(a, "set maxconn global 50") == "\n"
    assert "\nMaxconn: 50\n" in cli(a, "show info")
    assert cli(a, "set maxconn global 0") == "\n"
    assert f"\nMaxconn: {hard}\n" in cli(a, "show info")
    errors = {
        "set maxconn server be1/s2": "Require <maxconn>.\n\n",
        "set maxconn server be1/s2 x": "maxconn string empty or preceded by garbage\n",
        "set maxconn server be1/s2 3x": "Trailing garbage in maxconn string\n",
        "set maxconn server be1": "Require 'backend/server'.\n\n",
        "set maxconn frontend": "A frontend name is expected.\n\n",
        "set maxconn frontend nope 2": "No such frontend.\n\n",
        "set maxconn frontend be1 2": "No such frontend.\n\n",
        "set maxconn frontend fe1": "Integer value expected.\n\n",
        "set maxconn frontend fe1 -1": "Value out of range.\n\n",
        "set maxconn global": "Expects an integer value.\n\n",
        f"set maxconn global {hard + 1}": "Value out of range.\n\n",
    }
    for cmd, expected in errors.items():
        assert cli(a, cmd) == expected, cmd


def _echo_ok(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
        c.sendall(b"ping")
        return c.recv(4) == b"ping"


def test_frontend_commands(env: Env) -> None:
    a = env.admin
    assert _echo_ok(env.p1)
    assert cli(a, "disable frontend fe1") == "\n"
    assert stat_row(a, "fe1", "FRONTEND")["status"] == "PAUSED"
    with pytest.raises(OSError):
        _echo_ok(env.p1)
    assert cli(a, "disable frontend fe1") == "All sockets are already disabled.\n\n"
    assert cli(a, "enable frontend fe1") == "\n"
    assert stat_row(a, "fe1", "FRONTEND")["status"] == "OPEN"
    assert _echo_ok(env.p1)
    assert cli(a, "enable frontend fe1") == "All sockets are already enabled.\n\n"
    assert cli(a, "disable frontend") == "A frontend name is expected.\n\n"
    assert cli(a, "disable frontend nope") == "No such frontend.\n\n"
    assert cli(a, "enable frontend be1") == "No such frontend.\n\n"
    assert cli(a, "shutdown frontend fe1") == "\n"
    assert stat_row(a, "fe1", "FRONTEND")["status"] == "STOP"
    assert cli(a, "shutdown frontend fe1") == "Frontend was already shut down.\n\n"
    assert cli(a, "disable frontend fe1") == "Frontend was previously shut down, cannot disable.\n\n"
    assert cli(a, "enable frontend fe1") == "Frontend was previously shut down, cannot enable.\n\n"


def test_show_servers_state_and_backends(env: Env) -> None:
    settled(env)
    out = cli(env.admin, "show servers state")
    assert out.startswith(SERVERS_STATE_HEADER) and out.endswith("\n\n")
    rows = [line.split(" ") for line in out[len(SERVERS_STATE_HEADER):-2].split("\n")]
    assert all(len(r) == 25 for r in rows)
    by = {r[3]: r for r in rows}
    assert list(by) == ["s1", "s2", "s3", "s4", "a1"]
    # name addr op_state admin uweight iweight / check status result health state / port
    def pick(r: list[str]) -> tuple[str, ...]:
        return (r[4], r[5], r[6], r[7], r[8], r[10], r[11], r[12], r[13], r[18])

    assert pick(by["s1"]) == ("127.0.0.1", "2", "0", "1", "1", "6", "3", "4", "6", str(env.echo1.port))
    assert pick(by["s2"]) == ("127.0.0.1", "2", "0", "5", "5", "1", "0", "2", "0", str(env.echo2.port))
    assert pick(by["s3"]) == ("127.0.0.1", "0", "5", "1", "1", "1", "0", "0", "8", str(env.echo3.port))
    assert pick(by["s4"])[1:9] == ("0", "0", "1", "1", "8", "2", "0", "6")
    assert by["s1"][15:25] == ["0", "0", "-", str(env.echo1.port), "-", "0", "0", "-", "-", "0"]
    assert by["s1"][0] == stat_row(env.admin, "be1", "BACKEND")["iid"]
    assert cli(env.admin, "disable server be1/s2;enable health be1/s1") == "\n\n"
    s2 = cli(env.admin, "show servers state be1").split("\n")[3].split(" ")
    assert (s2[5], s2[6], s2[12]) == ("0", "1", "0")
    one = cli(env.admin, "show servers state static")
    assert one.startswith(SERVERS_STATE_HEADER) and one.count("\n") == 4
    assert cli(env.admin, "show servers state nope") == "Can't find backend.\n\n"
    assert cli(env.admin, "show backend") == "# name\nbe1\nstatic\n\n"


def test_show_sess_and_shutdown(env: Env) -> None:
    c = socket.create_connection(("127.0.0.1", env.p1), timeout=5)
    c.sendall(b"ping")
    assert c.recv(4) == b"ping"
    port = c.getsockname()[1]
    out = cli(env.oper, "show sess")
    assert out.endswith("\n\n")
    lines = out[:-2].split("\n")
    mine = [x for x in lines if f" src=127.0.0.1:{port} " in x]
    assert len(mine) == 1
    assert re.match(rf"^0x[0-9a-f]+: proto=tcpv4 src=127\.0\.0\.1:{port} fe=fe1 be=be1 srv=s[12] ts=\d+ epoch=\S+ "
                    r"age=\d+s calls=\d+ .* rq\[f=[0-9a-f]+h,.*\] rp\[f=.*\] scf=\[\d+,[0-9a-f]+h,fd=\d+\] "
                    r"scb=\[\d+,[0-9a-f]+h,fd=\d+\] exp=\S* rc=0 c_exp=\S*$", mine[0]), mine[0]
    assert any(re.match(r"^0x[0-9a-f]+: proto=unix_stream src=unix:2 fe=GLOBAL be=<NONE> srv=<none> ", x) for x in lines)
    ptr = mine[0].split(":")[0]
    full = cli(env.oper, f"show sess {ptr}")
    assert re.match(rf"^{ptr}: \[\d\d/\w\w\w/\d{{4}}:\d\d:\d\d:\d\d\.\d{{6}}\] id=\d+ proto=tcpv4 "
                    rf"source=127\.0\.0\.1:{port}\n", full), full
    assert f"  frontend=fe1 (id={stat_row(env.admin, 'fe1', 'FRONTEND')['iid']} mode=tcp), listener=sock-1 (id=1) " \
           f"addr=127.0.0.1:{env.p1}\n" in full
    assert "  backend=be1 (id=" in full
    assert cli(env.oper, "show sess 0x1") == "Session not found.\n\n"
    assert cli(env.admin, "shutdown session") == "Session pointer expected (use 'show sess').\n\n"
    assert cli(env.admin, "shutdown session zz") == "Session pointer expected (use 'show sess').\n\n"
    assert cli(env.admin, "shutdown session 0x1") == "No such session (use 'show sess').\n\n"
    assert cli(env.admin, f"shutdown session {ptr}") == "\n"
    c.settimeout(5)
    assert c.recv(10) == b""
    c.close()
    conns = [socket.create_connection(("127.0.0.1", env.p1), timeout=5) for _ in range(3)]
    for k in conns:
        k.sendall(b"x")
        assert k.recv(1) == b"x"
    assert cli(env.admin, "shutdown sessions server be1/s1;shutdown sessions server be1/s2") == "\n\n"
    for k in conns:
        k.settimeout(5)
        assert k.recv(10) == b""
        k.close()


def test_clear_counters(env: Env) -> None:
    assert _echo_ok(env.p1)
    wait_for(lambda: stat_row(env.admin, "fe1", "FRONTEND")["scur"] == "0", what="the session to end")
    fe = stat_row(env.admin, "fe1", "FRONTEND")
    assert (fe["stot"], fe["smax"]) == ("1", "1")
    assert cli(env.oper, "clear counters") == "\n"
    fe = stat_row(env.admin, "fe1", "FRONTEND")
    assert (fe["stot"], fe["smax"], fe["conn_tot"], fe["rate_max"]) == ("1", "0", "1", "0")
    assert cli(env.admin, "clear counters all") == "\n"
    fe = stat_row(env.admin, "fe1", "FRONTEND")
    assert (fe["stot"], fe["bin"], fe["conn_tot"]) == ("0", "0", "0")
    assert stat_row(env.admin, "fe1", "sock-1")["stot"] == "0"


def test_set_timeout_cli(env: Env) -> None:
    assert cli(env.admin, "set timeout cli 5") == "\n"
    assert cli(env.admin, "set timeout") == "'set timeout' only supports 'cli'.\n\n"
    assert cli(env.admin, "set timeout cli") == "Expects an integer value.\n\n"
    assert cli(env.admin, "set timeout cli x") == "Invalid timeout value.\n\n"
    assert re.fullmatch(r"\S+\n\n", cli(env.uport, "show version"))


# ------------------------------------------------------------------ configuration
@pytest.mark.parametrize(("line", "alert"), [
    ("stats socket", "'stats socket' in global section expects an address or a path to a UNIX socket"),
    ("stats socket {dir}/x.sock levle admin", "'stats socket' : unknown keyword 'levle'. Did you mean 'level' maybe ?"),
    ("stats timeout 0", "'stats timeout' expects a positive value"),
    ("stats timeout 5x", "'stats timeout' : unexpected character 'x'"),
    ("stats maxconn 0", "'stats maxconn' expects a positive value"),
    ("stats maxconn", "'stats maxconn' expects a positive value"),
    ("stats foo", "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got 'foo')"),
])
def test_config_errors(tmp_path: Path, line: str, alert: str) -> None:
    cfg = (f"global\n    {line.format(dir=tmp_path)}\n"
           "listen x\n    bind 127.0.0.1:1\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n"
           "    server s 127.0.0.1:1\n")
    res = run_check(cfg, tmp_path)
    assert res.returncode == 1
    assert re.search(r"\[ALERT\] +\(\d+\) : config : parsing \[\S+:2\] : " + re.escape(alert) + "\n", res.stderr), res.stderr


def test_config_accepts_bind_options(tmp_path: Path) -> None:
    cfg = (f"global\n    stats socket {tmp_path}/x.sock mode 600 level user expose-fd listeners\n"
           "    stats timeout 2m\n    stats maxconn 5\n"
           "listen x\n    bind 127.0.0.1:1\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n"
           "    server s 127.0.0.1:1\n")
    res = run_check(cfg, tmp_path)
    assert res.returncode == 0, res.stderr
    assert "ALERT" not in res.stderr


def test_unix_socket_mode_and_bind_failure(tmp_path: Path, proxy: Any) -> None:
    port = free_port()
    cfg = (f"global\n    stats socket {tmp_path}/m.sock mode 600 level admin\n"
           f"listen x\n    bind 127.0.0.1:{port}\n    timeout client 1s\n    timeout server 1s\n"
           "    timeout connect 1s\n    server s 127.0.0.1:1\n")
    proxy(cfg, wait_ports=[port])
    path = f"{tmp_path}/m.sock"
    wait_for(lambda: os.path.exists(path), what="the stats socket")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert cli(path, "show cli level") == "admin\n\n"
    bad = (f"global\n    stats socket {tmp_path}/nodir/x.sock\n"
           f"listen y\n    bind 127.0.0.1:{free_port()}\n    timeout client 1s\n    timeout server 1s\n"
           "    timeout connect 1s\n    server s 127.0.0.1:1\n")
    p = proxy(bad)
    assert p.proc.wait(timeout=10) == 1
    assert re.search(r"\[ALERT\] +\(\d+\) : Binding \[\S+:2\] for frontend GLOBAL: cannot bind UNIX socket "
                     rf"\(No such file or directory\) \[{re.escape(str(tmp_path))}/nodir/x\.sock\]", p.stderr())


# ------------------------------------------------------------------ side by side with haproxy
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")

PARITY_COMMANDS = [
    "show cli level", "operator;show cli level", "user;operator", "show backend", "get weight be1/s2",
    "get weight be1", "get weight x/y", "set weight be1/s2", "set weight be1/s2 300", "set weight be1/s2 abc",
    "set weight be1/s2 12abc", "set weight be1/s2 -5%", "set weight static/a1 50", "set server be1/s1",
    "set server be1/s1 state x", "set server nope/s1 state ready", "set server be1/nope state ready",
    "set server be1/s1 health x", "set maxconn server be1/s1", "set maxconn server be1/s1 x",
    "set maxconn frontend", "set maxconn frontend nope 2", "set maxconn frontend fe1", "set maxconn frontend fe1 -1",
    "set maxconn global", "shutdown session", "shutdown session 0x1234", "shutdown sessions server be1",
    "show servers state nope", "disable frontend", "disable frontend nope", "enable health be1/s2",
    "set server be1/s2 addr", "set server be1/s2 fqdn", "set server be1/s2 check-port 80", "show sess 0x1",
    "set timeout", "set timeout cli x", "show stat foo bar baz", "show stat domain x", "help set server",
    "show\\ cli level", "set maxconn", "shutdown", "prompt;show cli level;quit",
]


@pytest.mark.skipif(is_haproxy() or HAPROXY is None, reason="needs gproxy under test and an installed haproxy")
def test_parity_with_haproxy(env: Env, tmp_path: Path) -> None:
    """The same configuration run by haproxy: same outputs, same CSV header up to ``-``,
    same typed tags for every field both print."""
    hdir = tmp_path / "haproxy"
    hdir.mkdir()
    ports = {"uport": free_port(), "p1": free_port(), "p2": free_port()}
    cfg = CFG.format(dir=hdir, timeout="10s", e1=env.echo1.port, e2=env.echo2.port, e3=env.echo3.port,
                     dead=env.dead, **ports)
    (hdir / "h.cfg").write_text(cfg)
    proc = subprocess.Popen([HAPROXY, "-db", "-f", str(hdir / "h.cfg")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        hsock = str(hdir / "admin.sock")
        wait_for(lambda: cli(hsock, "show cli level"), what="haproxy's stats socket")
        settled(env)
        wait_for(lambda: stat_row(hsock, "be1", "s4")["status"] == "DOWN", what="haproxy's checks")
        for cmd in PARITY_COMMANDS:
            assert cli(env.admin, cmd) == cli(hsock, cmd), cmd
        h_header = cli(hsock, "show stat").split("\n")[0]
        g_header = cli(env.admin, "show stat").split("\n")[0]
        assert h_header.startswith(g_header + "-,")

        def typed(target: str) -> dict[tuple[str, str, str], str]:
            out = {}
            for line in cli(target, "show stat typed").split("\n"):
                if line:
                    head, tags, ftype, _ = line.split(":", 3)
                    kind, _iid, sid, pos, _name, _proc = head.split(".")
                    out[(kind, sid, pos)] = f"{tags}:{ftype}"
            return out

        h, g = typed(hsock), typed(env.admin)
        common = set(h) & set(g)
        assert len(common) > 200
        assert {k: g[k] for k in common} == {k: h[k] for k in common}
        assert set(g) <= set(h)  # gproxy never prints a field haproxy leaves empty
    finally:
        proc.terminate()
        proc.wait(timeout=10)
