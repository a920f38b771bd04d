"""A gateway killed in the middle of an ``Idempotency-Key`` write, against the real consortium:
the client's retry, served by a fresh gateway on the same database once the key is stale,
finishes that write exactly once and answers with its transaction id.

The kill is simulated in process: the fabricgw step right after (or right before) the
transaction is sent for ordering raises SystemExit, and the key is not given up on the way out,
as with kill -9, where no cleanup runs.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from gateway.api import create_app, db
from gateway.api.config import Config
from gateway.fabricgw.commit import Commit
from gateway.fabricgw.transaction import Transaction
from tests.database import upgraded

from .test_api import TERMS, fabric_settings, unique

STALE_AFTER_S = 1.0


def lessor_gateway(consortium, database):
    return create_app(Config(fabric=fabric_settings(consortium, "LessorMSP"),
                             database_url=upgraded(f"sqlite:///{database}"),
                             idempotency_stale_after_s=STALE_AFTER_S))


@pytest.fixture
def database(tmp_path):
    return tmp_path / "gateway.db"


@pytest.fixture
def writer(consortium, database):
    """Authorization header of a writer key in the gateways' shared database."""
    app = lessor_gateway(consortium, database)
    key = app.extensions["carbonlease"].credentials.create("it-writer", "writer").key
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def draft_lease(consortium, database, writer):
    client = lessor_gateway(consortium, database).test_client()
    project = client.post("/api/v1/projects", headers=writer, json={
        "project_id": unique("proj"), "name": "Rooftop PV", "category": "clean_energy",
        "expected_annual_reduction_kg": 20_000, "location": "Nansha"})
    assert project.status_code == 201, project.get_json()
    lease = client.post("/api/v1/leases", headers=writer, json={
        "lease_id": unique("lease"), "lessee_ref": unique("ref"), "lessee_id": unique("lessee"),
        "lessee_name": "Nansha Steel Co.", "project_id": project.get_json()["result"]["project_id"],
        "terms": TERMS})
    assert lease.status_code == 201, lease.get_json()
    return lease.get_json()["result"]["lease_id"]


def activate(app, writer, lease_id):
    return app.test_client().post(f"/api/v1/leases/{lease_id}/activate",
                                  headers={**writer, "Idempotency-Key": f"activate-{lease_id}"})


def killed_while_activating(consortium, database, writer, lease_id, monkeypatch, step):
    """Activate through a gateway that dies at ``step``; the transaction id it recorded."""
    app = lessor_gateway(consortium, database)
    store = app.extensions["carbonlease"].idempotency
    with monkeypatch.context() as patch:
        patch.setattr(*step, _die)
        patch.setattr(store, "release", lambda claim: None)
        with pytest.raises(SystemExit):
            activate(app, writer, lease_id)
    t = db.idempotency_records
    with store._engine.connect() as conn:
        return conn.execute(sa.select(t.c.transaction_id)
                            .where(t.c.idempotency_key == f"activate-{lease_id}")).scalar_one()


def _die(*args, **kwargs):
    raise SystemExit("gateway killed")


@pytest.mark.parametrize("step", [(Commit, "get_status"), (Transaction, "submit")],
                         ids=["after-ordering", "before-ordering"])
def test_retry_after_a_crash_finishes_the_write_once(consortium, database, writer, draft_lease,
                                                     monkeypatch, step):
    recorded = killed_while_activating(consortium, database, writer, draft_lease, monkeypatch,
                                       step)
    assert recorded is not None
    gateway = lessor_gateway(consortium, database)
    reader = gateway.test_client()

    assert activate(gateway, writer, draft_lease).status_code == 409  # not stale yet
    time.sleep(STALE_AFTER_S + 0.2)
    retried = activate(gateway, writer, draft_lease)

    assert retried.status_code == 200, retried.get_json()
    answer = retried.get_json()
    assert answer["transaction_id"] == recorded
    assert answer["result"]["status"] == "active"
    status = reader.get(f"/api/v1/transactions/{recorded}", headers=writer).get_json()
    assert status["validation_code"] == "VALID"
    assert status["block_number"] == answer["block_number"]
    history = reader.get(f"/api/v1/leases/{draft_lease}/history", headers=writer).get_json()
    assert [entry["value"]["status"] for entry in history["history"]] == ["draft", "active"]
    assert history["history"][-1]["tx_id"] == recorded
    assert activate(gateway, writer, draft_lease).get_data() == retried.get_data()
