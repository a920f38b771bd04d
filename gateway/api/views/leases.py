
from .. import schemas
from . import LEASE, Blueprint, commit, query, reads, writes

blp = Blueprint("leases", __name__, url_prefix="/api/v1/leases",
                description="Lease contracts, their floating-rate schedule and payments "
                            "(LessorMSP writes)")


@blp.route("", methods=["POST"])
@writes(blp, schemas.LeaseInput, schemas.Lease)
def create_lease(lease):
    """Create a draft lease (lease:CreateLease)"""
    return commit(LEASE, "CreateLease", lease)


@blp.route("/preview", methods=["POST"])
@reads(blp, schemas.Preview)
@blp.arguments(schemas.PreviewInput)
def preview_schedule(preview):
    """The schedule that terms and per-period verified emissions give; writes nothing
    (lease:PreviewSchedule)"""
    return {"rows": query(LEASE, "PreviewSchedule", preview["terms"], preview["emissions"])}


@blp.route("/<id:lease_id>", methods=["GET"])
@reads(blp, schemas.Lease)
def get_lease(lease_id):
    """One lease with its adjustments and payments (lease:GetLease)"""
    return query(LEASE, "GetLease", lease_id)


@blp.route("/<id:lease_id>/activate", methods=["POST"])
@writes(blp, None, schemas.Lease, status=200)
def activate_lease(lease_id):
    """Activate a draft lease, fixing period 1 at the base rate (lease:ActivateLease)"""
    return commit(LEASE, "ActivateLease", lease_id)


@blp.route("/<id:lease_id>/terminate", methods=["POST"])
@writes(blp, schemas.TerminationInput, schemas.Lease, status=200)
def terminate_lease(termination, lease_id):
    """Terminate a draft or active lease (lease:TerminateLease)"""
    return commit(LEASE, "TerminateLease", lease_id, termination["reason"])


@blp.route("/<id:lease_id>/schedule", methods=["GET"])
@reads(blp, schemas.Schedule)
def get_schedule(lease_id):
    """Fixed rows, then a projection at the base rate (lease:GetSchedule)"""
    return query(LEASE, "GetSchedule", lease_id)


@blp.route("/<id:lease_id>/fix-rate", methods=["POST"])
@writes(blp, None, schemas.Adjustment, status=200)
def fix_next_rate(lease_id):
    """Fix the next period's rate from the last period's verified emissions
    (lease:FixNextRate)"""
    return commit(LEASE, "FixNextRate", lease_id)


@blp.route("/<id:lease_id>/payments", methods=["POST"])
@writes(blp, schemas.PaymentInput, schemas.Payment)
def record_payment(payment, lease_id):
    """Record the instalment of the next unpaid period (lease:RecordPayment)"""
    return commit(LEASE, "RecordPayment", lease_id, str(payment["period"]),
                  str(payment["amount_fen"]), payment["paid_on"])


@blp.route("/<id:lease_id>/history", methods=["GET"])
@reads(blp, schemas.LeaseHistory)
def get_lease_history(lease_id):
    """Every committed version of the lease, oldest first (lease:GetLeaseHistory)"""
    return {"history": query(LEASE, "GetLeaseHistory", lease_id)}
