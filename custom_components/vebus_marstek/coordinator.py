"""Polling the devices: a shared base, and one coordinator per device family.

Both keep their energy totals in a store across restarts and translate client errors on
writes. A Marstek battery is polled in tiers of requests paced for its fragile Open API; a
VE.Bus unit is asked only for what the enabled entities show, since at 2400 baud every frame
costs tens of milliseconds (each entity says which reads it needs as its coordinator context).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
import math
from time import monotonic
from typing import TYPE_CHECKING, TypedDict, Unpack

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import (
    API_SILENT_AFTER,
    CONF_BACKOFF,
    CONF_FAST_INTERVAL,
    CONF_MEDIUM_INTERVAL,
    CONF_POLL_INTERVAL,
    CONF_QUIET_GAP,
    CONF_READ_ATTEMPTS,
    CONF_REQUEST_SPACING,
    CONF_REQUEST_TIMEOUT,
    CONF_SLOW_INTERVAL,
    CONF_WRITE_ATTEMPTS,
    CONF_WRITE_TIMEOUT,
    DEFAULT_FAST_INTERVAL,
    DEFAULT_MEDIUM_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_REQUEST_SPACING,
    DEFAULT_SLOW_INTERVAL,
    DEFAULT_VEBUS_FAST_INTERVAL,
    DOMAIN,
    FAILED_CYCLES_BEFORE_UNAVAILABLE,
    ISSUE_API_SILENT,
    ISSUE_PORT_MISSING,
    ISSUE_PV1_IN_WATTS,
    LOGGER,
    MAX_LOWER_TIER_REQUESTS_PER_CYCLE,
    PORT_MISSING_AFTER,
    SAVE_DELAY_S,
    STORAGE_VERSION,
    VEBUS_MIN_PAUSE_S,
    VEBUS_TIMEOUTS_BEFORE_UNAVAILABLE,
)
from .energy import EnergyIntegrator, MonotonicTotal
from .marstek import (
    BatteryStatus,
    BleStatus,
    DeviceIdentity,
    EnergySystemStatus,
    FirmwareProfile,
    ManualSlot,
    MarstekClient,
    MarstekConnectionError,
    MarstekDeviceError,
    MarstekError,
    MarstekMethodUnsupportedError,
    MarstekWriteRejectedError,
    MarstekWriteUnconfirmedError,
    MeterStatus,
    Method,
    ModeStatus,
    Pacing,
    PvStatus,
    SilentZeroGuard,
    WifiStatus,
)
from .marstek_settings import SettingsUpdate, WrittenSettings
from .vebus import (
    DC,
    RamVar,
    ReadKind,
    Reads,
    SettingInfo,
    TierPacing,
    UnitInfo,
    VebusClient,
    VebusConnectionError,
    VebusError,
    VebusInvalidValueError,
    VebusStatus,
    VebusTimeoutError,
    VebusUnitAsleepError,
    VebusUnsupportedError,
    fast_reads,
    input_power,
    ram_read,
    read_values,
)

if TYPE_CHECKING:
    from .site_coordinator import SiteCoordinator

type StoredState = Mapping[str, object]
# A loaded entry holds the coordinator of its device, whichever family that is, or its site's.
type VebusMarstekConfigEntry = ConfigEntry[MarstekCoordinator | VebusCoordinator | SiteCoordinator]


class EnergyCounter(StrEnum):
    """Energy totals the integration publishes."""

    GRID_INPUT = "grid_input"
    GRID_OUTPUT = "grid_output"
    PV = "pv"
    LOAD = "load"
    BATTERY_CHARGED = "battery_charged"
    BATTERY_DISCHARGED = "battery_discharged"


def option_number(options: Mapping[str, object], key: str, default: float) -> float:
    """A numeric option, or its default when absent or unusable."""
    value = options.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def storage_key(entry_id: str) -> str:
    """Where an entry's energy totals (and written settings) are kept."""
    return f"{DOMAIN}.{entry_id}"


def entry_store(hass: HomeAssistant, entry_id: str) -> Store[StoredState]:
    """The store of one entry."""
    return Store(hass, STORAGE_VERSION, storage_key(entry_id))


def restored_integrator(stored: StoredState, key: str, *, max_gap_s: float) -> EnergyIntegrator:
    """An energy integrator continued from what was stored under ``key`` (or a new one)."""
    saved = stored.get(key)
    if isinstance(saved, Mapping):
        return EnergyIntegrator.from_dict(saved, max_gap_s=max_gap_s)
    return EnergyIntegrator(max_gap_s=max_gap_s)


def battery_energy(integrator: EnergyIntegrator) -> dict[EnergyCounter, float]:
    """Charged and discharged energy from an integrator fed battery power (+ = discharging)."""
    return {
        EnergyCounter.BATTERY_CHARGED: round(integrator.negative_wh, 3),
        EnergyCounter.BATTERY_DISCHARGED: round(integrator.positive_wh, 3),
    }


class DeviceCoordinator[DataT, ClientT](DataUpdateCoordinator[DataT]):
    """Polls one device through its client; keeps its totals in a store across restarts.

    Subclasses say which client errors a write can raise (``client_errors``) and how each
    becomes a translated Home Assistant error (``_write_error``).
    """

    config_entry: VebusMarstekConfigEntry
    client_errors: tuple[type[Exception], ...] = ()

    def __init__(
        self,
        hass: HomeAssistant,
        entry: VebusMarstekConfigEntry,
        client: ClientT,
        *,
        update_interval: timedelta,
    ) -> None:
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=update_interval,
        )
        self.client = client
        self._store = entry_store(hass, entry.entry_id)

    # --- persistence ----------------------------------------------------------------------

    async def _async_load_stored(self) -> StoredState:
        """What the last run stored; empty when there is nothing usable."""
        stored = await self._store.async_load()
        return stored if isinstance(stored, Mapping) else {}

    def _stored_state(self) -> StoredState:
        raise NotImplementedError

    async def async_save(self) -> None:
        """Write the stored state now (on unload)."""
        await self._store.async_save(self._stored_state())

    def _schedule_save(self) -> None:
        self._store.async_delay_save(self._stored_state, SAVE_DELAY_S)

    # --- repairs --------------------------------------------------------------------------

    def create_issue(
        self,
        issue_id: str,
        translation_key: str,
        severity: ir.IssueSeverity,
        **placeholders: str,
    ) -> None:
        """A repair issue about this device, named in it by the entry's title."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=severity,
            translation_key=translation_key,
            translation_placeholders={"name": self.config_entry.title, **placeholders},
        )

    # --- writes ---------------------------------------------------------------------------

    async def async_write(self, write: Callable[[ClientT], Awaitable[object]]) -> None:
        """Run one write through the client, translating its errors, then refresh."""
        try:
            await write(self.client)
        except self.client_errors as err:
            raise self._write_error(err) from err
        await self._async_refresh_after_write()

    async def _async_refresh_after_write(self) -> None:
        await self.async_request_refresh()

    def _write_error(self, err: Exception) -> HomeAssistantError:
        raise NotImplementedError


# --- Marstek ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MarstekData:
    """The latest answer to every request; ``None`` until a request was first answered."""

    identity: DeviceIdentity
    es: EnergySystemStatus | None = None
    mode: ModeStatus | None = None
    meter: MeterStatus | None = None
    pv: PvStatus | None = None
    battery: BatteryStatus | None = None
    wifi: WifiStatus | None = None
    ble: BleStatus | None = None
    energy: Mapping[EnergyCounter, float | None] = field(default_factory=dict)


class _Changes(TypedDict, total=False):
    """Fields of MarstekData answered in one cycle."""

    es: EnergySystemStatus
    mode: ModeStatus
    meter: MeterStatus | None
    pv: PvStatus
    battery: BatteryStatus
    wifi: WifiStatus
    ble: BleStatus


class Tier(StrEnum):
    """How often a request is due."""

    FAST = "fast"
    MEDIUM = "medium"
    SLOW = "slow"


FAST_METHODS = (Method.ES_STATUS, Method.ES_MODE, Method.METER_STATUS)
# In the order they are caught up on when several are due at once (e.g. right after setup).
LOWER_TIER_METHODS: dict[Method, Tier] = {
    Method.PV_STATUS: Tier.MEDIUM,
    Method.BATTERY_STATUS: Tier.SLOW,
    Method.WIFI_STATUS: Tier.SLOW,
    Method.BLE_STATUS: Tier.SLOW,
    Method.GET_DEVICE: Tier.SLOW,
}

_LIFETIME_COUNTERS = (
    EnergyCounter.GRID_INPUT,
    EnergyCounter.GRID_OUTPUT,
    EnergyCounter.PV,
    EnergyCounter.LOAD,
)


def pacing_from_options(options: Mapping[str, object]) -> Pacing:
    """Client pacing for an entry; defaults are gentle, tests make them fast."""
    defaults = Pacing()
    spacing = option_number(options, CONF_REQUEST_SPACING, DEFAULT_REQUEST_SPACING)
    return Pacing(
        spacing_s=spacing,
        quiet_gap_s=option_number(options, CONF_QUIET_GAP, min(defaults.quiet_gap_s, spacing)),
        timeout_s=option_number(options, CONF_REQUEST_TIMEOUT, defaults.timeout_s),
        write_timeout_s=option_number(options, CONF_WRITE_TIMEOUT, defaults.write_timeout_s),
        read_attempts=int(option_number(options, CONF_READ_ATTEMPTS, defaults.read_attempts)),
        write_attempts=int(option_number(options, CONF_WRITE_ATTEMPTS, defaults.write_attempts)),
        backoff_s=option_number(options, CONF_BACKOFF, defaults.backoff_s),
    )


class MarstekCoordinator(DeviceCoordinator[MarstekData, MarstekClient]):
    """Polls one battery: the fast tier every cycle, slower requests when due."""

    client_errors = (MarstekError,)

    def __init__(
        self,
        hass: HomeAssistant,
        entry: VebusMarstekConfigEntry,
        device: MarstekClient,
        identity: DeviceIdentity,
    ) -> None:
        options = entry.options
        fast_s = option_number(options, CONF_FAST_INTERVAL, DEFAULT_FAST_INTERVAL)
        super().__init__(hass, entry, device, update_interval=timedelta(seconds=fast_s))
        assert device.profile is not None  # set by the identity probe in setup
        self.identity = identity
        self.profile: FirmwareProfile = device.profile
        self.settings = WrittenSettings()
        self._tier_interval_s = {
            Tier.FAST: fast_s,
            Tier.MEDIUM: option_number(options, CONF_MEDIUM_INTERVAL, DEFAULT_MEDIUM_INTERVAL),
            Tier.SLOW: option_number(options, CONF_SLOW_INTERVAL, DEFAULT_SLOW_INTERVAL),
        }
        now = monotonic()
        self._due: dict[Method, float] = dict.fromkeys(LOWER_TIER_METHODS, now)
        # Setup has just read the identity.
        self._due[Method.GET_DEVICE] = now + self._tier_interval_s[Tier.SLOW]
        # Batteries sharing a LAN should not all ask at the same moment.
        spacing = device.pacing.spacing_s
        mac_tail = (identity.ble_mac or "0")[-4:]
        self._stagger_s = int(mac_tail, 16) % 1000 / 1000 * spacing
        self.failed_cycles = 0
        self._api_silent_cycles = max(
            FAILED_CYCLES_BEFORE_UNAVAILABLE,
            math.ceil(API_SILENT_AFTER.total_seconds() / fast_s),
        )
        self._totals = {counter: MonotonicTotal() for counter in _LIFETIME_COUNTERS}
        self._silent_zeros = SilentZeroGuard()
        self._meter_from_mode = False  # the CT values shown are ES.GetMode's
        self._max_gap_s = fast_s * 2.5
        self._battery_energy = EnergyIntegrator(max_gap_s=self._max_gap_s)

    # --- persistence ----------------------------------------------------------------------

    async def _async_setup(self) -> None:
        """Restore energy totals and written settings from the last run."""
        stored = await self._async_load_stored()
        totals = stored.get("totals")
        if isinstance(totals, dict):
            for counter in _LIFETIME_COUNTERS:
                saved = totals.get(counter)
                if isinstance(saved, dict):
                    self._totals[counter] = MonotonicTotal.from_dict(saved)
        self._battery_energy = restored_integrator(stored, "battery", max_gap_s=self._max_gap_s)
        settings = stored.get("settings")
        if isinstance(settings, dict):
            self.settings = WrittenSettings.from_dict(settings)

    def _stored_state(self) -> StoredState:
        return {
            "totals": {str(c): total.as_dict() for c, total in self._totals.items()},
            "battery": self._battery_energy.as_dict(),
            "settings": self.settings.as_dict(),
        }

    def energy_totals(self) -> dict[EnergyCounter, float | None]:
        """What the energy sensors publish."""
        energy: dict[EnergyCounter, float | None] = {
            counter: total.value for counter, total in self._totals.items()
        }
        energy.update(battery_energy(self._battery_energy))
        return energy

    # --- polling ----------------------------------------------------------------------------

    def _methods_for_cycle(self, now: float) -> list[Method]:
        due = [
            method
            for method in LOWER_TIER_METHODS
            if self._due[method] <= now and self.client.is_supported(method)
        ]
        # The client derives the battery power from the PV channels when ES.GetStatus leaves
        # it out, so a due PV reading goes first: ahead of the other catch-up requests (after
        # an outage it would otherwise wait behind them, leaving the battery power unknown),
        # and ahead of ES.GetStatus in the cycle.
        due.sort(key=lambda method: (method is not Method.PV_STATUS, self._due[method]))
        picked = due[:MAX_LOWER_TIER_REQUESTS_PER_CYCLE]
        fast = [method for method in FAST_METHODS if self.client.is_supported(method)]
        first = [method for method in picked if method is Method.PV_STATUS]
        return first + fast + [method for method in picked if method is not Method.PV_STATUS]

    async def _async_update_data(self) -> MarstekData:
        previous = self.data or MarstekData(identity=self.identity, energy=self.energy_totals())
        if self.client.writing and self.data is not None:
            return self.data  # a write holds the device; reading now would delay or upset it
        if self._stagger_s:
            await asyncio.sleep(self._stagger_s)
        changes: _Changes = {}
        answered = 0
        silent: MarstekError | None = None
        now = monotonic()
        for method in self._methods_for_cycle(now):
            tier = LOWER_TIER_METHODS.get(method)
            try:
                await self._poll(method, changes)
            except MarstekMethodUnsupportedError:
                LOGGER.debug("%s does not support %s; no longer asking", self.name, method)
                continue
            except MarstekDeviceError as err:
                answered += 1  # an error reply still proves the device is there
                LOGGER.debug("%s answered %s with an error: %s", self.name, method, err)
                if tier is not None:
                    self._due[method] = now + self._tier_interval_s[Tier.FAST]
                continue
            except MarstekError as err:
                silent = err
                if tier is not None:  # try again next cycle rather than a whole tier later
                    self._due[method] = now + self._tier_interval_s[Tier.FAST]
                if answered == 0 and self.failed_cycles and self._has_answered(method):
                    # Still silent: each further question would only wait out its retries,
                    # which delays the unavailable state by minutes and floods a device
                    # that may be restarting. A method that never answered proves nothing.
                    break
                continue
            answered += 1
            if tier is not None:
                self._due[method] = now + self._tier_interval_s[tier]
        if answered == 0 and silent is not None:
            return self._cycle_failed(previous, silent)
        self._cycle_answered()
        self._use_mode_meter(changes)
        return replace(previous, energy=self.energy_totals(), **changes)

    def _has_answered(self, method: Method) -> bool:
        stats = self.client.stats.get(method)
        return stats is not None and stats.replies > 0

    async def _poll(self, method: Method, changes: _Changes) -> None:
        device = self.client
        match method:
            case Method.ES_STATUS:
                es = self._silent_zeros.es_status(await device.read_es_status(), monotonic())
                changes["es"] = es
                self._add_energy(es)
            case Method.ES_MODE:
                changes["mode"] = await device.read_mode()
            case Method.METER_STATUS:
                changes["meter"] = await device.read_meter_status()
            case Method.PV_STATUS:
                changes["pv"] = await device.read_pv_status()
                if device.pv1_unit_check.suspect:
                    self._raise_pv1_unit_issue()
            case Method.BATTERY_STATUS:
                battery = await device.read_battery_status()
                changes["battery"] = self._silent_zeros.battery_status(battery, monotonic())
            case Method.WIFI_STATUS:
                changes["wifi"] = await device.read_wifi_status()
            case Method.BLE_STATUS:
                changes["ble"] = await device.read_ble_status()
            case _:
                self._check_identity(await device.read_identity())

    def _use_mode_meter(self, changes: _Changes) -> None:
        """Without a reply from EM.GetStatus this cycle (firmware without it, or a lost
        reply), the CT keys of ES.GetMode stand in when they report a connected CT; other
        firmware sends zero placeholders there (``ct_state`` 0), which are never shown.
        EM.GetStatus's own reply always wins."""
        meter = mode.meter if (mode := changes.get("mode")) is not None else None
        if "meter" in changes:
            self._meter_from_mode = False
        elif meter is not None and meter.connected:
            changes["meter"] = meter
            self._meter_from_mode = True
        elif meter is not None and self._meter_from_mode:
            # ES.GetMode no longer reports a CT: its last reading is not one any more.
            changes["meter"] = None
            self._meter_from_mode = False

    def _add_energy(self, es: EnergySystemStatus) -> None:
        now = monotonic()
        self._totals[EnergyCounter.GRID_INPUT].update(es.total_grid_input_energy_wh, now)
        self._totals[EnergyCounter.GRID_OUTPUT].update(es.total_grid_output_energy_wh, now)
        self._totals[EnergyCounter.PV].update(es.total_pv_energy_wh, now)
        self._totals[EnergyCounter.LOAD].update(es.total_load_energy_wh, now)
        self._battery_energy.add(es.battery_power_w, now)
        self._schedule_save()

    def _raise_pv1_unit_issue(self) -> None:
        """PV 1 has read like watts for half an hour: ask the user rather than rescale."""
        self.create_issue(self.pv1_unit_issue_id, ISSUE_PV1_IN_WATTS, ir.IssueSeverity.WARNING)

    def _check_identity(self, identity: DeviceIdentity) -> None:
        """A new firmware changes capabilities and scaling; set the entry up again."""
        if (
            identity.firmware == self.identity.firmware
            and identity.ble_mac == self.identity.ble_mac
        ):
            return
        LOGGER.info(
            "%s now reports firmware %s (was %s); reloading",
            self.name,
            identity.firmware,
            self.identity.firmware,
        )
        self.identity = identity
        self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)

    def _cycle_failed(self, previous: MarstekData, err: MarstekError) -> MarstekData:
        self.failed_cycles += 1
        if self.failed_cycles == self._api_silent_cycles:
            self.create_issue(
                self.api_silent_issue_id,
                ISSUE_API_SILENT,
                ir.IssueSeverity.ERROR,
                host=self.config_entry.data[CONF_HOST],
            )
        if self.data is None or self.failed_cycles >= FAILED_CYCLES_BEFORE_UNAVAILABLE:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="device_silent",
                translation_placeholders={
                    "host": self.config_entry.data[CONF_HOST],
                    "cycles": str(self.failed_cycles),
                },
            ) from err
        return previous  # keep showing the last values through a short outage

    def _cycle_answered(self) -> None:
        if self.failed_cycles >= self._api_silent_cycles:
            ir.async_delete_issue(self.hass, DOMAIN, self.api_silent_issue_id)
        self.failed_cycles = 0

    @property
    def pv1_unit_issue_id(self) -> str:
        """Repair issue asking whether this battery's firmware reports PV 1 in watts."""
        return f"{ISSUE_PV1_IN_WATTS}_{self.config_entry.entry_id}"

    @property
    def api_silent_issue_id(self) -> str:
        """Repair issue raised while this battery's Open API stays silent."""
        return f"{ISSUE_API_SILENT}_{self.config_entry.entry_id}"

    # --- writes -----------------------------------------------------------------------------

    def _write_error(self, err: Exception) -> HomeAssistantError:
        """A failed write as the user should read it."""
        if isinstance(err, MarstekWriteRejectedError):
            key = "write_rejected"
            placeholders = {"method": err.method, "attempts": str(err.attempts)}
        elif isinstance(err, MarstekWriteUnconfirmedError):
            key, placeholders = "write_unconfirmed", {"method": err.method}
        elif isinstance(err, MarstekConnectionError):
            key, placeholders = "cannot_connect", {"host": self.client.host}
        else:
            key, placeholders = "device_error", {"error": str(err)}
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        )

    def remember_settings(self, **written: Unpack[SettingsUpdate]) -> None:
        """Record a successful write of a write-only setting and persist it."""
        self._remember(replace(self.settings, **written))

    def remember_slot(self, slot: ManualSlot) -> None:
        """Record a successful write of a Manual schedule slot and persist it."""
        self._remember(self.settings.with_slot(slot))

    def _remember(self, settings: WrittenSettings) -> None:
        self.settings = settings
        self._schedule_save()
        self.async_update_listeners()


# --- VE.Bus ----------------------------------------------------------------------------------


# The energy totals integrate battery and AC-input power whatever entities are enabled.
ENERGY_READS: Reads = frozenset({DC, ram_read(RamVar.INPUT_POWER)})


@dataclass(frozen=True, kw_only=True)
class SettingValue:
    """A setting's limits and its value (as read, or as last written from Home Assistant)."""

    info: SettingInfo
    value: float


@dataclass(frozen=True, kw_only=True)
class VebusData:
    """One refresh: what was read, the energy totals, and whether the unit sleeps."""

    status: VebusStatus
    energy: Mapping[EnergyCounter, float]
    asleep: bool = False


class VebusCoordinator(DeviceCoordinator[VebusData, VebusClient]):
    """Polls one VE.Bus unit; reconnects after the port or the unit comes back."""

    client_errors = (VebusError,)

    def __init__(
        self,
        hass: HomeAssistant,
        entry: VebusMarstekConfigEntry,
        client: VebusClient,
        unit: UnitInfo,
    ) -> None:
        options = entry.options
        fast_s = option_number(options, CONF_FAST_INTERVAL, DEFAULT_VEBUS_FAST_INTERVAL)
        super().__init__(hass, entry, client, update_interval=timedelta(seconds=fast_s))
        self.unit = unit
        self.settings: dict[int, SettingValue] = {}
        self._unsupported_settings: set[int] = set()
        self._settings_session = client.reinitialisations
        self._period_s = fast_s
        self.pacing = TierPacing(
            period_s=fast_s,
            asked_slow_s=option_number(options, CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL),
        )
        self._slow_known: Reads = frozenset()  # the slow reads the last slow refresh made
        self._max_gap_s = fast_s * 2.5
        self._battery_energy = EnergyIntegrator(max_gap_s=self._max_gap_s)
        self._ac_input_energy = EnergyIntegrator(max_gap_s=self._max_gap_s)
        self._timeouts = 0
        self._asleep = False
        self._port_missing_since: float | None = None

    # --- persistence ----------------------------------------------------------------------

    async def _async_setup(self) -> None:
        """Continue the energy totals of the last run."""
        stored = await self._async_load_stored()
        self._battery_energy = restored_integrator(stored, "battery", max_gap_s=self._max_gap_s)
        self._ac_input_energy = restored_integrator(stored, "ac_input", max_gap_s=self._max_gap_s)

    def _stored_state(self) -> StoredState:
        return {
            "battery": self._battery_energy.as_dict(),
            "ac_input": self._ac_input_energy.as_dict(),
        }

    def energy_totals(self) -> dict[EnergyCounter, float]:
        """What the energy sensors publish."""
        energy = battery_energy(self._battery_energy)
        # AC-input power is positive when drawn from the grid.
        energy[EnergyCounter.GRID_INPUT] = round(self._ac_input_energy.positive_wh, 3)
        energy[EnergyCounter.GRID_OUTPUT] = round(self._ac_input_energy.negative_wh, 3)
        return energy

    def _break_energy(self) -> None:
        """No sample this cycle: do not integrate across the gap."""
        now = monotonic()
        self._battery_energy.add(None, now)
        self._ac_input_energy.add(None, now)

    # --- polling ----------------------------------------------------------------------------

    def wanted_reads(self) -> Reads:
        """What the entities listening now need, plus what the energy totals need."""
        wanted = set(ENERGY_READS)
        for reads in self.async_contexts():
            wanted.update(reads)
        return frozenset(wanted)

    async def _async_update_data(self) -> VebusData:
        started = monotonic()
        try:
            return await self._async_refresh_tiers(started)
        finally:
            # The period runs from one refresh's start to the next: the refresh is part of it.
            elapsed = monotonic() - started
            self.update_interval = timedelta(
                seconds=max(self._period_s - elapsed, VEBUS_MIN_PAUSE_S)
            )

    async def _async_refresh_tiers(self, started: float) -> VebusData:
        wanted = self.wanted_reads()
        slow_wanted = wanted - fast_reads(wanted)
        # An entity just added or enabled should not wait for the next slow refresh.
        slow_due = self.pacing.is_due(started) or not slow_wanted <= self._slow_known
        try:
            status, slow_read = await self._async_poll(wanted, slow_due)
        except VebusUnitAsleepError:
            return self._unit_asleep()
        except VebusConnectionError as err:
            raise self._port_missing() from err
        except VebusTimeoutError as err:
            return self._timed_out(err)
        except VebusError as err:
            self._break_energy()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="vebus_error",
                translation_placeholders={"error": str(err)},
            ) from err
        self._unit_answered()
        if slow_read:
            self._slow_known = slow_wanted
        now = monotonic()
        self._battery_energy.add(status.battery_power, now)
        self._ac_input_energy.add(input_power(status), now)
        self._schedule_save()
        return VebusData(status=status, energy=self.energy_totals())

    async def _async_poll(self, wanted: Reads, slow_due: bool) -> tuple[VebusStatus, bool]:
        try:
            self.unit = await self.client.ensure_session()
            return await self._async_read(wanted, slow_due)
        except VebusConnectionError:
            if not self.client.connection.lost.is_set():
                raise
        # The link dropped during this cycle (USB re-plugged, ser2net restarted); it is
        # usually back at once, so reopen and ask again before calling the port missing.
        LOGGER.debug("%s: the link dropped; reopening it", self.name)
        self.unit = await self.client.ensure_session()
        return await self._async_read(wanted, slow_due)

    async def _async_read(self, wanted: Reads, slow_due: bool) -> tuple[VebusStatus, bool]:
        """The fast tier, and the slow one when due; whether the slow one was read."""
        # A new session may follow a unit reset: read everything again.
        new_session = self.client.reinitialisations != self._settings_session
        slow = slow_due or new_session
        previous = self.data.status if self.data and not self.data.asleep else None
        started = monotonic()
        status = await read_values(
            self.client,
            self.unit,
            wanted if slow else fast_reads(wanted),
            None if new_session else previous,
        )
        self.pacing.record(started, monotonic() - started, slow=slow)
        await self._async_read_settings(wanted)
        return status, slow

    async def _async_read_settings(self, reads: Reads) -> None:
        if self.client.reinitialisations != self._settings_session:
            # A new session may follow a unit reset, which drops values written to RAM only.
            self._settings_session = self.client.reinitialisations
            self.settings.clear()
        for read in sorted(reads):
            setting = read.number
            if read.kind is not ReadKind.SETTING or setting in self.settings:
                continue
            if setting in self._unsupported_settings:
                continue
            try:
                info = await self.client.read_setting_info(setting)
                value = await self.client.read_setting(setting)
            except VebusUnsupportedError:
                self._unsupported_settings.add(setting)
                continue
            self.settings[setting] = SettingValue(info=info, value=value)

    def _unit_answered(self) -> None:
        self._timeouts = 0
        self._port_present()
        if self._asleep:
            LOGGER.info("%s answers again", self.config_entry.title)
            self._asleep = False

    def _unit_asleep(self) -> VebusData:
        """A switched-off unit sleeps: unavailable, but nothing is wrong, so no error."""
        self._port_present()
        self._break_energy()
        if not self._asleep:
            LOGGER.info(
                "%s is silent: it is switched off and asleep, or the MK3 has no VE.Bus power",
                self.config_entry.title,
            )
            self._asleep = True
        return VebusData(status=VebusStatus(), energy=self.energy_totals(), asleep=True)

    def _timed_out(self, err: VebusTimeoutError) -> VebusData:
        self._timeouts += 1
        self._break_energy()
        previous = self.data
        if (
            previous is not None
            and not previous.asleep
            and self._timeouts < VEBUS_TIMEOUTS_BEFORE_UNAVAILABLE
        ):
            LOGGER.debug("%s did not answer (%s); keeping the last values", self.name, err)
            return previous
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="unit_not_answering",
            translation_placeholders={"name": self.config_entry.title},
        ) from err

    def _port_missing(self) -> UpdateFailed:
        now = monotonic()
        if self._port_missing_since is None:
            self._port_missing_since = now
        self._break_energy()
        if now - self._port_missing_since >= PORT_MISSING_AFTER.total_seconds():
            self.create_issue(
                self.port_missing_issue_id,
                ISSUE_PORT_MISSING,
                ir.IssueSeverity.ERROR,
                device=self.client.url,
            )
        # The path is in the repair issue only: Home Assistant logs this message, and a
        # /dev/serial/by-id path names the interface's USB serial number.
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="port_missing",
            translation_placeholders={"name": self.config_entry.title},
        )

    def _port_present(self) -> None:
        if self._port_missing_since is not None:
            self._port_missing_since = None
            ir.async_delete_issue(self.hass, DOMAIN, self.port_missing_issue_id)

    @property
    def port_missing_issue_id(self) -> str:
        """Repair issue raised while the interface's port stays missing."""
        return f"{ISSUE_PORT_MISSING}_{self.config_entry.entry_id}"

    # --- writes -----------------------------------------------------------------------------

    def remember_setting(self, setting: int, value: float) -> None:
        """A setting was written: show the new value (RAM-only writes cannot be read back)."""
        known = self.settings.get(setting)
        if known is not None:
            self.settings[setting] = replace(known, value=value)
            self.async_update_listeners()

    async def async_refresh_everything(self) -> None:
        """Refresh now, the slow tier included."""
        self.pacing.read_now()
        await self.async_refresh()

    async def _async_refresh_after_write(self) -> None:
        # The unit confirms a switch or limit change only in the next 'F' 5 reply (slow
        # tier): read it now (not after the debounce), so no entity shows the old value.
        await self.async_refresh_everything()

    def _write_error(self, err: Exception) -> HomeAssistantError:
        """A failed write as the user should read it."""
        if isinstance(err, VebusInvalidValueError):
            # The client checked the unit's own limits and sent nothing.
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="vebus_invalid_value",
                translation_placeholders={"error": str(err)},
            )
        if isinstance(err, VebusConnectionError):
            key, placeholders = "port_missing", {"name": self.config_entry.title}
        elif isinstance(err, VebusTimeoutError):
            key, placeholders = "unit_not_answering", {"name": self.config_entry.title}
        else:  # refused (access level, unknown id) or not supported by this unit
            key, placeholders = "vebus_write_refused", {"error": str(err)}
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        )
