"""Man pages generated from the code's own sources: gproxy.1 from the CLI usage text,
gproxy.cfg.5 from the keyword registries.  ``python3 -m gproxy.manpage [outdir]``.
"""

from __future__ import annotations

import os
import sys

from . import __version__


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("-", "\\-")


def gproxy_1() -> str:
    from .cli import USAGE

    head, _, rest = USAGE.partition("Usage:")
    usage, _, options = rest.partition("Options:")
    out = [f'.TH GPROXY 1 "" "gproxy {__version__}" "User Commands"', ".SH NAME", "gproxy \\- " + _esc(head.split(":", 1)[1].strip())]
    out += [".SH SYNOPSIS", ".nf"] + [_esc(line.strip()) for line in usage.strip().splitlines()] + [".fi"]
    out.append(".SH OPTIONS")
    for line in options.strip("\n").splitlines():
        if line.startswith("  -"):
            flag, _, doc = line.strip().partition("  ")
            out += [".TP", f"\\fB{_esc(flag.strip())}\\fR", _esc(doc.strip())]
        else:
            out.append(_esc(line.strip()))
    out += [".SH SEE ALSO", "gproxy.cfg(5), haproxy(1)"]
    return "\n".join(out) + "\n"


def gproxy_cfg_5() -> str:
    from . import config, registry

    config.import_keyword_modules()
    out = [f'.TH GPROXY.CFG 5 "" "gproxy {__version__}" "File Formats"', ".SH NAME",
           "gproxy.cfg \\- gproxy configuration file (HAProxy syntax)", ".SH DESCRIPTION",
           ("gproxy reads HAProxy configuration files. The keywords below are the ones it implements "
            "or accepts; any other HAProxy keyword is reported as not implemented and skipped.")]
    for reg in registry.REGISTRIES:
        out.append(f".SH {reg.namespace.upper()} KEYWORDS")
        for kw in reg.all():
            out += [".TP", f"\\fB{_esc(kw.name)}\\fR {_esc(kw.usage)}",
                    _esc(f"[{', '.join(kw.sections)}] {kw.doc}{' (ignored)' if kw.ignored else ''}")]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    outdir = argv[0] if argv else "man"
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "gproxy.1"), "w") as f:
        f.write(gproxy_1())
    with open(os.path.join(outdir, "gproxy.cfg.5"), "w") as f:
        f.write(gproxy_cfg_5())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
