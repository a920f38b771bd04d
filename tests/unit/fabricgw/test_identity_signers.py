import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fabric_protos.msp import identities_pb2

from gateway.fabricgw import Identity, signers

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P384_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973


def test_identity_from_msp_dir_serializes_as_fabric_creator(tmp_path, p256):
    _, key_pem, cert_pem = p256
    (tmp_path / "signcerts").mkdir()
    (tmp_path / "signcerts" / "cert.pem").write_bytes(cert_pem)
    identity = Identity.from_msp_dir(str(tmp_path), "LessorMSP")
    assert identity == Identity(msp_id="LessorMSP", credentials=cert_pem)
    creator = identities_pb2.SerializedIdentity.FromString(identity.serialize())
    assert (creator.mspid, creator.id_bytes) == ("LessorMSP", cert_pem)


def test_msp_dir_needs_exactly_one_file(tmp_path):
    (tmp_path / "signcerts").mkdir()
    with pytest.raises(ValueError, match="exactly one"):
        Identity.from_msp_dir(str(tmp_path), "LessorMSP")


def test_signer_from_msp_dir_keystore(tmp_path, p256):
    key, key_pem, _ = p256
    (tmp_path / "keystore").mkdir()
    (tmp_path / "keystore" / "abc_sk").write_bytes(key_pem)
    digest = hashlib.sha256(b"msg").digest()
    key.public_key().verify(signers.from_msp_dir(str(tmp_path))(digest), b"msg", ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("curve_fixture, order, algorithm, hashfn", [
    ("p256", P256_ORDER, hashes.SHA256(), hashlib.sha256),
    ("p384", P384_ORDER, hashes.SHA384(), hashlib.sha384),
    # Fabric's MSP hashes with SHA-256 whatever the curve, so P-384 must sign SHA-256 digests too.
    ("p384", P384_ORDER, hashes.SHA256(), hashlib.sha256),
])
def test_signatures_verify_and_are_low_s(request, curve_fixture, order, algorithm, hashfn):
    key, key_pem, _ = request.getfixturevalue(curve_fixture)
    sign = signers.new_private_key_signer(key_pem)
    for i in range(64):  # about half of raw ECDSA signatures are high-S; 64 draws all but guarantee one
        message = b"message %d" % i
        signature = sign(hashfn(message).digest())
        key.public_key().verify(signature, message, ec.ECDSA(algorithm))
        _, s = decode_dss_signature(signature)
        assert s <= order // 2


def test_signer_accepts_key_object(p256):
    key, _, _ = p256
    digest = hashlib.sha256(b"x").digest()
    key.public_key().verify(signers.new_private_key_signer(key)(digest), b"x", ec.ECDSA(hashes.SHA256()))


def test_unsupported_curve_rejected():
    with pytest.raises(ValueError, match="unsupported curve"):
        signers.new_private_key_signer(ec.generate_private_key(ec.SECP521R1()))
