"""The credential CLI, the schema upgrade step and the read model's reset."""

import json
import os
import stat

import pytest
import sqlalchemy as sa

from click.testing import CliRunner

from gateway.api import db, schema
from gateway.api.auth import CredentialStore
from gateway.api.db import make_engine
from gateway.api.manage import cli
from gateway.api.readmodel import ReadModel, store
from gateway.api.readmodel.follower import apply
from tests.database import upgraded

from .golden import events


def run(url, *args):
    return CliRunner().invoke(cli, ["--db", url, *args])


def test_create_list_revoke(tmp_path):
    url = upgraded(f"sqlite:///{tmp_path}/g.db")
    created = run(url, "create-key", "--name", "billing", "--role", "writer")
    assert created.exit_code == 0, created.output
    key = created.output.strip()
    store = CredentialStore(make_engine(url))
    assert store.authenticate(key).role == "writer"

    [listed] = [json.loads(line) for line in run(url, "list-keys").output.splitlines()]
    assert listed["name"] == "billing" and listed["role"] == "writer"
    assert listed["revoked_at"] is None and key not in json.dumps(listed)

    assert run(url, "revoke-key", "--name", "billing").exit_code == 0
    assert store.authenticate(key) is None
    assert run(url, "revoke-key", "--name", "billing").exit_code != 0


def test_key_to_a_private_file(tmp_path):
    url = upgraded(f"sqlite:///{tmp_path}/g.db")
    out = tmp_path / "key"
    result = run(url, "create-key", "--name", "ops", "--role", "admin", "--out", str(out))
    assert result.exit_code == 0, result.output
    key = out.read_text().strip()
    assert key not in result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert CredentialStore(make_engine(url)).authenticate(key).role == "admin"


def test_duplicate_name_and_bad_role(tmp_path):
    url = upgraded(f"sqlite:///{tmp_path}/g.db")
    assert run(url, "create-key", "--name", "a", "--role", "reader").exit_code == 0
    duplicate = run(url, "create-key", "--name", "a", "--role", "reader")
    assert duplicate.exit_code != 0 and "exists already" in duplicate.output
    assert run(url, "create-key", "--name", "b", "--role", "root").exit_code != 0


def test_database_url_from_the_environment(tmp_path, monkeypatch):
    url = upgraded(f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("CARBONLEASE_DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["create-key", "--name", "x", "--role", "reader"])
    assert result.exit_code == 0, result.output
    assert CredentialStore(make_engine(url)).authenticate(result.output.strip()) is not None


def test_purge_idempotency(tmp_path):
    import datetime as dt

    from gateway.api.idempotency import Claim, IdempotencyStore

    url = upgraded(f"sqlite:///{tmp_path}/g.db")
    store = IdempotencyStore(make_engine(url))
    assert store.claim("k", "old", "f") == Claim("k", "old", 1)
    assert store.purge(dt.timedelta(hours=-1)) == 1  # everything is older than "in an hour"
    assert store.claim("k", "old", "f") == Claim("k", "old", 1)  # the key is free again
    result = run(url, "purge-idempotency", "--older-than-hours", "1")
    assert result.exit_code == 0 and "removed 0" in result.output


def test_reset_read_model_only_while_no_follower_listens(tmp_path):
    url = upgraded(f"sqlite:///{tmp_path}/g.db")
    read_model = ReadModel(make_engine(url))
    for event in events("lease"):
        apply(read_model, "lease", event)
    read_model.record("emission", [store.Outcome(events("emission")[0], [], "kept for the test")])
    read_model.beat("lease", channel_height=20, every_s=60, pid=1)
    refused = run(url, "reset-read-model")
    assert refused.exit_code != 0 and "listening (lease)" in refused.output
    assert read_model.checkpoint("lease") is not None

    with make_engine(url).begin() as conn:  # the follower stopped long ago
        conn.execute(store.heartbeats.delete())
    reset = run(url, "reset-read-model")
    assert reset.exit_code == 0, reset.output
    chaincodes = read_model.status(channel_height=None)["chaincodes"]
    assert [(c["block_number"], c["dead_letter_count"]) for c in chaincodes] == [
        (None, 0), (None, 0)]
    assert read_model.projects(page_size=10, bookmark=None).records == []


def test_upgrade_schema_makes_a_fresh_database_and_then_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    refused = run(url, "create-key", "--name", "a", "--role", "reader")
    assert refused.exit_code != 0 and "run upgrade-schema first" in refused.output
    made = run(url, "upgrade-schema")
    assert made.exit_code == 0, made.output
    assert "created tables api_credentials" in made.output
    assert schema.problems(make_engine(url)) == []
    again = run(url, "upgrade-schema")
    assert again.exit_code == 0 and again.output == ""
    assert run(url, "create-key", "--name", "a", "--role", "reader").exit_code == 0


def test_upgrade_schema_adds_the_columns_an_older_gateway_lacks(tmp_path):
    url = upgraded(f"sqlite:///{tmp_path}/g.db")
    key = CredentialStore(make_engine(url)).create("kept", "reader").key
    with make_engine(url).begin() as conn:  # as the gateway before personal identities made it
        conn.execute(sa.text("ALTER TABLE api_credentials DROP COLUMN identity_dir"))
    refused = run(url, "list-keys")
    assert refused.exit_code != 0 and "api_credentials lacks identity_dir" in refused.output
    upgraded_now = run(url, "upgrade-schema")
    assert upgraded_now.output == "added columns identity_dir to api_credentials\n"
    assert CredentialStore(make_engine(url)).authenticate(key).role == "reader"


def test_upgrade_schema_rebuilds_an_outdated_read_model_and_keeps_credentials(tmp_path):
    url = upgraded(f"sqlite:///{tmp_path}/g.db")
    key = CredentialStore(make_engine(url)).create("kept", "reader").key
    read_model = ReadModel(make_engine(url))
    for event in events("lease"):
        apply(read_model, "lease", event)
    with make_engine(url).begin() as conn:  # an older read model without matured_at
        conn.execute(sa.text("ALTER TABLE read_leases DROP COLUMN matured_at"))
    with pytest.raises(db.SchemaOutdated) as outdated:
        ReadModel(make_engine(url)).leases(page_size=10, bookmark=None)
    assert outdated.value.code == "READ_MODEL_UPGRADING"
    assert "read_leases was made by another version" in outdated.value.reasons[0]

    rebuilt = run(url, "upgrade-schema")
    assert rebuilt.exit_code == 0 and "rebuilt the read model (read_leases" in rebuilt.output
    fresh = ReadModel(make_engine(url))
    assert fresh.checkpoint("lease") is None  # the follower starts again at block 0
    assert fresh.projects(page_size=10, bookmark=None).records == []
    assert CredentialStore(make_engine(url)).authenticate(key).role == "reader"


def test_upgrade_schema_and_reset_are_refused_while_a_follower_holds_the_database(tmp_path):
    url = upgraded(f"sqlite:///{tmp_path}/g.db")
    engine = make_engine(url)
    with engine.begin() as conn:  # an outdated read model, which must not be rebuilt now
        conn.execute(sa.text("ALTER TABLE read_leases DROP COLUMN matured_at"))
    with schema.follower_lock(engine):  # as the follower holds it while it runs
        refused = run(url, "upgrade-schema")
        assert refused.exit_code != 0 and "stop it first" in refused.output
        assert schema.problems(engine) == [
            "read-model table read_leases was made by another version"]
    assert run(url, "upgrade-schema").exit_code == 0
    with schema.follower_lock(engine):
        refused = run(url, "reset-read-model")
        assert refused.exit_code != 0 and "stop it first" in refused.output
    assert run(url, "reset-read-model").exit_code == 0
