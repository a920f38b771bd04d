"""Nonce, creator and the transaction id Fabric derives from them."""

from __future__ import annotations

import hashlib
import os

from fabric_protos.common import common_pb2

NONCE_LENGTH = 24


def transaction_id(nonce: bytes, creator: bytes) -> str:
    """Fabric's rule (protoutil.ComputeTxID): hex SHA-256 of nonce followed by creator."""
    return hashlib.sha256(nonce + creator).hexdigest()


class TransactionContext:
    def __init__(self, creator: bytes):
        self.nonce = os.urandom(NONCE_LENGTH)
        self.transaction_id = transaction_id(self.nonce, creator)
        self.signature_header = common_pb2.SignatureHeader(creator=creator, nonce=self.nonce)
