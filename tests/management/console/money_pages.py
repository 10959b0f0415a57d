"""What the tests of an order's page, its refunds, offline payments and refund requests
share: a shop (Northwind of the ``team`` fixture, with a product), orders paid by card
through the flow or made directly, and a browser's way with forms (read the form a page
shows, send it with what a person types)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, Order, OrderItem, Payment, Product, Refund, Seller
from buyflow.models._base import utcnow
from tests.conftest import make_product


class _Forms(HTMLParser):
    """Each <form> of a page: its action and the values a browser would send as is."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action", ""), "fields": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in attrs:
                    self._form["fields"][attrs["name"]] = attrs.get("value", "on")
            elif kind != "submit":
                self._form["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._form["fields"][self._textarea] = ""
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select:
            if "selected" in attrs or self._select not in self._form["fields"]:
                self._form["fields"][self._select] = attrs.get("value", "")

    def handle_data(self, data):
        if self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":  # a browser drops the line break after <textarea>
            value = self._form["fields"][self._textarea]
            self._form["fields"][self._textarea] = value.removeprefix("\r\n").removeprefix("\n")
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_of(html: str, action_part: str) -> tuple[str, dict]:
    """The (action, fields) of the page's form whose action contains ``action_part``."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if action_part in form["action"]:
            return form["action"], dict(form["fields"])
    raise AssertionError(f"no form posting to {action_part!r} on the page")


def send(client, html: str, action_part: str, headers: dict | None = None, **typed):
    """Send the page's form as a person would, with ``typed`` values (``refund-amount``
    ...); returns the answer."""
    action, fields = form_of(html, action_part)
    fields.update(typed)
    return client.post(action, data=fields, headers=headers or {})


def flashed(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip()
            for m in re.findall(r'<p class="flash[^"]*" role="(?:status|alert)">(.*?)</p>',
                                html, re.S)]


@pytest.fixture
def shop(team, in_app):
    """Northwind (of ``team``) with a 14.50 EUR product, as plain ids, and the team."""

    def make():
        northwind = db.session.scalar(db.select(Seller).filter_by(public_id=team.northwind))
        coffee = make_product(northwind)
        return SimpleNamespace(public_id=northwind.public_id), SimpleNamespace(
            public_id=coffee.public_id)

    northwind, coffee = in_app(make)
    return SimpleNamespace(northwind=northwind, coffee=coffee, team=team,
                           console=f"/console/{team.northwind}")


@pytest.fixture
def card_order(shop, buy):
    """``card_order(email=...)``: a 14.50 EUR order of Northwind paid by card through the
    flow; its public id."""

    def make(email: str = "ann@example.com") -> str:
        answer = buy(shop.northwind, shop.coffee, email=email)
        assert answer.json["status"] == "paid", answer.json
        return answer.json["order"]

    return make


def make_order(seller_public_id: str, *, email: str = "carl@example.com",
               status: str = "pending", amount: int = 1450, locale: str = "en",
               paid_offline: bool = False) -> str:
    """An order made directly (in an app context), unpaid or paid offline; its id."""
    seller = db.session.scalar(db.select(Seller).filter_by(public_id=seller_public_id))
    buyer = db.session.scalar(db.select(Buyer).filter_by(email=email)) or Buyer(email=email)
    count = db.session.scalar(db.select(db.func.count(Order.id)))
    product = db.session.scalar(db.select(Product).filter_by(seller_id=seller.id))
    order = Order(seller=seller, buyer=buyer, buyer_email=email, status=status,
                  checkout_key=f"console-test-{count}", amount=amount, currency="EUR",
                  locale=locale, paid_at=utcnow() if status != "pending" else None)
    order.items.append(OrderItem(product=product, name="Beans", quantity=2,
                                 unit_amount=amount // 2, amount=amount))
    if paid_offline:
        order.payments.append(Payment(provider="offline", method="bank_transfer",
                                      status="succeeded", amount=amount, currency="EUR",
                                      reference="TR-1"))
    db.session.add(order)
    db.session.commit()
    return order.public_id


def refunds_of(in_app, order_id: str) -> list[tuple[int, str, str]]:
    """The order's refunds as (amount, status, destination)."""
    def read():
        order = db.session.scalar(db.select(Order).filter_by(public_id=order_id))
        return [(r.amount, r.status, r.destination) for r in db.session.scalars(
            db.select(Refund).filter_by(order_id=order.id).order_by(Refund.id))]
    return in_app(read)


def order_status(in_app, order_id: str) -> str:
    return in_app(lambda: db.session.scalar(db.select(Order.status).filter_by(
        public_id=order_id)))


def audit_of(in_app, action: str) -> list[AuditEntry]:
    def read():
        entries = db.session.scalars(db.select(AuditEntry).filter_by(action=action)
                                     .order_by(AuditEntry.id)).all()
        db.session.expunge_all()
        return entries
    return in_app(read)
