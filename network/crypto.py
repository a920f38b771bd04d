"""X.509 material for the consortium, laid out as Fabric MSP and TLS folders.

Each org gets two CAs (identities and TLS); its peers, orderers and users get certificates
whose subject OU is their NodeOU role (peer, orderer, client, admin), so the channel policies
can name roles. Written with `cryptography` instead of cryptogen because cryptogen cannot put
a peer and an orderer under one org CA, and the design has one MSP per org running both.
Every step keeps what already exists, so re-running is a no-op and nobody's identity changes.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .config import HOST, TLS_HOSTNAMES, Consortium, Layout, Org

VALIDITY = datetime.timedelta(days=3650)
CA_FILE = "cert.pem"
KEY_FILE = "priv_sk"

NODE_OU_CONFIG = """NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: orderer
"""

ADMIN_USER = "Admin"
CLIENT_USER = "User1"


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if private:
        path.chmod(0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class CA:
    """One certificate authority held as files: ``cert.pem`` and ``priv_sk`` in ``folder``."""

    def __init__(self, folder: Path, common_name: str, organization: str):
        self.folder = folder
        cert_path, key_path = folder / CA_FILE, folder / KEY_FILE
        if not cert_path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                              x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                              x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (x509.CertificateBuilder()
                    .subject_name(name).issuer_name(name)
                    .public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(minutes=5))
                    .not_valid_after(now + VALIDITY)
                    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                    .add_extension(x509.KeyUsage(True, False, True, False, False, True, True,
                                                 False, False), critical=True)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                   critical=False)
                    .sign(key, hashes.SHA256()))
            _write(key_path, _key_pem(key), private=True)
            _write(cert_path, _cert_pem(cert))
        self.cert_pem = cert_path.read_bytes()
        self.cert = x509.load_pem_x509_certificate(self.cert_pem)
        self.key = serialization.load_pem_private_key(key_path.read_bytes(), None)

    def issue(self, common_name: str, ou: str | None, tls: bool) -> tuple[bytes, bytes]:
        """A new leaf certificate and key (PEM): a signing identity, or a TLS certificate
        usable both as server and as client certificate on loopback."""
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
        if ou:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name(attrs)).issuer_name(self.cert.subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + VALIDITY)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       self.cert.public_key()), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                  critical=False))
        if tls:
            names = [x509.DNSName(common_name), *(x509.DNSName(h) for h in TLS_HOSTNAMES),
                     x509.IPAddress(ipaddress.ip_address(HOST))]
            builder = (builder
                       .add_extension(x509.KeyUsage(True, False, True, False, False, False, False,
                                                    False, False), critical=True)
                       .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                             ExtendedKeyUsageOID.CLIENT_AUTH]),
                                      critical=False)
                       .add_extension(x509.SubjectAlternativeName(names), critical=False))
        else:
            builder = builder.add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True)
        return _cert_pem(builder.sign(self.key, hashes.SHA256())), _key_pem(key)


class OrgCrypto:
    """The two CAs of an org and the MSP/TLS folders issued from them."""

    def __init__(self, layout: Layout, org: Org):
        self.layout = layout
        self.org = org
        self.ca = CA(layout.ca_dir(org, "ca"), f"ca.{org.domain}", org.domain)
        self.tlsca = CA(layout.ca_dir(org, "tlsca"), f"tlsca.{org.domain}", org.domain)

    def _msp_skeleton(self, msp: Path) -> None:
        _write(msp / "cacerts" / "ca.pem", self.ca.cert_pem)
        _write(msp / "tlscacerts" / "tlsca.pem", self.tlsca.cert_pem)
        _write(msp / "config.yaml", NODE_OU_CONFIG.encode())

    def org_msp(self) -> Path:
        msp = self.layout.org_msp(self.org)
        if not (msp / "config.yaml").exists():
            self._msp_skeleton(msp)
        return msp

    def identity(self, folder: Path, common_name: str, ou: str, tls_name: str) -> Path:
        """An MSP folder ``folder/msp`` with a signing identity of role ``ou`` and a TLS
        certificate in ``folder/tls`` (server.crt/server.key, ca.crt)."""
        msp = folder / "msp"
        if not (msp / "signcerts" / "cert.pem").exists():
            cert, key = self.ca.issue(common_name, ou, tls=False)
            self._msp_skeleton(msp)
            _write(msp / "keystore" / KEY_FILE, key, private=True)
            _write(msp / "signcerts" / "cert.pem", cert)
        self.tls(folder / "tls", tls_name)
        return folder

    def tls(self, folder: Path, common_name: str) -> Path:
        if not (folder / "server.crt").exists():
            cert, key = self.tlsca.issue(common_name, None, tls=True)
            _write(folder / "ca.crt", self.tlsca.cert_pem)
            _write(folder / "server.key", key, private=True)
            _write(folder / "server.crt", cert)
        return folder


def generate(consortium: Consortium, layout: Layout, orgs: list[Org]) -> None:
    """Make (or keep) all material of ``orgs``: org MSP, nodes, users, chaincode server TLS."""
    for org in orgs:
        oc = OrgCrypto(layout, org)
        oc.org_msp()
        for peer in org.peers:
            oc.identity(layout.node_dir(org, peer.name), peer.id, "peer", peer.id)
        for orderer in org.orderers:
            oc.identity(layout.node_dir(org, orderer.name), orderer.id, "orderer", orderer.id)
        oc.identity(layout.user_dir(org, ADMIN_USER), f"{ADMIN_USER}@{org.domain}", "admin",
                    f"{ADMIN_USER}@{org.domain}")
        oc.identity(layout.user_dir(org, CLIENT_USER), f"{CLIENT_USER}@{org.domain}", "client",
                    f"{CLIENT_USER}@{org.domain}")
        for chaincode in consortium.chaincodes:
            oc.tls(layout.node_dir(org, f"cc-{chaincode.name}") / "tls",
                   f"{chaincode.name}.cc.{org.domain}")
