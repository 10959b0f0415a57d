"""The payment source interfaces: what the core asks of where money comes from, in typed
values, one capability at a time.

A source is known by name (``Payment.provider``; payments/sources.py is the registry)
and implements only what it has: a card provider (Stripe) is a ``CardVault``, a
``ChargeProvider``, a ``RefundProvider`` and a ``WebhookProvider``; the credit balance is
a ``HoldingSource`` and a ``LocalRefunds``; offline payments (recorded by staff) are only
``LocalRefunds``. A provider turns the core's requests into calls at its payment service
and turns the service's answers and webhook events into *actions* (see
``states.Action``). No source writes a status itself: only ``payments.service`` does,
through the transition tables. Every provider call that can move money takes an
idempotency key derived from our own row id.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import CodedError
from ..money import Money
from .states import Action, RefundAction


class PaymentError(CodedError):
    """A failure the buyer can be told about. ``code`` is stable and maps to a localized
    message in the buy flow (card_declined, authentication_failed, provider_unavailable,
    setup_incomplete, processing_error, refund_failed)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code, f"{code}: {detail}" if detail else code,
                         503 if code == "provider_unavailable" else 402)
        self.detail = detail


class WebhookSignatureError(Exception):
    """A provider webhook whose signature does not verify."""


@dataclass(frozen=True)
class CardDetails:
    """What we keep of a card: never its number."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class CardSetup:
    """A card-entry session at the provider; the browser completes it with the client secret."""

    reference: str
    client_secret: str


@dataclass(frozen=True)
class SavedCard:
    """A card the provider confirmed and attached to the buyer's customer record."""

    method_ref: str
    card: CardDetails


@dataclass(frozen=True)
class ChargeRequest:
    amount: Money
    customer_ref: str
    method_ref: str
    idempotency_key: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BrowserChargeRequest:
    """A charge the buyer's browser confirms with the card they enter: ``keep_card`` asks
    the provider to keep that card with the customer once it is paid. A buyer who keeps
    no card may have no customer (``customer_ref`` None): a guest's charge."""

    amount: Money
    customer_ref: str | None
    idempotency_key: str
    keep_card: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeOutcome:
    """Where a charge stands at the provider, as an action for the transition table
    (None while it waits: for the buyer's card in their browser — ``awaiting_card`` —, or
    for the provider, whose webhook will say how it ended)."""

    action: Action | None
    payment_ref: str | None
    # For the buyer's browser: to enter the card, or to authenticate (3-D Secure).
    client_secret: str | None = None
    failure_code: str | None = None
    awaiting_card: bool = False
    # The card it charges, once known; and whether the buyer asked to keep it.
    card: SavedCard | None = None
    keeps_card: bool = False


@dataclass(frozen=True)
class ChargeRecord:
    """A charge as the provider lists it, for reconciliation."""

    outcome: ChargeOutcome
    payment_public_id: str | None  # ours, from the charge's metadata; None if not ours
    amount: Money


@dataclass(frozen=True)
class RefundOutcome:
    """Where a refund stands at the provider, as an action for the refund transition
    table (None while the provider still processes it)."""

    reference: str
    action: RefundAction | None
    payment_ref: str | None = None
    refund_public_id: str | None = None  # ours, from the refund's metadata
    amount: int | None = None
    failure_code: str | None = None


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event about one of our payments."""

    event_id: str
    action: Action
    payment_ref: str | None
    payment_public_id: str | None
    failure_code: str | None = None


@dataclass(frozen=True)
class ProviderRefundEvent:
    """A verified webhook event about refunds of a charge: each refund as it stands."""

    event_id: str
    refunds: tuple[RefundOutcome, ...]


# Our ids in what a provider keeps (its metadata), to find our payments and refunds there.
PAYMENT_METADATA_KEY = "buyflow_payment"
REFUND_METADATA_KEY = "buyflow_refund"


class PaymentSource(ABC):
    """Where a payment's money comes from, by ``name``."""

    name: str


class BrowserCard(PaymentSource):
    """A card entered in the buyer's browser, with the provider's own script."""

    @abstractmethod
    def browser_config(self) -> dict:
        """Public values the buy-flow page needs: ``publishable_key``, ``js_url``,
        ``display_name`` (who processes the card, as buyers know it), and for the page's CSP the origins it loads, talks to and frames (``script_src``,
        ``connect_src``, ``frame_src``). No secrets."""


class CardVault(PaymentSource):
    """Customers and their saved cards at the provider. Moves no money."""

    @abstractmethod
    def ensure_customer(self, email: str, customer_ref: str | None,
                        idempotency_key: str | None = None) -> str:
        """Return the provider's customer reference for ``email``, creating one if
        ``customer_ref`` is None (once per ``idempotency_key``). Moves no money."""

    @abstractmethod
    def update_customer_email(self, customer_ref: str, email: str) -> None:
        """Give the customer a new email (the buyer changed their primary). Moves no
        money."""

    @abstractmethod
    def start_card_setup(
        self, customer_ref: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> CardSetup:
        """Open a card-entry session for the browser. Moves no money."""

    @abstractmethod
    def finish_card_setup(self, setup_ref: str, customer_ref: str) -> SavedCard:
        """Check that the browser completed ``setup_ref`` for ``customer_ref`` and attach the
        card to the customer. Raises PaymentError when the setup did not succeed or does
        not belong to this customer. Moves no money."""

    @abstractmethod
    def detach_card(self, method_ref: str) -> None:
        """Remove a saved card from its customer at the provider, so that it can never be
        charged again. A card already gone counts as detached. Moves no money."""

    @abstractmethod
    def set_default_card(self, customer_ref: str, method_ref: str | None) -> None:
        """Make ``method_ref`` the card the provider charges the customer by default (for
        recurring payments), or none. Moves no money."""

    @abstractmethod
    def delete_customer(self, customer_ref: str) -> None:
        """Delete the customer at the provider with what it keeps of the buyer (cards
        included). A customer already gone counts as deleted. Moves no money."""


class ChargeProvider(PaymentSource):
    """Charges at the provider, and how to learn where one stands."""

    @abstractmethod
    def charge(self, request: ChargeRequest) -> ChargeOutcome:
        """Charge a saved card, confirming at once. Declines come back as an outcome with
        Action.FAIL, not as exceptions; PaymentError only when the provider cannot be
        reached or refuses the request itself."""

    @abstractmethod
    def start_browser_charge(self, request: BrowserChargeRequest) -> ChargeOutcome:
        """Open a charge for the buyer's browser to confirm with the card they enter (and
        authenticate, when their bank asks, once). Moves no money by itself: it waits
        for the card (``awaiting_card``), with the client secret the browser needs."""

    @abstractmethod
    def charge_status(self, payment_ref: str) -> ChargeOutcome:
        """Where a charge stands now (after the buyer's authentication, say). Read-only."""

    @abstractmethod
    def cancel_charge(self, payment_ref: str) -> ChargeOutcome:
        """Cancel a charge still waiting for the buyer, so that it can no longer succeed.
        Returns the charge's outcome after the attempt (it may have ended otherwise)."""

    @abstractmethod
    def find_charge(self, customer_ref: str | None, payment_public_id: str,
                    created_after: datetime,
                    created_before: datetime | None = None) -> ChargeOutcome | None:
        """The charge made for our payment ``payment_public_id`` (its metadata), looked up
        among the customer's charges since ``created_after`` (and until ``created_before``
        when given), or among all of the account's in that time when ``customer_ref`` is
        None (a charge opened for no customer); None when there is none. Read-only: this
        is how recovery learns whether a call whose answer was lost acted, without
        acting."""

    @abstractmethod
    def list_charges(self, created_after: datetime) -> Iterator[ChargeRecord]:
        """Every charge made since ``created_after``, ours or not. Read-only."""


class RefundProvider(PaymentSource):
    """Refunds at the provider, and how to learn where one stands."""

    @abstractmethod
    def refund(self, payment_ref: str, amount: Money, idempotency_key: str,
               metadata: Mapping[str, str]) -> RefundOutcome:
        """Give ``amount`` of charge ``payment_ref`` back to the buyer. The caller has
        checked the amount is still refundable (providers may not). PaymentError
        "refund_failed" when the provider refused (it did not act), "provider_unavailable"
        when its answer is unknown (it may have acted: retry with the same key)."""

    @abstractmethod
    def refund_status(self, refund_ref: str) -> RefundOutcome:
        """Where a refund stands now. Read-only."""

    @abstractmethod
    def find_refund(self, payment_ref: str, refund_public_id: str) -> RefundOutcome | None:
        """The refund of charge ``payment_ref`` made for our refund ``refund_public_id``
        (its metadata); None when there is none. Read-only."""

    @abstractmethod
    def list_refunds(self, created_after: datetime) -> Iterator[RefundOutcome]:
        """Every refund made since ``created_after``, ours or not. Read-only."""


class WebhookProvider(PaymentSource):
    """The provider's signed webhooks, as actions."""

    @abstractmethod
    def parse_webhook(self, payload: bytes,
                      headers: Mapping[str, str]) -> ProviderEvent | ProviderRefundEvent | None:
        """Verify a webhook's signature and map it to actions, or None for events we do
        not act on. Raises WebhookSignatureError for a bad signature. Writes nothing."""


class HoldingSource(PaymentSource):
    """A source whose payment is reserved first (``authorized``) and taken once the rest
    of the order is paid: the credit balance. Called by the status writer only, inside
    its transaction, as a payment leaves ``authorized``."""

    @abstractmethod
    def capture(self, payment) -> None:
        """Take what ``payment`` reserved: the order is paid. Flushes."""

    @abstractmethod
    def release(self, payment) -> None:
        """Give back what ``payment`` reserved: it will never be taken. Flushes."""


class LocalRefunds(PaymentSource):
    """A source that gives money back without calling anyone (the credit balance; an
    offline payment, which the seller pays back themselves): the refund part is done
    when this returns."""

    @abstractmethod
    def give_back(self, part) -> dict:
        """Give back ``part`` (a RefundPart of one of this source's payments, or any
        payment's part refunded as credit); what to note in its history. Flushes."""


class CardProvider(BrowserCard, CardVault, ChargeProvider, RefundProvider, WebhookProvider):
    """Everything the buy flow asks of a card provider."""
