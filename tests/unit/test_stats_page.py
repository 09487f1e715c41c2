"""The HTTP stats page without sockets: the ``stats`` keywords, request matching, access
control (``stats auth``, ``stats http-request``, ``stats admin``), the CSV/typed/JSON
exports, the HTML page over a built (never bound) Process, and the admin form's POSTs.

Expectations are HAProxy 2.6.12's (``src/stats.c``, ``src/http_ana.c``,
``src/cfgparse-listen.c``), checked against the Debian binary's output.
"""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from gproxy import config
from gproxy.http.message import Headers, Request, Txn
from gproxy.runtime import build
from gproxy.server import FDRAIN, FMAINT, STOPPED
from gproxy.session import Session
from gproxy.stats import columns as C
from gproxy.stats import keywords as K
from gproxy.stats import page

CFG = """
global
    node mynode
    description my description

defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s

listen stats
    bind 127.0.0.1:10001
    stats uri /st
    stats refresh 10s
    stats admin if LOCALHOST
    stats show-legends
    stats show-node
    stats show-desc
    option socket-stats

frontend fe1
    bind 127.0.0.1:10002 name l1
    default_backend be1

backend be1
    description first backend
    server up 127.0.0.1:20001 check
    server down 127.0.0.1:20002 check
    server goingup 127.0.0.1:20003 check
    server goingdown 127.0.0.1:20004 check
    server nolb 127.0.0.1:20005 check
    server drain 127.0.0.1:20006 check
    server maint 127.0.0.1:20007 check
    server nocheck 127.0.0.1:20008
    server bup 127.0.0.1:20009 check backup
    server bnocheck 127.0.0.1:20010 backup
    server zero 127.0.0.1:20011 check weight 0

backend be2
    stats enable
    stats auth admin:secret
    stats auth other:pw
    server a 127.0.0.1:20012

backend tcpbe
    mode tcp
    server t 127.0.0.1:20013
"""


def load(tmp_path: Path, text: str) -> tuple[Any, Any]:
    path = tmp_path / "t.cfg"
    path.write_text(text)
    return config.load([str(path)])


def make_process(tmp_path: Path, text: str = CFG) -> Any:
    model, diag = load(tmp_path, text)
    assert not diag.fatal, [m.render(0) for m in diag.messages]
    process = build(model, diag, quiet=True)
    for be in process.backends:
        be.start()
    return process


def spec_of(process: Any, name: str) -> Any:
    return next(p for p in process.model.proxies if p.name == name)


def server(process: Any, be: str, name: str) -> Any:
    return next(s for b in process.backends if b.name == be for s in b.servers if s.name == name)


def set_states(process: Any) -> None:
    """Put be1's servers in the state their name says."""
    def full(s: Any) -> None:
        s.check.health = s.check.rise + s.check.fall - 1

    for s in process.backends[1].servers:
        if s.check is not None:
            full(s)
    down = server(process, "be1", "down")
    down.check.health = 0
    down.set_stopped("test")
    gu = server(process, "be1", "goingup")
    gu.set_stopped("test")
    gu.check.health = 1
    server(process, "be1", "goingdown").check.health = 3
    server(process, "be1", "nolb").set_stopping("test")
    server(process, "be1", "drain").set_admin(FDRAIN)
    server(process, "be1", "maint").set_admin(FMAINT)


def txn_for(process: Any, method: str, uri: str, headers: list[tuple[str, str]] | None = None,
            src: str = "127.0.0.1", fe: str = "stats") -> Txn:
    front = next(f for f in process.frontends if f.name == fe)
    sess = Session(front, front.listeners[0], (src, 40000), ("127.0.0.1", 10001))
    req = Request(method, uri, "HTTP/1.1", Headers([(k.lower(), v) for k, v in headers or []]))
    txn = Txn(sess, req)
    sess.txn = txn
    return txn


def get(process: Any, uri: str, spec: str = "stats", method: str = "GET", body: bytes | None = None,
        **kw: Any) -> tuple[int, dict[str, str], bytes, Txn]:
    txn = txn_for(process, method, uri, **kw)
    got = page.handle(process, spec_of(process, spec), None, txn, body)
    assert got is not None
    status, headers, data = got
    return status, dict(headers), data, txn


def basic(user: str, pw: str) -> list[tuple[str, str]]:
    return [("Authorization", "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode())]


class PageDom(HTMLParser):
    """What tests look at in a stats page: proxy tables, row classes, forms, messages."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.proxies: list[str] = []  # th.pxname texts in order
        self.rows: list[tuple[str, str, str]] = []  # (proxy, tr class, name)
        self.checkboxes: list[tuple[str, str]] = []  # (class, value)
        self.forms: list[dict[str, Any]] = []
        self.messages: list[tuple[str, str]] = []  # (div class, text)
        self.links: list[str] = []
        self.title = ""
        self.h1 = ""
        self.h2 = ""
        self._stack: list[str] = []
        self._tr: str | None = None
        self._cls_stack: list[str] = []
        self._in: str | None = None
        self._msg: list[Any] | None = None
        self._name_pending = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr":
            self._tr = a.get("class", "")
            self._name_pending = True
        elif tag == "a" and a.get("class") == "lfsb" and self._tr is not None and self._name_pending:
            self._in = "rowname"
        elif tag == "a" and a.get("class") == "px":
            self._in = "px"
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "input" and a.get("type") == "checkbox" and a.get("name") == "s":
            self.checkboxes.append((a.get("class", ""), a.get("value", "")))
            if self.forms:
                self.forms[-1]["servers"].append(a.get("value", ""))
        elif tag == "form" and a.get("method") == "post":
            self.forms.append({"servers": [], "b": None, "actions": []})
        elif tag == "input" and a.get("name") == "b" and self.forms:
            self.forms[-1]["b"] = a.get("value")
        elif tag == "option" and self.forms:
            self.forms[-1]["actions"].append(a.get("value", ""))
        elif tag == "div" and a.get("class", "").startswith(("active_", "backup_")) and self._msg is None:
            self._msg = [a["class"], ""]
        elif tag in ("title", "h1", "h2"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._tr = None
        elif tag == "div" and self._msg is not None:
            self.messages.append((self._msg[0], self._msg[1].strip()))
            self._msg = None
        if tag in ("a", "title", "h1", "h2"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._msg is not None:
            self._msg[1] += data
        if self._in == "rowname":
            self.rows.append((self.proxies[-1] if self.proxies else "", self._tr or "", data))
            self._name_pending = False
        elif self._in == "px":
            self.proxies.append(data)
        elif self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data
        elif self._in == "h2":
            self.h2 += data

    def row_class(self, proxy: str, name: str) -> str:
        return next(c for p, c, n in self.rows if p == proxy and n == name)


def parse_page(data: bytes | str) -> PageDom:
    dom = PageDom()
    dom.feed(data.decode() if isinstance(data, bytes) else data)
    return dom


# ======================================================================== keywords
def test_keywords_defaults_and_values(tmp_path: Path) -> None:
    model, diag = load(tmp_path, CFG)
    assert not diag.fatal
    st = next(p for p in model.proxies if p.name == "stats").stats
    assert st.uri == "/st" and st.refresh == 10 and st.show_legends and st.show_node and st.show_desc
    assert len(st.admin_rules) == 1 and st.realm is None and not st.hide_version
    be2 = next(p for p in model.proxies if p.name == "be2").stats
    assert be2.uri == K.DEFAULT_URI
    assert be2.users == [("other", "pw"), ("admin", "secret")]  # newest first, as HAProxy
    assert be2.check_user("admin", "secret") and not be2.check_user("admin", "x")
    assert next(p for p in model.proxies if p.name == "be1").stats is None


def test_keyword_variants(tmp_path: Path) -> None:
    model, diag = load(tmp_path, """
defaults
    mode http
    stats enable
    stats uri /d
    stats realm Def
listen a
    bind 127.0.0.1:10001
    stats hide-version
    stats scope .
    stats scope be
    stats scope be
    stats realm Some\\ Realm
    stats refresh 2m
    stats show-node n1.x
    stats show-desc hello  world
    stats show-modules
listen b
    bind 127.0.0.1:10002
backend be
""")
    assert not diag.fatal, [m.render(0) for m in diag.messages]
    a = next(p for p in model.proxies if p.name == "a").stats
    # a proxy's first 'stats' line drops what it inherited from defaults
    assert a.uri == K.DEFAULT_URI and a.hide_version and a.scopes == [".", "be"] and a.realm == "Some Realm"
    assert a.refresh == 120 and a.node == "n1.x" and a.desc == "hello world" and a.show_modules
    b = next(p for p in model.proxies if p.name == "b").stats
    assert b.uri == "/d" and b.realm == "Def"  # inherited as they are
    assert next(p for p in model.proxies if p.name == "be").stats.uri == "/d"


@pytest.mark.parametrize(("line", "text"), [
    ("stats foo", ("parsing [{f}:3]: unknown stats parameter 'foo', expects 'admin', 'uri', 'realm', 'auth', "
                  "'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'.")),
    ("stats", ("parsing [{f}:3]: missing keyword in 'stats', expects 'admin', 'uri', 'realm', 'auth', 'scope', "
              "'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'.")),
    ("stats uri", "parsing [{f}:3] : 'uri' needs an URI prefix."),
    ("stats realm", "parsing [{f}:3] : 'realm' needs an realm name."),
    ("stats auth", "parsing [{f}:3] : 'auth' needs a user:password account."),
    ("stats scope", "parsing [{f}:3] : 'scope' needs a proxy name."),
    ("stats admin", "parsing [{f}:3] : 'stats admin' requires either 'if' or 'unless' followed by a condition."),
    ("stats admin foo", "parsing [{f}:3] : 'stats admin' requires either 'if' or 'unless' followed by a condition."),
    ("stats admin if nosuchacl", ("parsing [{f}:3] : error detected while parsing a 'stats admin' rule : "
                                 "no such ACL : 'nosuchacl'.")),
    ("stats refresh 1x", "parsing [{f}:3]: unexpected character 'x' in argument to stats refresh interval."),
    ("stats refresh 100000000000", ("parsing [{f}:3]: timer overflow in argument <100000000000> to stats refresh "
                                   "interval, maximum value is 2147483647 s (~68 years).")),
    ("stats show-node bad!name", ("parsing [{f}:3]: 'stats show-node' invalid node name - should be a stringwith "
                                 "digits(0-9), letters(A-Z, a-z), hyphen(-) or underscode(_).")),
])
def test_keyword_alerts(tmp_path: Path, line: str, text: str) -> None:
    _, diag = load(tmp_path, f"listen l\n    mode http\n    {line}\n")
    assert diag.fatal
    f = str(tmp_path / "t.cfg")
    assert text.format(f=f) in [m.render(0).split(" : config : ", 1)[-1] for m in diag.messages], \
        [m.render(0) for m in diag.messages]


def test_keyword_warnings_and_defaults_restrictions(tmp_path: Path) -> None:
    f = str(tmp_path / "t.cfg")
    _, diag = load(tmp_path, "listen l\n    mode http\n    stats auth a:b\n    stats auth a:c\n    stats show-desc\n")
    texts = [m.render(0) for m in diag.messages]
    assert not diag.fatal
    assert any(t.endswith(" : config : uri auth: ignoring duplicated user 'a'.") for t in texts), texts
    assert any(t.endswith(f" : config : parsing [{f}:5]: 'show-desc' requires a parameter or 'desc' to be set in "
                          "the global section.") for t in texts), texts
    _, diag = load(tmp_path, "defaults\n    mode http\n    stats admin if TRUE\n")
    assert any(m.render(0).endswith(f"parsing [{f}:3]: 'stats admin' not allowed in 'defaults' section.")
               for m in diag.messages)


def test_check_config(tmp_path: Path) -> None:
    model, diag = load(tmp_path, """
defaults
    timeout client 1s
    timeout server 1s
    timeout connect 1s
listen l
    mode tcp
    bind 127.0.0.1:10001
    stats enable
frontend f
    mode http
    bind 127.0.0.1:10002
    stats auth a:b
    stats http-request deny
""")
    K.check_config(model, diag)
    texts = [m.render(0) for m in diag.messages]
    assert any(t.endswith("'stats' statement ignored for proxy 'l' as it requires HTTP mode.") for t in texts)
    assert any(t.endswith("proxy 'f': stats 'auth'/'realm' and 'http-request' can't be used at the same time.")
               for t in texts)
    assert next(p for p in model.proxies if p.name == "l").stats is None


# ======================================================================== matching
def test_is_stats_request(tmp_path: Path) -> None:
    p = make_process(tmp_path)
    spec = spec_of(p, "stats")
    for method, uri, want in [
        ("GET", "/st", True), ("HEAD", "/st;csv", True), ("POST", "/st", True), ("GET", "/stats?x", True),
        ("PUT", "/st", False), ("DELETE", "/st", False), ("GET", "/s", False), ("GET", "/x/st", False),
        ("GET", "http://host:8080/st;csv", True), ("GET", "http://host/other", False),
    ]:
        assert page.is_stats_request(spec, txn_for(p, method, uri)) is want, (method, uri)
    assert not page.is_stats_request(spec_of(p, "fe1"), txn_for(p, "GET", "/st"))
    assert page.handle(p, spec_of(p, "fe1"), spec_of(p, "be1"), txn_for(p, "GET", "/st")) is None
    # the default uri, on the backend's settings
    be2 = spec_of(p, "be2")
    assert page.is_stats_request(be2, txn_for(p, "GET", "/haproxy?stats;csv"))
    assert page.handle(p, spec_of(p, "fe1"), be2, txn_for(p, "GET", "/haproxy?stats")) is not None


# ======================================================================== access control
def test_auth(tmp_path: Path) -> None:
    p = make_process(tmp_path)
    for hdrs in (None, basic("admin", "wrong"), basic("nobody", "secret"), [("Authorization", "Bearer x")]):
        status, h, body, txn = get(p, "/haproxy?stats", spec="be2", headers=hdrs)
        assert status == 401
        assert h["www-authenticate"] == 'Basic realm="HAProxy Statistics"'
        assert h["content-type"] == "text/html" and b"401 Unauthorized" in body
        assert txn.extra["stats_term"] == "LR" and not txn.extra.get("stats_applet")
    for user, pw in (("admin", "secret"), ("other", "pw")):
        status, h, body, _ = get(p, "/haproxy?stats", spec="be2", headers=basic(user, pw))
        assert status == 200 and body.startswith(b"<!DOCTYPE HTML")


def test_auth_realm_and_http_request_rules(tmp_path: Path) -> None:
    p = make_process(tmp_path, """
defaults
    mode http
userlist ul
    user u insecure-password p
listen a
    bind 127.0.0.1:10001
    stats realm My\\ Realm
    stats auth a:b
listen b
    bind 127.0.0.1:10002
    stats uri /s
    stats http-request deny if { path_end /deny }
    stats http-request allow if { path_end /open }
    stats http-request deny deny_status 429 if { path_end /busy }
    stats http-request redirect location /elsewhere if { path_end /moved }
    stats http-request auth unless { http_auth(ul) }
listen c
    bind 127.0.0.1:10003
    stats http-request auth realm R2 if TRUE
""")
    status, h, _, _ = get(p, "/haproxy?stats", spec="a", fe="a")
    assert status == 401 and h["www-authenticate"] == 'Basic realm="My Realm"'
    status, h, _, txn = get(p, "/s/deny", spec="b", fe="b", headers=basic("u", "p"))
    assert status == 403 and txn.extra["stats_term"] == "PR" and h["content-type"] == "text/html"
    assert get(p, "/s/open", spec="b", fe="b")[0] == 200
    status, h, body, txn = get(p, "/s/busy", spec="b", fe="b")
    assert status == 429 and txn.extra["stats_term"] == "PR" and b"429 Too Many Requests" in body
    status, h, body, txn = get(p, "/s/moved", spec="b", fe="b")
    assert status == 302 and h["location"] == "/elsewhere" and txn.extra["stats_term"] == "LR"
    assert "content-length" not in h
    status, h, _, _ = get(p, "/s", spec="b", fe="b")
    assert status == 401 and h["www-authenticate"] == 'Basic realm="HAProxy Statistics"'
    assert get(p, "/s", spec="b", fe="b", headers=basic("u", "p"))[0] == 200
    status, h, _, _ = get(p, "/haproxy?stats", spec="c", fe="c")
    assert status == 401 and h["www-authenticate"] == 'Basic realm="R2"'


def test_admin_condition(tmp_path: Path) -> None:
    p = make_process(tmp_path)
    dom = parse_page(get(p, "/st")[2])
    assert dom.checkboxes and [f["b"] for f in dom.forms] == ["#3", "#4", "#5"]  # the backends with servers
    dom = parse_page(get(p, "/st", src="10.0.0.1")[2])
    assert not dom.checkboxes and not dom.forms
    status, h, body, _ = get(p, "/st", method="POST", body=b"s=up&action=maint&b=be1", src="10.0.0.1")
    assert status == 303 and h["location"] == "/st;st=DENY" and body == b""
    assert not server(p, "be1", "up").maint


# ======================================================================== exports
def test_csv_typed_json(tmp_path: Path) -> None:
    p = make_process(tmp_path)
    status, h, body, _ = get(p, "/st;csv;norefresh")
    assert status == 200 and h["content-type"] == "text/plain" and "refresh" not in h
    lines = body.decode().splitlines()
    assert lines[0] == "# " + ",".join(c.name for c in C.COLUMNS) + ","
    names = [tuple(line.split(",")[:2]) for line in lines[1:]]
    assert names[:3] == [("stats", "FRONTEND"), ("stats", "sock-1"), ("stats", "BACKEND")]
    assert ("be1", "up") in names and ("be2", "BACKEND") in names and ("tcpbe", "t") in names
    assert all(line.endswith(",") for line in lines)
    # show-legends fills addr (HAProxy's STAT_SHLGNDS)
    up = next(line.split(",") for line in lines if line.startswith("be1,up,"))
    assert up[C.POS["addr"]] == "127.0.0.1:20001"
    status, h, body, _ = get(p, "/st;json")
    assert h["content-type"] == "application/json" and h["refresh"] == "10"
    rows = json.loads(body)
    assert {r[0]["objType"] for r in rows} == {"Frontend", "Listener", "Server", "Backend"}
    status, h, body, _ = get(p, "/st;typed")
    assert body.decode().splitlines()[0] == "F.1.0.0.pxname.1:KNS:str:stats"
    status, h, body, _ = get(p, "/st;json-schema")
    assert json.loads(body)["$schema"].startswith("http://json-schema.org/")


def test_csv_filters(tmp_path: Path) -> None:
    p = make_process(tmp_path)
    set_states(p)

    def names(uri: str) -> list[str]:
        return [",".join(line.split(",")[:2]) for line in get(p, uri)[2].decode().splitlines()[1:]]

    every = names("/st;csv")
    assert "be1,maint" in every and "be1,down" in every
    no_maint = names("/st;csv;no-maint")
    assert "be1,maint" not in no_maint and "be1,down" in no_maint
    up = names("/st;csv;up")
    assert "be1,maint" not in up and "be1,down" not in up and "be1,goingup" in up
    be1 = next(line for line in get(p, "/st;csv;up")[2].decode().splitlines() if line.startswith("be1,BACKEND"))
    assert be1.split(",")[C.POS["status"]] == "UP (8/11)"
    # the search box: a case-insensitive substring of proxy names
    assert {n.split(",")[0] for n in names("/st;csv?scope=BE")} == {"be1", "be2", "tcpbe"}
    assert {n.split(",")[0] for n in names("/st;csv?scope=be1")} == {"be1"}
    assert {n.split(",")[0] for n in names("/st;csv?scope=b!")} == {"stats", "fe1", "be1", "be2", "tcpbe"}


def test_stats_scope(tmp_path: Path) -> None:
    p = make_process(tmp_path, CFG.replace("    stats show-legends\n", "    stats scope .\n    stats scope be2\n"))
    lines = get(p, "/st;csv")[2].decode().splitlines()[1:]
    assert {line.split(",")[0] for line in lines} == {"stats", "be2"}
    assert parse_page(get(p, "/st")[2]).proxies == ["stats", "be2"]


# ======================================================================== HTML
def test_html_layout(tmp_path: Path) -> None:
    p = make_process(tmp_path)
    set_states(p)
    status, h, body, txn = get(p, "/st")
    assert status == 200 and h["content-type"] == "text/html" and h["cache-control"] == "no-cache"
    assert h["refresh"] == "10" and txn.extra["stats_applet"]
    text = body.decode()
    dom = parse_page(text)
    assert dom.title == "Statistics Report for gproxy on mynode"
    assert dom.h1.startswith("gproxy version ")
    assert dom.h2.endswith(" on mynode: my description")
    assert dom.proxies == ["stats", "fe1", "be1", "be2", "tcpbe"]
    assert [(c, n) for px, c, n in dom.rows if px == "stats"] == [
        ("frontend", "Frontend"), ("socket", "sock-1"), ("backend", "Backend")]
    assert [(c, n) for px, c, n in dom.rows if px == "fe1"] == [("frontend", "Frontend")]  # no socket-stats
    assert [(c, n) for px, c, n in dom.rows if px == "be1"] == [
        ("active_up", "up"), ("active_down", "down"), ("active_going_up", "goingup"),
        ("active_going_down", "goingdown"), ("active_nolb", "nolb"), ("active_draining", "drain"),
        ("maintain", "maint"), ("active_no_check", "nocheck"), ("backup_up", "bup"),
        ("backup_no_check", "bnocheck"), ("active_draining", "zero"), ("backend", "Backend")]
    # the column groups and sub-headings of every proxy table
    assert text.count("<th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th>") == 5
    assert text.count("<th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th>"
                      "<th>Dwn</th><th>Dwntme</th><th>Thrtle</th>") == 5
    # legends: proxy, listener and server tips
    assert "<div class=tips>cap: proxy, mode: http, id: 1</div>" in text
    assert "<div class=tips>IPv4: 127.0.0.1:10001, id: 1</div>" in text
    assert "<div class=tips>IPv4: 127.0.0.1:20001, id: 1</div>" in text
    assert "<div class=tips>balancing: roundrobin</div>" in text
    assert '<th class="desc" width="90%">first backend</th>' in text
    # status cells
    assert "MAINT</td><td></td>" in text and "<i>no check</i>" in text and " UP 2/3 &darr;" in text
    assert " DOWN 1/2 &uarr;" in text
    # admin forms: a checkbox per server of be1 and be2, HAProxy's actions, b=#<iid>
    be1_form, be2_form, _tcpbe = dom.forms
    assert be1_form["servers"] == [s.name for s in p.backends[1].servers]
    assert be1_form["b"] == "#3" and be2_form["b"] == "#4" and be2_form["servers"] == ["a"]
    assert be1_form["actions"] == ["", *(a for a, _ in page.ACTIONS)]
    assert ("be1-checkbox", "up") in dom.checkboxes
    # display options
    assert "/st;up" in dom.links and "/st;norefresh" in dom.links and "/st;csv;norefresh" in dom.links
    assert "/st;json;norefresh" in dom.links and "/st;json-schema" in dom.links


def test_html_numbers_and_helpers() -> None:
    assert page.u2h(0) == "0" and page.u2h(999) == "999"
    assert page.u2h(9989) == '<span class="rls">9</span>989'
    assert page.u2h(1234567) == '<span class="rls">1</span>23<span class="rls">4</span>567'
    assert [page.human_time(t) for t in (-1, 0, 59, 61, 3600, 3661, 90061)] == [
        "?", "0s", "59s", "1m1s", "1h", "1h1m", "1d1h"]
    assert page.lim2a(0, "-") == "-" and page.lim2a(5) == "5"
    assert page.dechunk(b"5\r\nhello\r\n3;x=y\r\n&a=\r\n0\r\n\r\n") == b"hello&a="


def test_html_options(tmp_path: Path) -> None:
    p = make_process(tmp_path, CFG.replace("    stats show-legends\n", "    stats hide-version\n"))
    set_states(p)
    text = get(p, "/st;up;norefresh")[2].decode()
    dom = parse_page(text)
    assert dom.h1 == "gproxy"
    assert "<u>" not in text.split('<a class=px href="#be1">')[0].rsplit("<th", 1)[-1]  # no legends
    assert "cap: proxy" not in text
    names = [n for px, _, n in dom.rows if px == "be1"]
    assert "maint" not in names and "down" not in names and "goingup" in names  # ;up
    assert "Show all servers" in text and "Enable refresh" in text
    _status, h, _, _ = get(p, "/st;up;norefresh")
    assert "refresh" not in h
    # no refresh configured: ;norefresh is not even recognised
    p2 = make_process(tmp_path, CFG.replace("    stats refresh 10s\n", ""))
    text = get(p2, "/st")[2].decode()
    assert "Disable refresh" not in text and "/st;csv\"" in text
    assert "refresh" not in get(p2, "/st")[1]


@pytest.mark.parametrize(("code", "cls", "text"), [
    ("DONE", "active_up", "Action processed successfully."),
    ("NONE", "active_going_down", "Nothing has changed."),
    ("PART", "active_going_down", "Action partially processed."),
    ("ERRP", "active_down", "Action not processed because of invalid parameters."),
    ("EXCD", "active_down", "Action not processed : the buffer couldn't store all the data."),
    ("DENY", "active_down", "Action denied."),
    ("IVAL", "active_down", "Invalid requests (unsupported method or chunked encoded request)."),
    ("XXXX", "active_no_check", "Unexpected result."),
])
def test_result_messages(tmp_path: Path, code: str, cls: str, text: str) -> None:
    p = make_process(tmp_path)
    dom = parse_page(get(p, f"/st;st={code}")[2])
    assert len(dom.messages) == 1
    got_cls, got = dom.messages[0]
    assert got_cls == cls and got.startswith("[X] " + text), got
    assert not parse_page(get(p, "/st;st=DON")[2]).messages  # too short: ignored, as HAProxy


# ======================================================================== admin POST
def post(p: Any, body: str, uri: str = "/st") -> str:
    status, h, data, txn = get(p, uri, method="POST", body=body.encode())
    assert status == 303 and data == b"" and h["content-type"] == "text/plain"
    assert txn.extra["stats_term"] == "LR"
    return h["location"]


def test_post_state_actions(tmp_path: Path) -> None:
    p = make_process(tmp_path)
    up = server(p, "be1", "up")
    assert post(p, "s=up&s=nocheck&action=maint&b=%233") == "/st;st=DONE"
    assert up.maint and server(p, "be1", "nocheck").maint
    assert post(p, "s=up&action=drain&b=be1") == "/st;st=DONE"
    assert up.drain and not up.maint
    assert post(p, "s=up&action=ready&b=be1") == "/st;st=DONE"
    assert not up.admin
    assert post(p, "s=up&action=hdown&b=be1") == "/st;st=DONE"
    assert up.op_state == STOPPED and up.check.health == 0 and C.server_status(up) == "DOWN"
    assert post(p, "s=up&action=hnolb&b=be1") == "/st;st=DONE"
    assert C.server_status(up) == "NOLB"
    assert post(p, "s=up&action=hrunn&b=be1") == "/st;st=DONE"
    assert C.server_status(up) == "UP"
    assert post(p, "s=up&action=dhlth&b=be1") == "/st;st=DONE"
    assert up.check.paused and C.server_status(up) == "no check"
    assert post(p, "s=up&action=ehlth&b=be1") == "/st;st=DONE"
    assert not up.check.paused
    # legacy actions
    assert post(p, "s=up&action=disable&b=be1") == "/st;st=DONE" and up.maint
    assert post(p, "s=up&action=disable&b=be1") == "/st;st=NONE"
    assert post(p, "s=up&action=enable&b=be1") == "/st;st=DONE" and not up.maint


def test_post_result_codes(tmp_path: Path) -> None:
    p = make_process(tmp_path)
    assert post(p, "s=up&s=nosuch&action=drain&b=be1") == "/st;st=PART"
    assert post(p, "s=nosuch&action=drain&b=be1") == "/st;st=ERRP"
    assert post(p, "s=up&action=drain&b=nosuch") == "/st;st=ERRP"
    assert post(p, "s=up&action=drain&b=%23999") == "/st;st=ERRP"
    assert post(p, "s=up&action=bogus&b=be1") == "/st;st=ERRP"
    assert post(p, "action=drain&b=be1") == "/st;st=NONE"
    assert post(p, "s=up&action=drain") == "/st;st=NONE"
    assert post(p, "") == "/st;st=NONE"
    # checks not configured / agents: nothing to do
    assert post(p, "s=nocheck&action=dhlth&b=be1") == "/st;st=NONE"
    assert post(p, "s=up&action=arunn&b=be1") == "/st;st=NONE"
    # the last 'b' and 'action' win; keys may come in any order
    assert post(p, "b=nosuch&action=bogus&s=up&action=maint&b=be1") == "/st;st=DONE"
    assert server(p, "be1", "up").maint
    assert post(p, "b=be1&action=ready&s=up") == "/st;st=DONE"
    assert not server(p, "be1", "up").maint
    # the display options are kept, ';norefresh' only with 'stats refresh'
    assert post(p, "s=up&action=drain&b=be1", "/st;up;norefresh?scope=be") == "/st;st=DONE;up;norefresh?scope=be"
    # a body that did not fit in a buffer
    txn = txn_for(p, "POST", "/st")
    txn.extra[page.BODY_EXCD] = True
    status, h, _ = page.handle(p, spec_of(p, "stats"), None, txn, b"s=up")
    assert status == 303 and dict(h)["location"] == "/st;st=EXCD"


def test_post_order_and_events(tmp_path: Path) -> None:
    """Servers are handled from the last parameter to the first, as HAProxy, through the
    Server methods (so subscribers see every change with the Web reason)."""
    p = make_process(tmp_path)
    seen: list[tuple[str, str, str]] = []
    for s in p.backends[1].servers:
        s.subscribers[:] = [lambda srv, ev, why: seen.append((srv.name, ev, why))]
    assert post(p, "s=up&s=nocheck&action=hdown&b=be1") == "/st;st=DONE"
    assert seen == [("nocheck", "down", "changed from Web interface"), ("up", "down", "changed from Web interface")]


def test_post_shutdown(tmp_path: Path) -> None:
    p = make_process(tmp_path)
    killed: list[str] = []

    class FakePump:
        def finish(self, term: str) -> None:
            killed.append(term)

    sess = Session(p.frontends[1], p.frontends[1].listeners[0], ("127.0.0.1", 1), None)
    sess.pump = FakePump()
    up = server(p, "be1", "up")
    up.sessions.add(sess)
    assert post(p, "s=up&action=shutdown&b=be1") == "/st;st=DONE"
    assert killed == ["KD"] and sess.killed == "K"
