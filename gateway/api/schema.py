"""The schema of this version of the gateway's database, made by one step.

``upgrade`` (``python -m gateway.api.manage upgrade-schema``) creates the missing tables, adds
the columns an older gateway's own tables lack, and rebuilds the read-model tables made by
another version. `up` runs it once per org, with that org's follower stopped and before the
new gunicorn and follower start; those only check the schema (``db.problems``,
``store.problems``) and answer or log a clear error while it is not this version's. One
process changing the schema means no other one races it for a table.

The follower holds ``follower_lock`` for as long as it runs (one that starts while an upgrade
or another follower holds it waits), and ``upgrade`` and ``manage reset-read-model`` take it
without waiting: a follower still running is never handed tables rebuilt under it, where it
would write the checkpoint of its old position and the new follower would skip the events
before it. A database that is not a SQLite file has no lock file: there `up`'s order (follower
stopped first) is the guard, and reset-read-model also looks at the follower's heartbeat.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

import sqlalchemy as sa

from . import db
from .readmodel import store


class FollowerRunning(Exception):
    """A follower holds the database's follower lock."""


def lock_path(engine: sa.Engine) -> str | None:
    """The follower lock of a SQLite database file: a file beside it. None for a database in
    memory, which no other process can reach."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:"):
        return None
    return database + ".follower-lock"


@contextlib.contextmanager
def follower_lock(engine: sa.Engine, *, on_wait=None):
    """Held while the block runs. When another process (a follower, an upgrade) holds it:
    raises ``FollowerRunning`` at once, or with ``on_wait`` calls it with the reason and waits
    for the lock. The kernel frees it when its holder dies."""
    path = lock_path(engine)
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            reason = (f"a read-model follower (or an upgrade) is using this database (it holds "
                      f"{path}): stop it first (scripts/down, or SIGTERM to its pid)")
            if on_wait is None:
                raise FollowerRunning(reason) from None
            on_wait(reason)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def problems(engine: sa.Engine) -> list[str]:
    """How the database differs from this version's schema (none: it is current)."""
    return [*db.problems(engine), *store.problems(engine)]


def upgrade(engine: sa.Engine) -> list[str]:
    """Bring the database to this version's schema; returns what was changed (none when it
    was current). Raises ``FollowerRunning`` while a follower uses the database."""
    changes = []
    with follower_lock(engine):
        outdated = store.outdated_tables(engine)
        if outdated:
            with engine.begin() as conn:
                store.rebuild(conn)
            changes.append(f"rebuilt the read model ({', '.join(outdated)} were of another "
                           f"version): the follower follows every chaincode from block 0")
        inspector = sa.inspect(engine)
        missing = [t.name for t in db.metadata.sorted_tables if not inspector.has_table(t.name)]
        if missing:
            db.metadata.create_all(engine)
            changes.append(f"created tables {', '.join(missing)}")
        for table in db.COLUMN_UPGRADES:
            added = db.add_missing_columns(engine, table)
            if added:
                changes.append(f"added columns {', '.join(added)} to {table.name}")
    return changes
