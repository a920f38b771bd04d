"""A real consortium for the integration tests: started once per test session from the
project's own network tool, in a temporary run folder on ports shifted clear of anything
already listening (a developer's own `scripts/up` network included), stopped at the end.

Set CARBONLEASE_KEEP_TEST_NETWORK=1 to leave its folder (logs, ledgers) for a post-mortem.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from network import config, processes

REPO = Path(__file__).resolve().parents[2]


class TestNetwork:
    """Runs the network tool against the test consortium's folder and ports."""

    def __init__(self, home: Path, port_offset: int):
        self.home = home
        self.port_offset = port_offset
        self.consortium = config.load(port_offset=port_offset)
        self.layout = config.Layout(home)

    def tool(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        argv = [sys.executable, "-m", "network", "--home", str(self.home),
                "--port-offset", str(self.port_offset), *args]
        result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def status(self) -> dict:
        return json.loads(self.tool("status", "--json", check=False).stdout)


def _free_offset() -> int:
    every_port = config.load().all_ports(config.load().orgs)
    for offset in range(20000, 40000, 1000):
        if not any(processes.port_in_use(p + offset) for p in every_port):
            return offset
    raise RuntimeError("no free block of ports for the test consortium")


@pytest.fixture(scope="session")
def test_network():
    home = Path(tempfile.mkdtemp(prefix="carbonlease-it-"))
    net = TestNetwork(home, _free_offset())
    try:
        up = net.tool("up")
        sys.stderr.write(up.stderr)
        yield net
    finally:
        net.tool("down", check=False)
        if os.environ.get("CARBONLEASE_KEEP_TEST_NETWORK"):
            print(f"\ntest consortium left in {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def consortium(test_network) -> dict:
    """`scripts/status --json` of the running test consortium."""
    report = test_network.status()
    assert report["healthy"], json.dumps(report, indent=2)
    return report
