"""An order's page in the console: items, payments and their sources, refunds, refund
requests, the timeline (payment and refund events, audit entries, webhooks sent for it
with their deliveries); only the seller's own orders."""

import re
from datetime import timedelta

from flask import current_app

from buyflow.extensions import db
from buyflow.models import Buyer, Order, Seller, WebhookDelivery, WebhookEvent
from buyflow.refund_requests import open_request
from buyflow.sellers.accounts import add_webhook_endpoint
from tests.management.console.money_pages import (  # noqa: F401  (fixtures)
    card_order,
    make_order,
    send,
    shop,
)


def order_url(shop, order_id):
    return f"{shop.console}/orders/{order_id}"


def with_endpoint(in_app, shop, url="http://127.0.0.1:9/hooks"):
    def add():
        seller = db.session.scalar(db.select(Seller).filter_by(public_id=shop.northwind.public_id))
        add_webhook_endpoint(seller, url)
        db.session.commit()
    in_app(add)


def test_a_card_order_with_its_payment_and_timeline(client, shop, card_order, as_person,
                                                    in_app):
    with_endpoint(in_app, shop)
    order_id = card_order()
    as_person(shop.team.emails["viewer"])  # reading is for every member
    page = client.get(order_url(shop, order_id))
    assert page.status_code == 200
    html = page.text
    assert f"Order {order_id}" in html and "ann@example.com" in html
    assert "Ethiopia Yirgacheffe" in html and "€14.50" in html
    assert "Visa ending in 4242" in html and ">Card<" in html and "Succeeded" in html
    assert "Can still be refunded" in html
    # The timeline: the payment's events, the webhooks sent for it and their deliveries.
    assert "Timeline" in html and "<code>succeed</code>" in html
    assert "<code>order.completed</code>" in html and "<code>payment.succeeded</code>" in html
    assert "http://127.0.0.1:9/hooks" in html and "Pending" in html and "0 attempts" in html
    # A viewer changes nothing: no refund or payment forms.
    assert "Review the refund" not in html and "Record the payment" not in html
    assert 'aria-current="page"' in html  # the Orders section is the current one


def test_a_webhooks_deliveries_are_listed_in_the_order_they_were_made(client, shop, card_order,
                                                                    as_person, in_app):
    with_endpoint(in_app, shop, "http://127.0.0.1:9/first")
    with_endpoint(in_app, shop, "http://127.0.0.1:9/second")
    order_id = card_order()

    # Rescheduled, the first endpoint's rows are written anew, after the others (PostgreSQL).
    def retry_the_first():
        for delivery in db.session.scalars(db.select(WebhookDelivery)):
            if delivery.endpoint.url.endswith("/first"):
                delivery.attempts = 1
                delivery.next_attempt_at += timedelta(minutes=1)
        db.session.commit()
    in_app(retry_the_first)
    as_person(shop.team.emails["owner"])
    html = client.get(order_url(shop, order_id)).text
    shown = re.findall(r"127\.0\.0\.1:9/(first|second)", html)
    assert shown == ["first", "second"] * 2  # each of the order's two webhooks


def test_the_timeline_names_refunds_actions_and_requests(client, shop, card_order, as_person,
                                                         in_app):
    order_id = card_order()

    def ask():
        order = db.session.scalar(db.select(Order).filter_by(public_id=order_id))
        buyer = db.session.scalar(db.select(Buyer).filter_by(email="ann@example.com"))
        open_request(order, buyer, "The bag was torn", "credit")
        db.session.commit()
    in_app(ask)
    as_person(shop.team.emails["owner"])
    html = client.get(order_url(shop, order_id)).text
    assert "The buyer asked for a refund: answer it" in html
    assert "The bag was torn" in html
    assert "<code>refund.requested</code>" in html and "By the buyer" in html
    # The refund form gives the money where the buyer asked by default.
    assert 'checked id="refund-destination-1" name="refund-destination" type="radio" ' \
           'value="credit"' in html

    confirm = send(client, html, "/refund", **{"refund-amount": "4.00",
                                                "refund-reason": "Torn bag"})
    assert send(client, confirm.text, "/refund").status_code == 303
    html = client.get(order_url(shop, order_id)).text
    assert "<code>order.refunded</code>" in html
    assert f"By {shop.team.emails['owner']}" in html and "Torn bag" in html
    assert "<code>refund.completed</code>" in html
    assert "As credit with your shop" in html and "Refunded" in html
    # The request closed with that refund.
    assert "The buyer asked for a refund: answer it" not in html


def test_an_offline_payment_is_shown_with_its_reference(client, shop, as_person, in_app):
    order_id = in_app(lambda: make_order(shop.northwind.public_id, status="paid",
                                         paid_offline=True))
    as_person(shop.team.emails["support"])
    html = client.get(order_url(shop, order_id)).text
    assert "Bank transfer (TR-1)" in html and ">Offline<" in html
    assert "Beans" in html and "€7.25" in html  # two at 7.25


def test_webhooks_of_other_orders_are_not_shown(client, shop, card_order, as_person, in_app):
    first, second = card_order(), card_order("bob@example.com")
    as_person(shop.team.emails["owner"])
    html = client.get(order_url(shop, first)).text
    assert html.count("<code>order.completed</code>") == 1
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(WebhookEvent.id)).where(
        WebhookEvent.type == "order.completed"))) == 2
    assert second not in html


def test_a_delivery_links_to_its_page_when_developers_has_one(app, client, shop, card_order,
                                                              as_person, in_app):
    with_endpoint(in_app, shop)
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    html = client.get(order_url(shop, order_id)).text
    with app.app_context():
        exists = "console.developers_delivery" in current_app.view_functions
    assert ("See the delivery" in html) is exists


def test_only_the_sellers_own_orders(client, shop, card_order, as_person):
    order_id = card_order()
    as_person(shop.team.other_owner)
    assert client.get(f"/console/{shop.team.other}/orders/{order_id}").status_code == 404
    as_person(shop.team.emails["owner"])
    assert client.get(order_url(shop, "ord_made_up")).status_code == 404
    assert client.get(order_url(shop, order_id)).status_code == 200


def test_the_page_in_french(client, shop, card_order, as_person):
    order_id = card_order()
    as_person(shop.team.emails["owner"])
    html = client.get(order_url(shop, order_id), headers={"Accept-Language": "fr"}).text
    assert "14,50\xa0€" in html and 'lang="fr"' in html
