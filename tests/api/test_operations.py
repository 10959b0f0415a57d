"""The declaration layer (buyflow/api/operations.py) on an API of its own: how input is
refused, that a view answers what it declared, and that the document follows."""

import pytest
from flask import Blueprint, Flask
from pydantic import Field

from buyflow.api import schemas
from buyflow.api.errors import ApiError, api_error_response
from buyflow.api.operations import Api


class Grant(schemas.Schema):
    amount: schemas.Amount
    note: str = Field("", max_length=10)


class Credit(schemas.Schema):
    """A customer's credit."""

    email: str
    balance: int


class CustomerPath(schemas.Schema):
    email: str


class History(schemas.Schema):
    limit: int = Field(20, ge=1)
    before: str | None = None


@pytest.fixture
def toy():
    """A Flask app with a small declared API: a grant that answers 201, or 200 when the
    grant was already made; and a view that answers something it did not declare."""
    app = Flask(__name__)
    bp = Blueprint("toy", __name__, url_prefix="/toy")
    bp.register_error_handler(ApiError, api_error_response)
    api = Api(bp, title="Toy", version="1", description="For tests.")

    @api.post("/customers/<email>/grants", path=CustomerPath, body=Grant,
              responses={200: Credit, 201: Credit}, public=True)
    def grant(email: str, body: Grant):
        """Grant credit."""
        return Credit(email=email, balance=body.amount), 200 if body.note == "again" else 201

    @api.get("/customers/<email>/history", path=CustomerPath, query=History,
             responses={200: Credit}, public=True)
    def history(email: str, query: History):
        """Not as declared."""
        return schemas.Error(error=schemas.ErrorDetail(code="x", message="y"))

    app.register_blueprint(bp)
    app.config["TESTING"] = True
    return app, api


@pytest.mark.parametrize("body, code, names", [
    ({"amount": 5, "colour": "red", "note": 7}, "unknown_field", "colour"),
    ({"amount": 4.5, "note": 7}, "invalid_amount", "'amount'"),
    ({"amount": 5, "note": "much too long"}, "bad_request", "'note'"),
    ({"note": ""}, "bad_request", "'amount'"),
    ([5], "bad_request", "JSON object"),
])
def test_input_is_refused_with_a_stable_code_naming_the_field(toy, body, code, names):
    app, _ = toy
    response = app.test_client().post("/toy/customers/a@example.com/grants", json=body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == code and names in response.json["error"]["message"]


def test_a_view_answers_one_of_its_declared_successes(toy):
    app, _ = toy
    client = app.test_client()
    made = client.post("/toy/customers/a@example.com/grants", json={"amount": 5.0})
    again = client.post("/toy/customers/a@example.com/grants", json={"amount": 5, "note": "again"})
    assert (made.status_code, again.status_code) == (201, 200)
    assert made.json == {"email": "a@example.com", "balance": 5}
    with pytest.raises(TypeError, match="not as declared"):
        client.get("/toy/customers/a@example.com/history")


def test_the_document_follows_the_declarations(toy):
    _, api = toy
    document = api.document("http://localhost/toy")
    grant = document["paths"]["/customers/{email}/grants"]["post"]
    assert grant["operationId"] == "grant" and grant["summary"] == "Grant credit."
    assert grant["security"] == []  # public
    assert set(grant["responses"]) == {"200", "201", "400", "413"}
    assert grant["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Grant"}
    history = document["paths"]["/customers/{email}/history"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in history["parameters"]] == [
        ("email", "path", True), ("limit", "query", False), ("before", "query", False)]
    assert history["parameters"][2]["schema"] == {"type": "string"}  # never null
    assert {"Grant", "Credit", "Error"} <= set(document["components"]["schemas"])
    assert "History" not in document["components"]["schemas"]  # its fields are parameters


def test_a_path_model_must_name_the_rules_values():
    api = Api(Blueprint("wrong", __name__), title="Wrong", version="1", description="")

    @api.get("/customers/<email>/credits/<credit_id>", path=CustomerPath,
             responses={200: Credit}, public=True)
    def credit(email: str, credit_id: str):
        """A credit."""

    with pytest.raises(ValueError, match="credit_id"):
        api.document("")
