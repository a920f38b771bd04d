"""CPU time of a tool network's recorded processes (gunicorn's and nginx's workers included),
read from /proc, so a benchmark can say what each request cost every process, not only how
long it took."""

from __future__ import annotations

import json
import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds so far) of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS)
    return table


def snapshot(home: Path) -> dict[str, float]:
    """CPU seconds used so far by each recorded process of the run folder ``home`` and its
    children (workers), by process name."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    used = {}
    for pid_file in (Path(home) / "pids").glob("*.pid"):
        try:
            pid = json.loads(pid_file.read_text())["pid"]
        except (OSError, ValueError, KeyError):
            continue
        if pid not in table:
            continue
        total, pending = 0.0, [pid]
        while pending:
            current = pending.pop()
            total += table[current][1]
            pending.extend(children.get(current, []))
        used[pid_file.stem] = total
    return used


def since(before: dict[str, float], home: Path) -> dict[str, float]:
    """CPU seconds each process used since ``before`` (a ``snapshot``)."""
    now = snapshot(home)
    return {name: now[name] - before.get(name, 0.0) for name in now}
