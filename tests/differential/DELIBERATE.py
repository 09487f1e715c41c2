# ruff: noqa: N999 - the name is the convention: one obvious place for deliberate differences
"""Deliberate differences between gproxy and HAProxy 2.6: the ONE place they are listed.

``DELIBERATE`` maps a scenario id (``corpus.SCENARIOS``), or ``config:<name>`` for a
whole corpus config, to a ``Deliberate`` entry.  A scenario with an entry asserts only
what its entry says:

* ``check`` -- the aspects (``harness.ASPECTS``) still compared; the others are the
  deliberate difference and are not compared;
* ``xfail`` -- non-empty only for a difference that is accepted for now (a known gap
  with its tracking note): the test is marked ``xfail(strict=True)`` with that text,
  so it turns into a failure (XPASS) the day gproxy behaves like HAProxy and the entry
  must go.  Nothing else in the suite marks a differential test xfail or skips it.

``HAPROXY_CONFIG_REWRITES`` holds the config-level part: text replacements applied to a
corpus config before haproxy runs it (gproxy always runs the original text).  Each
rewrite must have its ``config:<name>`` entry in ``DELIBERATE`` saying why.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_ASPECTS = ("status", "response_heads", "response_bodies", "closed", "server_requests",
               "server_silent")


@dataclass(frozen=True)
class Deliberate:
    reason: str
    check: tuple[str, ...] = ALL_ASPECTS
    xfail: str = ""


DELIBERATE: dict[str, Deliberate] = {
    "config:seed": Deliberate(
        reason=(
            "The seed frontend uses the legacy `reqadd X-Forwarded-Proto:\\ https`. HAProxy 2.1+ "
            "refuses it (fatal: \"The 'reqadd' directive is not supported anymore since HAProxy "
            "2.1. Use 'http-request add-header' instead.\") while gproxy accepts it and translates "
            "it to `http-request add-header X-Forwarded-Proto https`. haproxy therefore runs the "
            "seed config with that modern line instead (HAPROXY_CONFIG_REWRITES); gproxy runs the "
            "seed text as is, and every aspect of every seed scenario is compared."),
        check=ALL_ASPECTS,
    ),
}

HAPROXY_CONFIG_REWRITES: dict[str, tuple[tuple[str, str], ...]] = {
    "seed": (
        ("reqadd X-Forwarded-Proto:\\ https", "http-request add-header X-Forwarded-Proto https"),
    ),
}


# Known gaps: behaviour gproxy does not match yet (issue 3 is open until they are gone).
# Each is xfail(strict=True): the day gproxy matches HAProxy the test XPASSes and the
# entry must be removed.
KNOWN_GAPS: dict[str, str] = {
    'post-chunked-ext-trailers': 'request trailers are forwarded with their original name case; haproxy lower-cases them',
    'resp-204': 'gproxy adds content-length: 0 to a 204 response; haproxy adds nothing',
    'te-gzip-chunked@strict': "HAProxy's 422 page for 'Transfer-Encoding: gzip, chunked' has mixed-case names and no connection header",
    'te-gzip-chunked@lax': "HAProxy's 422 page for 'Transfer-Encoding: gzip, chunked' has mixed-case names and no connection header",
    'te-http10@strict': 'gproxy adds connection: keep-alive towards the server for an HTTP/1.0 chunked request',
    'te-http10@lax': 'gproxy adds connection: keep-alive towards the server for an HTTP/1.0 chunked request',
    'hdr-name-space@lax': 'accept-invalid-http-request: haproxy forwards a header name containing a space',
    'hdr-space-before-colon@lax': "accept-invalid-http-request: haproxy forwards 'X-Sp : x'",
    'hdr-cr-in-value@strict': 'a bare CR inside a header value is handled differently from haproxy',
    'hdr-cr-in-value@lax': 'a bare CR inside a header value is handled differently from haproxy',
    'reqline-no-version@lax': 'accept-invalid-http-request: haproxy treats a request line without version as HTTP/0.9',
    'http09@strict': 'HTTP/0.9 request: haproxy answers 400 and closes, gproxy waits',
    'http09@lax': 'HTTP/0.9 request: haproxy forwards it as HTTP/1.0 in lax mode',
    'version-garbage@lax': 'accept-invalid-http-request: haproxy forwards an invalid version as HTTP/1.1',
    'reqline-tab@strict': 'haproxy accepts tabs as request-line separators',
    'reqline-tab@lax': 'haproxy accepts tabs as request-line separators',
    'uri-del-char@strict': 'haproxy forwards DEL (0x7f) in the URI',
    'uri-del-char@lax': 'haproxy forwards DEL (0x7f) in the URI',
    'method-bad-char@lax': "haproxy refuses '(' in a method even in lax mode; gproxy forwards it",
    'mode-kal_beclose-two': 'httpclose only in the backend: haproxy keeps the client side alive, gproxy closes it',
    'mode-kal_beclose-http10-ka': 'httpclose only in the backend: haproxy keeps the client side alive, gproxy closes it',
}
for _sid, _what in KNOWN_GAPS.items():
    DELIBERATE[_sid] = Deliberate(reason=f"known gap: {_what}", xfail=f"known gap (not deliberate): {_what}")
