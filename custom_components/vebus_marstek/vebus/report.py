"""One status as a plain dictionary: the command line tool prints it, diagnostics reuse it."""

from __future__ import annotations

from collections.abc import Callable

from .messages import RamVar
from .models import PhaseValues, UnitInfo, VebusStatus


def input_power(status: VebusStatus) -> float | None:
    """W at AC-in, positive = drawn from the grid (the unit's own sign is the opposite).

    Units without the power variables (older firmware) get voltage x current per phase:
    apparent power, which overstates real power by the power factor.
    """
    value = status.ram.get(RamVar.INPUT_POWER)
    if value is not None:
        return -value + 0.0
    return _apparent(status, lambda p: p.input_voltage * p.input_current)


def output_power(status: VebusStatus) -> float | None:
    """W at AC-out, positive = towards the loads (apparent power where the unit has none)."""
    value = status.ram.get(RamVar.OUTPUT_POWER)
    if value is not None:
        return value
    return _apparent(status, lambda p: p.output_voltage * p.output_current)


def _apparent(status: VebusStatus, power: Callable[[PhaseValues], float]) -> float | None:
    if not status.phases:
        return None
    return round(sum(power(phase) for phase in status.phases.values()), 1)


def soc(status: VebusStatus) -> float | None:
    """State of charge in % (the unit reports a 0..1 fraction)."""
    value = status.ram.get(RamVar.SOC)
    return None if value is None else round(value * 100, 1)


# Every signed value of a status, with what its sign means. Each keeps its domain's own
# convention (Victron's for current, the Energy dashboard's for battery power).
SIGNS = {
    "ac_input_current": "+ drawn from the grid, - fed into the grid",
    "ac_input_power": "+ drawn from the grid, - fed into the grid",
    "ac_output_current": "+ towards the loads, - fed back into the unit",
    "ac_output_power": "+ towards the loads, - fed back into the unit",
    "battery_current": "+ charging, - discharging (Victron's convention)",
    "battery_power": "+ discharging, - charging (the Energy dashboard's convention)",
    "ess_setpoint": "+ feed in / discharge, - charge",
}


def status_report(unit: UnitInfo, status: VebusStatus) -> dict[str, object]:
    """Everything one refresh read, with ``None`` for what the unit did not report."""
    first = status.phases.get(1)
    config = status.input_config
    leds = status.leds
    state = status.device_state
    return {
        "mk_version": unit.mk_version,
        "firmware": unit.firmware,
        "serial_number": unit.serial_number,
        "phases": list(unit.phases),
        "ac_input_voltage": first.input_voltage if first else None,
        "ac_input_current": first.input_current if first else None,
        "ac_input_frequency": first.input_frequency if first else None,
        "ac_input_power": input_power(status),
        "ac_output_voltage": first.output_voltage if first else None,
        "ac_output_current": first.output_current if first else None,
        "ac_output_frequency": status.output_frequency,
        "ac_output_power": output_power(status),
        "battery_voltage": status.battery_voltage,
        "battery_current": status.battery_current,
        "battery_power": status.battery_power,
        "soc": soc(status) if unit.battery_monitor else None,
        "state": state.state if state else None,
        "charge_state": state.charge_state if state else None,
        "leds": leds.states() if leds and not leds.no_information else None,
        "alarms": leds.active_alarms() if leds else None,
        "vebus_error": leds.error_code if leds else None,
        "input_current_limit": config.current_limit if config else None,
        "input_current_limit_min": config.minimum if config else None,
        "input_current_limit_max": config.maximum if config else None,
        "switch_mode": status.switch_mode.value if status.switch_mode else None,
        "ess_setpoint": status.ess_setpoint,
        "phase_values": {
            str(number): {
                "ac_input_voltage": values.input_voltage,
                "ac_input_current": values.input_current,
                "ac_output_voltage": values.output_voltage,
                "ac_output_current": values.output_current,
            }
            for number, values in status.phases.items()
        },
    }
