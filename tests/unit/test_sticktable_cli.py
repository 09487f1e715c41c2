"""The runtime API's stick-table commands (``show table``, ``clear table``, ``set table``)
and the Prometheus ``sticktable`` scope, without sockets: tables are built directly and
the commands run through ``admin.commands.execute`` as the stats socket runs them.

``SCRIPT`` is a session recorded against HAProxy 2.6.12 (Debian) with the same five
tables declared in ``TABLES_CFG``, on three stats sockets bound at levels admin, user
and operator; entry addresses (``0x...:``) and running expiry counts (``exp=``) are
masked.  The test replays it in order (the commands change the tables as they go) and
compares every answer byte for byte.
"""

from __future__ import annotations

import ipaddress
import re
import time
from typing import Any

import pytest

from gproxy.admin import commands as C
from gproxy.admin.commands import ADMIN, OPERATOR, USER
from gproxy.stats import prometheus as P
from gproxy.sticktable import StickTable

pytestmark = pytest.mark.timeout(30)

#: the tables of the recorded session, as HAProxy was configured (declaration order)
TABLES_CFG = """
backend be
    stick-table type string len 8 size 10 expire 30s store server_id,conn_cnt,http_req_rate(10s),server_key
backend tip
    stick-table type ip size 100 store gpc0,gpc0_rate(5s),conn_cur,bytes_in_cnt,gpt0,http_req_cnt
backend tv6
    stick-table type ipv6 size 5 expire 1m store gpc1,server_id
backend tint
    stick-table type integer size 50 expire 10m store gpc0
backend tbin
    stick-table type binary len 6 size 20 store gpc0
"""


def make_tables() -> dict[str, StickTable]:
    tables = [
        StickTable("be", "string", 10, key_len=8, expire_ms=30000,
                   data=[("server_id", 0), ("conn_cnt", 0), ("http_req_rate", 10000), ("server_key", 0)]),
        StickTable("tip", "ip", 100, data=[("gpc0", 0), ("gpc0_rate", 5000), ("conn_cur", 0), ("bytes_in_cnt", 0),
                                           ("gpt0", 0), ("http_req_cnt", 0)]),
        StickTable("tv6", "ipv6", 5, expire_ms=60000, data=[("gpc1", 0), ("server_id", 0)]),
        StickTable("tint", "integer", 50, expire_ms=600000, data=[("gpc0", 0)]),
        StickTable("tbin", "binary", 20, key_len=6, data=[("gpc0", 0)]),
    ]
    return {t.name: t for t in tables}


class Proc:
    """Just what the commands and the exporter read (weak-referenceable, for the cache)."""

    def __init__(self, tables: dict[str, StickTable]) -> None:
        self.stick_tables = tables


def mask(text: str) -> str:
    text = re.sub(r"0x[0-9a-f]+:", "0xP:", text)
    return re.sub(r"exp=\d+", lambda m: m.group(0) if m.group(0) == "exp=0" else "exp=N", text)


def run(proc: Any, level: int, line: str) -> str:
    """One connection: the line's ``;``-separated commands, each answer followed by the
    empty line the CLI adds."""
    ctx = C.Context(proc, level)
    return "".join(C.execute(ctx, part) + "\n" for part in line.split(";"))


# recorded against haproxy 2.6.12: (socket level, line, masked answer)
SCRIPT = [
    (ADMIN, 'show table',
     '# table: tbin, type: binary, size:20, used:0\n# table: tint, type: integer, size:50, used:0\n# table: tv6, type: ipv6, size:5, used:0\n# table: tip, type: ip, size:100, used:0\n# table: be, type: string, size:10, used:0\n\n'),
    (ADMIN, 'show table be',
     '# table: be, type: string, size:10, used:0\n\n'),
    (ADMIN, 'show table nope',
     'No such table\n\n'),
    (ADMIN, 'show table be foo',
     'Optional argument only supports "data.<store_data_type>" <operator> <value> and key <key>\n\n'),
    (ADMIN, 'clear table',
     'Required arguments: <table> "data.<store_data_type>" <operator> <value> or <table> key <key>\n\n'),
    (ADMIN, 'set table',
     'Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n\n'),
    (ADMIN, 'set table be',
     '\n'),
    (ADMIN, 'clear table be foo',
     'Required arguments: <table> "data.<store_data_type>" <operator> <value> or <table> key <key>\n\n'),
    (ADMIN, 'set table be foo',
     'Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n\n'),
    (ADMIN, 'set table tint key 1 data.gpc0 1',
     '\n'),
    (ADMIN, 'set table tint key 256 data.gpc0 256',
     '\n'),
    (ADMIN, 'set table tint key 2 data.gpc0 2',
     '\n'),
    (ADMIN, 'set table tint key 65536 data.gpc0 65536',
     '\n'),
    (ADMIN, 'set table tint key 4294967295 data.gpc0 4294967295',
     '\n'),
    (ADMIN, 'set table tint key 0 data.gpc0 0',
     '\n'),
    (ADMIN, 'set table tint key +7 data.gpc0 7',
     '\n'),
    (ADMIN, 'set table tint key -0 data.gpc0 8',
     '\n'),
    (ADMIN, 'show table tint',
     '# table: tint, type: integer, size:50, used:7\n0xP: key=0 use=0 exp=N gpc0=8\n0xP: key=65536 use=0 exp=N gpc0=65536\n0xP: key=256 use=0 exp=N gpc0=256\n0xP: key=1 use=0 exp=N gpc0=1\n0xP: key=2 use=0 exp=N gpc0=2\n0xP: key=7 use=0 exp=N gpc0=7\n0xP: key=4294967295 use=0 exp=N gpc0=4294967295\n\n'),
    (ADMIN, 'set table tip key 10.0.0.2 data.gpc0 1',
     '\n'),
    (ADMIN, 'set table tip key 9.0.0.1 data.gpc0 1',
     '\n'),
    (ADMIN, 'set table tip key 10.0.0.10 data.gpc0 1',
     '\n'),
    (ADMIN, 'set table tip key 1.2.3.4 data.gpc0 1',
     '\n'),
    (ADMIN, 'show table tip',
     '# table: tip, type: ip, size:100, used:4\n0xP: key=1.2.3.4 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=9.0.0.1 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=10.0.0.2 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=10.0.0.10 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n\n'),
    (ADMIN, 'set table be key zeta data.server_id 3',
     '\n'),
    (ADMIN, 'set table be key alpha data.server_id 3',
     '\n'),
    (ADMIN, 'set table be key a\\ b data.server_id 3',
     '\n'),
    (ADMIN, 'set table be key abcdefghijk data.server_id 3',
     '\n'),
    (ADMIN, 'set table be key x=y data.server_id 3',
     '\n'),
    (ADMIN, 'set table be key a\\\\b data.server_id 3',
     '\n'),
    (ADMIN, 'set table be key é data.server_id 3',
     '\n'),
    (ADMIN, 'show table be',
     '# table: be, type: string, size:10, used:7\n0xP: key=a\\ b use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=a\\\\b use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=abcdefgh use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=alpha use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=x\\=y use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=zeta use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=\\xC3\\xA9 use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n\n'),
    (ADMIN, 'set table tv6 key ::1 data.gpc1 7',
     '\n'),
    (ADMIN, 'set table tv6 key 2001:db8::1 data.gpc1 7',
     '\n'),
    (ADMIN, 'set table tv6 key ::ffff:1.2.3.4 data.gpc1 7',
     '\n'),
    (ADMIN, 'set table tv6 key 2001:db8:0:1:0:0:0:1 data.gpc1 7',
     '\n'),
    (ADMIN, 'set table tv6 key 1:0:0:2:0:0:0:3 data.gpc1 7',
     '\n'),
    (ADMIN, 'show table tv6',
     '# table: tv6, type: ipv6, size:5, used:5\n0xP: key=::1 use=0 exp=N server_id=0 gpc1=7\n0xP: key=::ffff:1.2.3.4 use=0 exp=N server_id=0 gpc1=7\n0xP: key=1:0:0:2::3 use=0 exp=N server_id=0 gpc1=7\n0xP: key=2001:db8::1 use=0 exp=N server_id=0 gpc1=7\n0xP: key=2001:db8:0:1::1 use=0 exp=N server_id=0 gpc1=7\n\n'),
    (ADMIN, 'show table tint key',
     'Key value expected\n\n'),
    (ADMIN, 'show table tint key abc',
     'Invalid key\n\n'),
    (ADMIN, 'show table tint key 99',
     '\n'),
    (ADMIN, 'show table tint key 256',
     '# table: tint, type: integer, size:50, used:7\n0xP: key=256 use=0 exp=N gpc0=256\n\n'),
    (ADMIN, 'show table tint key -1',
     'Invalid key\n\n'),
    (ADMIN, 'show table tint key 4294967296',
     'Invalid key\n\n'),
    (ADMIN, 'show table tint key 12abc',
     '\n'),
    (ADMIN, 'show table tip key abc',
     '\n'),
    (ADMIN, 'show table tip key 1.2.3.4 extra',
     '# table: tip, type: ip, size:100, used:4\n0xP: key=1.2.3.4 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n\n'),
    (ADMIN, 'show table tv6 key 1.2.3.4',
     'Invalid key\n\n'),
    (ADMIN, 'show table tbin key 00',
     'Showing keys from tables of type other than ip, ipv6, string and integer is not supported\n\n'),
    (ADMIN, 'clear table tbin key 00',
     'Removing keys from tables of type other than ip, ipv6, string and integer is not supported\n\n'),
    (ADMIN, 'set table tbin key 00',
     'Inserting keys into tables of type other than ip, ipv6, string and integer is not supported\n\n'),
    (ADMIN, 'show table tint data.gpc0 gt 100',
     '# table: tint, type: integer, size:50, used:7\n0xP: key=65536 use=0 exp=N gpc0=65536\n0xP: key=256 use=0 exp=N gpc0=256\n0xP: key=4294967295 use=0 exp=N gpc0=4294967295\n\n'),
    (ADMIN, 'show table tint data.gpc0 gt 100 data.gpc0 lt 70000',
     '# table: tint, type: integer, size:50, used:7\n0xP: key=65536 use=0 exp=N gpc0=65536\n0xP: key=256 use=0 exp=N gpc0=256\n\n'),
    (ADMIN, 'show table tint data.gpc0 ne 2 data.gpc0 le 256 data.gpc0 ge 1 data.gpc0 lt 256',
     '# table: tint, type: integer, size:50, used:7\n0xP: key=0 use=0 exp=N gpc0=8\n0xP: key=1 use=0 exp=N gpc0=1\n0xP: key=7 use=0 exp=N gpc0=7\n\n'),
    (ADMIN, 'show table tint data.gpc0 eq 0',
     '# table: tint, type: integer, size:50, used:7\n\n'),
    (ADMIN, 'show table tint data.foo eq 1',
     'Filter entry #1: Unknown data type\n\n'),
    (ADMIN, 'show table tint data.gpc1 eq 1',
     'Filter entry #1: Data type not stored in this table\n\n'),
    (ADMIN, 'show table tint data.gpc0 xx 1',
     'Filter entry #1: Require and operator among "eq", "ne", "le", "ge", "lt", "gt"\n\n'),
    (ADMIN, 'show table tint data.gpc0 eq',
     'Filter entry #1: Require a valid integer value to compare against\n\n'),
    (ADMIN, 'show table tint data.gpc0',
     'Filter entry #1: Require and operator among "eq", "ne", "le", "ge", "lt", "gt"\n\n'),
    (ADMIN, 'show table tint data.gpc0 eq 1x',
     'Filter entry #1: Require a valid integer value to compare against\n\n'),
    (ADMIN, 'show table tint data.gpc0 eq 1 data.gpc0 ne 2 data.gpc0 ne 3 data.gpc0 ne 4 data.gpc0 ne 5',
     "Detected extra data in filter, 16th word of input, after '4'\n\n"),
    (ADMIN, 'show table tint data.gpc0 eq 1 foo',
     'Filter entry #2: Unknown data type\n\n'),
    (ADMIN, 'show table tint data.gpc0 eq 1 xxxxxgpc0 eq 1',
     '# table: tint, type: integer, size:50, used:7\n0xP: key=1 use=0 exp=N gpc0=1\n\n'),
    (ADMIN, 'set table tint data.gpc0 eq 1',
     'content-based lookup is only supported with the "show" and "clear" actions\n\n'),
    (ADMIN, 'show table tint data.gpc eq 0',
     'Filter entry #1: Data type not stored in this table\n\n'),
    (ADMIN, 'show table tint data.server_name eq 0',
     'Filter entry #1: Data type not stored in this table\n\n'),
    (ADMIN, 'show table be data.server_name eq 0',
     '# table: be, type: string, size:10, used:7\n0xP: key=a\\ b use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=a\\\\b use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=abcdefgh use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=alpha use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=x\\=y use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=zeta use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=\\xC3\\xA9 use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n\n'),
    (ADMIN, 'show table be data.server_key eq 0',
     '# table: be, type: string, size:10, used:7\n0xP: key=a\\ b use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=a\\\\b use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=abcdefgh use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=alpha use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=x\\=y use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=zeta use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n0xP: key=\\xC3\\xA9 use=0 exp=N server_id=3 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n\n'),
    (ADMIN, 'show table be data.server_key gt 0',
     '# table: be, type: string, size:10, used:7\n\n'),
    (ADMIN, 'set table tip key 5.5.5.5 data.gpc0 -1 data.gpt0 7 data.gpc0_rate 42 data.bytes_in_cnt -1 data.conn_cur 3',
     '\n'),
    (ADMIN, 'show table tip key 5.5.5.5',
     '# table: tip, type: ip, size:100, used:5\n0xP: key=5.5.5.5 use=0 exp=0 gpt0=7 gpc0=4294967295 gpc0_rate(5000)=42 conn_cur=3 http_req_cnt=0 bytes_in_cnt=18446744073709551615\n\n'),
    (ADMIN, 'set table tip key 5.5.5.6 data.gpc0',
     'Require a valid integer value to store\n\n'),
    (ADMIN, 'set table tip key 5.5.5.7 data.gpc0 1 foo 2',
     '"data.<type>" followed by a value expected\n\n'),
    (ADMIN, 'set table tip key 5.5.5.8 data.xx 1',
     'Unknown data type\n\n'),
    (ADMIN, 'set table tip key 5.5.5.9 data.gpc1 1',
     'Data type not stored in this table\n\n'),
    (ADMIN, 'set table tip key 5.5.5.10 data.gpc0 1+',
     'Require a valid integer value to store\n\n'),
    (ADMIN, 'set table tip key 5.5.5.11 data.gpc0 99999999999999999999',
     'Require a valid integer value to store\n\n'),
    (ADMIN, 'set table tip key 5.5.5.12 data.gpc0 -9223372036854775808 data.gpt0 9223372036854775807',
     '\n'),
    (ADMIN, 'show table tip data.gpc0 ge 1',
     '# table: tip, type: ip, size:100, used:12\n0xP: key=1.2.3.4 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.5 use=0 exp=0 gpt0=7 gpc0=4294967295 gpc0_rate(5000)=42 conn_cur=3 http_req_cnt=0 bytes_in_cnt=18446744073709551615\n0xP: key=5.5.5.7 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=9.0.0.1 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=10.0.0.2 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=10.0.0.10 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n\n'),
    (ADMIN, 'show table tip data.gpc0_rate eq 42',
     '# table: tip, type: ip, size:100, used:12\n0xP: key=5.5.5.5 use=0 exp=0 gpt0=7 gpc0=4294967295 gpc0_rate(5000)=42 conn_cur=3 http_req_cnt=0 bytes_in_cnt=18446744073709551615\n\n'),
    (ADMIN, 'set table be key k1 data.server_key 5 data.server_id -5 data.http_req_rate 4294967297',
     '\n'),
    (ADMIN, 'show table be key k1',
     '# table: be, type: string, size:10, used:8\n0xP: key=k1 use=0 exp=N server_id=-5 conn_cnt=0 http_req_rate(10000)=1 server_key=-\n\n'),
    (ADMIN, 'set table be key k2 data.server_name 5',
     '\n'),
    (ADMIN, 'set table be key k3 data.server_id 2147483648',
     '\n'),
    (ADMIN, 'show table be key k3',
     '# table: be, type: string, size:10, used:10\n0xP: key=k3 use=0 exp=N server_id=-2147483648 conn_cnt=0 http_req_rate(10000)=0 server_key=-\n\n'),
    (ADMIN, 'set table tip key 1.2.3 data.gpc0 9',
     '\n'),
    (ADMIN, 'set table tip key 300.1.1.1234 data.gpc0 9',
     '\n'),
    (ADMIN, 'set table tip key 1.2.3.4.5 data.gpc0 9',
     '\n'),
    (ADMIN, 'set table tip key 1..2 data.gpc0 9',
     '\n'),
    (ADMIN, 'show table tip',
     '# table: tip, type: ip, size:100, used:15\n0xP: key=1.0.2.0 use=0 exp=0 gpt0=0 gpc0=9 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=1.2.3.0 use=0 exp=0 gpt0=0 gpc0=9 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=1.2.3.4 use=0 exp=0 gpt0=0 gpc0=9 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.5 use=0 exp=0 gpt0=7 gpc0=4294967295 gpc0_rate(5000)=42 conn_cur=3 http_req_cnt=0 bytes_in_cnt=18446744073709551615\n0xP: key=5.5.5.6 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.7 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.8 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.9 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.10 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.11 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.12 use=0 exp=0 gpt0=4294967295 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=9.0.0.1 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=10.0.0.2 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=10.0.0.10 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=44.1.1.234 use=0 exp=0 gpt0=0 gpc0=9 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n\n'),
    (ADMIN, 'set table tip key',
     'Key value expected\n\n'),
    (ADMIN, 'clear table tip key 5.5.5.5',
     '\n'),
    (ADMIN, 'clear table tip key 5.5.5.99',
     '\n'),
    (ADMIN, 'clear table tip data.gpc0 eq 9',
     '\n'),
    (ADMIN, 'show table tip',
     '# table: tip, type: ip, size:100, used:10\n0xP: key=5.5.5.6 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.7 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.8 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.9 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.10 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.11 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=5.5.5.12 use=0 exp=0 gpt0=4294967295 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=9.0.0.1 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=10.0.0.2 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n0xP: key=10.0.0.10 use=0 exp=0 gpt0=0 gpc0=1 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n\n'),
    (ADMIN, 'clear table tip data.gpc0 eq 9 data.gpt0 eq 0',
     '\n'),
    (ADMIN, 'set table tip',
     '\n'),
    (ADMIN, 'set table tip key 1.1.1.1 data.gpc0 1 data.gpc0 -',
     '\n'),
    (ADMIN, 'show table tip key 1.1.1.1',
     '# table: tip, type: ip, size:100, used:1\n0xP: key=1.1.1.1 use=0 exp=0 gpt0=0 gpc0=0 gpc0_rate(5000)=0 conn_cur=0 http_req_cnt=0 bytes_in_cnt=0\n\n'),
    (ADMIN, 'show table',
     '# table: tbin, type: binary, size:20, used:0\n# table: tint, type: integer, size:50, used:7\n# table: tv6, type: ipv6, size:5, used:5\n# table: tip, type: ip, size:100, used:1\n# table: be, type: string, size:10, used:10\n\n'),
    (USER, 'show table tint',
     '# table: tint, type: integer, size:50, used:7\n# contents not dumped due to insufficient privileges\n\n'),
    (USER, 'show table tint key 1',
     'Permission denied\n\n'),
    (USER, 'set table tint key 77 data.gpc0 5',
     'Permission denied\n\n'),
    (USER, 'clear table tint key 1',
     'Permission denied\n\n'),
    (USER, 'clear table tint',
     '\n'),
    (USER, 'show table',
     '# table: tbin, type: binary, size:20, used:0\n# table: tint, type: integer, size:50, used:7\n# table: tv6, type: ipv6, size:5, used:5\n# table: tip, type: ip, size:100, used:1\n# table: be, type: string, size:10, used:10\n\n'),
    (USER, 'show table tint key abc',
     'Invalid key\n\n'),
    (USER, 'show table tint key',
     'Key value expected\n\n'),
    (USER, 'show table tbin key 00',
     'Showing keys from tables of type other than ip, ipv6, string and integer is not supported\n\n'),
    (USER, 'set table tint key 5 data.foo 1',
     'Permission denied\n\n'),
    (USER, 'show table tint data.gpc0 gt 1',
     '# table: tint, type: integer, size:50, used:7\n# contents not dumped due to insufficient privileges\n\n'),
    (USER, 'show table tint data.foo gt 1',
     'Filter entry #1: Unknown data type\n\n'),
    (USER, 'clear table tint data.gpc0 gt 1',
     '\n'),
    (USER, 'show table nope',
     'No such table\n\n'),
    (USER, 'set table tint',
     '\n'),
    (USER, 'show table tint',
     '# table: tint, type: integer, size:50, used:7\n# contents not dumped due to insufficient privileges\n\n'),
    (OPERATOR, 'show table tint',
     '# table: tint, type: integer, size:50, used:7\n0xP: key=0 use=0 exp=N gpc0=8\n0xP: key=65536 use=0 exp=N gpc0=65536\n0xP: key=256 use=0 exp=N gpc0=256\n0xP: key=1 use=0 exp=N gpc0=1\n0xP: key=2 use=0 exp=N gpc0=2\n0xP: key=7 use=0 exp=N gpc0=7\n0xP: key=4294967295 use=0 exp=N gpc0=4294967295\n\n'),
    (OPERATOR, 'set table tint key 78 data.gpc0 5',
     '\n'),
    (OPERATOR, 'clear table tint key 1',
     '\n'),
    (ADMIN, 'user; set table tint key 79 data.gpc0 5; show table tint; clear table tint data.gpc0 eq 256; show table tint',
     '\nPermission denied\n\n# table: tint, type: integer, size:50, used:7\n0xP: key=0 use=0 exp=N gpc0=8\n0xP: key=65536 use=0 exp=N gpc0=65536\n0xP: key=256 use=0 exp=N gpc0=256\n0xP: key=2 use=0 exp=N gpc0=2\n0xP: key=7 use=0 exp=N gpc0=7\n0xP: key=78 use=0 exp=N gpc0=5\n0xP: key=4294967295 use=0 exp=N gpc0=4294967295\n\n\n# table: tint, type: integer, size:50, used:6\n0xP: key=0 use=0 exp=N gpc0=8\n0xP: key=65536 use=0 exp=N gpc0=65536\n0xP: key=2 use=0 exp=N gpc0=2\n0xP: key=7 use=0 exp=N gpc0=7\n0xP: key=78 use=0 exp=N gpc0=5\n0xP: key=4294967295 use=0 exp=N gpc0=4294967295\n\n'),
    (ADMIN, 'clear table tint',
     '\n'),
    (ADMIN, 'show table tint',
     '# table: tint, type: integer, size:50, used:0\n\n'),
    (ADMIN, 'show table',
     '# table: tbin, type: binary, size:20, used:0\n# table: tint, type: integer, size:50, used:0\n# table: tv6, type: ipv6, size:5, used:5\n# table: tip, type: ip, size:100, used:1\n# table: be, type: string, size:10, used:10\n\n'),
]


def test_recorded_haproxy_session() -> None:
    proc = Proc(make_tables())
    for level, line, expected in SCRIPT:
        assert mask(run(proc, level, line)) == expected, line


def test_help_lines_and_levels() -> None:
    helptext = C.execute(C.Context(Proc({}), USER), "help")
    for line in (
        "  clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)\n",
        "  set table <table> key <k> [data.* <v>]* : update or create a table entry's data\n",
        ("  show table <table> [<filter>]*          : report table usage stats or dump this table's contents "
         "(filter: data/key)\n"),
    ):
        assert line in helptext
    # registered for every level, as HAProxy: the handlers check the levels themselves
    assert {C.REGISTRY.find(["show", "table"]).level, C.REGISTRY.find(["set", "table"]).level,
            C.REGISTRY.find(["clear", "table"]).level} == {USER}


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("12", 12), ("-3", -3), ("-", 0), ("9223372036854775807", (1 << 63) - 1),
    ("-9223372036854775808", -(1 << 63)), ("9223372036854775808", None), ("1+", None), ("+1", None),
    ("1x", None), ("", None), (" 1", None), ("\u0661", None),
])
def test_strl2llrc(text: str, value: int | None) -> None:
    assert C.strl2llrc(text) == value


@pytest.mark.parametrize(("text", "addr"), [
    ("1.2.3.4", "1.2.3.4"), ("1.2.3", "1.2.3.0"), ("abc", "0.0.0.0"), ("300.1.1.1234", "44.1.1.234"),
    ("1.2.3.4.5", "1.2.3.4"), ("1..2", "1.0.2.0"), ("255.255.255.255", "255.255.255.255"), ("256.0.0.0", "0.0.0.0"),
    ("10.0.0.1x", "10.0.0.1"),
])
def test_inetaddr_host(text: str, addr: str) -> None:
    assert ipaddress.IPv4Address(C.inetaddr_host(text)) == ipaddress.IPv4Address(addr)


def test_keys_typed_match_keys_of_samples() -> None:
    """A key typed on the CLI finds the entry a session created from a sample."""
    t = make_tables()
    for name, typed, sample in (("tip", "10.1.2.3", ipaddress.IPv4Address("10.1.2.3")),
                                ("tv6", "::ffff:10.1.2.3", ipaddress.IPv4Address("10.1.2.3")),
                                ("tint", "42", 42), ("be", "abcdefghij", "abcdefghij")):
        table = t[name]
        e = table.get_or_create(table.key_of(sample))
        key, err = C.cli_table_key(table, typed)
        assert err is None and table.lookup(key) is e, name


def test_integer_keys_walk_in_little_endian_memcmp_order() -> None:
    t = make_tables()["tint"]
    for k in (1, 256, 2, 65536, 0xFFFFFFFF, 0):
        t.get_or_create(k)
    assert [e.key for e in C.sorted_entries(t)] == [0, 65536, 256, 1, 2, 0xFFFFFFFF]


def test_string_and_binary_keys_print_as_haproxy() -> None:
    t = make_tables()
    s = t["be"]
    e = s.get_or_create(s.key_of(b"a b=c\\\x01\xe9\tzzz"))
    assert s.dump_entry(e, 0x10).startswith("0x000000000010: key=a\\ b\\=c\\\\\\x01\\xE9 ")
    b = t["tbin"]
    e = b.get_or_create(b.key_of(b"a b=c\\"))
    assert b.dump_entry(e, 1).split()[1] == "key=6120623D635C"  # as haproxy for header "a b=c\\"
    e = b.get_or_create(b.key_of(b"ab"))
    assert b.dump_entry(e, 1).split()[1] == "key=616200000000"


def test_set_rate_reads_steady_then_fades(monkeypatch: pytest.MonkeyPatch) -> None:
    t = make_tables()["tip"]
    proc = Proc({"tip": t})
    assert run(proc, ADMIN, "set table tip key 1.1.1.1 data.gpc0_rate 40") == "\n"
    fc = t.lookup(ipaddress.IPv4Address("1.1.1.1")).data["gpc0_rate"]
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 2.5)
    assert fc.read() == 40  # the whole first period (5 s)
    monkeypatch.setattr(time, "monotonic", lambda: now + 7.5)
    assert fc.read() in (19, 20)  # half of the previous period is still in the window
    monkeypatch.setattr(time, "monotonic", lambda: now + 11)
    assert fc.read() == 0


def test_entries_in_use() -> None:
    """``use`` is printed; an entry in use is never removed, and -- as HAProxy 2.6's walk
    tests the next entry's reference count before killing the current one -- an entry
    followed by one in use survives a ``clear table`` as well."""
    tables = make_tables()
    t = tables["tip"]
    proc = Proc(tables)
    for ip in ("1.0.0.1", "1.0.0.2", "1.0.0.3", "1.0.0.4"):
        run(proc, ADMIN, f"set table tip key {ip} data.gpc0 1")
    t.lookup(ipaddress.IPv4Address("1.0.0.3")).use = 1
    assert " key=1.0.0.3 use=1 exp=0 " in run(proc, ADMIN, "show table tip")
    assert run(proc, ADMIN, "clear table tip key 1.0.0.3") == "Entry currently in use, cannot remove\n\n"
    assert run(proc, ADMIN, "clear table tip data.gpc0 eq 1") == "\n"
    assert [str(k) for k in t.entries] == ["1.0.0.2", "1.0.0.3"]
    t.lookup(ipaddress.IPv4Address("1.0.0.3")).use = 0
    assert run(proc, ADMIN, "clear table tip") == "\n"
    assert not t.entries


def test_levels_follow_session_for_keys_and_socket_for_walks() -> None:
    """Per-key commands need the session's level to be operator; dumps and clears of a
    whole table follow the level the socket was bound with, as HAProxy."""
    tables = make_tables()
    proc = Proc(tables)
    run(proc, ADMIN, "set table tint key 7 data.gpc0 7")
    ctx = C.Context(proc, ADMIN)
    assert C.execute(ctx, "user") == ""
    assert C.execute(ctx, "show table tint key 7") == C.PERMISSION_DENIED
    assert "key=7 " in C.execute(ctx, "show table tint")
    ctx = C.Context(proc, USER)
    assert C.execute(ctx, "show table tint") == (
        "# table: tint, type: integer, size:50, used:1\n# contents not dumped due to insufficient privileges\n")
    assert C.execute(ctx, "clear table tint") == ""
    assert tables["tint"].used == 1
    ctx = C.Context(proc, OPERATOR)
    assert C.execute(ctx, "clear table tint") == ""
    assert tables["tint"].used == 0


def test_full_table_refuses_set() -> None:
    t = StickTable("f", "integer", 1, nopurge=True, data=[("gpc0", 0)])
    proc = Proc({"f": t})
    assert run(proc, ADMIN, "set table f key 1 data.gpc0 1") == "\n"
    assert run(proc, ADMIN, "set table f key 2 data.gpc0 1") == "Unable to allocate a new entry\n\n"


def test_no_tables() -> None:
    proc = Proc({})
    assert run(proc, ADMIN, "show table") == "\n"
    assert run(proc, ADMIN, "show table x") == "No such table\n\n"
    assert C.execute(C.Context(object(), ADMIN), "show table") == ""  # a process without the attribute


# ------------------------------------------------------------------ prometheus
#: what haproxy 2.6.12 answered for ``/metrics?scope=sticktable`` with the tables of
#: TABLES_CFG (tbin 2 entries, tint 5, tv6 3, tip 2, be 2)
PROM_STICKTABLE = """\
# HELP haproxy_sticktable_size Stick table size.
# TYPE haproxy_sticktable_size gauge
haproxy_sticktable_size{name="tbin",type="binary"} 20
haproxy_sticktable_size{name="tint",type="integer"} 50
haproxy_sticktable_size{name="tv6",type="ipv6"} 5
haproxy_sticktable_size{name="tip",type="ip"} 100
haproxy_sticktable_size{name="be",type="string"} 10
# HELP haproxy_sticktable_used Number of entries used in this stick table.
# TYPE haproxy_sticktable_used gauge
haproxy_sticktable_used{name="tbin",type="binary"} 2
haproxy_sticktable_used{name="tint",type="integer"} 5
haproxy_sticktable_used{name="tv6",type="ipv6"} 3
haproxy_sticktable_used{name="tip",type="ip"} 2
haproxy_sticktable_used{name="be",type="string"} 2
"""


def _fill(tables: dict[str, StickTable]) -> None:
    for name, n in (("tbin", 2), ("tint", 5), ("tv6", 3), ("tip", 2), ("be", 2)):
        t = tables[name]
        for i in range(n):
            key = i + 1 if name == "tint" else ipaddress.IPv4Address(f"10.0.0.{i + 1}") if name in ("tip", "tv6") \
                else f"k{i}"
            t.get_or_create(t.key_of(key))


def test_prometheus_sticktable_scope() -> None:
    tables = make_tables()
    _fill(tables)
    proc = Proc(tables)
    status, _headers, body = P.serve(proc, "/metrics?scope=sticktable", "")
    assert status == 200
    assert body.decode() == PROM_STICKTABLE
    fams = {f.name: f for f in P.families(proc, {"sticktable"})}
    assert list(fams) == ["haproxy_sticktable_size", "haproxy_sticktable_used"]
    known = P.metric_names()
    assert all(known[n] == f.type for n, f in fams.items())
    # OpenMetrics: the same gauges
    om = P.serve(proc, "/metrics?scope=sticktable", "application/openmetrics-text").__getitem__(2).decode()
    assert 'haproxy_sticktable_used{name="tip",type="ip"} 2\n' in om and om.endswith("# EOF\n")


def test_prometheus_sticktable_scope_filtering() -> None:
    tables = make_tables()
    proc = Proc(tables)
    assert P.serve(Proc({}), "/metrics?scope=sticktable", "")[2] == b""
    assert "sticktable" in P.parse_query("scope=*")[0] and P.SCOPES[-1] == "sticktable"  # dumped last
    assert not [f for f in P.families(proc, {"backend"}) if f.name.startswith("haproxy_sticktable_")]
    assert [f.name for f in P.families(proc, P.parse_query("scope=backend&scope=sticktable")[0])] == [
        "haproxy_sticktable_size", "haproxy_sticktable_used"]  # no backends in this process
