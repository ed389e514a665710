"""Switches of both families: every entity per model, a battery's write-only settings and a
VE.Bus unit's standby line.

A battery's LED, Bluetooth advertising and depth of discharge (a number) cannot be read back:
one test here writes all three.
"""

from __future__ import annotations

from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.vebus_marstek.const import CONF_STANDBY
from simulators.marstek import MarstekSimulator
from simulators.vebus import LINE_STANDBY, MK2_VERSION, VebusSimulator
from tests.actions import call

from .conftest import MARSTEK_MODELS, VEBUS_CONTROL_UNITS, SnapshotEntities, make_vebus_entry

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

# --- Marstek --------------------------------------------------------------------------------

DOD = "number.venus_e_3_0_1ec6_depth_of_discharge"
LED = "switch.venus_e_3_0_1ec6_led"
BLE_ADV = "switch.venus_e_3_0_1ec6_bluetooth_advertising"


@MARSTEK_MODELS
@pytest.mark.parametrize("platforms", [[Platform.SWITCH]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_marstek_entities(snapshot_marstek_entities: SnapshotEntities) -> None:
    """LED and Bluetooth advertising of each model that has system settings (not the Venus
    E 2.0)."""
    await snapshot_marstek_entities()


@pytest.mark.usefixtures("init_integration")
async def test_marstek_dod_and_switches(hass: HomeAssistant, simulator: MarstekSimulator) -> None:
    """Write-only settings are unknown until written, then show what was written."""
    for entity_id in (DOD, LED, BLE_ADV):
        assert hass.states.get(entity_id).state == STATE_UNKNOWN
    await hass.services.async_call(
        "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: DOD, ATTR_VALUE: 70}, True
    )
    assert simulator.state.dod == 70
    assert hass.states.get(DOD).state == "70.0"

    await hass.services.async_call("switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: LED}, True)
    assert simulator.state.led_on is False
    assert hass.states.get(LED).state == "off"
    await hass.services.async_call("switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: LED}, True)
    assert simulator.state.led_on is True
    await hass.services.async_call("switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: BLE_ADV}, True)
    assert simulator.state.ble_adv is False
    assert hass.states.get(BLE_ADV).state == "off"


@pytest.mark.usefixtures("init_integration")
async def test_marstek_unconfirmed_write(hass: HomeAssistant, simulator: MarstekSimulator) -> None:
    """A setting write without an answer cannot be confirmed: say so, remember nothing."""
    simulator.faults.execute_but_drop_reply_next = 1
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: LED}, True)
    assert err.value.translation_key == "write_unconfirmed"
    assert hass.states.get(LED).state == STATE_UNKNOWN


# --- VE.Bus ---------------------------------------------------------------------------------

STANDBY = "switch.victron_ve_bus_bcde_keep_awake_standby"


@VEBUS_CONTROL_UNITS
@pytest.mark.parametrize("platforms", [[Platform.SWITCH]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_vebus_entities(snapshot_vebus_controls: SnapshotEntities) -> None:
    """The standby line of each unit behind an MK3."""
    await snapshot_vebus_controls()


@pytest.mark.usefixtures("init_vebus")
async def test_vebus_standby_switch(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, init_vebus: MockConfigEntry
) -> None:
    """The MK3's standby line follows the switch, and the choice is kept in the options."""
    assert hass.states.get(STANDBY).state == "off"
    await call(hass, "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: STANDBY})
    assert vebus_simulator.interface.line_state & LINE_STANDBY
    assert hass.states.get(STANDBY).state == "on"
    assert init_vebus.options[CONF_STANDBY] is True
    await call(hass, "switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: STANDBY})
    assert not vebus_simulator.interface.line_state & LINE_STANDBY
    assert init_vebus.options[CONF_STANDBY] is False


async def test_vebus_standby_applied_at_start(
    hass: HomeAssistant, vebus_simulator: VebusSimulator
) -> None:
    """The standby option holds the line from the start."""
    assert vebus_simulator.url is not None
    vebus_entry = make_vebus_entry(vebus_simulator.url, options={CONF_STANDBY: True})
    vebus_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(vebus_entry.entry_id)
    await hass.async_block_till_done()
    assert vebus_simulator.interface.line_state & LINE_STANDBY
    assert hass.states.get(STANDBY).state == "on"
    assert await hass.config_entries.async_unload(vebus_entry.entry_id)


@pytest.mark.parametrize(
    ("vebus_model", "vebus_options"),
    [("multiplus-24-3000", {"interface_version": MK2_VERSION})],
)
@pytest.mark.parametrize("platforms", [[Platform.SWITCH]])
async def test_vebus_no_standby_on_mk2(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, init_vebus: MockConfigEntry
) -> None:
    """An MK2 has no standby line: no switch."""
    assert er.async_entries_for_config_entry(entity_registry, init_vebus.entry_id) == []
