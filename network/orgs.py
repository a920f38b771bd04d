"""Bringing a new org into the running channel.

Each step first looks at the ledger (is the org in the channel config? is its peer joined?
is the chaincode approved?), so the command is idempotent and a run that failed half-way is
finished by the next one.
"""

from __future__ import annotations

import time

from . import channel
from .config import ConfigError, Org
from .log import progress
from .network import Network


def _in_channel(config: dict, org: Org) -> bool:
    return org.msp_id in config["channel_group"]["groups"]["Application"]["groups"]


def admins_needed(config: dict) -> int:
    """How many org admins the channel's Application/Admins policy needs (MAJORITY -> n/2+1)."""
    app = config["channel_group"]["groups"]["Application"]
    rule = app["policies"]["Admins"]["policy"]["value"]["rule"]
    orgs = len(app["groups"])
    return {"ANY": 1, "ALL": orgs, "MAJORITY": orgs // 2 + 1}[rule]


def add_org(net: Network, msp_id: str, signer_ids: list[str] | None = None) -> list[str]:
    """Bring ``msp_id`` (declared in the consortium file) into the running channel, each org
    acting from its own site: the new org makes its CA, keys and export; the lessor proposes
    the update from that export; each signer signs the update file with its own admin key,
    the last one submits it; the new org joins its peers and approves the chaincodes."""
    org = net.consortium.org(msp_id)
    members = [o for o in net.member_orgs() if o is not org]
    if any(o.msp_id == msp_id for o in net.consortium.founding_orgs):
        raise ConfigError(f"{msp_id} is a founding org of the channel; nothing to add")
    net.check_layout()
    started = time.monotonic()
    newcomer = net.site(org)
    changes = newcomer.init()
    net.write_profile(org)

    proposer = net.site(net.lessor())
    config = proposer.channel_config()
    if not _in_channel(config, org):
        needed = admins_needed(config)
        if signer_ids:
            signers = [net.consortium.org(s) for s in signer_ids]
        else:
            signers = members[:needed]
        progress(f"adding {msp_id} to {net.consortium.channel}: config update signed by "
                 f"{', '.join(s.msp_id for s in signers)} (the Admins policy needs {needed})")
        update = proposer.propose_org(org, config)
        for signer in signers[:-1]:
            net.site(signer).sign(update, channel.adding_org(msp_id))
        net.site(signers[-1]).submit(update, channel.adding_org(msp_id))
        changes.append(f"added {msp_id} to the channel config")

    net.record_joined(msp_id)
    # The new peer joins from block 0 and pulls the chain from the orderers, not from a
    # snapshot: the ledger is small here, and replaying validates every block rather than
    # trusting a snapshot made by another org.
    changes += newcomer.join_peers()
    net.wait_for_gossip(net.member_peers())
    changes += newcomer.deploy_chaincode()
    changes += proposer.define_chaincode(net.member_orgs())
    progress(f"{msp_id} is a member; took {time.monotonic() - started:.1f} s")
    return changes
