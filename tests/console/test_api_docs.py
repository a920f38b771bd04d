"""The interactive API docs at /api/v1/docs in a real browser, under the page's own Content
Security Policy: Swagger UI (served by the app from npm's swagger-ui-dist, as scripts/up
configures it) loads, draws every operation from the OpenAPI document and calls the API, with
nothing refused (``new_page`` fails the test on any script error or CSP refusal)."""

import pathlib
import threading

import pytest
from werkzeug.serving import make_server

from gateway.api import create_app
from gateway.api.config import Config
from tests.database import upgraded

from .world import settings

SWAGGER_UI = (pathlib.Path(__file__).resolve().parents[2] / "gateway" / "static" / "node_modules"
              / "swagger-ui-dist")


@pytest.fixture
def gateway_url(tmp_path):
    app = create_app(Config(fabric=settings("LessorMSP"), database_url=upgraded(f"sqlite:///{tmp_path}/g.db"),
                            swagger_ui_dir=str(SWAGGER_UI)))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_swagger_ui_runs_under_its_policy_and_calls_the_api(new_page, gateway_url):
    page = new_page()
    refused = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and refused.append(message.text))
    page.goto(f"{gateway_url}/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/projects/{project_id}" in p.replace("\u200b", "") for p in paths), paths
    # "Try it out" on the read status: the browser calls the API itself (connect-src 'self').
    status = page.locator(".opblock", has_text="/api/v1/read/status").first
    status.locator(".opblock-summary").click()
    status.locator("button.try-out__btn").click()
    status.locator("button.execute").click()
    answered = status.locator(".live-responses-table tbody .response-col_status").first
    answered.wait_for()
    assert answered.inner_text().strip() == "401"  # no key entered: the API itself answered
    # The schemas too: a model drawn in full.
    page.locator(".model-container .model-box-control").first.click()
    page.locator(".model-container .model-box .model .property-row").first.wait_for()
    assert refused == []
