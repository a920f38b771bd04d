"""A Greater Bay Area partner joins the running channel (issue 9). Runs after the tests that
expect the five founding orgs, before the crash and shutdown tests."""

from __future__ import annotations

import json
import threading
import time

from .fabric_clients import connect, new_project

NEW_ORG = "ShenzhenPartnerMSP"


def _writer(consortium, stop: threading.Event, acknowledged: list, failures: list):
    """Lessor keeps registering projects; each acknowledged (committed) one is recorded."""
    with connect(consortium, "LessorMSP") as gateway:
        lease = gateway.get_network(consortium["channel"]).get_contract("lease")
        while not stop.is_set():
            project_id, project = new_project("during-join")
            try:
                result = lease.submit("RegisterProject", arguments=[project])
                acknowledged.append((project_id, result.transaction_id))
            except Exception as error:  # recorded: an unacknowledged write may fail, visibly
                failures.append(repr(error))
            time.sleep(0.05)


def test_too_few_admin_signatures_are_refused(consortium, test_network):
    result = test_network.tool("add-org", NEW_ORG, "--signer", "LessorMSP", "--signer",
                               "GridMSP", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "too few for the channel's Admins policy" in result.stderr
    assert NEW_ORG not in test_network.status()["clients"]


def test_a_partner_joins_while_others_write(consortium, test_network):
    stop, acknowledged, failures = threading.Event(), [], []
    writer = threading.Thread(target=_writer, args=(consortium, stop, acknowledged, failures))
    writer.start()
    try:
        time.sleep(1)
        added = test_network.tool("add-org", NEW_ORG)
        time.sleep(1)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert f"added {NEW_ORG} to the channel config" in added.stdout
    assert len(acknowledged) >= 5, (acknowledged, failures)
    assert not failures, failures

    status = test_network.status()
    assert NEW_ORG in status["clients"] and NEW_ORG in status["connection_profiles"]
    assert any(p["msp_id"] == NEW_ORG for p in status["peers"])

    # Every acknowledged write is on the ledger exactly once: one valid transaction each.
    with connect(status, "GridMSP") as gateway:
        network = gateway.get_network(status["channel"])
        lease = network.get_contract("lease")
        tx_ids = [tx for _, tx in acknowledged]
        assert len(set(tx_ids)) == len(tx_ids)
        for project_id, tx_id in acknowledged:
            assert network.get_transaction_status(tx_id).code == "VALID"
            assert json.loads(lease.evaluate_transaction("GetProject", project_id))[
                "project_id"] == project_id

    # The new peer catches up with the others.
    deadline = time.monotonic() + 60
    while True:
        heights = {p["name"]: p["height"] for p in test_network.status()["peers"]}
        if len(set(heights.values())) == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(set(heights.values())) == 1, heights

    # The new org writes with its own identity; every other org reads it.
    project_id, project = new_project("shenzhen")
    with connect(status, NEW_ORG) as gateway:
        gateway.get_network(status["channel"]).get_contract("lease").submit_transaction(
            "RegisterProject", project)
    for msp_id in status["clients"]:
        with connect(status, msp_id) as gateway:
            lease = gateway.get_network(status["channel"]).get_contract("lease")
            assert json.loads(lease.evaluate_transaction("GetProject", project_id))[
                "owner_msp"] == NEW_ORG


def test_add_org_again_changes_nothing(test_network):
    result = test_network.tool("add-org", NEW_ORG)
    assert "is already a member: nothing changed" in result.stdout, result.stdout
