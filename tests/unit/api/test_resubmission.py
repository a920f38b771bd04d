"""A transaction sent for ordering but never seen committed (the orderer that took it crashed)
is sent again, the same signed envelope, until it commits or the write deadline passes."""

import grpc
import pytest

from gateway.fabricgw import errors

from .conftest import RESUBMIT_AFTER_S, WRITE_DEADLINE_S
from .fakes import LOST
from .samples import PROJECT

CREATED = {"project_id": "p-1"}


@pytest.fixture(autouse=True)
def registers(network):
    network.on("lease", "RegisterProject", lambda args: CREATED)


def register(client, as_role, **headers):
    return client.post("/api/v1/projects", json=PROJECT, headers=as_role("writer", **headers))


def test_lost_broadcast_is_sent_again_unchanged_and_answers_201(client, network, as_role):
    network.broadcasts = [LOST]
    response = register(client, as_role)
    assert response.status_code == 201
    tx_id = response.get_json()["transaction_id"]
    assert response.get_json() == {"transaction_id": tx_id,
                                   "block_number": network.statuses[tx_id][1],
                                   "result": CREATED}
    assert network.ordered == [tx_id, tx_id]
    assert network.envelopes[0] == network.envelopes[1]  # the same signed envelope
    assert len(network.submits()) == 1  # endorsed once
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "carbonlease_resubmissions_total 1.0" in metrics


def test_unconfirmed_broadcast_is_settled_by_its_commit(client, network, as_role):
    """The orderer's stream broke after the envelope went out: Fabric's gateway says
    UNAVAILABLE, though the copy was ordered. Sent again, the second copy is a duplicate
    and the first copy's commit is the answer."""
    def broke_after_ordering(transaction):
        original(transaction)
        raise errors.SubmitError(grpc.StatusCode.UNAVAILABLE,
                                 "no orderers could successfully process transaction")
    original = network.broadcast
    network.broadcast = lambda transaction: (setattr(network, "broadcast", original),
                                             broke_after_ordering(transaction))
    response = register(client, as_role)
    assert response.status_code == 201
    tx_id = response.get_json()["transaction_id"]
    assert network.statuses[tx_id][0] == "VALID"
    assert len(network.submits()) == 1


def test_orderer_refusal_of_the_first_copy_is_a_final_409(client, network, as_role):
    network.broadcasts = [errors.SubmitError(grpc.StatusCode.ABORTED,
                                             "received unsuccessful response from orderer")]
    response = register(client, as_role, **{"Idempotency-Key": "k1"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "SUBMIT_FAILED"
    assert network.ordered == [] and network.statuses == {}
    again = register(client, as_role, **{"Idempotency-Key": "k1"})
    assert again.get_data() == response.get_data()  # final: remembered


def test_refusal_of_a_later_copy_does_not_undo_the_first(client, network, as_role):
    network.broadcasts = [LOST, errors.SubmitError(grpc.StatusCode.ABORTED, "refused"), None]
    response = register(client, as_role)
    assert response.status_code == 201
    tx_id = response.get_json()["transaction_id"]
    assert network.ordered == [tx_id, tx_id]


def test_no_commit_within_the_deadline_is_504_saying_how_to_get_the_answer(
        client, network, as_role):
    network.broadcasts = [LOST] * 1000
    response = register(client, as_role)
    assert response.status_code == 504
    error = response.get_json()["error"]
    assert error["code"] == "COMMIT_STATUS_UNKNOWN"
    tx_id = error["details"]["transaction_id"]
    assert error["details"]["transactions_route"] == f"/api/v1/transactions/{tx_id}"
    assert "Idempotency-Key" in error["message"]
    assert response.headers["Retry-After"]
    # Sent again every RESUBMIT_AFTER_S within the deadline, always the same transaction.
    assert set(network.ordered) == {tx_id} and len(network.ordered) >= 3
    assert len(set(network.envelopes)) == 1
    assert network.statuses == {}


def test_retry_with_the_key_settles_the_unknown_write_at_once(client, network, as_role):
    """No fixed wait: the 504 leaves the key to the retry, which sends the recorded
    transaction again (not a new one) and answers with its commit."""
    network.broadcasts = [LOST] * 1000
    first = register(client, as_role, **{"Idempotency-Key": "k1"})
    assert first.status_code == 504
    tx_id = first.get_json()["error"]["details"]["transaction_id"]
    network.broadcasts = []  # the ordering service is back
    retry = register(client, as_role, **{"Idempotency-Key": "k1"})
    assert retry.status_code == 201
    assert retry.get_json()["transaction_id"] == tx_id
    assert len(network.submits()) == 1 and set(network.ordered) == {tx_id}
    assert len(set(network.envelopes)) == 1
    assert register(client, as_role, **{"Idempotency-Key": "k1"}).get_data() == retry.get_data()


def test_retry_while_still_unknown_is_504_again_and_writes_nothing_new(
        client, network, as_role):
    network.broadcasts = [LOST] * 1000
    assert register(client, as_role, **{"Idempotency-Key": "k1"}).status_code == 504
    again = register(client, as_role, **{"Idempotency-Key": "k1"})
    assert again.status_code == 504
    assert "Idempotent-Replayed" not in again.headers
    assert len(network.submits()) == 1 and len(set(network.ordered)) == 1


def test_unreachable_peer_does_not_make_resubmissions_spin(client, network, as_role):
    """Commit status failing at once (the gateway's peer is down) still waits the resubmit
    interval before the transaction is sent again."""
    def unreachable(tx_id, timeout):
        raise errors.CommitStatusError(grpc.StatusCode.UNAVAILABLE, "connection refused",
                                       transaction_id=tx_id)
    network.wait_for_commit = unreachable
    network.broadcasts = [LOST] * 1000
    assert register(client, as_role).status_code == 504
    assert 2 <= len(network.ordered) <= WRITE_DEADLINE_S / RESUBMIT_AFTER_S + 1


def test_write_deadline_bounds_mvcc_retries_too(app, client, network, as_role):
    """Conflicts retried until the deadline passes end the write with the conflict."""
    network.validation = ["MVCC_READ_CONFLICT"] * 100
    clock = iter(range(0, 10_000, int(WRITE_DEADLINE_S)))  # each look at the clock: 1 s later
    app.extensions["carbonlease"].ledger._clock = lambda: float(next(clock))
    response = register(client, as_role)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "MVCC_READ_CONFLICT"
    assert len(network.submits()) < 4  # stopped by the deadline, not by mvcc_retries=3


def test_pending_keys_are_stale_only_after_the_write_deadline_of_a_live_gateway():
    from gateway.api.config import Config
    assert Config.from_env({}).write_deadline_s == 60
    assert Config.from_env({}).idempotency_stale_after_s == 90
    configured = Config.from_env({"CARBONLEASE_WRITE_DEADLINE": "120"})
    assert configured.idempotency_stale_after_s == 150
    assert Config.from_env({"CARBONLEASE_IDEMPOTENCY_STALE_AFTER": "40"}
                           ).idempotency_stale_after_s == 40
