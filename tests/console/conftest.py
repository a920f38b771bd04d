"""Browser tests of the web console: Playwright driving Debian's Chromium (scripts/bootstrap
installs it) against gateway apps on a fake Fabric (``world.World``), each served by a local
werkzeug server. No Fabric network, so no lock is needed. The browser itself is the
session's one Chromium (``browser`` in tests/conftest.py)."""

from __future__ import annotations

import os
import pathlib
import struct
import time

import pytest

from .world import World

SCREENSHOTS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "screenshots"
AXE = (pathlib.Path(__file__).resolve().parents[2] / "gateway" / "static" / "node_modules"
       / "axe-core" / "axe.min.js")


@pytest.fixture
def world(tmp_path):
    running = World(tmp_path)
    yield running
    running.stop()


class Problems(list):
    """Script errors, failed loads and CSP refusals a page reported."""


@pytest.fixture
def new_page(browser):
    """``new_page(locale=...)``: a fresh browser context (own sessionStorage) and its page.
    At the end, no page may have reported a script error or a refused load (CSP included)."""
    contexts, problems = [], Problems()

    def make(locale="en-US", **options):
        context = browser.new_context(locale=locale, viewport={"width": 1200, "height": 900},
                                      **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda err: problems.append(f"script error: {err}"))
        page.on("console", lambda message: message.type == "error"
                and "Failed to load resource" not in message.text
                and problems.append(f"console: {message.text}"))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


def sign_in(page, world, msp_id, role="writer", path="/console/", language=None):
    """Sign in on ``msp_id``'s console; lands on ``path`` (after sign-in) when given."""
    suffix = f"?lang={language}" if language else ""
    page.goto(world.url(msp_id, "/console/") + suffix)
    page.fill("input[name=api_key]", world.key(msp_id, role))
    page.press("input[name=api_key]", "Enter")
    page.wait_for_url("**/console/projects")
    if path != "/console/":
        page.goto(world.url(msp_id, path))


def fill(page, values):
    """Type into each field (CSS selector -> text)."""
    for selector, value in values.items():
        page.fill(selector, value)


def axe_violations(page, impacts=("serious", "critical")):
    """axe-core's violations of the given impacts on the page as it is now. Evaluated by the
    test driver, so the page's CSP (scripts from itself only) stays as served."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]])
            for v in result["violations"] if v["impact"] in impacts]


def eventually(check, timeout=10.0):
    """Wait until ``check()`` is true (what the page does after a pause or a reload)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.05)


def chart_data(page, kind):
    return page.evaluate(
        "kind => Chart.getChart(document.querySelector(`canvas[data-chart=${kind}]`))"
        ".data.datasets.map(d => ({label: d.label, data: d.data}))", kind)


def photograph(page, tmp_path, name, full_page=True):
    """A PNG of the page (into docs/screenshots/ with CARBONLEASE_UPDATE_SCREENSHOTS=1, else
    into tmp_path); returns its bytes, width and height."""
    folder = SCREENSHOTS if os.environ.get("CARBONLEASE_UPDATE_SCREENSHOTS") == "1" else tmp_path
    path = folder / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=full_page, animations="disabled")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return data, width, height
