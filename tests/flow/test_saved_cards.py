"""Saved cards in the buy flow: saved with a confirmed code, shown and used only after
one, never to someone who did not prove the email."""

import json
import time

import pytest
import requests

from buyflow.buyers import cards
from buyflow.extensions import db
from buyflow.models import AuditEntry, Card, Payment
from buyflow.payments.base import PaymentError
from buyflow.payments.stripe import StripeProvider
from buyflow.sellers.requests import sign_purchase_request
from tests.conftest import SELLER_ORIGIN, page_data
from tests.management.conftest import code_in
from tests.payments.test_stripe import signed

ANN = "ann@example.com"
ATTEMPT = "a" * 32


def pay_saved(client, data, token, card_id, attempt=ATTEMPT):
    return client.post("/flow/api/pay-saved", json={
        "flow": data["flow"], "card_token": token, "card": card_id, "attempt": attempt})


def count(model):
    return db.session.scalar(db.select(db.func.count(model.id)))


def test_save_this_card_keeps_it_with_an_audit_entry(product, buy_and_save):
    answer = buy_and_save(product)
    assert answer.json["status"] == "paid"
    card = db.session.scalar(db.select(Card))
    assert (card.buyer.email, card.brand, card.last4, card.is_default) == (
        ANN, "visa", "4242", True)
    entry = db.session.scalar(db.select(AuditEntry))
    assert (entry.action, entry.subject, entry.buyer_id) == ("card.added", card.public_id,
                                                              card.buyer_id)


def test_the_code_is_mailed_and_confirming_it_shows_the_saved_cards(
        client, product, open_flow, buy_and_save, ask_code):
    buy_and_save(product)
    data = open_flow(product.seller, product, locale="fr")
    answer, mail = ask_code(data)
    assert ANN in answer.json["message"]
    assert code_in(mail) in mail["Subject"]
    confirmed = client.post("/flow/api/saved-cards/confirm", json={
        "flow": data["flow"], "email": ANN, "code": code_in(mail)})
    card = db.session.scalar(db.select(Card))
    assert confirmed.json["email"] == ANN and confirmed.json["card_token"]
    [shown] = confirmed.json["cards"]
    assert (shown["id"], shown["brand"], shown["last4"], shown["exp_month"],
            shown["exp_year"], shown["default"]) == (card.public_id, "visa", "4242", 12, 2034,
                                                     True)
    assert "4242" in shown["label"] and "12/2034" in shown["label"]

    again = client.post("/flow/api/saved-cards/confirm", json={
        "flow": data["flow"], "email": ANN, "code": code_in(mail)})
    assert again.status_code == 400 and again.json["error"]["code"] == "wrong_code"


def test_the_default_card_comes_first(client, product, open_flow, buy_and_save, unlock):
    buy_and_save(product, number="4242424242424242")
    buy_and_save(product, number="5555555555554444")
    cards = db.session.scalars(db.select(Card).order_by(Card.id)).all()
    cards[0].is_default, cards[1].is_default = False, True
    db.session.commit()
    shown = unlock(open_flow(product.seller, product))["cards"]
    assert [(c["last4"], c["default"]) for c in shown] == [("4444", True), ("4242", False)]


def test_a_wrong_code_is_refused_and_too_many_end_it(client, product, open_flow, ask_code):
    data = open_flow(product.seller, product, locale="fr")
    _, mail = ask_code(data)
    wrong = "000000" if code_in(mail) != "000000" else "111111"
    body = {"flow": data["flow"], "email": ANN, "code": wrong}
    answers = [client.post("/flow/api/saved-cards/confirm", json=body) for _ in range(5)]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 429]
    assert answers[0].json["error"]["code"] == "wrong_code"
    assert answers[0].json["error"]["message"].startswith("Ce code")
    assert answers[-1].json["error"]["code"] == "too_many_attempts"
    right = client.post("/flow/api/saved-cards/confirm", json={**body, "code": code_in(mail)})
    assert right.status_code == 400 and "card_token" not in right.json


def test_an_expired_code_is_refused(client, app, product, open_flow, ask_code):
    data = open_flow(product.seller, product)
    app.config["SIGN_IN_CODE_MAX_AGE"] = -1
    try:
        _, mail = ask_code(data)
    finally:
        app.config["SIGN_IN_CODE_MAX_AGE"] = 600
    answer = client.post("/flow/api/saved-cards/confirm", json={
        "flow": data["flow"], "email": ANN, "code": code_in(mail)})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "expired_code"


def test_unknown_and_known_emails_get_the_same_answer(client, product, open_flow, buy_and_save,
                                                      ask_code, unlock):
    buy_and_save(product)
    data = open_flow(product.seller, product)
    known, _ = ask_code(data, ANN)
    unknown, mail = ask_code(data, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.json["message"].replace(ANN, "X") == unknown.json["message"].replace(
        "nobody@example.com", "X")
    assert set(known.json) == set(unknown.json) == {"status", "message"}
    assert code_in(mail)
    # Confirmed, an email without a buyer has no cards (and may save the one it pays with).
    assert unlock(data, "new@example.com")["cards"] == []


def test_no_saved_card_is_shown_or_usable_without_the_code(client, product, open_flow,
                                                           buy_and_save):
    buy_and_save(product)
    card = db.session.scalar(db.select(Card))
    data = open_flow(product.seller, product)
    page = client.get("/flow/", query_string={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN}).text
    assert card.public_id not in page and "4242" not in page
    for token in (None, "", "garbage"):
        answer = pay_saved(client, data, token, card.public_id)
        assert answer.status_code == 403
        assert answer.json["error"]["code"] == "card_token_invalid"
    assert count(Payment) == 1  # the first purchase only


def test_an_altered_or_expired_card_token_is_refused(client, app, product, open_flow,
                                                     buy_and_save, unlock):
    buy_and_save(product)
    card = db.session.scalar(db.select(Card))
    data = open_flow(product.seller, product)
    token = unlock(data)["card_token"]
    altered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    answer = pay_saved(client, data, altered, card.public_id)
    assert answer.status_code == 403 and answer.json["error"]["code"] == "card_token_invalid"

    app.config["SAVED_CARDS_TOKEN_MAX_AGE"] = -1
    try:
        answer = pay_saved(client, data, token, card.public_id)
    finally:
        app.config["SAVED_CARDS_TOKEN_MAX_AGE"] = 900
    assert answer.status_code == 403 and answer.json["error"]["code"] == "card_token_expired"
    assert answer.json["error"]["message"]
    assert count(Payment) == 1


def test_a_card_token_of_another_flow_is_refused(client, product, open_flow, buy_and_save,
                                                 unlock):
    buy_and_save(product)
    card = db.session.scalar(db.select(Card))
    token = unlock(open_flow(product.seller, product))["card_token"]
    other_flow = open_flow(product.seller, product)
    answer = pay_saved(client, other_flow, token, card.public_id)
    assert answer.status_code == 403 and answer.json["error"]["code"] == "card_token_invalid"
    assert count(Payment) == 1


def test_a_card_of_another_buyer_is_unknown(client, product, open_flow, buy_and_save, unlock):
    buy_and_save(product, email="bob@example.com")
    bobs = db.session.scalar(db.select(Card))
    buy_and_save(product, email=ANN)
    data = open_flow(product.seller, product)
    token = unlock(data)["card_token"]
    for card_id in (bobs.public_id, "card_nope"):
        answer = pay_saved(client, data, token, card_id)
        assert answer.status_code == 404
        assert answer.json["error"] == {"code": "card_unknown", "message":
                                        "This card cannot be used. Please choose another card."}
    assert count(Payment) == 2


def test_an_expired_saved_card_is_neither_shown_nor_charged(client, product, open_flow,
                                                            buy_and_save, unlock):
    buy_and_save(product)
    card = db.session.scalar(db.select(Card))
    data = open_flow(product.seller, product)
    unlocked = unlock(data)
    assert [c["id"] for c in unlocked["cards"]] == [card.public_id]

    card.exp_month, card.exp_year = 1, 2020
    db.session.commit()
    data = open_flow(product.seller, product)
    unlocked = unlock(data)
    assert unlocked["cards"] == []
    answer = pay_saved(client, data, unlocked["card_token"], card.public_id)
    assert answer.status_code == 402 and answer.json["error"]["code"] == "expired_card"
    assert count(Payment) == 1


def charges_of(localstripe_url, customer):
    return requests.get(f"{localstripe_url}/v1/charges", params={"customer": customer},
                        auth=("sk_test_suite", ""), timeout=10).json()["data"]


def test_paying_with_a_saved_card_charges_it_once_on_a_double_submit(
        client, product, open_flow, buy_and_save, unlock, localstripe_url):
    buy_and_save(product)
    card = db.session.scalar(db.select(Card))
    customer = card.buyer.provider_customer_ref
    data = open_flow(product.seller, product)
    token = unlock(data)["card_token"]

    first = pay_saved(client, data, token, card.public_id)
    second = pay_saved(client, data, token, card.public_id)
    assert first.status_code == second.status_code == 200
    assert first.json["status"] == second.json["status"] == "paid"
    assert first.json["order"] == second.json["order"]
    # Another press of Pay on a paid order does not charge either.
    third = pay_saved(client, data, token, card.public_id, attempt="b" * 32)
    assert third.json["status"] == "paid" and third.json["order"] == first.json["order"]

    payments = db.session.scalars(db.select(Payment).order_by(Payment.id)).all()
    assert len(payments) == 2
    paid = payments[-1]
    assert (paid.order.public_id, paid.status, paid.card_brand, paid.card_last4,
            paid.card_exp_month, paid.card_exp_year, paid.provider_method_ref) == (
        first.json["order"], "succeeded", "visa", "4242", 12, 2034, card.provider_method_ref)
    assert paid.order.buyer_id == card.buyer_id and paid.order.buyer_email == ANN
    assert len(charges_of(localstripe_url, customer)) == 2  # the first purchase, and this


def test_a_saved_card_that_asks_for_3d_secure(client, product, open_flow, buy_and_save,
                                              unlock, confirm_card_payment):
    buy_and_save(product, number="4000002500003155")
    card = db.session.scalar(db.select(Card))
    data = open_flow(product.seller, product)
    answer = pay_saved(client, data, unlock(data)["card_token"], card.public_id)
    assert answer.json["status"] == "requires_action"
    confirm_card_payment(answer.json["client_secret"])
    answer = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                    "payment": answer.json["payment"]})
    assert answer.json["status"] == "paid"


def test_save_without_a_card_token_saves_nothing(client, product, open_flow, buy):
    data = open_flow(product.seller, product)
    refused = client.post("/flow/api/checkout", json={"flow": data["flow"], "email": ANN,
                                                      "save": True})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "card_token_invalid"
    assert count(Payment) == 0 and count(Card) == 0
    # Paying without asking to save keeps nothing either.
    assert buy(product.seller, product).json["status"] == "paid"
    assert count(Card) == 0 and count(AuditEntry) == 0


def test_a_card_token_saves_only_for_the_email_it_proves(client, product, open_flow, unlock):
    data = open_flow(product.seller, product)
    token = unlock(data, "mallory@example.com")["card_token"]
    answer = client.post("/flow/api/checkout", json={
        "flow": data["flow"], "email": ANN, "card_token": token, "save": True})
    assert answer.status_code == 403 and answer.json["error"]["code"] == "card_token_invalid"
    assert count(Card) == 0 and count(Payment) == 0


def test_a_card_token_for_another_email_writes_nothing_for_a_buyer_with_a_customer(
        client, product, open_flow, unlock):
    from buyflow.buyers.identity import buyer_for_email
    from buyflow.models import Order

    buyer_for_email(ANN).provider_customer_ref = "cus_ann"  # a first order needs none made
    db.session.commit()
    data = open_flow(product.seller, product)
    token = unlock(data, "mallory@example.com")["card_token"]
    answer = client.post("/flow/api/checkout", json={
        "flow": data["flow"], "email": ANN, "card_token": token, "save": True})
    assert answer.status_code == 403 and answer.json["error"]["code"] == "card_token_invalid"
    db.session.rollback()  # as the request's end does: what was written, not committed
    assert count(Order) == 0 and count(Payment) == 0 and count(Card) == 0


def test_asking_for_codes_is_rate_limited_per_email(client, product, open_flow):
    data = open_flow(product.seller, product, locale="fr")
    body = {"flow": data["flow"], "email": ANN}
    answers = [client.post("/flow/api/saved-cards/code", json=body) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].json["error"]["code"] == "too_many_requests"
    assert answers[-1].json["error"]["message"].startswith("Trop")
    other = client.post("/flow/api/saved-cards/code",
                        json={"flow": data["flow"], "email": "bob@example.com"})
    assert other.status_code == 200


def test_a_seller_fixed_email_is_the_one_that_gets_the_code(client, seller, mailbox):
    request = {"items": [{"name": "Annual plan", "amount": 4800}], "currency": "EUR",
               "email": ANN}
    data = page_data(client.get("/flow/", query_string={
        "seller": seller.public_id, "origin": SELLER_ORIGIN,
        "request": sign_purchase_request(request, "sign-northwind")}).text)
    before = len(mailbox.messages)
    answer = client.post("/flow/api/saved-cards/code",
                         json={"flow": data["flow"], "email": "mallory@example.com"})
    assert answer.status_code == 200 and ANN in answer.json["message"]
    assert [m["To"] for m in mailbox.messages[before:]] == [ANN]


def test_a_saved_card_charge_whose_answer_was_lost_is_resumed_by_its_attempt(
        client, product, open_flow, buy_and_save, unlock, faulty_provider, provider_book):
    from buyflow.dev.fault_proxy import PASS, RESET_AFTER, moves_money

    buy_and_save(product)
    data = open_flow(product.seller, product)
    cards = unlock(data)
    faulty_provider.set_rule(
        lambda method, path, body: RESET_AFTER if moves_money(method, path, body) else PASS)
    lost = pay_saved(client, data, cards["card_token"], cards["cards"][0]["id"])
    assert lost.status_code == 503
    faulty_provider.clear()

    again = pay_saved(client, data, cards["card_token"], cards["cards"][0]["id"])

    assert again.json["status"] == "paid"
    assert len(provider_book.intents(again.json["order"])) == 1


def test_two_presses_of_pay_with_a_saved_card_at_once_charge_once(
        app, product, open_flow, buy_and_save, unlock, provider_book):
    from tests.conftest import at_once

    buy_and_save(product)
    data = open_flow(product.seller, product)
    cards = unlock(data)
    answers = at_once(lambda attempt: pay_saved(app.test_client(), data, cards["card_token"],
                                                cards["cards"][0]["id"], attempt),
                      ["b" * 32, "c" * 32])

    assert all(a.status_code < 500 for a in answers)
    order_id = next(a.json["order"] for a in answers if a.json.get("status") == "paid")
    assert len(provider_book.succeeded(order_id)) == 1


def provider_tells_of_success(client, opened, event_id: str) -> None:
    """The provider's webhook: the PaymentIntent the checkout opened succeeded (an event
    names no card)."""
    payload = json.dumps({
        "id": event_id, "object": "event", "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": {"id": opened.json["client_secret"].split("_secret_")[0],
                            "object": "payment_intent", "status": "succeeded",
                            "metadata": {"buyflow_payment": opened.json["payment"]},
                            "last_payment_error": None}}}).encode()
    hook = client.post("/webhooks/stripe", data=payload,
                       headers={**signed(payload), "Content-Type": "application/json"})
    assert hook.json["applied"] is True


@pytest.fixture
def paid_keeping_the_card(client, product, open_flow, unlock, confirm_in_browser):
    """A checkout of ann@example.com (her email proved) asking to keep the card, paid in
    the browser; the page has not asked since: (its page data, the checkout's answer)."""
    data = open_flow(product.seller, product)
    token = unlock(data)["card_token"]
    opened = client.post("/flow/api/checkout", json={
        "flow": data["flow"], "email": "ann@example.com", "card_token": token, "save": True})
    assert confirm_in_browser(opened.json["client_secret"]) == "succeeded"
    return data, opened


def test_a_kept_card_is_saved_when_the_providers_webhook_came_before_the_page_asked(
        client, paid_keeping_the_card):
    data, opened = paid_keeping_the_card
    # The provider tells us first, then the page asks.
    provider_tells_of_success(client, opened, "evt_before_the_page")

    paid = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                  "payment": opened.json["payment"]})
    assert paid.json["status"] == "paid"
    db.session.expire_all()
    payment = db.session.scalar(db.select(Payment).filter_by(public_id=opened.json["payment"]))
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    assert [(card.brand, card.last4) for card in db.session.scalars(db.select(Card))] == [
        ("visa", "4242")]


def test_a_kept_card_is_saved_when_only_the_providers_webhook_told_of_the_payment(
        client, paid_keeping_the_card):
    data, opened = paid_keeping_the_card
    # The buyer closed the page once it paid: only the provider tells us.
    provider_tells_of_success(client, opened, "evt_kept_page_closed")
    db.session.expire_all()
    cards = db.session.scalars(db.select(Card)).all()
    assert [(card.brand, card.last4, card.is_default) for card in cards] == [
        ("visa", "4242", True)]
    assert cards[0].buyer.email == "ann@example.com"
    # The page comes back later and asks: the card is kept once.
    paid = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                  "payment": opened.json["payment"]})
    assert paid.json["status"] == "paid"
    assert db.session.scalar(db.select(db.func.count(Card.id))) == 1


def test_the_page_and_the_providers_webhook_keeping_the_card_at_once_keep_it_once(
        client, paid_keeping_the_card, monkeypatch):
    data, opened = paid_keeping_the_card
    provider_tells_of_success(client, opened, "evt_kept_at_once")
    # The page looked before the webhook's card was committed: it finds none, and its
    # insert meets the webhook's.
    monkeypatch.setattr(cards, "kept_card", lambda buyer, method_ref: None)
    paid = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                  "payment": opened.json["payment"]})
    assert paid.status_code == 200 and paid.json["status"] == "paid"
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Card.id))) == 1


def test_a_card_the_provider_will_not_make_the_default_now_is_kept_later_by_a_task(
        app, client, paid_keeping_the_card, monkeypatch, run_queue):
    """The order is paid at once; the card is kept by the queue's task once the provider
    answers, retried while it does not."""
    data, opened = paid_keeping_the_card

    def refuse(self, customer_ref, method_ref):
        raise PaymentError("provider_unavailable", "no answer")
    monkeypatch.setattr(StripeProvider, "set_default_card", refuse)
    paid = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                  "payment": opened.json["payment"]})
    assert paid.status_code == 200 and paid.json["status"] == "paid"
    db.session.expire_all()
    assert count(Card) == 0
    payment = db.session.scalar(db.select(Payment).filter_by(public_id=opened.json["payment"]))
    assert (payment.status, payment.order.status) == ("succeeded", "paid")

    huey = app.extensions["buyflow.tasks"].huey
    try:
        run_queue()  # the provider still does not answer: the task is retried later
        assert count(Card) == 0
        [retry] = [task for task in huey.scheduled() if task.name == cards.KEEP_PAID_CARD_TASK]
        monkeypatch.undo()  # the provider answers again
        huey.execute(retry, timestamp=retry.eta)  # as the worker does once it is due
        db.session.expire_all()
        kept = db.session.scalars(db.select(Card)).all()
        assert [(card.brand, card.last4, card.is_default, card.buyer.email)
                for card in kept] == [("visa", "4242", True, ANN)]
        # The page asking again, or the provider's webhook, finds it kept.
        client.post("/flow/api/refresh", json={"flow": data["flow"],
                                               "payment": opened.json["payment"]})
        assert count(Card) == 1
    finally:
        huey.storage.flush_schedule()


def test_the_card_is_known_when_only_the_providers_webhook_told_of_the_payment(
        client, product, open_flow, confirm_in_browser):
    data = open_flow(product.seller, product)
    opened = client.post("/flow/api/checkout", json={"flow": data["flow"],
                                                     "email": "ann@example.com"})
    assert confirm_in_browser(opened.json["client_secret"]) == "succeeded"
    # The buyer closed the page: only the provider tells us.
    provider_tells_of_success(client, opened, "evt_page_closed")
    db.session.expire_all()
    payment = db.session.scalar(db.select(Payment).filter_by(public_id=opened.json["payment"]))
    assert (payment.status, payment.order.status) == ("succeeded", "paid")
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
