"""All models, importable from one place (and seen by Alembic through this import)."""

from .buyers import Buyer, BuyerEmail, Card, SignInCode
from .catalog import Product
from .idempotency import IdempotencyRecord
from .orders import Order, OrderItem
from .payments import Payment, PaymentEvent
from .reconciliation import ReconciliationIssue
from .refunds import Refund, RefundEvent
from .requests import AuditEntry, RefundRequest
from .sellers import Seller, SellerApiKey
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "AuditEntry", "Buyer", "BuyerEmail", "Card", "IdempotencyRecord", "Order", "OrderItem", "Payment", "PaymentEvent", "Product",
    "ReconciliationIssue", "Refund", "RefundEvent", "RefundRequest", "Seller", "SignInCode",
    "SellerApiKey", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent",
]
