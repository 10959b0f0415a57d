"""Payments: the payment sources by name, the transition tables, the one status writer
and the money paths.

Every source is registered here, by the name ``Payment.provider`` holds: the card
provider (Stripe, when its keys are configured), the buyer's credit balance with the
seller, and offline payments recorded by staff. Each implements only the capabilities of
``payments.base`` it has.
"""

from flask import Flask, current_app
from huey import crontab

from .base import CardProvider, PaymentSource

_EXTENSION_KEY = "buyflow.payment_sources"


def init_app(app: Flask) -> None:
    """Build this app's payment sources from its config (no network call) and register
    the money paths' tasks: refunds of overpayments, order expiry, reconciliation."""
    from ..tasks import register_periodic, register_task
    from . import charges, expiry, reconcile, refunds
    from .credit import CreditSource
    from .offline import OfflineSource
    from .stripe import StripeProvider

    sources: dict[str, PaymentSource] = {CreditSource.name: CreditSource(),
                                         OfflineSource.name: OfflineSource()}
    if app.config.get("STRIPE_SECRET_KEY"):
        sources[StripeProvider.name] = StripeProvider.from_config(app.config)
    app.extensions[_EXTENSION_KEY] = sources

    register_task(app, "execute_refund", refunds.execute_refund_task)
    register_task(app, "settle_attempts", charges.settle_attempts_task)
    register_periodic(app, "reconcile_payments",
                      crontab(minute=f"*/{app.config['RECONCILE_EVERY_MINUTES']}"),
                      reconcile.reconcile_task)
    register_periodic(app, "expire_orders", crontab(minute="*/5"), expiry.expire_orders_task)


def source(name: str) -> PaymentSource:
    """The current app's payment source called ``name``; RuntimeError if there is none."""
    try:
        return current_app.extensions[_EXTENSION_KEY][name]
    except KeyError:
        raise RuntimeError(f"No payment source {name!r} configured") from None


def get_provider() -> CardProvider:
    """The current app's card provider; RuntimeError if none is configured."""
    try:
        return current_app.extensions[_EXTENSION_KEY][current_app.config["CARD_PROVIDER"]]
    except KeyError:
        raise RuntimeError(
            "No payment provider configured: set BUYFLOW_STRIPE_SECRET_KEY"
        ) from None
