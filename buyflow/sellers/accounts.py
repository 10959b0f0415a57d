"""Creating sellers and managing their origins, keys, secrets and webhook endpoints.

These functions change the session and flush; the CLI command that uses them commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app

from ..extensions import db
from ..models import Seller, WebhookEndpoint
from ..models._base import utcnow
from .urls import check_webhook_url, normalize_origin


@dataclass(frozen=True)
class NewSeller:
    """A created seller with the secrets shown once, never again."""

    seller: Seller
    api_key: str
    signing_secret: str
    webhook: WebhookEndpoint | None
    webhook_secret: str | None


def create_seller(name: str, origins: list[str], default_locale: str = "en",
                  webhook_url: str | None = None) -> NewSeller:
    """Create a seller with one API key and one signing secret (and a webhook endpoint
    when ``webhook_url`` is given). UrlRefused or ValueError for bad input, nothing written."""
    if not name.strip():
        raise ValueError("a seller needs a name")
    if not origins:
        raise ValueError("a seller needs at least one origin")
    seller = Seller(name=name.strip(), origins=sorted({normalize_origin(o) for o in origins}),
                    signing_secrets=[], default_locale=default_locale)
    api_key = seller.issue_api_key()
    signing_secret = seller.add_signing_secret()
    endpoint = webhook_secret = None
    if webhook_url:
        endpoint, webhook_secret = add_webhook_endpoint(seller, webhook_url)
    db.session.add(seller)
    db.session.flush()  # its public id, and its webhook endpoint's
    return NewSeller(seller, api_key, signing_secret, endpoint, webhook_secret)


def rename_seller(seller: Seller, name: str) -> None:
    """Give ``seller`` the name buyers see; ValueError when it is blank or too long."""
    name = name.strip()
    if not name or len(name) > 200 or "\x00" in name:
        raise ValueError("a seller's name is 1 to 200 characters")
    seller.name = name


def add_webhook_endpoint(seller: Seller, url: str) -> tuple[WebhookEndpoint, str]:
    """Register ``url`` for ``seller``'s webhooks; returns the endpoint and its secret.
    """
    url = check_webhook_url(
        url, allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE_URLS"]
    )
    secret = WebhookEndpoint.new_secret()
    endpoint = WebhookEndpoint(url=url, secret=secret, enabled=True)
    seller.webhook_endpoints.append(endpoint)
    return endpoint, secret


def rotate_api_key(seller: Seller, *, revoke_others: bool) -> str:
    """A new API key for ``seller``; the others stay valid unless ``revoke_others``."""
    if revoke_others:
        for key in seller.api_keys:
            key.revoked_at = key.revoked_at or utcnow()
    return seller.issue_api_key()


def rotate_signing_secret(seller: Seller) -> str:
    """A new signing secret that signs from now on; older ones still verify."""
    return seller.add_signing_secret()


def retire_signing_secrets(seller: Seller) -> int:
    """Keep only the newest signing secret; returns how many were retired."""
    retired = len(seller.signing_secrets) - 1
    seller.signing_secrets = seller.signing_secrets[-1:]
    return retired


def set_origins(seller: Seller, add: Iterable[str] = (),
                remove: Iterable[str] = ()) -> list[str]:
    """Register the origins ``add`` for ``seller`` and drop ``remove`` (both normalized);
    returns the origins now registered. UrlRefused for a bad origin, ValueError when none
    would be left; nothing written then."""
    remove = {normalize_origin(o) for o in remove}
    origins = sorted(({*seller.origins} | {normalize_origin(o) for o in add}) - remove)
    if not origins:
        raise ValueError("a seller needs at least one origin")
    seller.origins = origins
    return origins
