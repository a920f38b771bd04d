"""One JSON error shape everywhere; Fabric's failures mapped to the documented statuses."""

import grpc
import pytest

from gateway.fabricgw import errors
from tests.database import upgraded

from .fakes import LOST, chaincode_error
from .samples import PROJECT


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_unknown_route_is_404(client):
    assert_error_shape(client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    assert_error_shape(client.get("/elsewhere"), 404, "NOT_FOUND")


def test_wrong_method_is_405(client, as_role):
    response = client.delete("/api/v1/projects", headers=as_role("admin"))
    assert_error_shape(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_invalid_json_is_400(client, network, as_role):
    response = client.post("/api/v1/projects", data="{not json",
                           headers=as_role("writer", **{"Content-Type": "application/json"}))
    assert_error_shape(response, 400, "BAD_REQUEST")
    assert network.calls == []


def test_failing_fields_are_named(client, network, as_role):
    body = {**PROJECT, "category": "coal", "expected_annual_reduction_kg": 1.5, "extra": 1}
    del body["name"]
    error = assert_error_shape(client.post("/api/v1/projects", json=body,
                                           headers=as_role("writer")), 422, "INVALID_ARGUMENT")
    assert set(error["details"]["json"]) == {"category", "expected_annual_reduction_kg",
                                             "extra", "name"}
    assert network.calls == []


def test_too_large_body_is_413(client, as_role):
    response = client.post("/api/v1/projects", data="x" * (1024 * 1024 + 1),
                           headers=as_role("writer", **{"Content-Type": "application/json"}))
    assert_error_shape(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("code,status", [
    ("INVALID_ARGUMENT", 422), ("NOT_FOUND", 404), ("ALREADY_EXISTS", 409),
    ("FORBIDDEN", 403), ("INVALID_STATE", 409), ("ROLES_NOT_SET", 503),
])
def test_chaincode_codes(client, network, as_role, code, status):
    def refuse(args):
        raise chaincode_error(code, "caller LessorMSP may not")
    network.on("lease", "RegisterProject", refuse)
    network.on("lease", "GetProject", refuse)
    write = client.post("/api/v1/projects", json=PROJECT, headers=as_role("writer"))
    error = assert_error_shape(write, status, code)
    assert error["message"] == "caller LessorMSP may not"
    assert error["details"]["peers"][0]["msp_id"] == "LessorMSP"
    assert_error_shape(client.get("/api/v1/projects/p-1", headers=as_role("reader")),
                       status, code)


@pytest.mark.parametrize("failure,status,code", [
    (errors.EndorseError(grpc.StatusCode.UNAVAILABLE, "no peers"), 503, "PEER_UNAVAILABLE"),
    (errors.EndorseError(grpc.StatusCode.DEADLINE_EXCEEDED, "slow"), 503, "PEER_UNAVAILABLE"),
    (errors.EndorseError(grpc.StatusCode.ABORTED, "ProposalResponsePayloads do not match"),
     409, "ENDORSEMENT_FAILED"),
    (errors.EndorseError(grpc.StatusCode.ABORTED, "failed to endorse transaction", [
        errors.ErrorDetail("localhost:11051", "RegulatorMSP",
                           "error in simulation: failed to execute transaction ab: could not "
                           "launch chaincode lease_1:cd: connection refused")]),
     503, "CHAINCODE_UNAVAILABLE"),
    (errors.EndorseError(grpc.StatusCode.FAILED_PRECONDITION,
                         "no combination of peers can be derived which satisfy the endorsement "
                         "policy: no peer combination can satisfy the endorsement policy"),
     503, "ENDORSERS_UNAVAILABLE"),
    (errors.EndorseError(grpc.StatusCode.ABORTED, "failed to collect enough transaction "
                         "endorsements, see attached details for more info", [
                             errors.ErrorDetail("localhost:9051", "GridMSP",
                                                "rpc error: code = Unavailable desc = "
                                                "connection refused")]),
     503, "ENDORSERS_UNAVAILABLE"),
])
def test_endorsement_failures(client, network, as_role, failure, status, code):
    def fail(args):
        raise failure
    network.on("lease", "ActivateLease", fail)
    assert_error_shape(client.post("/api/v1/leases/l-1/activate", headers=as_role("writer")),
                       status, code)
    assert network.ordered == []


@pytest.mark.parametrize("refusal", [grpc.StatusCode.FAILED_PRECONDITION,
                                     grpc.StatusCode.ABORTED])
def test_ordering_refusal_is_409(client, network, as_role, refusal):
    network.broadcasts = [errors.SubmitError(refusal, "bad")]
    error = assert_error_shape(client.post("/api/v1/leases/l-1/activate",
                                           headers=as_role("writer")), 409, "SUBMIT_FAILED")
    assert len(error["details"]["transaction_id"]) == 64


@pytest.mark.parametrize("unconfirmed", [grpc.StatusCode.UNAVAILABLE,
                                         grpc.StatusCode.DEADLINE_EXCEEDED])
def test_unconfirmed_ordering_is_decided_by_the_commit(client, network, as_role, unconfirmed):
    """The orderer may have taken it: never refused on the spot, nor written twice."""
    network.broadcasts = [errors.SubmitError(unconfirmed, "no orderer answered")]
    response = client.post("/api/v1/leases/l-1/activate", headers=as_role("writer"))
    assert response.status_code == 200
    assert network.ordered == [response.get_json()["transaction_id"]]


def test_commit_never_seen_is_504(client, network, as_role):
    network.broadcasts = [LOST] * 1000
    error = assert_error_shape(client.post("/api/v1/leases/l-1/activate",
                                           headers=as_role("writer")), 504,
                               "COMMIT_STATUS_UNKNOWN")
    assert error["details"]["transaction_id"] == network.ordered[0]


def test_committed_invalid_is_409(client, network, as_role):
    network.validation = ["ENDORSEMENT_POLICY_FAILURE"]
    error = assert_error_shape(client.post("/api/v1/leases/l-1/activate",
                                           headers=as_role("writer")), 409,
                               "TRANSACTION_INVALID")
    [tx_id] = network.ordered
    assert error["details"] == {"transaction_id": tx_id,
                                "validation_code": "ENDORSEMENT_POLICY_FAILURE",
                                "block_number": network.statuses[tx_id][1]}


def test_evaluate_failure_without_code(client, network, as_role):
    def fail(args):
        raise errors.GatewayError(grpc.StatusCode.UNKNOWN, "evaluate call to endorser failed")
    network.on("lease", "GetLease", fail)
    assert_error_shape(client.get("/api/v1/leases/l-1", headers=as_role("reader")), 409,
                       "EVALUATION_FAILED")


def test_non_json_chaincode_answer_is_502(client, network, as_role):
    network.on("lease", "GetLease", lambda args: b"<html>")
    assert_error_shape(client.get("/api/v1/leases/l-1", headers=as_role("reader")), 502,
                       "BAD_CHAINCODE_RESPONSE")


def test_a_bug_is_500_in_the_shape(client, network, as_role):
    def bug(args):
        raise KeyError("oops")
    network.on("lease", "GetLease", bug)
    error = assert_error_shape(client.get("/api/v1/leases/l-1", headers=as_role("reader")),
                               500, "INTERNAL")
    assert "oops" not in error["message"]


def test_unreadable_fabric_material_is_503(tmp_path, keys):
    from gateway.api import create_app
    from gateway.api.config import Config
    from .conftest import SETTINGS

    app = create_app(Config(fabric=SETTINGS, database_url=upgraded(f"sqlite:///{tmp_path}/g.db")))
    key = app.extensions["carbonlease"].credentials.create("x", "reader").key
    response = app.test_client().get("/api/v1/projects", headers={"X-API-Key": key})
    assert_error_shape(response, 503, "FABRIC_NOT_CONFIGURED")


def test_no_fabric_configured_is_503(tmp_path):
    from gateway.api import create_app
    from gateway.api.config import Config

    app = create_app(Config(fabric=None, database_url=upgraded(f"sqlite:///{tmp_path}/g.db")))
    key = app.extensions["carbonlease"].credentials.create("x", "reader").key
    response = app.test_client().get("/api/v1/projects", headers={"X-API-Key": key})
    assert_error_shape(response, 503, "FABRIC_NOT_CONFIGURED")
    assert_error_shape(app.test_client().get("/ready"), 503, "NOT_READY")
