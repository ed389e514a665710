"""Actions of both families, and input that never reaches the device: a battery's Passive
mode and Manual schedules, a VE.Bus unit's ESS setpoint and remote switch, and devices of the
wrong family."""

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
from simulators.vebus import VebusSimulator
from tests.actions import call_action
from tests.registry import our_device

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

# --- Marstek --------------------------------------------------------------------------------


async def test_marstek_set_passive_mode(
    hass: HomeAssistant, marstek_device_id: str, simulator: MarstekSimulator
) -> None:
    """Power and duration reach the battery; the default duration is an hour."""
    await call_action(hass, "set_passive_mode", {"device_id": marstek_device_id, "power": -1500})
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


async def test_marstek_refresh_passive_mode_keeps_power_and_end(
    hass: HomeAssistant, marstek_device_id: str, simulator: MarstekSimulator
) -> None:
    """The last request is sent again with the time it has left; without one, nothing is."""
    sent = len(simulator.requests)
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, "refresh_passive_mode", {"device_id": marstek_device_id})
    assert err.value.translation_key == "no_passive_request"
    assert len(simulator.requests) == sent

    await call_action(
        hass, "set_passive_mode", {"device_id": marstek_device_id, "power": -1500, "duration": 600}
    )
    coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data
    # As if 200 of its 600 seconds had passed, and the battery had dropped out of Passive.
    ends_at = dt_util.utcnow() + timedelta(seconds=400)
    remembered = PassiveRequest(power_w=-1500, duration_s=600, ends_at=ends_at)
    coordinator.remember_settings(passive=remembered)
    simulator.set_ground_truth(mode=Mode.AUTO)
    await call_action(hass, "refresh_passive_mode", {"device_id": marstek_device_id})
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
        await call_action(hass, "refresh_passive_mode", {"device_id": marstek_device_id})
    assert err.value.translation_key == "no_passive_request"
    assert len(simulator.requests) == sent


async def test_marstek_set_and_clear_manual_schedule(
    hass: HomeAssistant, marstek_device_id: str, simulator: MarstekSimulator
) -> None:
    """A slot with days and times is written as the device expects; clearing disables it."""
    await call_action(
        hass,
        "set_manual_schedule",
        {
            "device_id": marstek_device_id,
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
    settings = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.settings
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
    await call_action(hass, "clear_manual_schedule", {"device_id": marstek_device_id, "slot": 2})
    cfg = simulator.requests_for("ES.SetMode")[-1].params["config"]["manual_cfg"]
    assert cfg["time_num"] == 2
    assert cfg["enable"] == 0
    settings = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.settings
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
async def test_marstek_invalid_input_sends_nothing(
    hass: HomeAssistant,
    marstek_device_id: str,
    simulator: MarstekSimulator,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    """Every validation error is translated, and the battery hears nothing."""
    sent = len(simulator.requests)
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, service, {"device_id": marstek_device_id, **data})
    assert err.value.translation_key == key
    assert len(simulator.requests) == sent
    settings = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.settings
    assert settings.passive is None
    assert settings.manual_slots == {}


async def test_marstek_unknown_and_foreign_devices(
    hass: HomeAssistant,
    marstek_device_id: str,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Only loaded batteries of this integration can be addressed."""
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, "set_passive_mode", {"device_id": "nope", "power": 1})
    assert err.value.translation_key == "device_not_found"

    other_entry = MockConfigEntry(domain="other")
    other_entry.add_to_hass(hass)
    other = device_registry.async_get_or_create(
        config_entry_id=other_entry.entry_id, identifiers={("other", "1")}, name="Other"
    )
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, "set_passive_mode", {"device_id": other.id, "power": 1})
    assert err.value.translation_key == "not_marstek_device"

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, "set_passive_mode", {"device_id": marstek_device_id, "power": 1})
    assert err.value.translation_key == "entry_not_loaded"


@pytest.mark.parametrize("profile", ["venus-e-mini"])
async def test_marstek_passive_not_supported(
    hass: HomeAssistant, marstek_device_id: str, simulator: MarstekSimulator
) -> None:
    """The Venus E mini rejects Passive mode: refuse before sending."""
    sent = len(simulator.requests)
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, "set_passive_mode", {"device_id": marstek_device_id, "power": 100})
    assert err.value.translation_key == "passive_not_supported"
    assert len(simulator.requests) == sent


async def test_marstek_device_failures(
    hass: HomeAssistant, marstek_device_id: str, simulator: MarstekSimulator
) -> None:
    """A silent or refusing battery gives translated Home Assistant errors."""
    simulator.faults.silent = True
    with pytest.raises(HomeAssistantError) as err:
        await call_action(hass, "set_passive_mode", {"device_id": marstek_device_id, "power": 100})
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_domain == DOMAIN
    # Silence to the write and to the read-back: nobody knows whether it took effect.
    assert err.value.translation_key == "write_unconfirmed"
    # So it is not shown as the last written Passive power either.
    assert hass.states.get("sensor.venus_e_3_0_1ec6_passive_power").state == "unknown"


# --- VE.Bus ---------------------------------------------------------------------------------


async def test_vebus_set_ess_setpoint(
    hass: HomeAssistant, vebus_device_id: str, vebus_simulator: VebusSimulator
) -> None:
    """A setpoint is held (RAM only); with a duration too; 0 without one releases it."""
    await call_action(hass, "set_ess_setpoint", {"device_id": vebus_device_id, "power": -1500})
    assert vebus_simulator.truth().ess_setpoint == -1500
    await call_action(
        hass, "set_ess_setpoint", {"device_id": vebus_device_id, "power": 800, "duration": 600}
    )
    assert vebus_simulator.truth().ess_setpoint == 800
    await call_action(hass, "set_ess_setpoint", {"device_id": vebus_device_id, "power": 0})
    assert vebus_simulator.truth().ess_setpoint == 0
    assert all(write.ram_only for write in vebus_simulator.ram_var_writes)
    assert vebus_simulator.eeprom_writes == []
    assert vebus_simulator.dangerous == []


async def test_vebus_set_switch_mode(
    hass: HomeAssistant, vebus_device_id: str, vebus_simulator: VebusSimulator
) -> None:
    """Without a limit the present one stays; with one it is set together with the mode."""
    limit = vebus_simulator.truth().input_current_limit
    await call_action(
        hass, "set_switch_mode", {"device_id": vebus_device_id, "mode": "charger_only"}
    )
    truth = vebus_simulator.truth()
    assert truth.switch_mode == "charger_only"
    assert truth.input_current_limit == limit
    await call_action(
        hass, "set_switch_mode", {"device_id": vebus_device_id, "mode": "on", "current_limit": 10}
    )
    truth = vebus_simulator.truth()
    assert truth.switch_mode == "on"
    assert truth.input_current_limit == 10


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("set_ess_setpoint", {"power": 40000}, "setpoint_out_of_range"),
        ("set_ess_setpoint", {"power": 100, "duration": 0}, "duration_out_of_range"),
        ("set_ess_setpoint", {"power": 100, "duration": 90000}, "duration_out_of_range"),
        ("set_switch_mode", {"mode": "sideways"}, "invalid_switch_mode"),
        ("set_switch_mode", {"mode": "on", "current_limit": 99}, "current_limit_out_of_range"),
    ],
)
async def test_vebus_invalid_input_sends_nothing(
    hass: HomeAssistant,
    vebus_device_id: str,
    vebus_simulator: VebusSimulator,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    """Every validation error is translated, and the unit hears nothing."""
    sent = len(vebus_simulator.frames_received)
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, service, {"device_id": vebus_device_id, **data})
    assert err.value.translation_key == key
    assert len(vebus_simulator.frames_received) == sent


@pytest.mark.parametrize(("vebus_model", "vebus_options"), [("multiplus-12-500", {})])
async def test_vebus_no_ess_assistant(
    hass: HomeAssistant, vebus_device_id: str, vebus_simulator: VebusSimulator
) -> None:
    """A unit without the ESS assistant has no setpoint to hold."""
    sent = len(vebus_simulator.frames_received)
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, "set_ess_setpoint", {"device_id": vebus_device_id, "power": 100})
    assert err.value.translation_key == "ess_not_installed"
    assert len(vebus_simulator.frames_received) == sent


# --- Both families --------------------------------------------------------------------------


async def test_targets_of_the_wrong_kind(
    hass: HomeAssistant,
    vebus_device_id: str,
    init_vebus: MockConfigEntry,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    simulator: MarstekSimulator,
) -> None:
    """A battery is not a VE.Bus unit and the other way round; unloaded units are refused."""
    battery = our_device(hass, "50:37:cd:7f:1e:c6")
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, "set_switch_mode", {"device_id": battery.id, "mode": "on"})
    assert err.value.translation_key == "not_vebus_device"
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, "set_passive_mode", {"device_id": vebus_device_id, "power": 100})
    assert err.value.translation_key == "not_marstek_device"

    assert await hass.config_entries.async_unload(init_vebus.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, "set_switch_mode", {"device_id": vebus_device_id, "mode": "on"})
    assert err.value.translation_key == "entry_not_loaded"
