"""Stick counters (gproxy.stkctr), the track-sc/sc-* actions (gproxy.http.rules) and the
sc_*/src_*/table_* fetches and converters (gproxy.http.sample).

The expected values are what haproxy 2.6.12 showed for the same sequences (``show
table`` and ``lf-string`` replies printing the fetches; tests/integration/test_track_sc.py
runs the live scenarios against both): tracking counts conn_cur/conn_cnt/conn_rate and
takes a reference (``use``), the session's counters count sessions, every request counts
on every tracked counter, a stream's own counters are released at its end, a fetch of an
untracked counter has no sample, a data type the table does not store gives no sample,
``table_trackers`` counts its own lookup.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from gproxy import stkctr
from gproxy.config import import_keyword_modules
from gproxy.http import rules as R
from gproxy.http import sample as smp
from gproxy.session import Session
from gproxy.sticktable import StickTable

from .cfgtext import parse_checked as parse

import_keyword_modules()

pytestmark = pytest.mark.timeout(30)

DATA = [("conn_cur", 0), ("conn_cnt", 0), ("conn_rate", 10000), ("sess_cnt", 0), ("sess_rate", 10000),
        ("http_req_cnt", 0), ("http_req_rate", 10000), ("http_err_cnt", 0), ("http_fail_cnt", 0), ("gpc0", 0),
        ("gpc0_rate", 10000), ("gpt0", 0), ("bytes_in_cnt", 0), ("bytes_out_cnt", 0)]


def table(name: str = "fe", data: list[tuple[str, int]] | None = None, **kw: object) -> StickTable:
    return StickTable(name, "ip", 100, expire_ms=30000, data=DATA if data is None else data, **kw)  # type: ignore[arg-type]


def session(*tables: StickTable, ip: str = "10.0.0.1") -> Session:
    proc = SimpleNamespace(stick_tables={t.name: t for t in tables})
    fe = SimpleNamespace(name="fe", process=proc, spec=None, id=1)
    return Session(fe, None, (ip, 4000), ("127.0.0.1", 80))


def entry_data(t: StickTable, ip: str = "10.0.0.1") -> dict[str, object]:
    e = t.lookup(t.key_of(ip))
    assert e is not None
    return {"use": e.use, **{k: e.get(k) for k in e.data}}


# ------------------------------------------------------------------ tracking
def test_track_counts_and_releases() -> None:
    t = table()
    s = session(t)
    assert s.stkctr is None
    e = stkctr.track(s, 1, t, t.key_of("10.0.0.1"), stream=False)
    assert e is not None
    stkctr.count_session(s)
    d = entry_data(t)
    assert (d["use"], d["conn_cur"], d["conn_cnt"], d["conn_rate"], d["sess_cnt"], d["sess_rate"]) == (1, 1, 1, 1, 1, 1)
    # the same slot is not tracked twice, by the session or by a stream
    assert stkctr.track(s, 1, t, t.key_of("10.0.0.1"), stream=False) is None
    assert stkctr.track(s, 1, t, t.key_of("10.0.0.1"), stream=True) is None
    # a stream's own counter: released at the end of the stream, the session's stays
    assert stkctr.track(s, 0, t, t.key_of("10.0.0.1"), stream=True) is e
    assert entry_data(t)["use"] == 2 and entry_data(t)["conn_cur"] == 2
    stkctr.inc_http_req(s)  # counted once per tracked counter
    assert entry_data(t)["http_req_cnt"] == 2
    stkctr.end_stream(s, 100, 200)
    d = entry_data(t)
    assert (d["use"], d["conn_cur"], d["bytes_in_cnt"], d["bytes_out_cnt"]) == (1, 1, 200, 400)
    assert s.stkctr is not None and s.stkctr.strm == [None, None, None]
    stkctr.end_session(s)
    d = entry_data(t)
    assert (d["use"], d["conn_cur"], d["conn_cnt"], d["sess_cnt"]) == (0, 0, 2, 1)
    assert s.stkctr is None


def test_stream_level_does_not_count_sessions() -> None:
    t = table()
    s = session(t)
    stkctr.track(s, 0, t, t.key_of("10.0.0.1"), stream=True)
    stkctr.count_session(s)
    assert entry_data(t)["sess_cnt"] == 0
    stkctr.end_stream(s)
    assert s.stkctr is None  # nothing left tracked: the one attribute is None again


def test_no_key_or_full_table_tracks_nothing() -> None:
    t = table()
    s = session(t)
    assert stkctr.track(s, 0, t, None, stream=True) is None
    full = StickTable("full", "ip", 1, nopurge=True, data=DATA)
    full.get_or_create(full.key_of("1.1.1.1"))
    assert stkctr.track(s, 0, full, full.key_of("10.0.0.1"), stream=True) is None


def test_status_counters() -> None:
    t = table()
    s = session(t)
    stkctr.track(s, 2, t, t.key_of("10.0.0.1"), stream=False)
    for st in (200, 404, 429, 500, 501, 502, 505):
        stkctr.inc_for_status(s, st)
    d = entry_data(t)
    assert (d["http_err_cnt"], d["http_fail_cnt"]) == (2, 2)


def test_expired_entry_goes_when_released() -> None:
    # stream_store_counters(): conn_cur stored, the release touches the entry (a new
    # expiry); else an entry that expired while tracked goes with its last reference
    t = table(data=[("http_req_cnt", 0)])
    s = session(t)
    e = stkctr.track(s, 0, t, t.key_of("10.0.0.1"), stream=True)
    assert e is not None
    e.exp = time.monotonic() - 1
    assert t.lookup(e.key) is e  # kept while tracked
    stkctr.end_stream(s)
    assert e.key not in t.entries
    t2 = table()
    e2 = stkctr.track(s, 0, t2, t2.key_of("10.0.0.1"), stream=True)
    assert e2 is not None
    e2.exp = time.monotonic() - 1
    stkctr.end_stream(s)
    assert t2.lookup(e2.key) is e2 and e2.exp > time.monotonic()


def test_conn_cur_not_stored() -> None:
    t = table(data=[("http_req_cnt", 0)])
    s = session(t)
    e = stkctr.track(s, 0, t, t.key_of("10.0.0.1"), stream=True)
    assert e is not None and e.use == 1 and e.data == {"http_req_cnt": 0}
    stkctr.end_stream(s)
    assert e.use == 0


# ------------------------------------------------------------------ fetches
def ev(text: str, s: Session, proxy: str = "fe") -> object:
    expr, _ = smp.parse_expr_text(text, smp.ParseCtx(proxy=proxy))
    return expr.eval(s, None)


def test_fetches_without_tracking_have_no_sample() -> None:
    t = table()
    s = session(t)
    for f in ("sc0_conn_cur", "sc_conn_cur(0)", "sc1_http_req_rate", "sc2_get_gpc0", "sc0_trackers",
              "sc_inc_gpc0(0)", "sc5_conn_cur" if "sc5_conn_cur" in smp.FETCHES else "sc_conn_cur(5)"):
        assert ev(f, s) is None, f
    assert ev("sc0_tracked", s) is False
    assert ev("sc_tracked(2)", s) is False
    # src_* look the source up: an unknown key is 0, a data type not stored has no sample
    assert ev("src_conn_cur", s) == 0
    assert ev("src_conn_cur(fe)", s) == 0
    assert ev("src_kbytes_in(fe)", s) == 0


def test_fetches_read_the_tracked_entry() -> None:
    t = table()
    other = table("other", data=[("http_req_cnt", 0)])
    s = session(t, other)
    stkctr.track(s, 0, t, t.key_of("10.0.0.1"), stream=True)
    stkctr.inc_http_req(s)
    e = t.lookup(t.key_of("10.0.0.1"))
    assert e is not None
    e.data["bytes_in_cnt"] = 4096
    assert ev("sc0_conn_cur", s) == 1
    assert ev("sc_conn_cnt(0)", s) == 1
    assert ev("sc0_http_req_cnt", s) == 1
    assert ev("sc_http_req_rate(0)", s) == 1
    assert ev("sc0_kbytes_in", s) == 4
    assert ev("sc0_tracked", s) is True
    assert ev("sc0_trackers", s) == 1
    assert ev("src_conn_cur", s) == 1
    assert ev("src_http_req_cnt(fe)", s) == 1
    # the same key in another table: not there yet (0), then there; a type it does not store
    assert ev("sc0_http_req_cnt(other)", s) == 0
    assert ev("sc0_tracked(other)", s) is True
    other.get_or_create(other.key_of("10.0.0.1"))
    assert ev("sc_conn_cur(0,other)", s) is None
    assert ev("sc_http_req_cnt(0,other)", s) == 0


def test_gpc_fetches() -> None:
    t = table()
    s = session(t)
    assert ev("src_inc_gpc0", s) == 1  # src_inc_gpc0 creates the entry
    assert ev("src_get_gpc0", s) == 1
    stkctr.track(s, 1, t, t.key_of("10.0.0.1"), stream=False)
    assert ev("sc1_inc_gpc0", s) == 2
    assert ev("sc_get_gpc0(1)", s) == 2
    assert ev("sc1_gpc0_rate", s) == 2
    assert ev("sc1_clr_gpc0", s) == 2
    assert ev("sc1_get_gpc0", s) == 0
    assert ev("sc1_get_gpc1", s) is None  # not stored
    assert ev("sc1_inc_gpc1", s) == 0  # not stored: 0, with a sample


def test_converters() -> None:
    t = table()
    s = session(t)
    assert ev("src,in_table(fe)", s) is False
    assert ev("src,table_conn_cur(fe)", s) == 0
    stkctr.track(s, 0, t, t.key_of("10.0.0.1"), stream=True)
    assert ev("src,in_table(fe)", s) is True
    assert ev("str(10.0.0.1),table_conn_cur(fe)", s) == 1
    assert ev("src,table_trackers(fe)", s) == 2  # haproxy 2.6 counts its own lookup
    assert ev("src,table_gpc1(fe)", s) is None
    assert ev("str(nope),table_conn_cur(fe)", s) is None  # not a key of an ip table
    assert ev("table_cnt(fe)", s) == 1
    assert ev("table_avl(fe)", s) == 99


# ------------------------------------------------------------------ rules
HEAD = """defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:27461
    stick-table type ip size 1k expire 30s store conn_cur,conn_cnt,sess_cnt,http_req_cnt,gpc0,gpc1,gpt0
"""
TAIL = """    default_backend be
backend be
    server s1 127.0.0.1:27462
"""


def test_rules_track_and_gpc() -> None:
    model, msgs = parse(HEAD + "    tcp-request connection track-sc1 src\n"
                        "    tcp-request connection reject if { sc1_conn_cur gt 1 }\n"
                        "    tcp-request session sc-inc-gpc1(1)\n"
                        "    http-request track-sc0 src\n"
                        "    http-request sc-inc-gpc0(0)\n"
                        "    http-request sc-set-gpt0(0) 4294967297\n" + TAIL)
    assert [m for m in msgs if m.startswith(("ALERT", "WARNING"))] == []
    spec = model.proxies[0]
    t = table(data=[("conn_cur", 0), ("conn_cnt", 0), ("sess_cnt", 0), ("http_req_cnt", 0), ("gpc0", 0), ("gpc1", 0),
                    ("gpt0", 0)])
    s = session(t)
    s.frontend.spec = spec
    assert R.run_tcp_connection(spec.tcp_request_connection, s) is True
    s2 = session(t)
    assert R.run_tcp_connection(spec.tcp_request_connection, s2) is False  # conn_cur 2 > 1: released again
    assert s2.stkctr is None
    assert entry_data(t) == {"use": 1, "conn_cur": 1, "conn_cnt": 2, "sess_cnt": 1, "http_req_cnt": 0, "gpc0": 0,
                             "gpc1": 1, "gpt0": 0}
    R.run_http_request(spec.http_request, SimpleNamespace(sess=s, status=0))
    # sc0 is a stream counter on the same entry: one more reference and connection, the request counted
    assert entry_data(t) == {"use": 2, "conn_cur": 2, "conn_cnt": 3, "sess_cnt": 1, "http_req_cnt": 1, "gpc0": 1,
                             "gpc1": 1, "gpt0": 1}
    stkctr.end_stream(s)
    stkctr.end_session(s)
    assert entry_data(t)["use"] == 0 and entry_data(t)["conn_cur"] == 0


@pytest.mark.parametrize(("word", "want"), [
    ("sc-inc-gpc0", ("sc-inc-gpc0", 0)),
    ("sc-inc-gpc1(2)", ("sc-inc-gpc1", 2)),
    ("sc-inc-gpc0(0)x", ("sc-inc-gpc0", 0)),  # strtol() stops at ')': the rest is not read
    ("sc-set-gpt0( 1)", ("sc-set-gpt0", 1)),
    ("sc-inc-gpc(0,1)", ("", -1)),  # the array forms are not implemented
])
def test_parse_sc_slot(word: str, want: tuple[str, int]) -> None:
    assert R.parse_sc_slot(word) == want


@pytest.mark.parametrize(("word", "err"), [
    ("sc-inc-gpc0(3)", "invalid stick table track ID. The max allowed ID is 2"),
    ("sc-inc-gpc0x", "invalid stick table track ID. Expects sc-inc-gpc0x(<Track ID>)"),
    ("sc-set-gpt0(9)", "invalid stick table track ID 'sc-set-gpt0(9)'. The max allowed ID is 2"),
    ("sc-set-gpt0(1", "invalid stick table track ID 'sc-set-gpt0(1'. Expects sc-set-gpt0(<Track ID>)"),
    ("sc-inc-gpcx", "invalid gpc ID 'sc-inc-gpcx'. Expects sc-set-gpc(<GPC ID>,<Track ID>)"),
])
def test_parse_sc_slot_errors(word: str, err: str) -> None:
    with pytest.raises(R.ActionError, match=None) as e:
        R.parse_sc_slot(word)
    assert str(e.value) == err


def test_track_sc_numbers() -> None:
    assert R.track_sc_num("") == 0
    assert R.track_sc_num("2") == 2
    with pytest.raises(R.ActionError) as e:
        R.track_sc_num("3")
    assert str(e.value) == "3 track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value"
    with pytest.raises(R.ActionError) as e:
        R.track_sc_num("x")
    assert str(e.value) == "Wrong track-sc number 'x'"


def test_unimplemented_array_actions_warn() -> None:
    _, msgs = parse(HEAD + "    http-request sc-inc-gpc(0,0)\n    tcp-request connection sc-set-gpt(0,0) 1\n" + TAIL)
    assert [m for m in msgs if m.startswith("WARNING")] == [
        "WARNING: 'http-request sc-inc-gpc' is not implemented by gproxy yet and is ignored.",
        "WARNING: 'tcp-request connection sc-set-gpt' is not implemented by gproxy yet and is ignored.",
    ]
