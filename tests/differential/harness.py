"""Machinery of the differential tests: wire parsing, the recording backend, the raw
client, the two proxy processes of a pair, and the comparison views.

* ``parse_message`` -- lenient HTTP/1 framing (head, content-length, chunked,
  close-delimited) used to read what the proxies emit, both ways;
* ``RecordingBackend`` -- a raw-socket server on one or more loopback ports that logs
  every request it receives per connection and plays the scenario's script (scripted
  responses: content-length, chunked, close-delimited, 1xx, 101 + tunnel echo, slow,
  malformed, hang-up);
* ``run_client`` -- sends a scenario's raw bytes (with pauses / waits), reads until the
  proxy closes or goes quiet after a complete response;
* ``Pair`` -- the haproxy and gproxy (or second haproxy in self-test) instances of one
  config, each with its own ports and backend; ``Pair.run(scenario)`` plays a scenario
  on both at once and returns ``(haproxy_outcome, gproxy_outcome)``;
* ``run_both(cfg, scenarios, workdir)`` -- one-shot form of the above;
* ``Outcome.view()`` / ``compare()`` -- the compared aspects and a readable diff.
"""

from __future__ import annotations

import difflib
import os
import pprint
import re
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import helpers
import pytest

LOCAL = "127.0.0.1"

#: response headers whose value changes from one run to the next
VOLATILE_HEADERS = frozenset({"date"})

#: every aspect compared; ``DELIBERATE`` entries name the subset they keep
ASPECTS = ("status", "response_heads", "response_bodies", "closed", "server_requests",
           "server_silent")


def selftest() -> bool:
    """True when the "gproxy" slot runs a second haproxy (harness self-test)."""
    if os.environ.get("GPROXY_DIFF_SELFTEST", "").strip() not in ("", "0"):
        return True
    return helpers.proxy_flavour() == "haproxy"


# ====================================================================== wire parsing

class WireError(ValueError):
    """Bytes that are not an HTTP/1 message even for a lenient reader."""


_HEAD_END = re.compile(rb"\r?\n\r?\n")
_HEX = re.compile(rb"[0-9A-Fa-f]+")


@dataclass
class Message:
    """One HTTP/1 message as seen on the wire."""

    start: str                              # request or status line
    headers: list[tuple[str, str | None]]   # name as sent, value OWS-stripped (None: no colon)
    body: bytes = b""
    trailers: list[tuple[str, str | None]] = field(default_factory=list)
    bare_lf: bool = False                   # some head line ended in LF alone
    complete: bool = True

    @property
    def code(self) -> int:
        parts = self.start.split(" ", 2)
        try:
            return int(parts[1])
        except (IndexError, ValueError):
            return 0

    @property
    def method(self) -> str:
        return self.start.split(" ", 1)[0]

    @property
    def version(self) -> str:
        return self.start.rsplit(" ", 1)[-1] if " " in self.start else ""

    def header(self, name: str) -> list[str]:
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n and v is not None]

    def tokens(self, name: str) -> list[str]:
        return [t.strip().lower() for v in self.header(name) for t in v.split(",") if t.strip()]


def _split_lines(head: bytes) -> tuple[list[str], bool]:
    lines = head.split(b"\n")
    bare = any(not ln.endswith(b"\r") for ln in lines[:-1])
    return [ln[:-1].decode("latin-1") if ln.endswith(b"\r") else ln.decode("latin-1")
            for ln in lines], bare


def _fields(lines: list[str]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for line in lines:
        if not line:
            continue
        name, sep, value = line.partition(":")
        out.append((name, value.strip(" \t") if sep else None))
    return out


def parse_head(head: bytes) -> Message:
    """Start line + fields of a head (without its final empty line)."""
    lines, bare = _split_lines(head)
    return Message(start=lines[0], headers=_fields(lines[1:]), bare_lf=bare)


def _find_head(buf: bytes | bytearray, pos: int) -> tuple[int, int] | None:
    """(end of head content, start of body) of the head at *pos*, skipping leading
    empty lines (RFC 9112 2.2); None if incomplete."""
    while buf.startswith(b"\r\n", pos) or buf.startswith(b"\n", pos):
        pos += 2 if buf[pos] == 13 else 1
    m = _HEAD_END.search(buf, pos)
    if m is None:
        return None
    return m.start(), m.end()


def decode_chunked(buf: bytes | bytearray, pos: int):
    """Decode a chunked body at *pos*: ``(body, trailers, end)``, None if incomplete;
    WireError if malformed (lenient: sizes in hex, extensions ignored)."""
    body = bytearray()
    while True:
        eol = buf.find(b"\n", pos)
        if eol < 0:
            return None
        line = bytes(buf[pos:eol]).rstrip(b"\r")
        size_txt = line.split(b";", 1)[0].strip(b" \t")
        if not _HEX.fullmatch(size_txt) or len(size_txt) > 16:
            raise WireError(f"bad chunk size line {line!r}")
        size = int(size_txt, 16)
        pos = eol + 1
        if size == 0:
            trailers = []
            while True:
                eol = buf.find(b"\n", pos)
                if eol < 0:
                    return None
                line = bytes(buf[pos:eol]).rstrip(b"\r")
                pos = eol + 1
                if not line:
                    return bytes(body), _fields([t.decode("latin-1") for t in trailers]), pos
                trailers.append(line)
        if len(buf) < pos + size:
            return None
        body += buf[pos:pos + size]
        pos += size
        if buf.startswith(b"\r\n", pos):
            pos += 2
        elif buf.startswith(b"\n", pos):
            pos += 1
        elif len(buf) - pos < 2:
            return None
        else:
            raise WireError("chunk data not followed by CRLF")


def parse_message(buf: bytes | bytearray, pos: int = 0, *, request: bool,
                  req_method: str = "GET", eof: bool = False):
    """Parse the message at *pos*.  Returns ``(msg, end)``; ``msg`` is None when the
    head is incomplete; ``msg.complete`` is False when the body is.  Response bodies
    without a length run to EOF (``complete`` only once *eof*).  101 responses and 2xx
    answers to CONNECT have no body (what follows is tunnel data)."""
    found = _find_head(buf, pos)
    if found is None:
        return None, pos
    head_end, body_start = found
    while buf.startswith(b"\r\n", pos) or buf.startswith(b"\n", pos):
        pos += 2 if buf[pos] == 13 else 1
    msg = parse_head(bytes(buf[pos:head_end]))
    if buf[head_end:body_start] != b"\r\n\r\n":
        msg.bare_lf = True
    te = msg.tokens("transfer-encoding")
    cls = msg.header("content-length")
    if request:
        no_body = False
    else:
        code = msg.code
        no_body = (req_method == "HEAD" or 100 <= code < 200 or code in (204, 304)
                   or (req_method == "CONNECT" and 200 <= code < 300))
    if no_body:
        return msg, body_start
    if te and te[-1] == "chunked":
        got = decode_chunked(buf, body_start)
        if got is None:
            msg.complete = False
            msg.body = bytes(buf[body_start:])
            return msg, len(buf)
        msg.body, msg.trailers, end = got
        return msg, end
    if cls:
        first = cls[0].split(",")[0].strip()
        if not first.isdigit():
            raise WireError(f"bad content-length {cls!r}")
        n = int(first)
        if len(buf) - body_start < n:
            msg.complete = False
            msg.body = bytes(buf[body_start:])
            return msg, len(buf)
        msg.body = bytes(buf[body_start:body_start + n])
        return msg, body_start + n
    if request:
        return msg, body_start
    msg.body = bytes(buf[body_start:])
    msg.complete = eof
    return msg, len(buf)


def request_methods(data: bytes) -> list[str]:
    """Methods of the requests in *data* (a client's raw bytes), as far as they parse:
    the client needs them to frame the responses (HEAD, CONNECT)."""
    out: list[str] = []
    pos = 0
    while pos < len(data):
        try:
            msg, end = parse_message(data, pos, request=True)
        except WireError:
            break
        if msg is None:
            # a head without its final empty line (HTTP/0.9, truncated): one request
            if data[pos:].strip():
                out.append(data[pos:].split(b" ", 1)[0].decode("latin-1").strip())
            break
        out.append(msg.method)
        if end <= pos:
            break
        pos = end
    return out


def _clip(text: str, limit: int = 160) -> str:
    """Long texts shortened for the diff, still compared exactly (length + CRC)."""
    if len(text) <= limit:
        return text
    crc = zlib.crc32(text.encode("latin-1", "replace"))
    return f"{text[:100]}...<{len(text)} chars, crc32 {crc:08x}>...{text[-20:]}"


def _show(data: bytes) -> str:
    """bytes for the diff: latin-1 text, control characters escaped."""
    return _clip(repr(bytes(data))[2:-1]) if data else ""


def _fieldlist(fields) -> list[str]:
    lines = [f"{k}: {v}" if v is not None else f"{k} <no colon>" for k, v in fields]
    if len(lines) > 24:     # keep diffs short; the middle is still compared (count + CRC)
        middle = "\n".join(lines[8:-4])
        crc = zlib.crc32(middle.encode("latin-1", "replace"))
        lines = [*lines[:8], f"<{len(lines) - 12} more lines, crc32 {crc:08x}>", *lines[-4:]]
    return [_clip(line) for line in lines]


# ====================================================================== scripts

#: a backend action: ("send", bytes) | ("sleep", seconds) | ("close",) | ("tunnel",)
Action = tuple


@dataclass(frozen=True)
class Script:
    """What the backend answers: ``responses[i]`` (a tuple of actions) to the i-th
    request of a connection, the last one repeated.  ``send_continue`` answers
    ``Expect: 100-continue`` with an interim ``100 Continue`` before reading the body."""

    responses: tuple = ()
    send_continue: bool = True

    def actions_for(self, index: int) -> tuple:
        if not self.responses:
            return ok()
        return self.responses[min(index, len(self.responses) - 1)]


def _head(status: int, reason: str, headers, version="HTTP/1.1") -> bytes:
    lines = [f"{version} {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


DEFAULT_RESPONSE_HEADERS = (("Content-Type", "text/plain"), ("X-Backend", "rec"))


def ok(body: bytes = b"hello world\n", status=200, reason="OK", headers=DEFAULT_RESPONSE_HEADERS,
       version="HTTP/1.1") -> tuple:
    """A content-length response."""
    hdrs = (*headers, ("Content-Length", str(len(body))))
    return (("send", _head(status, reason, hdrs, version) + body),)


def chunked(parts=(b"hello ", b"world\n"), trailers=(), headers=DEFAULT_RESPONSE_HEADERS) -> tuple:
    hdrs = (*headers, ("Transfer-Encoding", "chunked"))
    out = bytearray(_head(200, "OK", hdrs))
    for p in parts:
        out += b"%x\r\n%s\r\n" % (len(p), p)
    out += b"0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in trailers) + b"\r\n"
    return (("send", bytes(out)),)


def close_delimited(body=b"until close\n", headers=DEFAULT_RESPONSE_HEADERS, version="HTTP/1.1") -> tuple:
    """No length: the body ends when the server closes."""
    return (("send", _head(200, "OK", headers, version) + body), ("close",))


def raw(data: bytes, close=False) -> tuple:
    return (("send", data),) + ((("close",),) if close else ())


def interim(status=103, reason="Early Hints", headers=(("Link", "</s.css>; rel=preload"),)) -> tuple:
    return (("send", _head(status, reason, headers)),)


def switching(accept=True, proto="websocket") -> tuple:
    """101 Switching Protocols, then echo every byte (tunnel)."""
    hdrs = [("Upgrade", proto), ("Connection", "Upgrade")]
    if accept:
        hdrs.append(("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
    return (("send", _head(101, "Switching Protocols", hdrs)), ("tunnel",))


def connect_ok() -> tuple:
    return (("send", b"HTTP/1.1 200 Connection established\r\n\r\n"), ("tunnel",))


def slow(seconds: float, then: tuple) -> tuple:
    return (("sleep", seconds), *then)


def hangup() -> tuple:
    return (("close",),)


# ====================================================================== recording backend

@dataclass
class Record:
    tag: str
    conn: int          # connection number (per backend)
    server: str        # which listening port (server name of the corpus config)
    kind: str          # request | garbage | partial | tunnel
    msg: Message | None = None
    data: bytes = b""

    def view(self):
        if self.kind == "request":
            m = self.msg
            out = {"line": _clip(m.start), "headers": _fieldlist(m.headers)}
            if m.body:
                out["body"] = _show(m.body)
            if m.trailers:
                out["trailers"] = _fieldlist(m.trailers)
            if m.bare_lf:
                out["bare_lf"] = True
            return out
        return {self.kind: _show(self.data)}


class RecordingBackend:
    """Raw-socket HTTP/1 server on one loopback port per name in *servers*.

    Every request received is recorded with the tag that was current when its head was
    complete (``begin(tag, script)`` switches tag and script between scenarios).  With
    *checks*, a first request ``<METHOD> /`` without a Host header is a health check:
    answered 200, closed, and kept apart in ``checks`` (corpus requests to such configs
    always carry a Host header).
    """

    def __init__(self, servers=("s1",), checks=False):
        self.detect_checks = checks
        self._lsocks = {}
        self.ports = {}
        for name in servers:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((LOCAL, 0))
            s.listen(128)
            self._lsocks[name] = s
            self.ports[name] = s.getsockname()[1]
        self._lock = threading.Lock()
        self._stopping = False
        self.tag = ""
        self.script = Script()
        self.records: list[Record] = []
        self.checks: list[tuple[str, Message]] = []
        self._conns: set[socket.socket] = set()
        self._nconn = 0
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="recbackend")
        self._thread.start()

    def begin(self, tag: str, script: Script):
        with self._lock:
            self.tag, self.script = tag, script

    def collect(self, tag: str) -> list[Record]:
        with self._lock:
            return [r for r in self.records if r.tag == tag]

    def _accept_loop(self):
        by_fd = {s.fileno(): (name, s) for name, s in self._lsocks.items()}
        while not self._stopping:
            try:
                ready, _, _ = select.select(list(by_fd), [], [], 0.1)
            except (OSError, ValueError):
                return
            for fd in ready:
                name, ls = by_fd[fd]
                try:
                    conn, _ = ls.accept()
                except OSError:
                    continue
                with self._lock:
                    self._nconn += 1
                    cid = self._nconn
                    self._conns.add(conn)
                threading.Thread(target=self._serve, args=(conn, name, cid), daemon=True).start()

    def _recv(self, conn) -> bytes | None:
        """Next bytes; b"" on EOF/reset; None when stopping."""
        while not self._stopping:
            try:
                ready, _, _ = select.select([conn], [], [], 0.1)
            except (OSError, ValueError):
                return b""
            if ready:
                try:
                    return conn.recv(65536)
                except OSError:
                    return b""
        return None

    def _record(self, tag, cid, server, kind, msg=None, data=b""):
        with self._lock:
            self.records.append(Record(tag, cid, server, kind, msg, bytes(data)))

    def _serve(self, conn, server, cid):
        try:
            self._serve_conn(conn, server, cid)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def _serve_conn(self, conn, server, cid):
        buf = bytearray()
        nreq = 0
        eof = False
        sent_continue = False
        while True:
            try:
                msg, end = parse_message(buf, 0, request=True, eof=eof)
            except WireError:
                with self._lock:
                    tag = self.tag
                self._record(tag, cid, server, "garbage", data=buf)
                return
            if msg is None or not msg.complete:
                if msg is not None and not sent_continue and "100-continue" in msg.tokens("expect"):
                    with self._lock:
                        script = self.script
                    if script.send_continue:
                        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    sent_continue = True
                if eof:
                    if buf.strip():
                        with self._lock:
                            tag = self.tag
                        self._record(tag, cid, server, "partial", data=buf)
                    return
                data = self._recv(conn)
                if data is None:
                    return
                if not data:
                    eof = True
                buf += data
                continue
            del buf[:end]
            if (self.detect_checks and nreq == 0 and msg.start.split(" ")[1:2] == ["/"]
                    and not msg.header("host")):
                with self._lock:
                    self.checks.append((server, msg))
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                return
            with self._lock:
                tag, script = self.tag, self.script
            self._record(tag, cid, server, "request", msg)
            actions = script.actions_for(nreq)
            nreq += 1
            sent_continue = False
            for act in actions:
                if act[0] == "send":
                    conn.sendall(act[1])
                elif act[0] == "sleep":
                    deadline = time.monotonic() + act[1]
                    while not self._stopping and time.monotonic() < deadline:
                        time.sleep(0.02)
                elif act[0] == "close":
                    return
                elif act[0] == "tunnel":
                    self._tunnel(conn, server, cid, tag, bytes(buf))
                    return
            if msg.version == "HTTP/1.0":
                keep = "keep-alive" in msg.tokens("connection")
            else:
                keep = "close" not in msg.tokens("connection")
            if not keep and not buf:
                # Close as asked -- but only once the proxy has closed its side or after
                # a while: closing first races with the proxy's own close in ways that
                # change what even haproxy does with the client connection.
                try:
                    ready, _, _ = select.select([conn], [], [], 0.5)
                except (OSError, ValueError):
                    return
                if not ready:
                    return

    def _tunnel(self, conn, server, cid, tag, pending: bytes):
        """Echo everything back, recording it."""
        if pending:
            self._record(tag, cid, server, "tunnel", data=pending)
            conn.sendall(pending)
        while True:
            data = self._recv(conn)
            if not data:
                return
            self._record(tag, cid, server, "tunnel", data=data)
            conn.sendall(data)

    def stop(self):
        self._stopping = True
        self._thread.join(timeout=2)
        for s in self._lsocks.values():
            s.close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# ====================================================================== client

@dataclass(frozen=True)
class Pause:
    """Client step: wait (reading) this long before the next step."""

    seconds: float = 0.1


class _Wait:
    """Client step: wait until every request sent so far has its final response."""

    def __repr__(self):
        return "WAIT"


WAIT = _Wait()


@dataclass
class Outcome:
    """What one proxy did with one scenario."""

    flavour: str
    responses: list[Message] = field(default_factory=list)
    tail: bytes = b""          # bytes after the last parsed response (tunnel data, junk)
    tunnel: bool = False
    closed: str = "open"       # open | closed | no answer (deadline, nothing settled)
    close_kind: str = ""       # fin | rst
    records: list[Record] = field(default_factory=list)
    error: str = ""            # the proxy is not running, could not connect...
    notes: list[str] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)   # client timeline
    log: str = ""              # what the proxy wrote on stdout/stderr meanwhile
    raw: bytes = b""

    def view(self, aspects=ASPECTS) -> dict:
        if self.error:
            return {"error": self.error}
        v = {}
        if "status" in aspects:
            v["status"] = [_clip(m.start) for m in self.responses]
        if "response_heads" in aspects:
            v["response_heads"] = [
                [_clip(m.start), *_fieldlist((k, val) for k, val in m.headers
                                      if k.lower() not in VOLATILE_HEADERS)]
                + (["<bare LF>"] if m.bare_lf else [])
                for m in self.responses]
        if "response_bodies" in aspects:
            v["response_bodies"] = [_show(m.body) + ("" if m.complete else " <incomplete>")
                                    for m in self.responses]
            v["after_responses"] = ("tunnel: " if self.tunnel else "") + _show(self.tail)
        if "closed" in aspects:
            v["closed"] = self.closed
        if "server_requests" in aspects:
            conns: dict[int, list] = {}
            for r in self.records:
                conns.setdefault(r.conn, [f"server {r.server}"]).append(r.view())
            v["server_requests"] = list(conns.values())
        if "server_silent" in aspects:
            v["server_silent"] = not self.records
        return v


def _parse_client(data: bytes, methods: list[str], eof: bool):
    """(responses, tail, tunnel, settled) of the bytes a client received."""
    responses: list[Message] = []
    pos = 0
    finals = 0
    while pos < len(data):
        method = methods[finals] if finals < len(methods) else "GET"
        try:
            msg, end = parse_message(data, pos, request=False, req_method=method, eof=eof)
        except WireError:
            return responses, data[pos:], False, True
        if msg is None:
            return responses, data[pos:], False, False
        responses.append(msg)
        pos = end
        code = msg.code
        if code == 101 or (method == "CONNECT" and 200 <= code < 300):
            return responses, data[pos:], True, True
        if not msg.complete:
            return responses, b"", False, False
        if not 100 <= code < 200:
            finals += 1
    settled = bool(responses) and not 100 <= responses[-1].code < 200
    return responses, b"", False, settled


def _finals(data, methods, eof=False) -> int:
    responses = _parse_client(data, methods, eof)[0]
    return sum(1 for m in responses if not 100 <= m.code < 200 or m.code == 101)


def run_client(port: int, steps, flavour="", quiet=0.2, deadline=4.0) -> Outcome:
    """Play *steps* (bytes to send, ``Pause``, ``WAIT``) on a fresh connection to
    *port*; then read until the proxy closes, or *quiet* seconds pass with nothing new
    once every request sent has its final response, or *deadline* seconds after the
    start."""
    out = Outcome(flavour)
    methods = request_methods(b"".join(s for s in steps if isinstance(s, bytes)))
    start = time.monotonic()
    end_by = start + deadline
    try:
        sock = socket.create_connection((LOCAL, port), timeout=2.0)
    except OSError as exc:
        out.error = f"cannot connect to {LOCAL}:{port}: {exc}"
        return out
    data = bytearray()
    sent = bytearray()
    eof = False

    def pump(wait: float) -> bool:
        nonlocal eof
        if eof:
            return False
        ready, _, _ = select.select([sock], [], [], max(0.0, wait))
        if not ready:
            return False
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            eof, out.close_kind = True, "rst"
            out.events.append((round(time.monotonic() - start, 3), "reset"))
            return True
        if not chunk:
            eof, out.close_kind = True, "fin"
            out.events.append((round(time.monotonic() - start, 3), "eof"))
            return True
        data.extend(chunk)
        out.events.append((round(time.monotonic() - start, 3), f"recv {len(chunk)}"))
        return True

    try:
        for step in steps:
            if isinstance(step, bytes):
                try:
                    sock.sendall(step)
                    sent.extend(step)
                    out.events.append((round(time.monotonic() - start, 3), f"sent {len(step)}"))
                except OSError as exc:
                    out.notes.append(f"send failed: {exc}")
                    break
                while pump(0):
                    pass
            elif isinstance(step, Pause):
                until = time.monotonic() + step.seconds
                while time.monotonic() < until:
                    pump(until - time.monotonic())
            elif step is WAIT:
                target = len(request_methods(bytes(sent)))
                while not eof and time.monotonic() < end_by and _finals(data, methods) < target:
                    pump(end_by - time.monotonic())
        while not eof and time.monotonic() < end_by:
            # settled: every request sent has its final response (or a tunnel is up)
            responses, _, tunnel, settled = _parse_client(bytes(data), methods, eof)
            finals = sum(1 for m in responses if not 100 <= m.code < 200 or m.code == 101)
            if settled and (tunnel or finals >= len(methods)):
                if not pump(min(quiet, end_by - time.monotonic())):
                    break
            else:
                pump(end_by - time.monotonic())
    finally:
        sock.close()
    out.raw = bytes(data)
    out.responses, out.tail, out.tunnel, settled = _parse_client(out.raw, methods, eof)
    if eof:
        out.closed = "closed"
    elif not settled:
        out.closed = "no answer"
    return out


# ====================================================================== proxies

def haproxy_cmd() -> list[str]:
    exe = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if exe is None:
        raise RuntimeError("haproxy not found")
    return [exe, "-db"]


def gproxy_cmd() -> list[str]:
    script = helpers.REPO / "gproxy.py"
    return [sys.executable, str(script)] if script.exists() else [sys.executable, "-m", "gproxy"]


class ProxyProc:
    """One proxy process; ``error`` holds why it is not running (config refused...)."""

    def __init__(self, flavour, cmd, cfg_text, workdir: Path, ports, start_timeout=15.0):
        self.flavour = flavour
        workdir.mkdir(parents=True, exist_ok=True)
        self.cfg_path = workdir / "proxy.cfg"
        self.cfg_path.write_text(cfg_text)
        self.stderr_path = workdir / "proxy.stderr"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(helpers.REPO), env.get("PYTHONPATH", "")) if p)
        self.cmd = [*cmd, "-f", str(self.cfg_path)]
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         env=env, cwd=str(workdir), start_new_session=True)
        self.error = ""
        deadline = time.monotonic() + start_timeout
        pending = list(ports)
        while pending:
            if self.proc.poll() is not None:
                self.error = (f"{flavour} exited with {self.proc.returncode} at start-up:\n"
                              f"{self.stderr()}")
                return
            if helpers._is_listening(pending[0]):
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                self.error = f"{flavour} not listening on {pending[0]} after {start_timeout}s:\n{self.stderr()}"
                return
            time.sleep(0.02)

    def stderr(self, offset: int = 0) -> str:
        try:
            with open(self.stderr_path, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stderr_size(self) -> int:
        try:
            return self.stderr_path.stat().st_size
        except FileNotFoundError:
            return 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class Side:
    """One proxy of a pair with its own ports, files and recording backend."""

    def __init__(self, flavour, cmd, config, cfg_text, workdir: Path):
        self.flavour = flavour
        self.backend = RecordingBackend(config.servers, config.checks)
        self.fe_ports = {name: helpers.free_port() for name in config.frontends}
        subst = {**self.fe_ports, **self.backend.ports}
        for name in config.dead:
            subst[name] = helpers.free_port()     # nothing listens there
        workdir.mkdir(parents=True, exist_ok=True)
        for fname, content in config.files.items():
            (workdir / fname).write_bytes(content)
        subst["dir"] = str(workdir)
        text = cfg_text
        for k, v in subst.items():
            text = text.replace(f"@{k}@", str(v))
        leftover = re.findall(r"@[A-Za-z0-9_]+@", text)
        if leftover:
            raise ValueError(f"config {config.name}: unknown placeholders {leftover}")
        self.proc = ProxyProc(flavour, cmd, text, workdir, list(self.fe_ports.values()))
        self.tagno = 0

    def run(self, scenario, tag: str) -> Outcome:
        if self.proc.error:
            return Outcome(self.flavour, error=self.proc.error)
        if not self.proc.alive():
            return Outcome(self.flavour, error=f"{self.flavour} is not running (exit "
                                               f"{self.proc.proc.returncode}):\n{self.proc.stderr()[-3000:]}")
        self.backend.begin(tag, scenario.script)
        log_from = self.proc.stderr_size()
        out = run_client(self.fe_ports[scenario.frontend], scenario.steps, self.flavour,
                         quiet=scenario.quiet, deadline=scenario.deadline)
        time.sleep(0.03)    # let the backend threads record what is in flight
        out.records = self.backend.collect(tag)
        out.log = self.proc.stderr(log_from)
        if not self.proc.alive():
            out.error = f"{self.flavour} died during the scenario:\n{self.proc.stderr()[-3000:]}"
        return out

    def stop(self):
        self.proc.stop()
        self.backend.stop()


class Pair:
    """haproxy and gproxy (a second haproxy in self-test) on one config."""

    def __init__(self, config, workdir: Path, self_test: bool | None = None):
        self.config = config
        self.self_test = selftest() if self_test is None else self_test
        hap_text = config.haproxy_text or config.text
        gpx_text = hap_text if self.self_test else config.text
        self.sides: list[Side] = []
        try:
            self.sides.append(Side("haproxy", haproxy_cmd(), config, hap_text, workdir / "haproxy"))
            if self.self_test:
                self.sides.append(Side("haproxy#2", haproxy_cmd(), config, gpx_text, workdir / "haproxy2"))
            else:
                self.sides.append(Side("gproxy", gproxy_cmd(), config, gpx_text, workdir / "gproxy"))
        except BaseException:
            self.stop()
            raise
        self._n = 0
        if self.sides[0].proc.error:
            raise RuntimeError(f"haproxy refused corpus config {config.name!r}:\n{self.sides[0].proc.error}")

    @property
    def haproxy(self) -> Side:
        return self.sides[0]

    @property
    def gproxy(self) -> Side:
        return self.sides[1]

    def run(self, scenario) -> tuple[Outcome, Outcome]:
        self._n += 1
        tag = f"{scenario.id}#{self._n}"
        results: list[Outcome | None] = [None, None]

        def play(i):
            try:
                results[i] = self.sides[i].run(scenario, tag)
            except Exception as exc:  # noqa: BLE001 - reported as the outcome
                results[i] = Outcome(self.sides[i].flavour, error=f"harness error: {exc!r}")

        threads = [threading.Thread(target=play, args=(i,), daemon=True) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(scenario.deadline + 10)
        return results[0] or Outcome("haproxy", error="no result"), results[1] or Outcome("gproxy", error="no result")

    def stop(self):
        for side in self.sides:
            side.stop()


def run_both(cfg, requests, workdir) -> tuple[list[Outcome], list[Outcome]]:
    """Start *cfg* under haproxy and gproxy, play every scenario of *requests* on both,
    stop them; returns (haproxy outcomes, gproxy outcomes) in scenario order."""
    pair = Pair(cfg, Path(workdir))
    try:
        got = [pair.run(s) for s in requests]
    finally:
        pair.stop()
    return [h for h, _ in got], [g for _, g in got]


# ====================================================================== comparison

def diff_text(a: dict, b: dict, names=("haproxy", "gproxy")) -> str:
    fa = pprint.pformat(a, width=110).splitlines()
    fb = pprint.pformat(b, width=110).splitlines()
    return "\n".join(difflib.unified_diff(fa, fb, names[0], names[1], lineterm="", n=3))


def compare(h: Outcome, g: Outcome, aspects=ASPECTS) -> str | None:
    """None when both outcomes agree on *aspects*, else a report (unified diff)."""
    vh, vg = h.view(aspects), g.view(aspects)
    if vh == vg:
        return None
    differing = [k for k in vh if vh.get(k) != vg.get(k)] or ["error"]
    return (f"differs in {', '.join(differing)}\n" + diff_text(vh, vg, (h.flavour, g.flavour)))


#: haproxy's path (None when it is not installed), and the mark of tests that need it
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="needs haproxy (apt-get install haproxy)")


def assert_same(config, scenarios, workdir: Path, check=None) -> None:
    """Run each scenario through haproxy and gproxy (one ``Pair`` for all of them) and
    fail with every difference found, compared on ``ASPECTS``.  ``check(scenario,
    haproxy_outcome)`` may assert what haproxy itself did (that a scenario shows what its
    name says)."""
    pair = Pair(config, workdir)
    reports = []
    try:
        for s in scenarios:
            h, g = pair.run(s)
            assert not h.error, f"haproxy side: {h.error}"
            if check is not None:
                check(s, h)
            report = compare(h, g)
            if report:
                reports.append(f"{s.id}: {report}")
    finally:
        pair.stop()
    assert not reports, "\n\n".join(reports)
