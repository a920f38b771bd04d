"""Orderer, peer and CLI configuration, and starting the nodes as native processes.

Fabric's sample core.yaml/orderer.yaml are the base; everything node-specific is passed as
environment variables (the documented override mechanism), except the external builder list,
which Fabric cannot read from the environment.
"""

from __future__ import annotations

import json
import shutil

import yaml

from . import processes
from .config import HOST, REPO_ROOT, Consortium, Layout, Node, Orderer, Peer
from .fabric import Fabric

BUILDER_DIR = REPO_ROOT / "network" / "builder"
BUILDER_NAME = "carbonlease-ccaas"
START_TIMEOUT = 30.0
# Fabric's default log format colours every line; logs go to files, so plain text.
LOG_FORMAT = "%{time:2006-01-02 15:04:05.000 MST} %{level:.4s} [%{module}] %{shortfunc} -> %{message}"


def write_configs(fabric: Fabric) -> None:
    """Fabric config folders: one for peers and the CLI, one for orderers."""
    core = yaml.safe_load((fabric.sampleconfig / "core.yaml").read_text())
    core["chaincode"]["externalBuilders"] = [{
        "name": BUILDER_NAME,
        "path": str(BUILDER_DIR),
        "propagateEnvironment": ["CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"],
    }]
    for folder in (fabric.cli_config, fabric.layout.home / "config" / "peer"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "core.yaml").write_text(yaml.safe_dump(core, sort_keys=False))
    orderer_cfg = fabric.layout.home / "config" / "orderer"
    orderer_cfg.mkdir(parents=True, exist_ok=True)
    # The contents only: the cached sample's mode bits would bypass the tool's umask.
    shutil.copyfile(fabric.sampleconfig / "orderer.yaml", orderer_cfg / "orderer.yaml")


def orderer_env(layout: Layout, orderer: Orderer) -> dict[str, str]:
    node = layout.node_dir(orderer.org, orderer.name)
    tls = node / "tls"
    state = layout.state_dir(orderer.id)
    tls_files = {"PRIVATEKEY": tls / "server.key", "CERTIFICATE": tls / "server.crt"}
    env = {
        "FABRIC_CFG_PATH": str(layout.home / "config" / "orderer"),
        "FABRIC_LOGGING_SPEC": "INFO:grpc=WARNING",
        "FABRIC_LOGGING_FORMAT": LOG_FORMAT,
        "ORDERER_GENERAL_LISTENADDRESS": HOST,
        "ORDERER_GENERAL_LISTENPORT": str(orderer.port),
        "ORDERER_GENERAL_LOCALMSPID": orderer.org.msp_id,
        "ORDERER_GENERAL_LOCALMSPDIR": str(node / "msp"),
        "ORDERER_GENERAL_BOOTSTRAPMETHOD": "none",
        "ORDERER_GENERAL_TLS_ENABLED": "true",
        "ORDERER_GENERAL_TLS_ROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_GENERAL_TLS_CLIENTAUTHREQUIRED": "true",
        "ORDERER_GENERAL_TLS_CLIENTROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_FILELEDGER_LOCATION": str(state / "ledger"),
        "ORDERER_CONSENSUS_WALDIR": str(state / "etcdraft" / "wal"),
        "ORDERER_CONSENSUS_SNAPDIR": str(state / "etcdraft" / "snapshot"),
        "ORDERER_OPERATIONS_LISTENADDRESS": f"{HOST}:{orderer.operations_port}",
        "ORDERER_METRICS_PROVIDER": "prometheus",
        "ORDERER_ADMIN_LISTENADDRESS": orderer.admin_endpoint,
        "ORDERER_ADMIN_TLS_ENABLED": "true",
        "ORDERER_ADMIN_TLS_ROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED": "true",
        "ORDERER_ADMIN_TLS_CLIENTROOTCAS": f"[{tls / 'ca.crt'}]",
    }
    for key, path in tls_files.items():
        env[f"ORDERER_GENERAL_TLS_{key}"] = str(path)
        env[f"ORDERER_ADMIN_TLS_{key}"] = str(path)
    return env


def builder_config(layout: Layout, peer: Peer) -> dict:
    """What the external builder needs to point this peer at its org's chaincode servers."""
    org = peer.org
    tls = layout.node_dir(org, peer.name) / "tls"
    return {
        "addresses": {cc: f"{HOST}:{port}" for cc, port in org.chaincode_servers.items()},
        "root_cert_file": str(layout.tls_ca_cert(org)),
        "client_cert_file": str(tls / "server.crt"),
        "client_key_file": str(tls / "server.key"),
    }


def peer_env(layout: Layout, peer: Peer) -> dict[str, str]:
    org = peer.org
    node = layout.node_dir(org, peer.name)
    tls = node / "tls"
    state = layout.state_dir(peer.id)
    bootstrap = org.peers[1] if len(org.peers) > 1 and peer is org.peers[0] else org.peers[0]
    return {
        "FABRIC_CFG_PATH": str(layout.home / "config" / "peer"),
        "FABRIC_LOGGING_SPEC": "INFO:gossip,grpc=WARNING",
        "FABRIC_LOGGING_FORMAT": LOG_FORMAT,
        "CORE_PEER_ID": peer.id,
        "CORE_PEER_ADDRESS": peer.endpoint,
        "CORE_PEER_LISTENADDRESS": peer.endpoint,
        "CORE_PEER_CHAINCODEADDRESS": f"{HOST}:{peer.chaincode_port}",
        "CORE_PEER_CHAINCODELISTENADDRESS": f"{HOST}:{peer.chaincode_port}",
        "CORE_PEER_GOSSIP_BOOTSTRAP": bootstrap.endpoint,
        "CORE_PEER_GOSSIP_EXTERNALENDPOINT": peer.endpoint,
        # Loopback links: shorter alive and reconnect intervals than Fabric's WAN-minded
        # defaults (5 s, 25 s), so cross-org membership forms in seconds after a start instead
        # of up to half a minute, and a restarted peer is seen again quickly.
        "CORE_PEER_GOSSIP_ALIVETIMEINTERVAL": "1s",
        "CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT": "10s",
        "CORE_PEER_GOSSIP_RECONNECTINTERVAL": "2s",
        # State info (a peer's height and chaincodes) is pushed when it changes; the pull is
        # only anti-entropy, and every pulled snapshot has each peer's signed message checked
        # again (ECDSA and channel policy): at 1 s it took an eighth of every peer's CPU under
        # load (benchmarks/README.md). Pushed every 2 s at most, pulled at Fabric's 4 s default.
        "CORE_PEER_GOSSIP_PUBLISHSTATEINFOINTERVAL": "2s",
        "CORE_PEER_GOSSIP_REQUESTSTATEINFOINTERVAL": "4s",
        "CORE_PEER_LOCALMSPID": org.msp_id,
        "CORE_PEER_MSPCONFIGPATH": str(node / "msp"),
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_CERT_FILE": str(tls / "server.crt"),
        "CORE_PEER_TLS_KEY_FILE": str(tls / "server.key"),
        "CORE_PEER_TLS_ROOTCERT_FILE": str(tls / "ca.crt"),
        "CORE_PEER_TLS_CLIENTAUTHREQUIRED": "true",
        "CORE_PEER_TLS_CLIENTROOTCAS_FILES": str(tls / "ca.crt"),
        "CORE_PEER_FILESYSTEMPATH": str(state / "data"),
        "CORE_LEDGER_SNAPSHOTS_ROOTDIR": str(state / "snapshots"),
        "CORE_OPERATIONS_LISTENADDRESS": f"{HOST}:{peer.operations_port}",
        "CORE_METRICS_PROVIDER": "prometheus",
        # No Docker: an empty VM endpoint turns off the Docker health check.
        "CORE_VM_ENDPOINT": "",
        "CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG": json.dumps(builder_config(layout, peer)),
    }


def start_orderer(fabric: Fabric, orderer: Orderer) -> str | None:
    """Keep the orderer running with its current configuration: "started", "restarted", or
    None when it already ran so."""
    return processes.ensure(fabric.layout, orderer.id, [str(fabric.bin_dir / "orderer")],
                            orderer_env(fabric.layout, orderer), orderer.ports)


def start_peer(fabric: Fabric, peer: Peer) -> str | None:
    return processes.ensure(fabric.layout, peer.id, [str(fabric.bin_dir / "peer"), "node", "start"],
                            peer_env(fabric.layout, peer), peer.ports)


def wait_healthy(layout: Layout, node: Node) -> None:
    """Wait until the node serves on every endpoint it has: /healthz, then each gRPC listener
    (general, and an orderer's admin endpoint or a peer's chaincode listener), which open one
    by one after /healthz. A restarted orderer answers /healthz before its admin endpoint
    listens: osnadmin called then is refused."""
    listeners = [port for kind, port in node.ports.items() if kind != "operations"]

    def serving() -> bool:
        if not processes.running_pid(layout, node.id):
            raise processes.ProcessError(f"{node.id} exited during start-up; see "
                                         f"{layout.log_file(node.id)}")
        return (processes.healthz(node.operations_port)
                and all(processes.tcp_open(port) for port in listeners))
    processes.wait_for(serving, f"{node.id} serving (/healthz, ports {listeners})",
                       START_TIMEOUT, layout.log_file(node.id))


def connection_profile(layout: Layout, consortium: Consortium, msp_id: str) -> dict:
    """A Fabric common connection profile for one org: its peers, and every orderer."""
    org = consortium.org(msp_id)
    peers = org.peers
    return {
        "name": f"carbonlease-{org.name}",
        "version": "1.0.0",
        "client": {"organization": org.msp_id,
                   "connection": {"timeout": {"peer": {"endorser": "300"}}}},
        "organizations": {org.msp_id: {"mspid": org.msp_id,
                                       "peers": [p.id for p in peers]}},
        "channels": {consortium.channel: {"peers": {p.id: {} for p in peers},
                                          "orderers": [o.id for o in consortium.orderers]}},
        "peers": {p.id: {"url": f"grpcs://{p.endpoint}",
                         "tlsCACerts": {"path": str(layout.tls_ca_cert(org))},
                         "grpcOptions": {"ssl-target-name-override": p.id,
                                         "hostnameOverride": p.id}} for p in peers},
        "orderers": {o.id: {"url": f"grpcs://{o.endpoint}",
                            "tlsCACerts": {"path": str(layout.exported_tls_ca(o.org))},
                            "grpcOptions": {"ssl-target-name-override": o.id}}
                     for o in consortium.orderers},
    }
