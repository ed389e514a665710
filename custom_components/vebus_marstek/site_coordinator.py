"""The site: member devices of this integration seen as one home battery.

The site polls nothing. It listens to its members' coordinators (a member's refresh
refreshes the site), reads the optional grid sensor's state, and keeps the site's energy
totals in its own store. A member that is not loaded, or not answering, is left out of the
powers and the state of charge and keeps its last totals in the sums.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from time import monotonic

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    EVENT_HOMEASSISTANT_STOP,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
    async_track_time_interval,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util.unit_conversion import PowerConverter

from .const import (
    CONF_GRID_SENSOR,
    CONF_GRID_SIGN,
    CONF_GRID_STALE_AFTER,
    CONF_MEMBERS,
    CONF_SPLIT_STRATEGY,
    DEFAULT_GRID_STALE_AFTER_S,
    DOMAIN,
    LOGGER,
    SAVE_DELAY_S,
    SITE_CONTROL_TICK,
    GridSign,
    SiteMode,
    entry_kind,
)
from .coordinator import (
    EnergyCounter,
    MarstekCoordinator,
    StoredState,
    VebusCoordinator,
    VebusMarstekConfigEntry,
    entry_store,
    option_number,
)
from .site import SiteSummary, SiteTotals, SplitSettings, Strategy, summarise
from .site_control import SiteControl
from .site_members import (
    VEBUS_SITE_READS,
    MemberReading,
    marstek_member,
    offline_member,
    vebus_member,
)

# The site refreshes at least this often, so members that stopped reporting (unloaded,
# removed) show as such.
SITE_CHECK_INTERVAL = timedelta(seconds=10)


@dataclass(frozen=True, kw_only=True)
class SiteData:
    """The site now."""

    members: tuple[MemberReading, ...]
    summary: SiteSummary
    grid_power_w: float | None  # positive = importing from the grid
    charge_wh: float | None
    discharge_wh: float | None

    @property
    def energy(self) -> dict[EnergyCounter, float | None]:
        """The site's totals, by the counters the members' energy sensors use."""
        return {
            EnergyCounter.BATTERY_CHARGED: self.charge_wh,
            EnergyCounter.BATTERY_DISCHARGED: self.discharge_wh,
        }

    @property
    def available_members(self) -> int:
        """How many members answer."""
        return sum(1 for reading in self.members if reading.member.available)


type MemberCoordinator = MarstekCoordinator | VebusCoordinator


class SiteCoordinator(DataUpdateCoordinator[SiteData]):
    """Combines what the members' coordinators hold; keeps the site totals."""

    config_entry: VebusMarstekConfigEntry

    def __init__(self, hass: HomeAssistant, entry: VebusMarstekConfigEntry) -> None:
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=SITE_CHECK_INTERVAL,
        )
        members = entry.data.get(CONF_MEMBERS, [])
        self.member_ids: tuple[str, ...] = tuple(str(member) for member in members)
        grid_sensor = entry.data.get(CONF_GRID_SENSOR)
        self.grid_sensor: str | None = grid_sensor if isinstance(grid_sensor, str) else None
        self.grid_sign = GridSign(entry.data.get(CONF_GRID_SIGN, GridSign.IMPORT_POSITIVE))
        self.totals = SiteTotals()
        self._store = entry_store(hass, entry.entry_id)
        self._listening: dict[str, tuple[MemberCoordinator, CALLBACK_TYPE]] = {}
        self._grid_unreadable_logged = False
        self.control = SiteControl(
            hass,
            entry.title,
            self.member_ids,
            self.member_coordinator,
            has_grid_sensor=self.grid_sensor is not None,
            split_settings=SplitSettings(
                strategy=Strategy(entry.options.get(CONF_SPLIT_STRATEGY, Strategy.PROPORTIONAL))
            ),
            grid_stale_after=timedelta(
                seconds=option_number(
                    entry.options, CONF_GRID_STALE_AFTER, DEFAULT_GRID_STALE_AFTER_S
                )
            ),
        )

    # --- persistence ----------------------------------------------------------------------

    async def _async_setup(self) -> None:
        """Continue the totals of the last run, and follow the grid sensor."""
        stored = await self._store.async_load() or {}
        self.totals = SiteTotals.from_dict(stored.get("totals"))
        self._restore_control(stored.get("control"))
        # Members removed from the site while it was not running leave their share behind.
        for member_id in set(self.totals.members) - set(self.member_ids):
            self.totals.retire(member_id)
        entry = self.config_entry
        if self.grid_sensor is not None and (state := self.hass.states.get(self.grid_sensor)):
            self.control.grid_reading(self.grid_power_w(), state.last_reported)
        if self.grid_sensor is not None:
            # A report with an unchanged value is a reading too: it is what keeps a meter fresh.
            for track in (async_track_state_change_event, async_track_state_report_event):
                entry.async_on_unload(track(self.hass, self.grid_sensor, self._async_grid_event))
        entry.async_on_unload(self._stop_listening)
        entry.async_on_unload(
            async_track_time_interval(self.hass, self._async_tick, SITE_CONTROL_TICK)
        )
        entry.async_on_unload(
            self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_hass_stops)
        )

    def _stored_state(self) -> StoredState:
        control = self.control
        return {
            "totals": self.totals.as_dict(),
            "control": {
                "mode": str(control.mode),
                "setpoint_w": control.setpoint_w,
                "grid_target_w": control.grid_target_w,
            },
        }

    def _restore_control(self, stored: object) -> None:
        """The mode and numbers of the last run: a site driving its batteries goes on."""
        if not isinstance(stored, dict):
            return
        control = self.control
        for key in ("setpoint_w", "grid_target_w"):
            value = stored.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                setattr(control, key, float(value))
        control.set_grid_target(control.grid_target_w)
        mode = stored.get("mode")
        if mode in {str(mode) for mode in SiteMode}:
            try:
                control.check_mode(SiteMode(mode))
            except HomeAssistantError as err:
                LOGGER.warning("%s starts in Off: %s", self.config_entry.title, err)
            else:
                control.mode = SiteMode(mode)

    def save_soon(self) -> None:
        """Store the mode, numbers and totals after a change."""
        self._store.async_delay_save(self._stored_state, SAVE_DELAY_S)

    @callback
    def async_control_changed(self) -> None:
        """The mode or a number changed: store it, and act on it now."""
        self.save_soon()
        self.async_set_updated_data(self._site_now())

    async def async_stop_driving(self, reason: str) -> None:
        """Let every member go (unload, Home Assistant stopping) and keep what was stored."""
        await self.control.async_wait()
        await self.control.async_release_all(reason)

    async def async_save(self) -> None:
        """Write the totals and the mode now (on unload)."""
        await self._store.async_save(self._stored_state())

    # --- members --------------------------------------------------------------------------

    def member_coordinator(self, member_id: str) -> MemberCoordinator | None:
        """A member's coordinator while its entry is loaded."""
        entry: VebusMarstekConfigEntry | None = self.hass.config_entries.async_get_entry(member_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        coordinator = entry.runtime_data
        if isinstance(coordinator, MarstekCoordinator | VebusCoordinator):
            return coordinator
        return None  # a site is never a member

    def member_kinds(self) -> list[str | None]:
        """Each member's device kind, None for an entry that no longer exists."""
        kinds: list[str | None] = []
        for member_id in self.member_ids:
            entry = self.hass.config_entries.async_get_entry(member_id)
            kinds.append(None if entry is None else str(entry_kind(entry)))
        return kinds

    def _listen_to_members(self) -> None:
        """Follow every loaded member's coordinator, the new one after a member's reload."""
        for member_id in self.member_ids:
            coordinator = self.member_coordinator(member_id)
            listening = self._listening.get(member_id)
            if listening is not None and listening[0] is coordinator:
                continue
            if listening is not None:
                listening[1]()
                del self._listening[member_id]
            if coordinator is None:
                continue
            # A VE.Bus unit reads what its listeners need: the site needs its SOC.
            context = VEBUS_SITE_READS if isinstance(coordinator, VebusCoordinator) else None
            unsubscribe = coordinator.async_add_listener(
                partial(self._async_member_updated, member_id), context
            )
            self._listening[member_id] = (coordinator, unsubscribe)

    @callback
    def _stop_listening(self) -> None:
        for _, unsubscribe in self._listening.values():
            unsubscribe()
        self._listening.clear()

    def _reading(self, member_id: str) -> MemberReading:
        coordinator = self.member_coordinator(member_id)
        if isinstance(coordinator, VebusCoordinator):
            return vebus_member(member_id, coordinator)
        if isinstance(coordinator, MarstekCoordinator):
            return marstek_member(member_id, coordinator)
        return offline_member(member_id)

    # --- grid -----------------------------------------------------------------------------

    def grid_power_w(self) -> float | None:
        """The grid sensor's power in W, positive when importing; None when unreadable."""
        if self.grid_sensor is None:
            return None
        state = self.hass.states.get(self.grid_sensor)
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return None
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        try:
            watts = PowerConverter.convert(float(state.state), unit, "W")
        except (ValueError, HomeAssistantError) as err:
            if not self._grid_unreadable_logged:
                LOGGER.warning(
                    "%s: the grid sensor %s reads %r %s, not a power: %s",
                    self.config_entry.title,
                    self.grid_sensor,
                    state.state,
                    unit,
                    err,
                )
                self._grid_unreadable_logged = True
            return None
        self._grid_unreadable_logged = False
        return watts if self.grid_sign is GridSign.IMPORT_POSITIVE else -watts

    # --- refreshing -----------------------------------------------------------------------

    async def _async_update_data(self) -> SiteData:
        return self._site_now()

    @callback
    def _async_member_updated(self, member_id: str) -> None:
        self.control.member_refreshed(member_id)
        self.async_set_updated_data(self._site_now())

    @callback
    def _async_grid_event(
        self, _event: Event[EventStateChangedData] | Event[EventStateReportedData]
    ) -> None:
        state = self.hass.states.get(self.grid_sensor or "")
        if state is not None:
            self.control.grid_reading(self.grid_power_w(), state.last_reported)
        self.async_set_updated_data(self._site_now(new_grid=True))

    @callback
    def _async_tick(self, _now: datetime) -> None:
        """Renewals, read-backs and the stale-meter check, also when nothing reports."""
        if self.control.mode is not SiteMode.OFF:
            self.async_set_updated_data(self._site_now())

    async def _async_hass_stops(self, _event: Event) -> None:
        await self.async_stop_driving("Home Assistant stops")

    def _site_now(self, *, new_grid: bool = False) -> SiteData:
        # Every update, not only the periodic one: members reporting every second postpone it.
        self._listen_to_members()
        readings = tuple(self._reading(member_id) for member_id in self.member_ids)
        now = monotonic()
        for reading in readings:
            self.totals.update(
                reading.member.member_id,
                charge_wh=reading.charge_wh,
                discharge_wh=reading.discharge_wh,
                now=now,
            )
        self.save_soon()
        readings = tuple(self._with_throughput(reading) for reading in readings)
        grid_power_w = self.grid_power_w()
        self.control.step(readings, grid_power_w, new_grid=new_grid)
        return SiteData(
            members=readings,
            summary=summarise([reading.member for reading in readings]),
            grid_power_w=grid_power_w,
            charge_wh=self.totals.charge_wh,
            discharge_wh=self.totals.discharge_wh,
        )

    def _with_throughput(self, reading: MemberReading) -> MemberReading:
        """The reading with what the member moved since it joined (rotation by throughput)."""
        member = reading.member
        throughput = self.totals.throughput_wh(member.member_id)
        return replace(reading, member=replace(member, throughput_wh=throughput))
