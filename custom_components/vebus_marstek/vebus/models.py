"""What the client reports: replies decoded to physical units, and the unit's own scales.

Plain values with no protocol state: :mod:`.messages` builds them from frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SwitchMode(StrEnum):
    """Remote switch positions of 'S'."""

    CHARGER_ONLY = "charger_only"
    INVERTER_ONLY = "inverter_only"
    ON = "on"
    OFF = "off"


DEVICE_STATES = (
    "down",
    "startup",
    "off",
    "slave",
    "invert_full",
    "invert_half",
    "invert_aes",
    "power_assist",
    "bypass",
    "charge",
)


CHARGE_STATES = (
    "init",
    "bulk",
    "absorption",
    "float",
    "storage",
    "repeated_absorption",
    "forced_absorption",
    "equalise",
    "bulk_stopped",
)


LED_NAMES = (
    "mains",
    "absorption",
    "bulk",
    "float",
    "inverter",
    "overload",
    "low_battery",
    "temperature",
)


ALARM_NAMES = (
    "temperature_prealarm",
    "low_battery_prealarm",
    "overload_prealarm",
    "ripple_prealarm",
    "temperature",
    "low_battery",
    "overload",
    "ripple",
)


def signed_word(value: int) -> int:
    """A 16-bit word read as two's complement."""
    return value - 0x10000 if value & 0x8000 else value


@dataclass(frozen=True, slots=True)
class RamVarInfo:
    """Scale and offset of a RAM variable, as the unit reports them (reference D.1)."""

    scale: int  # signed 16-bit word
    offset: int  # signed 16-bit word

    @property
    def supported(self) -> bool:
        """Scale 0 (and 0x8000, which would divide by zero) mean "not supported"."""
        return self.scale not in (0, -0x8000)

    @property
    def is_bit(self) -> bool:
        """An offset of -32768 marks a single-bit variable; the scale is bit number + 1."""
        return self.offset == -0x8000

    @property
    def signed(self) -> bool:
        """A negative scale word marks a signed variable."""
        return self.scale < 0

    @property
    def multiplier(self) -> float:
        """The factor from raw to physical units."""
        magnitude = abs(self.scale)
        return float(magnitude) if magnitude < 0x4000 else 1 / (0x8000 - magnitude)

    def value(self, raw: int, *, signed: bool | None = None) -> float:
        """Physical value of a raw 16-bit word (bit variables give 0.0 or 1.0)."""
        if self.is_bit:
            return float((raw >> (self.scale - 1)) & 1)
        as_signed = self.signed if signed is None else signed
        word = signed_word(raw & 0xFFFF) if as_signed else raw & 0xFFFF
        return self.multiplier * (word + self.offset)

    def raw(self, value: float) -> int:
        """Raw 16-bit word for a physical value (inverse of :meth:`value`)."""
        return round(value / self.multiplier - self.offset) & 0xFFFF

    def frequency(self, raw: int) -> float | None:
        """Hz from a period variable: its scaled value is ten times the period in seconds."""
        if raw in (0x00, 0xFF):
            return None
        period = self.multiplier * (raw + self.offset)
        return round(10 / period, 4) if period > 0 else None


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """Scale, offset and limits of a setting (reference D.3); limits are raw words."""

    scale: int
    offset: int
    default: int
    minimum: int
    maximum: int
    access_level: int | None = None

    @property
    def supported(self) -> bool:
        """Scale 0 means the setting does not exist on this unit."""
        return self.scale != 0

    @property
    def multiplier(self) -> float:
        """Positive scale: multiply; negative: divide by its magnitude."""
        return float(self.scale) if self.scale > 0 else 1 / -self.scale

    def value(self, raw: int) -> float:
        """Physical value of a raw word."""
        return round(self.multiplier * (raw + self.offset), 6)

    def raw(self, value: float) -> int:
        """Raw word for a physical value."""
        return round(value / self.multiplier - self.offset)

    @property
    def min_value(self) -> float:
        """Lowest physical value the unit accepts."""
        return self.value(self.minimum)

    @property
    def max_value(self) -> float:
        """Highest physical value the unit accepts."""
        return self.value(self.maximum)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """'V': interface firmware and the byte after it (selected address, or 'B'/'W')."""

    version: int
    trailer: int


@dataclass(frozen=True, slots=True)
class LedStatus:
    """'L': LED on and blink masks, alarm byte and VE.Bus error code."""

    on: int
    blink: int
    alarms: int | None
    error_code: int | None

    @property
    def no_information(self) -> bool:
        """Both masks 0x1F together mean the unit has nothing to show."""
        return self.on == 0x1F and self.blink == 0x1F

    def states(self) -> dict[str, str]:
        """Each LED as off, on, blink or blink_inverted (on and blink: anti-phase)."""
        result = {}
        for bit, name in enumerate(LED_NAMES):
            on, blink = (self.on >> bit) & 1, (self.blink >> bit) & 1
            result[name] = ("off", "blink", "on", "blink_inverted")[on * 2 + blink]
        return result

    def active_alarms(self) -> list[str]:
        """Names of the alarm bits that are set."""
        if self.alarms is None:
            return []
        return [name for bit, name in enumerate(ALARM_NAMES) if self.alarms >> bit & 1]


@dataclass(frozen=True, slots=True)
class DcInfo:
    """'F' 0: battery voltage and currents (currents are system totals)."""

    voltage: float
    inverter_current: float  # battery -> inverter (discharge), A
    charger_current: float  # charger -> battery, A
    inverter_frequency: float | None

    @property
    def battery_current(self) -> float:
        """A, positive = charging."""
        return round(self.charger_current - self.inverter_current, 4)


@dataclass(frozen=True, slots=True)
class AcInfo:
    """'F' 1..4: one phase's AC input (mains) and output (inverter) values."""

    phase: int  # 1..4
    phase_count: int | None
    state: int
    mains_voltage: float
    mains_current: float
    inverter_voltage: float
    inverter_current: float
    mains_frequency: float | None


@dataclass(frozen=True, slots=True)
class InputConfig:
    """'F' 5: AC-input current limits (A) and the switch register."""

    current_limit: float
    minimum: float
    maximum: float
    switch_register: int
    config: int

    @property
    def limit_overridden_by_panel(self) -> bool:
        """Bit 2 of the configuration byte."""
        return bool(self.config & 0x04)


def switch_mode_from_register(register: int) -> SwitchMode | None:
    """The remote ('S') switch position from the 'F' 5 switch register."""
    charge, invert = bool(register & 0x01), bool(register & 0x02)
    if charge and invert:
        return SwitchMode.ON
    if charge:
        return SwitchMode.CHARGER_ONLY
    if invert:
        return SwitchMode.INVERTER_ONLY
    return SwitchMode.OFF


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
