"""Pages for signed-in people: buyers, sellers and operators. For now the home page."""

from flask import Blueprint, render_template

bp = Blueprint("management", __name__, template_folder="templates")


@bp.get("/")
def home():
    return render_template("management/home.html")
