"""Tiered, paced polling of one Marstek battery, with energy totals that survive restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
import math
from time import monotonic
from typing import TypedDict, Unpack

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import UpdateFailed

from .const import (
    API_SILENT_AFTER,
    CONF_BACKOFF,
    CONF_FAST_INTERVAL,
    CONF_MEDIUM_INTERVAL,
    CONF_QUIET_GAP,
    CONF_READ_ATTEMPTS,
    CONF_REQUEST_SPACING,
    CONF_REQUEST_TIMEOUT,
    CONF_SLOW_INTERVAL,
    CONF_WRITE_ATTEMPTS,
    CONF_WRITE_TIMEOUT,
    DEFAULT_FAST_INTERVAL,
    DEFAULT_MEDIUM_INTERVAL,
    DEFAULT_REQUEST_SPACING,
    DEFAULT_SLOW_INTERVAL,
    DOMAIN,
    FAILED_CYCLES_BEFORE_UNAVAILABLE,
    ISSUE_API_SILENT,
    ISSUE_PV1_IN_WATTS,
    LOGGER,
    MAX_LOWER_TIER_REQUESTS_PER_CYCLE,
)
from .device_coordinator import (
    DeviceCoordinator,
    EnergyCounter,
    StoredState,
    battery_energy,
    option_number,
    restored_integrator,
)
from .energy import EnergyIntegrator, MonotonicTotal
from .marstek import (
    BatteryStatus,
    BleStatus,
    DeviceIdentity,
    EnergySystemStatus,
    FirmwareProfile,
    ManualSlot,
    MarstekConnectionError,
    MarstekDevice,
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
from .written_settings import SettingsUpdate, WrittenSettings

type MarstekConfigEntry = ConfigEntry[MarstekRuntimeData]


@dataclass(kw_only=True)
class MarstekRuntimeData:
    """What a loaded entry holds."""

    device: MarstekDevice
    coordinator: MarstekCoordinator


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
    meter: MeterStatus
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


class MarstekCoordinator(DeviceCoordinator[MarstekData, MarstekDevice]):
    """Polls one battery: the fast tier every cycle, slower requests when due."""

    config_entry: MarstekConfigEntry
    client_errors = (MarstekError,)

    def __init__(
        self,
        hass: HomeAssistant,
        entry: MarstekConfigEntry,
        device: MarstekDevice,
        identity: DeviceIdentity,
    ) -> None:
        options = entry.options
        fast_s = option_number(options, CONF_FAST_INTERVAL, DEFAULT_FAST_INTERVAL)
        super().__init__(hass, entry, device, update_interval=timedelta(seconds=fast_s))
        assert device.profile is not None  # set by the get_device probe in setup
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
        return replace(previous, energy=self.energy_totals(), **changes)

    def _has_answered(self, method: Method) -> bool:
        stats = self.client.stats.get(method)
        return stats is not None and stats.replies > 0

    async def _poll(self, method: Method, changes: _Changes) -> None:
        device = self.client
        match method:
            case Method.ES_STATUS:
                es = self._silent_zeros.es_status(await device.get_es_status(), monotonic())
                changes["es"] = es
                self._add_energy(es)
            case Method.ES_MODE:
                changes["mode"] = await device.get_mode()
            case Method.METER_STATUS:
                changes["meter"] = await device.get_meter_status()
            case Method.PV_STATUS:
                changes["pv"] = await device.get_pv_status()
                if device.pv1_unit_check.suspect:
                    self._raise_pv1_unit_issue()
            case Method.BATTERY_STATUS:
                battery = await device.get_battery_status()
                changes["battery"] = self._silent_zeros.battery_status(battery, monotonic())
            case Method.WIFI_STATUS:
                changes["wifi"] = await device.get_wifi_status()
            case Method.BLE_STATUS:
                changes["ble"] = await device.get_ble_status()
            case _:
                self._check_identity(await device.get_device())

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
