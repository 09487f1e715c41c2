"""Small pieces the algorithm modules share: HAProxy's weight scale and saturation test.

Owns the constants of HAProxy's weight arithmetic (``BE_WEIGHT_SCALE``, ``SRV_EWGHT_MAX``),
the effective weight dynamic algorithms work with (``eff_weight``: user weight x 16),
C-style integer division for the places where HAProxy divides signed ints, and the
"server has a free slot" test every lookup uses.  Pure: no I/O, no allocation beyond
Python ints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..server import Server

#: effective weight = user weight * BE_WEIGHT_SCALE for dynamic algorithms (backend-t.h)
BE_WEIGHT_SCALE = 16
SRV_UWGHT_RANGE = 256
SRV_UWGHT_MAX = 256
SRV_EWGHT_RANGE = SRV_UWGHT_RANGE * BE_WEIGHT_SCALE  # 4096
SRV_EWGHT_MAX = SRV_UWGHT_MAX * BE_WEIGHT_SCALE  # 4096
U32 = 0xFFFFFFFF


def cdiv(a: int, b: int) -> int:
    """Integer division truncating towards zero, as C does for signed ints."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def saturated(s: Server) -> bool:
    """No free slot on ``s`` (HAProxy: ``maxconn && (queue.length || served >= dyn_maxconn)``)."""
    return bool(s.maxconn) and (s.nbpend > 0 or s.is_full())


def eff_weight(s: Server) -> int:
    """HAProxy's effective weight of a dynamic algorithm: user weight x 16, ramped
    during slowstart in 1/16 steps (``Server.eweight16``)."""
    return s.eweight16
