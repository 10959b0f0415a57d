"""Seller authentication for the API: the secret API key as a Bearer token."""

from __future__ import annotations

from flask import request

from ..models import Seller
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
