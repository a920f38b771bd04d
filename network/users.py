"""People and applications of an org with their own Fabric identity.

`scripts/user ORG NAME --role R` registers and enrolls NAME at ORG's CA (NodeOU client), puts
a copy of the certificate and key in ORG's gateway's own store and creates an API key bound to
that identity there, so the gateway signs the key's writes as NAME and the ledger's creator is
NAME. Everything happens in ORG's site only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from cryptography import x509

from . import ca, crypto, gateways
from .config import REPO_ROOT, ConfigError, Org
from .network import Network

NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")
RESERVED = {crypto.ADMIN_USER, crypto.CLIENT_USER}


class UserError(Exception):
    pass


def _store(net: Network, org: Org, name: str):
    """The gateway's own copy of NAME's identity (the gateway reads nothing else)."""
    return net.layout.gateway_dir(org) / "identities" / name


def add_user(net: Network, msp_id: str, name: str, role: str) -> dict:
    org = net.consortium.org(msp_id)
    if not NAME.fullmatch(name) or name in RESERVED:
        raise UserError(f"{name!r} is not a usable name: a letter, then up to 63 letters, "
                        f"digits, '.', '_' or '-'; not {' or '.join(sorted(RESERVED))}")
    if not org.gateway_port:
        raise ConfigError(f"{msp_id} runs no REST gateway to bind an API key to")
    net.check_layout()
    ca.start(net.layout, net.ca_bin, org)
    folder = net.layout.user_dir(org, name)
    crypto.OrgEnrollment(net.layout, net.ca_bin, org).identity(folder, name, "client")
    cert = folder / "msp" / "signcerts" / "cert.pem"
    key = folder / "msp" / "keystore" / crypto.KEY_FILE
    store = ca.private_dir(_store(net, org, name))
    ca.write_private(store / "cert.pem", cert.read_text())
    ca.write_private(store / "key.pem", key.read_text())
    result = subprocess.run(
        [sys.executable, "-m", "gateway.api.manage", "create-key", "--name", name,
         "--role", role, "--identity-dir", str(store)],
        cwd=REPO_ROOT, env={**os.environ, **gateways.env(net, org)}, capture_output=True,
        text=True)
    if result.returncode != 0:
        raise UserError(f"creating the API key of {name} at {gateways.name(org)} failed: "
                        f"{result.stderr.strip()[-1000:]}")
    subject = x509.load_pem_x509_certificate(cert.read_bytes()).subject.rfc4514_string()
    return {"api_key": result.stdout.strip(), "enrollment_id": name, "subject": subject,
            "cert": str(cert), "key": str(key)}
