import json
import os

from network import config, processes


def test_start_record_and_stop_by_pid(tmp_path):
    layout = config.Layout(tmp_path)
    pid = processes.start(layout, "sleeper", ["sleep", "30"], dict(os.environ))
    assert processes.running_pid(layout, "sleeper") == pid
    assert processes.recorded(layout) == ["sleeper"]
    assert processes.stop(layout, "sleeper")
    assert processes.running_pid(layout, "sleeper") is None
    assert not processes.stop(layout, "sleeper")


def test_a_reused_pid_is_not_ours(tmp_path):
    layout = config.Layout(tmp_path)
    pid = processes.start(layout, "sleeper", ["sleep", "30"], dict(os.environ))
    try:
        record = json.loads(layout.pid_file("sleeper").read_text())
        record["start_time"] = "1"  # as if another program now had this pid
        layout.pid_file("sleeper").write_text(json.dumps(record))
        assert processes.running_pid(layout, "sleeper") is None
        assert not processes.stop(layout, "sleeper")  # and so it is not killed
        assert processes._start_time(pid) is not None
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def test_port_checks(tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert processes.port_in_use(port)
        assert processes.tcp_open(port)
    assert not processes.tcp_open(port)


def test_ensure_restarts_only_on_a_changed_configuration(tmp_path):
    layout = config.Layout(tmp_path)
    argv = ["sleep", "30"]
    try:
        assert processes.ensure(layout, "node", argv, {"SETTING": "a"}, {}) == "started"
        first = processes.running_pid(layout, "node")
        assert processes.ensure(layout, "node", argv, {"SETTING": "a"}, {}) is None
        assert processes.running_pid(layout, "node") == first
        assert processes.ensure(layout, "node", argv, {"SETTING": "b"}, {}) == "restarted"
        assert processes.running_pid(layout, "node") not in (None, first)
    finally:
        processes.stop(layout, "node")


def test_ensure_names_a_taken_port(tmp_path):
    import socket
    import pytest
    layout = config.Layout(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(processes.ProcessError, match=f"port {port} \\(node listen\\)"):
            processes.ensure(layout, "node", ["sleep", "30"], {}, {"listen": port})
    assert processes.running_pid(layout, "node") is None


def test_leftovers_of_a_dead_leader_are_stopped_before_a_restart(tmp_path):
    """A gunicorn master SIGKILLed leaves its worker serving on the port: up stops the
    worker (a member of the dead process's group) before starting the process again."""
    layout = config.Layout(tmp_path)
    child_file = tmp_path / "child.pid"
    argv = ["sh", "-c", f"sleep 300 & echo $! > {child_file}; exec sleep 300"]
    leader = processes.start(layout, "master", argv, dict(os.environ))
    processes.wait_for(lambda: child_file.exists() and child_file.read_text().strip(),
                       "child started", 10)
    worker = int(child_file.read_text())
    os.kill(leader, 9)
    os.waitpid(leader, 0)
    assert processes._start_time(worker) is not None  # the worker outlives its master
    try:
        assert processes.ensure(layout, "master", argv, {}, {}) == "started"
        assert worker not in processes._live_members(leader)
        assert processes.running_pid(layout, "master") not in (None, leader)
    finally:
        processes.stop(layout, "master")
        if processes._live_members(leader):
            os.kill(worker, 9)


def test_leftovers_are_left_alone_when_the_pid_is_another_programs(tmp_path):
    layout = config.Layout(tmp_path)
    other = processes.start(layout, "other", ["sleep", "30"], dict(os.environ))
    try:
        layout.pid_file("gone").write_text(json.dumps({"pid": other, "start_time": "1"}))
        assert not processes.stop_leftovers(layout, "gone")
        assert processes.running_pid(layout, "other") == other
    finally:
        processes.stop(layout, "other")
