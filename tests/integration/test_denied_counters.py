"""``mode http``: which proxies count a denied request or response (``dreq``/``dresp`` of
``show stat``), as HAProxy 2.6 does (http_process_req_common(), http_action_reject(),
http_process_res_common()):

* ``http-request deny``/``tarpit``: the frontend always; the backend too when the rule
  is one of a backend's (``SF_BE_ASSIGNED``), so not for a listen's own rules;
* ``http-request reject``: the frontend, and ``s->be``: the backend whose rule it was, or
  the proxy itself in its frontend rules (a listen's BACKEND row; a frontend has none);
* ``http-response deny``: the frontend, the backend and the server.

Checked against ``haproxy -db`` 2.6.12 (``GPROXY_TEST_PROXY=haproxy``).
"""

from __future__ import annotations

import socket

import pytest
from helpers import free_port, wait_for

from integration.httpkit import OK, RawBackend
from integration.sidebyside import cli

pytestmark = pytest.mark.timeout(60)


def _counters(path: str) -> dict[tuple[str, str], tuple[str, str]]:
    lines = cli(path, "show stat").split("\n")
    hdr = lines[0][2:].split(",")
    rows = [dict(zip(hdr, ln.split(","), strict=False)) for ln in lines[1:] if ln]
    return {(r["pxname"], r["svname"]): (r["dreq"], r["dresp"]) for r in rows if r["pxname"] in ("fe", "be", "li")}


def _get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        out = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
        except OSError:
            pass
    return out.split(b"\r\n", 1)[0]


def test_denied_requests_and_responses_counted_as_haproxy(proxy, tmp_path):
    srv = RawBackend()
    srv.respond = lambda req: OK
    try:
        sock = str(tmp_path / "stats.sock")
        fport, lport = free_port(), free_port()
        cfg = f"""global
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout tarpit 100
frontend fe
    bind 127.0.0.1:{fport}
    http-request deny if {{ path /fdeny }}
    http-request tarpit if {{ path /ftarpit }}
    http-request reject if {{ path /freject }}
    default_backend be
backend be
    http-request set-var(txn.p) path
    http-request deny if {{ path /bdeny }}
    http-request tarpit if {{ path /btarpit }}
    http-request reject if {{ path /breject }}
    http-response deny if {{ var(txn.p) -m str /brdeny }}
    server s1 127.0.0.1:{srv.port}
listen li
    bind 127.0.0.1:{lport}
    http-request set-var(txn.p) path
    http-request deny if {{ path /ldeny }}
    http-request reject if {{ path /lreject }}
    http-response deny if {{ var(txn.p) -m str /lrdeny }}
    server s1 127.0.0.1:{srv.port}
"""
        proxy(cfg, wait_ports=[fport, lport])
        wait_for(lambda: _counters(sock), what="the stats socket")
        for path in ("/fdeny", "/bdeny", "/ftarpit", "/btarpit", "/freject", "/breject", "/brdeny"):
            _get(fport, path)
        for path in ("/ldeny", "/lreject", "/lrdeny"):
            _get(lport, path)
        expected = {
            ("fe", "FRONTEND"): ("6", "1"),
            ("be", "s1"): ("", "1"),
            ("be", "BACKEND"): ("3", "1"),
            ("li", "FRONTEND"): ("2", "1"),
            ("li", "s1"): ("", "1"),
            ("li", "BACKEND"): ("1", "1"),
        }

        def settled():
            got = _counters(sock)
            return got if got == expected else None

        wait_for(settled, timeout=3, what="the denied counters")
    finally:
        srv.stop()
