"""Chaincode events as the peer delivers them, with the chaincodes' canonical payloads."""

import hashlib
import itertools
import json

from gateway.fabricgw.events import ChaincodeEvent

from .samples import PROJECT, REPORT, TERMS

_tx_numbers = itertools.count(1)


def tx_id() -> str:
    return hashlib.sha256(f"tx-{next(_tx_numbers)}".encode()).hexdigest()


def event(block: int, name: str, payload: dict, *, chaincode: str = "lease",
          transaction_id: str | None = None) -> ChaincodeEvent:
    return ChaincodeEvent(block, transaction_id or tx_id(), chaincode, name,
                          json.dumps(payload, sort_keys=True).encode())


def project(project_id="p-1", *, category="clean_energy", owner_msp="LessorMSP", **fields):
    return {**PROJECT, "project_id": project_id, "category": category, "owner_msp": owner_msp,
            "registered_at": "2025-01-02T03:04:05.000Z", **fields}


def report(report_id="rep-1", *, lessee_id="lessee-1", status="submitted", version=1,
           supersedes=None, period_start="2024-01-01", period_end="2024-04-01", **fields):
    return {**REPORT, "report_id": report_id, "lessee_id": lessee_id,
            "period_start": period_start, "period_end": period_end, "scope2_kg": 57_000,
            "total_kg": 62_000, "scope2_lines": [], "version": version,
            "supersedes": supersedes, "superseded_by": None, "status": status,
            "submitted_by_msp": "LessorMSP", "submitted_at": "2025-01-02T00:00:00.000Z",
            "verified_by_msp": "RegulatorMSP" if status == "verified" else None,
            "verified_at": "2025-01-03T00:00:00.000Z" if status == "verified" else None,
            "rejected_by_msp": None, "rejected_at": None, "rejection_reason": None, **fields}


def lease(lease_id="l-1", *, lessee_ref="ref-1", project_id="p-1", status="draft",
          fixed_through_period=1, **fields):
    """The public lease, as LeaseCreated/Activated/Terminated carry it."""
    return {"lease_id": lease_id, "lessee_ref": lessee_ref, "project_id": project_id,
            "status": status, "created_at": "2025-01-01T00:00:00.000Z",
            "activated_at": None if status == "draft" else "2025-01-01T01:00:00.000Z",
            "terminated_at": None, "matured_at": None,
            "fixed_through_period": fixed_through_period, "paid_through_period": 0,
            "terms_hash": "ab" * 32, "termination_hash": None, "adjustments": [],
            "payments": [], "private_data_purged_at": None, **fields}


def private_view(lease_id="l-1", *, lessee_id="lessee-1", rates=()):
    """GetLease's ``private`` as a member org reads it (adjustment records cut to what the read
    model uses)."""
    return {"terms": {"lease_id": lease_id, "lessee_id": lessee_id, "lessee_name": "Lessee",
                      "terms": TERMS, "salt": "01" * 32},
            "adjustments": [{"period": 2 + n, "rate_bps": rate} for n, rate in enumerate(rates)],
            "payments": [], "termination": None}
