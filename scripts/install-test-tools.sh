#!/usr/bin/env bash
# Every external tool the test suite judges output with; each installer is idempotent and quiet.
set -euo pipefail
cd "$(dirname "$0")"
for installer in install-export-tools.sh install-browser.sh install-schemathesis.sh install-deploy-tools.sh; do
  [ -x "$installer" ] && "./$installer"
done
exit 0
