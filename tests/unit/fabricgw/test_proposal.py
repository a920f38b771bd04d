"""Proposals built by the client, decoded with the official protos."""

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes as crypto_hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
import grpc
import pytest

from gateway.fabricgw import Gateway, Identity, hashes, signers
from gateway.fabricgw.transaction_context import transaction_id

from .conftest import make_credentials

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@pytest.fixture
def gateway(p256):
    _, key_pem, cert_pem = p256
    # Nothing listens here: building and signing proposals needs no connection.
    gw = Gateway.connect(identity=Identity("LessorMSP", cert_pem), signer=signers.new_private_key_signer(key_pem),
                         channel=grpc.insecure_channel("127.0.0.1:1"))
    yield gw
    gw.close()


def decode(proposal):
    proposed = gateway_pb2.ProposedTransaction.FromString(proposal.bytes())
    prop = proposal_pb2.Proposal.FromString(proposed.proposal.proposal_bytes)
    header = common_pb2.Header.FromString(prop.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(prop.payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
    return proposed, channel_header, signature_header, payload, spec


def test_proposal_headers_args_and_creator(gateway, p256):
    contract = gateway.get_network("carbonlease").get_contract("lease")
    proposal = contract.new_proposal("RegisterProject", arguments=["p1", b"\x00\x01"],
                                     endorsing_organizations=["LessorMSP", "RegulatorMSP"])
    proposed, channel_header, signature_header, payload, spec = decode(proposal)

    assert channel_header.type == common_pb2.ENDORSER_TRANSACTION
    assert channel_header.channel_id == "carbonlease"
    assert channel_header.tx_id == proposal.transaction_id == proposed.transaction_id
    assert channel_header.timestamp.seconds > 0
    extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
    assert extension.chaincode_id.name == "lease"
    creator = identities_pb2.SerializedIdentity.FromString(signature_header.creator)
    assert (creator.mspid, creator.id_bytes) == ("LessorMSP", p256[2])
    assert len(signature_header.nonce) == 24
    assert spec.chaincode_id.name == "lease"
    assert list(spec.input.args) == [b"RegisterProject", b"p1", b"\x00\x01"]
    assert list(proposed.endorsing_organizations) == ["LessorMSP", "RegulatorMSP"]
    assert not proposed.proposal.signature  # signed lazily, so it can be signed offline instead


def test_transaction_id_is_sha256_of_nonce_and_creator(gateway):
    proposal = gateway.get_network("ch").get_contract("cc").new_proposal("Tx")
    _, channel_header, signature_header, _, _ = decode(proposal)
    expected = hashlib.sha256(signature_header.nonce + signature_header.creator).hexdigest()
    assert channel_header.tx_id == expected == transaction_id(signature_header.nonce, signature_header.creator)


def test_transaction_ids_are_unique(gateway):
    contract = gateway.get_network("ch").get_contract("cc")
    assert len({contract.new_proposal("Tx").transaction_id for _ in range(100)}) == 100


def test_transient_data_reaches_proposal_payload(gateway):
    proposal = gateway.get_network("ch").get_contract("cc").new_proposal(
        "Tx", transient_data={"terms": b"\x01secret", "note": "text"})
    _, _, _, payload, spec = decode(proposal)
    assert dict(payload.TransientMap) == {"terms": b"\x01secret", "note": b"text"}
    assert b"secret" not in b"".join(spec.input.args)


def test_contract_name_qualifies_transaction(gateway):
    proposal = gateway.get_network("ch").get_contract("cc", "LeaseContract").new_proposal("Tx")
    assert decode(proposal)[4].input.args[0] == b"LeaseContract:Tx"


def test_signature_verifies_with_certificate_and_is_low_s(gateway, p256):
    proposal = gateway.get_network("ch").get_contract("cc").new_proposal("Tx")
    proposal._sign()
    proposed = gateway_pb2.ProposedTransaction.FromString(proposal.bytes())
    cert = x509.load_pem_x509_certificate(p256[2])
    cert.public_key().verify(proposed.proposal.signature, proposed.proposal.proposal_bytes,
                             ec.ECDSA(crypto_hashes.SHA256()))
    assert decode_dss_signature(proposed.proposal.signature)[1] <= P256_ORDER // 2
    assert proposal.digest() == hashlib.sha256(proposed.proposal.proposal_bytes).digest()


def test_configurable_hash_for_p384(p384):
    key, key_pem, cert_pem = p384
    gw = Gateway.connect(identity=Identity("LessorMSP", cert_pem), signer=signers.new_private_key_signer(key_pem),
                         hash=hashes.sha384, channel=grpc.insecure_channel("127.0.0.1:1"))
    proposal = gw.get_network("ch").get_contract("cc").new_proposal("Tx")
    proposal._sign()
    proposed = gateway_pb2.ProposedTransaction.FromString(proposal.bytes())
    key.public_key().verify(proposed.proposal.signature, proposed.proposal.proposal_bytes,
                            ec.ECDSA(crypto_hashes.SHA384()))


def test_offline_signed_proposal_round_trip(gateway, p256):
    unsigned = Gateway.connect(identity=gateway.identity, channel=grpc.insecure_channel("127.0.0.1:1"))
    proposal = unsigned.get_network("ch").get_contract("cc").new_proposal("Tx", arguments=["a"])
    signature = signers.new_private_key_signer(p256[1])(proposal.digest())
    signed = unsigned.new_signed_proposal(proposal.bytes(), signature)
    assert signed.transaction_id == proposal.transaction_id
    assert gateway_pb2.ProposedTransaction.FromString(signed.bytes()).proposal.signature == signature
    assert signed._channel_name == "ch"


def test_no_signer_fails_clearly(gateway):
    unsigned = Gateway.connect(identity=gateway.identity, channel=grpc.insecure_channel("127.0.0.1:1"))
    with pytest.raises(ValueError, match="no signer"):
        unsigned.get_network("ch").get_contract("cc").new_proposal("Tx").evaluate()


def test_another_identity_signs_over_the_same_connection(gateway):
    """Like the official clients connecting several identities with one gRPC client."""
    key, key_pem, cert_pem = make_credentials()
    alice = gateway.with_identity(Identity("LessorMSP", cert_pem), signers.new_private_key_signer(key_pem))
    assert alice._channel is gateway._channel
    proposal = alice.get_network("carbonlease").get_contract("lease").new_proposal("GetProject", ["p-1"])
    _, _, signature_header, _, _ = decode(proposal)
    creator = identities_pb2.SerializedIdentity.FromString(signature_header.creator)
    assert creator.id_bytes == cert_pem
    proposal_bytes = gateway_pb2.ProposedTransaction.FromString(proposal.bytes()).proposal.proposal_bytes
    key.public_key().verify(alice._signing_identity.sign(proposal.digest()), proposal_bytes,
                            ec.ECDSA(crypto_hashes.SHA256()))
    alice.close()
    # Closing the other identity's Gateway leaves the shared connection to its owner.
    assert gateway.get_network("carbonlease").get_contract("lease").new_proposal("GetProject", ["p-1"])
