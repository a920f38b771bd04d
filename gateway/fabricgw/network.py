"""A channel: its contracts, events and transaction lookups."""

from __future__ import annotations

import re
from typing import Optional

from fabric_protos.common import common_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import transaction_pb2

from . import errors
from .checkpointers import Checkpoint
from .client import USE_DEFAULT, GatewayClient
from .commit import Status, validation_code_name
from .contract import Contract
from .events import BlockEventsRequest, ChaincodeEventsRequest, CloseableIterator
from .identity import Identity
from .signing_identity import SigningIdentity

# qscc's wording when the ledger's transaction index lacks the id.
_NO_SUCH_TRANSACTION = re.compile(r"no such transaction ID", re.I)


class Network:
    def __init__(self, client: GatewayClient, signing_identity: SigningIdentity, channel_name: str,
                 tls_certificate_hash: Optional[bytes] = None):
        self._client = client
        self._signing_identity = signing_identity
        self.name = channel_name
        self._tls_certificate_hash = tls_certificate_hash

    def get_contract(self, chaincode_name: str, contract_name: Optional[str] = None) -> Contract:
        return Contract(self._client, self._signing_identity, self.name, chaincode_name, contract_name)

    def get_chaincode_events(self, chaincode_name: str, start_block: Optional[int] = None,
                             checkpoint: Optional[Checkpoint] = None,
                             timeout: Optional[float] = None) -> CloseableIterator:
        """Iterator of ChaincodeEvent from `start_block` (or a checkpoint, or the next commit)."""
        return self.new_chaincode_events_request(chaincode_name, start_block, checkpoint).get_events(timeout)

    def new_chaincode_events_request(self, chaincode_name: str, start_block: Optional[int] = None,
                                     checkpoint: Optional[Checkpoint] = None) -> ChaincodeEventsRequest:
        return ChaincodeEventsRequest.build(
            self._client, self._signing_identity, self.name, chaincode_name, start_block, checkpoint)

    def get_block_events(self, start_block: Optional[int] = None, checkpoint: Optional[Checkpoint] = None,
                         timeout: Optional[float] = None) -> CloseableIterator:
        """Iterator of full common.Block messages (peer Deliver)."""
        return self.new_block_events_request("block", start_block, checkpoint).get_events(timeout)

    def get_filtered_block_events(self, start_block: Optional[int] = None,
                                  checkpoint: Optional[Checkpoint] = None,
                                  timeout: Optional[float] = None) -> CloseableIterator:
        """Iterator of peer.FilteredBlock messages (peer DeliverFiltered): tx ids, codes, event names."""
        return self.new_block_events_request("filtered_block", start_block, checkpoint).get_events(timeout)

    def get_block_and_private_data_events(self, start_block: Optional[int] = None,
                                          checkpoint: Optional[Checkpoint] = None,
                                          timeout: Optional[float] = None) -> CloseableIterator:
        """Iterator of peer.BlockAndPrivateData messages (peer DeliverWithPrivateData)."""
        return self.new_block_events_request("block_and_private_data", start_block, checkpoint).get_events(timeout)

    def new_block_events_request(self, kind: str = "block", start_block: Optional[int] = None,
                                 checkpoint: Optional[Checkpoint] = None) -> BlockEventsRequest:
        return BlockEventsRequest.build(self._client, self._signing_identity, self.name, kind, start_block,
                                        checkpoint, self._tls_certificate_hash)

    def get_transaction_status(self, transaction_id: str, timeout=USE_DEFAULT) -> Status:
        """Validation code, block and creator of a committed transaction, from the ledger (qscc).

        Unlike Commit.get_status this never waits: an id not (yet) on the ledger raises NotFoundError.
        """
        qscc = self.get_contract("qscc")
        try:
            processed = transaction_pb2.ProcessedTransaction.FromString(
                qscc.evaluate("GetTransactionByID", [self.name, transaction_id], timeout=timeout))
            block = common_pb2.Block.FromString(
                qscc.evaluate("GetBlockByTxID", [self.name, transaction_id], timeout=timeout))
        except errors.GatewayError as err:
            texts = [err.message] + [d.message for d in err.details]
            if any(_NO_SUCH_TRANSACTION.search(t) for t in texts):
                raise errors.NotFoundError(transaction_id, err.message) from err
            raise
        return Status(transaction_id, validation_code_name(processed.validationCode), block.header.number,
                      _creator(processed.transactionEnvelope))


def _creator(envelope: common_pb2.Envelope) -> Identity:
    header = common_pb2.Payload.FromString(envelope.payload).header
    creator = identities_pb2.SerializedIdentity.FromString(
        common_pb2.SignatureHeader.FromString(header.signature_header).creator)
    return Identity(msp_id=creator.mspid, credentials=creator.id_bytes)
