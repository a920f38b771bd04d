"""Idempotency-Key: the first answer is remembered; repeats never write twice."""

import threading

import grpc

from gateway.fabricgw import errors

from .fakes import chaincode_error
from .samples import PROJECT


def register(client, as_role, key, body=PROJECT, role="writer"):
    return client.post("/api/v1/projects", json=body,
                       headers=as_role(role, **{"Idempotency-Key": key}))


def test_repeat_returns_the_first_answer(client, network, as_role):
    first = register(client, as_role, "k1")
    again = register(client, as_role, "k1")
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(network.submits()) == 1


def test_same_body_in_another_key_order_is_the_same_request(client, network, as_role):
    register(client, as_role, "k1")
    reordered = dict(reversed(list(PROJECT.items())))
    assert register(client, as_role, "k1", reordered).status_code == 201
    assert len(network.submits()) == 1


def test_different_body_is_refused(client, network, as_role):
    register(client, as_role, "k1")
    response = register(client, as_role, "k1", {**PROJECT, "name": "Other"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(network.submits()) == 1


def test_same_key_on_another_route_is_refused(client, network, as_role):
    register(client, as_role, "k1")
    response = client.post("/api/v1/leases/l-1/activate",
                           headers=as_role("writer", **{"Idempotency-Key": "k1"}))
    assert response.status_code == 422


def test_keys_belong_to_their_credential(client, network, as_role):
    register(client, as_role, "k1", role="writer")
    register(client, as_role, "k1", role="admin")
    assert len(network.submits()) == 2


def test_without_key_every_request_writes(client, network, as_role):
    client.post("/api/v1/projects", json=PROJECT, headers=as_role("writer"))
    client.post("/api/v1/projects", json=PROJECT, headers=as_role("writer"))
    assert len(network.submits()) == 2


def test_final_errors_are_remembered(client, network, as_role):
    def refuse(args):
        raise chaincode_error("ALREADY_EXISTS", "project p-1 exists")
    network.on("lease", "RegisterProject", refuse)
    first = register(client, as_role, "k1")
    network.on("lease", "RegisterProject", lambda args: {})
    again = register(client, as_role, "k1")
    assert first.status_code == again.status_code == 409
    assert again.get_data() == first.get_data()


def test_validation_errors_are_remembered(client, network, as_role):
    assert register(client, as_role, "k1", {"bad": 1}).status_code == 422
    assert register(client, as_role, "k1", {"bad": 1}).headers["Idempotent-Replayed"] == "true"


def test_retryable_errors_release_the_key(client, network, as_role):
    def unavailable(args):
        raise errors.EndorseError(grpc.StatusCode.UNAVAILABLE, "peer down")
    network.on("lease", "RegisterProject", unavailable)
    assert register(client, as_role, "k1").status_code == 503
    network.on("lease", "RegisterProject", lambda args: {"project_id": "p-1"})
    response = register(client, as_role, "k1")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_bugs_release_the_key(client, network, as_role):
    def bug(args):
        raise RuntimeError("defect")
    network.on("lease", "RegisterProject", bug)
    assert register(client, as_role, "k1").status_code == 500
    network.on("lease", "RegisterProject", lambda args: {})
    assert register(client, as_role, "k1").status_code == 201


def test_oversized_key_is_400(client, network, as_role):
    assert register(client, as_role, "k" * 256).status_code == 400
    assert network.calls == []


def test_concurrent_requests_with_one_key_write_once(app, network, as_role):
    """The second request arrives while the first is endorsing: 409, then the stored answer."""
    inside, release = threading.Event(), threading.Event()

    def slow(args):
        inside.set()
        assert release.wait(10)
        return {"project_id": "p-1"}
    network.on("lease", "RegisterProject", slow)

    results = {}

    def first():
        results["first"] = register(app.test_client(), as_role, "k1")

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(10)
    during = register(app.test_client(), as_role, "k1")
    release.set()
    thread.join(10)
    after = register(app.test_client(), as_role, "k1")

    assert during.status_code == 409
    assert during.get_json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert during.headers["Retry-After"] == "1"
    assert results["first"].status_code == 201
    assert after.get_data() == results["first"].get_data()
    assert len(network.submits()) == 1


def test_many_concurrent_requests_with_one_key_write_once(app, network, as_role):
    barrier = threading.Barrier(8)
    statuses = []

    def send():
        barrier.wait()
        statuses.append(register(app.test_client(), as_role, "k-race").status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(network.submits()) == 1
    assert set(statuses) <= {201, 409} and 201 in statuses
