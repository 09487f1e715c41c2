"""HAProxy 2.6's own keyword names (facts from its configuration manual, §3 and §4.1).

Used only to tell a real HAProxy keyword that gproxy does not implement yet (a warning,
the line is skipped) from a typo (an alert with a suggestion).  Pure data.
"""

from __future__ import annotations

_GLOBAL = """
ca-base chroot close-spread-time cluster-secret cpu-map crt-base daemon default-path
description deviceatlas-json-file deviceatlas-log-level deviceatlas-separator
deviceatlas-properties-cookie expose-experimental-directives external-check
fd-hard-limit gid grace group h1-accept-payload-with-any-method h1-case-adjust
h1-case-adjust-file h2-workaround-bogus-websocket-clients hard-stop-after
httpclient.resolvers.disabled httpclient.resolvers.id httpclient.resolvers.prefer
httpclient.ssl.ca-file httpclient.ssl.verify insecure-fork-wanted insecure-setuid-wanted
issuers-chain-path localpeer log log-send-hostname log-tag lua-load lua-load-per-thread
lua-prepend-path master-worker mworker-max-reloads nbthread node numa-cpu-mapping pidfile
pp2-never-send-local presetenv resetenv uid ulimit-n unix-bind unsetenv set-dumpable
set-var set-var-fmt setenv ssl-default-bind-ciphers ssl-default-bind-ciphersuites
ssl-default-bind-curves ssl-default-bind-options ssl-default-server-ciphers
ssl-default-server-ciphersuites ssl-default-server-options ssl-dh-param-file
ssl-engine ssl-mode-async ssl-propquery ssl-provider ssl-provider-path ssl-server-verify
ssl-skip-self-issued-ca ssl-load-extra-files ssl-load-extra-del-ext stats strict-limits
thread-group thread-groups trace user wurfl-data-file wurfl-information-list
wurfl-information-list-separator wurfl-cache-size 51degrees-data-file
51degrees-property-name-list 51degrees-property-separator 51degrees-cache-size
busy-polling max-spread-checks maxconn maxconnrate maxcomprate maxcompcpuusage
maxpipes maxsessrate maxsslconn maxsslrate maxzlibmem no-memory-trimming noepoll
nokqueue noevports nopoll nosplice nogetaddrinfo noreuseport profiling.tasks
spread-checks ssl-use-async quiet zero-warning debug anonkey
"""

_PROXY = """
acl backlog balance bind capture cookie declare default-server default_backend
description disabled dispatch email-alert enabled errorfile errorfiles errorloc
errorloc302 errorloc303 force-persist filter fullconn grace hash-balance-factor
hash-type http-after-response http-check http-error http-request http-response
http-reuse http-send-name-header id ignore-persist load-server-state-from-file log
log-format log-format-sd log-tag max-keep-alive-queue maxconn mode monitor
monitor-uri option persist rate-limit redirect retries retry-on server
server-state-file-name server-template source stats stick stick-table tcp-check
tcp-request tcp-response timeout transparent unique-id-format unique-id-header
use_backend use-fcgi-app use-server clitcpka-cnt clitcpka-idle clitcpka-intvl
srvtcpka-cnt srvtcpka-idle srvtcpka-intvl compression external-check
"""

HAPROXY_OPTIONS = frozenset(
    ["abortonclose", "accept-invalid-http-request", "accept-invalid-http-response", "allbackups", "checkcache", "clitcpka", "contstats", "disable-h2-upgrade", "dontlog-normal", "dontlognull", "forwardfor", "forwarded", "h1-case-adjust-bogus-client", "h1-case-adjust-bogus-server", "http-buffer-request", "http-ignore-probes", "http-keep-alive", "http-no-delay", "http-pretend-keepalive", "http-restrict-req-hdr-names", "http-server-close", "http-use-proxy-header", "httpchk", "httpclose", "httplog", "httpslog", "http_proxy", "independent-streams", "ldap-check", "external-check", "log-health-checks", "log-separate-errors", "logasap", "mysql-check", "nolinger", "originalto", "persist", "pgsql-check", "prefer-last-server", "redispatch", "redis-check", "smtpchk", "socket-stats", "splice-auto", "splice-request", "splice-response", "spop-check", "srvtcpka", "ssl-hello-chk", "tcp-check", "tcp-smart-accept", "tcp-smart-connect", "tcpka", "tcplog", "transparent", "idle-close-on-response"]
)

HAPROXY_SECTION_KEYWORDS: dict[str, frozenset[str]] = {
    "global": frozenset(_GLOBAL.split()),
    "defaults": frozenset(_PROXY.split()),
    "frontend": frozenset(_PROXY.split()),
    "backend": frozenset(_PROXY.split()),
    "listen": frozenset(_PROXY.split()),
}

#: Sections HAProxy 2.6 registers that gproxy does not parse yet.
OTHER_SECTIONS = frozenset(
    ["userlist", "peers", "resolvers", "mailers", "program", "http-errors", "ring", "log-forward", "cache", "fcgi-app", "crt-store"]
)
