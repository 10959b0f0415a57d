"""Pages for signed-in people: buyers (account), sellers' teams (console), operators
(admin)."""

from flask import Blueprint, Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from buyflow import links
from buyflow.flow.messages import buyer_message
from buyflow.web_input import InputRefused

from .account import bp as account_bp
from .admin import bp as admin_bp
from .auth import bp as auth_bp
from .auth.sessions import current_buyer
from .console import bp as console_bp
from .console import template_helpers as console_template_helpers

bp = Blueprint("management", __name__, template_folder="templates",
               static_folder="static", static_url_path="/management/static")

PAGE_BLUEPRINTS = (bp, auth_bp, account_bp, console_bp, admin_bp)


@bp.get("/")
def home():
    return render_template("management/home.html")


def input_refused(exc: HTTPException):
    """Input refused before the view (buyflow.web_input): a 400 or 413 page in the
    person's language."""
    code = exc.error_code if isinstance(exc, InputRefused) else "too_large"
    return render_template("management/refused.html", code=code,
                           message=buyer_message(code)), exc.code


# On the blueprints themselves, as their views are (Flask refuses it once one is
# registered); on the app, these would also catch the API's and the flow's refusals.
for _blueprint in PAGE_BLUEPRINTS:
    _blueprint.register_error_handler(InputRefused, input_refused)
    _blueprint.register_error_handler(413, input_refused)


def no_store(response: Response) -> Response:
    """What a signed-in person sees is theirs alone: no browser cache or proxy keeps any
    page of these blueprints (their static files may be kept)."""
    pages = {blueprint.name for blueprint in PAGE_BLUEPRINTS}
    if request.blueprint in pages and request.endpoint != "management.static":
        if "no-store" not in response.headers.get("Cache-Control", ""):
            response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the management blueprints, say which of their pages buyflow's mails link
    to, and give their templates the signed-in buyer."""
    from .account import receipts  # noqa: F401  (its views are on the account blueprint)
    from .account.labels import labels

    app.register_blueprint(bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(admin_bp)
    links.serve_page(app, links.ORDER_PAGE, "account.order_detail")
    links.serve_page(app, links.RECEIPT_PAGE, "account.receipt")
    app.context_processor(lambda: {"current_buyer": current_buyer, **labels(),
                                   **console_template_helpers()})
    app.register_error_handler(429, too_many_requests)
    app.after_request(no_store)


def too_many_requests(_exc):
    """Rate limits answer in the person's language (429)."""
    return render_template("management/too_many.html"), 429
