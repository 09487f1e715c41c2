"""parse.py's two roads to the same result: heads llhttp accepts are split by
``_llhttp_request``/``_llhttp_response`` and their special headers found in the
lower-cased text; every other head goes through HAProxy's rules (``_tokenize_*``).  For
any head llhttp accepts, the full parse (framing, connection tokens, merged headers,
errors) must be the same by either road."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gproxy.http import parse

_PIECES = [b"GET", b" ", b"/", b"#", b"HTTP/1.1", b"\r\n", b"Host", b": ", b":", b"x", b"y", b"\xff",
           b"Content-Length", b"content-length", b"Transfer-Encoding", b"chunked", b"5", b"6", b"5, 5",
           b"Connection", b"close", b"keep-alive", b"Keep-Alive, Upgrade", b"upgrade", b"Upgrade", b"websocket",
           b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ==", b"Expect", b"100-continue", b"A-B", b"h:443",
           b"Host: h:443", b"Host: h", b"\r\nHost: h", b"\r\nConnection: close", b"\r\nContent-Length: 5",
           b"\r\nContent-Length: 6", b"\r\nconnection: keep-alive", b"\r\nTransfer-Encoding: chunked"]


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        msg, info = fn(*args)
    except parse.ParseError as e:
        return ("error", e.status)
    out = {k: getattr(msg, k) for k in msg.__slots__ if k != "headers"}
    out["items"] = list(msg.headers.items)
    out.update({k: getattr(info, k) for k in info.__slots__ if k != "conn"})
    if info.conn is not None:
        out.update({"conn_" + k: getattr(info.conn, k) for k in info.conn.__slots__})
    return out


def _heads(seed: int, request: bool, n: int) -> list[bytes]:
    rnd = random.Random(seed)
    out = []
    while len(out) < n:
        if request:
            parts = [rnd.choice([b"GET", b"POST", b"CONNECT"]), b" ",
                     rnd.choice([b"/", b"http://h/p", b"h:443", b"http://h:80/x"]), b" ",
                     rnd.choice([b"HTTP/1.1", b"HTTP/1.0"])]
        else:
            parts = [rnd.choice([b"HTTP/1.1", b"HTTP/1.0"]), b" ", rnd.choice([b"200", b"101", b"204", b"304"]), b" OK"]
        for _ in range(rnd.randint(0, 5)):
            parts.append(b"\r\n")
            parts += [rnd.choice(_PIECES) for _ in range(rnd.randint(1, 4))]
        data = b"".join(parts)
        if parse.head_end(data + b"\r\n\r\n")[0] == len(data):
            out.append(data)
    return out


@pytest.mark.timeout(60)
@pytest.mark.parametrize("lax", [False, True])
def test_requests_same_by_both_roads(monkeypatch: pytest.MonkeyPatch, lax: bool) -> None:
    compared = 0
    for data in _heads(11, True, 4000):
        if parse._llhttp_request(data, lax) is None:
            continue
        fast = _outcome(parse.parse_request, data, lax)
        with monkeypatch.context() as m:
            m.setattr(parse, "_llhttp_request", lambda d, lx: None)
            slow = _outcome(parse.parse_request, data, lax)
        assert fast == slow, data
        compared += 1
    assert compared > 300


@pytest.mark.timeout(60)
def test_responses_same_by_both_roads(monkeypatch: pytest.MonkeyPatch) -> None:
    compared = 0
    for data in _heads(12, False, 3000):
        if parse._llhttp_response(data) is None:
            continue
        fast = _outcome(parse.parse_response, data)
        with monkeypatch.context() as m:
            m.setattr(parse, "_llhttp_response", lambda d: None)
            slow = _outcome(parse.parse_response, data)
        assert fast == slow, data
        compared += 1
    assert compared > 300


def test_llhttp_road_taken_for_common_heads() -> None:
    assert parse._llhttp_request(b"GET / HTTP/1.1\r\nHost: a", False) is not None
    assert parse._llhttp_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive") is not None
    # what llhttp would accept but HAProxy refuses or rewrites goes the HAProxy-rules road
    assert parse._llhttp_request(b"GET /a#b HTTP/1.1\r\nHost: a", False) is None
    assert parse._llhttp_request(b"GET /\r\nHost: a", False) is None  # HTTP/0.9
