"""Request ids: ``unique-id-format <fmt>``, ``unique-id-header <name>`` and the stream
counter behind ``%rt``.

HAProxy 2.6 gives every stream (each HTTP request, each TCP session, and the stream of
a request the H1 mux refused) the next value of ``global.req_count`` (``%rt``).  A
frontend's ``unique-id-format`` is a log-format string rendered once per stream: in
``mode http`` after the request rules (step 8 of ``http_process_request``, before
``X-Forwarded-For``), where ``unique-id-header`` sends it to the server; by the
``unique-id`` fetch when a rule asks for it first; else when the log line is written.
The format may use the request's fetches (``%[path]``); the log's ``%ID`` shows the id.

Handlers write to the Model; ``renderer`` compiles what the engine calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import logformat as lf
from ..config.model import Model, Proxy
from ..diag import Diagnostics
from ..registry import PROXY_SECTIONS, SECTION_KEYWORDS, ConfigError, KwCtx

next_req_id = lf.next_req_id  # %rt: one per stream


# both accepted in backends too (and unused there: the id is the frontend's), as haproxy does
@SECTION_KEYWORDS.register("unique-id-format", PROXY_SECTIONS, "<fmt>",
                           "a log-format string giving each request an id (%ID, unique-id, unique-id-header)")
def _kw_format(ctx: KwCtx, args: list[str]) -> None:
    if not args:
        raise ConfigError("unique-id-format expects an argument.")
    if len(args) > 1:
        raise ConfigError("unique-id-format expects only one argument, don't forget to escape spaces!")
    ctx.proxy.extra["unique_id_format"] = (args[0], ctx.file, ctx.line)


@SECTION_KEYWORDS.register("unique-id-header", PROXY_SECTIONS, "<name>", "send the request's unique id in this header")
def _kw_header(ctx: KwCtx, args: list[str]) -> None:
    if not args:  # words after the name are not looked at (HAProxy 2.6)
        raise ConfigError("unique-id-header expects an argument.")
    ctx.proxy.extra["unique_id_header"] = args[0]


def _compile(px: Proxy) -> Callable[[Any, Any], str] | None:
    """As HAProxy parses it: the request's fetches allowed, no '-' for a missing value,
    control characters %-encoded (LOG_OPT_HTTP), spaces merged as in logs."""
    got = px.extra.get("unique_id_format")
    if not got or not got[0]:
        return None
    from . import sample

    places = (sample.FE_HRQ,) if px.has_fe else (sample.BE_HRQ,)
    return sample.compile_logformat(got[0], sample.ParseCtx(places=places), mode="http" if px.mode == "http" else "tcp",
                                    merge_spaces=True)


def check_config(model: Model, diag: Diagnostics) -> None:
    """The post-parse alert of a format that doesn't compile, as haproxy words it."""
    for px in model.proxies:
        got = px.extra.get("unique_id_format")
        if not got or px.disabled:
            continue
        try:
            _compile(px)
        except ValueError as e:
            diag.alert(f"Parsing [{got[1]}:{got[2]}]: failed to parse unique-id : {e}.")


def renderer(px: Proxy) -> Callable[[Any, Any], str] | None:
    """``fn(session, txn) -> id`` of a frontend with a ``unique-id-format``, else None.
    At log time the engine passes no transaction: the request's headers are gone by
    then in HAProxy, so a fetch of them gives nothing."""
    try:
        return _compile(px)
    except ValueError:  # reported by check_config
        return None


def header(px: Proxy) -> str | None:
    """The lower-case ``unique-id-header`` (the H1 mux writes names in lower case)."""
    name = px.extra.get("unique_id_header")
    return name.lower() if name else None


def generate(sess: Any, txn: Any) -> str | None:
    """The session's unique id, rendered now if its frontend has a format and it has
    none yet (stream_generate_unique_id())."""
    uid = sess.unique_id
    if uid is None:
        render = getattr(sess.frontend, "uid_render", None)
        if render is not None:
            uid = sess.unique_id = render(sess, txn)
    return uid
