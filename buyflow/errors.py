"""The base of every error that carries a stable code for the one who asked.

Each area shows it its own way (the API as ``{"error": {"code", "message"}}`` with
``http_status``, the flow and the pages as the localized message for ``code``), so a
domain function raises one of these and never knows who asked.
"""

from __future__ import annotations


class CodedError(Exception):
    """A refusal or failure with a stable ``code`` (switch on it), a ``message`` for
    people (may change), and the HTTP status an API answers it with."""

    http_status = 400

    def __init__(self, code: str, message: str = "", http_status: int | None = None):
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        if http_status is not None:
            self.http_status = http_status
