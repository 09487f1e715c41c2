"""``%[...]`` in a proxy's ``log-format``: which fetches ``haproxy -c`` 2.6.12 accepts
there (2026-11-27: request and response headers are gone when the line is written; the
addresses, the method, the status, names, variables and capture slots are not) and its
messages for the others."""

from __future__ import annotations

import pytest

from .cfgtext import HTTP_HEAD, parse_checked

CFG = HTTP_HEAD + ("frontend fe\n    bind 127.0.0.1:1\n    log-format \"x=%[{expr}]\"\n    default_backend be\n"
                   "backend be\n    server s 127.0.0.1:2\n")
NO_LOG = "WARNING: log format ignored for frontend 'fe' since it has no log address."


@pytest.mark.parametrize("expr", ["src", "src,ipmask(24)", "method", "status", "be_name", "fe_name",
                                  "srv_name", "capture.req.hdr(0)", "capture.req.method", "var(txn.a),lower",
                                  "ssl_fc_sni", "unique-id"])
def test_accepted(expr: str) -> None:
    _, msgs = parse_checked(CFG.format(expr=expr))
    assert msgs == [NO_LOG]


@pytest.mark.parametrize(
    "expr, need",
    [("path", "HTTP request headers"), ("url", "HTTP request headers"), ("cook(x)", "HTTP request headers"), ("req.hdr(host)", "HTTP request headers"),
     ("req.body", "HTTP request headers"), ("res.hdr(server)", "HTTP response headers"),
     ("res.ver", "HTTP response headers"), ("hdr(host)", "HTTP request headers,HTTP response headers")],
)
def test_headers_refused(expr: str, need: str) -> None:
    _, msgs = parse_checked(CFG.format(expr=expr))
    assert msgs[0] == (f"ALERT: Parsing [t.cfg:8]: failed to parse log-format : sample fetch <{expr}]> may not be "
                       f"reliably used here because it needs '{need}' which is not available here.")


@pytest.mark.parametrize("expr", ["txn.x", "txn.status"])
def test_unknown_fetch(expr: str) -> None:
    _, msgs = parse_checked(CFG.format(expr=expr))
    assert msgs[0] == ("ALERT: Parsing [t.cfg:8]: failed to parse log-format : failed to parse sample expression "
                       f"<{expr}]> : unknown fetch method '{expr}'.")
