"""The physical plant: inverter/charger and battery over time, and the LEDs and alarms they show."""

from __future__ import annotations

from dataclasses import dataclass
import math
from types import MappingProxyType
from typing import Final

from .models import VebusModel
from .scaling import s16
from .state import (
    ChargeState,
    DeviceState,
    Environment,
    SettingsStore,
    SwitchMode,
    Truth,
    assistant_records,
)
from .wire import (
    ESS_ASSISTANT_HEADER,
    FLAG0_60HZ,
    FLAG0_CHARGER_OFF,
    FLAG0_POWER_ASSIST,
    LIMIT_UNCHANGED,
    SETTING_ABSORPTION_V,
    SETTING_CAPACITY_AH,
    SETTING_CHARGE_A,
    SETTING_FLAGS0,
    SETTING_FLOAT_V,
    SETTING_INPUT_LIMIT,
    SETTING_INVERTER_V,
    SETTING_MAX_ABSORPTION_MIN,
    SETTING_SOC_BULK_DONE,
)

LED_NAMES: Final = (
    "mains",
    "absorption",
    "bulk",
    "float",
    "inverter",
    "overload",
    "low_battery",
    "temperature",
)
LED_MAINS, LED_ABSORPTION, LED_BULK, LED_FLOAT = 0x01, 0x02, 0x04, 0x08
LED_INVERTER, LED_OVERLOAD, LED_LOW_BATTERY, LED_TEMPERATURE = 0x10, 0x20, 0x40, 0x80
# 'L' alarm byte (reference F).
ALARM_TEMPERATURE_PRE: Final = 0x01
ALARM_LOW_BATTERY_PRE: Final = 0x02
ALARM_OVERLOAD_PRE: Final = 0x04
ALARM_TEMPERATURE: Final = 0x10
ALARM_LOW_BATTERY: Final = 0x20

EFFICIENCY: Final = 0.93  # charger and inverter, applied on the DC side
MAX_STEP_S: Final = 5.0
ESS_TIMEOUT_S: Final = 60.0
FORCED_CHARGE_S: Final = 3600.0
TAIL_CURRENT_C: Final = 0.02  # absorption ends below this share of the capacity (A per Ah)
FLOAT_CURRENT_SHARE: Final = 0.5
EQUALISE_CURRENT_FLOOR: Final = 0.05
EQUALISE_VOLTAGE_RISE: Final = 1.04
STORAGE_VOLTAGE_SHARE: Final = 0.97
REBULK_MARGIN: Final = 0.10
FULL_SOC: Final = 0.99
LOW_BATTERY_PREALARM_SOC: Final = 0.10
REST_VOLTAGE_SPAN: Final = 0.075  # rest voltage = nominal * (1 + span * soc)
DISCHARGE_DROP: Final = 0.04  # voltage sag at full inverter power, share of nominal
GRID_VOLTAGE_WINDOW: Final = (180.0, 270.0)
GRID_FREQUENCY_WINDOW: Final = (45.0, 65.0)
SLEEP_AFTER_S: Final = 5.0
INITIAL_SOC: Final = 0.75
RIPPLE_V_PER_A: Final = 0.002

_SWITCH_VALUES: Final = frozenset(int(mode) for mode in SwitchMode)

_BULK_STATES: Final = frozenset({ChargeState.INIT, ChargeState.BULK, ChargeState.BULK_STOPPED})
_ABSORPTION_STATES: Final = frozenset(
    {ChargeState.ABSORPTION, ChargeState.REPEATED_ABSORPTION, ChargeState.FORCED_ABSORPTION}
)
_FORCED_STATES: Final = frozenset({ChargeState.FORCED_ABSORPTION, ChargeState.EQUALISE})
_FLOAT_STATES: Final = frozenset({ChargeState.FLOAT, ChargeState.STORAGE})


@dataclass(frozen=True, slots=True)
class _Operating:
    """One steady-state operating point of the whole system."""

    state: DeviceState
    grid_connected: bool
    output_v: float
    output_f: float
    load_w: float
    bridge_w: float  # AC side, + = charging
    import_w: float
    battery_v: float
    battery_a: float
    charging: bool
    overload: bool = False


class Plant:
    """The inverter/charger, its battery and surroundings.  Time only moves in `run`."""

    def __init__(self, model: VebusModel, *, phases: int, ess: bool, battery_monitor: bool):
        self.model = model
        self.phases = phases
        overrides = {} if battery_monitor else {SETTING_CAPACITY_AH: 0}
        self.settings = SettingsStore(model.settings, overrides)
        self.env = Environment(ac_input_voltage=model.nominal_ac_v)
        self.assistants, self.ess_header = assistant_records(model, ess)
        self.soc = INITIAL_SOC
        self.charge_state = self._charge_state_for(self.soc)
        self.switch_mode = SwitchMode.ON
        self.current_limit = self._clamp_limit(self.settings.raw(SETTING_INPUT_LIMIT) or 0)
        self.time = 0.0
        self.ess_written_at = 0.0
        self.forced_left = 0.0
        self.absorption_time = 0.0
        self.unattended_off = 0.0
        self.standby_line = False
        self.snapshot: list[int] | None = None
        self.pins: dict[str, float] = {}
        self.led_override: tuple[int, int] | None = None

    # ----------------------------------------------------------------- parameters

    @property
    def ess_setpoint_id(self) -> int | None:
        return None if self.ess_header is None else self.ess_header + 1

    @property
    def ess_setpoint(self) -> int:
        setpoint_id = self.ess_setpoint_id
        return 0 if setpoint_id is None else s16(self.assistants[setpoint_id])

    def _ess_flags(self) -> int:
        return 0 if self.ess_header is None else self.assistants[self.ess_header + 2]

    def _flags0(self) -> int:
        return int(self.settings.value(SETTING_FLAGS0, FLAG0_POWER_ASSIST))

    def _max_charge_a(self) -> float:
        wanted = self.settings.value(SETTING_CHARGE_A, self.model.max_charge_current_a)
        return max(0.0, min(wanted, self.model.max_charge_current_a)) * self.phases

    def _absorption_v(self) -> float:
        return self.settings.value(SETTING_ABSORPTION_V, self.model.nominal_battery_v * 1.2)

    def _float_v(self) -> float:
        return self.settings.value(SETTING_FLOAT_V, self.model.nominal_battery_v * 1.15)

    def _soc_bulk_done(self) -> float:
        return min(self.settings.value(SETTING_SOC_BULK_DONE, 85.0) / 100.0, 0.99)

    def capacity_ah(self) -> float:
        configured = self.settings.value(SETTING_CAPACITY_AH, 0.0)
        return configured if configured > 0 else self.model.battery_capacity_ah

    def battery_monitor(self) -> bool:
        return self.settings.value(SETTING_CAPACITY_AH, 0.0) > 0

    def output_frequency(self) -> float:
        return 60.0 if self._flags0() & FLAG0_60HZ else 50.0

    def _clamp_limit(self, raw: int) -> int:
        low, high = self.model.input_current_limit_range
        return min(max(raw, low), high)

    def apply_panel(self, state: int, limit: int | None) -> None:
        """An 'S' frame forwarded to the unit: switch state and input current limit (C.4)."""
        if state in _SWITCH_VALUES:
            self.switch_mode = SwitchMode(state)
        if limit is not None and limit < LIMIT_UNCHANGED:
            low, _ = self.model.input_current_limit_range
            self.current_limit = low if limit == 0 else self._clamp_limit(limit)

    def write_setting(self, setting_id: int, raw: int, *, eeprom: bool) -> None:
        self.settings.write(setting_id, raw, eeprom=eeprom)
        if setting_id == SETTING_INPUT_LIMIT:
            self.current_limit = self._clamp_limit(raw)

    def assistant_writable(self, var_id: int) -> bool:
        header = self.ess_header
        return header is not None and header < var_id <= header + (ESS_ASSISTANT_HEADER & 0x0F)

    def write_assistant(self, var_id: int, raw: int) -> None:
        self.assistants[var_id] = raw & 0xFFFF
        if var_id == self.ess_setpoint_id:
            self.ess_written_at = self.time

    def force_charge_state(self, request: int) -> None:
        """Winmon 0x0E 1/2/3: force equalise / absorption / float."""
        forced = {
            1: ChargeState.EQUALISE,
            2: ChargeState.FORCED_ABSORPTION,
            3: ChargeState.FLOAT,
        }[request]
        self.charge_state = forced
        self.forced_left = FORCED_CHARGE_S if forced in _FORCED_STATES else 0.0

    def set_soc(self, soc: float) -> None:
        self.soc = min(max(soc, 0.0), 1.0)
        self.charge_state = self._charge_state_for(self.soc)

    def reboot(self) -> None:
        """Unit reset: RAM-only settings, the ESS setpoint and the snapshot are lost."""
        self.settings.forget_ram_only()
        self.current_limit = self._clamp_limit(self.settings.raw(SETTING_INPUT_LIMIT) or 0)
        for var_id in list(self.assistants):
            if self.assistant_writable(var_id):
                self.assistants[var_id] = 0
        self.snapshot = None
        self.charge_state = self._charge_state_for(self.soc)
        self.forced_left = 0.0

    def _charge_state_for(self, soc: float) -> ChargeState:
        if soc >= FULL_SOC:
            return ChargeState.FLOAT
        if soc >= self._soc_bulk_done():
            return ChargeState.ABSORPTION
        return ChargeState.BULK

    # ----------------------------------------------------------------- battery

    def _rest_v(self) -> float:
        return self.model.nominal_battery_v * (1.0 + REST_VOLTAGE_SPAN * self.soc)

    def _charge_resistance(self) -> float:
        """Chosen so that the bulk voltage reaches absorption exactly at 'SoC when bulk done'."""
        max_a = self._max_charge_a()
        rest_at_switch = self.model.nominal_battery_v * (
            1.0 + REST_VOLTAGE_SPAN * self._soc_bulk_done()
        )
        if max_a <= 0:
            return 0.0
        return max(self._absorption_v() - rest_at_switch, 0.0) / max_a

    def _discharge_resistance(self) -> float:
        nominal = self.model.nominal_battery_v
        full_power_a = self.model.inverter_power_w * self.phases / nominal
        return DISCHARGE_DROP * nominal / full_power_a

    def _target_v(self) -> float:
        state = self.charge_state
        if state in _BULK_STATES or state in _ABSORPTION_STATES:
            return self._absorption_v()
        if state is ChargeState.EQUALISE:
            return self._absorption_v() * EQUALISE_VOLTAGE_RISE
        if state is ChargeState.STORAGE:
            return self._float_v() * STORAGE_VOLTAGE_SHARE
        return self._float_v()

    def _charge_allowance_a(self) -> float:
        """DC current the charger may push in the present charge state."""
        max_a = self._max_charge_a()
        bulk_done = self._soc_bulk_done()
        taper = min(max((1.0 - self.soc) / (1.0 - bulk_done), 0.0), 1.0)
        state = self.charge_state
        if state in _BULK_STATES:
            return max_a if self.soc < 1.0 else 0.0
        if state is ChargeState.EQUALISE:
            return max_a * max(taper, EQUALISE_CURRENT_FLOOR)
        if state in _ABSORPTION_STATES:
            return max_a * taper
        return max_a * taper * FLOAT_CURRENT_SHARE

    def _charging_v(self, amps: float) -> float:
        if self.charge_state in _BULK_STATES:
            return min(self._target_v(), self._rest_v() + amps * self._charge_resistance())
        return self._target_v()

    def _charger_dc_limit_w(self) -> float:
        amps = self._charge_allowance_a()
        return amps * self._charging_v(amps)

    def _battery_v(self, dc_w: float, charger_on: bool) -> float:
        rest = self._rest_v()
        if dc_w < 0:
            drop = 4.0 * -dc_w * self._discharge_resistance()
            return (rest + math.sqrt(max(rest * rest - drop, 0.0))) / 2.0
        if not charger_on:
            return rest
        if self.charge_state in _BULK_STATES:
            rise = 4.0 * dc_w * self._charge_resistance()
            return min(self._target_v(), (rest + math.sqrt(rest * rest + rise)) / 2.0)
        return self._target_v()

    # ----------------------------------------------------------------- operating point

    def grid_usable(self) -> bool:
        env = self.env
        low_v, high_v = GRID_VOLTAGE_WINDOW
        low_f, high_f = GRID_FREQUENCY_WINDOW
        return (
            env.grid_available
            and not env.ignore_ac_input
            and low_v <= env.ac_input_voltage <= high_v
            and low_f <= env.ac_input_frequency <= high_f
        )

    def ess_active(self) -> bool:
        return self.ess_header is not None and self.switch_mode is SwitchMode.ON

    def solve(self) -> _Operating:
        mode = self.switch_mode
        can_invert = mode in (SwitchMode.ON, SwitchMode.INVERTER_ONLY) and self.soc > 0.0
        if mode is SwitchMode.OFF:
            return self._dead()
        if mode is not SwitchMode.INVERTER_ONLY and self.grid_usable():
            return self._on_grid(can_invert)
        if can_invert:
            return self._island()
        return self._dead()

    def _dead(self) -> _Operating:
        return _Operating(
            state=DeviceState.OFF,
            grid_connected=False,
            output_v=0.0,
            output_f=0.0,
            load_w=0.0,
            bridge_w=0.0,
            import_w=0.0,
            battery_v=self._rest_v(),
            battery_a=0.0,
            charging=False,
        )

    def _island(self) -> _Operating:
        load = max(float(self.env.ac_load_w), 0.0)
        capacity = self.model.inverter_power_w * self.phases
        return self._with_battery(
            state=DeviceState.INVERT_FULL,
            grid_connected=False,
            output_v=self.settings.value(SETTING_INVERTER_V, self.model.nominal_ac_v),
            output_f=self.output_frequency(),
            load_w=load,
            bridge_w=-load,
            charger_on=False,
            overload=load > capacity,
        )

    def _on_grid(self, can_invert: bool) -> _Operating:
        load = max(float(self.env.ac_load_w), 0.0)
        headroom = self.current_limit / 10.0 * self.env.ac_input_voltage * self.phases - load
        can_charge = (
            self.switch_mode in (SwitchMode.ON, SwitchMode.CHARGER_ONLY)
            and not self._flags0() & FLAG0_CHARGER_OFF
        )
        charge_cap = self._charger_dc_limit_w() / EFFICIENCY if can_charge else 0.0
        invert_cap = self.model.inverter_power_w * self.phases if can_invert else 0.0
        if self.ess_active():
            bridge = self._ess_bridge(load, charge_cap, invert_cap)
            if bridge > headroom:  # the input current limit also caps what ESS draws
                bridge = max(headroom, -invert_cap)
        else:
            bridge = min(charge_cap, headroom)
            if bridge < 0:
                # Load above the input current limit: PowerAssist tops up from the battery.
                assist = self._flags0() & FLAG0_POWER_ASSIST and can_invert
                bridge = max(bridge, -invert_cap) if assist else 0.0
        if bridge < -0.5:
            state = DeviceState.INVERT_FULL if self.ess_active() else DeviceState.POWER_ASSIST
        elif bridge > 0.5 or (can_charge and not self.ess_active()):
            state = DeviceState.CHARGE
        else:
            state = DeviceState.BYPASS
        return self._with_battery(
            state=state,
            grid_connected=True,
            output_v=self.env.ac_input_voltage,
            output_f=self.env.ac_input_frequency,
            load_w=load,
            bridge_w=bridge,
            charger_on=state is DeviceState.CHARGE,
        )

    def _ess_bridge(self, load: float, charge_cap: float, invert_cap: float) -> float:
        """ESS regulates the AC-input power to minus the setpoint (reference E.1)."""
        bridge = -float(self.ess_setpoint) - load
        flags = self._ess_flags()
        if flags & 0x01:  # charging disabled
            bridge = min(bridge, 0.0)
        if flags & 0x02:  # feed-in disabled
            bridge = max(bridge, -load)
        return min(max(bridge, -invert_cap), charge_cap)

    def _with_battery(
        self,
        *,
        state: DeviceState,
        grid_connected: bool,
        output_v: float,
        output_f: float,
        load_w: float,
        bridge_w: float,
        charger_on: bool,
        overload: bool = False,
    ) -> _Operating:
        dc_w = bridge_w * EFFICIENCY if bridge_w > 0 else bridge_w / EFFICIENCY
        battery_v = self._battery_v(dc_w, charger_on)
        return _Operating(
            state=state,
            grid_connected=grid_connected,
            output_v=output_v,
            output_f=output_f,
            load_w=load_w,
            bridge_w=bridge_w,
            import_w=load_w + bridge_w if grid_connected else 0.0,
            battery_v=battery_v,
            battery_a=dc_w / battery_v,
            charging=charger_on,
            overload=overload,
        )

    # ----------------------------------------------------------------- time

    def run(self, seconds: float) -> None:
        remaining = seconds
        while remaining > 1e-9:
            step = min(remaining, MAX_STEP_S)
            self._step(step)
            remaining -= step

    def _step(self, dt: float) -> None:
        operating = self.solve()
        self.soc = min(max(self.soc + operating.battery_a * dt / (self.capacity_ah() * 3600), 0), 1)
        self._advance_charge_state(operating, dt)
        self.time += dt
        if self.ess_setpoint and self.time - self.ess_written_at >= ESS_TIMEOUT_S:
            # The assistant falls back when the setpoint is not refreshed.
            setpoint_id = self.ess_setpoint_id
            if setpoint_id is not None:
                self.assistants[setpoint_id] = 0
        unattended = (
            self.switch_mode is SwitchMode.OFF
            and not self.env.grid_available
            and not self.standby_line
        )
        self.unattended_off = self.unattended_off + dt if unattended else 0.0

    def _advance_charge_state(self, operating: _Operating, dt: float) -> None:
        state = self.charge_state
        if state in _FORCED_STATES:
            if operating.charging:
                self.forced_left -= dt
            if self.forced_left <= 0:
                self.charge_state = ChargeState.FLOAT
            return
        if operating.charging and state in _BULK_STATES and self.soc >= self._soc_bulk_done():
            self.charge_state = ChargeState.ABSORPTION
            self.absorption_time = 0.0
        elif operating.charging and state in _ABSORPTION_STATES:
            self.absorption_time += dt
            tail = self._charge_allowance_a() < TAIL_CURRENT_C * self.capacity_ah()
            limit_s = self.settings.value(SETTING_MAX_ABSORPTION_MIN, 480.0) * 60.0
            if tail or self.absorption_time >= limit_s:
                self.charge_state = ChargeState.FLOAT
        elif state in _FLOAT_STATES and self.soc < self._soc_bulk_done() - REBULK_MARGIN:
            self.charge_state = ChargeState.BULK

    # ----------------------------------------------------------------- readout

    def leds_and_alarms(self, operating: _Operating) -> tuple[int, int, int]:
        on = blink = 0
        alarms = self.env.alarms
        if operating.grid_connected:
            on |= LED_MAINS
        if operating.charging:
            charge_on, charge_blink = self._charge_leds()
            on |= charge_on
            blink |= charge_blink
        if operating.state is DeviceState.INVERT_FULL:
            on |= LED_INVERTER
        elif operating.state is DeviceState.POWER_ASSIST:
            on |= LED_INVERTER
            blink |= LED_INVERTER
        if operating.overload:
            on |= LED_OVERLOAD
            alarms |= ALARM_OVERLOAD_PRE
        inverting = operating.bridge_w < 0
        if self.soc <= 0.0 and self.switch_mode is not SwitchMode.OFF:
            on |= LED_LOW_BATTERY
            alarms |= ALARM_LOW_BATTERY
        elif inverting and self.soc < LOW_BATTERY_PREALARM_SOC:
            blink |= LED_LOW_BATTERY
            alarms |= ALARM_LOW_BATTERY_PRE
        if alarms & ALARM_TEMPERATURE:
            on |= LED_TEMPERATURE
        elif alarms & ALARM_TEMPERATURE_PRE:
            blink |= LED_TEMPERATURE
        if self.led_override is not None:
            on, blink = self.led_override
        return on, blink, alarms

    def _charge_leds(self) -> tuple[int, int]:
        state = self.charge_state
        if state in _FORCED_STATES:
            # All three charge LEDs blinking together marks a forced charge state (reference F).
            return 0, LED_BULK | LED_ABSORPTION | LED_FLOAT
        if state in _BULK_STATES:
            return LED_BULK, 0
        if state in _ABSORPTION_STATES:
            return LED_ABSORPTION, 0
        if state is ChargeState.STORAGE:
            return 0, LED_FLOAT
        return LED_FLOAT, 0

    def truth(self) -> Truth:
        operating = self.solve()
        env = self.env
        on, blink, alarms = self.leds_and_alarms(operating)
        low, high = self.model.input_current_limit_range
        input_v = env.ac_input_voltage if env.grid_available else 0.0
        battery_w = operating.battery_a * operating.battery_v
        output_power = operating.load_w if operating.output_v > 0 else 0.0
        pinned = self.pins.get
        return Truth(
            grid_available=env.grid_available,
            ac_input_voltage=pinned("ac_input_voltage", input_v),
            ac_input_current=pinned(
                "ac_input_current",
                _per_phase_current(operating.import_w, input_v, self.phases),
            ),
            ac_input_frequency=pinned(
                "ac_input_frequency", env.ac_input_frequency if env.grid_available else 0.0
            ),
            ac_input_power=pinned("ac_input_power", operating.import_w),
            ac_output_voltage=pinned("ac_output_voltage", operating.output_v),
            ac_output_current=pinned(
                "ac_output_current",
                _per_phase_current(output_power, operating.output_v, self.phases),
            ),
            ac_output_frequency=pinned("ac_output_frequency", operating.output_f),
            ac_output_power=pinned("ac_output_power", output_power),
            inverter_power=pinned("inverter_power", operating.bridge_w),
            battery_voltage=pinned("battery_voltage", operating.battery_v),
            battery_current=pinned("battery_current", operating.battery_a),
            battery_power=pinned("battery_power", battery_w),
            soc=pinned("soc", self.soc),
            state=operating.state.name.lower(),
            state_code=int(operating.state),
            charge_state=self.charge_state.name.lower(),
            charge_state_code=int(self.charge_state),
            switch_mode=self.switch_mode.name.lower(),
            input_current_limit=self.current_limit / 10.0,
            input_current_limit_min=low / 10.0,
            input_current_limit_max=high / 10.0,
            ess_setpoint=self.ess_setpoint,
            leds=MappingProxyType(_led_states(on, blink)),
            led_on=on,
            led_blink=blink,
            alarms=alarms,
            error_code=env.error_code,
            ac_input_ignored=env.ignore_ac_input,
            multi_function_relay=env.multi_function_relay,
            virtual_switch=env.virtual_switch,
            phases=self.phases,
        )


def _per_phase_current(power_w: float, voltage: float, phases: int) -> float:
    return power_w / phases / voltage if voltage > 0 else 0.0


def _led_states(on: int, blink: int) -> dict[str, str]:
    states = {}
    for bit, name in enumerate(LED_NAMES):
        mask = 1 << bit
        if on & mask and blink & mask:
            states[name] = "blink_inverted"
        elif blink & mask:
            states[name] = "blink"
        else:
            states[name] = "on" if on & mask else "off"
    return states
