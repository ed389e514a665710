"""The ground truth as the wire carries it: RAM variables and the 'F' info frames."""

from __future__ import annotations

from typing import Final

from .models import VebusModel
from .plant import RIPPLE_V_PER_A
from .scaling import RamVarInfo, u16, u24
from .state import SwitchMode, Truth
from .wire import DC_INFO_MARKER

# 'F' 5 switch register: this bit was always seen set (reference F).
_SWITCH_REG_ONBOARD: Final = 0x40
_SWITCH_REG_FRONT_ON: Final = 0x04


def _period(frequency: float) -> float:
    """Scaled period variables hold 10x the period in seconds (reference D.1)."""
    return 10.0 / frequency if frequency > 0 else 0.0


def physical_ram_values(truth: Truth, *, battery_monitor: bool) -> dict[int, float]:
    """RAM vars 0-19 of one unit in physical units; each unit carries its share of the totals."""
    share = 1.0 / truth.phases
    powers = {
        14: truth.inverter_power * share,
        15: -truth.ac_input_power * share,  # negative = consuming from the grid
        16: truth.ac_output_power * share,
    }
    return {
        0: truth.ac_input_voltage,
        1: truth.ac_input_current,
        2: truth.ac_output_voltage,
        3: truth.ac_output_current,
        4: truth.battery_voltage,
        5: truth.battery_current * share,
        6: abs(truth.battery_current) * RIPPLE_V_PER_A,
        7: _period(truth.ac_output_frequency),
        8: _period(truth.ac_input_frequency),
        9: truth.ac_output_current,
        13: truth.soc if battery_monitor else 1.0,
        **powers,
        **{var_id + 3: value for var_id, value in powers.items()},  # unfiltered twins
    }


def status_word(model: VebusModel, truth: Truth) -> int:
    """The raw word behind the bit variables 10-12."""
    word = 0
    for var_id, is_set in (
        (10, truth.virtual_switch),
        (11, truth.ac_input_ignored),
        (12, truth.multi_function_relay),
    ):
        info = model.ram_vars.get(var_id)
        if info is not None and is_set:
            word |= 1 << info.bit
    return word


def _period_byte(info: RamVarInfo, frequency: float) -> int:
    return min(info.to_raw(_period(frequency)), 0xFF)


def dc_info_body(model: VebusModel, truth: Truth) -> bytes:
    """'F' 0 reply after the 0x20 type byte (reference C.3)."""
    amps = model.ram_vars[5]
    discharge = round(max(-truth.battery_current, 0.0) / amps.multiplier)
    charge = round(max(truth.battery_current, 0.0) / amps.multiplier)
    return (
        model.dc_frame_reserved
        + bytes([DC_INFO_MARKER])
        + u16(model.ram_vars[4].to_raw(truth.battery_voltage))
        + u24(discharge)
        + u24(charge)
        + bytes([_period_byte(model.ram_vars[7], truth.ac_output_frequency)])
    )


def phase_byte(phase: int, phases: int) -> int:
    """0x08+n-1 for L1 of an n-phase system, then 0x07, 0x06, 0x05 for L2..L4."""
    return 0x07 + phases if phase == 1 else 0x09 - phase


def ac_info_body(model: VebusModel, truth: Truth, phase: int) -> bytes:
    """'F' 1..4 reply after the 0x20 type byte (reference C.3); factors are always 1."""
    variables = model.ram_vars
    return (
        bytes([1, 1, model.ac_frame_reserved, truth.state_code, phase_byte(phase, truth.phases)])
        + u16(variables[0].to_raw(truth.ac_input_voltage))
        + u16(variables[1].to_raw(truth.ac_input_current))
        + u16(variables[2].to_raw(truth.ac_output_voltage))
        + u16(variables[3].to_raw(truth.ac_output_current))
        + bytes([_period_byte(variables[8], truth.ac_input_frequency)])
    )


def switch_register(mode: SwitchMode) -> int:
    """'F' 5 switch register with the front switch up (reference F: 0x77 = on)."""
    remote = {
        SwitchMode.CHARGER_ONLY: 0x01,
        SwitchMode.INVERTER_ONLY: 0x02,
        SwitchMode.ON: 0x03,
        SwitchMode.OFF: 0x00,
    }[mode]
    return remote | _SWITCH_REG_FRONT_ON | remote << 4 | _SWITCH_REG_ONBOARD
