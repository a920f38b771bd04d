"""The gateway's own database: API credentials and idempotency records (SQLAlchemy Core)."""

from __future__ import annotations

import os
import random
import time

import sqlalchemy as sa

metadata = sa.MetaData()

credentials = sa.Table(
    "api_credentials",
    metadata,
    # The public half of a key ("cl_<key_id>_<secret>"), so a presented key is found by id and
    # its hash compared in constant time rather than looked up by the secret itself.
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("key_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

idempotency_records = sa.Table(
    "idempotency_records",
    metadata,
    # Keys are scoped to the credential that used them: two applications cannot collide.
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("idempotency_key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    # "pending" from the moment a request claims the key until its answer is stored.
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("body", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Which request holds a pending key: 1 for the first, one more per takeover after a crash.
    # Every change a holder makes is conditional on its number, so a superseded holder that
    # is still alive can no longer write, record or answer for the key.
    sa.Column("claim_number", sa.Integer, nullable=False, server_default="1"),
    # When the holder claimed the key; NULL once it gave the key up (the next request with
    # the key takes over at once instead of waiting for the staleness bound).
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    # The holder's process ("host/pid/start time"): a taker on the same host that finds it
    # gone takes the key over at once instead of waiting for the staleness bound.
    sa.Column("holder", sa.String(300), nullable=True),
    # The holder's latest endorsed attempt, recorded before it is sent for ordering, so that a
    # takeover can finish that very transaction instead of writing a second one.
    sa.Column("transaction_id", sa.String(64), nullable=True),
    sa.Column("endorsed_result", sa.LargeBinary, nullable=True),
    sa.Column("prepared_transaction", sa.LargeBinary, nullable=True),
)


def make_engine(url: str) -> sa.Engine:
    """An engine safe to share between the worker's threads, with the schema created."""
    kwargs = {}
    if url.startswith("sqlite"):
        # Threads share the pool; a writer waits for SQLite's file lock instead of failing.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _private_sqlite_files(engine.url.database)
        @sa.event.listens_for(engine, "connect")
        def _wal(dbapi_connection, _record):
            # WAL lets readers (credential checks) proceed while a writer holds the lock.
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
    create_tables(engine)
    _upgrade_idempotency_records(engine)
    return engine


def _private_sqlite_files(database: str | None) -> None:
    """The database holds API-key hashes, idempotent answers (lease terms) and prepared
    transactions: its owner's alone. SQLite gives its -wal, -shm and -journal files the
    database file's mode, so creating that one 0600 before SQLite does is enough; an existing
    file made by an older gateway is narrowed too."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    for path in (database, *(database + suffix for suffix in ("-wal", "-shm", "-journal"))):
        if os.path.exists(path):
            os.chmod(path, 0o600)


def create_tables(engine: sa.Engine, tables=None) -> None:
    """The missing tables (of ``tables``, default all), created."""
    attempts = 5
    for attempt in range(attempts):
        try:
            metadata.create_all(engine, tables=tables)
            return
        except sa.exc.OperationalError:
            # Another process on the same database (the web app and the read-model follower
            # start together) created one between the check and the CREATE; the next pass
            # skips what exists.
            if attempt == attempts - 1:
                raise
            # Immediate retries can lose to the other process again and again while it is
            # still creating its tables one by one: give it a moment.
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))


def _missing_columns(engine: sa.Engine, table: sa.Table) -> list[sa.Column]:
    existing = {c["name"] for c in sa.inspect(engine).get_columns(table.name)}
    return [c for c in table.columns if c.name not in existing]


def _upgrade_idempotency_records(engine: sa.Engine) -> None:
    """``create_all`` makes missing tables only: give a table made by an older gateway the
    columns added since (all nullable or defaulted, so its rows stay valid)."""
    table = idempotency_records
    missing = _missing_columns(engine, table)
    if not missing:
        return
    try:
        with engine.begin() as conn:
            for column in missing:
                ddl = sa.schema.CreateColumn(column).compile(dialect=engine.dialect)
                conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {ddl}"))
            if "claimed_at" in {c.name for c in missing}:
                # Keys an older gateway left pending were claimed when created: they become
                # stale by age like any other rather than free at once.
                conn.execute(table.update().values(claimed_at=table.c.created_at))
    except sa.exc.DBAPIError:
        # Another gateway process sharing the database upgraded it at the same moment.
        if _missing_columns(engine, table):
            raise
