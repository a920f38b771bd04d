"""The throughput benchmark's arithmetic: Prometheus histograms into a latency breakdown, and
/proc CPU accounting (no network; texts in the formats Fabric and Linux write)."""

import pytest

from benchmarks import cpu, fabric_metrics, throughput

SCRAPE_BEFORE = """\
# HELP endorser_proposal_duration The time to complete a proposal.
# TYPE endorser_proposal_duration histogram
endorser_proposal_duration_bucket{channel="carbonlease",chaincode="lease",success="true",le="0.005"} 1
endorser_proposal_duration_sum{channel="carbonlease",chaincode="lease",success="true"} 1.5
endorser_proposal_duration_count{channel="carbonlease",chaincode="lease",success="true"} 10
endorser_proposal_duration_sum{channel="carbonlease",chaincode="_lifecycle",success="true"} 0.5
endorser_proposal_duration_count{channel="carbonlease",chaincode="_lifecycle",success="true"} 5
# TYPE ledger_transaction_count counter
ledger_transaction_count{channel="carbonlease"} 40
# TYPE grpc_server_unary_request_duration histogram
grpc_server_unary_request_duration_sum{code="OK",method="Endorse",service="gateway.Gateway"} 2
grpc_server_unary_request_duration_count{code="OK",method="Endorse",service="gateway.Gateway"} 10
"""

SCRAPE_AFTER = SCRAPE_BEFORE.replace("} 1.5\n", "} 5.5\n").replace(
    'success="true"} 10\n', 'success="true"} 30\n') + (
    'endorser_proposal_duration_sum{channel="carbonlease",chaincode="lease",success="false"} 1\n'
    'endorser_proposal_duration_count{channel="carbonlease",chaincode="lease",success="false"} 2\n')


def test_only_histogram_sums_and_counts_are_kept_per_label_set():
    series = fabric_metrics.parse(SCRAPE_BEFORE)
    lease = ("endorser_proposal_duration", frozenset({("channel", "carbonlease"),
                                                      ("chaincode", "lease"), ("success", "true")}))
    assert series[lease] == fabric_metrics.Histogram(1.5, 10)
    assert not any(family == "ledger_transaction_count" for family, _ in series)
    assert len(series) == 3


def test_a_stage_sums_the_matching_series_of_the_phase_only():
    change = fabric_metrics.delta(fabric_metrics.parse(SCRAPE_BEFORE),
                                  fabric_metrics.parse(SCRAPE_AFTER))
    # 20 new successful proposals taking 4 s, and 2 failed ones (a new series) taking 1 s;
    # the _lifecycle series did not move and another chaincode is not counted.
    assert fabric_metrics.stage(change, "endorser_proposal_duration",
                                {"chaincode": "lease"}) == fabric_metrics.Histogram(5.0, 22)
    assert fabric_metrics.stage(change, "ledger_statedb_commit_time", {}) is None


def test_breakdown_gives_mean_duration_and_busy_share_per_node():
    change = fabric_metrics.delta(fabric_metrics.parse(SCRAPE_BEFORE),
                                  fabric_metrics.parse(SCRAPE_AFTER))
    figures = fabric_metrics.breakdown({"peer0.lessor.carbonlease.local": change}, seconds=10)
    endorse = next(f for f in figures if f.family == "endorser_proposal_duration")
    assert endorse.count == 22
    assert endorse.mean_ms == pytest.approx(5000 / 22)
    assert endorse.busy == pytest.approx(0.5)
    # The gateway's Endorse did not move during the phase: no row for it.
    assert [f.family for f in figures] == ["endorser_proposal_duration"]


def test_nodes_are_grouped_into_the_endorsers_other_peers_and_orderers():
    def figure(node, count, mean_ms, busy):
        return fabric_metrics.StageFigure(node, "peer: block commit", "x", count, mean_ms, busy)
    rows = throughput.grouped([figure("peer0.lessor.carbonlease.local", 10, 40, 0.4),
                               figure("peer0.grid.carbonlease.local", 10, 20, 0.2),
                               figure("peer0.hkpartner.carbonlease.local", 30, 40, 0.6)])
    assert rows[("peer: block commit", "peer0.lessor")] == (40, 0.4)
    # Mean over every observation of the group; busy per node.
    assert rows[("peer: block commit", "other peers")] == (pytest.approx(35), pytest.approx(0.4))


def test_process_cpu_and_group_come_from_proc_stat_after_the_command_name():
    # A command name with spaces and a parenthesis; pgrp 4242, utime 300, stime 100 ticks.
    line = ("4243 (node (cc) x) S 4242 4242 4242 0 -1 4194560 1 0 0 0 300 100 7 8 20 0 11 0 "
            "1000 0 0")
    group, seconds = cpu.parse_stat(line)
    assert group == 4242
    assert seconds == pytest.approx(400 / cpu.TICKS)


def test_machine_busy_leaves_out_idle_and_iowait():
    busy, total = cpu.parse_machine("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    assert (busy, total) == (pytest.approx(150 / cpu.TICKS), pytest.approx(1000 / cpu.TICKS))


def test_usage_shows_what_neither_the_network_nor_the_load_generator_used():
    before = cpu.Sample({"peer0.lessor.carbonlease.local": 1.0}, load=2.0, busy=10.0, total=40.0)
    after = cpu.Sample({"peer0.lessor.carbonlease.local": 4.0}, load=3.0, busy=16.0, total=60.0)
    use = cpu.usage(before, after)
    assert (use.recorded, use.load, use.busy, use.capacity) == (3.0, 1.0, 6.0, 20.0)
    assert use.unaccounted == 2.0


@pytest.mark.parametrize("name, kind", [
    ("peer0.lessor.carbonlease.local", "peers"), ("orderer0.grid.carbonlease.local", "orderers"),
    ("cc-lease.lessor.carbonlease.local", "chaincode servers"),
    ("gateway-proxy.lessor.carbonlease.local", "nginx"),
    ("gateway.lessor.carbonlease.local", "gateways (gunicorn)"),
    ("follower.lessor.carbonlease.local", "read-model followers"),
    ("ca.lessor.carbonlease.local", "CAs")])
def test_recorded_processes_are_told_apart_by_the_tools_names(name, kind):
    assert cpu.kind(name) == kind


def test_a_filter_value_ending_in_a_star_is_a_prefix():
    labels = frozenset({("chaincode", "lease_841b:842d"), ("type", "GET_STATE")})
    assert fabric_metrics.matches(labels, {"chaincode": "lease_*", "type": "GET_STATE"})
    assert not fabric_metrics.matches(labels, {"chaincode": "lease"})
    assert not fabric_metrics.matches(labels, {"method": "Endorse"})


def test_a_stage_is_read_only_from_the_kind_of_node_that_reports_it():
    text = ("# TYPE ledger_blockstorage_commit_time histogram\n"
            'ledger_blockstorage_commit_time_sum{channel="c"} 2\n'
            'ledger_blockstorage_commit_time_count{channel="c"} 4\n')
    series = fabric_metrics.parse(text)
    figures = fabric_metrics.breakdown({"orderer0.grid.x": series, "peer0.grid.x": series}, 1)
    assert {(f.node, f.description) for f in figures} == {
        ("orderer0.grid.x", "orderer: block store commit"),
        ("peer0.grid.x", "peer: block store commit")}
