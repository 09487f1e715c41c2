"""What a response-side rule sees, checked against ``haproxy -db`` 2.6: the request's
headers are gone once it was sent, so a condition on them "will never match" (and its
negation always does), and the status a generated page shows is the one it answers
with (``%ST`` of an ``http-response deny`` page is 502), and ``res.body`` in an
``http-after-response`` rule is that page."""

from __future__ import annotations

import pytest
from differential.corpus import DIFF_HEAD, Config, req, scenario
from differential.harness import assert_same, needs_haproxy

pytestmark = pytest.mark.timeout(60)


PLACES = Config("rule-places", DIFF_HEAD + """
frontend fe
    bind 127.0.0.1:@fe@
    acl mixed path /x
    acl mixed res.hdr(x-backend) -m found
    http-error status 502 content-type text/plain lf-string "st=%ST"
    http-response set-header X-Never yes if { path /x }
    http-response set-header X-Negated yes if !{ path /x }
    http-response set-header X-Mixed yes if mixed
    http-response set-header X-Method %[method] if { method GET }
    http-request set-var(txn.deny) str(1) if { path_beg /deny }
    http-request deny if { path /refused }
    http-after-response set-header X-Body-Len %[res.body_len]
    http-after-response set-header X-Body-Has yes if { res.body -m sub Forbidden }
    http-response deny if { status 200 } { url_param(deny) -m found } || { res.hdr(x-backend) -m found } { var(txn.deny) -m found }
    default_backend be

backend be
    server s1 127.0.0.1:@s1@
""", ("fe",))

SCENARIOS = [
    scenario("request-headers-gone", PLACES, "fe", req(uri="/x")),
    scenario("other-path", PLACES, "fe", req(uri="/y")),
    scenario("deny-page-status", PLACES, "fe", req(uri="/deny?deny=1")),
    scenario("generated-page-body", PLACES, "fe", req(uri="/refused")),
]


@needs_haproxy
def test_differential_rule_places(tmp_path):
    assert_same(PLACES, SCENARIOS, tmp_path)
