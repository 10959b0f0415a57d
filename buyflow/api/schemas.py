"""What API v1 takes and answers, declared once as pydantic models.

``operations.py`` validates requests with the input models, types every answer with the
answer models and writes the OpenAPI document from both. Every model refuses fields it
does not declare (``extra="forbid"``: ``unknown_field`` for input, and an answer that
grew a field nobody declared fails the tests instead of reaching sellers).

The answer models are what ``sellers/payloads.py`` builds, field for field (webhooks
carry the same dicts): views validate those dicts with them, so an answer is the webhook
payload, checked against its declaration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from ..money import CURRENCY_EXPONENTS
from ..payments.states import (
    OrderStatus,
    PaymentStatus,
    RefundDestination,
    RefundKind,
    RefundStatus,
)

# The error type of a refusal with a stable code of its own (see ``refusal``).
REFUSAL = "buyflow_refusal"


def refusal(code: str, message: str) -> PydanticCustomError:
    """What a validator raises to refuse a value with the stable ``code`` (400 ``code``)
    instead of ``bad_request``. ``message`` should not name the field: the answer does."""
    return PydanticCustomError(REFUSAL, message, {"code": code})


class Schema(BaseModel):
    """A model of the API: no undeclared field; built when first used, not at import."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


# What buyflow.web_input refuses, said as patterns so that clients (and schemathesis)
# know: no NUL in a JSON string; no control character in the query.
JSON_TEXT = r"^[^\u0000]*$"
QUERY_TEXT = r"^[^\u0000-\u001f]*$"
# Text that must say something: at least one character that is not blank. Blank is
# written out, not ``\s``: that means other characters to clients' ECMAScript patterns
# (U+FEFF, not U+0085), to pydantic's Rust regex (U+0085, not U+FEFF) and to Python
# (U+001C-U+001F too), so each engine's blank is blank here and all agree.
_BLANK = (r"\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f"
          r"\u205f\u3000\ufeff")
SAID_TEXT = rf"^[^\u0000]*[^\u0000{_BLANK}][^\u0000]*$"

# The largest integer a JSON number holds exactly in every client (an IEEE double).
MAX_JSON_INTEGER = 2**53


def _amount(value: object) -> int:
    """Any JSON number without a fraction is an integer (JSON Schema's rule: 1.0 is 1);
    anything else (4.5, true, "450", beyond 2**53, not finite, below 1) is refused as
    ``invalid_amount``."""
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int or not 1 <= value <= MAX_JSON_INTEGER:
        raise refusal("invalid_amount", "must be a positive integer in minor units, at "
                                        "most 2**53")
    return value


Amount = Annotated[int, Field(ge=1, le=MAX_JSON_INTEGER), BeforeValidator(_amount)]


def _moment(value: object) -> object:
    """An ISO 8601 text as an aware UTC datetime (UTC when it names no offset). A moment
    just outside years 1 to 9999 in UTC is the first or last one there is: no order is
    that old or new."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("iso_datetime", "must be an ISO 8601 date or time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


Moment = Annotated[datetime, BeforeValidator(_moment)]

# A time in an answer: written back exactly as payloads.py writes it (isoformat).
Timestamp = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str),
                      WithJsonSchema({"type": "string", "format": "date-time"})]

Currency = Annotated[str, Field(pattern="^[A-Z]{3}$", description="ISO 4217, upper case.")]


# Input.

class OrderPath(Schema):
    # The pattern is said, not enforced: an id of another shape is as unknown as any
    # other id (404 not_found), not bad input.
    order_id: str = Field(description="The order's id; another seller's is not found.",
                          json_schema_extra={"pattern": "^ord_"})


class VerifyRequest(Schema):
    token: str = Field(min_length=1, pattern=JSON_TEXT,
                       description="The signed result the seller's page received.")


class RefundRequest(Schema):
    amount: Amount | None = Field(None, description=(
        "Minor units to refund; without it (or null), all that is left. Any integral "
        "JSON number up to 2**53: 450.0 is 450."))
    reason: str = Field("", max_length=500, pattern=JSON_TEXT)
    destination: RefundDestination | None = Field(None, description=(
        "source: back where each payment came from (card, credit, offline: which you pay "
        "back yourself); credit: all of it as credit with you, whatever paid. Without it: "
        "where the buyer asked in their open refund request, else source."))


class OfflinePaymentRequest(Schema):
    method: Literal["bank_transfer", "cash", "invoice", "phone"]
    amount: Amount | None = Field(None, description=(
        "Minor units received; without it, all that is due. Less than is due only if you "
        "allow partial offline payments; never more."))
    reference: str = Field(min_length=1, max_length=200, pattern=SAID_TEXT, description=(
        "The payment's own reference: the transfer's, the invoice number, the till's."))


Unit = Annotated[str, Field(
    max_length=40,
    pattern=rf"^({'|'.join(sorted(CURRENCY_EXPONENTS))}|points:[a-z0-9][a-z0-9_-]{{0,31}})$",
    description="A currency (EUR: its minor units) or your named points: points:<name>.")]


class CustomerPath(Schema):
    # The address is checked by the view (400 invalid_email), as everywhere else.
    email: str = Field(max_length=320, pattern=QUERY_TEXT,
                       json_schema_extra={"format": "email"},
                       description="The customer's email (any of their verified ones).")


class CreditMovementRequest(Schema):
    unit: Unit
    amount: Amount
    reason: str = Field(min_length=1, max_length=500, pattern=SAID_TEXT,
                        description="Why: kept with the movement, shown to you.")


class CreditHistoryQuery(Schema):
    unit: Unit | None = None
    limit: int = Field(20, ge=1, le=100)
    starting_after: str | None = Field(None, pattern=QUERY_TEXT, description=(
        "The previous page's next_cursor; empty is the first page."))


class OrderListQuery(Schema):
    limit: int = Field(20, ge=1, le=100)
    starting_after: str | None = Field(None, pattern=QUERY_TEXT, description=(
        "The previous page's next_cursor; empty is the first page."))
    status: OrderStatus | None = None
    created_gte: Moment | None = Field(None, description=(
        "Orders created at or after this moment (ISO 8601; UTC without an offset)."))
    created_lt: Moment | None = Field(None, description=(
        "Orders created before this moment (ISO 8601; UTC without an offset)."))


# Answers.

class Item(Schema):
    """A line of an order."""

    product: str | None = Field(description="Catalog product id, if any.")
    name: str
    quantity: int = Field(ge=1)
    unit_amount: int = Field(description="Minor units of the currency.")
    amount: int = Field(description="unit_amount × quantity.")


class Card(Schema):
    brand: str | None
    last4: str


class Payment(Schema):
    """A payment of an order."""

    id: str = Field(pattern="^pay_")
    source: Literal["card", "credit", "offline"]
    method: str = Field(description='"card", "credit", or the offline method it was '
                                    'recorded with.')
    amount: int
    currency: Currency
    status: PaymentStatus
    card: Card | None = Field(description="A card payment's card.")
    reference: str | None = Field(description="An offline payment's reference.")
    recorded_by: str | None = Field(description="Who recorded an offline payment.")
    failure_code: str | None
    created_at: Timestamp


class RefundPart(Schema):
    """What one payment gives back of a refund, and where to."""

    payment: str = Field(pattern="^pay_")
    amount: int
    destination: RefundDestination
    status: RefundStatus


class Refund(Schema):
    """A refund of an order."""

    id: str = Field(pattern="^re_")
    order: str = Field(pattern="^ord_")
    amount: int = Field(ge=1)
    currency: Currency
    reason: str
    kind: RefundKind = Field(description=(
        "order: gives back what the order cost (counts in refunded_amount); overpayment: "
        "gives back a second charge the order did not need, made automatically."))
    destination: RefundDestination = Field(description=(
        "source: back where each payment came from; credit: as credit with the seller."))
    status: RefundStatus = Field(description=(
        "pending: the amount is reserved while the provider answers (or its answer is "
        "awaited); failed: refused by the provider, or it never reached it; "
        "partially_succeeded: some parts succeeded, the others failed."))
    parts: list[RefundPart]
    created_at: Timestamp


class Order(Schema):
    """An order, as the seller sees it (webhooks carry the same)."""

    id: str = Field(pattern="^ord_")
    seller: str
    status: OrderStatus
    amount: int = Field(description="Total, in minor units.")
    currency: Currency
    items: list[Item]
    buyer_email: str
    created_at: Timestamp
    paid_at: Timestamp | None
    reference: str | None = Field(description="The seller's reference from its signed "
                                              "request.")
    passthrough: dict[str, Any] | None = Field(description="The seller's data from its "
                                                           "signed request.")
    amount_paid: int = Field(ge=0)
    amount_due: int = Field(ge=0, description="What a pending order still waits for; 0 "
                                              "once it is no longer pending.")
    refunded_amount: int = Field(ge=0)
    payments: list[Payment]
    refunds: list[Refund]


class RefundRequestListQuery(Schema):
    status: Literal["open", "refunded", "declined", "withdrawn"] | None = None
    limit: int = Field(20, ge=1, le=100)
    starting_after: str | None = Field(None, pattern=QUERY_TEXT, description=(
        "The previous page's next_cursor; empty is the first page."))


class RefundRequestPath(Schema):
    request_id: str = Field(pattern=QUERY_TEXT, description=(
        "The request's id (rr_...); another seller's is not found."))


class DeclineRequest(Schema):
    reason: str = Field(min_length=1, max_length=1000, pattern=SAID_TEXT, description=(
        "Why: mailed to the buyer, in their language's mail."))


class RefundRequestOut(Schema):
    """A buyer's refund request (webhooks carry the same)."""

    id: str = Field(pattern="^rr_")
    order: str = Field(pattern="^ord_")
    status: Literal["open", "refunded", "declined", "withdrawn"]
    reason: str
    refund_to: RefundDestination
    decline_reason: str | None
    refund: str | None = Field(description="The refund that closed it.")
    created_at: Timestamp
    closed_at: Timestamp | None


class RefundRequestPage(Schema):
    """Refund requests, newest first."""

    data: list[RefundRequestOut]
    has_more: bool
    next_cursor: str | None


class CreditBalance(Schema):
    unit: str
    amount: int = Field(ge=0)


class CustomerCredits(Schema):
    """What a customer holds with you, per unit."""

    email: str
    balances: list[CreditBalance]


class CreditSource(Schema):
    type: str = Field(description="grant, debit, order, refund...")
    id: str | None = Field(description="The order's or refund part's id, for those.")


class CreditTransaction(Schema):
    """One movement of a customer's credit with you (webhooks carry the same)."""

    id: str = Field(pattern="^ct_")
    buyer_email: str
    unit: str
    amount: int = Field(description="What the customer gained; negative: lost.")
    kind: Literal["grant", "debit", "hold", "capture", "release", "refund"]
    reason: str
    source: CreditSource
    created_at: Timestamp


class CreditHistoryPage(Schema):
    """A customer's credit movements with you, newest first."""

    data: list[CreditTransaction]
    has_more: bool
    next_cursor: str | None


class OrderPage(Schema):
    """A page of orders, newest first."""

    data: list[Order]
    has_more: bool
    next_cursor: str | None = Field(description="Pass it as starting_after for the next "
                                                "page; null on the last.")


class VerifyResult(Schema):
    """The token is good: the order as it stands now."""

    valid: Literal[True]
    order: Order


class ErrorDetail(Schema):
    code: str = Field(description="Stable; switch on it.")
    message: str = Field(description="For people; may change.")


class Error(Schema):
    """Every answer that is not a success."""

    error: ErrorDetail
