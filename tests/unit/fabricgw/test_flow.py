"""Evaluate, endorse, submit and commit status against an in-process fake Gateway service."""

import threading
import time

import grpc
import pytest
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import transaction_pb2

from gateway.fabricgw import Gateway, Identity, errors, signers


@pytest.fixture
def gw(fake_peer, p256):
    _, key_pem, cert_pem = p256
    with Gateway.connect(identity=Identity("LessorMSP", cert_pem), signer=signers.new_private_key_signer(key_pem),
                         channel=fake_peer.channel) as gw:
        yield gw


@pytest.fixture
def contract(gw):
    return gw.get_network("carbonlease").get_contract("lease")


def test_evaluate_returns_payload_and_targets_orgs(contract, fake_peer):
    fake_peer.result = b'{"id":"p1"}'
    assert contract.evaluate_transaction("GetProject", "p1") == b'{"id":"p1"}'
    contract.evaluate("GetProject", arguments=["p1"], endorsing_organizations=["GridMSP"])
    request = fake_peer.requests[-1]
    assert isinstance(request, gateway_pb2.EvaluateRequest)
    assert request.channel_id == "carbonlease" and list(request.target_organizations) == ["GridMSP"]


def test_submit_waits_for_commit_and_reports_block(contract, fake_peer):
    fake_peer.result = b"ok"
    res = contract.submit("RegisterProject", arguments=["{}"], endorsing_organizations=["LessorMSP"])
    assert (res.result, res.block_number, res.status) == (b"ok", 7, "VALID")
    endorse, submit, commit = fake_peer.requests
    assert list(endorse.endorsing_organizations) == ["LessorMSP"]
    assert endorse.transaction_id == submit.transaction_id == res.transaction_id
    inner = gateway_pb2.CommitStatusRequest.FromString(commit.request)
    assert (inner.channel_id, inner.transaction_id) == ("carbonlease", res.transaction_id)
    assert contract.submit_transaction("RegisterProject", "{}") == b"ok"


@pytest.mark.parametrize("code", ["MVCC_READ_CONFLICT", "ENDORSEMENT_POLICY_FAILURE"])
def test_invalid_commit_raises_commit_error(contract, fake_peer, code):
    fake_peer.validation_code = transaction_pb2.TxValidationCode.Value(code)
    with pytest.raises(errors.CommitError) as info:
        contract.submit("RegisterProject", arguments=["{}"])
    assert info.value.code == code and info.value.block_number == 7 and len(info.value.transaction_id) == 64


def test_low_level_steps(contract, fake_peer):
    proposal = contract.new_proposal("RegisterProject", arguments=["{}"])
    tx = proposal.endorse()
    assert tx.result == b"result" and tx.transaction_id == proposal.transaction_id
    commit = tx.submit()
    status = commit.get_status()
    assert (status.code, status.block_number, status.successful) == ("VALID", 7, True)
    fake_peer.validation_code = transaction_pb2.MVCC_READ_CONFLICT
    assert not commit.get_status().successful  # get_status reports, only submit() raises


def test_offline_signing_of_every_step(gw, fake_peer, p256):
    sign = signers.new_private_key_signer(p256[1])
    offline = Gateway.connect(identity=gw.identity, channel=fake_peer.channel)  # holds no key
    unsigned = offline.get_network("carbonlease").get_contract("lease").new_proposal("Tx")
    proposal = offline.new_signed_proposal(unsigned.bytes(), sign(unsigned.digest()))
    unsigned_tx = proposal.endorse()
    tx = offline.new_signed_transaction(unsigned_tx.bytes(), sign(unsigned_tx.digest()))
    assert tx.result == b"result"
    unsigned_commit = tx.submit()
    commit = offline.new_signed_commit(unsigned_commit.bytes(), sign(unsigned_commit.digest()))
    assert commit.transaction_id == proposal.transaction_id
    assert commit.get_status().successful


def test_submit_error_is_raised_at_submit_and_nothing_commits(contract, fake_peer):
    fake_peer.submit_error = (grpc.StatusCode.ABORTED, "received unsuccessful response from orderer",
                              [("orderer0:7050", "LessorMSP", "status=BAD_REQUEST")])
    tx = contract.new_proposal("RegisterProject", arguments=["{}"]).endorse()
    with pytest.raises(errors.SubmitError) as info:
        tx.submit()
    assert info.value.transaction_id == tx.transaction_id
    assert info.value.details[0].address == "orderer0:7050"
    assert fake_peer.committed == set()


def test_lost_broadcast_sent_again_is_the_same_signed_envelope(contract, fake_peer):
    fake_peer.lose_broadcasts = 1
    tx = contract.new_proposal("RegisterProject", arguments=["{}"]).endorse()
    tx.sign()
    stored = tx.bytes()
    commit = tx.submit()
    with pytest.raises(errors.CommitStatusError) as info:
        commit.get_status(timeout=0.3)  # waits for a commit that never comes
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert tx.submit().get_status().successful
    first, second = [r for r in fake_peer.requests if isinstance(r, gateway_pb2.SubmitRequest)]
    assert first.prepared_transaction == second.prepared_transaction
    assert tx.bytes() == stored  # what was stored before the first submit is what was sent


def test_endorse_error_carries_status_and_peer_details(contract, fake_peer):
    fake_peer.endorse_error = (grpc.StatusCode.ABORTED, "failed to endorse transaction, see attached details", [
        ("peer0.lessor:7051", "LessorMSP", "chaincode response 500, FORBIDDEN: only LessorMSP may register"),
        ("peer0.grid:9051", "GridMSP", "chaincode response 500, FORBIDDEN: only LessorMSP may register"),
    ])
    with pytest.raises(errors.EndorseError) as info:
        contract.submit("RegisterProject", arguments=["{}"])
    err = info.value
    assert err.code == grpc.StatusCode.ABORTED
    assert err.message == "failed to endorse transaction, see attached details"
    assert err.details[0] == errors.ErrorDetail("peer0.lessor:7051", "LessorMSP",
                                                "chaincode response 500, FORBIDDEN: only LessorMSP may register")
    assert err.details[1].msp_id == "GridMSP"
    assert len(err.transaction_id) == 64
    assert errors.chaincode_error_code(err) == ("FORBIDDEN", "only LessorMSP may register")
    assert "peer0.grid:9051 (GridMSP)" in str(err)


def test_deadline_per_stage_and_per_call(fake_peer, p256):
    _, key_pem, cert_pem = p256
    slow = fake_peer.evaluate_delay = threading.Event()
    gw = Gateway.connect(identity=Identity("LessorMSP", cert_pem), signer=signers.new_private_key_signer(key_pem),
                         channel=fake_peer.channel, evaluate_timeout=0.2)
    contract = gw.get_network("ch").get_contract("cc")
    started = time.monotonic()
    with pytest.raises(errors.GatewayError) as info:
        contract.evaluate("Tx")
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 1.5
    with pytest.raises(errors.GatewayError):
        contract.evaluate("Tx", timeout=0.05)
    slow.set()
    assert contract.evaluate("Tx", timeout=5) == b"result"


def test_concurrent_calls_share_one_gateway(contract, fake_peer):
    results, failures = [], []

    def work():
        try:
            for _ in range(10):
                results.append(contract.submit("Tx").transaction_id)
        except Exception as e:  # surfaced by the assertion below
            failures.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and len(set(results)) == 80
