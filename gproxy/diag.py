"""Diagnostics: HAProxy-style ALERT/WARNING/NOTICE messages, collected then printed.

Owns the message format (``[ALERT]    (pid) : config : parsing [file:line] : msg``) and
the count of fatal errors that decides exit codes.  Pure: it writes only when ``emit`` is
given a stream.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TextIO

ALERT = "ALERT"
WARNING = "WARNING"
NOTICE = "NOTICE"
DIAG = "DIAG"


def label(level: str) -> str:
    """``[ALERT]    `` etc.: the tag padded to 10 characters plus one space, as HAProxy."""
    return f"[{level}]".ljust(10) + " "


def line_prefix(level: str, pid: int | None = None) -> str:
    return f"{label(level)}({pid if pid is not None else os.getpid()}) : "


@dataclass
class Message:
    level: str
    text: str
    file: str | None = None
    line: int | None = None
    context: str = "config"  # 'config' during parsing, '' at run time
    server: str | None = None  # 'be/srv' adds "'server be/srv' : "

    def render(self, pid: int | None = None) -> str:
        out = line_prefix(self.level, pid)
        if self.context:
            out += f"{self.context} : "
        if self.file is not None:
            if self.server is not None:
                out += f"[{self.file}:{self.line}] : 'server {self.server}' : "
            else:
                out += f"parsing [{self.file}:{self.line}] : "
        return out + self.text


@dataclass
class Diagnostics:
    """Collects messages while a configuration is read and checked."""

    messages: list[Message] = field(default_factory=list)
    alerts: int = 0
    warnings: int = 0
    files_with_errors: list[str] = field(default_factory=list)

    def alert(self, text: str, file: str | None = None, line: int | None = None, server: str | None = None) -> None:
        self.messages.append(Message(ALERT, text, file, line, server=server))
        self.alerts += 1
        if file is not None and file not in self.files_with_errors:
            self.files_with_errors.append(file)

    def warning(self, text: str, file: str | None = None, line: int | None = None, server: str | None = None) -> None:
        self.messages.append(Message(WARNING, text, file, line, server=server))
        self.warnings += 1

    def notice(self, text: str, file: str | None = None, line: int | None = None) -> None:
        self.messages.append(Message(NOTICE, text, file, line))

    @property
    def fatal(self) -> bool:
        return self.alerts > 0

    def emit(self, stream: TextIO | None = None, pid: int | None = None) -> None:
        stream = stream or sys.stderr
        for m in self.messages:
            stream.write(m.render(pid) + "\n")
        stream.flush()
