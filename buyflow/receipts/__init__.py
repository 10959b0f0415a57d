"""Receipts: what a paid order's receipt says (``content``), as a PDF (``pdf``), and the
email that brings it to the buyer once the order is paid (``mail``)."""
