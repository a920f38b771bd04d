"""Hostile input straight through Fabric (issue 12): a member that bypasses the REST gateway and
calls the chaincodes through real peers with the project's own Fabric client, sending argument
text and bytes of its choosing. Ill-formed text is refused at endorsement with INVALID_ARGUMENT
(so it is never ordered and nothing is written), in public arguments and in the private part of a
lease that travels as transient data alike; a bookmark from outside a list's own key range is
refused instead of walking into other records.

The rules themselves (every field, every case) are golden/validation.json, run against both
chaincodes in their unit tests; this file shows that the deployed chaincode applies them.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.fabric_clients import Ledger, new_lease, new_project, termination, uid

EMOJI = "\U0001F600"  # one code point, two UTF-16 units
TERMS = {"principal_fen": 1_000_000, "base_rate_bps": 450, "term_periods": 3, "period_months": 1,
         "amortization": "equal_principal", "start_date": "2024-01-01", "baseline_kg": 1000,
         "annual_reduction_bps": 1200, "ratchet": [], "cap_bps": 100, "floor_bps": -80,
         "missing_report_bps": 60}


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


def hostile_single_line_text(key: str) -> list:
    """Ill-formed values of the single-line text field ``key`` as raw JSON text, the last one
    followed by a second ``key``."""
    return [
        pytest.param(r'"\ud800"', id="lone high surrogate, as the JSON escape"),
        pytest.param(r'"Solar \udc00 farm"', id="lone low surrogate"),
        pytest.param(r'"Solar\u0000Farm"', id="NUL"),
        pytest.param(r'"\u001b[31mred"', id="terminal escape"),
        pytest.param(r'"two\nlines"', id="line feed in a single-line field"),
        pytest.param(r'"nel\u0085"', id="C1 control"),
        pytest.param(json.dumps(EMOJI * 201, ensure_ascii=False), id="201 code points"),
        pytest.param(f'"Rooftop PV", "{key}": "Coal plant"', id="duplicate key"),
    ]


@pytest.mark.parametrize("name_json", hostile_single_line_text("name"))
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


def submit_report(ledger, lessee: str) -> str:
    report_id = uid("rep")
    ledger.submit("LessorMSP", "emission", "SubmitReport", json.dumps({
        "report_id": report_id, "lessee_id": lessee, "period_start": "2024-01-01",
        "period_end": "2024-02-01", "scope1_kg": 10, "meter_reading_ids": [], "evidence_sha256": "a" * 64}))
    return report_id


def test_a_positional_argument_that_is_not_utf8_is_refused(ledger):
    """The shim would read these bytes (a lone surrogate in WTF-8) as three U+FFFD and store them."""
    report_id = submit_report(ledger, uid("lessee"))
    code, message = ledger.refused("RegulatorMSP", "emission", "RejectReport", report_id, b"forged \xed\xa0\x80")
    assert (code, message) == ("INVALID_ARGUMENT", "argument 2: is not valid UTF-8")
    assert ledger.evaluate("LessorMSP", "emission", "GetReport", report_id)["status"] == "submitted"


def lease_private_text(lessee_name_json: str) -> str:
    """CreateLease's transient `lease_private` with the lessee name spelled exactly as given."""
    return ('{"lessee_id": "%s", "lessee_name": %s, "terms": %s, "salt": "%s"}'
            % (uid("lessee"), lessee_name_json, json.dumps(TERMS), "5a" * 32))


@pytest.fixture(scope="module")
def project_id(ledger):
    project_id, body = new_project("private")
    ledger.submit("LessorMSP", "lease", "RegisterProject", body)
    return project_id


@pytest.mark.parametrize("lessee_name_json", hostile_single_line_text("lessee_name"))
def test_an_ill_formed_lessee_name_in_transient_data_is_refused(ledger, project_id, lessee_name_json):
    """The private part of a lease never reaches a block, but it is stored on the members' peers
    and read by their software: the same text rules hold for it."""
    lease_id = uid("lease")
    public, _ = new_lease(lease_id, uid("ref"), project_id, TERMS)
    code, message = ledger.refused("LessorMSP", "lease", "CreateLease", public,
                                   transient={"lease_private": lease_private_text(lessee_name_json)})
    assert code == "INVALID_ARGUMENT" and "lease_private" in message and "lessee_name" in message, message
    assert ledger.evaluate_error("LessorMSP", "lease", "GetLease", lease_id)[0] == "NOT_FOUND"


def test_transient_data_that_is_not_utf8_is_refused(ledger, project_id):
    lease_id = uid("lease")
    public, _ = new_lease(lease_id, uid("ref"), project_id, TERMS)
    forged = lease_private_text('"Nansha Steel"').replace("Nansha", "Nansha \udc00", 1)
    code, message = ledger.refused("LessorMSP", "lease", "CreateLease", public,
                                   transient={"lease_private": forged.encode("utf-8", "surrogatepass")})
    assert (code, message) == ("INVALID_ARGUMENT", "transient lease_private: is not valid UTF-8")
    assert ledger.evaluate_error("LessorMSP", "lease", "GetLease", lease_id)[0] == "NOT_FOUND"


def test_a_termination_reason_follows_the_multi_line_rule_in_transient_data(ledger, project_id):
    lease_id = uid("lease")
    public, private = new_lease(lease_id, uid("ref"), project_id, TERMS)
    ledger.submit("LessorMSP", "lease", "CreateLease", public, transient=private)
    for reason in ["windows\r\nline", "tab\there", "one\u2029two", "lone \ud800", " \n "]:
        code, message = ledger.refused("LessorMSP", "lease", "TerminateLease", lease_id, transient=termination(reason))
        assert code == "INVALID_ARGUMENT" and "termination" in message and "reason" in message, (reason, message)
    code, message = ledger.refused("LessorMSP", "lease", "TerminateLease", lease_id,
                                   transient={"termination": b'{"reason": "ended \xed\xa0\x80"}'})
    assert (code, message) == ("INVALID_ARGUMENT", "transient termination: is not valid UTF-8")
    assert ledger.evaluate("LessorMSP", "lease", "GetLease", lease_id)["status"] == "draft"

    reason = "equipment destroyed\n\u8bbe\u5907\u635f\u6bc1 " + EMOJI
    assert ledger.submit("LessorMSP", "lease", "TerminateLease", lease_id,
                         transient=termination(reason))["status"] == "terminated"
    assert ledger.evaluate("RegulatorMSP", "lease", "GetLease", lease_id)["private"]["termination"]["reason"] == reason


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
