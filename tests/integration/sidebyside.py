"""Side-by-side runs for integration tests: the same config in gproxy and in haproxy.

* ``FLAVOURS`` -- parametrize values ``gproxy`` and ``haproxy`` (skipped without haproxy).
* ``Running(flavour, cfg, tmp_path, port)`` -- ``gproxy -f`` or ``haproxy -db -f`` on a
  config text, returned once ``port`` listens; ``stop()``.
* ``NameServer(name, http=False)`` -- a server that says its name (see the class).
* ``cli(sock_path, cmd)`` -- one command on a stats socket, the whole answer;
  ``srv_status(sock_path, px, srv)`` -- a server's status in ``show stat``.

The ``run`` and ``servers`` fixtures of conftest.py start and stop them.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import free_port, wait_listening

HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
FLAVOURS = ["gproxy", pytest.param("haproxy", marks=pytest.mark.skipif(HAPROXY is None, reason="needs haproxy"))]


class NameServer:
    """Says its name: in mode tcp one line on accept; in mode http a 200 whose body is
    the name, with ``x-sid: <name>-tok``.  ``stop()`` closes the listener and every
    connection; ``start()`` listens again on the same port."""

    def __init__(self, name: str, http: bool = False, port: int = 0) -> None:
        self.name = name
        self.http = http
        self.port = port or free_port()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.lsock: socket.socket | None = None
        self.start()

    def start(self) -> None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.lsock = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, s: socket.socket) -> None:
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c: socket.socket) -> None:
        try:
            if not self.http:
                c.sendall(self.name.encode() + b"\n")
                while c.recv(4096):
                    pass
                return
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(4096)
                    if not d:
                        return
                    buf += d
                _, _, buf = buf.partition(b"\r\n\r\n")
                body = self.name.encode()
                c.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nx-sid: %s-tok\r\n\r\n%s"
                          % (len(body), body, body))
        except OSError:
            pass
        finally:
            c.close()

    def stop(self) -> None:
        if self.lsock is not None:
            try:
                self.lsock.shutdown(socket.SHUT_RDWR)  # wakes the accept() of its thread
            except OSError:
                pass
            self.lsock.close()
            self.lsock = None
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns.clear()


class Running:
    """gproxy (``gproxy -f``) or haproxy (``haproxy -db -f``) on a config text."""

    def __init__(self, flavour: str, cfg: str, tmp_path: Path, port: int) -> None:
        path = tmp_path / f"{flavour}.cfg"
        path.write_text(cfg)
        cmd = [str(HAPROXY), "-db", "-f", str(path)] if flavour == "haproxy" else ["gproxy", "-f", str(path)]
        if flavour == "gproxy" and not shutil.which("gproxy"):
            cmd = [sys.executable, "-m", "gproxy", "-f", str(path)]
        self.err = tmp_path / f"{flavour}.stderr"
        with open(self.err, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                         cwd=str(tmp_path), start_new_session=True)
        try:
            wait_listening(port, timeout=15)
        except AssertionError:
            self.stop()
            raise AssertionError(f"{flavour} did not start: {self.err.read_text()}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def cli(sock_path: str, cmd: str) -> str:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sock_path)
    s.sendall(cmd.encode() + b"\n")
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    return out.decode()


def srv_status(sock_path: str, px: str, srv: str) -> str:
    """The status column of ``px/srv`` in ``show stat`` ('' if not listed)."""
    for line in cli(sock_path, "show stat").splitlines():
        f = line.split(",")
        if len(f) > 17 and f[0] == px and f[1] == srv:
            return f[17]
    return ""
