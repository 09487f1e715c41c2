"""``balance leastconn``: HAProxy's fast weighted least connections (``src/lb_fwlc.c``).

Owns one ordered list per group (active, backup) standing in for HAProxy's eb32 tree:
servers sorted by ``(inflight + 1) * 4096 / effective_weight`` where ``inflight`` is
current sessions plus queued ones, and 0 for an idle server, so idle servers always come
first.  Equal keys keep insertion order and a server is re-inserted (behind its equals)
whenever its key changes in ``taken``/``released``: this is what rotates the ties, as in
HAProxy.  The pick walks the list from the front to the first server with a free slot.

Dynamic: weights (slowstart ramp included) are HAProxy's effective weights, user weight
x 16; ``update()`` applies HAProxy's up/down/weight transitions one server at a time.
Pure: no I/O; a pick walks a list and allocates nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from . import Balancer, PickCtx, algorithm
from .common import SRV_EWGHT_MAX, eff_weight, saturated

if TYPE_CHECKING:
    from ..server import Server

_KEY = attrgetter("key")


class _LC:
    """A server's place in the least-connections order."""

    __slots__ = ("cur_u", "cur_w", "inq", "key", "srv", "tree")

    def __init__(self, srv: Server, tree: list[_LC]) -> None:
        self.srv = srv
        self.tree = tree  # the group's list (active or backup)
        self.key = 0
        self.inq = False
        self.cur_u = False
        self.cur_w = 0


def _key(st: _LC, w: int) -> int:
    s = st.srv
    inflight = s.cur_sess + s.nbpend
    return (inflight + 1) * SRV_EWGHT_MAX // (w or 1) if inflight else 0


def _queue(st: _LC, w: int) -> None:
    st.key = _key(st, w)
    t = st.tree
    t.insert(bisect_right(t, st.key, key=_KEY), st)
    st.inq = True


def _dequeue(st: _LC) -> None:
    if st.inq:
        st.tree.remove(st)
        st.inq = False


@algorithm("leastconn")
class LeastConn(Balancer):
    """Fewest (sessions + queued) / weight; round robin among equals."""

    dynamic = True

    def __init__(self, backend: Any, args: tuple[str, ...] = (), hash_type: tuple[str, str, bool] = ("map-based", "sdbm", False)) -> None:
        super().__init__(backend, args, hash_type)
        self.act: list[_LC] = []
        self.bck: list[_LC] = []
        self._st: list[_LC] = []
        self._by_srv: dict[Server, _LC] = {}

    def _rebuild(self) -> None:
        servers = self.backend.servers
        sts = self._st
        if len(servers) != len(sts) or any(st.srv is not s for st, s in zip(sts, servers)):
            self.act, self.bck = [], []
            sts = self._st = [_LC(s, self.bck if s.backup else self.act) for s in servers]
            self._by_srv = {st.srv: st for st in sts}
        for st in sts:
            s = st.srv
            new_u = s.usable()
            new_w = eff_weight(s)
            if new_u == st.cur_u and (not new_u or new_w == st.cur_w):
                st.cur_w = new_w
                continue
            if new_u:
                # up, or a weight change: (re)queue behind the servers with the same key
                _dequeue(st)
                _queue(st, new_w)
            else:
                _dequeue(st)
            st.cur_u, st.cur_w = new_u, new_w

    def _reposition(self, srv: Server) -> None:
        """``fwlc_srv_reposition``: move the server when its key changed."""
        st = self._by_srv.get(srv)
        if st is None or not st.cur_u:
            return
        k = _key(st, st.cur_w)
        if st.inq and st.cur_w and st.key == k:
            return
        _dequeue(st)
        t = st.tree
        st.key = k
        t.insert(bisect_right(t, k, key=_KEY), st)
        st.inq = True

    taken = _reposition
    released = _reposition

    def _choose(self, ctx: PickCtx, avoid: Server | None) -> Server | None:
        if self.using_backup:
            if not self.backend.allbackups:
                s = self.servers[0]  # only the first backup
                return None if saturated(s) else s
            tree = self.bck
        else:
            tree = self.act
        avoided = None
        for st in tree:
            s = st.srv
            if not saturated(s):
                if s is not avoid:
                    return s
                avoided = s
        return avoided
