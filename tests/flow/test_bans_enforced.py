"""Bans and the blacklist in the buy flow: a refused email opens no order, gets no
saved-cards code and cannot pay with a saved card; the buyer is told one neutral
message whatever the rule."""

from buyflow.extensions import db
from buyflow.models import Ban, BlacklistPattern, Buyer, BuyerEmail, Order, Payment
from buyflow.models._base import utcnow
from tests.conftest import page_data
from tests.flow.test_saved_cards import ANN, pay_saved

REFUSED = ("This email address cannot be used here. If you think this is a mistake, contact "
           "the shop.")


def _ban(kind, value, buyer=None):
    db.session.add(Ban(kind=kind, value=value, buyer_id=buyer.id if buyer else None,
                       reason="test"))
    db.session.commit()


def _count(model):
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count(model.id)))


def _checkout(client, data, email):
    return client.post("/flow/api/checkout", json={"flow": data["flow"], "email": email})


def _refused(answer):
    assert answer.status_code == 403, answer.json
    assert answer.json["status"] == "error"
    assert answer.json["error"] == {"code": "email_refused", "message": REFUSED}


def test_an_operator_bans_a_domain_and_the_next_checkout_from_it_is_refused(
        client, product, open_flow):
    data = open_flow(product.seller, product)
    assert _checkout(client, data, "ann@shop.example")
    _ban("domain", "shop.example")
    orders = _count(Order)
    for email in ("bob@shop.example", "Carl@Deep.Shop.Example"):
        _refused(_checkout(client, open_flow(product.seller, product), email))
    # The flow opened before the ban is refused too.
    _refused(_checkout(client, data, "ann@shop.example"))
    assert _count(Order) == orders
    assert db.session.scalar(db.select(Buyer).filter_by(email="bob@shop.example")) is None
    assert _checkout(client, open_flow(product.seller, product),
                     "ann@notshop.example").json["status"] == "pending"


def test_a_banned_person_is_refused_under_each_verified_email(client, product, open_flow):
    person = Buyer(email="eve@example.com")
    person.emails.append(BuyerEmail(email="eve.work@example.com", verified_at=utcnow()))
    db.session.add(person)
    db.session.commit()
    _ban("person", "eve@example.com", person)
    for email in ("eve@example.com", "Eve.Work@example.com"):
        _refused(_checkout(client, open_flow(product.seller, product), email))
    assert _count(Order) == 0


def test_a_blacklisted_email_is_refused(client, product, open_flow):
    db.session.add(BlacklistPattern(pattern=r"[a-z]+\d{3,}@example\.com", reason=""))
    db.session.commit()
    _refused(_checkout(client, open_flow(product.seller, product), "bot123@example.com"))
    assert _checkout(client, open_flow(product.seller, product),
                     "bot12@example.com").json["status"] == "pending"


def test_a_lifted_ban_no_longer_refuses(client, product, open_flow):
    _ban("email", ANN)
    _refused(_checkout(client, open_flow(product.seller, product), ANN))
    db.session.scalar(db.select(Ban)).lifted_at = utcnow()
    db.session.commit()
    assert _checkout(client, open_flow(product.seller, product), ANN).json["status"] == "pending"


def test_a_banned_email_gets_no_saved_cards_code(client, product, open_flow, mailbox):
    _ban("domain", "example.com")
    sent = len(mailbox.messages)
    answer = client.post("/flow/api/saved-cards/code", json={
        "flow": open_flow(product.seller, product)["flow"], "email": ANN})
    _refused(answer)
    assert len(mailbox.messages) == sent


def test_a_saved_card_cannot_pay_once_its_buyer_is_banned(client, product, open_flow,
                                                          buy_and_save, unlock):
    assert buy_and_save(product).json["status"] == "paid"
    card = db.session.scalar(db.select(Buyer).filter_by(email=ANN)).cards[0]
    data = open_flow(product.seller, product)
    token = unlock(data)["card_token"]  # unlocked before the ban
    payments = _count(Payment)
    _ban("person", ANN, db.session.scalar(db.select(Buyer).filter_by(email=ANN)))
    _refused(pay_saved(client, data, token, card.public_id))
    assert _count(Payment) == payments
    assert _count(Order) == 1  # the first purchase only


def test_the_email_a_sellers_request_names_is_checked_too(client, seller):
    """A signed request's email is the flow's email, whatever the buyer types."""
    from tests.flow.test_requests import open_request

    _ban("email", "ann@example.com")
    data = page_data(open_request(client, seller).text)
    _refused(_checkout(client, data, "someone@else.example"))
    assert _count(Order) == 0
