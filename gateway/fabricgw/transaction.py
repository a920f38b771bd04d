"""An endorsed transaction, ready to be signed and submitted to the ordering service."""

from __future__ import annotations

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2

from .client import USE_DEFAULT, GatewayClient
from .commit import SubmittedTransaction, new_commit_status_request
from .signing_identity import SigningIdentity


class Transaction:
    def __init__(self, client: GatewayClient, signing_identity: SigningIdentity,
                 prepared_transaction: gateway_pb2.PreparedTransaction):
        self._client = client
        self._signing_identity = signing_identity
        self._prepared = prepared_transaction
        self.channel_name, self.result = parse_envelope(prepared_transaction.envelope)

    @property
    def transaction_id(self) -> str:
        return self._prepared.transaction_id

    def bytes(self) -> bytes:
        """Serialized PreparedTransaction, for signing elsewhere and Gateway.new_signed_transaction."""
        return self._prepared.SerializeToString()

    def digest(self) -> bytes:
        return self._signing_identity.hash(self._prepared.envelope.payload)

    def set_signature(self, signature: bytes) -> None:
        self._prepared.envelope.signature = signature

    def sign(self) -> None:
        """Sign now unless signed already (submit() does it otherwise), so that ``bytes()``
        holds the very envelope that will be submitted, e.g. to store and submit again."""
        if not self._prepared.envelope.signature:
            self.set_signature(self._signing_identity.sign(self.digest()))

    def submit(self, timeout=USE_DEFAULT) -> SubmittedTransaction:
        """Send to the orderers; returns once accepted for ordering, not when committed.
        Submitting again sends the same signed envelope (same transaction id)."""
        self.sign()
        request = gateway_pb2.SubmitRequest(
            transaction_id=self.transaction_id,
            channel_id=self.channel_name,
            prepared_transaction=self._prepared.envelope,
        )
        self._client.submit(request, timeout)
        return self.commit()

    def commit(self) -> SubmittedTransaction:
        """The commit of this transaction, to wait for even when a submit() failed without
        saying whether an orderer had taken the transaction."""
        signed_request = new_commit_status_request(self._signing_identity, self.channel_name, self.transaction_id)
        return SubmittedTransaction(
            self._client, self._signing_identity, self.transaction_id, signed_request, self.result)


def parse_envelope(envelope: common_pb2.Envelope):
    """Channel name and chaincode result from an endorsed transaction envelope."""
    payload = common_pb2.Payload.FromString(envelope.payload)
    channel_name = common_pb2.ChannelHeader.FromString(payload.header.channel_header).channel_id
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    for action in transaction.actions:
        action_payload = transaction_pb2.ChaincodeActionPayload.FromString(action.payload)
        response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
            action_payload.action.proposal_response_payload)
        chaincode_action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
        return channel_name, chaincode_action.response.payload
    raise ValueError("endorsed transaction holds no action")
