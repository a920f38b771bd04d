"""Writes answer after commit; MVCC conflicts are endorsed and submitted again, boundedly."""


def conflicting(network, times, code="MVCC_READ_CONFLICT"):
    """The next ``times`` transactions commit as ``code`` (in a block, as on Fabric: the
    endorsement succeeds); later ones are valid."""
    network.validation = [code] * times
    network.on("lease", "ActivateLease", lambda args: {"lease_id": args[0], "status": "active"})


def test_conflicts_are_retried_to_success(app, client, network, as_role):
    conflicting(network, 2)
    response = client.post("/api/v1/leases/l-1/activate", headers=as_role("writer"))
    assert response.status_code == 200
    assert response.get_json()["result"] == {"lease_id": "l-1", "status": "active"}
    assert len(network.submits("ActivateLease")) == 3
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "carbonlease_mvcc_retries_total 2.0" in metrics


def test_phantom_reads_are_retried_too(client, network, as_role):
    conflicting(network, 1, "PHANTOM_READ_CONFLICT")
    assert client.post("/api/v1/leases/l-1/activate",
                       headers=as_role("writer")).status_code == 200


def test_retries_are_bounded(client, network, as_role):
    conflicting(network, 100)
    response = client.post("/api/v1/leases/l-1/activate", headers=as_role("writer"))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "MVCC_READ_CONFLICT"
    assert error["details"]["validation_code"] == "MVCC_READ_CONFLICT"
    assert len(network.submits()) == 4  # mvcc_retries=3 in the test config


def test_other_validation_failures_are_not_retried(client, network, as_role):
    conflicting(network, 1, "ENDORSEMENT_POLICY_FAILURE")
    response = client.post("/api/v1/leases/l-1/activate", headers=as_role("writer"))
    assert response.status_code == 409
    assert len(network.submits()) == 1


def test_chaincode_refusals_are_not_retried(client, network, as_role):
    from .fakes import chaincode_error

    def refuse(args):
        raise chaincode_error("INVALID_STATE", "lease l-1 is active")
    network.on("lease", "ActivateLease", refuse)
    assert client.post("/api/v1/leases/l-1/activate",
                       headers=as_role("writer")).status_code == 409
    assert len(network.submits()) == 1


def test_connection_is_opened_once(tmp_path):
    from gateway.api import create_app
    from gateway.api.config import Config
    from tests.database import upgraded

    from .conftest import SETTINGS
    from .fakes import FakeNetwork

    opened = []

    def connect(settings):
        opened.append(settings)
        return FakeNetwork()

    app = create_app(Config(fabric=SETTINGS, database_url=upgraded(f"sqlite:///{tmp_path}/g.db")),
                     connect=connect)
    key = app.extensions["carbonlease"].credentials.create("x", "reader").key
    client = app.test_client()
    assert opened == []  # lazily: not at import or fork time
    for _ in range(3):
        client.get("/api/v1/projects", headers={"X-API-Key": key})
    assert opened == [SETTINGS]
