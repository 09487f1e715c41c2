"""The HTTP/1 message model: request and response heads, their headers, and the
transaction that rules, ACLs, sample fetches, cookies and logs look at.

Pure: no sockets, never yields.  Header names are stored lower-case (HAProxy's HTX
forwards them lower-case on HTTP/1 too); values are ``str`` decoded as latin-1 so any
byte round-trips.  ``head_bytes()`` renders a head for the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class Headers:
    """Ordered header list of (lower-case name, value) pairs; names may repeat."""

    __slots__ = ("items",)

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self.items: list[tuple[str, str]] = items if items is not None else []

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get_all(self, name: str) -> list[str]:
        """Every full value of header ``name`` (one per header line), in order."""
        n = name.lower()
        return [v for k, v in self.items if k == n]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The last full value of ``name`` (HAProxy's ``req.fhdr(name,-1)``), else default."""
        n = name.lower()
        for k, v in reversed(self.items):
            if k == n:
                return v
        return default

    def values(self, name: str) -> list[str]:
        """Comma-separated items of every ``name`` line (HAProxy's ``hdr()`` view), stripped."""
        out: list[str] = []
        for v in self.get_all(name):
            out.extend(p.strip() for p in v.split(","))
        return out

    def has(self, name: str) -> bool:
        n = name.lower()
        return any(k == n for k, _ in self.items)

    def count(self, name: str) -> int:
        return len(self.values(name))

    def add(self, name: str, value: str) -> None:
        self.items.append((name.lower(), value))

    def set(self, name: str, value: str) -> None:
        """Remove every ``name`` line, then append one (``http-request set-header``)."""
        self.delete(name)
        self.items.append((name.lower(), value))

    def delete(self, name: str) -> int:
        n = name.lower()
        before = len(self.items)
        self.items = [(k, v) for k, v in self.items if k != n]
        return before - len(self.items)

    def copy(self) -> Headers:
        return Headers(list(self.items))

    def render(self) -> bytes:
        return "".join(f"{k}: {v}\r\n" for k, v in self.items).encode("latin-1")


class Request:
    """A request head."""

    __slots__ = ("body_len", "chunked", "headers", "method", "upgrade", "uri", "version")

    def __init__(self, method: str, uri: str, version: str = "HTTP/1.1", headers: Headers | None = None) -> None:
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers if headers is not None else Headers()
        self.body_len: int | None = None  # Content-Length, None if absent
        self.chunked = False
        self.upgrade = False

    @property
    def path(self) -> str:
        """The path part of the URI (no query), as HAProxy's ``path`` fetch (absolute URIs
        keep only their path)."""
        u = self.uri
        if "://" in u.split("?", 1)[0]:
            rest = u.split("://", 1)[1]
            slash = rest.find("/")
            u = rest[slash:] if slash >= 0 else "/"
        return u.split("?", 1)[0]

    @property
    def query(self) -> str | None:
        return self.uri.split("?", 1)[1] if "?" in self.uri else None

    def head_bytes(self) -> bytes:
        return f"{self.method} {self.uri} {self.version}\r\n".encode("latin-1") + self.headers.render() + b"\r\n"


class Response:
    """A response head."""

    __slots__ = ("body_len", "chunked", "headers", "reason", "status", "version")

    def __init__(self, status: int, reason: str = "", version: str = "HTTP/1.1", headers: Headers | None = None) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers if headers is not None else Headers()
        self.body_len: int | None = None
        self.chunked = False

    def head_bytes(self) -> bytes:
        return f"{self.version} {self.status} {self.reason}\r\n".encode("latin-1") + self.headers.render() + b"\r\n"


class Txn:
    """One HTTP transaction: what ACLs, sample fetches, rules, cookies and logs read.

    ``sess`` is the connection's ``session.Session`` (addresses, frontend, backend,
    server); ``req``/``rsp`` the heads (``rsp`` is None until the response head arrives);
    ``vars`` holds ``txn.*``/``req.*``/``res.*`` variables by full name.  ``waiter`` is
    set by the engine that runs the rules: ``waiter(txn, side, time_ms, at_least)`` reads
    more of the request (``side`` 'req') or response ('res') body for a ``wait-for-body``
    rule, blocking the session's greenlet, and returns None to go on with the rules or a
    verdict that ends them (the body did not come in time); None: nothing to wait for.
    ``interim`` is also set by the engine: ``interim(items)`` sends the client an
    interim ``103 Early Hints`` response with these header fields now
    (``http-request early-hint``).  ``t_server``/``t_tunnel`` are this transaction's
    ``http-request set-timeout`` values in seconds, 0 when unset (the backend's
    ``timeout server``/``timeout tunnel`` apply); a negative value has already expired.
    """

    __slots__ = (
        "captures_req",
        "captures_rsp",
        "cookie_srv",
        "extra",
        "interim",
        "log_level",
        "req",
        "rsp",
        "sess",
        "status",
        "t_server",
        "t_tunnel",
        "vars",
        "waiter",
    )

    def __init__(self, sess: Any, req: Request) -> None:
        self.sess = sess
        self.req = req
        self.rsp: Response | None = None
        self.vars: dict[str, Any] = {}
        self.status = -1
        self.captures_req: list[str | None] = []
        self.captures_rsp: list[str | None] = []
        self.cookie_srv: Any = None  # server named by the persistence cookie, if any
        self.log_level: Any = None
        self.extra: dict[str, Any] = {}
        self.waiter: Any = None
        self.interim: Any = None
        self.t_server = self.t_tunnel = 0.0
