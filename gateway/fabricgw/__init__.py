"""A thin Fabric Gateway client on the official generated protobuf bindings.

Shaped like the official Go/Node `fabric-gateway` clients: Gateway -> Network -> Contract, with
proposal -> endorse -> submit -> commit-status steps for callers that need them (offline signing).
"""

from . import checkpointers, errors, hashes, signers
from .client import Timeouts
from .commit import Commit, Status, SubmittedTransaction
from .contract import Contract, SubmitResult
from .events import BlockEventsRequest, ChaincodeEvent, ChaincodeEventsRequest
from .gateway import Gateway
from .identity import Identity
from .network import Network
from .proposal import Proposal
from .transaction import Transaction

__all__ = [
    "BlockEventsRequest", "ChaincodeEvent", "ChaincodeEventsRequest", "Commit", "Contract", "Gateway",
    "Identity", "Network", "Proposal", "Status", "SubmitResult", "SubmittedTransaction", "Timeouts",
    "Transaction", "checkpointers", "errors", "hashes", "signers",
]
