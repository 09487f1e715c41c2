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
    """Events per second over the current and previous second (HAProxy freq_ctr)."""

    __slots__ = ("curr", "curr_sec", "max", "prev")

    def __init__(self) -> None:
        self.curr_sec = int(time.monotonic())
        self.curr = 0
        self.prev = 0
        self.max = 0

    def _rotate(self, now: int) -> None:
        if now != self.curr_sec:
            self.prev = self.curr if now == self.curr_sec + 1 else 0
            self.curr = 0
            self.curr_sec = now

    def add(self, n: int = 1) -> None:
        # hot path (once per request or connection): one clock read, rate() inlined
        t = _monotonic()
        now = int(t)
        if now != self.curr_sec:
            self._rotate(now)
        curr = self.curr + n
        self.curr = curr
        r = int(curr + self.prev * (1.0 - (t - now)))
        if r > self.max:
            self.max = r

    def rate(self) -> int:
        """Events over the last second, interpolated like HAProxy's read_freq_ctr()."""
        t = time.monotonic()
        now = int(t)
        if now != self.curr_sec:
            self._rotate(now)
        frac = t - now
        return int(self.curr + self.prev * (1.0 - frac))

    def clear_max(self) -> None:
        self.max = 0


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
    """Queue, connect, response and total times of finished sessions, in ms."""

    __slots__ = ("c", "q", "r", "samples", "t")

    def __init__(self) -> None:
        self.q = SwAvg()
        self.c = SwAvg()
        self.r = SwAvg()
        self.t = SwAvg()
        self.samples = 0

    def add(self, q: int, c: int, r: int, t: int) -> None:
        # SwAvg.add inlined (once per request): same arithmetic, fewer calls
        self.samples += 1
        a = self.q
        if q > 0:
            a.sum += q - a.sum / a.n
            if q > a.max:
                a.max = q
        else:
            a.sum -= a.sum / a.n
        a = self.c
        if c > 0:
            a.sum += c - a.sum / a.n
            if c > a.max:
                a.max = c
        else:
            a.sum -= a.sum / a.n
        a = self.r
        if r > 0:
            a.sum += r - a.sum / a.n
            if r > a.max:
                a.max = r
        else:
            a.sum -= a.sum / a.n
        a = self.t
        if t > 0:
            a.sum += t - a.sum / a.n
            if t > a.max:
                a.max = t
        else:
            a.sum -= a.sum / a.n


def new_hrsp() -> list[int]:
    """HTTP response counters by class: 1xx, 2xx, 3xx, 4xx, 5xx, other."""
    return [0, 0, 0, 0, 0, 0]


def hrsp_index(status: int) -> int:
    c = status // 100
    return c - 1 if 1 <= c <= 5 else 5
