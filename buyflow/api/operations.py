"""API operations, each declared once: its input and answer models validate requests,
type answers and make the OpenAPI 3.1 document.

A view is declared with the models of what it takes and answers (``schemas.py``)::

    @api.post("/orders/<order_id>/refunds", path=schemas.OrderPath,
              body=schemas.RefundRequest, responses={201: schemas.Refund},
              errors=(404, 409, 422, 502, 503), idempotent=True)
    def refund_order(order_id: str, body: schemas.RefundRequest) -> schemas.Refund:
        ...

Before the view runs, in this order: the API key is checked (401 ``unauthorized``, unless
``public``), then the path's values, the query (``query=``) and the JSON body (``body=``,
which must be a JSON object). Each refusal is a 400 with a stable code, its message
naming the field: ``unknown_field`` for a field or parameter the model does not declare,
the code a validator refused with (``schemas.refusal``, e.g. ``invalid_amount``),
``bad_request`` for everything else. The view gets the path's values as Flask gives
them, the query as ``query`` and the body as ``body`` (model instances), and returns one
of its declared answer models (or ``(model, status)`` when it declares more than one
success); it is answered as JSON. Errors are ``ApiError``s, as everywhere in the API.

With ``idempotent=True`` the view honours an ``Idempotency-Key`` (``idempotency.py``),
the key taken before the input is validated, so a refusal is the key's stored answer.

The document (``Api.document``) holds, for each operation, its parameters, its request
body and every status it answers: its declared successes and errors, plus the ones this
layer causes itself: 400 (bad input; and ``buyflow.web_input`` may refuse any request's
path, query or headers), 401 unless public, 413 with a body, 409 and 422 when idempotent.
Its summary is the first paragraph of the view's docstring, its operationId the view's
name in camelCase.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from . import schemas
from .auth import authenticated_seller
from .errors import ApiError
from .idempotency import idempotent as honour_idempotency_key

_JSON = "application/json"
_REF = "#/components/schemas/{model}"
_RULE_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")

_ERROR_MEANINGS = {400: "Bad input", 401: "Missing or wrong API key", 403: "Not yours, or the seller is suspended or not approved",
                   404: "No such resource", 409: "Conflict with the current state",
                   413: "The body is too large", 422: "Refused as asked",
                   502: "The payment provider refused",
                   503: "The payment provider could not be reached"}

# What idempotency.py accepts: 1 to 255 printable ASCII characters.
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255,
               "pattern": "^[\\x20-\\x7e]+$"},
    "description": "The same key and body replays the first answer; the same key with "
                   "another body is refused with 422.",
}


@dataclass(frozen=True)
class Operation:
    """One declared operation: what its view takes and answers."""

    method: str
    rule: str
    view: Callable
    responses: dict[int, type[BaseModel]]
    path: type[BaseModel] | None
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    errors: tuple[int, ...]
    idempotent: bool | str  # True, or "required": the view needs a key
    public: bool

    def statuses(self) -> dict[int, type[BaseModel]]:
        """Every status the operation answers, with its model (``schemas.Error`` for the
        errors)."""
        caused = {400} | ({413} if self.body else set()) | (
            {409, 422} if self.idempotent else set()) | (
            # 403: the key's seller is suspended or not approved (sellers/status.py)
            set() if self.public else {401, 403})
        errors = {status: schemas.Error for status in sorted(caused | set(self.errors))}
        return {**self.responses, **errors}


class Api:
    """The declared operations of one blueprint, and its OpenAPI document."""

    def __init__(self, blueprint: Blueprint, *, title: str, version: str,
                 description: str):
        self.blueprint = blueprint
        self.info = {"title": title, "version": version, "description": description}
        self.operations: list[Operation] = []

    def get(self, rule: str, **declaration: Any) -> Callable:
        return self.route("GET", rule, **declaration)

    def post(self, rule: str, **declaration: Any) -> Callable:
        return self.route("POST", rule, **declaration)

    def route(self, method: str, rule: str, *, responses: dict[int, type[BaseModel]],
              path: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              body: type[BaseModel] | None = None, errors: tuple[int, ...] = (),
              idempotent: bool | str = False, public: bool = False) -> Callable:
        """Declare the view below as ``method rule`` of the blueprint, validated and
        answered as the module docstring says (``idempotent="required"``: a request
        without an Idempotency-Key is refused, 400 ``idempotency_key_required``). Returns
        the view itself, as Flask's ``route`` does."""

        def declare(view: Callable) -> Callable:
            operation = Operation(method, rule, view, dict(responses), path, query, body,
                                  tuple(errors), idempotent, public)

            @functools.wraps(view)
            def handler(**path_values: Any):
                return _handle(operation, path_values)

            if idempotent:
                handler = honour_idempotency_key(handler)
            self.blueprint.add_url_rule(rule, view.__name__, handler, methods=[method])
            self.operations.append(operation)
            return view

        return declare

    def document(self, server_url: str) -> dict:
        """The OpenAPI 3.1 document of the declared operations, served from
        ``server_url``. ValueError if an operation's path values and path model differ."""
        inputs = [(model, "validation") for op in self.operations
                  for model in (op.path, op.query, op.body) if model]
        answers = [(model, "serialization") for op in self.operations
                   for model in op.statuses().values()]
        refs, top = models_json_schema(list(dict.fromkeys(inputs + answers)),
                                       ref_template=_REF)
        components = top.get("$defs", {})
        # A path or query model is no component: its fields are the operation's parameters.
        parameters = {}
        for op in self.operations:
            for model, location in ((op.path, "path"), (op.query, "query")):
                if model and model not in parameters:
                    schema = components.pop(_component(refs[(model, "validation")]))
                    parameters[model] = [
                        _parameter(name, location, field, name in schema.get("required", ()))
                        for name, field in schema["properties"].items()]
        paths: dict[str, dict] = {}
        for op in self.operations:
            template = _RULE_VARIABLE.sub(r"{\1}", op.rule)
            paths.setdefault(template, {})[op.method.lower()] = _entry(op, refs, parameters)
        return {
            "openapi": "3.1.0",
            "info": dict(self.info),
            "servers": [{"url": server_url}],
            "security": [{"apiKey": []}],
            "paths": paths,
            "components": {
                "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                               "description": "The seller's secret API key."}},
                "schemas": components,
            },
        }


def _entry(op: Operation, refs: dict, parameters: dict) -> dict:
    """``op``'s OpenAPI operation object; ``refs`` are the models' schema references,
    ``parameters`` the parameters each path and query model makes."""
    variables = _RULE_VARIABLE.findall(op.rule)
    if set(variables) != set(op.path.model_fields if op.path else ()):
        raise ValueError(f"{op.method} {op.rule}: path values {variables}, path model "
                         f"{op.path and op.path.__name__}")
    summary, _, description = (inspect.getdoc(op.view) or "").partition("\n\n")
    entry: dict[str, Any] = {"operationId": _camel_case(op.view.__name__),
                             "summary": " ".join(summary.split())}
    if description:
        entry["description"] = " ".join(description.split())
    entry["parameters"] = [*parameters.get(op.path, ()), *parameters.get(op.query, ()),
                           *([{**_IDEMPOTENCY_KEY, "required": op.idempotent == "required"}]
                             if op.idempotent else [])]
    if op.body:
        entry["requestBody"] = {"required": True, "content": {
            _JSON: {"schema": refs[(op.body, "validation")]}}}
    entry["responses"] = {str(status): {
        "description": (_ERROR_MEANINGS[status] if model is schemas.Error
                        else _first_paragraph(model.__doc__)),
        "content": {_JSON: {"schema": refs[(model, "serialization")]}},
    } for status, model in op.statuses().items()}
    if op.public:
        entry["security"] = []
    return entry


def _handle(operation: Operation, path_values: dict[str, Any]):
    """Run ``operation``'s view on this request's validated input; its answer as JSON."""
    if not operation.public:
        authenticated_seller()  # no key, no word about the input
    if operation.idempotent == "required" and not request.headers.get("Idempotency-Key"):
        raise ApiError("idempotency_key_required", "This call needs an Idempotency-Key "
                                                   "header.")
    inputs: dict[str, BaseModel] = {}
    if operation.path:
        values = _validated(operation.path, path_values, "parameter")
        path_values = {name: getattr(values, name) for name in path_values}
    if operation.query:
        inputs["query"] = _validated(operation.query, request.args.to_dict(), "parameter")
    if operation.body:
        body = request.get_json(silent=True)  # None when not JSON: refused as such
        if not isinstance(body, dict):
            raise ApiError("bad_request", "The body must be a JSON object.")
        inputs["body"] = _validated(operation.body, body, "field")
    answer = operation.view(**path_values, **inputs)
    model, status = answer if isinstance(answer, tuple) else (answer, _success(operation))
    declared = operation.responses.get(status)
    if declared is None or not isinstance(model, declared):
        raise TypeError(f"{operation.view.__name__} answered {type(model).__name__} with "
                        f"{status}: not as declared")
    return jsonify(model.model_dump(mode="json")), status


def _success(operation: Operation) -> int:
    """The status of an answer returned alone: the one success declared."""
    if len(operation.responses) != 1:
        raise TypeError(f"{operation.view.__name__} declares several successes: it "
                        "answers (model, status)")
    return next(iter(operation.responses))


def _validated(model: type[BaseModel], data: dict, noun: str) -> BaseModel:
    """``data`` as ``model``; ApiError 400 with a stable code otherwise (the module
    docstring says which). ``noun`` names what the request's fields are called."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    unknown = sorted(_field(e) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        raise ApiError("unknown_field", f"Unknown {noun}(s): {', '.join(unknown)}.")
    first = errors[0]
    code = first["ctx"]["code"] if first["type"] == schemas.REFUSAL else "bad_request"
    where = _field(first)
    raise ApiError(code, f"'{where}': {first['msg']}." if where else f"{first['msg']}.")


def _field(error: dict) -> str:
    return ".".join(str(part) for part in error["loc"])


def _parameter(name: str, location: str, schema: dict, required: bool) -> dict:
    """An OpenAPI parameter for a model's field. A parameter is never null (absent is how
    it says None), so a null alternative and a null default are left out."""
    schema = {key: value for key, value in schema.items() if key != "title"}
    alternatives = [s for s in schema.pop("anyOf", ()) if s != {"type": "null"}]
    if len(alternatives) == 1:
        schema.update(alternatives[0])
    elif alternatives:
        schema["anyOf"] = alternatives
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    parameter = {"name": name, "in": location, "required": required or location == "path"}
    if "description" in schema:
        parameter["description"] = schema.pop("description")
    return {**parameter, "schema": schema}


def _component(ref: dict) -> str:
    return ref["$ref"].rsplit("/", 1)[1]


def _camel_case(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _first_paragraph(text: str | None) -> str:
    return (inspect.cleandoc(text or "").split("\n\n")[0] or "OK").replace("\n", " ")
