"""Parse a configuration text the way ``gproxy -c`` does, for unit tests of keywords:
the model and the messages as ``level: text`` (without the program prefix)."""

from __future__ import annotations

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
