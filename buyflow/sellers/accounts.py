"""Creating sellers and managing their origins, keys, secrets and webhook endpoints.

These functions change the session and flush; the CLI command that uses them commits."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import update

from ..errors import CodedError
from ..extensions import db
from ..locks import locked
from ..models import Seller, SellerApiKey, WebhookDelivery, WebhookEndpoint
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


# What a seller's team does in the console's Developers section (these flush too; the
# view commits, with the audit entry of the change).

API_KEY_NAME_MAX = 100


class DeveloperRefused(CodedError):
    """A change to a seller's keys, secrets or endpoints that cannot be made: ``code``
    says why (``name_required``, ``name_too_long``, ``endpoint_exists``,
    ``secret_changed``, ``nothing_to_retire``)."""

    http_status = 409


def secret_fingerprint(secret: str) -> str:
    """A short digest of a secret, to tell which one a form was shown (never the secret)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def issue_named_api_key(seller: Seller, name: str) -> tuple[SellerApiKey, str]:
    """A new active API key named ``name`` for ``seller``: its row and the key itself, to
    be shown once (only its hash is kept). DeveloperRefused for a blank or long name."""
    name = " ".join(name.split())
    if not name:
        raise DeveloperRefused("name_required", "an API key needs a name", 400)
    if len(name) > API_KEY_NAME_MAX:
        raise DeveloperRefused("name_too_long", f"at most {API_KEY_NAME_MAX} characters", 400)
    api_key = seller.issue_api_key()
    key = seller.api_keys[-1]
    key.name = name
    db.session.flush()
    return key, api_key


def revoke_api_key(key: SellerApiKey) -> bool:
    """Revoke ``key`` now, unless it is revoked already; whether this call revoked it (one
    conditional update: two revokes at once revoke it once)."""
    revoked = db.session.execute(
        update(SellerApiKey).where(SellerApiKey.id == key.id, SellerApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(key)
    return bool(revoked)


def rotate_signing_secret_of(seller: Seller, shown_newest: str) -> str:
    """As ``rotate_signing_secret``, for a person who saw the secret with fingerprint
    ``shown_newest`` as the newest: DeveloperRefused ``secret_changed`` when another
    rotation or retirement came first (the person would keep a secret that no longer
    signs). The seller row is locked until the caller's transaction ends."""
    seller = locked(Seller, seller.id)
    if not seller.signing_secrets or secret_fingerprint(seller.signing_secrets[-1]) != shown_newest:
        raise DeveloperRefused("secret_changed", "the signing secrets changed meanwhile")
    return rotate_signing_secret(seller)


def retire_older_signing_secrets(seller: Seller, shown_newest: str) -> int:
    """Keep only the newest signing secret, which must be the one the person saw (the
    fingerprint ``shown_newest``); how many were retired. DeveloperRefused
    ``secret_changed``, or ``nothing_to_retire`` when only one is left."""
    seller = locked(Seller, seller.id)
    if not seller.signing_secrets or secret_fingerprint(seller.signing_secrets[-1]) != shown_newest:
        raise DeveloperRefused("secret_changed", "the signing secrets changed meanwhile")
    if len(seller.signing_secrets) < 2:
        raise DeveloperRefused("nothing_to_retire", "only one signing secret is left")
    return retire_signing_secrets(seller)


def change_origins(seller: Seller, add: Iterable[str] = (),
                   remove: Iterable[str] = ()) -> list[str]:
    """``set_origins`` with the seller row locked first, so two changes at once both
    count (neither is lost to the other's read of the list)."""
    return set_origins(locked(Seller, seller.id), add, remove)


def add_unique_webhook_endpoint(seller: Seller, url: str) -> tuple[WebhookEndpoint, str]:
    """``add_webhook_endpoint``, refusing a URL the seller registered already
    (DeveloperRefused ``endpoint_exists``: its deliveries would go twice); the seller row
    is locked first, so a double submission adds one endpoint."""
    seller = locked(Seller, seller.id)
    url = check_webhook_url(url, allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE_URLS"])
    existing = next((e for e in seller.webhook_endpoints if e.url == url), None)
    if existing is not None:
        raise DeveloperRefused("endpoint_exists", existing.public_id)
    endpoint, secret = add_webhook_endpoint(seller, url)
    db.session.flush()  # its public id
    return endpoint, secret


def disable_webhook_endpoint(endpoint: WebhookEndpoint, reason: str | None = None) -> bool:
    """Stop sending to ``endpoint`` and cancel what waits for it; whether this call
    disabled it (it may be off already). ``reason`` is kept for the team to read."""
    disabled = db.session.execute(
        update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id,
                                      WebhookEndpoint.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason and reason[:200])
        .execution_options(synchronize_session=False)).rowcount
    if disabled:
        db.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                          WebhookDelivery.status == "pending")
            .values(status="canceled", next_attempt_at=None)
            .execution_options(synchronize_session=False))
    db.session.refresh(endpoint)
    return bool(disabled)


def enable_webhook_endpoint(endpoint: WebhookEndpoint) -> bool:
    """Send new events to ``endpoint`` again (what was canceled meanwhile stays canceled:
    replay what is needed); whether this call enabled it."""
    enabled = db.session.execute(
        update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id,
                                      WebhookEndpoint.enabled.is_(False))
        .values(enabled=True, disabled_reason=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(endpoint)
    return bool(enabled)


def rotate_webhook_secret(endpoint: WebhookEndpoint, shown: str, *,
                          grace: timedelta | None = None) -> str:
    """A new secret for ``endpoint``, which signs every delivery from now on; the old one
    signs them too for ``grace`` (``WEBHOOK_SECRET_GRACE_HOURS`` unless given; each
    delivery then carries both signatures), so the receiver may switch meanwhile. The person saw the secret with fingerprint ``shown``
    (DeveloperRefused ``secret_changed`` when another rotation came first). The endpoint
    row is locked until the caller's transaction ends."""
    endpoint = locked(WebhookEndpoint, endpoint.id)
    if secret_fingerprint(endpoint.secret) != shown:
        raise DeveloperRefused("secret_changed", "the endpoint's secret changed meanwhile")
    if grace is None:
        grace = timedelta(hours=current_app.config["WEBHOOK_SECRET_GRACE_HOURS"])
    endpoint.previous_secret = endpoint.secret if grace else None
    endpoint.previous_secret_until = utcnow() + grace if grace else None
    endpoint.secret = WebhookEndpoint.new_secret()
    db.session.flush()
    return endpoint.secret
