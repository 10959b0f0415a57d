"""The mail of a decline: once, after the decline commits, to the order's email, in the
order's language, with the shop's reason and a link to the order."""

import pytest

from buyflow.extensions import db
from buyflow.models.audit import Actor
from buyflow.refund_requests import decline, open_request
from buyflow.refund_requests.mail import enqueue_unmailed_declines, send_decline_mail
from tests.conftest import free_port
from tests.refund_requests.conftest import make_buyer, make_order


def mails_to(mailbox, address):
    return [m for m in mailbox.messages if address in m["To"]]


def declined(seller, email: str, locale: str = "en", reason: str = "The seal was broken."):
    buyer = make_buyer(email)
    order = make_order(seller, buyer, locale=locale)
    request = open_request(order, buyer, "Torn")
    db.session.commit()
    decline(request, reason, Actor.api_key(seller.api_keys[0]))
    return request


def test_a_decline_is_mailed_once_after_it_commits(seller, run_queue, mailbox):
    request = declined(seller, "decline-1@example.com")
    db.session.commit()
    run_queue()

    [message] = mails_to(mailbox, "decline-1@example.com")
    order_id = request.order.public_id
    assert message["Subject"] == (
        f"Northwind Coffee declined your refund request for order {order_id}")
    body = message.get_body(("plain",)).get_content()
    assert f"Northwind Coffee declined your request for a refund of order {order_id}." in body
    assert "The seal was broken." in body
    assert f"http://127.0.0.1:5000/account/orders/{order_id}" in body.splitlines()
    assert request.decline_mailed_at is not None

    assert enqueue_unmailed_declines() == 0
    assert send_decline_mail(request.id) is False
    run_queue()
    assert len(mails_to(mailbox, "decline-1@example.com")) == 1


def test_a_decline_rolled_back_mails_nothing(seller, run_queue, mailbox):
    declined(seller, "decline-0@example.com")
    db.session.rollback()
    run_queue()
    assert mails_to(mailbox, "decline-0@example.com") == []


@pytest.mark.parametrize(("locale", "subject"), [
    ("fr", "Northwind Coffee a refusé votre demande de remboursement de la commande"),
    ("ja", "Northwind Coffee が注文"),
])
def test_the_mail_speaks_the_language_the_buyer_bought_in(seller, run_queue, mailbox, locale,
                                                          subject):
    email = f"decline-{locale}@example.com"
    declined(seller, email, locale=locale, reason="Le sceau était brisé.")
    db.session.commit()
    run_queue()
    [message] = mails_to(mailbox, email)
    assert str(message["Subject"]).strip().startswith(subject)
    assert "Le sceau était brisé." in message.get_body(("plain",)).get_content()


def test_a_failed_send_leaves_it_for_the_sweep(app, seller, mailbox, run_queue,
                                               monkeypatch):
    request = declined(seller, "decline-2@example.com")
    db.session.commit()
    monkeypatch.setattr(app.extensions["mailman"], "port", free_port())  # nothing listens
    with pytest.raises(OSError):
        send_decline_mail(request.id)
    db.session.expire_all()
    assert (request.decline_mail_claimed_at, request.decline_mailed_at) == (None, None)

    monkeypatch.undo()
    assert enqueue_unmailed_declines() == 1  # the task was lost: the sweep hands it over
    run_queue()
    assert len(mails_to(mailbox, "decline-2@example.com")) == 1


def test_a_deleted_account_gets_no_mail(seller, mailbox):
    request = declined(seller, "decline-3@example.com")
    db.session.commit()
    request.buyer.deleted_at = request.created_at
    db.session.commit()
    assert send_decline_mail(request.id) is False
    assert mails_to(mailbox, "decline-3@example.com") == []
    assert request.decline_mailed_at is not None  # nothing left to send
