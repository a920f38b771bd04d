"""The read-model follower: one stream per chaincode that starts from the checkpoint, moves past
events it cannot apply, reconnects after a broken stream or a database failure, stops by
closing the stream; its heartbeat (what ``listening`` means); and the process itself."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from fabric_protos.common import ledger_pb2

from gateway.api import create_app, db, schema
from gateway.api.config import Config
from gateway.api.errors import ApiError
from gateway.api.ledger import Ledger
from gateway.api.readmodel import Checkpoint, ReadModel, store
from gateway.api.readmodel.follower import (DEAD_LETTER, DeadLetterWarnings, Follower, apply,
                                            heartbeat, private_lease_of, run)
from gateway.fabricgw import errors
from tests.database import upgraded

from . import golden
from .conftest import SETTINGS
from .fakes import EventSource, FakeNetwork, chaincode_error
from .golden import event
from .test_readmodel import (POISON, engine, private_view, project,  # noqa: F401 - fixtures
                             read_model, rows)

REPO = Path(__file__).resolve().parents[3]


def eventually(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


@pytest.fixture
def source():
    return EventSource()


@pytest.fixture
def follow(read_model, source):
    started = []

    def start(chaincode="lease"):
        follower = Follower(read_model, source, chaincode, first_backoff_s=0.01)
        follower.start()
        started.append(follower)
        return follower
    yield start
    for follower in started:
        follower.stop()


def at_block(read_model, chaincode, block):
    return lambda: (read_model.checkpoint(chaincode) or Checkpoint(-1, "")).block_number == block


def test_starts_from_block_0_then_resumes_after_the_last_recorded_event(read_model, source,
                                                                        follow):
    follow()
    first = source.stream("lease", 1)
    first.push(*golden.events("lease", until="partner registers a project"))
    eventually(at_block(read_model, "lease", 3))
    last = read_model.checkpoint("lease")
    first.break_with(errors.GatewayError(grpc.StatusCode.UNAVAILABLE, "peer restarted"))
    second = source.stream("lease", 2)
    assert source.requests == [("lease", None), ("lease", last)]
    second.push(event(5, "ProjectRegistered", project("p-3")))
    eventually(at_block(read_model, "lease", 5))
    assert first.closed.is_set()
    assert read_model.status(None)["chaincodes"][1]["reconnects"] == 1


def test_a_poison_event_is_passed_not_retried(read_model, source, follow, engine):
    """issue 12: one event the read model cannot apply used to be retried for ever."""
    follow()
    stream = source.stream("lease", 1)
    poison = event(7, "ProjectRegistered", POISON["lone surrogate"][0])
    stream.push(event(7, "ProjectRegistered", project("p-1")), poison,
                event(7, "ProjectRegistered", project("p-2")),
                event(8, "ProjectRegistered", project("p-3")))
    eventually(at_block(read_model, "lease", 8))
    assert [r["project_id"] for r in rows(engine, store.projects)] == ["p-1", "p-2", "p-3"]
    assert [d["transaction_id"] for d in rows(engine, store.dead_letters)] == [
        poison.transaction_id]
    assert len(source.requests) == 1  # never reconnected


def test_a_database_failure_is_retried_not_skipped(read_model, source, follow, engine,
                                                   monkeypatch):
    record = ReadModel.record
    failures = []

    def locked_once(self, chaincode, outcomes):
        if not failures:
            failures.append(outcomes[0].event)
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return record(self, chaincode, outcomes)

    monkeypatch.setattr(ReadModel, "record", locked_once)
    follow()
    source.stream("lease", 1).push(event(3, "ProjectRegistered", project("p-1")))
    # The follower reopens from the unchanged checkpoint: the peer sends the event again.
    again = source.stream("lease", 2)
    assert source.requests[1] == ("lease", None)
    again.push(failures[0])
    eventually(at_block(read_model, "lease", 3))
    assert rows(engine, store.dead_letters) == []


def test_stop_closes_the_stream_and_ends_the_thread(source, follow):
    follower = follow()
    stream = source.stream("lease", 1)
    follower.stop()
    assert stream.closed.is_set() and not follower.running


def test_keeping_up_means_an_open_stream_and_no_event_stuck(read_model, source, follow,
                                                            monkeypatch):
    follower = follow()
    stream = source.stream("lease", 1)
    eventually(lambda: follower.keeping_up(0))  # waiting for the peer's next event
    stuck = threading.Event()
    record = ReadModel.record

    def slow(self, *args):
        stuck.wait(10)
        return record(self, *args)

    monkeypatch.setattr(ReadModel, "record", slow)
    stream.push(event(3, "ProjectRegistered", project("p-1")))
    eventually(lambda: not follower.keeping_up(0))  # an event in hand for longer than 0 s
    stuck.set()
    eventually(lambda: follower.keeping_up(0))
    follower.stop()
    assert not follower.keeping_up(60)


# --- a lease's private view, read from the peer -----------------------------------------------

LEASE_CREATED = golden.events("lease", until="lease created (draft)")[-1]

# GetLease failures that say nothing about the event: the same read may work later.
TRANSIENT = {
    "evaluation failed (409)": errors.GatewayError(grpc.StatusCode.UNKNOWN,
                                                   "evaluate call to endorser failed"),
    "endorsement failed (409)": errors.EndorseError(grpc.StatusCode.ABORTED,
                                                    "ProposalResponsePayloads do not match"),
    "peer unavailable (503)": errors.GatewayError(grpc.StatusCode.UNAVAILABLE, "no peer"),
    "roles not set (503)": chaincode_error("ROLES_NOT_SET", "roles are not configured"),
}
# The chaincode's own answer about the event's lease: the same on every retry.
REFUSALS = {"NOT_FOUND": "lease LS1 does not exist", "INVALID_ARGUMENT": "lease_id is malformed"}


def lease_reads(*answers):
    """A member's follower reading GetLease through the gateway's Ledger from a peer that
    gives ``answers`` in turn (an exception is raised as the fabricgw client raises it)."""
    network = FakeNetwork()
    remaining = list(answers)

    def get_lease(args):
        answer = remaining.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    network.on("lease", "GetLease", get_lease)
    return private_lease_of(Ledger(SETTINGS, connect=lambda settings: network))


@pytest.mark.parametrize("failure", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_a_transient_ledger_failure_is_retried_not_a_dead_letter(read_model, engine, failure):
    private_lease = lease_reads(failure, {"private": private_view("LS1")})
    with pytest.raises(ApiError):
        apply(read_model, "lease", LEASE_CREATED, private_lease)
    assert rows(engine, store.dead_letters) == [] and read_model.checkpoint("lease") is None
    assert apply(read_model, "lease", LEASE_CREATED, private_lease) == "applied"
    assert [r["lease_id"] for r in rows(engine, store.leases)] == ["LS1"]


@pytest.mark.parametrize("code,message", REFUSALS.items(), ids=REFUSALS.keys())
def test_the_chaincodes_refusal_of_the_events_lease_is_a_dead_letter(read_model, engine, code,
                                                                     message):
    private_lease = lease_reads(chaincode_error(code, message))
    assert apply(read_model, "lease", LEASE_CREATED, private_lease) == DEAD_LETTER
    [dead] = rows(engine, store.dead_letters)
    assert f"GetLease of the event's lease answered {code}: {message}" in dead["error"]
    assert read_model.checkpoint("lease").transaction_id == LEASE_CREATED.transaction_id


def test_the_follower_retries_a_409_from_getlease_with_its_backoff(read_model, source, engine):
    follower = Follower(read_model, source, "lease", first_backoff_s=0.01,
                        private_lease=lease_reads(TRANSIENT["evaluation failed (409)"],
                                                  {"private": private_view("LS1")}))
    try:
        follower.start()
        source.stream("lease", 1).push(LEASE_CREATED)
        # Reopened from the unchanged checkpoint (none): the peer sends the event again.
        again = source.stream("lease", 2)
        assert source.requests == [("lease", None), ("lease", None)]
        again.push(LEASE_CREATED)
        eventually(at_block(read_model, "lease", LEASE_CREATED.block_number))
    finally:
        follower.stop()
    assert [r["lease_id"] for r in rows(engine, store.leases)] == ["LS1"]
    assert rows(engine, store.dead_letters) == []
    assert read_model.status(None)["chaincodes"][1]["reconnects"] == 1


def test_a_block_the_peer_fails_on_midway_comes_again_whole_and_is_recorded_once(
        read_model, source, engine):
    """GetLease is asked for every lease event of a block before the block's transaction opens;
    a transient failure on the second records nothing of the block, not even its first event."""
    first = event(9, "LeaseCreated", {**golden.payload("lease", "lease created (draft)"),
                                      "lease_id": "LS1"})
    second = event(9, "LeaseCreated", {**golden.payload("lease", "lease created (draft)"),
                                       "lease_id": "LS2"})
    follower = Follower(read_model, source, "lease", first_backoff_s=0.01,
                        private_lease=lease_reads({"private": private_view("LS1")},
                                                  TRANSIENT["peer unavailable (503)"],
                                                  {"private": private_view("LS1")},
                                                  {"private": private_view("LS2")}))
    try:
        follower.start()
        source.stream("lease", 1).push(first, second)
        again = source.stream("lease", 2)
        assert source.requests == [("lease", None), ("lease", None)]
        assert rows(engine, store.leases) == []
        again.push(first, second)
        eventually(at_block(read_model, "lease", 9))
    finally:
        follower.stop()
    assert [(r["lease_id"], r["transaction_id"]) for r in rows(engine, store.leases)] == [
        ("LS1", first.transaction_id), ("LS2", second.transaction_id)]
    assert read_model.checkpoint("lease") == Checkpoint(9, second.transaction_id)


# --- dead letters in the log -----------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def warning_lines(caplog):
    lines = [r.getMessage() for r in caplog.records
             if r.name == "gateway.api.readmodel.follower" and r.levelname == "WARNING"]
    caplog.clear()
    return lines


def test_dead_letters_are_logged_first_in_full_then_summed_up_once_a_minute(
        read_model, caplog):
    clock = Clock()
    warnings = DeadLetterWarnings(every_s=60, clock=clock)
    poisons = iter(event(10 + n, "ProjectRegistered", b"not json") for n in range(100))
    caplog.set_level("WARNING")

    apply(read_model, "lease", next(poisons), warnings=warnings)
    [first] = warning_lines(caplog)
    assert "kept as a dead letter: lease block 10" in first
    for _ in range(40):  # a flood within the minute: nothing more in the log
        clock.now += 1
        apply(read_model, "lease", last := next(poisons), warnings=warnings)
    warnings.flush()
    assert warning_lines(caplog) == []
    clock.now += 20  # a minute after the first line, the follower's loop sums them up
    warnings.flush()
    [summary] = warning_lines(caplog)
    assert summary.startswith("read model: 40 more dead letters in the last 60 s")
    assert f"the latest: lease block {last.block_number} transaction {last.transaction_id}" \
        in summary
    clock.now += 30
    apply(read_model, "lease", last := next(poisons), warnings=warnings)
    assert warning_lines(caplog) == []  # within a minute of the summary
    warnings.flush(final=True)  # the follower stops: nothing held back
    assert [line.split(";")[0] for line in warning_lines(caplog)] == [
        "read model: 1 more dead letters in the last 30 s (GET /api/v1/read/dead-letters "
        "lists them)"]
    clock.now += 60  # after a quiet minute, the next one is logged in full again
    apply(read_model, "lease", next(poisons), warnings=warnings)
    assert len(warning_lines(caplog)) == 1


class StubLedger:
    def __init__(self, height):
        self.height = height

    def height_if_reachable(self):
        return self.height


class StubFollower:
    def __init__(self, chaincode, keeping_up):
        self.chaincode = chaincode
        self._keeping_up = keeping_up

    def keeping_up(self, within_s):
        return self._keeping_up


def test_heartbeat_only_for_followers_keeping_up_with_a_peer_that_answers(read_model):
    followers = [StubFollower("emission", False), StubFollower("lease", True)]
    heartbeat(read_model, StubLedger(None), followers, 5.0)
    assert [c["heartbeat_at"] for c in read_model.status(None)["chaincodes"]] == [None, None]
    heartbeat(read_model, StubLedger(42), followers, 5.0)
    emission, lease = read_model.status(None)["chaincodes"]
    assert (emission["listening"], lease["listening"]) == (False, True)
    assert (lease["heartbeat_channel_height"], lease["follower_pid"]) == (42, os.getpid())
    beat = lease["heartbeat_at"]
    later = read_model.status(None, now=beat + dt.timedelta(seconds=15))["chaincodes"][1]
    assert later["listening"] is True
    stale = read_model.status(None, now=beat + dt.timedelta(seconds=15.1))["chaincodes"][1]
    assert stale["listening"] is False


# --- the follower process ---------------------------------------------------------------------

def test_run_follows_both_chaincodes_into_the_read_routes(tmp_path):
    network = FakeNetwork()
    network.on("qscc", "GetChainInfo",
               lambda args: ledger_pb2.BlockchainInfo(height=30).SerializeToString())
    # The follower reads each lease's private view from its own peer (a member org's here).
    member_reads = {"LS1": golden.step("lease", "matured lease read")["answer"],
                    "LS2": {"private": None}}
    network.on("lease", "GetLease", lambda args: member_reads[args[0]])
    config = Config(fabric=SETTINGS, database_url=upgraded(f"sqlite:///{tmp_path}/g.db"),
                    follower_heartbeat_s=0.05)
    stop = threading.Event()
    follower = threading.Thread(target=run, args=(config, stop),
                                kwargs={"connect": lambda settings: network})
    # Everything after the start is inside the try: a failure anywhere still stops the
    # follower, which would otherwise keep pytest from exiting.
    try:
        follower.start()
        app = create_app(config, connect=lambda settings: network)
        services = app.extensions["carbonlease"]
        headers = {"Authorization": f"Bearer {services.credentials.create('r', 'reader').key}"}
        client = app.test_client()
        network.events.stream("lease").push(*golden.events("lease"))
        network.events.stream("emission").push(
            *golden.events("emission"),
            event(40, "ReportSubmitted", b'{"report_id":"\\udfff"}', chaincode="emission"))
        last_lease_block = golden.events("lease")[-1].block_number
        eventually(lambda: client.get("/api/v1/read/emission-reports",
                                      headers=headers).get_json()["as_of_block"] == 40
                   and client.get("/api/v1/read/leases", headers=headers)
                   .get_json()["as_of_block"] == last_lease_block)
        projects = client.get("/api/v1/read/projects", headers=headers).get_json()
        assert [p["project_id"] for p in projects["records"]] == ["P1", "P2"]
        leases = client.get("/api/v1/read/leases", headers=headers).get_json()["records"]
        assert [(r["lease_id"], r["lessee_ref"], r["lessee_id"], r["rate_bps"])
                for r in leases] == [("LS1", "R1", "L1", 600), ("LS2", "R2", None, None)]
        # The chaincode names come from the settings; no checkpoint yet: from block 0.
        assert sorted(network.event_requests) == [("emission", 0, None), ("lease", 0, None)]

        def listening():
            status = client.get("/api/v1/read/status", headers=headers).get_json()
            return [c["listening"] for c in status["chaincodes"]] == [True, True]
        eventually(listening)
        status = client.get("/api/v1/read/status", headers=headers).get_json()
        assert status["channel_height"] == 30
        assert {c["chaincode"]: (c["block_number"], c["dead_letter_count"])
                for c in status["chaincodes"]} == {
            "emission": (40, 1), "lease": (last_lease_block, 0)}
        metrics = client.get("/metrics").get_data(as_text=True)
        assert 'carbonlease_read_model_listening{chaincode="lease"} 1.0' in metrics
        assert 'carbonlease_read_model_dead_letters{chaincode="emission"} 1.0' in metrics
    finally:
        stop.set()
        follower.join(10)
    assert not follower.is_alive()
    assert network.events.stream("lease").closed.is_set()


def test_no_follower_in_the_web_app(app, network):
    status = app.extensions["carbonlease"].read_model.status(channel_height=None)
    assert [c["listening"] for c in status["chaincodes"]] == [False, False]
    assert network.event_requests == []
    assert not [t for t in threading.enumerate() if t.name.startswith("read-model-")]


def test_status_without_a_reachable_peer_has_no_height(client, network, as_role):
    def down(args):
        raise errors.GatewayError(grpc.StatusCode.UNAVAILABLE, "connection refused")
    network.on("qscc", "GetChainInfo", down)
    status = client.get("/api/v1/read/status", headers=as_role("reader")).get_json()
    empty = {"listening": False, "heartbeat_at": None, "heartbeat_channel_height": None,
             "follower_pid": None, "reconnects": 0, "block_number": None,
             "transaction_id": None, "dead_letter_count": 0, "latest_dead_letters": []}
    assert status == {"channel_height": None, "chaincodes": [
        {"chaincode": "emission", **empty}, {"chaincode": "lease", **empty}]}


def test_heartbeat_interval_from_the_environment():
    assert Config.from_env({}).follower_heartbeat_s == 5.0
    assert Config.from_env({"CARBONLEASE_FOLLOWER_HEARTBEAT": "0.5"}).follower_heartbeat_s == 0.5


def _process(tmp_path, **env):
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.api.readmodel.follower"], cwd=REPO,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO),
             "CARBONLEASE_DATABASE_URL": f"sqlite:///{tmp_path}/f.db", **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _refuses_upgrade(engine) -> bool:
    try:
        schema.upgrade(engine)
    except schema.FollowerRunning:
        return True
    return False


def _unreachable_peer(tmp_path) -> dict:
    # A peer that is not there: the follower keeps reconnecting until told to stop.
    return {"CARBONLEASE_MSP_ID": "LessorMSP", "CARBONLEASE_PEER_ENDPOINT": "127.0.0.1:9",
            "CARBONLEASE_PEER_TLS_CA": str(tmp_path / "missing-ca.pem")}


def test_the_process_stops_cleanly_on_sigterm_and_no_upgrade_runs_under_it(tmp_path):
    engine = db.make_engine(upgraded(f"sqlite:///{tmp_path}/f.db"))
    follower = _process(tmp_path, **_unreachable_peer(tmp_path))
    try:
        eventually(lambda: _refuses_upgrade(engine))
        assert follower.poll() is None
        follower.send_signal(signal.SIGTERM)
        output, _ = follower.communicate(timeout=20)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0, output
    assert "read model follower stopped" in output
    assert not _refuses_upgrade(engine)


def test_the_process_refuses_a_database_not_of_this_version(tmp_path):
    follower = _process(tmp_path, **_unreachable_peer(tmp_path))
    output, _ = follower.communicate(timeout=20)
    assert follower.returncode == 1
    assert "read_leases is missing" in output and "upgrade-schema" in output
    # It only checked: the upgrade step alone makes the tables.
    assert schema.problems(db.make_engine(f"sqlite:///{tmp_path}/f.db")) != []


def test_the_process_refuses_to_start_without_fabric(tmp_path):
    follower = _process(tmp_path)
    output, _ = follower.communicate(timeout=20)
    assert follower.returncode == 2
    assert "nothing to follow" in output
