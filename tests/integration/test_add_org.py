"""A Greater Bay Area partner joins the running channel (issue 9), on a consortium of the
module's own: the shared one keeps its five founding orgs."""

from __future__ import annotations

import json
import time

from .fabric_clients import Ledger, ProjectWriters, connect, new_project

NEW_ORG = "ShenzhenPartnerMSP"


def test_a_partner_is_refused_without_a_majority_then_joins_while_others_write(
        own_consortium, own_network):
    """One test, since the join can happen only once per consortium."""
    refused = own_network.tool("add-org", NEW_ORG, "--signer", "LessorMSP", "--signer",
                               "GridMSP", check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "too few for the channel's Admins policy" in refused.stderr
    assert NEW_ORG not in own_network.status()["clients"]

    # Every write reads the role configuration, which the join changes: writes in flight
    # then lose an MVCC race and are submitted again.
    with ProjectWriters(own_consortium, prefix="during-join") as writers:
        time.sleep(1)
        added = own_network.tool("add-org", NEW_ORG)
        time.sleep(1)
    assert f"added {NEW_ORG} to the channel config" in added.stdout
    assert len(writers.acknowledged) >= 5, (writers.acknowledged, writers.failures)
    assert not writers.failures, writers.failures

    status = own_network.status()
    assert NEW_ORG in status["clients"] and NEW_ORG in status["connection_profiles"]
    assert any(p["msp_id"] == NEW_ORG for p in status["peers"])

    writers.assert_each_on_the_ledger_once()
    heights = own_network.wait_for_same_height()
    assert len(set(heights.values())) == 1, heights  # the new peer caught up

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


def test_add_org_again_changes_nothing(own_network):
    own_network.tool("add-org", NEW_ORG)  # joins, unless an earlier test did
    result = own_network.tool("add-org", NEW_ORG)
    assert "is already a member: nothing changed" in result.stdout, result.stdout
