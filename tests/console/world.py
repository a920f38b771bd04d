"""A small consortium in memory for the console's browser tests: one ledger state shared by a
gateway app per org, each app on a fake Fabric (``tests.unit.api.fakes``) whose handlers play
the chaincodes' part: the MSP checks (refused with FORBIDDEN at endorsement, as a peer does),
the records they return, and the events every org's read model follows.

Leases are split as the lease chaincode splits them (issue 14): a public record every org
reads (``leases``) and private records (``private``: terms, rate fixes, payments) that arrive as
transient data and only the leaseTerms collection's members, Lessor and Regulator, read; answers
and events are public only, and a member's read model takes the private columns from GetLease.

The schedule arithmetic is a plain equal-principal stand-in: the console only shows what the
API answers, and the real formula is tested through real peers (tests/integration)."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import threading

from fabric_protos.common import ledger_pb2
from werkzeug.serving import make_server

from gateway.api import create_app
from gateway.api.config import Config, FabricSettings
from gateway.api.readmodel import follower
from gateway.fabricgw.events import ChaincodeEvent
from tests.database import upgraded
from tests.unit.api.fakes import FakeNetwork, chaincode_error

NOW = "2025-01-02T03:04:05.000Z"
# The leaseTerms collection's members: the orgs of the lessor and regulator roles.
TERMS_HOLDERS = ("LessorMSP", "RegulatorMSP")


def record_hash(record: dict) -> str:
    """The public hash of a private record: SHA-256 of its canonical JSON (chaincode/README.md,
    "Private terms")."""
    return hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


def settings(msp_id: str) -> FabricSettings:
    return FabricSettings(
        msp_id=msp_id, peer_endpoint="localhost:7051", peer_tls_ca="/nonexistent/ca.pem",
        peer_host_override=None, cert=None, key=None, msp_dir=None, tls_cert=None,
        tls_key=None, channel="carbonlease", emission_chaincode="emission",
        lease_chaincode="lease")


def schedule_rows(terms: dict, adjustments: list) -> list[dict]:
    rates = {a["period"]: (a["rate_bps"], a["adjustment_bps"]) for a in adjustments}
    outstanding, rows = terms["principal_fen"], []
    months, periods = terms["period_months"], terms["term_periods"]
    for period in range(1, periods + 1):
        rate, adjustment = rates.get(period, (terms["base_rate_bps"], 0))
        interest = (outstanding * rate * months + 60000) // 120000
        principal = outstanding if period == periods else terms["principal_fen"] // periods
        outstanding -= principal
        rows.append({"period": period, "rate_bps": rate, "adjustment_bps": adjustment,
                     "interest_fen": interest, "principal_fen": principal,
                     "instalment_fen": interest + principal,
                     "outstanding_after_fen": outstanding})
    return rows


class Peer(FakeNetwork):
    """A fake Fabric whose handlers can read the transient data of the proposal they endorse
    (``transient()``), as a chaincode reads its proposal's transient map."""

    def __init__(self):
        super().__init__()
        self._proposal = threading.local()

    def run(self, chaincode, transaction, arguments, kind, transient=None, endorsers=None):
        self._proposal.transient = transient or {}
        return super().run(chaincode, transaction, arguments, kind, transient, endorsers)

    def transient(self) -> dict:
        return self._proposal.transient


class World:
    """The shared ledger and a running gateway per org (``url(msp_id)``, ``key(msp_id)``)."""

    def __init__(self, tmp_path, orgs=("LessorMSP", "GridMSP", "RegulatorMSP", "HKPartnerMSP")):
        self.projects, self.interests, self.leases, self.private = {}, {}, {}, {}
        self.readings, self.reports, self.factors = {}, {}, {}
        self._blocks = itertools.count(5)
        self._lock = threading.Lock()
        self.apps, self.keys, self._servers, self.urls = {}, {}, [], {}
        for msp_id in orgs:
            network = Peer()
            self._install(network, msp_id)
            app = create_app(Config(fabric=settings(msp_id),
                                    database_url=upgraded(f"sqlite:///{tmp_path}/{msp_id}.db"),
                                    mvcc_retries=1, retry_backoff_ms=1),
                             connect=lambda _settings, network=network: network)
            store = app.extensions["carbonlease"].credentials
            self.keys[msp_id] = {role: store.create(f"browser-{role}", role).key
                                 for role in ("reader", "writer")}
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                             daemon=True).start()
            self._servers.append(server)
            self.apps[msp_id] = app
            self.urls[msp_id] = f"http://127.0.0.1:{server.server_port}"

    def url(self, msp_id, path="/console/"):
        return self.urls[msp_id] + path

    def key(self, msp_id, role="writer"):
        return self.keys[msp_id][role]

    def stop(self):
        for server in self._servers:
            server.shutdown()

    # --- the chaincodes' part -------------------------------------------------------------

    def height(self):
        with self._lock:
            return next(self._blocks)

    def emit(self, chaincode, name, payload):
        """Every org's read model follows the same events (one transaction each, as the
        chaincodes answer: canonical JSON); a member's also reads the lease's private view, as
        its follower does from its peer."""
        with self._lock:
            block = next(self._blocks)
        transaction_id = hashlib.sha256(f"{chaincode}/{block}".encode()).hexdigest()
        event = ChaincodeEvent(block, transaction_id, chaincode, name,
                               json.dumps(payload, sort_keys=True).encode())
        for msp_id, app in self.apps.items():
            follower.apply(app.extensions["carbonlease"].read_model, chaincode, event,
                           lambda lease_id, msp_id=msp_id: self.private_view(msp_id, lease_id))
        return payload

    def private_view(self, msp_id, lease_id):
        """GetLease's ``private`` as ``msp_id`` reads it: the records for a member, else None."""
        if msp_id not in TERMS_HOLDERS or lease_id not in self.private:
            return None
        return copy.deepcopy(self.private[lease_id])

    def add_lease(self, public, lessee_id, lessee_name, terms):
        """A draft lease as CreateLease stores it: its public record (``lease_id``,
        ``project_id``, ``lessee_ref``) and its private terms record; returns the public lease."""
        salt = hashlib.sha256(public["lease_id"].encode()).hexdigest()
        record = {"lease_id": public["lease_id"], "lessee_id": lessee_id,
                  "lessee_name": lessee_name, "terms": terms, "salt": salt}
        lease = {**public, "status": "draft", "created_at": NOW, "activated_at": None,
                 "terminated_at": None, "matured_at": None, "fixed_through_period": 0,
                 "paid_through_period": 0, "terms_hash": record_hash(record),
                 "termination_hash": None, "adjustments": [], "payments": [],
                 "private_data_purged_at": None}
        self.leases[lease["lease_id"]] = lease
        self.private[lease["lease_id"]] = {"terms": record, "adjustments": [], "payments": [],
                                           "termination": None}
        return copy.deepcopy(lease)

    def _install(self, network, msp_id):
        def only(*orgs):
            if msp_id not in orgs:
                raise chaincode_error("FORBIDDEN", f"{msp_id} may not do this")

        def found(records, key):
            if key not in records:
                raise chaincode_error("NOT_FOUND", f"{key} does not exist")
            return records[key]

        def register_project(args):
            only("LessorMSP", "HKPartnerMSP", "MacaoPartnerMSP")
            project = {**json.loads(args[0]), "owner_msp": msp_id, "registered_at": NOW}
            if project["project_id"] in self.projects:
                raise chaincode_error("ALREADY_EXISTS", "project exists")
            self.projects[project["project_id"]] = project
            return self.emit("lease", "ProjectRegistered", project)

        def express_interest(args):
            only("HKPartnerMSP", "MacaoPartnerMSP")
            found(self.projects, args[0])
            interest = {"project_id": args[0], "partner_msp": msp_id, **json.loads(args[1]),
                        "expressed_at": NOW}
            self.interests.setdefault(args[0], {})[msp_id] = interest
            return self.emit("lease", "InterestExpressed", interest)

        def create_lease(args):
            only("LessorMSP")
            public = json.loads(args[0])
            private = json.loads(network.transient()["lease_private"])
            found(self.projects, public["project_id"])
            if public["lease_id"] in self.leases:
                raise chaincode_error("ALREADY_EXISTS", "lease exists")
            lease = self.add_lease(public, private["lessee_id"], private["lessee_name"],
                                   private["terms"])
            return self.emit("lease", "LeaseCreated", lease)

        def activate(args):
            only("LessorMSP")
            lease = found(self.leases, args[0])
            if lease["status"] != "draft":
                raise chaincode_error("INVALID_STATE", "lease is not a draft")
            lease.update(status="active", activated_at=NOW, fixed_through_period=1)
            return self.emit("lease", "LeaseActivated", copy.deepcopy(lease))

        def fix_rate(args):
            only("LessorMSP")
            lease = found(self.leases, args[0])
            private = self.private[lease["lease_id"]]
            terms, period = private["terms"]["terms"], lease["fixed_through_period"] + 1
            # Reports name the lessee by its public reference.
            verified = [r for r in self.reports.values()
                        if r["lessee_id"] == lease["lessee_ref"] and r["status"] == "verified"]
            report = verified[-1] if verified else None
            adjustment = terms["missing_report_bps"] if report is None else terms["floor_bps"]
            fix = {"lease_id": lease["lease_id"], "period": period,
                   "based_on_period": period - 1, "period_start": "2025-01-01",
                   "period_end": "2025-04-01",
                   "report_id": report and report["report_id"],
                   "verified_kg": report and report["total_kg"],
                   "target_kg": terms["baseline_kg"],
                   "performance_bps": report and 1000,
                   "tier_min_performance_bps": None if report is None else 500,
                   "basis": "missing_report" if report is None else "tier",
                   "adjustment_bps": adjustment,
                   "rate_bps": terms["base_rate_bps"] + adjustment, "fixed_at": NOW,
                   "salt": private["terms"]["salt"]}
            private["adjustments"].append(fix)
            reference = {"period": period, "fixed_at": NOW, "record_hash": record_hash(fix)}
            lease["adjustments"].append(reference)
            lease["fixed_through_period"] = period
            return self.emit("lease", "RateFixed", {"lease_id": lease["lease_id"], **reference})

        def record_payment(args):
            only("LessorMSP")
            lease = found(self.leases, args[0])
            private = self.private[lease["lease_id"]]
            paid = json.loads(network.transient()["payment"])
            period = int(args[1])
            row = schedule_rows(private["terms"]["terms"], private["adjustments"])[period - 1]
            if period != lease["paid_through_period"] + 1 or paid["amount_fen"] != row["instalment_fen"]:
                raise chaincode_error("INVALID_ARGUMENT", "not the next instalment")
            lease["paid_through_period"] = period
            payment = {"lease_id": lease["lease_id"], "period": period,
                       "amount_fen": paid["amount_fen"], "paid_on": paid["paid_on"],
                       "due_date": paid["paid_on"], "recorded_at": NOW,
                       "salt": private["terms"]["salt"]}
            private["payments"].append(payment)
            reference = {"period": period, "recorded_at": NOW, "record_hash": record_hash(payment)}
            lease["payments"].append(reference)
            return self.emit("lease", "PaymentRecorded", {"lease_id": lease["lease_id"],
                                                          **reference,
                                                          "lease_status": lease["status"]})

        def get_lease(args):
            lease = found(self.leases, args[0])
            return {**copy.deepcopy(lease), "private": self.private_view(msp_id, args[0])}

        def schedule(args):
            lease = found(self.leases, args[0])
            private = self.private_view(msp_id, args[0])
            return {"lease_id": lease["lease_id"], "status": lease["status"],
                    "fixed_through_period": lease["fixed_through_period"],
                    "paid_through_period": lease["paid_through_period"],
                    "rows": private and schedule_rows(private["terms"]["terms"],
                                                      private["adjustments"])}

        def submit_reading(args):
            only("GridMSP")
            reading = {**json.loads(args[0]), "submitted_by_msp": msp_id, "submitted_at": NOW}
            self.readings[reading["reading_id"]] = reading
            return self.emit("emission", "MeterReadingSubmitted", reading)

        def submit_report(args):
            only("LessorMSP")
            report = json.loads(args[0])
            lines = []
            for reading_id in report["meter_reading_ids"]:
                reading = found(self.readings, reading_id)
                factor = found(self.factors, (reading["region"], reading["period_start"][:4]))
                lines.append({"reading_id": reading_id, "region": reading["region"],
                              "year": int(reading["period_start"][:4]), "kwh": reading["kwh"],
                              "factor_g_per_kwh": factor, "factor_version": 1})
            scope2 = sum(line["kwh"] * line["factor_g_per_kwh"] for line in lines) // 1000
            report.update(scope2_kg=scope2, total_kg=report["scope1_kg"] + scope2,
                          scope2_lines=lines, version=1, supersedes=None, superseded_by=None,
                          status="submitted", submitted_by_msp=msp_id, submitted_at=NOW,
                          verified_by_msp=None, verified_at=None, rejected_by_msp=None,
                          rejected_at=None, rejection_reason=None)
            self.reports[report["report_id"]] = report
            return self.emit("emission", "ReportSubmitted", report)

        def decide(verdict):
            def handler(args):
                only("RegulatorMSP")
                report = found(self.reports, args[0])
                if report["status"] != "submitted":
                    raise chaincode_error("INVALID_STATE", "report already decided")
                if verdict == "verified":
                    report.update(status="verified", verified_by_msp=msp_id, verified_at=NOW)
                else:
                    report.update(status="rejected", rejected_by_msp=msp_id, rejected_at=NOW,
                                  rejection_reason=args[1])
                return self.emit("emission", f"Report{verdict.capitalize()}", report)
            return handler

        def publish_factor(args):
            only("RegulatorMSP")
            factor = json.loads(args[0])
            self.factors[(factor["region"], str(factor["year"]))] = factor["factor_g_per_kwh"]
            return {**factor, "version": 1, "supersede_reason": None, "history": [],
                    "published_by_msp": msp_id, "published_at": NOW}

        handlers = {
            ("lease", "RegisterProject"): register_project,
            ("lease", "GetProject"): lambda a: found(self.projects, a[0]),
            ("lease", "ExpressInterest"): express_interest,
            ("lease", "ListInterests"): lambda a: list(self.interests.get(a[0], {}).values()),
            ("lease", "CreateLease"): create_lease,
            ("lease", "ActivateLease"): activate,
            ("lease", "FixNextRate"): fix_rate,
            ("lease", "RecordPayment"): record_payment,
            ("lease", "GetLease"): get_lease,
            ("lease", "GetRoles"): lambda a: {"lessor": ["LessorMSP"], "grid": ["GridMSP"],
                                              "regulator": ["RegulatorMSP"],
                                              "partner": ["HKPartnerMSP", "MacaoPartnerMSP"]},
            ("lease", "GetSchedule"): schedule,
            ("lease", "PreviewSchedule"): lambda a: schedule_rows(json.loads(a[0]), []),
            ("emission", "SubmitMeterReading"): submit_reading,
            ("emission", "SubmitReport"): submit_report,
            ("emission", "VerifyReport"): decide("verified"),
            ("emission", "RejectReport"): decide("rejected"),
            ("emission", "GetReport"): lambda a: found(self.reports, a[0]),
            ("emission", "PublishFactor"): publish_factor,
            ("qscc", "GetChainInfo"): lambda a: ledger_pb2.BlockchainInfo(
                height=self.height()).SerializeToString(),
        }
        for (chaincode, transaction), handler in handlers.items():
            network.on(chaincode, transaction, handler)
