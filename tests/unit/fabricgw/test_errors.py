"""Error mapping from a fake gRPC error carrying google.rpc.Status details."""

import grpc
import pytest
from fabric_protos.gateway import gateway_pb2

from gateway.fabricgw import errors
from gateway.fabricgw._rpc_status import Status as RpcStatus


class FakeRpcError(grpc.RpcError, grpc.Call):
    def __init__(self, code, message, trailers=()):
        self._code, self._message, self._trailers = code, message, tuple(trailers)

    def code(self):
        return self._code

    def details(self):
        return self._message

    def trailing_metadata(self):
        return self._trailers

    def initial_metadata(self): return ()
    def is_active(self): return False
    def time_remaining(self): return None
    def cancel(self): return False
    def add_callback(self, callback): return False


def status_details(*details, other_type_url=None):
    status = RpcStatus(code=10, message="m")
    for address, msp_id, message in details:
        status.details.add().Pack(gateway_pb2.ErrorDetail(address=address, msp_id=msp_id, message=message))
    if other_type_url:
        status.details.add(type_url=other_type_url, value=b"")
    return ("grpc-status-details-bin", status.SerializeToString())


def test_maps_code_message_and_error_details():
    rpc_error = FakeRpcError(grpc.StatusCode.ABORTED, "failed to endorse transaction", [
        ("content-type", "application/grpc"),
        status_details(("peer0.lessor:7051", "LessorMSP", "chaincode response 500, NOT_FOUND: project p9"),
                       other_type_url="type.googleapis.com/other.Thing"),
    ])
    err = errors.from_rpc_error(rpc_error, errors.EndorseError, "tx1")
    assert isinstance(err, errors.EndorseError) and isinstance(err, errors.GatewayError)
    assert (err.code, err.message, err.transaction_id) == (grpc.StatusCode.ABORTED, "failed to endorse transaction", "tx1")
    assert err.details == [errors.ErrorDetail("peer0.lessor:7051", "LessorMSP",
                                              "chaincode response 500, NOT_FOUND: project p9")]
    assert errors.chaincode_error_code(err) == ("NOT_FOUND", "project p9")


def test_no_details_trailer_gives_empty_details():
    err = errors.from_rpc_error(FakeRpcError(grpc.StatusCode.UNAVAILABLE, "connection refused"))
    assert (err.code, err.details) == (grpc.StatusCode.UNAVAILABLE, [])
    assert errors.chaincode_error_code(err) == (None, "connection refused")


@pytest.mark.parametrize("message, expected", [
    ("evaluate call to endorser returned error: chaincode response 500, FORBIDDEN: only RegulatorMSP",
     ("FORBIDDEN", "only RegulatorMSP")),
    ("INVALID_ARGUMENT: year must be an integer", ("INVALID_ARGUMENT", "year must be an integer")),
    ("chaincode response 500, something went wrong", (None, "chaincode response 500, something went wrong")),
    ("failed to endorse: Error: lowercase", (None, "failed to endorse: Error: lowercase")),
])
def test_chaincode_error_code_from_message(message, expected):
    err = errors.GatewayError(grpc.StatusCode.UNKNOWN, message)
    assert errors.chaincode_error_code(err) == expected


def test_chaincode_code_from_details_wins_over_generic_message():
    err = errors.EndorseError(grpc.StatusCode.ABORTED, "failed to endorse transaction, see attached details", [
        errors.ErrorDetail("a", "LessorMSP", "chaincode response 500, CONFLICT: lease l1 exists")])
    assert errors.chaincode_error_code(err) == ("CONFLICT", "lease l1 exists")


def test_commit_error_message():
    err = errors.CommitError("tx1", "MVCC_READ_CONFLICT", 12)
    assert (err.code, err.block_number) == ("MVCC_READ_CONFLICT", 12)
    assert "MVCC_READ_CONFLICT" in str(err)
