"""``balance random[(<draws>)]``: power of ``draws`` choices on the consistent-hash ring.

Owns HAProxy's ``get_server_rnd`` (``backend.c``): draw ``draws`` (default 2) random
32-bit keys, map each to a server on the consistent ring (``hashing.ChashTable``, so
weights count and the algorithm is dynamic whatever ``hash-type`` says), keep the one
with the fewest current sessions relative to its weight, and return None when that one
is full (the session then waits in the backend queue).  Pure: no I/O.
"""

from __future__ import annotations

from random import getrandbits
from typing import TYPE_CHECKING, Any

from . import PickCtx, algorithm
from .common import saturated
from .hashing import HashBalancer

if TYPE_CHECKING:
    from ..server import Server


@algorithm("random")
class Random(HashBalancer):
    """Least loaded of ``draws`` random picks on the weighted ring."""

    needs_key = False
    skip_single = False

    def __init__(self, backend: Any, args: tuple[str, ...] = (), hash_type: tuple[str, str, bool] = ("map-based", "sdbm", False)) -> None:
        super().__init__(backend, args, ("consistent", hash_type[1], hash_type[2]))
        self.draws = int(args[0]) if args and args[0] else 2
        self.draws = max(self.draws, 1)

    def _choose(self, ctx: PickCtx, avoid: Server | None) -> Server | None:
        curr: Server | None = None
        n = self.draws
        while n > 0:
            prev = curr
            curr = self.lookup(getrandbits(32), avoid)
            if curr is None:
                break
            # keep the previous choice when it serves fewer sessions per unit of weight
            if prev is not None and prev is not curr and curr.cur_sess * prev.eweight > prev.cur_sess * curr.eweight:
                curr = prev
            n -= 1
        if curr is not None and saturated(curr):
            return None
        return curr
