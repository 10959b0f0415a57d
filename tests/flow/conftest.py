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
