"""An API key's last use (``api/auth.py``): noted when the key authenticates, at most once a
minute per key, with one conditional UPDATE and no extra SELECT; a request never fails
because it could not be noted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from buyflow.extensions import db
from buyflow.models import SellerApiKey
from buyflow.models._base import utcnow
from tests.api.conftest import AUTH


def last_used(seller):
    db.session.expire_all()
    return db.session.get(SellerApiKey, seller.api_keys[0].id).last_used_at


class Statements:
    """The SQL statements the app's engine runs meanwhile, as lower-cased text."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def _record(self, _conn, _cursor, statement, *_args):
        self.seen.append(statement.lower())

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def touching_keys(self, verb: str) -> list[str]:
        return [s for s in self.seen if s.startswith(verb) and "seller_api_keys" in s
                and "last_used_at" in s]


def test_a_call_notes_when_its_key_was_last_used(client, seller):
    assert last_used(seller) is None
    before = utcnow()
    assert client.get("/api/v1/orders", headers=AUTH).status_code == 200
    assert before <= last_used(seller) <= utcnow()


def test_a_busy_key_is_written_at_most_once_a_minute(client, seller):
    client.get("/api/v1/orders", headers=AUTH)
    first = last_used(seller)
    db.session.rollback()  # the request's session starts afresh, as in production
    with Statements(db.engine) as statements:
        for _ in range(3):
            assert client.get("/api/v1/orders", headers=AUTH).status_code == 200
    assert last_used(seller) == first
    # Within the minute: no write at all, and no SELECT of the key but the authenticating
    # one (which reads its last use with it).
    assert statements.touching_keys("update") == []
    reads = [s for s in statements.seen if s.startswith("select") and "seller_api_keys" in s]
    assert reads and all("seller_api_keys.key_hash = " in s and "revoked_at is null" in s
                         for s in reads)

    key = db.session.get(SellerApiKey, seller.api_keys[0].id)
    key.last_used_at = utcnow() - timedelta(seconds=61)
    db.session.commit()
    with Statements(db.engine) as statements:
        client.get("/api/v1/orders", headers=AUTH)
    [written] = statements.touching_keys("update")
    assert "last_used_at is null or" in written and "last_used_at <" in written  # conditional
    assert last_used(seller) > first


def test_it_is_noted_on_a_connection_of_its_own_inside_a_started_transaction(client, seller):
    db.session.get(SellerApiKey, seller.api_keys[0].id)  # the shared session is in a transaction
    assert db.session().in_transaction()
    assert client.get("/api/v1/orders", headers=AUTH).status_code == 200
    db.session.rollback()  # what this session did is undone, the note is not
    assert last_used(seller) is not None


def test_one_request_notes_it_once_however_often_it_authenticates(client, seller,
                                                                  paid_order):
    with Statements(db.engine) as statements:
        response = client.post(f"/api/v1/orders/{paid_order}/refunds", json={"amount": 100},
                               headers={**AUTH, "Idempotency-Key": "refund-1"})
    assert response.status_code == 201
    assert len(statements.touching_keys("update")) == 1


def test_a_refused_call_still_notes_the_key(client, seller):
    response = client.get("/api/v1/orders/ord_nope", headers=AUTH)
    assert response.status_code == 404
    assert last_used(seller) is not None


def test_unknown_and_revoked_keys_note_nothing(client, seller):
    assert client.get("/api/v1/orders", headers={
        "Authorization": "Bearer sk_unknown"}).status_code == 401
    seller.api_keys[0].revoked_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/orders", headers=AUTH).status_code == 401
    assert last_used(seller) is None


@pytest.mark.parametrize("started", [False, True], ids=["fresh", "in a transaction"])
def test_a_failure_to_note_it_never_fails_the_request(client, seller, caplog, started):
    def refuse(_conn, _cursor, statement, *_args):
        if statement.lower().startswith("update seller_api_keys"):
            raise RuntimeError("the database refuses writes")

    db.session.rollback()
    if started:
        db.session.get(SellerApiKey, seller.api_keys[0].id)
    event.listen(db.engine, "before_cursor_execute", refuse)
    try:
        response = client.get("/api/v1/orders", headers=AUTH)
    finally:
        event.remove(db.engine, "before_cursor_execute", refuse)
    assert response.status_code == 200 and response.json["data"] == []
    assert last_used(seller) is None
    assert "could not note the API key's last use" in caplog.text
