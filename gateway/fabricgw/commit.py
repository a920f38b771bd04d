"""Commit status of a submitted transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import transaction_pb2

from .client import USE_DEFAULT, GatewayClient
from .identity import Identity
from .signing_identity import SigningIdentity


@dataclass(frozen=True)
class Status:
    transaction_id: str
    code: str  # TxValidationCode name, e.g. "VALID", "MVCC_READ_CONFLICT"
    block_number: int
    # Who signed the transaction: known when the status is read from the ledger.
    creator: Optional[Identity] = None

    @property
    def successful(self) -> bool:
        return self.code == "VALID"


def validation_code_name(code: int) -> str:
    try:
        return transaction_pb2.TxValidationCode.Name(code)
    except ValueError:
        return str(code)


def new_commit_status_request(signing_identity: SigningIdentity, channel_name: str,
                              transaction_id: str) -> gateway_pb2.SignedCommitStatusRequest:
    request = gateway_pb2.CommitStatusRequest(
        transaction_id=transaction_id, channel_id=channel_name, identity=signing_identity.creator())
    return gateway_pb2.SignedCommitStatusRequest(request=request.SerializeToString())


class Commit:
    def __init__(self, client: GatewayClient, signing_identity: SigningIdentity, transaction_id: str,
                 signed_request: gateway_pb2.SignedCommitStatusRequest):
        self._client = client
        self._signing_identity = signing_identity
        self.transaction_id = transaction_id
        self._signed_request = signed_request

    def bytes(self) -> bytes:
        """Serialized SignedCommitStatusRequest, for signing elsewhere and Gateway.new_signed_commit."""
        return self._signed_request.SerializeToString()

    def digest(self) -> bytes:
        return self._signing_identity.hash(self._signed_request.request)

    def set_signature(self, signature: bytes) -> None:
        self._signed_request.signature = signature

    def get_status(self, timeout=USE_DEFAULT) -> Status:
        """Wait until the transaction is committed and return its validation code and block."""
        if not self._signed_request.signature:
            self.set_signature(self._signing_identity.sign(self.digest()))
        response = self._client.commit_status(self._signed_request, self.transaction_id, timeout)
        return Status(self.transaction_id, validation_code_name(response.result), response.block_number)


class SubmittedTransaction(Commit):
    """A Commit that also carries the transaction result from endorsement."""

    def __init__(self, client, signing_identity, transaction_id, signed_request, result: bytes = b""):
        super().__init__(client, signing_identity, transaction_id, signed_request)
        self.result = result
