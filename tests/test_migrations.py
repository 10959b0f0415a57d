"""The migrations make exactly the schema the models describe, and keep what a database
made by an older revision holds.

The upgrade tests start from an empty database of their own: a SQLite file, or, when
the suite runs on PostgreSQL (BUYFLOW_TEST_DATABASE_URL), a database beside the suite's
(its name with ``_migrations``), made for the test and dropped after.
"""

import os
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from buyflow import create_app
from buyflow.extensions import db


@pytest.fixture
def old_app(tmp_path):
    """An app on an empty database, for a test to upgrade to an old revision, fill as
    that revision's code did, then upgrade to the newest."""
    url = os.environ.get("BUYFLOW_TEST_DATABASE_URL") or ""
    scratch = None
    if url.startswith("postgresql"):
        scratch = sa.make_url(url)
        scratch = scratch.set(database=f"{scratch.database}_migrations")
        _recreate(url, scratch.database)
        url = scratch.render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path}/old.sqlite"
    app = create_app(instance_path=str(tmp_path), test_config={
        "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url, "STRIPE_SECRET_KEY": None,
        "REDIS_URL": None})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if scratch is not None:
        _recreate(os.environ["BUYFLOW_TEST_DATABASE_URL"], scratch.database, create=False)


def _recreate(server_url: str, name: str, create: bool = True) -> None:
    """Drop the PostgreSQL database ``name`` (when there is one) and make it anew, on the
    server of ``server_url``."""
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        quoted = connection.dialect.identifier_preparer.quote(name)
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
        if create:
            connection.execute(text(f"CREATE DATABASE {quoted}"))
    engine.dispose()


def test_models_and_migrations_agree(app_context):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, db.metadata) == []


def test_partial_indexes_are_partial_on_the_database_in_use(app_context):
    # Alembic compares no index's condition: which indexes the migrations made partial is
    # checked here against the models (models/_base.py partial_index), on either database.
    dialect = db.engine.dialect.name
    declared = {index.name for table in db.metadata.tables.values() for index in table.indexes
                if index.dialect_options[dialect]["where"] is not None}
    assert len(declared) == 5
    inspector = sa.inspect(db.engine)
    made = {index["name"] for table in db.metadata.tables
            for index in inspector.get_indexes(table)
            if index.get("dialect_options", {}).get(f"{dialect}_where") is not None}
    assert made == declared


def test_an_order_with_two_open_payments_keeps_only_its_newest_open(old_app):
    """0009 adds "one open payment per order": an order that had two open attempts (as
    the old pay step allowed) keeps the newest; the older is marked canceled, for
    reconciliation to read at the provider."""
    with old_app.app_context():
        upgrade(revision="0008_receipt_claims")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO sellers (id, public_id, name, origins, signing_secrets, "
                "default_locale, created_at) VALUES (1, 'sel_1', 'S', '[]', '[]', 'en', "
                "'2026-11-01 00:00:00')"))
            connection.execute(text(
                "INSERT INTO orders (id, public_id, seller_id, buyer_email, checkout_key, "
                "status, amount, currency, locale, created_at) VALUES (1, 'ord_1', 1, "
                "'a@example.com', 'k', 'pending', 100, 'EUR', 'en', '2026-11-01 00:00:00')"))
            for payment_id, status in ((1, "created"), (2, "requires_action"), (3, "failed")):
                connection.execute(text(
                    "INSERT INTO payments (id, public_id, order_id, provider, status, amount, "
                    "currency, created_at, updated_at) VALUES (:id, :pid, 1, 'stripe', "
                    ":status, 100, 'EUR', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"),
                    {"id": payment_id, "pid": f"pay_{payment_id}", "status": status})
            connection.execute(text(
                "INSERT INTO refunds (id, public_id, order_id, payment_id, amount, currency, "
                "reason, status, created_at) VALUES (1, 're_1', 1, 3, 50, 'EUR', '', "
                "'failed', '2026-11-02 00:00:00')"))
        upgrade()
        with db.engine.connect() as connection:
            statuses = connection.execute(text(
                "SELECT id, status FROM payments ORDER BY id")).all()
            refund = connection.execute(text(
                "SELECT kind, status, destination, updated_at FROM refunds")).one()
            part = connection.execute(text(
                "SELECT id, public_id, refund_id, payment_id, amount, status, destination "
                "FROM refund_parts")).one()
            methods = connection.execute(text("SELECT DISTINCT method FROM payments")).all()
    assert statuses == [(1, "canceled"), (2, "requires_action"), (3, "failed")]
    assert refund[:3] == ("order", "failed", "source") and refund[3] is not None
    # The refund became one part of its payment, under its own id (its provider key).
    assert tuple(part) == (1, "re_1", 1, 3, 50, "failed", "source")
    assert methods == [("card",)]


def test_refund_requests_and_audit_entries_survive_0011(old_app):
    """0011 gives requests a lifecycle and audit entries an actor: an open request stays
    open (its money back to its source), and every earlier entry was its buyer's doing."""
    with old_app.app_context():
        upgrade(revision="0009_exactly_once")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO sellers (id, public_id, name, origins, signing_secrets, "
                "default_locale, created_at) VALUES (1, 'sel_1', 'S', '[]', '[]', 'en', "
                "'2026-11-01 00:00:00')"))
            connection.execute(text(
                "INSERT INTO buyers (id, email, session_epoch, created_at) VALUES "
                "(7, 'a@example.com', 0, '2026-11-01 00:00:00')"))
            connection.execute(text(
                "INSERT INTO orders (id, public_id, seller_id, buyer_id, buyer_email, "
                "checkout_key, status, amount, currency, locale, created_at) VALUES (1, "
                "'ord_1', 1, 7, 'a@example.com', 'k', 'paid', 100, 'EUR', 'en', "
                "'2026-11-01 00:00:00')"))
            connection.execute(text(
                "INSERT INTO refund_requests (id, public_id, order_id, buyer_id, reason, "
                "status, created_at) VALUES (1, 'rr_1', 1, 7, 'Torn', 'open', "
                "'2026-11-02 00:00:00')"))
            connection.execute(text(
                "INSERT INTO audit_entries (id, buyer_id, action, subject, detail, "
                "created_at) VALUES (1, 7, 'refund.requested', 'rr_1', '{}', "
                "'2026-11-02 00:00:00')"))
        upgrade()
        with db.engine.connect() as connection:
            request = connection.execute(text(
                "SELECT status, reason, refund_to, decline_reason, closed_at, refund_id "
                "FROM refund_requests")).one()
            entry = connection.execute(text(
                "SELECT buyer_id, actor_type, actor_id, action FROM audit_entries")).one()
    assert tuple(request) == ("open", "Torn", "source", None, None, None)
    assert tuple(entry) == (7, "buyer", "7", "refund.requested")


def _insert(connection, table: str, **values) -> int:
    """Write a row as the revision the database is at has its table; its id comes from
    the database, as it did then. Returns the id."""
    rows = sa.Table(table, sa.MetaData(), autoload_with=connection)
    return connection.execute(rows.insert().values(**values).returning(rows.c.id)).scalar_one()


def test_a_paid_and_partly_refunded_order_keeps_its_money_through_0010(old_app):
    """0010 spreads refunds over payments (refund parts): an order paid by card, with one
    refund that succeeded and one still processing at the provider, comes out with the
    same amounts paid, refunded and refundable, each refund one part of the card payment
    under its provider reference and idempotency key; the pending one completes by its
    webhook, an old event replayed changes nothing, and the rest can still be refunded."""
    from buyflow.models import Order, Payment, Refund
    from buyflow.payments.balance import (
        amount_due,
        amount_paid,
        refundable_amount,
        refunded_amount,
    )
    from buyflow.payments.base import RefundOutcome
    from buyflow.payments.reconcile import apply_provider_refund
    from buyflow.payments.refunds import reserve_refund
    from buyflow.payments.states import RefundAction

    day = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    with old_app.app_context():
        upgrade(revision="0009_exactly_once")
        with db.engine.begin() as connection:
            seller = _insert(connection, "sellers", public_id="sel_old", name="S", origins=[],
                             signing_secrets=[], default_locale="en", created_at=day)
            buyer = _insert(connection, "buyers", email="ann@example.com", session_epoch=0,
                            created_at=day)
            order = _insert(connection, "orders", public_id="ord_old", seller_id=seller,
                            buyer_id=buyer, buyer_email="ann@example.com", checkout_key="k",
                            status="partially_refunded", amount=1450, currency="EUR",
                            locale="en", created_at=day, paid_at=day)
            _insert(connection, "order_items", order_id=order, name="Beans", quantity=1,
                    unit_amount=1450, amount=1450)
            payment = _insert(connection, "payments", public_id="pay_old", order_id=order,
                              provider="stripe", status="succeeded", amount=1450,
                              currency="EUR", provider_payment_ref="pi_old",
                              card_brand="visa", card_last4="4242", created_at=day,
                              updated_at=day)
            _insert(connection, "payment_events", payment_id=payment, action="succeed",
                    from_status="created", to_status="succeeded",
                    provider_event_id="evt_paid", detail={}, created_at=day)
            done = _insert(connection, "refunds", public_id="re_done", order_id=order,
                           payment_id=payment, amount=500, currency="EUR", reason="Torn bag",
                           status="succeeded", provider_refund_ref="re_stripe_done",
                           kind="order", created_at=day, updated_at=day)
            _insert(connection, "refund_events", refund_id=done, action="succeed",
                    from_status="pending", to_status="succeeded",
                    provider_event_id="evt_refund_done", detail={}, created_at=day)
            # Accepted by the provider, still processed there: its webhook is to come.
            _insert(connection, "refunds", public_id="re_open", order_id=order,
                    payment_id=payment, amount=300, currency="EUR", reason="Late",
                    status="pending", provider_refund_ref="re_stripe_open", kind="order",
                    created_at=day, updated_at=day)
        upgrade()

        order = db.session.scalar(db.select(Order).filter_by(public_id="ord_old"))
        payment = db.session.scalar(db.select(Payment).filter_by(public_id="pay_old"))
        assert (order.status, amount_paid(order), amount_due(order)) == (
            "partially_refunded", 1450, 0)
        assert (refunded_amount(order), refundable_amount(order)) == (500, 650)
        assert (payment.provider, payment.method, payment.status) == ("stripe", "card",
                                                                      "succeeded")
        done, pending = sorted(order.refunds, key=lambda r: r.public_id)
        for refund, status, amount, ref in ((done, "succeeded", 500, "re_stripe_done"),
                                            (pending, "pending", 300, "re_stripe_open")):
            assert (refund.kind, refund.destination, refund.status, refund.amount) == (
                "order", "source", status, amount)
            [part] = refund.parts
            assert (part.payment_id, part.amount, part.status, part.destination,
                    part.provider_refund_ref) == (payment.id, amount, status, "source", ref)
            # The same key and metadata at the provider as before the upgrade.
            assert part.idempotency_key == f"buyflow-refund-{refund.public_id}"
        assert [e.provider_event_id for e in done.parts[0].events] == ["evt_refund_done"]

        # The old refund's event replayed changes nothing; the pending one's webhook
        # completes it through today's status writer.
        replayed = apply_provider_refund(
            RefundOutcome(reference="re_stripe_done", action=RefundAction.SUCCEED,
                          payment_ref="pi_old", refund_public_id="re_done", amount=500),
            provider_event_id="evt_refund_done")
        completed = apply_provider_refund(
            RefundOutcome(reference="re_stripe_open", action=RefundAction.SUCCEED,
                          payment_ref="pi_old", refund_public_id="re_open", amount=300),
            provider_event_id="evt_refund_open")
        db.session.commit()
        assert (replayed.kind, completed.kind) == ("ignored", "valid")
        assert (order.status, refunded_amount(order), refundable_amount(order)) == (
            "partially_refunded", 800, 650)
        assert pending.status == "succeeded"

        # What is left is refundable from the card payment, and only that.
        rest = reserve_refund(order, None, "The rest")
        db.session.commit()
        assert (rest.amount, [(p.payment_id, p.amount) for p in rest.parts]) == (
            650, [(payment.id, 650)])
        assert refundable_amount(order) == 0
        assert db.session.scalar(db.select(db.func.count(Refund.id))) == 3


def test_webhook_events_sent_before_0017_know_their_order(old_app):
    """0017 gives webhook events the order they are about (the console's order timeline
    finds them by it): the events already sent get it from their payload."""
    with old_app.app_context():
        upgrade(revision="0016_one_open_refund_request")
        created = datetime(2026, 11, 1, tzinfo=UTC)
        with db.engine.begin() as connection:
            seller = _insert(connection, "sellers", public_id="sel_1", name="S", origins=[],
                             signing_secrets=[], default_locale="en", created_at=created,
                             allow_partial_offline=False)
            order = _insert(connection, "orders", public_id="ord_1", seller_id=seller,
                            buyer_email="a@example.com", checkout_key="k", status="paid",
                            amount=100, currency="EUR", locale="en", created_at=created)
            for public_id, data in (("msg_1", {"order": {"id": "ord_1"}}),
                                    ("msg_2", {"transaction": {"id": "ltx_1"}})):
                _insert(connection, "webhook_events", public_id=public_id, seller_id=seller,
                        type="order.completed", data=data, created_at=created)
        upgrade()
        with db.engine.connect() as connection:
            named = dict(connection.execute(text(
                "SELECT public_id, order_id FROM webhook_events")).all())
    assert named == {"msg_1": order, "msg_2": None}
