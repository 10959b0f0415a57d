"""Refunding an order from its console page: in full, in part, as credit; never more than
can be refunded; the confirmation step; once, however often the form is sent (twice, at
once, an edited resubmission, a page older than another refund); the provider's failure
said on the page, the refund left as the API leaves it."""

import threading
import time
from datetime import timedelta

import pytest
import requests

from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import Buyer, IdempotencyRecord, Refund, RefundPart
from buyflow.models._base import utcnow
from buyflow.payments import get_provider
from buyflow.payments.base import PaymentError
from tests.management.conftest import csrf_token
from tests.management.console.money_pages import (  # noqa: F401  (fixtures)
    audit_of,
    card_order,
    flashed,
    form_of,
    refunds_of,
    order_status,
    send,
    shop,
)


def order_url(shop, order_id):
    return f"{shop.console}/orders/{order_id}"


def review(client, shop, order_id, **typed):
    """Fill the order page's refund form and send it: the confirmation step's answer."""
    page = client.get(order_url(shop, order_id))
    assert page.status_code == 200
    return send(client, page.text, "/refund", **typed)


def refund_through_pages(client, shop, order_id, **typed):
    confirm = review(client, shop, order_id, **typed)
    assert confirm.status_code == 200, confirm.text
    return confirm, send(client, confirm.text, "/refund")


def test_a_full_refund_after_its_confirmation(client, shop, card_order, as_person, in_app,
                                              localstripe_url):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    confirm = review(client, shop, order_id, **{"refund-reason": "Damaged in transit"})
    assert confirm.status_code == 200
    assert "Refund €14.50 of order" in confirm.text
    assert "Visa ending in 4242" in confirm.text and "back to the card" in confirm.text
    assert refunds_of(in_app, order_id) == []  # nothing before the confirmation

    done = send(client, confirm.text, "/refund")
    assert done.status_code == 303 and done.location.endswith(order_url(shop, order_id))
    page = client.get(done.location).text
    assert "Refunded €14.50." in flashed(page)
    assert refunds_of(in_app, order_id) == [(1450, "succeeded", "source")]
    assert order_status(in_app, order_id) == "refunded"
    assert "Review the refund" not in page  # nothing left to refund

    ref = in_app(lambda: db.session.scalar(db.select(RefundPart.provider_refund_ref)))
    at_provider = requests.get(f"{localstripe_url}/v1/refunds/{ref}", auth=("sk_test_suite", ""),
                               timeout=10).json()
    assert at_provider["amount"] == 1450

    [entry] = audit_of(in_app, "order.refunded")
    owner_id = in_app(lambda: db.session.scalar(db.select(Buyer.id).filter_by(
        email=shop.team.emails["owner"])))
    assert (entry.actor_type, entry.actor_id, entry.subject) == ("member", str(owner_id),
                                                                 order_id)
    assert (entry.before, entry.after) == ({"refunded": 0}, {"refunded": 1450})
    assert entry.reason == "Damaged in transit" and entry.seller_id is not None


def test_a_partial_refund_then_the_rest(client, shop, card_order, as_person, in_app):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    confirm, done = refund_through_pages(client, shop, order_id, **{"refund-amount": "4.50"})
    assert "Refund €4.50 of order" in confirm.text
    assert done.status_code == 303
    assert order_status(in_app, order_id) == "partially_refunded"
    page = client.get(order_url(shop, order_id)).text
    assert "Refunded €4.50." in flashed(page)
    assert "all that can still be refunded: €10.00" in page

    _, rest = refund_through_pages(client, shop, order_id)
    assert rest.status_code == 303
    assert refunds_of(in_app, order_id) == [(450, "succeeded", "source"),
                                            (1000, "succeeded", "source")]
    assert order_status(in_app, order_id) == "refunded"
    [first, second] = audit_of(in_app, "order.refunded")
    assert (second.before, second.after) == ({"refunded": 450}, {"refunded": 1450})


def test_an_amount_in_the_persons_language(client, shop, card_order, as_person, in_app):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    page = client.get(order_url(shop, order_id), headers={"Accept-Language": "de"})
    _, fields = form_of(page.text, "/refund")
    confirm = client.post(order_url(shop, order_id) + "/refund",
                          data={**fields, "refund-amount": "4,50"},
                          headers={"Accept-Language": "de"})
    assert confirm.status_code == 200 and "4,50" in confirm.text
    done = send(client, confirm.text, "/refund", headers={"Accept-Language": "de"})
    assert done.status_code == 303
    assert refunds_of(in_app, order_id) == [(450, "succeeded", "source")]


def test_a_refund_as_credit_with_the_shop(client, shop, card_order, as_person, in_app):
    order_id = card_order()
    as_person(shop.team.emails["support"])  # support may refund
    confirm, done = refund_through_pages(client, shop, order_id,
                                         **{"refund-destination": "credit"})
    assert "As credit with your shop" in confirm.text
    assert done.status_code == 303
    assert refunds_of(in_app, order_id) == [(1450, "succeeded", "credit")]

    def balance():
        buyer = db.session.scalar(db.select(Buyer).filter_by(email="ann@example.com"))
        return [(b.unit, b.amount) for b in book.balances_of(buyer)]
    assert in_app(balance) == [("EUR", 1450)]


@pytest.mark.parametrize(("typed", "message"), [
    ("abc", "Enter an amount such as 14.50, or leave it empty."),
    ("4.505", "Enter an amount such as 14.50, or leave it empty."),
    ("-3", "Enter an amount such as 14.50, or leave it empty."),
    ("0", "Enter an amount such as 14.50, or leave it empty."),
])
def test_a_bad_amount_is_refused_beside_its_field(client, shop, card_order, as_person, in_app,
                                                  typed, message):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    answer = review(client, shop, order_id, **{"refund-amount": typed})
    assert answer.status_code == 400
    assert message in answer.text and 'id="refund-amount-error"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert refunds_of(in_app, order_id) == []


def test_never_more_than_can_be_refunded(client, shop, card_order, as_person, in_app):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    answer = review(client, shop, order_id, **{"refund-amount": "20.00"})
    assert answer.status_code == 422
    assert "At most €14.50 can still be refunded on this order." in answer.text
    assert "Refund €20.00" not in answer.text  # no button to press

    # A confirmation sent with more anyway (edited by hand) is refused the same.
    page = client.get(order_url(shop, order_id)).text
    _, fields = form_of(page, "/refund")
    forced = client.post(order_url(shop, order_id) + "/refund", data={
        **fields, "refund-amount": "20.00", "refund-confirmed": "yes"})
    assert forced.status_code == 422
    assert "At most €14.50 can still be refunded on this order." in forced.text
    assert refunds_of(in_app, order_id) == []
    # ...and that form's key is free again: corrected, the same form refunds.
    corrected = client.post(order_url(shop, order_id) + "/refund", data={
        **fields, "refund-amount": "14.50", "refund-confirmed": "yes"})
    assert corrected.status_code == 303
    assert refunds_of(in_app, order_id) == [(1450, "succeeded", "source")]


def test_a_double_submission_refunds_once(client, shop, card_order, as_person, in_app):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    confirm = review(client, shop, order_id, **{"refund-amount": "5.00"})
    first = send(client, confirm.text, "/refund")
    again = send(client, confirm.text, "/refund")  # a double click, back and resubmit
    assert first.status_code == again.status_code == 303
    page = client.get(again.location).text
    assert ("This form was sent before: its refund of €5.00 was made then. Nothing more "
            "was refunded now.") in flashed(page)
    # Back to the order page's form as it was, edited, sent again: still one refund.
    edited = send(client, confirm.text, "/refund", **{"refund-amount": "6.00"})
    assert edited.status_code == 303
    # The confirmation step itself, sent again, says it was done rather than ask again.
    back = client.post(order_url(shop, order_id) + "/refund", data={
        **form_of(confirm.text, "/refund")[1], "refund-confirmed": ""})
    assert back.status_code == 303 and back.location.endswith(order_url(shop, order_id))
    assert refunds_of(in_app, order_id) == [(500, "succeeded", "source")]
    assert len(audit_of(in_app, "order.refunded")) == 1
    assert in_app(lambda: db.session.scalar(db.select(IdempotencyRecord.status))) == "done"


def test_a_page_older_than_another_refund_refunds_nothing(client, shop, card_order, as_person,
                                                          in_app):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    first_tab = client.get(order_url(shop, order_id)).text
    second_tab = client.get(order_url(shop, order_id)).text
    _, done = refund_through_pages(client, shop, order_id, **{"refund-amount": "5.00"})
    assert done.status_code == 303
    confirm = send(client, second_tab, "/refund", **{"refund-amount": "5.00"})
    late = send(client, confirm.text, "/refund")
    assert late.status_code == 409
    assert "The order changed since this page was shown" in late.text
    assert refunds_of(in_app, order_id) == [(500, "succeeded", "source")]
    assert first_tab != second_tab  # each page its own key


def test_a_form_too_old_or_not_ours_is_refused(client, shop, card_order, as_person, in_app):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    page = client.get(order_url(shop, order_id)).text
    _, fields = form_of(page, "/refund")
    url = order_url(shop, order_id) + "/refund"
    old = "5f000000." + fields["refund-submission"].split(".")[1]  # made in 2020
    answer = client.post(url, data={**fields, "refund-submission": old,
                                    "refund-confirmed": "yes"})
    assert answer.status_code == 400 and "This form is out of date" in answer.text
    made_up = client.post(url, data={**fields, "refund-submission": "x"})
    assert made_up.status_code == 400 and "This form is out of date" in made_up.text
    assert refunds_of(in_app, order_id) == []


def test_two_concurrent_submissions_refund_once(app, client, shop, card_order, as_person,
                                                in_app, monkeypatch):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    confirm = review(client, shop, order_id, **{"refund-amount": "3.00"})
    action, fields = form_of(confirm.text, "/refund")
    provider = in_app(get_provider)
    real_refund = provider.refund

    def slow_refund(*args, **kwargs):
        time.sleep(0.5)
        return real_refund(*args, **kwargs)

    monkeypatch.setattr(provider, "refund", slow_refund)
    # Two browsers' tabs of one person: the same cookie, the same form, sent at once.
    cookie = client.get_cookie("session").value
    answers = []

    def post():
        other = app.test_client()
        other.set_cookie("session", cookie)
        answers.append(other.post(action, data=fields))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.15)
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [303, 409]
    [busy] = [a for a in answers if a.status_code == 409]
    assert "This is already being done: the form was sent twice." in busy.text
    assert refunds_of(in_app, order_id) == [(300, "succeeded", "source")]
    # Once it is done, the same form shows that refund.
    later = client.post(action, data=fields)
    assert later.status_code == 303
    assert "its refund of €3.00 was made then" in " ".join(flashed(client.get(later.location).text))
    assert refunds_of(in_app, order_id) == [(300, "succeeded", "source")]


def test_a_provider_that_does_not_answer(client, shop, card_order, as_person, in_app,
                                         monkeypatch):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    confirm = review(client, shop, order_id)
    provider = in_app(get_provider)
    real_refund = provider.refund

    def unreachable(*args, **kwargs):
        raise PaymentError("provider_unavailable", "timed out")

    monkeypatch.setattr(provider, "refund", unreachable)
    answer = send(client, confirm.text, "/refund")
    assert answer.status_code == 503
    assert "The payment provider did not answer. The refund of €14.50 stays reserved" \
        in answer.text
    assert "Try again" in answer.text
    assert refunds_of(in_app, order_id) == [(1450, "pending", "source")]
    # Reserved: nothing more can be refunded meanwhile.
    page = client.get(order_url(shop, order_id)).text
    assert "Review the refund" not in page and "Processing" in page

    # Try again once the provider answers: the same refund continues, none is added.
    monkeypatch.setattr(provider, "refund", real_refund)
    again = send(client, answer.text, "/refund")
    assert again.status_code == 303
    assert refunds_of(in_app, order_id) == [(1450, "succeeded", "source")]
    assert len(audit_of(in_app, "order.refunded")) == 1


def test_a_provider_that_refuses(client, shop, card_order, as_person, in_app, monkeypatch):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    confirm = review(client, shop, order_id, **{"refund-amount": "2.00"})
    provider = in_app(get_provider)

    def refused(*args, **kwargs):
        raise PaymentError("refund_failed", "charge_disputed")

    monkeypatch.setattr(provider, "refund", refused)
    answer = send(client, confirm.text, "/refund")
    assert answer.status_code == 502
    assert "The payment provider refused the refund of €2.00" in answer.text
    assert "Try again" not in answer.text
    assert refunds_of(in_app, order_id) == [(200, "failed", "source")]
    # The same form again finds the refusal recorded and calls nobody.
    again = send(client, confirm.text, "/refund")
    assert again.status_code == 502
    assert refunds_of(in_app, order_id) == [(200, "failed", "source")]
    # The money is free again for a new refund from the page.
    page = client.get(order_url(shop, order_id)).text
    assert "all that can still be refunded: €14.50" in page


def test_viewers_see_no_refund_form_and_may_not_refund(client, shop, card_order, as_person,
                                                       in_app):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    _, fields = form_of(client.get(order_url(shop, order_id)).text, "/refund")
    as_person(shop.team.emails["viewer"])
    page = client.get(order_url(shop, order_id))
    assert page.status_code == 200 and "Review the refund" not in page.text
    forbidden = client.post(order_url(shop, order_id) + "/refund", data={
        **fields, "refund-confirmed": "yes", "refund-csrf_token": csrf_token(page.text)})
    assert forbidden.status_code == 403
    assert refunds_of(in_app, order_id) == []


def test_another_sellers_order_cannot_be_refunded(client, shop, card_order, as_person, in_app):
    order_id = card_order()
    as_person(shop.team.other_owner)
    answer = client.post(f"/console/{shop.team.other}/orders/{order_id}/refund", data={})
    assert answer.status_code in (400, 404)  # the CSRF check or not found: nothing done
    assert client.get(f"/console/{shop.team.other}/orders/{order_id}").status_code == 404
    assert refunds_of(in_app, order_id) == []
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(Refund.id)))) == 0
    assert order_status(in_app, order_id) == "paid"


def test_a_process_killed_after_the_reservation_is_resumed_by_the_same_form(
        client, shop, card_order, as_person, in_app, monkeypatch):
    from management.console import order_detail

    order_id = card_order()
    as_person(shop.team.emails["owner"])
    confirm = review(client, shop, order_id, **{"refund-amount": "6.00"})
    real_execute = order_detail.execute_refund

    def killed(refund):  # the worker dies right after the recovery point's commit
        raise KeyboardInterrupt

    monkeypatch.setattr(order_detail, "execute_refund", killed)
    with pytest.raises(KeyboardInterrupt):
        send(client, confirm.text, "/refund")
    monkeypatch.setattr(order_detail, "execute_refund", real_execute)
    assert refunds_of(in_app, order_id) == [(600, "pending", "source")]

    # Sent again while the dead request's lease runs: refused, nothing done.
    busy = send(client, confirm.text, "/refund")
    assert busy.status_code == 409 and "already being done" in busy.text
    # Once the lease is over, the same form takes it over and ends that refund.
    def lease_over():
        db.session.execute(db.update(IdempotencyRecord).values(
            locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    in_app(lease_over)
    resumed = send(client, confirm.text, "/refund")
    assert resumed.status_code == 303
    assert "Refunded €6.00." in flashed(client.get(resumed.location).text)
    assert refunds_of(in_app, order_id) == [(600, "succeeded", "source")]
    assert len(audit_of(in_app, "order.refunded")) == 1
