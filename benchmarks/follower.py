"""CPU of the read-model follower per event, without a Fabric network.

    .venv/bin/python -m benchmarks.follower [--events 3000] [--per-block 20] [--profile N]

Feeds ``--events`` ``lease:ProjectRegistered`` events (the write ``benchmarks.throughput``
makes; the payload is the chaincode's golden one, ``golden/chaincode/lease.json``, with a new
project id each) into a fresh SQLite gateway database in a temporary folder, in blocks of
``--per-block`` events (what a block holds under load), and prints the follower's CPU
milliseconds per event (``time.process_time``) for each way of recording them:

* ``per event``: ``apply`` on each event, one database transaction each;
* ``per block``: ``apply_block`` on each block's events, one database transaction per block
  (what the follower does with the events the peer delivers together).

``--profile N`` prints the N most expensive functions (cProfile, cumulative) of each way.
What happens before an event reaches the follower (gRPC, protobuf) is not in these figures.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import tempfile
import time
from pathlib import Path

from gateway.api import db, schema
from gateway.api.readmodel import ReadModel
from gateway.api.readmodel.follower import DeadLetterWarnings, apply, apply_block
from gateway.fabricgw.events import ChaincodeEvent

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "chaincode" / "lease.json"


def project_registered_template() -> dict:
    [first] = [t for t in json.loads(GOLDEN.read_text())["transactions"]
               if t["event"] is not None and t["event"]["name"] == "ProjectRegistered"][:1]
    return json.loads(first["event"]["payload"])


def blocks_of_events(count: int, per_block: int) -> list[list[ChaincodeEvent]]:
    template = project_registered_template()
    blocks = []
    for number in range(count):
        project = {**template, "project_id": f"bench-{number:08d}"}
        event = ChaincodeEvent(1 + number // per_block,
                               hashlib.sha256(f"bench/{number}".encode()).hexdigest(), "lease",
                               "ProjectRegistered", json.dumps(project).encode())
        if number % per_block == 0:
            blocks.append([])
        blocks[-1].append(event)
    return blocks


def _per_event(read_model, blocks, warnings):
    for block in blocks:
        for event in block:
            apply(read_model, "lease", event, warnings=warnings)


def _per_block(read_model, blocks, warnings):
    for block in blocks:
        apply_block(read_model, "lease", block, warnings=warnings)


WAYS = {"per event": _per_event, "per block": _per_block}


def measure(way, blocks, profile: int = 0) -> float:
    """CPU ms per event of recording ``blocks`` the ``way`` given, into a new database."""
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{folder}/gateway.db")
        schema.upgrade(engine)
        read_model = ReadModel(engine)
        warnings = DeadLetterWarnings()
        profiler = cProfile.Profile() if profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        way(read_model, blocks, warnings)
        if profiler:
            profiler.disable()
        spent = time.process_time() - started
        engine.dispose()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
    return 1000 * spent / sum(len(b) for b in blocks)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--per-block", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    blocks = blocks_of_events(args.events, args.per_block)
    measure(_per_event, blocks_of_events(200, args.per_block))  # imports, caches warmed
    print(f"{args.events} ProjectRegistered events, {args.per_block} per block, SQLite")
    for name, way in WAYS.items():
        print(f"{name}: {measure(way, blocks, args.profile):.3f} CPU ms per event")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
