"""The declarative consortium (network/consortium.yaml) as typed objects, plus where every
generated file of a node lives under the run folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = Path(__file__).resolve().parent / "consortium.yaml"
DEFAULT_HOME = REPO_ROOT / "run" / "network"
HOST = "127.0.0.1"
# TLS server name every node's certificate carries, so clients dial 127.0.0.1 or localhost alike.
TLS_HOSTNAMES = ("localhost",)


class ConfigError(Exception):
    """The consortium file is malformed or inconsistent."""


@dataclasses.dataclass(frozen=True)
class Node:
    """A Fabric node of an org: a peer or an orderer."""

    org: "Org"
    name: str
    port: int
    operations_port: int

    @property
    def id(self) -> str:
        return f"{self.name}.{self.org.domain}"

    @property
    def endpoint(self) -> str:
        return f"{HOST}:{self.port}"


@dataclasses.dataclass(frozen=True)
class Peer(Node):
    chaincode_port: int

    @property
    def ports(self) -> dict[str, int]:
        return {"listen": self.port, "chaincode": self.chaincode_port,
                "operations": self.operations_port}


@dataclasses.dataclass(frozen=True)
class Orderer(Node):
    admin_port: int

    @property
    def admin_endpoint(self) -> str:
        return f"{HOST}:{self.admin_port}"

    @property
    def ports(self) -> dict[str, int]:
        return {"listen": self.port, "admin": self.admin_port,
                "operations": self.operations_port}


@dataclasses.dataclass(eq=False)
class Org:
    msp_id: str
    domain: str
    role: str
    joins_later: bool
    chaincode_servers: dict[str, int]
    gateway_port: int | None
    ca_port: int
    ca_operations_port: int
    peers: list[Peer] = dataclasses.field(default_factory=list)
    orderers: list[Orderer] = dataclasses.field(default_factory=list)

    @property
    def name(self) -> str:
        """Short lower-case name used in folder and node names (LessorMSP -> lessor)."""
        return self.msp_id.removesuffix("MSP").lower()

    @property
    def anchor_peer(self) -> Peer:
        return self.peers[0]

    @property
    def ca_endpoint(self) -> str:
        return f"{HOST}:{self.ca_port}"


@dataclasses.dataclass(frozen=True)
class Collection:
    """A private data collection of a chaincode (its definition goes to the peer CLI as JSON)."""

    name: str
    members: tuple[str, ...]
    endorsement_policy: str
    required_peer_count: int
    max_peer_count: int
    block_to_live: int
    member_only_read: bool
    member_only_write: bool

    def definition(self) -> dict:
        """Fabric's collection config (the peer CLI's --collections-config entry)."""
        members = ",".join(f"'{msp}.member'" for msp in self.members)
        return {"name": self.name, "policy": f"OR({members})",
                "requiredPeerCount": self.required_peer_count,
                "maxPeerCount": self.max_peer_count, "blockToLive": self.block_to_live,
                "memberOnlyRead": self.member_only_read,
                "memberOnlyWrite": self.member_only_write,
                "endorsementPolicy": {"signaturePolicy": self.endorsement_policy}}


@dataclasses.dataclass(frozen=True)
class Chaincode:
    name: str
    path: Path
    endorsement_policy: str
    collections: tuple[Collection, ...] = ()


@dataclasses.dataclass
class Consortium:
    channel: str
    batch_timeout: str
    max_message_count: int
    orgs: list[Org]
    chaincodes: list[Chaincode]

    @property
    def founding_orgs(self) -> list[Org]:
        return [o for o in self.orgs if not o.joins_later]

    def org(self, msp_id: str) -> Org:
        for org in self.orgs:
            if org.msp_id == msp_id:
                return org
        raise ConfigError(f"no org {msp_id!r} in the consortium file "
                          f"(known: {', '.join(o.msp_id for o in self.orgs)})")

    @property
    def orderers(self) -> list[Orderer]:
        return [o for org in self.orgs for o in org.orderers]

    def all_ports(self, orgs: list[Org]) -> dict[int, str]:
        """Every port the given orgs listen on, with what uses it (for free-port checks)."""
        used: dict[int, str] = {}

        def claim(port: int, what: str) -> None:
            if port in used:
                raise ConfigError(f"port {port} is used twice: {used[port]} and {what}")
            used[port] = what

        for org in orgs:
            for node in [*org.peers, *org.orderers]:
                for kind, port in node.ports.items():
                    claim(port, f"{node.id} ({kind})")
            for cc, port in org.chaincode_servers.items():
                claim(port, f"{cc} chaincode server of {org.msp_id}")
            if org.gateway_port:
                claim(org.gateway_port, f"REST gateway of {org.msp_id}")
            claim(org.ca_port, f"Fabric CA of {org.msp_id}")
            claim(org.ca_operations_port, f"Fabric CA of {org.msp_id} (operations)")
        return used


def _require(mapping: dict, key: str, where: str):
    if key not in mapping:
        raise ConfigError(f"{where}: missing {key!r}")
    return mapping[key]


def _collection(raw: dict, where: str) -> Collection:
    name = _require(raw, "name", where)
    where = f"{where} collection {name}"
    members = tuple(_require(raw, "members", where))
    if not members:
        raise ConfigError(f"{where}: needs at least one member")
    return Collection(name=name, members=members,
                      endorsement_policy=_require(raw, "endorsement_policy", where),
                      required_peer_count=int(raw.get("required_peer_count", 0)),
                      max_peer_count=int(raw.get("max_peer_count", 0)),
                      block_to_live=int(raw.get("block_to_live", 0)),
                      member_only_read=bool(raw.get("member_only_read", True)),
                      member_only_write=bool(raw.get("member_only_write", True)))


def load(path: Path = DEFAULT_CONFIG, port_offset: int = 0) -> Consortium:
    """Read the consortium file; every port is shifted by ``port_offset``."""
    raw = yaml.safe_load(Path(path).read_text())
    orgs: list[Org] = []
    for i, raw_org in enumerate(_require(raw, "orgs", str(path))):
        where = f"{path}: orgs[{i}]"
        gateway = raw_org.get("gateway") or {}
        org = Org(
            msp_id=_require(raw_org, "msp_id", where),
            domain=_require(raw_org, "domain", where),
            role=_require(raw_org, "role", where),
            joins_later=bool(raw_org.get("joins_later", False)),
            chaincode_servers={k: int(v) + port_offset
                               for k, v in (raw_org.get("chaincode_servers") or {}).items()},
            gateway_port=int(gateway["port"]) + port_offset if "port" in gateway else None,
            ca_port=int(_require(_require(raw_org, "ca", where), "port", f"{where}.ca"))
            + port_offset,
            ca_operations_port=int(_require(raw_org["ca"], "operations_port", f"{where}.ca"))
            + port_offset,
        )
        for p in _require(raw_org, "peers", where):
            org.peers.append(Peer(org, p["name"], p["port"] + port_offset,
                                  p["operations_port"] + port_offset,
                                  p["chaincode_port"] + port_offset))
        for o in raw_org.get("orderers") or []:
            org.orderers.append(Orderer(org, o["name"], o["port"] + port_offset,
                                        o["operations_port"] + port_offset,
                                        o["admin_port"] + port_offset))
        if not org.peers:
            raise ConfigError(f"{where}: an org needs at least one peer")
        if org.joins_later and org.orderers:
            raise ConfigError(f"{where}: an org that joins later cannot run an orderer")
        orgs.append(org)
    chaincodes = [Chaincode(c["name"], REPO_ROOT / c["path"], c["endorsement_policy"],
                            tuple(_collection(k, f"{path}: chaincode {c['name']}")
                                  for k in c.get("collections") or []))
                  for c in raw.get("chaincodes") or []]
    consortium = Consortium(
        channel=_require(raw, "channel", str(path)),
        batch_timeout=str(raw.get("batch_timeout", "250ms")),
        max_message_count=int(raw.get("max_message_count", 100)),
        orgs=orgs,
        chaincodes=chaincodes,
    )
    if not consortium.orderers:
        raise ConfigError(f"{path}: no orderer declared")
    msp_ids = {o.msp_id for o in orgs}
    for cc in chaincodes:
        for collection in cc.collections:
            unknown = set(collection.members) - msp_ids
            if unknown:
                raise ConfigError(f"{cc.name} collection {collection.name}: unknown members "
                                  f"{sorted(unknown)}")
    for org in orgs:
        missing = {c.name for c in chaincodes} - set(org.chaincode_servers)
        if missing:
            raise ConfigError(f"{org.msp_id}: no chaincode server port for {sorted(missing)}")
    consortium.all_ports(orgs)
    return consortium


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where generated material lives under the run folder (one folder per network).

    Everything an org owns lies in its *site*, ``orgs/<domain>/``: its CA (database and keys),
    its verifying MSP, its nodes' and users' keys, its nodes' ledgers, logs and pid records,
    its gateway's database, and the blocks and config updates it works on. On one machine the
    sites are sibling folders; in production each is a host of its own. What orgs hand each
    other lies in the *exchange*, ``exchange/``: each org's exported public definition, the
    channel's genesis block and config updates being signed. The rest outside the sites is
    tool-level and public: chaincode packages, Fabric config templates, connection profiles."""

    home: Path

    @property
    def sites(self) -> Path:
        return self.home / "orgs"

    def site(self, org: Org) -> Path:
        return self._site_of_domain(org.domain)

    def _site_of_domain(self, domain: str) -> Path:
        return self.sites / domain

    @property
    def generator_era_crypto(self) -> Path:
        """Where the key generator of earlier versions put every org's keys together."""
        return self.home / "crypto"

    def ca_home(self, org: Org) -> Path:
        """The org's Fabric CA server: the identity CA here, its TLS CA in ``tlsca/``."""
        return self.site(org) / "ca"

    def org_msp(self, org: Org) -> Path:
        """The org's verifying MSP (CA certs only), as it appears in the channel config."""
        return self.site(org) / "msp"

    def tls_ca_cert(self, org: Org) -> Path:
        return self.org_msp(org) / "tlscacerts" / "tlsca.pem"

    def node_dir(self, org: Org, node_name: str) -> Path:
        return self.site(org) / "nodes" / node_name

    def user_dir(self, org: Org, user: str) -> Path:
        return self.site(org) / "users" / user

    def state_dir(self, node_id: str) -> Path:
        """A node's ledger and other data, in its org's site (a node id is name.domain)."""
        return self._site_of_domain(node_id.split(".", 1)[1]) / "state" / node_id

    def gateway_dir(self, org: Org) -> Path:
        return self.site(org) / "gateway"

    def _process_home(self, name: str) -> Path:
        """Where a recorded process keeps its log and pid: an org's process (its name ends in
        the org's domain: peer0.<domain>, ca.<domain>, gateway.<domain>...) in the org's site,
        anything else in the run folder."""
        _, dot, domain = name.partition(".")
        return self._site_of_domain(domain) if dot else self.home

    def log_file(self, name: str) -> Path:
        return self._process_home(name) / "logs" / f"{name}.log"

    def pid_file(self, name: str) -> Path:
        return self._process_home(name) / "pids" / f"{name}.pid"

    @property
    def shared_process_folders(self) -> tuple[Path, Path]:
        """Where earlier versions kept every org's logs and pid records together."""
        return self.home / "logs", self.home / "pids"

    def pid_files(self) -> list[Path]:
        return sorted([*self.home.glob("pids/*.pid"), *self.sites.glob("*/pids/*.pid")])

    def log_files(self) -> list[Path]:
        return sorted([*self.home.glob("logs/*.log"), *self.sites.glob("*/logs/*.log")])

    def work_dir(self, org: Org) -> Path:
        """The org's working folder for channel blocks it fetched, configtx.yaml it rendered
        and config updates it signs."""
        return self.site(org) / "channel"

    # --- the exchange: what orgs hand each other --------------------------------------------

    @property
    def exchange(self) -> Path:
        return self.home / "exchange"

    def export_dir(self, org: Org) -> Path:
        """The org's exported public definition (written by the org itself, read by all)."""
        return self.exchange / org.domain

    def exported_msp(self, org: Org) -> Path:
        return self.export_dir(org) / "msp"

    def exported_tls_ca(self, org: Org) -> Path:
        """The org's TLS CA certificate as the other orgs know it: what they trust when they
        dial its peers and orderers."""
        return self.exported_msp(org) / "tlscacerts" / "tlsca.pem"

    def exported_definition(self, org: Org) -> Path:
        return self.export_dir(org) / "definition.json"

    def exported_orderer_tls(self, orderer: "Orderer") -> Path:
        """An orderer's TLS certificate, as the channel config names its Raft consenter."""
        return self.export_dir(orderer.org) / "orderers" / orderer.name / "tls.crt"

    def genesis_block(self, channel: str) -> Path:
        return self.exchange / "channel" / f"{channel}.block"

    @property
    def updates_dir(self) -> Path:
        """Config updates passed from signer to signer."""
        return self.exchange / "updates"

    @property
    def previous_channel_dir(self) -> Path:
        """Where earlier versions kept the genesis block and every org's fetched blocks."""
        return self.home / "channel"

    @property
    def chaincode_dir(self) -> Path:
        return self.home / "chaincode"

    @property
    def profiles_dir(self) -> Path:
        return self.home / "profiles"
