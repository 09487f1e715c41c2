"""``gproxy -c`` against ``haproxy -c``: same exit code, same ALERT/WARNING lines.

1. A differential run over the corpus in ``tests/configs``: every ``good/*.cfg``,
   ``bad/*.cfg`` and ``good/*.d`` directory is checked by both programs (from inside
   ``tests/configs``, so both print the same relative paths).  A first comment line may
   carry ``# args: <extra arguments> ; <description>``; the extra arguments come after
   ``-f <file>`` (``-dW``, ``-q`` or more ``-f`` files, relative to ``tests/configs``).
   Exit codes, stdout and the stderr lines (``[NOTICE]`` lines dropped, pids masked) must
   be identical, except for the files in ``DELIBERATE``.
2. The example configurations in ``contrib/examples`` pass both checks.
3. Exit codes and the fixed sentences of ``-c`` (valid, no listener, fatal errors,
   unreadable file, several ``-f`` and a directory).
4. Every gproxy ALERT for a ``bad/`` file names its file:line or is one of HAProxy's
   file-less forms (cross-section checks, summaries).

HAProxy facts these tests pin down (2.6.12 as packaged by Debian):

* Some errors are ERR_ABORT (every ``.if`` error, ``.alert``, a proxy without a name, a
  ``from`` naming no defaults section, a missing ``-f`` file): HAProxy stops right there,
  reads no other file and prints no ``Fatal errors found in configuration.``.
* ``Error(s) found in configuration file : <f>`` follows each file with fatal errors;
  checks made after parsing (unknown backends, duplicate server names, ...) never get it.
* readcfgfile() spells its own messages ``parsing [f:N]: `` (no space before the colon),
  server lines ``[f:N] : 'server px/name' : ``, duplicate proxy names ``Parsing [f:N]: ``.
* A ``-f`` path that does not exist: ``Cannot open configuration file/directory <f> :
  No such file or directory`` before anything is read; one that exists but cannot be
  opened: ``Could not open configuration file <f> : <strerror>``.
* Numbers of ``maxconn``, ``backlog``, ``fullconn``, ``retries`` and of server
  ``maxconn``/``maxqueue``/``minconn`` are read with atol(): ``abc`` is 0, no error.

Needs /usr/sbin/haproxy (Debian package ``haproxy``); skipped without it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "tests" / "configs"
EXAMPLES = REPO / "contrib" / "examples"
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(HAPROXY is None, reason="needs haproxy (apt-get install haproxy)"),
]

#: corpus files where gproxy differs from HAProxy on purpose.  For these only the exit code
#: class is compared (or gproxy's own exit code when the value is ``(reason, code)``), and
#: every HAProxy ALERT that names a file:line must have a gproxy line at that file:line.
DELIBERATE: dict[str, str | tuple[str, int]] = {
    "bad/server_missing_value.cfg": (
        (
            "HAProxy reads 'weight' with atol(), so a missing weight silently becomes 0 and the server "
            "never gets traffic; gproxy refuses it"
        ),
        1,
    ),
    "bad/server_weight_garbage.cfg": (
        "HAProxy reads 'weight abc' as 0 (the server silently never gets traffic); gproxy refuses it",
        1,
    ),
    "bad/unimplemented_keywords.cfg": (
        "HAProxy keywords gproxy does not implement yet are skipped with a warning "
        "('... is not implemented by gproxy yet and is ignored.'), HAProxy acts on them"
    ),
    "bad/unsupported_sections.cfg": (
        "a section gproxy does not parse yet (peers) is skipped with gproxy's own warning; "
        "HAProxy warns about the incomplete peers section instead"
    ),
    "bad/global_threads.cfg": (
        "gproxy runs one event loop: 'nbthread' > 1 and 'cpu-map' get a warning, HAProxy uses them silently"
    ),
    "bad/lex_empty_arg.cfg": (
        "an empty word ends HAProxy 2.6's argument list silently (the rest of the line is ignored); "
        "gproxy warns, as HAProxy 3.2+ refuses such lines"
    ),
    "bad/legacy_reqadd.cfg": (
        (
            "gproxy translates the req*/rsp* directives HAProxy 2.1 removed (gproxy.http.legacy) and warns "
            "at the same line instead of refusing them"
        ),
        0,
    ),
    "bad/legacy_reqdeny.cfg": ("gproxy emulates the removed 'reqdeny' with a warning (gproxy.http.legacy)", 0),
    "bad/legacy_rspdel.cfg": ("gproxy translates the removed 'rspdel' with a warning (gproxy.http.legacy)", 0),
}

#: Parity that needs gproxy/app.py to follow what the parser records (the parser sets
#: ``diag.aborted`` / ``diag.addr_failed`` and ``glob.tune['zero-warning'/'quiet']``;
#: app.py must then skip the 'Fatal errors found' line, print 'Failed to initialize
#: server(s) addr.', honour global 'zero-warning' and 'quiet' and print the usage for an
#: empty -f directory).  Each entry xfails until app.py shows the marker; then it is an
#: ordinary strict test.
_APP_PY = (REPO / "gproxy" / "app.py").read_text()
NEEDS_APP: dict[str, str] = {
    "abort": '"aborted"',
    "addr": '"addr_failed"',
    "zero-warning": '"zero-warning"',
    "quiet": 'tune.get("quiet")',
    "usage": "USAGE",
}
PENDING_APP: dict[str, str] = {
    **{
        f"bad/{name}.cfg": "abort"
        for name in (
            "abort_skips_next_file", "backend_no_name", "defaults_from_bad_name", "from_unknown", "if_alert",
            "if_bad_cond", "if_bad_elif", "if_elif_after_else", "if_else_arg", "if_else_twice", "if_endif_arg",
            "if_lone_elif", "if_lone_else", "if_lone_endif", "if_nested_too_deep", "if_unterminated", "missing_file",
            "section_no_name",
        )
    },
    "bad/global_zero_warning.cfg": "zero-warning",
    "bad/global_quiet.cfg": "quiet",
    "bad/server_bad_address.cfg": "addr",
}


def pending_app(feature: str) -> None:
    if NEEDS_APP[feature] not in _APP_PY:
        pytest.xfail(f"needs gproxy/app.py support for {feature!r} (see PENDING_APP)")


#: masks the pid: "[ALERT]    (1234) : " -> "[ALERT]    (PID) : "
_PID = re.compile(r"^(\[[A-Z]+\]\s+)\(\d+\)")
_WHERE = re.compile(r"\[([^\[\]\s]+:\d+)\]")


def _gproxy_cmd() -> list[str]:
    return [sys.executable, str(REPO / "gproxy.py")]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPX_CORPUS_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.setdefault("HOME", "/root")
    return env


class Result:
    """Exit code, stdout and the normalised stderr lines of one ``-c`` run."""

    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        lines = [_PID.sub(r"\1(PID)", line) for line in proc.stderr.splitlines()]
        self.lines = [line for line in lines if not line.startswith("[NOTICE]")]

    def where(self, level: str) -> list[str]:
        """file:line of every line of this level (ALERT / WARNING)."""
        return [m.group(1) for line in self.lines if line.startswith(f"[{level}]") for m in [_WHERE.search(line)] if m]

    def __repr__(self) -> str:
        body = "\n".join(self.lines)
        return f"exit {self.code}\n--- stderr ---\n{body}\n--- stdout ---\n{self.stdout}"


def check(cmd: list[str], args: list[str], cwd: Path = CONFIGS, timeout: int = 30) -> Result:
    proc = subprocess.run([*cmd, "-c", *args], cwd=str(cwd), env=_env(), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    return Result(proc)


def haproxy_check(args: list[str], cwd: Path = CONFIGS) -> Result:
    assert HAPROXY is not None
    return check([HAPROXY], args, cwd)


def gproxy_check(args: list[str], cwd: Path = CONFIGS) -> Result:
    return check(_gproxy_cmd(), args, cwd)


# ------------------------------------------------------------------ 1. the corpus
def corpus() -> list[str]:
    """Corpus entries as paths relative to tests/configs."""
    items = sorted(str(p.relative_to(CONFIGS)) for kind in ("good", "bad") for p in (CONFIGS / kind).glob("*.cfg"))
    items += sorted(str(p.relative_to(CONFIGS)) for p in (CONFIGS / "good").glob("*.d") if p.is_dir())
    return items


def entry_args(entry: str) -> list[str]:
    """``-f <entry>`` then the ``# args:`` of its first line, if any."""
    path = CONFIGS / entry
    args = ["-f", entry]
    if path.is_file():
        with open(path, "rb") as f:
            first = f.readline().decode("latin-1")
        if first.startswith("#") and "args:" in first:
            args += first.split("args:", 1)[1].split(";", 1)[0].split()
    return args


_RESULTS: dict[str, tuple[Result, Result]] = {}


def results(entry: str) -> tuple[Result, Result]:
    """(haproxy, gproxy) results; the whole corpus is run once, in parallel, on first use."""
    if not _RESULTS:
        entries = corpus()

        def both(e: str) -> tuple[str, tuple[Result, Result]]:
            return e, (haproxy_check(entry_args(e)), gproxy_check(entry_args(e)))

        with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) * 2)) as pool:
            _RESULTS.update(pool.map(both, entries))
    return _RESULTS[entry]


def exit_class(code: int) -> int:
    return code if code in (0, 1, 2) else -1


def test_corpus_size():
    entries = corpus()
    bad = [e for e in entries if e.startswith("bad/")]
    good = [e for e in entries if e.startswith("good/")]
    assert len(bad) >= 40 and len(good) >= 15, (len(bad), len(good))
    for entry in DELIBERATE:
        assert entry in entries, f"DELIBERATE lists {entry}, which is not in the corpus"


def test_corpus_files_say_what_they_exercise():
    for entry in corpus():
        path = CONFIGS / entry
        files = sorted(path.glob("*.cfg")) if path.is_dir() else [path]
        for f in files:
            with open(f, "rb") as fh:
                first = fh.readline().decode("latin-1")
            assert first.startswith("# ") and len(first.strip()) > 10, f"{f}: first line must say what it exercises"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("entry", corpus())
def test_corpus_same_as_haproxy(entry):
    hap, gpx = results(entry)
    if entry.startswith("good/"):
        assert hap.code == 0, f"good config refused by haproxy: {hap!r}"
        assert not hap.where("ALERT"), f"good config with haproxy alerts: {hap!r}"
    deliberate = DELIBERATE.get(entry)
    if deliberate is None:
        if entry in PENDING_APP and (gpx.code, gpx.lines, gpx.stdout) != (hap.code, hap.lines, hap.stdout):
            pending_app(PENDING_APP[entry])
        assert (gpx.code, gpx.lines, gpx.stdout) == (hap.code, hap.lines, hap.stdout), (
            f"\n=== haproxy: {hap!r}\n=== gproxy: {gpx!r}"
        )
        return
    expected = deliberate[1] if isinstance(deliberate, tuple) else exit_class(hap.code)
    assert exit_class(gpx.code) == expected, f"\n=== haproxy: {hap!r}\n=== gproxy: {gpx!r}"
    gwhere = set(gpx.where("ALERT")) | set(gpx.where("WARNING"))
    for where in hap.where("ALERT"):
        assert where in gwhere, f"haproxy alerts at {where}, gproxy says nothing there\n{hap!r}\n{gpx!r}"


#: the alerts HAProxy prints without a file:line (cross-section checks and summaries)
FILELESS_ALERTS = re.compile(
    r"Proxy '[^']*': (unable to find required|loop detected)|tries to use incompatible|"
    r"Proxy '[^']*': (unable to find (stick-table|store table|sync peers) '|type of fetch not usable with)|"
    r"Proxy '[^']*': (unable to find table '[^']*' referenced by track-sc|stick-table '[^']*' uses a type "
    r"incompatible with the 'track-sc)|^multiple argument resolution errors:$|"  # check_trk_action(), smp_resolve_args()
    r"^Error\(s\) found in configuration file : |^Fatal errors found in configuration\.$|"
    r"^Cannot open configuration file|^Failed to initialize server\(s\) addr\.$|"
    r"^Some warnings were found and 'zero-warning' is set\. Aborting\.$|"
    r"^h1-headers-case-adjust-file '|"  # the post-parser reading h1-case-adjust-file
    r"^config: (backend|proxy) '[^']*': server '[^']*' has neither service port|"  # init_srv_check()
    r"^[Pp]roxy '[^']*': unknown http-errors section '|"  # proxy_check_errors(), http_check_http_reply()
    r"^(frontend|backend|proxy) '[^']*' : unable to find server '[^']*' referenced in a 'use-server' rule\.$|"
    r"^Refusing to use duplicated server '"  # check_config_validity() on use-server targets, findserver()
)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("entry", [e for e in corpus() if e.startswith("bad/")])
def test_every_gproxy_alert_says_where(entry):
    """Each gproxy ALERT names its file:line, or is one of HAProxy's file-less forms; and an
    exit code of 0 comes only with non-fatal alerts HAProxy prints the same way."""
    hap, gpx = results(entry)
    for line in gpx.lines:
        if not line.startswith("[ALERT]"):
            continue
        text = line.split(" : ", 2)[-1] if line.count(" : ") >= 2 else line
        assert _WHERE.search(line) or FILELESS_ALERTS.search(text), f"alert without file:line: {line}"
        if gpx.code == 0:
            assert line in hap.lines, f"gproxy exits 0 after an alert haproxy does not print: {line}"


# ------------------------------------------------------------------ 2. shipped examples
@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.cfg")))
def test_examples_pass_both(example):
    args = ["-f", str(EXAMPLES / example)]
    hap, gpx = haproxy_check(args), gproxy_check(args)
    assert hap.code == 0, repr(hap)
    assert gpx.code == 0, repr(gpx)
    assert gpx.stdout.splitlines()[-1] == "Configuration file is valid"
    assert gpx.lines == hap.lines


# ------------------------------------------------------------------ 3. exit codes and sentences
VALID = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s

listen app
    bind 127.0.0.1:18080
    server s1 127.0.0.1:18081
"""


def both_checks(tmp_path: Path, *args: str) -> tuple[Result, Result]:
    return haproxy_check(list(args), tmp_path), gproxy_check(list(args), tmp_path)


def test_valid_exit_0(tmp_path):
    (tmp_path / "ok.cfg").write_text(VALID)
    hap, gpx = both_checks(tmp_path, "-f", "ok.cfg")
    assert (hap.code, hap.stdout, hap.lines) == (0, "Configuration file is valid\n", [])
    assert (gpx.code, gpx.stdout, gpx.lines) == (hap.code, hap.stdout, hap.lines)


def test_warnings_keep_exit_0_and_say_so(tmp_path):
    (tmp_path / "w.cfg").write_text("listen app\n    bind 127.0.0.1:18080\n    server s1 127.0.0.1:18081\n")
    hap, gpx = both_checks(tmp_path, "-f", "w.cfg")
    assert hap.code == 0 and hap.stdout == "Warnings were found.\nConfiguration file is valid\n"
    assert (gpx.code, gpx.stdout, gpx.lines) == (hap.code, hap.stdout, hap.lines)


def test_no_listener_exit_2(tmp_path):
    (tmp_path / "nl.cfg").write_text(VALID.replace("listen app\n    bind 127.0.0.1:18080\n", "backend app\n"))
    hap, gpx = both_checks(tmp_path, "-f", "nl.cfg")
    assert hap.code == 2
    assert hap.stdout == "Configuration file has no error but will not start (no listener) => exit(2).\n"
    assert (gpx.code, gpx.stdout, gpx.lines) == (hap.code, hap.stdout, hap.lines)


def test_fatal_errors_exit_1(tmp_path):
    (tmp_path / "bad.cfg").write_text(VALID + "    frobnicate\n")
    hap, gpx = both_checks(tmp_path, "-f", "bad.cfg")
    assert hap.code == 1 and hap.stdout == ""
    assert hap.lines[-2:] == [
        "[ALERT]    (PID) : config : Error(s) found in configuration file : bad.cfg",
        "[ALERT]    (PID) : config : Fatal errors found in configuration.",
    ]
    assert (gpx.code, gpx.stdout, gpx.lines) == (hap.code, hap.stdout, hap.lines)


def test_unreadable_file_exit_1(tmp_path):
    hap, gpx = both_checks(tmp_path, "-f", "nonexistent.cfg")
    assert hap.code == 1
    assert hap.lines == [
        "[ALERT]    (PID) : config : Cannot open configuration file/directory nonexistent.cfg : No such file or directory"
    ]
    pending_app("abort")
    assert (gpx.code, gpx.stdout, gpx.lines) == (hap.code, hap.stdout, hap.lines)


def test_unopenable_file_exit_1(tmp_path):
    # stat() works but fopen() fails (a unix socket here; as root, modes do not stop reads)
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.cfg"))
        hap, gpx = both_checks(tmp_path, "-f", "sock.cfg")
    assert hap.code == 1
    assert hap.lines == ["[ALERT]    (PID) : config : Could not open configuration file sock.cfg : No such device or address"]
    pending_app("abort")
    assert (gpx.code, gpx.stdout, gpx.lines) == (hap.code, hap.stdout, hap.lines)


def test_missing_file_stops_before_reading_others(tmp_path):
    (tmp_path / "bad.cfg").write_text(VALID + "    frobnicate\n")
    hap, gpx = both_checks(tmp_path, "-f", "bad.cfg", "-f", "nonexistent.cfg")
    assert hap.code == 1 and len(hap.lines) == 1 and "nonexistent.cfg" in hap.lines[0]
    pending_app("abort")
    assert (gpx.code, gpx.lines) == (hap.code, hap.lines)


def test_quiet_reports_only_through_exit_code(tmp_path):
    (tmp_path / "bad.cfg").write_text(VALID + "    frobnicate\n")
    (tmp_path / "ok.cfg").write_text(VALID)
    for name, code in (("bad.cfg", 1), ("ok.cfg", 0)):
        hap, gpx = both_checks(tmp_path, "-q", "-f", name)
        assert (hap.code, hap.stdout, hap.stderr) == (code, "", "")
        assert (gpx.code, gpx.stdout, gpx.stderr) == (hap.code, hap.stdout, hap.stderr)


def test_zero_warning_exit_1(tmp_path):
    (tmp_path / "w.cfg").write_text("listen app\n    bind 127.0.0.1:18080\n    server s1 127.0.0.1:18081\n")
    hap, gpx = both_checks(tmp_path, "-dW", "-f", "w.cfg")
    assert hap.code == 1
    assert hap.lines[-1] == "[ALERT]    (PID) : config : Some warnings were found and 'zero-warning' is set. Aborting."
    assert (gpx.code, gpx.stdout, gpx.lines) == (hap.code, hap.stdout, hap.lines)


def test_several_files_in_order(tmp_path):
    # the second file uses the defaults of the first; errors are listed file by file
    (tmp_path / "a.cfg").write_text(VALID.split("listen")[0] + "frontend fe\n    bind 127.0.0.1:18080\n"
                                    "    default_backend be\n    bogus1\n")
    (tmp_path / "b.cfg").write_text("backend be\n    server s1 127.0.0.1:18081\n    bogus2\n")
    hap, gpx = both_checks(tmp_path, "-f", "a.cfg", "-f", "b.cfg")
    assert hap.code == 1
    assert [line.split(" : ", 2)[-1] for line in hap.lines] == [
        "parsing [a.cfg:10] : unknown keyword 'bogus1' in 'frontend' section",
        "Error(s) found in configuration file : a.cfg",
        "parsing [b.cfg:3] : unknown keyword 'bogus2' in 'backend' section",
        "Error(s) found in configuration file : b.cfg",
        "Fatal errors found in configuration.",
    ]
    assert (gpx.code, gpx.lines) == (hap.code, hap.lines)
    (tmp_path / "a.cfg").write_text((tmp_path / "a.cfg").read_text().replace("    bogus1\n", ""))
    (tmp_path / "b.cfg").write_text((tmp_path / "b.cfg").read_text().replace("    bogus2\n", ""))
    hap, gpx = both_checks(tmp_path, "-f", "a.cfg", "-f", "b.cfg")
    assert hap.code == 0
    assert (gpx.code, gpx.stdout, gpx.lines) == (hap.code, hap.stdout, hap.lines)


def test_directory_reads_cfg_files_in_c_order(tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    (d / "B.cfg").write_text("listen app\n    bind 127.0.0.1:18080\n    server s1 127.0.0.1:18081\n    bogusB\n")
    (d / "a.cfg").write_text(VALID.split("listen")[0] + "    bogusA\n")  # 'a' sorts after 'B' in C order
    (d / ".hidden.cfg").write_text("not a keyword\n")
    (d / "notes.txt").write_text("not a keyword\n")
    hap, gpx = both_checks(tmp_path, "-f", "conf.d")
    assert hap.code == 1
    assert [line.split(" : ", 2)[-1] for line in hap.lines] == [
        "parsing [conf.d/B.cfg:4] : unknown keyword 'bogusB' in 'listen' section",
        "Error(s) found in configuration file : conf.d/B.cfg",
        "parsing [conf.d/a.cfg:7] : unknown keyword 'bogusA' in 'defaults' section",
        "Error(s) found in configuration file : conf.d/a.cfg",
        "Fatal errors found in configuration.",
    ]
    assert (gpx.code, gpx.lines) == (hap.code, hap.lines)


def test_empty_directory_prints_usage_exit_1(tmp_path):
    (tmp_path / "empty.d").mkdir()
    hap, gpx = both_checks(tmp_path, "-f", "empty.d")
    assert hap.code == 1 and "Usage" in hap.stderr
    pending_app("usage")
    assert gpx.code == 1 and "Usage" in gpx.stderr


def test_installed_console_script_if_any(tmp_path):
    exe = shutil.which("gproxy")
    if exe is None:
        pytest.skip("console script 'gproxy' not installed (pip install -e .)")
    (tmp_path / "ok.cfg").write_text(VALID)
    res = check([exe], ["-f", "ok.cfg"], tmp_path)
    assert (res.code, res.stdout) == (0, "Configuration file is valid\n")
