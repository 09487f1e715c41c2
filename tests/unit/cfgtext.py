"""Parse a configuration text the way ``gproxy -c`` does, for unit tests of keywords:
the model and the messages as ``level: text`` (without the program prefix)."""

from __future__ import annotations

import re

from gproxy.config import import_keyword_modules
from gproxy.config.model import Model
from gproxy.config.parser import Parser
from gproxy.config.validate import validate

import_keyword_modules()

#: a mode http defaults section with the timeouts (no warnings about them)
HTTP_HEAD = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"


def parse(text: str, check: bool = False) -> tuple[Model, list[str]]:
    """``check``: also run the post-parse checks (when the parse had no fatal error)."""
    p = Parser()
    p.parse_text(text, "t.cfg")
    if check and not p.diag.fatal:
        validate(p.model, p.diag)
    return p.model, [f"{m.level}: {m.render(pid=0).split(' : config : ', 1)[1]}" for m in p.diag.messages]


def message(m: object) -> str:
    """``LEVEL: text`` as printed, without the usual ``parsing [file:line] : `` (other
    spellings of the location, e.g. ``parsing [file:line]:``, are kept)."""
    body = m.render(0).split(" : ", 1)[1]  # type: ignore[attr-defined]
    body = body.removeprefix("config : ")
    return f"{m.level}: " + re.sub(r"^parsing \[t\.cfg:\d+\] : ", "", body)  # type: ignore[attr-defined]


def parse_checked(text: str) -> tuple[Model, list[str]]:
    """The model after the post-parse checks, and the messages as ``message()`` gives them."""
    p = Parser()
    p.parse_text(text, "t.cfg")
    if not p.diag.fatal:
        validate(p.model, p.diag)
    return p.model, [message(m) for m in p.diag.messages]
