#!/bin/sh
# Install everything the test suite needs (Debian packages, the project with its test
# extras) and run the whole suite. Used verbatim by .ci/run and quoted in the README.
set -eu
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=""
for pair in haproxy:haproxy nginx:nginx-light mariadbd:mariadb-server socat:socat wrk:wrk promtool:prometheus \
        chromium:chromium chromedriver:chromium-driver; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || need="$need $pkg"
done
if [ -n "$need" ]; then
    apt-get update -qq
    apt-get install -y -qq $need >/dev/null
fi
python3 -m pip install -q -e '.[test]'
python3 -m ruff check gproxy tests bench gproxy.py setup.py
# every test starts gproxy processes that import it from this tree: byte-compile it once
# (PYTHONDONTWRITEBYTECODE may be set) instead of in each process (0.75 s -> 0.45 s a start)
python3 -m compileall -q gproxy
python3 -m pytest -q "$@"
