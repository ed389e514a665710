"""The physical plant: what the firmware does with the battery, and energy over time."""

from __future__ import annotations

from datetime import datetime, timedelta
import math

from .profiles import MarstekProfile
from .state import BatteryState
from .wire import Mode


def battery_setpoint(profile: MarstekProfile, state: BatteryState, moment: datetime) -> float:
    """Battery power (+ charging) the firmware would command now, after all clamps."""
    requested = _requested_battery_power(profile, state, moment)
    limit = float(profile.power_limit_w)
    power = min(max(requested, -limit), limit)
    if power > 0 and (not state.charge_permitted or state.soc >= 100.0):
        return 0.0
    if power < 0 and (not state.discharge_permitted or state.soc <= state.soc_floor):
        return 0.0
    return power


def _requested_battery_power(
    profile: MarstekProfile, state: BatteryState, moment: datetime
) -> float:
    match state.mode:
        case Mode.PASSIVE:
            # After the countdown the setpoint is 0 W although GetMode still says Passive.
            return -state.passive_power_w if state.passive_remaining_s > 0 else 0.0
        case Mode.MANUAL:
            if profile.manual_power_ignored:
                return 0.0
            for slot in state.manual_slots:
                if slot.covers(moment):
                    return float(-slot.power_w)
            return 0.0
        case Mode.UPS:
            if state.grid_available:
                return 0.0
            # Island: the battery balances PV against the EPS load so nothing flows at the AC port.
            return state.pv_power_w - state.offgrid_load_w
        case Mode.AUTO | Mode.AI:
            # Zero the CT: cover the house from battery, store any surplus PV.
            house = state.house_load_w if state.ct_connected else 0.0
            return state.pv_power_w - state.offgrid_load_w - house


def _seconds_until_soc_limit(state: BatteryState, power_w: float) -> float:
    if power_w > 0:
        headroom_pct = 100.0 - state.soc
    elif power_w < 0:
        headroom_pct = state.soc - state.soc_floor
    else:
        return math.inf
    headroom_wh = max(headroom_pct, 0.0) / 100.0 * state.rated_capacity_wh
    return headroom_wh * 3600.0 / abs(power_w)


def _seconds_until_next_event(state: BatteryState, moment: datetime) -> float:
    """Time until the setpoint may change by itself (passive expiry, schedule minute)."""
    horizon = math.inf
    if state.mode is Mode.PASSIVE and state.passive_remaining_s > 0:
        horizon = state.passive_remaining_s
    if state.mode is Mode.MANUAL:
        into_minute = moment.second + moment.microsecond / 1e6
        horizon = min(horizon, 60.0 - into_minute)
    return horizon


def _accumulate(state: BatteryState, battery_w: float, seconds: float) -> None:
    """Move energy for `seconds` at a constant battery power."""
    if seconds <= 0:
        return
    hours = seconds / 3600.0
    state.soc += battery_w * hours / state.rated_capacity_wh * 100.0
    ongrid = state.pv_power_w - battery_w - state.offgrid_load_w
    state.grid_output_wh += max(ongrid, 0.0) * hours
    state.grid_input_wh += max(-ongrid, 0.0) * hours
    state.pv_energy_wh += state.pv_power_w * hours
    state.load_energy_wh += state.offgrid_load_w * hours
    if state.ct_connected:
        house = state.house_load_w
        meter = house - ongrid
        state.meter_import_wh += max(meter, 0.0) * hours
        state.meter_export_wh += max(-meter, 0.0) * hours


def _integrate_segment(
    profile: MarstekProfile, state: BatteryState, seconds: float, moment: datetime
) -> None:
    """One stretch with a constant setpoint; the battery stops when SOC reaches a limit."""
    power = battery_setpoint(profile, state, moment)
    active = min(seconds, _seconds_until_soc_limit(state, power))
    _accumulate(state, power, active)
    if active < seconds:
        state.soc = 100.0 if power > 0 else state.soc_floor
        _accumulate(state, 0.0, seconds - active)
    state.soc = min(max(state.soc, 0.0), 100.0)
    state.battery_charge_w = power if active >= seconds else 0.0
    if state.passive_remaining_s > 0:
        state.passive_remaining_s = max(state.passive_remaining_s - seconds, 0.0)


def integrate(profile: MarstekProfile, state: BatteryState, seconds: float, end: datetime) -> None:
    """Advance the physical model by `seconds` ending at wall-clock time `end`."""
    remaining = seconds
    while remaining > 1e-9:
        moment = end - timedelta(seconds=remaining)
        step = min(remaining, _seconds_until_next_event(state, moment))
        if step <= 0:
            step = remaining
        _integrate_segment(profile, state, step, moment)
        remaining -= step
