"""`python -m network`: build, start, inspect and stop the carbonlease consortium."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import binaries, ca, channel, config, processes, revocation, users
from .fabric import FabricCommandError
from .network import Network
from .orgs import add_org as add_org_to_channel
from .site import OrgSite, UpdateRefused


def _network(ctx: click.Context) -> Network:
    opts = ctx.obj
    consortium = config.load(Path(opts["config"]), port_offset=opts["port_offset"])
    net = Network(consortium, config.Layout(Path(opts["home"])))
    net.upgrade_layout()
    return net


def _site(ctx: click.Context) -> OrgSite:
    """The org named by --org, acting from its own site."""
    msp_id = ctx.obj["org"]
    if not msp_id:
        raise click.UsageError(f"`{ctx.info_name}` is one org's step: name the org with "
                               f"--org MSP_ID before the command")
    opts = ctx.obj
    consortium = config.load(Path(opts["config"]), port_offset=opts["port_offset"])
    layout = config.Layout(Path(opts["home"]))
    Network(consortium, layout).check_layout()
    return OrgSite(consortium, layout, consortium.org(msp_id))


def _echo_changes(changes: list[str]) -> None:
    for change in changes:
        click.echo(change)
    if not changes:
        click.echo("nothing changed")


@click.group()
@click.option("--config", "config_path", default=str(config.DEFAULT_CONFIG), show_default=True,
              envvar="CARBONLEASE_NETWORK_CONFIG", help="The consortium file.")
@click.option("--home", default=str(config.DEFAULT_HOME), show_default=True,
              envvar="CARBONLEASE_NETWORK_HOME", help="Run folder for generated material.")
@click.option("--port-offset", default=0, show_default=True, type=int,
              envvar="CARBONLEASE_PORT_OFFSET", help="Added to every port of the file.")
@click.option("--org", "org", default=None, metavar="MSP_ID",
              help="Act as this org, from its own site (for the per-org steps).")
@click.pass_context
def main(ctx, config_path, home, port_offset, org):
    # Everything the tool writes under the run folder (keys, configs, profiles, logs) is its
    # owner's alone; public material is handed out deliberately, not by mode bits.
    os.umask(processes.PRIVATE_UMASK)
    ctx.obj = {"config": config_path, "home": home, "port_offset": port_offset, "org": org}


@main.command()
def build():
    """Build (or find cached) the Fabric and Fabric CA binaries and print their folders."""
    click.echo(binaries.ensure_built())
    click.echo(binaries.ensure_ca_built())


@main.command()
@click.pass_context
def up(ctx):
    """Bring the consortium up; only what is missing is done."""
    changes = _network(ctx).up()
    for change in changes:
        click.echo(change)
    if not changes:
        click.echo("already up: nothing changed")


@main.command()
@click.option("--purge", is_flag=True, help="Also delete the run folder (ledgers, crypto).")
@click.pass_context
def down(ctx, purge):
    """Stop every process this tool started (by recorded pid)."""
    stopped = _network(ctx).down(purge=purge)
    click.echo(f"stopped {len(stopped)} process(es)" + (": " + ", ".join(stopped) if stopped else ""))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.pass_context
def status(ctx, as_json):
    """Health of every node; exits 1 if anything is unhealthy."""
    report = _network(ctx).status()
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for kind in ("orderers", "peers"):
            for node in report[kind]:
                mark = "ok  " if node["healthy"] else "DOWN"
                extra = f" height {node['height']}" if node.get("height") else ""
                click.echo(f"{mark} {node['name']:<34} {node['endpoint']}{extra}")
        for name, items in (("cas", report.get("cas", [])),
                            ("chaincodes", report.get("chaincodes", [])),
                            ("gateways", report.get("gateways", [])),
                            ("followers", report.get("followers", []))):
            for item in items:
                mark = "ok  " if item.get("healthy") else "DOWN"
                click.echo(f"{mark} {name[:-1]} {item.get('name') or item.get('msp_id')}")
        click.echo("healthy" if report["healthy"] else "UNHEALTHY")
    sys.exit(0 if report["healthy"] else 1)


# --- one org's steps (--org), as its operator runs them on its own host -----------------------

@main.command()
@click.pass_context
def init(ctx):
    """Start the org's CA, enroll its identities in its site, export its public definition."""
    _echo_changes(_site(ctx).init())


@main.command()
@click.pass_context
def found(ctx):
    """Make the channel's genesis block from the founding orgs' exported definitions."""
    _echo_changes(_site(ctx).found())


@main.command("join-orderers")
@click.pass_context
def join_orderers(ctx):
    """Start the org's orderers and join them to the channel (genesis block from the
    exchange)."""
    _echo_changes(_site(ctx).join_orderers())


@main.command("join-peers")
@click.pass_context
def join_peers(ctx):
    """Start the org's peers and join them to the channel."""
    site = _site(ctx)
    _echo_changes(site.join_peers())
    if site.org.joins_later:
        _network(ctx).record_joined(site.org.msp_id)


@main.command("chaincode")
@click.pass_context
def deploy_chaincode(ctx):
    """Install every chaincode on the org's peers, run its servers, approve as its admin."""
    _echo_changes(_site(ctx).deploy_chaincode())


@main.command("define-chaincode")
@click.pass_context
def define_chaincode(ctx):
    """As the lessor: commit the definitions every member approved and set the roles."""
    _echo_changes(_site(ctx).define_chaincode())


@main.command("propose-org")
@click.argument("msp_id")
@click.pass_context
def propose_org(ctx, msp_id):
    """Write the config update adding MSP_ID (from its export); prints the file's path."""
    site = _site(ctx)
    update = site.propose_org(site.consortium.org(msp_id))
    click.echo(update or f"{msp_id} is already a member: nothing to propose")


# What a signer is asked to agree to: the file is checked to do exactly that before it is signed.
_ADDS = click.option("--adds", "adds", required=True, metavar="MSP_ID",
                     help="The org the update must add, and nothing else.")


@main.command("sign-update")
@click.argument("update", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_ADDS
@click.pass_context
def sign_update(ctx, update, adds):
    """Add the org admin's signature to the config update file UPDATE, once it is found to
    add the org ADDS to the channel and change nothing else."""
    _site(ctx).sign(update, channel.adding_org(adds))
    click.echo(f"signed {update}")


@main.command("submit-update")
@click.argument("update", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_ADDS
@click.pass_context
def submit_update(ctx, update, adds):
    """Submit the signed config update file UPDATE to the orderers (signing it too), once it
    is found to add the org ADDS and change nothing else."""
    _site(ctx).submit(update, channel.adding_org(adds))
    click.echo(f"submitted {update}")


# --- the whole consortium on one machine --------------------------------------------------------

@main.command("add-org")
@click.argument("msp_id")
@click.option("--signer", "signers", multiple=True,
              help="MSP id of an org whose admin signs the config update (repeatable); "
                   "default: as many member orgs as the channel's Admins policy needs.")
@click.pass_context
def add_org(ctx, msp_id, signers):
    """Bring an org declared in the consortium file into the running channel."""
    changes = add_org_to_channel(_network(ctx), msp_id, list(signers) or None)
    for change in changes:
        click.echo(change)
    if not changes:
        click.echo(f"{msp_id} is already a member: nothing changed")


@main.command()
@click.argument("msp_id")
@click.argument("name")
@click.option("--role", default="writer", show_default=True,
              type=click.Choice(["reader", "writer", "admin"]))
@click.option("--revoke", is_flag=True,
              help="Revoke NAME instead: at the CA, in the channel config (the org's CRL, "
                   "signed by the org's admin) and its API key.")
@click.pass_context
def user(ctx, msp_id, name, role, revoke):
    """Enroll a person or app NAME at MSP_ID's CA and bind a new API key of its gateway to
    that identity; prints {"api_key", "enrollment_id", "subject", "cert", "key"}."""
    if revoke:
        click.echo(json.dumps(revocation.revoke_user(_network(ctx), msp_id, name)))
    else:
        click.echo(json.dumps(users.add_user(_network(ctx), msp_id, name, role)))


@main.command()
@click.argument("node")
@click.option("-n", "--lines", default=100, show_default=True)
@click.pass_context
def logs(ctx, node, lines):
    """Print the last lines of a node's log (e.g. peer0.lessor.carbonlease.local)."""
    layout = _network(ctx).layout
    path = layout.log_file(node)
    if not path.exists():
        known = sorted(p.stem for p in layout.log_files())
        raise click.ClickException(f"no log for {node!r}; known: {', '.join(known) or 'none'}")
    click.echo("".join(path.read_text(errors="replace").splitlines(keepends=True)[-lines:]),
               nl=False)


def run() -> None:
    try:
        main(standalone_mode=True)
    except (config.ConfigError, processes.ProcessError, binaries.BuildError,
            FabricCommandError, UpdateRefused, ca.CAError,
            users.UserError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
