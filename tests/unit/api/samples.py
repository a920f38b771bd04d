"""A valid request for every route, and the chaincode call it must become."""

import json

TERMS = {
    "principal_fen": 1_000_000_00, "base_rate_bps": 450, "term_periods": 4, "period_months": 3,
    "amortization": "annuity", "start_date": "2025-01-01", "baseline_kg": 120_000,
    "annual_reduction_bps": 500,
    "ratchet": [{"min_performance_bps": 0, "adjustment_bps": 0},
                {"min_performance_bps": 500, "adjustment_bps": -25}],
    "cap_bps": 100, "floor_bps": -50, "missing_report_bps": 50,
}
FACTOR = {"region": "GD-SZ", "year": 2024, "factor_g_per_kwh": 570}
READING = {"reading_id": "r-1", "lessee_id": "lessee-1", "facility_id": "f-1",
           "region": "GD-SZ", "period_start": "2024-01-01", "period_end": "2024-04-01",
           "kwh": 100_000}
REPORT = {"report_id": "rep-1", "lessee_id": "lessee-1", "period_start": "2024-01-01",
          "period_end": "2024-04-01", "scope1_kg": 5000, "meter_reading_ids": ["r-1"],
          "evidence_sha256": "ab" * 32}
PROJECT = {"project_id": "p-1", "name": "Rooftop solar", "category": "clean_energy",
           "expected_annual_reduction_kg": 400_000, "location": "Shenzhen"}
LEASE = {"lease_id": "l-1", "lessee_ref": "ref-1", "lessee_id": "lessee-1",
         "lessee_name": "Lessee One Ltd", "project_id": "p-1", "terms": TERMS}
LEASE_PUBLIC = {"lease_id": "l-1", "project_id": "p-1", "lessee_ref": "ref-1"}
TX_ID = "0f" * 32


def js(value):
    return json.dumps(value, separators=(",", ":"))


# (method, path, body, status, chaincode, transaction, chaincode arguments); the private part
# of a body goes as transient data (PRIVATE_WRITES), never as an argument.
WRITES = [
    ("POST", "/api/v1/emission-factors", FACTOR, 201, "emission", "PublishFactor", [js(FACTOR)]),
    ("POST", "/api/v1/meter-readings", READING, 201, "emission", "SubmitMeterReading",
     [js(READING)]),
    ("POST", "/api/v1/emission-reports", REPORT, 201, "emission", "SubmitReport", [js(REPORT)]),
    ("POST", "/api/v1/emission-reports/rep-1/verify", None, 200, "emission", "VerifyReport",
     ["rep-1"]),
    ("POST", "/api/v1/emission-reports/rep-1/reject", {"reason": "meter mismatch"}, 200,
     "emission", "RejectReport", ["rep-1", "meter mismatch"]),
    ("POST", "/api/v1/projects", PROJECT, 201, "lease", "RegisterProject", [js(PROJECT)]),
    ("POST", "/api/v1/projects/p-1/interest", {"amount_fen": 500, "note": ""}, 201, "lease",
     "ExpressInterest", ["p-1", js({"amount_fen": 500, "note": ""})]),
    ("POST", "/api/v1/leases", LEASE, 201, "lease", "CreateLease", [js(LEASE_PUBLIC)]),
    ("POST", "/api/v1/leases/l-1/activate", None, 200, "lease", "ActivateLease", ["l-1"]),
    ("POST", "/api/v1/leases/l-1/terminate", {"reason": "lessee default"}, 200, "lease",
     "TerminateLease", ["l-1"]),
    ("POST", "/api/v1/leases/l-1/fix-rate", None, 200, "lease", "FixNextRate", ["l-1"]),
    ("POST", "/api/v1/leases/l-1/payments",
     {"period": 1, "amount_fen": 25_000_00, "paid_on": "2025-01-15"}, 201, "lease",
     "RecordPayment", ["l-1", "1"]),
    ("POST", "/api/v1/leases/l-1/purge-private-data", None, 200, "lease",
     "PurgeLeasePrivateData", ["l-1"]),
]

ROLES = {"lessor": ["LessorMSP"], "grid": ["GridMSP"], "regulator": ["RegulatorMSP"],
         "partner": ["HKPartnerMSP"]}
# transaction -> the endorsing orgs the gateway names (else Fabric's discovery picks)
NAMED_ENDORSERS = {"FixNextRate": ["LessorMSP", "RegulatorMSP"]}

# transaction -> its transient data as the chaincode must receive it (the lease's salt is random)
PRIVATE_WRITES = {
    "CreateLease": {"lease_private": {"lessee_id": "lessee-1", "lessee_name": "Lessee One Ltd",
                                      "terms": TERMS}},
    "TerminateLease": {"termination": {"reason": "lessee default"}},
    "RecordPayment": {"payment": {"amount_fen": 25_000_00, "paid_on": "2025-01-15"}},
}

# (path, chaincode, transaction, chaincode arguments, chaincode answer, REST answer)
PAGE = {"records": [], "fetched_count": 0, "bookmark": ""}
READS = [
    ("/api/v1/emission-factors/GD-SZ/2024", "emission", "GetFactor", ["GD-SZ", "2024"], {}, {}),
    ("/api/v1/meter-readings/r-1", "emission", "GetMeterReading", ["r-1"], {}, {}),
    ("/api/v1/emission-reports/rep-1", "emission", "GetReport", ["rep-1"], {}, {}),
    ("/api/v1/lessees/lessee-1/emission-reports?page_size=5&bookmark=abc", "emission",
     "ListReportsByLessee", ["lessee-1", "5", "abc"], PAGE, PAGE),
    ("/api/v1/lessees/lessee-1/emission-reports", "emission", "ListReportsByLessee",
     ["lessee-1", "20", ""], PAGE, PAGE),
    ("/api/v1/projects", "lease", "ListProjects", ["20", ""], PAGE, PAGE),
    ("/api/v1/projects/p-1", "lease", "GetProject", ["p-1"], {}, {}),
    ("/api/v1/projects/p-1/interests", "lease", "ListInterests", ["p-1"], [],
     {"interests": []}),
    ("/api/v1/leases/l-1", "lease", "GetLease", ["l-1"], {}, {}),
    ("/api/v1/leases/l-1/schedule", "lease", "GetSchedule", ["l-1"], {}, {}),
    ("/api/v1/leases/l-1/history", "lease", "GetLeaseHistory", ["l-1"], [], {"history": []}),
]
