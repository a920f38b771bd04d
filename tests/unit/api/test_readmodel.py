"""The read model: how each chaincode event (the golden stories the chaincode tests write)
changes the tables, exactly once and in ledger order; events that cannot be applied become
dead letters without holding back the ones after them; and the filtered, paged routes."""

import base64
import json

import pytest
import sqlalchemy as sa

from gateway.api import create_app, db, schema
from gateway.api.config import Config
from gateway.api.errors import ApiError
from gateway.api.readmodel import Checkpoint, ReadModel, projections, store
from gateway.api.readmodel.follower import APPLIED, DEAD_LETTER, REPEATED, apply, apply_block
from tests.database import upgraded

from . import golden
from .conftest import SETTINGS
from .golden import event


@pytest.fixture
def engine(tmp_path):
    return db.make_engine(upgraded(f"sqlite:///{tmp_path}/read.db"))


@pytest.fixture
def read_model(engine):
    return ReadModel(engine)


def rows(engine, table):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def row(engine, table, key):
    [found] = [r for r in rows(engine, table) if r[store.key_column(table).name] == key]
    return found


def apply_all(read_model, chaincode, events):
    return [apply(read_model, chaincode, e) for e in events]


def project(project_id, **fields):
    """A variant of the golden project (as the chaincode emits it)."""
    return {**golden.payload("lease", "lessor registers a project"), "project_id": project_id,
            **fields}


def report(report_id, **fields):
    return {**golden.payload("emission", "report submitted"), "report_id": report_id, **fields}


def lease(lease_id, **fields):
    """A variant of the golden public lease (LeaseCreated/Activated/Terminated carry it)."""
    return {**golden.payload("lease", "lease created (draft)"), "lease_id": lease_id, **fields}


# GetLease's ``private`` view of the matured lease LS1 as a member org (the Lessor) reads it.
MATURED_VIEW = golden.step("lease", "matured lease read")["answer"]["private"]


def private_view(lease_id, *, lessee_id="L1", adjustments=0):
    """The member's view of a lease with LS1's terms and its first ``adjustments`` rate fixes."""
    view = MATURED_VIEW
    return {**view, "terms": {**view["terms"], "lease_id": lease_id, "lessee_id": lessee_id},
            "adjustments": view["adjustments"][:adjustments], "payments": []}


class Ledger:
    """``private_lease`` as a member's follower has it: the view the ledger holds now."""

    def __init__(self, views):
        self.views = views
        self.asked = []

    def __call__(self, lease_id):
        self.asked.append(lease_id)
        return self.views[lease_id]


def the_partner_view(lease_id):
    """A non-member org's private view of any lease: null, as the golden partner read shows."""
    return golden.step("lease", "matured lease read by a partner")["answer"]["private"]


# --- the golden stories -----------------------------------------------------------------------

def test_projects_as_the_chaincode_emits_them(read_model, engine):
    events = golden.events("lease", until="partner registers a project")
    assert apply_all(read_model, "lease", events) == [APPLIED] * 3  # RolesSet, two projects
    registered = events[-1]
    assert row(engine, store.projects, "P2") == {
        "project_id": "P2", "name": "Macao EV fleet", "category": "ev", "location": "Macao",
        "owner_msp": "HKPartnerMSP", "expected_annual_reduction_kg": 45000,
        "registered_at": "2024-12-03T12:00:00.000Z", "block_number": registered.block_number,
        "transaction_id": registered.transaction_id}
    assert read_model.checkpoint("lease") == Checkpoint(registered.block_number,
                                                        registered.transaction_id)
    assert read_model.checkpoint("emission") is None


def test_a_draft_lease_runs_period_1_at_the_base_rate(read_model, engine):
    # The chaincode creates a lease with fixed_through_period 1 (period 1 is at the base rate
    # by definition); hand-written samples said 0 and a null rate.
    ledger = Ledger({"LS1": private_view("LS1")})
    for e in golden.events("lease", until="lease created (draft)"):
        apply(read_model, "lease", e, ledger)
    draft = row(engine, store.leases, "LS1")
    assert (draft["status"], draft["lessee_ref"], draft["lessee_id"],
            draft["fixed_through_period"], draft["rate_bps"], draft["base_rate_bps"],
            draft["principal_fen"], draft["term_periods"]) == (
        "draft", "R1", "L1", 1, 500, 500, 1_000_000, 4)
    assert ledger.asked == ["LS1"]  # once, for the lease event only


def test_the_lease_story_from_draft_to_matured_as_a_member(read_model, engine):
    # Replayed, a member reads the ledger as it is now: LS1 matured, LS2's records purged.
    ledger = Ledger({"LS1": MATURED_VIEW, "LS2": None})
    events = golden.events("lease")
    assert set(apply(read_model, "lease", e, ledger) for e in events) == {APPLIED}
    matured = row(engine, store.leases, "LS1")
    assert (matured["status"], matured["fixed_through_period"], matured["paid_through_period"],
            matured["rate_bps"], matured["matured_at"], matured["activated_at"],
            matured["lessee_id"], matured["principal_fen"]) == (
        "matured", 4, 4, 600, "2026-01-02T12:00:00.000Z", "2024-12-30T12:00:00.000Z", "L1",
        1_000_000)
    assert MATURED_VIEW["adjustments"][-1]["rate_bps"] == 600
    purged = row(engine, store.leases, "LS2")
    assert (purged["status"], purged["terminated_at"], purged["lessee_ref"]) == (
        "terminated", "2024-12-22T12:00:00.000Z", "R2")
    assert all(purged[name] is None for name in projections.LEASE_PRIVATE)
    # The purge event empties the columns without asking the ledger (nothing is left there).
    purge = golden.events("lease")[-1]
    assert purge.event_name == "LeasePrivateDataPurged"
    assert ledger.asked.count("LS2") == 2  # created, terminated
    assert read_model.checkpoint("lease").block_number == events[-1].block_number


def test_a_non_member_has_the_public_columns_only(read_model, engine):
    assert the_partner_view("LS1") is None
    assert set(apply(read_model, "lease", e, the_partner_view)
               for e in golden.events("lease")) == {APPLIED}
    matured = row(engine, store.leases, "LS1")
    assert (matured["status"], matured["lessee_ref"], matured["project_id"],
            matured["fixed_through_period"], matured["paid_through_period"]) == (
        "matured", "R1", "P1", 4, 4)
    assert all(r[name] is None for r in rows(engine, store.leases)
               for name in projections.LEASE_PRIVATE)


def test_the_rate_while_active_follows_each_fix(read_model, engine):
    ledger = Ledger({"LS1": private_view("LS1", adjustments=2), "LS2": None})
    for e in golden.events("lease", until="period 3 rate fixed without a report"):
        apply(read_model, "lease", e, ledger)
    active = row(engine, store.leases, "LS1")
    assert (active["status"], active["fixed_through_period"], active["paid_through_period"],
            active["rate_bps"]) == ("active", 3, 1, 650)


def test_a_failed_ledger_read_applies_nothing(read_model, engine):
    def unreachable(lease_id):
        raise ApiError(503, "PEER_UNAVAILABLE", "peer unavailable", retryable=True)
    created = golden.events("lease", until="lease created (draft)")[-1]
    # Not the event's fault: no dead letter, the follower retries it after reconnecting.
    with pytest.raises(ApiError):
        apply(read_model, "lease", created, unreachable)
    assert rows(engine, store.leases) == rows(engine, store.dead_letters) == []
    assert read_model.checkpoint("lease") is None
    assert apply(read_model, "lease", created, Ledger({"LS1": private_view("LS1")})) == APPLIED


ODD_VIEWS = {
    "a list": ([MATURED_VIEW], "list, not an object"),
    "terms a string": ({**MATURED_VIEW, "terms": "x"}, "wrong shape"),
    "no lessee": ({**MATURED_VIEW, "terms": {k: v for k, v in MATURED_VIEW["terms"].items()
                                             if k != "lessee_id"}}, "lessee_id"),
    "a string principal": ({**MATURED_VIEW, "terms": {**MATURED_VIEW["terms"], "terms": {
        **MATURED_VIEW["terms"]["terms"], "principal_fen": "1000000"}}},
        "read_leases.principal_fen is a str"),
    "a lone surrogate": ({**MATURED_VIEW, "terms": {**MATURED_VIEW["terms"],
                                                    "lessee_id": "\ud800"}},
                         "read_leases.lessee_id is not well-formed Unicode"),
}


def test_the_ledger_is_not_asked_about_a_lease_id_no_column_holds(read_model, engine):
    ledger = Ledger({})
    odd = event(3, "LeaseCreated", lease("l\ud800"))
    assert apply(read_model, "lease", odd, ledger) == DEAD_LETTER
    assert ledger.asked == []
    assert "read_leases.lease_id is not well-formed Unicode" in \
        rows(engine, store.dead_letters)[0]["error"]


@pytest.mark.parametrize("view,reason", ODD_VIEWS.values(), ids=ODD_VIEWS.keys())
def test_an_odd_private_view_is_a_dead_letter(read_model, engine, view, reason):
    created = golden.events("lease", until="lease created (draft)")[-1]
    assert apply(read_model, "lease", created, lambda lease_id: view) == DEAD_LETTER
    [dead] = rows(engine, store.dead_letters)
    assert reason in dead["error"]
    assert rows(engine, store.leases) == []


def test_the_emission_story(read_model, engine):
    assert set(apply_all(read_model, "emission", golden.events("emission"))) == {APPLIED}
    by_id = {r["report_id"]: r for r in rows(engine, store.emission_reports)}
    assert {k: (r["status"], r["superseded_by"], r["version"]) for k, r in by_id.items()} == {
        "rep1": ("superseded", "rep1b", 1), "rep1b": ("verified", None, 2),
        "rep2": ("submitted", None, 1)}
    verified = by_id["rep1b"]
    answer = golden.step("emission", "verified report read")["answer"]
    assert {k: verified[k] for k in ("scope1_kg", "scope2_kg", "total_kg", "verified_at",
                                     "submitted_by_msp")} == \
        {k: answer[k] for k in ("scope1_kg", "scope2_kg", "total_kg", "verified_at",
                                "submitted_by_msp")}


@pytest.mark.parametrize("chaincode,step", [
    ("lease", "roles set"), ("lease", "partner expresses interest"),
    ("emission", "factor published"), ("emission", "meter reading (January)")])
def test_events_without_a_table_still_advance_the_checkpoint(read_model, engine, chaincode,
                                                              step):
    other = golden.events(chaincode, until=step)[-1]
    assert other.event_name == golden.step(chaincode, step)["event"]["name"]
    assert apply(read_model, chaincode, other) == APPLIED
    assert read_model.checkpoint(chaincode) == Checkpoint(other.block_number,
                                                          other.transaction_id)
    assert all(rows(engine, table) == [] for table in
               (store.projects, store.emission_reports, store.leases, store.dead_letters))


# --- exactly once, in ledger order ----------------------------------------------------------

def test_the_same_event_twice_is_applied_once(read_model, engine):
    registered = event(5, "ProjectRegistered", project("p-1"))
    later = event(6, "ProjectRegistered", project("p-2"))
    assert apply_all(read_model, "lease", [registered, later, registered, later]) == [
        APPLIED, APPLIED, REPEATED, REPEATED]
    assert len(rows(engine, store.projects)) == 2
    assert read_model.checkpoint("lease") == Checkpoint(6, later.transaction_id)


def test_a_repeated_event_changes_no_row_even_past_the_checkpoint(read_model, engine):
    # The row's own position is the second net: a repeat of the transaction that wrote it
    # (same block, same id) is recognised even when the checkpoint would let it through.
    created = event(10, "LeaseCreated", lease("l-1"))
    apply(read_model, "lease", created)
    apply(read_model, "lease", event(11, "RateFixed", {"lease_id": "l-1", "period": 2}))
    with engine.begin() as conn:
        conn.execute(store.checkpoints.delete())
    apply(read_model, "lease", created)
    assert row(engine, store.leases, "l-1")["fixed_through_period"] == 2


def test_an_older_event_never_overwrites_newer_state(read_model, engine):
    newer = event(20, "ReportVerified", report("rep-1", status="verified"), chaincode="emission")
    older = event(12, "ReportSubmitted", report("rep-1"), chaincode="emission")
    apply(read_model, "emission", newer)
    with engine.begin() as conn:  # as if another writer got the checkpoint behind the row
        conn.execute(store.checkpoints.delete())
    apply(read_model, "emission", older)
    kept = row(engine, store.emission_reports, "rep-1")
    assert (kept["status"], kept["block_number"], kept["transaction_id"]) == (
        "verified", 20, newer.transaction_id)


def test_an_event_before_the_checkpoint_is_skipped(read_model, engine):
    apply(read_model, "lease", event(20, "ProjectRegistered", project("p-2")))
    assert apply(read_model, "lease", event(19, "ProjectRegistered", project("p-1"))) == REPEATED
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-2"]
    assert read_model.checkpoint("lease").block_number == 20


def test_another_transaction_of_the_same_block_is_applied(read_model, engine):
    first = event(20, "ProjectRegistered", project("p-1"))
    second = event(20, "ProjectRegistered", project("p-2"))
    assert apply_all(read_model, "lease", [first, second]) == [APPLIED, APPLIED]
    assert read_model.checkpoint("lease") == Checkpoint(20, second.transaction_id)


def test_a_database_failure_is_raised_and_leaves_neither_row_nor_checkpoint(
        read_model, engine, monkeypatch):
    apply(read_model, "lease", event(4, "ProjectRegistered", project("p-0")))
    before = read_model.checkpoint("lease")

    def crash(*args, **kwargs):
        raise sa.exc.OperationalError("UPDATE read_model_checkpoints", {},
                                      Exception("disk I/O error"))

    monkeypatch.setattr(store, "_write_checkpoint", crash)
    failing = event(5, "ProjectRegistered", project("p-1"))
    # Not the event's fault: no dead letter, the follower retries it after reconnecting.
    with pytest.raises(sa.exc.OperationalError):
        apply(read_model, "lease", failing)
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-0"]
    assert read_model.checkpoint("lease") == before
    assert rows(engine, store.dead_letters) == []
    monkeypatch.undo()
    assert apply(read_model, "lease", failing) == APPLIED  # the retry applies it, once
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-0", "p-1"]


# --- the events of one block, recorded together --------------------------------------------

def block_of_projects(block, *project_ids):
    return [event(block, "ProjectRegistered", project(p)) for p in project_ids]


def test_a_block_is_recorded_in_one_transaction_with_one_checkpoint(read_model, engine):
    block = block_of_projects(4, "p-1", "p-2", "p-3")
    commits = []
    sa.event.listen(engine, "commit", commits.append)
    assert apply_block(read_model, "lease", block) == [APPLIED] * 3
    assert len(commits) == 1
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-1", "p-2", "p-3"]
    assert [(r["block_number"], r["transaction_id"]) for r in rows(engine, store.projects)] \
        == [(4, e.transaction_id) for e in block]
    assert read_model.checkpoint("lease") == Checkpoint(4, block[-1].transaction_id)


def test_a_failure_mid_block_leaves_the_checkpoint_before_it_and_none_of_its_rows(
        read_model, engine, monkeypatch):
    apply(read_model, "lease", event(3, "ProjectRegistered", project("p-0")))
    before = read_model.checkpoint("lease")
    block = block_of_projects(4, "p-1", "p-2", "p-3")
    write = store._write
    written = []

    def crash_on_the_second(conn, change, e):
        written.append(change.key)
        if len(written) == 2:
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))
        write(conn, change, e)

    monkeypatch.setattr(store, "_write", crash_on_the_second)
    # Not the events' fault: no dead letter, the follower reopens from the checkpoint.
    with pytest.raises(sa.exc.OperationalError):
        apply_block(read_model, "lease", block)
    assert written == ["p-1", "p-2"]
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-0"]
    assert read_model.checkpoint("lease") == before
    assert rows(engine, store.dead_letters) == []
    monkeypatch.undo()
    # The replay from that checkpoint brings the whole block again: each event once.
    assert apply_block(read_model, "lease", block) == [APPLIED] * 3
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-0", "p-1", "p-2", "p-3"]
    assert apply_block(read_model, "lease", block[-1:]) == [REPEATED]
    assert read_model.checkpoint("lease") == Checkpoint(4, block[-1].transaction_id)


# --- events that cannot be applied ----------------------------------------------------------

def _raw(record: dict) -> bytes:
    return json.dumps(record).encode()


POISON = {
    # issue 12: JSON allows a lone surrogate, JSON.parse keeps it, the chaincode echoed it.
    "lone surrogate": (b'{"project_id":"p-x","name":"\\ud800","category":"ev",'
                       b'"location":"x","owner_msp":"LessorMSP",'
                       b'"expected_annual_reduction_kg":1,"registered_at":"2025-01-01"}',
                       "read_projects.name is not well-formed Unicode"),
    "missing field": (_raw({k: v for k, v in project("p-x").items() if k != "category"}),
                      "category"),
    "wrong type": (_raw(project("p-x", expected_annual_reduction_kg="12")), "not an integer"),
    "boolean for a number": (_raw(project("p-x", expected_annual_reduction_kg=True)),
                             "bool, not an integer"),
    "float for a number": (_raw(project("p-x", expected_annual_reduction_kg=1.5)),
                           "float, not an integer"),
    "too long for the column": (_raw(project("p-x", name="x" * 201)),
                                "201 characters, more than 200"),
    "key too long": (_raw(project("p" * 65)), "read_projects.project_id is 65 characters"),
    "beyond 64 bits": (_raw(project("p-x", expected_annual_reduction_kg=2 ** 63)),
                       "out of range"),
    "NUL in text": (_raw(project("p-x", location="a\x00b")), "NUL"),
    "object for a string": (_raw(project("p-x", name={"en": "x"})), "dict, not a string"),
    "null for a required column": (_raw(project("p-x", registered_at=None)), "is null"),
    "not JSON": (b"not json", "not JSON"),
    "not UTF-8": (b'{"name":"\xff"}', "not UTF-8"),
    "NaN": (b'{"project_id":"p-x","expected_annual_reduction_kg":NaN}', "NaN"),
    "a JSON array": (b"[1,2]", "JSON list, not an object"),
    "deep nesting": (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    "5,000 digits": (b'{"project_id":"p-x","expected_annual_reduction_kg":' + b"9" * 5000
                     + b"}", "not JSON"),
}


@pytest.mark.parametrize("payload,reason", POISON.values(), ids=POISON.keys())
def test_an_event_that_cannot_be_applied_becomes_a_dead_letter(read_model, engine, payload,
                                                               reason):
    poison = event(7, "ProjectRegistered", payload)
    assert apply(read_model, "lease", poison) == DEAD_LETTER
    [dead] = rows(engine, store.dead_letters)
    assert (dead["chaincode"], dead["block_number"], dead["transaction_id"],
            dead["event_name"], dead["payload"]) == (
        "lease", 7, poison.transaction_id, "ProjectRegistered", payload)
    assert reason in dead["error"]
    assert dead["error"].encode("utf-8")  # kept as well-formed text whatever the payload held
    assert rows(engine, store.projects) == []
    assert read_model.checkpoint("lease") == Checkpoint(7, poison.transaction_id)
    assert apply(read_model, "lease", poison) == REPEATED  # kept once
    assert len(rows(engine, store.dead_letters)) == 1


@pytest.mark.parametrize("name,record", [
    ("LeaseCreated", lease("l-x", lessee_ref=None)),
    ("LeaseCreated", lease("l-x", fixed_through_period="1")),
    ("LeaseActivated", {k: v for k, v in lease("l-x").items() if k != "status"}),
    ("RateFixed", {"lease_id": "l-x", "period": "2"}),
    ("LeasePrivateDataPurged", {k: v for k, v in lease("l-x").items() if k != "lease_id"}),
    ("PaymentRecorded", {"lease_id": "l-x", "period": 1}),
])
def test_lease_events_of_the_wrong_shape_become_dead_letters(read_model, engine, name, record):
    assert apply(read_model, "lease", event(3, name, record)) == DEAD_LETTER
    assert rows(engine, store.leases) == []


def test_a_poison_event_holds_back_nothing_after_it(read_model, engine):
    surrogate_name = POISON["lone surrogate"][0]
    good_before = event(5, "ProjectRegistered", project("p-1"))
    poison = event(5, "ProjectRegistered", surrogate_name)
    same_block = event(5, "ProjectRegistered", project("p-2"))
    later_block = event(6, "ProjectRegistered", project("p-3"))
    assert apply_all(read_model, "lease", [good_before, poison, same_block, later_block]) == [
        APPLIED, DEAD_LETTER, APPLIED, APPLIED]
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-1", "p-2", "p-3"]
    assert [d["transaction_id"] for d in rows(engine, store.dead_letters)] == [
        poison.transaction_id]
    assert read_model.checkpoint("lease") == Checkpoint(6, later_block.transaction_id)


def test_values_the_database_refuses_are_dead_letters_too(read_model, engine, monkeypatch):
    """Behind the checks: what the database itself refuses for one event (a constraint, a
    value its driver cannot bind) is that event's fault, not a reason to stop."""
    unchecked = {
        "null key part": [store.Change(store.projects, "p-n", {"name": None})],
        "unencodable": [store.Change(store.projects, "p-u", {
            **{k: v for k, v in project("p-u").items() if k != "project_id"},
            "name": "\ud800"})],
    }
    monkeypatch.setattr(projections, "changes_of",
                        lambda chaincode, e, private_lease: unchecked[e.event_name])
    assert apply(read_model, "lease", event(3, "null key part", b"{}")) == DEAD_LETTER
    assert apply(read_model, "lease", event(4, "unencodable", b"{}")) == DEAD_LETTER
    errors = [d["error"] for d in rows(engine, store.dead_letters)]
    assert "IntegrityError" in errors[0] and "UnicodeEncodeError" in errors[1]
    assert rows(engine, store.projects) == []


def test_a_dead_letter_inside_a_block_holds_back_nothing_after_it(read_model, engine):
    poison = event(5, "ProjectRegistered", POISON["lone surrogate"][0])
    block = [event(5, "ProjectRegistered", project("p-1")), poison,
             event(5, "ProjectRegistered", project("p-2"))]
    assert apply_block(read_model, "lease", block) == [APPLIED, DEAD_LETTER, APPLIED]
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-1", "p-2"]
    assert [d["transaction_id"] for d in rows(engine, store.dead_letters)] == [
        poison.transaction_id]
    assert read_model.checkpoint("lease") == Checkpoint(5, block[-1].transaction_id)
    assert read_model.status(None)["chaincodes"][1]["dead_letter_count"] == 1


def test_rows_the_database_refuses_inside_a_block_are_that_events_dead_letter(
        read_model, engine, monkeypatch):
    """The refusal undoes the block's transaction; the events are then recorded one per
    transaction, so only the refused one becomes a dead letter."""
    changes_of = projections.changes_of
    refused = store.Change(store.projects, "p-n", {"name": None})
    monkeypatch.setattr(projections, "changes_of", lambda chaincode, e, private_lease:
                        [refused] if e.event_name == "refused" else changes_of(chaincode, e))
    block = [event(5, "ProjectRegistered", project("p-1")), event(5, "refused", b"{}"),
             event(5, "ProjectRegistered", project("p-2"))]
    assert apply_block(read_model, "lease", block) == [APPLIED, DEAD_LETTER, APPLIED]
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-1", "p-2"]
    [dead] = rows(engine, store.dead_letters)
    assert dead["transaction_id"] == block[1].transaction_id and "IntegrityError" in dead["error"]
    assert read_model.checkpoint("lease") == Checkpoint(5, block[-1].transaction_id)


def test_a_failed_ledger_read_inside_a_block_records_nothing_of_it(read_model, engine):
    def unreachable(lease_id):
        raise ApiError(503, "PEER_UNAVAILABLE", "peer unavailable", retryable=True)

    block = [event(6, "ProjectRegistered", project("p-1")),
             event(6, "LeaseCreated", lease("l-1"))]
    with pytest.raises(ApiError):
        apply_block(read_model, "lease", block, unreachable)
    assert rows(engine, store.projects) == [] and read_model.checkpoint("lease") is None


def test_a_poison_event_name_is_kept_escaped(read_model, engine):
    odd = event(3, "ProjectRegistered\ud800", b"{}")
    # An unknown name changes no table: it is applied (checkpoint only), never a failure.
    assert apply(read_model, "lease", odd) == APPLIED
    poison = store.Outcome(event(4, "x\ud800\x00", b"\xff"), [], "\ud800")
    assert read_model.record("lease", [poison]) == [True]
    [dead] = rows(engine, store.dead_letters)
    assert (dead["event_name"], dead["error"], dead["payload"]) == (
        "x\\ud800\\x00", "\\ud800", b"\xff")


# --- routes: paging, filters, validation ----------------------------------------------------

@pytest.fixture
def services(app):
    return app.extensions["carbonlease"]


@pytest.fixture
def filled(services):
    """45 projects (categories and owners rotating), 30 reports, 12 leases (the app's org reads
    their terms: lessee-0/1 alternating)."""
    def member_view(lease_id):
        return private_view(lease_id, lessee_id=f"lessee-{int(lease_id[2:]) % 2}")
    model = services.read_model
    categories = ["clean_energy", "energy_storage", "ev"]
    owners = ["LessorMSP", "HKPartnerMSP"]
    block = 0
    for n in range(45):
        block += 1
        apply(model, "lease", event(block, "ProjectRegistered", project(
            f"p-{n:03d}", category=categories[n % 3], owner_msp=owners[n % 2])))
    for n in range(30):
        block += 1
        month = 1 + n % 12
        apply(model, "emission", event(block, "ReportSubmitted", report(
            f"rep-{n:03d}", lessee_id=f"lessee-{n % 3}",
            status="verified" if n % 2 else "submitted",
            period_start=f"2024-{month:02d}-01",
            period_end=f"{2024 + month // 12}-{month % 12 + 1:02d}-01"), chaincode="emission"))
    for n in range(12):
        block += 1
        apply(model, "lease", event(block, "LeaseCreated", lease(
            f"l-{n:03d}", lessee_ref=f"ref-{n % 2}", project_id=f"p-{n % 4:03d}",
            status=["draft", "active", "terminated"][n % 3])), member_view)
    return block


def all_pages(client, headers, path, **query):
    records, bookmarks, bookmark = [], [], ""
    while True:
        response = client.get(path, query_string={**query, "bookmark": bookmark},
                              headers=headers)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert page["fetched_count"] == len(page["records"])
        records += page["records"]
        bookmark = page["bookmark"]
        if not bookmark:
            return records, bookmarks
        bookmarks.append(bookmark)


def test_projects_page_through_every_row_once(client, as_role, filled):
    records, bookmarks = all_pages(client, as_role("reader"), "/api/v1/read/projects",
                                   page_size=10)
    ids = [r["project_id"] for r in records]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 45
    assert len(bookmarks) == 4
    # Bookmarks are opaque, not the id itself.
    assert not any(b.startswith("p-") for b in bookmarks)


def test_projects_filter_by_category_and_owner(client, as_role, filled):
    records, _ = all_pages(client, as_role("reader"), "/api/v1/read/projects", page_size=4,
                           category="ev", owner_msp="HKPartnerMSP")
    expected = [f"p-{n:03d}" for n in range(45) if n % 3 == 2 and n % 2 == 1]
    assert [r["project_id"] for r in records] == expected
    assert all(set(r) >= {"name", "location", "registered_at", "block_number",
                          "transaction_id"} for r in records)


def test_page_answer_shape_and_as_of_block(client, as_role, services, filled):
    response = client.get("/api/v1/read/projects?page_size=2", headers=as_role("reader"))
    page = response.get_json()
    assert set(page) == {"records", "fetched_count", "bookmark", "as_of_block"}
    assert page["fetched_count"] == 2
    assert page["as_of_block"] == services.read_model.checkpoint("lease").block_number == filled
    reports = client.get("/api/v1/read/emission-reports", headers=as_role("reader")).get_json()
    assert reports["as_of_block"] == 75  # the emission chaincode's own checkpoint


def test_reports_filter_by_lessee_status_and_period(client, as_role, filled):
    records, _ = all_pages(client, as_role("reader"), "/api/v1/read/emission-reports",
                           page_size=3, lessee_id="lessee-1", status="verified",
                           period_from="2024-03-01", period_to="2024-10-01")
    assert records and all(
        r["lessee_id"] == "lessee-1" and r["status"] == "verified"
        and r["period_start"] >= "2024-03-01" and r["period_end"] <= "2024-10-01"
        for r in records)
    expected = [f"rep-{n:03d}" for n in range(30)
                if n % 3 == 1 and n % 2 == 1 and 3 <= 1 + n % 12 <= 9]
    assert [r["report_id"] for r in records] == expected


def test_leases_filter_by_status_lessee_and_project(client, as_role, filled):
    records, _ = all_pages(client, as_role("reader"), "/api/v1/read/leases",
                           status="active", lessee_id="lessee-1")
    assert [r["lease_id"] for r in records] == [
        f"l-{n:03d}" for n in range(12) if n % 3 == 1 and n % 2 == 1]
    by_ref, _ = all_pages(client, as_role("reader"), "/api/v1/read/leases", lessee_ref="ref-0")
    assert [r["lease_id"] for r in by_ref] == [f"l-{n:03d}" for n in range(0, 12, 2)]
    by_project, _ = all_pages(client, as_role("reader"), "/api/v1/read/leases",
                              project_id="p-002")
    assert [r["lease_id"] for r in by_project] == ["l-002", "l-006", "l-010"]
    assert by_project[0]["principal_fen"] == 1_000_000


def test_empty_read_model_answers_an_empty_page(client, as_role):
    page = client.get("/api/v1/read/leases", headers=as_role("reader")).get_json()
    assert page == {"records": [], "fetched_count": 0, "bookmark": "", "as_of_block": None}


def test_dead_letters_page_with_their_raw_payload(client, as_role, services):
    model = services.read_model
    poisons = [event(10 + n, "ProjectRegistered", payload) for n, (payload, _) in
               enumerate(POISON.values())]
    apply_all(model, "lease", poisons)
    apply(model, "emission", event(3, "ReportSubmitted", b"[]", chaincode="emission"))
    records, bookmarks = all_pages(client, as_role("reader"), "/api/v1/read/dead-letters",
                                   page_size=4, chaincode="lease")
    assert len(bookmarks) == (len(POISON) - 1) // 4
    assert [base64.b64decode(r["payload_base64"]) for r in records] == [
        p.payload for p in poisons]
    assert [r["transaction_id"] for r in records] == [p.transaction_id for p in poisons]
    assert {r["chaincode"] for r in records} == {"lease"}
    both, _ = all_pages(client, as_role("reader"), "/api/v1/read/dead-letters")
    assert len(both) == len(POISON) + 1
    page = client.get("/api/v1/read/dead-letters?page_size=1",
                      headers=as_role("reader")).get_json()
    # The lower checkpoint: every dead letter up to it is in the list.
    assert page["as_of_block"] == 3


def test_status_shows_dead_letters_per_chaincode(client, as_role, services, network):
    network.on("qscc", "GetChainInfo", lambda args: _height(40))
    model = services.read_model
    poisons = [event(10 + n, "ProjectRegistered", POISON["lone surrogate"][0])
               for n in range(4)]
    apply_all(model, "lease", poisons)
    status = client.get("/api/v1/read/status", headers=as_role("reader")).get_json()
    assert status["channel_height"] == 40
    lease_status = {c["chaincode"]: c for c in status["chaincodes"]}["lease"]
    assert (lease_status["dead_letter_count"], lease_status["block_number"],
            lease_status["listening"]) == (4, 13, False)
    assert [d["transaction_id"] for d in lease_status["latest_dead_letters"]] == [
        p.transaction_id for p in reversed(poisons[1:])]
    assert "not well-formed Unicode" in lease_status["latest_dead_letters"][0]["error"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'carbonlease_read_model_dead_letters{chaincode="lease"} 4.0' in metrics
    assert 'carbonlease_read_model_dead_letters{chaincode="emission"} 0.0' in metrics
    assert 'carbonlease_read_model_block{chaincode="lease"} 13.0' in metrics


def test_only_the_newest_dead_letters_are_kept_and_every_one_is_counted(engine):
    model = ReadModel(engine, dead_letters_kept=3)
    lease_poisons = [event(10 + n, "ProjectRegistered", b"not json") for n in range(4)]
    emission_poisons = [event(12 + n, "ReportSubmitted", b"[]", chaincode="emission")
                        for n in range(2)]
    apply_all(model, "lease", lease_poisons[:2])
    apply_all(model, "emission", emission_poisons)
    apply_all(model, "lease", lease_poisons[2:])
    # The newest three of the gateway, whatever their chaincode; older ones deleted.
    assert [d["transaction_id"] for d in rows(engine, store.dead_letters)] == [
        emission_poisons[1].transaction_id, lease_poisons[2].transaction_id,
        lease_poisons[3].transaction_id]
    # An event recorded before is neither kept again nor counted twice.
    assert apply(model, "lease", lease_poisons[3]) == REPEATED
    counts = {c["chaincode"]: c["dead_letter_count"] for c in model.status(None)["chaincodes"]}
    assert counts == {"lease": 4, "emission": 2}
    # The counts and the positions go with a reset, which rebuilds from block 0.
    model.reset()
    assert [c["dead_letter_count"] for c in model.status(None)["chaincodes"]] == [0, 0]


def test_dead_letters_kept_comes_from_the_environment_and_is_at_least_one(engine):
    assert Config.from_env({}).dead_letters_kept == 1000
    assert Config.from_env({"CARBONLEASE_DEAD_LETTERS_KEPT": "25"}).dead_letters_kept == 25
    with pytest.raises(ValueError, match="at least 1"):
        ReadModel(engine, dead_letters_kept=0)


def _height(height):
    from fabric_protos.common import ledger_pb2
    return ledger_pb2.BlockchainInfo(height=height).SerializeToString()


@pytest.mark.parametrize("path,query,field", [
    ("/api/v1/read/projects", {"page_size": 0}, "page_size"),
    ("/api/v1/read/projects", {"page_size": 101}, "page_size"),
    ("/api/v1/read/projects", {"category": "coal"}, "category"),
    ("/api/v1/read/projects", {"owner_msp": "bad msp"}, "owner_msp"),
    ("/api/v1/read/projects", {"bookmark": "%%%"}, "bookmark"),
    ("/api/v1/read/projects", {"bookmark": "Ym9n dXM"}, "bookmark"),
    ("/api/v1/read/emission-reports", {"status": "lost"}, "status"),
    ("/api/v1/read/emission-reports", {"period_from": "2024-02-30"}, "period_from"),
    ("/api/v1/read/emission-reports", {"period_from": "2024-05-01",
                                       "period_to": "2024-01-01"}, "period_from"),
    ("/api/v1/read/leases", {"status": "paid"}, "status"),
    ("/api/v1/read/leases", {"lessee_id": "-x"}, "lessee_id"),
    ("/api/v1/read/dead-letters", {"chaincode": "qscc"}, "chaincode"),
    ("/api/v1/read/dead-letters", {"page_size": 101}, "page_size"),
])
def test_invalid_queries_are_422_in_the_error_shape(client, as_role, path, query, field):
    response = client.get(path, query_string=query, headers=as_role("reader"))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert field in error["details"]["query"]


def test_a_foreign_bookmark_starts_no_dead_letter_page(client, as_role, services):
    apply(services.read_model, "lease", event(3, "ProjectRegistered", b"[]"))
    foreign = base64.urlsafe_b64encode(b"p-001").decode().rstrip("=")
    page = client.get(f"/api/v1/read/dead-letters?bookmark={foreign}",
                      headers=as_role("reader")).get_json()
    assert (page["records"], page["bookmark"]) == ([], "")


def test_read_routes_need_a_key(client):
    for path in ("/api/v1/read/projects", "/api/v1/read/dead-letters"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "UNAUTHENTICATED"


def test_read_routes_never_reach_fabric(client, network, as_role, filled):
    client.get("/api/v1/read/leases", headers=as_role("reader"))
    client.get("/api/v1/read/dead-letters", headers=as_role("reader"))
    assert network.calls == []


def test_schemas_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for record in ("ReadProject", "ReadReport", "ReadLease", "DeadLetter"):
        page = schemas[f"{record}Page"]
        assert set(page["required"]) == {"records", "fetched_count", "bookmark", "as_of_block"}
        assert page["properties"]["records"]["items"]["$ref"].endswith(f"/{record}")
    assert {"block_number", "transaction_id", "status"} <= set(schemas["ReadLease"]["required"])
    parameters = {p["name"]: p for p in
                  document["paths"]["/api/v1/read/emission-reports"]["get"]["parameters"]}
    assert {"page_size", "bookmark", "lessee_id", "status", "period_from", "period_to"} <= set(
        parameters)
    assert parameters["page_size"]["schema"]["maximum"] == 100
    assert "422" in document["paths"]["/api/v1/read/leases"]["get"]["responses"]
    assert {"dead_letter_count", "latest_dead_letters", "heartbeat_at", "listening"} <= set(
        schemas["ReadModelChaincode"]["required"])
    assert "payload_base64" in schemas["DeadLetter"]["required"]


def test_tables_of_an_older_read_model_are_rebuilt_by_the_upgrade_from_block_0(tmp_path):
    # A gateway database made before the lease terms went private: read_leases without
    # lessee_ref and with NOT NULL terms.
    url = f"sqlite:///{tmp_path}/old.db"
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text("CREATE TABLE read_leases (lease_id VARCHAR(64) PRIMARY KEY, "
                             "lessee_id VARCHAR(64) NOT NULL, principal_fen BIGINT NOT NULL)"))
        conn.execute(sa.text("INSERT INTO read_leases VALUES ('old-lease', 'L1', 100)"))
    engine = db.make_engine(url)
    assert "read-model table read_leases was made by another version" in schema.problems(engine)

    assert schema.upgrade(engine)[0].startswith("rebuilt the read model (read_leases were")
    assert rows(engine, store.leases) == [] and schema.problems(engine) == []
    read_model = ReadModel(engine)
    apply_all(read_model, "lease", golden.events("lease", until="partner registers a project"))
    assert schema.upgrade(engine) == []
    assert len(rows(engine, store.projects)) == 2


def test_reads_of_tables_being_rebuilt_under_the_web_app_answer_upgrading(read_model, engine):
    apply_all(read_model, "lease", golden.events("lease", until="partner registers a project"))
    assert len(read_model.projects(page_size=10, bookmark=None).records) == 2
    # Another version's upgrade step drops the tables under a worker that found them current.
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE read_projects"))
    with pytest.raises(db.SchemaOutdated) as upgrading:
        read_model.projects(page_size=10, bookmark=None)
    assert upgrading.value.reasons == ["read-model table read_projects is missing"]
    schema.upgrade(engine)
    assert read_model.projects(page_size=10, bookmark=None).records == []


def test_the_read_routes_answer_upgrading_while_the_tables_are_of_another_version(
        client, as_role, network, tmp_path):
    network.on("qscc", "GetChainInfo", lambda args: _height(40))
    assert client.get("/api/v1/read/status", headers=as_role("reader")).status_code == 200
    engine = db.make_engine(f"sqlite:///{tmp_path}/gateway.db")  # the app fixture's
    with engine.begin() as conn:  # as another version's upgrade step leaves it
        conn.execute(sa.text("ALTER TABLE read_leases DROP COLUMN matured_at"))
    # The read that fails makes the worker look again; until the upgrade every read answers so.
    for path in ("/api/v1/read/leases", "/api/v1/read/status"):
        answer = client.get(path, headers=as_role("reader"))
        assert answer.status_code == 503, path
        error = answer.get_json()["error"]
        assert error["code"] == "READ_MODEL_UPGRADING"
        assert error["details"]["reasons"] == [
            "read-model table read_leases was made by another version"]
    assert answer.headers["Retry-After"] == "1"
    assert client.get("/api/v1/read/projects", headers=as_role("reader")).status_code == 503
    schema.upgrade(engine)
    assert client.get("/api/v1/read/leases", headers=as_role("reader")).status_code == 200


def test_requests_answer_schema_outdated_before_the_upgrade_step_ran(tmp_path, network):
    app = create_app(Config(fabric=SETTINGS, database_url=f"sqlite:///{tmp_path}/new.db"),
                     connect=lambda settings: network)
    answer = app.test_client().get("/api/v1/projects")
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "SCHEMA_OUTDATED"
    assert "table api_credentials is missing" in answer.get_json()["error"]["details"]["reasons"]
