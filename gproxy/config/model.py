"""The configuration model: plain dataclasses that keyword handlers fill in.

Owns the shape of a parsed configuration and HAProxy's built-in defaults for every field.
It knows nothing of sockets or of the runtime objects built from it (``runtime.build``):
a ``-c`` check and a reload both start from a fresh Model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .values import Address


@dataclass
class LogTarget:
    """One ``log`` line: where, which format, which facility and levels."""

    kind: str  # 'udp' | 'unix' | 'stdout' | 'stderr' | 'fd'
    host: str = ""
    port: int = 514
    path: str = ""
    fd: int = -1
    length: int = 1024
    format: str = "local"
    facility: int = 3  # daemon
    max_level: int = 7
    min_level: int = 0
    file: str = ""
    line: int = 0


@dataclass
class Global:
    maxconn: int | None = None
    maxconnrate: int = 0  # global.cps_lim: new connections per second, 0 = none
    maxsessrate: int = 0  # global.sps_lim: new sessions per second, 0 = none
    daemon: bool = False
    pidfile: str | None = None
    user: str | None = None
    group: str | None = None
    uid: int | None = None
    gid: int | None = None
    chroot: str | None = None
    logs: list[LogTarget] = field(default_factory=list)
    log_tag: str = "haproxy"
    log_send_hostname: str | None = None
    hard_stop_after: int | None = None  # ms
    nbthread: int | None = None
    node: str = ""
    description: str = ""
    stats_timeout: int = 10000
    tune: dict[str, Any] = field(default_factory=dict)
    # stats sockets and other runtime-API settings, filled by the admin module
    stats_sockets: list[Any] = field(default_factory=list)


@dataclass
class Bind:
    addresses: list[Address]
    file: str = ""
    line: int = 0
    name: str | None = None
    id: int | None = None
    accept_proxy: bool = False
    maxconn: int = 0
    backlog: int = 0
    v4v6: bool = False
    v6only: bool = False
    transparent: bool = False
    defer_accept: bool = False
    # unix socket permissions
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    level: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServerSpec:
    """A ``server`` line, or the ``default-server`` template (``name`` empty)."""

    name: str = ""
    address: Address | None = None
    file: str = ""
    line: int = 0
    id: int | None = None
    weight: int = 1
    maxconn: int = 0
    minconn: int = 0
    maxqueue: int = 0
    backup: bool = False
    disabled: bool = False
    slowstart: int = 0  # ms
    cookie: str | None = None
    # health checks
    check: bool = False
    inter: int = 2000
    fastinter: int | None = None
    downinter: int | None = None
    rise: int = 2
    fall: int = 3
    check_port: int | None = None
    check_addr: str | None = None
    check_send_proxy: bool = False
    # PROXY protocol towards the server
    send_proxy: bool = False
    send_proxy_v2: bool = False
    on_marked_down: str | None = None  # 'shutdown-sessions'
    on_marked_up: str | None = None  # 'shutdown-backup-sessions'
    ssl: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckRule:
    """One ``tcp-check`` / ``http-check`` rule, kept as its keyword and arguments."""

    kind: str  # 'connect' | 'send' | 'send-binary' | 'expect' | 'comment' | ...
    args: list[str]
    file: str = ""
    line: int = 0


@dataclass
class HttpCheck:
    """``option httpchk`` and ``http-check send`` request settings."""

    method: str = "OPTIONS"
    uri: str = "/"
    version: str = "HTTP/1.0"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""


@dataclass
class UseBackend:
    name: str
    cond: list[str]  # ['if'|'unless', words...] or []
    file: str = ""
    line: int = 0


TIMEOUT_NAMES = (
    "connect",
    "client",
    "server",
    "queue",
    "tunnel",
    "client-fin",
    "server-fin",
    "check",
    "http-request",
    "http-keep-alive",
    "tarpit",
)
FE_TIMEOUTS = ("client", "client-fin", "http-request", "http-keep-alive")
BE_TIMEOUTS = ("connect", "server", "queue", "tunnel", "server-fin", "check")


@dataclass
class Proxy:
    """A defaults, frontend, backend or listen section."""

    kind: str  # 'defaults' | 'frontend' | 'backend' | 'listen'
    name: str
    file: str = ""
    line: int = 0
    defaults_name: str | None = None  # the defaults section it was created from
    mode: str = "tcp"
    disabled: bool = False
    id: int | None = None
    binds: list[Bind] = field(default_factory=list)
    servers: list[ServerSpec] = field(default_factory=list)
    default_server: ServerSpec = field(default_factory=ServerSpec)
    balance: tuple[str, ...] = ("roundrobin",)
    balance_set: bool = False
    hash_type: tuple[str, str, bool] = ("map-based", "sdbm", False)
    hash_balance_factor: int = 0  # bounded-load consistent hashing (x 100), 0 = off
    maxconn: int = 0
    rate_limit: int = 0  # 'rate-limit sessions': new sessions per second, 0 = none
    backlog: int = 0
    fullconn: int = 0
    timeouts: dict[str, int] = field(default_factory=dict)
    retries: int = 3
    redispatch: int | None = None  # None = off; -1 = on last retry; N = every Nth retry
    options: dict[str, Any] = field(default_factory=dict)
    logs: list[LogTarget] = field(default_factory=list)
    log_global: bool = False
    no_log: bool = False
    log_format: str | None = None
    default_backend: str | None = None
    use_backends: list[UseBackend] = field(default_factory=list)
    check_kind: str = "tcp"  # 'tcp' | 'httpchk' | 'tcp-check' | 'mysql-check' | 'redis-check' | ...
    check_args: list[str] = field(default_factory=list)
    httpchk: HttpCheck = field(default_factory=HttpCheck)
    tcp_checks: list[CheckRule] = field(default_factory=list)
    http_checks: list[CheckRule] = field(default_factory=list)
    # HTTP / L7 (filled by gproxy.http.* keyword handlers; compiled objects, no I/O)
    acls: dict[str, list[Any]] = field(default_factory=dict)  # name -> ACL terms (OR-ed)
    http_request: list[Any] = field(default_factory=list)
    http_response: list[Any] = field(default_factory=list)
    http_after_response: list[Any] = field(default_factory=list)
    tcp_request_connection: list[Any] = field(default_factory=list)
    tcp_request_content: list[Any] = field(default_factory=list)
    cookie: Any = None  # gproxy.http.cookie.CookieSpec
    # capture slots in declaration order: (header name, len) for 'capture request|response
    # header', (None, len) for 'declare capture' and 'http-request capture ... len'
    captures_req: list[tuple[str | None, int]] = field(default_factory=list)
    captures_rsp: list[tuple[str | None, int]] = field(default_factory=list)
    errorfiles: dict[int, bytes] = field(default_factory=dict)  # status -> full raw response
    forwardfor: dict[str, Any] | None = None  # option forwardfor: {'header', 'except', 'if-none'}
    originalto: dict[str, Any] | None = None
    stats: Any = None  # stats page settings (gproxy.stats)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_fe(self) -> bool:
        return self.kind in ("frontend", "listen", "defaults")

    @property
    def has_be(self) -> bool:
        return self.kind in ("backend", "listen", "defaults")

    def inherit(self, kind: str, name: str, file: str, line: int) -> Proxy:
        """A new proxy section that starts from this defaults section's settings."""
        new = copy.deepcopy(self)
        new.kind, new.name, new.file, new.line = kind, name, file, line
        new.defaults_name = self.name
        new.binds, new.servers, new.use_backends = [], [], []
        new.default_backend = None if kind == "backend" else new.default_backend
        new.id = None
        return new


@dataclass
class Model:
    """A whole configuration: global settings and proxies in declaration order."""

    glob: Global = field(default_factory=Global)
    proxies: list[Proxy] = field(default_factory=list)
    defaults: dict[str, Proxy] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    sections: dict[str, list[Any]] = field(default_factory=dict)  # userlist, resolvers, ...

    def frontends(self) -> list[Proxy]:
        return [p for p in self.proxies if p.kind in ("frontend", "listen")]

    def backends(self) -> list[Proxy]:
        return [p for p in self.proxies if p.kind in ("backend", "listen")]

    def find_backend(self, name: str) -> Proxy | None:
        for p in self.proxies:
            if p.name == name and p.kind in ("backend", "listen"):
                return p
        return None
