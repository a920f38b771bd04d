"""An org's X.509 material, enrolled from its own Fabric CA into its own site and laid out as
the Fabric MSP and TLS folders the rest of the tool reads.

Each identity is registered at the org's identity CA with its NodeOU type (peer, orderer,
admin, client), which Fabric CA writes as the certificate's OU, and at the org's TLS CA for a
TLS certificate with the SANs localhost and 127.0.0.1, usable as server and as client
certificate. Every key is made in the site by the enrolling client and never leaves it. Every
step keeps what already exists, so re-running is a no-op and nobody's identity changes.
"""

from __future__ import annotations

import secrets
import shutil
import time
from pathlib import Path

from . import ca
from .config import HOST, TLS_HOSTNAMES, Consortium, Layout, Org
from .log import progress

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
# Where an enrollment's secret waits between registration and enrollment, so a run that
# failed in between enrolls with the secret the CA already holds.
PENDING_SECRET = ".enrollment-secret"


def _copy(source: Path, target: Path, private: bool = False) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if private:
        ca.write_private(target, source.read_text())
    else:
        shutil.copyfile(source, target)


class OrgEnrollment:
    """Enrolls an org's identities from its CA into MSP folders in its site."""

    def __init__(self, layout: Layout, ca_bin: Path, org: Org):
        self.layout, self.org = layout, org
        self.client = ca.CAClient(layout, ca_bin, org)

    def _msp_skeleton(self, msp: Path) -> None:
        _copy(ca.root_cert(self.layout, self.org, ca.IDENTITY_CA), msp / "cacerts" / "ca.pem")
        _copy(ca.root_cert(self.layout, self.org, ca.TLS_CA), msp / "tlscacerts" / "tlsca.pem")
        (msp / "config.yaml").write_text(NODE_OU_CONFIG)

    def org_msp(self) -> Path:
        """The org's verifying MSP: its two CA roots and NodeOU config, no key."""
        msp = self.layout.org_msp(self.org)
        if not (msp / "config.yaml").exists():
            self._msp_skeleton(msp)
        return msp

    def _enrolled(self, kind: str, enrollment_id: str, id_type: str, folder: Path,
                  tls_hosts: list[str] | None = None) -> Path:
        """``folder/enroll`` holding a fresh enrollment of ``enrollment_id`` at CA ``kind``."""
        ca.private_dir(folder)
        pending = folder / PENDING_SECRET
        if not pending.exists():
            ca.write_private(pending, secrets.token_urlsafe(18))
        secret = pending.read_text()
        self.client.register(kind, enrollment_id, id_type, secret)
        work = folder / "enroll"
        shutil.rmtree(work, ignore_errors=True)
        self.client.enroll(kind, enrollment_id, secret, work, tls_hosts)
        return work

    def _install(self, work: Path, cert: Path, key: Path) -> None:
        """Move an enrollment's certificate and key to where Fabric and the tool read them."""
        [key_file] = (work / "keystore").glob("*_sk")
        _copy(key_file, key, private=True)
        _copy(work / "signcerts" / "cert.pem", cert)

    def identity(self, folder: Path, enrollment_id: str, id_type: str) -> Path:
        """An MSP folder ``folder/msp`` with a signing identity of NodeOU ``id_type`` and a
        TLS certificate in ``folder/tls`` (server.crt/server.key, ca.crt)."""
        msp = folder / "msp"
        if not (msp / "signcerts" / "cert.pem").exists():
            work = self._enrolled(ca.IDENTITY_CA, enrollment_id, id_type, folder)
            self._msp_skeleton(msp)
            self._install(work, msp / "signcerts" / "cert.pem", msp / "keystore" / KEY_FILE)
            shutil.rmtree(work)
            (folder / PENDING_SECRET).unlink()
        self.tls(folder / "tls", enrollment_id)
        return folder

    def tls(self, folder: Path, enrollment_id: str) -> Path:
        if not (folder / "server.crt").exists():
            work = self._enrolled(ca.TLS_CA, enrollment_id, "client", folder,
                                  [enrollment_id, *TLS_HOSTNAMES, HOST])
            _copy(ca.root_cert(self.layout, self.org, ca.TLS_CA), folder / "ca.crt")
            self._install(work, folder / "server.crt", folder / "server.key")
            shutil.rmtree(work)
            (folder / PENDING_SECRET).unlink()
        return folder

    def all(self, consortium: Consortium) -> None:
        """Org MSP, nodes, admin, gateway client and chaincode servers' TLS."""
        layout, org = self.layout, self.org
        self.org_msp()
        for peer in org.peers:
            self.identity(layout.node_dir(org, peer.name), peer.id, "peer")
        for orderer in org.orderers:
            self.identity(layout.node_dir(org, orderer.name), orderer.id, "orderer")
        self.identity(layout.user_dir(org, ADMIN_USER), f"{ADMIN_USER}@{org.domain}", "admin")
        self.identity(layout.user_dir(org, CLIENT_USER), f"{CLIENT_USER}@{org.domain}", "client")
        for chaincode in consortium.chaincodes:
            self.tls(layout.node_dir(org, f"cc-{chaincode.name}") / "tls",
                     f"{chaincode.name}.cc.{org.domain}")


def enroll_site(consortium: Consortium, layout: Layout, org: Org, ca_bin: Path) -> list[str]:
    """``org``'s CA running and all its material enrolled (or kept) in its site: the org's
    own step, reading and writing nothing outside its site. Returns what changed."""
    started = time.monotonic()
    ca.private_dir(layout.site(org))
    action = ca.start(layout, ca_bin, org)
    OrgEnrollment(layout, ca_bin, org).all(consortium)
    progress(f"{org.msp_id}: CA up, identities enrolled in {time.monotonic() - started:.1f} s")
    return [f"{action} {ca.name(org)}"] if action else []
