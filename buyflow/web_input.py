"""Bad input refused at the door, for every area at once, before any view runs.

- Bodies larger than ``MAX_CONTENT_LENGTH`` (and form parts over ``MAX_FORM_MEMORY_SIZE``
  or ``MAX_FORM_PARTS``) are refused by Werkzeug with 413 while being read.
- A JSON body is read through the app's JSON provider, which refuses nesting deeper than
  ``JSON_MAX_DEPTH`` before parsing it (Python's parser recurses once per level and fails
  deep inside), NaN and Infinity (not JSON), and NUL or a lone surrogate in any string or
  key (PostgreSQL text cannot hold NUL; a lone surrogate cannot be encoded as UTF-8 for any
  database).
- The path's values, the query and the form fields are refused when they hold NUL, a lone
  surrogate or another control character; form fields may hold tab, line feed and carriage
  return (text areas send them). Header values are refused when they hold NUL.

A refusal is an ``InputRefused``: a 400 ``BadRequest`` whose ``error_code`` is stable
(``invalid_characters``, ``json_too_deep``). Being an HTTPException, not a ValueError, it
is not swallowed by ``get_json(silent=True)``; each area answers it in its own way (JSON
for the API and the flow's calls, a localized page elsewhere). Werkzeug's 413 has no such
code: areas call it ``too_large``.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

INVALID_CHARACTERS = "invalid_characters"
JSON_TOO_DEEP = "json_too_deep"

_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")
_CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\ud800-\udfff]")
_CONTROL_BUT_WHITESPACE_OR_SURROGATE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class InputRefused(BadRequest):
    """Input no view may see. ``error_code`` says why, stably (``code`` is the HTTP
    status, as in every HTTPException)."""

    def __init__(self, error_code: str, description: str):
        super().__init__(description)
        self.error_code = error_code


def _refuse_characters(where: str) -> NoReturn:
    raise InputRefused(INVALID_CHARACTERS, f"The {where} contains NUL, a lone surrogate or "
                                           "a control character.")


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON ``text`` opens more than ``limit`` arrays or objects inside one
    another. A scan, not a parse: it never recurses, whatever the depth."""
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _check_strings(value: Any) -> None:
    """InputRefused if any string or key in the parsed JSON ``value`` holds NUL or a lone
    surrogate (walked with a stack: the depth is already bounded, but no recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if _NUL_OR_SURROGATE.search(key):
                    _refuse_characters("JSON body")
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and _NUL_OR_SURROGATE.search(item):
            _refuse_characters("JSON body")


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, with ``loads`` refusing what no view should see (see the
    module's docstring). Invalid JSON still raises ValueError, as ``json.loads`` does."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if isinstance(s, bytes | bytearray):
            s = s.decode(json.detect_encoding(s), "surrogatepass")
        if nests_deeper_than(s, self._app.config["JSON_MAX_DEPTH"]):
            raise InputRefused(JSON_TOO_DEEP, "The JSON body is nested deeper than "
                                              f"{self._app.config['JSON_MAX_DEPTH']} levels.")
        value = super().loads(s, **{"parse_constant": _refuse_constant, **kwargs})
        _check_strings(value)
        return value


def _check_text(values, pattern: re.Pattern, where: str) -> None:
    for name, value in values:
        if pattern.search(name) or (isinstance(value, str) and pattern.search(value)):
            _refuse_characters(where)


def refuse_bad_input() -> None:
    """Before every request: InputRefused (or Werkzeug's 413) for bad input anywhere in
    the path, the query, the headers, the form or the JSON body. Request bodies of the
    blueprints in ``RAW_BODY_BLUEPRINTS`` are left to their views, up to
    ``RAW_BODY_MAX_CONTENT_LENGTH``."""
    _check_text((request.view_args or {}).items(), _CONTROL_OR_SURROGATE, "path")
    _check_text(request.args.items(multi=True), _CONTROL_OR_SURROGATE, "query")
    if any("\x00" in value for value in request.headers.values()):
        _refuse_characters("header")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return  # their bodies are never read (request.values holds only the query)
    if request.blueprint in current_app.config["RAW_BODY_BLUEPRINTS"]:
        request.max_content_length = current_app.config["RAW_BODY_MAX_CONTENT_LENGTH"]
        return
    _check_text(request.form.items(multi=True), _CONTROL_BUT_WHITESPACE_OR_SURROGATE, "form")
    if request.is_json:
        request.get_json(silent=True)  # refused here, or parsed once and cached for the view


def init_app(app: Flask) -> None:
    """Read JSON through the guarded provider and check every request before its view."""
    app.json = GuardedJSONProvider(app)
    app.before_request(refuse_bad_input)
