"""sellers' signing secrets and webhook endpoints' secrets encrypted at rest: each value
becomes a Fernet token under the newest key of SECRETS_KEYS (webhook secrets widened to
hold one); the downgrade decrypts them again

Revision ID: 0013_secrets_at_rest
Revises: 0012_seller_brand
Create Date: 2026-12-01 12:40:00

"""
from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


revision = "0013_secrets_at_rest"
down_revision = "0012_seller_brand"
branch_labels = None
depends_on = None

sellers = sa.table("sellers", sa.column("id", sa.Integer()),
                   sa.column("signing_secrets", sa.JSON()))
endpoints = sa.table("webhook_endpoints", sa.column("id", sa.Integer()),
                     sa.column("secret", sa.Text()))


def _cipher() -> MultiFernet:
    """The running app's keys (create_app has checked them): the first encrypts."""
    keys = current_app.config.get("SECRETS_KEYS")
    if not keys:
        raise RuntimeError("SECRETS_KEYS is not set: secrets cannot be encrypted at rest")
    return MultiFernet([Fernet(key) for key in keys])


def _rewrite(change) -> None:
    """Every signing secret and webhook secret replaced by ``change(value)``."""
    connection = op.get_bind()
    for row_id, secrets in connection.execute(
            sa.select(sellers.c.id, sellers.c.signing_secrets)).all():
        connection.execute(sellers.update().where(sellers.c.id == row_id).values(
            signing_secrets=[change(secret) for secret in secrets or []]))
    for row_id, secret in connection.execute(sa.select(endpoints.c.id, endpoints.c.secret)).all():
        connection.execute(endpoints.update().where(endpoints.c.id == row_id).values(
            secret=change(secret)))


def upgrade():
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=100), type_=sa.Text(),
                              existing_nullable=False)
    cipher = _cipher()
    _rewrite(lambda plaintext: cipher.encrypt(plaintext.encode()).decode())


def downgrade():
    cipher = _cipher()
    _rewrite(lambda token: cipher.decrypt(token.encode()).decode())
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.Text(), type_=sa.String(length=100),
                              existing_nullable=False)
