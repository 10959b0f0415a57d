"""Idempotency keys for API calls that move money.

The same key with the same request replays the first answer; the same key with another
request is refused (422). The request holding a key holds it for a lease
(``IDEMPOTENCY_LEASE_SECONDS``): others with that key meanwhile are refused (409), so the
work runs once. The work remembers what it made (``remember_resource``: a refund's id,
in the transaction that made it: the recovery point), and a retry that takes the key
over resumes from it (``resumed_resource``) instead of starting again:

- an answer below 500 is stored, and replayed to every retry;
- an answer of 5xx (or a crash) stores nothing: the work may have been done, or be half
  done, so the key is not forgotten; its lease ends (at once for a 5xx, when it expires
  for a crash) and the next retry takes it over and resumes the same work.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from datetime import timedelta

from flask import Flask, Response, current_app, g, make_response, request
from huey import crontab
from sqlalchemy.exc import IntegrityError

from ..errors import CodedError
from ..extensions import db
from ..locks import locked
from ..models import IdempotencyRecord
from ..models._base import utcnow
from .auth import authenticated_seller
from .errors import ApiError, api_error_response

log = logging.getLogger(__name__)

# Printable ASCII: a key is echoed in logs and stored as text on every database.
_KEY_CHARACTERS = frozenset(chr(c) for c in range(0x20, 0x7F))


def _fingerprint() -> str:
    """What the request is. Parsing its JSON here also refuses a malformed body (too
    deep, NUL characters...) before the key is taken, so such a request writes nothing."""
    body = request.get_data()
    parsed = request.get_json(silent=True)
    if parsed is not None:  # the same JSON with other spacing or key order is the same
        body = json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n"
                          + body).hexdigest()


def _lease_end():
    return utcnow() + timedelta(seconds=current_app.config["IDEMPOTENCY_LEASE_SECONDS"])


def idempotent(view):
    """Make ``view`` honour an ``Idempotency-Key`` header (optional), as the module
    docstring says."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255 or not set(key) <= _KEY_CHARACTERS:
            raise ApiError("invalid_idempotency_key",
                           "Idempotency-Key must be 1 to 255 printable ASCII characters.")
        taken = _take(authenticated_seller().id, key, _fingerprint())
        if isinstance(taken, Response):
            return taken
        g.idempotency_record_id = taken
        try:
            response = make_response(view(*args, **kwargs))
        except CodedError as exc:  # a refusal is the key's answer, as any other
            db.session.rollback()  # what the refused work wrote so far is undone
            response = make_response(api_error_response(exc))
        except Exception:
            db.session.rollback()
            _end_lease(taken)
            raise
        if response.status_code >= 500:
            db.session.rollback()
            _end_lease(taken)
        else:
            _finish(taken, response)
        return response

    return wrapper


def _take(seller_id: int, key: str, fingerprint: str) -> int | Response:
    """Hold ``key`` for this request: a new record, or one whose holder is gone (its lease
    over). Returns the record's id, or the stored answer to replay; ApiError when the
    key was used for another request or is held right now."""
    record = IdempotencyRecord(seller_id=seller_id, key=key, fingerprint=fingerprint,
                               locked_until=_lease_end())
    db.session.add(record)
    try:
        db.session.commit()
        return record.id
    except IntegrityError:
        db.session.rollback()
    record_id = db.session.scalar(db.select(IdempotencyRecord.id).filter_by(
        seller_id=seller_id, key=key))
    record = locked(IdempotencyRecord, record_id)
    if record.fingerprint != fingerprint:
        db.session.commit()
        raise ApiError("idempotency_key_reused",
                       "This Idempotency-Key was used with a different request.", 422)
    if record.status == "done":
        db.session.commit()
        response = Response(record.response_body, status=record.response_status,
                            mimetype="application/json")
        response.headers["Idempotent-Replayed"] = "true"
        return response
    if record.locked_until is not None and record.locked_until > utcnow():
        db.session.commit()
        raise ApiError("idempotency_in_progress",
                       "A request with this Idempotency-Key is still in progress.", 409)
    record.locked_until = _lease_end()  # taken over: the work resumes from its resource
    db.session.commit()
    return record.id


def remember_resource(public_id: str) -> None:
    """Note, in the current transaction, what this request's work made (the recovery point
    a retry resumes from). Nothing without an Idempotency-Key."""
    record_id = g.get("idempotency_record_id")
    if record_id is not None:
        db.session.get(IdempotencyRecord, record_id).resource = public_id


def resumed_resource() -> str | None:
    """What an earlier request with this Idempotency-Key made before it failed or was cut
    off, if anything."""
    record_id = g.get("idempotency_record_id")
    return db.session.get(IdempotencyRecord, record_id).resource if record_id else None


def _finish(record_id: int, response: Response) -> None:
    record = locked(IdempotencyRecord, record_id)
    record.status = "done"
    record.locked_until = None
    record.response_status = response.status_code
    record.response_body = response.get_data(as_text=True)
    db.session.commit()


def _end_lease(record_id: int) -> None:
    record = locked(IdempotencyRecord, record_id)
    record.locked_until = utcnow()
    db.session.commit()


def purge_idempotency_records() -> int:
    """Forget finished keys older than ``IDEMPOTENCY_RETENTION_HOURS``; returns how many.
    Keys whose work never finished are kept whatever their age, so a late retry still
    resumes that work rather than starting it again."""
    cutoff = utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_RETENTION_HOURS"])
    purged = db.session.execute(db.delete(IdempotencyRecord).where(
        IdempotencyRecord.status == "done", IdempotencyRecord.created_at < cutoff)).rowcount
    db.session.commit()
    if purged:
        log.info("purged %d idempotency records older than %s", purged, cutoff.isoformat())
    return purged


def init_app(app: Flask) -> None:
    from ..tasks import register_periodic

    register_periodic(app, "purge_idempotency_records", crontab(minute="17"),
                      purge_idempotency_records)
