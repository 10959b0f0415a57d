import pytest

AUTH = {"Authorization": "Bearer sk_test_northwind"}


@pytest.fixture
def paid_order(product, buy):
    """The public id of a paid 14.50 EUR order of the Northwind seller."""
    answer = buy(product.seller, product)
    assert answer.json["status"] == "paid"
    return answer.json["order"]
