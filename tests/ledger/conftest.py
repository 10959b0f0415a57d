import pytest

from buyflow.buyers.identity import buyer_for_email
from buyflow.extensions import db


@pytest.fixture
def ann(app_context):
    buyer = buyer_for_email("ann@example.com")
    db.session.commit()
    return buyer
