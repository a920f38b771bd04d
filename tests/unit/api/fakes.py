"""A fake Fabric network: contracts answer from handlers the test installs."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import itertools
import json
import queue
import threading

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.fabricgw import Identity, errors
from gateway.fabricgw.commit import Status


def certificate(common_name: str) -> tuple[bytes, bytes]:
    """(cert PEM, key PEM): a self-signed certificate standing in for an enrolled one."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


ORG_IDENTITY = Identity("LessorMSP", certificate("User1@lessor.carbonlease.local")[0])


@dataclasses.dataclass
class Call:
    chaincode: str
    transaction: str
    arguments: list
    kind: str  # "evaluate" or "submit"
    signer: Identity = ORG_IDENTITY


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

    def new_proposal(self, transaction, arguments=()):
        return FakeProposal(self._network, self.name, transaction, list(arguments))


class FakeProposal:
    def __init__(self, network: "FakeNetwork", chaincode, transaction, arguments):
        self._network = network
        self._call = (chaincode, transaction, arguments)
        self.transaction_id = network.new_transaction_id()

    def endorse(self):
        """Runs the handler; whatever it raises (a refusal, but also a commit failure) is
        raised here, before the attempt is recorded or ordered."""
        result = self._network.run(*self._call, "submit")
        return FakeTransaction(self._network, self.transaction_id, result)


class FakeTransaction:
    """An endorsed transaction; ``bytes()`` round-trips through ``FakeNetwork.new_transaction``."""

    def __init__(self, network: "FakeNetwork", transaction_id: str, result: bytes):
        self._network = network
        self.transaction_id = transaction_id
        self.result = result

    def bytes(self) -> bytes:
        return json.dumps({"transaction_id": self.transaction_id,
                           "result": self.result.decode()}).encode()

    def submit(self):
        return self._network.order(self.transaction_id)


class FakeCommit:
    def __init__(self, status: Status):
        self._status = status

    def get_status(self) -> Status:
        return self._status


class FakeNetwork:
    """Stands in for the fabricgw Gateway and its Network alike (``get_network`` returns it).

    ``handlers[(chaincode, transaction)]`` is called with the argument list and returns a
    JSON-able answer, bytes, or raises; unset transactions use ``defaults[kind]``, which
    answers ``{}``. Ordered transactions commit VALID in a new block (``statuses`` by id); a
    second copy of a committed id is ``DUPLICATE_TXID``, as on Fabric; the ledger keeps each
    transaction's creator (``with_identity`` gives a view signing as another identity). ``crash`` (``"before ordering"`` or ``"after
    ordering"``) makes the next submission stop the process there (SystemExit)."""

    def __init__(self):
        self.handlers = {}
        self.defaults = {"evaluate": lambda args: {}, "submit": lambda args: {}}
        self.calls: list[Call] = []
        self.ordered: list[str] = []
        self.statuses = {}
        self.creators = {}
        self.identity = ORG_IDENTITY
        self.crash = None
        self.events = EventSource()
        self.event_requests = []
        self._blocks = itertools.count(10)
        self._tx = itertools.count(1)
        self._lock = threading.Lock()

    def on(self, chaincode, transaction, handler):
        self.handlers[(chaincode, transaction)] = handler

    def get_network(self, channel):
        return self

    def with_identity(self, identity, signer=None):
        """The same network (shared calls, ledger, counters), signing as ``identity``."""
        view = copy.copy(self)
        view.identity = identity
        return view

    def get_contract(self, name):
        return FakeContract(self, name)

    def new_transaction(self, data: bytes) -> FakeTransaction:
        fields = json.loads(data)
        return FakeTransaction(self, fields["transaction_id"], fields["result"].encode())

    def new_transaction_id(self) -> str:
        with self._lock:
            return hashlib.sha256(str(next(self._tx)).encode()).hexdigest()

    def get_chaincode_events(self, chaincode_name, start_block=None, checkpoint=None):
        self.event_requests.append((chaincode_name, start_block, checkpoint))
        return self.events(chaincode_name, checkpoint)

    def run(self, chaincode, transaction, arguments, kind):
        with self._lock:
            self.calls.append(Call(chaincode, transaction, arguments, kind, self.identity))
        handler = self.handlers.get((chaincode, transaction), self.defaults[kind])
        answer = handler(arguments)
        return answer if isinstance(answer, bytes) else json.dumps(answer).encode()

    def order(self, tx_id: str) -> FakeCommit:
        self._crash_if("before ordering")
        with self._lock:
            self.ordered.append(tx_id)
            block = next(self._blocks)
            code = "DUPLICATE_TXID" if tx_id in self.statuses else "VALID"
            self.statuses.setdefault(tx_id, (code, block))
            self.creators.setdefault(tx_id, self.identity)
        self._crash_if("after ordering")
        return FakeCommit(Status(tx_id, code, block))

    def _crash_if(self, moment):
        if self.crash == moment:
            self.crash = None
            raise SystemExit(f"gateway stopped {moment}")

    def get_transaction_status(self, tx_id):
        if tx_id not in self.statuses:
            raise errors.NotFoundError(tx_id)
        code, block = self.statuses[tx_id]
        return Status(tx_id, code, block, self.creators[tx_id])

    def submits(self, transaction=None):
        """Endorsed writes (each a new transaction; re-submissions of one are in ``ordered``)."""
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
