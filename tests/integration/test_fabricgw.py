"""The Fabric Gateway client against a real consortium (the `consortium` fixture in conftest.py)."""

import json
import threading
import uuid

import grpc
import pytest
from fabric_protos.common import ledger_pb2

from gateway.fabricgw import checkpointers, errors

from .fabric_clients import connect, new_project

ORGS = ["LessorMSP", "GridMSP", "RegulatorMSP", "HKPartnerMSP", "MacaoPartnerMSP"]


@pytest.fixture(scope="module")
def gateways(consortium):
    gws = {msp: connect(consortium, msp) for msp in ORGS}
    yield gws
    for gw in gws.values():
        gw.close()


def network(gateways, consortium, msp="LessorMSP"):
    return gateways[msp].get_network(consortium["channel"])


def require_chaincode(consortium, name):
    """The consortium fixture deploys both chaincodes; a test that needs one fails loudly
    (never skips) when it is not serving."""
    deployed = [c for c in consortium["chaincodes"] if c["name"] == name and c["healthy"]]
    assert deployed, f"chaincode {name} not deployed and healthy: {consortium['chaincodes']}"


@pytest.mark.parametrize("msp_id", ORGS)
def test_evaluate_system_chaincode_through_every_org(gateways, consortium, msp_id):
    qscc = network(gateways, consortium, msp_id).get_contract("qscc")
    info = ledger_pb2.BlockchainInfo.FromString(qscc.evaluate_transaction("GetChainInfo", consortium["channel"]))
    assert info.height >= 1


def test_block_events_over_deliver_with_mutual_tls(gateways, consortium):
    net = network(gateways, consortium)
    with net.get_block_events(start_block=0) as blocks:
        assert next(blocks).header.number == 0
    with net.get_filtered_block_events(start_block=0) as blocks:
        assert next(blocks).number == 0


def test_evaluate_error_is_typed(gateways, consortium):
    qscc = network(gateways, consortium).get_contract("qscc")
    with pytest.raises(errors.GatewayError) as info:
        qscc.evaluate_transaction("NoSuchFunction", consortium["channel"])
    assert info.value.code != grpc.StatusCode.OK and info.value.message


def test_unknown_transaction_status_is_not_found(gateways, consortium):
    with pytest.raises(errors.NotFoundError):
        network(gateways, consortium).get_transaction_status("0" * 64)


def test_wrong_tls_root_is_unavailable(consortium):
    c = consortium["clients"]["LessorMSP"]
    other = consortium["clients"]["GridMSP"]  # a CA that did not issue the Lessor peer's TLS cert
    swapped = {"clients": {"LessorMSP": {**c, "peer_tls_ca": other["peer_tls_ca"]}}}
    gw = connect(swapped, "LessorMSP", evaluate_timeout=3)
    with gw, pytest.raises(errors.GatewayError) as info:
        gw.get_network(consortium["channel"]).get_contract("qscc").evaluate_transaction(
            "GetChainInfo", consortium["channel"])
    assert info.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


# --- with the carbonlease chaincodes ------------------------------------------------------------


@pytest.mark.parametrize("msp_id", ["LessorMSP", "HKPartnerMSP", "MacaoPartnerMSP"])
def test_submit_and_evaluate_lease_through_org(gateways, consortium, msp_id):
    require_chaincode(consortium, "lease")
    net = network(gateways, consortium, msp_id)
    contract = net.get_contract("lease")
    project_id, body = new_project(msp_id.lower())
    res = contract.submit("RegisterProject", arguments=[body])
    assert res.status == "VALID" and res.block_number > 0
    assert json.loads(res.result)["owner_msp"] == msp_id
    assert json.loads(contract.evaluate_transaction("GetProject", project_id))["project_id"] == project_id
    status = net.get_transaction_status(res.transaction_id)
    assert (status.code, status.block_number, status.successful) == ("VALID", res.block_number, True)


def test_submit_emission_through_regulator_and_grid(gateways, consortium):
    require_chaincode(consortium, "emission")
    region = f"FGW{uuid.uuid4().hex[:10]}"
    regulator = network(gateways, consortium, "RegulatorMSP").get_contract("emission")
    factor = regulator.submit("PublishFactor", arguments=[json.dumps(
        {"region": region, "year": 2025, "factor_g_per_kwh": 581, "supersede_reason": None})])
    assert factor.status == "VALID"
    grid = network(gateways, consortium, "GridMSP").get_contract("emission")
    reading_id = f"fgw-{uuid.uuid4().hex[:12]}"
    reading = grid.submit("SubmitMeterReading", arguments=[json.dumps({
        "reading_id": reading_id, "lessee_id": "lessee-1", "facility_id": "f1", "region": region,
        "period_start": "2025-01-01", "period_end": "2025-02-01", "kwh": 1000})])
    assert reading.status == "VALID"
    assert json.loads(grid.evaluate_transaction("GetMeterReading", reading_id))["kwh"] == 1000


def test_chaincode_error_surfaces_code(gateways, consortium):
    require_chaincode(consortium, "emission")
    contract = network(gateways, consortium, "LessorMSP").get_contract("emission")  # only regulators publish
    factor = {"region": "FGWX", "year": 2025, "factor_g_per_kwh": 1, "supersede_reason": None}
    with pytest.raises(errors.EndorseError) as info:
        contract.submit("PublishFactor", arguments=[json.dumps(factor)])
    assert info.value.code == grpc.StatusCode.ABORTED and len(info.value.transaction_id) == 64
    assert info.value.details and all(d.msp_id and d.address for d in info.value.details)
    assert errors.chaincode_error_code(info.value)[0] == "FORBIDDEN"
    with pytest.raises(errors.GatewayError) as info:
        contract.evaluate_transaction("GetFactor", "FGW-NO-SUCH-REGION", "2025")
    assert errors.chaincode_error_code(info.value)[0] == "NOT_FOUND"


class Writer:
    """A write that creates a fresh key each time, by the org allowed to make it.

    Each scenario runs on both chaincodes; `policy_orgs` are the orgs the endorsement policy needs.
    """

    def __init__(self, chaincode, msp_id, transaction, event_name, policy_orgs, new_body):
        self.chaincode, self.msp_id, self.transaction = chaincode, msp_id, transaction
        self.event_name, self.policy_orgs, self.new_body = event_name, policy_orgs, new_body


def _new_factor():
    return json.dumps({"region": f"FGW{uuid.uuid4().hex[:12]}", "year": 2025, "factor_g_per_kwh": 581,
                       "supersede_reason": None})


WRITERS = {
    "lease": Writer("lease", "LessorMSP", "RegisterProject", "ProjectRegistered", ["LessorMSP", "RegulatorMSP"],
                    lambda: new_project()[1]),
    "emission": Writer("emission", "RegulatorMSP", "PublishFactor", "FactorPublished", ["GridMSP", "RegulatorMSP"],
                       _new_factor),
}


@pytest.fixture(params=sorted(WRITERS))
def writer(request, consortium):
    require_chaincode(consortium, request.param)
    return WRITERS[request.param]


def writer_contract(gateways, consortium, writer):
    return network(gateways, consortium, writer.msp_id).get_contract(writer.chaincode)


def test_mvcc_read_conflict_low_level(gateways, consortium, writer):
    contract = writer_contract(gateways, consortium, writer)
    body = writer.new_body()
    # Both endorsed before either commits: both read the key as absent and write it.
    first = contract.new_proposal(writer.transaction, arguments=[body]).endorse()
    second = contract.new_proposal(writer.transaction, arguments=[body]).endorse()
    assert first.submit().get_status().successful
    status = second.submit().get_status()
    assert (status.code, status.successful) == ("MVCC_READ_CONFLICT", False) and status.block_number > 0
    # Asked of the peer that reported the commit: another org's peer may not have the block yet.
    on_ledger = network(gateways, consortium, writer.msp_id).get_transaction_status(
        second.transaction_id)
    assert (on_ledger.code, on_ledger.block_number) == ("MVCC_READ_CONFLICT", status.block_number)


def test_mvcc_read_conflict_raises_commit_error(gateways, consortium, writer):
    contract = writer_contract(gateways, consortium, writer)
    body = writer.new_body()
    barrier = threading.Barrier(2)
    outcomes = []

    def write():
        barrier.wait()
        try:
            outcomes.append(contract.submit(writer.transaction, arguments=[body]).status)
        except (errors.CommitError, errors.GatewayError) as e:
            outcomes.append(e)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Endorsement takes milliseconds and ordering a block hundreds, so both endorse before either commits.
    failures = [o for o in outcomes if o != "VALID"]
    assert len(failures) == 1 and outcomes.count("VALID") == 1, outcomes
    assert isinstance(failures[0], errors.CommitError), failures[0]
    assert failures[0].code == "MVCC_READ_CONFLICT" and failures[0].block_number > 0


def test_endorsement_policy_failure_raises_commit_error(gateways, consortium, writer):
    contract = writer_contract(gateways, consortium, writer)
    # The policy needs two orgs; endorsing with one passes endorsement and fails validation.
    with pytest.raises(errors.CommitError) as info:
        contract.submit(writer.transaction, arguments=[writer.new_body()],
                        endorsing_organizations=[writer.policy_orgs[0]])
    assert info.value.code == "ENDORSEMENT_POLICY_FAILURE" and info.value.block_number > 0
    # Asked of the peer that reported the commit: another org's peer may not have the block yet.
    status = network(gateways, consortium, writer.msp_id).get_transaction_status(
        info.value.transaction_id)
    assert status.code == "ENDORSEMENT_POLICY_FAILURE"


def test_chaincode_events_replayed_exactly_once_across_restart(gateways, consortium, writer, tmp_path):
    net = network(gateways, consortium, writer.msp_id)
    contract = net.get_contract(writer.chaincode)
    start_block = ledger_pb2.BlockchainInfo.FromString(net.get_contract("qscc").evaluate_transaction(
        "GetChainInfo", consortium["channel"])).height

    # Submitted concurrently so that several usually land in one block: resuming mid-block is the hard case.
    tx_ids = []
    lock = threading.Lock()

    def write():
        res = contract.submit(writer.transaction, arguments=[writer.new_body()])
        with lock:
            tx_ids.append(res.transaction_id)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ours = set(tx_ids)

    checkpoint_path = str(tmp_path / "checkpoint.json")
    seen = []

    def listen(stop_after):
        checkpointer = checkpointers.FileCheckpointer(checkpoint_path)  # as a restarted process would
        with net.get_chaincode_events(writer.chaincode, start_block=start_block, checkpoint=checkpointer,
                                      timeout=60) as events:
            for event in events:
                if event.transaction_id in ours:
                    assert event.event_name == writer.event_name
                    seen.append(event)
                checkpointer.checkpoint_chaincode_event(event)
                if len(seen) >= stop_after:
                    return

    listen(stop_after=1)   # the first listener stops after one of our events...
    listen(stop_after=4)   # ...and its successor resumes from the file checkpoint
    assert sorted(e.transaction_id for e in seen) == sorted(ours)
    positions = [e.block_number for e in seen]
    assert positions == sorted(positions) and min(positions) >= start_block


def test_live_chaincode_and_block_events_from_now(gateways, consortium):
    require_chaincode(consortium, "emission")
    net = network(gateways, consortium, "RegulatorMSP")
    region = f"FGWL{uuid.uuid4().hex[:10]}"
    events = net.get_chaincode_events("emission", timeout=60)
    blocks = net.get_filtered_block_events(timeout=60)
    with events, blocks:
        res = net.get_contract("emission").submit("PublishFactor", arguments=[json.dumps(
            {"region": region, "year": 2025, "factor_g_per_kwh": 400, "supersede_reason": None})])
        event = next(e for e in events if e.transaction_id == res.transaction_id)
        assert (event.block_number, event.event_name) == (res.block_number, "FactorPublished")
        assert json.loads(event.payload)["region"] == region
        block = next(b for b in blocks if b.number == res.block_number)
        assert res.transaction_id in [t.txid for t in block.filtered_transactions]
