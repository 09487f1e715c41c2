"""Import every load-balancing algorithm module so that each registers itself.

Owns nothing else: ``import gproxy.lb.all`` once (with ``gproxy.lb.keywords`` for the
configuration words) before ``lb.make`` is used.
"""

from __future__ import annotations

from . import first, l7, leastconn, random, roundrobin, source, static_rr

__all__ = ["first", "l7", "leastconn", "random", "roundrobin", "source", "static_rr"]
