"""``errorloc`` / ``errorloc302`` / ``errorloc303`` (gproxy.http.errors): the redirect
HAProxy 2.6 sends instead of an error page, its ``-c`` messages, and the order in which
``errorfile``, ``errorloc`` and ``errorfiles`` lines replace each other.

Bytes and texts captured from haproxy 2.6.12 (``haproxy -db`` and a raw socket,
``haproxy -c``).
"""

from __future__ import annotations

import pytest

from gproxy.config.model import Model, Proxy
from gproxy.http import errors

from .cfgtext import HTTP_HEAD as HEAD
from .cfgtext import parse

pytestmark = pytest.mark.timeout(10)


def proxy(model: Model, name: str) -> Proxy:
    px = next((p for p in model.proxies if p.name == name), None)
    assert px is not None
    return px


# ------------------------------------------------------------------ the message
def test_errorloc_message_bytes() -> None:
    assert errors.errorloc_raw(302, "http://example.com/denied") == (
        b"HTTP/1.1 302 Found\r\nCache-Control: no-cache\r\nContent-length: 0\r\n"
        b"Location: http://example.com/denied\r\n\r\n")
    assert errors.errorloc_raw(303, "/sorry?x=1").startswith(b"HTTP/1.1 303 See Other\r\n")


@pytest.mark.parametrize(
    "ka,req_minor,tail,stays",
    [
        (True, 1, b"", True),  # HTTP/1.1 keep-alive: nothing added
        (True, 0, b"connection: keep-alive\r\n", True),  # HTTP/1.0 + keep-alive
        (False, 0, b"connection: close\r\n", False),  # HTTP/1.0 without keep-alive
        (False, 1, b"connection: close\r\n", False),  # close (e.g. request body not read)
    ],
)
def test_errorloc_on_the_wire(ka: bool, req_minor: int, tail: bytes, stays: bool) -> None:
    """What haproxy 2.6.12 sent for ``errorloc 403 http://example.com/denied`` and a deny."""
    rep = errors.reply_from_raw(errors.errorloc_raw(302, "http://example.com/denied"))
    data, keep = rep.render(ka, req_minor)
    assert data == (b"HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\n"
                    b"location: http://example.com/denied\r\n" + tail + b"\r\n")
    assert keep is stays


def test_reply_picks_errorloc_backend_first() -> None:
    model, msgs = parse(HEAD + "frontend fe\n    bind :1\n    errorloc 503 /fe\n    errorloc303 403 /fe403\n"
                        "    default_backend be\nbackend be\n    errorloc302 503 /be\n")
    assert msgs == []
    fe, be = proxy(model, "fe"), proxy(model, "be")
    assert errors.reply(503, be, fe).headers[-1] == ("location", "/be")
    assert errors.reply(503, None, fe).headers[-1] == ("location", "/fe")
    r = errors.reply(403, be, fe)
    assert (r.status, r.reason, r.headers[-1]) == (303, "See Other", ("location", "/fe403"))
    assert errors.reply(404, be, fe) is errors.reply(404)  # built-in page


def test_defaults_are_inherited_and_overridden() -> None:
    model, _ = parse(HEAD.replace("mode http\n", "mode http\n    errorloc 503 /d\n    errorloc 502 /d502\n")
                     + "backend be\n    errorloc303 503 /own\n")
    be = proxy(model, "be")
    assert errors.reply(503, be).status == 303
    assert errors.reply(502, be).headers[-1] == ("location", "/d502")


@pytest.mark.parametrize("code", errors.CODES)
def test_every_handled_code(code: int) -> None:
    model, msgs = parse(HEAD + f"backend be\n    errorloc {code} /x\n")
    assert msgs == [] and errors.reply(code, proxy(model, "be")).status == 302


# ------------------------------------------------------------------ haproxy -c texts
@pytest.mark.parametrize(
    "line,msg",
    [
        ("errorloc 599 http://x/", "errorloc : status code '599' not handled."),
        ("errorloc abc http://x/", "errorloc : status code '0' not handled."),
        ("errorloc -1 /neg", "errorloc : status code '-1' not handled."),
        ("errorloc 4030000000000000000000 /big", "errorloc : status code '-1' not handled."),
        ("errorloc303 100 /x", "errorloc303 : status code '100' not handled."),
        ("errorloc 403", "errorloc : expects <status_code> and <url> as arguments.\n"),
        ("errorloc", "errorloc : expects <status_code> and <url> as arguments.\n"),
        ("errorloc302 403 \"\"", "errorloc302 : expects <status_code> and <url> as arguments.\n"),
    ],
)
def test_config_errors(line: str, msg: str) -> None:
    _, msgs = parse(HEAD + f"backend be\n    {line}\n")
    assert msgs == [f"ALERT: parsing [t.cfg:7] : {msg}"]


@pytest.mark.parametrize("text,code", [("403abc", 403), (" 404", 404), ("4294967699", 403), ("+503", 503)])
def test_status_read_with_atol(text: str, code: int) -> None:
    assert errors.status_code(text) == code
    model, msgs = parse(HEAD + f"backend be\n    errorloc \"{text}\" /x extra words ignored\n")
    assert msgs == [] and errors.reply(code, proxy(model, "be")).status == 302


def test_errorfile_and_errorfiles_read_status_with_atol() -> None:
    _, msgs = parse(HEAD + "backend be\n    errorfile abc /dev/null\n    errorfiles x 403abc 599\n")
    assert msgs == ["ALERT: parsing [t.cfg:7] : errorfile : status code '0' not handled.",
                    "ALERT: parsing [t.cfg:8] : errorfiles : status code '599' not handled."]


def test_not_implemented_warning_is_gone() -> None:
    _, msgs = parse(HEAD + "listen li\n    bind :1\n    errorloc 503 /a\n    errorloc302 503 /b\n"
                    "    errorloc303 503 /c\n")
    assert msgs == []


# ------------------------------------------------------------------ declaration order
def test_last_line_wins_with_errorfiles(tmp_path) -> None:
    """haproxy 2.6.12 on the wire: defaults' page first, then the proxy's lines in order
    (proxy_check_errors overwrites; an errorfiles reference is not a fallback)."""
    pages = {}
    for tag in "ABC":
        f = tmp_path / f"{tag}.http"
        f.write_bytes(b"HTTP/1.1 503 %s\r\nContent-Length: 1\r\n\r\n%s" % (tag.encode(), tag.encode()))
        pages[tag] = f
    text = (f"http-errors eb\n    errorfile 503 {pages['B']}\nhttp-errors ec\n    errorfile 503 {pages['C']}\n"
            + HEAD.replace("mode http\n", f"mode http\n    errorfile 503 {pages['A']}\n")
            + "backend b0\n"
            + "backend b1\n    errorfiles eb\n"
            + "backend b2\n    errorloc 503 /loc\n    errorfiles eb\n"
            + "backend b3\n    errorfiles eb\n    errorloc 503 /loc\n"
            + "backend b4\n    errorfiles eb\n    errorfiles ec\n"
            + f"backend b5\n    errorfiles ec\n    errorfile 503 {pages['B']}\n    errorloc 503 /loc5\n"
            + "backend b6\n    errorfiles eb 404\n")
    model, msgs = parse(text, check=True)
    assert [m for m in msgs if m.startswith("ALERT")] == []

    def got(name: str) -> str:
        r = errors.reply(503, proxy(model, name))
        return r.reason if r.status == 503 else dict(r.headers)["location"]

    assert [got(f"b{i}") for i in range(7)] == ["A", "B", "B", "/loc", "C", "/loc5", "A"]
