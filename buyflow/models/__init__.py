"""All models, importable from one place (and seen by Alembic through this import)."""

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url

from ..extensions import db
from ._base import use_dialect
from .audit import AuditEntry
from .buyers import Buyer, BuyerEmail, Card, SignInCode
from .catalog import Product
from .idempotency import IdempotencyRecord
from .ledger import LedgerAccount, LedgerEntry, LedgerTransaction
from .orders import Order, OrderItem
from .payments import Payment, PaymentEvent
from .people import Ban, BlacklistPattern, Invitation, Membership
from .receipts import Receipt
from .reconciliation import ReconciliationIssue
from .refunds import Refund, RefundEvent, RefundPart
from .requests import RefundRequest
from .sellers import Seller, SellerApiKey
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "AuditEntry", "Ban", "BlacklistPattern", "Invitation", "Membership", "Buyer", "BuyerEmail", "Card", "IdempotencyRecord", "Order", "OrderItem", "Payment", "PaymentEvent", "Product",
    "LedgerAccount", "LedgerEntry", "LedgerTransaction",
    "Receipt", "ReconciliationIssue", "Refund", "RefundEvent", "RefundPart", "RefundRequest", "Seller", "SignInCode",
    "SellerApiKey", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent",
]


def init_app(app: Flask) -> None:
    """Make the partial indexes (``_base.partial_index``) partial on the app's database,
    where its migrations run and are compared with the models."""
    use_dialect(db.metadata, make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name())


@event.listens_for(db.metadata, "before_create")
def _partial_where_created(metadata, connection, **_kw) -> None:
    """Tables made from the models (``create_all``), with or without an app: their
    partial indexes partial on that database."""
    use_dialect(metadata, connection.dialect.name)
