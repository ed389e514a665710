"""Actions: Passive mode and Manual schedules, and input that never reaches the battery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.vebus_marstek.const import DOMAIN
from custom_components.vebus_marstek.marstek import PassiveRequest
from simulators.marstek import MarstekSimulator, Mode
from tests.registry import our_device


@pytest.fixture
def device_id(hass: HomeAssistant, init_integration: MockConfigEntry) -> str:
    """The registry id of the simulated battery."""
    return our_device(hass, "50:37:cd:7f:1e:c6").id


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True)


async def test_set_passive_mode(
    hass: HomeAssistant, device_id: str, simulator: MarstekSimulator
) -> None:
    """Power and duration reach the battery; the default duration is an hour."""
    await _call(hass, "set_passive_mode", {"device_id": device_id, "power": -1500})
    assert simulator.state.mode is Mode.PASSIVE
    assert simulator.state.passive_power_w == -1500
    params = simulator.requests_for("ES.SetMode")[-1].params["config"]["passive_cfg"]
    assert params == {"power": -1500, "cd_time": 3600}
    # ES.GetMode cannot report power or end: they are shown as written.
    assert hass.states.get("sensor.venus_e_3_0_1ec6_passive_power").state == "-1500"
    ends = dt_util.parse_datetime(
        hass.states.get("sensor.venus_e_3_0_1ec6_passive_mode_ends").state
    )
    assert ends is not None
    assert abs((ends - dt_util.utcnow()).total_seconds() - 3600) < 5


async def test_refresh_passive_mode_keeps_power_and_end(
    hass: HomeAssistant, device_id: str, simulator: MarstekSimulator
) -> None:
    """The last request is sent again with the time it has left; without one, nothing is."""
    sent = len(simulator.requests)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "refresh_passive_mode", {"device_id": device_id})
    assert err.value.translation_key == "no_passive_request"
    assert len(simulator.requests) == sent

    await _call(hass, "set_passive_mode", {"device_id": device_id, "power": -1500, "duration": 600})
    coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator
    # As if 200 of its 600 seconds had passed, and the battery had dropped out of Passive.
    ends_at = dt_util.utcnow() + timedelta(seconds=400)
    remembered = PassiveRequest(power_w=-1500, duration_s=600, ends_at=ends_at)
    coordinator.remember_settings(passive=remembered)
    simulator.set_ground_truth(mode=Mode.AUTO)
    await _call(hass, "refresh_passive_mode", {"device_id": device_id})
    assert simulator.state.mode is Mode.PASSIVE
    params = simulator.requests_for("ES.SetMode")[-1].params["config"]["passive_cfg"]
    assert params["power"] == -1500
    assert params["cd_time"] in (399, 400)
    assert abs((coordinator.settings.passive.ends_at - ends_at).total_seconds()) < 2

    coordinator.remember_settings(
        passive=PassiveRequest(
            power_w=-1500, duration_s=600, ends_at=dt_util.utcnow() - timedelta(seconds=1)
        )
    )
    sent = len(simulator.requests)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "refresh_passive_mode", {"device_id": device_id})
    assert err.value.translation_key == "no_passive_request"
    assert len(simulator.requests) == sent


async def test_set_and_clear_manual_schedule(
    hass: HomeAssistant, device_id: str, simulator: MarstekSimulator
) -> None:
    """A slot with days and times is written as the device expects; clearing disables it."""
    await _call(
        hass,
        "set_manual_schedule",
        {
            "device_id": device_id,
            "slot": 2,
            "start_time": "12:00",
            "end_time": "14:30",
            "days": ["mon", "sun"],
            "power": -800,
        },
    )
    cfg = simulator.requests_for("ES.SetMode")[-1].params["config"]["manual_cfg"]
    assert cfg == {
        "time_num": 2,
        "start_time": "12:00",
        "end_time": "14:30",
        "week_set": 0b1000001,
        "power": -800,
        "enable": 1,
    }
    settings = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator.settings
    assert settings.as_dict()["manual_slots"] == {
        "2": {
            "slot": 2,
            "start": "12:00",
            "end": "14:30",
            "weekdays": [0, 6],
            "power_w": -800,
            "enabled": True,
        }
    }
    await _call(hass, "clear_manual_schedule", {"device_id": device_id, "slot": 2})
    cfg = simulator.requests_for("ES.SetMode")[-1].params["config"]["manual_cfg"]
    assert cfg["time_num"] == 2
    assert cfg["enable"] == 0
    settings = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator.settings
    assert settings.manual_slots[2].enabled is False


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("set_passive_mode", {"power": 3000}, "power_out_of_range"),
        ("set_passive_mode", {"power": 100, "duration": 0}, "duration_out_of_range"),
        ("set_passive_mode", {"power": 100, "duration": 90000}, "duration_out_of_range"),
        (
            "set_manual_schedule",
            {"slot": 10, "start_time": "01:00", "end_time": "02:00", "power": 10},
            "slot_out_of_range",
        ),
        (
            "set_manual_schedule",
            {"slot": 0, "start_time": "14:00", "end_time": "12:00", "power": 10},
            "end_not_after_start",
        ),
        (
            "set_manual_schedule",
            {"slot": 0, "start_time": "12:00", "end_time": "14:00", "power": -2600},
            "power_out_of_range",
        ),
        (
            "set_manual_schedule",
            {"slot": 0, "start_time": "12:00", "end_time": "14:00", "power": 5, "days": []},
            "no_days",
        ),
        ("clear_manual_schedule", {"slot": -1}, "slot_out_of_range"),
    ],
)
async def test_invalid_input_sends_nothing(
    hass: HomeAssistant,
    device_id: str,
    simulator: MarstekSimulator,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    """Every validation error is translated, and the battery hears nothing."""
    sent = len(simulator.requests)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, service, {"device_id": device_id, **data})
    assert err.value.translation_key == key
    assert len(simulator.requests) == sent
    settings = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator.settings
    assert settings.passive is None
    assert settings.manual_slots == {}


async def test_unknown_and_foreign_devices(
    hass: HomeAssistant,
    device_id: str,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Only loaded batteries of this integration can be addressed."""
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_passive_mode", {"device_id": "nope", "power": 1})
    assert err.value.translation_key == "device_not_found"

    other_entry = MockConfigEntry(domain="other")
    other_entry.add_to_hass(hass)
    other = device_registry.async_get_or_create(
        config_entry_id=other_entry.entry_id, identifiers={("other", "1")}, name="Other"
    )
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_passive_mode", {"device_id": other.id, "power": 1})
    assert err.value.translation_key == "not_marstek_device"

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_passive_mode", {"device_id": device_id, "power": 1})
    assert err.value.translation_key == "entry_not_loaded"


@pytest.mark.parametrize("profile", ["venus-e-mini"])
async def test_passive_not_supported(
    hass: HomeAssistant, device_id: str, simulator: MarstekSimulator
) -> None:
    """The Venus E mini rejects Passive mode: refuse before sending."""
    sent = len(simulator.requests)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_passive_mode", {"device_id": device_id, "power": 100})
    assert err.value.translation_key == "passive_not_supported"
    assert len(simulator.requests) == sent


async def test_device_failures(
    hass: HomeAssistant, device_id: str, simulator: MarstekSimulator
) -> None:
    """A silent or refusing battery gives translated Home Assistant errors."""
    simulator.faults.silent = True
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "set_passive_mode", {"device_id": device_id, "power": 100})
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_domain == DOMAIN
    # Silence to the write and to the read-back: nobody knows whether it took effect.
    assert err.value.translation_key == "write_unconfirmed"
    # So it is not shown as the last written Passive power either.
    assert hass.states.get("sensor.venus_e_3_0_1ec6_passive_power").state == "unknown"
