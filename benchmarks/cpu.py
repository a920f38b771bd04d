"""CPU time from /proc: per recorded process of a network (its whole process group, so gunicorn's
workers count with their master), the load generator (this process and the clients it ran),
and the whole machine (/proc/stat), so that whatever is not recorded is visible too."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def parse_stat(text: str) -> tuple[int, float]:
    """(process group, CPU seconds of user + system) of a /proc/<pid>/stat line."""
    fields = text.rsplit(")", 1)[1].split()
    # After the command name: state is field 3, pgrp 5, utime 14, stime 15 (1-based).
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / TICKS


def group_seconds(groups: set[int], proc: Path = Path("/proc")) -> dict[int, float]:
    """CPU seconds used so far by the live members of each process group in ``groups``."""
    used = dict.fromkeys(groups, 0.0)
    for stat in proc.glob("[0-9]*/stat"):
        try:
            group, seconds = parse_stat(stat.read_text())
        except (OSError, IndexError, ValueError):
            continue
        if group in used:
            used[group] += seconds
    return used


def parse_machine(text: str) -> tuple[float, float]:
    """(busy, total) seconds summed over every core, from /proc/stat's first line."""
    values = [int(v) for v in text.splitlines()[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is already inside user).
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / TICKS, total / TICKS


def machine() -> tuple[float, float]:
    return parse_machine(Path("/proc/stat").read_text())


def load_generator() -> float:
    """CPU seconds of this process and of its finished children (the Node client)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclasses.dataclass
class Sample:
    groups: dict[str, float]  # recorded process name -> CPU seconds
    load: float
    busy: float
    total: float


def sample(recorded: dict[str, int]) -> Sample:
    """``recorded``: process name -> pid (its process group leader)."""
    by_group = group_seconds(set(recorded.values()))
    busy, total = machine()
    return Sample({name: by_group[pid] for name, pid in recorded.items()}, load_generator(),
                  busy, total)


@dataclasses.dataclass(frozen=True)
class Usage:
    """CPU used during a phase, in seconds, and the machine's capacity over it."""

    processes: dict[str, float]
    load: float
    busy: float
    capacity: float

    @property
    def recorded(self) -> float:
        return sum(self.processes.values())

    @property
    def unaccounted(self) -> float:
        """Busy time that is neither the network nor the load generator (other users)."""
        return max(0.0, self.busy - self.recorded - self.load)


def usage(before: Sample, after: Sample) -> Usage:
    return Usage({name: after.groups[name] - before.groups.get(name, 0.0)
                  for name in after.groups},
                 after.load - before.load, after.busy - before.busy, after.total - before.total)


def kind(name: str) -> str:
    """The kind of a recorded process, from the network tool's names (peer0.lessor.…,
    cc-lease.…, gateway-proxy.…)."""
    for prefix, label in (("peer", "peers"), ("orderer", "orderers"),
                          ("cc-", "chaincode servers"), ("gateway-proxy.", "nginx"),
                          ("gateway.", "gateways (gunicorn)"), ("follower.", "read-model followers"),
                          ("ca.", "CAs")):
        if name.startswith(prefix):
            return label
    return "other recorded"
