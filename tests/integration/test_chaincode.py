"""The emission and lease chaincodes through real peers (the `consortium` fixture in conftest.py).

Every transaction of chaincode/README.md is exercised through the Python Fabric Gateway client;
refused writes (wrong org, wrong state) fail at endorsement with the chaincode's error code and
leave the ledger as it was; the chaincode-level and the roles key's key-level endorsement
policies are enforced at validation. The floating-rate formula is in test_chaincode_rates.py.

Ids are fresh uuids, so the tests are independent and can run again on the same network.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.fabricgw import errors
from tests.integration.fabric_clients import (
    TERMS_HOLDERS, Ledger, connect_admin, new_lease, new_project, termination, uid,
)

TERMS = {
    "principal_fen": 12_000_000, "base_rate_bps": 450, "term_periods": 3, "period_months": 1,
    "amortization": "equal_principal", "start_date": "2024-01-01", "baseline_kg": 1000,
    "annual_reduction_bps": 1200, "ratchet": [{"min_performance_bps": 0, "adjustment_bps": -20}],
    "cap_bps": 100, "floor_bps": -80, "missing_report_bps": 60,
}


@pytest.fixture(scope="module")
def ledger(consortium):
    ledger = Ledger(consortium)
    yield ledger
    ledger.close()


def parallel(*calls):
    """Run independent (function, args...) calls concurrently; results in order."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(call[0], *call[1:]) for call in calls]]


def factor(region, year, g_per_kwh, reason=None):
    return json.dumps({"region": region, "year": year, "factor_g_per_kwh": g_per_kwh, "supersede_reason": reason})


def reading(reading_id, lessee, region, start, end, kwh):
    return json.dumps({"reading_id": reading_id, "lessee_id": lessee, "facility_id": "plant-1", "region": region,
                       "period_start": start, "period_end": end, "kwh": kwh})


def report(lessee, start, end, scope1, readings=(), supersedes=None, report_id=None):
    return {"report_id": report_id or uid("rep"), "lessee_id": lessee, "period_start": start, "period_end": end,
            "scope1_kg": scope1, "meter_reading_ids": list(readings),
            "evidence_sha256": hashlib.sha256(f"{lessee}{start}{scope1}".encode()).hexdigest(),
            "supersedes": supersedes}


# --- emission factors ---------------------------------------------------------------------------

def test_factor_publish_supersede_with_reason_and_history(ledger):
    region = uid("R")
    first = ledger.submit_result("RegulatorMSP", "emission", "PublishFactor", factor(region, 2024, 581))
    v1 = json.loads(first.result)
    assert (v1["region"], v1["year"], v1["factor_g_per_kwh"], v1["version"], v1["supersede_reason"],
            v1["published_by_msp"], v1["history"]) == (region, 2024, 581, 1, None, "RegulatorMSP", [])
    assert ledger.evaluate("GridMSP", "emission", "GetFactor", region, "2024") == v1

    # Publishing again needs a reason; a reason with nothing to supersede is refused too.
    assert ledger.refused("RegulatorMSP", "emission", "PublishFactor", factor(region, 2024, 570))[0] == "ALREADY_EXISTS"
    assert ledger.refused("RegulatorMSP", "emission", "PublishFactor",
                          factor(region, 2025, 570, "typo"))[0] == "INVALID_ARGUMENT"
    assert ledger.evaluate_error("LessorMSP", "emission", "GetFactor", region, "2025")[0] == "NOT_FOUND"

    second = ledger.submit_result("RegulatorMSP", "emission", "PublishFactor",
                                  factor(region, 2024, 570, "grid mix revised by the 2024 census"))
    v2 = json.loads(second.result)
    assert (v2["factor_g_per_kwh"], v2["version"], v2["supersede_reason"]) == \
        (570, 2, "grid mix revised by the 2024 census")
    assert v2["history"] == [{k: v1[k] for k in ("version", "factor_g_per_kwh", "supersede_reason",
                                                  "published_by_msp", "published_at")}]
    assert ledger.evaluate("HKPartnerMSP", "emission", "GetFactor", region, "2024") == v2

    history = ledger.evaluate("MacaoPartnerMSP", "emission", "GetHistory", f"factor:{region}:2024")
    assert [h["tx_id"] for h in history] == [first.transaction_id, second.transaction_id]
    assert [h["value"] for h in history] == [v1, v2]
    assert not any(h["is_delete"] for h in history)


# --- meter readings and reports ------------------------------------------------------------------

def test_scope2_is_computed_on_chain_from_readings_and_current_factors(ledger):
    """Hand-derived scope 2: region A 1801 g/kWh (v1), region B 500 -> superseded to 600 (v2).
    Readings 250 + 250 kWh in A and 100 kWh in B: 450250 + 450250 + 60000 = 960500 g = 960.5 kg
    -> 961 (one rounding of the exact sum, half away from zero; rounding each line would give
    450 + 450 + 60 = 960, and half-to-even 960). Scope 1 39 kg -> total 1000 kg."""
    lessee, region_a, region_b = uid("lessee"), uid("A"), uid("B")
    parallel((ledger.submit, "RegulatorMSP", "emission", "PublishFactor", factor(region_a, 2024, 1801)),
             (ledger.submit, "RegulatorMSP", "emission", "PublishFactor", factor(region_b, 2024, 500)))
    ids = sorted(uid("rd") for _ in range(3))
    readings = parallel(
        (ledger.submit, "GridMSP", "emission", "SubmitMeterReading",
         reading(ids[2], lessee, region_a, "2024-03-01", "2024-03-16", 250)),
        (ledger.submit, "GridMSP", "emission", "SubmitMeterReading",
         reading(ids[1], lessee, region_a, "2024-03-16", "2024-04-01", 250)),
        (ledger.submit, "GridMSP", "emission", "SubmitMeterReading",
         reading(ids[0], lessee, region_b, "2024-03-01", "2024-04-01", 100)),
        (ledger.submit, "RegulatorMSP", "emission", "PublishFactor",
         factor(region_b, 2024, 600, "corrected")))
    assert readings[0]["submitted_by_msp"] == "GridMSP" and readings[0]["kwh"] == 250
    assert ledger.evaluate("LessorMSP", "emission", "GetMeterReading", ids[2]) == readings[0]

    body = report(lessee, "2024-03-01", "2024-04-01", 39, readings=[ids[2], ids[0], ids[1]])
    submitted = ledger.submit("LessorMSP", "emission", "SubmitReport", json.dumps(body))
    assert (submitted["scope1_kg"], submitted["scope2_kg"], submitted["total_kg"]) == (39, 961, 1000)
    assert submitted["meter_reading_ids"] == ids  # a set, stored sorted
    assert submitted["scope2_lines"] == [
        {"reading_id": ids[0], "region": region_b, "year": 2024, "kwh": 100, "factor_g_per_kwh": 600,
         "factor_version": 2},
        {"reading_id": ids[1], "region": region_a, "year": 2024, "kwh": 250, "factor_g_per_kwh": 1801,
         "factor_version": 1},
        {"reading_id": ids[2], "region": region_a, "year": 2024, "kwh": 250, "factor_g_per_kwh": 1801,
         "factor_version": 1}]
    assert (submitted["status"], submitted["version"], submitted["supersedes"], submitted["superseded_by"],
            submitted["submitted_by_msp"], submitted["verified_at"]) == ("submitted", 1, None, None, "LessorMSP", None)

    # Wrong org: the lessor cannot verify (and nothing changes).
    assert ledger.refused("LessorMSP", "emission", "VerifyReport", body["report_id"])[0] == "FORBIDDEN"
    assert ledger.refused("GridMSP", "emission", "VerifyReport", body["report_id"])[0] == "FORBIDDEN"
    assert ledger.evaluate("GridMSP", "emission", "GetReport", body["report_id"]) == submitted
    assert ledger.evaluate("GridMSP", "emission", "GetVerifiedReportForPeriod",
                           lessee, "2024-03-01", "2024-04-01") is None

    verified = ledger.submit("RegulatorMSP", "emission", "VerifyReport", body["report_id"])
    assert (verified["status"], verified["verified_by_msp"], verified["total_kg"]) == ("verified", "RegulatorMSP", 1000)
    assert ledger.evaluate("HKPartnerMSP", "emission", "GetReport", body["report_id"]) == verified
    assert ledger.evaluate("LessorMSP", "emission", "GetVerifiedReportForPeriod",
                           lessee, "2024-03-01", "2024-04-01") == verified
    # A verified report is immutable: no second decision, no correction.
    assert ledger.refused("RegulatorMSP", "emission", "RejectReport", body["report_id"], "late")[0] == "INVALID_STATE"
    correction = report(lessee, "2024-03-01", "2024-04-01", 40, supersedes=body["report_id"])
    assert ledger.refused("LessorMSP", "emission", "SubmitReport", json.dumps(correction))[0] == "INVALID_STATE"
    assert ledger.evaluate_error("LessorMSP", "emission", "GetReport", correction["report_id"])[0] == "NOT_FOUND"

    history = ledger.evaluate("RegulatorMSP", "emission", "GetHistory", f"report:{body['report_id']}")
    assert [h["value"]["status"] for h in history] == ["submitted", "verified"]
    assert len(ledger.evaluate("RegulatorMSP", "emission", "GetHistory", f"reading:{ids[0]}")) == 1


def test_rejected_report_is_corrected_by_a_new_version_referencing_it(ledger):
    lessee = uid("lessee")
    v1 = report(lessee, "2024-02-01", "2024-03-01", 500)
    ledger.submit("LessorMSP", "emission", "SubmitReport", json.dumps(v1))
    # A second first report for the same lessee and period is refused: corrections supersede.
    duplicate = report(lessee, "2024-02-01", "2024-03-01", 400)
    assert ledger.refused("LessorMSP", "emission", "SubmitReport", json.dumps(duplicate))[0] == "ALREADY_EXISTS"
    assert ledger.refused("LessorMSP", "emission", "RejectReport", v1["report_id"], "no")[0] == "FORBIDDEN"

    rejected = ledger.submit("RegulatorMSP", "emission", "RejectReport", v1["report_id"], "evidence unreadable")
    assert (rejected["status"], rejected["rejection_reason"], rejected["rejected_by_msp"]) == \
        ("rejected", "evidence unreadable", "RegulatorMSP")
    assert ledger.refused("RegulatorMSP", "emission", "VerifyReport", v1["report_id"])[0] == "INVALID_STATE"
    # A correction keeps lessee and period.
    other_period = report(lessee, "2024-03-01", "2024-04-01", 450, supersedes=v1["report_id"])
    assert ledger.refused("LessorMSP", "emission", "SubmitReport", json.dumps(other_period))[0] == "INVALID_ARGUMENT"

    v2 = report(lessee, "2024-02-01", "2024-03-01", 450, supersedes=v1["report_id"])
    corrected = ledger.submit("LessorMSP", "emission", "SubmitReport", json.dumps(v2))
    assert (corrected["version"], corrected["supersedes"], corrected["status"], corrected["total_kg"]) == \
        (2, v1["report_id"], "submitted", 450)
    old = ledger.evaluate("GridMSP", "emission", "GetReport", v1["report_id"])
    assert (old["status"], old["superseded_by"], old["rejection_reason"]) == \
        ("superseded", v2["report_id"], "evidence unreadable")
    again = report(lessee, "2024-02-01", "2024-03-01", 440, supersedes=v1["report_id"])
    assert ledger.refused("LessorMSP", "emission", "SubmitReport", json.dumps(again))[0] == "INVALID_STATE"

    ledger.submit("RegulatorMSP", "emission", "VerifyReport", v2["report_id"])
    found = ledger.evaluate("LessorMSP", "emission", "GetVerifiedReportForPeriod", lessee, "2024-02-01", "2024-03-01")
    assert (found["report_id"], found["version"], found["total_kg"]) == (v2["report_id"], 2, 450)
    history = ledger.evaluate("LessorMSP", "emission", "GetHistory", f"report:{v1['report_id']}")
    assert [h["value"]["status"] for h in history] == ["submitted", "rejected", "superseded"]


def test_list_reports_by_lessee_pages_with_bookmark(ledger):
    lessee, other = uid("lessee"), uid("lessee")
    bodies = [report(lessee, f"2023-{m:02d}-01", f"2023-{m + 1:02d}-01", 100 + m) for m in range(1, 6)]
    bodies.append(report(other, "2023-01-01", "2023-02-01", 7))
    parallel(*[(ledger.submit, "LessorMSP", "emission", "SubmitReport", json.dumps(b)) for b in bodies])
    mine = sorted(b["report_id"] for b in bodies[:5])

    pages, bookmark = [], ""
    while True:
        page = ledger.evaluate("GridMSP", "emission", "ListReportsByLessee", lessee, "2", bookmark)
        assert page["fetched_count"] == len(page["records"]) <= 2
        pages.append([r["report_id"] for r in page["records"]])
        bookmark = page["bookmark"]
        if not bookmark or not page["records"]:
            break
        assert len(pages) < 10
    assert [len(p) for p in pages if p] == [2, 2, 1]
    assert [r for p in pages for r in p] == mine  # every report once, in report_id order
    everything = ledger.evaluate("GridMSP", "emission", "ListReportsByLessee", lessee, "100", "")
    assert [r["report_id"] for r in everything["records"]] == mine
    assert all(r["lessee_id"] == lessee for r in everything["records"])
    assert ledger.evaluate_error("GridMSP", "emission", "ListReportsByLessee", lessee, "0", "")[0] == "INVALID_ARGUMENT"
    assert ledger.evaluate_error("GridMSP", "emission", "ListReportsByLessee", lessee, "101", "")[0] == \
        "INVALID_ARGUMENT"


# --- projects and co-financing interest ----------------------------------------------------------

def test_projects_interest_and_paged_listing(ledger):
    (lessor_pid, lessor_body), (hk_pid, hk_body) = new_project("it-lessor"), new_project("it-hk")
    created = parallel((ledger.submit, "LessorMSP", "lease", "RegisterProject", lessor_body),
                       (ledger.submit, "HKPartnerMSP", "lease", "RegisterProject", hk_body))
    assert [c["owner_msp"] for c in created] == ["LessorMSP", "HKPartnerMSP"]
    assert ledger.evaluate("RegulatorMSP", "lease", "GetProject", hk_pid) == created[1]
    assert ledger.refused("LessorMSP", "lease", "RegisterProject", lessor_body)[0] == "ALREADY_EXISTS"

    parallel((ledger.submit, "HKPartnerMSP", "lease", "ExpressInterest", lessor_pid,
              json.dumps({"amount_fen": 5_000_000, "note": "first look"})),
             (ledger.submit, "MacaoPartnerMSP", "lease", "ExpressInterest", lessor_pid,
              json.dumps({"amount_fen": 3_000_000, "note": ""})))
    replaced = ledger.submit("HKPartnerMSP", "lease", "ExpressInterest", lessor_pid,
                             json.dumps({"amount_fen": 8_000_000, "note": "committee approved"}))
    assert (replaced["partner_msp"], replaced["amount_fen"]) == ("HKPartnerMSP", 8_000_000)
    interests = ledger.evaluate("GridMSP", "lease", "ListInterests", lessor_pid)
    assert [(i["partner_msp"], i["amount_fen"], i["note"]) for i in interests] == \
        [("HKPartnerMSP", 8_000_000, "committee approved"), ("MacaoPartnerMSP", 3_000_000, "")]
    assert ledger.evaluate("GridMSP", "lease", "ListInterests", hk_pid) == []
    assert ledger.refused("HKPartnerMSP", "lease", "ExpressInterest", uid("nope"),
                          json.dumps({"amount_fen": 1, "note": ""}))[0] == "NOT_FOUND"
    assert ledger.refused("HKPartnerMSP", "lease", "ExpressInterest", hk_pid,
                          json.dumps({"amount_fen": 0, "note": ""}))[0] == "INVALID_ARGUMENT"

    # Paging: with at least five projects on the channel, two pages of two follow each other in
    # project_id order; walking every page with the bookmark returns each project exactly once.
    extra = [new_project("it-page") for _ in range(3)]
    parallel(*[(ledger.submit, "LessorMSP", "lease", "RegisterProject", body) for _, body in extra])
    first = ledger.evaluate("MacaoPartnerMSP", "lease", "ListProjects", "2", "")
    second = ledger.evaluate("MacaoPartnerMSP", "lease", "ListProjects", "2", first["bookmark"])
    ids = [p["project_id"] for p in first["records"] + second["records"]]
    assert first["fetched_count"] == second["fetched_count"] == 2 and ids == sorted(set(ids))
    seen, bookmark = [], ""
    for _ in range(1000):
        page = ledger.evaluate("LessorMSP", "lease", "ListProjects", "100", bookmark)
        seen += [p["project_id"] for p in page["records"]]
        bookmark = page["bookmark"]
        if not bookmark or not page["records"]:
            break
    assert len(seen) == len(set(seen)) and seen == sorted(seen)
    assert {lessor_pid, hk_pid, *(pid for pid, _ in extra)} <= set(seen) and seen[:4] == ids


# --- wrong org: refused at endorsement, nothing written -------------------------------------------

def test_writes_from_the_wrong_org_are_forbidden_and_write_nothing(ledger):
    region, lessee, lease_id = uid("R"), uid("lessee"), uid("lease")
    project_id, project = new_project("it-forbid")
    ledger.submit("LessorMSP", "lease", "RegisterProject", project)
    lease, lease_private = new_lease(lease_id, lessee, project_id, TERMS)
    reading_id = uid("rd")
    attempts = {
        "Grid publishing a factor": ("GridMSP", "emission", "PublishFactor", factor(region, 2024, 500)),
        "Lessor publishing a factor": ("LessorMSP", "emission", "PublishFactor", factor(region, 2024, 500)),
        "Regulator creating a lease": ("RegulatorMSP", "lease", "CreateLease", lease),
        "a partner creating a lease": ("HKPartnerMSP", "lease", "CreateLease", lease),
        "a partner submitting a meter reading": (
            "HKPartnerMSP", "emission", "SubmitMeterReading",
            reading(reading_id, lessee, region, "2024-01-01", "2024-02-01", 10)),
        "Lessor submitting a meter reading": (
            "LessorMSP", "emission", "SubmitMeterReading",
            reading(reading_id, lessee, region, "2024-01-01", "2024-02-01", 10)),
        "Grid submitting a report": (
            "GridMSP", "emission", "SubmitReport", json.dumps(report(lessee, "2024-01-01", "2024-02-01", 1))),
        "Lessor expressing interest": (
            "LessorMSP", "lease", "ExpressInterest", project_id, json.dumps({"amount_fen": 1, "note": ""})),
        "Regulator registering a project": ("RegulatorMSP", "lease", "RegisterProject", new_project()[1]),
    }
    transients = {"Regulator creating a lease": lease_private, "a partner creating a lease": lease_private}
    for what, (msp, chaincode, name, *args) in attempts.items():
        with pytest.raises(errors.EndorseError) as info:
            ledger.contract(msp, chaincode).submit(name, arguments=args, transient_data=transients.get(what))
        assert errors.chaincode_error_code(info.value)[0] == "FORBIDDEN", what
        # Refused by the chaincode on the endorsing peer: never ordered, so not on the ledger.
        with pytest.raises(errors.NotFoundError):
            ledger.gateways["LessorMSP"].get_network(ledger.channel).get_transaction_status(
                info.value.transaction_id)
    assert ledger.evaluate_error("LessorMSP", "emission", "GetFactor", region, "2024")[0] == "NOT_FOUND"
    assert ledger.evaluate_error("LessorMSP", "lease", "GetLease", lease_id)[0] == "NOT_FOUND"
    assert ledger.evaluate_error("LessorMSP", "emission", "GetMeterReading", reading_id)[0] == "NOT_FOUND"
    assert ledger.evaluate("LessorMSP", "emission", "ListReportsByLessee", lessee, "10", "")["records"] == []
    assert ledger.evaluate("LessorMSP", "lease", "ListInterests", project_id) == []


# --- lease lifecycle -------------------------------------------------------------------------------

def test_lease_create_activate_terminate_with_history_and_preview(ledger):
    project_id, project = new_project("it-lease")
    ledger.submit("LessorMSP", "lease", "RegisterProject", project)
    lease_id, draft_only = uid("lease"), uid("lease")

    def create(lid, terms=TERMS, pid=project_id):
        public, private = new_lease(lid, "lessee-x", pid, terms)
        return {"args": [public], "transient": private}

    def submit_create(lid):
        request = create(lid)
        return ledger.submit_result("LessorMSP", "lease", "CreateLease", *request["args"],
                                    transient=request["transient"])

    results = parallel((submit_create, lease_id), (submit_create, draft_only))
    created = json.loads(results[0].result)
    assert (created["status"], created["fixed_through_period"], created["paid_through_period"],
            created["adjustments"], created["payments"], created["activated_at"]) == ("draft", 1, 0, [], [], None)
    assert created["lessee_ref"] == "lessee-x" and "terms" not in created
    assert ledger.evaluate("HKPartnerMSP", "lease", "GetLease", lease_id) == {**created, "private": None}
    member_view = ledger.evaluate("RegulatorMSP", "lease", "GetLease", lease_id)
    assert member_view["private"]["terms"]["terms"] == TERMS
    for request, code in [(create(lease_id), "ALREADY_EXISTS"), (create(uid("lease"), pid=uid("none")), "NOT_FOUND"),
                          (create(uid("lease"), terms={**TERMS, "period_months": 2}), "INVALID_ARGUMENT")]:
        assert ledger.refused("LessorMSP", "lease", "CreateLease", *request["args"],
                              transient=request["transient"])[0] == code
    # Terms as an argument are refused: they would be written into the block.
    assert ledger.refused("LessorMSP", "lease", "CreateLease", json.dumps(
        {"lease_id": uid("lease"), "project_id": project_id, "lessee_ref": "x", "terms": TERMS}))[0] == \
        "INVALID_ARGUMENT"
    assert ledger.refused("LessorMSP", "lease", "RecordPayment", lease_id, "1",
                          transient={"payment": json.dumps({"amount_fen": 1, "paid_on": "2024-01-01"})})[0] == \
        "INVALID_STATE"  # a draft takes no payment

    # The schedule of a draft: period 1 at the base rate, later rows projected at the base rate,
    # equal to the preview in which every period's rate stays at the base rate. Only members see rows.
    schedule = ledger.evaluate("RegulatorMSP", "lease", "GetSchedule", lease_id)
    assert (schedule["lease_id"], schedule["status"], schedule["fixed_through_period"]) == (lease_id, "draft", 1)
    assert ledger.evaluate("GridMSP", "lease", "GetSchedule", lease_id) == {**schedule, "rows": None}
    flat = ledger.preview({**TERMS, "missing_report_bps": 0}, [None] * 3)
    assert schedule["rows"] == flat
    assert [r["principal_fen"] for r in flat] == [4_000_000] * 3
    # 12,000,000 fen x 450 bps / 12 months = 45,000 fen interest in period 1 (hand-computed).
    assert flat[0]["interest_fen"] == 45_000 and flat[0]["instalment_fen"] == 4_045_000

    activated = ledger.submit_result("LessorMSP", "lease", "ActivateLease", lease_id)
    assert json.loads(activated.result)["status"] == "active"
    assert ledger.refused("LessorMSP", "lease", "ActivateLease", lease_id)[0] == "INVALID_STATE"
    assert ledger.refused("RegulatorMSP", "lease", "TerminateLease", lease_id, transient=termination("no"))[0] == \
        "FORBIDDEN"
    terminated = ledger.submit_result("LessorMSP", "lease", "TerminateLease", lease_id,
                                      transient=termination("equipment destroyed"))
    body = json.loads(terminated.result)
    assert body["status"] == "terminated" and body["termination_hash"]
    assert body["terminated_at"] is not None and body["activated_at"] is not None
    assert ledger.evaluate("LessorMSP", "lease", "GetLease", lease_id)["private"]["termination"]["reason"] == \
        "equipment destroyed"
    for name, transient in [("ActivateLease", None), ("FixNextRate", None), ("TerminateLease", termination("again"))]:
        assert ledger.refused("LessorMSP", "lease", name, lease_id, transient=transient,
                              endorsing_organizations=TERMS_HOLDERS)[0] == "INVALID_STATE", name
    draft_terminated = ledger.submit("LessorMSP", "lease", "TerminateLease", draft_only,
                                     transient=termination("never signed"))
    assert (draft_terminated["status"], draft_terminated["activated_at"]) == ("terminated", None)

    history = ledger.evaluate("MacaoPartnerMSP", "lease", "GetLeaseHistory", lease_id)
    assert [h["tx_id"] for h in history] == [results[0].transaction_id, activated.transaction_id,
                                             terminated.transaction_id]
    assert [h["value"]["status"] for h in history] == ["draft", "active", "terminated"]
    assert ledger.evaluate_error("LessorMSP", "lease", "GetLeaseHistory", uid("none"))[0] == "NOT_FOUND"


# --- endorsement policies ---------------------------------------------------------------------------

def test_lease_write_endorsed_by_the_lessor_alone_fails_validation(ledger):
    project_id, project = new_project("it-policy")
    ledger.submit("LessorMSP", "lease", "RegisterProject", project)
    lease_id = uid("lease")
    body, private = new_lease(lease_id, "lessee-x", project_id, TERMS)
    with pytest.raises(errors.CommitError) as info:
        ledger.contract("LessorMSP", "lease").submit("CreateLease", arguments=[body], transient_data=private,
                                                     endorsing_organizations=["LessorMSP"])
    assert info.value.code == "ENDORSEMENT_POLICY_FAILURE" and info.value.block_number > 0
    ledger.settle(info.value.block_number)
    assert ledger.evaluate_error("RegulatorMSP", "lease", "GetLease", lease_id)[0] == "NOT_FOUND"
    # The same write with the policy's endorsers commits.
    assert ledger.submit("LessorMSP", "lease", "CreateLease", body, transient=private)["status"] == "draft"


def test_roles_key_level_policy_needs_every_lessor_and_regulator(ledger, consortium):
    """SetRoles by the Lessor admin with the roles unchanged. The roles key carries a key-level
    policy (peers of every lessor AND every regulator MSP) that overrides the chaincode's for
    that key: Grid + Regulator satisfies emission's chaincode policy but not the key's."""
    admin = connect_admin(consortium, "LessorMSP")
    try:
        def set_roles(chaincode, orgs):
            roles = ledger.evaluate("LessorMSP", chaincode, "GetRoles")
            body = json.dumps({k: roles[k] for k in ("lessor", "grid", "regulator", "partner")})
            return admin.get_network(ledger.channel).get_contract(chaincode).submit(
                "SetRoles", arguments=[body], endorsing_organizations=orgs)

        before = {cc: ledger.evaluate("GridMSP", cc, "GetRoles") for cc in ("emission", "lease")}
        failing = [("emission", ["LessorMSP"]), ("emission", ["LessorMSP", "GridMSP"]),
                   ("emission", ["GridMSP", "RegulatorMSP"]), ("lease", ["LessorMSP"]),
                   ("lease", ["LessorMSP", "GridMSP"])]
        for chaincode, orgs in failing:
            with pytest.raises(errors.CommitError) as info:
                set_roles(chaincode, orgs)
            assert info.value.code == "ENDORSEMENT_POLICY_FAILURE", (chaincode, orgs)
            ledger.settle(info.value.block_number)
        assert {cc: ledger.evaluate("GridMSP", cc, "GetRoles") for cc in before} == before

        # A client identity (not admin) is refused by the chaincode itself.
        roles = before["lease"]
        body = json.dumps({k: roles[k] for k in ("lessor", "grid", "regulator", "partner")})
        assert ledger.refused("LessorMSP", "lease", "SetRoles", body)[0] == "FORBIDDEN"

        # With Lessor and Regulator endorsing, the same change commits (a new version of the
        # same roles), which shows the failures above were the policy's doing.
        for chaincode, orgs in [("emission", ["LessorMSP", "GridMSP", "RegulatorMSP"]),
                                ("lease", ["LessorMSP", "RegulatorMSP"])]:
            result = set_roles(chaincode, orgs)
            ledger.settle(result.block_number)
            after = ledger.evaluate("GridMSP", chaincode, "GetRoles")
            assert after["version"] == before[chaincode]["version"] + 1 and after["updated_by_msp"] == "LessorMSP"
            assert {k: after[k] for k in ("lessor", "grid", "regulator", "partner")} == \
                {k: before[chaincode][k] for k in ("lessor", "grid", "regulator", "partner")}
    finally:
        admin.close()
