"""Authentication by API key, authorization by role, before anything reaches Fabric."""

import pytest

from .samples import TERMS, WRITES


def test_no_key_is_401_in_the_error_shape(client, network):
    response = client.get("/api/v1/projects")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "UNAUTHENTICATED"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert network.calls == []


@pytest.mark.parametrize("header", [
    {"Authorization": "Bearer cl_0123456789abcdef_" + "A" * 43},
    {"Authorization": "Bearer nonsense"},
    {"X-API-Key": "cl_short"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
])
def test_unknown_key_is_401(client, network, header):
    assert client.get("/api/v1/projects", headers=header).status_code == 401
    assert network.calls == []


def test_key_with_wrong_secret_is_401(client, keys):
    forged = keys["admin"][:-4] + ("AAAA" if not keys["admin"].endswith("AAAA") else "BBBB")
    assert client.get("/api/v1/projects", headers={"X-API-Key": forged}).status_code == 401


def test_bearer_and_x_api_key_both_work(client, keys):
    assert client.get("/api/v1/projects",
                      headers={"Authorization": f"Bearer {keys['reader']}"}).status_code == 200
    assert client.get("/api/v1/projects", headers={"X-API-Key": keys["reader"]}).status_code == 200


def test_revoked_key_is_401(app, client, keys):
    store = app.extensions["carbonlease"].credentials
    assert store.revoke("app-reader")
    assert client.get("/api/v1/projects", headers={"X-API-Key": keys["reader"]}).status_code == 401
    assert not store.revoke("app-reader")


def test_only_the_hash_is_stored(app, keys):
    rows = app.extensions["carbonlease"].credentials.list()
    assert {row["name"] for row in rows} == {"app-reader", "app-writer", "app-admin"}
    import sqlalchemy as sa
    from gateway.api import db
    engine = sa.create_engine(app.extensions["carbonlease"].credentials._engine.url)
    with engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(sa.select(db.credentials)) for v in row)
    assert all(key not in stored for key in keys.values())


@pytest.mark.parametrize("method,path,body", [(w[0], w[1], w[2]) for w in WRITES],
                         ids=[w[5] for w in WRITES])
def test_reader_cannot_write(client, network, as_role, method, path, body):
    response = client.open(path, method=method, json=body, headers=as_role("reader"))
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "FORBIDDEN" and error["details"]["required_role"] == "writer"
    assert network.calls == []


def test_role_is_checked_before_the_body(client, as_role):
    response = client.post("/api/v1/leases", json={"junk": 1}, headers=as_role("reader"))
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["writer", "admin"])
def test_writer_and_admin_can_write(client, as_role, role):
    response = client.post("/api/v1/leases/l-1/activate", headers=as_role(role))
    assert response.status_code == 200


def test_reader_can_preview(client, as_role):
    response = client.post("/api/v1/leases/preview", headers=as_role("reader"),
                           json={"terms": TERMS, "emissions": [None] * 4})
    assert response.status_code == 200


def test_docs_and_operations_need_no_key(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/health").get_json() == {"status": "ok"}
    assert client.get("/metrics").status_code == 200
