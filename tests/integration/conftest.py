"""A real consortium for the integration tests: started once per test session from the
project's own network tool, in a temporary run folder on ports shifted clear of anything
already listening (a developer's own `scripts/up` network included), stopped at the end.

Set CARBONLEASE_KEEP_TEST_NETWORK=1 to leave its folder (logs, ledgers) for a post-mortem.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest

from .throwaway import ThrowawayNetwork

@pytest.fixture(scope="session")
def test_network():
    net = ThrowawayNetwork("carbonlease-it-")
    try:
        up = net.tool("up")
        sys.stderr.write(up.stderr)
        yield net
    finally:
        net.tool("down", check=False)
        if os.environ.get("CARBONLEASE_KEEP_TEST_NETWORK"):
            print(f"\ntest consortium left in {net.home}")
        else:
            shutil.rmtree(net.home, ignore_errors=True)


@pytest.fixture(scope="session")
def consortium(test_network) -> dict:
    """`scripts/status --json` of the running test consortium."""
    report = test_network.status()
    assert report["healthy"], json.dumps(report, indent=2)
    return report
