"""Unit tests for cookie persistence (gproxy/http/cookie.py): the ``cookie`` keyword,
``request_server`` / ``apply_response`` over message objects, the date codec, the
``nocache`` cacheability test, dynamic cookies and ``validate``.

``HAPROXY_CASES`` was recorded from HAProxy 2.6.12 (Debian package): a ``listen``
section in ``mode http`` with ``nbthread 1``, the ``cookie`` line shown, three servers
``s1 s2 s3`` (``cookie c1``, ``cookie c2``, no cookie unless the scenario says
otherwise, see ``SCENARIOS``), each a small Python HTTP server on 127.0.0.1 that records
the request it receives and answers with the response headers the test asked for (the
``Set-Cookie`` lines of a row) plus ``Content-Length``.  For each row, one request
``METHOD / HTTP/1.1`` with the row's ``Cookie`` lines was sent on its own connection;
recorded were: the server that got it, whether HAProxy chose it from the cookie (else
by round robin, which these tests do not re-check: the row's server is handed to
``apply_response``), the two cookie characters of ``%tsc`` (``log-format "%s %tsc"``),
the ``cookie`` lines the server received, and the response headers the client received
(``content-length`` and ``connection`` left out).  ``now`` is the Unix time the request
was sent at, for rows whose bytes depend on it (dates; 0 elsewhere).  Every row was
checked against gproxy in the same run.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest

import gproxy.http.cookie as ck
from gproxy.config import load
from gproxy.config.model import Proxy, ServerSpec
from gproxy.http.message import Headers, Request, Response, Txn
from gproxy.registry import SECTION_KEYWORDS, ConfigError
from gproxy.server import Server


class FakeBackend:
    """What ``request_server`` reads from a backend: ``servers`` and ``spec.options``."""

    def __init__(self, name: str = "l") -> None:
        self.name = name
        self.servers: list[Server] = []
        self.spec = Proxy("listen", name)
        self.server_changed = lambda s: None


#: scenario -> (config lines, server options s1..s3)
SCENARIOS: dict[str, tuple[list[str], list[str]]] = {
    "": ([], ["cookie c1", "cookie c2", ""]),
    "down": ([], ["cookie c1 disabled", "cookie c2", "cookie c3"]),
    "persist": (["option persist"], ["cookie c1 disabled", "cookie c2", "cookie c3"]),
    "force": (["force-persist if { always_true }"], ["cookie c1 disabled", "cookie c2", "cookie c3"]),
    "shared": ([], ["cookie c1 disabled", "cookie c1", "cookie c3"]),
    "use-s3": (["use-server s3 if { always_true }"], ["cookie c1", "cookie c2", ""]),
    "ignore": (["ignore-persist if { always_true }"], ["cookie c1", "cookie c2", ""]),
}


def backend(scenario: str = "") -> FakeBackend:
    lines, opts = SCENARIOS[scenario]
    be = FakeBackend()
    if "option persist" in lines:
        be.spec.options["persist"] = True
    for i, o in enumerate(opts, 1):
        w = o.split()
        spec = ServerSpec(
            name=f"s{i}",
            cookie=w[w.index("cookie") + 1] if "cookie" in w else None,
            disabled="disabled" in w,
            backup="backup" in w,
        )
        be.servers.append(Server(be, spec, i))
    return be


def headers(lines: tuple[str, ...] | list[str]) -> Headers:
    h = Headers()
    for line in lines:
        k, _, v = line.partition(":")
        h.add(k.strip(), v.strip())
    return h


def txn_for(method: str, cookies: tuple[str, ...] | list[str]) -> Txn:
    return Txn(None, Request(method, "/", headers=headers(["Host: x"] + [f"Cookie: {c}" for c in cookies])))


def spec_of(line: str) -> ck.CookieSpec:
    return ck.parse_cookie(line.split())


# (cookie line after 'cookie', scenario, now, method, request Cookie lines, server response
#  headers, server used, chosen by the cookie, %tsc cookie chars, Cookie lines the server
#  got, response headers the client got)
HAPROXY_CASES: list[tuple[Any, ...]] = [
    # cookie SRV insert
    ('SRV insert', '', 0, 'GET', (), (), 's1', False, 'NI', (), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NI', (), ('set-cookie: SRV=c2; path=/',)),
    ('SRV insert', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VD', ('SRV=c1',), ()),
    ('SRV insert', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'II', ('SRV=zz',), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert', '', 0, 'GET', ('SRV=c1~xyz; a=1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, 'II', ('SRV=c1~xyz; a=1',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 0, 'GET', ('SRV=c2~xyz',), (), 's2', False, 'II', ('SRV=c2~xyz',), ('set-cookie: SRV=c2; path=/',)),
    ('SRV insert', '', 0, 'GET', ('a=1 ;  SRV=c2  ;b=2',), (), 's2', True, 'VN', ('a=1 ;  SRV=c2  ;b=2',), ()),
    ('SRV insert', '', 0, 'GET', ('$Version=1; SRV=c2; $Path=/; a=1',), (), 's2', True, 'VN', ('$Version=1; SRV=c2; $Path=/; a=1',), ()),
    ('SRV insert', '', 0, 'GET', ('a=1', 'SRV=c2', 'b=2'), (), 's2', True, 'VN', ('a=1', 'SRV=c2', 'b=2'), ()),
    ('SRV insert', '', 0, 'GET', ('SRV = c2 ; a = 1',), (), 's2', True, 'VN', ('SRV=c2 ; a=1',), ()),
    ('SRV insert', '', 0, 'GET', ('SRV=c2; SRV=c1',), (), 's2', True, 'VN', ('SRV=c2; SRV=c1',), ()),
    ('SRV insert', '', 0, 'GET', ('SRV=',), (), 's3', False, 'II', ('SRV=',), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert', '', 0, 'GET', ('a, SRV=c1',), (), 's1', True, 'VN', ('a, SRV=c1',), ()),
    ('SRV insert', '', 0, 'GET', ('SRV=c2',), ('Set-Cookie: SRV = abc ; path=/', 'Set-Cookie: other=1', 'Set-Cookie: a=1; SRV=x'), 's2', True, 'VD', ('SRV=c2',), ('set-cookie: other=1', 'set-cookie: a=1; SRV=x')),
    ('SRV insert', '', 0, 'GET', (), ('Set-Cookie: SRV=', 'Set-Cookie: SRV'), 's1', False, 'NI', (), ('set-cookie: SRV', 'set-cookie: SRV=c1; path=/')),
    ('SRV insert', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie2: other=2, SRV=abc; Version=1, x=3',), 's1', True, 'VD', ('SRV=c1',), ('set-cookie2: other=2, x=3=abc; Version=1, x=3',)),
    ('SRV insert', '', 0, 'GET', (), ('Set-Cookie2: SRV=abc; Version=1, other=2',), 's2', False, 'NI', (), ('set-cookie2: other=2; Version=1, other=2', 'set-cookie: SRV=c2; path=/')),
    # cookie SRV insert indirect
    ('SRV insert indirect', '', 0, 'GET', (), (), 's1', False, 'NI', (), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert indirect', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NI', (), ('set-cookie: SRV=c2; path=/',)),
    ('SRV insert indirect', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VD', (), ()),
    ('SRV insert indirect', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'II', (), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert indirect', '', 0, 'GET', ('SRV=c1~xyz; a=1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, 'II', ('a=1',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert indirect', '', 0, 'GET', ('SRV=c2~xyz',), (), 's2', False, 'II', (), ('set-cookie: SRV=c2; path=/',)),
    ('SRV insert indirect', '', 0, 'GET', ('a=1 ;  SRV=c2  ;b=2',), (), 's2', True, 'VN', ('a=1; b=2',), ()),
    ('SRV insert indirect', '', 0, 'GET', ('$Version=1; SRV=c2; $Path=/; a=1',), (), 's2', True, 'VN', ('$Version=1; a=1',), ()),
    ('SRV insert indirect', '', 0, 'GET', ('a=1', 'SRV=c2', 'b=2'), (), 's2', True, 'VN', ('a=1', 'b=2'), ()),
    ('SRV insert indirect', '', 0, 'GET', ('SRV = c2 ; a = 1',), (), 's2', True, 'VN', ('a=1',), ()),
    ('SRV insert indirect', '', 0, 'GET', ('SRV=c2; SRV=c1',), (), 's2', True, 'VN', (), ()),
    ('SRV insert indirect', '', 0, 'GET', ('SRV=',), (), 's3', False, 'II', (), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert indirect', '', 0, 'GET', ('a, SRV=c1',), (), 's1', True, 'VN', ('a',), ()),
    ('SRV insert indirect', '', 0, 'GET', ('SRV=c2',), ('Set-Cookie: SRV = abc ; path=/', 'Set-Cookie: other=1', 'Set-Cookie: a=1; SRV=x'), 's2', True, 'VD', (), ('set-cookie: other=1', 'set-cookie: a=1; SRV=x')),
    ('SRV insert indirect', '', 0, 'GET', (), ('Set-Cookie: SRV=', 'Set-Cookie: SRV'), 's1', False, 'NI', (), ('set-cookie: SRV', 'set-cookie: SRV=c1; path=/')),
    ('SRV insert indirect', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie2: other=2, SRV=abc; Version=1, x=3',), 's1', True, 'VD', (), ('set-cookie2: other=2, x=3=abc; Version=1, x=3',)),
    ('SRV insert indirect', '', 0, 'GET', (), ('Set-Cookie2: SRV=abc; Version=1, other=2',), 's2', False, 'NI', (), ('set-cookie2: other=2; Version=1, other=2', 'set-cookie: SRV=c2; path=/')),
    # cookie SRV rewrite
    ('SRV rewrite', '', 0, 'GET', (), (), 's1', False, 'NN', (), ()),
    ('SRV rewrite', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NR', (), ('set-cookie: SRV=c2; path=/',)),
    ('SRV rewrite', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VR', ('SRV=c1',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV rewrite', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'IN', ('SRV=zz',), ()),
    ('SRV rewrite', '', 0, 'GET', ('SRV=c1~xyz; a=1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, 'IR', ('SRV=c1~xyz; a=1',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV rewrite', '', 0, 'GET', ('SRV=c2~xyz',), (), 's2', False, 'IN', ('SRV=c2~xyz',), ()),
    ('SRV rewrite', '', 0, 'GET', ('a=1 ;  SRV=c2  ;b=2',), (), 's2', True, 'VN', ('a=1 ;  SRV=c2  ;b=2',), ()),
    ('SRV rewrite', '', 0, 'GET', ('$Version=1; SRV=c2; $Path=/; a=1',), (), 's2', True, 'VN', ('$Version=1; SRV=c2; $Path=/; a=1',), ()),
    ('SRV rewrite', '', 0, 'GET', ('a=1', 'SRV=c2', 'b=2'), (), 's2', True, 'VN', ('a=1', 'SRV=c2', 'b=2'), ()),
    ('SRV rewrite', '', 0, 'GET', ('SRV = c2 ; a = 1',), (), 's2', True, 'VN', ('SRV=c2 ; a=1',), ()),
    ('SRV rewrite', '', 0, 'GET', ('SRV=c2; SRV=c1',), (), 's2', True, 'VN', ('SRV=c2; SRV=c1',), ()),
    ('SRV rewrite', '', 0, 'GET', ('SRV=',), (), 's3', False, 'IN', ('SRV=',), ()),
    ('SRV rewrite', '', 0, 'GET', ('a, SRV=c1',), (), 's1', True, 'VN', ('a, SRV=c1',), ()),
    ('SRV rewrite', '', 0, 'GET', ('SRV=c2',), ('Set-Cookie: SRV = abc ; path=/', 'Set-Cookie: other=1', 'Set-Cookie: a=1; SRV=x'), 's2', True, 'VR', ('SRV=c2',), ('set-cookie: SRV=c2 ; path=/', 'set-cookie: other=1', 'set-cookie: a=1; SRV=x')),
    ('SRV rewrite', '', 0, 'GET', (), ('Set-Cookie: SRV=', 'Set-Cookie: SRV'), 's1', False, 'NR', (), ('set-cookie: SRV=c1', 'set-cookie: SRV')),
    ('SRV rewrite', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie2: other=2, SRV=abc; Version=1, x=3',), 's1', True, 'VR', ('SRV=c1',), ('set-cookie2: other=2, SRV=c1; Version=1, x=3',)),
    ('SRV rewrite', '', 0, 'GET', (), ('Set-Cookie2: SRV=abc; Version=1, other=2',), 's2', False, 'NR', (), ('set-cookie2: SRV=c2; Version=1, other=2',)),
    # cookie SRV prefix
    ('SRV prefix', '', 0, 'GET', (), (), 's1', False, 'NN', (), ()),
    ('SRV prefix', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NR', (), ('set-cookie: SRV=c2~abc; path=/',)),
    ('SRV prefix', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VR', ('SRV=c1',), ('set-cookie: SRV=c1~abc; path=/',)),
    ('SRV prefix', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'IN', ('SRV=zz',), ()),
    ('SRV prefix', '', 0, 'GET', ('SRV=c1~xyz; a=1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VR', ('SRV=xyz; a=1',), ('set-cookie: SRV=c1~abc; path=/',)),
    ('SRV prefix', '', 0, 'GET', ('SRV=c2~xyz',), (), 's2', True, 'VN', ('SRV=xyz',), ()),
    ('SRV prefix', '', 0, 'GET', ('a=1 ;  SRV=c2  ;b=2',), (), 's2', True, 'VN', ('a=1 ;  SRV=c2  ;b=2',), ()),
    ('SRV prefix', '', 0, 'GET', ('$Version=1; SRV=c2; $Path=/; a=1',), (), 's2', True, 'VN', ('$Version=1; SRV=c2; $Path=/; a=1',), ()),
    ('SRV prefix', '', 0, 'GET', ('a=1', 'SRV=c2', 'b=2'), (), 's2', True, 'VN', ('a=1', 'SRV=c2', 'b=2'), ()),
    ('SRV prefix', '', 0, 'GET', ('SRV = c2 ; a = 1',), (), 's2', True, 'VN', ('SRV=c2 ; a=1',), ()),
    ('SRV prefix', '', 0, 'GET', ('SRV=c2; SRV=c1',), (), 's2', True, 'VN', ('SRV=c2; SRV=c1',), ()),
    ('SRV prefix', '', 0, 'GET', ('SRV=',), (), 's1', False, 'IN', ('SRV=',), ()),
    ('SRV prefix', '', 0, 'GET', ('a, SRV=c1',), (), 's1', True, 'VN', ('a, SRV=c1',), ()),
    ('SRV prefix', '', 0, 'GET', ('SRV=c2',), ('Set-Cookie: SRV = abc ; path=/', 'Set-Cookie: other=1', 'Set-Cookie: a=1; SRV=x'), 's2', True, 'VR', ('SRV=c2',), ('set-cookie: SRV=c2~abc ; path=/', 'set-cookie: other=1', 'set-cookie: a=1; SRV=x')),
    ('SRV prefix', '', 0, 'GET', (), ('Set-Cookie: SRV=', 'Set-Cookie: SRV'), 's2', False, 'NR', (), ('set-cookie: SRV=c2~', 'set-cookie: SRV')),
    ('SRV prefix', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie2: other=2, SRV=abc; Version=1, x=3',), 's1', True, 'VR', ('SRV=c1',), ('set-cookie2: other=2, SRV=c1~abc; Version=1, x=3',)),
    ('SRV prefix', '', 0, 'GET', (), ('Set-Cookie2: SRV=abc; Version=1, other=2',), 's3', False, 'NP', (), ('set-cookie2: SRV=abc; Version=1, other=2',)),
    # cookie SRV prefix indirect
    ('SRV prefix indirect', '', 0, 'GET', (), (), 's1', False, 'NN', (), ()),
    ('SRV prefix indirect', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NR', (), ('set-cookie: SRV=c2~abc; path=/',)),
    ('SRV prefix indirect', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VD', ('SRV=c1',), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'IN', ('SRV=zz',), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('SRV=c1~xyz; a=1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VD', ('SRV=xyz; a=1',), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('SRV=c2~xyz',), (), 's2', True, 'VN', ('SRV=xyz',), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('a=1 ;  SRV=c2  ;b=2',), (), 's2', True, 'VN', ('a=1 ;  SRV=c2  ;b=2',), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('$Version=1; SRV=c2; $Path=/; a=1',), (), 's2', True, 'VN', ('$Version=1; SRV=c2; $Path=/; a=1',), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('a=1', 'SRV=c2', 'b=2'), (), 's2', True, 'VN', ('a=1', 'SRV=c2', 'b=2'), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('SRV = c2 ; a = 1',), (), 's2', True, 'VN', ('SRV=c2 ; a=1',), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('SRV=c2; SRV=c1',), (), 's2', True, 'VN', ('SRV=c2; SRV=c1',), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('SRV=',), (), 's1', False, 'IN', ('SRV=',), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('a, SRV=c1',), (), 's1', True, 'VN', ('a, SRV=c1',), ()),
    ('SRV prefix indirect', '', 0, 'GET', ('SRV=c2',), ('Set-Cookie: SRV = abc ; path=/', 'Set-Cookie: other=1', 'Set-Cookie: a=1; SRV=x'), 's2', True, 'VD', ('SRV=c2',), ('set-cookie: other=1', 'set-cookie: a=1; SRV=x')),
    ('SRV prefix indirect', '', 0, 'GET', (), ('Set-Cookie: SRV=', 'Set-Cookie: SRV'), 's2', False, 'NR', (), ('set-cookie: SRV=c2~', 'set-cookie: SRV')),
    ('SRV prefix indirect', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie2: other=2, SRV=abc; Version=1, x=3',), 's1', True, 'VD', ('SRV=c1',), ('set-cookie2: other=2, x=3=abc; Version=1, x=3',)),
    ('SRV prefix indirect', '', 0, 'GET', (), ('Set-Cookie2: SRV=abc; Version=1, other=2',), 's3', False, 'NP', (), ('set-cookie2: SRV=abc; Version=1, other=2',)),
    # cookie SRV
    ('SRV', '', 0, 'GET', (), (), 's1', False, '--', (), ()),
    ('SRV', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, '--', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, '--', ('SRV=c1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV', '', 0, 'GET', ('SRV=zz',), (), 's3', False, '--', ('SRV=zz',), ()),
    ('SRV', '', 0, 'GET', ('SRV=c1~xyz; a=1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, '--', ('SRV=c1~xyz; a=1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV', '', 0, 'GET', ('SRV=c2~xyz',), (), 's2', False, '--', ('SRV=c2~xyz',), ()),
    ('SRV', '', 0, 'GET', ('a=1 ;  SRV=c2  ;b=2',), (), 's2', True, '--', ('a=1 ;  SRV=c2  ;b=2',), ()),
    ('SRV', '', 0, 'GET', ('$Version=1; SRV=c2; $Path=/; a=1',), (), 's2', True, '--', ('$Version=1; SRV=c2; $Path=/; a=1',), ()),
    ('SRV', '', 0, 'GET', ('a=1', 'SRV=c2', 'b=2'), (), 's2', True, '--', ('a=1', 'SRV=c2', 'b=2'), ()),
    ('SRV', '', 0, 'GET', ('SRV = c2 ; a = 1',), (), 's2', True, '--', ('SRV=c2 ; a=1',), ()),
    ('SRV', '', 0, 'GET', ('SRV=c2; SRV=c1',), (), 's2', True, '--', ('SRV=c2; SRV=c1',), ()),
    ('SRV', '', 0, 'GET', ('SRV=',), (), 's3', False, '--', ('SRV=',), ()),
    ('SRV', '', 0, 'GET', ('a, SRV=c1',), (), 's1', True, '--', ('a, SRV=c1',), ()),
    ('SRV', '', 0, 'GET', ('SRV=c2',), ('Set-Cookie: SRV = abc ; path=/', 'Set-Cookie: other=1', 'Set-Cookie: a=1; SRV=x'), 's2', True, '--', ('SRV=c2',), ('set-cookie: SRV=abc ; path=/', 'set-cookie: other=1', 'set-cookie: a=1; SRV=x')),
    ('SRV', '', 0, 'GET', (), ('Set-Cookie: SRV=', 'Set-Cookie: SRV'), 's1', False, '--', (), ('set-cookie: SRV=', 'set-cookie: SRV')),
    ('SRV', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie2: other=2, SRV=abc; Version=1, x=3',), 's1', True, '--', ('SRV=c1',), ('set-cookie2: other=2, SRV=abc; Version=1, x=3',)),
    ('SRV', '', 0, 'GET', (), ('Set-Cookie2: SRV=abc; Version=1, other=2',), 's2', False, '--', (), ('set-cookie2: SRV=abc; Version=1, other=2',)),
    # cookie SRV indirect
    ('SRV indirect', '', 0, 'GET', (), (), 's1', False, 'NN', (), ()),
    ('SRV indirect', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NP', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV indirect', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VD', ('SRV=c1',), ()),
    ('SRV indirect', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'IN', ('SRV=zz',), ()),
    ('SRV indirect', '', 0, 'GET', ('SRV=c1~xyz; a=1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, 'IP', ('SRV=c1~xyz; a=1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV indirect', '', 0, 'GET', ('SRV=c2~xyz',), (), 's2', False, 'IN', ('SRV=c2~xyz',), ()),
    ('SRV indirect', '', 0, 'GET', ('a=1 ;  SRV=c2  ;b=2',), (), 's2', True, 'VN', ('a=1 ;  SRV=c2  ;b=2',), ()),
    ('SRV indirect', '', 0, 'GET', ('$Version=1; SRV=c2; $Path=/; a=1',), (), 's2', True, 'VN', ('$Version=1; SRV=c2; $Path=/; a=1',), ()),
    ('SRV indirect', '', 0, 'GET', ('a=1', 'SRV=c2', 'b=2'), (), 's2', True, 'VN', ('a=1', 'SRV=c2', 'b=2'), ()),
    ('SRV indirect', '', 0, 'GET', ('SRV = c2 ; a = 1',), (), 's2', True, 'VN', ('SRV=c2 ; a=1',), ()),
    ('SRV indirect', '', 0, 'GET', ('SRV=c2; SRV=c1',), (), 's2', True, 'VN', ('SRV=c2; SRV=c1',), ()),
    ('SRV indirect', '', 0, 'GET', ('SRV=',), (), 's3', False, 'IN', ('SRV=',), ()),
    ('SRV indirect', '', 0, 'GET', ('a, SRV=c1',), (), 's1', True, 'VN', ('a, SRV=c1',), ()),
    ('SRV indirect', '', 0, 'GET', ('SRV=c2',), ('Set-Cookie: SRV = abc ; path=/', 'Set-Cookie: other=1', 'Set-Cookie: a=1; SRV=x'), 's2', True, 'VD', ('SRV=c2',), ('set-cookie: other=1', 'set-cookie: a=1; SRV=x')),
    ('SRV indirect', '', 0, 'GET', (), ('Set-Cookie: SRV=', 'Set-Cookie: SRV'), 's1', False, 'NP', (), ('set-cookie: SRV=', 'set-cookie: SRV')),
    ('SRV indirect', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie2: other=2, SRV=abc; Version=1, x=3',), 's1', True, 'VD', ('SRV=c1',), ('set-cookie2: other=2, x=3=abc; Version=1, x=3',)),
    ('SRV indirect', '', 0, 'GET', (), ('Set-Cookie2: SRV=abc; Version=1, other=2',), 's2', False, 'NP', (), ('set-cookie2: SRV=abc; Version=1, other=2',)),
    # cookie SRV insert preserve
    ('SRV insert preserve', '', 0, 'GET', (), (), 's1', False, 'NI', (), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert preserve', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NP', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV insert preserve', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VP', ('SRV=c1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV insert preserve', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'II', ('SRV=zz',), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert preserve', '', 0, 'GET', ('SRV=c1~xyz; a=1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, 'IP', ('SRV=c1~xyz; a=1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV insert preserve', '', 0, 'GET', ('SRV=c2~xyz',), (), 's2', False, 'II', ('SRV=c2~xyz',), ('set-cookie: SRV=c2; path=/',)),
    ('SRV insert preserve', '', 0, 'GET', ('a=1 ;  SRV=c2  ;b=2',), (), 's2', True, 'VN', ('a=1 ;  SRV=c2  ;b=2',), ()),
    ('SRV insert preserve', '', 0, 'GET', ('$Version=1; SRV=c2; $Path=/; a=1',), (), 's2', True, 'VN', ('$Version=1; SRV=c2; $Path=/; a=1',), ()),
    ('SRV insert preserve', '', 0, 'GET', ('a=1', 'SRV=c2', 'b=2'), (), 's2', True, 'VN', ('a=1', 'SRV=c2', 'b=2'), ()),
    ('SRV insert preserve', '', 0, 'GET', ('SRV = c2 ; a = 1',), (), 's2', True, 'VN', ('SRV=c2 ; a=1',), ()),
    ('SRV insert preserve', '', 0, 'GET', ('SRV=c2; SRV=c1',), (), 's2', True, 'VN', ('SRV=c2; SRV=c1',), ()),
    ('SRV insert preserve', '', 0, 'GET', ('SRV=',), (), 's3', False, 'II', ('SRV=',), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert preserve', '', 0, 'GET', ('a, SRV=c1',), (), 's1', True, 'VN', ('a, SRV=c1',), ()),
    ('SRV insert preserve', '', 0, 'GET', ('SRV=c2',), ('Set-Cookie: SRV = abc ; path=/', 'Set-Cookie: other=1', 'Set-Cookie: a=1; SRV=x'), 's2', True, 'VP', ('SRV=c2',), ('set-cookie: SRV=abc ; path=/', 'set-cookie: other=1', 'set-cookie: a=1; SRV=x')),
    ('SRV insert preserve', '', 0, 'GET', (), ('Set-Cookie: SRV=', 'Set-Cookie: SRV'), 's1', False, 'NP', (), ('set-cookie: SRV=', 'set-cookie: SRV')),
    ('SRV insert preserve', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie2: other=2, SRV=abc; Version=1, x=3',), 's1', True, 'VP', ('SRV=c1',), ('set-cookie2: other=2, SRV=abc; Version=1, x=3',)),
    ('SRV insert preserve', '', 0, 'GET', (), ('Set-Cookie2: SRV=abc; Version=1, other=2',), 's2', False, 'NP', (), ('set-cookie2: SRV=abc; Version=1, other=2',)),
    # cookie SRV insert indirect preserve
    ('SRV insert indirect preserve', '', 0, 'GET', (), (), 's1', False, 'NI', (), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert indirect preserve', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NP', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV insert indirect preserve', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VP', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV insert indirect preserve', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'II', (), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert indirect preserve', '', 0, 'GET', ('SRV=c1~xyz; a=1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, 'IP', ('a=1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV insert indirect preserve', '', 0, 'GET', ('SRV=c2~xyz',), (), 's2', False, 'II', (), ('set-cookie: SRV=c2; path=/',)),
    ('SRV insert indirect preserve', '', 0, 'GET', ('a=1 ;  SRV=c2  ;b=2',), (), 's2', True, 'VN', ('a=1; b=2',), ()),
    ('SRV insert indirect preserve', '', 0, 'GET', ('$Version=1; SRV=c2; $Path=/; a=1',), (), 's2', True, 'VN', ('$Version=1; a=1',), ()),
    ('SRV insert indirect preserve', '', 0, 'GET', ('a=1', 'SRV=c2', 'b=2'), (), 's2', True, 'VN', ('a=1', 'b=2'), ()),
    ('SRV insert indirect preserve', '', 0, 'GET', ('SRV = c2 ; a = 1',), (), 's2', True, 'VN', ('a=1',), ()),
    ('SRV insert indirect preserve', '', 0, 'GET', ('SRV=c2; SRV=c1',), (), 's2', True, 'VN', (), ()),
    ('SRV insert indirect preserve', '', 0, 'GET', ('SRV=',), (), 's3', False, 'II', (), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert indirect preserve', '', 0, 'GET', ('a, SRV=c1',), (), 's1', True, 'VN', ('a',), ()),
    ('SRV insert indirect preserve', '', 0, 'GET', ('SRV=c2',), ('Set-Cookie: SRV = abc ; path=/', 'Set-Cookie: other=1', 'Set-Cookie: a=1; SRV=x'), 's2', True, 'VP', (), ('set-cookie: SRV=abc ; path=/', 'set-cookie: other=1', 'set-cookie: a=1; SRV=x')),
    ('SRV insert indirect preserve', '', 0, 'GET', (), ('Set-Cookie: SRV=', 'Set-Cookie: SRV'), 's1', False, 'NP', (), ('set-cookie: SRV=', 'set-cookie: SRV')),
    ('SRV insert indirect preserve', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie2: other=2, SRV=abc; Version=1, x=3',), 's1', True, 'VP', (), ('set-cookie2: other=2, SRV=abc; Version=1, x=3',)),
    ('SRV insert indirect preserve', '', 0, 'GET', (), ('Set-Cookie2: SRV=abc; Version=1, other=2',), 's2', False, 'NP', (), ('set-cookie2: SRV=abc; Version=1, other=2',)),
    # cookie SRV indirect preserve
    ('SRV indirect preserve', '', 0, 'GET', (), (), 's1', False, 'NN', (), ()),
    ('SRV indirect preserve', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NP', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV indirect preserve', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VP', ('SRV=c1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV indirect preserve', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'IN', ('SRV=zz',), ()),
    ('SRV indirect preserve', '', 0, 'GET', ('SRV=c1~xyz; a=1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, 'IP', ('SRV=c1~xyz; a=1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV indirect preserve', '', 0, 'GET', ('SRV=c2~xyz',), (), 's2', False, 'IN', ('SRV=c2~xyz',), ()),
    ('SRV indirect preserve', '', 0, 'GET', ('a=1 ;  SRV=c2  ;b=2',), (), 's2', True, 'VN', ('a=1 ;  SRV=c2  ;b=2',), ()),
    ('SRV indirect preserve', '', 0, 'GET', ('$Version=1; SRV=c2; $Path=/; a=1',), (), 's2', True, 'VN', ('$Version=1; SRV=c2; $Path=/; a=1',), ()),
    ('SRV indirect preserve', '', 0, 'GET', ('a=1', 'SRV=c2', 'b=2'), (), 's2', True, 'VN', ('a=1', 'SRV=c2', 'b=2'), ()),
    ('SRV indirect preserve', '', 0, 'GET', ('SRV = c2 ; a = 1',), (), 's2', True, 'VN', ('SRV=c2 ; a=1',), ()),
    ('SRV indirect preserve', '', 0, 'GET', ('SRV=c2; SRV=c1',), (), 's2', True, 'VN', ('SRV=c2; SRV=c1',), ()),
    ('SRV indirect preserve', '', 0, 'GET', ('SRV=',), (), 's3', False, 'IN', ('SRV=',), ()),
    ('SRV indirect preserve', '', 0, 'GET', ('a, SRV=c1',), (), 's1', True, 'VN', ('a, SRV=c1',), ()),
    ('SRV indirect preserve', '', 0, 'GET', ('SRV=c2',), ('Set-Cookie: SRV = abc ; path=/', 'Set-Cookie: other=1', 'Set-Cookie: a=1; SRV=x'), 's2', True, 'VP', ('SRV=c2',), ('set-cookie: SRV=abc ; path=/', 'set-cookie: other=1', 'set-cookie: a=1; SRV=x')),
    ('SRV indirect preserve', '', 0, 'GET', (), ('Set-Cookie: SRV=', 'Set-Cookie: SRV'), 's1', False, 'NP', (), ('set-cookie: SRV=', 'set-cookie: SRV')),
    ('SRV indirect preserve', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie2: other=2, SRV=abc; Version=1, x=3',), 's1', True, 'VP', ('SRV=c1',), ('set-cookie2: other=2, SRV=abc; Version=1, x=3',)),
    ('SRV indirect preserve', '', 0, 'GET', (), ('Set-Cookie2: SRV=abc; Version=1, other=2',), 's2', False, 'NP', (), ('set-cookie2: SRV=abc; Version=1, other=2',)),
    # cookie SRV insert indirect nocache httponly secure domain .a.com domain b.com attr SameSite=Lax attr x
    ('SRV insert indirect nocache httponly secure domain .a.com domain b.com attr SameSite=Lax attr x', '', 0, 'GET', (), (), 's1', False, 'NI', (), ('set-cookie: SRV=c1; path=/; domain=.a.com; domain=b.com; HttpOnly; Secure; SameSite=Lax; x',)),
    ('SRV insert indirect nocache httponly secure domain .a.com domain b.com attr SameSite=Lax attr x', '', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NI', (), ('set-cookie: SRV=c2; path=/; domain=.a.com; domain=b.com; HttpOnly; Secure; SameSite=Lax; x',)),
    ('SRV insert indirect nocache httponly secure domain .a.com domain b.com attr SameSite=Lax attr x', '', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', True, 'VD', (), ()),
    ('SRV insert indirect nocache httponly secure domain .a.com domain b.com attr SameSite=Lax attr x', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'II', (), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; domain=.a.com; domain=b.com; HttpOnly; Secure; SameSite=Lax; x',)),
    # cookie SRV insert indirect  [down]
    ('SRV insert indirect', 'down', 0, 'GET', ('SRV=c1',), (), 's2', False, 'DI', (), ('set-cookie: SRV=c2; path=/',)),
    ('SRV insert indirect', 'down', 0, 'GET', ('SRV=c1; SRV=c2',), (), 's2', True, 'VN', (), ()),
    ('SRV insert indirect', 'down', 0, 'GET', ('SRV=c3',), (), 's3', True, 'VN', (), ()),
    ('SRV insert indirect', 'down', 0, 'GET', (), (), 's3', False, 'NI', (), ('set-cookie: SRV=c3; path=/',)),
    # cookie SRV insert indirect  [persist]
    ('SRV insert indirect', 'persist', 0, 'GET', ('SRV=c1',), (), 's1', True, 'DN', (), ()),
    ('SRV insert indirect', 'persist', 0, 'GET', ('SRV=c1; SRV=c2',), (), 's1', True, 'DN', (), ()),
    ('SRV insert indirect', 'persist', 0, 'GET', ('SRV=c3',), (), 's3', True, 'VN', (), ()),
    ('SRV insert indirect', 'persist', 0, 'GET', (), (), 's2', False, 'NI', (), ('set-cookie: SRV=c2; path=/',)),
    # cookie SRV insert indirect  [force]
    ('SRV insert indirect', 'force', 0, 'GET', ('SRV=c1',), (), 's1', True, 'DN', (), ()),
    ('SRV insert indirect', 'force', 0, 'GET', ('SRV=c1; SRV=c2',), (), 's1', True, 'DN', (), ()),
    ('SRV insert indirect', 'force', 0, 'GET', ('SRV=c3',), (), 's3', True, 'VN', (), ()),
    ('SRV insert indirect', 'force', 0, 'GET', (), (), 's2', False, 'NI', (), ('set-cookie: SRV=c2; path=/',)),
    # cookie SRV insert indirect  [shared]
    ('SRV insert indirect', 'shared', 0, 'GET', ('SRV=c1',), (), 's2', True, 'VN', (), ()),
    ('SRV insert indirect', 'shared', 0, 'GET', ('SRV=c1; SRV=c2',), (), 's2', True, 'VN', (), ()),
    ('SRV insert indirect', 'shared', 0, 'GET', ('SRV=c3',), (), 's3', True, 'VN', (), ()),
    ('SRV insert indirect', 'shared', 0, 'GET', (), (), 's2', False, 'NI', (), ('set-cookie: SRV=c1; path=/',)),
    # cookie SRV insert indirect  [use-s3]
    ('SRV insert indirect', 'use-s3', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's3', False, 'UD', (), ()),
    ('SRV insert indirect', 'use-s3', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's3', False, 'ND', (), ()),
    ('SRV insert indirect', 'use-s3', 0, 'GET', ('SRV=c1~q',), (), 's3', False, 'UN', (), ()),
    # cookie SRV insert indirect  [ignore]
    ('SRV insert indirect', 'ignore', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, 'UN', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV insert indirect', 'ignore', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NN', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV insert indirect', 'ignore', 0, 'GET', ('SRV=c1~q',), (), 's3', False, 'UN', (), ()),
    # cookie SRV rewrite  [use-s3]
    ('SRV rewrite', 'use-s3', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's3', False, 'UP', ('SRV=c1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV rewrite', 'use-s3', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's3', False, 'NP', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV rewrite', 'use-s3', 0, 'GET', ('SRV=c1~q',), (), 's3', False, 'UN', ('SRV=c1~q',), ()),
    # cookie SRV rewrite  [ignore]
    ('SRV rewrite', 'ignore', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, 'UN', ('SRV=c1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV rewrite', 'ignore', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NN', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV rewrite', 'ignore', 0, 'GET', ('SRV=c1~q',), (), 's3', False, 'UN', ('SRV=c1~q',), ()),
    # cookie SRV prefix  [use-s3]
    ('SRV prefix', 'use-s3', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's3', False, 'UP', ('SRV=c1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV prefix', 'use-s3', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's3', False, 'NP', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV prefix', 'use-s3', 0, 'GET', ('SRV=c1~q',), (), 's3', False, 'UN', ('SRV=q',), ()),
    # cookie SRV prefix  [ignore]
    ('SRV prefix', 'ignore', 0, 'GET', ('SRV=c1',), ('Set-Cookie: SRV=abc; path=/',), 's1', False, 'UN', ('SRV=c1',), ('set-cookie: SRV=abc; path=/',)),
    ('SRV prefix', 'ignore', 0, 'GET', (), ('Set-Cookie: SRV=abc; path=/',), 's2', False, 'NN', (), ('set-cookie: SRV=abc; path=/',)),
    ('SRV prefix', 'ignore', 0, 'GET', ('SRV=c1~q',), (), 's3', False, 'UN', ('SRV=q',), ()),
    # cookie SRV insert postonly
    ('SRV insert postonly', '', 0, 'GET', (), (), 's1', False, 'NN', (), ()),
    ('SRV insert postonly', '', 0, 'POST', (), (), 's2', False, 'NI', (), ('set-cookie: SRV=c2; path=/',)),
    ('SRV insert postonly', '', 0, 'POST', ('SRV=c2',), (), 's2', True, 'VN', ('SRV=c2',), ()),
    ('SRV insert postonly', '', 0, 'GET', ('SRV=zz',), (), 's3', False, 'IN', ('SRV=zz',), ()),
    # cookie SRV insert maxidle 30
    ('SRV insert maxidle 30', '', 1795780608, 'GET', (), (), 's1', False, 'NI', (), ('set-cookie: SRV=c1|awlwA; path=/',)),
    ('SRV insert maxidle 30', '', 1795780608, 'GET', ('SRV=c1|awlv8',), (), 's1', True, 'VU', ('SRV=c1|awlv8',), ('set-cookie: SRV=c1|awlwA; path=/',)),
    ('SRV insert maxidle 30', '', 1795780608, 'GET', ('SRV=c1|awlv6',), (), 's1', True, 'VU', ('SRV=c1|awlv6',), ('set-cookie: SRV=c1|awlwA; path=/',)),
    ('SRV insert maxidle 30', '', 1795780608, 'GET', ('SRV=c1|awlvj',), (), 's2', False, 'EI', ('SRV=c1|awlvj',), ('set-cookie: SRV=c2|awlwA; path=/',)),
    ('SRV insert maxidle 30', '', 1795780608, 'GET', ('SRV=c1|awl+A',), (), 's1', True, 'VN', ('SRV=c1|awl+A',), ()),
    ('SRV insert maxidle 30', '', 1795780608, 'GET', ('SRV=c1|awrPg',), (), 's3', False, 'EI', ('SRV=c1|awrPg',), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert maxidle 30', '', 1795780608, 'GET', ('SRV=c1|awlv6|awlv3',), (), 's1', True, 'VU', ('SRV=c1|awlv6|awlv3',), ('set-cookie: SRV=c1|awlwA; path=/',)),
    ('SRV insert maxidle 30', '', 1795780608, 'GET', ('SRV=c1|awlv6|awloI',), (), 's1', True, 'VU', ('SRV=c1|awlv6|awloI',), ('set-cookie: SRV=c1|awlwA; path=/',)),
    ('SRV insert maxidle 30', '', 1795780608, 'GET', ('SRV=c1|awlvj|awloI',), (), 's1', False, 'EI', ('SRV=c1|awlvj|awloI',), ('set-cookie: SRV=c1|awlwA; path=/',)),
    ('SRV insert maxidle 30', '', 1795780609, 'GET', ('SRV=c1|awlv6|awrPg',), (), 's1', True, 'VU', ('SRV=c1|awlv6|awrPg',), ('set-cookie: SRV=c1|awlwB; path=/',)),
    ('SRV insert maxidle 30', '', 1795780609, 'GET', ('SRV=c1|AAAAA',), (), 's1', True, 'VU', ('SRV=c1|AAAAA',), ('set-cookie: SRV=c1|awlwB; path=/',)),
    ('SRV insert maxidle 30', '', 1795780609, 'GET', ('SRV=c1|abc',), (), 's1', True, 'VU', ('SRV=c1|abc',), ('set-cookie: SRV=c1|awlwB; path=/',)),
    ('SRV insert maxidle 30', '', 1795780609, 'GET', ('SRV=c1||awlv6',), (), 's1', True, 'VU', ('SRV=c1||awlv6',), ('set-cookie: SRV=c1|awlwB; path=/',)),
    ('SRV insert maxidle 30', '', 1795780609, 'GET', ('SRV=c3|awlv6',), (), 's2', False, 'II', ('SRV=c3|awlv6',), ('set-cookie: SRV=c2|awlwB; path=/',)),
    ('SRV insert maxidle 30', '', 1795780609, 'GET', ('SRV=c1|awlvj; SRV=c2',), (), 's2', True, 'VU', ('SRV=c1|awlvj; SRV=c2',), ('set-cookie: SRV=c2|awlwB; path=/',)),
    # cookie SRV insert maxlife 1000
    ('SRV insert maxlife 1000', '', 1795780609, 'GET', (), (), 's1', False, 'NI', (), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780609, 'GET', ('SRV=c1|awlv8',), (), 's1', True, 'VU', ('SRV=c1|awlv8',), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780609, 'GET', ('SRV=c1|awlv6',), (), 's1', True, 'VU', ('SRV=c1|awlv6',), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780609, 'GET', ('SRV=c1|awlvj',), (), 's1', True, 'VU', ('SRV=c1|awlvj',), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780609, 'GET', ('SRV=c1|awl+A',), (), 's1', True, 'VU', ('SRV=c1|awl+A',), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780609, 'GET', ('SRV=c1|awrPg',), (), 's1', True, 'VU', ('SRV=c1|awrPg',), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780609, 'GET', ('SRV=c1|awlv6|awlv3',), (), 's1', True, 'VU', ('SRV=c1|awlv6|awlv3',), ('set-cookie: SRV=c1|awlwB|awlv3; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780609, 'GET', ('SRV=c1|awlv6|awloI',), (), 's2', False, 'OI', ('SRV=c1|awlv6|awloI',), ('set-cookie: SRV=c2|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780609, 'GET', ('SRV=c1|awlvj|awloI',), (), 's3', False, 'OI', ('SRV=c1|awlvj|awloI',), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|awlv6|awrPg',), (), 's1', False, 'OI', ('SRV=c1|awlv6|awrPg',), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|AAAAA',), (), 's1', True, 'VU', ('SRV=c1|AAAAA',), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|abc',), (), 's1', True, 'VU', ('SRV=c1|abc',), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780610, 'GET', ('SRV=c1||awlv6',), (), 's1', True, 'VN', ('SRV=c1||awlv6',), ()),
    ('SRV insert maxlife 1000', '', 1795780610, 'GET', ('SRV=c3|awlv6',), (), 's2', False, 'II', ('SRV=c3|awlv6',), ('set-cookie: SRV=c2|awlwB|awlwB; path=/',)),
    ('SRV insert maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|awlvj; SRV=c2',), (), 's1', True, 'VU', ('SRV=c1|awlvj; SRV=c2',), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    # cookie SRV insert indirect maxidle 30 maxlife 1000
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780610, 'GET', (), (), 's1', False, 'NI', (), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|awlv8',), (), 's1', True, 'VU', (), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|awlv6',), (), 's1', True, 'VU', (), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|awlvj',), (), 's2', False, 'EI', (), ('set-cookie: SRV=c2|awlwB|awlwB; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|awl+A',), (), 's1', True, 'VU', (), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|awrPg',), (), 's3', False, 'EI', (), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|awlv6|awlv3',), (), 's1', True, 'VU', (), ('set-cookie: SRV=c1|awlwB|awlv3; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|awlv6|awloI',), (), 's1', False, 'OI', (), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780610, 'GET', ('SRV=c1|awlvj|awloI',), (), 's2', False, 'OI', (), ('set-cookie: SRV=c2|awlwB|awlwB; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780611, 'GET', ('SRV=c1|awlv6|awrPg',), (), 's3', False, 'OI', (), ('set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780611, 'GET', ('SRV=c1|AAAAA',), (), 's1', True, 'VU', (), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780611, 'GET', ('SRV=c1|abc',), (), 's1', True, 'VU', (), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780611, 'GET', ('SRV=c1||awlv6',), (), 's1', True, 'VU', (), ('set-cookie: SRV=c1|awlwB|awlv6; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780611, 'GET', ('SRV=c3|awlv6',), (), 's1', False, 'II', (), ('set-cookie: SRV=c1|awlwB|awlwB; path=/',)),
    ('SRV insert indirect maxidle 30 maxlife 1000', '', 1795780611, 'GET', ('SRV=c1|awlvj; SRV=c2',), (), 's2', True, 'VU', (), ('set-cookie: SRV=c2|awlwB|awlwB; path=/',)),
    # cookie SRV insert
    ('SRV insert', '', 0, 'GET', (), (), 's1', False, 'NI', (), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 1795780611, 'GET', ('SRV=c1|awlv8',), (), 's1', True, 'VU', ('SRV=c1|awlv8',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 1795780611, 'GET', ('SRV=c1|awlv6',), (), 's1', True, 'VU', ('SRV=c1|awlv6',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 1795780611, 'GET', ('SRV=c1|awlvj',), (), 's1', True, 'VU', ('SRV=c1|awlvj',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 1795780611, 'GET', ('SRV=c1|awl+A',), (), 's1', True, 'VN', ('SRV=c1|awl+A',), ()),
    ('SRV insert', '', 1795780611, 'GET', ('SRV=c1|awrPg',), (), 's1', True, 'VN', ('SRV=c1|awrPg',), ()),
    ('SRV insert', '', 1795780611, 'GET', ('SRV=c1|awlv6|awlv3',), (), 's1', True, 'VU', ('SRV=c1|awlv6|awlv3',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 1795780611, 'GET', ('SRV=c1|awlv6|awloI',), (), 's1', True, 'VU', ('SRV=c1|awlv6|awloI',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 1795780611, 'GET', ('SRV=c1|awlvj|awloI',), (), 's1', True, 'VU', ('SRV=c1|awlvj|awloI',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 1795780612, 'GET', ('SRV=c1|awlv6|awrPg',), (), 's1', True, 'VU', ('SRV=c1|awlv6|awrPg',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 1795780612, 'GET', ('SRV=c1|AAAAA',), (), 's1', True, 'VN', ('SRV=c1|AAAAA',), ()),
    ('SRV insert', '', 1795780612, 'GET', ('SRV=c1|abc',), (), 's1', True, 'VN', ('SRV=c1|abc',), ()),
    ('SRV insert', '', 1795780612, 'GET', ('SRV=c1||awlv6',), (), 's1', True, 'VU', ('SRV=c1||awlv6',), ('set-cookie: SRV=c1; path=/',)),
    ('SRV insert', '', 1795780612, 'GET', ('SRV=c3|awlv6',), (), 's2', False, 'II', ('SRV=c3|awlv6',), ('set-cookie: SRV=c2; path=/',)),
    ('SRV insert', '', 1795780612, 'GET', ('SRV=c1|awlvj; SRV=c2',), (), 's1', True, 'VU', ('SRV=c1|awlvj; SRV=c2',), ('set-cookie: SRV=c1; path=/',)),
    # cookie SRV rewrite maxidle 30
    ('SRV rewrite maxidle 30', '', 1795780612, 'GET', (), (), 's1', False, 'NN', (), ()),
    ('SRV rewrite maxidle 30', '', 1795780612, 'GET', ('SRV=c1|awlv8',), (), 's1', True, 'VN', ('SRV=c1|awlv8',), ()),
    ('SRV rewrite maxidle 30', '', 1795780612, 'GET', ('SRV=c1|awlv6',), (), 's1', True, 'VN', ('SRV=c1|awlv6',), ()),
    ('SRV rewrite maxidle 30', '', 1795780612, 'GET', ('SRV=c1|awlvj',), (), 's2', False, 'EN', ('SRV=c1|awlvj',), ()),
    ('SRV rewrite maxidle 30', '', 1795780612, 'GET', ('SRV=c1|awl+A',), (), 's1', True, 'VN', ('SRV=c1|awl+A',), ()),
    ('SRV rewrite maxidle 30', '', 1795780612, 'GET', ('SRV=c1|awrPg',), (), 's3', False, 'EN', ('SRV=c1|awrPg',), ()),
    ('SRV rewrite maxidle 30', '', 1795780612, 'GET', ('SRV=c1|awlv6|awlv3',), (), 's1', True, 'VN', ('SRV=c1|awlv6|awlv3',), ()),
    ('SRV rewrite maxidle 30', '', 1795780612, 'GET', ('SRV=c1|awlv6|awloI',), (), 's1', True, 'VN', ('SRV=c1|awlv6|awloI',), ()),
    ('SRV rewrite maxidle 30', '', 1795780612, 'GET', ('SRV=c1|awlvj|awloI',), (), 's1', False, 'EN', ('SRV=c1|awlvj|awloI',), ()),
    ('SRV rewrite maxidle 30', '', 1795780612, 'GET', ('SRV=c1|awlv6|awrPg',), (), 's1', True, 'VN', ('SRV=c1|awlv6|awrPg',), ()),
    ('SRV rewrite maxidle 30', '', 1795780613, 'GET', ('SRV=c1|AAAAA',), (), 's1', True, 'VN', ('SRV=c1|AAAAA',), ()),
    ('SRV rewrite maxidle 30', '', 1795780613, 'GET', ('SRV=c1|abc',), (), 's1', True, 'VN', ('SRV=c1|abc',), ()),
    ('SRV rewrite maxidle 30', '', 1795780613, 'GET', ('SRV=c1||awlv6',), (), 's1', True, 'VN', ('SRV=c1||awlv6',), ()),
    ('SRV rewrite maxidle 30', '', 1795780613, 'GET', ('SRV=c3|awlv6',), (), 's2', False, 'IN', ('SRV=c3|awlv6',), ()),
    ('SRV rewrite maxidle 30', '', 1795780613, 'GET', ('SRV=c1|awlvj; SRV=c2',), (), 's2', True, 'VN', ('SRV=c1|awlvj; SRV=c2',), ()),
    # cookie SRV prefix maxidle 30 maxlife 60
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780613, 'GET', (), (), 's1', False, 'NN', (), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780613, 'GET', ('SRV=c1|awlv8',), (), 's2', False, 'IN', ('SRV=c1|awlv8',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780613, 'GET', ('SRV=c1|awlv6',), (), 's3', False, 'IN', ('SRV=c1|awlv6',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780613, 'GET', ('SRV=c1|awlvj',), (), 's1', False, 'IN', ('SRV=c1|awlvj',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780613, 'GET', ('SRV=c1|awl+A',), (), 's2', False, 'IN', ('SRV=c1|awl+A',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780613, 'GET', ('SRV=c1|awrPg',), (), 's3', False, 'IN', ('SRV=c1|awrPg',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780613, 'GET', ('SRV=c1|awlv6|awlv3',), (), 's1', False, 'IN', ('SRV=c1|awlv6|awlv3',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780613, 'GET', ('SRV=c1|awlv6|awloI',), (), 's2', False, 'IN', ('SRV=c1|awlv6|awloI',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780613, 'GET', ('SRV=c1|awlvj|awloI',), (), 's3', False, 'IN', ('SRV=c1|awlvj|awloI',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780613, 'GET', ('SRV=c1|awlv6|awrPg',), (), 's1', False, 'IN', ('SRV=c1|awlv6|awrPg',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780614, 'GET', ('SRV=c1|AAAAA',), (), 's2', False, 'IN', ('SRV=c1|AAAAA',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780614, 'GET', ('SRV=c1|abc',), (), 's3', False, 'IN', ('SRV=c1|abc',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780614, 'GET', ('SRV=c1||awlv6',), (), 's1', False, 'IN', ('SRV=c1||awlv6',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780614, 'GET', ('SRV=c3|awlv6',), (), 's2', False, 'IN', ('SRV=c3|awlv6',), ()),
    ('SRV prefix maxidle 30 maxlife 60', '', 1795780614, 'GET', ('SRV=c1|awlvj; SRV=c2',), (), 's2', True, 'VN', ('SRV=c1|awlvj; SRV=c2',), ()),
]  # fmt: skip


@pytest.mark.parametrize("case", HAPROXY_CASES, ids=lambda c: f"{c[0]}|{c[1]}|{'/'.join(c[4])}|{'/'.join(c[5])}")
def test_matches_haproxy(case: tuple[Any, ...]) -> None:
    line, scenario, now, method, cookies, rsp_lines, used, by_cookie, flags, srv_got, client_got = case
    spec = spec_of(line)
    be = backend(scenario)
    lines = SCENARIOS[scenario][0]
    assigned = be.servers[2] if scenario == "use-s3" else None
    txn = txn_for(method, cookies)
    got = ck.request_server(
        spec,
        txn,
        be,
        now=now,
        assigned=assigned,
        force_persist=any(x.startswith("force-persist") for x in lines),
        ignore_persist=scenario == "ignore",
    )
    assert (got.name if got is not None else None) == (used if by_cookie else None)
    assert tuple(v for k, v in txn.req.headers if k == "cookie") == srv_got
    server = next(s for s in be.servers if s.name == used)
    txn.rsp = Response(200, "OK", headers=headers(rsp_lines))
    ck.apply_response(spec, txn, server, now=now)
    assert tuple(f"{k}: {v}" for k, v in txn.rsp.headers) == client_got
    assert ck.term_chars(txn) == flags
    assert txn.extra["cookie_req"] + txn.extra["cookie_rsp"] == flags


# ------------------------------------------------------------------ the keyword
def test_keywords_registered() -> None:
    for name in ("cookie", "dynamic-cookie-key"):
        kw = SECTION_KEYWORDS.match([name], "backend")
        assert kw is not None and kw.handler is not None
        assert SECTION_KEYWORDS.match([name], "defaults") is kw
        assert SECTION_KEYWORDS.match([name], "frontend") is None


def test_parse_all_options() -> None:
    s = spec_of(
        "SRV insert indirect nocache postonly preserve httponly secure domain .a.com domain b.org "
        "maxidle 1m maxlife 2h dynamic attr SameSite=Lax attr Partitioned"
    )
    assert (s.name, s.insert, s.indirect, s.nocache, s.postonly, s.preserve) == ("SRV", True, True, True, True, True)
    assert (s.httponly, s.secure, s.dynamic, s.rewrite, s.prefix) == (True, True, True, False, False)
    assert s.domain == ".a.com; domain=b.org"
    assert (s.maxidle, s.maxlife) == (60, 7200)
    assert s.attrs == "SameSite=Lax; Partitioned"
    assert s.any_mode
    assert not spec_of("SRV").any_mode and not spec_of("SRV nocache postonly").any_mode
    assert spec_of("SRV indirect").any_mode
    assert spec_of("SRV maxidle 500ms").maxidle == 1  # rounded up to the unit
    assert spec_of("SRV maxidle 0").maxidle == 0


def test_attrs_carry_over_a_new_cookie_line() -> None:
    # HAProxy resets the options, dates and domains of a new 'cookie' line, not 'attr'
    first = spec_of("A insert domain .a.com maxidle 5 attr x")
    second = ck.parse_cookie(["B", "prefix", "attr", "y"], prev=first)
    assert (second.name, second.prefix, second.insert, second.domain, second.maxidle) == ("B", True, False, None, 0)
    assert second.attrs == "x; y"


# texts checked with `haproxy -c` (2.6.12), the line in a backend; "readcfg" messages are
# prefixed "parsing [file:line]: ", the others "parsing [file:line] : "
PARSE_ERRORS = [
    ("", "'cookie' expects <cookie_name> as argument.", ck._AT_PARSING),
    ("SRV foo", ck.OPTIONS_ALERT, ck._AT_PARSING),
    ("SRV Insert", ck.OPTIONS_ALERT, ck._AT_PARSING),
    ("SRV rewrite indirect", "cookie 'rewrite' and 'indirect' modes are incompatible.", ck._AT_PARSING),
    ("SRV rewrite insert", "cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.", ck._AT_PARSING),
    ("SRV insert prefix", "cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.", ck._AT_PARSING),
    ("SRV preserve", "cookie 'preserve' requires at least 'insert' or 'indirect'.", ck._AT_PARSING),
    ("SRV prefix preserve", "cookie 'preserve' requires at least 'insert' or 'indirect'.", ck._AT_PARSING),
    ("SRV domain", "'domain' expects <domain> as argument.", ck._AT_READCFG),
    ("SRV domain a.b;c", "character ';' is not permitted in domain name 'a.b;c'.", ck._AT_READCFG),
    ("SRV maxidle", "'maxidle' expects <idletime> in seconds as argument.", ck._AT_READCFG),
    ("SRV maxlife", "'maxlife' expects <lifetime> in seconds as argument.", ck._AT_READCFG),
    ("SRV maxidle 10x", "unexpected character 'x' in argument to <maxidle>.", ck._AT_READCFG),
    ("SRV maxidle 0x10", "unexpected character 'x' in argument to <maxidle>.", ck._AT_READCFG),
    ("SRV maxidle -1", "unexpected character '-' in argument to <maxidle>.", ck._AT_READCFG),
    (
        "SRV maxidle 3000000000",
        "timer overflow in argument <3000000000> to <maxidle>, maximum value is 2147483647 s (~68 years).",
        ck._AT_READCFG,
    ),
    (
        "SRV maxlife 30000d",
        "timer overflow in argument <30000d> to <maxlife>, maximum value is 2147483647 s (~68 years).",
        ck._AT_READCFG,
    ),
    ("SRV attr", "'attr' expects <value> as argument.", ck._AT_READCFG),
    ("SRV attr a;b", "character '%x3B' is not permitted in attribute value.", ck._AT_READCFG),
    ("SRV attr a\x7fb", "character '%x7F' is not permitted in attribute value.", ck._AT_READCFG),
]


@pytest.mark.parametrize("line, text, at", PARSE_ERRORS)
def test_parse_errors(line: str, text: str, at: str) -> None:
    with pytest.raises(ConfigError) as e:
        ck.parse_cookie(line.split())
    assert str(e.value) == text
    assert e.value.at == at  # type: ignore[attr-defined]


def _check(cfg: str) -> list[str]:
    fd, path = tempfile.mkstemp(suffix=".cfg")
    with os.fdopen(fd, "w") as f:
        f.write(cfg)
    try:
        _model, diag = load([path])  # load() runs cookie.validate() after parsing
        out = [m.render(1).split(") : ", 1)[1].replace(path, "F") for m in diag.messages]
        # leave out gproxy's own notes (features not implemented yet) and the summary line
        return [t for t in out if "gproxy" not in t and "Error(s) found" not in t]
    finally:
        os.unlink(path)


HEAD = "defaults\n    mode {mode}\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"


def test_messages_through_the_parser() -> None:
    # as `haproxy -c` prints them (2.6.12), minus the "[LEVEL] (pid) : " prefix
    cfg = HEAD.format(mode="http") + (
        "backend b\n"
        "    cookie SRV insert indirect preserve domain .a.b domain x maxidle 10sx\n"
        "    cookie SRV rewrite insert prefix indirect\n"
        "    cookie SRV maxidle 3000000000\n"
        "    server s1 127.0.0.1:8080 cookie a\n"
    )
    assert _check(cfg) == [
        (
            "config : parsing [F:7]: domain 'x' contains no embedded dot, this configuration may not work properly "
            "(see RFC6265#5.2.3)."
        ),
        (
            "config : unexpected character 'x' after the timer value '10sx', only "
            "(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. "
            "This will be reported as an error in next versions."
        ),
        "config : parsing [F:8] : cookie 'rewrite' and 'indirect' modes are incompatible.",
        "config : parsing [F:8] : cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.",
        (
            "config : parsing [F:9]: timer overflow in argument <3000000000> to <maxidle>, "
            "maximum value is 2147483647 s (~68 years)."
        ),
    ]


def test_validate_tcp_mode_and_frontends() -> None:
    # `haproxy -c` (2.6.12) on this configuration prints exactly these warnings
    cfg = HEAD.format(mode="tcp").replace("mode tcp\n", "mode tcp\n    cookie SRV insert\n") + (
        "frontend f\n    bind 127.0.0.1:9999\n    default_backend b\n"
        "backend b\n    server s1 127.0.0.1:8080 cookie a\n"
        "listen l\n    bind 127.0.0.1:9998\n    server s1 127.0.0.1:8080\n"
        "frontend f2\n    bind 127.0.0.1:9997\n    cookie X\n    default_backend b\n"
    )
    assert _check(cfg) == [
        "config : parsing [F:17] : 'cookie' ignored because frontend 'f2' has no backend capability.",
        "config : cookie will be ignored for backend 'b' (needs 'mode http').",
        "config : backend 'b' : ignoring cookie for server 's1' as HTTP mode is disabled.",
        "config : cookie will be ignored for proxy 'l' (needs 'mode http').",
        "config : cookie will be ignored for frontend 'f2' (needs 'mode http').",
    ]


def test_validate_http_mode_is_silent() -> None:
    p = Proxy("backend", "b", mode="http")
    p.cookie = spec_of("SRV insert")
    p.servers.append(ServerSpec(name="s1", cookie="a"))
    assert ck.validate(p) == []
    p.mode = "tcp"
    p.cookie = None
    assert ck.validate(p) == [("warning", "backend 'b' : ignoring cookie for server 's1' as HTTP mode is disabled.")]


def test_dynamic_cookie_key_keyword() -> None:
    cfg = HEAD.format(mode="http") + "backend b\n    dynamic-cookie-key\n    server s1 127.0.0.1:8080\n"
    assert _check(cfg) == ["config : parsing [F:7] : 'dynamic-cookie-key' expects <secret_key> as argument."]


# ------------------------------------------------------------------ dates
def test_date_codec() -> None:
    # HAProxy inserted "SRV=c1|awltu" at unix time 1795780023 (maxidle)
    assert ck.encode_date(1795780023) == "awltu"
    assert ck.decode_date("awltu") == (1795780023 + 3) >> 2 << 2
    assert ck.s30tob64(0) == "AAAAA" and ck.s30tob64((1 << 30) - 1) == "/////"
    assert ck.s30tob64(1 << 30) == "AAAAA"  # only 30 bits
    assert ck.b64tos30("+////") == (62 << 24) | ((1 << 24) - 1)
    for bad in ("abc", "awlt=", "awlt|", "#####", "awl t"):
        assert ck.b64tos30(bad) == -1
    assert ck.decode_date("AAAAA") == 0  # zero means "no date"


def test_request_extras_and_dates() -> None:
    now = 1795780000
    spec = spec_of("SRV insert maxidle 30 maxlife 600")
    be = backend()
    txn = txn_for("GET", [f"SRV=c2|{ck.encode_date(now - 10)}|{ck.encode_date(now - 100)}"])
    assert ck.request_server(spec, txn, be, now=now) is be.servers[1]
    ex = txn.extra
    assert ex["cookie_req"] == "V" and ex["cookie_srv_value"] == "c2" and ex["cookie_direct"] is True
    assert ex["cookie_last_date"] == ck.decode_date(ck.encode_date(now - 10))
    assert ex["cookie_first_date"] == ck.decode_date(ck.encode_date(now - 100))
    assert txn.cookie_srv is be.servers[1]
    txn.rsp = Response(200, "OK")
    ck.apply_response(spec, txn, be.servers[1], now=now)
    # the last-seen date is refreshed, the first-seen one kept
    assert txn.rsp.headers.items == [
        ("set-cookie", f"SRV=c2|{ck.encode_date(now)}|{ck.encode_date(now - 100)}; path=/"),
    ]
    assert ex["cookie_rsp"] == "U"


def test_no_cookie_configured() -> None:
    txn = txn_for("GET", ["SRV=c1"])
    assert ck.request_server(None, txn, backend()) is None
    txn.rsp = Response(200, "OK")
    ck.apply_response(None, txn, None)
    assert ck.term_chars(txn) == "--"
    assert [v for k, v in txn.req.headers if k == "cookie"] == ["SRV=c1"]


def test_redispatch_clears_direct_and_inserts_new_server() -> None:
    spec = spec_of("SRV insert indirect")
    be = backend()
    txn = txn_for("GET", ["SRV=c1"])
    assert ck.request_server(spec, txn, be) is be.servers[0]
    txn.extra["cookie_direct"] = False  # the engine redispatched to s2
    txn.rsp = Response(200, "OK")
    ck.apply_response(spec, txn, be.servers[1])
    assert txn.rsp.headers.items == [("set-cookie", "SRV=c2; path=/")]
    assert ck.term_chars(txn) == "VI"


def test_interim_responses_untouched() -> None:
    spec = spec_of("SRV insert")
    txn = txn_for("GET", [])
    ck.request_server(spec, txn, backend())
    txn.rsp = Response(100, "Continue", headers=headers(["Set-Cookie: SRV=x"]))
    ck.apply_response(spec, txn, backend().servers[0])
    assert txn.rsp.headers.items == [("set-cookie", "SRV=x")]


def test_no_server_no_insert() -> None:
    spec = spec_of("SRV insert")
    txn = txn_for("GET", [])
    ck.request_server(spec, txn, backend())
    txn.rsp = Response(503, "Service Unavailable")
    ck.apply_response(spec, txn, None)
    assert txn.rsp.headers.items == [] and ck.term_chars(txn) == "NN"


# ------------------------------------------------------------------ nocache
# HAProxy-verified: 'cookie SRV insert nocache', a server without cookie; True where
# HAProxy appended "cache-control: private" after its set-cookie
CACHEABLE = [
    ("GET", 200, [], False),
    ("GET", 200, ["Cache-Control: public"], False),
    ("GET", 200, ["Cache-Control: max-age=60"], True),
    ("GET", 200, ["Cache-Control: private, max-age=60"], False),
    ("GET", 200, ["Cache-Control: private, public, max-age=60"], True),
    ("GET", 200, ["Cache-Control: max-age=0"], False),
    ("GET", 200, ["Cache-Control: max-age=0, s-maxage=10"], False),
    ("GET", 200, ["Expires: Thu, 01 Jan 2099 00:00:00 GMT"], True),
    ("GET", 200, ["Last-Modified: x"], True),
    ("GET", 200, ['ETag: "a"', "Pragma: no-cache"], False),
    ("GET", 200, ['ETag: "a"', "Pragma: no-cache, x"], True),
    ("GET", 200, ['ETag: "a"', 'Cache-Control: no-cache="set-cookie"'], True),
    ("GET", 200, ['ETag: "a"', "Cache-Control: No-Store"], False),
    ("POST", 200, ["Cache-Control: public, max-age=60"], True),
    ("POST", 200, ["Cache-Control: max-age=60"], False),
    ("GET", 302, ["Cache-Control: max-age=60"], False),
    ("GET", 302, ["Cache-Control: public, max-age=60"], True),
    ("GET", 404, ['ETag: "x"'], True),
    ("GET", 500, ['ETag: "x"'], False),
    ("GET", 200, ["Cache-Control: max-age=60", "Cache-Control: private"], False),
    ("GET", 200, ['Cache-Control: "max-age=60"'], False),
    ("GET", 200, ["Cache-Control: max-agex"], True),
    ("OPTIONS", 200, ['ETag: "x"'], True),
    ("HEAD", 200, ['ETag: "x"'], True),
]


@pytest.mark.parametrize("method, status, lines, cacheable", CACHEABLE)
def test_nocache(method: str, status: int, lines: list[str], cacheable: bool) -> None:
    rsp = Response(status, headers=headers(lines))
    assert ck.response_cacheable(method, rsp) is cacheable
    spec = spec_of("SRV insert nocache")
    be = backend()
    txn = txn_for(method, [])
    ck.request_server(spec, txn, be)
    txn.rsp = rsp
    ck.apply_response(spec, txn, be.servers[2])
    added = [f"{k}: {v}" for k, v in txn.rsp.headers][len(lines) :]
    want = ["set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"]
    assert added == want + (["cache-control: private"] if cacheable else [])


# ------------------------------------------------------------------ dynamic cookies
def test_xxh64_vectors() -> None:
    assert ck.xxh64(b"") == 0xEF46DB3751D8E999
    assert ck.xxh64(b"a") == 0xD24EC4F1A98C6E5B
    assert ck.xxh64(b"abc") == 0x44BC2CF5AD770999


def test_dynamic_cookie_matches_haproxy() -> None:
    # HAProxy-verified: 'cookie SRV insert dynamic', 'dynamic-cookie-key <key>', a server
    # at 127.0.0.1:32891 without its own cookie; the set-cookie value it inserted
    assert ck.dynamic_cookie("secret", "127.0.0.1", 32891) == "bfc68489ccbb4976"
    long_key = "0123456789abcdefghijklmnopqrstuvwxyz-0123456789"  # > 32 bytes hashed
    assert ck.dynamic_cookie(long_key, "127.0.0.1", 32891) == "749a379b22e7fee9"
    assert ck.dynamic_cookie("secret", "not-an-ip", 80) is None
    assert len(ck.dynamic_cookie("secret", "::1", 80) or "") == 16


def test_assign_dynamic_cookies() -> None:
    be = FakeBackend()
    be.servers = [
        Server(be, ServerSpec(name="a", address=None, cookie=None), 1),
        Server(be, ServerSpec(name="b", cookie="fixed"), 2),
    ]
    be.servers[0].host, be.servers[0].port = "127.0.0.1", 32891
    spec = spec_of("SRV insert dynamic")
    assert ck.assign_dynamic_cookies(spec, None, be.servers) == []
    assert be.servers[0].cookie is None
    assert ck.assign_dynamic_cookies(spec, "secret", be.servers, "l") == []
    assert [s.cookie for s in be.servers] == ["bfc68489ccbb4976", "fixed"]
    assert ck.assign_dynamic_cookies(spec_of("SRV insert"), "secret", be.servers) == []
