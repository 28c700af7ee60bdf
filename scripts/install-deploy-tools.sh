#!/usr/bin/env bash
# Installs the real components the deployment tests (tests/cluster/deploy_*.rs) run Buko behind:
# nginx (the proxy config in deploy/nginx), PgBouncer (transaction pooling) and Prometheus's
# `promtool` (checks deploy/prometheus/alerts.yml). yamllint checks the compose and Kubernetes files.
# Idempotent: prints nothing and exits 0 when everything is present. The packages' own services are
# not started (the tests start private instances on loopback with random ports). Needs root or sudo.
set -euo pipefail

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v yamllint >/dev/null 2>&1 || missing+=(yamllint)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

echo "install-deploy-tools: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Keep the packages' init scripts from starting system-wide daemons on ports 80 / 6432 / 9090.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    created_policy=1
fi
cleanup() { [ "$created_policy" -eq 1 ] && $SUDO rm -f "$policy"; return 0; }
trap cleanup EXIT
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
