"""The refund requests' queue in the console: open ones first, filters, keyset pages; a
request's page; approving (the order refunded in full where the buyer asked, the request
closed, once) and declining with a reason (mailed to the buyer in their language)."""

import pytest

from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import Buyer, Order, RefundRequest, WebhookEvent
from buyflow.refund_requests import decline, open_request
from tests.management.conftest import csrf_token
from tests.management.console.money_pages import (  # noqa: F401  (fixtures)
    audit_of,
    card_order,
    flashed,
    make_order,
    order_status,
    refunds_of,
    send,
    shop,
)


def ask(in_app, order_id: str, reason: str = "It never arrived", refund_to: str = "source"):
    """The order's buyer asks for a refund; the request's public id."""
    def run():
        order = db.session.scalar(db.select(Order).filter_by(public_id=order_id))
        buyer = db.session.scalar(db.select(Buyer).filter_by(email=order.buyer_email))
        request = open_request(order, buyer, reason, refund_to)
        db.session.commit()
        return request.public_id
    return in_app(run)


def request_of(in_app, request_id: str) -> tuple[str, str | None, bool]:
    """(status, decline reason, whether a refund closed it)."""
    def read():
        asked = db.session.scalar(db.select(RefundRequest).filter_by(public_id=request_id))
        return asked.status, asked.decline_reason, asked.refund_id is not None
    return in_app(read)


def request_url(shop, request_id):
    return f"{shop.console}/refund-requests/{request_id}"


def mails_to(mailbox, address):
    return [m for m in mailbox.messages if address in m["To"]]


@pytest.fixture
def offline_paid(shop, in_app):
    """``offline_paid(email, locale)``: an order paid by bank transfer; its id."""
    return lambda email="carl@example.com", locale="en": in_app(lambda: make_order(
        shop.northwind.public_id, email=email, status="paid", paid_offline=True,
        locale=locale))


def test_approving_refunds_the_order_in_full_and_closes_the_request(client, shop, card_order,
                                                                    as_person, in_app):
    order_id = card_order()
    request_id = ask(in_app, order_id)
    as_person(shop.team.emails["support"])  # support answers requests
    page = client.get(request_url(shop, request_id))
    assert page.status_code == 200
    assert "It never arrived" in page.text and "Back to how the buyer paid" in page.text
    confirm = send(client, page.text, "/approve")
    assert confirm.status_code == 200
    assert "Approve the refund request and refund €14.50?" in confirm.text
    assert "Visa ending in 4242" in confirm.text
    assert refunds_of(in_app, order_id) == []  # nothing before the confirmation

    done = send(client, confirm.text, "/approve")
    assert done.status_code == 303 and done.location.endswith(request_url(shop, request_id))
    html = client.get(done.location).text
    assert "Refunded €14.50." in flashed(html)
    assert refunds_of(in_app, order_id) == [(1450, "succeeded", "source")]
    assert order_status(in_app, order_id) == "refunded"
    assert request_of(in_app, request_id) == ("refunded", None, True)
    assert "Approve and refund" not in html and "Decline the request" not in html
    [approved] = audit_of(in_app, "refund_request.approved")
    assert (approved.actor_type, approved.subject) == ("member", request_id)
    assert approved.detail["order"] == order_id and approved.seller_id is not None
    assert len(audit_of(in_app, "order.refunded")) == 1

    # The same confirmation sent again: shown as done, nothing refunded twice.
    again = send(client, confirm.text, "/approve")
    assert again.status_code == 303
    assert refunds_of(in_app, order_id) == [(1450, "succeeded", "source")]


def test_approving_gives_the_money_where_the_buyer_asked(client, shop, card_order, as_person,
                                                         in_app):
    order_id = card_order()
    request_id = ask(in_app, order_id, refund_to="credit")
    as_person(shop.team.emails["owner"])
    confirm = send(client, client.get(request_url(shop, request_id)).text, "/approve")
    assert "As credit with your shop" in confirm.text
    assert send(client, confirm.text, "/approve").status_code == 303
    assert refunds_of(in_app, order_id) == [(1450, "succeeded", "credit")]

    def balance():
        buyer = db.session.scalar(db.select(Buyer).filter_by(email="ann@example.com"))
        return [(b.unit, b.amount) for b in book.balances_of(buyer)]
    assert in_app(balance) == [("EUR", 1450)]
    assert request_of(in_app, request_id)[0] == "refunded"


def test_approving_an_answered_request_refunds_nothing(client, shop, offline_paid, as_person,
                                                       in_app):
    order_id = offline_paid()
    request_id = ask(in_app, order_id)
    as_person(shop.team.emails["owner"])
    confirm = send(client, client.get(request_url(shop, request_id)).text, "/approve")

    def declined_meanwhile():  # by the API, in another tab...
        asked = db.session.scalar(db.select(RefundRequest).filter_by(public_id=request_id))
        from buyflow.models.audit import SYSTEM
        decline(asked, "Used", SYSTEM)
        db.session.commit()
    in_app(declined_meanwhile)
    late = send(client, confirm.text, "/approve")
    assert late.status_code == 409
    assert "This refund request is no longer open" in late.text
    assert refunds_of(in_app, order_id) == []


def test_declining_mails_the_buyer_in_their_language(app, client, shop, offline_paid, as_person,
                                                     in_app, run_queue, mailbox):
    app.extensions["buyflow.tasks"].huey.flush()  # tasks other tests left behind
    order_id = offline_paid("dora@example.com", locale="fr")
    request_id = ask(in_app, order_id, "Le colis est abîmé")
    as_person(shop.team.emails["owner"])
    page = client.get(request_url(shop, request_id)).text
    done = send(client, page, "/decline", **{"decline-reason": "Le sceau était intact."})
    assert done.status_code == 303
    html = client.get(done.location).text
    assert "You declined the refund request." in " ".join(flashed(html))
    assert "Le sceau était intact." in html
    assert request_of(in_app, request_id) == ("declined", "Le sceau était intact.", False)
    assert refunds_of(in_app, order_id) == []

    run_queue()
    [message] = mails_to(mailbox, "dora@example.com")
    assert str(message["Subject"]).strip().startswith(
        "Northwind Coffee a refusé votre demande de remboursement de la commande")
    assert "Le sceau était intact." in message.get_body(("plain",)).get_content()

    # One audit entry (the lifecycle's), naming the member and the seller.
    [entry] = audit_of(in_app, "refund_request.declined")
    owner = in_app(lambda: db.session.scalar(db.select(Buyer.id).filter_by(
        email=shop.team.emails["owner"])))
    assert (entry.actor_type, entry.actor_id) == ("member", str(owner))
    assert entry.seller_id is not None and entry.subject == request_id
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(WebhookEvent.id)).where(
        WebhookEvent.type == "refund_request.declined"))) == 1


@pytest.mark.parametrize(("reason", "message"), [
    ("", "Say why you decline: the buyer reads it."),
    ("   ", "Say why you decline: the buyer reads it."),
    ("x" * 1001, "The reason can be at most 1000 characters."),
])
def test_a_decline_needs_a_reason(client, shop, offline_paid, as_person, in_app, reason,
                                  message):
    request_id = ask(in_app, offline_paid())
    as_person(shop.team.emails["owner"])
    answer = send(client, client.get(request_url(shop, request_id)).text, "/decline",
                  **{"decline-reason": reason})
    assert answer.status_code == 400
    assert message in answer.text and 'id="decline-reason-error"' in answer.text
    assert request_of(in_app, request_id) == ("open", None, False)


def test_declining_twice_is_refused_clearly(client, shop, offline_paid, as_person, in_app):
    request_id = ask(in_app, offline_paid())
    as_person(shop.team.emails["owner"])
    page = client.get(request_url(shop, request_id)).text
    assert send(client, page, "/decline", **{"decline-reason": "No"}).status_code == 303
    again = send(client, page, "/decline", **{"decline-reason": "Still no"})
    assert again.status_code == 409
    assert "This refund request is no longer open" in again.text
    assert request_of(in_app, request_id) == ("declined", "No", False)


def test_the_queue_shows_open_requests_first_and_filters(client, shop, offline_paid, as_person,
                                                         in_app):
    waiting = ask(in_app, offline_paid("erin@example.com"), "Wrong size")
    answered = ask(in_app, offline_paid("finn@example.com"), "Changed my mind")

    def decline_it():
        asked = db.session.scalar(db.select(RefundRequest).filter_by(public_id=answered))
        from buyflow.models.audit import SYSTEM
        decline(asked, "Opened", SYSTEM)
        db.session.commit()
    in_app(decline_it)
    as_person(shop.team.emails["viewer"])  # reading is for every member
    queue = client.get(f"{shop.console}/refund-requests")
    assert queue.status_code == 200
    assert waiting in queue.text and answered not in queue.text
    assert "1 request waits for your answer." in queue.text
    assert "Wrong size" in queue.text and "erin@example.com" in queue.text
    declined = client.get(f"{shop.console}/refund-requests?status=declined").text
    assert answered in declined and waiting not in declined
    everything = client.get(f"{shop.console}/refund-requests?status=all").text
    assert answered in everything and waiting in everything
    # A viewer reads a request but cannot answer it.
    page = client.get(request_url(shop, waiting))
    assert page.status_code == 200 and "Decline the request" not in page.text
    forbidden = client.post(request_url(shop, waiting) + "/decline", data={
        "decline-reason": "No", "decline-csrf_token": csrf_token(page.text)})
    assert forbidden.status_code == 403


def test_the_queue_pages_by_keyset(client, shop, offline_paid, as_person, in_app):
    ids = [ask(in_app, offline_paid(f"p{i}@example.com")) for i in range(23)]
    as_person(shop.team.emails["owner"])
    seen, url = [], f"{shop.console}/refund-requests"
    while url:
        html = client.get(url).text
        seen += sorted((i for i in ids if i in html), key=html.index)
        marker = "&amp;after="
        url = None
        if "Next page" in html:
            cursor = html.split(marker)[1].split('"')[0]
            url = f"{shop.console}/refund-requests?status=open&after={cursor}"
    assert seen == list(reversed(ids))


@pytest.mark.parametrize("query", ["status=lost", "after=rr_not_one"])
def test_a_bad_filter_or_page_is_refused_clearly(client, shop, as_person, query):
    as_person(shop.team.emails["owner"])
    answer = client.get(f"{shop.console}/refund-requests?{query}")
    assert answer.status_code == 400 and 'role="alert"' in answer.text


def test_another_sellers_request_is_not_found(client, shop, offline_paid, as_person, in_app):
    request_id = ask(in_app, offline_paid())
    as_person(shop.team.other_owner)
    assert client.get(f"/console/{shop.team.other}/refund-requests/{request_id}"
                      ).status_code == 404
    as_person(shop.team.emails["owner"])
    assert client.get(request_url(shop, "rr_made_up")).status_code == 404
