"""``option http-restrict-req-hdr-names`` (gproxy.http.keywords): the pure check and the
keyword's ``haproxy -c`` texts (haproxy 2.6.12; its reg-test
``http-rules/restrict_req_hdr_names.vtc`` for the cases of the check)."""

from __future__ import annotations

import pytest

from gproxy.http.keywords import RESTRICT_DENY, restrict_hdr_names, restrict_mode

from .cfgtext import HTTP_HEAD as HEAD
from .cfgtext import parse

pytestmark = pytest.mark.timeout(10)


HDRS = [("host", "x"), ("x_my_hdr", "1"), ("x-ok-1", "2"), ("x.dot", "3"), ("accept", "*/*"),
        ("x-my_hdr-2", "4"), ("x-trailing_", "5")]


# ------------------------------------------------------------------ the check
def test_preserve_keeps_everything() -> None:
    items = list(HDRS)
    assert restrict_hdr_names(items, "preserve") is True and items == HDRS


def test_delete_removes_every_bad_name_in_place() -> None:
    items = list(HDRS)
    ref = items
    assert restrict_hdr_names(items, "delete") is True
    assert ref is items  # the request's own list is edited
    assert items == [("host", "x"), ("x-ok-1", "2"), ("accept", "*/*")]


def test_delete_without_bad_names_changes_nothing() -> None:
    items = [("host", "x"), ("X-Upper-9", "1")]
    assert restrict_hdr_names(items, "delete") is True and items == [("host", "x"), ("X-Upper-9", "1")]


@pytest.mark.parametrize("name", ["x_y", "x.y", "x@y", "x~y", "x!y", "x#y", "x$y", "x%y", "x&y", "x'y", "x*y", "x+y",
                                  "x^y", "x`y", "x|y", "caf\xe9"])
def test_reject_any_other_character(name: str) -> None:
    assert restrict_hdr_names([("host", "x"), (name, "v")], "reject") is False


def test_reject_accepts_letters_digits_dash() -> None:
    assert restrict_hdr_names([("host", "x"), ("x-0123456789-abcdefghijklmnopqrstuvwxyz-ABCXYZ", "v")], "reject")
    assert restrict_hdr_names([], "reject") and restrict_hdr_names([], "delete")


def test_deny_verdict_and_mode_lookup() -> None:
    assert (RESTRICT_DENY.kind, RESTRICT_DENY.status, RESTRICT_DENY.response) == ("deny", 403, None)
    model, msgs = parse(HEAD.replace("mode http\n", "mode http\n    option http-restrict-req-hdr-names delete\n")
                        + "frontend fe\n    bind :1\n    option http-restrict-req-hdr-names reject\n    default_backend b1\n"
                        + "backend b1\n" + "backend b2\n    option http-restrict-req-hdr-names preserve\n")
    assert msgs == []
    fe, b1, b2 = model.proxies
    assert (restrict_mode(fe), restrict_mode(b1), restrict_mode(b2)) == ("reject", "delete", None)


# ------------------------------------------------------------------ haproxy -c texts
EXPECTS = "option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option."


@pytest.mark.parametrize(
    "line,msg",
    [
        ("option http-restrict-req-hdr-names", f"parsing [t.cfg:8] : missing parameter. {EXPECTS}"),
        ("option http-restrict-req-hdr-names foo", f"parsing [t.cfg:8] : invalid parameter 'foo'. {EXPECTS}"),
        ("option http-restrict-req-hdr-names Reject", f"parsing [t.cfg:8] : invalid parameter 'Reject'. {EXPECTS}"),
        ("option http-restrict-req-hdr-names reject extra",
         "parsing [t.cfg:8] : 'option' cannot handle unexpected argument 'extra'."),
        ("no option http-restrict-req-hdr-names",
         "parsing [t.cfg:8]: negation/default is not supported for option 'http-restrict-req-hdr-names'."),
        ("default option http-restrict-req-hdr-names reject",
         "parsing [t.cfg:8]: negation/default is not supported for option 'http-restrict-req-hdr-names'."),
    ],
)
def test_config_errors(line: str, msg: str) -> None:
    _, msgs = parse(HEAD + f"frontend fe\n    bind :1\n    {line}\n")
    assert msgs == [f"ALERT: {msg}"]


def test_accepted_everywhere_even_in_tcp_mode() -> None:
    _, msgs = parse(HEAD.replace("mode http", "mode tcp") + "frontend fe\n    bind :1\n"
                    "    option http-restrict-req-hdr-names reject\nbackend be\n"
                    "    option http-restrict-req-hdr-names delete\nlisten li\n    bind :2\n"
                    "    option http-restrict-req-hdr-names preserve\n")
    assert msgs == []
