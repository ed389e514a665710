"""Selects of both families: every entity per model, and options that reach the device
(a battery's operating mode, a VE.Bus unit's switch mode) or are refused."""

from __future__ import annotations

from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulators.marstek import MarstekSimulator, Mode
from simulators.vebus import VebusSimulator
from tests.actions import call

from .conftest import MARSTEK_MODELS, VEBUS_CONTROL_UNITS, SnapshotEntities, vebus_refresh

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

# --- Marstek --------------------------------------------------------------------------------

MODE = "select.venus_e_3_0_1ec6_operating_mode"


@MARSTEK_MODELS
@pytest.mark.parametrize("platforms", [[Platform.SELECT]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_marstek_entities(snapshot_marstek_entities: SnapshotEntities) -> None:
    """The operating mode of each model."""
    await snapshot_marstek_entities()


@pytest.mark.usefixtures("init_integration")
async def test_marstek_select_modes(hass: HomeAssistant, simulator: MarstekSimulator) -> None:
    """Auto, AI, UPS and Manual reach the device; Passive points to its action."""
    assert hass.states.get(MODE).state == "auto"
    for option, mode in (("ai", Mode.AI), ("ups", Mode.UPS), ("auto", Mode.AUTO)):
        await hass.services.async_call(
            "select", SERVICE_SELECT_OPTION, {ATTR_ENTITY_ID: MODE, ATTR_OPTION: option}, True
        )
        assert simulator.state.mode is mode
    await hass.services.async_call(
        "select", SERVICE_SELECT_OPTION, {ATTR_ENTITY_ID: MODE, ATTR_OPTION: "manual"}, True
    )
    assert simulator.state.mode is Mode.MANUAL
    # Switching to Manual must not overwrite the user's slot 0.
    manual = simulator.requests_for("ES.SetMode")[-1].params["config"]
    assert manual["manual_cfg"]["time_num"] == 9
    assert manual["manual_cfg"]["enable"] == 0

    sent = len(simulator.requests)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "select", SERVICE_SELECT_OPTION, {ATTR_ENTITY_ID: MODE, ATTR_OPTION: "passive"}, True
        )
    assert err.value.translation_key == "passive_needs_action"
    assert len(simulator.requests) == sent


@pytest.mark.usefixtures("init_integration")
async def test_marstek_select_rejected(hass: HomeAssistant, simulator: MarstekSimulator) -> None:
    """A battery that keeps saying no gives a translated error."""
    simulator.faults.set_result_false_next = 5
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "select", SERVICE_SELECT_OPTION, {ATTR_ENTITY_ID: MODE, ATTR_OPTION: "ai"}, True
        )
    assert err.value.translation_key == "write_rejected"
    assert simulator.state.mode is Mode.AUTO


# --- VE.Bus ---------------------------------------------------------------------------------

PREFIX = "victron_ve_bus_bcde"
SWITCH_MODE = f"select.{PREFIX}_switch_mode"


@VEBUS_CONTROL_UNITS
@pytest.mark.parametrize("platforms", [[Platform.SELECT]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_vebus_entities(snapshot_vebus_controls: SnapshotEntities) -> None:
    """The switch mode of each unit."""
    await snapshot_vebus_controls()


@pytest.mark.usefixtures("init_vebus")
async def test_vebus_switch_mode(hass: HomeAssistant, vebus_simulator: VebusSimulator) -> None:
    """Every position reaches the unit; the input current limit is left alone."""
    limit = vebus_simulator.truth().input_current_limit
    assert hass.states.get(SWITCH_MODE).state == "on"
    for option in ("charger_only", "inverter_only", "on"):
        await call(
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
async def test_vebus_write_to_silent_unit(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, init_vebus: MockConfigEntry
) -> None:
    """A write nobody answers is a translated device error, not a validation error."""
    vebus_simulator.faults.asleep = True
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass, "select", SERVICE_SELECT_OPTION, {ATTR_ENTITY_ID: SWITCH_MODE, ATTR_OPTION: "off"}
        )
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key in ("unit_not_answering",)
    vebus_simulator.faults.asleep = False


@pytest.mark.usefixtures("init_vebus")
async def test_vebus_write_after_port_closed(
    hass: HomeAssistant, init_vebus: MockConfigEntry, vebus_simulator: VebusSimulator
) -> None:
    """A write on a port that went away says so."""
    await vebus_simulator.stop()
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass, "select", SERVICE_SELECT_OPTION, {ATTR_ENTITY_ID: SWITCH_MODE, ATTR_OPTION: "off"}
        )
    assert err.value.translation_key == "port_missing"
    await vebus_refresh(init_vebus)
    assert hass.states.get(SWITCH_MODE).state == STATE_UNAVAILABLE
