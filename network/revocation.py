"""Revoking a person's identity so that Fabric itself refuses it.

`scripts/user ORG NAME --revoke`: ORG's CA revokes NAME's certificate and issues a new CRL;
the CRL goes into ORG's MSP in the channel config by a config update that only ORG's admin
signs (an org's own groups are governed by its own Admins policy); then NAME's API key at ORG's
gateway is disabled. Every peer then refuses anything signed with that certificate.
"""

from __future__ import annotations

import base64
import copy
import os
import subprocess
import sys

from . import ca, channel, exports, gateways
from .config import REPO_ROOT
from .log import progress
from .network import Network
from .users import UserError


def _crl(net: Network, org, name: str) -> bytes:
    client = ca.CAClient(net.layout, net.ca_bin, org)
    client.registrar(ca.IDENTITY_CA)
    client.run(ca.IDENTITY_CA, ["revoke", "-e", name, "-r", "keycompromise", "--gencrl"],
               {"FABRIC_CA_CLIENT_URL": ca.url(org)})
    return client.crl(ca.IDENTITY_CA).read_bytes()


def with_crl(config: dict, msp_id: str, crl: bytes) -> dict:
    """A copy of the channel config (JSON) whose ``msp_id`` MSP carries ``crl`` (PEM). An org
    that runs orderers is defined in the Orderer group too, and Fabric refuses two different
    definitions of one MSP: both get it."""
    updated = copy.deepcopy(config)
    for section in ("Application", "Orderer"):
        group = updated["channel_group"]["groups"][section]["groups"].get(msp_id)
        if group:
            group["values"]["MSP"]["value"]["config"]["revocation_list"] = [
                base64.b64encode(crl).decode()]
    return updated


def crl_changes(config: dict, msp_id: str) -> set[tuple[str, str]]:
    """The changes (``channel.changes_of``) of the update ``with_crl`` makes: ``msp_id``'s MSP
    value wherever the org is defined, nothing else."""
    groups = config["channel_group"]["groups"]
    return {("modified", f"{section}/{msp_id}/values/MSP") for section in ("Application", "Orderer")
            if msp_id in groups[section]["groups"]}


def revoke_user(net: Network, msp_id: str, name: str) -> dict:
    org = net.consortium.org(msp_id)
    folder = net.layout.user_dir(org, name)
    if not (folder / "msp" / "signcerts" / "cert.pem").exists():
        raise UserError(f"{name} is not enrolled at {msp_id}")
    net.check_layout()
    ca.start(net.layout, net.ca_bin, org)
    crl = _crl(net, org, name)
    fabric = net.fabric
    current = channel.current_config(fabric, net.consortium, org)
    updated = with_crl(current, msp_id, crl)
    if updated != current:
        progress(f"putting {msp_id}'s new CRL into the channel config, signed by its admin")
        envelope = channel.update_envelope(fabric, net.consortium, current, updated,
                                           net.layout.site(org) / "config-updates" / f"crl-{name}")
        net.site(org).submit(envelope, crl_changes(current, msp_id))
    # The org's MSP in its site and its export carry the CRL too, so the definition it
    # exports from now on is the one the channel holds.
    crls = ca.private_dir(net.layout.org_msp(org) / "crls")
    (crls / "crl.pem").write_bytes(crl)
    exports.export(net.layout, org)
    result = subprocess.run(
        [sys.executable, "-m", "gateway.api.manage", "revoke-key", "--name", name],
        cwd=REPO_ROOT, env={**os.environ, **gateways.env(net, org)}, capture_output=True,
        text=True)
    key_disabled = result.returncode == 0
    if not key_disabled and "no active credential" not in result.stderr:
        raise UserError(f"disabling the API key of {name} failed: {result.stderr.strip()[-1000:]}")
    return {"enrollment_id": name, "revoked": True, "crl_in_channel_config": True,
            "api_key_disabled": key_disabled}
