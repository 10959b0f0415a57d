import time

import pytest

from buyflow.sellers import results
from buyflow.sellers.results import (
    ExpiredResultToken,
    InvalidResultToken,
    sign_result,
    unverified_seller,
    verify_result,
)

PAYLOAD = {"order": "ord_1", "seller": "sel_1", "items": [], "amount": 1450,
           "currency": "EUR", "status": "paid"}


def test_round_trip_returns_the_payload_with_its_time():
    verified = verify_result(sign_result(PAYLOAD, "secret"), "secret")
    assert {k: verified[k] for k in PAYLOAD} == PAYLOAD
    assert abs(verified["iat"] - time.time()) < 5


def test_another_secret_is_refused():
    with pytest.raises(InvalidResultToken):
        verify_result(sign_result(PAYLOAD, "secret"), "another secret")


def test_a_tampered_token_is_refused():
    token = sign_result(PAYLOAD, "secret")
    _, timestamp, signature = token.rsplit(".", 2)
    forged_body = sign_result({**PAYLOAD, "amount": 1}, "secret").rsplit(".", 2)[0]
    with pytest.raises(InvalidResultToken):
        verify_result(f"{forged_body}.{timestamp}.{signature}", "secret")
    with pytest.raises(InvalidResultToken):
        verify_result(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "secret")


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "🙂"])
def test_garbage_is_invalid(garbage):
    with pytest.raises(InvalidResultToken):
        verify_result(garbage, "secret")


def test_an_old_token_is_expired(monkeypatch):
    token = sign_result(PAYLOAD, "secret")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 7200)
    with pytest.raises(ExpiredResultToken):
        verify_result(token, "secret", max_age=3600)


def test_rotation_signs_with_the_newest_and_accepts_all():
    old_token = sign_result(PAYLOAD, ["old"])
    assert verify_result(old_token, ["old", "new"])["order"] == "ord_1"
    new_token = sign_result(PAYLOAD, ["old", "new"])
    assert verify_result(new_token, "new")["order"] == "ord_1"
    with pytest.raises(InvalidResultToken):
        verify_result(new_token, "old")


def test_the_claimed_seller_can_be_read_without_trusting_it():
    assert unverified_seller(sign_result(PAYLOAD, "secret")) == "sel_1"
    assert unverified_seller("garbage") is None


def test_the_helper_needs_only_itsdangerous():
    source = open(results.__file__).read()
    imports = {line.split()[1] for line in source.splitlines()
               if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "hashlib", "time", "collections.abc", "itsdangerous"}
