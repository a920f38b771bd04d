"""The application channel: configtx.yaml, the genesis block, orderer and peer joins.

Fabric 3 has no system channel: the genesis block of `carbonlease` is made by configtxgen
and given to each orderer through the channel participation API (osnadmin); peers then
fetch block 0 from an orderer and join.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from . import exports, processes
from .config import ConfigError, Consortium, Org
from .exports import OrgExport
from .fabric import Fabric, FabricCommandError
from .log import progress

PROFILE = "CarbonLeaseChannel"
RAFT_OPTIONS = {
    # 100 ms ticks x 10 = a 1 s election timeout: loopback links need no more, and a
    # crashed leader is replaced quickly.
    "TickInterval": "100ms",
    "ElectionTick": 10,
    "HeartbeatTick": 1,
    "MaxInflightBlocks": 5,
    "SnapshotIntervalSize": "16 MB",
}


def _signature(rule: str) -> dict:
    return {"Type": "Signature", "Rule": rule}


def _implicit(rule: str) -> dict:
    return {"Type": "ImplicitMeta", "Rule": rule}


def org_definition(export: OrgExport) -> dict:
    """An org's section of configtx.yaml, from its exported public definition."""
    m = export.msp_id
    definition = {
        "Name": m,
        "ID": m,
        "MSPDir": str(export.msp_dir),
        "Policies": {
            "Readers": _signature(f"OR('{m}.admin','{m}.peer','{m}.client','{m}.orderer')"),
            "Writers": _signature(f"OR('{m}.admin','{m}.client','{m}.orderer')"),
            "Admins": _signature(f"OR('{m}.admin')"),
            "Endorsement": _signature(f"OR('{m}.peer')"),
        },
        "AnchorPeers": [{"Host": host, "Port": port} for host, port in export.anchor_peers],
    }
    if export.orderers:
        definition["OrdererEndpoints"] = [o.endpoint for o in export.orderers]
    return definition


def configtx(consortium: Consortium, org_exports: list[OrgExport]) -> dict:
    """configtx.yaml as a dict: the orgs of ``org_exports`` and the channel profile of the
    founding orgs, whose exports must all be among them."""
    definitions = {e.msp_id: org_definition(e) for e in org_exports}
    by_id = {e.msp_id: e for e in org_exports}
    founding = [by_id[o.msp_id] for o in consortium.founding_orgs]
    consenters = [{"Host": o.host, "Port": o.port,
                   "ClientTLSCert": str(o.tls_cert), "ServerTLSCert": str(o.tls_cert)}
                  for e in founding for o in e.orderers]
    standard = {"Readers": _implicit("ANY Readers"), "Writers": _implicit("ANY Writers"),
                "Admins": _implicit("MAJORITY Admins")}
    return {
        "Organizations": list(definitions.values()),
        "Profiles": {PROFILE: {
            "Policies": standard,
            "Capabilities": {"V3_0": True},
            "Orderer": {
                "OrdererType": "etcdraft",
                "BatchTimeout": consortium.batch_timeout,
                "BatchSize": {"MaxMessageCount": consortium.max_message_count,
                              "AbsoluteMaxBytes": "10 MB", "PreferredMaxBytes": "2 MB"},
                "EtcdRaft": {"Consenters": consenters, "Options": RAFT_OPTIONS},
                "Organizations": [definitions[e.msp_id] for e in founding if e.orderers],
                "Policies": {**standard, "BlockValidation": _implicit("ANY Writers")},
                "Capabilities": {"V2_0": True},
            },
            "Application": {
                "Organizations": [definitions[e.msp_id] for e in founding],
                "Policies": {**standard,
                             "LifecycleEndorsement": _implicit("MAJORITY Endorsement"),
                             "Endorsement": _implicit("MAJORITY Endorsement")},
                "Capabilities": {"V2_5": True},
            },
        }},
    }


def _write_configtx(folder: Path, doc: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "configtx.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder


def genesis_block(fabric: Fabric, consortium: Consortium, founder: Org) -> Path:
    """The channel's genesis block, made once by ``founder`` from the founding orgs' exported
    definitions alone, and put into the exchange for the orderer orgs. Remaking it would make
    a different channel, so an existing one is kept."""
    block = fabric.layout.genesis_block(consortium.channel)
    if not block.exists():
        founding = [exports.load(fabric.layout, o) for o in consortium.founding_orgs]
        folder = _write_configtx(fabric.layout.work_dir(founder), configtx(consortium, founding))
        block.parent.mkdir(parents=True, exist_ok=True)
        progress(f"{founder.msp_id} makes the genesis block of {consortium.channel} from "
                 f"{len(founding)} exported definitions")
        fabric.run("configtxgen", ["-profile", PROFILE, "-outputBlock", str(block),
                                   "-channelID", consortium.channel],
                   env={"FABRIC_CFG_PATH": str(folder)})
    return block


def printed_org(fabric: Fabric, acting: Org, export: OrgExport) -> dict:
    """An org's channel config group (JSON), rendered by ``acting`` from its export."""
    folder = _write_configtx(fabric.layout.work_dir(acting) / f"print-{export.msp_id}",
                             {"Organizations": [org_definition(export)]})
    return json.loads(fabric.run("configtxgen", ["-printOrg", export.msp_id],
                                 env={"FABRIC_CFG_PATH": str(folder)}))


def orderer_channels(fabric: Fabric, orderer) -> list[str]:
    listing = fabric.osnadmin(orderer, ["channel", "list"])
    return [c["name"] for c in listing.get("channels") or []]


def join_orderers(fabric: Fabric, consortium: Consortium, org: Org) -> list[str]:
    """Join each of ``org``'s orderers not yet serving the channel, with the genesis block
    from the exchange, as ``org``'s admin; the ids of those joined."""
    joined = []
    for orderer in org.orderers:
        if consortium.channel in orderer_channels(fabric, orderer):
            continue
        block = fabric.layout.genesis_block(consortium.channel)
        if not block.exists():
            raise ConfigError(f"{org.msp_id} cannot join {orderer.id}: no genesis block at "
                              f"{block} (the founder makes it: `python -m network --org "
                              f"{consortium.founding_orgs[0].msp_id} found`)")
        progress(f"joining {orderer.id} to {consortium.channel}")
        fabric.osnadmin(orderer, ["channel", "join", "--channelID", consortium.channel,
                                  "--config-block", str(block)])
        joined.append(orderer.id)
    return joined


def peer_channels(fabric: Fabric, peer) -> list[str]:
    out = fabric.run("peer", ["channel", "list"], env=fabric.peer_env(peer))
    return [line.strip() for line in out.splitlines()[1:] if line.strip()]


def fetch_block(fabric: Fabric, consortium: Consortium, org: Org, which: str, path: str,
                timeout: float = 30.0) -> None:
    """Fetch a block (`0`, `config`, `newest`) as ``org``'s admin, retrying while the Raft
    cluster has no leader yet (orderers refuse deliver until one is elected)."""
    orderer = consortium.orderers[0]
    deadline = time.monotonic() + timeout
    while True:
        try:
            fabric.run("peer", ["channel", "fetch", which, path, "-c", consortium.channel,
                                *fabric.orderer_flags(orderer, org)],
                       env=fabric.peer_env(org.peers[0]))
            return
        except FabricCommandError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def join_peers(fabric: Fabric, consortium: Consortium, org: Org) -> list[str]:
    """Join each of ``org``'s peers not yet on the channel, from block 0 that ``org``'s admin
    fetched from an orderer (the peer then pulls and validates every later block); the ids
    of those joined."""
    block0 = fabric.layout.work_dir(org) / f"{consortium.channel}-0.block"
    joined = []
    for peer in org.peers:
        if consortium.channel in peer_channels(fabric, peer):
            continue
        if not block0.exists():
            block0.parent.mkdir(parents=True, exist_ok=True)
            fetch_block(fabric, consortium, org, "0", str(block0))
        progress(f"joining {peer.id} to {consortium.channel}")
        fabric.run("peer", ["channel", "join", "-b", str(block0)], env=fabric.peer_env(peer))
        joined.append(peer.id)
    return joined


def height(fabric: Fabric, consortium: Consortium, peer) -> int:
    out = fabric.run("peer", ["channel", "getinfo", "-c", consortium.channel],
                     env=fabric.peer_env(peer), timeout=15)
    return int(json.loads(out.split("Blockchain info:", 1)[1])["height"])


def wait_caught_up(fabric: Fabric, consortium: Consortium, org: Org,
                   timeout: float = 60.0) -> None:
    """Wait until each of ``org``'s peers holds every block the orderers had cut when asked
    (a peer that has just joined is still pulling the chain), so that what ``org`` then reads
    from its own peers (the committed chaincode definition) is current."""
    block_path = fabric.layout.work_dir(org) / "newest.block"
    block_path.parent.mkdir(parents=True, exist_ok=True)
    fetch_block(fabric, consortium, org, "newest", str(block_path))
    decoded = json.loads(fabric.run("configtxlator", ["proto_decode", "--type", "common.Block",
                                                      "--input", str(block_path)]))
    newest = int(decoded["header"]["number"])

    def caught_up() -> bool:
        try:
            return all(height(fabric, consortium, p) > newest for p in org.peers)
        except (FabricCommandError, ValueError, IndexError):
            return False
    processes.wait_for(caught_up, f"{org.msp_id}'s peers at block {newest}", timeout)


def current_config(fabric: Fabric, consortium: Consortium, org: Org) -> dict:
    """The channel's current config (the `config` of its latest config block), as JSON."""
    block_path = fabric.layout.work_dir(org) / "config.block"
    block_path.parent.mkdir(parents=True, exist_ok=True)
    fetch_block(fabric, consortium, org, "config", str(block_path))
    decoded = json.loads(fabric.run("configtxlator", ["proto_decode", "--type", "common.Block",
                                                      "--input", str(block_path)]))
    return decoded["data"]["data"][0]["payload"]["data"]["config"]


def update_envelope(fabric: Fabric, consortium: Consortium, current: dict, updated: dict,
                    folder: Path) -> Path:
    """An unsigned config-update envelope taking the channel from config ``current`` to
    ``updated`` (both as JSON), written to ``folder``: the file signers pass along."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, doc in (("original", current), ("updated", updated)):
        (folder / f"{name}.json").write_text(json.dumps(doc))
        fabric.run("configtxlator", ["proto_encode", "--type", "common.Config", "--input",
                                     str(folder / f"{name}.json"), "--output",
                                     str(folder / f"{name}.pb")])
    fabric.run("configtxlator", ["compute_update", "--channel_id", consortium.channel,
                                 "--original", str(folder / "original.pb"),
                                 "--updated", str(folder / "updated.pb"),
                                 "--output", str(folder / "update.pb")])
    update = json.loads(fabric.run("configtxlator", ["proto_decode", "--type",
                                                     "common.ConfigUpdate", "--input",
                                                     str(folder / "update.pb")]))
    envelope = {"payload": {"header": {"channel_header": {"channel_id": consortium.channel,
                                                          "type": 2}},
                            "data": {"config_update": update}}}
    (folder / "envelope.json").write_text(json.dumps(envelope))
    envelope_pb = folder / "envelope.pb"
    fabric.run("configtxlator", ["proto_encode", "--type", "common.Envelope", "--input",
                                 str(folder / "envelope.json"), "--output", str(envelope_pb)])
    return envelope_pb


def update_changes(fabric: Fabric, update: Path, current: dict) -> set[tuple[str, str]]:
    """What the config-update envelope file ``update`` does to the channel whose config is
    ``current`` (JSON), read from the file itself, not from whoever passed it along: see
    ``changes_of``."""
    envelope = json.loads(fabric.run("configtxlator", ["proto_decode", "--type",
                                                       "common.Envelope", "--input", str(update)]))
    return changes_of(envelope["payload"]["data"]["config_update"], current["channel_group"])


def changes_of(config_update: dict, current: dict) -> set[tuple[str, str]]:
    """A config update's changes to the channel group ``current``, as ("added" | "modified" |
    "removed", path) pairs, the path from the channel group down (e.g. ("added",
    "Application/ShenzhenPartnerMSP"), ("modified", "Application/GridMSP/values/MSP")).
    Judged against the channel as it is, as the orderer judges it (the read set names only
    what the update depends on): an element of the write set the channel lacks is added (what
    lies inside it is part of it); one at a version above the channel's is modified; a group
    at a new version replaces its members, so a member it leaves out is removed."""
    found: set[tuple[str, str]] = set()

    def where(path: str, kind: str, name: str) -> str:
        return "/".join(p for p in (path, "" if kind == "groups" else kind, name) if p)

    def walk(path: str, written: dict, now: dict) -> None:
        bumped = int(written.get("version", 0)) > int(now.get("version", 0))
        if bumped:
            found.add(("modified", path or "/"))
        for kind in ("groups", "values", "policies"):
            members, present = written.get(kind) or {}, now.get(kind) or {}
            if bumped:
                found.update(("removed", where(path, kind, name))
                             for name in present if name not in members)
            for name, element in members.items():
                if name not in present:
                    found.add(("added", where(path, kind, name)))
                elif kind == "groups":
                    walk(where(path, kind, name), element, present[name])
                elif int(element.get("version", 0)) > int(present[name].get("version", 0)):
                    found.add(("modified", where(path, kind, name)))

    walk("", config_update.get("write_set") or {}, current)
    return found


def adding_org(msp_id: str) -> set[tuple[str, str]]:
    """The changes of an update that adds the org ``msp_id`` and does nothing else."""
    return {("modified", "Application"), ("added", f"Application/{msp_id}")}
