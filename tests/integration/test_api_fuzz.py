"""Bounded property-based fuzzing of a live gateway from its own OpenAPI document (schemathesis):
no 5xx, and every answer has a documented status, content type and body shape; and the same
with bodies poisoned by deep nesting and huge numbers (custom strategies): 4xx, never 5xx.

The Lessor gateway is fuzzed with an admin key, so generated writes really reach the
chaincodes (most are refused there, some commit). Hypothesis drives schemathesis' strategies
directly, since schemathesis' pytest fixture integration does not run under pytest 9.
"""

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, negative_data_rejection, response_schema_conformance,
    status_code_conformance)

from gateway.api import create_app, request_body
from gateway.api.config import Config

from .test_api import start_gateways

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES_PER_OPERATION = 12


@pytest.fixture(scope="module")
def lessor(consortium, tmp_path_factory):
    running, stop = start_gateways(consortium, tmp_path_factory)
    yield running["LessorMSP"]
    stop()


@pytest.fixture(scope="module")
def api(lessor):
    return schemathesis.openapi.from_url(lessor.url + "/api/v1/openapi.json")


def operations():
    """Every documented operation, read from an app with no Fabric (collection needs none)."""
    app = create_app(Config(fabric=None, database_url="sqlite://"))
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    return sorted((method, path) for path, item in document["paths"].items()
                  for method in item if method != "parameters")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("method,path", operations())
def test_fuzzed_requests(api, lessor, method, path, mode):
    operation = api[path][method.upper()]
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])
    auth = {"Authorization": f"Bearer {lessor.keys['admin']}"}
    statuses = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              derandomize=True, suppress_health_check=list(HealthCheck))
    def check(case):
        statuses.append(case.call_and_validate(base_url=lessor.url, headers=auth,
                                               checks=checks).status_code)

    check()
    assert statuses and max(statuses) < 500


# --- hostile bodies: schemathesis' valid bodies with a poisoned part ------------------------

# What a JSON parser or Python's int conversion chokes on: nesting past the decoder's bound (up
# to Python's recursion limit and beyond) and number literals past any field's range, up to
# past Python's int-string limit (4300 digits).
_DEPTHS = st.integers(request_body.MAX_DEPTH + 1, 5000)
POISONS = st.one_of(
    _DEPTHS.map(lambda n: "[" * n + "]" * n),
    _DEPTHS.map(lambda n: '{"a":' * n + "0" + "}" * n),
    st.integers(2**53, 10**60).map(str),
    st.integers(17, 6000).map(lambda n: "-" + "9" * n),
    st.integers(17, 6000).map(lambda n: "1" + "0" * n + ".5e" + "9" * 4),
)
_SLOT = '"\\u0000poison"'


def with_body_operations():
    app = create_app(Config(fabric=None, database_url="sqlite://"))
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    return sorted((method, path) for path, item in document["paths"].items()
                  for method, spec in item.items() if "requestBody" in spec)


@pytest.mark.parametrize("method,path", with_body_operations())
def test_poisoned_bodies_are_4xx(api, lessor, method, path):
    """A valid body (generated from the API's schema) with one field, or the whole body,
    replaced by a poison, sent with and without an Idempotency-Key: a 4xx in the error shape,
    never a 5xx."""
    operation = api[path][method.upper()]
    auth = {"Authorization": f"Bearer {lessor.keys['admin']}"}
    statuses = []

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
           poison=POISONS, where=st.integers(min_value=-1), idempotent=st.booleans())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              derandomize=True, suppress_health_check=list(HealthCheck))
    def check(case, poison, where, idempotent):
        body = dict(case.body) if isinstance(case.body, dict) else {}
        if body and where >= 0:
            body[sorted(body)[where % len(body)]] = "\x00poison"
            raw = json.dumps(body).replace(_SLOT, poison)
        else:
            raw = poison
        headers = {**auth, "Content-Type": "application/json"}
        if idempotent:
            headers["Idempotency-Key"] = f"poison-{len(statuses)}-{where}"
        response = requests.request(method.upper(), lessor.url + case.formatted_path,
                                    data=raw.encode(), headers=headers, timeout=60)
        statuses.append(response.status_code)
        assert 400 <= response.status_code < 500, response.text[:500]
        assert set(response.json()["error"]) == {"code", "message", "details"}

    check()
    assert statuses
