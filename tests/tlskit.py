"""TLS ClientHello bytes for the content-inspection tests: crafted records (``hello``
with ``ext``/``sni_ext``/``alpn_ext``) and the first flight of Python's own TLS client
(``python_hello``)."""

from __future__ import annotations

import ssl
import struct


def ext(t: int, body: bytes) -> bytes:
    return struct.pack("!HH", t, len(body)) + body


def sni_ext(name: str, name_type: int = 0) -> bytes:
    n = name.encode()
    entry = bytes([name_type]) + struct.pack("!H", len(n)) + n
    return ext(0, struct.pack("!H", len(entry)) + entry)


def alpn_ext(protos: list[str]) -> bytes:
    body = b"".join(bytes([len(p)]) + p.encode() for p in protos)
    return ext(16, struct.pack("!H", len(body)) + body)


def hello(exts=(), sid=b"", version=b"\x03\x03", rec_version=b"\x03\x01", hs_type=1, rec_type=0x16,
          ext_block=None) -> bytes:
    """A TLS ClientHello record (two cipher suites, null compression)."""
    e = b"".join(exts) if ext_block is None else ext_block
    ciphers = b"\x13\x01\x13\x02"
    body = (version + bytes(range(32)) + bytes([len(sid)]) + sid + struct.pack("!H", len(ciphers)) + ciphers
            + b"\x01\x00" + struct.pack("!H", len(e)) + e)
    hs = bytes([hs_type]) + struct.pack("!I", len(body))[1:] + body
    return bytes([rec_type]) + rec_version + struct.pack("!H", len(hs)) + hs


def python_hello(sni: str | None, alpn: list[str] | None = None) -> bytes:
    """The first flight of Python's TLS client (a ClientHello record)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    out = ssl.MemoryBIO()
    obj = ctx.wrap_bio(ssl.MemoryBIO(), out, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()
