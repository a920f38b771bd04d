"""Running Fabric's command-line tools as a given org's admin, with mutual TLS flags."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from .config import Layout, Orderer, Org, Peer
from .crypto import ADMIN_USER


class FabricCommandError(Exception):
    def __init__(self, argv: list[str], returncode: int, output: str):
        self.argv, self.returncode, self.output = argv, returncode, output
        super().__init__(f"{Path(argv[0]).name} {' '.join(argv[1:3])} failed "
                         f"(exit {returncode}): {output.strip()[-2000:]}")


class Fabric:
    """The binaries plus the config folder that the peer CLI and configtxgen read."""

    def __init__(self, bin_dir: Path, layout: Layout):
        self.bin_dir = bin_dir
        self.layout = layout

    @property
    def sampleconfig(self) -> Path:
        return self.bin_dir.parent / "sampleconfig"

    @property
    def cli_config(self) -> Path:
        return self.layout.home / "cli"

    def run(self, command: str, args: list[str], env: dict[str, str] | None = None,
            timeout: float = 120, input: bytes | None = None) -> str:
        argv = [str(self.bin_dir / command), *args]
        full_env = {**os.environ, "FABRIC_CFG_PATH": str(self.cli_config),
                    "FABRIC_LOGGING_SPEC": "WARNING", **(env or {})}
        result = subprocess.run(argv, env=full_env, capture_output=True, timeout=timeout,
                                input=input)
        out = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
        if result.returncode != 0:
            raise FabricCommandError(argv, result.returncode, out)
        return result.stdout.decode(errors="replace")

    # --- identities -------------------------------------------------------------------

    def admin_tls(self, org: Org) -> tuple[Path, Path]:
        tls = self.layout.user_dir(org, ADMIN_USER) / "tls"
        return tls / "server.crt", tls / "server.key"

    def peer_env(self, peer: Peer) -> dict[str, str]:
        """Environment for `peer` CLI commands run by the peer's org admin against it."""
        org = peer.org
        cert, key = self.admin_tls(org)
        return {
            "CORE_PEER_LOCALMSPID": org.msp_id,
            "CORE_PEER_MSPCONFIGPATH": str(self.layout.user_dir(org, ADMIN_USER) / "msp"),
            "CORE_PEER_ADDRESS": peer.endpoint,
            "CORE_PEER_TLS_ENABLED": "true",
            "CORE_PEER_TLS_ROOTCERT_FILE": str(self.layout.tls_ca_cert(org)),
            "CORE_PEER_TLS_CLIENTAUTHREQUIRED": "true",
            "CORE_PEER_TLS_CLIENTCERT_FILE": str(cert),
            "CORE_PEER_TLS_CLIENTKEY_FILE": str(key),
        }

    def orderer_flags(self, orderer: Orderer, as_org: Org) -> list[str]:
        """Dial ``orderer`` as ``as_org``'s admin, trusting the TLS CA its org exported."""
        cert, key = self.admin_tls(as_org)
        return ["-o", orderer.endpoint, "--tls",
                "--cafile", str(self.layout.exported_tls_ca(orderer.org)),
                "--clientauth", "--certfile", str(cert), "--keyfile", str(key)]

    def peer_target_flags(self, peers: list[Peer]) -> list[str]:
        """Target other orgs' peers (endorsement, commit), trusting their exported TLS CAs."""
        flags: list[str] = []
        for peer in peers:
            flags += ["--peerAddresses", peer.endpoint,
                      "--tlsRootCertFiles", str(self.layout.exported_tls_ca(peer.org))]
        return flags

    def osnadmin(self, orderer: Orderer, args: list[str]) -> dict:
        """Run an osnadmin command as the orderer org's admin; the JSON body it printed after
        its "Status: NNN" line (an HTTP error status raises)."""
        cert, key = self.admin_tls(orderer.org)
        argv = [*args, "-o", orderer.admin_endpoint,
                "--ca-file", str(self.layout.tls_ca_cert(orderer.org)),
                "--client-cert", str(cert), "--client-key", str(key)]
        out = self.run("osnadmin", argv)
        first, _, body = out.partition("\n")
        status = int(first.removeprefix("Status:").strip())
        if status >= 300:
            raise FabricCommandError([str(self.bin_dir / "osnadmin"), *argv], status, out)
        return json.loads(body) if body.strip() else {}
