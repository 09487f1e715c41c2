"""Load-balancing algorithms behind one small contract.

A ``Balancer`` is built per backend from ``balance <algo> [args]`` and ``hash-type``.  The
backend calls ``update()`` after any server state or weight change and ``pick(ctx, avoid)``
for each new connection; ``taken``/``released`` bracket a connection on a server (for
leastconn).  Choosing between active and backup servers (``backup``, ``option
allbackups``) is done here once, in ``Balancer.pool``, so every algorithm sees the same
eligible set.  Pure: no I/O, never yields to the hub.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..server import Server


@dataclass
class PickCtx:
    """What an algorithm may look at to choose a server."""

    src: str = ""  # client IP address as text
    uri: str = ""  # HTTP: request URI
    headers: Any = None  # HTTP: header lookup, callable name -> value or None
    extra: dict[str, Any] = field(default_factory=dict)


class Balancer:
    """Base contract. Subclasses implement ``_rebuild`` and ``_choose``."""

    name = ""
    dynamic = True  # weights can change at run time
    needs_key = False  # hash-based: a missing key falls back to round robin

    def __init__(self, backend: Any, args: tuple[str, ...] = (), hash_type: tuple[str, str, bool] = ("map-based", "sdbm", False)) -> None:
        self.backend = backend
        self.args = args
        self.hash_type = hash_type
        self.servers: list[Server] = []  # current eligible pool, declaration order
        self.using_backup = False

    # ---- contract ----
    def update(self) -> None:
        """Recompute the eligible pool from the backend's servers, then the algorithm's state."""
        self.servers, self.using_backup = self.pool(self.backend.servers, self.backend.allbackups)
        self._rebuild()

    def pick(self, ctx: PickCtx, avoid: Server | None = None) -> Server | None:
        """A usable, non-full server, preferring one other than ``avoid``; None if none."""
        if not self.servers:
            return None
        return self._choose(ctx, avoid)

    def taken(self, srv: Server) -> None:
        """A connection to ``srv`` starts (called after ``srv.cur_sess`` was incremented)."""

    def released(self, srv: Server) -> None:
        """A connection to ``srv`` ended (after ``srv.cur_sess`` was decremented)."""

    # ---- shared helpers ----
    @staticmethod
    def pool(servers: list[Server], allbackups: bool) -> tuple[list[Server], bool]:
        act = [s for s in servers if not s.backup and s.usable()]
        if act:
            return act, False
        bck = [s for s in servers if s.backup and s.usable()]
        if not allbackups and bck:
            bck = bck[:1]
        return bck, bool(bck)

    def _rebuild(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _choose(self, ctx: PickCtx, avoid: Server | None) -> Server | None:  # pragma: no cover
        raise NotImplementedError


ALGORITHMS: dict[str, Callable[..., Balancer]] = {}


def algorithm(name: str) -> Callable[[type[Balancer]], type[Balancer]]:
    """Class decorator registering a ``balance`` algorithm under its HAProxy name."""

    def deco(cls: type[Balancer]) -> type[Balancer]:
        cls.name = name
        ALGORITHMS[name] = cls
        return cls

    return deco


def make(backend: Any, balance: tuple[str, ...], hash_type: tuple[str, str, bool]) -> Balancer:
    from . import all as _registered  # noqa: F401 - importing registers every algorithm

    algo = balance[0]
    cls = ALGORITHMS.get(algo) or ALGORITHMS["roundrobin"]
    return cls(backend, tuple(balance[1:]), hash_type)
