"""The Node.js seller example really interoperates with Buyflow's tokens and webhooks."""

import json
import subprocess
from datetime import UTC, datetime

import pytest

from buyflow import PROJECT_ROOT
from buyflow.models import WebhookEndpoint
from buyflow.sellers.requests import verify_purchase_request
from buyflow.sellers.results import sign_result
from buyflow.sellers.webhooks import signed_headers

EXAMPLE = PROJECT_ROOT / "docs" / "examples" / "buyflow-seller.mjs"


def node(command: str, secret: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(EXAMPLE), command, secret], input=stdin,
                          capture_output=True, text=True, timeout=30)


PAID = {"order": "ord_1", "seller": "sel_1", "status": "paid", "amount": 2900,
        "currency": "EUR", "items": [{"product": None, "name": "Bag", "quantity": 2,
                                      "unit_amount": 1450, "amount": 2900}]}


@pytest.mark.parametrize("payload, compressed", [({"order": "o"}, False), (PAID, True)])
def test_node_verifies_a_buyflow_result(payload, compressed):
    token = sign_result(payload, ["old-secret", "sign-secret"])
    assert token.startswith(".") == compressed  # both of itsdangerous's forms are read
    answer = node("verify-result", "sign-secret", token)
    assert answer.returncode == 0, answer.stderr
    assert {k: v for k, v in json.loads(answer.stdout).items() if k != "iat"} == payload


def test_node_refuses_an_altered_or_foreign_result():
    token = sign_result({"order": "ord_1", "status": "paid"}, "sign-secret")
    assert node("verify-result", "other-secret", token).returncode == 1
    altered = sign_result({"order": "ord_2", "status": "paid"}, "x").rsplit(".", 2)[0]
    forged = altered + "." + ".".join(token.rsplit(".", 2)[1:])
    answer = node("verify-result", "sign-secret", forged)
    assert answer.returncode == 1 and "invalid token" in answer.stderr


@pytest.mark.parametrize("price", ["unit_amount", "amount"])  # amount: its deprecated name
def test_a_request_signed_in_node_verifies_in_buyflow(price):
    request = {"items": [{"name": "Annual plan", price: 4800, "quantity": 2}],
               "currency": "EUR", "reference": "inv-7",
               "passthrough": {"account": 42, "note": "élan"}}
    answer = node("sign-request", "sign-secret", json.dumps(request))
    assert answer.returncode == 0, answer.stderr
    verified = verify_purchase_request(answer.stdout, ["sign-secret"])
    assert verified["passthrough"] == {"account": 42, "note": "élan"}
    assert verified["items"][0]["unit_amount"] == 4800


def test_node_verifies_a_buyflow_webhook_and_refuses_a_tampered_one():
    secret = WebhookEndpoint.new_secret()
    body = json.dumps({"type": "order.completed", "data": {"order": {"id": "ord_1"}}})
    headers = signed_headers(secret, "msg_1", datetime.now(UTC), body)
    good = node("verify-webhook", secret, json.dumps({"headers": headers, "body": body}))
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["type"] == "order.completed"
    tampered = body.replace("ord_1", "ord_2")
    bad = node("verify-webhook", secret, json.dumps({"headers": headers, "body": tampered}))
    assert bad.returncode == 1 and "invalid webhook signature" in bad.stderr
