"""``monitor-uri``, ``monitor fail``, ``redirect`` and ``http-send-name-header`` as
``haproxy -c`` 2.6.12 reads them (messages captured 2026-11-27)."""

from __future__ import annotations

import pytest

from .cfgtext import HTTP_HEAD, parse_checked

FE = HTTP_HEAD + "frontend fe\n    bind 127.0.0.1:1\n    {line}\n    default_backend be\nbackend be\n    server s 127.0.0.1:2\n"
BE = HTTP_HEAD + "frontend fe\n    bind 127.0.0.1:1\n    default_backend be\nbackend be\n    {line}\n    server s 127.0.0.1:2\n"
RD = "error detected in frontend 'fe' while parsing redirect rule : "


@pytest.mark.parametrize(
    "text, message",
    [
        (FE.format(line="redirect"), RD + "redirection type expected ('prefix', 'location', or 'scheme')."),
        (FE.format(line="redirect foo /x"), RD + "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', "
         "'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'foo')."),
        (FE.format(line="redirect location"), RD + "missing argument for 'location'."),
        (FE.format(line="redirect location /x code 399"), RD + "'code': unsupported HTTP code '399' (must be one of "
         "301, 302, 303, 307 or 308)."),
        (FE.format(line="redirect location /x if foo"), RD + "error in condition: no such ACL : 'foo'."),
        (FE.format(line="monitor-uri"), "'monitor-uri' expects an URI."),
        (FE.format(line="monitor-uri /a /b"), "'monitor-uri' cannot handle unexpected argument '/b'."),
        (FE.format(line="monitor fail"), "'monitor fail' requires either 'if' or 'unless' followed by a condition."),
        (FE.format(line="monitor fail if foo"), ("error detected while parsing a 'monitor fail' condition : no such "
         "ACL : 'foo'.")),
        (FE.format(line="monitor foo"), "'monitor' only supports 'fail'."),
        (BE.format(line="http-send-name-header"), "'http-send-name-header' requires a header string."),
        ("defaults\n    mode http\n    redirect location /x\n", "'redirect' not allowed in 'defaults' section."),
        ("defaults\n    mode http\n    monitor fail if TRUE\n", "'monitor' not allowed in 'defaults' section."),
    ],
)
def test_errors(text: str, message: str) -> None:
    _, msgs = parse_checked(text)
    assert msgs[0] == f"ALERT: {message}"


@pytest.mark.parametrize(
    "text, warning",
    [
        (FE.format(line="http-send-name-header X"), ("'http-send-name-header' ignored because frontend 'fe' has no "
         "backend capability.")),
        (BE.format(line="monitor-uri /a"), "'monitor-uri' ignored because backend 'be' has no frontend capability."),
        (BE.format(line="monitor fail if TRUE"), "'monitor' ignored because backend 'be' has no frontend capability."),
        (FE.format(line="redirect location /x\n    http-request deny"), ("a 'http-request' rule placed after a "
         "'redirect' rule will still be processed before.")),
        (FE.format(line="use_backend be if TRUE\n    redirect location /x"), ("a 'redirect' rule placed after a "
         "'use_backend' rule will still be processed before.")),
        (FE.format(line="http-request deny\n    monitor fail if TRUE"), ("a 'monitor fail' rule placed after an "
         "'http-request' rule will still be processed before.")),
    ],
)
def test_warnings(text: str, warning: str) -> None:
    _, msgs = parse_checked(text)
    assert f"WARNING: {warning}" in msgs


def test_tcp_mode_warnings() -> None:
    _, msgs = parse_checked("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n"
                            "    timeout server 1s\nfrontend fe\n    bind 127.0.0.1:1\n    http-request deny\n"
                            "    redirect location /x\n    monitor-uri /m\n    default_backend be\n"
                            "backend be\n    server s 127.0.0.1:2\n")
    assert [m for m in msgs if "mode" in m] == [
        "WARNING: monitor-uri will be ignored for frontend 'fe' (needs 'mode http').",
        "WARNING: 'http-request' rules ignored for frontend 'fe' as they require HTTP mode.",
        "WARNING: 'redirect' rules ignored for frontend 'fe' as they require HTTP mode."]
