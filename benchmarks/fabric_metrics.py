"""Fabric's own Prometheus metrics as a latency breakdown: scrape every node's /metrics before and
after a load phase and turn the deltas of histogram sums and counts into "where the time went".

Only histograms are used: each has ``<name>_sum`` (seconds observed) and ``<name>_count``
(observations), so over a phase ``Δsum / Δcount`` is the mean duration of that stage and
``Δsum / wall seconds`` how busy it was (about 1.0 for a stage that runs one at a time and is
never idle: a serial stage that sets the ceiling).
"""

from __future__ import annotations

import dataclasses
import re
import urllib.request

# The stages of a write, in the order a transaction meets them, as Fabric 3.1.5 names them on
# its /metrics (checked against a running 3.1.5 network; a stage missing from a node is left
# out, not guessed): (family, label filter, what it measures, kind of node that reports it). A
# filter value ending in "*" is a prefix (the shim's metrics name a chaincode by its package id,
# "lease_<hash>:<hash>").
STAGES: list[tuple[str, dict[str, str], str, str]] = [
    ("grpc_server_unary_request_duration", {"method": "Endorse"},
     "gateway Endorse (whole call, incl. remote endorsers)", "peer"),
    ("endorser_proposal_duration", {"chaincode": "lease"},
     "endorser: proposal, sim + sign", "peer"),
    ("chaincode_shim_request_duration", {"type": "GET_STATE", "chaincode": "lease_*"},
     "chaincode GetState round trip", "peer"),
    ("chaincode_shim_request_duration", {"type": "PUT_STATE", "chaincode": "lease_*"},
     "chaincode PutState round trip", "peer"),
    ("grpc_server_unary_request_duration", {"method": "Submit"},
     "gateway Submit (to orderer)", "peer"),
    ("broadcast_validate_duration", {},
     "orderer: broadcast validate", "orderer"),
    ("broadcast_enqueue_duration", {},
     "orderer: broadcast enqueue (Raft propose)", "orderer"),
    ("blockcutter_block_fill_duration", {},
     "orderer: block fill (first tx to cut)", "orderer"),
    ("consensus_etcdraft_data_persist_duration", {},
     "orderer: Raft data persist", "orderer"),
    ("etcd_disk_wal_fsync_duration_seconds", {},
     "orderer: Raft WAL fsync", "orderer"),
    ("ledger_blockstorage_commit_time", {},
     "orderer: block store commit", "orderer"),
    ("grpc_server_unary_request_duration", {"method": "CommitStatus"},
     "gateway CommitStatus (wait for commit)", "peer"),
    ("gossip_privdata_validation_duration", {},
     "peer: block validation (VSCC, MVCC)", "peer"),
    ("gossip_privdata_commit_block_duration", {},
     "peer: block commit incl. pvtdata", "peer"),
    ("ledger_block_processing_time", {},
     "peer: ledger block processing", "peer"),
    ("ledger_blockstorage_and_pvtdata_commit_time", {},
     "peer: block + pvtdata store commit", "peer"),
    ("ledger_blockstorage_commit_time", {},
     "peer: block store commit", "peer"),
    ("ledger_statedb_commit_time", {},
     "peer: state DB commit", "peer"),
    ("gossip_state_commit_duration", {},
     "peer: gossip state commit (whole block)", "peer"),
]

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Labels = frozenset  # of (name, value) pairs


@dataclasses.dataclass
class Histogram:
    """Sum (seconds) and count of one histogram series."""

    sum: float = 0.0
    count: float = 0.0

    def minus(self, earlier: "Histogram") -> "Histogram":
        return Histogram(self.sum - earlier.sum, self.count - earlier.count)


def parse(text: str) -> dict[tuple[str, Labels], Histogram]:
    """Histogram series of a Prometheus text exposition: (family, labels) -> sum and count."""
    kinds = {}
    series: dict[tuple[str, Labels], Histogram] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(None, 3)
            kinds[family] = kind.strip()
            continue
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if not match:
            continue
        name, _, raw_labels, value = match.groups()
        for suffix, field in (("_sum", "sum"), ("_count", "count")):
            family = name.removesuffix(suffix)
            if name.endswith(suffix) and kinds.get(family) == "histogram":
                labels = Labels(_LABEL.findall(raw_labels or ""))
                setattr(series.setdefault((family, labels), Histogram()), field, float(value))
    return series


def scrape(port: int, timeout: float = 5) -> dict[tuple[str, Labels], Histogram]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as answer:
        return parse(answer.read().decode())


def delta(before: dict, after: dict) -> dict[tuple[str, Labels], Histogram]:
    """What happened between two scrapes of one node (a series new in ``after`` counts whole)."""
    return {key: value.minus(before.get(key, Histogram())) for key, value in after.items()}


def matches(labels: Labels, wanted: dict[str, str]) -> bool:
    have = dict(labels)
    return all(key in have and (have[key].startswith(value[:-1]) if value.endswith("*")
                                else have[key] == value) for key, value in wanted.items())


def stage(series: dict[tuple[str, Labels], Histogram], family: str,
          wanted: dict[str, str]) -> Histogram | None:
    """The sum over every series of ``family`` whose labels match ``wanted``; None if the
    node has no such series."""
    total, found = Histogram(), False
    for (name, labels), value in series.items():
        if name == family and matches(labels, wanted):
            total.sum += value.sum
            total.count += value.count
            found = True
    return total if found else None


@dataclasses.dataclass(frozen=True)
class StageFigure:
    """One stage on one node over a phase."""

    node: str
    description: str
    family: str
    count: float
    mean_ms: float
    busy: float  # Δsum / wall seconds


def breakdown(deltas: dict[str, dict], seconds: float) -> list[StageFigure]:
    """Per node (name -> its delta), each STAGE that was observed during the phase."""
    figures = []
    for family, wanted, description, kind in STAGES:
        for node, series in deltas.items():
            value = stage(series, family, wanted) if node.startswith(kind) else None
            if value is None or value.count <= 0:
                continue
            figures.append(StageFigure(node, description, family, value.count,
                                       1000 * value.sum / value.count, value.sum / seconds))
    return figures
