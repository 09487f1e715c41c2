"""PROXY protocol v1 and v2: building headers for servers, parsing them from clients.

Pure: works on bytes; the caller reads and writes the sockets.
"""

from __future__ import annotations

import ipaddress
import socket
import struct

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
V1_MAX = 107


class ProxyError(ValueError):
    """The client's PROXY header is malformed."""


def build_v1(src: tuple[str, int] | None, dst: tuple[str, int] | None) -> bytes:
    if src is None or dst is None or ":" in src[0] and ":" not in dst[0]:
        return b"PROXY UNKNOWN\r\n"
    fam = "TCP6" if ":" in src[0] else "TCP4"
    return f"PROXY {fam} {src[0]} {dst[0]} {src[1]} {dst[1]}\r\n".encode()


def build_v2(src: tuple[str, int] | None, dst: tuple[str, int] | None) -> bytes:
    if src is None or dst is None:
        return V2_SIG + b"\x20\x00\x00\x00"  # LOCAL command, UNSPEC
    if ":" in src[0]:
        body = socket.inet_pton(socket.AF_INET6, src[0]) + socket.inet_pton(socket.AF_INET6, _v6(dst[0]))
        body += struct.pack("!HH", src[1], dst[1])
        return V2_SIG + b"\x21\x21" + struct.pack("!H", len(body)) + body
    body = socket.inet_aton(src[0]) + socket.inet_aton(dst[0]) + struct.pack("!HH", src[1], dst[1])
    return V2_SIG + b"\x21\x11" + struct.pack("!H", len(body)) + body


def _v6(addr: str) -> str:
    return addr if ":" in addr else "::ffff:" + addr


def parse(data: bytes) -> tuple[int, tuple[str, int] | None, tuple[str, int] | None] | None:
    """Parse a PROXY header at the start of ``data``.

    Returns None when more bytes are needed, else (header_length, src, dst) where src/dst
    are None for UNKNOWN / LOCAL.  Raises ProxyError when the header is invalid.
    """
    if data[:1] == b"P":
        if not b"PROXY "[: len(data)] == data[:6]:
            raise ProxyError("not a PROXY header")
        end = data.find(b"\r\n", 0, V1_MAX + 1)
        if end < 0:
            if len(data) >= V1_MAX:
                raise ProxyError("PROXY v1 header too long")
            return None
        parts = data[:end].decode("ascii", "replace").split(" ")
        if len(parts) >= 2 and parts[1] == "UNKNOWN":
            return end + 2, None, None
        if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
            raise ProxyError("malformed PROXY v1 header")
        try:
            s_ip = str(ipaddress.ip_address(parts[2]))
            d_ip = str(ipaddress.ip_address(parts[3]))
            s_port, d_port = int(parts[4]), int(parts[5])
        except ValueError:
            raise ProxyError("malformed PROXY v1 address") from None
        if not (0 <= s_port < 65536 and 0 <= d_port < 65536):
            raise ProxyError("bad PROXY v1 port")
        return end + 2, (s_ip, s_port), (d_ip, d_port)
    if data[:1] == b"\r":
        if len(data) < 16:
            if V2_SIG[: len(data)] != data:
                raise ProxyError("not a PROXY header")
            return None
        if data[:12] != V2_SIG:
            raise ProxyError("not a PROXY header")
        ver_cmd, fam = data[12], data[13]
        if ver_cmd >> 4 != 2:
            raise ProxyError("bad PROXY v2 version")
        ln = struct.unpack("!H", data[14:16])[0]
        if len(data) < 16 + ln:
            return None
        body = data[16 : 16 + ln]
        total = 16 + ln
        if ver_cmd & 0xF == 0:  # LOCAL
            return total, None, None
        if fam >> 4 == 1 and len(body) >= 12:
            src = (socket.inet_ntoa(body[0:4]), struct.unpack("!H", body[8:10])[0])
            dst = (socket.inet_ntoa(body[4:8]), struct.unpack("!H", body[10:12])[0])
            return total, src, dst
        if fam >> 4 == 2 and len(body) >= 36:
            src = (socket.inet_ntop(socket.AF_INET6, body[0:16]), struct.unpack("!H", body[32:34])[0])
            dst = (socket.inet_ntop(socket.AF_INET6, body[16:32]), struct.unpack("!H", body[34:36])[0])
            return total, src, dst
        return total, None, None
    raise ProxyError("not a PROXY header")
