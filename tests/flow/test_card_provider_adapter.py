"""Only the card provider's browser adapter (``flow/static/providers/<name>.js``) knows the
provider: the pages load it by the name in ``browser_config()``, and every other script
they serve speaks to ``window.buyflowCardProvider`` only (the checkout page serves the
adapter first in one bundle with its other scripts: the rest of the bundle too)."""

import re
from urllib.parse import urlsplit

from buyflow import PROJECT_ROOT
from buyflow.payments import get_provider
from buyflow.static_assets import served_form
from tests.conftest import SELLER_ORIGIN
# The management pages' sign-in fixtures, for the add-card page.
from tests.management.conftest import ask_code, enter_code, signed_in  # noqa: F401

ADAPTERS = PROJECT_ROOT / "buyflow" / "flow" / "static" / "providers"
SCRIPT_DIRS = [PROJECT_ROOT / "buyflow" / "flow" / "static",
               PROJECT_ROOT / "management" / "static"]
# Every provider we have an adapter for ("stripe", ...), in any case.
PROVIDER_WORDS = re.compile("|".join(path.stem for path in ADAPTERS.glob("*.js")), re.I)


def provider_name(app) -> str:
    with app.app_context():
        return get_provider().browser_config()["provider"]


def own_scripts(client, html: str) -> dict[str, str]:
    """The page's scripts served by us (not the provider's own), path → text."""
    scripts = {}
    for src in re.findall(r'<script[^>]* src="([^"]+)"', html):
        url = urlsplit(src)
        if url.netloc:
            continue
        response = client.get(url.path)
        assert response.status_code == 200, src
        scripts[url.path] = response.text
    return scripts


def assert_only_the_adapter_names_the_provider(client, app, html: str) -> None:
    """The adapter is served (alone, or first in a bundle with the page's other scripts);
    what else the page's scripts hold never names the provider."""
    adapter = served_form(ADAPTERS / f"{provider_name(app)}.js").decode()
    scripts = own_scripts(client, html)
    holding = [path for path, text in scripts.items() if adapter in text]
    assert len(holding) == 1, holding
    named = [path for path, text in scripts.items()
             if PROVIDER_WORDS.search(text.replace(adapter, ""))]
    assert named == []
    # No inline script names it either (the CSP allows none; the page data is JSON).
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>",
                        html, re.S)
    assert [text for text in inline if PROVIDER_WORDS.search(text)] == []


def test_the_flow_page_loads_the_adapter_and_no_other_script_names_the_provider(
        client, app, product):
    response = client.get("/flow/", query_string={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN})
    assert response.status_code == 200
    assert_only_the_adapter_names_the_provider(client, app, response.text)


def test_the_add_card_page_loads_the_adapter_and_no_other_script_names_the_provider(
        client, app, signed_in):  # noqa: F811
    signed_in()
    response = client.get("/account/cards/new")
    assert response.status_code == 200
    assert_only_the_adapter_names_the_provider(client, app, response.text)


def test_no_script_outside_the_adapters_names_a_provider():
    """Also the scripts no page loads yet: a new one must go through the adapter too."""
    named = [str(path.relative_to(PROJECT_ROOT))
             for folder in SCRIPT_DIRS for path in sorted(folder.rglob("*.js"))
             if ADAPTERS not in path.parents and PROVIDER_WORDS.search(path.read_text())]
    assert named == []

