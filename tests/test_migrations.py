"""The migrations make exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from buyflow.extensions import db


def test_models_and_migrations_agree(app_context):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, db.metadata) == []


def test_an_order_with_two_open_payments_keeps_only_its_newest_open(tmp_path):
    """0009 adds "one open payment per order": an order that had two open attempts (as
    the old pay step allowed) keeps the newest; the older is marked canceled, for
    reconciliation to read at the provider."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from buyflow import create_app

    app = create_app(instance_path=str(tmp_path), test_config={
        "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/old.sqlite",
        "STRIPE_SECRET_KEY": None})
    with app.app_context():
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
        db.engine.dispose()
    assert statuses == [(1, "canceled"), (2, "requires_action"), (3, "failed")]
    assert refund[:3] == ("order", "failed", "source") and refund[3] is not None
    # The refund became one part of its payment, under its own id (its provider key).
    assert tuple(part) == (1, "re_1", 1, 3, 50, "failed", "source")
    assert methods == [("card",)]


def test_refund_requests_and_audit_entries_survive_0011(tmp_path):
    """0011 gives requests a lifecycle and audit entries an actor: an open request stays
    open (its money back to its source), and every earlier entry was its buyer's doing."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from buyflow import create_app

    app = create_app(instance_path=str(tmp_path), test_config={
        "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/old.sqlite",
        "STRIPE_SECRET_KEY": None})
    with app.app_context():
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
        db.engine.dispose()
    assert tuple(request) == ("open", "Torn", "source", None, None, None)
    assert tuple(entry) == (7, "buyer", "7", "refund.requested")
