"""Simulator of Marstek Venus home batteries speaking their LAN "Open API" over UDP.

One JSON object per datagram, JSON-RPC-like but without a ``jsonrpc`` member.  The
simulator keeps the battery in physical units (W, Wh, %, degC) and encodes every
reply with the per-family/firmware scaling the real devices use, so a client that
decodes a field with the wrong factor reports visibly wrong numbers.

This module deliberately shares no code with the client in ``custom_components``:
a protocol misunderstanding in one must not be able to hide in the other.

Typical in-process use::

    async with MarstekSimulator(profile="venus-e3", host="127.0.0.2", port=30000) as sim:
        sim.state.soc = 55.0
        ...

Standalone::

    python -m simulators.marstek --device venus-e3@127.0.0.2 --device venus-a@127.0.0.3
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import hashlib
import json
import logging
import math
import random
import re
import socket
import sys
import time
from types import TracebackType
from typing import Final, Literal, Self

from .standalone import run_until_stopped

_LOGGER = logging.getLogger(__name__)

type JsonValue = None | bool | int | float | str | list[JsonValue] | dict[str, JsonValue]
type JsonObject = dict[str, JsonValue]

DEFAULT_PORT: Final = 30000

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
# data member of the -32700 reply a VNSE3 sends while its CT mutex is held.
BUSY_DATA: Final = 403
# data member VNSE3 >= 150 adds to -32601 for PV.GetStatus.
PV_NOT_FOUND_DATA: Final = 424

ERROR_MESSAGES: Final[dict[int, str]] = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
}

DOD_MIN: Final = 30
DOD_MAX: Final = 88
PV_CHANNELS: Final = 4
BROADCAST_BLE_MAC: Final = "0"
# Every VNSE3 on one access point reports this (the AP's BSSID) as its wifi_mac.
SHARED_AP_BSSID: Final = "a4c1e2f3d5b7"

_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


# --------------------------------------------------------------------------- profiles


class Family(StrEnum):
    """Hardware line; scaling and capabilities depend on (family, firmware ver)."""

    HMG50 = "HMG-50"  # Venus E 2.0 and Venus C
    VNSE3 = "VNSE3"  # Venus E 3.0
    VENUS_A = "VNSA"
    VENUS_D = "VNSD"
    E_MINI = "VNSEM"


class Mode(StrEnum):
    """Operating modes as spelled on the wire."""

    AUTO = "Auto"
    AI = "AI"
    MANUAL = "Manual"
    PASSIVE = "Passive"
    UPS = "UPS"


MODE_NUMBERS: Final[dict[Mode, int]] = {
    Mode.AUTO: 0,
    Mode.AI: 1,
    Mode.MANUAL: 2,
    Mode.PASSIVE: 3,
    Mode.UPS: 4,
}

# ES.SetMode mode name -> (mode, name of its config object).  "Ups" is the spelling of the
# vendor PDF's table, "UPS" the one of its example; both are accepted.
SET_MODE_NAMES: Final[dict[str, tuple[Mode, str]]] = {
    "Auto": (Mode.AUTO, "auto_cfg"),
    "AI": (Mode.AI, "ai_cfg"),
    "Manual": (Mode.MANUAL, "manual_cfg"),
    "Passive": (Mode.PASSIVE, "passive_cfg"),
    "UPS": (Mode.UPS, "ups_cfg"),
    "Ups": (Mode.UPS, "ups_cfg"),
}

BASE_METHODS: Final = frozenset(
    {
        "Marstek.GetDevice",
        "Wifi.GetStatus",
        "BLE.GetStatus",
        "Bat.GetStatus",
        "ES.GetStatus",
        "ES.GetMode",
        "ES.SetMode",
    }
)
SYSTEM_METHODS: Final = frozenset({"DOD.SET", "Led.Ctrl", "Ble.Adv"})
WRITE_METHODS: Final = frozenset({"ES.SetMode", *SYSTEM_METHODS})
# Real methods the simulator records but never executes; a well-behaved client never sends them.
DANGEROUS_METHODS: Final = frozenset({"Reset.Factory", "Set.Ver", "Wifi.SetConfig"})

type GetModeCtFields = Literal["absent", "zero", "live"]


@dataclass(frozen=True, slots=True)
class WireEncoding:
    """Scaling of physical values on the wire.  Multipliers: physical = raw * multiplier."""

    bat_power_w_per_raw: float | None  # None: ES.GetStatus has no bat_power
    grid_energy_wh_per_raw: int  # total_grid_input/output_energy, total_load_energy
    pv_energy_wh_per_raw: int  # total_pv_energy
    pv_hardcoded_zero: bool  # ES.pv_power and total_pv_energy always 0
    load_energy_hardcoded_zero: bool
    bat_temp_c_per_raw: float
    bat_capacity_wh_per_raw: int
    getmode_ct_fields: GetModeCtFields
    # PV.GetStatus channel 1 (others in W): 0.1 on every observed firmware; 1.0 models a
    # firmware that fixed it.
    pv1_w_per_raw: float = 0.1


def derive_encoding(family: Family, ver: int) -> WireEncoding:
    """The project's encoding matrix for one (family, firmware) pair."""
    hmg = family is Family.HMG50
    old_vnse3 = family is Family.VNSE3 and ver <= 139
    has_bat_power = (hmg and ver <= 153) or family is Family.E_MINI or old_vnse3
    deci_bat_power = (hmg and ver < 154) or old_vnse3
    grid_unit = (10 if ver < 154 else 100) if hmg else 1
    pv_energy_unit = (
        10 if (family in (Family.VENUS_A, Family.VENUS_D) and ver >= 149) or ver >= 150 else 1
    )
    pv_zero = (family is Family.VENUS_A and ver <= 148) or (family is Family.VENUS_D and ver <= 147)
    getmode_ct: GetModeCtFields
    if family is Family.VNSE3 and ver >= 150:
        getmode_ct = "zero"
    elif ver >= 150 or family is Family.VENUS_A:
        getmode_ct = "live"
    else:
        getmode_ct = "absent"
    return WireEncoding(
        bat_power_w_per_raw=(0.1 if deci_bat_power else 1.0) if has_bat_power else None,
        grid_energy_wh_per_raw=grid_unit,
        pv_energy_wh_per_raw=pv_energy_unit,
        pv_hardcoded_zero=pv_zero,
        load_energy_hardcoded_zero=family in (Family.VNSE3, Family.VENUS_A, Family.VENUS_D),
        bat_temp_c_per_raw=0.1 if old_vnse3 or (hmg and ver >= 154) else 1.0,
        bat_capacity_wh_per_raw=10 if old_vnse3 or (hmg and ver < 154) else 1,
        getmode_ct_fields=getmode_ct,
    )


@dataclass(frozen=True, slots=True)
class MarstekProfile:
    """One device model at one firmware version.  Build new ones with `build_profile`."""

    name: str
    device: str  # Marstek.GetDevice result.device
    src_prefix: str  # reply "src" is f"{src_prefix}-{ble_mac}"
    ver: int
    family: Family
    capabilities: frozenset[str]  # answered method names
    power_limit_w: int  # AC limit for charge and discharge
    slot_count: int  # Manual slots 0..slot_count-1
    rated_capacity_wh: int
    pv_channels: int  # 0 or 4
    encoding: WireEncoding
    ups_supported: bool
    passive_supported: bool
    manual_power_ignored: bool  # E mini acks Manual but never applies its power
    pv_not_found_data: int | None  # "data" of the -32601 for PV.GetStatus
    omits_macs: bool  # GetDevice has neither ble_mac nor wifi_mac
    wifi_mac_is_ap_bssid: bool  # VNSE3 reports the access point's BSSID as wifi_mac
    bat_cap_is_remaining: bool  # ES.bat_cap holds remaining energy instead of rated
    battery_electrics: bool  # Bat.GetStatus has bat_voltage, bat_current, error_code
    em_parse_state: bool  # EM.GetStatus has parse_state
    silent_on_unknown: bool  # unknown methods get no answer at all
    no_broadcast_discovery: bool  # GetDevice with ble_mac "0" is ignored
    reply_only_to_api_port: bool  # default of Faults.reply_only_to_api_port
    reply_to_api_port: bool  # default of Faults.reply_to_api_port
    duplicate_replies: int  # default of Faults.duplicates
    mode_as_int: bool = False  # ES.GetMode mode as 0..4 instead of a string

    @property
    def reset_prone(self) -> bool:
        """Builds whose Local API disables itself under load (reference A.7)."""
        limits = {Family.VNSE3: 150, Family.HMG50: 156, Family.VENUS_A: 149, Family.VENUS_D: 150}
        limit = limits.get(self.family)
        return limit is not None and self.ver < limit


def build_profile(
    name: str,
    *,
    device: str,
    src_prefix: str,
    family: Family,
    ver: int,
    rated_capacity_wh: int,
) -> MarstekProfile:
    """Derive capabilities, limits and encodings of a model from the reference rules (B.16)."""
    hmg = family is Family.HMG50
    mini = family is Family.E_MINI
    has_pv = family in (Family.VENUS_A, Family.VENUS_D)
    has_em = not (hmg and ver < 155)
    has_system = not hmg and ver >= 150
    methods = set(BASE_METHODS)
    if has_pv:
        methods.add("PV.GetStatus")
    if has_em:
        methods.add("EM.GetStatus")
    if has_system:
        methods |= SYSTEM_METHODS
    reset_prone_duplicates = (family is Family.VNSE3 and ver < 150) or (hmg and ver < 156)
    power_limits = {
        Family.HMG50: 2500,
        Family.VNSE3: 2500,
        Family.VENUS_A: 1500,
        Family.VENUS_D: 2200,
        Family.E_MINI: 1500,
    }
    return MarstekProfile(
        name=name,
        device=device,
        src_prefix=src_prefix,
        ver=ver,
        family=family,
        capabilities=frozenset(methods),
        power_limit_w=power_limits[family],
        slot_count=6 if mini else 10,
        rated_capacity_wh=rated_capacity_wh,
        pv_channels=PV_CHANNELS if has_pv else 0,
        encoding=derive_encoding(family, ver),
        ups_supported=has_system,
        passive_supported=not mini,
        manual_power_ignored=mini,
        pv_not_found_data=PV_NOT_FOUND_DATA if family is Family.VNSE3 and ver >= 150 else None,
        omits_macs=False,
        wifi_mac_is_ap_bssid=family is Family.VNSE3,
        bat_cap_is_remaining=mini,
        battery_electrics=hmg,
        em_parse_state=hmg,
        silent_on_unknown=mini,
        no_broadcast_discovery=mini,
        reply_only_to_api_port=mini,
        reply_to_api_port=mini,
        duplicate_replies=1 if reset_prone_duplicates else 0,
    )


def _make_profiles() -> dict[str, MarstekProfile]:
    hmg, vnse3 = Family.HMG50, Family.VNSE3
    venus_a, venus_d, mini = Family.VENUS_A, Family.VENUS_D, Family.E_MINI
    rows: list[tuple[str, str, str, Family, int, int]] = [
        # name, device, src prefix, family, ver, rated capacity Wh
        ("venus-e2", "VenusE", "VenusE", hmg, 156, 5120),
        ("venus-e2-153", "VenusE", "VenusE", hmg, 153, 5120),
        ("venus-e2-154", "VenusE", "VenusE", hmg, 154, 5120),
        ("venus-c-153", "VenusC", "VenusC", hmg, 153, 5120),
        ("venus-e3", "VenusE 3.0", "VenusE 3.0", vnse3, 150, 5120),
        ("venus-e3-148", "VenusE 3.0", "VenusE 3.0", vnse3, 148, 5120),
        ("venus-e3-139", "VenusE 3.0", "VenusE 3.0", vnse3, 139, 5120),
        ("venus-a", "Venus A", "VenusA", venus_a, 147, 2080),
        ("venus-a-150", "Venus A", "VenusA", venus_a, 150, 2080),
        ("venus-d", "VenusD", "VenusD", venus_d, 151, 2240),
        ("venus-d-147", "VenusD", "VenusD", venus_d, 147, 2240),
        ("venus-e-mini", "Venus E mini", "VNSEM-0", mini, 301, 2048),
    ]
    profiles = {
        name: build_profile(
            name,
            device=device,
            src_prefix=prefix,
            family=family,
            ver=ver,
            rated_capacity_wh=capacity,
        )
        for name, device, prefix, family, ver, capacity in rows
    }
    # Venus C on 153 leaves both MACs out of its GetDevice result (taurgis #60).
    profiles["venus-c-153"] = dataclasses.replace(profiles["venus-c-153"], omits_macs=True)
    return profiles


PROFILES: Final[dict[str, MarstekProfile]] = _make_profiles()


# --------------------------------------------------------------------------- state


@dataclass(slots=True)
class ManualSlot:
    """One Manual-mode schedule slot as last written by ES.SetMode."""

    start_minute: int = 0  # minutes after midnight
    end_minute: int = 0
    week_set: int = 0  # bit0 = Monday ... bit6 = Sunday
    power_w: int = 0  # SetMode convention: - charge, + discharge
    enabled: bool = False

    def covers(self, moment: datetime) -> bool:
        """Whether this slot drives the setpoint at `moment` (wall-clock time)."""
        if not self.enabled or not self.week_set & (1 << moment.weekday()):
            return False
        minute = moment.hour * 60 + moment.minute
        if self.start_minute <= self.end_minute:
            return self.start_minute <= minute < self.end_minute
        # An end before the start runs over midnight.
        return minute >= self.start_minute or minute < self.end_minute


@dataclass(slots=True)
class BatteryState:
    """Ground truth in physical units.  Tests may set any field directly.

    Signs: battery_charge_w + = charging; ongrid + = device feeds the house/grid;
    meter (CT) + = import from the public grid; passive/manual power + = discharge.
    """

    rated_capacity_wh: float
    soc: float = 50.0  # %
    temperature_c: float = 25.0
    charge_permitted: bool = True  # Bat.charg_flag
    discharge_permitted: bool = True  # Bat.dischrg_flag
    # Recomputed from mode and loads on every request; read it, don't set it.
    battery_charge_w: float = 0.0
    pv_w: list[float] = field(default_factory=list)  # per channel W
    pv_voltage_v: list[float] = field(default_factory=list)  # per channel V
    offgrid_load_w: float = 0.0  # EPS socket load
    house_load_w: float = 0.0  # household consumption measured by the CT, battery excluded
    # Share of house_load_w on phases a, b, c; the battery feeds phase a.
    phase_split: tuple[float, float, float] = (1.0, 0.0, 0.0)
    ct_connected: bool = True
    grid_available: bool = True
    mode: Mode = Mode.AUTO
    passive_power_w: float = 0.0  # - charge, + discharge
    passive_remaining_s: float = 0.0
    manual_slots: list[ManualSlot] = field(default_factory=list)
    ups_enabled: bool = False
    dod: int = DOD_MAX
    led_on: bool = True
    ble_adv: bool = True
    # Lifetime counters, Wh.
    grid_input_wh: float = 0.0  # drawn from the grid at the AC port (ongrid < 0)
    grid_output_wh: float = 0.0  # fed to the house/grid (ongrid > 0)
    pv_energy_wh: float = 0.0
    load_energy_wh: float = 0.0  # EPS socket energy
    meter_import_wh: float = 0.0  # CT: from the public grid
    meter_export_wh: float = 0.0  # CT: to the public grid
    # Network identity.
    ip: str = "127.0.0.1"
    ble_mac: str = "000000000000"
    wifi_mac: str = "000000000000"
    ap_bssid: str = SHARED_AP_BSSID
    ssid: str = "MarstekLab"
    rssi_dbm: int = -58
    gateway: str = "127.0.0.1"
    netmask: str = "255.255.255.0"
    dns: str = "127.0.0.1"
    ble_connected: bool = False
    # False once the Local API has switched itself off (see Faults.disable_after_requests).
    api_enabled: bool = True

    @property
    def pv_power_w(self) -> float:
        return float(sum(self.pv_w))

    @property
    def ongrid_power_w(self) -> float:
        """AC port power, + = device outputs to the house (pv + discharge = ongrid + offgrid)."""
        return self.pv_power_w - self.battery_charge_w - self.offgrid_load_w

    @property
    def soc_floor(self) -> float:
        """Lowest SOC the battery may be discharged to."""
        return 100.0 - self.dod

    @property
    def remaining_wh(self) -> float:
        return self.soc / 100.0 * self.rated_capacity_wh

    @property
    def meter_phase_w(self) -> tuple[float, float, float]:
        """CT readings per phase, + import; all 0 without a CT."""
        if not self.ct_connected:
            return (0.0, 0.0, 0.0)
        a, b, c = (self.house_load_w * share for share in self.phase_split)
        return (a - self.ongrid_power_w, b, c)

    @property
    def meter_total_w(self) -> float:
        return sum(self.meter_phase_w)

    @property
    def battery_voltage_v(self) -> float:
        # A 16s LFP pack: about 48 V empty to 54 V full is close enough for tests.
        return 48.0 + 0.06 * self.soc

    @property
    def battery_current_a(self) -> float:
        return self.battery_charge_w / self.battery_voltage_v


@dataclass(frozen=True, slots=True)
class PhysicalTruth:
    """What a perfect client would report, in physical units (see BatteryState for signs)."""

    mode: Mode
    soc: float
    battery_power_w: float  # + charging
    ongrid_power_w: float
    offgrid_power_w: float
    pv_power_w: float
    pv_channel_w: tuple[float, ...]
    meter_phase_w: tuple[float, float, float]
    meter_total_w: float
    remaining_wh: float
    rated_capacity_wh: float
    temperature_c: float
    grid_input_wh: float
    grid_output_wh: float
    pv_energy_wh: float
    load_energy_wh: float
    meter_import_wh: float
    meter_export_wh: float
    passive_power_w: float
    passive_remaining_s: float
    dod: int
    led_on: bool
    ble_adv: bool


# --------------------------------------------------------------------------- physics


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


# --------------------------------------------------------------------------- wire encoding


def _raw(value: float, wh_or_w_per_raw: float) -> int:
    return round(value / wh_or_w_per_raw)


def _mode_value(profile: MarstekProfile, mode: Mode) -> JsonValue:
    return MODE_NUMBERS[mode] if profile.mode_as_int else str(mode)


def device_result(profile: MarstekProfile, state: BatteryState) -> JsonObject:
    result: JsonObject = {"device": profile.device, "ver": profile.ver}
    if not profile.omits_macs:
        result["ble_mac"] = state.ble_mac
        result["wifi_mac"] = _reported_wifi_mac(profile, state)
    result["wifi_name"] = state.ssid
    result["ip"] = state.ip
    return result


def _reported_wifi_mac(profile: MarstekProfile, state: BatteryState) -> str:
    return state.ap_bssid if profile.wifi_mac_is_ap_bssid else state.wifi_mac


def wifi_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    return {
        "id": instance,
        "wifi_mac": _reported_wifi_mac(profile, state),
        "ssid": state.ssid,
        "rssi": state.rssi_dbm,
        "sta_ip": state.ip,
        "sta_gate": state.gateway,
        "sta_mask": state.netmask,
        "sta_dns": state.dns,
    }


def ble_result(state: BatteryState, instance: int) -> JsonObject:
    return {
        "id": instance,
        "state": "connect" if state.ble_connected else "disconnect",
        "ble_mac": state.ble_mac,
    }


def battery_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    enc = profile.encoding
    temperature: JsonValue
    if enc.bat_temp_c_per_raw == 1.0:
        temperature = round(state.temperature_c, 1)
    else:
        temperature = _raw(state.temperature_c, enc.bat_temp_c_per_raw)
    result: JsonObject = {
        "id": instance,
        "soc": round(state.soc),
        "charg_flag": state.charge_permitted,
        "dischrg_flag": state.discharge_permitted,
        "bat_temp": temperature,
        "bat_capacity": _raw(state.remaining_wh, enc.bat_capacity_wh_per_raw),
        "rated_capacity": round(state.rated_capacity_wh),
    }
    if profile.battery_electrics:
        result["bat_voltage"] = _raw(state.battery_voltage_v, 0.01)
        result["bat_current"] = _raw(state.battery_current_a, 0.01)
        result["error_code"] = 0
    return result


def _bms_silent(result: JsonObject) -> JsonObject:
    """What a status reads while the BMS does not answer the inverter: nothing stored."""
    zeroed = {"soc", "bat_soc", "bat_capacity", "bat_cap"}
    return {key: 0 if key in zeroed else value for key, value in result.items()}


def es_status_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    enc = profile.encoding
    pv_zero = enc.pv_hardcoded_zero
    bat_cap = state.remaining_wh if profile.bat_cap_is_remaining else state.rated_capacity_wh
    result: JsonObject = {
        "id": instance,
        "bat_soc": round(state.soc),
        "bat_cap": round(bat_cap),
        "pv_power": 0 if pv_zero else round(state.pv_power_w),
        "ongrid_power": round(state.ongrid_power_w),
        "offgrid_power": round(state.offgrid_load_w),
    }
    if enc.bat_power_w_per_raw is not None:
        result["bat_power"] = _raw(state.battery_charge_w, enc.bat_power_w_per_raw)
    load_wh = 0.0 if enc.load_energy_hardcoded_zero else state.load_energy_wh
    result |= {
        "total_pv_energy": 0 if pv_zero else _raw(state.pv_energy_wh, enc.pv_energy_wh_per_raw),
        "total_grid_output_energy": _raw(state.grid_output_wh, enc.grid_energy_wh_per_raw),
        "total_grid_input_energy": _raw(state.grid_input_wh, enc.grid_energy_wh_per_raw),
        "total_load_energy": _raw(load_wh, enc.grid_energy_wh_per_raw),
    }
    return result


def _meter_fields(state: BatteryState, *, live: bool) -> JsonObject:
    phases = [round(p) for p in state.meter_phase_w] if live else [0, 0, 0]
    return {
        "ct_state": int(state.ct_connected) if live else 0,
        "a_power": phases[0],
        "b_power": phases[1],
        "c_power": phases[2],
        "total_power": sum(phases),
        # 0.1 Wh units
        "input_energy": _raw(state.meter_import_wh, 0.1) if live else 0,
        "output_energy": _raw(state.meter_export_wh, 0.1) if live else 0,
    }


def es_mode_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    result: JsonObject = {
        "id": instance,
        "mode": _mode_value(profile, state.mode),
        "ongrid_power": round(state.ongrid_power_w),
        "offgrid_power": round(state.offgrid_load_w),
        "bat_soc": round(state.soc),
    }
    ct_fields = profile.encoding.getmode_ct_fields
    if ct_fields != "absent":
        result |= _meter_fields(state, live=ct_fields == "live")
    return result


def em_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    result: JsonObject = {"id": instance}
    result |= _meter_fields(state, live=True)
    if profile.em_parse_state:
        result["parse_state"] = int(state.ct_connected)
    return result


def pv_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    result: JsonObject = {"id": instance}
    for index in range(profile.pv_channels):
        power = state.pv_w[index] if index < len(state.pv_w) else 0.0
        voltage = state.pv_voltage_v[index] if index < len(state.pv_voltage_v) else 0.0
        channel = index + 1
        scale = profile.encoding.pv1_w_per_raw if channel == 1 else 1.0
        result[f"pv{channel}_power"] = _raw(power, scale)
        result[f"pv{channel}_voltage"] = round(voltage)
        result[f"pv{channel}_current"] = 0  # real firmware reports 0 A while producing
        result[f"pv{channel}_state"] = 1 if power > 0 else 0
    return result


def field_multipliers(profile: MarstekProfile, method: str) -> dict[str, float]:
    """physical = raw * multiplier for every scaled field of `method` on `profile`."""
    enc = profile.encoding
    match method:
        case "ES.GetStatus":
            multipliers: dict[str, float] = {
                "total_pv_energy": enc.pv_energy_wh_per_raw,
                "total_grid_output_energy": enc.grid_energy_wh_per_raw,
                "total_grid_input_energy": enc.grid_energy_wh_per_raw,
                "total_load_energy": enc.grid_energy_wh_per_raw,
            }
            if enc.bat_power_w_per_raw is not None:
                multipliers["bat_power"] = enc.bat_power_w_per_raw
            return multipliers
        case "Bat.GetStatus":
            return {
                "bat_temp": enc.bat_temp_c_per_raw,
                "bat_capacity": enc.bat_capacity_wh_per_raw,
                "bat_voltage": 0.01,
                "bat_current": 0.01,
            }
        case "PV.GetStatus":
            return {"pv1_power": enc.pv1_w_per_raw}
        case "EM.GetStatus" | "ES.GetMode":
            return {"input_energy": 0.1, "output_energy": 0.1}
        case _:
            return {}


# --------------------------------------------------------------------------- requests


class RpcError(Exception):
    """A JSON-RPC error reply."""

    def __init__(self, code: int, data: int | None = None) -> None:
        super().__init__(ERROR_MESSAGES.get(code, "Server error"))
        self.code = code
        self.data = data

    def to_json(self) -> JsonObject:
        error: JsonObject = {"code": self.code, "message": ERROR_MESSAGES.get(self.code, "")}
        if self.data is not None:
            error["data"] = self.data
        return error


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """A datagram that carried a string `method` (recorded before any fault applies)."""

    method: str
    params: JsonObject
    id: int | None  # None when the request's id was missing or not an integer
    addr: tuple[str, int]
    at: float  # simulator clock


@dataclass(frozen=True, slots=True)
class _Request:
    id: int | None
    method: str
    params: JsonValue


@dataclass(frozen=True, slots=True)
class _Malformed:
    code: int
    id: int


class _Ignored:
    """A datagram that looks like a reply (own echo or another device)."""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int_or_none(value: object) -> int | None:
    # bool is an int subclass but never a valid number here.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_datagram(data: bytes) -> _Request | _Malformed | _Ignored:
    """Classify one datagram the way the firmware's cJSON front end does."""
    try:
        decoded: object = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _Malformed(PARSE_ERROR, 0)
    if not isinstance(decoded, dict):
        return _Malformed(INVALID_REQUEST, 0)
    method = decoded.get("method")
    if method is None and any(key in decoded for key in ("result", "error", "src")):
        return _Ignored()
    request_id = _int_or_none(decoded.get("id"))
    if not isinstance(method, str):
        return _Malformed(INVALID_REQUEST, request_id or 0)
    params: JsonValue = decoded.get("params", {})
    return _Request(request_id, method, params)


def encode_reply(
    request_id: int, src: str, *, result: JsonObject | None = None, error: RpcError | None = None
) -> bytes:
    """Compact JSON reply; the firmware keeps ids as uint16."""
    message: JsonObject = {"id": request_id & 0xFFFF, "src": src}
    if error is not None:
        message["error"] = error.to_json()
    else:
        message["result"] = result if result is not None else {}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _require_object(value: JsonValue) -> JsonObject:
    if not isinstance(value, dict):
        raise RpcError(INVALID_PARAMS)
    return value


def _require_int(params: JsonObject, key: str, low: int, high: int) -> int:
    value = _int_or_none(params.get(key))
    if value is None or not low <= value <= high:
        raise RpcError(INVALID_PARAMS)
    return value


def _require_number(params: JsonObject, key: str) -> float:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RpcError(INVALID_PARAMS)
    return float(value)


def _require_hh_mm(params: JsonObject, key: str) -> int:
    value = params.get(key)
    match = _HH_MM.match(value) if isinstance(value, str) else None
    if match is None:
        raise RpcError(INVALID_PARAMS)
    return int(match.group(1)) * 60 + int(match.group(2))


def _instance_id(params: JsonObject) -> int:
    return _int_or_none(params.get("id")) or 0


# --------------------------------------------------------------------------- faults


@dataclass(slots=True)
class Faults:
    """Misbehaviour to inject; all fields may be changed while running."""

    latency: tuple[float, float] = (0.0, 0.0)  # uniform reply delay range, s
    spike_probability: float = 0.0  # chance of an extra spike_latency on a reply
    spike_latency: float = 1.2
    loss: float = 0.0  # chance a datagram is lost on the way in (not executed, no reply)
    reply_loss: float = 0.0  # chance a reply is lost after the request was executed
    duplicates: int = 0  # extra copies of every reply
    busy_next: int = 0  # next N requests: -32700/data 403 with id 0, not executed
    set_result_false_next: int = 0  # next N writes: set_result false, nothing changes
    silent: bool = False  # answer nothing at all
    # Methods this firmware never answers (ES.GetStatus on some Venus E 3.0 builds, B.6).
    unanswered_methods: frozenset[str] = frozenset()
    # The BMS is not talking: status replies report 0 % and 0 Wh stored (F item 16).
    bms_zeros: bool = False
    reply_only_to_api_port: bool = False  # ignore requests whose source port != API port
    reply_to_api_port: bool = False  # send replies to the API port instead of the source port
    broadcast_replies_to: str | None = None  # send replies to (this address, API port)
    late_reply_delay: float | None = None  # fixed reply delay replacing latency, s
    disable_after_requests: int | None = None  # the API switches itself off after N requests
    execute_but_drop_reply_next: int = 0  # next N requests: executed, reply lost
    freeze_on_empty_datagram: bool = False  # a 0-byte datagram switches the API off


@dataclass(slots=True)
class SimulatorCounters:
    datagrams_received: int = 0
    requests_received: int = 0
    invalid_datagrams: int = 0  # not JSON, not an object, or without a string method
    ignored_datagrams: int = 0  # reply-shaped datagrams
    responses: int = 0  # logical replies scheduled (results and errors)
    error_responses: int = 0
    replies_sent: int = 0  # datagrams actually sent, duplicates included
    replies_dropped: int = 0  # replies suppressed by faults


# --------------------------------------------------------------------------- simulator


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


class _DatagramProtocol(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int]], None]) -> None:
        self._on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        host, port = addr[0], addr[1]
        if isinstance(host, str) and isinstance(port, int):
            self._on_datagram(data, (host, port))

    def error_received(self, exc: Exception) -> None:
        # ICMP errors from earlier replies must not stop the device.
        _LOGGER.debug("UDP error: %s", exc)


type _Handler = Callable[[JsonObject], JsonObject | None]


class MarstekSimulator:
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
        self.requests: list[ReceivedRequest] = []
        self.counters = SimulatorCounters()
        self._transport: asyncio.DatagramTransport | None = None
        self._pending_sends: set[asyncio.TimerHandle] = set()
        # Requests that reached a listening API, and (limit, that count when armed) for
        # Faults.disable_after_requests.
        self._requests_answerable = 0
        self._disable_armed: tuple[int, int] | None = None
        self._warned_self_addressed = False
        self._handlers: dict[str, _Handler] = {
            "Marstek.GetDevice": self._get_device,
            "Wifi.GetStatus": lambda p: wifi_result(self.profile, self.state, _instance_id(p)),
            "BLE.GetStatus": lambda p: ble_result(self.state, _instance_id(p)),
            "Bat.GetStatus": lambda p: battery_result(self.profile, self.state, _instance_id(p)),
            "ES.GetStatus": lambda p: es_status_result(self.profile, self.state, _instance_id(p)),
            "ES.GetMode": lambda p: es_mode_result(self.profile, self.state, _instance_id(p)),
            "EM.GetStatus": lambda p: em_result(self.profile, self.state, _instance_id(p)),
            "PV.GetStatus": lambda p: pv_result(self.profile, self.state, _instance_id(p)),
            "ES.SetMode": self._set_mode,
            "DOD.SET": self._set_dod,
            "Led.Ctrl": self._set_led,
            "Ble.Adv": self._set_ble_adv,
        }
        self._refresh_setpoint()

    # ----------------------------------------------------------------- lifecycle

    @property
    def src(self) -> str:
        return f"{self.profile.src_prefix}-{self.state.ble_mac}"

    @property
    def running(self) -> bool:
        return self._transport is not None

    async def start(self) -> None:
        if self._transport is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            # The client binds 0.0.0.0 on the same port; both sides need SO_REUSEADDR.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.setblocking(False)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _DatagramProtocol(self._on_datagram), sock=sock
        )
        self._transport = transport
        self._last_clock = self._clock()
        _LOGGER.debug(
            "%s (%s) listening on %s:%s", self.src, self.profile.name, self.host, self.port
        )

    async def stop(self) -> None:
        for handle in self._pending_sends:
            handle.cancel()
        self._pending_sends.clear()
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
            # Let the loop run the transport's close callbacks so the socket is really gone.
            await asyncio.sleep(0)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- model access

    def advance(self, seconds: float) -> None:
        """Let `seconds` of device time pass (wall clock for schedules moves with it)."""
        if seconds < 0:
            raise ValueError("cannot go back in time")
        self.sync()
        self._wall_offset += seconds
        integrate(self.profile, self.state, seconds, self.wall_now())
        self._refresh_setpoint()

    def sync(self) -> None:
        """Catch the model up with the clock; done automatically on every request."""
        now = self._clock()
        elapsed, self._last_clock = now - self._last_clock, now
        if elapsed > 0:
            integrate(self.profile, self.state, elapsed, self.wall_now())
        self._refresh_setpoint()

    def wall_now(self) -> datetime:
        """The device RTC: the injected wall clock plus everything advance() added."""
        return self._wall_clock() + timedelta(seconds=self._wall_offset)

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
            if factor is not None and _is_number(value) and isinstance(value, int | float):
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

    def _refresh_setpoint(self) -> None:
        self.state.battery_charge_w = battery_setpoint(self.profile, self.state, self.wall_now())

    # ----------------------------------------------------------------- datagram path

    def _on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        self.counters.datagrams_received += 1
        parsed = parse_datagram(data)
        if isinstance(parsed, _Ignored):
            self.counters.ignored_datagrams += 1
            return
        if isinstance(parsed, _Request):
            # Recorded even when no answer follows: tests assert on what the client sent.
            self._record(parsed, addr)
        else:
            self.counters.invalid_datagrams += 1
        if not self._accepts_traffic(addr):
            return
        if not data and self.faults.freeze_on_empty_datagram:
            self.state.api_enabled = False
            return
        if isinstance(parsed, _Malformed):
            if not self._lost_on_the_way_in():
                self._reply(addr, parsed.id, error=RpcError(parsed.code))
            return
        self._on_request(parsed, addr)

    def _record(self, request: _Request, addr: tuple[str, int]) -> None:
        params = request.params if isinstance(request.params, dict) else {}
        self.requests.append(
            ReceivedRequest(request.method, params, request.id, addr, self._clock())
        )
        self.counters.requests_received += 1
        _LOGGER.debug("%s <- %s %s id=%s", self.src, request.method, params, request.id)
        if addr == (self.host, self.port) and not self._warned_self_addressed:
            # A client bound to 0.0.0.0:port on this host sends from host:port, so our replies
            # come back to this more specific socket instead of reaching the client.
            self._warned_self_addressed = True
            _LOGGER.warning(
                "%s: request from its own address %s:%s; replies will loop back to the "
                "simulator. Bind simulators to 127.0.0.2 and up instead",
                self.src,
                *addr,
            )

    def _accepts_traffic(self, addr: tuple[str, int]) -> bool:
        if self.faults.silent or not self.state.api_enabled:
            return False
        return not (self.faults.reply_only_to_api_port and addr[1] != self.port)

    def _lost_on_the_way_in(self) -> bool:
        return self.faults.loss > 0 and self._rng.random() < self.faults.loss

    def _on_request(self, request: _Request, addr: tuple[str, int]) -> None:
        self._requests_answerable += 1
        if self._api_switches_itself_off():
            return
        if self._lost_on_the_way_in() or request.method in self.faults.unanswered_methods:
            return
        if self.faults.busy_next > 0:
            self.faults.busy_next -= 1
            self._reply(addr, 0, error=RpcError(PARSE_ERROR, BUSY_DATA))
            return
        if request.id is None:
            self._reply(addr, 0, error=RpcError(INVALID_REQUEST))
            return
        result, error = self._run(request)
        if self.faults.execute_but_drop_reply_next > 0:
            self.faults.execute_but_drop_reply_next -= 1
            self.counters.replies_dropped += 1
            return
        if error is not None:
            if error.code == METHOD_NOT_FOUND and self.profile.silent_on_unknown:
                return
            self._reply(addr, request.id, error=error)
        elif result is not None:
            self._reply(addr, request.id, result=result)

    def _api_switches_itself_off(self) -> bool:
        """Apply Faults.disable_after_requests, counted from when it was (re)set."""
        limit = self.faults.disable_after_requests
        if limit is None:
            self._disable_armed = None
            return False
        if self._disable_armed is None or self._disable_armed[0] != limit:
            self._disable_armed = (limit, self._requests_answerable - 1)
        if self._requests_answerable - self._disable_armed[1] > limit:
            self.state.api_enabled = False
            return True
        return False

    def _run(self, request: _Request) -> tuple[JsonObject | None, RpcError | None]:
        try:
            self.sync()
            if not isinstance(request.params, dict):
                raise RpcError(INVALID_PARAMS)
            result = self._execute(request.method, request.params)
            if self.faults.bms_zeros and result is not None:
                result = _bms_silent(result)
            return result, None
        except RpcError as error:
            return None, error

    def _execute(self, method: str, params: JsonObject) -> JsonObject | None:
        handler = self._handlers.get(method)
        if handler is None or method not in self.profile.capabilities:
            pv_data = self.profile.pv_not_found_data if method == "PV.GetStatus" else None
            raise RpcError(METHOD_NOT_FOUND, pv_data)
        return handler(params)

    def _reply(
        self,
        addr: tuple[str, int],
        request_id: int,
        *,
        result: JsonObject | None = None,
        error: RpcError | None = None,
    ) -> None:
        self.counters.responses += 1
        if error is not None:
            self.counters.error_responses += 1
        if self.faults.reply_loss > 0 and self._rng.random() < self.faults.reply_loss:
            self.counters.replies_dropped += 1
            return
        payload = encode_reply(request_id, self.src, result=result, error=error)
        destination = self._reply_destination(addr)
        delay = self._reply_delay()
        for _ in range(1 + max(self.faults.duplicates, 0)):
            self._send_later(payload, destination, delay)

    def _reply_destination(self, addr: tuple[str, int]) -> tuple[str, int]:
        if self.faults.broadcast_replies_to is not None:
            return (self.faults.broadcast_replies_to, self.port)
        if self.faults.reply_to_api_port:
            return (addr[0], self.port)
        return addr

    def _reply_delay(self) -> float:
        faults = self.faults
        if faults.late_reply_delay is not None:
            return faults.late_reply_delay
        low, high = faults.latency
        delay = self._rng.uniform(low, high) if high > 0 else max(low, 0.0)
        if faults.spike_probability > 0 and self._rng.random() < faults.spike_probability:
            delay += faults.spike_latency
        return delay

    def _send_later(self, payload: bytes, destination: tuple[str, int], delay: float) -> None:
        if delay <= 0:
            self._send_now(payload, destination, None)
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            self._send_now(payload, destination, handle)

        handle = loop.call_later(delay, fire)
        self._pending_sends.add(handle)

    def _send_now(
        self, payload: bytes, destination: tuple[str, int], handle: asyncio.TimerHandle | None
    ) -> None:
        if handle is not None:
            self._pending_sends.discard(handle)
        if self._transport is None:
            return
        self._transport.sendto(payload, destination)
        self.counters.replies_sent += 1

    # ----------------------------------------------------------------- method handlers

    def _get_device(self, params: JsonObject) -> JsonObject | None:
        wanted = params.get("ble_mac")
        if not isinstance(wanted, str):
            raise RpcError(INVALID_PARAMS)
        if wanted == BROADCAST_BLE_MAC:
            if self.profile.no_broadcast_discovery:
                return None
        elif wanted.lower() != self.state.ble_mac:
            return None  # discovery aimed at another device
        return device_result(self.profile, self.state)

    def _take_set_result_false(self) -> bool:
        if self.faults.set_result_false_next > 0:
            self.faults.set_result_false_next -= 1
            return True
        return False

    def _write(self, params: JsonObject, apply: Callable[[], None]) -> JsonObject:
        """Ack a validated write; a busy device (set_result false) changes nothing."""
        accepted = not self._take_set_result_false()
        if accepted:
            apply()
            self._refresh_setpoint()
        return {"id": _instance_id(params), "set_result": accepted}

    def _set_mode(self, params: JsonObject) -> JsonObject:
        config = _require_object(params.get("config"))
        mode_name = config.get("mode")
        if not isinstance(mode_name, str) or mode_name not in SET_MODE_NAMES:
            raise RpcError(INVALID_PARAMS)
        mode, cfg_key = SET_MODE_NAMES[mode_name]
        if mode is Mode.UPS and not self.profile.ups_supported:
            raise RpcError(METHOD_NOT_FOUND)
        if mode is Mode.PASSIVE and not self.profile.passive_supported:
            raise RpcError(INVALID_PARAMS)
        cfg = _require_object(config.get(cfg_key))
        apply = self._mode_change(mode, cfg)
        return self._write(params, apply)

    def _mode_change(self, mode: Mode, cfg: JsonObject) -> Callable[[], None]:
        """Validate a mode config and return the state change it asks for."""
        state = self.state
        match mode:
            case Mode.MANUAL:
                index, slot = self._parse_manual(cfg)

                def apply_manual() -> None:
                    state.manual_slots[index] = slot
                    state.mode = Mode.MANUAL
                    state.passive_remaining_s = 0.0

                return apply_manual
            case Mode.PASSIVE:
                limit = self.profile.power_limit_w
                power = _require_number(cfg, "power")
                countdown = _require_number(cfg, "cd_time")
                if abs(power) > limit or countdown < 0:
                    raise RpcError(INVALID_PARAMS)

                def apply_passive() -> None:
                    state.mode = Mode.PASSIVE
                    state.passive_power_w = float(int(power))
                    state.passive_remaining_s = float(int(countdown))

                return apply_passive
            case _:
                enable = self._optional_flag(cfg, "enable")

                def apply_simple() -> None:
                    state.mode = mode
                    state.passive_remaining_s = 0.0
                    if mode is Mode.UPS:
                        state.ups_enabled = enable != 0

                return apply_simple

    def _parse_manual(self, cfg: JsonObject) -> tuple[int, ManualSlot]:
        index = _require_int(cfg, "time_num", 0, self.profile.slot_count - 1)
        slot = ManualSlot(
            start_minute=_require_hh_mm(cfg, "start_time"),
            end_minute=_require_hh_mm(cfg, "end_time"),
            week_set=_require_int(cfg, "week_set", 0, 255) & 0x7F,  # bit7 is ignored
            power_w=int(_require_number(cfg, "power")),
            enabled=_require_int(cfg, "enable", 0, 1) == 1,
        )
        return index, slot

    @staticmethod
    def _optional_flag(cfg: JsonObject, key: str) -> int:
        if key not in cfg:
            return 1
        return _require_int(cfg, key, 0, 1)

    def _set_dod(self, params: JsonObject) -> JsonObject:
        value = _require_int(params, "value", DOD_MIN, DOD_MAX)
        return self._write(params, lambda: setattr(self.state, "dod", value))

    def _set_led(self, params: JsonObject) -> JsonObject:
        on = _require_int(params, "state", 0, 1) == 1
        return self._write(params, lambda: setattr(self.state, "led_on", on))

    def _set_ble_adv(self, params: JsonObject) -> JsonObject:
        # Firmware behaviour, not the PDF's: 1 starts advertising.
        on = _require_int(params, "enable", 0, 1) == 1
        return self._write(params, lambda: setattr(self.state, "ble_adv", on))


# --------------------------------------------------------------------------- standalone


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    profile: str
    host: str
    port: int | None  # None: the common --port


def parse_device_spec(text: str) -> DeviceSpec:
    """PROFILE@HOST[:PORT]."""
    profile, sep, where = text.partition("@")
    if not sep or not where:
        raise argparse.ArgumentTypeError(f"expected PROFILE@HOST[:PORT], got {text!r}")
    if profile not in PROFILES:
        raise argparse.ArgumentTypeError(f"unknown profile {profile!r}")
    host, colon, port_text = where.partition(":")
    port: int | None = None
    if colon:
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise argparse.ArgumentTypeError(f"bad port in {text!r}")
        port = int(port_text)
    return DeviceSpec(profile, host, port)


def _parse_latency(text: str) -> tuple[float, float]:
    low_text, _, high_text = text.partition(",")
    try:
        low = float(low_text)
        high = float(high_text) if high_text else low
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected MIN[,MAX] seconds, got {text!r}") from err
    if low < 0 or high < low:
        raise argparse.ArgumentTypeError(f"bad latency range {text!r}")
    return (low, high)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.marstek",
        description="Simulate Marstek Venus batteries speaking the UDP Open API.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.2",
        help="address of the single device (not 127.0.0.1 if a client on this host uses the "
        "same port: it sends from 127.0.0.1:PORT and the replies would loop back here)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="UDP API port")
    parser.add_argument("--profile", default="venus-e3", choices=sorted(PROFILES))
    parser.add_argument(
        "--device",
        action="append",
        type=parse_device_spec,
        default=[],
        metavar="PROFILE@HOST[:PORT]",
        help="add a device (repeatable); replaces --host/--profile",
    )
    parser.add_argument("--latency", type=_parse_latency, help="reply delay MIN[,MAX] seconds")
    parser.add_argument("--loss", type=float, help="probability a request gets no reply")
    parser.add_argument("--duplicates", type=int, help="extra copies of every reply")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ble-mac", help="BLE MAC of the device (single device only)")
    parser.add_argument("--soc", type=float, default=50.0, help="initial SOC %%")
    parser.add_argument("--house-load", type=float, default=350.0, help="CT house load W")
    parser.add_argument("--pv", type=float, default=0.0, help="PV W per channel (Venus A/D)")
    parser.add_argument("--list-profiles", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def _profile_table() -> str:
    header = f"{'name':14} {'device':14} {'src prefix':12} {'ver':>4}  family"
    rows = [
        f"{p.name:14} {p.device:14} {p.src_prefix:12} {p.ver:>4}  {p.family}"
        for p in PROFILES.values()
    ]
    return "\n".join([header, *rows])


def _simulators_from_args(args: argparse.Namespace) -> list[MarstekSimulator]:
    specs: list[DeviceSpec] = args.device or [DeviceSpec(args.profile, args.host, None)]
    if args.ble_mac and len(specs) > 1:
        raise SystemExit("--ble-mac only applies to a single device")
    sims = []
    for index, spec in enumerate(specs):
        try:
            sim = MarstekSimulator(
                profile=spec.profile,
                host=spec.host,
                port=spec.port if spec.port is not None else args.port,
                ble_mac=args.ble_mac,
                seed=args.seed + index,
            )
        except ValueError as err:
            raise SystemExit(str(err)) from err
        if args.latency is not None:
            sim.faults.latency = args.latency
        if args.loss is not None:
            sim.faults.loss = args.loss
        if args.duplicates is not None:
            sim.faults.duplicates = args.duplicates
        pv = [args.pv] * sim.profile.pv_channels
        sim.set_ground_truth(soc=args.soc, house_load_w=args.house_load, pv_w=pv)
        sims.append(sim)
    return sims


async def _serve(sims: list[MarstekSimulator], stop: asyncio.Event) -> None:
    try:
        for sim in sims:
            await sim.start()
            print(
                f"{sim.profile.name}: {sim.src} ver {sim.profile.ver} on {sim.host}:{sim.port}",
                flush=True,
            )
        await stop.wait()
    finally:
        for sim in sims:
            await sim.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.list_profiles:
        print(_profile_table())
        return 0
    sims = _simulators_from_args(args)
    if any(sim.host == "127.0.0.1" for sim in sims):
        _LOGGER.warning(
            "a client on this host bound to the same port will not get replies from "
            "127.0.0.1; prefer 127.0.0.2 and up"
        )
    return run_until_stopped(lambda stop: _serve(sims, stop), verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
