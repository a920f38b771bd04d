import pytest

from gateway.api import create_app
from gateway.api.config import Config, FabricSettings
from tests.database import upgraded

from .fakes import FakeNetwork

# Short, so that a write whose transaction never commits ends its test quickly.
WRITE_DEADLINE_S = 1.0
RESUBMIT_AFTER_S = 0.1

SETTINGS = FabricSettings(
    msp_id="LessorMSP", peer_endpoint="localhost:7051", peer_tls_ca="/nonexistent/ca.pem",
    peer_host_override=None, cert=None, key=None, msp_dir=None, tls_cert=None, tls_key=None,
    channel="carbonlease", emission_chaincode="emission", lease_chaincode="lease")


@pytest.fixture
def network():
    return FakeNetwork()


@pytest.fixture
def app(tmp_path, network):
    config = Config(fabric=SETTINGS, database_url=upgraded(f"sqlite:///{tmp_path}/gateway.db"),
                    mvcc_retries=3, retry_backoff_ms=1,
                    write_deadline_s=WRITE_DEADLINE_S, resubmit_after_s=RESUBMIT_AFTER_S)
    return create_app(config, connect=lambda settings: network)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def keys(app):
    """One API key per role."""
    store = app.extensions["carbonlease"].credentials
    return {role: store.create(f"app-{role}", role).key for role in ("reader", "writer", "admin")}


@pytest.fixture
def as_role(keys):
    def headers(role, **extra):
        return {"Authorization": f"Bearer {keys[role]}", **extra}
    return headers
