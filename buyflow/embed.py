"""Serves the embed library that selling sites include with one script tag."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("embed", __name__, url_prefix="/embed")


@bp.get("/v1/buyflow.js")
def library_v1():
    """The current v1 library; it may change within v1, so it is cached briefly."""
    response = send_from_directory(
        Path(current_app.config["EMBED_JS_DIR"]), "buyflow.js",
        mimetype="text/javascript", max_age=300,
    )
    # Selling pages load it cross-origin, also under Cross-Origin-Embedder-Policy.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
