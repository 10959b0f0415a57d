"""Stripe, through a ``stripe.StripeClient`` built from this app's config.

Card numbers are entered in Stripe's card Element in the browser and never reach us. A
new card pays as Stripe documents it: we create one PaymentIntent (``start_browser_charge``,
``setup_future_usage`` when the buyer keeps the card) -> ``confirmCardPayment`` with the
card in the browser (3-D Secure there, once, if the bank asks) -> we read its status. A
saved card: we create the PaymentIntent with ``confirm=True``; if it requires action,
``confirmCardPayment`` in the browser; we read its status. Cards kept from the account
pages go through a SetupIntent (``start_card_setup``, ``finish_card_setup``).

Every call goes through the SDK's requestor (``StripeClient.raw_request``: its retries,
its idempotency keys, its errors as ``stripe.StripeError``) and its answer is read as the
JSON object Stripe sent, not as the SDK's typed objects: those are defined in a module
per kind, with classes for every nested part (PaymentIntent's, Charge's and
PaymentMethod's modules alone are about 1.5 MiB in every worker), and building them
from each answer costs more CPU than the call's own parsing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from urllib.parse import urlsplit

import requests
import stripe

from ..money import Money
from .base import (
    PAYMENT_METADATA_KEY,
    REFUND_METADATA_KEY,
    BrowserChargeRequest,
    CardDetails,
    CardProvider,
    CardSetup,
    ChargeOutcome,
    ChargeRecord,
    ChargeRequest,
    PaymentError,
    ProviderEvent,
    ProviderRefundEvent,
    RefundOutcome,
    SavedCard,
    WebhookSignatureError,
)
from .states import Action, RefundAction

# Stripe's decline and error codes, folded into the few a buyer can act upon.
_AUTHENTICATION_CODES = {"payment_intent_authentication_failure", "authentication_required"}
_BUYER_CODES = {"card_declined", "expired_card", "incorrect_cvc", "incorrect_number",
                "insufficient_funds", "processing_error"}
# A mistyped expiry date is the buyer's to correct, not a decline.
_INVALID_EXPIRY_CODES = {"invalid_expiry_month", "invalid_expiry_year"}

_EVENT_ACTIONS = {
    "payment_intent.succeeded": Action.SUCCEED,
    "payment_intent.payment_failed": Action.FAIL,
    "payment_intent.canceled": Action.CANCEL,
}

# Refund events: Stripe sends refund.* with the refund, charge.refunded with the charge
# (its refunds listed on older API versions only).
_REFUND_EVENTS = {"refund.created", "refund.updated", "refund.failed",
                  "charge.refund.updated"}



def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _gone(exc: stripe.InvalidRequestError) -> bool:
    """Whether Stripe answered that the object does not exist (any more)."""
    return exc.code == "resource_missing" or exc.http_status == 404


def buyer_code(code: str | None) -> str:
    """A Stripe error code as one of our stable buyer-facing codes."""
    if code in _AUTHENTICATION_CODES:
        return "authentication_failed"
    if code in _INVALID_EXPIRY_CODES:
        return "invalid_expiry"
    if code in _BUYER_CODES:
        return code
    return "card_declined" if code else "processing_error"


def _refund_outcome(data: dict) -> RefundOutcome:
    status = data.get("status")
    if status == "succeeded":
        action = RefundAction.SUCCEED
    elif status in ("failed", "canceled"):
        action = RefundAction.FAIL
    else:  # pending, requires_action: the provider has not finished
        action = None
    return RefundOutcome(
        reference=data["id"],
        action=action,
        payment_ref=data.get("payment_intent"),
        refund_public_id=(data.get("metadata") or {}).get(REFUND_METADATA_KEY),
        amount=data.get("amount"),
        failure_code=(data.get("failure_reason") or "refund_failed") if action == RefundAction.FAIL
        else None,
    )


def _card_of(method: object) -> SavedCard | None:
    """The card of a PaymentIntent's payment method, when it is expanded (an object)."""
    if not isinstance(method, dict) or not method.get("card"):
        return None
    card = method["card"]
    return SavedCard(method_ref=method["id"], card=CardDetails(
        brand=card.get("brand") or "", last4=card.get("last4") or "",
        exp_month=int(card.get("exp_month") or 0), exp_year=int(card.get("exp_year") or 0)))


def _metadata(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _http_client(api_base: str, timeout: tuple[float, float]) -> stripe.RequestsClient:
    """The SDK's requests client for ``api_base``, on one kept-alive session that reads
    nothing from the environment per call: requests would read every proxy variable
    (and ~/.netrc, whose password would replace our key) at each call, a good part of a
    call's CPU. What the environment says for the API's origin (``HTTPS_PROXY``,
    ``NO_PROXY``) is read here, once. The session is the process's, shared by its
    threads (a task worker's): the calls only read it, and urllib3's connection pool
    is thread-safe. The SDK verifies TLS with its own CA bundle either way."""
    session = requests.Session()
    session.trust_env = False
    with requests.Session() as reading:
        proxies = reading.merge_environment_settings(api_base, {}, None, None, None)["proxies"]
    return stripe.RequestsClient(timeout=timeout, session=session, proxy=proxies or None)


class StripeProvider(CardProvider):
    name = "stripe"

    def __init__(self, *, secret_key: str, publishable_key: str, api_base: str | None = None,
                 js_url: str, webhook_secret: str | None = None, max_network_retries: int = 2,
                 connect_timeout: float = 3, read_timeout: float = 10):
        base_addresses = {"api": api_base} if api_base else None
        self.api_base = api_base or "https://api.stripe.com"
        # Every call gives up after the timeouts, and the SDK retries it (connection
        # errors, 409 and 5xx) with the same idempotency key; the longest call is about
        # (retries + 1) x (connect + read) plus a few seconds of backoff.
        self.client = stripe.StripeClient(
            secret_key, base_addresses=base_addresses, max_network_retries=max_network_retries,
            http_client=_http_client(self.api_base, (connect_timeout, read_timeout)),
        )
        self.publishable_key = publishable_key
        self.js_url = js_url
        self.webhook_secret = webhook_secret

    @classmethod
    def from_config(cls, config: Mapping) -> StripeProvider:
        return cls(
            secret_key=config["STRIPE_SECRET_KEY"],
            publishable_key=config["STRIPE_PUBLISHABLE_KEY"],
            api_base=config.get("STRIPE_API_BASE"),
            js_url=config["STRIPE_JS_URL"],
            webhook_secret=config.get("STRIPE_WEBHOOK_SECRET"),
            max_network_retries=config.get("STRIPE_MAX_NETWORK_RETRIES", 2),
            connect_timeout=config.get("STRIPE_CONNECT_TIMEOUT", 3),
            read_timeout=config.get("STRIPE_READ_TIMEOUT", 10),
        )

    def browser_config(self) -> dict:
        js_origin = _origin(self.js_url)
        return {
            "provider": self.name,
            # What the page tells the buyer processes their card.
            "display_name": "Stripe",
            "publishable_key": self.publishable_key,
            "js_url": self.js_url,
            "script_src": [js_origin],
            "connect_src": [_origin(self.api_base), js_origin],
            "frame_src": [js_origin, "https://hooks.stripe.com"],
        }

    def ensure_customer(self, email: str, customer_ref: str | None,
                        idempotency_key: str | None = None) -> str:
        if customer_ref:
            return customer_ref
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        customer = self._call("post", "/v1/customers", email=email, **options)
        return customer["id"]

    def update_customer_email(self, customer_ref: str, email: str) -> None:
        self._call("post", f"/v1/customers/{customer_ref}", email=email)

    def start_card_setup(self, customer_ref, idempotency_key, metadata) -> CardSetup:
        intent = self._call("post", "/v1/setup_intents", customer=customer_ref,
                            usage="off_session", metadata=dict(metadata),
                            idempotency_key=idempotency_key)
        return CardSetup(reference=intent["id"], client_secret=intent["client_secret"])

    def finish_card_setup(self, setup_ref: str, customer_ref: str) -> SavedCard:
        try:
            intent = self._request("get", f"/v1/setup_intents/{setup_ref}")
        except stripe.InvalidRequestError as exc:  # no such setup
            raise PaymentError("setup_incomplete", str(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentError("provider_unavailable", str(exc)) from exc
        if intent.get("customer") != customer_ref:
            raise PaymentError("setup_incomplete", "setup intent of another customer")
        if intent.get("status") != "succeeded" or not intent.get("payment_method"):
            raise PaymentError("setup_incomplete", f"setup intent is {intent.get('status')}")
        method = self._call("post", f"/v1/payment_methods/{intent['payment_method']}/attach",
                            customer=customer_ref)
        saved = _card_of(method)
        if saved is None:
            raise PaymentError("setup_incomplete", "the payment method kept is not a card")
        return saved

    def detach_card(self, method_ref: str) -> None:
        try:
            self._request("post", f"/v1/payment_methods/{method_ref}/detach")
        except stripe.InvalidRequestError as exc:
            if not _gone(exc) and "not attached" not in str(exc):
                raise PaymentError("provider_unavailable", str(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentError("provider_unavailable", str(exc)) from exc

    def set_default_card(self, customer_ref: str, method_ref: str | None) -> None:
        self._call("post", f"/v1/customers/{customer_ref}",
                   invoice_settings={"default_payment_method": method_ref or ""})

    def delete_customer(self, customer_ref: str) -> None:
        try:
            self._request("delete", f"/v1/customers/{customer_ref}")
        except stripe.InvalidRequestError as exc:
            if not _gone(exc):
                raise PaymentError("provider_unavailable", str(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentError("provider_unavailable", str(exc)) from exc

    def charge(self, request: ChargeRequest) -> ChargeOutcome:
        params = {
            "amount": request.amount.amount,
            "currency": request.amount.currency.lower(),
            "customer": request.customer_ref,
            "payment_method": request.method_ref,
            "confirm": True,
            "metadata": dict(request.metadata),
        }
        try:
            intent = self._request("post", "/v1/payment_intents", **params,
                                   idempotency_key=request.idempotency_key)
        except stripe.CardError as exc:
            error = (exc.json_body or {}).get("error", {})
            intent_ref = (error.get("payment_intent") or {}).get("id")
            return ChargeOutcome(Action.FAIL, intent_ref, failure_code=buyer_code(exc.code))
        except stripe.StripeError as exc:
            raise PaymentError("provider_unavailable", str(exc)) from exc
        return self._outcome(intent)

    def start_browser_charge(self, request: BrowserChargeRequest) -> ChargeOutcome:
        params = {
            "amount": request.amount.amount,
            "currency": request.amount.currency.lower(),
            "customer": request.customer_ref,
            "payment_method_types": ["card"],
            "metadata": dict(request.metadata),
        }
        if request.keep_card:
            params["setup_future_usage"] = "off_session"
        return self._outcome(self._call("post", "/v1/payment_intents", **params,
                                        idempotency_key=request.idempotency_key))

    def charge_status(self, payment_ref: str) -> ChargeOutcome:
        return self._outcome(self._call("get", f"/v1/payment_intents/{payment_ref}",
                                        expand=["payment_method"]))

    def cancel_charge(self, payment_ref: str) -> ChargeOutcome:
        try:
            intent = self._request("post", f"/v1/payment_intents/{payment_ref}/cancel")
        except stripe.InvalidRequestError:  # it left the cancellable states meanwhile
            intent = self._call("get", f"/v1/payment_intents/{payment_ref}")
        except stripe.StripeError as exc:
            raise PaymentError("provider_unavailable", str(exc)) from exc
        return self._outcome(intent)

    def find_charge(self, customer_ref: str | None, payment_public_id: str,
                    created_after: datetime,
                    created_before: datetime | None = None) -> ChargeOutcome | None:
        created = {"gte": _timestamp(created_after)}
        if created_before is not None:
            created["lte"] = _timestamp(created_before) + 1
        params = {"created": created, "limit": 100}
        if customer_ref is not None:
            params["customer"] = customer_ref
        try:
            intents = self._request("get", "/v1/payment_intents", **params)
        except stripe.InvalidRequestError as exc:
            if _gone(exc):  # the customer was deleted (its account with it): nothing left
                return None
            raise PaymentError("provider_unavailable", str(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentError("provider_unavailable", str(exc)) from exc
        for intent in self._paged("/v1/payment_intents", params, first=intents):
            if _metadata(intent).get(PAYMENT_METADATA_KEY) == payment_public_id:
                return self._outcome(intent)
        return None

    def list_charges(self, created_after: datetime) -> Iterator[ChargeRecord]:
        params = {"created": {"gte": _timestamp(created_after)}, "limit": 100}
        for intent in self._paged("/v1/payment_intents", params):
            yield ChargeRecord(
                outcome=self._outcome(intent),
                payment_public_id=_metadata(intent).get(PAYMENT_METADATA_KEY),
                amount=Money(intent["amount"], intent["currency"].upper()),
            )

    def refund(self, payment_ref: str, amount: Money, idempotency_key: str,
               metadata: Mapping[str, str]) -> RefundOutcome:
        try:
            refund = self._request("post", "/v1/refunds", payment_intent=payment_ref,
                                   amount=amount.amount, metadata=dict(metadata),
                                   idempotency_key=idempotency_key)
        except stripe.InvalidRequestError as exc:
            raise PaymentError("refund_failed", str(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentError("provider_unavailable", str(exc)) from exc
        return _refund_outcome(refund)

    def refund_status(self, refund_ref: str) -> RefundOutcome:
        return _refund_outcome(self._call("get", f"/v1/refunds/{refund_ref}"))

    def find_refund(self, payment_ref: str, refund_public_id: str) -> RefundOutcome | None:
        params = {"payment_intent": payment_ref, "limit": 100}
        for refund in self._paged("/v1/refunds", params):
            outcome = _refund_outcome(refund)
            if outcome.refund_public_id == refund_public_id:
                return outcome
        return None

    def list_refunds(self, created_after: datetime) -> Iterator[RefundOutcome]:
        params = {"created": {"gte": _timestamp(created_after)}, "limit": 100}
        for refund in self._paged("/v1/refunds", params):
            yield _refund_outcome(refund)

    def parse_webhook(self, payload: bytes,
                      headers: Mapping[str, str]) -> ProviderEvent | ProviderRefundEvent | None:
        if not self.webhook_secret:
            raise WebhookSignatureError("no webhook secret configured")
        try:
            # What StripeClient.construct_event does (its tolerance of the signature's
            # age included), without making its typed Event.
            stripe.WebhookSignature.verify_header(payload, headers.get("Stripe-Signature"),
                                                  self.webhook_secret,
                                                  stripe.Webhook.DEFAULT_TOLERANCE)
            event = json.loads(payload)
            kind, event_id, obj = event["type"], event["id"], event["data"]["object"]
        except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError) as exc:
            raise WebhookSignatureError(str(exc)) from exc
        if kind in _REFUND_EVENTS:
            return ProviderRefundEvent(event_id, (_refund_outcome(obj),))
        if kind == "charge.refunded":
            refunds = (obj.get("refunds") or {}).get("data") or []
            return ProviderRefundEvent(event_id, tuple(
                _refund_outcome({**r, "payment_intent": r.get("payment_intent")
                                 or obj.get("payment_intent")}) for r in refunds))
        action = _EVENT_ACTIONS.get(kind)
        if action is None:
            return None
        intent = obj
        metadata = intent.get("metadata") or {}
        error = intent.get("last_payment_error") or {}
        return ProviderEvent(
            event_id=event_id,
            action=action,
            payment_ref=intent.get("id"),
            payment_public_id=metadata.get(PAYMENT_METADATA_KEY),
            failure_code=buyer_code(error.get("code")) if action == Action.FAIL else None,
        )

    @staticmethod
    def _outcome(data: dict) -> ChargeOutcome:
        intent_ref = data["id"]
        status = data.get("status")
        known = {"card": _card_of(data.get("payment_method")),
                 "keeps_card": bool(data.get("setup_future_usage"))}
        if status == "succeeded":
            return ChargeOutcome(Action.SUCCEED, intent_ref, **known)
        if status == "requires_action":
            return ChargeOutcome(Action.REQUIRE_ACTION, intent_ref,
                                 client_secret=data.get("client_secret"), **known)
        if status == "canceled":
            return ChargeOutcome(Action.CANCEL, intent_ref, **known)
        if status == "requires_payment_method":
            error = data.get("last_payment_error")
            if not error:  # waiting for the card the buyer's browser will confirm it with
                return ChargeOutcome(None, intent_ref, client_secret=data.get("client_secret"),
                                     awaiting_card=True, **known)
            return ChargeOutcome(Action.FAIL, intent_ref,
                                 failure_code=buyer_code(error.get("code")), **known)
        # processing (and anything newer): not final yet; the provider's webhook ends it.
        return ChargeOutcome(None, intent_ref, **known)

    def _paged(self, path: str, params: Mapping, first: dict | None = None) -> Iterator[dict]:
        """Every object the list ``path`` asked with ``params`` answers (``first``: its
        first page, when the caller asked for it already), page after page, each asked
        for after the last object of the one before."""
        page = first if first is not None else self._call("get", path, **params)
        while True:
            yield from page["data"]
            if not page.get("has_more") or not page["data"]:
                return
            page = self._call("get", path, **params, starting_after=page["data"][-1]["id"])

    def _request(self, method: str, path: str, **params) -> dict:
        """Stripe's answer to ``method path`` with ``params`` (and, among them, the
        request's ``idempotency_key``, when given), as the JSON object it sent; errors
        are the SDK's (``stripe.StripeError``), after its retries."""
        return self.client.raw_request(method, path, **params).data

    def _call(self, method: str, path: str, **params) -> dict:
        """``_request``, its errors as PaymentError: a card's, or the provider's being
        unavailable."""
        try:
            return self._request(method, path, **params)
        except stripe.CardError as exc:
            raise PaymentError(buyer_code(exc.code), exc.user_message or "") from exc
        except stripe.StripeError as exc:
            raise PaymentError("provider_unavailable", str(exc)) from exc
