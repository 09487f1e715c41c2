"""Command line, signals and process-wide (global) behaviour, as a user starts the proxy.

Each test starts the proxy under test as a process (``helpers.Proxy`` / ``proxy_cmd``)
and talks to it over loopback sockets only.  ``GPROXY_TEST_PROXY=haproxy`` runs the same
expectations against /usr/sbin/haproxy: what is asserted here is what HAProxy 2.6 does.
HAProxy facts these tests pin down (some differ from a first reading of the manual):

* ``-dK<class>`` needs a configuration (``-dKall -c -f cfg``); alone it prints usage.
* SIGTTOU really unbinds: the listener is shut down (``shutdown(SHUT_RD)``), so new
  connections are *refused*, not left in the backlog; SIGTTIN listens again.  Both print
  ``Paused frontend X.`` / ``Resumed frontend X.`` warnings.
* A standalone HAProxy (no ``-W``) has no handler for SIGTERM/SIGINT: it dies of the
  signal (exit status -15 / -2 in ``subprocess`` terms) and closes every connection.
* ``-p`` is written in daemon (and master-worker) mode; a foreground ``-db`` HAProxy does
  not write it.  ``-q`` silences the startup warnings and the stop messages.
"""

from __future__ import annotations

import grp
import os
import platform
import pwd
import re
import signal
import socket
import subprocess
import time

import helpers
import pytest
from helpers import TcpEchoServer, free_port, is_haproxy, proxy_cmd, run_check, wait_for

pytestmark = pytest.mark.timeout(60)

LOCAL = "127.0.0.1"


# ------------------------------------------------------------------ helpers
def tcp_cfg(port: int, srv_port: int, glob: str = "", defaults: str = "", fe: str = "", be: str = "") -> str:
    return (
        f"global\n{glob}"
        "defaults\n"
        "    mode tcp\n"
        "    timeout connect 1s\n"
        "    timeout client 10s\n"
        "    timeout server 10s\n"
        f"{defaults}"
        "frontend fe\n"
        f"    bind {LOCAL}:{port}\n"
        f"{fe}"
        "    default_backend be\n"
        "backend be\n"
        f"{be}"
        f"    server s1 {LOCAL}:{srv_port}\n"
    )


def run(args, timeout=30, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*proxy_cmd(), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=helpers._proxy_env(), check=False, **kw)


def listen_inodes(port: int) -> set[str]:
    """Socket inodes in LISTEN state on TCP *port* (any address), from /proc/net/tcp{,6}."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        found.add(parts[9])
        except FileNotFoundError:
            continue
    return found


def pid_listens(pid: int, port: int) -> bool:
    """Whether process *pid* holds a socket listening on TCP *port*."""
    inodes = listen_inodes(port)
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return False
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


def refused(port: int, host: str = LOCAL) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def echo_ok(sock: socket.socket, data: bytes = b"ping") -> bool:
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = sock.recv(len(data) - len(got))
        if not chunk:
            return False
        got += chunk
    return got == data


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    s = socket.create_connection((LOCAL, port), timeout=timeout)
    return s


def eof(sock: socket.socket, timeout: float = 5.0) -> bool:
    """True when the peer closed (EOF or reset) within *timeout*."""
    sock.settimeout(timeout)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def catches(pid: int, sig: int) -> bool:
    """Whether process *pid* has a handler installed for *sig* (SigCgt in /proc)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


@pytest.fixture
def echo():
    srv = TcpEchoServer()
    yield srv
    srv.stop()


# ------------------------------------------------------------------ flags
def test_version():
    res = run(["-v"])
    assert res.returncode == 0, res.stderr
    first = res.stdout.splitlines()[0]
    assert re.match(r"^(HAProxy|gproxy) version \d+\.\d+", first), first
    assert "Running on: Linux" in res.stdout


def test_version_verbose():
    short = run(["-v"]).stdout
    res = run(["-vv"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == short.splitlines()[0]
    assert len(res.stdout.splitlines()) > len(short.splitlines())
    if is_haproxy():
        assert "Built with" in res.stdout
    else:
        from importlib.metadata import version

        assert f"Python: {platform.python_version()}" in res.stdout
        for dist, shown in (("gevent", "gevent"), ("docopt-ng", "docopt")):
            assert f"{shown}: {version(dist)}" in res.stdout


def test_no_arguments_prints_usage_and_exits_1():
    res = run([])
    assert res.returncode == 1
    assert re.search(r"Usage ?:", res.stderr), res.stderr


def test_dump_keywords(tmp_path, echo):
    cfg = tmp_path / "k.cfg"
    cfg.write_text(tcp_cfg(free_port(), echo.port))
    res = run(["-dKall", "-c", "-f", cfg])
    assert res.returncode == 0, res.stderr
    for word in ("accept-proxy", "hard-stop-after", "maxconn", "balance", "send-proxy-v2", "slowstart"):
        assert word in res.stdout, word


def test_check_exit_codes(tmp_path, echo):
    t0 = time.monotonic()
    ok = run_check(tcp_cfg(free_port(), echo.port), tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "Configuration file is valid" in ok.stdout
    bad = run_check(tcp_cfg(free_port(), echo.port, be="    no-such-keyword 1\n"), tmp_path)
    assert bad.returncode == 1
    assert "[ALERT]" in bad.stderr and "Fatal errors found in configuration." in bad.stderr
    idle = run_check(f"backend be\n    server s1 {LOCAL}:{echo.port}\n", tmp_path)
    assert idle.returncode == 2
    assert "will not start (no listener) => exit(2)." in idle.stdout + idle.stderr
    assert time.monotonic() - t0 < 20


def test_check_quiet_prints_nothing(tmp_path, echo):
    # missing timeouts: warnings, exit 0; -q silences them and the "valid" line
    cfg = f"frontend fe\n    bind {LOCAL}:{free_port()}\n    default_backend be\nbackend be\n    server s1 {LOCAL}:{echo.port}\n"
    loud = run_check(cfg, tmp_path)
    assert loud.returncode == 0 and "missing timeouts" in loud.stderr
    quiet = run_check(cfg, tmp_path, "-q")
    assert quiet.returncode == 0
    assert quiet.stdout == "" and quiet.stderr == ""


def test_quiet_runtime(proxy, echo):
    port = free_port()
    cfg = f"frontend fe\n    bind {LOCAL}:{port}\n    default_backend be\nbackend be\n    server s1 {LOCAL}:{echo.port}\n"
    p = proxy(cfg, wait_ports=[port], extra_args=["-q"])
    with connect(port) as c:
        assert echo_ok(c)
    p.send_signal(signal.SIGUSR1)
    p.proc.wait(10)
    assert p.proc.returncode == 0
    assert p.stderr() == ""
    loud = proxy(cfg.replace(str(port), str(port2 := free_port())), wait_ports=[port2])
    loud.wait_stderr("missing timeouts for frontend 'fe'")


def test_foreground_db(proxy, echo):
    port = free_port()
    p = proxy(tcp_cfg(port, echo.port), wait_ports=[port], extra_args=["-db"])
    wait_for(lambda: pid_listens(p.pid, port), what="the -db process itself to listen")
    assert p.alive()
    with connect(port) as c:
        assert echo_ok(c)


def test_pidfile_master_worker_mode(proxy, echo, tmp_path):
    port = free_port()
    pidfile = tmp_path / "gp.pid"
    p = proxy(tcp_cfg(port, echo.port), wait_ports=[port], extra_args=["-W", "-p", pidfile])
    text = wait_for(lambda: pidfile.exists() and pidfile.read_text(), what="the pidfile")
    assert text.strip() == str(p.pid)
    with connect(port) as c:
        assert echo_ok(c)


def test_daemon(tmp_path, echo):
    port = free_port()
    cfg = tmp_path / "d.cfg"
    cfg.write_text(tcp_cfg(port, echo.port))
    pidfile = tmp_path / "d.pid"
    with open(tmp_path / "d.out", "wb") as out, open(tmp_path / "d.err", "wb") as err:
        starter = subprocess.Popen([*proxy_cmd(), "-D", "-f", str(cfg), "-p", str(pidfile)], stdout=out, stderr=err,
                                   stdin=subprocess.DEVNULL, env=helpers._proxy_env(), cwd=str(tmp_path))
    daemon_pid = None
    try:
        assert starter.wait(30) == 0, (tmp_path / "d.err").read_text()
        text = wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="the daemon's pidfile")
        daemon_pid = int(text.split()[0])
        assert daemon_pid != starter.pid
        assert not gone(daemon_pid)
        wait_for(lambda: pid_listens(daemon_pid, port), what="the daemon to listen")
        with open(f"/proc/{daemon_pid}/stat") as fh:
            stat = fh.read()
        fields = stat[stat.rindex(")") + 2:].split()
        assert int(fields[3]) != os.getsid(0), "the daemon left our session (setsid)"
        with connect(port) as c:
            assert echo_ok(c)
    finally:
        if daemon_pid is not None and not gone(daemon_pid):
            os.kill(daemon_pid, signal.SIGTERM)
            try:
                wait_for(lambda: gone(daemon_pid), timeout=10, what="the daemon to exit")
            except AssertionError:
                os.kill(daemon_pid, signal.SIGKILL)
                raise


# ------------------------------------------------------------------ signals
def test_sigusr1_soft_stop(proxy, echo):
    port = free_port()
    p = proxy(tcp_cfg(port, echo.port), wait_ports=[port])
    c = connect(port)
    assert echo_ok(c)
    p.send_signal(signal.SIGUSR1)
    wait_for(lambda: not pid_listens(p.pid, port), what="the listener to close")
    assert refused(port)
    p.wait_stderr("Proxy fe stopped (cumulated conns: FE: 1")
    # the established session keeps working until it ends
    assert echo_ok(c, b"still here")
    assert p.alive()
    c.close()
    assert p.proc.wait(10) == 0


def test_hard_stop_after_bounds_soft_stop(proxy, echo):
    port = free_port()
    p = proxy(tcp_cfg(port, echo.port, glob="    hard-stop-after 1s\n"), wait_ports=[port])
    c = connect(port)
    assert echo_ok(c)
    t0 = time.monotonic()
    p.send_signal(signal.SIGUSR1)
    assert p.proc.wait(10) == 0
    took = time.monotonic() - t0
    assert 0.8 <= took < 4.0, took
    assert eof(c, 2)
    c.close()
    p.wait_stderr("soft-stop running for too long, performing a hard-stop.")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_immediate_stop(proxy, echo, sig):
    port = free_port()
    p = proxy(tcp_cfg(port, echo.port), wait_ports=[port])
    c = connect(port)
    assert echo_ok(c)
    t0 = time.monotonic()
    p.send_signal(sig)
    code = p.proc.wait(5)
    assert time.monotonic() - t0 < 3.0
    # standalone HAProxy has no handler for these: it dies of the signal
    assert code == -sig
    assert eof(c, 2)
    c.close()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_immediate_stop_master_worker(proxy, echo, sig, code):
    """With ``-W`` the master catches SIGTERM/SIGINT: exit 0 / 130, sessions closed."""
    port = free_port()
    p = proxy(tcp_cfg(port, echo.port), wait_ports=[port], extra_args=["-W"])
    c = connect(port)
    assert echo_ok(c)
    # HAProxy's master listens (and its worker serves) before it installs its handlers
    wait_for(lambda: catches(p.pid, sig), what="the master to handle the signal")
    p.send_signal(sig)
    assert p.proc.wait(5) == code
    assert eof(c, 2)
    c.close()


def test_sigttou_pauses_sigttin_resumes(proxy, echo):
    port = free_port()
    p = proxy(tcp_cfg(port, echo.port), wait_ports=[port])
    c = connect(port)
    assert echo_ok(c)
    p.send_signal(signal.SIGTTOU)
    p.wait_stderr("Paused frontend fe.")
    wait_for(lambda: not pid_listens(p.pid, port), what="the paused listener to stop listening")
    assert refused(port)
    assert echo_ok(c, b"established sessions go on")
    p.send_signal(signal.SIGTTIN)
    p.wait_stderr("Resumed frontend fe.")
    wait_for(lambda: pid_listens(p.pid, port), what="the listener to listen again")
    with connect(port) as d:
        assert echo_ok(d)
    assert echo_ok(c)
    c.close()


def test_sf_hands_over_and_old_finishes(proxy, echo):
    port = free_port()
    cfg = tcp_cfg(port, echo.port)
    old = proxy(cfg, wait_ports=[port])
    c = connect(port)
    assert echo_ok(c)
    new = proxy(cfg, extra_args=["-sf", old.pid])
    wait_for(lambda: pid_listens(new.pid, port), what="the new process to bind (SO_REUSEPORT)")
    wait_for(lambda: not pid_listens(old.pid, port), what="the old process to close its listener")
    with connect(port) as d:
        assert echo_ok(d)
    assert old.alive()
    assert echo_ok(c, b"old session still served")
    c.close()
    assert old.proc.wait(10) == 0
    assert new.alive()
    with connect(port) as d:
        assert echo_ok(d)


def test_st_terminates_old(proxy, echo):
    port = free_port()
    cfg = tcp_cfg(port, echo.port)
    old = proxy(cfg, wait_ports=[port])
    c = connect(port)
    assert echo_ok(c)
    new = proxy(cfg, extra_args=["-st", old.pid])
    wait_for(lambda: pid_listens(new.pid, port), what="the new process to bind")
    code = old.proc.wait(10)
    assert code == -signal.SIGTERM
    assert eof(c, 2)
    c.close()
    with connect(port) as d:
        assert echo_ok(d)


# ------------------------------------------------------------------ global section
def test_global_maxconn(proxy, echo):
    port = free_port()
    p = proxy(tcp_cfg(port, echo.port, glob="    maxconn 2\n"), wait_ports=[port])
    a, b = connect(port), connect(port)
    assert echo_ok(a) and echo_ok(b)
    c = connect(port)  # completes in the kernel backlog, but is not accepted
    c.sendall(b"third")
    c.settimeout(0.7)
    with pytest.raises(socket.timeout):
        c.recv(10)
    a.close()
    c.settimeout(5)
    assert c.recv(10) == b"third"
    assert echo_ok(b)
    b.close()
    c.close()
    assert p.alive()


def test_user_group_chroot_applied_after_bind(proxy, echo, syslog, tmp_path):
    root = tmp_path / "jail"
    root.mkdir()
    uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    port, dead = free_port(), free_port()
    glob = (f"    user nobody\n    group nogroup\n    chroot {root}\n"
            f"    log {LOCAL}:{syslog.port} local0\n")
    be = f"    server s2 {LOCAL}:{dead} check inter 300ms fall 1 rise 1\n    balance first\n"
    cfg = tcp_cfg(port, echo.port, glob=glob, defaults="    log global\n    option tcplog\n", be=be)
    cfg = cfg.replace(f"server s1 {LOCAL}:{echo.port}", f"server s1 {LOCAL}:{echo.port} maxconn 100")
    p = proxy(cfg, wait_ports=[port])

    def status_ids():
        ids = {}
        with open(f"/proc/{p.pid}/status") as fh:
            for line in fh:
                key, _, val = line.partition(":")
                if key in ("Uid", "Gid"):
                    ids[key] = [int(x) for x in val.split()]
        return ids if ids.get("Uid") == [uid] * 4 else None

    ids = wait_for(status_ids, what="the proxy to drop privileges")
    assert ids["Gid"] == [gid] * 4
    assert os.readlink(f"/proc/{p.pid}/root") == str(root)
    # the port was bound before dropping root; traffic, logs and checks work in the jail
    for _ in range(3):
        with connect(port) as c:
            assert echo_ok(c)
            cport = c.getsockname()[1]
    syslog.wait_line(f"{LOCAL}:{cport} ")
    syslog.wait_line("Server be/s2 is DOWN")
    p.send_signal(signal.SIGUSR1)
    assert p.proc.wait(10) == 0


# ------------------------------------------------------------------ log targets
LOG_CFG = """\
global
{log}
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 127.0.0.1:{srv} check inter 200ms fall 1 rise 1
"""

TRAFFIC_RE = r"\[\d\d/\w{{3}}/\d{{4}}:\d\d:\d\d:\d\d\.\d{{3}}\] fe be/s1 \d+/\d+/\d+ 4 -- "


def _session(port: int) -> int:
    with connect(port) as c:
        assert echo_ok(c)
        return c.getsockname()[1]


def test_log_udp_level_filter(proxy, syslog):
    """``log <udp> local0 notice`` drops info traffic logs but keeps the server DOWN alert."""
    srv = TcpEchoServer()
    try:
        port = free_port()
        log = f"    log 127.0.0.1:{syslog.port} local0\n    log 127.0.0.1:{syslog.port} local1 notice\n"
        proxy(LOG_CFG.format(log=log, port=port, srv=srv.port), wait_ports=[port])
        cport = _session(port)
        line = syslog.wait_line(f"127.0.0.1:{cport} ")
        assert line.startswith("<134>")  # local0.info
        srv.stop()
        down = syslog.wait_line("Server be/s1 is DOWN")
        assert down.startswith("<129>")  # local0.alert
        syslog.wait_line("<137>")  # local1.alert: the notice-filtered target got it too
        assert not [x for x in syslog.lines if x.startswith("<142>")], "no local1.info traffic line"
    finally:
        srv.stop()


def test_log_stdout_raw(proxy, echo):
    port = free_port()
    p = proxy(LOG_CFG.format(log="    log stdout format raw local0", port=port, srv=echo.port), wait_ports=[port])
    cport = _session(port)
    line = wait_for(lambda: next((x for x in p.stdout().splitlines() if f"127.0.0.1:{cport} " in x), None),
                    what="the raw log line on stdout")
    assert line.startswith(f"127.0.0.1:{cport} [")  # raw: no <PRI>, no header
    assert re.search(TRAFFIC_RE.format(), line), line


def test_log_unix_dgram_socket(proxy, echo, tmp_path):
    path = tmp_path / "log.sock"
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(str(path))
    sink.settimeout(10)
    try:
        port = free_port()
        proxy(LOG_CFG.format(log=f"    log {path} local0 info", port=port, srv=echo.port), wait_ports=[port])
        cport = _session(port)
        while True:
            msg = sink.recv(65536).decode()
            if f"127.0.0.1:{cport} " in msg:
                break
        assert re.match(r"<134>\w{3} [ \d]\d \d\d:\d\d:\d\d \S+\[\d+\]: ", msg), msg
        assert re.search(TRAFFIC_RE.format(), msg), msg
    finally:
        sink.close()
