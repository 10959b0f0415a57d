"""Refund requests with a lifecycle: a buyer asks (``open_request``) and may take it back
(``withdraw``); the seller declines (``decline``) or refunds, which closes it
(``mark_refunded``, subscribed to the money core's ``refund.succeeded``). See
``lifecycle.py`` for the rules and ``mail.py`` for the mail a decline sends."""

from __future__ import annotations

from flask import Flask

from ..models.requests import RefundRequestStatus
from .lifecycle import (
    REASON_MAX_LENGTH,
    REFUSALS,
    RefundRequestRefused,
    RequestPage,
    current_request,
    decline,
    mark_refunded,
    open_request,
    refund_request_payload,
    refusal_to_ask,
    request_of_seller,
    requests_of_seller,
    withdraw,
)

__all__ = [
    "REASON_MAX_LENGTH", "REFUSALS", "RefundRequestRefused", "RefundRequestStatus",
    "RequestPage", "current_request", "decline", "init_app", "mark_refunded",
    "open_request", "refund_request_payload", "refusal_to_ask", "request_of_seller",
    "requests_of_seller", "withdraw",
]


def init_app(app: Flask) -> None:
    """Close a request when a refund of its order succeeds (in the status writer's
    transaction); register the decline mail's task and its sweep."""
    from ..events import subscribe
    from . import mail

    subscribe(app, "refund.succeeded", mark_refunded)
    mail.init_app(app)
