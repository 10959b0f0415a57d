"""The Stripe provider against localstripe, as the buy flow uses it."""

import hashlib
import hmac
import json
import time
import uuid

import pytest
import stripe

from buyflow.money import Money
from buyflow.payments import get_provider
from buyflow.payments.base import ChargeRequest, PaymentError, WebhookSignatureError
from buyflow.payments.states import Action
from tests.conftest import STRIPE_WEBHOOK_SECRET


@pytest.fixture
def provider(app_context):
    return get_provider()


@pytest.fixture
def customer(provider):
    return provider.ensure_customer("ann@example.com", None)


@pytest.fixture
def saved_card(provider, customer, confirm_card_setup):
    def save(number):
        setup = provider.start_card_setup(customer, new_key(), {"buyflow_order": "ord_1"})
        assert confirm_card_setup(setup.client_secret, number) == "succeeded"
        return provider.finish_card_setup(setup.reference, customer)
    return save


def new_key() -> str:
    """An idempotency key of its own (the provider keeps keys across tests, as Stripe)."""
    return f"test-{uuid.uuid4().hex}"


def charge(provider, customer, card, key=None):
    return provider.charge(ChargeRequest(amount=Money(1450, "EUR"), customer_ref=customer,
                                         method_ref=card.method_ref,
                                         idempotency_key=key or new_key(),
                                         metadata={"buyflow_payment": "pay_1"}))


def test_existing_customer_is_reused(provider, customer):
    assert provider.ensure_customer("ann@example.com", customer) == customer


def test_card_setup_keeps_only_brand_last4_and_expiry(saved_card):
    card = saved_card("4242424242424242")
    assert card.method_ref.startswith("pm_")
    assert (card.card.brand, card.card.last4, card.card.exp_month, card.card.exp_year) == (
        "visa", "4242", 12, 2034)


def test_unconfirmed_setup_is_refused(provider, customer):
    setup = provider.start_card_setup(customer, new_key(), {})
    with pytest.raises(PaymentError) as caught:
        provider.finish_card_setup(setup.reference, customer)
    assert caught.value.code == "setup_incomplete"


def test_setup_of_another_customer_is_refused(provider, customer, confirm_card_setup):
    other = provider.ensure_customer("bob@example.com", None)
    setup = provider.start_card_setup(other, new_key(), {})
    confirm_card_setup(setup.client_secret)
    with pytest.raises(PaymentError) as caught:
        provider.finish_card_setup(setup.reference, customer)
    assert caught.value.code == "setup_incomplete"


def test_successful_charge(provider, customer, saved_card):
    outcome = charge(provider, customer, saved_card("4242424242424242"))
    assert outcome.action == Action.SUCCEED and outcome.payment_ref.startswith("pi_")
    assert provider.charge_status(outcome.payment_ref).action == Action.SUCCEED


def test_declined_charge_is_an_outcome_not_an_exception(provider, customer, saved_card):
    outcome = charge(provider, customer, saved_card("4000000000000341"))
    assert outcome.action == Action.FAIL and outcome.failure_code == "card_declined"


def test_3ds_card_asks_for_authentication_then_can_be_cancelled(provider, customer, saved_card):
    outcome = charge(provider, customer, saved_card("4000002500003155"))
    assert outcome.action == Action.REQUIRE_ACTION and outcome.client_secret
    assert provider.cancel_charge(outcome.payment_ref).action == Action.CANCEL


def test_unreachable_provider_is_a_payment_error(app):
    from buyflow.payments.stripe import StripeProvider

    provider = StripeProvider(secret_key="sk_test_x", publishable_key="pk_test_x",
                              api_base="http://127.0.0.1:9", js_url="http://x/v3/",
                              max_network_retries=0)
    with pytest.raises(PaymentError) as caught:
        provider.ensure_customer("ann@example.com", None)
    assert caught.value.code == "provider_unavailable"


def without_proxy_settings(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_the_environments_proxy_is_read_when_the_provider_is_made(app, localstripe_url,
                                                                  monkeypatch):
    """Not at every call, as requests would (a good part of a call's CPU): a proxy set
    afterwards changes nothing; one set before is used."""
    from buyflow.payments.stripe import StripeProvider

    def made() -> StripeProvider:
        return StripeProvider(secret_key="sk_test_suite", publishable_key="pk_test_suite",
                              api_base=localstripe_url, js_url="http://x/v3/",
                              max_network_retries=0)

    without_proxy_settings(monkeypatch)
    direct = made()
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    assert direct.ensure_customer("direct@example.com", None).startswith("cus_")
    with pytest.raises(PaymentError) as caught:
        made().ensure_customer("proxied@example.com", None)
    assert caught.value.code == "provider_unavailable"


def test_a_payment_opened_for_no_customer_is_found_by_our_id_in_its_time(provider):
    from datetime import UTC, datetime, timedelta

    from buyflow.payments.base import BrowserChargeRequest

    before = datetime.now(UTC) - timedelta(seconds=2)
    opened = provider.start_browser_charge(BrowserChargeRequest(
        amount=Money(1450, "EUR"), customer_ref=None, idempotency_key=new_key(),
        keep_card=False, metadata={"buyflow_payment": "pay_guest"}))
    after = datetime.now(UTC) + timedelta(seconds=2)

    found = provider.find_charge(None, "pay_guest", before, after)
    assert found is not None and found.payment_ref == opened.payment_ref
    assert provider.find_charge(None, "pay_guest", after, after + timedelta(minutes=1)) is None


def test_a_search_reads_every_page_of_a_list_each_after_the_last_object(provider,
                                                                          monkeypatch):
    """Lists come 100 objects a page: a refund searched for on the third page is found,
    each page asked for after the last object of the one before."""
    pages = {None: ([{"id": f"re_{n}", "status": "succeeded"} for n in range(100)], True),
             "re_99": ([{"id": f"re_{n}", "status": "succeeded"} for n in range(100, 200)],
                       True),
             "re_199": ([{"id": "re_200", "status": "succeeded",
                          "metadata": {"buyflow_refund": "rf_wanted"}}], False)}
    asked = []

    def answer(method, path, **params):
        asked.append((method, path, params.get("starting_after")))
        data, more = pages[params.get("starting_after")]
        return {"object": "list", "data": data, "has_more": more}

    monkeypatch.setattr(provider, "_request", answer)
    found = provider.find_refund("pi_1", "rf_wanted")
    assert found is not None and found.reference == "re_200"
    assert asked == [("get", "/v1/refunds", None), ("get", "/v1/refunds", "re_99"),
                     ("get", "/v1/refunds", "re_199")]
    assert provider.find_refund("pi_1", "rf_other") is None


def signed(payload: bytes, secret=STRIPE_WEBHOOK_SECRET, timestamp=None):
    timestamp = timestamp or int(time.time())
    signature = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={signature.hexdigest()}"}


def event_payload(event_type="payment_intent.succeeded", event_id="evt_1"):
    return json.dumps({
        "id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
        "data": {"object": {"id": "pi_1", "object": "payment_intent", "status": "succeeded",
                            "metadata": {"buyflow_payment": "pay_1"},
                            "last_payment_error": None}},
    }).encode()


def test_webhook_with_valid_signature_maps_to_an_action(provider):
    payload = event_payload()
    event = provider.parse_webhook(payload, signed(payload))
    assert (event.event_id, event.action, event.payment_ref, event.payment_public_id) == (
        "evt_1", Action.SUCCEED, "pi_1", "pay_1")


@pytest.mark.parametrize("headers", [
    {},
    {"Stripe-Signature": "t=1,v1=00"},
    signed(b"other payload"),
    signed(event_payload(), secret="whsec_wrong"),
    signed(event_payload(), timestamp=int(time.time()) - 3600),
])
def test_webhook_with_bad_signature_is_refused(provider, headers):
    with pytest.raises(WebhookSignatureError):
        provider.parse_webhook(event_payload(), headers)


def test_events_we_do_not_act_on_are_none(provider):
    payload = event_payload("customer.created")
    assert provider.parse_webhook(payload, signed(payload)) is None


def test_detached_card_leaves_the_customer(provider, customer, saved_card):
    card = saved_card("4242424242424242")
    provider.detach_card(card.method_ref)
    provider.detach_card(card.method_ref)  # already detached: nothing to do, no error
    assert provider.client.v1.payment_methods.retrieve(card.method_ref).customer is None


def test_default_card_is_set_on_the_customer(provider, customer, saved_card):
    card = saved_card("4242424242424242")
    provider.set_default_card(customer, card.method_ref)
    stored = provider.client.v1.customers.retrieve(customer)
    assert stored.invoice_settings.default_payment_method == card.method_ref
    provider.set_default_card(customer, None)
    stored = provider.client.v1.customers.retrieve(customer)
    assert stored.invoice_settings.default_payment_method is None


def test_deleted_customer_is_gone(provider, customer):
    provider.delete_customer(customer)
    provider.delete_customer(customer)  # already gone: no error
    with pytest.raises(stripe.InvalidRequestError):
        provider.client.v1.customers.retrieve(customer)
