"""Tests for gproxy.config.values.

Messages marked "haproxy 2.6.12" were produced by the real binary (`haproxy -c`) on
`timeout client <v>`, `stick-table ... size <v>`, `bind <addr>` and `server s1 <addr>`;
HAProxy prints them after `'bind' : ` or `'server <px>/<srv>' : `.  No test resolves a
real host name: resolvers are fakes.
"""

from __future__ import annotations

import pytest

from gproxy.config import values
from gproxy.config.values import (
    Address,
    BadValue,
    c_atoi,
    c_atol,
    env_expand,
    parse_bind_addresses,
    parse_int,
    parse_port,
    parse_server_address,
    parse_size,
    parse_time,
)

HOSTS = {"web": [("ipv4", "10.0.0.7"), ("ipv6", "fd00::7")], "v6only": [("ipv6", "fd00:0:0::8")]}


def fake_resolve(name: str) -> list[tuple[str, str]]:
    if name not in HOSTS:
        raise OSError(f"unknown host {name}")
    return HOSTS[name]


def bad(fn: object, *args: object, **kwargs: object) -> BadValue:
    assert callable(fn)
    with pytest.raises(BadValue) as info:
        fn(*args, **kwargs)
    return info.value


# ------------------------------------------------------------------ times

TIMES: list[tuple[str, int]] = [
    ("0", 0),
    ("1500", 1500),
    ("10ms", 10),
    ("10s", 10000),
    ("2m", 120000),
    ("1h", 3600000),
    ("24d", 2073600000),
    ("2147483647", 2147483647),
    ("596h", 2145600000),
    ("35791m", 2147460000),
    ("2147483s", 2147483000),
    ("10us", 1),  # rounded up, never an underflow
    ("999us", 1),
    ("1000us", 1),
    ("1001us", 2),
    ("0us", 0),
    # 64-bit wrap, as in HAProxy: 2^64 is 0 ms (haproxy 2.6.12 then warns about
    # missing timeouts), 2^64 + 1 is 1 ms
    ("18446744073709551616", 0),
    ("18446744073709551617", 1),
]


@pytest.mark.parametrize(("text", "ms"), TIMES)
def test_parse_time_values(text: str, ms: int) -> None:
    assert parse_time(text, "timeout client") == ms


TIME_ERRORS: list[tuple[str, str, str]] = [
    # haproxy 2.6.12 texts for 'timeout client'
    ("10x", "invalid", "unexpected character 'x' in 'timeout client'"),
    ("1M", "invalid", "unexpected character 'M' in 'timeout client'"),
    ("10S", "invalid", "unexpected character 'S' in 'timeout client'"),
    ("10u", "invalid", "unexpected character 'u' in 'timeout client'"),
    ("-1", "invalid", "unexpected character '-' in 'timeout client'"),
    ("+1", "invalid", "unexpected character '+' in 'timeout client'"),
    ("0x10", "invalid", "unexpected character 'x' in 'timeout client'"),
    (
        "2147483648",
        "overflow",
        "timer overflow in argument '2147483648' to 'timeout client' (maximum value is 2147483647 ms or ~24.8 days)",
    ),
    (
        "25d",
        "overflow",
        "timer overflow in argument '25d' to 'timeout client' (maximum value is 2147483647 ms or ~24.8 days)",
    ),
    (
        "597h",
        "overflow",
        "timer overflow in argument '597h' to 'timeout client' (maximum value is 2147483647 ms or ~24.8 days)",
    ),
    (
        "35792m",
        "overflow",
        "timer overflow in argument '35792m' to 'timeout client' (maximum value is 2147483647 ms or ~24.8 days)",
    ),
    (
        "2147484s",
        "overflow",
        "timer overflow in argument '2147484s' to 'timeout client' (maximum value is 2147483647 ms or ~24.8 days)",
    ),
    ("", "empty", "'timeout client' expects an integer value (in milliseconds)"),
]


@pytest.mark.parametrize(("text", "kind", "message"), TIME_ERRORS)
def test_parse_time_errors(text: str, kind: str, message: str) -> None:
    e = bad(parse_time, text, "timeout client")
    assert (str(e), e.kind) == (message, kind)


def test_parse_time_trailing_garbage_is_a_warning() -> None:
    # haproxy 2.6.12 accepts these with a warning ("10sx" is 10 s)
    for text, ms, ch in (
        ("10sx", 10000, "x"),
        ("10msx", 10, "x"),
        ("10m5", 600000, "5"),
        ("1h30m", 3600000, "3"),
        ("10uss", 1, "s"),
    ):
        warnings: list[str] = []
        assert parse_time(text, "timeout client", warnings=warnings) == ms
        assert warnings == [
            (
                f"unexpected character '{ch}' after the timer value '{text}', only "
                "(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. "
                "This will be reported as an error in next versions."
            )
        ]
    assert parse_time("10sx", "x") == 10000  # no list, no warning kept


def test_parse_time_other_units_and_styles() -> None:
    assert parse_time("90", "stats refresh", "s") == 90
    assert parse_time("1500ms", "stats refresh", "s") == 2  # rounded up
    assert parse_time("2m", "x", "s") == 120
    assert parse_time("1d", "x", "h") == 24
    assert parse_time("1ms", "x", "us") == 1000
    e = bad(parse_time, "69y", "hard-stop-after", style="angle")
    assert str(e) == "unexpected character 'y' in argument to <hard-stop-after>."
    e = bad(parse_time, "25d", "inter", style="angle")
    assert str(e) == "timer overflow in argument <25d> to <inter>, maximum value is 2147483647 ms (~24.8 days)."
    e = bad(parse_time, "2147483648", "x", "s")
    assert str(e) == "timer overflow in argument '2147483648' to 'x' (maximum value is 2147483647 s or ~68 years)"
    e = bad(parse_time, "", "x", style="angle")
    assert (e.kind, str(e)) == ("empty", "'x' expects <time> as argument.")
    with pytest.raises(ValueError, match="unknown time unit"):
        parse_time("1", "x", "weeks")


def test_parse_time_underflow_only_through_wrap() -> None:
    # with rounding up, an underflow is only reachable through the 64-bit wrap:
    # (2^64 - 999) us + 999 wraps to 0 -- haproxy 2.6.12 gives this exact text
    e = bad(parse_time, "18446744073709550617us", "timeout client")
    assert e.kind == "underflow"
    assert str(e) == (
        "timer underflow in argument '18446744073709550617us' to 'timeout client' (minimum non-null value is 1 ms)"
    )


# ------------------------------------------------------------------ sizes


def test_parse_size() -> None:
    assert parse_size("0", "size") == 0
    assert parse_size("10", "size") == 10
    assert parse_size("10k", "size") == 10240
    assert parse_size("1K", "size") == 1024
    assert parse_size("1M", "size") == 1048576
    assert parse_size("3g", "size") == 3 << 30
    assert parse_size("4294967295", "size") == 4294967295
    assert parse_size("4194303k", "size") == 4194303 << 10


@pytest.mark.parametrize(
    ("text", "ch"),
    [
        # haproxy 2.6.12 via 'stick-table type ip size <v>' ("stick-table: " prefix)
        ("10kb", "b"),
        ("99999999999", "9"),
        ("4294967296", "6"),
        ("4g", "g"),
        ("4194304k", "k"),
        ("x", "x"),
        ("1t", "t"),
    ],
)
def test_parse_size_errors(text: str, ch: str) -> None:
    e = bad(parse_size, text, "size")
    assert str(e) == f"unexpected character '{ch}' in argument of 'size'."
    assert e.char == ch


# ------------------------------------------------------------------ integers


def test_parse_int_is_strict() -> None:
    assert parse_int("42", "maxconn") == 42
    assert parse_int("-1", "x") == -1
    assert parse_int("007", "x") == 7
    for text in ("", "0x10", "1_000", " 5", "5 ", "+5", "1.0", "\u0665", "ten"):
        e = bad(parse_int, text, "maxconn")
        assert str(e) == "'maxconn' expects an integer argument."
    assert bad(parse_int, "", "x").kind == "empty"


def test_parse_int_range_messages() -> None:
    assert parse_int("256", "weight", 0, 256) == 256
    assert str(bad(parse_int, "257", "weight", 0, 256)) == "'weight' expects an integer argument between 0 and 256."
    assert str(bad(parse_int, "0", "nbthread", 1)) == "'nbthread' expects an integer argument >= 1."
    e = bad(parse_int, "9", "x", None, 8)
    assert (str(e), e.kind) == ("'x' expects an integer argument <= 8.", "range")


def test_c_atol_and_atoi_are_lenient_like_haproxy() -> None:
    # haproxy 2.6.12 accepts 'maxconn 10x', 'maxconn abc' and 'maxconn -5' (atol)
    assert c_atol("10x") == 10
    assert c_atol("abc") == 0
    assert c_atol("  -5z") == -5
    assert c_atol("+7") == 7
    assert c_atol("99999999999999999999") == 2**63 - 1
    assert c_atoi("4294967297") == 1
    assert c_atoi("2147483648") == -(2**31)


def test_parse_port() -> None:
    assert parse_port("1") == 1
    assert parse_port("65535") == 65535
    for text in ("0", "65536", "", "80x", "-1", " 80"):
        assert str(bad(parse_port, text)) == f"invalid port '{text}'"


# ------------------------------------------------------------------ env_expand


def test_env_expand_like_haproxy() -> None:
    env = {"PORT": "8123", "A": "x"}
    assert env_expand(":$PORT", env) == ":8123"
    assert env_expand(":${PORT}0", env) == ":81230"
    assert env_expand("$A$A.$NOPE.", env) == "xx.."
    assert env_expand("a$", env) == "a"
    assert env_expand("${A-def}", env) == "x-def}"  # no defaults here
    assert env_expand("${A", env) == "x"
    assert env_expand("no dollar", {}) == "no dollar"


# ------------------------------------------------------------------ bind


def bind(text: str, **kw: object) -> list[Address]:
    return parse_bind_addresses(text, fake_resolve, env={"PORT": "8123"}, **kw)  # type: ignore[arg-type]


def test_bind_any_addresses() -> None:
    for text in ("*:80", ":80", "0.0.0.0:80", "ipv4@:80"):
        assert bind(text) == [Address("ipv4", "", 80)]
    for text in ("[::]:80", ":::80", "ipv6@:80", "ipv6@*:80", "[0:0::0]:80"):
        assert bind(text) == [Address("ipv6", "", 80)]
    assert bind(":80")[0].is_any and bind(":80")[0].sockaddr == ("0.0.0.0", 80)
    assert bind(":::80")[0].sockaddr == ("::", 80)


def test_bind_literals_names_and_lists() -> None:
    assert bind("1.2.3.4:80") == [Address("ipv4", "1.2.3.4", 80)]
    assert bind("::1:8001") == [Address("ipv6", "::1", 8001)]  # port after the last colon
    assert bind("[0::1]:8001") == [Address("ipv6", "::1", 8001)]
    assert bind("[::ffff:127.0.0.1]:8001") == [Address("ipv6", "::ffff:127.0.0.1", 8001)]
    assert bind("[1.2.3.4]:80") == [Address("ipv4", "1.2.3.4", 80)]  # haproxy 2.6.12 accepts it
    assert bind("127.0.0.1:08001") == [Address("ipv4", "127.0.0.1", 8001)]
    assert bind("127.0.0.1:80x") == [Address("ipv4", "127.0.0.1", 80)]  # atoi()
    assert bind("web:80") == [Address("ipv4", "10.0.0.7", 80, fqdn="web")]  # first result
    assert bind("ipv6@web:80") == [Address("ipv6", "fd00::7", 80, fqdn="web")]
    assert bind("v6only:80") == [Address("ipv6", "fd00::8", 80, fqdn="v6only")]
    assert bind(":80,:443,") == [Address("ipv4", "", 80), Address("ipv4", "", 443)]
    assert bind("tcp@127.0.0.1:81") == bind("stream+127.0.0.1:81") == bind("ip@127.0.0.1:81")


def test_bind_port_range_gives_one_address_per_port() -> None:
    assert [a.port for a in bind("127.0.0.1:8000-8002,127.0.0.1:8010")] == [8000, 8001, 8002, 8010]
    assert bind("127.0.0.1:8001-8001") == [Address("ipv4", "127.0.0.1", 8001)]


def test_bind_environment_expanded_without_quotes() -> None:
    # haproxy 2.6.12: 'bind :$PORT' works
    assert bind(":$PORT") == [Address("ipv4", "", 8123)]
    assert bind(":${PORT}") == [Address("ipv4", "", 8123)]


def test_bind_paths_and_fds() -> None:
    assert bind("/tmp/s.sock") == [Address("unix", "/tmp/s.sock", 0)]
    assert bind("unix@rel.sock") == [Address("unix", "rel.sock", 0)]
    assert bind("unix@") == [Address("unix", "", 0)]  # accepted by haproxy 2.6.12
    assert bind("uxst@/tmp/y") == [Address("unix", "/tmp/y", 0)]
    assert bind("abns@foo") == [Address("abns", "foo", 0)]
    assert bind("abns@foo")[0].sockaddr == "\0foo"
    assert bind("fd@3") == [Address("fd", "3", 0)]
    assert bind("fd@3")[0].sockaddr == 3
    assert bind("sockpair@4") == [Address("sockpair", "4", 0)]
    assert bind("/s", unix_prefix="/run/") == [Address("unix", "/run//s", 0)]
    assert bind("/" + "a" * 96) and bind("abns@" + "b" * 107)


# (address, message) -- haproxy 2.6.12 prints "'bind' : <message>"
BIND_ERRORS: list[tuple[str, str]] = [
    ("127.0.0.1", "missing port specification in '127.0.0.1'"),
    ("127.0.0.1:", "missing port specification in '127.0.0.1:'"),
    ("[::1]", "missing port specification in '[::1]'"),
    ("[::1]8001", "missing port specification in '[::1]8001'"),
    ("127.0.0.1:0", "invalid port '0'"),
    ("127.0.0.1:65536", "invalid port '65536'"),
    ("127.0.0.1:1-65536", "invalid port '65536'"),
    ("127.0.0.1:8001-", "invalid port ''"),
    ("127.0.0.1:8001-x", "invalid port 'x'"),
    ("127.0.0.1:9000-8999", "invalid port range '9000-8999'"),
    ("127.0.0.1:x", "invalid character 'x' in port number 'x' in '127.0.0.1:x'"),
    ("127.0.0.1:+5", "port offset not permitted here in '127.0.0.1:+5'"),
    ("127.0.0.1:-5", "port offset not permitted here in '127.0.0.1:-5'"),
    (",127.0.0.1:8000", "'' resolves to an empty address (environment variable missing?)"),
    ("127.0.0.1:8000,,127.0.0.1:8001", "'' resolves to an empty address (environment variable missing?)"),
    ("$NOPE", "'$NOPE' resolves to an empty address (environment variable missing?)"),
    ("::1", "invalid address: ':' in '::1'"),
    ("ipv4@[::1]:8001", "invalid address: '[::1]' in 'ipv4@[::1]:8001'"),
    ("ipv4@::1:8001", "invalid address: '::1' in 'ipv4@::1:8001'"),
    ("ipv4@v6only:80", "invalid address: 'v6only' in 'ipv4@v6only:80'"),
    ("nosuchhost.invalid:80", "invalid address: 'nosuchhost.invalid' in 'nosuchhost.invalid:80'"),
    ("[]:80", "invalid address: '[]' in '[]:80'"),
    ("[::1%lo]:8001", "invalid address: '[::1%lo]' in '[::1%lo]:8001'"),
    ("fd@", "file descriptor '' is not a valid integer in 'fd@'"),
    ("fd@x", "file descriptor 'x' is not a valid integer in 'fd@x'"),
    ("fd@-1", "file descriptor '-1' is not a valid integer in 'fd@-1'"),
    ("/" + "a" * 97, "socket path '/" + "a" * 97 + "' too long (max 97)"),
    ("abns@" + "b" * 108, "socket path 'abns@" + "b" * 108 + "' too long (max 107)"),
    ("udp@127.0.0.1:8001", "dgram-type address not acceptable in 'udp@127.0.0.1:8001'"),
    ("dgram+127.0.0.1:8001", "dgram-type address not acceptable in 'dgram+127.0.0.1:8001'"),
    ("uxdg@/tmp/x", "dgram-type address not acceptable in 'uxdg@/tmp/x'"),
    (
        "quic4@127.0.0.1:8001",
        (
            "unsupported stream protocol for datagram family 2 address 'quic4@127.0.0.1:8001'; "
            "QUIC is not compiled in if this is what you were looking for."
        ),
    ),
    (
        "quic6@[::1]:8001",
        (
            "unsupported stream protocol for datagram family 10 address 'quic6@[::1]:8001'; "
            "QUIC is not compiled in if this is what you were looking for."
        ),
    ),
]


@pytest.mark.parametrize(("text", "message"), BIND_ERRORS)
def test_bind_errors_match_haproxy(text: str, message: str) -> None:
    assert str(bad(bind, text)) == message


def test_bind_empty_word() -> None:
    e = bad(parse_bind_addresses, "")
    assert e.kind == "missing"
    assert str(e) == "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments."


def test_hostname_validation_happens_before_resolution() -> None:
    calls: list[str] = []

    def spy(name: str) -> list[tuple[str, str]]:
        calls.append(name)
        return [("ipv4", "10.9.9.9")]

    assert bad(parse_bind_addresses, "bad!name:80", spy).kind == "address"
    assert bad(parse_bind_addresses, ("x" * 64) + ".example:80", spy).kind == "address"
    assert calls == []
    assert parse_bind_addresses("exa_mple-1.test:80", spy)[0].host == "10.9.9.9"
    assert calls == ["exa_mple-1.test"]


# ------------------------------------------------------------------ server


def server(text: str, resolve: values.Resolver | None = fake_resolve) -> Address:
    return parse_server_address(text, resolve, env={"PORT": "8123"})


def test_server_ports() -> None:
    a = server("127.0.0.1")
    assert a == Address("ipv4", "127.0.0.1", 0, no_port=True) and a.maps_ports
    assert server("127.0.0.1:") == Address("ipv4", "127.0.0.1", 0, no_port=True)
    a = server("127.0.0.1:0")
    assert a == Address("ipv4", "127.0.0.1", 0) and a.maps_ports
    a = server("10.0.0.1:8080")
    assert not a.maps_ports and a.sockaddr == ("10.0.0.1", 8080)
    assert server("10.0.0.1:+5") == Address("ipv4", "10.0.0.1", 5, port_offset=True)
    assert server("10.0.0.1:-5") == Address("ipv4", "10.0.0.1", -5, port_offset=True)
    # accepted by haproxy 2.6.12 through atoi()
    assert server("10.0.0.1:+") == Address("ipv4", "10.0.0.1", 0, port_offset=True)
    assert server("10.0.0.1:+x") == Address("ipv4", "10.0.0.1", 0, port_offset=True)
    assert server("10.0.0.1:+70000").port == 70000
    assert server("10.0.0.1:+-5").port == -5
    assert server("10.0.0.1:80x").port == 80
    assert server(":$PORT") == Address("ipv4", "", 8123)


def test_server_addresses() -> None:
    assert server("[::1]") == Address("ipv6", "::1", 0, no_port=True)
    assert server("[::1]:80") == Address("ipv6", "::1", 80)
    assert server("::1:80") == Address("ipv6", "::1", 80)
    assert server("*:80") == server("0.0.0.0:80") == Address("ipv4", "", 80)
    assert server("web:80") == Address("ipv4", "10.0.0.7", 80, fqdn="web")
    assert server("ipv6@web:80") == Address("ipv6", "fd00::7", 80, fqdn="web")
    assert server("/tmp/x.sock") == Address("unix", "/tmp/x.sock", 0)
    assert server("unix@x.sock") == Address("unix", "x.sock", 0)
    assert server("abns@x") == Address("abns", "x", 0)
    assert server("sockpair@4") == Address("sockpair", "4", 0)


def test_server_names_can_stay_unresolved() -> None:
    a = server("db.example:5432", resolve=None)
    assert a == Address("unspec", "", 5432, fqdn="db.example")
    assert a.unresolved and not a.is_any
    a = server("ipv6@db.example", resolve=None)
    assert (a.family, a.no_port, a.unresolved) == ("ipv6", True, True)
    assert server("_http._tcp.example", resolve=None).fqdn == "_http._tcp.example"


# (address, message) -- haproxy 2.6.12 prints "'server f/s1' : <message>"
SERVER_ERRORS: list[tuple[str, str]] = [
    ("127.0.0.1:1000-2000", "port range not permitted here in '127.0.0.1:1000-2000'"),
    ("127.0.0.1:65536", "invalid port '65536'"),
    ("127.0.0.1:x", "invalid character 'x' in port number 'x' in '127.0.0.1:x'"),
    ("fd@3", "a file descriptor is not acceptable here in 'fd@3'"),
    ("sockpair@x", "file descriptor 'x' is not a valid integer in 'sockpair@x'"),
    ("udp@127.0.0.1:80", "dgram-type address not acceptable in 'udp@127.0.0.1:80'"),
    ("/" + "a" * 120, "socket path '/" + "a" * 120 + "' too long (max 97)"),
    # reported by haproxy after parsing, when resolving (init-addr)
    ("::1", "could not resolve address ':'."),
    ("nosuchhost.invalid:80", "could not resolve address 'nosuchhost.invalid'."),
    ("ipv6@127.0.0.1:80", "could not resolve address '127.0.0.1'."),
    ("_http._tcp.example.invalid", "no method found to resolve address '_http._tcp.example.invalid'."),
]


@pytest.mark.parametrize(("text", "message"), SERVER_ERRORS)
def test_server_errors_match_haproxy(text: str, message: str) -> None:
    assert str(bad(server, text)) == message


def test_server_empty_word() -> None:
    e = bad(parse_server_address, "")
    assert (e.kind, str(e)) == ("missing", "'server' expects <name> and <addr>[:<port>] as arguments.")


def test_default_resolver_handles_numeric_hosts_without_dns() -> None:
    assert ("ipv4", "127.0.0.1") in values.default_resolve("127.0.0.1")
