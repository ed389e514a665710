"""VE.Bus select, numbers and switch: snapshots, writes that reach the unit, and refusals."""

from __future__ import annotations

from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.vebus_marstek.const import CONF_PERSIST_SETTINGS, CONF_STANDBY
from simulators.vebus import LINE_STANDBY, MK2_VERSION, SettingWrite, VebusSimulator

from .conftest import make_vebus_entry, vebus_refresh

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

PREFIX = "victron_ve_bus_bcde"
SWITCH_MODE = f"select.{PREFIX}_switch_mode"
INPUT_LIMIT = f"number.{PREFIX}_ac_input_current_limit"
ESS = f"number.{PREFIX}_ess_setpoint"
CHARGE_CURRENT = f"number.{PREFIX}_charge_current"
ABSORPTION = f"number.{PREFIX}_absorption_voltage"
STANDBY = f"switch.{PREFIX}_keep_awake_standby"
CHARGE_CURRENT_ID = 4


@pytest.mark.parametrize(
    ("vebus_model", "vebus_options"),
    [("multiplus-ii-48-3000", {}), ("multiplus-12-500", {"battery_monitor": False})],
    ids=["multiplus-ii-ess", "12v-no-monitor"],
)
@pytest.mark.parametrize("platforms", [[Platform.SELECT], [Platform.NUMBER], [Platform.SWITCH]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    init_vebus: MockConfigEntry,
) -> None:
    """The 12/500 has no ESS assistant: no setpoint number there."""
    await snapshot_platform(hass, entity_registry, snapshot, init_vebus.entry_id)


async def _call(hass: HomeAssistant, domain: str, service: str, data: dict[str, object]) -> None:
    await hass.services.async_call(domain, service, data, blocking=True)


@pytest.mark.usefixtures("init_vebus")
async def test_switch_mode(hass: HomeAssistant, vebus_simulator: VebusSimulator) -> None:
    """Every position reaches the unit; the input current limit is left alone."""
    limit = vebus_simulator.truth().input_current_limit
    assert hass.states.get(SWITCH_MODE).state == "on"
    for option in ("charger_only", "inverter_only", "on"):
        await _call(
            hass,
            "select",
            SERVICE_SELECT_OPTION,
            {ATTR_ENTITY_ID: SWITCH_MODE, ATTR_OPTION: option},
        )
        assert vebus_simulator.truth().switch_mode == option
        assert hass.states.get(SWITCH_MODE).state == option
    assert vebus_simulator.truth().input_current_limit == limit
    assert vebus_simulator.dangerous == []


@pytest.mark.usefixtures("init_vebus")
async def test_input_current_limit(hass: HomeAssistant, vebus_simulator: VebusSimulator) -> None:
    """The limit's range is the unit's; a value outside it is refused before sending."""
    state = hass.states.get(INPUT_LIMIT)
    truth = vebus_simulator.truth()
    assert float(state.state) == truth.input_current_limit
    assert state.attributes["min"] == truth.input_current_limit_min
    assert state.attributes["max"] == truth.input_current_limit_max
    assert state.attributes["step"] == 0.1
    await _call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: INPUT_LIMIT, ATTR_VALUE: 12.5})
    assert vebus_simulator.truth().input_current_limit == 12.5
    assert vebus_simulator.truth().switch_mode == "on"
    assert float(hass.states.get(INPUT_LIMIT).state) == 12.5

    sent = len(vebus_simulator.frames_received)
    with pytest.raises(ServiceValidationError):
        await _call(
            hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: INPUT_LIMIT, ATTR_VALUE: 99}
        )
    assert len(vebus_simulator.frames_received) == sent


@pytest.mark.usefixtures("init_vebus")
async def test_ess_setpoint(hass: HomeAssistant, vebus_simulator: VebusSimulator) -> None:
    """A setpoint is held in RAM only; 0 releases it."""
    assert float(hass.states.get(ESS).state) == 0
    await _call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: ESS, ATTR_VALUE: -1200})
    assert vebus_simulator.truth().ess_setpoint == -1200
    assert float(hass.states.get(ESS).state) == -1200
    writes = vebus_simulator.ram_var_writes
    assert writes
    assert all(write.ram_only for write in writes)
    await _call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: ESS, ATTR_VALUE: 0})
    assert vebus_simulator.truth().ess_setpoint == 0
    assert float(hass.states.get(ESS).state) == 0
    assert vebus_simulator.eeprom_writes == []


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_vebus")
async def test_settings_ram_only(hass: HomeAssistant, vebus_simulator: VebusSimulator) -> None:
    """Charger settings show the unit's limits and go to RAM only by default."""
    state = hass.states.get(CHARGE_CURRENT)
    assert float(state.state) == 35
    assert state.attributes["min"] == 0
    assert state.attributes["max"] == 35
    await _call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: CHARGE_CURRENT, ATTR_VALUE: 20})
    assert vebus_simulator.ram_writes[-1] == SettingWrite(CHARGE_CURRENT_ID, 20)
    assert vebus_simulator.eeprom_writes == []
    assert float(hass.states.get(CHARGE_CURRENT).state) == 20

    absorption = hass.states.get(ABSORPTION)
    assert absorption.attributes["step"] == 0.01
    sent = len(vebus_simulator.frames_received)
    with pytest.raises(ServiceValidationError):
        await _call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: ABSORPTION, ATTR_VALUE: 99})
    assert len(vebus_simulator.frames_received) == sent
    assert vebus_simulator.dangerous == []


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_settings_persisted_when_asked(
    hass: HomeAssistant, vebus_simulator: VebusSimulator
) -> None:
    """With the persist option a changed value is stored once; an equal one is not rewritten."""
    assert vebus_simulator.url is not None
    vebus_entry = make_vebus_entry(vebus_simulator.url, options={CONF_PERSIST_SETTINGS: True})
    vebus_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(vebus_entry.entry_id)
    await hass.async_block_till_done()
    await _call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: CHARGE_CURRENT, ATTR_VALUE: 30})
    assert vebus_simulator.eeprom_writes == [SettingWrite(CHARGE_CURRENT_ID, 30)]
    await _call(hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: CHARGE_CURRENT, ATTR_VALUE: 30})
    assert vebus_simulator.eeprom_writes == [SettingWrite(CHARGE_CURRENT_ID, 30)]
    # Within a minute of the last stored write the client refuses (flash wear).
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass, "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: CHARGE_CURRENT, ATTR_VALUE: 25}
        )
    assert err.value.translation_key == "vebus_invalid_value"
    assert len(vebus_simulator.eeprom_writes) == 1
    assert await hass.config_entries.async_unload(vebus_entry.entry_id)


@pytest.mark.usefixtures("init_vebus")
async def test_standby_switch(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, init_vebus: MockConfigEntry
) -> None:
    """The MK3's standby line follows the switch, and the choice is kept in the options."""
    assert hass.states.get(STANDBY).state == "off"
    await _call(hass, "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: STANDBY})
    assert vebus_simulator.interface.line_state & LINE_STANDBY
    assert hass.states.get(STANDBY).state == "on"
    assert init_vebus.options[CONF_STANDBY] is True
    await _call(hass, "switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: STANDBY})
    assert not vebus_simulator.interface.line_state & LINE_STANDBY
    assert init_vebus.options[CONF_STANDBY] is False


async def test_standby_applied_at_start(
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


@pytest.mark.usefixtures("init_vebus")
async def test_write_to_silent_unit(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, init_vebus: MockConfigEntry
) -> None:
    """A write nobody answers is a translated device error, not a validation error."""
    vebus_simulator.faults.asleep = True
    with pytest.raises(HomeAssistantError) as err:
        await _call(
            hass, "select", SERVICE_SELECT_OPTION, {ATTR_ENTITY_ID: SWITCH_MODE, ATTR_OPTION: "off"}
        )
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key in ("unit_not_answering",)
    vebus_simulator.faults.asleep = False


@pytest.mark.usefixtures("init_vebus")
async def test_write_after_port_closed(
    hass: HomeAssistant, init_vebus: MockConfigEntry, vebus_simulator: VebusSimulator
) -> None:
    """A write on a port that went away says so."""
    await vebus_simulator.stop()
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await _call(
            hass, "select", SERVICE_SELECT_OPTION, {ATTR_ENTITY_ID: SWITCH_MODE, ATTR_OPTION: "off"}
        )
    assert err.value.translation_key == "port_missing"
    await vebus_refresh(init_vebus)
    assert hass.states.get(SWITCH_MODE).state == STATE_UNAVAILABLE


@pytest.mark.parametrize(
    ("vebus_model", "vebus_options"),
    [("multiplus-24-3000", {"interface_version": MK2_VERSION})],
)
@pytest.mark.parametrize("platforms", [[Platform.SWITCH]])
async def test_no_standby_on_mk2(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, init_vebus: MockConfigEntry
) -> None:
    """An MK2 has no standby line: no switch."""
    assert er.async_entries_for_config_entry(entity_registry, init_vebus.entry_id) == []
