# Shared set-up for scripts/run.sh and scripts/test.sh (sourced, not run).
# Makes .venv with the project and its extras installed, and compiles the translations.
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
}
