"""Make localstripe behave as Stripe documents where Buyflow depends on it.

``install()`` patches the localstripe modules loaded in this process (never their files)
and must run before ``localstripe.server.start()``. Afterwards localstripe:

- honours ``Idempotency-Key`` on POST requests as Stripe does. Keys are scoped per API
  key: the secret key of the ``Authorization`` header, or the publishable key the browser
  sends as the ``key`` parameter. The same key with the same request (method, path and
  parsed parameters, so the order of form fields does not matter) answers the first answer
  again, status and body, with ``Idempotent-Replayed: true``. The same key with another
  request is a 400 ``idempotency_error``; a key whose first request is still being handled
  is a 409 ``idempotency_error`` with code ``idempotency_key_in_use``. Every answer but a
  5xx is kept (a 5xx is forgotten so a retry runs again), for
  ``IDEMPOTENCY_KEY_TTL_SECONDS``. ``DELETE /_config/data`` forgets every key along with
  the objects the answers named. Answers to requests carrying a key echo it in an
  ``Idempotency-Key`` header.
- lists PaymentIntents by ``customer``, ``created`` (an integer, or
  ``created[gt|gte|lt|lte]``), ``limit`` and ``starting_after``, newest first; lists
  Refunds by ``charge`` or ``payment_intent`` and ``created``, the same way. The
  ``starting_after`` cursor is the named object's place in that order, so it may name an
  object the other filters leave out; naming no object of that kind is a 400
  (``resource_missing``).
- lets a PaymentIntent be confirmed with a payment method — or the card data to make one,
  as Stripe.js sends it from the browser with the publishable key and the intent's client
  secret — and ``setup_future_usage`` (the card then stays attached to the customer once the
  payment succeeds); its fake Stripe.js gets ``confirmCardPayment`` with a card Element
  (``static/stripe-js-extensions.js``): one PaymentIntent confirmed in the browser, 3-D
  Secure asked once.
- sends ``refund.created`` (the refund) and ``charge.refunded`` (the charge, with the
  refund counted) when a refund is created through the API, through localstripe's own
  webhook scheduling, so registered webhooks receive them signed like the other events.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 60 * 60

_NOT_PARAMETERS = ("key",)  # the publishable key authenticates; it is the scope, not a parameter


def install() -> None:
    """Apply every patch to the localstripe of this process. Call it once, before
    ``localstripe.server.start()``."""
    from localstripe import resources, server

    server.app.middlewares.insert(0, idempotency_middleware(IdempotencyKeys()))
    # After localstripe's error middleware (its UserErrors become answers), before its
    # authentication: the browser confirms a PaymentIntent with the publishable key.
    server.app.middlewares.insert(2, payment_intent_confirmation_middleware())
    server.app.middlewares.insert(0, stripe_js_middleware())
    _let_payment_intents_be_confirmed_with_a_card(resources)
    resources.PaymentIntent._api_list_all = classmethod(_list_payment_intents)
    resources.Refund._api_list_all = classmethod(_list_refunds)
    resources.Refund._api_create = classmethod(_create_refund_and_announce)


# -- Idempotency-Key ------------------------------------------------------------------

@dataclass(frozen=True)
class SavedAnswer:
    """The first answer to a request with an idempotency key, and what that request was."""

    request: tuple
    status: int
    body: bytes
    content_type: str | None
    saved_at: float


class IdempotencyKeys:
    """Idempotency keys per scope (an API key): in flight, or answered and kept for ``ttl``
    seconds of ``clock``. Only one asyncio loop uses it, so it needs no lock."""

    IN_FLIGHT = object()

    def __init__(self, ttl: float = IDEMPOTENCY_KEY_TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._keys: dict[tuple[str, str], Any] = {}

    def claim(self, scope: str, key: str) -> Any:
        """Return what the key holds (``IN_FLIGHT`` or a ``SavedAnswer``); when it holds
        nothing (or only an expired answer), mark it in flight and return None."""
        slot = (scope, key)
        held = self._keys.get(slot)
        if isinstance(held, SavedAnswer) and self.clock() - held.saved_at >= self.ttl:
            held = None
        if held is None:
            self._keys[slot] = self.IN_FLIGHT
        return held

    def save(self, scope: str, key: str, request: tuple, status: int, body: bytes,
             content_type: str | None) -> None:
        """Keep the answer of the claimed key."""
        self._keys[(scope, key)] = SavedAnswer(request, status, body, content_type,
                                               self.clock())

    def release(self, scope: str, key: str) -> None:
        """Forget the claimed key, so the next request with it runs again."""
        self._keys.pop((scope, key), None)

    def clear(self) -> None:
        """Forget every key."""
        self._keys.clear()


def idempotency_middleware(keys: IdempotencyKeys):
    """An aiohttp middleware honouring ``Idempotency-Key`` with ``keys``; it must be the
    outermost one, so that it sees localstripe's error answers as answers."""
    from aiohttp import web

    @web.middleware
    async def middleware(request, handler):
        if request.method == "DELETE" and request.path == "/_config/data":
            keys.clear()
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        scope = _secret_key(request) or await _publishable_key(request)
        if scope is None:  # localstripe answers 401
            return await handler(request)

        held = keys.claim(scope, key)
        if held is IdempotencyKeys.IN_FLIGHT:
            return _idempotency_error(409, key, code="idempotency_key_in_use", message=(
                "There is currently another in-progress request using this idempotent key "
                f"(that probably means you submitted twice, and the other request is still "
                f"going through): {key}. Please try again later."))
        if held is not None:
            if await _request_identity(request) != held.request:
                return _idempotency_error(400, key, message=(
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request."))
            headers = {"Idempotent-Replayed": "true", "Idempotency-Key": key}
            if held.content_type:
                headers["Content-Type"] = held.content_type
            return web.Response(status=held.status, body=held.body, headers=headers)

        try:
            identity = await _request_identity(request)
            try:
                response = await handler(request)
            except web.HTTPException as exception:  # e.g. no such route: an answer too
                _keep(keys, scope, key, identity, exception)
                raise
        except BaseException:
            keys.release(scope, key)
            raise
        _keep(keys, scope, key, identity, response)
        response.headers["Idempotency-Key"] = key
        return response

    return middleware


def _keep(keys: IdempotencyKeys, scope: str, key: str, identity: tuple, response) -> None:
    if response.status >= 500 or not isinstance(response.body, bytes):
        keys.release(scope, key)
    else:
        keys.save(scope, key, identity, response.status, response.body,
                  response.headers.get("Content-Type"))


def _idempotency_error(status: int, key: str, message: str, code: str | None = None):
    from aiohttp import web

    error = {"type": "idempotency_error", "message": message}
    if code:
        error["code"] = code
    return web.json_response({"error": error}, status=status,
                             headers={"Idempotency-Key": key})


def _secret_key(request) -> str | None:
    """The secret key of the Authorization header (Bearer or Basic), if any."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Basic":
        try:
            credentials = base64.b64decode(credentials).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
    elif scheme != "Bearer":
        return None
    return credentials if credentials.startswith("sk_") else None


async def _publishable_key(request) -> str | None:
    """The publishable key the browser sends as the ``key`` parameter, if any."""
    key = (await _parameters(request)).get("key")
    return key if isinstance(key, str) and key.startswith("pk_") else None


async def _parameters(request) -> dict:
    """The request's body parameters (form-encoded or JSON), parsed as localstripe does."""
    from localstripe.server import get_post_data

    data = await get_post_data(request, remove_auth=False)
    return data if isinstance(data, dict) else {}


async def _request_identity(request) -> tuple:
    """What makes two requests the same request: method, path, query and body parameters
    (parsed, so the order of fields does not count)."""
    from localstripe.server import unflatten_data

    body = {name: value for name, value in (await _parameters(request)).items()
            if name not in _NOT_PARAMETERS}
    return request.method, request.path, unflatten_data(request.query), body


# -- list filters ---------------------------------------------------------------------

def _created_conditions(created) -> list[Callable[[Any], bool]]:
    """Conditions on ``created`` as Stripe takes it: an integer, or a dict of gt, gte, lt,
    lte; a 400 for anything else."""
    from localstripe.errors import UserError

    if created is None:
        return []
    if not isinstance(created, dict):
        created = {"eq": created}
    comparisons = {"eq": int.__eq__, "gt": int.__gt__, "gte": int.__ge__,
                   "lt": int.__lt__, "lte": int.__le__}
    conditions = []
    for operator, value in created.items():
        try:
            bound = int(value)
            compare = comparisons[operator]
        except (KeyError, TypeError, ValueError):
            raise UserError(400, f"Invalid created[{operator}]: {value!r}") from None
        conditions.append(lambda obj, compare=compare, bound=bound: compare(obj.created, bound))
    return conditions


def _newest_first(cls, url, conditions, limit, starting_after):
    """A localstripe List of ``cls``'s objects meeting every condition, newest first
    (among objects of the same second, the later made first), from after the object
    ``starting_after`` names."""
    from localstripe import resources
    from localstripe.errors import UserError

    # The store keeps insertion order and sorting is stable: equal seconds stay newest first.
    ordered = sorted(reversed([obj for name, obj in resources.store.items()
                               if name.startswith(cls.object + ":")]),
                     key=lambda obj: obj.created, reverse=True)
    if starting_after is not None:
        position = next((index for index, obj in enumerate(ordered)
                         if obj.id == starting_after), None)
        if position is None:
            raise UserError(400, f"No such {cls.object}: '{starting_after}'",
                            {"code": "resource_missing", "param": "starting_after"})
        ordered = ordered[position + 1:]
    listed = resources.List(url, limit=limit)
    listed._list = [obj for obj in ordered if all(condition(obj) for condition in conditions)]
    return listed


def _list_payment_intents(cls, url, customer=None, created=None, limit=None,
                          starting_after=None, **unexpected):
    """``GET /v1/payment_intents`` with Stripe's filters."""
    from localstripe.errors import UserError

    if unexpected:
        raise UserError(400, "Unexpected " + ", ".join(unexpected))
    conditions = _created_conditions(created)
    if customer is not None:
        conditions.append(lambda intent: intent.customer == customer)
    return _newest_first(cls, url, conditions, limit, starting_after)


def _list_refunds(cls, url, charge=None, payment_intent=None, created=None, limit=None,
                  starting_after=None, **unexpected):
    """``GET /v1/refunds`` with Stripe's filters (localstripe also lists a charge's
    refunds through it)."""
    from localstripe import resources
    from localstripe.errors import UserError

    if unexpected:
        raise UserError(400, "Unexpected " + ", ".join(unexpected))
    if charge is not None and payment_intent is not None:
        raise UserError(400, "Only one of charge and payment_intent may be given")
    conditions = _created_conditions(created)
    if charge is not None:
        resources.Charge._api_retrieve(charge)  # a 404 for no such charge
        conditions.append(lambda refund: refund.charge == charge)
    if payment_intent is not None:
        intent = resources.PaymentIntent._api_retrieve(payment_intent)
        paid_by = intent.latest_charge.id if intent.latest_charge else None
        conditions.append(lambda refund: refund.charge == paid_by)
    return _newest_first(cls, url, conditions, limit, starting_after)


# -- refund events --------------------------------------------------------------------

def _create_refund_and_announce(cls, **data):
    """``POST /v1/refunds``, then the events Stripe sends for it."""
    from localstripe import resources
    from localstripe.webhooks import schedule_webhook

    refund = super(resources.Refund, cls)._api_create(**data)
    schedule_webhook(resources.Event("refund.created", refund))
    schedule_webhook(resources.Event("charge.refunded",
                                     resources.Charge._api_retrieve(refund.charge)))
    return refund


# -- PaymentIntents confirmed in the browser ----------------------------------------------

_CONFIRM = re.compile(r"/v1/payment_intents/\w+/confirm")


def payment_intent_confirmation_middleware():
    """Answer ``POST /v1/payment_intents/<id>/confirm`` with ``_confirm_intent`` (as Stripe
    does; localstripe refuses a payment method there): with the secret key, or with a
    publishable key and the intent's client secret, as Stripe.js sends it."""
    from aiohttp import web
    from localstripe import server
    from localstripe.resources import UserError, store

    @web.middleware
    async def middleware(request, handler):
        if request.method != "POST" or not _CONFIRM.fullmatch(request.path):
            return await handler(request)
        parameters = await _parameters(request)
        if not (_secret_key(request) or (await _publishable_key(request)
                                         and parameters.get("client_secret"))):
            raise UserError(401, "Unauthorized")
        data = await server.get_post_data(request) or {}
        expand = data.pop("expand", None)
        intent = _confirm_intent(request.path.split("/")[3], **data)
        store.dump_to_disk()  # as localstripe does after every write (kept with --keep-in)
        return server.json_response(intent._export(expand=expand))

    return middleware


def stripe_js_middleware():
    """Serve localstripe's fake Stripe.js with our extensions after it."""
    from pathlib import Path

    from aiohttp import web
    import localstripe

    original = Path(localstripe.__file__).with_name("localstripe-v3.js")
    ours = Path(__file__).with_name("static") / "stripe-js-extensions.js"

    @web.middleware
    async def middleware(request, handler):
        if request.method == "GET" and request.path == "/js.stripe.com/v3/":
            return web.Response(text=original.read_text() + "\n" + ours.read_text(),
                                content_type="application/javascript")
        return await handler(request)

    return middleware


def _let_payment_intents_be_confirmed_with_a_card(resources) -> None:
    """Patch localstripe's PaymentIntent so that it takes ``setup_future_usage``: the card
    stays with the customer once the payment succeeds, as on Stripe."""
    PaymentIntent, PaymentMethod = resources.PaymentIntent, resources.PaymentMethod
    created = PaymentIntent.__init__
    succeeded = PaymentIntent._on_success

    def init(self, setup_future_usage=None, **kwargs):
        created(self, **kwargs)
        self.setup_future_usage = setup_future_usage

    def on_success(self):
        if getattr(self, "setup_future_usage", None) and self.customer:
            PaymentMethod._api_retrieve(self.payment_method).customer = self.customer
        succeeded(self)

    PaymentIntent.__init__ = init
    PaymentIntent._on_success = on_success
    # Stripe's declining test cards decline a payment too, not only a card being saved.
    declines = PaymentMethod._charging_is_declined
    PaymentMethod._charging_is_declined = (
        lambda self: declines(self) or self._attaching_is_declined())


def _confirm_intent(id, payment_method=None, payment_method_data=None, client_secret=None,
                    setup_future_usage=None, use_stripe_sdk=None, **kwargs):
    """Confirm PaymentIntent ``id`` as Stripe documents: with a payment method (or the card
    data to make one, from Stripe.js) when it waits for one — after a declined card too —
    then charged, or waiting for 3-D Secure."""
    from localstripe.resources import PaymentIntent, PaymentMethod, UserError

    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    intent = PaymentIntent._api_retrieve(id)
    if client_secret is not None and client_secret != intent.client_secret:
        raise UserError(401, "Unauthorized")
    if payment_method_data is not None:
        if not isinstance(payment_method_data, dict):
            raise UserError(400, "Bad request")
        payment_method = PaymentMethod(**payment_method_data).id
    if payment_method is not None:
        if intent.status != "requires_payment_method":
            raise UserError(400, "You cannot confirm this PaymentIntent because it has a "
                                 f"status of {intent.status}.")
        PaymentMethod._api_retrieve(payment_method)
        intent.payment_method = payment_method
        intent.latest_charge = None  # a new try after a declined card
        intent._authentication_failed = False
    if setup_future_usage is not None:
        intent.setup_future_usage = setup_future_usage
    if intent.status != "requires_confirmation":
        raise UserError(400, "You cannot confirm this PaymentIntent because it has a status "
                             f"of {intent.status}.")
    intent._confirm(on_failure_now=intent._report_failure)
    return intent
