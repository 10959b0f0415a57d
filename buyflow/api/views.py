"""API v1 endpoints. Each is declared once with the models of what it takes and answers
(``schemas.py``); ``operations.py`` validates the input, types the answer and writes the
OpenAPI document from the same declarations, so a view only does its work."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from ..audit import record_action, recorded
from ..buyers.identity import buyer_by_email, buyer_for_email, normalized_email
from ..errors import CodedError
from ..extensions import csrf, db
from ..ledger import book
from ..models import LedgerTransaction, Order, Payment, Refund
from .. import refund_requests
from ..payments import offline
from ..payments.base import PaymentError
from ..payments.refunds import RefundRefused, execute_refund, reserve_refund
from ..payments.states import RefundDestination, RefundStatus
from ..sellers import order_search, results
from ..sellers.payloads import (
    credit_transaction_payload,
    order_payload,
    payment_payload,
    refund_payload,
)
from . import schemas
from .auth import api_actor, authenticated_seller
from .errors import ApiError, api_error_response
from .idempotency import remember_resource, resumed_resource
from .operations import Api

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # authenticated by API key, never by cookie
bp.register_error_handler(CodedError, api_error_response)  # ApiError and the domain's

api = Api(bp, title="Buyflow seller API", version="1", description=(
    "Amounts are integers in the currency's minor unit. Errors carry a stable `code`. "
    "POSTs that move money accept an `Idempotency-Key` header. Input holding NUL, a lone "
    "surrogate or (outside JSON strings) a control character is refused with 400 "
    "`invalid_characters`; JSON nested too deep with 400 `json_too_deep`; a body over the "
    "size limit with 413 `too_large`."))


def _order(order: Order) -> schemas.Order:
    """The order as the API answers it: the payload webhooks carry, as its model."""
    return schemas.Order.model_validate(order_payload(order))


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
    return jsonify(api.document(url_for("api_v1.openapi", _external=True)
                                .removesuffix("/openapi.json")))


@api.post("/results/verify", body=schemas.VerifyRequest,
          responses={200: schemas.VerifyResult}, errors=(403,))
def verify_result(body: schemas.VerifyRequest) -> schemas.VerifyResult:
    """Verify a signed result and get the order as it stands now.

    The server-side proof of a purchase: the token the seller's page received, signed
    with one of the seller's signing secrets, for one of its orders.
    """
    seller = authenticated_seller()
    max_age = current_app.config["RESULT_TOKEN_MAX_AGE"]
    try:
        payload = results.verify_result(body.token, seller.signing_secrets, max_age=max_age)
    except results.ExpiredResultToken:
        raise ApiError("expired_token", "The result token has expired.") from None
    except results.ResultTokenError:
        claimed = results.unverified_seller(body.token)
        if claimed and claimed != seller.public_id:
            raise ApiError("foreign_token", "The result token belongs to another seller.",
                           403) from None
        raise ApiError("invalid_token", "The result token is not valid.") from None

    order = db.session.scalar(
        db.select(Order).filter_by(public_id=payload.get("order"), seller_id=seller.id)
    )
    if order is None:  # signed by this seller's secret, yet no such order: never trust it
        raise ApiError("invalid_token", "The result token is not valid.")
    return schemas.VerifyResult(valid=True, order=_order(order))


@api.get("/orders/<order_id>", path=schemas.OrderPath, responses={200: schemas.Order},
         errors=(404,))
def get_order(order_id: str) -> schemas.Order:
    """One of the seller's orders."""
    return _order(_sellers_order(order_id))


@api.get("/orders", query=schemas.OrderListQuery, responses={200: schemas.OrderPage})
def list_orders(query: schemas.OrderListQuery) -> schemas.OrderPage:
    """The seller's orders, newest first, by keyset pages.

    Pass the previous page's ``next_cursor`` as ``starting_after`` for the next one.
    """
    filters = order_search.OrderFilters(status=query.status, created_gte=query.created_gte,
                                        created_lt=query.created_lt)
    try:
        page = order_search.search_orders(authenticated_seller(), filters,
                                          limit=query.limit,
                                          starting_after=query.starting_after)
    except order_search.UnknownCursor as exc:
        raise ApiError("bad_request", exc.message) from None
    return schemas.OrderPage(data=[_order(o) for o in page.orders], has_more=page.has_more,
                             next_cursor=page.next_cursor)


@api.post("/orders/<order_id>/refunds", path=schemas.OrderPath, body=schemas.RefundRequest,
          responses={201: schemas.Refund}, errors=(404, 409, 422, 502, 503),
          idempotent=True)
def refund_order(order_id: str, body: schemas.RefundRequest) -> schemas.Refund:
    """Refund all (no amount) or part of a paid order."""
    order = _sellers_order(order_id)
    refund = _resumed_refund(order)
    if refund is None:
        try:
            refund = reserve_refund(order, body.amount, body.reason,
                                    body.destination or _asked_destination(order))
        except RefundRefused as exc:
            raise ApiError(exc.code, exc.message,
                           409 if exc.code == "order_not_paid" else 422) from None
        remember_resource(refund.public_id)
        record_action("order.refunded", order.public_id, actor=api_actor(),
                      seller=order.seller, reason=body.reason, refund=refund.public_id,
                      amount=refund.amount, currency=refund.currency,
                      destination=refund.destination)
        db.session.commit()  # the recovery point: the amount reserved, the key knows it
    try:
        refund = execute_refund(refund)
    except PaymentError as exc:
        status = 503 if exc.code == "provider_unavailable" else 502
        raise ApiError(exc.code, "The payment provider did not refund.", status) from None
    if refund.status == RefundStatus.FAILED:  # a retry finding the refusal recorded
        raise ApiError("refund_failed", "The payment provider did not refund.", 502)
    return schemas.Refund.model_validate(refund_payload(refund))


def _asked_destination(order: Order) -> str:
    """Where the buyer asked their money back, in the order's open refund request (to
    the card, or as credit with the seller); to its sources when nobody asked."""
    asked = refund_requests.current_request(order)
    return asked.refund_to if asked else RefundDestination.SOURCE


def _resumed_refund(order: Order) -> Refund | None:
    """The refund an earlier request with this Idempotency-Key reserved, to drive on
    instead of reserving another; None when there is none, or when it was released (it
    never reached the provider, so it is made anew)."""
    public_id = resumed_resource()
    refund = public_id and db.session.scalar(
        db.select(Refund).filter_by(public_id=public_id, order_id=order.id))
    if not refund or all(part.failure_code == "not_at_provider" for part in refund.parts):
        return None
    return refund


@api.post("/orders/<order_id>/payments", path=schemas.OrderPath,
          body=schemas.OfflinePaymentRequest, responses={201: schemas.Payment},
          errors=(404, 409, 422), idempotent=True)
def record_offline_payment(order_id: str,
                           body: schemas.OfflinePaymentRequest) -> schemas.Payment:
    """Record a payment made outside Buyflow: a bank transfer, cash, an invoice, by phone.

    For what is due (or, when you allow partial offline payments, less), never more; the
    order is paid once nothing is due. Kept with its reference, who recorded it and when.
    """
    order = _sellers_order(order_id)
    # A retry of a request cut off after it recorded the payment (its Idempotency-Key
    # then holds no answer) answers that payment instead of recording a second one.
    payment = _resumed_payment(order)
    if payment is None:
        payment = offline.record_offline_payment(order, method=body.method, amount=body.amount,
                                                 reference=body.reference,
                                                 recorded_by=str(api_actor()))
        remember_resource(payment.public_id)
        record_action("order.offline_payment_recorded", order.public_id, actor=api_actor(),
                      seller=order.seller, payment=payment.public_id, method=payment.method,
                      amount=payment.amount, currency=payment.currency,
                      reference=payment.reference)
        db.session.commit()
    return schemas.Payment.model_validate(payment_payload(payment))


def _resumed_payment(order: Order) -> Payment | None:
    """The payment of ``order`` an earlier request with this Idempotency-Key recorded."""
    public_id = resumed_resource()
    if public_id is None:
        return None
    return db.session.scalar(db.select(Payment).filter_by(public_id=public_id,
                                                          order_id=order.id))


def _customer_email(email: str) -> str:
    normalized = normalized_email(email)
    if normalized is None:
        raise ApiError("invalid_email", "The path does not name an email address.")
    return normalized


def _credit_key() -> str:
    """The ledger's key for a grant or debit: the request's own Idempotency-Key (required
    by their declaration)."""
    return f"api:{request.headers['Idempotency-Key']}"


@api.get("/customers/<email>/credits", path=schemas.CustomerPath,
         responses={200: schemas.CustomerCredits})
def customer_credits(email: str) -> schemas.CustomerCredits:
    """What a customer holds with you, per unit (none for an email never seen)."""
    seller = authenticated_seller()
    email = _customer_email(email)
    buyer = buyer_by_email(email)
    balances = [b for b in (book.balances_of(buyer) if buyer else []) if b.seller.id == seller.id]
    return schemas.CustomerCredits(email=email, balances=[
        schemas.CreditBalance(unit=b.unit, amount=b.amount) for b in balances])


def _movement(email: str, body: schemas.CreditMovementRequest, move) -> schemas.CreditTransaction:
    seller = authenticated_seller()
    buyer = buyer_for_email(_customer_email(email))
    transaction = move(seller, buyer, body.unit, body.amount, idempotency_key=_credit_key(),
                       reason=body.reason, actor=str(api_actor()))
    action = "credit.granted" if move is book.grant else "credit.debited"
    # A retry after a crash finds the movement the key made, and its entry with it.
    if not recorded(action, transaction.public_id):
        record_action(action, transaction.public_id, actor=api_actor(), seller=seller,
                      buyer=buyer, reason=body.reason, unit=body.unit, amount=body.amount)
    db.session.commit()
    return schemas.CreditTransaction.model_validate(credit_transaction_payload(transaction))


@api.post("/customers/<email>/credits/grants", path=schemas.CustomerPath,
          body=schemas.CreditMovementRequest, responses={201: schemas.CreditTransaction},
          idempotent="required")
def grant_credit(email: str, body: schemas.CreditMovementRequest) -> schemas.CreditTransaction:
    """Give a customer credit (a currency's minor units, or your points), with a reason.

    Spent in your buy flow once they prove their email; needs an Idempotency-Key.
    """
    return _movement(email, body, book.grant)


@api.post("/customers/<email>/credits/debits", path=schemas.CustomerPath,
          body=schemas.CreditMovementRequest, responses={201: schemas.CreditTransaction},
          errors=(409,), idempotent="required")
def debit_credit(email: str, body: schemas.CreditMovementRequest) -> schemas.CreditTransaction:
    """Take credit back from a customer, with a reason; never below zero (409
    insufficient_credit). Needs an Idempotency-Key."""
    return _movement(email, body, book.debit)


@api.get("/customers/<email>/credits/history", path=schemas.CustomerPath,
         query=schemas.CreditHistoryQuery, responses={200: schemas.CreditHistoryPage})
def credit_history(email: str, query: schemas.CreditHistoryQuery) -> schemas.CreditHistoryPage:
    """A customer's credit movements with you, newest first, by keyset pages."""
    seller = authenticated_seller()
    buyer = buyer_by_email(_customer_email(email))
    if buyer is None:
        return schemas.CreditHistoryPage(data=[], has_more=False, next_cursor=None)
    before = None
    if query.starting_after:
        before = db.session.scalar(db.select(LedgerTransaction.id).filter_by(
            public_id=query.starting_after, seller_id=seller.id, buyer_id=buyer.id))
        if before is None:
            raise ApiError("bad_request", "'starting_after' is not one of this customer's.")
    unit = book.valid_unit(query.unit) if query.unit else None
    found = book.history(seller, buyer, unit, before_id=before, limit=query.limit + 1)
    page, has_more = found[:query.limit], len(found) > query.limit
    return schemas.CreditHistoryPage(
        data=[schemas.CreditTransaction.model_validate(credit_transaction_payload(t))
              for t in page],
        has_more=has_more, next_cursor=page[-1].public_id if has_more else None)


@api.get("/refund_requests", query=schemas.RefundRequestListQuery,
         responses={200: schemas.RefundRequestPage})
def list_refund_requests(query: schemas.RefundRequestListQuery) -> schemas.RefundRequestPage:
    """Your buyers' refund requests, newest first (those in ``status`` only, when given).

    Refund the order to close one (its ``refund_to`` says where the buyer wants the money:
    their card or credit with you, the refund's default destination), or decline it.
    """
    page = refund_requests.requests_of_seller(authenticated_seller(), query.status or None,
                                              query.starting_after or None, query.limit)
    return schemas.RefundRequestPage(
        data=[schemas.RefundRequestOut.model_validate(refund_requests.refund_request_payload(r))
              for r in page.requests],
        has_more=page.has_more, next_cursor=page.next_cursor)


@api.post("/refund_requests/<request_id>/decline", path=schemas.RefundRequestPath,
          body=schemas.DeclineRequest, responses={200: schemas.RefundRequestOut},
          errors=(404, 409), idempotent=True)
def decline_refund_request(request_id: str,
                           body: schemas.DeclineRequest) -> schemas.RefundRequestOut:
    """Decline an open refund request, with your reason: mailed to the buyer in their
    language; they may ask again."""
    asked = refund_requests.request_of_seller(authenticated_seller(), request_id)
    refund_requests.decline(asked, body.reason, api_actor())
    db.session.commit()
    return schemas.RefundRequestOut.model_validate(refund_requests.refund_request_payload(asked))
