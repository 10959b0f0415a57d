"""Serves the embed library that selling sites include with one script tag.

The file is built from ``embed-js/`` (``npm run build`` there: ``dist/buyflow.min.js``) and
served at two URLs:

- ``/embed/v1/buyflow.js``: the newest library of API line v1; it moves when Buyflow is
  upgraded, so it is cached for five minutes only;
- ``/embed/<exact version>/buyflow.js`` (e.g. ``/embed/0.2.0/buyflow.js``): this version,
  never changing, cached for a year as immutable; pin it with its Subresource Integrity hash
  (``integrity()``, the ``flask embed sri`` command, or ``/embed/integrity.json``).

``/embed/v1/check?seller=&origin=`` tells a seller's developer whether the flow opens for
that seller on a page at that origin: a page on an origin the seller did not register can
never be told why its flow does not load (the browser refuses to frame the flow there).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    request,
    url_for,
)

from .models import Seller
from .sellers.urls import UrlRefused, normalize_origin

bp = Blueprint("embed", __name__, url_prefix="/embed")

FILE_NAME = "buyflow.min.js"
V1_MAX_AGE = 300
IMMUTABLE = "public, max-age=31536000, immutable"


class EmbedNotBuilt(RuntimeError):
    """The built embed library is missing: the service cannot serve its script tag."""


def library_path(app: Flask) -> Path:
    """The built library file for this app (``EMBED_JS_DIR``/buyflow.min.js)."""
    return Path(app.config["EMBED_JS_DIR"]) / FILE_NAME


def library_version(app: Flask) -> str:
    """The library's exact version: ``version`` of the package.json beside ``EMBED_JS_DIR``
    (or ``EMBED_JS_VERSION`` when set)."""
    if app.config.get("EMBED_JS_VERSION"):
        return app.config["EMBED_JS_VERSION"]
    package = Path(app.config["EMBED_JS_DIR"]).parent / "package.json"
    return json.loads(package.read_text(encoding="utf-8"))["version"]


def integrity(path: Path) -> str:
    """The Subresource Integrity value of the file at ``path``: ``sha384-<base64 digest>``."""
    digest = hashlib.sha384(path.read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


def check_built(app: Flask) -> None:
    """Raise EmbedNotBuilt, saying how to build it, when the library file or its version
    is missing."""
    path = library_path(app)
    if not path.is_file():
        raise EmbedNotBuilt(
            f"The embed library is not built: {path} is missing. Build it with "
            "`cd embed-js && npm ci && npm run build` (scripts/run.sh and scripts/test.sh "
            "do this), or point BUYFLOW_EMBED_JS_DIR at a folder holding buyflow.min.js."
        )
    try:
        library_version(app)
    except (OSError, ValueError, KeyError) as exc:
        raise EmbedNotBuilt(f"The embed library's version is unknown ({exc}): set "
                            "BUYFLOW_EMBED_JS_VERSION, or keep package.json beside its folder.") from exc


def _serve(cache_control: str) -> Response:
    path = library_path(current_app)
    response = Response(path.read_bytes(), mimetype="text/javascript")
    response.headers["Cache-Control"] = cache_control
    # Selling pages load it cross-origin: also under Cross-Origin-Embedder-Policy, and with
    # crossorigin="anonymous", which an integrity attribute needs.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/v1/buyflow.js")
def library_v1():
    """The current v1 library; it may change within v1, so it is cached briefly."""
    return _serve(f"public, max-age={V1_MAX_AGE}")


@bp.get("/<version>/buyflow.js")
def library_exact(version: str):
    """This exact version, immutable; 404 for any version this service does not hold."""
    if version != library_version(current_app):
        abort(404)
    return _serve(IMMUTABLE)


@bp.get("/integrity.json")
def integrity_json():
    """Where the pinned library is and its SRI hash, for sellers' script tags."""
    version = library_version(current_app)
    response = jsonify(
        version=version,
        url=url_for("embed.library_exact", version=version, _external=True),
        integrity=integrity(library_path(current_app)),
        moving_url=url_for("embed.library_v1", _external=True),
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/v1/check")
def check():
    """Whether the buy flow opens for ``seller`` on a page at ``origin``, as the flow
    decides it: ``{"seller", "origin", "allowed", "code", "message", "registered_origins"}``
    (``code``: null, ``unknown_seller`` or ``origin_not_allowed``). 400 ``bad_request``
    when either is missing or the origin is no ``scheme://host[:port]``."""
    seller_id, origin = request.args.get("seller", ""), request.args.get("origin", "")
    try:
        origin = normalize_origin(origin) if seller_id and origin else None
    except UrlRefused:
        origin = None
    if origin is None:
        response = jsonify(error={"code": "bad_request", "message": (
            "Give seller=sel_... and origin=scheme://host[:port], the origin of the page "
            "that opens the flow (location.origin).")})
        response.status_code = 400
    else:
        response = jsonify(_origin_check(seller_id, origin))
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return response


def _origin_check(seller_id: str, origin: str) -> dict:
    seller = Seller.by_public_id(seller_id)
    # The registered origins are no secret: the flow's refusal names them to any browser,
    # in its frame-ancestors.
    answer = {"seller": seller_id, "origin": origin, "allowed": False, "code": None,
              "message": "", "registered_origins": seller.origins if seller else []}
    if seller is None:
        answer.update(code="unknown_seller",
                      message=f"No seller {seller_id} is known to this Buyflow service.")
    elif not seller.allows_origin(origin):
        answer.update(code="origin_not_allowed", message=(
            f"{origin} is not registered for {seller_id}: its buy flow cannot open there "
            "(Buyflow.open() rejects with load_failed). Ask the operator to add it: "
            f"`flask --app wsgi sellers add-origin {seller_id} {origin}`."))
    else:
        answer.update(allowed=True, message=f"The buy flow of {seller_id} opens on {origin}.")
    return answer


def init_app(app: Flask) -> None:
    """Register the blueprint and the ``embed`` CLI; fail now if the library is not built."""
    check_built(app)
    app.register_blueprint(bp)

    embed = click.Group("embed", help="The embed library sellers include.")

    @embed.command("sri")
    @click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
                  help="The public URL of this Buyflow service.")
    def sri(base_url: str) -> None:
        """Print the pinned library's URL, its integrity hash and the script tag."""
        version = library_version(app)
        url = f"{base_url.rstrip('/')}/embed/{version}/buyflow.js"
        value = integrity(library_path(app))
        click.echo(f"url: {url}")
        click.echo(f"integrity: {value}")
        click.echo(f'<script src="{url}" integrity="{value}" crossorigin="anonymous" defer></script>')

    app.cli.add_command(embed)
