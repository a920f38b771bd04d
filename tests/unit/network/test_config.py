"""Config generation from the declarative consortium file, without starting anything."""

from __future__ import annotations

import base64
import json
import textwrap

import pytest
import yaml

from network import ca, channel, chaincode, config, exports, network, nodes, revocation
from network.builder import ccaas


@pytest.fixture
def consortium():
    return config.load()


@pytest.fixture
def layout(tmp_path):
    return config.Layout(tmp_path)


def test_the_shipped_file_is_the_design_consortium(consortium):
    founding = [o.msp_id for o in consortium.founding_orgs]
    assert founding == ["LessorMSP", "GridMSP", "RegulatorMSP", "HKPartnerMSP", "MacaoPartnerMSP"]
    assert [o.org.msp_id for o in consortium.orderers] == ["LessorMSP", "GridMSP", "RegulatorMSP"]
    assert len(consortium.org("LessorMSP").peers) == 2
    assert consortium.org("ShenzhenPartnerMSP").joins_later
    assert sum(len(o.peers) for o in consortium.founding_orgs) == 6


def test_port_offset_moves_every_port(consortium):
    shifted = config.load(port_offset=1000)
    before = consortium.all_ports(consortium.orgs)
    after = shifted.all_ports(shifted.orgs)
    assert sorted(after) == sorted(p + 1000 for p in before)


def _write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_port_used_twice_is_refused(tmp_path):
    path = _write(tmp_path, """
        channel: ch
        orgs:
          - msp_id: AMSP
            domain: a.local
            role: lessor
            peers: [{name: peer0, port: 7051, chaincode_port: 7052, operations_port: 7051}]
            orderers: [{name: orderer0, port: 7050, admin_port: 7053, operations_port: 9443}]
            ca: {port: 7054, operations_port: 9643}
        """)
    with pytest.raises(config.ConfigError, match="port 7051 is used twice"):
        config.load(path)


def test_missing_fields_name_the_place(tmp_path):
    path = _write(tmp_path, """
        channel: ch
        orgs:
          - domain: a.local
            role: lessor
            peers: []
        """)
    with pytest.raises(config.ConfigError, match=r"orgs\[0\]: missing 'msp_id'"):
        config.load(path)


def test_configtx_profile(consortium, layout):
    doc = channel.configtx(consortium, [exports.describe(layout, o) for o in consortium.orgs])
    profile = doc["Profiles"][channel.PROFILE]
    assert profile["Capabilities"] == {"V3_0": True}
    orderer = profile["Orderer"]
    assert orderer["OrdererType"] == "etcdraft"
    assert orderer["BatchTimeout"] == "250ms"
    assert [c["Port"] for c in orderer["EtcdRaft"]["Consenters"]] == [7050, 7150, 7250]
    assert [o["ID"] for o in orderer["Organizations"]] == ["LessorMSP", "GridMSP", "RegulatorMSP"]
    app = profile["Application"]
    assert [o["ID"] for o in app["Organizations"]] == [
        "LessorMSP", "GridMSP", "RegulatorMSP", "HKPartnerMSP", "MacaoPartnerMSP"]
    assert app["Policies"]["Admins"]["Rule"] == "MAJORITY Admins"
    # The joiner is defined (for `configtxgen -printOrg`) but not in the genesis profile.
    assert "ShenzhenPartnerMSP" in [o["ID"] for o in doc["Organizations"]]
    lessor = doc["Organizations"][0]
    # Everything another org reads of the lessor comes from the lessor's export.
    assert lessor["MSPDir"] == str(layout.exported_msp(consortium.org("LessorMSP")))
    assert orderer["EtcdRaft"]["Consenters"][1]["ServerTLSCert"] == str(
        layout.exported_orderer_tls(consortium.org("GridMSP").orderers[0]))
    assert lessor["OrdererEndpoints"] == ["127.0.0.1:7050"]
    assert lessor["AnchorPeers"] == [{"Host": "127.0.0.1", "Port": 7051}]
    assert lessor["Policies"]["Endorsement"]["Rule"] == "OR('LessorMSP.peer')"
    yaml.safe_load(yaml.safe_dump(doc))  # renders as YAML configtxgen can read


def test_node_environment(consortium, layout):
    peer = consortium.org("GridMSP").peers[0]
    env = nodes.peer_env(layout, peer)
    assert env["CORE_PEER_TLS_CLIENTAUTHREQUIRED"] == "true"
    assert env["CORE_VM_ENDPOINT"] == ""
    assert env["CORE_PEER_GOSSIP_EXTERNALENDPOINT"] == "127.0.0.1:7151"
    builder = json.loads(env["CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"])
    assert builder["addresses"] == {"emission": "127.0.0.1:9111", "lease": "127.0.0.1:9112"}
    orderer_env = nodes.orderer_env(layout, consortium.orderers[0])
    assert orderer_env["ORDERER_GENERAL_TLS_CLIENTAUTHREQUIRED"] == "true"
    assert orderer_env["ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED"] == "true"
    assert orderer_env["ORDERER_GENERAL_LISTENPORT"] == "7050"


def test_each_org_owns_a_site_holding_its_keys_ledgers_and_gateway(consortium, layout):
    grid = consortium.org("GridMSP")
    site = layout.site(grid)
    assert site.parent == layout.sites
    for path in (layout.ca_home(grid), layout.org_msp(grid), layout.node_dir(grid, "peer0"),
                 layout.user_dir(grid, "Admin"), layout.gateway_dir(grid),
                 layout.state_dir(grid.peers[0].id), layout.state_dir(grid.orderers[0].id)):
        assert site in path.parents
    assert layout.site(consortium.org("LessorMSP")) != site


def test_a_ca_per_org_on_its_own_ports(consortium):
    shifted = config.load(port_offset=1000)
    for org, moved in zip(consortium.orgs, shifted.orgs):
        assert moved.ca_port == org.ca_port + 1000
        assert moved.ca_operations_port == org.ca_operations_port + 1000
    assert len({o.ca_port for o in consortium.orgs}) == len(consortium.orgs)


def test_ca_configuration_keeps_the_bootstrap_secret_private(consortium, layout):
    grid = consortium.org("GridMSP")
    ca.write_config(layout, grid)
    secret = ca.secret_file(layout, grid)
    assert secret.stat().st_mode & 0o777 == 0o600
    assert layout.ca_home(grid).stat().st_mode & 0o777 == 0o700
    server = yaml.safe_load((layout.ca_home(grid) / "fabric-ca-server-config.yaml").read_text())
    assert (layout.ca_home(grid) / "fabric-ca-server-config.yaml").stat().st_mode & 0o777 == 0o600
    assert server["port"] == grid.ca_port and server["tls"]["enabled"] is True
    assert server["operations"]["listenAddress"] == f"127.0.0.1:{grid.ca_operations_port}"
    assert server["registry"]["identities"][0]["pass"] == secret.read_text()
    assert server["cafiles"] == ["tlsca/fabric-ca-config.yaml"]
    tls_ca = yaml.safe_load((layout.ca_home(grid) / "tlsca" / "fabric-ca-config.yaml").read_text())
    assert tls_ca["ca"]["name"] == "tlsca"
    assert "client auth" in tls_ca["signing"]["profiles"]["tls"]["usage"]
    ca.write_config(layout, grid)  # the secret is made once
    assert server["registry"]["identities"][0]["pass"] == secret.read_text()


def test_a_generator_era_run_folder_is_refused_with_what_to_do(consortium, layout):
    (layout.home / "crypto" / "lessor.carbonlease.local").mkdir(parents=True)
    net = network.Network(consortium, layout, bin_dir=layout.home)
    with pytest.raises(config.ConfigError, match="scripts/down --purge, then scripts/up"):
        net.up()
    assert not layout.sites.exists()


def test_chaincode_package_is_reproducible(consortium, tmp_path):
    fabric = type("F", (), {"layout": config.Layout(tmp_path)})()
    first = chaincode.Deployment(fabric, consortium, consortium.chaincodes[0]).package()
    (tmp_path / "chaincode" / f"{first.split(':')[0]}.tar.gz").unlink()
    again = chaincode.Deployment(fabric, consortium, consortium.chaincodes[0]).package()
    assert first == again
    assert first.startswith("emission_")


def test_builder_completes_connection_json(tmp_path, monkeypatch):
    source, out = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    (source / "connection.json").write_text(json.dumps(
        {"chaincode": "lease", "dial_timeout": "10s", "tls_required": True,
         "client_auth_required": True}))
    for name in ("ca", "cert", "key"):
        (tmp_path / name).write_text(f"{name} pem")
    monkeypatch.setenv("CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG", json.dumps({
        "addresses": {"lease": "127.0.0.1:9102"}, "root_cert_file": str(tmp_path / "ca"),
        "client_cert_file": str(tmp_path / "cert"), "client_key_file": str(tmp_path / "key")}))
    assert ccaas.build(str(source), str(tmp_path), str(out)) == 0
    built = json.loads((out / "connection.json").read_text())
    assert built == {"address": "127.0.0.1:9102", "dial_timeout": "10s", "tls_required": True,
                     "client_auth_required": True, "root_cert": "ca pem",
                     "client_cert": "cert pem", "client_key": "key pem"}
    release = tmp_path / "release"
    assert ccaas.release(str(out), str(release)) == 0
    assert (release / "chaincode/server/connection.json").exists()


def test_builder_refuses_an_unknown_chaincode(tmp_path, monkeypatch):
    (tmp_path / "connection.json").write_text(json.dumps({"chaincode": "other"}))
    monkeypatch.setenv("CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG", json.dumps({"addresses": {}}))
    assert ccaas.build(str(tmp_path), str(tmp_path), str(tmp_path / "o")) == 1


def test_roles_follow_the_member_orgs(consortium):
    deployment = chaincode.Deployment.__new__(chaincode.Deployment)
    wanted = deployment.roles_wanted(consortium.founding_orgs)
    assert wanted == {"lessor": ["LessorMSP"], "grid": ["GridMSP"], "regulator": ["RegulatorMSP"],
                      "partner": ["HKPartnerMSP", "MacaoPartnerMSP"]}
    wanted = deployment.roles_wanted(consortium.orgs)
    assert wanted["partner"] == ["HKPartnerMSP", "MacaoPartnerMSP", "ShenzhenPartnerMSP"]


def test_lease_terms_collection_definition(consortium):
    lease = next(c for c in consortium.chaincodes if c.name == "lease")
    [terms] = [c.definition() for c in lease.collections]
    assert terms == {
        "name": "leaseTerms", "policy": "OR('LessorMSP.member','RegulatorMSP.member')",
        "requiredPeerCount": 1, "maxPeerCount": 2, "blockToLive": 0,
        "memberOnlyRead": True, "memberOnlyWrite": True,
        "endorsementPolicy": {"signaturePolicy": "AND('LessorMSP.peer','RegulatorMSP.peer')"}}
    assert json.loads(chaincode.collections_json(lease)) == [terms]


def test_a_collections_change_is_a_new_chaincode_version(consortium, tmp_path):
    """The version names the definition: a changed collection must be approved and committed
    with the next sequence, like changed code."""
    import dataclasses

    lease = next(c for c in consortium.chaincodes if c.name == "lease")
    wider = dataclasses.replace(lease.collections[0], max_peer_count=3)
    changed = dataclasses.replace(lease, collections=(wider,))
    assert chaincode.source_version(changed) != chaincode.source_version(lease)
    fabric = type("F", (), {"layout": config.Layout(tmp_path)})()
    flags = chaincode.Deployment(fabric, consortium, changed).definition_flags()
    path = flags[flags.index("--collections-config") + 1]
    assert json.loads(open(path).read())[0]["maxPeerCount"] == 3


def test_a_collection_of_an_unknown_org_is_refused(tmp_path):
    path = _write(tmp_path, """
        channel: ch
        orgs:
          - {msp_id: AMSP, domain: a.local, role: lessor, chaincode_servers: {lease: 9102},
             ca: {port: 7054, operations_port: 9643},
             peers: [{name: peer0, port: 7051, chaincode_port: 7052, operations_port: 9443}],
             orderers: [{name: orderer0, port: 7050, admin_port: 7053, operations_port: 9543}]}
        chaincodes:
          - name: lease
            path: chaincode/lease
            endorsement_policy: "OR('AMSP.peer')"
            collections:
              - {name: terms, members: [AMSP, BMSP], endorsement_policy: "OR('AMSP.peer')"}
        """)
    with pytest.raises(config.ConfigError, match=r"collection terms: unknown members \['BMSP'\]"):
        config.load(path)


def test_a_crl_goes_into_every_definition_of_the_orgs_msp():
    def msp():
        return {"values": {"MSP": {"value": {"config": {"name": "X", "revocation_list": []}}}}}
    config = {"channel_group": {"groups": {
        "Application": {"groups": {"LessorMSP": msp(), "GridMSP": msp()}},
        "Orderer": {"groups": {"LessorMSP": msp()}}}}}
    updated = revocation.with_crl(config, "LessorMSP", b"-----BEGIN X509 CRL-----\n")
    groups = updated["channel_group"]["groups"]
    expected = [base64.b64encode(b"-----BEGIN X509 CRL-----\n").decode()]
    for section in ("Application", "Orderer"):
        assert groups[section]["groups"]["LessorMSP"]["values"]["MSP"]["value"]["config"][
            "revocation_list"] == expected
    assert groups["Application"]["groups"]["GridMSP"] == msp()
    assert config["channel_group"]["groups"]["Orderer"]["groups"]["LessorMSP"] == msp()
