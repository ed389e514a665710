"""Waiting for a condition in another process: retry a check until it holds or time runs out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import time

# What a check returns: None when the condition holds, else what is still wrong (for the error).
type Check = Callable[[], Awaitable[str | None]]

POLL_INTERVAL_S = 0.25


async def eventually(check: Check, within_s: float, interval_s: float = POLL_INTERVAL_S) -> float:
    """Retry ``check`` until it holds; returns the seconds that took.

    Raises TimeoutError carrying the check's last complaint when ``within_s`` runs out.
    """
    start = time.monotonic()
    while True:
        complaint = await check()
        elapsed = time.monotonic() - start
        if complaint is None:
            return elapsed
        if elapsed > within_s:
            raise TimeoutError(f"still after {within_s:.0f} s: {complaint}")
        await asyncio.sleep(interval_s)
