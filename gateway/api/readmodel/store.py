"""Read-model tables, how each chaincode event changes them, and the paged queries.

Exactly once: ``ReadModel.apply`` writes an event's rows and the chaincode's checkpoint (block
number and transaction id of the last applied event) in one database transaction. A crash
before the commit leaves neither, so the listener resumes from the old checkpoint and the event
comes again; after the commit both are there and the listener resumes after it. Two safety
nets stay behind that: an event of an earlier block than the checkpoint, or the checkpoint's
own transaction, is skipped; and every row keeps the ledger position (block, transaction) that
last changed it, so an event older than the row, or the same transaction again, changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Callable

import sqlalchemy as sa

from .. import db
from .listener import Listener, OpenEvents

CHAINCODES = ("emission", "lease")


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

# Terms the list shows; the full terms stay on the ledger (GET /api/v1/leases/{id}).
LEASE_TERMS = ("principal_fen", "base_rate_bps", "term_periods", "period_months", "start_date")
# Columns only a member of the lease terms collection can fill (null everywhere else): the
# events are public, so a member gateway reads them from the ledger after each lease event.
LEASE_PRIVATE = ("lessee_id", *LEASE_TERMS, "rate_bps")

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
)

TABLES = (projects, emission_reports, leases, checkpoints)


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """The last applied event of a chaincode: resume in this block, after this transaction.

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


def _pick(table: sa.Table, record: dict) -> dict:
    """The record's fields that are columns of ``table`` (its position excluded)."""
    return {c.name: record[c.name] for c in table.columns
            if c.name not in ("block_number", "transaction_id") and c.name in record}


def _project_registered(project: dict) -> list[Change]:
    return [Change(projects, project["project_id"], _pick(projects, project))]


def _report_decided(report: dict) -> list[Change]:
    return [Change(emission_reports, report["report_id"], _pick(emission_reports, report))]


def _report_submitted(report: dict) -> list[Change]:
    changes = _report_decided(report)
    if report["supersedes"] is not None:
        # The chaincode marks the earlier version superseded in the same transaction without an
        # event of its own; this is the only place the read model learns about it.
        changes.append(Change(emission_reports, report["supersedes"],
                              {"status": "superseded", "superseded_by": report["report_id"]},
                              creates=False))
    return changes


def _lease_saved(lease: dict) -> list[Change]:
    return [Change(leases, lease["lease_id"], _pick(leases, lease))]


def _rate_fixed(fixed: dict) -> list[Change]:
    return [Change(leases, fixed["lease_id"], {"fixed_through_period": fixed["period"]},
                   creates=False)]


def _payment_recorded(payment: dict) -> list[Change]:
    values = {"paid_through_period": payment["period"], "status": payment["lease_status"]}
    if payment["lease_status"] == "matured":
        values["matured_at"] = payment["recorded_at"]
    return [Change(leases, payment["lease_id"], values, creates=False)]


def _private_purged(lease: dict) -> list[Change]:
    return [Change(leases, lease["lease_id"],
                   {**_pick(leases, lease), **{name: None for name in LEASE_PRIVATE}})]


def lease_private_columns(view: dict | None) -> dict:
    """The private columns from GetLease's ``private`` view (nothing when it is null)."""
    if view is None:
        return {}
    terms = view["terms"]["terms"]
    # Activation fixes period 1 at the base rate without an adjustment record; the view
    # cannot tell draft from active, so the base rate stands until the first adjustment.
    rate = view["adjustments"][-1]["rate_bps"] if view["adjustments"] else terms["base_rate_bps"]
    return {"lessee_id": view["terms"]["lessee_id"],
            **{name: terms[name] for name in LEASE_TERMS}, "rate_bps": rate}


# Events of other kinds (RolesSet, FactorPublished, MeterReadingSubmitted, InterestExpressed)
# change no table but still advance the checkpoint.
PROJECTIONS: dict[tuple[str, str], Callable[[dict], list[Change]]] = {
    ("lease", "ProjectRegistered"): _project_registered,
    ("lease", "LeaseCreated"): _lease_saved,
    ("lease", "LeaseActivated"): _lease_saved,
    ("lease", "LeaseTerminated"): _lease_saved,
    ("lease", "RateFixed"): _rate_fixed,
    ("lease", "PaymentRecorded"): _payment_recorded,
    ("lease", "LeasePrivateDataPurged"): _private_purged,
    ("emission", "ReportSubmitted"): _report_submitted,
    ("emission", "ReportVerified"): _report_decided,
    ("emission", "ReportRejected"): _report_decided,
}

# lease id -> GetLease's ``private`` view as this gateway's org reads it now (null for a
# non-member org, which therefore never gets private columns).
PrivateLease = Callable[[str], "dict | None"]

# Which chaincode's checkpoint says how current a table is.
SOURCE = {projects: "lease", leases: "lease", emission_reports: "emission"}


def changes_of(chaincode: str, event, private_lease: PrivateLease | None = None) -> list[Change]:
    """The rows an event changes. For a lease event, ``private_lease`` (when given) adds the
    private columns to the same change, so they share the event's ledger position."""
    projection = PROJECTIONS.get((chaincode, event.event_name))
    if not projection:
        return []
    changes = projection(json.loads(event.payload))
    if private_lease is None or event.event_name == "LeasePrivateDataPurged":
        return changes
    return [dataclasses.replace(c, values={**c.values, **lease_private_columns(
        private_lease(c.key))}) if c.table is leases else c for c in changes]


def _is_newer(event, block_number: int, transaction_id: str) -> bool:
    """Is ``event`` later on the ledger than the position (block, transaction) of a row?

    Within one block only the same transaction can come again: every write reads the record it
    changes, so Fabric's MVCC validation lets at most one transaction per block change it.
    """
    if event.block_number != block_number:
        return event.block_number > block_number
    return event.transaction_id != transaction_id


@dataclasses.dataclass(frozen=True)
class Page:
    records: list[dict]
    bookmark: str | None  # id of the last record, when more may follow
    as_of_block: int | None

    @property
    def fetched_count(self) -> int:
        return len(self.records)


class ReadModel:
    """The tables in the gateway's database; ``apply`` writes them, the list methods read."""

    def __init__(self, engine: sa.Engine, *,
                 on_applied: Callable[[str, int], None] = lambda chaincode, block: None,
                 private_lease: PrivateLease | None = None):
        self._engine = engine
        self._on_applied = on_applied
        self._private_lease = private_lease
        self._listeners: dict[str, Listener] = {}
        db.metadata.create_all(engine, tables=TABLES)

    # --- following the ledger -----------------------------------------------------------

    def follow(self, open_events: OpenEvents, **listener_options) -> None:
        """Start a listener per chaincode (see ``Listener`` for the options)."""
        for chaincode in CHAINCODES:
            listener = Listener(self, open_events, chaincode, **listener_options)
            self._listeners[chaincode] = listener
            listener.start()

    def stop(self) -> None:
        for listener in self._listeners.values():
            listener.stop()

    def status(self, channel_height: int | None) -> dict:
        """Where the read model stands per chaincode, and the channel height to compare with."""
        chaincodes = []
        for chaincode in CHAINCODES:
            checkpoint = self.checkpoint(chaincode)
            listener = self._listeners.get(chaincode)
            chaincodes.append({
                "chaincode": chaincode,
                "listening": listener is not None and listener.running,
                "block_number": checkpoint.block_number if checkpoint else None,
                "transaction_id": checkpoint.transaction_id if checkpoint else None,
            })
        return {"channel_height": channel_height, "chaincodes": chaincodes}

    # --- writing ------------------------------------------------------------------------

    def apply(self, chaincode: str, event) -> bool:
        """Apply one chaincode event and advance the checkpoint, atomically. False when the
        event was applied before (nothing changes)."""
        # Decoded before the transaction: a malformed payload fails without touching anything.
        changes = changes_of(chaincode, event, self._private_lease)
        with self._engine.begin() as conn:
            current = conn.execute(
                sa.select(checkpoints.c.block_number, checkpoints.c.transaction_id)
                .where(checkpoints.c.chaincode == chaincode)
                .with_for_update()).first()
            # Another transaction of the checkpoint's block passes here even if it came before
            # the checkpoint (the stream never sends those again); its rows' positions stop it.
            if current is not None and not _is_newer(event, *current):
                return False
            for change in changes:
                _write(conn, change, event)
            _write_checkpoint(conn, chaincode, event, exists=current is not None)
        self._on_applied(chaincode, event.block_number)
        return True

    def checkpoint(self, chaincode: str) -> Checkpoint | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(checkpoints.c.block_number, checkpoints.c.transaction_id)
                .where(checkpoints.c.chaincode == chaincode)).first()
        return Checkpoint(*row) if row else None

    # --- reading ------------------------------------------------------------------------

    def projects(self, *, page_size: int, bookmark: str | None, category: str | None = None,
                 owner_msp: str | None = None) -> Page:
        return self._page(projects, page_size, bookmark,
                          _equal(projects, category=category, owner_msp=owner_msp))

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

    def leases(self, *, page_size: int, bookmark: str | None, status: str | None = None,
               lessee_id: str | None = None, lessee_ref: str | None = None,
               project_id: str | None = None) -> Page:
        return self._page(leases, page_size, bookmark,
                          _equal(leases, status=status, lessee_id=lessee_id,
                                 lessee_ref=lessee_ref, project_id=project_id))

    def _page(self, table: sa.Table, page_size: int, bookmark: str | None,
              conditions: list) -> Page:
        """Keyset paging by id: the bookmark is the last id of the previous page."""
        key = _key_column(table)
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


def _key_column(table: sa.Table) -> sa.Column:
    return next(iter(table.primary_key.columns))


def _equal(table: sa.Table, **filters) -> list:
    return [table.c[name] == value for name, value in filters.items() if value is not None]


def _write(conn: sa.Connection, change: Change, event) -> None:
    table = change.table
    key = _key_column(table)
    position = {"block_number": event.block_number, "transaction_id": event.transaction_id}
    row = conn.execute(sa.select(table.c.block_number, table.c.transaction_id)
                       .where(key == change.key)).first()
    if row is None:
        if change.creates:
            conn.execute(table.insert().values({key.name: change.key, **change.values,
                                                **position}))
    elif _is_newer(event, *row):
        conn.execute(table.update().where(key == change.key)
                     .values({**change.values, **position}))


def _write_checkpoint(conn: sa.Connection, chaincode: str, event, *, exists: bool) -> None:
    position = {"block_number": event.block_number, "transaction_id": event.transaction_id}
    if exists:
        conn.execute(checkpoints.update().where(checkpoints.c.chaincode == chaincode)
                     .values(position))
    else:
        conn.execute(checkpoints.insert().values(chaincode=chaincode, **position))

