"""Sensors of both families: every entity per model, and values (with their signs) against
the simulators' ground truth."""

from __future__ import annotations

from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from simulators.marstek import MarstekSimulator, Mode
from simulators.vebus import VebusSimulator
from tests.registry import our_device

from .conftest import VEBUS_UNITS, FakeClock, SnapshotEntities, refresh_all_tiers, vebus_refresh

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

# --- Marstek --------------------------------------------------------------------------------

E3 = "sensor.venus_e_3_0_1ec6"


@pytest.mark.parametrize("profile", ["venus-e3", "venus-a", "venus-e2"])
@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_marstek_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    init_integration: MockConfigEntry,
) -> None:
    """Every sensor of each model; all belong to the battery's one device."""
    await refresh_all_tiers(hass, init_integration)
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)
    device = our_device(hass, "50:37:cd:7f:1e:c6")
    for entity in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id):
        assert entity.device_id == device.id


@pytest.mark.usefixtures("clock")
async def test_marstek_values_match_ground_truth(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """Powers and their signs: + discharging for the battery, split into two >= 0 sensors."""
    await refresh_all_tiers(hass, init_integration)
    truth = simulator.truth()
    assert truth.battery_power_w < 0  # the simulator counts charging positive: discharging
    assert float(hass.states.get(f"{E3}_battery_power").state) == -truth.battery_power_w
    assert float(hass.states.get(f"{E3}_battery_discharge_power").state) == -truth.battery_power_w
    assert float(hass.states.get(f"{E3}_battery_charge_power").state) == 0
    assert hass.states.get(f"{E3}_battery_state").state == "discharging"
    assert float(hass.states.get(f"{E3}_state_of_charge").state) == truth.soc
    assert float(hass.states.get(f"{E3}_grid_port_power").state) == truth.ongrid_power_w
    assert float(hass.states.get(f"{E3}_ct_total_power").state) == truth.meter_total_w
    assert float(hass.states.get(f"{E3}_grid_input_energy").state) == pytest.approx(
        truth.grid_input_wh / 1000, abs=0.01
    )
    assert float(hass.states.get(f"{E3}_battery_temperature").state) == truth.temperature_c
    assert float(hass.states.get(f"{E3}_rated_capacity").state) == pytest.approx(
        truth.rated_capacity_wh / 1000, abs=0.01
    )

    simulator.set_ground_truth(mode=Mode.PASSIVE)
    simulator.state.passive_power_w = -1200.0
    simulator.state.passive_remaining_s = 600.0
    await refresh_all_tiers(hass, init_integration)
    assert float(hass.states.get(f"{E3}_battery_power").state) == -1200
    assert float(hass.states.get(f"{E3}_battery_charge_power").state) == 1200
    assert float(hass.states.get(f"{E3}_battery_discharge_power").state) == 0
    assert hass.states.get(f"{E3}_battery_state").state == "charging"


@pytest.mark.parametrize("profile", ["venus-a"])
@pytest.mark.usefixtures("clock")
async def test_marstek_pv_channels_summed(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """PV power is the channel sum (ES.pv_power is hard-coded 0 on this firmware)."""
    await refresh_all_tiers(hass, init_integration)
    prefix = "sensor.venus_e_3_0_1ec6"
    assert float(hass.states.get(f"{prefix}_pv_power").state) == pytest.approx(400, abs=1)
    assert float(hass.states.get(f"{prefix}_pv_1_power").state) == pytest.approx(200, abs=1)
    assert float(hass.states.get(f"{prefix}_pv_4_power").state) == pytest.approx(50, abs=1)


async def test_marstek_battery_energy_integrated(
    hass: HomeAssistant,
    clock: FakeClock,
    init_integration: MockConfigEntry,
    simulator: MarstekSimulator,
) -> None:
    """Charged and discharged energy grow with time and never go down."""
    simulator.set_ground_truth(mode=Mode.PASSIVE)
    simulator.state.passive_power_w = 360.0  # discharge
    simulator.state.passive_remaining_s = 3600.0
    await refresh_all_tiers(hass, init_integration)
    for _ in range(2):
        clock.tick(30)
        await refresh_all_tiers(hass, init_integration)
    discharged = float(hass.states.get(f"{E3}_battery_discharged_energy").state)
    assert discharged == pytest.approx(0.006, abs=0.0005)  # 360 W x 60 s = 6 Wh
    assert float(hass.states.get(f"{E3}_battery_charged_energy").state) == 0


# --- VE.Bus ---------------------------------------------------------------------------------

PREFIX = "sensor.victron_ve_bus_bcde"


@VEBUS_UNITS
@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_vebus_entities(snapshot_vebus_entities: SnapshotEntities) -> None:
    """Every sensor of each unit; all belong to the unit's one device."""
    await snapshot_vebus_entities()


def _state(hass: HomeAssistant, name: str) -> float:
    state = hass.states.get(f"{PREFIX}_{name}")
    assert state is not None, name
    return float(state.state)


@pytest.mark.usefixtures("init_vebus")
async def test_vebus_values_match_truth(
    hass: HomeAssistant, vebus_simulator: VebusSimulator
) -> None:
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


async def test_vebus_discharging_signs(
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
async def test_vebus_soc_with_battery_monitor(
    hass: HomeAssistant, vebus_simulator: VebusSimulator
) -> None:
    """With a battery capacity set (the monitor on), even the 12/500 shows its SoC."""
    state = hass.states.get(f"{PREFIX}_state_of_charge")
    assert state is not None
    assert state.state != STATE_UNKNOWN
