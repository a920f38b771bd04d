"""The OpenAPI document: valid OpenAPI 3.0, complete, and true to what the gateway answers
(a bounded schemathesis run against the app with a fake Fabric that refuses everything the
way a chaincode would)."""

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, negative_data_rejection, response_schema_conformance,
    status_code_conformance)
from schemathesis.specs.openapi.definitions import OPENAPI_30

from .fakes import chaincode_error

ROUTES = {
    ("post", "/api/v1/emission-factors"), ("get", "/api/v1/emission-factors/{region}/{year}"),
    ("post", "/api/v1/meter-readings"), ("get", "/api/v1/meter-readings/{reading_id}"),
    ("post", "/api/v1/emission-reports"), ("get", "/api/v1/emission-reports/{report_id}"),
    ("post", "/api/v1/emission-reports/{report_id}/verify"),
    ("post", "/api/v1/emission-reports/{report_id}/reject"),
    ("get", "/api/v1/lessees/{lessee_id}/emission-reports"),
    ("post", "/api/v1/projects"), ("get", "/api/v1/projects"),
    ("get", "/api/v1/projects/{project_id}"), ("post", "/api/v1/projects/{project_id}/interest"),
    ("get", "/api/v1/projects/{project_id}/interests"),
    ("post", "/api/v1/leases"), ("post", "/api/v1/leases/preview"),
    ("get", "/api/v1/leases/{lease_id}"), ("post", "/api/v1/leases/{lease_id}/activate"),
    ("post", "/api/v1/leases/{lease_id}/terminate"), ("get", "/api/v1/leases/{lease_id}/schedule"),
    ("post", "/api/v1/leases/{lease_id}/fix-rate"), ("post", "/api/v1/leases/{lease_id}/payments"),
    ("get", "/api/v1/leases/{lease_id}/history"),
    ("post", "/api/v1/leases/{lease_id}/purge-private-data"),
    ("get", "/api/v1/transactions/{transaction_id}"),
    ("get", "/api/v1/read/projects"), ("get", "/api/v1/read/emission-reports"),
    ("get", "/api/v1/read/leases"), ("get", "/api/v1/read/status"),
    ("get", "/api/v1/read/dead-letters"),
}


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def test_document_is_valid_openapi_30(document):
    assert document["openapi"].startswith("3.0")
    jsonschema_rs.validator_for(OPENAPI_30).validate(document)


def test_every_route_is_documented(document):
    documented = {(method, path) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    assert documented == ROUTES


def test_writes_document_idempotency_and_the_committed_answer(document):
    operation = document["paths"]["/api/v1/leases"]["post"]
    assert any(p.get("name") == "Idempotency-Key" for p in operation["parameters"])
    answer = operation["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    committed = document["components"]["schemas"][answer.rsplit("/", 1)[1]]
    assert set(committed["required"]) == {"transaction_id", "block_number", "result"}


def test_errors_are_documented_in_the_gateway_shape(document):
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert "403" in document["paths"]["/api/v1/leases"]["post"]["responses"]


def test_security_schemes(document):
    assert set(document["components"]["securitySchemes"]) == {"bearer", "apiKey"}


def test_docs_page_points_at_the_document(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/openapi.json" in page and "swagger-ui-bundle.js" in page


def test_docs_assets_can_be_served_locally(tmp_path):
    from gateway.api import create_app
    from gateway.api.config import Config

    (tmp_path / "swagger-ui-bundle.js").write_text("// bundle")
    app = create_app(Config(fabric=None, database_url="sqlite://",
                            swagger_ui_dir=str(tmp_path)))
    client = app.test_client()
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in client.get("/api/v1/docs").get_data(
        as_text=True)
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").get_data() == b"// bundle"
    assert client.get("/api/v1/docs/assets/missing.js").status_code == 404


def test_docs_fall_back_to_the_cdn_without_local_assets(tmp_path):
    from gateway.api import create_app
    from gateway.api.config import DEFAULT_SWAGGER_UI_URL, Config

    app = create_app(Config(fabric=None, database_url="sqlite://",
                            swagger_ui_dir=str(tmp_path / "not-installed")))
    assert DEFAULT_SWAGGER_UI_URL in app.test_client().get("/api/v1/docs").get_data(as_text=True)


# --- bounded fuzzing ----------------------------------------------------------------------
# Hypothesis drives schemathesis' strategies directly: its pytest fixture integration does not
# work with pytest 9 (it reads a private node attribute).

FUZZ_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
               response_schema_conformance]


def refuse(code):
    def handler(args):
        raise chaincode_error(code, "refused by the fake chaincode")
    return handler


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("method,path", sorted(ROUTES))
def test_fuzzed_requests_get_documented_non_5xx_answers(app, network, keys, method, path, mode):
    # Like a chaincode facing random ids and values: nothing found, nothing valid.
    network.defaults = {"evaluate": refuse("NOT_FOUND"), "submit": refuse("INVALID_ARGUMENT")}
    calls = []
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method.upper()]
    checks = FUZZ_CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])
    auth = {"Authorization": f"Bearer {keys['admin']}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=15, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case):
        calls.append(case.call_and_validate(headers=auth, checks=checks).status_code)

    check()
    # The read model answers from the gateway's database, not from the refusing fake chaincode.
    lowest = 200 if path.startswith("/api/v1/read/") else 400
    assert len(calls) >= 5 and all(lowest <= status < 500 for status in calls)
