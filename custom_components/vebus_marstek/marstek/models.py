"""Normalised device data: physical units (W, Wh, degrees Celsius, %) and fixed sign conventions.

Signs, as Home Assistant's energy dashboard expects them:
* ``battery_power_w``: positive = discharging, negative = charging;
* ``ongrid_power_w``: positive = the battery feeds the house or grid, negative = it draws;
* meter powers: positive = the house imports from the public grid.

``None`` always means "the device did not report this value".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum


class OperatingMode(StrEnum):
    """Energy-system modes, with the names the rest of the project uses."""

    AUTO = "auto"
    AI = "ai"
    MANUAL = "manual"
    PASSIVE = "passive"
    UPS = "ups"


@dataclass(frozen=True, kw_only=True)
class DeviceIdentity:
    """Marstek.GetDevice."""

    device: str
    firmware: int | None
    ble_mac: str | None
    wifi_mac: str | None
    ssid: str | None
    ip: str | None
    src: str | None


@dataclass(frozen=True, kw_only=True)
class EnergySystemStatus:
    """ES.GetStatus."""

    soc: float | None
    battery_power_w: float | None
    battery_power_derived: bool
    ongrid_power_w: float | None
    offgrid_power_w: float | None
    pv_power_w: float | None
    remaining_capacity_wh: float | None
    total_pv_energy_wh: float | None
    total_grid_output_energy_wh: float | None
    total_grid_input_energy_wh: float | None
    total_load_energy_wh: float | None


@dataclass(frozen=True, kw_only=True)
class ModeStatus:
    """ES.GetMode."""

    mode: OperatingMode | None
    ongrid_power_w: float | None
    offgrid_power_w: float | None
    soc: float | None
    meter: MeterStatus | None  # its CT keys, on firmware that sends them; see parse_mode_status


@dataclass(frozen=True, kw_only=True)
class MeterStatus:
    """EM.GetStatus: the CT002/CT003 or smart meter the battery follows."""

    connected: bool | None
    phase_a_power_w: float | None
    phase_b_power_w: float | None
    phase_c_power_w: float | None
    total_power_w: float | None
    input_energy_wh: float | None
    output_energy_wh: float | None


@dataclass(frozen=True, kw_only=True)
class PvChannel:
    """One MPPT input of PV.GetStatus."""

    power_w: float | None
    voltage_v: float | None
    current_a: float | None
    working: bool | None


@dataclass(frozen=True, kw_only=True)
class PvStatus:
    """PV.GetStatus (Venus A and D)."""

    channels: tuple[PvChannel, ...]

    @property
    def total_power_w(self) -> float | None:
        """Sum of the channels that report a power."""
        powers = [c.power_w for c in self.channels if c.power_w is not None]
        return sum(powers) if powers else None


@dataclass(frozen=True, kw_only=True)
class BatteryStatus:
    """Bat.GetStatus."""

    soc: float | None
    charge_allowed: bool | None
    discharge_allowed: bool | None
    temperature_c: float | None
    remaining_capacity_wh: float | None
    rated_capacity_wh: float | None
    voltage_v: float | None
    current_a: float | None


@dataclass(frozen=True, kw_only=True)
class WifiStatus:
    """Wifi.GetStatus."""

    ssid: str | None
    rssi_dbm: int | None
    ip: str | None
    gateway: str | None
    netmask: str | None
    dns: str | None
    wifi_mac: str | None


@dataclass(frozen=True, kw_only=True)
class BleStatus:
    """BLE.GetStatus."""

    connected: bool | None
    ble_mac: str | None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, kw_only=True)
class ManualSlot:
    """One Manual-mode schedule slot.

    ``power_w`` follows the device: negative = charge, positive = discharge.
    ``weekdays`` holds indices into :data:`WEEKDAYS` (0 = Monday).
    """

    slot: int
    start: time
    end: time
    weekdays: frozenset[int]
    power_w: int
    enabled: bool = True


@dataclass(frozen=True, kw_only=True)
class PassiveRequest:
    """What was last asked of Passive mode; the device cannot report it back."""

    power_w: int
    duration_s: int
    ends_at: datetime  # UTC: when the battery's countdown runs out
