"""Revocation that Fabric enforces: after `scripts/user ORG NAME --revoke`, the person's API
key answers 401 and a proposal signed with the revoked certificate, sent straight to a peer,
is refused by the peer; every other identity keeps working."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import requests

from gateway.fabricgw import errors

from .fabric_clients import connect, new_project


def _client(consortium: dict, person: dict) -> dict:
    tls = Path(person["cert"]).parents[2] / "tls"
    return {**consortium["clients"]["LessorMSP"], "cert": person["cert"], "key": person["key"],
            "tls_cert": str(tls / "server.crt"), "tls_key": str(tls / "server.key")}


def _get_project(consortium: dict, client: dict, project_id: str) -> bytes:
    status = {**consortium, "clients": {"LessorMSP": client}}
    with connect(status, "LessorMSP") as gateway:
        return gateway.get_network(consortium["channel"]).get_contract("lease").evaluate(
            "GetProject", arguments=[project_id])


def test_a_revoked_person_is_refused_by_the_peer_and_the_gateway(consortium, test_network):
    name = f"dave-{uuid.uuid4().hex[:8]}"
    person = json.loads(test_network.tool("user", "LessorMSP", name, "--role", "writer").stdout)
    gateway = next(g for g in consortium["gateways"] if g["msp_id"] == "LessorMSP")
    project_id, body = new_project("revoked")
    headers = {"Authorization": f"Bearer {person['api_key']}", "Content-Type": "application/json"}
    written = requests.post(f"{gateway['url']}/api/v1/projects", data=body, headers=headers,
                            timeout=60)
    assert written.status_code == 201, written.text
    assert json.loads(_get_project(consortium, _client(consortium, person), project_id))

    revoked = json.loads(test_network.tool("user", "LessorMSP", name, "--revoke").stdout)
    assert revoked["api_key_disabled"] and revoked["crl_in_channel_config"]

    again = requests.get(f"{gateway['url']}/api/v1/projects/{project_id}", headers=headers,
                         timeout=30)
    assert again.status_code == 401, again.text
    # The peer applies the config block a moment after the orderer took the update.
    deadline = time.monotonic() + 60
    refused = None
    while refused is None:
        try:
            _get_project(consortium, _client(consortium, person), project_id)
        except errors.GatewayError as error:
            refused = error
            continue
        assert time.monotonic() < deadline, "the peer still accepts the revoked certificate"
        time.sleep(0.5)
    # The peer's own check of the proposal's creator against the channel's MSP (with its CRL).
    texts = [refused.message, *(d.message for d in refused.details)]
    assert any("error validating proposal: access denied" in t and "creator org [LessorMSP]" in t
               for t in texts), texts
    # Everyone else still works: the org's gateway identity, directly and through REST.
    assert json.loads(_get_project(consortium, consortium["clients"]["LessorMSP"], project_id))
    dev_key = Path(gateway["dev_credential_file"]).read_text().strip()
    other = requests.get(f"{gateway['url']}/api/v1/projects/{project_id}", timeout=30,
                         headers={"Authorization": f"Bearer {dev_key}"})
    assert other.status_code == 200, other.text
