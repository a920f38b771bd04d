"""Test keys and certificates generated at test time, and an in-process fake Gateway peer."""

import datetime
from concurrent import futures

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .fake_peer import FakePeer


def make_credentials(curve=ec.SECP256R1()):
    """(private key object, key PEM, cert PEM) for a self-signed client certificate."""
    key = ec.generate_private_key(curve)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "User1@lessor.example")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key, key_pem, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def p256():
    return make_credentials(ec.SECP256R1())


@pytest.fixture(scope="session")
def p384():
    return make_credentials(ec.SECP384R1())


@pytest.fixture
def fake_peer():
    peer = FakePeer()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    peer.register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    peer.channel = channel
    yield peer
    channel.close()
    server.stop(None)
