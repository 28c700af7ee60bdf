#!/usr/bin/env bash
# Installs schemathesis (the OpenAPI fuzzer used by tests/api/schemathesis.rs) with pip when it is
# missing. Idempotent; prints the path of the `st` command it leaves on PATH.
set -euo pipefail
VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
if command -v st >/dev/null 2>&1 && st --version 2>/dev/null | grep -q "$VERSION"; then
  command -v st
  exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check "schemathesis==${VERSION}"
# pyenv and user installs put the script in places a fresh shell may not have hashed yet.
hash -r 2>/dev/null || true
command -v st
