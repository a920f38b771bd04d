"""Cold start of the whole consortium (binaries already built) to its first committed
transaction, memory per process, a no-op `up`, and a sixth org joining the running channel
to its first committed transaction.

    .venv/bin/python -m benchmarks.cold_start

Brings up a throw-away consortium in a temporary folder on shifted ports, measures each stage
from the tool's own progress, submits one transaction through the Python Gateway client, and
removes everything again. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from network import processes
from tests.integration.fabric_clients import connect, new_project
from tests.integration.throwaway import ThrowawayNetwork

REPO = Path(__file__).resolve().parent.parent


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def first_transaction(status: dict, msp_id: str) -> None:
    with connect(status, msp_id) as gateway:
        _, project = new_project("first")
        gateway.get_network(status["channel"]).get_contract("lease").submit_transaction(
            "RegisterProject", project)


def main() -> None:
    subprocess.run([sys.executable, "-m", "network", "build"], cwd=REPO, check=True,
                   capture_output=True)
    net = ThrowawayNetwork("carbonlease-bench-")
    try:
        started = time.monotonic()
        up = net.tool("up")
        up_s = time.monotonic() - started
        first_transaction(net.status(), "LessorMSP")
        first_tx_s = time.monotonic() - started
        stages = [line for line in up.stderr.splitlines()
                  if "ready" in line or "committing" in line or "started gateway" in line]
        print("cold start (binaries cached, empty run folder)")
        print(f"  scripts/up equivalent:            {up_s:6.1f} s")
        print(f"  to first committed transaction:   {first_tx_s:6.1f} s")
        for line in stages:
            print(f"    {line}")
        print("resident memory per process (MiB):")
        for name in processes.recorded(net.layout):
            pid = processes.running_pid(net.layout, name)
            if pid:
                print(f"  {name:<45} {rss_mib(pid):7.1f}")
        started = time.monotonic()
        net.tool("up")
        print(f"second up (nothing to do):          {time.monotonic() - started:6.1f} s")
        started = time.monotonic()
        net.tool("add-org", "ShenzhenPartnerMSP")
        added_s = time.monotonic() - started
        first_transaction(net.status(), "ShenzhenPartnerMSP")
        print(f"add-org ShenzhenPartnerMSP:         {added_s:6.1f} s")
        print(f"  to its first committed transaction: {time.monotonic() - started:6.1f} s")
    finally:
        net.tool("down", check=False)
        shutil.rmtree(net.home, ignore_errors=True)


if __name__ == "__main__":
    main()
