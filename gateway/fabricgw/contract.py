"""A smart contract within a chaincode: evaluate and submit transactions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

from . import errors
from .client import USE_DEFAULT, GatewayClient
from .proposal import Proposal
from .proposal_builder import Bytesish, build_proposed_transaction
from .signing_identity import SigningIdentity


@dataclass(frozen=True)
class SubmitResult:
    result: bytes
    transaction_id: str
    block_number: int
    status: str  # validation code name; always "VALID", since anything else raises CommitError


class Contract:
    def __init__(self, client: GatewayClient, signing_identity: SigningIdentity, channel_name: str,
                 chaincode_name: str, contract_name: Optional[str] = None):
        self._client = client
        self._signing_identity = signing_identity
        self.channel_name = channel_name
        self.chaincode_name = chaincode_name
        self.contract_name = contract_name

    def evaluate_transaction(self, name: str, *args: Bytesish) -> bytes:
        return self.evaluate(name, arguments=args)

    def submit_transaction(self, name: str, *args: Bytesish) -> bytes:
        return self.submit(name, arguments=args).result

    def evaluate(self, name: str, arguments: Iterable[Bytesish] = (),
                 transient_data: Optional[Mapping[str, Bytesish]] = None,
                 endorsing_organizations: Optional[Iterable[str]] = None, timeout=USE_DEFAULT) -> bytes:
        """Run a transaction on one peer (of `endorsing_organizations`, if given) without ordering it."""
        return self.new_proposal(name, arguments, transient_data, endorsing_organizations).evaluate(timeout)

    def submit(self, name: str, arguments: Iterable[Bytesish] = (),
               transient_data: Optional[Mapping[str, Bytesish]] = None,
               endorsing_organizations: Optional[Iterable[str]] = None,
               endorse_timeout=USE_DEFAULT, submit_timeout=USE_DEFAULT, commit_status_timeout=USE_DEFAULT) -> SubmitResult:
        """Endorse, order and wait for commit; raises EndorseError, SubmitError, CommitStatusError or CommitError."""
        proposal = self.new_proposal(name, arguments, transient_data, endorsing_organizations)
        transaction = proposal.endorse(endorse_timeout)
        status = transaction.submit(submit_timeout).get_status(commit_status_timeout)
        if not status.successful:
            raise errors.CommitError(status.transaction_id, status.code, status.block_number)
        return SubmitResult(transaction.result, status.transaction_id, status.block_number, status.code)

    def new_proposal(self, name: str, arguments: Iterable[Bytesish] = (),
                     transient_data: Optional[Mapping[str, Bytesish]] = None,
                     endorsing_organizations: Optional[Iterable[str]] = None) -> Proposal:
        qualified = f"{self.contract_name}:{name}" if self.contract_name else name
        proposed = build_proposed_transaction(
            self._signing_identity, self.channel_name, self.chaincode_name, qualified,
            arguments, transient_data, endorsing_organizations)
        return Proposal(self._client, self._signing_identity, self.channel_name, proposed)
