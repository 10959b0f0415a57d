"""A buyer's purchases, across sellers, and nobody else's."""

from datetime import UTC, datetime, timedelta

from buyflow.extensions import db
from buyflow.models import Order, Seller
from tests.conftest import SELLER_ORIGIN


def test_purchases_across_sellers_and_none_of_others(client, shops, buy, signed_in, in_app):
    in_app(lambda: db.session.execute(db.update(Seller).values(origins=[SELLER_ORIGIN]))
           and db.session.commit())
    mine = buy(shops.northwind, shops.coffee, email="ann@example.com").json["order"]
    tea = buy(shops.other, shops.tea, email="ann@example.com").json["order"]
    theirs = buy(shops.northwind, shops.coffee, email="bob@example.com").json["order"]
    signed_in("ann@example.com")
    page = client.get("/account/").text
    assert mine in page and tea in page and theirs not in page
    assert "Ethiopia Yirgacheffe" in page and "Green tea" in page and "€14.50" in page
    assert "Paid" in page

    detail = client.get(f"/account/orders/{mine}")
    assert detail.status_code == 200 and "Visa ending in 4242" in detail.text
    assert client.get(f"/account/orders/{theirs}").status_code == 404
    assert client.get("/account/orders/ord_nope").status_code == 404
    assert client.get("/account/", query_string={"after": theirs}).status_code == 404


def test_pages_need_a_signed_in_buyer(client, app):
    response = client.get("/account/orders/ord_x")
    assert response.status_code == 302 and "/account/sign-in" in response.location


def test_keyset_pages_show_every_purchase_once(client, shops, signed_in, in_app):
    def make_orders():
        seller = db.session.scalar(db.select(Seller).filter_by(public_id=shops.northwind.public_id))
        now = datetime.now(UTC)
        db.session.add_all([Order(seller=seller, checkout_key=f"k{i}", amount=100 + i,
                                  currency="EUR", buyer_email="ann@example.com", status="paid",
                                  created_at=now - timedelta(minutes=i)) for i in range(45)])
        db.session.commit()
        return [o.public_id for o in db.session.scalars(
            db.select(Order).order_by(Order.id.desc()))]

    ids = in_app(make_orders)
    signed_in()
    seen, url = [], "/account/"
    while url:
        page = client.get(url).text
        seen += [i for i in ids if i in page]
        marker = 'href="/account/?after='
        url = ("/account/?after=" + page.split(marker)[1].split('"')[0]) if marker in page else None
    assert seen == ids


def test_the_purchases_page_in_french(client, shops, buy, signed_in):
    buy(shops.northwind, shops.coffee)
    signed_in()
    page = client.get("/account/", headers={"Accept-Language": "fr"}).text
    assert "Achats" in page and "14,50\xa0€" in page and "Payée" in page


def test_declined_and_abandoned_attempts_are_not_purchases(client, shops, buy, signed_in):
    paid = buy(shops.northwind, shops.coffee).json["order"]
    declined = buy(shops.northwind, shops.coffee, number="4000000000000341").json["order"]
    signed_in()
    page = client.get("/account/").text
    assert paid in page and declined not in page and "Not paid" not in page


def test_the_order_page_names_each_payment_source(client, shops, signed_in, in_app):
    def order_paid_by_credit_and_transfer():
        from buyflow.buyers.identity import buyer_for_email
        from buyflow.ledger import book
        from buyflow.payments.credit import hold_credit
        from buyflow.payments.offline import record_offline_payment

        seller = db.session.scalar(db.select(Seller).filter_by(public_id=shops.northwind.public_id))
        buyer = buyer_for_email("ann@example.com")
        order = Order(seller=seller, buyer=buyer, checkout_key="k-mixed", amount=1450,
                      currency="EUR", buyer_email="ann@example.com")
        db.session.add(order)
        book.grant(seller, buyer, "EUR", 1000, idempotency_key="welcome")
        hold_credit(order, buyer, 1000)
        record_offline_payment(order, method="bank_transfer", amount=None,
                               reference="TRF-77", recorded_by="api_key:1")
        db.session.commit()
        return order.public_id

    order_id = in_app(order_paid_by_credit_and_transfer)
    signed_in()
    page = client.get(f"/account/orders/{order_id}").text
    assert "Credit with this shop" in page and "Bank transfer" in page and "TRF-77" in page
    credits = client.get("/account/credits").text
    assert "Northwind Coffee" in credits and "€0.00" in credits


def test_each_purchase_row_is_one_link_to_its_order_dated_with_its_zone(client, shops, buy,
                                                                        signed_in):
    import re

    first = buy(shops.northwind, shops.coffee).json["order"]
    second = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    page = client.get("/account/").text
    rows = re.findall(r"<tr>\s*<td class=\"order\">.*?</tr>", page, re.S)
    assert len(rows) == 2
    for row, order_id in zip(rows, (second, first)):  # newest first
        links = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>([^<]*)</a>', row)
        assert links == [(f"/account/orders/{order_id}", order_id)]  # one tab stop a row
        assert re.search(r"<time datetime=\"[^\"]+\">[^<]+ UTC</time>", row)


def test_settings_hold_the_emails_the_cards_and_the_deletion(client, shops, buy, signed_in):
    buy(shops.northwind, shops.coffee)
    signed_in()
    purchases = client.get("/account/").text
    assert 'href="/account/settings"' in purchases
    assert 'href="/account/delete"' not in purchases  # not on every page
    settings = client.get("/account/settings")
    assert settings.status_code == 200
    for text in ("ann@example.com", 'href="/account/emails"', 'href="/account/cards"',
                 'action="/account/sign-out-everywhere"', 'href="/account/delete"',
                 "Delete my account"):
        assert text in settings.text, text
    assert client.get("/account/delete").status_code == 200
    assert 'href="/account/settings" aria-current="page"' in client.get("/account/delete").text


def test_settings_need_a_signed_in_buyer(client, app):
    response = client.get("/account/settings")
    assert response.status_code == 302 and "/account/sign-in" in response.location
