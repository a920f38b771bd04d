"""Bounded property-based fuzzing of a live gateway from its own OpenAPI document (schemathesis):
no 5xx, and every answer has a documented status, content type and body shape.

The Lessor gateway is fuzzed with an admin key, so generated writes really reach the
chaincodes (most are refused there, some commit). Hypothesis drives schemathesis' strategies
directly, since schemathesis' pytest fixture integration does not run under pytest 9.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, negative_data_rejection, response_schema_conformance,
    status_code_conformance)

from gateway.api import create_app
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
