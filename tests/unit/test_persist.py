"""``use-server`` / ``force-persist`` / ``ignore-persist`` without sockets: the parsed
rules, the runtime objects and the choice (process_server_rules() and the persist_rules
loop of HAProxy 2.6's stream.c), and the force flag of stick matches."""

from __future__ import annotations

from pathlib import Path

from gproxy import persist, runtime
from gproxy.config import load
from gproxy.tcp import _redispatch

CFG = """\
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s

backend plain
    server s1 127.0.0.1:9001

backend be
    force-persist if FALSE
    ignore-persist if TRUE
    force-persist if TRUE
    use-server s2 if FALSE
    use-server sd if TRUE
    use-server %[str(s3)] if TRUE
    use-server s1 if TRUE
    server s1 127.0.0.1:9001
    server s2 127.0.0.1:9002
    server s3 127.0.0.1:9003
    server sd 127.0.0.1:9004 disabled

backend forced
    option persist
    use-server sd if TRUE
    server sd 127.0.0.1:9004 disabled

backend dyn
    use-server %[str(nosuch)] if TRUE
    use-server s1 if TRUE
    server s1 127.0.0.1:9001
"""


def _backends(tmp_path: Path) -> dict:
    cfg = tmp_path / "p.cfg"
    cfg.write_text(CFG)
    model, diag = load([str(cfg)])
    assert not diag.fatal
    proc = runtime.build(model)
    return {be.name: be for be in proc.backends}


def test_rules_and_choice(tmp_path: Path) -> None:
    bes = _backends(tmp_path)
    assert bes["plain"].persist is None  # no rules: the engines test one attribute
    pr = bes["be"].persist
    # the first matching persist rule wins: ignore-persist, not the later force-persist
    assert persist.persist_flags(pr, None, None) == persist.IGNORE
    # sd is in maintenance: skipped; the log-format name is looked up per request
    assert persist.use_server(pr, None, None, 0).name == "s3"
    # force-persist: the server of the first matching rule, even in maintenance
    assert persist.use_server(pr, None, None, persist.FORCE).name == "sd"
    # option persist does the same
    assert persist.use_server(bes["forced"].persist, None, None, 0).name == "sd"
    # a log-format name that names no server stops the rules
    assert persist.use_server(bes["dyn"].persist, None, None, 0) is None


def test_redispatch_of_direct_and_forced_servers(tmp_path: Path) -> None:
    """stream_choose_redispatch(): never under force-persist; a server named by
    persistence (SF_DIRECT) is not redispatched at once in a round-robin backend."""
    be = _backends(tmp_path)["be"]
    be.redispatch = -1
    be.retries = 3
    s1 = be.servers[0]
    assert _redispatch(be, s1, 1, "rr", 3) is True
    assert _redispatch(be, s1, 1, "rr", 3, 1) is False
    assert _redispatch(be, s1, 3, "rr", 3, 1) is True  # the last retry
    assert _redispatch(be, s1, 3, "rr", 3, 3) is False
    sd = be.servers[3]
    assert _redispatch(be, sd, 1, "rr", 3, 1) is True  # not running
    assert _redispatch(be, sd, 1, "rr", 3, 3) is False
