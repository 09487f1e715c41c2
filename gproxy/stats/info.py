"""``show info``: HAProxy 2.6's process information fields, once.

Owns the field table (``info_fields[]`` of ``src/stats.c`` in the order and with the
positions the Debian 2.6.12 binary prints: positions 67-71 were appended after
``Build info``), each field's description, typed-form tags and the getter computing it
from the ``Process``, plus the three renderings (``Name: value`` lines, typed, JSON).

As HAProxy, a field without a value is not printed at all (HAProxy omits e.g. the SSL
fields in a build without OpenSSL, ``ZlibMemUsage`` without zlib, ``description`` when
unset).  gproxy omits the fields it cannot compute honestly: ``Release_date``, the memory
pool fields, the SSL fields (gproxy has no TLS layer), ``ZlibMemUsage``/``MaxZlibMemUsage``, ``Tasks``,
``Run_queue``, ``Idle_pct`` and the process-wide byte counters.  Fields whose honest
value is a constant of gproxy's design are printed (no pipes, no peers, no compression,
no memory limit, one thread, no log forwarding).

Pure apart from reading the clock and ``os.getpid()``: no socket I/O.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .. import __version__
from .columns import NATURES, ORIGINS, SCOPES


@dataclass(frozen=True)
class InfoField:
    """One ``show info`` line: position, name, description, typed tags and getter."""

    pos: int
    name: str
    desc: str
    origin: str
    nature: str
    scope: str
    type: str
    get: Callable[[Any], Any] | None = None  # process -> value; None / returning None: not printed

    def tags(self) -> str:
        return ORIGINS[self.origin] + NATURES[self.nature] + SCOPES[self.scope]


def _uptime_sec(p: Any) -> int:
    return max(0, int(time.time() - p.start_time))


def _uptime(p: Any) -> str:
    up = _uptime_sec(p)
    return f"{up // 86400}d {(up % 86400) // 3600}h{(up % 3600) // 60:02d}m{up % 60:02d}s"


def _sum(seq_attr: str, fn: Callable[[Any], int]) -> Callable[[Any], int]:
    return lambda p: sum(fn(o) for o in getattr(p, seq_attr, ()))


def _listeners(p: Any) -> int:
    n = sum(1 for li in getattr(p, "listeners", ()) if li.sock is not None)
    admin = getattr(p, "admin", None)
    return n + (admin.listener_count() if admin is not None else 0)


def _jobs(p: Any) -> int:
    admin = getattr(p, "admin", None)
    return _listeners(p) + p.actconn + (admin.active_count() if admin is not None else 0)


def _dropped_logs(p: Any) -> int:
    from .. import log

    return log.STATS.dropped


def _node(p: Any) -> str:
    return p.model.glob.node or socket.gethostname()


def _description(p: Any) -> str | None:
    return p.model.glob.description or None


def _const(v: Any) -> Callable[[Any], Any]:
    return lambda p: v


_F = InfoField
#: every field of HAProxy 2.6.12's ``show info``, in position order
FIELDS: tuple[InfoField, ...] = (
    _F(0, "Name", "Product name", "product", "output", "service", "str", _const("gproxy")),
    _F(1, "Version", "Product version", "product", "output", "service", "str", _const(__version__)),
    _F(2, "Release_date", "Date of latest source code update", "product", "output", "service", "str"),
    _F(3, "Nbthread", "Number of started threads (global.nbthread)", "config", "gauge", "service", "u32", _const(1)),
    _F(4, "Nbproc", "Number of started worker processes (historical, always 1)", "config", "gauge", "service", "u32",
       _const(1)),
    _F(5, "Process_num", "Relative worker process number (1)", "key", "gauge", "process", "u32", _const(1)),
    _F(6, "Pid", "This worker process identifier for the system", "status", "gauge", "process", "u32",
       lambda p: os.getpid()),
    _F(7, "Uptime", "How long ago this worker process was started (days+hours+minutes+seconds)", "metric",
       "duration", "process", "str", _uptime),
    _F(8, "Uptime_sec", "How long ago this worker process was started (seconds)", "metric", "duration", "process",
       "u32", _uptime_sec),
    _F(9, "Memmax_MB", "Worker process's hard limit on memory usage in MB (-m on command line)", "config", "limit",
       "process", "u32", _const(0)),
    _F(10, "PoolAlloc_MB", "Amount of memory allocated in pools (in MB)", "metric", "gauge", "process", "u32"),
    _F(11, "PoolUsed_MB", "Amount of pool memory currently used (in MB)", "metric", "gauge", "process", "u32"),
    _F(12, "PoolFailed", "Number of failed pool allocations since this worker was started", "metric", "counter",
       "process", "u32"),
    _F(13, "Ulimit-n", "Hard limit on the number of per-process file descriptors", "config", "limit", "process",
       "u32", lambda p: p.nofile),
    _F(14, "Maxsock", "Hard limit on the number of per-process sockets", "config", "limit", "process", "u32",
       lambda p: p.nofile),
    _F(15, "Maxconn", "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)",
       "config", "limit", "process", "u32", lambda p: p.maxconn),
    _F(16, "Hard_maxconn", "Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)",
       "config", "limit", "process", "u32", lambda p: p.hard_maxconn),
    _F(17, "CurrConns", "Current number of connections on this worker process", "metric", "gauge", "process", "u32",
       lambda p: p.actconn),
    _F(18, "CumConns", "Total number of connections on this worker process since started", "metric", "counter",
       "process", "u32", lambda p: p.cum_conn),
    _F(19, "CumReq", "Total number of requests on this worker process since started", "metric", "counter",
       "process", "u32", _sum("frontends", lambda fe: fe.cum_req)),
    _F(20, "MaxSslConns", "Hard limit on the number of per-process SSL endpoints (front+back), 0=unlimited",
       "metric", "max", "process", "u32"),
    _F(21, "CurrSslConns", "Current number of SSL endpoints on this worker process (front+back)", "metric", "gauge",
       "process", "u32"),
    _F(22, "CumSslConns", "Total number of SSL endpoints on this worker process since started (front+back)",
       "metric", "counter", "process", "u32"),
    _F(23, "Maxpipes", "Hard limit on the number of pipes for splicing, 0=unlimited", "config", "limit", "process",
       "u32", _const(0)),
    _F(24, "PipesUsed", "Current number of pipes in use in this worker process", "metric", "gauge", "process",
       "u32", _const(0)),
    _F(25, "PipesFree", "Current number of allocated and available pipes in this worker process", "metric", "gauge",
       "process", "u32", _const(0)),
    _F(26, "ConnRate", "Number of front connections created on this worker process over the last second", "metric",
       "rate", "process", "u32", lambda p: p.conn_rate.rate()),
    _F(27, "ConnRateLimit", "Hard limit for ConnRate (global.maxconnrate)", "config", "limit", "process", "u32",
       lambda p: getattr(p, "cps_lim", 0)),
    _F(28, "MaxConnRate", "Highest ConnRate reached on this worker process since started (in connections per second)",
       "metric", "max", "process", "u32", lambda p: p.conn_rate.max),
    _F(29, "SessRate", "Number of sessions created on this worker process over the last second", "metric", "rate",
       "process", "u32", lambda p: p.sess_rate.rate()),
    _F(30, "SessRateLimit", "Hard limit for SessRate (global.maxsessrate)", "config", "limit", "process", "u32",
       lambda p: getattr(p, "sps_lim", 0)),
    _F(31, "MaxSessRate", "Highest SessRate reached on this worker process since started (in sessions per second)",
       "metric", "rate", "process", "u32", lambda p: p.sess_rate.max),
    _F(32, "SslRate", "Number of SSL connections created on this worker process over the last second", "metric",
       "rate", "process", "u32"),
    _F(33, "SslRateLimit", "Hard limit for SslRate (global.maxsslrate)", "config", "limit", "process", "u32"),
    _F(34, "MaxSslRate", "Highest SslRate reached on this worker process since started (in connections per second)",
       "metric", "max", "process", "u32"),
    _F(35, "SslFrontendKeyRate", "Number of SSL keys created on frontends in this worker process over the last second",
       "metric", "gauge", "process", "u32"),
    _F(36, "SslFrontendMaxKeyRate", "Highest SslFrontendKeyRate reached on this worker process since started (in SSL keys per second)",
       "metric", "max", "process", "u32"),
    _F(37, "SslFrontendSessionReuse_pct", "Percent of frontend SSL connections which did not require a new key",
       "metric", "gauge", "process", "u32"),
    _F(38, "SslBackendKeyRate", "Number of SSL keys created on backends in this worker process over the last second",
       "metric", "rate", "process", "u32"),
    _F(39, "SslBackendMaxKeyRate", "Highest SslBackendKeyRate reached on this worker process since started (in SSL keys per second)",
       "metric", "max", "process", "u32"),
    _F(40, "SslCacheLookups", "Total number of SSL session ID lookups in the SSL session cache on this worker since started",
       "metric", "counter", "process", "u32"),
    _F(41, "SslCacheMisses", "Total number of SSL session ID lookups that didn't find a session in the SSL session cache on this worker since started",
       "metric", "counter", "process", "u32"),
    _F(42, "CompressBpsIn", "Number of bytes submitted to the HTTP compressor in this worker process over the last second",
       "metric", "rate", "process", "u32", _const(0)),
    _F(43, "CompressBpsOut", "Number of bytes emitted by the HTTP compressor in this worker process over the last second",
       "metric", "rate", "process", "u32", _const(0)),
    _F(44, "CompressBpsRateLim", "Limit of CompressBpsOut beyond which HTTP compression is automatically disabled",
       "config", "limit", "process", "u32", _const(0)),
    _F(45, "ZlibMemUsage", "Amount of memory currently used by HTTP compression on the current worker process (in bytes)",
       "metric", "gauge", "process", "u32"),
    _F(46, "MaxZlibMemUsage", "Limit on the amount of memory used by HTTP compression above which it is automatically disabled (in bytes, see global.maxzlibmem)",
       "config", "limit", "process", "u32"),
    _F(47, "Tasks", "Total number of tasks in the current worker process (active + sleeping)", "metric", "gauge",
       "process", "u32"),
    _F(48, "Run_queue", "Total number of active tasks+tasklets in the current worker process", "metric", "gauge",
       "process", "u32"),
    _F(49, "Idle_pct", "Percentage of last second spent waiting in the current worker thread", "metric", "avg",
       "process", "u32"),
    _F(50, "node", "Node name (global.node)", "config", "output", "service", "str", _node),
    _F(51, "description", "Node description (global.description)", "config", "output", "service", "str",
       _description),
    _F(52, "Stopping", "1 if the worker process is currently stopping, otherwise zero", "metric", "gauge", "process",
       "u32", lambda p: 1 if p.stopping else 0),
    _F(53, "Jobs", "Current number of active jobs on the current worker process (frontend connections, master connections, listeners)",
       "metric", "gauge", "process", "u32", _jobs),
    _F(54, "Unstoppable Jobs", "Current number of unstoppable jobs on the current worker process (master connections)",
       "metric", "gauge", "process", "u32", _const(0)),
    _F(55, "Listeners", "Current number of active listeners on the current worker process", "metric", "gauge",
       "process", "u32", _listeners),
    _F(56, "ActivePeers", "Current number of verified active peers connections on the current worker process",
       "metric", "gauge", "process", "u32", _const(0)),
    _F(57, "ConnectedPeers", "Current number of peers having passed the connection step on the current worker process",
       "metric", "gauge", "process", "u32", _const(0)),
    _F(58, "DroppedLogs", "Total number of dropped logs for current worker process since started", "metric", "gauge",
       "process", "u32", _dropped_logs),
    _F(59, "BusyPolling", "1 if busy-polling is currently in use on the worker process, otherwise zero (config.busy-polling)",
       "metric", "gauge", "process", "u32", _const(0)),
    _F(60, "FailedResolutions", "Total number of failed DNS resolutions in current worker process since started",
       "metric", "gauge", "process", "u32", _const(0)),
    _F(61, "TotalBytesOut", "Total number of bytes emitted by current worker process since started", "metric",
       "gauge", "process", "u64"),
    _F(62, "TotalSplicdedBytesOut", "Total number of bytes emitted by current worker process through a kernel pipe since started",
       "metric", "gauge", "process", "u64"),
    _F(63, "BytesOutRate", "Number of bytes emitted by current worker process over the last second", "metric", "rate",
       "process", "u64"),
    _F(64, "DebugCommandsIssued", "Number of debug commands issued on this process (anything > 0 is unsafe)", "metric",
       "gauge", "process", "u32", _const(0)),
    _F(65, "CumRecvLogs", "Total number of log messages received by log-forwarding listeners on this worker process since started",
       "metric", "counter", "process", "u32", _const(0)),
    _F(66, "Build info", "Build info", "product", "output", "service", "str", _const(__version__)),
    _F(67, "Memmax_bytes", "Worker process's hard limit on memory usage in byes (-m on command line)", "config",
       "limit", "process", "u32", _const(0)),
    _F(68, "PoolAlloc_bytes", "Amount of memory allocated in pools (in bytes)", "metric", "gauge", "process", "u64"),
    _F(69, "PoolUsed_bytes", "Amount of pool memory currently used (in bytes)", "metric", "gauge", "process", "u64"),
    _F(70, "Start_time_sec", "Start time in seconds", "metric", "duration", "process", "u32",
       lambda p: int(p.start_time)),
    _F(71, "Tainted", "Experimental features used", "status", "gauge", "process", "str", _const("0")),
)

BY_NAME: dict[str, InfoField] = {f.name: f for f in FIELDS}


def fields(process: Any) -> Iterator[tuple[InfoField, Any]]:
    """The printed fields with their values, in position order."""
    for f in FIELDS:
        if f.get is None:
            continue
        v = f.get(process)
        if v is not None:
            yield f, v


def values(process: Any) -> Iterator[tuple[str, Any]]:
    """``(name, value)`` of every printed field (for the Prometheus exporter)."""
    for f, v in fields(process):
        yield f.name, v


def _csv(v: Any) -> str:
    if isinstance(v, str):
        if any(c in v for c in '\n\r,"'):
            return '"' + v.replace('"', '""') + '"'
        return v
    return str(v)


#: fields ``show info float`` reports as floats (HAProxy's STAT_USE_FLOAT)
FLOAT_FIELDS: dict[str, Callable[[Any], float]] = {
    "Uptime_sec": lambda p: max(0.0, time.time() - p.start_time),
    "Start_time_sec": lambda p: float(p.start_time),
    "ConnRate": lambda p: float(p.conn_rate.rate()),
    "SessRate": lambda p: float(p.sess_rate.rate()),
    "CompressBpsIn": lambda p: 0.0,
    "CompressBpsOut": lambda p: 0.0,
}


def flt_text(v: float) -> str:
    """``%f`` then flt_trim(): trailing zeros and a trailing dot removed."""
    s = f"{v:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def fields_values(process: Any, use_float: bool = False) -> Iterator[tuple[InfoField, str, Any]]:
    """(field, type, value) of the printed fields; ``use_float`` as ``show info float``."""
    for f, v in fields(process):
        if use_float and f.name in FLOAT_FIELDS:
            yield f, "flt", FLOAT_FIELDS[f.name](process)
        else:
            yield f, f.type, v


def render(process: Any, fmt: str = "text", desc: bool = False, use_float: bool = False) -> str:
    """``show info [typed|json] [desc] [float]`` output (without the CLI's final empty line)."""
    out: list[str] = []
    if fmt == "json":
        parts = []
        for f, ftype, v in fields_values(process, use_float):
            parts.append(
                '{"field":{"pos":%d,"name":"%s"},"processNum":1,%s,%s}' % (  # noqa: UP031
                    f.pos, f.name, json_tags(f.origin, f.nature, f.scope), json_value(ftype, v))
            )
        return "[" + ",".join(parts) + "]\n"
    for f, ftype, v in fields_values(process, use_float):
        text = flt_text(v) if ftype == "flt" else v
        if fmt == "typed":
            line = f"{f.pos}.{f.name}.1:{f.tags()}:{ftype}:{text}"
        else:
            line = f"{f.name}: {_csv(text)}"
        if desc:
            line += f':"{f.desc}"'
        out.append(line + "\n")
    return "".join(out)


_JSON_ORIGIN = {"metric": "Metric", "status": "Status", "key": "Key", "config": "Config", "product": "Product"}
_JSON_NATURE = {
    "gauge": "Gauge", "limit": "Limit", "min": "Min", "max": "Max", "rate": "Rate", "counter": "Counter",
    "duration": "Duration", "age": "Age", "time": "Time", "name": "Name", "output": "Output", "avg": "Avg",
}
_JSON_SCOPE = {"process": "Process", "service": "Service", "system": "System", "cluster": "Cluster"}


def json_tags(origin: str, nature: str, scope: str) -> str:
    return '"tags":{"origin":"%s","nature":"%s","scope":"%s"}' % (  # noqa: UP031
        _JSON_ORIGIN[origin], _JSON_NATURE[nature], _JSON_SCOPE[scope])


def json_value(ftype: str, v: Any) -> str:
    if ftype == "flt":
        return '"value":{"type":"flt","value":%s}' % flt_text(v)  # noqa: UP031
    if ftype == "str":
        return '"value":{"type":"str","value":%s}' % json.dumps(str(v), ensure_ascii=False)  # noqa: UP031
    return '"value":{"type":"%s","value":%d}' % (ftype, int(v))  # noqa: UP031
