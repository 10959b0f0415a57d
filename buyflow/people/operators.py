"""Who runs this Buyflow service: operators (``Buyer.is_operator``), granted and revoked
by another operator (the admin pages) or the CLI (``people grant-operator``).

The one rule: the service always keeps an operator who can sign in — the last one
(not deactivated, not deleted) is never revoked, by anyone, themself included. Every
change adds its audit entry to the current transaction and flushes; the caller commits.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..audit import record_action
from ..errors import CodedError
from ..extensions import db
from ..locks import locked
from ..models import Buyer
from ..models.audit import Actor


class OperatorRefused(CodedError):
    """A grant or revocation the rules refuse. Codes: ``last_operator`` (it would leave
    the service without an operator who can sign in), ``not_a_person`` (a deleted or
    deactivated account cannot be made an operator)."""

    http_status = 422

    def __init__(self, code: str):
        super().__init__(code, ENGLISH[code])


ENGLISH = {
    "last_operator": "the last operator who can sign in cannot be revoked",
    "not_a_person": "a deleted or deactivated account cannot be made an operator",
}

MESSAGES = {
    "last_operator": _l("This is the last operator of the service: make someone else an "
                        "operator first."),
    "not_a_person": _l("A deleted or deactivated account cannot be made an operator."),
}


def refusal_message(code: str) -> str:
    """The localized sentence for an ``OperatorRefused`` code, for the pages."""
    return str(MESSAGES[code])


def _active_operators():
    return db.select(Buyer.id).where(Buyer.is_operator.is_(True),
                                     Buyer.deactivated_at.is_(None),
                                     Buyer.deleted_at.is_(None))


def can_sign_in(person: Buyer) -> bool:
    return person.deactivated_at is None and person.deleted_at is None


def is_last_operator(person: Buyer) -> bool:
    """Whether ``person`` is the only operator who can sign in (a page may say so, or
    refuse to deactivate them, before anyone presses a button)."""
    if not (person.is_operator and can_sign_in(person)):
        return False
    ids = db.session.scalars(_active_operators().limit(2)).all()
    return ids == [person.id]


def grant_operator(person: Buyer, *, actor: Actor) -> bool:
    """Make ``person`` an operator; False when they already were (nothing written)."""
    if person.is_operator:
        return False
    if not can_sign_in(person):
        raise OperatorRefused("not_a_person")
    person.is_operator = True
    record_action("person.operator_granted", str(person.id), actor=actor, buyer=person,
                  before={"is_operator": False}, after={"is_operator": True})
    db.session.flush()
    return True


def revoke_operator(person: Buyer, *, actor: Actor) -> bool:
    """Make ``person`` an operator no more; False when they were not one (nothing
    written); ``OperatorRefused("last_operator")`` when they are the last operator who
    can sign in. Two revocations at once cannot both pass: every operator row is locked
    (in id order) before they are counted."""
    if not person.is_operator:
        return False
    # PostgreSQL: every operator's row, in id order (so two revocations wait in turn
    # and the second counts what the first left); SQLite: the database's write lock.
    db.session.scalars(db.select(Buyer.id).where(Buyer.is_operator.is_(True))
                       .order_by(Buyer.id).with_for_update()).all()
    person = locked(Buyer, person.id)
    if not person.is_operator:
        return False
    if can_sign_in(person):
        others = db.session.scalar(db.select(db.func.count()).select_from(
            _active_operators().where(Buyer.id != person.id).subquery()))
        if not others:
            raise OperatorRefused("last_operator")
    person.is_operator = False
    record_action("person.operator_revoked", str(person.id), actor=actor, buyer=person,
                  before={"is_operator": True}, after={"is_operator": False})
    db.session.flush()
    return True
