"""A transaction proposal: evaluate it, or endorse it into a Transaction."""

from __future__ import annotations

from fabric_protos.gateway import gateway_pb2

from .client import USE_DEFAULT, GatewayClient
from .signing_identity import SigningIdentity
from .transaction import Transaction


class Proposal:
    def __init__(self, client: GatewayClient, signing_identity: SigningIdentity, channel_name: str,
                 proposed_transaction: gateway_pb2.ProposedTransaction):
        self._client = client
        self._signing_identity = signing_identity
        self._channel_name = channel_name
        self._proposed = proposed_transaction

    @property
    def transaction_id(self) -> str:
        return self._proposed.transaction_id

    def bytes(self) -> bytes:
        """Serialized ProposedTransaction, for signing elsewhere and Gateway.new_signed_proposal."""
        return self._proposed.SerializeToString()

    def digest(self) -> bytes:
        return self._signing_identity.hash(self._proposed.proposal.proposal_bytes)

    def set_signature(self, signature: bytes) -> None:
        self._proposed.proposal.signature = signature

    def evaluate(self, timeout=USE_DEFAULT) -> bytes:
        """Run the transaction on a peer without updating the ledger; returns its result."""
        self._sign()
        request = gateway_pb2.EvaluateRequest(
            transaction_id=self.transaction_id,
            channel_id=self._channel_name,
            proposed_transaction=self._proposed.proposal,
            target_organizations=self._proposed.endorsing_organizations,
        )
        return self._client.evaluate(request, timeout).result.payload

    def endorse(self, timeout=USE_DEFAULT) -> Transaction:
        """Collect enough endorsements to satisfy the policy; raises EndorseError otherwise."""
        self._sign()
        request = gateway_pb2.EndorseRequest(
            transaction_id=self.transaction_id,
            channel_id=self._channel_name,
            proposed_transaction=self._proposed.proposal,
            endorsing_organizations=self._proposed.endorsing_organizations,
        )
        response = self._client.endorse(request, timeout)
        prepared = gateway_pb2.PreparedTransaction(
            transaction_id=self.transaction_id, envelope=response.prepared_transaction)
        return Transaction(self._client, self._signing_identity, prepared)

    def _sign(self) -> None:
        if not self._proposed.proposal.signature:
            self.set_signature(self._signing_identity.sign(self.digest()))
