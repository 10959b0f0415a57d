#!/usr/bin/env bash
# Sets up and runs every test: builds the embed library (npm ci + esbuild) and checks its
# size budget, runs its unit tests (Node) and the Python suite, browser tests included (Debian's Chromium, installed here when missing).
#   bash scripts/test.sh                 # everything, on SQLite
#   bash scripts/test.sh -k verify       # arguments go to pytest
#   BUYFLOW_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_venv test

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests..."
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

echo "== embed-js: build, size budget, unit tests (node --test, jsdom)"
build_embed
(cd embed-js && node --test test/)

echo "== Python suite${BUYFLOW_TEST_DATABASE_URL:+ on $BUYFLOW_TEST_DATABASE_URL}"
exec .venv/bin/python -m pytest "$@"
