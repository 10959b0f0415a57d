import time

import pytest

from buyflow.sellers.requests import (
    PurchaseRequestError,
    check_purchase_request,
    sign_purchase_request,
    verify_purchase_request,
)

REQUEST = {"items": [{"name": "Annual plan", "unit_amount": 4800}], "currency": "eur",
           "email": "ann@example.com", "reference": "inv-1", "passthrough": {"account": 42}}


def test_round_trip_fills_in_defaults():
    verified = verify_purchase_request(sign_purchase_request(REQUEST, "s"), "s")
    assert verified == {"items": [{"name": "Annual plan", "unit_amount": 4800, "quantity": 1,
                                   "product": None}], "currency": "EUR",
                        "email": "ann@example.com", "reference": "inv-1",
                        "passthrough": {"account": 42}}


def test_amount_is_still_taken_as_the_unit_price_under_its_deprecated_name():
    legacy = {**REQUEST, "items": [{"name": "Beans", "amount": 1450, "quantity": 2}]}
    assert check_purchase_request(legacy)["items"] == [
        {"name": "Beans", "unit_amount": 1450, "quantity": 2, "product": None}]
    with pytest.raises(PurchaseRequestError, match="unit_amount only"):
        check_purchase_request({**REQUEST, "items": [
            {"name": "Beans", "unit_amount": 1450, "amount": 1450}]})


def test_an_altered_request_does_not_verify():
    token = sign_purchase_request(REQUEST, "s")
    _, timestamp, signature = token.rsplit(".", 2)
    cheaper = sign_purchase_request({**REQUEST, "items": [{"name": "Annual plan",
                                                           "amount": 1}]}, "s")
    with pytest.raises(PurchaseRequestError) as caught:
        verify_purchase_request(f"{cheaper.rsplit('.', 2)[0]}.{timestamp}.{signature}", "s")
    assert caught.value.code == "request_invalid"
    with pytest.raises(PurchaseRequestError):
        verify_purchase_request(token, "another secret")


def test_an_old_request_has_expired(monkeypatch):
    token = sign_purchase_request(REQUEST, "s")
    later = time.time() + 7200
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(PurchaseRequestError) as caught:
        verify_purchase_request(token, "s", max_age=3600)
    assert caught.value.code == "request_expired"


@pytest.mark.parametrize("change, message", [
    ({"items": []}, "items"),
    ({"items": [{"name": "x", "amount": -1}]}, "amount"),
    ({"items": [{"name": "x", "amount": 0}]}, "amount"),
    ({"items": [{"name": "x", "amount": 9.99}]}, "amount"),
    ({"items": [{"name": "x", "amount": "100"}]}, "amount"),
    ({"items": [{"name": "x", "amount": True}]}, "amount"),
    ({"items": [{"name": "x", "unit_amount": 0}]}, "unit_amount"),
    ({"items": [{"name": "x", "unit_amount": "100"}]}, "unit_amount"),
    ({"items": [{"name": "x"}]}, "unit_amount"),
    ({"items": [{"name": "x", "amount": 100, "quantity": 0}]}, "quantity"),
    ({"items": [{"name": "", "amount": 100}]}, "name"),
    ({"items": [{"name": "x", "amount": 100, "discount": 5}]}, "unknown item field"),
    ({"currency": "euro"}, "currency"),
    ({"passthrough": "text"}, "passthrough"),
    ({"passthrough": {"big": "x" * 3000}}, "passthrough"),
    ({"passthrough": {"text": "a\x00b"}}, "passthrough"),
    ({"passthrough": {"a": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}}, "passthrough"),
    ({"items": [{"name": "Annual\x00plan", "amount": 100}]}, "name"),
    ({"items": [{"name": "Annual \ud800", "amount": 100}]}, "name"),
    ({"items": [{"name": "x", "amount": 100, "product": "prod_\x00"}]}, "product"),
    ({"reference": "inv\n1"}, "reference"),
    ({"email": "ann\x00@example.com"}, "email"),
    ({"price": 5}, "unknown field"),
])
def test_malformed_requests_are_refused_with_the_reason(change, message):
    with pytest.raises(PurchaseRequestError) as caught:
        check_purchase_request({**REQUEST, **change})
    assert message in str(caught.value)
