"""A fake Fabric network: contracts answer from handlers the test installs."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import threading

import grpc

from gateway.fabricgw import errors


@dataclasses.dataclass
class Call:
    chaincode: str
    transaction: str
    arguments: list
    kind: str  # "evaluate" or "submit"


@dataclasses.dataclass(frozen=True)
class Submitted:
    result: bytes
    transaction_id: str
    block_number: int
    status: str = "VALID"


def chaincode_error(code: str, message: str = "refused") -> errors.EndorseError:
    """What the fabricgw client raises when the chaincode throws ``CODE: message``."""
    return errors.EndorseError(
        grpc.StatusCode.ABORTED, "failed to endorse transaction, see attached details",
        [errors.ErrorDetail("localhost:7051", "LessorMSP",
                            f"chaincode response 500, {code}: {message}")])


class FakeContract:
    def __init__(self, network: "FakeNetwork", name: str):
        self._network = network
        self.name = name

    def evaluate(self, transaction, arguments=()):
        return self._network.run(self.name, transaction, list(arguments), "evaluate")

    def submit(self, transaction, arguments=()):
        result = self._network.run(self.name, transaction, list(arguments), "submit")
        return self._network.commit(result)


class FakeNetwork:
    """``handlers[(chaincode, transaction)]`` is called with the argument list and returns a
    JSON-able answer, bytes, or raises; unset transactions use ``defaults[kind]``, which
    answers ``{}``."""

    def __init__(self):
        self.handlers = {}
        self.defaults = {"evaluate": lambda args: {}, "submit": lambda args: {}}
        self.calls: list[Call] = []
        self.statuses = {}
        self._blocks = itertools.count(10)
        self._tx = itertools.count(1)
        self._lock = threading.Lock()

    def on(self, chaincode, transaction, handler):
        self.handlers[(chaincode, transaction)] = handler

    def get_contract(self, name):
        return FakeContract(self, name)

    def run(self, chaincode, transaction, arguments, kind):
        with self._lock:
            self.calls.append(Call(chaincode, transaction, arguments, kind))
        handler = self.handlers.get((chaincode, transaction), self.defaults[kind])
        answer = handler(arguments)
        return answer if isinstance(answer, bytes) else json.dumps(answer).encode()

    def commit(self, result: bytes) -> Submitted:
        with self._lock:
            tx_id = hashlib.sha256(str(next(self._tx)).encode()).hexdigest()
            block = next(self._blocks)
        self.statuses[tx_id] = ("VALID", block)
        return Submitted(result, tx_id, block)

    def get_transaction_status(self, tx_id):
        if tx_id not in self.statuses:
            raise errors.NotFoundError(tx_id)
        code, block = self.statuses[tx_id]
        return dataclasses.make_dataclass("Status", ["code", "block_number"])(code, block)

    def submits(self, transaction=None):
        return [c for c in self.calls
                if c.kind == "submit" and (transaction is None or c.transaction == transaction)]
