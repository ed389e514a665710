"""Running a simulator from the command line until Ctrl-C or SIGTERM, without a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import logging
import signal
import sys


def run_until_stopped(serve: Callable[[asyncio.Event], Awaitable[None]], *, verbose: bool) -> int:
    """Run ``serve(stop)`` until a signal sets ``stop``; returns the process exit code."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(message)s",
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass  # Ctrl-C where no signal handler could be installed
    except OSError as err:
        print(f"cannot start simulator: {err}", file=sys.stderr)
        return 1
    return 0
