"""Committed writes per second of the whole consortium, three clients side by side, with CPU use
and Fabric's own latency breakdown.

    .venv/bin/python -m benchmarks.throughput [--quick] [--concurrency 1 16 64 128]
        [--home H --port-offset N] [--no-partner] [--keep] [--json FILE]

Without ``--home`` it brings up a consortium of its own (what `scripts/up` brings up, plus the
Shenzhen partner through add-org, unless ``--no-partner``) in a temporary folder on free ports,
and removes it at the end (``--keep`` leaves it running and prints where). With ``--home`` and
``--port-offset`` it measures the network the tool runs there.

For each concurrency, the same `lease:RegisterProject` writes (each returns once committed) go
through (a) the official Node client (`benchmarks/node/submit_load.js`) straight to Lessor's
peer, (b) the project's Python client (`gateway.fabricgw`, threads, no HTTP), (c) the Lessor REST
gateway; then `POST /api/v1/leases/preview` (120-period annuity) at concurrency 16. Around every
phase it reads CPU time (per recorded process, the load generator itself, the whole machine)
and every peer's and orderer's /metrics. It prints one table and, per concurrency, the latency
breakdown. It is a benchmark: it asserts nothing. A full run takes ~4-5 minutes on two cores
(network up included), ``--quick`` ~2-3.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks import cpu, fabric_metrics
from benchmarks.rest_gateway import PREVIEW, load, node_run, rest_sender
from network import processes
from tests.integration.fabric_clients import connect
from tests.integration.throwaway import ThrowawayNetwork, ToolNetwork

CLIENTS = ("node", "python", "rest")
PARTNER = "ShenzhenPartnerMSP"
# The endorsers of lease:RegisterProject (its policy: Lessor AND Regulator) are shown on their
# own; the other peers and the orderers are shown together.
OWN_ROWS = ("peer0.lessor.", "peer0.regulator.")


def writes_for(concurrency: int, quick: bool) -> int:
    """Writes per phase: enough for several rounds of every thread, and a steady state."""
    if concurrency == 1:
        return 12 if quick else 30
    return max(3 * concurrency, 100) if quick else max(6 * concurrency, 450)


def project_body(prefix: str):
    def body(i: int) -> dict:
        return {"project_id": f"{prefix}-{i}", "name": "benchmark", "category": "clean_energy",
                "expected_annual_reduction_kg": 1000, "location": "Zhuhai"}
    return body


class Bench:
    def __init__(self, net: ToolNetwork):
        self.net = net
        self.status = net.status()
        running = {p["name"] for p in self.status["peers"]}
        consortium = net.consortium
        self.metric_ports = {p.id: p.operations_port for org in consortium.orgs for p in org.peers
                             if p.id in running}
        self.metric_ports.update({o.id: o.operations_port for o in consortium.orderers})
        self.recorded = {name: pid for name in processes.recorded(net.layout)
                         if (pid := processes.running_pid(net.layout, name))}
        self.status_file = Path(tempfile.mkstemp(suffix=".json", prefix="throughput-status-")[1])
        self.status_file.write_text(json.dumps(self.status))
        gateway = next(g for g in self.status["gateways"] if g["msp_id"] == "LessorMSP")
        self.rest_url = gateway["url"]
        self.rest_key = Path(gateway["dev_credential_file"]).read_text().strip()
        self.python = connect(self.status, "LessorMSP")
        self.lease = self.python.get_network(self.status["channel"]).get_contract("lease")
        self.run_id = uuid.uuid4().hex[:8]
        self.phases = 0

    def close(self) -> None:
        self.python.close()
        self.status_file.unlink(missing_ok=True)

    def scrape(self) -> dict[str, dict]:
        return {node: fabric_metrics.scrape(port) for node, port in self.metric_ports.items()}

    def measured(self, run) -> dict:
        """Run ``run()`` (-> figures) between two readings of CPU and metrics."""
        metrics_before, cpu_before = self.scrape(), cpu.sample(self.recorded)
        started = time.perf_counter()
        figures = run()
        seconds = time.perf_counter() - started
        cpu_after, metrics_after = cpu.sample(self.recorded), self.scrape()
        deltas = {node: fabric_metrics.delta(metrics_before[node], metrics_after[node])
                  for node in metrics_after}
        return {**figures, "seconds": seconds, "cpu": cpu.usage(cpu_before, cpu_after),
                "stages": fabric_metrics.breakdown(deltas, seconds)}

    def writes(self, client: str, count: int, concurrency: int) -> dict:
        self.phases += 1
        prefix = f"bench-{client}-{self.run_id}-{self.phases}"
        if client == "node":
            return self.measured(lambda: node_run(str(self.status_file), count, concurrency,
                                                  prefix))
        if client == "python":
            body = project_body(prefix)
            return self.measured(lambda: load(
                lambda i: self.lease.submit("RegisterProject", arguments=[json.dumps(body(i))]),
                count, concurrency))
        send = rest_sender(self.rest_url, self.rest_key, "/api/v1/projects", project_body(prefix))
        return self.measured(lambda: load(send, count, concurrency))

    def idle(self, seconds: float) -> dict:
        """The network's own CPU with no load (gossip, Raft heartbeats, followers' polls)."""
        return self.measured(lambda: time.sleep(seconds) or {})

    def preview(self, count: int, concurrency: int) -> dict:
        send = rest_sender(self.rest_url, self.rest_key, "/api/v1/leases/preview",
                           lambda i: PREVIEW)
        return self.measured(lambda: load(send, count, concurrency))


def row_group(node: str) -> str:
    if node.startswith(OWN_ROWS):
        return node.split(".carbonlease", 1)[0]
    return "orderers" if node.startswith("orderer") else "other peers"


def grouped(stages: list[fabric_metrics.StageFigure]) -> dict[tuple[str, str], tuple[float, float]]:
    """(stage, node group) -> (mean ms, busy per node) over the group's nodes."""
    sums: dict[tuple[str, str], list[float]] = {}
    for s in stages:
        entry = sums.setdefault((s.description, row_group(s.node)), [0.0, 0.0, 0.0, 0])
        entry[0] += s.mean_ms * s.count
        entry[1] += s.count
        entry[2] += s.busy
        entry[3] += 1
    return {key: (total_ms / count, busy / nodes) for key, (total_ms, count, busy, nodes)
            in sums.items()}


def blocks(stages: list[fabric_metrics.StageFigure]) -> float:
    """Blocks Lessor's gateway peer committed during the phase."""
    return next((s.count for s in stages if s.family == "ledger_block_processing_time"
                 and s.node.startswith("peer0.lessor.")), 0.0)


def by_kind(usage: cpu.Usage) -> dict[str, float]:
    """CPU seconds of the phase per kind of recorded process."""
    kinds: dict[str, float] = {}
    for name, seconds in sorted(usage.processes.items()):
        kinds[cpu.kind(name)] = kinds.get(cpu.kind(name), 0.0) + seconds
    return kinds


def fmt_ms(value) -> str:
    return f"{value:7.0f}" if value is not None else "      -"


def print_results(results: dict, preview: dict | None) -> None:
    print("\nCommitted lease:RegisterProject writes, Lessor's peer (Node, Python) or its REST "
          "gateway")
    kinds = sorted({cpu.kind(name) for r in results.values() for name in r["cpu"].processes})
    print(f"{'conc':>4} {'client':<7} {'writes':>6} {'per s':>6} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'fail':>4} {'/Node':>5} {'tx/blk':>6} | {'machine':>7} {'loadgen':>7} "
          f"{'network':>7} {'other':>5} | CPU ms per write: " + " ".join(f"{k[:10]:>10}"
                                                                         for k in kinds))
    for (concurrency, client), r in results.items():
        node = results.get((concurrency, "node"))
        ratio = r["per_second"] / node["per_second"] if node and node["per_second"] else None
        usage, count = r["cpu"], max(1, r["count"])
        per_kind = {k: 0.0 for k in kinds} | by_kind(usage)
        n_blocks = blocks(r["stages"])
        print(f"{concurrency:>4} {client:<7} {r['count']:>6} {r['per_second']:>6.1f} "
              f"{fmt_ms(r['median_ms'])} {fmt_ms(r['p99_ms'])} {r.get('failures', 0):>4} "
              f"{f'{ratio:.2f}' if ratio else '-':>5} "
              f"{r['count'] / n_blocks if n_blocks else 0:>6.1f} | "
              f"{usage.busy / usage.capacity:>7.0%} {usage.load / usage.capacity:>7.0%} "
              f"{usage.recorded / usage.capacity:>7.0%} {usage.unaccounted / usage.capacity:>5.0%}"
              f" | {'':17}" + " ".join(f"{1000 * per_kind[k] / count:>10.1f}" for k in kinds))
        if r.get("first_failure"):
            print(f"     first failure: {r['first_failure']}")
    if preview:
        usage = preview["cpu"]
        print(f"\nPOST /api/v1/leases/preview (120-period annuity), concurrency "
              f"{preview['concurrency']}: {preview['per_second']:.1f}/s, p50 "
              f"{preview['median_ms']:.0f} ms, p99 {preview['p99_ms']:.0f} ms, failures "
              f"{preview['failures']}; machine {usage.busy / usage.capacity:.0%} busy")
    print("\nmachine: whole-machine busy share (/proc/stat); loadgen: this benchmark and its Node "
          "client; network: every recorded process (process groups); other: the rest (other "
          "users of the machine). tx/blk: writes per block Lessor's peer committed.")
    for concurrency in sorted({c for c, _ in results}):
        clients = [c for c in CLIENTS if (concurrency, c) in results]
        table = {c: grouped(results[(concurrency, c)]["stages"]) for c in clients}
        keys = sorted({k for t in table.values() for k in t},
                      key=lambda k: ([s[2] for s in fabric_metrics.STAGES].index(k[0]), k[1]))
        print(f"\nLatency breakdown at concurrency {concurrency} from Fabric's /metrics: "
              f"mean ms per observation (busy: seconds spent per wall second, per node)")
        print(f"{'stage':<52} {'where':<16}" + "".join(f" {c:>16}" for c in clients))
        for key in keys:
            cells = "".join(f" {table[c][key][0]:8.1f} ({table[c][key][1]:4.2f})" if key in table[c]
                            else f" {'-':>16}" for c in clients)
            print(f"{key[0]:<52} {key[1]:<16}{cells}")


def plain(figures: dict) -> dict:
    """A phase's figures as JSON-ready values."""
    usage = figures["cpu"]
    return {**{k: v for k, v in figures.items() if k not in ("cpu", "stages")},
            "cpu": {"machine_busy_s": usage.busy, "capacity_s": usage.capacity,
                    "load_generator_s": usage.load, "processes_s": usage.processes},
            "stages": [s.__dict__ for s in figures["stages"]]}


def as_json(idle: dict, results: dict, preview: dict | None) -> dict:
    return {"idle": plain(idle),
            "writes": [{"concurrency": c, "client": k, **plain(r)}
                       for (c, k), r in results.items()],
            "preview": plain(preview) if preview else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer writes per phase")
    parser.add_argument("--concurrency", type=int, nargs="+", default=None)
    parser.add_argument("--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS))
    parser.add_argument("--preview-concurrency", type=int, default=16,
                        help="0: no preview phase")
    parser.add_argument("--home", help="run folder of a running network to measure")
    parser.add_argument("--port-offset", type=int, default=0)
    parser.add_argument("--no-partner", action="store_true",
                        help=f"do not add {PARTNER} to a network of the benchmark's own")
    parser.add_argument("--keep", action="store_true", help="leave the network of its own up")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args()
    concurrencies = args.concurrency or ([1, 16, 64] if args.quick else [1, 16, 64, 128])

    own = args.home is None
    net = ThrowawayNetwork("carbonlease-throughput-") if own else ToolNetwork(Path(args.home),
                                                                             args.port_offset)
    try:
        if own:
            started = time.monotonic()
            net.tool("up")
            if not args.no_partner:
                net.tool("add-org", PARTNER)
            print(f"network up in {time.monotonic() - started:.0f} s: {net.home} "
                  f"(--port-offset {net.port_offset})", file=sys.stderr)
        bench = Bench(net)
        try:
            # Warm-up: connections, chaincode servers, gateway workers; not counted.
            for client in args.clients:
                bench.writes(client, 16, 8)
            idle_seconds = 5 if args.quick else 10
            print(f"idle network for {idle_seconds} s", file=sys.stderr)
            idle = bench.idle(idle_seconds)
            results = {}
            for concurrency in concurrencies:
                count = writes_for(concurrency, args.quick)
                for client in args.clients:
                    print(f"concurrency {concurrency}: {count} writes through {client}",
                          file=sys.stderr)
                    results[(concurrency, client)] = bench.writes(client, count, concurrency)
            preview = None
            if "rest" in args.clients and args.preview_concurrency:
                preview = bench.preview(160 if args.quick else 480, args.preview_concurrency)
                preview["concurrency"] = args.preview_concurrency
        finally:
            bench.close()
        print(f"\n{len(bench.metric_ports)} nodes scraped; "
              f"{sum(1 for p in bench.metric_ports if p.startswith('peer'))} peers; "
              f"{len(bench.recorded)} recorded processes")
        usage = idle["cpu"]
        print(f"idle network ({idle['seconds']:.0f} s, no load): network processes "
              f"{usage.recorded / usage.capacity:.0%} of the machine ("
              + ", ".join(f"{k} {v / usage.capacity:.1%}" for k, v in by_kind(usage).items())
              + f"), machine {usage.busy / usage.capacity:.0%} busy")
        print_results(results, preview)
        if args.json:
            Path(args.json).write_text(json.dumps(as_json(idle, results, preview), indent=1))
    finally:
        if own and not args.keep:
            net.tool("down", check=False)
            shutil.rmtree(net.home, ignore_errors=True)
        elif own:
            print(f"left running: --home {net.home} --port-offset {net.port_offset}",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
