"""The fault-injecting proxy in front of localstripe: each fault does what it says, holds
hold, random plans fault what they select, the log tells what happened."""

import threading
import time
import uuid

import pytest
import requests
import stripe

from buyflow.dev.fault_proxy import (
    ERROR_500, PASS, RESET_AFTER, RESET_BEFORE, FaultKind, FaultProxy, drop_after_stall,
    moves_money, random_plan, stall_after, stall_before,
)

AUTH = {"Authorization": "Bearer sk_test_suite"}


@pytest.fixture
def proxy(localstripe_url):
    with FaultProxy(localstripe_url) as proxy:
        yield proxy


def new_email() -> str:
    return f"proxy-{uuid.uuid4().hex}@example.com"


def create_customer(base: str, email: str, timeout: float = 1.0, **headers):
    return requests.post(f"{base}/v1/customers", data={"email": email}, timeout=timeout,
                         headers={**AUTH, **headers})


def customers_with(localstripe_url, email) -> list:
    answer = requests.get(f"{localstripe_url}/v1/customers", params={"email": email},
                          headers=AUTH, timeout=10)
    return answer.json()["data"]


def always(fault):
    return lambda method, path, body: fault


def test_pass_forwards_and_answers_as_upstream(proxy, localstripe_url):
    email = new_email()
    answer = create_customer(proxy.url, email)
    assert answer.status_code == 200 and answer.json()["email"] == email
    assert answer.headers["Connection"] == "close"
    missing = requests.get(f"{proxy.url}/v1/customers/cus_missing", headers=AUTH, timeout=5)
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"
    listed = requests.get(f"{proxy.url}/v1/customers", params={"email": email}, headers=AUTH,
                          timeout=5)
    assert [c["id"] for c in listed.json()["data"]] == [answer.json()["id"]]  # query kept
    assert [(r.method, r.path, r.fault, r.upstream_status, r.reached_upstream)
            for r in proxy.log] == [("POST", "/v1/customers", PASS, 200, True),
                                    ("GET", "/v1/customers/cus_missing", PASS, 404, True),
                                    ("GET", "/v1/customers", PASS, 200, True)]


def test_headers_reach_upstream(proxy):
    key = uuid.uuid4().hex
    email = new_email()
    first = create_customer(proxy.url, email, **{"Idempotency-Key": key})
    again = create_customer(proxy.url, email, **{"Idempotency-Key": key})
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    unauthorized = requests.post(f"{proxy.url}/v1/customers", data={"email": email},
                                 timeout=5)
    assert unauthorized.status_code == 401


def test_error_500_answers_without_forwarding(proxy, localstripe_url):
    proxy.set_rule(always(ERROR_500))
    email = new_email()
    answer = create_customer(proxy.url, email)
    assert answer.status_code == 500
    assert answer.json() == {"error": {"type": "api_error", "message": "injected"}}
    assert customers_with(localstripe_url, email) == []
    assert [(r.fault, r.upstream_status, r.reached_upstream) for r in proxy.log] == [
        (ERROR_500, None, False)]


def test_reset_before_resets_without_forwarding(proxy, localstripe_url):
    proxy.set_rule(always(RESET_BEFORE))
    email = new_email()
    with pytest.raises(requests.ConnectionError):
        create_customer(proxy.url, email)
    assert customers_with(localstripe_url, email) == []
    assert [(r.fault, r.reached_upstream) for r in proxy.log] == [(RESET_BEFORE, False)]


def test_reset_after_loses_the_answer_of_what_upstream_did(proxy, localstripe_url):
    proxy.set_rule(always(RESET_AFTER))
    email = new_email()
    with pytest.raises(requests.ConnectionError) as caught:
        create_customer(proxy.url, email)
    assert "reset" in str(caught.value).lower()  # a reset, not an orderly close
    assert len(customers_with(localstripe_url, email)) == 1
    assert [(r.fault, r.upstream_status, r.reached_upstream) for r in proxy.log] == [
        (RESET_AFTER, 200, True)]


def test_stall_before_lands_upstream_after_the_client_gave_up(proxy, localstripe_url):
    proxy.set_rule(always(stall_before(1.5)))
    email = new_email()
    with pytest.raises(requests.Timeout):
        create_customer(proxy.url, email, timeout=1)
    assert customers_with(localstripe_url, email) == []  # not yet
    assert proxy.wait_idle(5)
    assert len(customers_with(localstripe_url, email)) == 1
    assert [(r.fault.kind, r.reached_upstream) for r in proxy.log] == [
        (FaultKind.STALL_BEFORE, True)]


def test_stall_after_acts_then_answers_too_late(proxy, localstripe_url):
    proxy.set_rule(always(stall_after(1.5)))
    email = new_email()
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        create_customer(proxy.url, email, timeout=1)
    assert time.monotonic() - started < 1.4
    assert len(customers_with(localstripe_url, email)) == 1  # it acted before the stall
    assert proxy.wait_idle(5)
    assert [(r.fault.kind, r.upstream_status) for r in proxy.log] == [
        (FaultKind.STALL_AFTER, 200)]


def test_a_patient_client_gets_the_stalled_answer(proxy):
    proxy.set_rule(always(stall_after(0.5)))
    answer = create_customer(proxy.url, new_email(), timeout=5)
    assert answer.status_code == 200


def test_drop_after_stall_resets_without_forwarding(proxy, localstripe_url):
    proxy.set_rule(always(drop_after_stall(0.5)))
    email = new_email()
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        create_customer(proxy.url, email, timeout=5)
    assert time.monotonic() - started >= 0.5
    assert customers_with(localstripe_url, email) == []
    assert [(r.fault.kind, r.reached_upstream) for r in proxy.log] == [
        (FaultKind.DROP_AFTER_STALL, False)]


def test_drop_after_stall_times_a_short_client_out(proxy):
    proxy.set_rule(always(drop_after_stall(1.5)))
    with pytest.raises(requests.Timeout):
        create_customer(proxy.url, new_email(), timeout=1)


def test_the_rule_sees_method_path_and_body(proxy):
    seen = []

    def rule(method, path, body):
        seen.append((method, path, body))
        return PASS

    proxy.set_rule(rule)
    requests.get(f"{proxy.url}/v1/customers?limit=1", headers=AUTH, timeout=5)
    create_customer(proxy.url, "seen@example.com")
    assert seen == [("GET", "/v1/customers", b""),
                    ("POST", "/v1/customers", b"email=seen%40example.com")]
    proxy.clear()
    assert create_customer(proxy.url, new_email()).status_code == 200
    assert len(seen) == 2


def hold_in_thread(call):
    outcome = {}

    def run():
        try:
            outcome["answer"] = call()
        except requests.RequestException as error:
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def is_customer_creation(method, path, body):
    return method == "POST" and path == "/v1/customers"


def test_a_hold_before_blocks_until_released(proxy, localstripe_url):
    email = new_email()
    hold = proxy.hold(when="before", match=is_customer_creation)
    thread, outcome = hold_in_thread(lambda: create_customer(proxy.url, email, timeout=10))
    assert hold.reached.wait(5)
    time.sleep(0.3)
    assert thread.is_alive() and customers_with(localstripe_url, email) == []
    hold.release()
    thread.join(5)
    assert outcome["answer"].status_code == 200
    assert len(customers_with(localstripe_url, email)) == 1
    assert [(r.fault, r.held, r.reached_upstream) for r in proxy.log
            if r.path == "/v1/customers" and r.method == "POST"] == [(PASS, True, True)]


def test_a_hold_catches_only_the_next_matching_request(proxy):
    hold = proxy.hold(when="before", match=is_customer_creation)
    listed = requests.get(f"{proxy.url}/v1/customers", headers=AUTH, timeout=5)
    assert listed.status_code == 200 and not hold.reached.is_set()
    hold.release()  # released before it is reached: it does not stop the request
    assert create_customer(proxy.url, new_email()).status_code == 200
    assert hold.reached.is_set()
    assert create_customer(proxy.url, new_email()).status_code == 200  # not held


def test_a_hold_before_released_with_a_reset_never_forwards(proxy, localstripe_url):
    email = new_email()
    hold = proxy.hold(when="before", match=is_customer_creation)
    thread, outcome = hold_in_thread(lambda: create_customer(proxy.url, email, timeout=10))
    assert hold.reached.wait(5)
    hold.release(RESET_BEFORE)
    thread.join(5)
    assert isinstance(outcome["error"], requests.ConnectionError)
    assert customers_with(localstripe_url, email) == []


def test_a_hold_after_has_upstream_act_then_waits(proxy, localstripe_url):
    email = new_email()
    hold = proxy.hold(when="after", match=is_customer_creation)
    thread, outcome = hold_in_thread(lambda: create_customer(proxy.url, email, timeout=10))
    assert hold.reached.wait(5)
    assert len(customers_with(localstripe_url, email)) == 1  # acted, not answered
    assert thread.is_alive()
    hold.release(RESET_AFTER)
    thread.join(5)
    assert isinstance(outcome["error"], requests.ConnectionError)
    assert [(r.fault, r.upstream_status, r.held) for r in proxy.log
            if r.method == "POST"] == [(RESET_AFTER, 200, True)]


def test_a_hold_after_cannot_be_released_unforwarded(proxy):
    hold = proxy.hold(when="after")
    with pytest.raises(ValueError):
        hold.release(RESET_BEFORE)
    hold.release()


def test_stopping_resets_held_requests(localstripe_url):
    email = new_email()
    proxy = FaultProxy(localstripe_url).start()
    hold = proxy.hold(when="before", match=is_customer_creation)
    thread, outcome = hold_in_thread(lambda: create_customer(proxy.url, email, timeout=10))
    assert hold.reached.wait(5)
    proxy.stop()
    thread.join(5)
    assert isinstance(outcome["error"], requests.ConnectionError)
    assert customers_with(localstripe_url, email) == []


@pytest.mark.parametrize("method, path, money", [
    ("POST", "/v1/payment_intents", True),
    ("POST", "/v1/payment_intents/pi_1/confirm", True),
    ("POST", "/v1/payment_intents/pi_1/cancel", True),
    ("POST", "/v1/payment_intents/pi_1/capture", True),
    ("POST", "/v1/refunds", True),
    ("GET", "/v1/payment_intents", False),
    ("GET", "/v1/payment_intents/pi_1", False),
    ("POST", "/v1/payment_intents/pi_1", False),
    ("POST", "/v1/customers", False),
    ("POST", "/v1/setup_intents", False),
    ("GET", "/v1/refunds", False),
])
def test_which_calls_move_money(method, path, money):
    assert moves_money(method, path, b"") is money


@pytest.fixture
def client(proxy):
    return stripe.StripeClient(api_key="sk_test_suite", base_addresses={"api": proxy.url},
                               max_network_retries=0)


def money_calls(client):
    """One of each call the default plan selects, and one it leaves alone; returns the
    exceptions (or None) in order."""
    customer = client.v1.customers.create(params={"email": new_email()})
    outcomes = []
    for call in (
        lambda: client.v1.payment_intents.create(params={
            "amount": 500, "currency": "eur", "customer": customer.id,
            "payment_method": "pm_card_visa", "confirm": True}),
        lambda: client.v1.refunds.create(params={"payment_intent": "pi_none"}),
        lambda: client.v1.customers.retrieve(customer.id),
    ):
        try:
            call()
            outcomes.append(None)
        except stripe.StripeError as error:
            outcomes.append(error)
    return outcomes


def test_a_random_plan_at_rate_0_passes_everything(proxy, client):
    proxy.set_rule(random_plan([ERROR_500, RESET_BEFORE], rate=0, seed=1))
    created, refund, retrieved = money_calls(client)
    assert created is None and retrieved is None
    assert isinstance(refund, stripe.InvalidRequestError)  # localstripe's own 404
    assert {r.fault for r in proxy.log} == {PASS}


def test_a_random_plan_at_rate_1_faults_every_money_call_only(proxy, client):
    proxy.set_rule(random_plan([ERROR_500, RESET_BEFORE], rate=1, seed=1))
    created, refund, retrieved = money_calls(client)
    assert isinstance(created, stripe.StripeError) and isinstance(refund, stripe.StripeError)
    assert retrieved is None
    faults = {(r.method, r.path): r.fault for r in proxy.log}
    assert faults[("POST", "/v1/payment_intents")] in (ERROR_500, RESET_BEFORE)
    assert faults[("POST", "/v1/refunds")] in (ERROR_500, RESET_BEFORE)
    assert faults[("POST", "/v1/customers")] == PASS
    assert all(not r.reached_upstream for r in proxy.log if r.fault != PASS)


def test_a_random_plan_is_the_same_for_the_same_seed():
    def choices(seed):
        rule = random_plan([ERROR_500, RESET_AFTER, stall_before(1)], rate=0.5, seed=seed)
        return [rule("POST", "/v1/refunds", b"") for _ in range(50)]

    assert choices(3) == choices(3)
    assert choices(3) != choices(4)
    assert {fault for fault in choices(3)} == {PASS, ERROR_500, RESET_AFTER, stall_before(1)}


def test_a_random_plan_can_select_other_calls():
    rule = random_plan([ERROR_500], rate=1, selects=lambda method, path, body: method == "GET")
    assert rule("GET", "/v1/customers", b"") == ERROR_500
    assert rule("POST", "/v1/refunds", b"") == PASS


def test_reset_log_forgets(proxy):
    create_customer(proxy.url, new_email())
    assert len(proxy.log) == 1
    proxy.reset_log()
    assert proxy.log == []


def test_an_sdk_retry_after_a_lost_answer_gets_the_first_answer(proxy, localstripe_url):
    """The point of the two together: the answer is lost after Stripe acted, the SDK
    retries with its own Idempotency-Key, and the retry answers the same customer."""
    email, lost = new_email(), []

    def lose_the_first_answer(method, path, body):
        if method == "POST" and not lost:
            lost.append(path)
            return RESET_AFTER
        return PASS

    proxy.set_rule(lose_the_first_answer)
    client = stripe.StripeClient(api_key="sk_test_suite", base_addresses={"api": proxy.url},
                                 max_network_retries=1)
    customer = client.v1.customers.create(params={"email": email})
    assert customer.last_response.headers.get("Idempotent-Replayed") == "true"
    assert [c["id"] for c in customers_with(localstripe_url, email)] == [customer.id]
    assert [(r.fault, r.upstream_status) for r in proxy.log] == [(RESET_AFTER, 200),
                                                                 (PASS, 200)]
