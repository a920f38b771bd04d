"""Credential management: ``python -m gateway.api.manage --db URL COMMAND``.

    create-key --name NAME --role reader|writer|admin [--out FILE] [--identity-dir DIR]
    revoke-key --name NAME
    list-keys
    purge-idempotency [--older-than-hours 24]
    reset-read-model
    upgrade-schema

The key is shown once (or written to FILE with mode 0600) and only its SHA-256 is stored.
``--db`` defaults to ``CARBONLEASE_DATABASE_URL`` as the gateway reads it.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import click
import sqlalchemy as sa

from . import schema
from .auth import ROLES, CredentialStore
from .config import Config
from .db import make_engine
from .idempotency import IdempotencyStore
from .readmodel import ReadModel


@click.group()
@click.option("--db", "database_url", default=lambda: Config.from_env().database_url,
              show_default="CARBONLEASE_DATABASE_URL or sqlite:///carbonlease-gateway.db",
              help="SQLAlchemy URL of the gateway's database.")
@click.pass_context
def cli(ctx: click.Context, database_url: str) -> None:
    ctx.obj = make_engine(database_url)
    if ctx.invoked_subcommand != "upgrade-schema":
        found = schema.problems(ctx.obj)
        if found:
            raise click.ClickException(
                f"the database is not of this version's schema ({'; '.join(found)}): "
                f"run upgrade-schema first")


@cli.command("upgrade-schema")
@click.pass_obj
def upgrade_schema(engine) -> None:
    """Bring the database to this version's schema: create the missing tables, add the
    columns older tables lack, rebuild read-model tables of another version (the follower
    then follows from block 0). Refused while a follower uses the database: stop it first.
    Prints one line per change, nothing when the schema was current."""
    try:
        changes = schema.upgrade(engine)
    except schema.FollowerRunning as error:
        raise click.ClickException(str(error)) from None
    for change in changes:
        click.echo(change)


@cli.command("create-key")
@click.option("--name", required=True, help="Unique name of the application.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--out", type=click.Path(dir_okay=False, writable=True),
              help="Write the key to this file (mode 0600) instead of printing it.")
@click.option("--identity-dir", type=click.Path(file_okay=False, exists=True),
              help="Sign this key's writes with the Fabric identity in DIR (cert.pem, key.pem) "
                   "instead of the gateway's own.")
@click.pass_obj
def create_key(engine, name: str, role: str, out: str | None, identity_dir: str | None) -> None:
    """Issue an API key bound to ROLE in this gateway's org."""
    try:
        issued = CredentialStore(engine).create(
            name, role, os.path.abspath(identity_dir) if identity_dir else None)
    except sa.exc.IntegrityError:
        raise click.ClickException(f"a credential named {name!r} exists already") from None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if out:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(issued.key + "\n")
        click.echo(f"created {role} key {name!r} ({issued.principal.key_id}) in {out}")
    else:
        click.echo(issued.key)


@cli.command("revoke-key")
@click.option("--name", required=True)
@click.pass_obj
def revoke_key(engine, name: str) -> None:
    """Revoke a key at once; requests with it answer 401 from then on."""
    if not CredentialStore(engine).revoke(name):
        raise click.ClickException(f"no active credential named {name!r}")
    click.echo(f"revoked {name!r}")


@cli.command("list-keys")
@click.pass_obj
def list_keys(engine) -> None:
    """One JSON object per credential (never the key)."""
    for row in CredentialStore(engine).list():
        click.echo(json.dumps(row, default=str))


@cli.command("purge-idempotency")
@click.option("--older-than-hours", type=click.IntRange(min=1), default=24, show_default=True)
@click.pass_obj
def purge_idempotency(engine, older_than_hours: int) -> None:
    """Forget Idempotency-Key answers older than this; run it periodically (e.g. from cron)."""
    removed = IdempotencyStore(engine).purge(dt.timedelta(hours=older_than_hours))
    click.echo(f"removed {removed} idempotency record(s)")


@cli.command("reset-read-model")
@click.pass_obj
def reset_read_model(engine) -> None:
    """Empty the read model (rows, checkpoints, dead letters) so that the follower, started
    again, rebuilds it from block 0, e.g. to apply dead letters after a fix. Refused while a
    follower is listening on this database: stop it first."""
    read_model = ReadModel(engine)
    try:
        with schema.follower_lock(engine):
            _refuse_while_listening(read_model)
            read_model.reset()
    except schema.FollowerRunning as error:
        raise click.ClickException(str(error)) from None
    click.echo("read model emptied: the follower rebuilds it from block 0 when started")


def _refuse_while_listening(read_model: ReadModel) -> None:
    """A follower of a database without a lock file (not SQLite) is known by its heartbeat."""
    listening = [c["chaincode"] for c in read_model.status(channel_height=None)["chaincodes"]
                 if c["listening"]]
    if listening:
        raise click.ClickException(
            f"a follower is listening ({', '.join(listening)}): stop it first "
            f"(scripts/down, or SIGTERM to its pid), then wait for its heartbeat to go stale")


if __name__ == "__main__":
    cli()
