"""Chaincode events (Gateway ChaincodeEvents) and block events (peer Deliver), as closeable iterators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from google.protobuf import timestamp_pb2

from . import errors
from .checkpointers import Checkpoint
from .client import GatewayClient, Stream
from .signing_identity import SigningIdentity

# Deliver streams run until cancelled: stop at the largest block number a peer accepts.
_MAX_BLOCK = 2**63 - 1

_DELIVER_STATUS_CODES = {
    common_pb2.BAD_REQUEST: grpc.StatusCode.INVALID_ARGUMENT,
    common_pb2.FORBIDDEN: grpc.StatusCode.PERMISSION_DENIED,
    common_pb2.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    common_pb2.SERVICE_UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
}


@dataclass(frozen=True)
class ChaincodeEvent:
    block_number: int
    transaction_id: str
    chaincode_name: str
    event_name: str
    payload: bytes


def start_position(start_block: Optional[int], checkpoint: Optional[Checkpoint]) -> ab_pb2.SeekPosition:
    """A checkpoint's block wins over start_block; with neither, start at the next block committed."""
    block = checkpoint.block_number if checkpoint is not None and checkpoint.block_number is not None \
        else start_block
    if block is None:
        return ab_pb2.SeekPosition(next_commit=ab_pb2.SeekNextCommit())
    return ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=block))


class CloseableIterator:
    """Iterator over a server stream; close() (or leaving a `with` block) cancels the stream."""

    def __init__(self, stream: Stream, convert: Callable):
        self._stream = stream
        self._convert = convert
        self._pending: Iterator = iter(())

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            for item in self._pending:
                return item
            self._pending = iter(self._convert(next(self._stream)))

    def take_buffered(self) -> list:
        """The items of the last response received that ``next`` has not returned yet (for
        chaincode events: the rest of the block), handed over without waiting for the server."""
        items = list(self._pending)
        self._pending = iter(())
        return items

    def close(self) -> None:
        self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _SignedRequest:
    """Common shape of requests signed over an inner serialized message."""

    def __init__(self, client: GatewayClient, signing_identity: SigningIdentity):
        self._client = client
        self._signing_identity = signing_identity

    def digest(self) -> bytes:
        return self._signing_identity.hash(self._signed_bytes())

    def _sign(self) -> None:
        if not self._signature():
            self.set_signature(self._signing_identity.sign(self.digest()))


class ChaincodeEventsRequest(_SignedRequest):
    def __init__(self, client, signing_identity, signed_request: gateway_pb2.SignedChaincodeEventsRequest):
        super().__init__(client, signing_identity)
        self._signed_request = signed_request

    @classmethod
    def build(cls, client, signing_identity, channel_name: str, chaincode_name: str,
              start_block: Optional[int], checkpoint: Optional[Checkpoint]) -> "ChaincodeEventsRequest":
        request = gateway_pb2.ChaincodeEventsRequest(
            channel_id=channel_name,
            chaincode_id=chaincode_name,
            identity=signing_identity.creator(),
            start_position=start_position(start_block, checkpoint),
            after_transaction_id=(checkpoint.transaction_id if checkpoint is not None else None) or "",
        )
        signed = gateway_pb2.SignedChaincodeEventsRequest(request=request.SerializeToString())
        return cls(client, signing_identity, signed)

    def bytes(self) -> bytes:
        return self._signed_request.SerializeToString()

    def set_signature(self, signature: bytes) -> None:
        self._signed_request.signature = signature

    def get_events(self, timeout: Optional[float] = None) -> CloseableIterator:
        self._sign()
        return CloseableIterator(self._client.chaincode_events(self._signed_request, timeout), _chaincode_events)

    def _signed_bytes(self) -> bytes:
        return self._signed_request.request

    def _signature(self) -> bytes:
        return self._signed_request.signature


def _chaincode_events(response: gateway_pb2.ChaincodeEventsResponse):
    return [ChaincodeEvent(response.block_number, e.tx_id, e.chaincode_id, e.event_name, e.payload)
            for e in response.events]


class BlockEventsRequest(_SignedRequest):
    """A signed SeekInfo envelope for the peer's Deliver service; `kind` picks the variant."""

    KINDS = ("block", "filtered_block", "block_and_private_data")

    def __init__(self, client, signing_identity, envelope: common_pb2.Envelope, kind: str):
        if kind not in self.KINDS:
            raise ValueError(f"unknown block events kind: {kind}")
        super().__init__(client, signing_identity)
        self._envelope = envelope
        self.kind = kind

    @classmethod
    def build(cls, client, signing_identity, channel_name: str, kind: str, start_block: Optional[int],
              checkpoint: Optional[Checkpoint], tls_certificate_hash: Optional[bytes]) -> "BlockEventsRequest":
        timestamp = timestamp_pb2.Timestamp()
        timestamp.GetCurrentTime()
        channel_header = common_pb2.ChannelHeader(
            type=common_pb2.DELIVER_SEEK_INFO, channel_id=channel_name, timestamp=timestamp, epoch=0,
            # With mutual TLS the peer binds the request to the client's TLS certificate.
            tls_cert_hash=tls_certificate_hash or b"",
        )
        seek_info = ab_pb2.SeekInfo(
            start=start_position(start_block, checkpoint),
            stop=ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=_MAX_BLOCK)),
        )
        payload = common_pb2.Payload(
            header=common_pb2.Header(
                channel_header=channel_header.SerializeToString(),
                signature_header=common_pb2.SignatureHeader(creator=signing_identity.creator()).SerializeToString(),
            ),
            data=seek_info.SerializeToString(),
        )
        return cls(client, signing_identity, common_pb2.Envelope(payload=payload.SerializeToString()), kind)

    def bytes(self) -> bytes:
        return self._envelope.SerializeToString()

    def set_signature(self, signature: bytes) -> None:
        self._envelope.signature = signature

    def get_events(self, timeout: Optional[float] = None) -> CloseableIterator:
        """Iterator of common.Block, peer.FilteredBlock or peer.BlockAndPrivateData by kind."""
        self._sign()
        open_stream = getattr(self._client, f"{self.kind}_events")
        return CloseableIterator(open_stream(self._envelope, timeout), self._blocks)

    def _blocks(self, response):
        which = response.WhichOneof("Type")
        if which == "status":
            raise errors.GatewayError(
                _DELIVER_STATUS_CODES.get(response.status, grpc.StatusCode.UNKNOWN),
                f"deliver ended with status {common_pb2.Status.Name(response.status)}")
        return [getattr(response, which)]

    def _signed_bytes(self) -> bytes:
        return self._envelope.payload

    def _signature(self) -> bytes:
        return self._envelope.signature
