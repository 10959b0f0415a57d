"""secrets at rest re-encrypted from Fernet tokens to secretbox tokens (libsodium, through
PyNaCl: models/encrypted.py says why) under the newest key of SECRETS_KEYS, the same
keys; the downgrade writes Fernet tokens again

Revision ID: 0018_secrets_secretbox
Revises: 0017_people_and_roles
Create Date: 2026-12-04 19:00:00

"""
import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet
from flask import current_app

from buyflow.models.encrypted import TOKEN_PREFIX, decrypt, encrypt

revision = "0018_secrets_secretbox"
down_revision = "0017_people_and_roles"
branch_labels = None
depends_on = None

sellers = sa.table("sellers", sa.column("id", sa.Integer()),
                   sa.column("signing_secrets", sa.JSON()))
endpoints = sa.table("webhook_endpoints", sa.column("id", sa.Integer()),
                     sa.column("secret", sa.Text()), sa.column("previous_secret", sa.Text()))


def _rewrite(change) -> None:
    """Every encrypted value (signing secrets, webhook secrets and previous secrets)
    replaced by ``change(token)``."""
    connection = op.get_bind()
    for row_id, tokens in connection.execute(
            sa.select(sellers.c.id, sellers.c.signing_secrets)).all():
        connection.execute(sellers.update().where(sellers.c.id == row_id).values(
            signing_secrets=[change(token) for token in tokens or []]))
    for row_id, secret, previous in connection.execute(
            sa.select(endpoints.c.id, endpoints.c.secret, endpoints.c.previous_secret)).all():
        connection.execute(endpoints.update().where(endpoints.c.id == row_id).values(
            secret=change(secret), previous_secret=previous and change(previous)))


def upgrade():
    _rewrite(lambda token: token if token.startswith(TOKEN_PREFIX) else encrypt(decrypt(token)))


def downgrade():
    fernet = Fernet(current_app.config["SECRETS_KEYS"][0])
    _rewrite(lambda token: fernet.encrypt(decrypt(token).encode()).decode()
             if token.startswith(TOKEN_PREFIX) else token)
