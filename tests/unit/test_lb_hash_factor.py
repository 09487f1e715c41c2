"""``hash-balance-factor`` (bounded-load consistent hashing) and the session rate limits'
frequency counter arithmetic, without sockets.

The eligibility figures follow HAProxy 2.6's ``chash_server_is_eligible`` (lb_chash.c):
``ceil((backend sessions + 1) x factor / 100)`` slots, a whole number per unit of
effective weight (user weight x 16), the remainder shared by position in the group, at
least one each.  The counter figures follow ``freq_ctr_total``/``freq_ctr_remain``
(freq_ctr.h): a period opens with the first event after an idle time; during the next
one the previous count weighs the milliseconds left.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import gproxy.lb.all  # noqa: F401 - registers every algorithm
from gproxy import counters, lb
from gproxy.config.model import ServerSpec
from gproxy.counters import FreqCtr
from gproxy.lb.hashing import chash_eligible
from gproxy.server import Server

pytestmark = pytest.mark.timeout(10)


# ------------------------------------------------------------------ the arithmetic
@pytest.mark.parametrize(
    ("be_served", "factor", "weights", "slots"),
    [
        (0, 125, (16, 16, 16), (1, 1, 1)),  # ceil(1.25) = 2 slots, none whole: at least one each
        (1, 125, (16, 16, 16), (1, 1, 1)),  # ceil(2.5) = 3
        (2, 125, (16, 16, 16), (1, 1, 2)),  # ceil(3.75) = 4: the remainder by position
        (8, 125, (16, 16, 16), (4, 4, 4)),  # ceil(11.25) = 12
        (3, 200, (16, 48), (2, 6)),  # 8 slots, shared 1:3
        (20, 150, (16,), (32,)),  # 32 slots, 2 per unit of weight
        (9, 101, (16, 32, 16), (2, 6, 3)),  # ceil(10.1) = 11: 176//64, 528//64 - 2, 704//64 - 8
    ],
)
def test_slots_per_server(be_served, factor, weights, slots):
    tot = sum(weights)
    cum = 0
    for w, want in zip(weights, slots):
        # eligible while serving fewer than its slots
        assert chash_eligible(want - 1, w, cum, be_served, tot, factor)
        assert not chash_eligible(want, w, cum, be_served, tot, factor)
        cum += w


def test_slots_sum_to_the_total_when_none_is_raised_to_one():
    weights = (16, 32, 48, 16)
    tot = sum(weights)
    for be_served in range(0, 200, 7):
        for factor in (101, 125, 150, 175, 300):
            total = ((be_served + 1) * factor + 99) // 100
            got, cum = 0, 0
            for w in weights:
                n = 0
                while chash_eligible(n, w, cum, be_served, tot, factor):
                    n += 1
                got += n
                cum += w
            assert got == total or (got > total and total < len(weights))


# ------------------------------------------------------------------ on the ring
class FakeBackend:
    def __init__(self, factor: int) -> None:
        self.name = "be"
        self.servers: list[Server] = []
        self.allbackups = False
        self.server_changed = lambda s: None
        self.spec = SimpleNamespace(hash_balance_factor=factor)


def build(factor: int, n: int = 3):
    be = FakeBackend(factor)
    for sid in range(1, n + 1):
        be.servers.append(Server(be, ServerSpec(name=f"s{sid}"), sid))
    bal = lb.make(be, ("source",), ("consistent", "sdbm", True))
    bal.update()
    return bal, be.servers


def test_loaded_home_server_spills_to_the_next_on_the_ring():
    bal, _ = build(125)
    ctx = lb.PickCtx(src="10.1.2.3")
    home = bal.pick(ctx)
    assert home is not None
    home.cur_sess = 1  # one session: 3 slots for 2 sessions, one each -> home is full
    spill = bal.pick(ctx)
    assert spill is not None and spill is not home
    # the walk goes on from the home point: the same walk as avoiding the home server
    ring = bal.chash.act
    assert spill is bal.chash.get_hash(ring, bal.hash_of(ctx), home)
    spill.cur_sess = 1  # 2 sessions: 4 slots, the third server has 2 of them
    third = bal.pick(ctx)
    assert third not in (home, spill)
    home.cur_sess = 0
    assert bal.pick(ctx) is home  # back home once it has room


def test_without_factor_the_home_server_keeps_every_session():
    bal, _ = build(0)
    ctx = lb.PickCtx(src="10.1.2.3")
    home = bal.pick(ctx)
    home.cur_sess = 50
    assert bal.pick(ctx) is home


def test_map_based_ignores_the_factor():
    be = FakeBackend(150)
    for sid in range(1, 4):
        be.servers.append(Server(be, ServerSpec(name=f"s{sid}"), sid))
    bal = lb.make(be, ("source",), ("map-based", "sdbm", False))
    bal.update()
    ctx = lb.PickCtx(src="10.1.2.3")
    home = bal.pick(ctx)
    home.cur_sess = 50
    assert bal.pick(ctx) is home


def test_every_server_full_still_returns_one():
    bal, servers = build(125)
    for s in servers:
        s.cur_sess = 10
    assert bal.pick(lb.PickCtx(src="10.9.9.9")) in servers


# ------------------------------------------------------------------ rate counter
@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(counters, "_monotonic", lambda: now[0])
    return now


def test_burst_then_one_every_period_over_rate(clock):
    c = FreqCtr()
    assert c.remain(20) == 20 and c.next_event_delay(20) == 0.0
    for _ in range(20):
        c.add()
    assert c.remain(20) == 0
    # the whole first period, then 1 ms into the next one (prev weighs 999/1000)
    d = c.next_event_delay(20)
    assert 1.0 < d < 1.005
    clock[0] = 101.0
    assert c.remain(20) == 0
    clock[0] = 100.0 + d
    assert c.remain(20) == 1
    c.add()
    # then one every 50 ms
    d2 = c.next_event_delay(20)
    assert 0.045 < d2 < 0.055
    clock[0] += d2
    assert c.remain(20) == 1


def test_remain_is_the_rate_budget(clock):
    c = FreqCtr()
    for _ in range(7):
        c.add()
    assert c.remain(10) == 3
    clock[0] = 100.5  # same period
    assert c.remain(10) == 3
    clock[0] = 101.5  # next period: 7 x 500 ms left of 1000 -> 3.5 -> 3 counted
    assert c.remain(10) == 7


def test_rate_reads_like_read_freq_ctr(clock):
    c = FreqCtr()
    for _ in range(20):
        c.add()
    assert c.rate() == 20
    clock[0] = 101.5
    assert c.rate() == 10
    clock[0] = 102.5
    assert c.rate() == 0
    # flapping correction: one event, then nothing: reads 1 for the next period
    c2 = FreqCtr()
    c2.add()
    clock[0] = 103.7
    assert c2.rate() == 1


def test_idle_counter_opens_a_period_at_the_next_event(clock):
    c = FreqCtr()
    c.add()
    clock[0] = 105.3  # long idle: the period starts now, not on a whole second
    c.add()
    assert c.start == 105.3 and c.prev == 0 and c.curr == 1
    clock[0] = 106.2
    assert c.remain(1) == 0  # still in the period opened at 105.3
