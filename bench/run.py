#!/usr/bin/env python3
"""gproxy benchmark harness: haproxy vs gproxy on the same nginx backends.

This file owns the whole benchmark (everything under ``bench/``); it is not
imported by gproxy and imports nothing from it.  It:

* starts ONE nginx (own temp prefix, own nginx.conf) listening on two
  127.0.0.1 ports = two backend servers, serving a tiny response (``/``) and a
  64 MiB static file (``/big.bin``);
* for every scenario writes the same haproxy-style config for each proxy
  (only ``nbthread``, in haproxy's copy, may differ), starts both proxies in
  the foreground with ``-f <cfg>`` appended to their command (own ports),
  waits until they accept, measures them in alternating time slices
  (H G | G H | ...), and stops both;
* prints a table (scenario, haproxy, gproxy, gproxy/haproxy, proxy CPU%,
  slice spread) and optionally writes JSON (``--json``).

Scenarios live in the ``SCENARIOS`` dict: each is a small ``Scenario`` entry
(mode tcp/http + a runner function).  Only 127.0.0.1 is used.  Every wait has
a deadline; every child runs in its own session and is killed on exit/Ctrl-C.

Internal helper modes (run as separate client processes by the harness):
``run.py _idle-client PORT COUNT HOLD_S``.
"""

from __future__ import annotations

import argparse
import atexit
import errno
import json
import math
import os
import platform
import resource
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIG_FILE = "big.bin"
PROXIES = ("haproxy", "gproxy")

# --------------------------------------------------------------------------
# child process bookkeeping
# --------------------------------------------------------------------------

_CHILDREN: list[subprocess.Popen] = []
_TMPDIRS: list[str] = []
_KEEP_TMP = False


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def raise_nofile() -> int:
    """Raise RLIMIT_NOFILE soft limit to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
    return hard


_PIN: dict[str, set[int]] = {}  # role ("proxy" / "load") -> CPUs, filled only with --pin


def spawn(cmd: list[str], name: str, logdir: str, role: str = "load", **kw) -> subprocess.Popen:
    """Start a child in its own session (so its whole group can be killed)."""
    cpus = _PIN.get(role)
    if cpus:
        kw["preexec_fn"] = lambda: os.sched_setaffinity(0, cpus)
    with (
        open(os.path.join(logdir, f"{name}.out"), "wb") as out,
        open(os.path.join(logdir, f"{name}.err"), "wb") as err,
    ):
        proc = subprocess.Popen(
            cmd,
            stdin=kw.pop("stdin", subprocess.DEVNULL),
            stdout=kw.pop("stdout", out),
            stderr=err,
            start_new_session=True,
            **kw,
        )
    proc.bench_name = name  # type: ignore[attr-defined]
    proc.bench_err = os.path.join(logdir, f"{name}.err")  # type: ignore[attr-defined]
    _CHILDREN.append(proc)
    return proc


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
    """Stop a child we started: signal its process group, then SIGKILL after timeout."""
    if proc is None:
        return
    for s, t in ((sig, timeout), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, s)
        except ProcessLookupError:
            break
        except PermissionError:
            proc.send_signal(s)
        try:
            proc.wait(timeout=t)
        except subprocess.TimeoutExpired:
            continue
    # the leader may be gone while group members linger: reap them too
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
    if proc in _CHILDREN:
        _CHILDREN.remove(proc)


def cleanup_all() -> None:
    while _CHILDREN:
        stop(_CHILDREN[-1], timeout=3.0)
    while _TMPDIRS:
        d = _TMPDIRS.pop()
        if _KEEP_TMP:
            log(f"kept temp dir {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)


def _on_signal(signum, _frame):
    log(f"got signal {signum}: stopping children, removing temp files")
    raise SystemExit(128 + signum)


def tail(path: str, n: int = 30) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()[-8192:]
    except OSError:
        return "(no output)"
    lines = data.decode("utf-8", "replace").splitlines()[-n:]
    return "\n".join("    " + ln for ln in lines) or "    (empty)"


class StartError(RuntimeError):
    def __init__(self, msg: str, short: str = ""):
        super().__init__(msg)
        self.short = short or msg.splitlines()[0][:100]


# --------------------------------------------------------------------------
# small system helpers
# --------------------------------------------------------------------------


def port_free(port: int) -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class PortAlloc:
    """Hands out fixed ports from a base (below the ephemeral range), skipping busy ones."""

    def __init__(self, base: int):
        self.next = base

    def take(self) -> int:
        for _ in range(500):
            p = self.next
            self.next += 1
            if port_free(p):
                return p
        raise RuntimeError(f"no free port found near {self.next}")


def wait_accepting(port: int, proc: subprocess.Popen | None, timeout: float, what: str) -> None:
    """Wait until 127.0.0.1:port accepts a TCP connection, or fail (showing stderr)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StartError(
                f"{what} exited with status {proc.returncode} before accepting on port {port}; "
                f"stderr:\n{tail(proc.bench_err)}",  # type: ignore[attr-defined]
                f"exited with status {proc.returncode} at startup (stderr shown in the log)",
            )
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        except OSError as e:
            last = str(e)
        time.sleep(0.05)
    msg = f"{what} did not accept on {HOST}:{port} within {timeout:.0f}s ({last})"
    if proc is not None:
        msg += f"; stderr:\n{tail(proc.bench_err)}"  # type: ignore[attr-defined]
    raise StartError(msg, f"not accepting after {timeout:.0f}s")


def count_established(remote_ports: set[int]) -> int:
    """Established TCP sockets whose REMOTE port is one of remote_ports (/proc/net/tcp*)."""
    n = 0
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                next(f, None)
                for line in f:
                    parts = line.split(None, 4)
                    if len(parts) < 4 or parts[3] != "01":
                        continue
                    if int(parts[2].rsplit(":", 1)[1], 16) in remote_ports:
                        n += 1
        except OSError:
            pass
    return n


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def _tree(pid: int) -> list[int]:
    kids = _children_map()
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.append(p)
            todo.extend(kids.get(p, []))
    return seen


def tree_rss_kib(pid: int) -> int:
    """VmRSS (KiB) of pid plus all its descendants."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


_HZ = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid: int) -> float:
    """User+system CPU seconds used so far by pid plus its live descendants."""
    ticks = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return ticks / _HZ


def cpu_snapshot() -> tuple[float, float]:
    """(machine-wide user+system CPU seconds, CPU seconds of this process + waited-for children)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    machine = (int(fields[0]) + int(fields[1]) + int(fields[2])) / _HZ  # user, nice, system
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return machine, me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def first_line(cmd: list[str], timeout: float = 5.0) -> str:
    try:
        r = subprocess.run(
            cmd,
            check=False,
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e.__class__.__name__})"
    text = (r.stdout + r.stderr).decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else f"unknown (exit {r.returncode})"


# --------------------------------------------------------------------------
# nginx backend
# --------------------------------------------------------------------------

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes {workers};
worker_rlimit_nofile {nofile};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{
    worker_connections {wconns};
    multi_accept on;
}}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-tmp/body;
    proxy_temp_path {tmp}/nginx-tmp/proxy;
    fastcgi_temp_path {tmp}/nginx-tmp/fastcgi;
    uwsgi_temp_path {tmp}/nginx-tmp/uwsgi;
    scgi_temp_path {tmp}/nginx-tmp/scgi;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 600s;
    keepalive_requests 100000000;
    client_header_timeout 600s;
    client_body_timeout 600s;
    send_timeout 600s;
    lingering_close off;
    server {{
        listen {host}:{p1} backlog=4096;
        listen {host}:{p2} backlog=4096;
        root {tmp}/www;
        location = / {{
            default_type text/plain;
            return 200 "hello\\n";
        }}
        location / {{
        }}
    }}
}}
"""


def start_nginx(args, tmp: str, ports: tuple[int, int], nofile: int) -> subprocess.Popen:
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    os.makedirs(os.path.join(tmp, "nginx-tmp"), exist_ok=True)
    chunk = os.urandom(1 << 20)
    with open(os.path.join(www, BIG_FILE), "wb") as f:
        f.writelines(chunk for _ in range(args.big_mib))
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(
            NGINX_CONF.format(
                workers=args.nginx_workers,
                nofile=nofile,
                wconns=max(1024, nofile - 100),
                tmp=tmp,
                host=HOST,
                p1=ports[0],
                p2=ports[1],
            )
        )
    cmd = [
        args.nginx,
        "-p",
        tmp,
        "-c",
        conf,
        "-e",
        os.path.join(tmp, "nginx-error.log"),
    ]
    proc = spawn(cmd, "nginx", tmp)
    for p in ports:
        wait_accepting(p, proc, args.start_timeout, "nginx")
        check_backend(p, args.big_mib << 20)
    return proc


def check_backend(port: int, big_size: int) -> None:
    """Fail early if nginx does not serve '/' and the big file with status 200."""
    import http.client

    for path, want in (("/", 6), ("/" + BIG_FILE, big_size)):
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        try:
            conn.request("HEAD", path)
            r = conn.getresponse()
            r.read()
            size = int(r.getheader("Content-Length") or -1)
        except (OSError, http.client.HTTPException) as e:
            raise StartError(f"nginx on port {port}: HEAD {path} failed: {e}") from e
        finally:
            conn.close()
        if r.status != 200 or size != want:
            raise StartError(
                f"nginx on port {port}: HEAD {path} gave status {r.status}, Content-Length {size} (want 200, {want})"
            )


# --------------------------------------------------------------------------
# proxy config + lifecycle
# --------------------------------------------------------------------------


def proxy_config(mode: str, port: int, backends: tuple[int, int], maxconn: int, nbthread: int | None) -> str:
    """The haproxy-style config both proxies read (nbthread: haproxy copy only)."""
    g = ["global", f"    maxconn {maxconn}"]
    if nbthread:
        g.append(f"    nbthread {nbthread}")
    lines = g + [
        "",
        "defaults",
        "    mode tcp",
        "    timeout connect 5s",
        "    timeout client 300s",
        "    timeout server 300s",
        "",
        "listen bench",
        f"    bind {HOST}:{port}",
    ]
    if mode == "http":
        lines += ["    mode http", "    option http-keep-alive"]
    lines += [
        "    balance roundrobin",
        f"    server s1 {HOST}:{backends[0]}",
        f"    server s2 {HOST}:{backends[1]}",
        "",
    ]
    return "\n".join(lines)


@dataclass
class Ctx:
    args: argparse.Namespace
    tmp: str
    backends: tuple[int, int]
    ports: PortAlloc
    commands: dict[str, list[str]]
    lua: str = ""


@dataclass
class Proxy:
    name: str
    proc: subprocess.Popen
    port: int
    cfg: str


def start_proxy(ctx: Ctx, name: str, mode: str, tag: str) -> Proxy:
    port = ctx.ports.take()
    nbt = ctx.args.haproxy_nbthread if name == "haproxy" else None
    cfg = os.path.join(ctx.tmp, f"{tag}-{name}.cfg")
    with open(cfg, "w") as f:
        f.write(proxy_config(mode, port, ctx.backends, ctx.args.maxconn, nbt))
    cmd = ctx.commands[name] + ["-f", cfg]
    try:
        proc = spawn(cmd, f"{tag}-{name}", ctx.tmp, role="proxy")
    except OSError as e:
        raise StartError(f"{name}: cannot execute {shlex.join(cmd)}: {e}", f"cannot execute: {e}") from e
    try:
        wait_accepting(port, proc, ctx.args.start_timeout, f"{name} ({shlex.join(cmd)})")
    except StartError:
        stop(proc)
        raise
    return Proxy(name, proc, port, cfg)


# --------------------------------------------------------------------------
# load generators / measurements
# --------------------------------------------------------------------------

WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%.0f,"bytes":%.0f,"duration_us":%.0f,' ..
    '"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,' ..
    '"lat_p50_us":%.0f,"lat_p99_us":%.0f}\n',
    summary.requests, summary.bytes, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Measure:
    value: float
    errors: int = 0
    detail: dict = field(default_factory=dict)


def run_wrk(ctx: Ctx, port: int, path: str, conns: int, seconds: int, close: bool) -> dict:
    a = ctx.args
    threads = max(1, min(a.wrk_threads, conns))
    cmd = [
        a.wrk,
        f"-t{threads}",
        f"-c{conns}",
        f"-d{seconds}s",
        f"--timeout={a.wrk_timeout}s",
        "-s",
        ctx.lua,
    ]
    if close:
        cmd += ["-H", "Connection: close"]
    cmd.append(f"http://{HOST}:{port}{path}")
    proc = spawn(cmd, "wrk", ctx.tmp, stdout=subprocess.PIPE)
    limit = seconds + a.wrk_timeout + 30
    try:
        out, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"wrk did not finish within {limit}s") from None
    finally:
        stop(proc)
    text = out.decode("utf-8", "replace")
    for line in text.splitlines():
        if line.startswith("WRKJSON "):
            res = json.loads(line[8:])
            res["errors"] = int(res["connect"] + res["read"] + res["write"] + res["status"] + res["timeout"])
            return res
    raise RuntimeError(f"wrk failed (exit {proc.returncode}): {text.strip()} {tail(proc.bench_err, 5).strip()}")  # type: ignore[attr-defined]


def wrk_measure(path: str, conns: int, close: bool, metric: str) -> Callable[[Ctx, Proxy, int], Measure]:
    """A sliced measurement: one wrk run of `seconds` against the proxy."""

    def measure(ctx: Ctx, px: Proxy, seconds: int) -> Measure:
        r = run_wrk(ctx, px.port, path, conns, seconds, close)
        secs = r["duration_us"] / 1e6 or 1.0
        val = r["requests"] / secs if metric == "rps" else r["bytes"] / secs / (1 << 20)
        return Measure(val, r["errors"], r)

    return measure


def idle_mem_measure(ctx: Ctx, px: Proxy, _seconds: int) -> Measure:
    """Open N idle client connections (separate process) and measure proxy RSS growth."""
    a = ctx.args
    n = a.idle_conns
    backends = set(ctx.backends)
    time.sleep(0.5)
    base_est = count_established(backends)
    rss_before = tree_rss_kib(px.proc.pid)
    hold = 60 + n / 100
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "_idle-client",
        str(px.port),
        str(n),
        str(int(hold)),
    ]
    cli = spawn(cmd, "idle-client", ctx.tmp, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        line = _readline(cli, timeout=hold)
        if not line:
            raise RuntimeError(f"idle client gave no report; stderr:\n{tail(cli.bench_err)}")  # type: ignore[attr-defined]
        rep = json.loads(line)
        target = base_est + rep["connected"]
        deadline = time.monotonic() + a.idle_wait
        est = count_established(backends)
        while est < target and time.monotonic() < deadline and px.proc.poll() is None:
            time.sleep(0.2)
            est = count_established(backends)
        time.sleep(1.0)  # let the proxy settle (buffers, lazy allocations)
        est = count_established(backends) - base_est
        rss_after = tree_rss_kib(px.proc.pid)
    finally:
        try:
            cli.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        stop(cli)
    errors = rep["errors"] + max(0, n - est)
    per = (rss_after - rss_before) / est if est > 0 else float("nan")
    return Measure(
        per,
        errors,
        {
            "requested": n,
            "client_connected": rep["connected"],
            "client_errors": rep["errors"],
            "backend_established": est,
            "rss_before_kib": rss_before,
            "rss_after_kib": rss_after,
        },
    )


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()  # type: ignore[union-attr]
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            if b"\n" in buf:
                return buf.split(b"\n", 1)[0].decode()
        elif proc.poll() is not None:
            break
    return ""


def idle_client_main(argv: list[str]) -> int:
    """Separate process: open COUNT connections to PORT, send a partial request, hold."""
    import selectors

    port, count, hold = int(argv[0]), int(argv[1]), float(argv[2])
    raise_nofile()
    socks: list[socket.socket] = []
    errors = 0
    partial = b"GET / HTTP/1.1\r\n"  # incomplete request: nginx waits (client_header_timeout 600s)
    sel = selectors.DefaultSelector()
    deadline = time.monotonic() + hold
    batch = 200  # stay well under the listen backlog
    while len(socks) + errors < count and time.monotonic() < deadline:
        pending = {}
        for _ in range(min(batch, count - len(socks) - errors)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((HOST, port))
            if rc not in (0, errno.EINPROGRESS):
                errors += 1
                s.close()
                continue
            pending[s.fileno()] = s
            sel.register(s, selectors.EVENT_WRITE)
        bdeadline = min(deadline, time.monotonic() + 15)
        while pending and time.monotonic() < bdeadline:
            for key, _ in sel.select(timeout=0.5):
                s = pending.pop(key.fd)
                sel.unregister(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    try:
                        s.send(partial)
                        socks.append(s)
                        continue
                    except OSError:
                        pass
                errors += 1
                s.close()
        for s in pending.values():
            sel.unregister(s)
            s.close()
            errors += 1
    sys.stdout.write(json.dumps({"connected": len(socks), "errors": errors}) + "\n")
    sys.stdout.flush()
    # hold until the harness closes our stdin (or the hold time runs out)
    select.select([sys.stdin], [], [], max(1.0, deadline - time.monotonic()))
    for s in socks:
        s.close()
    return 0


# --------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------


@dataclass
class Scenario:
    mode: str  # "tcp" or "http": the listen block's mode
    unit: str
    better: str  # "higher" or "lower"
    measure: Callable[[Ctx, Proxy, int], Measure]
    desc: str
    sliced: bool = True  # True: run in interleaved time slices; False: once per proxy


SCENARIOS: dict[str, Scenario] = {
    "tcp-keepalive": Scenario(
        "tcp",
        "req/s",
        "higher",
        wrk_measure("/", 50, False, "rps"),
        "wrk -c50, HTTP keep-alive, 6-byte body",
    ),
    "tcp-close": Scenario(
        "tcp",
        "req/s",
        "higher",
        wrk_measure("/", 50, True, "rps"),
        "wrk -c50, Connection: close (new TCP connection per request)",
    ),
    "tcp-bulk": Scenario(
        "tcp",
        "MiB/s",
        "higher",
        wrk_measure("/" + BIG_FILE, 4, False, "mibps"),
        "wrk -c4 downloading the big file, MiB/s received",
    ),
    "tcp-idle-mem": Scenario(
        "tcp",
        "KiB/conn",
        "lower",
        idle_mem_measure,
        "proxy RSS growth per idle proxied connection",
        sliced=False,
    ),
    "http-keepalive-50": Scenario(
        "http",
        "req/s",
        "higher",
        wrk_measure("/", 50, False, "rps"),
        "mode http, wrk -c50 keep-alive",
    ),
    "http-keepalive-500": Scenario(
        "http",
        "req/s",
        "higher",
        wrk_measure("/", 500, False, "rps"),
        "mode http, wrk -c500 keep-alive",
    ),
    "http-close": Scenario(
        "http",
        "req/s",
        "higher",
        wrk_measure("/", 50, True, "rps"),
        "mode http, wrk -c50 Connection: close",
    ),
    "http-bulk": Scenario(
        "http",
        "MiB/s",
        "higher",
        wrk_measure("/" + BIG_FILE, 4, False, "mibps"),
        "mode http, wrk -c4 downloading the big file",
    ),
}


def _measure_one(ctx: Ctx, sc: Scenario, px: Proxy, seconds: int, others: list[Proxy], cells: dict) -> bool:
    """One measurement of px; records value, errors, proxy CPU% and idle CPU of the others."""
    cell = cells[px.name]
    cpu0 = tree_cpu_s(px.proc.pid)
    idle0 = {o.name: tree_cpu_s(o.proc.pid) for o in others}
    t0 = time.monotonic()
    try:
        m = sc.measure(ctx, px, seconds)
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        cell["error"] = str(e).splitlines()[0][:200]
        log(f"  {px.name}: measurement failed: {e}")
        return False
    wall = time.monotonic() - t0
    if px.proc.poll() is not None:
        cell["error"] = f"exited with status {px.proc.returncode} during the run"
        log(f"  {px.name} died; stderr:\n{tail(px.proc.bench_err)}")  # type: ignore[attr-defined]
        return False
    cpu = 100.0 * (tree_cpu_s(px.proc.pid) - cpu0) / wall
    cell["samples"].append({"value": m.value, "errors": m.errors, "cpu_pct": round(cpu, 1), **m.detail})
    for o in others:
        if o.proc.poll() is None:
            idle = 100.0 * (tree_cpu_s(o.proc.pid) - idle0[o.name]) / wall
            cell_o = cells[o.name]
            cell_o["idle_cpu_pct_max"] = max(cell_o.get("idle_cpu_pct_max", 0.0), round(idle, 1))
    log(f"  {px.name}: {fmt(m.value, sc.unit)} {sc.unit}, errors {m.errors}, proxy cpu {cpu:.0f}%")
    return True


def run_scenario(ctx: Ctx, sname: str) -> dict:
    """Start both proxies (same config, own ports), measure them alternately, stop both."""
    a = ctx.args
    sc = SCENARIOS[sname]
    cells: dict[str, dict] = {p: {"samples": []} for p in PROXIES}
    running: dict[str, Proxy] = {}
    try:
        for p in PROXIES:
            try:
                running[p] = start_proxy(ctx, p, sc.mode, sname)
            except StartError as e:
                log(f"FAILED to start {p} for {sname}: {e}")
                cells[p]["error"] = "failed to start: " + e.short
                cells[p]["start_error"] = str(e)

        def others(p: str) -> list[Proxy]:
            return [px for n, px in running.items() if n != p]

        if sc.sliced:
            n = max(1, a.slices)
            secs = max(1, round(a.duration / n))
            if a.warmup > 0:
                for p in list(running):
                    if not _measure_one(
                        ctx,
                        sc,
                        running[p],
                        max(1, round(a.warmup)),
                        others(p),
                        cells,
                    ):
                        stop(running.pop(p).proc)
                    else:
                        cells[p]["samples"].clear()  # warm-up is discarded
            for i in range(n):
                order = PROXIES if i % 2 == 0 else PROXIES[::-1]  # ABBA: no proxy always goes first
                for p in order:
                    if p in running:
                        log(f"{sname} [{sc.desc}] slice {i + 1}/{n} ({secs}s): {p}")
                        if not _measure_one(ctx, sc, running[p], secs, others(p), cells):
                            stop(running.pop(p).proc)
        else:
            for p in PROXIES:
                if p in running:
                    log(f"{sname} [{sc.desc}]: {p}")
                    if not _measure_one(ctx, sc, running[p], 0, others(p), cells):
                        stop(running.pop(p).proc)
    finally:
        for px in running.values():
            stop(px.proc)

    row = {
        "scenario": sname,
        "unit": sc.unit,
        "better": sc.better,
        "mode": sc.mode,
        "description": sc.desc,
    }
    for p in PROXIES:
        c = cells[p]
        c["ok"] = "error" not in c and bool(c["samples"])
        vals = [s["value"] for s in c["samples"]]
        if vals and c["ok"]:
            c["value"] = statistics.median(vals)
            c["min"], c["max"] = min(vals), max(vals)
            c["errors"] = sum(s["errors"] for s in c["samples"])
            c["cpu_pct"] = statistics.median(s["cpu_pct"] for s in c["samples"])
        row[p] = c
    hv, gv = row["haproxy"].get("value"), row["gproxy"].get("value")
    ok = hv and gv is not None and not math.isnan(hv) and not math.isnan(gv)
    row["ratio"] = gv / hv if ok else None
    return row


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------


def fmt(v: float | None, unit: str) -> str:
    if v is None or math.isnan(v):
        return "-"
    if unit == "KiB/conn":
        return f"{v:.2f}"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def print_table(rows: list[dict]) -> None:
    hdr = [
        "scenario",
        "unit",
        "haproxy",
        "gproxy",
        "gproxy/haproxy",
        "cpu% h/g",
        "spread% h/g",
        "notes",
    ]
    body = []
    for r in rows:
        notes = []
        for p in PROXIES:
            c = r[p]
            if c.get("error"):
                notes.append(f"{p}: {c['error']}")
            elif c.get("errors"):
                notes.append(f"{p}: {c['errors']} errors")
            if c.get("idle_cpu_pct_max", 0) > 5:
                notes.append(f"{p} used {c['idle_cpu_pct_max']:.0f}% cpu while idle")
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        cpu = "/".join("-" if r[p].get("cpu_pct") is None else f"{r[p]['cpu_pct']:.0f}" for p in PROXIES)
        spread = "/".join(
            f"{100 * (r[p]['max'] - r[p]['min']) / r[p]['value']:.0f}" if r[p].get("value") else "-" for p in PROXIES
        )
        if r["unit"] == "KiB/conn":
            cpu = spread = ""
        body.append(
            [
                r["scenario"],
                r["unit"],
                fmt(r["haproxy"].get("value"), r["unit"]),
                fmt(r["gproxy"].get("value"), r["unit"]),
                ratio,
                cpu,
                spread,
                "; ".join(notes)[:120],
            ]
        )
    widths = [max(len(hdr[i]), *(len(b[i]) for b in body)) for i in range(len(hdr))]
    right = {2, 3, 4, 5, 6}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    print(line(hdr))
    print(line(["-" * w for w in widths]))
    for b in body:
        print(line(b))
    print(
        "ratio = gproxy/haproxy.  req/s, MiB/s: higher is better, ratio < 1 means gproxy is slower.\n"
        "KiB/conn: lower is better, ratio > 1 means gproxy uses more memory per connection.\n"
        "figures are medians over the time slices; cpu% = proxy CPU use during its slices (100 = one core);\n"
        "spread% = (max - min) / median over the slices: large spread = noisy measurement."
    )


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Benchmark gproxy against haproxy on the same nginx backends.")
    ap.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma list (default: all): {','.join(SCENARIOS)}",
    )
    ap.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds of load per proxy per scenario (default 10), split into --slices",
    )
    ap.add_argument(
        "--slices",
        type=int,
        default=5,
        help="split --duration into N alternating haproxy/gproxy slices (default 5); "
        "the reported figure is the median slice",
    )
    ap.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of discarded load per proxy before measuring, 0 = none (default 1)",
    )
    ap.add_argument(
        "--gproxy-cmd",
        default=f"{shlex.quote(sys.executable)} {shlex.quote(os.path.join(REPO, 'gproxy.py'))}",
        help="command for the gproxy slot; '-f <cfg>' is appended (default: python3 <repo>/gproxy.py)",
    )
    ap.add_argument(
        "--haproxy",
        default="/usr/sbin/haproxy",
        help="haproxy binary; run as '<haproxy> -db -f <cfg>'",
    )
    ap.add_argument(
        "--haproxy-nbthread",
        type=int,
        default=1,
        help="write 'nbthread N' into the haproxy copy of the config only (0 = omit, haproxy default)",
    )
    ap.add_argument(
        "--maxconn",
        type=int,
        default=0,
        help="global maxconn in the config (default: min(20000, (fd hard limit - 200) / 2), "
        "because haproxy refuses to start unless it can get ~2*maxconn fds)",
    )
    ap.add_argument(
        "--pin",
        action="store_true",
        help="pin the proxy to the last CPU and nginx/wrk/clients to the others (default: pin nothing)",
    )
    ap.add_argument("--nginx", default="/usr/sbin/nginx")
    ap.add_argument(
        "--nginx-workers",
        type=int,
        default=1,
        help="nginx worker_processes (default 1)",
    )
    ap.add_argument("--wrk", default="/usr/bin/wrk")
    ap.add_argument("--wrk-threads", type=int, default=1, help="wrk -t (default 1)")
    ap.add_argument("--wrk-timeout", type=int, default=5, help="wrk --timeout seconds (default 5)")
    ap.add_argument(
        "--idle-conns",
        type=int,
        default=5000,
        help="connections for tcp-idle-mem (default 5000)",
    )
    ap.add_argument(
        "--idle-wait",
        type=float,
        default=60.0,
        help="max seconds to wait for idle conns to be established",
    )
    ap.add_argument(
        "--big-mib",
        type=int,
        default=64,
        help="size of the bulk file in MiB (default 64)",
    )
    ap.add_argument(
        "--base-port",
        type=int,
        default=21000,
        help="first port to use on 127.0.0.1 (default 21000)",
    )
    ap.add_argument(
        "--start-timeout",
        type=float,
        default=15.0,
        help="max seconds for a server to start accepting",
    )
    ap.add_argument("--json", metavar="FILE", help="also write results as JSON to FILE")
    ap.add_argument(
        "--keep-tmp",
        action="store_true",
        help="keep the temp dir (configs, logs) for inspection",
    )
    a = ap.parse_args(argv)
    names = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    bad = [s for s in names if s not in SCENARIOS]
    if bad or not names:
        ap.error(f"unknown scenario(s) {bad}; known: {', '.join(SCENARIOS)}")
    a.scenario_list = names
    if a.duration < 1 or a.slices < 1 or a.idle_conns < 1:
        ap.error("--duration must be >= 1, --slices and --idle-conns >= 1")
    return a


def main(argv: list[str]) -> int:
    global _KEEP_TMP
    if argv[:1] == ["_idle-client"]:
        return idle_client_main(argv[1:])
    a = parse_args(argv)
    _KEEP_TMP = a.keep_tmp
    atexit.register(cleanup_all)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    # even if started with SIGINT ignored (background job), Ctrl-C/kill -INT must clean up
    signal.signal(signal.SIGINT, signal.default_int_handler)
    nofile = raise_nofile()  # inherited by every child we start
    ncpu = len(os.sched_getaffinity(0))
    if a.pin and ncpu >= 2:
        cpus = sorted(os.sched_getaffinity(0))
        _PIN.update(proxy={cpus[-1]}, load=set(cpus[:-1]))
    if a.maxconn <= 0:
        a.maxconn = max(1000, min(20000, (nofile - 200) // 2))

    for exe in (a.haproxy, a.nginx, a.wrk):
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            print(f"error: {exe} not found or not executable", file=sys.stderr)
            return 2
    commands = {"haproxy": [a.haproxy, "-db"], "gproxy": shlex.split(a.gproxy_cmd)}
    if not commands["gproxy"]:
        print("error: --gproxy-cmd is empty", file=sys.stderr)
        return 2

    t0 = time.monotonic()
    cpu0 = cpu_snapshot()
    versions = {
        "haproxy": first_line([a.haproxy, "-v"]),
        "gproxy": first_line(commands["gproxy"] + ["-v"]),
        "nginx": first_line([a.nginx, "-v"]),
        "wrk": first_line([a.wrk, "-v"]),
        "python": f"Python {platform.python_version()} ({sys.executable})",
        "kernel": platform.release(),
    }
    secs = max(1, round(a.duration / a.slices))
    settings = {
        "cpus": os.cpu_count(),
        "nofile": nofile,
        "maxconn": a.maxconn,
        "load_per_proxy": f"{a.slices} slices x {secs}s, alternating, after {a.warmup:g}s warm-up",
        "haproxy_nbthread": a.haproxy_nbthread or "default (no nbthread line)",
        "cpu_pinning": (
            f"proxy on CPU {sorted(_PIN['proxy'])}, nginx/wrk/clients on CPUs {sorted(_PIN['load'])}"
            if _PIN
            else "none"
        ),
        "nginx_workers": a.nginx_workers,
        "wrk_threads": a.wrk_threads,
        "idle_conns": a.idle_conns,
        "big_file_mib": a.big_mib,
        "haproxy_cmd": shlex.join(commands["haproxy"] + ["-f", "<cfg>"]),
        "gproxy_cmd": shlex.join(commands["gproxy"] + ["-f", "<cfg>"]),
    }
    print("== gproxy benchmark ==")
    for k, v in versions.items():
        print(f"  {k:16s}: {v}")
    for k, v in settings.items():
        print(f"  {k:16s}: {v}")
    if a.haproxy_nbthread:
        same = f"identical config for both proxies except 'nbthread {a.haproxy_nbthread}' in haproxy's copy"
    else:
        same = "byte-identical config for both proxies (no nbthread line)"
    print(f"  {'fairness':16s}: {same}; same nginx backends; alternating slices")
    sys.stdout.flush()

    tmp = tempfile.mkdtemp(prefix="gproxy-bench-")
    _TMPDIRS.append(tmp)
    os.chmod(tmp, 0o755)  # nginx workers run as an unprivileged user and must read www/
    rows: list[dict] = []
    try:
        ports = PortAlloc(a.base_port)
        backends = (ports.take(), ports.take())
        ports.next = max(ports.next, a.base_port + 10)
        lua = os.path.join(tmp, "report.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA)
        log(f"starting nginx ({a.nginx_workers} worker(s)) on {HOST}:{backends[0]},{backends[1]} in {tmp}")
        try:
            nginx = start_nginx(a, tmp, backends, nofile)
        except StartError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        ctx = Ctx(a, tmp, backends, ports, commands, lua)
        for sname in a.scenario_list:
            if nginx.poll() is not None:
                raise RuntimeError(f"nginx died (status {nginx.returncode}):\n{tail(nginx.bench_err)}")  # type: ignore[attr-defined]
            rows.append(run_scenario(ctx, sname))
        stop(nginx)
    finally:
        cleanup_all()

    elapsed = time.monotonic() - t0
    cpu1 = cpu_snapshot()
    other = max(0.0, (cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1])) / elapsed
    print()
    print_table(rows)
    print(f"total time: {elapsed:.0f}s")
    print(
        f"other processes on this machine used ~{other:.2f} of {os.cpu_count()} CPUs on average during the run"
        + ("  (noisy: figures less reliable, re-run on a quiet machine)" if other > 0.25 else "")
    )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(
                {
                    "versions": versions,
                    "settings": settings,
                    "elapsed_s": round(elapsed, 1),
                    "other_cpu_load": round(other, 2),
                    "results": rows,
                },
                f,
                indent=2,
            )
        print(f"wrote {a.json}")
    return 0 if all(r[p]["ok"] for r in rows for p in PROXIES) else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        cleanup_all()
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
