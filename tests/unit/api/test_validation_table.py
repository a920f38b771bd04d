"""golden/validation.json, the table of good and bad inputs the chaincodes' tests also run
(chaincode/lease/test/validation-table.test.ts), against the gateway's marshmallow fields: a
request the gateway accepts must be one the chaincode takes, and the other way round."""

import json
import pathlib

import marshmallow as ma
import pytest

from gateway.api import schemas

TABLE = json.loads((pathlib.Path(__file__).parents[3] / "golden" / "validation.json")
                   .read_text(encoding="utf-8"))


def value_of(case):
    if "json" in case:
        return json.loads(case["json"])
    if "repeat" in case:
        return case["repeat"] * case["times"]
    return case["value"]


def label(case):
    text = (f"{case['repeat']!r} x {case['times']}" if "repeat" in case
            else case.get("json", json.dumps(case.get("value"))))
    return f"{text[:40]} {'valid' if case['valid'] else 'refused'}"


CASES = [
    pytest.param(target["schema"], target["field"], case,
                 id=f"{target['schema']}.{target['field']}: {label(case)}")
    for rule in TABLE["rules"]
    for target in rule["gateway"]
    for case in rule["cases"]
]


@pytest.mark.parametrize(("schema", "field", "case"), CASES)
def test_the_gateway_agrees_with_the_table(schema, field, case):
    loader = getattr(schemas, schema)().fields[field]
    try:
        loader.deserialize(value_of(case))
        verdict = True
    except ma.ValidationError:
        verdict = False
    assert verdict is case["valid"]
