"""VE.Bus sensors: every entity per model, and values (with their signs) against the truth."""

from __future__ import annotations

from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from simulators.vebus import VebusSimulator
from tests.registry import our_device

from .conftest import VEBUS_SERIAL, vebus_refresh

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

PREFIX = "sensor.victron_ve_bus_bcde"


@pytest.mark.parametrize(
    ("vebus_model", "vebus_options"),
    [
        ("multiplus-ii-48-3000", {}),
        ("multiplus-12-500", {"battery_monitor": False}),
        ("multiplus-24-3000", {"phases": 3, "ess": True}),
    ],
    ids=["multiplus-ii-ess", "12v-no-monitor", "three-phase"],
)
@pytest.mark.parametrize("platforms", [[Platform.SENSOR], [Platform.BINARY_SENSOR]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
) -> None:
    """Every sensor and alarm; all belong to the unit's one device."""
    await snapshot_platform(hass, entity_registry, snapshot, init_vebus.entry_id)
    device = our_device(hass, VEBUS_SERIAL)
    for entity in er.async_entries_for_config_entry(entity_registry, init_vebus.entry_id):
        assert entity.device_id == device.id
    assert vebus_simulator.dangerous == []


def _state(hass: HomeAssistant, name: str) -> float:
    state = hass.states.get(f"{PREFIX}_{name}")
    assert state is not None, name
    return float(state.state)


@pytest.mark.usefixtures("init_vebus")
async def test_values_match_truth(hass: HomeAssistant, vebus_simulator: VebusSimulator) -> None:
    """Voltages, currents, powers and their signs as the energy dashboard expects them."""
    truth = vebus_simulator.truth()
    assert _state(hass, "ac_input_voltage") == pytest.approx(truth.ac_input_voltage, abs=0.1)
    assert _state(hass, "ac_input_current") == pytest.approx(truth.ac_input_current, abs=0.05)
    # Frequencies come from a one-byte period: a few tenths of a hertz of resolution.
    assert _state(hass, "ac_input_frequency") == pytest.approx(truth.ac_input_frequency, abs=0.3)
    assert _state(hass, "ac_output_voltage") == pytest.approx(truth.ac_output_voltage, abs=0.1)
    assert _state(hass, "ac_output_current") == pytest.approx(truth.ac_output_current, abs=0.05)
    assert _state(hass, "ac_output_frequency") == pytest.approx(truth.ac_output_frequency, abs=0.3)
    # AC-in power: + drawn from the grid (the unit's own RAM variable has the opposite sign).
    assert _state(hass, "ac_input_power") == pytest.approx(truth.ac_input_power, abs=1)
    assert _state(hass, "ac_output_power") == pytest.approx(truth.ac_output_power, abs=1)
    assert _state(hass, "battery_voltage") == pytest.approx(truth.battery_voltage, abs=0.01)
    # Battery current: + charging; battery power: + discharging (the simulator: + charging).
    assert _state(hass, "battery_current") == pytest.approx(truth.battery_current, abs=0.1)
    assert _state(hass, "battery_power") == pytest.approx(-truth.battery_power, rel=0.01, abs=5)
    assert _state(hass, "state_of_charge") == pytest.approx(truth.soc * 100, abs=0.5)
    assert hass.states.get(f"{PREFIX}_device_state").state == truth.state
    assert hass.states.get(f"{PREFIX}_charge_state").state == truth.charge_state
    assert hass.states.get(f"{PREFIX}_ve_bus_error").state == "0"


async def test_discharging_signs(
    hass: HomeAssistant, init_vebus: MockConfigEntry, vebus_simulator: VebusSimulator
) -> None:
    """Without grid the unit inverts: the battery discharges, nothing comes from AC-in."""
    vebus_simulator.set_ground_truth(grid_available=False, ac_load_w=800)
    await vebus_refresh(init_vebus)
    truth = vebus_simulator.truth()
    assert truth.battery_power < 0
    assert _state(hass, "battery_power") > 0
    assert _state(hass, "battery_current") < 0
    assert _state(hass, "battery_power") == pytest.approx(-truth.battery_power, rel=0.01, abs=5)
    assert _state(hass, "ac_output_power") == pytest.approx(truth.ac_output_power, abs=1)
    assert hass.states.get(f"{PREFIX}_device_state").state == truth.state


@pytest.mark.parametrize(("vebus_model", "vebus_options"), [("multiplus-12-500", {})])
@pytest.mark.usefixtures("init_vebus")
async def test_soc_with_battery_monitor(
    hass: HomeAssistant, vebus_simulator: VebusSimulator
) -> None:
    """With a battery capacity set (the monitor on), even the 12/500 shows its SoC."""
    state = hass.states.get(f"{PREFIX}_state_of_charge")
    assert state is not None
    assert state.state != STATE_UNKNOWN
