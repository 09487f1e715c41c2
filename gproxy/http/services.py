"""HTTP services: what ``http-request use-service <name>`` hands a request to.

``SERVICES`` maps a service name to ``fn(process, txn) -> (status, headers, body)``:
``process`` is the running ``runtime.Process``, ``txn`` the ``http.message.Txn`` of the
request; ``headers`` is a list of ``(name, value)`` without framing headers (the engine
adds Content-Length or chunked encoding, and honours ``Connection: close`` if present).
A service answers from its own state and never touches a backend.

Service modules are imported on first use, so a configuration that uses none of them
loads none of their dependencies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Service = Callable[[Any, Any], tuple[int, list[tuple[str, str]], bytes]]


def _prometheus_exporter(process: Any, txn: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    from ..stats import prometheus

    return prometheus.service(process, txn)


SERVICES: dict[str, Service] = {
    "prometheus-exporter": _prometheus_exporter,
}
