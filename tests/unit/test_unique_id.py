"""``unique-id-format`` / ``unique-id-header`` as ``haproxy -c`` 2.6.12 reads them
(messages captured 2026-11-27)."""

from __future__ import annotations

import pytest

from .cfgtext import HTTP_HEAD, parse_checked

FE = HTTP_HEAD + "frontend fe\n    bind 127.0.0.1:1\n    {line}\n    default_backend be\nbackend be\n    server s 127.0.0.1:2\n"
BE = HTTP_HEAD + "frontend fe\n    bind 127.0.0.1:1\n    default_backend be\nbackend be\n    {line}\n    server s 127.0.0.1:2\n"


@pytest.mark.parametrize(
    "line, message",
    [
        ("unique-id-format", "unique-id-format expects an argument."),
        ("unique-id-format a b", "unique-id-format expects only one argument, don't forget to escape spaces!"),
        ("unique-id-header", "unique-id-header expects an argument."),
        ("unique-id-format %[nofetch]", ("Parsing [t.cfg:8]: failed to parse unique-id : failed to parse sample "
         "expression <nofetch]> : unknown fetch method 'nofetch'.")),
        ("unique-id-format %Zz", ("Parsing [t.cfg:8]: failed to parse unique-id : no such format variable 'Zz'. If you "
         "wanted to emit the '%' character verbatim, you need to use '%%'.")),
    ],
)
def test_errors(line: str, message: str) -> None:
    _, msgs = parse_checked(FE.format(line=line))
    assert msgs[0] == f"ALERT: {message}"


@pytest.mark.parametrize("text", [FE.format(line="unique-id-format %[path]"), FE.format(line="unique-id-header a b"),
                                  FE.format(line="unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid"),
                                  BE.format(line="unique-id-format %rt"), BE.format(line="unique-id-header X-ID")])
def test_accepted(text: str) -> None:
    assert parse_checked(text)[1] == []
