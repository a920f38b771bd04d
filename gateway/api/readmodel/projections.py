"""Chaincode event -> the read-model rows it changes: one function per event kind.

An event payload is whatever a committed transaction emitted. Our chaincodes write canonical
JSON, but the read model must not trust that: members may run other chaincode builds, old
blocks keep what an older chaincode accepted, and JSON itself allows text no database column
holds (a lone UTF-16 surrogate, NUL). So every payload is decoded strictly and every value is
checked against the column it goes to (type, range, length, well-formed text) before anything
is written; what does not fit raises ``Unprojectable``, and the follower keeps the event as a
dead letter instead of failing on it for ever. The checks are the columns' own declarations,
so SQLite (which would store an over-long string) and PostgreSQL (which would refuse it)
behave the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import Callable

import sqlalchemy as sa

from .store import Change, emission_reports, key_column, leases, projects


class Unprojectable(ValueError):
    """The event's payload cannot be turned into rows; the message says why."""


# Terms the list shows; the full terms stay on the ledger (GET /api/v1/leases/{id}).
LEASE_TERMS = ("principal_fen", "base_rate_bps", "term_periods", "period_months", "start_date")
# Columns only a member of the lease terms collection can fill (null everywhere else): the
# events are public, so a member's follower reads them from the ledger after each lease event.
LEASE_PRIVATE = ("lessee_id", *LEASE_TERMS, "rate_bps")

# lease id -> GetLease's ``private`` view as this org reads it now (None for a non-member
# org, which therefore never gets private columns). A Fabric failure raises, and must: the
# follower retries the event rather than keep it as a dead letter.
PrivateLease = Callable[[str], "dict | None"]

_POSITION = ("block_number", "transaction_id")
_INTEGER_BITS = {sa.BigInteger: 64, sa.Integer: 32}


def _pick(table: sa.Table, record: dict) -> dict:
    """The record's fields that are columns of ``table`` (its position excluded)."""
    return {c.name: record[c.name] for c in table.columns
            if c.name not in _POSITION and c.name in record}


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
    # The rate itself is private: it comes with the private columns (lease_private_columns).
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
    """The private columns from GetLease's ``private`` view (nothing when it is None)."""
    if view is None:
        return {}
    terms = view["terms"]["terms"]
    # Period 1 runs at the base rate from creation on without an adjustment record; each
    # FixNextRate appends the next rate.
    rate = view["adjustments"][-1]["rate_bps"] if view["adjustments"] \
        else terms["base_rate_bps"]
    return {"lessee_id": view["terms"]["lessee_id"],
            **{name: terms[name] for name in LEASE_TERMS}, "rate_bps": rate}


# Events of other kinds (RolesSet, FactorPublished, MeterReadingSubmitted, InterestExpressed,
# and any name a future chaincode adds) change no table but still advance the checkpoint.
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


def changes_of(chaincode: str, event, private_lease: PrivateLease | None = None) \
        -> list[Change]:
    """The rows ``event`` changes, every value checked against its column; raises
    ``Unprojectable`` for a payload, or a private view, that cannot be applied.

    For a lease event, ``private_lease`` (when given) adds the private columns to the same
    change, so they share the event's ledger position. What ``private_lease`` itself raises
    (Fabric unreachable...) propagates: that is no fault of the event."""
    projection = PROJECTIONS.get((chaincode, event.event_name))
    if projection is None:
        return []
    record = decode(event.payload)
    with _shape_errors(event.event_name):
        changes = projection(record)
    for change in changes:
        _check(change)  # before the ledger is asked about the lease the event names
    if private_lease is not None and event.event_name != "LeasePrivateDataPurged":
        changes = [_with_private_columns(c, private_lease(c.key), event.event_name)
                   if c.table is leases else c for c in changes]
    return changes


def _with_private_columns(change: Change, view, event_name: str) -> Change:
    if view is not None and not isinstance(view, dict):
        raise Unprojectable(f"{event_name}: the private view of lease {_quoted(change.key)} "
                            f"is a {type(view).__name__}, not an object")
    with _shape_errors(f"{event_name} (private view)"):
        columns = lease_private_columns(view)
    private = dataclasses.replace(change, values={**change.values, **columns})
    _check(private)
    return private


@contextlib.contextmanager
def _shape_errors(what: str):
    """A record without a field, or with one of the wrong shape, is ``Unprojectable``."""
    try:
        yield
    except KeyError as err:
        raise Unprojectable(f"{what}: field {_quoted(err.args[0])} is missing") from err
    except (TypeError, AttributeError, IndexError) as err:
        # e.g. "terms" a string, "adjustments" an empty object
        raise Unprojectable(f"{what}: a field has the wrong shape ({err})") from err


def decode(payload: bytes) -> dict:
    """A JSON object from strict UTF-8, or ``Unprojectable``."""
    try:
        text = bytes(payload).decode("utf-8")
        record = json.loads(text, parse_constant=_no_constants)
    except UnicodeDecodeError as err:
        raise Unprojectable(f"payload is not UTF-8: {err.reason} at byte {err.start}") from err
    except RecursionError as err:
        raise Unprojectable("payload is nested too deeply") from err
    except ValueError as err:  # JSONDecodeError, a number beyond Python's digit limit
        raise Unprojectable(f"payload is not JSON: {err}") from err
    if not isinstance(record, dict):
        raise Unprojectable(f"payload is a JSON {type(record).__name__}, not an object")
    return record


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _check(change: Change) -> None:
    table = change.table
    values = {key_column(table).name: change.key, **change.values}
    if change.creates:
        missing = [c.name for c in table.columns
                   if c.name not in _POSITION and not c.nullable and c.name not in values]
        if missing:
            raise Unprojectable(f"{table.name}: field(s) {', '.join(missing)} missing")
    for name, value in values.items():
        _check_value(table.c[name], value)


def _check_value(column: sa.Column, value) -> None:
    where = f"{column.table.name}.{column.name}"
    if value is None:
        if not column.nullable:
            raise Unprojectable(f"{where} is null")
        return
    kind = type(column.type)
    if kind in _INTEGER_BITS:
        bound = 2 ** (_INTEGER_BITS[kind] - 1)
        if type(value) is not int:  # bool is an int subclass, and no integer
            raise Unprojectable(f"{where} is a {type(value).__name__}, not an integer")
        if not -bound <= value < bound:
            raise Unprojectable(f"{where} is out of range ({value.bit_length()} bits)")
    elif kind is sa.String:
        if not isinstance(value, str):
            raise Unprojectable(f"{where} is a {type(value).__name__}, not a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise Unprojectable(f"{where} is not well-formed Unicode (lone surrogate "
                                f"at {err.start})") from err
        if "\x00" in value:
            raise Unprojectable(f"{where} holds a NUL character")
        if column.type.length is not None and len(value) > column.type.length:
            raise Unprojectable(f"{where} is {len(value)} characters, more than "
                                f"{column.type.length}")
    else:  # a column type added without a check here: refuse rather than guess
        raise Unprojectable(f"{where}: no check for {column.type}")


def _quoted(name) -> str:
    return json.dumps(name) if isinstance(name, str) else repr(name)
