"""Answer bodies dumped by a plan compiled once per response schema, not field by field.

marshmallow dumps each value through several calls (``Field.serialize``, ``get_value``,
``get_attribute``, ``_serialize``): a 120-row preview schedule is 840 values and cost more CPU
than everything else the gateway does for the request. The chaincode's answers are decoded
JSON, so almost every value already has the type its field would turn it into (an ``int`` for
an ``Integer``, a ``str`` for a ``String``): for those, marshmallow's own ``_serialize`` returns
the value itself (``int(v)`` or ``str(v)`` of an exact int or str), and the plan keeps it as is.
Any other value, a key the object lacks (``dump_default``), an object that is not a ``dict``,
and every field kind the plan does not know goes through marshmallow itself, so the answer is
the one ``schema.dump`` gives, by construction. Schemas stay the single source of the shapes:
the plan is read from their fields.

A schema with ``pre_dump``/``post_dump`` hooks, its own ``get_attribute``, or ``many`` is dumped
by marshmallow as before.

The JSON text of an answer whose schema holds only integers, strings, and lists and records of
those (a ``PlainAnswer``) is written by orjson, which gives the very bytes Python's
``json`` gives Flask (sorted keys, no spaces, ASCII) for such data, but in a tenth of the time;
any answer with a character outside ASCII or DEL (which ``json`` escapes and orjson does not),
an integer orjson cannot take (beyond 64 bits), or any other kind of value keeps Flask's own
encoder.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable

import marshmallow as ma
import orjson
from flask.json.provider import DefaultJSONProvider
from marshmallow import fields

_MISSING = ma.missing

# Field classes whose marshmallow _serialize returns a value of exactly this type unchanged
# (Integer and String turn anything else into one; Boolean returns anything as it is).
_KEPT_TYPES = ((fields.Integer, int), (fields.String, str), (fields.Boolean, bool))


def _kept_type(field: fields.Field) -> type | None:
    """The value type ``field`` dumps unchanged, if its serialization is marshmallow's own."""
    if type(field).serialize is not fields.Field.serialize or \
            type(field).get_value is not fields.Field.get_value:
        return None
    for kind, value_type in _KEPT_TYPES:
        own_format = getattr(type(field), "_format_num", None) is getattr(kind, "_format_num", None)
        if isinstance(field, kind) and type(field)._serialize is kind._serialize and own_format \
                and not getattr(field, "as_string", False):
            return value_type
    return None


class PlainAnswer(dict):
    """A dumped answer holding nothing but dicts, lists, str, int and None."""


def _plain(field: fields.Field) -> bool:
    """Whether every value ``field`` dumps is a str, int, None, or a list or dict of those:
    what its marshmallow ``_serialize`` returns, whatever it is given."""
    if _kept_type(field) in (int, str):
        # Boolean is not: marshmallow dumps whatever it is given unchanged.
        return True
    if type(field) is fields.List and type(field)._serialize is fields.List._serialize:
        return _plain(field.inner)
    if type(field) is fields.Nested and not field.many and isinstance(field.nested, type) \
            and issubclass(field.nested, ma.Schema):
        schema = field.schema
        return plan(schema) is not None and all(_plain(f) for f in schema.dump_fields.values())
    return False


def _value_plan(field: fields.Field) -> Callable[[Any, str, Any], Any]:
    """``value, attr, obj -> dumped value`` for a value present in the object."""
    kept = _kept_type(field)
    if kept is not None:
        def keep(value, attr, obj):
            return value if type(value) is kept else field._serialize(value, attr, obj)
        return keep
    if type(field) is fields.List and type(field)._serialize is fields.List._serialize:
        inner = _value_plan(field.inner)

        def each(value, attr, obj):
            if type(value) is not list:
                return field._serialize(value, attr, obj)
            return [inner(item, attr, obj) for item in value]
        return each
    if type(field) is fields.Nested and not field.many and not field.only and \
            not field.exclude and isinstance(field.nested, type) and \
            issubclass(field.nested, ma.Schema):
        nested = plan(field.schema)
        if nested is not None:
            def record(value, attr, obj):
                return nested(value) if type(value) is dict else field._serialize(value, attr, obj)
            return record
    return field._serialize


def plan(schema: ma.Schema) -> Callable[[Any], dict] | None:
    """A function dumping one object as ``schema.dump`` would, or None if ``schema`` is not one
    the plan can follow (then use ``schema.dump``)."""
    if schema.many or schema._hooks[ma.decorators.PRE_DUMP] or \
            schema._hooks[ma.decorators.POST_DUMP] or \
            type(schema).get_attribute is not ma.Schema.get_attribute or \
            schema.dict_class is not dict:
        return None
    steps = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        present = "." not in name and field._CHECK_ATTRIBUTE and \
            type(field).serialize is fields.Field.serialize and \
            type(field).get_value is fields.Field.get_value and field.attribute is None
        steps.append((name, key, field, _value_plan(field) if present else None))
    accessor = schema.get_attribute
    marshmallow_dump = functools.partial(ma.Schema.dump, schema)
    answer_type = PlainAnswer if all(_plain(f) for f in schema.dump_fields.values()) else dict

    def dump(obj: Any) -> dict:
        if type(obj) is not dict:
            dumped = marshmallow_dump(obj)
            return answer_type(dumped) if type(dumped) is dict else dumped
        answer = answer_type()
        for name, key, field, value_plan in steps:
            value = obj.get(name, _MISSING) if value_plan is not None else _MISSING
            if value is _MISSING:
                value = field.serialize(name, obj, accessor=accessor)
                if value is _MISSING:
                    continue
            else:
                value = value_plan(value, name, obj)
            answer[key] = value
        return answer

    return dump


def with_plan(schema: ma.Schema) -> ma.Schema:
    """``schema`` (an instance), dumping single objects through its plan where it has one."""
    compiled = plan(schema)
    if compiled is not None:
        marshmallow_dump = functools.partial(ma.Schema.dump, schema)

        def dump(obj, *, many=None):
            return marshmallow_dump(obj, many=many) if many else compiled(obj)
        # On this instance only: the class, and so the OpenAPI document, stay the same.
        schema.dump = dump
    return schema


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON provider, with plain answers written by orjson (see the module)."""

    def response(self, *args, **kwargs):
        obj = self._prepare_response_obj(args, kwargs)
        if type(obj) is PlainAnswer and self._orjson_is_json():
            try:
                body = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
            except orjson.JSONEncodeError:
                body = None
            if body is not None and body.isascii() and b"\x7f" not in body:
                return self._app.response_class(body + b"\n", mimetype=self.mimetype)
        return super().response(obj)

    def _orjson_is_json(self) -> bool:
        """Whether Flask would write what orjson writes: compact, sorted, ASCII."""
        compact = self.compact if self.compact is not None else not self._app.debug
        return compact and self.sort_keys and self.ensure_ascii


# orjson reads an integer beyond 64 bits as a float; one has 19 digits or more. Found as a
# substring of the text with every digit made "0" and every other byte " " (a regular
# expression, which retries at each digit of every run, cost more than decoding).
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def loads(payload: bytes):
    """``json.loads``, through orjson where it gives the same value: text orjson refuses, and
    any with a run of 19 digits or more (an integer that may not fit 64 bits), go to ``json``."""
    if _LONG_DIGIT_RUN not in payload.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
    return json.loads(payload)
