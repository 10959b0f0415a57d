"""One-time codes: issued to an email for one purpose, confirmed once, by code or link.

Purposes keep codes apart: a code sent to sign in cannot verify an added email or open
saved cards in the buy flow, and asking for a new code ends only the older codes of the
same email and purpose.

The caller commits a new code (before mailing it) and a used one. A wrong try is the
exception: ``confirm_code`` commits its count itself, since the caller then refuses.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from ..errors import CodedError
from ..extensions import db
from ..models import SignInCode
from ..models._base import utcnow

SIGN_IN = "sign_in"
VERIFY_EMAIL = "verify_email"
SAVED_CARDS = "saved_cards"


class CodeRefused(CodedError):
    """``code``: wrong_code, expired_code, too_many_attempts."""


@dataclass(frozen=True)
class IssuedCode:
    code: str  # six digits, to type
    link_token: str  # for the link in the email


def _keyed_hash(*parts: str) -> str:
    # Six digits are easy to guess from a plain hash: keyed with the app's secret instead.
    message = "\n".join(parts).encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()


def issue_code(email: str, purpose: str = SIGN_IN) -> IssuedCode:
    """A new code and link for ``email`` and ``purpose``; earlier unused ones stop working
    (not yet committed: the caller commits before it mails them)."""
    now = utcnow()
    db.session.execute(
        db.update(SignInCode)
        .where(SignInCode.email == email, SignInCode.purpose == purpose,
               SignInCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    link_token = secrets.token_urlsafe(32)
    db.session.add(SignInCode(
        email=email, purpose=purpose, code_hash=_keyed_hash(purpose, email, code),
        link_hash=_keyed_hash(purpose, link_token),
        expires_at=now + timedelta(seconds=current_app.config["SIGN_IN_CODE_MAX_AGE"]),
    ))
    return IssuedCode(code, link_token)


def _usable(row: SignInCode | None) -> SignInCode:
    if row is None or row.used_at is not None:
        raise CodeRefused("wrong_code")
    if row.expires_at <= utcnow():
        raise CodeRefused("expired_code")
    return row


def confirm_code(email: str, code: str, purpose: str = SIGN_IN) -> SignInCode:
    """Use up ``email``'s current code for ``purpose`` if ``code`` is it (the row comes
    back marked used, not yet committed); CodeRefused otherwise. A wrong try is counted
    and committed before CodeRefused (too many end the code)."""
    row = db.session.scalar(
        db.select(SignInCode).filter_by(email=email, purpose=purpose, used_at=None)
        .order_by(SignInCode.id.desc()).with_for_update()
    )
    row = _usable(row)
    if not hmac.compare_digest(row.code_hash, _keyed_hash(purpose, email, code.strip())):
        row.failed_attempts += 1
        if row.failed_attempts >= current_app.config["SIGN_IN_CODE_MAX_ATTEMPTS"]:
            row.used_at = utcnow()
            db.session.commit()  # exception: kept though the caller refuses (brute force)
            raise CodeRefused("too_many_attempts")
        db.session.commit()  # exception: kept though the caller refuses (brute force)
        raise CodeRefused("wrong_code")
    row.used_at = utcnow()
    return row


def confirm_link(link_token: str, purpose: str = SIGN_IN) -> SignInCode:
    """Like ``confirm_code``, for the link in the email."""
    row = db.session.scalar(
        db.select(SignInCode)
        .filter_by(link_hash=_keyed_hash(purpose, link_token), purpose=purpose)
        .with_for_update()
    )
    row = _usable(row)
    row.used_at = utcnow()
    return row
