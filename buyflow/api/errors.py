"""JSON errors with stable codes, for every API answer that is not a success."""

from flask import Flask, jsonify, make_response, request
from werkzeug.exceptions import HTTPException

from ..errors import CodedError
from .schemas import Error, ErrorDetail


class ApiError(CodedError):
    """A refusal of the API's own (the domain's CodedErrors are answered the same way)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(code, message, status)


def api_error_response(exc: CodedError):
    """The answer to ``exc``: ``schemas.Error``, with its status."""
    body = Error(error=ErrorDetail(code=exc.code, message=exc.message))
    return jsonify(body.model_dump(mode="json")), exc.http_status


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
               413: "too_large"}


def init_app(app: Flask) -> None:
    """Under /api/, even errors raised before a view runs (no such route, wrong method,
    input refused by buyflow.web_input) answer in JSON, with the exception's own headers
    (a 405's ``Allow``)."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not request.path.startswith("/api/"):
            return exc
        code = getattr(exc, "error_code", None) or _HTTP_CODES.get(exc.code, "http_error")
        response = make_response(api_error_response(
            ApiError(code, exc.description or exc.name, exc.code)))
        for name, value in exc.get_headers(request.environ):
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
