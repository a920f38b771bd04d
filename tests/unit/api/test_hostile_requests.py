"""Hostile bodies, queries and methods (issue 12): a 4xx in the error shape, never a 5xx, and
nothing reaches Fabric."""

import io
import json

import pytest

from gateway.api import request_body

from .samples import PROJECT, TERMS
from .test_errors import assert_error_shape

DEEP_LIST = "[" * 975 + "]" * 975
JSON = {"Content-Type": "application/json"}
PREVIEW = {"terms": TERMS, "emissions": [None, 100, 0, None]}


def post(client, as_role, path, data, **headers):
    return client.post(path, data=data, headers=as_role("admin", **JSON, **headers))


def nested(depth: int) -> str:
    return '{"a":' * (depth - 1) + "[]" + "}" * (depth - 1)


@pytest.mark.parametrize("body", [
    DEEP_LIST,
    '{"terms": ' + DEEP_LIST + "}",
    nested(request_body.MAX_DEPTH + 1),
    "[" * 100_000,  # unterminated as well
], ids=["list-975", "in-a-field", "one-too-deep", "unterminated-100k"])
@pytest.mark.parametrize("path,key", [
    ("/api/v1/leases/preview", None),
    ("/api/v1/projects", None),
    ("/api/v1/projects", "deep-1"),  # the Idempotency-Key fingerprint decodes the body first
])
def test_deep_nesting_is_400(client, network, as_role, body, path, key):
    extra = {"Idempotency-Key": key} if key else {}
    error = assert_error_shape(post(client, as_role, path, body, **extra), 400, "BAD_REQUEST")
    assert "json" in error["details"]
    assert network.calls == []


def test_nesting_up_to_the_bound_is_decoded():
    assert request_body.decode(nested(request_body.MAX_DEPTH).encode())["a"]["a"]


@pytest.mark.parametrize("number", ["9" * 5000, "-" + "9" * 5000, "1" * 65, "1." + "5" * 64])
def test_huge_number_literals_are_400(client, network, as_role, number):
    body = json.dumps(PROJECT)[:-1] + f', "expected_annual_reduction_kg": {number}}}'
    body = body.replace('"expected_annual_reduction_kg": 400000, ', "")
    for key in (None, "huge-1"):
        extra = {"Idempotency-Key": key} if key else {}
        error = assert_error_shape(post(client, as_role, "/api/v1/projects", body, **extra),
                                   400, "BAD_REQUEST")
        assert "number" in error["message"]
    assert network.calls == []


@pytest.mark.parametrize("text", ["1" * 200, "-1e+" + "9" * 80])
def test_long_digit_runs_in_strings_are_text_not_numbers(text):
    # Such a body takes the path that checks each number literal; the string is no number.
    assert request_body.decode(json.dumps({"name": text, "n": 12, "x": 1.5}).encode()) == \
        {"name": text, "n": 12, "x": 1.5}


@pytest.mark.parametrize("value", [10**20, -(10**30), 2**53])
def test_integers_beyond_a_fields_range_are_422(client, network, as_role, value):
    response = client.post("/api/v1/projects", json={**PROJECT,
                                                     "expected_annual_reduction_kg": value},
                           headers=as_role("writer"))
    error = assert_error_shape(response, 422, "INVALID_ARGUMENT")
    assert "expected_annual_reduction_kg" in error["details"]["json"]
    assert network.calls == []


@pytest.mark.parametrize("body", [
    '{"project_id": "p-1", "project_id": "p-2"}',
    json.dumps(PROJECT)[:-1] + ', "name": "Other name"}',
    '{"terms": {"cap_bps": 1, "cap_bps": 2}, "emissions": []}',
])
def test_duplicate_keys_are_400(client, network, as_role, body):
    for path in ("/api/v1/projects", "/api/v1/leases/preview"):
        error = assert_error_shape(post(client, as_role, path, body), 400, "BAD_REQUEST")
        assert "Duplicate key" in error["message"]
    assert network.calls == []


@pytest.mark.parametrize("body", [b'{"a": NaN}', b'[Infinity]', b'[-Infinity]',
                                  b'{"name": "\xff"}', b"\xef\xbb\xbf{}", "{}".encode("utf-16")])
def test_non_json_constants_and_encodings_are_400(client, network, as_role, body):
    assert_error_shape(post(client, as_role, "/api/v1/leases/preview", body), 400,
                       "BAD_REQUEST")
    assert network.calls == []


def chunked(client, as_role, body: bytes):
    """A request without Content-Length whose stream the server marks terminated, as gunicorn
    does for Transfer-Encoding: chunked."""
    return client.post("/api/v1/leases/preview",
                       headers=as_role("reader", **JSON, **{"Transfer-Encoding": "chunked"}),
                       input_stream=io.BytesIO(body),
                       environ_overrides={"wsgi.input_terminated": True})


def test_chunked_body_over_the_limit_is_413_not_truncated(client, network, as_role):
    body = json.dumps({**PREVIEW, "padding": "x" * (1024 * 1024)}).encode()
    assert_error_shape(chunked(client, as_role, body), 413, "PAYLOAD_TOO_LARGE")
    assert network.calls == []


def test_chunked_body_under_the_limit_is_read_whole(client, network, as_role):
    network.on("lease", "PreviewSchedule", lambda args: [])
    response = chunked(client, as_role, json.dumps(PREVIEW).encode())
    assert response.status_code == 200, response.get_json()
    assert len(network.calls) == 1


@pytest.mark.parametrize("page_size", ["1_0", "１０", "٣", " 10", "+10", "10 ", "0x10",
                                       "1" * 5000])
def test_query_integers_are_ascii_digits_only(client, network, as_role, page_size):
    for path in ("/api/v1/projects", "/api/v1/read/projects"):
        response = client.get(path, query_string={"page_size": page_size},
                              headers=as_role("reader"))
        error = assert_error_shape(response, 422, "INVALID_ARGUMENT")
        assert "page_size" in error["details"]["query"]
    assert network.calls == []


def test_invented_methods_and_paths_add_no_metric_series(client, as_role):
    for i in range(5):
        client.open(f"/invented-{i}", method=f"PROBEA{i}")
        client.open("/api/v1/projects", method=f"PROBEB{i}", headers=as_role("reader"))
    text = client.get("/metrics").get_data(as_text=True)
    assert "PROBE" not in text and "invented" not in text
    assert 'method="other",route="<unmatched>",status="404"} 5.0' in text
    assert 'method="other",route="<unmatched>",status="405"} 5.0' in text


def test_a_query_parameter_given_twice_is_422(client, network, as_role):
    for path in ("/api/v1/projects", "/api/v1/read/projects"):
        response = client.get(f"{path}?page_size=10&page_size=20", headers=as_role("reader"))
        error = assert_error_shape(response, 422, "INVALID_ARGUMENT")
        assert error["details"]["query"] == {"page_size": ["Given more than once."]}
    assert network.calls == []
