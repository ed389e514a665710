"""The device models at their firmware versions: capabilities, limits and quirks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

from .scaling import Family, WireEncoding, derive_encoding
from .wire import BASE_METHODS, PV_NOT_FOUND_DATA, SYSTEM_METHODS

PV_CHANNELS: Final = 4


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
    # A Venus E 3.0 on 148 that answers EM.GetStatus with "method not found" but reports its
    # CT in ES.GetMode (VoltarisOS capture: ct_state 1 and live phases, in AI mode).
    e3_148 = profiles["venus-e3-148"]
    profiles["venus-e3-148-ct-in-mode"] = dataclasses.replace(
        e3_148,
        name="venus-e3-148-ct-in-mode",
        capabilities=e3_148.capabilities - {"EM.GetStatus"},
        encoding=dataclasses.replace(e3_148.encoding, getmode_ct_fields="live"),
    )
    return profiles


PROFILES: Final[dict[str, MarstekProfile]] = _make_profiles()
