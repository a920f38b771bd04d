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
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import marshmallow as ma
from marshmallow import fields

_MISSING = ma.missing

# Field classes whose marshmallow _serialize returns a value of exactly this type unchanged.
_KEPT_TYPES = ((fields.Integer, int), (fields.String, str), (fields.Boolean, bool))


def _kept_type(field: fields.Field) -> type | None:
    """The value type ``field`` dumps unchanged, if its serialization is marshmallow's own."""
    if type(field).serialize is not fields.Field.serialize or \
            type(field).get_value is not fields.Field.get_value:
        return None
    for kind, value_type in _KEPT_TYPES:
        if isinstance(field, kind) and type(field)._serialize is kind._serialize \
                and getattr(type(field), "_format_num", None) is getattr(kind, "_format_num", None) \
                and not getattr(field, "as_string", False):
            return value_type
    return None


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

    def dump(obj: Any) -> dict:
        if type(obj) is not dict:
            return marshmallow_dump(obj)
        answer = {}
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
