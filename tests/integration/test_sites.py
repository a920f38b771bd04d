"""Each org is its own trust domain: its keys lie in its own site, issued by its own Fabric CA.

Scans the running test consortium's whole run folder: every private key must lie in a site,
and belong to a certificate of that site issued by that org's identity CA or TLS CA.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from network import ca, crypto

# Fabric CA also makes Idemix issuer keys for each of its CAs; they sign no X.509
# certificate, so they are checked to lie in their own CA's folder instead.
IDEMIX_ISSUER_KEYS = {"IssuerSecretKey", "IssuerRevocationPrivateKey"}


def _public_bytes(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _certificates(folder: Path) -> list[x509.Certificate]:
    certs = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            # PEM files only: the CA's database holds copies of the certificates it issued.
            if data.startswith(b"-----BEGIN CERTIFICATE-----"):
                certs += x509.load_pem_x509_certificates(data)
    return certs


_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN ((?:EC )?PRIVATE KEY)-----.*?-----END \1-----", re.S)


def _private_keys(home: Path):
    """Every private key under ``home``: key files, and keys embedded in other files (the
    external builder copies the peer's TLS key into the chaincode's connection.json)."""
    for path in home.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        if path.name in IDEMIX_ISSUER_KEYS:
            yield path, None
            continue
        data = path.read_bytes()
        if b"PRIVATE KEY-----" not in data:
            continue
        text = data.decode(errors="replace").replace("\\n", "\n")
        found = list(_PEM_PRIVATE_KEY.finditer(text))
        assert found, f"{path} mentions a private key that could not be read"
        for match in found:
            yield path, serialization.load_pem_private_key(match.group(0).encode(), None)


@pytest.fixture(scope="module")
def sites(test_network):
    net = test_network
    orgs = [o for o in net.consortium.orgs if net.layout.site(o).is_dir()]
    assert {o.msp_id for o in orgs} >= {o.msp_id for o in net.consortium.founding_orgs}
    return net, orgs


def test_every_private_key_lies_in_a_site_and_belongs_to_a_certificate_of_its_own_ca(sites):
    net, orgs = sites
    by_site = {net.layout.site(o): o for o in orgs}
    roots = {o.msp_id: [x509.load_pem_x509_certificate(ca.root_cert(net.layout, o, k)
                                                       .read_bytes()) for k in ca.KINDS]
             for o in orgs}
    certs = {o.msp_id: _certificates(net.layout.site(o)) for o in orgs}
    checked = 0
    for path, key in _private_keys(net.home):
        owner = next((o for site, o in by_site.items() if site in path.parents), None)
        assert owner is not None, f"private key outside every site: {path}"
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
        if key is None:
            assert net.layout.ca_home(owner) in path.parents, path
            continue
        public = _public_bytes(key)
        mine = [c for c in certs[owner.msp_id] if c.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == public]
        assert mine, f"{path}: no certificate in {owner.msp_id}'s site for this key"
        for cert in mine:
            issuers = [r for r in roots[owner.msp_id] if r.subject == cert.issuer]
            assert issuers, f"{path}: its certificate was issued by {cert.issuer.rfc4514_string()}"
            cert.verify_directly_issued_by(issuers[0])
        checked += 1
    # Per org at least: two CA keys, the CA server's TLS key, two registrars, each node's
    # and user's signing and TLS keys, the chaincode servers' TLS keys.
    assert checked >= len(orgs) * 11


def _ou(cert: x509.Certificate) -> list[str]:
    return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]


def test_identities_carry_their_node_ou_and_tls_certificates_their_hosts(sites):
    net, _ = sites
    layout = net.layout
    grid = net.consortium.org("GridMSP")
    identity_ca = x509.load_pem_x509_certificate(ca.root_cert(layout, grid).read_bytes())
    for folder, role in [(layout.node_dir(grid, "peer0"), "peer"),
                         (layout.node_dir(grid, "orderer0"), "orderer"),
                         (layout.user_dir(grid, crypto.ADMIN_USER), "admin"),
                         (layout.user_dir(grid, crypto.CLIENT_USER), "client")]:
        cert = x509.load_pem_x509_certificate((folder / "msp/signcerts/cert.pem").read_bytes())
        assert _ou(cert) == [role]
        cert.verify_directly_issued_by(identity_ca)
    tls = x509.load_pem_x509_certificate(
        (layout.node_dir(grid, "peer0") / "tls" / "server.crt").read_bytes())
    sans = tls.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    tls.verify_directly_issued_by(x509.load_pem_x509_certificate(
        layout.tls_ca_cert(grid).read_bytes()))
    assert (layout.org_msp(grid) / "config.yaml").read_text() == crypto.NODE_OU_CONFIG


def test_status_lists_each_orgs_ca_and_site(consortium, test_network):
    members = {p["msp_id"] for p in consortium["peers"]}
    assert {c["msp_id"] for c in consortium["cas"]} == members
    for entry in consortium["cas"]:
        org = test_network.consortium.org(entry["msp_id"])
        assert entry["healthy"], entry
        assert entry["url"] == f"https://localhost:{org.ca_port}"
    assert {s["msp_id"]: s["home"] for s in consortium["sites"]} == {
        m: str(test_network.layout.site(test_network.consortium.org(m))) for m in members}
