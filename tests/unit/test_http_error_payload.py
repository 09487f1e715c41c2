"""``http-error status <code>`` with its own payload (gproxy.http.errors, reply parsing
shared with ``http-request return`` in gproxy.http.rules).

The expected bytes are what haproxy 2.6.12 sent on a raw socket for the same lines
(``haproxy -db``); ordering rules are HAProxy's ``proxy_check_errors`` (lines of the
defaults section first, a later line for a code replaces an earlier one).
"""

from __future__ import annotations

import pytest

from gproxy.config.model import Model, Proxy
from gproxy.http import errors
from gproxy.http import rules as R
from gproxy.http.message import Headers, Request, Txn
from gproxy.session import Session

from .cfgtext import HTTP_HEAD as HEAD
from .cfgtext import parse

pytestmark = pytest.mark.timeout(10)


class Fe:
    def __init__(self, spec: Proxy) -> None:
        self.spec = spec
        self.name = spec.name
        self.id = 1
        self.process = None


def proxy(model: Model, name: str) -> Proxy:
    px = next((p for p in model.proxies if p.name == name), None)
    assert px is not None
    return px


def load(text: str) -> Model:
    model, msgs = parse(HEAD + text, check=True)
    assert [m for m in msgs if m.startswith("ALERT")] == []
    return model


def txn_for(spec: Proxy, uri: str = "/x", host: str = "h") -> Txn:
    sess = Session(Fe(spec), None, ("127.0.0.1", 40000), ("127.0.0.1", 8080))
    return Txn(sess, Request("GET", uri, "HTTP/1.1", Headers([("host", host)])))


def wire(rep: errors.Reply, keep_alive: bool = True) -> bytes:
    return rep.render(keep_alive)[0]


# ------------------------------------------------------------------ static forms
def test_string_with_headers_is_rendered_once() -> None:
    model = load('frontend fe\n    http-error status 503 content-type text/plain string "sorry" hdr X-Foo bar\n')
    fe = proxy(model, "fe")
    page = errors.pages_for(fe).get(503)
    assert isinstance(page, errors.Reply) and not isinstance(page, errors.LfReply)
    assert errors.reply(503, None, fe) is page
    assert wire(page) == (b"HTTP/1.1 503 Service Unavailable\r\nx-foo: bar\r\ncontent-length: 5\r\n"
                          b"content-type: text/plain\r\n\r\nsorry")
    assert wire(page, keep_alive=False).endswith(b"content-type: text/plain\r\nconnection: close\r\n\r\nsorry")


def test_no_payload_and_reason_phrase() -> None:
    model = load("frontend fe\n    http-error status 502\n    http-error status 504 hdr X-A 1\n")
    fe = proxy(model, "fe")
    # http_get_reason(), not the built-in page's "Bad Gateway"
    assert wire(errors.reply(502, None, fe)) == b"HTTP/1.1 502 Bad Gateway or Proxy Error\r\ncontent-length: 0\r\n\r\n"
    assert wire(errors.reply(504, None, fe)) == b"HTTP/1.1 504 Gateway Time-out\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n"
    assert errors.reply(503, None, fe) is errors.reply(503)  # untouched codes keep the built-in page


def test_file_payload(tmp_path) -> None:
    f = tmp_path / "404.html"
    f.write_bytes(b"file body\n")
    model = load(f"frontend fe\n    http-error status 404 content-type text/html file {f}\n")
    assert wire(errors.reply(404, None, proxy(model, "fe"))) == (
        b"HTTP/1.1 404 Not Found\r\ncontent-length: 10\r\ncontent-type: text/html\r\n\r\nfile body\n")


# ------------------------------------------------------------------ log-format forms
def test_lf_string_is_rendered_per_transaction() -> None:
    model = load('frontend fe\n    http-error status 403 content-type "text/plain; charset=utf-8" lf-string '
                 '"denied %[path] host=%[req.hdr(host)] st=%ST fe=%f" hdr X-Path %[path]\n')
    fe = proxy(model, "fe")
    assert errors.pages_for(fe).get(403).dynamic
    txn = txn_for(fe, "/deny", "hh")
    rep = errors.reply(403, None, fe, txn)
    assert isinstance(rep, errors.LfReply) and txn.status == 403  # HAProxy's txn->status while rendering
    assert wire(rep) == (b"HTTP/1.1 403 Forbidden\r\nx-path: /deny\r\ncontent-length: 33\r\n"
                         b"content-type: text/plain; charset=utf-8\r\n\r\ndenied /deny host=hh st=403 fe=fe")
    assert wire(errors.reply(403, None, fe, txn_for(fe, "/other"))).endswith(b"denied /other host=h st=403 fe=fe")


def test_lf_page_looked_up_without_transaction_is_bound_later() -> None:
    model = load('frontend fe\n    http-error status 500 content-type text/plain lf-string "on %[path]"\n')
    fe = proxy(model, "fe")
    early = errors.reply(500, None, fe)
    assert wire(early).endswith(b"\r\n\r\non ")
    txn = txn_for(fe, "/p")
    assert wire(errors.bind(early, txn)).endswith(b"\r\n\r\non /p")
    bound = errors.reply(500, None, fe, txn)
    assert errors.bind(bound, txn_for(fe, "/q")) is bound
    static = errors.reply(503, None, fe)
    assert errors.bind(static, txn) is static


def test_rules_error_page_uses_the_http_error_reply() -> None:
    """deny / return ... default-errorfiles go through rules.error_page()."""
    model = load('frontend fe\n    http-error status 403 content-type text/plain lf-string "no %[path]"\n'
                 "    http-request deny\n    default_backend be\nbackend be\n")
    fe = proxy(model, "fe")
    txn = txn_for(fe, "/z")
    v = R.run_http_request(fe.http_request, txn)
    assert v is not None and v.kind == "deny" and v.status == 403
    assert R.verdict_response_bytes(v) == (b"HTTP/1.1 403 Forbidden\r\ncontent-length: 5\r\n"
                                           b"content-type: text/plain\r\n\r\nno /z")


# ------------------------------------------------------------------ order of the lines
def _body(spec: Proxy, code: int) -> bytes:
    return errors.reply(code, spec).body


def test_later_lines_replace_earlier_ones(tmp_path) -> None:
    f = tmp_path / "503.http"
    f.write_bytes(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nfile")
    s = tmp_path / "s503.http"
    s.write_bytes(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 7\r\n\r\nsection")
    text = (f"http-errors errs\n    errorfile 503 {s}\n"
            f"backend b1\n    errorfile 503 {f}\n    http-error status 503 content-type t string reply\n"
            f"backend b2\n    http-error status 503 content-type t string reply\n    errorfile 503 {f}\n"
            "backend b3\n    http-error status 503 content-type t string reply\n    errorfiles errs\n"
            "backend b4\n    errorfiles errs\n    http-error status 503 content-type t string reply\n"
            "backend b5\n    http-error status 503 content-type t string reply\n    http-error status 503 default-errorfiles\n"
            "backend b6\n    http-error status 503 content-type t string one\n    http-error status 503 content-type t string two\n"
            "backend b7\n    errorloc 503 /loc\n    http-error status 503\n")
    model = load(text)
    got = [_body(proxy(model, f"b{i}"), 503) for i in range(1, 8)]
    assert got == [b"reply", b"file", b"section", b"reply", errors.reply(503).body, b"two", b""]


def test_defaults_lines_come_first_and_are_inherited() -> None:
    text = ('defaults named\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n'
            '    http-error status 429 content-type t string "from defaults"\n'
            '    http-error status 410 content-type t lf-string "defaults %[path]"\n'
            "frontend fe from named\n    http-error status 429 content-type t string mine\n    default_backend be\n"
            "backend be from named\n    http-error status 503\n")
    model = load(text)
    fe, be = proxy(model, "fe"), proxy(model, "be")
    assert _body(fe, 429) == b"mine"
    assert _body(be, 429) == b"from defaults"
    assert errors.reply(410, be, fe, txn_for(fe, "/g")).body == b"defaults /g"
    # the backend's page first, then the frontend's (http_error_message)
    assert errors.reply(503, be, fe).headers == [("content-length", "0")]
    assert errors.reply(429, be, fe).body == b"from defaults"


# ------------------------------------------------------------------ configuration messages
def test_no_warning_for_payload_forms_and_haproxy_warnings_kept() -> None:
    _, msgs = parse(HEAD + "frontend fe\n    http-error status 503 hdr content-length 3 content-type t\n"
                    "    http-error status 502 content-type t string x\n", check=True)
    assert msgs == [
        "WARNING: parsing [t.cfg:7] : header 'content-length' always ignored by the http reply.",
        ("WARNING: parsing [t.cfg:7] : content-type 't' ignored by the http reply because neither errorfile "
         "nor payload defined."),
        "WARNING: frontend 'fe' has no 'bind' directive. Please declare it as a backend if this was intended.",
    ]


@pytest.mark.parametrize("line,alert", [
    ("http-error status 503 string x",
     "http-error : a content type must be defined when non-empty payload is configured"),
    ("http-error status 503 lf-string x", "http-error : a content type must be defined with a log-format payload"),
    ("http-error status 503 string", "http-error : 'string' expects <str> as argument"),
    ("http-error status 503 string x file y", "http-error : unexpected 'file' argument, 'string' already defined"),
    ("http-error status 599 content-type t string x", "http-error: status code '599' not handled."),
    ("http-error status 503 content-type t string x bogus", "http-error : unknown keyword 'bogus'."),
    ("http-error status 503 content-type t lf-string %[nope]",
     "http-error : failed to parse sample expression <nope]> : unknown fetch method 'nope'"),
])
def test_argument_errors(line: str, alert: str) -> None:
    _, msgs = parse(HEAD + f"frontend fe\n    {line}\n")
    assert f"ALERT: parsing [t.cfg:7] : {alert}" in msgs


def test_every_fetch_may_be_used() -> None:
    """ARGC_HERR: request and response fetches alike (SMP_VAL_REQUEST | SMP_VAL_RESPONSE)."""
    load('frontend fe\n    http-error status 503 content-type t lf-string "%[req.hdr(host)] %[res.hdr(x)]" '
         "hdr x %[path]\n")
