"""Each org acts from its own site only (issue 15): founding the channel and adding an org,
every per-org step run as its own `python -m network --org X STEP` process in a mount
namespace where every other org's site folder is hidden under an empty tmpfs. A step that
read a file of another org's site (a key, a certificate, a block) fails; the nodes of the
other orgs, started outside that namespace, keep their files.

The consortium is this module's own and is built by these steps alone, not by `up`.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from .throwaway import ThrowawayNetwork

NEW_ORG = "ShenzhenPartnerMSP"


@pytest.fixture(scope="module")
def bare_network():
    """A run folder and ports of its own, with nothing started: the tests found it."""
    net = ThrowawayNetwork("carbonlease-iso-")
    try:
        yield net
    finally:
        net.tool("down", check=False)
        shutil.rmtree(net.home, ignore_errors=True)


def _hiding_others(net, msp_id: str) -> tuple[str, ...]:
    """A command prefix running its argv with every site but ``msp_id``'s hidden."""
    others = [net.layout.site(o) for o in net.consortium.orgs if o.msp_id != msp_id]
    for site in others:
        site.mkdir(parents=True, exist_ok=True, mode=0o700)
    mounts = "".join(f"mount -t tmpfs -o size=1m none {shlex.quote(str(s))} && "
                     for s in others)
    return ("unshare", "--mount", "--propagation", "private",
            "sh", "-c", mounts + 'exec "$@"', "isolated")


def as_org(net, msp_id: str, *step: str) -> str:
    """One org's step, seeing its own site and the exchange only; its output."""
    result = net.tool("--org", msp_id, *step, wrapper=_hiding_others(net, msp_id), check=False)
    assert result.returncode == 0, (f"{msp_id} {' '.join(step)} failed with the other sites "
                                    f"hidden:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def test_a_hidden_site_cannot_be_read_from_the_namespace(bare_network):
    net = bare_network
    grid = net.layout.site(net.consortium.org("GridMSP"))
    grid.mkdir(parents=True, exist_ok=True, mode=0o700)
    marker = grid / "marker"
    marker.write_text("grid's own")
    inside = subprocess.run([*_hiding_others(net, "LessorMSP"), "cat", str(marker)],
                            capture_output=True, text=True)
    assert inside.returncode != 0 and "No such file" in inside.stderr, inside
    own = subprocess.run([*_hiding_others(net, "GridMSP"), "cat", str(marker)],
                         capture_output=True, text=True)
    assert own.stdout == "grid's own", own
    assert marker.read_text() == "grid's own"  # hidden only inside the namespace
    marker.unlink()


def _private_keys_in(folder) -> list[str]:
    return [str(p) for p in folder.rglob("*")
            if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]


def test_founding_reads_only_each_orgs_own_site_and_the_exchange(bare_network):
    net = bare_network
    founding = net.consortium.founding_orgs
    for org in founding:
        as_org(net, org.msp_id, "init")
        assert net.layout.exported_definition(org).exists()
    lessor = next(o for o in founding if o.role == "lessor")
    as_org(net, lessor.msp_id, "found")
    assert net.layout.genesis_block(net.consortium.channel).exists()
    for org in founding:
        if org.orderers:
            as_org(net, org.msp_id, "join-orderers")
    for org in founding:
        as_org(net, org.msp_id, "join-peers")
    for org in founding:
        as_org(net, org.msp_id, "chaincode")
    defined = as_org(net, lessor.msp_id, "define-chaincode")
    assert "committed" in defined and "roles" in defined, defined
    assert _private_keys_in(net.layout.exchange) == []

    status = net.status()
    assert {s["msp_id"]: s["export"] for s in status["sites"]} == {
        o.msp_id: str(net.layout.export_dir(o)) for o in founding}
    assert all(o["healthy"] for o in status["orderers"]), status["orderers"]
    assert {p["msp_id"] for p in status["peers"]} == {o.msp_id for o in founding}
    assert all(p["healthy"] for p in status["peers"]), status["peers"]
    heights = net.wait_for_same_height()
    assert len(set(heights.values())) == 1, heights
    for chaincode in status["chaincodes"]:
        assert chaincode["all_orgs_approved"], chaincode
        assert set(chaincode["approvals"]) == {o.msp_id for o in founding}, chaincode


def test_adding_an_org_reads_only_each_orgs_own_site_and_the_exchange(bare_network):
    net = bare_network
    new = net.consortium.org(NEW_ORG)
    as_org(net, NEW_ORG, "init")
    lessor, grid, regulator = (net.consortium.org(m) for m in
                               ("LessorMSP", "GridMSP", "RegulatorMSP"))
    update = as_org(net, lessor.msp_id, "propose-org", NEW_ORG).strip().splitlines()[-1]
    assert update.startswith(str(net.layout.updates_dir)), update
    # A signer told the file adds another org than it does refuses it, and signs nothing.
    before = Path(update).read_bytes()
    refused = net.tool("--org", grid.msp_id, "sign-update", update, "--adds", "HKPartnerMSP",
                       check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "does not sign" in refused.stderr and f"added Application/{NEW_ORG}" in refused.stderr
    assert Path(update).read_bytes() == before
    # The channel's MAJORITY of five admins: three sign, each on its own site.
    as_org(net, lessor.msp_id, "sign-update", update, "--adds", NEW_ORG)
    as_org(net, grid.msp_id, "sign-update", update, "--adds", NEW_ORG)
    as_org(net, regulator.msp_id, "submit-update", update, "--adds", NEW_ORG)
    as_org(net, NEW_ORG, "join-peers")
    as_org(net, NEW_ORG, "chaincode")
    as_org(net, lessor.msp_id, "define-chaincode")
    assert _private_keys_in(net.layout.exchange) == []

    status = net.status()
    assert any(p["msp_id"] == NEW_ORG and p["healthy"] for p in status["peers"]), status
    heights = net.wait_for_same_height()
    assert len(set(heights.values())) == 1, heights
    for chaincode in status["chaincodes"]:
        assert chaincode["approvals"].get(NEW_ORG), chaincode
    assert new.msp_id in status["clients"]
    again = net.tool("--org", lessor.msp_id, "propose-org", NEW_ORG)
    assert f"{NEW_ORG} is already a member" in again.stdout
