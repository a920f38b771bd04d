"""gunicorn settings: ``gunicorn -c python:gateway.api.gunicorn_config gateway.api.wsgi:app``.

One worker with many threads: the process holds one gRPC connection to the org's peer and one
set of Prometheus counters (no multiprocess directory), and a request mostly waits for the
network (a write waits for its block), which threads handle well. Scale out by running more
gateway processes behind a balancer, each with its own /metrics target. No preload: the
Fabric connection is opened lazily inside the worker, never inherited across fork.

The network tool binds gunicorn to a unix socket in the gateway's private folder behind nginx
(network/proxy.py), which holds slow clients, bounds request sizes and times, and passes on
whole requests only; the limits here are therefore no tighter than nginx's, so a request nginx
accepts is never refused by gunicorn for its size.
"""

import json
import os

from gunicorn import util

from gateway.api.errors import error_body

bind = os.environ.get("CARBONLEASE_BIND", "127.0.0.1:8080")
workers = 1
worker_class = "gthread"
threads = int(os.environ.get("CARBONLEASE_THREADS", "16"))
timeout = int(os.environ.get("CARBONLEASE_TIMEOUT", "120"))
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


def _write_json_error(sock, status_int, reason, mesg):
    """gunicorn's own answers to requests it cannot parse, in the gateway's error shape
    instead of HTML (gunicorn has no setting for it; it calls ``util.write_error``)."""
    body = json.dumps(error_body(status_int, mesg or reason)).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = _write_json_error
