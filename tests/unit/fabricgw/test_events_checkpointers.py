import json
import threading

import pytest
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import events_pb2

from gateway.fabricgw import ChaincodeEvent, Gateway, Identity, checkpointers, errors, signers

from .fake_peer import block_response, chaincode_events_response


@pytest.fixture
def network(fake_peer, p256):
    _, key_pem, cert_pem = p256
    gw = Gateway.connect(identity=Identity("LessorMSP", cert_pem), signer=signers.new_private_key_signer(key_pem),
                         channel=fake_peer.channel, client_cert=cert_pem)
    return gw.get_network("carbonlease")


def open_and_close(events):
    """Read one event first: a stream closed at once may be cancelled before the peer sees it."""
    with events:
        next(events)


def last_events_request(fake_peer):
    return gateway_pb2.ChaincodeEventsRequest.FromString(fake_peer.requests[-1].request)


def test_chaincode_events_flattened_in_order(network, fake_peer):
    fake_peer.chaincode_events = [chaincode_events_response(3, "a", "b"), chaincode_events_response(5, "c")]
    with network.get_chaincode_events("lease", start_block=3) as events:
        got = [next(events) for _ in range(3)]
    assert got[0] == ChaincodeEvent(3, "a", "lease", "E", b"a")
    assert [(e.block_number, e.transaction_id) for e in got] == [(3, "a"), (3, "b"), (5, "c")]
    request = last_events_request(fake_peer)
    assert (request.channel_id, request.chaincode_id) == ("carbonlease", "lease")
    assert request.start_position.specified.number == 3 and not request.after_transaction_id


def test_the_rest_of_a_block_is_taken_without_waiting(network, fake_peer):
    fake_peer.chaincode_events = [chaincode_events_response(3, "a", "b", "c"),
                                  chaincode_events_response(5, "d")]
    with network.get_chaincode_events("lease", start_block=3) as events:
        first = next(events)
        rest = events.take_buffered()
        assert events.take_buffered() == []  # the next block is not received yet: not waited for
        later = next(events)
    assert [e.transaction_id for e in (first, *rest, later)] == ["a", "b", "c", "d"]


def test_chaincode_events_default_to_next_commit(network, fake_peer):
    fake_peer.chaincode_events = [chaincode_events_response(1, "a")]
    open_and_close(network.get_chaincode_events("lease"))
    assert last_events_request(fake_peer).start_position.WhichOneof("Type") == "next_commit"


def test_checkpoint_wins_over_start_block(network, fake_peer):
    checkpoint = checkpointers.InMemoryCheckpointer()
    checkpoint.checkpoint_chaincode_event(ChaincodeEvent(9, "tx9", "lease", "E", b""))
    fake_peer.chaincode_events = [chaincode_events_response(9, "tx10")]
    open_and_close(network.get_chaincode_events("lease", start_block=1, checkpoint=checkpoint))
    request = last_events_request(fake_peer)
    assert (request.start_position.specified.number, request.after_transaction_id) == (9, "tx9")


def test_block_checkpoint_resumes_at_next_block(network, fake_peer):
    checkpoint = checkpointers.InMemoryCheckpointer()
    checkpoint.checkpoint_block(9)
    fake_peer.chaincode_events = [chaincode_events_response(10, "a")]
    open_and_close(network.get_chaincode_events("lease", checkpoint=checkpoint))
    request = last_events_request(fake_peer)
    assert (request.start_position.specified.number, request.after_transaction_id) == (10, "")


def test_stream_end_is_stop_iteration(network, fake_peer):
    fake_peer.chaincode_events = [chaincode_events_response(1, "a")]
    assert [e.transaction_id for e in network.get_chaincode_events("lease", start_block=0)] == ["a"]


def test_block_events_envelope_is_signed_seek_info(network, fake_peer, p256):
    fake_peer.blocks = [block_response(4), block_response(5)]
    with network.get_block_events(start_block=4) as blocks:
        assert [next(blocks).header.number for _ in range(2)] == [4, 5]
    envelope = fake_peer.requests[-1]  # the fake peer verified its signature
    payload = common_pb2.Payload.FromString(envelope.payload)
    channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    assert (channel_header.type, channel_header.channel_id) == (common_pb2.DELIVER_SEEK_INFO, "carbonlease")
    assert len(channel_header.tls_cert_hash) == 32  # binds the request to the client TLS cert
    seek = ab_pb2.SeekInfo.FromString(payload.data)
    assert seek.start.specified.number == 4 and seek.stop.specified.number >= 2**62


def test_deliver_status_response_raises(network, fake_peer):
    fake_peer.blocks = [events_pb2.DeliverResponse(status=common_pb2.FORBIDDEN)]
    with pytest.raises(errors.GatewayError, match="FORBIDDEN"):
        next(network.get_filtered_block_events())


def test_file_checkpointer_persists_and_resumes(tmp_path):
    path = tmp_path / "checkpoint.json"
    first = checkpointers.FileCheckpointer(str(path))
    assert (first.block_number, first.transaction_id) == (None, None)
    first.checkpoint_transaction(12, "tx12")
    assert json.loads(path.read_text()) == {"blockNumber": "12", "transactionId": "tx12"}
    second = checkpointers.FileCheckpointer(str(path))
    assert (second.block_number, second.transaction_id) == (12, "tx12")
    second.checkpoint_block(12)
    assert (checkpointers.FileCheckpointer(str(path)).block_number,
            checkpointers.FileCheckpointer(str(path)).transaction_id) == (13, None)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.json"]  # no temp files left


def test_file_checkpointer_concurrent_updates_stay_consistent(tmp_path):
    path = tmp_path / "cp.json"
    cp = checkpointers.FileCheckpointer(str(path))

    def work(n):
        for i in range(20):
            cp.checkpoint_transaction(n * 100 + i, f"tx{n * 100 + i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reloaded = checkpointers.FileCheckpointer(str(path))
    assert reloaded.transaction_id == f"tx{reloaded.block_number}"
    assert (reloaded.block_number, reloaded.transaction_id) == (cp.block_number, cp.transaction_id)


def test_close_from_another_thread_ends_iteration(network, fake_peer):
    release = threading.Event()

    def blocking_stream():
        yield chaincode_events_response(1, "a")
        release.wait(5)

    fake_peer.chaincode_events = blocking_stream()
    events = network.get_chaincode_events("lease")
    assert next(events).transaction_id == "a"
    threading.Timer(0.1, events.close).start()
    assert list(events) == []  # blocked in next() until close(), then a clean end
    release.set()
