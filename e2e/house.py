"""A simulated house around the demo's devices, and its grid meter in Home Assistant.

The house has a base load, a kettle now and then and solar panels that come and go; the
batteries' AC power comes from the simulators themselves. Every second the meter reports
grid power = house load - solar - what the Venus batteries feed in + what the MultiPlus draws
at its AC input, as a P1 reader would, by writing the state of a sensor over Home Assistant's
REST API. It also counts imported and exported energy, for the Energy dashboard.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import time

from simulators.marstek import MarstekSimulator
from simulators.vebus import VebusSimulator

from .client import HassClient

GRID_SENSOR = "sensor.demo_grid_power"
GRID_IMPORT_SENSOR = "sensor.demo_grid_import"
GRID_EXPORT_SENSOR = "sensor.demo_grid_export"
METER_PERIOD_S = 1.0


@dataclass(frozen=True, slots=True)
class HouseProfile:
    """One cycle of the house, repeated: import, a kettle, then a sunny spell with surplus."""

    base_load_w: float = 450.0
    kettle_w: float = 2000.0
    solar_w: float = 3500.0
    kettle_from_s: float = 40.0
    kettle_to_s: float = 100.0
    sun_from_s: float = 140.0
    cycle_s: float = 300.0

    def load_and_solar(self, elapsed_s: float) -> tuple[float, float]:
        """House load and solar power (W) ``elapsed_s`` into the run."""
        t = elapsed_s % self.cycle_s
        load = self.base_load_w + (
            self.kettle_w if self.kettle_from_s <= t < self.kettle_to_s else 0
        )
        solar = self.solar_w if t >= self.sun_from_s else 0.0
        return load, solar


class SimulatedHouse:
    """The house's grid power, from the profile and the simulators' ground truth."""

    def __init__(
        self,
        batteries: list[MarstekSimulator],
        multiplus: VebusSimulator,
        profile: HouseProfile | None = None,
    ) -> None:
        self.batteries = batteries
        self.multiplus = multiplus
        self.profile = profile or HouseProfile()
        self.started = time.monotonic()
        self.imported_wh = 0.0
        self.exported_wh = 0.0

    def grid_power_w(self) -> float:
        """Now, + = importing."""
        load, solar = self.profile.load_and_solar(time.monotonic() - self.started)
        fed_in = sum(battery.truth().ongrid_power_w for battery in self.batteries)
        return load - solar - fed_in + self.multiplus.truth().ac_input_power

    async def run(self, client: HassClient, stop: asyncio.Event) -> None:
        """Report the meter every second until ``stop`` is set."""
        while not stop.is_set():
            grid = self.grid_power_w()
            if grid >= 0:
                self.imported_wh += grid * METER_PERIOD_S / 3600
            else:
                self.exported_wh -= grid * METER_PERIOD_S / 3600
            await self._report(client, grid)
            try:
                await asyncio.wait_for(stop.wait(), METER_PERIOD_S)
            except TimeoutError:
                continue

    async def _report(self, client: HassClient, grid: float) -> None:
        await client.post(
            f"/api/states/{GRID_SENSOR}",
            {
                "state": str(round(grid)),
                "attributes": {
                    "unit_of_measurement": "W",
                    "device_class": "power",
                    "state_class": "measurement",
                    "friendly_name": "Demo grid power",
                },
            },
        )
        for entity_id, value, name in (
            (GRID_IMPORT_SENSOR, self.imported_wh, "Demo grid import"),
            (GRID_EXPORT_SENSOR, self.exported_wh, "Demo grid export"),
        ):
            await client.post(
                f"/api/states/{entity_id}",
                {
                    "state": str(round(value / 1000, 4)),
                    "attributes": {
                        "unit_of_measurement": "kWh",
                        "device_class": "energy",
                        "state_class": "total_increasing",
                        "friendly_name": name,
                    },
                },
            )
