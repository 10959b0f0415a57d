"""Seller authentication for the API: the secret API key as a Bearer token."""

from __future__ import annotations

from flask import request

from ..extensions import db
from ..models import Seller, SellerApiKey
from ..models.audit import Actor
from ..models.sellers import hash_api_key
from .errors import ApiError


def authenticated_seller() -> Seller:
    """The seller whose secret API key is in the Authorization header; ApiError 401
    otherwise (the same answer for a missing, malformed or unknown key)."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    seller = Seller.by_api_key(key.strip()) if scheme == "Bearer" and key.strip() else None
    if seller is None:
        raise ApiError("unauthorized", "A valid secret API key is required as a Bearer token.",
                       401)
    return seller


def api_actor() -> Actor:
    """Who acts through this request, for the records it writes: its API key (the request
    is authenticated already)."""
    _, _, key = request.headers.get("Authorization", "").partition(" ")
    return Actor.api_key(db.session.scalar(db.select(SellerApiKey).filter_by(
        key_hash=hash_api_key(key.strip()))))
