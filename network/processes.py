"""Native processes started by the tool, each recorded by pid so exactly those are stopped.

A pid file holds the pid and the process's start time (from /proc), so a pid reused by
another program after a reboot or crash is never mistaken for ours.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from .config import HOST, Layout


PRIVATE_UMASK = 0o077


class ProcessError(Exception):
    pass


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime), counted after the parenthesised command name.
    return stat.rsplit(")", 1)[1].split()[19]


def running_pid(layout: Layout, name: str) -> int | None:
    """The pid of our process ``name`` if it is alive, else None."""
    pid_file = layout.pid_file(name)
    try:
        record = json.loads(pid_file.read_text())
    except (OSError, ValueError):
        return None
    pid = record["pid"]
    if _start_time(pid) != record["start_time"]:
        return None
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return None if state == "Z" else pid


def _fingerprint(argv: list[str], own_env: dict[str, str], cwd: Path | None) -> str:
    return hashlib.sha256(json.dumps([argv, own_env, str(cwd)], sort_keys=True)
                          .encode()).hexdigest()


def _recorded_fingerprint(layout: Layout, name: str) -> str | None:
    return json.loads(layout.pid_file(name).read_text()).get("fingerprint")


def stop_if_changed(layout: Layout, name: str, argv: list[str], own_env: dict[str, str],
                    cwd: Path | None = None) -> bool:
    """Stop ``name`` if it runs with another configuration than this (``ensure`` would
    restart it), so that a step can run between its stop and its start. True if stopped."""
    if running_pid(layout, name) is None \
            or _recorded_fingerprint(layout, name) == _fingerprint(argv, own_env, cwd):
        return False
    return stop(layout, name)


def ensure(layout: Layout, name: str, argv: list[str], own_env: dict[str, str],
           ports: dict[str, int], cwd: Path | None = None) -> str | None:
    """Keep ``name`` running with exactly this command and node-specific environment.
    Returns "started", "restarted" (it ran with another configuration), or None (unchanged).
    Raises if one of ``ports`` is taken by another program."""
    fingerprint = _fingerprint(argv, own_env, cwd)
    action = "started"
    if running_pid(layout, name):
        if _recorded_fingerprint(layout, name) == fingerprint:
            return None
        stop(layout, name)
        action = "restarted"
    else:
        stop_leftovers(layout, name)
    for kind, port in ports.items():
        if port_in_use(port, grace=5):
            raise ProcessError(f"port {port} ({name} {kind}) is in use by another program; "
                               f"free it or start with a different --port-offset")
    start(layout, name, argv, {**os.environ, **own_env}, cwd, fingerprint)
    return action


def start(layout: Layout, name: str, argv: list[str], env: dict[str, str],
          cwd: Path | None = None, fingerprint: str | None = None) -> int:
    """Start ``argv`` detached (own session, so a terminal's Ctrl-C does not reach it),
    logging to the node's log file, and record its pid."""
    log_path = layout.log_file(name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    layout.pid_file(name).parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log_path.chmod(0o600)
        log.write(f"\n==== starting {name} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        log.flush()
        # Nodes, chaincode servers and gateways write keys, ledgers with private data and
        # gateway databases: whatever they create is their owner's alone.
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                umask=PRIVATE_UMASK)
    start_time = None
    for _ in range(50):
        start_time = _start_time(proc.pid)
        if start_time:
            break
        time.sleep(0.01)
    layout.pid_file(name).write_text(json.dumps({"pid": proc.pid, "start_time": start_time,
                                                 "argv": argv, "fingerprint": fingerprint}))
    return proc.pid


def stop(layout: Layout, name: str, timeout: float = 15.0) -> bool:
    """Stop our process ``name`` (SIGTERM, then SIGKILL after ``timeout``). True if it ran."""
    pid = running_pid(layout, name)
    layout_pid = layout.pid_file(name)
    if pid is None:
        stop_leftovers(layout, name)
        layout_pid.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running_pid(layout, name):
        time.sleep(0.1)
    if running_pid(layout, name):
        os.kill(pid, signal.SIGKILL)
        while running_pid(layout, name):
            time.sleep(0.05)
    layout_pid.unlink(missing_ok=True)
    return True


def stop_leftovers(layout: Layout, name: str, timeout: float = 10.0) -> bool:
    """Stop what is left of the process group of our process ``name`` after it died: each
    process is started as the leader of its own session and group (group id = its recorded
    pid), and a child can outlive it, e.g. a gunicorn worker whose master was SIGKILLed keeps
    serving on the gateway's port. True if there was something to stop.

    The group is ours only while its id is not another program's pid: Linux reuses a pid
    only once no process is left in the group bearing it, so a live process with that pid
    and another start time means nothing of ours is left."""
    try:
        record = json.loads(layout.pid_file(name).read_text())
    except (OSError, ValueError):
        return False
    group = record["pid"]
    if _start_time(group) not in (None, record["start_time"]):
        return False
    if not _live_members(group):
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _live_members(group):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while _live_members(group):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        else:
            return True
    return True


def _live_members(group: int) -> list[int]:
    """Pids of the processes, zombies aside, in process group ``group``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(stat.parent.name))
    return members


def recorded(layout: Layout) -> list[str]:
    return sorted(p.stem for p in layout.pid_files())


def port_in_use(port: int, grace: float = 0.0) -> bool:
    """Whether something listens on ``port``; waits up to ``grace`` seconds for it to be
    released (a process we just stopped may hold it for a moment)."""
    deadline = time.monotonic() + grace
    while _bound(port):
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.1)
    return False


def _bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def healthz(port: int, timeout: float = 1.0) -> bool:
    """A Fabric node's operations endpoint says it is healthy."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def metric(port: int, name: str, labels: str) -> float | None:
    """One sample of a Prometheus metric from a node's operations endpoint."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    prefix = f"{name}{{{labels}}} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix):])
    return None


def tcp_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(check, what: str, timeout: float, log: Path | None = None,
             interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    hint = f"; see {log}" if log else ""
    raise ProcessError(f"{what} not ready after {timeout:.0f} s{hint}")
