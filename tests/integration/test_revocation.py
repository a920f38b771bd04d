"""Revocation that Fabric enforces: after `scripts/user ORG NAME --revoke`, the person's API
key answers 401 and a proposal signed with the revoked certificate, sent straight to a peer,
is refused by the peer; every other identity keeps working. The peer refuses it whatever the
client: ours (fabricgw) and the official Fabric Gateway client for Node
(``node/fabric_call.mjs``)."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import requests

from gateway.fabricgw import errors

from .fabric_clients import connect, new_project

NODE_CALL = Path(__file__).parent / "node" / "fabric_call.mjs"


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


def _node_get_project(consortium: dict, client: dict, project_id: str) -> dict:
    """``GetProject`` evaluated by the official Node client signing as ``client``'s identity:
    its JSON answer, ``{"ok": true, "result"}`` or ``{"ok": false, "code", "details", ...}``."""
    request = {key: client[key] for key in ("peer_endpoint", "peer_host_override", "peer_tls_ca",
                                            "tls_cert", "tls_key", "cert", "key")}
    request.update(msp_id="LessorMSP", channel=consortium["channel"], chaincode="lease",
                   transaction="GetProject", arguments=[project_id])
    done = subprocess.run(["node", str(NODE_CALL)], input=json.dumps(request), text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _refused_access(answer: dict) -> bool:
    """The peer's own check of the proposal's creator against the channel's MSP (with its
    CRL), as the Node client reports it."""
    texts = [answer["message"], *(d["message"] for d in answer["details"])]
    return any("access denied" in t and "creator org [LessorMSP]" in t for t in texts)


def test_the_official_node_client_is_refused_with_a_revoked_certificate(consortium, test_network):
    names = [f"erin-{uuid.uuid4().hex[:8]}", f"frank-{uuid.uuid4().hex[:8]}"]
    revoked, colleague = (
        json.loads(test_network.tool("user", "LessorMSP", n, "--role", "reader").stdout)
        for n in names)
    project_id, body = new_project("node-revoked")
    with connect(consortium, "LessorMSP") as gateway:
        gateway.get_network(consortium["channel"]).get_contract("lease").submit(
            "RegisterProject", arguments=[body])
    # Before the revocation the same call with the same certificate works: what follows
    # would fail if the peer did not apply the CRL.
    before = _node_get_project(consortium, _client(consortium, revoked), project_id)
    assert before["ok"] and json.loads(before["result"])["project_id"] == project_id, before

    out = json.loads(test_network.tool("user", "LessorMSP", names[0], "--revoke").stdout)
    assert out["crl_in_channel_config"]
    # The peer applies the config block a moment after the orderer took the update.
    deadline = time.monotonic() + 60
    while (after := _node_get_project(consortium, _client(consortium, revoked),
                                      project_id))["ok"]:
        assert time.monotonic() < deadline, "the peer still accepts the revoked certificate"
        time.sleep(0.5)
    assert after["code_name"] != "UNAVAILABLE" and _refused_access(after), after

    # Every other identity still works with the same client: a colleague of the same org and
    # the org's gateway identity.
    for client in (_client(consortium, colleague), consortium["clients"]["LessorMSP"]):
        answer = _node_get_project(consortium, client, project_id)
        assert answer["ok"] and json.loads(answer["result"])["project_id"] == project_id, answer
