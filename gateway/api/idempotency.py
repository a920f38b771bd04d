"""``Idempotency-Key``: a repeated write returns the first answer instead of writing again.

The first request with a key inserts a *pending* row (the primary key makes the insert the
arbiter between concurrent requests, in SQLite and PostgreSQL alike), runs, and stores its
status and body. A later request with the same key and the same body gets that stored answer
byte for byte (same transaction id); with a different body it gets 422
``IDEMPOTENCY_KEY_REUSED``; while the first is still running it gets 409
``IDEMPOTENCY_IN_PROGRESS``.

An answer is stored unless it says that trying again may succeed (``ApiError.retryable``:
peer unavailable, MVCC conflicts beyond the retry bound, commit not seen within the write
deadline); then the key is released so the client's retry really runs at once. A write whose
transaction was sent for ordering but not seen committed (504) keeps its recorded attempt
(below), so the retry settles that same transaction (looks it up, sends the same envelope
again) rather than writing a second one: the client gets the final answer with its retry.

A holder that dies (crash, kill -9, host restart) must not leave its key pending for ever,
nor may the client's retry simply write again (FixNextRate would fix two periods). So the
holder records each endorsed attempt (transaction id, chaincode result, prepared transaction)
in the pending row *before* sending it for ordering, and a request finding the key pending for
longer than the staleness bound (``Config.idempotency_stale_after_s``) takes the key over
(a conditional UPDATE: one taker wins, the others get 409) and resumes the write from the
recorded attempt (``Ledger.submit(resume=...)``): valid on the ledger -> the answer the first
request would have given (same transaction id, block and result, rebuilt by the view as
usual); never seen by the ledger -> the very same transaction is sent again, which Fabric
commits at most once; invalid -> the write did not happen and is made afresh. Without a
recorded attempt nothing reached the orderer, and the write is made afresh.

A holder is presumed dead sooner when it certainly is: each claim records the holder's
process (host, pid and the process's start time), and a request on the same host that finds
that process gone (a gateway worker killed and restarted) takes the key over at once.

This stays at most once even if the "dead" holder was only slow: every change a holder makes
(recording an attempt, storing the answer, releasing) is conditional on its claim number,
which a takeover increments, and the takeover itself is conditional on the attempt it read.
So after a takeover the old holder can no longer send a new attempt, and the taker settles
exactly the attempt the old holder may have sent. The bound only keeps takers from
needlessly racing a holder that is still working.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import socket

import flask
import sqlalchemy as sa
from marshmallow import missing
from werkzeug.exceptions import HTTPException

from . import db
from .auth import current_principal
from .config import DEFAULT_STALE_AFTER_S
from .errors import ApiError
from .ledger import Attempt
from .request_body import json_body

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": "Any unique string (e.g. a UUID). Sending the same write again with the "
                   "same key returns the first answer instead of writing twice.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


def _fingerprint(request: flask.Request) -> str:
    """Method, path and body; a JSON body compared as JSON so key order and spacing don't
    matter (decoded by ``request_body``, which refuses a malformed one before a key is
    claimed)."""
    decoded = json_body(request)
    body = (request.get_data() if decoded is missing
            else json.dumps(decoded, sort_keys=True, separators=(",", ":")).encode())
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class Claim:
    """This request holds the key; ``resume`` is the attempt a previous holder left behind."""

    key_id: str
    key: str
    number: int
    resume: Attempt | None = None


class IdempotencyStore:
    def __init__(self, engine: sa.Engine,
                 stale_after: dt.timedelta = dt.timedelta(seconds=DEFAULT_STALE_AFTER_S)):
        self._engine = engine
        self._table = db.idempotency_records
        self._stale_after = stale_after

    def _row(self, key_id: str, key: str):
        t = self._table
        return (t.c.key_id == key_id) & (t.c.idempotency_key == key)

    def _held(self, claim: Claim):
        return self._row(claim.key_id, claim.key) & (self._table.c.claim_number == claim.number)

    def claim(self, key_id: str, key: str, fingerprint: str) -> Claim | flask.Response:
        """Claim the key for this request; or the stored answer of an earlier one."""
        t = self._table
        now = dt.datetime.now(dt.timezone.utc)
        try:
            with self._engine.begin() as conn:
                conn.execute(t.insert().values(
                    key_id=key_id, idempotency_key=key, fingerprint=fingerprint,
                    state="pending", created_at=now, claim_number=1, claimed_at=now,
                    holder=this_process()))
            return Claim(key_id, key, 1)
        except sa.exc.IntegrityError:
            pass
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(t).where(self._row(key_id, key))).mappings().first()
        if row is None:
            # The holder released the key between our insert and our read: it is free again.
            return self.claim(key_id, key, fingerprint)
        if row["fingerprint"] != fingerprint:
            raise ApiError(422, "IDEMPOTENCY_KEY_REUSED",
                           "This Idempotency-Key was already used with a different request.",
                           {"idempotency_key": key})
        if row["state"] == "pending":
            return self._take_over(row, now)
        replay = flask.current_app.response_class(
            row["body"], status=row["status_code"], mimetype="application/json")
        replay.headers["Idempotent-Replayed"] = "true"
        return replay

    def _take_over(self, row, now: dt.datetime) -> Claim:
        """Hold a pending key whose holder gave up or is presumed dead; else 409."""
        key_id, key = row["key_id"], row["idempotency_key"]
        claimed_at = row["claimed_at"]
        if (claimed_at is not None and _aware(claimed_at) > now - self._stale_after
                and not _gone(row["holder"])):
            raise _in_progress(key, row["transaction_id"])
        t = self._table
        number = row["claim_number"] + 1
        with self._engine.begin() as conn:
            # Only if nobody took it over or recorded another attempt since we read the row.
            won = conn.execute(t.update().where(
                self._row(key_id, key), t.c.state == "pending",
                t.c.claim_number == row["claim_number"],
                t.c.transaction_id.is_not_distinct_from(row["transaction_id"]),
            ).values(claim_number=number, claimed_at=now,
                     holder=this_process())).rowcount == 1
        if not won:
            raise _in_progress(key, row["transaction_id"])
        resume = None
        if row["transaction_id"] is not None:
            resume = Attempt(row["transaction_id"], row["endorsed_result"],
                             row["prepared_transaction"])
        return Claim(key_id, key, number, resume)

    def record_attempt(self, claim: Claim, attempt: Attempt) -> None:
        """Remember an endorsed attempt before it is sent for ordering; refuses to let it be
        sent (409) if another request has taken the key over meanwhile."""
        t = self._table
        with self._engine.begin() as conn:
            recorded = conn.execute(t.update().where(self._held(claim)).values(
                transaction_id=attempt.transaction_id, endorsed_result=attempt.result,
                prepared_transaction=attempt.prepared)).rowcount == 1
        if not recorded:
            raise _in_progress(claim.key, attempt.transaction_id)

    def complete(self, claim: Claim, response: flask.Response) -> None:
        t = self._table
        with self._engine.begin() as conn:
            conn.execute(t.update().where(self._held(claim))
                         .values(state="done", status_code=response.status_code,
                                 body=response.get_data()))

    def purge(self, older_than: dt.timedelta) -> int:
        """Forget records older than ``older_than``, pending ones too (with the attempt they
        recorded: a retry after that writes afresh, so purge well after the staleness bound).
        Returns how many were removed."""
        cutoff = dt.datetime.now(dt.timezone.utc) - older_than
        with self._engine.begin() as conn:
            return conn.execute(self._table.delete().where(
                self._table.c.created_at < cutoff)).rowcount

    def release(self, claim: Claim) -> None:
        """Give the key up so the client's retry runs now. Without a recorded attempt nothing
        reached the orderer and the key is forgotten; with one, the retry must settle that
        attempt first, so the key stays pending, free for the next request to take over."""
        t = self._table
        with self._engine.begin() as conn:
            conn.execute(t.delete().where(self._held(claim), t.c.transaction_id.is_(None)))
            conn.execute(t.update().where(self._held(claim)).values(claimed_at=None))


def _start_time(pid: int) -> str | None:
    """A process's start time (field 22 of /proc/<pid>/stat), which tells a pid reused by a
    later process from the one recorded; None if there is no such process (or no /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}/{pid}/{_start_time(pid)}"


def _gone(holder: str | None) -> bool:
    """Whether the recorded holder process certainly no longer runs: only decidable on its
    own host, and only where /proc tells start times."""
    if not holder:
        return False
    host, pid, started = holder.rsplit("/", 2)
    if host != socket.gethostname() or started == "None":
        return False
    return _start_time(int(pid)) != started


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _in_progress(key: str, transaction_id: str | None) -> ApiError:
    details = {"idempotency_key": key}
    if transaction_id is not None:
        details["transaction_id"] = transaction_id
    return ApiError(409, "IDEMPOTENCY_IN_PROGRESS",
                    "A request with this Idempotency-Key is still being processed.",
                    details, retryable=True, headers={"Retry-After": "1"})


def submit_options() -> dict:
    """``Ledger.submit`` keywords for the write of this request: under an Idempotency-Key,
    resume what a previous holder of the key left and record each attempt before ordering."""
    claim: Claim | None = flask.g.get("idempotency_claim")
    if claim is None:
        return {}
    store: IdempotencyStore = flask.current_app.extensions["carbonlease"].idempotency
    return {"resume": claim.resume, "on_endorsed": functools.partial(store.record_attempt, claim)}


def idempotent(view):
    """Wrap a write view (outside argument parsing) so its answers are remembered by key."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = flask.request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            raise ApiError(400, "BAD_REQUEST",
                           f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters long.",
                           {"headers": {HEADER: ["Invalid length."]}})
        store: IdempotencyStore = flask.current_app.extensions["carbonlease"].idempotency
        claim = store.claim(current_principal().key_id, key, _fingerprint(flask.request))
        if isinstance(claim, flask.Response):
            return claim
        flask.g.idempotency_claim = claim
        app = flask.current_app
        try:
            response = app.make_response(view(*args, **kwargs))
            retryable = False
        except Exception as exc:
            # Errors are answers too (a 422 for a malformed body is as final as a 201), except
            # those that say a retry may succeed, and gateway defects.
            retryable = getattr(exc, "retryable", not isinstance(exc, HTTPException))
            response = app.make_response(app.handle_user_exception(exc))
        except BaseException:
            # The worker is being stopped mid-request: leave the key to the retry.
            store.release(claim)
            raise
        if retryable:
            store.release(claim)
        else:
            store.complete(claim, response)
        return response

    return wrapper
