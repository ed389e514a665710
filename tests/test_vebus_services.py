"""VE.Bus actions: ESS setpoint and remote switch, and input that never reaches the unit."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.vebus_marstek.const import DOMAIN
from simulators.marstek import MarstekSimulator
from simulators.vebus import VebusSimulator
from tests.registry import our_device

from .conftest import VEBUS_SERIAL

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]


@pytest.fixture
def device_id(hass: HomeAssistant, init_vebus: MockConfigEntry) -> str:
    """The registry id of the simulated unit."""
    return our_device(hass, VEBUS_SERIAL).id


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True)


async def test_set_ess_setpoint(
    hass: HomeAssistant, device_id: str, vebus_simulator: VebusSimulator
) -> None:
    """A setpoint is held (RAM only); with a duration too; 0 without one releases it."""
    await _call(hass, "set_ess_setpoint", {"device_id": device_id, "power": -1500})
    assert vebus_simulator.truth().ess_setpoint == -1500
    await _call(hass, "set_ess_setpoint", {"device_id": device_id, "power": 800, "duration": 600})
    assert vebus_simulator.truth().ess_setpoint == 800
    await _call(hass, "set_ess_setpoint", {"device_id": device_id, "power": 0})
    assert vebus_simulator.truth().ess_setpoint == 0
    assert all(write.ram_only for write in vebus_simulator.ram_var_writes)
    assert vebus_simulator.eeprom_writes == []
    assert vebus_simulator.dangerous == []


async def test_set_switch_mode(
    hass: HomeAssistant, device_id: str, vebus_simulator: VebusSimulator
) -> None:
    """Without a limit the present one stays; with one it is set together with the mode."""
    limit = vebus_simulator.truth().input_current_limit
    await _call(hass, "set_switch_mode", {"device_id": device_id, "mode": "charger_only"})
    truth = vebus_simulator.truth()
    assert truth.switch_mode == "charger_only"
    assert truth.input_current_limit == limit
    await _call(
        hass, "set_switch_mode", {"device_id": device_id, "mode": "on", "current_limit": 10}
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
async def test_invalid_input_sends_nothing(
    hass: HomeAssistant,
    device_id: str,
    vebus_simulator: VebusSimulator,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    """Every validation error is translated, and the unit hears nothing."""
    sent = len(vebus_simulator.frames_received)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, service, {"device_id": device_id, **data})
    assert err.value.translation_key == key
    assert len(vebus_simulator.frames_received) == sent


@pytest.mark.parametrize(("vebus_model", "vebus_options"), [("multiplus-12-500", {})])
async def test_no_ess_assistant(
    hass: HomeAssistant, device_id: str, vebus_simulator: VebusSimulator
) -> None:
    """A unit without the ESS assistant has no setpoint to hold."""
    sent = len(vebus_simulator.frames_received)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_ess_setpoint", {"device_id": device_id, "power": 100})
    assert err.value.translation_key == "ess_not_installed"
    assert len(vebus_simulator.frames_received) == sent


async def test_targets_of_the_wrong_kind(
    hass: HomeAssistant,
    device_id: str,
    init_vebus: MockConfigEntry,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    simulator: MarstekSimulator,
) -> None:
    """A battery is not a VE.Bus unit and the other way round; unloaded units are refused."""
    battery = our_device(hass, "50:37:cd:7f:1e:c6")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_switch_mode", {"device_id": battery.id, "mode": "on"})
    assert err.value.translation_key == "not_vebus_device"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_passive_mode", {"device_id": device_id, "power": 100})
    assert err.value.translation_key == "not_marstek_device"

    assert await hass.config_entries.async_unload(init_vebus.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_switch_mode", {"device_id": device_id, "mode": "on"})
    assert err.value.translation_key == "entry_not_loaded"
