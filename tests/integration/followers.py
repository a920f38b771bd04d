"""A gateway org's read-model follower process, as `scripts/up` runs it next to the gateway: on
the gateway's database, with the org's identity, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .test_api import fabric_settings

REPO = Path(__file__).resolve().parents[2]
STARTUP_WAIT_S = 20


def follower_env(consortium, database_url: str, msp_id: str = "LessorMSP") -> dict[str, str]:
    """The org's gateway environment, as `scripts/up` gives it to its follower."""
    settings = fabric_settings(consortium, msp_id)
    return {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO),
            "CARBONLEASE_MSP_ID": settings.msp_id,
            "CARBONLEASE_PEER_ENDPOINT": settings.peer_endpoint,
            "CARBONLEASE_PEER_TLS_CA": settings.peer_tls_ca,
            "CARBONLEASE_CERT": settings.cert, "CARBONLEASE_KEY": settings.key,
            "CARBONLEASE_TLS_CERT": settings.tls_cert, "CARBONLEASE_TLS_KEY": settings.tls_key,
            "CARBONLEASE_CHANNEL": settings.channel, "CARBONLEASE_DATABASE_URL": database_url,
            "CARBONLEASE_FOLLOWER_HEARTBEAT": "0.5"}


class FollowerProcess:
    """`python -m gateway.api.readmodel.follower` for one org's gateway database."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self):
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway.api.readmodel.follower"], cwd=REPO,
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        # Its SIGTERM handler is installed once it says so (a signal during its imports ends
        # it the default way).
        started = f"started (pid {self.process.pid})"
        deadline = time.monotonic() + STARTUP_WAIT_S
        while started not in self.log_path.read_text():
            assert self.process.poll() is None and time.monotonic() < deadline, \
                self.log_path.read_text()
            time.sleep(0.1)

    def stop(self):
        """SIGTERM to the follower, which closes its streams and exits 0."""
        if self.process is None:  # never started
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(30) == 0, self.log_path.read_text()
