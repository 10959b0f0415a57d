"""Payments: the provider interface, the transition table and the one status writer."""

from flask import Flask, current_app

from .base import PaymentProvider
from .stripe import StripeProvider

_EXTENSION_KEY = "buyflow.payment_provider"


def init_app(app: Flask) -> None:
    """Build this app's payment provider from its config (no network call)."""
    if app.config.get("STRIPE_SECRET_KEY"):
        app.extensions[_EXTENSION_KEY] = StripeProvider.from_config(app.config)


def get_provider() -> PaymentProvider:
    """The current app's payment provider; RuntimeError if none is configured."""
    try:
        return current_app.extensions[_EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "No payment provider configured: set BUYFLOW_STRIPE_SECRET_KEY"
        ) from None
