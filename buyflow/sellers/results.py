"""Signed purchase results: what the buy flow hands the seller's page.

The seller's server verifies a result either offline with ``verify_result`` and its
signing secret (this module needs only itsdangerous, so a seller may copy it) or with
``POST /api/v1/results/verify``. The result on the page is a hint; the server-side
check is the proof.

Example, on the seller's server::

    from buyflow.sellers.results import verify_result, ResultTokenError

    try:
        result = verify_result(token, os.environ["BUYFLOW_SIGNING_SECRET"])
    except ResultTokenError as exc:
        abort(400, str(exc))
    if result["status"] == "paid":
        fulfil(result["order"], result["items"])
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

RESULT_SALT = "buyflow.result.v1"


class ResultTokenError(Exception):
    """The token cannot be trusted."""


class InvalidResultToken(ResultTokenError):
    """Malformed, altered, or signed with another secret."""


class ExpiredResultToken(ResultTokenError):
    """Correctly signed, but older than the accepted age."""


def _serializer(signing_secrets: Sequence[str] | str) -> URLSafeTimedSerializer:
    secrets = [signing_secrets] if isinstance(signing_secrets, str) else list(signing_secrets)
    if not secrets:
        raise ValueError("at least one signing secret is needed")
    # itsdangerous signs with the last secret and accepts any: key rotation.
    return URLSafeTimedSerializer(
        secrets, salt=RESULT_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def sign_result(payload: dict, signing_secrets: Sequence[str] | str) -> str:
    """Sign ``payload`` (a JSON-able dict) with the newest of ``signing_secrets``."""
    return _serializer(signing_secrets).dumps({**payload, "iat": int(time.time())})


def verify_result(token: str, signing_secrets: Sequence[str] | str, max_age: int = 3600) -> dict:
    """Return the result's payload (order, seller, items, amount, currency, status, iat)
    if ``token`` was signed with one of ``signing_secrets`` at most ``max_age`` seconds
    ago; raise ExpiredResultToken or InvalidResultToken otherwise."""
    try:
        payload = _serializer(signing_secrets).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise ExpiredResultToken("the result token has expired") from exc
    except (BadData, TypeError, ValueError) as exc:  # BadData: also a signed payload not JSON
        raise InvalidResultToken("the result token is not valid") from exc
    if not isinstance(payload, dict):
        raise InvalidResultToken("the result token is not valid")
    return payload


def unverified_seller(token: str) -> str | None:
    """The seller a token claims to be for, read without trusting it: only to tell a
    seller "this token is someone else's" instead of a bare "invalid"."""
    try:
        ok, payload = URLSafeTimedSerializer("unused", salt=RESULT_SALT).loads_unsafe(token)
    except Exception:  # noqa: BLE001 - any garbage simply has no claimed seller
        return None
    return payload.get("seller") if isinstance(payload, dict) else None
