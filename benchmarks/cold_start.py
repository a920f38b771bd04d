"""Cold start of the whole consortium (binaries already built) to its first committed
transaction, memory per process, a no-op `up`, and a sixth org joining the running channel
to its first committed transaction. The Fabric CA build is timed separately, before.

    .venv/bin/python -m benchmarks.cold_start [--cold-ca-build]

`--cold-ca-build` builds Fabric CA from its source archive into a temporary binary cache and
Go build cache (~2.5 min of both cores); without it, the CA build step is timed against the
existing caches (a cache hit after `scripts/bootstrap` or a first `up`).

Brings up a throw-away consortium in a temporary folder on shifted ports, measures each stage
from the tool's own progress, submits one transaction through the Python Gateway client, and
removes everything again. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
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


def ca_build_seconds(cold: bool) -> float:
    """Time `python -m network build` with the Fabric binaries cached; with ``cold``, the
    Fabric CA binaries are built from scratch into throw-away caches."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="carbonlease-ca-build-") as scratch:
        if cold:
            fabric_bin = subprocess.run([sys.executable, "-c", "from network import binaries; "
                                         "print(binaries.ensure_built())"], cwd=REPO, check=True,
                                        capture_output=True, text=True).stdout.strip()
            cache = Path(scratch) / "cache"
            # The Fabric binaries stay a cache hit: only the CA build is measured.
            shutil.copytree(Path(fabric_bin).parent.parent, cache / "fabric")
            env.update(CARBONLEASE_CACHE=str(cache), GOCACHE=str(Path(scratch) / "go-build"))
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "network", "build"], cwd=REPO, check=True,
                       capture_output=True, env=env)
        return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-ca-build", action="store_true")
    args = parser.parse_args()
    build_s = ca_build_seconds(args.cold_ca_build)
    print(f"Fabric CA build ({'cold' if args.cold_ca_build else 'cache as found'}): "
          f"{build_s:6.1f} s")
    net = ThrowawayNetwork("carbonlease-bench-")
    try:
        started = time.monotonic()
        up = net.tool("up")
        up_s = time.monotonic() - started
        first_transaction(net.status(), "LessorMSP")
        first_tx_s = time.monotonic() - started
        stages = [line for line in up.stderr.splitlines()
                  if "ready" in line or "committing" in line or "started gateway" in line
                  or "enrolled for" in line]
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
