"""`VebusSimulator`: the public face of the simulated MK3 and the units behind it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import random
import time
from types import MappingProxyType

from .faults import Faults
from .mk2 import Mk2Commands
from .models import MODELS, VebusModel
from .plant import Plant
from .records import Counters, InterfaceState, Mk3State
from .state import PINNABLE, SwitchMode, Truth
from .transport import Latencies, Transport
from .wire import (
    LINE_STANDBY,
    MK3_VERSION,
    S_APPEND_LEDS,
    FrameParser,
    Reply,
    ReplyFormat,
    Winmon,
)


class VebusSimulator(Transport, Mk2Commands):
    """An MK3-USB (or MK2) with one or three MultiPlus units behind it.

    model: a `MODELS` key or a `VebusModel`.  reply_format: winmon format before any 'S' frame
    sets FlagsExt0 (after an interface reset or power loss the MK3 default is "short").
    led_appended: start with the 'S' LED-append flag set, as if another tool had left it on.
    version_frames / version_interval_s: unsolicited 'V' frames while the host is quiet.
    phases: 1 or 3 units (addresses 0..phases-1, each its own phase).  ess: assistant records
    with ESS (None: the model's default).  battery_monitor: setting 64 > 0 (else var 13 reads
    100 %).  interface_version: 'V' firmware; below 1170000 it is an MK2 without 'H'.
    baud / pace: byte pacing in both directions.  latency_s / f5_latency_s / av_latency_s:
    processing delay before replies (default / 'F' 5 / 'A' and 'V').  auto_sleep: a unit
    switched off without AC input or standby line sleeps after 5 s and wakes when AC returns.
    seed: unsolicited noise.  clock: time source of the physical model (default monotonic).
    """

    def __init__(
        self,
        model: str | VebusModel = "multiplus-ii-48-3000",
        *,
        reply_format: ReplyFormat = "long",
        led_appended: bool = False,
        version_frames: bool = True,
        version_interval_s: float = 1.0,
        phases: int = 1,
        ess: bool | None = None,
        battery_monitor: bool = True,
        serial_number: str = "HQ2132ABCDE",
        interface_version: int = MK3_VERSION,
        baud: int = 2400,
        pace: bool = True,
        latency_s: float = 0.02,
        f5_latency_s: float = 0.3,
        av_latency_s: float = 0.03,
        auto_sleep: bool = True,
        seed: int = 0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(model, str):
            if model not in MODELS:
                raise ValueError(f"unknown model {model!r}; known: {', '.join(sorted(MODELS))}")
            model = MODELS[model]
        if phases not in (1, 3):
            raise ValueError("phases must be 1 or 3")
        if len(serial_number) != 11 or not serial_number.isascii():
            raise ValueError("serial_number must be 11 ASCII characters")
        self.model = model
        self.phases = phases
        self.serial_number = serial_number
        self.interface_version = interface_version
        self.baud = baud
        self.pace = pace
        self.latencies = Latencies(latency_s, f5_latency_s, av_latency_s)
        self.version_frames = version_frames
        self.version_interval_s = version_interval_s
        self.auto_sleep = auto_sleep
        self._clock = clock or time.monotonic
        self._last_clock = self._clock()
        self._rng = random.Random(seed)
        self._plant = Plant(
            model,
            phases=phases,
            ess=model.ess_by_default if ess is None else ess,
            battery_monitor=battery_monitor,
        )
        self._mk3 = Mk3State(
            flags=S_APPEND_LEDS if led_appended else 0, short_replies=reply_format == "short"
        )
        self.faults = Faults(
            on_asleep=self._on_asleep,
            on_reset=self._unit_reset,
            on_disconnect=self._disconnect_links,
        )
        self.counters = Counters()
        self.frames_received = []
        self.dangerous = []
        self.eeprom_writes = []
        self.ram_writes = []
        self.setting_writes = []
        self.ram_var_writes = []
        self.url = None
        self.pty_path = None
        self._auto_asleep = False
        self._links = []
        self._server = None
        self._tasks = []
        self._requests = None
        self._tx = None
        self._busy = False
        self._tx_free = 0.0
        self._last_host_byte = 0.0
        self._last_version = 0.0
        self._deaf_until = 0.0
        self._version_after_reset = False
        self._next_raw_frame = 0.0
        self._mk2_commands = {
            "A": self._cmd_address,
            "V": self._cmd_version,
            "L": self._cmd_leds,
            "S": self._cmd_switch,
            "F": self._cmd_info,
            "H": self._cmd_lines,
            "R": self._cmd_interface_reset,
            "N": self._cmd_high_speed,
        }
        self._winmon_commands = {
            Winmon.SEND_LED_STATUS: lambda _req: [bytes([Reply.LED_STATUS])],
            Winmon.VERSION_PART0: self._wm_version_low,
            Winmon.VERSION_PART1: self._wm_version_high,
            Winmon.DEVICE_STATE: self._wm_device_state,
            Winmon.READ_RAM_VAR: self._wm_read_ram_vars,
            Winmon.READ_SETTING: self._wm_read_setting,
            Winmon.WRITE_RAM_VAR: self._wm_start_write,
            Winmon.WRITE_SETTING: self._wm_start_write,
            Winmon.WRITE_DATA: self._wm_write_data,
            Winmon.SETTING_INFO: self._wm_setting_info,
            Winmon.RAM_VAR_INFO: self._wm_ram_var_info,
            Winmon.WRITE_VIA_ID: self._wm_write_via_id,
            Winmon.READ_SNAPSHOT: self._wm_read_snapshot,
            Winmon.SERIAL_NUMBER: self._wm_serial_number,
        }

    # ----------------------------------------------------------------- public state

    def truth(self) -> Truth:
        self._sync()
        return self._plant.truth()

    def set_ground_truth(
        self,
        *,
        grid_available: bool | None = None,
        ac_input_voltage: float | None = None,
        ac_input_frequency: float | None = None,
        ac_load_w: float | None = None,
        soc: float | None = None,
        switch_mode: str | None = None,
        ignore_ac_input: bool | None = None,
        multi_function_relay: bool | None = None,
        virtual_switch: bool | None = None,
        alarms: int | None = None,
        error_code: int | None = None,
    ) -> None:
        """Change the surroundings (None = unchanged); time up to now runs with the old ones."""
        self._sync()
        env = self._plant.env
        updates = {
            "grid_available": grid_available,
            "ac_input_voltage": ac_input_voltage,
            "ac_input_frequency": ac_input_frequency,
            "ac_load_w": ac_load_w,
            "ignore_ac_input": ignore_ac_input,
            "multi_function_relay": multi_function_relay,
            "virtual_switch": virtual_switch,
            "alarms": alarms,
            "error_code": error_code,
        }
        for name, value in updates.items():
            if value is not None:
                setattr(env, name, value)
        if soc is not None:
            self._plant.set_soc(soc)
        if switch_mode is not None:
            self._plant.switch_mode = SwitchMode[switch_mode.upper()]
        self._check_sleep()

    def pin(self, **values: float) -> None:
        """Report fixed measurements (e.g. to replay a capture) until `unpin`."""
        unknown = set(values) - PINNABLE
        if unknown:
            raise ValueError(f"not pinnable: {sorted(unknown)}")
        self._plant.pins.update(values)

    def unpin(self, *names: str) -> None:
        if not names:
            self._plant.pins.clear()
        for name in names:
            self._plant.pins.pop(name, None)

    def override_leds(self, on: int | None, blink: int = 0) -> None:
        """Force the LED bytes (None: back to the ones the state implies)."""
        self._plant.led_override = None if on is None else (on, blink)

    def advance(self, seconds: float) -> None:
        """Run the physical model for `seconds` on top of the clock."""
        self._sync()
        self._plant.run(seconds)
        self._check_sleep()

    @property
    def eeprom_values(self) -> Mapping[int, int]:
        return MappingProxyType(self._plant.settings.eeprom)

    @property
    def ram_values(self) -> Mapping[int, int]:
        """Effective setting values, including RAM-only writes."""
        return MappingProxyType(self._plant.settings.ram)

    @property
    def ess_setpoint_id(self) -> int | None:
        return self._plant.ess_setpoint_id

    @property
    def interface(self) -> InterfaceState:
        mk3 = self._mk3
        return InterfaceState(
            address=mk3.address,
            flags=mk3.flags,
            flags_ext0=mk3.flags_ext0,
            short_replies=mk3.short_replies,
            line_state=mk3.line_state,
            eeprom_flags=mk3.eeprom_flags,
        )

    def respond(self, request: bytes) -> list[bytes]:
        """Process one request frame in-process (no transport, latency or faults)."""
        frames = FrameParser().feed(request)
        if len(frames) != 1:
            raise ValueError(f"expected exactly one valid frame, got {len(frames)}")
        self._record(frames[0])
        self._sync()
        return [self._encode(out) for out in self._dispatch(frames[0])]

    # ----------------------------------------------------------------- VE.Bus power

    def _on_asleep(self, asleep: bool) -> None:
        if asleep:
            return
        # Back on VE.Bus power: everything but the EEPROM flags is at its power-on default.
        self._mk3 = Mk3State(eeprom_flags=self._mk3.eeprom_flags)
        self._plant.standby_line = bool(self._mk3.line_state & LINE_STANDBY)
