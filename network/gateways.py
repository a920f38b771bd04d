"""The REST gateways of the operating orgs, run by gunicorn as recorded processes behind nginx
(``proxy``), which listens on the gateway's public port, each with its read-model follower
(``gateway.api.readmodel.follower``) as another recorded process.

Each gateway signs as its org's client identity, talks to its org's anchor peer, and keeps its
database (API credentials, idempotency records, the read model) in its private folder of the run
folder (0700). The follower feeds the read model in that database from the peer's chaincode
events. Before either starts, the database is brought to this version's schema by one step
(``manage upgrade-schema``, with the org's follower stopped). A development credential (role
admin) is created once per gateway and written to a file only its owner can read.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

from typing import TYPE_CHECKING

from . import processes, proxy
from .config import HOST, REPO_ROOT, Layout, Org

if TYPE_CHECKING:
    from .network import Network

DEV_CREDENTIAL_NAME = "dev"
DEV_CREDENTIAL_ROLE = "admin"
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "python:gateway.api.gunicorn_config",
            "gateway.api.wsgi:app"]


def name(org: Org) -> str:
    return f"gateway.{org.domain}"


def follower_name(org: Org) -> str:
    return f"follower.{org.domain}"


def folder(layout: Layout, org: Org):
    return layout.gateway_dir(org)


def code_version() -> str:
    """A hash of the gateway's Python sources: part of its configuration fingerprint, so
    `up` after a code change restarts the gateways (as a new package restarts chaincode)."""
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "gateway").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def serving():
    """Workers and threads of every gateway: ``CARBONLEASE_WORKERS`` and
    ``CARBONLEASE_THREADS`` of the environment `up` runs in, else the gateway's defaults."""
    # Imported here: the gateway package brings Flask and gRPC, which only gateways need.
    from gateway.api.config import Serving

    return Serving.from_env()


def serving_env(home) -> dict[str, str]:
    """What gunicorn needs to serve the gateway whose folder is ``home`` behind nginx."""
    workers = serving()
    return {"CARBONLEASE_BIND": f"unix:{proxy.socket_path(home)}",
            "CARBONLEASE_WORKERS": str(workers.workers),
            "CARBONLEASE_THREADS": str(workers.threads),
            "PROMETHEUS_MULTIPROC_DIR": str(home / "metrics")}


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
        **serving_env(folder(net.layout, org)),
        "PYTHONPATH": str(REPO_ROOT),
        # Swagger UI served by the gateway itself: nothing outside the package registries is
        # reachable here, so /api/v1/docs must not depend on a CDN.
        "CARBONLEASE_SWAGGER_UI_DIR": str(REPO_ROOT / "gateway" / "static" / "node_modules"
                                          / "swagger-ui-dist"),
    }


def follower_env(net: "Network", org: Org) -> dict[str, str]:
    """The gateway's environment minus what only the web server reads, so that a change of
    those restarts gunicorn alone (and the follower writes no metric files of its own)."""
    return {key: value for key, value in env(net, org).items()
            if key not in serving_env(folder(net.layout, org))
            and key != "CARBONLEASE_SWAGGER_UI_DIR"}


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


def _follower_command(net: "Network", org: Org) -> tuple[list[str], dict[str, str]]:
    return ([sys.executable, "-m", "gateway.api.readmodel.follower"],
            follower_env(net, org))


def _manage(net: "Network", org: Org, *command: str) -> str:
    """The output of ``python -m gateway.api.manage COMMAND`` on the gateway's database."""
    result = subprocess.run(
        [sys.executable, "-m", "gateway.api.manage", *command],
        cwd=REPO_ROOT, env={**os.environ, **env(net, org)}, capture_output=True, text=True)
    if result.returncode != 0:
        raise processes.ProcessError(f"{command[0]} on the database of {name(org)} failed: "
                                     f"{result.stderr.strip()[-1000:]}")
    return result.stdout


def _upgrade_schema(net: "Network", org: Org) -> list[str]:
    return _manage(net, org, "upgrade-schema").splitlines()


def _ensure_credential(net: "Network", org: Org) -> bool:
    path = credential_file(net.layout, org)
    if path.exists():
        return False
    _manage(net, org, "create-key", "--name", DEV_CREDENTIAL_NAME, "--role", DEV_CREDENTIAL_ROLE,
            "--out", str(path))
    path.chmod(0o600)
    return True


def start(net: "Network") -> list[str]:
    changes = []
    for org in net.member_orgs():
        if not org.gateway_port:
            continue
        home = folder(net.layout, org)
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        home.chmod(0o700)
        # The schema of this version is made once, by this step, before the new gunicorn and
        # follower start (they only check it): with the org's follower stopped, as the step
        # refuses to rebuild tables under a running follower. A follower that keeps running
        # is of this very version, so its schema is current already.
        follower = _follower_command(net, org)
        restarting = processes.stop_if_changed(net.layout, follower_name(org), *follower,
                                               cwd=REPO_ROOT)
        if processes.running_pid(net.layout, follower_name(org)) is None:
            changes += [f"{name(org)} database: {change}"
                        for change in _upgrade_schema(net, org)]
        if _ensure_credential(net, org):
            changes.append(f"created dev credential {credential_file(net.layout, org)}")
        # gunicorn first: one that still listens on the public port (an older run folder) is
        # moved to its socket before nginx takes the port.
        action = processes.ensure(net.layout, name(org), GUNICORN, env(net, org), {},
                                  cwd=REPO_ROOT)
        if action:
            changes.append(f"{action} {name(org)} on {proxy.socket_path(home)}")
        action = proxy.ensure(net.layout, org.domain, home, org.gateway_port,
                              serving().concurrency)
        if action:
            changes.append(f"{action} {proxy.name(org.domain)} on {url(org)}")
        action = processes.ensure(net.layout, follower_name(org), *follower, {}, cwd=REPO_ROOT)
        if action:
            changes.append(f"{'restarted' if restarting else action} {follower_name(org)}")
    for org in net.member_orgs():
        if org.gateway_port:
            processes.wait_for(lambda: healthy(org), f"{name(org)} /health", 30,
                               net.layout.log_file(name(org)))
    return changes


def status(net: "Network") -> list[dict]:
    answer = []
    for org in net.member_orgs():
        if not org.gateway_port:
            continue
        running = {process: processes.running_pid(net.layout, process) is not None
                   for process in (name(org), proxy.name(org.domain))}
        answer.append({"msp_id": org.msp_id, "name": name(org), "url": url(org),
                       "proxy": proxy.name(org.domain), "processes": running,
                       "healthy": all(running.values()) and healthy(org),
                       "dev_credential_file": str(credential_file(net.layout, org))})
    return answer


def follower_status(net: "Network") -> list[dict]:
    """Each follower process, with what its gateway's /api/v1/read/status says of it when the
    gateway answers (``chaincodes``: position, listening, dead letters; else null). Healthy
    means running: a follower that has just started beats within seconds."""
    followers = []
    for org in net.member_orgs():
        if not org.gateway_port:
            continue
        pid = processes.running_pid(net.layout, follower_name(org))
        followers.append({"msp_id": org.msp_id, "name": follower_name(org), "pid": pid,
                          "healthy": pid is not None,
                          "log": str(net.layout.log_file(follower_name(org))),
                          "chaincodes": _read_status(net, org)})
    return followers


def _read_status(net: "Network", org: Org) -> list[dict] | None:
    try:
        key = credential_file(net.layout, org).read_text().strip()
        request = urllib.request.Request(f"{url(org)}/api/v1/read/status",
                                         headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            chaincodes = json.loads(response.read())["chaincodes"]
    except (OSError, ValueError, KeyError):
        return None
    return [{k: c[k] for k in ("chaincode", "listening", "block_number", "dead_letter_count")}
            for c in chaincodes]
