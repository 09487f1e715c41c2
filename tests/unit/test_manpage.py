"""The committed man pages are exactly what the usage text and keyword registries generate."""

import os

from gproxy import manpage

MAN = os.path.join(os.path.dirname(__file__), "..", "..", "man")


def read(name: str) -> str:
    with open(os.path.join(MAN, name)) as f:
        return f.read()


def test_gproxy_1_matches_usage_text() -> None:
    assert read("gproxy.1") == manpage.gproxy_1(), "run: python3 -m gproxy.manpage man"


def test_gproxy_cfg_5_matches_registries() -> None:
    text = manpage.gproxy_cfg_5()
    assert read("gproxy.cfg.5") == text, "run: python3 -m gproxy.manpage man"
    for word in ("balance", "timeout connect", "option httpchk", "inter", "accept-proxy"):
        assert f"\\fB{word.replace('-', chr(92) + '-')}\\fR" in text


def test_help_lists_every_option_docopt_parses() -> None:
    from gproxy.cli import USAGE, parse_args

    opts = parse_args(["-c", "-f", "x.cfg", "-sf", "12", "13", "-dW"])
    assert opts["-c"] and opts["files"] == ["x.cfg"] and opts["-sf"] == ["12", "13"] and opts["-dW"]
    for flag in ("-sf", "-st", "-db", "-vv", "-dK", "-f", "-p", "-q", "-D"):
        assert f"  {flag} " in USAGE


def test_every_package_directory_is_installable() -> None:
    # a non-editable `pip install .` only ships directories with an __init__.py
    root = os.path.join(os.path.dirname(__file__), "..", "..", "gproxy")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        if any(f.endswith(".py") for f in filenames):
            assert "__init__.py" in filenames, f"{dirpath} lacks __init__.py"
