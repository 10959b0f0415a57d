"""Our static files under names that say their content, cached by browsers for a year.

Every blueprint with a static folder (the flow's, management's) has its files served
here too, minified (scripts by rjsmin, stylesheets by rcssmin: comments and spaces go,
nothing is renamed) and named by the digest of what is served:
``/assets/flow/flow.3f2a9c1b5d7e.css``. A name's content never changes, so it is
``Cache-Control: public, max-age=31536000, immutable``; a new content is a new name, in the
pages rendered from then on (pages that name assets are never cached). A name this
process does not hold (another release's) is a 404, as an old version of the embed
library is.

Templates name an asset by its blueprint and file, ``asset_url('flow', 'flow.css')``.
A blueprint may declare bundles, ``asset_bundles = {"checkout-stripe.js": ("providers/
stripe.js", "protocol.js", "flow.js")}`` (or a function of its static folder returning
them, called whenever the folder is read): scripts a page loads together, served as one
asset (their minified forms in that order): one request instead of several, and one
compression window over all of them. A template names a bundle as it names a file.
The blueprint's own static URL (``/flow/static/flow.css``) still serves the file as it
is, revalidated on each use (``no-cache``).

The files are read on first use, once per app (in debug mode again whenever one changes).
Flask-Compress compresses them as it does every answer, choosing the encoding; through
its cache (``CompressedAssets``) each digested asset is compressed once per process and
encoding, at that encoding's highest level.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import brotli
import rcssmin
import rjsmin
from flask import Blueprint, Flask, Response, abort, current_app, request, url_for

IMMUTABLE = "public, max-age=31536000, immutable"
# A bundle's name to the files it joins, in order.
Bundles = dict[str, tuple[str, ...]]
DIGEST_LENGTH = 12
_EXTENSION_KEY = "buyflow.static_assets"
_MINIFIERS = {".js": rjsmin.jsmin, ".css": rcssmin.cssmin}
# The media types of the files the app serves. Others are asked of ``mimetypes``, whose
# table of every type (/etc/mime.types, a third of a MiB) then stays in the process.
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png",
                ".svg": "image/svg+xml", ".woff2": "font/woff2", ".json": "application/json"}

bp = Blueprint("assets", __name__, url_prefix="/assets")


@dataclass(frozen=True)
class Asset:
    """One file as served: its digested name (``providers/stripe.<digest>.js``), its
    bytes and their media type."""

    name: str
    body: bytes
    mimetype: str


def media_type(filename: str) -> str:
    """The media type ``filename`` is served as (by its extension)."""
    known = _MEDIA_TYPES.get(PurePosixPath(filename).suffix.lower())
    return known or mimetypes.guess_type(filename)[0] or "application/octet-stream"


def served_form(path: Path) -> bytes:
    """What is served of the file at ``path``: scripts and stylesheets minified, any other
    file as it is."""
    minify = _MINIFIERS.get(path.suffix)
    if minify is None:
        return path.read_bytes()
    return minify(path.read_text(encoding="utf-8")).encode("utf-8")


def digested_name(filename: str, body: bytes) -> str:
    """``filename`` with the digest of ``body`` before its extension:
    ``providers/stripe.js`` → ``providers/stripe.<12 hex digits>.js``."""
    path = PurePosixPath(filename)
    digest = hashlib.sha256(body).hexdigest()[:DIGEST_LENGTH]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def bundled(name: str, parts: list[Asset]) -> Asset:
    """The bundle ``name``: the bodies of ``parts`` one after the other (each script
    ends its statement: a script's last line may lack its semicolon)."""
    body = b";\n".join(part.body for part in parts)
    return Asset(digested_name(name, body), body, parts[0].mimetype)


class Folder:
    """The assets of one static folder, read on first use and again when a file changed
    (``reload``: debug mode), and the bundles of its files (``bundles``: a bundle's name
    to the files it joins, or a function of the folder's path returning them)."""

    def __init__(self, root: Path, reload: bool,
                 bundles: Bundles | Callable[[Path], Bundles] | None = None):
        self.root = root
        self.reload = reload
        self.bundles = bundles or {}
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._by_file: dict[str, Asset] = {}
        self._by_name: dict[str, Asset] = {}

    def _files(self) -> list[Path]:
        return sorted(path for path in self.root.rglob("*") if path.is_file())

    def _current_stamp(self) -> tuple:
        return tuple((str(path), stat.st_mtime_ns, stat.st_size)
                     for path in self._files() for stat in [path.stat()])

    def _load(self) -> None:
        if self._stamp is not None and not self.reload:
            return
        with self._lock:
            stamp = self._current_stamp()
            if stamp == self._stamp:
                return
            by_file, by_name = {}, {}
            for path in self._files():
                filename = path.relative_to(self.root).as_posix()
                body = served_form(path)
                mimetype = media_type(filename)
                asset = Asset(digested_name(filename, body), body, mimetype)
                by_file[filename], by_name[asset.name] = asset, asset
            bundles = self.bundles(self.root) if callable(self.bundles) else self.bundles
            for bundle_name, files in bundles.items():
                missing = [filename for filename in files if filename not in by_file]
                if missing:
                    raise LookupError(f"bundle {bundle_name} of {self.root} names files "
                                      f"it does not hold: {', '.join(missing)}")
                asset = bundled(bundle_name, [by_file[filename] for filename in files])
                by_file[bundle_name], by_name[asset.name] = asset, asset
            self._by_file, self._by_name, self._stamp = by_file, by_name, stamp

    def of_file(self, filename: str) -> Asset:
        """The asset of ``filename`` (relative to the folder); KeyError when there is none."""
        self._load()
        return self._by_file[filename]

    def named(self, name: str) -> Asset | None:
        """The asset whose digested name is ``name``, or None."""
        self._load()
        return self._by_name.get(name)


def _folders(app: Flask) -> dict[str, Folder]:
    return app.extensions[_EXTENSION_KEY]


def _asset_at(path: str) -> Asset | None:
    """The asset that ``path`` (``/assets/<blueprint>/<name>``) serves, or None."""
    prefix = bp.url_prefix + "/"
    if not path.startswith(prefix):
        return None
    blueprint, _, name = path.removeprefix(prefix).partition("/")
    folder = _folders(current_app).get(blueprint)
    return folder.named(name) if folder else None


def asset_url(blueprint: str, filename: str) -> str:
    """The URL of ``filename`` (a file or a bundle) of ``blueprint``'s static folder under
    its digested name."""
    asset = _folders(current_app)[blueprint].of_file(filename)
    return url_for("assets.serve", blueprint=blueprint, name=asset.name)


def preload_links(blueprint: str, assets: list[tuple[str, str]]) -> str:
    """A ``Link`` header preloading ``assets`` of ``blueprint`` (file or bundle, and what
    it is: ``style``, ``script``) under their digested names, so that a browser fetches
    them while the page still arrives."""
    return ", ".join(f"<{asset_url(blueprint, filename)}>; rel=preload; as={kind}"
                     for filename, kind in assets)


@bp.get("/<blueprint>/<path:name>")
def serve(blueprint: str, name: str):
    """The asset ``name`` (digested) of ``blueprint``, cached for a year; 404 for a name
    this process does not hold."""
    asset = _asset_at(request.path)
    if asset is None:
        abort(404)
    response = Response(asset.body, mimetype=asset.mimetype)
    response.headers["Cache-Control"] = IMMUTABLE
    response.set_etag(name)
    return response.make_conditional(request)


def _compressed(body: bytes, encoding: str) -> bytes | None:
    """``body`` compressed as tightly as ``encoding`` can (None for another encoding)."""
    if encoding == "br":
        return brotli.compress(body, quality=11)
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=9, mtime=0)
    return None


class CompressedAssets:
    """Flask-Compress's cache (``COMPRESS_CACHE_BACKEND``, keys ``<encoding>;<path>``):
    for a digested asset, its body compressed once, at the encoding's highest level (it
    never changes: worth the time once); for any other answer nothing, so Flask-Compress
    compresses it at its configured level."""

    def __init__(self):
        self._kept: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        if key not in self._kept:
            encoding, path = key.split(";", 1)
            asset = _asset_at(path)
            body = _compressed(asset.body, encoding) if asset else None
            if body is None:
                return None
            with self._lock:
                self._kept[key] = body
        return self._kept[key]

    def set(self, key: str, value: bytes) -> None:
        """Nothing: what is kept is made by ``get``."""


def compression_key(req) -> str:
    """Flask-Compress's cache key (``COMPRESS_CACHE_KEY``): the request's path."""
    return req.path


def init_app(app: Flask) -> None:
    """Serve the static folder of every blueprint registered so far under digested names,
    and give templates ``asset_url``. Call after the blueprints are registered."""
    app.extensions[_EXTENSION_KEY] = {
        name: Folder(Path(blueprint.static_folder), reload=app.debug,
                     bundles=getattr(blueprint, "asset_bundles", None))
        for name, blueprint in app.blueprints.items() if blueprint.has_static_folder}
    app.register_blueprint(bp)
    app.jinja_env.globals["asset_url"] = asset_url
