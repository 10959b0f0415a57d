"""Bad input to the buy flow: its page answers with its localized error page, its calls
with the flow's JSON error, a stable code either way, and no order is made."""

import hashlib
import json

import pytest
from itsdangerous import URLSafeTimedSerializer

from buyflow.extensions import db
from buyflow.models import Buyer, Order
from buyflow.sellers.requests import REQUEST_SALT
from tests.conftest import SELLER_ORIGIN

INVALID_FR = ("Une partie de ce qui a été envoyé contient des caractères inutilisables. "
              "Veuillez vérifier et réessayer.")


def no_order_made() -> bool:
    return (db.session.scalar(db.select(db.func.count(Order.id))) == 0
            and db.session.scalar(db.select(db.func.count(Buyer.id))) == 0)


@pytest.mark.parametrize("params", [
    {"seller": "\x00"},
    {"product": "prod_\x00"},
    {"origin": SELLER_ORIGIN + "\x1b"},
    {"locale": "fr\x00"},
], ids=["seller", "product", "origin", "locale"])
def test_control_characters_in_the_pages_query_get_its_error_page(client, product, params):
    response = client.get("/flow/", query_string={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN, **params}, headers={"Accept-Language": "fr"})
    assert response.status_code == 400
    assert 'data-code="invalid_characters"' in response.text
    assert INVALID_FR in response.text and 'lang="fr"' in response.text
    assert no_order_made()


def test_the_language_menus_post_is_checked_too(client, product):
    response = client.post("/flow/", data={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN, "locale": "fr", "email": "ann\x00@example.com"})
    assert response.status_code == 400
    assert 'data-code="invalid_characters"' in response.text


def test_a_page_post_over_the_size_limit_is_refused(client, product):
    response = client.post("/flow/", data={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN, "email": "a" * 70_000})
    assert response.status_code == 413
    assert 'data-code="too_large"' in response.text


@pytest.mark.parametrize("body, status, code", [
    ('{"flow": "%(flow)s", "email": "ann\\u0000@example.com"}', 400, "invalid_characters"),
    ('{"flow": "%(flow)s", "email": "\\ud800@example.com"}', 400, "invalid_characters"),
    ('{"flow": "%(flow)s", "email": "ann@example.com", "x": ' + "[" * 30_000 + "]" * 30_000
     + "}", 400, "json_too_deep"),
    ('{"flow": "%(flow)s", "email": "' + "a" * 70_000 + '"}', 413, "too_large"),
], ids=["nul", "surrogate", "deep", "too-large"])
def test_bad_call_bodies_get_the_flows_json_error(client, product, open_flow, body, status,
                                                  code):
    data = open_flow(product.seller, product, locale="fr")
    response = client.post("/flow/api/checkout", data=body % {"flow": data["flow"]},
                           content_type="application/json",
                           headers={"Accept-Language": "fr"})
    assert response.status_code == status
    assert response.json["status"] == "error"
    assert response.json["error"]["code"] == code
    if code == "invalid_characters":
        assert response.json["error"]["message"] == INVALID_FR
    assert no_order_made()


class _AsIs:
    """An itsdangerous serializer that signs a JSON text as it is."""

    @staticmethod
    def dumps(text: str) -> str:
        return str(text)  # a str, so that itsdangerous makes a text token


def sign_unchecked(request: dict | str, secret: str = "sign-northwind") -> str:
    """Sign as a seller's own code may (the Node.js example does): without our checks.
    ``request`` is a dict (written as JSON with lone surrogates escaped, as JavaScript's
    JSON.stringify does) or the JSON text itself."""
    text = request if isinstance(request, str) else json.dumps(request)
    return URLSafeTimedSerializer(secret, salt=REQUEST_SALT, serializer=_AsIs,
                                  signer_kwargs={"digest_method": hashlib.sha256}).dumps(text)


ITEM = {"name": "Annual plan", "amount": 4800}


@pytest.mark.parametrize("request_", [
    {"items": [{**ITEM, "name": "Annual\x00plan"}]},
    {"items": [{**ITEM, "name": "Annual \ud800"}]},
    {"items": [{**ITEM, "name": "Annual\nplan"}]},
    {"items": [{**ITEM, "name": "x" * 201}]},
    {"items": [{**ITEM, "product": "prod_\x00"}]},
    {"items": [{**ITEM, "product": "prod_" + "x" * 40}]},
    {"items": [ITEM], "reference": "inv\x00-1"},
    {"items": [ITEM], "reference": "r" * 101},
    {"items": [ITEM], "email": "ann\x00@example.com"},
    {"items": [ITEM], "passthrough": {"note": "a\x00b"}},
    {"items": [ITEM], "passthrough": {"\udc00": 1}},
    {"items": [ITEM], "passthrough": {"deep": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}},
], ids=["nul-name", "surrogate-name", "newline-name", "long-name", "nul-product",
        "long-product", "nul-reference", "long-reference", "nul-email", "nul-passthrough",
        "surrogate-key-passthrough", "deep-passthrough"])
def test_a_signed_request_with_bad_text_shows_the_error_page(client, seller, request_):
    response = client.get("/flow/", query_string={
        "seller": seller.public_id, "origin": SELLER_ORIGIN,
        "request": sign_unchecked({"currency": "EUR", **request_})})
    assert response.status_code == 400
    assert 'data-code="request_invalid"' in response.text
    assert no_order_made()


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "not JSON"],
                         ids=["too-deep-to-parse", "not-json"])
def test_a_signed_request_that_cannot_be_read_shows_the_error_page(client, seller, text):
    token = sign_unchecked(text)  # zlib makes the 200,000 brackets a short token
    assert len(token) < 2_000
    response = client.get("/flow/", query_string={
        "seller": seller.public_id, "origin": SELLER_ORIGIN, "request": token})
    assert response.status_code == 400
    assert 'data-code="request_invalid"' in response.text
