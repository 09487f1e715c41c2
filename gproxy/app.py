"""Start-up sequence for one invocation: load, report, check-only exit codes, build, run.

Owns the order HAProxy follows and its exit codes: 1 for fatal configuration errors or a
failed bind, 2 for a valid configuration without any listener, 0 otherwise.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from . import __version__
from .diag import Diagnostics, line_prefix

NO_LISTENER = "Configuration file has no error but will not start (no listener) => exit(2)."


def _emit(diag: Diagnostics, quiet: bool) -> None:
    if quiet or not diag.messages:
        return
    sys.stderr.write(line_prefix("NOTICE") + f"gproxy version is {__version__}\n")
    sys.stderr.write(line_prefix("NOTICE") + f"path to executable is {os.path.abspath(sys.argv[0])}\n")
    diag.emit(sys.stderr)


def run(opts: dict[str, Any]) -> int:
    from . import config

    quiet = bool(opts.get("-q"))
    files = opts["files"]
    if not files:
        sys.stderr.write(line_prefix("ALERT") + "No configuration file specified.\n")
        return 1
    model, diag = config.load(files)
    if not model.files and not diag.fatal:  # -f named only empty directories: HAProxy prints its usage
        from .cli import USAGE

        sys.stderr.write(USAGE)
        return 1
    quiet = quiet or bool(model.glob.tune.get("quiet"))  # global 'quiet' = -q
    if opts.get("-n"):
        model.glob.maxconn = int(opts["-n"])
    if opts.get("-N"):
        for p in model.proxies:
            if p.kind in ("frontend", "listen") and not p.maxconn:
                p.maxconn = int(opts["-N"])
    if diag.fatal:
        for f in diag.files_with_errors:
            diag.messages.append(_config_alert(f"Error(s) found in configuration file : {f}"))
        if getattr(diag, "addr_failed", False):  # srv_init_addr() failed: HAProxy's own last line
            diag.messages.append(_config_alert("Failed to initialize server(s) addr."))
        elif not getattr(diag, "aborted", False):  # HAProxy stops without the summary after ERR_ABORT
            diag.messages.append(_config_alert("Fatal errors found in configuration."))
        _emit(diag, quiet)
        return 1
    if (opts.get("-dW") or model.glob.tune.get("zero-warning")) and diag.warnings:
        diag.messages.append(_config_alert("Some warnings were found and 'zero-warning' is set. Aborting."))
        _emit(diag, quiet)
        return 1
    has_listener = any(p.binds and not p.disabled for p in model.proxies if p.kind in ("frontend", "listen"))
    if opts.get("-c"):
        _emit(diag, quiet)
        if not quiet:
            if diag.warnings:
                sys.stdout.write("Warnings were found.\n")
            if has_listener:
                sys.stdout.write("Configuration file is valid\n")
            else:
                sys.stdout.write(NO_LISTENER + "\n")
        return 0 if has_listener else 2
    if not has_listener:
        diag.messages.append(_config_alert(NO_LISTENER))
        _emit(diag, quiet)
        return 2
    _emit(diag, quiet)
    from .master import Master
    from .runtime import build

    process = build(model, diag, quiet=quiet)
    process.debug = bool(opts.get("-d"))
    return Master(process, opts).run()


def _config_alert(text: str) -> Any:
    from .diag import ALERT, Message

    return Message(ALERT, text)
