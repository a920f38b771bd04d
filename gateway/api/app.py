"""The Flask application factory."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

import flask
from flask_smorest import Api
from werkzeug.routing import BaseConverter

from .. import console
from . import auth, db, errors, headers, schema, schemas
from .config import Config
from .fast_dump import JsonProvider
from .idempotency import IdempotencyStore
from .ledger import Ledger, connect_to_fabric
from .metrics import Metrics, ReadModelCollector
from .readmodel import ReadModel
from .views import (emission_factors, emission_reports, leases, meter_readings, operations,
                    projects, read_model, transactions)

API_BLUEPRINTS = (emission_factors, meter_readings, emission_reports, projects, leases,
                  transactions, read_model)


@dataclasses.dataclass(frozen=True)
class Services:
    """What views reach through ``current_app.extensions["carbonlease"]``."""

    ledger: Ledger
    credentials: auth.CredentialStore
    idempotency: IdempotencyStore
    metrics: Metrics
    read_model: ReadModel


class _IdConverter(BaseConverter):
    """Chaincode ids in paths: anything else is not a route (404) rather than a Fabric call."""

    regex = schemas.ID_PATTERN[1:-1]


class _TransactionIdConverter(BaseConverter):
    regex = schemas.TX_ID_PATTERN[1:-1]


class _Api(Api):
    # Documented error bodies are the gateway's own shape; errors.register installs the
    # handlers that produce it.
    ERROR_SCHEMA = errors.ErrorSchema


def create_app(config: Config | None = None, *, connect=connect_to_fabric) -> flask.Flask:
    """``connect(FabricSettings) -> gateway`` opens the Fabric connection (a fabricgw
    ``Gateway``); tests pass a fake."""
    config = config or Config.from_env()
    app = flask.Flask(__name__)
    app.json = JsonProvider(app)
    local_swagger_ui = _usable_swagger_ui_dir(app, config.swagger_ui_dir)
    app.config.update(
        API_TITLE="carbonlease gateway",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/v1/docs/assets/" if local_swagger_ui
        else config.swagger_ui_url,
        API_SPEC_OPTIONS={
            "info": {"description": "REST access to the carbonlease chaincodes through this "
                                    "org's peer. Writes return once committed."},
            "components": {"securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }},
            "security": [{"bearer": []}, {"apiKey": []}],
        },
        # A body bigger than this is no lease: refuse it before parsing (413).
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.url_map.converters["id"] = _IdConverter
    app.url_map.converters["txid"] = _TransactionIdConverter
    app.url_map.strict_slashes = False

    engine = db.make_engine(config.database_url)
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        # A database in memory is this process's alone: no upgrade step can reach it.
        schema.upgrade(engine)
    metrics = Metrics(config.metrics_multiprocess_dir)
    services = Services(
        ledger=Ledger(config.fabric, connect=connect, mvcc_retries=config.mvcc_retries,
                      retry_backoff_ms=config.retry_backoff_ms,
                      write_deadline_s=config.write_deadline_s,
                      resubmit_after_s=config.resubmit_after_s,
                      on_fabric_error=lambda code: metrics.fabric_errors.labels(code).inc(),
                      on_retry=metrics.mvcc_retries.inc,
                      on_resubmit=metrics.resubmissions.inc),
        credentials=auth.CredentialStore(engine),
        idempotency=IdempotencyStore(
            engine, dt.timedelta(seconds=config.idempotency_stale_after_s)),
        metrics=metrics,
        # Only read here: the follower process (readmodel.follower) writes it.
        read_model=ReadModel(engine),
    )
    app.extensions["carbonlease"] = services
    metrics.add_collector(ReadModelCollector(services.read_model))

    # Order matters: the timer starts before authentication can refuse a request.
    metrics.install(app)
    _check_schema(app, engine)
    auth.install(app, services.credentials)

    api = _Api(app)
    api.register_converter(_IdConverter, lambda _: {"type": "string",
                                                    "pattern": schemas.ID_PATTERN})
    api.register_converter(_TransactionIdConverter, lambda _: {"type": "string",
                                                               "pattern": schemas.TX_ID_PATTERN})
    for module in API_BLUEPRINTS:
        api.register_blueprint(module.blp)
    app.register_blueprint(operations.blp)
    app.register_blueprint(console.blp)
    if local_swagger_ui:
        _serve_swagger_ui_assets(app, local_swagger_ui)
    errors.register(app)
    headers.install(app, app.config["OPENAPI_SWAGGER_UI_URL"])
    return app


def _check_schema(app: flask.Flask, engine) -> None:
    """Requests answer 503 SCHEMA_OUTDATED, not a 500 from the credential check, while the
    gateway's own tables are not this version's (``manage upgrade-schema`` has not run);
    once found current they are not checked again. The read-model tables are checked by the
    read model itself."""
    current = False

    @app.before_request
    def _require_current_schema():
        nonlocal current
        if current:
            return
        found = db.problems(engine)
        if found:
            raise db.SchemaOutdated("SCHEMA_OUTDATED", "the gateway's database is not of this "
                                    "version's schema: its upgrade step has not run", found)
        current = True


def _usable_swagger_ui_dir(app: flask.Flask, directory: str | None) -> str | None:
    """The folder to serve Swagger UI from, if it holds the assets; else the CDN is used."""
    if not directory:
        return None
    if not os.path.isfile(os.path.join(directory, "swagger-ui-bundle.js")):
        app.logger.warning("CARBONLEASE_SWAGGER_UI_DIR=%s has no swagger-ui-bundle.js; "
                           "/api/v1/docs will load Swagger UI from %s", directory,
                           "CARBONLEASE_SWAGGER_UI_URL")
        return None
    return os.path.abspath(directory)


def _serve_swagger_ui_assets(app: flask.Flask, directory: str) -> None:
    @app.get("/api/v1/docs/assets/<path:filename>", endpoint="swagger_ui_assets")
    def _asset(filename):
        return flask.send_from_directory(directory, filename)
