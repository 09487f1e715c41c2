"""Typed values of configuration keywords, parsed as HAProxy 2.6 parses them.

Owns times (parse_time_err() in src/tools.c), sizes (parse_size_err()), strict and
C-style integers, ports and socket addresses (str2sa_range(), str2ip2(), env_expand(),
str2listener()).  Errors are :class:`BadValue` carrying HAProxy's wording for the
keyword the caller names.

No socket I/O.  The only I/O is name resolution, and only when a host name (not an IP
literal) is given and a resolver is used: ``bind`` resolves at parse time like HAProxy,
``server`` addresses do so only if the caller keeps the default resolver.  ``fd@N`` and
``sockpair@N`` are not inspected (HAProxy calls getsockname() on them; the caller must).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "Address",
    "BadValue",
    "c_atoi",
    "c_atol",
    "default_resolve",
    "env_expand",
    "parse_bind_addresses",
    "parse_int",
    "parse_port",
    "parse_server_address",
    "parse_size",
    "parse_time",
]

Resolver = Callable[[str], list[tuple[str, str]]]


class BadValue(ValueError):
    """An invalid keyword value; ``str(e)`` is HAProxy's message (no file:line prefix).

    ``kind`` tells what went wrong (``invalid``, ``overflow``, ``underflow``, ``empty``,
    ``range``, ``address``, ``resolve``, ``missing``); ``char`` is the offending
    character when HAProxy names one.
    """

    def __init__(self, message: str, *, kind: str = "invalid", char: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.char = char


# --------------------------------------------------------------------------- numbers

_U64 = (1 << 64) - 1
_DIGITS = "0123456789"
_DIGIT_CHARS = frozenset(_DIGITS)


def c_atol(text: str) -> int:
    """C ``atol()``: leading blanks, a sign, digits; anything else ends the number.

    Many HAProxy keywords (``maxconn``, ``weight``...) read integers this way, so
    ``maxconn 10x`` means 10 and ``maxconn abc`` means 0.  Clamped to the C long range.
    """
    i, n = 0, len(text)
    while i < n and text[i] in " \t\n\v\f\r":
        i += 1
    neg = False
    if i < n and text[i] in "+-":
        neg = text[i] == "-"
        i += 1
    j = i
    while j < n and text[j] in _DIGITS:
        j += 1
    value = int(text[i:j]) if j > i else 0
    value = -value if neg else value
    return max(-(1 << 63), min((1 << 63) - 1, value))


LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)


def read_int64(s: str) -> tuple[int, int]:
    """HAProxy's read_int64(): optional sign then digits, saturated to the C long long
    range; returns (value, characters used)."""
    i, n = 0, len(s)
    neg = False
    if i < n and s[i] in "+-":
        neg = s[i] == "-"
        i += 1
    v = 0
    while i < n and "0" <= s[i] <= "9":
        v = v * 10 + ord(s[i]) - 48
        i += 1
    v = -v if neg else v
    if v > LLONG_MAX:
        v = LLONG_MAX
    elif v < LLONG_MIN:
        v = LLONG_MIN
    return v, i


def c_strtol_at(s: str, i: int, base: int, unsigned: bool = False) -> tuple[int, int]:
    """C strtol() on ``s[i:]`` (``unsigned``: strtoul()): returns (value, end index); end == i
    when nothing parsed."""
    n = len(s)
    j = i
    while j < n and s[j] in " \t\n\v\f\r":
        j += 1
    neg = False
    if j < n and s[j] in "+-":
        neg = s[j] == "-"
        j += 1
    if base == 0:
        if s[j : j + 2] in ("0x", "0X") and j + 2 < n and s[j + 2] in "0123456789abcdefABCDEF":
            base, j = 16, j + 2
        elif s[j : j + 1] == "0":
            base = 8
        else:
            base = 10
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"[:base]
    k = j
    while k < n and s[k].lower() in digits:
        k += 1
    if k == j:
        return 0, i
    value = int(s[j:k], base)
    if unsigned:  # ULONG_MAX on overflow whatever the sign, else a negative number wraps
        return (2**64 - 1 if value >= 2**64 else (-value if neg else value) % 2**64), k
    value = -value if neg else value
    value = max(-(2**63), min(2**63 - 1, value))  # LONG_MIN / LONG_MAX clamping
    return value, k


def c_strtol(text: str, base: int = 10) -> tuple[int, str]:
    """C ``strtol(text, &end, base)``: (value, the text from ``end``); (0, text) when
    there are no digits."""
    v, end = c_strtol_at(text, 0, base)
    return v, text[end:]


def c_strtoul_u32(text: str, base: int = 0) -> tuple[int, str]:
    """C ``strtoul(text, &end, base)`` stored in an ``unsigned int``: (value, the text
    from ``end``).  A negative number wraps; an overflow, whatever its sign, is
    ULONG_MAX."""
    v, end = c_strtol_at(text, 0, base, unsigned=True)
    return v & 0xFFFFFFFF, text[end:]


def c_atoi(text: str) -> int:
    """C ``atoi()`` on glibc: :func:`c_atol` truncated to a 32-bit int."""
    v = c_atol(text) & 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


_INT_RE = re.compile(r"-?[0-9]+")


def parse_int(text: str, keyword: str, lo: int | None = None, hi: int | None = None) -> int:
    """A strict decimal integer (optional ``-``, ASCII digits only) within [lo, hi].

    Messages: ``'<keyword>' expects an integer argument.`` and, out of range,
    ``'<keyword>' expects an integer argument between <lo> and <hi>.`` (or ``>= lo``,
    ``<= hi``).  Use :func:`c_atol` for keywords HAProxy reads leniently.
    """
    if not _INT_RE.fullmatch(text):
        raise BadValue(f"'{keyword}' expects an integer argument.", kind="empty" if not text else "invalid")
    value = int(text)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        if lo is not None and hi is not None:
            bounds = f"between {lo} and {hi}"
        elif lo is not None:
            bounds = f">= {lo}"
        else:
            bounds = f"<= {hi}"
        raise BadValue(f"'{keyword}' expects an integer argument {bounds}.", kind="range")
    return value


# --------------------------------------------------------------------------- times

# output unit -> (omult, odiv) as in parse_time_err(): the value is converted to it
_TIME_UNITS: dict[str, tuple[int, int]] = {
    "us": (1_000_000, 1),
    "ms": (1000, 1),
    "s": (1, 1),
    "m": (1, 60),
    "h": (1, 3600),
    "d": (1, 86400),
}
_UNIT_WORDS = {"us": "microseconds", "ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_UNIT_SPAN = {"us": "~35.8 minutes", "ms": "~24.8 days", "s": "~68 years"}


def parse_time(
    text: str,
    keyword: str,
    default_unit: str = "ms",
    *,
    style: str = "quote",
    warnings: list[str] | None = None,
) -> int:
    """Parse a time like parse_time_err(): digits then ``us``, ``ms``, ``s``, ``m``,
    ``h`` or ``d``; no unit means ``default_unit``.

    The result is expressed in ``default_unit`` (milliseconds by default), rounded up
    (``10us`` is 1 ms), computed in 64-bit unsigned arithmetic like HAProxy (so a
    20-digit value wraps).  Results >= 2^31 overflow; a non-zero value that gives 0
    underflows.  Text after a valid unit (``10sx``) is accepted with HAProxy's warning,
    appended to ``warnings`` when a list is given.

    ``style`` picks the wording HAProxy uses for the keyword: ``"quote"`` (``timeout *``,
    most memprintf() callers)::

        unexpected character 'x' in 'timeout client'
        timer overflow in argument '25d' to 'timeout client' (maximum value is 2147483647 ms or ~24.8 days)
        timer underflow in argument '...' to 'timeout client' (minimum non-null value is 1 ms)

    or ``"angle"`` (older ha_alert() callers)::

        unexpected character 'x' in argument to <keyword>.
        timer overflow in argument <25d> to <keyword>, maximum value is 2147483647 ms (~24.8 days).
    """
    if default_unit not in _TIME_UNITS:
        raise ValueError(f"unknown time unit {default_unit!r}")
    if style not in ("quote", "angle"):
        raise ValueError(f"unknown message style {style!r}")
    unit = default_unit

    def invalid(ch: str) -> BadValue:
        if style == "quote":
            return BadValue(f"unexpected character '{ch}' in '{keyword}'", char=ch)
        return BadValue(f"unexpected character '{ch}' in argument to <{keyword}>.", char=ch)

    if not text:
        if style == "quote":
            raise BadValue(f"'{keyword}' expects an integer value (in {_UNIT_WORDS[unit]})", kind="empty")
        raise BadValue(f"'{keyword}' expects <time> as argument.", kind="empty")
    if text[0] not in _DIGITS:
        raise invalid(text[0])
    omult, odiv = _TIME_UNITS[unit]
    value = 0
    i, n = 0, len(text)
    while i < n and text[i] in _DIGITS:
        value = (value * 10 + ord(text[i]) - 48) & _U64
        i += 1
    imult = idiv = 1
    if i == n:
        imult = omult = idiv = odiv = 1
    else:
        c = text[i]
        if c == "s":
            pass
        elif c == "u" and text[i + 1 : i + 2] == "s":
            idiv = 1_000_000
            i += 1
        elif c == "m":
            if text[i + 1 : i + 2] == "s":
                idiv = 1000
                i += 1
            else:
                imult = 60
        elif c == "h":
            imult = 3600
        elif c == "d":
            imult = 86400
        else:
            raise invalid(c)
        i += 1
        if i < n and warnings is not None:
            warnings.append(
                f"unexpected character '{text[i]}' after the timer value '{text}', only "
                "(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported."
                " This will be reported as an error in next versions."
            )
    if omult % idiv == 0:
        omult, idiv = omult // idiv, 1
    if idiv % omult == 0:
        idiv, omult = idiv // omult, 1
    if imult % odiv == 0:
        imult, odiv = imult // odiv, 1
    if odiv % imult == 0:
        odiv, imult = odiv // imult, 1
    result = (((value * (imult * omult)) & _U64) + (idiv * odiv - 1)) & _U64
    result //= idiv * odiv
    if result >= 0x80000000:
        span = _UNIT_SPAN.get(unit)
        if style == "quote":
            tail = f" or {span}" if span else ""
            msg = f"timer overflow in argument '{text}' to '{keyword}' (maximum value is 2147483647 {unit}{tail})"
        else:
            tail = f" ({span})" if span else ""
            msg = f"timer overflow in argument <{text}> to <{keyword}>, maximum value is 2147483647 {unit}{tail}."
        raise BadValue(msg, kind="overflow")
    if result == 0 and value:
        if style == "quote":
            msg = f"timer underflow in argument '{text}' to '{keyword}' (minimum non-null value is 1 {unit})"
        else:
            msg = f"timer underflow in argument <{text}> to <{keyword}>, minimum non-null value is 1 {unit}."
        raise BadValue(msg, kind="underflow")
    return result


# --------------------------------------------------------------------------- sizes


def parse_size(text: str, keyword: str) -> int:
    """Parse a size like parse_size_err(): digits then an optional ``k``, ``m`` or ``g``
    (any case; 1024-based).  The value must fit 32 bits unsigned.

    Error: ``unexpected character 'c' in argument of '<keyword>'.`` naming the character
    HAProxy points at (the digit that overflows, the suffix that overflows, or what
    follows the suffix).
    """

    def invalid(at: int) -> BadValue:
        ch = text[at] if at < len(text) else ""
        return BadValue(f"unexpected character '{ch}' in argument of '{keyword}'.", char=ch)

    if not text:
        raise BadValue(f"unexpected character '' in argument of '{keyword}'.", kind="empty", char="")
    if text[0] not in _DIGITS:
        raise invalid(0)
    value = 0
    i, n = 0, len(text)
    umax = 0xFFFFFFFF
    while i < n and text[i] in _DIGITS:
        j = ord(text[i]) - 48
        if value > umax // 10:
            raise invalid(i)
        value *= 10
        if value + j > umax:
            raise invalid(i)
        value += j
        i += 1
    if i < n:
        c = text[i].lower()
        shift = {"k": 10, "m": 20, "g": 30}.get(c)
        if shift is None:
            raise invalid(i)
        if value > umax >> shift:
            raise invalid(i)
        value <<= shift
        if i + 1 < n:
            raise invalid(i + 1)
    return value


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class Address:
    """One socket address of a ``bind`` or ``server`` line.

    ``family``: ``ipv4``, ``ipv6``, ``unix``, ``abns`` (Linux abstract socket), ``fd``
    (``fd@N``), ``sockpair`` (``sockpair@N``) or ``unspec`` (a server host name left
    unresolved; see ``fqdn``).  ``host``: the canonical IP text (``''`` for the
    any-address, whatever the spelling: ``*``, empty, ``0.0.0.0``, ``::``), the socket
    path (or abstract name), or the file descriptor number as text.  ``port``: 0 when
    none; for servers with ``port_offset`` it is relative to the client's destination
    port and may be negative.  ``no_port``: a server address without port digits.
    ``fqdn``: the host name as written when it was not an IP literal.
    """

    family: str
    host: str
    port: int
    port_offset: bool = False
    no_port: bool = False
    fqdn: str = ""

    @property
    def unresolved(self) -> bool:
        """A server host name not resolved yet (``resolve=None``)."""
        return self.family in ("ipv4", "ipv6", "unspec") and self.host == "" and self.fqdn != ""

    @property
    def is_any(self) -> bool:
        return self.family in ("ipv4", "ipv6") and self.host == "" and not self.unresolved

    @property
    def maps_ports(self) -> bool:
        """HAProxy's SRV_F_MAPPORTS: connect to the client's destination port + ``port``
        (no port, ``:0``, ``+N`` or ``-N``)."""
        return self.family in ("ipv4", "ipv6", "unspec") and (self.port_offset or self.port == 0)

    @property
    def sockaddr(self) -> tuple[str, int] | str | int:
        """What ``socket.bind``/``connect`` take: ``(ip, port)``, a path, or an fd."""
        if self.family == "ipv4":
            return (self.host or "0.0.0.0", self.port)
        if self.family == "ipv6":
            return (self.host or "::", self.port)
        if self.family == "abns":
            return "\0" + self.host
        if self.family in ("fd", "sockpair"):
            return int(self.host)
        return self.host


def default_resolve(host: str) -> list[tuple[str, str]]:
    """``getaddrinfo()`` of ``host``: ``[(family, ip), ...]`` in the resolver's order."""
    out: list[tuple[str, str]] = []
    for fam, _type, _proto, _canon, sa in socket.getaddrinfo(host, None, socket.AF_UNSPEC, socket.SOCK_DGRAM):
        if fam == socket.AF_INET:
            out.append(("ipv4", str(sa[0])))
        elif fam == socket.AF_INET6:
            out.append(("ipv6", str(sa[0])))
    return out


def env_expand(text: str, env: Mapping[str, str] | None = None) -> str:
    """HAProxy's env_expand(), applied to every address: ``$NAME`` and ``${NAME}`` are
    replaced anywhere, quotes or not (so ``bind :$PORT`` works); an unset name, or a
    ``$`` not followed by a name, vanishes.  No defaults, no ``[*]``."""
    if "$" not in text:
        return text
    if env is None:
        env = os.environ
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        beg = j + 1
        brace = beg < n and text[beg] == "{"
        if brace:
            beg += 1
        end = beg
        while end < n and text[end].isascii() and (text[end].isalnum() or text[end] == "_"):
            end += 1
        nxt = end + 1 if brace and end < n and text[end] == "}" else end
        value = env.get(text[beg:end]) if end > beg else None
        if value:
            out.append(value)
        i = nxt
    return "".join(out)


def _blen(text: str) -> int:
    try:
        return len(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return len(text)


def _literal_ip(text: str, family: str | None) -> tuple[str, str] | None:
    """inet_pton() of ``text`` for the wanted family: (family, canonical host)."""
    for fam, af in (("ipv6", socket.AF_INET6), ("ipv4", socket.AF_INET)):
        if family not in (None, fam):
            continue
        try:
            packed = socket.inet_pton(af, text)
        except (OSError, ValueError):
            continue
        return fam, "" if not any(packed) else socket.inet_ntop(af, packed)
    return None


def _valid_hostname(name: str) -> bool:
    """resolv_hostname_validation(): <= 255 chars, labels of [-_A-Za-z0-9] up to 63."""
    if len(name) > 255:
        return False
    for label in name.split("."):
        if len(label) > 63 or any(not (c.isascii() and (c.isalnum() or c in "-_")) for c in label):
            return False
    return True


def _str2ip(text: str, family: str | None, resolve: Resolver | None) -> tuple[str, str] | None:
    """Port of str2ip2(): IP literal, any-address or (if ``resolve``) host name."""
    if text.startswith("["):
        if len(text) < 4 or _blen(text) >= 48 or not text.endswith("]"):
            return None
        text = text[1:-1]
    if text == "::":
        return ("ipv6", "") if family in (None, "ipv6") else None
    if text in ("", "*"):
        return (family or "ipv4", "")
    lit = _literal_ip(text, family)
    if lit is not None or resolve is None:
        return lit
    if not _valid_hostname(text):
        return None
    try:
        results = resolve(text)
    except (OSError, UnicodeError):
        return None
    for fam, ip in results:
        if family in (None, fam):
            return _literal_ip(ip, fam)
    return None


_FAMILY_PREFIXES: tuple[tuple[str, str | None, str | None], ...] = (
    # prefix, family (None = guess), socket type forced (None = unchanged)
    ("unix@", "unix", None),
    ("uxdg@", "unix", "dgram"),
    ("uxst@", "unix", "stream"),
    ("abns@", "abns", None),
    ("ip@", None, None),
    ("ipv4@", "ipv4", None),
    ("ipv6@", "ipv6", None),
    ("tcp4@", "ipv4", "stream"),
    ("udp4@", "ipv4", "dgram"),
    ("tcp6@", "ipv6", "stream"),
    ("udp6@", "ipv6", "dgram"),
    ("tcp@", None, "stream"),
    ("udp@", None, "dgram"),
    ("quic4@", "ipv4", "quic"),
    ("quic6@", "ipv6", "quic"),
    ("fd@", "fd", None),
    ("sockpair@", "sockpair", None),
)
_AF_NUMBERS = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}
_SUN_PATH_MAX = 107  # sizeof(sun_path) - 1


@dataclass
class _Parsed:
    family: str
    host: str
    portl: int = 0
    porth: int = 0
    porta: int = 0
    no_port: bool = False
    offset: bool = False
    fqdn: str = ""


def _str2sa(
    orig: str,
    env: Mapping[str, str] | None,
    *,
    port_mand: bool,
    port_range: bool,
    port_ofs: bool,
    fd_ok: bool,
    resolve: Resolver | None,
    unix_prefix: str = "",
) -> _Parsed:
    """Port of str2sa_range() for stream addresses (bind and server)."""
    s = env_expand(orig, env)
    if not s:
        raise BadValue(f"'{orig}' resolves to an empty address (environment variable missing?)", kind="empty")
    sock = "stream"
    if s.startswith("stream+"):
        s = s[7:]
    elif s.startswith("dgram+"):
        s, sock = s[6:], "dgram"
    family: str | None = None
    for prefix, fam, forced in _FAMILY_PREFIXES:
        if s.startswith(prefix):
            s, family = s[len(prefix) :], fam
            sock = forced or sock
            break
    else:
        if s.startswith("/"):
            family = "unix"

    parsed: _Parsed
    if family in ("fd", "sockpair"):
        fd, end = _strtol_int(s)
        if not s or fd < 0 or end != len(s):
            raise BadValue(f"file descriptor '{s}' is not a valid integer in '{orig}'", kind="address")
        if family == "fd" and not fd_ok:
            raise BadValue(f"a file descriptor is not acceptable here in '{orig}'", kind="address")
        parsed = _Parsed(family, str(fd))
    elif family in ("unix", "abns"):
        abstract = family == "abns"
        max_len = _SUN_PATH_MAX - (0 if abstract else len(unix_prefix) + 1 + 5 + 1 + 3)
        if _blen(s) > max_len:
            raise BadValue(f"socket path '{orig}' too long (max {max_len})", kind="address")
        parsed = _Parsed(family, s if abstract else unix_prefix + s)
    else:
        parsed = _ip_port(orig, s, family, port_mand, port_range, port_ofs, resolve)

    if sock == "dgram":
        raise BadValue(f"dgram-type address not acceptable in '{orig}'", kind="address")
    if sock == "quic":
        num = _AF_NUMBERS.get(parsed.family, 0)
        raise BadValue(
            f"unsupported stream protocol for datagram family {num} address '{orig}'; "
            "QUIC is not compiled in if this is what you were looking for.",
            kind="address",
        )
    return parsed


def _strtol_int(text: str) -> tuple[int, int]:
    """strtol(text, &end, 10) cast to int: (value, end index)."""
    m = re.match(r"[ \t\n\v\f\r]*[+-]?[0-9]+", text)
    if not m:
        return 0, 0
    v = max(-(1 << 63), min((1 << 63) - 1, int(m.group().strip()))) & 0xFFFFFFFF
    return (v - (1 << 32) if v >= 1 << 31 else v), m.end()


def _ip_port(
    orig: str,
    s: str,
    family: str | None,
    port_mand: bool,
    port_range: bool,
    port_ofs: bool,
    resolve: Resolver | None,
) -> _Parsed:
    # the port separator is the last ':' unless a ']' comes after it
    j = len(s) - 1
    while j > 0 and s[j] not in "]:":
        j -= 1
    if j >= 0 and s[j] == ":":
        host, port1 = s[:j], s[j + 1 :]
    else:
        if port_mand:
            raise BadValue(f"missing port specification in '{orig}'", kind="address")
        host, port1 = s, ""
    portl = porth = porta = 0
    if port1[:1] in _DIGIT_CHARS:
        p1, dash, p2 = port1.partition("-")
        if dash and not port_range:
            raise BadValue(f"port range not permitted here in '{orig}'", kind="address")
        if not dash:
            p2 = p1
        portl, porth = c_atoi(p1), c_atoi(p2)
        low = 1 if port_mand else 0
        if not low <= portl <= 65535:
            raise BadValue(f"invalid port '{p1}'", kind="address")
        if not low <= porth <= 65535:
            raise BadValue(f"invalid port '{p2}'", kind="address")
        if portl > porth:
            raise BadValue(f"invalid port range '{portl}-{porth}'", kind="address")
        porta = portl
    elif port1[:1] in ("-", "+"):
        if not port_ofs:
            raise BadValue(f"port offset not permitted here in '{orig}'", kind="address")
        if port1[0] == "-":
            portl = c_atoi(port1[1:])
            porta = -portl
        else:
            porth = c_atoi(port1[1:])
            porta = porth
    elif port1:
        raise BadValue(f"invalid character '{port1[0]}' in port number '{port1}' in '{orig}'", kind="address")
    elif port_mand:
        raise BadValue(f"missing port specification in '{orig}'", kind="address")

    # first as a literal, then (bind) by resolving the name, like str2sa_range()
    fqdn = ""
    ip = _str2ip(host, family, None)
    if ip is None:
        fqdn = host
        if resolve is not None:
            ip = _str2ip(host, family, resolve)
            if ip is None:
                raise BadValue(f"invalid address: '{host}' in '{orig}'", kind="address")
        else:
            ip = (family or "unspec", "")  # left for init-addr resolution (servers)
    offset = port1[:1] in ("-", "+")
    return _Parsed(ip[0], ip[1], portl, porth, porta, no_port=not port1, offset=offset, fqdn=fqdn)


def parse_bind_addresses(
    text: str,
    resolve: Resolver | None = None,
    *,
    env: Mapping[str, str] | None = None,
    unix_prefix: str = "",
) -> list[Address]:
    """Parse the address word of a ``bind`` line (str2listener()).

    Comma-separated list (a trailing comma is ignored, an empty element is an error);
    each element: ``[<addr>]:<port>[-<end>]`` with ``*``/empty/``0.0.0.0`` = any IPv4,
    ``::``/``[::]`` = any IPv6, IPv6 with or without brackets (the port is after the
    last colon: ``:::80``), a host name (resolved now with ``resolve``, default
    getaddrinfo, first result), ``ipv4@``/``ipv6@``/``tcp@``... prefixes, ``unix@path``,
    ``/abs/path``, ``abns@name``, ``fd@N``, ``sockpair@N``.  A port range gives one
    Address per port.  Environment variables are expanded in each element, quoted or
    not.  ``unix_prefix`` is the global ``unix-bind prefix``.

    Errors are str2sa_range()'s texts, which HAProxy prints as ``'bind' : <text>``,
    except an empty ``text``: kind ``missing`` with the complete 'bind' message.
    """
    if not text:
        raise BadValue(
            "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.", kind="missing"
        )
    resolver = default_resolve if resolve is None else resolve
    out: list[Address] = []
    rest = text
    while rest:
        piece, _, rest = rest.partition(",")
        p = _str2sa(
            piece,
            env,
            port_mand=True,
            port_range=True,
            port_ofs=False,
            fd_ok=True,
            resolve=resolver,
            unix_prefix=unix_prefix,
        )
        if p.family in ("ipv4", "ipv6"):
            out.extend(Address(p.family, p.host, port, fqdn=p.fqdn) for port in range(p.portl, p.porth + 1))
        else:
            out.append(Address(p.family, p.host, 0))
    return out


def parse_server_address(
    text: str,
    resolve: Resolver | None = default_resolve,
    *,
    env: Mapping[str, str] | None = None,
) -> Address:
    """Parse the address of a ``server`` line.

    ``ip:port``, ``host:port``, ``[v6]:port``, ``ip`` or ``ip:`` (no port: connect to the
    client's destination port; ``no_port``), ``ip:+N``/``ip:-N`` (``port_offset``,
    ``port`` = +N/-N), ``ipv4@``/``ipv6@`` prefixes, ``unix@path``, ``/path``,
    ``abns@name``, ``sockpair@N``.  No port range, no ``fd@``.

    HAProxy resolves server host names after parsing (``init-addr``); with the default
    ``resolve`` this does it now and fails with HAProxy's later message
    ``could not resolve address '<name>'.`` (kind ``resolve``); with ``resolve=None``
    the Address is left with ``family`` ``unspec`` (or the forced family), ``host`` ''
    and ``fqdn`` set.  An SRV name (``_...``) needs a resolvers section: with a resolver
    it fails with ``no method found to resolve address '<name>'.``.
    """
    if not text:
        raise BadValue("'server' expects <name> and <addr>[:<port>] as arguments.", kind="missing")
    p = _str2sa(text, env, port_mand=False, port_range=False, port_ofs=True, fd_ok=False, resolve=None)
    if p.fqdn and resolve is not None:
        if p.fqdn.startswith("_"):
            raise BadValue(f"no method found to resolve address '{p.fqdn}'.", kind="resolve")
        forced = None if p.family == "unspec" else p.family
        ip = _str2ip(p.fqdn, forced, resolve)
        if ip is None:
            raise BadValue(f"could not resolve address '{p.fqdn}'.", kind="resolve")
        p.family, p.host = ip
    return Address(p.family, p.host, p.porta, port_offset=p.offset, no_port=p.no_port, fqdn=p.fqdn)


def parse_connect_address(text: str, resolve: Resolver | None = default_resolve) -> Address:
    """str2sa_range() as ``tcp-check connect addr`` / ``http-check connect addr`` call it
    (PA_O_RESOLVE | PA_O_PORT_OK | PA_O_STREAM | PA_O_CONNECT): an optional port, no range
    and no offset, no ``fd@``, host names resolved now.  ``BadValue`` carries
    str2sa_range()'s text, without the newline HAProxy puts after some of them (see
    ``STR2SA_NEWLINE``)."""
    p = _str2sa(text, None, port_mand=False, port_range=False, port_ofs=False, fd_ok=False, resolve=resolve)
    return Address(p.family, p.host, p.porta, no_port=p.no_port, fqdn=p.fqdn)


#: str2sa_range() messages that end with a newline in HAProxy 2.6 (it shows when a caller
#: appends to them, e.g. "'tcp-check connect' : 'addr' : invalid address: 'x' in 'x'\n..")
STR2SA_NEWLINE = re.compile(
    r"^(?:'.*' resolves to an empty address|file descriptor |cannot use file descriptor |socket on file |"
    r"a file descriptor is not acceptable|socket path |invalid character |invalid address: |"
    r"stream-type address |dgram-type address )"
)


def parse_port(text: str) -> int:
    """A port number 1..65535 written with ASCII digits only; else ``invalid port '<text>'``."""
    if not text or any(c not in _DIGITS for c in text) or not 1 <= int(text) <= 65535:
        raise BadValue(f"invalid port '{text}'", kind="invalid")
    return int(text)
