"""JSON errors with stable codes, for every API answer that is not a success."""

from flask import jsonify


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def api_error_response(exc: ApiError):
    return jsonify(error={"code": exc.code, "message": exc.message}), exc.status
