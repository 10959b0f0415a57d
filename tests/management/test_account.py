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
