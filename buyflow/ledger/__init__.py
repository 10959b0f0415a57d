"""Credits: the ledger (``book``) and what grants from it (``packs``).

The money core spends and gives back credit through ``book``; sellers grant and debit it
through the API. This package subscribes to the orders it must grant for.
"""

from flask import Flask

from ..events import subscribe


def init_app(app: Flask) -> None:
    """Grant credit packs when their order is paid; take them back when it is refunded."""
    from . import packs

    subscribe(app, "order.paid", packs.grant_packs)
    subscribe(app, "refund.succeeded", packs.take_back_packs)
