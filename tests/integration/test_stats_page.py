"""The HTTP stats page of a running proxy, seen by a real headless Chromium.

* The proxy serves ``stats uri /stats`` with ``stats admin if LOCALHOST`` in front of a
  backend whose servers are up (HTTP check passes), down (nothing listens), a backup
  without check and one disabled in the configuration.
* Chromium (Debian package ``chromium``) loads the page: ``--dump-dom`` gives the DOM the
  browser built, whose proxy tables, server rows and their HAProxy state classes are
  checked, and ``--screenshot`` writes ``stats.png`` in the test's tmp dir.
* The admin form is driven in the browser through chromedriver (Debian package
  ``chromium-driver``), spoken to with the W3C WebDriver HTTP protocol over urllib (no
  driver library): tick a server, choose "Set state to DRAIN", press Apply; the browser
  follows the 303 to ``;st=DONE`` and the row turns ``active_draining``.  Without
  chromedriver the same POST is sent with urllib and the result page loaded in Chromium.
* Unauthenticated access to a ``stats auth`` page gets HAProxy's 401; the log line of a
  stats request names server ``<STATS>`` with termination state ``LR``.
* With HAProxy installed, its page for the same configuration has the same proxy tables,
  rows and row classes.

Runs against HAProxy too (``GPROXY_TEST_PROXY=haproxy``).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from helpers import HttpBackend, free_port, is_haproxy, wait_for
from unit.test_stats_page import parse_page

pytestmark = pytest.mark.timeout(180)

LOCAL = "127.0.0.1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
NEED_CHROMIUM = "needs a headless Chromium: apt-get install -y chromium chromium-driver"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

CFG = """
global
    log stdout format raw local0

defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s

listen stats
    bind 127.0.0.1:{stats}
    stats uri /stats
    stats refresh 30s
    stats admin if LOCALHOST
    stats show-legends
    option socket-stats

listen locked
    bind 127.0.0.1:{locked}
    stats enable
    stats auth admin:secret

frontend web
    bind 127.0.0.1:{web}
    default_backend app

backend app
    option httpchk GET /
    server up 127.0.0.1:{up} check inter 200 rise 1 fall 1
    server dead 127.0.0.1:{dead} check inter 200 rise 1 fall 1
    server spare 127.0.0.1:{up} backup
    server off 127.0.0.1:{up} disabled
"""

BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage")


@pytest.fixture
def backend() -> Any:
    with HttpBackend("app") as srv:
        yield srv


def start(proxy: Any, backend: Any) -> tuple[Any, dict[str, int]]:
    ports = {"stats": free_port(), "locked": free_port(), "web": free_port(), "up": backend.port,
             "dead": free_port()}
    p = proxy(CFG.format(**ports), wait_ports=[ports["stats"], ports["locked"], ports["web"]])
    return p, ports


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a: Any, **kw: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def csv_status(url: str) -> dict[tuple[str, str], str]:
    _, _, body = fetch(url + ";csv")
    lines = body.decode().splitlines()
    head = lines[0][2:].split(",")
    col = head.index("status")
    return {tuple(f[:2]): f[col] for f in (line.split(",") for line in lines[1:])}


def settled(url: str) -> dict[tuple[str, str], str]:
    """Wait until the checks have marked 'up' UP and 'dead' DOWN."""
    def ok() -> dict[tuple[str, str], str] | None:
        st = csv_status(url)
        return st if st.get(("app", "up")) == "UP" and st.get(("app", "dead")) == "DOWN" else None

    return wait_for(ok, timeout=20, what="checks to settle")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"chromium-{time.monotonic_ns()}"
    return subprocess.run([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, timeout=90, check=False)


def dump_dom(tmp_path: Path, url: str) -> str:
    got = chromium(tmp_path, "--dump-dom", url)
    assert got.returncode == 0, got.stderr.decode(errors="replace")[-2000:]
    return got.stdout.decode()


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000, f"{path}: {len(data)} bytes"


class WebDriver:
    """The few W3C WebDriver commands the test needs, spoken to chromedriver over urllib."""

    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.base = f"http://{LOCAL}:{self.port}"
        self.sid = ""
        wait_for(lambda: self.call("GET", "/status").get("ready"), timeout=20, what="chromedriver")
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [*BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'webdriver-profile'}", "--window-size=1600,1000"],
        }}}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=90) as r:
            return json.loads(r.read())["value"]

    def session(self, method: str, path: str, body: Any = None) -> Any:
        return self.call(method, f"/session/{self.sid}{path}", body)

    def go(self, url: str) -> None:
        self.session("POST", "/url", {"url": url})

    def find(self, css: str) -> str:
        return self.session("POST", "/element", {"using": "css selector", "value": css})[self.ELEMENT]

    def click(self, css: str) -> None:
        self.session("POST", f"/element/{self.find(css)}/click", {})

    def url(self) -> str:
        return self.session("GET", "/url")

    def source(self) -> str:
        return self.session("GET", "/source")

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.session("GET", "/screenshot")))

    def close(self) -> None:
        try:
            if self.sid:
                self.session("DELETE", "")
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ------------------------------------------------------------------------------------
@pytest.mark.skipif(CHROMIUM is None, reason=NEED_CHROMIUM)
def test_stats_page_in_chromium(proxy: Any, backend: Any, tmp_path: Path) -> None:
    p, ports = start(proxy, backend)
    url = f"http://{LOCAL}:{ports['stats']}/stats"
    status, _, body = fetch(f"http://{LOCAL}:{ports['web']}/")
    assert status == 200 and body == b"app"
    settled(url)

    # the page as the browser built it
    dom = parse_page(dump_dom(tmp_path, url))
    assert dom.proxies == ["stats", "locked", "web", "app"]
    rows = [(px, cls, name) for px, cls, name in dom.rows]
    assert ("stats", "socket", "sock-1") in rows and ("web", "frontend", "Frontend") in rows
    assert [(cls, name) for px, cls, name in rows if px == "app"] == [
        ("active_up", "up"), ("active_down", "dead"), ("backup_no_check", "spare"), ("maintain", "off"),
        ("backend", "Backend")]
    assert [f["b"] for f in dom.forms] == ["#4"] and dom.forms[0]["servers"] == ["up", "dead", "spare", "off"]
    assert "drain" in dom.forms[0]["actions"] and "maint" in dom.forms[0]["actions"]

    shot = tmp_path / "stats.png"
    got = chromium(tmp_path, "--window-size=1600,1000", f"--screenshot={shot}", url)
    assert got.returncode == 0, got.stderr.decode(errors="replace")[-2000:]
    assert_png(shot)

    # an admin action through the form
    if CHROMEDRIVER is not None:
        wd = WebDriver(tmp_path)
        try:
            wd.go(url)
            wd.click("input.app-checkbox[value=up]")
            wd.click("select[name=action] option[value=drain]")
            wd.click('form input[type=submit][value="Apply"]')
            wait_for(lambda: wd.url().endswith("/stats;st=DONE"), timeout=20, what="the 303 to ;st=DONE")
            after = parse_page(wd.source())
            wd.screenshot(tmp_path / "stats-after.png")
        finally:
            wd.close()
        assert_png(tmp_path / "stats-after.png")
    else:  # the same POST the form sends
        status, headers, _ = fetch(url, b"s=up&action=drain&b=%234")
        assert status == 303 and headers["Location"] == "/stats;st=DONE"
        after = parse_page(dump_dom(tmp_path, url + ";st=DONE"))
    assert after.messages[0][0] == "active_up"
    assert after.messages[0][1].endswith("Action processed successfully.")
    assert after.row_class("app", "up") == "active_draining"
    assert csv_status(url)[("app", "up")] == "DRAIN"

    # access control and the log line
    status, headers, body = fetch(f"http://{LOCAL}:{ports['locked']}/haproxy?stats")
    assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="HAProxy Statistics"'
    auth = "Basic " + base64.b64encode(b"admin:secret").decode()
    status, _, body = fetch(f"http://{LOCAL}:{ports['locked']}/haproxy?stats;csv", headers={"Authorization": auth})
    assert status == 200 and body.startswith(b"# pxname,svname,")
    wait_for(lambda: " stats stats/<STATS> " in p.stdout() and " LR-- " in p.stdout(), timeout=10,
             what="the log line of a stats request")


@pytest.mark.skipif(CHROMIUM is None, reason=NEED_CHROMIUM)
@pytest.mark.skipif(HAPROXY is None, reason="needs the Debian package 'haproxy' to compare with")
def test_rows_match_haproxy(proxy: Any, backend: Any, tmp_path: Path) -> None:
    if is_haproxy():
        pytest.skip("compares gproxy with HAProxy")
    _, ports = start(proxy, backend)
    ports_h = {k: (v if k == "up" else free_port()) for k, v in ports.items()}
    ref = tmp_path / "ref"
    ref.mkdir()
    cfg = ref / "haproxy.cfg"
    cfg.write_text(CFG.format(**ports_h))
    h = subprocess.Popen([HAPROXY, "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        mine, theirs = f"http://{LOCAL}:{ports['stats']}/stats", f"http://{LOCAL}:{ports_h['stats']}/stats"
        wait_for(lambda: fetch(theirs)[0] == 200, timeout=10, what="haproxy's stats page")
        settled(mine)
        settled(theirs)
        a, b = parse_page(dump_dom(tmp_path, mine)), parse_page(dump_dom(tmp_path, theirs))
    finally:
        h.terminate()
        h.wait(timeout=10)
    assert a.proxies == b.proxies
    assert a.rows == b.rows
    assert [(f["b"], f["servers"], f["actions"]) for f in a.forms] == [
        (f["b"], f["servers"], f["actions"]) for f in b.forms]
    assert a.checkboxes == b.checkboxes


def test_other_requests_are_not_intercepted(proxy: Any, backend: Any) -> None:
    """Other methods and URIs are not the stats page's: they go on to the servers (the
    'stats' listen has none: 503)."""
    _, ports = start(proxy, backend)
    base = f"http://{LOCAL}:{ports['stats']}"
    assert fetch(base + "/stats;csv")[0] == 200
    req = urllib.request.Request(base + "/stats", data=b"x", method="PUT")
    try:
        urllib.request.urlopen(req, timeout=10)
        status = 200
    except urllib.error.HTTPError as e:
        status = e.code
    assert status == 503
    assert fetch(base + "/other")[0] == 503
    assert fetch(f"http://{LOCAL}:{ports['web']}/stats")[1] is not None


def test_admin_post_on_a_kept_alive_connection(proxy: Any, backend: Any) -> None:
    """A chunked admin POST with ``Expect: 100-continue``, then a GET on the same
    connection: the body is eaten by the stats applet and the connection kept."""
    import socket

    _, ports = start(proxy, backend)
    settled(f"http://{LOCAL}:{ports['stats']}/stats")
    with socket.create_connection((LOCAL, ports["stats"]), timeout=10) as s:
        f = s.makefile("rb")

        def head() -> tuple[str, dict[str, str]]:
            status = f.readline().decode().strip()
            hdrs = {}
            while (line := f.readline()) not in (b"\r\n", b""):
                k, _, v = line.decode().partition(":")
                hdrs[k.strip().lower()] = v.strip()
            return status, hdrs

        s.sendall(b"POST /stats HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n\r\n")
        status, _ = head()
        assert status == "HTTP/1.1 100 Continue"
        s.sendall(b"5\r\ns=off\r\n14\r\n&action=ready&b=%234\r\n0\r\n\r\n")
        status, hdrs = head()
        assert status == "HTTP/1.1 303 See Other" and hdrs["location"] == "/stats;st=DONE"
        f.read(int(hdrs.get("content-length", "0")))
        s.sendall(b"GET /stats;csv HTTP/1.1\r\nHost: x\r\n\r\n")
        status, hdrs = head()
        assert status == "HTTP/1.1 200 OK" and hdrs["content-type"] == "text/plain"
    assert csv_status(f"http://{LOCAL}:{ports['stats']}/stats")[("app", "off")] in ("UP", "no check")
