"""The gateway's own database: API credentials and idempotency records (SQLAlchemy Core)."""

from __future__ import annotations

import os

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
    # The folder of the person's own Fabric identity (cert.pem, key.pem) in the gateway's
    # store, whose writes are signed with it; NULL: the org's gateway identity signs.
    sa.Column("identity_dir", sa.String(1000), nullable=True),
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
    """An engine safe to share between the worker's threads. It creates no tables: the schema
    is made by ``gateway.api.schema.upgrade`` (``manage upgrade-schema``), run once per
    upgrade, and only checked by the processes that use it."""
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


class SchemaOutdated(Exception):
    """The database is not of this version's schema: answered 503 with ``code`` (it is
    being upgraded, or ``manage upgrade-schema`` has yet to run), never a 500."""

    def __init__(self, code: str, message: str, reasons: list[str]):
        super().__init__(f"{message}: {'; '.join(reasons)}")
        self.code = code
        self.message = message
        self.reasons = reasons


def _missing_columns(engine: sa.Engine, table: sa.Table) -> list[sa.Column]:
    existing = {c["name"] for c in sa.inspect(engine).get_columns(table.name)}
    return [c for c in table.columns if c.name not in existing]


def problems(engine: sa.Engine) -> list[str]:
    """How the gateway's own tables differ from this version's (none: they are current)."""
    inspector = sa.inspect(engine)
    found = []
    for table in COLUMN_UPGRADES:
        if not inspector.has_table(table.name):
            found.append(f"table {table.name} is missing")
        elif missing := _missing_columns(engine, table):
            found.append(f"table {table.name} lacks {', '.join(c.name for c in missing)}")
    return found


def _claimed_when_created(conn, added: set[str]) -> None:
    if "claimed_at" in added:
        # Keys an older gateway left pending were claimed when created: they become
        # stale by age like any other rather than free at once.
        conn.execute(idempotency_records.update().values(
            claimed_at=idempotency_records.c.created_at))


def add_missing_columns(engine: sa.Engine, table: sa.Table) -> list[str]:
    """``create_all`` makes missing tables only: give a table made by an older gateway the
    columns added since (all nullable or defaulted, so its rows stay valid). Returns the
    names of the columns added."""
    missing = _missing_columns(engine, table)
    if missing:
        with engine.begin() as conn:
            for column in missing:
                ddl = sa.schema.CreateColumn(column).compile(dialect=engine.dialect)
                conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {ddl}"))
            COLUMN_UPGRADES[table](conn, {c.name for c in missing})
    return [c.name for c in missing]


# The gateway's own tables, which keep their rows across versions: columns added since are
# added in place, then this fills them for the rows already there.
COLUMN_UPGRADES = {credentials: lambda conn, added: None,
                   idempotency_records: _claimed_when_created}
