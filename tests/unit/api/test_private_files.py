"""The gateway's database (API-key hashes, idempotent answers with lease terms, prepared
transactions) is its owner's alone, with SQLite's side files."""

import os
import stat

import sqlalchemy as sa

from gateway.api import db


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_database_and_its_wal_are_0600(tmp_path):
    old = os.umask(0o022)  # the usual umask, which would give 0644
    try:
        engine = db.make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x)"))
        with engine.connect() as held:  # keeps the WAL file in place
            held.execute(sa.text("SELECT * FROM t"))
            files = sorted(p.name for p in tmp_path.iterdir())
            assert "gateway.db-wal" in files
            assert {p.name: mode(p) for p in tmp_path.iterdir()} == dict.fromkeys(files, 0o600)
    finally:
        os.umask(old)


def test_an_older_world_readable_database_is_narrowed(tmp_path):
    path = tmp_path / "gateway.db"
    sa.create_engine(f"sqlite:///{path}").connect().close()
    path.chmod(0o644)
    db.make_engine(f"sqlite:///{path}")
    assert mode(path) == 0o600
