"""Capture slots: ``declare capture``, ``http-request capture``, ``http-response
capture``, ``capture.req.hdr``/``capture.res.hdr`` and ``capture ... header`` in the
wrong section.  Every expected message is what ``haproxy -c`` 2.6.12 printed for the
same line (2026-11-27)."""

from __future__ import annotations

import pytest

from .cfgtext import HTTP_HEAD, parse_checked

FE = "frontend fe\n    bind 127.0.0.1:1\n{line}\n    default_backend be\nbackend be\n    server s 127.0.0.1:2\n"
BE = "frontend fe\n    bind 127.0.0.1:1\n    default_backend be\nbackend be\n{line}\n    server s 127.0.0.1:2\n"
RULE = "error detected in frontend 'fe' while parsing '{rs} capture' rule : {text}."


def alerts(text: str) -> list[str]:
    _, msgs = parse_checked(text)
    return [m for m in msgs if m.startswith("ALERT")]


@pytest.mark.parametrize(
    "line, message",
    [
        ("declare capture", "'declare capture' requires a direction ('request' or 'response')"),
        ("declare foo", "unknown declaration type 'foo' (supports 'capture')"),
        ("declare capture req len 3", "'declare capture' requires a direction ('request' or 'response')"),
        ("declare capture request", "'declare capture' requires a capture length ('len')"),
        ("declare capture request size 3", "'declare capture' requires a capture length ('len')"),
        ("declare capture request len", "'declare capture': 'len' requires a numeric value that represents the capture length"),
        ("declare capture request len x", "'declare capture': cannot parse the length 'len'."),
        ("declare capture request len 3abc", "'declare capture': cannot parse the length 'len'."),
        ("declare capture request len 0", "length must be > 0"),
        ("http-request capture", RULE.format(rs="http-request", text="expects <expression> [ 'len' <length> | id <idx> ]")),
        ("http-request capture path", RULE.format(rs="http-request", text="expects <expression> [ 'len' <length> | id <idx> ]")),
        ("http-request capture path len", RULE.format(rs="http-request", text="expects <expression> [ 'len' <length> | id <idx> ]")),
        ("http-request capture path len 0", RULE.format(rs="http-request", text="length must be > 0")),
        ("http-request capture path len -1", RULE.format(rs="http-request", text="length must be > 0")),
        ("http-request capture path id x", RULE.format(rs="http-request", text="cannot parse id 'x'")),
        ("http-request capture path id 0x1", RULE.format(rs="http-request", text="cannot parse id '0x1'")),
        ("http-request capture path foo 3", RULE.format(rs="http-request", text="expects 'len' or 'id', found 'foo'")),
        ("http-request capture res.hdr(a) len 3", RULE.format(
            rs="http-request", text="fetch method 'res.hdr(a)' extracts information from 'HTTP response headers', "
            "none of which is available here")),
        ("http-response capture path id 0", RULE.format(
            rs="http-response", text="fetch method 'path' extracts information from 'HTTP request headers', "
            "none of which is available here")),
        ("http-response capture res.hdr(a) len 3", RULE.format(rs="http-response", text="expects 'id', found 'len'")),
        ("http-response capture res.hdr(a)", RULE.format(rs="http-response", text="expects <expression> id <idx>")),
        ("http-request capture path len 3 foo", ("parsing [t.cfg:8]: 'http-request capture' expects either 'if' or "
         "'unless' followed by a condition but found 'foo'.")),
        ("http-request capture path id 7", ("Proxy 'fe': unable to find capture id '7' referenced by http-request "
         "capture rule.")),
        ("http-response capture res.hdr(a) id 3", ("Proxy 'fe': unable to find capture id '3' referenced by "
         "http-response capture rule.")),
        ("http-request set-header X %[capture.req.hdr]", ("error detected in frontend 'fe' while parsing "
         "'http-request set-header' rule : failed to parse sample expression <capture.req.hdr]> : fetch method "
         "'capture.req.hdr' : expected type 'integer' at position 1, but got nothing.")),
        ("http-request set-header X %[capture.res.hdr(0)]", ("error detected in frontend 'fe' while parsing "
         "'http-request set-header' rule : sample fetch <capture.res.hdr(0)]> may not be reliably used here because "
         "it needs 'HTTP response' which is not available here.")),
    ],
)
def test_frontend_errors(line: str, message: str) -> None:
    assert alerts(HTTP_HEAD + FE.format(line="    " + line))[0] == f"ALERT: {message}"


@pytest.mark.parametrize(
    "line",
    ["declare capture request len 20", "declare capture response len 5 extra", "http-request capture path len 3abc",
     "http-request capture path id -1", "http-request capture path len 3 if TRUE",
     "declare capture request len 2\n    http-request capture path id 0"],
)
def test_frontend_accepted(line: str) -> None:
    assert alerts(HTTP_HEAD + FE.format(line="    " + line)) == []


@pytest.mark.parametrize(
    "line, message",
    [
        ("declare capture request len 3", "'declare' only available in frontend or listen section"),
        ("http-request capture path len 3", ("error detected in backend 'be' while parsing 'http-request capture' "
         "rule : proxy 'be' has no frontend capability.")),
        ("http-request capture path id 3", None),  # the slots are the frontend's: not checked
        ("http-response capture res.hdr(a) id 3", None),
    ],
)
def test_backend(line: str, message: str | None) -> None:
    got = alerts(HTTP_HEAD + BE.format(line="    " + line))
    assert (got[0] if got else None) == (f"ALERT: {message}" if message else None)


@pytest.mark.parametrize(
    "line, message",
    [
        ("capture request", "'capture' expects 'cookie' or 'request header' or 'response header'."),
        ("capture cookie", "'capture cookie' not allowed in 'defaults' section."),
        ("capture request header X len 3", "'capture request' not allowed in 'defaults' section."),
        ("capture response header X len 3", "'capture response' not allowed in 'defaults' section."),
        ("declare capture request len 3", "'declare' not available in default section"),
        ("declare foo", "'declare' not available in default section"),
    ],
)
def test_defaults(line: str, message: str) -> None:
    assert alerts(f"defaults\n    mode http\n    {line}\n")[0] == f"ALERT: {message}"


def test_slots_are_numbered_in_declaration_order() -> None:
    """``capture request header``, ``declare capture`` and ``http-request capture ... len``
    share one numbering (HAProxy's nb_req_cap); ``id`` names a slot without adding one."""
    model, msgs = parse_checked(HTTP_HEAD + FE.format(line=(
        "    capture request header Host len 10\n"
        "    declare capture request len 20\n"
        "    http-request capture req.hdr(User-Agent) len 5\n"
        "    http-request capture path id 1\n"
        "    capture response header Server len 8\n"
        "    declare capture response len 10\n"
        "    http-response capture res.hdr(Content-Type) id 1")))
    assert not [m for m in msgs if m.startswith("ALERT")]
    fe = next(p for p in model.proxies if p.name == "fe")
    assert fe.captures_req == [("Host", 10), (None, 20), (None, 5)]
    assert fe.captures_rsp == [("Server", 8), (None, 10)]
