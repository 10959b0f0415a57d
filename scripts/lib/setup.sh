# Shared set-up for scripts/run.sh and scripts/test.sh (sourced, not run).
# Makes .venv with the project and its extras installed, and compiles the translations;
# installs Debian's CJK font for PDF receipts when missing; build_embed builds the embed
# library the service serves. Each step is quiet unless it fails (then its output shows).
# Re-running is cheap: pip is skipped while pyproject.toml has not changed.

# Runs a command, showing its output (stdout and stderr) only when it fails.
quietly() {
  local log status=0
  log=$(mktemp)
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    cat "$log" >&2
  fi
  rm -f "$log"
  return "$status"
}

ensure_venv() {
  local extras=$1
  local python=${PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed-$extras"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    quietly .venv/bin/python -m pip install --upgrade pip
    quietly .venv/bin/python -m pip install -e ".[$extras]"
    touch "$stamp"
  fi
  quietly env PYBABEL=.venv/bin/pybabel bash scripts/translations.sh compile
  ensure_cjk_font
}

# PDF receipts in Chinese, Japanese and Korean are set in this font (RECEIPT_CJK_FONT).
ensure_cjk_font() {
  if [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then
    echo "Installing Debian's fonts-wqy-microhei for PDF receipts in Chinese, Japanese and Korean..."
    local sudo
    sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq fonts-wqy-microhei >/dev/null
  fi
}

# Installs the embed library's pinned build tools (npm ci) and builds
# embed-js/dist/buyflow.min.js, then prints its gzipped size and fails over the budget.
build_embed() {
  (cd embed-js && quietly npm ci --no-audit --no-fund && quietly npm run --silent build \
     && npm run --silent size)
}
