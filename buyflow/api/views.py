"""API v1 endpoints."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, request, url_for

from ..extensions import csrf, db
from ..models import Order, Refund
from ..payments.base import PaymentError
from ..payments.refunds import RefundRefused, execute_refund, reserve_refund
from ..payments.states import OrderStatus, RefundStatus
from ..sellers.payloads import order_payload, refund_payload
from ..sellers.results import (
    ExpiredResultToken,
    ResultTokenError,
    unverified_seller,
    verify_result,
)
from .auth import authenticated_seller
from .errors import ApiError, api_error_response
from .idempotency import idempotent, remember_resource, resumed_resource
from .openapi import openapi_document

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # authenticated by API key, never by cookie
bp.register_error_handler(ApiError, api_error_response)


def _json_body(allowed: set[str]) -> dict:
    """The request's JSON object, refusing anything else and any unknown field."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("bad_request", "The body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError("unknown_field", f"Unknown field(s): {', '.join(unknown)}.")
    return body


# The largest integer a JSON number holds exactly in every client (an IEEE double).
_MAX_JSON_INTEGER = 2**53


def _integer_field(body: dict, name: str) -> int | None:
    """``body[name]`` as an int, None when absent or null. Any JSON number without a
    fraction is an integer (JSON Schema's rule: 1.0 is 1); ApiError ``invalid_<name>`` for
    anything else (4.5, true, "450", a number beyond 2**53 or not finite)."""
    value = body.get(name)
    if value is None:
        return None
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int or abs(value) > _MAX_JSON_INTEGER:
        raise ApiError(f"invalid_{name}", f"'{name}' must be an integer of at most 2**53.")
    return value


def _sellers_order(order_id: str) -> Order:
    seller = authenticated_seller()
    order = db.session.scalar(db.select(Order).filter_by(public_id=order_id,
                                                         seller_id=seller.id))
    if order is None:  # another seller's order is just as unknown
        raise ApiError("not_found", "No such order.", 404)
    return order


@bp.get("/openapi.json")
def openapi():
    """This API's OpenAPI 3.1 document (public: it holds no secret)."""
    return jsonify(openapi_document(url_for("api_v1.openapi", _external=True)
                                    .removesuffix("/openapi.json")))


@bp.post("/results/verify")
def verify_result_token():
    """Verify a signed result handed to the seller's page, and return the order as it
    stands now (the server-side proof of a purchase)."""
    seller = authenticated_seller()
    token = _json_body({"token"}).get("token")
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


@bp.get("/orders/<order_id>")
def get_order(order_id: str):
    return jsonify(order_payload(_sellers_order(order_id)))


def _query_datetime(name: str) -> datetime | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError("bad_request", f"'{name}' must be an ISO 8601 date or time.") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # just outside years 1 to 9999 in UTC: no order is that old or new
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


@bp.get("/orders")
def list_orders():
    """The seller's orders, newest first, a page at a time (keyset pagination: pass the
    previous page's ``next_cursor`` as ``starting_after``)."""
    seller = authenticated_seller()
    unknown = sorted(set(request.args) - {"limit", "starting_after", "status",
                                          "created_gte", "created_lt"})
    if unknown:
        raise ApiError("unknown_field", f"Unknown parameter(s): {', '.join(unknown)}.")
    try:
        limit = int(request.args.get("limit", 20))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise ApiError("bad_request", "'limit' must be an integer from 1 to 100.")
    query = db.select(Order).filter_by(seller_id=seller.id)
    status = request.args.get("status")
    if status is not None:
        if status not in set(OrderStatus):
            raise ApiError("bad_request", f"'status' must be one of {', '.join(OrderStatus)}.")
        query = query.filter_by(status=status)
    if (since := _query_datetime("created_gte")) is not None:
        query = query.where(Order.created_at >= since)
    if (until := _query_datetime("created_lt")) is not None:
        query = query.where(Order.created_at < until)
    if cursor := request.args.get("starting_after"):  # empty is the first page, as absent
        after = db.session.scalar(db.select(Order.id).filter_by(public_id=cursor,
                                                                 seller_id=seller.id))
        if after is None:
            raise ApiError("bad_request", "'starting_after' is not one of your orders.")
        query = query.where(Order.id < after)
    orders = db.session.scalars(query.order_by(Order.id.desc()).limit(limit + 1)).all()
    page = orders[:limit]
    has_more = len(orders) > limit
    return jsonify(data=[order_payload(o) for o in page], has_more=has_more,
                   next_cursor=page[-1].public_id if has_more else None)


@bp.post("/orders/<order_id>/refunds")
@idempotent
def refund_order(order_id: str):
    """Refund all or part (``amount`` in minor units) of a paid order."""
    order = _sellers_order(order_id)
    body = _json_body({"amount", "reason"})
    amount = _integer_field(body, "amount")
    if amount is not None and amount <= 0:
        raise ApiError("invalid_amount", "'amount' must be a positive integer in minor units.")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 500:
        raise ApiError("bad_request", "'reason' must be a string of at most 500 characters.")
    refund = _resumed_refund(order)
    if refund is None:
        try:
            refund = reserve_refund(order, amount, reason)
        except RefundRefused as exc:
            raise ApiError(exc.code, exc.message,
                           409 if exc.code == "order_not_paid" else 422) from None
        remember_resource(refund.public_id)
        db.session.commit()  # the recovery point: the amount reserved, the key knows it
    try:
        refund = execute_refund(refund)
    except PaymentError as exc:
        status = 503 if exc.code == "provider_unavailable" else 502
        raise ApiError(exc.code, "The payment provider did not refund.", status) from None
    if refund.status == RefundStatus.FAILED:  # a retry finding the refusal recorded
        raise ApiError("refund_failed", "The payment provider did not refund.", 502)
    return jsonify(refund_payload(refund)), 201


def _resumed_refund(order: Order) -> Refund | None:
    """The refund an earlier request with this Idempotency-Key reserved, to drive on
    instead of reserving another; None when there is none, or when it was released (it
    never reached the provider, so it is made anew)."""
    public_id = resumed_resource()
    refund = public_id and db.session.scalar(
        db.select(Refund).filter_by(public_id=public_id, order_id=order.id))
    if not refund or refund.failure_code == "not_at_provider":
        return None
    return refund
