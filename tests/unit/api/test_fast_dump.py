"""The compiled dump plan answers exactly what marshmallow's dump answers, for every response
schema: on the chaincodes' real answers (golden stories) and on objects of any shape."""

from __future__ import annotations

import inspect
import json
import random

import flask
import marshmallow as ma
import pytest
from flask.json.provider import DefaultJSONProvider
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import fields

from gateway.api import fast_dump, schemas

from . import golden

RESPONSE_SCHEMAS = [cls for _, cls in inspect.getmembers(schemas, inspect.isclass)
                    if issubclass(cls, ma.Schema) and cls.__module__ == schemas.__name__]
RESPONSE_SCHEMAS += [schemas.committed(schemas.PublicLease), schemas.committed(schemas.Project)]


def outcome(dump, obj):
    """What a dump gives: its answer, or the kind of error it raises."""
    try:
        return "answer", json.dumps(dump(obj))
    except Exception as error:  # compared, not hidden
        return "error", type(error).__name__


def golden_answers():
    for chaincode in ("lease", "emission"):
        for transaction in golden.story(chaincode):
            yield transaction["answer"]


# Values of every JSON type and then some: what a field might meet in an object.
ODD_VALUES = [0, 7, -3, 2**60, 1.0, 2.5, True, False, None, "", "12", "text", "été", [],
              [1, "a", None], {}, {"x": 1}, b"raw"]


def random_object(schema: ma.Schema, rng: random.Random, depth: int = 0):
    """A dict with some of the schema's keys (and an unknown one), values sometimes right,
    sometimes of another type; nested records recursively."""
    obj = {}
    for name, field in schema.dump_fields.items():
        roll = rng.random()
        if roll < 0.15:
            continue  # missing
        if roll < 0.5 or depth > 3:
            obj[name] = rng.choice(ODD_VALUES)
        elif isinstance(field, fields.Nested):
            obj[name] = random_object(field.schema, rng, depth + 1)
        elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            obj[name] = [random_object(field.inner.schema, rng, depth + 1)
                         for _ in range(rng.randrange(3))]
        elif isinstance(field, fields.List):
            obj[name] = [rng.choice(ODD_VALUES) for _ in range(rng.randrange(4))]
        else:
            obj[name] = rng.choice(ODD_VALUES)
    obj["not_a_field"] = 1
    return obj


PLANNED = [cls for cls in RESPONSE_SCHEMAS if fast_dump.plan(cls()) is not None]


@pytest.mark.parametrize("schema_class", PLANNED, ids=lambda c: c.__name__)
def test_the_plan_dumps_what_marshmallow_dumps(schema_class):
    schema = schema_class()
    compiled = fast_dump.plan(schema)
    rng = random.Random(schema_class.__name__)
    objects = [*golden_answers(), *(random_object(schema, rng) for _ in range(300)),
               None, 5, "text", [], ["a"]]
    for obj in objects:
        assert outcome(compiled, obj) == outcome(schema.dump, obj), obj


def test_the_preview_and_schedule_rows_have_a_plan():
    # The schemas of the big answers must not silently fall back to field-by-field dumping.
    for schema_class in (schemas.Preview, schemas.Schedule, schemas.Lease):
        assert fast_dump.plan(schema_class()) is not None


def test_a_schema_with_a_dump_hook_keeps_marshmallows_dump():
    class Hooked(ma.Schema):
        n = fields.Integer()

        @ma.post_dump
        def double(self, data, **_):
            return {"n": data["n"] * 2}

    assert fast_dump.plan(Hooked()) is None
    assert fast_dump.with_plan(Hooked()).dump({"n": 2}) == {"n": 4}


def test_dumping_many_goes_through_marshmallow():
    schema = fast_dump.with_plan(schemas.ScheduleRow())
    rows = [{"period": 1, "rate_bps": 1.0}, {"period": "2"}]
    assert schema.dump(rows, many=True) == schemas.ScheduleRow().dump(rows, many=True)


def test_a_planned_schema_keeps_its_class():
    # apispec names the OpenAPI component after the class.
    assert type(fast_dump.with_plan(schemas.Preview())) is schemas.Preview


def test_the_preview_answer_is_plain():
    # orjson writes it: the gateway's biggest answer must not fall back to Python's encoder.
    assert type(fast_dump.plan(schemas.Preview())({"rows": []})) is fast_dump.PlainAnswer


def written(provider, answer):
    """The body a JSON provider writes for ``answer``, or the kind of error it raises."""
    try:
        return provider.response(answer).get_data()
    except Exception as error:  # compared, not hidden
        return type(error).__name__


@pytest.mark.parametrize("schema_class", PLANNED, ids=lambda c: c.__name__)
def test_answers_are_the_bytes_flasks_own_encoder_writes(schema_class):
    app = flask.Flask(__name__)
    ours, flasks = fast_dump.JsonProvider(app), DefaultJSONProvider(app)
    compiled = fast_dump.plan(schema_class())
    rng = random.Random(schema_class.__name__ + "json")
    objects = [*golden_answers(), *(random_object(schema_class(), rng) for _ in range(200))]
    with app.app_context():
        for obj in objects:
            try:
                answer = compiled(obj)
            except Exception:  # noqa: BLE001 - marshmallow refuses it too (test above)
                continue
            assert written(ours, answer) == written(flasks, answer)


@pytest.mark.parametrize("text", [
    "\x7f", "".join(map(chr, range(128))), "été", "中文", "\ud800", "\u2028", "a\"b\\c/d"])
def test_strings_orjson_writes_otherwise_are_written_by_flask(text):
    app = flask.Flask(__name__)
    answer = fast_dump.PlainAnswer(name=text, n=2**70, m=-(2**63), z=None, flag=True)
    with app.app_context():
        assert fast_dump.JsonProvider(app).response(answer).get_data() == \
            DefaultJSONProvider(app).response(answer).get_data()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@given(JSON_VALUES)
def test_chaincode_answers_decode_as_json_decodes_them(value):
    text = json.dumps(value).encode()
    assert repr(fast_dump.loads(text)) == repr(json.loads(text))


@pytest.mark.parametrize("text", [
    b'{"a":1,"a":2}', b"18446744073709551616", b"-9223372036854775809", b"1234567890123456789",
    b"NaN", b"1E400", b'"\\ud800"', b"\xef\xbb\xbf[1]"])
def test_texts_orjson_reads_otherwise_decode_as_json_decodes_them(text):
    assert repr(fast_dump.loads(text)) == repr(json.loads(text))
