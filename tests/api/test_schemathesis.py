"""Schemathesis against the OpenAPI document the app serves, in-process (WSGI): every
operation, with valid and with invalid data, through every built-in check that judges an
answer (no server error, documented statuses, content types, response schemas and
headers, valid data accepted, invalid data rejected, auth not ignored), with the seller's
key. (Methods the document lacks, 405 with Allow: tests/api/test_contract.py.)

Valid data is aimed at what exists: the paid order's id where an order is named, its
result token where a token is, a fresh Idempotency-Key per request (as a seller sends).
Invalid data is left as generated.

Each operation and mode is a test of its own, its cases drawn by Hypothesis from the
operation's strategy (schemathesis.pytest.from_fixture, made for fixtures like ours, does
not run under pytest 9.2: it sets the node's private ``_nodeid``)."""

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from buyflow.api.views import api
from buyflow.extensions import db
from buyflow.models import Order
from buyflow.sellers.payloads import signed_result
from tests.api.conftest import AUTH

# Enough to find what the checks look for, few enough to keep the whole file near 30 s.
EXAMPLES = 100

OPERATIONS = [(method.upper(), path)
              for path, operations in api.document("")["paths"].items()
              for method in operations]

# The API key comes with every call: generating requests without it is left to the
# ignored_auth check. A refund the order cannot take (more than is left, a key reused
# with another body) is refused as asked, 422, as the document says: valid data, not
# accepted.
CONFIG = """
[generation]
with-security-parameters = false

[[operations]]
include-operation-id = "refundOrder"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-operation-id = "recordOfflinePayment"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-operation-id = "debitCredit"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-operation-id = "grantCredit"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app,
                                          config=schemathesis.Config.from_str(CONFIG))


def aim_at(case, order_id: str, result_token: str) -> None:
    """Make valid ``case`` name what exists (a customer: the paid order's buyer)."""
    if "order_id" in (case.path_parameters or {}):
        case.path_parameters = {**case.path_parameters, "order_id": order_id}
    if "email" in (case.path_parameters or {}):
        case.path_parameters = {**case.path_parameters, "email": "ann@example.com"}
        if case.query:  # a history cursor names a movement: the first page here
            case.query = {key: value for key, value in case.query.items()
                          if key != "starting_after"}
    elif (case.query or {}).get("starting_after"):  # a cursor names an order, or nothing
        if case.operation.path == "/orders":
            case.query = {**case.query, "starting_after": order_id}
        else:
            case.query = {k: v for k, v in case.query.items() if k != "starting_after"}
    if isinstance(case.body, dict) and "token" in case.body:
        case.body = {**case.body, "token": result_token}
    if "Idempotency-Key" in (case.headers or {}):
        case.headers = {**case.headers, "Idempotency-Key": uuid.uuid4().hex}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_keeps_its_contract(api_schema, paid_order, method, path, mode):
    result_token = signed_result(db.session.scalar(db.select(Order)))

    @given(case=api_schema[path][method].as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        if mode is GenerationMode.POSITIVE:
            aim_at(case, paid_order, result_token)
        case.call_and_validate(headers=AUTH)

    check()
