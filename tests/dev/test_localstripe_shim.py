"""localstripe as our development shim makes it behave: idempotency keys, list filters and
refund events as Stripe documents them."""

import json
import socket
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests
import stripe

from buyflow.dev.localstripe_shim import IdempotencyKeys
from tests.conftest import Receiver

SECRET_KEY = "sk_test_suite"


@pytest.fixture
def client(localstripe_url):
    return stripe.StripeClient(api_key=SECRET_KEY, base_addresses={"api": localstripe_url},
                               max_network_retries=0)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def post(localstripe_url, path, data, key, api_key=SECRET_KEY):
    return requests.post(f"{localstripe_url}{path}", data=data, timeout=10, headers={
        "Authorization": f"Bearer {api_key}", "Idempotency-Key": key})


@pytest.fixture
def customer(client):
    return client.v1.customers.create(params={"email": f"{unique('ann')}@example.com"})


@pytest.fixture
def card(client, customer):
    return client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})


def charge_of(intent) -> str:
    # localstripe answers latest_charge expanded, Stripe as an id
    return getattr(intent.latest_charge, "id", intent.latest_charge)


def paid_intent(client, customer, card, amount=1450, **options):
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": "eur", "customer": customer.id,
        "payment_method": card.id, "confirm": True}, options=options)


def customers_with_email(client, email):
    return client.v1.customers.list(params={"email": email, "limit": 100}).data


# -- Idempotency-Key ------------------------------------------------------------------

def test_a_payment_intent_created_twice_with_one_key_is_one_intent(client, customer, card):
    key = unique("pay")
    first = paid_intent(client, customer, card, idempotency_key=key)
    again = paid_intent(client, customer, card, idempotency_key=key)
    assert again.id == first.id and again.status == "succeeded"
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert first.last_response.headers.get("Idempotent-Replayed") is None
    listed = client.v1.payment_intents.list(params={"customer": customer.id}).data
    assert [intent.id for intent in listed] == [first.id]


def test_the_replay_is_the_first_answer_byte_for_byte(localstripe_url):
    key, email = unique("cus"), f"{unique('bo')}@example.com"
    first = post(localstripe_url, "/v1/customers", [("email", email), ("description", "b")], key)
    # the same parameters in another order are the same request
    again = post(localstripe_url, "/v1/customers", [("description", "b"), ("email", email)], key)
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Idempotency-Key"] == key


def test_a_customer_created_twice_with_one_key_is_one_customer(client):
    key, email = unique("cus"), f"{unique('cy')}@example.com"
    first = client.v1.customers.create(params={"email": email}, options={"idempotency_key": key})
    again = client.v1.customers.create(params={"email": email}, options={"idempotency_key": key})
    assert again.id == first.id
    assert [found.id for found in customers_with_email(client, email)] == [first.id]


def test_one_key_with_other_parameters_is_an_idempotency_error(client, customer, card):
    key = unique("pay")
    paid_intent(client, customer, card, amount=1450, idempotency_key=key)
    with pytest.raises(stripe.IdempotencyError) as caught:
        paid_intent(client, customer, card, amount=2900, idempotency_key=key)
    assert caught.value.http_status == 400
    error = caught.value.json_body["error"]
    assert error["type"] == "idempotency_error"
    assert error["message"].startswith("Keys for idempotent requests can only be used with "
                                       "the same parameters they were first used with.")
    assert len(client.v1.payment_intents.list(params={"customer": customer.id}).data) == 1


def test_one_key_on_another_path_is_an_idempotency_error(localstripe_url):
    key = unique("path")
    post(localstripe_url, "/v1/customers", {"email": "a@example.com"}, key)
    other = post(localstripe_url, "/v1/products", {"name": "Beans"}, key)
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"


def test_a_refund_created_twice_with_one_key_refunds_once(client, customer, card):
    intent = paid_intent(client, customer, card)
    key = unique("refund")
    params = {"payment_intent": intent.id, "amount": 500}
    first = client.v1.refunds.create(params=params, options={"idempotency_key": key})
    again = client.v1.refunds.create(params=params, options={"idempotency_key": key})
    assert again.id == first.id
    refunds = client.v1.refunds.list(params={"payment_intent": intent.id}).data
    assert [refund.id for refund in refunds] == [first.id]
    assert client.v1.charges.retrieve(charge_of(intent)).amount_refunded == 500


def test_a_card_error_is_kept_and_replayed(client, customer):
    declined = client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                                params={"customer": customer.id})
    key = unique("declined")
    answers = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as caught:
            paid_intent(client, customer, declined, idempotency_key=key)
        answers.append(caught.value)
    assert answers[0].http_status == answers[1].http_status == 402
    assert answers[0].http_body == answers[1].http_body
    assert answers[1].headers.get("Idempotent-Replayed") == "true"
    assert len(client.v1.payment_intents.list(params={"customer": customer.id}).data) == 1


def test_a_server_error_is_not_kept_so_a_retry_runs_again(localstripe_url, customer):
    key = unique("subscription")
    # localstripe answers 500 "Not implemented" to a subscription of two items
    body = {"customer": customer.id, "items[0][plan]": "a", "items[1][plan]": "b"}
    failed = post(localstripe_url, "/v1/subscriptions", body, key)
    assert failed.status_code == 500
    again = post(localstripe_url, "/v1/subscriptions", body, key)
    assert again.status_code == 500 and "Idempotent-Replayed" not in again.headers


def test_keys_of_two_api_keys_do_not_collide(localstripe_url):
    key = unique("shared")
    mine = post(localstripe_url, "/v1/customers", {"email": "mine@example.com"}, key)
    theirs = post(localstripe_url, "/v1/customers", {"email": "theirs@example.com"}, key,
                  api_key="sk_test_someone_else")
    assert mine.status_code == theirs.status_code == 200
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs.headers


def test_publishable_key_calls_are_scoped_by_the_key_they_send(localstripe_url, client,
                                                               customer):
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    url = f"{localstripe_url}/v1/setup_intents/{setup.id}/confirm"
    body = {"key": "pk_test_suite", "client_secret": setup.client_secret,
            "payment_method_data": {"type": "card", "card": {
                "number": "4242424242424242", "exp_month": "12", "exp_year": "2034",
                "cvc": "123"}}}
    key = unique("browser")
    first = requests.post(url, json=body, headers={"Idempotency-Key": key}, timeout=10)
    again = requests.post(url, json=body, headers={"Idempotency-Key": key}, timeout=10)
    assert first.status_code == 200 and first.json()["status"] == "succeeded"
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    # the same key under the secret key is another key
    other = post(localstripe_url, "/v1/customers", {"email": "c@example.com"}, key)
    assert other.status_code == 200 and "Idempotent-Replayed" not in other.headers


def test_a_key_whose_first_request_is_running_is_in_use(localstripe_url):
    """The first request is still being handled (its body has not all arrived) when a
    second one with its key comes: 409, and the first then completes."""
    key, email = unique("slow"), f"{unique('slow')}@example.com"
    body = f"email={email.replace('@', '%40')}".encode()
    address = urlsplit(localstripe_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as slow:
        slow.sendall(b"POST /v1/customers HTTP/1.1\r\nHost: localstripe\r\n"
                     b"Authorization: Bearer " + SECRET_KEY.encode() + b"\r\n"
                     b"Idempotency-Key: " + key.encode() + b"\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Connection: close\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:5])
        time.sleep(0.3)  # localstripe has the headers and waits for the rest
        concurrent = post(localstripe_url, "/v1/customers", {"email": email}, key)
        assert concurrent.status_code == 409
        assert concurrent.json()["error"]["type"] == "idempotency_error"
        assert concurrent.json()["error"]["code"] == "idempotency_key_in_use"
        slow.sendall(body[5:])
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    first_id = json.loads(answer.split(b"\r\n\r\n", 1)[1])["id"]
    replay = post(localstripe_url, "/v1/customers", {"email": email}, key)
    assert replay.json()["id"] == first_id and replay.headers["Idempotent-Replayed"] == "true"


def test_requests_without_a_key_are_not_deduplicated(localstripe_url, client):
    email = f"{unique('nokey')}@example.com"
    for _ in range(2):  # not through the SDK, which adds a key of its own to every POST
        requests.post(f"{localstripe_url}/v1/customers", data={"email": email}, timeout=10,
                      headers={"Authorization": f"Bearer {SECRET_KEY}"}).raise_for_status()
    assert len(customers_with_email(client, email)) == 2


def test_keys_expire_after_their_time():
    now = [1000.0]
    keys = IdempotencyKeys(ttl=60, clock=lambda: now[0])
    assert keys.claim("sk_a", "k") is None
    assert keys.claim("sk_a", "k") is IdempotencyKeys.IN_FLIGHT
    keys.save("sk_a", "k", ("POST", "/v1/customers", {}, {}), 200, b"{}", None)
    now[0] += 59
    assert keys.claim("sk_a", "k").status == 200
    now[0] += 1
    assert keys.claim("sk_a", "k") is None  # expired: the key is free, and now in flight
    assert keys.claim("sk_b", "k") is None


def test_the_key_lifetime_is_a_day():
    assert IdempotencyKeys().ttl == 24 * 60 * 60


# -- list filters ---------------------------------------------------------------------

def ids(listed):
    return [item.id for item in listed.data]


def test_payment_intents_by_customer_newest_first_with_a_cursor(client, customer, card):
    other = client.v1.customers.create(params={"email": f"{unique('other')}@example.com"})
    made = [paid_intent(client, customer, card, amount=100 + n) for n in range(3)]
    client.v1.payment_intents.create(params={"amount": 700, "currency": "eur",
                                             "customer": other.id})
    newest_first = [intent.id for intent in reversed(made)]

    page = client.v1.payment_intents.list(params={"customer": customer.id, "limit": 2})
    assert ids(page) == newest_first[:2] and page.has_more
    rest = client.v1.payment_intents.list(params={
        "customer": customer.id, "limit": 2, "starting_after": page.data[-1].id})
    assert ids(rest) == newest_first[2:] and not rest.has_more
    everyone = client.v1.payment_intents.list(params={"limit": 100})
    assert ids(everyone).index(newest_first[0]) < ids(everyone).index(newest_first[2])


def test_a_cursor_naming_nothing_is_refused(client, customer):
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.list(params={"customer": customer.id,
                                               "starting_after": "pi_doesnotexist"})


def test_payment_intents_by_created(client, customer, card):
    early = paid_intent(client, customer, card)
    time.sleep(1.05)  # created is in whole seconds
    late = paid_intent(client, customer, card)
    assert late.created > early.created

    def listed(created):
        return ids(client.v1.payment_intents.list(params={"customer": customer.id,
                                                          "created": created}))

    assert listed(early.created) == [early.id]
    assert listed({"gt": early.created}) == [late.id]
    assert listed({"gte": early.created}) == [late.id, early.id]
    assert listed({"lt": late.created}) == [early.id]
    assert listed({"lte": late.created}) == [late.id, early.id]
    assert listed({"gte": early.created, "lt": late.created}) == [early.id]
    assert listed({"gt": late.created}) == []


def test_a_bad_created_filter_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.list(params={"created": {"since": 1}})


def test_refunds_by_payment_intent_and_created(client, customer, card):
    intent = paid_intent(client, customer, card, amount=3000)
    other = paid_intent(client, customer, card, amount=3000)
    first = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})
    client.v1.refunds.create(params={"payment_intent": other.id, "amount": 100})
    time.sleep(1.05)
    second = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 200})

    def listed(**params):
        return ids(client.v1.refunds.list(params={"payment_intent": intent.id, **params}))

    assert listed() == [second.id, first.id]
    assert listed(created={"gt": first.created}) == [second.id]
    assert listed(created={"lte": first.created}) == [first.id]
    assert listed(limit=1) == [second.id]
    assert listed(starting_after=second.id) == [first.id]
    by_charge = client.v1.refunds.list(params={"charge": charge_of(intent)})
    assert ids(by_charge) == [second.id, first.id]


def test_refund_metadata_comes_back_on_retrieve_and_list(client, customer, card):
    intent = paid_intent(client, customer, card)
    refund = client.v1.refunds.create(params={
        "payment_intent": intent.id, "amount": 300,
        "metadata": {"buyflow_refund": "ref_1", "reason": "damaged"}})
    assert refund.metadata.to_dict() == {"buyflow_refund": "ref_1", "reason": "damaged"}
    assert client.v1.refunds.retrieve(refund.id).metadata.to_dict() == refund.metadata.to_dict()
    listed = client.v1.refunds.list(params={"payment_intent": intent.id}).data
    assert listed[0].metadata.to_dict() == {"buyflow_refund": "ref_1", "reason": "damaged"}


# -- refund events --------------------------------------------------------------------

@pytest.fixture
def refund_events(localstripe_url):
    """A webhook endpoint registered for the refund events only; yields a callable giving
    what it received so far: (headers, raw body, event) each."""
    receiver, hook = Receiver(), unique("shim-refunds")
    register = f"{localstripe_url}/_config/webhooks/{hook}"
    requests.post(register, timeout=10, json={
        "url": receiver.url, "secret": "whsec_shim",
        "events": ["refund.created", "charge.refunded"]}).raise_for_status()
    yield lambda: [(headers, body, json.loads(body)) for headers, body in receiver.requests]
    # registrations cannot be deleted: leave this one listening to nothing
    requests.post(register, timeout=10, json={"url": receiver.url, "secret": "whsec_shim",
                                              "events": ["buyflow.none"]})
    receiver.server.shutdown()


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_refund_sends_refund_created_and_charge_refunded(client, customer, card,
                                                           refund_events):
    intent = paid_intent(client, customer, card)
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 450},
                                      options={"idempotency_key": unique("refund")})

    def mine():
        return [received for received in refund_events()
                if received[2]["data"]["object"]["id"] in (refund.id, charge_of(intent))]

    assert wait_for(lambda: len(mine()) >= 2)  # localstripe sends after about a second
    events = {event["type"]: (headers, body, event) for headers, body, event in mine()}
    assert set(events) == {"refund.created", "charge.refunded"}
    created = events["refund.created"][2]["data"]["object"]
    assert (created["object"], created["id"], created["amount"]) == ("refund", refund.id, 450)
    charge = events["charge.refunded"][2]["data"]["object"]
    assert (charge["object"], charge["id"], charge["amount_refunded"]) == (
        "charge", charge_of(intent), 450)
    assert [r["id"] for r in charge["refunds"]["data"]] == [refund.id]
    for headers, body, _ in events.values():  # signed as Stripe signs
        stripe.Webhook.construct_event(body, headers["stripe-signature"], "whsec_shim")


def test_a_replayed_refund_sends_no_second_event(client, customer, card, refund_events):
    intent = paid_intent(client, customer, card)
    key = unique("refund")
    params = {"payment_intent": intent.id, "amount": 100}
    refund = client.v1.refunds.create(params=params, options={"idempotency_key": key})
    client.v1.refunds.create(params=params, options={"idempotency_key": key})

    def mine():
        return [event for _, _, event in refund_events()
                if event["type"] == "refund.created"
                and event["data"]["object"]["id"] == refund.id]

    assert wait_for(lambda: len(mine()) >= 1)
    time.sleep(1.5)  # a second one would have come by now
    assert len(mine()) == 1


def test_keep_in_keeps_the_store_across_restarts(tmp_path):
    """``scripts/run.sh`` keeps localstripe's store beside the SQLite database, so the
    customers and charges its rows name are still there after a restart."""
    import subprocess
    import sys

    from tests.conftest import free_port, wait_for_port

    kept = tmp_path / "localstripe.pickle"

    def start():
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "buyflow.dev.localstripe_server", "--port", str(port),
             "--keep-in", str(kept)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port)
        return process, f"http://127.0.0.1:{port}"

    process, url = start()
    customer = requests.post(f"{url}/v1/customers", auth=("sk_test_keep", ""),
                             data={"email": "kept@example.com"}, timeout=10).json()
    process.terminate()
    process.wait(10)
    process, url = start()
    try:
        again = requests.get(f"{url}/v1/customers/{customer['id']}", auth=("sk_test_keep", ""),
                             timeout=10)
        assert again.status_code == 200 and again.json()["email"] == "kept@example.com"
    finally:
        process.terminate()
        process.wait(10)
