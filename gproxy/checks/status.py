"""Check status codes, their results and the text HAProxy prints for a check result.

Mirrors HAProxy 2.6 ``check_statuses[]`` (src/check.c) and ``srv_append_status``
(src/server.c).  Pure: no I/O.
"""

from __future__ import annotations

# check results (enum chk_result); order matters: >= PASSED means success
UNKNOWN, NEUTRAL, FAILED, PASSED, CONDPASS = 0, 1, 2, 3, 4

#: status code -> (rank, result, description).  ``rank`` orders the codes as HAProxy's
#: enum does; codes ranked above ``L57DATA`` carry layer 5-7 data and print ``code: N``.
STATUSES: dict[str, tuple[int, int, str]] = {
    "UNK": (0, UNKNOWN, "Unknown"),
    "INI": (1, UNKNOWN, "Initializing"),
    "CHECKED": (3, NEUTRAL, "No status change"),
    "HANA": (4, FAILED, "Health analyze"),
    "SOCKERR": (5, FAILED, "Socket error"),
    "L4OK": (6, PASSED, "Layer4 check passed"),
    "L4TOUT": (7, FAILED, "Layer4 timeout"),
    "L4CON": (8, FAILED, "Layer4 connection problem"),
    "L6OK": (9, PASSED, "Layer6 check passed"),
    "L6TOUT": (10, FAILED, "Layer6 timeout"),
    "L6RSP": (11, FAILED, "Layer6 invalid response"),
    "L7TOUT": (12, FAILED, "Layer7 timeout"),
    "L7RSP": (13, FAILED, "Layer7 invalid response"),
    "L7OK": (15, PASSED, "Layer7 check passed"),
    "L7OKC": (16, CONDPASS, "Layer7 check conditionally passed"),
    "L7STS": (17, FAILED, "Layer7 wrong status"),
    "PROCERR": (18, FAILED, "External check error"),
    "PROCTOUT": (19, FAILED, "External check timeout"),
    "PROCOK": (20, PASSED, "External check passed"),
}
L57DATA_RANK = 14

#: HAProxy's HCHK_DESC_LEN: the info text is cut to 127 bytes
DESC_LEN = 128


def result_of(status: str) -> int:
    """CHK_RES_* value of a status code."""
    return STATUSES.get(status, STATUSES["UNK"])[1]


def description(status: str) -> str:
    """Long description (``Layer7 wrong status``) of a status code."""
    return STATUSES.get(status, STATUSES["UNK"])[2]


def has_code(status: str) -> bool:
    """True when HAProxy prints ``code: N`` for this status (layer 5-7 data available)."""
    return STATUSES.get(status, STATUSES["UNK"])[0] > L57DATA_RANK


def ascii_encode(text: str, quote: str = '"') -> str:
    """HAProxy's ``chunk_asciiencode``: non-printable, non-ASCII, ``<``, ``>`` and the quote
    character become ``<XX>`` (uppercase hex of each UTF-8/raw byte)."""
    data = text.encode("utf-8", "surrogateescape")
    out = []
    q = ord(quote)
    for b in data:
        if b < 0x20 or b >= 0x7F or b in (0x3C, 0x3E, q):
            out.append(f"<{b:02X}>")
        else:
            out.append(chr(b))
    return "".join(out)


def truncate_desc(desc: str) -> str:
    """Cut an info text like HAProxy's ``strncpy(desc, HCHK_DESC_LEN-1)`` (stops at NUL)."""
    data = desc.encode("utf-8", "surrogateescape").split(b"\0", 1)[0][: DESC_LEN - 1]
    return data.decode("utf-8", "surrogateescape")


def format_reason(status: str, code: int, desc: str, duration: int) -> str:
    """The text HAProxy puts after ``reason: `` in server state-change lines.

    e.g. ``Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: 1ms``.
    """
    out = description(status)
    if has_code(status):
        out += f", code: {code}"
    if desc:
        out += f', info: "{ascii_encode(desc)}"'
    if duration >= 0:
        out += f", check duration: {duration}ms"
    return out
