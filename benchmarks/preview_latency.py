"""Latency of `lease:PreviewSchedule` for a 120-period annuity through a peer (evaluate, no ordering).

    .venv/bin/python -m benchmarks.preview_latency [--calls 50] [--org LessorMSP]

Reads `scripts/status --json` of the running development network, warms the connection and the
chaincode up with a few calls, then times `--calls` sequential evaluate calls end to end (sign,
gRPC to the org's peer, chaincode, response). The emissions vary per period so the rate changes
and the annuity instalment is recomputed often (the expensive path). Prints the figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

from tests.integration.fabric_clients import connect

REPO = Path(__file__).resolve().parent.parent

TERMS = {
    "principal_fen": 3_456_789_012_345, "base_rate_bps": 385, "term_periods": 120, "period_months": 1,
    "amortization": "annuity", "start_date": "2024-01-01", "baseline_kg": 1_000_000,
    "annual_reduction_bps": 1200,
    "ratchet": [{"min_performance_bps": 1000, "adjustment_bps": -50},
                {"min_performance_bps": 0, "adjustment_bps": -20},
                {"min_performance_bps": -500, "adjustment_bps": 30}],
    "cap_bps": 100, "floor_bps": -80, "missing_report_bps": 60,
}
# 85%, 99%, 104%, 200% of the baseline, or no report: every tier and the missing path.
EMISSIONS = [[850_000, 990_000, 1_040_000, 2_000_000, None][p % 5] for p in range(120)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--org", default="LessorMSP")
    options = parser.parse_args()
    status = json.loads(subprocess.run([str(REPO / "scripts" / "status"), "--json"], cwd=REPO,
                                       capture_output=True, text=True, check=True).stdout)
    args = [json.dumps(TERMS), json.dumps(EMISSIONS)]
    with connect(status, options.org) as gateway:
        contract = gateway.get_network(status["channel"]).get_contract("lease")
        for _ in range(5):
            rows = json.loads(contract.evaluate("PreviewSchedule", arguments=args))
        assert len(rows) == 120 and rows[-1]["outstanding_after_fen"] == 0
        times = []
        for _ in range(options.calls):
            started = time.perf_counter()
            contract.evaluate("PreviewSchedule", arguments=args)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"PreviewSchedule, 120-period annuity, {options.calls} evaluate calls through "
          f"{options.org}'s peer ({status['clients'][options.org]['peer_endpoint']}):")
    print(f"  median {statistics.median(times):.1f} ms, p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, "
          f"min {times[0]:.1f} ms, max {times[-1]:.1f} ms, distinct rates "
          f"{len({r['rate_bps'] for r in rows})}")


if __name__ == "__main__":
    main()
