"""A fake Fabric network: contracts answer from handlers the test installs."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import itertools
import json
import queue
import secrets
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
    transient: dict = dataclasses.field(default_factory=dict)  # name -> str, as sent
    endorsers: list | None = None  # endorsing organizations, when the caller named them
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

    def new_proposal(self, transaction, arguments=(), transient_data=None,
                     endorsing_organizations=None):
        return FakeProposal(self._network, self.name, transaction, list(arguments),
                            dict(transient_data or {}), endorsing_organizations)


class FakeProposal:
    def __init__(self, network: "FakeNetwork", chaincode, transaction, arguments, transient,
                 endorsers):
        self._network = network
        self._call = (chaincode, transaction, arguments)
        self._transient = transient
        self._endorsers = endorsers
        self.transaction_id = network.new_transaction_id()

    def endorse(self, timeout=None):
        """Runs the handler: what it raises is an endorsement failure (a chaincode refusal,
        an unreachable peer), raised before the attempt is recorded or ordered."""
        result = self._network.run(*self._call, "submit", self._transient, self._endorsers)
        return FakeTransaction(self._network, self.transaction_id, result, self._network.identity)


class FakeTransaction:
    """An endorsed transaction; ``bytes()`` round-trips through ``FakeNetwork.new_transaction``.
    Its creator (the identity that endorsed it) is part of its envelope, as in Fabric's
    payload. Its signature is random, as an ECDSA signature is: signing the same transaction
    twice gives two different envelopes, so a test can tell a resent envelope from a
    re-signed one."""

    def __init__(self, network: "FakeNetwork", transaction_id: str, result: bytes,
                 creator: Identity, signature: str | None = None):
        self._network = network
        self.transaction_id = transaction_id
        self.result = result
        self.creator = creator
        self.signature = signature

    def bytes(self) -> bytes:
        return json.dumps({"transaction_id": self.transaction_id, "result": self.result.decode(),
                           "creator": [self.creator.msp_id, self.creator.credentials.decode()],
                           "signature": self.signature}).encode()

    def sign(self):
        if self.signature is None:
            self.signature = secrets.token_hex(8)

    def submit(self, timeout=None):
        self.sign()
        self._network.broadcast(self)
        return self.commit()

    def commit(self):
        return FakeCommit(self._network, self.transaction_id)


class FakeCommit:
    def __init__(self, network: "FakeNetwork", transaction_id: str):
        self._network = network
        self.transaction_id = transaction_id

    def get_status(self, timeout=None) -> Status:
        """Waits for the commit, as the peer's CommitStatus does, up to ``timeout``."""
        return self._network.wait_for_commit(self.transaction_id, timeout)


LOST = "lost"


class FakeNetwork:
    """Stands in for the fabricgw Gateway and its Network alike (``get_network`` returns it).

    ``handlers[(chaincode, transaction)]`` is the endorsement: called with the argument list,
    it returns a JSON-able answer or bytes, or raises (a chaincode refusal, an unreachable
    peer); unset transactions use ``defaults[kind]``, which answers ``{}``. ``with_identity``
    gives a view signing as another identity; a transaction's creator is the identity that
    endorsed it, carried in its envelope, and the ledger keeps it in ``creators``.

    Each broadcast (Submit) takes the next entry of ``broadcasts``, if any: a ``SubmitError``
    is raised (the orderer refused; nothing ordered), ``LOST`` is accepted by an orderer but
    never reaches a block (a leader that crashed); otherwise, or once ``broadcasts`` is
    empty, the copy is ordered in a new block. Every accepted copy's id is in ``ordered`` and
    its envelope in ``envelopes``. The first committed copy of an id takes the next code of
    ``validation`` (default VALID) into ``statuses``; a later copy is ``DUPLICATE_TXID``
    (in ``duplicates``) and changes nothing, as on Fabric. Commit status waits until the id is
    in ``statuses``, else fails with DEADLINE_EXCEEDED. ``crash`` (``"before ordering"`` or
    ``"after ordering"``) makes the next submission stop the process there (SystemExit)."""

    def __init__(self):
        self.handlers = {}
        self.defaults = {"evaluate": lambda args: {}, "submit": lambda args: {}}
        self.calls: list[Call] = []
        self.broadcasts: list = []
        self.validation: list[str] = []
        self.ordered: list[str] = []
        self.envelopes: list[bytes] = []
        self.duplicates: list[str] = []
        self.statuses = {}
        self.creators = {}
        self.identity = ORG_IDENTITY
        self.crash = None
        self.events = EventSource()
        self.event_requests = []
        self._blocks = itertools.count(10)
        self._tx = itertools.count(1)
        self._lock = threading.Condition()

    def on(self, chaincode, transaction, handler):
        self.handlers[(chaincode, transaction)] = handler

    def get_network(self, channel):
        return self

    def with_identity(self, identity, signer=None):
        """The same network (shared calls, ledger, counters, and what a test sets on it
        later), signing as ``identity``."""
        return _IdentityView(self, identity)

    def get_contract(self, name):
        return FakeContract(self, name)

    def new_transaction(self, data: bytes) -> FakeTransaction:
        fields = json.loads(data)
        msp_id, credentials = fields["creator"]
        return FakeTransaction(self, fields["transaction_id"], fields["result"].encode(),
                               Identity(msp_id, credentials.encode()), fields["signature"])

    def new_transaction_id(self) -> str:
        with self._lock:
            return hashlib.sha256(str(next(self._tx)).encode()).hexdigest()

    def get_chaincode_events(self, chaincode_name, start_block=None, checkpoint=None):
        self.event_requests.append((chaincode_name, start_block, checkpoint))
        return self.events(chaincode_name, checkpoint)

    def run(self, chaincode, transaction, arguments, kind, transient=None, endorsers=None):
        with self._lock:
            self.calls.append(Call(chaincode, transaction, arguments, kind, transient or {},
                                   None if endorsers is None else list(endorsers),
                                   self.identity))
        handler = self.handlers.get((chaincode, transaction), self.defaults[kind])
        answer = handler(arguments)
        return answer if isinstance(answer, bytes) else json.dumps(answer).encode()

    def broadcast(self, transaction: FakeTransaction) -> None:
        self._crash_if("before ordering")
        tx_id = transaction.transaction_id
        with self._lock:
            outcome = self.broadcasts.pop(0) if self.broadcasts else None
            if isinstance(outcome, Exception):
                outcome.transaction_id = tx_id  # as fabricgw's client names it
                raise outcome
            self.ordered.append(tx_id)
            self.envelopes.append(transaction.bytes())
            if outcome != LOST:
                self._commit(tx_id, transaction.creator)
        self._crash_if("after ordering")

    def _commit(self, tx_id, creator):
        block = next(self._blocks)
        if tx_id in self.statuses:
            self.duplicates.append(tx_id)
            return
        code = self.validation.pop(0) if self.validation else "VALID"
        self.statuses[tx_id] = (code, block)
        self.creators[tx_id] = creator
        self._lock.notify_all()

    def wait_for_commit(self, tx_id, timeout) -> Status:
        with self._lock:
            if not self._lock.wait_for(lambda: tx_id in self.statuses, timeout):
                raise errors.CommitStatusError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                               "Deadline Exceeded", transaction_id=tx_id)
            code, block = self.statuses[tx_id]
        return Status(tx_id, code, block)

    def _crash_if(self, moment):
        if self.crash == moment:
            self.crash = None
            raise SystemExit(f"gateway stopped {moment}")

    def get_transaction_status(self, tx_id):
        with self._lock:
            if tx_id not in self.statuses:
                raise errors.NotFoundError(tx_id)
            code, block = self.statuses[tx_id]
            return Status(tx_id, code, block, self.creators[tx_id])

    def submits(self, transaction=None):
        """Endorsed writes (each a new transaction; re-submissions of one are in ``ordered``)."""
        return [c for c in self.calls
                if c.kind == "submit" and (transaction is None or c.transaction == transaction)]


class _IdentityView(FakeNetwork):
    """A FakeNetwork whose state is its base's, read and written through, but its own
    identity: what a test sets on the base (``broadcasts``, handlers) applies to it too."""

    def __init__(self, base: FakeNetwork, identity: Identity):
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "identity", identity)

    def __getattr__(self, name):
        return getattr(self._base, name)

    def __setattr__(self, name, value):
        setattr(self._base, name, value)


class FakeEventStream:
    """A chaincode event stream: yields what ``push`` gives it, raises what ``break_with``
    gives it, and ends with CANCELLED once closed (as a cancelled gRPC stream does). Like the
    peer's, it delivers the events of one block together: ``take_buffered`` hands over the
    rest of the block of the event ``next`` returned last."""

    _CLOSED = object()

    def __init__(self):
        self._queue = queue.Queue()
        self._pending = []
        self.closed = threading.Event()

    def push(self, *events):
        for _, block in itertools.groupby(events, key=lambda e: e.block_number):
            self._queue.put(list(block))

    def break_with(self, error: Exception):
        self._queue.put(error)

    def __iter__(self):
        return self

    def __next__(self):
        if not self._pending:
            item = self._queue.get(timeout=10)
            if item is self._CLOSED:
                raise errors.GatewayError(grpc.StatusCode.CANCELLED, "stream cancelled")
            if isinstance(item, Exception):
                raise item
            self._pending = item
        return self._pending.pop(0)

    def take_buffered(self):
        taken, self._pending = self._pending, []
        return taken

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
