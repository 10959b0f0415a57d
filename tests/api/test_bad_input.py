"""Bad input to /api/v1 is a 400 or 413 with a stable code, in the documented error shape
(the contract-checking client), and writes nothing — on SQLite and PostgreSQL alike."""

import hashlib

import pytest
from itsdangerous import URLSafeTimedSerializer

from buyflow.extensions import db
from buyflow.models import IdempotencyRecord, Order, Refund
from buyflow.sellers.results import RESULT_SALT
from tests.api.conftest import AUTH

DEEP = "[" * 30_000 + "]" * 30_000  # deep enough to break json.loads, under the size limit


def nothing_refunded() -> bool:
    refunds = db.session.scalar(db.select(db.func.count(Refund.id)))
    return refunds == 0 and db.session.scalar(db.select(Order.status)) == "paid"


def idempotency_records() -> int:
    return db.session.scalar(db.select(db.func.count(IdempotencyRecord.id)))


@pytest.mark.parametrize("body, status, code", [
    ('{"amount": 100, "reason": "a\\u0000b"}', 400, "invalid_characters"),
    ('{"amount": 100, "reason": "\\ud800"}', 400, "invalid_characters"),
    ('{"amount": 100, "\\udfff": 1}', 400, "invalid_characters"),
    (DEEP, 400, "json_too_deep"),
    ('{"amount": NaN}', 400, "bad_request"),
    ('{"amount": 1e400}', 400, "invalid_amount"),
    ('{"amount": 9007199254740993}', 400, "invalid_amount"),
    ('{"reason": "' + "x" * 70_000 + '"}', 413, "too_large"),
], ids=["nul", "surrogate", "surrogate-key", "deep", "nan", "infinite", "beyond-2**53",
        "too-large"])
@pytest.mark.parametrize("key", [None, "refund-1"], ids=["plain", "idempotent"])
def test_bad_refund_bodies_are_refused_and_write_nothing(client, paid_order, body, status,
                                                         code, key):
    headers = {**AUTH, **({"Idempotency-Key": key} if key else {})}
    response = client.post(f"/api/v1/orders/{paid_order}/refunds", data=body,
                           content_type="application/json", headers=headers)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert nothing_refunded()
    if code in ("invalid_characters", "json_too_deep", "too_large"):
        assert idempotency_records() == 0  # refused before the view: not even the key


@pytest.mark.parametrize("url", [
    "/api/v1/orders/%00",
    "/api/v1/orders/ord_%01",
    "/api/v1/orders?starting_after=%00",
    "/api/v1/orders?status=paid%00",
    "/api/v1/orders?created_gte=2026-01-01%0A",
])
def test_control_characters_in_paths_and_queries_are_refused(client, paid_order, url):
    response = client.get(url, headers=AUTH)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_characters"


def test_a_nul_in_a_result_token_is_refused(client, paid_order):
    response = client.post("/api/v1/results/verify", data='{"token": "x\\u0000"}',
                           content_type="application/json", headers=AUTH)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_characters"


def test_a_refusal_before_any_route_still_answers_in_json(client):
    response = client.get("/api/v1/nowhere?x=%00")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_characters"


class _AsIs:
    """An itsdangerous serializer that signs a text as it is."""

    @staticmethod
    def dumps(text: str) -> str:
        return str(text)  # a str, so that itsdangerous makes a text token


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "not JSON"],
                         ids=["too-deep-to-parse", "not-json"])
def test_a_signed_result_that_cannot_be_read_is_an_invalid_token(client, paid_order, text):
    token = URLSafeTimedSerializer("sign-northwind", salt=RESULT_SALT, serializer=_AsIs,
                                   signer_kwargs={"digest_method": hashlib.sha256}).dumps(text)
    response = client.post("/api/v1/results/verify", json={"token": token}, headers=AUTH)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_token"


def test_a_nul_in_a_header_is_refused(client, paid_order):
    response = client.post(f"/api/v1/orders/{paid_order}/refunds", json={"amount": 100},
                           headers={**AUTH, "Idempotency-Key": "key\x00"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_characters"
    assert nothing_refunded() and idempotency_records() == 0
