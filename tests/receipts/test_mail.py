"""The receipt email: once, after the order is paid, in the order's language, with the PDF."""

from datetime import timedelta

from buyflow.extensions import db
from buyflow.models import Order
from buyflow.models._base import utcnow
from buyflow.receipts.mail import enqueue_unsent_receipts, send_receipt
from buyflow.receipts.numbers import receipt_of
from tests.conftest import free_port
from tests.receipts.test_pdf import pdf_text


def receipts_to(mailbox, address):
    """The emails to ``address`` that carry a receipt."""
    return [m for m in mailbox.messages if address in m["To"] and any(
        (a.get_filename() or "").startswith("receipt-") for a in m.iter_attachments())]


def the_order(order_id: str) -> Order:
    return db.session.scalar(db.select(Order).filter_by(public_id=order_id))


def test_a_completed_purchase_emails_its_receipt_once(seller, product, buy, run_queue, mailbox):
    order_id = buy(seller, product, email="receipt-1@example.com").json["order"]
    assert receipts_to(mailbox, "receipt-1@example.com") == []  # not before the commit's task
    run_queue()
    [message] = receipts_to(mailbox, "receipt-1@example.com")
    assert message["Subject"] == f"Your receipt from Northwind Coffee, order {order_id}"
    body = message.get_body(("plain",)).get_content()
    assert "Ethiopia Yirgacheffe × 1: €14.50" in body and "Total: €14.50" in body
    number = receipt_of(the_order(order_id)).number
    assert f"Receipt number: {number}" in body and "Paid with: Visa ending in 4242" in body
    assert f"/account/orders/{order_id}/receipt" in body
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == f"receipt-{order_id}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert order_id in pdf_text(attachment.get_content())
    assert number in pdf_text(attachment.get_content())
    assert the_order(order_id).receipt_sent_at is not None

    run_queue()
    assert enqueue_unsent_receipts() == 0
    run_queue()
    assert send_receipt(the_order(order_id).id) is False
    assert len(receipts_to(mailbox, "receipt-1@example.com")) == 1


def test_the_email_is_in_the_orders_language(seller, product, buy, open_flow, run_queue,
                                             mailbox):
    data = open_flow(seller, product, locale="fr")
    order_id = buy(seller, product, email="receipt-fr@example.com", data=data).json["order"]
    run_queue()
    [message] = receipts_to(mailbox, "receipt-fr@example.com")
    assert order_id in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "14,50\xa0€" in body
    [attachment] = message.iter_attachments()
    assert "Reçu" in pdf_text(attachment.get_content())


def test_a_failed_send_is_left_for_a_retry(app, seller, product, buy, run_queue, mailbox,
                                           monkeypatch):
    order_id = buy(seller, product, email="receipt-2@example.com").json["order"]
    monkeypatch.setattr(app.extensions["mailman"], "port", free_port())  # nothing listens
    run_queue()
    assert receipts_to(mailbox, "receipt-2@example.com") == []
    assert the_order(order_id).receipt_sent_at is None

    monkeypatch.undo()
    assert enqueue_unsent_receipts() == 1  # the sweep finds it (Huey also retries later)
    run_queue()
    assert len(receipts_to(mailbox, "receipt-2@example.com")) == 1
    assert the_order(order_id).receipt_sent_at is not None


def test_the_sweep_leaves_old_and_unpaid_orders_alone(paid_order, run_queue):
    old = paid_order(email="old@example.com")
    old.paid_at = utcnow() - timedelta(days=30)
    paid_order("pending", email="unpaid@example.com")
    db.session.commit()
    assert enqueue_unsent_receipts() == 0
    recent = paid_order(locale="de", email="recent@example.com")
    recent.paid_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert enqueue_unsent_receipts() == 1
    run_queue()
    assert recent.receipt_sent_at is not None and old.receipt_sent_at is None


def test_a_receipt_being_sent_is_not_sent_twice_and_a_dead_workers_claim_is_taken_over(
        app, paid_order, run_queue, mailbox):
    order = paid_order(email="claimed@example.com")
    order.paid_at = utcnow() - timedelta(minutes=30)
    order.receipt_claimed_at = utcnow()  # another worker is sending it right now
    db.session.commit()
    assert send_receipt(order.id) is False
    assert enqueue_unsent_receipts() == 0

    # That worker died before sending: once its claim is stale, the sweep takes over.
    stale = timedelta(seconds=app.config["RECEIPT_CLAIM_SECONDS"] + 1)
    order.receipt_claimed_at = utcnow() - stale
    db.session.commit()
    assert enqueue_unsent_receipts() == 1
    run_queue()
    assert len(receipts_to(mailbox, "claimed@example.com")) == 1
    db.session.refresh(order)
    assert order.receipt_sent_at is not None


def test_the_email_gives_the_sellers_support_contact_and_address(paid_order, run_queue,
                                                                   mailbox):
    order = paid_order(email="support@example.com")
    order.paid_at = utcnow()
    db.session.commit()
    assert enqueue_unsent_receipts() == 1
    run_queue()
    [message] = receipts_to(mailbox, "support@example.com")
    body = message.get_body(("plain",)).get_content()
    assert "Questions about this purchase? Write to help@northwind.example." in body
    assert "Kaffeestraße 12" in body and "10115 Berlin" in body
