"""A throw-away consortium for the integration tests and the benchmarks: the project's own
network tool, run against a temporary folder on ports shifted clear of anything listening
(a developer's own `scripts/up` network included)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from network import config, processes

REPO = Path(__file__).resolve().parents[2]


class ToolNetwork:
    """A consortium run by the network tool in ``home`` on ports shifted by ``port_offset``,
    driven through the tool as a user would (``scripts/up``'s own: the tool's defaults)."""

    def __init__(self, home: Path = config.DEFAULT_HOME, port_offset: int = 0):
        self.home = Path(home)
        self.port_offset = port_offset
        self.consortium = config.load(port_offset=self.port_offset)
        self.layout = config.Layout(self.home)

    def tool(self, *args: str, check: bool = True, timeout: float = 600,
             wrapper: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        """Run the network tool; ``wrapper`` is a command the tool runs under (it ends with
        the argv it executes)."""
        argv = [*wrapper, sys.executable, "-m", "network", "--home", str(self.home),
                "--port-offset", str(self.port_offset), *args]
        result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def status(self) -> dict:
        return json.loads(self.tool("status", "--json", check=False).stdout)

    def heights(self) -> dict[str, int | None]:
        return {p["name"]: p["height"] for p in self.status()["peers"]}

    def wait_for_same_height(self, timeout: float = 60) -> dict[str, int | None]:
        """Peer name -> height, once every peer has the same one (or at the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            heights = self.heights()
            if len(set(heights.values())) == 1 or time.monotonic() > deadline:
                return heights
            time.sleep(0.5)


class ThrowawayNetwork(ToolNetwork):
    """A consortium of its own in a new temporary folder, on the first block of ports where
    nothing listens."""

    def __init__(self, prefix: str):
        super().__init__(Path(tempfile.mkdtemp(prefix=prefix)), _free_offset())


def _free_offset() -> int:
    consortium = config.load()
    every_port = consortium.all_ports(consortium.orgs)
    for offset in range(20000, 60000, 1000):
        if not any(processes.port_in_use(p + offset) for p in every_port):
            return offset
    raise RuntimeError("no free block of ports for a throw-away consortium")
