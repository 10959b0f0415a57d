"""All models, importable from one place (and seen by Alembic through this import)."""

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
