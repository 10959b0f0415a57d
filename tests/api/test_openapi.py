"""The OpenAPI document: valid, served, and covering every API route."""

from openapi_spec_validator import validate

from buyflow.payments.states import OrderStatus, RefundStatus
from tests.api.conftest import API_PREFIX


def test_the_document_is_valid_openapi_3_1(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "http://localhost/api/v1"}]


def test_every_api_route_is_documented(app, openapi):
    documented = {(path, method.upper()) for path, operations in openapi["paths"].items()
                  for method in operations}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX) and rule.endpoint != "api_v1.openapi":
            path = rule.rule.removeprefix(API_PREFIX).replace("<", "{").replace(">", "}")
            routes |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented


def test_the_contract_check_catches_a_wrong_answer(app, openapi):
    """The check every API test runs through can fail: a made-up field is refused."""
    import pytest
    from jsonschema import Draft202012Validator, ValidationError

    schema = openapi["paths"]["/orders/{order_id}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    with pytest.raises(ValidationError):
        Draft202012Validator({**schema, "components": openapi["components"]}).validate(
            {"id": "ord_1", "surprise": True})


def test_the_document_says_what_the_code_knows(openapi):
    """Made from the models, it follows them: every status an order or refund can have."""
    components = openapi["components"]["schemas"]
    assert components["OrderStatus"]["enum"] == list(OrderStatus)
    assert components["RefundStatus"]["enum"] == list(RefundStatus)
