"""Packages point one way: ``management`` uses ``buyflow``, never the reverse. Only the
app's composition (``buyflow/__init__.py``) names both."""

import ast
import re

from buyflow import PROJECT_ROOT

BUYFLOW = PROJECT_ROOT / "buyflow"
COMPOSITION_ROOT = BUYFLOW / "__init__.py"


def _sources():
    return [path for path in BUYFLOW.rglob("*.py")
            if path != COMPOSITION_ROOT and "migrations" not in path.parts]


def test_buyflow_never_imports_management():
    importers = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name == "management" or name.startswith("management.") for name in names):
                importers.append(str(path.relative_to(PROJECT_ROOT)))
    assert importers == []


def test_buyflow_names_no_endpoint_of_management(app):
    """No string in buyflow's code or templates names a management endpoint
    (``account.receipt``...): the pages its mails link to are told by management
    (``buyflow/links.py``)."""
    blueprints = {name for name, blueprint in app.blueprints.items()
                  if blueprint.import_name.split(".")[0] == "management"}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.endpoint.split(".")[0] in blueprints}
    named = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in endpoints:
                named.append((str(path.relative_to(PROJECT_ROOT)), node.value))
    in_templates = re.compile(rf"""url_for\(\s*['"]({'|'.join(blueprints)})\.""")
    for path in BUYFLOW.rglob("templates/**/*"):
        if path.is_file() and in_templates.search(path.read_text()):
            named.append((str(path.relative_to(PROJECT_ROOT)), "url_for"))
    assert blueprints >= {"account", "auth", "management"} and "account.receipt" in endpoints
    assert named == []
