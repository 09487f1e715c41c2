"""Stick tables (gproxy.sticktable) and the stick rules' pure parts (gproxy.stickrules):
key conversion per table type, expiry, eviction when full, nopurge, the ``show table``
line, the ``stick-table`` parse and the request/commit logic of a stream."""

from __future__ import annotations

import ipaddress

import pytest

from gproxy import stickrules
from gproxy import sticktable as st
from gproxy.sticktable import StickTable

from .cfgtext import parse

pytestmark = pytest.mark.timeout(30)

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(st.time, "monotonic", c)
    return c


# ---------------------------------------------------------------------- keys


def test_ip_keys():
    t = StickTable("t", "ip", 10)
    assert t.key_of(V4("10.0.0.1")) == V4("10.0.0.1")
    assert t.key_of("10.0.0.2") == V4("10.0.0.2")
    assert t.key_of(V6("::ffff:10.0.0.3")) == V4("10.0.0.3")
    assert t.key_of(V6("2001:db8::1")) is None  # not v4-mapped: no key
    assert t.key_of(0x0A000004) == V4("10.0.0.4")
    assert t.key_of("nope") is None
    assert t.key_of(None) is None


def test_ipv6_keys():
    t = StickTable("t", "ipv6", 10)
    assert t.key_of(V4("10.0.0.1")) == V6("::ffff:10.0.0.1")
    assert t.key_of("2001:db8::1") == V6("2001:db8::1")


def test_integer_keys():
    t = StickTable("t", "integer", 10)
    assert t.key_of(42) == 42
    assert t.key_of("17") == 17
    assert t.key_of(V4("0.0.1.0")) == 256
    assert t.key_of(-1) == 0xFFFFFFFF
    assert t.key_of("x") is None


def test_string_and_binary_keys():
    t = StickTable("t", "string", 10, key_len=4)
    assert t.key_of("abcdef") == b"abcd"  # cut to the key length
    assert t.key_of(V4("1.2.3.4")) == b"1.2."
    b = StickTable("b", "binary", 10, key_len=6)
    assert b.key_of(b"ab") == b"ab\0\0\0\0"  # padded with zeros
    assert b.key_of(V4("1.2.3.4")) == b"\x01\x02\x03\x04\0\0"
    assert b.format_key(b.key_of(b"ab")) == "616200000000"


# ---------------------------------------------------------------------- entries


def test_expiry_is_restarted_by_touch(clock):
    t = StickTable("t", "ip", 10, expire_ms=1000)
    e = t.get_or_create(V4("1.1.1.1"))
    assert e is not None
    clock.now += 0.9
    t.touch(e)
    clock.now += 0.9
    assert t.lookup(V4("1.1.1.1")) is e  # 0.9 s after the touch
    clock.now += 0.2
    assert t.lookup(V4("1.1.1.1")) is None  # expired and dropped
    assert t.used == 0


def test_full_table_drops_the_least_recently_touched(clock):
    t = StickTable("t", "integer", 3)
    entries = [t.get_or_create(k) for k in (1, 2, 3)]
    t.touch(entries[0])  # 1 is now the youngest: 2 is the oldest
    assert t.get_or_create(4) is not None
    assert sorted(t.entries) == [1, 3, 4]


def test_full_table_purges_expired_first(clock):
    t = StickTable("t", "integer", 2, expire_ms=100)
    t.get_or_create(1)
    clock.now += 0.05
    t.get_or_create(2)
    clock.now += 0.06  # 1 expired, 2 not
    assert t.get_or_create(3) is not None
    assert sorted(t.entries) == [2, 3]


def test_nopurge_refuses_new_keys_when_full(clock):
    t = StickTable("t", "integer", 2, nopurge=True)
    assert t.get_or_create(1) is not None
    assert t.get_or_create(2) is not None
    assert t.get_or_create(3) is None
    assert t.get_or_create(1) is not None  # a known key is still found
    assert sorted(t.entries) == [1, 2]


def test_entries_in_use_are_not_dropped(clock):
    t = StickTable("t", "integer", 1)
    e = t.get_or_create(1)
    e.use = 1
    assert t.get_or_create(2) is None


def test_dump_format(clock):
    t = StickTable("web", "ip", 100, expire_ms=30000, data=[("conn_cnt", 0), ("server_key", 0), ("server_id", 0),
                                                            ("http_req_rate", 10000)])
    assert list(t.data_types) == ["server_id", "conn_cnt", "http_req_rate", "server_key"]  # HAProxy's order
    e = t.get_or_create(V4("127.0.0.1"))
    e.data["server_id"] = 2
    e.data["server_key"] = "s2"
    e.data["http_req_rate"].add(3)
    clock.now += 1.5
    assert t.header() == "# table: web, type: ip, size:100, used:1"
    assert t.dump_entry(e, 0x55d0c0a1b2c0) == ("0x55d0c0a1b2c0: key=127.0.0.1 use=0 exp=28500 server_id=2 conn_cnt=0 "
                                               "http_req_rate(10000)=3 server_key=s2")


# ---------------------------------------------------------------------- config


HEAD = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"


def _table(model, name):
    return model.__dict__["_stick_tables"][name]


def test_stick_table_parse():
    model, msgs = parse(HEAD + "backend b\n    stick-table type string len 40 size 2k expire 1m nopurge srvkey addr "
                        "peers p store conn_cnt,http_req_rate(10s)\n", check=False)
    assert msgs == []
    t = _table(model, "b")
    assert (t.type, t.key_len, t.size, t.expire_ms, t.nopurge, t.srvkey, t.peers) == (
        "string", 40, 2048, 60000, True, "addr", "p")
    assert t.data == {"conn_cnt": 0, "http_req_rate": 10000}


def test_string_default_key_keeps_room_for_the_nul():
    model, _ = parse(HEAD + "backend b\n    stick-table type string size 10\n")
    assert _table(model, "b").key_len == 31  # 32 bytes with HAProxy's NUL


def test_stick_rule_makes_its_table_store_the_server():
    model, msgs = parse(HEAD + "listen l\n    bind 127.0.0.1:1\n    stick-table type ip size 10\n    stick on src\n"
                        "    server s 127.0.0.1:2\n", check=True)
    assert not [m for m in msgs if m.startswith("ALERT")]
    assert list(_table(model, "l").data) == ["server_id", "server_key"]


# ---------------------------------------------------------------------- run time


class Spec:
    def __init__(self, **kw):
        self.extra = kw
        self.options = {}


class Srv:
    def __init__(self, name, sid, port, non_stick=False):
        self.name, self.id, self.port = name, sid, port
        self.host = "127.0.0.1"
        self.sockaddr = ("127.0.0.1", port)
        self.running = True
        self.op_state = 2
        self.spec = Spec(**({"non-stick": True} if non_stick else {}))


class Be:
    def __init__(self, servers):
        self.servers = servers
        self.spec = Spec()


class Expr:
    def __init__(self, value):
        self.value = value

    def eval(self, sess, txn):
        return self.value


def _rules(table, *rules, rsp=(), servers=None):
    servers = servers or [Srv("s1", 1, 81), Srv("s2", 2, 82), Srv("s3", 3, 83, non_stick=True)]
    be = Be(servers)
    r = stickrules.StickRules(be, [(f, table, Expr(v), None) for f, v in rules],
                              [(stickrules.STORE | stickrules.ON_RSP, table, Expr(v), None) for v in rsp])
    return r, servers


ON = stickrules.MATCH | stickrules.STORE


def test_stick_on_stores_then_matches():
    t = StickTable("t", "ip", 10, data=[("server_id", 0), ("server_key", 0)])
    r, (s1, s2, _s3) = _rules(t, (ON, "10.0.0.1"))
    chosen, pending = stickrules.request(r, None, None, None)
    assert chosen is None and pending == [(t, V4("10.0.0.1"))]
    stickrules.commit(r, None, None, pending, s2)
    e = t.lookup(V4("10.0.0.1"))
    assert (e.get("server_id"), e.get("server_key")) == (2, "s2")
    chosen, pending = stickrules.request(r, None, None, None)
    assert chosen is s2
    s2.running = False  # a stopped server is not used (unless option persist)
    assert stickrules.request(r, None, None, None)[0] is None
    r.persist = True
    assert stickrules.request(r, None, None, None)[0] is s2
    assert stickrules.request(r, None, None, s1)[0] is None  # a server already assigned (cookie) wins


def test_server_found_by_id_when_its_name_is_unknown():
    t = StickTable("t", "integer", 10, data=[("server_id", 0), ("server_key", 0)])
    r, (_s1, s2, _s3) = _rules(t, (stickrules.MATCH, 5))
    e = t.get_or_create(5)
    e.data.update(server_id=2, server_key="gone")
    assert stickrules.request(r, None, None, None)[0] is s2


def test_srvkey_addr_and_non_stick():
    t = StickTable("t", "integer", 10, srvkey="addr", data=[("server_id", 0), ("server_key", 0)])
    r, (s1, _s2, s3) = _rules(t, (ON, 7))
    stickrules.commit(r, None, None, [(t, 7)], s1)
    assert t.lookup(7).get("server_key") == "127.0.0.1:81"
    stickrules.commit(r, None, None, [(t, 8)], s3)  # non-stick: not stored
    assert t.lookup(8) is None


def test_only_the_first_store_per_table_applies():
    t = StickTable("t", "integer", 10, data=[("server_id", 0), ("server_key", 0)])
    r, (s1, _s2, _s3) = _rules(t, (stickrules.STORE, None), (stickrules.STORE, 1), (stickrules.STORE, 2),
                               rsp=(3, 4))
    _, pending = stickrules.request(r, None, None, None)
    assert pending == [(t, 1)]  # no key from the first rule: the next one stores
    stickrules.commit(r, None, None, pending, s1)
    assert sorted(t.entries) == [1, 3]  # and one store-response rule beside it


def test_full_nopurge_table_stores_nothing_even_for_a_known_key():
    t = StickTable("t", "integer", 1, nopurge=True, data=[("server_id", 0), ("server_key", 0)])
    r, (s1, _s2, _s3) = _rules(t, (ON, 1))
    stickrules.commit(r, None, None, stickrules.request(r, None, None, None)[1], s1)
    s1.running = False
    chosen, pending = stickrules.request(r, None, None, None)
    assert chosen is None and pending == []
    assert t.lookup(1).get("server_key") == "s1"


def test_store_list_parsing():
    assert stickrules._split_store("conn_cnt,http_req_rate(10s),gpc_rate(2,1m)") == [
        ("conn_cnt", None, None, True), ("http_req_rate", "10s", None, True), ("gpc_rate", "2", "1m", True)]
    assert stickrules._split_store("x(1")[0][3] is False
