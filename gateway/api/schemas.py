"""Every request and response body of the REST API, defined once (marshmallow).

Field names, types and ranges are the chaincodes' (chaincode/README.md), so a request the
gateway accepts is one the chaincode can take, and what it refuses is refused here with the
failing field named, before anything reaches Fabric. Request schemas refuse unknown fields as
the chaincodes do. Response schemas (records) are the OpenAPI description of what comes back.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re

import marshmallow as ma
from marshmallow import fields, validate

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MSP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
TX_ID_PATTERN = r"^[0-9a-f]{64}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

MAX_KG = 10**11
MAX_FEN = 10**15
MAX_SAFE_INTEGER = 2**53 - 1  # the chaincode refuses larger JSON integers
MAX_TEXT = 1000


# --- fields -------------------------------------------------------------------------------

class FullMatch(validate.Regexp):
    """``Regexp`` that must match the whole value: Python's ``$`` also matches before a final
    newline, which the chaincode's JavaScript regex does not. apispec documents the pattern."""

    def __init__(self, pattern: str):
        super().__init__(pattern)
        self._whole = re.compile(pattern.removeprefix("^").removesuffix("$"))

    def __call__(self, value):
        if self._whole.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class StrictInteger(fields.Integer):
    """A JSON integer: no floats, no numeric strings, no booleans (the chaincode refuses them)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class QueryInteger(fields.Integer):
    """An integer in a query string: ASCII decimal digits only. Python's ``int()`` would also
    take ``1_0``, `` 10``, ``+10`` and full-width or other Unicode digits, which no other
    client or the chaincode reads as numbers."""

    def _validated(self, value):
        if isinstance(value, str) and not (value.isascii() and value.isdigit()
                                           and len(value) <= 9):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


def _calendar_date(value: str) -> None:
    try:
        day = dt.date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    except ValueError as err:
        raise ma.ValidationError("Not a calendar date.") from err
    if day.year < 1900:
        raise ma.ValidationError("Years 1900..9999 only.")


def _non_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


# Free text has one definition with the chaincodes (chaincode/common/src/text.ts; the shared cases
# are golden/validation.json): well-formed Unicode (json.loads keeps a lone surrogate escape, which
# no UTF-8 encoder can write back out), no C0, DEL or C1 control characters nor U+2028/U+2029
# except line feed in multi-line text, and lengths in code points, which is what len() counts.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = {False: re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]"),
            True: re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")}
_SEPARATORS = {"\u2028": "line separator", "\u2029": "paragraph separator"}


def _plain_text(multiline: bool):
    def check(value: str) -> None:
        if _SURROGATE.search(value):
            raise ma.ValidationError("Must be well-formed Unicode (it holds a lone surrogate).")
        control = _CONTROL[multiline].search(value)
        if control:
            allowed = " (line feed U+000A is the only one allowed)" if multiline else ""
            kind = _SEPARATORS.get(control.group(), "control character")
            raise ma.ValidationError(
                f"Must not contain {kind} U+{ord(control.group()):04X}{allowed}.")
    return check


def Id(**kwargs):
    return fields.String(validate=FullMatch(ID_PATTERN), **kwargs)


def Date(**kwargs):
    return fields.String(validate=[FullMatch(DATE_PATTERN), _calendar_date],
                         metadata={"format": "date", **kwargs.pop("metadata", {})}, **kwargs)


def Text(max_length: int = MAX_TEXT, *, blank: bool = False, multiline: bool = False, **kwargs):
    checks = [_plain_text(multiline), validate.Length(max=max_length)]
    metadata = kwargs.pop("metadata", {})
    if not blank:
        checks += [validate.Length(min=1), _non_blank]
        metadata = {"pattern": r"\S", **metadata}
    return fields.String(validate=checks, metadata=metadata, **kwargs)


def Int(minimum: int, maximum: int, **kwargs):
    return StrictInteger(validate=validate.Range(min=minimum, max=maximum), **kwargs)


class Integers(fields.List):
    """A list of ``Int(minimum, maximum)`` (null items too with ``allow_none_items``). A list of
    plain in-range integers, the usual case, is taken in one pass instead of one marshmallow
    field call per item (a 360-period preview sends 360); anything else goes item by item,
    which names each failing item, so the answer is the same either way."""

    def __init__(self, minimum: int, maximum: int, *, allow_none_items: bool = False, **kwargs):
        super().__init__(Int(minimum, maximum, allow_none=allow_none_items), **kwargs)
        self._bounds = (minimum, maximum)
        self._item_types = {int, type(None)} if allow_none_items else {int}

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is list and set(map(type, value)) <= self._item_types:
            numbers = [item for item in value if item is not None]
            if not numbers or (self._bounds[0] <= min(numbers)
                               and max(numbers) <= self._bounds[1]):
                return list(value)
        return super()._deserialize(value, attr, data, **kwargs)


def Timestamp(**kwargs):
    return fields.String(metadata={"description": "ISO-8601 UTC, from the transaction"},
                         **kwargs)


def Msp(**kwargs):
    return fields.String(validate=FullMatch(MSP_ID_PATTERN),
                         metadata={"description": "MSP id", "example": "LessorMSP"}, **kwargs)


class Request(ma.Schema):
    """Refuses unknown fields, like the chaincodes."""

    class Meta:
        unknown = ma.RAISE


# --- emission factors ---------------------------------------------------------------------

class FactorInput(Request):
    region = Id(required=True, metadata={"example": "GD-SZ"})
    year = Int(1900, 9999, required=True, metadata={"example": 2024})
    factor_g_per_kwh = Int(0, 100_000, required=True,
                           metadata={"description": "grams CO2e per kWh", "example": 570})
    supersede_reason = Text(multiline=True, allow_none=True, metadata={
        "description": "absent or null for the first publication of a region and year; "
                       "required to supersede it"})


class FactorVersion(ma.Schema):
    version = fields.Integer(required=True)
    factor_g_per_kwh = fields.Integer(required=True)
    supersede_reason = fields.String(required=True, allow_none=True)
    published_by_msp = Msp(required=True)
    published_at = Timestamp(required=True)


class Factor(FactorVersion):
    region = fields.String(required=True)
    year = fields.Integer(required=True)
    history = fields.List(fields.Nested(FactorVersion), required=True,
                          metadata={"description": "earlier versions, oldest first"})


# --- meter readings -----------------------------------------------------------------------

class MeterReadingInput(Request):
    reading_id = Id(required=True)
    lessee_id = Id(required=True)
    facility_id = Id(required=True)
    region = Id(required=True)
    period_start = Date(required=True)
    period_end = Date(required=True, metadata={
        "description": "exclusive; the range lies in one calendar year"})
    kwh = Int(0, 10**12, required=True)


class MeterReading(MeterReadingInput):
    submitted_by_msp = Msp(required=True)
    submitted_at = Timestamp(required=True)


# --- emission reports ---------------------------------------------------------------------

class ReportInput(Request):
    report_id = Id(required=True)
    lessee_id = Id(required=True)
    period_start = Date(required=True)
    period_end = Date(required=True, metadata={"description": "exclusive"})
    scope1_kg = Int(0, MAX_KG, required=True)
    meter_reading_ids = fields.List(Id(), required=True, validate=validate.Length(max=500),
                                    metadata={"description": "distinct reading ids"})
    evidence_sha256 = fields.String(required=True, validate=FullMatch(SHA256_PATTERN))
    supersedes = Id(allow_none=True, metadata={
        "description": "absent or null for the first report of a lessee and period, else the "
                       "id of its latest submitted or rejected version"})


class RejectionInput(Request):
    reason = Text(multiline=True, required=True)


class Scope2Line(ma.Schema):
    reading_id = fields.String(required=True)
    region = fields.String(required=True)
    year = fields.Integer(required=True)
    kwh = fields.Integer(required=True)
    factor_g_per_kwh = fields.Integer(required=True)
    factor_version = fields.Integer(required=True)


class Report(ma.Schema):
    report_id = fields.String(required=True)
    lessee_id = fields.String(required=True)
    period_start = fields.String(required=True)
    period_end = fields.String(required=True)
    scope1_kg = fields.Integer(required=True)
    scope2_kg = fields.Integer(required=True)
    total_kg = fields.Integer(required=True)
    meter_reading_ids = fields.List(fields.String(), required=True)
    scope2_lines = fields.List(fields.Nested(Scope2Line), required=True)
    evidence_sha256 = fields.String(required=True)
    version = fields.Integer(required=True)
    supersedes = fields.String(required=True, allow_none=True)
    superseded_by = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ["submitted", "verified", "rejected", "superseded"]))
    submitted_by_msp = Msp(required=True)
    submitted_at = Timestamp(required=True)
    verified_by_msp = Msp(required=True, allow_none=True)
    verified_at = Timestamp(required=True, allow_none=True)
    rejected_by_msp = Msp(required=True, allow_none=True)
    rejected_at = Timestamp(required=True, allow_none=True)
    rejection_reason = fields.String(required=True, allow_none=True)


# --- projects -----------------------------------------------------------------------------

CATEGORIES = ["clean_energy", "energy_storage", "ev", "energy_saving"]


class ProjectInput(Request):
    project_id = Id(required=True)
    name = Text(200, required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    expected_annual_reduction_kg = Int(0, MAX_KG, required=True)
    location = Text(200, required=True)


class Project(ProjectInput):
    owner_msp = Msp(required=True)
    registered_at = Timestamp(required=True)


class InterestInput(Request):
    amount_fen = Int(1, MAX_SAFE_INTEGER, required=True)
    note = Text(blank=True, multiline=True, required=True)


class Interest(ma.Schema):
    project_id = fields.String(required=True)
    partner_msp = Msp(required=True)
    amount_fen = fields.Integer(required=True)
    note = fields.String(required=True)
    expressed_at = Timestamp(required=True)


class Interests(ma.Schema):
    interests = fields.List(fields.Nested(Interest), required=True,
                            metadata={"description": "one per partner MSP"})


# --- leases -------------------------------------------------------------------------------

class RatchetTier(Request):
    min_performance_bps = Int(-1_000_000, 10_000, required=True)
    adjustment_bps = Int(-10_000, 10_000, required=True)


class Terms(Request):
    principal_fen = Int(1, MAX_FEN, required=True)
    base_rate_bps = Int(0, 10_000, required=True)
    term_periods = Int(1, 360, required=True)
    period_months = StrictInteger(required=True, validate=validate.OneOf([1, 3, 12]))
    amortization = fields.String(required=True,
                                 validate=validate.OneOf(["equal_principal", "annuity"]))
    start_date = Date(required=True, metadata={"description": "day of month 1..28"})
    baseline_kg = Int(0, MAX_KG, required=True)
    annual_reduction_bps = Int(0, 10_000, required=True)
    ratchet = fields.List(fields.Nested(RatchetTier), required=True,
                          validate=validate.Length(max=20),
                          metadata={"description": "distinct min_performance_bps"})
    cap_bps = Int(0, 10_000, required=True)
    floor_bps = Int(-10_000, 0, required=True)
    missing_report_bps = Int(-10_000, 10_000, required=True)

    # Cross-checks run only once every field is valid (validates_schema skips otherwise).
    @ma.validates_schema
    def _consistent(self, terms, **_):
        if int(terms["start_date"][8:10]) > 28:
            raise ma.ValidationError("The day of month must be 1..28.", "start_date")
        thresholds = [tier["min_performance_bps"] for tier in terms["ratchet"]]
        if len(set(thresholds)) != len(thresholds):
            raise ma.ValidationError("Tiers need distinct min_performance_bps.", "ratchet")


class LeaseInput(Request):
    lease_id = Id(required=True)
    project_id = Id(required=True)
    lessee_ref = Id(required=True, metadata={
        "description": "public pseudonym of the lessee (emission reports and meter readings use "
                       "it as their lessee_id); must not be lessee_id"})
    lessee_id = Id(required=True, metadata={"description": "private"})
    lessee_name = Text(200, required=True, metadata={"description": "private"})
    terms = fields.Nested(Terms, required=True, metadata={"description": "private"})


PRIVATE_FIELDS = ("lessee_id", "lessee_name", "terms")


class TerminationInput(Request):
    reason = Text(multiline=True, required=True, metadata={"description": "private"})


class PaymentInput(Request):
    period = Int(1, 360, required=True)
    amount_fen = Int(0, MAX_SAFE_INTEGER, required=True,
                     metadata={"description": "private; the period's instalment_fen exactly"})
    paid_on = Date(required=True, metadata={"description": "private"})


SALT = {"description": "the lease's random salt (64 hex), in every private record so that "
                       "its hash cannot be guessed"}
RECORD_HASH = {"description": "hex SHA-256 of the private record's canonical JSON"}


class PrivateTerms(ma.Schema):
    lease_id = fields.String(required=True)
    lessee_id = fields.String(required=True)
    lessee_name = fields.String(required=True)
    terms = fields.Nested(Terms, required=True)
    salt = fields.String(required=True, metadata=SALT)


class Payment(ma.Schema):
    lease_id = fields.String(required=True)
    period = fields.Integer(required=True)
    amount_fen = fields.Integer(required=True)
    paid_on = fields.String(required=True)
    due_date = fields.String(required=True)
    recorded_at = Timestamp(required=True)
    salt = fields.String(required=True, metadata=SALT)


class Adjustment(ma.Schema):
    lease_id = fields.String(required=True)
    period = fields.Integer(required=True)
    based_on_period = fields.Integer(required=True)
    period_start = fields.String(required=True)
    period_end = fields.String(required=True)
    report_id = fields.String(required=True, allow_none=True)
    verified_kg = fields.Integer(required=True, allow_none=True)
    target_kg = fields.Integer(required=True)
    performance_bps = fields.Integer(required=True, allow_none=True)
    tier_min_performance_bps = fields.Integer(required=True, allow_none=True)
    basis = fields.String(required=True,
                          validate=validate.OneOf(["tier", "no_tier_cap", "missing_report"]))
    adjustment_bps = fields.Integer(required=True)
    rate_bps = fields.Integer(required=True)
    fixed_at = Timestamp(required=True)
    salt = fields.String(required=True, metadata=SALT)


class Termination(ma.Schema):
    lease_id = fields.String(required=True)
    reason = fields.String(required=True)
    salt = fields.String(required=True, metadata=SALT)


class LeasePrivate(ma.Schema):
    """Every private record of a lease exactly as stored: sha256 of each one's canonical JSON
    (keys sorted, no whitespace) is the public hash that refers to it."""

    terms = fields.Nested(PrivateTerms, required=True, metadata={
        "description": "sha256 of its canonical JSON = terms_hash"})
    adjustments = fields.List(fields.Nested(Adjustment), required=True)
    payments = fields.List(fields.Nested(Payment), required=True)
    termination = fields.Nested(Termination, required=True, allow_none=True)


class AdjustmentRef(ma.Schema):
    period = fields.Integer(required=True)
    fixed_at = Timestamp(required=True)
    record_hash = fields.String(required=True, metadata=RECORD_HASH)


class PaymentRef(ma.Schema):
    period = fields.Integer(required=True)
    recorded_at = Timestamp(required=True)
    record_hash = fields.String(required=True, metadata=RECORD_HASH)


class PublicLease(ma.Schema):
    """What every org sees: no price, no lessee."""

    lease_id = fields.String(required=True)
    project_id = fields.String(required=True)
    lessee_ref = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ["draft", "active", "terminated", "matured"]))
    created_at = Timestamp(required=True)
    activated_at = Timestamp(required=True, allow_none=True)
    terminated_at = Timestamp(required=True, allow_none=True)
    matured_at = Timestamp(required=True, allow_none=True)
    fixed_through_period = fields.Integer(required=True)
    paid_through_period = fields.Integer(required=True)
    terms_hash = fields.String(required=True, metadata=RECORD_HASH)
    termination_hash = fields.String(required=True, allow_none=True, metadata=RECORD_HASH)
    adjustments = fields.List(fields.Nested(AdjustmentRef), required=True)
    payments = fields.List(fields.Nested(PaymentRef), required=True)
    private_data_purged_at = Timestamp(required=True, allow_none=True)


class Lease(PublicLease):
    private = fields.Nested(LeasePrivate, required=True, allow_none=True, metadata={
        "description": "the private records, where the gateway's org is a member of the "
                       "leaseTerms collection (LessorMSP, RegulatorMSP) and they are not "
                       "purged; null elsewhere"})


class RateFixed(AdjustmentRef):
    lease_id = fields.String(required=True)


class PaymentRecorded(PaymentRef):
    lease_id = fields.String(required=True)
    lease_status = fields.String(required=True)


class ScheduleRow(ma.Schema):
    period = fields.Integer(required=True)
    rate_bps = fields.Integer(required=True)
    adjustment_bps = fields.Integer(required=True)
    interest_fen = fields.Integer(required=True)
    principal_fen = fields.Integer(required=True)
    instalment_fen = fields.Integer(required=True)
    outstanding_after_fen = fields.Integer(required=True)


class Schedule(ma.Schema):
    lease_id = fields.String(required=True)
    status = fields.String(required=True)
    fixed_through_period = fields.Integer(required=True)
    paid_through_period = fields.Integer(required=True)
    rows = fields.List(fields.Nested(ScheduleRow), required=True, allow_none=True, metadata={
        "description": "rows after fixed_through_period project the base rate; null where the "
                       "gateway's org may not read the lease's terms"})


class LeaseHistoryEntry(ma.Schema):
    tx_id = fields.String(required=True)
    timestamp = Timestamp(required=True)
    is_delete = fields.Boolean(required=True)
    value = fields.Nested(PublicLease, required=True, allow_none=True)


class LeaseHistory(ma.Schema):
    history = fields.List(fields.Nested(LeaseHistoryEntry), required=True, metadata={
        "description": "public versions, oldest first (Fabric keeps no history of private "
                       "data; GET the lease for its private records)"})


class PreviewInput(Request):
    terms = fields.Nested(Terms, required=True)
    emissions = Integers(
        0, MAX_KG, allow_none_items=True, required=True, validate=validate.Length(max=360),
        metadata={"description": "verified kg per period (term_periods entries), null where "
                                 "no verified report"})

    @ma.validates_schema
    def _one_entry_per_period(self, data, **_):
        if len(data["emissions"]) != data["terms"]["term_periods"]:
            raise ma.ValidationError("Needs exactly terms.term_periods entries.", "emissions")


class Preview(ma.Schema):
    rows = fields.List(fields.Nested(ScheduleRow), required=True)


# --- transactions, paging, writes ---------------------------------------------------------

class Creator(ma.Schema):
    msp_id = fields.String(required=True, metadata={"example": "LessorMSP"})
    subject = fields.String(required=True, metadata={
        "description": "Subject of the signer's certificate (RFC 4514): the person or app "
                       "of a `scripts/user` key, else the org's gateway identity",
        "example": "CN=alice,OU=client,O=lessor.carbonlease.local,C=CN"})


class TransactionStatus(ma.Schema):
    transaction_id = fields.String(required=True)
    validation_code = fields.String(required=True, metadata={
        "description": "Fabric TxValidationCode name; VALID when committed valid",
        "example": "VALID"})
    block_number = fields.Integer(required=True)
    creator = fields.Nested(Creator, required=True, metadata={
        "description": "Who signed the transaction"})


class PageQuery(ma.Schema):
    page_size = QueryInteger(load_default=20, validate=validate.Range(min=1, max=100))
    bookmark = fields.String(load_default="", validate=validate.Length(max=1000),
                             metadata={"description": "from the previous page; empty for the first"})


@functools.cache
def page_of(record: type[ma.Schema]) -> type[ma.Schema]:
    """``{"records", "fetched_count", "bookmark"}``, the chaincodes' page shape."""
    return type(f"{record.__name__}Page", (ma.Schema,), {
        "records": fields.List(fields.Nested(record), required=True),
        "fetched_count": fields.Integer(required=True),
        "bookmark": fields.String(required=True, metadata={
            "description": "pass as ?bookmark= for the next page; empty on the last page"}),
    })


@functools.cache
def committed(record: type[ma.Schema]) -> type[ma.Schema]:
    """The answer to a write: where it was committed, and what the chaincode returned."""
    return type(f"{record.__name__}Committed", (ma.Schema,), {
        "transaction_id": fields.String(required=True),
        "block_number": fields.Integer(required=True),
        "result": fields.Nested(record, required=True),
    })


# --- read model (off-chain, filtered) -----------------------------------------------------

class ReadBookmark(fields.String):
    """Opaque to clients: the last id of the previous page, base64url-encoded. Loads to that id
    (None for the first page); dumps an id (or None on the last page) to the text."""

    default_error_messages = {"invalid_bookmark": "Not a bookmark this API returned."}

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return ""
        return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text == "":
            return None
        if len(text) > 100:  # an id is at most 64 characters
            raise self.make_error("invalid_bookmark")
        try:
            decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        except (ValueError, UnicodeDecodeError) as err:
            raise self.make_error("invalid_bookmark") from err
        if re.fullmatch(ID_PATTERN[1:-1], decoded) is None:
            raise self.make_error("invalid_bookmark")
        return decoded


class ReadPageQuery(PageQuery):
    bookmark = ReadBookmark(load_default=None, metadata={
        "description": "from the previous page; empty or absent for the first"})


class ReadProjectQuery(ReadPageQuery):
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    owner_msp = Msp()


REPORT_STATUSES = ["submitted", "verified", "rejected", "superseded"]


class ReadReportQuery(ReadPageQuery):
    lessee_id = Id()
    status = fields.String(validate=validate.OneOf(REPORT_STATUSES))
    period_from = Date(metadata={"description": "reports whose period starts on or after"})
    period_to = Date(metadata={"description": "reports whose (exclusive) period end is on or "
                                             "before"})

    @ma.validates_schema
    def _ordered(self, query, **_):
        if "period_from" in query and "period_to" in query \
                and query["period_from"] > query["period_to"]:
            raise ma.ValidationError("Must not be after period_to.", "period_from")


LEASE_STATUSES = ["draft", "active", "terminated", "matured"]


class ReadLeaseQuery(ReadPageQuery):
    status = fields.String(validate=validate.OneOf(LEASE_STATUSES))
    lessee_id = Id(metadata={"description": "matches only where the org may read lease terms"})
    lessee_ref = Id()
    project_id = Id()


class LedgerPosition(ma.Schema):
    block_number = fields.Integer(required=True, metadata={
        "description": "block of the last transaction that changed the record"})
    transaction_id = fields.String(required=True)


class ReadProject(Project, LedgerPosition):
    pass


class ReadReport(LedgerPosition):
    report_id = fields.String(required=True)
    lessee_id = fields.String(required=True)
    period_start = fields.String(required=True)
    period_end = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(REPORT_STATUSES))
    scope1_kg = fields.Integer(required=True)
    scope2_kg = fields.Integer(required=True)
    total_kg = fields.Integer(required=True)
    version = fields.Integer(required=True)
    supersedes = fields.String(required=True, allow_none=True)
    superseded_by = fields.String(required=True, allow_none=True)
    submitted_by_msp = Msp(required=True)
    submitted_at = Timestamp(required=True)
    verified_at = Timestamp(required=True, allow_none=True)
    rejected_at = Timestamp(required=True, allow_none=True)


PRIVATE_COLUMN = {"description": "private: filled where the gateway's org may read the lease "
                                  "terms (LessorMSP, RegulatorMSP), null elsewhere"}


class ReadLease(LedgerPosition):
    lease_id = fields.String(required=True)
    lessee_ref = fields.String(required=True)
    lessee_id = fields.String(required=True, allow_none=True, metadata=PRIVATE_COLUMN)
    project_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(LEASE_STATUSES))
    principal_fen = fields.Integer(required=True, allow_none=True, metadata=PRIVATE_COLUMN)
    base_rate_bps = fields.Integer(required=True, allow_none=True, metadata=PRIVATE_COLUMN)
    term_periods = fields.Integer(required=True, allow_none=True, metadata=PRIVATE_COLUMN)
    period_months = fields.Integer(required=True, allow_none=True, metadata=PRIVATE_COLUMN)
    start_date = fields.String(required=True, allow_none=True, metadata=PRIVATE_COLUMN)
    rate_bps = fields.Integer(required=True, allow_none=True, metadata={
        "description": "private: rate of the last fixed period (period 1 runs at base_rate_bps "
                       "from creation on); null where the org may not read the terms"})
    fixed_through_period = fields.Integer(required=True)
    paid_through_period = fields.Integer(required=True)
    created_at = Timestamp(required=True)
    activated_at = Timestamp(required=True, allow_none=True)
    terminated_at = Timestamp(required=True, allow_none=True)
    matured_at = Timestamp(required=True, allow_none=True)


@functools.cache
def read_page_of(record: type[ma.Schema]) -> type[ma.Schema]:
    """The chaincodes' page shape, from the read model: plus how current it is."""
    return type(f"{record.__name__}Page", (page_of(record),), {
        "bookmark": ReadBookmark(required=True, metadata={
            "description": "pass as ?bookmark= for the next page; empty on the last page"}),
        "as_of_block": fields.Integer(required=True, allow_none=True, metadata={
            "description": "the read model holds every event up to this block (null: none "
                           "applied yet)"}),
    })


class DeadLetterSummary(ma.Schema):
    id = fields.Integer(required=True, metadata={"description": "bookmark order of the list"})
    block_number = fields.Integer(required=True)
    transaction_id = fields.String(required=True)
    event_name = fields.String(required=True, metadata={
        "description": "as emitted; ill-formed text escaped"})
    error = fields.String(required=True, metadata={
        "description": "why the read model could not apply the event"})
    recorded_at = fields.DateTime(required=True)


class DeadLetter(DeadLetterSummary):
    chaincode = fields.String(required=True)
    payload_base64 = fields.Method("_payload", required=True, metadata={
        "description": "the event payload exactly as the peer delivered it, base64-encoded"})

    @staticmethod
    def _payload(record):
        return base64.b64encode(record["payload"]).decode()


class DeadLetterQuery(ReadPageQuery):
    chaincode = fields.String(validate=validate.OneOf(["emission", "lease"]))


class ReadModelChaincode(ma.Schema):
    chaincode = fields.String(required=True)
    listening = fields.Boolean(required=True, metadata={
        "description": "the follower of this gateway's org is keeping up with its peer: its "
                       "heartbeat (written only while its event stream is open and it is "
                       "applying events or waiting for the next one) is recent"})
    heartbeat_at = fields.DateTime(required=True, allow_none=True)
    heartbeat_channel_height = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the channel height the peer told the follower at its last heartbeat"})
    follower_pid = fields.Integer(required=True, allow_none=True, metadata={
        "description": "process id of the follower that wrote the last heartbeat"})
    reconnects = fields.Integer(required=True, metadata={
        "description": "times the follower reopened the event stream after it broke"})
    block_number = fields.Integer(required=True, allow_none=True, metadata={
        "description": "block of the last recorded event (applied or dead letter); null "
                       "before the first"})
    transaction_id = fields.String(required=True, allow_none=True)
    dead_letter_count = fields.Integer(required=True, metadata={
        "description": "events recorded as dead letters since block 0; GET "
                       "/api/v1/read/dead-letters lists the newest the gateway keeps "
                       "(CARBONLEASE_DEAD_LETTERS_KEPT)"})
    latest_dead_letters = fields.List(fields.Nested(DeadLetterSummary), required=True,
                                      metadata={"description": "newest first, at most 3"})


class ReadModelStatus(ma.Schema):
    channel_height = fields.Integer(required=True, allow_none=True, metadata={
        "description": "blocks on the org's peer (null if it does not answer); blocks after a "
                       "chaincode's block_number may hold none of its events, so "
                       "channel_height - 1 - block_number bounds its lag from above"})
    chaincodes = fields.List(fields.Nested(ReadModelChaincode), required=True)
