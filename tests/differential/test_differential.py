"""haproxy and gproxy side by side over the corpus (see ``tests/differential/__init__``).

A scenario fails when gproxy's outcome differs from haproxy's on any compared aspect;
the failure shows both outcomes as a unified diff.  Scenarios listed in
``DELIBERATE.DELIBERATE`` compare only the aspects their entry names, and are xfail
only when their entry says so.  ``GPROXY_DIFF_SELFTEST=1`` runs haproxy in both slots.
"""

from __future__ import annotations

import time

import pytest

from .corpus import CONFIGS, EXPECT, SCENARIOS
from .DELIBERATE import DELIBERATE, HAPROXY_CONFIG_REWRITES
from .harness import ASPECTS, compare, diff_text, selftest

pytestmark = pytest.mark.timeout(60)


def _params():
    out = []
    for s in SCENARIOS:
        marks = [pytest.mark.timeout(s.deadline + 30)]
        entry = DELIBERATE.get(s.id)
        if entry is not None and entry.xfail and not selftest():
            marks.append(pytest.mark.xfail(reason=entry.xfail, strict=True))
        out.append(pytest.param(s, id=s.id, marks=marks))
    return out


def _aspects(scenario):
    entry = DELIBERATE.get(scenario.id) or DELIBERATE.get(f"config:{scenario.config}")
    return entry.check if entry is not None else ASPECTS


@pytest.mark.parametrize("scenario", _params())
def test_differential(scenario, pairs):
    pair = pairs.get(scenario.config)
    h, g = pair.run(scenario)
    assert not h.error, f"harness: haproxy side failed: {h.error}"
    if scenario.expect is not None:
        first = next((m.code for m in h.responses if not 100 <= m.code < 200 or m.code == 101), None)
        got = "" if first is None else str(first)
        assert got == scenario.expect, (
            f"corpus: haproxy answered {got or 'nothing'} where the corpus expects "
            f"{scenario.expect or 'nothing'}:\n{h.view()}")
    report = compare(h, g, _aspects(scenario))
    if report:
        if g.error:
            report = g.error.splitlines()[0] + "\n" + report
        entry = DELIBERATE.get(scenario.id)
        why = f"\n(deliberate: {entry.reason}; compared: {', '.join(entry.check)})" if entry else ""
        log = f"\n--- {g.flavour} output during the scenario ---\n{g.log[-4000:]}" if g.log.strip() else ""
        timeline = f"\nclient timeline: {h.flavour} {h.events} / {g.flavour} {g.events}"
        pytest.fail(f"{scenario.id}: {g.flavour} {report}{why}{timeline}{log}", pytrace=False)


CHECKED = [name for name, c in CONFIGS.items() if c.checks]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("config", CHECKED)
def test_health_check_request(config, pairs):
    """The health-check request the servers receive (``option httpchk``)."""
    pair = pairs.get(config)
    views = []
    for side in pair.sides:
        deadline = time.monotonic() + 10
        while not side.backend.checks and time.monotonic() < deadline and not side.proc.error:
            time.sleep(0.05)
        checks = list(side.backend.checks)
        views.append({"check": [[m.start, *[f"{k}: {v}" for k, v in m.headers]] for _, m in checks[:1]],
                      "error": side.proc.error.splitlines()[0] if side.proc.error else ""})
    assert views[0]["check"], "harness: haproxy sent no health check"
    if views[0] != views[1]:
        pytest.fail(diff_text(views[0], views[1], tuple(s.flavour for s in pair.sides)), pytrace=False)


@pytest.mark.timeout(10)
def test_corpus_consistency():
    """DELIBERATE names only known scenarios/configs; rewrites are justified; ids unique."""
    ids = {s.id for s in SCENARIOS}
    assert len(ids) == len(SCENARIOS)
    assert len(SCENARIOS) >= 60
    for key, entry in DELIBERATE.items():
        if key.startswith("config:"):
            assert key[7:] in CONFIGS, key
        else:
            assert key in ids, key
        assert entry.reason and set(entry.check) <= set(ASPECTS), key
    for name in HAPROXY_CONFIG_REWRITES:
        assert f"config:{name}" in DELIBERATE, f"rewrite of config {name} without a DELIBERATE entry"
        assert CONFIGS[name].haproxy_text != CONFIGS[name].text
    for s in SCENARIOS:
        assert s.frontend in CONFIGS[s.config].frontends, s.id
        assert s.expect is not None, f"{s.id}: add haproxy's status code to corpus.EXPECT"
    assert set(EXPECT) <= ids, set(EXPECT) - ids
