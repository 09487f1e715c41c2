"""Fixtures of the differential tests: ``pairs`` starts one haproxy/gproxy pair per
corpus config on first use and keeps it for the whole module (many scenarios per pair),
stopping them all at the end."""

from __future__ import annotations

import pytest

from .corpus import CONFIGS
from .harness import Pair


class Pairs:
    def __init__(self, workdir):
        self.workdir = workdir
        self._pairs: dict[str, Pair] = {}

    def get(self, name: str) -> Pair:
        if name not in self._pairs:
            self._pairs[name] = Pair(CONFIGS[name], self.workdir / name)
        return self._pairs[name]

    def stop(self):
        for pair in self._pairs.values():
            pair.stop()


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    p = Pairs(tmp_path_factory.mktemp("differential"))
    try:
        yield p
    finally:
        p.stop()
