"""Security headers on every answer of the app that does not set its own.

The JSON API is read by programs, never rendered: nothing it sends may be run, framed or
sniffed into something else (``default-src 'none'``), and an answer given to a credential is
stored by no cache on the way (``Cache-Control: no-store``). Two kinds of page set a policy of
their own: the console (its blueprint's stricter one wins, ``gateway.console``) and the Swagger
UI page at ``/api/v1/docs``, which runs Swagger UI's scripts and styles from where they are
served (this app or the configured URL) and flask-smorest's one inline script, allowed by its
hash only.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

import flask

from .auth import PUBLIC_ENDPOINTS

API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# What nginx and gunicorn send with the errors they answer themselves (network/proxy.py,
# gateway/api/gunicorn_config.py): the request never reached the app, so no route decides.
OWN_ERROR_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": API_CONTENT_SECURITY_POLICY,
                     "Cache-Control": "no-store"}
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def docs_content_security_policy(assets: str, page: bytes) -> str:
    """The Swagger UI page's policy: its assets from ``assets`` (a CSP source), its inline
    scripts by hash, the API description and "Try it out" calls to this origin. Swagger UI
    styles what it draws through the DOM (no style attribute in markup), which CSP allows."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
                      for body in _INLINE_SCRIPT.findall(page))
    return "; ".join([
        "default-src 'none'", f"script-src {assets} {hashes}".rstrip(),
        f"style-src {assets}", f"img-src {assets} data:", "connect-src 'self'",
        "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
    ])


def _source_of(url: str) -> str:
    """A CSP source for the Swagger UI assets' URL: its origin, or 'self' for a path here."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "'self'"


def install(app: flask.Flask, swagger_ui_url: str) -> None:
    """Set the headers after the blueprints' own (Flask runs the app's after_request last),
    never replacing one a blueprint set."""
    assets = _source_of(swagger_ui_url)

    @app.after_request
    def _security_headers(response: flask.Response) -> flask.Response:
        request = flask.request
        if request.endpoint == DOCS_ENDPOINT and response.status_code == 200:
            policy = docs_content_security_policy(assets, response.get_data())
        else:
            policy = API_CONTENT_SECURITY_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/api/") and request.endpoint not in PUBLIC_ENDPOINTS:
            # The answer depends on the credential presented (or says it was refused).
            response.headers["Cache-Control"] = "no-store"
        return response
