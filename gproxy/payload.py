"""The request buffer as HAProxy's layer-6 fetches see it (``src/payload.c``), and the
three-valued rule evaluation that content inspection needs (``acl_exec_cond``,
``tcp_inspect_request``).

Owns:

* the parsers behind ``req.len``, ``req.payload``, ``req.payload_lv``,
  ``req.ssl_hello_type``, ``req.ssl_ver``, ``req.ssl_sni``, ``req.ssl_alpn``,
  ``req.ssl_st_ext``, ``req.ssl_ec_ext``, ``req.rdp_cookie`` and
  ``req.rdp_cookie_cnt``: bytes in, a sample out, ``SHORT`` when the data is too short
  to decide yet (HAProxy's ``SMP_F_MAY_CHANGE``), None when it will never match.  They
  read exactly the bytes HAProxy 2.6 reads and make the same checks, quirks included
  (a ClientHello is "complete" 4 bytes early; SSLv2 hellos for ``req.ssl_ver``);
* ``REQ``, the buffer under inspection: ``tcp.py`` fills it while it evaluates rules on
  the client's first bytes, the fetches registered in ``http/sample.py`` read it;
  outside an inspection ``REQ.data`` is None and the fetches return nothing;
* ``exec_cond`` / ``run_rules``: conditions and ``tcp-request content`` rules evaluated
  to FAIL / MISS / PASS, MISS meaning "a fetch could not decide yet: wait for more
  data" (never returned on a final evaluation);
* ``parse_dotted`` and ``dotted_patterns``: the ``MAJOR.MINOR`` patterns of the
  ``req_ssl_ver`` ACL (``pat_parse_dotted_ver``).

Pure module: no sockets, no gevent, never yields; it imports nothing from gproxy.
"""

from __future__ import annotations

from typing import Any

from .config.values import read_int64

__all__ = [
    "ACCEPT",
    "FAIL",
    "MISS",
    "PASS",
    "REJECT",
    "REQ",
    "SHORT",
    "ReqBuffer",
    "dotted_patterns",
    "dotted_range",
    "exec_cond",
    "parse_dotted",
    "payload",
    "payload_lv",
    "rdp_cookie",
    "req_len",
    "run_rules",
    "ssl_alpn",
    "ssl_ec_ext",
    "ssl_hello_type",
    "ssl_sni",
    "ssl_st_ext",
    "ssl_ver",
]


class _Short:
    """The data is incomplete: the fetch may succeed once more bytes arrive."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SHORT"


SHORT: Any = _Short()

#: HAProxy's defaults: ``tune.bufsize`` and the room a request channel may fill while
#: nothing is forwarded (``channel_recv_limit``: bufsize - ``tune.maxrewrite``)
BUFSIZE = 16384
RECV_LIMIT = 16384 - 1024


class ReqBuffer:
    """The request channel during content inspection.

    ``data``: the bytes received so far (None outside an inspection); ``final``: no more
    data will be waited for (delay expired, buffer full, client closed); ``may_recv``:
    more bytes could still enter the buffer (for ``req.payload(x,0)``); ``may_change``:
    set by a fetch that could not decide or whose value may still change, reset by the
    evaluator before each expression; ``bufsize`` / ``limit``: ``tune.bufsize`` and the
    buffer's receive limit.
    """

    __slots__ = ("bufsize", "data", "final", "limit", "may_change", "may_recv")

    def __init__(self) -> None:
        self.data: bytes | None = None
        self.final = True
        self.may_recv = False
        self.may_change = False
        self.bufsize = BUFSIZE
        self.limit = RECV_LIMIT

    def set(self, data: bytes, final: bool, may_recv: bool) -> None:
        self.data = data
        self.final = final
        self.may_recv = may_recv
        self.may_change = False

    def clear(self) -> None:
        self.data = None
        self.final = True
        self.may_change = False


REQ = ReqBuffer()


# --------------------------------------------------------------------------------------
# fetches (smp_fetch_* of src/payload.c)


def req_len(data: bytes) -> int:
    """``req.len``: the bytes in the buffer (always "may change")."""
    return len(data)


def payload(data: bytes, offset: int, length: int, bufsize: int = BUFSIZE) -> Any:
    """``req.payload(<offset>,<length>)``: ``length`` bytes at ``offset``, or everything
    from ``offset`` when ``length`` is 0.  None when it can never fit in a buffer
    (offsets are unsigned in HAProxy: a negative one never matches here)."""
    if offset < 0 or length < 0 or length > bufsize or offset + length > bufsize:
        return None
    if offset + length > len(data):
        return SHORT
    if not length:
        return data[offset:]
    return data[offset:offset + length]


def payload_lv(data: bytes, len_offset: int, len_size: int, offset2: int | None = None,
               bufsize: int = BUFSIZE) -> Any:
    """``req.payload_lv(<offset1>,<length>[,<offset2>])``: the block whose size is the
    big-endian ``len_size``-byte integer at ``len_offset``; it starts right after that
    integer, or at ``offset2`` as ``check_payload_lv`` encoded it: HAProxy 2.6 stores a
    relative offset (signed) as ``v * 2 + 1`` and an absolute one as ``v`` but reads both
    as ``value >> 1`` with the low bit meaning "relative", so an even absolute offset is
    halved and an odd one is taken as relative (half of it)."""
    if len_offset < 0 or len_size <= 0:
        return None
    if len_offset + len_size > len(data):
        return SHORT
    size = 0
    for i in range(len_size):
        size = ((size << 8) + data[len_offset + i]) & 0xFFFFFFFF  # unsigned int in HAProxy
    start = len_offset + len_size
    if offset2 is not None:
        start = start + (offset2 >> 1) if offset2 & 1 else offset2 >> 1
    if not size or size > bufsize or start + size > bufsize:
        return None
    if start + size > len(data):
        return SHORT
    return data[start:start + size]


def ssl_hello_type(data: bytes) -> Any:
    """``req.ssl_hello_type``: the handshake type of a complete SSLv3+ record (any record
    type 0x14-0x17 or 0xFF is looked at)."""
    n = len(data)
    if not n:
        return SHORT
    c = data[0]
    if not (0x14 <= c <= 0x17 or c == 0xFF):
        return None
    if n < 9:
        return SHORT
    if (data[1] << 16) + data[2] < 0x00030000:
        return None
    if (data[3] << 8) + data[4] < 4:
        return None
    hs_len = (data[6] << 16) + (data[7] << 8) + data[8]
    if n < 9 + hs_len:
        return SHORT
    return data[5]


def ssl_ver(data: bytes, limit: int = RECV_LIMIT) -> Any:
    """``req.ssl_ver``: major * 65536 + minor of the ClientHello's client_version (SSLv3+
    records), or of an SSLv2 hello, once the whole message (at most what fits in the
    buffer) is there."""
    n = len(data)
    if not n:
        return SHORT
    c = data[0]
    if 0x14 <= c <= 0x17 or c == 0xFF:
        if n < 11:
            return SHORT
        version = (data[1] << 16) + data[2]
        msg_len = (data[3] << 8) + data[4]
        if version < 0x00030000:
            return None
        if msg_len < 6 or msg_len > (1 << 14) + 2048:
            return None
        bleft = n - 5
        version = (data[9] << 16) + data[10]  # the client hello's version, not the record's
    else:
        if c & 0x80:
            if n < 3:
                return SHORT
            rlen = ((c & 0x7F) << 8) | data[1]
            plen = 0
            p = 2
        else:
            if n < 4:
                return SHORT
            rlen = ((c & 0x3F) << 8) | data[1]
            plen = data[2]
            p = 3
        bleft = n - p
        if data[p] != 0x01:
            return None
        bleft -= 1
        p += 1
        if bleft < 8:
            return SHORT
        version = (data[p] << 16) + data[p + 1]
        cilen = (data[p + 2] << 8) + data[p + 3]
        silen = (data[p + 4] << 8) + data[p + 5]
        chlen = (data[p + 6] << 8) + data[p + 7]
        bleft -= 8
        if cilen % 3 != 0:
            return None
        if silen and silen != 16:
            return None
        if chlen < 16 or chlen > 32:
            return None
        if rlen != 9 + cilen + silen + chlen:
            return None
        msg_len = cilen + silen + chlen + plen
    if msg_len > limit:
        msg_len = limit
    if bleft < msg_len:
        return SHORT
    return version


def _hello_extensions(data: bytes) -> Any:
    """Walk a TLS ClientHello up to its extensions as payload.c does.  Returns SHORT,
    None (not a usable hello), or (buffer, offset of the first extension, length of the
    extension block)."""
    n = len(data)
    if not n:
        return SHORT
    if data[0] != 0x16:
        return None
    if n < 3:
        return SHORT
    if data[1] < 0x03:  # SSLv3 or later in the record layer
        return None
    if n < 5:
        return SHORT
    if (data[3] << 8) + data[4] < 1 + 3 + 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2:
        return None  # too short to have an extension
    bleft = n - 5
    if bleft < 1:
        return SHORT
    if data[5] != 0x01:  # ClientHello
        return None
    if bleft < 4:
        return SHORT
    hs_len = (data[6] << 16) + (data[7] << 8) + data[8]
    if hs_len < 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2:
        return None
    if bleft < hs_len:  # HAProxy counts the 4-byte handshake header in: complete 4 bytes early
        return SHORT
    if n < 9 + hs_len:
        data = data + bytes(9 + hs_len - n)  # what lies past the data in HAProxy's buffer
    p = 9
    if data[p] < 0x03 or data[p + 1] < 0x01:  # TLSv1 minimum
        return None
    sid = data[p + 34]
    if sid > 32 or sid > hs_len - 35:
        return None
    hs_len -= 35 + sid
    p += 35 + sid
    if hs_len < 4:
        return None
    ext_len = (data[p] << 8) + data[p + 1]
    if ext_len < 2 or ext_len > hs_len:
        return None
    hs_len -= 2 + ext_len
    p += 2 + ext_len
    if hs_len < 2 or data[p] < 1 or data[p] > hs_len:
        return None
    comp = data[p]
    hs_len -= 1 + comp
    p += 1 + comp
    if hs_len < 2:
        return None
    ext_len = (data[p] << 8) + data[p + 1]
    if ext_len > hs_len - 2:
        return None
    return data, p + 2, ext_len


def _extensions(data: bytes) -> Any:
    """The extensions of a ClientHello as HAProxy walks them: (buffer, [(type, offset,
    length, rest)...] in order, ``overflow``: the walk stopped at an extension running
    past the block), or SHORT/None as ``_hello_extensions`` says (``rest``: bytes of the
    extension block from that extension to the end)."""
    got = _hello_extensions(data)
    if got is None or got is SHORT:
        return got
    buf, p, hs_len = got
    exts = []
    while hs_len >= 4:
        ext_type = (buf[p] << 8) + buf[p + 1]
        ext_len = (buf[p + 2] << 8) + buf[p + 3]
        if ext_len > hs_len - 4:
            return buf, exts, True
        exts.append((ext_type, p, ext_len, hs_len))
        hs_len -= 4 + ext_len
        p += 4 + ext_len
    return buf, exts, False


def _find_ext(data: bytes, want: int) -> Any:
    """(buffer, offset, ext_len, rest) of the first extension of type ``want``, SHORT, or
    None (absent after an extension that overflows the block), False (not there)."""
    got = _extensions(data)
    if got is None or got is SHORT:
        return got
    buf, exts, overflow = got
    for ext_type, p, ext_len, rest in exts:
        if ext_type == want:
            return buf, p, ext_len, rest
    return None if overflow else False


def ssl_sni(data: bytes) -> Any:
    """``req.ssl_sni``: the first host_name of a server_name extension."""
    got = _extensions(data)
    if got is None or got is SHORT:
        return got
    buf, exts, _overflow = got
    for ext_type, p, ext_len, rest in exts:
        if ext_type != 0:
            continue
        if ext_len < 2:
            return None
        srv_len = (buf[p + 4] << 8) + buf[p + 5]
        if srv_len < 4 or srv_len > rest - 6:
            return None
        if buf[p + 6] == 0:  # host_name
            name_len = (buf[p + 7] << 8) + buf[p + 8]
            return buf[p + 9:p + 9 + name_len].decode("latin-1")
    return None


def ssl_alpn(data: bytes) -> Any:
    """``req.ssl_alpn``: the protocol names of the ALPN extension, in the client's order
    (a list; HAProxy returns them one by one).  A name that overflows the extension ends
    the list; when it is the first one there is no sample (None)."""
    got = _find_ext(data, 16)
    if got is None or got is SHORT or got is False:
        return None if got is False else got
    buf, p, ext_len, _ = got
    if ext_len < 3:
        return None
    names: list[str] = []
    off = 6
    while True:
        name_len = buf[p + off]
        if name_len + off - 3 > ext_len:
            break
        names.append(buf[p + off + 1:p + off + 1 + name_len].decode("latin-1"))
        if name_len + off - 3 < ext_len:
            off += name_len + 1
            continue
        break
    return names or None


def ssl_st_ext(data: bytes) -> Any:
    """``req.ssl_st_ext``: 0 without a SessionTicket extension, 1 with an empty one, 2
    with a ticket."""
    got = _find_ext(data, 35)
    if got is False:
        return 0
    if got is None or got is SHORT:
        return got
    return 2 if got[2] > 0 else 1


def ssl_ec_ext(data: bytes) -> Any:
    """``req.ssl_ec_ext``: True when the supported_groups (elliptic curves) extension is
    there; no sample otherwise."""
    got = _find_ext(data, 10)
    if got is False or got is None:
        return None
    if got is SHORT:
        return got
    return True


def rdp_cookie(data: bytes, name: str = "") -> Any:
    """``req.rdp_cookie([<name>])``: the value of the ``Cookie: name=value`` line of an
    RDP connection request (the first cookie only; the name is case-insensitive)."""
    bleft = len(data)
    if bleft <= 11:
        return SHORT
    p = 11
    bleft -= 11
    if bleft <= 7:
        return SHORT
    if data[p:p + 7].lower() != b"cookie:":
        return None
    p += 7
    bleft -= 7
    while bleft > 0 and data[p] == 0x20:
        p += 1
        bleft -= 1
    clen = len(name)
    if clen:
        if bleft <= clen:
            return SHORT
        if data[p + clen] != 0x3D or data[p:p + clen].lower() != name.encode("latin-1").lower():
            return None
        p += clen + 1
        bleft -= clen + 1
    else:
        while bleft > 0 and data[p] != 0x3D:
            if data[p] in (0x0D, 0x0A):
                return None
            p += 1
            bleft -= 1
        if bleft < 1:
            return SHORT
        p += 1
        bleft -= 1
    start = p
    while bleft > 0 and data[p] != 0x0D:
        p += 1
        bleft -= 1
    if bleft < 2:
        return SHORT
    if data[p + 1] != 0x0A:
        return None
    return data[start:p].decode("latin-1")


# --------------------------------------------------------------------------------------
# argument checks (val_payload_lv) and the dotted-version patterns (pat_parse_dotted_ver)


def check_payload_lv(args: list[Any]) -> str | None:
    """val_payload_lv(): HAProxy's error text, or None; turns the optional third argument
    into HAProxy's encoded offset (see ``payload_lv``)."""
    if args[0] < 0:
        return "payload offset1 must be positive"
    if not args[1]:
        return "payload length must be > 0"
    if len(args) > 2:
        text = args[2]
        if not isinstance(text, str):
            return None  # already encoded
        if not text:
            del args[2:]
            return None
        value, used = read_int64(text)
        if used < len(text):
            return "payload offset2 is not a number"
        if args[0] + args[1] + value < 0:
            return "payload offset2 too negative"
        args[2] = (value << 1) + 1 if text[0] in "+-" else value  # see payload_lv()
    return None


def _strl2llrc(s: str) -> int | None:
    if not s:
        return None
    t = s[1:] if s[0] in "+-" else s
    if not t.isdigit() or not t.isascii():
        return None
    return int(s)


def parse_dotted(text: str) -> int | None:
    """strl2llrc_dotted(): ``MAJOR[.MINOR]`` as major << 16 | minor, or None."""
    major_s, dot, minor_s = text.partition(".")
    major = _strl2llrc(major_s)
    if major is None or major >= 65536:
        return None
    minor = 0
    if dot:
        m = _strl2llrc(minor_s)
        if m is None:
            return None
        minor = m
    if minor >= 65536:
        return None
    return (major << 16) | (minor & 0xFFFF)


def dotted_range(text: str) -> str:
    """pat_parse_dotted_ver() of one pattern, as the ``lo:hi`` integer range text that an
    integer matcher reads; ValueError with HAProxy's message."""
    k = 0
    while k < len(text) and text[k] not in ":-":
        k += 1
    if k == len(text) and k > 0:
        v = parse_dotted(text)
        if v is None:
            raise ValueError(f"'{text}' is not a dotted number")
        return str(v)
    bad = f"'{text}' is not a valid dotted number range"
    if k == 0 and len(text) > 1:
        hi = parse_dotted(text[1:])
        if hi is None:
            raise ValueError(bad)
        return f":{hi}"
    if k == len(text) - 1:
        lo = parse_dotted(text[:k])
        if lo is None:
            raise ValueError(bad)
        return f"{lo}:"
    lo, hi = parse_dotted(text[:k]), parse_dotted(text[k + 1:])
    if lo is None or hi is None or lo > hi:
        raise ValueError(bad)
    return f"{lo}:{hi}"


_OPS = {"eq": 0, "gt": 1, "ge": 2, "lt": 3, "le": 4}


def dotted_patterns(words: list[str]) -> list[str]:
    """The patterns of a dotted-version ACL (``req_ssl_ver gt 3.0``, ``3.0-3.3``) as integer
    range texts, operators applied as parse_acl_expr() does; ValueError on a bad one."""
    out: list[str] = []
    op = 0
    for w in words:
        o = _OPS.get(w)
        if o is not None:
            op = o
            continue
        if op and ":" not in w and "-" not in w:
            major_s, dot, minor_s = w.partition(".")
            minor = 0
            if dot:
                m = _strl2llrc(minor_s)
                if m is None:
                    raise ValueError(f"'{w}' is neither a number nor a supported operator")
                if m >= 65536:
                    raise ValueError(f"'{w}' contains too large a minor value")
                minor = m
            major = _strl2llrc(major_s)
            if major is None:
                raise ValueError(f"'{w}' is neither a number nor a supported operator")
            if major >= 65536:
                raise ValueError(f"'{w}' contains too large a major value")
            v = (major << 16) | (minor & 0xFFFF)
            if op in (1, 2):
                v += op == 1
                w = f"{v >> 16}.{v & 0xFFFF}:"
            else:
                v -= op == 3
                w = f":{v >> 16}.{v & 0xFFFF}"
        out.append(dotted_range(w))
    return out


# --------------------------------------------------------------------------------------
# three-valued evaluation (acl_exec_cond, tcp_inspect_request)

FAIL, MISS, PASS = 0, 1, 3
ACCEPT, REJECT = "accept", "reject"


def exec_cond(cond: Any, sess: Any, txn: Any, final: bool) -> int:
    """acl_exec_cond(): FAIL, MISS or PASS for an ``acl.Cond`` (polarity not applied).
    An expression that does not match while a fetch flagged ``REQ.may_change`` is a MISS
    unless the evaluation is final; ``!`` keeps a MISS a MISS."""
    buf = REQ
    res = FAIL
    for suite in cond.suites:
        sres = PASS
        for exprs, neg, _name in suite:
            ares = FAIL
            for e in exprs:
                buf.may_change = False
                if e.match(sess, txn):
                    ares = PASS
                    break
                if buf.may_change and not final:
                    ares = MISS
            if neg and ares != MISS:
                ares = FAIL if ares == PASS else PASS
            sres &= ares
            if sres != PASS:
                break
        res |= sres
        if res == PASS:
            break
    return res


def run_rules(rules: list[Any], sess: Any, final: bool) -> tuple[str, Any]:
    """tcp_inspect_request()'s loop over ``tcp-request content`` rules on ``REQ``:
    (ACCEPT | REJECT | "miss", the deciding rule or None).  A rule whose condition is a
    MISS stops the evaluation (wait for more data); an explicit accept, or no rule that
    applies, accepts."""
    for r in rules:
        c = r.cond
        if c is not None:
            t = exec_cond(c, sess, None, final)
            if t == MISS:
                return "miss", r
            ok = t == PASS
            if c.pol == "unless":
                ok = not ok
            if not ok:
                continue
        v = r.run(sess, None)
        if v is not None:
            return (REJECT if v.kind == "reject" else ACCEPT), r
    return ACCEPT, None
