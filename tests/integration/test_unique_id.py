"""``unique-id-format`` / ``unique-id-header``, the ``unique-id`` fetch and ``%rt``,
checked against ``haproxy -db`` 2.6.

The id is rendered after the request rules (the backend's too) and before
``X-Forwarded-For``, sent in ``unique-id-header``; a rule asking for ``unique-id``
first fixes it earlier.  A request answered locally gets its id when logged, when the
request's headers are gone.  ``%rt`` counts streams: HTTP requests, TCP sessions and
the requests the H1 mux refuses.
"""

from __future__ import annotations

import socket
import time

import pytest
from differential.corpus import DIFF_HEAD, Config, req, scenario
from differential.harness import assert_same, needs_haproxy
from helpers import free_port, wait_for

pytestmark = pytest.mark.timeout(60)


UID = Config("unique-id", DIFF_HEAD + """
frontend fe
    bind 127.0.0.1:@fe@
    unique-id-format %{+X}o\\ \\ %[path]-%[req.hdr(x-a)]-%ci\\ %HM
    unique-id-header X-Unique-ID
    option forwardfor
    http-request set-header X-Early %[unique-id] if { path /early }
    default_backend be

backend be
    http-request set-header X-A after-backend if { path /a }
    server s1 127.0.0.1:@s1@
""", ("fe",))

SCENARIOS = [
    scenario("after-backend-rules", UID, "fe", req(uri="/a", extra=(("X-A", "1"),))),
    scenario("fixed-by-an-early-fetch", UID, "fe", req(uri="/early", extra=(("X-A", "2"),))),
    scenario("control-chars-encoded", UID, "fe", req(uri="/c", extra=(("X-A", "a\x01b"),))),
]


@needs_haproxy
def test_differential_unique_id(tmp_path):
    assert_same(UID, SCENARIOS, tmp_path)


def test_log_ids_and_request_counter(proxy, syslog, backend):
    """The lines haproxy 2.6.12 wrote for this config and these connections (2026-11-27),
    once the readiness probe's empty connections are counted out: each stream takes the
    next %rt, an id is made at log time for a deny (no headers by then) and none for a
    refused request."""
    port, tport = free_port(), free_port()
    p = proxy(f"global\n    log 127.0.0.1:{syslog.port} local0\n"
              "defaults\n    log global\n    timeout connect 1s\n    timeout client 5s\n    timeout server 2s\n"
              f"frontend fe\n    mode http\n    bind 127.0.0.1:{port}\n"
              '    log-format "rt=%rt ST=%ST ID=%ID r=%r"\n'
              "    unique-id-format %{+X}o\\ %rt-%[path]\n"
              "    http-request deny if { path /deny }\n    default_backend be\n"
              f"frontend ft\n    mode tcp\n    bind 127.0.0.1:{tport}\n    log-format \"tcp rt=%rt ID=%ID\"\n"
              "    unique-id-format T%rt\n    default_backend bt\n"
              f"backend be\n    mode http\n    server s1 127.0.0.1:{backend.port}\n"
              f"backend bt\n    mode tcp\n    server s1 127.0.0.1:{backend.port}\n",
              wait_ports=[port, tport])
    assert p is not None
    base = len(syslog.lines)

    def one(prt: int, data: bytes) -> None:
        with socket.create_connection(("127.0.0.1", prt), timeout=3) as s:
            s.sendall(data)
            s.recv(4096)
        time.sleep(0.05)

    one(port, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    one(port, b"GET /deny HTTP/1.1\r\nHost: x\r\n\r\n")
    one(port, b"BAD\r\n\r\n")
    one(tport, b"GET /t HTTP/1.1\r\nHost: x\r\n\r\n")
    one(port, b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    lines = wait_for(lambda: syslog.lines[base:] if len(syslog.lines) >= base + 5 else None, timeout=5,
                     what="5 log lines")
    first = int(next(ln for ln in lines if "r=GET /a " in ln).split("rt=")[1].split()[0])
    want = [f"rt={first} ST=200 ID={first:04X}-/a r=GET /a HTTP/1.1",
            f"rt={first + 1} ST=403 ID={first + 1:04X}- r=GET /deny HTTP/1.1",
            f"rt={first + 2} ST=400 ID=- r=<BADREQ>",
            f"tcp rt={first + 3} ID=T{first + 3}",
            f"rt={first + 4} ST=200 ID={first + 4:04X}-/b r=GET /b HTTP/1.1"]
    got = sorted((ln[ln.index("rt=") - 4 if "tcp rt=" in ln else ln.index("rt="):] for ln in lines),
                 key=lambda t: int(t.split("rt=")[1].split()[0]))
    assert got == want
