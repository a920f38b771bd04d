"""Every page passes axe-core without serious or critical violations, and every action is
reachable with the keyboard alone (Tab to it, Enter or Space to use it)."""

import pytest
from playwright.sync_api import expect

from .conftest import axe_violations, sign_in
from .test_browser import seed_lease

PAGES = {
    "LessorMSP": ["/console/projects", "/console/projects/p-1", "/console/leases",
                  "/console/leases/new", "/console/leases/l-1", "/console/reports",
                  "/console/network"],
    "RegulatorMSP": ["/console/reports", "/console/leases/l-1"],
    "GridMSP": ["/console/reports"],
    "HKPartnerMSP": ["/console/projects/p-1"],
}
READY = {  # what shows that a page has loaded its data
    "/console/projects": "#projects tbody tr", "/console/projects/p-1": "#project dd",
    "/console/leases": "#leases tbody tr", "/console/leases/new": "#schedule tbody tr",
    "/console/leases/l-1": "#schedule tbody tr", "/console/reports": "#reports > *",
    "/console/network": "#read-model tbody tr",
}


def seed_report(world):
    world.factors[("GD-SZ", "2025")] = 570
    world.readings["r-1"] = {"reading_id": "r-1", "region": "GD-SZ", "kwh": 100_000,
                             "period_start": "2025-01-01"}
    report = {"report_id": "rep-1", "lessee_id": "acme", "period_start": "2025-01-01",
              "period_end": "2025-04-01", "scope1_kg": 5000, "scope2_kg": 57_000,
              "total_kg": 62_000, "meter_reading_ids": ["r-1"], "evidence_sha256": "ab" * 32,
              "scope2_lines": [{"reading_id": "r-1", "region": "GD-SZ", "year": 2025,
                                "kwh": 100_000, "factor_g_per_kwh": 570, "factor_version": 1}],
              "version": 1, "supersedes": None, "superseded_by": None, "status": "submitted",
              "submitted_by_msp": "LessorMSP", "submitted_at": "2025-04-02T00:00:00.000Z",
              "verified_by_msp": None, "verified_at": None, "rejected_by_msp": None,
              "rejected_at": None, "rejection_reason": None}
    world.reports["rep-1"] = report
    world.emit("emission", "ReportSubmitted", report)


# Every page in English; in Chinese the pages with the most text (axe takes a while per page).
@pytest.mark.parametrize("language, pages", [
    ("en", PAGES),
    ("zh-Hans", {"LessorMSP": ["/console/leases/l-1", "/console/leases/new"]}),
    ("zh-Hant", {"LessorMSP": ["/console/leases/l-1"], "RegulatorMSP": ["/console/reports"]}),
])
def test_no_serious_or_critical_axe_violations(world, new_page, language, pages):
    seed_lease(world)
    seed_report(world)
    found = {}
    page = new_page()
    page.goto(world.url("LessorMSP", f"/console/?lang={language}"))
    found[("LessorMSP", "/console/")] = axe_violations(page)
    for msp_id, paths in pages.items():
        page = new_page()
        sign_in(page, world, msp_id, language=language)
        for path in paths:
            page.goto(world.url(msp_id, path))
            page.wait_for_selector(READY[path])
            found[(msp_id, path)] = axe_violations(page)
    assert {where: v for where, v in found.items() if v} == {}


def test_axe_does_find_a_violation_when_there_is_one(world, new_page):
    page = new_page()
    page.goto(world.url("LessorMSP"))
    page.evaluate("document.querySelector('label[for=api_key]').remove()")
    assert [v[0] for v in axe_violations(page)] == ["label"]


def tab_to(page, selector, limit=80):
    """Press Tab until ``selector`` has the focus; fails if it never gets it."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with Tab")


def type_into(page, selector, text):
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_keyboard_only_from_sign_in_to_a_fixed_rate(world, new_page):
    world.projects["p-1"] = {"project_id": "p-1"}
    page = new_page()
    page.goto(world.url("LessorMSP"))
    tab_to(page, "a.skip")  # the first stop skips the header
    type_into(page, "input[name=api_key]", world.key("LessorMSP"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/projects")

    # The language switch, then the navigation, by keyboard.
    tab_to(page, "a[hreflang=zh-Hant]")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    tab_to(page, "a[hreflang=en]")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    tab_to(page, "nav.main-nav a[href='/console/leases/new']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/leases/new")
    page.wait_for_selector("#schedule tr[data-period='8']")

    type_into(page, "#n-lease", "l-kb")
    type_into(page, "#n-project", "p-1")
    type_into(page, "#n-lessee-ref", "acme")
    type_into(page, "#n-lessee", "91440300-acme")
    type_into(page, "#n-lessee-name", "Acme Solar Ltd")
    type_into(page, "#n-periods", "6")
    expect(page.locator("#schedule tbody tr")).to_have_count(6)
    tab_to(page, "#n-amortization")
    page.keyboard.press("ArrowDown")  # equal principal
    tab_to(page, "#new-lease button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/leases/l-kb")
    assert world.private["l-kb"]["terms"]["terms"]["amortization"] == "equal_principal"

    tab_to(page, "#activate")
    page.keyboard.press("Enter")
    expect(page.locator("#fix-rate")).to_be_visible()
    tab_to(page, "#fix-rate")
    page.keyboard.press("Space")
    expect(page.locator("#fixes tr[data-fixed-period='2']")).to_be_visible()
    tab_to(page, "#pay")
    page.keyboard.press("Enter")
    expect(page.locator("#notice .done")).to_be_visible()
    assert world.leases["l-kb"]["fixed_through_period"] == 2
    assert world.leases["l-kb"]["paid_through_period"] == 1
    tab_to(page, "#sign-out")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/")


def test_keyboard_only_regulator_decides_a_report(world, new_page):
    seed_report(world)
    page = new_page()
    sign_in(page, world, "RegulatorMSP", path="/console/reports")
    page.wait_for_selector("article[data-report-id=rep-1]")
    type_into(page, "article[data-report-id=rep-1] input[name=reason]", "evidence unreadable")
    page.keyboard.press("Enter")
    page.wait_for_selector("article[data-report-id=rep-1]", state="detached")
    assert world.reports["rep-1"]["status"] == "rejected"
