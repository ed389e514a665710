"""Fault soak of a Marstek battery: 200+ injected faults while polling back to back and writing.

The battery disappears and comes back, goes silent, switches its API off, loses, delays,
duplicates and refuses datagrams; other hosts send junk and forged replies; another program
holds the UDP port at start-up. Meanwhile a user changes the mode, the depth of discharge and
Passive mode. Afterwards the battery is served fresh, every write is accounted for, nothing
leaked and nothing crashed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
import json
import logging
import random
import socket
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import format_mac
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.vebus_marstek.const import DOMAIN
from custom_components.vebus_marstek.coordinator import MarstekCoordinator
from custom_components.vebus_marstek.marstek import connection as marstek_connection
from simulators.marstek import WRITE_METHODS, MarstekSimulator, Mode
from tests.conftest import (
    FAST_OPTIONS,
    SIM_HOST,
    SIM_MAC,
    free_udp_port,
    make_entry,
    make_simulator,
)
from tests.registry import our_device

from .helpers import (
    NeverDecreasing,
    Outcome,
    Poller,
    SoakBook,
    StateNever,
    crash_records,
    issue_write,
    new_tasks,
    tasks_now,
)

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

SEED = 5
FAULTS_PER_KIND = 20
GARBAGE_HOST = "127.0.0.5"
FOREIGN_HOST = "127.0.0.9"

PREFIX = "venus_e_3_0_1ec6"
MODE_SELECT = f"select.{PREFIX}_operating_mode"
DOD_NUMBER = f"number.{PREFIX}_depth_of_discharge"
SOC = f"sensor.{PREFIX}_state_of_charge"
TOTALS = [
    f"sensor.{PREFIX}_{name}"
    for name in (
        "grid_input_energy",
        "grid_output_energy",
        "backup_output_energy",
        "battery_charged_energy",
        "battery_discharged_energy",
    )
]
# The shortest intervals the options flow allows; the poller goes faster still.
SOAK_OPTIONS: dict[str, float] = {
    **FAST_OPTIONS,
    "fast_interval": 10,
    "medium_interval": 10,
    "slow_interval": 60,
    # Loopback answers within a millisecond: a short wait keeps 200 faults within a minute.
    "request_timeout": 0.08,
    "write_timeout": 0.1,
}
MODES = {"auto": Mode.AUTO, "ai": Mode.AI, "manual": Mode.MANUAL, "ups": Mode.UPS}
READS = {
    "Marstek.GetDevice",
    "ES.GetStatus",
    "ES.GetMode",
    "EM.GetStatus",
    "Bat.GetStatus",
    "Wifi.GetStatus",
    "BLE.GetStatus",
}
NEVER_SENT = {"Reset.Factory", "Set.Ver", "Wifi.SetConfig"}


@dataclass(frozen=True, kw_only=True)
class Executed:
    """A write the simulated battery executed (whether or not its reply got through)."""

    request_index: int
    method: str
    params: dict[str, Any]
    accepted: bool


def record_executions(sim: MarstekSimulator) -> list[Executed]:
    """Every write the battery executes, with its set_result."""
    log: list[Executed] = []
    execute = sim._execute

    def recording(method: str, params: dict[str, Any]) -> Any:
        result = execute(method, params)
        if method in WRITE_METHODS and isinstance(result, dict):
            accepted = result.get("set_result") is True
            log.append(
                Executed(
                    request_index=len(sim.requests), method=method, params=params, accepted=accepted
                )
            )
        return result

    sim._execute = recording  # type: ignore[method-assign]
    return log


class Lab:
    """The battery, the intruders and the bookkeeping of one soak."""

    def __init__(self, hass: HomeAssistant, sim: MarstekSimulator, port: int) -> None:
        self.hass = hass
        self.sim = sim
        self.port = port
        self.rng = random.Random(SEED)
        self.book = SoakBook(kind="marstek")
        self.executed = record_executions(sim)
        self.entry = make_entry(port)
        self.poller = Poller(lambda: self.coordinator)
        self.device_id = ""
        self.junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.junk.bind((GARBAGE_HOST, 0))
        self.forger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.forger.bind((FOREIGN_HOST, 0))
        self.default_duplicates = sim.faults.duplicates

    @property
    def coordinator(self) -> MarstekCoordinator:
        coordinator: MarstekCoordinator = self.entry.runtime_data
        return coordinator

    def close(self) -> None:
        self.junk.close()
        self.forger.close()

    # --- faults -----------------------------------------------------------------------------

    async def cycles(self, low: int = 1, high: int = 1) -> None:
        """Let the poller run a few cycles under the fault, with a user write now and then."""
        await self.poller.cycles_pass(self.rng.randint(low, high))
        if self.rng.random() < 0.4:
            await self.write()

    async def restart(self) -> None:
        await self.sim.stop()
        await self.cycles(1, 2)
        await self.sim.start()

    async def silent(self) -> None:
        self.sim.faults.silent = True
        await self.cycles(1, 2)
        self.sim.faults.silent = False

    async def reset(self) -> None:
        """The API switches itself off after a few requests, until the battery restarts."""
        self.sim.faults.disable_after_requests = self.rng.randint(0, 4)
        await self.cycles(1, 2)
        self.sim.faults.disable_after_requests = None
        self.sim.state.api_enabled = True

    async def garbage(self) -> None:
        burst = [self._junk_datagram() for _ in range(self.rng.randint(5, 30))]
        sender = asyncio.get_running_loop().create_task(self._send(self.junk, burst))
        await self.cycles(1, 1)
        await sender

    async def loss(self) -> None:
        self.sim.faults.loss = self.rng.uniform(0.2, 0.7)
        await self.cycles()
        self.sim.faults.loss = 0.0

    async def reply_loss(self) -> None:
        self.sim.faults.reply_loss = self.rng.uniform(0.2, 0.7)
        await self.cycles()
        self.sim.faults.reply_loss = 0.0

    async def late(self) -> None:
        # Later than the client waits for reads and writes.
        self.sim.faults.late_reply_delay = self.rng.uniform(0.11, 0.3)
        await self.cycles()
        self.sim.faults.late_reply_delay = None

    async def duplicates(self) -> None:
        self.sim.faults.duplicates = self.rng.randint(1, 4)
        await self.cycles()
        self.sim.faults.duplicates = self.default_duplicates

    async def busy(self) -> None:
        self.sim.faults.busy_next = self.rng.randint(1, 3)
        await self.cycles()
        self.sim.faults.busy_next = 0

    async def foreign(self) -> None:
        """Another host answers in the battery's name, before the battery does."""
        self.sim.faults.latency = (0.02, 0.04)
        endpoint = self.entry.runtime_data.client.endpoint
        next_id = endpoint._next_id if endpoint is not None else 1
        forged = [self._forged_reply(next_id + offset) for offset in range(-2, 8)]
        sender = asyncio.get_running_loop().create_task(self._send(self.forger, forged))
        await self.cycles(1, 1)
        await sender
        self.sim.faults.latency = (0.0, 0.0)

    async def _send(self, sock: socket.socket, datagrams: list[bytes]) -> None:
        for datagram in datagrams:
            sock.sendto(datagram, ("127.0.0.1", self.port))
            await asyncio.sleep(0.003)

    def _junk_datagram(self) -> bytes:
        rng = self.rng
        choice = rng.randrange(5)
        if choice == 0:
            return rng.randbytes(rng.randint(0, 300))
        if choice == 1:
            return json.dumps([rng.random(), None, "x"]).encode()
        if choice == 2:  # reply-shaped with wrong types
            return json.dumps({"id": "7", "src": 5, "result": [1, 2]}).encode()
        if choice == 3:  # a request, as another client would send
            return json.dumps({"id": 1, "method": "ES.GetStatus", "params": {"id": 0}}).encode()
        return b"{" * rng.randint(1, 2000)

    def _forged_reply(self, request_id: int) -> bytes:
        if self.rng.random() < 0.2:  # a forged "busy" (parse error, id 0)
            error = {"code": -32700, "message": "Parse error", "data": 403}
            return json.dumps({"id": 0, "src": self.sim.src, "error": error}).encode()
        result = {
            "id": 0,
            "bat_soc": 3,
            "bat_cap": 5120,
            "ongrid_power": -2400,
            "mode": "UPS",
            "set_result": True,
        }
        return json.dumps({"id": request_id, "src": self.sim.src, "result": result}).encode()

    # --- writes -----------------------------------------------------------------------------

    def _sent_since(self, index: int, method: str) -> bool:
        return any(request.method == method for request in self.sim.requests[index:])

    def _executed_since(self, index: int, method: str) -> list[Executed]:
        return [e for e in self.executed if e.request_index > index and e.method == method]

    async def write(self) -> None:
        """A user changes the mode, the depth of discharge or starts Passive mode."""
        what = self.rng.choice(("mode", "dod", "passive"))
        start = len(self.sim.requests)
        mode_before = self.sim.state.mode
        if what == "mode":
            option = self.rng.choice(sorted(MODES))
            mode = MODES[option]

            def confirm_mode() -> None:
                assert self.sim.state.mode is mode
                executed = self._executed_since(start, "ES.SetMode")
                if not executed:
                    # Lost on the way in, and the read-back found the mode already set:
                    # the battery is in the mode asked for, so that is a fair "done".
                    assert mode_before is mode, f"mode {option} returned but was never executed"
                    return
                assert executed[-1].accepted
                assert executed[-1].params["config"]["mode"] == mode.value

            await issue_write(
                self.hass,
                self.book,
                target="mode",
                value=(mode,),
                call=lambda: self.hass.services.async_call(
                    "select",
                    "select_option",
                    {"entity_id": MODE_SELECT, "option": option},
                    blocking=True,
                ),
                entity_id=MODE_SELECT,
                sent=lambda: self._sent_since(start, "ES.SetMode"),
                confirm=confirm_mode,
            )
        elif what == "dod":
            dod = self.rng.randint(30, 88)

            def confirm_dod() -> None:
                executed = self._executed_since(start, "DOD.SET")
                assert executed, f"DOD {dod} returned but the battery executed nothing"
                assert executed[-1].accepted
                assert executed[-1].params["value"] == dod
                assert self.sim.state.dod == dod
                assert self.hass.states.get(DOD_NUMBER).state == f"{dod}.0"

            await issue_write(
                self.hass,
                self.book,
                target="dod",
                value=dod,
                call=lambda: self.hass.services.async_call(
                    "number",
                    "set_value",
                    {"entity_id": DOD_NUMBER, "value": dod},
                    blocking=True,
                ),
                entity_id=DOD_NUMBER,
                sent=lambda: self._sent_since(start, "DOD.SET"),
                confirm=confirm_dod,
            )
        else:
            power = self.rng.randrange(-2500, 2501, 50)
            duration = self.rng.randint(60, 7200)

            def confirm_passive() -> None:
                executed = self._executed_since(start, "ES.SetMode")
                assert executed, f"Passive {power} W returned but the battery executed nothing"
                assert executed[-1].accepted
                assert executed[-1].params["config"]["passive_cfg"]["power"] == power
                state = self.sim.state
                assert state.mode is Mode.PASSIVE
                assert (state.passive_power_w, state.passive_remaining_s) == (power, duration)

            await issue_write(
                self.hass,
                self.book,
                target="mode",
                value=(Mode.PASSIVE, power, duration),
                call=lambda: self.hass.services.async_call(
                    DOMAIN,
                    "set_passive_mode",
                    {"device_id": self.device_id, "power": power, "duration": duration},
                    blocking=True,
                ),
                entity_id=None,
                sent=lambda: self._sent_since(start, "ES.SetMode"),
                confirm=confirm_passive,
            )

    # --- the run ----------------------------------------------------------------------------

    async def start_with_port_taken(self, issue_registry: ir.IssueRegistry) -> None:
        """Another program holds the API port at start-up: retry, then start once it is free."""
        self.entry.add_to_hass(self.hass)
        self.hass.config_entries.async_update_entry(self.entry, options=SOAK_OPTIONS)
        blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # no SO_REUSEADDR
        try:
            blocker.bind(("127.0.0.1", self.port))
            self.book.fault("port_taken_at_start")
            assert not await self.hass.config_entries.async_setup(self.entry.entry_id)
            assert self.entry.state is ConfigEntryState.SETUP_RETRY
            assert issue_registry.async_get_issue(DOMAIN, f"port_in_use_{self.port}")
            # Home Assistant retries by itself; still taken, still waiting.
            await self._fire_retry(seconds=6)
            assert self.entry.state is ConfigEntryState.SETUP_RETRY
        finally:
            blocker.close()
        await self._fire_retry(seconds=11)
        assert self.entry.state is ConfigEntryState.LOADED
        assert issue_registry.async_get_issue(DOMAIN, f"port_in_use_{self.port}") is None
        device = our_device(self.hass, format_mac(SIM_MAC))
        self.device_id = device.id

    async def _fire_retry(self, seconds: float) -> None:
        async_fire_time_changed(self.hass, dt_util.utcnow() + timedelta(seconds=seconds))
        await self.hass.async_block_till_done(wait_background_tasks=True)

    async def soak(self) -> None:
        kinds = [
            self.restart,
            self.silent,
            self.reset,
            self.garbage,
            self.loss,
            self.reply_loss,
            self.late,
            self.duplicates,
            self.busy,
            self.foreign,
        ]
        plan = [kind for kind in kinds for _ in range(FAULTS_PER_KIND)]
        self.rng.shuffle(plan)
        import time as _t

        spent = {}
        for inject in plan:
            self.book.fault(inject.__name__)
            t0 = _t.monotonic()
            await inject()
            spent[inject.__name__] = spent.get(inject.__name__, 0) + _t.monotonic() - t0
            if self.rng.random() < 0.25:
                await self.write()  # right after the fault cleared
        print("SPENT", {k: round(v, 1) for k, v in spent.items()}, "cycles", self.poller.cycles)


@pytest.mark.timeout(300)
async def test_marstek_fault_soak(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    """200+ faults: the battery is served again, every write is accounted for, nothing leaks."""
    caplog.set_level(logging.DEBUG, logger="custom_components.vebus_marstek")
    port = free_udp_port()
    sim = make_simulator("venus-e3", SIM_HOST, port, SIM_MAC)
    await sim.start()
    lab = Lab(hass, sim, port)
    before_setup = tasks_now()
    survived = False
    totals = forged_soc = None
    try:
        await lab.start_with_port_taken(issue_registry)
        await hass.async_block_till_done()
        steady = tasks_now()
        totals = NeverDecreasing(hass, TOTALS)
        forged_soc = StateNever(hass, SOC, {"3", "3.0"})
        lab.poller.start()
        try:
            await lab.soak()
        finally:
            await lab.poller.stop()
        book = lab.book

        # The last fault has cleared: one more refresh serves fresh values.
        sim.set_ground_truth(soc=63.0, house_load_w=450.0)
        coordinator = lab.coordinator
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        assert coordinator.last_update_success
        device = lab.entry.runtime_data.client
        assert device.endpoint is not None
        assert device.endpoint.is_open
        truth = sim.truth()
        assert hass.states.get(SOC).state == "63.0"
        power = hass.states.get(f"sensor.{PREFIX}_battery_power").state
        assert float(power) == -truth.battery_power_w
        grid_port = hass.states.get(f"sensor.{PREFIX}_grid_port_power").state
        assert float(grid_port) == truth.ongrid_power_w
        grid_input = hass.states.get(f"sensor.{PREFIX}_grid_input_energy").state
        assert float(grid_input) == pytest.approx(truth.grid_input_wh / 1000, abs=0.01)
        assert hass.states.get(MODE_SELECT).state == truth.mode.value.lower()

        # Every write: confirmed and still visible, unless a later write replaced it (a failed
        # one may or may not have taken effect: its reply may be what was lost).
        mode = book.allowed_final_values("mode")
        assert mode is not None
        shown = (sim.state.mode,)
        if sim.state.mode is Mode.PASSIVE:
            shown = (Mode.PASSIVE, sim.state.passive_power_w, sim.state.passive_remaining_s)
        assert shown in (mode[0].value, *mode[1])
        dod = book.allowed_final_values("dod")
        assert dod is not None
        assert sim.state.dod in (dod[0].value, *dod[1])
        assert hass.states.get(DOD_NUMBER).state == f"{dod[0].value}.0"

        # Nothing was sent that nobody asked for, and nothing dangerous.
        methods = {request.method for request in sim.requests}
        assert not methods & NEVER_SENT
        assert methods <= READS | {"ES.SetMode", "DOD.SET"}
        assert totals.drops == []
        assert totals.samples > 0
        assert forged_soc.seen == []
        assert crash_records(caplog.records) == []
        assert new_tasks(steady) == []

        assert book.fault_count >= 200
        assert book.count(Outcome.CONFIRMED) >= 20

        assert await hass.config_entries.async_unload(lab.entry.entry_id)
        await hass.async_block_till_done()
        assert new_tasks(before_setup) == []
        assert port not in marstek_connection._registry().endpoints
        survived = True
    finally:
        for watcher in (totals, forged_soc):
            if watcher is not None:
                watcher.close()
        lab.close()
        await sim.stop()
        lab.book.publish(survived)
