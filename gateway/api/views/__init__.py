"""HTTP <-> ledger mapping, one blueprint per noun. Views only name the chaincode transaction
and its arguments; the helpers here do the rest (roles, idempotency, answer shape, docs)."""

from __future__ import annotations

import flask
import flask_smorest

from flask_smorest.utils import resolve_schema_instance

from .. import fast_dump, schemas
from ..auth import current_principal, requires_role
from ..idempotency import HEADER_DOC, idempotent, submit_options
from ..ledger import Committed, Ledger
from ..request_body import Parser


class Blueprint(flask_smorest.Blueprint):
    """Every API blueprint reads query strings and bodies through the gateway's one parser,
    and dumps its answers through the schemas' compiled plans (``fast_dump``). Schemas are
    made once per route, not per request (webargs would instantiate a class, and with it
    every nested schema, on each call; an instance holds no state of a load or dump)."""

    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, *args, **kwargs):
        return super().arguments(resolve_schema_instance(schema), *args, **kwargs)

    def response(self, status_code, schema=None, **kwargs):
        if schema is not None:
            schema = fast_dump.with_plan(resolve_schema_instance(schema))
        return super().response(status_code, schema, **kwargs)


EMISSION = "emission"
LEASE = "lease"


def ledger() -> Ledger:
    return flask.current_app.extensions["carbonlease"].ledger


def query(chaincode: str, transaction: str, *arguments):
    """A read-only chaincode call; its JSON answer as Python data."""
    return ledger().evaluate(chaincode, transaction, arguments,
                             identity_dir=current_principal().identity_dir)


def commit(chaincode: str, transaction: str, *arguments, transient: dict | None = None,
           endorsers: list[str] | None = None) -> Committed:
    """A write, returned once committed valid (MVCC conflicts retried in the ledger; under an
    Idempotency-Key, resumed from what a crashed earlier request left). ``transient`` carries
    private data to the endorsers without it ever being written to a block; ``endorsers``
    names the endorsing orgs where Fabric's discovery cannot choose them."""
    return ledger().submit(chaincode, transaction, arguments, transient=transient,
                           endorsing_organizations=endorsers, **submit_options(),
                           identity_dir=current_principal().identity_dir)


def reads(blp: Blueprint, answer, *, query_args=None):
    """Decorate a read view: reader role (the default), answer schema, documented errors."""

    def decorate(view):
        view = blp.response(200, answer)(view)
        if query_args is not None:
            view = blp.arguments(query_args, location="query")(view)
        return _document_errors(blp, view, 401, 404, 503)

    return decorate


def writes(blp: Blueprint, body, record, *, status: int = 201):
    """Decorate a write view: writer role, ``Idempotency-Key``, the committed-write answer."""

    def decorate(view):
        view = blp.response(status, schemas.committed(record))(view)
        if body is not None:
            view = blp.arguments(body)(view)
        view = idempotent(view)
        view = blp.doc(parameters=[HEADER_DOC])(view)
        view = _document_errors(blp, view, 401, 403, 404, 409, 503, 504)
        return requires_role("writer")(view)

    return decorate


_ERROR_NAMES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
                503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}


def _document_errors(blp: Blueprint, view, *statuses):
    for status in statuses:
        view = blp.alt_response(status, response=_ERROR_NAMES[status])(view)
    return view
