"""Builds the signed-proposal request for one chaincode transaction invocation."""

from __future__ import annotations

from typing import Iterable, Mapping, Optional, Union

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from google.protobuf import timestamp_pb2

from .signing_identity import SigningIdentity
from .transaction_context import TransactionContext

Bytesish = Union[str, bytes]


def as_bytes(value: Bytesish) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def build_proposed_transaction(
    signing_identity: SigningIdentity,
    channel_name: str,
    chaincode_name: str,
    transaction_name: str,
    arguments: Iterable[Bytesish] = (),
    transient_data: Optional[Mapping[str, Bytesish]] = None,
    endorsing_organizations: Optional[Iterable[str]] = None,
) -> gateway_pb2.ProposedTransaction:
    context = TransactionContext(signing_identity.creator())
    chaincode_id = chaincode_pb2.ChaincodeID(name=chaincode_name)

    timestamp = timestamp_pb2.Timestamp()
    timestamp.GetCurrentTime()  # peers reject proposals whose time is too far from theirs
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        tx_id=context.transaction_id,
        timestamp=timestamp,
        channel_id=channel_name,
        extension=proposal_pb2.ChaincodeHeaderExtension(chaincode_id=chaincode_id).SerializeToString(),
        epoch=0,
    )
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=context.signature_header.SerializeToString(),
    )

    spec = chaincode_pb2.ChaincodeSpec(
        # The type is informational for invocation; Fabric dispatches on the installed definition.
        type=chaincode_pb2.ChaincodeSpec.NODE,
        chaincode_id=chaincode_id,
        input=chaincode_pb2.ChaincodeInput(args=[as_bytes(a) for a in (transaction_name, *arguments)]),
    )
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=chaincode_pb2.ChaincodeInvocationSpec(chaincode_spec=spec).SerializeToString(),
        TransientMap={k: as_bytes(v) for k, v in (transient_data or {}).items()},
    )
    proposal = proposal_pb2.Proposal(header=header.SerializeToString(), payload=payload.SerializeToString())

    return gateway_pb2.ProposedTransaction(
        transaction_id=context.transaction_id,
        proposal=proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString()),
        endorsing_organizations=list(endorsing_organizations or []),
    )
