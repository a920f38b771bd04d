"""Real consortia for the integration tests, started from the project's own network tool in
temporary run folders on ports shifted clear of anything already listening (a developer's own
`scripts/up` network included), stopped at the end: one shared by the session, and one per
module for the modules that crash nodes or reshape the network (``own_network``).

Set CARBONLEASE_KEEP_TEST_NETWORK=1 to leave its folder (logs, ledgers) for a post-mortem.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys

import pytest

from .throwaway import ThrowawayNetwork


@contextlib.contextmanager
def _running(prefix: str):
    net = ThrowawayNetwork(prefix)
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
def test_network():
    """The consortium the tests share: none may crash, stop or reshape it."""
    with _running("carbonlease-it-") as net:
        yield net


@pytest.fixture(scope="module")
def own_network():
    """A consortium of the test module's own, for tests that crash nodes, stop the network
    or change its membership: whatever they do, the shared one is untouched, so any
    selection and order of tests passes."""
    with _running("carbonlease-own-") as net:
        yield net


@pytest.fixture
def own_consortium(own_network) -> dict:
    """`status --json` of ``own_network``, made whole first by `up` (a no-op when it is), so
    a test finds it running whatever an earlier one crashed or stopped."""
    own_network.tool("up")
    report = own_network.status()
    assert report["healthy"], json.dumps(report, indent=2)
    return report


@pytest.fixture(scope="session")
def consortium(test_network) -> dict:
    """`scripts/status --json` of the running test consortium."""
    report = test_network.status()
    assert report["healthy"], json.dumps(report, indent=2)
    return report
