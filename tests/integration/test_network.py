"""The consortium as DESIGN.md describes it, checked on the running test network."""

from __future__ import annotations

import datetime
import socket
import ssl
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from network import channel, gateways, processes
from network.fabric import Fabric
from network.binaries import ensure_built

EXPECTED_ORGS = {"LessorMSP", "GridMSP", "RegulatorMSP", "HKPartnerMSP", "MacaoPartnerMSP"}
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")


def _fabric(test_network) -> Fabric:
    return Fabric(ensure_built(), test_network.layout)


def test_every_peer_joined_and_agrees_on_height(consortium, test_network):
    assert {p["msp_id"] for p in consortium["peers"]} == EXPECTED_ORGS
    assert len(consortium["peers"]) == 6
    assert all(p["healthy"] for p in consortium["peers"])
    heights = test_network.wait_for_same_height(timeout=30)
    assert len(set(heights.values())) == 1, heights
    # Chaincode definitions and role configuration are transactions after the genesis block.
    assert next(iter(heights.values())) > 1


def test_three_orderers_are_the_raft_consenters(consortium, test_network):
    lessor = test_network.consortium.org("LessorMSP")
    cfg = channel.current_config(_fabric(test_network), test_network.consortium, lessor)
    consensus = cfg["channel_group"]["groups"]["Orderer"]["values"]["ConsensusType"]["value"]
    assert consensus["type"] == "etcdraft"
    consenters = {(c["host"], c["port"]) for c in consensus["metadata"]["consenters"]}
    assert consenters == {("127.0.0.1", o.port) for o in test_network.consortium.orderers}
    assert len(consenters) == 3
    app_orgs = set(cfg["channel_group"]["groups"]["Application"]["groups"])
    assert app_orgs == EXPECTED_ORGS
    assert {o["msp_id"] for o in consortium["orderers"]} == {"LessorMSP", "GridMSP", "RegulatorMSP"}


def _tls_exchange(port: int, ca_file: str, cert: str | None = None, key: str | None = None) -> bytes:
    """Open TLS to a node, send the HTTP/2 preface, return what the node answers (b"" if it
    closed the connection). Raises ssl.SSLError if the node aborts the handshake."""
    context = ssl.create_default_context(cafile=ca_file)
    context.set_alpn_protocols(["h2"])
    if cert:
        context.load_cert_chain(cert, key)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(HTTP2_PREFACE)
            return tls.recv(64)


def _refused(port: int, ca_file: str, cert=None, key=None) -> bool:
    try:
        return _tls_exchange(port, ca_file, cert, key) == b""
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True


@pytest.fixture
def foreign_client_cert(tmp_path):
    """A self-signed TLS client certificate: its issuer is no CA of the consortium."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "intruder")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return str(tmp_path / "c.pem"), str(tmp_path / "k.pem")


@pytest.mark.parametrize("node", ["peer", "orderer"])
def test_nodes_require_a_trusted_client_certificate(consortium, test_network, node,
                                                    foreign_client_cert):
    lessor = test_network.consortium.org("LessorMSP")
    port = (lessor.peers[0] if node == "peer" else lessor.orderers[0]).port
    client = consortium["clients"]["LessorMSP"]
    ca = client["peer_tls_ca"]
    # The control: the org's own client certificate gets an HTTP/2 answer.
    assert not _refused(port, ca, client["tls_cert"], client["tls_key"])
    assert _refused(port, ca)                         # no client certificate
    assert _refused(port, ca, *foreign_client_cert)   # one from an unknown CA


def test_identities_carry_their_node_ou(consortium):
    client = consortium["clients"]["GridMSP"]
    cert = x509.load_pem_x509_certificate(open(client["cert"], "rb").read())
    ous = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)]
    assert ous == ["client"]


def test_up_again_changes_nothing(consortium, test_network):
    result = test_network.tool("up")
    assert "already up: nothing changed" in result.stdout, result.stdout + result.stderr


def test_status_json_lists_profiles_and_clients(consortium):
    assert set(consortium["clients"]) == EXPECTED_ORGS
    for msp_id, client in consortium["clients"].items():
        for key in ("cert", "key", "tls_cert", "tls_key", "peer_tls_ca"):
            assert open(client[key]).read().startswith("-----BEGIN"), (msp_id, key)
        assert client["peer_endpoint"].startswith("localhost:")
    assert set(consortium["connection_profiles"]) == EXPECTED_ORGS


def _followers_listening(test_network, timeout: float = 30) -> list[dict]:
    """`status --json` followers, once every one runs and follows both chaincodes."""
    deadline = time.monotonic() + timeout
    while True:
        followers = test_network.status()["followers"]
        if all(f["healthy"] and f["chaincodes"] and all(c["listening"] for c in f["chaincodes"])
               for f in followers) or time.monotonic() > deadline:
            return followers
        time.sleep(0.5)


def test_each_gateway_org_runs_a_read_model_follower(consortium, test_network):
    assert {f["msp_id"] for f in consortium["followers"]} == {g["msp_id"]
                                                             for g in consortium["gateways"]}
    followers = _followers_listening(test_network)
    for follower in followers:
        assert follower["healthy"] and follower["pid"], follower
        assert {c["chaincode"]: c["listening"] for c in follower["chaincodes"]} == {
            "emission": True, "lease": True}, follower
        # Both chaincodes were deployed and configured (SetRoles) by up: events to follow.
        assert all(c["block_number"] for c in follower["chaincodes"]), follower


def test_up_starts_a_stopped_follower_again(consortium, test_network):
    lessor = test_network.consortium.org("LessorMSP")
    name = gateways.follower_name(lessor)
    before = {f["name"]: f for f in _followers_listening(test_network)}[name]
    assert processes.stop(test_network.layout, name)  # SIGTERM: it closes its streams, exits
    stopped = {f["name"]: f for f in test_network.status()["followers"]}[name]
    assert not stopped["healthy"] and stopped["pid"] is None
    assert "read model follower stopped" in test_network.tool("logs", name).stdout
    result = test_network.tool("up")
    assert f"started {name}" in result.stdout, result.stdout
    after = {f["name"]: f for f in _followers_listening(test_network)}[name]
    assert after["pid"] != before["pid"]
    # Resumed from its checkpoints, never behind them.
    assert all(a["block_number"] >= b["block_number"]
               for a, b in zip(after["chaincodes"], before["chaincodes"]))
