"""Pages for signed-in people: buyers now; sellers and operators later."""

from flask import Blueprint, Flask, render_template

from .auth import bp as auth_bp
from .auth.sessions import current_buyer

bp = Blueprint("management", __name__, template_folder="templates",
               static_folder="static", static_url_path="/management/static")


@bp.get("/")
def home():
    return render_template("management/home.html")


def init_app(app: Flask) -> None:
    """Register the management blueprints and give their templates the signed-in buyer."""
    from .account import bp as account_bp
    from .account import receipts  # noqa: F401  (its views are on the account blueprint)
    from .account.labels import labels

    app.register_blueprint(bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.context_processor(lambda: {"current_buyer": current_buyer, **labels()})
    app.register_error_handler(429, too_many_requests)


def too_many_requests(_exc):
    """Rate limits answer in the person's language (429)."""
    return render_template("management/too_many.html"), 429
