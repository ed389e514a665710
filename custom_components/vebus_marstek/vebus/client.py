"""A session with one VE.Bus unit through an MK2/MK3: start-up, cached scales, reads and writes.

Everything the unit tells about its own scaling (RAM variable and setting info) is asked once
per session and cached; nothing is hard-coded. Writes are range-checked against the unit's own
limits before anything is sent, repeated values go to RAM only, and settings reach EEPROM
only when the caller asks for it, only when the value differs, and are read back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
import contextlib
import logging
import time

from .connection import FrameMatcher, ReplyComplete, VebusConnection
from .errors import (
    VebusConnectionError,
    VebusError,
    VebusInvalidValueError,
    VebusTimeoutError,
    VebusUnitAsleepError,
    VebusUnsupportedError,
    VebusWriteError,
)
from .framing import BOOT_FRAME, INFO_FRAME, INPUT_CONFIG_FRAME, Frame
from .messages import (
    ESS_ASSISTANT_ID,
    FLAG_DISABLE_WAVE_CHECK,
    FLAG_WAVE_CHECK_TWIN,
    RamVar,
    Response,
    Winmon,
    address_command,
    assistant_records,
    id_args,
    info_command,
    led_command,
    parse_ac_info,
    parse_dc_info,
    parse_input_config,
    parse_leds,
    parse_ram_var_info,
    parse_setting_info,
    parse_version,
    parse_words,
    read_ram_vars_args,
    setting_info_complete,
    standby_command,
    switch_command,
    version_command,
    winmon_command,
    winmon_reply,
    write_via_id_args,
)
from .models import (
    CHARGE_STATES,
    DEVICE_STATES,
    DcInfo,
    DeviceState,
    InputConfig,
    LedStatus,
    PhaseValues,
    RamVarInfo,
    SettingInfo,
    SwitchMode,
    UnitInfo,
    VebusStatus,
    signed_word,
    switch_mode_from_register,
)

_LOGGER = logging.getLogger(__name__)

# Scales needed to decode the 'F' info frames.
INFO_FRAME_VARS = (
    RamVar.MAINS_VOLTAGE,
    RamVar.MAINS_CURRENT,
    RamVar.INVERTER_VOLTAGE,
    RamVar.INVERTER_CURRENT,
    RamVar.BATTERY_VOLTAGE,
    RamVar.BATTERY_CURRENT,
    RamVar.INVERTER_PERIOD,
    RamVar.MAINS_PERIOD,
)
MAX_RAM_VARS_PER_REQUEST = 6
# Assistant records are scanned this far from id 128.
_ASSISTANT_SCAN_LIMIT = 24
STANDBY_LINE = 0x02
# No frame at all for this long: the unit is asleep (or the MK3 unpowered), not broken.
SILENCE_MEANS_ASLEEP_S = 5.0
# A persistent (EEPROM) write of one setting at most this often.
PERSISTENT_WRITE_INTERVAL_S = 60.0
# The ESS assistant falls back when its setpoint is not refreshed (seen after ~10 s to a
# minute); rewriting it this often stays well inside that window.
ESS_KEEPALIVE_S = 5.0


class VebusClient:
    """One VE.Bus unit behind an MK2/MK3 interface."""

    def __init__(
        self,
        url: str,
        *,
        address: int = 0,
        timeout_s: float = 0.5,
        slow_timeout_s: float = 1.0,
        attempts: int = 3,
        short_replies: bool = False,
    ) -> None:
        self.url = url
        self.address = address
        self.timeout_s = timeout_s
        self.slow_timeout_s = slow_timeout_s
        self.attempts = attempts
        self.short_replies = short_replies
        self.connection = VebusConnection(url, on_frame=self._on_unsolicited)
        self.ram_info: dict[int, RamVarInfo] = {}
        self.setting_info: dict[int, SettingInfo] = {}
        self.unit: UnitInfo | None = None
        self.mk_version: int | None = None
        self.standby_wanted = False
        self.reinitialisations = 0
        self._letters = "XYZ"
        self._next_letter = 0
        self._needs_init = True
        self._unsupported_ram: set[int] = set()
        self._last_persistent_write: dict[int, float] = {}
        self._last_input_config: InputConfig | None = None
        self._ess_target: int | None = None
        self._ess_until: float | None = None
        self._ess_task: asyncio.Task[None] | None = None
        # Keep-alive and new setpoints take turns, so an old value never lands after a new one.
        self._ess_lock = asyncio.Lock()
        # Two callers that find the session invalid start one session between them.
        self._session_lock = asyncio.Lock()
        self._closed = False

    # --- session -----------------------------------------------------------------------------

    async def connect(self) -> UnitInfo:
        """Open the port and start a session (see :meth:`ensure_session`)."""
        self._closed = False
        if not self.connection.is_open:
            await self.connection.open()
        return await self.ensure_session()

    async def close(self) -> None:
        """Stop holding an ESS setpoint (writing 0, best effort) and close the port."""
        if self._ess_target is not None:
            with contextlib.suppress(VebusError):
                await self.release_ess_setpoint()
        await self._stop_ess_task()
        self._closed = True
        await self.connection.close()
        self._needs_init = True

    async def ensure_session(self) -> UnitInfo:
        """(Re)start the session if the port, the interface or the unit was reset."""
        async with self._session_lock:
            if self._closed:
                # Closed by its owner (e.g. the entry unloading): do not reopen the port.
                raise VebusConnectionError(f"{self.url} was closed")
            if not self.connection.is_open:
                # The port went away: open it again and start afresh.
                await self.connection.close()
                await self.connection.open()
                self._needs_init = True
            if self._needs_init or self.unit is None:
                self.unit = await self._start_session()
            return self.unit

    async def _start_session(self) -> UnitInfo:
        if self.unit is not None:
            self.reinitialisations += 1
        version = await self._request_mk2(version_command(), "V")
        info = parse_version(version[0])
        self.mk_version = info.version if info else None
        echo = await self._request_mk2(address_command(self.address), "A")
        if echo[0].data[:2] != bytes((1, self.address)):
            raise VebusError(f"the interface did not select address {self.address}")
        # Fix the reply format whatever another tool left behind; the 7-byte form never
        # touches the interface's EEPROM flags, and state 0 + "do not send" changes nothing.
        await self._request_mk2(switch_command(None, None, self.short_replies), "S")
        if self.standby_wanted:
            await self._apply_standby(True)
        self.ram_info = {}
        self._unsupported_ram = set()
        for var in INFO_FRAME_VARS:
            self.ram_info[var] = await self._ram_var_info(var)
        for var in (RamVar.SOC, RamVar.INVERTER_POWER, RamVar.INPUT_POWER, RamVar.OUTPUT_POWER):
            self.ram_info[var] = await self._ram_var_info(var)
        self.setting_info = {}
        battery_capacity = await self.read_setting_or_none(64)
        phases = await self._probe_phases()
        self._needs_init = False
        return UnitInfo(
            mk_version=self.mk_version,
            firmware=await self._unit_firmware(),
            serial_number=await self._serial_number(),
            phases=phases,
            ess_setpoint_id=await self._find_ess_setpoint(),
            battery_monitor=bool(battery_capacity),
        )

    def _on_unsolicited(self, frame: Frame) -> None:
        if frame.frame_type == BOOT_FRAME:
            _LOGGER.info("The VE.Bus unit restarted; starting a new session")
            self._needs_init = True
        elif (version := parse_version(frame)) is not None and not self._needs_init:
            if version.trailer != self.address:
                # The interface forgot the address we selected: it was reset or unpowered.
                _LOGGER.info("The MK2/MK3 interface was reset; starting a new session")
                self._needs_init = True

    @property
    def asleep(self) -> bool:
        """No frame at all for a while: the unit is off and asleep (or the MK3 unpowered)."""
        last = self.connection.last_frame_at
        now = asyncio.get_running_loop().time()
        return last is None or now - last > SILENCE_MEANS_ASLEEP_S

    # --- reads ---------------------------------------------------------------------------------

    async def read_dc_info(self) -> DcInfo:
        """'F' 0: battery voltage and currents."""
        frames = await self._request(info_command(0), _is_info_frame(dc=True))
        info = parse_dc_info(frames[0], self.ram_info)
        if info is None:  # pragma: no cover - the matcher only accepts DC frames
            raise VebusError("malformed DC info frame")
        return info

    async def read_phase(self, phase: int) -> PhaseValues | None:
        """'F' 1..4: one phase; ``None`` when the unit has no such phase."""
        try:
            frames = await self._request(info_command(phase), _is_info_frame(dc=False), attempts=1)
        except VebusTimeoutError:
            if phase == 1:
                raise
            return None
        info = parse_ac_info(frames[0], self.ram_info)
        if info is None:
            return None
        return PhaseValues(
            phase=phase,
            input_voltage=info.mains_voltage,
            input_current=info.mains_current,
            input_frequency=info.mains_frequency,
            output_voltage=info.inverter_voltage,
            output_current=info.inverter_current,
            state=info.state,
        )

    async def read_output_frequency(self) -> float | None:
        """Inverter (AC-out) frequency, from the DC info frame."""
        return (await self.read_dc_info()).inverter_frequency

    async def read_input_config(self) -> InputConfig:
        """'F' 5: input current limit (actual, min, max) and the switch register."""
        frames = await self._request(
            info_command(5),
            lambda f: f.frame_type == INPUT_CONFIG_FRAME,
            wait_s=self.slow_timeout_s,
        )
        config = parse_input_config(frames[0])
        if config is None:
            raise VebusError("malformed input configuration frame")
        self._last_input_config = config
        return config

    async def read_leds(self) -> LedStatus:
        """'L': LEDs, alarm byte and VE.Bus error code."""
        frames = await self._request_mk2(led_command(), "L")
        leds = parse_leds(frames[0])
        if leds is None:
            raise VebusError("malformed LED frame")
        return leds

    async def read_device_state(self) -> DeviceState:
        """Winmon 0x0E with 0 (read only; 1..3 would force a charge stage)."""
        _, data = await self._winmon(Winmon.DEVICE_STATE, b"\x00\x00", {Response.DEVICE_STATE})
        return DeviceState(
            state=_name(DEVICE_STATES, data[0] if data else None),
            charge_state=_name(CHARGE_STATES, data[1] if len(data) > 1 else None),
        )

    async def read_ram_vars(self, ids: Iterable[int]) -> dict[int, float]:
        """Scaled values of RAM variables, six per request; unsupported ones are left out."""
        wanted = list(dict.fromkeys(ids))
        values: dict[int, float] = {}
        for start in range(0, len(wanted), MAX_RAM_VARS_PER_REQUEST):
            batch = wanted[start : start + MAX_RAM_VARS_PER_REQUEST]
            raw = await self._read_raw_ram(batch)
            for var, word in raw.items():
                info = self.ram_info.get(var)
                if info is None:
                    info = self.ram_info[var] = await self._ram_var_info(var)
                if info.supported:
                    values[var] = round(info.value(word), 4)
        return values

    async def _read_raw_ram(self, ids: list[int]) -> dict[int, int]:
        # A 0x90 answer is remembered: the next refresh does not ask for that id again.
        batch = [var for var in ids if var not in self._unsupported_ram]
        while batch:
            code, data = await self._winmon(
                Winmon.READ_RAM_VARS,
                read_ram_vars_args(batch),
                {Response.RAM_VARS, Response.RAM_VAR_UNSUPPORTED},
            )
            if code == Response.RAM_VARS:
                return dict(zip(batch, parse_words(data), strict=False))
            # 0x90 names the first unsupported id by its index: drop it and ask again.
            index = data[0] if data and data[0] < len(batch) else 0
            self._unsupported_ram.add(batch[index])
            batch = batch[:index] + batch[index + 1 :]
        return {}

    async def read_setting(self, setting: int) -> float:
        """A setting's value, scaled with its info."""
        info = await self.read_setting_info(setting)
        return info.value(await self._read_setting_raw(setting))

    async def read_setting_or_none(self, setting: int) -> float | None:
        """A setting's value, or ``None`` when the unit does not have it."""
        try:
            return await self.read_setting(setting)
        except VebusUnsupportedError:
            return None

    async def read_setting_info(self, setting: int) -> SettingInfo:
        """Scale, offset, default and limits of a setting (cached per session)."""
        info = self.setting_info.get(setting)
        if info is None:
            replies = await self._winmon_replies(
                Winmon.GET_SETTING_INFO,
                id_args(setting),
                {Response.SETTING_INFO, 0x8D},
                setting_info_complete,
            )
            info = parse_setting_info(replies)
            self.setting_info[setting] = info
        if not info.supported:
            raise VebusUnsupportedError(f"setting {setting} is not supported")
        return info

    async def _read_setting_raw(self, setting: int) -> int:
        code, data = await self._winmon(
            Winmon.READ_SETTING,
            id_args(setting),
            {Response.SETTING, Response.SETTING_UNSUPPORTED},
        )
        if code != Response.SETTING or len(data) < 2:
            raise VebusUnsupportedError(f"setting {setting} is not supported")
        return int.from_bytes(data[:2], "little")

    async def read_status(self) -> VebusStatus:
        """One full refresh, in as few frames as the protocol allows."""
        unit = await self.ensure_session()
        dc = await self.read_dc_info()
        phases = {}
        for number in unit.phases:
            if (values := await self.read_phase(number)) is not None:
                phases[number] = values
        ram_ids: list[int] = [RamVar.INVERTER_POWER, RamVar.INPUT_POWER, RamVar.OUTPUT_POWER]
        if unit.battery_monitor:
            ram_ids.insert(0, RamVar.SOC)
        if unit.ess_setpoint_id is not None:
            ram_ids.append(unit.ess_setpoint_id)
        raw = await self._read_raw_ram(ram_ids)  # at most 5 ids: one request
        # The setpoint is the assistant's own word: signed watts, whatever its info says.
        ess_word = raw.pop(unit.ess_setpoint_id, None) if unit.ess_setpoint_id else None
        ram = {
            var: round(info.value(word), 4)
            for var, word in raw.items()
            if (info := self.ram_info.get(var)) is not None and info.supported
        }
        ess = None if ess_word is None else float(signed_word(ess_word))
        return VebusStatus(
            battery_voltage=dc.voltage,
            battery_current=dc.battery_current,
            output_frequency=dc.inverter_frequency,
            phases=phases,
            input_config=await self.read_input_config(),
            leds=await self.read_leds(),
            device_state=await self.read_device_state(),
            ram=ram,
            ess_setpoint=ess,
        )

    # --- writes --------------------------------------------------------------------------------

    async def set_switch_mode(self, mode: SwitchMode, current_limit: float | None = None) -> None:
        """Remote switch, optionally with a new input current limit (A)."""
        limit_raw = None if current_limit is None else await self._limit_raw(current_limit)
        await self._request_mk2(switch_command(mode, limit_raw, self.short_replies), "S")

    async def set_input_current_limit(self, amps: float) -> None:
        """Runtime input current limit ('S'; the unit's setting is not changed)."""
        limit_raw = await self._limit_raw(amps)
        config = self._last_input_config or await self.read_input_config()
        mode = switch_mode_from_register(config.switch_register)
        await self._request_mk2(switch_command(mode, limit_raw, self.short_replies), "S")

    async def _limit_raw(self, amps: float) -> int:
        config = await self.read_input_config()
        if not config.minimum <= amps <= config.maximum:
            raise VebusInvalidValueError(
                f"input current limit must be {config.minimum}..{config.maximum} A"
            )
        return round(amps * 10)

    async def set_ess_setpoint(self, watts: int) -> None:
        """ESS assistant AC-input setpoint, RAM only (written repeatedly: never EEPROM).

        Positive = feed in / discharge, negative = charge.
        """
        if not -32768 <= watts <= 32767:
            raise VebusInvalidValueError("the ESS setpoint must fit in -32768..32767 W")
        unit = await self.ensure_session()
        if unit.ess_setpoint_id is None:
            raise VebusUnsupportedError("the ESS assistant is not installed")
        await self._write_via_id(unit.ess_setpoint_id, watts, setting=False, ram_only=True)

    @property
    def ess_target(self) -> int | None:
        """The ESS setpoint being held, or ``None``."""
        return self._ess_target

    async def hold_ess_setpoint(self, watts: int, duration_s: float | None = None) -> None:
        """Write the ESS setpoint now and keep it alive (for ``duration_s``, or until released).

        When the duration ends the setpoint goes back to 0.
        """
        async with self._ess_lock:
            await self.set_ess_setpoint(watts)
        loop = asyncio.get_running_loop()
        self._ess_target = watts
        self._ess_until = None if duration_s is None else loop.time() + duration_s
        if self._ess_task is None or self._ess_task.done():
            self._ess_task = loop.create_task(self._keep_ess_alive(), name="vebus ess keep-alive")

    async def release_ess_setpoint(self) -> None:
        """Stop holding the setpoint and write 0, so the assistant does its own thing again."""
        self._ess_target = None
        self._ess_until = None
        await self._stop_ess_task()
        async with self._ess_lock:
            await self.set_ess_setpoint(0)

    async def _stop_ess_task(self) -> None:
        task, self._ess_task = self._ess_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_ess_alive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(ESS_KEEPALIVE_S)
            try:
                async with self._ess_lock:
                    # Read under the lock: a new setpoint written meanwhile is the one to keep.
                    target = self._ess_target
                    if target is None:
                        return
                    if self._ess_until is not None and loop.time() >= self._ess_until:
                        self._ess_target = None
                        await self.set_ess_setpoint(0)
                        return
                    await self.set_ess_setpoint(target)
            except VebusError as err:
                # The next round tries again; the assistant's fallback covers the gap.
                _LOGGER.debug("Could not refresh the ESS setpoint: %s", err)

    async def set_setting(self, setting: int, value: float, *, persist: bool = False) -> bool:
        """Write a setting; returns False when a persistent write was skipped (value equal).

        ``persist`` False (the default) writes RAM only: effective now, gone after a reset.
        ``persist`` True writes EEPROM, only if the value differs, at most once a minute per
        setting, and reads it back.
        """
        info = await self.read_setting_info(setting)
        raw = info.raw(value)
        if not info.minimum <= raw <= info.maximum:
            raise VebusInvalidValueError(
                f"setting {setting} must be {info.min_value}..{info.max_value}"
            )
        return await self._write_setting_raw(setting, raw, persist=persist)

    async def set_flag(self, flag: int, enabled: bool, *, persist: bool = False) -> bool:
        """Set one flag bit by read-modify-write of its flag word."""
        setting, bit = divmod(flag, 16)
        info = await self.read_setting_info(setting)
        if not info.maximum >> bit & 1:
            raise VebusInvalidValueError(f"flag {flag} is not supported by this unit")
        word = await self._read_setting_raw(setting)
        word = word | (1 << bit) if enabled else word & ~(1 << bit)
        if setting == 0:
            # "Disable wave check" must always be written with its inverted twin.
            twin = not word >> FLAG_DISABLE_WAVE_CHECK & 1
            word = (
                word | (1 << FLAG_WAVE_CHECK_TWIN) if twin else word & ~(1 << FLAG_WAVE_CHECK_TWIN)
            )
        return await self._write_setting_raw(setting, word, persist=persist)

    async def _write_setting_raw(self, setting: int, raw: int, *, persist: bool) -> bool:
        if not persist:
            await self._write_via_id(setting, raw, setting=True, ram_only=True)
            return True
        if await self._read_setting_raw(setting) == raw:
            return False
        last = self._last_persistent_write.get(setting)
        if last is not None and time.monotonic() - last < PERSISTENT_WRITE_INTERVAL_S:
            raise VebusInvalidValueError(
                f"setting {setting} was stored less than a minute ago; try again later"
            )
        self._last_persistent_write[setting] = time.monotonic()
        await self._write_via_id(setting, raw, setting=True, ram_only=False)
        if await self._read_setting_raw(setting) != raw:
            raise VebusWriteError(f"setting {setting} did not read back as written")
        return True

    async def _write_via_id(
        self, identifier: int, raw: int, *, setting: bool, ram_only: bool
    ) -> None:
        ok = Response.SETTING_WRITTEN if setting else Response.RAM_VAR_WRITTEN
        code, data = await self._winmon(
            Winmon.WRITE_VIA_ID,
            write_via_id_args(identifier, raw, setting=setting, ram_only=ram_only),
            {ok, Response.UNKNOWN_COMMAND, Response.ACCESS_LEVEL_REQUIRED},
        )
        if code == Response.ACCESS_LEVEL_REQUIRED:
            raise VebusWriteError(f"writing {identifier} needs access level {data[:1].hex()}")
        if code != ok:
            raise VebusWriteError(f"the unit refused to write {identifier}")

    async def set_standby(self, enabled: bool) -> None:
        """MK3 standby line: keeps a switched-off unit awake (and re-applied after power loss)."""
        self.standby_wanted = enabled
        await self._apply_standby(enabled)

    async def _apply_standby(self, enabled: bool) -> None:
        frames = await self._request_mk2(standby_command(), "H")
        lines = frames[0].data[0] if frames[0].data else 0
        wanted = lines | STANDBY_LINE if enabled else lines & ~STANDBY_LINE
        if wanted != lines:
            await self._request_mk2(standby_command(wanted), "H")

    # --- identification -------------------------------------------------------------------------

    async def _probe_phases(self) -> tuple[int, ...]:
        # The phase count in the L1 frame is not reliable; ask each phase instead.
        present = [1]
        for phase in (2, 3):
            if await self.read_phase(phase) is None:
                break
            present.append(phase)
        return tuple(present)

    async def _unit_firmware(self) -> int | None:
        with contextlib.suppress(VebusError):
            code, data = await self._winmon(
                Winmon.SOFTWARE_VERSION_LOW,
                b"",
                {Response.SOFTWARE_VERSION_LOW, Response.UNKNOWN_COMMAND},
            )
            if code != Response.SOFTWARE_VERSION_LOW or len(data) < 2:
                return None
            if len(data) >= 4:
                return int.from_bytes(data[:4], "little")
            code, high = await self._winmon(
                Winmon.SOFTWARE_VERSION_HIGH, b"", {Response.SOFTWARE_VERSION_HIGH}
            )
            return int.from_bytes(data[:2], "little") | int.from_bytes(high[:2], "little") << 16
        return None

    async def _serial_number(self) -> str | None:
        with contextlib.suppress(VebusError):
            code, data = await self._winmon(
                Winmon.SERIAL_NUMBER, b"", {Response.SERIAL_NUMBER, Response.UNKNOWN_COMMAND}
            )
            if code == Response.SERIAL_NUMBER and data:
                text = data.decode("ascii", errors="ignore").strip("\x00 ").strip()
                return text or None
        return None

    async def _find_ess_setpoint(self) -> int | None:
        """The ESS assistant's setpoint is the RAM id right after its record header."""
        ids = list(range(RamVar.ASSISTANTS, RamVar.ASSISTANTS + _ASSISTANT_SCAN_LIMIT))
        words: list[int] = []
        for start in range(0, len(ids), MAX_RAM_VARS_PER_REQUEST):
            batch = ids[start : start + MAX_RAM_VARS_PER_REQUEST]
            raw = await self._read_raw_ram(batch)
            if not raw:
                break
            words += [raw.get(i, 0) for i in batch]
            if 0 in words:
                break
        header = assistant_records(words).get(ESS_ASSISTANT_ID)
        return None if header is None else header + 1

    async def _ram_var_info(self, var: int) -> RamVarInfo:
        _, data = await self._winmon(Winmon.GET_RAM_VAR_INFO, id_args(var), {Response.RAM_VAR_INFO})
        return parse_ram_var_info(data)

    # --- plumbing ------------------------------------------------------------------------------

    def _letter(self) -> str:
        letter = self._letters[self._next_letter]
        self._next_letter = (self._next_letter + 1) % len(self._letters)
        return letter

    async def _winmon(
        self, command: Winmon, args: bytes, accepted: set[Response]
    ) -> tuple[int, bytes]:
        """A winmon request; the reply must carry the same letter and an accepted code."""
        return (await self._winmon_replies(command, args, set(accepted)))[0]

    async def _winmon_replies(
        self,
        command: Winmon,
        args: bytes,
        accepted: set[int],
        until: Callable[[list[tuple[int, bytes]]], bool] | None = None,
    ) -> list[tuple[int, bytes]]:
        letter = self._letter()

        def matches(frame: Frame) -> bool:
            reply = winmon_reply(frame, letter)
            return reply is not None and reply[0] in accepted

        def complete(frames: list[Frame]) -> bool:
            return until is None or until(_replies(frames, letter))

        frames = await self._request(winmon_command(letter, command, args), matches, until=complete)
        return _replies(frames, letter)

    async def _request_mk2(self, frame: bytes, letter: str) -> list[Frame]:
        return await self._request(frame, lambda f: f.letter == letter)

    async def _request(
        self,
        frame: bytes,
        matcher: FrameMatcher,
        *,
        wait_s: float | None = None,
        attempts: int | None = None,
        until: ReplyComplete | None = None,
    ) -> list[Frame]:
        tries = attempts or self.attempts
        for attempt in range(1, tries + 1):
            try:
                return await self.connection.request(
                    frame, matcher, wait_s or self.timeout_s, until=until
                )
            except VebusTimeoutError:
                if attempt == tries:
                    if self.asleep:
                        self._needs_init = True
                        raise VebusUnitAsleepError("the unit is silent (asleep or off)") from None
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


def _is_info_frame(*, dc: bool) -> FrameMatcher:
    def matches(frame: Frame) -> bool:
        if frame.frame_type != INFO_FRAME or len(frame.payload) < 5:
            return False
        return (frame.payload[4] == 0x0C) is dc

    return matches


def _replies(frames: list[Frame], letter: str) -> list[tuple[int, bytes]]:
    return [reply for frame in frames if (reply := winmon_reply(frame, letter)) is not None]


def _name(names: tuple[str, ...], index: int | None) -> str | None:
    return names[index] if index is not None and index < len(names) else None
