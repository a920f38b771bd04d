"""A Greater Bay Area partner joins the running channel (issue 9). Runs after the tests that
expect the five founding orgs, before the crash and shutdown tests."""

from __future__ import annotations

import json
import threading
import time

from gateway.fabricgw import errors

from .fabric_clients import Ledger, connect, new_project

NEW_ORG = "ShenzhenPartnerMSP"


MVCC_RETRIES = 3


def _writer(consortium, stop: threading.Event, acknowledged: list, failures: list,
            conflicts: list):
    """Lessor keeps registering projects, as a careful client does: a write that loses an
    MVCC race is submitted again (every write reads the role configuration, which the join
    changes). Each acknowledged (committed) write is recorded, every other failure too."""
    with connect(consortium, "LessorMSP") as gateway:
        lease = gateway.get_network(consortium["channel"]).get_contract("lease")
        while not stop.is_set():
            project_id, project = new_project("during-join")
            for _ in range(MVCC_RETRIES + 1):
                try:
                    result = lease.submit("RegisterProject", arguments=[project])
                    acknowledged.append((project_id, result.transaction_id))
                    break
                except errors.CommitError as error:
                    if error.code != "MVCC_READ_CONFLICT":
                        failures.append(repr(error))
                        break
                    conflicts.append(error.transaction_id)
                except Exception as error:  # any other failure fails the test, visibly
                    failures.append(repr(error))
                    break
            else:
                failures.append(f"{project_id}: MVCC conflicts {MVCC_RETRIES + 1} times")
            time.sleep(0.05)


def test_too_few_admin_signatures_are_refused(consortium, test_network):
    result = test_network.tool("add-org", NEW_ORG, "--signer", "LessorMSP", "--signer",
                               "GridMSP", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "too few for the channel's Admins policy" in result.stderr
    assert NEW_ORG not in test_network.status()["clients"]


def test_a_partner_joins_while_others_write(consortium, test_network):
    stop, acknowledged, failures, conflicts = threading.Event(), [], [], []
    writer = threading.Thread(target=_writer,
                              args=(consortium, stop, acknowledged, failures, conflicts))
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

    # Every acknowledged write is on the ledger exactly once: one valid transaction each
    # (asked of Lessor's peer, which acknowledged them; the others follow a moment later).
    with connect(status, "LessorMSP") as gateway:
        network = gateway.get_network(status["channel"])
        lease = network.get_contract("lease")
        tx_ids = [tx for _, tx in acknowledged]
        assert len(set(tx_ids)) == len(tx_ids)
        for project_id, tx_id in acknowledged:
            assert network.get_transaction_status(tx_id).code == "VALID"
            assert json.loads(lease.evaluate_transaction("GetProject", project_id))[
                "project_id"] == project_id
        # A retried write's losing attempt is on the ledger as invalid, so it did not count.
        for tx_id in conflicts:
            assert network.get_transaction_status(tx_id).code == "MVCC_READ_CONFLICT"

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
    ledger = Ledger(status)
    try:
        with connect(status, NEW_ORG) as gateway:
            committed = gateway.get_network(status["channel"]).get_contract("lease").submit(
                "RegisterProject", arguments=[project])
        ledger.settle(committed.block_number)  # every peer, not only Shenzhen's, has the block
    finally:
        ledger.close()
    for msp_id in status["clients"]:
        with connect(status, msp_id) as gateway:
            lease = gateway.get_network(status["channel"]).get_contract("lease")
            assert json.loads(lease.evaluate_transaction("GetProject", project_id))[
                "owner_msp"] == NEW_ORG


def test_add_org_again_changes_nothing(test_network):
    result = test_network.tool("add-org", NEW_ORG)
    assert "is already a member: nothing changed" in result.stdout, result.stdout
