"""Domain events: the money core announces what happened; features subscribe.

The status writer (``payments/service.py``) and the ledger announce an event when a
change is made — an order paid, a payment failed, a refund succeeded… — and know nothing
of who listens. Features (seller webhooks, the receipt email, credit packs, refund
requests) subscribe in their own ``init_app``. Handlers run at once, in the order they
subscribed, inside the announcing transaction: what they write commits or rolls back
with the change itself (work for later goes to the task queue after the commit).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

_EXTENSION_KEY = "buyflow.events"

# What can be announced, and with which keyword arguments.
EVENTS = {
    "order.paid": ("order",),
    "order.expired": ("order",),
    "payment.succeeded": ("order", "payment"),
    "payment.failed": ("order", "payment"),
    "refund.succeeded": ("order", "refund"),
    "refund.failed": ("order", "refund"),
    "credit.granted": ("transaction",),
    "credit.debited": ("transaction",),
}


def subscribe(app: Flask, event: str, handler: Callable[..., None]) -> None:
    """Have ``handler(**data)`` called whenever ``event`` is announced in ``app``."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    handlers = app.extensions.setdefault(_EXTENSION_KEY, {}).setdefault(event, [])
    if handler not in handlers:
        handlers.append(handler)


def announce(event: str, **data) -> None:
    """Call every handler subscribed to ``event`` with ``data`` (the names EVENTS lists)."""
    if event not in EVENTS or set(data) != set(EVENTS[event]):
        raise ValueError(f"{event!r} is announced with {sorted(EVENTS.get(event, ()))}, "
                         f"not {sorted(data)}")
    for handler in current_app.extensions.get(_EXTENSION_KEY, {}).get(event, ()):
        handler(**data)
