"""``mode http`` bodies are streamed, never held whole: 50 MB uploads and downloads with
Content-Length, chunked encoding and (responses) no length at all, checked by digest,
while the proxy's peak RSS (VmHWM) stays far below the body size.
"""

from __future__ import annotations

import hashlib
import socket

import pytest
from helpers import free_port

from integration.httpkit import RawBackend

pytestmark = pytest.mark.timeout(120)

SIZE = 50 * 1024 * 1024
CHUNK = 256 * 1024


def blob() -> bytes:
    return hashlib.sha256(b"seed").digest() * (SIZE // 32)


def vm_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


@pytest.fixture
def setup(proxy):
    backend = RawBackend(store_body=False)
    port = free_port()
    cfg = ("defaults\n    mode http\n    timeout connect 1s\n    timeout client 20s\n    timeout server 20s\n"
           f"listen fe\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:{backend.port}\n")
    p = proxy(cfg, wait_ports=[port])
    yield p, port, backend
    backend.stop()


def read_all(sock: socket.socket) -> bytes:
    out = bytearray()
    while True:
        d = sock.recv(1 << 20)
        if not d:
            return bytes(out)
        out += d


@pytest.mark.parametrize("framing", ["cl", "chunked"])
def test_big_upload_streamed(setup, framing):
    p, port, backend = setup
    data = blob()
    before = vm_hwm_kib(p.pid)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    if framing == "cl":
        s.sendall(b"PUT /up HTTP/1.1\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % SIZE)
        for i in range(0, SIZE, CHUNK):
            s.sendall(data[i:i + CHUNK])
    else:
        s.sendall(b"PUT /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for i in range(0, SIZE, CHUNK):
            s.sendall(b"%x\r\n" % CHUNK + data[i:i + CHUNK] + b"\r\n")
        s.sendall(b"0\r\n\r\n")
    rsp = read_all(s)
    s.close()
    assert rsp.startswith(b"HTTP/1.1 200 OK\r\n")
    (req,) = backend.requests
    assert req.body_len == SIZE and req.digest == hashlib.sha256(data).hexdigest()
    assert vm_hwm_kib(p.pid) - before < 20 * 1024  # far below the 50 MB body


@pytest.mark.parametrize("framing", ["cl", "chunked", "close"])
def test_big_download_streamed(setup, framing):
    p, port, backend = setup
    data = blob()
    if framing == "cl":
        rsp = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % SIZE + data
    elif framing == "chunked":
        rsp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
            b"%x\r\n" % CHUNK + data[i:i + CHUNK] + b"\r\n" for i in range(0, SIZE, CHUNK)) + b"0\r\n\r\n"
    else:
        rsp = b"HTTP/1.1 200 OK\r\n\r\n" + data
    backend.respond = lambda req: ("close", rsp)
    before = vm_hwm_kib(p.pid)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(b"GET /big HTTP/1.1\r\nConnection: close\r\n\r\n")
    out = read_all(s)
    s.close()
    _head, _, body = out.partition(b"\r\n\r\n")
    if framing == "chunked":
        parts = []
        rest = body
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            n = int(size_line, 16)
            if n == 0:
                break
            parts.append(rest[:n])
            rest = rest[n + 2:]
        body = b"".join(parts)
    assert len(body) == SIZE and hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
    assert vm_hwm_kib(p.pid) - before < 20 * 1024
