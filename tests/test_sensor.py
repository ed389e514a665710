"""Sensors: every entity per model, and values against the simulator's ground truth."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from simulators.marstek import MarstekSimulator, Mode
from tests.registry import our_device

from .conftest import FakeClock, refresh_all_tiers

E3 = "sensor.venus_e_3_0_1ec6"


@pytest.mark.parametrize("profile", ["venus-e3", "venus-a", "venus-e2"])
@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    init_integration: MockConfigEntry,
) -> None:
    """Every sensor, binary sensor, select, number and switch of each model."""
    await refresh_all_tiers(hass, init_integration)
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)
    device = our_device(hass, "50:37:cd:7f:1e:c6")
    for entity in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id):
        assert entity.device_id == device.id


@pytest.mark.usefixtures("clock")
async def test_values_match_ground_truth(
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
async def test_pv_channels_summed(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """PV power is the channel sum (ES.pv_power is hard-coded 0 on this firmware)."""
    await refresh_all_tiers(hass, init_integration)
    prefix = "sensor.venus_e_3_0_1ec6"
    assert float(hass.states.get(f"{prefix}_pv_power").state) == pytest.approx(400, abs=1)
    assert float(hass.states.get(f"{prefix}_pv_1_power").state) == pytest.approx(200, abs=1)
    assert float(hass.states.get(f"{prefix}_pv_4_power").state) == pytest.approx(50, abs=1)


async def test_battery_energy_integrated(
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
