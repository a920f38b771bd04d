"""The lease page in each language, photographed: the words, numbers and dates of that language,
both charts drawn, the glyphs there. CARBONLEASE_UPDATE_SCREENSHOTS=1 also writes the pictures the
README shows (docs/screenshots/; the preview and the story's lease page come from
tests/integration/test_console_story.py, on real peers)."""

import pytest

from .conftest import chart_data, photograph, sign_in
from .test_accessibility import seed_report
from .test_browser import seed_lease
from .world import record_hash

HEADINGS = {"en": ("Payment schedule", "Verified emissions against the target path"),
            "zh-Hans": ("还款计划", "核验排放与目标路径对比"),
            "zh-Hant": ("還款計劃", "核驗排放與目標路徑對比")}


def lease_with_history(world):
    lease = seed_lease(world)
    private = world.private[lease["lease_id"]]
    terms = private["terms"]["terms"]
    for period, verified, target, performance, tier, adjustment in (
            (2, 92_000, 100_000, 800, 500, -40), (3, 101_000, 97_500, -359, -500, 50)):
        fix = {"lease_id": lease["lease_id"], "period": period, "based_on_period": period - 1,
               "period_start": "2025-01-01", "period_end": "2025-04-01",
               "report_id": f"rep-{period - 1}", "verified_kg": verified, "target_kg": target,
               "performance_bps": performance, "tier_min_performance_bps": tier,
               "basis": "tier", "adjustment_bps": adjustment,
               "rate_bps": terms["base_rate_bps"] + adjustment,
               "fixed_at": "2025-04-02T00:00:00.000Z", "salt": private["terms"]["salt"]}
        private["adjustments"].append(fix)
        world.leases["l-1"]["adjustments"].append(
            {"period": period, "fixed_at": fix["fixed_at"], "record_hash": record_hash(fix)})
    world.leases["l-1"]["fixed_through_period"] = 3
    return lease


@pytest.mark.parametrize("language", ["en", "zh-Hans", "zh-Hant"])
def test_lease_page_in_each_language(world, new_page, tmp_path, language):
    lease_with_history(world)
    page = new_page()
    sign_in(page, world, "LessorMSP", path=f"/console/leases/l-1?lang={language}")
    page.wait_for_selector("#fixes tr[data-fixed-period='3']")
    assert page.get_attribute("html", "lang") == language
    text = page.inner_text("main")
    for heading in HEADINGS[language]:
        assert heading in text
    assert "¥123,456.78" in text  # principal: yuan, fen, grouped
    assert "2025-01-01" in text  # ISO dates
    assert "100,000" in text  # grouped kg
    assert chart_data(page, "rate")[0]["data"] == [4.5, 4.1, 5.0, 4.5]
    assert chart_data(page, "emissions")[0]["data"] == [92_000, 101_000, None, None]
    # The header is drawn in that language's script: a CJK text is as wide as it should be
    # only when a CJK font has its glyphs (otherwise every glyph is the same empty box).
    widths = page.evaluate("""() => {
        const c = document.createElement('canvas').getContext('2d');
        c.font = '16px sans-serif';
        return ['碳', '租', '賃', '控'].map(ch => c.measureText(ch).width);
    }""")
    assert all(w > 10 for w in widths), widths
    _, width, height = photograph(page, tmp_path, f"lease-{language}")
    assert width == 1200 and height > 900


def test_pictures_of_the_other_pages(world, new_page, tmp_path):
    lease_with_history(world)
    seed_report(world)
    page = new_page()
    sign_in(page, world, "LessorMSP", path="/console/projects")
    page.wait_for_selector("#projects tbody tr[data-project-id=p-1]")
    photograph(page, tmp_path, "project-library", full_page=False)
    regulator = new_page(locale="zh-HK")
    sign_in(regulator, world, "RegulatorMSP", path="/console/reports")
    regulator.wait_for_selector("article[data-report-id=rep-1]")
    photograph(regulator, tmp_path, "regulator-queue-zh-Hant")
