"""The charge money path (payments/charges.py) through the flow's calls: one order is
charged at most once, whatever the races, lost answers and crashes.

A new card pays the order's one payment, confirmed in the buyer's browser at the
provider; a saved card is charged from here. Faults between us and the provider reach
what we call: opening the payment, charging a saved card, reading and cancelling."""

import threading

import pytest

from buyflow.dev.fault_proxy import PASS, RESET_AFTER, RESET_BEFORE, moves_money, stall_before
from buyflow.extensions import db
from buyflow.models import Order, Payment, Refund, RefundPart
from buyflow.payments.balance import refundable_amount
from buyflow.payments.reconcile import reconcile
from tests.conftest import at_once
from tests.payments.conftest import pay_saved


def every_money_call(fault):
    return lambda method, path, body: fault if moves_money(method, path, body) else PASS


def the_order() -> Order:
    """The newest order (a saved card was bought with an older one)."""
    db.session.expire_all()
    return db.session.scalar(db.select(Order).order_by(Order.id.desc()))


def order_of(answer) -> Order:
    db.session.expire_all()
    return db.session.scalar(db.select(Order).filter_by(public_id=answer.json["order"]))


@pytest.mark.parametrize("round_", range(3))
def test_the_orders_one_payment_confirmed_twice_at_once_is_charged_once(
        app, product, opened_checkout, confirm_in_browser, provider_book, round_):
    flow, opened = opened_checkout(product.seller, product)
    confirmed = at_once(lambda _: confirm_in_browser(opened["client_secret"]), range(2))
    answers = at_once(lambda _: app.test_client().post("/flow/api/refresh", json={
        "flow": flow, "payment": opened["payment"]}), range(4))

    assert sorted(confirmed)[-1] == "succeeded"  # the other was told it is paid already
    # A page asking while another asks is told to wait (it asks again), never an error.
    assert {a.json["status"] for a in answers} <= {"paid", "processing"}
    assert all(a.status_code == 200 for a in answers)
    last = app.test_client().post("/flow/api/refresh", json={"flow": flow,
                                                             "payment": opened["payment"]})
    assert last.json["status"] == "paid"
    order = the_order()
    assert [p.status for p in order.payments] == ["succeeded"]
    assert len(provider_book.succeeded(order.public_id)) == 1


def test_a_lost_answer_when_opening_the_payment_reuses_it(
        product, faulty_provider, provider_book, open_flow, client):
    data = open_flow(product.seller, product)
    body = {"flow": data["flow"], "email": "ann@example.com"}
    faulty_provider.set_rule(every_money_call(RESET_AFTER))  # opened there, answers lost
    lost = client.post("/flow/api/checkout", json=body)
    assert lost.status_code == 503
    faulty_provider.clear()

    again = client.post("/flow/api/checkout", json=body)

    assert again.json["status"] == "pending"
    order = the_order()
    assert [(p.status, p.provider_payment_ref) for p in order.payments] == [
        ("created", again.json["client_secret"].split("_secret_")[0])]
    assert len(provider_book.intents(order.public_id)) == 1


def test_a_guest_payment_whose_answer_was_lost_is_found_once_the_buyer_has_a_customer(
        product, faulty_provider, provider_book, open_flow, unlock, client):
    """Opened for no customer (the buyer did not keep the card), its answer lost; the
    buyer then keeps the card, which makes their customer: the first payment is still
    found by our id among the account's, and cancelled there before the next opens."""
    data = open_flow(product.seller, product)
    faulty_provider.set_rule(every_money_call(RESET_AFTER))  # opened there, answer lost
    lost = client.post("/flow/api/checkout", json={"flow": data["flow"],
                                                   "email": "ann@example.com"})
    assert lost.status_code == 503
    faulty_provider.clear()

    again = client.post("/flow/api/checkout", json={
        "flow": data["flow"], "email": "ann@example.com", "save": True,
        "card_token": unlock(data)["card_token"]})

    assert again.json["status"] == "pending"
    order = the_order()
    assert [(p.status, p.failure_code) for p in order.payments] == [
        ("canceled", None), ("created", None)]
    first, second = order.payments
    intents = {i["id"]: i for i in provider_book.intents(order.public_id)}
    assert intents[first.provider_payment_ref]["status"] == "canceled"
    assert intents[first.provider_payment_ref]["customer"] is None
    assert intents[second.provider_payment_ref]["customer"] == order.buyer.provider_customer_ref


def test_a_saved_card_charge_whose_answer_was_lost_is_resumed_under_its_own_key(
        app, saved_card, faulty_provider, provider_book):
    data, token, card = saved_card
    faulty_provider.set_rule(every_money_call(RESET_AFTER))  # charged, every answer lost
    lost = pay_saved(app, data, token, card)
    assert lost.status_code == 503 and lost.json["error"]["code"] == "provider_unavailable"
    faulty_provider.clear()

    again = pay_saved(app, data, token, card)  # the buyer presses Pay again

    assert again.json["status"] == "paid"
    assert len(provider_book.intents(again.json["order"])) == 1  # the same charge, answered


def test_a_new_card_after_a_lost_answer_finds_the_first_charge_instead(
        app, client, saved_card, faulty_provider, provider_book):
    data, token, card = saved_card
    faulty_provider.set_rule(every_money_call(RESET_AFTER))
    assert pay_saved(app, data, token, card).status_code == 503
    faulty_provider.clear()

    answer = client.post("/flow/api/checkout", json={"flow": data["flow"],
                                                     "email": "ann@example.com"})

    assert answer.json["status"] == "paid"  # found paid by the first: no card asked for
    order = order_of(answer)
    assert [p.status for p in order.payments] == ["succeeded"]
    assert len(provider_book.intents(order.public_id)) == 1


def test_a_charge_that_never_reached_the_provider_is_cancelled_before_the_next(
        app, client, saved_card, faulty_provider, provider_book, confirm_in_browser):
    data, token, card = saved_card
    faulty_provider.set_rule(every_money_call(RESET_BEFORE))
    assert pay_saved(app, data, token, card).status_code == 503
    faulty_provider.clear()

    opened = client.post("/flow/api/checkout", json={"flow": data["flow"],
                                                     "email": "ann@example.com"})
    confirm_in_browser(opened.json["client_secret"], "5555555555554444")
    paid = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                  "payment": opened.json["payment"]})

    assert paid.json["status"] == "paid"
    order = order_of(paid)
    assert [(p.status, p.failure_code) for p in order.payments] == [
        ("canceled", "not_at_provider"), ("succeeded", None)]
    assert len(provider_book.intents(order.public_id)) == 1


def test_while_a_charge_is_under_way_another_card_waits(app, client, saved_card,
                                                        faulty_provider, provider_book):
    data, token, card = saved_card
    hold = faulty_provider.hold("before")
    answers = {}
    thread = threading.Thread(target=lambda: answers.update(
        saved=pay_saved(app, data, token, card)))
    thread.start()
    assert hold.reached.wait(10)

    waiting = client.post("/flow/api/checkout", json={"flow": data["flow"],
                                                      "email": "ann@example.com"})
    hold.release()
    thread.join(20)

    assert waiting.status_code == 409 and waiting.json["error"]["code"] == "payment_in_progress"
    assert answers["saved"].json["status"] == "paid"
    assert len(provider_book.intents(answers["saved"].json["order"])) == 1


def test_an_attempt_left_behind_by_a_crash_is_taken_over_after_its_lease(
        app, saved_card, short_leases, provider_book):
    data, token, card = saved_card
    with app.app_context():  # a process that wrote the recovery point, then died
        from buyflow.flow import checkout
        from buyflow.flow.saved_cards import load_card_token
        from buyflow.flow.state import load_flow_state
        from buyflow.models import Card
        from buyflow.payments import charges
        from buyflow.payments.base import CardDetails, SavedCard

        flow = load_flow_state(data["flow"])
        order = checkout.start_checkout_for_saved_card(
            flow, load_card_token(token, flow), 0).order
        saved = db.session.scalar(db.select(Card))
        charges.open_attempt(order, "saved-" + "b" * 32, SavedCard(
            saved.provider_method_ref, CardDetails("visa", "4242", 12, 2034)))
        db.session.remove()
    assert pay_saved(app, data, token, card, "b" * 32).json["status"] == "processing"

    short_leases()
    paid = pay_saved(app, data, token, card, "b" * 32)
    assert paid.json["status"] == "paid"
    assert len(provider_book.intents(paid.json["order"])) == 1


def test_a_second_charge_that_succeeds_anyway_is_refunded_and_recorded(
        app, client, saved_card, faulty_provider, provider_book, short_leases, run_queue,
        confirm_in_browser):
    data, token, card = saved_card
    calls = []

    def first_charge_lands_late(method, path, body):
        if not moves_money(method, path, body):
            return PASS
        calls.append(path)
        # The first send stalls past every timeout and lands later; its retries are lost.
        return stall_before(6) if len(calls) == 1 else RESET_BEFORE

    faulty_provider.set_rule(first_charge_lands_late)
    assert pay_saved(app, data, token, card).status_code == 503
    short_leases()
    faulty_provider.clear()
    opened = client.post("/flow/api/checkout", json={"flow": data["flow"],
                                                     "email": "ann@example.com"})
    confirm_in_browser(opened.json["client_secret"], "5555555555554444")
    paid = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                  "payment": opened.json["payment"]})
    assert paid.json["status"] == "paid"  # the first was found nowhere yet
    assert faulty_provider.wait_idle(15)  # ... and now it has landed: charged twice

    reconcile()
    run_queue()

    order = order_of(paid)
    assert order.status == "paid"
    late = next(p for p in order.payments if p.provider_setup_ref)
    assert late.status == "succeeded"
    overpayment = db.session.scalar(db.select(Refund).join(RefundPart)
                                    .where(RefundPart.payment_id == late.id))
    assert (overpayment.kind, overpayment.status, overpayment.amount) == (
        "overpayment", "succeeded", 1450)
    assert provider_book.refunded(late.provider_payment_ref) == 1450
    assert refundable_amount(order) == 1450  # the seller can still refund what was bought


def test_a_paid_order_is_not_charged_again(app, product, buy, saved_card, provider_book):
    data, token, card = saved_card
    assert buy(product.seller, product, data=data).json["status"] == "paid"
    again = pay_saved(app, data, token, card)
    assert again.json["status"] == "paid"
    order = order_of(again)
    assert len(order.payments) == 1
    assert len(provider_book.intents(order.public_id)) == 1
