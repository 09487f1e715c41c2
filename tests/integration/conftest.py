"""Fixtures of the integration tests.

* ``backend`` -- an ``httpkit.RawBackend`` on 127.0.0.1 answering ``200 ok`` (a test
  file that needs other answers defines its own ``backend``), stopped at teardown.
"""

from __future__ import annotations

import pytest

from integration.httpkit import RawBackend


@pytest.fixture
def backend():
    b = RawBackend()
    yield b
    b.stop()
