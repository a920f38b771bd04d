"""``gunicorn gateway.api.wsgi:app``: the gateway configured from the environment."""

from . import create_app

app = create_app()
