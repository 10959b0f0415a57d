"""Signed purchase requests: how a seller's server sets what the buy flow sells.

Without one, only catalog products at catalog prices can be bought. With one, the seller
names the items and their amounts, the currency, optionally the buyer's email, its own
``reference`` for the purchase (one order per reference) and ``passthrough`` data that
comes back in the result and in webhooks. The seller signs it with its signing secret::

    from buyflow.sellers.requests import sign_purchase_request

    token = sign_purchase_request({
        "items": [{"name": "Annual plan", "unit_amount": 4800, "quantity": 1}],
        "currency": "EUR",
        "email": "ann@example.com",
        "reference": "invoice-2041",
        "passthrough": {"account": 42},
    }, signing_secret)

and passes it to ``Buyflow.open({seller, request: token})``. An item's ``unit_amount`` is
its unit price (results, the API and webhooks name the line's total ``amount``); v1 also
takes the unit price as ``amount``, its older name, deprecated. Like ``results``, this
module needs only itsdangerous.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from ..errors import CodedError

REQUEST_SALT = "buyflow.request.v1"
_FIELDS = {"items", "currency", "email", "reference", "passthrough"}
# "amount" is the deprecated name of "unit_amount" (API v1 takes both, one per item).
_ITEM_FIELDS = {"name", "unit_amount", "amount", "quantity", "product"}
MAX_ITEMS = 50
MAX_PASSTHROUGH_BYTES = 2048
MAX_PASSTHROUGH_DEPTH = 16
# What no stored text may hold: NUL (PostgreSQL refuses it) and lone surrogates (no UTF-8
# for them); one-line fields (names, ids, the email) hold no control character either.
_NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class PurchaseRequestError(CodedError):
    """``code`` is request_invalid or request_expired (and, once the flow looks at the
    request's reference, already_paid or order_expired); the message says what is wrong."""


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
    except (BadData, TypeError, ValueError):  # BadData: also a signed payload not JSON
        raise PurchaseRequestError("request_invalid", "the purchase request's signature "
                                   "does not verify") from None
    return check_purchase_request(request)


def _fail(message: str):
    raise PurchaseRequestError("request_invalid", message)


def _positive_int(value, name: str, maximum: int) -> int:
    if type(value) is not int or not 0 < value <= maximum:
        _fail(f"{name} must be an integer from 1 to {maximum}")
    return value


def _one_line(value: object, maximum: int) -> bool:
    """Whether ``value`` is a string of at most ``maximum`` characters fit for one line."""
    return isinstance(value, str) and len(value) <= maximum and not _NOT_ONE_LINE.search(value)


def _storable_json(value: object, max_depth: int) -> bool:
    """Whether ``value`` nests at most ``max_depth`` levels and none of its strings or
    keys holds NUL or a lone surrogate (walked with a stack, never recursing)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list) and depth > max_depth:
            return False
        if isinstance(item, dict):
            if any(_NOT_STORABLE.search(key) for key in item):
                return False
            stack.extend((inner, depth + 1) for inner in item.values())
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, str) and _NOT_STORABLE.search(item):
            return False
    return True


def _unit_amount(item: dict) -> int:
    """The item's unit price: ``unit_amount``, or ``amount``, its deprecated name."""
    if "unit_amount" in item and "amount" in item:
        _fail("give an item's unit price as unit_amount only (amount is its older name)")
    return _positive_int(item.get("unit_amount", item.get("amount")), "an item's unit_amount",
                         10**12)


def check_purchase_request(request: object) -> dict:
    """``request`` with defaults filled in, if well formed; PurchaseRequestError if not.
    Amounts are integers in the currency's minor unit; each item's unit price comes back
    as ``unit_amount``, whichever name it was given under."""
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
        if not _one_line(name, 200) or not name.strip():
            _fail("each item needs a name of 1 to 200 characters, without control "
                  "characters")
        product = item.get("product")
        if product is not None and not _one_line(product, 40):
            _fail("an item's product is a product id")
        checked.append({
            "name": name.strip(),
            "unit_amount": _unit_amount(item),
            "quantity": _positive_int(item.get("quantity", 1), "an item's quantity", 10_000),
            "product": product,
        })
    email = request.get("email")
    if email is not None and not _one_line(email, 320):
        _fail("email must be a string of at most 320 characters")
    reference = request.get("reference")
    if reference is not None and (not _one_line(reference, 100) or not reference):
        _fail("reference must be a string of 1 to 100 characters, without control "
              "characters")
    passthrough = request.get("passthrough")
    if passthrough is not None and (
            not isinstance(passthrough, dict)
            or not _storable_json(passthrough, MAX_PASSTHROUGH_DEPTH)
            or len(json.dumps(passthrough).encode()) > MAX_PASSTHROUGH_BYTES):
        _fail(f"passthrough must be a JSON object of at most {MAX_PASSTHROUGH_BYTES} bytes "
              f"and {MAX_PASSTHROUGH_DEPTH} levels, without NUL or lone surrogates")
    return {"items": checked, "currency": currency.upper(), "email": email,
            "reference": reference, "passthrough": passthrough}
