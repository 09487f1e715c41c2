"""Stick tables: HAProxy's ``stick-table`` store of keys and their data (src/stick_table.c).

Owns the table itself: its key type (``ip``, ``ipv6``, ``integer``, ``string``,
``binary``) and how a sample becomes a key, its size and ``expire`` (an entry expires
``expire`` after it was last touched; a full table drops its oldest entries, or refuses
new ones with ``nopurge``), the data types an entry stores (``server_id`` and
``server_key`` for persistence, counters, ``*_rate(<period>)`` frequency counters,
``gpt0``/``gpc0``/``gpc1``) and the text ``show table`` prints for a table and an entry.

The config keywords that declare tables and stick rules, and what a session does with
them, live with their callers (``stickrules``); this module never reads a session.

Pure module: no sockets, no gevent, never yields.  Times are ``time.monotonic()``
seconds unless a name says ms.
"""

from __future__ import annotations

import _socket
import ipaddress
import time
from collections import OrderedDict
from typing import Any

__all__ = [
    "DATA_TYPES",
    "KEY_TYPES",
    "Entry",
    "FreqCtrPeriod",
    "StickTable",
]

#: key types and their default key length in bytes (``len`` applies to string/binary)
KEY_TYPES = {"ip": 4, "ipv4": 4, "ipv6": 16, "integer": 4, "string": 32, "binary": 32}

#: data types in HAProxy's order (enum STKTABLE_DT_*), which ``show table`` follows;
#: the value is the kind: "sint" (counter or id), "rate" (needs a period), "str"
DATA_TYPES: dict[str, str] = {
    "server_id": "sint",
    "gpt0": "sint",
    "gpc0": "sint",
    "gpc0_rate": "rate",
    "conn_cnt": "sint",
    "conn_rate": "rate",
    "conn_cur": "sint",
    "sess_cnt": "sint",
    "sess_rate": "rate",
    "http_req_cnt": "sint",
    "http_req_rate": "rate",
    "http_err_cnt": "sint",
    "http_err_rate": "rate",
    "bytes_in_cnt": "sint",
    "bytes_in_rate": "rate",
    "bytes_out_cnt": "sint",
    "bytes_out_rate": "rate",
    "gpc1": "sint",
    "gpc1_rate": "rate",
    "server_key": "str",
    "http_fail_cnt": "sint",
    "http_fail_rate": "rate",
}
_ORDER = {name: i for i, name in enumerate(DATA_TYPES)}
#: dump_text()'s two-character escapes
_TEXT_ESC = {0x20: "\\ ", 0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x1B: "\\e", 0x5C: "\\\\", 0x3D: "\\="}


class FreqCtrPeriod:
    """Events over a sliding period (HAProxy's freq_ctr with a period): the current
    period's count plus the previous one's, weighted by how much of it is still inside
    the window."""

    __slots__ = ("curr", "period", "prev", "start")

    def __init__(self, period_ms: int) -> None:
        self.period = max(1, period_ms) / 1000.0
        self.start = time.monotonic()
        self.curr = 0
        self.prev = 0

    def _rotate(self, now: float) -> None:
        elapsed = now - self.start
        if elapsed >= self.period:
            periods = int(elapsed / self.period)
            self.prev = self.curr if periods == 1 else 0
            self.curr = 0
            self.start += periods * self.period

    def add(self, n: int = 1) -> None:
        self._rotate(time.monotonic())
        self.curr += n

    def read(self) -> int:
        now = time.monotonic()
        self._rotate(now)
        remain = self.period - (now - self.start)
        return self.curr + int(self.prev * remain / self.period)


class Entry:
    """One key of a table: its data (by data type name), its expiry and its users."""

    __slots__ = ("data", "exp", "key", "use")

    def __init__(self, key: Any, data: dict[str, Any]) -> None:
        self.key = key
        self.data = data
        self.exp = 0.0  # monotonic deadline; 0: never
        self.use = 0  # sessions tracking it (HAProxy's ref_cnt)

    def get(self, name: str) -> Any:
        """A data type's value as a number or text (a rate read now); None if not stored."""
        v = self.data.get(name)
        if isinstance(v, FreqCtrPeriod):
            return v.read()
        return v


class StickTable:
    """A table: key type, size, expire and stored data types, with its entries in
    least-recently-touched order."""

    def __init__(self, name: str, key_type: str, size: int, *, key_len: int = 0, expire_ms: int = 0,
                 nopurge: bool = False, peers: str = "", data: list[tuple[str, int]] | None = None,
                 srvkey: str = "name", file: str = "", line: int = 0) -> None:
        self.name = name
        self.type = "ip" if key_type == "ipv4" else key_type
        self.key_len = key_len or KEY_TYPES[key_type]
        self.size = size
        self.expire_ms = expire_ms
        self.nopurge = nopurge
        self.peers = peers
        self.srvkey = srvkey
        self.file = file
        self.line = line
        self.data_types: dict[str, int] = {}  # name -> period in ms (0 unless a rate)
        for dt, period in data or ():
            self.add_data_type(dt, period)
        self.entries: OrderedDict[Any, Entry] = OrderedDict()

    # ------------------------------------------------------------------ config
    def add_data_type(self, name: str, period_ms: int = 0) -> bool:
        """Store ``name`` in every entry; False if it was already stored."""
        if name in self.data_types:
            return False
        self.data_types[name] = period_ms
        self.data_types = dict(sorted(self.data_types.items(), key=lambda kv: _ORDER[kv[0]]))
        return True

    # ------------------------------------------------------------------ keys
    def key_of(self, v: Any) -> Any:
        """The key a sample value makes in this table (HAProxy's stktable_fetch_key and
        its casts), or None when the sample does not convert."""
        if v is None:
            return None
        t = self.type
        try:
            if t == "ip":
                if isinstance(v, ipaddress.IPv4Address):
                    return v
                if isinstance(v, ipaddress.IPv6Address):
                    return v.ipv4_mapped  # None unless ::ffff:a.b.c.d
                if isinstance(v, bool):
                    return None
                if isinstance(v, int):
                    return ipaddress.IPv4Address(v & 0xFFFFFFFF)
                if isinstance(v, str):
                    return ipaddress.IPv4Address(v.strip())
                return None
            if t == "ipv6":
                if isinstance(v, ipaddress.IPv6Address):
                    return v
                if isinstance(v, ipaddress.IPv4Address):
                    return ipaddress.IPv6Address("::ffff:" + str(v))
                if isinstance(v, str):
                    return ipaddress.IPv6Address(v.strip())
                return None
            if t == "integer":
                if isinstance(v, ipaddress.IPv4Address):
                    return int(v)
                if isinstance(v, (bool, int)):
                    return int(v) & 0xFFFFFFFF
                if isinstance(v, str):
                    return int(v.strip()) & 0xFFFFFFFF
                return None
        except ValueError:
            return None
        if t == "string":
            if isinstance(v, bytes):
                b = v
            elif isinstance(v, bool):
                b = str(int(v)).encode()
            else:
                b = str(v).encode("latin-1", "replace")
            return b[: self.key_len]
        # binary: the sample's bytes, cut or padded with zeros to the key length
        if isinstance(v, bytes):
            b = v
        elif isinstance(v, ipaddress.IPv4Address | ipaddress.IPv6Address):
            b = v.packed
        elif isinstance(v, bool):
            b = str(int(v)).encode()
        elif isinstance(v, int):
            b = v.to_bytes(8, "big", signed=True)
        else:
            b = str(v).encode("latin-1", "replace")
        return b[: self.key_len].ljust(self.key_len, b"\0")

    def parse_key(self, text: str) -> Any:
        """A key typed by an operator (``show table t key k``, ``clear table``); None if
        it does not read as this table's key type."""
        if self.type == "binary":
            try:
                return bytes.fromhex(text)[: self.key_len].ljust(self.key_len, b"\0")
            except ValueError:
                return None
        if self.type == "integer":
            try:
                return int(text) & 0xFFFFFFFF
            except ValueError:
                return None
        return self.key_of(text)

    def format_key(self, key: Any) -> str:
        """The key as ``show table`` prints it: strings through dump_text() (stops at a
        NUL; space, ``=``, ``\\`` and controls escaped, other bytes ``\\xHH``), binary
        keys in upper-case hex over the whole key length, integers unsigned."""
        if self.type == "string":
            out = []
            for c in key:
                if c == 0:
                    break
                if c in _TEXT_ESC:
                    out.append(_TEXT_ESC[c])
                elif 0x20 < c < 0x7F:
                    out.append(chr(c))
                else:
                    out.append(f"\\x{c:02X}")
            return "".join(out)
        if self.type == "binary":
            return key.hex().upper()
        if self.type == "ipv6":
            return _socket.inet_ntop(_socket.AF_INET6, key.packed)  # glibc's spelling (::ffff:1.2.3.4)
        return str(key)

    # ------------------------------------------------------------------ entries
    def _new_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, period in self.data_types.items():
            kind = DATA_TYPES[name]
            if kind == "rate":
                data[name] = FreqCtrPeriod(period)
            elif kind == "str":
                data[name] = None
            else:
                data[name] = 0
        return data

    def purge_expired(self, now: float | None = None) -> None:
        """Drop the entries whose expiry passed and that nobody tracks."""
        if not self.expire_ms or not self.entries:
            return
        now = time.monotonic() if now is None else now
        for key, e in list(self.entries.items()):
            if e.exp and e.exp <= now and not e.use:
                del self.entries[key]

    def lookup(self, key: Any) -> Entry | None:
        """The live entry for ``key`` (an expired one is dropped), or None."""
        e = self.entries.get(key)
        if e is None:
            return None
        if e.exp and e.exp <= time.monotonic() and not e.use:
            del self.entries[key]
            return None
        return e

    def get_or_create(self, key: Any) -> Entry | None:
        """The entry for ``key``, created if needed; None when the table is full and
        cannot make room (``nopurge``, or every entry in use)."""
        e = self.lookup(key)
        if e is not None:
            return e
        if len(self.entries) >= self.size:
            self.purge_expired()
        if len(self.entries) >= self.size:
            if self.nopurge:
                return None
            # stktable_trash_oldest(): the least recently touched entries nobody uses
            want = (self.size >> 8) + 1
            for k in [k for k, old in self.entries.items() if not old.use][:want]:
                del self.entries[k]
            if len(self.entries) >= self.size:
                return None
        e = Entry(key, self._new_data())
        self.entries[key] = e
        self.touch(e)
        return e

    def touch(self, e: Entry) -> None:
        """The entry was used: it moves to the young end and its expiry restarts."""
        if self.expire_ms:
            e.exp = time.monotonic() + self.expire_ms / 1000.0
        if e.key in self.entries:
            self.entries.move_to_end(e.key)

    def remove(self, key: Any) -> bool:
        """``clear table <t> key <k>``: drop the entry unless a session tracks it."""
        e = self.entries.get(key)
        if e is None or e.use:
            return False
        del self.entries[key]
        return True

    def clear(self) -> int:
        """``clear table <t>``: drop every entry nobody tracks; how many went."""
        gone = [k for k, e in self.entries.items() if not e.use]
        for k in gone:
            del self.entries[k]
        return len(gone)

    @property
    def used(self) -> int:
        self.purge_expired()
        return len(self.entries)

    # ------------------------------------------------------------------ show table
    def header(self) -> str:
        return f"# table: {self.name}, type: {self.type}, size:{self.size}, used:{self.used}"

    def dump_entry(self, e: Entry, ident: int) -> str:
        """One ``show table`` line: ``0x..: key=... use=0 exp=0 server_id=1 ...``."""
        now = time.monotonic()
        exp = max(0, int((e.exp - now) * 1000)) if e.exp else 0
        parts = [f"0x{ident:012x}: key={self.format_key(e.key)} use={e.use} exp={exp}"]
        for name, period in self.data_types.items():
            v = e.get(name)
            label = f"{name}({period})" if DATA_TYPES[name] == "rate" else name
            parts.append(f"{label}={'-' if v is None else v}")
        return " ".join(parts)
