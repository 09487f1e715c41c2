"""Counter helpers shared by frontends, backends, servers and listeners.

Owns the two non-trivial kinds of statistic HAProxy reports: per-second event rates
(``FreqCtr``: current rate and its maximum, as ``rate``/``rate_max``/``req_rate``) and the
sliding averages over the last 1024 samples (``SwAvg``: ``qtime``/``ctime``/``rtime``/
``ttime``).  Plain counters stay plain integer attributes on their owners.  Pure: reads the
monotonic clock, nothing else.

Counter attribute names used across gproxy (read by stats/columns.py):
  frontend: cur_conn max_conn cum_conn cum_sess cum_req bytes_in bytes_out denied_conn
            denied_req denied_resp failed_req intercepted failed_rewrites internal_errors
            hrsp (list: 1xx 2xx 3xx 4xx 5xx other) conn_rate sess_rate req_rate (FreqCtr)
  backend:  cur_sess max_sess cum_sess cum_lbconn cum_req bytes_in bytes_out denied_req
            denied_resp failed_conns failed_resp retries_count redispatches nbpend max_queue
            cli_aborts srv_aborts connect_attempts reuses failed_rewrites internal_errors
            hrsp sess_rate (FreqCtr) timings (Timings) last_sess down_trans last_change
  server:   cur_sess max_sess cum_sess cum_lbconn bytes_in bytes_out failed_conns failed_resp
            retries redispatches nbpend max_queue cli_aborts srv_aborts connect_attempts
            reuses failed_rewrites internal_errors denied_resp hrsp sess_rate timings last_sess
            down_trans downtime last_change
"""

from __future__ import annotations

import time

_monotonic = time.monotonic


class FreqCtr:
    """Events per second over the current and previous period (HAProxy freq_ctr, 1 s).

    As in HAProxy, a period starts with the first event after an idle time (two periods
    without events), not on a wall-clock second, and only events rotate the periods;
    reads compute what a rotation would give (``freq_ctr_total``)."""

    __slots__ = ("curr", "max", "prev", "start")

    def __init__(self) -> None:
        self.start = -1e9  # far past: the first event opens a period
        self.curr = 0
        self.prev = 0
        self.max = 0

    def _rotate(self, t: float) -> None:
        self.prev = self.curr
        self.curr = 0
        self.start += 1.0
        if t - self.start >= 1.0:  # missed at least two periods
            self.prev = 0
            self.start = t

    def add(self, n: int = 1) -> None:
        # hot path (once per request or connection): one clock read, rate() inlined
        t = _monotonic()
        if t - self.start >= 1.0:
            self._rotate(t)
        curr = self.curr + n
        self.curr = curr
        r = curr + self.prev * (1.0 - (t - self.start))
        if r > self.max:  # max is an int: the same test as int(r) > max, one call fewer
            self.max = int(r)

    def _total_ms(self, t: float, flapping: bool = False) -> int:
        """``freq_ctr_total(ctr, 1000, pend)``: past x ms left in the period + curr x 1000
        (``flapping``: pend < 0, at very low rates the past count alone, x 1000)."""
        remain = self.start + 1.0 - t
        curr, past = self.curr, self.prev
        if remain < 0:
            remain += 1.0
            past = curr if remain >= 0 else 0
            curr = 0
        if flapping and not curr and past <= 1:
            return past * 1000
        return past * int(remain * 1000) + curr * 1000

    def rate(self) -> int:
        """Events over the last second, interpolated like HAProxy's read_freq_ctr()."""
        return self._total_ms(_monotonic(), True) // 1000

    def clear_max(self) -> None:
        self.max = 0

    # ---- rate limits (HAProxy freq_ctr_remain / next_event_delay) ----
    def remain(self, freq: int) -> int:
        """Events that may still happen now without exceeding ``freq`` per second
        (``freq_ctr_remain``): 0 when the limit is reached."""
        avg = self._total_ms(_monotonic()) // 1000
        return freq - avg if avg < freq else 0

    def next_event_delay(self, freq: int) -> float:
        """Seconds until ``remain(freq)`` becomes non-zero (0.0 if it is already).

        HAProxy's ``next_event_delay`` answers "at least 1 ms" while the current period
        is full and its task polls every millisecond; here the moment the counter allows
        the next event is computed from the same arithmetic (the previous period's count
        weighs the part of the period that is left), so a limited listener wakes once."""
        t = _monotonic()
        if self._total_ms(t) < freq * 1000:
            return 0.0
        frac = t - self.start
        prev, curr = self.prev, self.curr
        if frac >= 1.0:  # a rotation is due: read as it would be
            frac -= 1.0
            prev, curr = curr, 0
        if curr < freq and prev:
            # this period: prev * (1 - f) + curr < freq once f > 1 - (freq - curr) / prev
            at = 1.0 - (freq - curr) / prev
            return max(at - frac, 0.0) + 0.002
        # next period: prev' = curr, curr' = 0, allowed once f' > 1 - freq / curr
        at = 1.0 - freq / curr if curr > freq else 0.0
        return (1.0 - frac) + at + 0.002


class SwAvg:
    """Sliding average over the last N samples (HAProxy swrate_add with N=1024)."""

    __slots__ = ("max", "n", "sum")

    def __init__(self, n: int = 1024) -> None:
        self.sum = 0.0
        self.n = n
        self.max = 0

    def add(self, v: int) -> None:
        self.sum = self.sum - self.sum / self.n + v
        if v > self.max:
            self.max = v

    def avg(self, samples: int) -> int:
        """Average, given how many samples were added in total (for the warm-up period)."""
        if samples <= 0:
            return 0
        return int(self.sum / min(samples, self.n))


class Timings:
    """Queue, connect, response and total times of finished sessions, in ms.

    ``add`` only records the sample (it runs once per request); the sliding averages are
    brought up to date, in the order the samples came, when they are read or when 256
    samples are waiting, so the figures are exactly those of folding each sample at once.
    """

    __slots__ = ("_c", "_n", "_pending", "_q", "_r", "_t")

    def __init__(self) -> None:
        self._q = SwAvg()
        self._c = SwAvg()
        self._r = SwAvg()
        self._t = SwAvg()
        self._n = 0
        self._pending: list[tuple[int, int, int, int]] = []

    def add(self, q: int, c: int, r: int, t: int) -> None:
        p = self._pending
        p.append((q, c, r, t))
        if len(p) >= 256:
            self._fold()

    def _fold(self) -> None:
        p = self._pending
        if not p:
            return
        self._pending = []
        self._n += len(p)
        for avg, i in ((self._q, 0), (self._c, 1), (self._r, 2), (self._t, 3)):
            total = avg.sum
            n = avg.n
            mx = avg.max
            for sample in p:
                v = sample[i]
                if v > 0:
                    total += v - total / n
                    if v > mx:
                        mx = v
                else:
                    total -= total / n
            avg.sum = total
            avg.max = mx

    @property
    def q(self) -> SwAvg:
        self._fold()
        return self._q

    @property
    def c(self) -> SwAvg:
        self._fold()
        return self._c

    @property
    def r(self) -> SwAvg:
        self._fold()
        return self._r

    @property
    def t(self) -> SwAvg:
        self._fold()
        return self._t

    @property
    def samples(self) -> int:
        self._fold()
        return self._n

    @samples.setter
    def samples(self, n: int) -> None:
        self._fold()
        self._n = n


def new_hrsp() -> list[int]:
    """HTTP response counters by class: 1xx, 2xx, 3xx, 4xx, 5xx, other."""
    return [0, 0, 0, 0, 0, 0]


def hrsp_index(status: int) -> int:
    c = status // 100
    return c - 1 if 1 <= c <= 5 else 5
