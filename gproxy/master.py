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
from .admin import start_admin  # also registers the stats socket keywords
from .config.values import BadValue, c_atoi, parse_time
from .proxy import no_args
from .registry import GLOBAL, SECTION_KEYWORDS, ConfigError, KwCtx

kw = SECTION_KEYWORDS.register
G = (GLOBAL,)


def _global_value(ctx: KwCtx, args: list[str], already: bool, missing: str, already_text: str = "") -> str | None:
    """cfg_parse_global()'s order: extra words, 'already specified' (an alert that is not
    fatal: the line is ignored), then a missing value.  None: ignore the line."""
    from .config.parser import config_error

    if len(args) > 1 and args[1]:
        raise ConfigError(f"'{ctx.keyword}' cannot handle unexpected argument '{args[1]}'.")
    if already:
        raise config_error(already_text or f"'{ctx.keyword}' already specified. Continuing.", fatal=False)
    if not args or not args[0]:
        raise ConfigError(f"'{ctx.keyword}' expects {missing}.")
    return args[0]


@kw("maxconn", G, "<number>", "max concurrent connections of the process")
def _maxconn(ctx: KwCtx, args: list[str]) -> None:
    text = _global_value(ctx, args, bool(ctx.glob.maxconn), "an integer argument")
    ctx.glob.maxconn = c_atoi(text)  # atol(): 'maxconn abc' is 0 (automatic), as in HAProxy


@kw("maxconnrate", G, "<number>", "max new connections accepted per second by the process (0: no limit)")
def _maxconnrate(ctx: KwCtx, args: list[str]) -> None:
    text = _global_value(ctx, args, bool(ctx.glob.maxconnrate), "an integer argument")
    ctx.glob.maxconnrate = c_atoi(text)


@kw("maxsessrate", G, "<number>", "max new sessions accepted per second by the process (0: no limit)")
def _maxsessrate(ctx: KwCtx, args: list[str]) -> None:
    text = _global_value(ctx, args, bool(ctx.glob.maxsessrate), "an integer argument")
    ctx.glob.maxsessrate = c_atoi(text)


@kw("daemon", G, "", "fork into the background")
def _daemon(ctx: KwCtx, args: list[str]) -> None:
    no_args(ctx, args)
    ctx.glob.daemon = True


@kw("pidfile", G, "<file>", "write the pid to this file")
def _pidfile(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.pidfile = _global_value(ctx, args, ctx.glob.pidfile is not None, "a file name as an argument")


@kw("user", G, "<name>", "drop to this user after binding")
def _user(ctx: KwCtx, args: list[str]) -> None:
    name = _global_value(ctx, args, bool(ctx.glob.uid), "a user name", "user/uid already specified. Continuing.")
    try:
        ctx.glob.uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        raise ConfigError(f"cannot find user id for '{name}' (0:Success)") from None
    ctx.glob.user = name


@kw("group", G, "<name>", "drop to this group after binding")
def _group(ctx: KwCtx, args: list[str]) -> None:
    name = _global_value(ctx, args, bool(ctx.glob.gid), "a group name", "gid/group was already specified. Continuing.")
    try:
        ctx.glob.gid = grp.getgrnam(name).gr_gid
    except KeyError:
        raise ConfigError(f"cannot find group id for '{name}' (0:Success)") from None
    ctx.glob.group = name


@kw("uid", G, "<number>", "drop to this uid after binding")
def _uid(ctx: KwCtx, args: list[str]) -> None:
    text = _global_value(ctx, args, bool(ctx.glob.uid), "an integer argument", "user/uid already specified. Continuing.")
    if not text.lstrip("+-").isdigit():
        ctx.warn(f" uid: string '{text}' is not a number.\n   | You might want to use the 'user' parameter to use a system user name.")
        return
    ctx.glob.uid = int(text)


@kw("gid", G, "<number>", "drop to this gid after binding")
def _gid(ctx: KwCtx, args: list[str]) -> None:
    text = _global_value(ctx, args, bool(ctx.glob.gid), "an integer argument", "group/gid already specified. Continuing.")
    if not text.lstrip("+-").isdigit():
        ctx.warn(f" gid: string '{text}' is not a number.\n   | You might want to use the 'group' parameter to use a system group name.")
        return
    ctx.glob.gid = int(text)


@kw("chroot", G, "<dir>", "chroot after binding (needs root)")
def _chroot(ctx: KwCtx, args: list[str]) -> None:
    ctx.glob.chroot = _global_value(ctx, args, ctx.glob.chroot is not None, "a directory as an argument")


@kw("hard-stop-after", G, "<time>", "max duration of a soft stop")
def _hard_stop_after(ctx: KwCtx, args: list[str]) -> None:
    # proxy_parse_hard_stop_after(): extra words are not checked
    if not args or not args[0]:
        raise ConfigError("'hard-stop-after' expects <time> as argument.\n")
    warnings: list[str] = []
    try:
        ctx.glob.hard_stop_after = parse_time(args[0], "hard-stop-after", warnings=warnings)
    except BadValue as e:
        if e.kind in ("overflow", "underflow"):
            raise ConfigError(str(e)) from None
        raise ConfigError(f"unexpected character '{e.char or ''}' in argument to <hard-stop-after>.\n") from None
    for w in warnings:
        ctx.diag.warning(w)


@kw("nbthread", G, "<number>", "accepted; gproxy runs one event loop per process")
def _nbthread(ctx: KwCtx, args: list[str]) -> None:
    if len(args) > 1 and args[1]:
        raise ConfigError(f"'nbthread' cannot handle unexpected argument '{args[1]}'.")
    text = args[0] if args else ""
    if not text or not text.lstrip("+-").isdigit():
        raise ConfigError(f"'nbthread' passed a missing or unparsable integer value in '{text}'")
    n = int(text)
    if not 1 <= n <= 64:
        raise ConfigError(f"'nbthread' value must be between 1 and 64 (was {n})")
    ctx.glob.nbthread = n
    if ctx.glob.nbthread > 1:
        ctx.warn("'nbthread' is accepted but gproxy runs a single event loop; the value is ignored.")


@kw("nbproc", G, "<number>", "removed in HAProxy 2.5")
def _nbproc(ctx: KwCtx, args: list[str]) -> None:
    raise ConfigError(
        "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available."
    )


@kw("node", G, "<name>", "node name for stats")
def _node(ctx: KwCtx, args: list[str]) -> None:
    from .config.parser import AT_READCFG, config_error

    if len(args) > 1 and args[1]:
        raise ConfigError(f"'node' cannot handle unexpected argument '{args[1]}'.")
    name = args[0] if args else ""
    if not name or any(not (c.isascii() and (c.isalnum() or c in "_-.")) for c in name):
        raise config_error(
            "'node' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), "
            "hyphen(-) or underscode(_).",
            at=AT_READCFG,
        )
    ctx.glob.node = name


@kw("description", G, "<text>", "process description for stats")
def _gdescription(ctx: KwCtx, args: list[str]) -> None:
    from .config.parser import AT_READCFG, config_error

    if not args or not args[0]:
        raise config_error("'description' expects a string argument.", at=AT_READCFG)
    ctx.glob.description = " ".join(args)


@kw("ulimit-n", G, "<number>", "file descriptor limit")
def _ulimit(ctx: KwCtx, args: list[str]) -> None:
    text = _global_value(ctx, args, bool(ctx.glob.tune.get("ulimit-n")), "an integer argument")
    ctx.glob.tune["ulimit-n"] = c_atoi(text)


@kw("zero-warning", G, "", "make every warning fatal (as -dW)")
def _zero_warning(ctx: KwCtx, args: list[str]) -> None:
    no_args(ctx, args)
    ctx.glob.tune["zero-warning"] = True


@kw("quiet", G, "", "no messages at startup (as -q)")
def _quiet(ctx: KwCtx, args: list[str]) -> None:
    no_args(ctx, args)
    ctx.glob.tune["quiet"] = True


SECTION_KEYWORDS.ignore(
    ["cpu-map", "stats bind-process", "master-worker",
     "ssl-default-bind-ciphers", "ssl-default-bind-ciphersuites", "ssl-default-bind-options",
     "ssl-default-server-ciphers", "ssl-default-server-ciphersuites", "ssl-default-server-options",
     "ssl-dh-param-file", "ca-base", "crt-base", "ssl-server-verify", "spread-checks", "max-spread-checks",
     "maxsslconn", "maxpipes", "noepoll", "nosplice", "noreuseport",
     "localpeer", "setenv", "presetenv", "unsetenv", "resetenv", "busy-polling",
     "lua-load", "set-var", "unix-bind", "strict-limits", "insecure-fork-wanted",
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
        if not self.bind() or not start_admin(proc):
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
        for fe in self.process.frontends:
            if fe.stopping or fe.disabled:
                continue
            fe.pause()
            self.msg("WARNING", f"Paused {'proxy' if fe.spec.kind == 'listen' else 'frontend'} {fe.name}.")

    def resume(self) -> None:
        for fe in self.process.frontends:
            if fe.stopping or fe.disabled:
                continue
            fe.resume()
            self.msg("WARNING", f"Resumed {'proxy' if fe.spec.kind == 'listen' else 'frontend'} {fe.name}.")

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
        fes = {fe.name: fe for fe in self.process.frontends}
        bes = {be.name: be for be in self.process.backends}
        for spec in self.process.model.proxies:  # one line per proxy, in declaration order
            fe = fes.get(spec.name) if spec.kind != "backend" else None
            be = bes.get(spec.name) if spec.kind != "frontend" else None
            logger = fe.logger if fe is not None else (be.logger if be is not None else None)
            logmod.proxy_event(
                logger,
                logmod.LOG_WARNING,
                f"Proxy {spec.name} stopped (cumulated conns: FE: {fe.cum_conn if fe else 0}, "
                f"BE: {be.cum_sess if be else 0}).",
            )
        for fe in self.process.frontends:
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
