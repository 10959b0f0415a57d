"""The seller's accent on the flow's page: design tokens for each colour scheme where its
contrast holds, as one small inline style the page's CSP allows by its hash.

flow.css keeps every colour in custom properties (``--accent``, ``--on-accent``...); the
seller's brand changes tokens only, never rules. An accent is checked against the panel
background of each scheme separately: a dark brown reads on our light panel but not on
the dark one, where our own accent stays.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from ..models import Seller
from ..sellers.brand import Accent, usable_accent

# The panel backgrounds of flow.css (--panel), light and dark (tests/flow/test_theme.py
# checks they agree).
LIGHT_PANEL = "#ffffff"
DARK_PANEL = "#1b1c1f"


@dataclass(frozen=True)
class PageTheme:
    """The per-seller tokens of one page: ``css`` for its inline ``<style>`` ("" when
    the seller's accent is used in no scheme), and the CSP source that allows it."""

    css: str

    @property
    def style_source(self) -> str | None:
        """``'sha256-…'`` of ``css`` for the CSP's style-src, or None when there is none."""
        if not self.css:
            return None
        digest = hashlib.sha256(self.css.encode()).digest()
        return f"'sha256-{base64.b64encode(digest).decode()}'"


def _tokens(scheme: str, accent: Accent) -> str:
    return (f"@media (prefers-color-scheme:{scheme}){{:root{{--accent:{accent.colour};"
            f"--on-accent:{accent.on_colour}}}}}")


def page_theme(seller: Seller) -> PageTheme:
    """The seller's accent as tokens, in the light and the dark scheme each when its
    contrast on that scheme's panel meets WCAG AA (``brand.usable_accent``)."""
    rules = [_tokens(scheme, accent) for scheme, panel in (("light", LIGHT_PANEL),
                                                           ("dark", DARK_PANEL))
             if (accent := usable_accent(seller.accent_color, panel))]
    return PageTheme("".join(rules))
