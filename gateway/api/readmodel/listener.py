"""One background thread per chaincode that follows its events into the read model.

The thread resumes from the database checkpoint (block 0 when there is none), applies each
event as it arrives, and when the stream breaks (peer restart, network) opens it again from the
checkpoint after a randomised exponential backoff. ``stop`` closes the stream from outside,
which ends the blocking iteration at once.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .store import Checkpoint, ReadModel

log = logging.getLogger(__name__)

# open_events(chaincode, checkpoint or None) -> closeable iterator of chaincode events
OpenEvents = Callable[[str, "Checkpoint | None"], object]


class Listener:
    def __init__(self, read_model: ReadModel, open_events: OpenEvents, chaincode: str, *,
                 first_backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 on_reconnect: Callable[[str], None] = lambda chaincode: None):
        self.chaincode = chaincode
        self._read_model = read_model
        self._open_events = open_events
        self._first_backoff = first_backoff_s
        self._max_backoff = max_backoff_s
        self._backoff = first_backoff_s
        self._on_reconnect = on_reconnect
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._events = None
        self._thread = threading.Thread(target=self._run, name=f"read-model-{chaincode}",
                                        daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        with self._lock:
            events = self._events
        if events is not None:
            events.close()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._follow()
                reason = "the event stream ended"
            except Exception as err:  # noqa: BLE001 - the thread must outlive any failure
                reason = f"{type(err).__name__}: {err}"
            if self._stopping.is_set():
                break
            delay = self._backoff * random.uniform(0.5, 1.0)
            self._backoff = min(self._backoff * 2, self._max_backoff)
            log.warning("read model %s: %s; reconnecting in %.1f s", self.chaincode, reason,
                        delay)
            self._on_reconnect(self.chaincode)
            self._stopping.wait(delay)
        log.info("read model %s: stopped", self.chaincode)

    def _follow(self) -> None:
        checkpoint = self._read_model.checkpoint(self.chaincode)
        if checkpoint is None:
            log.info("read model %s: no checkpoint, reading events from block 0",
                     self.chaincode)
        else:
            log.info("read model %s: resuming in block %d after transaction %s",
                     self.chaincode, checkpoint.block_number, checkpoint.transaction_id)
        events = self._open_events(self.chaincode, checkpoint)
        with self._lock:
            # stop() may have run while the stream was being opened.
            if self._stopping.is_set():
                events.close()
                return
            self._events = events
        try:
            for event in events:
                self._read_model.apply(self.chaincode, event)
                self._backoff = self._first_backoff
        finally:
            with self._lock:
                self._events = None
            events.close()
