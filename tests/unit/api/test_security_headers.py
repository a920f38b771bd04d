"""Security headers: the JSON API may not be run, framed or sniffed, an answer to a credential
is cached nowhere; the Swagger UI page runs only Swagger UI and its own inline script; the
console keeps its stricter policy."""

import base64
import hashlib
import re

import pytest

from gateway.api import create_app
from gateway.api.config import DEFAULT_SWAGGER_UI_URL, Config
from gateway.api.headers import API_CONTENT_SECURITY_POLICY
from gateway.console import CONTENT_SECURITY_POLICY as CONSOLE_POLICY
from tests.database import upgraded

from .conftest import SETTINGS


def assert_not_runnable(response):
    assert response.headers["Content-Security-Policy"] == API_CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_authenticated_answer_is_stored_by_no_cache(client, network, as_role):
    network.on("lease", "GetProject", lambda args: {"project_id": args[0]})
    response = client.get("/api/v1/projects/p-1", headers=as_role("reader"))
    assert response.status_code == 200 and response.is_json
    assert_not_runnable(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("request_kwargs,status", [
    ({}, 401),
    ({"headers": {"Authorization": "Bearer cl_0000000000000000_" + "x" * 43}}, 401),
])
def test_a_refusal_of_a_credential_is_not_cached_either(client, request_kwargs, status):
    response = client.get("/api/v1/projects/p-1", **request_kwargs)
    assert response.status_code == status
    assert_not_runnable(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/health", "/metrics", "/api/v1/openapi.json", "/no/such/route"])
def test_answers_without_a_credential_are_not_runnable_and_may_be_cached(client, path):
    response = client.get(path)
    assert_not_runnable(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_console_pages_keep_their_own_policy(client):
    response = client.get("/console/projects")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONSOLE_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (d.split() for d in policy.split("; "))}


def _inline_script_hashes(page: bytes) -> list[str]:
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
            for body in re.findall(rb"<script>(.*?)</script>", page, re.S)]


@pytest.mark.parametrize("local_assets", [True, False], ids=["local assets", "swagger UI URL"])
def test_the_docs_page_runs_swagger_ui_and_its_own_inline_script_only(tmp_path, local_assets):
    folder = tmp_path / "swagger-ui"
    if local_assets:
        folder.mkdir()
        (folder / "swagger-ui-bundle.js").write_text("// bundle")
    app = create_app(Config(fabric=SETTINGS, database_url=upgraded(f"sqlite:///{tmp_path}/g.db"),
                            swagger_ui_dir=str(folder)))
    response = app.test_client().get("/api/v1/docs")
    assert response.status_code == 200
    policy = _directives(response.headers["Content-Security-Policy"])
    assets = "'self'" if local_assets else "https://cdn.jsdelivr.net"
    assert DEFAULT_SWAGGER_UI_URL.startswith("https://cdn.jsdelivr.net/")
    inline = _inline_script_hashes(response.get_data())
    assert len(inline) == 1
    assert policy["script-src"] == [assets, *inline]
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"] and policy["style-src"] == [assets]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")
