"""Configuration loading: files -> lexer -> .if -> parser -> keyword handlers -> Model -> validate.

``load(paths)`` returns ``(Model, Diagnostics)``; it performs no socket I/O and starts
nothing, so ``-c`` has no side effects and a reload builds from a fresh Model.
"""

from __future__ import annotations

import importlib

from ..diag import Diagnostics
from .model import Model

#: names usable in `.if feature(NAME)` and shown by -vv: only what gproxy really does
#: (no OPENSSL: TLS termination is not implemented; no THREAD/LINUX_SPLICE either)
FEATURES = ("GETADDRINFO", "PROMEX", "TPROXY")

#: modules that register configuration keywords (imported before parsing)
KEYWORD_MODULES = (
    "gproxy.proxy",
    "gproxy.frontend",
    "gproxy.backend",
    "gproxy.listener",
    "gproxy.master",
    "gproxy.lb.keywords",
    "gproxy.check",
    "gproxy.log",
    "gproxy.http.keywords",
    "gproxy.http.errors",
    "gproxy.http.acl",
    "gproxy.http.rules",
    "gproxy.http.legacy",
    "gproxy.http.userlist",
    "gproxy.http.cookie",
    "gproxy.http.uniqueid",
    "gproxy.http.redirect",
    "gproxy.http.monitor",
    "gproxy.stats.keywords",
    "gproxy.stickrules",
    "gproxy.persist",
)


def import_keyword_modules() -> None:
    for name in KEYWORD_MODULES:
        importlib.import_module(name)


def load(paths: list[str], env: dict[str, str] | None = None, diag: Diagnostics | None = None) -> tuple[Model, Diagnostics]:
    from . import validate
    from .parser import Parser, config_files

    import_keyword_modules()
    parser = Parser(diag, env)
    for path in config_files(paths):
        parser.parse_file(path)
    if not parser.diag.fatal:
        validate.validate(parser.model, parser.diag)
    return parser.model, parser.diag
