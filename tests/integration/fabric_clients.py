"""Fabric Gateway client connections for the integration tests, from `status --json`."""

from __future__ import annotations

import json
import secrets
import threading
import time
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


# The orgs holding lease terms (the lease chaincode's leaseTerms collection). A write that reads
# them and also queries the emission chaincode (FixNextRate) names them as endorsers: discovery
# cannot find endorsers that are collection members and satisfy emission's policy too.
TERMS_HOLDERS = ["LessorMSP", "RegulatorMSP"]


def new_lease(lease_id: str, lessee_ref: str, project_id: str, terms: dict,
              lessee_name: str = "Nansha Steel Co.") -> tuple[str, dict]:
    """`CreateLease`'s public argument and its transient data (lessee, terms and a fresh salt
    are private)."""
    return (json.dumps({"lease_id": lease_id, "project_id": project_id, "lessee_ref": lessee_ref}),
            {"lease_private": json.dumps({"lessee_id": f"id-{lessee_ref}", "lessee_name": lessee_name,
                                          "terms": terms, "salt": secrets.token_hex(32)})})


def payment(amount_fen: int, paid_on: str) -> dict:
    """`RecordPayment`'s transient data."""
    return {"payment": json.dumps({"amount_fen": amount_fen, "paid_on": paid_on})}


def termination(reason: str) -> dict:
    """`TerminateLease`'s transient data."""
    return {"termination": json.dumps({"reason": reason})}


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

    def submit_result(self, msp: str, chaincode: str, name: str, *args, endorsing_organizations=None,
                      transient=None):
        result = self.contract(msp, chaincode).submit(name, arguments=list(args), transient_data=transient,
                                                      endorsing_organizations=endorsing_organizations)
        self.settle(result.block_number)
        return result

    def submit(self, msp: str, chaincode: str, name: str, *args, transient=None, endorsing_organizations=None):
        return json.loads(self.submit_result(msp, chaincode, name, *args, transient=transient,
                                             endorsing_organizations=endorsing_organizations).result)

    def evaluate(self, msp: str, chaincode: str, name: str, *args):
        return json.loads(self.contract(msp, chaincode).evaluate(name, arguments=list(args)))

    def refused(self, msp: str, chaincode: str, name: str, *args, transient=None,
                endorsing_organizations=None) -> tuple:
        """The chaincode's (code, message) for a submit that must fail at endorsement (so it is
        never ordered and writes nothing)."""
        try:
            result = self.contract(msp, chaincode).submit(name, arguments=list(args), transient_data=transient,
                                                          endorsing_organizations=endorsing_organizations)
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


class ProjectWriters:
    """Threads that keep registering projects as Lessor while a test disturbs the network, as
    a careful client does: a write that loses an MVCC race is submitted again. Records each
    acknowledged (committed) write, each losing attempt, and every other failure."""

    MVCC_RETRIES = 3

    def __init__(self, consortium: dict, threads: int = 1, prefix: str = "load"):
        self.consortium = consortium
        self.prefix = prefix
        self.acknowledged: list[tuple[str, str]] = []  # (project id, tx id)
        self.conflicts: list[str] = []                 # tx ids that lost an MVCC race
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._write) for _ in range(threads)]

    def __enter__(self) -> "ProjectWriters":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def wait_for(self, count: int, timeout: float) -> None:
        """Until ``count`` writes are acknowledged, or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count and time.monotonic() < deadline:
            time.sleep(0.1)

    def _write(self) -> None:
        with connect(self.consortium, "LessorMSP") as gateway:
            lease = gateway.get_network(self.consortium["channel"]).get_contract("lease")
            while not self._stop.is_set():
                self._register(lease)

    def _register(self, lease) -> None:
        project_id, project = new_project(self.prefix)
        for _ in range(self.MVCC_RETRIES + 1):
            try:
                result = lease.submit("RegisterProject", arguments=[project])
                self.acknowledged.append((project_id, result.transaction_id))
                return
            except errors.CommitError as error:
                if error.code != "MVCC_READ_CONFLICT":
                    self.failures.append(repr(error))
                    return
                self.conflicts.append(error.transaction_id)
            except Exception as error:  # recorded, so the test sees it
                # str() too: a Gateway error's str names each peer that refused and why.
                self.failures.append(f"{error!r}: {error}")
                return
        self.failures.append(f"{project_id}: MVCC conflicts {self.MVCC_RETRIES + 1} times")

    def assert_each_on_the_ledger_once(self) -> None:
        """Every acknowledged write is one valid transaction whose project is readable; every
        losing attempt is on the ledger as invalid, so it did not count. Asked of Lessor's
        peer, which acknowledged them (the others follow a moment later)."""
        tx_ids = [tx for _, tx in self.acknowledged]
        assert len(set(tx_ids)) == len(tx_ids)
        with connect(self.consortium, "LessorMSP") as gateway:
            network = gateway.get_network(self.consortium["channel"])
            lease = network.get_contract("lease")
            for project_id, tx_id in self.acknowledged:
                assert network.get_transaction_status(tx_id).code == "VALID"
                assert json.loads(lease.evaluate_transaction("GetProject", project_id))[
                    "project_id"] == project_id
            for tx_id in self.conflicts:
                assert network.get_transaction_status(tx_id).code == "MVCC_READ_CONFLICT"
