"""How many workers and threads serve the API, and what several workers need."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gateway.api.config import Serving
from network import config


def test_defaults_serve_64_requests_at_once_on_two_workers():
    serving = Serving.from_env({})
    assert (serving.workers, serving.threads, serving.concurrency) == (2, 32, 64)


def test_workers_and_threads_come_from_the_environment():
    serving = Serving.from_env({"CARBONLEASE_WORKERS": "3", "CARBONLEASE_THREADS": "8"})
    assert (serving.workers, serving.threads, serving.concurrency) == (3, 8, 24)


@pytest.mark.parametrize("name,value", [("CARBONLEASE_WORKERS", "0"),
                                        ("CARBONLEASE_THREADS", "-4"),
                                        ("CARBONLEASE_TIMEOUT", "0")])
def test_a_count_below_one_is_refused(name, value):
    with pytest.raises(ValueError, match=name):
        Serving.from_env({name: value})


def load_gunicorn_config(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import gateway.api.gunicorn_config as c; "
                               "print(c.workers, c.threads)"],
        env={"PATH": "/usr/bin:/bin", **env}, cwd=config.REPO_ROOT,
        capture_output=True, text=True)


def test_several_workers_without_a_metrics_folder_are_refused():
    result = load_gunicorn_config({"CARBONLEASE_WORKERS": "2"})
    assert result.returncode != 0
    assert "PROMETHEUS_MULTIPROC_DIR" in result.stderr


def test_one_worker_needs_no_metrics_folder():
    result = load_gunicorn_config({"CARBONLEASE_WORKERS": "1", "CARBONLEASE_THREADS": "4"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "4"]
