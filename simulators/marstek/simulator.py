"""`MarstekSimulator`: the public face of one simulated battery."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
import hashlib
import random
import re
import time

from .faults import Faults
from .handlers import MethodHandlers
from .plant import integrate
from .profiles import PROFILES, MarstekProfile
from .records import ReceivedRequest, SimulatorCounters
from .results import (
    battery_result,
    ble_result,
    em_result,
    es_mode_result,
    es_status_result,
    field_multipliers,
    pv_result,
    wifi_result,
)
from .state import BatteryState, ManualSlot, PhysicalTruth
from .transport import Transport
from .wire import (
    BROADCAST_BLE_MAC,
    DEFAULT_PORT,
    WRITE_METHODS,
    JsonObject,
    JsonValue,
    Mode,
    instance_id,
    is_number,
)


def default_ble_mac(profile_name: str, host: str, seed: int) -> str:
    """A stable BLE MAC per (profile, host, seed) so repeated runs see the same device."""
    digest = hashlib.sha256(f"{profile_name}|{host}|{seed}".encode()).hexdigest()
    # Locally administered unicast first octet keeps it clear of real vendor prefixes.
    first = (int(digest[:2], 16) & 0xFC) | 0x02
    return f"{first:02x}{digest[2:12]}"


def _wifi_mac_from_ble(ble_mac: str) -> str:
    return f"{(int(ble_mac, 16) - 2) % (1 << 48):012x}"


def _reported_ip(host: str) -> str:
    # A wildcard bind has no address of its own to report.
    return "127.0.0.1" if host in ("", "0.0.0.0") else host


def _gateway_for(ip: str) -> str:
    parts = ip.split(".")
    return ".".join([*parts[:3], "1"]) if len(parts) == 4 else ip


class MarstekSimulator(Transport, MethodHandlers):
    """One simulated Marstek battery on one UDP endpoint."""

    def __init__(
        self,
        profile: str | MarstekProfile = "venus-e3",
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        ble_mac: str | None = None,
        seed: int = 0,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], datetime] | None = None,
        *,
        ssid: str = "MarstekLab",
    ) -> None:
        self.profile: MarstekProfile = PROFILES[profile] if isinstance(profile, str) else profile
        self.host = host
        self.port = port
        self._clock = clock or time.monotonic
        self._wall_clock = wall_clock or datetime.now
        self._wall_offset = 0.0  # seconds added by advance()
        self._last_clock = self._clock()
        self._rng = random.Random(seed)
        mac = (ble_mac or default_ble_mac(self.profile.name, host, seed)).lower()
        if not re.fullmatch(r"[0-9a-f]{12}", mac):
            raise ValueError(f"BLE MAC must be 12 hex digits, got {ble_mac!r}")
        ip = _reported_ip(host)
        self.state = BatteryState(
            rated_capacity_wh=float(self.profile.rated_capacity_wh),
            pv_w=[0.0] * self.profile.pv_channels,
            pv_voltage_v=[0.0] * self.profile.pv_channels,
            manual_slots=[ManualSlot() for _ in range(self.profile.slot_count)],
            ip=ip,
            gateway=_gateway_for(ip),
            dns=_gateway_for(ip),
            ble_mac=mac,
            wifi_mac=_wifi_mac_from_ble(mac),
            ssid=ssid,
        )
        self.faults = Faults(
            duplicates=self.profile.duplicate_replies,
            reply_only_to_api_port=self.profile.reply_only_to_api_port,
            reply_to_api_port=self.profile.reply_to_api_port,
        )
        self.requests = []
        self.counters = SimulatorCounters()
        self._transport = None
        self._pending_sends = set()
        # Requests that reached a listening API, and (limit, that count when armed) for
        # Faults.disable_after_requests.
        self._requests_answerable = 0
        self._disable_armed = None
        self._warned_self_addressed = False
        self._handlers = {
            "Marstek.GetDevice": self._get_device,
            "Wifi.GetStatus": lambda p: wifi_result(self.profile, self.state, instance_id(p)),
            "BLE.GetStatus": lambda p: ble_result(self.state, instance_id(p)),
            "Bat.GetStatus": lambda p: battery_result(self.profile, self.state, instance_id(p)),
            "ES.GetStatus": lambda p: es_status_result(self.profile, self.state, instance_id(p)),
            "ES.GetMode": lambda p: es_mode_result(self.profile, self.state, instance_id(p)),
            "EM.GetStatus": lambda p: em_result(self.profile, self.state, instance_id(p)),
            "PV.GetStatus": lambda p: pv_result(self.profile, self.state, instance_id(p)),
            "ES.SetMode": self._set_mode,
            "DOD.SET": self._set_dod,
            "Led.Ctrl": self._set_led,
            "Ble.Adv": self._set_ble_adv,
        }
        self._refresh_setpoint()

    # ----------------------------------------------------------------- model access

    def advance(self, seconds: float) -> None:
        """Let `seconds` of device time pass (wall clock for schedules moves with it)."""
        if seconds < 0:
            raise ValueError("cannot go back in time")
        self.sync()
        self._wall_offset += seconds
        integrate(self.profile, self.state, seconds, self.wall_now())
        self._refresh_setpoint()

    def set_ground_truth(
        self,
        *,
        soc: float | None = None,
        pv_w: Sequence[float] | None = None,
        pv_voltage_v: Sequence[float] | None = None,
        house_load_w: float | None = None,
        offgrid_load_w: float | None = None,
        temperature_c: float | None = None,
        ct_connected: bool | None = None,
        grid_available: bool | None = None,
        mode: Mode | None = None,
    ) -> None:
        """Change the environment; time elapsed before the change is accounted first."""
        self.sync()
        s = self.state
        if soc is not None:
            s.soc = soc
        if pv_w is not None:
            s.pv_w = [float(p) for p in pv_w]
            if pv_voltage_v is None and len(s.pv_voltage_v) != len(s.pv_w):
                s.pv_voltage_v = [0.0] * len(s.pv_w)
            # Producing strings sit near their MPP voltage; idle ones are reported as 0 V.
            s.pv_voltage_v = [
                v if v else (38.0 if p > 0 else 0.0)
                for v, p in zip(s.pv_voltage_v, s.pv_w, strict=True)
            ]
        if pv_voltage_v is not None:
            s.pv_voltage_v = [float(v) for v in pv_voltage_v]
        if house_load_w is not None:
            s.house_load_w = house_load_w
        if offgrid_load_w is not None:
            s.offgrid_load_w = offgrid_load_w
        if temperature_c is not None:
            s.temperature_c = temperature_c
        if ct_connected is not None:
            s.ct_connected = ct_connected
        if grid_available is not None:
            s.grid_available = grid_available
        if mode is not None:
            s.mode = mode
        self._refresh_setpoint()

    def truth(self) -> PhysicalTruth:
        """Exact physical values now (after catching up with the clock)."""
        self.sync()
        s = self.state
        return PhysicalTruth(
            mode=s.mode,
            soc=s.soc,
            battery_power_w=s.battery_charge_w,
            ongrid_power_w=s.ongrid_power_w,
            offgrid_power_w=s.offgrid_load_w,
            pv_power_w=s.pv_power_w,
            pv_channel_w=tuple(s.pv_w),
            meter_phase_w=s.meter_phase_w,
            meter_total_w=s.meter_total_w,
            remaining_wh=s.remaining_wh,
            rated_capacity_wh=s.rated_capacity_wh,
            temperature_c=s.temperature_c,
            grid_input_wh=s.grid_input_wh,
            grid_output_wh=s.grid_output_wh,
            pv_energy_wh=s.pv_energy_wh,
            load_energy_wh=s.load_energy_wh,
            meter_import_wh=s.meter_import_wh,
            meter_export_wh=s.meter_export_wh,
            passive_power_w=s.passive_power_w,
            passive_remaining_s=s.passive_remaining_s,
            dod=s.dod,
            led_on=s.led_on,
            ble_adv=s.ble_adv,
        )

    def wire_result(self, method: str, params: JsonObject | None = None) -> JsonObject | None:
        """The raw `result` a read method would return now (no transport, no faults)."""
        if method in WRITE_METHODS:
            raise ValueError(f"{method} changes state; send it over UDP instead")
        self.sync()
        return self._execute(method, params if params is not None else {"id": 0})

    def reported(self, method: str) -> dict[str, JsonValue]:
        """`wire_result` decoded to physical units: what a correct client should show.

        Fields the firmware hard-codes (e.g. pv_power 0 on Venus A 147) stay as sent.
        """
        params: JsonObject = (
            {"ble_mac": BROADCAST_BLE_MAC} if method == "Marstek.GetDevice" else {"id": 0}
        )
        result = self.wire_result(method, params) or {}
        multipliers = field_multipliers(self.profile, method)
        decoded: dict[str, JsonValue] = {}
        for key, value in result.items():
            factor = multipliers.get(key)
            if factor is not None and is_number(value) and isinstance(value, int | float):
                decoded[key] = value * factor
            else:
                decoded[key] = value
        return decoded

    def clear_history(self) -> None:
        """Forget recorded requests and counters (long benchmarks)."""
        self.requests.clear()
        self.counters = SimulatorCounters()

    def requests_for(self, method: str) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.method == method]
