"""Our static files under digested names, cached for a year, compressed; the pages name
them so (buyflow/static_assets.py)."""

import gzip
import hashlib
import mimetypes
import re

import brotli
import pytest

from buyflow import PROJECT_ROOT
from buyflow.flow.views import checkout_bundles
from buyflow.static_assets import IMMUTABLE, Folder, media_type, served_form
from tests.conftest import SELLER_ORIGIN

FLOW_STATIC = PROJECT_ROOT / "buyflow" / "flow" / "static"
ASSET = re.compile(r'(?:href|src)="(/assets/[^"]+)"')


def flow_page(client, product, **headers):
    response = client.get("/flow/", headers=headers, query_string={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN})
    assert response.status_code == 200
    return response


def decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(response.data)
    if encoding == "gzip":
        return gzip.decompress(response.data)
    assert encoding is None, encoding
    return response.data


def test_the_flow_page_names_its_assets_by_their_content(client, product):
    assets = ASSET.findall(flow_page(client, product).text)
    names = {re.sub(r"\.[0-9a-f]{12}\.", ".", path) for path in assets}
    # One stylesheet and one script: the provider's adapter, the protocol and the flow.
    assert names == {"/assets/flow/flow.css", "/assets/flow/checkout-stripe.js"}
    for path in assets:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        digest = re.search(r"\.([0-9a-f]{12})\.\w+$", path).group(1)
        assert hashlib.sha256(response.data).hexdigest().startswith(digest)


def test_assets_are_served_minified_and_still_work_as_written(client, product):
    css = next(p for p in ASSET.findall(flow_page(client, product).text) if p.endswith(".css"))
    served = client.get(css)
    assert served.mimetype == "text/css"
    source = (FLOW_STATIC / "flow.css").read_text()
    assert len(served.data) < len(source) * 0.8 and b"/*" not in served.data
    # The tokens and rules are all there, without the comments and spaces.
    assert b"--accent:#0b57d0" in served.data and b"@media (prefers-color-scheme:dark)" in served.data


def test_the_management_pages_name_their_stylesheet_by_its_content(client):
    page = client.get("/account/sign-in")
    (stylesheet,) = ASSET.findall(page.text)
    assert re.fullmatch(r"/assets/management/site\.[0-9a-f]{12}\.css", stylesheet)
    assert client.get(stylesheet).headers["Cache-Control"] == IMMUTABLE


def test_a_name_this_release_does_not_hold_is_not_found(client):
    assert client.get("/assets/flow/flow.000000000000.css").status_code == 404
    assert client.get("/assets/nowhere/flow.css").status_code == 404


def test_the_plain_name_still_serves_the_file_revalidated_on_each_use(client):
    response = client.get("/flow/static/flow.css")
    assert response.status_code == 200
    assert response.data == (FLOW_STATIC / "flow.css").read_bytes()
    assert "immutable" not in response.headers["Cache-Control"]
    again = client.get("/flow/static/flow.css",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("accept, encoding", [
    ("gzip, deflate, br, zstd", "br"), ("gzip", "gzip"), ("identity", None), ("", None)])
def test_pages_and_assets_are_compressed_as_the_browser_accepts(client, product, accept,
                                                                encoding):
    page = flow_page(client, product, **{"Accept-Encoding": accept})
    assert page.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in page.headers["Vary"]
    html = decoded(page).decode()
    # Compressed or not, the page stays uncached and keeps its CSP.
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors " + SELLER_ORIGIN in page.headers["Content-Security-Policy"]
    plain = {path: client.get(path).data for path in ASSET.findall(html)}
    for path, body in plain.items():
        asset = client.get(path, headers={"Accept-Encoding": accept})
        assert asset.headers.get("Content-Encoding") == encoding
        assert decoded(asset) == body


def test_a_changed_file_gets_a_new_name_in_debug_mode(tmp_path):
    (tmp_path / "app.js").write_text("var a = 1; // one\n")
    folder = Folder(tmp_path, reload=True)
    first = folder.of_file("app.js")
    assert first.body == b"var a=1;"
    (tmp_path / "app.js").write_text("var a = 2;\n")
    second = folder.of_file("app.js")
    assert second.name != first.name and second.body == b"var a=2;"
    assert folder.named(second.name) == second and folder.named(first.name) is None


def test_the_checkout_bundle_holds_its_scripts_in_order_as_each_is_served(client, product):
    bundle = next(p for p in ASSET.findall(flow_page(client, product).text)
                  if p.endswith(".js"))
    body = client.get(bundle).data
    parts = [served_form(FLOW_STATIC / name)
             for name in ("providers/stripe.js", "protocol.js", "flow.js")]
    assert body == b";\n".join(parts)
    # Each part alone is still served by its own name (other pages load protocol.js).
    for name in ("protocol.js", "flow.js"):
        assert client.get(f"/flow/static/{name}").status_code == 200


def test_a_bundle_gets_a_new_name_when_one_of_its_files_changes(tmp_path):
    (tmp_path / "a.js").write_text("var a = 1\n")
    (tmp_path / "b.js").write_text("var b = 2;\n")
    folder = Folder(tmp_path, reload=True, bundles={"both.js": ("a.js", "b.js")})
    first = folder.of_file("both.js")
    # The first file's last statement has no semicolon: the join still ends it.
    assert first.body == b"var a=1;\nvar b=2;" and first.mimetype == "text/javascript"
    (tmp_path / "b.js").write_text("var b = 3;\n")
    second = folder.of_file("both.js")
    assert second.name != first.name and folder.named(second.name) == second


def test_a_new_card_provider_adapter_gets_its_checkout_bundle_without_an_edit(tmp_path):
    (tmp_path / "providers").mkdir()
    for name in ("protocol.js", "flow.js", "providers/stripe.js"):
        (tmp_path / name).write_text(f"var x = '{name}';\n")
    folder = Folder(tmp_path, reload=True, bundles=checkout_bundles)
    assert folder.of_file("checkout-stripe.js").body.startswith(b"var x='providers/stripe.js'")
    with pytest.raises(KeyError):
        folder.of_file("checkout-acme.js")
    (tmp_path / "providers" / "acme.js").write_text("var x = 'acme';\n")
    assert folder.of_file("checkout-acme.js").body == (
        b"var x='acme';;\nvar x='protocol.js';;\nvar x='flow.js';")


def test_a_bundle_naming_a_file_the_folder_lacks_is_refused_by_name(tmp_path):
    (tmp_path / "a.js").write_text("var a = 1;\n")
    folder = Folder(tmp_path, reload=False, bundles={"both.js": ("a.js", "gone.js")})
    with pytest.raises(LookupError, match="both.js .* gone.js"):
        folder.of_file("a.js")


def test_the_flow_page_asks_the_browser_to_preload_the_assets_it_names(client, product):
    response = flow_page(client, product)
    named = ASSET.findall(response.text)
    preloaded = re.findall(r"<([^>]+)>; rel=preload; as=(\w+)", response.headers["Link"])
    assert sorted(preloaded) == sorted(
        (path, "style" if path.endswith(".css") else "script") for path in named)


@pytest.mark.parametrize("filename", ["flow.js", "flow.css", "logo.png", "mark.svg",
                                      "font.woff2", "data.json", "notes.txt", "blob"])
def test_media_types_are_the_standard_ones(filename):
    assert media_type(filename) == (mimetypes.guess_type(filename)[0]
                                    or "application/octet-stream")
