"""Each org's exported public definition, where its processes keep their records, and the
upgrade of a run folder of the previous layout."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from network import config, exports, network
from network.cli import main


@pytest.fixture
def consortium():
    return config.load()


@pytest.fixture
def layout(tmp_path):
    return config.Layout(tmp_path / "run")


def _fake_site(layout, org) -> None:
    """The public files an initialised site holds, and a key that must not be exported."""
    msp = layout.org_msp(org)
    for path, text in ((msp / "cacerts" / "ca.pem", "identity root"),
                       (msp / "tlscacerts" / "tlsca.pem", "tls root"),
                       (msp / "config.yaml", "NodeOUs: {}"),
                       (msp / "crls" / "crl.pem", "crl")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for orderer in org.orderers:
        tls = layout.node_dir(org, orderer.name) / "tls"
        tls.mkdir(parents=True)
        (tls / "server.crt").write_text(f"{orderer.id} tls certificate")
        (tls / "server.key").write_bytes(_new_private_key_pem())


def _new_private_key_pem() -> bytes:
    """A throw-away key made at run time (no key material is kept in the repository)."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def test_an_export_holds_the_public_definition_and_no_key(consortium, layout):
    grid = consortium.org("GridMSP")
    _fake_site(layout, grid)
    assert exports.export(layout, grid)
    assert not exports.export(layout, grid)  # unchanged: nothing rewritten
    folder = layout.export_dir(grid)
    assert folder.parent == layout.exchange and layout.sites not in folder.parents
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert files == {"msp/cacerts/ca.pem", "msp/tlscacerts/tlsca.pem", "msp/config.yaml",
                     "msp/crls/crl.pem", "orderers/orderer0/tls.crt", "definition.json"}
    assert not any(b"PRIVATE KEY" in (folder / f).read_bytes() for f in files)
    assert layout.exported_orderer_tls(grid.orderers[0]).read_text().endswith("tls certificate")
    assert exports.load(layout, grid) == exports.describe(layout, grid)
    definition = json.loads(layout.exported_definition(grid).read_text())
    assert definition["anchor_peers"] == [{"host": "127.0.0.1", "port": grid.peers[0].port}]


def test_an_org_without_its_site_cannot_export(consortium, layout):
    with pytest.raises(config.ConfigError, match="--org GridMSP init"):
        exports.export(layout, consortium.org("GridMSP"))


def test_a_missing_export_names_the_step_that_makes_it(consortium, layout):
    with pytest.raises(config.ConfigError, match="has not exported.*--org RegulatorMSP init"):
        exports.load(layout, consortium.org("RegulatorMSP"))


def test_an_orgs_processes_keep_their_log_and_pid_in_its_site(consortium, layout):
    grid = consortium.org("GridMSP")
    for name in (grid.peers[0].id, f"ca.{grid.domain}", f"gateway-proxy.{grid.domain}"):
        assert layout.site(grid) in layout.log_file(name).parents
        assert layout.site(grid) in layout.pid_file(name).parents
    assert layout.pid_file("sleeper").parent == layout.home / "pids"


def test_a_run_folder_of_the_previous_layout_is_upgraded_in_place(consortium, layout):
    peer = consortium.org("GridMSP").peers[0].id
    logs, pids = layout.shared_process_folders
    for folder, name, text in ((pids, f"{peer}.pid", '{"pid": 1}'),
                               (logs, f"{peer}.log", "peer log"),
                               (layout.previous_channel_dir, "carbonlease.block", "block 0"),
                               (layout.previous_channel_dir, "configtx.yaml", "every org")):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    net = network.Network(consortium, layout, bin_dir=layout.home)
    net.check_layout()
    assert layout.pid_file(peer).read_text() == '{"pid": 1}'
    assert layout.log_file(peer).read_text() == "peer log"
    assert layout.genesis_block("carbonlease").read_text() == "block 0"
    assert not any(pids.iterdir()) and not any(logs.iterdir())
    assert not layout.previous_channel_dir.exists()
    net.check_layout()  # a current layout: nothing to do
    assert layout.genesis_block("carbonlease").read_text() == "block 0"


def test_a_per_org_step_needs_the_org_it_acts_as(tmp_path):
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "init"])
    assert result.exit_code == 2
    assert "`init` is one org's step: name the org with --org MSP_ID" in result.output
    assert not (tmp_path / "orgs").exists()


@pytest.mark.parametrize("tamper", [
    lambda d: d["orderers"][0].update(name="../../orgs/lessor.carbonlease.local/nodes"),
    lambda d: d["orderers"][0].update(host="evil host;"),
    lambda d: d["anchor_peers"][0].update(port=70000),
    lambda d: d["anchor_peers"][0].update(port="7051"),
    lambda d: d.update(peers=[{"not": "an endpoint"}]),
    lambda d: d.pop("orderers"),
], ids=["orderer-name-leaves-its-folder", "host", "port-range", "port-type", "peer", "missing"])
def test_another_orgs_export_is_checked_before_use(consortium, layout, tamper):
    grid = consortium.org("GridMSP")
    _fake_site(layout, grid)
    exports.export(layout, grid)
    path = layout.exported_definition(grid)
    document = json.loads(path.read_text())
    tamper(document)
    path.write_text(json.dumps(document))
    with pytest.raises(config.ConfigError, match="is not a usable export of GridMSP"):
        exports.load(layout, grid)


def test_an_export_that_is_no_json_is_a_clear_error(consortium, layout):
    grid = consortium.org("GridMSP")
    _fake_site(layout, grid)
    exports.export(layout, grid)
    layout.exported_definition(grid).write_text("{")
    with pytest.raises(config.ConfigError, match="is not a usable export of GridMSP"):
        exports.load(layout, grid)
