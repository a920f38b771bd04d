"""``schemas.Integers`` loads and refuses exactly what a list of ``Int`` fields does: its
one-pass path for plain in-range integers changes only the cost."""

import marshmallow as ma
import pytest
from marshmallow import fields

from gateway.api import schemas


class Fast(ma.Schema):
    values = schemas.Integers(0, 100, allow_none_items=True, required=True)
    strict = schemas.Integers(-5, 5)


class ItemByItem(ma.Schema):
    values = fields.List(schemas.Int(0, 100, allow_none=True), required=True)
    strict = fields.List(schemas.Int(-5, 5))


def outcome(schema, data):
    try:
        return "loaded", schema.load(data)
    except ma.ValidationError as error:
        return "refused", error.messages


@pytest.mark.parametrize("data", [
    {"values": []},
    {"values": [0, 100, None, 7]},
    {"values": [None, None]},
    {"values": [101]},
    {"values": [-1, 5]},
    {"values": [1.0]},
    {"values": [True, 1]},
    {"values": ["3"]},
    {"values": [1, [2]]},
    {"values": None},
    {"values": "12"},
    {"values": {"a": 1}},
    {"values": [1], "strict": [None]},
    {"values": [1], "strict": [-5, 5]},
    {"values": [1], "strict": [-6, 6, 0]},
    {"values": [2**70]},
    {},
])
def test_the_same_as_a_list_of_int_fields(data):
    assert outcome(Fast(), data) == outcome(ItemByItem(), data)
