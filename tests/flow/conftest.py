"""Fixtures of the buy flow's tests: unlocking saved cards and credit with a mailed code."""

import pytest

from tests.management.conftest import code_in

ANN = "ann@example.com"


@pytest.fixture
def ask_code(client, mailbox):
    """Ask the flow for a saved-cards code for ``email``; returns the answer and the mail."""

    def ask(data, email=ANN):
        answer = client.post("/flow/api/saved-cards/code",
                             json={"flow": data["flow"], "email": email})
        assert answer.status_code == 200, answer.json
        return answer, mailbox.last_to(email)

    return ask


@pytest.fixture
def unlock(client, ask_code):
    """Confirm a mailed code in the flow ``data``; returns the /confirm answer's JSON."""

    def unlock_(data, email=ANN):
        _, mail = ask_code(data, email)
        answer = client.post("/flow/api/saved-cards/confirm", json={
            "flow": data["flow"], "email": email, "code": code_in(mail)})
        assert answer.status_code == 200, answer.json
        return answer.json

    return unlock_


@pytest.fixture
def buy_and_save(client, open_flow, unlock, confirm_in_browser):
    """Buy in a new flow with a new card, ticking "save this card" after the code."""

    def buy(product, email=ANN, number="4242424242424242"):
        data = open_flow(product.seller, product)
        token = unlock(data, email)["card_token"]
        opened = client.post("/flow/api/checkout", json={
            "flow": data["flow"], "email": email, "card_token": token, "save": True})
        confirm_in_browser(opened.json["client_secret"], number)
        return client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                      "payment": opened.json["payment"]})

    return buy
