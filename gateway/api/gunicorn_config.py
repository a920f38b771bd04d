"""gunicorn settings: ``gunicorn -c python:gateway.api.gunicorn_config gateway.api.wsgi:app``.

Several workers (``CARBONLEASE_WORKERS``, default 2) with many threads each
(``CARBONLEASE_THREADS``, default 32; see ``gateway.api.config``): a request mostly waits for
the network (a write waits ~0.5 s for its block), which threads do well, but the Python work
between the waits runs under one GIL per process, so one process per core. The read-model
follower is its own process, so the web workers run no background thread and duplicate
nothing. No preload: each worker opens its Fabric connection lazily after the fork, never
inherited across it.

With several workers, each counts its requests in files under ``PROMETHEUS_MULTIPROC_DIR``
(prometheus_client's multiprocess mode) and ``/metrics``, answered by any worker, sums them;
the folder is emptied when gunicorn starts, so counters begin at zero as they would in one
process, and a worker restarted by gunicorn keeps the counts of the one it replaces.

The network tool binds gunicorn to a unix socket in the gateway's private folder behind nginx
(network/proxy.py), which holds slow clients, bounds request sizes and times, and passes on
whole requests only; the limits here are therefore no tighter than nginx's, so a request nginx
accepts is never refused by gunicorn for its size.
"""

import json
import os
import shutil

from gunicorn import util

from gateway.api.config import METRICS_DIR_VARIABLE, Serving
from gateway.api.errors import error_body
from gateway.api.headers import OWN_ERROR_HEADERS

_serving = Serving.from_env()
_metrics_dir = os.environ.get(METRICS_DIR_VARIABLE)
if _serving.workers > 1 and not _metrics_dir:
    raise RuntimeError(f"CARBONLEASE_WORKERS={_serving.workers} needs {METRICS_DIR_VARIABLE}: "
                       "a private folder where the workers keep their metrics")

bind = os.environ.get("CARBONLEASE_BIND", "127.0.0.1:8080")
workers = _serving.workers
worker_class = "gthread"
threads = _serving.threads
timeout = _serving.timeout_s
graceful_timeout = 30
# Longer than nginx keeps an idle connection to gunicorn (network/proxy.py), so nginx, not
# gunicorn, closes it: never under a request nginx is sending.
keepalive = 5
# The socket (and anything gunicorn creates) is its owner's alone, like the folder it is in.
umask = 0o077
accesslog = "-"
# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl), which
# every gateway on the host would take from the others; nothing here uses it.
control_socket_disable = True
# The client's address as nginx saw it (a unix socket peer has none).
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms'
limit_request_line = 8190  # gunicorn's maximum; nginx refuses lines over 8 KiB (414)
limit_request_fields = 32768  # gunicorn's maximum; nginx bounds all headers to 32 KiB (431)
limit_request_field_size = 16380
# Only the header nginx sets: a client's own X-Forwarded-Ssl contradicting it would make
# gunicorn refuse the request (400) instead of the proxy deciding.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}


def on_starting(server):
    """Counters left by an earlier run would be summed into this one's: start from none."""
    if _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
        os.makedirs(_metrics_dir, mode=0o700)


def _write_json_error(sock, status_int, reason, mesg):
    """gunicorn's own answers to requests it cannot parse, in the gateway's error shape
    instead of HTML (gunicorn has no setting for it; it calls ``util.write_error``)."""
    body = json.dumps(error_body(status_int, mesg or reason)).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in OWN_ERROR_HEADERS.items())
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n{extra}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = _write_json_error
