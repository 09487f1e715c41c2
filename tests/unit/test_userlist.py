"""userlist sections and HTTP basic authentication (gproxy.http.userlist).

Messages are ``haproxy -c``'s; the crypt(3) hashes below were accepted by HAProxy 2.6.12
(Debian build) for the password ``secret`` (and ``x`` for the SHA-512 one).
"""

from __future__ import annotations

import base64
import re

import pytest

from gproxy.config import import_keyword_modules, validate
from gproxy.config.parser import Parser
from gproxy.http import rules as R
from gproxy.http import userlist as U
from gproxy.http.message import Headers, Request, Txn
from gproxy.session import Session

import_keyword_modules()

MD5 = "$1$saltsalt$9xy1btjgzLYfb7hivXtC//"
SHA256 = "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA"
SHA512_X = "$6$abc$K4v3HcZ8yAmpRfxML6S46NCcqy9r4/KdbQpFvqSWsBf4dgySOEOo1DHJTrmn2BsJK2aNmPN8Tfb826D2o9.z51"
DES = "abNANd1rDfiNc"
needs_crypt = pytest.mark.skipif(U._crypt is None, reason="no crypt module in this Python")


def parse(text: str) -> tuple[object, list[str]]:
    p = Parser()
    p.parse_text(text, "t.cfg")
    if not p.diag.fatal:
        validate.validate(p.model, p.diag)
    return p.model, [message(m) for m in p.diag.messages]


def message(m: object) -> str:
    body = m.render(0).split(" : ", 1)[1]  # type: ignore[attr-defined]
    body = body.removeprefix("config : ")
    return f"{m.level}: " + re.sub(r"^parsing \[t\.cfg:\d+\] : ", "", body)  # type: ignore[attr-defined]


FE = "frontend fe\n    mode http\n    bind 127.0.0.1:27499\n    timeout client 1s\n"


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        (("userlist L\n    user x password $9$abc\n    user x insecure-password y\n    user y password\n"
         "    group G users x,zz\n    group G\n    foo bar\n"),
         ["WARNING: parsing [t.cfg:3]: ignoring duplicated user 'x' in userlist 'L'.",
          "WARNING: parsing [t.cfg:6]: ignoring duplicated group 'G' in userlist 'L'.",
          "ALERT: parsing [t.cfg:7]: unknown keyword 'foo' in 'users' section"]),
        ("userlist L\n    user x password $9$abc groups G2\n    group G\nuserlist L\nuserlist\nuserlist a b\n",
         ["WARNING: parsing [t.cfg:4]: ignoring duplicated userlist 'L'.",
          "ALERT: parsing [t.cfg:5]: 'userlist' expects <name> as arguments.",
          "ALERT: 'userlist' cannot handle unexpected argument 'b'."]),
        ("userlist L\n    user x insecure-password y groups G2\n    group G\n",
         ["ALERT: userlist 'L': no such group 'G2' specified in user 'x'"]),
        ("userlist L\n    user x insecure-password y\n    group G users x,zz\n",
         ["ALERT: userlist 'L': no such user 'zz' specified in group 'G'"]),
        ("userlist L\n    user x foo y\n    group G bar\n    user\n    group\nuserlist a!\n",
         ["ALERT: parsing [t.cfg:2]: 'user' only supports 'password', 'insecure-password' and 'groups' options.",
          "ALERT: parsing [t.cfg:3]: 'group' only supports 'users' option.",
          "ALERT: parsing [t.cfg:4]: 'user' expects <name> as arguments.",
          "ALERT: parsing [t.cfg:5]: 'group' expects <name> as arguments.",
          "ALERT: parsing [t.cfg:6]: character '!' is not permitted in 'userlist' name 'a!'."]),
    ],
)
def test_section_messages(text: str, messages: list[str]) -> None:
    _, msgs = parse(text + FE)
    assert [m for m in msgs if not m.startswith(("ALERT: Error(s)", "WARNING: frontend"))] == messages


def test_users_and_groups_are_linked() -> None:
    model, msgs = parse("userlist L\n    group G1 users a\n    group G2\n    user a insecure-password p\n"
                        "    user b insecure-password q groups G1,G2\n" + FE)
    assert [m for m in msgs if m.startswith("ALERT")] == []
    ul = model.sections["userlist"][0]
    assert ul.groups_of("a") == {"G1"} and ul.groups_of("b") == {"G1", "G2"} and ul.groups_of("c") == set()
    assert ul.check("a", "p") and not ul.check("a", "q") and not ul.check("zz", "p")


@needs_crypt
@pytest.mark.parametrize(("stored", "password"), [(MD5, "secret"), (SHA256, "secret"), (DES, "secret"),
                                                  (SHA512_X, "x")])
def test_crypt_passwords(stored: str, password: str) -> None:
    assert U.check_password(stored, password, insecure=False)
    assert not U.check_password(stored, password + "!", insecure=False)


def test_insecure_passwords_compare_plainly() -> None:
    assert U.check_password("secret", "secret", insecure=True)
    assert not U.check_password(MD5, MD5 + "x", insecure=True)


# ------------------------------------------------------------------ fetches and the auth action
CFG = f"""defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
userlist L
    group admins users boss
    user boss password {MD5}
    user guest insecure-password guest
frontend fe
    bind 127.0.0.1:27499
    http-request return status 200 content-type text/plain lf-string "u=%[http_auth_user] g=%[http_auth_group(L)]" if {{ path /who }} {{ http_auth(L) }}
    http-request auth realm Admin\\ Area if {{ path_beg /admin }} !{{ http_auth_group(L) admins }}
    http-request auth unless {{ http_auth(L) }}
    default_backend be
backend be
    server s1 127.0.0.1:27498
"""


class Fe:
    def __init__(self, spec: object) -> None:
        self.spec = spec
        self.name = "fe"
        self.id = 1
        self.process = None


@pytest.fixture(scope="module")
def fe() -> Fe:
    model, msgs = parse(CFG)
    assert [m for m in msgs if m.startswith("ALERT")] == []
    return Fe(model.proxies[0])


def run(fe: Fe, uri: str, creds: str | None) -> R.Verdict | None:
    headers = [("authorization", "Basic " + base64.b64encode(creds.encode()).decode())] if creds else []
    sess = Session(fe, None, ("127.0.0.1", 1), ("127.0.0.1", 80))
    return R.run_http_request(fe.spec.http_request, Txn(sess, Request("GET", uri, "HTTP/1.1", Headers(headers))))


@needs_crypt
def test_http_auth_and_groups(fe: Fe) -> None:
    assert run(fe, "/who", "boss:secret").response.body == b"u=boss g=boss"
    assert run(fe, "/who", "guest:guest").response.body == b"u=guest g=guest"
    assert run(fe, "/admin", "boss:secret") is None
    v = run(fe, "/admin", "guest:guest")
    assert (v.kind, v.status, v.realm) == ("auth", 401, "Admin Area")
    assert R.verdict_response_bytes(v) == (
        b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n"
        b'www-authenticate: Basic realm="Admin Area"\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid '
        b"user and password to access this content.\n</body></html>\n"
    )
    v = run(fe, "/", None)
    assert (v.kind, v.realm) == ("auth", "fe")  # the default realm is the proxy's name
    assert run(fe, "/", "boss:wrong").kind == "auth"
    assert run(fe, "/", "guest:guest") is None


@pytest.mark.parametrize("header", ["Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(), "Digest x"])
def test_malformed_authorization_never_authenticates(fe: Fe, header: str) -> None:
    sess = Session(fe, None, ("127.0.0.1", 1), ("127.0.0.1", 80))
    t = Txn(sess, Request("GET", "/", "HTTP/1.1", Headers([("authorization", header)])))
    assert R.run_http_request(fe.spec.http_request, t).kind == "auth"


def test_rules_copied_from_named_defaults_share_the_userlist() -> None:
    model, msgs = parse("userlist L\n    user a insecure-password b\n"
                        "defaults def\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n"
                        "    http-request auth unless { http_auth(L) }\n"
                        "frontend fe from def\n    bind 127.0.0.1:27499\n")
    assert [m for m in msgs if m.startswith("ALERT")] == []
    f = Fe(model.proxies[0])
    assert run(f, "/", "a:b") is None
    assert run(f, "/", "a:c").kind == "auth"
