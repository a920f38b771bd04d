"""Every route becomes the right chaincode call, and its answer has the contract's shape."""

import json
import re

import pytest

from .samples import LEASE, NAMED_ENDORSERS, PRIVATE_WRITES, READS, ROLES, TERMS, TX_ID, WRITES


@pytest.mark.parametrize("method,path,body,status,chaincode,transaction,arguments", WRITES,
                         ids=[w[5] for w in WRITES])
def test_write_is_submitted_and_answers_with_commit(client, network, as_role, method, path, body,
                                                    status, chaincode, transaction, arguments):
    network.on(chaincode, transaction, lambda args: {"echo": args})
    network.on("lease", "GetRoles", lambda args: ROLES)
    response = client.open(path, method=method, json=body, headers=as_role("writer"))
    assert response.status_code == status, response.get_json()
    answer = response.get_json()
    assert set(answer) == {"transaction_id", "block_number", "result"}
    assert len(answer["transaction_id"]) == 64 and answer["block_number"] >= 10
    [call] = network.submits()
    assert (call.chaincode, call.transaction, call.arguments, call.kind) == (
        chaincode, transaction, arguments, "submit")
    assert call.endorsers == NAMED_ENDORSERS.get(transaction)
    transient = {name: json.loads(value) for name, value in call.transient.items()}
    if transaction == "CreateLease":
        assert re.fullmatch("[0-9a-f]{64}", transient["lease_private"].pop("salt"))
    assert transient == PRIVATE_WRITES.get(transaction, {})


def test_every_lease_gets_its_own_salt(client, network, as_role):
    for lease_id in ("l-1", "l-2"):
        client.post("/api/v1/leases", json={**LEASE, "lease_id": lease_id}, headers=as_role("writer"))
    salts = {json.loads(c.transient["lease_private"])["salt"] for c in network.submits("CreateLease")}
    assert len(salts) == 2


@pytest.mark.parametrize("path,chaincode,transaction,arguments,answer,expected", READS,
                         ids=[r[2] + ("-paged" if "?" in r[0] else "") for r in READS])
def test_read_is_evaluated(client, network, as_role, path, chaincode, transaction, arguments,
                           answer, expected):
    network.on(chaincode, transaction, lambda args: answer)
    response = client.get(path, headers=as_role("reader"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == expected
    [call] = network.calls
    assert (call.chaincode, call.transaction, call.arguments, call.kind) == (
        chaincode, transaction, arguments, "evaluate")


def test_record_fields_pass_through(client, network, as_role):
    project = {"project_id": "p-1", "name": "Rooftop solar", "category": "clean_energy",
               "expected_annual_reduction_kg": 5, "location": "Shenzhen",
               "owner_msp": "HKPartnerMSP", "registered_at": "2025-01-01T00:00:00.000Z"}
    network.on("lease", "GetProject", lambda args: project)
    assert client.get("/api/v1/projects/p-1", headers=as_role("reader")).get_json() == project


PUBLIC_LEASE = {"lease_id": "l-1", "project_id": "p-1", "lessee_ref": "ref-1", "status": "active",
                "created_at": "t", "activated_at": "t", "terminated_at": None, "matured_at": None,
                "fixed_through_period": 2, "paid_through_period": 1, "terms_hash": "ab" * 32,
                "termination_hash": None,
                "adjustments": [{"period": 2, "fixed_at": "t", "record_hash": "cd" * 32}],
                "payments": [{"period": 1, "recorded_at": "t", "record_hash": "ef" * 32}],
                "private_data_purged_at": None}
PRIVATE = {
    "terms": {"lease_id": "l-1", "lessee_id": "lessee-1", "lessee_name": "Lessee One Ltd",
              "terms": TERMS, "salt": "01" * 32},
    "adjustments": [{"lease_id": "l-1", "period": 2, "based_on_period": 1,
                     "period_start": "2025-01-01", "period_end": "2025-04-01", "report_id": None,
                     "verified_kg": None, "target_kg": 120000, "performance_bps": None,
                     "tier_min_performance_bps": None, "basis": "missing_report",
                     "adjustment_bps": 50, "rate_bps": 500, "fixed_at": "t", "salt": "01" * 32}],
    "payments": [{"lease_id": "l-1", "period": 1, "amount_fen": 5, "paid_on": "2025-01-02",
                  "due_date": "2025-04-01", "recorded_at": "t", "salt": "01" * 32}],
    "termination": None,
}


@pytest.mark.parametrize("private", [PRIVATE, None], ids=["member", "non-member"])
def test_lease_shows_private_records_where_the_chaincode_gives_them(client, network, as_role,
                                                                     private):
    network.on("lease", "GetLease", lambda args: {**PUBLIC_LEASE, "private": private})
    answer = client.get("/api/v1/leases/l-1", headers=as_role("reader")).get_json()
    assert answer == {**PUBLIC_LEASE, "private": private}


def test_a_write_answers_the_public_record(client, network, as_role):
    network.on("lease", "CreateLease", lambda args: {**PUBLIC_LEASE, "status": "draft"})
    response = client.post("/api/v1/leases", json=LEASE, headers=as_role("writer"))
    assert response.get_json()["result"] == {**PUBLIC_LEASE, "status": "draft"}


def test_lessee_ref_must_not_be_missing(client, network, as_role):
    body = {k: v for k, v in LEASE.items() if k != "lessee_ref"}
    response = client.post("/api/v1/leases", json=body, headers=as_role("writer"))
    assert response.status_code == 422
    assert network.calls == []


def test_preview_is_a_read_for_readers(client, network, as_role):
    row = {"period": 1, "rate_bps": 450, "adjustment_bps": 0, "interest_fen": 1,
           "principal_fen": 2, "instalment_fen": 3, "outstanding_after_fen": 4}
    network.on("lease", "PreviewSchedule", lambda args: [row] * 4)
    response = client.post("/api/v1/leases/preview",
                           json={"terms": TERMS, "emissions": [None, 100, 0, None]},
                           headers=as_role("reader"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"rows": [row] * 4}
    [call] = network.calls
    assert call.kind == "evaluate" and call.transaction == "PreviewSchedule"
    assert call.arguments[1] == "[null,100,0,null]"


def test_transaction_status(client, network, as_role):
    network.on("lease", "ActivateLease", lambda args: {})
    written = client.post("/api/v1/leases/l-1/activate", headers=as_role("writer")).get_json()
    response = client.get(f"/api/v1/transactions/{written['transaction_id']}",
                          headers=as_role("reader"))
    assert response.get_json() == {"transaction_id": written["transaction_id"],
                                   "validation_code": "VALID",
                                   "block_number": written["block_number"]}


def test_unknown_transaction_is_404(client, as_role):
    response = client.get(f"/api/v1/transactions/{TX_ID}", headers=as_role("reader"))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


def test_malformed_ids_are_not_routes(client, network, as_role):
    for path in ("/api/v1/projects/-bad", "/api/v1/projects/" + "x" * 65,
                 "/api/v1/transactions/xyz", "/api/v1/emission-factors/GD/1800"):
        response = client.get(path, headers=as_role("reader"))
        assert response.status_code == 404, path
    assert network.calls == []
