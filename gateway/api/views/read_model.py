"""Filtered, paged reads from the gateway's off-chain read model (see ``readmodel``)."""

import flask

from .. import schemas
from . import Blueprint, ledger, reads

blp = Blueprint("read_model", __name__, url_prefix="/api/v1/read",
                description="Filtered lists from the gateway's read model, which follows the "
                            "chaincode events; as_of_block says how current an answer is")


def read_model():
    return flask.current_app.extensions["carbonlease"].read_model


@blp.route("/projects", methods=["GET"])
@reads(blp, schemas.read_page_of(schemas.ReadProject), query_args=schemas.ReadProjectQuery)
def list_projects(query):
    """Projects by category and owner, ordered by id"""
    return read_model().projects(**query)


@blp.route("/emission-reports", methods=["GET"])
@reads(blp, schemas.read_page_of(schemas.ReadReport), query_args=schemas.ReadReportQuery)
def list_emission_reports(query):
    """Emission reports by lessee, status and period, ordered by id"""
    return read_model().emission_reports(**query)


@blp.route("/leases", methods=["GET"])
@reads(blp, schemas.read_page_of(schemas.ReadLease), query_args=schemas.ReadLeaseQuery)
def list_leases(query):
    """Leases by status, lessee and project, ordered by id"""
    return read_model().leases(**query)


@blp.route("/dead-letters", methods=["GET"])
@reads(blp, schemas.read_page_of(schemas.DeadLetter), query_args=schemas.DeadLetterQuery)
def list_dead_letters(query):
    """Chaincode events the read model could not apply, in the order they were kept"""
    return read_model().dead_letters(**query)


@blp.route("/status", methods=["GET"])
@reads(blp, schemas.ReadModelStatus)
def status():
    """How far the read model has followed each chaincode, whether its follower is keeping
    up, its dead letters, and the channel height"""
    return read_model().status(ledger().height_if_reachable())
