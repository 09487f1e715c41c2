"""Fixtures of the integration tests.

* ``backend`` -- an ``httpkit.RawBackend`` on 127.0.0.1 answering ``200 ok`` (a test
  file that needs other answers defines its own ``backend``), stopped at teardown.
* ``run(flavour, cfg, port)`` -- a ``sidebyside.Running`` gproxy or haproxy in the test's
  tmp_path, stopped at teardown.
* ``servers(*names, http=False)`` -- ``sidebyside.NameServer``s, stopped at teardown.
"""

from __future__ import annotations

import pytest

from integration.httpkit import RawBackend
from integration.sidebyside import NameServer, Running


@pytest.fixture
def backend():
    b = RawBackend()
    yield b
    b.stop()


@pytest.fixture
def run(tmp_path):
    started: list[Running] = []

    def start(flavour: str, cfg: str, port: int) -> Running:
        r = Running(flavour, cfg, tmp_path, port)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


@pytest.fixture
def servers():
    made: list[NameServer] = []

    def make(*names: str, http: bool = False) -> list[NameServer]:
        out = [NameServer(n, http=http) for n in names]
        made.extend(out)
        return out

    yield make
    for s in made:
        s.stop()
