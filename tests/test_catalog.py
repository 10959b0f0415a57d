"""The catalog's rules (buyflow/catalog.py): amounts as people type them, products and
their prices, credit packs, archiving, and deleting only what nobody ordered."""

from __future__ import annotations

import pytest

from buyflow import catalog
from buyflow.catalog import CatalogRefused
from buyflow.extensions import db
from buyflow.models import AuditEntry, Order, OrderItem, Product
from buyflow.models.audit import Actor


@pytest.mark.parametrize("text, unit, locale, minor", [
    ("14.50", "EUR", "en", 1450), ("14,50", "EUR", "de", 1450), ("14,50", "EUR", "en", 1450),
    ("14.50", "EUR", "de", 1450), ("1.450,50", "EUR", "de", 145050),
    ("1,450.50", "EUR", "en", 145050), ("1 450,50", "EUR", "fr", 145050),
    ("1\u202f450,50", "EUR", "fr", 145050), (" 7 ", "EUR", "en", 700),
    ("1500", "JPY", "ja", 1500), ("1.234", "KWD", "en", 1234),
    ("100", "points:stars", "en", 100), ("1,000", "points:stars", "en", 1000),
])
def test_amounts_are_read_as_the_persons_language_writes_them(text, unit, locale, minor):
    assert catalog.parse_amount(text, unit, locale) == minor


@pytest.mark.parametrize("text, unit, code", [
    ("", "EUR", "invalid_amount"), ("abc", "EUR", "invalid_amount"),
    ("-3", "EUR", "invalid_amount"), ("0", "EUR", "invalid_amount"),
    ("1e5", "EUR", "invalid_amount"), ("NaN", "EUR", "invalid_amount"),
    ("14.505", "EUR", "too_many_decimals"), ("15.5", "JPY", "too_many_decimals"),
    ("1.5", "points:stars", "too_many_decimals"),
    ("10000000000.01", "EUR", "invalid_amount"),
])
def test_bad_amounts_are_refused_with_a_code(text, unit, code):
    with pytest.raises(CatalogRefused) as refused:
        catalog.parse_amount(text, unit, "en")
    assert refused.value.code == code


@pytest.mark.parametrize("amount, unit, locale, text", [
    (1450, "EUR", "de", "14,50"), (1450, "EUR", "en", "14.50"), (145050, "EUR", "fr", "1450,50"),
    (1500, "JPY", "ja", "1500"), (1234, "KWD", "en", "1.234"), (100, "points:x", "en", "100"),
])
def test_amounts_are_written_back_so_they_read_the_same(amount, unit, locale, text):
    assert catalog.amount_text(amount, unit, locale) == text
    assert catalog.parse_amount(text, unit, locale) == amount


ACTOR = Actor.member(type("Person", (), {"id": 7})())


def order_of(product) -> Order:
    order = Order(seller=product.seller, buyer_email="ann@example.com", checkout_key="k1",
                  status="pending", amount=product.amount, currency=product.currency)
    order.items.append(OrderItem(product=product, name=product.name, quantity=1,
                                 unit_amount=product.amount, amount=product.amount))
    db.session.add(order)
    db.session.commit()
    return order


def test_a_product_is_created_in_the_sellers_currencies_and_audited(seller):
    seller.currencies = ["CHF"]
    with pytest.raises(CatalogRefused) as refused:
        catalog.create_product(seller, name="Beans", amount=1450, currency="EUR")
    assert refused.value.code == "currency_not_offered"
    product = catalog.create_product(seller, name=" Beans ", amount=1450, currency="chf",
                                     actor=ACTOR)
    assert (product.name, product.currency, product.active) == ("Beans", "CHF", True)
    entry = db.session.scalar(db.select(AuditEntry))
    assert (entry.action, entry.subject, entry.actor_id) == (
        "product.created", product.public_id, "7")


@pytest.mark.parametrize("fields, code", [
    ({"name": " "}, "name_required"), ({"name": "x" * 201}, "name_too_long"),
    ({"amount": 0}, "invalid_amount"), ({"amount": 14.5}, "invalid_amount"),
    ({"currency": "XYZ"}, "invalid_currency"),
    ({"credit_amount": 100}, "invalid_pack"),
    ({"credit_amount": 100, "credit_unit": "STARS"}, "invalid_unit"),
])
def test_bad_products_are_refused_and_nothing_is_written(seller, fields, code):
    with pytest.raises(CatalogRefused) as refused:
        catalog.create_product(seller, **{"name": "Beans", "amount": 1450, "currency": "EUR",
                                          **fields})
    assert refused.value.code == code
    assert isinstance(refused.value, ValueError)  # the CLI's catch
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Product.id))) == 0


def test_a_new_price_changes_no_order_already_made(seller, product):
    order = order_of(product)
    changes = catalog.update_product(product, actor=ACTOR, name=product.name,
                                     description=product.description, amount=1600,
                                     currency="EUR", credit_amount=None, credit_unit=None)
    db.session.commit()
    assert changes == {"amount": (1450, 1600)}
    db.session.refresh(order)
    assert (order.amount, order.items[0].unit_amount) == (1450, 1450)


def test_a_pack_with_orders_keeps_what_it_grants(seller, product):
    order_of(product)
    with pytest.raises(CatalogRefused) as refused:
        catalog.update_product(product, actor=ACTOR, name=product.name, description="",
                               amount=1450, currency="EUR", credit_amount=100,
                               credit_unit="points:stars")
    assert refused.value.code == "pack_has_orders" and refused.value.http_status == 409


def test_a_pack_nobody_ordered_may_change(seller, product):
    changes = catalog.update_product(product, actor=ACTOR, name=product.name,
                                     description=product.description, amount=1450,
                                     currency="EUR", credit_amount=100,
                                     credit_unit="points:stars")
    assert changes == {"credit_amount": (None, 100), "credit_unit": (None, "points:stars")}


def test_archiving_twice_changes_once(seller, product):
    assert catalog.set_archived(product, True, actor=ACTOR) is True
    assert catalog.set_archived(product, True, actor=ACTOR) is False
    db.session.commit()
    assert product.active is False
    actions = db.session.scalars(db.select(AuditEntry.action)).all()
    assert actions == ["product.archived"]


def test_only_a_product_nobody_ordered_is_deleted(seller, product):
    other = catalog.create_product(seller, name="Tea", amount=900, currency="EUR")
    db.session.commit()
    order_of(product)
    with pytest.raises(CatalogRefused) as refused:
        catalog.delete_product(product, actor=ACTOR)
    assert refused.value.code == "product_sold"
    db.session.rollback()
    catalog.delete_product(other, actor=ACTOR)
    db.session.commit()
    assert db.session.scalars(db.select(Product.name)).all() == [product.name]
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="product.deleted"))
    assert entry.before["name"] == "Tea"
