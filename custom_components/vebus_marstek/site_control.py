"""Driving a site's members together: the mode, the split, paced writes and the fail-safes.

Each control step turns the mode into a site request (the setpoint, or the grid controller's
answer to the last meter reading), splits it over the members that can follow
(:func:`~.site.split_power`) and hands each member's share to its :class:`~.site.MemberWrites`,
which decides whether a write goes out now. Writes run one at a time per member, through the
member's own client (a Passive command, an ESS setpoint), and every one is logged.

The site lets go of its members, putting back what each had before it took over, when the
mode goes to Off, when the grid sensor goes stale, when a member it drives stops answering,
when the site is unloaded and when Home Assistant stops; one log line says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
import math
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
from .site import Member, SplitSettings, SplitState, split_power
from .site.controller import ControllerSettings, ControlMode, GridController, meter_too_slow
from .site.writes import MemberWrites, WriteLog, WriteReason, WriteRecord, WriteResult
from .site_drivers import MarstekDriver, MemberDriver, VebusDriver
from .site_members import MemberReading
from .vebus import VebusError

_CONTROL_MODES = {
    SiteMode.ZERO_EXPORT: ControlMode.ZERO_EXPORT,
    SiteMode.SELF_CONSUMPTION: ControlMode.SELF_CONSUMPTION,
}
_DEVICE_ERRORS = (MarstekError, VebusError)


class _Driven:
    """A member the site has taken over: how to drive it, its pacing, its write queue."""

    def __init__(self, driver: MemberDriver) -> None:
        self.driver = driver
        self.writes = MemberWrites(driver.policy)
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
        self.split_settings = split_settings
        self.grid_stale_after = grid_stale_after
        self.mode = SiteMode.OFF
        self.setpoint_w = 0.0
        self.grid_target_w = 0.0
        self.log = WriteLog()
        self.controller = GridController()
        self.last_request_w: float | None = None
        self.stopped_because: str | None = None
        self._driven: dict[str, _Driven] = {}
        self._split_state = SplitState()
        self._refreshed_at: dict[str, float] = {}  # when each member's data was last read
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
        if self.mode not in _CONTROL_MODES:
            # Learn the meter's pace anyway, so a meter too slow is refused before it starts.
            self.controller.step(
                grid_w, since_previous_s=since, battery_w=None, max_charge_w=0, max_discharge_w=0
            )
            self.controller.reset()

    def member_refreshed(self, member_id: str) -> None:
        """A member's coordinator read the device: its values are as of now."""
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
        self._read_backs()
        members = self._members(readings, now)
        request = self._request(members, grid_w, new_grid=new_grid)
        if reason := self._meter_too_slow():
            self.stop(reason)
            return
        if request is None:
            return
        split = split_power(
            members, request, now=now, state=self._split_state, settings=self.split_settings
        )
        self._split_state = split.state
        self.last_request_w = request
        for member_id, power_w in split.powers_w.items():
            self._drive(member_id, power_w, now)

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

    def _read_backs(self) -> None:
        """What each driven member reported since the last step, before the split uses it."""
        for member_id, driven in self._driven.items():
            read_at = self._refreshed_at.get(member_id)
            if read_at is None:
                continue
            # As of the member's last refresh: a reading older than the write says nothing.
            driver = driven.driver
            driven.writes.read_back(
                in_mode=driver.in_mode(), measured_w=driver.measured_w(), now=read_at
            )

    def _members(self, readings: tuple[MemberReading, ...], now: float) -> list[Member]:
        """The members with the limits the site may use, those left out unable to follow."""
        members = []
        for reading in readings:
            member = reading.member
            driver = self._driver(member.member_id)
            driven = self._driven.get(member.member_id)
            if driver is None or (driven is not None and driven.writes.excluded(now)):
                members.append(replace(member, can_follow=False))
                continue
            limit = driver.max_power_w()
            members.append(
                replace(
                    member,
                    max_charge_w=limit,
                    max_discharge_w=limit,
                    can_follow=member.can_follow and limit > 0,
                )
            )
        return members

    def _request(
        self, members: list[Member], grid_w: float | None, *, new_grid: bool
    ) -> float | None:
        if self.mode is SiteMode.SETPOINT:
            return self.setpoint_w
        if not new_grid:
            return self.last_request_w  # no new reading: hold the last request (and renew)
        followers = [member for member in members if member.can_follow and member.available]
        step = self.controller.step(
            grid_w,
            since_previous_s=self._grid_since_s,
            battery_w=self._battery_w(followers),
            max_charge_w=sum(member.max_charge_w for member in followers),
            max_discharge_w=sum(member.max_discharge_w for member in followers),
        )
        return None if step is None else step.request_w

    def _battery_w(self, followers: list[Member]) -> float | None:
        """What the members the site can drive deliver now, as far as it can be known.

        A member not read since its last write (a Venus is polled every 30 s by default) counts
        with the power it was asked for: its old reading would make the controller restart from
        a power the battery no longer has, reading after reading.
        """
        powers = []
        for member in followers:
            power = member.battery_power_w
            driven = self._driven.get(member.member_id)
            if driven is not None and (sent_at := driven.writes.sent_at) is not None:
                read_at = self._refreshed_at.get(member.member_id)
                if read_at is None or read_at < sent_at + driven.driver.policy.settle_s:
                    power = driven.writes.sent_w
            if power is not None:
                powers.append(power)
        return math.fsum(powers) if powers else None

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

    def _drive(self, member_id: str, power_w: float, now: float) -> None:
        driven = self._driven.get(member_id)
        if driven is None:
            driver = self._driver(member_id)
            if driver is None:
                return
            if power_w == 0:
                return  # nothing asked of it yet: leave it alone
            driven = self._driven[member_id] = _Driven(driver)
        driver = driven.driver
        if driven.lock.locked():
            return  # a write is on its way; the next step plans again
        planned = driven.writes.plan(power_w, now)
        if planned is None:
            return

        async def write() -> None:
            async with driven.lock:
                try:
                    await driver.write(planned.power_w, planned.hold_s)
                except _DEVICE_ERRORS as err:
                    result = WriteResult.FAILED
                    LOGGER.debug("%s: writing %s failed: %s", self.title, member_id, err)
                else:
                    result = WriteResult.OK
                driven.writes.sent(planned, monotonic(), result)
                self.log.add(
                    WriteRecord(
                        at=monotonic(),
                        member_id=member_id,
                        power_w=planned.power_w,
                        reason=planned.reason,
                        result=result,
                    )
                )

        self._track(write())

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
        self._split_state = SplitState()
        self.last_request_w = None
        self.controller.reset()
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
            driven.writes.released()
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
