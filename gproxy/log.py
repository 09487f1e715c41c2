"""Logging: syslog/stdout targets, traffic log lines, runtime messages, and the log keywords.

Owns, as HAProxy 2.6 does them (``src/log.c``, ``src/errors.c``):

* the ``log`` / ``log-tag`` / ``log-send-hostname`` / ``log-format`` / ``option tcplog``,
  ``httplog``, ``httpslog``, ``dontlognull``, ``dontlog-normal``, ``log-separate-errors``,
  ``logasap`` keywords, with HAProxy's error texts (they write to the Model only);
* the syslog header of every output format (local, rfc3164, rfc5424, priority, short,
  timed, iso, raw), ``len`` truncation, max/min level filters and ``sample`` ranges;
* the senders: UDP and unix datagram sockets (one datagram per message, never blocking,
  never raising: failures are counted in ``STATS.dropped`` and alerted once, as HAProxy),
  stdout / stderr / ``fd@N`` (one ``write`` per message, non-blocking unless a tty);
* ``Logger``: one per proxy, the end-of-session traffic line (``option dontlognull``,
  ``dontlog-normal``, ``log-separate-errors``, ``logasap``), the legacy ``Connect from``
  line, and proxy events;
* the process-wide ``alert`` / ``warning`` / ``notice`` runtime messages: one stderr line
  (``[WARNING]  (pid) : msg``) plus the same text to the proxy's (or global) syslog
  targets at the level HAProxy uses.

It must not: block the hub (no DNS, no connect, no blocking send after configuration
time), raise on the hot path, or format log lines itself (``logformat`` does that).
The only configuration-time I/O is the name resolution of a ``log <host>`` address, as
HAProxy resolves it while parsing.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from . import logformat as lf
from .config.model import Global, LogTarget, Proxy
from .diag import ALERT, NOTICE, WARNING, Message, line_prefix
from .registry import GLOBAL, PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx

try:  # the C socket module: plain non-blocking syscalls, never the gevent hub
    import _socket as _csocket
except ImportError:  # pragma: no cover - CPython always has it
    _csocket = socket  # type: ignore[assignment]

# --------------------------------------------------------------------------------------
# Facilities, levels, formats (src/log.c log_facilities / log_levels / log_formats)

LOG_FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
    "uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip
LOG_LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG = range(8)
#: output formats; "" is HAProxy's unspecified default: rfc3164 with log-send-hostname, else local
LOG_FORMATS = ("local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw")
MAX_SYSLOG_LEN = 1024
SYSLOG_PORT = 514


def facility_number(name: str) -> int:
    """``local0`` -> 16; -1 when unknown."""
    try:
        return LOG_FACILITIES.index(name)
    except ValueError:
        return -1


def level_number(name: str) -> int:
    """``info`` -> 6; -1 when unknown."""
    try:
        return LOG_LEVELS.index(name)
    except ValueError:
        return -1


class LogStats:
    """Process-wide counters (``show info`` DroppedLogs)."""

    __slots__ = ("dropped", "sent")

    def __init__(self) -> None:
        self.dropped = 0
        self.sent = 0


STATS = LogStats()
_PID = [os.getpid()]


def _after_fork() -> None:
    """In a forked worker: new pid in headers, and sockets of its own."""
    _PID[0] = os.getpid()
    for table in (_dgram_socks, _udp_socks):
        for key in list(table):
            try:
                table.pop(key).close()
            except OSError:  # pragma: no cover
                pass


# --------------------------------------------------------------------------------------
# Headers (build_log_header)


def build_header(
    fmt: str, facility: int, level: int, tag: str, pid: int, host: str | None, now: float
) -> str:
    """The syslog header HAProxy 2.6 puts before a message, for one output format.

    ``fmt`` "" is the unspecified default (rfc3164 when a hostname is sent, else local).
    ``host`` is the ``log-send-hostname`` value or None; ``now`` a ``time.time()``.
    """
    if not fmt:
        fmt = "rfc3164" if host else ("local" if tag else "raw")
    if fmt == "local" or fmt == "rfc3164":
        out = f"<{facility * 8 + level}>{lf.legacy_syslog_time(now)} "
        if fmt == "rfc3164":
            out += f"{host or 'localhost'} "
        if tag:
            out += f"{tag}[{pid}]: "
        return out
    if fmt == "rfc5424":
        return f"<{facility * 8 + level}>1 {lf.iso_now(now)} {host or '-'} {tag or '-'} {pid} - - "
    if fmt == "priority":
        return f"<{facility * 8 + level}>"
    if fmt == "short":
        return f"<{level}>"
    if fmt == "timed":
        return f"<{level}>{lf.iso_now(now)} "
    if fmt == "iso":
        return f"{lf.iso_now(now)} "
    return ""  # raw


def frame(header: bytes, msg: bytes, maxlen: int, stream: bool) -> bytes:
    """Header + message + LF, truncated as HAProxy does for ``len``.

    Datagrams: header and message cut to ``maxlen`` bytes, then the LF (``maxlen + 1`` in
    all).  File descriptors (``stream``): the message alone first cut to ``maxlen``, then
    header and message to ``maxlen - 1``, then the LF (``maxlen`` in all).
    """
    while msg and msg[-1] in (10, 0):  # trailing LF / NUL are removed first
        msg = msg[:-1]
    if stream:
        if len(msg) > maxlen:
            msg = msg[:maxlen]
        maxlen -= 1
    data = header + msg
    if len(data) > maxlen:
        data = data[:maxlen]
    return data + b"\n"


# --------------------------------------------------------------------------------------
# Senders

_dgram_socks: dict[int, Any] = {}
_alerted = [False]
os.register_at_fork(after_in_child=_after_fork)


def _send_failed(exc: OSError, nb: int) -> None:
    STATS.dropped += 1
    if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK) or _alerted[0]:
        return
    _alerted[0] = True  # HAProxy alerts on the first failure only, whatever the logger
    name = os.strerror(exc.errno) if exc.errno else str(exc)
    _stderr_line(ALERT, f"sendmsg()/writev() failed in logger #{nb}: {name} (errno={exc.errno})")


def _dgram_sock(family: int) -> Any:
    s = _dgram_socks.get(family)
    if s is None:
        s = _csocket.socket(family, _csocket.SOCK_DGRAM)
        s.setblocking(False)
        try:
            s.setsockopt(_csocket.SOL_SOCKET, _csocket.SO_RCVBUF, 0)
            s.shutdown(_csocket.SHUT_RD)
        except OSError:
            pass
        _dgram_socks[family] = s
    return s


class Sender:
    """Runtime side of one ``log`` line (a model ``LogTarget``): filters, header, socket."""

    def __init__(self, target: LogTarget) -> None:
        self.target = target
        self.kind = target.kind
        self.maxlen = target.length or MAX_SYSLOG_LEN
        self.format = target.format or ""
        self.facility = target.facility
        self.max_level = target.max_level
        self.min_level = target.min_level
        self.stream = target.kind in ("stdout", "stderr", "fd")
        self.fd = {"stdout": 1, "stderr": 2}.get(target.kind, target.fd)
        self.addr: Any = None
        self.family = _csocket.AF_INET
        if target.kind == "udp":
            self.family = _csocket.AF_INET6 if ":" in target.host else _csocket.AF_INET
            self.addr = (target.host, target.port or SYSLOG_PORT)
        elif target.kind == "unix":
            self.family = _csocket.AF_UNIX
            self.addr = target.path
        self._fd_ready = False
        self._sock: Any = None
        self._sock_pid = 0
        self._hsec = -1
        self._hcache: dict[tuple[int, str, str | None, int], bytes] = {}
        # sampling ('sample <ranges>:<size>'): [(low, high, size, idx)], current range, index
        smp = getattr(target, "sample", None)
        self._smp: list[list[int]] | None = [[lo, hi, hi - lo + 1, 0] for lo, hi in smp[0]] if smp else None
        self._smp_size = smp[1] if smp else 0
        self._smp_rg = 0
        self._smp_idx = 0

    def _sampled(self) -> bool:
        rgs = self._smp
        if rgs is None:
            return True
        rg = rgs[self._smp_rg]
        idx = self._smp_idx
        in_range = rg[0] <= idx + 1 <= rg[1]
        if in_range:
            rg[3] = (rg[3] + 1) % rg[2]
            if not rg[3]:
                self._smp_rg = (self._smp_rg + 1) % len(rgs)
        self._smp_idx = (idx + 1) % self._smp_size
        return in_range

    def header(self, level: int, tag: str, host: str | None, now: float) -> bytes:
        """The header bytes, cached per second for the formats without microseconds."""
        if self.format in ("rfc5424", "timed", "iso"):
            return build_header(self.format, self.facility, level, tag, _PID[0], host, now).encode("ascii", "replace")
        sec = int(now // 1)
        if sec != self._hsec:
            self._hsec = sec
            self._hcache.clear()
        key = (level, tag, host, _PID[0])
        h = self._hcache.get(key)
        if h is None:
            h = build_header(self.format, self.facility, level, tag, _PID[0], host, now).encode("ascii", "replace")
            self._hcache[key] = h
        return h

    def emit(self, level: int, msg: bytes, tag: str, host: str | None, nb: int, now: float) -> None:
        """Send one message at ``level`` (already checked against ``max_level``); never
        raises: failures are counted in ``STATS.dropped`` (and alerted once)."""
        if self._smp is not None and not self._sampled():
            return
        level = max(level, self.min_level)
        data = frame(self.header(level, tag, host, now), msg, self.maxlen, self.stream)
        try:
            self._transmit(data)
            STATS.sent += 1
        except OSError as e:
            if e.errno == errno.ECONNREFUSED and self.kind == "udp":
                STATS.dropped += 1  # ICMP port unreachable reported on our connected socket
            else:
                _send_failed(e, nb)

    def _transmit(self, data: bytes) -> None:
        kind = self.kind
        if kind == "udp":
            sock = self._sock
            if sock is None or self._sock_pid != _PID[0]:
                sock = self._open_udp()
            sock.send(data)
        elif kind == "unix":
            _dgram_sock(_csocket.AF_UNIX).sendto(data, self.addr)
        else:
            fd = self.fd
            if not self._fd_ready:
                self._fd_ready = True
                if not os.isatty(fd):
                    os.set_blocking(fd, False)
            os.write(fd, data)

    def _open_udp(self) -> Any:
        """A connected non-blocking UDP socket (send() is cheaper than sendto()), shared
        by every Sender of this process that logs to the same address."""
        key = (self.family, self.addr)
        sock = _udp_socks.get(key)
        if sock is None:
            sock = _csocket.socket(self.family, _csocket.SOCK_DGRAM)
            try:
                sock.setblocking(False)
                sock.connect(self.addr)
            except OSError:
                sock.close()
                raise
            _udp_socks[key] = sock
        self._sock, self._sock_pid = sock, _PID[0]
        return sock


_udp_socks: dict[tuple[int, Any], Any] = {}
_senders: dict[int, tuple[LogTarget, Sender]] = {}


def sender_for(target: LogTarget) -> Sender:
    """One Sender per model LogTarget (shared by every proxy using ``log global``)."""
    got = _senders.get(id(target))
    if got is None or got[0] is not target:
        got = (target, Sender(target))
        _senders[id(target)] = got
    return got[1]


# --------------------------------------------------------------------------------------
# Logger


def effective_format(px: Proxy) -> str | None:
    """The log-format a frontend uses, after HAProxy's ``option httplog`` fallback in TCP."""
    if not px.has_fe or px.kind == "defaults":
        return None
    fmt = px.log_format
    if fmt and px.mode != "http" and fmt in (HTTPLOG, CLFLOG, HTTPSLOG):
        return TCPLOG
    return fmt


class Logger:
    """The log targets, tag and options of one proxy (or of the global section).

    ``log(level, msg)`` sends a message to every target; ``session(sess)`` sends the
    traffic line at the end of a session; ``connect_line(sess, mode)`` the legacy line
    at accept when no log format is set; ``event(...)`` a runtime message.
    """

    def __init__(
        self,
        targets: list[LogTarget],
        tag: str = "haproxy",
        host: str | None = None,
        fmt: str | None = None,
        *,
        mode: str = "tcp",
        options: dict[str, Any] | None = None,
        sample: lf.SampleHook | None = None,
        name: str = "",
    ) -> None:
        self.name = name
        self.senders = [sender_for(t) for t in targets]
        self.enabled = bool(self.senders)
        self.tag = tag
        self.host = host
        self.mode = mode
        opts = options or {}
        self.dontlognull = bool(opts.get("dontlognull"))
        self.dontlog_normal = bool(opts.get("dontlog-normal"))
        self.separate_errors = bool(opts.get("log-separate-errors"))
        self.logasap = bool(opts.get("logasap"))
        self.counters = lf.Counters()
        self.format = fmt
        self.render: Callable[[Any], str] | None = None
        if fmt:
            try:
                self.render = lf.compile_format(
                    fmt, sample or _sample_hook(), mode=mode, logasap=self.logasap, counters=self.counters
                )
            except ValueError as e:  # check_config() reports it first; never crash the runtime
                _stderr_line(ALERT, f"proxy '{name}': failed to parse log-format : {e}.")

    @classmethod
    def for_proxy(cls, px: Proxy, glob: Global, sample: lf.SampleHook | None = None) -> Logger:
        """Logger of a frontend/backend/listen: its ``log`` lines, plus global ones with
        ``log global``; its traffic format (``option tcplog``/``httplog``/``log-format``)."""
        targets = list(px.logs)
        if px.log_global:
            targets.extend(t for t in glob.logs if all(t is not x for x in targets))
        tag = px.extra.get("log_tag") or glob.log_tag
        return cls(
            targets,
            tag,
            glob.log_send_hostname,
            effective_format(px),
            mode=px.mode,
            options=px.options,
            sample=sample,
            name=px.name,
        )

    @classmethod
    def for_global(cls, glob: Global) -> Logger:
        """Logger of the global ``log`` lines (HAProxy's ``send_log(NULL, ...)``)."""
        return cls(list(glob.logs), glob.log_tag, glob.log_send_hostname, name="")

    # -- sending -------------------------------------------------------------------

    def log(self, level: int, msg: str) -> None:
        """Send ``msg`` at ``level`` to every target whose max level lets it through."""
        if not self.enabled:
            return
        data = msg.encode("utf-8", "replace")
        now = time.time()
        nb = 0
        for snd in self.senders:
            if level > snd.max_level:
                continue
            nb += 1
            snd.emit(level, data, self.tag, self.host, nb, now)

    def session(self, sess: Any) -> bool:
        """The end-of-session traffic line; returns True when a line was sent.

        Skipped when: no target, no format, ``option dontlognull`` and the client sent
        nothing, ``option dontlog-normal`` and the session is not an error, or
        ``sess.log_level`` (optional attribute, ``http-request set-log-level``) is
        'silent' / -1.  Level: info, or err for errors with ``option log-separate-errors``.
        """
        if not self.enabled or self.render is None:
            return False
        if self.dontlognull and not sess.bytes_in:
            return False
        err = self.is_error(sess)
        if not err and self.dontlog_normal:
            return False
        forced = getattr(sess, "log_level", None)
        if forced is not None:
            if forced == -1 or forced == "silent":
                return False
            level = forced if isinstance(forced, int) else level_number(forced)
        else:
            level = LOG_ERR if err and self.separate_errors else LOG_INFO
        line = self.render(sess)
        if not line:
            return False
        self.counters.log_count += 1
        self.log(level, line)
        return True

    def is_error(self, sess: Any) -> bool:
        """HAProxy's strm_log() error test: redispatch, an error termination state (not
        '-' or 'L'), retries on a normal session, or an HTTP status >= 500."""
        term = sess.term or "--"
        if sess.redispatched or term[0] not in "-L":
            return True
        if term[0] == "-" and sess.retries:
            return True
        status = sess.status
        return self.mode == "http" and status is not None and status >= 500

    def connect_line(self, sess: Any, mode: str | None = None) -> None:
        """Legacy accept line when the frontend has log targets but no log format:
        ``Connect from 10.0.0.1:5555 to 10.0.0.2:80 (fe/TCP)``; ``Connect to unix:1 (fe/HTTP)``."""
        if not self.enabled or self.render is not None:
            return
        m = "HTTP" if (mode or self.mode) == "http" else "TCP"
        fe = sess.frontend_name
        if sess.cli_ip == "unix":
            self.log(LOG_INFO, f"Connect to unix:{sess.cli_port} ({fe}/{m})")
        elif sess.cli_ip is None:
            lid = getattr(sess, "listener_id", 0)
            self.log(LOG_INFO, f"Connect from unknown source to listener {lid} ({fe}/{m})")
        else:
            dst = sess.fe_ip if sess.fe_ip is not None else "undetermined address"
            self.log(LOG_INFO, f"Connect from {sess.cli_ip}:{sess.cli_port} to {dst}:{sess.fe_port or 0} ({fe}/{m})")

    def event(self, level: int, text: str, stderr: str | None = WARNING, stderr_text: str | None = None) -> None:
        """A runtime event: ``stderr_text or text`` on stderr under label ``stderr``
        (None: no stderr line), and ``text`` to this logger's targets at ``level``."""
        if stderr is not None:
            _stderr_line(stderr, stderr_text or text)
        self.log(level, text)


# sample fetches for %[...]: set by the module that implements them (fn(expr) -> fn(sess))
_SAMPLE_HOOK: list[lf.SampleHook | None] = [None]


def set_sample_hook(hook: lf.SampleHook | None) -> None:
    """Install the resolver of ``%[expr]`` used when compiling proxies' log formats."""
    _SAMPLE_HOOK[0] = hook


def _unsupported_sample(expr: str) -> Callable[[Any], str | None]:
    def fetch(_s: Any) -> str | None:
        return None

    return fetch


def _sample_hook() -> lf.SampleHook:
    return _SAMPLE_HOOK[0] or _unsupported_sample


# --------------------------------------------------------------------------------------
# Runtime messages: stderr line + syslog

_stderr: list[Any] = [None, False]  # stream (None: sys.stderr), quiet


def configure_stderr(stream: TextIO | None = None, quiet: bool = False) -> None:
    """Where runtime messages go (default sys.stderr); ``quiet`` (``-q``) silences them."""
    _stderr[0] = stream
    _stderr[1] = quiet


def _stderr_line(label: str, text: str) -> None:
    if _stderr[1]:
        return
    stream = _stderr[0] or sys.stderr
    try:
        stream.write(line_prefix(label, _PID[0]) + text.rstrip("\n") + "\n")
        stream.flush()
    except (OSError, ValueError):
        STATS.dropped += 1


_global_logger: list[Logger | None] = [None]


def configure_global(glob: Global) -> Logger:
    """Build the global Logger (used by messages not tied to a proxy); returns it."""
    lg = Logger.for_global(glob)
    _global_logger[0] = lg
    return lg


def global_logger(glob: Global) -> Logger:
    """Same as ``configure_global``: the global Logger, also used when a message has none."""
    return configure_global(glob)


def proxy_logger(px: Proxy, glob: Global, sample: lf.SampleHook | None = None) -> Logger:
    """``Logger.for_proxy``: the Logger of one frontend / backend / listen section."""
    return Logger.for_proxy(px, glob, sample)


def send_log(logger: Logger | None, level: int, text: str) -> None:
    """HAProxy's send_log(): syslog only; ``logger`` None means the global ``log`` lines."""
    lg = logger if logger is not None else _global_logger[0]
    if lg is not None:
        lg.log(level, text)


def alert(text: str, logger: Logger | None = None, level: int | None = LOG_ALERT, syslog_text: str | None = None) -> None:
    """``[ALERT]    (pid) : text`` on stderr, and ``syslog_text or text`` at ``level`` to
    ``logger``'s targets (global ones when None; no syslog when ``level`` is None)."""
    _stderr_line(ALERT, text)
    if level is not None:
        send_log(logger, level, syslog_text or text)


def warning(text: str, logger: Logger | None = None, level: int | None = LOG_WARNING, syslog_text: str | None = None) -> None:
    """``[WARNING]  (pid) : text`` on stderr, and syslog at ``level`` (see ``alert``)."""
    _stderr_line(WARNING, text)
    if level is not None:
        send_log(logger, level, syslog_text or text)


def notice(text: str, logger: Logger | None = None, level: int | None = LOG_NOTICE, syslog_text: str | None = None) -> None:
    """``[NOTICE]   (pid) : text`` on stderr, and syslog at ``level`` (see ``alert``)."""
    _stderr_line(NOTICE, text)
    if level is not None:
        send_log(logger, level, syslog_text or text)


def proxy_type_str(kind: str) -> str:
    """HAProxy's proxy_type_str(): frontend, backend, 'proxy' for listen, defaults."""
    return {"listen": "proxy"}.get(kind, kind)


def server_down(logger: Logger | None, text: str, was_stopping: bool = False) -> None:
    """``Server be/s1 is DOWN, reason: ...`` (text without the final dot): stderr WARNING,
    syslog alert (notice when the server was draining/stopping), as srv_update_status()."""
    warning(text + ".", logger, LOG_NOTICE if was_stopping else LOG_ALERT)


def server_event(logger: Logger | None, text: str) -> None:
    """UP / stopping / maint / ready transitions: stderr WARNING, syslog notice."""
    warning(text + ".", logger, LOG_NOTICE)


def backend_no_server(logger: Logger | None, kind: str, name: str) -> None:
    """``[ALERT] ... : backend 'be' has no server available!`` on stderr and
    ``backend be has no server available!`` at emerg to syslog (set_backend_down())."""
    t = proxy_type_str(kind)
    alert(f"{t} '{name}' has no server available!", logger, LOG_EMERG, f"{t} {name} has no server available!")


def proxy_event(logger: Logger | None, level: int, text: str, stderr: str | None = WARNING) -> None:
    """Any other runtime message: stderr line under ``stderr`` label (None: none) and
    syslog at ``level``, e.g. ``Proxy fe stopped (cumulated conns: FE: 3, BE: 0).``"""
    if stderr is not None:
        _stderr_line(stderr, text)
    send_log(logger, level, text)


# --------------------------------------------------------------------------------------
# Configuration: `log` address parsing (str2sa_range subset used by parse_logsrv)

TCPLOG = lf.TCPLOG_FORMAT
HTTPLOG = lf.HTTPLOG_FORMAT
CLFLOG = lf.CLF_HTTPLOG_FORMAT
HTTPSLOG = lf.HTTPSLOG_FORMAT


def _parse_port(text: str, whole: str) -> int:
    for ch in text:
        if not ch.isdigit():
            raise ConfigError(f"invalid character '{ch}' in port number '{text}' in '{whole}'")
    port = int(text) if text else 0
    if port > 65535:
        raise ConfigError(f"invalid port '{text}'")
    return port


def _resolve(host: str, family: int, whole: str) -> str:
    try:
        socket.inet_pton(family if family else socket.AF_INET, host)
        return host
    except OSError:
        pass
    if not family:
        try:
            socket.inet_pton(socket.AF_INET6, host)
            return host
        except OSError:
            pass
    try:
        infos = socket.getaddrinfo(host, None, family or socket.AF_UNSPEC, socket.SOCK_DGRAM)
    except (OSError, UnicodeError):
        infos = []
    if not infos:
        raise ConfigError(f"invalid address: '{host}' in '{whole}'")
    return str(infos[0][4][0])


def parse_log_address(addr: str, target: LogTarget) -> bool:
    """Fill ``target`` from a ``log`` address; False for targets gproxy ignores (rings,
    TCP).  Raises ConfigError with HAProxy's text for a bad address."""
    if addr == "stdout":
        target.kind, target.fd = "stdout", 1
        return True
    if addr == "stderr":
        target.kind, target.fd = "stderr", 2
        return True
    if addr.startswith(("ring@", "tcp@", "tcp4@", "tcp6@", "uxst@")):
        return False
    if addr.startswith("fd@"):
        num = addr[3:]
        if not num.isdigit():
            raise ConfigError(f"file descriptor '{num}' is not a valid integer in '{addr}'")
        target.kind, target.fd = "fd", int(num)
        if target.fd == 1:
            target.kind = "stdout"
        elif target.fd == 2:
            target.kind = "stderr"
        return True
    family = 0
    rest = addr
    for prefix, fam in (
        ("unix@", -1), ("uxdg@", -1), ("abns@", -2), ("udp@", 0), ("udp4@", socket.AF_INET),
        ("ipv4@", socket.AF_INET), ("udp6@", socket.AF_INET6), ("ipv6@", socket.AF_INET6),
    ):  # fmt: skip
        if addr.startswith(prefix):
            family, rest = fam, addr[len(prefix) :]
            break
    else:
        if addr.startswith("/"):
            family = -1
    if family == -1:
        target.kind, target.path = "unix", rest
        return True
    if family == -2:
        target.kind, target.path = "unix", "\0" + rest
        return True
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise ConfigError(f"invalid address: '{rest}' in '{addr}'")
        host, tail = rest[1:end], rest[end + 1 :]
        port = _parse_port(tail[1:], addr) if tail.startswith(":") else 0
        family = family or socket.AF_INET6
    elif ":" in rest:
        host, _, ptxt = rest.rpartition(":")
        port = _parse_port(ptxt, addr)
    else:
        host, port = rest, 0
    if not host:
        raise ConfigError(f"invalid address: '{rest}' in '{addr}'")
    target.kind = "udp"
    target.host = _resolve(host, family, addr)
    target.port = port or SYSLOG_PORT
    return True


def _read_uint(text: str) -> tuple[int, str]:
    i = 0
    while i < len(text) and text[i].isdigit():
        i += 1
    return (int(text[:i]) if i else 0), text[i:]


def _parse_sample(spec: str) -> tuple[list[tuple[int, int]], int]:
    """``sample 1-3,7:10``: ranges of message indexes out of every <size>."""
    if ":" not in spec:
        raise ConfigError("Missing sample size")
    ranges_txt, size_txt = spec.split(":", 1)
    rgs: list[tuple[int, int]] = []
    p = ranges_txt
    while p:
        part, sep, after = p.partition(",")
        low, tail = _read_uint(part)
        if not low or (tail and not tail.startswith("-")):
            raise ConfigError(f"wrong sample range '{p}'")
        high = low
        if tail:
            high, tail2 = _read_uint(tail[1:])
            if not high or high <= low or tail2:
                raise ConfigError(f"wrong sample range '{p}'")
        for lo, hi in rgs:
            if lo <= low <= hi or lo <= high <= hi:
                raise ConfigError("ranges are overlapping")
        rgs.append((low, high))
        p = after if sep else ""
    if not rgs:
        raise ConfigError("no sampling ranges given")
    size, tail = _read_uint(size_txt)
    if not size or tail:
        raise ConfigError(f"wrong sample size '{size_txt}' for sample range '{ranges_txt}'")
    top = max(hi for _, hi in rgs)
    if size < top:
        raise ConfigError(f"sample size {size} should be greater or equal to {top} the maximum of the high ranges limits")
    rgs.sort()
    return rgs, size


def parse_log_line(args: list[str], in_global: bool, file: str = "", line: int = 0) -> LogTarget | None:
    """``log <addr> [len <n>] [format <f>] [sample <r>:<s>] <facility> [<max> [<min>]]``
    (``args`` after the keyword).  None for a target gproxy ignores.  Errors as HAProxy's
    parse_logsrv() without the ``log : `` prefix."""
    a = list(args) + [""] * 8
    if not a[0] or not a[1]:
        raise ConfigError(f"expects <address> and <facility> {'' if in_global else 'or global'} as arguments")
    t = LogTarget(kind="udp", file=file, line=line, format="")
    cur = 1
    if a[cur] == "len":
        txt = a[cur + 1]
        n, _ = _read_uint(txt.lstrip("+")) if txt[:1] != "-" else (0, "")
        if n < 80 or n > 65535:
            raise ConfigError(f"invalid log length '{txt}', must be between 80 and 65535")
        t.length = n
        cur += 2
    if a[cur] == "format":
        fmt = a[cur + 1]
        if fmt not in LOG_FORMATS:
            raise ConfigError(f"unknown log format '{fmt}'")
        t.format = fmt
        cur += 2
    smp = None
    if a[cur] == "sample":
        smp = _parse_sample(a[cur + 1])
        cur += 2
    fac = facility_number(a[cur])
    if fac < 0:
        raise ConfigError(f"unknown log facility '{a[cur]}'")
    t.facility = fac
    cur += 1
    if a[cur]:
        lvl = level_number(a[cur])
        if lvl < 0:
            raise ConfigError(f"unknown optional log level '{a[cur]}'")
        t.max_level = lvl
        cur += 1
    if a[cur]:
        lvl = level_number(a[cur])
        if lvl < 0:
            raise ConfigError(f"unknown optional minimum log level '{a[cur]}'")
        t.min_level = lvl
        cur += 1
    if a[cur]:
        raise ConfigError(f"cannot handle unexpected argument '{a[cur]}'")
    if not parse_log_address(args[0], t):
        return None
    if smp is not None:
        t.sample = smp  # type: ignore[attr-defined]  # proposed LogTarget field
    return t


# --------------------------------------------------------------------------------------
# Configuration keywords


def _negated(ctx: KwCtx) -> bool:
    return bool(getattr(ctx, "negated", False))


def _defaulted(ctx: KwCtx) -> bool:
    return bool(getattr(ctx, "defaulted", False))


def _alert_continue(ctx: KwCtx, text: str) -> None:
    """A non-fatal ALERT (HAProxy's ERR_ALERT without ERR_FATAL: '... Continuing.')."""
    diag = ctx.diag
    if hasattr(diag, "messages"):
        diag.messages.append(Message(ALERT, text, ctx.file, ctx.line))
    else:  # pragma: no cover
        ctx.warn(text)


@SECTION_KEYWORDS.register(
    "log",
    (GLOBAL, *PROXY_SECTIONS),
    "<address> [len <length>] [format <format>] [sample <ranges>:<size>] <facility> [<level> [<minlevel>]] | global",
    "syslog target: udp host[:port], unix socket path, stdout/stderr, fd@N; 'log global' and 'no log' in proxies",
    takes_no=True,
)
def _kw_log(ctx: KwCtx, args: list[str]) -> None:
    in_global = ctx.section == GLOBAL
    px = ctx.proxy
    if _negated(ctx):
        if args and args[0]:
            raise ConfigError("log : 'no log' does not expect arguments")
        if in_global:
            ctx.glob.logs.clear()
        else:
            px.logs.clear()
            px.log_global = False
            px.no_log = True
        return
    if len(args) == 1 and args[0] == "global":
        if in_global:
            raise ConfigError("log : 'global' is not supported for a global syslog server")
        px.log_global = True
        px.no_log = False
        return
    try:
        t = parse_log_line(args, in_global, ctx.file, ctx.line)
    except ConfigError as e:
        raise ConfigError(f"log : {e}") from None
    if t is None:
        ctx.warn(f"log : target '{args[0]}' is not supported by gproxy (rings and TCP syslog); ignored.")
        return
    if in_global:
        ctx.glob.logs.append(t)
    else:
        px.logs.append(t)
        px.no_log = False


@SECTION_KEYWORDS.register("log-tag", (GLOBAL, *PROXY_SECTIONS), "<string>", "syslog tag (default: haproxy)")
def _kw_log_tag(ctx: KwCtx, args: list[str]) -> None:
    if ctx.section == GLOBAL and len(args) > 1:
        raise ConfigError(f"'log-tag' cannot handle unexpected argument '{args[1]}'.")
    if not args or not args[0]:
        raise ConfigError("'log-tag' expects a tag for use in syslog.")
    if ctx.section == GLOBAL:
        ctx.glob.log_tag = args[0]
    else:
        ctx.proxy.extra["log_tag"] = args[0]


@SECTION_KEYWORDS.register(
    "log-send-hostname", (GLOBAL,), "[<string>]", "put this host name (default: the system's) in syslog headers"
)
def _kw_log_send_hostname(ctx: KwCtx, args: list[str]) -> None:
    if ctx.glob.log_send_hostname is not None:
        _alert_continue(ctx, "'log-send-hostname' already specified. Continuing.")
        return
    ctx.glob.log_send_hostname = args[0] if args and args[0] else socket.gethostname()


def _set_format(ctx: KwCtx, fmt: str, directive: str, shown: str | None = None) -> None:
    """Shared by log-format / option tcplog / option httplog: HAProxy's 'overrides previous'
    warning in defaults, the 'ignored in backends' warning, and the latest one wins."""
    px = ctx.proxy
    if px.kind == "defaults" and px.log_format:
        old = lf.BUILTIN_FORMAT_NAMES.get(px.log_format, "log-format")
        # cfgparse-listen.c spells it "parsing [f:N]: " (no space before the colon)
        from .config.parser import AT_READCFG, report

        report(ctx.diag, WARNING, f"'{shown or directive}' overrides previous '{old}' in 'defaults' section.",
               ctx.file, ctx.line, AT_READCFG)
    if px.kind == "backend":
        kw = directive if directive == "log-format" else directive.split(" clf")[0]
        ctx.warn(f"backend '{px.name}' : '{kw}' directive is ignored in backends.")
    px.log_format = fmt
    px.extra["log_format_at"] = (ctx.file, ctx.line)
    for k in ("tcplog", "httplog", "httpslog"):
        px.options.pop(k, None)


@SECTION_KEYWORDS.register(
    "log-format", PROXY_SECTIONS, "<string>", "format of traffic log lines (spaces escaped or quoted)"
)
def _kw_log_format(ctx: KwCtx, args: list[str]) -> None:
    if not args or not args[0]:
        raise ConfigError("log-format expects an argument.")
    if len(args) > 1:
        raise ConfigError("log-format expects only one argument, don't forget to escape spaces!")
    # compiled by check_config() once the mode is known, as HAProxy does after parsing
    _set_format(ctx, args[0], "log-format")


def _no_negation(ctx: KwCtx, name: str) -> None:
    if _negated(ctx) or _defaulted(ctx):
        from .config.parser import AT_READCFG, config_error

        raise config_error(f"negation/default is not supported for option '{name}'.", at=AT_READCFG)


@SECTION_KEYWORDS.register(
    "option tcplog", PROXY_SECTIONS, "", "log TCP sessions in HAProxy's tcplog format", takes_no=True
)
def _kw_option_tcplog(ctx: KwCtx, args: list[str]) -> None:
    _no_negation(ctx, "tcplog")
    _set_format(ctx, TCPLOG, "option tcplog")
    if args:
        raise ConfigError(f"'option tcplog' cannot handle unexpected argument '{args[0]}'.")
    ctx.proxy.options["tcplog"] = True


@SECTION_KEYWORDS.register(
    "option httplog", PROXY_SECTIONS, "[clf]", "log HTTP requests in HAProxy's httplog (or CLF) format", takes_no=True
)
def _kw_option_httplog(ctx: KwCtx, args: list[str]) -> None:
    _no_negation(ctx, "httplog")
    clf = False
    if args:
        if args[0] != "clf":
            raise ConfigError("keyword 'httplog' only supports option 'clf'.")
        if len(args) > 1:
            raise ConfigError(f"'option httplog' cannot handle unexpected argument '{args[1]}'.")
        clf = True
    _set_format(ctx, CLFLOG if clf else HTTPLOG, "option httplog clf" if clf else "option httplog")
    ctx.proxy.options["httplog"] = "clf" if clf else True


@SECTION_KEYWORDS.register(
    "option httpslog", PROXY_SECTIONS, "", "httplog plus TLS details", takes_no=True
)
def _kw_option_httpslog(ctx: KwCtx, args: list[str]) -> None:
    _no_negation(ctx, "httpslog")
    if args:
        raise ConfigError(f"'option httpslog' cannot handle unexpected argument '{args[0]}'.")
    # HAProxy 2.6 calls it 'option httplog' in the defaults warning
    _set_format(ctx, HTTPSLOG, "option httpslog", shown="option httplog")
    ctx.proxy.options["httpslog"] = True


def _fe_option(name: str, doc: str) -> None:
    def handler(ctx: KwCtx, args: list[str]) -> None:
        if args:
            raise ConfigError(f"'option {name}' cannot handle unexpected argument '{args[0]}'.")
        px = ctx.proxy
        if px.kind == "backend":
            ctx.warn(f"'{name}' ignored because backend '{px.name}' has no frontend capability.")
            return
        if _defaulted(ctx):
            px.options.pop(name, None)
        else:
            px.options[name] = not _negated(ctx)

    SECTION_KEYWORDS.register(f"option {name}", PROXY_SECTIONS, "", doc, takes_no=True)(handler)


_fe_option("dontlognull", "do not log sessions in which the client sent nothing")
_fe_option("dontlog-normal", "log only sessions that ended in error")
_fe_option("log-separate-errors", "log errors at level err instead of info")
_fe_option("logasap", "log when the server connection is established, not at the end")


# --------------------------------------------------------------------------------------
# Post-parse checks (to be called by config validation)


def check_config(model: Any, diag: Any) -> None:
    """HAProxy's post-parse checks on logging, reported through ``diag``:

    * ``option httplog`` in a non-HTTP frontend -> warning, falls back to tcplog;
    * a log-format that does not compile (syntax, unknown variable, HTTP-only variable in
      a non-HTTP frontend) -> alert ``Parsing [file:line]: failed to parse log-format : ...``;
    * a log format on a frontend without any log target -> warning.
    """
    glob = model.glob
    for px in model.proxies:
        if px.kind == "defaults" or not px.has_fe or not px.log_format:
            continue
        file, line = px.extra.get("log_format_at", (px.file, px.line))
        what = proxy_type_str(px.kind)
        fmt = px.log_format
        if px.mode != "http" and fmt in (HTTPLOG, CLFLOG, HTTPSLOG):
            opt = "option httpslog" if fmt == HTTPSLOG else "option httplog"
            diag.warning(
                f"'{opt}' not usable with {what} '{px.name}' (needs 'mode http'). Falling back to 'option tcplog'.",
                file,
                line,
            )
            fmt = TCPLOG
        try:
            lf.compile_format(fmt, _sample_hook(), mode="http" if px.mode == "http" else "tcp")
        except ValueError as e:
            # HAProxy's own wording for this post-parse alert: "Parsing [file:line]: ..."
            diag.alert(f"Parsing [{file}:{line}]: failed to parse log-format : {e}.")
            continue
        if not px.logs and not (px.log_global and glob.logs):
            diag.warning(f"log format ignored for {what} '{px.name}' since it has no log address.")
