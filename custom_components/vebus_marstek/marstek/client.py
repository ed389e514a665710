"""A Marstek battery on the LAN: paced, serialised requests with retries and verified writes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time as time_of_day, timedelta
import logging
import random
import socket
import time

from .connection import DEFAULT_PORT, MarstekEndpoint, acquire_endpoint, release_endpoint
from .errors import (
    MarstekBusyError,
    MarstekClosedError,
    MarstekConnectionError,
    MarstekDeviceError,
    MarstekError,
    MarstekInvalidValueError,
    MarstekMethodUnsupportedError,
    MarstekWriteRejectedError,
    MarstekWriteUnconfirmedError,
)
from .framing import ErrorReply, JsonObject, ResultReply
from .messages import (
    DISCOVERY_PARAMS,
    DOD_MAX,
    DOD_MIN,
    FORBIDDEN_METHODS,
    PASSIVE_MAX_DURATION_S,
    READ_METHODS,
    STATUS_PARAMS,
    TEMPERATURE_MAX_C,
    TEMPERATURE_MIN_C,
    Method,
    TemperatureReading,
    ble_advertising_params,
    dod_params,
    led_params,
    mac_from_src,
    manual_slot_params,
    normalise_ip,
    normalise_mac,
    parse_battery_status_and_temperature,
    parse_ble_status,
    parse_device,
    parse_es_status,
    parse_meter_status,
    parse_mode_status,
    parse_pv_status,
    parse_wifi_status,
    passive_params,
    simple_mode_params,
)
from .models import (
    BatteryStatus,
    BleStatus,
    DeviceIdentity,
    EnergySystemStatus,
    ManualSlot,
    MeterStatus,
    ModeStatus,
    OperatingMode,
    PassiveRequest,
    PvStatus,
    WifiStatus,
)
from .profile import FirmwareProfile, resolve_profile
from .pv_units import Pv1UnitCheck

_LOGGER = logging.getLogger(__name__)

_PARSE_ERROR = -32700
_METHOD_NOT_FOUND = -32601
# After ES.SetMode, firmware 148 reverts the mode when ES.GetMode follows too soon.
_MODE_READBACK_HOLD_S = 90.0
# PV readings older than this are not used to derive the battery power.
PV_MAX_AGE_S = 120.0


@dataclass(frozen=True, kw_only=True)
class Pacing:
    """How gently to talk to one device.

    ``spacing_s`` is the minimum time between two requests, ``quiet_gap_s`` the minimum time
    after the device's last reply: requests sent right after a reply are often lost.
    """

    spacing_s: float = 2.0
    quiet_gap_s: float = 1.0
    timeout_s: float = 3.0
    write_timeout_s: float = 5.0
    read_attempts: int = 3
    write_attempts: int = 3
    backoff_s: float = 1.0


@dataclass(kw_only=True)
class MethodStats:
    """Per-method counters for diagnostics."""

    requests: int = 0
    replies: int = 0
    timeouts: int = 0
    errors: int = 0
    busy: int = 0
    last_latency_s: float | None = None
    total_latency_s: float = 0.0
    last_error: str | None = None
    last_result: JsonObject | None = None

    @property
    def average_latency_s(self) -> float | None:
        """Mean round-trip time of the answered requests."""
        return self.total_latency_s / self.replies if self.replies else None


@dataclass(kw_only=True)
class _Clock:
    last_send: float = float("-inf")
    last_reply: float = float("-inf")
    history: list[float] = field(default_factory=list)


class MarstekClient:
    """One battery, addressed by IP and Open API port.

    All requests to the device go through one lock, paced by :class:`Pacing`. Reads are
    retried with backoff; writes are never repeated blindly: a write without an answer is
    confirmed by reading the device's state back, and re-sent only if that shows it did not
    take effect.
    """

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        pacing: Pacing | None = None,
        ble_mac: str | None = None,
        pv1_in_watts: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        # Some firmware (Venus E mini) ignores GetDevice for "every device" ("0"): once the
        # MAC is known, GetDevice names it.
        self.ble_mac = normalise_mac(ble_mac)
        self.pacing = pacing or Pacing()
        self.profile: FirmwareProfile | None = None
        self.identity: DeviceIdentity | None = None
        self.stats: dict[str, MethodStats] = {}
        self.unsupported: set[str] = set()
        self.passive_request: PassiveRequest | None = None
        self._address: str | None = None
        self._endpoint: MarstekEndpoint | None = None
        self._lock = asyncio.Lock()
        self._clock = _Clock()
        self._writing = 0
        self._closed = False
        self._last_mode: OperatingMode | None = None
        self._written_mode: tuple[OperatingMode, float] | None = None
        self._pv_reading: tuple[float, float] | None = None  # (channel sum W, monotonic time)
        self._pv1_in_watts = pv1_in_watts  # the user says this firmware reports PV 1 in W
        self.pv1_unit_check = Pv1UnitCheck()
        self._temperature_logged = False

    # --- lifecycle ----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Join the shared endpoint of this port (binding it if needed)."""
        if self._endpoint is not None:
            return
        self._closed = False
        self._address = await self._resolve(self.host)
        self._endpoint = await acquire_endpoint(self.port)

    async def close(self) -> None:
        """Leave the shared endpoint; the last device on a port closes the socket."""
        self._closed = True
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is not None:
            await release_endpoint(endpoint)

    async def __aenter__(self) -> MarstekClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def endpoint(self) -> MarstekEndpoint | None:
        """The shared socket, while connected."""
        return self._endpoint

    @property
    def writing(self) -> bool:
        """A write is in progress; pollers should hold back."""
        return self._writing > 0

    async def _resolve(self, host: str) -> str:
        """Replies come from an IP address, so a host name is resolved once."""
        if (ip := normalise_ip(host)) is not None:
            return ip
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, family=socket.AF_INET, type=socket.SOCK_DGRAM
            )
        except OSError:
            infos = []
        if not infos:
            raise MarstekConnectionError(host, self.port, "a name lookup")
        return str(infos[0][4][0])

    # --- reads ----------------------------------------------------------------------------------

    async def read_identity(self) -> DeviceIdentity:
        """Marstek.GetDevice; also (re)decides the firmware profile."""
        if self.ble_mac is not None:
            reply = await self._read(Method.GET_DEVICE, {"ble_mac": self.ble_mac})
        else:
            try:
                reply = await self._read(Method.GET_DEVICE, DISCOVERY_PARAMS)
            except MarstekConnectionError as silent:
                # Silent to "every device": any other reply names the MAC in its src.
                try:
                    probe = await self._read(Method.ES_MODE, STATUS_PARAMS)
                except MarstekError:
                    raise silent from None
                if (mac := mac_from_src(probe.src)) is None:
                    raise silent from None
                reply = await self._read(Method.GET_DEVICE, {"ble_mac": mac})
        identity = parse_device(reply.result, reply.src)
        self.ble_mac = identity.ble_mac or self.ble_mac
        self.identity = identity
        profile = resolve_profile(identity.device, identity.firmware)
        self.profile = replace(profile, pv1_power_scale=1.0) if self._pv1_in_watts else profile
        return identity

    async def read_es_status(self) -> EnergySystemStatus:
        """ES.GetStatus: SOC, power flows and lifetime energy counters.

        On PV models, read :meth:`read_pv_status` first: its channel sum is the PV power
        used to derive the battery power when the firmware leaves ``bat_power`` out.
        """
        reply = await self._read(Method.ES_STATUS, STATUS_PARAMS)
        pv_channels_w = None
        if self._pv_reading is not None and time.monotonic() - self._pv_reading[1] <= PV_MAX_AGE_S:
            pv_channels_w = self._pv_reading[0]
        return parse_es_status(reply.result, await self._profile(), pv_channels_w)

    async def read_mode(self) -> ModeStatus:
        """ES.GetMode (held back shortly after a mode change on firmware that reverts)."""
        profile = await self._profile()
        if (
            profile.mode_readback_reverts
            and self._written_mode is not None
            and time.monotonic() - self._written_mode[1] < _MODE_READBACK_HOLD_S
        ):
            return ModeStatus(
                mode=self._written_mode[0],
                ongrid_power_w=None,
                offgrid_power_w=None,
                soc=None,
                meter=None,
            )
        reply = await self._read(Method.ES_MODE, STATUS_PARAMS)
        status = parse_mode_status(reply.result)
        self._last_mode = status.mode
        return status

    async def read_meter_status(self) -> MeterStatus:
        """EM.GetStatus."""
        reply = await self._read(Method.METER_STATUS, STATUS_PARAMS)
        return parse_meter_status(reply.result)

    async def read_pv_status(self) -> PvStatus:
        """PV.GetStatus (Venus A and D)."""
        reply = await self._read(Method.PV_STATUS, STATUS_PARAMS)
        profile = await self._profile()
        status = parse_pv_status(reply.result, profile)
        self.pv1_unit_check.observe(status, profile.pv1_power_scale)
        if (total := status.total_power_w) is not None:
            self._pv_reading = (total, time.monotonic())
        return status

    async def read_battery_status(self) -> BatteryStatus:
        """Bat.GetStatus."""
        reply = await self._read(Method.BATTERY_STATUS, STATUS_PARAMS)
        profile = await self._profile()
        status, temperature = parse_battery_status_and_temperature(reply.result, profile)
        self._log_implausible_temperature(temperature, profile)
        return status

    def _log_implausible_temperature(
        self, reading: TemperatureReading | None, profile: FirmwareProfile
    ) -> None:
        """One line per battery, not one per poll, when its temperature is out of range."""
        if reading is None or reading.plausible or self._temperature_logged:
            return
        self._temperature_logged = True
        shown = "unknown" if reading.shown is None else f"{reading.shown:g} °C"
        _LOGGER.log(
            logging.WARNING if reading.shown is None else logging.INFO,
            "Marstek %s: Bat.GetStatus sent bat_temp %g, which is %g °C with the scale of "
            "%s firmware %s and outside %g..%g °C; showing %s (logged once per battery)",
            self.host,
            reading.received,
            reading.scaled,
            profile.model,
            profile.generation,
            TEMPERATURE_MIN_C,
            TEMPERATURE_MAX_C,
            shown,
        )

    async def read_wifi_status(self) -> WifiStatus:
        """Wifi.GetStatus."""
        reply = await self._read(Method.WIFI_STATUS, STATUS_PARAMS)
        return parse_wifi_status(reply.result)

    async def read_ble_status(self) -> BleStatus:
        """BLE.GetStatus."""
        reply = await self._read(Method.BLE_STATUS, STATUS_PARAMS)
        return parse_ble_status(reply.result)

    def is_supported(self, method: Method) -> bool:
        """False once the device answered "method not found" (or the profile says so)."""
        if method in self.unsupported:
            return False
        profile = self.profile
        if profile is None:
            return True
        return {
            Method.PV_STATUS: profile.has_pv,
            Method.METER_STATUS: profile.has_meter,
            Method.SET_DOD: profile.has_system_settings,
            Method.SET_LED: profile.has_system_settings,
            Method.SET_BLE_ADVERTISING: profile.has_system_settings,
        }.get(method, True)

    # --- writes ---------------------------------------------------------------------------------

    async def set_mode(self, mode: OperatingMode) -> None:
        """Switch to Auto, AI or UPS."""
        profile = await self._profile()
        if mode not in (OperatingMode.AUTO, OperatingMode.AI, OperatingMode.UPS):
            raise MarstekInvalidValueError(f"{mode} cannot be selected without settings")
        if mode is OperatingMode.UPS and not profile.has_ups:
            raise MarstekMethodUnsupportedError(
                Method.SET_MODE, _METHOD_NOT_FOUND, "UPS mode is not supported"
            )
        await self._write_mode(mode, simple_mode_params(mode))

    async def set_manual_slot(self, slot: ManualSlot) -> None:
        """Write one schedule slot; the device switches to Manual mode."""
        profile = await self._profile()
        self.validate_manual_slot(slot, profile)
        await self._write_mode(OperatingMode.MANUAL, manual_slot_params(slot), parameters=True)

    async def select_manual_mode(self) -> ManualSlot:
        """Switch to Manual without touching the user's schedules; returns the slot written.

        The device only enters Manual together with a slot write, so the last slot gets a
        disabled placeholder; slot 0, where users keep their own schedule, is left alone.
        """
        profile = await self._profile()
        placeholder = ManualSlot(
            slot=profile.manual_slots - 1,
            start=time_of_day(0, 0),
            end=time_of_day(0, 0),
            weekdays=frozenset(),
            power_w=0,
            enabled=False,
        )
        await self._write_mode(
            OperatingMode.MANUAL, manual_slot_params(placeholder), parameters=True
        )
        return placeholder

    async def set_passive(self, power_w: int, duration_s: int) -> PassiveRequest:
        """Hold ``power_w`` (positive = discharge) for ``duration_s`` seconds; returns what was
        sent (the device cannot report it back)."""
        profile = await self._profile()
        self.validate_passive(power_w, duration_s, profile)
        await self._write_mode(
            OperatingMode.PASSIVE, passive_params(power_w, duration_s), parameters=True
        )
        self.passive_request = PassiveRequest(
            power_w=power_w,
            duration_s=duration_s,
            ends_at=datetime.now(UTC) + timedelta(seconds=duration_s),
        )
        return self.passive_request

    async def set_dod(self, percent: int) -> None:
        """Depth of discharge in percent (30..88)."""
        if not DOD_MIN <= percent <= DOD_MAX:
            raise MarstekInvalidValueError(f"depth of discharge must be {DOD_MIN}..{DOD_MAX} %")
        await self._write_setting(Method.SET_DOD, dod_params(percent))

    async def set_led(self, on: bool) -> None:
        """Panel LED on or off."""
        await self._write_setting(Method.SET_LED, led_params(on))

    async def set_ble_advertising(self, on: bool) -> None:
        """Bluetooth advertising on or off."""
        await self._write_setting(Method.SET_BLE_ADVERTISING, ble_advertising_params(on))

    @staticmethod
    def validate_passive(power_w: int, duration_s: int, profile: FirmwareProfile) -> None:
        """Raise :class:`MarstekInvalidValueError` unless the device would accept this."""
        if not profile.accepts_passive:
            raise MarstekInvalidValueError(f"{profile.model} does not accept Passive mode")
        if abs(power_w) > profile.max_power_w:
            raise MarstekInvalidValueError(
                f"power must be within -{profile.max_power_w}..{profile.max_power_w} W"
            )
        if not 1 <= duration_s <= PASSIVE_MAX_DURATION_S:
            raise MarstekInvalidValueError(f"duration must be 1..{PASSIVE_MAX_DURATION_S} s")

    @staticmethod
    def validate_manual_slot(slot: ManualSlot, profile: FirmwareProfile) -> None:
        """Raise :class:`MarstekInvalidValueError` unless the device would accept this slot."""
        if not 0 <= slot.slot < profile.manual_slots:
            raise MarstekInvalidValueError(f"slot must be 0..{profile.manual_slots - 1}")
        if abs(slot.power_w) > profile.max_power_w:
            raise MarstekInvalidValueError(
                f"power must be within -{profile.max_power_w}..{profile.max_power_w} W"
            )
        if any(not 0 <= day <= 6 for day in slot.weekdays):
            raise MarstekInvalidValueError("weekdays must be 0 (Monday) .. 6 (Sunday)")

    async def _write_mode(
        self, mode: OperatingMode, params: JsonObject, *, parameters: bool = False
    ) -> None:
        """ES.SetMode. ``parameters``: the write carries settings (Passive power, a Manual
        slot) that no read method returns, so only a change of mode can confirm it."""
        mode_before = self._last_mode

        async def confirmed() -> bool | None:
            """Whether the write took effect; ``None`` when that cannot be known."""
            if parameters and (mode_before is None or mode_before is mode):
                return None  # already in this mode: the read-back cannot see the settings
            reply = await self._request_once(Method.ES_MODE, STATUS_PARAMS, write=False)
            if not isinstance(reply, ResultReply):
                return None
            return parse_mode_status(reply.result).mode is mode

        profile = await self._profile()
        verify = None if profile.mode_readback_reverts else confirmed
        await self._write(Method.SET_MODE, params, verify)
        self._written_mode = (mode, time.monotonic())
        self._last_mode = mode

    async def _write_setting(self, method: Method, params: JsonObject) -> None:
        await self._profile()
        if not self.is_supported(method):
            raise MarstekMethodUnsupportedError(method, _METHOD_NOT_FOUND, "not supported")
        # No read method exists for these settings: an unanswered write is reported, not
        # repeated, because it cannot be confirmed.
        await self._write(method, params, None)

    async def _write(
        self,
        method: Method,
        params: JsonObject,
        verify: Callable[[], Awaitable[bool | None]] | None,
    ) -> None:
        self._writing += 1
        try:
            async with self._lock:
                await self._write_locked(method, params, verify)
        finally:
            self._writing -= 1

    async def _write_locked(
        self,
        method: Method,
        params: JsonObject,
        verify: Callable[[], Awaitable[bool | None]] | None,
    ) -> None:
        rejected = False
        for attempt in range(1, self.pacing.write_attempts + 1):
            reply = await self._send(method, params, write=True)
            if isinstance(reply, ResultReply):
                if reply.result.get("set_result") is not False:
                    return
                # An explicit "no": nothing changed, so trying again is safe.
                rejected = True
                await asyncio.sleep(self._backoff(attempt))
                continue
            if isinstance(reply, ErrorReply):
                raise self._device_error(method, reply)
            # Silence: the write may or may not have happened. Look before sending again.
            rejected = False
            applied = None if verify is None else await verify()
            if applied is None:
                raise MarstekWriteUnconfirmedError(method)  # unknown: never resend blindly
            if applied:
                return
        if rejected:
            raise MarstekWriteRejectedError(method, self.pacing.write_attempts)
        raise MarstekWriteUnconfirmedError(method)

    # --- request plumbing ------------------------------------------------------------------------

    async def _profile(self) -> FirmwareProfile:
        if self.profile is None:
            await self.read_identity()
        assert self.profile is not None
        return self.profile

    async def _read(self, method: Method, params: JsonObject) -> ResultReply:
        if not self.is_supported(method):
            # Known missing on this model: some firmware never even answers such requests.
            raise MarstekMethodUnsupportedError(method, _METHOD_NOT_FOUND, "not supported")
        async with self._lock:
            for attempt in range(1, self.pacing.read_attempts + 1):
                reply = await self._send(method, params, write=False)
                if isinstance(reply, ResultReply):
                    return reply
                if isinstance(reply, ErrorReply):
                    raise self._device_error(method, reply)
                if attempt < self.pacing.read_attempts:
                    await asyncio.sleep(self._backoff(attempt))
            raise MarstekConnectionError(self.host, self.port, method)

    async def _send(
        self, method: str, params: JsonObject, *, write: bool
    ) -> ResultReply | ErrorReply | None:
        """One request; a busy answer (-32700 with id 0: not executed) gets one delayed retry."""
        reply = await self._request_once(method, params, write=write)
        if isinstance(reply, ErrorReply) and _is_busy(reply):
            await asyncio.sleep(max(self.pacing.backoff_s, self.pacing.spacing_s))
            reply = await self._request_once(method, params, write=write)
        return reply

    async def _request_once(
        self, method: str, params: JsonObject, *, write: bool
    ) -> ResultReply | ErrorReply | None:
        """One paced request; ``None`` when nothing came back in time."""
        if method in FORBIDDEN_METHODS:  # pragma: no cover - no code path builds these
            raise MarstekInvalidValueError(f"{method} is never sent")
        if method not in READ_METHODS and not write:  # pragma: no cover - programming error
            raise MarstekInvalidValueError(f"{method} is not a read")
        endpoint = self._endpoint
        if self._closed or (endpoint is not None and not endpoint.is_open):
            # Closed while this request waited its turn (the entry is unloading): never
            # bind the port again behind the owner's back.
            raise MarstekClosedError(self.host, self.port, method)
        if endpoint is None or self._address is None:
            await self.connect()
            endpoint = self._endpoint
        assert endpoint is not None
        assert self._address is not None
        await self._wait_for_turn()
        stats = self.stats.setdefault(method, MethodStats())
        stats.requests += 1
        started = time.monotonic()
        self._clock.last_send = started
        timeout = self.pacing.write_timeout_s if write else self.pacing.timeout_s
        try:
            reply = await endpoint.request(self._address, method, params, timeout)
        except TimeoutError:
            stats.timeouts += 1
            stats.last_error = "timeout"
            return None
        now = time.monotonic()
        self._clock.last_reply = now
        stats.replies += 1
        stats.last_latency_s = now - started
        stats.total_latency_s += now - started
        if isinstance(reply, ErrorReply):
            stats.errors += 1
            stats.last_error = f"{reply.code} {reply.message}".strip()
            if _is_busy(reply):
                stats.busy += 1
        else:
            stats.last_result = reply.result
        return reply

    async def _wait_for_turn(self) -> None:
        now = time.monotonic()
        ready = max(
            self._clock.last_send + self.pacing.spacing_s,
            self._clock.last_reply + self.pacing.quiet_gap_s,
        )
        if ready > now:
            await asyncio.sleep(ready - now)

    def _backoff(self, attempt: int) -> float:
        base = self.pacing.backoff_s * 2.0 ** (attempt - 1)
        return base + random.uniform(0, base / 4)  # jitter, not cryptography

    def _device_error(self, method: str, reply: ErrorReply) -> MarstekError:
        if reply.code == _METHOD_NOT_FOUND:
            self.unsupported.add(method)
            return MarstekMethodUnsupportedError(method, reply.code, reply.message, reply.data)
        if reply.code == _PARSE_ERROR:
            return MarstekBusyError(method, reply.code, reply.message, reply.data)
        return MarstekDeviceError(method, reply.code, reply.message, reply.data)


def _is_busy(reply: ErrorReply) -> bool:
    """A parse error answered with id 0: the device was busy (e.g. with its CT meter)."""
    return reply.code == _PARSE_ERROR and reply.request_id == 0
