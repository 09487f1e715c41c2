"""Runtime servers: their two kinds of state, effective weight and counters.

Health checks write only the operational state (``set_running`` / ``set_stopped``);
operators only the admin flags (``set_admin`` / ``clear_admin``).  The effective state is
derived, and every change goes through ``commit()``, which tells the backend's balancer and
the event subscribers (log lines, metrics).  Counters are plain attributes read at scrape
time.  No socket I/O here.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .counters import FreqCtr, Timings, new_hrsp

if TYPE_CHECKING:
    from .backend import Backend
    from .config.model import ServerSpec

# operational states (HAProxy SRV_ST_*)
STOPPED, STARTING, RUNNING, STOPPING = 0, 1, 2, 3
# admin flags (HAProxy SRV_ADMF_*)
FMAINT, IMAINT, CMAINT, FDRAIN, IDRAIN, RMAINT, HMAINT = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40
MAINT_MASK = FMAINT | IMAINT | CMAINT | RMAINT | HMAINT
DRAIN_MASK = FDRAIN | IDRAIN

#: event subscribers: fn(server, event, text) with event in 'up', 'down', 'maint', 'ready', 'drain'
Subscriber = Callable[["Server", str, str], None]


class Server:
    """One ``server`` line of a backend at run time."""

    def __init__(self, backend: Backend, spec: ServerSpec, sid: int) -> None:
        self.backend = backend
        self.spec = spec
        self.name = spec.name
        self.id = spec.id if spec.id is not None else sid
        self.addr = spec.address  # values.Address
        self.host = spec.address.host if spec.address else ""
        self.port = spec.address.port if spec.address else 0
        self.sockaddr: Any = None  # resolved (host, port) tuple for connect, set by runtime
        self.family = 2  # socket.AF_INET
        self.backup = spec.backup
        self.iweight = spec.weight  # initial weight
        self.uweight = spec.weight  # weight set by the operator
        self.eweight = spec.weight  # effective weight in user units (slowstart ramp applied)
        self.eweight16 = spec.weight * 16  # the same in HAProxy's x16 scale, used by balancers
        self.maxconn = spec.maxconn
        self.minconn = spec.minconn
        self.maxqueue = spec.maxqueue
        self.slowstart = spec.slowstart
        self.cookie = spec.cookie
        # state
        self.op_state = RUNNING
        self.admin = FMAINT if spec.disabled else 0
        self.last_change = time.time()
        self.down_since: float | None = None
        self.downtime = 0.0
        self.ramp_start: float | None = None  # monotonic start of slowstart ramp
        self.check: Any = None  # check.Check when 'check' is set
        # counters (plain attributes, read at scrape time)
        self.cur_sess = 0
        self.max_sess = 0
        self.cum_sess = 0
        self.cum_lbconn = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.failed_conns = 0
        self.failed_resp = 0
        self.retries = 0
        self.redispatches = 0
        self.cli_aborts = 0
        self.srv_aborts = 0
        self.down_trans = 0
        self.nbpend = 0  # sessions waiting in this server's queue
        self.queue: deque[Any] = deque()  # their wake-up events, oldest first
        self.queue_idx = 0  # sessions served from this queue so far (HAProxy queue.idx, for %sq)
        self.max_queue = 0
        self.last_sess = 0.0
        self.connect_attempts = 0
        self.reuses = 0
        self.failed_rewrites = 0
        self.internal_errors = 0
        self.denied_resp = 0
        self.hrsp = new_hrsp()
        self.sess_rate = FreqCtr()
        self.timings = Timings()
        self.sessions: set[Any] = set()  # live sessions (for shutdown-sessions)
        self.subscribers: list[Subscriber] = []

    # ----- derived state -------------------------------------------------
    @property
    def maint(self) -> bool:
        return bool(self.admin & MAINT_MASK)

    @property
    def drain(self) -> bool:
        return bool(self.admin & DRAIN_MASK)

    @property
    def running(self) -> bool:
        """Operationally up (STARTING and STOPPING still count as up)."""
        return self.op_state != STOPPED and not self.maint

    def usable(self) -> bool:
        """May receive load-balanced traffic now (HAProxy ``srv_willbe_usable``)."""
        return self.op_state != STOPPED and not self.admin and self.eweight > 0 and self.op_state != STOPPING

    def dyn_maxconn(self) -> int:
        """maxconn, ramped during slowstart; 0 = unlimited."""
        if not self.maxconn:
            return 0
        if self.ramp_start is not None and self.slowstart:
            frac = (time.monotonic() - self.ramp_start) * 1000.0 / self.slowstart
            if frac < 1.0:
                return max(1, int(self.maxconn * frac))
        return self.maxconn

    def is_full(self) -> bool:
        mc = self.dyn_maxconn()
        return bool(mc) and self.cur_sess >= mc

    def status_text(self) -> str:
        """Stats ``status`` column (the column table owns HAProxy's rules)."""
        from .stats.columns import server_status

        return server_status(self)

    # ----- state changes -------------------------------------------------
    def set_running(self, reason: str = "") -> None:
        if self.op_state in (RUNNING, STARTING):
            return
        self.op_state = STARTING if self.slowstart else RUNNING
        self._changed("up", reason)

    def set_stopped(self, reason: str = "") -> None:
        if self.op_state == STOPPED:
            return
        self.op_state = STOPPED
        self._changed("down", reason)

    def set_stopping(self, reason: str = "") -> None:
        if self.op_state == STOPPING:
            return
        self.op_state = STOPPING
        self._changed("nolb", reason)

    def set_admin(self, flag: int, reason: str = "") -> None:
        if self.admin & flag:
            return
        was_maint = self.maint
        self.admin |= flag
        if flag & MAINT_MASK and not was_maint:
            if self.check is not None:
                self.check.maint_enter()
            self._changed("maint", reason)
        elif flag & DRAIN_MASK:
            self._changed("drain", reason)

    def clear_admin(self, flag: int, reason: str = "") -> None:
        if not self.admin & flag:
            return
        was_maint = self.maint
        self.admin &= ~flag
        if was_maint and not self.maint:
            if self.check is not None and self.check.configured:
                self.check.maint_leave()  # HAProxy: checked servers come back up at once
                self.op_state = RUNNING
            if self.slowstart and self.op_state == RUNNING:
                self.op_state = STARTING
            self._changed("ready", reason)
        elif flag & DRAIN_MASK and not self.drain:
            self._changed("undrain", reason)

    def set_weight(self, weight: int) -> None:
        self.uweight = weight
        self.update_eweight()
        self.commit()

    def update_eweight(self) -> bool:
        """Recompute the effective weight (slowstart ramp). Returns True when the ramp is over."""
        done = True
        w16 = self.uweight * 16
        if self.op_state == STARTING and self.slowstart and self.ramp_start is not None:
            elapsed = int((time.monotonic() - self.ramp_start) * 1000)
            if elapsed < self.slowstart:
                done = False
                # HAProxy server_recalc_eweight(): (uweight*16*elapsed + slowstart - 1) / slowstart, at least 1
                w16 = max(1, (w16 * elapsed + self.slowstart - 1) // self.slowstart) if w16 else 0
            else:
                self.op_state = RUNNING
        self.eweight16 = w16
        self.eweight = (w16 + 15) // 16
        return done

    def _changed(self, event: str, reason: str) -> None:
        now = time.time()
        was_down = self.down_since is not None
        if event in ("down", "maint"):
            if not was_down:
                self.down_since = now
            self.down_trans += 1 if event == "down" else 0
            self.ramp_start = None
        elif event in ("up", "ready", "undrain") and self.op_state != STOPPED and not self.maint:
            if was_down and self.down_since is not None:
                self.downtime += now - self.down_since
            self.down_since = None
            self.ramp_start = time.monotonic() if self.op_state == STARTING else None
        self.last_change = now
        self.update_eweight()
        self.commit(event, reason)

    def commit(self, event: str | None = None, reason: str = "") -> None:
        """The one place a state or weight change becomes visible: balancer, then subscribers."""
        self.backend.server_changed(self)
        if event is not None:
            for fn in self.subscribers:
                fn(self, event, reason)

    def __repr__(self) -> str:
        return f"<Server {self.backend.name}/{self.name}>"
