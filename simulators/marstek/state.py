"""One battery's ground truth in physical units, and the truth a perfect client reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from .wire import Mode

DOD_MIN: Final = 30
DOD_MAX: Final = 88
# Every VNSE3 on one access point reports this (the AP's BSSID) as its wifi_mac.
SHARED_AP_BSSID: Final = "a4c1e2f3d5b7"


@dataclass(slots=True)
class ManualSlot:
    """One Manual-mode schedule slot as last written by ES.SetMode."""

    start_minute: int = 0  # minutes after midnight
    end_minute: int = 0
    week_set: int = 0  # bit0 = Monday ... bit6 = Sunday
    power_w: int = 0  # SetMode convention: - charge, + discharge
    enabled: bool = False

    def covers(self, moment: datetime) -> bool:
        """Whether this slot drives the setpoint at `moment` (wall-clock time)."""
        if not self.enabled or not self.week_set & (1 << moment.weekday()):
            return False
        minute = moment.hour * 60 + moment.minute
        if self.start_minute <= self.end_minute:
            return self.start_minute <= minute < self.end_minute
        # An end before the start runs over midnight.
        return minute >= self.start_minute or minute < self.end_minute


@dataclass(slots=True)
class BatteryState:
    """Ground truth in physical units.  Tests may set any field directly.

    Signs: battery_charge_w + = charging; ongrid + = device feeds the house/grid;
    meter (CT) + = import from the public grid; passive/manual power + = discharge.
    """

    rated_capacity_wh: float
    soc: float = 50.0  # %
    temperature_c: float = 25.0
    charge_permitted: bool = True  # Bat.charg_flag
    discharge_permitted: bool = True  # Bat.dischrg_flag
    # Recomputed from mode and loads on every request; read it, don't set it.
    battery_charge_w: float = 0.0
    pv_w: list[float] = field(default_factory=list)  # per channel W
    pv_voltage_v: list[float] = field(default_factory=list)  # per channel V
    offgrid_load_w: float = 0.0  # EPS socket load
    house_load_w: float = 0.0  # household consumption measured by the CT, battery excluded
    # Share of house_load_w on phases a, b, c; the battery feeds phase a.
    phase_split: tuple[float, float, float] = (1.0, 0.0, 0.0)
    ct_connected: bool = True
    grid_available: bool = True
    mode: Mode = Mode.AUTO
    passive_power_w: float = 0.0  # - charge, + discharge
    passive_remaining_s: float = 0.0
    manual_slots: list[ManualSlot] = field(default_factory=list)
    ups_enabled: bool = False
    dod: int = DOD_MAX
    led_on: bool = True
    ble_adv: bool = True
    # Lifetime counters, Wh.
    grid_input_wh: float = 0.0  # drawn from the grid at the AC port (ongrid < 0)
    grid_output_wh: float = 0.0  # fed to the house/grid (ongrid > 0)
    pv_energy_wh: float = 0.0
    load_energy_wh: float = 0.0  # EPS socket energy
    meter_import_wh: float = 0.0  # CT: from the public grid
    meter_export_wh: float = 0.0  # CT: to the public grid
    # Network identity.
    ip: str = "127.0.0.1"
    ble_mac: str = "000000000000"
    wifi_mac: str = "000000000000"
    ap_bssid: str = SHARED_AP_BSSID
    ssid: str = "MarstekLab"
    rssi_dbm: int = -58
    gateway: str = "127.0.0.1"
    netmask: str = "255.255.255.0"
    dns: str = "127.0.0.1"
    ble_connected: bool = False
    # False once the Local API has switched itself off (see Faults.disable_after_requests).
    api_enabled: bool = True

    @property
    def pv_power_w(self) -> float:
        return float(sum(self.pv_w))

    @property
    def ongrid_power_w(self) -> float:
        """AC port power, + = device outputs to the house (pv + discharge = ongrid + offgrid)."""
        return self.pv_power_w - self.battery_charge_w - self.offgrid_load_w

    @property
    def soc_floor(self) -> float:
        """Lowest SOC the battery may be discharged to."""
        return 100.0 - self.dod

    @property
    def remaining_wh(self) -> float:
        return self.soc / 100.0 * self.rated_capacity_wh

    @property
    def meter_phase_w(self) -> tuple[float, float, float]:
        """CT readings per phase, + import; all 0 without a CT."""
        if not self.ct_connected:
            return (0.0, 0.0, 0.0)
        a, b, c = (self.house_load_w * share for share in self.phase_split)
        return (a - self.ongrid_power_w, b, c)

    @property
    def meter_total_w(self) -> float:
        return sum(self.meter_phase_w)

    @property
    def battery_voltage_v(self) -> float:
        # A 16s LFP pack: about 48 V empty to 54 V full is close enough for tests.
        return 48.0 + 0.06 * self.soc

    @property
    def battery_current_a(self) -> float:
        return self.battery_charge_w / self.battery_voltage_v


@dataclass(frozen=True, slots=True)
class PhysicalTruth:
    """What a perfect client would report, in physical units (see BatteryState for signs)."""

    mode: Mode
    soc: float
    battery_power_w: float  # + charging
    ongrid_power_w: float
    offgrid_power_w: float
    pv_power_w: float
    pv_channel_w: tuple[float, ...]
    meter_phase_w: tuple[float, float, float]
    meter_total_w: float
    remaining_wh: float
    rated_capacity_wh: float
    temperature_c: float
    grid_input_wh: float
    grid_output_wh: float
    pv_energy_wh: float
    load_energy_wh: float
    meter_import_wh: float
    meter_export_wh: float
    passive_power_w: float
    passive_remaining_s: float
    dod: int
    led_on: bool
    ble_adv: bool
