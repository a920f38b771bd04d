"""Prometheus metrics at ``/metrics``.

The gateway may run as several gunicorn workers (see ``gunicorn_config``). In one process the
counters of its registry are the whole truth. With several, ``PROMETHEUS_MULTIPROC_DIR`` is
set before prometheus_client is imported, every worker's counters and histograms live in files
there, and a scrape, answered by whichever worker nginx picks, reads them all (summed per label
set). The gateway defines no ``Gauge`` (whose ``multiprocess_mode`` would have to say how to
combine workers): the read model's gauges are computed at each scrape from the database,
which every worker shares, so any worker gives the same values once.

Each app gets its own registry so that several apps (tests) can live in one process.
"""

from __future__ import annotations

import logging
import time

import flask
import prometheus_client as prom
import sqlalchemy as sa
from prometheus_client import multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .db import SchemaOutdated

log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "<unmatched>"
OTHER_METHOD = "other"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    def __init__(self, multiprocess_dir: str | None = None):
        self.registry = prom.CollectorRegistry()
        # What /metrics shows: this registry, or every worker's files and the collectors
        # added here (a registry holding both would count this worker twice).
        self._exposed = self.registry
        if multiprocess_dir:
            self._exposed = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(self._exposed, path=multiprocess_dir)
        self.requests = prom.Counter(
            "carbonlease_http_requests_total", "HTTP requests answered",
            ["route", "method", "status"], registry=self.registry)
        self.latency = prom.Histogram(
            "carbonlease_http_request_duration_seconds", "Time to answer an HTTP request",
            ["route", "method"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30))
        self.fabric_errors = prom.Counter(
            "carbonlease_fabric_errors_total",
            "Fabric failures seen by the gateway, by code (chaincode code, gRPC status or "
            "validation code)", ["code"], registry=self.registry)
        self.mvcc_retries = prom.Counter(
            "carbonlease_mvcc_retries_total",
            "Writes endorsed and submitted again after an MVCC or phantom read conflict",
            registry=self.registry)
        self.resubmissions = prom.Counter(
            "carbonlease_resubmissions_total",
            "Transactions sent for ordering again, unchanged, because no commit was seen",
            registry=self.registry)

    def add_collector(self, collector) -> None:
        """A collector computed at each scrape, shown once whatever the number of workers."""
        self._exposed.register(collector)

    def install(self, app: flask.Flask) -> None:
        @app.before_request
        def _start_timer():
            flask.g.request_started = time.perf_counter()

        @app.after_request
        def _observe(response):
            # Route templates and a fixed set of methods keep the label set bounded: anything
            # a caller can invent (paths, methods) folds into one value.
            rule = flask.request.url_rule
            route = rule.rule if rule is not None else UNMATCHED_ROUTE
            method = flask.request.method
            if method not in KNOWN_METHODS:
                method = OTHER_METHOD
            self.requests.labels(route, method, str(response.status_code)).inc()
            started = flask.g.get("request_started")
            if started is not None:
                self.latency.labels(route, method).observe(time.perf_counter() - started)
            return response

    def exposition(self) -> flask.Response:
        return flask.Response(prom.generate_latest(self._exposed),
                              mimetype=prom.CONTENT_TYPE_LATEST)


class ReadModelCollector:
    """The read model's position, dead letters and follower state, read from the database at
    each scrape: the follower is another process, and every web worker shows the same."""

    def __init__(self, read_model):
        self._read_model = read_model

    def collect(self):
        block = GaugeMetricFamily(
            "carbonlease_read_model_block",
            "Block of the last chaincode event recorded in the read model", labels=["chaincode"])
        dead = GaugeMetricFamily(
            "carbonlease_read_model_dead_letters",
            "Chaincode events the read model could not apply (dead letters) since block 0, "
            "those deleted to keep only the newest included",
            labels=["chaincode"])
        listening = GaugeMetricFamily(
            "carbonlease_read_model_listening",
            "1 while the follower's heartbeat says it is keeping up with the peer, else 0",
            labels=["chaincode"])
        reconnects = CounterMetricFamily(
            "carbonlease_read_model_reconnects",
            "Times the follower reopened a chaincode's event stream after it broke",
            labels=["chaincode"])
        try:
            chaincodes = self._read_model.status(channel_height=None)["chaincodes"]
        except (sa.exc.DBAPIError, SchemaOutdated) as err:
            # /metrics keeps answering with the HTTP series; the gap shows the database trouble.
            log.warning("read model metrics unavailable: %s", err)
            chaincodes = []
        for chaincode in chaincodes:
            name = [chaincode["chaincode"]]
            if chaincode["block_number"] is not None:
                block.add_metric(name, chaincode["block_number"])
            dead.add_metric(name, chaincode["dead_letter_count"])
            listening.add_metric(name, int(chaincode["listening"]))
            reconnects.add_metric(name, chaincode["reconnects"])
        return [block, dead, listening, reconnects]
