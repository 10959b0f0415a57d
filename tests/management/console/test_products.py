"""The console's Products: the catalog as a seller's team uses it — adding a product with
its price typed as their language writes it, credit packs, editing (orders keep their
amounts), archiving, and deleting only what nobody ordered."""

from __future__ import annotations

import html

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Order, OrderItem, Product, Seller
from buyflow.models._base import utcnow
from tests.management.conftest import form_post


def base(team) -> str:
    return f"/console/{team.northwind}/products"


def northwind(team) -> Seller:
    return db.session.scalar(db.select(Seller).filter_by(public_id=team.northwind))


def products(in_app, team) -> list[Product]:
    return in_app(lambda: db.session.scalars(db.select(Product).where(
        Product.seller_id == northwind(team).id).order_by(Product.id)).all())


def audited(in_app, action: str) -> list[AuditEntry]:
    return in_app(lambda: db.session.scalars(
        db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)).all())


def make(in_app, team, name="Beans", amount=1450, currency="EUR", ordered=False, **fields):
    """A Northwind product (with a paid order of it when ``ordered``); its public id."""
    def add():
        product = Product(seller=northwind(team), name=name, description="", amount=amount,
                          currency=currency, **fields)
        db.session.add(product)
        if ordered:
            order = Order(seller=product.seller, buyer_email="ann@example.com",
                          checkout_key=f"k-{name}", status="paid", amount=amount,
                          currency=currency, paid_at=utcnow())
            order.items.append(OrderItem(product=product, name=name, quantity=1,
                                         unit_amount=amount, amount=amount))
            db.session.add(order)
        db.session.commit()
        return product.public_id
    return in_app(add)


def product_form(**overrides) -> dict:
    return {"name": "Kenya AA", "description": "Bright and juicy.", "price": "14.50",
            "currency": "EUR", **overrides}


@pytest.fixture
def admin(team, as_person):
    as_person(team.emails["admin"])
    return team


def test_a_product_is_added_with_its_price_typed_in_major_units(client, admin, in_app):
    response = form_post(client, f"{base(admin)}/new", product_form())
    assert response.status_code == 303 and response.location.endswith("/products")
    [product] = products(in_app, admin)
    assert (product.name, product.amount, product.currency, product.active) == (
        "Kenya AA", 1450, "EUR", True)
    [entry] = audited(in_app, "product.created")
    assert entry.subject == product.public_id and entry.after["amount"] == 1450
    assert entry.actor_type == "member"
    page = client.get(base(admin))
    assert "Kenya AA" in page.text and "€14.50" in page.text


@pytest.mark.parametrize("locale, typed, minor, currency", [
    ("de", "14,50", 1450, "EUR"), ("de", "1.450,50", 145050, "EUR"),
    ("fr", "1 450,50", 145050, "EUR"), ("en", "14,50", 1450, "EUR"),
    ("ja", "1500", 1500, "JPY"), ("en", "1.234", 1234, "KWD"),
])
def test_the_price_is_read_as_the_persons_language_writes_it(client, admin, in_app, locale,
                                                             typed, minor, currency):
    response = form_post(client, f"{base(admin)}/new?locale={locale}",
                         product_form(price=typed, currency=currency))
    assert response.status_code == 303, response.text
    assert products(in_app, admin)[0].amount == minor


@pytest.mark.parametrize("typed, message", [
    ("", "This field is required."), ("abc", "Enter a positive amount"),
    ("-3", "Enter a positive amount"), ("0", "Enter a positive amount"),
    ("1e5", "Enter a positive amount"), ("14.505", "at most 2 decimals"),
])
def test_a_bad_price_is_refused_with_its_reason_and_nothing_is_added(client, admin, in_app,
                                                                     typed, message):
    response = form_post(client, f"{base(admin)}/new", product_form(price=typed))
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert 'aria-invalid="true"' in response.text
    assert products(in_app, admin) == []


@pytest.mark.parametrize("currency", ["XYZ", "", "eur"])
def test_a_currency_not_in_the_list_is_refused(client, admin, in_app, currency):
    response = form_post(client, f"{base(admin)}/new",
                         product_form(currency=currency, price="1.005"))
    assert response.status_code == 400
    assert products(in_app, admin) == []


def test_an_empty_form_answers_its_errors(client, admin, in_app):
    response = form_post(client, f"{base(admin)}/new", {})
    assert response.status_code == 400 and "This field is required." in response.text
    assert products(in_app, admin) == []


def test_only_the_sellers_currencies_are_offered_when_it_has_some(client, admin, in_app):
    in_app(lambda: (setattr(northwind(admin), "currencies", ["CHF", "EUR"]),
                    db.session.commit()))
    page = client.get(f"{base(admin)}/new")
    assert '<option selected value="CHF">' in page.text  # the first of them, chosen
    assert 'value="USD"' not in page.text
    refused = form_post(client, f"{base(admin)}/new", product_form(currency="USD"))
    assert refused.status_code == 400
    assert products(in_app, admin) == []


def test_a_credit_pack_grants_its_credit_in_major_units_or_points(client, admin, in_app):
    form_post(client, f"{base(admin)}/new", product_form(
        name="Gift card", price="20", is_pack="y", credit_amount="25", credit_unit="EUR"))
    form_post(client, f"{base(admin)}/new", product_form(
        name="Stars", price="5", is_pack="y", credit_amount="100",
        credit_unit="points:stars"))
    packs = {p.name: (p.credit_amount, p.credit_unit) for p in products(in_app, admin)}
    assert packs == {"Gift card": (2500, "EUR"), "Stars": (100, "points:stars")}
    page = client.get(base(admin))
    assert "Grants €25.00" in html.unescape(page.text) and "Grants 100 stars" in page.text


@pytest.mark.parametrize("pack, field_error", [
    ({"credit_amount": "100", "credit_unit": ""}, "needs both"),
    ({"credit_amount": "100", "credit_unit": "STARS"}, "A unit is a currency code"),
    ({"credit_amount": "1.5", "credit_unit": "points:stars"}, "at most 0 decimals"),
    ({"credit_amount": "", "credit_unit": "EUR"}, "Enter a positive amount"),
])
def test_a_bad_credit_pack_is_refused(client, admin, in_app, pack, field_error):
    response = form_post(client, f"{base(admin)}/new", product_form(is_pack="y", **pack))
    assert response.status_code == 400
    assert field_error in html.unescape(response.text)
    assert products(in_app, admin) == []


def test_a_new_price_leaves_orders_already_made_as_they_were(client, admin, in_app):
    product_id = make(in_app, admin, ordered=True)
    page = client.get(f"{base(admin)}/{product_id}")
    assert 'value="14.50"' in page.text and "This product has orders" in page.text
    response = form_post(client, f"{base(admin)}/{product_id}",
                         product_form(name="Beans", description="", price="16"))
    assert response.status_code == 303
    [product] = products(in_app, admin)
    assert product.amount == 1600
    item = in_app(lambda: db.session.scalar(db.select(OrderItem)))
    assert (item.unit_amount, item.amount) == (1450, 1450)
    order = in_app(lambda: db.session.scalar(db.select(Order)))
    assert order.amount == 1450
    [entry] = audited(in_app, "product.updated")
    assert entry.before == {"amount": 1450} and entry.after == {"amount": 1600}


def test_a_pack_with_orders_keeps_what_it_grants(client, admin, in_app):
    product_id = make(in_app, admin, ordered=True, credit_amount=100,
                      credit_unit="points:stars")
    response = form_post(client, f"{base(admin)}/{product_id}", product_form(
        name="Beans", price="14.50", is_pack="y", credit_amount="200",
        credit_unit="points:stars"))
    assert response.status_code == 409
    assert "archive it and make a new product" in response.text
    assert products(in_app, admin)[0].credit_amount == 100
    assert audited(in_app, "product.updated") == []


def test_saving_an_unchanged_product_writes_nothing(client, admin, in_app):
    product_id = make(in_app, admin)
    response = form_post(client, f"{base(admin)}/{product_id}",
                         product_form(name="Beans", description="", price="14.50"))
    assert response.status_code == 303
    assert audited(in_app, "product.updated") == []


def test_archived_products_are_shown_apart_and_can_come_back(client, admin, in_app):
    product_id = make(in_app, admin, ordered=True)
    make(in_app, admin, name="Tea")
    assert form_post(client, f"{base(admin)}/{product_id}/archive").status_code == 303
    assert products(in_app, admin)[0].active is False
    page = client.get(base(admin)).text
    for_sale = page.index('id="for-sale"')
    assert for_sale < page.index("Tea", for_sale) < page.index('id="archived"') \
        < page.index("Beans", for_sale)
    assert form_post(client, f"{base(admin)}/{product_id}/unarchive").status_code == 303
    assert products(in_app, admin)[0].active is True
    assert [e.action for e in audited(in_app, "product.archived")
            + audited(in_app, "product.unarchived")] == ["product.archived",
                                                          "product.unarchived"]


def test_a_product_nobody_ordered_is_deleted_after_a_confirmation(client, admin, in_app):
    product_id = make(in_app, admin)
    page = client.get(f"{base(admin)}/{product_id}/delete")
    assert page.status_code == 200 and "Delete the product" in page.text
    assert products(in_app, admin) != []
    response = form_post(client, f"{base(admin)}/{product_id}/delete")
    assert response.status_code == 303
    assert products(in_app, admin) == []
    [entry] = audited(in_app, "product.deleted")
    assert entry.subject == product_id and entry.before["name"] == "Beans"


def test_a_product_with_orders_is_never_deleted_only_archived(client, admin, in_app):
    product_id = make(in_app, admin, ordered=True)
    page = client.get(f"{base(admin)}/{product_id}/delete")
    assert "cannot be deleted" in page.text and f"{product_id}/archive" in page.text
    assert "Delete the product" not in page.text
    response = form_post(client, f"{base(admin)}/{product_id}/delete")
    assert response.status_code == 409 and "cannot be deleted" in response.text
    assert len(products(in_app, admin)) == 1
    assert audited(in_app, "product.deleted") == []
    assert "/delete" not in client.get(base(admin)).text  # no delete offered in the list


def test_another_sellers_product_is_not_found(client, admin, in_app):
    def other_product():
        other = db.session.scalar(db.select(Seller).filter_by(public_id=admin.other))
        product = Product(seller=other, name="Theirs", amount=100, currency="EUR")
        db.session.add(product)
        db.session.commit()
        return product.public_id
    product_id = in_app(other_product)
    assert client.get(f"{base(admin)}/{product_id}").status_code == 404
    assert form_post(client, f"{base(admin)}/{product_id}/delete").status_code == 404
    assert form_post(client, f"{base(admin)}/{product_id}/archive").status_code == 404
    assert in_app(lambda: db.session.scalar(db.select(Product).filter_by(
        public_id=product_id)).active) is True


def test_a_viewer_reads_the_catalog_but_changes_nothing(client, team, as_person, in_app):
    make(in_app, team)
    as_person(team.emails["viewer"])
    page = client.get(base(team))
    assert page.status_code == 200 and "Beans" in page.text
    assert "Add a product" not in page.text and "Archive" not in page.text
    assert client.get(f"{base(team)}/new").status_code == 403
