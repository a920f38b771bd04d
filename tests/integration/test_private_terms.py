"""Lease terms in the leaseTerms collection (issue 14), on a consortium of its own (the test
adds ShenzhenPartnerMSP, which other tests expect absent).

A lease with unique markers (lessee name, lessee id, termination reason), a unique principal and
a fresh salt is created, activated, rate-fixed, paid and terminated through the Lessor's REST
gateway; then every file under the data folders of every non-member peer (Grid, HK, Macao,
Shenzhen) and of every orderer, their logs, the non-member orgs' chaincode server logs and the
Grid gateway's folder are searched for each of them (LevelDB tables decompressed, logs joined):
no match, while the member peers' folders (Lessor's two peers, Regulator's) hold them.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest

from gateway.fabricgw import errors

from . import disk_scan
from .fabric_clients import Ledger, connect
from .test_api import created, start_gateways, unique
from .test_chaincode_rates import adjustment_from
from .throwaway import ThrowawayNetwork

MEMBERS = {"LessorMSP", "RegulatorMSP"}
NEW_ORG = "ShenzhenPartnerMSP"
TERMS = {
    "base_rate_bps": 450, "term_periods": 3, "period_months": 1, "amortization": "annuity",
    "start_date": "2018-01-01", "baseline_kg": 10_000, "annual_reduction_bps": 1200,
    "ratchet": [{"min_performance_bps": 0, "adjustment_bps": -20}], "cap_bps": 100,
    "floor_bps": -80, "missing_report_bps": 60,
}


def marker() -> str:
    """Letters that hex, base64 digits of hashes and timestamps rarely line up with."""
    return "PT" + "".join(random.choices("GHJKLMNPQRSTUVWXYZ", k=14))


def canonical(record: dict) -> bytes:
    """The chaincode's canonical JSON (keys sorted, no whitespace, UTF-8) of a record."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(record: dict) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


@pytest.fixture(scope="module")
def network():
    net = ThrowawayNetwork("carbonlease-private-")
    try:
        net.tool("up")
        net.tool("add-org", NEW_ORG)
        status = net.status()
        assert status["healthy"], json.dumps(status, indent=2)
        yield net, status
    finally:
        net.tool("down", check=False)
        shutil.rmtree(net.home, ignore_errors=True)


@pytest.fixture(scope="module")
def gateways(network, tmp_path_factory):
    running, stop = start_gateways(network[1], tmp_path_factory)
    yield running
    stop()


def new_lease(lessor, markers: dict) -> dict:
    project = created(lessor.post("/api/v1/projects", {
        "project_id": unique("proj"), "name": "Rooftop PV", "category": "clean_energy",
        "expected_annual_reduction_kg": 20_000, "location": "Nansha"}))
    body = {"lease_id": unique("lease"), "lessee_ref": unique("ref"),
            "lessee_id": markers["lessee_id"], "lessee_name": markers["lessee_name"],
            "project_id": project["project_id"],
            "terms": {**TERMS, "principal_fen": int(markers["principal"])}}
    return created(lessor.post("/api/v1/leases", body))


@pytest.fixture(scope="module")
def lease(gateways):
    """A lease run through every price-carrying write: create, activate, fix a rate, pay the
    first instalment, terminate; with what identifies it."""
    lessor = gateways["LessorMSP"]
    markers = {"lessee_name": f"{marker()} Holdings", "lessee_id": marker(),
               "reason": f"{marker()} went bankrupt",
               "principal": str(random.randint(10**12, 9 * 10**12))}
    public = new_lease(lessor, markers)
    lease_id = public["lease_id"]
    created(lessor.post(f"/api/v1/leases/{lease_id}/activate"), 200)
    created(lessor.post(f"/api/v1/leases/{lease_id}/fix-rate"), 200)
    first = lessor.get(f"/api/v1/leases/{lease_id}/schedule").json()["rows"][0]
    created(lessor.post(f"/api/v1/leases/{lease_id}/payments", {
        "period": 1, "amount_fen": first["instalment_fen"], "paid_on": "2018-01-15"}))
    created(lessor.post(f"/api/v1/leases/{lease_id}/terminate", {"reason": markers["reason"]}),
            200)
    view = lessor.get(f"/api/v1/leases/{lease_id}").json()
    markers["instalment"] = str(first["instalment_fen"])
    markers["salt"] = view["private"]["terms"]["salt"]
    return {"id": lease_id, "markers": markers, "view": view}


def folders_of(net: ThrowawayNetwork, status: dict, members: bool) -> list[Path]:
    """Data folders and logs of the peers of member (or non-member) orgs; for non-members also
    every orderer, their chaincode servers' logs and their REST gateway folders."""
    orgs = {p["msp_id"] for p in status["peers"]}
    chosen = {o for o in orgs if (o in MEMBERS) == members}
    names = [p["name"] for p in status["peers"] if p["msp_id"] in chosen]
    folders = [net.layout.state_dir(n) for n in names]
    if not members:
        names += [o["name"] for o in status["orderers"]]
        folders += [net.layout.state_dir(o["name"]) for o in status["orderers"]]
        for org in (net.consortium.org(msp) for msp in chosen):
            names += [f"cc-{cc}.{org.domain}" for cc in org.chaincode_servers]
            folders.append(net.layout.home / "gateways" / org.name)
    logs = [net.layout.log_file(n) for n in names]
    return [f for f in [*folders, *logs] if f.exists()]


def test_no_non_member_disk_holds_a_private_value_and_member_peers_do(network, lease):
    net, status = network
    assert {p["msp_id"] for p in status["peers"]} >= {"GridMSP", "HKPartnerMSP",
                                                       "MacaoPartnerMSP", NEW_ORG}
    heights = net.wait_for_same_height()
    assert len(set(heights.values())) == 1, heights
    needles = {name: value.encode() for name, value in lease["markers"].items()}

    outside = disk_scan.find(folders_of(net, status, members=False), needles)
    assert outside == {name: [] for name in needles}, outside
    # The control: the scan does read those stores, since the public lease id is in each of them.
    public = disk_scan.find(folders_of(net, status, members=False),
                            {"lease_id": lease["id"].encode()})["lease_id"]
    for node in [p["name"] for p in status["peers"] if p["msp_id"] not in MEMBERS] + \
            [o["name"] for o in status["orderers"]]:
        assert any(f"/{node}/" in f for f in public), (node, public)

    inside = disk_scan.find(folders_of(net, status, members=True), needles)
    for name, files in inside.items():
        for peer in (p["name"] for p in status["peers"] if p["msp_id"] in MEMBERS):
            assert any(f"/{peer}/data/" in f for f in files), (name, peer, files)


def test_partners_see_status_and_project_but_no_terms(network, gateways, lease):
    _, status = network
    view = lease["view"]
    public = {k: v for k, v in view.items() if k != "private"}
    assert public["status"] == "terminated" and public["project_id"]

    grid = gateways["GridMSP"]
    assert grid.get(f"/api/v1/leases/{lease['id']}").json() == {**public, "private": None}
    schedule = grid.get(f"/api/v1/leases/{lease['id']}/schedule").json()
    assert schedule["rows"] is None and schedule["status"] == "terminated"
    history = grid.get(f"/api/v1/leases/{lease['id']}/history").json()["history"]
    assert [h["value"]["status"] for h in history] == ["draft", "active", "active", "active",
                                                       "terminated"]
    text = json.dumps([grid.get(f"/api/v1/leases/{lease['id']}").json(), schedule, history])
    assert not [v for v in lease["markers"].values() if v in text]

    for msp_id in ("HKPartnerMSP", "MacaoPartnerMSP", NEW_ORG, "GridMSP"):
        with connect(status, msp_id) as gateway:
            contract = gateway.get_network(status["channel"]).get_contract("lease")
            got = json.loads(contract.evaluate_transaction("GetLease", lease["id"]))
            assert got == {**public, "private": None}, msp_id
            with pytest.raises(errors.GatewayError) as refused:
                contract.evaluate_transaction("GetPrivateTerms", lease["id"])
            code, message = errors.chaincode_error_code(refused.value)
            assert code == "FORBIDDEN", message
            assert "does not have read access permission" in message
            assert "leaseTerms" in message


def test_public_hashes_equal_what_a_member_recomputes(gateways, lease):
    view = gateways["RegulatorMSP"].get(f"/api/v1/leases/{lease['id']}").json()
    private = view["private"]
    assert private["terms"]["lessee_name"] == lease["markers"]["lessee_name"]
    assert view["terms_hash"] == sha256(private["terms"])
    assert [a["record_hash"] for a in view["adjustments"]] == \
        [sha256(a) for a in private["adjustments"]]
    assert [p["record_hash"] for p in view["payments"]] == \
        [sha256(p) for p in private["payments"]]
    assert view["termination_hash"] == sha256(private["termination"])
    # The Regulator recomputes the rate adjustment from what it reads (independent oracle).
    [adjustment] = private["adjustments"]
    oracle = adjustment_from(private["terms"]["terms"], adjustment["based_on_period"],
                             adjustment["verified_kg"])
    assert {k: adjustment[k] for k in oracle} == oracle


def test_purge_removes_private_data_from_every_member_peer_and_keeps_the_hash(network,
                                                                              gateways):
    _, status = network
    lessor = gateways["LessorMSP"]
    markers = {"lessee_name": f"{marker()} Ltd", "lessee_id": marker(),
               "principal": str(random.randint(10**12, 9 * 10**12))}
    lease_id = new_lease(lessor, markers)["lease_id"]
    # A draft may be purged only once ended: retention runs from the end of its last period.
    created(lessor.post(f"/api/v1/leases/{lease_id}/terminate", {"reason": "not signed"}), 200)
    before = lessor.get(f"/api/v1/leases/{lease_id}").json()
    assert before["private"]["terms"]["lessee_id"] == markers["lessee_id"]

    response = lessor.post(f"/api/v1/leases/{lease_id}/purge-private-data")
    purged = created(response, 200)
    assert purged["private_data_purged_at"] is not None
    assert (purged["terms_hash"], purged["termination_hash"]) == \
        (before["terms_hash"], before["termination_hash"])

    ledger = Ledger(status)
    try:
        ledger.settle(response.json()["block_number"])
        for peer, gateway in ledger.peers.items():
            if not any(p["name"] == peer and p["msp_id"] in MEMBERS for p in status["peers"]):
                continue
            contract = gateway.get_network(status["channel"]).get_contract("lease")
            with pytest.raises(errors.GatewayError) as gone:
                contract.evaluate_transaction("GetPrivateTerms", lease_id)
            assert errors.chaincode_error_code(gone.value)[0] == "NOT_FOUND", peer
            got = json.loads(contract.evaluate_transaction("GetLease", lease_id))
            assert got["private"] is None and got["terms_hash"] == before["terms_hash"], peer
    finally:
        ledger.close()
    again = lessor.post(f"/api/v1/leases/{lease_id}/purge-private-data")
    assert again.status_code == 409 and again.json()["error"]["code"] == "INVALID_STATE"
