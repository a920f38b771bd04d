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

from .config import Consortium, Layout, Org
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


def org_definition(layout: Layout, org: Org) -> dict:
    m = org.msp_id
    definition = {
        "Name": m,
        "ID": m,
        "MSPDir": str(layout.org_msp(org)),
        "Policies": {
            "Readers": _signature(f"OR('{m}.admin','{m}.peer','{m}.client','{m}.orderer')"),
            "Writers": _signature(f"OR('{m}.admin','{m}.client','{m}.orderer')"),
            "Admins": _signature(f"OR('{m}.admin')"),
            "Endorsement": _signature(f"OR('{m}.peer')"),
        },
        "AnchorPeers": [{"Host": org.anchor_peer.endpoint.split(":")[0],
                         "Port": org.anchor_peer.port}],
    }
    if org.orderers:
        definition["OrdererEndpoints"] = [o.endpoint for o in org.orderers]
    return definition


def configtx(layout: Layout, consortium: Consortium) -> dict:
    """configtx.yaml as a dict: every org (joiners too, for `configtxgen -printOrg`) and the
    channel profile of the founding orgs."""
    definitions = {org.msp_id: org_definition(layout, org) for org in consortium.orgs}
    founding = consortium.founding_orgs
    orderer_orgs = [o for o in founding if o.orderers]
    consenters = [{
        "Host": o.endpoint.split(":")[0], "Port": o.port,
        "ClientTLSCert": str(layout.node_dir(o.org, o.name) / "tls" / "server.crt"),
        "ServerTLSCert": str(layout.node_dir(o.org, o.name) / "tls" / "server.crt"),
    } for o in consortium.orderers]
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
                "Organizations": [definitions[o.msp_id] for o in orderer_orgs],
                "Policies": {**standard, "BlockValidation": _implicit("ANY Writers")},
                "Capabilities": {"V2_0": True},
            },
            "Application": {
                "Organizations": [definitions[o.msp_id] for o in founding],
                "Policies": {**standard,
                             "LifecycleEndorsement": _implicit("MAJORITY Endorsement"),
                             "Endorsement": _implicit("MAJORITY Endorsement")},
                "Capabilities": {"V2_5": True},
            },
        }},
    }


def write_configtx(layout: Layout, consortium: Consortium) -> None:
    folder = layout.channel_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "configtx.yaml").write_text(yaml.safe_dump(configtx(layout, consortium),
                                                         sort_keys=False))


def genesis_block(fabric: Fabric, consortium: Consortium) -> str:
    """The channel's genesis block, made once: remaking it would make a different channel."""
    block = fabric.layout.channel_dir / f"{consortium.channel}.block"
    if not block.exists():
        fabric.run("configtxgen", ["-profile", PROFILE, "-outputBlock", str(block),
                                   "-channelID", consortium.channel],
                   env={"FABRIC_CFG_PATH": str(fabric.layout.channel_dir)})
    return str(block)


def orderer_channels(fabric: Fabric, orderer) -> list[str]:
    listing = fabric.osnadmin(orderer, ["channel", "list"])
    return [c["name"] for c in listing.get("channels") or []]


def join_orderers(fabric: Fabric, consortium: Consortium) -> list[str]:
    """Join every orderer not yet serving the channel; the ids of those joined."""
    block = genesis_block(fabric, consortium)
    joined = []
    for orderer in consortium.orderers:
        if consortium.channel in orderer_channels(fabric, orderer):
            continue
        progress(f"joining {orderer.id} to {consortium.channel}")
        fabric.osnadmin(orderer, ["channel", "join", "--channelID", consortium.channel,
                                  "--config-block", block])
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


def join_peers(fabric: Fabric, consortium: Consortium, peers) -> list[str]:
    """Join every peer not yet on the channel, from block 0 fetched from an orderer (the peer
    then pulls and validates every later block); the ids of those joined."""
    block0 = fabric.layout.channel_dir / f"{consortium.channel}-0.block"
    joined = []
    for peer in peers:
        if consortium.channel in peer_channels(fabric, peer):
            continue
        if not block0.exists():
            fetch_block(fabric, consortium, peer.org, "0", str(block0))
        progress(f"joining {peer.id} to {consortium.channel}")
        fabric.run("peer", ["channel", "join", "-b", str(block0)], env=fabric.peer_env(peer))
        joined.append(peer.id)
    return joined


def height(fabric: Fabric, consortium: Consortium, peer) -> int:
    out = fabric.run("peer", ["channel", "getinfo", "-c", consortium.channel],
                     env=fabric.peer_env(peer), timeout=15)
    return int(json.loads(out.split("Blockchain info:", 1)[1])["height"])


def current_config(fabric: Fabric, consortium: Consortium, org: Org) -> dict:
    """The channel's current config (the `config` of its latest config block), as JSON."""
    block_path = fabric.layout.channel_dir / f"config-{org.name}.block"
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
