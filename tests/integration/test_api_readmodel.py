"""The read model against the real consortium: writes made through the REST gateways show up in
the filtered read routes of a gateway whose follower process follows the chaincode events; a
write the read model cannot apply becomes a dead letter and holds nothing back; and a follower
that stops and starts again on the same database resumes from its checkpoint with nothing
missed and nothing twice."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from gateway.api import create_app
from gateway.api.config import Config
from gateway.api.readmodel import follower
from gateway.fabricgw import errors
from tests.database import upgraded

from .fabric_clients import connect
from .followers import FollowerProcess, follower_env
from .test_api import TERMS, created, fabric_settings, start_gateways, unique

WAIT_S = 20
POISON_PREFIX = "rm-poison"


@pytest.fixture(scope="module")
def writers(consortium, tmp_path_factory):
    """Gateways to write through (no follower: the reader below is under test)."""
    running, stop = start_gateways(consortium, tmp_path_factory)
    yield running
    stop()


class Reader:
    """A gateway's read side (Lessor's unless told) as `scripts/up` runs it: the web app,
    served over HTTP, and the follower process, on one database."""

    def __init__(self, consortium, database_url: str, log_path: Path, msp_id: str = "LessorMSP"):
        self.app = create_app(Config(fabric=fabric_settings(consortium, msp_id),
                                     database_url=database_url))
        services = self.app.extensions["carbonlease"]
        self.read_model = services.read_model
        self.key = services.credentials.create(unique("reader"), "reader").key
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.log_path = log_path
        self._follower = FollowerProcess(follower_env(consortium, database_url, msp_id), log_path)
        self.start_follower()

    @property
    def follower(self):
        return self._follower.process

    def start_follower(self):
        self._follower.start()

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
        """Poll until ``condition(records)`` holds; bounded, so a stuck follower fails."""
        deadline = time.monotonic() + WAIT_S
        while True:
            records = self.all_records(path, **filters)
            if condition(records):
                return records
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} {filters} not as expected after {WAIT_S} s: "
                                     f"{records}\nfollower log:\n{self.log_path.read_text()}")
            time.sleep(0.2)

    def wait_for_status(self, condition) -> dict:
        deadline = time.monotonic() + WAIT_S
        while True:
            status = self.get("/api/v1/read/status")
            if condition({c["chaincode"]: c for c in status["chaincodes"]}):
                return status
            assert time.monotonic() < deadline, f"{status}\n{self.log_path.read_text()}"
            time.sleep(0.2)

    def stop_follower(self):
        self._follower.stop()

    def stop(self):
        self.stop_follower()
        self._server.shutdown()


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    return upgraded(f"sqlite:///{tmp_path_factory.mktemp('readmodel') / 'gateway.db'}")


@pytest.fixture(scope="module")
def reader(consortium, database_url, tmp_path_factory):
    running = Reader(consortium, database_url,
                     tmp_path_factory.mktemp("follower") / "follower.log")
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
    grid_folder = tmp_path_factory.mktemp("grid-rm")
    grid = Reader(consortium, upgraded(f"sqlite:///{grid_folder / 'gateway.db'}"),
                  grid_folder / "follower.log", "GridMSP")
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
    status = reader.wait_for_status(
        lambda chaincodes: all(c["listening"] and c["block_number"] for c in chaincodes.values()))
    assert status["channel_height"] > 1
    for chaincode in status["chaincodes"]:
        assert 0 < chaincode["block_number"] < status["channel_height"]
        assert chaincode["heartbeat_at"] is not None
        assert chaincode["follower_pid"] == reader.follower.pid
        assert 0 < chaincode["heartbeat_channel_height"] <= status["channel_height"]
    metrics = requests.get(reader.url + "/metrics", timeout=10).text
    assert 'carbonlease_read_model_block{chaincode="lease"}' in metrics
    assert 'carbonlease_read_model_listening{chaincode="lease"} 1.0' in metrics


def test_a_project_the_read_model_cannot_hold_is_a_dead_letter(writers, reader, consortium):
    """issue 12: a project named with a lone UTF-16 surrogate, written straight through Fabric
    (JSON allows the escape, the chaincode's JSON.parse keeps it). Whether this chaincode takes
    it or refuses it, the read model must go on with the writes after it."""
    poison_id = unique(POISON_PREFIX)
    poison = ('{"project_id":"%s","name":"\\ud800","category":"ev",'
              '"expected_annual_reduction_kg":1,"location":"x"}' % poison_id)
    with connect(consortium, "LessorMSP") as gateway:
        lease = gateway.get_network(consortium["channel"]).get_contract("lease")
        try:
            committed = lease.submit("RegisterProject", arguments=[poison])
        except errors.EndorseError as err:
            # A chaincode that holds the line: refused before ordering, nothing to follow.
            assert errors.chaincode_error_code(err)[0] == "INVALID_ARGUMENT", err
            committed = None
    after, _ = register_project(writers["LessorMSP"], "ev")
    reader.wait_for("/api/v1/read/projects",
                    lambda rs: after["project_id"] in ids(rs, "project_id"))
    projects = ids(reader.all_records("/api/v1/read/projects"), "project_id")
    assert poison_id not in projects
    dead = reader.all_records("/api/v1/read/dead-letters", chaincode="lease")
    if committed is None:
        assert poison_id.encode() not in b"".join(
            base64.b64decode(d["payload_base64"]) for d in dead)
        return
    [kept] = [d for d in dead if d["transaction_id"] == committed.transaction_id]
    payload = base64.b64decode(kept["payload_base64"])
    assert json.loads(payload)["project_id"] == poison_id
    assert (kept["block_number"], kept["event_name"]) == (committed.block_number,
                                                          "ProjectRegistered")
    assert "not well-formed Unicode" in kept["error"]
    status = reader.wait_for_status(lambda chaincodes: chaincodes["lease"]["listening"])
    lease_status = {c["chaincode"]: c for c in status["chaincodes"]}["lease"]
    assert lease_status["dead_letter_count"] >= 1
    assert committed.transaction_id in {d["transaction_id"]
                                        for d in lease_status["latest_dead_letters"]}
    metrics = requests.get(reader.url + "/metrics", timeout=10).text
    assert 'carbonlease_read_model_dead_letters{chaincode="lease"} 0.0' not in metrics


def ledger_project_ids(lessor) -> set[str]:
    """Every project on the ledger, through the chaincode's own paging, but the poison ones
    (kept as dead letters, not as projects)."""
    found, bookmark = set(), ""
    while True:
        page = lessor.get("/api/v1/projects", params={"page_size": 100,
                                                      "bookmark": bookmark}).json()
        found |= {p["project_id"] for p in page["records"]
                  if not p["project_id"].startswith(POISON_PREFIX)}
        bookmark = page["bookmark"]
        if not bookmark:
            return found


def test_restart_resumes_from_the_checkpoint(writers, reader, consortium, database_url,
                                             monkeypatch):
    lessor = writers["LessorMSP"]
    register_project(lessor, "energy_saving")
    reader.wait_for("/api/v1/read/projects",
                    lambda rs: ids(rs, "project_id") == sorted(ledger_project_ids(lessor)))
    reader.stop_follower()
    stopped_at = reader.read_model.checkpoint("lease")
    assert stopped_at is not None
    reader.wait_for_status(lambda chaincodes: not chaincodes["lease"]["listening"])

    # Written while nothing follows the events: the database must not move.
    while_stopped = [register_project(lessor, "energy_saving")[0]["project_id"]
                     for _ in range(3)]
    time.sleep(1)
    assert reader.read_model.checkpoint("lease") == stopped_at

    # The follower again, in this process so that what the peer streams can be watched.
    delivered = []
    apply_block = follower.apply_block

    def recording_apply_block(read_model, chaincode, events, *args, **kwargs):
        outcomes = apply_block(read_model, chaincode, events, *args, **kwargs)
        delivered.extend((chaincode, e.event_name, e.block_number, outcome)
                         for e, outcome in zip(events, outcomes))
        return outcomes

    monkeypatch.setattr(follower, "apply_block", recording_apply_block)
    stop = threading.Event()
    config = Config(fabric=fabric_settings(consortium, "LessorMSP"), database_url=database_url)
    restarted = threading.Thread(target=follower.run, args=(config, stop))
    restarted.start()
    try:
        records = reader.wait_for(
            "/api/v1/read/projects",
            lambda rs: set(while_stopped) <= {r["project_id"] for r in rs})
        # Nothing missed, nothing twice: exactly the ledger's projects, each once.
        assert ids(records, "project_id") == sorted(ledger_project_ids(lessor))
        assert len(records) == len({r["project_id"] for r in records})
        resumed = reader.read_model.checkpoint("lease")
        assert resumed.block_number > stopped_at.block_number
        # The stream started after the checkpoint: only the three new events came, each once.
        lease_events = [d for d in delivered if d[0] == "lease"]
        assert [(name, outcome) for _, name, _, outcome in lease_events] == [
            ("ProjectRegistered", follower.APPLIED)] * 3
        assert all(block > stopped_at.block_number for _, _, block, _ in lease_events)
        # Rows written before the stop kept the position of the event that wrote them: the
        # restart replayed nothing before its checkpoint.
        assert all(r["block_number"] <= stopped_at.block_number for r in records
                   if r["project_id"] not in while_stopped)
        assert all(r["block_number"] > stopped_at.block_number for r in records
                   if r["project_id"] in while_stopped)
    finally:
        stop.set()
        restarted.join(30)
        reader.start_follower()  # as the other tests of the module expect it
    assert not restarted.is_alive()
