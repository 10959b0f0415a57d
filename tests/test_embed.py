"""Serving the embed library: the moving v1 URL, the immutable exact-version URL, the
integrity hash sellers pin, and the loud failure when the library was not built."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from buyflow import create_app
from buyflow.embed import EmbedNotBuilt, integrity, library_path, library_version

PACKAGE = Path(__file__).resolve().parents[1] / "embed-js" / "package.json"
PACKAGE_VERSION = json.loads(PACKAGE.read_text())["version"]


def expected_integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_version_comes_from_the_package(app):
    assert library_version(app) == PACKAGE_VERSION


def test_v1_serves_the_built_file_briefly_cached_and_loadable_cross_origin(app, client):
    response = client.get("/embed/v1/buyflow.js")
    assert response.status_code == 200
    assert response.data == library_path(app).read_bytes()
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    again = client.get("/embed/v1/buyflow.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_exact_version_is_immutable_and_other_versions_are_not_found(app, client):
    response = client.get(f"/embed/{PACKAGE_VERSION}/buyflow.js")
    assert response.status_code == 200
    assert response.data == library_path(app).read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for version in ("0.0.1", "v2", "latest", PACKAGE_VERSION + ".1"):
        assert client.get(f"/embed/{version}/buyflow.js").status_code == 404


def test_integrity_is_the_sha384_of_the_served_file(app, client, tmp_path):
    served = client.get(f"/embed/{PACKAGE_VERSION}/buyflow.js").data
    assert integrity(library_path(app)) == expected_integrity(served)
    other = tmp_path / "x.js"
    other.write_bytes(b"console.log(1)")
    assert integrity(other) == expected_integrity(b"console.log(1)")


def test_integrity_json_tells_sellers_what_to_pin(app, client):
    answer = client.get("/embed/integrity.json").json
    assert answer == {
        "version": PACKAGE_VERSION,
        "url": f"http://localhost/embed/{PACKAGE_VERSION}/buyflow.js",
        "integrity": expected_integrity(library_path(app).read_bytes()),
        "moving_url": "http://localhost/embed/v1/buyflow.js",
    }


def test_the_sri_command_prints_url_integrity_and_script_tag(app):
    result = app.test_cli_runner().invoke(args=["embed", "sri", "--base-url", "https://pay.example/"])
    assert result.exit_code == 0, result.output
    url = f"https://pay.example/embed/{PACKAGE_VERSION}/buyflow.js"
    value = expected_integrity(library_path(app).read_bytes())
    assert result.output.splitlines() == [
        f"url: {url}",
        f"integrity: {value}",
        f'<script src="{url}" integrity="{value}" crossorigin="anonymous" defer></script>',
    ]


def test_the_app_refuses_to_start_without_the_built_library(tmp_path):
    with pytest.raises(EmbedNotBuilt, match="npm run build"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "EMBED_JS_DIR": str(tmp_path),
                    "SQLALCHEMY_DATABASE_URI": "sqlite://"})
