"""The table of console and admin routes: each section's module here lists its routes
(``ROUTES``: endpoint, method, path, the permission it needs); ``test_access_table``
walks every route as every kind of person and checks the answer, and fails for a route
of the console or the admin that no module lists."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    # With {placeholders} from the world (tests/management/access/world.py): {seller},
    # {order}, {product}, {refund_request}, {webhook_endpoint}, {delivery}, {api_key},
    # {member}, {invitation}, {customer}, {person}, {other_seller}, {ban}, {pattern}...
    path: str
    # A Permission's value (buyflow/people/roles.py), "operator" for the admin, or
    # "person" for a page any signed-in person may open (the console's index, sign-up).
    permission: str
    data: tuple = ()  # form fields (name, value) a POST sends beyond its CSRF token


def all_routes() -> list[Route]:
    routes = []
    for info in pkgutil.iter_modules(__path__):
        if info.name != "world":
            routes += importlib.import_module(f"{__name__}.{info.name}").ROUTES
    return routes
