#!/usr/bin/env bash
# Static checks, run by CI (.ci/run) before the tests:
#   bandit over the service's code (buyflow/, management/): an issue of medium severity or
#   above fails (a finding that is not one carries `# nosec BXXX` with its reason);
#   pip-audit over the installed dependencies, where its vulnerability database (PyPI's
#   JSON API) answers; where it does not, one line says the audit was skipped.
# The tools come with the project's `test` extra (scripts/lib/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_venv test

echo "== bandit: buyflow/ management/ (medium severity and above fail)"
.venv/bin/bandit --quiet --recursive --severity-level medium buyflow management
echo "bandit: no issue of medium severity or above"

echo "== pip-audit: known vulnerabilities in the dependencies"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
errors=$(.venv/bin/pip-audit --skip-editable --progress-spinner off --format json \
           --output "$report" 2>&1 >/dev/null) || status=$?
.venv/bin/python - "$report" "$status" "$errors" <<'PY'
"""Reads pip-audit's JSON report: fails on a known vulnerability, skips (saying so) when
the vulnerability database could not be reached or audited nothing."""
import json
import sys

path, status, errors = sys.argv[1], int(sys.argv[2]), sys.argv[3].strip()
try:
    with open(path) as f:
        dependencies = json.load(f)["dependencies"]
except (OSError, ValueError, KeyError):
    reason = errors.splitlines()[-1] if errors else f"pip-audit exited {status}"
    print(f"pip-audit: SKIPPED, its vulnerability database could not be reached ({reason})")
    sys.exit(0)
audited = [d for d in dependencies if "skip_reason" not in d]
if not audited:
    print(f"pip-audit: SKIPPED, its vulnerability database (PyPI's JSON API) knows none of "
          f"the {len(dependencies)} installed packages: it cannot be reached from here")
    sys.exit(0)
vulnerable = [d for d in audited if d.get("vulns")]
for d in vulnerable:
    for vuln in d["vulns"]:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
        print(f"pip-audit: {d['name']} {d['version']}: {vuln['id']} (fixed in {fixed})")
not_audited = sorted(d["name"] for d in dependencies if "skip_reason" in d)
print(f"pip-audit: {len(audited)} packages audited, {len(vulnerable)} with known "
      f"vulnerabilities" + (f"; not on PyPI: {', '.join(not_audited)}" if not_audited else ""))
sys.exit(1 if vulnerable or status not in (0, 1) else 0)
PY
