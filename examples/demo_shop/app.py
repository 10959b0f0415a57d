"""Northwind Coffee: a small selling site that sells through Buyflow.

It is written the way the README tells a seller to integrate:

1. the page includes ``{BUYFLOW_URL}/embed/v1/buyflow.js`` and calls ``Buyflow.open()``;
2. the page sends the signed result it gets back to this server (``/orders/confirm``);
3. this server checks the result before treating the order as paid.

Run it on its own site, apart from the service (``localhost`` vs ``127.0.0.1``)::

    python -m examples.demo_shop.app --port 5001 --host localhost

Settings come from the ``config`` dict, else the environment: ``BUYFLOW_URL``,
``DEMO_SELLER_ID``, ``DEMO_PRODUCT_ID``, ``DEMO_API_KEY``, ``DEMO_SIGNING_SECRET``,
``DEMO_WEBHOOK_SECRET``. It receives Buyflow's webhooks at ``/buyflow/webhooks``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

try:
    from buyflow.sellers.results import ExpiredResultToken, ResultTokenError, verify_result
except ImportError:  # run as a script from a source checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from buyflow.sellers.results import ExpiredResultToken, ResultTokenError, verify_result

SETTINGS = {
    "BUYFLOW_URL": "http://127.0.0.1:5000",
    "DEMO_SELLER_ID": "",
    "DEMO_PRODUCT_ID": "",
    "DEMO_API_KEY": "",
    "DEMO_SIGNING_SECRET": "",
    "DEMO_WEBHOOK_SECRET": "",
}


class ConfirmationError(Exception):
    """The purchase result could not be confirmed; the message is shown to the buyer."""


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    for key, default in SETTINGS.items():
        app.config[key] = os.environ.get(key, default)
    app.config.update(config or {})
    app.config["BUYFLOW_URL"] = app.config["BUYFLOW_URL"].rstrip("/")

    @app.get("/")
    def index():
        return render_template(
            "index.html",
            buyflow_url=app.config["BUYFLOW_URL"],
            seller_id=app.config["DEMO_SELLER_ID"],
            product_id=app.config["DEMO_PRODUCT_ID"],
        )

    # Webhooks verified and kept in memory, newest last: a real shop would store them
    # (once per webhook-id) and act on them.
    app.extensions["demo_events"] = events = []

    @app.post("/buyflow/webhooks")
    def receive_webhook():
        # Verify the Standard Webhooks signature on the raw body before trusting anything.
        try:
            event = Webhook(app.config["DEMO_WEBHOOK_SECRET"]).verify(
                request.get_data(), dict(request.headers))
        except (WebhookVerificationError, ValueError):
            return jsonify(ok=False), 400
        if all(seen["id"] != request.headers["webhook-id"] for seen in events):
            events.append({"id": request.headers["webhook-id"], "type": event["type"],
                           "order": event["data"].get("order", {}).get("id")})
        return jsonify(ok=True)

    @app.get("/buyflow/events")
    def list_webhooks():
        return jsonify(events)

    @app.post("/orders/confirm")
    def confirm_order():
        # The result the page received is only a hint: anyone can post anything here.
        # The order counts as paid only once both checks below agree.
        body = request.get_json(silent=True)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            return _refuse("No purchase result was sent.")
        try:
            order_id = confirm_purchase(app.config, token)
        except ConfirmationError as exc:
            return _refuse(str(exc))
        # A real shop would now record the order (once per order id) and ship it.
        return jsonify(ok=True, order=order_id, message=f"Thank you — order {order_id} verified")

    @app.after_request
    def security_headers(response):
        # The shop's own strict policy: no inline script or style; only the Buyflow
        # service may supply the embed script and be framed.
        service = _origin(app.config["BUYFLOW_URL"])
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' {service}; frame-src {service}; "
            "style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app


def confirm_purchase(config, token: str) -> str:
    """Check a purchase result twice and return its order id, or raise ConfirmationError."""
    if not (config["DEMO_SIGNING_SECRET"] and config["DEMO_API_KEY"]):
        raise ConfirmationError(
            "The shop is not configured: set DEMO_SIGNING_SECRET and DEMO_API_KEY."
        )

    # 1. Offline: the signature proves Buyflow issued it for us, without a network call.
    try:
        payload = verify_result(token, config["DEMO_SIGNING_SECRET"])
    except ExpiredResultToken as exc:
        raise ConfirmationError("The purchase result has expired.") from exc
    except ResultTokenError as exc:
        raise ConfirmationError("The purchase result is not valid.") from exc

    # 2. Online: Buyflow itself confirms the order's current state (e.g. not refunded since).
    order = call_verify_api(config["BUYFLOW_URL"], config["DEMO_API_KEY"], token)

    if payload.get("order") != order.get("id"):
        raise ConfirmationError("The purchase result and Buyflow disagree about the order.")
    if payload.get("status") != "paid" or order.get("status") != "paid":
        raise ConfirmationError("The order is not paid.")
    return order["id"]


def call_verify_api(buyflow_url: str, api_key: str, token: str, timeout: float = 10) -> dict:
    """POST the token to Buyflow's verify API and return its ``order`` object."""
    req = urllib.request.Request(
        f"{buyflow_url}/api/v1/results/verify",
        data=json.dumps({"token": token}).encode(),
        headers={
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            answer = json.load(resp)
    except urllib.error.HTTPError as exc:
        try:
            error = json.load(exc)["error"]
            detail = f"{error['message']} ({error['code']})"
        except (ValueError, KeyError, TypeError):
            detail = f"HTTP {exc.code}"
        raise ConfirmationError(f"Buyflow did not confirm the purchase: {detail}.") from exc
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise ConfirmationError("Buyflow could not be reached to confirm the purchase.") from exc

    if not isinstance(answer, dict):
        answer = {}
    order = answer.get("order")
    if not (answer.get("valid") is True and isinstance(order, dict) and order.get("id")):
        raise ConfirmationError("Buyflow did not confirm the purchase.")
    return order


def _refuse(message: str):
    return jsonify(ok=False, message=message), 400


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Northwind Coffee demo shop.")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    create_app().run(host=args.host, port=args.port, debug=args.debug)


if __name__ == "__main__":
    main()
