"""Driving a site's members together: the mode, the split, paced writes and the fail-safes.

Each control step hands what the members report to the site's :class:`~.site.loop.SiteLoop`
(read-backs, the request, the split, the pacing of each member's writes), then sends the
writes it plans: one at a time per member, through the member's own client (a Passive
command, an ESS setpoint), each logged. This module adds what needs Home Assistant: the mode
and its checks, the member drivers, the tasks, the repair issue and the fail-safes.

The site lets go of its members, putting back what each had before it took over, when the
mode goes to Off, when the grid sensor goes stale, when a member it drives stops answering,
when the site is unloaded and when Home Assistant stops; one log line says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from time import monotonic

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util.dt import utcnow

from .const import (
    DOMAIN,
    ISSUE_METER_TOO_SLOW,
    LOGGER,
    SiteMode,
)
from .coordinator import MarstekCoordinator, VebusCoordinator
from .helpers import validation_error
from .marstek import MarstekError
from .site import Member, SplitSettings
from .site.controller import ControllerSettings, ControlMode, meter_too_slow
from .site.loop import MemberState, SiteLoop
from .site.writes import PlannedWrite, WriteReason, WriteRecord, WriteResult
from .site_drivers import MarstekDriver, MemberDriver, VebusDriver
from .site_members import MemberReading
from .vebus import VebusError

_CONTROL_MODES = {
    SiteMode.ZERO_EXPORT: ControlMode.ZERO_EXPORT,
    SiteMode.SELF_CONSUMPTION: ControlMode.SELF_CONSUMPTION,
}
_DEVICE_ERRORS = (MarstekError, VebusError)


class _Driven:
    """A member the site has taken over: how to drive it, and its write queue."""

    def __init__(self, driver: MemberDriver) -> None:
        self.driver = driver
        self.lock = asyncio.Lock()  # one write at a time per device


class SiteControl:
    """The site's mode and what it drives; its coordinator feeds it every update."""

    def __init__(
        self,
        hass: HomeAssistant,
        title: str,
        member_ids: tuple[str, ...],
        member_coordinator: Callable[[str], MarstekCoordinator | VebusCoordinator | None],
        *,
        has_grid_sensor: bool,
        split_settings: SplitSettings,
        grid_stale_after: timedelta,
    ) -> None:
        self.hass = hass
        self.title = title
        self.member_ids = member_ids
        self._member_coordinator = member_coordinator
        self.has_grid_sensor = has_grid_sensor
        self.grid_stale_after = grid_stale_after
        self.mode = SiteMode.OFF
        self.setpoint_w = 0.0
        self.grid_target_w = 0.0
        self.loop = SiteLoop(split_settings)
        self.log = self.loop.log
        self.controller = self.loop.controller
        self.stopped_because: str | None = None
        self._driven: dict[str, _Driven] = {}
        self._refreshed_at: dict[str, float] = {}  # when each member's data was last read
        self._data_seen: dict[str, object] = {}  # the data each member's last read produced
        self._grid_seen_at: datetime | None = None
        self._grid_since_s: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._issue_id = f"{ISSUE_METER_TOO_SLOW}_{title}"

    # --- what the user sets -----------------------------------------------------------------

    def check_mode(self, mode: SiteMode) -> None:
        """Refuse a mode the site cannot run, before anything changes."""
        if mode in _CONTROL_MODES:
            if not self.has_grid_sensor:
                raise validation_error("site_needs_grid_sensor", mode=str(mode))
            if self._grid_stale():
                seconds = f"{self.grid_stale_after.total_seconds():.0f}"
                raise validation_error("grid_sensor_silent", seconds=seconds)
            period = self.controller.meter_period_s
            if period is not None and meter_too_slow(period):
                self._meter_too_slow_issue(period)
                raise validation_error("meter_too_slow", seconds=f"{period:.0f}")

    async def async_set_mode(self, mode: SiteMode) -> None:
        """Change the mode; Off lets every member go."""
        self.check_mode(mode)
        previous, self.mode = self.mode, mode
        self.stopped_because = None
        if mode is SiteMode.OFF:
            await self.async_release_all("the mode was set to Off")
            return
        if previous is not mode:
            self.controller.settings = self._controller_settings()
            self.controller.reset(self.last_request_w or 0.0)

    def set_grid_target(self, watts: float) -> None:
        """The grid power zero export and self-consumption aim at (+ = import)."""
        self.grid_target_w = watts
        self.controller.settings = self._controller_settings()

    def _controller_settings(self) -> ControllerSettings:
        mode = _CONTROL_MODES.get(self.mode, ControlMode.SELF_CONSUMPTION)
        return ControllerSettings(
            mode=mode,
            target_grid_w=self.grid_target_w,
            # Zero export's target is the most export allowed: a grid power at or below 0.
            target_export_w=max(-self.grid_target_w, 0.0),
        )

    # --- control steps ----------------------------------------------------------------------

    def grid_reading(self, grid_w: float | None, at: datetime) -> None:
        """The meter reported (``at``: when, even if its value did not change)."""
        since = None if self._grid_seen_at is None else (at - self._grid_seen_at).total_seconds()
        self._grid_seen_at = at
        self._grid_since_s = since
        if self.mode not in _CONTROL_MODES and grid_w is not None:
            # Learn the meter's pace anyway, so a meter too slow is refused before it starts.
            self.controller.note_interval(since)

    def member_refreshed(self, member_id: str) -> None:
        """A member's coordinator told its listeners; its values are as of now if it read the
        device. It also tells them after a write, and after a cycle that kept its last values
        (a Venus skips reading while a write holds it, a short outage keeps what it had): such
        values are as old as before, and taken for a read-back they would judge a write by what
        the member did before it."""
        coordinator = self._member_coordinator(member_id)
        data = None if coordinator is None else coordinator.data
        if data is not None and data is self._data_seen.get(member_id):
            return
        self._data_seen[member_id] = data
        self._refreshed_at[member_id] = monotonic()

    def step(
        self, readings: tuple[MemberReading, ...], grid_w: float | None, *, new_grid: bool
    ) -> None:
        """One control step over the members as they are now (``new_grid``: a new reading)."""
        if self.mode is SiteMode.OFF:
            return
        now = monotonic()
        if reason := self._why_stop(readings):
            self.stop(reason)
            return
        loop = self.loop
        members = loop.observe([self._state(reading.member) for reading in readings], now)
        if self.mode is SiteMode.SETPOINT:
            request: float | None = self.setpoint_w
        elif new_grid:
            request = loop.grid_request(members, grid_w, self._grid_since_s)
        else:
            request = loop.last_request_w  # no new reading: hold the last request (and renew)
        if reason := self._meter_too_slow():
            self.stop(reason)
            return
        if request is not None:
            for member_id, write in loop.plan(members, request, now):
                self._send(member_id, write)
        for member_id in loop.read_backs_due(now):
            self._read_back(member_id)

    @property
    def last_request_w(self) -> float | None:
        """The request the site shared out last."""
        return self.loop.last_request_w

    def _why_stop(self, readings: tuple[MemberReading, ...]) -> str | None:
        """Why the site must let go now, or None."""
        for reading in readings:
            if reading.member.member_id in self._driven and not reading.member.available:
                return f"{reading.title} stopped answering"
        if self.mode in _CONTROL_MODES and self._grid_stale():
            stale_s = self.grid_stale_after.total_seconds()
            return f"the grid sensor has not reported for {stale_s:.0f} s"
        return None

    def _grid_stale(self) -> bool:
        seen = self._grid_seen_at
        return seen is None or utcnow() - seen > self.grid_stale_after

    def _meter_too_slow(self) -> str | None:
        """Why zero export and self-consumption cannot go on with this meter, or None."""
        period = self.controller.meter_period_s
        if self.mode in _CONTROL_MODES and period is not None and meter_too_slow(period):
            self._meter_too_slow_issue(period)
            return f"the grid sensor updates only every {period:.0f} s"
        return None

    def _state(self, member: Member) -> MemberState:
        """A member as the loop sees it: what its driver says and when it was read."""
        member_id = member.member_id
        driver = self._driver(member_id)
        driven = self._driven.get(member_id)
        return MemberState(
            member=member,
            policy=None if driver is None else driver.policy,
            limit_w=0.0 if driver is None else driver.max_power_w(),
            in_mode=driver is not None and driver.in_mode(),
            measured_w=None if driver is None else driver.measured_w(),
            read_at=self._refreshed_at.get(member_id),
            busy=driven is not None and driven.lock.locked(),
        )

    def _driver(self, member_id: str) -> MemberDriver | None:
        driven = self._driven.get(member_id)
        if driven is not None:
            return driven.driver
        coordinator = self._member_coordinator(member_id)
        if isinstance(coordinator, MarstekCoordinator):
            return MarstekDriver(coordinator) if coordinator.profile.accepts_passive else None
        if isinstance(coordinator, VebusCoordinator):
            return VebusDriver(coordinator)
        return None

    def _send(self, member_id: str, planned: PlannedWrite) -> None:
        driven = self._driven.get(member_id)
        if driven is None:
            driver = self._driver(member_id)
            assert driver is not None  # the loop plans only members with a driver
            driven = self._driven[member_id] = _Driven(driver)

        async def write() -> None:
            async with driven.lock:
                try:
                    await driven.driver.write(planned.power_w, planned.hold_s)
                except _DEVICE_ERRORS as err:
                    result = WriteResult.FAILED
                    LOGGER.debug("%s: writing %s failed: %s", self.title, member_id, err)
                else:
                    result = WriteResult.OK
                self.loop.sent(member_id, planned, monotonic(), result)

        # Started at once: the lock is taken before the next step could plan it again.
        self._track(write())

    def _read_back(self, member_id: str) -> None:
        """One extra read of a member, through its own coordinator (its refresh reaches the
        site as any other, and postpones the member's next poll)."""
        if (driven := self._driven.get(member_id)) is not None:
            self._track(driven.driver.read_back())

    # --- letting go -------------------------------------------------------------------------

    def stop(self, reason: str) -> None:
        """A fail-safe: the mode goes to Off and every member goes back (in the background)."""
        self.mode = SiteMode.OFF
        self.stopped_because = reason
        LOGGER.warning(
            "%s goes to Off (%s); its batteries go back as they were", self.title, reason
        )
        self._track(self._async_put_back())

    async def async_release_all(self, reason: str) -> None:
        """Put every member the site drove back as it was before; one log line says why."""
        if self._driven:
            LOGGER.warning(
                "%s stops driving its batteries (%s); putting them back as they were",
                self.title,
                reason,
            )
        await self._async_put_back()

    async def _async_put_back(self) -> None:
        driven, self._driven = self._driven, {}
        self.loop.release()
        await asyncio.gather(
            *(self._release(member_id, member) for member_id, member in driven.items())
        )

    async def _release(self, member_id: str, driven: _Driven) -> None:
        async with driven.lock:
            try:
                await driven.driver.restore()
            except _DEVICE_ERRORS as err:
                result = WriteResult.FAILED
                LOGGER.warning("%s: could not put %s back: %s", self.title, member_id, err)
            else:
                result = WriteResult.OK
            self.log.add(
                WriteRecord(
                    at=monotonic(),
                    member_id=member_id,
                    power_w=0,
                    reason=WriteReason.RESTORE,
                    result=result,
                )
            )

    def _track(self, coroutine: object) -> None:
        assert asyncio.iscoroutine(coroutine)
        task = self.hass.async_create_task(coroutine, eager_start=True)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def async_wait(self) -> None:
        """Let the writes on their way finish (unload, tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _meter_too_slow_issue(self, period: float) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_METER_TOO_SLOW,
            translation_placeholders={"name": self.title, "seconds": f"{period:.0f}"},
        )

    def max_power_w(self) -> float:
        """What the members the site can drive may move together, either way (W)."""
        return sum(
            driver.max_power_w()
            for member_id in self.member_ids
            if (driver := self._driver(member_id)) is not None
        )

    @property
    def driven(self) -> tuple[str, ...]:
        """The members the site drives now."""
        return tuple(self._driven)
