"""``balance source``: the client's IP address picks the server.

Owns turning ``PickCtx.src`` into HAProxy's key (``get_server_sh`` in ``backend.c``): the
address bytes in network order read as 32-bit big-endian words and XORed together (an
IPv4 address is just its own 32-bit value; an IPv6 one, including ``::ffff:a.b.c.d``,
the XOR of its four words).  No string hash function is applied; ``hash-type ...
avalanche`` (implied by a bare ``hash-type consistent``) passes the value through
``full_hash``.  The table lookup (map or ring) is ``HashBalancer``'s.

A source that is not an IP address (a UNIX socket client) falls back to round robin;
HAProxy refuses such a connection with an internal error instead.
"""

from __future__ import annotations

import socket
import struct

from . import PickCtx, algorithm
from .hashing import HashBalancer, full_hash

_inet_pton = socket.inet_pton
_AF_INET = socket.AF_INET
_AF_INET6 = socket.AF_INET6
_V4 = struct.Struct("!I").unpack
_V6 = struct.Struct("!IIII").unpack


def source_key(src: str) -> int | None:
    """XOR of the address's 32-bit big-endian words, or None if ``src`` is not an IP."""
    try:
        if ":" in src:
            if "%" in src:  # fe80::1%eth0: the zone is not part of the address
                src = src[: src.index("%")]
            a, b, c, d = _V6(_inet_pton(_AF_INET6, src))
            return a ^ b ^ c ^ d
        return _V4(_inet_pton(_AF_INET, src))[0]
    except (OSError, ValueError, TypeError):
        return None


@algorithm("source")
class SourceBalancer(HashBalancer):
    """Hash of the client address; map-based (static) or consistent per ``hash-type``."""

    def hash_of(self, ctx: PickCtx) -> int | None:
        h = source_key(ctx.src)
        if h is not None and self.avalanche:
            h = full_hash(h)
        return h
