"""The read model against the real consortium: writes made through the REST gateways show up in
the filtered read routes of a gateway that follows the chaincode events, and a gateway that
stops and starts again on the same database resumes from its checkpoint with nothing missed
and nothing twice."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from gateway.api import create_app
from gateway.api.config import Config
from gateway.api.readmodel import ReadModel

from .test_api import TERMS, created, fabric_settings, start_gateways, unique

WAIT_S = 20


@pytest.fixture(scope="module")
def writers(consortium, tmp_path_factory):
    """Gateways to write through (their read model is off: the reader below is under test)."""
    running, stop = start_gateways(consortium, tmp_path_factory)
    yield running
    stop()


class Reader:
    """A gateway (Lessor's unless told) with its read model on, served over HTTP, on a given
    database."""

    def __init__(self, consortium, database_url: str, msp_id: str = "LessorMSP"):
        self.app = create_app(Config(fabric=fabric_settings(consortium, msp_id),
                                     database_url=database_url, read_model_enabled=True))
        services = self.app.extensions["carbonlease"]
        self.read_model = services.read_model
        self.key = services.credentials.create(unique("reader"), "reader").key
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def get(self, path, **params) -> dict:
        response = requests.get(self.url + path, params=params, timeout=30,
                                headers={"Authorization": f"Bearer {self.key}"})
        assert response.status_code == 200, response.text
        return response.json()

    def all_records(self, path, **filters) -> list[dict]:
        records, bookmark = [], ""
        while True:
            page = self.get(path, page_size=100, bookmark=bookmark, **filters)
            records += page["records"]
            bookmark = page["bookmark"]
            if not bookmark:
                return records

    def wait_for(self, path, condition, **filters) -> list[dict]:
        """Poll until ``condition(records)`` holds; bounded, so a stuck listener fails."""
        deadline = time.monotonic() + WAIT_S
        while True:
            records = self.all_records(path, **filters)
            if condition(records):
                return records
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} {filters} not as expected after {WAIT_S} s: "
                                     f"{records}")
            time.sleep(0.2)

    def stop(self):
        self.read_model.stop()
        self._server.shutdown()


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('readmodel') / 'gateway.db'}"


@pytest.fixture(scope="module")
def reader(consortium, database_url):
    running = Reader(consortium, database_url)
    yield running
    running.stop()


def ids(records, key):
    return sorted(r[key] for r in records)


def visible_to(gateway, transaction_id):
    """Wait until the gateway's own peer has committed the transaction (cross-org writes)."""
    deadline = time.monotonic() + WAIT_S
    while gateway.get(f"/api/v1/transactions/{transaction_id}").status_code != 200:
        assert time.monotonic() < deadline, transaction_id
        time.sleep(0.1)


def register_project(lessor, category):
    body = {"project_id": unique("rm-proj"), "name": "Read model PV", "category": category,
            "expected_annual_reduction_kg": 1_000, "location": "Foshan"}
    response = lessor.post("/api/v1/projects", body)
    return created(response), response.json()["block_number"]


def test_projects_appear_with_filters(writers, reader):
    lessor, partner = writers["LessorMSP"], writers["HKPartnerMSP"]
    mine = [register_project(lessor, "ev")[0] for _ in range(3)]
    theirs, last_block = register_project(partner, "ev")
    storage, _ = register_project(lessor, "energy_storage")
    wanted = ids(mine, "project_id")

    records = reader.wait_for(
        "/api/v1/read/projects",
        lambda rs: set(wanted) <= {r["project_id"] for r in rs},
        category="ev", owner_msp="LessorMSP")
    assert all(r["category"] == "ev" and r["owner_msp"] == "LessorMSP" for r in records)
    assert theirs["project_id"] not in {r["project_id"] for r in records}
    assert storage["project_id"] not in {r["project_id"] for r in records}
    shown = {r["project_id"]: r for r in records}[mine[0]["project_id"]]
    assert {k: shown[k] for k in mine[0]} == mine[0]

    partner_ev = reader.wait_for("/api/v1/read/projects",
                                 lambda rs: theirs["project_id"] in ids(rs, "project_id"),
                                 category="ev", owner_msp="HKPartnerMSP")
    assert all(r["owner_msp"] == "HKPartnerMSP" for r in partner_ev)
    assert reader.get("/api/v1/read/projects", page_size=1)["as_of_block"] >= last_block


def test_reports_follow_submission_rejection_correction_verification(writers, reader):
    lessor, regulator = writers["LessorMSP"], writers["RegulatorMSP"]
    lessee = unique("rm-lessee")
    report = {"report_id": unique("rm-rep"), "lessee_id": lessee, "period_start": "2025-01-01",
              "period_end": "2025-04-01", "scope1_kg": 10, "meter_reading_ids": [],
              "evidence_sha256": "ab" * 32}
    first = lessor.post("/api/v1/emission-reports", report)
    created(first)
    visible_to(regulator, first.json()["transaction_id"])
    rejection = regulator.post(f"/api/v1/emission-reports/{report['report_id']}/reject",
                               {"reason": "evidence missing"})
    created(rejection, 200)
    visible_to(lessor, rejection.json()["transaction_id"])
    corrected = {**report, "report_id": unique("rm-rep"), "scope1_kg": 12,
                 "supersedes": report["report_id"]}
    second = lessor.post("/api/v1/emission-reports", corrected)
    created(second)
    other_period = {**report, "report_id": unique("rm-rep"), "period_start": "2025-04-01",
                    "period_end": "2025-07-01"}
    created(lessor.post("/api/v1/emission-reports", other_period))
    visible_to(regulator, second.json()["transaction_id"])
    created(regulator.post(f"/api/v1/emission-reports/{corrected['report_id']}/verify"), 200)

    records = reader.wait_for(
        "/api/v1/read/emission-reports",
        lambda rs: {r["report_id"]: r["status"] for r in rs} == {
            report["report_id"]: "superseded", corrected["report_id"]: "verified",
            other_period["report_id"]: "submitted"},
        lessee_id=lessee)
    by_id = {r["report_id"]: r for r in records}
    assert by_id[report["report_id"]]["superseded_by"] == corrected["report_id"]
    assert by_id[corrected["report_id"]]["version"] == 2
    assert by_id[corrected["report_id"]]["total_kg"] == 12
    assert by_id[corrected["report_id"]]["verified_at"] is not None

    verified = reader.all_records("/api/v1/read/emission-reports", lessee_id=lessee,
                                  status="verified")
    assert ids(verified, "report_id") == [corrected["report_id"]]
    second_quarter = reader.all_records("/api/v1/read/emission-reports", lessee_id=lessee,
                                        period_from="2025-04-01", period_to="2025-07-01")
    assert ids(second_quarter, "report_id") == [other_period["report_id"]]


def test_leases_follow_creation_activation_rate_payment(writers, reader, consortium,
                                                        tmp_path_factory):
    lessor = writers["LessorMSP"]
    project, _ = register_project(lessor, "clean_energy")
    lessee_ref = unique("rm-ref")
    leases = [created(lessor.post("/api/v1/leases", {
        "lease_id": unique("rm-lease"), "lessee_ref": lessee_ref, "lessee_id": unique("rm-lessee"),
        "lessee_name": "Nansha Steel Co.", "project_id": project["project_id"],
        "terms": TERMS})) for _ in range(2)]
    active_id = leases[0]["lease_id"]
    created(lessor.post(f"/api/v1/leases/{active_id}/activate"), 200)
    created(lessor.post(f"/api/v1/leases/{active_id}/fix-rate"), 200)
    view = lessor.get(f"/api/v1/leases/{active_id}").json()["private"]
    schedule = lessor.get(f"/api/v1/leases/{active_id}/schedule").json()
    created(lessor.post(f"/api/v1/leases/{active_id}/payments", {
        "period": 1, "amount_fen": schedule["rows"][0]["instalment_fen"],
        "paid_on": "2025-01-15"}))

    # The Lessor, a member of the lease terms collection, fills the private columns.
    records = reader.wait_for(
        "/api/v1/read/leases",
        lambda rs: [(r["lease_id"], r["paid_through_period"]) for r in rs] == [(active_id, 1)],
        status="active", lessee_ref=lessee_ref)
    [active] = records
    assert active["fixed_through_period"] == 2
    assert active["rate_bps"] == view["adjustments"][-1]["rate_bps"]
    assert active["principal_fen"] == TERMS["principal_fen"]
    assert active["lessee_id"] == view["terms"]["lessee_id"]
    assert ids(reader.all_records("/api/v1/read/leases", lessee_id=active["lessee_id"]),
               "lease_id") == [active_id]
    drafts = reader.all_records("/api/v1/read/leases", status="draft",
                                project_id=project["project_id"])
    assert ids(drafts, "lease_id") == [leases[1]["lease_id"]]

    # The Grid's read model follows the same events and has the public columns only.
    grid = Reader(consortium, f"sqlite:///{tmp_path_factory.mktemp('grid-rm') / 'gateway.db'}",
                  "GridMSP")
    try:
        [seen] = grid.wait_for(
            "/api/v1/read/leases",
            lambda rs: [(r["lease_id"], r["paid_through_period"]) for r in rs] == [(active_id, 1)],
            status="active", lessee_ref=lessee_ref)
    finally:
        grid.stop()
    assert (seen["status"], seen["project_id"], seen["fixed_through_period"]) == (
        "active", project["project_id"], 2)
    assert all(seen[name] is None for name in ("lessee_id", "principal_fen", "base_rate_bps",
                                                "term_periods", "period_months", "start_date",
                                                "rate_bps"))


def test_status_reports_the_position(reader):
    status = reader.get("/api/v1/read/status")
    assert status["channel_height"] > 1
    for chaincode in status["chaincodes"]:
        assert chaincode["listening"] is True
        assert 0 < chaincode["block_number"] < status["channel_height"]
    metrics = requests.get(reader.url + "/metrics", timeout=10).text
    assert 'carbonlease_read_model_block{chaincode="lease"}' in metrics


def ledger_project_ids(lessor) -> set[str]:
    """Every project on the ledger, through the chaincode's own paging."""
    found, bookmark = set(), ""
    while True:
        page = lessor.get("/api/v1/projects", params={"page_size": 100,
                                                      "bookmark": bookmark}).json()
        found |= {p["project_id"] for p in page["records"]}
        bookmark = page["bookmark"]
        if not bookmark:
            return found


def test_restart_resumes_from_the_checkpoint(writers, reader, consortium, database_url,
                                             monkeypatch):
    lessor = writers["LessorMSP"]
    register_project(lessor, "energy_saving")
    reader.wait_for("/api/v1/read/projects",
                    lambda rs: ids(rs, "project_id") == sorted(ledger_project_ids(lessor)))
    reader.stop()
    stopped_at = reader.read_model.checkpoint("lease")
    assert stopped_at is not None

    # Written while nothing follows the events: the database must not move.
    while_stopped = [register_project(lessor, "energy_saving")[0]["project_id"]
                     for _ in range(3)]
    time.sleep(1)
    assert reader.read_model.checkpoint("lease") == stopped_at

    delivered = []  # every event the restarted gateway's peer streams to it
    apply = ReadModel.apply

    def recording_apply(self, chaincode, event):
        applied = apply(self, chaincode, event)
        delivered.append((chaincode, event.event_name, event.block_number, applied))
        return applied

    monkeypatch.setattr(ReadModel, "apply", recording_apply)
    restarted = Reader(consortium, database_url)
    try:
        records = restarted.wait_for(
            "/api/v1/read/projects",
            lambda rs: set(while_stopped) <= {r["project_id"] for r in rs})
        # Nothing missed, nothing twice: exactly the ledger's projects, each once.
        assert ids(records, "project_id") == sorted(ledger_project_ids(lessor))
        assert len(records) == len({r["project_id"] for r in records})
        resumed = restarted.read_model.checkpoint("lease")
        assert resumed.block_number > stopped_at.block_number
        # The stream started after the checkpoint: only the three new events came, each once.
        lease_events = [d for d in delivered if d[0] == "lease"]
        assert [(name, applied) for _, name, _, applied in lease_events] == [
            ("ProjectRegistered", True)] * 3
        assert all(block > stopped_at.block_number for _, _, block, _ in lease_events)
        # Rows written before the stop kept the position of the event that wrote them: the
        # restart replayed nothing before its checkpoint.
        assert all(r["block_number"] <= stopped_at.block_number for r in records
                   if r["project_id"] not in while_stopped)
        assert all(r["block_number"] > stopped_at.block_number for r in records
                   if r["project_id"] in while_stopped)
    finally:
        restarted.stop()
