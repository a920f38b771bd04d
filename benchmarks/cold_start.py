"""Cold start of the whole consortium (binaries already built) to its first committed
transaction, memory per process, a no-op `up`, and a sixth org joining the running channel
to its first committed transaction.

    .venv/bin/python -m benchmarks.cold_start

Brings up a throw-away consortium in a temporary folder on shifted ports, measures each stage
from the tool's own progress, submits one transaction through the Python Gateway client, and
removes everything again. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from network import config, processes
from tests.integration.fabric_clients import connect, new_project

REPO = Path(__file__).resolve().parent.parent


def tool(home: Path, offset: int, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "network", "--home", str(home), "--port-offset",
                           str(offset), *args], cwd=REPO, capture_output=True, text=True,
                          check=True)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="carbonlease-bench-"))
    offset = next(o for o in range(41000, 60000, 1000)
                  if not any(processes.port_in_use(p + o)
                             for p in config.load().all_ports(config.load().orgs)))
    subprocess.run([sys.executable, "-m", "network", "build"], cwd=REPO, check=True,
                   capture_output=True)
    try:
        started = time.monotonic()
        up = tool(home, offset, "up")
        up_s = time.monotonic() - started
        status = json.loads(tool(home, offset, "status", "--json").stdout)
        with connect(status, "LessorMSP") as gateway:
            _, project = new_project("cold-start")
            gateway.get_network(status["channel"]).get_contract("lease").submit_transaction(
                "RegisterProject", project)
        first_tx_s = time.monotonic() - started
        stages = [line for line in up.stderr.splitlines()
                  if "ready" in line or "committing" in line or "started gateway" in line]
        layout = config.Layout(home)
        print("cold start (binaries cached, empty run folder)")
        print(f"  scripts/up equivalent:            {up_s:6.1f} s")
        print(f"  to first committed transaction:   {first_tx_s:6.1f} s")
        for line in stages:
            print(f"    {line}")
        print("resident memory per process (MiB):")
        for name in processes.recorded(layout):
            pid = processes.running_pid(layout, name)
            if pid:
                print(f"  {name:<45} {rss_mib(pid):7.1f}")
        started = time.monotonic()
        tool(home, offset, "up")
        print(f"second up (nothing to do):          {time.monotonic() - started:6.1f} s")
        started = time.monotonic()
        tool(home, offset, "add-org", "ShenzhenPartnerMSP")
        added_s = time.monotonic() - started
        status = json.loads(tool(home, offset, "status", "--json").stdout)
        with connect(status, "ShenzhenPartnerMSP") as gateway:
            _, project = new_project("shenzhen-first")
            gateway.get_network(status["channel"]).get_contract("lease").submit_transaction(
                "RegisterProject", project)
        print(f"add-org ShenzhenPartnerMSP:         {added_s:6.1f} s")
        print(f"  to its first committed transaction: {time.monotonic() - started:6.1f} s")
    finally:
        tool(home, offset, "down")
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
