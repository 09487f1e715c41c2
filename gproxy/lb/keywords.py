"""Configuration keywords ``balance``, ``hash-type`` and ``hash-balance-factor``.

Owns parsing and checking their arguments with HAProxy 2.6's exact alert texts
(``backend_parse_balance`` in ``backend.c``, ``hash-type`` in ``cfgparse-listen.c``) and
writing the result to the Model: ``proxy.balance`` is ``(algorithm, *args)`` with the
algorithm under its registered name (``random(3)`` -> ``('random', '3')``,
``hdr(Host) use_domain_only`` -> ``('hdr', 'Host', 'use_domain_only')``,
``rdp-cookie`` -> ``('rdp-cookie', 'mstshash')``), ``proxy.balance_set`` is True, and
``proxy.hash_type`` is ``(map-based|consistent, sdbm|djb2|wt6|crc32, avalanche)``,
``proxy.hash_balance_factor`` the bounded-load factor (0: off).
``tcp_mode_fallback`` is the post-parse check HAProxy makes for layer-7 hashes in a
``mode tcp`` proxy.  Writes to the Model only.
"""

from __future__ import annotations

import re
from typing import Any

from ..config.values import c_atoi, c_strtol
from ..registry import BE_SIDE, PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx

ALGOS_TEXT = (
    "only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', "
    "'hdr(name)' and 'rdp-cookie(name)' options."
)
#: algorithms that need an HTTP request (BE_LB_NEED_HTTP)
L7_ALGOS = ("uri", "url_param", "hdr")
HASH_FUNCS = ("sdbm", "djb2", "wt6", "crc32")

def _atoi(text: str) -> int:
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def parse_balance(args: list[str]) -> tuple[str, ...]:
    """The ``balance`` words (after the keyword) -> Model tuple; ConfigError on HAProxy's errors."""
    if not args or not args[0]:
        return ("roundrobin",)
    a0 = args[0]
    rest = args[1:]
    if a0 in ("roundrobin", "static-rr", "first", "leastconn", "source"):
        return (a0,)  # HAProxy ignores any further word
    if a0.startswith("random"):
        draws = 2
        if a0[6:7] == "(" and a0[7:8] != ")":
            draws, end = c_strtol(a0[7:], 0)
            if end[:1] != ")":
                if not end:
                    raise ConfigError("balance random : missing closing parenthesis.")
                raise ConfigError(f"balance random : unexpected character '{end[0]}' after argument.")
            if draws < 1:
                raise ConfigError("balance random : number of draws must be at least 1.")
        return ("random", str(draws))
    if a0 == "uri":
        i = 0
        while i < len(rest):
            w = rest[i]
            if w in ("len", "depth"):
                val = rest[i + 1] if i + 1 < len(rest) else ""
                if not val or _atoi(val) <= 0:
                    raise ConfigError(f"balance uri : '{w}' expects a positive integer (got '{val}').")
                i += 2
            elif w in ("whole", "path-only"):
                i += 1
            else:
                raise ConfigError(
                    f"balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '{w}')."
                )
        return ("uri", *rest)
    if a0 == "url_param":
        if not rest or not rest[0]:
            raise ConfigError("balance url_param requires an URL parameter name.")
        if len(rest) > 1 and rest[1] and rest[1] != "check_post":
            raise ConfigError(f"balance url_param only accepts 'check_post' modifier (got '{rest[1]}').")
        return ("url_param", *rest[:2])
    if a0 == "hash":
        if not rest or not rest[0]:
            raise ConfigError("balance hash requires a sample expression.")
        if len(rest) > 1 and rest[1]:
            raise ConfigError(f"balance hash takes no other argument (got '{rest[1]}').")
        return ("hash", rest[0])
    if a0.startswith("hdr("):
        end = a0.find(")", 4)
        if end <= 4:
            raise ConfigError("balance hdr requires an http header field name.")
        name = a0[4:end]
        if rest and rest[0]:
            if rest[0] != "use_domain_only":
                raise ConfigError(f"balance {a0} only accepts 'use_domain_only' modifier (got '{rest[0]}').")
            return ("hdr", name, "use_domain_only")
        return ("hdr", name)
    if a0.startswith("rdp-cookie"):
        tail = a0[10:]
        if tail.startswith("("):
            end = tail.find(")", 1)
            if end <= 1:
                raise ConfigError("balance rdp-cookie : missing cookie name.")
            return ("rdp-cookie", tail[1:end])
        if not tail:
            return ("rdp-cookie", "mstshash")
        raise ConfigError("balance rdp-cookie : missing cookie name.")
    raise ConfigError(f"balance {ALGOS_TEXT}")


def parse_hash_type(args: list[str]) -> tuple[str, str, bool]:
    """The ``hash-type`` words -> ``(type, function, avalanche)``; ConfigError on HAProxy's errors."""
    kind = args[0] if args else ""
    if kind not in ("consistent", "map-based"):
        if kind == "avalanche":
            raise ConfigError(
                "experimental feature 'hash-type avalanche' is not supported anymore, "
                "please use 'hash-type map-based sdbm avalanche' instead."
            )
        raise ConfigError("'hash-type' only supports 'consistent' and 'map-based'.")
    func = args[1] if len(args) > 1 else ""
    if not func:
        # default sdbm; a bare 'consistent' also implies the avalanche modifier
        return (kind, "sdbm", kind == "consistent")
    if func not in HASH_FUNCS:
        raise ConfigError("'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.")
    mod = args[2] if len(args) > 2 else ""
    if mod and mod != "avalanche":
        raise ConfigError("'hash-type' only supports 'avalanche' as a modifier for hash functions.")
    return (kind, func, mod == "avalanche")


@SECTION_KEYWORDS.register(
    "balance",
    BE_SIDE,
    "<algorithm> [<arguments>]",
    "load-balancing algorithm: roundrobin, static-rr, leastconn, first, source, random[(<draws>)], "
    "uri, url_param, hdr(<name>), rdp-cookie[(<name>)], hash <expr>",
)
def _balance(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.balance = parse_balance(args)
    ctx.proxy.balance_set = True


@SECTION_KEYWORDS.register(
    "hash-type",
    BE_SIDE,
    "<map-based|consistent> [<sdbm|djb2|wt6|crc32> [avalanche]]",
    "how hash-based algorithms map a key to a server, and the hash function",
)
def _hash_type(ctx: KwCtx, args: list[str]) -> None:
    ctx.proxy.hash_type = parse_hash_type(args)


# HAProxy parses it in every proxy section, frontends included, without a capability warning
@SECTION_KEYWORDS.register(
    "hash-balance-factor",
    PROXY_SECTIONS,
    "<factor>",
    "consistent hashing with bounded loads: a server takes at most <factor>% of the average load (0: off, else > 100)",
)
def _hash_balance_factor(ctx: KwCtx, args: list[str]) -> None:
    text = args[0] if args else ""
    if not text:
        raise ConfigError("'hash-balance-factor' expects an integer argument.")
    val = c_atoi(text)  # atol() into an int: 'abc' is 0, extra words are not looked at
    if val != 0 and val <= 100:
        raise ConfigError("'hash-balance-factor' must be 0 or greater than 100.")
    ctx.proxy.hash_balance_factor = val


def tcp_mode_fallback(proxy: Any) -> str | None:
    """For a ``mode tcp`` proxy with a layer-7 hash: switch to roundrobin, return HAProxy's warning.

    ``proxy`` is a ``model.Proxy``; call it after parsing (HAProxy does it in its
    post-parse checks).  Returns None when nothing had to change.
    """
    if proxy.mode == "http" or not proxy.balance or proxy.balance[0] not in L7_ALGOS:
        return None
    proxy.balance = ("roundrobin",)
    kind = {"listen": "proxy"}.get(proxy.kind, proxy.kind)
    return f"Layer 7 hash not possible for {kind} '{proxy.name}' (needs 'mode http'). Falling back to round robin."
