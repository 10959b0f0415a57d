"""The buy flow's state, carried by the page in a signed token instead of a cookie.

Browsers block or partition third-party cookies, and the flow runs in a cross-site
iframe; so everything the server must remember between the flow's calls travels in this
token. Knowing the token is also what authorises the calls (it is only ever in the
iframe's own page), which is why the flow's JSON endpoints need no CSRF cookie.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import CodedError
from ..models import Seller
from ..tokens import signed_serializer
from .purchase import Purchase

FLOW_SALT = "buyflow.flow.v1"


class FlowStateError(CodedError):
    """``code``: flow_expired or flow_invalid."""


@dataclass(frozen=True)
class FlowState:
    seller: str  # seller public id
    origin: str  # the seller page's origin, checked against the seller's registered ones
    locale: str
    checkout_key: str  # at most one order per flow (per seller reference, when given)
    purchase: dict  # what is sold, as Purchase.to_dict(), at the prices shown

    @classmethod
    def new(cls, *, seller: Seller, purchase: Purchase, origin: str, locale: str) -> FlowState:
        return cls(seller=seller.public_id, origin=origin, locale=locale,
                   checkout_key=purchase.checkout_key(seller, secrets.token_hex(16)),
                   purchase=purchase.to_dict())

    @property
    def what(self) -> Purchase:
        return Purchase.from_dict(self.purchase)


def _serializer() -> URLSafeTimedSerializer:
    return signed_serializer(FLOW_SALT)


def dump_flow_state(state: FlowState) -> str:
    return _serializer().dumps(vars(state))  # its fields, as they are (no deep copy)


def load_flow_state(token: object) -> FlowState:
    """The state in ``token``; FlowStateError if it was altered, is garbage or too old."""
    if not isinstance(token, str) or not token:
        raise FlowStateError("flow_invalid")
    try:
        data = _serializer().loads(token, max_age=current_app.config["FLOW_TOKEN_MAX_AGE"])
        return FlowState(**data)
    except SignatureExpired:
        raise FlowStateError("flow_expired") from None
    except (BadSignature, TypeError, ValueError):
        raise FlowStateError("flow_invalid") from None
