"""The demo set-up: two simulated Marstek batteries, a simulated MultiPlus, a real Home Assistant.

Both batteries share one Open API port on their own loopback addresses, as batteries on one LAN
do; the MultiPlus's MK3 is served over TCP the way ser2net serves a real one.  The simulators
run in the caller's event loop so tests can read their ground truth directly; Home Assistant is
a separate `hass` process that reaches them only over loopback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
import secrets
from typing import Any

from simulators.marstek import DEFAULT_PORT, MarstekSimulator
from simulators.vebus import VebusSimulator

from .client import Credentials, HassClient
from .flows import add_marstek, add_site, add_vebus, set_options
from .hass_process import HassProcess
from .house import (
    GRID_EXPORT_SENSOR,
    GRID_IMPORT_SENSOR,
    GRID_SENSOR,
    HouseProfile,
    SimulatedHouse,
)
from .ports import free_tcp_port, free_udp_port
from .waiting import eventually


@dataclass(frozen=True, slots=True)
class BatterySpec:
    profile: str
    host: str


BATTERIES = (BatterySpec("venus-e3", "127.0.0.2"), BatterySpec("venus-a", "127.0.0.3"))
VEBUS_MODEL = "multiplus-ii-48-3000"
# A household that gives every entity something to show: load on the CT, sun on the Venus A.
HOUSE_LOAD_W = 450.0
PV_PER_CHANNEL_W = 300.0
INITIAL_SOC = 60.0
VEBUS_AC_LOAD_W = 300.0
# The MultiPlus as a site member: what its owner would enter (the MK3 cannot read them).
VEBUS_SITE_OPTIONS = {"site_max_power": 3000, "battery_capacity": 9.6}
SITE_NAME = "Home battery"
SITE_MODE = "select.home_battery_mode"
DEMO_HASS_PORT = 8123
# Seconds; a cold start on a busy two-core machine takes well under a minute.
START_TIMEOUT_S = 120.0


class SimulatedDevices:
    """The three simulated devices; `stop` and `start` again to take them off the network."""

    def __init__(self, marstek_port: int) -> None:
        self.marstek_port = marstek_port
        self.batteries = [
            MarstekSimulator(profile=spec.profile, host=spec.host, port=marstek_port, seed=index)
            for index, spec in enumerate(BATTERIES)
        ]
        for battery in self.batteries:
            battery.set_ground_truth(
                soc=INITIAL_SOC,
                house_load_w=HOUSE_LOAD_W,
                pv_w=[PV_PER_CHANNEL_W] * battery.profile.pv_channels,
            )
        self.multiplus = VebusSimulator(VEBUS_MODEL)
        self.multiplus.set_ground_truth(ac_load_w=VEBUS_AC_LOAD_W)
        self._vebus_port = 0  # the kernel picks one the first time; restarts reuse it
        self._multiplus_listening = False

    @property
    def vebus_url(self) -> str:
        """What the user types in the VE.Bus form (like a ser2net port)."""
        return f"socket://127.0.0.1:{self._vebus_port}"

    async def start(self) -> None:
        """Start whichever simulators are not listening (all of them the first time)."""
        for battery in self.batteries:
            await battery.start()
        await self.start_multiplus()

    async def stop(self) -> None:
        for battery in self.batteries:
            await battery.stop()
        await self.stop_multiplus()

    async def start_multiplus(self) -> None:
        if self._multiplus_listening:
            return
        url = await self.multiplus.start_tcp("127.0.0.1", self._vebus_port)
        self._vebus_port = int(url.rsplit(":", 1)[1])
        self._multiplus_listening = True

    async def stop_multiplus(self) -> None:
        """Close the port and the connection to it, as when ser2net's host goes down."""
        await self.multiplus.stop()
        self._multiplus_listening = False


@dataclass(slots=True)
class Lab:
    """Everything one demo or test session runs, and how to reach it."""

    devices: SimulatedDevices
    hass: HassProcess
    client: HassClient
    user: Credentials

    @classmethod
    async def create(
        cls,
        config_dir: Path,
        *,
        marstek_port: int | None = None,
        hass_port: int | None = None,
        hass: Callable[[Path, int], HassProcess] = HassProcess,
    ) -> Lab:
        """Ports as given, else free ones (the defaults when free): a demo and tests coexist.

        A coroutine only because the HTTP client must be made inside the loop that uses it.
        """
        if marstek_port is None:
            marstek_port = free_udp_port(DEFAULT_PORT)
        if hass_port is None:
            hass_port = free_tcp_port(DEMO_HASS_PORT)
        devices = SimulatedDevices(marstek_port)
        process = hass(config_dir, hass_port)
        user = Credentials(name="Demo", username="demo", password=secrets.token_urlsafe(12))
        return cls(devices=devices, hass=process, client=HassClient(process.url), user=user)

    async def start_hass(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start the process and wait until its HTTP server answers."""
        self.hass.write_config()
        await self.hass.start()
        await eventually(self._serving, timeout_s)

    async def _serving(self) -> str | None:
        if self.hass.exit_code() is not None:
            raise RuntimeError(f"hass exited at start-up:\n{self.hass.log_tail()}")
        return await self.client.serving()

    async def restart_hass(self) -> None:
        """Stop hass cleanly and start it again with the same configuration and login."""
        await self.hass.stop()
        await self.start_hass()
        await eventually(self.client.running, START_TIMEOUT_S)

    async def set_up(self, timeout_s: float = START_TIMEOUT_S) -> list[dict[str, Any]]:
        """Onboard the demo user, then add the three devices as a user would.

        Returns the created config entries (``entry_id``, ``title``, ...), batteries first.
        """
        await self.client.onboard(self.user)
        await eventually(self.client.running, timeout_s)
        created = [
            await add_marstek(self.client, battery.host, self.devices.marstek_port)
            for battery in self.devices.batteries
        ]
        created.append(await add_vebus(self.client, self.devices.vebus_url))
        return [result["result"] for result in created]

    def house(self, profile: HouseProfile | None = None) -> SimulatedHouse:
        """The house around the three devices, with its grid meter."""
        devices = self.devices
        return SimulatedHouse(devices.batteries, devices.multiplus, profile)

    async def add_site(
        self, entries: list[dict[str, Any]], vebus_options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A site over the three devices, reading the house's meter (which must be running),
        in zero export, with its energy totals and the meter in the Energy dashboard.

        ``vebus_options``: the MultiPlus's other options, kept (the form sets them all)."""
        vebus = entries[-1]
        await set_options(
            self.client, vebus["entry_id"], {**(vebus_options or {}), **VEBUS_SITE_OPTIONS}
        )
        members = [entry["entry_id"] for entry in entries]
        site: dict[str, Any] = (await add_site(self.client, SITE_NAME, members, GRID_SENSOR))[
            "result"
        ]
        await eventually(self._site_mode_shown, START_TIMEOUT_S)
        await self.client.call_service(
            "select", "select_option", {"entity_id": SITE_MODE, "option": "zero_export"}
        )
        await self.client.ws(
            {
                "type": "energy/save_prefs",
                "energy_sources": [
                    {
                        "type": "grid",
                        "stat_energy_from": GRID_IMPORT_SENSOR,
                        "stat_energy_to": GRID_EXPORT_SENSOR,
                        "cost_adjustment_day": 0,
                    },
                    {
                        "type": "battery",
                        "stat_energy_from": "sensor.home_battery_battery_discharged_energy",
                        "stat_energy_to": "sensor.home_battery_battery_charged_energy",
                    },
                ],
            }
        )
        return site

    async def _site_mode_shown(self) -> str | None:
        return None if SITE_MODE in await self.client.states() else f"no {SITE_MODE} yet"

    async def close(self) -> None:
        """Stop hass first (it would log every missing reply), then the simulators."""
        await self.hass.stop()
        await self.client.close()
        await self.devices.stop()
