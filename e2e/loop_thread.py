"""An asyncio event loop in a background thread, for synchronous callers such as pytest tests.

The simulators and the Home Assistant API client are asyncio code.  The end-to-end tests are
plain synchronous functions (Home Assistant's pytest plugin owns the test event loop and checks
it after every test), so they hand their coroutines to this loop instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import threading
from typing import Any


class LoopThread:
    """One event loop running forever in a daemon thread until `stop`."""

    def __init__(self, name: str = "e2e-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def run[T](self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the loop and wait for its result (or its exception)."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def call[T](self, function: Callable[[], T]) -> T:
        """Run a plain function on the loop, so it never races the loop's own callbacks."""

        async def wrapper() -> T:
            return function()

        return self.run(wrapper())

    def stop(self) -> None:
        """Cancel what is left, stop the loop and wait for the thread."""
        if not self._thread.is_alive():
            return
        self.run(_cancel_other_tasks())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


async def _cancel_other_tasks() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
