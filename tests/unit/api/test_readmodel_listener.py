"""The read-model listeners: start from the checkpoint, reconnect after a broken stream, stop
by closing the stream; and the app that runs them when asked."""

import threading
import time

import grpc
import pytest
from fabric_protos.common import ledger_pb2

from gateway.api import create_app, db
from gateway.api.config import Config
from gateway.api.readmodel import Checkpoint, Listener, ReadModel
from gateway.fabricgw import errors

from .conftest import SETTINGS
from .fakes import EventSource, FakeNetwork
from .readmodel_samples import event, project, report


def eventually(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


@pytest.fixture
def read_model(tmp_path):
    return ReadModel(db.make_engine(f"sqlite:///{tmp_path}/read.db"))


@pytest.fixture
def source():
    return EventSource()


def listen(read_model, source, chaincode="lease", **options):
    listener = Listener(read_model, source, chaincode, first_backoff_s=0.01, **options)
    listener.start()
    return listener


def test_starts_from_block_0_then_resumes_after_the_last_applied_event(read_model, source):
    reconnects = []
    listener = listen(read_model, source, on_reconnect=reconnects.append)
    try:
        first = source.stream("lease", 1)
        registered = event(3, "ProjectRegistered", project("p-1"))
        first.push(registered, event(4, "ProjectRegistered", project("p-2")))
        eventually(lambda: read_model.checkpoint("lease") is not None
                   and read_model.checkpoint("lease").block_number == 4)
        last = read_model.checkpoint("lease")
        first.break_with(errors.GatewayError(grpc.StatusCode.UNAVAILABLE, "peer restarted"))
        second = source.stream("lease", 2)
        assert source.requests == [("lease", None), ("lease", last)]
        assert reconnects == ["lease"]
        second.push(event(5, "ProjectRegistered", project("p-3")))
        eventually(lambda: read_model.checkpoint("lease").block_number == 5)
        assert first.closed.is_set()
    finally:
        listener.stop()
    assert not listener.running


def test_an_event_that_cannot_be_applied_is_retried_not_skipped(read_model, source):
    listener = listen(read_model, source)
    try:
        broken = event(3, "ProjectRegistered", {"project_id": "p-1"})  # fields missing
        source.stream("lease", 1).push(broken)
        # The listener reopens from the unchanged checkpoint: the peer would send it again.
        source.stream("lease", 2)
        assert source.requests[1] == ("lease", None)
        assert read_model.checkpoint("lease") is None
    finally:
        listener.stop()


def test_stop_closes_the_stream_and_ends_the_thread(read_model, source):
    listener = listen(read_model, source)
    stream = source.stream("lease", 1)
    started = time.monotonic()
    listener.stop()
    assert stream.closed.is_set() and not listener.running
    assert time.monotonic() - started < 2


def test_a_new_read_model_on_the_same_database_resumes_from_its_checkpoint(tmp_path, source):
    url = f"sqlite:///{tmp_path}/read.db"
    before = ReadModel(db.make_engine(url))
    applied = event(8, "ReportSubmitted", report("rep-1"), chaincode="emission")
    before.apply("emission", applied)
    after = ReadModel(db.make_engine(url))
    listener = listen(after, source, "emission")
    try:
        source.stream("emission", 1)
        assert source.requests == [("emission", Checkpoint(8, applied.transaction_id))]
    finally:
        listener.stop()


# --- in the app -----------------------------------------------------------------------------

def test_no_listener_unless_asked(app, network):
    status = app.extensions["carbonlease"].read_model.status(channel_height=None)
    assert [c["listening"] for c in status["chaincodes"]] == [False, False]
    assert network.event_requests == []


def test_app_follows_both_chaincodes_into_the_read_routes(tmp_path):
    network = FakeNetwork()
    network.on("qscc", "GetChainInfo",
               lambda args: ledger_pb2.BlockchainInfo(height=30).SerializeToString())
    app = create_app(Config(fabric=SETTINGS, database_url=f"sqlite:///{tmp_path}/g.db",
                            read_model_enabled=True), connect=lambda settings: network)
    services = app.extensions["carbonlease"]
    key = services.credentials.create("reader", "reader").key
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    try:
        network.events.stream("lease").push(event(12, "ProjectRegistered", project("p-9")))
        network.events.stream("emission").push(
            event(14, "ReportSubmitted", report("rep-9"), chaincode="emission"))
        eventually(lambda: client.get("/api/v1/read/emission-reports",
                                      headers=headers).get_json()["as_of_block"] == 14)
        projects = client.get("/api/v1/read/projects", headers=headers).get_json()
        assert [p["project_id"] for p in projects["records"]] == ["p-9"]
        assert projects["as_of_block"] == 12
        # The chaincode names come from the settings; no checkpoint yet: from block 0.
        assert sorted(network.event_requests) == [("emission", 0, None), ("lease", 0, None)]

        status = client.get("/api/v1/read/status", headers=headers).get_json()
        assert status["channel_height"] == 30
        assert {c["chaincode"]: (c["listening"], c["block_number"])
                for c in status["chaincodes"]} == {"emission": (True, 14), "lease": (True, 12)}
        metrics = client.get("/metrics").get_data(as_text=True)
        assert 'carbonlease_read_model_block{chaincode="lease"} 12.0' in metrics
        assert 'carbonlease_read_model_block{chaincode="emission"} 14.0' in metrics
    finally:
        services.read_model.stop()
    status = client.get("/api/v1/read/status", headers=headers).get_json()
    assert [c["listening"] for c in status["chaincodes"]] == [False, False]


def test_status_without_a_reachable_peer_has_no_height(client, network, as_role):
    def down(args):
        raise errors.GatewayError(grpc.StatusCode.UNAVAILABLE, "connection refused")
    network.on("qscc", "GetChainInfo", down)
    status = client.get("/api/v1/read/status", headers=as_role("reader")).get_json()
    assert status == {"channel_height": None, "chaincodes": [
        {"chaincode": "emission", "listening": False, "block_number": None,
         "transaction_id": None},
        {"chaincode": "lease", "listening": False, "block_number": None,
         "transaction_id": None}]}


@pytest.mark.parametrize("value,enabled", [(None, True), ("off", False), ("on", True)])
def test_read_model_switch_from_the_environment(value, enabled):
    env = {} if value is None else {"CARBONLEASE_READ_MODEL": value}
    assert Config.from_env(env).read_model_enabled is enabled


def test_a_wrong_switch_value_is_refused():
    with pytest.raises(ValueError, match="CARBONLEASE_READ_MODEL"):
        Config.from_env({"CARBONLEASE_READ_MODEL": "maybe"})


def test_listener_threads_are_named_for_their_chaincode(read_model, source):
    listener = listen(read_model, source, "emission")
    try:
        source.stream("emission", 1)
        assert "read-model-emission" in {t.name for t in threading.enumerate()}
    finally:
        listener.stop()
