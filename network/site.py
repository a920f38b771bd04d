"""One org acting from its own site: the steps its operator runs on the org's own host
(`python -m network --org MSP_ID STEP`).

An ``OrgSite`` step reads and writes the org's site and the exchange, nothing of another
org's site: other orgs are known by their exported definitions (``exports``), and what needs a
key (an enrollment, an osnadmin join, a signature on a config update, a chaincode approval) is
done with this org's own keys. `up` and `add-org` on one machine drive every site through
these same steps in turn; the isolation test runs each as its own process with the other
sites hidden.

Founding, in order: each org `init` (its CA, its keys, its export); the founder `found` (the
genesis block from the exports); each orderer org `join-orderers`; each org `join-peers`, then
`chaincode`; the lessor `define-chaincode`. Adding an org: the new org `init`; a member
`propose-org NEW` (an update file); enough members `sign-update FILE --adds NEW` in turn
(each checks the file adds NEW and does nothing else), the last one `submit-update FILE --adds
NEW`; the new org `join-peers` and `chaincode`; the lessor `define-chaincode`.
"""

from __future__ import annotations

import copy
import functools
import shutil
from pathlib import Path

from . import binaries, chaincode, channel, crypto, exports, nodes
from .config import ConfigError, Consortium, Layout, Org
from .fabric import Fabric, FabricCommandError
from .log import progress


class UpdateRefused(Exception):
    """A config update refused: by a signer, for doing other than what it was asked to sign,
    or by the orderer, for too few of the admins its policy needs."""


def _listed(changes: set[tuple[str, str]]) -> str:
    return ", ".join(f"{kind} {path}" for kind, path in sorted(changes)) or "no change"


def founder(consortium: Consortium) -> Org:
    """The founding org that makes the genesis block: the first that runs orderers."""
    return next(o for o in consortium.founding_orgs if o.orderers)


class OrgSite:
    def __init__(self, consortium: Consortium, layout: Layout, org: Org,
                 bin_dir: Path | None = None):
        self.consortium, self.layout, self.org = consortium, layout, org
        self._bin_dir = bin_dir

    @functools.cached_property
    def fabric(self) -> Fabric:
        return Fabric(self._bin_dir or binaries.ensure_built(), self.layout)

    # --- the org's own material -------------------------------------------------------------

    def init(self) -> list[str]:
        """The org's CA running, its identities enrolled in its site, its public definition
        exported to the exchange."""
        changes = crypto.enroll_site(self.consortium, self.layout, self.org,
                                     binaries.ensure_ca_built())
        if exports.export(self.layout, self.org):
            changes.append(f"exported {self.org.msp_id}'s definition to "
                           f"{self.layout.export_dir(self.org)}")
        return changes

    # --- founding -----------------------------------------------------------------------------

    def found(self) -> list[str]:
        """The channel's genesis block, from the founding orgs' exports, into the exchange."""
        block = self.layout.genesis_block(self.consortium.channel)
        if block.exists():
            return []
        channel.genesis_block(self.fabric, self.consortium, self.org)
        return [f"made the genesis block {block}"]

    def _started(self, nodes_: list, start) -> list[str]:
        fabric = self.fabric
        nodes.write_configs(fabric)
        changes = []
        for node in nodes_:
            action = start(fabric, node)
            if action:
                changes.append(f"{action} {node.id}")
        for node in nodes_:
            nodes.wait_healthy(self.layout, node)
        return changes

    def join_orderers(self) -> list[str]:
        """The org's orderers running and joined to the channel (osnadmin, its own admin)."""
        if not self.org.orderers:
            return []
        changes = self._started(self.org.orderers, nodes.start_orderer)
        return changes + [f"joined {o} to {self.consortium.channel}" for o in
                          channel.join_orderers(self.fabric, self.consortium, self.org)]

    def join_peers(self) -> list[str]:
        """The org's peers running and joined to the channel from block 0."""
        changes = self._started(self.org.peers, nodes.start_peer)
        return changes + [f"joined {p} to {self.consortium.channel}" for p in
                          channel.join_peers(self.fabric, self.consortium, self.org)]

    # --- chaincode ---------------------------------------------------------------------------

    def deploy_chaincode(self) -> list[str]:
        """Every chaincode installed on the org's peers, served by its servers and approved by
        its admin (for the definition its own peers see, once they hold the whole chain)."""
        channel.wait_caught_up(self.fabric, self.consortium, self.org)
        return chaincode.serve_and_approve(self.fabric, self.consortium, self.org)

    def define_chaincode(self, members: list[Org] | None = None) -> list[str]:
        """As the lessor: commit what every member approved, set the on-ledger roles. The
        members are those of the channel config unless given."""
        if self.org.role != "lessor":
            raise ConfigError(f"{self.org.msp_id} is not the lessor: the lessor org commits "
                              f"chaincode definitions and sets the roles")
        if members is None:
            groups = self.channel_config()["channel_group"]["groups"]["Application"]["groups"]
            members = [o for o in self.consortium.orgs if o.msp_id in groups]
        return chaincode.define(self.fabric, self.consortium, self.org, members)

    # --- config updates ------------------------------------------------------------------------

    def channel_config(self) -> dict:
        return channel.current_config(self.fabric, self.consortium, self.org)

    def propose_org(self, new: Org, config: dict | None = None) -> Path | None:
        """An unsigned config update adding ``new`` (from its export) to the channel, put into
        the exchange for the signers; None if ``new`` is a member already."""
        config = config or self.channel_config()
        groups = config["channel_group"]["groups"]["Application"]["groups"]
        if new.msp_id in groups:
            return None
        updated = copy.deepcopy(config)
        updated["channel_group"]["groups"]["Application"]["groups"][new.msp_id] = (
            channel.printed_org(self.fabric, self.org, exports.load(self.layout, new)))
        envelope = channel.update_envelope(self.fabric, self.consortium, config, updated,
                                           self.layout.work_dir(self.org) / f"add-{new.name}")
        shared = self.layout.updates_dir / f"add-{new.name}.pb"
        shared.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(envelope, shared)
        progress(f"{self.org.msp_id} proposes adding {new.msp_id}: {shared}")
        return shared

    def _check(self, update: Path, expected: set[tuple[str, str]], verb: str) -> None:
        """Go on only if the config update file ``update`` makes exactly the ``expected``
        changes (``channel.changes_of``): an admin signs what the file does, not what the org
        that passed it along says it does."""
        changes = channel.update_changes(self.fabric, update, self.channel_config())
        if changes != expected:
            raise UpdateRefused(
                f"{self.org.msp_id} does not {verb} {update}: it makes {_listed(changes)}, "
                f"not what was asked, {_listed(expected)}")
        progress(f"{self.org.msp_id} {verb}s {update}: {_listed(changes)}")

    def sign(self, update: Path, expected: set[tuple[str, str]]) -> None:
        """Add this org's admin's signature to the config update file ``update``, once it is
        found to make exactly the ``expected`` changes."""
        self._check(update, expected, "sign")
        fabric = self.fabric
        fabric.run("peer", ["channel", "signconfigtx", "-f", str(update)],
                   env=fabric.peer_env(self.org.anchor_peer))

    def submit(self, update: Path, expected: set[tuple[str, str]]) -> None:
        """Send the signed config update ``update`` to the orderers, once it is found to make
        exactly the ``expected`` changes; the submitting admin's signature is added on the
        way."""
        self._check(update, expected, "submit")
        fabric = self.fabric
        try:
            fabric.run("peer", ["channel", "update", "-f", str(update), "-c",
                                self.consortium.channel,
                                *fabric.orderer_flags(self.consortium.orderers[0], self.org)],
                       env=fabric.peer_env(self.org.anchor_peer))
        except FabricCommandError as error:
            if "policy" in error.output and "sub-policies" in error.output:
                raise UpdateRefused(
                    f"the orderer refused the config update {update}: the admins who signed "
                    f"it are too few for the channel's Admins policy "
                    f"({error.output.strip().splitlines()[-1]})") from error
            raise

