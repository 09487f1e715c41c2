"""The stats column table, ``show stat``/``show info`` renderings and the runtime API
command table, over hand-made fake runtime objects (no sockets, no config parsing).

The fakes carry exactly the attributes ``stats/columns.py`` reads (the counter names of
``gproxy/counters.py``), so this file also documents that contract.  Expectations are what
HAProxy 2.6.12 prints for the same situations (``src/stats.c``, ``src/cli.c``).
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest

from gproxy.admin import commands as cmds
from gproxy.config.model import ServerSpec
from gproxy.config.values import Address
from gproxy.counters import FreqCtr, Timings, new_hrsp
from gproxy.lb import Balancer
from gproxy.server import FDRAIN, FMAINT, STARTING, STOPPED, STOPPING, Server
from gproxy.stats import columns as C
from gproxy.stats import csvstat, info

#: ``show stat`` header of HAProxy 2.6.12 up to its ``-`` column
HAPROXY_26_COLUMNS = [
    "pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot", "bin", "bout", "dreq", "dresp", "ereq",
    "econ", "eresp", "wretr", "wredis", "status", "weight", "act", "bck", "chkfail", "chkdown", "lastchg",
    "downtime", "qlimit", "pid", "iid", "sid", "throttle", "lbtot", "tracked", "type", "rate", "rate_lim",
    "rate_max", "check_status", "check_code", "check_duration", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx",
    "hrsp_5xx", "hrsp_other", "hanafail", "req_rate", "req_rate_max", "req_tot", "cli_abrt", "srv_abrt", "comp_in",
    "comp_out", "comp_byp", "comp_rsp", "lastsess", "last_chk", "last_agt", "qtime", "ctime", "rtime", "ttime",
    "agent_status", "agent_code", "agent_duration", "check_desc", "agent_desc", "check_rise", "check_fall",
    "check_health", "agent_rise", "agent_fall", "agent_health", "addr", "cookie", "mode", "algo", "conn_rate",
    "conn_rate_max", "conn_tot", "intercepted", "dcon", "dses", "wrew", "connect", "reuse", "cache_lookups",
    "cache_hits", "srv_icur", "src_ilim", "qtime_max", "ctime_max", "rtime_max", "ttime_max", "eint",
    "idle_conn_cur", "safe_conn_cur", "used_conn_cur", "need_conn_est", "uweight", "agg_server_status",
    "agg_server_check_status", "agg_check_status",
]


# ------------------------------------------------------------------ fakes
class FakeCheck:
    """The Check attributes the columns read."""

    def __init__(self, rise: int = 2, fall: int = 3, health: int | None = None, status: str = "L4OK") -> None:
        self.configured = True
        self.paused = False
        self.rise, self.fall = rise, fall
        self.health = rise + fall - 1 if health is None else health
        self.status = status
        self.code = 0
        self.desc = ""
        self.duration = 1
        self.result = 3
        self.failed_checks = 0
        self.in_progress = False
        self.check_port = 0
        self.check_addr = None

    @property
    def enabled(self) -> bool:
        return self.configured and not self.paused

    def status_label(self) -> str:
        return ("* " if self.in_progress else "") + self.status

    def maint_enter(self) -> None:
        self.health = 0

    def maint_leave(self) -> None:
        self.health = self.rise


def spec(kind: str, name: str, **kw: Any) -> SimpleNamespace:
    base = {"kind": kind, "name": name, "disabled": False, "options": {}, "maxconn": 0, "default_backend": None,
            "use_backends": [], "fullconn": 0, "cookie": None, "id": None}
    base.update(kw)
    return SimpleNamespace(**base)


class FakeFrontend:
    def __init__(self, process: Any, sp: Any, fid: int, mode: str = "tcp") -> None:
        self.process, self.spec, self.id, self.name, self.mode = process, sp, fid, sp.name, mode
        self.maxconn = sp.maxconn or process.maxconn
        self.disabled = sp.disabled
        self.stopping = False
        self.listeners: list[Any] = []
        self.full_listeners: set[Any] = set()
        self.sessions: set[Any] = set()
        for n in ("cur_conn", "max_conn", "cum_conn", "cum_sess", "cum_req", "bytes_in", "bytes_out", "denied_conn",
                  "denied_req", "denied_resp", "failed_req", "intercepted", "failed_rewrites", "internal_errors"):
            setattr(self, n, 0)
        self.hrsp = new_hrsp()
        self.conn_rate, self.sess_rate, self.req_rate = FreqCtr(), FreqCtr(), FreqCtr()

    def pause(self) -> None:
        for li in self.listeners:
            li.paused = True


class FakeListener:
    def __init__(self, fe: Any, lid: int, port: int, name: str | None = None) -> None:
        self.frontend, self.id, self.name = fe, lid, name or f"sock-{lid}"
        self.address = Address("ipv4", "127.0.0.1", port)
        self.state, self.paused, self.maxconn = "OPEN", False, 0
        self.cur_conn = self.cum_conn = self.max_conn = self.bytes_in = self.bytes_out = self.denied_conn = 0
        self.sock = object()

    def describe(self) -> str:
        return f"{self.address.host}:{self.address.port}"


class FakeLB(Balancer):
    name = "roundrobin"

    def _rebuild(self) -> None:
        pass


class FakeBackend:
    def __init__(self, process: Any, sp: Any, bid: int, mode: str = "tcp") -> None:
        self.process, self.spec, self.id, self.name, self.mode = process, sp, bid, sp.name, mode
        self.allbackups = False
        self.servers: list[Server] = []
        self.lb = FakeLB(self)
        for n in ("cur_sess", "max_sess", "cum_sess", "cum_lbconn", "cum_req", "bytes_in", "bytes_out", "denied_req",
                  "denied_resp", "failed_conns", "failed_resp", "retries_count", "redispatches", "nbpend", "max_queue",
                  "cli_aborts", "srv_aborts", "connect_attempts", "reuses", "failed_rewrites", "internal_errors",
                  "down_trans"):
            setattr(self, n, 0)
        self.last_change = 0.0
        self.last_sess = 0.0
        self.hrsp = new_hrsp()
        self.sess_rate = FreqCtr()
        self.timings = Timings()
        self.killed: list[tuple[Any, str]] = []

    def server_changed(self, srv: Any) -> None:
        self.lb.update()

    def shutdown_sessions(self, srv: Any, flag: str = "D") -> None:
        self.killed.append((srv, flag))


def add_server(be: FakeBackend, name: str, port: int, check: bool = False, **kw: Any) -> Server:
    sp = ServerSpec(name=name, address=Address("ipv4", "127.0.0.1", port), **kw)
    s = Server(be, sp, len(be.servers) + 1)
    s.sockaddr = ("127.0.0.1", port)
    if check:
        s.check = FakeCheck()
    be.servers.append(s)
    be.lb.update()
    return s


class FakeProcess:
    def __init__(self) -> None:
        self.maxconn = self.hard_maxconn = 1000
        self.actconn = self.cum_conn = 0
        self.conn_rate, self.sess_rate = FreqCtr(), FreqCtr()
        self.start_time = time.time() - 5
        self.nofile = 4096
        self.stopping = False
        self.frontends: list[Any] = []
        self.backends: list[Any] = []
        self.listeners: list[Any] = []
        self.full_frontends: set[Any] = set()
        self.model = SimpleNamespace(proxies=[], glob=SimpleNamespace(node="node1", description=""))
        self.admin = None

    def frontend(self, name: str, fid: int, mode: str = "tcp", **kw: Any) -> FakeFrontend:
        sp = spec("frontend", name, **kw)
        self.model.proxies.append(sp)
        fe = FakeFrontend(self, sp, fid, mode)
        self.frontends.append(fe)
        return fe

    def backend(self, name: str, bid: int, mode: str = "tcp", **kw: Any) -> FakeBackend:
        sp = spec("backend", name, **kw)
        self.model.proxies.append(sp)
        be = FakeBackend(self, sp, bid, mode)
        self.backends.append(be)
        return be

    def listen(self, name: str, pid: int, mode: str = "tcp", **kw: Any) -> tuple[FakeFrontend, FakeBackend]:
        sp = spec("listen", name, **kw)
        self.model.proxies.append(sp)
        fe, be = FakeFrontend(self, sp, pid, mode), FakeBackend(self, sp, pid, mode)
        self.frontends.append(fe)
        self.backends.append(be)
        return fe, be


@pytest.fixture
def proc() -> FakeProcess:
    p = FakeProcess()
    fe = p.frontend("fe1", 2, options={"socket-stats": True}, default_backend="be1")
    fe.listeners = [FakeListener(fe, 1, 8001), FakeListener(fe, 2, 8002, "second")]
    p.listeners.extend(fe.listeners)
    be = p.backend("be1", 3)
    add_server(be, "s1", 9001, check=True)
    add_server(be, "s2", 9002, weight=5, maxconn=10, maxqueue=4)
    s3 = add_server(be, "s3", 9003, backup=True, disabled=True)
    s3.admin = FMAINT
    be.lb.update()
    fe2, be2 = p.listen("li1", 4, mode="http")
    fe2.listeners = [FakeListener(fe2, 1, 8003)]
    add_server(be2, "a1", 9201, cookie="A1")
    p.backend("off", 5, disabled=True)
    return p


def row(proc: Any, px: str, sv: str, **kw: Any) -> dict[str, str]:
    text = csvstat.render(proc, **kw)
    lines = text.splitlines()
    hdr = lines[0][2:].split(",")
    for line in lines[1:]:
        f = line.split(",")
        if f[0] == px and f[1] == sv:
            return dict(zip(hdr, f, strict=False))
    raise AssertionError(f"no row {px}/{sv} in\n{text}")


def srv_of(proc: Any, be: str, name: str) -> Server:
    b = next(x for x in proc.backends if x.name == be)
    return next(s for s in b.servers if s.name == name)


# ------------------------------------------------------------------ the table
def test_columns_are_haproxy_26_static_fields_in_order() -> None:
    assert [c.name for c in C.COLUMNS] == HAPROXY_26_COLUMNS
    assert csvstat.header() == "# " + "".join(n + "," for n in HAPROXY_26_COLUMNS) + "\n"
    assert C.POS["pxname"] == 0 and C.POS["agg_check_status"] == 102
    assert set(C.BY_NAME) == set(HAPROXY_26_COLUMNS)


def test_every_column_is_fully_described() -> None:
    for c in C.COLUMNS:
        assert c.desc and c.nature in C.NATURES and c.origin in C.ORIGINS and c.scope in C.SCOPES, c
        assert c.type in ("u32", "s32", "u64", "str"), c
        for kind in C.KINDS:
            assert len(c.tags(kind)) == 3


@pytest.mark.parametrize(("name", "kind", "tags"), [
    ("pxname", "fe", "KNS"), ("scur", "srv", "MGP"), ("smax", "be", "MMP"), ("slim", "li", "CLP"),
    ("stot", "fe", "MCP"), ("status", "srv", "SGP"), ("weight", "be", "MaP"), ("act", "srv", "SGP"),
    ("act", "be", "MGP"), ("bck", "be", "MGP"), ("rate", "fe", "MRP"), ("rate", "be", "MGP"),
    ("rate_max", "srv", "MMP"), ("rate_max", "be", "MGP"), ("lastchg", "srv", "MAP"), ("lastsess", "be", "MAP"),
    ("check_status", "srv", "MOP"), ("check_duration", "srv", "MDP"), ("check_rise", "srv", "CGS"),
    ("qlimit", "srv", "CGS"), ("addr", "li", "CGS"), ("cookie", "be", "CNS"), ("iid", "fe", "KGS"),
    ("pid", "be", "KGP"), ("type", "srv", "CGS"), ("agg_server_status", "be", "MGP"),
])
def test_typed_tags_are_haproxy_ones(name: str, kind: str, tags: str) -> None:
    assert C.BY_NAME[name].tags(kind) == tags


def test_value_is_none_where_haproxy_has_no_field(proc: Any) -> None:
    fe = proc.frontends[0]
    assert C.value(C.BY_NAME["qcur"], "fe", fe) is None
    assert C.value(C.BY_NAME["econ"], "fe", fe) is None
    assert C.value(C.BY_NAME["scur"], "fe", fe) == 0
    assert C.value(C.BY_NAME["svname"], "fe", fe) == "FRONTEND"


# ------------------------------------------------------------------ rows
def test_rows_order_is_frontend_listeners_servers_backend_per_proxy(proc: Any) -> None:
    got = [(k, o.name) for k, o in C.rows(proc)]
    assert got == [
        ("fe", "fe1"), ("li", "sock-1"), ("li", "second"),
        ("srv", "s1"), ("srv", "s2"), ("srv", "s3"), ("be", "be1"),
        ("fe", "li1"), ("srv", "a1"), ("be", "li1"),
    ]  # li1 has no 'option socket-stats': no listener row; 'off' is disabled


def test_rows_filters(proc: Any) -> None:
    def names(**kw: Any) -> list[tuple[str, str]]:
        return [(k, o.name) for k, o in C.rows(proc, **kw)]

    assert names(types=4, proxy="be1") == [("srv", "s1"), ("srv", "s2"), ("srv", "s3")]
    assert names(types=2) == [("be", "be1"), ("be", "li1")]
    assert names(types=1) == [("fe", "fe1"), ("fe", "li1")]
    assert names(types=8) == [("li", "sock-1"), ("li", "second")]
    assert names(proxy=3, types=4, sid=2) == [("srv", "s2")]
    assert names(proxy="4") == [("fe", "li1"), ("srv", "a1"), ("be", "li1")]
    assert names(proxy=2, types=8, sid=2) == [("li", "second")]
    assert ("srv", "s3") not in names(no_maint=True)
    srv_of(proc, "be1", "s1").op_state = STOPPED
    srv_of(proc, "be1", "s1").check.health = 0
    assert [n for k, n in names(up=True) if k == "srv"] == ["s2", "a1"]
    srv_of(proc, "be1", "s1").check.health = 1  # down but going up: shown
    assert "s1" in [n for k, n in names(up=True) if k == "srv"]
    assert C.find_proxy_id(proc, "be1") == 3
    assert C.find_proxy_id(proc, "nope") == 0
    assert C.find_proxy_id(proc, "12abc") == 12


# ------------------------------------------------------------------ statuses
def test_server_status_strings() -> None:
    p = FakeProcess()
    be = p.backend("b", 1)
    s = add_server(be, "s", 1, check=True)
    chk = s.check
    assert C.server_status(s) == "UP"
    chk.health = 3
    assert C.server_status(s) == "UP 2/3"
    s.admin = FDRAIN
    assert C.server_status(s) == "DRAIN 2/3"
    chk.health = 4
    assert C.server_status(s) == "DRAIN"
    s.admin = 0
    s.op_state = STOPPING
    assert C.server_status(s) == "NOLB"
    chk.health = 2
    assert C.server_status(s) == "NOLB 1/3"
    s.op_state = STOPPED
    assert C.server_status(s) == "DOWN 2/2"
    chk.health = 0
    assert C.server_status(s) == "DOWN"
    s.admin = FDRAIN  # a drained server that is down is DOWN
    assert C.server_status(s) == "DOWN"
    s.admin = FMAINT
    assert C.server_status(s) == "MAINT"
    s.admin = 0
    chk.paused = True  # 'disable health'
    s.op_state = STARTING
    assert C.server_status(s) == "no check"
    s.op_state = STOPPED
    assert C.server_status(s) == "DOWN"
    s.check = None
    s.op_state = STOPPING
    assert C.server_status(s) == "NOLB"


def test_frontend_and_listener_statuses(proc: Any) -> None:
    fe = proc.frontends[0]
    l1, l2 = fe.listeners
    assert C.fe_status(fe) == "OPEN"
    assert C.li_status(l1) == "OPEN"
    l1.maxconn, l1.cur_conn, l1.state = 1, 1, "FULL"
    assert C.li_status(l1) == "FULL"
    l2.state = "FULL"  # held back by the frontend or the process limit
    assert C.li_status(l2) == "WAITING"
    l2.state, l2.paused = "WAITING", True
    assert C.li_status(l2) == "OPEN"  # HAProxy reports a paused listener as OPEN
    fe.pause()
    assert C.fe_status(fe) == "PAUSED"
    fe.stopping = True
    assert C.fe_status(fe) == "STOP"


def test_check_columns_follow_haproxy_conditions(proc: Any) -> None:
    s1 = srv_of(proc, "be1", "s1")
    s1.check.status, s1.check.code, s1.check.desc, s1.check.duration = "L7STS", 503, "Service Unavailable", 12
    r = row(proc, "be1", "s1")
    assert (r["check_status"], r["check_code"], r["check_duration"], r["last_chk"], r["check_desc"]) == (
        "L7STS", "503", "12", "Service Unavailable", "Layer7 wrong status")
    assert (r["check_rise"], r["check_fall"], r["check_health"], r["chkfail"], r["chkdown"]) == ("2", "3", "4", "0", "0")
    s1.check.status = "L4OK"
    assert row(proc, "be1", "s1")["check_code"] == ""  # no layer 5-7 data
    s1.check.status = "INI"
    r = row(proc, "be1", "s1")
    assert (r["check_status"], r["check_duration"], r["check_desc"]) == ("INI", "", "Initializing")
    s1.check.in_progress = True
    assert row(proc, "be1", "s1")["check_status"] == "* INI"
    s1.admin = FMAINT  # paused by maintenance: the check columns go, the counters stay
    r = row(proc, "be1", "s1")
    assert (r["check_status"], r["check_rise"], r["chkfail"], r["downtime"]) == ("", "", "0", "0")
    s1.admin = 0
    s1.check.paused = True  # 'disable health': everything about the check goes
    r = row(proc, "be1", "s1")
    assert (r["check_status"], r["chkfail"], r["chkdown"], r["downtime"], r["status"]) == ("", "", "", "", "no check")
    r = row(proc, "be1", "s2")
    assert (r["check_status"], r["chkfail"], r["downtime"], r["status"]) == ("", "", "", "no check")


def test_server_and_backend_values(proc: Any) -> None:
    r = row(proc, "be1", "s2")
    assert (r["slim"], r["qlimit"], r["weight"], r["uweight"], r["act"], r["bck"], r["sid"], r["iid"]) == (
        "10", "4", "5", "5", "1", "0", "2", "3")
    assert (r["addr"], r["mode"], r["type"], r["lastsess"], r["used_conn_cur"], r["srv_icur"]) == (
        "127.0.0.1:9002", "tcp", "2", "-1", "0", "0")
    r = row(proc, "be1", "s3")
    assert (r["status"], r["act"], r["bck"], r["slim"], r["qlimit"]) == ("MAINT", "0", "1", "", "")
    r = row(proc, "be1", "BACKEND")
    # s1 (1) + s2 (5) usable and active; the backup s3 is in maintenance
    assert (r["status"], r["weight"], r["uweight"], r["act"], r["bck"], r["algo"]) == ("UP", "6", "6", "2", "0", "roundrobin")
    assert (r["slim"], r["sid"], r["type"], r["chkfail"], r["lastsess"]) == ("100", "0", "1", "", "-1")
    for s in proc.backends[0].servers:
        s.admin = FMAINT
    proc.backends[0].lb.update()
    r = row(proc, "be1", "BACKEND")
    assert (r["status"], r["weight"], r["act"]) == ("DOWN", "0", "0")


def test_fullconn_default_is_a_tenth_of_the_frontends_maxconn(proc: Any) -> None:
    be1, li1 = proc.backends[0], proc.backends[1]
    assert C.fullconn(be1) == 100  # fe1's maxconn 1000 (global)
    assert C.fullconn(li1) == 100  # the listen section's own frontend
    assert C.fullconn(proc.backends[2]) == 1  # nobody reaches 'off'
    proc.frontends[1].spec.use_backends = [SimpleNamespace(name="be1", cond=["if", "x"]),
                                           SimpleNamespace(name="be1", cond=[])]
    assert C.fullconn(be1) == 200  # counted once per frontend
    be1.spec.fullconn = 7
    assert C.fullconn(be1) == 7


def test_http_only_columns(proc: Any) -> None:
    li1 = proc.frontends[1]
    li1.hrsp[1] = 4
    li1.cum_req = 9
    assert row(proc, "fe1", "FRONTEND")["hrsp_2xx"] == ""
    assert row(proc, "fe1", "FRONTEND")["req_tot"] == "0"  # a frontend always counts requests
    r = row(proc, "li1", "FRONTEND")
    assert (r["hrsp_2xx"], r["req_tot"], r["intercepted"], r["cache_hits"]) == ("4", "9", "0", "0")
    assert row(proc, "li1", "a1")["hrsp_2xx"] == "0"
    assert row(proc, "be1", "s1")["hrsp_2xx"] == ""
    assert row(proc, "li1", "a1")["req_tot"] == ""  # servers keep no request counter yet


def test_rates_times_and_ages(proc: Any) -> None:
    be = proc.backends[0]
    s1 = be.servers[0]
    for v in (10, 20, 30):
        s1.timings.add(1, 2, v, v + 3)
    be.sess_rate.add()
    be.last_sess = time.time() - 3
    s1.last_change = time.time() - 42
    r = row(proc, "be1", "s1")
    # the sliding average of HAProxy's swrate_add(): (10, 20, 30) averages 19 over 3 samples
    assert (r["rtime"], r["ttime"], r["rtime_max"], r["ttime_max"], r["ctime"]) == ("19", "22", "30", "33", "1")
    assert r["lastchg"] in ("42", "43")
    r = row(proc, "be1", "BACKEND")
    assert (r["rate"], r["rate_max"]) == ("1", "1")
    assert r["lastsess"] in ("3", "4")


def test_legends_and_csv_quoting(proc: Any) -> None:
    srv_of(proc, "li1", "a1").cookie = 'x,"y"'
    r = csvstat.render(proc)
    assert 'A1' not in r and '"x,""y"""' in r
    assert "127.0.0.1:9002" not in csvstat.render(proc, legends=False)
    assert row(proc, "be1", "BACKEND", legends=False)["algo"] == ""


def test_csv_rows_have_header_field_count(proc: Any) -> None:
    lines = csvstat.render(proc).splitlines()
    n = lines[0].count(",")
    assert n == 103
    assert all(line.endswith(",") and line.count(",") == n for line in lines[1:] if '"' not in line)


def test_backend_status_counts_with_up_or_no_maint(proc: Any) -> None:
    assert row(proc, "be1", "BACKEND", up=True)["status"] == "UP (2/3)"
    assert row(proc, "be1", "BACKEND", no_maint=True)["status"] == "UP (2/3)"
    assert row(proc, "be1", "BACKEND")["status"] == "UP"


def test_typed_and_json_forms(proc: Any) -> None:
    typed = csvstat.render(proc, "typed", proxy="be1", types=2)
    lines = typed.splitlines()
    assert lines[0] == "B.3.0.0.pxname.1:KNS:str:be1"
    assert "B.3.0.17.status.1:SGP:str:UP" in lines
    assert "B.3.0.19.act.1:MGP:u32:2" in lines
    assert not any(".econ." not in line and ".qlimit." in line for line in lines)  # empty fields are absent
    desc = csvstat.render(proc, "typed", desc=True, proxy="be1", types=2).splitlines()[0]
    assert desc == 'B.3.0.0.pxname.1:KNS:str:be1:"Proxy name"'
    j = csvstat.render(proc, "json")
    assert j.endswith("]\n")
    data = json.loads(j)
    assert len(data) == 10
    first = data[0][0]
    assert first == {"objType": "Frontend", "proxyId": 2, "id": 0, "field": {"pos": 0, "name": "pxname"},
                     "processNum": 1, "tags": {"origin": "Key", "nature": "Name", "scope": "Service"},
                     "value": {"type": "str", "value": "fe1"}}


# ------------------------------------------------------------------ show info
def test_show_info_forms(proc: Any) -> None:
    text = info.render(proc)
    lines = text.splitlines()
    assert lines[0] == "Name: gproxy"
    names = [line.split(":", 1)[0] for line in lines]
    assert names[:6] == ["Name", "Version", "Nbthread", "Nbproc", "Process_num", "Pid"]
    assert "Uptime_sec" in names and "Release_date" not in names and "MaxConnRate" in names
    assert names[-5:] == ["CumRecvLogs", "Build info", "Memmax_bytes", "Start_time_sec", "Tainted"]
    assert "description" not in names
    proc.model.glob.description = "a, b"
    assert 'description: "a, b"' in info.render(proc)
    typed = info.render(proc, "typed").splitlines()
    assert typed[0] == "0.Name.1:POS:str:gproxy"
    assert any(line.startswith("8.Uptime_sec.1:MDP:u32:") for line in typed)
    assert any(line.startswith("50.node.1:COS:str:node1") for line in typed)
    flt = info.render(proc, "typed", use_float=True)
    assert "8.Uptime_sec.1:MDP:flt:5." in flt
    data = json.loads(info.render(proc, "json"))
    assert data[0] == {"field": {"pos": 0, "name": "Name"}, "processNum": 1,
                       "tags": {"origin": "Product", "nature": "Output", "scope": "Service"},
                       "value": {"type": "str", "value": "gproxy"}}
    assert dict(info.values(proc))["Listeners"] == 2  # the process's listeners (fe1's two)


@pytest.mark.parametrize(("v", "text"), [(12.5, "12.5"), (3.0, "3"), (0.0, "0"), (1.25, "1.25")])
def test_float_trim(v: float, text: str) -> None:
    assert info.flt_text(v) == text


# ------------------------------------------------------------------ the command table
@pytest.mark.parametrize(("line", "words"), [
    ("show stat", ["show", "stat"]),
    ("  show \t stat  typed ", ["show", "stat", "typed"]),
    ("show\\ cli level", ["show cli", "level"]),
    ("a\\;b c\\\\d", ["a;b", "c\\d"]),
    ("add map x <<", ["add", "map", "x"]),
    ("", []),
])
def test_split_words(line: str, words: list[str]) -> None:
    assert cmds.split_words(line) == words


def test_help_is_generated_sorted_from_the_registry() -> None:
    text = cmds.REGISTRY.usage_message(["help"])
    lines = text.splitlines()
    assert lines[0] == "The following commands are valid at this level:"
    body = lines[1:-3]
    assert body == sorted(body)
    assert "  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server" in body
    assert "  enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)" in body
    assert text.endswith(cmds.HELP_TRAILER)
    assert len(body) == sum(1 for c in cmds.REGISTRY.commands if c.usage)


@pytest.mark.parametrize(("args", "head", "first"), [
    ([], "Unknown command. Please enter one of the following commands only:", "  clear counters [all]"),
    (["show"], "Unknown command, but maybe one of the following ones is a better match:", "  show backend"),
    (["sho", "stat"], "Unknown command, but maybe one of the following ones is a better match:", "  show stat "),
    (["show cli", "level"], "Unknown command, but maybe one of the following ones is a better match:",
     "  show cli level"),
    (["help", "set", "server"], "The following commands are valid at this level:", "  set server <bk>/<srv>"),
])
def test_unknown_command_suggestions(args: list[str], head: str, first: str) -> None:
    lines = cmds.REGISTRY.usage_message(args).splitlines()
    assert lines[0] == head
    assert lines[1].startswith(first)


def test_execute_enforces_levels_and_lowers_them(proc: Any) -> None:
    ctx = cmds.Context(proc, cmds.USER)
    assert cmds.execute(ctx, "show sess") == "Permission denied\n"
    assert cmds.execute(ctx, "disable server be1/s1") == "Permission denied\n"
    assert cmds.execute(ctx, "operator") == "Permission denied\n"
    assert cmds.execute(ctx, "show cli level") == "user\n"
    ctx = cmds.Context(proc, cmds.OPERATOR)
    assert cmds.execute(ctx, "clear counters all") == "Permission denied\n"
    assert cmds.execute(ctx, "clear counters") == ""
    ctx = cmds.Context(proc, cmds.ADMIN)
    assert cmds.execute(ctx, "user -") == "" and ctx.nolf and ctx.level == cmds.USER


def test_server_commands_use_server_methods(proc: Any) -> None:
    ctx = cmds.Context(proc, cmds.ADMIN)
    s2 = srv_of(proc, "be1", "s2")
    events: list[str] = []
    s2.subscribers.append(lambda s, ev, why: events.append(ev))
    assert cmds.execute(ctx, "set server be1/s2 state maint") == ""
    assert s2.admin & FMAINT and C.server_status(s2) == "MAINT"
    assert cmds.execute(ctx, "set server be1/s2 state drain") == ""
    assert s2.admin == FDRAIN
    assert cmds.execute(ctx, "enable server be1/#2") == ""
    assert s2.admin == 0
    assert events == ["maint", "ready", "drain", "undrain"]
    assert cmds.execute(ctx, "set weight be1/s2 40%") == "" and s2.uweight == 2
    assert cmds.execute(ctx, "get weight be1/s2") == "2 (initial 5)\n"
    assert cmds.execute(ctx, "set server be1/s2 health down") == "" and s2.op_state == STOPPED
    assert cmds.execute(ctx, "set maxconn server be1/s2 20") == "" and s2.maxconn == 20
    assert cmds.execute(ctx, "shutdown sessions server be1/s2") == ""
    assert proc.backends[0].killed == [(s2, "K")]
    assert cmds.execute(ctx, "set server be1") == "Require 'backend/server'.\n"
    assert cmds.execute(ctx, "set server nope/s2 state ready") == "No such backend.\n"
    assert cmds.execute(ctx, "set server be1/zz state ready") == "No such server.\n"
    assert cmds.execute(ctx, "set server off/x state ready") == "No such server.\n"


def test_static_algorithm_accepts_only_0_and_100_percent(proc: Any) -> None:
    ctx = cmds.Context(proc, cmds.ADMIN)
    be = proc.backends[0]
    be.lb.dynamic = False
    msg = "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
    assert cmds.execute(ctx, "set weight be1/s2 3") == msg
    assert cmds.execute(ctx, "set weight be1/s2 0%") == ""
    assert cmds.execute(ctx, "set weight be1/s2 100%") == ""
    assert cmds.execute(ctx, "set weight be1/s2 5") == ""


def test_clear_counters(proc: Any) -> None:
    ctx = cmds.Context(proc, cmds.ADMIN)
    fe = proc.frontends[0]
    s1 = srv_of(proc, "be1", "s1")
    fe.cum_sess, fe.max_conn, s1.cum_sess, s1.max_sess, s1.check.failed_checks = 5, 3, 4, 2, 1
    s1.timings.add(1, 1, 1, 9)
    assert cmds.execute(ctx, "clear counters") == ""
    assert (fe.cum_sess, fe.max_conn, s1.cum_sess, s1.max_sess, s1.timings.t.max) == (5, 0, 4, 0, 0)
    assert cmds.execute(ctx, "clear counters all") == ""
    assert (fe.cum_sess, s1.cum_sess, s1.check.failed_checks, s1.timings.samples) == (0, 0, 0, 0)


@pytest.mark.parametrize(("t", "text"), [(0, "0s"), (59, "59s"), (61, "1m1s"), (3600, "1h"), (3661, "1h1m"),
                                         (90061, "1d1h"), (86400, "1d")])
def test_human_time(t: int, text: str) -> None:
    assert cmds.human_time(t) == text


@pytest.mark.parametrize(("text", "value"), [("0x10", 16), ("16", 16), ("010", 8), ("zz", 0), ("", 0)])
def test_strtoul_base_0(text: str, value: int) -> None:
    assert cmds.strtoul0(text) == value
