#!/usr/bin/env bash
# The gettext workflow: extract every marked string, update each catalog, compile them.
#   bash scripts/translations.sh            # extract + update + compile
#   bash scripts/translations.sh compile    # compile only (what set-up runs; quiet unless it fails)
#   bash scripts/translations.sh init LANG  # start a new catalog
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-pybabel}
case "${1:-all}" in
  compile)
    "$PYBABEL" --quiet compile -d translations ;;
  init)
    "$PYBABEL" init -i translations/messages.pot -d translations -l "$2" ;;
  all)
    "$PYBABEL" extract -F babel.cfg -k lazy_gettext -k _l -k lazy_pgettext:1c,2 -o translations/messages.pot \
      --project Buyflow --copyright-holder "Buyflow contributors" --no-location .
    "$PYBABEL" update -i translations/messages.pot -d translations --ignore-obsolete
    "$PYBABEL" compile -d translations ;;
  *)
    echo "usage: $0 [all|compile|init LANG]" >&2; exit 2 ;;
esac
