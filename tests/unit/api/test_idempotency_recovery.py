"""A key left pending by a gateway that died mid-write is taken over, and the write finished
at most once: from the attempt the dead holder recorded before it sent it for ordering."""

import datetime as dt
import socket
import subprocess
import threading

import pytest
import sqlalchemy as sa

from gateway.api import db, schema
from gateway.api.errors import ApiError
from gateway.api.idempotency import Claim
from gateway.api.ledger import Attempt

from .samples import PROJECT

CREATED = {"project_id": "p-1"}


@pytest.fixture(autouse=True)
def registers(network):
    network.on("lease", "RegisterProject", lambda args: CREATED)


def register(client, as_role, key="k1"):
    return client.post("/api/v1/projects", json=PROJECT,
                       headers=as_role("writer", **{"Idempotency-Key": key}))


@pytest.fixture
def crash(app, client, network, as_role, monkeypatch):
    """The gateway process is killed (kill -9: no cleanup runs) at ``moment`` of the write;
    the client gets no answer."""
    def kill(moment):
        network.crash = moment
        with monkeypatch.context() as patch:
            patch.setattr(app.extensions["carbonlease"].idempotency, "release", lambda claim: None)
            with pytest.raises(SystemExit):
                register(client, as_role)
    return kill


def age(app, key="k1"):
    """Make the pending key older than the staleness bound."""
    engine = app.extensions["carbonlease"].idempotency._engine
    t = db.idempotency_records
    with engine.begin() as conn:
        conn.execute(t.update().where(t.c.idempotency_key == key).values(
            claimed_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)))


def test_stale_key_whose_write_committed_answers_with_that_write(
        app, client, network, as_role, crash):
    crash("after ordering")
    [tx_id] = network.ordered
    age(app)
    response = register(client, as_role)
    assert response.status_code == 201
    assert response.get_json() == {"transaction_id": tx_id,
                                   "block_number": network.statuses[tx_id][1],
                                   "result": CREATED}
    assert len(network.submits()) == 1 and network.ordered == [tx_id]
    assert register(client, as_role).get_data() == response.get_data()  # and remembered


def hold_by(app, holder, key="k1"):
    engine = app.extensions["carbonlease"].idempotency._engine
    t = db.idempotency_records
    with engine.begin() as conn:
        conn.execute(t.update().where(t.c.idempotency_key == key).values(holder=holder))


def ended_process() -> str:
    """The holder record of a gateway process that has exited, on this host."""
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}/{process.pid}/1"


def test_key_whose_holder_process_is_gone_is_taken_over_at_once(
        app, client, network, as_role, crash):
    crash("after ordering")
    [tx_id] = network.ordered
    hold_by(app, ended_process())  # the killed gateway worker; no waiting for staleness
    response = register(client, as_role)
    assert response.status_code == 201
    assert response.get_json()["transaction_id"] == tx_id
    assert len(network.submits()) == 1 and network.ordered == [tx_id]


def test_key_held_by_a_live_process_or_on_another_host_waits_for_staleness(
        app, client, network, as_role, crash):
    crash("after ordering")
    assert register(client, as_role).status_code == 409  # held by this (live) process
    hold_by(app, "another-host/1/1")
    assert register(client, as_role).status_code == 409
    age(app)
    assert register(client, as_role).status_code == 201


def test_stale_key_whose_write_is_invalid_writes_again(app, client, network, as_role, crash):
    crash("after ordering")
    [invalid] = network.ordered
    network.statuses[invalid] = ("MVCC_READ_CONFLICT", network.statuses[invalid][1])
    age(app)
    response = register(client, as_role)
    assert response.status_code == 201
    assert response.get_json()["transaction_id"] != invalid
    assert len(network.submits()) == 2


def test_stale_key_whose_write_was_never_ordered_sends_that_same_transaction(
        app, client, network, as_role, crash):
    crash("before ordering")
    assert network.ordered == []
    age(app)
    response = register(client, as_role)
    assert response.status_code == 201
    [tx_id] = network.ordered
    assert response.get_json()["transaction_id"] == tx_id
    assert response.get_json()["result"] == CREATED
    assert len(network.submits()) == 1  # endorsed once, by the crashed request
    register(client, as_role)
    assert network.ordered == [tx_id]


def test_stopped_worker_leaves_its_attempt_to_the_retry_at_once(client, network, as_role):
    """A worker stopped gracefully (SystemExit) gives the key up: no staleness to wait for."""
    network.crash = "after ordering"
    with pytest.raises(SystemExit):
        register(client, as_role)
    response = register(client, as_role)
    assert response.status_code == 201
    assert network.ordered == [response.get_json()["transaction_id"]]
    assert len(network.submits()) == 1


def test_crash_before_endorsement_frees_the_key(client, network, as_role):
    def stopped(args):
        raise SystemExit("stopped while endorsing")
    network.on("lease", "RegisterProject", stopped)
    with pytest.raises(SystemExit):
        register(client, as_role)
    network.on("lease", "RegisterProject", lambda args: CREATED)
    assert register(client, as_role).status_code == 201


def test_fresh_pending_key_is_still_in_progress(client, network, as_role, crash):
    crash("before ordering")
    response = register(client, as_role)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert len(error["details"]["transaction_id"]) == 64
    assert network.ordered == [] and len(network.submits()) == 1


def test_concurrent_takeovers_one_wins(app, network, as_role, crash):
    crash("after ordering")
    [invalid] = network.ordered
    network.statuses[invalid] = ("MVCC_READ_CONFLICT", network.statuses[invalid][1])
    age(app)
    barrier, others_answered = threading.Barrier(8), threading.Event()
    statuses = []

    def rewrite(args):
        # The winner writes afresh and waits until every other taker has had its answer.
        assert others_answered.wait(10)
        return CREATED
    network.on("lease", "RegisterProject", rewrite)

    def retry():
        barrier.wait()
        statuses.append(register(app.test_client(), as_role).status_code)
        if len(statuses) == 7:
            others_answered.set()

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(statuses) == [201] + [409] * 7
    assert len(network.submits()) == 2


def test_superseded_holder_can_no_longer_send_attempts(app):
    store = app.extensions["carbonlease"].idempotency
    attempt = Attempt("ab" * 32, b"{}", b"prepared")
    with app.test_request_context():
        first = store.claim("k", "key", "f")
        store.record_attempt(first, attempt)
        age(app, "key")
        taker = store.claim("k", "key", "f")
        assert taker == Claim("k", "key", 2, attempt)
        with pytest.raises(ApiError) as refused:
            store.record_attempt(first, Attempt("cd" * 32, b"{}", b"prepared"))
        assert refused.value.code == "IDEMPOTENCY_IN_PROGRESS"


def test_database_of_an_older_gateway_is_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    created = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    old = sa.MetaData()
    table = sa.Table("idempotency_records", old, *(
        sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
        for c in db.idempotency_records.columns if c.name in (
            "key_id", "idempotency_key", "fingerprint", "state", "status_code", "body",
            "created_at")))
    engine = sa.create_engine(url)
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert().values(key_id="k", idempotency_key="left", fingerprint="f",
                                           state="pending", created_at=created))
    engine.dispose()

    upgraded = db.make_engine(url)
    assert db.problems(upgraded) == [
        "table api_credentials is missing", "table idempotency_records lacks claim_number, "
        "claimed_at, holder, transaction_id, endorsed_result, prepared_transaction"]
    assert "added columns claim_number, claimed_at, holder, transaction_id, endorsed_result, " \
           "prepared_transaction to idempotency_records" in schema.upgrade(upgraded)
    assert schema.upgrade(upgraded) == [] and schema.problems(upgraded) == []
    with upgraded.connect() as conn:
        row = conn.execute(sa.select(db.idempotency_records)).mappings().one()
    assert row["claim_number"] == 1 and row["transaction_id"] is None
    assert row["claimed_at"].replace(tzinfo=dt.timezone.utc) == created
