"""Absolute links to buyers' pages, for the mails the task worker sends.

Buyflow names the pages its mails link to and the values each takes; the part of the
app that serves a page says which of its endpoints that is (``serve_page``, from its
``init_app``), so nothing in buyflow names a management endpoint. The app is composed
in ``buyflow.create_app``, which knows both.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app

_EXTENSION_KEY = "buyflow.links"

ORDER_PAGE = "order"  # takes order_id: an order's page in the buyer's account
RECEIPT_PAGE = "receipt"  # takes order_id: a paid order's receipt


def serve_page(app: Flask, page: str, endpoint: str) -> None:
    """Say that ``endpoint`` of ``app`` serves ``page`` (``ORDER_PAGE``...)."""
    app.extensions.setdefault(_EXTENSION_KEY, {})[page] = endpoint


def page_url(page: str, **values) -> str:
    """The absolute URL of ``page`` with ``values`` at the service's public address
    (``PUBLIC_URL``: a worker has no request to take the host from). LookupError when no
    part of the app serves that page."""
    endpoint = current_app.extensions.get(_EXTENSION_KEY, {}).get(page)
    if endpoint is None:
        raise LookupError(f"no part of the app serves the {page!r} page")
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
