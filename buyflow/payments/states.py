"""The transition tables: the only place that decides what status comes next.

A decision is one of three kinds:
- valid: the status changes and an event row is appended;
- ignored: a duplicate or late action that changes nothing (a replayed webhook, a
  second "succeeded" after the first);
- invalid: an action that makes no sense from the current status; logged as an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    REQUIRE_ACTION = "require_action"
    AUTHORIZE = "authorize"
    SUCCEED = "succeed"
    FAIL = "fail"
    CANCEL = "cancel"


class PaymentStatus(StrEnum):
    CREATED = "created"
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"  # reserved (a credit hold), taken once the rest is paid
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# A provider's payment in one of these may still succeed: at most one per order and
# source (the money core cancels or settles it before another card is charged).
OPEN_PAYMENT_STATUSES = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION)


class PaymentSource(StrEnum):
    """Where a payment's money comes from (``Payment.provider``); a card provider is named
    by itself ("stripe")."""

    CREDIT = "credit"
    OFFLINE = "offline"


class RefundStatus(StrEnum):
    # The amount is reserved; the provider has not answered yet, or its answer was lost,
    # or it accepted the refund and still processes it (then the part has its ref).
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider refused it, or it never reached the provider
    # Of a whole refund only: some parts succeeded, the others failed.
    PARTIALLY_SUCCEEDED = "partially_succeeded"


class RefundDestination(StrEnum):
    SOURCE = "source"  # back where each payment came from
    CREDIT = "credit"  # as credit with the seller, whatever paid


class RefundAction(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"


class RefundKind(StrEnum):
    ORDER = "order"  # gives back what the order cost, in full or in part
    OVERPAYMENT = "overpayment"  # gives back a charge the order did not need


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    EXPIRED = "expired"  # never paid in time; what it reserved was released


# Orders whose refunds can still be asked for.
REFUNDABLE_ORDER_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
# What a buyer bought: the orders their purchases list shows, with a receipt.
PURCHASED_ORDER_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED,
                            OrderStatus.REFUNDED)


class OrderAction(StrEnum):
    PAY = "pay"
    REFUND_PART = "refund_part"
    REFUND_REST = "refund_rest"
    EXPIRE = "expire"


_P, _A = PaymentStatus, Action

PAYMENT_TRANSITIONS: dict[tuple[str, str], str] = {
    (_P.CREATED, _A.AUTHORIZE): _P.AUTHORIZED,
    (_P.AUTHORIZED, _A.SUCCEED): _P.SUCCEEDED,
    (_P.AUTHORIZED, _A.CANCEL): _P.CANCELED,
    (_P.CREATED, _A.REQUIRE_ACTION): _P.REQUIRES_ACTION,
    (_P.CREATED, _A.SUCCEED): _P.SUCCEEDED,
    (_P.CREATED, _A.FAIL): _P.FAILED,
    (_P.CREATED, _A.CANCEL): _P.CANCELED,
    (_P.REQUIRES_ACTION, _A.SUCCEED): _P.SUCCEEDED,
    (_P.REQUIRES_ACTION, _A.FAIL): _P.FAILED,
    (_P.REQUIRES_ACTION, _A.CANCEL): _P.CANCELED,
    # The provider is the truth about money: a charge given up here (its answer lost, or
    # cancelled after a lookup found nothing) that succeeds after all is a success. If
    # the order was paid meanwhile, the second charge is refunded (payments.service).
    (_P.FAILED, _A.SUCCEED): _P.SUCCEEDED,
    (_P.CANCELED, _A.SUCCEED): _P.SUCCEEDED,
}

PAYMENT_IGNORED: set[tuple[str, str]] = {
    (_P.REQUIRES_ACTION, _A.REQUIRE_ACTION),
    (_P.SUCCEEDED, _A.SUCCEED),
    (_P.FAILED, _A.FAIL),
    (_P.FAILED, _A.CANCEL),
    (_P.CANCELED, _A.CANCEL),
    (_P.CANCELED, _A.FAIL),
    (_P.AUTHORIZED, _A.AUTHORIZE),
}

_O, _OA = OrderStatus, OrderAction

ORDER_TRANSITIONS: dict[tuple[str, str], str] = {
    (_O.PENDING, _OA.PAY): _O.PAID,
    (_O.PAID, _OA.REFUND_PART): _O.PARTIALLY_REFUNDED,
    (_O.PAID, _OA.REFUND_REST): _O.REFUNDED,
    (_O.PARTIALLY_REFUNDED, _OA.REFUND_PART): _O.PARTIALLY_REFUNDED,
    (_O.PARTIALLY_REFUNDED, _OA.REFUND_REST): _O.REFUNDED,
    (_O.PENDING, _OA.EXPIRE): _O.EXPIRED,
}

ORDER_IGNORED: set[tuple[str, str]] = {(_O.EXPIRED, _OA.EXPIRE)}

_R, _RA = RefundStatus, RefundAction

REFUND_TRANSITIONS: dict[tuple[str, str], str] = {
    (_R.PENDING, _RA.SUCCEED): _R.SUCCEEDED,
    (_R.PENDING, _RA.FAIL): _R.FAILED,
}

REFUND_IGNORED: set[tuple[str, str]] = {
    (_R.SUCCEEDED, _RA.SUCCEED),
    (_R.FAILED, _RA.FAIL),
}


@dataclass(frozen=True)
class Decision:
    kind: str  # "valid", "ignored" or "invalid"
    to_status: str

    @property
    def changes(self) -> bool:
        return self.kind == "valid"


def _decide(transitions, ignored, status: str, action: str) -> Decision:
    if (status, action) in transitions:
        return Decision("valid", transitions[(status, action)])
    if (status, action) in ignored:
        return Decision("ignored", status)
    return Decision("invalid", status)


def decide_payment(status: str, action: str) -> Decision:
    """What ``action`` does to a payment in ``status``."""
    return _decide(PAYMENT_TRANSITIONS, PAYMENT_IGNORED, status, action)


def decide_order(status: str, action: str) -> Decision:
    """What ``action`` does to an order in ``status``."""
    return _decide(ORDER_TRANSITIONS, ORDER_IGNORED, status, action)


def decide_refund(status: str, action: str) -> Decision:
    """What ``action`` does to a refund in ``status``. A refund that succeeded and is
    then reported failed (or the reverse) is invalid: money that moved is not undone by
    a status change, an operator looks at it (payments.reconcile records it)."""
    return _decide(REFUND_TRANSITIONS, REFUND_IGNORED, status, action)
