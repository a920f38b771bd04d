"""Every route refuses malformed input itself, naming the failing field (nothing reaches Fabric)."""

import pytest

from .samples import FACTOR, LEASE, PROJECT, READING, REPORT, TERMS


def change(base, **fields):
    return {**base, **fields}


def without(base, field):
    return {k: v for k, v in base.items() if k != field}


CASES = [
    # emission factors
    ("/api/v1/emission-factors", change(FACTOR, year="2024"), "year"),
    ("/api/v1/emission-factors", change(FACTOR, year=True), "year"),
    ("/api/v1/emission-factors", change(FACTOR, factor_g_per_kwh=1.5), "factor_g_per_kwh"),
    ("/api/v1/emission-factors", change(FACTOR, factor_g_per_kwh=-1), "factor_g_per_kwh"),
    ("/api/v1/emission-factors", change(FACTOR, region="a:b"), "region"),
    ("/api/v1/emission-factors", change(FACTOR, region="ab\n"), "region"),
    ("/api/v1/emission-factors", change(FACTOR, supersede_reason="   "), "supersede_reason"),
    ("/api/v1/emission-factors", without(FACTOR, "region"), "region"),
    # meter readings
    ("/api/v1/meter-readings", change(READING, period_start="2024-02-30"), "period_start"),
    ("/api/v1/meter-readings", change(READING, period_end="2024-4-1"), "period_end"),
    ("/api/v1/meter-readings", change(READING, kwh=None), "kwh"),
    ("/api/v1/meter-readings", change(READING, facility="x"), "facility"),
    # reports
    ("/api/v1/emission-reports", change(REPORT, evidence_sha256="AB" * 32), "evidence_sha256"),
    ("/api/v1/emission-reports", change(REPORT, meter_reading_ids="r-1"), "meter_reading_ids"),
    ("/api/v1/emission-reports", change(REPORT, meter_reading_ids=[""]), "meter_reading_ids"),
    ("/api/v1/emission-reports", change(REPORT, scope1_kg=10**12), "scope1_kg"),
    ("/api/v1/emission-reports/rep-1/reject", {}, "reason"),
    ("/api/v1/emission-reports/rep-1/reject", {"reason": ""}, "reason"),
    # projects
    ("/api/v1/projects", change(PROJECT, category="coal"), "category"),
    ("/api/v1/projects", change(PROJECT, name="x" * 201), "name"),
    ("/api/v1/projects", change(PROJECT, name="\U0001F600" * 201), "name"),  # 201 code points
    ("/api/v1/projects", change(PROJECT, name="\ud800"), "name"),  # sent as the escape \ud800
    ("/api/v1/projects", change(PROJECT, location="Shenzhen\x00"), "location"),
    ("/api/v1/projects/p-1/interest", {"amount_fen": 0, "note": ""}, "amount_fen"),
    ("/api/v1/projects/p-1/interest", {"amount_fen": 5}, "note"),
    # leases
    ("/api/v1/leases", change(LEASE, terms=change(TERMS, period_months=2)), "terms"),
    ("/api/v1/leases", change(LEASE, terms=change(TERMS, start_date="2025-01-29")), "terms"),
    ("/api/v1/leases", change(LEASE, terms=change(TERMS, amortization="bullet")), "terms"),
    ("/api/v1/leases", change(LEASE, terms=change(TERMS, ratchet=[
        {"min_performance_bps": 0, "adjustment_bps": 0},
        {"min_performance_bps": 0, "adjustment_bps": 5}])), "terms"),
    ("/api/v1/leases", change(LEASE, terms=without(TERMS, "cap_bps")), "terms"),
    ("/api/v1/leases", change(LEASE, terms=change(TERMS, floor_bps=5)), "terms"),
    ("/api/v1/leases", change(LEASE, terms=change(TERMS, principal_fen=0)), "terms"),
    ("/api/v1/leases/l-1/terminate", {"reason": 5}, "reason"),
    ("/api/v1/leases/l-1/payments", {"period": 0, "amount_fen": 1, "paid_on": "2025-01-02"},
     "period"),
    ("/api/v1/leases/l-1/payments", {"period": 1, "amount_fen": "1", "paid_on": "2025-01-02"},
     "amount_fen"),
    ("/api/v1/leases/preview", {"terms": TERMS, "emissions": [1, 2]}, "emissions"),
    ("/api/v1/leases/preview", {"terms": TERMS, "emissions": [1, 2, 3, -4]}, "emissions"),
    ("/api/v1/leases/preview", {"terms": TERMS}, "emissions"),
]


@pytest.mark.parametrize("path,body,field", CASES)
def test_malformed_body_names_the_field(client, network, as_role, path, body, field):
    response = client.post(path, json=body, headers=as_role("admin"))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert field in error["details"]["json"]
    assert network.calls == []


@pytest.mark.parametrize("path", ["/api/v1/emission-factors", "/api/v1/leases",
                                  "/api/v1/leases/preview", "/api/v1/projects/p-1/interest"])
@pytest.mark.parametrize("body", [[], "text", 5, None])
def test_body_must_be_an_object(client, network, as_role, path, body):
    response = client.post(path, json=body, headers=as_role("admin"))
    assert response.status_code in (400, 422)
    assert set(response.get_json()["error"]) == {"code", "message", "details"}
    assert network.calls == []


@pytest.mark.parametrize("query", ["page_size=0", "page_size=101", "page_size=ten",
                                   "bookmark=" + "b" * 1001])
def test_bad_paging(client, network, as_role, query):
    response = client.get(f"/api/v1/projects?{query}", headers=as_role("reader"))
    assert response.status_code == 422
    assert "query" in response.get_json()["error"]["details"]
    assert network.calls == []


def test_body_without_json_content_type(client, network, as_role):
    response = client.post("/api/v1/projects", data="project_id=p",
                           headers=as_role("writer"))
    assert response.status_code == 422
    assert network.calls == []
