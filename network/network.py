"""Bring the consortium up, report on it, and take it down: the steps behind the CLI."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import binaries, ca, chaincode, channel, crypto, gateways, nodes, processes
from .config import ConfigError, Consortium, Layout, Org
from .fabric import Fabric, FabricCommandError
from .log import progress
from .site import OrgSite, founder


class Network:
    def __init__(self, consortium: Consortium, layout: Layout, bin_dir: Path | None = None):
        self.consortium = consortium
        self.layout = layout
        self._bin_dir = bin_dir

    @property
    def fabric(self) -> Fabric:
        if self._bin_dir is None:
            self._bin_dir = binaries.ensure_built()
        return Fabric(self._bin_dir, self.layout)

    @property
    def ca_bin(self) -> Path:
        return binaries.ensure_ca_built()

    def site(self, org: Org) -> OrgSite:
        """``org`` acting from its own site (the per-org steps)."""
        return OrgSite(self.consortium, self.layout, org, self.fabric.bin_dir)

    def check_layout(self) -> None:
        """Refuse a run folder made by the key generator of earlier versions: its keys of
        every org lie together outside any site, and no CA issued them. A run folder of the
        previous site layout is upgraded in place."""
        if self.layout.generator_era_crypto.is_dir():
            raise ConfigError(
                f"{self.layout.home} was made by an earlier version that generated every "
                f"org's keys in one place ({self.layout.generator_era_crypto}); each org now "
                f"has its own Fabric CA and site, so the network must be re-created: run "
                f"scripts/down --purge, then scripts/up (this deletes its ledgers)")
        self.upgrade_layout()

    def upgrade_layout(self) -> None:
        """Move what the previous layout kept outside the sites to where it lives now: each
        process's log and pid record into its org's site (a running process keeps writing to
        its open log, which moves with it), the genesis block into the exchange. Each org's
        export is written by its `init`, which `up` runs. A no-op on a current layout."""
        layout = self.layout
        logs, pids = layout.shared_process_folders
        for path in sorted(pids.glob("*.pid")):
            target = layout.pid_file(path.stem)
            if target != path:
                target.parent.mkdir(parents=True, exist_ok=True)
                path.rename(target)
        for path in sorted(logs.glob("*.log")):
            target = layout.log_file(path.stem)
            if target != path and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                path.rename(target)
        old_channel = layout.previous_channel_dir
        if old_channel.is_dir():
            block = old_channel / f"{self.consortium.channel}.block"
            genesis = layout.genesis_block(self.consortium.channel)
            if block.exists() and not genesis.exists():
                progress(f"upgrading {layout.home}: genesis block moved to {genesis}")
                genesis.parent.mkdir(parents=True, exist_ok=True)
                block.rename(genesis)
            # The rest are blocks every org fetched and configtx renderings: each org now
            # fetches and renders its own in its site.
            shutil.rmtree(old_channel)

    # --- which orgs are members ---------------------------------------------------------

    def member_orgs(self) -> list[Org]:
        """Founding orgs plus those that joined the running channel (recorded on join)."""
        joined = set(self._joined())
        return [o for o in self.consortium.orgs if not o.joins_later or o.msp_id in joined]

    def _joined(self) -> list[str]:
        path = self.layout.home / "joined-orgs.json"
        return json.loads(path.read_text()) if path.exists() else []

    def record_joined(self, msp_id: str) -> None:
        joined = self._joined()
        if msp_id not in joined:
            (self.layout.home / "joined-orgs.json").write_text(json.dumps(joined + [msp_id]))

    def member_peers(self):
        return [p for o in self.member_orgs() for p in o.peers]

    # --- up -------------------------------------------------------------------------------

    def up(self) -> list[str]:
        """Make the network healthy, doing only what is missing. Returns what changed.

        Every step that needs a key is one org's step from its own site (``OrgSite``), run for
        each org in turn as its operator would run it on its own host."""
        changes: list[str] = []
        started = time.monotonic()
        self.check_layout()
        self.layout.home.mkdir(parents=True, exist_ok=True)
        self._make_private()
        orgs = self.member_orgs()
        sites = [self.site(o) for o in orgs]
        # The TypeScript compiles while the nodes start.
        with ThreadPoolExecutor(max_workers=1) as background:
            compiled = background.submit(chaincode.build_all, self.consortium.chaincodes)
            changes += self._found(sites)
            compiled.result()
        for org_changes in chaincode.parallel(lambda s: s.deploy_chaincode(), sites):
            changes += org_changes
        changes += self.site(self.lessor()).define_chaincode(orgs)
        # Lifecycle calls name their peers; the Gateway service finds other orgs' endorsers
        # only through gossip, so the gateways start once membership has formed.
        self.wait_for_gossip(self.member_peers())
        changes += gateways.start(self)
        progress(f"network ready in {time.monotonic() - started:.1f} s"
                 + ("" if changes else " (nothing to do: already up)"))
        return changes

    def lessor(self) -> Org:
        return next(o for o in self.member_orgs() if o.role == "lessor")

    def _make_private(self) -> None:
        """Take group and other permissions off everything under the run folder: keys,
        ledgers (private data collections), gateway databases and logs. New files are made
        private by the umask (processes.PRIVATE_UMASK); this fixes a run folder made before."""
        for folder, _subfolders, files in os.walk(self.layout.home):
            for path in [folder, *(os.path.join(folder, f) for f in files)]:
                try:
                    mode = os.lstat(path).st_mode
                    if mode & 0o077 and not stat.S_ISLNK(mode):
                        os.chmod(path, stat.S_IMODE(mode) & ~0o077)
                except FileNotFoundError:
                    pass  # removed meanwhile by a running node (LevelDB compaction, logs)

    def _found(self, sites: list[OrgSite]) -> list[str]:
        """Each org's CA, keys and export; the genesis block; orderers, then peers, joined."""
        changes: list[str] = []
        # The orgs' CAs start and enroll side by side: each works in its own site.
        for org_changes in chaincode.parallel(lambda s: s.init(), sites):
            changes += org_changes
        for site in sites:
            self.write_profile(site.org)
        changes += self.site(founder(self.consortium)).found()
        for site in sites:
            changes += site.join_orderers()
        for site in sites:
            changes += site.join_peers()
        return changes

    def wait_for_gossip(self, peers, timeout: float = 90.0) -> None:
        """Wait until every peer knows every other member peer through gossip: the Gateway
        service and discovery find other orgs' endorsers only through it, and cross-org
        membership takes seconds to form after a start."""
        expected = len(peers) - 1
        channel_label = f'channel="{self.consortium.channel}"'

        def everyone_known() -> bool:
            return all(processes.metric(p.operations_port, "gossip_membership_total_peers_known",
                                        channel_label) == expected for p in peers)
        if not everyone_known():
            progress(f"waiting for gossip: every peer to know the {expected} others")
            processes.wait_for(everyone_known, "gossip membership", timeout)

    def write_profile(self, org: Org) -> Path:
        folder = self.layout.profiles_dir
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{org.name}.json"
        path.write_text(json.dumps(nodes.connection_profile(self.layout, self.consortium,
                                                            org.msp_id), indent=2))
        return path

    # --- down -----------------------------------------------------------------------------

    def down(self, purge: bool = False) -> list[str]:
        """Stop every recorded process: clients first (gateways, chaincode servers), then
        peers, then orderers, so nothing logs errors about a node that is already gone."""
        self.upgrade_layout()
        names = processes.recorded(self.layout)
        waves = [[n for n in names if not n.startswith(("peer", "orderer"))],
                 [n for n in names if n.startswith("peer")],
                 [n for n in names if n.startswith("orderer")]]
        stopped = []
        with ThreadPoolExecutor(max_workers=8) as pool:
            for wave in waves:
                stopped += [name for name, was_running in zip(
                    wave, pool.map(lambda n: processes.stop(self.layout, n), wave)) if was_running]
        if purge:
            shutil.rmtree(self.layout.home, ignore_errors=True)
        return stopped

    # --- status ---------------------------------------------------------------------------

    def status(self) -> dict:
        fabric = self.fabric
        peers = []
        for peer in self.member_peers():
            alive = processes.running_pid(self.layout, peer.id) is not None
            healthy = alive and processes.healthz(peer.operations_port)
            height = None
            if healthy:
                try:
                    height = channel.height(fabric, self.consortium, peer)
                except (FabricCommandError, ValueError, IndexError):
                    healthy = False
            peers.append({"name": peer.id, "msp_id": peer.org.msp_id,
                          "endpoint": peer.endpoint, "height": height,
                          "healthy": bool(healthy and height)})
        orderers = []
        for orderer in self.consortium.orderers:
            alive = processes.running_pid(self.layout, orderer.id) is not None
            orderers.append({"name": orderer.id, "msp_id": orderer.org.msp_id,
                             "endpoint": orderer.endpoint,
                             "healthy": alive and processes.healthz(orderer.operations_port)})
        orgs = self.member_orgs()
        result = {
            "healthy": all(p["healthy"] for p in peers) and all(o["healthy"] for o in orderers),
            "channel": self.consortium.channel,
            "home": str(self.layout.home),
            "peers": peers,
            "orderers": orderers,
            "connection_profiles": {o.msp_id: str(self.layout.profiles_dir / f"{o.name}.json")
                                    for o in orgs},
            "clients": {o.msp_id: self.client(o) for o in orgs},
            "chaincodes": chaincode.status(fabric, self.consortium, orgs),
            "gateways": gateways.status(self),
            "followers": gateways.follower_status(self),
            "cas": ca.status(self.layout, orgs),
            "sites": [{"msp_id": o.msp_id, "home": str(self.layout.site(o)),
                       "export": str(self.layout.export_dir(o))} for o in orgs],
        }
        result["healthy"] = (result["healthy"]
                             and all(c["healthy"] for c in result["cas"])
                             and all(c["healthy"] for c in result["chaincodes"])
                             and all(g["healthy"] for g in result["gateways"])
                             and all(f["healthy"] for f in result["followers"]))
        return result

    def client(self, org: Org) -> dict:
        """One ready-to-use client identity (User1, NodeOU client) of ``org``."""
        user = self.layout.user_dir(org, crypto.CLIENT_USER)
        return {
            "msp_id": org.msp_id,
            "peer_endpoint": f"localhost:{org.anchor_peer.port}",
            "peer_tls_ca": str(self.layout.tls_ca_cert(org)),
            "peer_host_override": None,
            "cert": str(user / "msp" / "signcerts" / "cert.pem"),
            "key": str(user / "msp" / "keystore" / crypto.KEY_FILE),
            "tls_cert": str(user / "tls" / "server.crt"),
            "tls_key": str(user / "tls" / "server.key"),
        }
