"""Fabric Gateway client connections for the integration tests, from `status --json`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from gateway.fabricgw import Gateway, Identity, signers


def connect(consortium: dict, msp_id: str, **kwargs) -> Gateway:
    """A Gateway to ``msp_id``'s peer, signing as that org's client identity."""
    c = consortium["clients"][msp_id]
    read = lambda key: Path(c[key]).read_bytes()  # noqa: E731
    return Gateway.connect(
        endpoint=c["peer_endpoint"], tls_root_cert=read("peer_tls_ca"),
        client_cert=read("tls_cert"), client_key=read("tls_key"),
        server_name_override=c.get("peer_host_override"),
        identity=Identity(msp_id, read("cert")), signer=signers.new_private_key_signer(read("key")),
        **kwargs)


def new_project(prefix: str = "p") -> tuple[str, str]:
    """A fresh project id and the `RegisterProject` argument for it."""
    project_id = f"{prefix}-{uuid.uuid4().hex[:12]}"
    return project_id, json.dumps({"project_id": project_id, "name": "Rooftop PV",
                                   "category": "clean_energy",
                                   "expected_annual_reduction_kg": 1200, "location": "Nansha"})
