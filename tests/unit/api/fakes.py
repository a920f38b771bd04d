"""A fake Fabric network: contracts answer from handlers the test installs."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import queue
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
        self.events = EventSource()
        self.event_requests = []
        self._blocks = itertools.count(10)
        self._tx = itertools.count(1)
        self._lock = threading.Lock()

    def on(self, chaincode, transaction, handler):
        self.handlers[(chaincode, transaction)] = handler

    def get_contract(self, name):
        return FakeContract(self, name)

    def get_chaincode_events(self, chaincode_name, start_block=None, checkpoint=None):
        self.event_requests.append((chaincode_name, start_block, checkpoint))
        return self.events(chaincode_name, checkpoint)

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


class FakeEventStream:
    """A chaincode event stream: yields what ``push`` gives it, raises what ``break_with``
    gives it, and ends with CANCELLED once closed (as a cancelled gRPC stream does)."""

    _CLOSED = object()

    def __init__(self):
        self._queue = queue.Queue()
        self.closed = threading.Event()

    def push(self, *events):
        for event in events:
            self._queue.put(event)

    def break_with(self, error: Exception):
        self._queue.put(error)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get(timeout=10)
        if item is self._CLOSED:
            raise errors.GatewayError(grpc.StatusCode.CANCELLED, "stream cancelled")
        if isinstance(item, Exception):
            raise item
        return item

    def close(self):
        self.closed.set()
        self._queue.put(self._CLOSED)


class EventSource:
    """Stands in for ``Ledger.chaincode_events``: records each (chaincode, checkpoint) asked
    for and hands out a new ``FakeEventStream`` per call, which the test then feeds."""

    def __init__(self):
        self.requests = []
        self._streams = {}
        self._opened = threading.Condition()

    def __call__(self, chaincode, checkpoint=None):
        stream = FakeEventStream()
        with self._opened:
            self.requests.append((chaincode, checkpoint))
            self._streams.setdefault(chaincode, []).append(stream)
            self._opened.notify_all()
        return stream

    def stream(self, chaincode, number=1, timeout=10.0) -> FakeEventStream:
        """The ``number``-th stream opened for ``chaincode``, waiting for it to be opened."""
        with self._opened:
            assert self._opened.wait_for(
                lambda: len(self._streams.get(chaincode, [])) >= number, timeout), \
                f"{chaincode} stream {number} never opened"
            return self._streams[chaincode][number - 1]
