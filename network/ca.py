"""Each org's Fabric CA: one server process per org holding two CAs, the identity CA (``ca``:
signing identities with NodeOUs) and the TLS CA (``tlsca``: TLS server and client
certificates), with TLS on the server's own endpoint.

The server lives in the org's site; its bootstrap admin's secret is generated once and kept
there (0600), and is the only way to register identities at it. ``CAClient`` runs
fabric-ca-client as that admin (the registrar) to register and enroll the org's nodes, admins,
gateway clients and people.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import yaml

from . import processes
from .config import HOST, TLS_HOSTNAMES, Layout, Org

IDENTITY_CA = "ca"
TLS_CA = "tlsca"
KINDS = (IDENTITY_CA, TLS_CA)
BOOTSTRAP_ADMIN = "admin"
START_TIMEOUT = 30.0
EXPIRY = "87600h"  # ten years: a development consortium outlives any test run
REGISTRAR_ATTRS = {
    "hf.Registrar.Roles": "*",
    "hf.Registrar.DelegateRoles": "*",
    "hf.Registrar.Attributes": "*",
    "hf.Revoker": True,
    "hf.GenCRL": True,
    "hf.IntermediateCA": False,
    "hf.AffiliationMgr": True,
}


class CAError(Exception):
    pass


def name(org: Org) -> str:
    """The CA server's process name (its pid and log files)."""
    return f"ca.{org.domain}"


def url(org: Org) -> str:
    return f"https://localhost:{org.ca_port}"


def root_cert(layout: Layout, org: Org, kind: str = IDENTITY_CA) -> Path:
    """The self-signed root certificate of one of the org's two CAs. The identity CA's root
    also issued the server's own TLS certificate, so clients of the CA endpoint trust it."""
    home = layout.ca_home(org)
    return (home if kind == IDENTITY_CA else home / TLS_CA) / "ca-cert.pem"


def secret_file(layout: Layout, org: Org) -> Path:
    return layout.ca_home(org) / "bootstrap-admin.secret"


def private_dir(path: Path) -> Path:
    """A folder (and its missing parents) only the owner can enter."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def write_private(path: Path, data: str) -> None:
    """Write a secret: the file is created 0600 before anything is written to it."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data)


def bootstrap_secret(layout: Layout, org: Org) -> str:
    path = secret_file(layout, org)
    if not path.exists():
        write_private(path, secrets.token_urlsafe(24))
    return path.read_text().strip()


def _ca_config(org: Org, kind: str, secret: str) -> dict:
    """One CA's section of the server configuration (the TLS CA's whole file)."""
    return {
        "ca": {"name": kind},
        "csr": {"cn": f"{kind}.{org.domain}",
                "names": [{"C": "CN", "O": org.domain}],
                "hosts": [*TLS_HOSTNAMES, HOST],
                "ca": {"expiry": "131400h", "pathlength": 1}},
        "registry": {"maxenrollments": -1,
                     "identities": [{"name": BOOTSTRAP_ADMIN, "pass": secret, "type": "client",
                                     "affiliation": "", "attrs": REGISTRAR_ATTRS}]},
        "db": {"type": "sqlite3", "datasource": "fabric-ca-server.db"},
        "affiliations": {},
        "signing": {"default": {"usage": ["digital signature"], "expiry": EXPIRY},
                    "profiles": {"tls": {"usage": ["signing", "key encipherment", "server auth",
                                                   "client auth", "key agreement"],
                                         "expiry": EXPIRY}}},
        "crl": {"expiry": "8760h"},
    }


def write_config(layout: Layout, org: Org) -> None:
    """The server's configuration files (they hold the bootstrap secret: 0600)."""
    home = private_dir(layout.ca_home(org))
    secret = bootstrap_secret(layout, org)
    server = {
        **_ca_config(org, IDENTITY_CA, secret),
        "port": org.ca_port,
        "address": HOST,
        "tls": {"enabled": True},
        "cafiles": [f"{TLS_CA}/fabric-ca-config.yaml"],
        "operations": {"listenAddress": f"{HOST}:{org.ca_operations_port}",
                       "tls": {"enabled": False}},
        "metrics": {"provider": "disabled"},
    }
    write_private(home / "fabric-ca-server-config.yaml", yaml.safe_dump(server, sort_keys=False))
    write_private(home / TLS_CA / "fabric-ca-config.yaml",
                  yaml.safe_dump(_ca_config(org, TLS_CA, secret), sort_keys=False))


def healthy(org: Org) -> bool:
    return processes.healthz(org.ca_operations_port)


def start(layout: Layout, ca_bin: Path, org: Org) -> str | None:
    """Keep the org's CA server running: "started", "restarted" or None (unchanged). It
    creates both CAs' keys on its first start."""
    write_config(layout, org)
    home = layout.ca_home(org)
    action = processes.ensure(layout, name(org), [str(ca_bin / "fabric-ca-server"), "start",
                                                  "-H", str(home)],
                              {}, {"listen": org.ca_port, "operations": org.ca_operations_port},
                              cwd=home)

    def ready() -> bool:
        if not processes.running_pid(layout, name(org)):
            raise processes.ProcessError(f"{name(org)} exited during start-up; see "
                                         f"{layout.log_file(name(org))}")
        return healthy(org) and all(root_cert(layout, org, k).exists() for k in KINDS)
    processes.wait_for(ready, f"{name(org)} /healthz", START_TIMEOUT, layout.log_file(name(org)))
    # The server writes its Idemix issuer keys world-readable: only the owner may read keys.
    for key in home.rglob("keystore/*"):
        key.chmod(0o600)
    return action


def status(layout: Layout, orgs: list[Org]) -> list[dict]:
    return [{"msp_id": org.msp_id, "url": url(org),
             "healthy": processes.running_pid(layout, name(org)) is not None and healthy(org)}
            for org in orgs]


class CAClient:
    """fabric-ca-client against one org's CA server, as its bootstrap admin (the registrar)."""

    def __init__(self, layout: Layout, ca_bin: Path, org: Org):
        self.layout, self.org = layout, org
        self.client = ca_bin / "fabric-ca-client"

    def _registrar_home(self, kind: str) -> Path:
        return self.layout.ca_home(self.org) / "registrar" / kind

    def run(self, kind: str, args: list[str], env: dict[str, str] | None = None,
            home: Path | None = None) -> str:
        """Run a fabric-ca-client command against CA ``kind``. Secrets go through the
        environment (FABRIC_CA_CLIENT_*), never the command line others can read."""
        home = private_dir(home or self._registrar_home(kind))
        full_env = {**os.environ, "FABRIC_CA_CLIENT_HOME": str(home),
                    "FABRIC_CA_CLIENT_TLS_CERTFILES": str(root_cert(self.layout, self.org)),
                    "FABRIC_CA_CLIENT_CANAME": kind, **(env or {})}
        result = subprocess.run([str(self.client), *args], env=full_env, capture_output=True,
                                text=True, timeout=60)
        if result.returncode != 0:
            raise CAError(f"fabric-ca-client {args[0]} at {name(self.org)}/{kind} failed: "
                          f"{(result.stdout + result.stderr).strip()[-1500:]}")
        return result.stdout + result.stderr

    def registrar(self, kind: str) -> None:
        """Enroll the bootstrap admin once; later commands sign as it."""
        if (self._registrar_home(kind) / "msp" / "signcerts" / "cert.pem").exists():
            return
        secret = bootstrap_secret(self.layout, self.org)
        self.run(kind, ["enroll"], {"FABRIC_CA_CLIENT_URL":
                                    f"https://{BOOTSTRAP_ADMIN}:{secret}@localhost:{self.org.ca_port}"})

    def crl(self, kind: str) -> Path:
        """Where ``revoke --gencrl`` as the registrar writes the CA's current CRL."""
        return self._registrar_home(kind) / "msp" / "crls" / "crl.pem"

    def register(self, kind: str, enrollment_id: str, id_type: str, secret: str) -> None:
        """Register ``enrollment_id`` with ``secret``; one already registered (an enrollment
        that failed half-way) keeps the secret it was registered with."""
        self.registrar(kind)
        try:
            self.run(kind, ["register", "--id.name", enrollment_id, "--id.type", id_type,
                            "--id.affiliation", "", "--id.maxenrollments", "-1"],
                     {"FABRIC_CA_CLIENT_URL": url(self.org), "FABRIC_CA_CLIENT_ID_SECRET": secret})
        except CAError as error:
            if "already registered" not in str(error):
                raise

    def enroll(self, kind: str, enrollment_id: str, secret: str, msp_dir: Path,
               tls_hosts: list[str] | None = None) -> None:
        """Enroll into ``msp_dir`` (signcerts/cert.pem, keystore/*_sk, cacerts/...): a new key
        made here, never leaving the site. ``tls_hosts`` asks for a TLS certificate."""
        args = ["enroll", "-M", str(msp_dir), "--csr.cn", enrollment_id,
                "--csr.names", f"C=CN,O={self.org.domain}"]
        if tls_hosts:
            args += ["--enrollment.profile", "tls", "--csr.hosts", ",".join(tls_hosts)]
        self.run(kind, args,
                 {"FABRIC_CA_CLIENT_URL": f"https://{enrollment_id}:{secret}@localhost:"
                                          f"{self.org.ca_port}"},
                 home=msp_dir)
