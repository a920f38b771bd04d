"""``Idempotency-Key``: a repeated write returns the first answer instead of writing again.

The first request with a key inserts a *pending* row (the primary key makes the insert the
arbiter between concurrent requests, in SQLite and PostgreSQL alike), runs, and stores its
status and body. A later request with the same key and the same body gets that stored answer
byte for byte (same transaction id); with a different body it gets 422
``IDEMPOTENCY_KEY_REUSED``; while the first is still running it gets 409
``IDEMPOTENCY_IN_PROGRESS``.

An answer is stored unless it says that trying again may succeed (``ApiError.retryable``:
peer unavailable, MVCC conflicts beyond the retry bound); then the key is released so the
client's retry really runs. An answer whose outcome is unknown (the write reached the
orderer but its commit status could not be read) is stored too: a second submission could
commit the write twice, so the client is told the transaction id to look up instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json

import flask
import sqlalchemy as sa
from werkzeug.exceptions import HTTPException

from . import db
from .auth import current_principal
from .errors import ApiError

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
    """Method, path and body; the body compared as JSON so key order and spacing don't matter."""
    raw = request.get_data()
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotencyStore:
    def __init__(self, engine: sa.Engine):
        self._engine = engine
        self._table = db.idempotency_records

    def claim(self, key_id: str, key: str, fingerprint: str) -> flask.Response | None:
        """Claim the key for this request; or the stored answer of an earlier one."""
        t = self._table
        try:
            with self._engine.begin() as conn:
                conn.execute(t.insert().values(
                    key_id=key_id, idempotency_key=key, fingerprint=fingerprint,
                    state="pending", created_at=dt.datetime.now(dt.timezone.utc)))
            return None
        except sa.exc.IntegrityError:
            pass
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(t).where(
                t.c.key_id == key_id, t.c.idempotency_key == key)).mappings().first()
        if row is None:
            # The holder released the key between our insert and our read: it is free again.
            return self.claim(key_id, key, fingerprint)
        if row["fingerprint"] != fingerprint:
            raise ApiError(422, "IDEMPOTENCY_KEY_REUSED",
                           "This Idempotency-Key was already used with a different request.",
                           {"idempotency_key": key})
        if row["state"] == "pending":
            raise ApiError(409, "IDEMPOTENCY_IN_PROGRESS",
                           "A request with this Idempotency-Key is still being processed.",
                           {"idempotency_key": key}, retryable=True, headers={"Retry-After": "1"})
        replay = flask.current_app.response_class(
            row["body"], status=row["status_code"], mimetype="application/json")
        replay.headers["Idempotent-Replayed"] = "true"
        return replay

    def complete(self, key_id: str, key: str, response: flask.Response) -> None:
        t = self._table
        with self._engine.begin() as conn:
            conn.execute(t.update().where(t.c.key_id == key_id, t.c.idempotency_key == key)
                         .values(state="done", status_code=response.status_code,
                                 body=response.get_data()))

    def purge(self, older_than: dt.timedelta) -> int:
        """Forget records older than ``older_than`` (also pending ones a crashed process left:
        their keys become usable again). Returns how many were removed."""
        cutoff = dt.datetime.now(dt.timezone.utc) - older_than
        with self._engine.begin() as conn:
            return conn.execute(self._table.delete().where(
                self._table.c.created_at < cutoff)).rowcount

    def release(self, key_id: str, key: str) -> None:
        t = self._table
        with self._engine.begin() as conn:
            conn.execute(t.delete().where(t.c.key_id == key_id, t.c.idempotency_key == key))


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
        key_id = current_principal().key_id
        stored = store.claim(key_id, key, _fingerprint(flask.request))
        if stored is not None:
            return stored
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
            # The worker is being stopped mid-request: leave the key free for the retry.
            store.release(key_id, key)
            raise
        if retryable:
            store.release(key_id, key)
        else:
            store.complete(key_id, key, response)
        return response

    return wrapper
