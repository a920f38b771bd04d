"""Progress lines for long steps, on stderr so `status --json` keeps stdout clean."""

import sys
import time

_started = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f}s] {message}", file=sys.stderr, flush=True)
