"""Security headers: a strict default for every page, and the framing policy.

Buy-flow pages may be framed by exactly their seller's registered origins; every other
page refuses to be framed. Served over https (config ``HTTPS``), every response also tells
browsers to use https only, for two years, on subdomains too.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, current_app

HSTS = "max-age=63072000; includeSubDomains"


def content_security_policy(
    *,
    frame_ancestors: Iterable[str] = (),
    script_src: Iterable[str] = (),
    connect_src: Iterable[str] = (),
    frame_src: Iterable[str] = (),
    style_src: Iterable[str] = (),
) -> str:
    """A CSP that allows our own origin plus the given sources, and no inline script;
    ``style_src`` may allow an inline style by its hash (``'sha256-…'``)."""
    ancestors = " ".join(frame_ancestors) or "'none'"
    return "; ".join([
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *script_src]),
        "connect-src " + " ".join(["'self'", *connect_src]),
        "frame-src " + (" ".join(frame_src) or "'none'"),
        "img-src 'self' data:",
        "style-src " + " ".join(["'self'", *style_src]),
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
        f"frame-ancestors {ancestors}",
    ])


def _default_headers(response: Response) -> Response:
    if "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = content_security_policy()
        response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config["HTTPS"]:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_default_headers)
