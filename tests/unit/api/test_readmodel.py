"""The read model's store: how each event changes the tables, exactly once and in ledger order,
and the filtered, paged routes over it."""

import pytest
import sqlalchemy as sa

from gateway.api import db
from gateway.api.readmodel import Checkpoint, ReadModel, store
from gateway.fabricgw.events import ChaincodeEvent

from .readmodel_samples import event, lease, private_view, project, report, tx_id


@pytest.fixture
def engine(tmp_path):
    return db.make_engine(f"sqlite:///{tmp_path}/read.db")


@pytest.fixture
def read_model(engine):
    return ReadModel(engine)


def rows(engine, table):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def row(engine, table, key):
    [found] = [r for r in rows(engine, table) if r[store._key_column(table).name] == key]
    return found


# --- applying events ----------------------------------------------------------------------

def test_project_registered(read_model, engine):
    registered = event(5, "ProjectRegistered", project("p-1", owner_msp="HKPartnerMSP"))
    assert read_model.apply("lease", registered)
    assert rows(engine, store.projects) == [{
        "project_id": "p-1", "name": "Rooftop solar", "category": "clean_energy",
        "location": "Shenzhen", "owner_msp": "HKPartnerMSP",
        "expected_annual_reduction_kg": 400_000, "registered_at": "2025-01-02T03:04:05.000Z",
        "block_number": 5, "transaction_id": registered.transaction_id}]
    assert read_model.checkpoint("lease") == Checkpoint(5, registered.transaction_id)
    assert read_model.checkpoint("emission") is None


def test_report_submitted_verified_rejected(read_model, engine):
    read_model.apply("emission", event(3, "ReportSubmitted", report("rep-1"),
                                       chaincode="emission"))
    assert row(engine, store.emission_reports, "rep-1")["status"] == "submitted"
    read_model.apply("emission", event(4, "ReportVerified", report("rep-1", status="verified"),
                                       chaincode="emission"))
    verified = row(engine, store.emission_reports, "rep-1")
    assert (verified["status"], verified["verified_at"], verified["total_kg"]) == (
        "verified", "2025-01-03T00:00:00.000Z", 62_000)
    read_model.apply("emission", event(5, "ReportSubmitted", report("rep-2", lessee_id="x"),
                                       chaincode="emission"))
    read_model.apply("emission", event(
        6, "ReportRejected", report("rep-2", lessee_id="x", status="rejected",
                                    rejected_at="2025-02-01T00:00:00.000Z"),
        chaincode="emission"))
    rejected = row(engine, store.emission_reports, "rep-2")
    assert (rejected["status"], rejected["rejected_at"], rejected["block_number"]) == (
        "rejected", "2025-02-01T00:00:00.000Z", 6)


def test_a_correction_supersedes_the_earlier_version(read_model, engine):
    read_model.apply("emission", event(3, "ReportSubmitted", report("rep-1"),
                                       chaincode="emission"))
    correction = event(7, "ReportSubmitted", report("rep-1b", version=2, supersedes="rep-1"),
                       chaincode="emission")
    read_model.apply("emission", correction)
    earlier = row(engine, store.emission_reports, "rep-1")
    assert (earlier["status"], earlier["superseded_by"], earlier["block_number"]) == (
        "superseded", "rep-1b", 7)
    later = row(engine, store.emission_reports, "rep-1b")
    assert (later["status"], later["version"], later["supersedes"]) == ("submitted", 2, "rep-1")


def test_lease_lifecycle_public_columns(read_model, engine):
    """A non-member org's read model: public columns only, from the events."""
    read_model.apply("lease", event(10, "LeaseCreated", lease()))
    created = row(engine, store.leases, "l-1")
    assert (created["status"], created["lessee_ref"], created["fixed_through_period"]) == (
        "draft", "ref-1", 1)
    assert all(created[name] is None for name in store.LEASE_PRIVATE)
    read_model.apply("lease", event(11, "LeaseActivated", lease(status="active")))
    read_model.apply("lease", event(12, "RateFixed", {
        "lease_id": "l-1", "period": 2, "fixed_at": "2025-04-01T00:00:00.000Z",
        "record_hash": "cd" * 32}))
    read_model.apply("lease", event(13, "PaymentRecorded", {
        "lease_id": "l-1", "period": 1, "recorded_at": "2025-01-15T00:00:00.000Z",
        "record_hash": "ef" * 32, "lease_status": "active"}))
    paid = row(engine, store.leases, "l-1")
    assert (paid["status"], paid["fixed_through_period"], paid["rate_bps"],
            paid["paid_through_period"], paid["matured_at"], paid["block_number"]) == (
        "active", 2, None, 1, None, 13)
    read_model.apply("lease", event(20, "PaymentRecorded", {
        "lease_id": "l-1", "period": 4, "recorded_at": "2025-10-15T00:00:00.000Z",
        "record_hash": "12" * 32, "lease_status": "matured"}))
    matured = row(engine, store.leases, "l-1")
    assert (matured["status"], matured["paid_through_period"], matured["matured_at"]) == (
        "matured", 4, "2025-10-15T00:00:00.000Z")


def test_a_member_fills_private_columns_from_the_ledger_after_each_event(engine):
    views = {"l-1": private_view()}
    asked = []

    def private_lease(lease_id):
        asked.append(lease_id)
        return views[lease_id]
    model = ReadModel(engine, private_lease=private_lease)
    model.apply("lease", event(10, "LeaseCreated", lease()))
    created = row(engine, store.leases, "l-1")
    assert (created["lessee_id"], created["principal_fen"], created["term_periods"],
            created["rate_bps"]) == ("lessee-1", 1_000_000_00, 4, 450)
    views["l-1"] = private_view(rates=[425])
    model.apply("lease", event(12, "RateFixed", {
        "lease_id": "l-1", "period": 2, "fixed_at": "2025-04-01T00:00:00.000Z",
        "record_hash": "cd" * 32}))
    assert row(engine, store.leases, "l-1")["rate_bps"] == 425
    assert asked == ["l-1", "l-1"]
    # A purge empties the private columns; the ledger is not asked (there is nothing left).
    model.apply("lease", event(30, "LeasePrivateDataPurged", lease(
        status="terminated", private_data_purged_at="2031-01-01T00:00:00.000Z")))
    purged = row(engine, store.leases, "l-1")
    assert purged["status"] == "terminated" and purged["lessee_ref"] == "ref-1"
    assert all(purged[name] is None for name in store.LEASE_PRIVATE)
    assert asked == ["l-1", "l-1"]


def test_a_failed_ledger_read_applies_nothing(engine):
    def unreachable(lease_id):
        raise RuntimeError("peer unavailable")
    model = ReadModel(engine, private_lease=unreachable)
    with pytest.raises(RuntimeError):
        model.apply("lease", event(10, "LeaseCreated", lease()))
    assert rows(engine, store.leases) == [] and model.checkpoint("lease") is None


def test_terminated_lease(read_model, engine):
    read_model.apply("lease", event(10, "LeaseCreated", lease()))
    read_model.apply("lease", event(11, "LeaseTerminated", lease(
        status="terminated", terminated_at="2025-02-01T00:00:00.000Z")))
    terminated = row(engine, store.leases, "l-1")
    assert (terminated["status"], terminated["terminated_at"]) == (
        "terminated", "2025-02-01T00:00:00.000Z")


@pytest.mark.parametrize("chaincode,name", [
    ("lease", "InterestExpressed"), ("lease", "RolesSet"), ("emission", "FactorPublished"),
    ("emission", "MeterReadingSubmitted")])
def test_events_without_a_table_still_advance_the_checkpoint(read_model, engine, chaincode,
                                                              name):
    other = event(9, name, {"anything": 1}, chaincode=chaincode)
    assert read_model.apply(chaincode, other)
    assert read_model.checkpoint(chaincode) == Checkpoint(9, other.transaction_id)
    assert all(rows(engine, table) == [] for table in
               (store.projects, store.emission_reports, store.leases))


# --- exactly once, in ledger order ----------------------------------------------------------

def test_the_same_event_twice_is_applied_once(read_model, engine):
    registered = event(5, "ProjectRegistered", project("p-1"))
    later = event(6, "ProjectRegistered", project("p-2"))
    assert read_model.apply("lease", registered)
    assert read_model.apply("lease", later)
    assert not read_model.apply("lease", registered)
    assert not read_model.apply("lease", later)
    assert len(rows(engine, store.projects)) == 2
    assert read_model.checkpoint("lease") == Checkpoint(6, later.transaction_id)


def test_a_repeated_event_changes_no_row_even_past_the_checkpoint(read_model, engine):
    # The row's own position is the second net: a repeat of the transaction that wrote it
    # (same block, same id) is recognised even when the checkpoint would let it through.
    created = event(10, "LeaseCreated", lease())
    read_model.apply("lease", created)
    read_model.apply("lease", event(11, "RateFixed", {"lease_id": "l-1", "period": 2}))
    with engine.begin() as conn:
        conn.execute(store.checkpoints.delete())
    read_model.apply("lease", created)
    assert row(engine, store.leases, "l-1")["fixed_through_period"] == 2


def test_an_older_event_never_overwrites_newer_state(read_model, engine):
    newer = event(20, "ReportVerified", report("rep-1", status="verified"), chaincode="emission")
    older = event(12, "ReportSubmitted", report("rep-1"), chaincode="emission")
    read_model.apply("emission", newer)
    with engine.begin() as conn:  # as if another writer got the checkpoint behind the row
        conn.execute(store.checkpoints.delete())
    read_model.apply("emission", older)
    kept = row(engine, store.emission_reports, "rep-1")
    assert (kept["status"], kept["block_number"], kept["transaction_id"]) == (
        "verified", 20, newer.transaction_id)


def test_an_event_before_the_checkpoint_is_skipped(read_model, engine):
    read_model.apply("lease", event(20, "ProjectRegistered", project("p-2")))
    assert not read_model.apply("lease", event(19, "ProjectRegistered", project("p-1")))
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-2"]
    assert read_model.checkpoint("lease").block_number == 20


def test_another_transaction_of_the_same_block_is_applied(read_model, engine):
    first = event(20, "ProjectRegistered", project("p-1"))
    second = event(20, "ProjectRegistered", project("p-2"))
    assert read_model.apply("lease", first) and read_model.apply("lease", second)
    assert read_model.checkpoint("lease") == Checkpoint(20, second.transaction_id)


def test_a_failure_while_applying_leaves_neither_row_nor_checkpoint(read_model, engine,
                                                                    monkeypatch):
    read_model.apply("lease", event(4, "ProjectRegistered", project("p-0")))
    before = read_model.checkpoint("lease")

    def crash(*args, **kwargs):
        raise OSError("disk gone between the row and the checkpoint")

    monkeypatch.setattr(store, "_write_checkpoint", crash)
    failing = event(5, "ProjectRegistered", project("p-1"))
    with pytest.raises(OSError):
        read_model.apply("lease", failing)
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-0"]
    assert read_model.checkpoint("lease") == before
    monkeypatch.undo()
    assert read_model.apply("lease", failing)  # the retry applies it, once
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-0", "p-1"]


def test_a_malformed_payload_changes_nothing(read_model, engine):
    broken = ChaincodeEvent(5, tx_id(), "lease", "ProjectRegistered", b"not json")
    with pytest.raises(ValueError):
        read_model.apply("lease", broken)
    assert rows(engine, store.projects) == [] and read_model.checkpoint("lease") is None


# --- routes: paging, filters, validation ----------------------------------------------------

@pytest.fixture
def services(app):
    return app.extensions["carbonlease"]


@pytest.fixture
def filled(services, network):
    """45 projects (categories and owners rotating), 30 reports, 12 leases (the app's org reads
    their terms: lessee-0/1 alternating)."""
    network.on("lease", "GetLease", lambda args: {"private": private_view(
        args[0], lessee_id=f"lessee-{int(args[0][2:]) % 2}")})
    model = services.read_model
    categories = ["clean_energy", "energy_storage", "ev"]
    owners = ["LessorMSP", "HKPartnerMSP"]
    block = 0
    for n in range(45):
        block += 1
        model.apply("lease", event(block, "ProjectRegistered", project(
            f"p-{n:03d}", category=categories[n % 3], owner_msp=owners[n % 2])))
    for n in range(30):
        block += 1
        month = 1 + n % 12
        model.apply("emission", event(block, "ReportSubmitted", report(
            f"rep-{n:03d}", lessee_id=f"lessee-{n % 3}",
            status="verified" if n % 2 else "submitted",
            period_start=f"2024-{month:02d}-01",
            period_end=f"{2024 + month // 12}-{month % 12 + 1:02d}-01"), chaincode="emission"))
    for n in range(12):
        block += 1
        model.apply("lease", event(block, "LeaseCreated", lease(
            f"l-{n:03d}", lessee_ref=f"ref-{n % 2}", project_id=f"p-{n % 4:03d}",
            status=["draft", "active", "terminated"][n % 3])))
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
    assert by_project[0]["principal_fen"] == 1_000_000_00


def test_empty_read_model_answers_an_empty_page(client, as_role):
    page = client.get("/api/v1/read/leases", headers=as_role("reader")).get_json()
    assert page == {"records": [], "fetched_count": 0, "bookmark": "", "as_of_block": None}


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
])
def test_invalid_queries_are_422_in_the_error_shape(client, as_role, path, query, field):
    response = client.get(path, query_string=query, headers=as_role("reader"))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert field in error["details"]["query"]


def test_read_routes_need_a_key(client):
    response = client.get("/api/v1/read/projects")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "UNAUTHENTICATED"


def test_read_routes_never_reach_fabric(client, network, as_role, filled):
    network.calls.clear()  # filling read the lease terms, as a member's follower does
    client.get("/api/v1/read/leases", headers=as_role("reader"))
    assert network.calls == []


def test_schemas_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for record in ("ReadProject", "ReadReport", "ReadLease"):
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
    assert "ReadModelStatus" in schemas
