# Shared set-up for scripts/run.sh and scripts/test.sh (sourced, not run).
# Makes .venv with the project and its extras installed, and compiles the translations;
# installs Debian's CJK font for PDF receipts when missing; build_embed builds the embed
# library the service serves.
# Re-running is cheap: pip is skipped while pyproject.toml has not changed.

ensure_venv() {
  local extras=$1
  local python=${PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed-$extras"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[$extras]"
    touch "$stamp"
  fi
  PYBABEL=.venv/bin/pybabel bash scripts/translations.sh compile >/dev/null
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
  (cd embed-js && npm ci --no-audit --no-fund && npm run --silent build && npm run --silent size)
}
