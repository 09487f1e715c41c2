"""Small tools for the ``mode http`` integration tests (``test_http_*.py``).

* ``RawBackend``: an origin server that records exactly what it received (head bytes,
  body bytes, Content-Length and chunked bodies read as framed) and answers with what a
  test's ``respond(req)`` returns: raw response bytes, ``None`` (close without
  answering), ``ECHO`` (answer then echo every byte, for tunnels), ``("sleep", s)``
  (answer nothing for ``s`` seconds), or a list sent in stages: bytes, pauses (a float,
  in seconds), a ``threading.Event`` to wait for, ``"close"`` to close there.
  ``store_body=False`` keeps only the length and a digest (50 MB uploads).
* ``exchange(port, parts)``: send raw parts on one client connection and return what
  came back, suffixed with ``<EOF>``, ``<OPEN>`` (still open after ``wait``) or
  ``<RST>``.
* ``HTTPLOG_RE`` / ``parse_httplog``: the fields of an ``option httplog`` line.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from dataclasses import dataclass, field

from helpers import LOCALHOST, _ThreadedServer

ECHO = "echo"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class RawRequest:
    head: bytes
    body: bytes = b""
    body_len: int = 0
    digest: str = ""
    conn_id: int = 0
    headers: list = field(default_factory=list)

    @property
    def raw(self) -> bytes:
        return self.head + self.body

    def header(self, name: str):
        n = name.lower().encode()
        for k, v in self.headers:
            if k.lower() == n:
                return v.decode("latin-1")
        return None


class RawBackend(_ThreadedServer):
    def __init__(self, respond=None, store_body=True):
        self.respond = respond or (lambda req: OK)
        self.store_body = store_body
        self.requests: list[RawRequest] = []
        self._ids = 0
        super().__init__(LOCALHOST, None)

    # ---- reading helpers (blocking socket, per-connection buffer) ----
    @staticmethod
    def _fill(conn, buf: bytearray) -> bool:
        data = conn.recv(262144)
        if not data:
            return False
        buf += data
        return True

    def _read_exact(self, conn, buf: bytearray, n: int, sink) -> bool:
        while n > 0:
            if not buf and not self._fill(conn, buf):
                return False
            take = min(n, len(buf))
            sink(bytes(buf[:take]))
            del buf[:take]
            n -= take
        return True

    def _read_line(self, conn, buf: bytearray) -> bytes | None:
        while b"\n" not in buf:
            if not self._fill(conn, buf):
                return None
        i = buf.index(b"\n") + 1
        line = bytes(buf[:i])
        del buf[:i]
        return line

    def handle(self, conn, addr):
        self._ids += 1
        cid = self._ids
        buf = bytearray()
        while True:
            while b"\r\n\r\n" not in buf:
                if not self._fill(conn, buf):
                    return
            i = buf.index(b"\r\n\r\n") + 4
            head = bytes(buf[:i])
            del buf[:i]
            headers = []
            for line in head.split(b"\r\n")[1:]:
                if b":" in line:
                    k, _, v = line.partition(b":")
                    headers.append((k.strip(), v.strip()))
            req = RawRequest(head, conn_id=cid, headers=headers)
            h = hashlib.sha256()
            parts: list[bytes] = []

            def sink(b, h=h, parts=parts, req=req):
                req.body_len += len(b)
                h.update(b)
                if self.store_body:
                    parts.append(b)

            te = (req.header("transfer-encoding") or "").lower()
            cl = req.header("content-length")
            if "chunked" in te:
                while True:
                    line = self._read_line(conn, buf)
                    if line is None:
                        return
                    if self.store_body:
                        parts.append(line)
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while True:
                            t = self._read_line(conn, buf)
                            if t is None:
                                return
                            if self.store_body:
                                parts.append(t)
                            if t in (b"\r\n", b"\n"):
                                break
                        break
                    if not self._read_exact(conn, buf, size, sink):
                        return
                    crlf = self._read_line(conn, buf)
                    if crlf is None:
                        return
                    if self.store_body:
                        parts.append(crlf)
            elif cl is not None and cl.strip().isdigit() and not self._read_exact(conn, buf, int(cl), sink):
                return
            req.body = b"".join(parts)
            req.digest = h.hexdigest()
            self.requests.append(req)
            r = self.respond(req)
            if r is None:
                return
            if isinstance(r, tuple):
                if r[0] == "sleep":
                    time.sleep(r[1])
                    return
                if r[0] == ECHO:
                    conn.sendall(r[1])
                    if buf:
                        conn.sendall(bytes(buf))
                    while True:
                        data = conn.recv(65536)
                        if not data:
                            return
                        conn.sendall(data)
                if r[0] == "close":
                    conn.sendall(r[1])
                    return
            if isinstance(r, list):  # staged: bytes, pauses (float s), events to wait for, "close"
                for part in r:
                    if isinstance(part, float):
                        time.sleep(part)
                    elif isinstance(part, threading.Event):
                        part.wait(30)
                    elif part == "close":
                        return
                    else:
                        conn.sendall(part)
                continue
            conn.sendall(r)


def exchange(port: int, parts, wait: float = 0.6, gap: float = 0.05, shut: bool = False) -> bytes:
    """Send ``parts`` (None = pause) on a new connection; return all that came back."""
    s = socket.create_connection((LOCALHOST, port))
    s.settimeout(wait)
    try:
        for d in parts:
            if d is None:
                time.sleep(gap * 4)
                continue
            try:
                s.sendall(d)
            except OSError:
                pass
            time.sleep(gap)
        if shut:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        out = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    return out + b"<EOF>"
                out += d
        except TimeoutError:
            return out + b"<OPEN>"
        except ConnectionResetError:
            return out + b"<RST>"
    finally:
        s.close()


def read_response(sock, head_only: bool = False) -> tuple[bytes, bytes]:
    """Read one response with a Content-Length (or none) from a blocking socket."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError(f"closed after {buf!r}")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    n = int(m.group(1)) if m and not head_only else 0
    while len(rest) < n:
        d = sock.recv(65536)
        if not d:
            break
        rest += d
    return head + b"\r\n\r\n", rest


# `option httplog`:
# %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
HTTPLOG_RE = re.compile(
    r"(?P<ci>[0-9a-fA-F.:]+):(?P<cp>\d+) \[(?P<tr>[^\]]+)\] (?P<ft>\S+) "
    r"(?P<b>[^/\s]+)/(?P<s>\S+) (?P<TR>-?\d+)/(?P<Tw>-?\d+)/(?P<Tc>-?\d+)/(?P<Tr>-?\d+)/(?P<Ta>\+?-?\d+) "
    r"(?P<ST>-?\d+) (?P<B>\+?\d+) (?P<CC>\S+) (?P<CS>\S+) (?P<tsc>\S{4}) "
    r"(?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\+?\d+) (?P<sq>\d+)/(?P<bq>\d+)"
    r"(?: (?P<hr>\{[^}]*\}))?(?: (?P<hs>\{[^}]*\}))? \"(?P<r>[^\"]*)\"\s*$"
)


def parse_httplog(line: str) -> dict | None:
    m = HTTPLOG_RE.search(line)
    return m.groupdict() if m else None
