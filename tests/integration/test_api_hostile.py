"""Hostile clients against the gateways the network tool runs (nginx in front of gunicorn), on
the test consortium (issue 12): idle connections, malformed and oversized requests, invented
methods. Every answer is a 4xx in the error shape, and the gateway keeps answering."""

from __future__ import annotations

import json
import socket
import stat
from urllib.parse import urlsplit

import pytest
import requests

from .test_api import TERMS

IDLE_CONNECTIONS = 300


@pytest.fixture(scope="module")
def lessor(consortium) -> tuple[str, dict]:
    """The tool-started Lessor gateway's URL and its dev credential as headers."""
    entry = next(g for g in consortium["gateways"] if g["msp_id"] == "LessorMSP")
    with open(entry["dev_credential_file"]) as f:
        return entry["url"], {"Authorization": f"Bearer {f.read().strip()}"}


def assert_error(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == code
    return error


def test_idle_connections_leave_the_gateway_answering(lessor):
    url, auth = lessor
    host, port = urlsplit(url).hostname, urlsplit(url).port
    idle = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(b"GET /health HT")  # a partial request line, then nothing
            idle.append(s)
        for _ in range(5):
            health = requests.get(url + "/health", timeout=5)
            assert health.json() == {"status": "ok"}
            page = requests.get(url + "/api/v1/projects?page_size=1", headers=auth, timeout=5)
            assert page.status_code == 200, page.text
            # The figure for the record (benchmarks own speed; nothing here asserts it).
            print(f"with {IDLE_CONNECTIONS} idle connections: /health "
                  f"{health.elapsed.total_seconds() * 1000:.1f} ms, a page of projects "
                  f"{page.elapsed.total_seconds() * 1000:.1f} ms")
    finally:
        for s in idle:
            s.close()


DEEP = "[" * 975 + "]" * 975
PREVIEW = json.dumps({"terms": TERMS, "emissions": [None] * TERMS["term_periods"]})


@pytest.mark.parametrize("path,body,extra", [
    ("/api/v1/leases/preview", DEEP, {}),
    ("/api/v1/projects", DEEP, {"Idempotency-Key": "deep-body"}),
    ("/api/v1/leases/preview", PREVIEW[:-1] + ', "emissions": []}', {}),  # duplicate key
    ("/api/v1/projects", '{"project_id": "p", "expected_annual_reduction_kg": ' + "9" * 5000
     + "}", {"Idempotency-Key": "huge-number"}),
], ids=["deep", "deep-idempotent", "duplicate-key", "5000-digits"])
def test_hostile_bodies_are_400(lessor, path, body, extra):
    url, auth = lessor
    response = requests.post(url + path, data=body, timeout=30,
                             headers={**auth, **extra, "Content-Type": "application/json"})
    assert_error(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize("page_size", ["1_0", "１０", " 10"])
def test_query_integers_are_ascii_digits(lessor, page_size):
    url, auth = lessor
    response = requests.get(url + "/api/v1/projects", params={"page_size": page_size},
                            headers=auth, timeout=30)
    assert "page_size" in assert_error(response, 422, "INVALID_ARGUMENT")["details"]["query"]


def test_a_chunked_body_over_1_mib_is_413(lessor):
    url, auth = lessor

    def chunks():  # a generator body: requests sends it chunked, without Content-Length
        yield PREVIEW[:-1].encode() + b', "padding": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    response = requests.post(url + "/api/v1/leases/preview", data=chunks(), timeout=30,
                             headers={**auth, "Content-Type": "application/json"})
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    small = requests.post(url + "/api/v1/leases/preview", data=iter([PREVIEW.encode()]),
                          headers={**auth, "Content-Type": "application/json"}, timeout=30)
    assert small.status_code == 200, small.text


@pytest.mark.parametrize("headers,status,code", [
    ({"X-Big": "b" * 9000}, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE"),
    ({"X-Odd": "a\x01b"}, 400, "BAD_REQUEST"),  # passed by nginx, refused by gunicorn
], ids=["header-too-large", "control-character"])
def test_what_the_http_servers_refuse_is_in_the_error_shape(lessor, headers, status, code):
    url, _ = lessor
    assert_error(requests.get(url + "/health", headers=headers, timeout=10), status, code)
    assert_error(requests.get(url + "/" + "a" * 9000, timeout=10), 414, "URI_TOO_LONG")


def test_invented_methods_add_no_metric_series(lessor):
    url, _ = lessor
    for i in range(3):
        requests.request(f"PROBEA{chr(65 + i)}", url + f"/invented-{i}", timeout=10)
        requests.request(f"PROBEB{chr(65 + i)}", url + "/api/v1/projects", timeout=10)
    metrics = requests.get(url + "/metrics", timeout=10).text
    assert "PROBE" not in metrics and "invented" not in metrics
    assert 'method="other"' in metrics


def test_nothing_in_the_run_folder_is_open_to_group_or_others(test_network, consortium):
    exposed = []
    for path in [test_network.home, *test_network.home.rglob("*")]:
        mode = path.lstat().st_mode
        if mode & 0o077 and not stat.S_ISLNK(mode):
            exposed.append(f"{stat.filemode(mode)} {path}")
    assert exposed == []


def test_stalled_clients_are_cut_off(lessor):
    """Clients that send one byte and stall do not hold a gateway thread: others are answered
    meanwhile, and nginx closes the stalled connections (client_header_timeout) before this
    test's own socket timeout would end the wait."""
    url, _ = lessor
    host, port = urlsplit(url).hostname, urlsplit(url).port
    stalled = [socket.create_connection((host, port), timeout=30) for _ in range(32)]
    try:
        for s in stalled:
            s.sendall(b"G")
        assert requests.get(url + "/health", timeout=5).status_code == 200
        for s in stalled:
            try:
                assert s.recv(1024) == b""
            except ConnectionResetError:
                pass
    finally:
        for s in stalled:
            s.close()


def test_status_shows_each_gateway_with_its_proxy(consortium):
    for entry in consortium["gateways"]:
        domain = entry["name"].removeprefix("gateway.")
        assert entry["processes"] == {entry["name"]: True, f"gateway-proxy.{domain}": True}
        assert entry["healthy"]
