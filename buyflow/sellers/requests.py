"""Signed purchase requests: how a seller's server sets what the buy flow sells.

Without one, only catalog products at catalog prices can be bought. With one, the seller
names the items and their amounts, the currency, optionally the buyer's email, its own
``reference`` for the purchase (one order per reference) and ``passthrough`` data that
comes back in the result and in webhooks. The seller signs it with its signing secret::

    from buyflow.sellers.requests import sign_purchase_request

    token = sign_purchase_request({
        "items": [{"name": "Annual plan", "amount": 4800, "quantity": 1}],
        "currency": "EUR",
        "email": "ann@example.com",
        "reference": "invoice-2041",
        "passthrough": {"account": 42},
    }, signing_secret)

and passes it to ``Buyflow.open({seller, request: token})``. Like ``results``, this module
needs only itsdangerous.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

REQUEST_SALT = "buyflow.request.v1"
_FIELDS = {"items", "currency", "email", "reference", "passthrough"}
_ITEM_FIELDS = {"name", "amount", "quantity", "product"}
MAX_ITEMS = 50
MAX_PASSTHROUGH_BYTES = 2048


class PurchaseRequestError(Exception):
    """``code`` is request_invalid or request_expired; the message says what is wrong."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _serializer(signing_secrets: Sequence[str] | str) -> URLSafeTimedSerializer:
    secrets = [signing_secrets] if isinstance(signing_secrets, str) else list(signing_secrets)
    return URLSafeTimedSerializer(
        secrets, salt=REQUEST_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def sign_purchase_request(request: dict, signing_secrets: Sequence[str] | str) -> str:
    """Sign a purchase request (checked first, so a seller learns of mistakes at once)."""
    return _serializer(signing_secrets).dumps(check_purchase_request(request))


def verify_purchase_request(token: str, signing_secrets: Sequence[str] | str,
                            max_age: int = 3600) -> dict:
    """The request in ``token`` if one of ``signing_secrets`` signed it at most
    ``max_age`` seconds ago and it is well formed; PurchaseRequestError otherwise."""
    try:
        request = _serializer(signing_secrets).loads(token, max_age=max_age)
    except SignatureExpired:
        raise PurchaseRequestError("request_expired", "the purchase request has expired")
    except (BadSignature, TypeError, ValueError):
        raise PurchaseRequestError("request_invalid", "the purchase request's signature "
                                   "does not verify") from None
    return check_purchase_request(request)


def _fail(message: str):
    raise PurchaseRequestError("request_invalid", message)


def _positive_int(value, name: str, maximum: int) -> int:
    if type(value) is not int or not 0 < value <= maximum:
        _fail(f"{name} must be an integer from 1 to {maximum}")
    return value


def check_purchase_request(request: object) -> dict:
    """``request`` with defaults filled in, if well formed; PurchaseRequestError if not.
    Amounts are integers in the currency's minor unit."""
    if not isinstance(request, dict):
        _fail("a purchase request is a JSON object")
    if unknown := sorted(set(request) - _FIELDS):
        _fail(f"unknown field(s): {', '.join(unknown)}")
    currency = request.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        _fail("currency must be an ISO 4217 code")
    items = request.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        _fail(f"items must be a list of 1 to {MAX_ITEMS} items")
    checked = []
    for item in items:
        if not isinstance(item, dict):
            _fail("each item is a JSON object")
        if unknown := sorted(set(item) - _ITEM_FIELDS):
            _fail(f"unknown item field(s): {', '.join(unknown)}")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            _fail("each item needs a name of 1 to 200 characters")
        product = item.get("product")
        if product is not None and not isinstance(product, str):
            _fail("an item's product is a product id")
        checked.append({
            "name": name.strip(),
            "amount": _positive_int(item.get("amount"), "an item's amount", 10**12),
            "quantity": _positive_int(item.get("quantity", 1), "an item's quantity", 10_000),
            "product": product,
        })
    email = request.get("email")
    if email is not None and (not isinstance(email, str) or len(email) > 320):
        _fail("email must be a string")
    reference = request.get("reference")
    if reference is not None and (not isinstance(reference, str) or not 1 <= len(reference)
                                  <= 100):
        _fail("reference must be a string of 1 to 100 characters")
    passthrough = request.get("passthrough")
    if passthrough is not None and (
            not isinstance(passthrough, dict)
            or len(json.dumps(passthrough).encode()) > MAX_PASSTHROUGH_BYTES):
        _fail(f"passthrough must be a JSON object of at most {MAX_PASSTHROUGH_BYTES} bytes")
    return {"items": checked, "currency": currency.upper(), "email": email,
            "reference": reference, "passthrough": passthrough}
