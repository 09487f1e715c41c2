"""Shared pytest fixtures for gproxy's tests (harness in ``tests/helpers.py``).

Fixtures:

* ``proxy`` -- factory: ``proxy(cfg_text, wait_ports=[...], extra_args=(),
  env=None)`` starts a ``helpers.Proxy`` in the test's ``tmp_path``; every
  proxy started is stopped at teardown and its stderr/stdout printed there
  (pytest shows that output for failing tests).
* ``syslog`` -- a ``helpers.SyslogReceiver`` (``.port``, ``.lines``,
  ``.wait_line``); its lines are printed at teardown.
* ``mariadb`` -- session-scoped private ``mariadbd`` (``helpers.MariaDB``)
  listening on 127.0.0.1 and on 127.0.0.11-13 (same port), with user
  ``gproxy`` and database ``gproxy_test``.  Needs the Debian package
  ``mariadb-server`` and PyPI ``pymysql``.

The proxy under test is gproxy unless ``GPROXY_TEST_PROXY=haproxy``.
"""

from __future__ import annotations

import helpers
import pytest


def pytest_report_header(config):
    try:
        return f"proxy under test: {helpers.proxy_flavour()} ({' '.join(helpers.proxy_cmd())})"
    except RuntimeError as exc:
        return f"proxy under test: ERROR {exc}"


@pytest.fixture
def proxy(tmp_path):
    started: list[helpers.Proxy] = []

    def start(cfg_text, wait_ports=(), extra_args=(), env=None, **kw):
        p = helpers.Proxy(cfg_text, tmp_path, extra_args=extra_args,
                          wait_ports=wait_ports, env=env, **kw)
        started.append(p)
        return p

    yield start
    errors = []
    for p in reversed(started):
        try:
            code = p.stop()
        except Exception as exc:  # noqa: BLE001 - keep cleaning up the others
            errors.append(exc)
            code = "?"
        print(f"--- {p!r} exit={code} stderr ---\n{p.stderr()}")
        out = p.stdout()
        if out:
            print(f"--- {p!r} stdout ---\n{out}")
    if errors:
        raise errors[0]


@pytest.fixture
def syslog():
    receiver = helpers.SyslogReceiver()
    yield receiver
    receiver.stop()
    print(f"--- syslog 127.0.0.1:{receiver.port} ({len(receiver.lines)} lines) ---")
    for line in receiver.lines:
        print(line)


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    try:
        import pymysql  # noqa: F401
    except ImportError:
        pytest.fail("the mariadb fixture needs PyMySQL: pip install pymysql")
    server = helpers.MariaDB(tmp_path_factory.mktemp("mariadb"),
                             hosts=("127.0.0.1", *helpers.MARIADB_NODE_HOSTS))
    server.start()
    try:
        yield server
    finally:
        server.stop()
