"""gRPC calls to the peer's Gateway and Deliver services, with per-stage default deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import events_pb2_grpc

from . import errors


@dataclass(frozen=True)
class Timeouts:
    """Default deadline of each stage in seconds; None means no deadline."""

    evaluate: Optional[float] = 5
    endorse: Optional[float] = 15
    submit: Optional[float] = 5
    commit_status: Optional[float] = 60


# Sentinel for "use the stage's default deadline" (None already means "no deadline").
USE_DEFAULT = object()


class GatewayClient:
    """Thin wrapper over the generated stubs; stubs and channels are safe to share between threads."""

    def __init__(self, channel: grpc.Channel, timeouts: Timeouts):
        self._gateway = gateway_pb2_grpc.GatewayStub(channel)
        self._deliver = events_pb2_grpc.DeliverStub(channel)
        self.timeouts = timeouts

    def evaluate(self, request: gateway_pb2.EvaluateRequest, timeout=USE_DEFAULT) -> gateway_pb2.EvaluateResponse:
        return self._unary(self._gateway.Evaluate, request, self._timeout(timeout, self.timeouts.evaluate),
                           errors.GatewayError, request.transaction_id)

    def endorse(self, request: gateway_pb2.EndorseRequest, timeout=USE_DEFAULT) -> gateway_pb2.EndorseResponse:
        return self._unary(self._gateway.Endorse, request, self._timeout(timeout, self.timeouts.endorse),
                           errors.EndorseError, request.transaction_id)

    def submit(self, request: gateway_pb2.SubmitRequest, timeout=USE_DEFAULT) -> gateway_pb2.SubmitResponse:
        return self._unary(self._gateway.Submit, request, self._timeout(timeout, self.timeouts.submit),
                           errors.SubmitError, request.transaction_id)

    def commit_status(self, request: gateway_pb2.SignedCommitStatusRequest, transaction_id: str,
                      timeout=USE_DEFAULT) -> gateway_pb2.CommitStatusResponse:
        return self._unary(self._gateway.CommitStatus, request,
                           self._timeout(timeout, self.timeouts.commit_status),
                           errors.CommitStatusError, transaction_id)

    def chaincode_events(self, request: gateway_pb2.SignedChaincodeEventsRequest,
                         timeout: Optional[float] = None) -> "Stream":
        return Stream(self._gateway.ChaincodeEvents(request, timeout=timeout))

    def block_events(self, envelope: common_pb2.Envelope, timeout: Optional[float] = None) -> "Stream":
        return Stream(self._deliver.Deliver(iter([envelope]), timeout=timeout))

    def filtered_block_events(self, envelope: common_pb2.Envelope, timeout: Optional[float] = None) -> "Stream":
        return Stream(self._deliver.DeliverFiltered(iter([envelope]), timeout=timeout))

    def block_and_private_data_events(self, envelope: common_pb2.Envelope,
                                      timeout: Optional[float] = None) -> "Stream":
        return Stream(self._deliver.DeliverWithPrivateData(iter([envelope]), timeout=timeout))

    @staticmethod
    def _timeout(override, default):
        return default if override is USE_DEFAULT else override

    @staticmethod
    def _unary(method, request, timeout, error_class, transaction_id):
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as err:
            raise errors.from_rpc_error(err, error_class, transaction_id) from err


class Stream:
    """A server stream of responses; iterating raises GatewayError on failure, close() cancels it.

    The Deliver request iterator ends after its one envelope: the peer keeps streaming after the
    client half-closes, until the seek stop position (never, here) or cancellation.
    """

    def __init__(self, call):
        self._call = call

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        try:
            return next(self._call)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.CANCELLED and self._call.cancelled():
                raise StopIteration from None
            raise errors.from_rpc_error(err) from err

    def close(self) -> None:
        self._call.cancel()
