"""The web console on the real consortium, as its people would use it: the leasing company
registers a project and creates a lease from the form with its live preview, the grid submits a
meter reading, the leasing company its emission report, the regulator verifies it from its queue,
and the leasing company fixes the rate and sees the lease page's table and both charts change;
the grid, no member of the lease terms collection, sees the lease's public record only.
Each org in its own browser context on its own gateway (Debian's Chromium through Playwright)."""

from __future__ import annotations

import hashlib
import re
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.console.conftest import (axe_violations, chart_data, eventually,  # noqa: F401
                                    fill, new_page, photograph, sign_in)

from .followers import FollowerProcess, follower_env
from .test_api import start_gateways


class Consoles:
    """The running gateways as the console tests address them."""

    def __init__(self, gateways):
        self.gateways = gateways

    def url(self, msp_id, path="/console/"):
        return self.gateways[msp_id].url + path

    def key(self, msp_id, role="writer"):
        return self.gateways[msp_id].keys[role]

    def until_ok(self, msp_id, path, check=lambda body: True, timeout=60.0):
        """README's advice to applications: before acting through another org's gateway, wait
        until that gateway's peer has what the first one wrote."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.gateways[msp_id].get(path)
            if response.ok and check(response.json()):
                return response.json()
            assert time.monotonic() < deadline, f"{path} at {msp_id}: {response.text}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def consoles(consortium, tmp_path_factory):
    """A gateway per org and its read-model follower (the library, lists and the regulator's
    queue read the read model)."""
    running, stop = start_gateways(consortium, tmp_path_factory)
    followers = [FollowerProcess(follower_env(consortium, gateway.database_url, msp_id),
                                 tmp_path_factory.mktemp(f"follower-{msp_id}") / "follower.log")
                 for msp_id, gateway in running.items()]
    try:
        for follower in followers:
            follower.start()
        yield Consoles(running)
    finally:
        stop()
        for follower in followers:  # before the consortium goes down under them
            follower.stop()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_the_gateways_the_tool_runs_serve_the_console(consortium):
    """gunicorn gateways as scripts/up starts them: pages, their scripts and Chart.js."""
    for entry in consortium["gateways"]:
        page = requests.get(entry["url"] + "/console/projects", timeout=30)
        assert page.status_code == 200 and "frame-ancestors 'none'" in \
            page.headers["Content-Security-Policy"]
        for asset in ("/console/static/js/console.js", "/console/vendor/chart.js"):
            response = requests.get(entry["url"] + asset, timeout=30)
            assert response.status_code == 200, asset
            assert "javascript" in response.headers["Content-Type"], asset


def test_a_lease_from_the_form_to_a_rate_fixed_on_a_verified_report(consoles, new_page, tmp_path):
    # The lessee is "lessee" in public (readings and reports), its id and name private.
    project_id, lease_id, lessee = unique("pv"), unique("lease"), unique("acme")
    lessee_id, lessee_name = unique("91440300"), "Acme Solar Ltd 深圳"
    region, reading_id, report_id = unique("GD"), unique("rd"), unique("rep")

    # The leasing company registers a project in the library.
    lessor = new_page()
    sign_in(lessor, consoles, "LessorMSP")
    fill(lessor, {"#p-id": project_id, "#p-name": "Rooftop PV", "#p-location": "Zhuhai",
                  "#p-reduction": "120000"})
    lessor.click("#register-project button[type=submit]")
    expect(lessor.locator("#notice .done")).to_contain_text("block")

    # A new lease: the preview follows the form (PreviewSchedule on the peer).
    lessor.goto(consoles.url("LessorMSP", "/console/leases/new"))
    expect(lessor.locator("#schedule tbody tr")).to_have_count(8)
    fill(lessor, {"#n-lease": lease_id, "#n-project": project_id, "#n-lessee-ref": lessee,
                  "#n-lessee": lessee_id, "#n-lessee-name": lessee_name, "#n-periods": "4"})
    expect(lessor.locator("#schedule tbody tr")).to_have_count(4)
    # No verified emissions assumed: period 2 takes the missing-report adjustment (+60 bps).
    rate_2 = lessor.locator("#schedule tr[data-period='2'] td:nth-child(2)")
    expect(rate_2).to_have_text("5.10%")
    # 90,000 kg in period 1 against its 100,000 kg target: +1000 bps -> tier 500 -> -40.
    lessor.fill("#n-emissions", "90000")
    expect(rate_2).to_have_text("4.10%")
    assert chart_data(lessor, "rate")[0]["data"] == [4.5, 4.1, 4.1, 4.1]
    photograph(lessor, tmp_path, "new-lease-preview")
    lessor.fill("#n-emissions", "")
    expect(rate_2).to_have_text("5.10%")
    lessor.click("#new-lease button[type=submit]")
    lessor.wait_for_url(f"**/console/leases/{lease_id}")
    expect(lessor.locator("#schedule tbody tr")).to_have_count(4)
    expect(lessor.locator("#lease")).to_contain_text(f"{lessee_name} ({lessee_id})")
    lessor.click("#activate")
    expect(lessor.locator("#fix-rate")).to_be_visible()

    # The regulator publishes the grid region's factor; the grid submits the meter reading.
    regulator = new_page()
    sign_in(regulator, consoles, "RegulatorMSP", path="/console/reports")
    fill(regulator, {"#fa-region": region, "#fa-year": "2025", "#fa-factor": "570"})
    regulator.click("#publish-factor button[type=submit]")
    expect(regulator.locator("#notice .done")).to_be_visible()
    consoles.until_ok("GridMSP", f"/api/v1/emission-factors/{region}/2025")
    grid = new_page()
    sign_in(grid, consoles, "GridMSP", path="/console/reports")
    fill(grid, {"#r-id": reading_id, "#r-lessee": lessee, "#r-facility": "plant-1",
                "#r-region": region, "#r-start": "2025-01-01", "#r-end": "2025-04-01",
                "#r-kwh": "100000"})
    grid.click("#submit-reading button[type=submit]")
    expect(grid.locator("#notice .done")).to_be_visible()
    consoles.until_ok("LessorMSP", f"/api/v1/meter-readings/{reading_id}")

    # The leasing company submits the lessee's report of period 1 with its evidence.
    lessor.goto(consoles.url("LessorMSP", "/console/reports"))
    fill(lessor, {"#s-id": report_id, "#s-lessee": lessee, "#s-start": "2025-01-01",
                  "#s-end": "2025-04-01", "#s-scope1": "5000", "#s-readings": reading_id})
    lessor.set_input_files("#s-file", files=[{"name": "audit.pdf", "mimeType": "application/pdf",
                                               "buffer": b"audit of 2025-Q1"}])
    expect(lessor.locator("#s-hash")).to_have_value(hashlib.sha256(b"audit of 2025-Q1").hexdigest())
    lessor.click("#submit-report button[type=submit]")
    expect(lessor.locator("#notice .done")).to_be_visible()

    # The regulator's queue shows it with its reading and factor (read model, followed from
    # the regulator's own peer); it verifies.
    card = regulator.locator(f"article[data-report-id={report_id}]")

    def queued():
        regulator.click("#report-filters button[type=submit]")
        return card.count() == 1
    eventually(queued, timeout=60)
    assert regulator.inner_text(f"article[data-report-id={report_id}] tr[data-reading-id="
                                f"{reading_id}]").split("\t")[3:5] == ["100,000", "570"]
    facts = card.locator("dl").inner_text()
    assert "57,000" in facts and "62,000" in facts  # 100,000 kWh x 570 g/kWh + 5,000 kg
    card.locator("button.verify").click()
    expect(card).to_have_count(0)
    consoles.until_ok("LessorMSP", f"/api/v1/emission-reports/{report_id}",
                      lambda report: report["status"] == "verified")

    # The leasing company fixes period 2's rate: 62,000 kg against 100,000 -> tier 500 -> -40.
    lessor.goto(consoles.url("LessorMSP", f"/console/leases/{lease_id}"))
    expect(lessor.locator("#schedule tbody tr")).to_have_count(4)
    rate_before, emissions_before = chart_data(lessor, "rate"), chart_data(lessor, "emissions")
    row_before = lessor.inner_text("#schedule tr[data-period='2']")
    lessor.click("#fix-rate")
    expect(lessor.locator("#fixes tr[data-fixed-period='2']")).to_be_visible()
    fix = lessor.inner_text("#fixes tr[data-fixed-period='2']").split("\t")
    assert fix == ["2", "1", report_id, "62,000", "100,000", "3,800", "≥ 500 bps", "-0.40%",
                   "4.10%"]
    row_after = lessor.inner_text("#schedule tr[data-period='2']").split("\t")
    assert row_after[1:3] == ["4.10%", "-0.40%"] and row_after[7] == "yes"
    assert row_after != row_before.split("\t")
    assert rate_before[0]["data"] == [4.5, 4.5, 4.5, 4.5]
    assert chart_data(lessor, "rate")[0]["data"] == [4.5, 4.1, 4.5, 4.5]
    assert emissions_before[0]["data"] == [None, None, None, None]
    assert chart_data(lessor, "emissions")[0]["data"] == [62_000, None, None, None]
    assert chart_data(lessor, "emissions")[1]["data"] == [100_000, 97_500, 95_000, 92_500]
    assert axe_violations(lessor) == []
    photograph(lessor, tmp_path, "lease-after-rate-fix")
    assert re.fullmatch(r"¥[\d,]+\.\d\d", lessor.inner_text("#schedule tr[data-period='2'] "
                                                            "td:nth-child(6)"))

    # The grid is no member of the lease terms collection: its console shows the public record
    # from its own peer, and says the rest is private.
    consoles.until_ok("GridMSP", f"/api/v1/leases/{lease_id}",
                      lambda lease: lease["fixed_through_period"] == 2)
    grid.goto(consoles.url("GridMSP", f"/console/leases/{lease_id}"))
    expect(grid.locator("#terms-hidden")).to_be_visible()
    facts = grid.inner_text("#lease")
    assert lessee in facts and project_id in facts
    assert lessee_name not in grid.inner_text("main") and lessee_id not in grid.inner_text("main")
    assert grid.is_hidden("#private-part")
