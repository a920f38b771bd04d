"""The console in a real browser (Debian's Chromium through Playwright), against gateway apps on
a fake Fabric: sign-in, each page's reads and writes, errors as sentences, the charts."""

import hashlib
import json
import re

import pytest
from playwright.sync_api import expect

from .conftest import chart_data, fill, sign_in

TERMS = {"principal_fen": 123_456_78, "base_rate_bps": 450, "term_periods": 4,
         "period_months": 3, "amortization": "equal_principal", "start_date": "2025-01-01",
         "baseline_kg": 100_000, "annual_reduction_bps": 1000,
         "ratchet": [{"min_performance_bps": 0, "adjustment_bps": 0},
                     {"min_performance_bps": 500, "adjustment_bps": -40}],
         "cap_bps": 100, "floor_bps": -80, "missing_report_bps": 60}


def register_project(page, project_id, name, category, location, reduction):
    fill(page, {"#p-id": project_id, "#p-name": name, "#p-location": location,
                "#p-reduction": str(reduction)})
    page.select_option("#p-category", category)
    page.click("#register-project button[type=submit]")
    page.wait_for_selector(f"#notice .done")


def seed_lease(world, lease_id="l-1", status="active"):
    """A lease of project p-1 for the lessee known in public as "acme" (reports and readings
    name it so); its id and name are private."""
    world.projects["p-1"] = {"project_id": "p-1", "name": "Rooftop PV", "category": "clean_energy",
                             "expected_annual_reduction_kg": 120_000, "location": "Zhuhai",
                             "owner_msp": "LessorMSP", "registered_at": "2025-01-02T03:04:05.000Z"}
    world.emit("lease", "ProjectRegistered", world.projects["p-1"])
    lease = world.add_lease({"lease_id": lease_id, "project_id": "p-1", "lessee_ref": "acme"},
                            "91440300-acme", "Acme Solar Ltd", TERMS)
    if status == "active":
        world.leases[lease_id].update(status="active", activated_at=lease["created_at"],
                                      fixed_through_period=1)
    return world.emit("lease", "LeaseCreated", dict(world.leases[lease_id]))


# --- signing in ---------------------------------------------------------------------------

def test_the_key_stays_in_the_tab_and_travels_only_in_the_authorization_header(world, new_page):
    page = new_page()
    requests = []
    page.on("request", lambda request: requests.append(request))
    sign_in(page, world, "LessorMSP")
    key = world.key("LessorMSP")
    assert page.evaluate("sessionStorage.getItem('carbonlease.api_key')") == key
    assert page.evaluate("document.cookie") == ""
    assert all(key not in c["value"] for c in page.context.cookies())
    api_calls = [r for r in requests if "/api/v1/" in r.url]
    assert api_calls
    assert all(key not in r.url for r in requests)
    assert all(r.headers.get("authorization") == f"Bearer {key}" for r in api_calls)
    page.click("#sign-out")
    page.wait_for_url("**/console/")
    assert page.evaluate("sessionStorage.getItem('carbonlease.api_key')") is None


def test_a_new_tab_must_sign_in_again(world, new_page):
    page = new_page()
    sign_in(page, world, "LessorMSP")
    other = page.context.new_page()
    other.goto(world.url("LessorMSP", "/console/leases"))
    other.wait_for_url("**/console/?next=%2Fconsole%2Fleases")
    other.fill("input[name=api_key]", world.key("LessorMSP"))
    other.press("input[name=api_key]", "Enter")
    other.wait_for_url("**/console/leases")


def test_an_unknown_key_is_refused_in_a_sentence(world, new_page):
    page = new_page()
    page.goto(world.url("LessorMSP"))
    page.fill("input[name=api_key]", "cl_0123456789abcdef_" + "x" * 43)
    page.press("input[name=api_key]", "Enter")
    assert page.inner_text("#notice .error") == \
        "This API key was not accepted. Sign in again with a valid key."
    assert page.url == world.url("LessorMSP")
    assert page.evaluate("sessionStorage.length") == 0


def test_sign_in_does_not_go_back_to_another_site(world, new_page):
    page = new_page()
    page.goto(world.url("LessorMSP", "/console/?next=//evil.example/console/x"))
    page.fill("input[name=api_key]", world.key("LessorMSP"))
    page.press("input[name=api_key]", "Enter")
    page.wait_for_url("**/console/projects")


# --- project library ----------------------------------------------------------------------

def test_project_library_filters_and_partners_express_interest(world, new_page):
    lessor = new_page()
    sign_in(lessor, world, "LessorMSP")
    register_project(lessor, "zh-solar-1", "Rooftop PV", "clean_energy", "Zhuhai", 120_000)
    register_project(lessor, "gz-ev-1", "Bus fleet", "ev", "Guangzhou", 2_500_000)
    partner = new_page(locale="zh-HK")
    sign_in(partner, world, "HKPartnerMSP")
    register_project(partner, "hk-store-1", "電池儲能", "energy_storage", "Hong Kong", 80_000)

    def shown():
        partner.wait_for_selector("#projects tbody tr")
        return [r.get_attribute("data-project-id")
                for r in partner.query_selector_all("#projects tbody tr")]

    assert shown() == ["gz-ev-1", "hk-store-1", "zh-solar-1"]
    assert partner.inner_text("tr[data-project-id=gz-ev-1] td.num") == "2,500,000"
    assert "新能源汽車" in partner.inner_text("tr[data-project-id=gz-ev-1]")
    partner.select_option("#f-owner", "LessorMSP")
    partner.click("#project-filters button[type=submit]")
    expect(partner.locator("#projects tbody tr")).to_have_count(2)
    partner.select_option("#f-category", "ev")
    partner.click("#project-filters button[type=submit]")
    expect(partner.locator("#projects tbody tr")).to_have_count(1)
    assert shown() == ["gz-ev-1"]
    partner.select_option("#f-category", "")
    partner.select_option("#f-owner", "")
    partner.fill("#f-location", "hong")
    partner.click("#project-filters button[type=submit]")
    partner.wait_for_selector("#projects tbody tr[data-project-id=hk-store-1]")
    assert shown() == ["hk-store-1"]

    partner.goto(world.url("HKPartnerMSP", "/console/projects/zh-solar-1"))
    partner.wait_for_selector("#project dd")
    assert "Zhuhai" in partner.inner_text("#project")
    partner.fill("#i-amount", "1,234.56")
    partner.fill("#i-note", "co-finance 10%")
    partner.click("#express-interest button[type=submit]")
    partner.wait_for_selector("#interests tr[data-partner=HKPartnerMSP]")
    assert world.interests["zh-solar-1"]["HKPartnerMSP"]["amount_fen"] == 123_456
    assert "¥1,234.56" in partner.inner_text("#interests tr[data-partner=HKPartnerMSP]")


def test_an_amount_that_is_not_yuan_and_fen_is_refused_before_the_api(world, new_page):
    world.projects["p-1"] = {"project_id": "p-1", "name": "x", "category": "ev",
                             "expected_annual_reduction_kg": 1, "location": "Macao",
                             "owner_msp": "LessorMSP", "registered_at": "2025-01-02T03:04:05Z"}
    page = new_page()
    sign_in(page, world, "HKPartnerMSP", path="/console/projects/p-1")
    page.wait_for_selector("#project dd")
    page.fill("#i-amount", "12.345")
    page.click("#express-interest button[type=submit]")
    assert page.inner_text("#notice .error") == \
        "Enter an amount in yuan with at most two decimals."
    assert "p-1" not in world.interests


# --- leases -------------------------------------------------------------------------------

def test_new_lease_previews_as_the_terms_change_then_creates(world, new_page):
    world.projects["p-1"] = {"project_id": "p-1"}
    page = new_page()
    sign_in(page, world, "LessorMSP", path="/console/leases/new")
    page.wait_for_selector("#schedule tr[data-period='8']")
    assert page.locator("#schedule tbody tr").count() == 8
    page.fill("#n-periods", "5")
    expect(page.locator("#schedule tbody tr")).to_have_count(5)
    page.fill("#n-principal", "500000")
    expect(page.locator("#schedule tr[data-period='1']")).to_contain_text("¥100,000.00")
    rate = chart_data(page, "rate")
    assert [d["data"] for d in rate] == [[4.5] * 5, [4.5] * 5, [5.5] * 5, [3.7] * 5]
    # Target path: 100,000 kg cut by 10% a year, quarterly.
    assert chart_data(page, "emissions")[1]["data"] == [100000, 97500, 95000, 92500, 90000]
    previews = [c for c in world.apps["LessorMSP"].extensions["carbonlease"].ledger
                ._get_gateway().calls if c.transaction == "PreviewSchedule"]
    assert previews and all(c.kind == "evaluate" for c in previews)
    assert json.loads(previews[-1].arguments[0])["principal_fen"] == 500_000_00
    assert world.leases == {}

    fill(page, {"#n-lease": "l-9", "#n-project": "p-1", "#n-lessee-ref": "acme",
                "#n-lessee": "91440300-acme", "#n-lessee-name": "Acme Solar Ltd"})
    page.click("#new-lease button[type=submit]")
    page.wait_for_url("**/console/leases/l-9")
    page.wait_for_selector("#schedule tr[data-period='5']")
    # The lessee and the terms travel as transient data; only the pseudonym is public.
    create = next(c for c in world.apps["LessorMSP"].extensions["carbonlease"].ledger
                  ._get_gateway().calls if c.transaction == "CreateLease")
    assert json.loads(create.arguments[0]) == {"lease_id": "l-9", "project_id": "p-1",
                                               "lessee_ref": "acme"}
    assert "Acme Solar Ltd" not in create.arguments[0]
    assert world.leases["l-9"]["lessee_ref"] == "acme"
    record = world.private["l-9"]["terms"]
    assert (record["lessee_id"], record["lessee_name"]) == ("91440300-acme", "Acme Solar Ltd")
    facts = page.inner_text("#lease")
    assert "acme" in facts and "Acme Solar Ltd (91440300-acme)" in facts
    assert world.leases["l-9"]["terms_hash"] in facts
    assert record["terms"]["term_periods"] == 5
    assert record["terms"]["ratchet"] == [
        {"min_performance_bps": -500, "adjustment_bps": 50},
        {"min_performance_bps": 0, "adjustment_bps": 0},
        {"min_performance_bps": 500, "adjustment_bps": -40}]


def test_invalid_terms_name_the_field_in_the_preview(world, new_page):
    page = new_page()
    sign_in(page, world, "LessorMSP", path="/console/leases/new")
    page.wait_for_selector("#schedule tr[data-period='8']")
    page.fill("#n-floor", "25")
    page.wait_for_selector("#notice .error")
    assert page.inner_text("#notice .error") == \
        "Some values are not valid; check the form. Check these fields: terms.floor_bps."


def test_lease_page_activates_fixes_the_rate_and_redraws(world, new_page):
    seed_lease(world, status="draft")
    page = new_page()
    sign_in(page, world, "LessorMSP", path="/console/leases/l-1")
    page.wait_for_selector("#schedule tr[data-period='4']")
    assert page.inner_text("#terms").count("¥123,456.78") == 1
    page.click("#activate")
    page.wait_for_selector("#fix-rate:not([hidden])")
    assert page.is_hidden("#activate")
    assert page.inner_text("#schedule tr[data-period='1'] td:last-child") == "yes"
    # No verified report: the next period takes the missing-report adjustment.
    page.click("#fix-rate")
    page.wait_for_selector("#fixes tr[data-fixed-period='2']")
    assert page.inner_text("#schedule tr[data-period='2'] td:nth-child(2)") == "5.10%"
    assert page.inner_text("#schedule tr[data-period='2'] td:nth-child(3)") == "+0.60%"
    assert "no verified report" in page.inner_text("#fixes tr[data-fixed-period='2']")
    assert chart_data(page, "rate")[0]["data"] == [4.5, 5.1, 4.5, 4.5]
    # The payment of period 1: its instalment, recorded with the date picked.
    assert "¥32,253.08" in page.inner_text("#pay")


def test_lease_list_filters_by_status_and_lessee(world, new_page):
    seed_lease(world, "l-1", status="active")
    seed_lease(world, "l-2", status="draft")
    page = new_page(locale="zh-CN")
    sign_in(page, world, "RegulatorMSP", path="/console/leases")
    page.wait_for_selector("#leases tr[data-lease-id=l-2]")
    row = page.inner_text("#leases tr[data-lease-id=l-1]").split("\t")
    assert row[1:3] == ["acme", "91440300-acme"]
    assert "¥123,456.78" in row and "4.50%" in row
    page.select_option("#f-status", "draft")
    page.click("#lease-filters button[type=submit]")
    expect(page.locator("#leases tbody tr")).to_have_count(1)
    assert "草稿" in page.inner_text("#leases tr[data-lease-id=l-2]")
    page.select_option("#f-status", "")
    page.fill("#f-lessee-ref", "someone-else")
    page.click("#lease-filters button[type=submit]")
    expect(page.locator("#leases tbody")).to_have_text("暂无内容。")
    page.fill("#f-lessee-ref", "")
    page.fill("#f-lessee", "91440300-acme")
    page.click("#lease-filters button[type=submit]")
    expect(page.locator("#leases tbody tr[data-lease-id]")).to_have_count(2)


def test_a_partner_lists_leases_without_their_private_columns(world, new_page):
    seed_lease(world)
    page = new_page()
    sign_in(page, world, "HKPartnerMSP", path="/console/leases")
    page.wait_for_selector("#leases tr[data-lease-id=l-1]")
    assert page.inner_text("#leases tr[data-lease-id=l-1]").split("\t") == \
        ["l-1", "acme", "—", "p-1", "active", "—", "—", "1 / —", "—"]
    assert not page.query_selector("#f-lessee")  # no lessee ids to filter by here
    page.fill("#f-lessee-ref", "acme")
    page.click("#lease-filters button[type=submit]")
    expect(page.locator("#leases tbody tr")).to_have_count(1)


# --- errors as sentences ------------------------------------------------------------------

def test_a_reader_key_is_told_which_role_a_write_needs(world, new_page):
    page = new_page()
    sign_in(page, world, "LessorMSP", role="reader")
    page.fill("#p-id", "p-2")
    page.fill("#p-name", "n")
    page.fill("#p-location", "Zhuhai")
    page.fill("#p-reduction", "1")
    page.click("#register-project button[type=submit]")
    assert page.inner_text("#notice .error") == \
        "Your key has the role “reader”; this needs a “writer” key."
    assert world.projects == {}


@pytest.mark.parametrize("language, sentence", [
    ("en", "The lessee, terms, schedule and rate fixes of this lease are private to the leasing "
           "company and the regulator; this gateway shows its public record only."),
    ("zh-Hant", "本合約的承租人、條款、還款計劃及利率調整僅對融資租賃公司及監管機構可見；"
                "本網關僅顯示其公開記錄。"),
])
def test_a_partner_sees_the_public_lease_and_that_the_terms_are_private(world, new_page,
                                                                        language, sentence):
    seed_lease(world)
    page = new_page()
    sign_in(page, world, "HKPartnerMSP", path=f"/console/leases/l-1?lang={language}")
    page.wait_for_selector("#lease dd")
    expect(page.locator("#terms-hidden")).to_be_visible()
    assert page.inner_text("#terms-hidden") == sentence
    facts = page.inner_text("#lease")
    assert facts.count("p-1") == 1 and "acme" in facts
    assert world.leases["l-1"]["terms_hash"] in facts
    assert "Acme Solar" not in page.inner_text("main")
    assert page.is_hidden("#terms") and page.is_hidden("#private-part")
    assert page.is_hidden("#terms-purged")
    assert not page.query_selector("#notice .error")  # a public view, not a refusal


def test_a_member_sees_that_purged_terms_are_gone(world, new_page):
    seed_lease(world)
    world.leases["l-1"].update(status="matured", private_data_purged_at="2031-04-02T00:00:00.000Z")
    del world.private["l-1"]
    page = new_page()
    sign_in(page, world, "RegulatorMSP", path="/console/leases/l-1")
    expect(page.locator("#terms-purged")).to_be_visible()
    assert page.inner_text("#terms-purged") == ("The private records of this lease were purged "
                                                "on 2031-04-02; its public record and their "
                                                "hashes remain.")
    assert page.is_hidden("#terms-hidden") and page.is_hidden("#private-part")


def test_a_missing_lease_is_said_plainly(world, new_page):
    page = new_page(locale="zh-CN")
    sign_in(page, world, "LessorMSP", path="/console/leases/nope")
    assert page.inner_text("#notice .error") == "没有找到该记录。"


# --- reports ------------------------------------------------------------------------------

def test_grid_lessor_and_regulator_consoles_take_a_report_from_reading_to_verdict(world,
                                                                                  new_page):
    regulator = new_page()
    sign_in(regulator, world, "RegulatorMSP", path="/console/reports")
    fill(regulator, {"#fa-region": "GD-SZ", "#fa-year": "2025", "#fa-factor": "570"})
    regulator.click("#publish-factor button[type=submit]")
    regulator.wait_for_selector("#notice .done")

    grid = new_page()
    sign_in(grid, world, "GridMSP", path="/console/reports")
    for reading_id, kwh in (("r-1", "100000"), ("r-2", "20000")):
        fill(grid, {"#r-id": reading_id, "#r-lessee": "acme", "#r-facility": "f-1",
                    "#r-region": "GD-SZ", "#r-start": "2025-01-01", "#r-end": "2025-04-01",
                    "#r-kwh": kwh})
        grid.click("#submit-reading button[type=submit]")
        grid.wait_for_selector("#notice .done")
        assert world.readings[reading_id]["kwh"] == int(kwh)

    lessor = new_page()
    sign_in(lessor, world, "LessorMSP", path="/console/reports")
    for report_id, readings in (("rep-1", "r-1"), ("rep-2", "r-2")):
        fill(lessor, {"#s-id": report_id, "#s-lessee": "acme", "#s-start": "2025-01-01",
                      "#s-end": "2025-04-01", "#s-scope1": "5000", "#s-readings": readings})
        lessor.set_input_files("#s-file", files=[{"name": "evidence.pdf", "mimeType":
                                                   "application/pdf", "buffer": b"evidence"}])
        expect(lessor.locator("#s-hash")).to_have_value(re.compile(r"^[0-9a-f]{64}$"))
        lessor.click("#submit-report button[type=submit]")
        lessor.wait_for_selector("#notice .done")
    assert world.reports["rep-1"]["evidence_sha256"] == hashlib.sha256(b"evidence").hexdigest()
    assert not lessor.query_selector("#reports button.verify")  # the regulator decides

    regulator.click("#report-filters button[type=submit]")
    card = "article[data-report-id=rep-1]"
    regulator.wait_for_selector(card)
    assert regulator.inner_text(f"{card} tr[data-reading-id=r-1]").split("\t") == \
        ["r-1", "GD-SZ", "2025", "100,000", "570", "1"]
    facts = regulator.inner_text(f"{card} dl")
    assert "57,000" in facts and "62,000" in facts  # scope 2 = kWh x factor; + scope 1
    regulator.click(f"{card} button.verify")
    regulator.wait_for_selector(card, state="detached")
    assert world.reports["rep-1"]["status"] == "verified"
    other = "article[data-report-id=rep-2]"
    regulator.fill(f"{other} input[name=reason]", "meter mismatch")
    regulator.click(f"{other} form.reject button")
    regulator.wait_for_selector(other, state="detached")
    assert world.reports["rep-2"]["rejection_reason"] == "meter mismatch"
    regulator.select_option("#f-status", "")
    regulator.click("#report-filters button[type=submit]")
    regulator.wait_for_selector(other)
    assert "rejected" in regulator.inner_text(other)


# --- network ------------------------------------------------------------------------------

def test_network_page_shows_height_and_read_model_position(world, new_page):
    seed_lease(world)
    page = new_page()
    sign_in(page, world, "GridMSP", path="/console/network")
    page.wait_for_selector("#read-model tr[data-chaincode=lease]")
    assert page.inner_text("#height").isdigit()
    assert page.inner_text("#read-model tr[data-chaincode=lease] td.num") == "6"
    assert page.inner_text("#dead-letters") == "Nothing yet."


def test_network_page_lists_the_dead_letters_a_follower_reports(world, new_page):
    """The read-model status as a gateway with a dead-letter-keeping follower answers it."""
    letter = {"chaincode": "lease", "block_number": 9, "transaction_id": "ab" * 32,
              "event_name": "LeaseCreated", "error": "terms.principal_fen: not an integer"}
    status = {"channel_height": 12, "chaincodes": [
        {"chaincode": "emission", "listening": True, "block_number": 8, "transaction_id": None,
         "dead_letter_count": 0, "latest_dead_letters": []},
        {"chaincode": "lease", "listening": False, "block_number": 9, "transaction_id": None,
         "dead_letter_count": 1, "latest_dead_letters": [letter]}]}
    page = new_page()
    page.route("**/api/v1/read/status", lambda route: route.fulfill(json=status))
    sign_in(page, world, "LessorMSP", path="/console/network")
    page.wait_for_selector("#dead-letters li")
    assert page.inner_text("#read-model tr[data-chaincode=lease]").split("\t") == \
        ["lease", "no", "9", "1"]
    assert "not an integer" in page.inner_text("#dead-letters li")
