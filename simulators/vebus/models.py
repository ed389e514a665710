"""The inverter/charger models the simulator can be, with their scales and settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from .scaling import RamVarInfo, SettingInfo
from .wire import (
    ACCESS_GRID_CODE,
    ACCESS_RESET_REQUIRED,
    BIT_VARIABLE_OFFSET,
    SETTING_ABSORPTION_V,
    SETTING_CAPACITY_AH,
    SETTING_CHARGE_A,
    SETTING_FLOAT_V,
    SETTING_INPUT_LIMIT,
    SETTING_INVERTER_V,
    SETTING_MAX_ABSORPTION_MIN,
    SETTING_SOC_BULK_DONE,
)


@dataclass(frozen=True, slots=True)
class VebusModel:
    """One inverter/charger model with its firmware-dependent protocol behaviour."""

    name: str
    description: str
    firmware: int  # AA BB CCC (reference A.2)
    nominal_battery_v: float
    inverter_power_w: float  # continuous, per unit
    max_charge_current_a: float  # per unit
    battery_capacity_ah: float  # physical battery used while setting 64 is 0
    input_current_limit_range: tuple[int, int]  # 0.1 A
    ram_vars: Mapping[int, RamVarInfo]
    settings: Mapping[int, SettingInfo]
    assistants_before_ess: tuple[int, ...]  # header words (each with 0 data ids) before ESS
    ess_by_default: bool
    unique_id: int
    ac_inputs: int = 1
    nominal_ac_v: float = 230.0
    dc_frame_reserved: bytes = bytes([0xF3, 0x00, 0xC8, 0x02])  # T6r bytes [1..4]
    ac_frame_reserved: int = 0xCA  # T5r byte [3]

    @property
    def firmware_build(self) -> int:
        return self.firmware % 1000

    @property
    def sends_access_level(self) -> bool:
        """GetSettingInfo carries the access byte and settings can be protected (fw >= 308)."""
        return self.firmware_build >= 308

    @property
    def has_serial_number(self) -> bool:
        return self.firmware_build >= 308

    @property
    def has_snapshots(self) -> bool:
        """'F' 6 / winmon 0x38 exist on 3xx firmware only (reference C.3)."""
        return self.firmware_build >= 300

    @property
    def read_ram_var_value_b(self) -> bool:
        """'W' ReadRAMVar treats its 2nd byte as a 2nd id (newer firmware) rather than Hi(ID)."""
        return self.firmware_build >= 300


VOLTS_CENTI: Final = RamVarInfo(0x7F9C)  # 0.01, unsigned
AMPS_CENTI: Final = RamVarInfo(0x7F9C)  # 0.01, unsigned (MultiPlus-II inverter current)
AMPS_CENTI_SIGNED: Final = RamVarInfo(0x8064)  # 0.01, signed
AMPS_DECI_SIGNED: Final = RamVarInfo(0x800A)  # 0.1, signed
MAINS_PERIOD: Final = RamVarInfo(0x7C2F)  # 1/977
SOC_FRACTION: Final = RamVarInfo(0x7F38)  # 1/200
WATTS_SIGNED: Final = RamVarInfo(0xFFFF)  # 1, signed
ASSISTANT_WORD: Final = RamVarInfo(0x0001)


def _inverter_period(divisor: int) -> RamVarInfo:
    return RamVarInfo(0x8000 - divisor, 0x0100)


def _bit_var(scale: int) -> RamVarInfo:
    return RamVarInfo(scale, BIT_VARIABLE_OFFSET)


def _volts_setting(default: int, nominal: float, *, low: float, high: float) -> SettingInfo:
    """A DC voltage setting in 0.01 V, its range given for a 12 V system and scaled."""
    factor = nominal / 12.0
    return SettingInfo(-100, default, round(low * factor * 100), round(high * factor * 100))


def _settings(
    *,
    nominal: float,
    absorption: int,
    float_: int,
    charge_a: int,
    limit: tuple[int, int],
    capacity_ah: int,
    extra: Mapping[int, SettingInfo],
) -> dict[int, SettingInfo]:
    low_limit, high_limit = limit
    settings = {
        0: SettingInfo(1, 0x00A0, 0, 0x7FFF, flag_word=True),  # PowerAssist, bit 7 = NOT bit 3
        1: SettingInfo(1, 0x4000, 0, 0xFFFF, flag_word=True),  # remote overrules AC1
        SETTING_ABSORPTION_V: _volts_setting(absorption, nominal, low=9.0, high=17.0),
        SETTING_FLOAT_V: _volts_setting(float_, nominal, low=9.0, high=17.0),
        SETTING_CHARGE_A: SettingInfo(1, charge_a, 0, charge_a),
        SETTING_INVERTER_V: SettingInfo(1, 230, 210, 245),
        SETTING_INPUT_LIMIT: SettingInfo(-10, high_limit, low_limit, high_limit),
        SETTING_MAX_ABSORPTION_MIN: SettingInfo(1, 480, 60, 1440),
        11: _volts_setting(round(1100 * nominal / 12), nominal, low=9.0, high=16.0),
        12: _volts_setting(round(1200 * nominal / 12), nominal, low=9.0, high=16.0),
        15: SettingInfo(1, 1, 0, 6),  # VS usage
        60: SettingInfo(1, 0, 0, 0x000F, flag_word=True),
        61: SettingInfo(1, 0, 0, 0xFFFF, flag_word=True),
        SETTING_CAPACITY_AH: SettingInfo(1, capacity_ah, 0, 65330, access=ACCESS_RESET_REQUIRED),
        SETTING_SOC_BULK_DONE: SettingInfo(-2, 170, 60, 200, access=ACCESS_RESET_REQUIRED),
    }
    settings.update(extra)
    return settings


def _make_models() -> dict[str, VebusModel]:
    base_vars = {
        0: VOLTS_CENTI,
        1: AMPS_CENTI_SIGNED,
        2: VOLTS_CENTI,
        4: VOLTS_CENTI,
        6: VOLTS_CENTI,
        8: MAINS_PERIOD,
        9: AMPS_CENTI_SIGNED,
        13: SOC_FRACTION,
        14: WATTS_SIGNED,
        15: WATTS_SIGNED,
    }
    newer_power_vars = dict.fromkeys((16, 17, 18, 19), WATTS_SIGNED)
    small = VebusModel(
        name="multiplus-12-500",
        description="MultiPlus 12/500/20-16 (old firmware, like the IGUI capture)",
        firmware=1912205,
        nominal_battery_v=12.0,
        inverter_power_w=430.0,
        max_charge_current_a=20.0,
        battery_capacity_ah=100.0,
        input_current_limit_range=(20, 160),
        ram_vars={
            **base_vars,
            3: AMPS_CENTI_SIGNED,
            5: AMPS_CENTI_SIGNED,
            7: _inverter_period(1961),
            10: _bit_var(4),
            11: _bit_var(1),
            12: _bit_var(2),
        },
        settings=_settings(
            nominal=12.0,
            absorption=1440,
            float_=1380,
            charge_a=20,
            limit=(20, 160),
            capacity_ah=100,
            # Setting 14 reproduces the GetSettingInfo capture T12 (scale 1, 3, 1..3).
            extra={14: SettingInfo(1, 3, 1, 3)},
        ),
        assistants_before_ess=(),
        ess_by_default=False,
        unique_id=0x1A2B0010,
    )
    medium = VebusModel(
        name="multiplus-24-3000",
        description="MultiPlus 24/3000/70-16",
        firmware=1924418,
        nominal_battery_v=24.0,
        inverter_power_w=2400.0,
        max_charge_current_a=70.0,
        battery_capacity_ah=400.0,
        input_current_limit_range=(30, 160),
        ram_vars={
            **base_vars,
            **newer_power_vars,
            3: AMPS_CENTI_SIGNED,
            5: AMPS_DECI_SIGNED,
            7: _inverter_period(1953),
            10: _bit_var(4),
            11: _bit_var(1),
            12: _bit_var(6),
        },
        settings=_settings(
            nominal=24.0,
            absorption=2880,
            float_=2760,
            charge_a=70,
            limit=(30, 160),
            capacity_ah=400,
            extra={},
        ),
        assistants_before_ess=(),
        ess_by_default=False,
        unique_id=0x1A2B0020,
    )
    grid_code = {
        44: SettingInfo(1, 180, 170, 210, access=ACCESS_GRID_CODE),  # AC low disconnect
        45: SettingInfo(1, 187, 175, 215, access=ACCESS_GRID_CODE),  # AC low connect
        46: SettingInfo(1, 265, 235, 270, access=ACCESS_GRID_CODE),  # AC high connect
        47: SettingInfo(1, 270, 240, 275, access=ACCESS_GRID_CODE),  # AC high disconnect
        72: SettingInfo(-256, 255, 128, 255, offset=1),  # charge efficiency
    }
    large = VebusModel(
        name="multiplus-ii-48-3000",
        description="MultiPlus-II 48/3000/35-32 with the ESS assistant",
        firmware=2648506,
        nominal_battery_v=48.0,
        inverter_power_w=2400.0,
        max_charge_current_a=35.0,
        battery_capacity_ah=200.0,
        input_current_limit_range=(30, 320),
        ram_vars={
            **base_vars,
            **newer_power_vars,
            3: AMPS_CENTI,
            5: AMPS_DECI_SIGNED,
            7: _inverter_period(1953),
            11: _bit_var(5),
            12: _bit_var(6),
        },
        settings=_settings(
            nominal=48.0,
            absorption=5680,
            float_=5400,
            charge_a=35,
            limit=(30, 320),
            capacity_ah=200,
            extra=grid_code,
        ),
        assistants_before_ess=(0x0090, 0x8800),
        ess_by_default=True,
        unique_id=0x1A2B0030,
    )
    return {model.name: model for model in (small, medium, large)}


MODELS: Final[dict[str, VebusModel]] = _make_models()
