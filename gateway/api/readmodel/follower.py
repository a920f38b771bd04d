"""The read model's follower: the process that feeds the read model from the org's peer.

    python -m gateway.api.readmodel.follower

reads the same ``CARBONLEASE_*`` environment as the web app (Fabric connection, database; see
``gateway.api.config``) and runs until SIGTERM or SIGINT. ``scripts/up`` runs one per gateway
org next to its gunicorn, so the web app starts no threads and may run several workers.

One thread per chaincode follows its events: it resumes from the database checkpoint (block 0
when there is none), applies each event as it arrives, and when the stream breaks (peer
restart, network, database busy) opens it again from the checkpoint after a randomised
exponential backoff. The events the peer delivers together (one block's) are recorded in one
database transaction, which moves the checkpoint past the last of them. An event that cannot
be applied (see ``projections``) becomes a dead letter in the same transaction that moves the
checkpoint past it, so one odd write can never hold the read model back, nor the later events
of its own block.

Every few seconds the main thread asks the peer for the channel height and, for each chaincode
whose stream is open and keeping up, writes a heartbeat; the web app shows ``listening`` from
its age. On SIGTERM the streams are closed (each checkpoint is durable already) and it exits.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import sys
import threading
import time
from typing import Callable

import sqlalchemy as sa

from .. import db, schema
from ..config import Config
from ..errors import ApiError
from ..ledger import Ledger, connect_to_fabric, is_transient
from . import projections
from .store import CHAINCODES, Checkpoint, Outcome, ReadModel, printable

log = logging.getLogger(__name__)

APPLIED, REPEATED, DEAD_LETTER = "applied", "repeated", "dead letter"

# open_events(chaincode, checkpoint or None) -> closeable iterator of chaincode events whose
# take_buffered() hands over, without waiting, the events received with the last one returned
OpenEvents = Callable[[str, "Checkpoint | None"], object]


class DeadLetterWarnings:
    """Says at WARNING that events became dead letters without flooding the log when many do:
    the first in full, then for those that follow at most one line per ``every_s``, counting
    them and giving the latest in full. ``flush`` gives that line as soon as it is due (the
    follower's main loop calls it) or, with ``final``, at once. Thread-safe: the followers of
    every chaincode share one. The dead letters themselves are all in the database."""

    def __init__(self, every_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._every = every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._logged_at = float("-inf")
        self._held = 0
        self._latest = ""

    def dead_letter(self, chaincode: str, event, reason: str) -> None:
        described = (f"{chaincode} block {event.block_number} transaction "
                     f"{event.transaction_id} ({printable(event.event_name, 200)}): "
                     f"{printable(reason, 500)}")
        with self._lock:
            now = self._clock()
            if not self._held and now - self._logged_at >= self._every:
                self._logged_at = now
                log.warning("read model: kept as a dead letter: %s", described)
                return
            self._held += 1
            self._latest = described
            self._flush(now, final=False)

    def flush(self, final: bool = False) -> None:
        with self._lock:
            self._flush(self._clock(), final)

    def _flush(self, now: float, final: bool) -> None:
        if self._held and (final or now - self._logged_at >= self._every):
            log.warning("read model: %d more dead letters in the last %.0f s (GET "
                        "/api/v1/read/dead-letters lists them); the latest: %s", self._held,
                        now - self._logged_at, self._latest)
            self._logged_at = now
            self._held = 0


# The process's own: apply() warns through it unless told otherwise.
WARNINGS = DeadLetterWarnings()


def apply(read_model: ReadModel, chaincode: str, event,
          private_lease: projections.PrivateLease | None = None,
          warnings: DeadLetterWarnings = WARNINGS) -> str:
    """Record one event: its rows, or a dead letter when it cannot be applied; either way the
    checkpoint moves past it. Returns APPLIED, DEAD_LETTER or REPEATED (recorded before).
    ``private_lease`` reads a lease's private view (see ``projections.changes_of``); a dead
    letter is said through ``warnings``.
    Raises only for failures of the database itself (locked, gone) or of ``private_lease``
    (the peer), which a retry may cure."""
    [result] = apply_block(read_model, chaincode, [event], private_lease, warnings)
    return result


def apply_block(read_model: ReadModel, chaincode: str, events: list,
                private_lease: projections.PrivateLease | None = None,
                warnings: DeadLetterWarnings = WARNINGS) -> list[str]:
    """Record events the peer delivered together (a block's), in ledger order, as ``apply``
    does each, in ONE database transaction with the checkpoint written once, after the last:
    a failure leaves the checkpoint before them and none of their rows, so the stream opened
    again from it brings them all again. Returns each one's APPLIED, DEAD_LETTER or REPEATED.

    Every event is projected (and ``private_lease`` asked) before the transaction opens. When
    the database refuses one event's rows, the events are recorded again one per transaction,
    so that one becomes a dead letter and the others are applied."""
    outcomes = []
    for event in events:
        try:
            outcomes.append(Outcome(event, projections.changes_of(chaincode, event,
                                                                  private_lease)))
        except projections.Unprojectable as err:
            outcomes.append(Outcome(event, [], str(err)))
    return _record(read_model, chaincode, outcomes, warnings)


def _record(read_model: ReadModel, chaincode: str, outcomes: list[Outcome],
            warnings: DeadLetterWarnings) -> list[str]:
    try:
        recorded = read_model.record(chaincode, outcomes)
    except (UnicodeError, sa.exc.StatementError) as err:
        # UnicodeError: the driver cannot encode a value (SQLite: a surrogate).
        if isinstance(err, sa.exc.StatementError) and not _refuses_the_event(err):
            raise
        if len(outcomes) > 1:
            # Whose rows were refused? Each event again, in a transaction of its own.
            return [result for outcome in outcomes
                    for result in _record(read_model, chaincode, [outcome], warnings)]
        outcomes = [Outcome(outcomes[0].event, [], _refusal(err))]
        recorded = read_model.record(chaincode, outcomes)
    results = []
    for outcome, new in zip(outcomes, recorded):
        if not new:
            results.append(REPEATED)
        elif outcome.dead_letter is None:
            results.append(APPLIED)
        else:
            warnings.dead_letter(chaincode, outcome.event, outcome.dead_letter)
            results.append(DEAD_LETTER)
    return results


def _refusal(err: Exception) -> str:
    """The dead letter's reason for rows the database refused (SQLite: text it cannot encode,
    a UnicodeError; a constraint; a value out of the column's range)."""
    if isinstance(err, sa.exc.StatementError) and err.orig is not None:
        err = err.orig
    return f"the database refused the rows: {type(err).__name__}: {err}"


def _refuses_the_event(err: sa.exc.StatementError) -> bool:
    """A constraint or value the database refuses for this event's rows, as opposed to the
    database failing (locked, disk, connection), which must be retried, never skipped.
    A StatementError that is no DBAPIError was raised binding the values (e.g. text SQLite
    cannot encode)."""
    return isinstance(err, (sa.exc.IntegrityError, sa.exc.DataError)) \
        or not isinstance(err, sa.exc.DBAPIError)


class Follower:
    """Follows one chaincode's events into the read model on a thread of its own."""

    def __init__(self, read_model: ReadModel, open_events: OpenEvents, chaincode: str, *,
                 private_lease: projections.PrivateLease | None = None,
                 warnings: DeadLetterWarnings = WARNINGS,
                 first_backoff_s: float = 0.5, max_backoff_s: float = 30.0):
        self.chaincode = chaincode
        self._private_lease = private_lease
        self._warnings = warnings
        self._read_model = read_model
        self._open_events = open_events
        self._first_backoff = first_backoff_s
        self._max_backoff = max_backoff_s
        self._backoff = first_backoff_s
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._events = None
        self._waiting = False  # blocked for the peer's next event on an open stream
        self._recorded_at = float("-inf")  # monotonic time the last event was recorded
        self._thread = threading.Thread(target=self._run, name=f"read-model-{chaincode}",
                                        daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def keeping_up(self, within_s: float) -> bool:
        """The stream is open and the follower is either waiting for the peer's next event
        (it has applied all the peer sent) or recorded one within the last ``within_s``."""
        with self._lock:
            streaming = self._events is not None
        return streaming and (self._waiting
                              or time.monotonic() - self._recorded_at <= within_s)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        with self._lock:
            events = self._events
        if events is not None:
            events.close()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._follow()
                reason = "the event stream ended"
            except Exception as err:  # noqa: BLE001 - the thread must outlive any failure
                reason = f"{type(err).__name__}: {err}"
            if self._stopping.is_set():
                break
            delay = self._backoff * random.uniform(0.5, 1.0)
            self._backoff = min(self._backoff * 2, self._max_backoff)
            log.warning("read model %s: %s; reconnecting in %.1f s", self.chaincode,
                        printable(reason, 500), delay)
            try:
                self._read_model.count_reconnect(self.chaincode)
            except sa.exc.DBAPIError as err:
                log.warning("read model %s: cannot count the reconnect: %s", self.chaincode, err)
            self._stopping.wait(delay)
        log.info("read model %s: stopped", self.chaincode)

    def _follow(self) -> None:
        checkpoint = self._read_model.checkpoint(self.chaincode)
        if checkpoint is None:
            log.info("read model %s: no checkpoint, reading events from block 0",
                     self.chaincode)
        else:
            log.info("read model %s: resuming in block %d after transaction %s",
                     self.chaincode, checkpoint.block_number, checkpoint.transaction_id)
        events = self._open_events(self.chaincode, checkpoint)
        with self._lock:
            # stop() may have run while the stream was being opened.
            if self._stopping.is_set():
                events.close()
                return
            self._events = events
        try:
            stream = iter(events)
            while True:
                self._waiting = True
                try:
                    # The first event, then the rest of its block, which the peer sent with it.
                    delivered = [next(stream), *events.take_buffered()]
                except StopIteration:
                    return
                finally:
                    self._waiting = False
                apply_block(self._read_model, self.chaincode, delivered, self._private_lease,
                            self._warnings)
                self._recorded_at = time.monotonic()
                self._backoff = self._first_backoff
        finally:
            with self._lock:
                self._events = None
            events.close()


class CannotFollow(Exception):
    """The follower must not run on this database: its schema is not this version's."""


def run(config: Config, stop: threading.Event, *, connect=connect_to_fabric,
        first_backoff_s: float = 0.5) -> None:
    """Follow every chaincode into ``config``'s database until ``stop`` is set, holding its
    follower lock (waiting for it while an upgrade or another follower holds it). Raises
    ``CannotFollow`` when the schema is not this version's (``manage upgrade-schema`` makes
    it; the follower never does)."""
    engine = db.make_engine(config.database_url)
    with schema.follower_lock(engine, on_wait=lambda reason: log.warning(
            "waiting for the follower lock: %s", reason)):
        found = schema.problems(engine)
        if found:
            raise CannotFollow(
                f"the database is not of this version's schema ({'; '.join(found)}): "
                f"run python -m gateway.api.manage upgrade-schema with no follower running")
        _follow(config, stop, ReadModel(engine, dead_letters_kept=config.dead_letters_kept),
                connect, first_backoff_s)


def _follow(config: Config, stop: threading.Event, read_model: ReadModel, connect,
            first_backoff_s: float) -> None:
    ledger = Ledger(config.fabric, connect=connect)
    warnings = DeadLetterWarnings()
    followers = [Follower(read_model, ledger.chaincode_events, chaincode,
                          private_lease=private_lease_of(ledger), warnings=warnings,
                          first_backoff_s=first_backoff_s) for chaincode in CHAINCODES]
    every = config.follower_heartbeat_s
    for follower in followers:
        follower.start()
    try:
        while not stop.is_set():
            heartbeat(read_model, ledger, followers, every)
            warnings.flush()
            stop.wait(every)
    finally:
        for follower in followers:
            follower.stop()
        warnings.flush(final=True)


def private_lease_of(ledger: Ledger) -> projections.PrivateLease:
    """Reads a lease's private view from this org's peer: lease events are public, the terms
    reach only the gateways of the leaseTerms collection's members (None elsewhere)."""
    def private_lease(lease_id: str) -> dict | None:
        try:
            lease = ledger.evaluate("lease", "GetLease", [lease_id])
        except ApiError as err:
            if is_transient(err):
                # The peer, an endorser or the connection (even a 409 ENDORSEMENT_FAILED or
                # EVALUATION_FAILED): not the event's fault, retry it after the backoff.
                raise
            # The chaincode's own answer about this lease (e.g. NOT_FOUND for an event that
            # names a lease the ledger does not hold) comes out the same on every retry.
            raise projections.Unprojectable(
                f"GetLease of the event's lease answered {err.code}: {err.message}") from err
        if not isinstance(lease, dict) or "private" not in lease:
            raise projections.Unprojectable('GetLease answered no object with a "private" view')
        return lease["private"]
    return private_lease


def heartbeat(read_model: ReadModel, ledger: Ledger, followers: list[Follower],
          every: float) -> None:
    # A peer that does not answer is no peer to keep up with.
    height = ledger.height_if_reachable()
    if height is None:
        return
    for follower in followers:
        if follower.keeping_up(every):
            try:
                read_model.beat(follower.chaincode, channel_height=height, every_s=every,
                                pid=os.getpid())
            except sa.exc.DBAPIError as err:
                log.warning("read model %s: cannot write the heartbeat: %s",
                            follower.chaincode, err)


def main() -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s [%(name)s] %(levelname)s %(message)s")
    config = Config.from_env()
    if config.fabric is None:
        log.error("no Fabric connection configured (CARBONLEASE_MSP_ID, "
                  "CARBONLEASE_PEER_ENDPOINT, CARBONLEASE_PEER_TLS_CA): nothing to follow")
        return 2
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    log.info("read model follower of %s started (pid %d)", config.fabric.msp_id, os.getpid())
    try:
        run(config, stop)
    except CannotFollow as err:
        log.error("read model follower cannot start: %s", err)
        return 1
    log.info("read model follower stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
