"""gunicorn settings: ``gunicorn -c python:gateway.api.gunicorn_config gateway.api.wsgi:app``.

One worker with many threads: the process holds one gRPC connection to the org's peer and one
set of Prometheus counters (no multiprocess directory), and a request mostly waits for the
network (a write waits for its block), which threads handle well. Scale out by running more
gateway processes behind a balancer, each with its own /metrics target. No preload: the
Fabric connection is opened lazily inside the worker, never inherited across fork.
"""

import os

bind = os.environ.get("CARBONLEASE_BIND", "127.0.0.1:8080")
workers = 1
worker_class = "gthread"
threads = int(os.environ.get("CARBONLEASE_THREADS", "16"))
timeout = int(os.environ.get("CARBONLEASE_TIMEOUT", "120"))
graceful_timeout = 30
accesslog = "-"
