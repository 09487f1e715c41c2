"""Command line: HAProxy's flags, parsed with docopt from the one usage text below.

The usage text is written with HAProxy's spellings (``-sf``, ``-st``, ``-db``, ``-vv``,
``-dK``); ``docopt_form`` rewrites those two-letter flags into long options both in the
text and in argv, so docopt parses what the user reads.  The man page is generated from
this same text (``gproxy.manpage``).
"""

from __future__ import annotations

import os
import platform
import re
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from . import __version__

USAGE = """\
gproxy: an HAProxy-compatible TCP/HTTP load balancer in Python.

Usage:
  gproxy [options] [-f <cfgfile>]... [-sf <pid>...] [-st <pid>...] [-- <cfgfile>...]
  gproxy -v | -vv
  gproxy -h

Options:
  -f <cfgfile>      Read configuration from a file, or from every *.cfg in a directory
                    (repeatable; files are read in order).
  -C <dir>          Change to this directory before loading files.
  -c                Check the configuration only and exit: 0 valid, 1 errors,
                    2 valid but no listener.
  -cc <cond>        Evaluate a .if condition: exit 0 true, 1 false, 2 error.
  -d                Debug mode: stay in foreground and print events.
  -db               Disable background mode (stay in foreground).
  -D                Daemon mode: fork into the background.
  -p <pidfile>      Write the process id to <pidfile>.
  -q                Quiet mode: no messages at startup.
  -V                Verbose mode (accepted).
  -v                Print the version and exit.
  -vv               Print the version, Python and dependency versions and exit.
  -sf <pid>...      Once listening, ask these pids to finish (SIGUSR1, soft stop).
  -st <pid>...      Once listening, terminate these pids (SIGTERM).
  -n <maxconn>      Global maxconn (overrides 'maxconn' in global).
  -N <maxconn>      Default per-proxy maxconn.
  -dK <class>       Dump the registered keywords of <class> (all, cfg) and exit.
  -dW               Zero-warning mode: warnings are fatal.
  -W                Master-worker mode (accepted; gproxy runs one process).
  -Ws               Master-worker mode with systemd notify (accepted).
  -x <socket>       Get listening sockets from an old process (accepted, unused).
  -L <name>         Local peer name (accepted).
  -S <bind>         Master CLI (accepted, unused).
  -h --help         Show this help.
"""

# HAProxy's two-letter flags and their docopt spellings
_TWO_LETTER = ("-sf", "-st", "-db", "-vv", "-dK", "-dW", "-cc", "-Ws")


def docopt_form(token: str) -> str:
    for flag in _TWO_LETTER:
        if token == flag or token.startswith((flag + " ", flag + "\t")):
            return "-" + token
    return token


def usage_for_docopt() -> str:
    out = []
    for line in USAGE.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("-") and not line.startswith("  gproxy"):
            indent = line[: len(line) - len(stripped)]
            line = indent + docopt_form(stripped)
        elif line.startswith("  gproxy"):
            line = re.sub(r"(?<=[\s\[|])(-(?:sf|st|db|vv|dK|dW|cc|Ws))\b", r"-\1", line)
        out.append(line)
    return "\n".join(out) + "\n"


def rewrite_argv(argv: list[str]) -> list[str]:
    """HAProxy argv -> docopt argv: ``-sf 1 2`` -> ``--sf 1 --sf 2``; ``-dKall`` -> ``--dK all``."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-sf", "-st"):
            i += 1
            while i < len(argv) and not argv[i].startswith("-"):
                out += ["-" + a, argv[i]]
                i += 1
            continue
        if a.startswith("-dK"):
            out += ["--dK", a[3:] or "help"]
        elif a in _TWO_LETTER:
            out.append("-" + a)
        else:
            out.append(a)
        i += 1
    return out


def parse_args(argv: list[str]) -> dict[str, Any]:
    from docopt import DocoptExit, docopt

    try:
        raw = docopt(usage_for_docopt(), argv=rewrite_argv(argv), default_help=False, version=None)
    except DocoptExit:
        sys.stderr.write(USAGE)
        raise SystemExit(1) from None
    opts: dict[str, Any] = {}
    for k, v in raw.items():
        key = k[1:] if k.startswith("--") and k[2:] in {f[1:] for f in _TWO_LETTER} else k
        opts[key] = v
    files = list(opts.get("-f") or []) + list(opts.get("<cfgfile>") or [])
    opts["files"] = files
    return opts


def version_text(verbose: bool = False) -> str:
    lines = [f"gproxy version {__version__} - HAProxy 2.6 compatible configuration",
             f"Running on: {platform.system()} {platform.release()} {platform.machine()}"]
    if verbose:
        lines.append(f"Python: {sys.version.split()[0]} ({platform.python_implementation()})")
        for mod in ("gevent", "docopt", "prometheus_client", "cryptography", "httptools"):
            try:
                dist = {"docopt": "docopt-ng", "prometheus_client": "prometheus-client"}.get(mod, mod)
                lines.append(f"{mod}: {version(dist)}")
            except PackageNotFoundError:
                lines.append(f"{mod}: not installed")
        from .config import FEATURES

        lines.append("Feature list : " + " ".join("+" + f for f in FEATURES))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        sys.stderr.write(USAGE)
        return 1
    opts = parse_args(argv)
    if opts.get("-h") or opts.get("--help"):
        sys.stdout.write(USAGE)
        return 0
    if opts.get("-v") or opts.get("-vv"):
        sys.stdout.write(version_text(bool(opts.get("-vv"))))
        return 0
    if opts.get("-C"):
        os.chdir(opts["-C"])
    if opts.get("-dK"):
        from . import config, registry

        config.import_keyword_modules()
        sys.stdout.write("\n".join(registry.dump()) + "\n")
        return 0
    if opts.get("-cc"):
        from .config import FEATURES, cond

        return cond.eval_cli(opts["-cc"], features=FEATURES)
    from .app import run

    return run(opts)
