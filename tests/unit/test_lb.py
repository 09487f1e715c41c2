"""Unit tests for the load-balancing algorithms (gproxy/lb) and their config keywords.

Real ``gproxy.server.Server`` objects on a tiny fake backend; no sockets.

Expected server sequences and source-hash mappings marked "HAProxy-verified" were taken
from a real HAProxy 2.6.12 (Debian package): ``listen`` section in ``mode tcp``,
``nbthread 1``, with the same servers and weights, each server a small Python TCP
server on 127.0.0.1 replying with its name; sequences from sequential connections,
source mappings from connections bound to each 127.x.y.z source address, weight and
state changes made on the stats socket (``set weight``, ``disable/enable server``).
The hash-function values come from HAProxy's converters (``%[path,sdbm]``,
``%[path,sdbm(1)]`` for avalanche, ...), which call the same functions.
"""

from __future__ import annotations

import random as stdrandom
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

import gproxy.lb.all  # noqa: F401 - registers every algorithm
from gproxy import lb
from gproxy.config.model import Proxy, ServerSpec
from gproxy.lb.hashing import (
    ChashTable,
    HashBalancer,
    ServerMap,
    full_hash,
    hash_crc32,
    hash_djb2,
    hash_key,
    hash_sdbm,
    hash_wt6,
)
from gproxy.lb.keywords import parse_balance, parse_hash_type, tcp_mode_fallback
from gproxy.lb.source import source_key
from gproxy.registry import BE_SIDE, SECTION_KEYWORDS, ConfigError
from gproxy.server import FMAINT, Server

CTX = lb.PickCtx()


class FakeBackend:
    """Just what the balancers and Server read from a backend."""

    def __init__(self, allbackups: bool = False) -> None:
        self.name = "be"
        self.servers: list[Server] = []
        self.allbackups = allbackups
        self.server_changed = lambda s: None


def build(
    algo: str | tuple[str, ...],
    *specs: tuple[str, dict[str, Any]],
    allbackups: bool = False,
    hash_type: tuple[str, str, bool] = ("map-based", "sdbm", False),
) -> tuple[lb.Balancer, dict[str, Server]]:
    be = FakeBackend(allbackups)
    for sid, (name, kw) in enumerate(specs, 1):
        be.servers.append(Server(be, ServerSpec(name=name, **kw), sid))
    bal = lb.make(be, algo if isinstance(algo, tuple) else (algo,), hash_type)
    bal.update()
    return bal, {s.name: s for s in be.servers}


def weighted(*ws: int, **kw: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(chr(97 + i), dict(weight=w, **kw)) for i, w in enumerate(ws)]


def seq(bal: lb.Balancer, n: int, ctx: lb.PickCtx = CTX) -> str:
    out = []
    for _ in range(n):
        s = bal.pick(ctx)
        out.append(s.name if s is not None else "-")
    return "".join(out)


def take(bal: lb.Balancer, s: Server) -> None:
    s.cur_sess += 1
    bal.taken(s)


def release(bal: lb.Balancer, s: Server) -> None:
    s.cur_sess -= 1
    bal.released(s)


def test_all_algorithms_registered() -> None:
    for name in ("roundrobin", "static-rr", "leastconn", "first", "source", "random"):
        assert name in lb.ALGORITHMS
    assert lb.ALGORITHMS["static-rr"].dynamic is False


# ------------------------------------------------------------------ roundrobin
def test_rr_sequence_matches_haproxy() -> None:
    # HAProxy-verified
    bal, _ = build("roundrobin", *weighted(5, 3, 2))
    assert seq(bal, 30) == "abacababacabacababacabacababac"
    bal, _ = build("roundrobin", *weighted(3, 1))
    assert seq(bal, 12) == "aaabaaabaaab"


@pytest.mark.parametrize("ws", [(5, 3, 2), (3, 1), (1, 1, 1), (7, 3, 1, 1), (1, 2, 3, 4, 5, 6)])
def test_rr_distribution_equals_weights_and_is_smooth(ws: tuple[int, ...]) -> None:
    bal, _ = build("roundrobin", *weighted(*ws))
    total = sum(ws)
    out = seq(bal, total * 5)
    for i in range(5):
        cycle = Counter(out[i * total : (i + 1) * total])
        assert [cycle[chr(97 + k)] for k in range(len(ws))] == list(ws)
    # smooth: no server runs longer than its share between two picks of the others
    heaviest = max(ws)
    others = total - heaviest
    longest = max(len(run) for run in _runs(out))
    assert longest <= -(-heaviest // others)


def _runs(s: str) -> list[str]:
    runs, cur = [], s[:1]
    for c in s[1:]:
        if c == cur[-1]:
            cur += c
        else:
            runs.append(cur)
            cur = c
    return [*runs, cur]


def test_rr_weight_and_state_changes_match_haproxy() -> None:
    # HAProxy-verified: set weight / disable server / enable server between picks
    bal, srv = build("roundrobin", *weighted(3, 1))
    out = [seq(bal, 7)]
    srv["b"].set_weight(3)
    bal.update()
    out.append(seq(bal, 13))
    srv["a"].set_admin(FMAINT)
    bal.update()
    out.append(seq(bal, 5))
    srv["a"].clear_admin(FMAINT)
    bal.update()
    out.append(seq(bal, 21))
    srv["a"].set_weight(0)
    bal.update()
    out.append(seq(bal, 6))
    srv["a"].set_weight(2)
    bal.update()
    out.append(seq(bal, 17))
    assert out == [
        "aaabaaa",
        "ababababababa",
        "bbbbb",
        "babababababababababab",
        "bbbbbb",
        "bbababbababbababb",
    ]


def test_rr_weight_change_reflected_after_update() -> None:
    bal, srv = build("roundrobin", *weighted(1, 1))
    assert Counter(seq(bal, 20)) == {"a": 10, "b": 10}
    srv["a"].set_weight(4)
    bal.update()
    seq(bal, 10)  # let the current window drain
    assert Counter(seq(bal, 50)) == {"a": 40, "b": 10}


def test_rr_slowstart_ramp_uses_eweight() -> None:
    bal, srv = build("roundrobin", *weighted(4, 4))
    srv["b"].eweight, srv["b"].eweight16 = 1, 16  # ramping: a quarter of its weight
    bal.update()
    seq(bal, 16)
    c = Counter(seq(bal, 50))
    assert c["a"] == 40 and c["b"] == 10


# ------------------------------------------------------------------ shared behaviour
ALGOS = ["roundrobin", "static-rr", "leastconn", "first", "source", "random"]


@pytest.mark.parametrize("algo", ALGOS)
def test_down_and_maint_servers_skipped(algo: str) -> None:
    bal, srv = build(algo, *weighted(1, 1, 1, maxconn=0))
    srv["b"].set_stopped("check")
    srv["c"].set_admin(FMAINT)
    bal.update()
    for i in range(30):
        s = bal.pick(lb.PickCtx(src=f"10.0.0.{i}"))
        assert s is srv["a"]
        take(bal, s)
    for _ in range(30):
        release(bal, srv["a"])
    srv["b"].set_running()
    srv["c"].clear_admin(FMAINT)
    bal.update()
    names = set()
    for i in range(200):
        s = bal.pick(lb.PickCtx(src=f"10.0.{i}.1"))
        assert s is not None
        names.add(s.name)
        take(bal, s)
        release(bal, s)
    assert names == ({"a"} if algo == "first" else {"a", "b", "c"})


@pytest.mark.parametrize("algo", ALGOS)
def test_backup_only_when_no_active_and_only_first(algo: str) -> None:
    specs = [
        ("a", {"weight": 1}),
        ("b1", {"weight": 1, "backup": True}),
        ("b2", {"weight": 1, "backup": True}),
        ("b3", {"weight": 1, "backup": True}),
    ]
    bal, srv = build(algo, *specs)
    assert {bal.pick(lb.PickCtx(src=f"10.0.0.{i}")).name for i in range(30)} == {"a"}  # type: ignore[union-attr]
    srv["a"].set_stopped()
    bal.update()
    assert bal.using_backup
    assert {bal.pick(lb.PickCtx(src=f"10.0.0.{i}")).name for i in range(30)} == {"b1"}  # type: ignore[union-attr]
    srv["b1"].set_admin(FMAINT)
    bal.update()
    assert {bal.pick(lb.PickCtx(src=f"10.0.0.{i}")).name for i in range(30)} == {"b2"}  # type: ignore[union-attr]
    srv["a"].set_running()
    bal.update()
    assert not bal.using_backup
    assert {bal.pick(lb.PickCtx(src=f"10.0.0.{i}")).name for i in range(30)} == {"a"}  # type: ignore[union-attr]


@pytest.mark.parametrize("algo", ["roundrobin", "static-rr", "leastconn", "source", "random"])
def test_allbackups_uses_every_backup(algo: str) -> None:
    specs = [("a", {"weight": 1}), ("b1", {"weight": 1, "backup": True}), ("b2", {"weight": 1, "backup": True})]
    bal, srv = build(algo, *specs, allbackups=True)
    srv["a"].set_stopped()
    bal.update()
    names = set()
    for i in range(200):
        s = bal.pick(lb.PickCtx(src=f"10.{i}.{i}.{i}"))
        assert s is not None
        names.add(s.name)
        take(bal, s)
        release(bal, s)
    assert names == {"b1", "b2"}


@pytest.mark.parametrize("algo", ALGOS)
def test_full_servers_skipped_and_none_when_all_full(algo: str) -> None:
    bal, srv = build(algo, *weighted(1, 1, 1, maxconn=2))
    ctx = lb.PickCtx(src="10.1.2.3")
    got = []
    for _ in range(6):
        s = bal.pick(ctx)
        if s is None:  # source: the hashed server is full -> wait (backend queue)
            break
        got.append(s)
        take(bal, s)
    if algo == "source":
        assert got == [got[0], got[0]]
        assert bal.pick(ctx) is None
        other = next(s for s in srv.values() if s is not got[0])
        # another client still gets its own server
        assert any(bal.pick(lb.PickCtx(src=f"10.9.9.{i}")) is other for i in range(50))
        return
    if algo == "random":  # may stop early when its draws all land on full servers
        while len(got) < 6:
            s = bal.pick(ctx)
            if s is not None:
                got.append(s)
                take(bal, s)
    assert Counter(s.name for s in got) == {"a": 2, "b": 2, "c": 2}
    for s in srv.values():
        assert s.is_full()
    assert bal.pick(ctx) is None
    release(bal, srv["b"])
    if algo == "random":  # None unless the kept draw is b, the only one with room
        assert {bal.pick(ctx) for _ in range(50)} == {None, srv["b"]}
    else:
        assert bal.pick(ctx) is srv["b"]


@pytest.mark.parametrize("algo", ["roundrobin", "static-rr", "leastconn", "first"])
def test_avoid_prefers_another_server(algo: str) -> None:
    bal, srv = build(algo, *weighted(1, 1))
    for _ in range(10):
        assert bal.pick(CTX, avoid=srv["a"]) is srv["b"]
    srv["b"].set_stopped()
    bal.update()
    assert bal.pick(CTX, avoid=srv["a"]) is srv["a"]  # nothing else: the avoided one


@pytest.mark.parametrize("algo", ALGOS)
def test_nothing_usable_gives_none(algo: str) -> None:
    bal, srv = build(algo, *weighted(1, 1))
    for s in srv.values():
        s.set_stopped()
    bal.update()
    assert bal.pick(lb.PickCtx(src="10.0.0.1")) is None


# ------------------------------------------------------------------ static-rr
def test_static_rr_sequence_matches_haproxy() -> None:
    bal, _ = build("static-rr", *weighted(5, 3, 2))
    assert seq(bal, 30) == "aabacababcaabacababcaabacababc"  # HAProxy-verified


def test_static_rr_ignores_slowstart_ramp() -> None:
    bal, srv = build("static-rr", *weighted(2, 2))
    srv["b"].eweight, srv["b"].eweight16 = 1, 16  # a dynamic algorithm would halve b
    bal.update()
    assert Counter(seq(bal, 40)) == {"a": 20, "b": 20}


def test_server_map_layout_gcd_and_interleave() -> None:
    _, srv = build("roundrobin", *weighted(2, 4, 6))
    m = ServerMap()
    m.set_gcd(list(srv.values()))
    assert m.wmult == 2
    m.rebuild(list(srv.values()))
    assert m.tot == 6
    assert "".join(s.name for s in m.slots) == "acbcbc"  # HAProxy-verified (static-rr 2/4/6)
    assert m.get_hash(7) is srv["c"]  # 7 % 6 = slot 1


# ------------------------------------------------------------------ leastconn
def test_leastconn_sequence_matches_haproxy() -> None:
    # HAProxy-verified: connections kept open ("o"), closed by index ("c")
    bal, srv = build("leastconn", *weighted(3, 1, 2))
    conns: list[Server] = []
    out = []

    def o(n: int = 1) -> None:
        for _ in range(n):
            s = bal.pick(CTX)
            assert s is not None
            take(bal, s)
            conns.append(s)
            out.append(s.name)

    def c(i: int) -> None:
        release(bal, conns[i])

    o(12)
    c(0)
    c(1)
    c(5)
    o(4)
    c(2)
    c(3)
    o(2)
    srv["b"].set_weight(5)
    bal.update()
    o(5)
    assert " ".join(out) == "a b c a c a a c a b c a a b a a c a b b b b b"


def test_leastconn_picks_least_loaded_and_rotates_ties() -> None:
    bal, srv = build("leastconn", *weighted(1, 1, 1))
    # idle servers take turns even when every connection ends at once
    out = []
    for _ in range(9):
        s = bal.pick(CTX)
        assert s is not None
        out.append(s.name)
        take(bal, s)
        release(bal, s)
    assert "".join(out) == "abcabcabc"
    for _ in range(3):
        take(bal, srv["a"])
    take(bal, srv["b"])
    assert bal.pick(CTX) is srv["c"]
    take(bal, srv["c"])
    assert bal.pick(CTX) in (srv["b"], srv["c"])
    take(bal, srv["b"])
    assert bal.pick(CTX) is srv["c"]


def test_leastconn_weights() -> None:
    bal, srv = build("leastconn", *weighted(3, 1))
    for _ in range(40):
        s = bal.pick(CTX)
        assert s is not None
        take(bal, s)
    assert (srv["a"].cur_sess, srv["b"].cur_sess) == (30, 10)


# ------------------------------------------------------------------ first
def test_first_fills_by_id() -> None:
    specs = [
        ("x", {"id": 3, "maxconn": 2}),
        ("y", {"id": 1, "maxconn": 2}),
        ("z", {"id": 2, "maxconn": 1}),
    ]
    bal, srv = build("first", *specs)
    out = []
    for _ in range(6):
        s = bal.pick(CTX)
        out.append(s.name if s else "-")
        if s:
            take(bal, s)
    assert out == ["y", "y", "z", "x", "x", "-"]
    release(bal, srv["y"])
    assert bal.pick(CTX) is srv["y"]


def test_first_without_maxconn_always_first() -> None:
    bal, srv = build("first", *weighted(1, 9, 9))
    for _ in range(20):
        s = bal.pick(CTX)
        assert s is srv["a"]
        take(bal, s)


# ------------------------------------------------------------------ source
IPS = [
    "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.10", "127.1.2.3", "127.10.20.30",
    "127.200.100.50", "127.255.255.254", "127.3.141.59", "127.42.42.42", "127.0.1.0", "127.128.0.1",
]  # fmt: skip

# HAProxy-verified: server picked for each address in IPS
HAPROXY_SOURCE = {
    "map 1/2/3": "cacbcbaacbbc",
    "map 1/1/1": "cabcbbaaabcb",
    "consistent 1/1/1": "bacccbaccbac",
    "consistent ids 5,9,2 weights 2/1/3": "cacccaacccca",
}


@pytest.mark.parametrize(
    "case, ws, ids, hash_type",
    [
        ("map 1/2/3", (1, 2, 3), None, ("map-based", "sdbm", False)),
        ("map 1/1/1", (1, 1, 1), None, ("map-based", "sdbm", False)),
        ("consistent 1/1/1", (1, 1, 1), None, parse_hash_type(["consistent"])),
        ("consistent ids 5,9,2 weights 2/1/3", (2, 1, 3), (5, 9, 2), parse_hash_type(["consistent"])),
    ],
)
def test_source_matches_haproxy(case: str, ws: tuple[int, ...], ids: tuple[int, ...] | None, hash_type: Any) -> None:
    specs = [(chr(97 + i), dict(weight=w, **({"id": ids[i]} if ids else {}))) for i, w in enumerate(ws)]
    bal, _ = build("source", *specs, hash_type=hash_type)
    got = "".join(bal.pick(lb.PickCtx(src=ip)).name for ip in IPS)  # type: ignore[union-attr]
    assert got == HAPROXY_SOURCE[case]


def test_source_key_is_xor_of_words() -> None:
    assert source_key("127.0.0.1") == 0x7F000001
    assert source_key("2001:db8::1") == 0x20010DB8 ^ 1
    assert source_key("::ffff:10.0.0.1") == 0xFFFF ^ 0x0A000001
    assert source_key("fe80::1%eth0") == 0xFE800000 ^ 1
    assert source_key("unix") is None
    assert source_key("") is None


def test_source_stable_and_falls_back_to_rr_without_ip() -> None:
    bal, _ = build("source", *weighted(1, 1, 1))
    for i in range(50):
        ctx = lb.PickCtx(src=f"192.168.{i}.7")
        first = bal.pick(ctx)
        assert all(bal.pick(ctx) is first for _ in range(5))
    assert seq(bal, 6, lb.PickCtx(src="unix")) == "abcabc"
    bal, _ = build("source", *weighted(1, 1, 1), hash_type=("consistent", "sdbm", True))
    assert len(set(seq(bal, 30, lb.PickCtx(src="unix")))) == 3


def test_source_ipv6_map_based() -> None:
    bal, srv = build("source", *weighted(1, 1, 1))
    key = 0x20010DB8 ^ 0x5
    assert bal.pick(lb.PickCtx(src="2001:db8::5")) is srv["abc"[key % 3]]


def test_source_map_is_static_consistent_is_dynamic() -> None:
    bal, _ = build("source", *weighted(1, 1))
    assert not bal.dynamic
    bal, _ = build("source", *weighted(1, 1), hash_type=("consistent", "sdbm", True))
    assert bal.dynamic


# ------------------------------------------------------------------ consistent hashing
def test_consistent_hashing_moves_only_removed_servers_keys() -> None:
    specs = [(f"s{i}", {"weight": w}) for i, w in enumerate((1, 2, 1, 3, 1), 1)]
    bal, srv = build("source", *specs, hash_type=("consistent", "sdbm", True))
    rnd = stdrandom.Random(1)
    ips = [f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}" for _ in range(2000)]
    before = {ip: bal.pick(lb.PickCtx(src=ip)) for ip in ips}
    assert len(set(before.values())) == 5
    srv["s2"].set_stopped()
    bal.update()
    after = {ip: bal.pick(lb.PickCtx(src=ip)) for ip in ips}
    moved = [ip for ip in ips if after[ip] is not before[ip]]
    assert moved and all(before[ip] is srv["s2"] for ip in moved)
    assert all(after[ip] is not srv["s2"] for ip in ips)
    srv["s2"].set_running()
    bal.update()
    assert {ip: bal.pick(lb.PickCtx(src=ip)) for ip in ips} == before


def test_chash_points_per_server() -> None:
    bal, srv = build("source", *weighted(1, 3), hash_type=("consistent", "sdbm", True))
    ring = bal.chash.act  # type: ignore[attr-defined]
    assert len(ring.keys) == 16 * 4
    assert ring.keys == sorted(ring.keys)
    # point j of server id 1 sits at full_hash(1 * 4096 + j)
    assert {n.key for n in ring.nodes if n.srv is srv["a"]} == {full_hash(4096 + j) for j in range(16)}
    srv["b"].set_weight(1)
    bal.update()
    assert len(ring.keys) == 32


def test_chash_lookup_nearest_point() -> None:
    _, srv = build("roundrobin", *weighted(1, 1))
    t = ChashTable()
    t.sync(list(srv.values()), lambda s: 16)
    ring = t.act
    k0 = ring.keys[0]
    assert t.get_hash(ring, k0, None) is ring.nodes[0].srv
    assert t.get_hash(ring, k0, ring.nodes[0].srv) is not ring.nodes[0].srv


def test_chash_server_deleted_at_run_time() -> None:
    bal, srv = build("source", *weighted(1, 1, 1), hash_type=("consistent", "sdbm", True))
    ips = [f"10.0.{i}.{i}" for i in range(256)]
    before = {ip: bal.pick(lb.PickCtx(src=ip)) for ip in ips}
    bal.backend.servers.remove(srv["b"])
    bal.update()
    assert len(bal.chash.act.keys) == 32  # type: ignore[attr-defined]
    for ip in ips:
        s = bal.pick(lb.PickCtx(src=ip))
        assert s is not srv["b"] and (s is before[ip] or before[ip] is srv["b"])


class PathHash(HashBalancer):
    """What ``balance uri`` (no option) will be: hash of the path before '?'."""

    def hash_of(self, ctx: lb.PickCtx) -> int | None:
        return hash_key(ctx.uri.split("?")[0].encode(), self.hash_type)


PATHS = ["/", "/index.html", "/a/b/c", "/img/logo.png", "/api/v1/users/42", "/x?y=1", "/search",
         "/static/app.js", "/favicon.ico", "/health"]  # fmt: skip


@pytest.mark.parametrize(
    "hash_type, want",
    [
        # HAProxy-verified: mode http, balance uri, weights 1/2/3/1, hash-type as given
        (["map-based"], "cdbbcccdcc"),
        (["consistent"], "bdabbcabab"),
    ],
)
def test_hash_balancer_for_l7_keys_matches_haproxy(hash_type: list[str], want: str) -> None:
    be = FakeBackend()
    be.servers = [Server(be, ServerSpec(name=n, weight=w), i) for i, (n, w) in enumerate(zip("abcd", (1, 2, 3, 1)), 1)]
    bal = PathHash(be, (), parse_hash_type(hash_type))
    bal.update()
    assert "".join(bal.pick(lb.PickCtx(uri=p)).name for p in PATHS) == want  # type: ignore[union-attr]


# ------------------------------------------------------------------ random
def test_random_spreads_by_weight() -> None:
    stdrandom.seed(5)
    bal, _ = build(("random", "1"), *weighted(1, 2, 1))
    c = Counter(seq(bal, 4000))
    assert set(c) == {"a", "b", "c"}
    assert 1700 < c["b"] < 2300 and 800 < c["a"] < 1200


def test_random_draws_prefer_least_loaded() -> None:
    stdrandom.seed(7)
    bal, srv = build(("random", "2"), *weighted(1, 1, 1, 1))
    assert bal.draws == 2  # type: ignore[attr-defined]
    for _ in range(10):
        take(bal, srv["a"])
    two = Counter(seq(bal, 2000))
    bal1, srv1 = build(("random", "1"), *weighted(1, 1, 1, 1))
    for _ in range(10):
        take(bal1, srv1["a"])
    one = Counter(seq(bal1, 2000))
    # one draw ignores load (~1/4 to a); two draws only land on a when both draws do (~1/16)
    assert 380 < one["a"] < 620
    assert two["a"] < 220
    balmany, srvm = build(("random", "64"), *weighted(1, 1, 1, 1))
    for name in "abc":
        take(balmany, srvm[name])
    assert seq(balmany, 50) == "d" * 50


def test_random_default_draws() -> None:
    bal, _ = build("random", *weighted(1, 1))
    assert bal.draws == 2  # type: ignore[attr-defined]


# ------------------------------------------------------------------ hash functions
# HAProxy-verified via its converters: path -> sdbm, djb2, wt6, crc32 (and each with avalanche)
HASHES = {
    b"/": (47, 177620, 1886637733, 2043925204, 2118074832, 3725504903, 2250254464, 2724628003),
    b"/index.html": (858007926, 3776231887, 822151038, 3928116034, 4217574924, 1889807916, 2986733765, 571229468),
    b"/0123456789abcdef": (
        1223975287, 2222481750, 2737477933, 2779859956, 2744220189, 1924545091, 836188251, 2066914809,
    ),
}  # fmt: skip


@pytest.mark.parametrize("data", list(HASHES))
def test_hash_functions_match_haproxy(data: bytes) -> None:
    plain = (hash_sdbm(data), hash_djb2(data), hash_wt6(data), hash_crc32(data))
    assert plain + tuple(full_hash(h) for h in plain) == HASHES[data]
    assert hash_key(data, ("consistent", "djb2", True)) == HASHES[data][5]
    assert hash_key(data, ("map-based", "wt6", False)) == HASHES[data][2]


# ------------------------------------------------------------------ keywords
def test_keywords_registered_backend_side() -> None:
    for name in ("balance", "hash-type"):
        kw = SECTION_KEYWORDS.match([name, "x"], "backend")
        assert kw is not None and kw.sections == BE_SIDE
    assert SECTION_KEYWORDS.match(["balance", "x"], "frontend") is None


def _apply(name: str, args: list[str]) -> Proxy:
    p = Proxy("backend", "be")
    kw = SECTION_KEYWORDS.match([name], "backend")
    assert kw is not None and kw.handler is not None
    kw.handler(SimpleNamespace(proxy=p, keyword=name), args)
    return p


@pytest.mark.parametrize(
    "args, want",
    [
        ([], ("roundrobin",)),
        (["roundrobin"], ("roundrobin",)),
        (["static-rr"], ("static-rr",)),
        (["leastconn"], ("leastconn",)),
        (["first"], ("first",)),
        (["source"], ("source",)),
        (["random"], ("random", "2")),
        (["random(5)"], ("random", "5")),
        (["random()"], ("random", "2")),
        (["random(0x10)"], ("random", "16")),
        (["uri", "whole", "len", "10", "depth", "2"], ("uri", "whole", "len", "10", "depth", "2")),
        (["url_param", "userid", "check_post"], ("url_param", "userid", "check_post")),
        (["hdr(Host)", "use_domain_only"], ("hdr", "Host", "use_domain_only")),
        (["rdp-cookie"], ("rdp-cookie", "mstshash")),
        (["rdp-cookie(user)"], ("rdp-cookie", "user")),
        (["hash", "req.cook(sid)"], ("hash", "req.cook(sid)")),
    ],
)
def test_balance_keyword(args: list[str], want: tuple[str, ...]) -> None:
    p = _apply("balance", args)
    assert p.balance == want and p.balance_set


# texts checked with `haproxy -c` (2.6.12) on a listen section holding the line
@pytest.mark.parametrize(
    "args, text",
    [
        (["foo"], ("balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', "
                   "'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.")),
        (["random(x"], "balance random : unexpected character 'x' after argument."),
        (["random(0)"], "balance random : number of draws must be at least 1."),
        (["random(3"], "balance random : missing closing parenthesis."),
        (["uri", "len"], "balance uri : 'len' expects a positive integer (got '')."),
        (["hdr("], "balance hdr requires an http header field name."),
    ],
)  # fmt: skip
def test_balance_keyword_errors(args: list[str], text: str) -> None:
    with pytest.raises(ConfigError) as e:
        _apply("balance", args)
    assert str(e.value) == text


@pytest.mark.parametrize(
    "args, want",
    [
        (["map-based"], ("map-based", "sdbm", False)),
        (["consistent"], ("consistent", "sdbm", True)),
        (["consistent", "sdbm"], ("consistent", "sdbm", False)),
        (["consistent", "djb2", "avalanche"], ("consistent", "djb2", True)),
        (["map-based", "crc32"], ("map-based", "crc32", False)),
        (["map-based", "wt6", "avalanche"], ("map-based", "wt6", True)),
    ],
)
def test_hash_type_keyword(args: list[str], want: tuple[str, str, bool]) -> None:
    assert _apply("hash-type", args).hash_type == want


@pytest.mark.parametrize(
    "args, text",
    [
        (["bogus"], "'hash-type' only supports 'consistent' and 'map-based'."),
        ([], "'hash-type' only supports 'consistent' and 'map-based'."),
        (["consistent", "foo"], "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions."),
        (["map-based", "sdbm", "foo"], "'hash-type' only supports 'avalanche' as a modifier for hash functions."),
        (["avalanche"], ("experimental feature 'hash-type avalanche' is not supported anymore, please use "
                         "'hash-type map-based sdbm avalanche' instead.")),
    ],
)  # fmt: skip
def test_hash_type_keyword_errors(args: list[str], text: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_hash_type(args)
    assert str(e.value) == text


def test_layer7_hash_in_tcp_mode_falls_back() -> None:
    p = Proxy("listen", "l", mode="tcp", balance=parse_balance(["uri"]))
    assert tcp_mode_fallback(p) == (
        "Layer 7 hash not possible for proxy 'l' (needs 'mode http'). Falling back to round robin."
    )
    assert p.balance == ("roundrobin",)
    assert tcp_mode_fallback(Proxy("backend", "b", mode="http", balance=("uri",))) is None
