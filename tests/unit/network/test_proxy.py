"""nginx in front of a gateway's gunicorn, both real, started as `up` starts them (no Fabric:
the gateway answers what it can without a peer). Slow, large and malformed requests get a
bounded answer in the JSON error shape, and idle connections do not starve the gateway."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import urllib.error
import urllib.request

import pytest

from gateway.api.auth import CredentialStore
from gateway.api.db import make_engine
from gateway.api.headers import API_CONTENT_SECURITY_POLICY
from network import config, gateways, processes, proxy
from tests.database import upgraded

DOMAIN = "lessor.test.local"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((config.HOST, 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(layout, gateway folder, public port) with gunicorn and nginx running."""
    home = tmp_path_factory.mktemp("proxy")
    layout = config.Layout(home)
    folder = home / "gw"
    folder.mkdir(mode=0o700)
    port = free_port()
    env = {**gateways.serving_env(folder),
           "CARBONLEASE_DATABASE_URL": upgraded(f"sqlite:///{folder / 'gateway.db'}"),
           "PYTHONPATH": str(config.REPO_ROOT)}
    processes.ensure(layout, "gateway", gateways.GUNICORN, env, {}, cwd=config.REPO_ROOT)
    proxy.ensure(layout, DOMAIN, folder, port, gateways.serving().concurrency)
    try:
        processes.wait_for(lambda: status_of(port, "/health") == 200, "gateway via nginx", 30)
        yield layout, folder, port
    finally:
        for name in (proxy.name(DOMAIN), "gateway"):
            processes.stop(layout, name)


def status_of(port: int, path: str) -> int | None:
    try:
        with urllib.request.urlopen(f"http://{config.HOST}:{port}{path}", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def exchange(port: int, request: bytes) -> tuple[int, dict]:
    """Send raw bytes; the answer's status and JSON body."""
    status, _, body = exchange_with_headers(port, request)
    return status, body


def exchange_with_headers(port: int, request: bytes) -> tuple[int, dict, dict]:
    """Send raw bytes; the answer's status, headers (names in lower case) and JSON body."""
    with socket.create_connection((config.HOST, port), timeout=10) as s:
        s.sendall(request)
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except ConnectionResetError:
            # nginx resets a connection whose body it refused unread, after its answer.
            assert answer
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value
               for name, value in (line.split(": ", 1) for line in lines[1:])}
    assert headers["content-type"] == "application/json", answer[:300]
    if headers.get("transfer-encoding") == "chunked":
        size, _, rest = body.partition(b"\r\n")
        body = rest[:int(size, 16)]
    return int(lines[0].split()[1]), headers, json.loads(body)


def request(line: str, *headers: str, body: bytes = b"") -> bytes:
    head = "\r\n".join([line, "Host: gateway", "Connection: close", *headers])
    return head.encode("latin-1") + b"\r\n\r\n" + body


def assert_error(answer, status, code):
    got_status, body = answer
    assert got_status == status, body
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code


def test_the_rendered_configuration_is_valid_nginx(tmp_path):
    (tmp_path / "proxy" / "temp").mkdir(parents=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(proxy.render(tmp_path, 8801, 64))
    result = subprocess.run([str(proxy.NGINX), "-t", "-p", str(tmp_path / "proxy"), "-c",
                             str(conf), "-e", "stderr"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_idle_connections_do_not_starve_the_gateway(stack):
    _, _, port = stack
    idle = []
    try:
        # Issue 12: sixteen of these froze a gateway served by gunicorn alone.
        for _ in range(300):
            s = socket.create_connection((config.HOST, port), timeout=10)
            s.sendall(b"GET /health HT")
            idle.append(s)
        assert all(status_of(port, "/health") == 200 for _ in range(5))
    finally:
        for s in idle:
            s.close()


@pytest.mark.parametrize("raw,status,code", [
    (request("GET /" + "a" * 9000 + " HTTP/1.1"), 414, "URI_TOO_LONG"),
    (request("GET /health HTTP/1.1", "X-Big: " + "b" * 9000), 431,
     "REQUEST_HEADER_FIELDS_TOO_LARGE"),
    (request("GET /health HTTP/1.1", *(f"X-{i}: " + "c" * 4000 for i in range(10))), 431,
     "REQUEST_HEADER_FIELDS_TOO_LARGE"),
    (request("POST /api/v1/leases/preview HTTP/1.1", "Content-Type: application/json",
             f"Content-Length: {2 * 1024 * 1024}"), 413, "PAYLOAD_TOO_LARGE"),
    (request("GET /health HTTP/3.0"), 400, "BAD_REQUEST"),
    (request("PROBE1 /health HTTP/1.1"), 400, "BAD_REQUEST"),
    (request("GET /health HTTP/1.1", "Bad Header: 1"), 400, "BAD_REQUEST"),
    (request("POST /health HTTP/1.1", "Transfer-Encoding: gzip", body=b"x"), 400,
     "BAD_REQUEST"),
    (request("TRACE /health HTTP/1.1"), 405, "METHOD_NOT_ALLOWED"),
    (b"\x16\x03\x01\x00\x05hello\r\n\r\n", 400, "BAD_REQUEST"),
], ids=["long-line", "long-header", "many-headers", "large-body", "http-3.0", "bad-method",
        "bad-header-name", "unknown-transfer-encoding", "trace", "tls-hello"])
def test_what_nginx_refuses_is_in_the_error_shape(stack, raw, status, code):
    assert_error(exchange(stack[2], raw), status, code)


def test_a_chunked_body_over_the_limit_is_413(stack):
    chunk = b"x" * 65536
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 17 + b"0\r\n\r\n"
    raw = request("POST /api/v1/leases/preview HTTP/1.1", "Content-Type: application/json",
                  "Transfer-Encoding: chunked", body=body)
    assert_error(exchange(stack[2], raw), 413, "PAYLOAD_TOO_LARGE")


def test_what_gunicorn_refuses_is_in_the_error_shape(stack):
    # nginx passes a control character in a header value; gunicorn refuses it itself.
    raw = request("GET /health HTTP/1.1", "X-Odd: a\x01b")
    assert_error(exchange(stack[2], raw), 400, "BAD_REQUEST")


@pytest.mark.parametrize("raw", [
    request("GET /" + "a" * 9000 + " HTTP/1.1"),                # nginx: 414
    request("GET /health HTTP/1.1", "X-Big: " + "b" * 9000),    # nginx: 431
    request("GET /health HTTP/1.1", "X-Odd: a\x01b"),           # gunicorn: 400
], ids=["nginx-414", "nginx-431", "gunicorn-400"])
def test_errors_answered_before_the_app_carry_its_security_headers(stack, raw):
    _, headers, _ = exchange_with_headers(stack[2], raw)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == API_CONTENT_SECURITY_POLICY
    assert headers["cache-control"] == "no-store"


def test_a_forged_scheme_header_is_overridden_not_refused(stack):
    raw = request("GET /health HTTP/1.1", "X-Forwarded-Ssl: on", "X-Forwarded-Proto: https")
    assert exchange(stack[2], raw) == (200, {"status": "ok"})


def test_requests_within_the_bounds_reach_the_gateway(stack):
    _, folder, port = stack
    assert exchange(port, request("GET /" + "a" * 7000 + " HTTP/1.1"))[0] == 404
    key = CredentialStore(make_engine(f"sqlite:///{folder / 'gateway.db'}")).create(
        "proxy-test", "reader").key
    raw = request("POST /api/v1/leases/preview HTTP/1.1", "Content-Type: application/json",
                  f"Authorization: Bearer {key}", "Content-Length: 1950",
                  body=b"[" * 975 + b"]" * 975)
    assert_error(exchange(port, raw), 400, "BAD_REQUEST")
    for path in ("/ready", "/metrics"):
        assert status_of(port, path) in (200, 503)


def test_the_gateway_folder_stays_private(stack):
    _, folder, _ = stack
    for path in [folder, *folder.rglob("*")]:
        mode = path.lstat().st_mode
        assert not mode & 0o077, f"{path} is {stat.filemode(mode)}"


def test_the_proxy_is_restarted_when_its_configuration_changes(stack, monkeypatch):
    layout, folder, port = stack
    connections = gateways.serving().concurrency
    assert proxy.ensure(layout, DOMAIN, folder, port, connections) is None
    monkeypatch.setattr(proxy, "SEND_TIMEOUT_S", proxy.SEND_TIMEOUT_S + 1)
    assert proxy.ensure(layout, DOMAIN, folder, port, connections) == "restarted"
    processes.wait_for(lambda: status_of(port, "/health") == 200, "restarted nginx", 30)
    assert os.path.exists(folder / "proxy" / "nginx.pid")


def test_a_gateway_that_does_not_answer_is_502_in_the_error_shape(tmp_path):
    layout, folder, port = config.Layout(tmp_path), tmp_path / "gw", free_port()
    folder.mkdir(mode=0o700)
    proxy.ensure(layout, "absent.test.local", folder, port, 1)  # no gunicorn behind it
    try:
        processes.wait_for(lambda: processes.tcp_open(port), "nginx", 30)
        assert_error(exchange(port, request("GET /health HTTP/1.1")), 502,
                     "GATEWAY_UNREACHABLE")
    finally:
        processes.stop(layout, proxy.name("absent.test.local"))


def health_answered(port: int) -> float:
    """How many GET /health answered 200 the gateway's /metrics counts, over all workers."""
    with urllib.request.urlopen(f"http://{config.HOST}:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("carbonlease_http_requests_total{")
               and 'route="/health"' in line and 'status="200"' in line)


def test_metrics_count_the_requests_of_every_worker(stack):
    layout, _, port = stack
    master = processes.running_pid(layout, "gateway")
    workers = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    assert len(workers.stdout.split()) == gateways.serving().workers > 1
    before = health_answered(port)
    # New connections each, so that nginx's reused upstream connections reach both workers.
    for _ in range(40):
        assert status_of(port, "/health") == 200
    # Whichever worker answers the scrape, it reports all 40 (one process would see its own).
    for _ in range(6):
        assert health_answered(port) == before + 40
