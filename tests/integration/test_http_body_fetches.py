"""Request-body sample fetches over real sockets: ``req.body``, ``req.body_len``,
``req.body_size``, ``req.body_param`` in ``http-request`` rules, ACLs and ``use_backend``,
with and without ``option http-buffer-request`` (frontend: waited for before the
frontend's rules; backend: before the backend's).

Every test runs against gproxy and, when /usr/sbin/haproxy is installed, against
haproxy 2.6 with the very same config and the very same expected bytes: the expectations
are what haproxy 2.6.12 answered.
"""

from __future__ import annotations

import re
import shutil
import socket

import pytest
from helpers import free_port

from integration.httpkit import RawBackend, exchange

pytestmark = pytest.mark.timeout(60)

HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")

LF = "P=[%[req.body_param(a)]] P0=[%[req.body_param]] L=%[req.body_len] S=%[req.body_size] B=[%[req.body]]"

CFG = """\
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-request 5s

frontend buf
    bind 127.0.0.1:{buf}
    option http-buffer-request
    http-request return status 200 content-type text/plain lf-string "{lf}"

frontend nobuf
    bind 127.0.0.1:{nobuf}
    http-request return status 200 content-type text/plain lf-string "{lf}"

frontend fwd
    bind 127.0.0.1:{fwd}
    option http-buffer-request
    acl a2 req.body_param(a) -m str 2
    acl big req.body_len gt 3
    http-request deny deny_status 403 if {{ req.body_param(deny) -m found }}
    http-request set-header x-b %[req.body]
    http-request set-header x-meta %[req.body_len]/%[req.body_size]/%[req.body_param(a)]
    http-request set-header x-a2 yes if a2
    http-request set-header x-big yes if big
    use_backend alt if {{ req.body_param(to) -m str alt }}
    default_backend be

backend be
    server s1 127.0.0.1:{srv}

backend alt
    http-request set-header x-alt %[req.body_param(to)]
    server s1 127.0.0.1:{srv}

frontend fe_opt
    bind 127.0.0.1:{fe_opt}
    option http-buffer-request
    http-request set-var(txn.fl) req.body_len
    default_backend be_plain

backend be_plain
    http-request return status 200 content-type text/plain lf-string "fl=%[var(txn.fl)] bl=%[req.body_len]"

frontend fe_plain
    bind 127.0.0.1:{fe_plain}
    http-request set-var(txn.fl) req.body_len
    default_backend be_opt

backend be_opt
    option http-buffer-request
    http-request return status 200 content-type text/plain lf-string "fl=%[var(txn.fl)] bl=%[req.body_len]"
"""

FLAVOURS = [
    "gproxy",
    pytest.param("haproxy", marks=pytest.mark.skipif(HAPROXY is None, reason="needs haproxy 2.6")),
]


@pytest.fixture(params=FLAVOURS)
def flavour(request, monkeypatch):
    """Run the test's proxies with gproxy, then with haproxy."""
    monkeypatch.setenv("GPROXY_TEST_PROXY", request.param)
    return request.param


@pytest.fixture
def env(flavour, proxy):
    """(ports, backend) of a proxy running CFG."""
    backend = RawBackend()
    ports = {k: free_port() for k in ("buf", "nobuf", "fwd", "fe_opt", "fe_plain")}
    proxy(CFG.format(lf=LF, srv=backend.port, **ports), wait_ports=list(ports.values()))
    yield ports, backend
    backend.stop()


def post(body: bytes, extra: bytes = b"", close: bool = True) -> bytes:
    conn = b"connection: close\r\n" if close else b""
    return b"POST / HTTP/1.1\r\nhost: x\r\n" + conn + extra + b"content-length: %d\r\n\r\n" % len(body) + body


CHUNKED_HEAD = b"POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n"


def answer(port: int, parts, wait: float = 2.0) -> str:
    """The body of the (single) response, then the end marker (<EOF>, <OPEN>)."""
    out = exchange(port, parts, wait=wait, gap=0.05)
    head, sep, rest = out.partition(b"\r\n\r\n")
    assert sep and head.startswith(b"HTTP/1.1 200"), out
    return rest.decode("latin-1")


# ------------------------------------------------------------------ what the rules see
@pytest.mark.parametrize(("parts", "expected"), [
    ([b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"],
     "P=[] P0=[] L=0 S=0 B=[]"),
    ([post(b"a=1&b=2&a=3")],
     "P=[1] P0=[1] L=11 S=11 B=[a=1&b=2&a=3]"),
    ([post(b"b=%41+x&A=q&a=z%20+y")],                     # no URL decoding; names are case-sensitive
     "P=[z%20+y] P0=[%41+x] L=20 S=20 B=[b=%41+x&A=q&a=z%20+y]"),
    ([post(b"a&b;c=5;a=2")],                              # '&' and ';' separate, no name: first '='
     "P=[2] P0=[5] L=11 S=11 B=[a&b;c=5;a=2]"),
    ([CHUNKED_HEAD + b"3\r\na=1\r\n4;x=y\r\n&b=2\r\n0\r\nx-t: 1\r\n\r\n"],  # de-chunked, no trailers
     "P=[1] P0=[1] L=7 S=7 B=[a=1&b=2]"),
], ids=["get", "cl", "raw-values", "delimiters", "chunked"])
def test_body_fetches(env, parts, expected):
    ports, _ = env
    for port in (ports["buf"], ports["nobuf"]):
        assert answer(port, parts) == expected + "<EOF>"


@pytest.mark.parametrize(("parts", "buffered", "unbuffered"), [
    ([post(b"a=1&b=2&a=3")[:-6], None, b"=2&a=3"],
     "P=[1] P0=[1] L=11 S=11 B=[a=1&b=2&a=3]", "P=[1] P0=[1] L=5 S=11 B=[a=1&b]"),
    ([CHUNKED_HEAD + b"3\r\na=1\r\n", None, b"4\r\n&b=2\r\n0\r\n\r\n"],
     "P=[1] P0=[1] L=7 S=7 B=[a=1&b=2]", "P=[1] P0=[1] L=3 S=3 B=[a=1]"),
    ([CHUNKED_HEAD + b"5\r\na=1", None, b"23\r\n0\r\n\r\n"],    # a chunk in progress counts whole
     "P=[123] P0=[123] L=5 S=5 B=[a=123]", "P=[1] P0=[1] L=3 S=5 B=[a=1]"),
    ([CHUNKED_HEAD + b"3\r\na=1\r\n5\r\n", None, b"23456\r\n0\r\n\r\n"],
     "P=[123456] P0=[123456] L=8 S=8 B=[a=123456]", "P=[1] P0=[1] L=3 S=8 B=[a=1]"),
], ids=["cl", "chunked", "chunk-in-progress", "size-line-read"])
def test_buffer_request_waits_for_the_body(env, parts, buffered, unbuffered):
    ports, _ = env
    assert answer(ports["buf"], parts) == buffered + "<EOF>"
    # without the option the rules run on what came with the head; the rest of the body
    # is not read, so the connection closes after the answer
    assert answer(ports["nobuf"], parts[:1]) == unbuffered + "<EOF>"


@pytest.mark.parametrize(("framing", "expected"), [
    ("cl", "L=15214 S=20000 P=15212"),
    ("chunked", "L=15201 S=16000 P=15199"),
])
def test_body_larger_than_the_buffer(flavour, proxy, framing, expected):
    """The fetches see one buffer of it (tune.bufsize 16384 - maxrewrite 1024 less the
    head); body_size is the Content-Length, or what the chunk in progress announces."""
    body = b"a=" + b"x" * 19998
    if framing == "cl":
        head = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 20000\r\n\r\n"
        data = body
    else:
        head = b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
        data = b"".join(b"3e8\r\n" + body[i:i + 1000] + b"\r\n" for i in range(0, 20000, 1000)) + b"0\r\n\r\n"
    lf = "L=%[req.body_len] S=%[req.body_size] P=%[req.body_param(a),length]"
    port = free_port()
    proxy(f"defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 2s\n"
          f"frontend big\n    bind 127.0.0.1:{port}\n    option http-buffer-request\n"
          f"    http-request return status 200 content-type text/plain lf-string \"{lf}\"\n",
          wait_ports=[port])
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(head)
        got = b""
        s.settimeout(0.2)  # the head alone first: the proxy is then waiting for the body
        try:
            got = s.recv(100)
        except TimeoutError:
            pass
        assert got == b""
        s.settimeout(5)
        try:
            s.sendall(data)
        except OSError:
            pass  # the proxy may answer and close before reading it all
        out = b""
        while b"\r\n\r\n" not in out or not re.search(rb"P=\d+$", out):
            d = s.recv(65536)
            if not d:
                break
            out += d
    finally:
        s.close()
    assert out.partition(b"\r\n\r\n")[2].decode() == expected


# ------------------------------------------------------------------ rules, ACLs, forwarding
def test_forwarded_request_and_acls(env):
    ports, backend = env
    port = ports["fwd"]
    out = exchange(port, [post(b"a=1&a=2", close=False)[:-3], None, b"a=2"], wait=1.0)
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"<OPEN>")
    r = backend.requests[-1]
    assert r.body == b"a=1&a=2"
    assert (r.header("x-b"), r.header("x-meta"), r.header("x-a2"), r.header("x-big")) == ("a=1&a=2", "7/7/1", "yes", "yes")
    # the ACL iterates over every 'a'; a NUL ends the header value (bin -> str)
    exchange(port, [post(b"a\x00=1")], wait=1.0)
    r = backend.requests[-1]
    assert (r.header("x-b"), r.header("x-meta"), r.header("x-a2"), r.header("x-big")) == ("a", "4/4/", None, "yes")
    assert r.body == b"a\x00=1"
    # use_backend on a body parameter; the backend's rules see it too
    exchange(port, [post(b"to=alt&a=2")], wait=1.0)
    r = backend.requests[-1]
    assert (r.header("x-alt"), r.header("x-a2")) == ("alt", "yes")
    # a rule refusing the request on a body parameter
    out = exchange(port, [post(b"x=1&deny")[:-4], None, b"deny"], wait=1.0)
    assert out.startswith(b"HTTP/1.1 200")
    out = exchange(port, [post(b"x=1&deny=")[:-5], None, b"deny="], wait=1.0)
    assert out.startswith(b"HTTP/1.1 403 Forbidden\r\n")


def test_expect_100_continue_is_answered_before_the_rules(env):
    ports, backend = env
    out = exchange(ports["fwd"], [post(b"a=1", b"expect: 100-continue\r\n")[:-3], None, b"a=1"], wait=1.0)
    assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    r = backend.requests[-1]
    assert r.header("expect") is None  # consumed by the proxy, as haproxy does
    assert (r.header("x-meta"), r.body) == ("3/3/1", b"a=1")
    # even when the whole body came with the head
    out = exchange(ports["fwd"], [post(b"a=1", b"expect: 100-continue\r\n")], wait=1.0)
    assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert backend.requests[-1].header("expect") is None


@pytest.mark.parametrize(("fe", "expected"), [
    ("fe_opt", "fl=6 bl=6"),     # the frontend's option: waited for before the frontend's rules
    ("fe_plain", "fl=0 bl=6"),   # the backend's option: only the backend's rules see the body
])
def test_which_rules_wait(env, fe, expected):
    ports, _ = env
    parts = [b"POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 6\r\n\r\n", None, b"a=1&b="]
    assert answer(ports[fe], parts) == expected + "<EOF>"
