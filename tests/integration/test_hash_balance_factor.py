"""``hash-balance-factor``: consistent hashing with bounded loads, gproxy against haproxy.

Three servers behind ``balance uri`` / ``hash-type consistent``; requests for one URI
are held by the servers (no answer until the test releases them), so every request
adds one current session.  Without the factor they all land on the hashed server; with
``hash-balance-factor 125`` a server takes a new session only while it serves fewer
than its share of ``ceil((sessions + 1) x 1.25)``, so the extra ones spill to the next
servers on the ring.  The server each held request reaches, in order, is compared with
what haproxy 2.6 does with the same configuration (same ring: same server ids).
"""

from __future__ import annotations

import socket
import subprocess
import threading

import pytest
from differential.harness import HAPROXY, needs_haproxy
from helpers import LOCALHOST, free_port, proxy_cmd, wait_for, wait_listening

from integration.httpkit import OK, RawBackend

pytestmark = pytest.mark.timeout(40)

N_REQUESTS = 9


def _config(port: int, backends: list[RawBackend], factor: int | None, weights: tuple[int, ...] = ()) -> str:
    servers = "\n".join(f"  server s{i + 1} {LOCALHOST}:{b.port}" + (f" weight {weights[i]}" if weights else "")
                        for i, b in enumerate(backends))
    hbf = f"  hash-balance-factor {factor}\n" if factor is not None else ""
    return f"""global
  nbthread 1
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend f
  bind {LOCALHOST}:{port}
  default_backend b
backend b
  balance uri
  hash-type consistent
{hbf}{servers}
"""


def _placements(cmd: list[str], tmp_path, factor: int | None, name: str, weights: tuple[int, ...] = ()) -> list[int]:
    """Start the proxy, send N_REQUESTS held requests one after the other (each once the
    previous one reached a server) and return the index of the server each reached."""
    release = threading.Event()
    backends = [RawBackend(respond=lambda req: [release, OK]) for _ in range(3)]
    port = free_port()
    cfg = tmp_path / f"{name}.cfg"
    cfg.write_text(_config(port, backends, factor, weights))
    proc = subprocess.Popen([*cmd, "-f", str(cfg)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    clients: list[socket.socket] = []
    try:
        wait_listening(port)
        order: list[int] = []
        for i in range(N_REQUESTS):
            c = socket.create_connection((LOCALHOST, port), timeout=10)
            clients.append(c)
            c.sendall(b"GET /same/key HTTP/1.1\r\nHost: x\r\n\r\n")
            got = wait_for(lambda n=i + 1: sum(len(b.requests) for b in backends) >= n and
                           [len(b.requests) for b in backends], timeout=5, what=f"request {i + 1} at a server")
            before = [sum(1 for o in order if o == k) for k in range(3)]
            order.append(next(k for k in range(3) if got[k] > before[k]))
        release.set()
        for c in clients:
            assert c.recv(4096).startswith(b"HTTP/1.1 200")
        return order
    finally:
        release.set()
        for c in clients:
            c.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for b in backends:
            b.stop()


def test_without_factor_all_on_one_server(tmp_path):
    order = _placements(proxy_cmd(), tmp_path, None, "plain")
    assert len(set(order)) == 1


def test_bounded_loads_spill_to_other_servers(tmp_path):
    order = _placements(proxy_cmd(), tmp_path, 125, "bounded")
    counts = [order.count(k) for k in range(3)]
    assert len(set(order)) == 3, order
    # ceil((8 + 1) * 1.25) = 12 slots over 3 equal servers: nobody above 4 of the 9
    assert max(counts) <= 4, counts


@needs_haproxy
@pytest.mark.parametrize(("factor", "weights"), [(None, ()), (125, ()), (150, ()), (300, ()), (110, (1, 3, 2)),
                                                 (150, (5, 1, 2))])
def test_same_placements_as_haproxy(tmp_path, factor, weights):
    ours = _placements(proxy_cmd(), tmp_path, factor, "gproxy", weights)
    theirs = _placements([HAPROXY, "-db"], tmp_path, factor, "haproxy", weights)
    assert ours == theirs
