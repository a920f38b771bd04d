"""Bringing a new org into the running channel.

Each step first looks at the ledger (is the org in the channel config? is its peer joined?
is the chaincode approved?), so the command is idempotent and a run that failed half-way is
finished by the next one.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

from . import chaincode, channel
from .config import ConfigError, Org
from .fabric import FabricCommandError
from .log import progress
from .network import Network


class AddOrgError(Exception):
    pass


def _in_channel(config: dict, org: Org) -> bool:
    return org.msp_id in config["channel_group"]["groups"]["Application"]["groups"]


def admins_needed(config: dict) -> int:
    """How many org admins the channel's Application/Admins policy needs (MAJORITY -> n/2+1)."""
    app = config["channel_group"]["groups"]["Application"]
    rule = app["policies"]["Admins"]["policy"]["value"]["rule"]
    orgs = len(app["groups"])
    return {"ANY": 1, "ALL": orgs, "MAJORITY": orgs // 2 + 1}[rule]


def config_update_envelope(net: Network, org: Org, signer: Org) -> Path:
    """An unsigned config-update envelope adding ``org`` (with its anchor peer) to the
    application group, computed from the channel's current config."""
    fabric = net.fabric
    current = channel.current_config(fabric, net.consortium, signer)
    org_group = json.loads(fabric.run("configtxgen", ["-printOrg", org.msp_id],
                                      env={"FABRIC_CFG_PATH": str(net.layout.channel_dir)}))
    updated = copy.deepcopy(current)
    updated["channel_group"]["groups"]["Application"]["groups"][org.msp_id] = org_group
    return channel.update_envelope(fabric, net.consortium, current, updated,
                                   net.layout.channel_dir / f"add-{org.name}")


def submit_config_update(net: Network, envelope: Path, signers: list[Org]) -> None:
    """Each signer's admin signs the envelope as its own org would; the last one submits
    it (`peer channel update` adds the submitter's signature)."""
    fabric = net.fabric
    for signer in signers[:-1]:
        fabric.run("peer", ["channel", "signconfigtx", "-f", str(envelope)],
                   env=fabric.peer_env(signer.anchor_peer))
    last = signers[-1]
    try:
        fabric.run("peer", ["channel", "update", "-f", str(envelope), "-c",
                            net.consortium.channel,
                            *fabric.orderer_flags(net.consortium.orderers[0], last)],
                   env=fabric.peer_env(last.anchor_peer))
    except FabricCommandError as error:
        if "policy" in error.output and "sub-policies" in error.output:
            raise AddOrgError(
                f"the orderer refused the config update: it is signed by the admins of "
                f"{', '.join(s.msp_id for s in signers)}, too few for the channel's "
                f"Admins policy ({error.output.strip().splitlines()[-1]})") from error
        raise


def add_org(net: Network, msp_id: str, signer_ids: list[str] | None = None) -> list[str]:
    """Bring ``msp_id`` (declared in the consortium file) into the running channel."""
    org = net.consortium.org(msp_id)
    members = [o for o in net.member_orgs() if o is not org]
    if any(o.msp_id == msp_id for o in net.consortium.founding_orgs):
        raise ConfigError(f"{msp_id} is a founding org of the channel; nothing to add")
    started = time.monotonic()
    changes: list[str] = []
    fabric = net.fabric
    changes += net.enroll([org])
    channel.write_configtx(net.layout, net.consortium)
    net.write_profile(org)

    lessor = next(o for o in members if o.role == "lessor")
    config = channel.current_config(fabric, net.consortium, lessor)
    if not _in_channel(config, org):
        needed = admins_needed(config)
        if signer_ids:
            signers = [net.consortium.org(s) for s in signer_ids]
        else:
            signers = members[:needed]
        progress(f"adding {msp_id} to {net.consortium.channel}: config update signed by "
                 f"{', '.join(s.msp_id for s in signers)} (the Admins policy needs {needed})")
        envelope = config_update_envelope(net, org, lessor)
        submit_config_update(net, envelope, signers)
        changes.append(f"added {msp_id} to the channel config")

    net.record_joined(msp_id)
    # The new peer joins from block 0 and pulls the chain from the orderers, not from a
    # snapshot: the ledger is small here, and replaying validates every block rather than
    # trusting a snapshot made by another org.
    changes += net.run_peers(fabric, org.peers)
    net.wait_for_gossip(net.member_peers())
    changes += chaincode.deploy(fabric, net.consortium, net.member_orgs())
    progress(f"{msp_id} is a member; took {time.monotonic() - started:.1f} s")
    return changes
