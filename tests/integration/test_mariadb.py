"""The "seed outage": the OpenStack controller's ``listen mariadb`` block, live.

The controller's haproxy.cfg balances a 3-node Galera cluster (one active,
two backups, health via ``clustercheck`` on port 9200)::

    listen mariadb
        bind <VIP>:3306
        balance leastconn
        mode tcp
        option httpchk
        option tcplog
        timeout client 10800s
        timeout server 10800s
        default-server port 9200 inter 2s downinter 5s rise 3 fall 2 slowstart 60s maxconn 64 maxqueue 128 weight 100
        server db1 <ip1>:3306 check
        server db2 <ip2>:3306 check backup
        server db3 <ip3>:3306 check backup

Here the block keeps its shape: one real MariaDB listens on 127.0.0.11,
127.0.0.12 and 127.0.0.13 (same port) standing in for the three nodes, and
three ``ClusterCheck`` servers listen on those addresses on one shared port
given by ``default-server port``.  Only ``inter``/``downinter`` are shortened
(200ms / 500ms) to keep the tests fast; rise 3 / fall 2 are kept.

Which server carried a session is read from its ``option tcplog`` line on
the syslog receiver, matched by the client's source port.
"""

from __future__ import annotations

import re
import socket
import time

import pymysql
import pytest
from helpers import MARIADB_NODE_HOSTS, client_port, free_port, wait_for

pytestmark = pytest.mark.timeout(60)

INTER_MS, DOWNINTER_MS, RISE, FALL = 200, 500, 3, 2


def seed_cfg(listen_port, check_port, db_port, syslog_port,
             timeout_client="10800s", timeout_server="10800s"):
    """The seed config with loopback addresses, free ports and short check intervals."""
    db1, db2, db3 = MARIADB_NODE_HOSTS
    return f"""\
global
    log 127.0.0.1:{syslog_port} local0
    maxconn 4000

defaults
    log global
    retries 3
    timeout connect 10s
    timeout check 10s
    timeout client 1m
    timeout server 1m

listen mariadb
    bind 127.0.0.1:{listen_port}
    balance leastconn
    mode tcp
    option httpchk
    option tcplog
    log global
    timeout client {timeout_client}
    timeout server {timeout_server}
    default-server port {check_port} inter {INTER_MS}ms downinter {DOWNINTER_MS}ms \
rise {RISE} fall {FALL} slowstart 60s maxconn 64 maxqueue 128 weight 100
    server db1 {db1}:{db_port} check
    server db2 {db2}:{db_port} check backup
    server db3 {db3}:{db_port} check backup
"""


@pytest.fixture
def clusterchecks(mariadb):
    """One ClusterCheck per node address, all on the same free port."""
    port = free_port(MARIADB_NODE_HOSTS)
    checks = [mariadb.clustercheck(host=host, port=port) for host in MARIADB_NODE_HOSTS]
    yield checks
    for c in checks:
        c.stop()


@pytest.fixture
def seed(proxy, syslog, mariadb, clusterchecks):
    """Factory: start the proxy on the seed config; returns (proxy, listen_port)."""
    def start(**timeouts):
        port = free_port()
        cfg = seed_cfg(port, clusterchecks[0].port, mariadb.port, syslog.port, **timeouts)
        return proxy(cfg, wait_ports=[port]), port
    return start


def session_via(mariadb, port, **kw):
    return mariadb.connect(host="127.0.0.1", port=port, **kw)


def syslog_message(line):
    """The message part of a syslog line (after ``<PRI>date tag[pid]: ``)."""
    m = re.match(r"<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d \S+\[\d+\]: (.*)", line)
    assert m, f"not a syslog line in the default 'local' format: {line!r}"
    return m.group(1)


def one_session(mariadb, syslog, port):
    """Open a session through the proxy, run a query, close it cleanly and
    return the name of the server that carried it (from its tcplog line)."""
    conn = session_via(mariadb, port)
    cport = client_port(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    conn.close()
    log = syslog.wait_tcplog(cport)
    assert log["ft"] == "mariadb" and log["b"] == "mariadb", log["line"]
    return log["s"]


def test_queries_through_proxy(seed, mariadb, syslog):
    p, port = seed()
    # HAProxy 2.6 starts this config silently
    assert "[ALERT]" not in p.stderr() and "[WARNING]" not in p.stderr(), p.stderr()
    conn = session_via(mariadb, port)
    cport = client_port(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT 1 + 1")
        assert cur.fetchone() == (2,)
        cur.execute("CREATE TABLE IF NOT EXISTS seed (id INT PRIMARY KEY, v VARCHAR(64))")
        cur.execute("DELETE FROM seed")
        cur.executemany("INSERT INTO seed VALUES (%s, %s)",
                        [(i, f"value-{i}" * 4) for i in range(200)])
        cur.execute("SELECT COUNT(*), SUM(id) FROM seed")
        assert cur.fetchone() == (200, sum(range(200)))
        cur.execute("SELECT v FROM seed WHERE id = 7")
        assert cur.fetchone() == ("value-7" * 4,)
        # a result bigger than one socket buffer
        cur.execute("SELECT REPEAT('x', 1000000)")
        assert len(cur.fetchone()[0]) == 1_000_000
    conn.close()

    log = syslog.wait_tcplog(cport)
    assert log["ci"] == "127.0.0.1"
    assert (log["ft"], log["b"], log["s"]) == ("mariadb", "mariadb", "db1"), log["line"]
    assert log["ts"] == "--", log["line"]            # normal termination
    assert int(log["B"]) > 1_000_000, log["line"]     # bytes server -> client
    assert int(log["Tw"]) >= 0 and int(log["Tc"]) >= 0, log["line"]
    assert int(log["Tt"]) >= int(log["Tw"]) + int(log["Tc"]), log["line"]
    assert log["sq"] == "0" and log["bq"] == "0", log["line"]
    assert log["line"].startswith("<134>"), log["line"]   # local0.info


def peer_closed(conn) -> bool:
    """True once the proxy has sent FIN (or RST) on a PyMySQL connection."""
    try:
        return conn._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


@pytest.mark.parametrize(("short", "state"), [
    (("client",), "cD"),
    (("client", "server"), "cD"),
    (("server",), "sD"),
], ids=["client-1s", "both-1s", "server-1s"])
def test_short_timeout_cuts_idle_pooled_connection(seed, mariadb, syslog, short, state):
    """A pool connection idle longer than a 1s ``timeout client`` and/or
    ``timeout server`` is cut by the proxy: the client gets EOF after ~1 s,
    its next query fails, the session is logged with termination state
    ``cD`` (client timeout, data phase; it wins when both are 1s) or ``sD``,
    and MariaDB counts one aborted client -- the seed outage's symptom.

    On a client timeout HAProxy closes both sides at once.  On a server
    timeout alone it only half-closes: FIN to the client, the MariaDB side
    stays open (not logged yet) until the client writes or closes.
    """
    timeouts = {f"timeout_{side}": "1s" for side in short}
    _, port = seed(**timeouts)
    before = mariadb.status("Aborted_clients")

    t0 = time.monotonic()
    conn = session_via(mariadb, port, read_timeout=5)
    cport = client_port(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT CONNECTION_ID()")
        (conn_id,) = cur.fetchone()
    assert conn_id in mariadb.connection_ids()

    # the proxy closes the idle client connection after ~1 s
    wait_for(lambda: peer_closed(conn), timeout=8, what="the proxy to close the idle client")
    assert time.monotonic() - t0 >= 1.0

    if "client" in short:
        # ... and the server side with it, without waiting for the client
        log = syslog.wait_tcplog(cport, timeout=5)
        wait_for(lambda: conn_id not in mariadb.connection_ids(), timeout=5,
                 what="MariaDB to lose the proxied connection")
        wait_for(lambda: mariadb.status("Aborted_clients") > before, timeout=5,
                 what="Aborted_clients to rise")

    # the pooled connection is dead for the client
    with pytest.raises(pymysql.err.OperationalError) as info, conn.cursor() as cur:
        cur.execute("SELECT 1")
    assert info.value.args[0] in (2006, 2013), info.value
    conn.close()

    log = syslog.wait_tcplog(cport, timeout=5)
    assert log["ts"] == state, log["line"]
    assert log["s"] == "db1", log["line"]
    assert 1000 <= int(log["Tt"]) < 3000, log["line"]

    wait_for(lambda: conn_id not in mariadb.connection_ids(), timeout=5,
             what="MariaDB to lose the proxied connection")
    wait_for(lambda: mariadb.status("Aborted_clients") > before, timeout=5,
             what="Aborted_clients to rise")
    assert mariadb.status("Aborted_clients") == before + 1
    wait_for(lambda: re.search(rf"Aborted connection {conn_id} to db: '{mariadb.database}' "
                               rf"user: '{mariadb.user}' host: '127\.0\.0\.1'",
                               mariadb.error_log()),
             timeout=5, what="MariaDB's 'Aborted connection' note")


def test_long_timeouts_keep_idle_connection(seed, mariadb, syslog):
    """With the seed's 10800s timeouts a connection idle for longer than the
    short timeout above keeps working and no client is aborted."""
    _, port = seed()
    before = mariadb.status("Aborted_clients")
    conn = session_via(mariadb, port)
    cport = client_port(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT CONNECTION_ID()")
        (conn_id,) = cur.fetchone()

    time.sleep(2.5)   # idle, on purpose: 2.5 x the short timeout of the test above
    assert syslog.find(f"127.0.0.1:{cport} ") is None, "the proxy ended the idle session"
    with conn.cursor() as cur:
        cur.execute("SELECT CONNECTION_ID()")
        assert cur.fetchone() == (conn_id,)
    conn.close()

    log = syslog.wait_tcplog(cport)
    assert log["ts"] == "--", log["line"]
    assert int(log["Tt"]) >= 2500, log["line"]
    wait_for(lambda: conn_id not in mariadb.connection_ids(), timeout=5,
             what="MariaDB to drop the closed connection")
    assert mariadb.status("Aborted_clients") == before


def test_failover_to_first_backup_and_back(seed, mariadb, syslog, clusterchecks):
    """db1 fails its clustercheck: after fall=2 checks it is DOWN, new sessions
    go to db2 (first backup only); after rise=3 good checks db1 is UP and
    takes new sessions again."""
    check1 = clusterchecks[0]
    p, port = seed()

    # all three are checked through their own clustercheck
    wait_for(lambda: all(c.ok_count >= 1 for c in clusterchecks), timeout=5,
             what="a passing check on every server")
    for _ in range(3):
        assert one_session(mariadb, syslog, port) == "db1"

    # --- db1 fails its checks -> DOWN after `fall` failures
    mark = syslog.mark()
    check1.reset_counts()
    t_fail = time.monotonic()
    check1.set_available(False)
    down = syslog.wait_line("Server mariadb/db1 is DOWN", start=mark, timeout=5)
    fails_at_down = check1.fail_count
    assert time.monotonic() - t_fail >= (FALL - 1) * INTER_MS / 1000
    assert FALL <= fails_at_down <= FALL + 1, (fails_at_down, down)
    msg = syslog_message(down)
    assert down.startswith("<129>"), down          # local0.alert
    assert re.fullmatch(r'Server mariadb/db1 is DOWN, reason: Layer7 wrong status, code: 503, '
                        r'info: "Service Unavailable", check duration: \d+ms\. '
                        r'0 active and 2 backup servers left\. Running on backup\. '
                        r'0 sessions active, 0 requeued, 0 remaining in queue\.', msg), msg
    # the same text as a warning on stderr
    line = p.wait_stderr("Server mariadb/db1 is DOWN", timeout=5)
    assert re.fullmatch(r"\[WARNING\]\s+\(\d+\) : " + re.escape(msg), line), line

    # new sessions use the first backup, db2, never db3
    for _ in range(4):
        assert one_session(mariadb, syslog, port) == "db2"

    # --- db1 recovers -> UP after `rise` successes, takes new sessions again
    mark = syslog.mark()
    check1.reset_counts()
    t_ok = time.monotonic()
    check1.set_available(True)
    up = syslog.wait_line("Server mariadb/db1 is UP", start=mark, timeout=8)
    oks_at_up = check1.ok_count
    assert time.monotonic() - t_ok >= (RISE - 1) * INTER_MS / 1000
    assert RISE <= oks_at_up <= RISE + 1, (oks_at_up, up)
    msg = syslog_message(up)
    assert up.startswith("<133>"), up              # local0.notice
    assert re.fullmatch(r"Server mariadb/db1 is UP, reason: Layer7 check passed, code: 200, "
                        r"check duration: \d+ms\. 1 active and 2 backup servers online\. "
                        r"0 sessions requeued, 0 total in queue\.", msg), msg
    line = p.wait_stderr("Server mariadb/db1 is UP", timeout=5)
    assert re.fullmatch(r"\[WARNING\]\s+\(\d+\) : " + re.escape(msg), line), line
    for _ in range(3):
        assert one_session(mariadb, syslog, port) == "db1"

    # backups never changed state
    assert syslog.find("mariadb/db2 is") is None
    assert syslog.find("mariadb/db3 is") is None
