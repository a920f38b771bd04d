"""The gateway's only door to Fabric: evaluate, submit-and-wait, transaction status, height.

Everything Fabric can say goes out of here as an ``ApiError`` with the HTTP status the REST
contract promises, so views never see a gRPC or Fabric type. The connection to the org's peer
is opened on first use (after gunicorn forks, never before) and shared by every thread.

Chaincode refusals (``CODE: message`` from the chaincode) map to:

=================  ======  =====================================================
INVALID_ARGUMENT   422     the request is well-formed JSON but the chaincode rejects a value
NOT_FOUND          404
ALREADY_EXISTS     409
FORBIDDEN          403     the gateway's org (or identity) may not do this
INVALID_STATE      409     e.g. verifying a report twice, paying an inactive lease
ROLES_NOT_SET      503     the chaincode has not been configured yet: an operator must act
=================  ======  =====================================================

Other Fabric failures: peer unreachable or too slow before anything was sent for ordering ->
503 ``PEER_UNAVAILABLE``; an endorser's chaincode server unreachable -> 503
``CHAINCODE_UNAVAILABLE``; too few endorsers reachable -> 503 ``ENDORSERS_UNAVAILABLE`` (all
three retryable: nothing was ordered); endorsement refused without a chaincode code -> 409
``ENDORSEMENT_FAILED``; ordering refused -> 409 ``SUBMIT_FAILED``; committed invalid -> 409
with the validation code (``MVCC_READ_CONFLICT`` / ``PHANTOM_READ_CONFLICT`` once the bounded
retries are spent, else ``TRANSACTION_INVALID``); sent for ordering but not seen committed
within the write deadline -> 504 ``COMMIT_STATUS_UNKNOWN`` (retryable) with the transaction id
and the route to look it up.

Only a chaincode refusal (``ChaincodeRefusal``, but ``ROLES_NOT_SET``) is the same on every
retry of the same call on the same ledger state; ``is_transient`` says so for callers that
retry by themselves (the read model's follower) rather than hand the answer to a person.

Once a transaction may have reached an orderer, its fate is only ever learnt from the ledger:
the gateway waits for its commit and, while none comes (an orderer that took it crashed before
it reached a block, as Fabric documents for Raft leader changes), sends the *same signed
envelope* again, until the commit is seen or the write deadline passes. Fabric commits a
transaction id at most once (a later copy is marked ``DUPLICATE_TXID`` and the first copy's
status is the answer), so resending can never write twice.

A write can be resumed after a crash: ``submit`` hands each endorsed attempt (transaction id,
chaincode result, the prepared transaction) to its caller *before* sending it for ordering,
and ``submit(..., resume=attempt)`` first settles that attempt. Fabric commits a transaction
id at most once, so the attempt is looked up and, if the ledger never saw it, the very same
transaction is sent again instead of a new one; only an attempt the ledger holds as invalid
is followed by a fresh write.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
import re
import threading
import time
from typing import Any, Callable, Sequence

import grpc

from gateway.fabricgw import errors as fabric_errors

from . import fast_dump
from .config import DEFAULT_RESUBMIT_AFTER_S, DEFAULT_WRITE_DEADLINE_S, FabricSettings
from .errors import ApiError

log = logging.getLogger(__name__)

CHAINCODE_STATUS = {
    "INVALID_ARGUMENT": 422,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "FORBIDDEN": 403,
    "INVALID_STATE": 409,
    "ROLES_NOT_SET": 503,
}

RETRIED_VALIDATION_CODES = {"MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"}

_UNAVAILABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                grpc.StatusCode.RESOURCE_EXHAUSTED}
# A Submit failing so may still have left the transaction with an orderer (the peer's gateway
# reports UNAVAILABLE when an orderer's broadcast stream broke after the envelope was sent).
_MAYBE_ORDERED = _UNAVAILABLE | {grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN,
                                 grpc.StatusCode.INTERNAL}
# A CommitStatus failing so says nothing about the transaction (ABORTED: the peer's commit
# notifier closed, e.g. while it stops).
_STATUS_UNKNOWN = _MAYBE_ORDERED | {grpc.StatusCode.ABORTED}

# How a peer reports that it could not reach or keep the chaincode server of an endorsement
# (Fabric 3.1.5 core/chaincode: chaincode_support.go, handler.go).
_CHAINCODE_UNREACHABLE = re.compile(r"could not launch chaincode|chaincode stream terminated|"
                                    r"timeout expired while executing transaction")
# How the peer's gateway reports that too few endorsers can be reached to satisfy the policy
# (internal/pkg/gateway/endorse.go; a peer it cannot call shows as a gRPC Unavailable).
_ENDORSERS_UNREACHABLE = re.compile(r"no combination of peers can be derived|"
                                    r"rpc error: code = Unavailable")
# Per-call deadlines of the stages, each cut to what is left of the write deadline.
_ENDORSE_TIMEOUT_S = 15.0
_SUBMIT_TIMEOUT_S = 5.0


@dataclasses.dataclass(frozen=True)
class Committed:
    """A write that is in a block and valid."""

    transaction_id: str
    block_number: int
    result: Any


@dataclasses.dataclass(frozen=True)
class Attempt:
    """An endorsed write about to be sent for ordering: enough to finish it in another process.

    ``prepared`` is the fabricgw ``Transaction.bytes()`` of the endorsed and signed envelope:
    re-submitted, it is the very same transaction (same id), which Fabric commits at most
    once."""

    transaction_id: str
    result: bytes
    prepared: bytes


@dataclasses.dataclass(frozen=True)
class Creator:
    """Who signed a transaction: an MSP id and the certificate subject (RFC 4514)."""

    msp_id: str
    subject: str


@dataclasses.dataclass(frozen=True)
class TransactionStatus:
    transaction_id: str
    validation_code: str
    block_number: int
    creator: Creator


class ChaincodeRefusal(ApiError):
    """The chaincode's own answer (``CODE: message``) about the call and the ledger's state."""


def is_transient(error: ApiError) -> bool:
    """Whether the same call, made again later with nothing changed by the caller, may be
    answered otherwise: everything but a chaincode refusal is (a peer, an endorser or the
    connection in trouble, an endorsement or evaluation that failed without the chaincode's
    code, an answer that is no JSON), and so is a chaincode not configured yet
    (``ROLES_NOT_SET``, which an operator cures)."""
    return error.retryable or not isinstance(error, ChaincodeRefusal)


def connect_to_fabric(settings: FabricSettings):
    """Open the Fabric Gateway connection described by ``settings``; returns the fabricgw
    ``Gateway`` (the network of the channel, and stored transactions, are had from it)."""
    from gateway.fabricgw import Gateway, Identity, signers

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    if settings.msp_dir:
        identity = Identity.from_msp_dir(settings.msp_dir, settings.msp_id)
        signer = signers.from_msp_dir(settings.msp_dir)
    else:
        identity = Identity(msp_id=settings.msp_id, credentials=read(settings.cert))
        signer = signers.new_private_key_signer(read(settings.key))
    gateway = Gateway.connect(
        endpoint=settings.peer_endpoint,
        tls_root_cert=read(settings.peer_tls_ca),
        client_cert=read(settings.tls_cert) if settings.tls_cert else None,
        client_key=read(settings.tls_key) if settings.tls_key else None,
        server_name_override=settings.peer_host_override,
        identity=identity,
        signer=signer,
    )
    return gateway


def as_identity(gateway, msp_id: str, identity_dir: str):
    """The Gateway acting as the Fabric identity in ``identity_dir`` (cert.pem, key.pem) of
    ``msp_id``, over ``gateway``'s connection."""
    from gateway.fabricgw import Identity, signers

    with open(os.path.join(identity_dir, "cert.pem"), "rb") as f:
        cert = f.read()
    with open(os.path.join(identity_dir, "key.pem"), "rb") as f:
        signer = signers.new_private_key_signer(f.read())
    return gateway.with_identity(Identity(msp_id=msp_id, credentials=cert), signer)


def _creator(identity) -> Creator:
    from cryptography import x509

    subject = x509.load_pem_x509_certificate(identity.credentials).subject.rfc4514_string()
    return Creator(identity.msp_id, subject)


def _argument(value) -> str:
    """Chaincode arguments are strings; objects travel as JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


class Ledger:
    def __init__(self, settings: FabricSettings | None, *,
                 connect: Callable[[FabricSettings], Any] = connect_to_fabric,
                 mvcc_retries: int = 4, retry_backoff_ms: int = 50,
                 write_deadline_s: float = DEFAULT_WRITE_DEADLINE_S,
                 resubmit_after_s: float = DEFAULT_RESUBMIT_AFTER_S,
                 on_fabric_error: Callable[[str], None] = lambda code: None,
                 on_retry: Callable[[], None] = lambda: None,
                 on_resubmit: Callable[[], None] = lambda: None):
        """``write_deadline_s`` bounds a whole write (endorsements, MVCC retries, ordering
        and commit); ``resubmit_after_s`` is how long a transaction sent for ordering may go
        without a commit before it is sent again."""
        self._settings = settings
        self._connect = connect
        self._mvcc_retries = mvcc_retries
        self._backoff = retry_backoff_ms / 1000
        self._write_deadline = write_deadline_s
        self._resubmit_after = resubmit_after_s
        self._on_fabric_error = on_fabric_error
        self._on_retry = on_retry
        self._on_resubmit = on_resubmit
        self._clock = time.monotonic
        self._gateway = None
        self._people: dict[str, Any] = {}  # identity folder -> Gateway acting as that person
        self._lock = threading.Lock()

    @property
    def msp_id(self) -> str | None:
        return self._settings.msp_id if self._settings else None

    def _get_gateway(self, identity_dir: str | None = None):
        """The org's Gateway, or with ``identity_dir`` one acting as that person over the
        same connection."""
        if self._gateway is None:
            with self._lock:
                if self._gateway is None:
                    self._gateway = self._open()
        if identity_dir is None:
            return self._gateway
        with self._lock:
            if identity_dir not in self._people:
                try:
                    self._people[identity_dir] = as_identity(self._gateway, self._settings.msp_id,
                                                             identity_dir)
                except (OSError, ValueError, TypeError) as err:
                    log.error("cannot load the identity in %s: %s", identity_dir, err)
                    raise ApiError(503, "IDENTITY_UNAVAILABLE",
                                   "The Fabric identity bound to this API key cannot be "
                                   "loaded; an operator must check the gateway's store.",
                                   retryable=True) from err
            return self._people[identity_dir]

    def _get_network(self, identity_dir: str | None = None):
        return self._get_gateway(identity_dir).get_network(self._settings.channel)

    def _open(self):
        if self._settings is None:
            raise ApiError(503, "FABRIC_NOT_CONFIGURED",
                           "The gateway has no Fabric connection configured "
                           "(CARBONLEASE_MSP_ID, CARBONLEASE_PEER_ENDPOINT, CARBONLEASE_PEER_TLS_CA).",
                           retryable=True)
        try:
            return self._connect(self._settings)
        except (OSError, ValueError, TypeError) as err:
            log.error("cannot open the Fabric connection: %s", err)
            raise ApiError(503, "FABRIC_NOT_CONFIGURED",
                           f"The gateway cannot open its Fabric connection: {err}",
                           retryable=True) from err

    def _chaincode_name(self, chaincode: str) -> str:
        names = {"emission": self._settings.emission_chaincode,
                 "lease": self._settings.lease_chaincode} if self._settings else {}
        return names.get(chaincode, chaincode)

    def _contract(self, chaincode: str, identity_dir: str | None = None):
        network = self._get_network(identity_dir)
        return network.get_contract(self._chaincode_name(chaincode))

    def chaincode_events(self, chaincode: str, checkpoint=None):
        """A closeable iterator of the chaincode's events (valid transactions only), from just
        after ``checkpoint`` (block number + transaction id), else from block 0. Failures are
        raised as they come (gRPC or Fabric errors): the caller decides when to reconnect."""
        return self._get_network().get_chaincode_events(
            self._chaincode_name(chaincode), start_block=0, checkpoint=checkpoint)

    def evaluate(self, chaincode: str, transaction: str, arguments: Sequence = (),
                 identity_dir: str | None = None) -> Any:
        """A read-only call, signed by the person of ``identity_dir`` or else the org."""
        contract = self._contract(chaincode, identity_dir)
        try:
            payload = contract.evaluate(transaction, arguments=[_argument(a) for a in arguments])
        except fabric_errors.GatewayError as err:
            raise self._translate(err) from err
        return self._decode(payload, transaction)

    def submit(self, chaincode: str, transaction: str, arguments: Sequence = (), *,
               transient: dict[str, Any] | None = None,
               endorsing_organizations: Sequence[str] | None = None,
               resume: Attempt | None = None,
               on_endorsed: Callable[[Attempt], None] = lambda attempt: None,
               identity_dir: str | None = None) -> Committed:
        """Endorse, order and wait for the commit; again on MVCC conflicts, a bounded number
        of times with randomised exponential backoff (each attempt is a new transaction), all
        within the write deadline.

        ``transient`` (name -> value, objects as JSON) reaches the chaincode as transient data:
        endorsers see it, no block ever holds it (private data travels this way).
        ``endorsing_organizations`` names the orgs to endorse instead of leaving the choice to
        Fabric's discovery. Neither is needed to send an attempt again or to resume one: the
        prepared transaction carries the endorsements, and transient data is never in it.

        ``on_endorsed`` sees every attempt, signed, before it is sent for ordering (if it
        raises, the attempt is not sent). With ``resume``, an attempt of this same write made
        earlier (by a request that died or gave up at its deadline) is settled first: its
        commit is the answer if it is valid; only if the ledger holds it as invalid is the
        write endorsed afresh.

        With ``identity_dir``, the person of that folder signs (and is the creator on the
        ledger), resubmissions included; else the org's gateway identity."""
        deadline = self._clock() + self._write_deadline
        if resume is not None:
            committed = self._settle(resume, deadline, identity_dir)
            if committed is not None:
                return committed
        contract = self._contract(chaincode, identity_dir)
        args = [_argument(a) for a in arguments]
        transient_data = {k: _argument(v) for k, v in (transient or {}).items()}
        attempt = 0
        while True:
            try:
                endorsed = contract.new_proposal(
                    transaction, arguments=args, transient_data=transient_data,
                    endorsing_organizations=endorsing_organizations,
                ).endorse(timeout=self._within(deadline, _ENDORSE_TIMEOUT_S))
                endorsed.sign()
                on_endorsed(Attempt(endorsed.transaction_id, endorsed.result, endorsed.bytes()))
                return self._order(endorsed, deadline)
            except fabric_errors.CommitError as err:
                if (err.code not in RETRIED_VALIDATION_CODES or attempt == self._mvcc_retries
                        or self._clock() >= deadline):
                    raise self._translate(err) from err
                attempt += 1
                log.info("%s %s: %s, retry %d of %d", transaction, err.transaction_id,
                         err.code, attempt, self._mvcc_retries)
                self._on_retry()
                time.sleep(self._backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
            except fabric_errors.GatewayError as err:
                raise self._translate(err) from err

    def _order(self, endorsed, deadline: float) -> Committed:
        """Send an endorsed fabricgw ``Transaction`` to be ordered; its valid commit."""
        status = self._commit_of(endorsed, deadline)
        if not status.successful:
            raise fabric_errors.CommitError(status.transaction_id, status.code,
                                            status.block_number)
        return Committed(status.transaction_id, status.block_number,
                         self._decode(endorsed.result, endorsed.transaction_id))

    def _commit_of(self, transaction, deadline: float):
        """Send ``transaction`` for ordering and wait for its commit status, sending the same
        signed envelope again each time ``resubmit_after_s`` pass without a commit, until
        ``deadline``; then CommitStatusError (DEADLINE_EXCEEDED).

        Only a refusal of the first send is an answer (nothing can have been ordered);
        after that, what decides is the commit: a copy refused or lost later does not undo
        one an orderer took.

        Why the peer's Gateway Submit reaches "another orderer" without this client choosing
        one: Fabric 3.1.5's gateway (internal/pkg/gateway/submit.go, submitNonBFT) tries the
        channel's orderers in a random order per Submit and moves on to the next on a
        connection error or a 5xx status, so a repeated Submit lands on a live orderer (the
        new Raft leader or a follower, which forwards to it). Broadcasting to an orderer of
        our own choice would need every orderer's endpoint and TLS trust in each REST
        gateway and duplicate that failover; the org's peer stays the gateway's only door."""
        first = True
        while True:
            try:
                transaction.submit(timeout=self._within(deadline, _SUBMIT_TIMEOUT_S))
            except fabric_errors.SubmitError as err:
                if first and err.code not in _MAYBE_ORDERED:
                    raise
                log.warning("%s: ordering unconfirmed (%s); waiting for its commit",
                            transaction.transaction_id, err.code.name)
            first = False
            sent_at = self._clock()
            try:
                status = transaction.commit().get_status(
                    timeout=self._within(deadline, self._resubmit_after))
                return self._first_copy(status)
            except fabric_errors.CommitStatusError as err:
                if err.code not in _STATUS_UNKNOWN:
                    raise
            # A peer that cannot be reached fails the wait at once: resend no more often.
            pause = min(sent_at + self._resubmit_after, deadline) - self._clock()
            if pause > 0:
                time.sleep(pause)
            if self._clock() >= deadline:
                raise fabric_errors.CommitStatusError(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"no commit seen within the write deadline ({self._write_deadline:g} s)",
                    transaction_id=transaction.transaction_id)
            log.info("resubmitting %s, not committed after %g s", transaction.transaction_id,
                     self._resubmit_after)
            self._on_resubmit()

    def _within(self, deadline: float, stage_timeout: float) -> float:
        """A call's timeout: the stage's own, cut to what is left before ``deadline`` (but
        not below half a second, so that a last call can still report what it finds)."""
        return min(stage_timeout, max(0.5, deadline - self._clock()))

    def _first_copy(self, status):
        if status.code == "DUPLICATE_TXID":
            # A second copy of a committed transaction: the first copy's status is the answer.
            return self._get_network().get_transaction_status(status.transaction_id)
        return status

    def _settle(self, attempt: Attempt, deadline: float,
                identity_dir: str | None) -> Committed | None:
        """The earlier attempt's commit if it is valid, None if it is invalid on the ledger."""
        try:
            status = self._status_or_resubmit(attempt, deadline, identity_dir)
        except fabric_errors.GatewayError as err:
            raise self._translate(err) from err
        if not status.successful:
            log.info("resumed %s is invalid (%s): writing afresh", attempt.transaction_id,
                     status.code)
            return None
        return Committed(status.transaction_id, status.block_number,
                         self._decode(attempt.result, attempt.transaction_id))

    def _status_or_resubmit(self, attempt: Attempt, deadline: float, identity_dir: str | None):
        """Not on the ledger means never ordered, dropped, or still on its way: sending the
        same transaction again covers all three, since only one copy of a transaction id
        commits. A new transaction instead could commit alongside the old one: twice."""
        try:
            return self._get_network().get_transaction_status(attempt.transaction_id)
        except fabric_errors.NotFoundError:
            log.info("resubmitting %s, which the ledger has not seen", attempt.transaction_id)
            # Sent by the identity that endorsed and signed it (its creator is in the payload),
            # which also signs the commit status requests.
            return self._commit_of(
                self._get_gateway(identity_dir).new_transaction(attempt.prepared), deadline)

    def transaction_status(self, transaction_id: str) -> TransactionStatus:
        network = self._get_network()
        try:
            status = network.get_transaction_status(transaction_id)
        except fabric_errors.NotFoundError as err:
            raise ApiError(404, "NOT_FOUND", f"No transaction {transaction_id} on the channel.",
                           {"transaction_id": transaction_id}) from err
        except fabric_errors.GatewayError as err:
            raise self._translate(err) from err
        return TransactionStatus(transaction_id, status.code, status.block_number,
                                 _creator(status.creator))

    def height(self) -> int:
        """Block height of the channel on the org's peer (qscc GetChainInfo)."""
        from fabric_protos.common import ledger_pb2

        contract = self._get_network().get_contract("qscc")
        try:
            payload = contract.evaluate("GetChainInfo", arguments=[self._settings.channel])
        except fabric_errors.GatewayError as err:
            raise self._translate(err) from err
        return ledger_pb2.BlockchainInfo.FromString(payload).height

    def height_if_reachable(self) -> int | None:
        """``height()``, or None when Fabric cannot answer now (for status displays)."""
        try:
            return self.height()
        except ApiError:
            return None

    def _decode(self, payload: bytes, transaction: str) -> Any:
        if not payload:
            return None
        try:
            return fast_dump.loads(payload)
        except ValueError as err:
            self._on_fabric_error("BAD_CHAINCODE_RESPONSE")
            raise ApiError(502, "BAD_CHAINCODE_RESPONSE",
                           f"{transaction} returned something other than JSON.") from err

    def _translate(self, err: Exception) -> ApiError:
        error = _translate(err)
        self._on_fabric_error(error.code)
        if error.status >= 500:
            log.warning("Fabric failure: %s", err)
        return error


def _peer_details(err: fabric_errors.GatewayError) -> dict:
    details = {"grpc_status": err.code.name,
               "peers": [dataclasses.asdict(d) for d in err.details]}
    if err.transaction_id:
        details["transaction_id"] = err.transaction_id
    return details


def _says(err: Exception, pattern: re.Pattern) -> bool:
    """An endorsement failure whose message or a peer's detail matches ``pattern``."""
    return isinstance(err, fabric_errors.EndorseError) and any(
        pattern.search(text) for text in [err.message, *(d.message for d in err.details)])


def _translate(err: Exception) -> ApiError:
    if isinstance(err, fabric_errors.CommitError):
        details = {"transaction_id": err.transaction_id, "validation_code": err.code,
                   "block_number": err.block_number}
        if err.code in RETRIED_VALIDATION_CODES:
            return ApiError(409, err.code,
                            "The write kept conflicting with concurrent writes; try again.",
                            details, retryable=True)
        return ApiError(409, "TRANSACTION_INVALID",
                        f"The transaction was committed as invalid: {err.code}.", details)

    code, message = fabric_errors.chaincode_error_code(err)
    details = _peer_details(err)
    if code in CHAINCODE_STATUS:
        return ChaincodeRefusal(CHAINCODE_STATUS[code], code, message, details,
                                retryable=code == "ROLES_NOT_SET")
    if isinstance(err, fabric_errors.CommitStatusError) and err.code in _STATUS_UNKNOWN:
        # Retryable: the idempotency record keeps the signed transaction, so a retry with
        # the same key settles this very transaction instead of writing again.
        route = f"/api/v1/transactions/{err.transaction_id}"
        return ApiError(504, "COMMIT_STATUS_UNKNOWN",
                        "The transaction was sent for ordering but not seen committed in time. "
                        "Send the request again with the same Idempotency-Key to get its "
                        f"final answer, or look it up at GET {route} (404 means not committed "
                        "yet) before writing again.",
                        {**details, "transactions_route": route},
                        retryable=True, headers={"Retry-After": "5"})
    # Not refusals: endorsement could not be had now (nothing was ordered, and endorsing
    # again has no effect but the answer).
    if _says(err, _CHAINCODE_UNREACHABLE):
        # An endorser's chaincode server is down or restarting.
        return ApiError(503, "CHAINCODE_UNAVAILABLE",
                        f"An endorsing peer could not run the chaincode now: {message}",
                        details, retryable=True, headers={"Retry-After": "1"})
    if _says(err, _ENDORSERS_UNREACHABLE):
        # Too few endorsing peers reachable or known: one is down, or the gateway's peer has
        # just restarted and its gossip membership is still forming.
        return ApiError(503, "ENDORSERS_UNAVAILABLE",
                        f"Not enough endorsing peers are reachable now: {message}",
                        details, retryable=True, headers={"Retry-After": "1"})
    if err.code in _UNAVAILABLE:
        return ApiError(503, "PEER_UNAVAILABLE", f"Fabric is unavailable: {message}", details,
                        retryable=True, headers={"Retry-After": "1"})
    if isinstance(err, fabric_errors.SubmitError):
        return ApiError(409, "SUBMIT_FAILED", f"Ordering refused the transaction: {message}",
                        details)
    if isinstance(err, fabric_errors.EndorseError):
        return ApiError(409, "ENDORSEMENT_FAILED", f"Endorsement failed: {message}", details)
    return ApiError(409, "EVALUATION_FAILED", f"The query failed: {message}", details)

