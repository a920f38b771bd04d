"""Crash recovery and shutdown of the test consortium. Named to run last: the final test
stops the whole network."""

from __future__ import annotations

import json
import os
import signal

from network import processes

from .fabric_clients import ProjectWriters, connect, new_project


def _kill(test_network, name: str) -> int:
    pid = processes.running_pid(test_network.layout, name)
    assert pid, f"{name} is not running"
    os.kill(pid, signal.SIGKILL)
    processes.wait_for(lambda: processes.running_pid(test_network.layout, name) is None,
                       f"{name} gone", 10)
    return pid


def test_a_killed_peer_is_restarted_by_up_and_catches_up(consortium, test_network):
    victim = test_network.consortium.org("HKPartnerMSP").peers[0]
    _kill(test_network, victim.id)
    # The channel goes on without it: a write endorsed by Lessor and Regulator commits.
    with connect(consortium, "LessorMSP") as gateway:
        lease = gateway.get_network(consortium["channel"]).get_contract("lease")
        for _ in range(3):
            _, project = new_project("while-down")
            lease.submit_transaction("RegisterProject", project)
    assert test_network.heights()[victim.id] is None

    result = test_network.tool("up")
    assert f"started {victim.id}" in result.stdout
    heights = test_network.wait_for_same_height()
    assert len(set(heights.values())) == 1, heights


def test_a_killed_chaincode_server_is_restarted_by_up_and_serves(consortium, test_network):
    org = test_network.consortium.org("RegulatorMSP")
    server = f"cc-lease.{org.domain}"
    _kill(test_network, server)
    result = test_network.tool("up")
    assert f"started {server}" in result.stdout
    # Regulator's peer must endorse every lease write, so a commit proves its server serves
    # endorsements; a query through Regulator's peer proves it serves evaluations.
    project_id, project = new_project("after-restart")
    with connect(consortium, "LessorMSP") as gateway:
        gateway.get_network(consortium["channel"]).get_contract("lease").submit_transaction(
            "RegisterProject", project)
    with connect(consortium, "RegulatorMSP") as gateway:
        lease = gateway.get_network(consortium["channel"]).get_contract("lease")
        assert json.loads(lease.evaluate_transaction("GetRoles"))["regulator"] == ["RegulatorMSP"]


def test_writes_survive_a_crashed_orderer_and_peer(consortium, test_network):
    """Kill one orderer and one peer while Lessor writes: every acknowledged write is on the
    ledger exactly once, writing goes on after the crash, and `up` brings both back."""
    orderer = test_network.consortium.org("GridMSP").orderers[0]
    peer = test_network.consortium.org("LessorMSP").peers[1]
    # Writes in flight at the crash may fail (recorded in writers.failures, not asserted).
    with ProjectWriters(consortium, threads=4, prefix="crash") as writers:
        writers.wait_for(8, 60)
        _kill(test_network, orderer.id)
        _kill(test_network, peer.id)
        before_crash = len(writers.acknowledged)
        # Raft keeps a quorum of two, so writing goes on (after a leader election if the
        # killed orderer led).
        writers.wait_for(before_crash + 12, 90)
    assert len(writers.acknowledged) >= before_crash + 12, (
        len(writers.acknowledged), before_crash, writers.failures[:3])

    result = test_network.tool("up")
    assert f"started {orderer.id}" in result.stdout and f"started {peer.id}" in result.stdout
    writers.assert_each_on_the_ledger_once()


def test_down_leaves_no_process_behind(test_network):
    test_network.tool("up")  # whatever an earlier test left stopped runs again
    recorded = {}
    for name in processes.recorded(test_network.layout):
        pid = processes.running_pid(test_network.layout, name)
        assert pid, f"{name} was not running before down"
        recorded[name] = pid
    # orderers, peers, chaincode servers, gateways and their read-model followers
    assert len(recorded) >= 3 + 6 + 2 * 5 + 3 + 3
    test_network.tool("down")
    for name, pid in recorded.items():
        assert not os.path.exists(f"/proc/{pid}") or \
            open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", name
    assert processes.recorded(test_network.layout) == []
    ports = test_network.consortium.all_ports(test_network.consortium.founding_orgs)
    assert not [p for p in ports if processes.port_in_use(p)]
