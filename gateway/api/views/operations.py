"""Operator endpoints, outside /api/v1 and without credentials: liveness, readiness, metrics."""

import flask

from ..errors import ApiError
from . import ledger

blp = flask.Blueprint("operations", __name__)


@blp.get("/health")
def health():
    """The process is up (says nothing about Fabric)."""
    return {"status": "ok"}


@blp.get("/ready")
def ready():
    """Ready when the org's peer answers and the channel has blocks."""
    try:
        height = ledger().height()
    except ApiError as err:
        raise ApiError(503, "NOT_READY", f"Not ready: {err.message}", err.to_body()["error"],
                       retryable=True) from err
    return {"status": "ready", "msp_id": ledger().msp_id, "channel_height": height}


@blp.get("/metrics")
def metrics():
    return flask.current_app.extensions["carbonlease"].metrics.exposition()
