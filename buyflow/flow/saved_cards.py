"""Saved cards in the buy flow: who may see and use them.

Nobody sees or uses a saved card without first confirming a one-time code sent to the
email (purpose ``SAVED_CARDS``). A confirmed code earns a short-lived signed **card
token** bound to the flow (its checkout key), the verified email and the buyer it
belonged to then; the flow's calls about saved cards, and saving a new card, need it.
Asking for a code answers the same whether or not the email has an account or cards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mailman import EmailMessage
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import CodedError
from ..buyers.codes import SAVED_CARDS, IssuedCode, confirm_code
from ..buyers.identity import buyer_by_email
from ..models import Card
from ..models._base import utcnow
from ..tokens import signed_serializer
from .state import FlowState

CARD_TOKEN_SALT = "buyflow.flow-cards.v1"


class CardAccessError(CodedError):
    """``code``: card_token_expired or card_token_invalid."""

    http_status = 403


@dataclass(frozen=True)
class CardAccess:
    """What a valid card token proves: in this flow, ``email`` was confirmed by a code,
    and it belonged to buyer ``buyer_id`` (None: no buyer yet)."""

    checkout_key: str
    email: str
    buyer_id: int | None


def _serializer() -> URLSafeTimedSerializer:
    return signed_serializer(CARD_TOKEN_SALT)


def dump_card_token(access: CardAccess) -> str:
    return _serializer().dumps(asdict(access))


def load_card_token(token: object, flow: FlowState) -> CardAccess:
    """The access ``token`` grants in ``flow``; CardAccessError when it is too old,
    altered, garbage or made for another flow."""
    if not isinstance(token, str) or not token or len(token) > 1000:
        raise CardAccessError("card_token_invalid")
    try:
        access = CardAccess(**_serializer().loads(
            token, max_age=current_app.config["SAVED_CARDS_TOKEN_MAX_AGE"]))
    except SignatureExpired:
        raise CardAccessError("card_token_expired") from None
    except (BadSignature, TypeError, ValueError):
        raise CardAccessError("card_token_invalid") from None
    if access.checkout_key != flow.checkout_key:
        raise CardAccessError("card_token_invalid")
    return access


def send_code(email: str, issued: IssuedCode, shop: str) -> None:
    """Mail ``email`` the code ``issued`` for its saved cards (``issue_code(email,
    SAVED_CARDS)``, committed), in the flow's language."""
    EmailMessage(
        subject=_("Your Buyflow code for your saved cards: %(code)s", code=issued.code),
        body=render_template("flow/email/saved_cards_code.txt", code=issued.code, shop=shop,
                             minutes=current_app.config["SIGN_IN_CODE_MAX_AGE"] // 60),
        to=[email],
    ).send()


def confirm(flow: FlowState, email: str, code: str) -> tuple[str, list[Card]]:
    """Use up ``email``'s code (CodeRefused when it is not right; the caller commits the
    used code before answering); the card token for this flow and the buyer's saved cards
    that have not expired, the default first (none for an email without a buyer)."""
    used = confirm_code(email, code, SAVED_CARDS)
    buyer = buyer_by_email(email)
    used.buyer_id = buyer.id if buyer else None
    token = dump_card_token(CardAccess(flow.checkout_key, email, buyer.id if buyer else None))
    if buyer is None:
        return token, []
    today = utcnow().date()
    usable = [card for card in buyer.cards if not card.expired(today)]
    return token, sorted(usable, key=lambda card: not card.is_default)


def card_label(card: Card) -> str:
    """How a saved card reads in the list: brand, last 4 and expiry, never more."""
    return _("%(brand)s ending in %(last4)s, expires %(expiry)s", brand=card.brand.title(),
             last4=card.last4, expiry=f"{card.exp_month:02d}/{card.exp_year}")
