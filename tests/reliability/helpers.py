"""What the soak tests share: a back-to-back poller, write bookkeeping and the end checks."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
import contextlib
from dataclasses import dataclass, field
from enum import StrEnum
import logging
import time

from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryNotReady,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
import pytest

from simulators.marstek import MarstekSimulator

from .conftest import FIGURES

# Words that only an unhandled exception puts into a log line.
_CRASH_WORDS = ("Traceback", "Unexpected error", "Error doing job", "exception was never")


class Outcome(StrEnum):
    """What became of one write issued through Home Assistant."""

    CONFIRMED = "confirmed"  # returned; reached the device, which acknowledged and shows it
    FAILED = "failed"  # raised a (translated) Home Assistant error to the caller
    # Home Assistant itself skips entity actions on unavailable entities (nothing is sent).
    SKIPPED_UNAVAILABLE = "skipped_unavailable"


@dataclass(frozen=True, kw_only=True)
class Write:
    """One write: the target it changes, the value asked for, and its outcome."""

    seq: int
    target: str
    value: object
    outcome: Outcome
    error: str | None = None


@dataclass(kw_only=True)
class SoakBook:
    """Faults injected and writes issued during one soak, for the asserts and the summary."""

    kind: str
    faults: Counter[str] = field(default_factory=Counter)
    writes: list[Write] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def fault(self, name: str) -> None:
        """Count one injected fault."""
        self.faults[name] += 1

    @property
    def fault_count(self) -> int:
        """Faults injected so far."""
        return sum(self.faults.values())

    def record(
        self, target: str, value: object, outcome: Outcome, error: str | None = None
    ) -> Write:
        """Keep one write's outcome."""
        write = Write(
            seq=len(self.writes), target=target, value=value, outcome=outcome, error=error
        )
        self.writes.append(write)
        return write

    def count(self, outcome: Outcome) -> int:
        """Writes with this outcome."""
        return sum(1 for write in self.writes if write.outcome is outcome)

    def allowed_final_values(self, target: str) -> tuple[Write, list[object]] | None:
        """The last confirmed write of a target and the values of later failed writes.

        A failed write may or may not have taken effect (its reply may be what was lost),
        so the device may show any of them; anything else was lost or invented.
        """
        confirmed = [
            w for w in self.writes if w.target == target and w.outcome is Outcome.CONFIRMED
        ]
        if not confirmed:
            return None
        last = confirmed[-1]
        later_failed = [
            w.value
            for w in self.writes
            if w.target == target and w.seq > last.seq and w.outcome is Outcome.FAILED
        ]
        return last, later_failed

    def publish(self, survived: bool) -> None:
        """Hand the figures to the terminal summary."""
        figures = FIGURES.setdefault(self.kind, Counter())
        figures["faults injected"] += self.fault_count
        figures["faults survived"] += self.fault_count if survived else 0
        figures["writes confirmed"] += self.count(Outcome.CONFIRMED)
        figures["writes reported failed"] += self.count(Outcome.FAILED)
        figures["writes skipped (entity unavailable)"] += self.count(Outcome.SKIPPED_UNAVAILABLE)
        figures["seconds"] += round(time.monotonic() - self.started)
        for name, count in self.faults.items():
            figures[f"fault: {name}"] += count


async def issue_write(
    hass: HomeAssistant,
    book: SoakBook,
    *,
    target: str,
    value: object,
    call: Callable[[], Awaitable[object]],
    entity_id: str | None,
    sent: Callable[[], bool],
    confirm: Callable[[], None],
) -> Write:
    """Issue one write as a user would and classify what the caller saw.

    ``sent`` says whether anything reached the device since the call began, ``confirm``
    asserts that a returned call was acknowledged by the device and shows on it.
    """

    def unavailable() -> bool:
        return entity_id is not None and hass.states.get(entity_id).state == STATE_UNAVAILABLE

    unavailable_before = unavailable()
    try:
        await call()
    except ServiceValidationError as err:
        # A value inside the documented range must never be refused as invalid.
        pytest.fail(f"{target}={value!r} refused as invalid: {err.translation_key} {err}")
    except HomeAssistantError as err:
        return book.record(target, value, Outcome.FAILED, err.translation_key or str(err))
    if not sent():
        # Returned without sending: only Home Assistant skipping an unavailable entity may
        # do that (its availability may have flipped while the call was being scheduled).
        assert unavailable_before or unavailable(), f"{target}={value!r} silently lost"
        return book.record(target, value, Outcome.SKIPPED_UNAVAILABLE)
    confirm()
    return book.record(target, value, Outcome.CONFIRMED)


class Poller:
    """Refreshes a coordinator back to back, as its shortest interval would, in the background."""

    def __init__(self, coordinator: Callable[[], DataUpdateCoordinator[object]]) -> None:
        self._coordinator = coordinator
        self.cycles = 0
        self._task: asyncio.Task[None] | None = None
        self._tick = asyncio.Event()

    def start(self) -> None:
        """Begin polling."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="soak poller")

    async def stop(self) -> None:
        """Stop after the cycle in progress."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self._coordinator().async_refresh()
            self.cycles += 1
            self._tick.set()
            self._tick = asyncio.Event()
            await asyncio.sleep(0.002)

    async def cycles_pass(self, count: int) -> None:
        """Wait until ``count`` more cycles have completed."""
        target = self.cycles + count
        while self.cycles < target:
            await self._tick.wait()


class NeverDecreasing:
    """Watches numeric states of total sensors: Home Assistant must never see one go down."""

    def __init__(self, hass: HomeAssistant, entity_ids: Iterable[str]) -> None:
        self._watched = set(entity_ids)
        self.last: dict[str, float] = {}
        self.drops: list[tuple[str, float, float]] = []
        self.samples = 0
        self._unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        new = event.data["new_state"]
        if entity_id not in self._watched or new is None:
            return
        if new.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return
        value = float(new.state)
        self.samples += 1
        before = self.last.get(entity_id)
        if before is not None and value < before:
            self.drops.append((entity_id, before, value))
        self.last[entity_id] = value

    def close(self) -> None:
        """Stop watching."""
        self._unsub()


class StateNever:
    """Records whether an entity ever showed a given state (e.g. a forged value)."""

    def __init__(self, hass: HomeAssistant, entity_id: str, forbidden: set[str]) -> None:
        self._entity_id = entity_id
        self._forbidden = forbidden
        self.seen: list[str] = []
        self._unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        is_watched = event.data["entity_id"] == self._entity_id and new is not None
        if is_watched and new.state in self._forbidden:
            self.seen.append(new.state)

    def close(self) -> None:
        """Stop watching."""
        self._unsub()


def crash_records(records: Iterable[logging.LogRecord]) -> list[str]:
    """Log records that show an unhandled exception, at any level."""
    found = []
    for record in records:
        message = record.getMessage()
        if _reported_fault(record):
            continue
        if record.exc_info or any(word in message for word in _CRASH_WORDS):
            found.append(f"{record.levelname} {record.name}: {message} {record.exc_info!r}")
    return found


def _reported_fault(record: logging.LogRecord) -> bool:
    """A debug record of a fault the soak causes on purpose, with its exception: not a crash.

    From 2026.3 Home Assistant logs a retried set-up's ConfigEntryNotReady and a coordinator's
    UpdateFailed in full at debug level; asyncio in debug mode (as in tests) logs a peer
    resetting a connection.
    """
    if record.levelno > logging.DEBUG or not record.exc_info:
        return False
    error = record.exc_info[1]
    if isinstance(error, ConfigEntryNotReady | UpdateFailed):
        return True
    return record.name == "asyncio" and isinstance(error, ConnectionError)


def tasks_now() -> set[asyncio.Task[object]]:
    """Every task of the running loop but the caller's."""
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[arg-type]


def new_tasks(before: set[asyncio.Task[object]], *, allowed: Iterable[str] = ()) -> list[str]:
    """Tasks started since ``before`` that are still running, except the allowed names."""
    allowed_names = set(allowed)
    return [
        f"{task.get_name()}: {task.get_coro()!r}"
        for task in tasks_now() - before
        if not task.done() and task.get_name() not in allowed_names
    ]


def drop_next_request(sim: MarstekSimulator, method: str) -> list[str]:
    """The next request of ``method`` is lost on its way to the battery (never executed)."""
    dropped: list[str] = []
    on_request = sim._on_request

    def lossy(request: object, addr: tuple[str, int]) -> None:
        if not dropped and getattr(request, "method", None) == method:
            dropped.append(method)
            return
        on_request(request, addr)  # type: ignore[arg-type]

    sim._on_request = lossy  # type: ignore[method-assign]
    return dropped
