"""nginx in front of each REST gateway: it listens on the gateway's public port and passes
only whole requests to gunicorn (a unix socket in the gateway's private folder).

gunicorn's threads are few (by default 2 workers of 32 threads); without a proxy, that many
connections that send half a request line and then nothing hold all of them and /health stops
answering.
nginx holds any number of idle or trickling connections for the price of a little memory and
bounds what a client may do: how long it may take to send its headers and body, how large they
may be, how long it may take to read the answer. What nginx refuses itself is answered in the
gateway's JSON error shape, with the gateway's codes (gateway.api.errors.HTTP_CODES); a client
too slow to send its request is disconnected without an answer (nginx logs 408).

nginx runs in the foreground as a recorded process (``gateway-proxy.<domain>``), with its
configuration, pid file and temporary folders under the gateway's folder and its logs in the
process log: nothing outside the run folder. The Debian package's binary is used, installed by
scripts/bootstrap; the package's own service is never started.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
from pathlib import Path

from . import processes
from .config import HOST, Layout

NGINX = Path("/usr/sbin/nginx")
# A unix socket path is limited to 108 bytes (sun_path), the final NUL included.
MAX_SOCKET_PATH = 107

# What nginx refuses or fails at by itself, and the message the client reads. 494 is nginx's
# internal status for a header too large; the client gets 431. nginx answers 501 to a
# Transfer-Encoding it does not know and 505 to an HTTP version it does not speak: for the
# client both are malformed requests (400), never a server error.
OWN_ERRORS = {
    400: (400, "The request is not valid HTTP."),
    405: (405, "Method not allowed."),
    413: (413, "The request body is larger than 1 MiB."),
    414: (414, "The request line is longer than 8 KiB."),
    494: (431, "A request header is longer than 8 KiB, or all of them together longer "
               "than 32 KiB."),
    501: (400, "Unsupported Transfer-Encoding."),
    505: (400, "Unsupported HTTP version."),
    500: (500, "Internal error in the proxy."),
    502: (502, "The gateway application is not answering; retry shortly."),
    503: (503, "The gateway is unavailable; retry shortly."),
    504: (504, "The gateway application did not answer in time."),
}

ERROR_PREFIX = "/_proxy_error/"
CLIENT_HEADER_TIMEOUT_S = 10
CLIENT_BODY_TIMEOUT_S = 10
SEND_TIMEOUT_S = 30
KEEPALIVE_TIMEOUT_S = 30
# Longer than a write may take (endorsement, ordering, MVCC retries, commit), so nginx never
# gives up on a write the gateway is still finishing.
UPSTREAM_READ_TIMEOUT_S = 180
UPSTREAM_IDLE_S = 2  # gateway.api.gunicorn_config.keepalive is 5


def name(domain: str) -> str:
    return f"gateway-proxy.{domain}"


def socket_path(gateway_folder: Path) -> Path:
    return gateway_folder / "gunicorn.sock"


def _error_pages() -> str:
    """An internal location per error; not named locations, which nginx cannot use for an
    error found before the request line is parsed (it answers 500 instead)."""
    # Imported here: the gateway package brings Flask and gRPC, which only rendering needs.
    from gateway.api.errors import error_body
    from gateway.api.headers import OWN_ERROR_HEADERS

    # "always": nginx adds headers to error statuses only when told to.
    headers = "".join(f'\n            add_header {name} "{value}" always;'
                      for name, value in OWN_ERROR_HEADERS.items())
    pages = []
    for own, (status, message) in OWN_ERRORS.items():
        body = json.dumps(error_body(status, message), separators=(",", ":"))
        pages.append(f"""\
        error_page {own} ={status} {ERROR_PREFIX}{own};
        location = {ERROR_PREFIX}{own} {{
            internal;
            default_type application/json;{headers}
            return {status} '{body}';
        }}""")
    return "\n".join(pages)


def _user_directive() -> str:
    """Run as the consortium's user: the worker must reach the gunicorn socket in the org's
    private (0700) folder. Without the directive, nginx started by root would run its
    workers as nobody; started by anyone else, the directive is ignored with a warning."""
    if os.geteuid() != 0:
        return ""
    return (f"user {pwd.getpwuid(os.geteuid()).pw_name} "
            f"{grp.getgrgid(os.getegid()).gr_name};")


def render(gateway_folder: Path, port: int, upstream_connections: int) -> str:
    """nginx's configuration; ``upstream_connections`` is how many requests gunicorn serves at
    once (workers x threads), the idle connections to it nginx keeps for reuse."""
    home = gateway_folder / "proxy"
    socket = socket_path(gateway_folder)
    if len(str(socket).encode()) > MAX_SOCKET_PATH:
        raise processes.ProcessError(f"{socket} is longer than a unix socket path may be "
                                     f"({MAX_SOCKET_PATH} bytes): use a shorter --home")
    temp = "\n".join(f"    {kind}_temp_path {home / 'temp' / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""\
# Rendered by the network tool (network/proxy.py); edits are overwritten by `up`.
daemon off;
worker_processes 1;
{_user_directive()}
pid {home / 'nginx.pid'};
error_log stderr warn;

events {{
    worker_connections 4096;
}}

http {{
    log_format proxy '$remote_addr "$request" $status $body_bytes_sent '
                     '$request_time $upstream_response_time';
    access_log /dev/stdout proxy;
    server_tokens off;
{temp}

    # Slow clients: bounded time to send headers and body, and to take the answer.
    client_header_timeout {CLIENT_HEADER_TIMEOUT_S}s;
    client_body_timeout {CLIENT_BODY_TIMEOUT_S}s;
    send_timeout {SEND_TIMEOUT_S}s;
    keepalive_timeout {KEEPALIVE_TIMEOUT_S}s;
    reset_timedout_connection on;

    # Large requests: the request line, the headers and the body (held in memory, whole,
    # before gunicorn sees a byte of it).
    client_header_buffer_size 1k;
    large_client_header_buffers 4 8k;
    client_max_body_size 1m;
    client_body_buffer_size 1m;

    # Connections to gunicorn are reused, and closed by nginx first ({UPSTREAM_IDLE_S} s,
    # below gunicorn's keepalive): a request sent on a connection gunicorn has just closed
    # would answer 502 (nginx does not retry a POST). As many as gunicorn has threads, so
    # that at full load no request pays for a new connection.
    upstream gateway {{
        server unix:{socket};
        keepalive {upstream_connections};
        keepalive_timeout {UPSTREAM_IDLE_S}s;
    }}

    server {{
        listen {HOST}:{port};

        location / {{
            proxy_pass http://gateway;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # Set here, never taken from the client.
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Ssl "";
            proxy_set_header X-Forwarded-Protocol "";
            proxy_request_buffering on;
            proxy_buffering on;
            proxy_max_temp_file_size 0;
            proxy_connect_timeout 5s;
            proxy_send_timeout 30s;
            proxy_read_timeout {UPSTREAM_READ_TIMEOUT_S}s;
        }}

{_error_pages()}
    }}
}}
"""


def ensure(layout: Layout, domain: str, gateway_folder: Path, port: int,
           upstream_connections: int) -> str | None:
    """Write the configuration and keep nginx running with it (restarted when it changed)."""
    home = gateway_folder / "proxy"
    for folder in (home, home / "temp"):
        folder.mkdir(mode=0o700, exist_ok=True)
    config = home / "nginx.conf"
    text = render(gateway_folder, port, upstream_connections)
    config.write_text(text)
    config.chmod(0o600)
    argv = [str(NGINX), "-p", str(home), "-c", str(config), "-e", "stderr"]
    # nginx reads its configuration only at start: its hash in the fingerprint makes `up`
    # restart it when the configuration changed.
    own_env = {"CARBONLEASE_PROXY_CONFIG": hashlib.sha256(text.encode()).hexdigest()[:12]}
    return processes.ensure(layout, name(domain), argv, own_env, {"listen": port})
