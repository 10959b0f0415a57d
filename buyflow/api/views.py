"""API v1 endpoints."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..extensions import csrf, db
from ..models import Order
from ..sellers.payloads import order_payload
from ..sellers.results import (
    ExpiredResultToken,
    ResultTokenError,
    unverified_seller,
    verify_result,
)
from .auth import authenticated_seller
from .errors import ApiError, api_error_response

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # authenticated by API key, never by cookie
bp.register_error_handler(ApiError, api_error_response)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("bad_request", "The body must be a JSON object.")
    return body


@bp.post("/results/verify")
def verify_result_token():
    """Verify a signed result handed to the seller's page, and return the order as it
    stands now (the server-side proof of a purchase)."""
    seller = authenticated_seller()
    token = _json_body().get("token")
    if not isinstance(token, str) or not token:
        raise ApiError("bad_request", "Field 'token' must be a non-empty string.")
    max_age = current_app.config["RESULT_TOKEN_MAX_AGE"]
    try:
        payload = verify_result(token, seller.signing_secrets, max_age=max_age)
    except ExpiredResultToken:
        raise ApiError("expired_token", "The result token has expired.") from None
    except ResultTokenError:
        claimed = unverified_seller(token)
        if claimed and claimed != seller.public_id:
            raise ApiError("foreign_token", "The result token belongs to another seller.",
                           403) from None
        raise ApiError("invalid_token", "The result token is not valid.") from None

    order = db.session.scalar(
        db.select(Order).filter_by(public_id=payload.get("order"), seller_id=seller.id)
    )
    if order is None:  # signed by this seller's secret, yet no such order: never trust it
        raise ApiError("invalid_token", "The result token is not valid.")
    return jsonify(valid=True, order=order_payload(order))
