"""http-request / http-response / http-after-response / tcp-request rules (gproxy.http.rules).

The expected request heads (``REWRITE_EXPECTED``) are what a server behind HAProxy
2.6.12 received, and the expected responses (``REPLY_EXPECTED``) the bytes HAProxy sent
back on a raw socket, for the same configuration lines (``x-test`` selects the rule);
gproxy parses the same lines and runs them on the same messages here.  Error texts are
``haproxy -c``'s.
"""

from __future__ import annotations

import pytest

from gproxy.config import import_keyword_modules
from gproxy.http import rules as R
from gproxy.http.message import Headers, Request, Txn
from gproxy.session import Session

from .cfgtext import parse_checked as parse

import_keyword_modules()

#: the actions gproxy implements, quoted and in table order, as HAProxy lists its own
ACTION_LIST = ", ".join(f"'{n}'" for n in R.ACTIONS["http-request"])
assert ACTION_LIST.startswith("'add-header', 'set-header', 'del-header', 'replace-header', 'replace-value', 'allow'")

HEAD = """defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:27461
"""
TAIL = """    default_backend be
backend be
    server s1 127.0.0.1:27462
"""



class Fe:
    def __init__(self, spec: object) -> None:
        self.spec = spec
        self.name = getattr(spec, "name", "fe")
        self.id = 1
        self.process = None


def frontend(lines: str) -> Fe:
    model, msgs = parse(HEAD + lines + TAIL)
    assert [m for m in msgs if m.startswith("ALERT")] == []
    return Fe(model.proxies[0])


def txn_from(fe: Fe, raw: str) -> Txn:
    head = raw.split("\r\n\r\n")[0].split("\r\n")
    method, uri, version = head[0].split(" ")
    hdrs = [(h.split(":", 1)[0].lower(), h.split(":", 1)[1].strip()) for h in head[1:]]
    sess = Session(fe, None, ("127.0.0.1", 40000), ("127.0.0.1", 27461))
    return Txn(sess, Request(method, uri, version, Headers(hdrs)))


REWRITE_ACTIONS = [
    'add-header X-A %[path]',
    'add-header X-A "a  b %ci"',
    'set-header X-Multi new',
    'set-header X-Multi "%[req.hdr(x-multi,1)]-%[req.hdr_cnt(x-multi)]"',
    'del-header X-Multi',
    'del-header x-mu -m beg',
    'del-header lti -m sub',
    'del-header ^x-m -m reg',
    'del-header ^X-M -m reg',
    'replace-header X-Multi ^(t)(.*) \\2\\1',
    'replace-header X-Multi o ZZ',
    'replace-value X-Multi ^(t)(.*) \\2\\1',
    'replace-value X-Multi o ZZ',
    'replace-header Cookie (.*)a=(\\d) \\1A=\\2-%[path]',
    'set-path /new',
    'set-path /new%[path]',
    'set-pathq /np?q=1',
    'set-query a=b',
    'set-query %[str()]',
    'set-uri /u?v',
    'set-method PUT',
    'replace-path /a/(.*) /z/\\1',
    'replace-pathq ^/a/b(.*) /Q\\1',
    'replace-uri ^/a(.*)$ /x\\1',
    'replace-uri ^http://([^/]*)/(.*) /\\2?host=\\1',
    'set-var(txn.v) req.hdr(host),lower',
    'set-var(txn.w) str(x) upper',
    'set-var-fmt(txn.f) "%[path] %ci"',
    'add-header X-Bad %[str(a\\nb)]',
]
REWRITE_SHOW_VAR = {25: 'txn.v', 26: 'txn.w', 27: 'txn.f'}
REWRITE_EXPECTED = {
    0: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t0\r\nx-a: /a/b/c.html\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t0\r\nx-a: /a/q\r\n\r\n'),
    1: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t1\r\nx-a: a  b 127.0.0.1\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t1\r\nx-a: a  b 127.0.0.1\r\n\r\n'),
    2: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t2\r\nx-multi: new\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t2\r\nx-multi: new\r\n\r\n'),
    3: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t3\r\nx-multi: one-4\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t3\r\nx-multi: -0\r\n\r\n'),
    4: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t4\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t4\r\n\r\n'),
    5: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t5\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t5\r\n\r\n'),
    6: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t6\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t6\r\n\r\n'),
    7: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t7\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t7\r\n\r\n'),
    8: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t8\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t8\r\n\r\n'),
    9: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t9\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t9\r\n\r\n'),
    10: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: ZZ\r\nx-multi: ZZ\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t10\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t10\r\n\r\n'),
    11: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one,wot,hreet\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t11\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t11\r\n\r\n'),
    12: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: ZZ,ZZ,three\r\nx-multi: ZZ\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t12\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t12\r\n\r\n'),
    13: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: A=1-/a/b/c.html\r\ncontent-length: 0\r\nx-test: t13\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t13\r\n\r\n'),
    14: ('GET /new?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t14\r\n\r\n', 'GET http://h.ex/new?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t14\r\n\r\n'),
    15: ('GET /new/a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t15\r\n\r\n', 'GET http://h.ex/new/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t15\r\n\r\n'),
    16: ('GET /np?q=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t16\r\n\r\n', 'GET http://h.ex/np?q=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t16\r\n\r\n'),
    17: ('GET /a/b/c.html?a=b HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t17\r\n\r\n', 'GET http://h.ex/a/q?a=b HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t17\r\n\r\n'),
    18: ('GET /a/b/c.html? HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t18\r\n\r\n', 'GET http://h.ex/a/q? HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t18\r\n\r\n'),
    19: ('GET /u?v HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t19\r\n\r\n', 'GET /u?v HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t19\r\n\r\n'),
    20: ('PUT /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t20\r\n\r\n', 'PUT http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t20\r\n\r\n'),
    21: ('GET /z/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t21\r\n\r\n', 'GET http://h.ex/z/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t21\r\n\r\n'),
    22: ('GET /Q/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t22\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t22\r\n\r\n'),
    23: ('GET /x/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t23\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t23\r\n\r\n'),
    24: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t24\r\n\r\n', 'GET /a/q?r=1?host=h.ex HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t24\r\n\r\n'),
    25: ('<www.example.com>', '<h.ex>'),
    26: ('<X>', '<X>'),
    27: ('</a/b/c.html 127.0.0.1>', '</a/q 127.0.0.1>'),
    28: ('GET /a/b/c.html?x=1 HTTP/1.1\r\nhost: Www.Example.com\r\nx-multi: one, two,three\r\nx-multi: four\r\ncookie: a=1; b=2\r\ncontent-length: 0\r\nx-test: t28\r\nx-bad: a%0Ab\r\n\r\n', 'GET http://h.ex/a/q?r=1 HTTP/1.1\r\nhost: h.ex\r\ncontent-length: 0\r\nx-test: t28\r\nx-bad: a%0Ab\r\n\r\n'),
}
REQ_RULES = [
    'deny',
    'deny deny_status 429',
    'deny status 404',
    'deny status 418 content-type text/plain string teapot',
    'deny status 410 content-type text/plain lf-string "gone %[path]" hdr X-A %[path] hdr X-E %[req.hdr(x-none)]',
    'deny errorfile {e403}',
    'return',
    'return status 201 content-type "text/plain" lf-string "hello %[path] %ci" hdr X-B b',
    'return status 302 hdr Location /zz',
    'return status 200 content-type text/plain file {body}',
    'redirect location /new',
    'redirect location /new code 301',
    'redirect location /new code 303',
    'redirect location /new code 308',
    'redirect prefix https://ex.com drop-query',
    'redirect prefix https://ex.com',
    'redirect prefix / append-slash',
    'redirect scheme https',
    'redirect scheme https drop-query append-slash set-cookie A=1',
    'redirect location http://%[hdr(host)]/x clear-cookie B',
    'redirect location %[req.hdr(x-none)] ignore-empty',
    'auth',
    'auth realm My\\ Realm',
    'tarpit',
    'tarpit deny_status 403',
    'reject',
    'allow',
]
RES_RULES = [
    'set-status 203 reason "Fine Thanks"',
    'set-status 299',
    'set-status 404',
    'deny',
    'deny deny_status 500',
    'add-header X-R %[status]',
    'del-header x-deny',
    'replace-header X-St 1 2-%[res.hdr(x-deny)]',
    'return status 200 content-type text/plain string resp',
    'redirect location /r code 301',
    'set-header Set-Cookie %[res.cook(s)]',
]
REPLY_EXPECTED = {
    ('q', 0, '/a/b?x=1'): 'HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 403\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n',
    ('q', 0, '/dir'): 'HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 403\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n',
    ('q', 1, '/a/b?x=1'): 'HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 429\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n',
    ('q', 1, '/dir'): 'HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 429\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n',
    ('q', 2, '/a/b?x=1'): 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nx-after: 404\r\n\r\n',
    ('q', 2, '/dir'): 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nx-after: 404\r\n\r\n',
    ('q', 3, '/a/b?x=1'): "HTTP/1.1 418 I'm a teapot\r\ncontent-length: 6\r\ncontent-type: text/plain\r\nx-after: 418\r\n\r\nteapot",
    ('q', 3, '/dir'): "HTTP/1.1 418 I'm a teapot\r\ncontent-length: 6\r\ncontent-type: text/plain\r\nx-after: 418\r\n\r\nteapot",
    ('q', 4, '/a/b?x=1'): 'HTTP/1.1 410 Gone\r\nx-a: /a/b\r\ncontent-length: 9\r\ncontent-type: text/plain\r\nx-after: 410\r\n\r\ngone /a/b',
    ('q', 4, '/dir'): 'HTTP/1.1 410 Gone\r\nx-a: /dir\r\ncontent-length: 9\r\ncontent-type: text/plain\r\nx-after: 410\r\n\r\ngone /dir',
    ('q', 5, '/a/b?x=1'): 'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nx-err: yes\r\nx-after: 403\r\nconnection: close\r\n\r\ncustom 403\n',
    ('q', 5, '/dir'): 'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nx-err: yes\r\nx-after: 403\r\nconnection: close\r\n\r\ncustom 403\n',
    ('q', 6, '/a/b?x=1'): 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-after: 200\r\n\r\n',
    ('q', 6, '/dir'): 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-after: 200\r\n\r\n',
    ('q', 7, '/a/b?x=1'): 'HTTP/1.1 201 Created\r\nx-b: b\r\ncontent-length: 20\r\ncontent-type: text/plain\r\nx-after: 201\r\n\r\nhello /a/b 127.0.0.1',
    ('q', 7, '/dir'): 'HTTP/1.1 201 Created\r\nx-b: b\r\ncontent-length: 20\r\ncontent-type: text/plain\r\nx-after: 201\r\n\r\nhello /dir 127.0.0.1',
    ('q', 8, '/a/b?x=1'): 'HTTP/1.1 302 Moved Temporarily\r\nlocation: /zz\r\ncontent-length: 0\r\nx-after: 302\r\n\r\n',
    ('q', 8, '/dir'): 'HTTP/1.1 302 Moved Temporarily\r\nlocation: /zz\r\ncontent-length: 0\r\nx-after: 302\r\n\r\n',
    ('q', 9, '/a/b?x=1'): 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\ncontent-type: text/plain\r\nx-after: 200\r\n\r\nfile-body\n',
    ('q', 9, '/dir'): 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\ncontent-type: text/plain\r\nx-after: 200\r\n\r\nfile-body\n',
    ('q', 10, '/a/b?x=1'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\nx-after: 302\r\n\r\n',
    ('q', 10, '/dir'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\nx-after: 302\r\n\r\n',
    ('q', 11, '/a/b?x=1'): 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\nx-after: 301\r\n\r\n',
    ('q', 11, '/dir'): 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\nx-after: 301\r\n\r\n',
    ('q', 12, '/a/b?x=1'): 'HTTP/1.1 303 See Other\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\nx-after: 303\r\n\r\n',
    ('q', 12, '/dir'): 'HTTP/1.1 303 See Other\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\nx-after: 303\r\n\r\n',
    ('q', 13, '/a/b?x=1'): 'HTTP/1.1 308 Permanent Redirect\r\ncontent-length: 0\r\nlocation: /new\r\nx-after: 308\r\n\r\n',
    ('q', 13, '/dir'): 'HTTP/1.1 308 Permanent Redirect\r\ncontent-length: 0\r\nlocation: /new\r\nx-after: 308\r\n\r\n',
    ('q', 14, '/a/b?x=1'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://ex.com/a/b\r\ncache-control: no-cache\r\nx-after: 302\r\n\r\n',
    ('q', 14, '/dir'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://ex.com/dir\r\ncache-control: no-cache\r\nx-after: 302\r\n\r\n',
    ('q', 15, '/a/b?x=1'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://ex.com/a/b?x=1\r\ncache-control: no-cache\r\nx-after: 302\r\n\r\n',
    ('q', 15, '/dir'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://ex.com/dir\r\ncache-control: no-cache\r\nx-after: 302\r\n\r\n',
    ('q', 16, '/a/b?x=1'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /a/b?x=1/\r\ncache-control: no-cache\r\nx-after: 302\r\n\r\n',
    ('q', 16, '/dir'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /dir/\r\ncache-control: no-cache\r\nx-after: 302\r\n\r\n',
    ('q', 17, '/a/b?x=1'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://h.ex/a/b?x=1\r\ncache-control: no-cache\r\nx-after: 302\r\n\r\n',
    ('q', 17, '/dir'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://h.ex/dir\r\ncache-control: no-cache\r\nx-after: 302\r\n\r\n',
    ('q', 18, '/a/b?x=1'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://h.ex/a/b/\r\ncache-control: no-cache\r\nset-cookie: A=1; path=/;\r\nx-after: 302\r\n\r\n',
    ('q', 18, '/dir'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://h.ex/dir/\r\ncache-control: no-cache\r\nset-cookie: A=1; path=/;\r\nx-after: 302\r\n\r\n',
    ('q', 19, '/a/b?x=1'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: http://h.ex/x\r\ncache-control: no-cache\r\nset-cookie: B; path=/; Max-Age=0;\r\nx-after: 302\r\n\r\n',
    ('q', 19, '/dir'): 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: http://h.ex/x\r\ncache-control: no-cache\r\nset-cookie: B; path=/; Max-Age=0;\r\nx-after: 302\r\n\r\n',
    ('q', 20, '/a/b?x=1'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 200\r\n\r\nfixed',
    ('q', 20, '/dir'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 200\r\n\r\nfixed',
    ('q', 21, '/a/b?x=1'): 'HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm="fe"\r\nx-after: 401\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n',
    ('q', 21, '/dir'): 'HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm="fe"\r\nx-after: 401\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n',
    ('q', 22, '/a/b?x=1'): 'HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm="My Realm"\r\nx-after: 401\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n',
    ('q', 22, '/dir'): 'HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm="My Realm"\r\nx-after: 401\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n',
    ('q', 23, '/a/b?x=1'): 'HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 500\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n',
    ('q', 23, '/dir'): 'HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 500\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n',
    ('q', 24, '/a/b?x=1'): 'HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 403\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n',
    ('q', 24, '/dir'): 'HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 403\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n',
    ('q', 25, '/a/b?x=1'): '',
    ('q', 25, '/dir'): '',
    ('q', 26, '/a/b?x=1'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 200\r\n\r\nfixed',
    ('q', 26, '/dir'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 200\r\n\r\nfixed',
    ('s', 0, '/a/b?x=1'): 'HTTP/1.1 203 Fine Thanks\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 203\r\n\r\nfixed',
    ('s', 0, '/dir'): 'HTTP/1.1 203 Fine Thanks\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 203\r\n\r\nfixed',
    ('s', 1, '/a/b?x=1'): 'HTTP/1.1 299 Success\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 299\r\n\r\nfixed',
    ('s', 1, '/dir'): 'HTTP/1.1 299 Success\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 299\r\n\r\nfixed',
    ('s', 2, '/a/b?x=1'): 'HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 404\r\n\r\nfixed',
    ('s', 2, '/dir'): 'HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 404\r\n\r\nfixed',
    ('s', 3, '/a/b?x=1'): 'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 502\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n',
    ('s', 3, '/dir'): 'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 502\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n',
    ('s', 4, '/a/b?x=1'): 'HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 500\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n',
    ('s', 4, '/dir'): 'HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-after: 500\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n',
    ('s', 5, '/a/b?x=1'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-r: 200\r\nx-after: 200\r\n\r\nfixed',
    ('s', 5, '/dir'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-r: 200\r\nx-after: 200\r\n\r\nfixed',
    ('s', 6, '/a/b?x=1'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 1\r\nset-cookie: s=1; path=/\r\nx-after: 200\r\n\r\nfixed',
    ('s', 6, '/dir'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 1\r\nset-cookie: s=1; path=/\r\nx-after: 200\r\n\r\nfixed',
    ('s', 7, '/a/b?x=1'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 2-0\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 200\r\n\r\nfixed',
    ('s', 7, '/dir'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 2-0\r\nx-deny: 0\r\nset-cookie: s=1; path=/\r\nx-after: 200\r\n\r\nfixed',
    ('s', 8, '/a/b?x=1'): 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\ncontent-type: text/plain\r\nx-after: 200\r\n\r\nresp',
    ('s', 8, '/dir'): 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\ncontent-type: text/plain\r\nx-after: 200\r\n\r\nresp',
    ('s', 9, '/a/b?x=1'): 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /r\r\nx-after: 301\r\n\r\n',
    ('s', 9, '/dir'): 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /r\r\nx-after: 301\r\n\r\n',
    ('s', 10, '/a/b?x=1'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: 1\r\nx-after: 200\r\n\r\nfixed',
    ('s', 10, '/dir'): 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-st: 1\r\nx-deny: 0\r\nset-cookie: 1\r\nx-after: 200\r\n\r\nfixed',
}


# ------------------------------------------------------------------ request rewriting
REWRITE_REQS = [
    ("GET /a/b/c.html?x=1 HTTP/1.1\r\nHost: Www.Example.com\r\nX-Multi: one, two,three\r\nX-Multi: four\r\n"
    "Cookie: a=1; b=2\r\nContent-Length: 0\r\n\r\n"),
    "GET http://h.ex/a/q?r=1 HTTP/1.1\r\nHost: h.ex\r\nContent-Length: 0\r\n\r\n",
]


@pytest.fixture(scope="module")
def rewrite_fe() -> Fe:
    lines = []
    for i, a in enumerate(REWRITE_ACTIONS):
        lines.append(f"    http-request {a} if {{ hdr(x-test) -m str t{i} }}\n")
        if i in REWRITE_SHOW_VAR:
            lines.append(f'    http-request return status 200 content-type text/plain lf-string "<%[var({REWRITE_SHOW_VAR[i]})]>" '
                         f"if {{ hdr(x-test) -m str t{i} }}\n")
    return frontend("".join(lines))


@pytest.mark.parametrize(("idx", "action"), list(enumerate(REWRITE_ACTIONS)), ids=REWRITE_ACTIONS)
@pytest.mark.parametrize("req", [0, 1])
def test_rewrite_matches_haproxy(rewrite_fe: Fe, idx: int, action: str, req: int) -> None:
    raw = REWRITE_REQS[req].replace("\r\n\r\n", f"\r\nX-Test: t{idx}\r\n\r\n", 1)
    t = txn_from(rewrite_fe, raw)
    v = R.run_http_request(rewrite_fe.spec.http_request, t)
    got = v.response.body.decode() if v is not None and v.response is not None else t.req.head_bytes().decode("latin-1")
    assert got == REWRITE_EXPECTED[idx][req]


# ------------------------------------------------------------------ generated responses, response rules
@pytest.fixture(scope="module")
def reply_fe(tmp_path_factory) -> Fe:
    d = tmp_path_factory.mktemp("files")
    e403 = d / "e403.http"
    e403.write_bytes(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Err: yes\r\n\r\ncustom 403\n")
    body = d / "body.txt"
    body.write_bytes(b"file-body\n")
    lines = ["    http-request set-var(txn.t) req.hdr(x-test)\n"]
    for i, a in enumerate(REQ_RULES):
        lines.append(f"    http-request {a.format(e403=e403, body=body)} if {{ hdr(x-test) -m str q{i} }}\n")
    for i, a in enumerate(RES_RULES):
        lines.append(f"    http-response {a} if {{ res.hdr(x-st) 1 }} {{ var(txn.t) -m str s{i} }}\n")
    lines.append("    http-after-response set-header X-After %[status]\n")
    return frontend("".join(lines))


def served() -> R.ReplyResponse:
    h = Headers([("content-length", "5"), ("x-st", "1"), ("x-deny", "0"), ("set-cookie", "s=1; path=/")])
    return R.ReplyResponse(200, "OK", "HTTP/1.1", h, b"fixed")


@pytest.mark.parametrize("key", list(REPLY_EXPECTED), ids=[f"{k[0]}{k[1]} {k[2]}" for k in REPLY_EXPECTED])
def test_reply_matches_haproxy(reply_fe: Fe, key: tuple[str, int, str]) -> None:
    kind, i, uri = key
    t = txn_from(reply_fe, f"GET {uri} HTTP/1.1\r\nHost: h.ex\r\nX-Test: {kind}{i}\r\n\r\n")
    v = R.run_http_request(reply_fe.spec.http_request, t)
    if v is None or v.kind == "allow":
        t.rsp = served()
        v2 = R.run_http_response(reply_fe.spec.http_response, t)
        v = v2 if v2 is not None and v2.kind != "allow" else R.Verdict("forward", t.rsp.status, t.rsp)
    if v.kind == "reject":
        got = b""
    else:
        t.rsp = v.response
        R.run_http_after_response(reply_fe.spec.http_after_response, t)
        got = R.verdict_response_bytes(v)
    assert got.decode("latin-1") == REPLY_EXPECTED[key]


def test_verdict_kinds(reply_fe: Fe) -> None:
    def verdict(i: int) -> R.Verdict:
        t = txn_from(reply_fe, f"GET / HTTP/1.1\r\nHost: h\r\nX-Test: q{i}\r\n\r\n")
        v = R.run_http_request(reply_fe.spec.http_request, t)
        assert v is not None
        return v

    kinds: dict[str, R.Verdict] = {}
    for i, a in enumerate(REQ_RULES):
        if a.split()[0] in ("auth", "tarpit", "reject"):
            kinds.setdefault(a.split()[0], verdict(i))
    assert (kinds["auth"].kind, kinds["auth"].status, kinds["auth"].realm) == ("auth", 401, "fe")
    assert (kinds["tarpit"].kind, kinds["tarpit"].status) == ("tarpit", 500)
    assert (kinds["reject"].kind, kinds["reject"].response) == ("reject", None)


# ------------------------------------------------------------------ rendering options
def test_verdict_response_bytes_connection_handling() -> None:
    fe = frontend("    http-request deny\n")
    t = txn_from(fe, "GET / HTTP/1.0\r\n\r\n")
    v = R.run_http_request(fe.spec.http_request, t)
    assert R.verdict_response_bytes(v, keep_alive=False).startswith(
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n"
        b"connection: close\r\n\r\n<html>")
    assert b"connection: keep-alive\r\n\r\n" in R.verdict_response_bytes(v, keep_alive=True, req_minor=0)
    assert R.verdict_response_bytes(v, head_only=True).endswith(b"text/html\r\n\r\n")


def test_redirect_with_pending_body_closes() -> None:
    fe = frontend("    http-request redirect location /x\n")
    v = R.run_http_request(fe.spec.http_request, txn_from(fe, "POST / HTTP/1.1\r\n\r\n"))
    assert R.verdict_response_bytes(v, body_pending=True) == (
        b"HTTP/1.1 302 Found\r\nconnection: close\r\ncontent-length: 0\r\nlocation: /x\r\ncache-control: no-cache\r\n\r\n")


def test_auth_realm_defaults_to_backend_once_selected() -> None:
    fe = frontend("    http-request auth\n")
    t = txn_from(fe, "GET / HTTP/1.1\r\n\r\n")

    class Be:
        name = "bk"
        spec = None

    t.sess.backend = Be()
    v = R.run_http_request(fe.spec.http_request, t)
    assert v.realm == "bk" and ("www-authenticate", 'Basic realm="bk"') in v.response.headers.items


# ------------------------------------------------------------------ variables, logging, services
def test_set_var_conditions_and_scopes() -> None:
    fe = frontend("    http-request set-var(txn.a) int(1)\n"
                  "    http-request set-var(txn.a,ifnotexists) int(2)\n"
                  "    http-request set-var(txn.b,ifexists) int(3)\n"
                  "    http-request set-var(txn.c,ifgt) int(5)\n"
                  "    http-request set-var(txn.a,ifgt) int(0)\n"
                  "    http-request set-var-fmt(req.f) \"%[var(txn.a)]-%[path]\"\n"
                  "    http-request unset-var(txn.zz)\n")
    t = txn_from(fe, "GET /p HTTP/1.1\r\n\r\n")
    assert R.run_http_request(fe.spec.http_request, t) is None
    assert t.vars == {"txn.a": 0, "req.f": "0-/p"}


def test_set_log_level_and_use_service() -> None:
    fe = frontend("    http-request set-log-level silent\n"
                  "    http-request use-service prometheus-exporter if { path /metrics }\n")
    t = txn_from(fe, "GET /metrics HTTP/1.1\r\n\r\n")
    v = R.run_http_request(fe.spec.http_request, t)
    assert t.log_level == "silent" and (v.kind, v.service) == ("use-service", "prometheus-exporter")


def test_allow_stops_evaluation() -> None:
    fe = frontend("    http-request allow if { path /a }\n    http-request deny\n")
    assert R.run_http_request(fe.spec.http_request, txn_from(fe, "GET /a HTTP/1.1\r\n\r\n")).kind == "allow"
    assert R.run_http_request(fe.spec.http_request, txn_from(fe, "GET /b HTTP/1.1\r\n\r\n")).kind == "deny"


def test_spaces_in_formats_are_kept() -> None:
    fe = frontend('    http-request set-header X "  a   b  "\n')
    t = txn_from(fe, "GET / HTTP/1.1\r\n\r\n")
    R.run_http_request(fe.spec.http_request, t)
    assert t.req.headers.get("x") == "  a   b  "


# ------------------------------------------------------------------ named defaults
DEF = """defaults def
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
    http-request set-header X-Order defaults
    http-response set-header X-R defaults
"""


def test_named_defaults_rules_run_first() -> None:
    model, msgs = parse(DEF + "frontend fe from def\n    bind :1\n    http-request add-header X-Order fe\n"
                        "frontend fe2 from def\n    bind :2\n")
    assert [m for m in msgs if m.startswith("ALERT")] == []
    fe = Fe(model.proxies[0])
    t = txn_from(fe, "GET / HTTP/1.1\r\n\r\n")
    R.run_http_request(fe.spec.http_request, t)
    assert t.req.headers.get_all("x-order") == ["defaults", "fe"]
    assert len(model.proxies[1].http_request) == 1


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ("frontend fe from def\n    bind :1\nbackend be from def\n", ("ALERT: parsing [t.cfg:10]: frontends and "
         "backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at "
         "t.cfg:1).")),
        ("listen li from def\n", ("ALERT: parsing [t.cfg:8]: a listen section cannot inherit from a defaults section "
         "defining TCP/HTTP rules.")),
        ("defaults d2 from def\n", ("ALERT: parsing [t.cfg:8]: a defaults section cannot inherit from a defaults "
         "section defining TCP/HTTP rules (defaults section at t.cfg:1).")),
    ],
)
def test_named_defaults_with_rules_serve_one_side(sections: str, message: str) -> None:
    _, msgs = parse(DEF + sections)
    assert next(m for m in msgs if m.startswith("ALERT")) == message


def test_rules_not_allowed_in_anonymous_defaults() -> None:
    _, msgs = parse("defaults\n    http-request deny\n    http-response deny\n    tcp-request content reject\n")
    assert msgs[:3] == [
        "ALERT: 'http-request' not allowed in anonymous 'defaults' section.",
        "ALERT: 'http-response' not allowed in anonymous 'defaults' section.",
        "ALERT: tcp-request content is not allowed in anonymous 'defaults' sections",
    ]


# ------------------------------------------------------------------ configuration errors and warnings
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("http-request add-header X", ("error detected in frontend 'fe' while parsing 'http-request add-header' rule : "
         "expects exactly 2 arguments.")),
        ("http-request add-header X %[foo]", ("error detected in frontend 'fe' while parsing 'http-request add-header' "
         "rule : failed to parse sample expression <foo]> : unknown fetch method 'foo'.")),
        ("http-request add-header X %[res.hdr(x)]", ("error detected in frontend 'fe' while parsing 'http-request "
         "add-header' rule : sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response "
         "headers' which is not available here.")),
        ("http-request add-header X %[req.hdr(x)", ("error detected in frontend 'fe' while parsing 'http-request "
         "add-header' rule : missing ']' after 'req.hdr(x)'.")),
        ("http-request deny deny_status 418", ("error detected in frontend 'fe' while parsing 'http-request deny' rule : "
         "status code '418' not handled by default with 'default-errorfiles' argument..")),
        ("http-request deny status 99", ("error detected in frontend 'fe' while parsing 'http-request deny' rule : "
         "Unexpected status code '99'.")),
        ("http-request use-service foo", ("error detected in frontend 'fe' while parsing 'http-request use-service' "
         "rule : 'foo' unknown service name..")),
        ("http-request set-log-level foo", ("error detected in frontend 'fe' while parsing 'http-request set-log-level' "
         "rule : expects exactly 1 argument (log level name or 'silent').")),
        ("http-request redirect foo", ("error detected in frontend 'fe' while parsing 'http-request redirect' rule : "
         "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' "
         "or 'append-slash' (was 'foo').")),
        ("http-request redirect location /x code 304", ("error detected in frontend 'fe' while parsing 'http-request "
         "redirect' rule : 'code': unsupported HTTP code '304' (must be one of 301, 302, 303, 307 or 308).")),
        ("http-request redirect code 301", ("error detected in frontend 'fe' while parsing 'http-request redirect' rule "
         ": redirection type expected ('prefix', 'location', or 'scheme').")),
        ("http-response redirect prefix /x", ("error detected in frontend 'fe' while parsing 'http-response redirect' "
         "rule : response only supports redirect type 'location'.")),
        ("http-request set-var(foo) str(x)", ("error detected in frontend 'fe' while parsing 'http-request set-var(foo)' "
         "rule : invalid variable name 'foo'. A variable name must be start by its scope. The scope can be 'proc', "
         "'sess', 'txn', 'req', 'res' or 'check'.")),
        ("http-request set-var(txn.x)", ("error detected in frontend 'fe' while parsing 'http-request set-var(txn.x)' "
         "rule : missing fetch method.")),
        ("http-request set-var(txn.x) res.hdr(x)", ("error detected in frontend 'fe' while parsing 'http-request "
         "set-var(txn.x)' rule : fetch method 'set-var(txn.x)' extracts information from 'HTTP response headers', none "
         "of which is available here.")),
        ("http-request del-header X -m foo", ("error detected in frontend 'fe' while parsing 'http-request del-header' "
         "rule : -m with unsupported matching method 'foo'.")),
        ("http-request replace-header X ( y", ("error detected in frontend 'fe' while parsing 'http-request "
         "replace-header' rule : regex '(' is invalid (error=missing closing parenthesis, erroffset=1).")),
        ("http-request set-path", ("error detected in frontend 'fe' while parsing 'http-request set-path' rule : "
         "expects exactly 1 argument <format>.")),
        ("http-request set-query a b", ("error detected in frontend 'fe' while parsing 'http-request set-query' rule : "
         "expects exactly 1 argument <format>.")),
        ("http-response set-status 99", ("error detected in frontend 'fe' while parsing 'http-response set-status' rule "
         ": expects an integer status code between 100 and 999.")),
        ("http-request return status 204 content-type text/plain string x", ("error detected in frontend 'fe' while "
         "parsing 'http-request return' rule : No body expected for 204 responses.")),
        ("http-request return string x", ("error detected in frontend 'fe' while parsing 'http-request return' rule : a "
         "content type must be defined when non-empty payload is configured.")),
        ("http-request return lf-string x", ("error detected in frontend 'fe' while parsing 'http-request return' rule : "
         "a content type must be defined with a log-format payload.")),
        ("http-request return file /nonexistent content-type x", ("error detected in frontend 'fe' while parsing "
         "'http-request return' rule : error opening file '/nonexistent'.")),
        ("http-request return string a file b", ("error detected in frontend 'fe' while parsing 'http-request return' "
         "rule : unexpected 'file' argument, 'string' already defined.")),
        ("http-request auth realm", ("error detected in frontend 'fe' while parsing 'http-request auth' rule : missing "
         "realm value.\n.")),
        ("http-request deny if foo", ("error detected while parsing an 'http-request deny' condition : no such ACL : "
         "'foo'.")),
        ("http-request add-header X y z", ("parsing [t.cfg:8]: 'http-request add-header' expects either 'if' or "
         "'unless' followed by a condition but found 'z'.")),
        ("http-request set-status 200", ("parsing [t.cfg:8]: 'http-request' expects " + ACTION_LIST +
         ", but got 'set-status'. Did you mean 'set-dst' maybe ?")),  # as haproxy 2.6
        ("http-request", ("parsing [t.cfg:8]: 'http-request' expects " + ACTION_LIST + ", but got '' "
         "(missing argument).")),
        ("tcp-request content accept x", ("'tcp-request content accept' only accepts 'if' or 'unless', in frontend 'fe' "
         "(got 'x')")),
        ("tcp-request inspect-delay 5x", ("'tcp-request inspect-delay' expects a positive delay in milliseconds, in "
         "frontend 'fe' (unexpected character 'x')")),
        ("tcp-request inspect-delay 30d", ("'tcp-request inspect-delay' expects a positive delay in milliseconds, in "
         "frontend 'fe' (timer overflow in '30d', maximum value is 2147483647 ms or ~24.8 days)")),
        ("tcp-request foo", ("'tcp-request' expects 'inspect-delay', 'connection', or 'content' in frontend 'fe' (got "
         "'foo')")),
        ("tcp-request", "missing argument for 'tcp-request' in frontend 'fe'"),
        ("tcp-request connection reject if foo", ("'tcp-request connection reject' : error detected in frontend 'fe' "
         "while parsing 'if' condition : no such ACL : 'foo'")),
    ],
)
def test_errors(line: str, message: str) -> None:
    _, msgs = parse(HEAD + f"    {line}\n" + TAIL)
    assert next(m for m in msgs if m.startswith("ALERT")) == f"ALERT: {message}"


def test_rule_errors_stop_parsing_like_haproxy() -> None:
    _, msgs = parse(HEAD + "    http-request deny if foo\n    http-request bar\n" + TAIL)
    assert [m for m in msgs if m.startswith("ALERT")] == [
        "ALERT: error detected while parsing an 'http-request deny' condition : no such ACL : 'foo'."]


def test_tcp_action_list() -> None:
    _, msgs = parse(HEAD + "    tcp-request connection foo\n" + TAIL)
    assert msgs[0] == (
        "ALERT: 'tcp-request connection' expects 'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', "
        "'track-sc0' ... 'track-sc2', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', "
        "'sc-set-gpt0(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', "
        "'set-src', 'set-src-port', 'set-tos', 'silent-drop' in frontend 'fe' (got 'foo').\n"
    )


def test_warnings() -> None:
    _, msgs = parse(HEAD + "    acl a path /y\n    http-request deny\n    http-request deny if a\n"
                    "    use_backend be if a\n    http-request add-header X 1\n"
                    "    tcp-request connection reject if { path /x }\n    tcp-request content reject\n"
                    "    http-request return status 200 hdr content-type x\n"
                    "    http-request return status 200 content-type text/plain\n"
                    "    http-request track-sc0 src\n" + TAIL)
    assert [m for m in msgs if m.startswith("WARNING")] == [
        ("WARNING: parsing [t.cfg:10]: previous 'http-request' action is final and has no condition attached, further "
        "entries are NOOP."),
        "WARNING: a 'http-request' rule placed after a 'use_backend' rule will still be processed before.",
        "WARNING: a 'tcp-request' rule placed after an 'http-request' rule will still be processed before.",
        ("WARNING: anonymous acl will never match in 'tcp-request connection' because it uses keyword 'path' which is "
        "incompatible with 'frontend tcp-request connection rule'"),
        "WARNING: a 'tcp-request' rule placed after an 'http-request' rule will still be processed before.",
        "WARNING: header 'content-type' always ignored by the http reply.",
        "WARNING: a 'http-request' rule placed after a 'use_backend' rule will still be processed before.",
        ("WARNING: parsing [t.cfg:16]: previous 'http-request' action is final and has no condition attached, further "
        "entries are NOOP."),
        "WARNING: content-type 'text/plain' ignored by the http reply because neither errorfile nor payload defined.",
        "WARNING: a 'http-request' rule placed after a 'use_backend' rule will still be processed before.",
        ("WARNING: parsing [t.cfg:17]: previous 'http-request' action is final and has no condition attached, further "
        "entries are NOOP."),
        "WARNING: a 'http-request' rule placed after a 'use_backend' rule will still be processed before.",
    ]
    # the track-sc0 rule names the frontend's own table, which it does not have (as haproxy 2.6 says)
    assert [m for m in msgs if m.startswith("ALERT")] == [
        "ALERT: Proxy 'fe': unable to find table 'fe' referenced by track-sc0."]


# ------------------------------------------------------------------ tcp-request
def test_tcp_rules() -> None:
    model, _ = parse(HEAD + "    tcp-request inspect-delay 5s\n"
                     "    tcp-request connection reject if { src 10.0.0.0/8 }\n"
                     "    tcp-request connection accept if { src 10.1.0.0/16 }\n"
                     "    tcp-request content accept if { req.hdr(x) ok }\n"
                     "    tcp-request content reject\n" + TAIL)
    spec = model.proxies[0]
    fe = Fe(spec)
    assert spec.extra["tcp_inspect_delay"] == 5000

    def sess(ip: str) -> Session:
        return Session(fe, None, (ip, 1), ("127.0.0.1", 80))

    assert R.run_tcp_connection(spec.tcp_request_connection, sess("10.1.2.3")) is False  # first rule wins
    assert R.run_tcp_connection(spec.tcp_request_connection, sess("192.168.0.1")) is True
    t = txn_from(fe, "GET / HTTP/1.1\r\nX: ok\r\n\r\n")
    assert R.run_tcp_content(spec.tcp_request_content, t.sess, t) is True
    assert R.run_tcp_content(spec.tcp_request_content, t.sess, None) is False


def test_http_reason_phrases() -> None:
    assert R.http_reason(302) == "Moved Temporarily"
    assert R.http_reason(299) == "Success"
    assert R.http_reason(418) == "I'm a teapot"
    assert R.http_reason(999) == "Other"
