"""One client connection's session record: addresses, chosen backend/server, timers,
byte counts and termination state, as the log formats and ``show sess`` read them.

Plain attributes only (``__slots__``); the code that fills them lives in ``tcp.py`` and, for
``mode http`` (one log line per request, the same record reused), ``http/h1.py``.
"""

from __future__ import annotations

import time
from typing import Any

_next_id = 0


class Session:
    __slots__ = (
        "accept_mono",
        "accept_ts",
        "actconn",
        "addr0",
        "backend",
        "backend_name",
        "be_ip",
        "be_port",
        "be_queue",
        "beconn",
        "bytes_in",
        "bytes_out",
        "cli_ip",
        "cli_port",
        "cookie_req",
        "cookie_res",
        "fe_ip",
        "fe_port",
        "fe_ssl",
        "feconn",
        "frontend",
        "frontend_name",
        "greenlet",
        "id",
        "killed",
        "listener",
        "log_level",
        "method",
        "pump",
        "redispatched",
        "req_captures",
        "req_id",
        "req_ts",
        "res_captures",
        "retries",
        "server",
        "server_name",
        "srv_ip",
        "srv_port",
        "srv_queue",
        "srvconn",
        "status",
        "stkctr",
        "t_active",
        "t_connect",
        "t_handshake",
        "t_idle",
        "t_queue",
        "t_request",
        "t_response",
        "t_total",
        "term",
        "term_cookie",
        "txn",
        "unique_id",
        "uri",
        "version",
    )

    def __init__(self, frontend: Any, listener: Any, cli_addr: Any, fe_addr: Any) -> None:
        global _next_id
        _next_id += 1
        self.id = _next_id
        self.accept_ts = time.time()
        self.accept_mono = time.monotonic()
        self.req_ts = None
        if isinstance(cli_addr, tuple):
            self.cli_ip, self.cli_port = cli_addr[0], cli_addr[1]
        else:
            self.cli_ip, self.cli_port = "unix", listener.id if listener is not None else 0
        if isinstance(fe_addr, tuple):
            self.fe_ip, self.fe_port = fe_addr[0], fe_addr[1]
        else:
            self.fe_ip, self.fe_port = "unix", 0
        self.be_ip = self.be_port = self.srv_ip = self.srv_port = None
        self.frontend = frontend
        self.listener = listener
        self.backend = None
        self.server = None
        self.frontend_name = frontend.name
        self.fe_ssl = False
        self.backend_name = None
        self.server_name = None
        self.t_idle = self.t_handshake = 0
        self.t_request = self.t_response = self.t_active = -1
        self.t_queue = self.t_connect = self.t_total = -1
        self.bytes_in = self.bytes_out = 0
        self.status = 0
        self.term = "--"
        self.term_cookie = "--"
        self.actconn = self.feconn = self.beconn = self.srvconn = 0
        self.retries = 0
        self.redispatched = False
        self.srv_queue = self.be_queue = 0
        self.req_captures = self.res_captures = None
        self.cookie_req = self.cookie_res = None
        self.method = self.uri = self.version = None
        self.unique_id = None
        self.pump = None
        self.greenlet = None
        self.killed = ""
        # HTTP (gproxy.http.h1): set-log-level, %rt request id, the current transaction
        self.log_level = None
        self.req_id = None
        self.txn = None
        # (cli_ip, cli_port, fe_ip, fe_port) before an http-request set-src/set-dst of
        # the current request (gproxy.http.rules): the next request starts from them again
        self.addr0 = None
        # tracked stick counters (gproxy.stkctr.Trackers), None while nothing is tracked
        self.stkctr = None

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.accept_mono) * 1000)
