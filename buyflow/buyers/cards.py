"""A buyer's saved cards: kept at the provider, attached to the buyer's customer; we keep
what to show (brand, last 4, expiry) and which one is the default.

Provider calls come first: when one fails, nothing changes here. Each change is written
with its audit entry; the caller commits them together.
"""

from __future__ import annotations

from ..extensions import db
from ..models import Buyer, Card
from ..payments import get_provider
from ..payments.base import SavedCard
from .audit import record_change


def save_card(buyer: Buyer, saved: SavedCard) -> Card:
    """Keep ``saved`` (already attached to the buyer's customer) as one of the buyer's
    cards; the first card becomes the default. Saving the same card again changes
    nothing."""
    existing = db.session.scalar(db.select(Card).filter_by(
        buyer_id=buyer.id, provider_method_ref=saved.method_ref))
    if existing is not None:
        return existing
    card = Card(buyer=buyer, provider=get_provider().name,
                provider_method_ref=saved.method_ref, brand=saved.card.brand,
                last4=saved.card.last4, exp_month=saved.card.exp_month,
                exp_year=saved.card.exp_year, is_default=not buyer.cards)
    db.session.add(card)
    db.session.flush()
    if card.is_default:
        get_provider().set_default_card(buyer.provider_customer_ref, card.provider_method_ref)
    record_change(buyer, "card.added", card.public_id, brand=card.brand, last4=card.last4)
    return card


def find_card(buyer: Buyer, card_id: str) -> Card | None:
    """The buyer's card with public id ``card_id``; None for anyone else's."""
    return db.session.scalar(db.select(Card).filter_by(buyer_id=buyer.id, public_id=card_id))


def make_default(buyer: Buyer, card: Card) -> None:
    """Make ``card`` the one charged by default, at the provider and here."""
    if card.is_default:
        return
    get_provider().set_default_card(buyer.provider_customer_ref, card.provider_method_ref)
    for other in buyer.cards:
        other.is_default = other.id == card.id
    record_change(buyer, "card.made_default", card.public_id)


def remove_card(buyer: Buyer, card: Card) -> None:
    """Detach ``card`` at the provider, then forget it. When it was the default, the
    newest remaining card becomes the default (at the provider first: a card is detached
    only once nothing else is left to fail)."""
    provider = get_provider()
    others = [other for other in buyer.cards if other is not card]
    successor = others[-1] if card.is_default and others else None
    if successor is not None:
        provider.set_default_card(buyer.provider_customer_ref, successor.provider_method_ref)
    provider.detach_card(card.provider_method_ref)
    buyer.cards.remove(card)
    db.session.delete(card)
    record_change(buyer, "card.removed", card.public_id, brand=card.brand, last4=card.last4)
    if successor is not None:
        successor.is_default = True
