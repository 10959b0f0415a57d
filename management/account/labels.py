"""Statuses as buyers read them, in their language."""

from flask_babel import lazy_gettext as _l

ORDER_STATUSES = {
    "pending": _l("Not paid"),
    "paid": _l("Paid"),
    "partially_refunded": _l("Partly refunded"),
    "refunded": _l("Refunded"),
}
PAYMENT_STATUSES = {
    "created": _l("Processing"),
    "requires_action": _l("Waiting for your bank"),
    "succeeded": _l("Succeeded"),
    "failed": _l("Declined"),
    "canceled": _l("Canceled"),
}
REFUND_STATUSES = {
    "pending": _l("Processing"),
    "succeeded": _l("Refunded"),
    "failed": _l("Failed"),
}


def labels() -> dict:
    """Template helpers turning a status into its label (the status itself if unknown)."""
    return {
        "order_status": lambda status: str(ORDER_STATUSES.get(status, status)),
        "payment_status": lambda status: str(PAYMENT_STATUSES.get(status, status)),
        "refund_status": lambda status: str(REFUND_STATUSES.get(status, status)),
    }
