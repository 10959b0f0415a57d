"""The OpenAPI 3.1 document of API v1, served at /api/v1/openapi.json.

Tests check it is a valid OpenAPI 3.1 document, that every API route is in it, and that
real answers match its schemas, so it cannot drift from the code.
"""

from __future__ import annotations


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    meaning = {400: "Bad input", 401: "Missing or wrong API key", 403: "Not yours",
               404: "No such resource", 409: "Conflict with the current state",
               413: "The body is too large",
               422: "Refused as asked", 502: "The payment provider refused",
               503: "The payment provider could not be reached"}
    return {str(s): _json(_ref("Error"), meaning[s]) for s in statuses}


_ITEM = {
    "type": "object",
    "required": ["product", "name", "quantity", "unit_amount", "amount"],
    "properties": {
        "product": {"type": ["string", "null"], "description": "Catalog product id, if any."},
        "name": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
        "unit_amount": {"type": "integer", "description": "Minor units of the currency."},
        "amount": {"type": "integer", "description": "unit_amount × quantity."},
    },
    "additionalProperties": False,
}

_REFUND = {
    "type": "object",
    "required": ["id", "order", "amount", "currency", "reason", "kind", "status",
                 "created_at"],
    "properties": {
        "id": {"type": "string", "pattern": "^re_"},
        "order": {"type": "string", "pattern": "^ord_"},
        "amount": {"type": "integer", "minimum": 1},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "reason": {"type": "string"},
        "kind": {"enum": ["order", "overpayment"], "description": (
            "order: gives back what the order cost (counts in refunded_amount); "
            "overpayment: gives back a second charge the order did not need, made "
            "automatically.")},
        "status": {"enum": ["pending", "succeeded", "failed"], "description": (
            "pending: the amount is reserved while the provider answers (or its answer "
            "is awaited); failed: refused by the provider, or it never reached it.")},
        "created_at": {"type": "string", "format": "date-time"},
    },
    "additionalProperties": False,
}

_ORDER = {
    "type": "object",
    "required": ["id", "seller", "status", "amount", "currency", "items", "buyer_email",
                 "created_at", "paid_at", "reference", "passthrough", "refunded_amount",
                 "refunds"],
    "properties": {
        "id": {"type": "string", "pattern": "^ord_"},
        "seller": {"type": "string"},
        "status": {"enum": ["pending", "paid", "partially_refunded", "refunded"]},
        "amount": {"type": "integer", "description": "Total, in minor units."},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "items": {"type": "array", "items": _ref("Item")},
        "buyer_email": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "paid_at": {"type": ["string", "null"], "format": "date-time"},
        "reference": {"type": ["string", "null"],
                      "description": "The seller's reference from its signed request."},
        "passthrough": {"type": ["object", "null"],
                        "description": "The seller's data from its signed request."},
        "refunded_amount": {"type": "integer", "minimum": 0},
        "refunds": {"type": "array", "items": _ref("Refund")},
    },
    "additionalProperties": False,
}

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string", "description": "Stable; switch on it."},
                       "message": {"type": "string", "description": "For people; may change."}},
        "additionalProperties": False,
    }},
    "additionalProperties": False,
}

# What buyflow.web_input refuses, said as patterns: no NUL in JSON strings; no control
# character in the query or the path.
_JSON_TEXT = r"^[^\u0000]*$"
_QUERY_TEXT = r"^[^\u0000-\u001f]*$"

_ORDER_ID = {"name": "order_id", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^ord_"}}


def openapi_document(server_url: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Buyflow seller API",
            "version": "1",
            "description": "Amounts are integers in the currency's minor unit. Errors carry "
                           "a stable `code`. POSTs that move money accept an "
                           "`Idempotency-Key` header. Input holding NUL, a lone surrogate or "
                           "(outside JSON strings) a control character is refused with 400 "
                           "`invalid_characters`; JSON nested too deep with 400 "
                           "`json_too_deep`; a body over the size limit with 413 `too_large`.",
        },
        "servers": [{"url": server_url}],
        "security": [{"apiKey": []}],
        "paths": {
            "/results/verify": {"post": {
                "operationId": "verifyResult",
                "summary": "Verify a signed result and get the order as it stands now.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["token"],
                    "properties": {"token": {"type": "string", "minLength": 1,
                                             "pattern": _JSON_TEXT}},
                    "additionalProperties": False}}}},
                "responses": {
                    "200": _json({"type": "object", "required": ["valid", "order"],
                                  "properties": {"valid": {"const": True}, "order": _ref("Order")},
                                  "additionalProperties": False}, "The token is good"),
                    **_errors(400, 401, 403, 413),
                },
            }},
            "/orders": {"get": {
                "operationId": "listOrders",
                "summary": "The seller's orders, newest first, by keyset pages.",
                "parameters": [
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                    {"name": "starting_after", "in": "query",
                     "schema": {"type": "string", "pattern": _QUERY_TEXT},
                     "description": "The previous page's next_cursor."},
                    {"name": "status", "in": "query", "schema": _ORDER["properties"]["status"]},
                    {"name": "created_gte", "in": "query",
                     "schema": {"type": "string", "format": "date-time"}},
                    {"name": "created_lt", "in": "query",
                     "schema": {"type": "string", "format": "date-time"}},
                ],
                "responses": {
                    "200": _json({"type": "object",
                                  "required": ["data", "has_more", "next_cursor"],
                                  "properties": {
                                      "data": {"type": "array", "items": _ref("Order")},
                                      "has_more": {"type": "boolean"},
                                      "next_cursor": {"type": ["string", "null"]}},
                                  "additionalProperties": False}, "A page of orders"),
                    **_errors(400, 401),
                },
            }},
            "/orders/{order_id}": {"get": {
                "operationId": "getOrder",
                "summary": "One of the seller's orders.",
                "parameters": [_ORDER_ID],
                "responses": {"200": _json(_ref("Order"), "The order"),
                              **_errors(400, 401, 404)},
            }},
            "/orders/{order_id}/refunds": {"post": {
                "operationId": "refundOrder",
                "summary": "Refund all (no amount) or part of a paid order.",
                "parameters": [_ORDER_ID, {
                    "name": "Idempotency-Key", "in": "header", "schema": {
                        "type": "string", "minLength": 1, "maxLength": 255},
                    "description": "The same key and body replays the first answer; the same "
                                   "key with another body is refused with 422."}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"amount": {"type": "integer", "minimum": 1,
                                              "maximum": 2**53},
                                   "reason": {"type": "string", "maxLength": 500,
                                              "pattern": _JSON_TEXT}},
                    "additionalProperties": False}}}},
                "responses": {"201": _json(_ref("Refund"), "Refunded"),
                              **_errors(400, 401, 404, 409, 413, 422, 502, 503)},
            }},
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "The seller's secret API key."}},
            "schemas": {"Error": _ERROR, "Item": _ITEM, "Order": _ORDER, "Refund": _REFUND},
        },
    }
