"""A seller's brand: the accent colour (used only where its contrast is good enough), the
logo, and the support contact receipts show.

The setters check their input and raise BrandRefused (a ValueError with a message for the
person who typed it) without changing anything; they flush nothing, the caller commits.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

from flask import url_for

from ..buyers.identity import normalized_email
from ..models import Seller

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# Raster formats only: an SVG served from our origin could carry script.
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
MAX_LOGO_BYTES = 256 * 1024
LOGO_SIDES = (16, 2048)  # the smallest and largest width or height, in pixels
MAX_ADDRESS_CHARS = 500
# WCAG 2.2: text on the accent needs 4.5:1 (1.4.3); the accent as a control against
# the page behind it needs 3:1 (1.4.11).
TEXT_CONTRAST = 4.5
CONTROL_CONTRAST = 3.0
TEXT_ON_ACCENT = ("#ffffff", "#111111")


class BrandRefused(ValueError):
    """Brand input that cannot be used; the message says why."""


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a ``#rrggbb`` colour, from 0 (black) to 1 (white)."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours, from 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)),
                             reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@dataclass(frozen=True)
class Accent:
    """An accent colour and the text colour that reads on it."""

    colour: str
    on_colour: str


def usable_accent(colour: str | None, background: str) -> Accent | None:
    """``colour`` as an accent on a page of ``background``, with the text colour for on
    it, when both contrasts meet WCAG AA; None when it has no colour or fails either."""
    if not colour or not HEX_COLOUR.fullmatch(colour):
        return None
    colour = colour.lower()
    on_colour = max(TEXT_ON_ACCENT, key=lambda text: contrast_ratio(colour, text))
    if (contrast_ratio(colour, on_colour) < TEXT_CONTRAST
            or contrast_ratio(colour, background) < CONTROL_CONTRAST):
        return None
    return Accent(colour, on_colour)


def set_accent(seller: Seller, colour: str | None) -> None:
    """Set (or, given None or "", clear) the seller's accent colour, ``#rrggbb``. A colour
    whose contrast is too low is kept: each page falls back to its own where it fails."""
    colour = (colour or "").strip()
    if colour and not HEX_COLOUR.fullmatch(colour):
        raise BrandRefused(f"{colour!r} is not a colour written #rrggbb")
    seller.accent_color = colour.lower() or None


def set_logo(seller: Seller, image: bytes | None) -> None:
    """Set (or, given None, remove) the seller's logo from a PNG, JPEG or WebP file of
    at most 256 KiB whose sides are 16 to 2,048 pixels."""
    if image is None:
        seller.logo_image = seller.logo_type = seller.logo_digest = None
        return
    if len(image) > MAX_LOGO_BYTES:
        raise BrandRefused(f"the logo is {len(image):,} bytes; at most {MAX_LOGO_BYTES:,}")
    # Pillow only here: setting a logo is rare, and web workers need not load it.
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as picture:
            picture.verify()
            kind, size = picture.format, picture.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise BrandRefused("the logo is not a readable PNG, JPEG or WebP image") from None
    if kind not in LOGO_TYPES:
        raise BrandRefused(f"the logo is {kind}; it must be PNG, JPEG or WebP")
    if not all(LOGO_SIDES[0] <= side <= LOGO_SIDES[1] for side in size):
        raise BrandRefused(f"the logo is {size[0]}×{size[1]} pixels; each side must be "
                           f"{LOGO_SIDES[0]} to {LOGO_SIDES[1]}")
    seller.logo_image = image
    seller.logo_type = LOGO_TYPES[kind]
    seller.logo_digest = hashlib.sha256(image).hexdigest()


def set_support_contact(seller: Seller, *, email: str | None = None,
                        postal_address: str | None = None) -> None:
    """Set the support email and postal address receipts show; "" clears one, None
    leaves it as it is."""
    if email is not None:
        if email.strip() and not (email := normalized_email(email)):
            raise BrandRefused("the support email is not an email address")
        seller.support_email = email.strip() or None
    if postal_address is not None:
        lines = [line.strip() for line in postal_address.replace("\r", "").split("\n")]
        address = "\n".join(line for line in lines if line)
        if len(address) > MAX_ADDRESS_CHARS or "\x00" in address:
            raise BrandRefused(f"the postal address must be text of at most "
                               f"{MAX_ADDRESS_CHARS} characters")
        seller.postal_address = address or None


def logo_url(seller: Seller) -> str | None:
    """Where the seller's logo is served from our origin (cached a year: the URL changes
    with the image), or None when it has none."""
    if not seller.logo_digest:
        return None
    return url_for("flow.seller_logo", seller_id=seller.public_id, digest=seller.logo_digest)
