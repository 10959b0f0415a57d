"""Idempotency keys for API calls that move money.

The same key with the same request replays the first answer; the same key with another
request is refused (422); while the first request with a key is still running, others
with that key are refused (409), so the work happens once.
"""

from __future__ import annotations

import functools
import hashlib
import json

from flask import Response, make_response, request
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import IdempotencyRecord
from .auth import authenticated_seller
from .errors import ApiError, api_error_response


def _fingerprint() -> str:
    body = request.get_data()
    try:  # the same JSON written with other spacing or key order is the same request
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n"
                          + body).hexdigest()


def idempotent(view):
    """Make ``view`` honour an ``Idempotency-Key`` header (optional)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255:
            raise ApiError("invalid_idempotency_key",
                           "Idempotency-Key must be 1 to 255 characters.")
        seller = authenticated_seller()
        record = IdempotencyRecord(seller_id=seller.id, key=key, fingerprint=_fingerprint())
        db.session.add(record)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return _replay(seller.id, key, record.fingerprint)

        try:
            response = make_response(view(*args, **kwargs))
        except ApiError as exc:
            response = make_response(api_error_response(exc))
        except Exception:
            _forget(record)
            raise
        if response.status_code >= 500:  # nothing happened for sure: let a retry run again
            _forget(record)
        else:
            record.status = "done"
            record.response_status = response.status_code
            record.response_body = response.get_data(as_text=True)
            db.session.commit()
        return response

    return wrapper


def _replay(seller_id: int, key: str, fingerprint: str) -> Response:
    record = db.session.scalar(db.select(IdempotencyRecord).filter_by(seller_id=seller_id,
                                                                      key=key))
    if record is None:  # the first request failed and was forgotten meanwhile
        raise ApiError("idempotency_in_progress",
                       "A request with this Idempotency-Key is being retried; try again.", 409)
    if record.fingerprint != fingerprint:
        raise ApiError("idempotency_key_reused",
                       "This Idempotency-Key was used with a different request.", 422)
    if record.status != "done":
        raise ApiError("idempotency_in_progress",
                       "A request with this Idempotency-Key is still in progress.", 409)
    response = Response(record.response_body, status=record.response_status,
                        mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _forget(record: IdempotencyRecord) -> None:
    db.session.rollback()
    db.session.execute(db.delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
    db.session.commit()
