"""Read-model tables, the transactions that record an event in them, and the paged queries.

Exactly once: ``record`` writes the rows of events delivered together (or, for an event that
cannot be applied, its dead letter) and the chaincode's checkpoint (block number and
transaction id of the last recorded event) in one database transaction. A crash before the
commit leaves none of them, so the follower resumes from the old checkpoint and the events
come again; after the commit all are there and the follower resumes after the last. Two
safety nets stay behind that: an event of an earlier block than the checkpoint, or the
checkpoint's own transaction, is skipped; and every row keeps the ledger position (block,
transaction) that last changed it, so an event older than the row, or the same transaction
again, changes nothing.

The follower process writes these tables and its heartbeat; the web app only reads them, so
any number of web workers can share the database with one follower per org.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import sqlalchemy as sa

from .. import db
from ..config import DEFAULT_DEAD_LETTERS_KEPT

CHAINCODES = ("emission", "lease")

# A follower beating less often than this many of its own intervals is not advancing.
STALE_AFTER_BEATS = 3
# How many of the latest dead letters the status shows per chaincode.
LATEST_DEAD_LETTERS = 3


def _position_columns() -> list[sa.Column]:
    return [sa.Column("block_number", sa.BigInteger, nullable=False),
            sa.Column("transaction_id", sa.String(64), nullable=False)]


projects = sa.Table(
    "read_projects", db.metadata,
    sa.Column("project_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("category", sa.String(32), nullable=False, index=True),
    sa.Column("location", sa.String(200), nullable=False),
    sa.Column("owner_msp", sa.String(64), nullable=False, index=True),
    sa.Column("expected_annual_reduction_kg", sa.BigInteger, nullable=False),
    sa.Column("registered_at", sa.String(40), nullable=False),
    *_position_columns(),
)

emission_reports = sa.Table(
    "read_emission_reports", db.metadata,
    sa.Column("report_id", sa.String(64), primary_key=True),
    sa.Column("lessee_id", sa.String(64), nullable=False, index=True),
    sa.Column("period_start", sa.String(10), nullable=False, index=True),
    sa.Column("period_end", sa.String(10), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("scope1_kg", sa.BigInteger, nullable=False),
    sa.Column("scope2_kg", sa.BigInteger, nullable=False),
    sa.Column("total_kg", sa.BigInteger, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("supersedes", sa.String(64), nullable=True),
    sa.Column("superseded_by", sa.String(64), nullable=True),
    sa.Column("submitted_by_msp", sa.String(64), nullable=False),
    sa.Column("submitted_at", sa.String(40), nullable=False),
    sa.Column("verified_at", sa.String(40), nullable=True),
    sa.Column("rejected_at", sa.String(40), nullable=True),
    *_position_columns(),
)

leases = sa.Table(
    "read_leases", db.metadata,
    sa.Column("lease_id", sa.String(64), primary_key=True),
    sa.Column("lessee_ref", sa.String(64), nullable=False, index=True),
    sa.Column("lessee_id", sa.String(64), nullable=True, index=True),
    sa.Column("project_id", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("principal_fen", sa.BigInteger, nullable=True),
    sa.Column("base_rate_bps", sa.Integer, nullable=True),
    sa.Column("term_periods", sa.Integer, nullable=True),
    sa.Column("period_months", sa.Integer, nullable=True),
    sa.Column("start_date", sa.String(10), nullable=True),
    sa.Column("rate_bps", sa.Integer, nullable=True),
    sa.Column("fixed_through_period", sa.Integer, nullable=False),
    sa.Column("paid_through_period", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("activated_at", sa.String(40), nullable=True),
    sa.Column("terminated_at", sa.String(40), nullable=True),
    sa.Column("matured_at", sa.String(40), nullable=True),
    *_position_columns(),
)

checkpoints = sa.Table(
    "read_model_checkpoints", db.metadata,
    sa.Column("chaincode", sa.String(32), primary_key=True),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("transaction_id", sa.String(64), nullable=False),
    # Dead letters recorded for the chaincode since block 0, those retention deleted included.
    sa.Column("dead_letters", sa.BigInteger, nullable=False, server_default="0"),
)

# Events the read model could not apply, kept as delivered (the payload as raw bytes, so any
# payload fits) with the reason; the checkpoint moved past them in the same transaction. Only
# the newest ones are kept (``ReadModel(dead_letters_kept=)``), so that a chaincode emitting
# events this version cannot read fills no disk.
dead_letters = sa.Table(
    "read_model_dead_letters", db.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("chaincode", sa.String(32), nullable=False, index=True),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("transaction_id", sa.String(64), nullable=False),
    sa.Column("event_name", sa.String(200), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    # Fabric keeps one chaincode event per transaction.
    sa.UniqueConstraint("chaincode", "transaction_id"),
)

# One row per chaincode, written by the follower while its stream is open and keeping up.
heartbeats = sa.Table(
    "read_model_heartbeats", db.metadata,
    sa.Column("chaincode", sa.String(32), primary_key=True),
    sa.Column("beat_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("beat_every_s", sa.Float, nullable=True),
    sa.Column("channel_height", sa.BigInteger, nullable=True),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("reconnects", sa.BigInteger, nullable=False, default=0),
)

TABLES = (projects, emission_reports, leases, checkpoints, dead_letters, heartbeats)

# The read model is derived from the ledger, so tables made by another version of it are not
# migrated: ``manage upgrade-schema`` drops and recreates them, with the follower stopped, and
# the follower reads every event again from block 0.


def outdated_tables(engine: sa.Engine) -> list[str]:
    """The read-model tables whose columns (names, nullability) differ from this version's."""
    inspector = sa.inspect(engine)
    outdated = []
    for table in TABLES:
        if not inspector.has_table(table.name):
            continue
        found = {c["name"]: bool(c["nullable"]) for c in inspector.get_columns(table.name)}
        if found != {c.name: bool(c.nullable) for c in table.columns}:
            outdated.append(table.name)
    return outdated


def problems(engine: sa.Engine) -> list[str]:
    """How the read-model tables differ from this version's (none: they are current)."""
    inspector = sa.inspect(engine)
    return [*(f"read-model table {t.name} is missing" for t in TABLES
              if not inspector.has_table(t.name)),
            *(f"read-model table {name} was made by another version"
              for name in outdated_tables(engine))]


def rebuild(conn: sa.Connection) -> None:
    """Every read-model table dropped and created empty, so that the follower, started
    afterwards, rebuilds them from block 0. Only while no follower runs on this database."""
    for table in reversed(TABLES):
        table.drop(conn, checkfirst=True)
    for table in TABLES:
        table.create(conn)


def _reading(method):
    """A read of the web app, which answers 503 READ_MODEL_UPGRADING rather than a 500 while
    the tables are not this version's: before ``manage upgrade-schema`` ran, or while another
    version's run rebuilds them under a web worker that still serves."""
    @functools.wraps(method)
    def read(self, *args, **kwargs):
        if not self._current:
            self.require_current()
        try:
            return method(self, *args, **kwargs)
        except sa.exc.DBAPIError:
            self._current = False
            self.require_current()
            raise
    return read

# Longest error text kept with a dead letter; the payload itself is kept whole.
MAX_ERROR_CHARS = 2000


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """The last recorded event of a chaincode: resume in this block, after this transaction.

    Same attributes as ``gateway.fabricgw.checkpointers.Checkpoint``, which the event request
    reads to start from ``block_number`` and skip up to and including ``transaction_id``.
    """

    block_number: int
    transaction_id: str


@dataclasses.dataclass(frozen=True)
class Change:
    """One row an event changes. ``creates``: the event carries the whole record, so the row is
    inserted when absent; otherwise the event only updates a row an earlier event created."""

    table: sa.Table
    key: str
    values: dict
    creates: bool = True


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What recording ``event`` writes: its ``changes``, or with ``dead_letter`` (the reason it
    cannot be applied) the event itself as a dead letter."""

    event: object
    changes: list[Change]
    dead_letter: str | None = None


def key_column(table: sa.Table) -> sa.Column:
    return next(iter(table.primary_key.columns))


def is_newer(event, block_number: int, transaction_id: str) -> bool:
    """Is ``event`` later on the ledger than the position (block, transaction) of a row?

    Within one block only the same transaction can come again: every write reads the record it
    changes, so Fabric's MVCC validation lets at most one transaction per block change it.
    """
    if event.block_number != block_number:
        return event.block_number > block_number
    return event.transaction_id != transaction_id


def printable(text: str, limit: int) -> str:
    """``text`` safe for any column and log: ill-formed UTF-16 escaped, NUL escaped, cut."""
    safe = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return safe if len(safe) <= limit else safe[:limit - 1] + "…"


@dataclasses.dataclass(frozen=True)
class Page:
    records: list[dict]
    bookmark: str | None  # key of the last record, when more may follow
    as_of_block: int | None

    @property
    def fetched_count(self) -> int:
        return len(self.records)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; they were written in UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.timezone.utc)


class ReadModel:
    """The tables in the gateway's database: the follower records, the web app reads."""

    def __init__(self, engine: sa.Engine, *, dead_letters_kept: int = DEFAULT_DEAD_LETTERS_KEPT):
        """``dead_letters_kept``: how many of the newest dead letters (of every chaincode)
        ``record`` keeps; it deletes older ones as it writes a new one."""
        if dead_letters_kept < 1:
            raise ValueError(f"dead_letters_kept must be at least 1, not {dead_letters_kept}")
        self._engine = engine
        self._dead_letters_kept = dead_letters_kept
        # Whether the tables were found current; checked again after a read fails.
        self._current = False

    def require_current(self) -> None:
        """Raises ``db.SchemaOutdated`` unless the tables are this version's."""
        found = problems(self._engine)
        if found:
            raise db.SchemaOutdated(
                "READ_MODEL_UPGRADING", "the read model is being upgraded to this version of "
                "the gateway and is rebuilt from block 0; retry shortly", found)
        self._current = True

    # --- recording (the follower) -------------------------------------------------------

    def record(self, chaincode: str, outcomes: list[Outcome]) -> list[bool]:
        """Record events delivered together, in ledger order, in ONE transaction: each one's
        rows, or its dead letter (counted), then the checkpoint once, after the last; dead
        letters beyond the newest ``dead_letters_kept`` are deleted. Per event, False when it
        was recorded before (at or before the checkpoint, or repeated within ``outcomes``):
        it changes nothing. A failure raises and leaves nothing of any of them."""
        recorded = []
        with self._engine.begin() as conn:
            current = self._checkpoint_for_update(conn, chaincode)
            position = current
            kept = 0
            for outcome in outcomes:
                event = outcome.event
                if position is not None and not is_newer(event, *position):
                    recorded.append(False)
                    continue
                if outcome.dead_letter is None:
                    for change in outcome.changes:
                        _write(conn, change, event)
                else:
                    conn.execute(_INSERT[dead_letters],
                                 _dead_letter_row(chaincode, event, outcome.dead_letter))
                    kept += 1
                position = (event.block_number, event.transaction_id)
                recorded.append(True)
            if position is not current:
                _write_checkpoint(conn, chaincode, position, exists=current is not None,
                                  kept=kept)
            if kept:
                newest_deleted = conn.execute(
                    sa.select(dead_letters.c.id).order_by(dead_letters.c.id.desc())
                    .offset(self._dead_letters_kept).limit(1)).scalar()
                if newest_deleted is not None:
                    conn.execute(dead_letters.delete().where(dead_letters.c.id <= newest_deleted))
        return recorded

    @staticmethod
    def _checkpoint_for_update(conn: sa.Connection, chaincode: str):
        return conn.execute(_CHECKPOINT_FOR_UPDATE, {"cc": chaincode}).first()

    def beat(self, chaincode: str, *, channel_height: int, every_s: float, pid: int) -> None:
        """The follower of ``chaincode`` is keeping up with a peer at ``channel_height``."""
        self._upsert_heartbeat(chaincode, {"beat_at": _now(), "beat_every_s": every_s,
                                           "channel_height": channel_height, "pid": pid})

    def count_reconnect(self, chaincode: str) -> None:
        self._upsert_heartbeat(chaincode, {"reconnects": heartbeats.c.reconnects + 1})

    def _upsert_heartbeat(self, chaincode: str, values: dict) -> None:
        with self._engine.begin() as conn:
            updated = conn.execute(heartbeats.update()
                                   .where(heartbeats.c.chaincode == chaincode).values(values))
            if updated.rowcount == 0:
                conn.execute(heartbeats.insert().values(chaincode=chaincode, reconnects=0))
                conn.execute(heartbeats.update()
                             .where(heartbeats.c.chaincode == chaincode).values(values))

    def reset(self) -> None:
        """Forget everything followed (rows, checkpoints, dead letters), so that the follower,
        started again, reads every event from block 0 with the projections it has now: the
        way to apply dead letters after a fix. Only while no follower runs on this database."""
        with self._engine.begin() as conn:
            for table in (projects, emission_reports, leases, checkpoints, dead_letters):
                conn.execute(table.delete())

    # --- reading (the web app) ----------------------------------------------------------

    @_reading
    def checkpoint(self, chaincode: str) -> Checkpoint | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(checkpoints.c.block_number, checkpoints.c.transaction_id)
                .where(checkpoints.c.chaincode == chaincode)).first()
        return Checkpoint(*row) if row else None

    @_reading
    def status(self, channel_height: int | None, now: dt.datetime | None = None) -> dict:
        """Where the read model stands per chaincode, and the channel height to compare with.

        ``listening``: the follower beat within ``STALE_AFTER_BEATS`` of its own intervals,
        which it does only while its stream is open and it is applying events or waiting for
        the next one with a peer that answers; a stopped, crashed or wedged follower stops
        beating, and its chaincode shows ``listening: false`` within seconds.
        """
        now = now or _now()
        chaincodes = []
        with self._engine.connect() as conn:
            for chaincode in CHAINCODES:
                checkpoint = conn.execute(
                    sa.select(checkpoints.c.block_number, checkpoints.c.transaction_id,
                              checkpoints.c.dead_letters)
                    .where(checkpoints.c.chaincode == chaincode)).first()
                beat = conn.execute(sa.select(heartbeats)
                                    .where(heartbeats.c.chaincode == chaincode)).mappings().first()
                latest = conn.execute(
                    sa.select(*_DEAD_LETTER_SUMMARY)
                    .where(dead_letters.c.chaincode == chaincode)
                    .order_by(dead_letters.c.id.desc()).limit(LATEST_DEAD_LETTERS)).mappings()
                beat_at = _utc(beat["beat_at"]) if beat else None
                chaincodes.append({
                    "chaincode": chaincode,
                    "listening": beat_at is not None and (now - beat_at).total_seconds()
                    <= STALE_AFTER_BEATS * beat["beat_every_s"],
                    "heartbeat_at": beat_at,
                    "heartbeat_channel_height": beat["channel_height"] if beat else None,
                    "follower_pid": beat["pid"] if beat else None,
                    "reconnects": beat["reconnects"] if beat else 0,
                    "block_number": checkpoint.block_number if checkpoint else None,
                    "transaction_id": checkpoint.transaction_id if checkpoint else None,
                    "dead_letter_count": checkpoint.dead_letters if checkpoint else 0,
                    "latest_dead_letters": [_utc_row(r) for r in latest],
                })
        return {"channel_height": channel_height, "chaincodes": chaincodes}

    @_reading
    def projects(self, *, page_size: int, bookmark: str | None, category: str | None = None,
                 owner_msp: str | None = None) -> Page:
        return self._page(projects, page_size, bookmark,
                          _equal(projects, category=category, owner_msp=owner_msp))

    @_reading
    def emission_reports(self, *, page_size: int, bookmark: str | None,
                         lessee_id: str | None = None, status: str | None = None,
                         period_from: str | None = None, period_to: str | None = None) -> Page:
        conditions = _equal(emission_reports, lessee_id=lessee_id, status=status)
        # ISO dates compare as text; period_end is exclusive, like the chaincode's.
        if period_from is not None:
            conditions.append(emission_reports.c.period_start >= period_from)
        if period_to is not None:
            conditions.append(emission_reports.c.period_end <= period_to)
        return self._page(emission_reports, page_size, bookmark, conditions)

    @_reading
    def leases(self, *, page_size: int, bookmark: str | None, status: str | None = None,
               lessee_id: str | None = None, lessee_ref: str | None = None,
               project_id: str | None = None) -> Page:
        return self._page(leases, page_size, bookmark,
                          _equal(leases, status=status, lessee_id=lessee_id,
                                 lessee_ref=lessee_ref, project_id=project_id))

    @_reading
    def dead_letters(self, *, page_size: int, bookmark: str | None,
                     chaincode: str | None = None) -> Page:
        """Dead letters in the order they were kept; ``as_of_block`` is the lower of the
        chaincodes' checkpoints (the one asked for, if any)."""
        if bookmark is not None and not bookmark.isdigit():
            # Not a bookmark of this list (the id of a dead letter): it starts nowhere.
            return Page([], None, None)
        conditions = _equal(dead_letters, chaincode=chaincode)
        if bookmark is not None:
            conditions.append(dead_letters.c.id > int(bookmark))
        positions = [self.checkpoint(c) for c in ([chaincode] if chaincode else CHAINCODES)]
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(dead_letters).where(*conditions)
                                .order_by(dead_letters.c.id).limit(page_size + 1)).mappings().all()
        records = [_utc_row(r) for r in rows[:page_size]]
        more = len(rows) > page_size
        return Page(records, str(records[-1]["id"]) if more else None,
                    None if None in positions else min(p.block_number for p in positions))

    def _page(self, table: sa.Table, page_size: int, bookmark: str | None,
              conditions: list) -> Page:
        """Keyset paging by id: the bookmark is the last id of the previous page."""
        key = key_column(table)
        if bookmark is not None:
            conditions = [*conditions, key > bookmark]
        # The checkpoint is read first, so the records are at least as new as as_of_block.
        checkpoint = self.checkpoint(SOURCE[table])
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(table).where(*conditions).order_by(key)
                                .limit(page_size + 1)).mappings().all()
        records = [dict(row) for row in rows[:page_size]]
        more = len(rows) > page_size
        return Page(records, records[-1][key.name] if more else None,
                    checkpoint.block_number if checkpoint else None)


# Which chaincode's checkpoint says how current a table is.
SOURCE = {projects: "lease", leases: "lease", emission_reports: "emission"}

_DEAD_LETTER_SUMMARY = (dead_letters.c.id, dead_letters.c.block_number,
                        dead_letters.c.transaction_id, dead_letters.c.event_name,
                        dead_letters.c.error, dead_letters.c.recorded_at)


def _utc_row(row) -> dict:
    record = dict(row)
    record["recorded_at"] = _utc(record["recorded_at"])
    return record


def _equal(table: sa.Table, **filters) -> list:
    return [table.c[name] == value for name, value in filters.items() if value is not None]


# Statements built once: building one costs more CPU than SQLite takes to run it.
_CHECKPOINT_FOR_UPDATE = (sa.select(checkpoints.c.block_number, checkpoints.c.transaction_id)
                          .where(checkpoints.c.chaincode == sa.bindparam("cc"))
                          .with_for_update())
_UPDATE_CHECKPOINT = checkpoints.update().where(checkpoints.c.chaincode == sa.bindparam("cc"))
_INSERT = {table: table.insert() for table in (*SOURCE, checkpoints, dead_letters)}


def _row_position(table: sa.Table) -> sa.Select:
    return sa.select(table.c.block_number, table.c.transaction_id) \
        .where(key_column(table) == sa.bindparam("row_key"))


def _update_row(table: sa.Table) -> sa.Update:
    return table.update().where(key_column(table) == sa.bindparam("row_key"))


_ROW_POSITION = {table: _row_position(table) for table in SOURCE}
_UPDATE_ROW = {table: _update_row(table) for table in SOURCE}


def _write(conn: sa.Connection, change: Change, event) -> None:
    table = change.table
    position = {"block_number": event.block_number, "transaction_id": event.transaction_id}
    row = conn.execute(_ROW_POSITION[table], {"row_key": change.key}).first()
    if row is None:
        if change.creates:
            conn.execute(_INSERT[table], {key_column(table).name: change.key, **change.values,
                                          **position})
    elif is_newer(event, *row):
        conn.execute(_UPDATE_ROW[table], {"row_key": change.key, **change.values, **position})


def _dead_letter_row(chaincode: str, event, error: str) -> dict:
    return {"chaincode": chaincode, "block_number": event.block_number,
            "transaction_id": event.transaction_id,
            "event_name": printable(event.event_name, 200), "payload": bytes(event.payload),
            "error": printable(error, MAX_ERROR_CHARS), "recorded_at": _now()}


def _write_checkpoint(conn: sa.Connection, chaincode: str, position: tuple[int, str], *,
                      exists: bool, kept: int) -> None:
    """The checkpoint at ``position``, ``kept`` more dead letters counted."""
    block_number, transaction_id = position
    if exists:
        update = _UPDATE_CHECKPOINT.values(dead_letters=checkpoints.c.dead_letters + kept) \
            if kept else _UPDATE_CHECKPOINT
        conn.execute(update, {"cc": chaincode, "block_number": block_number,
                              "transaction_id": transaction_id})
    else:
        conn.execute(_INSERT[checkpoints], {"chaincode": chaincode, "block_number": block_number,
                                            "transaction_id": transaction_id,
                                            "dead_letters": kept})
