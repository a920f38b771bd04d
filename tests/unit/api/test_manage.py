"""The credential CLI, and the read model's reset."""

import json
import os
import stat

from click.testing import CliRunner

from gateway.api.auth import CredentialStore
from gateway.api.db import make_engine
from gateway.api.manage import cli
from gateway.api.readmodel import ReadModel, store
from gateway.api.readmodel.follower import apply

from .golden import events


def run(url, *args):
    return CliRunner().invoke(cli, ["--db", url, *args])


def test_create_list_revoke(tmp_path):
    url = f"sqlite:///{tmp_path}/g.db"
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
    url = f"sqlite:///{tmp_path}/g.db"
    out = tmp_path / "key"
    result = run(url, "create-key", "--name", "ops", "--role", "admin", "--out", str(out))
    assert result.exit_code == 0, result.output
    key = out.read_text().strip()
    assert key not in result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert CredentialStore(make_engine(url)).authenticate(key).role == "admin"


def test_duplicate_name_and_bad_role(tmp_path):
    url = f"sqlite:///{tmp_path}/g.db"
    assert run(url, "create-key", "--name", "a", "--role", "reader").exit_code == 0
    duplicate = run(url, "create-key", "--name", "a", "--role", "reader")
    assert duplicate.exit_code != 0 and "exists already" in duplicate.output
    assert run(url, "create-key", "--name", "b", "--role", "root").exit_code != 0


def test_database_url_from_the_environment(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/env.db"
    monkeypatch.setenv("CARBONLEASE_DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["create-key", "--name", "x", "--role", "reader"])
    assert result.exit_code == 0, result.output
    assert CredentialStore(make_engine(url)).authenticate(result.output.strip()) is not None


def test_purge_idempotency(tmp_path):
    import datetime as dt

    from gateway.api.idempotency import Claim, IdempotencyStore

    url = f"sqlite:///{tmp_path}/g.db"
    store = IdempotencyStore(make_engine(url))
    assert store.claim("k", "old", "f") == Claim("k", "old", 1)
    assert store.purge(dt.timedelta(hours=-1)) == 1  # everything is older than "in an hour"
    assert store.claim("k", "old", "f") == Claim("k", "old", 1)  # the key is free again
    result = run(url, "purge-idempotency", "--older-than-hours", "1")
    assert result.exit_code == 0 and "removed 0" in result.output


def test_reset_read_model_only_while_no_follower_listens(tmp_path):
    url = f"sqlite:///{tmp_path}/g.db"
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
