"""What Home Assistant should show, computed from the simulators' ground truth."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from e2e.client import HassClient
from e2e.entities import Device
from e2e.waiting import Check
from simulators.marstek import MarstekSimulator, PhysicalTruth
from simulators.vebus import Truth


@dataclass(frozen=True, slots=True)
class Expected:
    """One entity's expected state: a number within ``tolerance``, or an exact string."""

    entity_id: str
    value: float | str
    tolerance: float = 0.0

    def mismatch(self, state: str | None) -> str | None:
        """None when ``state`` is as expected, else a description of the difference."""
        if isinstance(self.value, str):
            ok = state == self.value
        else:
            try:
                ok = state is not None and abs(float(state) - self.value) <= self.tolerance
            except ValueError:
                ok = False
        if ok:
            return None
        return f"{self.entity_id}={state!r}, expected {self.value!r}±{self.tolerance:g}"


def matching(client: HassClient, expectations: Callable[[], Iterable[Expected]]) -> Check:
    """A check that Home Assistant shows what ``expectations`` computes at that moment.

    Runs on the loop that owns the simulators, so the truth it reads is consistent.
    """

    async def check() -> str | None:
        states = await client.states()
        wrong = [
            problem
            for expected in expectations()
            if (problem := expected.mismatch(_state_of(states, expected.entity_id))) is not None
        ]
        return "; ".join(wrong) or None

    return check


def _state_of(states: dict[str, dict[str, object]], entity_id: str) -> str | None:
    state = states.get(entity_id)
    return None if state is None else str(state["state"])


# Power values are whole watts on the wire; energy counters move on while a cycle is under way.
POWER_W = 2.0
ENERGY_KWH = 0.02


def marstek_expectations(device: Device, battery: MarstekSimulator) -> list[Expected]:
    """The battery's readings as its entities should show them (signs: docs/marstek.md)."""
    truth: PhysicalTruth = battery.truth()
    entity = device.entity
    expected = [
        Expected(entity("soc"), truth.soc, 1.0),
        # The integration's battery power is positive while discharging; the simulator's
        # battery_power_w is positive while charging.
        Expected(entity("battery_power"), -truth.battery_power_w, POWER_W),
        Expected(entity("battery_state"), _battery_state(truth.battery_power_w)),
        Expected(entity("ongrid_power"), truth.ongrid_power_w, POWER_W),
        Expected(entity("offgrid_power"), truth.offgrid_power_w, POWER_W),
        Expected(entity("ct_total_power"), truth.meter_total_w, POWER_W),
        Expected(entity("battery_temperature"), truth.temperature_c, 0.5),
        Expected(entity("rated_capacity"), truth.rated_capacity_wh / 1000, 0.01),
        Expected(entity("grid_output_energy"), truth.grid_output_wh / 1000, ENERGY_KWH),
        Expected(entity("grid_input_energy"), truth.grid_input_wh / 1000, ENERGY_KWH),
        Expected(entity("mode"), truth.mode.value.lower()),
    ]
    if battery.profile.pv_channels:
        expected.append(Expected(entity("pv_power"), truth.pv_power_w, POWER_W))
        expected.extend(
            Expected(entity(f"pv{index}_power"), power, POWER_W)
            for index, power in enumerate(truth.pv_channel_w, start=1)
        )
    return expected


def battery_matches(client: HassClient, device: Device, battery: MarstekSimulator) -> Check:
    """A check that all of the battery's entities show its ground truth."""
    return matching(client, lambda: marstek_expectations(device, battery))


def _battery_state(charging_w: float) -> str:
    if charging_w > 0:
        return "charging"
    return "discharging" if charging_w < 0 else "idle"


def vebus_expectations(device: Device, truth: Truth) -> list[Expected]:
    """The MultiPlus's readings as its entities should show them."""
    entity = device.entity
    return [
        Expected(entity("ac_input_voltage"), truth.ac_input_voltage, 1.0),
        # One period byte on the wire: about 0.1 Hz of resolution.
        Expected(entity("ac_input_frequency"), truth.ac_input_frequency, 0.25),
        Expected(entity("ac_input_power"), truth.ac_input_power, 15.0),
        Expected(entity("ac_output_voltage"), truth.ac_output_voltage, 1.0),
        Expected(entity("ac_output_current"), truth.ac_output_current, 0.15),
        Expected(entity("ac_output_frequency"), truth.ac_output_frequency, 0.25),
        Expected(entity("ac_output_power"), truth.ac_output_power, 15.0),
        Expected(entity("battery_voltage"), truth.battery_voltage, 0.1),
        # Current is positive while charging, power positive while discharging (docs/vebus.md).
        Expected(entity("battery_current"), truth.battery_current, 0.3),
        Expected(entity("battery_power"), -truth.battery_power, 20.0),
        Expected(entity("soc"), truth.soc * 100, 1.0),
        Expected(entity("device_state"), truth.state),
        Expected(entity("charge_state"), truth.charge_state),
        Expected(entity("switch_mode"), truth.switch_mode),
        Expected(entity("input_current_limit"), truth.input_current_limit, 0.1),
    ]


def holds(condition: Callable[[], bool], description: str) -> Check:
    """A check of a simulator's own state (run on its loop by `eventually`)."""

    async def check() -> str | None:
        return None if condition() else f"not yet: {description}"

    return check
