"""Integration-test harness for gproxy (and, for comparison, real HAProxy).

Everything a test needs to drive a proxy process and the little servers
around it lives here:

* ``free_port``, ``wait_for``, ``wait_port``, ``wait_listening`` -- ports and
  condition polling (never fixed sleeps);
* ``proxy_cmd``, ``is_haproxy``, ``Proxy``, ``run_check`` -- run the proxy
  under test.  ``GPROXY_TEST_PROXY=haproxy`` runs the very same tests against
  the system HAProxy (``haproxy -db``) instead of gproxy;
* ``SyslogReceiver`` plus ``parse_tcplog`` / ``TCPLOG_RE`` -- receive and
  decode the proxy's UDP syslog traffic;
* ``TcpEchoServer``, ``HttpBackend``, ``ClusterCheck`` -- threaded backends
  on loopback (``ClusterCheck`` mimics Galera's ``clustercheck`` script);
* ``MariaDB`` -- a private, throw-away ``mariadbd`` (see ``tests/conftest.py``
  for the session fixture) and ``client_port`` for PyMySQL connections.

Import it from tests as ``import helpers`` / ``from helpers import Proxy``
(``pytest.ini`` puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import atexit
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCALHOST = "127.0.0.1"
# The session ``mariadb`` fixture also listens on these loopback addresses:
# stand-ins for the three Galera nodes of the seed config.
MARIADB_NODE_HOSTS = ("127.0.0.11", "127.0.0.12", "127.0.0.13")

__all__ = [
    "MARIADB_NODE_HOSTS",
    "REPO",
    "TCPLOG_RE",
    "ClusterCheck",
    "HttpBackend",
    "HttpRequest",
    "MariaDB",
    "Proxy",
    "ProxyStartError",
    "SyslogReceiver",
    "TcpEchoServer",
    "client_port",
    "free_port",
    "is_haproxy",
    "parse_tcplog",
    "proxy_cmd",
    "proxy_flavour",
    "run_check",
    "wait_for",
    "wait_listening",
    "wait_port",
]


# --------------------------------------------------------------------------
# ports and polling
# --------------------------------------------------------------------------

_HANDED_OUT: set[int] = set()


def free_port(hosts=(LOCALHOST,)) -> int:
    """Return a TCP port that is currently unused on every address in *hosts*.

    The port is picked by the kernel on the first host and then checked by
    binding it on the others (useful for several loopback addresses such as
    127.0.0.11..13 sharing one port).  As with any such helper, another
    process may grab the port before the caller binds it.

    A port is handed out once per test run: the kernel may offer the port it
    just released again, and two frontends of one config given the same port
    would both bind it (haproxy and gproxy set SO_REUSEPORT) and share its
    connections -- a request then lands in the wrong frontend.
    """
    if isinstance(hosts, str):
        hosts = (hosts,)
    for _ in range(500):
        socks = []
        try:
            first = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(first)
            first.bind((hosts[0], 0))
            port = first.getsockname()[1]
            if port in _HANDED_OUT:
                continue
            for host in hosts[1:]:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((host, port))
            _HANDED_OUT.add(port)
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"could not find a port free on all of {hosts}")


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    """Poll ``pred()`` until it returns something truthy and return that value.

    Exceptions raised by *pred* count as "not yet"; the last one is chained
    to the ``AssertionError`` raised after *timeout* seconds.
    """
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = pred()
            if value:
                return value
            last_exc = None
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            last_exc = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}") from last_exc
        time.sleep(interval)


def wait_port(port, host=LOCALHOST, timeout=10.0):
    """Wait until a TCP connect to ``host:port`` succeeds (the probe connection
    is closed at once, so a proxy will see -- and may log -- one session)."""
    def probe():
        with socket.create_connection((host, port), timeout=1.0):
            return True
    return wait_for(probe, timeout=timeout, what=f"{host}:{port} to accept connections")


def _listening_ports():
    """Set of (ip, port) in LISTEN state, read from /proc/net/tcp{,6}."""
    found = set()
    for name, fam in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            with open(name) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if parts[3] != "0A":  # TCP_LISTEN
                        continue
                    hexip, hexport = parts[1].split(":")
                    raw = bytes.fromhex(hexip)
                    # /proc prints each 32-bit word in host (little-endian) order
                    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                    found.add((socket.inet_ntop(fam, raw), int(hexport, 16)))
        except FileNotFoundError:
            continue
    return found


def _ss_listening(port):
    """Local addresses listening on TCP *port* per ``ss`` (netlink), or None
    when ``ss`` is unavailable."""
    exe = shutil.which("ss") or shutil.which("ss", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-Hltn", f"sport = :{port}"], capture_output=True,
                             text=True, timeout=10, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    addrs = set()
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            ip, _, p = parts[3].rpartition(":")
            if p == str(port):
                addrs.add(ip.strip("[]").split("%")[0])
    return addrs


def _is_listening(port, host=LOCALHOST):
    wild = {"0.0.0.0", "::", "*", "::ffff:0.0.0.0", host, f"::ffff:{host}"}
    addrs = _ss_listening(port)
    if addrs is None:
        addrs = {ip for ip, p in _listening_ports() if p == port}
    return bool(addrs & wild)


def wait_listening(port, host=LOCALHOST, timeout=10.0):
    """Wait until something listens on ``host:port`` *without* connecting to it
    (asks ``ss``, else reads /proc/net/tcp, so a proxy under test sees no probe
    session).  Falls back to ``wait_port`` where neither is available."""
    if not os.path.exists("/proc/net/tcp") and _ss_listening(port) is None:
        return wait_port(port, host, timeout)
    return wait_for(lambda: _is_listening(port, host), timeout=timeout,
                    what=f"a listener on {host}:{port}")


# --------------------------------------------------------------------------
# the proxy under test
# --------------------------------------------------------------------------

def proxy_flavour() -> str:
    """``"haproxy"`` when ``GPROXY_TEST_PROXY=haproxy``, else ``"gproxy"``."""
    value = os.environ.get("GPROXY_TEST_PROXY", "").strip().lower()
    if value in ("", "gproxy"):
        return "gproxy"
    if value == "haproxy":
        return "haproxy"
    raise RuntimeError(f"GPROXY_TEST_PROXY must be 'gproxy' or 'haproxy', not {value!r}")


def is_haproxy() -> bool:
    return proxy_flavour() == "haproxy"


def proxy_cmd() -> list[str]:
    """Command prefix that runs the proxy under test.

    gproxy: ``['gproxy']`` if the console script is on PATH, else
    ``[python, <repo>/gproxy.py]`` (or ``[python, -m, gproxy]`` when the
    checkout has no ``gproxy.py``).  haproxy: ``['haproxy']`` (absolute path
    if it is only found in /usr/sbin).
    """
    if is_haproxy():
        exe = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
        if exe is None:
            raise RuntimeError("GPROXY_TEST_PROXY=haproxy but no haproxy binary was found")
        return ["haproxy"] if shutil.which("haproxy") else [exe]
    if shutil.which("gproxy"):
        return ["gproxy"]
    script = REPO / "gproxy.py"
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "gproxy"]


def _proxy_env(extra=None):
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    if not is_haproxy():
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    if extra:
        env.update(extra)
    return env


def _unique(tmp_path: Path, stem: str, suffix: str) -> Path:
    path = tmp_path / f"{stem}{suffix}"
    n = 2
    while path.exists():
        path = tmp_path / f"{stem}-{n}{suffix}"
        n += 1
    return path


class ProxyStartError(RuntimeError):
    """The proxy exited or did not open its listeners; message has its stderr."""


class Proxy:
    """A running proxy process started from a config text.

    The config is written to ``tmp_path/proxy.cfg`` (``proxy-2.cfg``... when
    several proxies share one tmp_path); stdout/stderr go to
    ``proxy.stdout``/``proxy.stderr`` beside it.  ``-db`` (foreground) is
    passed to haproxy only; gproxy runs in the foreground by default.
    The constructor returns once every port in *wait_ports* is listening on
    127.0.0.1 (checked via /proc, so no probe session reaches the proxy);
    entries may also be ``(host, port)`` tuples.
    """

    def __init__(self, cfg_text: str, tmp_path, extra_args=(), wait_ports=(), env=None,
                 start_timeout=15.0):
        tmp_path = Path(tmp_path)
        self.cfg_path = _unique(tmp_path, "proxy", ".cfg")
        stem = self.cfg_path.stem
        self.stdout_path = tmp_path / f"{stem}.stdout"
        self.stderr_path = tmp_path / f"{stem}.stderr"
        self.cfg_path.write_text(cfg_text)
        self.flavour = proxy_flavour()
        self.cmd = list(proxy_cmd())
        if self.flavour == "haproxy":
            self.cmd.append("-db")
        self.cmd += ["-f", str(self.cfg_path), *map(str, extra_args)]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=_proxy_env(env), cwd=str(tmp_path), start_new_session=True)
        self.pid = self.proc.pid
        self.returncode = None
        try:
            for item in wait_ports:
                host, port = item if isinstance(item, tuple) else (LOCALHOST, item)
                self._wait_listening(host, int(port), start_timeout)
        except BaseException:
            self.stop(timeout=5)
            raise

    def _wait_listening(self, host, port, timeout):
        can_look = os.path.exists("/proc/net/tcp") or _ss_listening(port) is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ProxyStartError(
                    f"{' '.join(self.cmd)} exited with {self.proc.returncode} before "
                    f"listening on {host}:{port}\n--- stderr ---\n{self.stderr()}"
                    f"\n--- stdout ---\n{self.stdout()}")
            if _is_listening(port, host) if can_look else _can_connect(host, port):
                return
            if time.monotonic() >= deadline:
                raise ProxyStartError(
                    f"{' '.join(self.cmd)} not listening on {host}:{port} after {timeout}s"
                    f" (connect {'works' if _can_connect(host, port) else 'fails'};"
                    f" {len(os.listdir(f'/proc/{self.pid}/fd'))} fds open)"
                    f"\n--- stderr ---\n{self.stderr()}\n--- stdout ---\n{self.stdout()}")
            time.sleep(0.02)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def wait_stderr(self, text, timeout=10.0) -> str:
        """Wait until *text* appears in stderr; return the first line holding it."""
        def find():
            for line in self.stderr().splitlines():
                if text in line:
                    return line
            return None
        return wait_for(find, timeout=timeout, what=f"{text!r} on the proxy's stderr")

    def stop(self, sig=signal.SIGTERM, timeout=10) -> int:
        """Send *sig*, wait up to *timeout* s, then SIGKILL.  Processes left in
        the proxy's own session (workers it forked) are SIGKILLed too.
        Returns the exit code (negative = killed by that signal, as in
        ``subprocess``)."""
        if self.returncode is not None:
            return self.returncode
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for pid in _session_members(self.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.returncode = self.proc.returncode
        return self.returncode

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        return f"<Proxy {self.flavour} pid={self.pid} cfg={self.cfg_path}>"


def _session_members(sid):
    """Pids whose session id and process group are both *sid* (the session a
    ``start_new_session=True`` child created), read from /proc."""
    members = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == sid and int(fields[3]) == sid:
            members.append(int(entry))
    return members


def _can_connect(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def run_check(cfg_text, tmp_path, *args) -> subprocess.CompletedProcess:
    """Run ``<proxy> -c -f <cfg> [args]`` (config check); text output, 30 s timeout."""
    cfg = _unique(Path(tmp_path), "check", ".cfg")
    cfg.write_text(cfg_text)
    return subprocess.run(
        [*proxy_cmd(), "-c", "-f", str(cfg), *map(str, args)],
        check=False, capture_output=True, text=True, timeout=30, env=_proxy_env(),
        stdin=subprocess.DEVNULL, cwd=str(tmp_path))


# --------------------------------------------------------------------------
# syslog
# --------------------------------------------------------------------------

# `option tcplog` body:
#   %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
TCPLOG_RE = re.compile(
    r"(?P<ci>[0-9a-fA-F.:]+):(?P<cp>\d+) \[(?P<t>[^\]]+)\] (?P<ft>\S+) "
    r"(?P<b>[^/\s]+)/(?P<s>\S+) (?P<Tw>-?\d+)/(?P<Tc>-?\d+)/(?P<Tt>\+?-?\d+) "
    r"(?P<B>\+?\d+) (?P<ts>\S\S) "
    r"(?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\+?\d+) "
    r"(?P<sq>\d+)/(?P<bq>\d+)\s*$")


def parse_tcplog(line: str) -> dict | None:
    """Fields of an ``option tcplog`` line (syslog header allowed in front),
    or None.  Timers/counters stay strings (they may carry ``+``)."""
    m = TCPLOG_RE.search(line)
    return m.groupdict() if m else None


class SyslogReceiver:
    """UDP syslog sink on 127.0.0.1:<free port>, filled by a thread.

    ``lines`` holds every datagram decoded (trailing LF/NUL stripped), e.g.
    ``<134>Nov 27 11:20:00 haproxy[42]: 127.0.0.1:5000 [...] ...``.
    """

    def __init__(self, host=LOCALHOST, port=0):
        self.host = host
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.lines: list[str] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=f"syslog:{self.port}", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                ready, _, _ = select.select([self.sock], [], [], 0.1)
                if not ready:
                    continue
                data, _ = self.sock.recvfrom(65536)
            except OSError:
                return
            self.lines.append(data.decode("utf-8", "replace").rstrip("\n\x00"))

    def mark(self) -> int:
        """Index to pass as *start* to only consider lines received from now on."""
        return len(self.lines)

    def find(self, substr, start=0):
        for line in list(self.lines[start:]):
            if substr in line:
                return line
        return None

    def wait_line(self, substr, timeout=10.0, start=0) -> str:
        """First line (from index *start*) containing *substr*; waits for it."""
        return wait_for(lambda: self.find(substr, start), timeout=timeout,
                        what=f"syslog line containing {substr!r}")

    def wait_regex(self, pattern, timeout=10.0, start=0) -> re.Match:
        rx = re.compile(pattern)

        def find():
            for line in list(self.lines[start:]):
                m = rx.search(line)
                if m:
                    return m
            return None
        return wait_for(find, timeout=timeout, what=f"syslog line matching {pattern!r}")

    def wait_tcplog(self, client_port, timeout=10.0, start=0) -> dict:
        """Wait for the tcplog line of the session from client port *client_port*
        and return ``parse_tcplog`` of it (plus ``line``)."""
        def find():
            for line in list(self.lines[start:]):
                fields = parse_tcplog(line)
                if fields and int(fields["cp"]) == client_port:
                    return dict(fields, line=line)
            return None
        return wait_for(find, timeout=timeout, what=f"tcplog line for client port {client_port}")

    def stop(self):
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


# --------------------------------------------------------------------------
# small threaded backends
# --------------------------------------------------------------------------

class _ThreadedServer:
    """TCP listener with an accept thread and one thread per connection."""

    def __init__(self, host=LOCALHOST, port=None):
        self.host = host
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind((host, port or 0))
        self._lsock.listen(128)
        self.port = self._lsock.getsockname()[1]
        self.connections = 0
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"{type(self).__name__}:{self.port}")
        self._thread.start()

    @property
    def address(self):
        return (self.host, self.port)

    def _accept_loop(self):
        while not self._stopping:
            try:
                ready, _, _ = select.select([self._lsock], [], [], 0.1)
                if not ready:
                    continue
                conn, addr = self._lsock.accept()
            except OSError:
                return
            conn.setblocking(True)
            with self._lock:
                if self._stopping:
                    conn.close()
                    return
                self.connections += 1
                self._clients.add(conn)
            threading.Thread(target=self._serve, args=(conn, addr), daemon=True).start()

    def _serve(self, conn, addr):
        try:
            self.handle(conn, addr)
        except OSError:
            pass
        finally:
            with self._lock:
                self._clients.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def handle(self, conn, addr):  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def active(self) -> int:
        """Connections currently open."""
        with self._lock:
            return len(self._clients)

    def stop(self):
        self._stopping = True
        self._thread.join(timeout=2)
        try:
            self._lsock.close()
        except OSError:
            pass
        with self._lock:
            clients = list(self._clients)
        for c in clients:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class TcpEchoServer(_ThreadedServer):
    """Echoes every byte back; ``.received`` counts bytes received."""

    def __init__(self, host=LOCALHOST, port=None):
        self.received = 0
        super().__init__(host, port)

    def handle(self, conn, addr):
        while True:
            data = conn.recv(65536)
            if not data:
                return
            self.received += len(data)
            conn.sendall(data)


@dataclass
class HttpRequest:
    method: str
    target: str
    version: str
    headers: list = field(default_factory=list)   # [(name, value)] as received
    body: bytes = b""
    peer: tuple = ()

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default


_REASONS = {200: "OK", 204: "No Content", 301: "Moved Permanently", 302: "Found",
            400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}


class HttpBackend(_ThreadedServer):
    """Minimal HTTP/1.1 origin: answers every request with ``.status`` and the
    body ``name`` (e.g. ``b"srv1"``), keeps HTTP/1.1 connections alive.

    ``.status`` may be changed at any time (to flip health-check answers).
    ``.requests`` lists every parsed ``HttpRequest``; ``.connections`` counts
    accepted connections.  Request bodies need Content-Length (no chunked).
    """

    def __init__(self, name="srv", status=200, host=LOCALHOST, port=None):
        self.name = name
        self.status = status
        self.requests: list[HttpRequest] = []
        super().__init__(host, port)

    def respond(self, req: HttpRequest):
        """Return ``(status, body bytes, extra header list)``."""
        return self.status, self.name.encode(), [("X-Backend", self.name)]

    def close_after_response(self, req: HttpRequest) -> bool:
        conn_hdr = (req.header("connection") or "").lower()
        if req.version == "HTTP/1.0":
            return "keep-alive" not in conn_hdr
        return "close" in conn_hdr

    def handle(self, conn, addr):
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            try:
                method, target, version = lines[0].split(" ", 2)
            except ValueError:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            headers = []
            for raw in lines[1:]:
                name, _, value = raw.partition(":")
                headers.append((name.strip(), value.strip()))
            req = HttpRequest(method, target, version, headers, peer=addr)
            length = int(req.header("content-length", "0") or 0)
            while len(buf) < length:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            req.body, buf = buf[:length], buf[length:]
            self.requests.append(req)
            status, body, extra = self.respond(req)
            close = self.close_after_response(req)
            out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
                   "Content-Type: text/plain", f"Content-Length: {len(body)}"]
            out += [f"{k}: {v}" for k, v in extra]
            if close:
                out.append("Connection: close")
            payload = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
            if method != "HEAD":
                payload += body
            conn.sendall(payload)
            if close:
                return


class ClusterCheck(HttpBackend):
    """Galera ``clustercheck`` look-alike for one MariaDB node.

    Each request is answered ``200 OK`` / ``Galera cluster node is synced.``
    when ``SELECT 1`` works on ``(db_host, db_port)`` and the node was not
    forced down with ``set_available(False)``; otherwise ``503 Service
    Unavailable`` / ``Galera cluster node is not synced.``.  The connection
    is always closed after the answer (like the xinetd script).
    ``ok_count`` / ``fail_count`` count answers given.
    """

    def __init__(self, db_host, db_port, user, password, host=LOCALHOST, port=None,
                 name="clustercheck"):
        self.db_host, self.db_port = db_host, db_port
        self.db_user, self.db_password = user, password
        self.available = True
        self.ok_count = 0
        self.fail_count = 0
        super().__init__(name=name, status=200, host=host, port=port)

    def set_available(self, flag: bool):
        self.available = bool(flag)

    def reset_counts(self):
        self.ok_count = self.fail_count = 0

    def _db_ok(self) -> bool:
        import pymysql
        try:
            conn = pymysql.connect(host=self.db_host, port=self.db_port, user=self.db_user,
                                   password=self.db_password, connect_timeout=2,
                                   read_timeout=2, write_timeout=2)
        except pymysql.MySQLError:
            return False
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                return cur.fetchone() == (1,)
        except pymysql.MySQLError:
            return False
        finally:
            conn.close()

    def respond(self, req):
        ok = self.available and self._db_ok()
        if ok and self.available:   # re-read: set_available may race the query
            self.ok_count += 1
            return 200, b"Galera cluster node is synced.\r\n", []
        self.fail_count += 1
        return 503, b"Galera cluster node is not synced.\r\n", []

    def close_after_response(self, req):
        return True


# --------------------------------------------------------------------------
# MariaDB
# --------------------------------------------------------------------------

def client_port(conn) -> int:
    """Local TCP port of a PyMySQL connection (= ``%cp`` in the proxy's log)."""
    return conn._sock.getsockname()[1]


class MariaDB:
    """A private ``mariadbd`` in *basedir*, listening on TCP ``hosts`` x one
    free port and on a unix socket (root, no password).  A user
    ``gproxy``@``%`` / ``@127.0.0.1`` with all privileges and a database
    ``gproxy_test`` are created.  Call ``start()`` then ``stop()``.
    """

    def __init__(self, basedir, hosts=(LOCALHOST,), user="gproxy",
                 password="gproxy-test-pw", database="gproxy_test"):
        import tempfile
        self.basedir = Path(basedir)
        self.hosts = tuple(hosts)
        self.host = self.hosts[0]
        self.user, self.password, self.database = user, password, database
        self.datadir = self.basedir / "data"
        self.tmpdir = self.basedir / "tmp"
        self.error_log_path = self.basedir / "mariadbd.err"
        self.socket_path = self.basedir / "mysqld.sock"
        if len(str(self.socket_path)) > 100:   # sun_path limit
            self.socket_path = Path(tempfile.mkdtemp(prefix="gpx-mdb-")) / "sock"
        self.pid_path = self.basedir / "mariadbd.pid"
        self.port = None
        self.proc = None

    @staticmethod
    def _exe(name):
        return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/usr/bin")

    def start(self, timeout=60.0):
        install, server = self._exe("mariadb-install-db"), self._exe("mariadbd")
        if not install or not server:
            raise RuntimeError("mariadbd / mariadb-install-db not found: "
                               "apt-get install mariadb-server")
        self.basedir.mkdir(parents=True, exist_ok=True)
        self.tmpdir.mkdir(exist_ok=True)
        # a private tmpdir: concurrent installs sharing /tmp have been seen to fail
        common = [f"--datadir={self.datadir}", f"--tmpdir={self.tmpdir}", "--user=root",
                  "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M"]
        for attempt in (1, 2):
            res = subprocess.run(
                [install, "--no-defaults", *common, "--skip-test-db",
                 "--auth-root-authentication-method=normal"],
                check=False, capture_output=True, text=True, timeout=120,
                stdin=subprocess.DEVNULL)
            if res.returncode == 0:
                break
            shutil.rmtree(self.datadir, ignore_errors=True)
            if attempt == 2:
                raise RuntimeError(f"mariadb-install-db failed ({res.returncode}):\n"
                                   f"{res.stdout}\n{res.stderr}")
        atexit.register(self.stop)
        try:
            for attempt in (1, 2, 3):
                if self._spawn(server, common, timeout):
                    break
                if attempt == 3 or "Address already in use" not in self.error_log():
                    raise RuntimeError(f"mariadbd exited with {self.proc.returncode}:\n"
                                       f"{self.error_log()}")
                self.stop()   # port taken meanwhile: try another one
            conn = self.admin()
            try:
                with conn.cursor() as cur:
                    for host in ("%", "127.0.0.1"):
                        cur.execute("CREATE USER %s@%s IDENTIFIED BY %s",
                                    (self.user, host, self.password))
                        cur.execute("GRANT ALL PRIVILEGES ON *.* TO %s@%s WITH GRANT OPTION",
                                    (self.user, host))
                    cur.execute(f"CREATE DATABASE `{self.database}`")
                    cur.execute("FLUSH PRIVILEGES")
            finally:
                conn.close()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, server, common, timeout) -> bool:
        """Start mariadbd on a fresh free port; True once it accepts on its
        socket, False if it exited first, RuntimeError after *timeout*."""
        import pymysql
        self.port = free_port(self.hosts)
        self.cmd = [
            server, "--no-defaults", *common,
            f"--socket={self.socket_path}", f"--port={self.port}",
            f"--bind-address={','.join(self.hosts)}",
            "--skip-name-resolve", f"--pid-file={self.pid_path}",
            f"--log-error={self.error_log_path}", "--skip-log-bin",
            "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
            "--log-warnings=2", "--max-connections=500", "--skip-host-cache",
        ]
        self.error_log_path.unlink(missing_ok=True)
        with open(self.basedir / "mariadbd.out", "wb") as out:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                return False
            try:
                self.admin().close()
                return True
            except pymysql.MySQLError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd not ready after {timeout}s:\n{self.error_log()}")
            time.sleep(0.05)

    def admin(self):
        """Root connection over the unix socket (not counted as a TCP client)."""
        import pymysql
        return pymysql.connect(unix_socket=str(self.socket_path), user="root",
                               connect_timeout=5, autocommit=True)

    def connect(self, host=None, port=None, database=None, **kw):
        """PyMySQL connection as the test user, by default straight to the
        server (pass the proxy's host/port to go through it)."""
        import pymysql
        kw.setdefault("connect_timeout", 5)
        kw.setdefault("read_timeout", 10)
        kw.setdefault("write_timeout", 10)
        kw.setdefault("autocommit", True)
        return pymysql.connect(host=host or self.host, port=port or self.port,
                               user=self.user, password=self.password,
                               database=database or self.database, **kw)

    def query(self, sql, args=None):
        """Run one statement as root over the socket; return all rows."""
        conn = self.admin()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall()
        finally:
            conn.close()

    def status(self, name) -> int:
        """Integer value of ``SHOW GLOBAL STATUS LIKE name``."""
        rows = self.query("SHOW GLOBAL STATUS LIKE %s", (name,))
        if not rows:
            raise KeyError(name)
        return int(rows[0][1])

    def connection_ids(self) -> set[int]:
        """Ids of the threads currently connected (``SHOW PROCESSLIST``)."""
        return {int(r[0]) for r in self.query("SHOW PROCESSLIST")}

    def clustercheck(self, host=LOCALHOST, port=None, db_host=None) -> ClusterCheck:
        """A started ``ClusterCheck`` on ``host:port`` (free port if None) that
        checks this server through ``db_host`` (default: *host* if MariaDB
        listens there, else its first address).  Caller stops it."""
        if db_host is None:
            db_host = host if host in self.hosts else self.host
        return ClusterCheck(db_host, self.port, self.user, self.password, host=host,
                            port=port, name=f"clustercheck-{host}")

    def error_log(self) -> str:
        try:
            return self.error_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout=15):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def __repr__(self):
        return f"<MariaDB {','.join(self.hosts)}:{self.port} socket={self.socket_path}>"
