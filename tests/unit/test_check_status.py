"""Check status codes and the reason text of state-change lines (gproxy.checks.status).

Expected strings were captured from HAProxy 2.6.12 ("Server be/s1 is DOWN, reason: ...").
"""

from __future__ import annotations

import pytest

from gproxy.checks import status as S


@pytest.mark.parametrize(
    ("status", "code", "desc", "duration", "expected"),
    [
        ("L4CON", 0, "Connection refused", 0, 'Layer4 connection problem, info: "Connection refused", check duration: 0ms'),
        ("L4TOUT", 0, "", 1001, "Layer4 timeout, check duration: 1001ms"),
        ("L4OK", 0, "", 0, "Layer4 check passed, check duration: 0ms"),
        ("L4OK", 0, "(tcp-check)", 0, 'Layer4 check passed, info: "(tcp-check)", check duration: 0ms'),
        ("L7STS", 503, "Service Unavailable", 1,
         'Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: 1ms'),
        ("L7OK", 200, "", 1, "Layer7 check passed, code: 200, check duration: 1ms"),
        ("L7OK", 0, "Redis server is ok", 3, 'Layer7 check passed, code: 0, info: "Redis server is ok", check duration: 3ms'),
        ("L7RSP", 0, "", 0, "Layer7 invalid response, check duration: 0ms"),
        ("L7TOUT", 0, "", 1499, "Layer7 timeout, check duration: 1499ms"),
        ("SOCKERR", 0, "Connection reset by peer", 0, 'Socket error, info: "Connection reset by peer", check duration: 0ms'),
        ("L7OKC", 404, "", 0, "Layer7 check conditionally passed, code: 404, check duration: 0ms"),
        ("L7STS", 1045, "#28000Access denied for user 'nobody'@'localhost' (using password: NO)", 0,
         ("Layer7 wrong status, code: 1045, info: \"#28000Access denied for user 'nobody'@'localhost' "
         '(using password: NO)", check duration: 0ms')),
    ],
)
def test_format_reason(status: str, code: int, desc: str, duration: int, expected: str) -> None:
    assert S.format_reason(status, code, desc, duration) == expected


def test_ascii_encode_like_chunk_asciiencode() -> None:
    # HAProxy printed: info: "Bad <22><3C>quoted<3E><22> <C3><A9>" for reason 'Bad "<quoted>" é'
    assert S.ascii_encode('Bad "<quoted>" \u00e9') == "Bad <22><3C>quoted<3E><22> <C3><A9>"
    assert S.ascii_encode("a\tb\x7f") == "a<09>b<7F>"


def test_no_duration_when_negative() -> None:
    assert S.format_reason("L7STS", 500, "x", -1) == 'Layer7 wrong status, code: 500, info: "x"'


def test_results_and_codes() -> None:
    assert S.result_of("L7OK") == S.PASSED
    assert S.result_of("L7OKC") == S.CONDPASS
    assert S.result_of("L4TOUT") == S.FAILED
    assert S.result_of("INI") == S.UNKNOWN
    assert S.has_code("L7STS") and S.has_code("L7OK") and S.has_code("L7OKC")
    assert not S.has_code("L7RSP") and not S.has_code("L7TOUT") and not S.has_code("L4OK")
    assert S.description("nonsense") == "Unknown"


def test_truncate_desc() -> None:
    assert len(S.truncate_desc("x" * 500)) == 127
    assert S.truncate_desc("abc\0def") == "abc"
