"""Polling one VE.Bus unit through its MK2/MK3: only what the enabled entities show.

At 2400 baud every frame costs tens of milliseconds, so each entity says which reads it
needs (its coordinator context) and a refresh asks for the union of those, nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from time import monotonic
from typing import NamedTuple

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import UpdateFailed

from .const import (
    CONF_POLL_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    DOMAIN,
    ISSUE_PORT_MISSING,
    LOGGER,
    PORT_MISSING_AFTER,
    VEBUS_TIMEOUTS_BEFORE_UNAVAILABLE,
)
from .device_coordinator import (
    DeviceCoordinator,
    EnergyCounter,
    StoredState,
    battery_energy,
    option_number,
    restored_integrator,
)
from .energy import EnergyIntegrator
from .vebus import (
    PhaseValues,
    RamVar,
    SettingInfo,
    UnitInfo,
    VebusClient,
    VebusConnectionError,
    VebusError,
    VebusInvalidValueError,
    VebusStatus,
    VebusTimeoutError,
    VebusUnitAsleepError,
    VebusUnsupportedError,
    input_power,
)

type VebusConfigEntry = ConfigEntry[VebusRuntimeData]


@dataclass(kw_only=True)
class VebusRuntimeData:
    """What a loaded VE.Bus entry holds."""

    client: VebusClient
    coordinator: VebusCoordinator


class ReadKind(StrEnum):
    """One kind of request to the unit."""

    DC = "dc"  # 'F' 0: battery voltage and current, AC-out frequency
    PHASE = "phase"  # 'F' 1..3: AC in and out of one phase
    INPUT_CONFIG = "input_config"  # 'F' 5: input current limits and switch position (slow)
    LEDS = "leds"  # 'L': LEDs, alarms and VE.Bus error
    DEVICE_STATE = "device_state"  # winmon 0x0E: device and charge state
    RAM = "ram"  # RAM variables, six per request
    SETTING = "setting"  # read once per session: settings change only when written


class Read(NamedTuple):
    """A value an entity needs from the unit."""

    kind: ReadKind
    number: int = 0


type Reads = frozenset[Read]

DC = Read(ReadKind.DC)
INPUT_CONFIG = Read(ReadKind.INPUT_CONFIG)
LEDS = Read(ReadKind.LEDS)
DEVICE_STATE = Read(ReadKind.DEVICE_STATE)


def phase_read(number: int) -> Read:
    """The AC values of one phase."""
    return Read(ReadKind.PHASE, number)


def ram_read(var: int) -> Read:
    """One RAM variable."""
    return Read(ReadKind.RAM, var)


def setting_read(setting: int) -> Read:
    """One setting with its limits."""
    return Read(ReadKind.SETTING, setting)


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

    config_entry: VebusConfigEntry
    client_errors = (VebusError,)

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: VebusClient, unit: UnitInfo
    ) -> None:
        interval_s = option_number(entry.options, CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL)
        super().__init__(hass, entry, client, update_interval=timedelta(seconds=interval_s))
        self.unit = unit
        self.settings: dict[int, SettingValue] = {}
        self._unsupported_settings: set[int] = set()
        self._settings_session = client.reinitialisations
        self._max_gap_s = interval_s * 2.5
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
        reads = self.wanted_reads()
        try:
            status = await self._async_poll(reads)
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
        now = monotonic()
        self._battery_energy.add(status.battery_power, now)
        self._ac_input_energy.add(input_power(status), now)
        self._schedule_save()
        return VebusData(status=status, energy=self.energy_totals())

    async def _async_poll(self, reads: Reads) -> VebusStatus:
        try:
            self.unit = await self.client.ensure_session()
            return await self._async_read(reads)
        except VebusConnectionError:
            if not self.client.connection.lost.is_set():
                raise
        # The link dropped during this cycle (USB re-plugged, ser2net restarted); it is
        # usually back at once, so reopen and ask again before calling the port missing.
        LOGGER.debug("%s: the link dropped; reopening it", self.name)
        self.unit = await self.client.ensure_session()
        return await self._async_read(reads)

    async def _async_read(self, reads: Reads) -> VebusStatus:
        client = self.client
        dc = await client.read_dc_info() if DC in reads else None
        phases: dict[int, PhaseValues] = {}
        for number in self.unit.phases:
            if phase_read(number) not in reads:
                continue
            if (values := await client.read_phase(number)) is not None:
                phases[number] = values
        ram_ids = sorted(read.number for read in reads if read.kind is ReadKind.RAM)
        await self._async_read_settings(reads)
        return VebusStatus(
            battery_voltage=dc.voltage if dc else None,
            battery_current=dc.battery_current if dc else None,
            output_frequency=dc.inverter_frequency if dc else None,
            phases=phases,
            input_config=await client.read_input_config() if INPUT_CONFIG in reads else None,
            leds=await client.read_leds() if LEDS in reads else None,
            device_state=await client.read_device_state() if DEVICE_STATE in reads else None,
            ram=await client.read_ram_vars(ram_ids) if ram_ids else {},
        )

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
                info = await self.client.get_setting_info(setting)
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

    async def _async_refresh_after_write(self) -> None:
        # The unit confirms a switch or limit change only in the next 'F' 5 reply: read it
        # now (not after the debounce), so the entity does not show the old value meanwhile.
        await self.async_refresh()

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
