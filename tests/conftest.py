import sys
from pathlib import Path

import pytest

# Tests import the project's packages (network, gateway) from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Debian's Chromium (scripts/bootstrap installs it); Playwright's own browser download is not
# reachable. Without the background-networking flags it keeps dialling hosts this machine
# cannot reach.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session: Playwright's sync API runs one instance per thread,
    so the console's own tests and the console story on real peers must share it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
