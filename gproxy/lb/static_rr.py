"""``balance static-rr``: weighted round robin over HAProxy's static server map.

Owns the algorithm, not the table: the map (``hashing.ServerMap``, HAProxy's
``lb_map.c``) is built from the user weights divided by their GCD and walked from a saved
index, skipping servers without a free slot.  Static: a slowstart ramp does not change
the weights, and HAProxy only lets an operator set a weight to 0% or 100% (callers check
``Balancer.dynamic``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import Balancer, PickCtx, algorithm
from .hashing import ServerMap

if TYPE_CHECKING:
    from ..server import Server


@algorithm("static-rr")
class StaticRoundRobin(Balancer):
    """``map_get_server_rr`` over the eligible servers' map."""

    dynamic = False

    def __init__(self, backend: Any, args: tuple[str, ...] = (), hash_type: tuple[str, str, bool] = ("map-based", "sdbm", False)) -> None:
        super().__init__(backend, args, hash_type)
        self.map = ServerMap()
        self._gcd_done = False

    def _rebuild(self) -> None:
        if not self._gcd_done:
            self.map.set_gcd(self.backend.servers)
            self._gcd_done = True
        self.map.rebuild(self.servers)

    def _choose(self, ctx: PickCtx, avoid: Server | None) -> Server | None:
        return self.map.get_rr(avoid)
