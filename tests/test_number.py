"""Numbers of both families: every entity per model, and values that reach the device (a
VE.Bus unit's limits, setpoint and charger settings, in RAM or stored) or are refused.

A battery's depth of discharge is written in tests/test_switch.py, together with the other
write-only settings.
"""

from __future__ import annotations

from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest

from custom_components.vebus_marstek.const import CONF_PERSIST_SETTINGS
from simulators.vebus import SettingWrite, VebusSimulator
from tests.actions import call

from .conftest import MARSTEK_MODELS, VEBUS_CONTROL_UNITS, SnapshotEntities, make_vebus_entry

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

# --- Marstek --------------------------------------------------------------------------------


@MARSTEK_MODELS
@pytest.mark.parametrize("platforms", [[Platform.NUMBER]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_marstek_entities(snapshot_marstek_entities: SnapshotEntities) -> None:
    """The depth of discharge of each model that has system settings (not the Venus E 2.0)."""
    await snapshot_marstek_entities()


# --- VE.Bus ---------------------------------------------------------------------------------

PREFIX = "victron_ve_bus_bcde"
INPUT_LIMIT = f"number.{PREFIX}_ac_input_current_limit"
ESS = f"number.{PREFIX}_ess_setpoint"
CHARGE_CURRENT = f"number.{PREFIX}_charge_current"
ABSORPTION = f"number.{PREFIX}_absorption_voltage"
CHARGE_CURRENT_ID = 4


@VEBUS_CONTROL_UNITS
@pytest.mark.parametrize("platforms", [[Platform.NUMBER]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_vebus_entities(snapshot_vebus_controls: SnapshotEntities) -> None:
    """The 12/500 has no ESS assistant: no setpoint number there."""
    await snapshot_vebus_controls()


@pytest.mark.usefixtures("init_vebus")
async def test_vebus_input_current_limit(
    hass: HomeAssistant, vebus_simulator: VebusSimulator
) -> None:
    """The limit's range is the unit's; a value outside it is refused before sending."""
    state = hass.states.get(INPUT_LIMIT)
    truth = vebus_simulator.truth()
    assert float(state.state) == truth.input_current_limit
    assert state.attributes["min"] == truth.input_current_limit_min
    assert state.attributes["max"] == truth.input_current_limit_max
    assert state.attributes["step"] == 0.1
    await call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: INPUT_LIMIT, ATTR_VALUE: 12.5})
    assert vebus_simulator.truth().input_current_limit == 12.5
    assert vebus_simulator.truth().switch_mode == "on"
    assert float(hass.states.get(INPUT_LIMIT).state) == 12.5

    sent = len(vebus_simulator.frames_received)
    with pytest.raises(ServiceValidationError):
        await call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: INPUT_LIMIT, ATTR_VALUE: 99})
    assert len(vebus_simulator.frames_received) == sent


@pytest.mark.usefixtures("init_vebus")
async def test_vebus_ess_setpoint(hass: HomeAssistant, vebus_simulator: VebusSimulator) -> None:
    """A setpoint is held in RAM only; 0 releases it."""
    assert float(hass.states.get(ESS).state) == 0
    await call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: ESS, ATTR_VALUE: -1200})
    assert vebus_simulator.truth().ess_setpoint == -1200
    assert float(hass.states.get(ESS).state) == -1200
    writes = vebus_simulator.ram_var_writes
    assert writes
    assert all(write.ram_only for write in writes)
    await call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: ESS, ATTR_VALUE: 0})
    assert vebus_simulator.truth().ess_setpoint == 0
    assert float(hass.states.get(ESS).state) == 0
    assert vebus_simulator.eeprom_writes == []


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_vebus")
async def test_vebus_settings_ram_only(
    hass: HomeAssistant, vebus_simulator: VebusSimulator
) -> None:
    """Charger settings show the unit's limits and go to RAM only by default."""
    state = hass.states.get(CHARGE_CURRENT)
    assert float(state.state) == 35
    assert state.attributes["min"] == 0
    assert state.attributes["max"] == 35
    await call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: CHARGE_CURRENT, ATTR_VALUE: 20})
    assert vebus_simulator.ram_writes[-1] == SettingWrite(CHARGE_CURRENT_ID, 20)
    assert vebus_simulator.eeprom_writes == []
    assert float(hass.states.get(CHARGE_CURRENT).state) == 20

    absorption = hass.states.get(ABSORPTION)
    assert absorption.attributes["step"] == 0.01
    sent = len(vebus_simulator.frames_received)
    with pytest.raises(ServiceValidationError):
        await call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: ABSORPTION, ATTR_VALUE: 99})
    assert len(vebus_simulator.frames_received) == sent
    assert vebus_simulator.dangerous == []


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_vebus_settings_persisted_when_asked(
    hass: HomeAssistant, vebus_simulator: VebusSimulator
) -> None:
    """With the persist option a changed value is stored once; an equal one is not rewritten."""
    assert vebus_simulator.url is not None
    vebus_entry = make_vebus_entry(vebus_simulator.url, options={CONF_PERSIST_SETTINGS: True})
    vebus_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(vebus_entry.entry_id)
    await hass.async_block_till_done()
    await call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: CHARGE_CURRENT, ATTR_VALUE: 30})
    assert vebus_simulator.eeprom_writes == [SettingWrite(CHARGE_CURRENT_ID, 30)]
    await call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: CHARGE_CURRENT, ATTR_VALUE: 30})
    assert vebus_simulator.eeprom_writes == [SettingWrite(CHARGE_CURRENT_ID, 30)]
    # Within a minute of the last stored write the client refuses (flash wear).
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: CHARGE_CURRENT, ATTR_VALUE: 25}
        )
    assert err.value.translation_key == "vebus_invalid_value"
    assert len(vebus_simulator.eeprom_writes) == 1
    assert await hass.config_entries.async_unload(vebus_entry.entry_id)
