"""The runtime API commands: one registry, HAProxy 2.6's words, levels, usage and output.

Owns every command the stats socket understands (``Command``: words, level, usage line,
handler), the lookup of a command line in the registry (first command whose words prefix
the line, as ``cli_find_kw``), the ``help`` text and the "Unknown command" suggestions
(generated from the registry with HAProxy's word-fingerprint distance,
``cli_gen_usage_msg``), the parsing of a command line into words (backslash escapes,
``<<`` payload marker) and the handlers with HAProxy's exact output shapes and error
strings (``src/cli.c``, ``src/stats.c``, ``src/server.c``, ``src/proxy.c``,
``src/stream.c``, ``src/stick_table.c`` of 2.6).

Handlers change state only through the runtime objects' own methods: server admin flags
with ``Server.set_admin``/``clear_admin``, operational state with ``set_running``/
``set_stopping``/``set_stopped``, weights with ``set_weight``; so log lines and balancers
follow.  No socket I/O here: the connection loop lives in ``admin/server.py``.
"""

from __future__ import annotations

import ipaddress
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..server import FDRAIN, FMAINT, RMAINT, STOPPED
from ..stats import columns as C
from ..stats import csvstat, info

# access levels (HAProxy ACCESS_LVL_*)
USER, OPERATOR, ADMIN = 1, 2, 3
LEVELS = {"user": USER, "operator": OPERATOR, "admin": ADMIN}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}

PERMISSION_DENIED = "Permission denied\n"
MAX_ARGS = 64
PREFIX_WORDS = 5  # CLI_PREFIX_KW_NB
MAX_MATCHES = 5  # CLI_MAX_MATCHES

#: lines ``help`` always ends with (cli_gen_usage_msg)
HELP_TRAILER = (
    "  help [<command>]                        : list matching or all commands\n"
    "  prompt                                  : toggle interactive mode with prompt\n"
    "  quit                                    : disconnect\n"
)

Handler = Callable[["Context", list[str], "str | None"], str]


class Context:
    """One CLI connection's state, as the handlers see it.

    ``level`` is the session's current level (lowered by ``operator``/``user``),
    ``bind_level`` the socket's configured one (it decides the stats legends);
    ``prompt``, ``nolf`` and ``quit`` are read by the connection loop after each command.
    """

    def __init__(self, process: Any, level: int = OPERATOR, server: Any = None, session: Any = None) -> None:
        self.process = process
        self.level = level
        self.bind_level = level
        self.server = server
        self.session = session
        self.prompt = False
        self.nolf = False
        self.quit = False
        self.timeout: float | None = None  # seconds; None = the socket's ``stats timeout``

    def has_level(self, level: int) -> bool:
        return self.level >= level


@dataclass(frozen=True)
class Command:
    """A command: its words, the synopsis and description ``help`` prints, the minimum
    level (checked before the handler runs) and the handler."""

    words: tuple[str, ...]
    synopsis: str | None
    doc: str
    level: int
    handler: Handler

    @property
    def usage(self) -> str | None:
        """The ``help`` line without its indent (HAProxy's ``%-40s: %s`` layout)."""
        if self.synopsis is None:
            return None
        return f"{self.synopsis:<40}: {self.doc}"


class Registry:
    """The command table, in registration order."""

    def __init__(self) -> None:
        self.commands: list[Command] = []

    def register(self, words: str, synopsis: str | None, doc: str = "", level: int = USER) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.commands.append(Command(tuple(words.split()), synopsis, doc, level, fn))
            return fn

        return deco

    def find(self, args: list[str]) -> Command | None:
        """cli_find_kw(): the first command whose words all equal the leading args."""
        for cmd in self.commands:
            n = len(cmd.words)
            if len(args) >= n and tuple(args[:n]) == cmd.words:
                return cmd
        return None

    def usage_message(self, args: list[str] | None) -> str:
        """cli_gen_usage_msg(): ``help`` output, or the "Unknown command" text with the
        commands matching the words typed (best fuzzy matches first)."""
        ishelp = False
        if args and args[0] == "help":
            args = args[1:]
            ishelp = True
        args = list(args or [])

        def arg(i: int) -> str:
            return args[i] if i < len(args) else ""

        length = 0
        for cmd in self.commands:
            for idx in range(PREFIX_WORDS):
                if idx >= len(cmd.words) or not arg(idx) or cmd.words[idx] != arg(idx):
                    break
                length = max(length, idx + 1)
        if ishelp:
            head = "The following commands are valid at this level:\n"
        elif not length and not arg(0):
            head = "Unknown command. Please enter one of the following commands only:\n"
        else:
            head = "Unknown command, but maybe one of the following ones is a better match:\n"

        matches: list[tuple[int, Command]] = []
        if arg(length):
            for cmd in self.commands:
                idx = 0
                while idx < length:
                    if idx >= len(cmd.words) or not arg(idx) or cmd.words[idx] != arg(idx):
                        break
                    idx += 1
                if cmd.usage is None or idx != length:
                    continue
                word_fp = [0] * 1024
                list_fp = [0] * 1024
                totlen = 0
                i = idx
                while i < PREFIX_WORDS and arg(i):
                    _fingerprint(word_fp, arg(i))
                    totlen += len(arg(i).encode())
                    i += 1
                i = idx
                while i < PREFIX_WORDS and i < len(cmd.words):
                    _fingerprint(list_fp, cmd.words[i])
                    totlen += len(cmd.words[i])
                    i += 1
                dist = sum(abs(a - b) for a, b in zip(word_fp, list_fp, strict=True))
                worst = matches[-1][0] if len(matches) == MAX_MATCHES else 1 << 31
                if dist < 5 * totlen // 2 and dist < worst:
                    if len(matches) == MAX_MATCHES:
                        matches.pop()
                    pos = len(matches)
                    while pos > 0 and matches[pos - 1][0] > dist:
                        pos -= 1
                    matches.insert(pos, (dist, cmd))
        entries: list[Command] = []
        if matches:
            best = matches[0][0]
            for dist, cmd in matches:
                if dist > 5 * best // 2:
                    break
                entries.append(cmd)
        else:
            for cmd in self.commands:
                if cmd.usage is None:
                    continue
                if all(idx < len(cmd.words) and arg(idx) and cmd.words[idx] == arg(idx) for idx in range(length)):
                    entries.append(cmd)
        entries.sort(key=lambda c: c.usage or "")
        return head + "".join(f"  {c.usage}\n" for c in entries) + HELP_TRAILER


def _fingerprint(fp: list[int], word: str) -> None:
    """update_word_fingerprint(): counts of character-class transitions (uint8 cells)."""
    frm = 28
    for b in word.encode("utf-8", "surrogateescape"):
        c = b | 0x20 if 0x41 <= b <= 0x5A else b
        if 0x61 <= c <= 0x7A:
            to = c - 0x61 + 1
        elif 0x30 <= c <= 0x39:
            to = 27
        else:
            to = 28
        fp[to] = 1
        fp[32 * frm + to] = (fp[32 * frm + to] + 1) & 0xFF
        frm = to
    fp[32 * frm + 28] = (fp[32 * frm + 28] + 1) & 0xFF


REGISTRY = Registry()
command = REGISTRY.register


# ------------------------------------------------------------------ parsing
def split_words(line: str) -> list[str]:
    """cli_parse_request()'s word split: blanks separate words, a backslash escapes the
    next character (``\\\\`` is one backslash), a final word ``<<`` ends the words."""
    words: list[str] = []
    i, n = 0, len(line)
    while len(words) < MAX_ARGS and i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        if line[i:] == "<<":
            break
        start = i
        while i < n:
            ch = line[i]
            if ch in " \t":
                break
            if ch == "\\":
                i += 2
                continue
            i += 1
        raw = line[start:min(i, n)]
        i += 1
        out = []
        k = 0
        while k < len(raw):
            ch = raw[k]
            if ch == "\\":
                if raw[k + 1 : k + 2] == "\\":
                    k += 1
                else:
                    k += 1
                    continue
            out.append(raw[k])
            k += 1
        words.append("".join(out))
    return words


def execute(ctx: Context, line: str, payload: str | None = None) -> str:
    """Run one command line; returns its output (the connection loop adds the prompt)."""
    args = split_words(line)
    cmd = REGISTRY.find(args)
    if cmd is None:
        return REGISTRY.usage_message(args)
    if not ctx.has_level(cmd.level):
        return PERMISSION_DENIED
    return cmd.handler(ctx, args, payload)


def _arg(args: list[str], i: int) -> str:
    return args[i] if i < len(args) else ""


# ------------------------------------------------------------------ C-like number parsing
def atoi(text: str) -> int:
    return C._atoi(text)


def strtol(text: str) -> tuple[int, str] | None:
    """strtol(text, &end, 10): (value, rest) or None when no digit was read."""
    s = text.lstrip(" \t\n\r\f\v")
    i = 0
    if s[:1] in ("+", "-"):
        i = 1
    j = i
    while j < len(s) and s[j].isdigit():
        j += 1
    if j == i:
        return None
    return int(s[:j]), s[j:]


def strtoul0(text: str) -> int:
    """strtoul(text, NULL, 0): decimal, ``0x`` hexadecimal or ``0`` octal prefix; 0 if none."""
    s = text.strip()
    try:
        if s[:2].lower() == "0x":
            digits = ""
            for ch in s[2:]:
                if ch not in "0123456789abcdefABCDEF":
                    break
                digits += ch
            return int(digits, 16) if digits else 0
        if s[:1] == "0":
            digits = ""
            for ch in s[1:]:
                if ch not in "01234567":
                    break
                digits += ch
            return int(digits, 8) if digits else 0
        digits = ""
        for ch in s:
            if not ch.isdigit():
                break
            digits += ch
        return int(digits) if digits else 0
    except ValueError:
        return 0


# ------------------------------------------------------------------ lookups
def _proxy_by_name(objs: list[Any], name: str) -> Any:
    """proxy_find_by_name(): ``#<id>`` first, then the name."""
    if name.startswith("#"):
        pid = atoi(name[1:])
        for o in objs:
            if o.id == pid:
                return o
    for o in objs:
        if o.name == name:
            return o
    return None


def find_backend(process: Any, name: str) -> Any:
    return _proxy_by_name(process.backends, name)


def find_frontend(process: Any, name: str) -> Any:
    return _proxy_by_name(process.frontends, name)


def find_server(be: Any, name: str) -> Any:
    if name.startswith("#"):
        sid = atoi(name[1:])
        for s in be.servers:
            if s.id == sid:
                return s
        return None
    for s in be.servers:
        if s.name == name:
            return s
    return None


def _split_be_srv(text: str) -> tuple[str, str | None]:
    be, sep, srv = text.partition("/")
    return be, (srv if sep else None)


def cli_find_server(ctx: Context, text: str) -> tuple[Any, str | None]:
    """(server, None) or (None, error text), as cli_find_server()."""
    be_name, srv_name = _split_be_srv(text)
    if not srv_name or not be_name:
        return None, "Require 'backend/server'.\n"
    be = find_backend(ctx.process, be_name)
    if be is None:
        return None, "No such backend.\n"
    srv = find_server(be, srv_name)
    if srv is None:
        return None, "No such server.\n"
    if be.spec.disabled:
        return None, "Proxy is disabled.\n"
    return srv, None


def cli_find_frontend(ctx: Context, name: str) -> tuple[Any, str | None]:
    if not name:
        return None, "A frontend name is expected.\n"
    fe = find_frontend(ctx.process, name)
    if fe is None:
        return None, "No such frontend.\n"
    return fe, None


# ------------------------------------------------------------------ simple commands
@command("help", None, level=USER)
def _help(ctx: Context, args: list[str], payload: str | None) -> str:
    return REGISTRY.usage_message(args)


@command("prompt", None, level=USER)
def _prompt(ctx: Context, args: list[str], payload: str | None) -> str:
    ctx.prompt = not ctx.prompt
    return ""


@command("quit", None, level=USER)
def _quit(ctx: Context, args: list[str], payload: str | None) -> str:
    ctx.quit = True
    return ""


@command("show cli level", "show cli level", "display the level of the current CLI session", USER)
def _show_cli_level(ctx: Context, args: list[str], payload: str | None) -> str:
    return LEVEL_NAMES.get(ctx.level, "unknown") + "\n"


def _set_level(target: int) -> Handler:
    def handler(ctx: Context, args: list[str], payload: str | None) -> str:
        if _arg(args, 1) == "-":
            ctx.nolf = True
        if not ctx.has_level(target):
            return PERMISSION_DENIED
        ctx.level = target
        return ""

    return handler


command("operator", "operator", "lower the level of the current CLI session to operator", USER)(_set_level(OPERATOR))
command("user", "user", "lower the level of the current CLI session to user", USER)(_set_level(USER))


@command("show version", "show version", "show version of the current process", USER)
def _show_version(ctx: Context, args: list[str], payload: str | None) -> str:
    return __version__ + "\n"


@command("set timeout", "set timeout [cli] <delay>", "change a timeout setting", USER)
def _set_timeout(ctx: Context, args: list[str], payload: str | None) -> str:
    if _arg(args, 2) != "cli":
        return "'set timeout' only supports 'cli'.\n"
    text = _arg(args, 3)
    if not text:
        return "Expects an integer value.\n"
    from ..config.values import BadValue, parse_time

    try:
        secs = parse_time(text, "set timeout cli", "s")
    except BadValue:
        return "Invalid timeout value.\n"
    if secs < 1:
        return "Invalid timeout value.\n"
    ctx.timeout = float(secs)
    return ""


# ------------------------------------------------------------------ show info / stat
@command("show info", "show info [desc|json|typed|float]*", "report information about the running process", USER)
def _show_info(ctx: Context, args: list[str], payload: str | None) -> str:
    fmt, desc, flt = "text", False, False
    for a in args[2:]:
        if a == "typed":
            fmt = "typed"
        elif a == "json":
            fmt = "json"
        elif a == "desc":
            desc = True
        elif a == "float":
            flt = True
    return info.render(ctx.process, fmt, desc, flt)


@command("show stat", "show stat [desc|json|no-maint|typed|up]*", "report counters for each proxy and server", USER)
def _show_stat(ctx: Context, args: list[str], payload: str | None) -> str:
    a = args[2:]
    if _arg(a, 0) == "domain":
        a = a[1:]
        if _arg(a, 0) == "proxy":
            a = a[1:]
        else:
            # gproxy has no resolvers section, hence no "resolvers" statistics domain
            return "Invalid statistics domain.\n"
    proxy: int | None = None
    types, sid = -1, -1
    if _arg(a, 0) and _arg(a, 1) and _arg(a, 2):
        iid = C.find_proxy_id(ctx.process, a[0])
        if not iid:
            return "No such proxy.\n"
        proxy, types, sid = iid, atoi(a[1]), atoi(a[2])
        a = a[3:]
    fmt, desc, no_maint, up = "csv", False, False, False
    for w in a:
        if w == "typed":
            fmt = "typed"
        elif w == "json":
            fmt = "json"
        elif w == "desc":
            desc = True
        elif w == "no-maint":
            no_maint = True
        elif w == "up":
            up = True
    return csvstat.render(ctx.process, fmt, desc, types, proxy, sid, no_maint, up, legends=ctx.bind_level >= OPERATOR)


# ------------------------------------------------------------------ show servers state / backend
SRV_STATE_FILE_VERSION = 1
SRV_STATE_FIELDS = (
    "be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
    "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
    "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
    "srv_check_addr srv_agent_addr srv_agent_port"
)
# check state flags (CHK_ST_*)
CHK_ST_INPROGRESS, CHK_ST_CONFIGURED, CHK_ST_ENABLED, CHK_ST_PAUSED = 0x1, 0x2, 0x4, 0x8
CMAINT = 0x04


#: HAProxy keeps a health counter even for servers without ``check``: ``rise`` at start,
#: 0 for a server disabled in the configuration, then 0 when forced into maintenance and
#: ``rise + fall - 1`` / 0 after ``set server health``.  ``show servers state`` prints it.
_unchecked_health: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def unchecked_health(srv: Any) -> int:
    h = _unchecked_health.get(srv)
    if h is None:
        h = 0 if srv.spec.disabled else int(srv.spec.rise)
    return h


def _set_unchecked_health(srv: Any, up: bool) -> None:
    if srv.check is None:
        _unchecked_health[srv] = int(srv.spec.rise) + int(srv.spec.fall) - 1 if up else 0


def server_state_line(srv: Any) -> str:
    """One ``show servers state`` line (dump_servers_state)."""
    from ..checks import status as chkstatus

    be = srv.backend
    sa = srv.sockaddr
    addr = sa[0] if isinstance(sa, tuple) else ("-" if isinstance(sa, str) else (srv.host or "-"))
    op = STOPPED if srv.maint else srv.op_state
    admin = srv.admin | (CMAINT if srv.spec.disabled else 0)
    chk = srv.check
    if chk is not None and chk.configured:
        status = chkstatus.STATUSES.get(chk.status, chkstatus.STATUSES["UNK"])[0]
        result = chk.result
        health = chk.health
        state = CHK_ST_CONFIGURED | (CHK_ST_ENABLED if chk.enabled else 0)
        state |= CHK_ST_PAUSED if srv.maint else 0
        state |= CHK_ST_INPROGRESS if chk.in_progress else 0
        check_port = chk.check_port
        check_addr = chk.check_addr or "-"
    else:
        status, result = chkstatus.STATUSES["INI"][0], 0
        health = unchecked_health(srv)
        state = CHK_ST_PAUSED if srv.spec.disabled else 0
        check_port, check_addr = 0, "-"
    fqdn = getattr(srv.addr, "fqdn", "") if srv.addr is not None else ""
    return (
        f"{be.id} {be.name} {srv.id} {srv.name} {addr} {op} {admin} {srv.uweight} {srv.iweight} "
        f"{max(0, int(time.time() - srv.last_change))} {status} {result} {health} {state} 0 "
        f"{1 if be.spec.id else 0} {1 if srv.spec.id is not None else 0} {fqdn or '-'} {srv.port} - "
        f"{1 if srv.spec.ssl else 0} {check_port or 0} {check_addr} - 0\n"
    )


@command("show servers state", "show servers state [<backend>]",
         "dump volatile server information (all or for a single backend)", USER)
def _show_servers_state(ctx: Context, args: list[str], payload: str | None) -> str:
    name = _arg(args, 3)
    if name:
        be = find_backend(ctx.process, name)
        if be is None:
            return "Can't find backend.\n"
        backends = [be]
    else:
        backends = list(ctx.process.backends)
    out = [f"{SRV_STATE_FILE_VERSION}\n# {SRV_STATE_FIELDS}\n"]
    for be in backends:
        out.extend(server_state_line(s) for s in be.servers)
    return "".join(out)


@command("show backend", "show backend", "list backends in the current running config", USER)
def _show_backend(ctx: Context, args: list[str], payload: str | None) -> str:
    return "# name\n" + "".join(f"{be.name}\n" for be in ctx.process.backends)


# ------------------------------------------------------------------ show / shutdown sessions
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def human_time(t: int) -> str:
    """human_time(t, 1): at most two units among d, h, m, s (``0s`` for zero)."""
    if t < 0:
        return "?"
    out = ""
    cnt = 2
    if t >= 86400:
        out += f"{t // 86400}d"
        cnt -= 1
    if cnt and t % 86400 // 3600:
        out += f"{t % 86400 // 3600}h"
        cnt -= 1
    if cnt and t % 3600 // 60:
        out += f"{t % 3600 // 60}m"
        cnt -= 1
    if (cnt and t % 60) or not t:
        out += f"{t % 60}s"
    return out


def all_sessions(ctx: Context) -> list[Any]:
    """Proxied sessions of every frontend and the CLI sessions, oldest first."""
    sess: list[Any] = []
    for fe in ctx.process.frontends:
        sess.extend(fe.sessions)
    if ctx.server is not None:
        sess.extend(ctx.server.sessions)
    sess.sort(key=lambda s: (s.accept_mono, s.id))
    return sess


def _proto(sess: Any) -> str:
    proto = getattr(sess, "proto", None)
    if proto:
        return proto
    li = sess.listener
    fam = li.address.family if li is not None else ""
    return {"ipv4": "tcpv4", "ipv6": "tcpv6", "unix": "unix_stream", "abns": "unix_stream"}.get(fam, "?")


def _fds(sess: Any) -> tuple[int, int]:
    fds = getattr(sess, "fds", None)
    if fds is not None:
        return fds()
    pump = sess.pump
    if pump is None:
        return -1, -1
    try:
        return pump.cli.fileno(), pump.srv.fileno()
    except OSError:
        return -1, -1


def _src(sess: Any) -> str:
    if sess.cli_ip == "unix":
        li = sess.listener
        return f"unix:{li.id if li is not None else 0}"
    return f"{sess.cli_ip}:{sess.cli_port}"


def _fe_name(sess: Any) -> str:
    return sess.frontend.name if sess.frontend is not None else "GLOBAL"


def sess_line(sess: Any) -> str:
    """One ``show sess`` line: HAProxy's layout; internal scheduler/buffer fields that
    have no gproxy counterpart are printed with neutral values."""
    be = sess.backend
    srv = sess.server
    cfd, sfd = _fds(sess)
    age = human_time(int(time.time() - sess.accept_ts))
    return (
        f"0x{id(sess):x}: proto={_proto(sess)} src={_src(sess)} fe={_fe_name(sess)} "
        f"be={be.name if be is not None else '<NONE>'} srv={srv.name if srv is not None else '<none>'} "
        f"ts=00 epoch=0 age={age} calls=0 rate=0 cpu=0 lat=0 "
        f"rq[f=000000h,i=0,an=00h,rx=,wx=,ax=] rp[f=000000h,i=0,an=00h,rx=,wx=,ax=] "
        f"scf=[8,0h,fd={cfd}] scb=[8,{'1' if be is not None else '0'}h,fd={sfd}] "
        f"exp= rc={getattr(sess, 'retries', 0)} c_exp=\n"
    )


def sess_full(sess: Any) -> str:
    """``show sess <id>|all``: HAProxy's first lines of the full dump (stream, frontend,
    backend, server); the task, connection and buffer internals are not printed."""
    tm = time.localtime(sess.accept_ts)
    usec = int((sess.accept_ts % 1) * 1_000_000)
    src = _src(sess)
    source = f"source={src}"
    li = sess.listener
    fe = sess.frontend
    be = sess.backend
    srv = sess.server
    stamp = (
        f"{tm.tm_mday:02d}/{MONTHS[tm.tm_mon - 1]}/{tm.tm_year:04d}:{tm.tm_hour:02d}:{tm.tm_min:02d}:"
        f"{tm.tm_sec:02d}.{usec:06d}"
    )
    srv_conn = f"0x{id(srv):x}" if srv is not None else "(nil)"
    lines = [
        f"0x{id(sess):x}: [{stamp}] id={sess.id} proto={_proto(sess)} {source}\n",
        f"  flags=0x0, conn_retries={getattr(sess, 'retries', 0)}, conn_exp=<NEVER> conn_et=0x000 "
        + f"srv_conn={srv_conn}, pend_pos=(nil) waiting=0 epoch=0\n",
    ]
    fe_line = (
        f"  frontend={_fe_name(sess)} (id={fe.id if fe is not None else 0} mode={fe.mode if fe is not None else 'tcp'}), "
        f"listener={getattr(li, 'name', None) or '?'} (id={li.id if li is not None else 0})"
    )
    if sess.cli_ip == "unix":
        fe_line += f" addr=unix:{li.id if li is not None else 0}"
    elif sess.fe_ip not in (None, "unix"):
        fe_line += f" addr={sess.fe_ip}:{sess.fe_port}"
    lines.append(fe_line + "\n")
    if be is not None:
        be_line = f"  backend={be.name} (id={be.id} mode={be.mode})"
        if sess.be_ip is not None:
            be_line += f" addr={sess.be_ip}:{sess.be_port}"
        lines.append(be_line + "\n")
        srv_line = f"  server={srv.name if srv is not None else '<none>'} (id={srv.id if srv is not None else 0})"
        if srv is not None and sess.srv_ip is not None:
            srv_line += " addr=unix" if sess.srv_ip == "unix" else f" addr={sess.srv_ip}:{sess.srv_port}"
        lines.append(srv_line + "\n")
    else:
        lines.append("  backend=<NONE> (id=-1 mode=-)\n")
        lines.append("  server=<NONE> (id=-1)\n")
    return "".join(lines)


@command("show sess", "show sess [id]", "report the list of current sessions or dump this exact session", OPERATOR)
def _show_sess(ctx: Context, args: list[str], payload: str | None) -> str:
    sel = _arg(args, 2)
    sessions = all_sessions(ctx)
    if not sel:
        return "".join(sess_line(s) for s in sessions)
    if sel == "all":
        return "".join(sess_full(s) for s in sessions)
    target = strtoul0(sel)
    for s in sessions:
        if id(s) == target:
            return sess_full(s)
    return "Session not found.\n"


@command("shutdown session", "shutdown session [id]", "kill a specific session", ADMIN)
def _shutdown_session(ctx: Context, args: list[str], payload: str | None) -> str:
    target = strtoul0(_arg(args, 2))
    if not target:
        return "Session pointer expected (use 'show sess').\n"
    for s in all_sessions(ctx):
        if id(s) == target:
            kill_session(s)
            return ""
    return "No such session (use 'show sess').\n"


def kill_session(sess: Any, flag: str = "K") -> None:
    """stream_shutdown(SF_ERR_KILLED): the session ends with termination state ``K``."""
    kill = getattr(sess, "kill", None)
    if kill is not None:
        kill()
        return
    sess.killed = flag
    if sess.pump is not None:
        sess.pump.finish(flag + "D")


@command("shutdown sessions server", "shutdown sessions server <bk>/<srv>", "kill sessions on a server", ADMIN)
def _shutdown_sessions_server(ctx: Context, args: list[str], payload: str | None) -> str:
    srv, err = cli_find_server(ctx, _arg(args, 3))
    if err:
        return err
    srv.backend.shutdown_sessions(srv, "K")
    return ""


# ------------------------------------------------------------------ servers
def parse_weight_change(srv: Any, text: str) -> str | None:
    """server_parse_weight_change_request(): apply ``<w>`` or ``<w>%``; error text or None."""
    if not text:
        return "Require <weight> or <weight%>.\n"
    got = strtol(text)
    if got is None:
        return "Empty weight string empty or preceded by garbage"
    w, rest = got
    if rest == "%":
        if w < 0:
            return "Relative weight must be positive.\n"
        w = min(w, 25600)
        w = srv.iweight * w // 100
        w = min(w, 256)
    elif w < 0 or w > 256:
        return "Absolute weight can only be between 0 and 256 inclusive.\n"
    elif rest:
        return "Trailing garbage in weight string"
    if w and w != srv.iweight and not srv.backend.lb.dynamic:
        return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
    srv.set_weight(w)
    return None


def set_ready(srv: Any) -> None:
    """srv_adm_set_ready(): leave forced drain and forced maintenance."""
    srv.clear_admin(FDRAIN)
    srv.clear_admin(FMAINT)


def set_drain(srv: Any) -> None:
    """srv_adm_set_drain(): forced drain, out of forced maintenance.  HAProxy sets the
    drain flag first; here maintenance is left first so that no "drain" event is emitted
    for a server still in maintenance (``Server.set_admin`` reports it at once)."""
    srv.clear_admin(FMAINT)
    srv.set_admin(FDRAIN)


def set_maint(srv: Any) -> None:
    """srv_adm_set_maint(): forced maintenance, out of forced drain."""
    if not srv.maint:
        _set_unchecked_health(srv, False)
    srv.set_admin(FMAINT)
    srv.clear_admin(FDRAIN)


def set_health(srv: Any, what: str) -> str | None:
    chk = srv.check
    if what == "up":
        if chk is not None:
            chk.health = chk.rise + chk.fall - 1
        _set_unchecked_health(srv, True)
        srv.set_running("changed from CLI")
    elif what == "stopping":
        if chk is not None:
            chk.health = chk.rise + chk.fall - 1
        _set_unchecked_health(srv, True)
        srv.set_stopping("changed from CLI")
    elif what == "down":
        if chk is not None:
            chk.health = 0
        _set_unchecked_health(srv, False)
        srv.set_stopped("changed from CLI")
    else:
        return "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n"
    return None


def _inet_pton(text: str) -> str | None:
    """The canonical text of an IPv4/IPv6 literal, else None (str2ip2 without resolution)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def update_addr_port(srv: Any, addr: str | None, port: str | None) -> str:
    """srv_update_addr_port(): change the address and/or port; returns HAProxy's report."""
    import _socket

    msg = ""
    changed = False
    new_host, new_port = None, None

    def out() -> str:
        if changed:
            host = new_host if new_host is not None else (srv.sockaddr[0] if isinstance(srv.sockaddr, tuple) else srv.host)
            p = new_port if new_port is not None else srv.port
            srv.host = host
            srv.port = p
            srv.family = _socket.AF_INET6 if ":" in host else _socket.AF_INET
            srv.sockaddr = (host, p)
        return msg + " by 'stats socket command'\n"

    cur = srv.sockaddr
    if addr:
        ip = _inet_pton(addr)
        if ip is None:
            msg = f"Invalid addr '{addr}'"
            return out()
        if not isinstance(cur, tuple):
            msg = "Update for the current server address family is only supported through configuration file"
            return out()
        if cur[0] == ip:
            msg = "no need to change the addr"
        else:
            new_host = ip
            changed = True
            msg = f"IP changed from '{cur[0]}' to '{addr}'"
    if port:
        if addr:
            msg += ", "
        sign = port[0]
        got = strtol(port)
        if got is None:
            msg += f"problem converting port '{port}' to an int"
            return out()
        val = got[0] & 0xFFFF
        if sign in "+-":
            chk = srv.check
            if not (chk is not None and chk.check_port):
                msg += ("can't change <port> to port map because it is incompatible with current health check "
                        "port configuration (use 'port' statement from the 'server' directive.")
                return out()
            msg += "gproxy does not support mapped ports at run time"
            return out()
        if val != srv.port:
            msg += f"port changed from '{srv.port}' to '{val}'"
            new_port = val
            changed = True
        else:
            msg += "no need to change the port"
    return out()


def update_check_addr_port(srv: Any, addr: str | None, port: str | None) -> str | None:
    """srv_update_check_addr_port()."""
    chk = C.check_of(srv)
    if chk is None:
        return "health checks are not enabled on this server"
    ip = None
    if addr:
        ip = _inet_pton(addr)
        if ip is None:
            return f"invalid addr '{addr}'"
    new_port = None
    if port:
        got = strtol(port)
        if got is None or got[1]:
            return "provided port is not an integer"
        new_port = got[0]
        if new_port < 0 or new_port > 65535:
            return "provided port is invalid"
    if ip is not None:
        chk.check_addr = ip
    if new_port is not None:
        chk.check_port = new_port
    return None


SET_SERVER_USAGE = (
    "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | "
    "check-addr | check-port | fqdn | health | ssl | state | weight\n"
)


@command("set server", "set server <bk>/<srv> [opts]", "change a server's state, weight, address or ssl", ADMIN)
def _set_server(ctx: Context, args: list[str], payload: str | None) -> str:
    srv, err = cli_find_server(ctx, _arg(args, 2))
    if err:
        return err
    sub, val = _arg(args, 3), _arg(args, 4)
    if sub == "weight":
        return parse_weight_change(srv, val) or ""
    if sub == "state":
        if val == "ready":
            set_ready(srv)
        elif val == "drain":
            set_drain(srv)
        elif val == "maint":
            set_maint(srv)
        else:
            return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"
        return ""
    if sub == "health":
        return set_health(srv, val) or ""
    if sub in ("agent", "agent-send"):
        return "agent checks are not enabled on this server.\n"
    if sub in ("agent-addr", "agent-port"):
        if not val:
            what = "an address and optionally a port" if sub == "agent-addr" else "a port"
            return f"set server <b>/<s> {sub} requires {what}.\n"
        return "agent checks are not enabled on this server"
    if sub in ("check-addr", "check-port"):
        if not val:
            what = "an address and optionally a port" if sub == "check-addr" else "a port"
            return f"set server <b>/<s> {sub} requires {what}.\n"
        if sub == "check-addr":
            port = _arg(args, 6) if _arg(args, 5) == "port" else None
            warn = update_check_addr_port(srv, val, port)
        else:
            warn = update_check_addr_port(srv, None, val)
        return warn or ""
    if sub == "addr":
        if not val:
            return "set server <b>/<s> addr requires an address and optionally a port.\n"
        port = _arg(args, 6) if _arg(args, 5) == "port" else None
        report = update_addr_port(srv, val, port)
        srv.clear_admin(RMAINT)
        return report
    if sub == "fqdn":
        if not val:
            return "set server <b>/<s> fqdn requires a FQDN.\n"
        return "set server <b>/<s> fqdn failed because no resolution is configured.\n"
    if sub == "ssl":
        return "server ssl setting not supported.\n"
    return SET_SERVER_USAGE


@command("get weight", "get weight <bk>/<srv>", "report a server's current weight", USER)
def _get_weight(ctx: Context, args: list[str], payload: str | None) -> str:
    be_name, srv_name = _split_be_srv(_arg(args, 2))
    if not srv_name:
        return "Require 'backend/server'.\n"
    be = find_backend(ctx.process, be_name)
    if be is None:
        return "No such backend.\n"
    srv = find_server(be, srv_name)
    if srv is None:
        return "No such server.\n"
    return f"{srv.uweight} (initial {srv.iweight})\n"


@command("set weight", "set weight <bk>/<srv>  (DEPRECATED)", "change a server's weight (use 'set server' instead)", ADMIN)
def _set_weight(ctx: Context, args: list[str], payload: str | None) -> str:
    srv, err = cli_find_server(ctx, _arg(args, 2))
    if err:
        return err
    return parse_weight_change(srv, _arg(args, 3)) or ""


@command("disable server", "disable server (DEPRECATED)", "disable a server for maintenance (use 'set server' instead)", ADMIN)
def _disable_server(ctx: Context, args: list[str], payload: str | None) -> str:
    srv, err = cli_find_server(ctx, _arg(args, 2))
    if err:
        return err
    set_maint(srv)
    return ""


@command("enable server", "enable server  (DEPRECATED)", "enable a disabled server (use 'set server' instead)", ADMIN)
def _enable_server(ctx: Context, args: list[str], payload: str | None) -> str:
    srv, err = cli_find_server(ctx, _arg(args, 2))
    if err:
        return err
    set_ready(srv)
    return ""


@command("disable health", "disable health", "disable health checks", ADMIN)
def _disable_health(ctx: Context, args: list[str], payload: str | None) -> str:
    srv, err = cli_find_server(ctx, _arg(args, 2))
    if err:
        return err
    if srv.check is not None:
        srv.check.paused = True
    return ""


@command("enable health", "enable health", "enable health checks", ADMIN)
def _enable_health(ctx: Context, args: list[str], payload: str | None) -> str:
    srv, err = cli_find_server(ctx, _arg(args, 2))
    if err:
        return err
    if srv.check is None or not srv.check.configured:
        return "Health check was not configured on this server, cannot enable.\n"
    srv.check.paused = False
    return ""


@command("set maxconn server", "set maxconn server <bk>/<srv>", "change a server's maxconn setting", ADMIN)
def _set_maxconn_server(ctx: Context, args: list[str], payload: str | None) -> str:
    srv, err = cli_find_server(ctx, _arg(args, 3))
    if err:
        return err
    text = _arg(args, 4)
    if not text:
        return "Require <maxconn>.\n"
    got = strtol(text)
    if got is None:
        return "maxconn string empty or preceded by garbage"
    v, rest = got
    if rest:
        return "Trailing garbage in maxconn string"
    if srv.maxconn == srv.minconn:
        srv.minconn = v
    srv.maxconn = v
    srv.commit()  # the balancer sees the new limit and queued sessions get a chance
    return ""


# ------------------------------------------------------------------ frontends / process
def _resume_full(fe: Any) -> None:
    """Listeners held back by a limit accept again (they stop again if still full)."""
    for li in list(fe.listeners):
        if li.state == "FULL":
            fe.full_listeners.discard(li)
            li.resume()


@command("set maxconn frontend", "set maxconn frontend <frontend> <value>", "change a frontend's maxconn setting", ADMIN)
def _set_maxconn_frontend(ctx: Context, args: list[str], payload: str | None) -> str:
    fe, err = cli_find_frontend(ctx, _arg(args, 3))
    if err:
        return err
    text = _arg(args, 4)
    if not text:
        return "Integer value expected.\n"
    v = atoi(text)
    if v < 0:
        return "Value out of range.\n"
    fe.maxconn = v
    if fe.cur_conn < fe.maxconn:
        _resume_full(fe)
    return ""


@command("set maxconn global", "set maxconn global <value>", "change the per-process maxconn setting", ADMIN)
def _set_maxconn_global(ctx: Context, args: list[str], payload: str | None) -> str:
    text = _arg(args, 3)
    if not text:
        return "Expects an integer value.\n"
    proc = ctx.process
    v = atoi(text)
    if v > proc.hard_maxconn:
        return "Value out of range.\n"
    if v <= 0:
        v = proc.hard_maxconn
    proc.maxconn = v
    if proc.actconn < proc.maxconn:
        for fe in list(proc.full_frontends):
            proc.full_frontends.discard(fe)
            _resume_full(fe)
    return ""


_RATE_LIMIT_USAGE = (
    "'set rate-limit' only supports :\n"
    "   - 'connections global' to set the per-process maximum connection rate\n"
    "   - 'sessions global' to set the per-process maximum session rate\n"
    "   - 'http-compression global' to set the per-process maximum compression speed in kB/s\n"
)


@command("set rate-limit", "set rate-limit <setting> <value>", "change a rate limiting value", ADMIN)
def _set_rate_limit(ctx: Context, args: list[str], payload: str | None) -> str:
    """HAProxy's cli_parse_set_ratelimit (gproxy has no SSL: no 'ssl-sessions'; the
    compression rate is accepted and has nothing to limit)."""
    what, scope = _arg(args, 2), _arg(args, 3)
    if scope != "global" or what not in ("connections", "sessions", "http-compression"):
        return _RATE_LIMIT_USAGE
    text = _arg(args, 4)
    if not text:
        return "Expects an integer value.\n"
    v = atoi(text)
    if v < 0:
        return "Value out of range.\n"
    proc = ctx.process
    if what == "connections":
        proc.cps_lim = v
    elif what == "sessions":
        proc.sps_lim = v
    # dequeue_all_listeners(): limited listeners try again (and wait again if still limited)
    for fe in proc.frontends:
        for li in fe.listeners:
            if li.state == "LIMITED":
                li.resume()
    return ""


def _li_ready(fe: Any) -> bool:
    return any(li.sock is not None and not li.paused for li in fe.listeners)


@command("disable frontend", "disable frontend <frontend>", "temporarily disable specific frontend", ADMIN)
def _disable_frontend(ctx: Context, args: list[str], payload: str | None) -> str:
    fe, err = cli_find_frontend(ctx, _arg(args, 2))
    if err:
        return err
    if fe.disabled or fe.stopping:
        return "Frontend was previously shut down, cannot disable.\n"
    if not _li_ready(fe):
        return "All sockets are already disabled.\n"
    fe.pause()
    if _li_ready(fe):
        return "Failed to pause frontend, check logs for precise cause.\n"
    return ""


@command("enable frontend", "enable frontend <frontend>", "re-enable specific frontend", ADMIN)
def _enable_frontend(ctx: Context, args: list[str], payload: str | None) -> str:
    fe, err = cli_find_frontend(ctx, _arg(args, 2))
    if err:
        return err
    if fe.disabled or fe.stopping:
        return "Frontend was previously shut down, cannot enable.\n"
    if not any(li.paused for li in fe.listeners):
        return "All sockets are already enabled.\n"
    fe.resume()
    if any(li.paused for li in fe.listeners):
        return "Failed to resume frontend, check logs for precise cause (port conflict?).\n"
    return ""


@command("shutdown frontend", "shutdown frontend <frontend>", "stop a specific frontend", ADMIN)
def _shutdown_frontend(ctx: Context, args: list[str], payload: str | None) -> str:
    fe, err = cli_find_frontend(ctx, _arg(args, 2))
    if err:
        return err
    if fe.disabled or fe.stopping:
        return "Frontend was already shut down.\n"
    fe.stop()
    return ""


# ------------------------------------------------------------------ clear counters
_FE_COUNTERS = ("max_conn", "cum_conn", "cum_sess", "cum_req", "bytes_in", "bytes_out", "denied_conn", "denied_req",
                "denied_resp", "denied_sess", "failed_req", "intercepted", "failed_rewrites", "internal_errors")
_BE_COUNTERS = ("max_sess", "cum_sess", "cum_lbconn", "cum_req", "bytes_in", "bytes_out", "denied_req", "denied_resp",
                "failed_conns", "failed_resp", "retries_count", "redispatches", "max_queue", "cli_aborts", "srv_aborts",
                "connect_attempts", "reuses", "failed_rewrites", "internal_errors", "last_sess")
_SRV_COUNTERS = ("max_sess", "cum_sess", "cum_lbconn", "cum_req", "bytes_in", "bytes_out", "failed_conns", "failed_resp",
                 "retries", "redispatches", "cli_aborts", "srv_aborts", "down_trans", "max_queue", "last_sess",
                 "connect_attempts", "reuses", "failed_rewrites", "internal_errors", "denied_resp")
_LI_COUNTERS = ("max_conn", "cum_conn", "bytes_in", "bytes_out", "denied_conn")


def _zero(obj: Any, names: tuple[str, ...]) -> None:
    for n in names:
        if hasattr(obj, n):
            setattr(obj, n, 0.0 if n == "last_sess" else 0)
    hrsp = getattr(obj, "hrsp", None)
    if hrsp is not None:
        hrsp[:] = [0] * len(hrsp)


def _clear_max_rates(obj: Any, names: tuple[str, ...]) -> None:
    for n in names:
        fc = getattr(obj, n, None)
        if fc is not None:
            fc.clear_max()


def _clear_timings(obj: Any, all_: bool) -> None:
    t = getattr(obj, "timings", None)
    if t is None:
        return
    for avg in (t.q, t.c, t.r, t.t):
        avg.max = 0
        if all_:
            avg.sum = 0.0
    if all_:
        t.samples = 0


def clear_counters(process: Any, all_: bool) -> None:
    """``clear counters``: the maxima; ``clear counters all``: every counter (not the
    current values: sessions, queues, rates over the last second, states)."""
    _clear_max_rates(process, ("conn_rate", "sess_rate"))  # MaxConnRate, MaxSessRate
    for fe in process.frontends:
        _clear_max_rates(fe, ("conn_rate", "sess_rate", "req_rate"))
        if all_:
            _zero(fe, _FE_COUNTERS)
        else:
            fe.max_conn = 0
        for li in fe.listeners:
            if all_:
                _zero(li, _LI_COUNTERS)
            else:
                li.max_conn = 0
    for be in process.backends:
        _clear_max_rates(be, ("sess_rate",))
        _clear_timings(be, all_)
        if all_:
            _zero(be, _BE_COUNTERS)
        else:
            be.max_sess = 0
            be.max_queue = 0
        for srv in be.servers:
            _clear_max_rates(srv, ("sess_rate",))
            _clear_timings(srv, all_)
            if all_:
                _zero(srv, _SRV_COUNTERS)
                if srv.check is not None:
                    srv.check.failed_checks = 0
            else:
                srv.max_sess = 0
                srv.max_queue = 0


@command("clear counters", "clear counters [all]", "clear max statistics counters (or all counters)", OPERATOR)
def _clear_counters(ctx: Context, args: list[str], payload: str | None) -> str:
    all_ = _arg(args, 2) == "all"
    if all_ and not ctx.has_level(ADMIN):
        return PERMISSION_DENIED
    clear_counters(ctx.process, all_)
    return ""


# ------------------------------------------------------------------ stick tables
#: data filters a ``show``/``clear table`` accepts (STKTABLE_FILTER_LEN)
STKTABLE_FILTER_LEN = 4
#: get_std_op()'s operators
STD_OPS = ("eq", "ne", "le", "ge", "lt", "gt")
#: data types HAProxy 2.6 knows that gproxy's tables never store (the 2.5 arrays);
#: ``server_name`` is its old spelling of ``server_key``
_ARRAY_DATA_TYPES = ("gpt", "gpc", "gpc_rate")
#: how a value set from the CLI is stored (std_type): bits and signedness
_SINT32, _UINT32, _ULL = (32, True), (32, False), (64, False)
_STORE_WIDTH = {"server_id": _SINT32, "bytes_in_cnt": _ULL, "bytes_out_cnt": _ULL}
KEYED_TYPES = ("ip", "ipv6", "integer", "string")
_KEY_VERB = {"show": "Showing keys from", "clear": "Removing keys from", "set": "Inserting keys into"}
_ERR_ARGS = {
    "show": "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n",
    "clear": "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>\n",
    "set": "Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n",
}


def strl2llrc(text: str) -> int | None:
    """strl2llrc(): an optional ``-`` then decimal digits only, within a long long (a
    lone ``-`` reads as 0); None otherwise."""
    neg = text[:1] == "-"
    digits = text[1:] if neg else text
    if not text or (digits and not (digits.isascii() and digits.isdigit())):
        return None
    v = int(digits) if digits else 0
    if neg:
        v = -v
    if not -(1 << 63) <= v < (1 << 63):
        return None
    return v


def inetaddr_host(text: str) -> int:
    """inetaddr_host(): HAProxy's lax dotted-quad reader for ``ip`` table keys.  Up to
    four dot-separated groups, each worth its last three digits (``300`` carries into
    the byte above, the result wraps at 32 bits); whatever is missing or not a digit
    reads as 0, so ``abc`` is 0.0.0.0 and ``1.2.3`` is 1.2.3.0."""
    v = 0
    shift = 24
    i, n = 0, len(text)
    while True:
        j = i
        while j < n and text[j] in "0123456789":
            j += 1
        group = text[max(i, j - 3):j]
        if group:
            v += int(group) << shift
        if not shift or j >= n or text[j] != ".":
            break
        shift -= 8
        i = j + 1
    return v & 0xFFFFFFFF


def _strtoul_u32(text: str) -> int | None:
    """strtoul(text, &end, 10) as table_process_entry_per_key() checks it: leading
    blanks, a sign, digits (trailing text ignored); None when no digit was read or the
    value does not fit 32 bits (``-1`` wraps to ULONG_MAX, so it does not)."""
    s = text.lstrip(" \t\n\r\f\v")
    neg = s[:1] == "-"
    if s[:1] in ("+", "-"):
        s = s[1:]
    j = 0
    while j < len(s) and s[j] in "0123456789":
        j += 1
    if not j:
        return None
    v = int(s[:j])
    if neg and v:
        return None  # ULONG_MAX + 1 - v > 0xffffffff
    return v if v <= 0xFFFFFFFF else None


def cli_table_key(table: Any, text: str) -> tuple[Any, str | None]:
    """The key an operator typed, as the table stores it, or an error text."""
    t = table.type
    if t == "ip":
        return ipaddress.IPv4Address(inetaddr_host(text)), None
    if t == "ipv6":
        import _socket

        try:
            return ipaddress.IPv6Address(_socket.inet_pton(_socket.AF_INET6, text)), None
        except (OSError, ValueError):
            return None, "Invalid key\n"
    if t == "integer":
        v = _strtoul_u32(text)
        if v is None:
            return None, "Invalid key\n"
        return v, None
    # string: the bytes typed, cut to the key length (stksess_setkey)
    return text.encode("utf-8", "surrogateescape")[: table.key_len], None


def _tree_key(table: Any) -> Callable[[Any], Any]:
    """The order of HAProxy's key tree, which ``show table`` walks: memcmp() of the
    stored key (addresses in network order, integers in the host's little-endian
    order, strings by strcmp())."""
    if table.type in ("ip", "ipv6"):
        return int
    if table.type == "integer":
        return lambda k: int(k).to_bytes(4, "little")
    return lambda k: k


def sorted_entries(table: Any) -> list[Any]:
    """The table's live entries in HAProxy's dump order."""
    table.purge_expired()
    order = _tree_key(table)
    return sorted(table.entries.values(), key=lambda e: order(e.key))


def _data_value(table: Any, entry: Any, dt: str) -> int:
    """The long long a data filter compares (a rate read now; server_key reads 0)."""
    v = entry.get(dt)
    return v if isinstance(v, int) else 0


def _filter_match(table: Any, entry: Any, filters: list[tuple[str, str, int]]) -> bool:
    for dt, op, value in filters:
        data = _data_value(table, entry, dt)
        if data < value:
            ok = op in ("ne", "le", "lt")
        elif data == value:
            ok = op in ("eq", "le", "ge")
        else:
            ok = op in ("ne", "ge", "gt")
        if not ok:
            return False
    return True


def _data_type_known(name: str) -> bool:
    from ..sticktable import DATA_TYPES

    return name in DATA_TYPES or name in _ARRAY_DATA_TYPES


def _data_type_name(name: str) -> str:
    return "server_key" if name == "server_name" else name


def _parse_filters(table: Any, args: list[str]) -> tuple[list[tuple[str, str, int]], str | None]:
    """table_prepare_data_request(): up to four ``data.<type> <op> <value>`` triplets
    from args[3]; the words of the second and later ones are only read from their sixth
    character, as HAProxy does."""
    filters: list[tuple[str, str, int]] = []
    i = 0
    while i < STKTABLE_FILTER_LEN:
        word = _arg(args, 3 + 3 * i)
        if i > 0 and not word:
            break
        n = i + 1
        dt = _data_type_name(word[5:]) if len(word) >= 5 else ""
        if not dt or not _data_type_known(dt):
            return [], f"Filter entry #{n}: Unknown data type\n"
        if dt not in table.data_types:
            return [], f"Filter entry #{n}: Data type not stored in this table\n"
        op = _arg(args, 4 + 3 * i)
        if op not in STD_OPS:
            return [], (f"Filter entry #{n}: Require and operator among \"eq\", \"ne\", \"le\", \"ge\", "
                        "\"lt\", \"gt\"\n")
        text = _arg(args, 5 + 3 * i)
        value = strl2llrc(text) if text else None
        if value is None:
            return [], f"Filter entry #{n}: Require a valid integer value to compare against\n"
        filters.append((dt, op, value))
        i += 1
    if _arg(args, 3 + 3 * i):
        return [], f"Detected extra data in filter, {3 + 3 * i + 1}th word of input, after '{_arg(args, 2 + 3 * i)}'\n"
    return filters, None


def _store(table: Any, entry: Any, dt: str, value: int) -> None:
    """``set table ... data.<type> <value>``: the value as the type stores it (C integer
    truncation); a rate gets it as its current period's count, with no previous period,
    so it reads steady for one period then fades out."""
    from ..sticktable import DATA_TYPES, FreqCtrPeriod

    kind = DATA_TYPES.get(dt)
    if kind is None or kind == "str":
        return  # the 2.5 arrays are never stored here; server_key is not an integer
    if kind == "rate":
        fc = entry.data.get(dt)
        if not isinstance(fc, FreqCtrPeriod):
            fc = FreqCtrPeriod(table.data_types.get(dt, 0))
            entry.data[dt] = fc
        fc.start = time.monotonic()
        fc.prev = 0
        fc.curr = value & 0xFFFFFFFF
        return
    bits, signed = _STORE_WIDTH.get(dt, _UINT32)
    v = value & ((1 << bits) - 1)
    if signed and v >= 1 << (bits - 1):
        v -= 1 << bits
    entry.data[dt] = v


def _entry_line(table: Any, entry: Any) -> str:
    return table.dump_entry(entry, id(entry)) + "\n"


def _table_per_key(ctx: Context, table: Any, action: str, args: list[str]) -> str:
    """table_process_entry_per_key(): ``<action> table <t> key <k> ...``."""
    text = _arg(args, 4)
    if not text:
        return "Key value expected\n"
    if table.type not in KEYED_TYPES:
        return f"{_KEY_VERB[action]} tables of type other than ip, ipv6, string and integer is not supported\n"
    key, err = cli_table_key(table, text)
    if err:
        return err
    if not ctx.has_level(OPERATOR):
        return PERMISSION_DENIED
    if action == "show":
        e = table.lookup(key)
        if e is None:
            return ""
        return table.header() + "\n" + _entry_line(table, e)
    if action == "clear":
        e = table.lookup(key)
        if e is None:
            return ""
        if not table.remove(key):
            return "Entry currently in use, cannot remove\n"
        return ""
    e = table.get_or_create(key)
    if e is None:
        return "Unable to allocate a new entry\n"
    try:
        i = 5
        while _arg(args, i):
            word = args[i]
            if not word.startswith("data."):
                return "\"data.<type>\" followed by a value expected\n"
            dt = _data_type_name(word[5:])
            if not _data_type_known(dt):
                return "Unknown data type\n"
            if dt not in table.data_types:
                return "Data type not stored in this table\n"
            vtext = _arg(args, i + 1)
            value = strl2llrc(vtext) if vtext else None
            if value is None:
                return "Require a valid integer value to store\n"
            _store(table, e, dt, value)
            i += 2
    finally:
        table.touch(e)
    return ""


def _table_walk(ctx: Context, tables: list[Any], target: Any, action: str,
                filters: list[tuple[str, str, int]]) -> str:
    """cli_io_handler_table(): the heads (``show``), then, for a named table and a
    socket bound at operator level or above, its entries: dumped (``show``) or, for the
    other actions, removed when they match and nobody uses them."""
    out: list[str] = []
    show = action == "show"
    may_dump = ctx.bind_level >= OPERATOR
    for t in tables:
        if not t.size:
            continue
        if show:
            out.append(t.header() + "\n")
            if target is not None and not may_dump:
                out.append("# contents not dumped due to insufficient privileges\n")
        if target is None or not may_dump:
            continue
        entries = sorted_entries(t)
        for i, e in enumerate(entries):
            if filters and not _filter_match(t, e, filters):
                continue
            if show:
                out.append(_entry_line(t, e))
            # HAProxy 2.6 (and later) tests the *next* entry's reference count before
            # killing this one, so an entry followed by one in use stays
            elif not e.use and (i + 1 == len(entries) or not entries[i + 1].use):
                t.remove(e.key)
    return "".join(out)


def table_request(ctx: Context, action: str, args: list[str]) -> str:
    """cli_parse_table_req() and what follows, for ``show``/``clear``/``set table``."""
    tables = getattr(ctx.process, "stick_tables", None) or {}
    name = _arg(args, 2)
    if not name:
        if action != "show":
            return _ERR_ARGS[action]
        return _table_walk(ctx, list(reversed(list(tables.values()))), None, action, [])
    table = tables.get(name)
    if table is None:
        return "No such table\n"
    sub = _arg(args, 3)
    if sub == "key":
        return _table_per_key(ctx, table, action, args)
    if sub.startswith("data."):
        if action not in ("show", "clear"):
            return "content-based lookup is only supported with the \"show\" and \"clear\" actions\n"
        filters, err = _parse_filters(table, args)
        if err:
            return err
        return _table_walk(ctx, [table], table, action, filters)
    if sub:
        return _ERR_ARGS[action]
    # no filter: ``show`` dumps, ``clear`` and (as HAProxy 2.6 does) ``set`` empty the table
    return _table_walk(ctx, [table], table, action, [])


@command("clear table", "clear table <table> [<filter>]*",
         "remove an entry from a table (filter: data/key)", USER)
def _clear_table(ctx: Context, args: list[str], payload: str | None) -> str:
    return table_request(ctx, "clear", args)


@command("set table", "set table <table> key <k> [data.* <v>]*",
         "update or create a table entry's data", USER)
def _set_table(ctx: Context, args: list[str], payload: str | None) -> str:
    return table_request(ctx, "set", args)


@command("show table", "show table <table> [<filter>]*",
         "report table usage stats or dump this table's contents (filter: data/key)", USER)
def _show_table(ctx: Context, args: list[str], payload: str | None) -> str:
    return table_request(ctx, "show", args)
