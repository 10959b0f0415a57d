"""All models, importable from one place (and seen by Alembic through this import)."""

from .buyers import Buyer
from .catalog import Product
from .orders import Order, OrderItem
from .payments import Payment, PaymentEvent
from .sellers import Seller, SellerApiKey
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Buyer", "Order", "OrderItem", "Payment", "PaymentEvent", "Product", "Seller",
    "SellerApiKey", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent",
]
