"""counters.Timings folds its samples lazily: the figures must be those of folding each
sample as it comes (HAProxy's swrate_add over 1024 samples)."""

import random

from gproxy.counters import Timings


def _eager(samples: list[tuple[int, int, int, int]]) -> list[tuple[float, int]]:
    out = []
    for i in range(4):
        total, mx = 0.0, 0
        for s in samples:
            v = s[i]
            if v > 0:
                total += v - total / 1024
                mx = max(mx, v)
            else:
                total -= total / 1024
        out.append((total, mx))
    return out


def test_lazy_fold_matches_eager() -> None:
    rnd = random.Random(7)
    t = Timings()
    samples = []
    for n in range(3000):
        s = (rnd.choice([-1, 0, rnd.randint(0, 50)]), rnd.randint(-1, 9), rnd.randint(0, 500), rnd.randint(1, 900))
        samples.append(s)
        t.add(*s)
        if n in (0, 255, 256, 1023, 1500):  # reads in the middle fold what is pending
            assert t.samples == n + 1
    got = [(a.sum, a.max) for a in (t.q, t.c, t.r, t.t)]
    assert got == _eager(samples)
    assert t.samples == 3000
    assert t.r.avg(t.samples) == int(_eager(samples)[2][0] / 1024)


def test_clear_resets_after_pending() -> None:
    t = Timings()
    t.add(1, 2, 3, 4)
    t.samples = 0
    t.add(5, 5, 5, 5)
    assert t.samples == 1
    assert t.t.max == 5
