"""One of everything a console or admin route can name, at Northwind (see the ``team``
fixture), as the values of the routes' {placeholders}."""

from __future__ import annotations

from datetime import timedelta

from buyflow.extensions import db
from buyflow.models import (
    Ban,
    BlacklistPattern,
    Buyer,
    Invitation,
    Membership,
    Order,
    OrderItem,
    Payment,
    Product,
    RefundRequest,
    Seller,
    SellerApiKey,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from buyflow.models._base import utcnow
from buyflow.models.sellers import hash_api_key


def build_world(team) -> dict[str, str]:
    """Make the objects (in the current app context) and answer the placeholders."""
    northwind = db.session.scalar(db.select(Seller).filter_by(public_id=team.northwind))
    customer = Buyer(email="customer@example.com")
    product = Product(seller=northwind, name="Beans", description="", amount=1450,
                      currency="EUR")
    order = Order(seller=northwind, buyer=customer, buyer_email=customer.email,
                  checkout_key="world-order", status="paid", amount=1450, currency="EUR",
                  paid_at=utcnow())
    order.items.append(OrderItem(product=product, name="Beans", quantity=1,
                                 unit_amount=1450, amount=1450))
    order.payments.append(Payment(provider="offline", method="bank_transfer",
                                  status="succeeded", amount=1450, currency="EUR"))
    asked = RefundRequest(order=order, buyer=customer, reason="Never arrived")
    endpoint = WebhookEndpoint(seller=northwind, url="http://127.0.0.1:9/hooks",
                               secret="whsec_world")
    event = WebhookEvent(seller_id=northwind.id, type="order.paid", data={})
    key = SellerApiKey(seller=northwind, key_hash=hash_api_key("sk_world"), hint="orld",
                       name="World")
    invitation = Invitation(seller=northwind, email="new@northwind.test", role="viewer",
                            expires_at=utcnow() + timedelta(days=7))
    ban = Ban(kind="domain", value="banned.test", reason="spam")
    pattern = BlacklistPattern(pattern=r".*@spam\.test", reason="spam")
    db.session.add_all([customer, product, order, asked, endpoint, key, invitation, ban,
                        pattern])
    db.session.add(event)
    db.session.flush()
    delivery = WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id, status="failed")
    db.session.add(delivery)
    viewer = db.session.scalar(db.select(Membership).join(Buyer).where(
        Membership.seller_id == northwind.id, Buyer.email == team.emails["viewer"]))
    db.session.commit()
    from buyflow.people.invitations import invitation_token

    return {
        "invitation_token": invitation_token(invitation),
        "seller": team.northwind, "other_seller": team.other, "order": order.public_id,
        "product": product.public_id, "refund_request": asked.public_id,
        "webhook_endpoint": endpoint.public_id, "delivery": str(delivery.id),
        "api_key": str(key.id), "member": str(viewer.id), "invitation": invitation.public_id,
        "customer": customer.email, "person": str(customer.id), "ban": ban.public_id,
        "pattern": pattern.public_id, "payment": order.payments[0].public_id,
    }
