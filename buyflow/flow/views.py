"""The buy-flow blueprint: the page in the iframe and the JSON calls it makes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    get_template_attribute,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import undefer
from werkzeug.exceptions import HTTPException

from ..buyers.codes import SAVED_CARDS, CodeRefused, issue_code
from ..buyers.identity import buyer_by_email, normalized_email
from ..errors import CodedError
from ..extensions import csrf, db, limiter
from ..ledger import book
from ..i18n import language_choices, long_date, negotiate_locale
from ..models import Seller
from ..models._base import read_outside_transaction
from ..money import Money, format_money
from ..payments import get_provider
from ..payments.base import PaymentError
from ..security import content_security_policy
from ..people.bans import refusal_for_email
from ..sellers.brand import logo_url
from ..sellers.payloads import signed_result
from ..sellers.requests import PurchaseRequestError, verify_purchase_request
from ..sellers.status import refusal_for_seller
from ..static_assets import Bundles, preload_links
from ..web_input import InputRefused
from .checkout import (
    CheckoutError,
    PayOutcome,
    find_product,
    pay_with_saved_card,
    refresh_payment,
    start_checkout,
)
from .messages import PAGE_CODES, buyer_message
from .purchase import Purchase, purchase_of_product, purchase_of_request
from .saved_cards import (
    CardAccess,
    CardAccessError,
    card_label,
    confirm,
    load_card_token,
    send_code,
)
from .state import FlowState, FlowStateError, dump_flow_state, load_flow_state
from .theme import page_theme

bp = Blueprint("flow", __name__, url_prefix="/flow", template_folder="templates",
               static_folder="static")


def checkout_bundles(static: Path) -> Bundles:
    """The checkout page's scripts (static_assets.py), one bundle per card provider adapter
    in ``providers/``: the adapter, then the page protocol, then the flow that uses both."""
    return {f"checkout-{adapter.stem}.js": (f"providers/{adapter.name}", "protocol.js",
                                            "flow.js")
            for adapter in sorted((static / "providers").glob("*.js"))}


bp.asset_bundles = checkout_bundles
# The flow's calls are authorised by the signed flow token in their body, not by a
# cookie (third-party cookies are blocked in the iframe); see state.py.
csrf.exempt(bp)


def _flow_csp(frame_ancestors, style_source: str | None = None) -> str:
    """The flow page's CSP: framed by ``frame_ancestors``, the provider's sources, and
    the page's one inline style by its hash when it has one."""
    provider = get_provider().browser_config()
    return content_security_policy(
        frame_ancestors=frame_ancestors,
        script_src=provider["script_src"],
        connect_src=provider["connect_src"],
        frame_src=provider["frame_src"],
        style_src=[style_source] if style_source else [],
    )


def _error_page(code: str, status: int, frame_ancestors=(), parent_origin=None) -> Response:
    """A localized error page. Given a ``parent_origin`` already checked against the
    seller's registered origins, the page also tells the embed library the flow failed."""
    message = buyer_message(code)
    page_data = {"parentOrigin": parent_origin, "code": code, "message": message}
    response = Response(
        render_template("flow/error.html", message=message, code=code, page_data=page_data),
        status=status,
    )
    response.headers["Content-Security-Policy"] = content_security_policy(
        frame_ancestors=frame_ancestors
    )
    return response


def _purchase_asked(seller: Seller, args) -> tuple[Purchase, str]:
    """What the flow sells, and a description to show: the seller's signed ``request``
    when there is one, else the catalog ``product``. CheckoutError when neither is good."""
    if token := args.get("request"):
        try:
            request_ = verify_purchase_request(
                token, seller.signing_secrets,
                max_age=current_app.config["PURCHASE_REQUEST_MAX_AGE"])
            return purchase_of_request(request_, seller), ""
        except PurchaseRequestError as exc:
            raise CheckoutError(exc.code, exc.http_status) from None
    product = find_product(seller, args.get("product", ""))
    return purchase_of_product(product), product.description


@bp.route("/", methods=["GET", "POST"])
def open_flow():
    """The first page of the flow, for ``seller``'s ``product`` or signed ``request``,
    opened by ``origin``.

    The embed library GETs it; the language menu POSTs the same parameters with another
    ``locale`` and the email typed so far (a POST keeps the email out of URLs and logs).
    Nothing is written either way: the order is made only when the buyer pays.
    """
    args = request.values
    read_outside_transaction()  # it writes nothing (see above)
    seller = Seller.by_public_id(args.get("seller", ""))
    g.locale = negotiate_locale(args.get("locale"), seller.default_locale if seller else None)
    if seller is None:
        current_app.logger.warning("buy flow refused: no seller %r", args.get("seller", ""))
        return _error_page("unknown_seller", 404)
    origin = args.get("origin", "")
    if not seller.allows_origin(origin):
        # The page cannot be told (the browser refuses to show us in a frame of an origin
        # the seller did not register): its flow ends in load_failed. Say why here.
        current_app.logger.warning(
            "buy flow refused: origin %r is not registered for seller %s (registered: %s)",
            origin, seller.public_id, ", ".join(seller.origins))
        return _error_page("origin_not_allowed", 403, seller.origins)
    if closed := refusal_for_seller(seller):  # suspended, or not approved yet
        current_app.logger.info("buy flow refused: seller %s is %s", seller.public_id,
                                seller.status)
        return _error_page(closed, 403, seller.origins, parent_origin=origin)
    try:
        purchase, description = _purchase_asked(seller, args)
    except CheckoutError as exc:
        return _error_page(exc.code, exc.http_status, seller.origins, parent_origin=origin)

    flow = FlowState.new(seller=seller, purchase=purchase, origin=origin, locale=g.locale)
    provider = get_provider().browser_config()
    page_data = {
        "flow": dump_flow_state(flow),
        "parentOrigin": origin,
        "locale": g.locale,
        # The adapter's config; the origins the CSP allows stay in the CSP.
        "provider": {name: value for name, value in provider.items() if name not in _CSP_KEYS},
        # The buyer just chose this language (the menu posts the page back): the menu
        # keeps the focus, so a keyboard user goes on from where they were.
        "languageChosen": request.method == "POST",
        "urls": {
            "checkout": url_for("flow.checkout"),
            "refresh": url_for("flow.refresh"),
            "savedCardsCode": url_for("flow.saved_cards_code"),
            "savedCardsConfirm": url_for("flow.saved_cards_confirm"),
            "paySaved": url_for("flow.pay_saved"),
        },
        "bankWaitSeconds": current_app.config["BANK_CONFIRMATION_WAIT_SECONDS"],
        **_page_texts(),
    }
    theme = page_theme(seller)
    response = Response(render_template(
        "flow/checkout.html", seller=seller, purchase=purchase, description=description,
        logo=logo_url(seller), theme_css=theme.css, provider_name=provider["display_name"],
        lines=[(line, format_money(amount, g.locale)) for line, amount in purchase.line_prices()],
        price=format_money(purchase.total, g.locale), page_data=page_data,
        language_options=_language_options(),
        email=purchase.email or request.form.get("email", "")[:320],
        flow_params={name: value for name, value in args.items()
                     if name not in ("locale", "email")},
    ))
    response.headers["Content-Security-Policy"] = _flow_csp(seller.origins, theme.style_source)
    response.headers["Cache-Control"] = "no-store"
    # The browser asks for the page's stylesheet and script as the answer arrives, not
    # once it has read their tags (checkout.html and flow/base.html name the same files).
    response.headers["Link"] = preload_links("flow", [
        ("flow.css", "style"), (f"checkout-{provider['provider']}.js", "script")])
    return response


# What of the provider's browser_config() is for the page's CSP only.
_CSP_KEYS = ("script_src", "connect_src", "frame_src", "display_name")
_PAGE_TEXTS = "buyflow.flow.page_texts"


def _page_texts() -> dict:
    """The texts the flow page's script shows, in the request's locale: ``messages`` (by
    code, those it may show without the server's words: ``PAGE_CODES``) and ``text``.
    Rendered once per locale and app, then kept (the catalogs do not change while the app
    runs)."""
    kept = current_app.extensions.setdefault(_PAGE_TEXTS, {})
    locale = str(get_locale())
    if locale not in kept:
        kept[locale] = {
            "messages": {code: buyer_message(code) for code in PAGE_CODES},
            "text": {
                "processing": _("Processing your payment…"),
                "authenticating": _("Waiting for your bank to confirm…"),
                "title": _("Checkout"),
                "close": _("Close"),
                "cardsShown": _(
                    "Your saved cards are shown. Choose one, or pay with a new card."),
                "noCards": _(
                    "You have no saved cards yet. You can save the card you pay with."),
            },
        }
    return kept[locale]


_LANGUAGE_OPTIONS = "buyflow.flow.language_options"


@dataclass(frozen=True)
class _LanguageOptions:
    own: Markup  # the page's language, selected: the menu shows it alone at first
    every: Markup  # every shipped language, the page's selected (flow.js moves them in)


def _language_options() -> _LanguageOptions:
    """The language menu's options for the request's locale (``g.locale``), rendered
    once per locale and app, then kept: they depend on nothing else."""
    kept = current_app.extensions.setdefault(_LANGUAGE_OPTIONS, {})
    locale = g.locale
    if locale not in kept:
        option = get_template_attribute("flow/_languages.html", "option")
        options = {code: option(code, name, locale) for code, name in language_choices()}
        kept[locale] = _LanguageOptions(own=options.get(locale, Markup()),
                                        every=Markup().join(options.values()))
    return kept[locale]


# A press of Pay with a saved card, named by the page: 16 to 64 URL-safe characters.
_ATTEMPT = re.compile(r"[A-Za-z0-9_-]{16,64}")


class _FlowCallError(CodedError):
    """A flow call refused before it reaches the purchase steps."""

    def __init__(self, code: str, status: int = 400):
        super().__init__(code, code, status)


def _flow_call(*, seller_may_be_closed: bool = False
               ) -> tuple[FlowState, dict, Seller | None]:
    """The call's flow state, body and seller. Refused (403) while the flow's seller is
    not active (suspended since the flow opened, or not approved), unless
    ``seller_may_be_closed``: reading how a payment already made went (the seller is not
    read then: None)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _FlowCallError("bad_request")
    try:
        flow = load_flow_state(body.get("flow"))
    except FlowStateError as exc:
        raise _FlowCallError(exc.code) from None
    g.locale = flow.locale
    seller = None
    if not seller_may_be_closed:
        seller = Seller.by_public_id(flow.seller)
        if seller is not None and (closed := refusal_for_seller(seller)):
            raise _FlowCallError(closed, 403)
    return flow, body, seller


def _error_json(code: str, status: int):
    return jsonify(status="error", error={"code": code, "message": buyer_message(code)}), status


@bp.errorhandler(_FlowCallError)
def _flow_call_error(exc: _FlowCallError):
    return _error_json(exc.code, exc.http_status)


@bp.errorhandler(429)
def _too_many_requests(_exc):
    """Rate limits answer in the flow's language, as the flow's other errors do."""
    try:
        _flow_call()
    except _FlowCallError:
        pass
    return _error_json("too_many_requests", 429)


@bp.errorhandler(InputRefused)
@bp.errorhandler(413)
def _input_refused(exc: HTTPException):
    """Input refused before the view (buyflow.web_input): the page shows its error page,
    the calls answer in JSON, both in the buyer's language."""
    code = exc.error_code if isinstance(exc, InputRefused) else "too_large"
    if request.endpoint == "flow.open_flow":
        return _error_page(code, exc.code)
    return _error_json(code, exc.code)


@bp.errorhandler(CheckoutError)
def _checkout_error(exc: CheckoutError):
    return _error_json(exc.code, exc.http_status)


@bp.errorhandler(PaymentError)
def _payment_error(exc: PaymentError):
    status = 503 if exc.code == "provider_unavailable" else 402
    return _error_json(exc.code, status)


def _string_field(body: dict, name: str, max_length: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise _FlowCallError("bad_request")
    return value


def _flow_email(flow: FlowState, body: dict) -> str:
    """The email the flow is for: the seller's fixed one, else the one typed (normalized);
    ``invalid_email`` when it is not an email."""
    try:
        email = normalized_email(flow.what.email or _string_field(body, "email", 320))
    except _FlowCallError:
        email = None
    if email is None:
        raise _FlowCallError("invalid_email")
    return email


def _card_access(flow: FlowState, body: dict) -> CardAccess:
    try:
        return load_card_token(body.get("card_token"), flow)
    except CardAccessError as exc:
        raise _FlowCallError(exc.code, 403) from None


@bp.post("/api/checkout")
def checkout():
    """Open the order for the buyer's email, with ``credit`` (minor units, shown after a
    confirmed code: ``card_token``) reserved from their balance, and the card attempt the
    browser confirms with the card entered, for what is left to pay (``save: true`` with
    the card token: keep the card once it paid); when the credit pays it all, the order is
    paid at once."""
    flow, body, seller = _flow_call()
    credit = _credit_field(body)
    keep = body.get("save") is True
    access = _card_access(flow, body) if credit or keep else None
    outcome = start_checkout(flow, _flow_email(flow, body), credit,
                             credit_for=access if credit else None,
                             keep_card_for=access if keep else None, seller=seller)
    if outcome.status != "created":  # paid by credit, at the bank's page, failed...
        return _outcome_json(outcome)
    order, payment = outcome.order, outcome.payment
    return jsonify(status="pending", order=order.public_id, payment=payment.public_id,
                   client_secret=outcome.client_secret,
                   due=format_money(Money(payment.amount, order.currency), g.locale))


def _credit_field(body: dict) -> int:
    credit = body.get("credit", 0)
    if type(credit) is not int or not 0 <= credit <= 2**53:
        raise _FlowCallError("bad_request")
    return credit


def _email_asking_for_a_code() -> str:
    try:
        flow, body, _seller = _flow_call()
        return f"saved-cards:{_flow_email(flow, body)}"
    except _FlowCallError:
        return request.remote_addr or ""


@bp.post("/api/saved-cards/code")
@limiter.limit(lambda: current_app.config["SAVED_CARDS_LIMIT_PER_IP"])
@limiter.limit(lambda: current_app.config["SAVED_CARDS_LIMIT_PER_EMAIL"],
               key_func=_email_asking_for_a_code)
def saved_cards_code():
    """Mail the flow's email a one-time code that shows its saved cards. The answer is
    the same whether or not the email has an account or cards; a banned email gets no
    code (``email_refused``, as its checkout would)."""
    flow, body, seller = _flow_call()
    email = _flow_email(flow, body)
    if refusal_for_email(email):
        raise CheckoutError("email_refused", 403)
    issued = issue_code(email, SAVED_CARDS)
    db.session.commit()  # the code, before it is mailed
    send_code(email, issued, seller.name)
    return jsonify(status="sent", message=_(
        "We sent a code to %(email)s. Enter it to see your saved cards.", email=email))


@bp.post("/api/saved-cards/confirm")
@limiter.limit(lambda: current_app.config["SAVED_CARDS_LIMIT_PER_IP"])
def saved_cards_confirm():
    """Take the code mailed to the flow's email: the card token and the saved cards."""
    flow, body, _seller = _flow_call()
    email = _flow_email(flow, body)
    code = body.get("code")
    if not isinstance(code, str) or len(code) > 20:
        raise _FlowCallError("wrong_code")
    try:
        token, cards = confirm(flow, email, code)
    except CodeRefused as exc:
        raise _FlowCallError(exc.code, 429 if exc.code == "too_many_attempts" else 400) from None
    answer = jsonify(status="confirmed", email=email, card_token=token, cards=[
        {"id": card.public_id, "label": card_label(card), "brand": card.brand,
         "last4": card.last4, "exp_month": card.exp_month, "exp_year": card.exp_year,
         "default": card.is_default}
        for card in cards], credit=_credit_offer(flow, email))
    db.session.commit()  # the code is used up before the card token goes out
    return answer


def _credit_offer(flow: FlowState, email: str) -> dict:
    """What of the buyer's credit with the seller can pay this order (in its currency):
    ``usable`` minor units, whether that ``covers`` it all, and the choice's label."""
    purchase = flow.what
    buyer = buyer_by_email(email)
    seller = Seller.by_public_id(flow.seller)
    available = book.balance(seller, buyer, purchase.currency) if buyer else 0
    usable = min(available, purchase.total.amount)
    covers = usable == purchase.total.amount
    money = {"amount": format_money(Money(usable, purchase.currency), g.locale),
             "available": format_money(Money(available, purchase.currency), g.locale)}
    label = (_("Pay it all with my credit with this shop (%(available)s)", **money) if covers
             else _("Pay %(amount)s of it with my credit with this shop", **money))
    return {"usable": usable, "covers": covers, "label": label}


@bp.post("/api/pay-saved")
def pay_saved():
    """Charge a saved card, shown after the code, for this flow's order. ``attempt`` names
    this press of Pay (see ``checkout.pay_with_saved_card``)."""
    flow, body, _seller = _flow_call()
    access = _card_access(flow, body)
    attempt = _string_field(body, "attempt", 64)
    if not _ATTEMPT.fullmatch(attempt):
        raise _FlowCallError("bad_request")
    answer = _outcome_json(pay_with_saved_card(flow, access, _string_field(body, "card", 40),
                                               attempt, _credit_field(body)))
    db.session.commit()  # a card the buyer asked to keep, kept once it paid
    return answer


@bp.post("/api/refresh")
def refresh():
    """Where the payment stands now (after 3-D Secure, or while it is processing); also
    once the seller is suspended, as the buyer may have paid already."""
    flow, body, _seller = _flow_call(seller_may_be_closed=True)
    answer = _outcome_json(refresh_payment(flow, _string_field(body, "payment", 40)))
    db.session.commit()  # a card the buyer asked to keep, kept once it paid
    return answer


def _outcome_json(outcome: PayOutcome):
    order, payment = outcome.order, outcome.payment
    status = outcome.status
    if status == "paid":
        receipt = _("%(amount)s paid on %(date)s.", amount=format_money(order.total, g.locale),
                    date=long_date(order.paid_at, g.locale))
        return jsonify(status="paid", order=order.public_id, result=signed_result(order),
                       receipt=receipt, receipt_to=_("Your receipt is on its way to %(email)s.",
                                                     email=order.buyer_email))
    if status == "requires_action":
        return jsonify(status="requires_action", order=order.public_id,
                       payment=payment.public_id, client_secret=outcome.client_secret)
    if status in ("failed", "canceled"):
        code = payment.failure_code or "processing_error"
        return jsonify(status="failed", order=order.public_id, payment=payment.public_id,
                       error={"code": code, "message": buyer_message(code)}), 402
    return jsonify(status="processing", order=order.public_id,
                   payment=payment.public_id if payment else None)


@bp.get("/brand/<seller_id>/logo/<digest>")
def seller_logo(seller_id: str, digest: str):
    """The seller's logo, from our origin so the flow's CSP needs no other image source.
    Its URL names the image's digest, so it is cached for a year; an old URL is a 404."""
    seller = db.session.scalar(db.select(Seller).filter_by(public_id=seller_id)
                               .options(undefer(Seller.logo_image)))
    if seller is None or not seller.logo_digest or seller.logo_digest != digest:
        return Response(status=404)
    response = Response(seller.logo_image, mimetype=seller.logo_type)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
