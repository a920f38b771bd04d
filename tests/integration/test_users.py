"""People with their own Fabric identity: `scripts/user` enrolls them at their org's CA and
binds an API key to them; the REST gateway signs their writes as them, so the ledger names
who acted."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import requests

from .fabric_clients import new_project


def _gateway(consortium: dict, msp_id: str) -> dict:
    return next(g for g in consortium["gateways"] if g["msp_id"] == msp_id)


def _register_project(url: str, key: str) -> dict:
    _, body = new_project("person")
    response = requests.post(f"{url}/api/v1/projects", data=body, timeout=60,
                             headers={"Authorization": f"Bearer {key}",
                                      "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    return response.json()


def _creator(url: str, key: str, transaction_id: str) -> dict:
    response = requests.get(f"{url}/api/v1/transactions/{transaction_id}", timeout=30,
                            headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()["creator"]


def test_a_persons_write_names_the_person_as_creator(consortium, test_network):
    name = f"alice-{uuid.uuid4().hex[:8]}"
    result = test_network.tool("user", "LessorMSP", name, "--role", "writer")
    person = json.loads(result.stdout)
    assert set(person) == {"api_key", "enrollment_id", "subject", "cert", "key"}
    assert person["enrollment_id"] == name
    assert f"CN={name}" in person["subject"] and "OU=client" in person["subject"]
    site = test_network.layout.site(test_network.consortium.org("LessorMSP"))
    for path in (person["cert"], person["key"]):
        assert site in Path(path).parents
    assert Path(person["key"]).stat().st_mode & 0o077 == 0

    gateway = _gateway(consortium, "LessorMSP")
    written = _register_project(gateway["url"], person["api_key"])
    assert _creator(gateway["url"], person["api_key"], written["transaction_id"]) == {
        "msp_id": "LessorMSP", "subject": person["subject"]}

    # A key of the existing kind still signs as the org's gateway identity.
    dev_key = Path(gateway["dev_credential_file"]).read_text().strip()
    by_org = _register_project(gateway["url"], dev_key)
    creator = _creator(gateway["url"], dev_key, by_org["transaction_id"])
    assert creator["msp_id"] == "LessorMSP"
    assert "CN=User1@lessor.carbonlease.local" in creator["subject"]


def test_a_reader_person_cannot_write_and_names_are_checked(consortium, test_network):
    name = f"bob-{uuid.uuid4().hex[:8]}"
    reader = json.loads(test_network.tool("user", "GridMSP", name, "--role", "reader").stdout)
    gateway = _gateway(consortium, "GridMSP")
    response = requests.post(f"{gateway['url']}/api/v1/meter-readings", json={}, timeout=30,
                             headers={"Authorization": f"Bearer {reader['api_key']}"})
    assert response.status_code == 403, response.text
    again = test_network.tool("user", "GridMSP", name, check=False)
    assert again.returncode != 0 and "exists already" in again.stderr
    bad = test_network.tool("user", "GridMSP", "../escape", check=False)
    assert bad.returncode != 0 and "not a usable name" in bad.stderr
    partner = test_network.tool("user", "HKPartnerMSP", "carol", check=False)
    assert partner.returncode != 0 and "no REST gateway" in partner.stderr
