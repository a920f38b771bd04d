"""Writes through crashes: no acknowledged write lost or doubled, none left without an answer.

    .venv/bin/python -m benchmarks.fault_soak [--count 2000] [--concurrency 16]
        [--home DIR --port-offset N | --throwaway [--keep]]

Against the network `scripts/up` started (or the tool's network in ``--home``/``--port-offset``,
or with ``--throwaway`` one of its own, removed afterwards unless ``--keep``), it sends
``--count`` `POST /api/v1/projects` through the Lessor REST gateway from ``--concurrency``
threads, each with its own Idempotency-Key, retried as README advises (5xx, connection
failures and retryable 409s: same key, same body, after Retry-After). Meanwhile it SIGKILLs
the Raft leader orderer (the one whose `consensus_etcdraft_is_leader` is 1) once a quarter of
the writes have been sent, and peer1 of Lessor at half (other victims and moments with
``--victim NAME@FRACTION``), each by its recorded pid, and brings each back with
`python -m network up` 8 s later.

Then it checks every acknowledged write at every REST gateway (`GET /api/v1/transactions/{tx}`
VALID) and prints: acknowledged, refused (by code), in limbo (no final answer before the
client gave up), lost (acknowledged but not VALID everywhere, or refused yet on the ledger),
duplicated (a transaction acknowledged for two writes, or a write refused ALREADY_EXISTS
because an earlier attempt of its own had committed), the longest time a write waited for its
final answer, and each `up`'s exit code and duration. Asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import shutil
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from network import processes
from tests.integration.throwaway import ThrowawayNetwork, ToolNetwork

# Codes of 409 answers that say "the same request may succeed if sent again".
RETRYABLE_CONFLICTS = {"IDEMPOTENCY_IN_PROGRESS", "MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"}
# Longer than any write of a live gateway (CARBONLEASE_WRITE_DEADLINE, 60 s, plus a margin).
REQUEST_TIMEOUT_S = 90
RESTART_AFTER_S = 8.0


@dataclasses.dataclass
class Write:
    index: int
    project_id: str
    key: str
    started: float = 0.0
    waited: float | None = None       # seconds from the first send to the final answer
    status: int | None = None         # the final answer's HTTP status
    code: str | None = None           # its error code, if refused
    transaction_id: str | None = None
    sends: int = 0
    last_answer: str = ""


@dataclasses.dataclass
class Crash:
    victim: str
    at_write: int
    killed_pid: int | None = None
    up_exit: int | None = None
    up_seconds: float | None = None
    up_output: str = ""


def leader_orderer(net: ToolNetwork, timeout: float = 30.0) -> str:
    """The orderer that leads the channel's Raft cluster now (asked of each one's metrics)."""
    channel_label = f'channel="{net.consortium.channel}"'
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for orderer in net.consortium.orderers:
            if processes.metric(orderer.operations_port, "consensus_etcdraft_is_leader",
                                channel_label) == 1:
                return orderer.id
        time.sleep(0.2)
    raise RuntimeError("no Raft leader among the orderers")


def lessor_peer1(net: ToolNetwork) -> str:
    return net.consortium.org("LessorMSP").peers[1].id


DEFAULT_VICTIMS = (("leader orderer", leader_orderer, 0.25), ("peer1.lessor", lessor_peer1, 0.5))


def parse_victim(text: str):
    """``NAME@FRACTION``: ``leader`` (the Raft leader orderer at that moment) or the name of
    any process the tool records (``scripts/status``: a peer, orderer, chaincode server or
    gateway), killed once that fraction of the writes has been sent."""
    name, _, fraction = text.rpartition("@")
    if not name or not 0 <= float(fraction) <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME@FRACTION (e.g. leader@0.25)")
    pick = leader_orderer if name == "leader" else (lambda net: name)
    return name, pick, float(fraction)


class Client:
    """One application thread's HTTP session to a gateway, with the README's retry rules."""

    def __init__(self, base_url: str, key: str, give_up_after: float):
        self._base = base_url
        self._headers = {"Authorization": f"Bearer {key}"}
        self._give_up_after = give_up_after
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self._headers)
        return session

    def get(self, path: str) -> requests.Response:
        return self._session().get(f"{self._base}{path}", timeout=REQUEST_TIMEOUT_S)

    def register(self, write: Write) -> None:
        """Send until a final answer (2xx, or a 4xx that is not a retryable conflict) or until
        ``give_up_after`` seconds; the write is in limbo if none came."""
        body = {"project_id": write.project_id, "name": "fault soak", "category": "clean_energy",
                "expected_annual_reduction_kg": 1000, "location": "Zhuhai"}
        headers = {"Idempotency-Key": write.key}
        write.started = time.monotonic()
        backoff = 0.5
        while time.monotonic() - write.started < self._give_up_after:
            write.sends += 1
            try:
                response = self._session().post(f"{self._base}/api/v1/projects", json=body,
                                                headers=headers, timeout=REQUEST_TIMEOUT_S)
            except requests.RequestException as error:
                write.last_answer = repr(error)[:200]
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            code = _error_code(response)
            write.last_answer = f"{response.status_code} {response.text[:600]}"
            if response.status_code < 500 and code not in RETRYABLE_CONFLICTS:
                write.status, write.code = response.status_code, code
                write.waited = time.monotonic() - write.started
                if response.status_code < 300:
                    write.transaction_id = response.json()["transaction_id"]
                return
            retry_after = response.headers.get("Retry-After")
            time.sleep(float(retry_after) if retry_after else backoff)
            backoff = min(backoff * 2, 5.0)


def _error_code(response: requests.Response) -> str | None:
    if response.status_code < 300:
        return None
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def _crash_and_restart(net: ToolNetwork, crash: Crash) -> None:
    pid = processes.running_pid(net.layout, crash.victim)
    if pid is None:
        raise RuntimeError(f"{crash.victim} is not running")
    os.kill(pid, signal.SIGKILL)
    crash.killed_pid = pid
    print(f"  killed {crash.victim} (pid {pid}) at write {crash.at_write}", flush=True)
    time.sleep(RESTART_AFTER_S)
    started = time.monotonic()
    result = net.tool("up", check=False)
    crash.up_seconds = time.monotonic() - started
    crash.up_exit = result.returncode
    crash.up_output = (result.stdout + result.stderr)[-1500:]
    print(f"  up exited {crash.up_exit} after {crash.up_seconds:.1f} s", flush=True)


def soak(net: ToolNetwork, count: int, concurrency: int, victims=DEFAULT_VICTIMS,
         give_up_after: float = 600.0) -> dict:
    """Run the writes and the crashes; the figures, as a dict (see the module docstring)."""
    status = net.status()
    gateways = {g["msp_id"]: Client(g["url"], Path(g["dev_credential_file"]).read_text().strip(),
                                    give_up_after) for g in status["gateways"]}
    lessor = gateways["LessorMSP"]
    run = uuid.uuid4().hex[:8]
    writes = [Write(i, f"soak-{run}-{i}", f"soak-{run}-{i}") for i in range(count)]
    sent = threading.Semaphore(0)
    crashes: list[Crash] = []

    def crash_on_schedule():
        reached = 0
        for _, pick, fraction in sorted(victims, key=lambda victim: victim[2]):
            at = int(count * fraction)
            while reached < at:
                sent.acquire()
                reached += 1
            crash = Crash(pick(net), at)
            crashes.append(crash)
            _crash_and_restart(net, crash)

    def send(write: Write):
        sent.release()
        lessor.register(write)

    started = time.monotonic()
    crasher = threading.Thread(target=crash_on_schedule)
    crasher.start()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, writes))
    write_seconds = time.monotonic() - started
    crasher.join()

    heights = net.wait_for_same_height(timeout=120)
    acknowledged = [w for w in writes if w.status is not None and w.status < 300]
    refused = [w for w in writes if w.status is not None and w.status >= 300]
    limbo = [w for w in writes if w.status is None]
    lost = _not_valid_everywhere(acknowledged, gateways) + _refused_yet_written(refused, lessor)
    by_tx = collections.Counter(w.transaction_id for w in acknowledged)
    duplicated = ([w for w in acknowledged if by_tx[w.transaction_id] > 1]
                  + [w for w in refused if w.code == "ALREADY_EXISTS"])
    return {
        "writes": count, "concurrency": concurrency, "write_seconds": round(write_seconds, 1),
        "gateway_resubmissions": _resubmissions(lessor),
        "acknowledged": len(acknowledged),
        "refused": len(refused),
        "refused_by_code": dict(collections.Counter(w.code for w in refused)),
        "in_limbo": len(limbo),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "longest_wait_s": round(max((w.waited for w in writes if w.waited is not None),
                                    default=0.0), 1),
        "writes_sent_more_than_once": sum(1 for w in writes if w.sends > 1),
        "crashes": [dataclasses.asdict(c) for c in crashes],
        "up_exit_codes": [c.up_exit for c in crashes],
        "peer_heights_converged": len(set(heights.values())) == 1,
        "examples": {"limbo": [dataclasses.asdict(w) for w in limbo[:3]],
                     "lost": [dataclasses.asdict(w) for w in lost[:3]],
                     "duplicated": [dataclasses.asdict(w) for w in duplicated[:3]],
                     "refused": [dataclasses.asdict(w) for w in refused[:3]]},
    }


def _resubmissions(client: Client) -> float | None:
    """The gateway's count of transactions it sent for ordering again (since it started)."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("carbonlease_resubmissions_total "):
            return float(line.split()[1])
    return None


def _not_valid_everywhere(acknowledged: list[Write], gateways: dict[str, Client],
                          settle_s: float = 60.0) -> list[Write]:
    """Acknowledged writes whose transaction some gateway does not report VALID (a gateway
    still catching up is given ``settle_s`` to find it)."""
    def valid_everywhere(write: Write) -> bool:
        deadline = time.monotonic() + settle_s
        for client in gateways.values():
            while True:
                response = client.get(f"/api/v1/transactions/{write.transaction_id}")
                if response.status_code == 200:
                    if response.json()["validation_code"] != "VALID":
                        return False
                    break
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.5)
        return True

    with ThreadPoolExecutor(8) as pool:
        return [w for w, ok in zip(acknowledged, pool.map(valid_everywhere, acknowledged))
                if not ok]


def _refused_yet_written(refused: list[Write], lessor: Client) -> list[Write]:
    """Refused writes whose project is on the ledger all the same (ALREADY_EXISTS aside: that
    refusal says so, and counts as a duplicate)."""
    return [w for w in refused if w.code != "ALREADY_EXISTS"
            and lessor.get(f"/api/v1/projects/{w.project_id}").status_code != 404]


def report(figures: dict) -> str:
    lines = [
        f"fault soak: {figures['writes']} writes at concurrency {figures['concurrency']} "
        f"in {figures['write_seconds']} s",
        f"  acknowledged       {figures['acknowledged']}",
        f"  refused            {figures['refused']} {figures['refused_by_code'] or ''}",
        f"  in limbo           {figures['in_limbo']}",
        f"  lost               {figures['lost']}",
        f"  duplicated         {figures['duplicated']}",
        f"  longest wait       {figures['longest_wait_s']} s for a final answer",
        f"  sent more than once by the client: {figures['writes_sent_more_than_once']}",
        f"  transactions the gateway sent for ordering again: "
        f"{figures['gateway_resubmissions']}",
        f"  peers converged    {figures['peer_heights_converged']}",
    ]
    for crash in figures["crashes"]:
        lines.append(f"  crash {crash['victim']} at write {crash['at_write']}: up exited "
                     f"{crash['up_exit']} after {crash['up_seconds']:.1f} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--home", help="the network tool's --home of the target network")
    parser.add_argument("--port-offset", type=int, default=0)
    parser.add_argument("--throwaway", action="store_true",
                        help="start a consortium of its own in a temporary folder")
    parser.add_argument("--keep", action="store_true", help="leave the throw-away consortium")
    parser.add_argument("--victim", action="append", type=parse_victim, metavar="NAME@FRACTION",
                        help="kill NAME (`leader` for the Raft leader orderer, or a process "
                             "name from scripts/status) once this fraction of the writes is "
                             "sent; repeatable. Default: leader@0.25 and peer1 of Lessor@0.5")
    args = parser.parse_args()
    if args.throwaway:
        net = ThrowawayNetwork("carbonlease-soak-")
        print(f"starting a throw-away consortium in {net.home} (port offset {net.port_offset})",
              flush=True)
        net.tool("up")
    elif args.home:
        net = ToolNetwork(Path(args.home), args.port_offset)
    else:
        net = ToolNetwork()
    try:
        figures = soak(net, args.count, args.concurrency, args.victim or DEFAULT_VICTIMS)
    finally:
        if args.throwaway and not args.keep:
            net.tool("down", check=False)
            shutil.rmtree(net.home, ignore_errors=True)
    print(report(figures))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
