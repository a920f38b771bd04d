"""The chaincodes' golden stories (``golden/chaincode/*.json``, written and checked by the
chaincode tests in ``chaincode/*/test/golden.test.ts``): what the contracts really answer and
emit, turned into chaincode events as the peer delivers them. Tests start from these payloads
instead of hand-written ones, so they cannot drift from the ledger."""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import json
from pathlib import Path

from gateway.fabricgw.events import ChaincodeEvent

GOLDEN = Path(__file__).resolve().parents[3] / "golden" / "chaincode"

_numbers = itertools.count(1)


@functools.cache
def story(chaincode: str) -> tuple[dict, ...]:
    return tuple(json.loads((GOLDEN / f"{chaincode}.json").read_text())["transactions"])


def step(chaincode: str, name: str) -> dict:
    [found] = [t for t in story(chaincode) if t["step"] == name]
    return found


def payload_bytes(transaction: dict) -> bytes:
    event = transaction["event"]
    if "payload_base64" in event:
        return base64.b64decode(event["payload_base64"])
    return event["payload"].encode("utf-8")


def payload(chaincode: str, name: str) -> dict:
    """The event payload of a story step, decoded: a template for variants."""
    return json.loads(payload_bytes(step(chaincode, name)))


def tx_id(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def events(chaincode: str, *, until: str | None = None) -> list[ChaincodeEvent]:
    """Every event of the story in order, one block per transaction (block = its position),
    up to and including the step ``until``."""
    found = []
    for block, transaction in enumerate(story(chaincode), start=1):
        if transaction["event"] is not None:
            found.append(ChaincodeEvent(block, tx_id(f"{chaincode}/{transaction['step']}"),
                                        chaincode, transaction["event"]["name"],
                                        payload_bytes(transaction)))
        if transaction["step"] == until:
            return found
    assert until is None, f"no step {until!r} in the {chaincode} story"
    return found


def event(block: int, name: str, record: dict | bytes, *, chaincode: str = "lease",
          transaction_id: str | None = None) -> ChaincodeEvent:
    """An event carrying ``record`` (a variant of a golden payload) or raw payload bytes."""
    data = record if isinstance(record, bytes) else json.dumps(record, sort_keys=True).encode()
    return ChaincodeEvent(block, transaction_id or tx_id(f"variant-{next(_numbers)}"),
                          chaincode, name, data)
