"""HAProxy 2.6's own keyword names (facts from its configuration manual, §3 and §4.1).

Used only to tell a real HAProxy keyword that gproxy does not implement yet (a warning,
the line is skipped) from a typo (an alert with a suggestion).  Pure data.
"""

from __future__ import annotations

_GLOBAL = """
ca-base chroot close-spread-time cluster-secret cpu-map crt-base daemon default-path
description expose-experimental-directives external-check fd-hard-limit gid grace group
h1-accept-payload-with-any-method h1-case-adjust h1-case-adjust-file
h2-workaround-bogus-websocket-clients hard-stop-after httpclient.resolvers.id
httpclient.resolvers.prefer httpclient.ssl.ca-file httpclient.ssl.verify
insecure-fork-wanted insecure-setuid-wanted issuers-chain-path localpeer log
log-send-hostname log-tag lua-load lua-load-per-thread lua-prepend-path master-worker
mworker-max-reloads nbthread node numa-cpu-mapping pidfile pp2-never-send-local presetenv
resetenv uid ulimit-n unix-bind unsetenv set-dumpable set-var set-var-fmt setenv
ssl-default-bind-ciphers ssl-default-bind-ciphersuites ssl-default-bind-curves
ssl-default-bind-options ssl-default-server-ciphers ssl-default-server-ciphersuites
ssl-default-server-options ssl-dh-param-file ssl-mode-async ssl-propquery ssl-provider
ssl-provider-path ssl-server-verify ssl-skip-self-issued-ca ssl-load-extra-files
ssl-load-extra-del-ext stats strict-limits thread-group thread-groups user busy-polling
max-spread-checks maxconn maxconnrate maxcomprate maxcompcpuusage maxpipes maxsessrate
maxsslconn maxsslrate maxzlibmem no-memory-trimming noepoll nokqueue noevports nopoll
nosplice nogetaddrinfo noreuseport profiling.tasks spread-checks quiet zero-warning
"""

_PROXY = """
acl backlog balance bind capture cookie declare default-server default_backend
description disabled dispatch email-alert enabled errorfile errorfiles errorloc
errorloc302 errorloc303 force-persist filter fullconn grace hash-balance-factor
hash-type http-after-response http-check http-error http-request http-response
http-reuse http-send-name-header id ignore-persist load-server-state-from-file log
log-format log-format-sd log-tag max-keep-alive-queue maxconn mode monitor
monitor-uri option persist rate-limit redirect retries retry-on server
server-state-file-name server-template source stats tcp-check
tcp-request tcp-response timeout transparent unique-id-format unique-id-header
use_backend use-fcgi-app use-server clitcpka-cnt clitcpka-idle clitcpka-intvl
srvtcpka-cnt srvtcpka-idle srvtcpka-intvl compression external-check
"""

HAPROXY_OPTIONS = frozenset(
    ["abortonclose", "accept-invalid-http-request", "accept-invalid-http-response", "allbackups", "checkcache", "clitcpka", "contstats", "disable-h2-upgrade", "dontlog-normal", "dontlognull", "forwardfor", "forwarded", "h1-case-adjust-bogus-client", "h1-case-adjust-bogus-server", "http-buffer-request", "http-ignore-probes", "http-keep-alive", "http-no-delay", "http-pretend-keepalive", "http-restrict-req-hdr-names", "http-server-close", "http-use-proxy-header", "httpchk", "httpclose", "httplog", "httpslog", "http_proxy", "independent-streams", "ldap-check", "external-check", "log-health-checks", "log-separate-errors", "logasap", "mysql-check", "nolinger", "originalto", "persist", "pgsql-check", "prefer-last-server", "redispatch", "redis-check", "smtpchk", "socket-stats", "splice-auto", "splice-request", "splice-response", "spop-check", "srvtcpka", "ssl-hello-chk", "tcp-check", "tcp-smart-accept", "tcp-smart-connect", "tcpka", "tcplog", "transparent", "idle-close-on-response"]
)


# ----------------------------------------------------------------------------------------
# Candidate lists for HAProxy's "did you mean" (cfg_find_best_match() & co).  Taken from
# `haproxy -dKcfg` of the Debian 2.6 build plus the common_kw_list / cfg_opts / cfg_opts2 /
# common_options arrays of src/cfgparse-{global,listen}.c and src/proxy.c (v2.6.0), in
# their order: the first candidate at the smallest distance wins, as in HAProxy.

_GLOBAL_REGISTERED = """
ca-base close-spread-time crt-base default-path grace h1-accept-payload-with-any-method
h1-case-adjust h1-case-adjust-file hard-stop-after httpclient.resolvers.id
httpclient.resolvers.prefer httpclient.ssl.ca-file httpclient.ssl.verify issuers-chain-path
lua-load lua-load-per-thread lua-prepend-path maxsslconn mworker-max-reloads nbthread
no-memory-trimming pp2-never-send-local profiling.tasks set-var set-var-fmt
ssl-default-bind-ciphers ssl-default-bind-ciphersuites ssl-default-bind-curves
ssl-default-bind-options ssl-default-server-ciphers ssl-default-server-ciphersuites
ssl-default-server-options ssl-dh-param-file ssl-load-extra-del-ext ssl-load-extra-files
ssl-mode-async ssl-propquery ssl-provider ssl-provider-path ssl-skip-self-issued-ca stats
thread-group thread-groups tune.fail-alloc tune.fd.edge-triggered tune.h2.header-table-size
tune.h2.initial-window-size tune.h2.max-concurrent-streams tune.h2.max-frame-size
tune.idle-pool.shared tune.listener.multi-queue tune.lua.forced-yield tune.lua.maxmem
tune.lua.service-timeout tune.lua.session-timeout tune.lua.task-timeout
tune.peers.max-updates-at-once tune.pool-high-fd-ratio tune.pool-low-fd-ratio
tune.sched.low-latency tune.ssl.cachesize tune.ssl.capture-buffer-size
tune.ssl.capture-cipherlist-size tune.ssl.default-dh-param tune.ssl.force-private-cache
tune.ssl.hard-maxrecord tune.ssl.keylog tune.ssl.lifetime tune.ssl.maxrecord
tune.ssl.ssl-ctx-cache-size tune.vars.check-max-size tune.vars.global-max-size
tune.vars.proc-max-size tune.vars.reqres-max-size tune.vars.sess-max-size
tune.vars.txn-max-size
"""

_GLOBAL_COMMON = """
global daemon master-worker noepoll nokqueue noevports nopoll busy-polling set-dumpable
insecure-fork-wanted insecure-setuid-wanted nosplice nogetaddrinfo noreuseport quiet
zero-warning tune.runqueue-depth tune.maxpollevents tune.maxaccept tune.recv_enough
tune.buffers.limit tune.buffers.reserve tune.bufsize tune.maxrewrite tune.idletimer
tune.rcvbuf.client tune.rcvbuf.server tune.sndbuf.client tune.sndbuf.server tune.pipesize
tune.http.cookielen tune.http.logurilen tune.http.maxhdr tune.comp.maxlevel
tune.pattern.cache-size uid gid external-check user group nbproc maxconn
ssl-server-verify maxconnrate maxsessrate maxsslrate maxcomprate maxpipes maxzlibmem
maxcompcpuusage ulimit-n chroot description node pidfile unix-bind log log-send-hostname
server-state-base server-state-file log-tag spread-checks max-spread-checks cpu-map setenv
presetenv unsetenv resetenv strict-limits localpeer numa-cpu-mapping defaults listen
frontend backend peers resolvers cluster-secret
"""

_LISTEN_REGISTERED = """
clitcpka-cnt clitcpka-idle clitcpka-intvl clitimeout compression contimeout declare
errorfile errorfiles errorloc errorloc302 errorloc303 external-check filter http-check
http-error max-keep-alive-queue rate-limit retry-on srvtcpka-cnt srvtcpka-idle
srvtcpka-intvl srvtimeout tcp-check tcp-request tcp-response timeout use-fcgi-app
"""

_LISTEN_COMMON = """
listen frontend backend defaults server default-server server-template bind monitor-net
monitor-uri mode id description disabled enabled bind-process acl dynamic-cookie-key cookie
email-alert persist appsession load-server-state-from-file server-state-file-name
max-session-srv-conns capture retries http-request http-response http-after-response
http-send-name-header block redirect use_backend use-server force-persist ignore-persist
force-persist stick-table stick stats option default_backend http-reuse monitor transparent
maxconn backlog fullconn dispatch balance hash-type hash-balance-factor unique-id-format
unique-id-header log-format log-format-sd log-tag log source usesrc error-log-format
"""

_CFG_OPTS = """
abortonclose allbackups checkcache clitcpka contstats dontlognull http-buffer-request
http-ignore-probes idle-close-on-response prefer-last-server logasap nolinger persist
srvtcpka transparent
splice-request splice-response splice-auto accept-invalid-http-request
accept-invalid-http-response dontlog-normal log-separate-errors log-health-checks
socket-stats tcp-smart-accept tcp-smart-connect independent-streams http-use-proxy-header
http-pretend-keepalive http-no-delay h1-case-adjust-bogus-client h1-case-adjust-bogus-server
disable-h2-upgrade
"""

_COMMON_OPTIONS = """
httpclose http-server-close http-keep-alive redispatch httplog tcplog tcpka httpchk
ssl-hello-chk smtpchk pgsql-check redis-check mysql-check ldap-check spop-check tcp-check
external-check forwardfor original-to
"""

# parameter name, then "+N" when it takes N value words (-1: the rest, 'source')
_SERVER_KWS = """
addr+1 agent-addr+1 agent-check agent-inter+1 agent-port+1 agent-send+1 allow-0rtt alpn+1
backup ca-file+1 check check-alpn+1 check-proto+1 check-send-proxy check-sni+1 check-ssl
check-via-socks4 ciphers+1 ciphersuites+1 cookie+1 crl-file+1 crt+1 disabled downinter+1
enabled error-limit+1 fall+1 fastinter+1 force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12
force-tlsv13 id+1 init-addr+1 inter+1 log-proto+1 max-reuse+1 maxconn+1 maxqueue+1 minconn+1
namespace+1 no-agent-check no-backup no-check no-check-send-proxy no-check-ssl no-send-proxy
no-send-proxy-v2 no-send-proxy-v2-ssl no-send-proxy-v2-ssl-cn no-ssl no-ssl-reuse no-sslv3
no-tfo no-tls-tickets no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13 non-stick npn+1 observe+1
on-error+1 on-marked-down+1 on-marked-up+1 pool-low-conn+1 pool-max-conn+1
pool-purge-delay+1 port+1 proto+1 proxy-v2-options+1 redir+1 resolve-net+1 resolve-opts+1
resolve-prefer+1 resolvers+1 rise+1 send-proxy send-proxy-v2 send-proxy-v2-ssl
send-proxy-v2-ssl-cn slowstart+1 sni+1 socks4+1 source+-1 ssl ssl-max-ver+1 ssl-min-ver+1
ssl-reuse stick tcp-ut+1 tfo tls-tickets track+1 usesrc verify+1 verifyhost+1 weight+1 ws+1
"""

_BIND_KWS = """
accept-netscaler-cip+1 accept-proxy backlog+1 defer-accept expose-fd+1 gid+1 group+1 id+1
interface+1 level+1 maxconn+1 mode+1 mss+1 name+1 namespace+1 nice+1 process+1 proto+1
severity-output+1 shards+1 tcp-ut+1 tfo thread+1 transparent uid+1 user+1 v4v6 v6only
allow-0rtt alpn+1 ca-file+1 ca-ignore-err+1 ca-sign-file+1 ca-sign-pass+1 ca-verify-file+1
ciphers+1 ciphersuites+1 crl-file+1 crt+1 crt-ignore-err+1 crt-list+1 curves+1 ecdhe+1
force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12 force-tlsv13 generate-certificates
no-ca-names no-sslv3 no-tls-tickets no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13 npn+1
prefer-client-ciphers ssl ssl-max-ver+1 ssl-min-ver+1 strict-sni tls-ticket-keys+1 verify+1
"""


def _arity(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in text.split():
        name, _, n = item.partition("+")
        out[name] = int(n) if n else 0
    return out


#: server / bind parameters HAProxy 2.6 knows -> number of value words they take
HAPROXY_SERVER_KEYWORDS = _arity(_SERVER_KWS)
HAPROXY_BIND_KEYWORDS = _arity(_BIND_KWS)

SUGGEST_GLOBAL = tuple(_GLOBAL_REGISTERED.split()) + tuple(_GLOBAL_COMMON.split())
SUGGEST_PROXY = tuple(_LISTEN_REGISTERED.split()) + tuple(_LISTEN_COMMON.split())
SUGGEST_OPTIONS = tuple(_CFG_OPTS.split()) + tuple(_COMMON_OPTIONS.split())
SUGGEST_SERVER = tuple(HAPROXY_SERVER_KEYWORDS)
SUGGEST_BIND = tuple(HAPROXY_BIND_KEYWORDS)


def _fingerprint(word: str) -> dict[int, int]:
    """HAProxy's make_word_fingerprint() (src/tools.c) as a sparse table."""
    fp: dict[int, int] = {}
    frm = 28  # begin
    for ch in word.lower():
        if "a" <= ch <= "z":
            to = ord(ch) - ord("a") + 1
        elif "0" <= ch <= "9":
            to = 27
        else:
            to = 28
        fp[to] = 1
        fp[32 * frm + to] = fp.get(32 * frm + to, 0) + 1
        frm = to
    fp[32 * frm + 28] = fp.get(32 * frm + 28, 0) + 1  # end
    return fp


def _distance(a: dict[int, int], b: dict[int, int]) -> int:
    return sum(abs(a.get(k, 0) - b.get(k, 0)) for k in a.keys() | b.keys())


def best_match(word: str, candidates: tuple[str, ...]) -> str | None:
    """HAProxy's cfg_find_best_match(): the closest candidate by fingerprint distance, or None
    when it is more than twice as far as either word is long."""
    sig = _fingerprint(word)
    best, best_dist = None, None
    for cand in candidates:
        dist = _distance(sig, _fingerprint(cand))
        if best_dist is None or dist < best_dist:
            best, best_dist = cand, dist
    if best is None or best_dist is None or best_dist > 2 * len(word) or best_dist > 2 * len(best):
        return None
    return best


_GLOBAL_ALL = frozenset(_GLOBAL.split() + _GLOBAL_REGISTERED.split() + _GLOBAL_COMMON.split())
_PROXY_ALL = frozenset(_PROXY.split() + _LISTEN_REGISTERED.split() + _LISTEN_COMMON.split()) - {
    "listen", "frontend", "backend", "defaults", "monitor-net", "bind-process", "appsession", "block",
    "max-session-srv-conns", "clitimeout", "contimeout", "srvtimeout",
}
HAPROXY_SECTION_KEYWORDS: dict[str, frozenset[str]] = {
    "global": _GLOBAL_ALL - {"global", "defaults", "listen", "frontend", "backend", "peers", "resolvers", "nbproc"},
    "defaults": _PROXY_ALL,
    "frontend": _PROXY_ALL,
    "backend": _PROXY_ALL,
    "listen": _PROXY_ALL,
}

#: Sections HAProxy 2.6 registers that gproxy does not parse yet.
OTHER_SECTIONS = frozenset(
    ["userlist", "peers", "resolvers", "mailers", "program", "http-errors", "ring", "log-forward", "cache", "fcgi-app", "crt-store"]
)
