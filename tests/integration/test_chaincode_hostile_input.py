"""Hostile input straight through Fabric (issue 12): a member that bypasses the REST gateway and
calls the chaincodes through real peers with the project's own Fabric client, sending argument
text and bytes of its choosing. Ill-formed text is refused at endorsement with INVALID_ARGUMENT
(so it is never ordered and nothing is written); a bookmark from outside a list's own key range
is refused instead of walking into other records.

The rules themselves (every field, every case) are golden/validation.json, run against both
chaincodes in their unit tests; this file shows that the deployed chaincode applies them.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.fabric_clients import Ledger, new_project, uid

EMOJI = "\U0001F600"  # one code point, two UTF-16 units


@pytest.fixture(scope="module")
def ledger(consortium):
    ledger = Ledger(consortium)
    yield ledger
    ledger.close()


def project_json(project_id: str, name_json: str) -> str:
    """A RegisterProject argument whose name is the raw JSON text ``name_json``, spelled exactly
    as given (json.dumps would never write a lone surrogate escape or a duplicate key)."""
    return ('{"project_id": "%s", "name": %s, "category": "clean_energy", '
            '"expected_annual_reduction_kg": 1200, "location": "Nansha"}' % (project_id, name_json))


HOSTILE_NAMES = [
    pytest.param(r'"\ud800"', id="lone high surrogate, as the JSON escape"),
    pytest.param(r'"Solar \udc00 farm"', id="lone low surrogate"),
    pytest.param(r'"Solar\u0000Farm"', id="NUL"),
    pytest.param(r'"\u001b[31mred"', id="terminal escape"),
    pytest.param(r'"two\nlines"', id="line feed in a single-line field"),
    pytest.param(r'"nel\u0085"', id="C1 control"),
    pytest.param(json.dumps(EMOJI * 201, ensure_ascii=False), id="201 code points"),
    pytest.param('"Rooftop PV", "name": "Coal plant"', id="duplicate key"),
]


@pytest.mark.parametrize("name_json", HOSTILE_NAMES)
def test_an_ill_formed_project_name_is_refused_and_nothing_is_written(ledger, name_json):
    project_id = uid("hostile")
    code, message = ledger.refused("HKPartnerMSP", "lease", "RegisterProject", project_json(project_id, name_json))
    assert code == "INVALID_ARGUMENT" and "name" in message, message
    assert ledger.evaluate_error("LessorMSP", "lease", "GetProject", project_id)[0] == "NOT_FOUND"


def test_a_name_of_exactly_the_limit_in_code_points_is_taken_and_read_back_unchanged(ledger):
    """200 code points is the limit; 200 emoji are 400 UTF-16 units, which the old chaincode
    counted, refusing after the gateway had accepted."""
    project_id = uid("emoji")
    name = EMOJI * 200
    registered = ledger.submit("HKPartnerMSP", "lease", "RegisterProject",
                               project_json(project_id, json.dumps(name, ensure_ascii=False)))
    assert registered["name"] == name
    assert ledger.evaluate("GridMSP", "lease", "GetProject", project_id)["name"] == name


def test_a_float_where_an_integer_belongs_is_refused(ledger):
    project_id, body = new_project("float")
    body = body.replace('"expected_annual_reduction_kg": 1200', '"expected_annual_reduction_kg": 1200.0')
    code, message = ledger.refused("LessorMSP", "lease", "RegisterProject", body)
    assert code == "INVALID_ARGUMENT" and "expected_annual_reduction_kg" in message, message
    assert ledger.evaluate_error("LessorMSP", "lease", "GetProject", project_id)[0] == "NOT_FOUND"


def test_a_positional_argument_that_is_not_utf8_is_refused(ledger):
    """The shim would read these bytes (a lone surrogate in WTF-8) as three U+FFFD and store them."""
    project_id, body = new_project("utf8")
    ledger.submit("LessorMSP", "lease", "RegisterProject", body)
    lease_id = uid("lease")
    terms = {"principal_fen": 1_000_000, "base_rate_bps": 450, "term_periods": 3, "period_months": 1,
             "amortization": "equal_principal", "start_date": "2024-01-01", "baseline_kg": 1000,
             "annual_reduction_bps": 1200, "ratchet": [], "cap_bps": 100, "floor_bps": -80,
             "missing_report_bps": 60}
    ledger.submit("LessorMSP", "lease", "CreateLease", json.dumps(
        {"lease_id": lease_id, "lessee_id": uid("lessee"), "project_id": project_id, "terms": terms}))
    code, message = ledger.refused("LessorMSP", "lease", "TerminateLease", lease_id, b"ended \xed\xa0\x80")
    assert (code, message) == ("INVALID_ARGUMENT", "argument 2: is not valid UTF-8")
    assert ledger.evaluate("LessorMSP", "lease", "GetLease", lease_id)["status"] == "draft"


def test_a_foreign_bookmark_does_not_walk_out_of_the_project_list(ledger):
    # Something of another kind sorts before the project range: an interest record.
    project_id, body = new_project("bm")
    ledger.submit("LessorMSP", "lease", "RegisterProject", body)
    ledger.submit("LessorMSP", "lease", "RegisterProject", new_project("bm")[1])  # so there is a page 2
    ledger.submit("HKPartnerMSP", "lease", "ExpressInterest", project_id, json.dumps({"amount_fen": 5, "note": ""}))
    for bookmark in ["\x00lease\x00", "\x00interest\x00", "\x00", "zzz"]:
        code, message = ledger.evaluate_error("GridMSP", "lease", "ListProjects", "100", bookmark)
        assert (code, message) == ("INVALID_ARGUMENT", "bookmark: does not belong to this list"), bookmark
    first = ledger.evaluate("GridMSP", "lease", "ListProjects", "1", "")
    assert first["bookmark"].startswith("\x00project\x00")
    assert ledger.evaluate("GridMSP", "lease", "ListProjects", "1", first["bookmark"])["fetched_count"] == 1


def test_a_bookmark_does_not_walk_into_another_lessees_reports(ledger):
    tag = uid("x")
    earlier, later = f"a-{tag}", f"b-{tag}"  # the earlier lessee's index keys sort first
    for lessee in (earlier, later):
        ledger.submit("LessorMSP", "emission", "SubmitReport", json.dumps({
            "report_id": uid("rep"), "lessee_id": lessee, "period_start": "2024-01-01",
            "period_end": "2024-02-01", "scope1_kg": 10, "meter_reading_ids": [], "evidence_sha256": "a" * 64}))
    foreign = f"\x00report_by_lessee\x00{earlier}\x00"
    code, message = ledger.evaluate_error("HKPartnerMSP", "emission", "ListReportsByLessee", later, "100", foreign)
    assert (code, message) == ("INVALID_ARGUMENT", "bookmark: does not belong to this list")
    own = ledger.evaluate("HKPartnerMSP", "emission", "ListReportsByLessee", later, "100", "")
    assert [r["lessee_id"] for r in own["records"]] == [later]
