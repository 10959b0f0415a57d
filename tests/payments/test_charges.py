"""The charge money path (payments/charges.py) through the flow's calls: one order is
charged at most once, whatever the races, lost answers and crashes."""

import threading

import pytest

from buyflow.dev.fault_proxy import PASS, RESET_AFTER, RESET_BEFORE, moves_money, stall_before
from buyflow.extensions import db
from buyflow.models import Order, Payment, Refund, RefundPart
from buyflow.payments.balance import refundable_amount
from buyflow.payments.reconcile import reconcile
from tests.conftest import at_once


def pay(app, flow, setup):
    return app.test_client().post("/flow/api/pay", json={"flow": flow, "setup": setup})


def every_money_call(fault):
    return lambda method, path, body: fault if moves_money(method, path, body) else PASS


def the_order() -> Order:
    db.session.expire_all()
    return db.session.scalar(db.select(Order))


@pytest.mark.parametrize("round_", range(3))
def test_two_card_entries_paid_at_the_same_moment_charge_the_order_once(
        app, product, open_flow, card_entry, provider_book, round_):
    data = open_flow(product.seller, product)
    entries = [card_entry(product.seller, product, data=data) for _ in range(2)]
    answers = at_once(lambda entry: pay(app, *entry), entries)

    assert all(a.status_code < 500 for a in answers), [a.json for a in answers]
    order = the_order()
    assert order.status == "paid"
    assert [p.status for p in order.payments].count("succeeded") == 1
    assert len(provider_book.succeeded(order.public_id)) == 1
    # The other press either waited for the first or found the order paid.
    assert sorted(a.json["status"] for a in answers) in (["error", "paid"], ["paid", "paid"])
    assert all(a.json["error"]["code"] == "payment_in_progress"
               for a in answers if a.json["status"] == "error")


def test_one_card_entry_paid_many_times_at_once_is_one_charge(app, product, card_entry,
                                                              provider_book):
    entry = card_entry(product.seller, product)
    answers = at_once(lambda _: pay(app, *entry), range(6))

    assert all(a.status_code < 500 for a in answers)
    order = the_order()
    assert len(order.payments) == 1 and order.status == "paid"
    assert len(provider_book.intents(order.public_id)) == 1


def test_a_charge_whose_answer_was_lost_is_resumed_under_its_own_key(
        app, product, card_entry, faulty_provider, provider_book):
    entry = card_entry(product.seller, product)
    faulty_provider.set_rule(every_money_call(RESET_AFTER))  # charged, every answer lost
    lost = pay(app, *entry)
    assert lost.status_code == 503 and lost.json["error"]["code"] == "provider_unavailable"
    order = the_order()
    assert order.status == "pending" and len(provider_book.succeeded(order.public_id)) == 1

    faulty_provider.clear()
    again = pay(app, *entry)  # the buyer presses Pay again

    assert again.json["status"] == "paid"
    assert the_order().status == "paid"
    assert len(provider_book.intents(order.public_id)) == 1  # the same charge, answered again


def test_a_new_card_after_a_lost_answer_finds_the_first_charge_instead(
        app, product, open_flow, card_entry, faulty_provider, provider_book):
    data = open_flow(product.seller, product)
    first = card_entry(product.seller, product, data=data)
    faulty_provider.set_rule(every_money_call(RESET_AFTER))
    assert pay(app, *first).status_code == 503
    faulty_provider.clear()

    second = card_entry(product.seller, product, number="5555555555554444", data=data)
    answer = pay(app, *second)

    assert answer.json["status"] == "paid"
    order = the_order()
    assert [(p.card_last4, p.status) for p in order.payments] == [("4242", "succeeded")]
    assert len(provider_book.intents(order.public_id)) == 1


def test_a_charge_that_never_reached_the_provider_is_cancelled_before_the_next(
        app, product, open_flow, card_entry, faulty_provider, provider_book):
    data = open_flow(product.seller, product)
    first = card_entry(product.seller, product, data=data)
    faulty_provider.set_rule(every_money_call(RESET_BEFORE))
    assert pay(app, *first).status_code == 503
    faulty_provider.clear()

    second = card_entry(product.seller, product, number="5555555555554444", data=data)
    assert pay(app, *second).json["status"] == "paid"

    order = the_order()
    assert [(p.card_last4, p.status, p.failure_code) for p in order.payments] == [
        ("4242", "canceled", "not_at_provider"), ("4444", "succeeded", None)]
    assert len(provider_book.intents(order.public_id)) == 1


def test_while_a_charge_is_under_way_another_card_waits(
        app, product, open_flow, card_entry, faulty_provider, provider_book):
    data = open_flow(product.seller, product)
    first = card_entry(product.seller, product, data=data)
    second = card_entry(product.seller, product, data=data)
    hold = faulty_provider.hold("before")
    answers = {}
    thread = threading.Thread(target=lambda: answers.update(first=pay(app, *first)))
    thread.start()
    assert hold.reached.wait(10)

    waiting = pay(app, *second)
    hold.release()
    thread.join(20)

    assert waiting.status_code == 409 and waiting.json["error"]["code"] == "payment_in_progress"
    assert answers["first"].json["status"] == "paid"
    assert len(provider_book.intents(the_order().public_id)) == 1


def test_an_attempt_left_behind_by_a_crash_is_taken_over_after_its_lease(
        app, product, card_entry, short_leases, provider_book):
    entry = card_entry(product.seller, product)
    with app.app_context():  # a process that wrote the recovery point, then died
        order = db.session.scalar(db.select(Order))
        from buyflow.payments import charges
        from buyflow.payments.base import CardDetails, SavedCard
        charges.open_attempt(order, entry[1], SavedCard(
            "pm_card_visa", CardDetails("visa", "4242", 12, 2034)))
        db.session.remove()
    assert pay(app, *entry).json["status"] == "processing"  # its lease still runs

    short_leases()
    assert pay(app, *entry).json["status"] == "paid"
    assert len(provider_book.intents(the_order().public_id)) == 1


def test_a_second_charge_that_succeeds_anyway_is_refunded_and_recorded(
        app, product, open_flow, card_entry, faulty_provider, provider_book, short_leases,
        run_queue):
    data = open_flow(product.seller, product)
    first = card_entry(product.seller, product, data=data)
    calls = []

    def first_charge_lands_late(method, path, body):
        if not moves_money(method, path, body):
            return PASS
        calls.append(path)
        # The first send stalls past every timeout and lands later; its retries are lost.
        return stall_before(6) if len(calls) == 1 else RESET_BEFORE

    faulty_provider.set_rule(first_charge_lands_late)
    assert pay(app, *first).status_code == 503
    short_leases()
    faulty_provider.clear()
    second = card_entry(product.seller, product, number="5555555555554444", data=data)
    assert pay(app, *second).json["status"] == "paid"  # the first was found nowhere yet
    assert faulty_provider.wait_idle(15)  # ... and now it has landed: charged twice

    reconcile()
    run_queue()

    order = the_order()
    assert order.status == "paid"
    late = next(p for p in order.payments if p.card_last4 == "4242")
    assert late.status == "succeeded"
    overpayment = db.session.scalar(db.select(Refund).join(RefundPart)
                                    .where(RefundPart.payment_id == late.id))
    assert (overpayment.kind, overpayment.status, overpayment.amount) == (
        "overpayment", "succeeded", 1450)
    assert provider_book.refunded(late.provider_payment_ref) == 1450
    assert refundable_amount(order) == 1450  # the seller can still refund what was bought


def test_a_paid_order_is_not_charged_again(app, product, open_flow, card_entry, provider_book):
    data = open_flow(product.seller, product)
    first = card_entry(product.seller, product, data=data)
    second = card_entry(product.seller, product, data=data)
    assert pay(app, *first).json["status"] == "paid"
    assert pay(app, *second).json["status"] == "paid"
    assert db.session.scalar(db.select(db.func.count(Payment.id))) == 1
    assert len(provider_book.intents(the_order().public_id)) == 1
