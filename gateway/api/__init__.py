"""carbonlease REST gateway: one per operating org, signing with that org's identity.

``create_app`` builds the Flask application; ``wsgi:app`` serves it under gunicorn
(``gunicorn -c python:gateway.api.gunicorn_config gateway.api.wsgi:app``); ``manage`` is the
credential CLI. Configuration: see ``config``.
"""

from .app import create_app

__all__ = ["create_app"]
