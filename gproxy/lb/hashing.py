"""Hash functions and the two hash lookups HAProxy uses: the weighted map and the ring.

Owns, bit for bit as HAProxy 2.6 computes them (``src/hash.c``, ``full_hash`` in
``intops.h``, ``src/lb_map.c``, ``src/lb_chash.c``):

* the hash functions ``sdbm`` (default), ``djb2``, ``wt6``, ``crc32`` and the
  ``avalanche`` modifier (Bob Jenkins' full-avalanche integer hash); ``hash_key`` applies
  a backend's ``hash-type`` to a key;
* ``ServerMap``: the map-based table (``server = map[hash % total_weight]``, weights
  divided by their GCD, HAProxy's interleaved layout) and its static round robin walk;
* ``ChashTable``: the consistent-hash ring (``weight x 16`` points per server, point
  ``j`` of server id ``puid`` at ``full_hash(puid * 4096 + j)``), nearest-point lookup,
  and the ring walk used as round-robin fall-back;
* ``HashBalancer``: the base of every hash-keyed algorithm (``source`` here, later
  ``uri``, ``url_param``, ``hdr``...): a subclass only says how to get the 32-bit hash
  from the request (``hash_of``), or None when the key is missing (round-robin fall-back).

``hash-balance-factor`` (consistent hashing with bounded loads) is ``chash_eligible``:
HAProxy's ``chash_server_is_eligible`` arithmetic; a ring lookup skips the servers it
refuses and walks on to the next point.

Where HAProxy would queue a session on the hashed server because it is full, a lookup
here returns None instead: the session waits in the backend queue, and picking again
once a slot frees lands on the same server.

Pure: no I/O, never yields.  Lookups allocate nothing beyond Python ints; tables are
rebuilt in ``update()``.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from math import gcd
from typing import TYPE_CHECKING, Any

from . import Balancer, PickCtx
from .common import BE_WEIGHT_SCALE, SRV_EWGHT_RANGE, U32, cdiv, eff_weight, saturated

if TYPE_CHECKING:
    from ..server import Server

HashType = tuple[str, str, bool]

# --------------------------------------------------------------------------- functions


def hash_sdbm(data: bytes) -> int:
    """``h = c + (h << 6) + (h << 16) - h`` over the bytes, 32-bit (HAProxy's default)."""
    h = 0
    for c in data:
        h = (c + (h << 6) + (h << 16) - h) & U32
    return h


def hash_djb2(data: bytes) -> int:
    """``h = h * 33 + c`` from 5381, 32-bit."""
    h = 5381
    for c in data:
        h = ((h << 5) + h + c) & U32
    return h


def hash_wt6(data: bytes) -> int:
    """Willy Tarreau's 6-bit-rotating hash (``hash_wt6``)."""
    h0 = 0xA53C965A
    h1 = 0x5CA6953A
    step0 = 6
    step1 = 18
    for t in data:
        h0 = ~(h0 ^ t) & U32
        h1 = ~(h1 + t) & U32
        t = ((h1 << step0) | (h1 >> (32 - step0))) & U32
        h1 = ((h0 << step1) | (h0 >> (32 - step1))) & U32
        h0 = t
        t = ((h0 >> 16) ^ h1) & 0xFFFF
        step0 = t & 0x1F
        step1 = t >> 11
    return h0 ^ h1


def hash_crc32(data: bytes) -> int:
    """IEEE CRC-32 (reflected 0xedb88320, init and final inversion) = zlib's."""
    return zlib.crc32(data) & U32


def full_hash(a: int) -> int:
    """Bob Jenkins' full-avalanche 32-bit integer hash times 3221225473 (``avalanche``)."""
    a &= U32
    a = ((a + 0x7ED55D16) + (a << 12)) & U32
    a = ((a ^ 0xC761C23C) ^ (a >> 19)) & U32
    a = ((a + 0x165667B1) + (a << 5)) & U32
    a = ((a + 0xD3A2646C) ^ (a << 9)) & U32
    a = ((a + 0xFD7046C5) + (a << 3)) & U32
    a = ((a ^ 0xB55A4F09) ^ (a >> 16)) & U32
    return (a * 3221225473) & U32


HASH_FUNCTIONS: dict[str, Callable[[bytes], int]] = {
    "sdbm": hash_sdbm,
    "djb2": hash_djb2,
    "wt6": hash_wt6,
    "crc32": hash_crc32,
}


def hash_key(data: bytes, hash_type: HashType) -> int:
    """HAProxy's ``gen_hash`` then ``full_hash`` when ``avalanche``: the 32-bit lookup key."""
    h = HASH_FUNCTIONS[hash_type[1]](data)
    return full_hash(h) if hash_type[2] else h


# ---------------------------------------------------------------------- the server map


class ServerMap:
    """HAProxy's map (``lb_map.c``): ``tot`` slots, server ``s`` in ``weight(s)`` of them.

    Weights are user weights divided (rounding up) by the GCD of all the backend's
    initial weights (``init_server_map``).  The layout is ``recalc_server_map``'s: at
    each slot every server earns its weight, the best score wins (earliest declared on
    ties) and pays ``tot``, which interleaves servers smoothly.
    """

    __slots__ = ("_sig", "rr_idx", "slots", "tot", "wmult")

    def __init__(self) -> None:
        self.slots: list[Server] = []
        self.tot = 0
        self.rr_idx = 0
        self.wmult = 1
        self._sig: list[tuple[Server, int]] | None = None

    def set_gcd(self, servers: list[Server]) -> None:
        """``lbprm.wmult``: GCD of the non-zero initial weights (1 if none)."""
        g = 0
        for s in servers:
            if s.iweight:
                g = gcd(g, s.iweight)
        self.wmult = g or 1

    def weight(self, s: Server) -> int:
        """Map weight of a usable server (static: user weight, no slowstart ramp)."""
        w = s.uweight
        return (w + self.wmult - 1) // self.wmult if w > 0 else 0

    def rebuild(self, group: list[Server]) -> None:
        """Recompute the map over ``group`` (the eligible servers in declaration order)."""
        sig = [(s, self.weight(s)) for s in group]
        if sig == self._sig:
            return
        self._sig = sig
        tot = sum(w for _, w in sig)
        self.tot = tot
        slots: list[Server] = []
        if tot:
            score = [0] * len(sig)
            for _ in range(tot):
                best = -1
                vmax = 0
                for i, (s, w) in enumerate(sig):
                    if w <= 0:
                        continue
                    if tot == 1:
                        best = i
                        break
                    score[i] += w
                    v = cdiv(score[i] + tot, tot)
                    if best < 0 or v > vmax:
                        vmax = v
                        best = i
                slots.append(sig[best][0])
                score[best] -= tot
        self.slots = slots

    def get_hash(self, h: int) -> Server | None:
        """``map[hash % total_weight]`` (``map_get_server_hash``)."""
        tot = self.tot
        return self.slots[h % tot] if tot else None

    def get_rr(self, avoid: Server | None) -> Server | None:
        """Next slot with a free server from the saved index (``map_get_server_rr``)."""
        tot = self.tot
        if not tot:
            return None
        idx = self.rr_idx
        if idx < 0 or idx >= tot:
            idx = self.rr_idx = 0
        start = idx
        slots = self.slots
        avoided = None
        avoididx = 0
        while True:
            s = slots[idx]
            idx += 1
            if not saturated(s):
                avoided = s
                avoididx = idx
                if s is not avoid:
                    self.rr_idx = idx
                    return s
            if idx == tot:
                idx = 0
            if idx == start:
                break
        if avoided is not None:
            self.rr_idx = avoididx
        return avoided


# -------------------------------------------------------------------- consistent ring


def chash_eligible(served: int, weight: int, cumulative: int, be_served: int, tot_weight: int, factor: int) -> bool:
    """HAProxy's ``chash_server_is_eligible`` (bounded loads, ``hash-balance-factor``).

    The backend has ``(be_served + 1) * factor / 100`` slots, rounded up (its current
    sessions plus the one being placed, times the factor); each unit of weight gets a
    whole number of them, the rest goes to servers in proportion to their weight (by
    their position ``cumulative`` in the group's total ``tot_weight``), and no server
    gets none.  A server is eligible while it serves fewer sessions than its slots.
    Weights are the effective ones (user weight x 16).
    """
    tot_slots = ((be_served + 1) * factor + 99) // 100
    per_weight, rem = divmod(tot_slots, tot_weight)
    slots = weight * per_weight + ((cumulative + weight) * rem) // tot_weight - (cumulative * rem) // tot_weight
    return served < (slots or 1)



class _Node:
    """One point of a server on the ring."""

    __slots__ = ("key", "srv")

    def __init__(self, key: int, srv: Server) -> None:
        self.key = key
        self.srv = srv


class _Ring:
    """An ordered set of points: ``keys`` sorted, ``nodes`` parallel to it.

    Points with equal keys stay in insertion order, as in HAProxy's eb32 trees.
    """

    __slots__ = ("keys", "last", "nodes")

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.nodes: list[_Node] = []
        self.last: _Node | None = None  # round-robin cursor (``lbprm.chash.last``)

    def index(self, node: _Node) -> int:
        keys, nodes = self.keys, self.nodes
        i = bisect_left(keys, node.key)
        n = len(keys)
        while i < n and nodes[i] is not node:
            i += 1
        return i

    def insert(self, node: _Node) -> None:
        i = bisect_right(self.keys, node.key)
        self.keys.insert(i, node.key)
        self.nodes.insert(i, node)

    def delete(self, node: _Node) -> None:
        if self.last is node:  # chash_skip_node
            i = self.index(node) + 1
            nxt = self.nodes[i] if i < len(self.nodes) else (self.nodes[0] if self.nodes else None)
            self.last = None if nxt is node else nxt
        i = self.index(node)
        del self.keys[i]
        del self.nodes[i]


class _ChSrv:
    """A server's points (``lb_nodes``) and how many are on the ring (``lb_nodes_now``)."""

    __slots__ = ("now", "points", "ring", "srv")

    def __init__(self, srv: Server, ring: _Ring) -> None:
        self.srv = srv
        self.ring = ring
        self.points: list[_Node] = []
        self.now = 0

    def grow(self, n: int) -> None:
        puid = self.srv.id
        pts = self.points
        for j in range(len(pts), n):
            pts.append(_Node(full_hash(puid * SRV_EWGHT_RANGE + j), self.srv))

    def set_count(self, n: int) -> None:
        """``chash_queue_dequeue_srv``: drop the last points or add the next ones."""
        ring = self.ring
        while self.now > n:
            self.now -= 1
            ring.delete(self.points[self.now])
        if len(self.points) < n:
            # HAProxy reallocates: every point leaves the ring and comes back in order
            while self.now > 0:
                self.now -= 1
                ring.delete(self.points[self.now])
            self.grow(n)
        while self.now < n:
            ring.insert(self.points[self.now])
            self.now += 1


class ChashTable:
    """HAProxy's consistent hashing (``lb_chash.c``): one ring for active servers, one
    for backups.  ``sync`` brings each server's number of points to its weight, one
    server at a time in declaration order, so that only the changed server's keys move.
    """

    __slots__ = ("_by_srv", "act", "bck")

    def __init__(self) -> None:
        self.act = _Ring()
        self.bck = _Ring()
        self._by_srv: dict[Server, _ChSrv] = {}

    def sync(self, servers: list[Server], points: Callable[[Server], int]) -> None:
        by = self._by_srv
        if len(by) != len(servers) or any(s not in by for s in servers):
            present = set(servers)
            for gone in [s for s in by if s not in present]:  # servers deleted at run time
                by.pop(gone).set_count(0)
        for s in servers:
            ch = by.get(s)
            if ch is None:
                ch = by[s] = _ChSrv(s, self.bck if s.backup else self.act)
                ch.grow(s.uweight * BE_WEIGHT_SCALE)
            n = points(s)
            if n != ch.now:
                ch.set_count(n)

    def get_hash(self, ring: _Ring, h: int, avoid: Server | None,
                 eligible: Callable[[Server], bool] | None = None) -> Server | None:
        """Server of the point nearest to ``h`` (previous one on a tie), walking on past
        ``avoid`` and past the servers ``eligible`` refuses (``hash-balance-factor``)."""
        keys = ring.keys
        n = len(keys)
        if not n:
            return None
        i = bisect_left(keys, h)
        if i == n:
            i = 0
        p = i - 1  # -1 = last point (wrap-around)
        if ((h - keys[p]) & U32) <= ((keys[i] - h) & U32):
            i = p % n
        nodes = ring.nodes
        srv = nodes[i].srv
        loop = 0
        while srv is avoid or (eligible is not None and not eligible(srv)):
            i += 1
            if i == n:
                i = 0
                loop += 1
                if loop > 1:
                    break
            srv = nodes[i].srv
        return srv

    def get_next(self, ring: _Ring, avoid: Server | None) -> Server | None:
        """Walk the ring from the saved cursor to a free server (``chash_get_next_server``)."""
        nodes = ring.nodes
        n = len(nodes)
        if not n:
            ring.last = None
            return None
        last = ring.last
        i = ring.index(last) if last is not None else n
        # no cursor: HAProxy starts at the first point and, its stop mark being that
        # same point, looks at that one point only
        stop = i if i < n else -1
        avoided = None
        avoided_i = -1
        while True:
            i += 1
            if i >= n:
                i = 0
            if stop < 0:
                stop = i
            s = nodes[i].srv
            if not saturated(s):
                if s is not avoid:
                    ring.last = nodes[i]
                    return s
                avoided = s
                avoided_i = i
            if i == stop:
                break
        ring.last = nodes[avoided_i] if avoided is not None else None
        return avoided


# ------------------------------------------------------------------ hash-keyed balancers


class HashBalancer(Balancer):
    """Base of the hash-keyed algorithms (``source``, ``uri``, ``url_param``, ``hdr``...).

    ``hash-type map-based`` (default) uses a static ``ServerMap``; ``consistent`` a
    ``ChashTable`` that follows weight changes.  When the hashed server is full the
    pick is None (HAProxy queues on that server; here the session waits in the backend
    queue and lands on the same server when it picks again).  A missing key falls back
    to round robin, which skips full servers.
    """

    needs_key = True
    #: with a single usable server HAProxy does not hash at all (key 0)
    skip_single = True

    def __init__(self, backend: Any, args: tuple[str, ...] = (), hash_type: HashType = ("map-based", "sdbm", False)) -> None:
        super().__init__(backend, args, hash_type)
        self.consistent = hash_type[0] == "consistent"
        self.avalanche = bool(hash_type[2])
        self.dynamic = self.consistent
        self.map = ServerMap()
        self.chash = ChashTable()
        self._gcd_done = False
        self._ring: _Ring | None = None
        self._fbck: Server | None = None
        spec = getattr(backend, "spec", None)
        #: hash-balance-factor (bounded loads), consistent hashing only; 0 = off
        self.balance_factor = int(getattr(spec, "hash_balance_factor", 0) or 0) if self.consistent else 0
        self._cumulative: dict[Server, int] = {}  # weight of the group's servers before each one
        self._tot_weight = 0

    # subclasses: the final 32-bit key, or None when the request does not carry it
    def hash_of(self, ctx: PickCtx) -> int | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _rebuild(self) -> None:
        servers = self.backend.servers
        self._fbck = None
        if self.consistent:
            self.chash.sync(servers, _chash_points)
            if self.balance_factor:
                self._recount(servers)
            if not self.using_backup:
                self._ring = self.chash.act
            elif self.backend.allbackups:
                self._ring = self.chash.bck
            else:
                self._ring = None
                self._fbck = self.servers[0]
        else:
            if not self._gcd_done:
                self.map.set_gcd(servers)
                self._gcd_done = True
            self.map.rebuild(self.servers)

    def _recount(self, servers: list[Server]) -> None:
        """HAProxy's recount_servers()/update_backend_weight() for bounded loads: each
        usable server's ``cumulative_weight`` within its group (active or backup, in
        declaration order) and the total weight of the group in use."""
        cum: dict[Server, int] = {}
        tot_act = tot_bck = 0
        for s in servers:
            if not s.usable():
                continue
            w = _chash_points(s)
            if s.backup:
                cum[s] = tot_bck
                tot_bck += w
            else:
                cum[s] = tot_act
                tot_act += w
        self._cumulative = cum
        self._tot_weight = tot_act if not self.using_backup else tot_bck

    def eligibility(self) -> Callable[[Server], bool] | None:
        """``chash_server_is_eligible`` for this pick: may a server take one more
        session under the backend's ``hash-balance-factor``?  None when off."""
        tot = self._tot_weight
        if not self.balance_factor or not tot:
            return None
        be_served = sum(x.cur_sess for x in self.backend.servers)  # HAProxy's px->served
        cum = self._cumulative
        factor = self.balance_factor
        return lambda s: chash_eligible(s.cur_sess, _chash_points(s), cum.get(s, 0), be_served, tot, factor)

    def lookup(self, h: int, avoid: Server | None) -> Server | None:
        """The server for 32-bit key ``h`` in the current table."""
        if self._fbck is not None:
            return self._fbck
        if self.consistent:
            if self._ring is None:
                return None
            return self.chash.get_hash(self._ring, h, avoid, self.eligibility())
        return self.map.get_hash(h)

    def fallback(self, avoid: Server | None) -> Server | None:
        """Round robin when the key is missing (map walk or ring walk)."""
        if self._fbck is not None:
            return None if saturated(self._fbck) else self._fbck
        if self.consistent:
            return self.chash.get_next(self._ring, avoid) if self._ring is not None else None
        return self.map.get_rr(avoid)

    def assigned(self, ctx: PickCtx, avoid: Server | None) -> Server | None:
        """The server the key designates, full or not (HAProxy assigns it, then queues
        on it); None when the key is missing (round robin fallback)."""
        if self.skip_single and len(self.servers) == 1:
            return self.lookup(0, avoid)
        h = self.hash_of(ctx)
        return None if h is None else self.lookup(h, avoid)

    def _choose(self, ctx: PickCtx, avoid: Server | None) -> Server | None:
        if self.skip_single and len(self.servers) == 1:
            s = self.lookup(0, avoid)
        else:
            h = self.hash_of(ctx)
            if h is None:
                return self.fallback(avoid)
            s = self.lookup(h, avoid)
        return None if s is None or saturated(s) else s


def _chash_points(s: Server) -> int:
    """Points on the ring: the dynamic effective weight (user weight x 16, ramped)."""
    return eff_weight(s) if s.usable() else 0
