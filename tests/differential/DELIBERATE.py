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
}
for _sid, _what in KNOWN_GAPS.items():
    DELIBERATE[_sid] = Deliberate(reason=f"known gap: {_what}", xfail=f"known gap (not deliberate): {_what}")
