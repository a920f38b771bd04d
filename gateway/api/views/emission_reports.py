
from .. import schemas
from . import EMISSION, Blueprint, commit, query, reads, writes

blp = Blueprint("emission-reports", __name__, url_prefix="/api/v1",
                description="Emission reports per lessee and period: submitted by LessorMSP, "
                            "verified or rejected by RegulatorMSP")


@blp.route("/emission-reports", methods=["POST"])
@writes(blp, schemas.ReportInput, schemas.Report)
def submit_report(report):
    """Submit a report, or a new version of a submitted or rejected one (emission:SubmitReport)"""
    return commit(EMISSION, "SubmitReport", report)


@blp.route("/emission-reports/<id:report_id>/verify", methods=["POST"])
@writes(blp, None, schemas.Report, status=200)
def verify_report(report_id):
    """Verify a submitted report; it becomes immutable (emission:VerifyReport)"""
    return commit(EMISSION, "VerifyReport", report_id)


@blp.route("/emission-reports/<id:report_id>/reject", methods=["POST"])
@writes(blp, schemas.RejectionInput, schemas.Report, status=200)
def reject_report(rejection, report_id):
    """Reject a submitted report, with the reason (emission:RejectReport)"""
    return commit(EMISSION, "RejectReport", report_id, rejection["reason"])


@blp.route("/emission-reports/<id:report_id>", methods=["GET"])
@reads(blp, schemas.Report)
def get_report(report_id):
    """One report version (emission:GetReport)"""
    return query(EMISSION, "GetReport", report_id)


@blp.route("/lessees/<id:lessee_id>/emission-reports", methods=["GET"])
@reads(blp, schemas.page_of(schemas.Report), query_args=schemas.PageQuery)
def list_reports_by_lessee(page, lessee_id):
    """A lessee's reports, by report id, a page at a time (emission:ListReportsByLessee)"""
    return query(EMISSION, "ListReportsByLessee", lessee_id, str(page["page_size"]),
                 page["bookmark"])
