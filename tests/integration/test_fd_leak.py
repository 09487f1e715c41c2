"""No leaked descriptors after thousands of sessions that end in every way.

The most common defect of peer proxies is leaked sockets (CLOSE_WAIT, "Too many open
files").  This test counts the proxy's open fds once it is warmed up, then runs 3000
sessions with 50 in flight: normal request/response, client reset (SO_LINGER 0), server
reset, client idle timeout and refused server connection (``retries 0``).  Once every
session is over (the proxy holds no TCP socket but its listeners) the fd count must not
have grown.
"""

from __future__ import annotations

import os
import random
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import SyslogReceiver, TcpEchoServer, _ThreadedServer, free_port, wait_for

pytestmark = pytest.mark.timeout(120)

LOCAL = "127.0.0.1"
LINGER0 = struct.pack("ii", 1, 0)

MIX = {"normal": 1500, "client_rst": 500, "server_rst": 400, "idle": 300, "refused": 300}
CONCURRENCY = 50


class ResetServer(_ThreadedServer):
    """Reads the request, then resets the connection."""

    def handle(self, conn, addr):
        conn.recv(1024)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)


def proxy_tcp_sockets(pid):
    """(listening, other) counts of the TCP sockets process *pid* holds."""
    states = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    states[parts[9]] = parts[3]
        except FileNotFoundError:
            continue
    listening = other = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            st = states.get(link[8:-1])
            if st == "0A":
                listening += 1
            elif st is not None:
                other += 1
    return listening, other


def session(kind, ports):
    """One client session of *kind*; returns None or raises on an unexpected outcome."""
    port = ports[kind]
    c = socket.create_connection((LOCAL, port), timeout=10)
    try:
        if kind == "normal":
            c.sendall(b"x" * 100)
            got = b""
            while len(got) < 100:
                chunk = c.recv(4096)
                if not chunk:
                    raise AssertionError("echo cut short")
                got += chunk
        elif kind == "client_rst":
            c.sendall(b"y" * 10)
            c.recv(10)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
        elif kind in ("server_rst", "refused"):
            if kind == "server_rst":
                c.sendall(b"z" * 10)
            try:
                while c.recv(4096):
                    pass
            except ConnectionResetError:
                pass
        elif kind == "idle":
            try:
                while c.recv(4096):
                    pass
            except ConnectionResetError:
                pass
    finally:
        c.close()


def test_no_fd_leak_after_thousands_of_sessions(proxy):
    echo, rst = TcpEchoServer(), ResetServer()
    syslog = SyslogReceiver()
    try:
        ports = {k: free_port() for k in ("normal", "server_rst", "idle", "refused")}
        ports["client_rst"] = ports["normal"]
        cfg = f"""\
global
    log {LOCAL}:{syslog.port} local0
    maxconn 2000
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend normal
    bind {LOCAL}:{ports['normal']}
    default_backend echo
frontend idle
    bind {LOCAL}:{ports['idle']}
    timeout client 300ms
    default_backend echo
frontend server_rst
    bind {LOCAL}:{ports['server_rst']}
    default_backend rst
frontend refused
    bind {LOCAL}:{ports['refused']}
    default_backend dead
backend echo
    server s1 {LOCAL}:{echo.port}
backend rst
    server s1 {LOCAL}:{rst.port}
backend dead
    retries 0
    server s1 {LOCAL}:{free_port()}
"""
        p = proxy(cfg, wait_ports=list(set(ports.values())))
        listeners = len(set(ports.values()))

        def quiet():
            lst, other = proxy_tcp_sockets(p.pid)
            return lst == listeners and other == 0

        # warm-up: every kind of session once, so lazily created things exist
        for kind in MIX:
            session(kind, ports)
        wait_for(quiet, timeout=10, what="the warm-up sessions to end")
        before = p.open_fds()

        kinds = [k for k, n in MIX.items() for _ in range(n)]
        random.Random(42).shuffle(kinds)
        t0 = time.monotonic()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            for fut in [pool.submit(session, k, ports) for k in kinds]:
                fut.result(timeout=60)
        took = time.monotonic() - t0

        wait_for(quiet, timeout=15, what="every session to end (no TCP socket but the listeners)")
        after = p.open_fds()
        assert after <= before + 2, f"fds: {before} before, {after} after {len(kinds)} sessions ({took:.1f}s)"
        assert p.alive()
        assert took < 60
    finally:
        echo.stop()
        rst.stop()
        syslog.stop()
