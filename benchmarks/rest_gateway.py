"""REST gateway throughput and latency, against the official Fabric Gateway client for Node.

    .venv/bin/python -m benchmarks.rest_gateway [--count 200] [--concurrency 1 16]
        [--preview-seconds 15] [--home H --port-offset N]

Runs against the network `scripts/up` started (its `status --json`), or the one the network
tool runs in ``--home`` on ports shifted by ``--port-offset`` (a network of one's own, so that
a measurement does not load, nor is loaded by, the developers' network). For each concurrency it
sends, in the same run: RegisterProject writes through the Lessor REST gateway (each returns
after commit), the same transactions through the Node client straight to Lessor's peer and
through the project's Python client (``gateway.fabricgw``, one thread per concurrent call),
then `POST /api/v1/leases/preview` (read-only 120-period annuities, 64 different terms and
emission series in turn) for ``--preview-seconds``. Prints requests per second, median and p99
latency, the REST/Node and Python/Node throughput ratios (target >= 0.9 and >= 1.0), and the
CPU time each request cost the gateway (gunicorn and nginx), Lessor's peer, its lease
chaincode server (``benchmarks.cpu``: every process of the run folder) and the load generator
(this process and its finished children: Python threads, the Python client, or wrk); at
concurrency 1 the idle work of those processes weighs on few requests. The preview load comes from `wrk` (Debian's, installed by scripts/bootstrap),
which costs little CPU on the cores it shares with the network; without it, from Python
threads, which cost much more (the output says which). Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

from benchmarks import cpu
from network import config, processes

REPO = Path(__file__).resolve().parent.parent
NODE_CLIENT = REPO / "benchmarks" / "node" / "submit_load.js"
PREVIEW_SCRIPT = REPO / "benchmarks" / "preview.lua"

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


def python_client_sender(status: dict):
    """``send(i)`` submitting project ``i`` through the project's own Fabric client."""
    from tests.integration.fabric_clients import connect

    gateway = connect(status, "LessorMSP")
    contract = gateway.get_network(status["channel"]).get_contract("lease")
    run_id = uuid.uuid4().hex[:8]

    def send(i: int):
        project = project_body(f"bench-py-{run_id}", i)
        contract.submit("RegisterProject", arguments=[json.dumps(project)])
    return send


def project_body(prefix: str, i: int) -> dict:
    return {"project_id": f"{prefix}-{i}-{uuid.uuid4().hex[:6]}", "name": "benchmark",
            "category": "clean_energy", "expected_annual_reduction_kg": 1000, "location": "Zhuhai"}


def preview_bodies(count: int = 64) -> list[dict]:
    """Different 120-period annuities: principal, base rate and emissions (a verified report
    missing now and then) vary, so the rate changes often and nothing can be answered twice."""
    rng = random.Random(16)
    bodies = []
    for n in range(count):
        body = json.loads(json.dumps(PREVIEW))
        body["terms"]["principal_fen"] += n * 12_345_678
        body["terms"]["base_rate_bps"] = 300 + 5 * n
        body["emissions"] = [None if rng.random() < 0.15 else rng.randint(80_000, 120_000)
                             for _ in range(120)]
        bodies.append(body)
    return bodies


def wrk_preview(base_url: str, key: str, concurrency: int, seconds: int) -> dict:
    """Preview load from wrk (one thread per core, ``concurrency`` keep-alive connections)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("".join(json.dumps(body) + "\n" for body in preview_bodies()))
    env = {**os.environ, "PREVIEW_BODIES": f.name, "PREVIEW_KEY": key}
    # wrk needs a connection per thread at least.
    out = subprocess.run(["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{seconds}s",
                          "--latency",
                          "-s", str(PREVIEW_SCRIPT), base_url],
                         env=env, capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)
    failures = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"count": int(re.search(r"(\d+) requests in", out).group(1)),
            "per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "median_ms": _wrk_ms(re.search(r"50%\s+(\S+)", out).group(1)),
            "p99_ms": _wrk_ms(re.search(r"99%\s+(\S+)", out).group(1)),
            "failures": int(failures.group(1)) if failures else 0,
            "first_failure": [errors.group(1)] if errors else []}


def _wrk_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def measured(layout: config.Layout, run, names: dict[str, list[str]]) -> tuple[dict, str]:
    """``run()``'s figures, and the CPU each of its requests cost the named recorded processes
    and the load generator (this process and its finished children, wrk among them)."""
    recorded = {name: pid for name in processes.recorded(layout)
                if (pid := processes.running_pid(layout, name))}
    before = cpu.sample(recorded)
    figures = run()
    used = cpu.usage(before, cpu.sample(recorded))
    count = max(1, figures["count"])
    costs = {label: sum(used.processes.get(n, 0.0) for n in group)
             for label, group in names.items()}
    costs["load generator"] = used.load
    text = "  ".join(f"{label} {seconds / count * 1000:.2f}" for label, seconds in costs.items())
    return figures, f"      CPU ms per request: {text}"


def fmt(name: str, figures: dict) -> str:
    return (f"  {name:<34} {figures['per_second']:8.1f}/s  median {figures['median_ms']:7.1f} ms"
            f"  p99 {figures['p99_ms']:7.1f} ms" + (f"  FAILURES {figures['failures']}: "
                                                   f"{figures['first_failure']}"
                                                   if figures.get("failures") else ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--preview-seconds", type=int, default=15)
    parser.add_argument("--home", help="run folder of the network to measure")
    parser.add_argument("--port-offset", type=int, default=0)
    args = parser.parse_args()
    network = [sys.executable, "-m", "network"]
    if args.home:
        network += ["--home", args.home, "--port-offset", str(args.port_offset)]
    layout = config.Layout(Path(args.home) if args.home else config.DEFAULT_HOME)
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
    domain = gateway["name"].split(".", 1)[1]
    peer_endpoint = status["clients"]["LessorMSP"]["peer_endpoint"].rsplit(":", 1)[1]
    peer = next(p["name"] for p in status["peers"]
                if p["endpoint"].rsplit(":", 1)[1] == peer_endpoint)
    costs = {"gateway": [gateway["name"], gateway["proxy"]], peer: [peer],
             f"cc-lease.{domain}": [f"cc-lease.{domain}"]}

    write = rest_sender(gateway["url"], key, "/api/v1/projects",
                        lambda i: project_body(f"bench-rest-{run_id}", i))
    python_write = python_client_sender(status)
    bodies = preview_bodies()
    preview = rest_sender(gateway["url"], key, "/api/v1/leases/preview",
                          lambda i: bodies[i % len(bodies)])
    wrk = shutil.which("wrk")
    for concurrency in args.concurrency:
        count = args.count if concurrency > 1 else max(20, args.count // 5)
        print(f"concurrency {concurrency} ({count} writes each)")
        rest, rest_cost = measured(layout, lambda: load(write, count, concurrency), costs)
        node = node_run(f.name, count, concurrency)
        python, python_cost = measured(layout, lambda: load(python_write, count, concurrency),
                                       costs)
        print(fmt("REST write (RegisterProject)", rest))
        print(rest_cost)
        print(fmt("Node client submit (reference)", node))
        print(fmt("Python client submit (fabricgw)", python))
        print(python_cost)
        print(f"  REST / Node throughput ratio       {rest['per_second'] / node['per_second']:8.2f}")
        print(f"  Python / Node throughput ratio     "
              f"{python['per_second'] / node['per_second']:8.2f}")
        if wrk:
            figures, cost = measured(layout, lambda: wrk_preview(
                gateway["url"], key, concurrency, args.preview_seconds), costs)
            source = f"wrk, {args.preview_seconds} s"
        else:
            figures, cost = measured(layout, lambda: load(preview, count, concurrency), costs)
            source = "Python threads: no wrk"
        print(fmt(f"REST preview ({source})", figures))
        print(cost)


if __name__ == "__main__":
    main()
