"""What ``async with`` does with a simulator, shared by both of them."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class StopOnExit:
    """``async with sim:`` stops the simulator when the block ends, however it ends."""

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
