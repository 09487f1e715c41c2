"""Differential tests: the same HTTP scenario against HAProxy and gproxy, side by side.

Each configuration of the corpus (``corpus.CONFIGS``) is started twice from the same
config text -- once under ``haproxy -db``, once under gproxy -- every instance with its
own frontend ports and its own recording backend (``harness.RecordingBackend``).  Every
scenario of the corpus (``corpus.SCENARIOS``: raw client bytes + a backend script) is
played against both and the outcomes are compared:

* the status lines the client receives (interim ones included),
* the response heads the client receives (names/values in order, ``date`` excluded) and
  the bodies,
* the request heads (request line, names/values in order), bodies and connection
  grouping the server receives -- nothing at all for rejected requests,
* whether the proxy closed the client connection.

Differences that are deliberate are listed in one place, ``DELIBERATE.py``.

``GPROXY_DIFF_SELFTEST=1`` (or ``GPROXY_TEST_PROXY=haproxy``) puts a second haproxy in
the gproxy slot: every scenario must then compare equal, which validates the harness
and the corpus (no timing-dependent or port-dependent outcome).
"""
