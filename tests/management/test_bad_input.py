"""Bad input to the management pages: a 400 or 413 page in the person's language, with a
stable code, and nothing written."""

import pytest

from buyflow.extensions import db
from buyflow.models import RefundRequest, SignInCode
from tests.management.conftest import csrf_token

INVALID_DE = ("Ein Teil der gesendeten Angaben enthält Zeichen, die nicht verwendet werden "
              "können. Bitte prüfen Sie sie und versuchen Sie es erneut.")


def count(in_app, model) -> int:
    return in_app(lambda: db.session.scalar(db.select(db.func.count(model.id))))


def test_a_10_mb_sign_in_is_refused_before_it_is_read(client, in_app, mailbox):
    page = client.get("/account/sign-in")
    sent = len(mailbox.messages)
    response = client.post("/account/sign-in", headers={"Accept-Language": "de"}, data={
        "email": "a" * 10_000_000 + "@example.com", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 413
    assert 'data-code="too_large"' in response.text and 'lang="de"' in response.text
    assert "Die gesendeten Angaben sind zu umfangreich." in response.text
    assert count(in_app, SignInCode) == 0 and len(mailbox.messages) == sent


@pytest.mark.parametrize("email", ["ann\x00@example.com", "ann@example.com\x1b",
                                   "ann@exa\x7f\x08mple.com"])
def test_control_characters_in_a_form_are_refused(client, in_app, email):
    page = client.get("/account/sign-in")
    response = client.post("/account/sign-in", headers={"Accept-Language": "de"},
                           data={"email": email, "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400
    assert 'data-code="invalid_characters"' in response.text and INVALID_DE in response.text
    assert count(in_app, SignInCode) == 0


@pytest.mark.parametrize("reason", ["Torn\x00bag", "Torn bag\x07"])
def test_a_refund_request_with_control_characters_is_refused(client, shops, buy, signed_in,
                                                             in_app, reason):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    page = client.get(f"/account/orders/{order_id}")
    response = client.post(f"/account/orders/{order_id}",
                           data={"reason": reason, "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400
    assert 'data-code="invalid_characters"' in response.text
    assert count(in_app, RefundRequest) == 0


def test_tabs_and_new_lines_in_a_text_area_are_text(client, shops, buy, signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    page = client.get(f"/account/orders/{order_id}")
    response = client.post(f"/account/orders/{order_id}", data={
        "reason": "The bag:\r\n\ttorn.", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert count(in_app, RefundRequest) == 1


@pytest.mark.parametrize("url", ["/account/?after=%00", "/account/orders/%00",
                                 "/account/orders/ord_%0A/receipt"])
def test_control_characters_in_paths_and_queries_are_refused(client, signed_in, url):
    signed_in()
    response = client.get(url)
    assert response.status_code == 400
    assert 'data-code="invalid_characters"' in response.text
