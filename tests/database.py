"""Gateway databases for tests, made as `up` makes them before starting a gateway."""

from gateway.api import db, schema


def upgraded(url: str) -> str:
    """``url``, its database brought to this version's schema by the upgrade step."""
    schema.upgrade(db.make_engine(url))
    return url
