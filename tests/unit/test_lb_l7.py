"""Unit tests for the layer-7 hash algorithms (gproxy/lb/l7.py): ``balance uri``,
``balance url_param`` and ``balance hdr(<name>)``.

Real ``gproxy.server.Server`` objects on a tiny fake backend; no sockets.

HAProxy-verified rows (``HAPROXY``) were recorded from HAProxy 2.6.12 (Debian package):
a ``listen`` section in ``mode http`` with ``nbthread 1``, the ``balance`` and
``hash-type`` lines shown, three servers ``s1 s2 s3`` with weights 1, 2, 3, each a small
Python HTTP server on 127.0.0.1 answering with its own name.  The requests below were
sent in order, one connection each (``Connection: close``), and the name in each reply
body recorded; the same sequence must come out of gproxy's balancer, including the
round-robin fall-back for requests without the key (its position in the walk depends on
the requests before it).  Absolute-form URIs were sent with a matching ``Host`` header.

For ``use_domain_only``, the Host line was followed by another header: HAProxy reads one
byte past the end of the value when it looks for the last dot, and that byte is the
next header's first letter only when there is a next header (after the last header it is
whatever an earlier request left in the buffer).  gproxy treats it as "not a dot".
"""

from __future__ import annotations

from typing import Any

import pytest

import gproxy.lb.all  # noqa: F401 - registers every algorithm
from gproxy import lb
from gproxy.config.model import ServerSpec
from gproxy.http.message import Headers
from gproxy.lb.hashing import hash_key
from gproxy.lb.keywords import parse_balance, parse_hash_type
from gproxy.lb.l7 import (
    HdrBalancer,
    UriBalancer,
    UrlParamBalancer,
    domain_only,
    first_value,
    post_param_value,
    uri_key_bytes,
    uri_path,
    url_param_value,
)
from gproxy.server import FMAINT, Server


class FakeBackend:
    """Just what the balancers and Server read from a backend."""

    def __init__(self) -> None:
        self.name = "be"
        self.servers: list[Server] = []
        self.allbackups = False
        self.server_changed = lambda s: None


def build(balance: str, hash_type: list[str] | None = None, weights: tuple[int, ...] = (1, 2, 3)) -> lb.Balancer:
    be = FakeBackend()
    for i, w in enumerate(weights, 1):
        be.servers.append(Server(be, ServerSpec(name=f"s{i}", weight=w), i))
    ht = parse_hash_type(hash_type) if hash_type else ("map-based", "sdbm", False)
    bal = lb.make(be, parse_balance(balance.split()), ht)
    bal.update()
    return bal


def ctx(uri: str, headers: list[tuple[str, str]] | None = None, method: str = "GET", body: bytes = b"") -> lb.PickCtx:
    h = Headers()
    for k, v in headers if headers is not None else [("Host", "x")]:
        h.add(k, v)
    return lb.PickCtx(uri=uri, headers=h, extra={"method": method, "body": body})


def run(bal: lb.Balancer, reqs: list[lb.PickCtx]) -> str:
    out = []
    for c in reqs:
        s = bal.pick(c)
        out.append(s.name[1:] if s is not None else "-")
    return "".join(out)


# the requests, in the order they were sent to HAProxy
URIS = [ctx(u, h) for u, h in [
    ("/", None), ("/index.html", None), ("/a/b/c", None), ("/a/b/d", None), ("/a/x/c", None),
    ("/img/logo.png?v=1", None), ("/img/logo.png?v=2", None), ("/api/v1/users/42", None),
    ("/api/v1/users/43?full=1", None), ("/search?q=haproxy&page=2", None), ("/static/app.js", None),
    ("/favicon.ico", None), ("http://example.com/a/b?x=1", [("Host", "example.com")]),
    ("http://example.com", [("Host", "example.com")]), ("*", None), ("/x/y/z/w/v/u?q", None),
    ("/" + "a" * 48, None), ("/%41%42", None),
]]  # fmt: skip
PARAMS = [
    ctx("/?id=1"), ctx("/?id=2"), ctx("/?id=3"), ctx("/p?a=1&id=42&b=2"), ctx("/nothing"), ctx("/?id="),
    ctx("/?id"), ctx("/?idx=5&id=7"), ctx("/?xid=5"), ctx("/?ID=5"), ctx("/?a=1&id=abc%20def&z"),
    ctx("/p?id=1&id=2"), ctx("/?&id=9"), ctx("/search?q=1"), ctx("/?id=1"),
    ctx("/", method="POST", body=b"id=55&x=1"), ctx("/", method="POST", body=b"a=1&id=56"),
    ctx("/", method="POST", body=b"id=(x)"), ctx("/", method="POST", body=b"id= 5"),
    ctx("/", method="POST", body=b"x=1"), ctx("/?id=3", method="POST", body=b"id=99"),
    ctx("/nothing"), ctx("/nothing"), ctx("/nothing"),
]  # fmt: skip
_PAD = ("X-Pad", "1")
HOSTS = [ctx("/", h + [_PAD]) for h in [
    [("Host", "www.example.com")], [("Host", "example.com")], [("Host", "api.example.com")],
    [("Host", "www.example.org")], [("Host", "localhost")], [("Host", "a.b.c.d")],
    [("Host", "example.com:8080")], [("Host", "www.example.com.")], [("Host", ".com")],
    [("Host", "EXAMPLE.com")], [("Host", "x"), ("X-Key", "")], [("Host", "x"), ("X-Key", "abc")],
    [("Host", "x"), ("X-Key", "abc, def")], [("Host", "x"), ("X-Key", ", def")],
    [("Host", "x"), ("X-Key", '"a,b", c')], [("Host", "x"), ("X-Key", "one"), ("X-Key", "two")],
    [("Host", "x"), ("x-key", "spaced")], [("Host", "x")], [("Host", "x")], [("Host", "x"), ("X-Key", "abc")],
]]  # fmt: skip

HAPROXY: list[tuple[str, list[str], list[lb.PickCtx], str]] = [
    ("uri", [], URIS, "313133331322131331"),
    ("uri", ["consistent"], URIS, "231212222121223323"),
    ("uri whole", [], URIS, "313132332322331331"),
    ("uri whole", ["consistent"], URIS, "231212321321323223"),
    ("uri len 5", [], URIS, "332223322233221232"),
    ("uri len 5", ["consistent"], URIS, "231133311331113333"),
    ("uri depth 2", [], URIS, "313333333322331331"),
    ("uri depth 2", ["consistent"], URIS, "232212233121223223"),
    ("uri path-only", [], URIS, "313133331322311331"),
    ("uri path-only", ["consistent"], URIS, "231212222121233323"),
    ("uri whole path-only", [], URIS, "313132332322211331"),
    ("uri whole path-only", ["consistent"], URIS, "231212321321333223"),
    ("uri depth 1 len 3", [], URIS, "321113322312221332"),
    ("uri depth 1 len 3", ["consistent"], URIS, "232221122223333323"),
    ("uri depth 3 whole", [], URIS, "313132322322331231"),
    ("uri depth 3 whole", ["consistent"], URIS, "231212322321323123"),
    ("url_param id", [], PARAMS, "323111332323323233113323"),
    ("url_param id check_post", [], PARAMS, "323111332323323233113323"),
    ("url_param id", ["consistent"], PARAMS, "323333333333333233333333"),
    ("url_param id check_post", ["consistent"], PARAMS, "323333333333333233333333"),
    ("url_param id", ["map-based", "djb2"], PARAMS, "231313322332122313311323"),
    ("url_param id check_post", ["map-based", "djb2"], PARAMS, "231313322332122313311323"),
    ("url_param id", ["consistent", "wt6"], PARAMS, "333232333323333223233333"),
    ("url_param id check_post", ["consistent", "wt6"], PARAMS, "333232333323333223233333"),
    ("url_param id", ["map-based", "crc32", "avalanche"], PARAMS, "232313322332222233312323"),
    ("url_param id check_post", ["map-based", "crc32", "avalanche"], PARAMS, "232313322332222233312323"),
    ("hdr(host)", [], HOSTS, "13333132331111111111"),
    ("hdr(Host) use_domain_only", [], HOSTS, "22223323321111111111"),
    ("hdr(X-Key)", [], HOSTS, "13232313232223322132"),
    ("hdr(host)", ["consistent"], HOSTS, "13232232233333333333"),
    ("hdr(Host) use_domain_only", ["consistent"], HOSTS, "11112311223333333333"),
    ("hdr(X-Key)", ["consistent"], HOSTS, "33333333333112132131"),
    ("hdr(host)", ["map-based", "djb2", "avalanche"], HOSTS, "23113332133333333333"),
    ("hdr(Host) use_domain_only", ["map-based", "djb2", "avalanche"], HOSTS, "33333333123333333333"),
    ("hdr(X-Key)", ["map-based", "djb2", "avalanche"], HOSTS, "13232313232333233133"),
    ("hdr(host)", ["consistent", "wt6"], HOSTS, "33313323311111111111"),
    ("hdr(Host) use_domain_only", ["consistent", "wt6"], HOSTS, "22223122331111111111"),
    ("hdr(X-Key)", ["consistent", "wt6"], HOSTS, "33333333333332323133"),
    ("hdr(host)", ["map-based", "crc32"], HOSTS, "33133322333333333333"),
    ("hdr(Host) use_domain_only", ["map-based", "crc32"], HOSTS, "33333332333333333333"),
    ("hdr(X-Key)", ["map-based", "crc32"], HOSTS, "13232313232113233131"),
]  # fmt: skip


def test_registered() -> None:
    assert lb.ALGORITHMS["uri"] is UriBalancer
    assert lb.ALGORITHMS["url_param"] is UrlParamBalancer
    assert lb.ALGORITHMS["hdr"] is HdrBalancer
    assert all(lb.ALGORITHMS[a].needs_key for a in ("uri", "url_param", "hdr"))


@pytest.mark.parametrize("balance, hash_type, reqs, want", HAPROXY)
def test_choices_match_haproxy(balance: str, hash_type: list[str], reqs: list[lb.PickCtx], want: str) -> None:
    # HAProxy-verified (see the module docstring)
    assert run(build(balance, hash_type), reqs) == want


def test_dynamic_only_when_consistent() -> None:
    assert build("uri").dynamic is False
    assert build("hdr(host)", ["consistent"]).dynamic is True


# ------------------------------------------------------------------ uri
@pytest.mark.parametrize(
    "uri, path",
    [
        (b"/a?b", b"/a?b"),
        (b"http://h/a?b", b"/a?b"),
        (b"https://user@h:8443/x", b"/x"),
        (b"http://h", b""),
        (b"h:443", b""),  # CONNECT authority form
        (b"*", b""),
        (b"", b""),
        (b"1http://h/a", b""),  # a scheme starts with a letter
        (b"a+b-c.d://h/p", b"/p"),
    ],
)
def test_uri_path(uri: bytes, path: bytes) -> None:
    assert uri_path(uri) == path


@pytest.mark.parametrize(
    "uri, kw, key",
    [
        (b"/a/b?c", {}, b"/a/b"),
        (b"/a/b?c", {"whole": True}, b"/a/b?c"),
        (b"/a/b/c/d", {"depth": 2}, b"/a/b"),
        (b"/a/b/c/d", {"depth": 1}, b"/a"),
        (b"/a/b", {"depth": 5}, b"/a/b"),
        (b"/abcdef", {"length": 3}, b"/ab"),
        (b"/a/b?c", {"length": 100, "whole": True}, b"/a/b?c"),
        (b"?x", {}, b""),
        (b"/a?b/c", {"depth": 1, "whole": True}, b"/a?b"),
    ],
)
def test_uri_key_bytes(uri: bytes, kw: dict[str, Any], key: bytes) -> None:
    assert uri_key_bytes(uri, **kw) == key


def test_uri_options_later_words_win() -> None:
    bal = build("uri len 3 depth 2 len 7 whole path-only")
    assert (bal.length, bal.depth, bal.whole, bal.path_only) == (7, 2, True, True)  # type: ignore[attr-defined]


def test_uri_never_falls_back_and_single_server_skips_hash() -> None:
    bal = build("uri path-only", weights=(1, 1))
    assert bal.hash_of(ctx("*")) == hash_key(b"", bal.hash_type)  # no path: the empty key
    assert bal.hash_of(ctx("/a?b")) == hash_key(b"/a", bal.hash_type)
    srv = bal.backend.servers
    srv[1].set_admin(FMAINT)
    bal.update()
    assert run(bal, URIS[:5]) == "11111"


# ------------------------------------------------------------------ url_param
@pytest.mark.parametrize(
    "uri, value",
    [
        (b"/?id=1", b"1"),
        (b"/?a=1&id=2&b=3", b"2"),
        (b"/?id=", b""),
        (b"/?id", None),
        (b"/?ID=1", None),
        (b"/?xid=1", None),
        (b"/?idx=1&id=2", b"2"),
        (b"/?id=1&id=2", b"1"),
        (b"/p", None),
        (b"/?&id=9", b"9"),
        (b"/?id=a%20b#f", b"a%20b#f"),
        (b"/a?b?id=3", None),  # the parameter list starts at the first '?'
    ],
)
def test_url_param_value(uri: bytes, value: bytes | None) -> None:
    assert url_param_value(uri, b"id") == value


@pytest.mark.parametrize(
    "body, value",
    [
        (b"id=55&x=1", b"55"),
        (b"a=1&id=56", b"56"),
        (b"id=(x)", None),  # not urlencoded: HAProxy gives up
        (b"id= 5", b""),  # a blank right after '=': empty value
        (b"id=5(", b"5("),  # only the first byte is checked, as in HAProxy
        (b"x=1", None),
        (b"", None),
    ],
)
def test_post_param_value(body: bytes, value: bytes | None) -> None:
    assert post_param_value(body, b"id") == value


def test_url_param_missing_falls_back_to_round_robin_even_with_one_server() -> None:
    bal = build("url_param id", weights=(1, 1, 1))
    assert run(bal, [ctx("/")] * 6) == "123123"
    one = build("url_param id", weights=(1,))
    assert run(one, [ctx("/"), ctx("/?id=1")]) == "11"
    assert UrlParamBalancer.skip_single is False


def test_url_param_body_only_for_post() -> None:
    bal = build("url_param id")
    assert bal.hash_of(ctx("/", method="PUT", body=b"id=1")) is None
    assert bal.hash_of(ctx("/", method="POST", body=b"id=1")) == hash_key(b"1", bal.hash_type)
    assert bal.hash_of(lb.PickCtx(uri="/")) is None


# ------------------------------------------------------------------ hdr
@pytest.mark.parametrize(
    "full, first",
    [
        ("abc", "abc"),
        (" abc , def", "abc"),
        (", def", ""),
        ('"a,b", c', '"a,b"'),
        ('"a\\",b", c', '"a\\",b"'),
        ("", ""),
    ],
)
def test_first_value(full: str, first: str) -> None:
    assert first_value(full) == first


@pytest.mark.parametrize(
    "host, dom",
    [
        (b"www.example.com", b"example"),
        (b"example.com", b"example"),
        (b"a.b.c.d", b"c"),
        (b"localhost", b"localhost"),
        (b"example.com:8080", b"example"),
        (b"example.com.", b"com"),
        (b".com", b".com"),
        (b"", b""),
    ],
)
def test_domain_only(host: bytes, dom: bytes) -> None:
    assert domain_only(host) == dom


def test_hdr_missing_or_empty_falls_back_and_accepts_callable() -> None:
    bal = build("hdr(x-key)", weights=(1, 1, 1))
    assert run(bal, [ctx("/"), ctx("/", [("X-Key", "")]), ctx("/", [("X-Key", ", a")])]) == "123"
    assert bal.hash_of(lb.PickCtx(headers=None)) is None
    want = hash_key(b"v", bal.hash_type)
    assert bal.hash_of(lb.PickCtx(headers=lambda name: "v, w" if name == "x-key" else None)) == want
    # the first line only, like HAProxy's first occurrence
    assert bal.hash_of(ctx("/", [("X-Key", "v"), ("X-Key", "z")])) == want
