"""The one decoder of request bodies: every view, and the ``Idempotency-Key`` fingerprint, read a
JSON body through ``json_body(request)``, which refuses what the chaincodes' JSON would not
mean the same way (or what would make Python fail) with a 400 in the error shape:

* not UTF-8, not JSON, or JSON's non-standard ``NaN``/``Infinity``;
* an object with the same key twice (Python keeps the last, JavaScript too, but another
  parser may keep the first: the gateway must not guess which one the caller meant);
* nesting deeper than ``MAX_DEPTH`` (no request shape needs more than 4 levels; a few
  thousand brackets make Python's parser and ``json.dumps`` hit the recursion limit);
* a number literal longer than ``MAX_NUMBER_LENGTH`` characters (the largest field takes a
  16-digit integer; Python refuses to convert integers of more than 4300 digits).

Query strings go through the same parser (``Parser``), which refuses a parameter given twice.

Chunked bodies are read up to the app's ``MAX_CONTENT_LENGTH`` and refused with 413 beyond it,
never cut short.
"""

from __future__ import annotations

import json
import re

import flask
import marshmallow as ma
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import ApiError

MAX_DEPTH = 32
MAX_NUMBER_LENGTH = 64
_CACHE_KEY = "carbonlease.json_body"


class _Refused(ValueError):
    pass


def _object(pairs: list[tuple[str, object]]) -> dict:
    body = dict(pairs)
    if len(body) != len(pairs):
        seen = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _Refused(f"Duplicate key {duplicate!r} in a JSON object.")
    return body


def _number(convert):
    def parse(literal: str):
        if len(literal) > MAX_NUMBER_LENGTH:
            raise _Refused(f"A number longer than {MAX_NUMBER_LENGTH} characters.")
        return convert(literal)
    return parse


def _constant(name: str):
    raise _Refused(f"{name} is not JSON.")


def _depth(value) -> int:
    """Nesting depth of decoded JSON, without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            pending.extend((child, level + 1)
                           for child in (item.values() if isinstance(item, dict) else item))
    return deepest


# A run of characters that may make up a JSON number, longer than any number allowed: only a
# body holding one (in a number or in a string) needs each number literal checked, which costs
# a Python call per number.
_LONG_NUMBER_RUN = re.compile(rf"[-+.eE0-9]{{{MAX_NUMBER_LENGTH + 1},}}")


def decode(raw: bytes):
    """JSON text -> Python data, or ApiError 400 saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
        numbers = {}
        if _LONG_NUMBER_RUN.search(text):
            numbers = {"parse_int": _number(int), "parse_float": _number(float)}
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant, **numbers)
    except _Refused as err:
        raise _bad_body(str(err)) from None
    except RecursionError:
        raise _bad_body(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad_body("Invalid JSON body.") from None
    if _depth(value) > MAX_DEPTH:
        raise _bad_body(f"JSON nested deeper than {MAX_DEPTH} levels.")
    return value


def _bad_body(reason: str) -> ApiError:
    return ApiError(400, "BAD_REQUEST", reason, {"json": [reason]})


def json_body(request: flask.Request):
    """The request's JSON body, decoded once per request; ``core.missing`` when the request has
    no JSON content type or no body."""
    cache = request.environ
    if _CACHE_KEY not in cache:
        cache[_CACHE_KEY] = _read(request)
    return cache[_CACHE_KEY]


def _read(request: flask.Request):
    if not core.is_json(request.mimetype):
        return core.missing
    limit = flask.current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and request.environ.get("wsgi.input_terminated"):
        # Chunked, from a server that ends the stream itself (gunicorn): werkzeug's get_data
        # would silently stop at the limit, so read one byte past it to see an excess.
        raw = request.environ["wsgi.input"].read(limit + 1)
        if len(raw) > limit:
            raise RequestEntityTooLarge()
    else:
        raw = request.get_data(cache=True)
    return decode(raw) if raw else core.missing


class Parser(FlaskParser):
    """webargs' parser reading JSON bodies through ``json_body``; a query parameter given twice
    is refused like a duplicate JSON key (webargs would silently take the first)."""

    def _raw_load_json(self, req: flask.Request):
        return json_body(req)

    def load_querystring(self, req: flask.Request, schema: ma.Schema):
        repeated = sorted(name for name, values in req.args.lists() if len(values) > 1
                          and not isinstance(schema.fields.get(name), ma.fields.List))
        if repeated:
            raise ApiError(422, "INVALID_ARGUMENT", "A query parameter is given more than once.",
                           {"query": {name: ["Given more than once."] for name in repeated}})
        return super().load_querystring(req, schema)
