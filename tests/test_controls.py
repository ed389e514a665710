"""Binary sensors, select, number and switches: snapshots, and writes that reach the battery."""

from __future__ import annotations

from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from simulators.marstek import MarstekSimulator, Mode

from .conftest import refresh_all_tiers

MODE = "select.venus_e_3_0_1ec6_operating_mode"
DOD = "number.venus_e_3_0_1ec6_depth_of_discharge"
LED = "switch.venus_e_3_0_1ec6_led"
BLE_ADV = "switch.venus_e_3_0_1ec6_bluetooth_advertising"


@pytest.mark.parametrize("profile", ["venus-e3", "venus-e2"])
@pytest.mark.parametrize(
    "platforms",
    [[Platform.BINARY_SENSOR], [Platform.SELECT], [Platform.NUMBER], [Platform.SWITCH]],
)
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    init_integration: MockConfigEntry,
    platforms: list[Platform],
    profile: str,
) -> None:
    """Venus E 2.0 has no system settings: no number or switches there."""
    await refresh_all_tiers(hass, init_integration)
    entries = er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
    if not entries:
        assert profile == "venus-e2"
        assert platforms in ([Platform.NUMBER], [Platform.SWITCH])
        return
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)


@pytest.mark.usefixtures("init_integration")
async def test_select_modes(hass: HomeAssistant, simulator: MarstekSimulator) -> None:
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
async def test_select_rejected(hass: HomeAssistant, simulator: MarstekSimulator) -> None:
    """A battery that keeps saying no gives a translated error."""
    simulator.faults.set_result_false_next = 5
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "select", SERVICE_SELECT_OPTION, {ATTR_ENTITY_ID: MODE, ATTR_OPTION: "ai"}, True
        )
    assert err.value.translation_key == "write_rejected"
    assert simulator.state.mode is Mode.AUTO


@pytest.mark.usefixtures("init_integration")
async def test_dod_and_switches(hass: HomeAssistant, simulator: MarstekSimulator) -> None:
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
async def test_unconfirmed_write(hass: HomeAssistant, simulator: MarstekSimulator) -> None:
    """A setting write without an answer cannot be confirmed: say so, remember nothing."""
    simulator.faults.execute_but_drop_reply_next = 1
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: LED}, True)
    assert err.value.translation_key == "write_unconfirmed"
    assert hass.states.get(LED).state == STATE_UNKNOWN
