"""Finished Idempotency-Keys are forgotten after their retention; unfinished ones never."""

from datetime import timedelta

from buyflow.api.idempotency import purge_idempotency_records
from buyflow.extensions import db
from buyflow.models import IdempotencyRecord, Refund
from buyflow.models._base import utcnow
from tests.api.test_refunds import refund


def _age_records(hours: int) -> None:
    db.session.execute(db.update(IdempotencyRecord).values(
        created_at=utcnow() - timedelta(hours=hours)))
    db.session.commit()


def test_a_key_is_replayed_within_its_retention(app, client, paid_order):
    assert refund(client, paid_order, {"amount": 100}, key="k-kept").status_code == 201
    _age_records(app.config["IDEMPOTENCY_RETENTION_HOURS"] - 1)

    assert purge_idempotency_records() == 0
    again = refund(client, paid_order, {"amount": 100}, key="k-kept")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 1


def test_a_finished_key_past_its_retention_is_forgotten(app, client, paid_order):
    assert refund(client, paid_order, {"amount": 100}, key="k-old").status_code == 201
    _age_records(app.config["IDEMPOTENCY_RETENTION_HOURS"] + 1)

    assert purge_idempotency_records() == 1
    assert db.session.scalar(db.select(db.func.count(IdempotencyRecord.id))) == 0


def test_an_unfinished_key_is_kept_whatever_its_age(app, product):
    # What a crash mid-refund leaves: the key held, its work's recovery point noted.
    db.session.add(IdempotencyRecord(seller_id=product.seller.id, key="k-crashed", fingerprint="0" * 64,
                                     locked_until=utcnow(), resource="re_left_behind"))
    db.session.commit()
    _age_records(app.config["IDEMPOTENCY_RETENTION_HOURS"] * 10)

    assert purge_idempotency_records() == 0
    assert db.session.scalar(db.select(IdempotencyRecord.resource)) == "re_left_behind"


def test_the_purge_runs_hourly_in_the_worker(app):
    assert "purge_idempotency_records" in app.extensions["buyflow.tasks"].tasks
