"""Statuses (and choices) as buyers read them, in their language."""

from flask_babel import lazy_gettext as _l

from buyflow.models.requests import RefundRequestStatus
from buyflow.payments.states import RefundDestination
from buyflow.receipts.content import payment_method

ORDER_STATUSES = {
    "pending": _l("Not paid"),
    "paid": _l("Paid"),
    "partially_refunded": _l("Partly refunded"),
    "refunded": _l("Refunded"),
    "expired": _l("Expired"),
}
PAYMENT_STATUSES = {
    "created": _l("Processing"),
    "requires_action": _l("Waiting for your bank"),
    "authorized": _l("Reserved"),
    "succeeded": _l("Succeeded"),
    "failed": _l("Declined"),
    "canceled": _l("Canceled"),
}
REFUND_STATUSES = {
    "pending": _l("Processing"),
    "succeeded": _l("Refunded"),
    "failed": _l("Failed"),
    "partially_succeeded": _l("Partly refunded"),
}
REFUND_REQUEST_STATUSES = {
    RefundRequestStatus.OPEN: _l("Waiting for the shop"),
    RefundRequestStatus.REFUNDED: _l("Refunded"),
    RefundRequestStatus.DECLINED: _l("Declined by the shop"),
    RefundRequestStatus.WITHDRAWN: _l("Withdrawn"),
}
# Where the buyer wants the money back: the same words in the form and in the history.
REFUND_TO = {
    RefundDestination.SOURCE: _l("Back to how you paid"),
    RefundDestination.CREDIT: _l("As credit to spend at this shop"),
}


def labels() -> dict:
    """Template helpers turning a status into its label (the status itself if unknown),
    and a payment into how it was made."""
    return {
        "order_status": lambda status: str(ORDER_STATUSES.get(status, status)),
        "payment_status": lambda status: str(PAYMENT_STATUSES.get(status, status)),
        "refund_status": lambda status: str(REFUND_STATUSES.get(status, status)),
        "refund_request_status":
            lambda status: str(REFUND_REQUEST_STATUSES.get(status, status)),
        "refund_to": lambda where: str(REFUND_TO.get(where, where)),
        "payment_method": payment_method,
    }
