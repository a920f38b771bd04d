"""The gateway's own database: API credentials and idempotency records (SQLAlchemy Core)."""

from __future__ import annotations

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
)


def make_engine(url: str) -> sa.Engine:
    """An engine safe to share between the worker's threads, with the schema created."""
    kwargs = {}
    if url.startswith("sqlite"):
        # Threads share the pool; a writer waits for SQLite's file lock instead of failing.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @sa.event.listens_for(engine, "connect")
        def _wal(dbapi_connection, _record):
            # WAL lets readers (credential checks) proceed while a writer holds the lock.
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
    metadata.create_all(engine)
    return engine
