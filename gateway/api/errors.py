"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

``code`` is machine-readable (the chaincode's own code when the chaincode refused, otherwise
one of the gateway's codes below); ``details`` carries whatever helps the caller act: failing
fields for a malformed request, the endorsing peers' messages for a Fabric refusal, the
transaction id when a write's outcome is unknown.
"""

from __future__ import annotations

import logging

import flask
import marshmallow as ma
from werkzeug.exceptions import HTTPException

from .db import SchemaOutdated

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the gateway answers with; raised anywhere below a view.

    ``retryable`` marks errors whose request may succeed if sent again unchanged (busy peer,
    conflicting concurrent write): an idempotency key is released for them instead of
    remembering the failure.
    """

    def __init__(self, status: int, code: str, message: str, details=None, *,
                 retryable: bool = False, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details if details is not None else {}
        self.retryable = retryable
        self.headers = headers or {}

    def to_body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "NOT_FOUND"})
    message = ma.fields.String(required=True)
    details = ma.fields.Raw(
        required=True,
        metadata={"description": "Failing fields, Fabric's reasons or the transaction id"},
    )


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


# Gateway codes for plain HTTP errors (unknown route, wrong method, ...), also those that the
# HTTP servers in front of the app answer themselves (nginx, gunicorn; network/proxy.py).
HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
    417: "EXPECTATION_FAILED",
    422: "INVALID_ARGUMENT",
    431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
    500: "INTERNAL",
    502: "GATEWAY_UNREACHABLE",
    503: "UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


def error_body(status: int, message: str, details=None) -> dict:
    """The error shape for a plain HTTP status, with its gateway code."""
    return ApiError(status, HTTP_CODES.get(status, "HTTP_" + str(status)), message,
                    details).to_body()


def error_response(err: ApiError) -> flask.Response:
    response = flask.jsonify(err.to_body())
    response.status_code = err.status
    response.headers.update(err.headers)
    return response


def from_http_exception(exc: HTTPException) -> ApiError:
    """Werkzeug and webargs errors in the common shape.

    webargs puts the failing fields of a 422 in ``exc.data["messages"]`` keyed by location
    (``json``, ``query``, ...); they become ``details`` unchanged.
    """
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    details = data.get("messages") or data.get("errors") or {}
    message = data.get("message") or exc.description or exc.name
    if status == 422 and details:
        message = "The request failed validation; see details for the failing fields."
    headers = dict(data.get("headers") or {})
    allowed = getattr(exc, "valid_methods", None)  # set on 405 only
    if allowed:
        headers["Allow"] = ", ".join(allowed)
    return ApiError(status, HTTP_CODES.get(status, exc.name.upper().replace(" ", "_")),
                    message, details, headers=headers)


def register(app: flask.Flask) -> None:
    """Install the handlers; after flask-smorest's so that ours win."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return error_response(err)

    @app.errorhandler(SchemaOutdated)
    def _schema_outdated(err: SchemaOutdated):
        # A client retries; the operator reads the reasons in the log.
        log.error("%s", err)
        return error_response(ApiError(503, err.code, err.message, {"reasons": err.reasons},
                                       retryable=True, headers={"Retry-After": "1"}))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return error_response(from_http_exception(exc))

    @app.errorhandler(Exception)
    def _bug(exc: Exception):
        # Bad input never lands here; only a defect in the gateway does.
        log.exception("unhandled error on %s %s", flask.request.method, flask.request.path)
        return error_response(ApiError(500, "INTERNAL", "Internal error in the gateway."))
