"""``http-request wait-for-body``, ``http-response wait-for-body`` and ``res.body``,
``res.body_len``, ``res.body_size`` over real sockets, differentially.

The proxy under test (gproxy, or haproxy with ``GPROXY_TEST_PROXY=haproxy``) and, when
/usr/sbin/haproxy is installed, haproxy 2.6 run the very same configuration side by side,
each in front of its own backend answering the same way.  Every test sends the same
bytes through both and requires the same answers, the same request at the server and
the same status and termination state in the log; it also checks them against what
haproxy 2.6.12 did, so the test means something without haproxy.  Chunk framing is
compared de-chunked: haproxy re-chunks a body it held (``5\\r\\nhello\\r\\n6\\r\\n
world`` may leave as ``B\\r\\nhello world``), gproxy forwards chunks as received.

Timing is only used to cut a message in two (the second part leaves ``GAP`` seconds
after the first, so the rules before ``wait-for-body`` run on the first); every result
is waited for as a condition, with a timeout.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from dataclasses import dataclass

import helpers
import pytest
from helpers import free_port, wait_for

from integration.httpkit import RawBackend, parse_httplog

pytestmark = pytest.mark.timeout(60)

HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
GAP = 0.25
RELEASE = threading.Event()  # set at teardown: bodies a backend holds back until then

CFG = """\
global
    log stderr format raw local0

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 5s
    timeout server 5s

frontend req_fwd
    bind 127.0.0.1:{req_fwd}
    http-request set-header x-before %[req.body_len]
    http-request wait-for-body time 1s
    http-request set-header x-after %[req.body_len]/%[req.body_size]
    http-request set-header x-body %[req.body]
    default_backend be

frontend req_ret
    bind 127.0.0.1:{req_ret}
    http-request set-var(txn.before) req.body_len
    http-request wait-for-body time 1s at-least 4 if {{ path /least }}
    http-request wait-for-body time 1s unless {{ path /least }}
    http-request return status 200 content-type text/plain lf-string "before=%[var(txn.before)] L=%[req.body_len] S=%[req.body_size] B=[%[req.body]]"

frontend req_be
    bind 127.0.0.1:{req_be}
    http-request set-var(txn.fl) req.body_len
    default_backend be_wait

backend be_wait
    http-request wait-for-body time 1s
    http-request return status 200 content-type text/plain lf-string "fl=%[var(txn.fl)] bl=%[req.body_len]"

frontend req_big
    bind 127.0.0.1:{req_big}
    http-request wait-for-body time 3s
    http-request set-header x-len %[req.body_len]/%[req.body_size]
    default_backend be

frontend res
    bind 127.0.0.1:{res}
    http-response set-header x-before %[res.body_len]
    http-response wait-for-body time 1s
    http-response set-header x-body %[res.body]
    http-response set-header x-len %[res.body_len]/%[res.body_size]
    http-response deny if {{ res.body -m sub secret }}
    http-after-response set-header x-after %[res.body_len] if {{ status 200 }}
    default_backend be

frontend res_least
    bind 127.0.0.1:{res_least}
    http-response wait-for-body time 3s at-least 3
    http-response set-header x-len %[res.body_len]/%[res.body_size]
    http-response set-header x-body %[res.body]
    default_backend be

frontend res_big
    bind 127.0.0.1:{res_big}
    http-response wait-for-body time 3s
    http-response set-header x-len %[res.body_len]/%[res.body_size]
    default_backend be

backend be
    server s1 127.0.0.1:{srv}
"""
FRONTENDS = ("req_fwd", "req_ret", "req_be", "req_big", "res", "res_least", "res_big")

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
CHUNK_40K = b"".join(b"3e8\r\n" + b"a" * 1000 + b"\r\n" for _ in range(40)) + b"0\r\n\r\n"
#: what the backend answers, by path (a list is sent in stages, see RawBackend)
ANSWERS = {
    "/cl": [b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello", GAP, b" world"],
    "/secret": [b"HTTP/1.1 200 OK\r\ncontent-length: 14\r\n\r\nthis is", GAP, b" secret"],
    "/chunked": [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n", GAP,
                 b"6\r\n world\r\n0\r\n\r\n"],
    "/partial": [b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\nhello", RELEASE, b"x" * 15],
    "/eof": [b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\nhello", GAP, "close"],
    "/close": [b"HTTP/1.1 200 OK\r\n\r\nuntil", GAP, b" close", "close"],
    "/big": b"HTTP/1.1 200 OK\r\ncontent-length: 40000\r\n\r\n" + b"a" * 40000,
    "/bigc": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + CHUNK_40K,
}


def respond(req):
    path = req.head.split(b" ", 2)[1].decode().split("?")[0]
    return ANSWERS.get(path, OK)


# ------------------------------------------------------------------ the two proxies
@dataclass
class Side:
    name: str
    proxy: helpers.Proxy
    backend: RawBackend
    ports: dict[str, int]


def _start(flavour: str, tmp) -> Side:
    backend = RawBackend(respond)
    ports = {k: free_port() for k in FRONTENDS}
    old = os.environ.get("GPROXY_TEST_PROXY")
    os.environ["GPROXY_TEST_PROXY"] = flavour  # helpers.Proxy picks the program from it
    try:
        p = helpers.Proxy(CFG.format(srv=backend.port, **ports), tmp, wait_ports=list(ports.values()))
    except BaseException:
        backend.stop()
        raise
    finally:
        if old is None:
            del os.environ["GPROXY_TEST_PROXY"]
        else:
            os.environ["GPROXY_TEST_PROXY"] = old
    return Side(flavour, p, backend, ports)


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    """The proxy under test first, then haproxy 2.6 as the reference (when installed)."""
    tmp = tmp_path_factory.mktemp("wait_for_body")
    subject = helpers.proxy_flavour()
    started = [_start(subject, tmp)]
    try:
        if subject != "haproxy" and HAPROXY is not None:
            started.append(_start("haproxy", tmp))
        yield started
    finally:
        RELEASE.set()
        for s in started:
            s.proxy.stop()
            s.backend.stop()
            print(f"--- {s.proxy!r} stderr ---\n{s.proxy.stderr()}")


# ------------------------------------------------------------------ a client
def _dechunk(data: bytes) -> tuple[bytes, int] | None:
    """(payload, bytes used) of a complete chunked body at the start of ``data``."""
    out, pos = [], 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(data[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            end = data.find(b"\r\n", pos)
            while end >= 0 and end != pos:  # trailers
                pos = end + 2
                end = data.find(b"\r\n", pos)
            return (b"".join(out), end + 2) if end >= 0 else None
        if len(data) < pos + size + 2:
            return None
        out.append(data[pos:pos + size])
        pos += size + 2


def _responses(data: bytes, closed: bool, head_only: bool = False) -> list[tuple[bytes, bytes]]:
    """The complete responses in ``data``: (head, payload de-chunked)."""
    out = []
    while True:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            return out
        head += sep
        status = int(head.split(b" ", 2)[1])
        m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if 100 <= status < 200 or head_only:
            payload, data = b"", rest
        elif re.search(rb"(?i)\r\ntransfer-encoding: *chunked", head):
            got = _dechunk(rest)
            if got is None:
                return out
            payload, data = got[0], rest[got[1]:]
        elif m is not None:
            n = int(m.group(1))
            if len(rest) < n:
                return out
            payload, data = rest[:n], rest[n:]
        elif closed:
            payload, data = rest, b""
        else:
            return out
        out.append((head, payload))


class Client:
    """One client connection: send parts, read whole responses (waiting on conditions)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.data = b""
        self.closed = False

    def send(self, *parts: bytes | None) -> None:
        """None: let GAP seconds pass (the proxy runs its rules on what came before)."""
        for p in parts:
            if p is None:
                time.sleep(GAP)
            else:
                self.sock.sendall(p)

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"nothing complete in time: {self.data!r}")
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except ConnectionResetError:
            d = b""
        if d:
            self.data += d
        else:
            self.closed = True

    def read(self, n: int = 1, head_only: bool = False, timeout: float = 10) -> list[tuple[bytes, bytes]]:
        """Wait for ``n`` complete final responses (a 100 Continue comes on top); all
        the responses read so far on this connection."""
        deadline = time.monotonic() + timeout
        while True:
            got = _responses(self.data, self.closed, head_only)
            if len([r for r in got if not r[0].startswith(b"HTTP/1.1 1")]) >= n:
                return got
            if self.closed:
                raise AssertionError(f"closed after {self.data!r}")
            self._fill(deadline)

    def read_until(self, marker: bytes, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.data:
            if self.closed:
                raise AssertionError(f"closed after {self.data!r}")
            self._fill(deadline)

    def wait_closed(self, timeout: float = 10) -> bytes:
        """Wait for the proxy to close; all that came on this connection."""
        deadline = time.monotonic() + timeout
        while not self.closed:
            self._fill(deadline)
        return self.data

    def close(self) -> None:
        self.sock.close()


def each(sides, fn):
    """Run ``fn(side)`` on every side; all results must be equal; return the subject's."""
    results = [fn(s) for s in sides]
    for s, r in zip(sides[1:], results[1:]):
        assert r == results[0], f"{s.name} differs from {sides[0].name}:\n{r!r}\n{results[0]!r}"
    return results[0]


def log_fields(side: Side, uri: str) -> tuple[str, str]:
    """(status, termination state) of the log line of the request for ``uri``."""
    def find():
        for line in side.proxy.stderr().splitlines():
            f = parse_httplog(line)
            if f and f["r"].split(" ")[1:2] == [uri]:
                return f["ST"], f["tsc"]
        return None
    return wait_for(find, timeout=10, what=f"the log line of {uri} ({side.name})")


def server_got(side: Side, uri: str) -> tuple[bytes, bytes]:
    """(head, payload) the backend received for ``uri`` (payload de-chunked)."""
    def find():
        for r in side.backend.requests:
            if r.head.split(b" ", 2)[1] == uri.encode():
                return r
        return None
    r = wait_for(find, timeout=10, what=f"{uri} at the backend ({side.name})")
    payload = _dechunk(r.body)[0] if re.search(rb"(?i)\r\ntransfer-encoding: *chunked", r.head) else r.body
    return r.head, payload


def post(uri: str, body: bytes, extra: bytes = b"") -> bytes:
    return b"POST %s HTTP/1.1\r\nhost: x\r\n%scontent-length: %d\r\n\r\n" % (uri.encode(), extra, len(body))


def chunked_post(uri: str) -> bytes:
    return b"POST %s HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" % uri.encode()


def get(uri: str, method: str = "GET") -> bytes:
    return b"%s %s HTTP/1.1\r\nhost: x\r\n\r\n" % (method.encode(), uri.encode())


# ------------------------------------------------------------------ http-request wait-for-body
@pytest.mark.parametrize(("framing", "first", "rest"), [
    ("cl", b"a=1", b"&b=2"),
    ("chunked", b"3\r\na=1\r\n", b"4\r\n&b=2\r\n0\r\n\r\n"),
])
def test_rules_before_the_wait_do_not_see_the_body_rules_after_do(sides, framing, first, rest):
    uri = f"/before-after-{framing}"
    head = post(uri, b"a=1&b=2") if framing == "cl" else chunked_post(uri)

    def run(side):
        c = Client(side.ports["req_fwd"])
        c.send(head + first, None, rest)
        rsp = c.read()
        c.close()
        return rsp, server_got(side, uri), log_fields(side, uri)

    rsp, (srv_head, payload), log = each(sides, run)
    assert rsp == [(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n", b"ok")]
    assert b"\r\nx-before: 3\r\nx-after: 7/7\r\nx-body: a=1&b=2\r\n" in srv_head
    assert payload == b"a=1&b=2"  # forwarded once, whole
    assert log == ("200", "----")


def test_at_least(sides):
    def run(side):
        c = Client(side.ports["req_ret"])
        c.send(post("/least", b"abcdefghij") + b"ab", None, b"cd")
        rsp = c.read()
        rest = c.wait_closed()  # the body was not all read: the connection closes
        c.close()
        return rsp, rest.endswith(b"B=[abcd]"), log_fields(side, "/least")

    rsp, ended, log = each(sides, run)
    assert rsp == [(b"HTTP/1.1 200 OK\r\ncontent-length: 26\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n",
                    b"before=2 L=4 S=10 B=[abcd]")]
    assert ended and log == ("200", "LR--")


def test_the_whole_body_then_keep_alive_and_pipelining(sides):
    def run(side):
        c = Client(side.ports["req_ret"])
        c.send(post("/all", b"abcdef") + b"abc", None, b"def" + get("/next"))
        rsp = c.read(2)
        c.close()
        return rsp

    assert each(sides, run) == [
        (b"HTTP/1.1 200 OK\r\ncontent-length: 27\r\ncontent-type: text/plain\r\n\r\n",
         b"before=3 L=6 S=6 B=[abcdef]"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 21\r\ncontent-type: text/plain\r\n\r\n",
         b"before=0 L=0 S=0 B=[]"),
    ]


def test_time_expires_with_a_partial_body(sides):
    """haproxy 2.6 gives up on the request: 408 (its errorfile page), cR--, close."""
    def run(side):
        c = Client(side.ports["req_ret"])
        t0 = time.monotonic()
        c.send(post("/expire", b"abcdefghij") + b"abc")
        rsp = c.read()
        waited = time.monotonic() - t0
        c.wait_closed()
        c.close()
        return rsp, waited > 0.9, log_fields(side, "/expire")

    rsp, waited, log = each(sides, run)
    assert rsp == [((b"HTTP/1.1 408 Request Time-out\r\ncontent-length: 110\r\ncache-control: no-cache\r\n"
                    b"content-type: text/html\r\nconnection: close\r\n\r\n"),
                    (b"<html><body><h1>408 Request Time-out</h1>\n"
                    b"Your browser didn't send a complete request in time.\n</body></html>\n"))]
    assert waited and log == ("408", "cR--")


def test_time_expires_before_forwarding(sides):
    def run(side):
        c = Client(side.ports["req_fwd"])
        c.send(post("/expire-fwd", b"abcdefghij") + b"abc")
        rsp = c.read()
        c.wait_closed()
        c.close()
        return [h.split(b"\r\n")[0] for h, _ in rsp], log_fields(side, "/expire-fwd")

    assert each(sides, run) == ([b"HTTP/1.1 408 Request Time-out"], ("408", "cR--"))
    for side in sides:
        assert not [r for r in side.backend.requests if b"/expire-fwd" in r.head]


def test_client_closing_during_the_wait(sides):
    def run(side):
        c = Client(side.ports["req_fwd"])
        c.send(post("/gone", b"abcdefghij") + b"abc")
        c.sock.shutdown(socket.SHUT_WR)
        rest = c.wait_closed()
        c.close()
        return rest, log_fields(side, "/gone")[1][:2]

    assert each(sides, run) == (b"", "CR")  # no answer, nothing reaches the server
    for side in sides:
        assert not [r for r in side.backend.requests if b"/gone" in r.head]


def test_expect_100_continue_is_answered(sides):
    def run(side):
        c = Client(side.ports["req_fwd"])
        c.send(post("/expect", b"abcdef", b"expect: 100-continue\r\n"))
        c.read_until(b"\r\n\r\n")  # the 100 Continue, before any body byte was sent
        c.send(b"abcdef")
        rsp = c.read()
        c.close()
        return rsp, server_got(side, "/expect")

    rsp, (srv_head, payload) = each(sides, run)
    assert rsp[0] == (b"HTTP/1.1 100 Continue\r\n\r\n", b"")
    assert rsp[1] == (b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n", b"ok")
    assert b"\r\nexpect:" not in srv_head.lower() and b"\r\nx-after: 6/6\r\n" in srv_head and payload == b"abcdef"


def test_wait_in_the_backend_rules(sides):
    def run(side):
        c = Client(side.ports["req_be"])
        c.send(post("/be", b"a=1&b=") + b"a=", None, b"1&b=")
        rsp = c.read()
        c.close()
        return rsp

    assert each(sides, run) == [(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\ncontent-type: text/plain\r\n\r\n",
                                 b"fl=2 bl=6")]


def test_request_body_larger_than_the_buffer(sides):
    """One buffer of it is held (15207 bytes beside this head); all of it is forwarded."""
    body = bytes(range(256)) * 80  # 20480 bytes

    def run(side):
        c = Client(side.ports["req_big"])
        c.send(post("/big-req", body), None, body)
        rsp = c.read()
        c.close()
        head, payload = server_got(side, "/big-req")
        return rsp, re.search(rb"\r\nx-len: ([^\r]*)\r\n", head).group(1), payload == body

    assert each(sides, run) == ([(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n", b"ok")], b"15207/20480", True)


# ------------------------------------------------------------------ http-response wait-for-body, res.body*
def test_res_body_in_headers_before_and_after_the_wait(sides):
    def run(side):
        c = Client(side.ports["res"])
        c.send(get("/cl"))
        rsp = c.read()
        c.close()
        return rsp, log_fields(side, "/cl")

    rsp, log = each(sides, run)
    assert rsp == [((b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nx-before: 5\r\nx-body: hello world\r\n"
                    b"x-len: 11/11\r\nx-after: 11\r\n\r\n"), b"hello world")]
    assert log == ("200", "----")


def test_deny_on_the_response_body(sides):
    def run(side):
        c = Client(side.ports["res"])
        c.send(get("/secret"))
        rsp = c.read()
        c.send(get("/cl"))  # the client connection stays
        rsp += c.read(2)[1:]
        c.close()
        return rsp, log_fields(side, "/secret")

    rsp, log = each(sides, run)
    assert rsp[0][0].startswith(b"HTTP/1.1 502 Bad Gateway\r\n") and b"x-body" not in rsp[0][0]
    assert rsp[1][1] == b"hello world"
    assert log == ("502", "PH--")


def test_chunked_response(sides):
    def run(side):
        c = Client(side.ports["res"])
        c.send(get("/chunked"))
        rsp = c.read()
        c.close()
        return rsp

    assert each(sides, run) == [((b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-before: 5\r\n"
                                 b"x-body: hello world\r\nx-len: 11/11\r\nx-after: 11\r\n\r\n"), b"hello world")]


def test_response_until_close(sides):
    def run(side):
        c = Client(side.ports["res"])
        c.send(get("/close"))
        c.wait_closed()
        rsp = c.read()
        c.close()
        return rsp

    assert each(sides, run) == [((b"HTTP/1.1 200 OK\r\nx-before: 5\r\nx-body: until close\r\nx-len: 11/11\r\n"
                                 b"x-after: 11\r\nconnection: close\r\n\r\n"), b"until close")]


def test_response_at_least(sides):
    def run(side):
        c = Client(side.ports["res_least"])
        c.send(get("/cl"))
        rsp = c.read()
        c.send(get("/chunked"))
        rsp += c.read(2)[1:]
        c.close()
        return rsp

    assert each(sides, run) == [
        (b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nx-len: 5/11\r\nx-body: hello\r\n\r\n", b"hello world"),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-len: 5/5\r\nx-body: hello\r\n\r\n", b"hello world"),
    ]


def test_response_time_expires(sides):
    """haproxy 2.6 answers 504 instead (sR--) and keeps the client connection."""
    def run(side):
        c = Client(side.ports["res"])
        c.send(get("/partial"))
        rsp = c.read()
        c.send(get("/cl"))
        rsp += c.read(2)[1:]
        c.close()
        return rsp, log_fields(side, "/partial")

    rsp, log = each(sides, run)
    assert rsp[0] == ((b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\n"
                      b"content-type: text/html\r\n\r\n"),
                      (b"<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n"
                      b"</body></html>\n"))
    assert rsp[1][1] == b"hello world"
    assert log == ("504", "sR--")


def test_server_closing_during_the_wait(sides):
    """The rules go on with what came; the response then ends short (SD--)."""
    def run(side):
        c = Client(side.ports["res"])
        c.send(get("/eof"))
        rest = c.wait_closed()
        c.close()
        return rest, log_fields(side, "/eof")

    rest, log = each(sides, run)
    assert rest == (b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\nx-before: 5\r\nx-body: hello\r\nx-len: 5/20\r\n"
                    b"x-after: 5\r\n\r\nhello")
    assert log == ("200", "SD--")


@pytest.mark.parametrize(("uri", "x_len"), [("/big", b"15227/40000"), ("/bigc", b"15214/16000")])
def test_response_body_larger_than_the_buffer(sides, uri, x_len):
    def run(side):
        c = Client(side.ports["res_big"])
        c.send(get(uri))
        rsp = c.read()
        c.close()
        head, payload = rsp[0]
        return re.search(rb"\r\nx-len: ([^\r]*)\r\n", head).group(1), payload == b"a" * 40000

    assert each(sides, run) == (x_len, True)  # one buffer seen, every byte forwarded once


def test_bodyless_responses_are_not_waited_for(sides):
    def run(side):
        c = Client(side.ports["res_big"])
        c.send(get("/cl", "HEAD"))
        rsp = c.read(head_only=True)
        c.close()
        return rsp

    assert each(sides, run) == [(b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nx-len: 0/0\r\n\r\n", b"")]


def test_http_buffer_request_timeout_is_the_408_page(proxy, syslog):
    """``option http-buffer-request`` giving up on a body (``timeout http-request``):
    haproxy 2.6.12 answers its 408 page as an HTX message (lower-case names, errorfiles
    apply) and logs the request with the page's own ``connection: close`` counted
    (2026-11-27: ``fe fe/<NOSRV> -1/-1/-1/-1/1002 408 232 - - cR-- ... "POST /up HTTP/1.1"``)."""
    be = RawBackend()
    port = free_port()
    try:
        proxy(f"global\n    log 127.0.0.1:{syslog.port} local0\n"
              "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n"
              "    timeout client 5s\n    timeout server 2s\n    timeout http-request 500ms\n"
              f"frontend fe\n    bind 127.0.0.1:{port}\n    option http-buffer-request\n    default_backend be\n"
              f"backend be\n    server s1 127.0.0.1:{be.port}\n", wait_ports=[port])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            got = b""
            while True:
                d = s.recv(4096)
                if not d:
                    break
                got += d
        assert got == (b"HTTP/1.1 408 Request Time-out\r\ncontent-length: 110\r\ncache-control: no-cache\r\n"
                       b"content-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>408 Request Time-out"
                       b"</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n")
        line = wait_for(lambda: next((x for x in map(parse_httplog, syslog.lines) if x), None), timeout=5,
                        what="the log line")
        assert (line["b"], line["s"], line["ST"], line["B"], line["tsc"], line["r"]) == (
            "fe", "<NOSRV>", "408", "232", "cR--", "POST /up HTTP/1.1")
        assert not be.requests
    finally:
        be.stop()
