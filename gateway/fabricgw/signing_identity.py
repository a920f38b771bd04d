"""An identity together with the hash and signer used to sign on its behalf."""

from __future__ import annotations

from typing import Optional

from . import hashes
from .identity import Identity
from .signers import Signer


def _no_signer(digest: bytes) -> bytes:
    raise ValueError("no signer supplied: sign offline and use the Gateway.new_signed_* methods")


class SigningIdentity:
    def __init__(self, identity: Identity, signer: Optional[Signer] = None, hash: hashes.Hash = hashes.sha256):
        self.identity = identity
        self._signer = signer or _no_signer
        self._hash = hash
        # Serialised once: every request carries it, and the identity is immutable.
        self._creator = identity.serialize()

    def creator(self) -> bytes:
        return self._creator

    def hash(self, message: bytes) -> bytes:
        return self._hash(message)

    def sign(self, digest: bytes) -> bytes:
        return self._signer(digest)
