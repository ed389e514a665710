"""The unit's states as the reference names them, its memory, surroundings and ground truth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from .models import VebusModel
from .scaling import SettingInfo
from .wire import ASSISTANT_BASE_ID, ESS_ASSISTANT_HEADER


class SwitchMode(IntEnum):
    """'S' switch states (reference C.4)."""

    CHARGER_ONLY = 1
    INVERTER_ONLY = 2
    ON = 3
    OFF = 4


class DeviceState(IntEnum):
    """AC-frame byte 4 / winmon 0x94 first byte (reference F)."""

    DOWN = 0
    STARTUP = 1
    OFF = 2
    SLAVE = 3
    INVERT_FULL = 4
    INVERT_HALF = 5
    INVERT_AES = 6
    POWER_ASSIST = 7
    BYPASS = 8
    CHARGE = 9


class ChargeState(IntEnum):
    """Winmon 0x94 second byte (reference F)."""

    INIT = 0
    BULK = 1
    ABSORPTION = 2
    FLOAT = 3
    STORAGE = 4
    REPEATED_ABSORPTION = 5
    FORCED_ABSORPTION = 6
    EQUALISE = 7
    BULK_STOPPED = 8


@dataclass(slots=True)
class Environment:
    """What the unit sees from outside; change it with `VebusSimulator.set_ground_truth`."""

    grid_available: bool = True
    ac_input_voltage: float = 230.0
    ac_input_frequency: float = 50.0
    ac_load_w: float = 0.0  # all phases together
    ignore_ac_input: bool = False
    multi_function_relay: bool = False
    virtual_switch: bool = False
    alarms: int = 0  # extra 'L' alarm bits
    error_code: int = 0  # 'L' VE.Bus error byte


@dataclass(frozen=True, slots=True)
class Truth:
    """The unit in physical units.  Powers are totals over all phases, currents per phase."""

    grid_available: bool
    ac_input_voltage: float  # V RMS at AC-in, 0 without grid
    ac_input_current: float  # A per phase, + = drawn from the grid, - = fed into it
    ac_input_frequency: float  # Hz, 0 without grid
    ac_input_power: float  # W, + = drawn from the grid
    ac_output_voltage: float  # V RMS at AC-out, 0 when the output is dead
    ac_output_current: float  # A per phase, towards the loads
    ac_output_frequency: float  # Hz, 0 when the output is dead
    ac_output_power: float  # W, + = towards the loads
    inverter_power: float  # W at the bridge's AC side, + = AC->DC (charging), RAM var 14
    battery_voltage: float  # V
    battery_current: float  # A, + = charging
    battery_power: float  # W, + = charging
    soc: float  # 0..1
    state: str  # DeviceState name in lower case
    state_code: int
    charge_state: str  # ChargeState name in lower case
    charge_state_code: int
    switch_mode: str  # "charger_only" | "inverter_only" | "on" | "off"
    input_current_limit: float  # A, actual (as 'F' 5 reports it)
    input_current_limit_min: float  # A
    input_current_limit_max: float  # A
    ess_setpoint: int  # W at AC-in, + = discharge/feed-in, - = charge; 0 without ESS
    leds: Mapping[str, str]  # LED name -> "off" | "on" | "blink" | "blink_inverted"
    led_on: int
    led_blink: int
    alarms: int
    error_code: int
    ac_input_ignored: bool
    multi_function_relay: bool
    virtual_switch: bool
    phases: int


# Truth fields `VebusSimulator.pin` may override (the ones the wire frames carry).
PINNABLE: Final = frozenset(
    {
        "ac_input_voltage",
        "ac_input_current",
        "ac_input_frequency",
        "ac_input_power",
        "ac_output_voltage",
        "ac_output_current",
        "ac_output_frequency",
        "ac_output_power",
        "inverter_power",
        "battery_voltage",
        "battery_current",
        "battery_power",
        "soc",
    }
)


class SettingsStore:
    """EEPROM and effective (RAM) value of every setting."""

    def __init__(self, infos: Mapping[int, SettingInfo], overrides: Mapping[int, int]) -> None:
        self.infos = infos
        self.eeprom = {sid: overrides.get(sid, info.default) for sid, info in infos.items()}
        self.ram = dict(self.eeprom)

    def value(self, setting_id: int, fallback: float) -> float:
        info = self.infos.get(setting_id)
        return fallback if info is None else info.to_value(self.ram[setting_id])

    def raw(self, setting_id: int) -> int | None:
        return self.ram.get(setting_id)

    def write(self, setting_id: int, raw: int, *, eeprom: bool) -> None:
        self.ram[setting_id] = raw
        if eeprom:
            self.eeprom[setting_id] = raw

    def forget_ram_only(self) -> None:
        self.ram = dict(self.eeprom)


def assistant_records(model: VebusModel, ess: bool) -> tuple[dict[int, int], int | None]:
    """RAM ids from 128 on and the id of the ESS header (reference E.1)."""
    if not ess:
        return {ASSISTANT_BASE_ID: 0}, None
    words = [*model.assistants_before_ess, ESS_ASSISTANT_HEADER]
    records = {ASSISTANT_BASE_ID + index: word for index, word in enumerate(words)}
    header = ASSISTANT_BASE_ID + len(model.assistants_before_ess)
    ess_ids = ESS_ASSISTANT_HEADER & 0x0F
    records.update(dict.fromkeys(range(header + 1, header + 1 + ess_ids), 0))
    records[header + 1 + ess_ids] = 0  # empty header: end of the list
    return records, header
