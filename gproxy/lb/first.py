"""``balance first``: the usable server with the lowest id that still has a free slot.

Owns the order of HAProxy's ``lb_fas.c`` tree: eligible servers sorted by their numeric
id (``id`` keyword, else the automatic one).  Weights are ignored; a server without
``maxconn`` is never full, so it takes every connection while it is up, the next one
only being used once the first reaches its ``maxconn``.  Pure: no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import Balancer, PickCtx, algorithm
from .common import saturated

if TYPE_CHECKING:
    from ..server import Server


@algorithm("first")
class First(Balancer):
    """``fas_get_next_server``: walk servers by id, take the first with room."""

    dynamic = True

    def __init__(self, backend: Any, args: tuple[str, ...] = (), hash_type: tuple[str, str, bool] = ("map-based", "sdbm", False)) -> None:
        super().__init__(backend, args, hash_type)
        self.order: list[Server] = []

    def _rebuild(self) -> None:
        self.order = sorted(self.servers, key=lambda s: s.id)

    def _choose(self, ctx: PickCtx, avoid: Server | None) -> Server | None:
        if self.using_backup and not self.backend.allbackups:
            s = self.order[0]  # only the first backup
            return None if saturated(s) else s
        avoided = None
        for s in self.order:
            if not saturated(s):
                if s is not avoid:
                    return s
                avoided = s
        return avoided
