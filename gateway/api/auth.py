"""API credentials and role-based authorization.

An application presents its key as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.
A key is ``cl_<key_id>_<secret>`` with a 256-bit random secret; only its SHA-256 is stored.
A plain hash is enough because the secret has full entropy (nothing to brute-force as with
passwords), and the comparison of hashes is constant-time.

Roles are ordered: ``reader`` (GETs and preview) < ``writer`` (the org's writes) < ``admin``
(credentials). Every ``/api/v1`` route needs at least ``reader`` unless marked otherwise; the
check runs before the request body is even parsed, so nothing unauthorized reaches Fabric.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets

import flask
import sqlalchemy as sa

from . import db
from .errors import ApiError

ROLES = ("reader", "writer", "admin")
IDENTITY_FILES = ("cert.pem", "key.pem")
_RANK = {role: rank for rank, role in enumerate(ROLES)}
_KEY_FORMAT = re.compile(r"cl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")

# Routes that anyone may read: the API description itself.
PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "swagger_ui_assets"}


# Built once: every request looks its key up, and building the statement (and its cache key)
# cost more than running it.
_CREDENTIAL_BY_KEY_ID = sa.select(db.credentials).where(
    db.credentials.c.key_id == sa.bindparam("key_id"))


@dataclasses.dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    role: str
    # The person's own Fabric identity folder (cert.pem, key.pem); None: the org's gateway
    # identity signs for this key.
    identity_dir: str | None = None


@dataclasses.dataclass(frozen=True)
class IssuedKey:
    principal: Principal
    key: str  # shown once, never stored


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class CredentialStore:
    def __init__(self, engine: sa.Engine):
        self._engine = engine

    def create(self, name: str, role: str, identity_dir: str | None = None) -> IssuedKey:
        """A new key; with ``identity_dir`` (holding cert.pem and key.pem) the key's writes
        are signed by that Fabric identity."""
        if role not in _RANK:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if identity_dir is not None:
            missing = [f for f in IDENTITY_FILES if not os.path.isfile(os.path.join(identity_dir, f))]
            if missing:
                raise ValueError(f"{identity_dir} lacks {', '.join(missing)}")
        key_id = secrets.token_hex(8)
        key = f"cl_{key_id}_{secrets.token_urlsafe(32)}"
        with self._engine.begin() as conn:
            conn.execute(db.credentials.insert().values(
                key_id=key_id, name=name, role=role, key_sha256=_digest(key),
                created_at=dt.datetime.now(dt.timezone.utc), revoked_at=None,
                identity_dir=identity_dir))
        return IssuedKey(Principal(key_id, name, role, identity_dir), key)

    def revoke(self, name: str) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                db.credentials.update()
                .where(db.credentials.c.name == name, db.credentials.c.revoked_at.is_(None))
                .values(revoked_at=dt.datetime.now(dt.timezone.utc)))
        return result.rowcount > 0

    def list(self) -> list[dict]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(
                db.credentials.c.key_id, db.credentials.c.name, db.credentials.c.role,
                db.credentials.c.created_at, db.credentials.c.revoked_at,
                db.credentials.c.identity_dir,
            ).order_by(db.credentials.c.created_at)).mappings().all()
        return [dict(row) for row in rows]

    def authenticate(self, key: str) -> Principal | None:
        match = _KEY_FORMAT.fullmatch(key)
        if not match:
            return None
        with self._engine.connect() as conn:
            row = conn.execute(_CREDENTIAL_BY_KEY_ID, {"key_id": match.group(1)}).mappings().first()
        if row is None or row["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(row["key_sha256"], _digest(key)):
            return None
        return Principal(row["key_id"], row["name"], row["role"], row["identity_dir"])


def requires_role(role: str):
    """Mark a view as needing ``role`` (or a higher one) instead of ``reader``."""
    if role not in _RANK:
        raise ValueError(role)

    def mark(view):
        view.required_role = role
        return view

    return mark


def _presented_key() -> str | None:
    header = flask.request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return flask.request.headers.get("X-API-Key") or None


def current_principal() -> Principal:
    return flask.g.principal


def install(app: flask.Flask, store: CredentialStore) -> None:
    challenge = {"WWW-Authenticate": 'Bearer realm="carbonlease"'}

    @app.before_request
    def _authorize():
        # Unknown routes fall through to a 404; /health, /ready, /metrics are for operators.
        if flask.request.endpoint is None or not flask.request.path.startswith("/api/"):
            return
        if flask.request.endpoint in PUBLIC_ENDPOINTS:
            return
        key = _presented_key()
        if key is None:
            raise ApiError(401, "UNAUTHENTICATED",
                           "Missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key'.",
                           headers=challenge)
        principal = store.authenticate(key)
        if principal is None:
            raise ApiError(401, "UNAUTHENTICATED", "Unknown or revoked API key.",
                           headers=challenge)
        flask.g.principal = principal
        view = app.view_functions[flask.request.endpoint]
        needed = getattr(view, "required_role", "reader")
        if _RANK[principal.role] < _RANK[needed]:
            raise ApiError(403, "FORBIDDEN",
                           f"This operation needs the '{needed}' role; "
                           f"credential '{principal.name}' has '{principal.role}'.",
                           {"required_role": needed, "role": principal.role})
