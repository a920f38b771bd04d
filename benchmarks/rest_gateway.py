"""REST gateway throughput and latency, against the official Fabric Gateway client for Node.

    .venv/bin/python -m benchmarks.rest_gateway [--count 200] [--concurrency 1 16]
        [--home H --port-offset N]

Runs against the network `scripts/up` started (its `status --json`), or the one the network
tool runs in ``--home`` on ports shifted by ``--port-offset`` (a network of one's own, so that
a measurement does not load, nor is loaded by, the developers' network). For each concurrency it
sends, in the same run: RegisterProject writes through the Lessor REST gateway (each returns
after commit), the same transactions through the Node client straight to Lessor's peer, and
`POST /api/v1/leases/preview` (a read-only 120-period annuity). Prints requests per second,
median and p99 latency, and the REST/Node throughput ratio (target >= 0.9). Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
NODE_CLIENT = REPO / "benchmarks" / "node" / "submit_load.js"

PREVIEW = {
    "terms": {"principal_fen": 1_000_000_000, "base_rate_bps": 450, "term_periods": 120,
              "period_months": 1, "amortization": "annuity", "start_date": "2025-01-01",
              "baseline_kg": 100_000, "annual_reduction_bps": 500,
              "ratchet": [{"min_performance_bps": -500, "adjustment_bps": 50},
                          {"min_performance_bps": 0, "adjustment_bps": 0},
                          {"min_performance_bps": 500, "adjustment_bps": -25}],
              "cap_bps": 100, "floor_bps": -50, "missing_report_bps": 75},
    "emissions": [100_000 - 300 * (i % 7) if i % 5 else None for i in range(120)],
}


def load(send, count: int, concurrency: int) -> dict:
    """Call ``send(i)`` ``count`` times from ``concurrency`` threads; figures of the run."""
    latencies: list[float] = []
    failures: list[str] = []
    counter = iter(range(count))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            started = time.perf_counter()
            try:
                send(i)
            except Exception as error:  # counted and shown, not hidden
                failures.append(repr(error)[:200])
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    return {"count": len(latencies), "failures": len(failures), "first_failure": failures[:1],
            "per_second": len(latencies) / seconds,
            "median_ms": statistics.median(latencies) if latencies else None,
            "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
            if latencies else None}


def rest_sender(base_url: str, key: str, path: str, body_for):
    local = threading.local()

    def send(i: int):
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {key}"
        response = session.post(f"{base_url}{path}", json=body_for(i), timeout=120)
        if response.status_code >= 300:
            raise RuntimeError(f"{response.status_code} {response.text[:200]}")
    return send


def node_run(status_file: str, count: int, concurrency: int, prefix: str | None = None) -> dict:
    out = subprocess.run(["node", str(NODE_CLIENT), status_file, "LessorMSP", str(count),
                          str(concurrency), prefix or f"bench-node-{uuid.uuid4().hex[:8]}"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt(name: str, figures: dict) -> str:
    return (f"  {name:<34} {figures['per_second']:8.1f}/s  median {figures['median_ms']:7.1f} ms"
            f"  p99 {figures['p99_ms']:7.1f} ms" + (f"  FAILURES {figures['failures']}: "
                                                   f"{figures['first_failure']}"
                                                   if figures.get("failures") else ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--home", help="run folder of the network to measure")
    parser.add_argument("--port-offset", type=int, default=0)
    args = parser.parse_args()
    network = [sys.executable, "-m", "network"]
    if args.home:
        network += ["--home", args.home, "--port-offset", str(args.port_offset)]
    answer = subprocess.run([*network, "status", "--json"], cwd=REPO, capture_output=True,
                            text=True)
    if not answer.stdout.strip():
        raise SystemExit(f"no network status: {answer.stderr.strip()[-500:]}")
    status = json.loads(answer.stdout)
    gateway = next(g for g in status["gateways"] if g["msp_id"] == "LessorMSP")
    key = Path(gateway["dev_credential_file"]).read_text().strip()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(status, f)
    run_id = uuid.uuid4().hex[:8]

    def project(i: int) -> dict:
        return {"project_id": f"bench-rest-{run_id}-{i}-{uuid.uuid4().hex[:6]}",
                "name": "benchmark", "category": "clean_energy",
                "expected_annual_reduction_kg": 1000, "location": "Zhuhai"}

    write = rest_sender(gateway["url"], key, "/api/v1/projects", project)
    preview = rest_sender(gateway["url"], key, "/api/v1/leases/preview", lambda i: PREVIEW)
    for concurrency in args.concurrency:
        count = args.count if concurrency > 1 else max(20, args.count // 5)
        print(f"concurrency {concurrency} ({count} requests each)")
        rest = load(write, count, concurrency)
        node = node_run(f.name, count, concurrency)
        print(fmt("REST write (RegisterProject)", rest))
        print(fmt("Node client submit (reference)", node))
        print(f"  REST / Node throughput ratio       {rest['per_second'] / node['per_second']:8.2f}")
        print(fmt("REST preview (120-period annuity)", load(preview, count, concurrency)))


if __name__ == "__main__":
    main()
