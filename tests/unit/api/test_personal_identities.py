"""API keys bound to a person's own Fabric identity: the gateway signs their calls as them."""

import sqlalchemy as sa
from click.testing import CliRunner

from gateway.api import db, schema
from gateway.api.manage import cli
from tests.database import upgraded

from .fakes import LOST, ORG_IDENTITY, certificate


def _identity_dir(tmp_path, name="alice"):
    cert, key = certificate(name)
    folder = tmp_path / "identities" / name
    folder.mkdir(parents=True)
    (folder / "cert.pem").write_bytes(cert)
    (folder / "key.pem").write_bytes(key)
    return folder, cert


def test_a_persons_key_signs_as_the_person_and_others_as_the_org(app, client, network, as_role,
                                                                  tmp_path):
    folder, cert = _identity_dir(tmp_path)
    store = app.extensions["carbonlease"].credentials
    alice = store.create("alice", "writer", str(folder)).key
    network.on("lease", "ActivateLease", lambda args: {})
    written = client.post("/api/v1/leases/l-1/activate",
                          headers={"Authorization": f"Bearer {alice}"}).get_json()
    by_org = client.post("/api/v1/leases/l-2/activate", headers=as_role("writer")).get_json()
    alice_call, org_call = network.submits()
    assert alice_call.signer.credentials == cert and alice_call.signer.msp_id == "LessorMSP"
    assert org_call.signer == ORG_IDENTITY
    status = client.get(f"/api/v1/transactions/{written['transaction_id']}",
                        headers=as_role("reader")).get_json()
    assert status["creator"] == {"msp_id": "LessorMSP", "subject": "CN=alice"}
    status = client.get(f"/api/v1/transactions/{by_org['transaction_id']}",
                        headers=as_role("reader")).get_json()
    assert status["creator"]["subject"] == "CN=User1@lessor.carbonlease.local"


def test_a_persons_unknown_write_is_settled_later_as_that_person(app, client, network, tmp_path):
    """The retry with the key sends the person's recorded transaction again: same envelope,
    the person stays its creator, nothing endorsed afresh by the org."""
    folder, cert = _identity_dir(tmp_path)
    alice = app.extensions["carbonlease"].credentials.create("alice", "writer", str(folder)).key
    network.on("lease", "ActivateLease", lambda args: {})
    headers = {"Authorization": f"Bearer {alice}", "Idempotency-Key": "k1"}
    network.broadcasts = [LOST] * 1000
    first = client.post("/api/v1/leases/l-1/activate", headers=headers)
    assert first.status_code == 504
    tx_id = first.get_json()["error"]["details"]["transaction_id"]
    network.broadcasts = []
    retry = client.post("/api/v1/leases/l-1/activate", headers=headers)
    assert retry.status_code == 200 and retry.get_json()["transaction_id"] == tx_id
    [call] = network.submits()
    assert call.signer.credentials == cert
    assert len(set(network.envelopes)) == 1
    assert network.creators[tx_id].credentials == cert


def test_a_persons_reads_are_signed_as_the_person_too(app, client, network, tmp_path):
    folder, cert = _identity_dir(tmp_path)
    key = app.extensions["carbonlease"].credentials.create("alice", "reader", str(folder)).key
    assert client.get("/api/v1/projects/p-1", headers={"X-API-Key": key}).status_code == 200
    [call] = network.calls
    assert call.kind == "evaluate" and call.signer.credentials == cert


def test_an_identity_that_cannot_be_loaded_is_503_not_a_crash(app, client, network, tmp_path):
    folder, _ = _identity_dir(tmp_path)
    key = app.extensions["carbonlease"].credentials.create("alice", "writer", str(folder)).key
    (folder / "key.pem").write_text("not a key")
    response = client.post("/api/v1/leases/l-1/activate", headers={"X-API-Key": key})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "IDENTITY_UNAVAILABLE"
    assert network.calls == []


def test_manage_binds_a_key_to_an_identity_folder(tmp_path):
    url = upgraded(f"sqlite:///{tmp_path}/g.db")
    folder, _ = _identity_dir(tmp_path)
    created = CliRunner().invoke(cli, ["--db", url, "create-key", "--name", "alice", "--role",
                                       "writer", "--identity-dir", str(folder)])
    assert created.exit_code == 0, created.output
    listed = CliRunner().invoke(cli, ["--db", url, "list-keys"]).output
    assert str(folder) in listed
    (tmp_path / "empty").mkdir()
    refused = CliRunner().invoke(cli, ["--db", url, "create-key", "--name", "bob", "--role",
                                       "writer", "--identity-dir", str(tmp_path / "empty")])
    assert refused.exit_code != 0 and "lacks cert.pem, key.pem" in refused.output


def test_a_credentials_table_of_an_older_gateway_gains_the_identity_column(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE api_credentials (key_id VARCHAR(32) PRIMARY KEY, "
                             "name VARCHAR(200) NOT NULL UNIQUE, role VARCHAR(16) NOT NULL, "
                             "key_sha256 VARCHAR(64) NOT NULL, created_at DATETIME NOT NULL, "
                             "revoked_at DATETIME)"))
        conn.execute(sa.text("INSERT INTO api_credentials VALUES ('0123456789abcdef', 'old', "
                             "'reader', 'x', '2026-01-01 00:00:00', NULL)"))
    assert "added columns identity_dir to api_credentials" in schema.upgrade(db.make_engine(url))
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT name, identity_dir FROM api_credentials")).one()
    assert tuple(row) == ("old", None)
