"""What the client reports: physical units, names as the rest of the project uses them."""

from __future__ import annotations

from dataclasses import dataclass, field

from .messages import InputConfig, LedStatus, SwitchMode, switch_mode_from_register


@dataclass(frozen=True, kw_only=True)
class PhaseValues:
    """AC input (mains) and output (inverter) of one phase."""

    phase: int
    input_voltage: float
    input_current: float  # A, + = drawn from the grid
    input_frequency: float | None
    output_voltage: float
    output_current: float
    state: int


@dataclass(frozen=True, kw_only=True)
class DeviceState:
    """Winmon 0x0E: the unit's state and, while charging, the charge state."""

    state: str | None
    charge_state: str | None


@dataclass(frozen=True, kw_only=True)
class UnitInfo:
    """What does not change while a session lasts."""

    mk_version: int | None
    firmware: int | None
    serial_number: str | None
    phases: tuple[int, ...]
    ess_setpoint_id: int | None
    battery_monitor: bool


@dataclass(frozen=True, kw_only=True)
class VebusStatus:
    """One full refresh. ``None`` means the unit did not report the value."""

    battery_voltage: float | None = None
    battery_current: float | None = None  # A, + = charging
    output_frequency: float | None = None
    phases: dict[int, PhaseValues] = field(default_factory=dict)
    input_config: InputConfig | None = None
    leds: LedStatus | None = None
    device_state: DeviceState | None = None
    ram: dict[int, float] = field(default_factory=dict)
    ess_setpoint: float | None = None

    @property
    def switch_mode(self) -> SwitchMode | None:
        """Remote switch position."""
        if self.input_config is None:
            return None
        return switch_mode_from_register(self.input_config.switch_register)

    @property
    def battery_power(self) -> float | None:
        """W, positive = discharging (Home Assistant's battery convention)."""
        if self.battery_voltage is None or self.battery_current is None:
            return None
        return round(-self.battery_voltage * self.battery_current, 1) + 0.0
