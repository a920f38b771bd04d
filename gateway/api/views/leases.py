"""Leases. Their commercial part (lessee, terms, rate fixes, payment amounts, termination
reason) lives in the lease chaincode's private data collection of LessorMSP and RegulatorMSP:
writes send it as transient data, which endorsers see and no block ever holds, and reads show it
only where this gateway's org may read it (elsewhere the same answer with `private`/`rows` null).
A write answers the public record the chaincode returned: a transaction's answer is in the block
on every peer, so it carries hashes, never private values."""

import secrets

from .. import schemas
from . import LEASE, Blueprint, commit, query, reads, writes

blp = Blueprint("leases", __name__, url_prefix="/api/v1/leases",
                description="Lease contracts, their floating-rate schedule and payments "
                            "(LessorMSP writes; terms visible to LessorMSP and RegulatorMSP)")


@blp.route("", methods=["POST"])
@writes(blp, schemas.LeaseInput, schemas.PublicLease)
def create_lease(lease):
    """Create a draft lease; lessee and terms travel as transient data (lease:CreateLease)"""
    public = {name: lease[name] for name in ("lease_id", "project_id", "lessee_ref")}
    # A fresh salt per lease makes the public hash of its private records unguessable.
    private = {**{name: lease[name] for name in schemas.PRIVATE_FIELDS},
               "salt": secrets.token_hex(32)}
    return commit(LEASE, "CreateLease", public, transient={"lease_private": private})


@blp.route("/preview", methods=["POST"])
@reads(blp, schemas.Preview)
@blp.arguments(schemas.PreviewInput)
def preview_schedule(preview):
    """The schedule that terms and per-period verified emissions give; writes nothing and is
    never ordered, so the terms reach no block (lease:PreviewSchedule)"""
    return {"rows": query(LEASE, "PreviewSchedule", preview["terms"], preview["emissions"])}


@blp.route("/<id:lease_id>", methods=["GET"])
@reads(blp, schemas.Lease)
def get_lease(lease_id):
    """One lease: public state, and its private records where this org may read them
    (lease:GetLease)"""
    return query(LEASE, "GetLease", lease_id)


@blp.route("/<id:lease_id>/activate", methods=["POST"])
@writes(blp, None, schemas.PublicLease, status=200)
def activate_lease(lease_id):
    """Activate a draft lease, fixing period 1 at the base rate (lease:ActivateLease)"""
    return commit(LEASE, "ActivateLease", lease_id)


@blp.route("/<id:lease_id>/terminate", methods=["POST"])
@writes(blp, schemas.TerminationInput, schemas.PublicLease, status=200)
def terminate_lease(termination, lease_id):
    """Terminate a draft or active lease; the reason is private (lease:TerminateLease)"""
    return commit(LEASE, "TerminateLease", lease_id, transient={"termination": termination})


@blp.route("/<id:lease_id>/schedule", methods=["GET"])
@reads(blp, schemas.Schedule)
def get_schedule(lease_id):
    """Fixed rows, then a projection at the base rate; rows null where this org may not read
    the terms (lease:GetSchedule)"""
    return query(LEASE, "GetSchedule", lease_id)


def terms_holders() -> list[str]:
    """The orgs that hold lease terms: the lease chaincode's lessor and regulator roles, which
    are the members of its leaseTerms collection (chaincode/README.md)."""
    roles = query(LEASE, "GetRoles")
    return sorted({*roles["lessor"], *roles["regulator"]})


@blp.route("/<id:lease_id>/fix-rate", methods=["POST"])
@writes(blp, None, schemas.RateFixed, status=200)
def fix_next_rate(lease_id):
    """Fix the next period's rate from the last period's verified emissions; the adjustment is
    private, the answer its hash (lease:FixNextRate)"""
    # It reads private terms and the emission chaincode (policy Grid AND Regulator) in one
    # proposal; discovery then wants endorsers that are collection members AND satisfy
    # emission's policy, which no org set does. Only the lease namespace is written, so its
    # policy and the collection's decide validity: the collection's members endorse.
    return commit(LEASE, "FixNextRate", lease_id, endorsers=terms_holders())


@blp.route("/<id:lease_id>/payments", methods=["POST"])
@writes(blp, schemas.PaymentInput, schemas.PaymentRecorded)
def record_payment(payment, lease_id):
    """Record the instalment of the next unpaid period; amount and date travel as transient
    data (lease:RecordPayment)"""
    private = {"amount_fen": payment["amount_fen"], "paid_on": payment["paid_on"]}
    return commit(LEASE, "RecordPayment", lease_id, str(payment["period"]),
                  transient={"payment": private})


@blp.route("/<id:lease_id>/purge-private-data", methods=["POST"])
@writes(blp, None, schemas.PublicLease, status=200)
def purge_private_data(lease_id):
    """Purge the private records of a terminated or matured lease from every member peer once
    its retention has passed; public state and hashes stay (lease:PurgeLeasePrivateData)"""
    return commit(LEASE, "PurgeLeasePrivateData", lease_id)


@blp.route("/<id:lease_id>/history", methods=["GET"])
@reads(blp, schemas.LeaseHistory)
def get_lease_history(lease_id):
    """Every committed public version of the lease, oldest first (lease:GetLeaseHistory)"""
    return {"history": query(LEASE, "GetLeaseHistory", lease_id)}
