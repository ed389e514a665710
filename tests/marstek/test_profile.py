"""Firmware profiles: model detection, firmware numbering, capabilities and scaling (B.13)."""

from __future__ import annotations

import pytest

from custom_components.vebus_marstek.marstek.profile import (
    Family,
    family_from_device,
    parse_generation,
    resolve_profile,
)


@pytest.mark.parametrize(
    ("device", "family"),
    [
        ("VenusE", Family.VENUS_E2),
        ("VenusC", Family.VENUS_E2),
        ("HMG-50", Family.VENUS_E2),
        ("VenusE 3.0", Family.VENUS_E3),
        ("VNSE3-0", Family.VENUS_E3),
        ("Venus A", Family.VENUS_A),
        ("VenusA", Family.VENUS_A),
        ("VenusE Pro", Family.VENUS_A),
        ("VenusD", Family.VENUS_D),
        ("Venus D", Family.VENUS_D),
        ("Venus E mini", Family.VENUS_E_MINI),
        ("VNSEM-0", Family.VENUS_E_MINI),
        ("Venus E 4.0", Family.UNKNOWN),
        ("", Family.UNKNOWN),
        (None, Family.UNKNOWN),
    ],
)
def test_family_is_matched_exactly_not_by_substring(device: str | None, family: Family) -> None:
    """ "VenusE" (E 2.0) must not swallow "VenusE 3.0" or "Venus E mini"."""
    assert family_from_device(device) is family


@pytest.mark.parametrize(
    ("ver", "generation"),
    [
        (150, 150),
        ("150", 150),
        ("148.3", 148),
        (1487, 148),
        (1581, 158),
        (1508, 150),
        (301, 301),
        (147.0, 147),
        ("v153", 153),
        (0, None),
        (True, None),
        (None, None),
        ("abc", None),
        ([150], None),
    ],
)
def test_firmware_generation(ver: object, generation: int | None) -> None:
    assert parse_generation(ver) == generation


def test_venus_e2_early_firmware_uses_tenths_and_ten_wh_units() -> None:
    profile = resolve_profile("VenusE", 153)
    assert profile.battery_power_scale == 0.1
    assert profile.grid_energy_scale == 10
    assert profile.capacity_scale == 10
    assert profile.temperature_scale == 1.0  # plain degrees until 154
    assert not profile.has_meter  # EM.GetStatus exists from 155
    assert profile.reset_prone


def test_venus_e2_current_firmware() -> None:
    profile = resolve_profile("VenusE", 156)
    assert profile.battery_power_scale == 1
    assert profile.grid_energy_scale == 100
    assert profile.temperature_scale == 10  # tens of degrees: 2.0 is 20 degC (jaapp #67)
    assert profile.has_meter
    assert not profile.has_pv
    assert not profile.has_system_settings
    assert not profile.has_ups
    assert not profile.reset_prone
    assert profile.max_power_w == 2500


def test_venus_e3_139_scales_temperature_capacity_and_power() -> None:
    profile = resolve_profile("VenusE 3.0", 139)
    assert (profile.temperature_scale, profile.capacity_scale) == (0.1, 10)
    assert profile.battery_power_scale == 0.1
    assert profile.reset_prone
    assert not profile.has_system_settings


def test_venus_e3_150() -> None:
    profile = resolve_profile("VenusE 3.0", 150)
    assert profile.model == "Venus E 3.0"
    assert profile.has_system_settings
    assert profile.has_ups
    assert profile.has_meter
    assert not profile.has_pv
    assert profile.pv_energy_scale == 10
    assert profile.grid_energy_scale == 1
    assert not profile.reset_prone
    assert profile.manual_slots == 10


@pytest.mark.parametrize(("ver", "pv_energy_scale"), [(147, 1), (148, 1), (149, 10), (1487, 1)])
def test_venus_a_pv_energy_scale_changes_at_149(ver: int, pv_energy_scale: float) -> None:
    profile = resolve_profile("Venus A", ver)
    assert profile.pv_energy_scale == pv_energy_scale
    assert profile.pv_channels == 4
    assert profile.pv1_power_scale == 0.1
    assert profile.max_power_w == 1500


def test_venus_d_and_mini() -> None:
    venus_d = resolve_profile("VenusD", 151)
    assert (venus_d.max_power_w, venus_d.has_ups, venus_d.has_pv) == (2200, True, True)
    mini = resolve_profile("Venus E mini", 301)
    assert mini.manual_slots == 6
    assert not mini.accepts_passive
    assert mini.has_system_settings


def test_firmware_148_holds_back_mode_readback() -> None:
    assert resolve_profile("Venus A", "148.3").mode_readback_reverts
    assert not resolve_profile("Venus A", 149).mode_readback_reverts


def test_unknown_model_gets_conservative_capabilities() -> None:
    profile = resolve_profile("Venus X", 200)
    assert profile.family is Family.UNKNOWN
    assert not profile.has_system_settings
    assert not profile.has_ups
    assert not profile.reset_prone
