"""Fabric Gateway client connections for the integration tests, from `status --json`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from gateway.fabricgw import Gateway, Identity, errors, signers

ORGS = ["LessorMSP", "GridMSP", "RegulatorMSP", "HKPartnerMSP", "MacaoPartnerMSP"]


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


def admin_client(consortium: dict, msp_id: str) -> dict:
    """``msp_id``'s client entry of `status --json`, pointed at the org's Admin user (NodeOU admin)
    instead of User1: same peer, the Admin's signing certificate, key and TLS pair."""
    client = dict(consortium["clients"][msp_id])
    for key in ("cert", "key", "tls_cert", "tls_key"):
        path = Path(client[key])
        parts = list(path.parts)
        at = next(i for i in range(len(parts) - 1) if parts[i] == "users" and parts[i + 1] == "User1")
        parts[at + 1] = "Admin"
        client[key] = str(Path(*parts))
        if key == "key" and not Path(client[key]).exists():
            # cryptogen names the key priv_sk; a Fabric CA enrolment names it <ski>_sk.
            client[key] = str(next(Path(client[key]).parent.glob("*_sk")))
    return client


def connect_admin(consortium: dict, msp_id: str, **kwargs) -> Gateway:
    """A Gateway to ``msp_id``'s peer, signing as that org's Admin identity."""
    return connect({**consortium, "clients": {msp_id: admin_client(consortium, msp_id)}}, msp_id, **kwargs)


def uid(prefix: str) -> str:
    """A fresh id (valid for every chaincode id field), so tests are independent and re-runnable."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def peer_connections(consortium: dict) -> dict[str, Gateway]:
    """A Gateway straight to every peer of `status --json` (not only each org's gateway peer),
    signing as that peer's org client; keyed by peer name."""
    gateways = {}
    for peer in consortium["peers"]:
        client = dict(consortium["clients"][peer["msp_id"]])
        host = client["peer_endpoint"].rsplit(":", 1)[0]
        client["peer_endpoint"] = f"{host}:{peer['endpoint'].rsplit(':', 1)[1]}"
        if client.get("peer_host_override"):
            client["peer_host_override"] = peer["name"]
        gateways[peer["name"]] = connect({**consortium, "clients": {peer["msp_id"]: client}}, peer["msp_id"])
    return gateways


class Ledger:
    """Submit/evaluate on either chaincode as any org; results parsed from the canonical JSON.

    A submit returns once the *submitting org's* gateway peer has committed the block; another
    org's peer may commit it a moment later, and a next transaction endorsed there would read the
    state before it. `submit` therefore waits (through each peer's own Deliver service) until every
    peer has the block, so a test's next step sees its previous one wherever it is endorsed.
    """

    def __init__(self, consortium: dict):
        self.gateways = {msp: connect(consortium, msp) for msp in ORGS}
        self.peers = peer_connections(consortium)
        self.channel = consortium["channel"]

    def contract(self, msp: str, chaincode: str):
        return self.gateways[msp].get_network(self.channel).get_contract(chaincode)

    def settle(self, block_number: int, timeout: float = 30) -> None:
        """Return once every peer has committed block `block_number`."""
        for gateway in self.peers.values():
            with gateway.get_network(self.channel).get_filtered_block_events(
                    start_block=block_number, timeout=timeout) as blocks:
                next(blocks)

    def submit_result(self, msp: str, chaincode: str, name: str, *args, endorsing_organizations=None):
        result = self.contract(msp, chaincode).submit(name, arguments=list(args),
                                                      endorsing_organizations=endorsing_organizations)
        self.settle(result.block_number)
        return result

    def submit(self, msp: str, chaincode: str, name: str, *args):
        return json.loads(self.submit_result(msp, chaincode, name, *args).result)

    def evaluate(self, msp: str, chaincode: str, name: str, *args):
        return json.loads(self.contract(msp, chaincode).evaluate(name, arguments=list(args)))

    def refused(self, msp: str, chaincode: str, name: str, *args) -> tuple:
        """The chaincode's (code, message) for a submit that must fail at endorsement (so it is
        never ordered and writes nothing)."""
        try:
            result = self.contract(msp, chaincode).submit(name, arguments=list(args))
        except errors.EndorseError as err:
            return errors.chaincode_error_code(err)
        raise AssertionError(f"{msp} {chaincode}:{name} was committed in block {result.block_number}")

    def evaluate_error(self, msp: str, chaincode: str, name: str, *args) -> tuple:
        """The chaincode's (code, message) for an evaluate that must fail."""
        try:
            self.contract(msp, chaincode).evaluate(name, arguments=list(args))
        except errors.GatewayError as err:
            return errors.chaincode_error_code(err)
        raise AssertionError(f"{msp} {chaincode}:{name} succeeded")

    def preview(self, terms: dict, emissions: list, msp: str = "HKPartnerMSP") -> list:
        return self.evaluate(msp, "lease", "PreviewSchedule", json.dumps(terms), json.dumps(emissions))

    def close(self):
        for gateway in [*self.gateways.values(), *self.peers.values()]:
            gateway.close()
