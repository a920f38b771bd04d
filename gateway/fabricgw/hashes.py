"""Hash functions turning a message into the digest a signer signs.

Fabric's MSP (SignatureHashFamily SHA2, the default) verifies every ECDSA signature over a
SHA-256 digest, whatever the curve (fabric msp/identities.go getHashOpt), so `sha256` is the
default even for P-384 keys; the others are for networks or external verifiers that expect them.
"""

import hashlib
from typing import Callable

Hash = Callable[[bytes], bytes]


def sha256(message: bytes) -> bytes:
    return hashlib.sha256(message).digest()


def sha384(message: bytes) -> bytes:
    return hashlib.sha384(message).digest()


def sha3_256(message: bytes) -> bytes:
    return hashlib.sha3_256(message).digest()


def sha3_384(message: bytes) -> bytes:
    return hashlib.sha3_384(message).digest()
