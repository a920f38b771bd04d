"""Checkpointers record how far an event listener got, so a restart neither misses nor repeats events.

A checkpoint is either "the next block to read" (after a whole block) or "this block, after this
transaction" (after an event): resuming from the latter replays the block and skips up to and
including that transaction.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from abc import ABC, abstractmethod
from typing import Optional


class Checkpoint(ABC):
    @property
    @abstractmethod
    def block_number(self) -> Optional[int]:
        """Block to resume from; None to use the listener's own start position."""

    @property
    @abstractmethod
    def transaction_id(self) -> Optional[str]:
        """Last processed transaction in `block_number`; None if none of it was processed."""


class Checkpointer(Checkpoint):
    @abstractmethod
    def checkpoint_block(self, block_number: int) -> None:
        """Record that all of `block_number` has been processed."""

    @abstractmethod
    def checkpoint_transaction(self, block_number: int, transaction_id: str) -> None:
        """Record that `transaction_id` in `block_number` (and all before it) has been processed."""

    def checkpoint_chaincode_event(self, event) -> None:
        self.checkpoint_transaction(event.block_number, event.transaction_id)


class InMemoryCheckpointer(Checkpointer):
    def __init__(self):
        self._lock = threading.Lock()
        self._state = (None, None)

    @property
    def block_number(self) -> Optional[int]:
        return self._state[0]

    @property
    def transaction_id(self) -> Optional[str]:
        return self._state[1]

    def checkpoint_block(self, block_number: int) -> None:
        self._set(block_number + 1, None)

    def checkpoint_transaction(self, block_number: int, transaction_id: str) -> None:
        self._set(block_number, transaction_id)

    def _set(self, block_number, transaction_id) -> None:
        # One tuple assignment, so readers never see a block number paired with another block's tx.
        with self._lock:
            self._state = (block_number, transaction_id)


class FileCheckpointer(InMemoryCheckpointer):
    """Persists the checkpoint as JSON; each update replaces the file atomically and is fsynced."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        try:
            with open(path, "r", encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        if text.strip():
            state = json.loads(text)
            block = state.get("blockNumber")
            self._state = (int(block) if block is not None else None, state.get("transactionId"))

    def _set(self, block_number, transaction_id) -> None:
        with self._lock:
            self._write(block_number, transaction_id)
            self._state = (block_number, transaction_id)

    def _write(self, block_number, transaction_id) -> None:
        # Same field names as the Node client's file, so either can resume the other's listener.
        data = json.dumps({"blockNumber": None if block_number is None else str(block_number),
                           "transactionId": transaction_id})
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".checkpoint-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise
