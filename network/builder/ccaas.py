"""Fabric external builder for chaincode run as a service (no Docker).

The peer calls bin/detect, bin/build and bin/release. A package of type "ccaas" carries a
connection.json naming its chaincode; this builder completes it from the peer's
CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG (JSON: the address of this org's server for each
chaincode and the TLS files), so one package id serves every org while each peer dials its own
org's chaincode server over mutual TLS. Standard library only: the peer runs it as is.
"""

import json
import os
import shutil
import sys
from pathlib import Path


def detect(source_dir: str, metadata_dir: str) -> int:
    metadata = json.loads((Path(metadata_dir) / "metadata.json").read_text())
    return 0 if metadata.get("type") == "ccaas" else 1


def build(source_dir: str, metadata_dir: str, output_dir: str) -> int:
    connection = json.loads((Path(source_dir) / "connection.json").read_text())
    raw = os.environ.get("CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG")
    if not raw:
        print("CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG is not set for this peer", file=sys.stderr)
        return 1
    peer_config = json.loads(raw)
    name = connection.pop("chaincode")
    if name not in peer_config["addresses"]:
        print(f"no chaincode server address for {name!r} in the peer's builder config",
              file=sys.stderr)
        return 1
    connection["address"] = peer_config["addresses"][name]
    if connection.get("tls_required"):
        connection["root_cert"] = Path(peer_config["root_cert_file"]).read_text()
        if connection.get("client_auth_required"):
            connection["client_cert"] = Path(peer_config["client_cert_file"]).read_text()
            connection["client_key"] = Path(peer_config["client_key_file"]).read_text()
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    # It holds the peer's TLS client key: readable by the peer's user only (copied as such).
    fd = os.open(out / "connection.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(connection))
    return 0


def release(output_dir: str, release_dir: str) -> int:
    target = Path(release_dir) / "chaincode" / "server"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(output_dir) / "connection.json", target / "connection.json")
    return 0


if __name__ == "__main__":
    step, *args = sys.argv[1:]
    sys.exit({"detect": detect, "build": build, "release": release}[step](*args))
