"""What a config update changes, read from the update itself and judged against the channel as
it is: a signer signs exactly that."""

from __future__ import annotations

import pytest

from network import channel, revocation


def _org(version: int = 0, msp_version: int = 0) -> dict:
    return {"version": str(version), "values": {"MSP": {"version": str(msp_version)}},
            "policies": {"Admins": {"version": "0"}}}


MEMBERS = {"LessorMSP": _org(), "GridMSP": _org()}
# The channel group now: the members above, Lessor also in the Orderer group.
CURRENT = {"version": "0", "groups": {
    "Application": {"version": "0", "groups": MEMBERS},
    "Orderer": {"version": "0", "groups": {"LessorMSP": _org()}}}}


def _update(application: dict, *, version: int = 1, orderer: dict | None = None) -> dict:
    """A config update's write set: the Application group's members at ``version``."""
    groups = {"Application": {"version": str(version), "groups": application}}
    if orderer is not None:
        groups["Orderer"] = {"version": "0", "groups": orderer}
    return {"write_set": {"version": "0", "groups": groups}}


def test_adding_an_org_is_that_and_nothing_else():
    update = _update({**MEMBERS, "ShenzhenPartnerMSP": _org()})
    assert channel.changes_of(update, CURRENT) == channel.adding_org("ShenzhenPartnerMSP")


@pytest.mark.parametrize("application,extra", [
    ({"LessorMSP": _org(), "ShenzhenPartnerMSP": _org()}, {("removed", "Application/GridMSP")}),
    ({**MEMBERS, "GridMSP": _org(msp_version=1), "ShenzhenPartnerMSP": _org()},
     {("modified", "Application/GridMSP/values/MSP")}),
    ({**MEMBERS, "GridMSP": _org(version=1), "ShenzhenPartnerMSP": _org()},
     {("modified", "Application/GridMSP")}),
    ({**MEMBERS, "ShenzhenPartnerMSP": _org(), "MallorySideMSP": _org()},
     {("added", "Application/MallorySideMSP")}),
], ids=["drops-grid", "replaces-grid-msp", "rewrites-grid", "adds-a-second-org"])
def test_an_update_that_does_more_is_told_apart(application, extra):
    changes = channel.changes_of(_update(application), CURRENT)
    assert changes == channel.adding_org("ShenzhenPartnerMSP") | extra


def test_read_only_members_change_nothing():
    assert channel.changes_of(_update(MEMBERS, version=0), CURRENT) == set()


def test_a_new_crl_changes_the_orgs_msp_value_in_each_group_that_defines_it():
    config = {"channel_group": CURRENT}
    lessor = revocation.crl_changes(config, "LessorMSP")
    assert lessor == {("modified", "Application/LessorMSP/values/MSP"),
                      ("modified", "Orderer/LessorMSP/values/MSP")}
    # Fabric's write set for it: the MSP value alone at the next version, in both groups.
    crl = {"LessorMSP": {"version": "0", "values": {"MSP": {"version": "1"}}}}
    assert channel.changes_of(_update(crl, version=0, orderer=crl), CURRENT) == lessor
    assert revocation.crl_changes(config, "GridMSP") == {
        ("modified", "Application/GridMSP/values/MSP")}
