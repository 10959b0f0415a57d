"""Once-only submissions of the console's forms that make something once (a refund, an
approved refund request, an offline payment, an API key).

Each such form carries a hidden random key (``FIELD``), made when its page is rendered
and carried unchanged through the confirmation step. The POST that does the work claims
the key for the seller as ``console:<key>`` in the ``IdempotencyRecord`` table the API's
``Idempotency-Key`` uses (``buyflow/api/idempotency.py``), with the same rules:

- the first POST holds the key for a lease (``IDEMPOTENCY_LEASE_SECONDS``); another POST
  of the same form meanwhile (a double click, a second tab) is refused (``busy``);
- the work notes what it made (``remember``: the refund's or payment's public id) in the
  transaction that makes it: the recovery point;
- a POST that finished marks the key done (``finish``): the same form sent again (back
  and resubmit, a retry an hour later) shows what it made and does nothing;
- a POST cut off (a crash) or answered by the provider's failure gives the lease back
  (``release``): the same form sent again takes the key over and resumes the work from
  its recovery point, never doing it twice;
- a POST refused before anything was made forgets the key (``forget``), so the person
  may correct the form and send it again.

A key says when it was made: a form older than the records' retention
(``IDEMPOTENCY_RETENTION_HOURS``, after which finished keys are purged) is refused as
expired rather than risk doing its work a second time.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField
from wtforms.validators import ValidationError

from buyflow.extensions import db
from buyflow.locks import locked
from buyflow.models import IdempotencyRecord, Seller
from buyflow.models._base import utcnow

FIELD = "submission"
PREFIX = "console:"
_KEY = re.compile(r"^([0-9a-f]{8,12})\.[A-Za-z0-9_-]{24}$")
# Finished keys live this much longer than the forms accepted: a key is never purged
# while its form can still be sent.
_MARGIN_HOURS = 1

STALE_FORM = _l("This form is out of date. Open the page again and start over.")
BUSY = _l("This is already being done: the form was sent twice. Wait a moment, then "
          "open the page again to see how it went.")


class SubmissionRefused(Exception):
    """``invalid`` (not a key of ours), ``expired`` (the page is too old), ``busy`` (the
    same form is being sent right now)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def refusal_message(code: str):
    """What the person is told when ``claim`` refuses the form (SubmissionRefused code)."""
    return BUSY if code == "busy" else STALE_FORM


class KeyedForm(FlaskForm):
    """A once-only form: its key (``submission``, from ``new_key`` when the page is
    rendered)."""

    submission = HiddenField()

    def validate_submission(self, field):
        if not valid_key(field.data):
            raise ValidationError(str(STALE_FORM))

    def hidden_errors(self) -> list[str]:
        """Errors of the hidden fields (the key, a subclass's own such as a refund's
        ``seen``): said above the form, not beside a field."""
        errors = [error for field in self if field.type == "HiddenField"
                  for error in field.errors]
        return list(dict.fromkeys(errors))


@dataclass(frozen=True)
class Submission:
    record_id: int
    # What an earlier POST of this form made (to resume from, or to show), if anything.
    resource: str | None
    # The form was sent before and its work finished: show ``resource``, do nothing.
    done: bool = False
    # ...and it was sent then with other values (the person went back and edited it).
    changed: bool = False


def new_key() -> str:
    """A fresh key for a form being rendered: when it was made, and 18 random bytes."""
    return f"{int(time.time()):x}.{secrets.token_urlsafe(18)}"


def valid_key(key: object) -> bool:
    return isinstance(key, str) and _KEY.match(key) is not None


def fingerprint(*values) -> str:
    """What a form sent (its action, its object, its values), to tell a resubmission of
    the same form from an edited one."""
    return hashlib.sha256("\x1f".join(str(v) for v in values).encode()).hexdigest()


def _checked(key: object) -> str:
    match = _KEY.match(key) if isinstance(key, str) else None
    if match is None:
        raise SubmissionRefused("invalid")
    made = int(match.group(1), 16)
    hours = max(1, current_app.config["IDEMPOTENCY_RETENTION_HOURS"] - _MARGIN_HOURS)
    if not -300 <= time.time() - made <= hours * 3600:
        raise SubmissionRefused("expired")
    return PREFIX + key


def _lease_end():
    return utcnow() + timedelta(seconds=current_app.config["IDEMPOTENCY_LEASE_SECONDS"])


def peek(seller: Seller, key: object) -> Submission | None:
    """The finished submission of ``key``, if the form was sent and done already (the
    confirmation step shows its outcome instead of asking again); reads only."""
    if not valid_key(key):
        return None
    record = db.session.scalar(db.select(IdempotencyRecord).filter_by(
        seller_id=seller.id, key=PREFIX + key))
    if record is None or record.status != "done":
        return None
    return Submission(record.id, record.resource, done=True)


def claim(seller: Seller, key: object, print_: str) -> Submission:
    """Hold ``key`` for this POST (a new key, or one whose holder is gone) and commit.
    Returns the submission: ``done`` when the form was sent and finished before.
    SubmissionRefused: ``invalid``, ``expired``, ``busy``."""
    stored_key = _checked(key)
    record = IdempotencyRecord(seller_id=seller.id, key=stored_key, fingerprint=print_,
                               locked_until=_lease_end())
    db.session.add(record)
    try:
        db.session.commit()
        return Submission(record.id, None)
    except IntegrityError:
        db.session.rollback()
    record_id = db.session.scalar(db.select(IdempotencyRecord.id).filter_by(
        seller_id=seller.id, key=stored_key))
    if record_id is None:  # forgotten meanwhile by the refused POST holding it: anew
        return claim(seller, key, print_)
    record = locked(IdempotencyRecord, record_id)
    changed = record.fingerprint != print_
    if record.status == "done":
        db.session.commit()
        return Submission(record.id, record.resource, done=True, changed=changed)
    if record.locked_until is not None and record.locked_until > utcnow():
        db.session.commit()
        raise SubmissionRefused("busy")
    record.locked_until = _lease_end()  # taken over: the work resumes from its resource
    resource = record.resource
    db.session.commit()
    return Submission(record_id, resource, changed=changed)


def remember(submission: Submission, public_id: str) -> None:
    """Note, in the current transaction (the one making it), what the work made."""
    db.session.get(IdempotencyRecord, submission.record_id).resource = public_id


def finish(submission: Submission, status: int = 303) -> None:
    """The work is done: every later POST of the form shows it. Commits."""
    record = locked(IdempotencyRecord, submission.record_id)
    record.status = "done"
    record.locked_until = None
    record.response_status = status
    db.session.commit()


def release(submission: Submission) -> None:
    """The work may be half done (the provider did not answer, or refused): end the
    lease so the same form sent again resumes it. Commits."""
    record = locked(IdempotencyRecord, submission.record_id)
    record.locked_until = utcnow()
    db.session.commit()


def forget(submission: Submission) -> None:
    """Nothing was made (the work was refused): drop the key, so the corrected form may
    be sent again; a key that made something before (since released) keeps it, its
    lease ended. Commits (call it after rolling the refused work back)."""
    if submission.resource is None:
        db.session.execute(db.delete(IdempotencyRecord).where(
            IdempotencyRecord.id == submission.record_id))
        db.session.commit()
    else:
        release(submission)
