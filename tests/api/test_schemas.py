"""The answer models are the webhook payloads: every API answer is exactly what
sellers/payloads.py builds for the same order or refund, field for field."""

import re

import pytest
from pydantic import ValidationError

from buyflow.api import schemas
from buyflow.extensions import db
from buyflow.models import Order, Refund
from buyflow.sellers.payloads import order_payload, refund_payload, signed_result
from tests.api.conftest import AUTH


@pytest.fixture
def refunded_order(client, paid_order):
    """The paid order, with a seller's reference, passthrough data and a partial refund."""
    order = db.session.scalar(db.select(Order).filter_by(public_id=paid_order))
    order.seller_reference = "invoice-2041"
    order.passthrough = {"account": 42, "ratio": 0.5, "tags": ["a", None], "deep": {"x": ""}}
    db.session.commit()
    answer = client.post(f"/api/v1/orders/{paid_order}/refunds",
                         json={"amount": 450, "reason": "damaged"}, headers=AUTH)
    assert answer.status_code == 201
    return order


def test_every_answer_is_the_payload(client, refunded_order):
    db.session.expire_all()
    expected = order_payload(refunded_order)
    assert expected["refunds"] and expected["passthrough"] and expected["paid_at"]
    token = signed_result(refunded_order)

    got = client.get(f"/api/v1/orders/{refunded_order.public_id}", headers=AUTH).json
    listed = client.get("/api/v1/orders", headers=AUTH).json["data"]
    verified = client.post("/api/v1/results/verify", json={"token": token}, headers=AUTH).json

    assert got == listed[0] == verified["order"] == expected
    refund = db.session.scalar(db.select(Refund))
    assert got["refunds"] == [refund_payload(refund)]


def test_an_unpaid_order_is_its_payload_too(seller, app_context):
    order = Order(seller=seller, checkout_key="k", amount=100, currency="EUR",
                  buyer_email="b@example.com", status="pending")
    db.session.add(order)
    db.session.commit()
    payload = order_payload(order)
    assert payload["paid_at"] is None and payload["items"] == []
    assert schemas.Order.model_validate(payload).model_dump(mode="json") == payload


def test_a_field_nobody_declared_is_caught(client, refunded_order):
    """payloads.py growing a field without schemas.py is a test failure, not a silent
    difference between webhooks and answers."""
    with pytest.raises(ValueError, match="surprise"):
        schemas.Order.model_validate({**order_payload(refunded_order), "surprise": 1})


@pytest.mark.parametrize("blank", [" ", "\t\n", "\x85", "\ufeff", "\u3000", "\x1c", "\u2028"])
def test_text_that_must_say_something_refuses_every_engines_blank(blank):
    """A decline reason (SAID_TEXT) of only blank characters is refused by the server's
    validation and by the pattern clients read in the OpenAPI document alike; any other
    character says something."""
    with pytest.raises(ValidationError):
        schemas.DeclineRequest(reason=blank)
    assert not re.match(schemas.SAID_TEXT, blank)
    assert schemas.DeclineRequest(reason=f"{blank}no{blank}").reason == f"{blank}no{blank}"
