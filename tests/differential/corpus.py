"""The differential corpus: configs, and scenarios = raw client bytes + a backend script.

Config texts are identical for both proxies except for ``@name@`` placeholders, which
each side fills with its own ports: ``@<frontend>@`` (listening ports), ``@<server>@``
(its recording backend's ports), ``@<dead>@`` (a port nothing listens on) and ``@dir@``
(its directory, where ``Config.files`` are written).  ``DELIBERATE.HAPROXY_CONFIG_REWRITES``
may adapt a text for haproxy (only the seed config's legacy ``reqadd``).

A scenario's ``expect`` is the status code haproxy sends first (``""``: no response at
all): it documents the scenario and checks that the harness exercises what the scenario
name says; the comparison with gproxy is the test itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .DELIBERATE import HAPROXY_CONFIG_REWRITES
from .harness import (
    WAIT,
    Pause,
    Script,
    chunked,
    close_delimited,
    connect_ok,
    hangup,
    interim,
    ok,
    raw,
    slow,
    switching,
)


@dataclass(frozen=True)
class Config:
    name: str
    text: str
    frontends: tuple[str, ...]
    servers: tuple[str, ...] = ("s1",)
    dead: tuple[str, ...] = ()
    files: dict = field(default_factory=dict)
    checks: bool = False          # servers are health-checked

    @property
    def haproxy_text(self) -> str:
        text = self.text
        for old, new in HAPROXY_CONFIG_REWRITES.get(self.name, ()):
            if old not in text:
                raise ValueError(f"config {self.name}: rewrite target {old!r} not in the text")
            text = text.replace(old, new)
        return text


@dataclass(frozen=True)
class Scenario:
    id: str
    config: str
    frontend: str
    steps: tuple
    script: Script = field(default_factory=Script)
    expect: str | None = None     # haproxy's first status code ("" = none)
    doc: str = ""
    quiet: float = 0.2
    deadline: float = 2.0


# ====================================================================== configs

DEFAULTS = """\
global
    maxconn 500

defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-request 3s
"""

ERRORFILE_503 = (b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\n"
                 b"Content-Type: text/html\r\nX-Errorfile: custom-503\r\n\r\n"
                 b"<html><body><h1>custom 503</h1></body></html>\n")
ERRORFILE_400 = (b"HTTP/1.0 400 Bad request\r\nCache-Control: no-cache\r\nConnection: close\r\n"
                 b"Content-Type: text/html\r\nX-Errorfile: custom-400\r\n\r\n"
                 b"<html><body><h1>custom 400</h1></body></html>\n")
ERRORFILE_403 = (b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
                 b"X-Errorfile: custom-403\r\n\r\nforbidden\n")

CONFIGS: dict[str, Config] = {}


def _config(name, body, frontends, **kw):
    CONFIGS[name] = Config(name, DEFAULTS + body, tuple(frontends), **kw)


_config("basic", """
frontend fe
    bind 127.0.0.1:@fe@
    default_backend be

frontend lax
    bind 127.0.0.1:@lax@
    option accept-invalid-http-request
    default_backend be

backend be
    server s1 127.0.0.1:@s1@
""", ["fe", "lax"])

_config("modes", """
frontend kal
    bind 127.0.0.1:@kal@
    option http-keep-alive
    default_backend be

frontend scl
    bind 127.0.0.1:@scl@
    option http-server-close
    default_backend be

frontend clo
    bind 127.0.0.1:@clo@
    option httpclose
    default_backend be

frontend kal_beclose
    bind 127.0.0.1:@kal_beclose@
    default_backend be_close

backend be
    server s1 127.0.0.1:@s1@

backend be_close
    option httpclose
    server s1 127.0.0.1:@s1@
""", ["kal", "scl", "clo", "kal_beclose"])

_config("fwd", """
frontend ff
    bind 127.0.0.1:@ff@
    option forwardfor
    default_backend be

frontend ifnone
    bind 127.0.0.1:@ifnone@
    option forwardfor if-none
    default_backend be

frontend except_local
    bind 127.0.0.1:@except_local@
    option forwardfor except 127.0.0.0/8
    default_backend be

frontend except_other
    bind 127.0.0.1:@except_other@
    option forwardfor except 10.0.0.0/8
    default_backend be

frontend hdr
    bind 127.0.0.1:@hdr@
    option forwardfor header X-Client-IP
    default_backend be

frontend behdr
    bind 127.0.0.1:@behdr@
    option forwardfor header X-FE
    default_backend be_ff

frontend orig
    bind 127.0.0.1:@orig@
    option originalto
    default_backend be

backend be
    server s1 127.0.0.1:@s1@

backend be_ff
    option forwardfor header X-BE
    server s1 127.0.0.1:@s1@
""", ["ff", "ifnone", "except_local", "except_other", "hdr", "behdr", "orig"])

_config("rules", """
frontend fe
    bind 127.0.0.1:@fe@
    http-request deny deny_status 429 if { path_beg /deny429 }
    http-request deny if { path_beg /deny }
    http-request return status 200 content-type text/plain string "returned" if { path /return }
    http-request redirect location /new-place if { path /old }
    http-request redirect prefix /pfx code 301 if { path_beg /redir-prefix }
    http-request redirect scheme https if { path_beg /redir-scheme }
    http-request auth realm Private if { path_beg /auth }
    http-request set-header X-Set set-value
    http-request add-header X-Added added-value
    http-request del-header X-Del
    http-response set-header X-Resp-Set resp-value
    http-response del-header X-Secret
    http-response add-header X-Resp-Added yes
    default_backend be

frontend ef
    bind 127.0.0.1:@ef@
    errorfile 403 @dir@/403.http
    http-request deny if { path_beg /deny }
    default_backend be

backend be
    server s1 127.0.0.1:@s1@
""", ["fe", "ef"], files={"403.http": ERRORFILE_403})

_config("errors", """
frontend plain
    bind 127.0.0.1:@plain@
    timeout http-request 500ms
    use_backend empty if { path_beg /nosrv }
    use_backend down if { path_beg /down }
    default_backend be

frontend custom
    bind 127.0.0.1:@custom@
    errorfile 503 @dir@/503.http
    errorfile 400 @dir@/400.http
    use_backend empty if { path_beg /nosrv }
    default_backend be

backend be
    timeout server 1s
    server s1 127.0.0.1:@s1@

backend empty

backend down
    retries 1
    timeout connect 200ms
    server s1 127.0.0.1:@dead@
""", ["plain", "custom"], dead=("dead",), files={"503.http": ERRORFILE_503, "400.http": ERRORFILE_400})

# The seed config's frontend block, on loopback and without ssl.  `balance first` keeps
# the server choice independent of the scenario order.
_config("seed", """
frontend www
    bind 127.0.0.1:@www@
    mode http
    option httpclose
    option forwardfor
    option accept-invalid-http-request
    reqadd X-Forwarded-Proto:\\ https
    default_backend web

backend web
    mode http
    balance first
    cookie SERVERUSED insert indirect nocache
    option httpchk HEAD /
    default-server check maxconn 20
    server web1 127.0.0.1:@web1@ cookie web1
    server web2 127.0.0.1:@web2@ cookie web2
""", ["www"], servers=("web1", "web2"), checks=True)


# ====================================================================== request helpers

STD = (("Host", "example.com"), ("User-Agent", "difftest/1.0"), ("Accept", "*/*"),
       ("X-Mixed-Case", "Keep-Value"))


def req(method="GET", uri="/x", version="HTTP/1.1", headers=STD, body=b"", extra=(), eol="\r\n") -> bytes:
    lines = [f"{method} {uri} {version}"] + [f"{k}: {v}" for k, v in (*headers, *extra)]
    return (eol.join(lines) + eol + eol).encode("latin-1") + body


def post(uri="/post", body=b"name=value&x=1", extra=()) -> bytes:
    return req("POST", uri, extra=(("Content-Type", "application/x-www-form-urlencoded"),
                                   ("Content-Length", str(len(body))), *extra), body=body)


def post_chunked(uri="/chunked", chunks=b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", extra=()) -> bytes:
    return req("POST", uri, extra=(("Transfer-Encoding", "chunked"), *extra)) + chunks


def raw_head(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


SCENARIOS: list[Scenario] = []

#: the defaults section of the feature tests' own differential configs
DIFF_HEAD = """\
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
"""


def scenario(id, config, frontend, steps, script=(), expect=None, doc="", **kw) -> Scenario:
    """A Scenario: ``steps`` one request (bytes) or several, ``config`` a Config or its
    name, ``script`` a Script or its steps."""
    if isinstance(steps, bytes):
        steps = (steps,)
    if not isinstance(script, Script):
        script = Script(tuple(script))
    name = config if isinstance(config, str) else config.name
    return Scenario(id, name, frontend, tuple(steps), script, expect, doc, **kw)


def scn(id, config, frontend, steps, script=(), expect=None, doc="", **kw):
    """Add a scenario of the shared corpus."""
    if any(s.id == id for s in SCENARIOS):
        raise ValueError(f"duplicate scenario id {id}")
    SCENARIOS.append(scenario(id, config, frontend, steps, script, expect, doc, **kw))


def both(id, steps, script=(), expect=None, expect_lax=None, doc="", **kw):
    """A (mostly malformed) request through the strict and the lax frontend of basic."""
    scn(f"{id}@strict", "basic", "fe", steps, script, expect, doc, **kw)
    scn(f"{id}@lax", "basic", "lax", steps, script, expect if expect_lax is None else expect_lax, doc, **kw)


# ====================================================================== basic: valid traffic

scn("get-simple", "basic", "fe", req(uri="/basic?a=1"), doc="names lower-cased both ways")
scn("get-odd-uri", "basic", "fe", req(uri="/p/a%20b;m=1/./../c//d?x=1&y=%41&z=/?&=&~!$'()*+,:@"))
scn("uri-fragment", "basic", "fe", req(uri="/frag?x=1#section"))
scn("head-cl", "basic", "fe", req("HEAD", "/head"),
    [(("send", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n"),)])
scn("post-cl", "basic", "fe", post())
scn("post-cl-empty", "basic", "fe", post(body=b""))
scn("post-chunked", "basic", "fe", post_chunked())
scn("post-chunked-ext-trailers", "basic", "fe",
    post_chunked(chunks=b"4;name=val\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t1\r\n\r\n",
                 extra=(("TE", "trailers"),)))
scn("post-chunked-split", "basic", "fe",
    (req("POST", "/split", extra=(("Transfer-Encoding", "chunked"),)), Pause(0.05), b"3\r\nabc\r\n",
     Pause(0.05), b"3\r\ndef\r\n", Pause(0.05), b"0\r\n\r\n"))
scn("pipelined-3", "basic", "fe", req(uri="/p1") + req(uri="/p2") + req(uri="/p3"))
scn("pipelined-post-get", "basic", "fe", post(uri="/pp1") + req(uri="/pp2"))
scn("keepalive-reuse", "basic", "fe", (req(uri="/ka1"), WAIT, req(uri="/ka2"), WAIT, req(uri="/ka3")),
    doc="one server connection for the three requests")
scn("http10-close", "basic", "fe", req(uri="/h10", version="HTTP/1.0", headers=(("User-Agent", "old"),)))
scn("http10-keepalive", "basic", "fe",
    (req(uri="/h10ka1", version="HTTP/1.0", extra=(("Connection", "keep-alive"),)), WAIT,
     req(uri="/h10ka2", version="HTTP/1.0", extra=(("Connection", "keep-alive"),))))
scn("http11-conn-close", "basic", "fe", req(uri="/cc", extra=(("Connection", "close"),)))
scn("conn-hop-tokens", "basic", "fe",
    req(uri="/hop", extra=(("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "timeout=5"))))
scn("absolute-uri", "basic", "fe", req(uri="http://example.com/abs?q=1"))
scn("absolute-uri-mismatch", "basic", "fe", req(uri="http://other.example/abs"))
scn("absolute-uri-port", "basic", "fe", req(uri="http://example.com:80/abs"))
scn("absolute-uri-no-host", "basic", "fe", req(uri="http://example.com/abs", headers=(("Accept", "*/*"),)))
scn("host-duplicate-same", "basic", "fe", req(uri="/dh", extra=(("Host", "example.com"),)))
scn("host-duplicate-different", "basic", "fe", req(uri="/dh2", extra=(("Host", "evil.example"),)))
scn("host-missing-11", "basic", "fe", req(uri="/nohost", headers=(("Accept", "*/*"),)))
scn("lowercase-method", "basic", "fe", req("get", "/lc"))
scn("custom-method", "basic", "fe", req("PURGE", "/purge"))
scn("options-star", "basic", "fe", req("OPTIONS", "*"))
scn("leading-empty-lines", "basic", "fe", b"\r\n\r\n" + req(uri="/lead"))
scn("bare-lf", "basic", "fe", req(uri="/lf", eol="\n"))
scn("head-large-ok", "basic", "fe", req(uri="/big", extra=[(f"X-Pad-{i}", "p" * 180) for i in range(60)]))
scn("headers-98", "basic", "fe", req(uri="/many", extra=[(f"X-H{i}", str(i)) for i in range(94)]))
scn("headers-100-limit", "basic", "fe", req(uri="/many", extra=[(f"X-H{i}", str(i)) for i in range(96)]),
    doc="100 header lines: the most tune.http.maxhdr (101 with the start line) lets through")
scn("headers-101-over", "basic", "fe", req(uri="/many", extra=[(f"X-H{i}", str(i)) for i in range(97)]))


def sized_req(total: int) -> bytes:
    """A GET with the STD headers and one X-Pad header, exactly *total* bytes long."""
    pad = total - len(req(uri="/sz", extra=(("X-Pad", ""),)))
    return req(uri="/sz", extra=(("X-Pad", "p" * pad),))


scn("head-size-limit", "basic", "fe", sized_req(15261),
    doc="the largest head (bytes on the wire, 5 header lines) haproxy 2.6 accepts: its HTX "
        "accounting of tune.bufsize - tune.maxrewrite = 15360")
scn("head-size-over", "basic", "fe", sized_req(15262))

# ---------------------------------------------------------------- basic: backend scripts

scn("resp-chunked", "basic", "fe", req(uri="/rc"), [chunked((b"abc", b"defgh"), (("X-Resp-Trailer", "t"),))])
scn("resp-close-delimited", "basic", "fe", req(uri="/rcd"), [close_delimited()])
scn("resp-close-delimited-http10", "basic", "fe", req(uri="/rcd10"),
    [close_delimited(version="HTTP/1.0")])
scn("resp-103-then-200", "basic", "fe", req(uri="/r103"), [interim() + ok()])
scn("resp-204", "basic", "fe", req(uri="/r204"), [ok(b"", 204, "No Content")])
scn("resp-304", "basic", "fe", req(uri="/r304"),
    [raw(b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 42\r\n\r\n")])
scn("resp-dup-headers", "basic", "fe", req(uri="/rdup"),
    [ok(headers=(("Set-Cookie", "a=1"), ("X-Multi", "1"), ("Set-Cookie", "b=2"), ("X-Multi", "2, 3"),
                 ("X-Empty", "")))])
scn("resp-connection-close", "basic", "fe", req(uri="/rconnclose"),
    [ok(headers=(("Connection", "close"),)) + (("close",),)])
scn("resp-http10-keepalive", "basic", "fe", (req(uri="/r10a"), WAIT, req(uri="/r10b")),
    [ok(version="HTTP/1.0", headers=(("Connection", "keep-alive"),))])
scn("resp-cl-and-te", "basic", "fe", req(uri="/rclte"),
    [raw(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"3\r\nabc\r\n0\r\n\r\n")])
scn("resp-bad-status-line", "basic", "fe", req(uri="/rbad"), [raw(b"HTTP/1.1 abc OK\r\n\r\n", close=True)])
scn("resp-garbage", "basic", "fe", req(uri="/rgarb"), [raw(b"garbage garbage\r\n\r\n", close=True)])
scn("resp-bad-header-name", "basic", "fe", req(uri="/rbadh"),
    [raw(b"HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n")])
scn("resp-hangup", "basic", "fe", req(uri="/rhang"), [hangup()])
scn("resp-truncated-body", "basic", "fe", req(uri="/rtrunc"),
    [raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-this", close=True)])
scn("resp-oversized-head", "basic", "fe", req(uri="/rhuge"),
    [raw(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Big-%d: %s\r\n" % (i, b"v" * 200) for i in range(90))
         + b"Content-Length: 0\r\n\r\n")])
scn("resp-dup-cl-different", "basic", "fe", req(uri="/rdupcl"),
    [raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc")])

# ---------------------------------------------------------------- upgrades, CONNECT, Expect

WS = (("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"))
WS_KEY = (("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),)
scn("ws-upgrade", "basic", "fe", (req(uri="/ws", extra=WS + WS_KEY), Pause(0.1), b"ping-in-tunnel"),
    [switching()])
scn("ws-no-key", "basic", "fe", req(uri="/ws", extra=WS), [switching()])
scn("ws-101-no-accept", "basic", "fe", req(uri="/ws", extra=WS + WS_KEY), [switching(accept=False)])
scn("upgrade-h2c", "basic", "fe",
    req(uri="/h2c", extra=(("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
                           ("HTTP2-Settings", "AAMAAABkAAQAAP__"))))
scn("connect", "basic", "fe",
    (req("CONNECT", "example.com:443", headers=(("Host", "example.com:443"),)), Pause(0.1), b"tunnel-bytes"),
    [connect_ok()])
scn("expect-100", "basic", "fe",
    (req("POST", "/expect", extra=(("Content-Length", "5"), ("Expect", "100-continue"))), Pause(0.1), b"hello"))
scn("expect-100-no-continue", "basic", "fe",
    (req("POST", "/expect2", extra=(("Content-Length", "5"), ("Expect", "100-continue"))), Pause(0.1), b"hello"),
    Script((ok(),), send_continue=False))

# ====================================================================== basic: smuggling

both("cl-te", req("POST", "/clte", extra=(("Content-Length", "30"), ("Transfer-Encoding", "chunked")))
     + b"5\r\nhello\r\n0\r\n\r\n")
both("te-gzip-chunked", post_chunked(extra=(), chunks=b"5\r\nhello\r\n0\r\n\r\n").replace(
    b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip, chunked"))
both("te-chunked-gzip", post_chunked(chunks=b"5\r\nhello\r\n0\r\n\r\n").replace(
    b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked, gzip"))
both("te-chunked-twice", post_chunked(chunks=b"5\r\nhello\r\n0\r\n\r\n").replace(
    b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"))
both("te-identity", req("POST", "/teid", extra=(("Transfer-Encoding", "identity"), ("Content-Length", "5")))
     + b"hello")
both("te-http10", req("POST", "/te10", version="HTTP/1.0", extra=(("Transfer-Encoding", "chunked"),))
     + b"5\r\nhello\r\n0\r\n\r\n")
both("cl-dup-identical", req("POST", "/cl2", extra=(("Content-Length", "5"), ("Content-Length", "5"))) + b"hello")
both("cl-list-identical", req("POST", "/cl3", extra=(("Content-Length", "5, 5"),)) + b"hello")
both("cl-dup-different", req("POST", "/cl4", extra=(("Content-Length", "5"), ("Content-Length", "6"))) + b"hello!")
both("cl-plus", req("POST", "/clp", extra=(("Content-Length", "+5"),)) + b"hello")
both("cl-hex", req("POST", "/clx", extra=(("Content-Length", "0x5"),)) + b"hello")
both("cl-negative", req("POST", "/cln", extra=(("Content-Length", "-1"),)) + b"hello")
both("cl-inner-space", req("POST", "/cls", extra=(("Content-Length", "1 5"),)) + b"hello")
both("cl-huge", req("POST", "/clh", extra=(("Content-Length", "99999999999999999999999"),)) + b"hello")
both("chunk-0x", post_chunked(chunks=b"0x5\r\nhello\r\n0\r\n\r\n"))
both("chunk-underscore", post_chunked(chunks=b"1_0\r\n" + b"h" * 16 + b"\r\n0\r\n\r\n"))
both("chunk-leading-space", post_chunked(chunks=b" 5\r\nhello\r\n0\r\n\r\n"))
both("chunk-trailing-space", post_chunked(chunks=b"5 \r\nhello\r\n0\r\n\r\n"))
both("chunk-huge", post_chunked(chunks=b"fffffffffffffffff\r\nhello\r\n0\r\n\r\n"))
both("chunk-no-crlf-after-data", post_chunked(chunks=b"5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n"))

# ---------------------------------------------------------------- basic: header syntax

both("hdr-name-space", req(uri="/hs", extra=(("Foo Bar", "x"),)))
both("hdr-name-at", req(uri="/ha", extra=(("Foo@Bar", "x"),)))
both("hdr-name-paren", req(uri="/hp", extra=(("Foo(", "x"),)))
both("hdr-space-before-colon", raw_head("GET /hsc HTTP/1.1", "Host: example.com", "X-Sp : x"))
both("hdr-no-colon", raw_head("GET /hnc HTTP/1.1", "Host: example.com", "NoColonHere"))
both("hdr-empty-name", raw_head("GET /hen HTTP/1.1", "Host: example.com", ": value"))
both("hdr-nul-value", raw_head("GET /hnul HTTP/1.1", "Host: example.com", "X-Nul: a\x00b"))
both("hdr-cr-in-value", raw_head("GET /hcr HTTP/1.1", "Host: example.com", "X-Cr: a\rb"))
both("hdr-obs-fold", raw_head("GET /fold HTTP/1.1", "Host: example.com", "X-Fold: a", "  b", "X-After: c"))
both("hdr-high-bytes-value", raw_head("GET /hb HTTP/1.1", "Host: example.com", "X-Utf: caf\xc3\xa9"))
both("too-many-headers", req(uri="/toomany", extra=[(f"X-H{i}", str(i)) for i in range(110)]))
both("head-oversized", req(uri="/huge", extra=[(f"X-Pad-{i}", "p" * 200) for i in range(80)]))

# ---------------------------------------------------------------- basic: request line

both("reqline-garbage", b"FOO\r\n\r\n")
both("reqline-only-method", b"GET\r\nHost: example.com\r\n\r\n")
both("reqline-no-version", b"GET /nov\r\nHost: example.com\r\n\r\n")
both("http09", b"GET /\r\n")
both("version-1.2", req(uri="/v12", version="HTTP/1.2"))
both("version-2.0", req(uri="/v20", version="HTTP/2.0"))
both("version-garbage", req(uri="/vg", version="HTTX/1.1"))
both("version-lowercase", req(uri="/vl", version="http/1.1"))
both("reqline-double-space", b"GET  /ds HTTP/1.1\r\nHost: example.com\r\n\r\n")
both("reqline-tab", b"GET\t/tab\tHTTP/1.1\r\nHost: example.com\r\n\r\n")
both("uri-space", b"GET /a b HTTP/1.1\r\nHost: example.com\r\n\r\n")
both("uri-del-char", b"GET /a\x7fb HTTP/1.1\r\nHost: example.com\r\n\r\n")
both("uri-non-ascii", b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: example.com\r\n\r\n")
both("uri-quote-brace", b"GET /a\"b{c}|d HTTP/1.1\r\nHost: example.com\r\n\r\n")
both("method-bad-char", b"GE(T /m HTTP/1.1\r\nHost: example.com\r\n\r\n")

# ====================================================================== modes

for fe in ("kal", "scl", "clo", "kal_beclose"):
    scn(f"mode-{fe}-two", "modes", fe, (req(uri=f"/{fe}1"), WAIT, req(uri=f"/{fe}2")))
    scn(f"mode-{fe}-http10-ka", "modes", fe,
        req(uri=f"/{fe}10", version="HTTP/1.0", extra=(("Connection", "keep-alive"),)))
scn("mode-clo-server-keepalive", "modes", "clo", req(uri="/clo-ska", extra=(("Connection", "keep-alive"),)),
    [ok(headers=(("Connection", "keep-alive"), ("Keep-Alive", "timeout=10")))])
scn("mode-scl-pipelined", "modes", "scl", req(uri="/scp1") + req(uri="/scp2"))

# ====================================================================== forwardfor

XFF = (("X-Forwarded-For", "192.0.2.7"),)
for fe in ("ff", "ifnone", "except_local", "except_other", "hdr", "behdr", "orig"):
    scn(f"fwd-{fe}", "fwd", fe, req(uri=f"/{fe}"))
for fe in ("ff", "ifnone", "hdr"):
    scn(f"fwd-{fe}-existing", "fwd", fe, req(uri=f"/{fe}-x", extra=XFF + (("X-Client-IP", "198.51.100.1"),)))

# ====================================================================== rules

scn("rule-deny", "rules", "fe", req(uri="/deny/x"))
scn("rule-deny-429", "rules", "fe", req(uri="/deny429"))
scn("rule-deny-errorfile", "rules", "ef", req(uri="/deny/y"))
scn("rule-return", "rules", "fe", req(uri="/return"))
scn("rule-redirect-location", "rules", "fe", req(uri="/old?q=1"))
scn("rule-redirect-prefix", "rules", "fe", req(uri="/redir-prefix/a?b=c"))
scn("rule-redirect-scheme", "rules", "fe", req(uri="/redir-scheme/z"))
scn("rule-auth", "rules", "fe", req(uri="/auth"))
scn("rule-headers", "rules", "fe",
    req(uri="/hdrs", extra=(("X-Set", "client-value"), ("X-Del", "gone"), ("X-Keep", "kept"),
                            ("X-Added", "client-added"))),
    [ok(headers=(("X-Secret", "s3cr3t"), ("X-Resp-Set", "server-value"), ("Content-Type", "text/plain")))])
scn("rule-deny-then-keepalive", "rules", "fe", (req(uri="/deny/ka"), WAIT, req(uri="/after-deny")))
scn("rule-deny-post-then-keepalive", "rules", "fe", (post(uri="/deny/post"), WAIT, req(uri="/after-deny")),
    doc="the refused request's body, all received, is not read as the next request")
scn("rule-deny-chunked-then-keepalive", "rules", "fe", (post_chunked(uri="/deny/chunked"), WAIT, req(uri="/after")))

# ====================================================================== errors

scn("err-503-no-server", "errors", "plain", req(uri="/nosrv"))
scn("err-503-errorfile", "errors", "custom", req(uri="/nosrv"))
scn("err-503-refused", "errors", "plain", req(uri="/down"))
scn("err-504-slow", "errors", "plain", req(uri="/slow"), [slow(1.6, ok())], deadline=4.0)
scn("err-502-errorfile-absent", "errors", "custom", req(uri="/bad"), [raw(b"junk\r\n\r\n", close=True)])
scn("err-400-errorfile", "errors", "custom", b"GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n")
scn("err-408-partial-head", "errors", "plain", (b"GET /partial HTTP/1.1\r\nHost: example.com\r\n",),
    deadline=3.0)
scn("err-408-nothing", "errors", "plain", (Pause(0.01),), deadline=2.0)
scn("err-body-incomplete", "errors", "plain", req("POST", "/inc", extra=(("Content-Length", "50"),)) + b"short",
    deadline=3.0)

# ====================================================================== seed

scn("seed-get", "seed", "www", req(uri="/index.html", extra=(("Connection", "keep-alive"),)))
scn("seed-cookie-web2", "seed", "www", req(uri="/c2", extra=(("Cookie", "a=1; SERVERUSED=web2; b=2"),)))
scn("seed-cookie-unknown", "seed", "www", req(uri="/cu", extra=(("Cookie", "SERVERUSED=nope"),)))
scn("seed-server-cookie", "seed", "www", req(uri="/sc"),
    [ok(headers=(("Set-Cookie", "sess=abc; Path=/"), ("Cache-Control", "max-age=60")))])
scn("seed-post-chunked", "seed", "www", post_chunked(uri="/seedpost"))
scn("seed-xfp-existing", "seed", "www", req(uri="/xfp", extra=(("X-Forwarded-Proto", "http"),) + XFF))
scn("seed-invalid-chars", "seed", "www", raw_head("GET /caf\xe9?a=\"b\" HTTP/1.1", "Host: example.com",
                                                  "Foo@Bar: x"))
scn("seed-http10", "seed", "www", req(uri="/s10", version="HTTP/1.0", headers=(("Host", "example.com"),)))
scn("seed-pipelined", "seed", "www", req(uri="/sp1") + req(uri="/sp2"))
scn("seed-ws", "seed", "www", (req(uri="/ws", extra=WS + WS_KEY), Pause(0.1), b"seed-tunnel"), [switching()])

# ------------------------------------------------------- incomplete heads refused at once
both("partial-bad-header", b"GET /pbh HTTP/1.1\r\nHost: example.com\r\nBad Header\r\n",
     doc="haproxy answers 400 on the bad line, without waiting for the blank line")
both("partial-cr-in-value", b"GET /pcr HTTP/1.1\r\nHost: example.com\r\nX: a\rb\r\n")
scn("partial-hash-uri", "basic", "fe", b"GET /a#b HTTP/1.1\r\nHost: example.com\r\n")

# ====================================================================== expectations

#: haproxy 2.6's first status code per scenario (checked on every run, see module doc)
EXPECT: dict[str, str] = {
    "get-simple": "200", "get-odd-uri": "200", "head-cl": "200", "post-cl": "200", "post-cl-empty": "200",
    "post-chunked": "200", "post-chunked-ext-trailers": "200", "post-chunked-split": "200", "pipelined-3": "200",
    "pipelined-post-get": "200", "keepalive-reuse": "200", "http10-close": "200", "http10-keepalive": "200",
    "http11-conn-close": "200", "conn-hop-tokens": "200", "absolute-uri": "200", "absolute-uri-port": "200",
    "absolute-uri-no-host": "200", "host-duplicate-same": "200", "host-missing-11": "200",
    "lowercase-method": "200", "custom-method": "200", "options-star": "200", "leading-empty-lines": "200",
    "bare-lf": "200", "head-large-ok": "200", "headers-98": "200", "headers-100-limit": "200",
    "headers-101-over": "400", "head-size-limit": "200", "head-size-over": "400", "resp-chunked": "200",
    "resp-close-delimited": "200", "resp-close-delimited-http10": "200", "resp-103-then-200": "200",
    "resp-dup-headers": "200", "resp-connection-close": "200", "resp-http10-keepalive": "200",
    "resp-cl-and-te": "200", "resp-truncated-body": "200", "upgrade-h2c": "200", "connect": "200",
    "expect-100": "200", "expect-100-no-continue": "200", "cl-te@strict": "200", "cl-te@lax": "200",
    "te-http10@strict": "200", "te-http10@lax": "200", "cl-dup-identical@strict": "200",
    "cl-dup-identical@lax": "200", "cl-list-identical@strict": "200", "cl-list-identical@lax": "200",
    "chunk-trailing-space@strict": "200", "chunk-trailing-space@lax": "200", "hdr-name-space@lax": "200",
    "hdr-name-at@lax": "200", "hdr-name-paren@lax": "200", "hdr-space-before-colon@lax": "200",
    "hdr-nul-value@strict": "200", "hdr-nul-value@lax": "200", "hdr-obs-fold@strict": "200",
    "hdr-obs-fold@lax": "200", "hdr-high-bytes-value@strict": "200", "hdr-high-bytes-value@lax": "200",
    "reqline-no-version@lax": "200", "http09@lax": "200", "version-1.2@strict": "200", "version-1.2@lax": "200",
    "version-2.0@strict": "200", "version-2.0@lax": "200", "version-garbage@lax": "200",
    "reqline-double-space@strict": "200", "reqline-double-space@lax": "200", "reqline-tab@strict": "200",
    "reqline-tab@lax": "200", "uri-del-char@strict": "200", "uri-del-char@lax": "200", "uri-non-ascii@lax": "200",
    "uri-quote-brace@strict": "200", "uri-quote-brace@lax": "200", "mode-kal-two": "200",
    "mode-kal-http10-ka": "200", "mode-scl-two": "200", "mode-scl-http10-ka": "200", "mode-clo-two": "200",
    "mode-clo-http10-ka": "200", "mode-kal_beclose-two": "200", "mode-kal_beclose-http10-ka": "200",
    "mode-clo-server-keepalive": "200", "mode-scl-pipelined": "200", "fwd-ff": "200", "fwd-ifnone": "200",
    "fwd-except_local": "200", "fwd-except_other": "200", "fwd-hdr": "200", "fwd-behdr": "200", "fwd-orig": "200",
    "fwd-ff-existing": "200", "fwd-ifnone-existing": "200", "fwd-hdr-existing": "200", "rule-return": "200",
    "rule-headers": "200", "seed-get": "200", "seed-cookie-web2": "200", "seed-cookie-unknown": "200",
    "seed-server-cookie": "200", "seed-post-chunked": "200", "seed-xfp-existing": "200",
    "seed-invalid-chars": "200", "seed-http10": "200", "seed-pipelined": "200",
    "uri-fragment": "400", "absolute-uri-mismatch": "400", "host-duplicate-different": "400", "ws-no-key": "400",
    "te-chunked-gzip@strict": "400", "te-chunked-gzip@lax": "400", "te-chunked-twice@strict": "400",
    "te-chunked-twice@lax": "400", "te-identity@strict": "400", "te-identity@lax": "400",
    "cl-dup-different@strict": "400", "cl-dup-different@lax": "400", "cl-plus@strict": "400", "cl-plus@lax": "400",
    "cl-hex@strict": "400", "cl-hex@lax": "400", "cl-negative@strict": "400", "cl-negative@lax": "400",
    "cl-inner-space@strict": "400", "cl-inner-space@lax": "400", "cl-huge@strict": "400", "cl-huge@lax": "400",
    "chunk-0x@strict": "400", "chunk-0x@lax": "400", "chunk-underscore@strict": "400",
    "chunk-underscore@lax": "400", "chunk-leading-space@strict": "400", "chunk-leading-space@lax": "400",
    "chunk-huge@strict": "400", "chunk-huge@lax": "400", "chunk-no-crlf-after-data@strict": "400",
    "chunk-no-crlf-after-data@lax": "400", "hdr-name-space@strict": "400", "hdr-name-at@strict": "400",
    "hdr-name-paren@strict": "400", "hdr-space-before-colon@strict": "400", "hdr-no-colon@strict": "400",
    "hdr-no-colon@lax": "400", "hdr-empty-name@strict": "400", "hdr-empty-name@lax": "400",
    "hdr-cr-in-value@strict": "400", "hdr-cr-in-value@lax": "400", "too-many-headers@strict": "400",
    "too-many-headers@lax": "400", "head-oversized@strict": "400", "head-oversized@lax": "400",
    "reqline-garbage@strict": "400", "reqline-garbage@lax": "400", "reqline-only-method@strict": "400",
    "reqline-only-method@lax": "400", "reqline-no-version@strict": "400", "http09@strict": "400",
    "version-garbage@strict": "400", "version-lowercase@strict": "400", "version-lowercase@lax": "400",
    "uri-space@strict": "400", "uri-space@lax": "400", "uri-non-ascii@strict": "400",
    "method-bad-char@strict": "400", "method-bad-char@lax": "400", "err-400-errorfile": "400",
    "resp-204": "204",
    "resp-304": "304",
    "resp-bad-status-line": "502", "resp-garbage": "502", "resp-bad-header-name": "502", "resp-hangup": "502",
    "resp-oversized-head": "502", "resp-dup-cl-different": "502", "ws-101-no-accept": "502",
    "err-502-errorfile-absent": "502",
    "ws-upgrade": "101", "seed-ws": "101",
    "te-gzip-chunked@strict": "422", "te-gzip-chunked@lax": "422",
    "rule-deny": "403", "rule-deny-errorfile": "403", "rule-deny-then-keepalive": "403",
    "rule-deny-post-then-keepalive": "403", "rule-deny-chunked-then-keepalive": "403",
    "rule-deny-429": "429",
    "rule-redirect-location": "302", "rule-redirect-scheme": "302",
    "rule-redirect-prefix": "301",
    "rule-auth": "401",
    "err-503-no-server": "503", "err-503-errorfile": "503", "err-503-refused": "503",
    "err-504-slow": "504", "err-body-incomplete": "504",
    "err-408-partial-head": "408", "err-408-nothing": "408",
    "partial-bad-header@strict": "400", "partial-bad-header@lax": "400", "partial-cr-in-value@strict": "400",
    "partial-cr-in-value@lax": "400", "partial-hash-uri": "400",
}

SCENARIOS[:] = [replace(s, expect=EXPECT.get(s.id, s.expect)) for s in SCENARIOS]
