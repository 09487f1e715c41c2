"""Stick counters: a session's three tracked table entries (``track-sc0/1/2``) and what
tracking them counts (HAProxy's ``struct stkctr``: include/haproxy/stream.h
stream_track_stkctr / stream_start_counters / stream_store_counters /
stream_inc_http_*_ctr, src/session.c session_count_new / session_store_counters).

HAProxy keeps three counters in the session (tracked by ``tcp-request connection`` and
``tcp-request session`` rules) and three in each stream, which start as copies of the
session's; ``tcp-request content`` and ``http-request``/``http-response`` rules fill a
stream slot that is still empty.  In mode http every request is a new stream, so what
those rules tracked is released at the end of each request, while the session's counters
live until the connection closes.  Here ``Session.stkctr`` is None until something is
tracked, then a ``Trackers`` with the session's slots (``sess``) and the current
stream's own slots (``strm``: only what the stream tracked itself); a slot is a
``(table, entry)`` pair.

What tracking counts (verified against haproxy 2.6):

* tracking an entry: ``use`` (HAProxy's ref_cnt) + 1, ``conn_cur`` + 1, ``conn_cnt`` + 1,
  ``conn_rate``, and its expiry restarts; releasing it: ``conn_cur`` - 1, ``use`` - 1;
* a session accepted by the ``tcp-request connection``/``session`` rules: ``sess_cnt``
  and ``sess_rate`` of the session's counters;
* each HTTP request: ``http_req_cnt``/``http_req_rate`` of every tracked counter (an
  ``http-request track-sc`` counts the request it runs for itself); a request the proxy
  denies (deny, tarpit, auth, bad request) or a 4xx response: ``http_err_*``; a 5xx other
  than 501/505, or a server failure: ``http_fail_*``;
* bytes (``bytes_in_*``/``bytes_out_*``): added when the stream ends.

Pure module: no sockets, never yields.
"""

from __future__ import annotations

import time
from typing import Any

from .sticktable import Entry, FreqCtrPeriod, StickTable

__all__ = [
    "MAX_SESS_STKCTR",
    "Trackers",
    "add",
    "add_bytes",
    "count_request",
    "count_session",
    "end_session",
    "end_stream",
    "inc_for_status",
    "inc_http_err",
    "inc_http_fail",
    "inc_http_req",
    "slot",
    "track",
    "value",
]

MAX_SESS_STKCTR = 3

Slot = tuple[StickTable, Entry]


class Trackers:
    """A session's tracked counters: ``sess`` (session level) and ``strm`` (the current
    stream's own), three slots each, None where nothing is tracked."""

    __slots__ = ("sess", "strm")

    def __init__(self) -> None:
        self.sess: list[Slot | None] = [None, None, None]
        self.strm: list[Slot | None] = [None, None, None]

    def get(self, n: int) -> Slot | None:
        """The slot ``n`` as the stream sees it: its own, else the session's."""
        c = self.strm[n]
        return c if c is not None else self.sess[n]


def slot(sess: Any, n: int) -> Slot | None:
    """The (table, entry) tracked as counter ``n`` by this session/stream, or None."""
    tr = getattr(sess, "stkctr", None)
    if tr is None or not 0 <= n < MAX_SESS_STKCTR:
        return None
    return tr.get(n)


def add(data: dict[str, Any], cnt: str, rate: str, n: int = 1) -> bool:
    """Add ``n`` to a counter and its rate where the entry stores them; False when it
    stores neither."""
    hit = False
    if cnt in data:
        data[cnt] += n
        hit = True
    r = data.get(rate)
    if r is not None:
        r.add(n)
        hit = True
    return hit


def track(sess: Any, n: int, table: StickTable, key: Any, stream: bool) -> Entry | None:
    """Track ``key`` of ``table`` as counter ``n`` (stream_track_stkctr()): at stream
    level (``tcp-request content``, ``http-request``) or session level.  A slot already
    tracked (by the session, for a stream) is kept; None when nothing was tracked (the
    slot was taken, no key, or a full table)."""
    if key is None:
        return None
    tr = sess.stkctr
    if tr is None:
        tr = sess.stkctr = Trackers()
    if tr.sess[n] is not None or (stream and tr.strm[n] is not None):
        return None
    e = table.get_or_create(key)
    if e is None:
        return None
    e.use += 1
    data = e.data
    if "conn_cur" in data:
        data["conn_cur"] += 1
    add(data, "conn_cnt", "conn_rate")
    table.touch(e)
    if stream:
        tr.strm[n] = (table, e)
    else:
        tr.sess[n] = (table, e)
    return e


def count_request(table: StickTable, e: Entry, status: int = 0) -> None:
    """An ``http-request``/``http-response`` track-sc counts the request it runs for
    (and, on the response side, its 4xx as an error, its 5xx but 501/505 as a failure):
    http_action_track_sc()."""
    data = e.data
    hit = add(data, "http_req_cnt", "http_req_rate")
    if 400 <= status < 500:
        hit = add(data, "http_err_cnt", "http_err_rate") or hit
    elif 500 <= status < 600 and status != 501 and status != 505:
        hit = add(data, "http_fail_cnt", "http_fail_rate") or hit
    if hit:
        table.touch(e)


def count_session(sess: Any) -> None:
    """A new session passed the ``tcp-request connection``/``session`` rules
    (session_count_new()): ``sess_cnt``/``sess_rate`` of the session's counters."""
    tr = sess.stkctr
    if tr is None:
        return
    for c in tr.sess:
        if c is not None:
            add(c[1].data, "sess_cnt", "sess_rate")


def _slots(tr: Any) -> list[Any]:
    """The (table, entry) of each counter in use: the stream's own, else the session's."""
    out = []
    for i in range(MAX_SESS_STKCTR):
        c = tr.strm[i] or tr.sess[i]
        if c is not None:
            out.append(c)
    return out


def _inc(sess: Any, cnt: str, rate: str) -> None:
    tr = sess.stkctr
    if tr is None:
        return
    for c in _slots(tr):
        if add(c[1].data, cnt, rate):
            c[0].touch(c[1])


def inc_http_req(sess: Any) -> None:
    """One more HTTP request on every tracked counter (stream_inc_http_req_ctr())."""
    _inc(sess, "http_req_cnt", "http_req_rate")


def inc_http_err(sess: Any) -> None:
    """One more HTTP error (4xx, denied) on every tracked counter."""
    _inc(sess, "http_err_cnt", "http_err_rate")


def inc_http_fail(sess: Any) -> None:
    """One more HTTP failure (5xx but 501/505) on every tracked counter."""
    _inc(sess, "http_fail_cnt", "http_fail_rate")


def inc_for_status(sess: Any, status: int) -> None:
    """The counters a response status adds (http_process_res_common())."""
    if 400 <= status < 500:
        _inc(sess, "http_err_cnt", "http_err_rate")
    elif 500 <= status < 600 and status != 501 and status != 505:
        _inc(sess, "http_fail_cnt", "http_fail_rate")


def _release(table: StickTable, e: Entry) -> None:
    data = e.data
    if "conn_cur" in data:
        if data["conn_cur"] > 0:
            data["conn_cur"] -= 1
        table.touch(e)
    if e.use > 0:
        e.use -= 1
    if not e.use and e.exp and e.exp <= time.monotonic() and table.entries.get(e.key) is e:
        del table.entries[e.key]  # stksess_kill_if_expired()


def add_bytes(sess: Any, bytes_in: int, bytes_out: int) -> None:
    """Bytes from the client (``bytes_in``) and to it on every tracked counter."""
    tr = sess.stkctr
    if tr is None or not (bytes_in or bytes_out):
        return
    for c in _slots(tr):
        data = c[1].data
        hit = False
        if bytes_in:
            hit = add(data, "bytes_in_cnt", "bytes_in_rate", bytes_in)
        if bytes_out:
            hit = add(data, "bytes_out_cnt", "bytes_out_rate", bytes_out) or hit
        if hit:
            c[0].touch(c[1])


def end_stream(sess: Any, bytes_in: int = 0, bytes_out: int = 0) -> None:
    """The end of a stream (one HTTP request, or a TCP session): its bytes on every
    tracked counter, then the counters the stream tracked itself are released
    (stream_store_counters())."""
    tr = sess.stkctr
    if tr is None:
        return
    add_bytes(sess, bytes_in, bytes_out)
    strm = tr.strm
    for i in range(MAX_SESS_STKCTR):
        c = strm[i]
        if c is not None:
            strm[i] = None
            _release(c[0], c[1])
    if tr.sess == [None, None, None]:
        sess.stkctr = None


def end_session(sess: Any) -> None:
    """The connection closed: every counter still tracked is released
    (session_store_counters())."""
    tr = sess.stkctr
    if tr is None:
        return
    sess.stkctr = None
    for lst in (tr.strm, tr.sess):
        for i in range(MAX_SESS_STKCTR):
            c = lst[i]
            if c is not None:
                lst[i] = None
                _release(c[0], c[1])


def value(e: Entry, name: str) -> int | None:
    """A data type's value as a fetch returns it (a rate read now); None when the table
    does not store it."""
    v = e.data.get(name, _ABSENT)
    if v is _ABSENT:
        return None
    if isinstance(v, FreqCtrPeriod):
        return v.read()
    return v if isinstance(v, int) else 0


_ABSENT = object()
