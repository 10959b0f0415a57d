#!/usr/bin/env bash
# Sets up and runs every test: builds the embed library (npm ci + esbuild) and checks its
# size budget, runs its unit tests (Node) and the Python suite, browser tests included
# (Debian's Chromium and a Japanese font, installed here when missing; axe-core from npm
# into tests/e2e/node_modules).
#   bash scripts/test.sh                 # everything, on SQLite
#   bash scripts/test.sh -k verify       # arguments go to pytest
#   BUYFLOW_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_venv test

# Debian packages the browser tests need: chromium, and fonts for the screenshots
# (DejaVu, which chromium pulls in, covers Arabic and Hebrew; Japanese needs its own).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list :lang=ja 2>/dev/null | grep -q . || missing+=(fonts-ipafont-gothic)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian's ${missing[*]} for the browser tests..."
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# axe-core, pinned by tests/e2e/package-lock.json; reinstalled when the lock changes.
if [ ! -f tests/e2e/node_modules/.package-lock.json ] \
   || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
  quietly npm ci --no-audit --no-fund --prefix tests/e2e
fi

echo "== embed-js: build, size budget, unit tests (node --test, jsdom)"
build_embed
(cd embed-js && node --test test/)

echo "== Python suite${BUYFLOW_TEST_DATABASE_URL:+ on $BUYFLOW_TEST_DATABASE_URL}"
exec .venv/bin/python -m pytest "$@"
