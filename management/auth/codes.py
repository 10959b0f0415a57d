"""One-time sign-in codes: issued to an email, redeemed once, by code or by link."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from buyflow.extensions import db
from buyflow.models import Buyer, SignInCode
from buyflow.models._base import utcnow


class CodeRefused(Exception):
    """``code``: wrong_code, expired_code, too_many_attempts."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class IssuedCode:
    code: str  # six digits, to type
    link_token: str  # for the link in the email


def _keyed_hash(*parts: str) -> str:
    # Six digits are easy to guess from a plain hash: keyed with the app's secret instead.
    message = "\n".join(parts).encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()


def issue_code(email: str) -> IssuedCode:
    """A new code and link for ``email``; earlier unused ones stop working."""
    now = utcnow()
    db.session.execute(
        db.update(SignInCode).where(SignInCode.email == email, SignInCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    link_token = secrets.token_urlsafe(32)
    db.session.add(SignInCode(
        email=email, code_hash=_keyed_hash(email, code), link_hash=_keyed_hash(link_token),
        expires_at=now + timedelta(seconds=current_app.config["SIGN_IN_CODE_MAX_AGE"]),
    ))
    db.session.commit()
    return IssuedCode(code, link_token)


def _usable(row: SignInCode | None) -> SignInCode:
    if row is None or row.used_at is not None:
        raise CodeRefused("wrong_code")
    if row.expires_at <= utcnow():
        raise CodeRefused("expired_code")
    return row


def _buyer_for(row: SignInCode) -> Buyer:
    row.used_at = utcnow()
    buyer = db.session.scalar(db.select(Buyer).filter_by(email=row.email))
    if buyer is None:
        buyer = Buyer(email=row.email, session_epoch=0)
        db.session.add(buyer)
        db.session.flush()
    row.buyer_id = buyer.id
    db.session.commit()
    return buyer


def redeem_code(email: str, code: str) -> Buyer:
    """The buyer ``email`` belongs to (made on first sign-in) if ``code`` is its current
    code; CodeRefused otherwise. Too many wrong tries end the code."""
    row = db.session.scalar(
        db.select(SignInCode).filter_by(email=email, used_at=None)
        .order_by(SignInCode.id.desc()).with_for_update()
    )
    row = _usable(row)
    if not hmac.compare_digest(row.code_hash, _keyed_hash(email, code.strip())):
        row.failed_attempts += 1
        if row.failed_attempts >= current_app.config["SIGN_IN_CODE_MAX_ATTEMPTS"]:
            row.used_at = utcnow()
            db.session.commit()
            raise CodeRefused("too_many_attempts")
        db.session.commit()
        raise CodeRefused("wrong_code")
    return _buyer_for(row)


def redeem_link(link_token: str) -> Buyer:
    """Like ``redeem_code``, for the link in the email."""
    row = db.session.scalar(
        db.select(SignInCode).filter_by(link_hash=_keyed_hash(link_token)).with_for_update()
    )
    return _buyer_for(_usable(row))
