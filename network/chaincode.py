"""Chaincode as a service: build, package, install, run the servers, approve, commit, and set
the on-ledger roles.

A chaincode's version is a hash of its sources and of its private data collections'
definition, so an unchanged chaincode is recognised and left alone, and a changed one (code or
collections) gets a new package and the next sequence. The package is made
byte-for-byte reproducibly (fixed tar/gzip timestamps), so its package id is stable too.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import processes
from .config import HOST, REPO_ROOT, Chaincode, Consortium, Layout, Org
from .fabric import Fabric, FabricCommandError
from .log import progress

CHAINCODE_ROOT = REPO_ROOT / "chaincode"
# What the compiled chaincode depends on: its own sources, the shared library, the lockfile.
SOURCE_GLOBS = ("src/**/*.ts", "package.json", "tsconfig.json")
SHARED_INPUTS = ("package.json", "package-lock.json", "tsconfig.base.json")
SHARED_PACKAGE = "common"
ROLE_NAMES = ("lessor", "grid", "regulator", "partner")


def collections_json(chaincode: Chaincode) -> bytes:
    """The collections' definition as the peer CLI reads it (--collections-config)."""
    return json.dumps([c.definition() for c in chaincode.collections], sort_keys=True).encode()


def source_version(chaincode: Chaincode) -> str:
    digest = hashlib.sha256()
    files: list[Path] = []
    for folder in (chaincode.path, CHAINCODE_ROOT / SHARED_PACKAGE):
        for pattern in SOURCE_GLOBS:
            files += folder.glob(pattern)
    files += [CHAINCODE_ROOT / f for f in SHARED_INPUTS]
    for path in sorted(set(files)):
        digest.update(str(path.relative_to(CHAINCODE_ROOT)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    if chaincode.collections:
        digest.update(b"collections\0" + collections_json(chaincode))
    return digest.hexdigest()[:12]


def build_all(chaincodes: list[Chaincode]) -> None:
    """Compile the TypeScript once for all chaincodes, unless the sources are unchanged (the
    compiled output lives in the checkout, so its stamp does too, beside node_modules)."""
    key = ",".join(source_version(c) for c in chaincodes)
    stamp = CHAINCODE_ROOT / "node_modules" / ".carbonlease-build.stamp"
    built = all((c.path / "dist").is_dir() for c in chaincodes)
    if built and stamp.exists() and stamp.read_text() == key:
        return
    if not (CHAINCODE_ROOT / "node_modules").is_dir():
        raise processes.ProcessError("chaincode/node_modules is missing: run scripts/bootstrap")
    progress("compiling chaincode (npm run build)")
    result = subprocess.run(["npm", "run", "build"], cwd=CHAINCODE_ROOT, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise processes.ProcessError(f"chaincode build failed:\n{result.stdout[-3000:]}"
                                     f"{result.stderr[-3000:]}")
    stamp.write_text(key)


def _tar_gz(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


_package_lock = threading.Lock()


class Deployment:
    """One chaincode on the channel: its package and its definition."""

    def __init__(self, fabric: Fabric, consortium: Consortium, chaincode: Chaincode):
        self.fabric = fabric
        self.layout = fabric.layout
        self.consortium = consortium
        self.chaincode = chaincode
        self.version = source_version(chaincode)
        self.label = f"{chaincode.name}_{self.version}"
        self.package_path = self.layout.chaincode_dir / f"{self.label}.tar.gz"
        self.collections_path = self.layout.chaincode_dir / f"{self.label}.collections.json"

    def definition_flags(self) -> list[str]:
        """What approve and commit must both state: policy and collections."""
        flags = ["--signature-policy", self.chaincode.endorsement_policy]
        if self.chaincode.collections:
            wanted = collections_json(self.chaincode)
            with _package_lock:  # approvals of several orgs run in parallel
                if not self.collections_path.exists() or self.collections_path.read_bytes() != wanted:
                    self.collections_path.parent.mkdir(parents=True, exist_ok=True)
                    self.collections_path.write_bytes(wanted)
            flags += ["--collections-config", str(self.collections_path)]
        return flags

    def package(self) -> str:
        """Write the CCaaS package (if missing) and return its package id."""
        with _package_lock:
            return self._package()

    def _package(self) -> str:
        if not self.package_path.exists():
            connection = {"chaincode": self.chaincode.name, "dial_timeout": "10s",
                          "tls_required": True, "client_auth_required": True}
            code = _tar_gz({"connection.json": json.dumps(connection).encode()})
            metadata = {"type": "ccaas", "label": self.label}
            self.package_path.parent.mkdir(parents=True, exist_ok=True)
            self.package_path.write_bytes(_tar_gz({"code.tar.gz": code,
                                                   "metadata.json": json.dumps(metadata).encode()}))
        return f"{self.label}:{hashlib.sha256(self.package_path.read_bytes()).hexdigest()}"

    def install(self, peer) -> None:
        package_id = self.package()
        out = self.fabric.run("peer", ["lifecycle", "chaincode", "queryinstalled", "-O", "json"],
                              env=self.fabric.peer_env(peer))
        installed = json.loads(out or "{}").get("installed_chaincodes") or []
        if any(c["package_id"] == package_id for c in installed):
            return
        progress(f"installing {self.label} on {peer.id}")
        self.fabric.run("peer", ["lifecycle", "chaincode", "install", str(self.package_path)],
                        env=self.fabric.peer_env(peer))

    # --- chaincode servers --------------------------------------------------------------

    def server_name(self, org: Org) -> str:
        return f"cc-{self.chaincode.name}.{org.domain}"

    def start_server(self, org: Org) -> str | None:
        """Keep this org's chaincode server running for the current package: "started",
        "restarted" (it served an older package), or None."""
        name = self.server_name(org)
        port = org.chaincode_servers[self.chaincode.name]
        tls = self.layout.node_dir(org, f"cc-{self.chaincode.name}") / "tls"
        argv = ["node", str(CHAINCODE_ROOT / "node_modules" / "fabric-shim" / "cli.js"), "server",
                f"--chaincode-tls-cert-file={tls / 'server.crt'}",
                f"--chaincode-tls-key-file={tls / 'server.key'}",
                f"--chaincode-tls-client-cacert-file={self.layout.tls_ca_cert(org)}",
                f"--chaincode-address={HOST}:{port}",
                f"--chaincode-id={self.package()}"]
        action = processes.ensure(self.layout, name, argv, {}, {"listen": port},
                                  cwd=self.chaincode.path)
        if action:
            processes.wait_for(lambda: self._server_up(org), f"{name} listening", 20,
                               self.layout.log_file(name))
        return action

    def _server_up(self, org: Org) -> bool:
        name = self.server_name(org)
        if not processes.running_pid(self.layout, name):
            raise processes.ProcessError(f"{name} exited; see {self.layout.log_file(name)}")
        return processes.tcp_open(org.chaincode_servers[self.chaincode.name])

    def server_healthy(self, org: Org) -> bool:
        return (processes.running_pid(self.layout, self.server_name(org)) is not None
                and processes.tcp_open(org.chaincode_servers[self.chaincode.name]))

    # --- definition -----------------------------------------------------------------------

    def committed(self, peer) -> dict | None:
        try:
            out = self.fabric.run("peer", ["lifecycle", "chaincode", "querycommitted", "-C",
                                           self.consortium.channel, "--name",
                                           self.chaincode.name, "-O", "json"],
                                  env=self.fabric.peer_env(peer))
        except FabricCommandError as error:
            if "is not defined" in error.output:
                return None
            raise
        return json.loads(out)

    def _approved_package(self, org: Org, sequence: int) -> str | None:
        try:
            out = self.fabric.run("peer", ["lifecycle", "chaincode", "queryapproved", "-C",
                                           self.consortium.channel, "--name",
                                           self.chaincode.name, "--sequence", str(sequence),
                                           "-O", "json"], env=self.fabric.peer_env(org.anchor_peer))
        except FabricCommandError as error:
            if "could not fetch" in error.output or "not found" in error.output:
                return None
            raise
        approved = json.loads(out)
        if approved.get("version") != self.version:
            return None
        return ((approved.get("source") or {}).get("Type") or {}).get(
            "LocalPackage", {}).get("package_id")

    def approve(self, org: Org, sequence: int) -> bool:
        package_id = self.package()
        if self._approved_package(org, sequence) == package_id:
            return False
        progress(f"approving {self.label} (sequence {sequence}) for {org.msp_id}")
        self.fabric.run("peer", [
            "lifecycle", "chaincode", "approveformyorg", "-C", self.consortium.channel,
            "--name", self.chaincode.name, "--version", self.version,
            "--package-id", package_id, "--sequence", str(sequence),
            *self.definition_flags(), "--waitForEvent",
            *self.fabric.orderer_flags(self.consortium.orderers[0], org),
        ], env=self.fabric.peer_env(org.anchor_peer))
        return True

    def sequence(self, peer) -> tuple[dict | None, int]:
        """The committed definition (as ``peer`` knows it) and the sequence this version
        has or will have: the committed one if it is this version, else the next."""
        current = self.committed(peer)
        if current and current.get("version") == self.version:
            return current, current["sequence"]
        return current, (current or {}).get("sequence", 0) + 1

    def commit(self, committer: Org, orgs: list[Org], sequence: int) -> None:
        """Commit as ``committer``'s admin, gathering the endorsement of each org's anchor
        peer (dialled with the TLS CA that org exported)."""
        progress(f"committing {self.label} (sequence {sequence})")
        self.fabric.run("peer", [
            "lifecycle", "chaincode", "commit", "-C", self.consortium.channel,
            "--name", self.chaincode.name, "--version", self.version,
            "--sequence", str(sequence),
            *self.definition_flags(), "--waitForEvent",
            *self.fabric.orderer_flags(self.consortium.orderers[0], committer),
            *self.fabric.peer_target_flags([o.anchor_peer for o in orgs]),
        ], env=self.fabric.peer_env(committer.anchor_peer))

    def define(self, committer: Org, orgs: list[Org]) -> list[str]:
        """Make the committed definition this version, once every member org approved it."""
        current, sequence = self.sequence(committer.anchor_peer)
        if current and current.get("sequence") == sequence:
            return []
        self.commit(committer, orgs, sequence)
        return [f"committed {self.label} sequence {sequence}"]

    # --- roles ------------------------------------------------------------------------------

    def roles_wanted(self, orgs: list[Org]) -> dict[str, list[str]]:
        return {role: sorted(o.msp_id for o in orgs if o.role == role) for role in ROLE_NAMES}

    def roles_on_ledger(self, org: Org) -> dict | None:
        try:
            out = self.fabric.run("peer", ["chaincode", "query", "-C", self.consortium.channel,
                                           "-n", self.chaincode.name, "-c",
                                           json.dumps({"function": "GetRoles", "Args": []})],
                                  env=self.fabric.peer_env(org.anchor_peer))
        except FabricCommandError as error:
            if "ROLES_NOT_SET" in error.output:
                return None
            raise
        return json.loads(out)

    def set_roles(self, lessor: Org, orgs: list[Org], endorsers: list[Org]) -> bool:
        """Write the role configuration if it differs from the member orgs' roles. The
        invoking identity is the lessor org's admin; ``endorsers`` must satisfy both the
        chaincode's policy and the roles key's own policy (lessor AND regulator)."""
        wanted = self.roles_wanted(orgs)
        current = self.roles_on_ledger(lessor)
        if current and all(current.get(r) == wanted[r] for r in ROLE_NAMES):
            return False
        progress(f"setting {self.chaincode.name} roles: {wanted}")
        self.fabric.run("peer", [
            "chaincode", "invoke", "-C", self.consortium.channel, "-n", self.chaincode.name,
            "-c", json.dumps({"function": "SetRoles", "Args": [json.dumps(wanted)]}),
            "--waitForEvent",
            *self.fabric.orderer_flags(self.consortium.orderers[0], lessor),
            *self.fabric.peer_target_flags([o.anchor_peer for o in endorsers]),
        ], env=self.fabric.peer_env(lessor.anchor_peer))
        return True


def serve_and_approve(fabric: Fabric, consortium: Consortium, org: Org) -> list[str]:
    """``org``'s part of deploying every chaincode, from its own site: installed on its
    peers, served by its chaincode servers, the definition approved by its admin."""
    changes: list[str] = []
    build_all(consortium.chaincodes)
    deployments = [Deployment(fabric, consortium, c) for c in consortium.chaincodes]
    parallel(lambda d_p: d_p[0].install(d_p[1]), [(d, p) for d in deployments for p in org.peers])
    for d in deployments:
        action = d.start_server(org)
        if action:
            changes.append(f"{action} {d.server_name(org)}")
    for d in deployments:
        _, sequence = d.sequence(org.anchor_peer)
        if d.approve(org, sequence):
            changes.append(f"{org.msp_id} approved {d.label} sequence {sequence}")
    return changes


def define(fabric: Fabric, consortium: Consortium, lessor: Org, orgs: list[Org]) -> list[str]:
    """The lessor's part, once every member org approved: each definition committed (naming
    one peer of each member org) and the on-ledger roles set to the members' roles."""
    changes: list[str] = []
    deployments = [Deployment(fabric, consortium, c) for c in consortium.chaincodes]
    # Endorsers for SetRoles: one peer of each lessor, regulator and grid org covers both
    # chaincode policies and the roles key's lessor-AND-regulator policy.
    endorsers = [o for o in orgs if o.role in ("lessor", "grid", "regulator")]
    for defined in parallel(lambda d: d.define(lessor, orgs), deployments):
        changes += defined
    for d, roles_set in zip(deployments, parallel(lambda d: d.set_roles(lessor, orgs, endorsers),
                                                  deployments)):
        if roles_set:
            changes.append(f"set {d.chaincode.name} roles")
    return changes


def parallel(work, items: list) -> list:
    """``work`` applied to every item concurrently (each is a Fabric CLI call that mostly
    waits), results in order; the first failure is raised."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        return list(pool.map(work, items))


def status(fabric: Fabric, consortium: Consortium, orgs: list[Org]) -> list[dict]:
    report = []
    for chaincode in consortium.chaincodes:
        deployment = Deployment(fabric, consortium, chaincode)
        try:
            committed = deployment.committed(orgs[0].anchor_peer)
        except FabricCommandError:
            committed = None
        approvals = (committed or {}).get("approvals") or {}
        servers = {o.msp_id: deployment.server_healthy(o) for o in orgs}
        report.append({
            "name": chaincode.name,
            "version": (committed or {}).get("version"),
            "source_version": deployment.version,
            "sequence": (committed or {}).get("sequence"),
            "endorsement_policy": chaincode.endorsement_policy,
            "collections": [c.name for c in chaincode.collections],
            "approvals": approvals,
            "all_orgs_approved": bool(approvals) and all(approvals.get(o.msp_id) for o in orgs),
            "servers": servers,
            "healthy": bool(committed) and all(servers.values()),
        })
    return report
