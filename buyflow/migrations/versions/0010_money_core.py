"""money core: payment sources and methods, the credit ledger, refunds spread over
payments (refund parts), credit packs, offline payments, order expiry

Existing refunds each become one part of their payment, keeping their id as the part's
public id (so a refund in flight resumes under the same provider idempotency key and
metadata) and their row id (so their history rows point at the part).

Revision ID: 0010_money_core
Revises: 0009_exactly_once
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0010_money_core"
down_revision = "0009_exactly_once"
branch_labels = None
depends_on = None

_OLD_OPEN = "status IN ('created', 'requires_action')"
_OPEN = "status IN ('created', 'requires_action', 'authorized')"


def upgrade():
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind != 'buyer' OR balance >= 0",
                           name="ck_buyer_balance_positive"),
        sa.ForeignKeyConstraint(["buyer_id"], ["buyers.id"]),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_accounts_buyer_id"), ["buyer_id"])
        batch_op.create_index(batch_op.f("ix_ledger_accounts_seller_id"), ["seller_id"])
    op.create_index("uq_ledger_buyer_accounts", "ledger_accounts",
                    ["seller_id", "buyer_id", "unit", "kind"], unique=True,
                    sqlite_where=sa.text("buyer_id IS NOT NULL"),
                    postgresql_where=sa.text("buyer_id IS NOT NULL"))
    op.create_index("uq_ledger_seller_accounts", "ledger_accounts",
                    ["seller_id", "unit", "kind"], unique=True,
                    sqlite_where=sa.text("buyer_id IS NULL"),
                    postgresql_where=sa.text("buyer_id IS NULL"))

    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source_type", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=60), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["buyer_id"], ["buyers.id"]),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_transactions_buyer_id"), ["buyer_id"])
        batch_op.create_index(batch_op.f("ix_ledger_transactions_seller_id"), ["seller_id"])
        batch_op.create_index("uq_ledger_transactions_key", ["seller_id", "idempotency_key"],
                              unique=True)

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["ledger_accounts.id"]),
        sa.ForeignKeyConstraint(["transaction_id"], ["ledger_transactions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entries_account_id"), ["account_id"])
        batch_op.create_index(batch_op.f("ix_ledger_entries_transaction_id"),
                              ["transaction_id"])

    op.drop_index("uq_payments_open_per_order", table_name="payments")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("method", sa.String(length=20), nullable=False,
                                      server_default="card"))
        batch_op.add_column(sa.Column("reference", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("recorded_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("ledger_transaction_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_payments_ledger_transaction_id", "ledger_transactions",
                                    ["ledger_transaction_id"], ["id"])
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column("method", server_default=None)
    op.create_index("uq_payments_open_per_order", "payments", ["order_id", "provider"],
                    unique=True, sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credit_amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("credit_unit", sa.String(length=40), nullable=True))
    with op.batch_alter_table("sellers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allow_partial_offline", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("sellers", schema=None) as batch_op:
        batch_op.alter_column("allow_partial_offline", server_default=None)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True))
    purchased = "status IN ('paid', 'partially_refunded', 'refunded')"
    op.create_index("ix_orders_purchases", "orders", ["buyer_email", "id"],
                    sqlite_where=sa.text(purchased), postgresql_where=sa.text(purchased))

    op.create_table(
        "refund_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("destination", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("provider_refund_ref", sa.String(length=100), nullable=True),
        sa.Column("failure_code", sa.String(length=60), nullable=True),
        sa.Column("provider_call_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ledger_transaction_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ledger_transaction_id"], ["ledger_transactions.id"]),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"]),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_refund_ref"),
        sa.UniqueConstraint("public_id"),
    )
    with op.batch_alter_table("refund_parts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_parts_payment_id"), ["payment_id"])
        batch_op.create_index(batch_op.f("ix_refund_parts_refund_id"), ["refund_id"])
    op.execute(
        "INSERT INTO refund_parts (id, public_id, created_at, refund_id, payment_id, amount, "
        "destination, status, provider_refund_ref, failure_code, provider_call_until, "
        "updated_at) SELECT id, public_id, created_at, id, payment_id, amount, 'source', "
        "status, provider_refund_ref, failure_code, provider_call_until, updated_at "
        "FROM refunds"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('refund_parts', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM refund_parts), 0) + 1, false)")

    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destination", sa.String(length=20), nullable=False,
                                      server_default="source"))
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id"))
        if postgresql:  # SQLite's batch copy leaves out what names a dropped column
            batch_op.drop_constraint("refunds_provider_refund_ref_key", type_="unique")
            batch_op.drop_constraint("refunds_payment_id_fkey", type_="foreignkey")
        batch_op.drop_column("payment_id")
        batch_op.drop_column("provider_refund_ref")
        batch_op.drop_column("failure_code")
        batch_op.drop_column("provider_call_until")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.alter_column("destination", server_default=None)

    # A refund's events are its part's now (same row ids): the column is renamed and
    # points at the parts.
    with op.batch_alter_table("refund_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_events_refund_id"))
        if postgresql:
            batch_op.drop_constraint("refund_events_refund_id_fkey", type_="foreignkey")
        batch_op.add_column(sa.Column("refund_part_id", sa.Integer(), nullable=True))
    op.execute("UPDATE refund_events SET refund_part_id = refund_id")
    with op.batch_alter_table("refund_events", schema=None) as batch_op:
        batch_op.drop_column("refund_id")
        batch_op.alter_column("refund_part_id", nullable=False)
        batch_op.create_foreign_key("refund_events_refund_part_id_fkey", "refund_parts",
                                    ["refund_part_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_refund_events_refund_part_id"),
                              ["refund_part_id"])


def downgrade():
    raise NotImplementedError("0010 moves refunds into parts; restore a backup to go back")
