"""Process lifecycle: global process keywords, binding, privileges, daemon, pidfile,
signals (queued in the hub, handled in order), soft stop and hard stop.

Signals as HAProxy: SIGUSR1 soft stop (listeners close, sessions finish, exit 0, bounded
by ``hard-stop-after``), SIGTERM/SIGINT immediate stop, SIGTTOU/SIGTTIN pause/resume
listeners.  ``-sf``/``-st`` old pids get SIGUSR1/SIGTERM once this process listens.
"""

from __future__ import annotations

import grp
import os
import pwd
import signal
import sys
import time
from typing import Any

import gevent
from gevent.event import Event

from . import log as logmod
from .config.values import BadValue, parse_time
from .proxy import int_arg, no_args, one_arg
from .registry import GLOBAL, SECTION_KEYWORDS, ConfigError, KwCtx

kw = SECTION_KEYWORDS.register
G = (GLOBAL,)


@kw("maxconn", G, "<number>", "max concurrent connections of the process")
def _maxconn(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.maxconn = int_arg(ctx, args, 0)


@kw("daemon", G, "", "fork into the background")
def _daemon(ctx: KwCtx, args: list[str]) -> None:
    no_args(ctx, args)
    ctx.glob.daemon = True


@kw("pidfile", G, "<file>", "write the pid to this file")
def _pidfile(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.pidfile = one_arg(ctx, args, "a file name as an argument")


@kw("user", G, "<name>", "drop to this user after binding")
def _user(ctx: KwCtx, args: list[str]) -> None:
    name = one_arg(ctx, args, "a user name")
    try:
        ctx.glob.uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        raise ConfigError(f"cannot find user id for '{name}' (0:Success)") from None
    ctx.glob.user = name


@kw("group", G, "<name>", "drop to this group after binding")
def _group(ctx: KwCtx, args: list[str]) -> None:
    name = one_arg(ctx, args, "a group name")
    try:
        ctx.glob.gid = grp.getgrnam(name).gr_gid
    except KeyError:
        raise ConfigError(f"cannot find group id for '{name}' (0:Success)") from None
    ctx.glob.group = name


@kw("uid", G, "<number>", "drop to this uid after binding")
def _uid(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.uid = int_arg(ctx, args, 0)


@kw("gid", G, "<number>", "drop to this gid after binding")
def _gid(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.gid = int_arg(ctx, args, 0)


@kw("chroot", G, "<dir>", "chroot after binding (needs root)")
def _chroot(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.chroot = one_arg(ctx, args, "a directory as an argument")


@kw("hard-stop-after", G, "<time>", "max duration of a soft stop")
def _hard_stop_after(ctx: KwCtx, args: list[str]) -> None:
    text = one_arg(ctx, args, "<time> as argument")
    try:
        ctx.glob.hard_stop_after = parse_time(text, "hard-stop-after")
    except BadValue:
        bad = next((c for c in text if not c.isdigit()), "?")
        raise ConfigError(f"unexpected character '{bad}' in argument to <hard-stop-after>.\n") from None


@kw("nbthread", G, "<number>", "accepted; gproxy runs one event loop per process")
def _nbthread(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.nbthread = int_arg(ctx, args, 1)
    if ctx.glob.nbthread > 1:
        ctx.warn("'nbthread' is accepted but gproxy runs a single event loop; the value is ignored.")


@kw("nbproc", G, "<number>", "removed in HAProxy 2.5")
def _nbproc(ctx: KwCtx, args: list[str]) -> None:
    raise ConfigError(
        "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available."
    )


@kw("node", G, "<name>", "node name for stats")
def _node(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.node = one_arg(ctx, args, "a node name")


@kw("description", G, "<text>", "process description for stats")
def _gdescription(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.description = " ".join(args)


@kw("ulimit-n", G, "<number>", "file descriptor limit")
def _ulimit(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.tune["ulimit-n"] = int_arg(ctx, args, 0)


SECTION_KEYWORDS.ignore(
    ["cpu-map", "stats socket", "stats timeout", "stats maxconn", "stats bind-process", "master-worker",
     "ssl-default-bind-ciphers", "ssl-default-bind-ciphersuites", "ssl-default-bind-options",
     "ssl-default-server-ciphers", "ssl-default-server-ciphersuites", "ssl-default-server-options",
     "ssl-dh-param-file", "ca-base", "crt-base", "ssl-server-verify", "spread-checks", "max-spread-checks",
     "maxsslconn", "maxconnrate", "maxsessrate", "maxpipes", "noepoll", "nosplice", "noreuseport",
     "localpeer", "h1-case-adjust", "setenv", "presetenv", "unsetenv", "resetenv", "busy-polling",
     "lua-load", "set-var", "unix-bind", "zero-warning", "quiet", "strict-limits", "insecure-fork-wanted",
     "server-state-file", "server-state-base", "grace", "expose-experimental-directives", "set-dumpable"],
    G,
)


# ---------------------------------------------------------------- lifecycle
class Master:
    """Runs one built Process until it is told to stop."""

    def __init__(self, process: Any, opts: dict[str, Any]) -> None:
        self.process = process
        self.opts = opts
        self.stop_event = Event()
        self.exit_code = 0
        self.soft_stopping = False
        self.stop_signal = 0

    def msg(self, label: str, text: str) -> None:
        """A startup/lifecycle message on stderr only (``-q`` silences it)."""
        {"ALERT": logmod.alert, "WARNING": logmod.warning}.get(label, logmod.notice)(text, level=None)

    def bind(self) -> bool:
        ok = True
        for lst in self.process.listeners:
            try:
                lst.bind()
            except OSError as e:
                reason = e.strerror or str(e)
                self.msg(
                    "ALERT",
                    f"Starting {'proxy' if lst.frontend.spec.kind == 'listen' else 'frontend'} "
                    f"{lst.frontend.name}: cannot bind socket ({reason}) [{lst.describe()}]",
                )
                ok = False
        return ok

    def drop_privileges(self) -> None:
        g = self.process.model.glob
        if g.chroot:
            os.chroot(g.chroot)
            os.chdir("/")
        if g.gid is not None:
            os.setgroups([])
            os.setgid(g.gid)
        if g.uid is not None:
            os.setuid(g.uid)

    def daemonize(self) -> None:
        if os.fork() > 0:
            os._exit(0)
        os.setsid()
        if os.fork() > 0:
            os._exit(0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        gevent.reinit()

    def run(self) -> int:
        proc = self.process
        opts = self.opts
        if not self.bind():
            for lst in proc.listeners:
                lst.close()
            return 1
        g = proc.model.glob
        daemon = (opts.get("-D") or g.daemon) and not (opts.get("-db") or opts.get("-d"))
        pidfile = opts.get("-p") or g.pidfile
        if daemon:
            self.daemonize()
        if pidfile:
            try:
                with open(pidfile, "w") as f:
                    f.write(f"{os.getpid()}\n")
            except OSError as e:
                self.msg("ALERT", f"[{sys.argv[0]}.main()] Cannot create pidfile {pidfile} ({e.strerror})")
                return 1
        try:
            self.drop_privileges()
        except OSError as e:
            self.msg("ALERT", f"[{sys.argv[0]}.main()] Cannot drop privileges ({e.strerror}).")
            return 1
        for sig, pids in ((signal.SIGUSR1, opts.get("-sf") or []), (signal.SIGTERM, opts.get("-st") or [])):
            for pid in pids:
                try:
                    os.kill(int(pid), sig)
                except (OSError, ValueError):
                    pass
        from .check import start_checks

        for be in proc.backends:
            be.start()
        start_checks([s.check for be in proc.backends for s in be.servers if s.check is not None and s.check.enabled])
        for fe in proc.frontends:
            fe.start()
        gevent.signal_handler(signal.SIGUSR1, self.soft_stop)
        gevent.signal_handler(signal.SIGTERM, self.hard_stop, signal.SIGTERM)
        gevent.signal_handler(signal.SIGINT, self.hard_stop, signal.SIGINT)
        gevent.signal_handler(signal.SIGTTOU, self.pause)
        gevent.signal_handler(signal.SIGTTIN, self.resume)
        gevent.signal_handler(signal.SIGHUP, self.dump_states)
        self.stop_event.wait()
        if pidfile and not daemon:
            try:
                os.unlink(pidfile)
            except OSError:
                pass
        if self.stop_signal:
            if opts.get("-W") or opts.get("-Ws"):
                # HAProxy's master: SIGTERM -> exit 0, SIGINT -> exit 130
                return 0 if self.stop_signal == signal.SIGTERM else 128 + self.stop_signal
            # standalone HAProxy has no handler for SIGTERM/SIGINT: it dies of the signal
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(self.stop_signal, signal.SIG_DFL)
            os.kill(os.getpid(), self.stop_signal)
            return 128 + self.stop_signal
        return self.exit_code

    # ---- signals ----
    def pause(self) -> None:
        self.msg("WARNING", "Pausing proxies.") if self.process.debug else None
        for fe in self.process.frontends:
            fe.pause()

    def resume(self) -> None:
        for fe in self.process.frontends:
            fe.resume()

    def dump_states(self) -> None:
        for be in self.process.backends:
            for s in be.servers:
                self.msg(
                    "NOTICE",
                    f"SIGHUP: Server {be.name}/{s.name} is {'UP' if s.running else 'DOWN'}. "
                    f"Conn: {s.cur_sess} act, {s.nbpend} pend, {s.cum_sess} tot.",
                )

    def stop_checks(self) -> None:
        for be in self.process.backends:
            for s in be.servers:
                if s.check is not None:
                    s.check.stop()

    def soft_stop(self) -> None:
        if self.soft_stopping:
            return
        self.soft_stopping = True
        self.process.stopping = True
        for fe in self.process.frontends:
            be_cum = fe.default_backend.cum_sess if fe.default_backend else 0
            logmod.proxy_event(
                fe.logger, logmod.LOG_WARNING, f"Proxy {fe.name} stopped (cumulated conns: FE: {fe.cum_conn}, BE: {be_cum})."
            )
            fe.stop()
        hsa = self.process.model.glob.hard_stop_after
        gevent.spawn(self._drain, time.monotonic() + hsa / 1000.0 if hsa else None)

    def _drain(self, deadline: float | None) -> None:
        while any(fe.sessions for fe in self.process.frontends):
            if deadline is not None and time.monotonic() >= deadline:
                self.msg("WARNING", "soft-stop running for too long, performing a hard-stop.")
                break
            gevent.sleep(0.05)
        self.stop_checks()
        self.exit_code = 0
        self.stop_event.set()

    def hard_stop(self, sig: int = 0) -> None:
        self.stop_signal = sig
        for fe in self.process.frontends:
            fe.stop()
        self.stop_checks()
        self.exit_code = 0
        self.stop_event.set()
