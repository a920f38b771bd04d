"""The REST gateway against the real consortium, over HTTP.

One gateway per operating org (and one for the Hong Kong partner, which runs the same software
to express interest) is started in this process on a free port, configured exactly as the
network tool configures the gunicorn ones, from the ``clients`` entry of ``status --json``;
each has a fresh database with one API key per role.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
import time
import uuid

import pytest
import requests
from werkzeug.serving import make_server

from gateway.api import create_app
from gateway.api.config import Config, FabricSettings
from tests.database import upgraded

ORGS = ("LessorMSP", "GridMSP", "RegulatorMSP", "HKPartnerMSP")
ROLES = ("reader", "writer", "admin")


@dataclasses.dataclass
class RestGateway:
    """One running gateway and a key per role."""

    msp_id: str
    url: str
    keys: dict
    app: object
    database_url: str
    # Every gateway of the test: a write's next step may go through any of them.
    peers_of_the_test: list = dataclasses.field(default_factory=list)

    def call(self, method, path, role="writer", headers=None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.keys[role]}", **(headers or {})}
        return requests.request(method, self.url + path, headers=headers, timeout=120, **kwargs)

    def get(self, path, role="reader", **kwargs):
        return self.call("GET", path, role, **kwargs)

    def post(self, path, json=None, role="writer", **kwargs):
        response = self.call("POST", path, role, json=json, **kwargs)
        if response.ok and "transaction_id" in response.json():
            self.wait_until_seen_everywhere(response.json()["transaction_id"])
        return response

    def wait_until_seen_everywhere(self, tx_id, timeout=30.0):
        """What README tells applications to do before acting through another org's gateway:
        a write is answered once its own org's peer committed it; the others follow."""
        deadline = time.monotonic() + timeout
        for gateway in self.peers_of_the_test:
            while gateway.get(f"/api/v1/transactions/{tx_id}").status_code == 404:
                assert time.monotonic() < deadline, f"{tx_id} not committed at {gateway.msp_id}"
                time.sleep(0.05)


def fabric_settings(consortium, msp_id) -> FabricSettings:
    client = consortium["clients"][msp_id]
    return FabricSettings(
        msp_id=msp_id, peer_endpoint=client["peer_endpoint"], peer_tls_ca=client["peer_tls_ca"],
        peer_host_override=client.get("peer_host_override"), cert=client["cert"],
        key=client["key"], msp_dir=None, tls_cert=client["tls_cert"],
        tls_key=client["tls_key"], channel=consortium["channel"],
        emission_chaincode="emission", lease_chaincode="lease")


def start_gateways(consortium, tmp_path_factory, **config):
    """Start a gateway per org; returns ({msp_id: RestGateway}, stop())."""
    chaincodes = {c["name"] for c in consortium["chaincodes"] if c["healthy"]}
    assert {"emission", "lease"} <= chaincodes, consortium["chaincodes"]
    gateways, servers = {}, []
    for msp_id in ORGS:
        database_url = upgraded(f"sqlite:///{tmp_path_factory.mktemp(msp_id) / 'gateway.db'}")
        app = create_app(Config(fabric=fabric_settings(consortium, msp_id),
                                database_url=database_url, **config))
        store = app.extensions["carbonlease"].credentials
        keys = {role: store.create(f"it-{role}", role).key for role in ROLES}
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        gateways[msp_id] = RestGateway(msp_id, f"http://127.0.0.1:{server.server_port}", keys,
                                       app, database_url)
    for gateway in gateways.values():
        gateway.peers_of_the_test = list(gateways.values())

    def stop():
        for server in servers:
            server.shutdown()
    return gateways, stop


@pytest.fixture(scope="module")
def gateways(consortium, tmp_path_factory):
    # More MVCC retries than the default: the conflict test makes four writers race for one key.
    running, stop = start_gateways(consortium, tmp_path_factory, mvcc_retries=8)
    yield running
    stop()


@pytest.fixture(scope="module")
def lessor(gateways):
    return gateways["LessorMSP"]


@pytest.fixture(scope="module")
def grid(gateways):
    return gateways["GridMSP"]


@pytest.fixture(scope="module")
def regulator(gateways):
    return gateways["RegulatorMSP"]


@pytest.fixture(scope="module")
def partner(gateways):
    return gateways["HKPartnerMSP"]


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def created(response, status=201):
    assert response.status_code == status, response.text
    body = response.json()
    assert len(body["transaction_id"]) == 64 and body["block_number"] > 0
    return body["result"]


def refused(response, status, code):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return error


TERMS = {
    "principal_fen": 12_000_000, "base_rate_bps": 450, "term_periods": 4, "period_months": 3,
    "amortization": "annuity", "start_date": "2025-01-01", "baseline_kg": 100_000,
    "annual_reduction_bps": 1000,
    "ratchet": [{"min_performance_bps": -500, "adjustment_bps": 50},
                {"min_performance_bps": 0, "adjustment_bps": 0},
                {"min_performance_bps": 500, "adjustment_bps": -40}],
    "cap_bps": 100, "floor_bps": -80, "missing_report_bps": 60,
}


# --- operations ---------------------------------------------------------------------------

@pytest.mark.parametrize("msp_id", ORGS)
def test_health_and_ready(gateways, msp_id):
    gateway = gateways[msp_id]
    assert requests.get(gateway.url + "/health", timeout=10).json() == {"status": "ok"}
    ready = requests.get(gateway.url + "/ready", timeout=30)
    assert ready.status_code == 200, ready.text
    assert ready.json()["msp_id"] == msp_id and ready.json()["channel_height"] > 1


def test_tool_started_gunicorn_gateways_serve(consortium):
    """The gateways the network tool runs under gunicorn answer with their dev credential."""
    assert {g["msp_id"] for g in consortium["gateways"]} == {"LessorMSP", "GridMSP",
                                                            "RegulatorMSP"}
    for entry in consortium["gateways"]:
        with open(entry["dev_credential_file"]) as f:
            key = f.read().strip()
        ready = requests.get(entry["url"] + "/ready", timeout=30)
        assert ready.status_code == 200 and ready.json()["msp_id"] == entry["msp_id"], ready.text
        page = requests.get(entry["url"] + "/api/v1/projects?page_size=1", timeout=30,
                            headers={"X-API-Key": key})
        assert page.status_code == 200, page.text
        metrics = requests.get(entry["url"] + "/metrics", timeout=10).text
        assert "carbonlease_http_requests_total" in metrics


def test_openapi_document_and_docs(lessor):
    document = requests.get(lessor.url + "/api/v1/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.0") and "/api/v1/leases/preview" in document["paths"]
    assert requests.get(lessor.url + "/api/v1/docs", timeout=10).status_code == 200


# --- every endpoint's happy path ----------------------------------------------------------

@pytest.fixture(scope="module")
def lifecycle(lessor, grid, regulator, partner):
    """Factor -> reading -> report -> verification -> project -> interest -> lease, through
    the gateways of the orgs that may write each step; returns what the steps answered."""
    run = {"region": unique("R"), "lessee": unique("lessee"), "project": unique("proj"),
           "lease": unique("lease")}
    run["factor"] = created(regulator.post("/api/v1/emission-factors", {
        "region": run["region"], "year": 2025, "factor_g_per_kwh": 600}))
    run["reading"] = created(grid.post("/api/v1/meter-readings", {
        "reading_id": unique("rd"), "lessee_id": run["lessee"], "facility_id": "plant-1",
        "region": run["region"], "period_start": "2025-01-01", "period_end": "2025-04-01",
        "kwh": 50_000}))
    run["report"] = created(lessor.post("/api/v1/emission-reports", {
        "report_id": unique("rep"), "lessee_id": run["lessee"], "period_start": "2025-01-01",
        "period_end": "2025-04-01", "scope1_kg": 60_000,
        "meter_reading_ids": [run["reading"]["reading_id"]], "evidence_sha256": "ab" * 32}))
    run["verified"] = created(regulator.post(
        f"/api/v1/emission-reports/{run['report']['report_id']}/verify"), 200)
    run["project"] = created(lessor.post("/api/v1/projects", {
        "project_id": run["project"], "name": "Rooftop PV", "category": "clean_energy",
        "expected_annual_reduction_kg": 20_000, "location": "Nansha"}))
    run["interest"] = created(partner.post(
        f"/api/v1/projects/{run['project']['project_id']}/interest",
        {"amount_fen": 3_000_000, "note": "co-finance 25%"}))
    # Emission reports name the lessee by its pseudonym, the lease's public lessee_ref.
    run["lease"] = created(lessor.post("/api/v1/leases", {
        "lease_id": run["lease"], "lessee_ref": run["lessee"], "lessee_id": unique("lessee-id"),
        "lessee_name": "Nansha Steel Co.", "project_id": run["project"]["project_id"],
        "terms": TERMS}))
    run["activated"] = created(lessor.post(f"/api/v1/leases/{run['lease']['lease_id']}/activate"),
                               200)
    return run


def test_emission_factor(lifecycle, lessor):
    assert lifecycle["factor"]["version"] == 1 and lifecycle["factor"]["history"] == []
    got = lessor.get(f"/api/v1/emission-factors/{lifecycle['region']}/2025")
    assert got.status_code == 200 and got.json() == lifecycle["factor"]


def test_meter_reading(lifecycle, regulator):
    reading = lifecycle["reading"]
    assert reading["submitted_by_msp"] == "GridMSP"
    assert regulator.get(f"/api/v1/meter-readings/{reading['reading_id']}").json() == reading


def test_emission_report_submit_verify_get_list(lifecycle, lessor, grid):
    report, verified = lifecycle["report"], lifecycle["verified"]
    assert report["status"] == "submitted" and report["scope2_kg"] == 30_000  # 50 MWh x 600 g
    assert report["total_kg"] == 90_000
    assert verified["status"] == "verified" and verified["verified_by_msp"] == "RegulatorMSP"
    assert grid.get(f"/api/v1/emission-reports/{report['report_id']}").json() == verified
    page = lessor.get(f"/api/v1/lessees/{lifecycle['lessee']}/emission-reports?page_size=10")
    assert page.status_code == 200
    assert [r["report_id"] for r in page.json()["records"]] == [report["report_id"]]


def test_emission_report_reject(lifecycle, lessor, regulator):
    report = created(lessor.post("/api/v1/emission-reports", {
        "report_id": unique("rep"), "lessee_id": lifecycle["lessee"],
        "period_start": "2025-04-01", "period_end": "2025-07-01", "scope1_kg": 1,
        "meter_reading_ids": [], "evidence_sha256": "cd" * 32}))
    rejected = created(regulator.post(f"/api/v1/emission-reports/{report['report_id']}/reject",
                                      {"reason": "evidence does not match"}), 200)
    assert rejected["status"] == "rejected"
    assert rejected["rejection_reason"] == "evidence does not match"


def test_list_paging_with_bookmark(lifecycle, lessor):
    # Two projects at least (the lifecycle's and this one): page 1 of size 1 has a successor.
    created(lessor.post("/api/v1/projects", {
        "project_id": unique("proj"), "name": "Storage", "category": "energy_storage",
        "expected_annual_reduction_kg": 5, "location": "Zhuhai"}))
    first = lessor.get("/api/v1/projects?page_size=1").json()
    assert first["fetched_count"] == 1 and first["bookmark"]
    second = lessor.get("/api/v1/projects", params={"page_size": 1,
                                                    "bookmark": first["bookmark"]}).json()
    assert second["records"] and second["records"][0] != first["records"][0]


def test_a_bookmark_from_outside_the_list_is_refused(lifecycle, partner):
    """Issue 12: `?bookmark=%00lease%00` returned lease and interest records dressed as projects."""
    response = partner.get("/api/v1/projects?bookmark=%00lease%00")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "INVALID_ARGUMENT"
    assert "bookmark" in response.json()["error"]["message"]


def test_project_and_interest(lifecycle, partner, regulator):
    project = lifecycle["project"]
    assert project["owner_msp"] == "LessorMSP"
    assert partner.get(f"/api/v1/projects/{project['project_id']}").json() == project
    interest = lifecycle["interest"]
    assert interest["partner_msp"] == "HKPartnerMSP" and interest["amount_fen"] == 3_000_000
    listed = regulator.get(f"/api/v1/projects/{project['project_id']}/interests").json()
    assert listed == {"interests": [interest]}


def test_lease_schedule_rate_payment_history(lifecycle, lessor, regulator, grid):
    lease_id = lifecycle["lease"]["lease_id"]
    assert lifecycle["lease"]["status"] == "draft"
    assert lifecycle["activated"]["status"] == "active"
    assert regulator.get(f"/api/v1/leases/{lease_id}").json()["private"]["terms"]["terms"][
        "principal_fen"] == TERMS["principal_fen"]
    public_view = grid.get(f"/api/v1/leases/{lease_id}").json()
    assert public_view["status"] == "active" and public_view["private"] is None
    assert grid.get(f"/api/v1/leases/{lease_id}/schedule").json()["rows"] is None

    schedule = lessor.get(f"/api/v1/leases/{lease_id}/schedule").json()
    assert schedule["fixed_through_period"] == 1 and len(schedule["rows"]) == 4
    first_row = schedule["rows"][0]
    assert first_row["rate_bps"] == TERMS["base_rate_bps"]

    # Period 1 (2025-Q1) has ended and its verified report exists: target 100,000 kg,
    # verified 90,000 kg -> +1000 bps performance -> tier 500 -> -40 bps.
    fixed = created(lessor.post(f"/api/v1/leases/{lease_id}/fix-rate"), 200)
    assert set(fixed) == {"lease_id", "period", "fixed_at", "record_hash"}
    adjustment = regulator.get(f"/api/v1/leases/{lease_id}").json()["private"]["adjustments"][0]
    assert adjustment["period"] == fixed["period"] == 2 and adjustment["basis"] == "tier"
    assert adjustment["report_id"] == lifecycle["report"]["report_id"]
    assert adjustment["performance_bps"] == 1000 and adjustment["rate_bps"] == 410

    payment = lessor.post(f"/api/v1/leases/{lease_id}/payments", {
        "period": 1, "amount_fen": first_row["instalment_fen"], "paid_on": "2025-01-15"})
    assert payment.status_code == 201, payment.text
    assert "amount_fen" not in payment.json()["result"]
    [paid] = lessor.get(f"/api/v1/leases/{lease_id}").json()["private"]["payments"]
    assert (paid["due_date"], paid["amount_fen"]) == ("2025-04-01", first_row["instalment_fen"])

    status = lessor.get(f"/api/v1/transactions/{payment.json()['transaction_id']}").json()
    assert status == {"transaction_id": payment.json()["transaction_id"],
                      "validation_code": "VALID",
                      "block_number": payment.json()["block_number"],
                      # a key bound to no person: the org's gateway identity wrote it
                      "creator": {"msp_id": "LessorMSP", "subject": status["creator"]["subject"]}}
    assert status["creator"]["subject"].startswith("CN=User1@lessor.carbonlease.local,")

    history = lessor.get(f"/api/v1/leases/{lease_id}/history").json()["history"]
    assert [entry["value"]["status"] for entry in history][:2] == ["draft", "active"]
    assert history[-1]["value"]["paid_through_period"] == 1


def test_terminate_lease(lifecycle, lessor):
    lease = created(lessor.post("/api/v1/leases", {
        "lease_id": unique("lease"), "lessee_ref": lifecycle["lessee"],
        "lessee_id": unique("lessee-id"), "lessee_name": "Nansha Steel Co.",
        "project_id": lifecycle["project"]["project_id"], "terms": TERMS}))
    # A reason is multi-line text (line feed only), also in the transient data the gateway sends.
    refused = lessor.post(f"/api/v1/leases/{lease['lease_id']}/terminate", {"reason": "withdrawn\r\n"})
    assert refused.status_code == 422 and "reason" in refused.json()["error"]["details"]["json"], refused.text
    reason = "withdrawn\nby the lessee"
    terminated = created(lessor.post(f"/api/v1/leases/{lease['lease_id']}/terminate",
                                     {"reason": reason}), 200)
    assert terminated["status"] == "terminated" and terminated["termination_hash"]
    view = lessor.get(f"/api/v1/leases/{lease['lease_id']}").json()
    assert view["private"]["termination"]["reason"] == reason


def test_preview(grid):
    response = grid.post("/api/v1/leases/preview",
                         {"terms": TERMS, "emissions": [90_000, None, 120_000, 0]}, role="reader")
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [row["period"] for row in rows] == [1, 2, 3, 4]
    assert rows[-1]["outstanding_after_fen"] == 0
    assert sum(row["principal_fen"] for row in rows) == TERMS["principal_fen"]


def test_unknown_transaction(lessor):
    refused(lessor.get("/api/v1/transactions/" + "0" * 64), 404, "NOT_FOUND")


# --- role rules ---------------------------------------------------------------------------

def test_grid_gateway_cannot_verify_a_report(lifecycle, lessor, grid):
    report = created(lessor.post("/api/v1/emission-reports", {
        "report_id": unique("rep"), "lessee_id": unique("lessee"),
        "period_start": "2025-01-01", "period_end": "2025-04-01", "scope1_kg": 5,
        "meter_reading_ids": [], "evidence_sha256": "ef" * 32}))
    error = refused(grid.post(f"/api/v1/emission-reports/{report['report_id']}/verify"),
                    403, "FORBIDDEN")
    assert error["details"]["peers"][0]["msp_id"] == "GridMSP"
    assert lessor.get(f"/api/v1/emission-reports/{report['report_id']}").json()["status"] == \
        "submitted"


def test_regulator_gateway_cannot_create_a_lease(lifecycle, regulator):
    refused(regulator.post("/api/v1/leases", {
        "lease_id": unique("lease"), "lessee_ref": "ref-x", "lessee_id": "x",
        "lessee_name": "X", "project_id": lifecycle["project"][
            "project_id"], "terms": TERMS}), 403, "FORBIDDEN")


@pytest.mark.parametrize("org,path,body", [
    ("LessorMSP", "/api/v1/emission-factors",
     {"region": "NOPE", "year": 2030, "factor_g_per_kwh": 1}),
    ("LessorMSP", "/api/v1/meter-readings",
     {"reading_id": "nope", "lessee_id": "x", "facility_id": "f", "region": "NOPE",
      "period_start": "2025-01-01", "period_end": "2025-02-01", "kwh": 1}),
    ("GridMSP", "/api/v1/emission-reports",
     {"report_id": "nope", "lessee_id": "x", "period_start": "2025-01-01",
      "period_end": "2025-02-01", "scope1_kg": 1, "meter_reading_ids": [],
      "evidence_sha256": "00" * 32}),
    ("GridMSP", "/api/v1/projects",
     {"project_id": "nope", "name": "n", "category": "ev", "expected_annual_reduction_kg": 1,
      "location": "l"}),
    ("RegulatorMSP", "/api/v1/projects/nope/interest", {"amount_fen": 1, "note": ""}),
])
def test_org_rules_are_the_chaincodes(gateways, org, path, body):
    refused(gateways[org].post(path, body), 403, "FORBIDDEN")


def test_reader_key_cannot_write_and_nothing_reaches_fabric(lessor):
    project_id = unique("proj")
    refused(lessor.post("/api/v1/projects", {
        "project_id": project_id, "name": "n", "category": "ev",
        "expected_annual_reduction_kg": 1, "location": "l"}, role="reader"), 403, "FORBIDDEN")
    refused(lessor.get(f"/api/v1/projects/{project_id}"), 404, "NOT_FOUND")


def test_no_or_revoked_key_is_401(lessor):
    refused(requests.get(lessor.url + "/api/v1/projects", timeout=10), 401, "UNAUTHENTICATED")
    store = lessor.app.extensions["carbonlease"].credentials
    key = store.create(unique("temp"), "reader").key
    headers = {"X-API-Key": key}
    assert requests.get(lessor.url + "/api/v1/projects", headers=headers,
                        timeout=30).status_code == 200
    store.revoke(store.list()[-1]["name"])
    refused(requests.get(lessor.url + "/api/v1/projects", headers=headers, timeout=10),
            401, "UNAUTHENTICATED")


def test_chaincode_refusals_map_to_4xx(lifecycle, lessor, regulator):
    refused(lessor.get("/api/v1/projects/" + unique("missing")), 404, "NOT_FOUND")
    refused(lessor.post("/api/v1/projects", {**{k: lifecycle["project"][k] for k in (
        "project_id", "name", "category", "expected_annual_reduction_kg", "location")}}),
        409, "ALREADY_EXISTS")
    refused(regulator.post(
        f"/api/v1/emission-reports/{lifecycle['report']['report_id']}/verify"), 409,
        "INVALID_STATE")
    refused(lessor.post("/api/v1/leases", {
        "lease_id": unique("lease"), "lessee_ref": "ref-x", "lessee_id": "x",
        "lessee_name": "X", "project_id": unique("missing"),
        "terms": TERMS}), 404, "NOT_FOUND")


# --- concurrency and idempotency ----------------------------------------------------------

def test_conflicting_concurrent_writes_are_retried_to_success(regulator):
    region = unique("R")
    created(regulator.post("/api/v1/emission-factors",
                           {"region": region, "year": 2025, "factor_g_per_kwh": 500}))
    metrics = regulator.app.extensions["carbonlease"].metrics
    retries_before = metrics.mvcc_retries._value.get()

    def supersede(n):
        return regulator.post("/api/v1/emission-factors", {
            "region": region, "year": 2025, "factor_g_per_kwh": 500 + n,
            "supersede_reason": f"correction {n}"})

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(supersede, range(1, 5)))
    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
    # Each supersede read version v and wrote v+1: they were serialised by retries.
    assert sorted(r.json()["result"]["version"] for r in responses) == [2, 3, 4, 5]
    final = regulator.get(f"/api/v1/emission-factors/{region}/2025").json()
    assert final["version"] == 5 and len(final["history"]) == 4
    assert metrics.mvcc_retries._value.get() > retries_before


def test_idempotent_retry_returns_the_same_transaction(regulator):
    region = unique("R")
    created(regulator.post("/api/v1/emission-factors",
                           {"region": region, "year": 2025, "factor_g_per_kwh": 500}))
    body = {"region": region, "year": 2025, "factor_g_per_kwh": 480,
            "supersede_reason": "meter recalibration"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = regulator.post("/api/v1/emission-factors", body, headers=key)
    again = regulator.post("/api/v1/emission-factors", body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # A supersede writes a new version each time it runs: still version 2, so one write.
    assert regulator.get(f"/api/v1/emission-factors/{region}/2025").json()["version"] == 2

    refused(regulator.post("/api/v1/emission-factors", {**body, "factor_g_per_kwh": 1},
                           headers=key), 422, "IDEMPOTENCY_KEY_REUSED")


def test_concurrent_requests_with_one_idempotency_key_write_once(regulator):
    region = unique("R")
    created(regulator.post("/api/v1/emission-factors",
                           {"region": region, "year": 2025, "factor_g_per_kwh": 500}))
    body = {"region": region, "year": 2025, "factor_g_per_kwh": 490,
            "supersede_reason": "duplicate send"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(
            lambda _: regulator.post("/api/v1/emission-factors", body, headers=key), range(3)))
    statuses = sorted(r.status_code for r in responses)
    assert 201 in statuses and set(statuses) <= {201, 409}, [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    replay = regulator.post("/api/v1/emission-factors", body, headers=key)
    winner = next(r for r in responses if r.status_code == 201)
    assert replay.json()["transaction_id"] == winner.json()["transaction_id"]
    assert regulator.get(f"/api/v1/emission-factors/{region}/2025").json()["version"] == 2
