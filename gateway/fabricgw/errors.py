"""Typed errors carrying what Fabric reports: gRPC status, per-peer details, validation codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

import grpc
from fabric_protos.gateway import gateway_pb2

from ._rpc_status import Status as _RpcStatus

_STATUS_DETAILS_KEY = "grpc-status-details-bin"

# Chaincode convention: messages start with an upper-case code and a colon, e.g. "FORBIDDEN: ...".
# The gateway wraps them ("chaincode response 500, FORBIDDEN: ..."), so the code may follow a prefix.
_CHAINCODE_CODE = re.compile(r"(?:^|chaincode response \d+, )([A-Z][A-Z0-9_]*): ?(.*)\Z", re.S)


@dataclass(frozen=True)
class ErrorDetail:
    """One peer's or orderer's part of a failure, from the gateway's ErrorDetail."""

    address: str
    msp_id: str
    message: str


class GatewayError(Exception):
    """A Fabric Gateway gRPC call failed."""

    def __init__(self, code: grpc.StatusCode, message: str, details: Optional[List[ErrorDetail]] = None,
                 transaction_id: Optional[str] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details or [])
        self.transaction_id = transaction_id

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}"
        for d in self.details:
            text += f"\n  {d.address} ({d.msp_id}): {d.message}"
        return text


class EndorseError(GatewayError):
    """Endorsement failed; `details` says which peers refused and why."""


class SubmitError(GatewayError):
    """The endorsed transaction could not be sent to the ordering service."""


class CommitStatusError(GatewayError):
    """The commit status of a submitted transaction could not be obtained."""


class CommitError(Exception):
    """The transaction was ordered but committed as invalid; `code` is the validation code name."""

    def __init__(self, transaction_id: str, code: str, block_number: int):
        super().__init__(f"transaction {transaction_id} failed to commit with status {code} in block {block_number}")
        self.transaction_id = transaction_id
        self.code = code
        self.block_number = block_number


class NotFoundError(Exception):
    """The ledger holds no transaction with this id."""

    def __init__(self, transaction_id: str, message: str = ""):
        super().__init__(message or f"transaction {transaction_id} not found")
        self.transaction_id = transaction_id


def from_rpc_error(err: grpc.RpcError, error_class=GatewayError, transaction_id: Optional[str] = None) -> GatewayError:
    """Convert a grpc.RpcError (a grpc.Call) into `error_class`, unpacking google.rpc.Status details."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    message = err.details() if hasattr(err, "details") else str(err)
    return error_class(code or grpc.StatusCode.UNKNOWN, message or "", _error_details(err), transaction_id)


def _error_details(err: grpc.RpcError) -> List[ErrorDetail]:
    trailers = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    result = []
    for key, value in trailers or ():
        if key != _STATUS_DETAILS_KEY:
            continue
        for any_detail in _RpcStatus.FromString(value).details:
            if any_detail.Is(gateway_pb2.ErrorDetail.DESCRIPTOR):
                detail = gateway_pb2.ErrorDetail()
                any_detail.Unpack(detail)
                result.append(ErrorDetail(detail.address, detail.msp_id, detail.message))
    return result


def chaincode_error_code(err: Exception) -> Tuple[Optional[str], str]:
    """Extract the chaincode's `CODE: message` from an error's details, else from its message.

    Returns (code, message); code is None when no peer message follows the convention, and the
    message is then the most specific text available.
    """
    details = getattr(err, "details", None) or []
    candidates = [d.message for d in details] + [getattr(err, "message", str(err))]
    for text in candidates:
        match = _CHAINCODE_CODE.search(text.strip())
        if match:
            return match.group(1), match.group(2)
    return None, candidates[0]
