"""Recording a payment made outside Buyflow from an unpaid order's console page: what is
due (or, when the shop allows it, less), never more; once, however often the form is
sent; with its reference, who recorded it, its audit entry and the seller's webhook."""

import pytest

from buyflow.extensions import db
from buyflow.models import Buyer, Order, Payment, Seller, WebhookEvent
from tests.management.conftest import csrf_token
from tests.management.console.money_pages import (  # noqa: F401  (fixtures)
    audit_of,
    flashed,
    form_of,
    make_order,
    order_status,
    send,
    shop,
)


def order_url(shop, order_id):
    return f"{shop.console}/orders/{order_id}"


def payments_of(in_app, order_id):
    def read():
        order = db.session.scalar(db.select(Order).filter_by(public_id=order_id))
        return [(p.provider, p.method, p.amount, p.status, p.reference, p.recorded_by)
                for p in db.session.scalars(db.select(Payment).filter_by(order_id=order.id)
                                            .order_by(Payment.id))]
    return in_app(read)


@pytest.fixture
def unpaid(shop, in_app):
    return in_app(lambda: make_order(shop.northwind.public_id))


def member_id(in_app, email):
    return in_app(lambda: db.session.scalar(db.select(Buyer.id).filter_by(email=email)))


def test_recording_what_is_due_pays_the_order(client, shop, unpaid, as_person, in_app):
    as_person(shop.team.emails["support"])
    page = client.get(order_url(shop, unpaid))
    assert "Record a payment made outside Buyflow" in page.text
    assert "Leave it empty for all that is due: €14.50." in page.text
    done = send(client, page.text, "/offline-payments", **{
        "offline-method": "bank_transfer", "offline-reference": "  SEPA-2026-117 "})
    assert done.status_code == 303
    html = client.get(done.location).text
    assert "Recorded the payment of €14.50." in flashed(html)
    assert "Bank transfer (SEPA-2026-117)" in html
    support = member_id(in_app, shop.team.emails["support"])
    assert payments_of(in_app, unpaid) == [
        ("offline", "bank_transfer", 1450, "succeeded", "SEPA-2026-117", f"member:{support}")]
    assert order_status(in_app, unpaid) == "paid"
    assert "Record the payment" not in html  # nothing is due any more

    [entry] = audit_of(in_app, "order.offline_payment_recorded")
    assert (entry.actor_type, entry.actor_id, entry.subject) == ("member", str(support), unpaid)
    assert entry.before == {"status": "pending", "amount_due": 1450}
    assert entry.after == {"status": "paid", "amount_due": 0}
    types = in_app(lambda: db.session.scalars(db.select(WebhookEvent.type)).all())
    assert "order.completed" in types and "payment.succeeded" in types


def test_a_double_submission_records_once(client, shop, unpaid, as_person, in_app):
    as_person(shop.team.emails["owner"])
    page = client.get(order_url(shop, unpaid)).text
    typed = {"offline-method": "cash", "offline-reference": "Till 3"}
    first = send(client, page, "/offline-payments", **typed)
    again = send(client, page, "/offline-payments", **typed)  # back, then send again
    assert first.status_code == again.status_code == 303
    html = client.get(again.location).text
    assert ("This form was sent before: its payment of €14.50 was recorded then. Nothing "
            "more was recorded now.") in flashed(html)
    assert len(payments_of(in_app, unpaid)) == 1
    assert len(audit_of(in_app, "order.offline_payment_recorded")) == 1


def test_partial_payments_only_when_the_shop_allows_them(client, shop, unpaid, as_person,
                                                         in_app):
    as_person(shop.team.emails["owner"])
    page = client.get(order_url(shop, unpaid)).text
    refused = send(client, page, "/offline-payments", **{
        "offline-method": "invoice", "offline-amount": "5.00", "offline-reference": "INV-9"})
    assert refused.status_code == 422
    assert ("The payment must be the €14.50 due: your shop takes no partial offline "
            "payments") in refused.text
    assert payments_of(in_app, unpaid) == []

    def allow():
        seller = db.session.scalar(db.select(Seller).filter_by(public_id=shop.northwind.public_id))
        seller.allow_partial_offline = True
        db.session.commit()
    in_app(allow)
    # The same form, corrected by the rule's change, may be sent again.
    partly = send(client, refused.text, "/offline-payments", **{
        "offline-method": "invoice", "offline-amount": "5.00", "offline-reference": "INV-9"})
    assert partly.status_code == 303
    assert order_status(in_app, unpaid) == "pending"
    html = client.get(partly.location).text
    assert "Leave it empty for all that is due: €9.50." in html
    rest = send(client, html, "/offline-payments", **{
        "offline-method": "invoice", "offline-reference": "INV-10"})
    assert rest.status_code == 303 and order_status(in_app, unpaid) == "paid"
    assert [p[2] for p in payments_of(in_app, unpaid)] == [500, 950]


@pytest.mark.parametrize(("typed", "status", "message"), [
    ({"offline-amount": "20.00"}, 422, "Only €14.50 is left to pay on this order."),
    ({"offline-amount": "1,2,3"}, 400, "Enter an amount such as 14.50, or leave it empty."),
    ({"offline-reference": "  "}, 400, "Give the payment's reference"),
    ({"offline-reference": "x" * 201}, 400, "The reference can be at most 200 characters."),
    ({"offline-method": "barter"}, 400, "Choose how it was paid."),
])
def test_bad_input_is_refused_and_records_nothing(client, shop, unpaid, as_person, in_app,
                                                  typed, status, message):
    as_person(shop.team.emails["owner"])
    page = client.get(order_url(shop, unpaid)).text
    answer = send(client, page, "/offline-payments", **{
        "offline-method": "cash", "offline-reference": "Till 3", **typed})
    assert answer.status_code == status
    assert message in answer.text and 'role="alert"' in answer.text
    assert payments_of(in_app, unpaid) == []
    assert order_status(in_app, unpaid) == "pending"


def test_a_paid_order_takes_no_offline_payment(client, shop, unpaid, as_person, in_app):
    as_person(shop.team.emails["owner"])
    page = client.get(order_url(shop, unpaid)).text
    _, fields = form_of(page, "/offline-payments")
    assert send(client, page, "/offline-payments", **{
        "offline-reference": "A"}).status_code == 303
    # Another page's form (its own key), sent after the order was paid.
    other = client.post(order_url(shop, unpaid) + "/offline-payments", data={
        **fields, "offline-submission": fields["offline-submission"][:-1] + (
            "A" if fields["offline-submission"][-1] != "A" else "B"),
        "offline-reference": "B"})
    assert other.status_code == 409
    assert "Nothing is due on this order" in other.text
    assert len(payments_of(in_app, unpaid)) == 1


def test_viewers_may_not_record_payments(client, shop, unpaid, as_person, in_app):
    as_person(shop.team.emails["owner"])
    _, fields = form_of(client.get(order_url(shop, unpaid)).text, "/offline-payments")
    as_person(shop.team.emails["viewer"])
    page = client.get(order_url(shop, unpaid)).text
    assert "Record the payment" not in page
    answer = client.post(order_url(shop, unpaid) + "/offline-payments", data={
        **fields, "offline-reference": "X", "offline-csrf_token": csrf_token(page)})
    assert answer.status_code == 403
    assert payments_of(in_app, unpaid) == []
