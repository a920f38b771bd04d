"""Prometheus metrics at ``/metrics``.

The gateway runs as ONE gunicorn worker with many threads (see ``gunicorn_config``), so the
counters of this process are the whole truth and no multiprocess directory is needed. One
process also means one gRPC connection to the peer, and the work is waiting on the network
(a write waits ~0.5 s for its block), which threads do well despite the GIL.

Each app gets its own registry so that several apps (tests) can live in one process.
"""

from __future__ import annotations

import time

import flask
import prometheus_client as prom


class Metrics:
    def __init__(self):
        self.registry = prom.CollectorRegistry()
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
        self.read_model_block = prom.Gauge(
            "carbonlease_read_model_block",
            "Block of the last chaincode event applied to the read model", ["chaincode"],
            registry=self.registry)
        self.read_model_reconnects = prom.Counter(
            "carbonlease_read_model_reconnects_total",
            "Times a read-model listener reopened its event stream after it broke",
            ["chaincode"], registry=self.registry)

    def install(self, app: flask.Flask) -> None:
        @app.before_request
        def _start_timer():
            flask.g.request_started = time.perf_counter()

        @app.after_request
        def _observe(response):
            # The route template, not the path, keeps the label set bounded.
            rule = flask.request.url_rule
            route = rule.rule if rule is not None else "<unmatched>"
            method = flask.request.method
            self.requests.labels(route, method, str(response.status_code)).inc()
            started = flask.g.get("request_started")
            if started is not None:
                self.latency.labels(route, method).observe(time.perf_counter() - started)
            return response

    def exposition(self) -> flask.Response:
        return flask.Response(prom.generate_latest(self.registry),
                              mimetype=prom.CONTENT_TYPE_LATEST)
