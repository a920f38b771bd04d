"""The REST gateways of the operating orgs, run by gunicorn as recorded processes.

Each gateway signs as its org's client identity, talks to its org's anchor peer, and keeps its
database (API credentials, idempotency records) in the run folder. A development credential
(role admin) is created once per gateway and written to a file that only root can read.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import urllib.error
import urllib.request

from . import processes
from typing import TYPE_CHECKING

from .config import HOST, REPO_ROOT, Layout, Org

if TYPE_CHECKING:
    from .network import Network

DEV_CREDENTIAL_NAME = "dev"
DEV_CREDENTIAL_ROLE = "admin"


def name(org: Org) -> str:
    return f"gateway.{org.domain}"


def folder(layout: Layout, org: Org):
    return layout.gateway_dir(org)


def code_version() -> str:
    """A hash of the gateway's Python sources: part of its configuration fingerprint, so
    `up` after a code change restarts the gateways (as a new package restarts chaincode)."""
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "gateway").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def env(net: "Network", org: Org) -> dict[str, str]:
    client = net.client(org)
    return {
        "CARBONLEASE_GATEWAY_VERSION": code_version(),
        "CARBONLEASE_MSP_ID": org.msp_id,
        "CARBONLEASE_PEER_ENDPOINT": client["peer_endpoint"],
        "CARBONLEASE_PEER_TLS_CA": client["peer_tls_ca"],
        "CARBONLEASE_CERT": client["cert"],
        "CARBONLEASE_KEY": client["key"],
        "CARBONLEASE_TLS_CERT": client["tls_cert"],
        "CARBONLEASE_TLS_KEY": client["tls_key"],
        "CARBONLEASE_CHANNEL": net.consortium.channel,
        "CARBONLEASE_DATABASE_URL": f"sqlite:///{folder(net.layout, org) / 'gateway.db'}",
        "CARBONLEASE_BIND": f"{HOST}:{org.gateway_port}",
        "PYTHONPATH": str(REPO_ROOT),
        # Swagger UI served by the gateway itself: nothing outside the package registries is
        # reachable here, so /api/v1/docs must not depend on a CDN.
        "CARBONLEASE_SWAGGER_UI_DIR": str(REPO_ROOT / "gateway" / "static" / "node_modules"
                                          / "swagger-ui-dist"),
    }


def url(org: Org) -> str:
    return f"http://{HOST}:{org.gateway_port}"


def credential_file(layout: Layout, org: Org):
    return folder(layout, org) / "dev-credential"


def healthy(org: Org) -> bool:
    try:
        with urllib.request.urlopen(f"{url(org)}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _ensure_credential(net: "Network", org: Org) -> bool:
    path = credential_file(net.layout, org)
    if path.exists():
        return False
    result = subprocess.run(
        [sys.executable, "-m", "gateway.api.manage", "create-key", "--name", DEV_CREDENTIAL_NAME,
         "--role", DEV_CREDENTIAL_ROLE, "--out", str(path)],
        cwd=REPO_ROOT, env={**os.environ, **env(net, org)}, capture_output=True, text=True)
    if result.returncode != 0:
        raise processes.ProcessError(f"creating the dev credential of {name(org)} failed: "
                                     f"{result.stderr.strip()[-1000:]}")
    path.chmod(0o600)
    return True


def start(net: "Network") -> list[str]:
    changes = []
    for org in net.member_orgs():
        if not org.gateway_port:
            continue
        folder(net.layout, org).mkdir(parents=True, exist_ok=True)
        if _ensure_credential(net, org):
            changes.append(f"created dev credential {credential_file(net.layout, org)}")
        argv = [sys.executable, "-m", "gunicorn", "-c", "python:gateway.api.gunicorn_config",
                "gateway.api.wsgi:app"]
        action = processes.ensure(net.layout, name(org), argv, env(net, org),
                                  {"listen": org.gateway_port}, cwd=REPO_ROOT)
        if action:
            changes.append(f"{action} {name(org)} on {url(org)}")
    for org in net.member_orgs():
        if org.gateway_port:
            processes.wait_for(lambda: healthy(org), f"{name(org)} /health", 30,
                               net.layout.log_file(name(org)))
    return changes


def status(net: "Network") -> list[dict]:
    return [{"msp_id": org.msp_id, "name": name(org), "url": url(org),
             "healthy": processes.running_pid(net.layout, name(org)) is not None and healthy(org),
             "dev_credential_file": str(credential_file(net.layout, org))}
            for org in net.member_orgs() if org.gateway_port]
