"""``balance roundrobin``: HAProxy's fast weighted round robin (``src/lb_fwrr.c``).

Owns the FWRR state of one backend: per group (active, backup) a "current" tree of
servers ordered by their next position in the time window, plus the "init" and "next"
trees ordered by weight; positions advance by ``total_weight / weight`` per pick with a
remainder carried over, which interleaves servers smoothly (weights 3/1 give
``a a b a``, never bursts).  Weights are HAProxy's effective weights (user weight x 16,
slowstart ramp included), so the sequence of servers is the one HAProxy produces.

``update()`` compares every server with what the trees last saw and applies HAProxy's
incremental transitions (``set_server_status_up/down``, ``update_server_weight``) one
server at a time in declaration order, so a weight change or a server coming back
moves it in the current window the way HAProxy does instead of restarting the cycle.
Saturated servers are skipped and requeued; ``avoid`` is returned only if nothing else
is free.  Pure: no I/O; a pick allocates nothing but Python ints in the common case.
"""

from __future__ import annotations

from bisect import bisect_right
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from . import Balancer, PickCtx, algorithm
from .common import (
    BE_WEIGHT_SCALE,
    SRV_EWGHT_MAX,
    SRV_UWGHT_RANGE,
    U32,
    eff_weight,
    saturated,
)

if TYPE_CHECKING:
    from ..server import Server

_KEY = attrgetter("key")


class _Tree:
    """Stand-in for an eb32 tree: states sorted by ``key``, equal keys in insertion order."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[_RR] = []

    def insert(self, st: _RR) -> None:
        items = self.items
        items.insert(bisect_right(items, st.key, key=_KEY), st)
        st.inq = self


class _RR:
    """FWRR bookkeeping of one server (HAProxy's ``npos``/``lpos``/``rweight``/``lb_tree``)."""

    __slots__ = ("cur_u", "cur_w", "grp", "inq", "key", "lpos", "next_u", "next_w", "npos", "rweight", "srv", "tree")

    def __init__(self, srv: Server, grp: _Group) -> None:
        self.srv = srv
        self.grp = grp
        self.cur_u = self.next_u = False  # usable as the trees know it / as it will be
        self.cur_w = self.next_w = 0  # effective weight (x16)
        self.npos = self.lpos = self.rweight = 0
        self.key = 0
        self.tree: _Tree | None = None  # logical tree (lb_tree), kept while extracted
        self.inq: _Tree | None = None  # tree it is physically in


class _Group:
    """One FWRR group (``struct fwrr_group``)."""

    __slots__ = ("curr", "curr_pos", "curr_weight", "init", "next", "next_weight")

    def __init__(self) -> None:
        self.curr = _Tree()
        self.init = _Tree()
        self.next = _Tree()
        self.curr_pos = self.curr_weight = self.next_weight = 0


def _dequeue(st: _RR) -> None:
    t = st.inq
    if t is not None:
        t.items.remove(st)
        st.inq = None


def _queue_by_weight(tree: _Tree, st: _RR) -> None:
    """Heavier servers first (``fwrr_queue_by_weight``)."""
    st.key = SRV_EWGHT_MAX - st.next_w
    tree.insert(st)
    st.tree = tree


def _queue_srv(st: _RR) -> None:
    """Place ``st`` in the current tree at ``npos``, or in the next one (``fwrr_queue_srv``)."""
    grp = st.grp
    if not st.next_u:
        st.tree = None
    elif st.next_w <= 0 or st.npos >= 2 * grp.curr_weight or st.npos >= grp.curr_weight + grp.next_weight:
        st.npos = (st.npos - grp.curr_weight) & U32
        _queue_by_weight(grp.next, st)
    else:
        st.key = (SRV_UWGHT_RANGE * st.npos + (SRV_EWGHT_MAX + st.rweight - st.next_w) // BE_WEIGHT_SCALE) & U32
        grp.curr.insert(st)
        st.tree = grp.curr


def _get_srv(st: _RR) -> None:
    """Prepare a server taken out of its tree (``fwrr_get_srv``)."""
    grp = st.grp
    if st.tree is grp.init:
        st.npos = st.rweight = 0
    elif st.tree is grp.next:
        st.npos = (st.npos + grp.curr_weight) & U32
    elif st.tree is None:
        st.npos = grp.curr_pos & U32


def _udiv(a: int, b: int) -> int:
    """``int / unsigned`` in C: the int is converted to unsigned first."""
    return (a & U32) // b


def _place_new(st: _RR) -> None:
    grp = st.grp
    st.npos = (grp.curr_pos + _udiv(grp.next_weight + grp.curr_weight - grp.curr_pos, st.next_w)) & U32
    _queue_srv(st)


def _switch_trees(grp: _Group) -> None:
    grp.init, grp.next = grp.next, grp.init
    grp.curr_weight = grp.next_weight
    grp.curr_pos = grp.curr_weight


@algorithm("roundrobin")
class RoundRobin(Balancer):
    """Weighted, dynamic, smooth round robin with HAProxy's exact server sequence."""

    dynamic = True

    def __init__(self, backend: Any, args: tuple[str, ...] = (), hash_type: tuple[str, str, bool] = ("map-based", "sdbm", False)) -> None:
        super().__init__(backend, args, hash_type)
        self.act = _Group()
        self.bck = _Group()
        self._st: list[_RR] = []
        self._full: list[_RR] = []  # reused per pick: servers extracted but not taken

    # ---- state changes ----
    def _rebuild(self) -> None:
        servers = self.backend.servers
        sts = self._st
        if len(servers) != len(sts) or any(st.srv is not s for st, s in zip(sts, servers)):
            self._init(servers)
            return
        for st in sts:
            s = st.srv
            st.next_u = s.usable()
            st.next_w = eff_weight(s)
            if st.next_u == st.cur_u and (not st.next_u or st.next_w == st.cur_w):
                st.cur_w = st.next_w
                continue
            if not st.cur_u:
                self._status_up(st)
            elif not st.next_u:
                self._status_down(st)
            else:
                self._weight_changed(st)
            st.cur_u, st.cur_w = st.next_u, st.next_w

    def _init(self, servers: list[Server]) -> None:
        """``fwrr_init_server_groups``: weights summed, usable servers in "init" by weight."""
        self.act = _Group()
        self.bck = _Group()
        sts = []
        for s in servers:
            st = _RR(s, self.bck if s.backup else self.act)
            st.cur_u = st.next_u = s.usable()
            st.cur_w = st.next_w = eff_weight(s)
            sts.append(st)
        self._st = sts
        for grp in (self.act, self.bck):
            tot = sum(st.next_w for st in sts if st.grp is grp and st.next_u)
            grp.curr_pos = grp.curr_weight = grp.next_weight = tot
        for st in sts:
            if st.cur_u:
                _queue_by_weight(st.grp.init, st)

    @staticmethod
    def _status_up(st: _RR) -> None:
        grp = st.grp
        grp.next_weight += st.next_w
        _get_srv(st)
        _place_new(st)

    @staticmethod
    def _status_down(st: _RR) -> None:
        st.grp.next_weight -= st.cur_w
        _dequeue(st)
        st.tree = None

    @staticmethod
    def _weight_changed(st: _RR) -> None:
        """``fwrr_update_server_weight`` for a server that stays usable."""
        grp = st.grp
        grp.next_weight = grp.next_weight - st.cur_w + st.next_w
        if st.tree is grp.init:
            _dequeue(st)
            _queue_by_weight(grp.init, st)
        elif st.tree is None:
            _dequeue(st)
            _get_srv(st)
            _place_new(st)
        else:
            _get_srv(st)
            if st.next_w > 0:
                prev_next = st.npos
                step = grp.next_weight // st.next_w
                st.npos = (st.lpos + step) & U32
                st.rweight = 0
                st.npos = min(st.npos, prev_next)
                if st.npos < grp.curr_pos + 2:
                    st.npos = (grp.curr_pos + step) & U32
            else:
                st.npos = (grp.curr_pos + grp.curr_weight) & U32
            _dequeue(st)
            _queue_srv(st)

    # ---- pick ----
    def _choose(self, ctx: PickCtx, avoid: Server | None) -> Server | None:
        if self.using_backup:
            if not self.backend.allbackups:
                s = self.servers[0]  # only the first backup: no rotation
                return None if saturated(s) else s
            grp = self.bck
        else:
            grp = self.act
        switched = False
        avoided: _RR | None = None
        chosen: _RR | None = None
        full = self._full
        while True:
            if not grp.curr_weight:
                grp.curr_pos = grp.curr_weight = grp.next_weight
            # the next server of the current tree, or the heaviest of "init" if better
            # placed (fwrr_get_server_from_group), its position updated (fwrr_update_position)
            # and taken out of its tree; inlined: this runs once per request
            curr = grp.curr.items
            st = curr[0] if curr else None
            if st is None or not st.cur_w or st.npos > grp.curr_pos:
                init = grp.init.items
                if init and init[0].cur_w:
                    st = init[0]
                    st.npos = st.rweight = 0
            if st is None:
                if switched:
                    chosen = avoided
                    break
                switched = True
                _switch_trees(grp)
                continue
            w = st.cur_w
            if w:
                if not st.npos:
                    st.npos = grp.curr_pos & U32
                st.lpos = st.npos
                nw = grp.next_weight & U32
                st.npos = (st.npos + nw // w) & U32
                st.rweight += nw % w
                if st.rweight >= w:
                    st.rweight -= w
                    st.npos = (st.npos + 1) & U32
            t = st.inq
            if t is not None:
                t.items.remove(st)
                st.inq = None
            grp.curr_pos += 1
            srv = st.srv
            if not srv.maxconn or not saturated(srv):
                if srv is not avoid or avoided is not None:
                    chosen = st
                    break
                avoided = st
            full.append(st)
        if chosen is not None:
            _queue_srv(chosen)
        if full:
            # newest first, as HAProxy's chained list of extracted servers
            if switched:
                for i in range(len(full) - 1, -1, -1):
                    if full[i] is not chosen:
                        _queue_by_weight(grp.init, full[i])
            else:
                for i in range(len(full) - 1, -1, -1):
                    if full[i] is not chosen:
                        _queue_srv(full[i])
            full.clear()
        return chosen.srv if chosen is not None else None
