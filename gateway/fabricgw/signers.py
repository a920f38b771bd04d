"""Signers: callables turning a digest into a DER-encoded ECDSA signature.

Any callable `(digest: bytes) -> bytes` is a signer, so keys may live in an HSM or be used
offline; these helpers cover keys held in memory.
"""

from __future__ import annotations

import os
from typing import Callable, Union

from cryptography.hazmat.primitives import hashes as _hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed, decode_dss_signature, encode_dss_signature)

from .identity import _read_single

Signer = Callable[[bytes], bytes]

# Group orders; Fabric rejects signatures whose S is above half the order (malleability guard).
_CURVE_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
}

# cryptography needs a hash algorithm matching the digest length to sign a pre-computed digest.
_PREHASH_BY_LENGTH = {32: _hashes.SHA256(), 48: _hashes.SHA384()}


def new_private_key_signer(key: Union[bytes, ec.EllipticCurvePrivateKey]) -> Signer:
    """Signer for an ECDSA P-256 or P-384 private key (PEM bytes or a key object); low-S output."""
    if isinstance(key, (bytes, bytearray)):
        key = serialization.load_pem_private_key(bytes(key), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported private key type: {type(key).__name__}")
    order = _CURVE_ORDERS.get(key.curve.name)
    if order is None:
        raise ValueError(f"unsupported curve: {key.curve.name}")

    def sign(digest: bytes) -> bytes:
        algorithm = _PREHASH_BY_LENGTH.get(len(digest))
        if algorithm is None:
            raise ValueError(f"unsupported digest length: {len(digest)}")
        r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(Prehashed(algorithm))))
        return encode_dss_signature(r, _to_low_s(s, order))

    return sign


def from_msp_dir(msp_dir: str) -> Signer:
    """Signer for the private key in `<msp_dir>/keystore/*_sk` (exactly one expected)."""
    return new_private_key_signer(_read_single(os.path.join(msp_dir, "keystore"), "*_sk"))


def _to_low_s(s: int, order: int) -> int:
    return order - s if s > order // 2 else s
