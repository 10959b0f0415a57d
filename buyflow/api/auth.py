"""Seller authentication for the API: the secret API key as a Bearer token."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import request
from sqlalchemy import or_, update

from ..extensions import db
from ..models import Seller, SellerApiKey
from ..models._base import utcnow
from ..models.audit import Actor
from ..models.sellers import hash_api_key
from ..sellers.status import api_refusal_message, refusal_for_seller
from .errors import ApiError

log = logging.getLogger(__name__)

# A key's last use is written at most this often (a busy key is not written per call).
LAST_USED_EVERY = timedelta(minutes=1)
_NOTED = "buyflow.api_key_noted"


def authenticated_seller() -> Seller:
    """The seller whose secret API key is in the Authorization header; ApiError 401
    otherwise (the same answer for a missing, malformed or unknown key). The key's last
    use is noted by the first call of a request (``note_key_used``)."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    found = None
    if scheme == "Bearer" and key:
        fresh = not db.session().in_transaction()  # nothing of this request's work yet
        found = db.session.execute(
            db.select(Seller, SellerApiKey.last_used_at).join(SellerApiKey)
            .where(SellerApiKey.key_hash == hash_api_key(key),
                   SellerApiKey.revoked_at.is_(None))).first()
    if found is None:
        raise ApiError("unauthorized", "A valid secret API key is required as a Bearer token.",
                       401)
    seller, last_used_at = found
    if closed := refusal_for_seller(seller):  # suspended, or not approved yet
        raise ApiError(closed, api_refusal_message(closed), 403)
    if not request.environ.get(_NOTED):  # once per request, however often it asks
        request.environ[_NOTED] = True
        note_key_used(hash_api_key(key), last_used_at, own_transaction=fresh)
    return seller


def note_key_used(key_hash: str, last_used_at: datetime | None, *,
                  own_transaction: bool) -> None:
    """Set the key's ``last_used_at`` unless it was set within ``LAST_USED_EVERY``
    (``last_used_at`` is what the authenticating SELECT read: a key used within the minute
    costs nothing more). One conditional UPDATE (two requests at once write it once),
    committed at once so it holds no lock for the rest of the request and the request's
    own rollback cannot undo it: in the session's transaction when that transaction holds
    only the authenticating read (``own_transaction``: the first thing a request does),
    else on a connection of its own. It is a hint for the seller's team: when it fails, it
    is logged and the request goes on."""
    now = utcnow()
    if last_used_at is not None and last_used_at >= now - LAST_USED_EVERY:
        return
    keys = SellerApiKey.__table__
    statement = (update(keys).where(keys.c.key_hash == key_hash,
                                    or_(keys.c.last_used_at.is_(None),
                                        keys.c.last_used_at < now - LAST_USED_EVERY))
                 .values(last_used_at=now))
    try:
        if own_transaction:
            session = db.session()
            session.execute(statement)
            # Only this update and the read before it: what was read stays loaded.
            session.expire_on_commit, keep = False, session.expire_on_commit
            try:
                session.commit()
            finally:
                session.expire_on_commit = keep
        else:
            with db.engine.begin() as connection:
                connection.execute(statement)
    except Exception:  # noqa: BLE001 - never the request's failure
        if own_transaction:
            db.session.rollback()
        log.warning("could not note the API key's last use", exc_info=True)


def api_actor() -> Actor:
    """Who acts through this request, for the records it writes: its API key (the request
    is authenticated already)."""
    _, _, key = request.headers.get("Authorization", "").partition(" ")
    return Actor.api_key(db.session.scalar(db.select(SellerApiKey).filter_by(
        key_hash=hash_api_key(key.strip()))))
