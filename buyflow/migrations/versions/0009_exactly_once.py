"""exactly-once money: provider-call leases (recovery points) on payments and refunds,
one open payment per order, refund kinds, failures and history, idempotency leases and
recovery points, reconciliation issues

Revision ID: 0009_exactly_once
Revises: 0008_receipt_claims
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0009_exactly_once"
down_revision = "0008_receipt_claims"
branch_labels = None
depends_on = None

_OPEN = "status IN ('created', 'requires_action')"


def upgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_call_until", sa.DateTime(timezone=True),
                                      nullable=True))
    # Orders that already have two open attempts (possible before this revision) keep
    # only the newest open: the older ones are marked canceled here, and reconciliation
    # reads their real status at the provider.
    op.execute(  # _OPEN is this module's constant, nothing from outside:
        "UPDATE payments SET status = 'canceled' WHERE " + _OPEN + " AND id < ("  # nosec B608
        "SELECT MAX(p2.id) FROM payments p2 WHERE p2.order_id = payments.order_id AND "
        "p2.status IN ('created', 'requires_action'))"
    )
    op.create_index("uq_payments_open_per_order", "payments", ["order_id"], unique=True,
                    sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=False,
                                      server_default="order"))
        batch_op.add_column(sa.Column("failure_code", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("provider_call_until", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True),
                                      nullable=True))
    op.execute("UPDATE refunds SET updated_at = created_at")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)
        batch_op.alter_column("updated_at", nullable=False)

    op.create_table(
        "refund_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("provider_event_id", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_event_id"),
    )
    with op.batch_alter_table("refund_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_events_refund_id"), ["refund_id"],
                              unique=False)

    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("resource", sa.String(length=60), nullable=True))

    op.create_table(
        "reconciliation_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject"),
    )


def downgrade():
    op.drop_table("reconciliation_issues")
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_column("resource")
        batch_op.drop_column("locked_until")
    with op.batch_alter_table("refund_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_events_refund_id"))
    op.drop_table("refund_events")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("provider_call_until")
        batch_op.drop_column("failure_code")
        batch_op.drop_column("kind")
    op.drop_index("uq_payments_open_per_order", table_name="payments")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("provider_call_until")
