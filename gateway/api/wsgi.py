"""``gunicorn gateway.api.wsgi:app``: the gateway configured from the environment."""

import logging

from . import create_app

# The gateway's own plain log lines (read model position, reconnects, Fabric failures) next to
# gunicorn's on stderr.
logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s %(message)s")

app = create_app()
