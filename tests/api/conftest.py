import re

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.exceptions import MethodNotAllowed, NotFound

from buyflow.api.views import api

AUTH = {"Authorization": "Bearer sk_test_northwind"}
API_PREFIX = "/api/v1"


@pytest.fixture(scope="session")
def openapi():
    return api.document("http://localhost/api/v1")


def documented_operation(app, openapi, path: str, method: str) -> dict | None:
    """The OpenAPI operation documenting ``method path``, or None for no API route."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method)
    except (NotFound, MethodNotAllowed):
        return None
    rule = app.url_map._rules_by_endpoint[endpoint][0].rule
    template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule).removeprefix(API_PREFIX)
    return openapi["paths"][template][method.lower()]


class ContractClient(FlaskClient):
    """A test client that checks every API answer against the OpenAPI document."""

    openapi: dict

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        request = response.request
        if request.path.startswith(API_PREFIX) and request.path != f"{API_PREFIX}/openapi.json":
            operation = documented_operation(self.application, self.openapi, request.path,
                                             request.method)
            if operation is not None:
                responses = operation["responses"]
                status = str(response.status_code)
                assert status in responses, f"{request.method} {request.path}: {status} undocumented"
                schema = responses[status]["content"]["application/json"]["schema"]
                Draft202012Validator({**schema, "components": self.openapi["components"]}
                                     ).validate(response.get_json())
        return response


@pytest.fixture
def client(app, openapi):
    ContractClient.openapi = openapi
    app.test_client_class = ContractClient
    try:
        yield app.test_client()
    finally:
        app.test_client_class = None
